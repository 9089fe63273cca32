//! Session verification (SPEC 6): the district uploads daily school attendance
//! (`obc import attendance`), and `obc report session-checks` lists the sessions marked
//! attended on days the student was absent from school. Run on the worked example, on SQLite
//! and (when `OBC_TEST_POSTGRES_URL` is set) on PostgreSQL; then through the web app.

use crate::support::{Obc, BASELINE_CONTRACT};
use crate::web_support::{Req, WebApp, Who, MESA_CONTRACT};
use axum::http::StatusCode;

/// Student 2000000 was absent from school on 2024-09-18 (ses-00000002 is marked attended that
/// day) and present on 2024-08-26 (ses-00000001, attended: fine).
const ATTENDANCE: &str =
    "student_id,date,present\n2000000,2024-09-18,absent\n2000000,2024-08-26,Present\n";

fn report(obc: &Obc, format: &str) -> String {
    obc.ok(&[
        "report",
        "session-checks",
        "--contract",
        BASELINE_CONTRACT,
        "--format",
        format,
    ])
}

fn flags_the_session_of_an_absent_day(obc: &Obc) {
    obc.load_example();
    let before = report(obc, "table");
    assert!(
        before.contains("No school attendance uploaded for district dist-mesa"),
        "{before}"
    );
    let file = obc.write("attendance.csv", ATTENDANCE);
    let out = obc.ok(&["import", "attendance", &file]);
    assert!(
        out.contains("School attendance for dist-mesa: 2 rows, 2 added, 0 replaced, 0 unchanged"),
        "{out}"
    );

    let table = report(obc, "table");
    assert!(
        table.contains(
            "1 session marked attended on a day the student was absent from school (to review)"
        ),
        "{table}"
    );
    let flagged: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("2000000 "))
        .collect();
    assert_eq!(flagged.len(), 1, "{table}");
    let cells: Vec<&str> = flagged[0].split_whitespace().collect();
    assert_eq!(
        cells,
        ["2000000", "ses-00000002", "T1000", "2024-09-18", "45"]
    );

    assert_eq!(
        report(obc, "csv"),
        "student_id,session_id,tutor_id,date,minutes\n2000000,ses-00000002,T1000,2024-09-18,45\n"
    );
    let json: serde_json::Value = serde_json::from_str(&report(obc, "json")).expect("JSON");
    assert_eq!(json["flagged"], 1);
    assert_eq!(json["school_attendance_days"], 2);
    assert_eq!(json["sessions"][0]["session_id"], "ses-00000002");
    assert_eq!(json["sessions"][0]["date"], "2024-09-18");

    // Re-sending the file changes nothing; the import is audited each time.
    let again = obc.ok(&["import", "attendance", &file, "--district", "dist-mesa"]);
    assert!(
        again.contains("2 rows, 0 added, 0 replaced, 2 unchanged"),
        "{again}"
    );
    assert_eq!(report(obc, "csv").lines().count(), 2);
    let audit = obc.audit();
    assert_eq!(
        audit.matches("import.school_attendance").count(),
        2,
        "{audit}"
    );

    // Bad rows: nothing is imported, each problem names its line and column.
    let bad = obc.write(
        "bad.csv",
        "student_id,date,present\n2000000,2024-09-19,absent\n9999999,2024-09-18,absent\n2000000,2024/09/20,absent\n2000000,2024-09-21,sometimes\n",
    );
    let err = obc.fails(&["import", "attendance", &bad]);
    assert!(
        err.contains("bad.csv:3: column `student_id`: value `9999999`: expected a student in district dist-mesa's roster"),
        "{err}"
    );
    assert!(
        err.contains("bad.csv:4: column `date`: value `2024/09/20`: expected a date as YYYY-MM-DD"),
        "{err}"
    );
    assert!(
        err.contains("bad.csv:5: column `present`: value `sometimes`: expected one of true/false"),
        "{err}"
    );
    assert!(
        err.contains("3 problems found; nothing was imported"),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_str(&report(obc, "json")).expect("JSON");
    assert_eq!(
        json["school_attendance_days"], 2,
        "nothing of bad.csv landed"
    );

    // A corrected day replaces the earlier value: the session is no longer flagged.
    let fixed = obc.write(
        "fixed.csv",
        "student_id,date,present\n2000000,2024-09-18,Y\n",
    );
    let out = obc.ok(&["import", "attendance", &fixed]);
    assert!(
        out.contains("1 rows, 0 added, 1 replaced, 0 unchanged"),
        "{out}"
    );
    let table = report(obc, "table");
    assert!(
        table.contains("0 sessions marked attended on a day the student was absent from school"),
        "{table}"
    );
}

