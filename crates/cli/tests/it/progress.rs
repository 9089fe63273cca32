//! `obc progress`, `obc meeting ...` and `obc report teacher-updates`, end to end, on a tiny
//! hand-computed district and on the worked example.

use crate::support::{Obc, Table, BASELINE_CONTRACT};

/// The SPEC example contract for district `tiny` and provider `tp`: C = 1200.00 x 0.40 =
/// 480.00, min_rate 0.70, min_offered 20, responsible = district, same tutor >= 0.80,
/// cancellations <= 0.10, Fall -> Spring growth_vs_projected, missing_score = district, target
/// tier `meets` (min 1.00).
pub(crate) const CONTRACT: &str = r#"id = "tiny-math"
district = "tiny"
provider = "tp"
period = { start = 2024-08-12, end = 2025-05-30 }
subject = "Mathematics"
price_per_student = "1200.00"
contingent_share = "0.40"
not_to_exceed = "600000.00"

[attendance]
min_rate = "0.70"
min_offered = 20
responsible = "district"

[provider_duties]
min_same_tutor_rate = "0.80"
max_provider_cancel_rate = "0.10"

[outcome]
assessment = "MAP Growth"
from_term = "Fall"
to_term = "Spring"
measure = "growth_vs_projected"
missing_score = "district"

[[rate_card]]
name = "exceeds"
min = "1.50"
pays = "1.25"

[[rate_card]]
name = "meets"
min = "1.00"
pays = "1.00"

[[rate_card]]
name = "approaching"
min = "0.50"
pays = "0.50"

[[rate_card]]
name = "below"
min = "-inf"
pays = "0.00"

[[milestone]]
name = "enrollment"
date = 2024-10-15
base_share = "0.50"

[[milestone]]
name = "midyear"
date = 2025-01-31
base_share = "0.50"

[[milestone]]
name = "final"
date = 2025-06-30
contingent = true
"#;

/// Daily sessions from 2024-09-02: `(status, tutor, count)` runs, 30 minutes when attended.
fn sessions(student: &str, runs: &[(&str, &str, u32)]) -> String {
    let mut out = String::new();
    let mut day = 2u32;
    for (status, tutor, n) in runs {
        for _ in 0..*n {
            let minutes = if *status == "attended" { 30 } else { 0 };
            out.push_str(&format!(
                "{student}-{day:02},{student},{tutor},2024-09-{day:02},{minutes},{status}\n"
            ));
            day += 1;
        }
    }
    out
}

/// Three students enrolled from 2024-08-20, every test with projected growth 4 (the generic
/// CSV puts it in every window):
/// - s1 (sch-a): 20 attended with T1; Fall 200, Winter 205: 5 / 4 = 1.25, on track.
/// - s2 (sch-a): 13 attended, 7 absent: 13 / 20 = 0.65 < 0.70, off track on attendance (the
///   district answers: district_fault); Winter 203: 3 / 4 = 0.75, off track.
/// - s3 (sch-b): 8 with T1, 2 with T2: same tutor 8 / 10 = 0.80, on track; 10 offered < 20:
///   excluded; Winter 202: 2 / 4 = 0.50, off track.
fn tiny() -> Obc {
    let obc = Obc::init();
    obc.write(
        "roster.csv",
        "student_id,school_id,grade,first_name,last_name\n\
         s1,sch-a,6,Ana,Diaz\ns2,sch-a,6,Bo,Lee\ns3,sch-b,7,Cy,Park\n",
    );
    obc.ok(&["import", "roster", "roster.csv", "--district", "tiny"]);
    obc.write("contract.toml", CONTRACT);
    obc.ok(&["contract", "add", "contract.toml"]);
    obc.write(
        "enrollment.csv",
        "student_id,start_date,end_date\ns1,2024-08-20,\ns2,2024-08-20,\ns3,2024-08-20,\n",
    );
    obc.ok(&["enroll", "--contract", "tiny-math", "enrollment.csv"]);
    obc.write(
        "tests.csv",
        "student_id,assessment,subject,term,date,score,projected_growth\n\
         s1,MAP Growth,Mathematics,Fall 2024-2025,2024-09-05,200,4\n\
         s1,MAP Growth,Mathematics,Winter 2024-2025,2025-01-15,205,\n\
         s2,MAP Growth,Mathematics,Fall 2024-2025,2024-09-05,200,4\n\
         s2,MAP Growth,Mathematics,Winter 2024-2025,2025-01-15,203,\n\
         s3,MAP Growth,Mathematics,Fall 2024-2025,2024-09-05,200,4\n\
         s3,MAP Growth,Mathematics,Winter 2024-2025,2025-01-15,202,\n",
    );
    obc.ok(&["import", "assessments", "tests.csv", "--district", "tiny"]);
    let mut log = String::from("session_id,student_id,tutor_id,date,minutes,status\n");
    log.push_str(&sessions("s1", &[("attended", "T1", 20)]));
    log.push_str(&sessions(
        "s2",
        &[("attended", "T1", 13), ("student_absent", "T1", 7)],
    ));
    log.push_str(&sessions(
        "s3",
        &[("attended", "T1", 8), ("attended", "T2", 2)],
    ));
    obc.write("sessions.csv", log);
    obc.ok(&["import", "sessions", "sessions.csv", "--provider", "tp"]);
    obc
}

