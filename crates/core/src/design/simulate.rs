//! `obc simulate` (SPEC 7): a contract's payments over many simulated years.
//!
//! A year is a population of students, each with session counts and scores, drawn either by
//! resampling last year's students (their counts and their growth as the files recorded it) or
//! from the distributions of an assumptions file. The provider's assumed effect (RIT points)
//! is added to every student's growth. Each student is then paid by the engine's own steps
//! ([`engine::contingent_rule`], [`engine::measure_of`], [`engine::school_adjustment`],
//! [`engine::contingent_amount`], [`engine::nte_remaining`]), so the simulator cannot drift
//! from the statements. Randomness is integer-only (SplitMix64, Irwin-Hall normals on a grid of
//! tenths of a RIT point or thousandths of a rate): the same seed gives the same bytes on every
//! platform, whatever the number of threads.

use crate::contract::{Contract, Measure, Milestone};
use crate::engine::{self, ContingentRule, SessionCounts};
use crate::money::round_cents;
use crate::ratio::Ratio;
use crate::statement::Statement;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

/// The most students a drawn year holds. A valid contract's NTE over its price can reach
/// billions (a cent per student); a simulation that large would never end, so it is refused.
pub const MAX_STUDENTS_PER_YEAR: u32 = 1_000_000;

/// Why a simulation cannot run: each message names the value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateError {
    #[error("assumptions file: {0}")]
    Assumptions(String),
    #[error("{0}")]
    Setup(String),
}

/// The distributions a drawn year comes from; every key of the assumptions TOML, with its
/// default. Rates are shares (0 to 1, at most 3 decimals), spreads are standard deviations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assumptions {
    /// Enrolled students per simulated year (default: the NTE divided by the price).
    pub students: Option<u32>,
    /// Schools the students are spread over, evenly at random.
    pub schools: u32,
    /// Sessions planned per student.
    pub sessions_planned: u32,
    pub attendance_mean: Decimal,
    pub attendance_sd: Decimal,
    pub district_cancel_mean: Decimal,
    pub district_cancel_sd: Decimal,
    pub provider_cancel_mean: Decimal,
    pub provider_cancel_sd: Decimal,
    pub same_tutor_mean: Decimal,
    pub same_tutor_sd: Decimal,
    /// RIT score of the baseline test.
    pub baseline_mean: Decimal,
    pub baseline_sd: Decimal,
    /// NWEA's projected growth (RIT points), the same for every drawn student.
    pub projected_growth: Decimal,
    /// Spread of true growth around the projection, with no provider effect (RIT points).
    pub growth_sd: Decimal,
    /// Standard error of one test (RIT points); drawn for the baseline and for the outcome.
    /// With `--history`, added on top of the files' own scores (default 0 there).
    pub measurement_error_sd: Option<Decimal>,
    /// Share of students with a missing baseline or outcome score.
    pub missing_score_share: Decimal,
}

impl Default for Assumptions {
    fn default() -> Self {
        let d = |s: &str| Decimal::from_str(s).expect("a literal decimal");
        Assumptions {
            students: None,
            schools: 4,
            sessions_planned: 40,
            attendance_mean: d("0.85"),
            attendance_sd: d("0.10"),
            district_cancel_mean: d("0.03"),
            district_cancel_sd: d("0.02"),
            provider_cancel_mean: d("0.03"),
            provider_cancel_sd: d("0.02"),
            same_tutor_mean: d("0.90"),
            same_tutor_sd: d("0.05"),
            baseline_mean: d("210"),
            baseline_sd: d("15"),
            projected_growth: d("8"),
            growth_sd: d("5"),
            measurement_error_sd: None,
            missing_score_share: d("0.05"),
        }
    }
}

/// The default standard error of one test without history: SPEC 7 puts a RIT score's at 3-4.
const DRAWN_MEASUREMENT_ERROR: Decimal = Decimal::from_parts(35, 0, 0, false, 1);

impl Assumptions {
    /// Reads an assumptions TOML: any key of [`Assumptions`], numbers or decimal strings.
    pub fn parse(source: &str) -> Result<Assumptions, SimulateError> {
        let bad = |m: String| SimulateError::Assumptions(m);
        let table: toml::Table = toml::from_str(source).map_err(|e| bad(e.to_string()))?;
        let mut a = Assumptions::default();
        for (key, value) in &table {
            let text = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    return Err(bad(format!(
                        "`{key}` = {other}: expected a number or a decimal string"
                    )))
                }
            };
            let number = Decimal::from_str(text.trim()).map_err(|_| {
                bad(format!(
                    "`{key}` = {value}: expected a number, e.g. \"0.85\""
                ))
            })?;
            let count = || {
                number
                    .to_u32()
                    .filter(|n| Decimal::from(*n) == number && *n > 0)
                    .ok_or_else(|| bad(format!("`{key}` = {value}: expected a whole number > 0")))
            };
            let share = || {
                if number < Decimal::ZERO || number > Decimal::ONE || number.scale() > 3 {
                    Err(bad(format!(
                        "`{key}` = {value}: expected a share from 0 to 1 with at most 3 decimals"
                    )))
                } else {
                    Ok(number)
                }
            };
            let rit = || {
                if number < Decimal::ZERO || number > Decimal::from(1000) || number.scale() > 1 {
                    Err(bad(format!(
                        "`{key}` = {value}: expected RIT points from 0 to 1000 with at most 1 decimal"
                    )))
                } else {
                    Ok(number)
                }
            };
            match key.as_str() {
                "students" => a.students = Some(count()?),
                "schools" => a.schools = count()?,
                "sessions_planned" => a.sessions_planned = count()?,
                "attendance_mean" => a.attendance_mean = share()?,
                "attendance_sd" => a.attendance_sd = share()?,
                "district_cancel_mean" => a.district_cancel_mean = share()?,
                "district_cancel_sd" => a.district_cancel_sd = share()?,
                "provider_cancel_mean" => a.provider_cancel_mean = share()?,
                "provider_cancel_sd" => a.provider_cancel_sd = share()?,
                "same_tutor_mean" => a.same_tutor_mean = share()?,
                "same_tutor_sd" => a.same_tutor_sd = share()?,
                "baseline_mean" => a.baseline_mean = rit()?,
                "baseline_sd" => a.baseline_sd = rit()?,
                "projected_growth" => a.projected_growth = rit()?,
                "growth_sd" => a.growth_sd = rit()?,
                "measurement_error_sd" => a.measurement_error_sd = Some(rit()?),
                "missing_score_share" => a.missing_score_share = share()?,
                _ => {
                    return Err(bad(format!(
                        "unknown key `{key}` (known: {})",
                        ASSUMPTION_KEYS.join(", ")
                    )))
                }
            }
        }
        Ok(a)
    }
}

