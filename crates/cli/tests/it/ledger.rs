//! The ledger and the database's guarantees: verification by recomputation, tamper detection,
//! backups, a killed import, and concurrent uploads.

use crate::support::Obc;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn finalize_all(obc: &Obc) {
    obc.load_example();
    for m in ["enrollment", "midyear", "final"] {
        obc.finalize_example(m);
    }
}

/// Runs SQL on obc's database behind its back: the values of the `SELECT`s (counts), or the
/// first error.
pub(crate) fn try_sql(obc: &Obc, statements: &[&str]) -> Result<Vec<i64>, sqlx::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&obc.db_url()).await?;
        let mut out = Vec::new();
        for s in statements {
            if s.trim_start().to_uppercase().starts_with("SELECT") {
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(s.to_string()))
                    .fetch_one(&mut conn)
                    .await?;
                out.push(n);
            } else {
                sqlx::raw_sql(sqlx::AssertSqlSafe(s.to_string()))
                    .execute(&mut conn)
                    .await?;
            }
        }
        conn.close().await?;
        Ok(out)
    })
}

/// [`try_sql`] that must succeed.
pub(crate) fn sql(obc: &Obc, statements: &[&str]) -> Vec<i64> {
    try_sql(obc, statements).expect("SQL behind obc's back")
}

#[test]
fn ledger_balances_verifies_and_catches_a_tampered_row() {
    ledger_catches_tampering(Obc::new());
}

