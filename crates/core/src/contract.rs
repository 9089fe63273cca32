//! The contract document (SPEC section 4): a TOML file both parties read and sign, parsed into a
//! validated [`Contract`]. Every problem is reported with its TOML line and column, so the
//! person who wrote the document can find it.

use crate::grade::Grade;
use crate::model::{Term, Window};
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use time::Date;
use toml::Spanned;

/// Who answers for attendance below `min_rate` (SPEC 4, `[attendance] responsible`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Responsible {
    District,
    Provider,
    Exclude,
}

/// Who answers for a missing baseline or outcome score (`[outcome] missing_score`).
pub type MissingScore = Responsible;

/// How the outcome is measured (`[outcome] measure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    GrowthVsProjected,
    MetProjected,
    RitGain,
    ConditionalGrowthPercentile,
    Score,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::GrowthVsProjected => "growth_vs_projected",
            Measure::MetProjected => "met_projected",
            Measure::RitGain => "rit_gain",
            Measure::ConditionalGrowthPercentile => "conditional_growth_percentile",
            Measure::Score => "score",
        }
    }
}

/// The contract period, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

/// Factor 1: attendance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendance {
    pub min_rate: Decimal,
    pub min_offered: u32,
    pub responsible: Responsible,
}

/// Factor 2: the provider's duties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDuties {
    pub min_same_tutor_rate: Decimal,
    pub max_provider_cancel_rate: Decimal,
}

/// Factor 3: the student outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub assessment: String,
    pub from_term: Term,
    pub to_term: Term,
    pub measure: Measure,
    pub missing_score: MissingScore,
    /// A share (0.30 is 30%); tests with this share of rapid guesses or more are invalid.
    pub max_rapid_guessing: Option<Decimal>,
    /// Projected growth by grade, used only where the file has none.
    pub projected: BTreeMap<Grade, Decimal>,
    /// The MAP norms edition the contract expects (`NormsReferenceData`, e.g. `2020`); a
    /// counted test of another edition gets a data warning.
    pub norms: Option<String>,
}

impl Outcome {
    /// The MAP growth window from the baseline to the outcome term.
    pub fn window(&self) -> Window {
        Window::between(self.from_term, self.to_term).expect("validated: from_term before to_term")
    }
}

/// A tier of the rate card; `min = None` is `"-inf"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub name: String,
    pub min: Option<Decimal>,
    pub pays: Decimal,
}

/// A payment milestone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub name: String,
    pub date: Date,
    pub base_share: Decimal,
    pub contingent: bool,
}

/// A band of a school adjustment; `min = None` is `"-inf"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub min: Option<Decimal>,
    pub adjust: Decimal,
}

/// A school-level rate card (Ector County style). `school` is a school id or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolAdjustment {
    pub school: String,
    pub bands: Vec<Band>,
}

/// A validated contract document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub id: String,
    pub district: String,
    pub provider: String,
    pub period: Period,
    pub subject: String,
    pub price_per_student: Decimal,
    pub contingent_share: Decimal,
    pub not_to_exceed: Decimal,
    pub attendance: Attendance,
    pub provider_duties: ProviderDuties,
    pub outcome: Outcome,
    pub rate_card: Vec<Tier>,
    /// Sorted by date.
    pub milestones: Vec<Milestone>,
    pub school_adjustments: Vec<SchoolAdjustment>,
    /// Days the district and the provider have to review an issued draft (SPEC 5.12).
    pub review_days: u32,
}

/// `review_days` when the contract does not say (SPEC 5.12).
pub const DEFAULT_REVIEW_DAYS: u32 = 10;

impl Contract {
    /// B = P x (1 - contingent_share), unrounded.
    pub fn base_part(&self) -> Decimal {
        self.price_per_student * (Decimal::ONE - self.contingent_share)
    }

    /// C = P x contingent_share, unrounded.
    pub fn contingent_part(&self) -> Decimal {
        self.price_per_student * self.contingent_share
    }

    pub fn milestone(&self, name: &str) -> Option<&Milestone> {
        self.milestones.iter().find(|m| m.name == name)
    }

