//! Sessions by subject (SPEC 3.3), a student id in two districts, and sessions of a provider on
//! another provider's student, end to end.

use crate::progress::CONTRACT;
use crate::support::{Obc, Table};
use crate::web_support::{Req, WebApp, Who, DEMO_DISTRICT, DEMO_PROVIDER, MESA_PROVIDER};
use axum::http::StatusCode;

/// The tiny contract (`tiny-math`, district `tiny`, provider `tp`) as another contract.
fn contract(id: &str, district: &str, provider: &str, subject: &str) -> String {
    CONTRACT
        .replace("id = \"tiny-math\"", &format!("id = \"{id}\""))
        .replace("district = \"tiny\"", &format!("district = \"{district}\""))
        .replace("provider = \"tp\"", &format!("provider = \"{provider}\""))
        .replace(
            "subject = \"Mathematics\"",
            &format!("subject = \"{subject}\""),
        )
}

/// Adds a contract and enrolls students from 2024-08-20.
fn add_contract(
    obc: &Obc,
    id: &str,
    district: &str,
    provider: &str,
    subject: &str,
    students: &[&str],
) {
    obc.write(
        &format!("{id}.toml"),
        contract(id, district, provider, subject),
    );
    obc.ok(&["contract", "add", &format!("{id}.toml")]);
    let rows: String = students
        .iter()
        .map(|s| format!("{s},2024-08-20,\n"))
        .collect();
    obc.write(
        &format!("{id}.csv"),
        format!("student_id,start_date,end_date\n{rows}"),
    );
    obc.ok(&["enroll", "--contract", id, &format!("{id}.csv")]);
}

fn roster(obc: &Obc, district: &str, students: &[&str]) {
    let rows: String = students
        .iter()
        .map(|s| format!("{s},sch-a,6,Ana,Diaz\n"))
        .collect();
    let name = format!("{district}-roster.csv");
    obc.write(
        &name,
        format!("student_id,school_id,grade,first_name,last_name\n{rows}"),
    );
    obc.ok(&["import", "roster", &name, "--district", district]);
}

fn statement(obc: &Obc, contract: &str) -> Table {
    Table::parse(&obc.ok(&[
        "statement",
        "--contract",
        contract,
        "--milestone",
        "enrollment",
        "--format",
        "csv",
    ]))
}

#[test]
fn math_and_reading_contracts_split_sessions_by_subject_and_count_ambiguous_ones_for_neither() {
    let obc = Obc::init();
    roster(&obc, "tiny", &["s1", "s2"]);
    // s1 in both contracts, s2 in math only.
    add_contract(
        &obc,
        "tiny-math",
        "tiny",
        "tp",
        "Mathematics",
        &["s1", "s2"],
    );
    add_contract(&obc, "tiny-reading", "tiny", "tp", "Reading", &["s1"]);
    obc.write(
        "sessions.csv",
        "session_id,student_id,tutor_id,date,minutes,status,subject\n\
         m1,s1,T1,2024-09-03,30,attended,mathematics\n\
         m2,s1,T1,2024-09-04,30,attended,Mathematics\n\
         r1,s1,T2,2024-09-03,30,attended,READING\n\
         b1,s1,T1,2024-09-05,30,attended,\n\
         b2,s2,T1,2024-09-05,30,attended,\n",
    );
    let out = obc.ok(&["import", "sessions", "sessions.csv", "--provider", "tp"]);
    assert!(out.contains("5 rows, 5 added"), "{out}");
    assert!(
        out.contains("warning: 1 sessions have no subject") && out.contains("  b1\n"),
        "{out}"
    );

    let math = statement(&obc, "tiny-math");
    let s1 = math.row("s1");
    assert_eq!(
        (s1["planned"].as_str(), s1["attended"].as_str()),
        ("2", "2")
    );
    assert!(
        s1["notes"].contains("1 sessions with no subject not counted (b1)"),
        "{s1:?}"
    );
    let s2 = math.row("s2");
    assert_eq!(
        s2["planned"], "1",
        "a blank subject counts for the only contract"
    );
    assert_eq!(s2["notes"], "");

    let reading = statement(&obc, "tiny-reading");
    let s1 = reading.row("s1");
    assert_eq!(
        (s1["planned"].as_str(), s1["attended"].as_str()),
        ("1", "1")
    );
    assert!(s1["notes"].contains("(b1)"), "{s1:?}");

    // Saying the subject settles it: re-sent with one, b1 counts for reading only.
    obc.write(
        "fix.csv",
        "session_id,student_id,tutor_id,date,minutes,status,subject\nb1,s1,T2,2024-09-05,30,attended,Reading\n",
    );
    let out = obc.ok(&["import", "sessions", "fix.csv", "--provider", "tp"]);
    assert!(
        out.contains("1 replaced") && !out.contains("no subject"),
        "{out}"
    );
    assert_eq!(statement(&obc, "tiny-reading").row("s1")["planned"], "2");
    let s1 = statement(&obc, "tiny-math");
    assert_eq!(s1.row("s1")["planned"], "2");
    assert_eq!(s1.row("s1")["notes"], "");
}

