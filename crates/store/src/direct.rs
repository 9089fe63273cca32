//! Imports of new rows written straight to their table, on SQLite.
//!
//! An import stages its rows in a temporary table and merges them, so that a re-sent file
//! replaces what changed and leaves the rest. A file whose rows are all new has nothing to
//! merge, and for the largest files staging and merging was most of the import's time (at
//! 1,000,000 students, 24.5M sessions: 45 s staging, 36 s merging, 13 s deleting the staged
//! rows and committing, against about 40 s for the direct insert). So a SQLite import first
//! writes its rows directly, inside a savepoint, under an audit id reserved for it. The first
//! row that is not new (the same id stored before, or earlier in the file) fails the table's
//! unique key; the savepoint is then rolled back and the caller gives the rows again, from the
//! file's first, to be staged and merged ([`Staging::FromTheStart`], at most once an import).
//!
//! On PostgreSQL the rows are copied to an unlogged table on another connection anyway
//! (crate::copy_stage), so a sessions file of a provider with no stored session, and a
//! district's first MAP file, are inserted from the copied rows in one statement, in place of
//! the staging, the repeated-id check, the counts and the merge; a failed unique key rolls the
//! savepoint back and the copied rows are staged and merged as always, with no second reading.

use crate::{ImportCounts, Result, Tx};

/// Rows per insert of a direct import: within SQLite's 32,766 binds at 16 columns.
pub(crate) const ROWS: usize = 2000;

/// The savepoint of a direct import.
const SAVEPOINT: &str = "direct_import";

/// Whether the rows given to an import so far are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Staging {
    /// They are: go on.
    Kept,
    /// A row was not new (its id is stored, or came earlier in the file): the rows written
    /// so far were undone, and the import now stages and merges. Give it every row again,
    /// from the file's first.
    FromTheStart,
}

/// For an import being finished: its rows must have been kept (the caller saw `rows_done`
/// keep them).
pub(crate) fn all_kept(staging: Staging) -> Result<()> {
    match staging {
        Staging::Kept => Ok(()),
        Staging::FromTheStart => Err(crate::StoreError::Conflict(
            "an import was finished before its rows were all given again".to_string(),
        )),
    }
}

/// An import's transaction, lent to one direct insert at a time: the insert runs on a task of
/// its own while the import reads its next rows. SQLite inserts on a thread of its own, and the
/// file's reading and the inserting took turns (at 100,000 students a first sessions file went
/// from 5.6-5.9 s to 4.8 s).
pub(crate) struct Lent {
    /// `None` while an insert holds it.
    tx: Option<Tx>,
    in_flight: Option<tokio::task::JoinHandle<(Tx, Direct, Result<Staging>)>>,
}

impl Lent {
    pub(crate) fn new(tx: Tx) -> Lent {
        Lent {
            tx: Some(tx),
            in_flight: None,
        }
    }

    /// The transaction, once any insert lent it is settled ([`Lent::settle`]).
    pub(crate) fn idle(&mut self) -> &mut Tx {
        self.tx.as_mut().expect("no direct insert in flight")
    }

    /// The transaction, to finish the import (settled).
    pub(crate) fn into_tx(self) -> Tx {
        self.tx.expect("no direct insert in flight")
    }

    /// Ends the import (settled): its `staged` rows deleted, `merged_into` analyzed on
    /// PostgreSQL, committed (`crate::imports::finish`).
    pub(crate) async fn finish(
        self,
        backend: crate::Backend,
        staged: &'static str,
        merged_into: &'static str,
    ) -> Result<()> {
        crate::imports::finish(self.into_tx(), backend, staged, merged_into).await
    }

    /// Whether an insert holds the transaction.
    pub(crate) fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Runs `insert`, `direct`'s next rows, on a task that holds the transaction until
    /// [`Lent::settle`].
    pub(crate) fn write(
        &mut self,
        mut direct: Direct,
        insert: sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>,
    ) {
        let mut tx = self.tx.take().expect("one direct insert at a time");
        self.in_flight = Some(tokio::spawn(async move {
            let written = direct.write(&mut tx, insert).await;
            (tx, direct, written)
        }));
    }

    /// Waits for the insert that holds the transaction, if any: whether its rows (and every
    /// row before) were kept. When they were, `direct` gets its `Direct` back; when not, the
    /// savepoint was rolled back, the rows held (`pending`) go, since they are given again
    /// from the file's first, and the import stages from now on.
    pub(crate) async fn settle<T>(
        &mut self,
        direct: &mut Option<Direct>,
        pending: &mut Vec<T>,
    ) -> Result<Staging> {
        let Some(writing) = self.in_flight.take() else {
            return Ok(Staging::Kept);
        };
        let (tx, writer, written) = writing.await.map_err(|e| {
            crate::StoreError::Corrupt(format!("writing an import's rows stopped: {e}"))
        })?;
        self.tx = Some(tx);
        let written = written?;
        match written {
            Staging::Kept => *direct = Some(writer),
            Staging::FromTheStart => pending.clear(),
        }
        Ok(written)
    }
}

/// What the audit log and the re-send check record of a direct import.
pub(crate) struct Recorded<'a> {
    pub(crate) actor: &'a str,
    /// Its audit action and kind of import (`crate::resends`).
    pub(crate) action: &'a str,
    pub(crate) kind: &'a str,
    /// Whose import: `provider` or `district`, and its id.
    pub(crate) scope_kind: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) digest: Option<&'a crate::resends::ImportDigest>,
}

