//! The same runs on PostgreSQL (`--db postgres://...`) as on SQLite must print the same bytes:
//! statements (CSV, JSON, table), explanations, progress, the ledger and import reports.
//!
//! They need a server: `OBC_TEST_POSTGRES_URL` names a database on it whose role may create
//! databases (e.g. `postgres://obc:obc@127.0.0.1:5432/postgres`); each test creates a database
//! of its own there. Without it these tests print a note and pass, unless
//! `OBC_REQUIRE_POSTGRES=1` (set by CI), which makes its absence a failure.

use crate::acceptance::{assert_statement_matches, expected, MILESTONES};
use crate::support::{example, Obc, BASELINE_CONTRACT};

/// The web app's tests (`web_http.rs`), each on its own copy of the fixture on PostgreSQL.
mod web {
    async fn app() -> Option<crate::web_support::WebApp> {
        let server = super::server("the web test")?;
        Some(crate::web_support::WebApp::on_postgres(&server).await)
    }

    crate::web_http::web_tests!(app);
    crate::web_monitoring::monitoring_tests!(app);
    crate::web_consoles::console_tests!(app);
    crate::web_statements::statement_tests!(app);
    crate::web_drafts::drafts_tests!(app);
}

/// The PostgreSQL server of the tests, or `None` when none is configured.
fn server(test: &str) -> Option<String> {
    let Ok(server) = std::env::var("OBC_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("OBC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "OBC_REQUIRE_POSTGRES=1 but OBC_TEST_POSTGRES_URL is unset"
        );
        eprintln!("note: {test} skipped: set OBC_TEST_POSTGRES_URL to run it on PostgreSQL");
        return None;
    };
    Some(server)
}

/// A new, empty PostgreSQL database for one test, or `None` when no server is configured.
pub(crate) fn postgres_database(test: &str) -> Option<String> {
    let server = server(test)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    Some(
        runtime
            .block_on(obc_store::create_test_database(&server))
            .expect("create a PostgreSQL test database"),
    )
}

/// The worked example loaded on SQLite and on PostgreSQL.
fn both(test: &str) -> Option<(Obc, Obc)> {
    let url = postgres_database(test)?;
    let sqlite = Obc::new();
    let postgres = Obc::with_db(&url);
    sqlite.load_example();
    postgres.load_example();
    Some((sqlite, postgres))
}

/// Runs the same command on both and asserts the same output; returns it.
fn same(sqlite: &Obc, postgres: &Obc, args: &[&str]) -> String {
    let on_sqlite = sqlite.ok(args);
    let on_postgres = postgres.ok(args);
    assert_eq!(
        on_sqlite,
        on_postgres,
        "`obc {}` differs between SQLite (left) and PostgreSQL (right)",
        args.join(" ")
    );
    on_postgres
}

fn statement_args<'a>(milestone: &'a str, format: &'a str) -> [&'a str; 7] {
    [
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        milestone,
        "--format",
        format,
    ]
}

#[test]
fn worked_example_statements_are_byte_identical_on_postgres() {
    let Some((sqlite, postgres)) = both("worked_example_statements_are_byte_identical_on_postgres")
    else {
        return;
    };
    for milestone in MILESTONES {
        for format in ["csv", "json", "table"] {
            same(&sqlite, &postgres, &statement_args(milestone, format));
        }
        let finalize = [
            "statement",
            "finalize",
            "--contract",
            BASELINE_CONTRACT,
            "--milestone",
            milestone,
            "--format",
            "csv",
        ];
        let csv = same(&sqlite, &postgres, &finalize);
        assert_statement_matches(milestone, &csv, &expected(milestone));
        same(&sqlite, &postgres, &statement_args(milestone, "json"));
        same(&sqlite, &postgres, &statement_args(milestone, "csv"));
    }
    for student in ["2000000", "2000001"] {
        same(
            &sqlite,
            &postgres,
            &[
                "explain",
                "--contract",
                BASELINE_CONTRACT,
                "--student",
                student,
            ],
        );
    }
    same(
        &sqlite,
        &postgres,
        &[
            "progress",
            "--contract",
            BASELINE_CONTRACT,
            "--as-of",
            "2025-02-03",
            "--format",
            "csv",
        ],
    );
    same(&sqlite, &postgres, &["contract", "list"]);
    same(&sqlite, &postgres, &["ledger", "--format", "csv"]);
    same(
        &sqlite,
        &postgres,
        &["export", "indigo", "--contract", BASELINE_CONTRACT],
    );
    let verified = same(&sqlite, &postgres, &["ledger", "verify"]);
    assert!(
        verified.contains("3 finalized statements verified"),
        "{verified}"
    );
    // A finalized milestone stays finalized on PostgreSQL too.
    let again = postgres.fails(&[
        "statement",
        "finalize",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "final",
    ]);
    assert!(again.contains("already finalized"), "{again}");
}

