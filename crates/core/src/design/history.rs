//! Last year's data summarised for the design tools: per student the baseline and outcome
//! scores of the contract's terms with their standard errors, projected growth, conditional
//! growth percentile and session counts, and the norms editions the tests use. Plain data in,
//! plain data out: the CLI reads the files.

use crate::contract::Contract;
use crate::engine::SessionCounts;
use crate::model::{AssessmentResult, Session, SessionStatus, Term};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use time::{Date, Month};

/// One test of the history, with MAP's `TestStandardError` when the file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTest {
    pub result: AssessmentResult,
    pub standard_error: Option<Decimal>,
}

/// One student of the history, in the contract's terms of the history's school year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryStudent {
    pub student_id: String,
    pub baseline: Option<Decimal>,
    pub outcome: Option<Decimal>,
    pub projected: Option<Decimal>,
    pub cgp: Option<Decimal>,
    /// `TestStandardError` of the baseline and outcome tests, RIT points.
    pub baseline_error: Option<Decimal>,
    pub outcome_error: Option<Decimal>,
    /// The student's sessions of the school year, when a sessions file was given and has some.
    pub sessions: Option<SessionCounts>,
}

impl HistoryStudent {
    /// A student with scores only; the rest is filled as the files give it.
    pub fn new(student_id: &str) -> HistoryStudent {
        HistoryStudent {
            student_id: student_id.to_string(),
            baseline: None,
            outcome: None,
            projected: None,
            cgp: None,
            baseline_error: None,
            outcome_error: None,
            sessions: None,
        }
    }

    /// Observed growth minus projected growth: the spread a provider with no effect faces.
    pub fn growth_minus_projected(&self) -> Option<Decimal> {
        Some(self.outcome? - self.baseline? - self.projected?)
    }

    /// The variance of the measurement error of the student's growth score: the two tests'
    /// errors are independent, so their variances add.
    pub fn growth_error_variance(&self) -> Option<Decimal> {
        let (b, o) = (self.baseline_error?, self.outcome_error?);
        Some(b * b + o * o)
    }

    /// Attended over offered sessions (attended + student absent), as the engine's attendance
    /// rate (SPEC 5.1); `None` without sessions offered.
    pub fn attendance_rate(&self) -> Option<Decimal> {
        let c = self.sessions?;
        let offered = c.attended + c.student_absent;
        (offered > 0).then(|| Decimal::from(c.attended) / Decimal::from(offered))
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
    /// Sessions counted from a sessions file (`None`: no file was given).
    pub sessions_counted: Option<u64>,
}

/// Summarises the tests of the contract's subject and assessment: the latest school year that
/// has a test of the contract's outcome term, and in it each student's most recent valid test
/// of the baseline and outcome terms (valid as the engine counts it: a score, valid for growth,
/// rapid guessing below the contract's limit).
pub fn summarize(contract: &Contract, tests: &[HistoryTest]) -> History {
    let outcome = &contract.outcome;
    let ours: Vec<&HistoryTest> = tests
        .iter()
        .filter(|t| {
            t.result.subject.eq_ignore_ascii_case(&contract.subject)
                && t.result
                    .assessment
                    .eq_ignore_ascii_case(&outcome.assessment)
        })
        .collect();
    let mut norms = BTreeMap::new();
    for t in &ours {
        if let Some(n) = t.result.norms.as_deref().filter(|n| !n.trim().is_empty()) {
            *norms.entry(n.to_string()).or_insert(0) += 1;
        }
    }
    let school_year = ours
        .iter()
        .filter_map(|t| split_term(&t.result.term_name))
        .filter(|(term, _)| *term == outcome.to_term)
        .map(|(_, year)| year)
        .max()
        .unwrap_or_default()
        .to_string();
    let valid = |t: &&&HistoryTest| {
        let t = &t.result;
        t.score.is_some()
            && t.growth_measure
            && !outcome.max_rapid_guessing.is_some_and(|max| {
                t.rapid_guessing_pct
                    .is_some_and(|p| p >= max * Decimal::ONE_HUNDRED)
            })
    };
    // Most recent by date then start time; on a tie the later row wins, as in the engine.
    let mut latest: BTreeMap<(&str, Term), &HistoryTest> = BTreeMap::new();
    for t in ours.iter().filter(valid) {
        let Some((term, year)) = split_term(&t.result.term_name) else {
            continue;
        };
        if year != school_year || !(term == outcome.from_term || term == outcome.to_term) {
            continue;
        }
        let slot = latest
            .entry((t.result.student_id.as_str(), term))
            .or_insert(t);
        if (t.result.date, t.result.start_seconds) >= (slot.result.date, slot.result.start_seconds)
        {
            *slot = t;
        }
    }
    let window = outcome.window();
    let mut students: BTreeMap<&str, HistoryStudent> = BTreeMap::new();
    for ((id, term), t) in &latest {
        let s = students
            .entry(id)
            .or_insert_with(|| HistoryStudent::new(id));
        let growth = t.result.window(window);
        if *term == outcome.from_term {
            s.baseline = t.result.score;
            s.baseline_error = t.standard_error;
            s.projected = growth.projected.or(s.projected);
        } else {
            s.outcome = t.result.score;
            s.outcome_error = t.standard_error;
            s.projected = s.projected.or(growth.projected);
            s.cgp = growth.conditional_growth_percentile;
        }
    }
    History {
        school_year,
        students: students.into_values().collect(),
        norms,
        sessions_counted: None,
    }
}

impl History {
    /// The first and last day of the summarised school year: July 1 to June 30
    /// (`2023-2024`: 2023-07-01 to 2024-06-30).
    pub fn school_year_days(&self) -> Option<(Date, Date)> {
        let (first, _) = self.school_year.split_once('-')?;
        let first: i32 = first.parse().ok()?;
        Some((
            Date::from_calendar_date(first, Month::July, 1).ok()?,
            Date::from_calendar_date(first + 1, Month::June, 30).ok()?,
        ))
    }

