//! Progress monitoring (SPEC section 6): at any date, each enrolled student's status on each of
//! the three factors, the amount at risk if nothing changes, the snapshots continuous-improvement
//! meetings compare, the meeting cadence check and the weekly teacher updates.
//!
//! Pure, like the engine, and built on it: every count, rate, counted test and score is the one
//! `engine::compute` puts on a statement line, so progress and statements never disagree. The
//! rules are written in `docs/PROGRESS.md`.

use crate::contract::{Contract, Measure, Milestone, Responsible, Tier};
use crate::csv_text::text;
use crate::engine::{self, EngineError, PriorPayments, StatementRequest, StudentInput};
use crate::model::{Term, Window};
use crate::money::{format_cents, round_cents};
use crate::ratio::Ratio;
use crate::statement::{Line, RuleTotal, Statement};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use time::Date;

/// Where a student stands on one factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    OnTrack,
    OffTrack,
    /// No figure yet (no session, no score after the baseline...): neither on nor off track.
    NotJudged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::OnTrack => "on_track",
            Status::OffTrack => "off_track",
            Status::NotJudged => "not_judged",
        }
    }

    /// The short mark of the text table: `on`, `OFF`, `-`.
    fn mark(self) -> &'static str {
        match self {
            Status::OnTrack => "on",
            Status::OffTrack => "OFF",
            Status::NotJudged => "-",
        }
    }
}

/// The three per-student factors of a contract (SPEC section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// Factor 1, `[attendance]`: attendance rate and the school's availability rate.
    Attendance,
    /// Factor 2, `[provider_duties]`: same-tutor rate and provider cancel rate.
    ProviderDuties,
    /// Factor 3, `[outcome]`: the measure projected from the latest score.
    Outcome,
}

impl Factor {
    pub const ALL: [Factor; 3] = [Factor::Attendance, Factor::ProviderDuties, Factor::Outcome];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Attendance => "attendance",
            Factor::ProviderDuties => "provider_duties",
            Factor::Outcome => "outcome",
        }
    }
}

/// Meetings are due every this many days unless the contract says otherwise.
pub const DEFAULT_MEETING_CADENCE_DAYS: u32 = 14;

/// The meeting cadence of a contract. The contract document has no key for it yet, so every
/// contract meets every [`DEFAULT_MEETING_CADENCE_DAYS`] days (docs/PROGRESS.md).
pub fn meeting_cadence_days(_contract: &Contract) -> u32 {
    DEFAULT_MEETING_CADENCE_DAYS
}

/// Everything progress depends on: the inputs of a statement, with the date to judge at.
#[derive(Debug, Clone)]
pub struct ProgressRequest<'a> {
    pub contract: &'a Contract,
    pub contract_version: u32,
    pub contract_hash: String,
    /// The date to judge at: sessions and tests after it are ignored.
    pub as_of: Date,
    pub students: Vec<StudentInput>,
    /// What finalized statements of earlier milestones paid (for the statement of today).
    pub prior: PriorPayments,
}

/// One threshold of a factor, with the figure compared to it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The figure: `attendance_rate`, `availability_rate`, `same_tutor_rate`,
    /// `provider_cancel_rate`, or the contract's measure (`growth_vs_projected`...).
    pub name: String,
    /// The contract clause that sets the threshold.
    pub clause: String,
    #[serde(serialize_with = "ratio4")]
    pub figure: Option<Ratio>,
    /// `>=` (the figure must be at least the threshold) or `<=` (at most).
    pub comparison: &'static str,
    /// The threshold as written in the contract (`"-inf"` for an open tier).
    pub threshold: String,
    pub status: Status,
    /// Who answers for this figure under the contract: `district`, `provider`, `excluded`
    /// (`responsible = "exclude"`) or `rate_card` (the outcome).
    pub answers: &'static str,
    /// The counts or scores behind the figure, or why it is not judged.
    pub detail: String,
}

impl Check {
    /// One line for people: `attendance_rate 0.6000 < 0.70 (attended 6 of 10 offered sessions)`.
    pub fn describe(&self) -> String {
        match (self.status, self.figure) {
            (Status::NotJudged, _) | (_, None) => {
                format!("{} not judged: {}", self.name, self.detail)
            }
            (status, Some(f)) => {
                let cmp = match (status, self.comparison) {
                    (Status::OffTrack, ">=") => "<",
                    (Status::OffTrack, _) => ">",
                    (_, c) => c,
                };
                format!(
                    "{} {} {} {} ({})",
                    self.name,
                    f.display4(),
                    cmp,
                    self.threshold,
                    self.detail
                )
            }
        }
    }
}

/// A student's status on one factor: off track when any check is, on track when at least one
/// check is judged and none is off, else not judged.
#[derive(Debug, Clone, Serialize)]
pub struct FactorProgress {
    pub status: Status,
    /// The off-track checks (or the judged ones when on track, or all when not judged), described.
    pub summary: String,
    pub checks: Vec<Check>,
}

impl FactorProgress {
    fn of(checks: Vec<Check>) -> FactorProgress {
        let any = |s: Status| checks.iter().any(|c| c.status == s);
        let status = if any(Status::OffTrack) {
            Status::OffTrack
        } else if any(Status::OnTrack) {
            Status::OnTrack
        } else {
            Status::NotJudged
        };
        let summary = checks
            .iter()
            .filter(|c| status == Status::NotJudged || c.status == status)
            .map(Check::describe)
            .collect::<Vec<_>>()
            .join("; ");
        FactorProgress {
            status,
            summary,
            checks,
        }
    }

    fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// The scores behind the outcome factor.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeScores {
    /// The growth window judged: the contract's own once its outcome term has a valid score,
    /// else the interim window to the latest term with one (`FallToWinter`); none before that.
    pub window: Option<String>,
    /// True when `window` is an interim window, not the contract's.
    pub interim: bool,
    pub baseline_term: String,
    pub baseline: Option<Decimal>,
    pub latest_term: Option<String>,
    pub latest: Option<Decimal>,
    pub observed_growth: Option<Decimal>,
    pub projected_growth: Option<Decimal>,
    #[serde(serialize_with = "ratio4")]
    pub measure: Option<Ratio>,
}

/// Whether the student's enrollment covers the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentState {
    Active,
    /// Starts after the as-of date.
    NotStarted,
    /// Ended before the as-of date (the statement still has the student's line).
    Ended,
}

impl EnrollmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentState::Active => "active",
            EnrollmentState::NotStarted => "not_started",
            EnrollmentState::Ended => "ended",
        }
    }
}

/// One enrolled student's progress.
#[derive(Debug, Clone, Serialize)]
pub struct StudentProgress {
    pub student_id: String,
    pub school_id: String,
    pub grade: Option<String>,
    pub enrollment: EnrollmentState,
    pub enrollment_start: String,
    pub enrollment_end: Option<String>,
    pub planned: u32,
    pub attended: u32,
    pub student_absent: u32,
    pub district_cancelled: u32,
    pub provider_cancelled: u32,
    pub minutes: u64,
    pub attendance: FactorProgress,
    pub provider_duties: FactorProgress,
    pub outcome: FactorProgress,
    pub scores: OutcomeScores,
    /// The rule of the student's line on the contingent statement computed as of today, with
    /// the latest interim measure standing in for a missing outcome score (`projected_from`).
    pub rule_today: String,
    /// The contingent amount that line pays.
    pub contingent_today: Decimal,
    /// The interim window whose measure stood in for the outcome in `rule_today` (set when
    /// the outcome term has no score yet, the outcome factor is judged on that window and the
    /// date is before the contingent milestone's).
    pub projected_from: Option<String>,
    /// C x 1.00, rounded to cents: the contingent part at full performance.
    pub full_contingent: Decimal,
    /// max(0, full_contingent - contingent_today).
    pub at_risk: Decimal,
    /// Invalid tests and data warnings, as on the statement line.
    pub notes: Vec<String>,
}

impl StudentProgress {
    pub fn factor(&self, factor: Factor) -> &FactorProgress {
        match factor {
            Factor::Attendance => &self.attendance,
            Factor::ProviderDuties => &self.provider_duties,
            Factor::Outcome => &self.outcome,
        }
    }
}

/// Students on, off and not judged on one factor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FactorCounts {
    pub on_track: u32,
    pub off_track: u32,
    pub not_judged: u32,
}

impl FactorCounts {
    fn add(&mut self, s: Status) {
        match s {
            Status::OnTrack => self.on_track += 1,
            Status::OffTrack => self.off_track += 1,
            Status::NotJudged => self.not_judged += 1,
        }
    }
}

/// Counts by factor and money at risk over a group of students (a school, or all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub students: u32,
    pub active: u32,
    pub attendance: FactorCounts,
    pub provider_duties: FactorCounts,
    pub outcome: FactorCounts,
    /// Students off track on at least one factor.
    pub off_track_any: u32,
    pub full_contingent: Decimal,
    pub contingent_today: Decimal,
    pub at_risk: Decimal,
}

impl Summary {
    fn add(&mut self, s: &StudentProgress) {
        self.students += 1;
        if s.enrollment == EnrollmentState::Active {
            self.active += 1;
        }
        self.attendance.add(s.attendance.status);
        self.provider_duties.add(s.provider_duties.status);
        self.outcome.add(s.outcome.status);
        if Factor::ALL
            .iter()
            .any(|f| s.factor(*f).status == Status::OffTrack)
        {
            self.off_track_any += 1;
        }
        self.full_contingent += s.full_contingent;
        self.contingent_today += s.contingent_today;
        self.at_risk += s.at_risk;
    }

    pub fn factor(&self, factor: Factor) -> &FactorCounts {
        match factor {
            Factor::Attendance => &self.attendance,
            Factor::ProviderDuties => &self.provider_duties,
            Factor::Outcome => &self.outcome,
        }
    }
}

/// A school's summary.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolSummary {
    pub school_id: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// A contract's progress at a date.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub contract_id: String,
    pub contract_version: u32,
    pub contract_hash: String,
    pub as_of: String,
    /// The contingent milestone whose statement "as of today" gives the amounts at risk.
    pub milestone: String,
    pub measure: String,
    /// The contract's growth window (`FallToSpring`).
    pub window: String,
    /// The tier a student must reach to meet the target (the lowest tier paying 100% or more).
    pub target_tier: String,
    /// Its `min` (`"-inf"` for an open tier).
    pub target_min: String,
    /// The inputs hash of the statement computed as of today.
    pub inputs_hash: String,
    /// In student id order.
    pub students: Vec<StudentProgress>,
    /// By school id.
    pub by_school: Vec<SchoolSummary>,
    pub totals: Summary,
    /// Students and contingent amounts by `rule_today` (projected as above).
    pub rules_today: Vec<RuleCount>,
    /// The contingent statement computed as of today without projection, as the engine gives
    /// it: before the outcome term is tested, `outcome.missing_score` decides most lines.
    pub statement_today: StatementToday,
}

/// Students and contingent pay under one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub rule: String,
    pub students: u32,
    pub contingent: Decimal,
}

/// The engine's contingent statement as of the progress date, unprojected.
#[derive(Debug, Clone, Serialize)]
pub struct StatementToday {
    pub contingent: Decimal,
    /// After the not-to-exceed cap, base lines included.
    pub statement_total: Decimal,
    pub by_rule: Vec<RuleTotal>,
}

fn ratio4<S: Serializer>(r: &Option<Ratio>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&r.display4()),
        None => s.serialize_none(),
    }
}

