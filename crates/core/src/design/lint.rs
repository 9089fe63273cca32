//! `obc lint`: mistakes and perverse incentives of a contract, before it is signed (SPEC 7).
//!
//! Every finding names its check (a stable id scripts rely on), a severity, a plain-English
//! explanation and the numbers behind it. Every assumption (spreads, thresholds, counts) is
//! returned with the findings, so nothing is hidden. Outcomes are priced with the engine's own
//! rules ([`measure_of`], [`tier_index`]); the noise of a growth score is an Irwin-Hall (sum of
//! 12 uniforms) approximation of the normal, evaluated exactly in decimals on a tenth-of-RIT
//! grid, so the same contract gives the same bytes on every platform.

use crate::contract::{Contract, Measure, Responsible};
use crate::design::history::{History, HistoryStudent};
use crate::engine::{contingent_rule, measure_of, tier_index};
use crate::money::format_cents;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// How bad a finding is: errors and warnings set the exit status, infos only inform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `contingent_share`, `nte_below_full`, `cliff`, `paying_for_chance`, `cream_skimming`,
    /// `missing_score_incentive`, `cross_fault` or `norms`.
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The figures behind the message, by name, as displayed.
    pub numbers: BTreeMap<String, String>,
}

/// The knobs of the checks; each default is documented in docs/DESIGN.md and printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintOptions {
    /// A step between adjacent tiers above this share of the price is a cliff.
    pub cliff_share: Decimal,
    /// The spread (standard deviation, RIT) of observed minus projected growth when no history
    /// gives it.
    pub growth_sd: Decimal,
    /// Projected growth (RIT) when neither history nor `[outcome.projected]` gives it.
    pub projected_growth: Decimal,
    /// The enrolled or target count, for the NTE; from history when `None`.
    pub students: Option<u32>,
    /// The share of the contingent part the "effect needed" must earn on average.
    pub effect_target: Decimal,
    /// The share of students with the lowest baselines dropped by the cream-skimming check.
    pub drop_share: Decimal,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            cliff_share: Decimal::new(10, 2),
            growth_sd: Decimal::new(5, 0),
            projected_growth: Decimal::new(7, 0),
            students: None,
            effect_target: Decimal::new(90, 2),
            drop_share: Decimal::new(10, 2),
        }
    }
}

/// The findings, with every assumption they used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintReport {
    pub contract_id: String,
    /// Name -> value and where it came from.
    pub assumptions: BTreeMap<String, String>,
    pub findings: Vec<Finding>,
}

impl LintReport {
    /// The worst severity found, if any finding is a warning or an error.
    pub fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .map(|f| f.severity)
            .filter(|s| *s > Severity::Info)
            .max()
    }

    /// The plain-text rendering: assumptions, then findings, worst first.
    pub fn to_text(&self) -> String {
        let mut out = format!("Lint of contract {}\n\nAssumptions:\n", self.contract_id);
        for (k, v) in &self.assumptions {
            out.push_str(&format!("  {k}: {v}\n"));
        }
        let (errors, warnings) = (self.count(Severity::Error), self.count(Severity::Warning));
        out.push_str(&format!(
            "\n{} finding(s): {errors} error(s), {warnings} warning(s), {} info\n",
            self.findings.len(),
            self.count(Severity::Info)
        ));
        for f in &self.findings {
            out.push_str(&format!(
                "\n{} [{}] {}\n",
                f.severity.as_str().to_uppercase(),
                f.check,
                f.message
            ));
            for (k, v) in &f.numbers {
                out.push_str(&format!("    {k}: {v}\n"));
            }
        }
        out
    }

    fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

/// Runs every check on a validated contract, with last year's data when given.
pub fn lint(contract: &Contract, history: Option<&History>, opts: &LintOptions) -> LintReport {
    let mut l = Linter {
        contract,
        history,
        opts,
        assumptions: BTreeMap::new(),
        findings: Vec::new(),
    };
    l.contingent_share();
    l.nte_below_full();
    l.cliff();
    let no_effect = l.paying_for_chance();
    l.cream_skimming();
    l.missing_score_incentive(no_effect);
    l.cross_fault(no_effect);
    l.norms();
    l.findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.check.cmp(b.check)));
    LintReport {
        contract_id: contract.id.clone(),
        assumptions: l.assumptions,
        findings: l.findings,
    }
}

struct Linter<'a> {
    contract: &'a Contract,
    history: Option<&'a History>,
    opts: &'a LintOptions,
    assumptions: BTreeMap<String, String>,
    findings: Vec<Finding>,
}

/// Whom the cream-skimming check leaves out.
#[derive(Clone, Copy)]
enum Dropped {
    LowestBaseline,
    LowestAttendance,
}

impl Dropped {
    fn as_str(self) -> &'static str {
        match self {
            Dropped::LowestBaseline => "lowest baseline",
            Dropped::LowestAttendance => "lowest attendance",
        }
    }
}

fn pct(share: Decimal) -> String {
    format!(
        "{}%",
        (share * Decimal::ONE_HUNDRED).round_dp(1).normalize()
    )
}

fn money(amount: Decimal) -> String {
    format!("${}", format_cents(amount))
}

