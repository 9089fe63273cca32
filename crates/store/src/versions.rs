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
