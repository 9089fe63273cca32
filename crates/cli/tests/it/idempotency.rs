//! Re-imports change nothing, re-sent sessions replace, contracts get versions, and finalized
//! statements are never changed.

use crate::support::{example, Obc, Table, BASELINE_CONTRACT};

/// The first session of the worked example's log, as re-sent by the provider: the tutor's
/// platform failed after all (dated before the enrollment milestone).
const RESENT_SESSION: &str =
    "session_id,student_id,tutor_id,date,minutes,status\nses-00000001,2000000,T1000,2024-08-26,0,provider_cancelled\n";

#[test]
fn importing_everything_twice_changes_nothing() {
    let obc = Obc::new();
    obc.load_example();
    let csv = obc.example_statement("final", "csv");
    let json = obc.example_statement("final", "json");

    let roster = obc.ok(&["import", "roster", &example("roster")]);
    assert!(
        roster.contains("120 students (0 added, 0 updated, 120 unchanged)"),
        "{roster}"
    );
    let assessments = obc.ok(&["import", "assessments", &example("AssessmentResults.csv")]);
    assert!(
        assessments.contains("507 rows read, 0 added, 0 replaced, 503 unchanged, 4 skipped"),
        "{assessments}"
    );
    let sessions = obc.ok(&[
        "import",
        "sessions",
        &example("sessions.csv"),
        "--provider",
        "brightpath",
    ]);
    assert!(
        sessions.contains("3336 rows, 0 added, 0 replaced (earlier versions kept), 3336 unchanged"),
        "{sessions}"
    );
    let contract = obc.ok(&["contract", "add", &example("contract.toml")]);
    assert!(
        contract.contains("Contract mesa-math-2025-baseline version 1 is unchanged"),
        "{contract}"
    );
    let enroll = obc.ok(&[
        "enroll",
        "--contract",
        BASELINE_CONTRACT,
        &example("enrollment.csv"),
    ]);
    assert!(
        enroll.contains("0 added, 0 updated, 116 unchanged"),
        "{enroll}"
    );

    assert_eq!(
        obc.example_statement("final", "csv"),
        csv,
        "the CSV after importing everything again"
    );
    assert_eq!(
        obc.example_statement("final", "json"),
        json,
        "the JSON after importing everything again"
    );
    let list = obc.ok(&["contract", "list", "--format", "csv"]);
    assert_eq!(list, "id,version\nmesa-math-2025-baseline,1\n");
}

#[test]
fn a_resent_session_replaces_the_earlier_one() {
    let obc = Obc::new();
    obc.load_example();
    let before = obc.example_statement("final", "csv");

    obc.write("resent.csv", RESENT_SESSION);
    let out = obc.ok(&[
        "import",
        "sessions",
        "resent.csv",
        "--provider",
        "brightpath",
    ]);
    assert!(out.contains("1 rows, 0 added, 1 replaced"), "{out}");
    let after = obc.example_statement("final", "csv");
    assert_ne!(after, before, "the re-sent session changes the statement");

    let (before, after) = (Table::parse(&before), Table::parse(&after));
    let (was, now) = (before.row("2000000"), after.row("2000000"));
    assert_eq!(
        (was["planned"].as_str(), now["planned"].as_str()),
        ("48", "48"),
        "replaced, not added"
    );
    assert_eq!(
        (was["attended"].as_str(), now["attended"].as_str()),
        ("42", "41")
    );
    assert_eq!(
        (
            was["provider_cancelled"].as_str(),
            now["provider_cancelled"].as_str()
        ),
        ("0", "1")
    );
    assert_eq!(now["provider_cancel_rate"], "0.0208"); // 1 / 48
    assert_eq!(
        before.row("TOTAL")["planned"],
        after.row("TOTAL")["planned"]
    );
    // Other students' lines are untouched.
    assert_eq!(before.row("2000001"), after.row("2000001"));

    // The same re-sent file again is a no-op.
    let again = obc.ok(&[
        "import",
        "sessions",
        "resent.csv",
        "--provider",
        "brightpath",
    ]);
    assert!(
        again.contains("1 rows, 0 added, 0 replaced (earlier versions kept), 1 unchanged"),
        "{again}"
    );
    assert!(obc.audit().contains("resent.csv: 0 added, 1 replaced"));
}