impl Linter<'_> {
    fn add(
        &mut self,
        check: &'static str,
        severity: Severity,
        message: String,
        numbers: &[(&str, String)],
    ) {
        self.findings.push(Finding {
            check,
            severity,
            message,
            numbers: numbers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        });
    }

    fn assume(&mut self, name: &str, value: String) {
        self.assumptions.insert(name.to_string(), value);
    }

    fn contingent_share(&mut self) {
        let share = self.contract.contingent_share;
        let numbers = [
            ("contingent_share", share.normalize().to_string()),
            ("recommended_range", "0.20-0.60".to_string()),
        ];
        let (low, high, sef) = (
            Decimal::new(20, 2),
            Decimal::new(60, 2),
            Decimal::new(40, 2),
        );
        if share < low || share > high {
            let why = if share < low {
                "so little of the price depends on results that the provider carries almost no risk for them"
            } else {
                "so much of the price depends on results that a provider must price in the risk, or cannot finance the tutoring at all"
            };
            self.add(
                "contingent_share",
                Severity::Warning,
                format!(
                    "{} of the price depends on results, outside the usual 20%-60%: {why}.",
                    pct(share)
                ),
                &numbers,
            );
        } else if share < sef {
            self.add(
                "contingent_share",
                Severity::Info,
                format!(
                    "{} of the price depends on results; the Stanford-based SEF guidance asks for at least 40%.",
                    pct(share)
                ),
                &numbers,
            );
        }
    }

    fn nte_below_full(&mut self) {
        let k = self.contract;
        let students = match (self.opts.students, self.history) {
            (Some(n), _) => {
                self.assume("students", format!("{n} (--students)"));
                n
            }
            (None, Some(h)) if !h.students.is_empty() => {
                let n = h.students.len() as u32;
                self.assume(
                    "students",
                    format!("{n} (students with a score in the history)"),
                );
                n
            }
            _ => {
                self.add(
                    "nte_below_full",
                    Severity::Info,
                    "Not checked: give the enrolled or target count (--students N) or a history."
                        .to_string(),
                    &[],
                );
                return;
            }
        };
        let top_pays = k.rate_card.iter().map(|t| t.pays).max().unwrap_or_default();
        let best_adjust = k
            .school_adjustments
            .iter()
            .flat_map(|a| a.bands.iter().map(|b| b.adjust))
            .max()
            .unwrap_or_default()
            .max(Decimal::ZERO);
        let n = Decimal::from(students);
        let at_price = n * k.price_per_student;
        let full =
            n * (k.base_part() + k.contingent_part() * top_pays * (Decimal::ONE + best_adjust));
        let numbers = [
            ("students", students.to_string()),
            ("not_to_exceed", money(k.not_to_exceed)),
            ("cost_at_price", money(at_price)),
            ("cost_at_full_performance", money(full)),
        ];
        if k.not_to_exceed < at_price {
            self.add(
                "nte_below_full",
                Severity::Error,
                format!(
                    "The cap ({}) is below the price of {students} students ({}): the contract cannot pay the agreed price even if every student just meets the target.",
                    money(k.not_to_exceed),
                    money(at_price)
                ),
                &numbers,
            );
        } else if k.not_to_exceed < full {
            self.add(
                "nte_below_full",
                Severity::Warning,
                format!(
                    "The cap ({}) is below what full performance of {students} students costs ({}: every student in the top tier{}): the best results would not be paid in full.",
                    money(k.not_to_exceed),
                    money(full),
                    if best_adjust > Decimal::ZERO { " and the best school adjustment" } else { "" }
                ),
                &numbers,
            );
        }
    }

    /// The change of the measure one RIT point of growth makes (1% of the range for
    /// percentiles, one point for scores).
    fn measure_step(&self, projected: Decimal) -> Decimal {
        match self.contract.outcome.measure {
            Measure::GrowthVsProjected => Decimal::ONE / projected,
            Measure::MetProjected
            | Measure::RitGain
            | Measure::Score
            | Measure::ConditionalGrowthPercentile => Decimal::ONE,
        }
    }

    fn cliff(&mut self) {
        let k = self.contract;
        let projected = self.typical_projection();
        let step = self.measure_step(projected);
        let limit = k.price_per_student * self.opts.cliff_share;
        self.assume(
            "cliff_share",
            format!(
                "{} of the price = {} (--cliff-share)",
                self.opts.cliff_share.normalize(),
                money(limit)
            ),
        );
        let measure = k.outcome.measure.as_str();
        for (i, upper) in k.rate_card.iter().enumerate() {
            let (Some(edge), Some(lower)) = (upper.min, k.rate_card.get(i + 1)) else {
                continue;
            };
            // Every tier whose minimum lies within one small step above the edge is crossed.
            let reached = k
                .rate_card
                .iter()
                .find(|t| t.min.is_none_or(|m| m < edge + step))
                .expect("validated: the last tier's min is -inf");
            let jump = k.contingent_part() * (reached.pays - lower.pays);
            if jump > limit {
                self.add(
                    "cliff",
                    Severity::Warning,
                    format!(
                        "At the edge between tiers \"{}\" and \"{}\" ({measure} {}), a change of {} in the measure (one RIT point of growth, or 1% of its range) moves one student's pay by {}, more than {} of the price ({}). Such cliffs reward nudging scores near the edge; consider more, smaller tiers.",
                        lower.name,
                        upper.name,
                        edge.normalize(),
                        step.round_dp(4).normalize(),
                        money(jump),
                        pct(self.opts.cliff_share),
                        money(limit)
                    ),
                    &[
                        ("edge", format!("{} -> {}", lower.name, reached.name)),
                        ("edge_min", edge.normalize().to_string()),
                        ("measure_step", step.round_dp(4).normalize().to_string()),
                        ("pay_jump", money(jump)),
                        ("limit", money(limit)),
                    ],
                );
            }
        }
    }

    /// The projected growth of a typical student: the history's median, else the contract's
    /// table's median, else the flag's default; recorded as an assumption.
    fn typical_projection(&mut self) -> Decimal {
        let (mut values, source) = self.projections();
        values.sort();
        let median = values[values.len() / 2];
        self.assume(
            "projected_growth_typical",
            format!("{} RIT ({source}, median)", median.normalize()),
        );
        median
    }

    /// Projected growth values to model students with, and where they come from.
    fn projections(&self) -> (Vec<Decimal>, &'static str) {
        if let Some(h) = self.history {
            let v: Vec<Decimal> = h
                .students
                .iter()
                .filter_map(|s| s.projected)
                .filter(|p| *p > Decimal::ZERO)
                .collect();
            if !v.is_empty() {
                return (v, "history");
            }
        }
        let table: Vec<Decimal> = self
            .contract
            .outcome
            .projected
            .values()
            .copied()
            .filter(|p| *p > Decimal::ZERO)
            .collect();
        if !table.is_empty() {
            return (table, "[outcome.projected], one per grade");
        }
        (
            vec![self.opts.projected_growth],
            "--projected-growth default",
        )
    }

    /// The measurement error of a growth score from the history's `TestStandardError`s:
    /// the square root of the mean, over students with both, of the baseline's and the
    /// outcome's squared errors (independent errors: variances add). Recorded as an
    /// assumption whenever a history is given.
    fn growth_measurement_error(&mut self) -> Option<Decimal> {
        let h = self.history?;
        let variances: Vec<Decimal> = h
            .students
            .iter()
            .filter_map(HistoryStudent::growth_error_variance)
            .collect();
        if variances.is_empty() {
            self.assume(
                "growth_measurement_error",
                "not in the history (no TestStandardError on both tests of any student)".into(),
            );
            return None;
        }
        let mean = variances.iter().sum::<Decimal>() / Decimal::from(variances.len() as u64);
        let error = sqrt_hundredths(mean);
        self.assume(
            "growth_measurement_error",
            format!(
                "{} RIT (TestStandardError of the baseline and outcome tests of {} students of the history: square root of the mean of SE_baseline^2 + SE_outcome^2)",
                error.normalize(),
                variances.len()
            ),
        );
        Some(error)
    }

    /// The spread of observed minus projected growth: from the history when it has two
    /// students or more with both scores and a projection (never below the measurement error
    /// of a growth score, which that spread contains), else the measurement error of the
    /// history's `TestStandardError`s, else the option.
    fn growth_sd(&mut self) -> Decimal {
        let deviations: Vec<Decimal> = self
            .history
            .map(|h| {
                h.students
                    .iter()
                    .filter_map(|s| s.growth_minus_projected())
                    .collect()
            })
            .unwrap_or_default();
        let error = self.growth_measurement_error();
        let sd = if deviations.len() >= 2 {
            let n = Decimal::from(deviations.len() as u64);
            let mean = deviations.iter().sum::<Decimal>() / n;
            let var = deviations
                .iter()
                .map(|d| (d - mean) * (d - mean))
                .sum::<Decimal>()
                / (n - Decimal::ONE);
            let spread = sqrt_hundredths(var);
            let sd = spread.max(error.unwrap_or_default());
            let raised = if sd > spread {
                format!(
                    "; raised from {} to the measurement error of a growth score, which the observed spread contains",
                    spread.normalize()
                )
            } else {
                String::new()
            };
            self.assume(
                "growth_sd",
                format!(
                    "{} RIT (observed minus projected growth of {} students of the history; mean {}{raised})",
                    sd.normalize(),
                    deviations.len(),
                    mean.round_dp(2).normalize()
                ),
            );
            sd
        } else if let Some(error) = error {
            self.assume(
                "growth_sd",
                format!(
                    "{} RIT (the measurement error of a growth score from the history's TestStandardError; too few students with both scores and a projection for an observed spread)",
                    error.normalize()
                ),
            );
            error
        } else {
            self.assume(
                "growth_sd",
                format!(
                    "{} RIT (--growth-sd default; SPEC 7: a growth score's error is about 4.5-5)",
                    self.opts.growth_sd.normalize()
                ),
            );
            self.opts.growth_sd
        };
        let grid = Decimal::new(1, 1);
        if sd < grid {
            self.assume(
                "growth_sd_floor",
                format!("{grid} RIT used: the noise is evaluated on a {grid} RIT grid, so a smaller spread is taken as one step"),
            );
        }
        sd.max(grid)
    }

    /// Returns the share of the contingent part a provider with no effect earns on average.
    fn paying_for_chance(&mut self) -> Option<Decimal> {
        let k = self.contract;
        if k.outcome.measure == Measure::Score {
            self.add(
                "paying_for_chance",
                Severity::Info,
                "Not computed for the measure `score`: a scale score has no projection to compare with.".to_string(),
                &[],
            );
            return None;
        }
        let sd = self.growth_sd();
        let (projections, source) = self.projections();
        let mut groups: BTreeMap<Decimal, u32> = BTreeMap::new();
        for p in projections {
            *groups.entry(p.normalize()).or_insert(0) += 1;
        }
        self.assume(
            "projected_growth",
            format!("{} distinct value(s) from {source}", groups.len()),
        );
        self.assume(
            "noise",
            "observed growth = projected + effect + noise; noise = sum of 12 uniforms (Irwin-Hall, close to normal) with the growth_sd, on a 0.1 RIT grid".to_string(),
        );
        let noise = Noise::new(sd);
        let model = Model {
            contract: k,
            noise: &noise,
            groups: &groups,
        };
        let chance = model.expected_share(Decimal::ZERO);
        let target = self.opts.effect_target;
        self.assume(
            "effect_target",
            format!("{} of the contingent part (--effect-target)", pct(target)),
        );
        let c = k.contingent_part();
        let effect_text = |share: Decimal| {
            model.effect_needed(share).map_or_else(
                || "more than 100 RIT (never reached)".to_string(),
                |d| format!("{} RIT", d.normalize()),
            )
        };
        let needed_text = effect_text(target);
        // SPEC 7: the effect needed to earn the full contingent part, beside the target's.
        let full_text = effect_text(Decimal::ONE);
        let numbers = [
            ("no_effect_share", pct(chance)),
            ("no_effect_pay_per_student", money(c * chance)),
            ("effect_needed_for_target", needed_text.clone()),
            ("effect_needed_for_full_contingent_part", full_text.clone()),
            ("growth_sd", format!("{} RIT", sd.normalize())),
        ];
        let message = format!(
            "A provider with no effect at all (students grow as projected, give or take the noise of a growth score) would earn {} of the contingent part on average ({} per student). To earn {} of it on average, a provider needs an effect of {needed_text} of growth beyond the projection; to earn all of it, {full_text}.",
            pct(chance),
            money(c * chance),
            pct(target)
        );
        let half = Decimal::new(5, 1);
        let severity = if chance > half {
            Severity::Warning
        } else {
            Severity::Info
        };
        let message = if severity == Severity::Warning {
            format!("{message} The contract pays more than half of its contingent part for chance.")
        } else {
            message
        };
        self.add("paying_for_chance", severity, message, &numbers);
        Some(chance)
    }

    fn cream_skimming(&mut self) {
        let Some(h) = self.history.filter(|h| !h.students.is_empty()) else {
            self.add(
                "cream_skimming",
                Severity::Info,
                "Not checked: give last year's results (--history DIR) to see whether dropping the weakest students would raise the pay per student.".to_string(),
                &[],
            );
            return;
        };
        let k = self.contract;
        // The engine's share for the student's actual year: with sessions, SPEC 5.4's first
        // rule that applies; without, the tier of the measure or the missing-score rule.
        let share_of = |s: &HistoryStudent| -> Decimal {
            let measure = match (s.baseline, s.outcome) {
                (Some(b), Some(o)) => measure_of(k.outcome.measure, o, o - b, s.projected, s.cgp).0,
                _ => None,
            };
            match (s.sessions, measure) {
                (Some(counts), _) => contingent_rule(k, &counts, measure).pays(k),
                (None, Some(m)) => k.rate_card[tier_index(k, m)].pays,
                (None, None) if k.outcome.missing_score == Responsible::District => Decimal::ONE,
                (None, None) => Decimal::ZERO,
            }
        };
        self.assume(
            "drop_share",
            format!(
                "{} of the students with a baseline, and of those with sessions offered (cream_skimming)",
                pct(self.opts.drop_share)
            ),
        );
        let by_baseline: Vec<(Option<Decimal>, Decimal)> = h
            .students
            .iter()
            .map(|s| (s.baseline, share_of(s)))
            .collect();
        self.drop_and_compare(h, Dropped::LowestBaseline, by_baseline);
        match (h.sessions_counted, h.school_year_days()) {
            (Some(n), Some((first, last))) => {
                self.assume(
                    "sessions",
                    format!(
                        "{n} sessions of the history's students from {first} to {last}, subject blank or {} (sessions.csv)",
                        k.subject
                    ),
                );
                let by_attendance: Vec<(Option<Decimal>, Decimal)> = h
                    .students
                    .iter()
                    .map(|s| (s.attendance_rate(), share_of(s)))
                    .collect();
                self.drop_and_compare(h, Dropped::LowestAttendance, by_attendance);
            }
            _ => self.assume(
                "sessions",
                "none (no sessions.csv in the history): dropping the students with the most absences is not checked".into(),
            ),
        }
    }

    /// Compares the contingent pay per student of every history student with the same
    /// without the `drop_share` (rounded down) of students with the lowest key; students
    /// without a key are always kept. `students`: (key, share of the contingent part).
    fn drop_and_compare(
        &mut self,
        h: &History,
        dropped_by: Dropped,
        students: Vec<(Option<Decimal>, Decimal)>,
    ) {
        let k = self.contract;
        let (mut ranked, unranked): (Vec<_>, Vec<_>) =
            students.into_iter().partition(|(key, _)| key.is_some());
        // By key only, ties in student id order: never by pay, which would bias the check.
        ranked.sort_by_key(|(key, _)| *key);
        let dropped = (Decimal::from(ranked.len() as u64) * self.opts.drop_share)
            .floor()
            .try_into()
            .unwrap_or(0usize);
        if dropped == 0 {
            return;
        }
        let mean = |v: &mut dyn Iterator<Item = Decimal>| {
            let (sum, n) = v.fold((Decimal::ZERO, 0u64), |(s, n), x| (s + x, n + 1));
            if n == 0 {
                Decimal::ZERO
            } else {
                sum / Decimal::from(n)
            }
        };
        let shares = |from: usize| ranked[from..].iter().chain(&unranked).map(|r| r.1);
        let c = k.contingent_part();
        let all = c * mean(&mut shares(0));
        let kept = c * mean(&mut shares(dropped));
        let cut = ranked[dropped - 1].0.unwrap_or_default();
        let (cut_name, cut_text, who) = match dropped_by {
            Dropped::LowestBaseline => (
                "baseline_at_or_below",
                cut.normalize().to_string(),
                format!(
                    "the {dropped} students with the lowest {} scores (at or below {})",
                    k.outcome.from_term.as_str(),
                    cut.normalize()
                ),
            ),
            Dropped::LowestAttendance => (
                "attendance_at_or_below",
                pct(cut),
                format!(
                    "the {dropped} students who missed the most sessions (attendance at or below {})",
                    pct(cut)
                ),
            ),
        };
        let numbers = [
            ("students", h.students.len().to_string()),
            ("dropped", dropped.to_string()),
            ("dropped_by", dropped_by.as_str().to_string()),
            (cut_name, cut_text),
            ("pay_per_student_all", money(all)),
            ("pay_per_student_without_dropped", money(kept)),
            ("history_year", h.school_year.clone()),
        ];
        if kept > all {
            self.add(
                "cream_skimming",
                Severity::Warning,
                format!(
                    "With last year's results, leaving out {who} would raise the contingent pay per student from {} to {}: the contract rewards a provider for not serving the students who need it most.",
                    money(all),
                    money(kept)
                ),
                &numbers,
            );
        } else {
            self.add(
                "cream_skimming",
                Severity::Info,
                format!(
                    "With last year's results, leaving out {who} would not raise the contingent pay per student ({} with them, {} without).",
                    money(all),
                    money(kept)
                ),
                &numbers,
            );
        }
    }

    fn missing_score_incentive(&mut self, tested: Option<Decimal>) {
        let k = self.contract;
        let c = k.contingent_part();
        match (k.outcome.missing_score, tested) {
            (Responsible::District, Some(tested)) if tested < Decimal::ONE => self.add(
                "missing_score_incentive",
                Severity::Warning,
                format!(
                    "A student with a missing score earns the contingent part in full ({}) while a tested student is expected to earn {} ({}): the provider gains when weak students are not tested. Consider missing_score = \"exclude\".",
                    money(c),
                    pct(tested),
                    money(c * tested)
                ),
                &[
                    ("missing_score_pay", money(c)),
                    ("tested_expected_pay", money(c * tested)),
                ],
            ),
            (Responsible::Provider, Some(tested)) if tested > Decimal::ZERO => self.add(
                "missing_score_incentive",
                Severity::Warning,
                format!(
                    "A student with a missing score earns nothing while a tested student is expected to earn {} ({}): the district, which gives the test, saves money when a student is not tested. Consider missing_score = \"exclude\".",
                    pct(tested),
                    money(c * tested)
                ),
                &[
                    ("missing_score_pay", money(Decimal::ZERO)),
                    ("tested_expected_pay", money(c * tested)),
                ],
            ),
            _ => {}
        }
    }

    fn cross_fault(&mut self, tested: Option<Decimal>) {
        let k = self.contract;
        let c = k.contingent_part();
        let att = &k.attendance;
        let tested = tested.unwrap_or(Decimal::ONE);
        let numbers = |low: Decimal| {
            [
                ("min_rate", att.min_rate.normalize().to_string()),
                ("low_attendance_pay", money(low)),
                ("attending_expected_pay", money(c * tested)),
            ]
        };
        match att.responsible {
            Responsible::District if tested < Decimal::ONE => self.add(
                "cross_fault",
                Severity::Warning,
                format!(
                    "With responsible = \"district\", a student who attends less than {} of offered sessions earns the contingent part in full ({}), more than an attending student is expected to earn ({}): the provider, who records attendance itself, gains when students stop coming.",
                    pct(att.min_rate),
                    money(c),
                    money(c * tested)
                ),
                &numbers(c),
            ),
            Responsible::Provider => self.add(
                "cross_fault",
                Severity::Warning,
                format!(
                    "With responsible = \"provider\", the district pays no contingent part for a student who attends less than {} of offered sessions, though whether students come is largely in the school's hands; the only floor protecting the provider is sessions recorded as cancelled by the district. The district saves {} per absent student. Consider responsible = \"exclude\".",
                    pct(att.min_rate),
                    money(c * tested)
                ),
                &numbers(Decimal::ZERO),
            ),
            _ => {}
        }
    }

    fn norms(&mut self) {
        let pinned = self.contract.outcome.norms.clone();
        let Some(h) = self.history else {
            if pinned.is_none() {
                self.add(
                    "norms",
                    Severity::Info,
                    "The contract does not pin outcome.norms; give --history to check whether the data mixes NWEA norms editions.".to_string(),
                    &[],
                );
            }
            return;
        };
        let editions = h
            .norms
            .iter()
            .map(|(e, n)| format!("{e} ({n} tests)"))
            .collect::<Vec<_>>()
            .join(", ");
        match pinned {
            None if h.norms.len() >= 2 => self.add(
                "norms",
                Severity::Warning,
                format!(
                    "The history mixes NWEA norms editions ({editions}) and the contract does not say which one its projections use: projected growth differs between editions. Set outcome.norms."
                ),
                &[("editions", editions.clone())],
            ),
            Some(p) if h.norms.keys().any(|e| *e != p) => self.add(
                "norms",
                Severity::Warning,
                format!(
                    "The contract pins norms {p} but the history has tests of other editions ({editions}): their projections differ and would be flagged on statements."
                ),
                &[("editions", editions.clone()), ("pinned", p.clone())],
            ),
            _ => {}
        }
    }
}

