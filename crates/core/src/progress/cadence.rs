//! The meeting cadence: meetings are due every so many days; missed and overdue ones are flagged.

use crate::contract::Contract;
use serde::Serialize;
use time::Date;

/// Meetings are due every this many days unless the contract says otherwise.
pub const DEFAULT_MEETING_CADENCE_DAYS: u32 = 14;

/// The meeting cadence of a contract. The contract document has no key for it yet, so every
/// contract meets every [`DEFAULT_MEETING_CADENCE_DAYS`] days (docs/PROGRESS.md).
pub fn meeting_cadence_days(_contract: &Contract) -> u32 {
    DEFAULT_MEETING_CADENCE_DAYS
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
/// Meetings dated outside the period or after `as_of` are ignored. From the period's last day
/// on nothing is due any more: no meeting is overdue and there is no next one (the meetings
/// that were not held are the gaps).
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
            out.overdue = as_of < period.end;
            out.missed.push(g);
        }
    }
    let due = previous + time::Duration::days(n);
    if due <= period.end && as_of < period.end {
        out.next_due = Some(due.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::testing::*;

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
        // On the period's last day (an ended contract's current date) the same: a next due
        // date in the past would be a meeting that can no longer be held.
        let c = cadence(&k, None, &meetings, day("2025-05-30"), 14);
        assert!(!c.overdue);
        assert_eq!(c.next_due, None);
        assert_eq!(c.missed.last().map(|g| g.to.as_str()), Some("2025-05-30"));
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
}