/// Issue 9: an identical re-send is recognised by the file's bytes and what it resolves, and
/// costs no merge; a file sent after another one is merged again, since the other may have
/// replaced its rows.
#[test]
fn an_identical_resend_changes_nothing_without_a_merge_and_an_interleaved_one_is_merged() {
    let obc = Obc::new();
    obc.load_example();
    let original = obc.example_statement("final", "csv");
    let import = |file: &str| obc.ok(&["import", "sessions", file, "--provider", "brightpath"]);
    let identical = "identical to the import of audit record";

    let again = import(&example("sessions.csv"));
    assert!(
        again.contains("3336 rows, 0 added, 0 replaced (earlier versions kept), 3336 unchanged"),
        "{again}"
    );
    assert_eq!(obc.audit().matches(identical).count(), 1, "{}", obc.audit());

    obc.write("resent.csv", RESENT_SESSION);
    assert!(import("resent.csv").contains("1 rows, 0 added, 1 replaced"));
    assert_ne!(obc.example_statement("final", "csv"), original);

    // The whole log again: the latest import was another file, so this one is merged and puts
    // the session back as it was.
    let merged = import(&example("sessions.csv"));
    assert!(
        merged.contains("3336 rows, 0 added, 1 replaced (earlier versions kept), 3335 unchanged"),
        "{merged}"
    );
    assert_eq!(obc.example_statement("final", "csv"), original);
    assert_eq!(obc.audit().matches(identical).count(), 1);

    // And once more: now it is the latest import, recognised again.
    assert!(import(&example("sessions.csv")).contains("3336 unchanged"));
    assert_eq!(obc.audit().matches(identical).count(), 2);
}

/// The same for MAP results: what an import adds to the file's bytes is which rows are in the
/// roster, so a re-send after the roster gained a student is merged.
#[test]
fn an_identical_map_resend_is_not_merged_unless_the_roster_changed() {
    let obc = Obc::new();
    obc.load_example();
    let import = || obc.ok(&["import", "assessments", &example("AssessmentResults.csv")]);
    let identical = "identical to the import of audit record";

    let again = import();
    assert!(
        again.contains("507 rows read, 0 added, 0 replaced, 503 unchanged, 4 skipped"),
        "{again}"
    );
    assert_eq!(obc.audit().matches(identical).count(), 1);

    // A student whose two tests were skipped joins the roster: the same bytes now add them.
    obc.write(
        "newcomer.csv",
        "student_id,school_id,grade,first_name,last_name\n9900001,sch-001,7,Al,New\n",
    );
    obc.ok(&[
        "import",
        "roster",
        "newcomer.csv",
        "--district",
        "dist-mesa",
    ]);
    let merged = import();
    assert!(
        merged.contains("507 rows read, 2 added, 0 replaced, 503 unchanged, 2 skipped"),
        "{merged}"
    );
    assert_eq!(obc.audit().matches(identical).count(), 1);

    assert!(import().contains("505 unchanged, 2 skipped"));
    assert_eq!(obc.audit().matches(identical).count(), 2);
}

#[test]
fn a_changed_contract_becomes_version_2() {
    let obc = Obc::new();
    obc.load_example();
    obc.finalize_example("enrollment");
    let source = std::fs::read_to_string(example("contract.toml")).expect("the example contract");
    let amended = source.replace(
        "not_to_exceed = \"216009.00\"",
        "not_to_exceed = \"100000.00\"",
    );
    assert_ne!(amended, source);
    obc.write("amended.toml", &amended);

    let out = obc.ok(&["contract", "add", "amended.toml"]);
    assert!(
        out.contains("Contract mesa-math-2025-baseline version 2 added"),
        "{out}"
    );
    let out = obc.ok(&["contract", "add", "amended.toml"]);
    assert!(out.contains("version 2 is unchanged"), "{out}");
    assert_eq!(
        obc.ok(&["contract", "list", "--format", "csv"]),
        "id,version\nmesa-math-2025-baseline,2\n"
    );
    let shown = obc.ok(&["contract", "show", BASELINE_CONTRACT]);
    assert!(
        shown.starts_with("# contract mesa-math-2025-baseline version 2 "),
        "{shown}"
    );
    assert!(shown.contains("not_to_exceed = \"100000.00\""), "{shown}");
    assert!(
        obc.audit()
            .contains("version 2, effective from 2024-08-12, sha256"),
        "the audit log records the new version"
    );

    // Statements now use version 2: its lower cap binds on the final statement.
    obc.finalize_example("midyear");
    let json = obc.example_statement("final", "json");
    let statement: serde_json::Value = serde_json::from_str(&json).expect("statement JSON");
    assert_eq!(statement["contract_version"], 2);
    let totals = &statement["totals"];
    assert_eq!(totals["paid_before"], "76323.18"); // 31681.76 + 44641.42
    assert_eq!(totals["statement_total"], "23676.82"); // 100000.00 - 76323.18
    let csv = Table::parse(&obc.example_statement("final", "csv"));
    assert_eq!(csv.row("NTE_CAP")["total"], "-13644.64"); // 23676.82 - 37321.46
    assert_eq!(csv.row("STATEMENT_TOTAL")["total"], "23676.82");
}