fn contingent_milestone(contract: &Contract) -> &Milestone {
    contract
        .milestones
        .iter()
        .find(|m| m.contingent)
        .expect("validated: exactly one contingent milestone")
}

/// The tier a student meets the target at: the lowest tier (the last from the top) whose
/// `pays` is at least 1.00 (SPEC 5.8's "met the target"); the top tier if none pays 100%.
pub fn target_tier(contract: &Contract) -> &Tier {
    contract
        .rate_card
        .iter()
        .rev()
        .find(|t| t.pays >= Decimal::ONE)
        .unwrap_or(&contract.rate_card[0])
}

fn show_min(min: Option<Decimal>) -> String {
    min.map_or_else(|| "-inf".to_string(), |d| d.to_string())
}

/// A rate check: not judged when the rate is undefined; `at_least` thresholds fail strictly
/// below, `at_most` strictly above (a rate equal to its threshold passes, as in SPEC 5.1).
fn rate_check(
    name: &str,
    clause: &str,
    figure: Option<Ratio>,
    at_least: bool,
    threshold: Decimal,
    answers: &'static str,
    detail: String,
) -> Check {
    let status = match figure {
        None => Status::NotJudged,
        Some(r) if (at_least && r.lt(threshold)) || (!at_least && r.gt(threshold)) => {
            Status::OffTrack
        }
        Some(_) => Status::OnTrack,
    };
    Check {
        name: name.to_string(),
        clause: clause.to_string(),
        figure,
        comparison: if at_least { ">=" } else { "<=" },
        threshold: threshold.to_string(),
        status,
        answers,
        detail,
    }
}

/// Computes every enrolled student's progress as of `req.as_of` (docs/PROGRESS.md).
pub fn compute(req: ProgressRequest<'_>) -> Result<Progress, EngineError> {
    let contract = req.contract;
    let milestone = contingent_milestone(contract).name.clone();
    let outcome_cfg = &contract.outcome;
    // Interim terms: after the baseline term and before the outcome term, latest first. Each
    // is measured by the engine itself on a copy of the contract whose outcome term is the
    // interim term; the contract's projection table is dropped there, as it states growth for
    // the contract's own window only.
    let mut interims: Vec<(Term, Statement)> = Vec::new();
    for term in [Term::Spring, Term::Winter, Term::Fall] {
        if term <= outcome_cfg.from_term || term >= outcome_cfg.to_term {
            continue;
        }
        let mut interim = contract.clone();
        interim.outcome.to_term = term;
        interim.outcome.projected.clear();
        let statement = engine::compute(StatementRequest {
            contract: &interim,
            contract_version: req.contract_version,
            contract_hash: req.contract_hash.clone(),
            milestone: &milestone,
            as_of: Some(req.as_of),
            students: Cow::Borrowed(&req.students),
            prior: req.prior.clone(),
        })?;
        interims.push((term, statement));
    }
    let today = engine::compute(StatementRequest {
        contract,
        contract_version: req.contract_version,
        contract_hash: req.contract_hash.clone(),
        milestone: &milestone,
        as_of: Some(req.as_of),
        students: req.students.into(),
        prior: req.prior,
    })?;
    let interim_lines: Vec<(Term, HashMap<&str, &Line>)> = interims
        .iter()
        .map(|(term, s)| {
            (
                *term,
                s.lines.iter().map(|l| (l.student_id.as_str(), l)).collect(),
            )
        })
        .collect();
    let judge = Judge {
        contract,
        as_of: req.as_of.to_string(),
        project: req.as_of < contingent_milestone(contract).date,
        target: target_tier(contract),
        full_contingent: cents(round_cents(contract.contingent_part())),
    };
    let students: Vec<StudentProgress> = today
        .lines
        .iter()
        .map(|line| {
            let of_student: Vec<(Term, &Line)> = interim_lines
                .iter()
                .filter_map(|(term, lines)| {
                    lines.get(line.student_id.as_str()).map(|l| (*term, *l))
                })
                .collect();
            judge.student(line, &of_student)
        })
        .collect();
    let mut totals = Summary::default();
    let mut schools: BTreeMap<&str, Summary> = BTreeMap::new();
    for s in &students {
        totals.add(s);
        schools.entry(s.school_id.as_str()).or_default().add(s);
    }
    let by_school = schools
        .into_iter()
        .map(|(school, summary)| SchoolSummary {
            school_id: school.to_string(),
            summary,
        })
        .collect();
    let target = judge.target;
    let mut rules: BTreeMap<&str, RuleCount> = BTreeMap::new();
    for s in &students {
        let r = rules
            .entry(s.rule_today.as_str())
            .or_insert_with(|| RuleCount {
                rule: s.rule_today.clone(),
                ..RuleCount::default()
            });
        r.students += 1;
        r.contingent += s.contingent_today;
    }
    let rules_today = rules.into_values().collect();
    Ok(Progress {
        contract_id: contract.id.clone(),
        contract_version: req.contract_version,
        contract_hash: req.contract_hash,
        as_of: req.as_of.to_string(),
        milestone,
        measure: outcome_cfg.measure.as_str().to_string(),
        window: outcome_cfg.window().column_prefix().to_string(),
        target_tier: target.name.clone(),
        target_min: show_min(target.min),
        inputs_hash: today.inputs_hash.clone(),
        by_school,
        totals,
        rules_today,
        statement_today: StatementToday {
            contingent: today.totals.contingent,
            statement_total: today.totals.statement_total,
            by_rule: today.totals.by_rule.clone(),
        },
        students,
    })
}

/// Rounded amounts keep two decimals (`0.00`).
fn cents(mut d: Decimal) -> Decimal {
    if d.is_zero() {
        d = Decimal::ZERO;
    }
    d.rescale(2);
    d
}

struct Judge<'a> {
    contract: &'a Contract,
    as_of: String,
    /// Before the contingent milestone's date a missing outcome score may still come in: the
    /// interim measure stands in for it in the amounts. From that date on, it does not.
    project: bool,
    target: &'a Tier,
    full_contingent: Decimal,
}

impl Judge<'_> {
    /// `interims`: the student's lines of the interim statements, latest term first.
    fn student(&self, line: &Line, interims: &[(Term, &Line)]) -> StudentProgress {
        let interim = interims.iter().find(|(_, l)| l.outcome.is_some()).copied();
        // Invalid interim tests are named too (the final line only looks at its two terms).
        let mut notes = line.notes.clone();
        for (_, l) in interims {
            for n in &l.notes {
                if !notes.contains(n) {
                    notes.push(n.clone());
                }
            }
        }
        let enrollment = if line.enrollment_start.as_str() > self.as_of.as_str() {
            EnrollmentState::NotStarted
        } else if line
            .enrollment_end
            .as_deref()
            .is_some_and(|end| end < self.as_of.as_str())
        {
            EnrollmentState::Ended
        } else {
            EnrollmentState::Active
        };
        let (outcome, scores) = self.outcome(line, interim);
        // If nothing changes, the interim measure judged above is the outcome the statement
        // will see: its line (the same rules over the interim window) gives the amount.
        let (money, projected_from) = match interim {
            Some((_, l))
                if self.project && scores.interim && outcome.status != Status::NotJudged =>
            {
                (l, scores.window.clone())
            }
            _ => (line, None),
        };
        let contingent_today = money.contingent_amount;
        StudentProgress {
            student_id: line.student_id.clone(),
            school_id: line.school_id.clone(),
            grade: line.grade.clone(),
            enrollment,
            enrollment_start: line.enrollment_start.clone(),
            enrollment_end: line.enrollment_end.clone(),
            planned: line.planned,
            attended: line.attended,
            student_absent: line.student_absent,
            district_cancelled: line.district_cancelled,
            provider_cancelled: line.provider_cancelled,
            minutes: line.minutes,
            attendance: self.attendance(line),
            provider_duties: self.provider_duties(line),
            outcome,
            scores,
            rule_today: money.rule.clone(),
            contingent_today,
            projected_from,
            full_contingent: self.full_contingent,
            at_risk: cents((self.full_contingent - contingent_today).max(Decimal::ZERO)),
            notes,
        }
    }

    /// Factor 1: attendance to date and the school's availability, both against `min_rate`.
    fn attendance(&self, l: &Line) -> FactorProgress {
        let att = &self.contract.attendance;
        let offered = l.attended + l.student_absent;
        let mut detail = if offered == 0 {
            "no offered session yet".to_string()
        } else {
            format!("attended {} of {} offered sessions", l.attended, offered)
        };
        if offered > 0 && offered < att.min_offered {
            let _ = write!(
                detail,
                "; fewer than min_offered {} so far: a statement today would not judge attendance",
                att.min_offered
            );
        }
        let answers = match att.responsible {
            Responsible::District => "district",
            Responsible::Provider => "provider",
            Responsible::Exclude => "excluded",
        };
        let available = l.planned - l.district_cancelled;
        FactorProgress::of(vec![
            rate_check(
                "attendance_rate",
                "attendance.min_rate",
                l.attendance_rate,
                true,
                att.min_rate,
                answers,
                detail,
            ),
            rate_check(
                "availability_rate",
                "attendance.min_rate",
                l.availability_rate,
                true,
                att.min_rate,
                "district",
                if l.planned == 0 {
                    "no planned session yet".to_string()
                } else {
                    format!(
                        "the school made the student available for {available} of {} planned sessions",
                        l.planned
                    )
                },
            ),
        ])
    }

    /// Factor 2: same-tutor rate and provider cancel rate to date.
    fn provider_duties(&self, l: &Line) -> FactorProgress {
        let duties = &self.contract.provider_duties;
        let tutor_detail = match l.same_tutor_rate {
            None => "no attended session yet".to_string(),
            Some(_) => format!("of {} attended sessions", l.attended),
        };
        FactorProgress::of(vec![
            rate_check(
                "same_tutor_rate",
                "provider_duties.min_same_tutor_rate",
                l.same_tutor_rate,
                true,
                duties.min_same_tutor_rate,
                "provider",
                tutor_detail,
            ),
            rate_check(
                "provider_cancel_rate",
                "provider_duties.max_provider_cancel_rate",
                l.provider_cancel_rate,
                false,
                duties.max_provider_cancel_rate,
                "provider",
                if l.planned == 0 {
                    "no planned session yet".to_string()
                } else {
                    format!(
                        "provider cancelled {} of {} planned sessions",
                        l.provider_cancelled, l.planned
                    )
                },
            ),
        ])
    }

    /// Factor 3: the contract's measure over the latest window with a valid score, against
    /// the target tier's `min`.
    fn outcome(
        &self,
        line: &Line,
        interim: Option<(Term, &Line)>,
    ) -> (FactorProgress, OutcomeScores) {
        let k = self.contract;
        let cfg = &k.outcome;
        let measure_name = cfg.measure.as_str();
        // The contract's own window once its outcome term has a score, else the latest interim.
        let chosen: Option<(Term, &Line, bool)> = if line.outcome.is_some() {
            Some((cfg.to_term, line, false))
        } else {
            interim.map(|(term, l)| (term, l, true))
        };
        let window = chosen.map(|(term, _, _)| {
            Window::between(cfg.from_term, term).expect("a term after the baseline term")
        });
        let scores = OutcomeScores {
            window: window.map(|w| w.column_prefix().to_string()),
            interim: chosen.is_some_and(|(_, _, i)| i),
            baseline_term: k.term_name(cfg.from_term),
            baseline: line.baseline,
            latest_term: chosen.map(|(term, _, _)| k.term_name(term)),
            latest: chosen.and_then(|(_, l, _)| l.outcome),
            observed_growth: chosen.and_then(|(_, l, _)| l.observed_growth),
            projected_growth: chosen.and_then(|(_, l, _)| l.projected_growth),
            measure: chosen.and_then(|(_, l, _)| l.measure),
        };
        let missing_rule = match cfg.missing_score {
            Responsible::District => "the district pays the contingent part in full",
            Responsible::Provider => "the contingent part is not paid",
            Responsible::Exclude => "the student is excluded",
        };
        let not_judged = |detail: String| Check {
            name: measure_name.to_string(),
            clause: format!("rate_card.{}", self.target.name),
            figure: None,
            comparison: ">=",
            threshold: show_min(self.target.min),
            status: Status::NotJudged,
            answers: "rate_card",
            detail,
        };
        let check = match chosen {
            _ if line.baseline.is_none() => not_judged(format!(
                "no valid {} score (if still missing at the statement, {}: outcome.missing_score)",
                cfg.from_term.as_str(),
                missing_rule
            )),
            None => not_judged(format!(
                "no valid score after the {} baseline yet",
                cfg.from_term.as_str()
            )),
            Some((term, l, is_interim)) => {
                let w = window.expect("set with chosen");
                let scores_text = format!(
                    "{} {} -> {} {}",
                    cfg.from_term.as_str(),
                    show_dec(l.baseline),
                    term.as_str(),
                    show_dec(l.outcome)
                );
                let unscaled = matches!(cfg.measure, Measure::RitGain | Measure::Score);
                match l.measure {
                    _ if is_interim && unscaled => not_judged(format!(
                        "{scores_text}: {measure_name} over {} is not comparable with the rate card, written for {}; judged once the {} score is in",
                        w.column_prefix(),
                        cfg.window().column_prefix(),
                        cfg.to_term.as_str()
                    )),
                    None => not_judged(format!(
                        "{scores_text}: {}",
                        self.why_missing(l, w, is_interim)
                    )),
                    Some(m) => {
                        let off = self.target.min.is_some_and(|min| m.lt(min));
                        let detail = match cfg.measure {
                            Measure::GrowthVsProjected | Measure::MetProjected => format!(
                                "{scores_text}: grew {} of {} projected ({})",
                                show_dec(l.observed_growth),
                                show_dec(l.projected_growth),
                                w.column_prefix()
                            ),
                            Measure::RitGain => format!(
                                "{scores_text}: grew {} ({})",
                                show_dec(l.observed_growth),
                                w.column_prefix()
                            ),
                            Measure::ConditionalGrowthPercentile => format!(
                                "{scores_text}: {}ConditionalGrowthPercentile",
                                w.column_prefix()
                            ),
                            Measure::Score => format!("{scores_text}: the {} score", term.as_str()),
                        };
                        Check {
                            name: measure_name.to_string(),
                            clause: format!("rate_card.{}", self.target.name),
                            figure: Some(m),
                            comparison: ">=",
                            threshold: show_min(self.target.min),
                            status: if off { Status::OffTrack } else { Status::OnTrack },
                            answers: "rate_card",
                            detail,
                        }
                    }
                }
            }
        };
        (FactorProgress::of(vec![check]), scores)
    }

    /// Why the engine could not compute the measure over a window with both scores.
    fn why_missing(&self, l: &Line, w: Window, is_interim: bool) -> String {
        match self.contract.outcome.measure {
            Measure::ConditionalGrowthPercentile => format!(
                "no {}ConditionalGrowthPercentile in the file",
                w.column_prefix()
            ),
            _ => match l.projected_growth {
                Some(p) => format!("projected growth {p} for {} is not positive", w.column_prefix()),
                None if is_interim => format!(
                    "no {}ProjectedGrowth in the file (the contract's [outcome.projected] is for {} only)",
                    w.column_prefix(),
                    self.contract.outcome.window().column_prefix()
                ),
                None => format!("no projected growth for {}", w.column_prefix()),
            },
        }
    }
}