#[test]
fn report_flags_attended_sessions_on_days_absent_from_school() {
    flags_the_session_of_an_absent_day(&Obc::new());
}

#[test]
fn report_flags_attended_sessions_on_days_absent_from_school_on_postgres() {
    if let Some(url) = crate::postgres::postgres_database("session checks") {
        flags_the_session_of_an_absent_day(&Obc::with_db(&url));
    }
}

#[test]
fn the_csv_report_neutralizes_formulas_in_session_and_tutor_ids() {
    let obc = Obc::new();
    obc.load_example();
    obc.ok(&[
        "import",
        "attendance",
        &obc.write("attendance.csv", ATTENDANCE),
    ]);
    let sessions = obc.write(
        "formula_sessions.csv",
        "session_id,student_id,tutor_id,date,minutes,status\n\
         \"=HYPERLINK(\"\"http://x\"\")\",2000000,-T2,2024-09-18,30,attended\n",
    );
    obc.ok(&["import", "sessions", &sessions, "--provider", "brightpath"]);
    let csv = report(&obc, "csv");
    assert!(
        csv.contains("2000000,\"'=HYPERLINK(\"\"http://x\"\")\",'-T2,2024-09-18,30\n"),
        "{csv}"
    );
}

#[test]
fn the_help_teaches_the_file_and_the_report() {
    let obc = Obc::new();
    let help = obc.ok(&["import", "attendance", "--help"]);
    assert!(help.contains("student_id,date,present"), "{help}");
    let help = obc.ok(&["report", "session-checks", "--help"]);
    assert!(help.contains("obc import attendance"), "{help}");
}

async fn district_upload_flags_the_session_on_the_progress_page(app: WebApp) {
    // Before any upload the page says nothing can be checked.
    let provider = app.login(Who::Brightpath).await;
    let page = format!("/contracts/{MESA_CONTRACT}/progress?as_of=2025-02-03");
    let r = app.send(provider.with_cookie(Req::get(&page))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    assert!(
        r.text().contains("Sessions to review (0)"),
        "{}",
        r.excerpt()
    );
    assert!(r.text().contains("No school attendance has been uploaded"));

    // Providers may not upload school attendance; the district may.
    let form = |s: &crate::web_support::Session| {
        s.with_cookie(Req::post("/upload/attendance").multipart(
            &[("csrf", s.csrf.as_str())],
            "attendance.csv",
            ATTENDANCE.as_bytes(),
        ))
    };
    let refused = app.send(form(&provider)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let district = app.login(Who::Mesa).await;
    let r = app.send(form(&district)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    assert!(r.text().contains("2 rows, 2 added"), "{}", r.excerpt());
    let form_page = app.send(district.with_cookie(Req::get("/upload"))).await;
    assert!(form_page.text().contains("action=\"/upload/attendance\""));

    for who in [Who::Brightpath, Who::Mesa, Who::Admin, Who::Auditor] {
        let s = app.login(who).await;
        let r = app.send(s.with_cookie(Req::get(&page))).await;
        assert_eq!(r.status, StatusCode::OK, "{who:?}: {}", r.excerpt());
        let text = r.text();
        assert!(text.contains("Sessions to review (1)"), "{who:?}");
        assert!(text.contains("<td>ses-00000002</td>"), "{who:?}");
        assert!(text.contains("<td>2024-09-18</td>"), "{who:?}");
    }
}

#[tokio::test]
async fn district_upload_flags_the_session_on_the_progress_page_on_sqlite() {
    district_upload_flags_the_session_on_the_progress_page(WebApp::new().await).await;
}
