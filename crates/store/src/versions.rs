//! Input rows versioned by the import that wrote them, so that a finalized statement records
//! which inputs it used without copying them.
//!
//! Every row a statement is computed from carries `written_by`, the audit id of the import that
//! wrote it (0 for rows stored before migration 10). A row an import replaces moves to its
//! table's history with `replaced_by`, that import's audit id; history tables are append-only.
//! The rows as they were after audit record `A` are the current rows written by `A` or before
//! plus the history rows written by `A` or before and replaced after it.

/// The audit actions of the imports that write statement inputs.
pub(crate) const INPUT_WRITES: [&str; 5] = [
    "import.sessions",
    "import.assessments",
    "import.roster",
    "enroll",
    "contract.version",
];

/// A table of statement inputs and where its replaced rows are kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Versioned {
    pub table: &'static str,
    /// The history table; `None` for rows never replaced (contract versions).
    pub history: Option<&'static str>,
    /// Every column a reader may select, shared by the table and its history.
    pub columns: &'static str,
}

pub(crate) const SESSIONS: Versioned = Versioned {
    table: "sessions",
    history: Some("session_history"),
    columns: "provider_id, session_id, district_id, student_id, tutor_id, session_date, minutes, \
              status, group_size, subject",
};

pub(crate) const ASSESSMENTS: Versioned = Versioned {
    table: "assessment_results",
    history: Some("assessment_history"),
    columns: "district_id, student_id, assessment, subject, term_name, test_date, start_seconds, \
              score, percentile, rapid_guessing_pct, growth_measure, growth, test_id, norms",
};

pub(crate) const STUDENTS: Versioned = Versioned {
    table: "students",
    history: Some("student_history"),
    columns: "district_id, id, school_id, grade, first_name, last_name, flags",
};

pub(crate) const ENROLLMENTS: Versioned = Versioned {
    table: "enrollments",
    history: Some("enrollment_history"),
    columns: "contract_id, student_id, start_date, end_date",
};

pub(crate) const CONTRACT_VERSIONS: Versioned = Versioned {
    table: "contract_versions",
    history: None,
    columns: "contract_id, version, district_id, provider_id, source, sha256, effective_from, \
              created_at, created_by",
};

/// What a reader puts after `FROM` to read `table`'s rows as they were after audit record
/// `as_of`: the table itself for `None` (the rows now, at no cost), else the union of its rows
/// and history rows valid then, named like the table so the reader's `WHERE` is unchanged.
pub(crate) fn rows_as_of(table: Versioned, as_of: Option<i64>) -> String {
    let Some(a) = as_of else {
        return table.table.to_string();
    };
    let Versioned {
        table: name,
        history,
        columns,
    } = table;
    let current = format!("SELECT {columns} FROM {name} WHERE written_by <= {a}");
    match history {
        Some(history) => format!(
            "({current} UNION ALL SELECT {columns} FROM {history} \
             WHERE written_by <= {a} AND replaced_by > {a}) AS {name}"
        ),
        None => format!("({current}) AS {name}"),
    }
}