/// Square root to hundredths, rounded down, by integer arithmetic (no floats).
fn sqrt_hundredths(value: Decimal) -> Decimal {
    let scaled: u128 = (value.max(Decimal::ZERO) * Decimal::from(10_000))
        .floor()
        .try_into()
        .unwrap_or(u128::MAX / 4);
    let mut root = 0u128;
    let mut bit = 1u128 << 100;
    while bit > scaled {
        bit >>= 2;
    }
    let mut rest = scaled;
    while bit != 0 {
        if rest >= root + bit {
            rest -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    Decimal::from(root as u64) / Decimal::ONE_HUNDRED
}

/// The noise of a growth score: sd x (sum of 12 uniforms on [0, 1] - 6), whose variance is
/// exactly sd^2, discretised in 0.1 RIT cells (each carries its exact Irwin-Hall probability).
struct Noise {
    sd: Decimal,
    /// (offset in RIT, probability)
    cells: Vec<(Decimal, Decimal)>,
}

impl Noise {
    fn new(sd: Decimal) -> Noise {
        let tenth = Decimal::new(1, 1);
        let half = Decimal::new(5, 2);
        let reach: i64 = (sd * Decimal::from(60)).ceil().try_into().unwrap_or(600);
        // Cells [j/10, (j+1)/10) represented by their middle: an edge at a whole tenth (met
        // the projection, a RIT gain) falls between cells, never inside one.
        let cells = (-reach..reach)
            .map(|j| {
                let from = Decimal::from(j) * tenth;
                let p = Noise::cdf(sd, from + tenth) - Noise::cdf(sd, from);
                (from + half, p)
            })
            .collect();
        Noise { sd, cells }
    }

    /// P(noise < e).
    fn cdf(sd: Decimal, e: Decimal) -> Decimal {
        irwin_hall_12(Decimal::from(6) + e / sd)
    }
}

/// The distribution function of the sum of 12 independent uniforms on [0, 1].
fn irwin_hall_12(x: Decimal) -> Decimal {
    let six = Decimal::from(6);
    let twelve = Decimal::from(12);
    if x <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    if x >= twelve {
        return Decimal::ONE;
    }
    if x > six {
        return Decimal::ONE - irwin_hall_12(twelve - x);
    }
    const BINOMIAL: [i64; 7] = [1, 12, 66, 220, 495, 792, 924];
    let factorial_12 = Decimal::from(479_001_600i64);
    let mut sum = Decimal::ZERO;
    let mut k = 0i64;
    while Decimal::from(k) < x && k <= 6 {
        let base = x - Decimal::from(k);
        let mut power = Decimal::ONE;
        for _ in 0..12 {
            power *= base;
        }
        let term = Decimal::from(BINOMIAL[k as usize]) * power;
        sum = if k % 2 == 0 { sum + term } else { sum - term };
        k += 1;
    }
    sum / factorial_12
}

/// Students grouped by projected growth, priced with the engine's measure and tier rules.
struct Model<'a> {
    contract: &'a Contract,
    noise: &'a Noise,
    groups: &'a BTreeMap<Decimal, u32>,
}

impl Model<'_> {
    /// Average `pays` of the tier reached (before any school adjustment) when observed growth
    /// is projected + effect + noise.
    fn expected_share(&self, effect: Decimal) -> Decimal {
        let k = self.contract;
        let total: u32 = self.groups.values().sum();
        let mut sum = Decimal::ZERO;
        for (projected, count) in self.groups {
            let mut group = Decimal::ZERO;
            for (e, p) in &self.noise.cells {
                let growth_minus_projected = effect + e;
                let observed = *projected + growth_minus_projected;
                // Growth among similar students is spread like the noise, so the percentile of
                // this growth is the noise's distribution function there.
                let cgp = (k.outcome.measure == Measure::ConditionalGrowthPercentile).then(|| {
                    (Noise::cdf(self.noise.sd, growth_minus_projected) * Decimal::ONE_HUNDRED)
                        .round()
                        .clamp(Decimal::ONE, Decimal::from(99))
                });
                let measure =
                    measure_of(k.outcome.measure, observed, observed, Some(*projected), cgp).0;
                if let Some(m) = measure {
                    group += p * k.rate_card[tier_index(k, m)].pays;
                }
            }
            sum += group * Decimal::from(*count);
        }
        (sum / Decimal::from(total.max(1))).round_dp(6)
    }

    /// The smallest effect, in tenths of a RIT point up to 100, whose expected share reaches
    /// the target (the share rises with the effect: tiers pay more for more growth).
    fn effect_needed(&self, target: Decimal) -> Option<Decimal> {
        let tenth = Decimal::new(1, 1);
        let (mut lo, mut hi) = (0i64, 1000i64);
        if self.expected_share(Decimal::from(hi) * tenth) < target {
            return None;
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.expected_share(Decimal::from(mid) * tenth) >= target {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(Decimal::from(lo) * tenth)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::SessionCounts;

    const EXAMPLE: &str = include_str!("../../tests/contract_example.toml");

    pub(crate) fn example() -> Contract {
        Contract::parse(EXAMPLE).unwrap()
    }

    fn with(edits: &[(&str, &str)]) -> Contract {
        let mut source = EXAMPLE.to_string();
        for (from, to) in edits {
            assert!(source.contains(from), "{from}");
            source = source.replacen(from, to, 1);
        }
        Contract::parse(&source).unwrap()
    }

    fn findings(
        contract: &Contract,
        history: Option<&History>,
        opts: &LintOptions,
        check: &str,
    ) -> Vec<Finding> {
        lint(contract, history, opts)
            .findings
            .into_iter()
            .filter(|f| f.check == check && f.severity > Severity::Info)
            .collect()
    }

    fn flagged(contract: &Contract, check: &str) -> bool {
        !findings(contract, None, &LintOptions::default(), check).is_empty()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn irwin_hall_is_symmetric_and_has_the_right_spread() {
        assert_eq!(irwin_hall_12(Decimal::from(6)), d("0.5"));
        let noise = Noise::new(Decimal::from(5));
        let total: Decimal = noise.cells.iter().map(|c| c.1).sum();
        assert_eq!(total.round_dp(12), Decimal::ONE);
        let var: Decimal = noise.cells.iter().map(|(e, p)| e * e * p).sum();
        // sd^2 = 25, give or take the grid's own variance (0.1^2 / 12).
        assert!((var - d("25")).abs() < d("0.01"), "{var}");
    }

    #[test]
    fn sqrt_is_exact_on_squares() {
        assert_eq!(sqrt_hundredths(d("25")), d("5"));
        assert_eq!(sqrt_hundredths(d("2")), d("1.41"));
    }

    #[test]
    fn contingent_share_outside_the_range_is_flagged() {
        assert!(flagged(
            &with(&[("contingent_share = \"0.40\"", "contingent_share = \"0.70\"")]),
            "contingent_share"
        ));
        assert!(!flagged(&example(), "contingent_share"));
    }

    #[test]
    fn nte_below_the_price_of_the_students_is_an_error() {
        let opts = LintOptions {
            students: Some(501),
            ..LintOptions::default()
        };
        let f = findings(&example(), None, &opts, "nte_below_full");
        assert_eq!(f[0].severity, Severity::Error, "600000 < 501 x 1200");
        let opts = LintOptions {
            students: Some(450),
            ..LintOptions::default()
        };
        let f = findings(&example(), None, &opts, "nte_below_full");
        assert_eq!(
            f[0].severity,
            Severity::Warning,
            "top tier and school bonus exceed the cap"
        );
        let opts = LintOptions {
            students: Some(100),
            ..LintOptions::default()
        };
        assert!(findings(&example(), None, &opts, "nte_below_full").is_empty());
    }

    #[test]
    fn big_steps_between_tiers_are_cliffs_named_by_their_edges() {
        let f = findings(&example(), None, &LintOptions::default(), "cliff");
        assert_eq!(
            f.len(),
            2,
            "meets/approaching and approaching/below step 240 > 120"
        );
        assert_eq!(f[0].numbers["edge"], "approaching -> meets");
        let gentle = LintOptions {
            cliff_share: d("0.25"),
            ..LintOptions::default()
        };
        assert!(findings(&example(), None, &gentle, "cliff").is_empty());
    }

    #[test]
    fn a_no_effect_provider_earning_over_half_is_paying_for_chance() {
        let f = findings(
            &example(),
            None,
            &LintOptions::default(),
            "paying_for_chance",
        );
        assert_eq!(f.len(), 1);
        let strict = with(&[
            ("min = \"1.50\"", "min = \"2.50\""),
            ("min = \"1.00\"", "min = \"2.00\""),
            ("min = \"0.50\"", "min = \"1.50\""),
        ]);
        let report = lint(&strict, None, &LintOptions::default());
        let info = report
            .findings
            .iter()
            .find(|f| f.check == "paying_for_chance")
            .unwrap();
        assert_eq!(info.severity, Severity::Info);
        assert!(info.numbers["effect_needed_for_target"].ends_with("RIT"));
        // Earning all of the contingent part takes a larger effect than earning 90% of it.
        let rit =
            |key: &str| -> Decimal { info.numbers[key].trim_end_matches(" RIT").parse().unwrap() };
        assert!(
            rit("effect_needed_for_full_contingent_part") > rit("effect_needed_for_target"),
            "{:?}",
            info.numbers
        );
    }

    #[test]
    fn a_no_effect_provider_has_uniform_percentiles() {
        let k = with(&[
            (
                "measure = \"growth_vs_projected\"",
                "measure = \"conditional_growth_percentile\"",
            ),
            ("min = \"1.50\"", "min = \"75\""),
            ("min = \"1.00\"", "min = \"50\""),
            ("min = \"0.50\"", "min = \"25\""),
        ]);
        let report = lint(&k, None, &LintOptions::default());
        let f = report
            .findings
            .iter()
            .find(|f| f.check == "paying_for_chance")
            .unwrap();
        // About a quarter of students in each tier: (1.25 + 1 + 0.5 + 0) / 4 = 68.75%.
        assert!(
            f.numbers["no_effect_share"].starts_with("6"),
            "{:?}",
            f.numbers
        );
    }

    #[test]
    fn met_projected_pays_half_to_chance() {
        let k = with(&[(
            "measure = \"growth_vs_projected\"",
            "measure = \"met_projected\"",
        )]);
        let report = lint(&k, None, &LintOptions::default());
        let f = report
            .findings
            .iter()
            .find(|f| f.check == "paying_for_chance")
            .unwrap();
        assert_eq!(f.numbers["no_effect_share"], "50%");
    }

    fn history(students: &[(&str, &str, &str)]) -> History {
        History {
            school_year: "2023-2024".into(),
            students: students
                .iter()
                .enumerate()
                .map(|(i, (b, o, p))| HistoryStudent {
                    baseline: Some(d(b)),
                    outcome: Some(d(o)),
                    projected: Some(d(p)),
                    ..HistoryStudent::new(&format!("s{i}"))
                })
                .collect(),
            norms: BTreeMap::new(),
            sessions_counted: None,
        }
    }

    /// Forty offered sessions, `attended` of them attended, all with one tutor.
    fn attending(attended: u32) -> SessionCounts {
        SessionCounts {
            planned: 40,
            attended,
            student_absent: 40 - attended,
            same_tutor: attended,
            ..SessionCounts::default()
        }
    }

    /// Twenty students who all meet the projection; the first two attend 10 of 40 sessions.
    fn history_with_absences() -> History {
        let mut h = history(&vec![("200", "208", "8"); 20]);
        for (i, s) in h.students.iter_mut().enumerate() {
            s.sessions = Some(attending(if i < 2 { 10 } else { 36 }));
        }
        h.sessions_counted = Some(800);
        h
    }

    fn cream(contract: &Contract, h: &History) -> Vec<Finding> {
        lint(contract, Some(h), &LintOptions::default())
            .findings
            .into_iter()
            .filter(|f| f.check == "cream_skimming")
            .collect()
    }

    #[test]
    fn dropping_the_most_absent_students_that_raises_pay_is_cream_skimming() {
        // The provider answers for attendance: the two absent students earn nothing.
        let k = with(&[("responsible = \"district\"", "responsible = \"provider\"")]);
        let h = history_with_absences();
        let f = cream(&k, &h);
        let absence = f
            .iter()
            .find(|f| f.numbers["dropped_by"] == "lowest attendance")
            .expect("an absence finding");
        assert_eq!(absence.severity, Severity::Warning, "{absence:?}");
        assert_eq!(absence.numbers["attendance_at_or_below"], "25%");
        assert_eq!(absence.numbers["pay_per_student_all"], "$432.00");
        assert_eq!(
            absence.numbers["pay_per_student_without_dropped"],
            "$480.00"
        );
        // The district answers for attendance: absent students are paid in full, dropping
        // them would not raise the pay.
        let f = cream(&example(), &h);
        let absence = f
            .iter()
            .find(|f| f.numbers["dropped_by"] == "lowest attendance")
            .expect("an absence finding");
        assert_eq!(absence.severity, Severity::Info);
        // Without a sessions file the check says it did not look.
        let mut no_sessions = history_with_absences();
        no_sessions.sessions_counted = None;
        for s in &mut no_sessions.students {
            s.sessions = None;
        }
        let report = lint(&k, Some(&no_sessions), &LintOptions::default());
        assert!(report.assumptions["sessions"].starts_with("none"));
        assert!(report.findings.iter().all(|f| f
            .numbers
            .get("dropped_by")
            .is_none_or(|d| d == "lowest baseline")));
    }

    /// A history of two students whose tests carry a standard error of `se` (or none).
    fn history_with_errors(rows: &[(&str, &str, &str)], se: Option<&str>) -> History {
        let mut h = history(rows);
        for s in &mut h.students {
            s.baseline_error = se.map(d);
            s.outcome_error = se.map(d);
        }
        h
    }

    #[test]
    fn test_standard_errors_give_the_noise_when_the_history_has_no_spread() {
        // One student: no observed spread. With TestStandardError 3.5 on both tests, a growth
        // score's error is sqrt(3.5^2 + 3.5^2) = 4.94 RIT.
        let h = history_with_errors(&[("200", "208", "8")], Some("3.5"));
        let report = lint(&example(), Some(&h), &LintOptions::default());
        assert!(
            report.assumptions["growth_sd"].starts_with("4.94 RIT (the measurement error"),
            "{:?}",
            report.assumptions
        );
        assert!(report.assumptions["growth_measurement_error"].starts_with("4.94 RIT"));
        // Without the column: the default, and the history says it has none.
        let h = history_with_errors(&[("200", "208", "8")], None);
        let report = lint(&example(), Some(&h), &LintOptions::default());
        assert!(report.assumptions["growth_sd"].starts_with("5 RIT (--growth-sd default"));
        assert!(report.assumptions["growth_measurement_error"].starts_with("not in the history"));
    }

    #[test]
    fn an_observed_spread_below_the_measurement_error_is_raised_to_it() {
        // Observed spread 0.70 RIT, measurement error 4.94 RIT: the spread cannot be smaller.
        let rows = [("200", "208", "8"), ("200", "209", "8")];
        let h = history_with_errors(&rows, Some("3.5"));
        let report = lint(&example(), Some(&h), &LintOptions::default());
        let sd = &report.assumptions["growth_sd"];
        assert!(
            sd.starts_with("4.94 RIT") && sd.contains("raised from 0.7"),
            "{sd}"
        );
        // A spread above the error is kept as observed.
        let rows = [("200", "204", "8"), ("200", "212", "8")];
        let h = history_with_errors(&rows, Some("1"));
        let report = lint(&example(), Some(&h), &LintOptions::default());
        let sd = &report.assumptions["growth_sd"];
        assert!(sd.starts_with("5.65 RIT") && !sd.contains("raised"), "{sd}");
    }

    #[test]
    fn dropping_weak_students_that_raise_pay_is_cream_skimming() {
        // Low baselines grow little: dropping them raises the pay per student.
        let mut rows = vec![("180", "181", "8"); 2];
        rows.extend(vec![("220", "230", "8"); 18]);
        let h = history(&rows);
        let f = findings(
            &example(),
            Some(&h),
            &LintOptions::default(),
            "cream_skimming",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].numbers["dropped"], "2");
        let mut rows = vec![("180", "195", "8"); 2];
        rows.extend(vec![("220", "228", "8"); 18]);
        let h = history(&rows);
        assert!(findings(
            &example(),
            Some(&h),
            &LintOptions::default(),
            "cream_skimming"
        )
        .is_empty());
    }

    #[test]
    fn history_spread_is_used_and_printed() {
        let h = history(&[("200", "204", "8"), ("200", "212", "8")]);
        let report = lint(&example(), Some(&h), &LintOptions::default());
        assert!(
            report.assumptions["growth_sd"].starts_with("5.65 RIT"),
            "{:?}",
            report.assumptions
        );
        assert!(report.assumptions["students"].starts_with("2 "));
    }

    #[test]
    fn a_missing_score_paid_in_full_is_an_incentive_not_to_test() {
        assert!(flagged(&example(), "missing_score_incentive"));
        let k = with(&[(
            "missing_score = \"district\"",
            "missing_score = \"exclude\"",
        )]);
        assert!(!flagged(&k, "missing_score_incentive"));
        // Paying nothing for a missing score rewards the district for not testing.
        let k = with(&[(
            "missing_score = \"district\"",
            "missing_score = \"provider\"",
        )]);
        assert!(flagged(&k, "missing_score_incentive"));
    }

    #[test]
    fn attendance_rules_that_reward_the_other_sides_failure_are_cross_fault() {
        assert!(flagged(&example(), "cross_fault"));
        let k = with(&[("responsible = \"district\"", "responsible = \"provider\"")]);
        assert!(flagged(&k, "cross_fault"));
        let k = with(&[("responsible = \"district\"", "responsible = \"exclude\"")]);
        assert!(!flagged(&k, "cross_fault"));
    }

    #[test]
    fn mixed_norms_without_a_pinned_edition_are_flagged() {
        let mut h = history(&[("200", "210", "8")]);
        h.norms.insert("2020".into(), 3);
        h.norms.insert("2025".into(), 2);
        assert_eq!(
            findings(&example(), Some(&h), &LintOptions::default(), "norms").len(),
            1
        );
        h.norms.remove("2025");
        assert!(findings(&example(), Some(&h), &LintOptions::default(), "norms").is_empty());
    }

    #[test]
    fn the_worst_severity_decides() {
        let opts = LintOptions {
            students: Some(501),
            ..LintOptions::default()
        };
        assert_eq!(lint(&example(), None, &opts).worst(), Some(Severity::Error));
        assert_eq!(
            lint(&example(), None, &LintOptions::default()).worst(),
            Some(Severity::Warning)
        );
    }
}
