//! The judge: computes every enrolled student's progress at a date from the engine's statement
//! lines (docs/PROGRESS.md).

use super::*;
use crate::contract::{Contract, Measure, Milestone, Responsible, Tier};
use crate::engine::{self, EngineError, PriorPayments, StatementRequest, StudentInput};
use crate::model::{Term, Window};
use crate::money::round_cents;
use crate::statement::{Line, Statement};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use time::Date;

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

pub(super) fn contingent_milestone(contract: &Contract) -> &Milestone {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::testing::*;

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
}
