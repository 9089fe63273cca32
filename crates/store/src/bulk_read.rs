//! Reads of many rows (a contract's sessions and tests, a district's roster) through the
//! backend's own driver where sqlx's `Any` layer costs most.
//!
//! A statement at 100,000 students reads millions of rows. Through `Any`, every value is
//! converted to an `AnyValue`, copied, and sent row by row from sqlx's SQLite worker thread;
//! the profile of a statement showed that conversion and its allocations as most of its time.
//! On SQLite these reads run on a read-only `rusqlite` connection of the same file on a
//! blocking thread (write-ahead log: they see every committed import and never block a writer).
//! rusqlite is the well-kept synchronous SQLite binding and shares sqlx's `libsqlite3-sys`, so it
//! adds no second SQLite. On PostgreSQL they run on a small pool of sqlx's own PostgreSQL
//! driver, which decodes each value once instead of through `AnyValue`. The SQL is the same
//! portable text on both backends; only the transport differs, so the rows, their order and
//! every decision made from them are the same.

use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use std::path::PathBuf;

/// A row every transport can decode: a tuple of `String`, `i64` and their `Option`s.
pub(crate) trait BulkRow:
    for<'r> sqlx::FromRow<'r, AnyRow>
    + for<'r> sqlx::FromRow<'r, PgRow>
    + for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>
    + Send
    + Unpin
    + 'static
{
}

impl<T> BulkRow for T where
    T: for<'r> sqlx::FromRow<'r, AnyRow>
        + for<'r> sqlx::FromRow<'r, PgRow>
        + for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>
        + Send
        + Unpin
        + 'static
{
}

/// How bulk reads reach the database.
#[derive(Clone)]
pub(crate) enum BulkReader {
    /// A read-only rusqlite connection of this file per read.
    Sqlite(PathBuf),
    /// A lazily connected pool of sqlx's PostgreSQL driver.
    Postgres(PgPool),
    /// The store's own pool: an in-memory database, or a `sqlite:` URL (percent-encoded).
    Pool,
}

impl BulkReader {
    /// The pool of sqlx's PostgreSQL driver, for what its `Any` driver cannot do (`COPY`).
    pub(crate) fn postgres_pool(&self) -> Option<&PgPool> {
        match self {
            BulkReader::Postgres(pool) => Some(pool),
            _ => None,
        }
    }

    /// For the SQLite database at `location`, whose file is `file`.
    pub(crate) fn sqlite(location: &str, file: &str) -> BulkReader {
        if file.starts_with(':') || location.starts_with("sqlite:") {
            BulkReader::Pool
        } else {
            BulkReader::Sqlite(PathBuf::from(file))
        }
    }

    /// For the PostgreSQL database at `url`; it connects on its first read.
    pub(crate) fn postgres(url: &str) -> Result<BulkReader> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect_lazy(url)?;
        Ok(BulkReader::Postgres(pool))
    }

    pub(crate) async fn close(&self) {
        if let BulkReader::Postgres(pool) = self {
            pool.close().await;
        }
    }
}

impl Store {
    /// Every row `sql` selects, with `binds` for `$1, $2, ...` (each bound once, in order).
    pub(crate) async fn bulk_rows<T: BulkRow>(&self, sql: &str, binds: &[&str]) -> Result<Vec<T>> {
        macro_rules! fetch_all {
            ($pool:expr) => {{
                let mut query = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql.to_string()));
                for b in binds {
                    query = query.bind(*b);
                }
                query.fetch_all($pool).await?
            }};
        }
        match &self.bulk {
            BulkReader::Sqlite(file) => {
                let (file, sql) = (file.clone(), sql.to_string());
                let binds: Vec<String> = binds.iter().map(|b| b.to_string()).collect();
                tokio::task::spawn_blocking(move || read_sqlite(file, &sql, &binds))
                    .await
                    .map_err(|e| StoreError::Corrupt(format!("a bulk read stopped: {e}")))?
            }
            // The same query on a pool of either driver (their query types differ).
            BulkReader::Postgres(pool) => Ok(fetch_all!(pool)),
            BulkReader::Pool => Ok(fetch_all!(&self.pool)),
        }
    }
}

impl Store {
    /// The `AND ...` that limits a bulk read to some students (nothing for `None`: every
    /// student), with the binds: `first` (bound as `$1, ...`) then the first and last student.
    /// `students` are sorted by bytes, so the range from the first to the last holds them all
    /// (and maybe students not named, which the caller drops): one index range, where a list of
    /// thousands of ids cost more to parse and plan than to read (PostgreSQL took 17 ms a
    /// chunk of sessions by list, 10 ms by range). The range compares bytes on both backends:
    /// SQLite's text does, and on PostgreSQL the comparison is `COLLATE "C"` (the student id
    /// columns' own collation, so their indexes serve it).
    pub(crate) fn students_in<'a>(
        &self,
        column: &str,
        first: &[&'a str],
        students: Option<&[&'a str]>,
    ) -> (String, Vec<&'a str>) {
        let mut binds = first.to_vec();
        let Some(students) = students else {
            return (String::new(), binds);
        };
        debug_assert!(students.windows(2).all(|w| w[0] <= w[1]), "sorted by bytes");
        let (Some(low), Some(high)) = (students.first(), students.last()) else {
            return (" AND 1 = 0".to_string(), binds);
        };
        let n = first.len();
        binds.extend([*low, *high]);
        let bytes = match self.backend {
            crate::Backend::Sqlite => "",
            crate::Backend::Postgres => " COLLATE \"C\"",
        };
        (
            format!(" AND {column}{bytes} BETWEEN ${} AND ${}", n + 1, n + 2),
            binds,
        )
    }
}

fn read_sqlite<T: BulkRow>(file: PathBuf, sql: &str, binds: &[String]) -> Result<Vec<T>> {
    let fail = |e: rusqlite::Error| match e {
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(
                code.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Busy(e.to_string())
        }
        e => StoreError::Corrupt(format!("reading {}: {e}", file.display())),
    };
    let conn = rusqlite::Connection::open_with_flags(
        &file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    conn.busy_timeout(std::time::Duration::from_millis(crate::busy_timeout_ms()))
        .map_err(fail)?;
    let mut statement = conn.prepare(sql).map_err(fail)?;
    let rows = statement
        .query(rusqlite::params_from_iter(binds))
        .map_err(fail)?;
    rows.mapped(|row| T::try_from(row))
        .collect::<Result<Vec<T>, _>>()
        .map_err(fail)
}

#[cfg(test)]
mod tests {
    use crate::test_support::stores;

    #[tokio::test]
    async fn bulk_reads_return_the_selected_rows_in_order_with_nulls() {
        for store in stores().await {
            store
                .ensure_organisation("d1", "district", "One")
                .await
                .unwrap();
            store
                .ensure_organisation("d2", "district", "Two")
                .await
                .unwrap();
            let rows: Vec<(String, String, Option<i64>)> = store
                .bulk_rows(
                    "SELECT id, kind, CAST(NULL AS BIGINT) FROM organisations WHERE kind = $1 ORDER BY id",
                    &["district"],
                )
                .await
                .unwrap();
            assert_eq!(
                rows,
                vec![
                    ("d1".to_string(), "district".to_string(), None),
                    ("d2".to_string(), "district".to_string(), None)
                ]
            );
        }
    }
}
