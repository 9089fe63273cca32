//! `obc demo --students N --export DIR`: the state-scale data set, imported with the very
//! commands it prints, and repeatable byte for byte.

use crate::support::Obc;
use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).expect("under dir");
                let bytes = std::fs::read(&path).expect("read file");
                out.insert(name.display().to_string(), bytes);
            }
        }
    }
    out
}

#[test]
fn state_scale_data_imports_with_the_printed_commands() {
    let obc = Obc::new();
    let out = obc.ok(&["demo", "--students", "300", "--export", "state"]);
    assert!(
        out.contains("district state-district, 3 schools, 300 students"),
        "{out}"
    );
    assert!(
        !obc.path("obc.db").exists(),
        "generating must not touch the database"
    );
    let commands: Vec<Vec<&str>> = out
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("obc "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(commands.len(), 7, "{out}");
    for args in &commands {
        obc.ok(args);
    }
    let enrolled: usize = std::fs::read_to_string(obc.path("state/enrollment.csv"))
        .expect("enrollment list")
        .lines()
        .count()
        - 1;
    for milestone in ["enrollment", "midyear"] {
        obc.ok(&[
            "statement",
            "finalize",
            "--contract",
            "state-math-2025",
            "--milestone",
            milestone,
        ]);
    }
    let statement = obc.ok(&[
        "statement",
        "--contract",
        "state-math-2025",
        "--milestone",
        "final",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&statement).expect("statement JSON");
    let lines = json["lines"].as_array().expect("statement lines");
    assert_eq!(lines.len(), enrolled, "one line per enrolled student");
    for rule in ["district_fault", "provider_fault", "excluded", "tier:"] {
        assert!(
            lines
                .iter()
                .any(|l| l["rule"].as_str().is_some_and(|r| r.starts_with(rule))),
            "no {rule} line in the state-scale statement"
        );
    }
}

#[test]
fn state_scale_data_depends_only_on_seed_and_size() {
    let obc = Obc::new();
    for (dir, seed) in [("a", "11"), ("b", "11"), ("c", "12")] {
        obc.ok(&["demo", "--students", "200", "--seed", seed, "--export", dir]);
    }
    let a = files(&obc.path("a"));
    assert_eq!(a.len(), 13, "{:?}", a.keys());
    assert!(
        a == files(&obc.path("b")),
        "the same seed wrote other bytes"
    );
    assert!(
        a != files(&obc.path("c")),
        "another seed wrote the same bytes"
    );
}

#[test]
fn state_scale_needs_a_folder_and_a_sensible_size() {
    let obc = Obc::new();
    for (args, says) in [
        (&["demo", "--students", "300"][..], "--export"),
        (
            &["demo", "--students", "5", "--export", "x"],
            "10..=10000000",
        ),
    ] {
        let run = obc.run(args);
        assert!(!run.status.success(), "{args:?} succeeded");
        let err = run.stderr();
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!obc.path("obc.db").exists());
    assert!(!obc.path("x").exists());
}

/// The final statement of the state-scale contract as the in-memory engine computes it: every
/// student's inputs read at once through the whole-district readers, the corrections of the
/// finalized statements, then [`obc_core::engine::compute`]. What obc computed in one pass
/// over chunks of students must be these bytes.
async fn in_memory_statement(store: &obc_store::Store, contract_id: &str) -> obc_core::Statement {
    use obc_core::engine::{compute, StatementRequest, StudentInput};
    let cv = store.contract(contract_id).await.unwrap();
    let contract = &cv.contract;
    let mut students = store.students(&contract.district).await.unwrap();
    let provider = store
        .provider_enrollments(&contract.provider)
        .await
        .unwrap();
    let mut sessions = store
        .sessions_by_student(&contract.provider, &contract.district, None)
        .await
        .unwrap();
    let mut tests = store
        .results_by_student(&contract.district, &contract.subject, None)
        .await
        .unwrap();
    let inputs: Vec<StudentInput> = store
        .enrollments(contract_id)
        .await
        .unwrap()
        .into_iter()
        .map(|enrollment| {
            let student = students.remove(&enrollment.student_id).unwrap();
            let (sessions, ambiguous_sessions) = obc_core::sessions_for_contract(
                sessions.remove(&student.id).unwrap_or_default(),
                &contract.subject,
                provider.spans_of(&contract.district, &student.id),
            );
            StudentInput {
                sessions,
                ambiguous_sessions,
                tests: tests.remove(&student.id).unwrap_or_default(),
                student,
                enrollment,
            }
        })
        .collect();
    let finalized: Vec<obc_core::corrections::PaidStatement> = store
        .finalized_statements_of(contract_id)
        .await
        .unwrap()
        .all()
        .await
        .unwrap()
        .iter()
        .map(|stored| obc_app::stored_statement(stored).unwrap().into())
        .collect();
    let runs: Vec<obc_core::corrections::FinalizedRun> = finalized
        .iter()
        .map(|statement| obc_core::corrections::FinalizedRun {
            contract,
            contract_version: cv.version,
            contract_hash: &cv.sha256,
            statement,
        })
        .collect();
    let prior = obc_core::corrections::corrections_of(&runs, &inputs)
        .unwrap()
        .for_milestone();
    compute(StatementRequest {
        contract,
        contract_version: cv.version,
        contract_hash: cv.sha256.clone(),
        milestone: "final",
        as_of: None,
        students: inputs.into(),
        prior,
    })
    .unwrap()
}

/// 10,000 students, two finalized milestones and late data: the final statement obc streams
/// (chunks of students, corrections in the same pass, the inputs hash through a temporary
/// file) is byte for byte the in-memory engine's, and every finalization verifies.
fn streamed_statement_is_the_in_memory_engines(obc: &Obc) -> String {
    obc.ok(&["demo", "--students", "10000", "--export", "state"]);
    obc.ok(&["init"]);
    for args in [
        &["import", "roster", "state/roster"][..],
        &["import", "assessments", "state/AssessmentResults.csv"],
        &["contract", "add", "state/contract.toml"],
        &[
            "enroll",
            "--contract",
            "state-math-2025",
            "state/enrollment.csv",
        ],
        &[
            "import",
            "sessions",
            "state/sessions.csv",
            "--provider",
            "state-tutoring",
        ],
    ] {
        obc.ok(args);
    }
    for milestone in ["enrollment", "midyear"] {
        obc.ok(&[
            "statement",
            "finalize",
            "--contract",
            "state-math-2025",
            "--milestone",
            milestone,
        ]);
    }
    // Late data: a fifth of the absences re-sent as attended sessions, and one student in 50
    // enrolled after the enrollment milestone after all (its finalized line is corrected).
    let rewrite = |file: &str, change: &dyn Fn(usize, &str) -> String| -> String {
        let text = std::fs::read_to_string(obc.path(&format!("state/{file}"))).unwrap();
        let lines: String = text
            .lines()
            .enumerate()
            .map(|(i, l)| change(i, l) + "\n")
            .collect();
        obc.write(&format!("late-{file}"), lines);
        format!("late-{file}")
    };
    let sessions = rewrite("sessions.csv", &|i, line| match i % 5 {
        1 => line.replace(",student_absent,", ",attended,"),
        _ => line.to_string(),
    });
    obc.ok(&[
        "import",
        "sessions",
        &sessions,
        "--provider",
        "state-tutoring",
    ]);
    let enrollment = rewrite("enrollment.csv", &|i, line| {
        let fields: Vec<&str> = line.split(',').collect();
        match (i % 50, &fields[..]) {
            (1, [id, _, ""]) => format!("{id},2024-11-01,"),
            _ => line.to_string(),
        }
    });
    obc.ok(&["enroll", "--contract", "state-math-2025", &enrollment]);
    let streamed = obc.ok(&[
        "statement",
        "--contract",
        "state-math-2025",
        "--milestone",
        "final",
        "--format",
        "json",
    ]);
    let location = if obc.is_postgres() {
        obc.db_url()
    } else {
        obc.path("obc.db").display().to_string()
    };
    let expected = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = obc_store::Store::open(&location, false).await.unwrap();
            let statement = in_memory_statement(&store, "state-math-2025").await;
            store.close().await;
            statement
        });
    assert!(
        expected.lines.len() > 8000 && !expected.adjustments.is_empty(),
        "a state-scale statement with corrections: {} lines, {} adjustments",
        expected.lines.len(),
        expected.adjustments.len()
    );
    assert!(
        streamed == expected.to_json(),
        "the streamed statement differs"
    );
    obc.ok(&[
        "statement",
        "finalize",
        "--contract",
        "state-math-2025",
        "--milestone",
        "final",
    ]);
    let verified = obc.ok(&["ledger", "verify"]);
    assert!(verified.contains("3 finalized statements"), "{verified}");
    streamed
}

#[test]
fn a_streamed_state_scale_statement_is_the_in_memory_engines_on_both_backends() {
    let on_sqlite = streamed_statement_is_the_in_memory_engines(&Obc::new());
    if let Some(url) = crate::postgres::postgres_database("the 10k streaming test") {
        let on_postgres = streamed_statement_is_the_in_memory_engines(&Obc::with_db(&url));
        assert!(on_sqlite == on_postgres, "SQLite and PostgreSQL differ");
    }
}