    /// Counts each history student's sessions as the engine does (SPEC 5.1): every session
    /// of the school year whose subject is blank or the contract's (SPEC 3.3). Sessions of
    /// students without results in the history are left out: they have nothing to pay on.
    pub fn add_sessions(
        &mut self,
        contract: &Contract,
        sessions: impl IntoIterator<Item = Session>,
    ) {
        let Some((first, last)) = self.school_year_days() else {
            self.sessions_counted = Some(0);
            return;
        };
        let index: HashMap<String, usize> = self
            .students
            .iter()
            .enumerate()
            .map(|(i, s)| (s.student_id.clone(), i))
            .collect();
        let mut tallies: BTreeMap<usize, (SessionCounts, HashMap<String, u32>)> = BTreeMap::new();
        let mut counted = 0u64;
        for s in sessions {
            let subject_fits =
                s.subject.trim().is_empty() || s.subject.eq_ignore_ascii_case(&contract.subject);
            let Some(&i) = index.get(&s.student_id) else {
                continue;
            };
            if !subject_fits || s.date < first || s.date > last {
                continue;
            }
            counted += 1;
            let (c, tutors) = tallies.entry(i).or_default();
            c.planned += 1;
            match s.status {
                SessionStatus::Attended => {
                    c.attended += 1;
                    let n = tutors.entry(s.tutor_id).or_default();
                    *n += 1;
                    c.same_tutor = c.same_tutor.max(*n);
                }
                SessionStatus::StudentAbsent => c.student_absent += 1,
                SessionStatus::DistrictCancelled => c.district_cancelled += 1,
                SessionStatus::ProviderCancelled => c.provider_cancelled += 1,
            }
        }
        for (i, (c, _)) in tallies {
            self.students[i].sessions = Some(c);
        }
        self.sessions_counted = Some(counted);
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

    fn test(id: &str, term: &str, score: &str, projected: Option<&str>) -> HistoryTest {
        let mut growth: [WindowGrowth; 3] = Default::default();
        growth[crate::model::Window::FallToSpring as usize].projected =
            projected.map(|p| Decimal::from_str(p).unwrap());
        let result = AssessmentResult {
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
        };
        HistoryTest {
            result,
            standard_error: Some(Decimal::from(3)),
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
        assert_eq!(
            h.students[0].growth_error_variance(),
            Some(Decimal::from(18))
        );
        assert_eq!(h.students[1].growth_error_variance(), None);
    }

    fn session(student: &str, date: &str, status: SessionStatus, subject: &str) -> Session {
        Session {
            session_id: format!("{student}-{date}"),
            student_id: student.into(),
            tutor_id: "t1".into(),
            date: crate::test_kit::day(date),
            minutes: 30,
            status,
            group_size: None,
            subject: subject.into(),
        }
    }

    #[test]
    fn sessions_of_the_school_year_and_subject_are_counted_per_student() {
        let contract = crate::design::lint::tests::example();
        let mut h = summarize(
            &contract,
            &[
                test("s1", "Fall 2023-2024", "200", Some("8")),
                test("s1", "Spring 2023-2024", "210", None),
            ],
        );
        use SessionStatus::*;
        h.add_sessions(
            &contract,
            [
                session("s1", "2023-09-10", Attended, ""),
                session("s1", "2023-09-11", StudentAbsent, "mathematics"),
                session("s1", "2023-09-12", StudentAbsent, "Reading"),
                session("s1", "2023-06-30", Attended, ""),
                session("s1", "2024-07-01", Attended, ""),
                session("s9", "2023-09-10", Attended, ""),
            ],
        );
        assert_eq!(h.sessions_counted, Some(2));
        let c = h.students[0].sessions.unwrap();
        assert_eq!(
            (c.planned, c.attended, c.student_absent, c.same_tutor),
            (2, 1, 1, 1)
        );
        assert_eq!(h.students[0].attendance_rate(), Some(Decimal::new(5, 1)));
    }
}