const ASSUMPTION_KEYS: [&str; 17] = [
    "students",
    "schools",
    "sessions_planned",
    "attendance_mean",
    "attendance_sd",
    "district_cancel_mean",
    "district_cancel_sd",
    "provider_cancel_mean",
    "provider_cancel_sd",
    "same_tutor_mean",
    "same_tutor_sd",
    "baseline_mean",
    "baseline_sd",
    "projected_growth",
    "growth_sd",
    "measurement_error_sd",
    "missing_score_share",
];

/// One of last year's students as the final statement saw them.
#[derive(Debug, Clone)]
pub struct HistoryStudent {
    school: usize,
    counts: SessionCounts,
    baseline: Option<Decimal>,
    /// Observed growth (outcome - baseline); `None` when a score is missing.
    observed: Option<Decimal>,
    projected: Option<Decimal>,
    /// The base amount the statement paid.
    base: Decimal,
}

/// Where simulated students come from.
#[derive(Debug, Clone)]
pub enum Population {
    /// Last year's students, resampled with replacement.
    History {
        schools: Vec<String>,
        students: Vec<HistoryStudent>,
    },
    /// Drawn from distributions.
    Drawn,
}

impl Population {
    /// Last year's students from a statement of the contract at its contingent milestone,
    /// computed (with no earlier payments) from the history files.
    pub fn from_statement(statement: &Statement) -> Population {
        let mut schools: Vec<String> = statement
            .lines
            .iter()
            .map(|l| l.school_id.clone())
            .collect();
        schools.sort();
        schools.dedup();
        let students = statement
            .lines
            .iter()
            .map(|l| HistoryStudent {
                school: schools
                    .binary_search(&l.school_id)
                    .expect("collected above"),
                counts: SessionCounts {
                    planned: l.planned,
                    attended: l.attended,
                    student_absent: l.student_absent,
                    district_cancelled: l.district_cancelled,
                    provider_cancelled: l.provider_cancelled,
                    same_tutor: l
                        .same_tutor_rate
                        .and_then(|r| r.numerator().to_u32())
                        .unwrap_or(0),
                },
                baseline: l.baseline,
                observed: l.observed_growth,
                projected: l.projected_growth,
                base: l.base_amount,
            })
            .collect();
        Population::History { schools, students }
    }
}

/// The milestone a simulated year pays: the last contingent one (its statement pays the
/// whole base part due by then and the contingent part).
pub fn contingent_milestone(contract: &Contract) -> Result<&Milestone, SimulateError> {
    contract
        .milestones
        .iter()
        .filter(|m| m.contingent)
        .max_by_key(|m| m.date)
        .ok_or_else(|| SimulateError::Setup("the contract has no contingent milestone".into()))
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub years: u32,
    pub seed: u64,
    /// The provider's assumed effect, RIT points added to every student's growth.
    pub effect: Decimal,
    /// Students per year (default: the history's count, or the assumptions').
    pub students: Option<u32>,
    pub assumptions: Assumptions,
}

/// One simulated student, ready to be paid.
#[derive(Debug, Clone, Copy)]
struct SimStudent {
    school: usize,
    counts: SessionCounts,
    measure: Option<Ratio>,
    growth_vs_projected: Option<Ratio>,
    base: Decimal,
}

/// What one simulated year paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Year {
    /// The statement total: base and contingent parts, capped at the NTE.
    pub total: Decimal,
    pub base: Decimal,
    /// Contingent amounts before the cap.
    pub contingent: Decimal,
    /// Students whose tier pays the full contingent part or more.
    pub met_target: u32,
    pub cap_binds: bool,
}

/// Everything fixed for a run: the contract's amounts computed once.
struct Payer<'a> {
    contract: &'a Contract,
    schools: Vec<String>,
    /// Contingent amount of each rate-card tier, without a school adjustment.
    tier_amounts: Vec<Decimal>,
    full_amount: Decimal,
    cap: Decimal,
}