    /// The school year of the contract as MAP writes it (`2024-2025`): the July-June year that
    /// contains `period.start`.
    pub fn school_year(&self) -> String {
        let y = self.period.start.year();
        let first = if (self.period.start.month() as u8) >= 7 {
            y
        } else {
            y - 1
        };
        format!("{}-{}", first, first + 1)
    }

    /// The `TermName` a term of this contract matches, e.g. `Fall 2024-2025`.
    pub fn term_name(&self, term: Term) -> String {
        format!("{} {}", term.as_str(), self.school_year())
    }

    /// The school adjustment for a school and its index in the document: a school's own
    /// entry replaces `"*"`.
    pub fn school_adjustment(&self, school: &str) -> Option<(usize, &SchoolAdjustment)> {
        let own = self
            .school_adjustments
            .iter()
            .position(|a| a.school == school);
        let any = self.school_adjustments.iter().position(|a| a.school == "*");
        own.or(any).map(|i| (i, &self.school_adjustments[i]))
    }

    /// Parses and validates a contract document.
    pub fn parse(source: &str) -> Result<Contract, ContractError> {
        let raw: RawContract = toml::from_str(source).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| line_column(source, s.start))
                .unwrap_or((1, 1));
            ContractError {
                problems: vec![Problem {
                    line,
                    column,
                    message: e.message().trim().to_string(),
                }],
            }
        })?;
        let mut v = Validator {
            source,
            problems: Vec::new(),
        };
        let contract = v.contract(raw);
        if v.problems.is_empty() {
            Ok(contract)
        } else {
            v.problems.sort_by_key(|p| (p.line, p.column));
            Err(ContractError {
                problems: v.problems,
            })
        }
    }
}

impl Contract {
    /// A problem at the `district` line of a contract document, for what only the database can
    /// tell (the district is unknown): the writer of the document finds it like any other.
    pub fn district_problem(source: &str, message: impl Into<String>) -> Problem {
        /// The one key read; the rest of the document was validated by [`Contract::parse`].
        #[derive(Deserialize)]
        struct DistrictKey {
            district: Sp<String>,
        }
        let (line, column) = toml::from_str::<DistrictKey>(source)
            .map(|k| line_column(source, k.district.span().start))
            .unwrap_or((1, 1));
        Problem {
            line,
            column,
            message: message.into(),
        }
    }
}

/// One thing wrong with a contract document, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A contract document that cannot be accepted, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ContractError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "line {}, column {}: {}", p.line, p.column, p.message)?;
        }
        Ok(())
    }
}

fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

