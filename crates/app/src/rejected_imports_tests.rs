//! Hostile input through the whole import path (SPEC 3: all or nothing): the worked example is
//! loaded, then each importer is fed mutated copies of a real file. Whatever the mutation, the
//! import never panics, and an import that is refused leaves every table exactly as it was.

use super::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::{Path, PathBuf};

pub(crate) const ACTOR: &str = "fuzz";
pub(crate) const PROVIDER: &str = "brightpath";
const CONTRACT: &str = "mesa-math-2025-baseline";

pub(crate) fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/examples/baseline_seed7")
        .join(name)
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Every row of every table, in a stable order: what "unchanged" is compared on.
/// Read through a connection of its own, so the store under test gives nothing away.
async fn dump(db: &Path) -> Vec<String> {
    let pool = &sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("a reader");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut out = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}')"
        )))
        .fetch_all(pool)
        .await
        .expect("columns");
        let row = columns
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {row} FROM \"{table}\" ORDER BY 1"
        )))
        .fetch_all(pool)
        .await
        .expect("rows");
        out.push(format!("{table}: {}", rows.len()));
        out.extend(rows);
    }
    pool.close().await;
    out
}

/// The worked example, loaded as its README says, in a fresh SQLite file.
pub(crate) async fn example_store(dir: &Path) -> Store {
    let store = Store::open(dir.join("obc.db").to_str().unwrap(), true)
        .await
        .expect("a store");
    let roster = obc_ingest::read_roster(&example("roster"), None).expect("the example roster");
    import_roster(&store, ACTOR, "roster", roster)
        .await
        .expect("roster");
    let district = district_for(&store, None).await.expect("one district");
    let open = || std::fs::File::open(example("AssessmentResults.csv"));
    import_assessments(&store, ACTOR, open, "a.csv", &district, &mut |_| {})
        .await
        .expect("assessments");
    import_sessions(
        &store,
        ACTOR,
        || std::fs::File::open(example("sessions.csv")),
        "s.csv",
        PROVIDER,
        Reach::AnyDistrict,
        &mut |_| {},
    )
    .await
    .expect("sessions");
    let contract = std::fs::read(example("contract.toml")).unwrap();
    add_contract(&store, ACTOR, "contract.toml", &contract, None)
        .await
        .expect("contract");
    let enrollment = std::fs::read(example("enrollment.csv")).unwrap();
    enroll(&store, ACTOR, CONTRACT, "e.csv", enrollment.as_slice())
        .await
        .expect("enrollment");
    store
}

/// One way to damage a file: what a careless export or a hostile uploader might send.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the byte at this share of the file.
    Byte(usize, u8),
    /// Cut the file at this share.
    Truncate(usize),
    /// Insert text at this share (a quote, a comma, a NUL, a field far too long ...).
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let text = prop_oneof![
        Just(b"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"=HYPERLINK(\"x\")".to_vec()),
        Just(b"-99999999999999999999999999999".to_vec()),
        Just(b"9999-12-31".to_vec()),
        Just(vec![b'x'; 70 * 1024]),
    ];
    prop_oneof![
        (0..10_000usize, any::<u8>()).prop_map(|(at, b)| Mutation::Byte(at, b)),
        (0..10_000usize).prop_map(Mutation::Truncate),
        (0..10_000usize, text).prop_map(|(at, t)| Mutation::Insert(at, t)),
    ]
}

fn apply(original: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    let at = |share: usize, len: usize| share * len / 10_000;
    for m in mutations {
        match m {
            Mutation::Byte(share, b) if !bytes.is_empty() => {
                let i = at(*share, bytes.len()).min(bytes.len() - 1);
                bytes[i] = *b;
            }
            Mutation::Byte(..) => {}
            Mutation::Truncate(share) => bytes.truncate(at(*share, bytes.len())),
            Mutation::Insert(share, text) => {
                let i = at(*share, bytes.len());
                bytes.splice(i..i, text.iter().copied());
            }
        }
    }
    bytes
}