impl<'a> Payer<'a> {
    fn new(contract: &'a Contract, schools: Vec<String>) -> Payer<'a> {
        Payer {
            contract,
            schools,
            tier_amounts: contract
                .rate_card
                .iter()
                .map(|t| engine::contingent_amount(contract, t.pays, None))
                .collect(),
            full_amount: engine::contingent_amount(contract, Decimal::ONE, None),
            cap: engine::nte_remaining(contract, Decimal::ZERO),
        }
    }

    /// Pays one year's students with the engine's rules, as a statement with no earlier
    /// payments would.
    fn pay(&self, students: &[SimStudent], rules: &mut Vec<ContingentRule>) -> Year {
        let k = self.contract;
        rules.clear();
        rules.extend(
            students
                .iter()
                .map(|s| engine::contingent_rule(k, &s.counts, s.measure)),
        );
        // Per school, the tiers' amounts moved by its adjustment, computed once per year.
        let mut adjusted: Vec<Option<Vec<Decimal>>> = vec![None; self.schools.len()];
        if !k.school_adjustments.is_empty() {
            let mut by_school: Vec<Vec<Ratio>> = vec![Vec::new(); self.schools.len()];
            for (s, rule) in students.iter().zip(rules.iter()) {
                if let (ContingentRule::Tier(_), Some(g)) = (rule, s.growth_vs_projected) {
                    by_school[s.school].push(g);
                }
            }
            for (school, values) in by_school.iter_mut().enumerate() {
                adjusted[school] =
                    engine::school_adjustment(k, &self.schools[school], values).map(|a| {
                        k.rate_card
                            .iter()
                            .map(|t| engine::contingent_amount(k, t.pays, Some(a.1)))
                            .collect()
                    });
            }
        }
        let mut year = Year {
            total: Decimal::ZERO,
            base: Decimal::ZERO,
            contingent: Decimal::ZERO,
            met_target: 0,
            cap_binds: false,
        };
        for (s, rule) in students.iter().zip(rules.iter()) {
            year.base += s.base;
            year.contingent += match *rule {
                ContingentRule::Tier(i) => {
                    if k.rate_card[i].pays >= Decimal::ONE {
                        year.met_target += 1;
                    }
                    adjusted[s.school].as_ref().unwrap_or(&self.tier_amounts)[i]
                }
                other if other.pays(k) == Decimal::ONE => self.full_amount,
                _ => Decimal::ZERO,
            };
        }
        let due = year.base + year.contingent;
        year.cap_binds = due > self.cap;
        year.total = due.min(self.cap);
        year
    }
}

/// SplitMix64 with integer-only draws (the demo generator's algorithm).
struct Rng(u64);

impl Rng {
    /// The stream of one simulated year: independent of which thread runs it.
    fn for_year(seed: u64, year: u32) -> Rng {
        let mut rng = Rng(seed ^ (u64::from(year) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next_u64();
        rng
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`, `n > 0`.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Approximately normal, mean 0, standard deviation `sd` grid units: the sum of 12
    /// uniforms (Irwin-Hall), each taken as four 16-bit parts of two draws.
    fn normal(&mut self, sd: i64) -> i64 {
        if sd == 0 {
            return 0;
        }
        let mut sum: i64 = 0;
        for _ in 0..3 {
            let x = self.next_u64();
            sum += (0..4)
                .map(|i| ((x >> (16 * i)) & 0xffff) as i64)
                .sum::<i64>();
        }
        (sum - 6 * 65536) * sd / 65536
    }
}

/// A decimal on an integer grid of `10^-scale` (tenths of a RIT point: scale 1).
fn grid(d: Decimal, scale: u32) -> i64 {
    (d * Decimal::from(10_i64.pow(scale)))
        .round()
        .to_i64()
        .expect("validated assumptions fit")
}

/// A count times a share in thousandths, rounded half up.
fn share_of(n: u32, per_mille: i64) -> u32 {
    ((i64::from(n) * per_mille.clamp(0, 1000) + 500) / 1000) as u32
}

/// How one year's students are made.
enum Source<'a> {
    History(&'a [HistoryStudent]),
    Drawn(DrawnGrid),
}

/// The drawn-year assumptions on integer grids (thousandths, tenths of RIT).
#[derive(Clone)]
struct DrawnGrid {
    planned: u32,
    schools: u64,
    attendance: (i64, i64),
    district_cancel: (i64, i64),
    provider_cancel: (i64, i64),
    same_tutor: (i64, i64),
    baseline: (i64, i64),
    projected: i64,
    growth_sd: i64,
    missing_per_mille: i64,
    base: Decimal,
}

struct Maker<'a> {
    contract: &'a Contract,
    source: Source<'a>,
    students: u32,
    effect_tenths: i64,
    error_tenths: i64,
}

impl Maker<'_> {
    /// The students of `year`; `resample = false` takes each history student once (a year
    /// built from the real inputs).
    fn year(&self, seed: u64, year: u32, resample: bool, out: &mut Vec<SimStudent>) {
        let mut rng = Rng::for_year(seed, year);
        out.clear();
        let measure = self.contract.outcome.measure;
        let tenths = |t: i64| Decimal::new(t, 1);
        match &self.source {
            Source::History(history) => {
                for i in 0..self.students as usize {
                    let h = if resample {
                        &history[rng.below(history.len() as u64) as usize]
                    } else {
                        &history[i]
                    };
                    let baseline_error = rng.normal(self.error_tenths);
                    let outcome_error = rng.normal(self.error_tenths);
                    let scores = match (h.baseline, h.observed) {
                        (Some(b), Some(o)) => {
                            let outcome = b + o + tenths(self.effect_tenths + outcome_error);
                            Some((outcome, outcome - b - tenths(baseline_error)))
                        }
                        _ => None,
                    };
                    out.push(self.student(
                        h.school,
                        h.counts,
                        scores,
                        h.projected,
                        h.base,
                        measure,
                    ));
                }
            }
            Source::Drawn(g) => {
                for _ in 0..self.students {
                    let school = rng.below(g.schools) as usize;
                    let draw = |rng: &mut Rng, (mean, sd): (i64, i64)| mean + rng.normal(sd);
                    let district = share_of(g.planned, draw(&mut rng, g.district_cancel));
                    let provider =
                        share_of(g.planned - district, draw(&mut rng, g.provider_cancel));
                    let offered = g.planned - district - provider;
                    let attended = share_of(offered, draw(&mut rng, g.attendance));
                    let counts = SessionCounts {
                        planned: g.planned,
                        attended,
                        student_absent: offered - attended,
                        district_cancelled: district,
                        provider_cancelled: provider,
                        same_tutor: share_of(attended, draw(&mut rng, g.same_tutor)),
                    };
                    let missing = (rng.below(1000) as i64) < g.missing_per_mille;
                    let true_baseline = draw(&mut rng, g.baseline);
                    let true_growth = g.projected + self.effect_tenths + rng.normal(g.growth_sd);
                    let baseline = true_baseline + rng.normal(self.error_tenths);
                    let outcome = true_baseline + true_growth + rng.normal(self.error_tenths);
                    let scores = (!missing).then(|| (tenths(outcome), tenths(outcome - baseline)));
                    let base = if attended > 0 { g.base } else { Decimal::ZERO };
                    out.push(self.student(
                        school,
                        counts,
                        scores,
                        Some(tenths(g.projected)),
                        base,
                        measure,
                    ));
                }
            }
        }
    }

    /// `scores`: the outcome score and the observed growth, `None` when a score is missing.
    fn student(
        &self,
        school: usize,
        counts: SessionCounts,
        scores: Option<(Decimal, Decimal)>,
        projected: Option<Decimal>,
        base: Decimal,
        measure: Measure,
    ) -> SimStudent {
        let (measure, growth_vs_projected) = scores.map_or((None, None), |(outcome, growth)| {
            engine::measure_of(measure, outcome, growth, projected, None)
        });
        SimStudent {
            school,
            counts,
            measure,
            growth_vs_projected,
            base,
        }
    }
}

/// One assumption of a run, printed with its result (no hidden constants).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assumption {
    pub name: String,
    pub value: String,
    /// Where it came from: `flag`, `assumptions file`, `history`, `contract` or `default`.
    pub source: String,
}

/// One bar of the histogram of yearly totals: `from <= total < to` (the last includes `to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bin {
    pub from: Decimal,
    pub to: Decimal,
    pub years: u32,
}

/// What the years paid at one assumed effect. The district's cost is the provider's revenue:
/// the same statement totals seen from each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// The provider's assumed effect, RIT points.
    pub effect: Decimal,
    pub mean_total: Decimal,
    pub p5: Decimal,
    pub p50: Decimal,
    pub p95: Decimal,
    pub min: Decimal,
    pub max: Decimal,
    /// Contingent amounts paid over the most the contingent parts could pay at 100% (before the
    /// cap), over all years.
    pub contingent_share_paid: Decimal,
    /// Students per year whose tier pays the full contingent part or more, on average.
    pub mean_met_target: Decimal,
    /// All years' totals over all years' students who met the target.
    pub cost_per_met_target: Option<Decimal>,
    /// The provider's risk: the full price of the year's students (capped at the NTE) minus
    /// the mean total.
    pub provider_mean_shortfall: Decimal,
    /// The district's risk: the spread p95 - p5 of what it pays.
    pub district_spread_p5_p95: Decimal,
    /// Share of years paying more than the full price of the year's students.
    pub years_above_full_price: Decimal,
    /// Share of years the NTE cap cut the total.
    pub years_cap_binds: Decimal,
    pub histogram: Vec<Bin>,
}

/// A simulation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub contract_id: String,
    /// `history` (resampled students) or `assumptions` (drawn students).
    pub source: String,
    pub years: u32,
    pub seed: u64,
    pub students: u32,
    pub price_per_student: Decimal,
    pub contingent_part: Decimal,
    /// The year's students at the full price, capped at the NTE.
    pub full_price: Decimal,
    pub not_to_exceed: Decimal,
    pub assumptions: Vec<Assumption>,
    /// At the assumed effect.
    pub with_effect: Outcomes,
    /// Paying for chance (SPEC 7): the same years with no provider effect.
    pub no_effect: Outcomes,
}

const HISTOGRAM_BINS: u32 = 20;

/// Runs the plan: `plan.years` years at the assumed effect, and the same years (the same draws)
/// with no effect. `progress` is called once per simulated year, from worker threads.
pub fn simulate(
    contract: &Contract,
    population: &Population,
    plan: &Plan,
    progress: &(dyn Fn() + Sync),
) -> Result<Report, SimulateError> {
    let setup = Setup::new(contract, population, plan)?;
    let years_at = |effect_tenths: i64| {
        let maker = Maker {
            effect_tenths,
            ..setup.maker()
        };
        run_years(&setup.payer, &maker, plan, progress)
    };
    let with_effect = years_at(setup.effect_tenths);
    let no_effect = if setup.effect_tenths == 0 {
        with_effect.clone()
    } else {
        years_at(0)
    };
    let full_price =
        (contract.price_per_student * Decimal::from(setup.students)).min(setup.payer.cap);
    let outcomes = |effect: Decimal, years: &[Year]| {
        outcomes(contract, effect, years, setup.students, full_price)
    };
    Ok(Report {
        contract_id: contract.id.clone(),
        source: match population {
            Population::History { .. } => "history",
            Population::Drawn => "assumptions",
        }
        .to_string(),
        years: plan.years,
        seed: plan.seed,
        students: setup.students,
        price_per_student: contract.price_per_student,
        contingent_part: contract.contingent_part(),
        full_price,
        not_to_exceed: contract.not_to_exceed,
        assumptions: setup.assumptions.clone(),
        with_effect: outcomes(plan.effect, &with_effect),
        no_effect: outcomes(Decimal::ZERO, &no_effect),
    })
}

/// A run's fixed parts, checked once.
struct Setup<'a> {
    contract: &'a Contract,
    payer: Payer<'a>,
    source_history: Option<&'a [HistoryStudent]>,
    drawn: Option<DrawnGrid>,
    students: u32,
    effect_tenths: i64,
    error_tenths: i64,
    assumptions: Vec<Assumption>,
}

impl<'a> Setup<'a> {
    fn new(
        contract: &'a Contract,
        population: &'a Population,
        plan: &Plan,
    ) -> Result<Setup<'a>, SimulateError> {
        let setup = |m: String| SimulateError::Setup(m);
        if contract.outcome.measure == Measure::ConditionalGrowthPercentile {
            return Err(setup(
                "the contract's measure conditional_growth_percentile cannot be simulated: \
                 obc draws growth in RIT points, not NWEA's percentiles"
                    .into(),
            ));
        }
        if plan.years == 0 {
            return Err(setup("--years must be at least 1".into()));
        }
        if plan.effect.abs() > Decimal::from(1000) || plan.effect.scale() > 1 {
            return Err(setup(format!(
                "--effect {}: expected RIT points from -1000 to 1000 with at most 1 decimal",
                plan.effect
            )));
        }
        let milestone = contingent_milestone(contract)?;
        let a = &plan.assumptions;
        let mut printed = Vec::new();
        let mut note = |name: &str, value: String, source: &str| {
            printed.push(Assumption {
                name: name.into(),
                value,
                source: source.into(),
            })
        };
        let defaults = Assumptions::default();
        let origin = |same: bool| if same { "default" } else { "assumptions file" };
        note("years", plan.years.to_string(), "flag");
        note("seed", plan.seed.to_string(), "flag");
        note(
            "effect (RIT points added to every student's growth)",
            plan.effect.to_string(),
            "flag",
        );
        note(
            "milestone paid (the last contingent one)",
            milestone.name.clone(),
            "contract",
        );
        // How the model works, printed like the numbers it uses: nothing hidden.
        note(
            "met the target",
            "a student whose tier pays 100% or more of the contingent part".into(),
            "method",
        );
        note(
            "random draws",
            "SplitMix64 per year (seed, year); normals as the sum of 12 uniforms (Irwin-Hall) on integer grids: tenths of a RIT point, thousandths of a rate; rates clipped to 0-1".into(),
            "method",
        );
        note(
            "histogram",
            format!("{HISTOGRAM_BINS} equal bins from the cheapest year to the dearest"),
            "method",
        );
        let (students, schools, history, drawn, error_sd) = match population {
            Population::History { schools, students } => {
                if students.is_empty() {
                    return Err(setup("the history has no enrolled student".into()));
                }
                let n = plan.students.unwrap_or(students.len() as u32);
                if n == 0 {
                    return Err(setup("--students must be at least 1".into()));
                }
                note(
                    "students per year (resampled with replacement from the history)",
                    n.to_string(),
                    if plan.students.is_some() {
                        "flag"
                    } else {
                        "history"
                    },
                );
                note("history students", students.len().to_string(), "history");
                note("schools", schools.len().to_string(), "history");
                let error = a.measurement_error_sd.unwrap_or(Decimal::ZERO);
                note(
                    "measurement_error_sd (added to each test's score; the files' scores already carry theirs)",
                    error.to_string(),
                    origin(a.measurement_error_sd.is_none()),
                );
                (n, schools.clone(), Some(students.as_slice()), None, error)
            }
            Population::Drawn => {
                let by_price = contract
                    .not_to_exceed
                    .checked_div(contract.price_per_student)
                    .and_then(|n| n.floor().to_u32())
                    .unwrap_or(0);
                let (n, source) = match (plan.students, a.students) {
                    (Some(n), _) => (n, "flag"),
                    (None, Some(n)) => (n, "assumptions file"),
                    (None, None) => (by_price, "contract (NTE / price)"),
                };
                if n == 0 {
                    return Err(setup(
                        "no student to simulate: give --students or `students` in the assumptions"
                            .into(),
                    ));
                }
                if n > MAX_STUDENTS_PER_YEAR {
                    return Err(setup(format!(
                        "{n} students per year ({source}) is more than the {MAX_STUDENTS_PER_YEAR} a simulation draws: give --students or `students` in the assumptions"
                    )));
                }
                note("students per year", n.to_string(), source);
                note(
                    "base part paid for",
                    "every drawn student with an attended session (no enrollment dates are drawn)"
                        .into(),
                    "method",
                );
                let error = a.measurement_error_sd.unwrap_or(DRAWN_MEASUREMENT_ERROR);
                let rows: [(&str, String, bool); 16] = [
                    (
                        "schools",
                        a.schools.to_string(),
                        a.schools == defaults.schools,
                    ),
                    (
                        "sessions_planned",
                        a.sessions_planned.to_string(),
                        a.sessions_planned == defaults.sessions_planned,
                    ),
                    (
                        "attendance_mean",
                        a.attendance_mean.to_string(),
                        a.attendance_mean == defaults.attendance_mean,
                    ),
                    (
                        "attendance_sd",
                        a.attendance_sd.to_string(),
                        a.attendance_sd == defaults.attendance_sd,
                    ),
                    (
                        "district_cancel_mean",
                        a.district_cancel_mean.to_string(),
                        a.district_cancel_mean == defaults.district_cancel_mean,
                    ),
                    (
                        "district_cancel_sd",
                        a.district_cancel_sd.to_string(),
                        a.district_cancel_sd == defaults.district_cancel_sd,
                    ),
                    (
                        "provider_cancel_mean",
                        a.provider_cancel_mean.to_string(),
                        a.provider_cancel_mean == defaults.provider_cancel_mean,
                    ),
                    (
                        "provider_cancel_sd",
                        a.provider_cancel_sd.to_string(),
                        a.provider_cancel_sd == defaults.provider_cancel_sd,
                    ),
                    (
                        "same_tutor_mean",
                        a.same_tutor_mean.to_string(),
                        a.same_tutor_mean == defaults.same_tutor_mean,
                    ),
                    (
                        "same_tutor_sd",
                        a.same_tutor_sd.to_string(),
                        a.same_tutor_sd == defaults.same_tutor_sd,
                    ),
                    (
                        "baseline_mean",
                        a.baseline_mean.to_string(),
                        a.baseline_mean == defaults.baseline_mean,
                    ),
                    (
                        "baseline_sd",
                        a.baseline_sd.to_string(),
                        a.baseline_sd == defaults.baseline_sd,
                    ),
                    (
                        "projected_growth",
                        a.projected_growth.to_string(),
                        a.projected_growth == defaults.projected_growth,
                    ),
                    (
                        "growth_sd",
                        a.growth_sd.to_string(),
                        a.growth_sd == defaults.growth_sd,
                    ),
                    (
                        "measurement_error_sd",
                        error.to_string(),
                        a.measurement_error_sd.is_none(),
                    ),
                    (
                        "missing_score_share",
                        a.missing_score_share.to_string(),
                        a.missing_score_share == defaults.missing_score_share,
                    ),
                ];
                for (name, value, same) in rows {
                    note(name, value, origin(same));
                }
                let base = round_cents(
                    contract.base_part() * engine::cumulative_base_share(contract, milestone),
                );
                let pair = |mean: Decimal, sd: Decimal| (grid(mean, 3), grid(sd, 3));
                let drawn = DrawnGrid {
                    planned: a.sessions_planned,
                    schools: u64::from(a.schools),
                    attendance: pair(a.attendance_mean, a.attendance_sd),
                    district_cancel: pair(a.district_cancel_mean, a.district_cancel_sd),
                    provider_cancel: pair(a.provider_cancel_mean, a.provider_cancel_sd),
                    same_tutor: pair(a.same_tutor_mean, a.same_tutor_sd),
                    baseline: (grid(a.baseline_mean, 1), grid(a.baseline_sd, 1)),
                    projected: grid(a.projected_growth, 1),
                    growth_sd: grid(a.growth_sd, 1),
                    missing_per_mille: grid(a.missing_score_share, 3),
                    base,
                };
                let schools = (1..=a.schools).map(|i| format!("school-{i}")).collect();
                (n, schools, None, Some(drawn), error)
            }
        };
        Ok(Setup {
            contract,
            payer: Payer::new(contract, schools),
            source_history: history,
            drawn,
            students,
            effect_tenths: grid(plan.effect, 1),
            error_tenths: grid(error_sd, 1),
            assumptions: printed,
        })
    }