/// A decimal written as a TOML string (`"0.40"`), or `"-inf"` where a minimum allows it.
#[derive(Debug, Clone)]
struct DecimalText(String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DecimalText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal written as a string, e.g. \"0.40\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DecimalText, E> {
                Err(E::custom(format!(
                    "decimals are written as strings: write \"{v}\", not {v}"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DecimalText, E> {
                Err(E::custom(format!(
                    "decimals are written as strings: write \"{v}\", not {v}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

type Sp<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContract {
    id: Sp<String>,
    district: Sp<String>,
    provider: Sp<String>,
    period: Sp<RawPeriod>,
    subject: Sp<String>,
    price_per_student: Sp<DecimalText>,
    contingent_share: Sp<DecimalText>,
    not_to_exceed: Sp<DecimalText>,
    attendance: RawAttendance,
    provider_duties: RawProviderDuties,
    outcome: RawOutcome,
    rate_card: Vec<RawTier>,
    milestone: Sp<Vec<RawMilestone>>,
    #[serde(default)]
    school_adjustment: Vec<Sp<RawSchoolAdjustment>>,
    review_days: Option<Sp<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    start: Sp<toml::value::Datetime>,
    end: Sp<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttendance {
    min_rate: Sp<DecimalText>,
    min_offered: Sp<i64>,
    responsible: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProviderDuties {
    min_same_tutor_rate: Sp<DecimalText>,
    max_provider_cancel_rate: Sp<DecimalText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutcome {
    assessment: Sp<String>,
    from_term: Sp<String>,
    to_term: Sp<String>,
    measure: Sp<String>,
    missing_score: Sp<String>,
    max_rapid_guessing: Option<Sp<DecimalText>>,
    #[serde(default)]
    projected: BTreeMap<Sp<String>, Sp<DecimalText>>,
    norms: Option<Sp<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    name: Sp<String>,
    min: Sp<DecimalText>,
    pays: Sp<DecimalText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMilestone {
    name: Sp<String>,
    date: Sp<toml::value::Datetime>,
    base_share: Option<Sp<DecimalText>>,
    contingent: Option<Sp<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchoolAdjustment {
    school: Sp<String>,
    measure: Sp<String>,
    bands: Vec<Sp<RawBand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    min: Sp<DecimalText>,
    adjust: Sp<DecimalText>,
}

/// Turns raw TOML values into the contract, collecting every problem with its position.
struct Validator<'a> {
    source: &'a str,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_column(self.source, span.start);
        self.problems.push(Problem {
            line,
            column,
            message: message.into(),
        });
    }

    /// A plain decimal string: digits, an optional sign and point, no exponent.
    fn decimal(&mut self, key: &str, v: &Sp<DecimalText>) -> Decimal {
        self.bound(key, v, false).unwrap_or_default()
    }

    /// A decimal that may be `"-inf"` when `allow_inf` (a tier's or band's `min`).
    fn bound(&mut self, key: &str, v: &Sp<DecimalText>, allow_inf: bool) -> Option<Decimal> {
        let text = v.get_ref().0.trim();
        if text == "-inf" {
            if !allow_inf {
                self.problem(
                    v.span(),
                    format!("`{key}`: \"-inf\" is allowed only as a `min`"),
                );
            }
            return None;
        }
        let plain = !text.is_empty()
            && text
                .trim_start_matches(['-', '+'])
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && text.matches('.').count() <= 1;
        match Decimal::from_str(text) {
            Ok(d) if plain => {
                if let Some(why) = crate::money::bounds_problem(d) {
                    self.problem(v.span(), format!("`{key}` = {text}: {why}"));
                }
                Some(d)
            }
            _ => {
                self.problem(
                    v.span(),
                    format!("`{key}`: `{text}` is not a plain decimal (expected e.g. \"0.40\")"),
                );
                Some(Decimal::ZERO)
            }
        }
    }

    fn rate(&mut self, key: &str, v: &Sp<DecimalText>) -> Decimal {
        let d = self.decimal(key, v);
        if d < Decimal::ZERO || d > Decimal::ONE {
            self.problem(
                v.span(),
                format!("`{key}` = {d}: a rate must be between 0 and 1"),
            );
        }
        d
    }

    fn date(&mut self, key: &str, v: &Sp<toml::value::Datetime>) -> Date {
        let dt = v.get_ref();
        match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                let month = time::Month::try_from(d.month).ok();
                match month.and_then(|m| Date::from_calendar_date(d.year as i32, m, d.day).ok()) {
                    Some(date) => {
                        if !crate::model::is_supported_date(date) {
                            self.problem(
                                v.span(),
                                format!(
                                    "`{key}` = {date}: {}",
                                    crate::model::unsupported_date_message()
                                ),
                            );
                        }
                        date
                    }
                    None => {
                        self.problem(v.span(), format!("`{key}`: not a calendar date"));
                        Date::MIN
                    }
                }
            }
            _ => {
                self.problem(
                    v.span(),
                    format!("`{key}`: expected a date like 2024-08-12"),
                );
                Date::MIN
            }
        }
    }

    fn text(&mut self, key: &str, v: &Sp<String>) -> String {
        let t = v.get_ref().trim().to_string();
        if t.is_empty() {
            self.problem(v.span(), format!("`{key}` must not be empty"));
        }
        t
    }

    fn responsible(&mut self, key: &str, v: &Sp<String>) -> Responsible {
        match v.get_ref().as_str() {
            "district" => Responsible::District,
            "provider" => Responsible::Provider,
            "exclude" => Responsible::Exclude,
            other => {
                self.problem(
                    v.span(),
                    format!(
                        "`{key}` = \"{other}\": expected \"district\", \"provider\" or \"exclude\""
                    ),
                );
                Responsible::District
            }
        }
    }

    fn term(&mut self, key: &str, v: &Sp<String>) -> Term {
        Term::parse(v.get_ref()).unwrap_or_else(|| {
            self.problem(
                v.span(),
                format!(
                    "`{key}` = \"{}\": expected \"Fall\", \"Winter\" or \"Spring\"",
                    v.get_ref()
                ),
            );
            Term::Fall
        })
    }

    fn contract(&mut self, raw: RawContract) -> Contract {
        let period = Period {
            start: self.date("period.start", &raw.period.get_ref().start),
            end: self.date("period.end", &raw.period.get_ref().end),
        };
        if period.start > period.end {
            self.problem(
                raw.period.span(),
                "`period`: start must be on or before end",
            );
        }
        let price_per_student = self.decimal("price_per_student", &raw.price_per_student);
        if price_per_student <= Decimal::ZERO {
            self.problem(
                raw.price_per_student.span(),
                "`price_per_student` must be > 0",
            );
        }
        let contingent_share = self.decimal("contingent_share", &raw.contingent_share);
        if contingent_share <= Decimal::ZERO || contingent_share >= Decimal::ONE {
            self.problem(
                raw.contingent_share.span(),
                format!(
                    "`contingent_share` = {contingent_share}: must be strictly between 0 and 1"
                ),
            );
        }
        let not_to_exceed = self.decimal("not_to_exceed", &raw.not_to_exceed);
        if not_to_exceed < Decimal::ZERO {
            self.problem(raw.not_to_exceed.span(), "`not_to_exceed` must be >= 0");
        }
        let attendance = self.attendance(&raw.attendance);
        let provider_duties = ProviderDuties {
            min_same_tutor_rate: self.rate(
                "provider_duties.min_same_tutor_rate",
                &raw.provider_duties.min_same_tutor_rate,
            ),
            max_provider_cancel_rate: self.rate(
                "provider_duties.max_provider_cancel_rate",
                &raw.provider_duties.max_provider_cancel_rate,
            ),
        };
        let outcome = self.outcome(&raw.outcome);
        let rate_card = self.rate_card(&raw.rate_card);
        let milestones = self.milestones(&raw.milestone);
        let school_adjustments = self.school_adjustments(&raw.school_adjustment);
        let review_days = self.review_days(raw.review_days.as_ref());
        Contract {
            id: self.text("id", &raw.id),
            district: self.text("district", &raw.district),
            provider: self.text("provider", &raw.provider),
            period,
            subject: self.text("subject", &raw.subject),
            price_per_student,
            contingent_share,
            not_to_exceed,
            attendance,
            provider_duties,
            outcome,
            rate_card,
            milestones,
            school_adjustments,
            review_days,
        }
    }

    fn review_days(&mut self, raw: Option<&Sp<i64>>) -> u32 {
        let Some(raw) = raw else {
            return DEFAULT_REVIEW_DAYS;
        };
        match u32::try_from(*raw.get_ref()) {
            Ok(days) => days,
            Err(_) => {
                self.problem(raw.span(), "`review_days` must be a non-negative integer");
                DEFAULT_REVIEW_DAYS
            }
        }
    }

    fn attendance(&mut self, raw: &RawAttendance) -> Attendance {
        let min_offered = *raw.min_offered.get_ref();
        if !(0..=i64::from(u32::MAX)).contains(&min_offered) {
            self.problem(
                raw.min_offered.span(),
                "`attendance.min_offered` must be a non-negative integer",
            );
        }
        Attendance {
            min_rate: self.rate("attendance.min_rate", &raw.min_rate),
            min_offered: u32::try_from(min_offered).unwrap_or(0),
            responsible: self.responsible("attendance.responsible", &raw.responsible),
        }
    }

    fn outcome(&mut self, raw: &RawOutcome) -> Outcome {
        let from_term = self.term("outcome.from_term", &raw.from_term);
        let to_term = self.term("outcome.to_term", &raw.to_term);
        if Window::between(from_term, to_term).is_none() {
            self.problem(
                raw.to_term.span(),
                "`outcome.to_term` must be a later term of the same school year than `from_term`",
            );
        }
        let measure = match raw.measure.get_ref().as_str() {
            "growth_vs_projected" => Measure::GrowthVsProjected,
            "met_projected" => Measure::MetProjected,
            "rit_gain" => Measure::RitGain,
            "conditional_growth_percentile" => Measure::ConditionalGrowthPercentile,
            "score" => Measure::Score,
            other => {
                self.problem(
                    raw.measure.span(),
                    format!(
                        "`outcome.measure` = \"{other}\": expected growth_vs_projected, \
                         met_projected, rit_gain, conditional_growth_percentile or score"
                    ),
                );
                Measure::GrowthVsProjected
            }
        };
        let max_rapid_guessing = raw
            .max_rapid_guessing
            .as_ref()
            .map(|v| self.rate("outcome.max_rapid_guessing", v));
        let mut projected = BTreeMap::new();
        for (grade, value) in &raw.projected {
            let key = format!("outcome.projected.\"{}\"", grade.get_ref());
            let d = self.decimal(&key, value);
            match Grade::parse(grade.get_ref()) {
                Some(g) => {
                    if projected.insert(g, d).is_some() {
                        self.problem(grade.span(), format!("`{key}`: the grade appears twice"));
                    }
                }
                None => self.problem(grade.span(), format!("`{key}`: not a grade")),
            }
        }
        Outcome {
            assessment: self.text("outcome.assessment", &raw.assessment),
            from_term,
            to_term,
            measure,
            missing_score: self.responsible("outcome.missing_score", &raw.missing_score),
            max_rapid_guessing,
            projected,
            norms: raw.norms.as_ref().map(|n| self.text("outcome.norms", n)),
        }
    }

    fn rate_card(&mut self, raw: &[RawTier]) -> Vec<Tier> {
        let tiers: Vec<Tier> = raw
            .iter()
            .map(|t| {
                let key = format!("rate_card.{}", t.name.get_ref());
                let pays = self.decimal(&format!("{key}.pays"), &t.pays);
                if pays < Decimal::ZERO {
                    self.problem(t.pays.span(), format!("`{key}.pays` must be >= 0"));
                }
                Tier {
                    name: self.text("rate_card.name", &t.name),
                    min: self.bound(&format!("{key}.min"), &t.min, true),
                    pays,
                }
            })
            .collect();
        if tiers.is_empty() {
            self.problem(0..0, "`rate_card` needs at least one tier");
        }
        let mut names = BTreeSet::new();
        for (i, (tier, raw_tier)) in tiers.iter().zip(raw).enumerate() {
            if !names.insert(tier.name.as_str()) {
                self.problem(
                    raw_tier.name.span(),
                    format!("`rate_card`: tier name \"{}\" appears twice", tier.name),
                );
            }
            if i > 0 {
                let prev = &tiers[i - 1];
                if !strictly_below(tier.min, prev.min) {
                    self.problem(
                        raw_tier.min.span(),
                        format!(
                            "`rate_card.{}.min` must be below the tier above it (\"{}\"): tiers go from the highest `min` down",
                            tier.name, prev.name
                        ),
                    );
                }
                if tier.pays > prev.pays {
                    self.problem(
                        raw_tier.pays.span(),
                        format!(
                            "`rate_card.{}.pays` must not exceed the tier above it (\"{}\")",
                            tier.name, prev.name
                        ),
                    );
                }
            }
            let last = i + 1 == tiers.len();
            if last && tier.min.is_some() {
                self.problem(
                    raw_tier.min.span(),
                    "the last tier's `min` must be \"-inf\"",
                );
            }
            if !last && tier.min.is_none() {
                self.problem(
                    raw_tier.min.span(),
                    "only the last tier's `min` may be \"-inf\"",
                );
            }
        }
        tiers
    }

    fn milestones(&mut self, raw: &Sp<Vec<RawMilestone>>) -> Vec<Milestone> {
        let mut milestones = Vec::new();
        let mut names = BTreeSet::new();
        let mut dates = BTreeSet::new();
        let mut share_sum = Decimal::ZERO;
        // A share outside 0-1 is reported where it is written, and the sum is not checked.
        let mut shares_in_range = true;
        for m in raw.get_ref() {
            let name = self.text("milestone.name", &m.name);
            let key = format!("milestone.{name}");
            let date = self.date(&format!("{key}.date"), &m.date);
            if !names.insert(name.clone()) {
                self.problem(m.name.span(), format!("milestone \"{name}\" appears twice"));
            }
            if crate::corrections::is_closing_name(&name) {
                self.problem(
                    m.name.span(),
                    format!("milestone \"{name}\": names like closing-YYYY-MM-DD are the closing statements'; choose another name"),
                );
            }
            if !dates.insert(date) {
                self.problem(
                    m.date.span(),
                    format!("`{key}.date`: two milestones on {date}"),
                );
            }
            let base_share = match &m.base_share {
                Some(v) => {
                    let d = self.decimal(&format!("{key}.base_share"), v);
                    if d < Decimal::ZERO || d > Decimal::ONE {
                        self.problem(
                            v.span(),
                            format!("`{key}.base_share` must be between 0 and 1"),
                        );
                        shares_in_range = false;
                    }
                    d
                }
                None => Decimal::ZERO,
            };
            let contingent = m.contingent.as_ref().is_some_and(|c| *c.get_ref());
            if m.base_share.is_none() && !contingent {
                self.problem(
                    m.name.span(),
                    format!(
                        "milestone \"{name}\" needs a `base_share`, `contingent = true`, or both"
                    ),
                );
            }
            if shares_in_range {
                share_sum += base_share;
            }
            milestones.push(Milestone {
                name,
                date,
                base_share,
                contingent,
            });
        }
        if shares_in_range && share_sum != Decimal::ONE {
            self.problem(
                raw.span(),
                format!("the milestones' `base_share` values sum to {share_sum}, not exactly 1"),
            );
        }
        milestones.sort_by_key(|m| m.date);
        let contingent: Vec<_> = milestones.iter().filter(|m| m.contingent).collect();
        if contingent.len() != 1 {
            self.problem(
                raw.span(),
                format!(
                    "exactly one milestone must have `contingent = true` (found {})",
                    contingent.len()
                ),
            );
        } else if let Some(last) = milestones.last().filter(|m| !m.contingent) {
            let contingent = raw
                .get_ref()
                .iter()
                .find(|m| m.contingent.as_ref().is_some_and(|c| *c.get_ref()))
                .expect("one milestone is contingent");
            self.problem(
                contingent.date.span(),
                format!(
                    "`milestone.{}.date`: the milestone with `contingent = true` must be the last by date (\"{}\" is later, on {})",
                    contingent.name.get_ref().trim(),
                    last.name,
                    last.date
                ),
            );
        }
        milestones
    }

    fn school_adjustments(&mut self, raw: &[Sp<RawSchoolAdjustment>]) -> Vec<SchoolAdjustment> {
        let mut schools = BTreeSet::new();
        let mut out = Vec::new();
        for (i, entry) in raw.iter().enumerate() {
            let a = entry.get_ref();
            let key = format!("school_adjustment[{i}]");
            let school = self.text(&format!("{key}.school"), &a.school);
            if !schools.insert(school.clone()) {
                self.problem(
                    a.school.span(),
                    format!("`{key}`: school \"{school}\" already has an adjustment"),
                );
            }
            if a.measure.get_ref() != "median_growth_vs_projected" {
                self.problem(
                    a.measure.span(),
                    format!("`{key}.measure`: expected \"median_growth_vs_projected\""),
                );
            }
            let mut bands: Vec<Band> = Vec::new();
            for (j, b) in a.bands.iter().enumerate() {
                let bkey = format!("{key}.bands[{j}]");
                let band = Band {
                    min: self.bound(&format!("{bkey}.min"), &b.get_ref().min, true),
                    adjust: self.decimal(&format!("{bkey}.adjust"), &b.get_ref().adjust),
                };
                if band.adjust <= -Decimal::ONE {
                    self.problem(
                        b.get_ref().adjust.span(),
                        format!("`{bkey}.adjust` must be > -1"),
                    );
                }
                if let Some(prev) = bands.last() {
                    if !strictly_below(band.min, prev.min) {
                        self.problem(
                            b.get_ref().min.span(),
                            format!("`{bkey}.min` must be below the band above it"),
                        );
                    }
                    if band.adjust > prev.adjust {
                        self.problem(
                            b.get_ref().adjust.span(),
                            format!("`{bkey}.adjust` must not exceed the band above it"),
                        );
                    }
                }
                let last = j + 1 == a.bands.len();
                if last != band.min.is_none() {
                    self.problem(
                        b.get_ref().min.span(),
                        format!(
                            "`{bkey}.min`: the last band's `min`, and only it, must be \"-inf\""
                        ),
                    );
                }
                bands.push(band);
            }
            if bands.is_empty() {
                self.problem(entry.span(), format!("`{key}` needs at least one band"));
            }
            out.push(SchoolAdjustment { school, bands });
        }
        out
    }
}

/// `a < b` where `None` is minus infinity.
fn strictly_below(a: Option<Decimal>, b: Option<Decimal>) -> bool {
    match (a, b) {
        (None, Some(_)) => true,
        (Some(x), Some(y)) => x < y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = include_str!("../tests/contract_example.toml");

    fn problems(source: &str) -> Vec<Problem> {
        Contract::parse(source).unwrap_err().problems
    }

    #[test]
    fn the_spec_example_parses() {
        let c = Contract::parse(EXAMPLE).unwrap();
        assert_eq!(c.id, "ector-math-2025");
        assert_eq!(c.base_part(), Decimal::from(720));
        assert_eq!(c.contingent_part(), Decimal::from(480));
        assert_eq!(c.term_name(Term::Fall), "Fall 2024-2025");
        assert_eq!(c.outcome.window(), Window::FallToSpring);
        assert_eq!(c.rate_card.len(), 4);
        assert_eq!(c.rate_card[3].min, None);
        assert_eq!(c.milestones.last().unwrap().name, "final");
        assert_eq!(c.school_adjustment("sch-9").unwrap().0, 0);
        assert_eq!(c.outcome.projected[&Grade::Level(6)], Decimal::new(77, 1));
    }

    #[test]
    fn review_days_defaults_to_ten_and_may_be_set() {
        assert_eq!(Contract::parse(EXAMPLE).unwrap().review_days, 10);
        let src = format!("review_days = 5\n{EXAMPLE}");
        assert_eq!(Contract::parse(&src).unwrap().review_days, 5);
    }

    #[test]
    fn negative_review_days_is_refused() {
        let p = problems(&format!("review_days = -1\n{EXAMPLE}"));
        assert!(p[0].message.contains("review_days"), "{p:?}");
        assert_eq!(p[0].line, 1);
    }

    #[test]
    fn unknown_key_is_refused_with_its_line() {
        let src = EXAMPLE.replace(
            "subject = \"Mathematics\"",
            "subject = \"Mathematics\"\ncolour = \"red\"",
        );
        let p = problems(&src);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("colour"), "{p:?}");
        assert_eq!(p[0].line, 6);
    }

    #[test]
    fn contingent_share_above_one_is_refused() {
        let p = problems(&EXAMPLE.replace("\"0.40\"", "\"1.5\""));
        assert!(p[0].message.contains("contingent_share"), "{p:?}");
        assert_eq!(p[0].line, 7);
    }

    #[test]
    fn decimals_must_be_strings() {
        let p = problems(&EXAMPLE.replace("\"0.40\"", "0.40"));
        assert!(p[0].message.contains("written as strings"), "{p:?}");
    }

    #[test]
    fn tiers_out_of_order_are_refused() {
        let src = EXAMPLE.replace("min = \"1.50\"", "min = \"0.90\"");
        let p = problems(&src);
        assert!(
            p.iter().any(|p| p.message.contains("rate_card.meets.min")),
            "{p:?}"
        );
    }

    #[test]
    fn a_milestone_cannot_take_a_closing_statements_name() {
        let p = problems(&EXAMPLE.replace("name = \"midyear\"", "name = \"closing-2025-01-31\""));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("closing statements'"), "{p:?}");
        // Only the exact closing form is reserved.
        assert!(
            Contract::parse(&EXAMPLE.replace("name = \"midyear\"", "name = \"closing\"")).is_ok()
        );
    }

    #[test]
    fn shares_must_sum_to_one_and_contingent_milestone_is_last() {
        let p = problems(&EXAMPLE.replace(
            "base_share = \"0.50\"\n\n[[milestone]]\nname = \"midyear\"",
            "base_share = \"0.40\"\n\n[[milestone]]\nname = \"midyear\"",
        ));
        assert!(p.iter().any(|p| p.message.contains("sum to 0.90")), "{p:?}");
        let p = problems(&EXAMPLE.replace("date = 2025-06-30", "date = 2024-09-30"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("last by date"), "{p:?}");
        assert!(p[0].message.starts_with("`milestone.final.date`"), "{p:?}");
        // the contingent milestone's own `date` line
        assert_eq!((p[0].line, p[0].column), (65, 8), "{p:?}");
    }

    #[test]
    fn values_that_would_overflow_are_refused_at_their_line() {
        let p = problems(&EXAMPLE.replace(
            "base_share = \"0.50\"\n\n[[milestone]]\nname = \"midyear\"",
            "base_share = \"79228162514264337593543950335\"\n\n[[milestone]]\nname = \"midyear\"",
        ));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].message.contains("below 1000000000"), "{p:?}");
        assert!(p[1].message.contains("between 0 and 1"), "{p:?}");
        assert_eq!(p[0].line, p[1].line);
        let p = problems(&EXAMPLE.replace("\"7.7\"", "\"0.0000000000000000000000000001\""));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("more than 6 decimal places"), "{p:?}");
        assert!(p[0].message.contains("outcome.projected"), "{p:?}");
        let p = problems(&EXAMPLE.replace("\"1200.00\"", "\"99999999999999999999\""));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].message.starts_with(
                "`price_per_student` = 99999999999999999999: must be below 1000000000"
            ),
            "{p:?}"
        );
        assert_eq!(p[0].line, 6);
        let p = problems(&EXAMPLE.replace("\"600000.00\"", "\"1000000000.00\""));
        assert!(p[0].message.contains("not_to_exceed"), "{p:?}");
        // the largest accepted values parse
        Contract::parse(
            &EXAMPLE
                .replace("\"1200.00\"", "\"999999999.999999\"")
                .replace("\"600000.00\"", "\"999999999.999999\""),
        )
        .unwrap();
    }

    #[test]
    fn dates_outside_1900_to_2200_are_refused() {
        let p = problems(&EXAMPLE.replace("date = 2025-06-30", "date = 9999-06-30"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].message
                .contains("9999-06-30: expected a date between 1900-01-01 and 2200-12-31"),
            "{p:?}"
        );
        assert_eq!(p[0].line, 65);
        let p = problems(&EXAMPLE.replace("start = 2024-08-12", "start = 1899-08-12"));
        assert!(p[0].message.contains("period.start"), "{p:?}");
    }

    #[test]
    fn ranges_and_enumerations_are_checked() {
        let p = problems(&EXAMPLE.replace("min_rate = \"0.70\"", "min_rate = \"1.70\""));
        assert!(p[0].message.contains("between 0 and 1"), "{p:?}");
        let p =
            problems(&EXAMPLE.replace("responsible = \"district\"", "responsible = \"nobody\""));
        assert!(p[0].message.contains("nobody"), "{p:?}");
        let p = problems(&EXAMPLE.replace("\"1200.00\"", "\"1.2e3\""));
        assert!(p[0].message.contains("plain decimal"), "{p:?}");
        let p = problems(&EXAMPLE.replace("pays = \"1.25\"", "pays = \"-inf\""));
        assert!(p[0].message.contains("only as a `min`"), "{p:?}");
        let p = problems(&EXAMPLE.replace("adjust = \"-0.10\"", "adjust = \"-1.00\""));
        assert!(p[0].message.contains("> -1"), "{p:?}");
    }

    #[test]
    fn the_district_problem_names_the_district_line() {
        let p = Contract::district_problem(EXAMPLE, "unknown");
        assert_eq!((p.line, p.column, p.message.as_str()), (2, 12, "unknown"));
        let src = EXAMPLE.replace("district = \"ector\"\n", "");
        let src = src.replace("subject = ", "district = \"ector\"\nsubject = ");
        assert_eq!(Contract::district_problem(&src, "x").line, 4);
    }

    #[test]
    fn missing_required_key_is_refused() {
        let p = problems(&EXAMPLE.replace("not_to_exceed = \"600000.00\"", ""));
        assert!(p[0].message.contains("not_to_exceed"), "{p:?}");
    }
}