#[test]
fn progress_judges_each_factor_and_projects_the_amount_at_risk_from_winter() {
    let obc = tiny();
    let csv = obc.ok(&[
        "progress",
        "--contract",
        "tiny-math",
        "--as-of",
        "2025-02-03",
        "--format",
        "csv",
    ]);
    let t = Table::parse(&csv);
    let cell = |id: &str, col: &str| t.row(id)[col].clone();
    assert_eq!(cell("s1", "attendance"), "on_track");
    assert_eq!(cell("s1", "outcome"), "on_track");
    assert_eq!(cell("s1", "window"), "FallToWinter");
    assert_eq!(cell("s1", "measure"), "1.2500");
    assert_eq!(cell("s1", "rule_today"), "tier:meets");
    assert_eq!(cell("s1", "at_risk"), "0.00");
    assert_eq!(cell("s2", "attendance"), "off_track");
    assert_eq!(cell("s2", "attendance_rate"), "0.6500");
    assert_eq!(cell("s2", "outcome"), "off_track");
    assert_eq!(cell("s2", "measure"), "0.7500");
    assert_eq!(cell("s2", "rule_today"), "district_fault");
    assert_eq!(cell("s2", "at_risk"), "0.00");
    assert_eq!(cell("s3", "provider_duties"), "on_track");
    assert_eq!(cell("s3", "same_tutor_rate"), "0.8000");
    assert_eq!(cell("s3", "outcome"), "off_track");
    assert_eq!(cell("s3", "measure"), "0.5000");
    assert_eq!(cell("s3", "rule_today"), "excluded");
    assert_eq!(cell("s3", "at_risk"), "480.00");
    assert_eq!(cell("s3", "projected_from"), "FallToWinter");
    assert_eq!(
        cell("s2", "outcome_reason"),
        "growth_vs_projected 0.7500 < 1.00 (Fall 200 -> Winter 203: grew 3 of 4 projected (FallToWinter))"
    );
    let schools: Vec<(String, String, String)> = t
        .rows_keyed("SCHOOL")
        .iter()
        .map(|r| {
            (
                r["school_id"].clone(),
                r["outcome"].clone(),
                r["at_risk"].clone(),
            )
        })
        .collect();
    assert_eq!(
        schools,
        vec![
            ("sch-a".into(), "1".into(), "0.00".into()),
            ("sch-b".into(), "1".into(), "480.00".into())
        ]
    );
    let total = t.row("TOTAL");
    assert_eq!(total["attendance"], "1");
    assert_eq!(total["outcome"], "2");
    assert_eq!(total["at_risk"], "480.00");
    assert_eq!(total["full_contingent"], "1440.00");

    let json: serde_json::Value = serde_json::from_str(&obc.ok(&[
        "progress",
        "--contract",
        "tiny-math",
        "--as-of",
        "2025-02-03",
        "--format",
        "json",
    ]))
    .unwrap();
    // Without the projection every line misses its Spring score: district_fault, 3 x 480.00.
    assert_eq!(json["statement_today"]["contingent"], "1440.00");
    assert_eq!(json["totals"]["at_risk"], "480.00");
    assert_eq!(
        json["students"][1]["attendance"]["checks"][0]["answers"],
        "district"
    );

    let table = obc.ok(&[
        "progress",
        "--contract",
        "tiny-math",
        "--as-of",
        "2025-02-03",
    ]);
    assert!(table.contains("Progress of contract tiny-math (version 1) as of 2025-02-03"));
    assert!(table.contains("480.00 at risk"), "{table}");
    let off = obc.ok(&[
        "progress",
        "--contract",
        "tiny-math",
        "--as-of",
        "2024-10-01",
        "--off-track",
        "--format",
        "csv",
    ]);
    let off = Table::parse(&off);
    let listed: Vec<&str> = off
        .rows
        .iter()
        .map(|r| r["student_id"].as_str())
        .filter(|id| id.starts_with('s'))
        .collect();
    assert_eq!(
        listed,
        ["s2"],
        "in October only s2 is off track (attendance)"
    );
}

