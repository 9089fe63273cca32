//! Storage of obc's records. SQLite by default (one file, no set-up).
//!
//! Every import runs in one transaction: it lands whole or not at all. Rows are keyed so that
//! importing the same file twice changes nothing. Finalized statements and the audit log are
//! append-only, enforced by triggers as well as by this API.

mod contracts;
mod imports;
mod ledger;
mod meetings;
mod roster;
mod scope;
mod statements;
mod users;

pub use contracts::{ContractVersion, EnrollReport, ProviderEnrollments};
pub use imports::{AssessmentImport, ImportCounts, SessionImport};
pub use ledger::{LedgerEntry, StoredLine};
pub use meetings::Viewer;
pub use roster::RosterReport;
pub use scope::{ContractSummary, Scope, StudentRecord};
pub use statements::StoredStatement;
pub use users::{Role, User};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// What can go wrong in storage; `NotFound` and `Conflict` are the user's to fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("schema.sql")),
    (2, include_str!("web.sql")),
    (3, include_str!("meetings.sql")),
    (4, include_str!("ledger.sql")),
];

/// A handle on one obc database.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (and with `create`, creates) the SQLite database at `path` and brings its schema
    /// up to date.
    pub async fn open(path: &str, create: bool) -> Result<Store> {
        let url = if path.starts_with("sqlite:") {
            path.to_string()
        } else {
            format!("sqlite://{path}")
        };
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let file = path
            .strip_prefix("sqlite://")
            .or(path.strip_prefix("sqlite:"))
            .unwrap_or(path);
        if !create && !file.starts_with(':') && !std::path::Path::new(file).exists() {
            return Err(StoreError::NotFound(format!(
                "no obc database at {file}: run `obc init` (or `obc demo`) first, or pass --db"
            )));
        }
        let unusable = |e: sqlx::Error| {
            StoreError::Corrupt(format!("cannot use {file} as an obc database: {e}"))
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(unusable)?;
        let store = Store { pool };
        store.migrate().await.map_err(|e| match e {
            StoreError::Db(e) => unusable(e),
            e => e,
        })?;
        Ok(store)
    }

    /// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`), so two
    /// concurrent imports queue behind each other instead of failing on a lock upgrade.
    pub(crate) async fn write_tx(&self) -> Result<Tx> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)")
            .execute(&mut *tx)
            .await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM schema_version")
            .fetch_one(&mut *tx)
            .await?;
        for (version, sql) in MIGRATIONS {
            if current.is_some_and(|c| c >= *version) {
                continue;
            }
            sqlx::raw_sql(*sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_version (version) VALUES (?)")
                .bind(version)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Records who did what to which record.
    pub async fn audit(&self, actor: &str, action: &str, record: &str, detail: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        audit(&mut tx, actor, action, record, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The audit log, oldest first: (at, actor, action, record, detail).
    pub async fn audit_log(&self) -> Result<Vec<(String, String, String, String, String)>> {
        Ok(
            sqlx::query_as("SELECT at, actor, action, record, detail FROM audit_log ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Creates an organisation if it does not exist yet.
    pub async fn ensure_organisation(&self, id: &str, kind: &str, name: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        ensure_organisation(&mut tx, id, kind, name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ids of the organisations of a kind, sorted.
    pub async fn organisations(&self, kind: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM organisations WHERE kind = ? ORDER BY id")
                .bind(kind)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

pub(crate) type Tx = Transaction<'static, Sqlite>;

/// Appends an audit event inside a transaction and returns its id.
pub(crate) async fn audit(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    record: &str,
    detail: &str,
) -> Result<i64> {
    let done = sqlx::query(
        "INSERT INTO audit_log (at, actor, action, record, detail) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(record)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(done.last_insert_rowid())
}

pub(crate) async fn ensure_organisation(
    tx: &mut Tx,
    id: &str,
    kind: &str,
    name: &str,
) -> Result<()> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT kind FROM organisations WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    match existing {
        Some(k) if k == kind => Ok(()),
        Some(k) => Err(StoreError::Conflict(format!(
            "organisation id \"{id}\" is already a {k}, not a {kind}"
        ))),
        None => {
            sqlx::query("INSERT INTO organisations (id, kind, name) VALUES (?, ?, ?)")
                .bind(id)
                .bind(kind)
                .bind(name)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, for audit records only (never statements).
pub(crate) fn now() -> String {
    timestamp(time::OffsetDateTime::now_utc())
}

/// `YYYY-MM-DDTHH:MM:SSZ`: the one format of every stored time, so text order is time order.
pub(crate) fn timestamp(t: time::OffsetDateTime) -> String {
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        t.date(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn parse_date(text: &str) -> Result<time::Date> {
    obc_core::model::parse_iso_date(text)
        .ok_or_else(|| StoreError::Corrupt(format!("not an ISO date: {text}")))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Store;

    /// A fresh database per test, in the system's temp directory.
    pub async fn fresh() -> Store {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("obc-store-test-{}-{n}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Store::open(path.to_str().unwrap(), true).await.unwrap()
    }
}