#[test]
fn a_student_id_in_two_districts_is_placed_by_the_providers_enrollments() {
    let obc = Obc::init();
    roster(&obc, "demo-district", &["s1", "s2"]);
    roster(&obc, "rival-district", &["s1", "s3"]);
    roster(&obc, "third-district", &["s3"]);
    // tp serves s1 in demo-district and s3 in rival-district.
    add_contract(
        &obc,
        "demo-math",
        "demo-district",
        "tp",
        "Mathematics",
        &["s1"],
    );
    add_contract(
        &obc,
        "rival-math",
        "rival-district",
        "tp",
        "Mathematics",
        &["s3"],
    );
    obc.write(
        "nightly.csv",
        "session_id,student_id,tutor_id,date,minutes,status\n\
         a1,s1,T1,2024-09-03,30,attended\n\
         a2,s3,T1,2024-09-03,30,attended\n\
         a3,s2,T1,2024-09-03,30,attended\n",
    );
    let out = obc.ok(&["import", "sessions", "nightly.csv", "--provider", "tp"]);
    assert!(out.contains("3 rows, 3 added"), "{out}");
    assert_eq!(statement(&obc, "demo-math").row("s1")["planned"], "1");
    assert_eq!(statement(&obc, "rival-math").row("s3")["planned"], "1");

    // A `district` column says where a row belongs, and must name one of the student's.
    obc.write(
        "placed.csv",
        "session_id,student_id,tutor_id,date,minutes,status,district\n\
         a4,s1,T1,2024-09-04,30,attended,demo-district\n\
         a5,s1,T1,2024-09-05,30,attended,third-district\n",
    );
    let err = obc.fails(&["import", "sessions", "placed.csv", "--provider", "tp"]);
    assert!(
        err.contains("placed.csv:3: column `district`: value `third-district`"),
        "{err}"
    );

    // A provider with no contract anywhere the student is enrolled never reads those names.
    add_contract(
        &obc,
        "solo-math",
        "demo-district",
        "solo",
        "Mathematics",
        &["s2"],
    );
    obc.write(
        "solo.csv",
        "session_id,student_id,tutor_id,date,minutes,status\nz1,s3,T9,2024-09-03,30,attended\n",
    );
    let err = obc.fails(&["import", "sessions", "solo.csv", "--provider", "solo"]);
    assert!(
        err.contains("solo.csv:2: column `student_id`: value `s3`"),
        "{err}"
    );
    assert!(
        !err.contains("rival") && !err.contains("third"),
        "a provider read a district it has no contract with: {err}"
    );
}

/// SPEC 5 keeps the sessions of a provider that does not enroll the student (with a warning),
/// but the student's page shows them apart, flagged for review, never in the timeline of the
/// provider that does enroll the student; and the warning names no other organisation.
#[tokio::test]
async fn sessions_of_a_provider_that_does_not_enroll_the_student_are_flagged_not_mixed_in() {
    let app = WebApp::new().await;
    let student = app.ids.demo_enrolled.clone();
    let other = app.ids.demo_unenrolled.clone();
    // brightpath holds a small contract in the demo district, for another student.
    app.obc.write(
        "small.toml",
        contract("small-math", DEMO_DISTRICT, MESA_PROVIDER, "Mathematics"),
    );
    app.cli(&["contract", "add", "small.toml"]);
    app.obc.write(
        "small.csv",
        format!("student_id,start_date,end_date\n{other},2024-08-20,\n"),
    );
    app.cli(&["enroll", "--contract", "small-math", "small.csv"]);

    let brightpath = app.login(Who::Brightpath).await;
    let body = format!(
        "session_id,student_id,tutor_id,date,minutes,status\nitem8-1,{student},T-item8,2024-10-01,30,attended\n"
    );
    let r = app
        .send(brightpath.with_token(Req::post("/api/sessions").body("text/csv", body.as_bytes())))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let summary = r.json()["summary"].to_string();
    assert!(
        summary.contains("not enrolled in your contracts"),
        "{summary}"
    );
    assert!(
        !summary.contains(DEMO_PROVIDER) && !summary.contains("demo-math"),
        "the warning names another organisation: {summary}"
    );

    let admin = app.login(Who::Admin).await;
    let page = app
        .send(admin.with_cookie(Req::get(&format!("/students/{DEMO_DISTRICT}/{student}"))))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let (timeline, flagged) = html
        .split_once("Flagged for review: sessions of providers not enrolled with this student (1)")
        .expect("a flagged section");
    assert!(!timeline.contains("T-item8"), "mixed into the timeline");
    assert!(
        flagged.contains("T-item8") && flagged.contains("not enrolled with this provider"),
        "{flagged}"
    );
    let api = app
        .send(admin.with_token(Req::get(&format!(
            "/api/students/{DEMO_DISTRICT}/{student}"
        ))))
        .await
        .json();
    let ids = |key: &str| -> Vec<String> {
        api[key]
            .as_array()
            .expect("sessions")
            .iter()
            .map(|s| s["session_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(ids("sessions_not_enrolled_with_provider"), ["item8-1"]);
    assert!(!ids("sessions").contains(&"item8-1".to_string()));

    // The enrolling provider's own view shows nothing of it.
    let demo = app.login(Who::Provider).await;
    let page = app
        .send(demo.with_cookie(Req::get(&format!("/students/{DEMO_DISTRICT}/{student}"))))
        .await
        .text();
    assert!(!page.contains("T-item8") && !page.contains("Flagged for review"));
}