/// An import writing its rows straight to their table (see the module's text).
pub(crate) struct Direct {
    /// The id the import's audit record will get: its rows' `written_by`. The transaction
    /// holds the write lock, so no other record can take it first.
    audit_id: i64,
    /// How many rows were written.
    rows: u64,
    /// On PostgreSQL, whether the copied rows were inserted ([`Direct::insert_copied`]).
    copied: bool,
}

impl Direct {
    /// Reserves the import's audit id and opens the savepoint.
    pub(crate) async fn begin(tx: &mut Tx, backend: crate::Backend) -> Result<Direct> {
        let reserve = match backend {
            crate::Backend::Sqlite => "SELECT coalesce(max(id), 0) + 1 FROM audit_log",
            crate::Backend::Postgres => "SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))",
        };
        let audit_id: i64 = sqlx::query_scalar(reserve).fetch_one(&mut **tx).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SAVEPOINT {SAVEPOINT}")))
            .execute(&mut **tx)
            .await?;
        Ok(Direct {
            audit_id,
            rows: 0,
            copied: false,
        })
    }

    /// A direct import when the rows `owned` names (`FROM ... WHERE ...`, the owner's id
    /// bound as `$1`) are none: `owner`'s first file of the kind. `None` otherwise.
    pub(crate) async fn when_none_stored(
        tx: &mut Tx,
        backend: crate::Backend,
        owned: &str,
        owner: &str,
    ) -> Result<Option<Direct>> {
        let stored: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM (SELECT 1 {owned} LIMIT 1) AS t"
        )))
        .bind(owner)
        .fetch_one(&mut **tx)
        .await?;
        match stored {
            0 => Ok(Some(Direct::begin(tx, backend).await?)),
            _ => Ok(None),
        }
    }

    /// On PostgreSQL, once every row is copied: inserts into `table` every row of `source`,
    /// whose `columns` (comma-separated) are named alike, with `owner` (column, id) and the
    /// audit id. Runs once; a row that is not new empties `slot`, and the copied rows are
    /// staged and merged.
    pub(crate) async fn insert_copied(
        slot: &mut Option<Direct>,
        tx: &mut Tx,
        table: &str,
        columns: &str,
        owner: (&str, &str),
        source: &str,
    ) -> Result<()> {
        let Some(direct) = slot.as_mut().filter(|d| !d.copied) else {
            return Ok(());
        };
        direct.copied = true;
        let sql = format!(
            "INSERT INTO {table} ({columns}, {}, written_by)
             SELECT {columns}, $1, {} FROM {source}",
            owner.0, direct.audit_id
        );
        let insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owner.1);
        if direct.write(tx, insert).await? == Staging::FromTheStart {
            *slot = None;
        }
        Ok(())
    }

    /// Runs the insert `query`: [`Staging::FromTheStart`] after undoing every row written
    /// when one of them was not new.
    pub(crate) async fn write(
        &mut self,
        tx: &mut Tx,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Staging> {
        match query.execute(&mut **tx).await {
            Ok(done) => {
                self.rows += done.rows_affected();
                Ok(Staging::Kept)
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT};"
                )))
                .execute(&mut **tx)
                .await?;
                Ok(Staging::FromTheStart)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Keeps the rows, writes the import's audit record under its reserved id (`describe`
    /// given the counts: every row added) and remembers its file for re-sends: the counts.
    pub(crate) async fn finish(
        self,
        tx: &mut Tx,
        import: Recorded<'_>,
        describe: impl FnOnce(&ImportCounts) -> String,
    ) -> Result<ImportCounts> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("RELEASE {SAVEPOINT}")))
            .execute(&mut **tx)
            .await?;
        let counts = ImportCounts {
            added: self.rows,
            ..ImportCounts::default()
        };
        let record = format!("{}:{}", import.scope_kind, import.scope);
        let detail = describe(&counts);
        crate::audit_as(
            tx,
            self.audit_id,
            import.actor,
            import.action,
            &record,
            &detail,
        )
        .await?;
        crate::resends::remember(
            tx,
            import.kind,
            import.scope,
            import.digest,
            self.rows,
            self.audit_id,
        )
        .await?;
        Ok(counts)
    }

    /// The insert into `table` of `rows` rows of `columns` (bound, comma-separated), with the
    /// same `owner` (column and key: the provider's, the district's) and audit id in every
    /// row, written into the SQL instead of bound per row.
    pub(crate) fn insert(
        &self,
        table: &str,
        rows: usize,
        columns: &str,
        owner: (&str, i64),
    ) -> String {
        format!(
            "INSERT INTO {table} {}",
            select_values(rows, columns, &[owner, ("written_by", self.audit_id)])
        )
    }
}

/// `(columns, constants) SELECT column1, ..., constants FROM (VALUES ...)`: `columns`
/// (comma-separated) named after the columns of `rows` rows of binds, then `constants`
/// (`(column, value)`) written into the SQL.
fn select_values(rows: usize, columns: &str, constants: &[(&str, i64)]) -> String {
    let bound: Vec<&str> = columns.split(", ").collect();
    let mut selected: Vec<String> = (1..=bound.len()).map(|i| format!("column{i}")).collect();
    let mut named: Vec<String> = bound.iter().map(|c| c.to_string()).collect();
    for (column, value) in constants {
        selected.push(value.to_string());
        named.push(column.to_string());
    }
    format!(
        "({}) SELECT {} FROM ({})",
        named.join(", "),
        selected.join(", "),
        crate::values(crate::Backend::Sqlite, rows, bound.len())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_follow_the_bound_columns() {
        assert_eq!(
            select_values(2, "a, b", &[("c", 7)]),
            "(a, b, c) SELECT column1, column2, 7 FROM (VALUES (?, ?), (?, ?))"
        );
    }
}