/// The statement copying into `table`'s history, with `replaced_by` = `$1`, the rows of `table`
/// (aliased `r`) that `source` (the rest of the query: joins and a `WHERE` on `r`) selects.
pub(crate) fn keep_replaced(table: Versioned, source: &str) -> String {
    let history = table.history.expect("a table with history");
    let columns = table.columns;
    let from_r = columns
        .split(',')
        .map(|c| format!("r.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {history} ({columns}, written_by, replaced_by)
         SELECT {from_r}, r.written_by, $1 FROM {} r {source}",
        table.table
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_rows_are_the_table_and_earlier_ones_a_union_with_history() {
        assert_eq!(rows_as_of(ENROLLMENTS, None), "enrollments");
        assert_eq!(
            rows_as_of(ENROLLMENTS, Some(7)),
            "(SELECT contract_id, student_id, start_date, end_date FROM enrollments WHERE written_by <= 7 \
             UNION ALL SELECT contract_id, student_id, start_date, end_date FROM enrollment_history \
             WHERE written_by <= 7 AND replaced_by > 7) AS enrollments"
        );
        assert!(rows_as_of(CONTRACT_VERSIONS, Some(3))
            .ends_with("FROM contract_versions WHERE written_by <= 3) AS contract_versions"));
    }
}

#[cfg(test)]
mod import_tests {
    use crate::test_support::stores;
    use crate::Store;
    use obc_core::model::parse_iso_date;
    use obc_core::{Enrollment, Grade, School, Student};

    fn student(grade: &str) -> Student {
        Student {
            id: "s1".into(),
            school_id: "sch-1".into(),
            grade: Grade::parse(grade),
            first_name: "A".into(),
            last_name: "B".into(),
            flags: Default::default(),
        }
    }

    async fn roster(store: &Store, grade: &str) -> i64 {
        let school = School {
            id: "sch-1".into(),
            name: "One".into(),
        };
        store
            .import_roster("t", "f", "d1", "D", &[school], &[student(grade)])
            .await
            .unwrap();
        store.last_audit_id().await.unwrap()
    }

    async fn enroll(store: &Store, start: &str) -> i64 {
        let row = Enrollment {
            student_id: "s1".into(),
            start: parse_iso_date(start).unwrap(),
            end: None,
        };
        store.enroll("t", "f", "c1", &[row]).await.unwrap();
        store.last_audit_id().await.unwrap()
    }

    async fn count(store: &Store, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn rows_read_as_of_an_import_are_those_it_left_and_identical_files_write_nothing() {
        for store in stores().await {
            let first = roster(&store, "6").await;
            let second = roster(&store, "7").await;
            assert_eq!(roster(&store, "7").await, second + 1, "audited");
            assert_eq!(count(&store, "student_history").await, 1);
            let grade = |as_of| {
                let store = store.clone();
                async move {
                    store.students_as_of("d1", as_of).await.unwrap()["s1"]
                        .grade
                        .clone()
                }
            };
            assert_eq!(grade(Some(first)).await, Some(Grade::Level(6)));
            assert_eq!(grade(Some(second)).await, Some(Grade::Level(7)));
            assert_eq!(grade(None).await, Some(Grade::Level(7)));
            assert!(store
                .students_as_of("d1", Some(first - 1))
                .await
                .unwrap()
                .is_empty());

            let first = enroll(&store, "2024-09-01").await;
            enroll(&store, "2024-10-01").await;
            enroll(&store, "2024-10-01").await;
            assert_eq!(count(&store, "enrollment_history").await, 1);
            let start = |as_of| {
                let store = store.clone();
                async move { store.enrollments_as_of("c1", as_of).await.unwrap()[0].start }
            };
            assert_eq!(start(Some(first)).await.to_string(), "2024-09-01");
            assert_eq!(start(None).await.to_string(), "2024-10-01");

            for history in ["student_history", "enrollment_history"] {
                for sql in [
                    format!("UPDATE {history} SET written_by = 5"),
                    format!("DELETE FROM {history}"),
                ] {
                    let refused = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                        .execute(&store.pool)
                        .await;
                    assert!(
                        refused.unwrap_err().to_string().contains("append-only"),
                        "{sql}"
                    );
                }
            }
        }
    }

    /// Adds a contract from `source` and enrolls student s1 in it for its whole period.
    async fn contract_enrolling_s1(store: &Store, source: &str) {
        let contract = obc_core::Contract::parse(source).unwrap();
        store
            .add_contract("t", &contract, source, None)
            .await
            .unwrap();
        let row = Enrollment {
            student_id: "s1".into(),
            start: contract.period.start,
            end: None,
        };
        store.enroll("t", "f", &contract.id, &[row]).await.unwrap();
    }

    #[tokio::test]
    async fn contracts_and_versions_added_later_are_not_seen_as_of_before() {
        const CONTRACT: &str = include_str!("../../core/tests/contract_example.toml");
        for store in stores().await {
            store
                .ensure_organisation("ector", "district", "Ector")
                .await
                .unwrap();
            contract_enrolling_s1(&store, CONTRACT).await;
            let before = store.last_audit_id().await.unwrap();
            // A version with a shorter period, and a second contract enrolling the student.
            let shorter = CONTRACT.replace("end = 2025-05-30", "end = 2025-04-30");
            contract_enrolling_s1(&store, &shorter).await;
            let summer = CONTRACT.replace("ector-math-2025", "ector-math-2025-summer");
            contract_enrolling_s1(&store, &summer).await;
            let ends = |as_of| {
                let store = store.clone();
                async move {
                    store
                        .provider_enrollments_as_of("fev", as_of)
                        .await
                        .unwrap()
                        .spans_of("ector", "s1")
                        .iter()
                        .map(|span| span.end.to_string())
                        .collect::<Vec<_>>()
                }
            };
            assert_eq!(ends(Some(before)).await, ["2025-05-30"]);
            assert_eq!(ends(None).await, ["2025-04-30", "2025-05-30"]);
        }
    }
}