/// Feeds `import` mutated copies of `original`; a refused import must leave every table as it
/// was. Returns how many were refused, so a test can check the mutations bite.
fn fuzz<F>(original: &[u8], cases: u32, import: F) -> u32
where
    F: Fn(&Store, Vec<u8>) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + '_>>,
{
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(example_store(dir.path()));
    let db = dir.path().join("obc.db");
    let refused = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(mutation(), 1..4), |mutations| {
            let bytes = apply(original, &mutations);
            rt.block_on(async {
                let before = dump(&db).await;
                match import(&store, bytes).await {
                    Ok(()) => {}
                    Err(AppError::Rejected { .. } | AppError::Invalid(_)) => {
                        refused.set(refused.get() + 1);
                        prop_assert_eq!(
                            &before,
                            &dump(&db).await,
                            "a refused import changed a table"
                        );
                    }
                    Err(e) => prop_assert!(false, "neither imported nor refused: {e}"),
                }
                Ok(())
            })
        })
        .unwrap();
    refused.get()
}

const CASES: u32 = 24;

#[test]
fn refused_assessment_files_change_nothing() {
    let original = std::fs::read(example("AssessmentResults.csv")).unwrap();
    let refused = fuzz(&original, CASES, |store, bytes| {
        Box::pin(async move {
            let district = district_for(store, None).await?;
            let open = || Ok(bytes.as_slice());
            import_assessments(store, ACTOR, open, "a.csv", &district, &mut |_| {}).await?;
            Ok(())
        })
    });
    assert!(refused > 0, "no mutation was refused");
}

#[test]
fn refused_session_files_change_nothing() {
    let original = std::fs::read(example("sessions.csv")).unwrap();
    let refused = fuzz(&original, CASES, |store, bytes| {
        Box::pin(async move {
            import_sessions(
                store,
                ACTOR,
                || Ok(bytes.as_slice()),
                "s.csv",
                PROVIDER,
                Reach::ContractDistricts,
                &mut |_| {},
            )
            .await?;
            Ok(())
        })
    });
    assert!(refused > 0, "no mutation was refused");
}

#[test]
fn refused_enrollment_files_change_nothing() {
    let original = std::fs::read(example("enrollment.csv")).unwrap();
    let refused = fuzz(&original, CASES, |store, bytes| {
        Box::pin(async move {
            enroll(store, ACTOR, CONTRACT, "e.csv", bytes.as_slice()).await?;
            Ok(())
        })
    });
    assert!(refused > 0, "no mutation was refused");
}

#[test]
fn refused_rosters_change_nothing() {
    let original = std::fs::read(example("roster/users.csv")).unwrap();
    let refused = fuzz(&original, CASES, |store, bytes| {
        Box::pin(async move {
            let dir = tempfile::tempdir().unwrap();
            for entry in std::fs::read_dir(example("roster")).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
            }
            std::fs::write(dir.path().join("users.csv"), &bytes).unwrap();
            let roster = obc_ingest::read_roster(dir.path(), None)?;
            import_roster(store, ACTOR, "roster", roster).await?;
            Ok(())
        })
    });
    assert!(refused > 0, "no mutation was refused");
}

#[test]
fn refused_school_attendance_files_change_nothing() {
    let enrollment = std::fs::read_to_string(example("enrollment.csv")).unwrap();
    let mut original = String::from("student_id,date,present\n");
    for line in enrollment.lines().skip(1).take(200) {
        let student = line.split(',').next().unwrap();
        original.push_str(&format!("{student},2024-10-01,1\n{student},2024-10-02,0\n"));
    }
    let refused = fuzz(original.as_bytes(), CASES, |store, bytes| {
        Box::pin(async move {
            let district = district_for(store, None).await?;
            import_school_attendance(
                store,
                ACTOR,
                "att.csv",
                bytes.as_slice(),
                &district,
                &mut |_| {},
            )
            .await?;
            Ok(())
        })
    });
    assert!(refused > 0, "no mutation was refused");
}