fn show_dec(d: Option<Decimal>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

fn opt_ratio(r: Option<Ratio>) -> String {
    r.map(|r| r.display4()).unwrap_or_default()
}

/// The CSV columns of [`Progress::to_csv`].
pub const CSV_COLUMNS: [&str; 36] = [
    "student_id",
    "school_id",
    "grade",
    "enrollment",
    "planned",
    "attended",
    "student_absent",
    "district_cancelled",
    "provider_cancelled",
    "attendance",
    "attendance_rate",
    "availability_rate",
    "min_rate",
    "provider_duties",
    "same_tutor_rate",
    "min_same_tutor_rate",
    "provider_cancel_rate",
    "max_provider_cancel_rate",
    "outcome",
    "window",
    "baseline",
    "latest_term",
    "latest",
    "observed_growth",
    "projected_growth",
    "measure",
    "target_min",
    "rule_today",
    "contingent_today",
    "full_contingent",
    "at_risk",
    "projected_from",
    "attendance_reason",
    "provider_duties_reason",
    "outcome_reason",
    "notes",
];

impl Progress {
    /// Pretty JSON with a fixed key order and a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("progress serializes");
        s.push('\n');
        s
    }

    /// CSV: one row per student (student id order), then one `SCHOOL` row per school and a
    /// `TOTAL` row with off-track counts in the factor columns and the amounts.
    pub fn to_csv(&self) -> String {
        let k = |name: &str, f: &FactorProgress| f.check(name).and_then(|c| c.figure);
        let thr = |name: &str, f: &FactorProgress| {
            f.check(name)
                .map(|c| c.threshold.clone())
                .unwrap_or_default()
        };
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(CSV_COLUMNS).expect("writing to memory");
        for s in &self.students {
            let sc = &s.scores;
            w.write_record([
                text(&s.student_id),
                text(&s.school_id),
                text(s.grade.clone().unwrap_or_default()),
                s.enrollment.as_str().to_string(),
                s.planned.to_string(),
                s.attended.to_string(),
                s.student_absent.to_string(),
                s.district_cancelled.to_string(),
                s.provider_cancelled.to_string(),
                s.attendance.status.as_str().to_string(),
                opt_ratio(k("attendance_rate", &s.attendance)),
                opt_ratio(k("availability_rate", &s.attendance)),
                thr("attendance_rate", &s.attendance),
                s.provider_duties.status.as_str().to_string(),
                opt_ratio(k("same_tutor_rate", &s.provider_duties)),
                thr("same_tutor_rate", &s.provider_duties),
                opt_ratio(k("provider_cancel_rate", &s.provider_duties)),
                thr("provider_cancel_rate", &s.provider_duties),
                s.outcome.status.as_str().to_string(),
                text(sc.window.clone().unwrap_or_default()),
                sc.baseline.map(|d| d.to_string()).unwrap_or_default(),
                text(sc.latest_term.clone().unwrap_or_default()),
                sc.latest.map(|d| d.to_string()).unwrap_or_default(),
                sc.observed_growth
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                sc.projected_growth
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                opt_ratio(sc.measure),
                self.target_min.clone(),
                text(&s.rule_today),
                format_cents(s.contingent_today),
                format_cents(s.full_contingent),
                format_cents(s.at_risk),
                text(
                    s.scores
                        .window
                        .clone()
                        .filter(|_| s.projected_from.is_some())
                        .unwrap_or_default(),
                ),
                text(&s.attendance.summary),
                text(&s.provider_duties.summary),
                text(&s.outcome.summary),
                text(s.notes.join(" | ")),
            ])
            .expect("writing to memory");
        }
        let mut summary_row = |key: &str, school: &str, t: &Summary| {
            let mut row = vec![String::new(); CSV_COLUMNS.len()];
            row[0] = key.to_string();
            row[1] = text(school);
            row[4] = t.students.to_string();
            row[9] = t.attendance.off_track.to_string();
            row[13] = t.provider_duties.off_track.to_string();
            row[18] = t.outcome.off_track.to_string();
            row[28] = format_cents(t.contingent_today);
            row[29] = format_cents(t.full_contingent);
            row[30] = format_cents(t.at_risk);
            w.write_record(&row).expect("writing to memory");
        };
        for s in &self.by_school {
            summary_row("SCHOOL", &s.school_id, &s.summary);
        }
        summary_row("TOTAL", "", &self.totals);
        String::from_utf8(w.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }

    /// A text table: one row per student by school, then the counts by school and factor and
    /// the money at risk.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<12} {:<14} {:<11} {:>4} {:>4} {:>7} {:>7} {:>7} {:>7} {:>4} {:>4} {:>4} {:<13} {:>9} {:<24} {:>9}",
            "student",
            "school",
            "enrollment",
            "plan",
            "att",
            "att%",
            "avail%",
            "tutor%",
            "pcanc%",
            "att",
            "duty",
            "outc",
            "window",
            "measure",
            "rule_today",
            "at_risk"
        );
        let mut rows: Vec<&StudentProgress> = self.students.iter().collect();
        rows.sort_by(|a, b| (&a.school_id, &a.student_id).cmp(&(&b.school_id, &b.student_id)));
        for p in rows {
            let fig =
                |f: &FactorProgress, name: &str| opt_ratio(f.check(name).and_then(|c| c.figure));
            let _ = writeln!(
                s,
                "{:<12} {:<14} {:<11} {:>4} {:>4} {:>7} {:>7} {:>7} {:>7} {:>4} {:>4} {:>4} {:<13} {:>9} {:<24} {:>9}",
                p.student_id,
                p.school_id,
                p.enrollment.as_str(),
                p.planned,
                p.attended,
                fig(&p.attendance, "attendance_rate"),
                fig(&p.attendance, "availability_rate"),
                fig(&p.provider_duties, "same_tutor_rate"),
                fig(&p.provider_duties, "provider_cancel_rate"),
                p.attendance.status.mark(),
                p.provider_duties.status.mark(),
                p.outcome.status.mark(),
                p.scores.window.as_deref().unwrap_or("-"),
                opt_ratio(p.scores.measure),
                p.rule_today,
                format_cents(p.at_risk)
            );
        }
        s.push('\n');
        s.push_str(&self.summary());
        s
    }

    /// The header, counts by school and factor, and the money at risk.
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Progress of contract {} (version {}) as of {}",
            self.contract_id, self.contract_version, self.as_of
        );
        let _ = writeln!(
            s,
            "{} students ({} active); outcome: {} over {} (or the latest interim window), target tier {} (min {})",
            t.students, t.active, self.measure, self.window, self.target_tier, self.target_min
        );
        let _ = writeln!(
            s,
            "\n{:<16} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>12}",
            "off track",
            "students",
            "attend",
            "(of)",
            "duties",
            "(of)",
            "outcome",
            "(of)",
            "any",
            "at risk"
        );
        let judged = |c: &FactorCounts| c.on_track + c.off_track;
        let mut row = |name: &str, x: &Summary| {
            let _ = writeln!(
                s,
                "{:<16} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>12}",
                name,
                x.students,
                x.attendance.off_track,
                judged(&x.attendance),
                x.provider_duties.off_track,
                judged(&x.provider_duties),
                x.outcome.off_track,
                judged(&x.outcome),
                x.off_track_any,
                format_cents(x.at_risk)
            );
        };
        for school in &self.by_school {
            row(&school.school_id, &school.summary);
        }
        row("TOTAL", t);
        let _ = writeln!(
            s,
            "(of) = students judged on the factor; the others have no figure yet"
        );
        let projected = self
            .students
            .iter()
            .filter(|s| s.projected_from.is_some())
            .count();
        let _ = writeln!(
            s,
            "\nIf nothing changes (the {} statement computed as of {}, the latest interim measure standing in for a missing outcome score for {} students): contingent {} of {} at full performance, {} at risk",
            self.milestone,
            self.as_of,
            projected,
            format_cents(t.contingent_today),
            format_cents(t.full_contingent),
            format_cents(t.at_risk),
        );
        for r in &self.rules_today {
            let _ = writeln!(
                s,
                "  {:<34} {:>6} students  contingent {:>12}",
                r.rule,
                r.students,
                format_cents(r.contingent)
            );
        }
        let _ = writeln!(
            s,
            "Without that projection, the {} statement computed as of {} pays contingent {} (statement total {}); students with no {} score yet fall under outcome.missing_score",
            self.milestone,
            self.as_of,
            format_cents(self.statement_today.contingent),
            format_cents(self.statement_today.statement_total),
            self.window.split("To").nth(1).unwrap_or("outcome"),
        );
        s
    }

    /// What a meeting stores: every student's status per factor, as of this date.
    pub fn snapshot(&self) -> Snapshot {
        let mark = |f: &FactorProgress| Mark {
            status: f.status,
            summary: f.summary.clone(),
        };
        Snapshot {
            as_of: self.as_of.clone(),
            rows: self
                .students
                .iter()
                .map(|s| SnapshotRow {
                    student_id: s.student_id.clone(),
                    school_id: s.school_id.clone(),
                    attendance: mark(&s.attendance),
                    provider_duties: mark(&s.provider_duties),
                    outcome: mark(&s.outcome),
                    at_risk: s.at_risk,
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Meeting snapshots
// ---------------------------------------------------------------------------------------------

/// A factor's status as a meeting recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub status: Status,
    pub summary: String,
}

/// One student in a meeting's snapshot (ids and statuses only: no names, no demographics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRow {
    pub student_id: String,
    pub school_id: String,
    pub attendance: Mark,
    pub provider_duties: Mark,
    pub outcome: Mark,
    pub at_risk: Decimal,
}

impl SnapshotRow {
    pub fn mark(&self, factor: Factor) -> &Mark {
        match factor {
            Factor::Attendance => &self.attendance,
            Factor::ProviderDuties => &self.provider_duties,
            Factor::Outcome => &self.outcome,
        }
    }
}

/// What a meeting reviewed: the progress of every enrolled student at the meeting's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub as_of: String,
    /// In student id order.
    pub rows: Vec<SnapshotRow>,
}

/// The off-track students of one school on one factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffTrackGroup {
    pub school_id: String,
    pub factor: Factor,
    /// (student id, why), in student id order.
    pub students: Vec<(String, String)>,
}