#[test]
fn finalizing_twice_is_refused() {
    let obc = Obc::new();
    obc.load_example();
    let first = obc.finalize_example("enrollment");
    let err = obc.fails(&[
        "statement",
        "finalize",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "enrollment",
    ]);
    assert!(
        err.contains("the enrollment statement of mesa-math-2025-baseline is already finalized"),
        "the message should say which statement is already finalized:\n{err}"
    );
    assert_eq!(
        obc.audit().matches("statement.finalize").count(),
        1,
        "finalized once"
    );
    assert_eq!(obc.example_statement("enrollment", "csv"), first);
}

#[test]
fn milestones_are_finalized_in_date_order() {
    let obc = Obc::new();
    obc.load_example();
    // Skipping milestones is allowed (the final one then pays the whole base part)...
    obc.finalize_example("final");
    // ...but an earlier milestone can no longer be finalized: it would pay the base twice.
    for milestone in ["enrollment", "midyear"] {
        let err = obc.fails(&[
            "statement",
            "finalize",
            "--contract",
            BASELINE_CONTRACT,
            "--milestone",
            milestone,
        ]);
        assert!(
            err.contains("final")
                && err.contains("already finalized")
                && err.contains("date order"),
            "{err}"
        );
    }
    assert_eq!(obc.audit().matches("statement.finalize").count(), 1);
}

#[test]
fn finalized_statements_stay_and_are_audited() {
    let obc = Obc::new();
    obc.load_example();
    obc.finalize_example("enrollment");

    // A later correction of a session dated before the milestone.
    obc.write("resent.csv", RESENT_SESSION);
    obc.ok(&[
        "import",
        "sessions",
        "resent.csv",
        "--provider",
        "brightpath",
    ]);

    let shown = obc.run(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "enrollment",
    ]);
    let stderr = shown.stderr();
    assert!(
        stderr.contains("FINALIZED"),
        "the statement should say it is finalized:\n{stderr}"
    );
    let stdout = shown.ok();
    assert!(
        stdout.contains("31681.76"),
        "the finalized total is shown:\n{stdout}"
    );
    // The next statement counts what the finalized one paid.
    let midyear: serde_json::Value =
        serde_json::from_str(&obc.example_statement("midyear", "json")).expect("statement JSON");
    assert_eq!(midyear["totals"]["paid_before"], "31681.76");

    let audit = obc.audit();
    for action in [
        "import.roster",
        "import.assessments",
        "import.sessions",
        "contract.version",
        "enroll",
        "statement.finalize",
    ] {
        assert!(
            audit.contains(action),
            "the audit log has no {action}:\n{audit}"
        );
    }
    assert!(audit.contains("resent.csv: 0 added, 1 replaced"), "{audit}");
    assert!(
        audit.contains("milestone:enrollment") && audit.contains("total 31681.76"),
        "{audit}"
    );
    assert!(
        audit.lines().all(|l| l.contains("tester")),
        "every entry names the actor:\n{audit}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&obc.ok(&["audit", "--format", "json"])).expect("audit JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(audit.lines().count()));
}

/// SPEC section 2: finalized statements are immutable. `obc statement` of a finalized milestone
/// should print the finalized statement (so says `statements::show`'s doc comment), not a
/// recomputation from changed inputs.
#[test]
fn a_finalized_statement_is_shown_as_finalized_after_inputs_change() {
    let obc = Obc::new();
    obc.load_example();
    let csv = obc.finalize_example("enrollment");
    obc.write("resent.csv", RESENT_SESSION);
    obc.ok(&[
        "import",
        "sessions",
        "resent.csv",
        "--provider",
        "brightpath",
    ]);
    assert_eq!(obc.example_statement("enrollment", "csv"), csv);
}

