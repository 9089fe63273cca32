//! Progress as JSON, CSV, a text table and a summary in words.

use super::*;
use crate::csv_text::text;
use crate::money::format_cents;
use crate::ratio::Ratio;
use rust_decimal::Decimal;
use std::fmt::Write as _;

pub(super) fn show_dec(d: Option<Decimal>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

pub(super) fn opt_ratio(r: Option<Ratio>) -> String {
    r.map(|r| r.display4()).unwrap_or_default()
}

/// The CSV columns of [`Progress::to_csv`].
pub const CSV_COLUMNS: [&str; 36] = [
    "student_id",
    "school_id",
    "grade",
    "enrollment",
    "planned",
    "attended",
    "student_absent",
    "district_cancelled",
    "provider_cancelled",
    "attendance",
    "attendance_rate",
    "availability_rate",
    "min_rate",
    "provider_duties",
    "same_tutor_rate",
    "min_same_tutor_rate",
    "provider_cancel_rate",
    "max_provider_cancel_rate",
    "outcome",
    "window",
    "baseline",
    "latest_term",
    "latest",
    "observed_growth",
    "projected_growth",
    "measure",
    "target_min",
    "rule_today",
    "contingent_today",
    "full_contingent",
    "at_risk",
    "projected_from",
    "attendance_reason",
    "provider_duties_reason",
    "outcome_reason",
    "notes",
];

impl Progress {
    /// Pretty JSON with a fixed key order and a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("progress serializes");
        s.push('\n');
        s
    }

    /// CSV: one row per student (student id order), then one `SCHOOL` row per school and a
    /// `TOTAL` row with off-track counts in the factor columns and the amounts.
    pub fn to_csv(&self) -> String {
        let k = |name: &str, f: &FactorProgress| f.check(name).and_then(|c| c.figure);
        let thr = |name: &str, f: &FactorProgress| {
            f.check(name)
                .map(|c| c.threshold.clone())
                .unwrap_or_default()
        };
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(CSV_COLUMNS).expect("writing to memory");
        for s in &self.students {
            let sc = &s.scores;
            w.write_record([
                text(&s.student_id),
                text(&s.school_id),
                text(s.grade.clone().unwrap_or_default()),
                s.enrollment.as_str().to_string(),
                s.planned.to_string(),
                s.attended.to_string(),
                s.student_absent.to_string(),
                s.district_cancelled.to_string(),
                s.provider_cancelled.to_string(),
                s.attendance.status.as_str().to_string(),
                opt_ratio(k("attendance_rate", &s.attendance)),
                opt_ratio(k("availability_rate", &s.attendance)),
                thr("attendance_rate", &s.attendance),
                s.provider_duties.status.as_str().to_string(),
                opt_ratio(k("same_tutor_rate", &s.provider_duties)),
                thr("same_tutor_rate", &s.provider_duties),
                opt_ratio(k("provider_cancel_rate", &s.provider_duties)),
                thr("provider_cancel_rate", &s.provider_duties),
                s.outcome.status.as_str().to_string(),
                text(sc.window.clone().unwrap_or_default()),
                sc.baseline.map(|d| d.to_string()).unwrap_or_default(),
                text(sc.latest_term.clone().unwrap_or_default()),
                sc.latest.map(|d| d.to_string()).unwrap_or_default(),
                sc.observed_growth
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                sc.projected_growth
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                opt_ratio(sc.measure),
                self.target_min.clone(),
                text(&s.rule_today),
                format_cents(s.contingent_today),
                format_cents(s.full_contingent),
                format_cents(s.at_risk),
                text(
                    s.scores
                        .window
                        .clone()
                        .filter(|_| s.projected_from.is_some())
                        .unwrap_or_default(),
                ),
                text(&s.attendance.summary),
                text(&s.provider_duties.summary),
                text(&s.outcome.summary),
                text(s.notes.join(" | ")),
            ])
            .expect("writing to memory");
        }
        let mut summary_row = |key: &str, school: &str, t: &Summary| {
            let mut row = vec![String::new(); CSV_COLUMNS.len()];
            row[0] = key.to_string();
            row[1] = text(school);
            row[4] = t.students.to_string();
            row[9] = t.attendance.off_track.to_string();
            row[13] = t.provider_duties.off_track.to_string();
            row[18] = t.outcome.off_track.to_string();
            row[28] = format_cents(t.contingent_today);
            row[29] = format_cents(t.full_contingent);
            row[30] = format_cents(t.at_risk);
            w.write_record(&row).expect("writing to memory");
        };
        for s in &self.by_school {
            summary_row("SCHOOL", &s.school_id, &s.summary);
        }
        summary_row("TOTAL", "", &self.totals);
        String::from_utf8(w.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }

    /// A text table: one row per student by school, then the counts by school and factor and
    /// the money at risk.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<12} {:<14} {:<11} {:>4} {:>4} {:>7} {:>7} {:>7} {:>7} {:>4} {:>4} {:>4} {:<13} {:>9} {:<24} {:>9}",
            "student",
            "school",
            "enrollment",
            "plan",
            "att",
            "att%",
            "avail%",
            "tutor%",
            "pcanc%",
            "att",
            "duty",
            "outc",
            "window",
            "measure",
            "rule_today",
            "at_risk"
        );
        let mut rows: Vec<&StudentProgress> = self.students.iter().collect();
        rows.sort_by(|a, b| (&a.school_id, &a.student_id).cmp(&(&b.school_id, &b.student_id)));
        for p in rows {
            let fig =
                |f: &FactorProgress, name: &str| opt_ratio(f.check(name).and_then(|c| c.figure));
            let _ = writeln!(
                s,
                "{:<12} {:<14} {:<11} {:>4} {:>4} {:>7} {:>7} {:>7} {:>7} {:>4} {:>4} {:>4} {:<13} {:>9} {:<24} {:>9}",
                p.student_id,
                p.school_id,
                p.enrollment.as_str(),
                p.planned,
                p.attended,
                fig(&p.attendance, "attendance_rate"),
                fig(&p.attendance, "availability_rate"),
                fig(&p.provider_duties, "same_tutor_rate"),
                fig(&p.provider_duties, "provider_cancel_rate"),
                p.attendance.status.mark(),
                p.provider_duties.status.mark(),
                p.outcome.status.mark(),
                p.scores.window.as_deref().unwrap_or("-"),
                opt_ratio(p.scores.measure),
                p.rule_today,
                format_cents(p.at_risk)
            );
        }
        s.push('\n');
        s.push_str(&self.summary());
        s
    }

    /// The header, counts by school and factor, and the money at risk.
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Progress of contract {} (version {}) as of {}",
            self.contract_id, self.contract_version, self.as_of
        );
        let _ = writeln!(
            s,
            "{} students ({} active); outcome: {} over {} (or the latest interim window), target tier {} (min {})",
            t.students, t.active, self.measure, self.window, self.target_tier, self.target_min
        );
        let _ = writeln!(
            s,
            "\n{:<16} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>12}",
            "off track",
            "students",
            "attend",
            "(of)",
            "duties",
            "(of)",
            "outcome",
            "(of)",
            "any",
            "at risk"
        );
        let judged = |c: &FactorCounts| c.on_track + c.off_track;
        let mut row = |name: &str, x: &Summary| {
            let _ = writeln!(
                s,
                "{:<16} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>12}",
                name,
                x.students,
                x.attendance.off_track,
                judged(&x.attendance),
                x.provider_duties.off_track,
                judged(&x.provider_duties),
                x.outcome.off_track,
                judged(&x.outcome),
                x.off_track_any,
                format_cents(x.at_risk)
            );
        };
        for school in &self.by_school {
            row(&school.school_id, &school.summary);
        }
        row("TOTAL", t);
        let _ = writeln!(
            s,
            "(of) = students judged on the factor; the others have no figure yet"
        );
        let projected = self
            .students
            .iter()
            .filter(|s| s.projected_from.is_some())
            .count();
        let _ = writeln!(
            s,
            "\nIf nothing changes (the {} statement computed as of {}, the latest interim measure standing in for a missing outcome score for {} students): contingent {} of {} at full performance, {} at risk",
            self.milestone,
            self.as_of,
            projected,
            format_cents(t.contingent_today),
            format_cents(t.full_contingent),
            format_cents(t.at_risk),
        );
        for r in &self.rules_today {
            let _ = writeln!(
                s,
                "  {:<34} {:>6} students  contingent {:>12}",
                r.rule,
                r.students,
                format_cents(r.contingent)
            );
        }
        let _ = writeln!(
            s,
            "Without that projection, the {} statement computed as of {} pays contingent {} (statement total {}); students with no {} score yet fall under outcome.missing_score",
            self.milestone,
            self.as_of,
            format_cents(self.statement_today.contingent),
            format_cents(self.statement_today.statement_total),
            self.window.split("To").nth(1).unwrap_or("outcome"),
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::testing::*;

    #[test]
    fn progress_and_teacher_csvs_neutralize_formulas_in_text_cells() {
        let k = contract(&[]);
        let kids = || {
            vec![
                // 190 - 200 = -10: a negative number stays a plain number.
                judged("=HYPERLINK(\"http://x\")", "+1+1", "190"),
                judged("@SUM(1+1)", "-2+3", "212"),
            ]
        };
        let p = progress(&k, "2025-05-15", kids());
        let csv = p.to_csv();
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(&rows[0][0], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&rows[0][1], "'+1+1");
        assert_eq!(&rows[0][23], "-10");
        assert_eq!(&rows[1][0], "'@SUM(1+1)");
        assert_eq!(&rows[1][1], "'-2+3");
        assert!(rows.iter().any(|r| &r[0] == "SCHOOL" && &r[1] == "'-2+3"));
        let week = teacher_updates(
            ProgressRequest {
                contract: &k,
                contract_version: 1,
                contract_hash: "test".into(),
                as_of: day("2025-05-15"),
                students: kids().into_iter().map(|k| k.input).collect(),
                prior: PriorPayments::default(),
            },
            day("2024-09-04"),
        )
        .unwrap();
        let csv = week.to_csv();
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .collect();
        let ids: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
        assert_eq!(ids, ["'=HYPERLINK(\"http://x\")", "'@SUM(1+1)"]);
        assert_eq!(&rows[1][3], "'-2+3");
    }

    #[test]
    fn renderings_have_one_row_per_student_and_summaries() {
        let k = contract(&[]);
        let p = progress(
            &k,
            "2025-05-15",
            vec![judged("m1", "sch-1", "212"), judged("m2", "sch-2", "207")],
        );
        let csv = p.to_csv();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(reader.headers().unwrap().len(), CSV_COLUMNS.len());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let keys: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
        assert_eq!(keys, ["m1", "m2", "SCHOOL", "SCHOOL", "TOTAL"]);
        assert_eq!(&rows[1][18], "off_track");
        assert_eq!(&rows[4][30], "240.00");
        let table = p.to_table();
        assert!(table.contains("Progress of contract ector-math-2025 (version 1) as of 2025-05-15"));
        assert!(table.contains("240.00 at risk"));
        let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(json["students"][1]["outcome"]["status"], "off_track");
        assert_eq!(json["students"][1]["scores"]["measure"], "0.7000");
        assert_eq!(json["totals"]["at_risk"], "240.00");
        assert_eq!(json["by_school"][0]["school_id"], "sch-1");
    }
}