/// One student's move on one factor between two meetings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub student_id: String,
    pub school_id: String,
    pub factor: Factor,
    /// Status at the previous meeting (`None`: the student was not in its snapshot).
    pub was: Option<Status>,
    /// Status now (`None`: the student is no longer in the snapshot).
    pub now: Option<Status>,
    /// Why, as of now (or as of then for `back_on_track` and `no_longer_judged`).
    pub summary: String,
}

/// What changed since the previous meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// The previous meeting's date.
    pub since: String,
    /// Off track now, not off track then.
    pub newly_off_track: Vec<Change>,
    /// Off track then, on track now.
    pub back_on_track: Vec<Change>,
    /// Off track then, not judged now (or no longer enrolled).
    pub no_longer_judged: Vec<Change>,
    /// Off track both times.
    pub still_off_track: u32,
}

impl Snapshot {
    /// Off-track students by school, then factor (factor order of [`Factor::ALL`]).
    pub fn off_track(&self) -> Vec<OffTrackGroup> {
        let mut groups: BTreeMap<(&str, Factor), Vec<(String, String)>> = BTreeMap::new();
        for r in &self.rows {
            for f in Factor::ALL {
                let m = r.mark(f);
                if m.status == Status::OffTrack {
                    groups
                        .entry((r.school_id.as_str(), f))
                        .or_default()
                        .push((r.student_id.clone(), m.summary.clone()));
                }
            }
        }
        groups
            .into_iter()
            .map(|((school, factor), students)| OffTrackGroup {
                school_id: school.to_string(),
                factor,
                students,
            })
            .collect()
    }

    /// What changed since `previous` (an earlier meeting's snapshot), per student and factor.
    pub fn changes_since(&self, previous: &Snapshot) -> Changes {
        let before: HashMap<&str, &SnapshotRow> = previous
            .rows
            .iter()
            .map(|r| (r.student_id.as_str(), r))
            .collect();
        let now: HashMap<&str, &SnapshotRow> = self
            .rows
            .iter()
            .map(|r| (r.student_id.as_str(), r))
            .collect();
        let mut c = Changes {
            since: previous.as_of.clone(),
            ..Changes::default()
        };
        for r in &self.rows {
            for f in Factor::ALL {
                let m = r.mark(f);
                let was = before.get(r.student_id.as_str()).map(|p| p.mark(f).status);
                let change = |summary: &str| Change {
                    student_id: r.student_id.clone(),
                    school_id: r.school_id.clone(),
                    factor: f,
                    was,
                    now: Some(m.status),
                    summary: summary.to_string(),
                };
                match (was, m.status) {
                    (Some(Status::OffTrack), Status::OffTrack) => c.still_off_track += 1,
                    (_, Status::OffTrack) => c.newly_off_track.push(change(&m.summary)),
                    (Some(Status::OffTrack), Status::OnTrack) => {
                        c.back_on_track.push(change(&m.summary))
                    }
                    (Some(Status::OffTrack), Status::NotJudged) => {
                        c.no_longer_judged.push(change(&m.summary))
                    }
                    _ => {}
                }
            }
        }
        for p in &previous.rows {
            if now.contains_key(p.student_id.as_str()) {
                continue;
            }
            for f in Factor::ALL {
                if p.mark(f).status == Status::OffTrack {
                    c.no_longer_judged.push(Change {
                        student_id: p.student_id.clone(),
                        school_id: p.school_id.clone(),
                        factor: f,
                        was: Some(Status::OffTrack),
                        now: None,
                        summary: "no longer in the contract's enrollments".to_string(),
                    });
                }
            }
        }
        let order = |a: &Change, b: &Change| {
            (&a.school_id, a.factor, &a.student_id).cmp(&(&b.school_id, b.factor, &b.student_id))
        };
        c.newly_off_track.sort_by(order);
        c.back_on_track.sort_by(order);
        c.no_longer_judged.sort_by(order);
        c
    }

    /// Keeps only the students `visible` accepts (a provider's view).
    pub fn retain_students(&mut self, visible: impl Fn(&str) -> bool) {
        self.rows.retain(|r| visible(&r.student_id));
    }
}

impl Changes {
    /// Keeps only the students `visible` accepts.
    pub fn retain_students(&mut self, visible: impl Fn(&str) -> bool) {
        self.newly_off_track.retain(|c| visible(&c.student_id));
        self.back_on_track.retain(|c| visible(&c.student_id));
        self.no_longer_judged.retain(|c| visible(&c.student_id));
    }
}

// ---------------------------------------------------------------------------------------------
// Meeting cadence
// ---------------------------------------------------------------------------------------------

/// A stretch without a meeting longer than the cadence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The previous meeting, or the period start.
    pub from: String,
    /// The next meeting, or the as-of date (or the period end) for a gap still open.
    pub to: String,
    pub days: i64,
    /// Meetings that were due in the gap and not held: due every `cadence` days after `from`,
    /// strictly before `to`.
    pub missed: u32,
}

/// The meeting cadence of a contract checked at a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cadence {
    pub every_days: u32,
    /// When meetings start being due: the first enrollment's start (or the period's start).
    pub starts: String,
    pub as_of: String,
    pub last_meeting: Option<String>,
    /// When the next meeting is due (none after the period's end).
    pub next_due: Option<String>,
    /// A meeting was due before the as-of date and none has been held since.
    pub overdue: bool,
    pub missed: Vec<Gap>,
}

impl Cadence {
    pub fn missed_meetings(&self) -> u32 {
        self.missed.iter().map(|g| g.missed).sum()
    }
}

/// Checks the cadence at `as_of`: meetings are due every `every_days` days from the start of
/// the program (the first enrollment's start, `program_start`, or the period's start if later)
/// until the period's end; a meeting `every_days` days after the previous one is on time.
/// Meetings dated outside the period or after `as_of` are ignored.
pub fn cadence(
    contract: &Contract,
    program_start: Option<Date>,
    meetings: &[Date],
    as_of: Date,
    every_days: u32,
) -> Cadence {
    let period = contract.period;
    let start = program_start.map_or(period.start, |s| s.max(period.start));
    let n = i64::from(every_days.max(1));
    let mut dates: Vec<Date> = meetings
        .iter()
        .copied()
        .filter(|d| *d >= period.start && *d <= period.end && *d <= as_of)
        .collect();
    dates.sort();
    dates.dedup();
    let mut out = Cadence {
        every_days,
        starts: start.to_string(),
        as_of: as_of.to_string(),
        last_meeting: dates.last().map(|d| d.to_string()),
        next_due: None,
        overdue: false,
        missed: Vec::new(),
    };
    let gap = |from: Date, to: Date| {
        let days = (to - from).whole_days();
        (days > n).then(|| Gap {
            from: from.to_string(),
            to: to.to_string(),
            days,
            missed: ((days - 1) / n) as u32,
        })
    };
    // A meeting before the program starts counts as held at its start.
    let mut previous = start;
    for d in &dates {
        if *d > previous {
            out.missed.extend(gap(previous, *d));
            previous = *d;
        }
    }
    let end = as_of.min(period.end);
    if end > previous {
        if let Some(g) = gap(previous, end) {
            out.overdue = as_of <= period.end;
            out.missed.push(g);
        }
    }
    let due = previous + time::Duration::days(n);
    if due <= period.end {
        out.next_due = Some(due.to_string());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Meeting records
// ---------------------------------------------------------------------------------------------

/// Who an action item is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    District,
    Provider,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::District => "district",
            Owner::Provider => "provider",
        }
    }

    pub fn parse(text: &str) -> Option<Owner> {
        match text {
            "district" => Some(Owner::District),
            "provider" => Some(Owner::Provider),
            _ => None,
        }
    }
}

