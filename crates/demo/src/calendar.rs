//! Dates as day numbers and the demo district's 2024-2025 school calendar.

/// Days since 1970-01-01: plain integers make date arithmetic and ordering trivial.
pub(crate) type Day = i32;

/// Day number of a civil date (Howard Hinnant's `days_from_civil`).
pub(crate) const fn ymd(y: i32, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// Civil date of a day number (Howard Hinnant's `civil_from_days`).
pub(crate) const fn civil(z: Day) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
pub(crate) fn weekday(d: Day) -> u32 {
    (d + 3).rem_euclid(7) as u32
}

/// `YYYY-MM-DD`, as sessions, enrollments and OneRoster write dates.
pub(crate) fn iso(d: Day) -> String {
    let (y, m, dd) = civil(d);
    format!("{y:04}-{m:02}-{dd:02}")
}

/// `M/D/YYYY`, as MAP exports write `TestStartDate`.
pub(crate) fn mdy(d: Day) -> String {
    let (y, m, dd) = civil(d);
    format!("{m}/{dd}/{y}")
}

/// The contract period and the school year (first to last day of school).
pub(crate) const YEAR_START: Day = ymd(2024, 8, 12);
pub(crate) const YEAR_END: Day = ymd(2025, 5, 30);
/// Tutoring runs from the second week of school to the week before the last.
pub(crate) const PROGRAM_START: Day = ymd(2024, 8, 19);
pub(crate) const PROGRAM_END: Day = ymd(2025, 5, 23);

/// Days without school (inclusive ranges): holidays and breaks of a typical US district.
const HOLIDAYS: [(Day, Day); 10] = [
    (ymd(2024, 9, 2), ymd(2024, 9, 2)),     // Labor Day
    (ymd(2024, 10, 14), ymd(2024, 10, 14)), // fall holiday
    (ymd(2024, 11, 11), ymd(2024, 11, 11)), // Veterans Day
    (ymd(2024, 11, 25), ymd(2024, 11, 29)), // Thanksgiving week
    (ymd(2024, 12, 23), ymd(2025, 1, 3)),   // winter break
    (ymd(2025, 1, 20), ymd(2025, 1, 20)),   // Martin Luther King Jr. Day
    (ymd(2025, 2, 17), ymd(2025, 2, 17)),   // Presidents' Day
    (ymd(2025, 3, 17), ymd(2025, 3, 21)),   // spring break
    (ymd(2025, 4, 18), ymd(2025, 4, 18)),   // Good Friday
    (ymd(2025, 5, 26), ymd(2025, 5, 26)),   // Memorial Day
];

pub(crate) fn is_school_day(d: Day) -> bool {
    (YEAR_START..=YEAR_END).contains(&d)
        && weekday(d) < 5
        && !HOLIDAYS.iter().any(|&(a, b)| (a..=b).contains(&d))
}

/// School days in `from..=to`, in order.
pub(crate) fn school_days(from: Day, to: Day) -> Vec<Day> {
    (from..=to).filter(|&d| is_school_day(d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_formats() {
        for d in ymd(2023, 1, 1)..ymd(2027, 1, 1) {
            let (y, m, dd) = civil(d);
            assert_eq!(ymd(y, m, dd), d);
        }
        assert_eq!(ymd(1970, 1, 1), 0);
        assert_eq!(iso(ymd(2024, 2, 29)), "2024-02-29");
        assert_eq!(mdy(ymd(2024, 9, 6)), "9/6/2024");
        assert_eq!(weekday(ymd(2024, 8, 19)), 0); // a Monday
        assert!(!is_school_day(ymd(2024, 12, 25)));
        assert!(is_school_day(ymd(2025, 1, 6)));
    }
}
