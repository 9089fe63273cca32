//! `obc demo`: a synthetic district year built through the real importers. Its statements are
//! golden snapshots (`snapshots/`): a change to any figure shows up as a snapshot diff.

use crate::support::Obc;

const CONTRACT: &str = "demo-math-2025";

fn statement(obc: &Obc, milestone: &str, format: &str) -> String {
    obc.ok(&[
        "statement",
        "--contract",
        CONTRACT,
        "--milestone",
        milestone,
        "--format",
        format,
    ])
}

#[test]
fn demo_builds_a_year_and_is_repeatable() {
    let obc = Obc::new();
    let out = obc.ok(&["demo"]);
    for fact in [
        "Demo district demo-district: 900 students, 600 enrolled in demo-math-2025",
        "Finalized the enrollment statement: ",
        "Finalized the midyear statement: ",
        "Statement for contract demo-math-2025 (version 1), milestone final",
        "TOTAL",
        "cost per outcome",
        "statement --contract demo-math-2025 --milestone final --format csv",
    ] {
        assert!(
            out.contains(fact),
            "the demo's summary should say `{fact}`:\n{out}"
        );
    }
    // Every rule shows up in the demo's final statement.
    for rule in [
        "district_fault",
        "provider_fault",
        "excluded",
        "tier:exceeds",
        "tier:below",
        "+school_adjust",
    ] {
        assert!(
            out.contains(rule),
            "the demo's final statement has no {rule} line:\n{out}"
        );
    }
    // The generated files went to a temporary folder, removed afterwards.
    let leftovers: Vec<_> = std::fs::read_dir(obc.dir())
        .expect("read the test dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("obc-demo"))
        .collect();
    assert!(leftovers.is_empty(), "obc demo left {leftovers:?} behind");

    let final_csv = statement(&obc, "final", "csv");
    insta::assert_snapshot!("demo_final_statement_csv", final_csv);
    let enrollment_json = statement(&obc, "enrollment", "json");
    insta::assert_snapshot!("demo_enrollment_statement_json", enrollment_json);

    // Again on the same database: everything is already there, nothing is finalized twice, and
    // the final statement does not change.
    let again = obc.ok(&["demo"]);
    assert!(
        !again.contains("Finalized the"),
        "the second demo finalized again:\n{again}"
    );
    assert!(
        again.contains("0 added, 0 replaced (earlier versions kept), 35289 unchanged"),
        "{again}"
    );
    assert!(
        again.contains("Contract demo-math-2025 version 1 is unchanged"),
        "{again}"
    );
    assert_eq!(
        statement(&obc, "final", "csv"),
        final_csv,
        "the final statement after a second demo"
    );
    assert_eq!(statement(&obc, "enrollment", "json"), enrollment_json);
}

#[test]
fn demo_export_writes_files_that_reimport_unchanged_and_give_the_same_statements() {
    let obc = Obc::new();
    let out = obc.ok(&["demo", "--export", "ex"]);
    assert!(out.contains("The demo's input files are in ex"), "{out}");
    for file in [
        "README.md",
        "contract.toml",
        "enrollment.csv",
        "sessions.csv",
        "AssessmentResults.csv",
        "roster/manifest.csv",
        "roster/orgs.csv",
        "roster/users.csv",
        "roster/enrollments.csv",
    ] {
        assert!(
            obc.path("ex").join(file).is_file(),
            "obc demo --export did not write {file}"
        );
    }

    // Re-importing what the demo imported changes nothing.
    let sessions = obc.ok(&[
        "import",
        "sessions",
        "ex/sessions.csv",
        "--provider",
        "demo-tutoring",
    ]);
    assert!(
        sessions.contains("35289 rows, 0 added, 0 replaced"),
        "{sessions}"
    );
    let roster = obc.ok(&["import", "roster", "ex/roster"]);
    assert!(
        roster.contains("(0 added, 0 updated, 900 unchanged)"),
        "{roster}"
    );
    let assessments = obc.ok(&["import", "assessments", "ex/AssessmentResults.csv"]);
    assert!(
        assessments.contains(" 0 added, 0 replaced, "),
        "{assessments}"
    );
    let contract = obc.ok(&["contract", "add", "ex/contract.toml"]);
    assert!(contract.contains("version 1 is unchanged"), "{contract}");
    let enroll = obc.ok(&["enroll", "--contract", CONTRACT, "ex/enrollment.csv"]);
    assert!(
        enroll.contains("0 added, 0 updated, 600 unchanged"),
        "{enroll}"
    );

    // The exported files, imported by hand into another database as a user would, give the
    // very same statements: the demo uses nothing the commands do not.
    let by_hand = Obc::init();
    let file = |name: &str| obc.path("ex").join(name).to_string_lossy().into_owned();
    by_hand.ok(&["import", "roster", &file("roster")]);
    by_hand.ok(&["import", "assessments", &file("AssessmentResults.csv")]);
    by_hand.ok(&[
        "import",
        "sessions",
        &file("sessions.csv"),
        "--provider",
        "demo-tutoring",
    ]);
    by_hand.ok(&["contract", "add", &file("contract.toml")]);
    by_hand.ok(&["enroll", "--contract", CONTRACT, &file("enrollment.csv")]);
    for milestone in ["enrollment", "midyear"] {
        let finalized = by_hand.ok(&[
            "statement",
            "finalize",
            "--contract",
            CONTRACT,
            "--milestone",
            milestone,
            "--format",
            "json",
        ]);
        assert_eq!(
            finalized,
            statement(&obc, milestone, "json"),
            "{milestone} statement by hand"
        );
    }
    assert_eq!(
        statement(&by_hand, "final", "csv"),
        statement(&obc, "final", "csv")
    );
}
