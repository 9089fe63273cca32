//! Weekly teacher updates: each student's week and year to date, for the student's teachers.

use super::*;
use crate::csv_text::text;
use crate::engine::{self, EngineError, StatementRequest};
use crate::ratio::Ratio;
use crate::statement::Line;
use rust_decimal::Decimal;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use time::Date;

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
    use super::*;
    use crate::progress::testing::*;

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
}
