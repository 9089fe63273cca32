//! The input records of a statement, as importers produce them and the store keeps them.

use crate::grade::Grade;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

/// A school of a district; its id is the school org's `sourcedId` (or MAP's `SchoolName`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct School {
    pub id: String,
    pub name: String,
}

/// A student of a district's roster. `id` is the id every other file uses (the SIS id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Student {
    pub id: String,
    pub school_id: String,
    pub grade: Option<Grade>,
    pub first_name: String,
    pub last_name: String,
    /// Optional targeting and equity flags (english_learner, disability, ...), sorted by name.
    pub flags: Flags,
}

/// A student's targeting and equity flags: (name, value) pairs sorted by name, held once per
/// distinct set. A roster's students share a few hundred sets, and a million students' flags
/// held as strings each were a gigabyte of a roster import (docs/SCALE.md). Reads as the
/// slice of pairs; serializes as the list of pairs it always was.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Flags(std::sync::Arc<[(String, String)]>);

/// Each distinct set of flags read so far, held once: what a roster's reader gives its students.
#[derive(Default)]
pub struct FlagSets(std::collections::HashSet<Flags>);

impl FlagSets {
    /// The set of `pairs` (sorted by name), shared with every student given the same.
    pub fn of(&mut self, pairs: Vec<(String, String)>) -> Flags {
        if let Some(known) = self.0.get(pairs.as_slice()) {
            return known.clone();
        }
        let flags = Flags::from(pairs);
        self.0.insert(flags.clone());
        flags
    }
}

impl std::borrow::Borrow<[(String, String)]> for Flags {
    fn borrow(&self) -> &[(String, String)] {
        &self.0
    }
}

impl std::ops::Deref for Flags {
    type Target = [(String, String)];
    fn deref(&self) -> &[(String, String)] {
        &self.0
    }
}

impl From<Vec<(String, String)>> for Flags {
    fn from(pairs: Vec<(String, String)>) -> Flags {
        Flags(pairs.into())
    }
}

impl FromIterator<(String, String)> for Flags {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Flags {
        Flags(pairs.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Flags {
    type Item = &'a (String, String);
    type IntoIter = std::slice::Iter<'a, (String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for Flags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Flags, D::Error> {
        Vec::<(String, String)>::deserialize(deserializer).map(Flags::from)
    }
}

/// What happened to one planned session (SPEC 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// The session happened with the student.
    Attended,
    /// The provider was ready, the student did not come.
    StudentAbsent,
    /// The school cancelled or did not release the student.
    DistrictCancelled,
    /// The tutor or the provider's platform failed.
    ProviderCancelled,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 4] = [
        SessionStatus::Attended,
        SessionStatus::StudentAbsent,
        SessionStatus::DistrictCancelled,
        SessionStatus::ProviderCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Attended => "attended",
            SessionStatus::StudentAbsent => "student_absent",
            SessionStatus::DistrictCancelled => "district_cancelled",
            SessionStatus::ProviderCancelled => "provider_cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<SessionStatus> {
        SessionStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One planned tutoring session of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub session_id: String,
    pub student_id: String,
    pub tutor_id: String,
    pub date: Date,
    pub minutes: u32,
    pub status: SessionStatus,
    pub group_size: Option<u32>,
    /// What the session taught (SPEC 3.3); blank when the provider did not say. Left out of
    /// the serialized form when blank, so inputs without subjects hash as they always did.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
}

/// Where a session counts among a provider's contracts (SPEC 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFit {
    /// The session counts for the contract.
    Counts,
    /// The session names another subject: it belongs to another contract.
    OtherSubject,
    /// A blank-subject session of a student enrolled, on its date, in two or more of the
    /// provider's contracts: obc cannot tell which one it served, so it counts for none.
    Ambiguous,
}

/// Whether a session counts for none of the provider's contracts: its subject is blank and
/// `contracts_enrolling` (the provider's contracts enrolling the student on its date) is two or
/// more.
pub fn session_is_ambiguous(session_subject: &str, contracts_enrolling: usize) -> bool {
    session_subject.trim().is_empty() && contracts_enrolling >= 2
}

/// Whether a session of subject `session_subject` counts for a contract of `contract_subject`,
/// given how many of the provider's contracts enroll the student on the session's date.
/// A session counts when its subject is blank or equals the contract's (case-insensitive); a
/// blank one is ambiguous when two or more contracts enroll the student that day.
pub fn session_fit(
    session_subject: &str,
    contract_subject: &str,
    contracts_enrolling: usize,
) -> SessionFit {
    let subject = session_subject.trim();
    if session_is_ambiguous(subject, contracts_enrolling) {
        SessionFit::Ambiguous
    } else if subject.is_empty() || subject.eq_ignore_ascii_case(contract_subject.trim()) {
        SessionFit::Counts
    } else {
        SessionFit::OtherSubject
    }
}

/// The days one of a provider's contracts enrolls a student: the enrollment clipped to the
/// contract's period, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrollmentSpan {
    pub start: Date,
    pub end: Date,
}