    fn maker(&self) -> Maker<'a> {
        Maker {
            contract: self.contract,
            source: match (self.source_history, &self.drawn) {
                (Some(h), _) => Source::History(h),
                (None, Some(d)) => Source::Drawn(d.clone()),
                (None, None) => unreachable!("a population is history or drawn"),
            },
            students: self.students,
            effect_tenths: self.effect_tenths,
            error_tenths: self.error_tenths,
        }
    }
}

/// The years of a run, split over the machine's cores (at most 4). Each year draws from its
/// own stream, so the result does not depend on the number of threads.
fn run_years(payer: &Payer, maker: &Maker, plan: &Plan, progress: &(dyn Fn() + Sync)) -> Vec<Year> {
    let n = plan.years as usize;
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .clamp(1, 4)
        .min(n);
    let mut years: Vec<Option<Year>> = vec![None; n];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut students = Vec::with_capacity(maker.students as usize);
                    let mut rules = Vec::with_capacity(maker.students as usize);
                    let mut done = Vec::new();
                    for year in (t..n).step_by(threads) {
                        maker.year(plan.seed, year as u32, true, &mut students);
                        done.push((year, payer.pay(&students, &mut rules)));
                        progress();
                    }
                    done
                })
            })
            .collect();
        for handle in handles {
            for (year, result) in handle.join().expect("a simulation thread panicked") {
                years[year] = Some(result);
            }
        }
    });
    years
        .into_iter()
        .map(|y| y.expect("every year ran"))
        .collect()
}