/// The ledger test on `obc`'s database (SQLite here, PostgreSQL in `postgres.rs`).
pub(crate) fn ledger_catches_tampering(obc: Obc) {
    finalize_all(&obc);
    let verified = obc.ok(&["ledger", "verify"]);
    assert!(
        verified.contains("3 finalized statements verified"),
        "{verified}"
    );

    let ledger: serde_json::Value =
        serde_json::from_str(&obc.ok(&["ledger", "--format", "json"])).unwrap();
    let statements = ledger.as_array().unwrap();
    assert_eq!(statements.len(), 3);
    let totals: Vec<&str> = statements
        .iter()
        .map(|s| s["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["31681.76", "44641.42", "37321.46"]);
    for s in statements {
        let cents: i64 = s["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let amount: f64 = e["amount"].as_str().unwrap().parse().unwrap();
                (amount * 100.0).round() as i64
            })
            .sum();
        assert_eq!(
            cents, 0,
            "double entry: every statement's entries sum to zero"
        );
    }

    // Edits through SQL are refused by the database itself...
    let refused = try_sql(&obc, &["UPDATE statements SET total_cents = 0"]);
    assert!(refused.is_err(), "finalized statements cannot be updated");

    // ...and someone who removes the guard is caught by `ledger verify`.
    let drop_trigger = if obc.is_postgres() {
        "DROP TRIGGER statement_lines_are_immutable ON statement_lines"
    } else {
        "DROP TRIGGER statement_lines_are_immutable"
    };
    sql(
        &obc,
        &[
            drop_trigger,
            "UPDATE statement_lines SET contingent_cents = contingent_cents + 1000 WHERE student_id = '2000000' AND statement_id = 3",
        ],
    );
    let out = obc.run(&["ledger", "verify"]);
    let stdout = out.stdout();
    let stderr = out.fails();
    assert!(
        stdout.contains("MISMATCH mesa-math-2025-baseline / final"),
        "{stdout}"
    );
    assert!(stdout.contains("student 2000000"), "{stdout}");
    assert!(
        stderr.contains("1 of 3 finalized statements do not verify"),
        "{stderr}"
    );
}

#[test]
fn late_data_never_changes_a_finalized_statement_or_its_verification() {
    let obc = Obc::new();
    finalize_all(&obc);
    obc.write(
        "late.csv",
        "session_id,student_id,tutor_id,date,minutes,status\nses-00000001,2000000,T1000,2024-08-26,30,provider_cancelled\n",
    );
    obc.ok(&["import", "sessions", "late.csv", "--provider", "brightpath"]);
    assert!(obc
        .ok(&["ledger", "verify"])
        .contains("3 finalized statements verified"));
    let shown = obc.example_statement("enrollment", "csv");
    assert!(
        shown.contains("STATEMENT_TOTAL,,,,,,,,,,,,,,,,,,,31681.76"),
        "{shown}"
    );
}

#[test]
fn backup_and_restore_round_trip() {
    let obc = Obc::new();
    finalize_all(&obc);
    obc.ok(&["backup", "copy.db"]);
    obc.fails(&["backup", "copy.db"]);
    let refused = obc.fails(&["--db", "obc.db", "restore", "copy.db"]);
    assert!(refused.contains("--force"), "{refused}");
    obc.ok(&["--db", "restored.db", "restore", "copy.db"]);
    let a = obc.ok(&["--db", "obc.db", "ledger", "--format", "csv"]);
    let b = obc.ok(&["--db", "restored.db", "ledger", "--format", "csv"]);
    assert_eq!(a, b);
    assert!(obc
        .ok(&["--db", "restored.db", "ledger", "verify"])
        .contains("verified"));
    obc.write("junk.db", "not a database");
    obc.fails(&["--db", "other.db", "restore", "junk.db"]);
}

/// A session log of `n` rows for the worked example's students, ids from `first`.
fn big_sessions(first: usize, n: usize, status: &str) -> String {
    let enrollment = std::fs::read_to_string(crate::support::example("enrollment.csv")).unwrap();
    let students: Vec<&str> = enrollment
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    let mut text = String::from("session_id,student_id,tutor_id,date,minutes,status\n");
    for i in first..first + n {
        let day = 1 + i % 28;
        text.push_str(&format!(
            "big-{i:08},{},T1,2024-10-{day:02},30,{status}\n",
            students[i % students.len()]
        ));
    }
    text
}

fn count_sessions(obc: &Obc) -> i64 {
    sql(obc, &["SELECT count(*) FROM sessions"])[0]
}

#[test]
fn a_killed_import_leaves_the_database_as_it_was() {
    killed_import_leaves_nothing(Obc::new());
}

/// The killed-import test on `obc`'s database (SQLite here, PostgreSQL in `postgres.rs`).
pub(crate) fn killed_import_leaves_nothing(obc: Obc) {
    obc.load_example();
    let before = count_sessions(&obc);
    obc.write("big.csv", big_sessions(0, 400_000, "attended"));
    let mut child = obc
        .command(&["import", "sessions", "big.csv", "--provider", "brightpath"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while it is staging rows inside its transaction.
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(600));
    let finished_early = child.try_wait().unwrap().is_some();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !finished_early,
        "the import finished in {:?}: make the file bigger",
        started.elapsed()
    );
    assert_eq!(
        count_sessions(&obc),
        before,
        "nothing of the killed import remains"
    );
    let out = obc.ok(&["import", "sessions", "big.csv", "--provider", "brightpath"]);
    assert!(out.contains("400000 added"), "{out}");
    assert_eq!(count_sessions(&obc), before + 400_000);
}

#[test]
fn concurrent_overlapping_uploads_end_as_if_run_one_after_the_other() {
    concurrent_uploads_serialize(Obc::new);
}

/// The concurrent-uploads test on the databases `new` makes (SQLite here, PostgreSQL in
/// `postgres.rs`).
pub(crate) fn concurrent_uploads_serialize(new: impl Fn() -> Obc) {
    let a = big_sessions(0, 30_000, "attended");
    let b = big_sessions(20_000, 30_000, "student_absent");
    let snapshot = |obc: &Obc| {
        sql(
            obc,
            &[
                "SELECT count(*) FROM sessions",
                "SELECT count(*) FROM sessions WHERE status = 'student_absent'",
                "SELECT count(*) FROM session_history",
            ],
        )
    };
    let sequential = |first: &str, second: &str| {
        let obc = new();
        obc.load_example();
        obc.write("a.csv", &a);
        obc.write("b.csv", &b);
        obc.ok(&["import", "sessions", first, "--provider", "brightpath"]);
        obc.ok(&["import", "sessions", second, "--provider", "brightpath"]);
        snapshot(&obc)
    };
    let a_then_b = sequential("a.csv", "b.csv");
    let b_then_a = sequential("b.csv", "a.csv");

    let obc = new();
    obc.load_example();
    obc.write("a.csv", &a);
    obc.write("b.csv", &b);
    let spawn = |file: &str| {
        obc.command(&["import", "sessions", file, "--provider", "brightpath"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn("a.csv"), spawn("b.csv"));
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let concurrent = snapshot(&obc);
    assert!(
        concurrent == a_then_b || concurrent == b_then_a,
        "concurrent {concurrent:?}, a then b {a_then_b:?}, b then a {b_then_a:?}"
    );
    assert_eq!(
        concurrent[0],
        50_000
            + sql(
                &obc,
                &["SELECT count(*) FROM sessions WHERE session_id LIKE 'ses-%'"]
            )[0]
    );
}

#[test]
fn late_data_is_corrected_on_the_next_statement_never_paid_twice() {
    let obc = Obc::new();
    obc.load_example();
    let enrollment = obc.finalize_example("enrollment");
    assert!(enrollment
        .contains("2000014,sch-001,0,0,0,0,0,,,,,210,,,8,,no_attended_session,0.00,0.00,0.00"));
    // A session of 2000014 before the enrollment milestone arrives late.
    obc.write(
        "late.csv",
        "session_id,student_id,tutor_id,date,minutes,status\nlate-1,2000014,T1000,2024-10-01,30,attended\n",
    );
    obc.ok(&["import", "sessions", "late.csv", "--provider", "brightpath"]);
    // The finalized statement is unchanged...
    assert_eq!(obc.example_statement("enrollment", "csv"), enrollment);
    // ...and the next one corrects its line once: +360.02 as an adjustment, and the midyear
    // base is what remains due (720.03 - 360.02), not the whole catch-up.
    let midyear = obc.finalize_example("midyear");
    let adjustment = midyear
        .lines()
        .find(|l| l.starts_with("ADJUSTMENT,2000014,"))
        .expect(&midyear);
    assert!(
        adjustment.contains(",adjustment:enrollment,,,360.02,"),
        "{adjustment}"
    );
    assert!(
        adjustment.contains("paid 0.00 (no_attended_session)"),
        "{adjustment}"
    );
    let line = midyear.lines().find(|l| l.starts_with("2000014,")).unwrap();
    assert!(line.contains(",base,360.01,0.00,360.01,"), "{line}");
    // Without the late session the student had no line payment at midyear; now they are
    // paid 720.03 in all: 360.02 + 360.01 = 720.03 on top of the expected 44641.42.
    assert!(
        midyear.contains("STATEMENT_TOTAL,,,,,,,,,,,,,,,,,,,45361.45"),
        "{midyear}"
    );
    assert!(obc
        .ok(&["ledger", "verify"])
        .contains("2 finalized statements verified"));
    // The final statement does not correct the enrollment line again.
    let last = obc.finalize_example("final");
    assert!(!last.contains("ADJUSTMENT,"), "{last}");
}

#[test]
fn an_amendment_applies_from_its_effective_date_and_statements_name_their_version() {
    let obc = Obc::new();
    obc.load_example();
    obc.finalize_example("enrollment");
    // Version 2 raises the price from 2025-01-01: B = 1500.00 x 0.60 = 900.00.
    let v2 = std::fs::read_to_string(crate::support::example("contract.toml"))
        .unwrap()
        .replace(
            "price_per_student = \"1200.05\"",
            "price_per_student = \"1500.00\"",
        );
    obc.write("v2.toml", v2);
    let added = obc.ok(&["contract", "add", "v2.toml", "--effective", "2025-01-01"]);
    assert!(
        added.contains("version 2 added, effective from 2025-01-01"),
        "{added}"
    );
    let version = |milestone: &str, as_of: Option<&str>| {
        let mut args = vec![
            "statement",
            "--contract",
            crate::support::BASELINE_CONTRACT,
            "--milestone",
            milestone,
            "--format",
            "json",
        ];
        if let Some(d) = as_of {
            args.extend(["--as-of", d]);
        }
        let json: serde_json::Value = serde_json::from_str(&obc.ok(&args)).unwrap();
        json
    };
    // The finalized statement keeps the version it used.
    assert_eq!(version("enrollment", None)["contract_version"], 1);
    // The midyear statement is dated after the effective date: version 2, and what is due
    // is 900.00 less the 360.02 the enrollment statement paid: 539.98.
    let midyear = version("midyear", None);
    assert_eq!(midyear["contract_version"], 2);
    let line = midyear["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["student_id"] == "2000000")
        .unwrap();
    assert_eq!(line["base_amount"], "539.98");
    // Asked as of a date before the amendment, the same milestone uses version 1.
    assert_eq!(
        version("midyear", Some("2024-12-15"))["contract_version"],
        1
    );
    assert!(obc.audit().contains("version 2, effective from 2025-01-01"));
}
