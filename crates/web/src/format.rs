//! What several features show alike: a contract's current date and contingent milestone,
//! dates typed in forms, the words for statuses, factors and the meeting cadence, and school
//! names. Imports no feature module, so the statement, progress, students, student and
//! dashboard pages share it without importing one another.

use crate::WebError;
use obc_core::progress::{Cadence, Factor, Status};
use obc_store::ContractVersion;
use std::collections::HashMap;

/// The contract's current date: today clamped to its period (its end once it ended), the
/// date progress and meetings are judged at when nobody names one.
pub(crate) fn current_date(cv: &ContractVersion) -> time::Date {
    obc_core::progress::current_date(&cv.contract, time::OffsetDateTime::now_utc().date())
}

/// The contract's contingent milestone (its last), whose statement the dashboard, the
/// contract page and a student's page show.
pub(crate) fn contingent_milestone(cv: &ContractVersion) -> &str {
    &cv.contract
        .milestones
        .last()
        .expect("validated contract has milestones")
        .name
}

/// A date from a form or query (`what` names it in the message); empty means `None`.
pub(crate) fn parse_date(what: &str, text: Option<&str>) -> Result<Option<time::Date>, WebError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => obc_core::model::parse_user_date(t)
            .map(Some)
            .map_err(|why| WebError::bad_request(format!("{what} {t}: {why}"))),
    }
}

/// A factor status as the pages word it.
pub(crate) fn status_text(s: Status) -> &'static str {
    match s {
        Status::OnTrack => "on track",
        Status::OffTrack => "off track",
        Status::NotJudged => "not judged",
    }
}

/// A factor as the pages name it.
pub(crate) fn factor_text(f: Factor) -> &'static str {
    match f {
        Factor::Attendance => "Attendance",
        Factor::ProviderDuties => "Provider duties",
        Factor::Outcome => "Outcome",
    }
}

/// A school's name from the roster, else its id.
pub(crate) fn school_name<'a>(schools: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    schools.get(id).map_or(id, String::as_str)
}

/// What the dashboard shows of a contract's meetings: the cadence checked at the contract's
/// current date.
pub struct MeetingFlag {
    /// A meeting was missed (or one is overdue).
    pub missed: bool,
    pub text: String,
}

/// The dashboard's words for a contract's cadence (checked at its current date).
pub(crate) fn meeting_flag(c: &Cadence) -> MeetingFlag {
    let missed = c.missed_meetings();
    let mut text = match missed {
        0 => "on schedule".to_string(),
        1 => "1 missed".to_string(),
        n => format!("{n} missed"),
    };
    if c.overdue {
        text.push_str(", overdue");
    }
    if let Some(last) = &c.last_meeting {
        text.push_str(&format!("; last {last}"));
    }
    MeetingFlag {
        missed: missed > 0 || c.overdue,
        text,
    }
}