fn outcomes(
    contract: &Contract,
    effect: Decimal,
    years: &[Year],
    students: u32,
    full_price: Decimal,
) -> Outcomes {
    let n = Decimal::from(years.len());
    let mut totals: Vec<Decimal> = years.iter().map(|y| y.total).collect();
    totals.sort();
    // Nearest rank: the smallest total with at least p% of the years at or below it.
    let percentile = |p: usize| totals[((p * totals.len()).div_ceil(100)).max(1) - 1];
    let sum: Decimal = totals.iter().sum();
    let met: u64 = years.iter().map(|y| u64::from(y.met_target)).sum();
    let contingent: Decimal = years.iter().map(|y| y.contingent).sum();
    let most_contingent = contract.contingent_part() * Decimal::from(students) * n;
    let share = |count: usize| (Decimal::from(count) / n).round_dp(4);
    let mean_total = round_cents(sum / n);
    let (p5, p95) = (percentile(5), percentile(95));
    Outcomes {
        effect,
        mean_total,
        p5,
        p50: percentile(50),
        p95,
        min: totals[0],
        max: totals[totals.len() - 1],
        contingent_share_paid: if most_contingent.is_zero() {
            Decimal::ZERO
        } else {
            (contingent / most_contingent).round_dp(4)
        },
        mean_met_target: (Decimal::from(met) / n).round_dp(1),
        cost_per_met_target: (met > 0).then(|| round_cents(sum / Decimal::from(met))),
        provider_mean_shortfall: full_price - mean_total,
        district_spread_p5_p95: p95 - p5,
        years_above_full_price: share(years.iter().filter(|y| y.total > full_price).count()),
        years_cap_binds: share(years.iter().filter(|y| y.cap_binds).count()),
        histogram: histogram(&totals),
    }
}

