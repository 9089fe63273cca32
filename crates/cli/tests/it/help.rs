//! `--help` works and names the commands.

use crate::support::Obc;

#[test]
fn top_level_help_lists_the_commands() {
    let out = Obc::new().ok(&["--help"]);
    for command in [
        "init",
        "demo",
        "import",
        "contract",
        "enroll",
        "statement",
        "explain",
        "audit",
    ] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "`obc --help` should list `{command}`:\n{out}"
        );
    }
    assert!(
        out.contains("obc statement finalize --contract"),
        "the walk-through of a year:\n{out}"
    );
    assert!(out.contains("--db <DB>"), "{out}");
}

#[test]
fn statement_help_names_its_options_and_finalize() {
    let out = Obc::new().ok(&["statement", "--help"]);
    for fragment in [
        "finalize",
        "--contract",
        "--milestone",
        "--as-of",
        "--format",
        "table, csv, json",
        "--output",
    ] {
        assert!(
            out.contains(fragment),
            "`obc statement --help` should mention `{fragment}`:\n{out}"
        );
    }
    let out = Obc::new().ok(&["statement", "finalize", "--help"]);
    assert!(out.contains("--milestone"), "{out}");
}

#[test]
fn import_help_lists_the_importers() {
    let out = Obc::new().ok(&["import", "--help"]);
    for fragment in [
        "roster",
        "assessments",
        "sessions",
        "OneRoster",
        "AssessmentResults.csv",
    ] {
        assert!(
            out.contains(fragment),
            "`obc import --help` should mention `{fragment}`:\n{out}"
        );
    }
    let out = Obc::new().ok(&["import", "sessions", "--help"]);
    assert!(
        out.contains("--provider")
            && out.contains("session_id,student_id,tutor_id,date,minutes,status"),
        "{out}"
    );
}

#[test]
fn help_needs_no_database_and_usage_errors_say_what_is_missing() {
    let obc = Obc::new();
    obc.ok(&["--help"]);
    obc.ok(&["--version"]);
    assert!(
        !obc.path("obc.db").exists(),
        "help must not create a database"
    );
    let usage = obc.run(&["statement"]);
    assert_eq!(usage.status.code(), Some(2), "a usage error");
    let stderr = usage.stderr();
    assert!(
        stderr.contains("--contract") && stderr.contains("--milestone"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