/// The organisation a meeting attendee speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    District,
    Provider,
    Intermediary,
    Other,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::District => "district",
            Side::Provider => "provider",
            Side::Intermediary => "intermediary",
            Side::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Side> {
        [
            Side::District,
            Side::Provider,
            Side::Intermediary,
            Side::Other,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// An action item's state: open until closed as done or dropped (it may be reopened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    Done,
    Dropped,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::Done => "done",
            ActionStatus::Dropped => "dropped",
        }
    }

    pub fn parse(text: &str) -> Option<ActionStatus> {
        [
            ActionStatus::Open,
            ActionStatus::Done,
            ActionStatus::Dropped,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A continuous-improvement meeting of a contract (its snapshot is kept apart: it is large).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meeting {
    pub id: i64,
    pub contract_id: String,
    pub contract_version: u32,
    /// The meeting's date; its snapshot is the progress as of this date.
    pub held_on: String,
    pub opened_at: String,
    pub opened_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attendee {
    pub id: i64,
    pub name: String,
    pub side: Side,
    pub added_at: String,
    pub added_by: String,
}

/// One version of a meeting note. An edit is a new version naming the one it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingNote {
    pub id: i64,
    pub meeting_id: i64,
    /// The version this one replaces (`None` for a first version).
    pub replaces: Option<i64>,
    /// 1 for a first version, 2 for its first edit...
    pub version: u32,
    /// `None`: a note about the meeting as a whole.
    pub student_id: Option<String>,
    pub text: String,
    /// Hidden from the provider (and auditors).
    pub district_only: bool,
    pub author: String,
    pub written_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionItem {
    pub id: i64,
    /// The meeting that opened the item.
    pub meeting_id: i64,
    pub contract_id: String,
    pub student_id: Option<String>,
    pub text: String,
    pub owner: Owner,
    pub due_on: String,
    pub created_at: String,
    pub created_by: String,
    /// The latest status change (`open` when never changed).
    pub status: ActionStatus,
    pub status_at: Option<String>,
    pub status_by: Option<String>,
    pub status_note: Option<String>,
}

impl ActionItem {
    /// Open and due strictly before `date` (ISO).
    pub fn overdue_on(&self, date: &str) -> bool {
        self.status == ActionStatus::Open && self.due_on.as_str() < date
    }
}

/// A meeting as one viewer may see it: the agenda it was opened with and what was recorded.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    pub meeting: Meeting,
    /// The viewer this view was filtered for (`intermediary`, `district`, `provider`, `auditor`).
    pub viewer: String,
    pub snapshot: Snapshot,
    /// Off-track students by school and factor, from the snapshot.
    pub off_track: Vec<OffTrackGroup>,
    /// The previous meeting of the contract (by date), if any.
    pub previous_meeting: Option<i64>,
    /// Changes since the previous meeting; `None` at a contract's first meeting.
    pub changes: Option<Changes>,
    /// The cadence checked at the meeting's date.
    pub cadence: Cadence,
    pub attendees: Vec<Attendee>,
    /// The current version of each note.
    pub notes: Vec<MeetingNote>,
    /// Items open when the meeting was opened (with their status now).
    pub carried_items: Vec<ActionItem>,
    /// Items this meeting opened.
    pub new_items: Vec<ActionItem>,
}

// ---------------------------------------------------------------------------------------------
// Weekly teacher updates
// ---------------------------------------------------------------------------------------------

/// The Monday of the week of `date` (weeks run Monday to Sunday).
pub fn week_start(date: Date) -> Date {
    date - time::Duration::days(i64::from(date.weekday().number_days_from_monday()))
}

/// One student's week, for the student's teachers.
#[derive(Debug, Clone, Serialize)]
pub struct TeacherUpdate {
    pub student_id: String,
    pub first_name: String,
    pub last_name: String,
    pub school_id: String,
    pub grade: Option<String>,
    /// Counted sessions dated in the week, by status.
    pub sessions_this_week: u32,
    pub attended_this_week: u32,
    pub student_absent_this_week: u32,
    pub district_cancelled_this_week: u32,
    pub provider_cancelled_this_week: u32,
    pub minutes_this_week: u64,
    /// Through the week's Sunday.
    pub attended_to_date: u32,
    pub offered_to_date: u32,
    #[serde(serialize_with = "ratio4")]
    pub attendance_rate_to_date: Option<Ratio>,
    pub baseline_term: String,
    pub baseline: Option<Decimal>,
    /// The latest valid score after the baseline (through the week's Sunday).
    pub latest_term: Option<String>,
    pub latest: Option<Decimal>,
    pub summary: String,
}

/// The teacher updates of one week.
#[derive(Debug, Clone, Serialize)]
pub struct TeacherWeek {
    pub contract_id: String,
    pub subject: String,
    pub week_start: String,
    pub week_end: String,
    /// Students enrolled at some day of the week, by school then student id.
    pub updates: Vec<TeacherUpdate>,
}

/// Computes the week's update of every student enrolled during the week of `week` (any day of
/// it). `req.as_of` is ignored: figures "to date" run through the week's Sunday; "this week" is
/// the difference between the engine's counts at Sunday and at the Sunday before.
pub fn teacher_updates(req: ProgressRequest<'_>, week: Date) -> Result<TeacherWeek, EngineError> {
    let start = week_start(week);
    let end = start + time::Duration::days(6);
    let contract = req.contract;
    let names: HashMap<String, (String, String)> = req
        .students
        .iter()
        .map(|s| {
            (
                s.student.id.clone(),
                (s.student.first_name.clone(), s.student.last_name.clone()),
            )
        })
        .collect();
    let before = engine::compute(StatementRequest {
        contract,
        contract_version: req.contract_version,
        contract_hash: req.contract_hash.clone(),
        milestone: &contingent_milestone(contract).name,
        as_of: Some(start - time::Duration::days(1)),
        students: Cow::Borrowed(&req.students),
        prior: req.prior.clone(),
    })?;
    let before: HashMap<&str, &Line> = before
        .lines
        .iter()
        .map(|l| (l.student_id.as_str(), l))
        .collect();
    let progress = compute(ProgressRequest { as_of: end, ..req })?;
    let (start_text, end_text) = (start.to_string(), end.to_string());
    let mut updates: Vec<TeacherUpdate> = progress
        .students
        .iter()
        .filter(|p| {
            p.enrollment_start <= end_text
                && p.enrollment_end
                    .as_deref()
                    .is_none_or(|e| e >= start_text.as_str())
        })
        .map(|p| {
            let b = before.get(p.student_id.as_str());
            let diff = |now: u32, f: fn(&Line) -> u32| now - b.map_or(0, |l| f(l));
            let (first, last) = names.get(&p.student_id).cloned().unwrap_or_default();
            let offered = p.attended + p.student_absent;
            let mut u = TeacherUpdate {
                student_id: p.student_id.clone(),
                first_name: first,
                last_name: last,
                school_id: p.school_id.clone(),
                grade: p.grade.clone(),
                sessions_this_week: diff(p.planned, |l| l.planned),
                attended_this_week: diff(p.attended, |l| l.attended),
                student_absent_this_week: diff(p.student_absent, |l| l.student_absent),
                district_cancelled_this_week: diff(p.district_cancelled, |l| l.district_cancelled),
                provider_cancelled_this_week: diff(p.provider_cancelled, |l| l.provider_cancelled),
                minutes_this_week: p.minutes - b.map_or(0, |l| l.minutes),
                attended_to_date: p.attended,
                offered_to_date: offered,
                attendance_rate_to_date: Ratio::new(p.attended, offered),
                baseline_term: p.scores.baseline_term.clone(),
                baseline: p.scores.baseline,
                latest_term: p.scores.latest_term.clone(),
                latest: p.scores.latest,
                summary: String::new(),
            };
            u.summary = teacher_summary(&u);
            u
        })
        .collect();
    updates.sort_by(|a, b| (&a.school_id, &a.student_id).cmp(&(&b.school_id, &b.student_id)));
    Ok(TeacherWeek {
        contract_id: contract.id.clone(),
        subject: contract.subject.clone(),
        week_start: start_text,
        week_end: end_text,
        updates,
    })
}

fn percent(r: Ratio) -> String {
    let mut d = r.round(3) * Decimal::ONE_HUNDRED;
    d.rescale(1);
    format!("{d}%")
}

fn teacher_summary(u: &TeacherUpdate) -> String {
    let week = if u.sessions_this_week == 0 {
        "No session planned this week.".to_string()
    } else {
        let mut missed = Vec::new();
        for (n, what) in [
            (u.student_absent_this_week, "absent"),
            (u.district_cancelled_this_week, "cancelled by the school"),
            (u.provider_cancelled_this_week, "cancelled by the provider"),
        ] {
            if n > 0 {
                missed.push(format!("{n} {what}"));
            }
        }
        let missed = if missed.is_empty() {
            String::new()
        } else {
            format!(" ({})", missed.join(", "))
        };
        format!(
            "This week: attended {} of {} sessions{missed}, {} minutes.",
            u.attended_this_week, u.sessions_this_week, u.minutes_this_week
        )
    };
    let to_date = match u.attendance_rate_to_date {
        Some(r) => format!(
            " Attendance to date: {} of {} offered sessions ({}).",
            u.attended_to_date,
            u.offered_to_date,
            percent(r)
        ),
        None => " Attendance to date: no offered session yet.".to_string(),
    };
    let score = match (&u.latest_term, u.latest, u.baseline) {
        (Some(term), Some(latest), Some(base)) => format!(
            " Latest score: {latest} ({term}), from {base} ({}).",
            u.baseline_term
        ),
        (Some(term), Some(latest), None) => format!(" Latest score: {latest} ({term})."),
        (_, _, Some(base)) => format!(" Latest score: {base} ({}).", u.baseline_term),
        _ => " No score yet.".to_string(),
    };
    format!("{week}{to_date}{score}")
}

/// The CSV columns of [`TeacherWeek::to_csv`].
pub const TEACHER_CSV_COLUMNS: [&str; 21] = [
    "student_id",
    "first_name",
    "last_name",
    "school_id",
    "grade",
    "week_start",
    "week_end",
    "sessions_this_week",
    "attended_this_week",
    "student_absent_this_week",
    "district_cancelled_this_week",
    "provider_cancelled_this_week",
    "minutes_this_week",
    "attended_to_date",
    "offered_to_date",
    "attendance_rate_to_date",
    "baseline_term",
    "baseline",
    "latest_term",
    "latest",
    "summary",
];

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl TeacherWeek {
    /// One row per student, by school then student id.
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(TEACHER_CSV_COLUMNS)
            .expect("writing to memory");
        for u in &self.updates {
            w.write_record([
                text(&u.student_id),
                text(&u.first_name),
                text(&u.last_name),
                text(&u.school_id),
                text(u.grade.clone().unwrap_or_default()),
                self.week_start.clone(),
                self.week_end.clone(),
                u.sessions_this_week.to_string(),
                u.attended_this_week.to_string(),
                u.student_absent_this_week.to_string(),
                u.district_cancelled_this_week.to_string(),
                u.provider_cancelled_this_week.to_string(),
                u.minutes_this_week.to_string(),
                u.attended_to_date.to_string(),
                u.offered_to_date.to_string(),
                opt_ratio(u.attendance_rate_to_date),
                text(&u.baseline_term),
                u.baseline.map(|d| d.to_string()).unwrap_or_default(),
                text(u.latest_term.clone().unwrap_or_default()),
                u.latest.map(|d| d.to_string()).unwrap_or_default(),
                text(&u.summary),
            ])
            .expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }

    /// A printable HTML page: one short card per student, each school on its own page.
    pub fn to_html(&self) -> String {
        let mut s = String::new();
        let title = format!(
            "Tutoring: week of {} to {} ({})",
            self.week_start, self.week_end, self.contract_id
        );
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
body {{ font-family: Georgia, serif; margin: 2em; color: #111; }}\n\
h1 {{ font-size: 1.3em; }}\n\
h2 {{ font-size: 1.1em; border-bottom: 1px solid #999; break-before: page; }}\n\
h2:first-of-type {{ break-before: auto; }}\n\
.card {{ border: 1px solid #bbb; padding: 0.5em 0.8em; margin: 0.5em 0; break-inside: avoid; }}\n\
.name {{ font-weight: bold; }}\n\
.meta {{ color: #555; font-size: 0.9em; }}\n\
@media print {{ body {{ margin: 0; }} }}\n\
</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"meta\">{} tutoring, one summary per student. Attendance counts offered sessions (attended or absent); sessions the school or the provider cancelled are not held against the student.</p>\n",
            html_escape(&title),
            html_escape(&title),
            html_escape(&self.subject)
        );
        let mut school: Option<&str> = None;
        for u in &self.updates {
            if school != Some(u.school_id.as_str()) {
                school = Some(u.school_id.as_str());
                let _ = writeln!(s, "<h2>School {}</h2>", html_escape(&u.school_id));
            }
            let _ = writeln!(
                s,
                "<div class=\"card\"><div class=\"name\">{} {}</div><div class=\"meta\">student {}, grade {}</div><p>{}</p></div>",
                html_escape(&u.first_name),
                html_escape(&u.last_name),
                html_escape(&u.student_id),
                html_escape(u.grade.as_deref().unwrap_or("-")),
                html_escape(&u.summary)
            );
        }
        if self.updates.is_empty() {
            s.push_str("<p>No student was enrolled during this week.</p>\n");
        }
        s.push_str("</body>\n</html>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    //! Hand-computed cases. The contract is the SPEC's example (`tests/contract_example.toml`)
    //! without its school adjustment: C = 1200.00 x 0.40 = 480.00; min_rate 0.70,
    //! min_offered 20, responsible = district, min_same_tutor_rate 0.80,
    //! max_provider_cancel_rate 0.10, Fall -> Spring growth_vs_projected, projection table
    //! grade 6 = 7.7, tiers exceeds 1.50 (1.25), meets 1.00 (1.00), approaching 0.50 (0.50),
    //! below (0.00); the target tier is `meets` (the lowest paying 100%).
    use super::*;
    use crate::model::SessionStatus;
    use SessionStatus::{Attended, DistrictCancelled, ProviderCancelled, StudentAbsent};

    use crate::test_kit::{contract, day, dec, kid, Kid};

    /// What progress's cases add to the shared student builder.
    trait Interim {
        fn on(self, date: &str, status: SessionStatus, tutor: &str, minutes: u32) -> Kid;
        fn many(self, n: u32, status: SessionStatus, tutor: &str) -> Kid;
        fn map_test(self, term: &str, date: &str, score: &str, growth: &[(Window, &str)]) -> Kid;
        fn rapid(self, pct: &str) -> Kid;
    }

    impl Interim for Kid {
        fn on(self, date: &str, status: SessionStatus, tutor: &str, minutes: u32) -> Kid {
            self.session(date, status, tutor, minutes)
        }

        /// `n` sessions on consecutive days; only attended ones have minutes.
        fn many(self, n: u32, status: SessionStatus, tutor: &str) -> Kid {
            let minutes = if status == Attended { 30 } else { 0 };
            self.sessions_of(n, status, tutor, minutes)
        }

        /// A MAP row of the contract's subject; `growth` sets projected growth by window.
        fn map_test(self, term: &str, date: &str, score: &str, growth: &[(Window, &str)]) -> Kid {
            let mut t = crate::test_kit::row(term, date, score);
            for (w, p) in growth {
                t.growth[*w as usize].projected = Some(dec(p));
            }
            self.test(t)
        }

        fn rapid(mut self, pct: &str) -> Kid {
            self.input.tests.last_mut().unwrap().rapid_guessing_pct = Some(dec(pct));
            self
        }
    }

    use Window::{FallToSpring as FS, FallToWinter as FW};

    fn progress(contract: &Contract, as_of: &str, kids: Vec<Kid>) -> Progress {
        compute(ProgressRequest {
            contract,
            contract_version: 1,
            contract_hash: "test".into(),
            as_of: day(as_of),
            students: kids.into_iter().map(|k| k.input).collect(),
            prior: PriorPayments::default(),
        })
        .unwrap()
    }

    fn student<'p>(p: &'p Progress, id: &str) -> &'p StudentProgress {
        p.students.iter().find(|s| s.student_id == id).unwrap()
    }

    fn figure(f: &FactorProgress, name: &str) -> Option<String> {
        f.check(name).unwrap().figure.map(|r| r.display4())
    }

    #[test]
    fn attendance_and_availability_to_date_against_min_rate() {
        let k = contract(&[]);
        let p = progress(
            &k,
            "2024-12-01",
            vec![
                // 7 of 10 offered = 0.70: equal to the threshold passes.
                kid("a1")
                    .many(7, Attended, "t1")
                    .many(3, StudentAbsent, "t1"),
                // 6 of 10 = 0.60 < 0.70.
                kid("a2")
                    .many(6, Attended, "t1")
                    .many(4, StudentAbsent, "t1"),
                // No session: both rates undefined.
                kid("a3"),
                // 6 of 6 offered = 1.00, but available for 6 of 10 planned = 0.60 < 0.70.
                kid("a4")
                    .many(6, Attended, "t1")
                    .many(4, DistrictCancelled, "t1"),
            ],
        );
        let a1 = &student(&p, "a1").attendance;
        assert_eq!(a1.status, Status::OnTrack);
        assert_eq!(figure(a1, "attendance_rate").as_deref(), Some("0.7000"));
        assert_eq!(
            a1.summary,
            "attendance_rate 0.7000 >= 0.70 (attended 7 of 10 offered sessions; fewer than min_offered 20 so far: a statement today would not judge attendance); \
             availability_rate 1.0000 >= 0.70 (the school made the student available for 10 of 10 planned sessions)"
        );
        let a2 = &student(&p, "a2").attendance;
        assert_eq!(a2.status, Status::OffTrack);
        assert_eq!(
            a2.summary,
            "attendance_rate 0.6000 < 0.70 (attended 6 of 10 offered sessions; fewer than min_offered 20 so far: a statement today would not judge attendance)"
        );
        assert_eq!(a2.checks[0].answers, "district");
        let a3 = &student(&p, "a3").attendance;
        assert_eq!(a3.status, Status::NotJudged);
        assert_eq!(
            a3.summary,
            "attendance_rate not judged: no offered session yet; availability_rate not judged: no planned session yet"
        );
        let a4 = &student(&p, "a4").attendance;
        assert_eq!(a4.status, Status::OffTrack);
        assert_eq!(figure(a4, "attendance_rate").as_deref(), Some("1.0000"));
        assert_eq!(
            a4.summary,
            "availability_rate 0.6000 < 0.70 (the school made the student available for 6 of 10 planned sessions)"
        );
        assert_eq!(a4.checks[1].answers, "district");
        // By factor: off a2, a4; on a1; not judged a3.
        assert_eq!(
            p.totals.attendance,
            FactorCounts {
                on_track: 1,
                off_track: 2,
                not_judged: 1
            }
        );
    }

    #[test]
    fn same_tutor_and_provider_cancel_rates_to_date() {
        let k = contract(&[]);
        let p = progress(
            &k,
            "2024-12-01",
            vec![
                // Same tutor 4 of 5 = 0.80: passes.
                kid("p1").many(4, Attended, "t1").many(1, Attended, "t2"),
                // 3 of 5 = 0.60 < 0.80.
                kid("p2").many(3, Attended, "t1").many(2, Attended, "t2"),
                // Cancelled 1 of 10 planned = 0.10: passes (at most).
                kid("p3")
                    .many(9, Attended, "t1")
                    .many(1, ProviderCancelled, "t1"),
                // 2 of 10 = 0.20 > 0.10.
                kid("p4")
                    .many(8, Attended, "t1")
                    .many(2, ProviderCancelled, "t1"),
            ],
        );
        let d = |id: &str| student(&p, id).provider_duties.clone();
        assert_eq!(d("p1").status, Status::OnTrack);
        assert_eq!(
            figure(&d("p1"), "same_tutor_rate").as_deref(),
            Some("0.8000")
        );
        assert_eq!(d("p2").status, Status::OffTrack);
        assert_eq!(
            d("p2").summary,
            "same_tutor_rate 0.6000 < 0.80 (of 5 attended sessions)"
        );
        assert_eq!(d("p3").status, Status::OnTrack);
        assert_eq!(
            figure(&d("p3"), "provider_cancel_rate").as_deref(),
            Some("0.1000")
        );
        assert_eq!(d("p4").status, Status::OffTrack);
        assert_eq!(
            d("p4").summary,
            "provider_cancel_rate 0.2000 > 0.10 (provider cancelled 2 of 10 planned sessions)"
        );
        assert_eq!(d("p4").checks[1].comparison, "<=");
    }

    #[test]
    fn outcome_is_projected_from_the_winter_score_against_fall_to_winter_growth() {
        let k = contract(&[]);
        let p = progress(
            &k,
            "2025-02-01",
            vec![
                // Fall 200, projected Fall->Winter 4; Winter 205: 5 / 4 = 1.25 >= 1.00.
                kid("o1")
                    .map_test("Fall", "2024-09-05", "200", &[(FW, "4"), (FS, "8")])
                    .map_test("Winter", "2025-01-15", "205", &[]),
                // Winter 203: 3 / 4 = 0.75 < 1.00.
                kid("o2")
                    .map_test("Fall", "2024-09-05", "200", &[(FW, "4")])
                    .map_test("Winter", "2025-01-15", "203", &[]),
                // No Fall->Winter projection in the file: the contract's table (grade 6 =
                // 7.7, written for Fall->Spring) is not used for the interim window.
                kid("o3")
                    .map_test("Fall", "2024-09-05", "200", &[(FS, "8")])
                    .map_test("Winter", "2025-01-15", "210", &[]),
                // Only the baseline.
                kid("o4").map_test("Fall", "2024-09-05", "200", &[(FW, "4")]),
                // No baseline.
                kid("o5").map_test("Winter", "2025-01-15", "205", &[(FW, "4")]),
                // The Winter test is after the as-of date: ignored.
                kid("o6")
                    .map_test("Fall", "2024-09-05", "200", &[(FW, "4")])
                    .map_test("Winter", "2025-02-10", "203", &[]),
                // Projection from the Winter row when the Fall row has none: 6 / 4 = 1.50.
                kid("o7")
                    .map_test("Fall", "2024-09-05", "200", &[])
                    .map_test("Winter", "2025-01-15", "206", &[(FW, "4")]),
                // The later Winter test has 30% rapid guessing (= max 0.30): invalid, the
                // earlier valid one counts: 4 / 4 = 1.00, equal to the target passes.
                kid("o8")
                    .map_test("Fall", "2024-09-05", "200", &[(FW, "4")])
                    .map_test("Winter", "2025-01-10", "204", &[])
                    .map_test("Winter", "2025-01-20", "210", &[])
                    .rapid("30"),
            ],
        );
        let o = |id: &str| student(&p, id);
        assert_eq!(o("o1").outcome.status, Status::OnTrack);
        assert_eq!(o("o1").scores.window.as_deref(), Some("FallToWinter"));
        assert!(o("o1").scores.interim);
        assert_eq!(
            o("o1").scores.latest_term.as_deref(),
            Some("Winter 2024-2025")
        );
        assert_eq!(
            o("o1").outcome.summary,
            "growth_vs_projected 1.2500 >= 1.00 (Fall 200 -> Winter 205: grew 5 of 4 projected (FallToWinter))"
        );
        assert_eq!(o("o2").outcome.status, Status::OffTrack);
        assert_eq!(
            o("o2").outcome.summary,
            "growth_vs_projected 0.7500 < 1.00 (Fall 200 -> Winter 203: grew 3 of 4 projected (FallToWinter))"
        );
        assert_eq!(o("o3").outcome.status, Status::NotJudged);
        assert_eq!(
            o("o3").outcome.summary,
            "growth_vs_projected not judged: Fall 200 -> Winter 210: no FallToWinterProjectedGrowth in the file (the contract's [outcome.projected] is for FallToSpring only)"
        );
        assert_eq!(o("o4").outcome.status, Status::NotJudged);
        assert_eq!(
            o("o4").outcome.summary,
            "growth_vs_projected not judged: no valid score after the Fall baseline yet"
        );
        assert_eq!(o("o5").outcome.status, Status::NotJudged);
        assert!(o("o5")
            .outcome
            .summary
            .starts_with("growth_vs_projected not judged: no valid Fall score"));
        assert_eq!(o("o6").outcome.status, Status::NotJudged);
        assert_eq!(o("o6").scores.latest, None);
        assert_eq!(o("o7").outcome.status, Status::OnTrack);
        assert_eq!(
            o("o7").scores.measure.map(|m| m.display4()).as_deref(),
            Some("1.5000")
        );
        assert_eq!(o("o8").outcome.status, Status::OnTrack);
        assert_eq!(o("o8").scores.latest, Some(dec("204")));
        assert_eq!(
            o("o8").notes,
            vec!["Winter test of 2025-01-20 invalid: rapid guessing 30% >= 30%".to_string()]
        );
        assert_eq!(
            p.totals.outcome,
            FactorCounts {
                on_track: 3,
                off_track: 1,
                not_judged: 4
            }
        );
    }

    #[test]
    fn once_the_outcome_term_has_a_score_the_contract_window_is_judged() {
        let k = contract(&[]);
        let make = || {
            kid("f1")
                .map_test("Fall", "2024-09-05", "200", &[(FW, "4"), (FS, "8")])
                .map_test("Winter", "2025-01-15", "201", &[])
                .map_test("Spring", "2025-05-01", "210", &[])
        };
        // Spring: 10 / 8 = 1.25 over Fall->Spring.
        let p = progress(&k, "2025-05-15", vec![make()]);
        let s = student(&p, "f1");
        assert_eq!(s.outcome.status, Status::OnTrack);
        assert_eq!(s.scores.window.as_deref(), Some("FallToSpring"));
        assert!(!s.scores.interim);
        assert_eq!(
            s.scores.measure.map(|m| m.display4()).as_deref(),
            Some("1.2500")
        );
        // Before the Spring test: Winter 1 / 4 = 0.25 over Fall->Winter.
        let p = progress(&k, "2025-03-01", vec![make()]);
        let s = student(&p, "f1");
        assert_eq!(s.outcome.status, Status::OffTrack);
        assert_eq!(s.scores.window.as_deref(), Some("FallToWinter"));
        assert_eq!(
            s.scores.measure.map(|m| m.display4()).as_deref(),
            Some("0.2500")
        );
    }

    #[test]
    fn a_fall_to_winter_contract_has_no_interim_and_uses_its_projection_table() {
        let k = contract(&[("to_term = \"Spring\"", "to_term = \"Winter\"")]);
        // No projection in the file: the table's grade 6 = 7.7 applies to the contract's own
        // window: 10 / 7.7 = 1.2987 >= 1.00.
        let p = progress(
            &k,
            "2025-02-01",
            vec![kid("w1")
                .map_test("Fall", "2024-09-05", "200", &[])
                .map_test("Winter", "2025-01-15", "210", &[])],
        );
        let s = student(&p, "w1");
        assert_eq!(s.outcome.status, Status::OnTrack);
        assert!(!s.scores.interim);
        assert_eq!(s.scores.projected_growth, Some(dec("7.7")));
        assert_eq!(
            s.scores.measure.map(|m| m.display4()).as_deref(),
            Some("1.2987")
        );
    }

    #[test]
    fn unscaled_measures_are_not_judged_on_an_interim_window() {
        let k = contract(&[(
            "measure = \"growth_vs_projected\"",
            "measure = \"rit_gain\"",
        )]);
        let make = || {
            kid("r1")
                .map_test("Fall", "2024-09-05", "200", &[])
                .map_test("Winter", "2025-01-15", "205", &[])
                .map_test("Spring", "2025-05-01", "210", &[])
        };
        let p = progress(&k, "2025-02-01", vec![make()]);
        let s = student(&p, "r1");
        assert_eq!(s.outcome.status, Status::NotJudged);
        // The figure is still shown.
        assert_eq!(
            s.scores.measure.map(|m| m.display4()).as_deref(),
            Some("5.0000")
        );
        assert!(s
            .outcome
            .summary
            .contains("rit_gain over FallToWinter is not comparable"));
        // With the Spring score: 10 points >= the meets tier's 1.00.
        let p = progress(&k, "2025-05-15", vec![make()]);
        assert_eq!(student(&p, "r1").outcome.status, Status::OnTrack);
    }

    /// 20 attended sessions with one tutor, Fall 200 projected 10 over Fall->Spring, Spring
    /// 200 + growth.
    fn judged(id: &str, school: &str, spring: &str) -> Kid {
        kid(id)
            .school(school)
            .many(20, Attended, "t1")
            .map_test("Fall", "2024-09-05", "200", &[(FS, "10")])
            .map_test("Spring", "2025-05-01", spring, &[])
    }

    #[test]
    fn the_amount_at_risk_is_the_contingent_statement_as_of_today() {
        let k = contract(&[]);
        let p = progress(
            &k,
            "2025-05-15",
            vec![
                // 12 / 10 = 1.20: meets, pays 480.00, nothing at risk.
                judged("m1", "sch-1", "212"),
                // 7 / 10 = 0.70: approaching, pays 240.00, 240.00 at risk.
                judged("m2", "sch-1", "207"),
                // 16 / 10 = 1.60: exceeds, pays 600.00; at risk is never negative: 0.00.
                judged("m3", "sch-2", "216"),
                // 5 offered < min_offered 20: excluded, 480.00 at risk.
                kid("m4")
                    .school("sch-2")
                    .many(5, Attended, "t1")
                    .map_test("Fall", "2024-09-05", "200", &[(FS, "10")])
                    .map_test("Spring", "2025-05-01", "212", &[]),
                // 13 of 20 offered = 0.65 < 0.70, the district answers: district_fault pays
                // 480.00; nothing at risk for the provider.
                kid("m5")
                    .school("sch-2")
                    .many(13, Attended, "t1")
                    .many(7, StudentAbsent, "t1")
                    .map_test("Fall", "2024-09-05", "200", &[(FS, "10")])
                    .map_test("Spring", "2025-05-01", "212", &[]),
            ],
        );
        let risk = |id: &str| {
            let s = student(&p, id);
            (
                s.rule_today.as_str(),
                format_cents(s.contingent_today),
                format_cents(s.at_risk),
            )
        };
        assert_eq!(risk("m1"), ("tier:meets", "480.00".into(), "0.00".into()));
        assert_eq!(
            risk("m2"),
            ("tier:approaching", "240.00".into(), "240.00".into())
        );
        assert_eq!(risk("m3"), ("tier:exceeds", "600.00".into(), "0.00".into()));
        assert_eq!(risk("m4"), ("excluded", "0.00".into(), "480.00".into()));
        assert_eq!(
            risk("m5"),
            ("district_fault", "480.00".into(), "0.00".into())
        );
        assert_eq!(student(&p, "m5").attendance.status, Status::OffTrack);
        // Totals: full 5 x 480.00 = 2400.00; today 480 + 240 + 600 + 0 + 480 = 1800.00;
        // at risk 240 + 480 = 720.00.
        assert_eq!(format_cents(p.totals.full_contingent), "2400.00");
        assert_eq!(format_cents(p.totals.contingent_today), "1800.00");
        assert_eq!(format_cents(p.totals.at_risk), "720.00");
        let schools: Vec<(&str, String, u32)> = p
            .by_school
            .iter()
            .map(|s| {
                (
                    s.school_id.as_str(),
                    format_cents(s.summary.at_risk),
                    s.summary.outcome.off_track,
                )
            })
            .collect();
        // m2 (0.70 < 1.00) is off track on outcome in sch-1; m4..m5 are on track (1.20).
        assert_eq!(
            schools,
            vec![("sch-1", "240.00".into(), 1), ("sch-2", "480.00".into(), 0)]
        );
        assert_eq!(p.rules_today.len(), 5);
        assert_eq!(p.milestone, "final");
        assert_eq!(p.target_tier, "meets");
        assert_eq!(p.target_min, "1.00");
    }

    #[test]
    fn before_the_outcome_term_the_interim_measure_stands_in_for_the_outcome() {
        let k = contract(&[]);
        let p = progress(
            &k,
            "2025-02-03",
            vec![
                // Winter 3 / 4 = 0.75: approaching if it holds, pays 480.00 x 0.50 = 240.00.
                kid("i1")
                    .many(20, Attended, "t1")
                    .map_test("Fall", "2024-09-05", "200", &[(FW, "4")])
                    .map_test("Winter", "2025-01-15", "203", &[]),
                // No Winter score: the statement today decides with outcome.missing_score
                // (district): district_fault, 480.00.
                kid("i2").many(20, Attended, "t1").map_test(
                    "Fall",
                    "2024-09-05",
                    "200",
                    &[(FW, "4")],
                ),
            ],
        );
        let i1 = student(&p, "i1");
        assert_eq!(i1.rule_today, "tier:approaching");
        assert_eq!(i1.projected_from.as_deref(), Some("FallToWinter"));
        assert_eq!(format_cents(i1.contingent_today), "240.00");
        assert_eq!(format_cents(i1.at_risk), "240.00");
        let i2 = student(&p, "i2");
        assert_eq!(i2.rule_today, "district_fault");
        assert_eq!(i2.projected_from, None);
        assert_eq!(format_cents(i2.at_risk), "0.00");
        assert_eq!(format_cents(p.totals.contingent_today), "720.00");
        // Unprojected, both lines miss the Spring score: 2 x 480.00.
        assert_eq!(format_cents(p.statement_today.contingent), "960.00");
        // From the milestone's date (2025-06-30) on, a missing Spring score is final.
        let late = progress(
            &k,
            "2025-06-30",
            vec![kid("i1")
                .many(20, Attended, "t1")
                .map_test("Fall", "2024-09-05", "200", &[(FW, "4")])
                .map_test("Winter", "2025-01-15", "203", &[])],
        );
        assert_eq!(late.students[0].rule_today, "district_fault");
        assert_eq!(late.students[0].projected_from, None);
        assert_eq!(late.students[0].outcome.status, Status::OffTrack);
        assert_eq!(
            p.rules_today,
            vec![
                RuleCount {
                    rule: "district_fault".into(),
                    students: 1,
                    contingent: dec("480.00")
                },
                RuleCount {
                    rule: "tier:approaching".into(),
                    students: 1,
                    contingent: dec("240.00")
                },
            ]
        );
    }

    #[test]
    fn enrollment_state_at_the_as_of_date() {
        let k = contract(&[]);
        let p = progress(
            &k,
            "2024-11-01",
            vec![
                kid("e1"),
                kid("e2").enrolled("2024-12-01", None),
                kid("e3").enrolled("2024-08-12", Some("2024-10-31")),
                kid("e4").enrolled("2024-08-12", Some("2024-11-01")),
            ],
        );
        let e = |id: &str| student(&p, id).enrollment;
        assert_eq!(e("e1"), EnrollmentState::Active);
        assert_eq!(e("e2"), EnrollmentState::NotStarted);
        assert_eq!(e("e3"), EnrollmentState::Ended);
        assert_eq!(e("e4"), EnrollmentState::Active);
        assert_eq!(p.totals.active, 2);
    }

    fn row(id: &str, school: &str, att: Status, duty: Status, out: Status) -> SnapshotRow {
        let m = |s: Status| Mark {
            status: s,
            summary: format!("{id} {}", s.as_str()),
        };
        SnapshotRow {
            student_id: id.into(),
            school_id: school.into(),
            attendance: m(att),
            provider_duties: m(duty),
            outcome: m(out),
            at_risk: Decimal::ZERO,
        }
    }

    #[test]
    fn changes_since_the_previous_meeting_compare_snapshots() {
        use Status::{NotJudged as N, OffTrack as X, OnTrack as O};
        let before = Snapshot {
            as_of: "2024-11-01".into(),
            rows: vec![
                row("s1", "sch-1", X, O, N),
                row("s2", "sch-1", O, X, N),
                row("s3", "sch-2", X, O, O),
                row("s4", "sch-2", X, O, O),
            ],
        };
        let now = Snapshot {
            as_of: "2024-11-15".into(),
            rows: vec![
                // still off on attendance, newly off on outcome
                row("s1", "sch-1", X, O, X),
                // back on track on duties
                row("s2", "sch-1", O, O, N),
                // no longer judged on attendance
                row("s3", "sch-2", N, O, O),
                // s4 left; s5 is new and off on attendance
                row("s5", "sch-2", X, N, N),
            ],
        };
        let c = now.changes_since(&before);
        let ids = |v: &[Change]| {
            v.iter()
                .map(|c| format!("{}:{}", c.student_id, c.factor.as_str()))
                .collect::<Vec<_>>()
        };
        assert_eq!(c.since, "2024-11-01");
        assert_eq!(ids(&c.newly_off_track), ["s1:outcome", "s5:attendance"]);
        assert_eq!(c.newly_off_track[1].was, None);
        assert_eq!(ids(&c.back_on_track), ["s2:provider_duties"]);
        assert_eq!(ids(&c.no_longer_judged), ["s3:attendance", "s4:attendance"]);
        assert_eq!(c.no_longer_judged[1].now, None);
        assert_eq!(c.still_off_track, 1);
        let groups: Vec<(String, Factor, usize)> = now
            .off_track()
            .into_iter()
            .map(|g| (g.school_id, g.factor, g.students.len()))
            .collect();
        assert_eq!(
            groups,
            vec![
                ("sch-1".to_string(), Factor::Attendance, 1),
                ("sch-1".to_string(), Factor::Outcome, 1),
                ("sch-2".to_string(), Factor::Attendance, 1),
            ]
        );
        let mut mine = c.clone();
        mine.retain_students(|s| s != "s5");
        assert_eq!(ids(&mine.newly_off_track), ["s1:outcome"]);
    }

    #[test]
    fn snapshots_round_trip_through_json() {
        let k = contract(&[]);
        let p = progress(&k, "2025-05-15", vec![judged("m1", "sch-1", "207")]);
        let snap = p.snapshot();
        let json = serde_json::to_string(&snap).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snap);
        assert_eq!(back.rows[0].outcome.status, Status::OffTrack);
        assert_eq!(format_cents(back.rows[0].at_risk), "240.00");
    }

    #[test]
    fn the_cadence_flags_missed_and_overdue_meetings() {
        // Period 2024-08-12 .. 2025-05-30, every 14 days, no enrollment before the period.
        let k = contract(&[]);
        let meetings = [day("2024-08-26"), day("2024-09-20")];
        // 08-12 -> 08-26: 14 days, on time. 08-26 -> 09-20: 25 days, one meeting (due 09-09)
        // missed. 09-20 -> 10-10: 20 days, the one due 10-04 missed: overdue.
        let c = cadence(&k, None, &meetings, day("2024-10-10"), 14);
        assert_eq!(c.last_meeting.as_deref(), Some("2024-09-20"));
        assert_eq!(c.next_due.as_deref(), Some("2024-10-04"));
        assert!(c.overdue);
        assert_eq!(
            c.missed,
            vec![
                Gap {
                    from: "2024-08-26".into(),
                    to: "2024-09-20".into(),
                    days: 25,
                    missed: 1
                },
                Gap {
                    from: "2024-09-20".into(),
                    to: "2024-10-10".into(),
                    days: 20,
                    missed: 1
                },
            ]
        );
        assert_eq!(c.missed_meetings(), 2);
        // Exactly 14 days after the last meeting: due today, not overdue.
        let c = cadence(&k, None, &meetings, day("2024-10-04"), 14);
        assert!(!c.overdue);
        assert_eq!(c.missed_meetings(), 1);
        // 43 days without a meeting: due 14, 28, 42 days after: three missed.
        let c = cadence(&k, None, &[], day("2024-09-24"), 14);
        assert_eq!(c.missed[0].days, 43);
        assert_eq!(c.missed_meetings(), 3);
        assert!(c.overdue);
        // Before the period: nothing due yet; meetings after the as-of date are ignored.
        let c = cadence(&k, None, &meetings, day("2024-08-01"), 14);
        assert_eq!(c.missed_meetings(), 0);
        assert_eq!(c.last_meeting, None);
        // After the period's end: the gap runs to the end; not overdue, nothing due.
        let c = cadence(&k, None, &[day("2025-05-20")], day("2025-06-30"), 14);
        assert!(!c.overdue);
        assert_eq!(c.next_due, None);
        assert!(c.missed.iter().all(|g| g.to != "2025-06-30"));
        assert_eq!(meeting_cadence_days(&k), 14);
        // The first student starts 2024-09-16: meetings are due from then on. The meeting of
        // 2024-08-26 counts as held at the start; 09-16 -> 10-10: 24 days, one missed.
        let c = cadence(
            &k,
            Some(day("2024-09-16")),
            &[day("2024-08-26")],
            day("2024-10-10"),
            14,
        );
        assert_eq!(c.starts, "2024-09-16");
        assert_eq!(c.missed_meetings(), 1);
        assert_eq!(c.missed[0].from, "2024-09-16");
        assert_eq!(c.next_due.as_deref(), Some("2024-09-30"));
        // Before the program starts, nothing is due.
        let c = cadence(&k, Some(day("2024-09-16")), &[], day("2024-09-10"), 14);
        assert!(c.missed.is_empty() && !c.overdue);
    }

    #[test]
    fn teacher_updates_count_the_week_and_the_year_to_date() {
        let k = contract(&[]);
        let t1 = kid("t1")
            // Before the week.
            .on("2024-08-30", Attended, "x", 30)
            .on("2024-08-31", StudentAbsent, "x", 0)
            // The week of Monday 2024-09-02 to Sunday 2024-09-08.
            .on("2024-09-02", Attended, "x", 45)
            .on("2024-09-03", StudentAbsent, "x", 0)
            .on("2024-09-06", DistrictCancelled, "x", 0)
            .on("2024-09-08", Attended, "x", 40)
            // After the week.
            .on("2024-09-09", Attended, "x", 30)
            .map_test("Fall", "2024-09-05", "198", &[(FS, "8")]);
        let t2 = kid("t2").school("sch-0");
        // Enrolled after the week: not listed.
        let t3 = kid("t3").enrolled("2024-09-09", None);
        let week = teacher_updates(
            ProgressRequest {
                contract: &k,
                contract_version: 1,
                contract_hash: "test".into(),
                as_of: day("2030-01-01"),
                students: vec![t1.input, t2.input, t3.input],
                prior: PriorPayments::default(),
            },
            day("2024-09-04"),
        )
        .unwrap();
        assert_eq!(week.week_start, "2024-09-02");
        assert_eq!(week.week_end, "2024-09-08");
        let ids: Vec<&str> = week.updates.iter().map(|u| u.student_id.as_str()).collect();
        assert_eq!(ids, ["t2", "t1"], "by school, then id");
        let u = &week.updates[1];
        // This week: 4 sessions, attended 2 (45 + 40 = 85 minutes), 1 absent, 1 cancelled by
        // the school. To date: attended 3 of 5 offered = 60.0%.
        assert_eq!(
            (
                u.sessions_this_week,
                u.attended_this_week,
                u.minutes_this_week
            ),
            (4, 2, 85)
        );
        assert_eq!((u.attended_to_date, u.offered_to_date), (3, 5));
        assert_eq!(
            u.summary,
            "This week: attended 2 of 4 sessions (1 absent, 1 cancelled by the school), 85 minutes. \
             Attendance to date: 3 of 5 offered sessions (60.0%). Latest score: 198 (Fall 2024-2025)."
        );
        assert_eq!(
            week.updates[0].summary,
            "No session planned this week. Attendance to date: no offered session yet. No score yet."
        );
        let csv = week.to_csv();
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.starts_with("student_id,first_name,last_name,school_id,grade,week_start"));
        let html = week.to_html();
        assert!(html.contains("<h2>School sch-0</h2>"));
        assert!(html.contains("Ana Diaz-t1"));
        assert!(html.ends_with("</html>\n"));
        assert_eq!(week_start(day("2024-09-08")), day("2024-09-02"));
        assert_eq!(week_start(day("2024-09-02")), day("2024-09-02"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn progress_and_teacher_csvs_neutralize_formulas_in_text_cells() {
        let k = contract(&[]);
        let kids = || {
            vec![
                // 190 - 200 = -10: a negative number stays a plain number.
                judged("=HYPERLINK(\"http://x\")", "+1+1", "190"),
                judged("@SUM(1+1)", "-2+3", "212"),
            ]
        };
        let p = progress(&k, "2025-05-15", kids());
        let csv = p.to_csv();
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(&rows[0][0], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&rows[0][1], "'+1+1");
        assert_eq!(&rows[0][23], "-10");
        assert_eq!(&rows[1][0], "'@SUM(1+1)");
        assert_eq!(&rows[1][1], "'-2+3");
        assert!(rows.iter().any(|r| &r[0] == "SCHOOL" && &r[1] == "'-2+3"));
        let week = teacher_updates(
            ProgressRequest {
                contract: &k,
                contract_version: 1,
                contract_hash: "test".into(),
                as_of: day("2025-05-15"),
                students: kids().into_iter().map(|k| k.input).collect(),
                prior: PriorPayments::default(),
            },
            day("2024-09-04"),
        )
        .unwrap();
        let csv = week.to_csv();
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .collect();
        let ids: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
        assert_eq!(ids, ["'=HYPERLINK(\"http://x\")", "'@SUM(1+1)"]);
        assert_eq!(&rows[1][3], "'-2+3");
    }

    #[test]
    fn renderings_have_one_row_per_student_and_summaries() {
        let k = contract(&[]);
        let p = progress(
            &k,
            "2025-05-15",
            vec![judged("m1", "sch-1", "212"), judged("m2", "sch-2", "207")],
        );
        let csv = p.to_csv();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(reader.headers().unwrap().len(), CSV_COLUMNS.len());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let keys: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
        assert_eq!(keys, ["m1", "m2", "SCHOOL", "SCHOOL", "TOTAL"]);
        assert_eq!(&rows[1][18], "off_track");
        assert_eq!(&rows[4][30], "240.00");
        let table = p.to_table();
        assert!(table.contains("Progress of contract ector-math-2025 (version 1) as of 2025-05-15"));
        assert!(table.contains("240.00 at risk"));
        let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(json["students"][1]["outcome"]["status"], "off_track");
        assert_eq!(json["students"][1]["scores"]["measure"], "0.7000");
        assert_eq!(json["totals"]["at_risk"], "240.00");
        assert_eq!(json["by_school"][0]["school_id"], "sch-1");
    }
}