/// Equal-width bins from the smallest to the largest total (one bin when all are equal).
fn histogram(sorted: &[Decimal]) -> Vec<Bin> {
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    if min == max {
        return vec![Bin {
            from: min,
            to: max,
            years: sorted.len() as u32,
        }];
    }
    let width = (max - min) / Decimal::from(HISTOGRAM_BINS);
    let mut bins: Vec<Bin> = (0..HISTOGRAM_BINS)
        .map(|i| Bin {
            from: round_cents(min + width * Decimal::from(i)),
            to: round_cents(min + width * Decimal::from(i + 1)),
            years: 0,
        })
        .collect();
    for t in sorted {
        let index = ((*t - min) / width).floor().to_u32().unwrap_or(0);
        bins[index.min(HISTOGRAM_BINS - 1) as usize].years += 1;
    }
    bins
}

/// A row of the text report: its label and how to show one effect's value.
type TextRow = (&'static str, fn(&Outcomes) -> String);

impl Report {
    /// The plain-text report: assumptions, both effects side by side, the histogram.
    pub fn to_text(&self) -> String {
        use crate::money::format_cents as money;
        use std::fmt::Write as _;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Simulation of contract {}: {} years of {} students ({})",
            self.contract_id, self.years, self.students, self.source
        );
        let _ = writeln!(
            t,
            "Price {} per student, contingent part {}; full price of the year's students {}, NTE {}",
            money(self.price_per_student),
            money(self.contingent_part),
            money(self.full_price),
            money(self.not_to_exceed)
        );
        let _ = writeln!(t, "\nAssumptions:");
        for a in &self.assumptions {
            let _ = writeln!(t, "  {} = {} ({})", a.name, a.value, a.source);
        }
        let columns = [&self.with_effect, &self.no_effect];
        let _ = writeln!(
            t,
            "\nDistrict cost = provider revenue, per year   effect {:>6} RIT   no effect (chance)",
            self.with_effect.effect
        );
        let rows: [TextRow; 12] = [
            ("mean", |o| money(o.mean_total)),
            ("p5", |o| money(o.p5)),
            ("p50", |o| money(o.p50)),
            ("p95", |o| money(o.p95)),
            ("share of the contingent part paid", |o| {
                format!(
                    "{}%",
                    (o.contingent_share_paid * Decimal::ONE_HUNDRED).round_dp(2)
                )
            }),
            ("students who met the target (mean)", |o| {
                o.mean_met_target.to_string()
            }),
            ("cost per student who met the target", |o| {
                o.cost_per_met_target
                    .map_or_else(|| "none met".into(), money)
            }),
            ("provider: mean shortfall from full price", |o| {
                money(o.provider_mean_shortfall)
            }),
            ("district: spread p5-p95", |o| {
                money(o.district_spread_p5_p95)
            }),
            ("years above the full price", |o| {
                format!(
                    "{}%",
                    (o.years_above_full_price * Decimal::ONE_HUNDRED).round_dp(2)
                )
            }),
            ("years the NTE cap binds", |o| {
                format!(
                    "{}%",
                    (o.years_cap_binds * Decimal::ONE_HUNDRED).round_dp(2)
                )
            }),
            ("min / max", |o| {
                format!("{} / {}", money(o.min), money(o.max))
            }),
        ];
        for (label, value) in rows {
            let _ = writeln!(
                t,
                "  {label:<42} {:>20}   {:>20}",
                value(columns[0]),
                value(columns[1])
            );
        }
        let chance = self.no_effect.contingent_share_paid;
        let _ = writeln!(
            t,
            "\nPaying for chance: a provider with no effect earns {}% of the contingent part{}",
            (chance * Decimal::ONE_HUNDRED).round_dp(2),
            if chance > Decimal::new(5, 1) {
                " (more than half: the contract pays for chance, SPEC 7)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            t,
            "\nYearly totals at effect {} RIT (each # is a share of the largest bar):",
            self.with_effect.effect
        );
        let most = self
            .with_effect
            .histogram
            .iter()
            .map(|b| b.years)
            .max()
            .unwrap_or(1)
            .max(1);
        for b in &self.with_effect.histogram {
            let bar = "#".repeat((b.years as usize * 40).div_ceil(most as usize));
            let _ = writeln!(
                t,
                "  {:>14} - {:>14} {:>6} {bar}",
                money(b.from),
                money(b.to),
                b.years
            );
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{compute, PriorPayments, StatementRequest};
    use crate::test_kit::{contract_with_schools, dec, kid};

    fn statement(contract: &Contract, students: Vec<crate::engine::StudentInput>) -> Statement {
        compute(StatementRequest {
            contract,
            contract_version: 1,
            contract_hash: String::new(),
            milestone: &contingent_milestone(contract).unwrap().name.clone(),
            as_of: None,
            students: students.into(),
            prior: PriorPayments::default(),
        })
        .unwrap()
    }

    fn plan(years: u32, effect: &str) -> Plan {
        Plan {
            years,
            seed: 7,
            effect: dec(effect),
            students: None,
            assumptions: Assumptions::default(),
        }
    }

    /// Students of every rule: tiers in two schools (one adjusted up), low attendance,
    /// provider cancellations, a missing score, too few sessions.
    fn history() -> Vec<crate::engine::StudentInput> {
        use crate::model::SessionStatus::*;
        let mut kids = Vec::new();
        for (i, growth) in [5, 8, 10, 12, 15, 16, 20, 3].into_iter().enumerate() {
            let school = if i % 2 == 0 { "A" } else { "B" };
            let boost = if school == "A" { 6 } else { 0 };
            kids.push(
                kid(&format!("t{i}"))
                    .school(school)
                    .judged_with_growth(growth + boost)
                    .build(),
            );
        }
        kids.push(
            kid("absent")
                .school("A")
                .attended(5)
                .sessions(15, StudentAbsent, "T1")
                .scores("200", "215", "10")
                .build(),
        );
        kids.push(
            kid("cancelled")
                .school("B")
                .attended(18)
                .sessions(4, ProviderCancelled, "T1")
                .scores("200", "215", "10")
                .build(),
        );
        kids.push(
            kid("missing")
                .school("B")
                .attended(20)
                .test(crate::test_kit::row("Fall", "2024-09-05", "200"))
                .build(),
        );
        kids.push(
            kid("few")
                .school("A")
                .attended(3)
                .scores("200", "215", "10")
                .build(),
        );
        kids
    }

    fn year_without_noise(contract: &Contract, statement: &Statement) -> Year {
        let population = Population::from_statement(statement);
        let plan = plan(1, "0");
        let setup = Setup::new(contract, &population, &plan).unwrap();
        let mut students = Vec::new();
        setup.maker().year(plan.seed, 0, false, &mut students);
        setup.payer.pay(&students, &mut Vec::new())
    }

    #[test]
    fn a_year_of_real_inputs_without_noise_pays_what_the_statement_pays() {
        for nte in ["600000.00", "9000.00"] {
            let contract = contract_with_schools(&[("\"600000.00\"", &format!("\"{nte}\""))]);
            let statement = statement(&contract, history());
            let year = year_without_noise(&contract, &statement);
            let t = &statement.totals;
            assert_eq!(year.total, t.statement_total, "NTE {nte}");
            assert_eq!((year.base, year.contingent), (t.base, t.contingent));
            assert_eq!(year.met_target, t.met_target);
            assert_eq!(year.cap_binds, t.nte_cap.is_some());
            assert!(statement
                .lines
                .iter()
                .any(|l| l.rule.ends_with("+school_adjust")));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_report_and_threads_do_not_matter() {
        let contract = contract_with_schools(&[]);
        let population = Population::Drawn;
        let mut p = plan(40, "3");
        p.students = Some(200);
        let a = simulate(&contract, &population, &p, &|| {}).unwrap();
        let b = simulate(&contract, &population, &p, &|| {}).unwrap();
        assert_eq!(a.to_text(), b.to_text());
        p.seed = 8;
        let c = simulate(&contract, &population, &p, &|| {}).unwrap();
        assert_ne!(a.with_effect, c.with_effect);
        // Years are drawn from their own streams: the threaded run is the years one by one.
        let setup = Setup::new(&contract, &population, &p).unwrap();
        let maker = setup.maker();
        let threaded = run_years(&setup.payer, &maker, &p, &|| {});
        let mut students = Vec::new();
        for (year, result) in threaded.iter().enumerate() {
            maker.year(p.seed, year as u32, true, &mut students);
            assert_eq!(
                *result,
                setup.payer.pay(&students, &mut Vec::new()),
                "year {year}"
            );
        }
    }

    #[test]
    fn an_effect_raises_pay_and_chance_alone_is_reported() {
        let contract = contract_with_schools(&[]);
        let mut p = plan(30, "4");
        p.students = Some(300);
        let r = simulate(&contract, &Population::Drawn, &p, &|| {}).unwrap();
        assert!(r.with_effect.contingent_share_paid > r.no_effect.contingent_share_paid);
        assert!(r.with_effect.mean_total > r.no_effect.mean_total);
        assert_eq!(r.no_effect.effect, Decimal::ZERO);
        // Projected growth is typical growth: about half meet it by chance alone.
        assert!(r.no_effect.contingent_share_paid > dec("0.3"));
        let text = r.to_text();
        for shown in [
            "growth_sd = 5 (default)",
            "measurement_error_sd = 3.5 (default)",
            "Paying for chance",
            "p95",
        ] {
            assert!(text.contains(shown), "{shown} in {text}");
        }
    }

    #[test]
    fn a_year_too_large_to_draw_is_refused_not_run() {
        let mut contract = contract_with_schools(&[]);
        // Valid: a dollar per student under a near-billion cap is a billion students.
        contract.price_per_student = dec("1.00");
        contract.not_to_exceed = dec("999999999");
        let err = simulate(&contract, &Population::Drawn, &plan(1, "0"), &|| {}).unwrap_err();
        assert!(err.to_string().contains("more than the 1000000"), "{err}");
        let mut p = plan(1, "0");
        p.students = Some(MAX_STUDENTS_PER_YEAR + 1);
        assert!(simulate(&contract, &Population::Drawn, &p, &|| {}).is_err());
    }

    #[test]
    fn history_years_resample_last_years_students() {
        let contract = contract_with_schools(&[]);
        let statement = statement(&contract, history());
        let population = Population::from_statement(&statement);
        let r = simulate(&contract, &population, &plan(50, "0"), &|| {}).unwrap();
        assert_eq!(r.students, statement.lines.len() as u32);
        assert!(
            r.with_effect.min < r.with_effect.max,
            "resampling varies the years"
        );
        assert_eq!(r.with_effect, r.no_effect);
    }

    #[test]
    fn assumptions_are_read_and_checked() {
        let a = Assumptions::parse("growth_sd = 6.5\nattendance_mean = \"0.9\"\nstudents = 50")
            .unwrap();
        assert_eq!(
            (a.growth_sd, a.attendance_mean, a.students),
            (dec("6.5"), dec("0.9"), Some(50))
        );
        let unknown = Assumptions::parse("growht_sd = 6").unwrap_err().to_string();
        assert!(unknown.contains("unknown key `growht_sd`"), "{unknown}");
        let share = Assumptions::parse("attendance_mean = 1.5")
            .unwrap_err()
            .to_string();
        assert!(share.contains("expected a share from 0 to 1"), "{share}");
    }
}