#[test]
fn reimporting_on_postgres_changes_nothing() {
    let Some((sqlite, postgres)) = both("reimporting_on_postgres_changes_nothing") else {
        return;
    };
    let before = postgres.ok(&statement_args("final", "json"));
    let roster = same(
        &sqlite,
        &postgres,
        &["import", "roster", &example("roster")],
    );
    let assessments = same(
        &sqlite,
        &postgres,
        &["import", "assessments", &example("AssessmentResults.csv")],
    );
    let sessions = same(
        &sqlite,
        &postgres,
        &[
            "import",
            "sessions",
            &example("sessions.csv"),
            "--provider",
            "brightpath",
        ],
    );
    let contract = same(
        &sqlite,
        &postgres,
        &["contract", "add", &example("contract.toml")],
    );
    let enroll = same(
        &sqlite,
        &postgres,
        &[
            "enroll",
            "--contract",
            BASELINE_CONTRACT,
            &example("enrollment.csv"),
        ],
    );
    for (what, report) in [
        ("roster", &roster),
        ("assessments", &assessments),
        ("sessions", &sessions),
        ("enrollment", &enroll),
    ] {
        let words: Vec<&str> = report.split([' ', ',', '(']).collect();
        for (i, word) in words.iter().enumerate().skip(1) {
            if ["added", "updated", "replaced"].contains(word) {
                assert_eq!(
                    words[i - 1],
                    "0",
                    "re-importing the {what} changed something:\n{report}"
                );
            }
        }
    }
    assert!(contract.contains("unchanged"), "{contract}");
    assert_eq!(postgres.ok(&statement_args("final", "json")), before);
}

#[test]
fn postgres_specifics_are_explained() {
    let Some(url) = postgres_database("postgres_specifics_are_explained") else {
        return;
    };
    let obc = Obc::with_db(&url);
    let missing = obc.fails(&["contract", "list"]);
    assert!(missing.contains("obc init"), "{missing}");
    obc.ok(&["init"]);
    let backup = obc.fails(&["backup", "copy.db"]);
    assert!(backup.contains("pg_dump"), "{backup}");
    assert!(!obc.path("copy.db").exists());
    let restore = obc.fails(&["restore", "copy.db"]);
    assert!(restore.contains("SQLite"), "{restore}");
    // A refused connection is reported without the password of the URL.
    if let Some(password) = url.split_once("://").and_then(|(_, rest)| {
        let userinfo = rest.split_once('@')?.0;
        Some(userinfo.split_once(':')?.1.to_string())
    }) {
        let wrong = url.replacen(&format!(":{password}@"), ":wrong-password@", 1);
        let run = obc.run(&["--db", &wrong, "contract", "list"]);
        let printed = format!("{}{}", run.stdout(), run.stderr());
        assert!(!printed.contains("wrong-password"), "{printed}");
    }
}

/// A fresh `Obc` on a new PostgreSQL database; panics without a server (callers check first).
fn on_postgres() -> Obc {
    Obc::with_db(&postgres_database("a PostgreSQL test").expect("a PostgreSQL server"))
}

#[test]
fn ledger_catches_tampering_on_postgres() {
    if server("ledger_catches_tampering_on_postgres").is_some() {
        crate::ledger::ledger_catches_tampering(on_postgres());
    }
}

#[test]
fn a_closing_pays_late_data_once_on_postgres() {
    if server("a_closing_pays_late_data_once_on_postgres").is_some() {
        crate::closing::closing_pays_late_data_once(on_postgres);
    }
}

#[test]
fn an_issued_draft_waits_for_its_review_on_postgres() {
    if server("an_issued_draft_waits_for_its_review_on_postgres").is_some() {
        crate::review::issued_draft_waits_for_its_review(on_postgres);
    }
}

#[test]
fn a_killed_import_leaves_nothing_on_postgres() {
    if server("a_killed_import_leaves_nothing_on_postgres").is_some() {
        crate::ledger::killed_import_leaves_nothing(on_postgres());
    }
}

#[test]
fn concurrent_uploads_serialize_on_postgres() {
    if server("concurrent_uploads_serialize_on_postgres").is_some() {
        crate::ledger::concurrent_uploads_serialize(on_postgres);
    }
}

#[test]
fn every_tamper_is_caught_on_postgres() {
    if server("every_tamper_is_caught_on_postgres").is_some() {
        crate::ledger::every_tamper_is_caught(on_postgres);
    }
}

#[test]
fn a_database_from_before_the_chain_verifies_on_postgres() {
    if server("a_database_from_before_the_chain_verifies_on_postgres").is_some() {
        crate::ledger::database_from_before_the_chain_verifies(on_postgres());
    }
}

#[test]
fn a_busy_database_is_reported_as_busy_on_postgres() {
    if server("a_busy_database_is_reported_as_busy_on_postgres").is_some() {
        crate::ledger::busy_database_is_not_damage(on_postgres());
    }
}

#[tokio::test]
async fn parallel_pushes_with_one_key_import_once_on_postgres() {
    if let Some(server) = server("parallel_pushes_with_one_key_import_once_on_postgres") {
        crate::idempotency::parallel_pushes_with_one_key_import_once(
            crate::web_support::WebApp::on_postgres(&server).await,
        )
        .await;
    }
}

#[test]
fn late_data_of_every_kind_still_verifies_on_postgres() {
    if server("late_data_of_every_kind_still_verifies_on_postgres").is_some() {
        crate::ledger::late_data_of_every_kind_still_verifies(on_postgres());
    }
}

#[test]
fn tampered_input_rows_are_caught_on_postgres() {
    if server("tampered_input_rows_are_caught_on_postgres").is_some() {
        crate::ledger::tampered_input_rows_are_caught(on_postgres());
    }
}

#[test]
fn a_statement_with_a_copy_of_its_inputs_verifies_on_postgres() {
    if server("a_statement_with_a_copy_of_its_inputs_verifies_on_postgres").is_some() {
        crate::ledger::statement_with_a_copy_of_its_inputs_verifies(on_postgres());
    }
}