impl EnrollmentSpan {
    /// The span of an enrollment in a contract of `period` (start, end), if they overlap.
    pub fn of(enrollment: &Enrollment, period: (Date, Date)) -> Option<EnrollmentSpan> {
        let start = enrollment.start.max(period.0);
        let end = enrollment.end.map_or(period.1, |e| e.min(period.1));
        (start <= end).then_some(EnrollmentSpan { start, end })
    }

    pub fn contains(&self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }
}

/// Splits a student's sessions for one contract of `contract_subject`, given the spans of every
/// one of the provider's contracts that enrolls the student (this one included): the sessions
/// that count for it, and the ambiguous ones (see [`session_fit`]). Other subjects' sessions
/// are dropped.
pub fn sessions_for_contract(
    sessions: Vec<Session>,
    contract_subject: &str,
    spans: &[EnrollmentSpan],
) -> (Vec<Session>, Vec<Session>) {
    let mut counted = Vec::with_capacity(sessions.len());
    let mut ambiguous = Vec::new();
    for s in sessions {
        let enrolling = spans.iter().filter(|span| span.contains(s.date)).count();
        match session_fit(&s.subject, contract_subject, enrolling) {
            SessionFit::Counts => counted.push(s),
            SessionFit::Ambiguous => ambiguous.push(s),
            SessionFit::OtherSubject => {}
        }
    }
    (counted, ambiguous)
}

/// A MAP growth window within one school year. Only windows inside one year can be a
/// contract's `from_term` -> `to_term`; the year-over-year windows are not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Window {
    FallToWinter,
    FallToSpring,
    WinterToSpring,
}

impl Window {
    pub const ALL: [Window; 3] = [
        Window::FallToWinter,
        Window::FallToSpring,
        Window::WinterToSpring,
    ];

    /// The window's name as MAP's column prefixes write it (`FallToSpring`).
    pub fn column_prefix(self) -> &'static str {
        match self {
            Window::FallToWinter => "FallToWinter",
            Window::FallToSpring => "FallToSpring",
            Window::WinterToSpring => "WinterToSpring",
        }
    }

    /// The window from one term to a later one of the same school year.
    pub fn between(from: Term, to: Term) -> Option<Window> {
        match (from, to) {
            (Term::Fall, Term::Winter) => Some(Window::FallToWinter),
            (Term::Fall, Term::Spring) => Some(Window::FallToSpring),
            (Term::Winter, Term::Spring) => Some(Window::WinterToSpring),
            _ => None,
        }
    }
}

/// A testing season of a school year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Term {
    Fall,
    Winter,
    Spring,
}

impl Term {
    pub fn as_str(self) -> &'static str {
        match self {
            Term::Fall => "Fall",
            Term::Winter => "Winter",
            Term::Spring => "Spring",
        }
    }

    pub fn parse(text: &str) -> Option<Term> {
        match text {
            "Fall" => Some(Term::Fall),
            "Winter" => Some(Term::Winter),
            "Spring" => Some(Term::Spring),
            _ => None,
        }
    }
}

/// The growth figures a MAP row carries for one window; any may be blank.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowGrowth {
    pub projected: Option<Decimal>,
    pub observed: Option<Decimal>,
    pub conditional_growth_percentile: Option<Decimal>,
}

/// One test event (SPEC 3.2), from a MAP combined data file or the generic CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentResult {
    pub student_id: String,
    /// `MAP Growth` for MAP files; the `assessment` column of the generic CSV.
    pub assessment: String,
    pub subject: String,
    /// The term as the file writes it, e.g. `Fall 2024-2025`.
    pub term_name: String,
    pub date: Date,
    /// Seconds since midnight of `TestStartTime`; a blank time is 0.
    pub start_seconds: u32,
    pub score: Option<Decimal>,
    pub percentile: Option<Decimal>,
    /// `RapidGuessingPercentage`, 0-100 as in the file.
    pub rapid_guessing_pct: Option<Decimal>,
    /// False when `GrowthMeasureYN` says the test is not valid for growth.
    pub growth_measure: bool,
    /// Growth columns by window, in `Window::ALL` order.
    pub growth: [WindowGrowth; 3],
    /// MAP's `TestID`: when present, the test's identity (SPEC 3.2), so two tests of the same
    /// sitting stay two tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_id: Option<String>,
    /// MAP's `NormsReferenceData` (e.g. `2020`): the norms edition behind the projections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norms: Option<String>,
}

impl AssessmentResult {
    pub fn window(&self, w: Window) -> &WindowGrowth {
        &self.growth[w as usize]
    }
}

/// A student placed in a contract, with inclusive dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub student_id: String,
    pub start: Date,
    pub end: Option<Date>,
}

/// Parses an ISO `YYYY-MM-DD` date, the form obc stores and prints.
pub fn parse_iso_date(text: &str) -> Option<Date> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// The first and last years of every date a person gives obc (contract dates, `--as-of`,
/// `--week`, `--date`, meeting dates): any school year fits, and date arithmetic (a week, a
/// review period) stays far from the calendar's limits.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2200;

/// Whether a date lies within [`FIRST_YEAR`] and [`LAST_YEAR`].
pub fn is_supported_date(date: Date) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&date.year())
}