/// Student rows, not the summary rows (ids are SIS numbers or OneRoster UUIDs).
fn is_student(id: &str) -> bool {
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

#[test]
fn progress_at_the_end_of_the_year_matches_the_final_statement() {
    let obc = Obc::new();
    obc.load_example();
    let progress = Table::parse(&obc.ok(&[
        "progress",
        "--contract",
        BASELINE_CONTRACT,
        "--as-of",
        "2025-06-30",
        "--format",
        "csv",
    ]));
    let statement = Table::parse(&obc.example_statement("final", "csv"));
    let students: Vec<_> = statement
        .rows
        .iter()
        .filter(|r| is_student(&r["student_id"]))
        .collect();
    let enrolled = students.len();
    assert!(enrolled > 100);
    for line in students {
        let id = &line["student_id"];
        let p = progress.row(id);
        assert_eq!(p["rule_today"], line["rule"], "student {id}");
        assert_eq!(
            p["contingent_today"], line["contingent_amount"],
            "student {id}"
        );
        assert_eq!(
            p["attendance_rate"], line["attendance_rate"],
            "student {id}"
        );
        assert_eq!(p["projected_from"], "", "student {id}: Spring is in");
    }
    // Mid-year, every student still has a row and the totals add up.
    let mid = Table::parse(&obc.ok(&[
        "progress",
        "--contract",
        BASELINE_CONTRACT,
        "--as-of",
        "2025-02-03",
        "--format",
        "csv",
    ]));
    let rows: Vec<_> = mid
        .rows
        .iter()
        .filter(|r| is_student(&r["student_id"]))
        .collect();
    assert_eq!(rows.len(), enrolled);
    let cents = |s: &str| -> i64 { s.replace('.', "").parse().unwrap() };
    let sum: i64 = rows.iter().map(|r| cents(&r["at_risk"])).sum();
    assert_eq!(sum, cents(&mid.row("TOTAL")["at_risk"]));
    assert!(rows.iter().any(|r| r["window"] == "FallToWinter"));
}

#[test]
fn a_meeting_cycle_with_notes_action_items_changes_and_the_cadence() {
    let obc = tiny();
    // First meeting, 2024-10-01: only s2 is off track (attendance); no Winter score yet.
    let agenda = obc.ok(&[
        "meeting",
        "open",
        "--contract",
        "tiny-math",
        "--date",
        "2024-10-01",
        "--attendee",
        "district:Ana Ruiz",
        "--attendee",
        "provider:Bo Lee",
    ]);
    assert!(
        agenda.contains("Meeting 1 of contract tiny-math"),
        "{agenda}"
    );
    assert!(
        agenda.contains("1 of 3 students off track on a factor"),
        "{agenda}"
    );
    assert!(agenda.contains("sch-a / attendance (1):"), "{agenda}");
    assert!(agenda.contains("first meeting"), "{agenda}");
    // 2024-08-20 (first enrollment) -> 2024-10-01: 42 days, two meetings missed.
    assert!(
        agenda.contains("MISSED 2 meetings: none from 2024-08-20 to 2024-10-01 (42 days)"),
        "{agenda}"
    );
    assert!(agenda.contains("Attendees: Ana Ruiz (district), Bo Lee (provider)"));
    let again = obc.fails(&[
        "meeting",
        "open",
        "--contract",
        "tiny-math",
        "--date",
        "2024-10-01",
    ]);
    assert!(again.contains("already has meeting 1"), "{again}");

    let note = obc.ok(&[
        "meeting",
        "note",
        "--meeting",
        "1",
        "--student",
        "s2",
        "--text",
        "Misses Fridays",
    ]);
    assert!(note.contains("Note 1 (version 1)"), "{note}");
    obc.ok(&[
        "meeting",
        "note",
        "--meeting",
        "1",
        "--student",
        "s2",
        "--text",
        "Custody change at home",
        "--district-only",
    ]);
    let edited = obc.ok(&[
        "meeting",
        "note",
        "--replaces",
        "1",
        "--text",
        "Misses Fridays (band practice)",
    ]);
    assert!(edited.contains("Note 3 (version 2)"), "{edited}");
    let stale = obc.fails(&["meeting", "note", "--replaces", "1", "--text", "x"]);
    assert!(stale.contains("already replaced by note 3"), "{stale}");
    let item = obc.ok(&[
        "meeting",
        "action",
        "--meeting",
        "1",
        "--owner",
        "district",
        "--due",
        "2024-10-10",
        "--student",
        "s2",
        "--text",
        "Release s2 on Fridays",
    ]);
    assert!(item.contains("Action item 1 of meeting 1: district by 2024-10-10"));
    let not_enrolled = obc.fails(&[
        "meeting",
        "note",
        "--meeting",
        "1",
        "--student",
        "zz",
        "--text",
        "x",
    ]);
    assert!(
        not_enrolled.contains("not enrolled in tiny-math"),
        "{not_enrolled}"
    );

    // What each side sees.
    let district = obc.ok(&["meeting", "show", "--meeting", "1", "--viewer", "district"]);
    assert!(district.contains("Custody change at home"));
    assert!(district.contains("v2 student s2 by tester: Misses Fridays (band practice)"));
    assert!(
        !district.contains("Misses Fridays\n"),
        "old versions are not current"
    );
    let provider = obc.ok(&["meeting", "show", "--meeting", "1", "--viewer", "provider"]);
    assert!(!provider.contains("Custody"), "{provider}");
    assert!(provider.contains("Misses Fridays (band practice)"));
    assert!(provider.contains("seen as provider"));
    let auditor = obc.ok(&["meeting", "show", "--meeting", "1", "--viewer", "auditor"]);
    assert!(!auditor.contains("Custody"));

    // Second meeting, 2025-02-03: Winter scores are in; s2 and s3 are newly off track on the
    // outcome, the action item is carried.
    let second = obc.ok(&[
        "meeting",
        "open",
        "--contract",
        "tiny-math",
        "--date",
        "2025-02-03",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(v["previous_meeting"], 1);
    let newly: Vec<String> = v["changes"]["newly_off_track"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["student_id"].as_str().unwrap(),
                c["factor"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(newly, ["s2:outcome", "s3:outcome"]);
    assert_eq!(v["changes"]["still_off_track"], 1);
    assert_eq!(v["carried_items"][0]["id"], 1);
    assert_eq!(v["carried_items"][0]["status"], "open");
    // 2024-10-01 -> 2025-02-03: 125 days, (125 - 1) / 14 = 8 meetings missed.
    assert_eq!(v["cadence"]["missed"][1]["missed"], 8);

    let closed = obc.ok(&[
        "meeting",
        "close",
        "--item",
        "1",
        "--note",
        "schedule changed",
    ]);
    assert!(closed.contains("Action item 1 is done"));
    let twice = obc.fails(&["meeting", "close", "--item", "1"]);
    assert!(twice.contains("already done"), "{twice}");
    let list = obc.ok(&[
        "meeting",
        "list",
        "--contract",
        "tiny-math",
        "--as-of",
        "2025-02-20",
    ]);
    assert!(list.contains("#1    2024-10-01"), "{list}");
    assert!(list.contains("#2    2025-02-03"), "{list}");
    assert!(
        list.contains("OVERDUE"),
        "17 days after the last meeting: {list}"
    );
    assert!(list.contains("Open action items: 0 (0 overdue)"), "{list}");
    let shown = obc.ok(&["meeting", "show", "--meeting", "2"]);
    assert!(
        shown.contains("#1 [district] due 2024-10-10 student s2: Release s2 on Fridays (done: schedule changed)"),
        "{shown}"
    );

    let audit = obc.audit();
    for action in [
        "meeting.open",
        "meeting.attendee",
        "meeting.note",
        "meeting.note.edit",
        "meeting.action",
        "meeting.action.status",
    ] {
        assert!(audit.contains(action), "{action} missing from:\n{audit}");
    }
    assert!(
        !audit.contains("Custody"),
        "note texts stay out of the audit log"
    );
}

#[test]
fn teacher_updates_write_csv_and_printable_html_for_the_week() {
    let obc = tiny();
    let out = obc.ok(&[
        "report",
        "teacher-updates",
        "--contract",
        "tiny-math",
        "--week",
        "2024-09-04",
        "--out",
        "reports",
    ]);
    assert!(
        out.contains("Teacher updates for the week of 2024-09-02 to 2024-09-08: 3 students"),
        "{out}"
    );
    let csv = std::fs::read_to_string(obc.path("reports/teacher-updates-tiny-math-2024-09-02.csv"))
        .unwrap();
    let t = Table::parse(&csv);
    // s1: attended daily from 09-02: 7 sessions this week, 7 x 30 = 210 minutes; the Fall
    // test of 09-05 is the latest score.
    let s1 = t.row("s1");
    assert_eq!(s1["sessions_this_week"], "7");
    assert_eq!(s1["minutes_this_week"], "210");
    assert_eq!(s1["attendance_rate_to_date"], "1.0000");
    assert_eq!(
        s1["summary"],
        "This week: attended 7 of 7 sessions, 210 minutes. Attendance to date: 7 of 7 offered sessions (100.0%). Latest score: 200 (Fall 2024-2025)."
    );
    let html =
        std::fs::read_to_string(obc.path("reports/teacher-updates-tiny-math-2024-09-02.html"))
            .unwrap();
    assert!(html.contains("<h2>School sch-a</h2>"));
    assert!(html.contains("Cy Park"));
    assert!(obc.audit().contains("export.teacher_updates"));
    // Week of 2024-09-16: s2's 7 absences.
    obc.ok(&[
        "report",
        "teacher-updates",
        "--contract",
        "tiny-math",
        "--week",
        "2024-09-16",
        "--out",
        "reports",
        "--format",
        "csv",
    ]);
    let t = Table::parse(
        &std::fs::read_to_string(obc.path("reports/teacher-updates-tiny-math-2024-09-16.csv"))
            .unwrap(),
    );
    let s2 = t.row("s2");
    assert_eq!(s2["sessions_this_week"], "6");
    assert_eq!(s2["student_absent_this_week"], "6");
    assert_eq!(s2["attended_to_date"], "13");
    assert!(!obc
        .path("reports/teacher-updates-tiny-math-2024-09-16.html")
        .exists());
}

#[test]
fn progress_and_meeting_errors_say_what_to_do() {
    let obc = tiny();
    let e = obc.fails(&["progress", "--contract", "nope", "--as-of", "2025-02-03"]);
    assert!(e.contains("no contract \"nope\""), "{e}");
    let e = obc.fails(&[
        "progress",
        "--contract",
        "tiny-math",
        "--as-of",
        "2025-13-01",
    ]);
    assert!(
        e.contains("--as-of 2025-13-01: expected a date like 2025-01-31"),
        "{e}"
    );
    let e = obc.fails(&["meeting", "show", "--meeting", "7"]);
    assert!(e.contains("no meeting 7"), "{e}");
    let e = obc.fails(&[
        "meeting",
        "open",
        "--contract",
        "tiny-math",
        "--date",
        "2024-10-01",
        "--attendee",
        "Ana Ruiz",
    ]);
    assert!(e.contains("expected SIDE:NAME"), "{e}");
    obc.ok(&[
        "meeting",
        "open",
        "--contract",
        "tiny-math",
        "--date",
        "2024-10-01",
    ]);
    let e = obc.fails(&[
        "meeting",
        "action",
        "--meeting",
        "1",
        "--owner",
        "district",
        "--due",
        "soon",
        "--text",
        "x",
    ]);
    assert!(e.contains("--due soon: expected a date"), "{e}");
    let help = obc.ok(&["progress", "--help"]);
    assert!(help.contains("docs/PROGRESS.md"), "{help}");
    let help = obc.ok(&["meeting", "--help"]);
    for sub in ["open", "note", "action", "close", "show", "list"] {
        assert!(help.contains(sub), "{sub}: {help}");
    }
}