/// Six pushes sent at once with one `Idempotency-Key`: one imports, the others wait for it and
/// get its answer as a replay (same body) or a refusal (another body); what is stored is the
/// body of the one that imported.
pub(crate) async fn parallel_pushes_with_one_key_import_once(app: crate::web_support::WebApp) {
    use crate::web_support::{Req, Who};
    let provider = app.login(Who::Provider).await;
    let student = app.ids.demo_enrolled.clone();
    let body = |minutes: usize| {
        format!("session_id,student_id,tutor_id,date,minutes,status\nweb-race-1,{student},T-web,2025-04-01,{minutes},attended\n")
    };
    let push = |key: &str, body: String| {
        app.send(
            provider.with_token(
                Req::post("/api/sessions?name=race.csv")
                    .header("idempotency-key", key)
                    .body("text/csv", body.as_bytes()),
            ),
        )
    };
    let imports = || async {
        app.audit_actions("provider")
            .await
            .iter()
            .filter(|(action, _, _)| action == "import.sessions")
            .count()
    };
    let before = imports().await;

    // Different bodies: the first wins, the others are refused.
    let (a, b, c, d, e, f) = tokio::join!(
        push("race-different", body(30)),
        push("race-different", body(31)),
        push("race-different", body(32)),
        push("race-different", body(33)),
        push("race-different", body(34)),
        push("race-different", body(35)),
    );
    let answers = [a, b, c, d, e, f];
    let winners: Vec<usize> = (0..6)
        .filter(|&i| answers[i].status == axum::http::StatusCode::OK)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one push imports");
    assert!(answers[winners[0]].header("idempotent-replay").is_none());
    for (i, r) in answers.iter().enumerate().filter(|(i, _)| *i != winners[0]) {
        assert_eq!(
            r.status,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "push {i}: {}",
            r.text()
        );
    }
    let admin = app.login(Who::Admin).await;
    let record = app
        .send(admin.with_token(Req::get(&format!(
            "/api/students/{}/{student}",
            crate::web_support::DEMO_DISTRICT
        ))))
        .await
        .json();
    let stored: Vec<&serde_json::Value> = record["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter(|s| s["session_id"] == "web-race-1")
        .map(|s| &s["minutes"])
        .collect();
    assert_eq!(
        stored,
        [&serde_json::json!(30 + winners[0])],
        "the winner's body is stored"
    );
    assert_eq!(imports().await, before + 1);

    // The same body six times: one import, five replays of its answer.
    let (a, b, c, d, e, f) = tokio::join!(
        push("race-same", body(40)),
        push("race-same", body(40)),
        push("race-same", body(40)),
        push("race-same", body(40)),
        push("race-same", body(40)),
        push("race-same", body(40)),
    );
    let answers = [a, b, c, d, e, f];
    assert!(answers
        .iter()
        .all(|r| r.status == axum::http::StatusCode::OK));
    let replays = answers
        .iter()
        .filter(|r| r.header("idempotent-replay") == Some("true"))
        .count();
    assert_eq!(replays, 5, "one push imports, five are replays");
    let first = answers[0].json();
    assert!(answers.iter().all(|r| r.json() == first));
    assert_eq!(imports().await, before + 2);
}

#[tokio::test]
async fn parallel_pushes_with_one_key_import_once_on_sqlite() {
    parallel_pushes_with_one_key_import_once(crate::web_support::WebApp::new().await).await;
}

/// A district's first MAP file goes straight to its table (docs/ARCHITECTURE.md); one that
/// repeats a test turns to staging, where the later row wins, as it always did.
#[test]
fn a_first_map_file_that_repeats_a_test_keeps_its_later_row() {
    let original = std::fs::read_to_string(example("AssessmentResults.csv")).unwrap();
    let first_row = original.lines().nth(1).unwrap();
    let mut cells: Vec<&str> = first_row.split(',').collect();
    cells[13] = "250"; // TestRITScore
    let rescored = cells.join(",");
    let load = |file: &str| {
        let obc = Obc::new();
        let imported = obc.load_example_with(&obc.write("map.csv", file));
        (imported, obc.example_statement("final", "csv"))
    };
    let (repeated, repeated_statement) = load(&format!("{}\n{rescored}\n", original.trim_end()));
    assert!(
        repeated.contains("508 rows read, 503 added, 0 replaced, 0 unchanged, 4 skipped"),
        "{repeated}"
    );
    let (in_place, in_place_statement) = load(&original.replacen(first_row, &rescored, 1));
    assert!(
        in_place.contains("507 rows read, 503 added, 0 replaced, 0 unchanged, 4 skipped"),
        "{in_place}"
    );
    assert_eq!(repeated_statement, in_place_statement);
    let (_, unchanged_statement) = load(&original);
    assert_ne!(
        repeated_statement, unchanged_statement,
        "the rescored test is the one the statement counts"
    );
}
