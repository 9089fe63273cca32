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

/// `DROP TRIGGER` in each backend's dialect: what someone with the database's password does
/// before tampering.
fn drop_trigger(obc: &Obc, trigger: &str, table: &str) -> String {
    if obc.is_postgres() {
        format!("DROP TRIGGER {trigger} ON {table}")
    } else {
        format!("DROP TRIGGER {trigger}")
    }
}

/// Runs `ledger verify`, asserts it fails, and returns its standard output and error.
fn verify_fails(obc: &Obc) -> (String, String) {
    let out = obc.run(&["ledger", "verify"]);
    let stdout = out.stdout();
    let stderr = out.fails();
    (stdout, stderr)
}

#[test]
fn ledger_verify_catches_every_kind_of_tampering() {
    every_tamper_is_caught(Obc::new);
}

/// Each tamper of the issue, on a fresh finalized ledger made by `new` (SQLite here,
/// PostgreSQL in `postgres.rs`): `ledger verify` names the record it touched.
pub(crate) fn every_tamper_is_caught(new: impl Fn() -> Obc) {
    // (what, the tamper's SQL, what `ledger verify` must print)
    type Tamper = (
        &'static str,
        fn(&Obc) -> Vec<String>,
        &'static [&'static str],
    );
    let tampers: [Tamper; 8] = [
        (
            "a tier's pay raised in the signed contract",
            |obc| {
                vec![
                    drop_trigger(obc, "contract_versions_are_immutable", "contract_versions"),
                    "UPDATE contract_versions SET source = replace(source, 'pays = \"1.25\"', 'pays = \"2.00\"')".into(),
                ]
            },
            &["PROBLEM  contract mesa-math-2025-baseline version 1: its source hashes to"],
        ),
        (
            "a balanced fake posting inserted",
            |obc| {
                vec![
                    drop_trigger(obc, "ledger_entries_are_complete", "ledger_entries"),"INSERT INTO ledger_entries (statement_id, posting, account, amount_cents, student_id, memo)
                      VALUES (2, 'fake', 'district_payable:mesa', -50000, NULL, 'fake'),
                             (2, 'fake', 'provider_receivable:elsewhere', 50000, NULL, 'fake')".into()]
            },
            &["MISMATCH mesa-math-2025-baseline / midyear:", "stored rows changed"],
        ),
        (
            "a finalized statement deleted",
            |obc| {
                vec![
                    drop_trigger(obc, "ledger_is_kept", "ledger_entries"),
                    drop_trigger(obc, "statement_inputs_as_of_are_kept", "statement_inputs_as_of"),
                    drop_trigger(obc, "statement_lines_are_kept", "statement_lines"),
                    drop_trigger(obc, "statements_are_kept", "statements"),
                    "DELETE FROM ledger_entries WHERE statement_id = 3".into(),
                    "DELETE FROM statement_inputs_as_of WHERE statement_id = 3".into(),
                    "DELETE FROM statement_lines WHERE statement_id = 3".into(),
                    "DELETE FROM statements WHERE id = 3".into(),
                ]
            },
            &[
                "PROBLEM  mesa-math-2025-baseline / final: in the chain",
                "records the finalization of contract:mesa-math-2025-baseline/milestone:final, which is not in the ledger",
            ],
        ),
        (
            "a milestone date moved (changing the next statement's paid before)",
            |obc| {
                vec![
                    drop_trigger(obc, "statements_are_immutable", "statements"),
                    "UPDATE statements SET milestone_date = '2025-12-31' WHERE id = 2".into(),
                ]
            },
            &["MISMATCH mesa-math-2025-baseline / midyear:", "stored rows changed"],
        ),
        (
            "an account renamed",
            |obc| {
                vec![
                    drop_trigger(obc, "ledger_is_append_only", "ledger_entries"),
                    "UPDATE ledger_entries SET account = 'provider_receivable:other' WHERE statement_id = 1 AND account LIKE 'provider%'".into(),
                ]
            },
            &["MISMATCH mesa-math-2025-baseline / enrollment:", "stored rows changed"],
        ),
        (
            "finalized_by rewritten",
            |obc| {
                vec![
                    drop_trigger(obc, "statements_are_immutable", "statements"),
                    "UPDATE statements SET finalized_by = 'someone else' WHERE id = 1".into(),
                ]
            },
            &["MISMATCH mesa-math-2025-baseline / enrollment:", "stored rows changed"],
        ),
        (
            "session history deleted",
            |obc| {
                vec![
                    drop_trigger(obc, "session_history_is_kept", "session_history"),
                    "DELETE FROM session_history".into(),
                ]
            },
            &["MISMATCH mesa-math-2025-baseline / enrollment:", "stored rows changed"],
        ),
        (
            "a link of the chain deleted",
            |obc| {
                vec![
                    drop_trigger(obc, "ledger_chain_is_kept", "ledger_chain"),
                    "DELETE FROM ledger_chain WHERE id = 2".into(),
                ]
            },
            &["does not follow the link before it", "not in the chain: added behind"],
        ),
    ];
    for (what, tamper, expected) in tampers {
        let obc = new();
        obc.load_example();
        // A re-sent session before the first milestone puts a row in session_history that
        // the enrollment statement could see.
        obc.write(
            "resent.csv",
            "session_id,student_id,tutor_id,date,minutes,status\nses-00000001,2000000,T1000,2024-08-26,30,provider_cancelled\n",
        );
        obc.ok(&[
            "import",
            "sessions",
            "resent.csv",
            "--provider",
            "brightpath",
        ]);
        for m in ["enrollment", "midyear", "final"] {
            obc.finalize_example(m);
        }
        assert!(sql(&obc, &["SELECT count(*) FROM session_history"])[0] > 0);
        assert!(obc
            .ok(&["ledger", "verify"])
            .contains("3 finalized statements verified"));
        let fake = "INSERT INTO ledger_entries (statement_id, posting, account, amount_cents, student_id, memo)
                    VALUES (1, 'fake', 'provider_receivable:x', 1, NULL, 'fake')";
        assert!(
            try_sql(&obc, &[fake]).is_err(),
            "postings are refused once a statement is finalized"
        );
        let statements = tamper(&obc);
        let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
        sql(&obc, &statements);
        let (stdout, stderr) = verify_fails(&obc);
        for text in expected {
            assert!(
                stdout.contains(text),
                "{what}: `ledger verify` should print {text:?}:\n{stdout}"
            );
        }
        assert!(
            stderr.contains("do not verify") || stderr.contains("problem"),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn a_database_from_before_the_chain_verifies_after_upgrading() {
    database_from_before_the_chain_verifies(Obc::new());
}

/// Simulates a database made before migration 8 (no chain, no triggers on contract versions
/// and session history): opening it links its records as they are, and it verifies.
pub(crate) fn database_from_before_the_chain_verifies(obc: Obc) {
    finalize_all(&obc);
    let undo = forget_the_chain(&obc);
    let undo: Vec<&str> = undo.iter().map(String::as_str).collect();
    sql(&obc, &undo);
    let run = obc.run(&["ledger", "verify"]);
    let stderr = run.stderr();
    let verified = run.ok();
    assert!(stderr.contains("chain of 4 records intact"), "{stderr}");
    assert!(
        verified.contains("3 finalized statements verified"),
        "{verified}"
    );
    // The upgraded database refuses edits of contract versions from now on.
    assert!(try_sql(&obc, &["DELETE FROM contract_versions"]).is_err());
}

/// The SQL that takes a database back to before migration 8 (no chain, none of its
/// triggers): the next `obc` command runs it again and links the records as they are.
fn forget_the_chain(obc: &Obc) -> Vec<String> {
    let mut undo = Vec::new();
    if obc.is_postgres() {
        // On SQLite the postings' trigger belongs to migration 25 (`ledger_rows`), not 8.
        undo.push(drop_trigger(
            obc,
            "ledger_entries_are_complete",
            "ledger_entries",
        ));
    }
    for (trigger, table) in [
        ("statement_lines_are_complete", "statement_lines"),
        ("statement_inputs_are_complete", "statement_inputs"),
        ("contract_versions_are_immutable", "contract_versions"),
        ("contract_versions_are_kept", "contract_versions"),
        ("session_history_is_append_only", "session_history"),
        ("session_history_is_kept", "session_history"),
    ] {
        undo.push(drop_trigger(obc, trigger, table));
    }
    if obc.is_postgres() {
        undo.push(drop_trigger(
            obc,
            "contract_versions_are_kept_truncate",
            "contract_versions",
        ));
        undo.push(drop_trigger(
            obc,
            "session_history_is_kept_truncate",
            "session_history",
        ));
    }
    undo.push("DROP TABLE ledger_chain".into());
    undo.push("DELETE FROM schema_version WHERE version = 8".into());
    undo
}

#[test]
fn a_busy_database_is_reported_as_busy_and_reads_go_on() {
    busy_database_is_not_damage(Obc::new());
}

/// Another connection holds the write lock: read commands work, a write command waits the
/// (short) busy timeout and then says the database is busy, with exit status 75, never that
/// it is damaged; once the lock is released the write goes through.
pub(crate) fn busy_database_is_not_damage(obc: Obc) {
    obc.load_example();
    obc.finalize_example("enrollment");
    obc.write(
        "late.csv",
        "session_id,student_id,tutor_id,date,minutes,status\nlate-1,2000014,T1000,2024-10-01,30,attended\n",
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let holder = rt.block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&obc.db_url()).await.unwrap();
        let hold = if obc.is_postgres() {
            // The lock every obc write transaction takes ("obc" in ASCII).
            "SELECT pg_advisory_lock(7299683)"
        } else {
            "BEGIN IMMEDIATE"
        };
        sqlx::raw_sql(hold).execute(&mut conn).await.unwrap();
        conn
    });
    let run = |args: &[&str]| {
        obc.command(args)
            .env("OBC_BUSY_TIMEOUT_MS", "300")
            .output()
            .unwrap()
    };
    for read in [
        &["ledger"][..],
        &["ledger", "verify"],
        &["contract", "list"],
        &[
            "statement",
            "--contract",
            crate::support::BASELINE_CONTRACT,
            "--milestone",
            "midyear",
        ],
    ] {
        let out = run(read);
        assert!(
            out.status.success(),
            "obc {read:?} while another writes: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for write in [
        &["import", "sessions", "late.csv", "--provider", "brightpath"][..],
        &[
            "statement",
            "finalize",
            "--contract",
            crate::support::BASELINE_CONTRACT,
            "--milestone",
            "midyear",
        ],
    ] {
        let out = run(write);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(75), "obc {write:?}: {stderr}");
        assert!(
            stderr.contains("busy") && stderr.contains("try again"),
            "{stderr}"
        );
        assert!(!stderr.contains("damaged"), "{stderr}");
    }
    rt.block_on(sqlx::Connection::close(holder)).unwrap();
    obc.ok(&["import", "sessions", "late.csv", "--provider", "brightpath"]);
}

/// Late data of every kind after the statements were finalized: a re-sent session, a rescored
/// test, a changed roster row and a changed enrollment.
fn import_late_data(obc: &Obc) {
    obc.write(
        "late.csv",
        "session_id,student_id,tutor_id,date,minutes,status\nses-00000002,2000000,T1000,2024-09-18,45,student_absent\n",
    );
    obc.ok(&["import", "sessions", "late.csv", "--provider", "brightpath"]);
    let tests = std::fs::read_to_string(crate::support::example("AssessmentResults.csv")).unwrap();
    let mut lines = tests.lines();
    let header = lines.next().unwrap();
    let first = lines.next().unwrap();
    assert!(
        first.contains(",2000000,") && first.contains(",211,"),
        "{first}"
    );
    obc.write(
        "rescored.csv",
        format!("{header}\n{}\n", first.replace(",211,", ",214,")),
    );
    obc.ok(&["import", "assessments", "rescored.csv"]);
    let roster = obc.path("roster");
    std::fs::create_dir_all(&roster).unwrap();
    for file in std::fs::read_dir(crate::support::example("roster")).unwrap() {
        let file = file.unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        std::fs::write(
            roster.join(file.file_name()),
            text.replace("Lucas,Hernandez,,2000000", "Lucas,Hernandes,,2000000"),
        )
        .unwrap();
    }
    obc.ok(&["import", "roster", "roster"]);
    obc.write(
        "enrollment.csv",
        "student_id,start_date,end_date\n2000001,2024-08-13,2025-01-31\n",
    );
    obc.ok(&[
        "enroll",
        "--contract",
        crate::support::BASELINE_CONTRACT,
        "enrollment.csv",
    ]);
    for history in [
        "session_history",
        "assessment_history",
        "student_history",
        "enrollment_history",
    ] {
        let kept = sql(obc, &[&format!("SELECT count(*) FROM {history}")])[0];
        assert_eq!(kept, 1, "{history}: the replaced row is kept");
    }
}

#[test]
fn late_data_of_every_kind_after_finalization_still_verifies() {
    late_data_of_every_kind_still_verifies(Obc::new());
}

/// Finalized statements verify after late data of every kind (their inputs are rebuilt as
/// they were), and a finalization copies none of its inputs.
pub(crate) fn late_data_of_every_kind_still_verifies(obc: Obc) {
    finalize_all(&obc);
    let before = obc.example_statement("final", "json");
    import_late_data(&obc);
    assert_eq!(
        sql(&obc, &["SELECT count(*) FROM statement_inputs"]),
        [0],
        "no copy of the inputs"
    );
    assert_eq!(
        sql(&obc, &["SELECT count(*) FROM statement_inputs_as_of"]),
        [3]
    );
    assert!(obc
        .ok(&["ledger", "verify"])
        .contains("3 finalized statements verified"));
    assert_eq!(obc.example_statement("final", "json"), before);
    // Sending the same files again writes nothing, not even history.
    import_late_data(&obc);
}

#[test]
fn ledger_verify_catches_a_tampered_input_row() {
    tampered_input_rows_are_caught(Obc::new());
}

/// Each input row edited behind obc's back (a current row, a history row a finalization
/// used, the import id that dates a row) makes `ledger verify` fail; undone, it verifies again.
pub(crate) fn tampered_input_rows_are_caught(obc: Obc) {
    finalize_all(&obc);
    import_late_data(&obc);
    let guards = [
        drop_trigger(&obc, "session_history_is_append_only", "session_history"),
        drop_trigger(
            &obc,
            "assessment_history_is_append_only",
            "assessment_history",
        ),
    ];
    sql(&obc, &guards.iter().map(String::as_str).collect::<Vec<_>>());
    let written_by = sql(
        &obc,
        &["SELECT written_by FROM sessions WHERE session_id = 'ses-00000003'"],
    )[0];
    let restore =
        format!("UPDATE sessions SET written_by = {written_by} WHERE session_id = 'ses-00000003'");
    // (what, the tamper, its undo)
    let tampers: [(&str, &str, &str); 6] = [
        (
            "a session's status",
            "UPDATE sessions SET status = 'provider_cancelled' WHERE session_id = 'ses-00000001'",
            "UPDATE sessions SET status = 'attended' WHERE session_id = 'ses-00000001'",
        ),
        (
            "a replaced session the statements used",
            "UPDATE session_history SET status = 'provider_cancelled'",
            "UPDATE session_history SET status = 'attended'",
        ),
        (
            "a replaced test the statements used",
            "UPDATE assessment_history SET score = '250'",
            "UPDATE assessment_history SET score = '211'",
        ),
        (
            "a roster row",
            "UPDATE students SET first_name = first_name || 'x' WHERE id = '2000002'",
            "UPDATE students SET first_name = substr(first_name, 1, length(first_name) - 1) WHERE id = '2000002'",
        ),
        (
            "an enrollment",
            "UPDATE enrollments SET end_date = '2025-03-01' WHERE student_id = '2000003'",
            "UPDATE enrollments SET end_date = NULL WHERE student_id = '2000003'",
        ),
        (
            "a session dated after the finalizations",
            "UPDATE sessions SET written_by = 999999 WHERE session_id = 'ses-00000003'",
            &restore,
        ),
    ];
    for (what, tamper, undo) in tampers {
        sql(&obc, &[tamper]);
        let (stdout, _) = verify_fails(&obc);
        assert!(
            stdout.contains("MISMATCH mesa-math-2025-baseline / enrollment:")
                && stdout.contains("its input rows as of audit record"),
            "{what}: {stdout}"
        );
        sql(&obc, &[undo]);
        assert!(
            obc.ok(&["ledger", "verify"])
                .contains("3 finalized statements verified"),
            "{what} undone"
        );
    }
}

#[test]
fn a_statement_finalized_with_a_copy_of_its_inputs_verifies_from_the_copy() {
    statement_with_a_copy_of_its_inputs_verifies(Obc::new());
}

/// A statement finalized before migration 10 kept a JSON copy of its inputs: made here by
/// replacing a finalization's inputs reference with the copy obc used to write, and linking it
/// again as the upgrade to the chain did. It verifies from the copy, whatever data arrives
/// later, and an edited copy fails.
pub(crate) fn statement_with_a_copy_of_its_inputs_verifies(obc: Obc) {
    obc.load_example();
    obc.finalize_example("enrollment");
    let copy = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let location = if obc.is_postgres() {
                obc.db_url()
            } else {
                obc.path("obc.db").display().to_string()
            };
            let store = obc_store::Store::open(&location, false).await.unwrap();
            let cv = store
                .contract(crate::support::BASELINE_CONTRACT)
                .await
                .unwrap();
            let (_, inputs) = obc_app::load_inputs(&store, &cv, "enrollment", None)
                .await
                .unwrap();
            store.close().await;
            serde_json::to_string(&inputs).unwrap()
        });
    let mut undo = forget_the_chain(&obc);
    undo.push(drop_trigger(
        &obc,
        "statement_inputs_as_of_are_kept",
        "statement_inputs_as_of",
    ));
    undo.push("DELETE FROM statement_inputs_as_of".into());
    undo.push(format!(
        "INSERT INTO statement_inputs (statement_id, inputs_json) VALUES (1, '{}')",
        copy.replace('\'', "''")
    ));
    sql(&obc, &undo.iter().map(String::as_str).collect::<Vec<_>>());
    obc.write(
        "late.csv",
        "session_id,student_id,tutor_id,date,minutes,status\nses-00000001,2000000,T1000,2024-08-26,30,provider_cancelled\n",
    );
    obc.ok(&["import", "sessions", "late.csv", "--provider", "brightpath"]);
    assert!(obc
        .ok(&["ledger", "verify"])
        .contains("1 finalized statements verified"));
    sql(
        &obc,
        &[
            &drop_trigger(&obc, "statement_inputs_are_immutable", "statement_inputs"),
            "UPDATE statement_inputs SET inputs_json = replace(inputs_json, '\"attended\"', '\"provider_cancelled\"')",
        ],
    );
    let (stdout, _) = verify_fails(&obc);
    assert!(
        stdout.contains("recomputing from the stored inputs gives a different statement"),
        "{stdout}"
    );
}
