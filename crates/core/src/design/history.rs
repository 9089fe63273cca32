//! Last year's data summarised for the design tools: per student the baseline and outcome
//! scores of the contract's terms, projected growth and conditional growth percentile, and the
//! norms editions the tests use. Plain data in, plain data out: the CLI reads the files.

use crate::contract::Contract;
use crate::model::{AssessmentResult, Term};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One student of the history, in the contract's terms of the history's school year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryStudent {
    pub student_id: String,
    pub baseline: Option<Decimal>,
    pub outcome: Option<Decimal>,
    pub projected: Option<Decimal>,
    pub cgp: Option<Decimal>,
}

impl HistoryStudent {
    /// Observed growth minus projected growth: the spread a provider with no effect faces.
    pub fn growth_minus_projected(&self) -> Option<Decimal> {
        Some(self.outcome? - self.baseline? - self.projected?)
    }
}

/// What the design tools learn from a history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The school year summarised (`2023-2024`): the latest with an outcome-term test.
    pub school_year: String,
    /// By student id.
    pub students: Vec<HistoryStudent>,
    /// Tests of the contract's subject per `NormsReferenceData` edition (blank ones left out).
    pub norms: BTreeMap<String, u32>,
}

/// Summarises the tests of the contract's subject and assessment: the latest school year that
/// has a test of the contract's outcome term, and in it each student's most recent valid test
/// of the baseline and outcome terms (valid as the engine counts it: a score, valid for growth,
/// rapid guessing below the contract's limit).
pub fn summarize(contract: &Contract, tests: &[AssessmentResult]) -> History {
    let outcome = &contract.outcome;
    let ours: Vec<&AssessmentResult> = tests
        .iter()
        .filter(|t| {
            t.subject.eq_ignore_ascii_case(&contract.subject)
                && t.assessment.eq_ignore_ascii_case(&outcome.assessment)
        })
        .collect();
    let mut norms = BTreeMap::new();
    for t in &ours {
        if let Some(n) = t.norms.as_deref().filter(|n| !n.trim().is_empty()) {
            *norms.entry(n.to_string()).or_insert(0) += 1;
        }
    }
    let school_year = ours
        .iter()
        .filter_map(|t| split_term(&t.term_name))
        .filter(|(term, _)| *term == outcome.to_term)
        .map(|(_, year)| year)
        .max()
        .unwrap_or_default()
        .to_string();
    let valid = |t: &&&AssessmentResult| {
        t.score.is_some()
            && t.growth_measure
            && !outcome.max_rapid_guessing.is_some_and(|max| {
                t.rapid_guessing_pct
                    .is_some_and(|p| p >= max * Decimal::ONE_HUNDRED)
            })
    };
    // Most recent by date then start time; on a tie the later row wins, as in the engine.
    let mut latest: BTreeMap<(&str, Term), &AssessmentResult> = BTreeMap::new();
    for t in ours.iter().filter(valid) {
        let Some((term, year)) = split_term(&t.term_name) else {
            continue;
        };
        if year != school_year || !(term == outcome.from_term || term == outcome.to_term) {
            continue;
        }
        let slot = latest.entry((t.student_id.as_str(), term)).or_insert(t);
        if (t.date, t.start_seconds) >= (slot.date, slot.start_seconds) {
            *slot = t;
        }
    }
    let window = outcome.window();
    let mut students: BTreeMap<&str, HistoryStudent> = BTreeMap::new();
    for ((id, term), t) in &latest {
        let s = students.entry(id).or_insert_with(|| HistoryStudent {
            student_id: id.to_string(),
            baseline: None,
            outcome: None,
            projected: None,
            cgp: None,
        });
        let growth = t.window(window);
        if *term == outcome.from_term {
            s.baseline = t.score;
            s.projected = growth.projected.or(s.projected);
        } else {
            s.outcome = t.score;
            s.projected = s.projected.or(growth.projected);
            s.cgp = growth.conditional_growth_percentile;
        }
    }
    History {
        school_year,
        students: students.into_values().collect(),
        norms,
    }
}

/// `Fall 2023-2024` -> (Fall, "2023-2024").
fn split_term(term_name: &str) -> Option<(Term, &str)> {
    let (season, year) = term_name.split_once(' ')?;
    Some((Term::parse(season)?, year))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WindowGrowth;
    use std::str::FromStr;

    fn test(id: &str, term: &str, score: &str, projected: Option<&str>) -> AssessmentResult {
        let mut growth: [WindowGrowth; 3] = Default::default();
        growth[crate::model::Window::FallToSpring as usize].projected =
            projected.map(|p| Decimal::from_str(p).unwrap());
        AssessmentResult {
            student_id: id.into(),
            assessment: "MAP Growth".into(),
            subject: "Mathematics".into(),
            term_name: term.into(),
            date: time::Date::from_calendar_date(2024, time::Month::January, 10).unwrap(),
            start_seconds: 0,
            score: Some(Decimal::from_str(score).unwrap()),
            percentile: None,
            rapid_guessing_pct: None,
            growth_measure: true,
            growth,
            test_id: None,
            norms: None,
        }
    }

    #[test]
    fn the_latest_year_with_an_outcome_test_is_summarised() {
        let contract = crate::design::lint::tests::example();
        let tests = vec![
            test("s1", "Fall 2022-2023", "190", Some("9")),
            test("s1", "Spring 2022-2023", "195", None),
            test("s1", "Fall 2023-2024", "200", Some("8")),
            test("s1", "Spring 2023-2024", "210", None),
            test("s2", "Fall 2023-2024", "220", Some("6")),
        ];
        let h = summarize(&contract, &tests);
        assert_eq!(h.school_year, "2023-2024");
        assert_eq!(h.students.len(), 2);
        assert_eq!(h.students[0].growth_minus_projected(), Some(Decimal::TWO));
        assert_eq!(h.students[1].outcome, None);
    }
}