/// What a date outside the supported years is told, after its flag or field and value.
pub fn unsupported_date_message() -> String {
    format!("expected a date between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31")
}

/// Parses a date a person typed (a command-line flag, a web form): ISO `YYYY-MM-DD` within
/// the supported years. The error says what was expected; the caller names the flag and value.
pub fn parse_user_date(text: &str) -> Result<Date, String> {
    let date = parse_iso_date(text).ok_or_else(|| "expected a date like 2025-01-31".to_string())?;
    if is_supported_date(date) {
        Ok(date)
    } else {
        Err(unsupported_date_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_parse_strictly() {
        assert_eq!(
            parse_iso_date("2024-08-12").unwrap().to_string(),
            "2024-08-12"
        );
        assert!(parse_iso_date("2024-02-30").is_none());
        assert!(parse_iso_date("8/12/2024").is_none());
        assert!(parse_iso_date("2024-8-12").is_none());
    }

    #[test]
    fn dates_people_give_are_within_1900_and_2200() {
        assert_eq!(
            parse_user_date("2025-01-31").unwrap(),
            parse_iso_date("2025-01-31").unwrap()
        );
        assert!(parse_user_date("1900-01-01").is_ok() && parse_user_date("2200-12-31").is_ok());
        assert_eq!(
            parse_user_date("9999-12-27").unwrap_err(),
            "expected a date between 1900-01-01 and 2200-12-31"
        );
        assert!(parse_user_date("1899-12-31").is_err());
        assert_eq!(
            parse_user_date("31/01/2025").unwrap_err(),
            "expected a date like 2025-01-31"
        );
    }

    #[test]
    fn a_subject_session_counts_only_for_its_subject() {
        assert_eq!(
            session_fit("math", "Mathematics", 1),
            SessionFit::OtherSubject
        );
        assert_eq!(
            session_fit("mathematics", "Mathematics", 2),
            SessionFit::Counts
        );
        assert_eq!(session_fit(" READING ", "Reading", 3), SessionFit::Counts);
        assert_eq!(
            session_fit("Reading", "Mathematics", 2),
            SessionFit::OtherSubject
        );
    }

    #[test]
    fn sessions_split_by_subject_and_by_the_contracts_enrolling_on_their_date() {
        let d = |t: &str| parse_iso_date(t).unwrap();
        let session = |id: &str, date: &str, subject: &str| Session {
            session_id: id.into(),
            student_id: "a".into(),
            tutor_id: "T".into(),
            date: d(date),
            minutes: 30,
            status: SessionStatus::Attended,
            group_size: None,
            subject: subject.into(),
        };
        let enrollment = |start: &str, end: Option<&str>| Enrollment {
            student_id: "a".into(),
            start: d(start),
            end: end.map(d),
        };
        let year = (d("2024-08-12"), d("2025-05-30"));
        // math all year; reading from October; an open enrollment of last year's contract
        let spans: Vec<EnrollmentSpan> = [
            EnrollmentSpan::of(&enrollment("2024-08-12", None), year),
            EnrollmentSpan::of(&enrollment("2024-10-01", None), year),
            EnrollmentSpan::of(
                &enrollment("2023-08-14", None),
                (d("2023-08-14"), d("2024-05-31")),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(spans.len(), 3);
        assert_eq!(
            EnrollmentSpan::of(&enrollment("2025-06-01", None), year),
            None
        );
        let sessions = vec![
            session("m1", "2024-09-03", "Mathematics"),
            session("r1", "2024-10-03", "Reading"),
            session("b1", "2024-09-04", ""),
            session("b2", "2024-10-04", ""),
        ];
        let (counted, ambiguous) = sessions_for_contract(sessions, "mathematics", &spans);
        let ids = |v: &[Session]| v.iter().map(|s| s.session_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&counted), ["m1", "b1"]);
        assert_eq!(ids(&ambiguous), ["b2"]);
    }

    #[test]
    fn a_blank_subject_session_is_ambiguous_with_two_contracts() {
        assert_eq!(session_fit("", "Mathematics", 0), SessionFit::Counts);
        assert_eq!(session_fit("", "Mathematics", 1), SessionFit::Counts);
        assert_eq!(session_fit("  ", "Mathematics", 2), SessionFit::Ambiguous);
        assert_eq!(session_fit("", "Reading", 5), SessionFit::Ambiguous);
    }

    #[test]
    fn flags_are_shared_per_set_and_serialize_as_their_pairs() {
        let pairs = |v: &str| vec![("ell".to_string(), v.to_string())];
        let mut sets = FlagSets::default();
        let (a, b, c) = (
            sets.of(pairs("Y")),
            sets.of(pairs("Y")),
            sets.of(pairs("N")),
        );
        assert!(std::sync::Arc::ptr_eq(&a.0, &b.0));
        assert_ne!(a, c);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, serde_json::to_string(&pairs("Y")).unwrap());
        assert_eq!(serde_json::from_str::<Flags>(&json).unwrap(), a);
        assert!(Flags::default().is_empty());
    }
}
