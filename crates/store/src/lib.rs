//! Storage of obc's records: SQLite by default (one file, no set-up), or PostgreSQL for a
//! `postgres://` URL, through one pool and the same SQL (only the DDL differs per backend).
//!
//! Every import runs in one transaction: it lands whole or not at all. Rows are keyed so that
//! importing the same file twice changes nothing. Finalized statements and the audit log are
//! append-only, enforced by triggers as well as by this API.

mod audit_log;
mod bulk_read;
mod chain;
mod compact;
mod contracts;
mod copy_stage;
mod direct;
mod drafts;
mod imports;
mod ledger;
mod meetings;
mod provider_activity;
mod resends;
mod reviews;
mod roster;
mod school_attendance;
mod scope;
mod statement_content;
mod statement_digest;
mod statement_lines;
mod statements;
mod upserts;
mod users;
mod versions;

pub use audit_log::{AuditEvent, AuditFilter, UploadRecord};
pub use chain::{ChainProblem, ChainReport};
pub use contracts::{ContractVersion, EnrollReport, ProviderEnrollments};
pub use direct::Staging;
pub use drafts::StoredDraft;
pub use imports::{
    AssessmentImport, ImportCounts, RepeatedSession, SessionImport, ASSESSMENTS_ACTION,
    ASSESSMENTS_KIND, SESSIONS_ACTION, SESSIONS_KIND,
};
pub use ledger::{LedgerEntry, StoredInputs, StoredLine};
pub use meetings::Viewer;
pub use provider_activity::{DaySessions, NoShows};
pub use resends::{ImportDigest, LatestImport};
pub use reviews::{IssuedDraft, ReviewEvent, StoredReview};
pub use roster::{NewSchool, RosterReport};
pub use school_attendance::{FlaggedSession, SchoolAttendanceImport};
pub use scope::{ContractSummary, Scope, StudentRecord};
pub use statements::{FinalizedList, StatementInputs, StoredStatement};
pub use users::{Account, ApiToken, IdempotencyClaim, Role, User, UserSummary};

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction};
use std::time::Duration;

/// What can go wrong in storage; `NotFound` and `Conflict` are the user's to fix, `Busy` goes
/// away by trying again.
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
    /// Another writer held the database longer than the busy timeout: nothing is damaged.
    #[error("the database is busy (another import or finalization is writing); try again in a moment ({0})")]
    Busy(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_busy(&e) {
            StoreError::Busy(e.to_string())
        } else {
            StoreError::Db(e)
        }
    }
}

/// Whether `e` means "another connection holds the lock", not a fault: SQLite's
/// `SQLITE_BUSY` / `SQLITE_LOCKED` (and their extended codes), PostgreSQL's
/// `lock_not_available` (a `lock_timeout`), or no pooled connection free in time.
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("55P03") => true,
            Some(code) => code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)),
            None => false,
        },
        _ => false,
    }
}

/// How long a writer waits for another writer before reporting [`StoreError::Busy`]: 30 s,
/// or `OBC_BUSY_TIMEOUT_MS` (tests make it short).
fn busy_timeout_ms() -> u64 {
    std::env::var("OBC_BUSY_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(30_000)
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind a [`Store`]. Both run the same SQL (see docs/ARCHITECTURE.md, "Portable
/// SQL"); only the DDL of the migrations differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, no set-up: the default.
    Sqlite,
    /// A PostgreSQL server, for `--db postgres://...`.
    Postgres,
}

/// The migrations of each backend: the same numbers, the same tables.
const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("sqlite/schema.sql")),
    (2, include_str!("sqlite/web.sql")),
    (3, include_str!("sqlite/meetings.sql")),
    (4, include_str!("sqlite/ledger.sql")),
    (5, include_str!("sqlite/attendance.sql")),
    (6, include_str!("sqlite/test_identity.sql")),
    (7, include_str!("sqlite/session_subject.sql")),
    (8, include_str!("sqlite/chain.sql")),
    (9, include_str!("sqlite/accounts.sql")),
    (10, include_str!("sqlite/input_versions.sql")),
    (11, include_str!("sqlite/reviews.sql")),
    (12, include_str!("sqlite/drafts.sql")),
    (15, include_str!("sqlite/import_digests.sql")),
    (16, include_str!("sqlite/audit_index.sql")),
    (17, include_str!("sqlite/statement_records.sql")),
    (18, include_str!("sqlite/enrollment_start.sql")),
    (19, include_str!("sqlite/session_index.sql")),
    (20, include_str!("sqlite/statement_deflate.sql")),
    (21, include_str!("sqlite/draft_deflate.sql")),
    (22, include_str!("sqlite/copy_staging.sql")),
    (23, include_str!("sqlite/compact_sessions.sql")),
    (24, include_str!("sqlite/compact_students.sql")),
    (25, include_str!("sqlite/compact_ledger.sql")),
    (26, include_str!("sqlite/compact_assessments.sql")),
];

const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("postgres/schema.sql")),
    (2, include_str!("postgres/web.sql")),
    (3, include_str!("postgres/meetings.sql")),
    (4, include_str!("postgres/ledger.sql")),
    (5, include_str!("postgres/attendance.sql")),
    (6, include_str!("postgres/test_identity.sql")),
    (7, include_str!("postgres/session_subject.sql")),
    (8, include_str!("postgres/chain.sql")),
    (9, include_str!("postgres/accounts.sql")),
    (10, include_str!("postgres/input_versions.sql")),
    (11, include_str!("postgres/reviews.sql")),
    (12, include_str!("postgres/drafts.sql")),
    (15, include_str!("postgres/import_digests.sql")),
    (16, include_str!("postgres/audit_index.sql")),
    (17, include_str!("postgres/statement_records.sql")),
    (18, include_str!("postgres/enrollment_start.sql")),
    (19, include_str!("postgres/session_index.sql")),
    (20, include_str!("postgres/statement_deflate.sql")),
    (21, include_str!("postgres/draft_deflate.sql")),
    (22, include_str!("postgres/copy_staging.sql")),
    (23, include_str!("postgres/compact_sessions.sql")),
    (24, include_str!("postgres/compact_students.sql")),
    (25, include_str!("postgres/compact_ledger.sql")),
    (26, include_str!("postgres/compact_assessments.sql")),
];

/// The key of the PostgreSQL advisory lock every write transaction takes, so that writers
/// queue behind each other as they do on SQLite ("obc" in ASCII).
const POSTGRES_WRITE_LOCK: i64 = 0x6f_62_63;

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// `location` with any password replaced by `***`, for messages.
pub fn redact(location: &str) -> String {
    if !is_postgres_url(location) {
        return location.to_string();
    }
    match url_password_span(location) {
        Some((start, end)) => format!("{}***{}", &location[..start], &location[end..]),
        None => location.to_string(),
    }
}

/// The byte range of the password in `scheme://user:password@host...`, if there is one.
fn url_password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let at = url[authority_start..authority_end].rfind('@')? + authority_start;
    let colon = url[authority_start..at].find(':')? + authority_start;
    Some((colon + 1, at))
}

/// A SQLite path as a `sqlite:` URL: every byte but `[A-Za-z0-9/._-]` percent-encoded, so that
/// spaces, `?` and `#` in file names survive.
fn sqlite_url(path: &str, create: bool) -> String {
    let mode = if create { "rwc" } else { "rw" };
    if path.starts_with("sqlite:") {
        let sep = if path.contains('?') { '&' } else { '?' };
        return format!("{path}{sep}mode={mode}");
    }
    let mut url = String::from("sqlite:");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-') {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{url}?mode={mode}")
}

/// The settings of every SQLite connection: waiting up to the busy timeout for another
/// writer, write-ahead log (readers never wait for a writer), foreign keys.
async fn sqlite_pragmas(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
        busy_timeout_ms()
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// A handle on one obc database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// How the bulk reads of [`bulk_read`] reach the database.
    bulk: bulk_read::BulkReader,
}

impl Store {
    /// Opens (and with `create`, creates) the obc database at `location` and brings its schema
    /// up to date. `postgres://` and `postgresql://` URLs name a PostgreSQL database (which
    /// must exist; `create` then creates obc's tables in it); anything else is the path of a
    /// SQLite file.
    pub async fn open(location: &str, create: bool) -> Result<Store> {
        sqlx::any::install_default_drivers();
        if is_postgres_url(location) {
            Store::open_postgres(location, create).await
        } else {
            Store::open_sqlite(location, create).await
        }
    }

    async fn open_sqlite(path: &str, create: bool) -> Result<Store> {
        let file = path
            .strip_prefix("sqlite://")
            .or(path.strip_prefix("sqlite:"))
            .unwrap_or(path);
        let file = file.split('?').next().unwrap_or(file);
        if !create && !file.starts_with(':') && !std::path::Path::new(file).exists() {
            return Err(StoreError::NotFound(format!(
                "no obc database at {file}: run `obc init` (or `obc demo`) first, or pass --db"
            )));
        }
        let unusable = |e: sqlx::Error| {
            if is_busy(&e) {
                StoreError::from(e)
            } else {
                StoreError::Corrupt(format!("cannot use {file} as an obc database: {e}"))
            }
        };
        let url = sqlite_url(path, create);
        // One connection first, outside the pool, so that a file that is not a database is
        // reported as such (the pool would retry until it times out).
        let mut check = AnyConnection::connect(&url).await.map_err(unusable)?;
        sqlite_pragmas(&mut check).await.map_err(unusable)?;
        check.close().await.map_err(unusable)?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn: &mut AnyConnection, _| Box::pin(sqlite_pragmas(conn)))
            .connect(&url)
            .await
            .map_err(unusable)?;
        let store = Store {
            pool,
            backend: Backend::Sqlite,
            bulk: bulk_read::BulkReader::sqlite(path, file),
        };
        store.migrate().await.map_err(|e| match e {
            StoreError::Db(e) => unusable(e),
            e => e,
        })?;
        Ok(store)
    }

    async fn open_postgres(url: &str, create: bool) -> Result<Store> {
        let shown = redact(url);
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(|e| StoreError::NotFound(format!("cannot connect to {shown}: {e}")))?;
        let store = Store {
            pool,
            backend: Backend::Postgres,
            bulk: bulk_read::BulkReader::postgres(url)?,
        };
        if !create {
            let exists: bool =
                sqlx::query_scalar("SELECT to_regclass('schema_version') IS NOT NULL")
                    .fetch_one(&store.pool)
                    .await?;
            if !exists {
                store.pool.close().await;
                return Err(StoreError::NotFound(format!(
                    "no obc database at {shown}: run `obc init --db {shown}` (or `obc demo`) first"
                )));
            }
        }
        store.migrate().await.map_err(|e| match e {
            StoreError::Db(e) => {
                StoreError::Corrupt(format!("cannot use {shown} as an obc database: {e}"))
            }
            e => e,
        })?;
        Ok(store)
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A write transaction that waits for the other writers at once, so two concurrent
    /// imports queue behind each other instead of failing or interleaving: SQLite's write
    /// lock (`BEGIN IMMEDIATE`), or on PostgreSQL a transaction-level advisory lock. Both wait
    /// up to the busy timeout, then fail with [`StoreError::Busy`]. Reads never call this.
    pub(crate) async fn write_tx(&self) -> Result<Tx> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                // An import's set-based checks and merges group and join millions of rows:
                // with PostgreSQL's default 4 MB they spill to disk (a 2.4M-row repeated-id
                // check took 1.6 s, 1.2 s with this). Writers run one at a time.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "SET LOCAL lock_timeout = {}; SET LOCAL work_mem = '128MB'",
                    busy_timeout_ms().max(1)
                )))
                .execute(&mut *tx)
                .await?;
                let _: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM (SELECT pg_advisory_xact_lock($1)) AS locked",
                )
                .bind(POSTGRES_WRITE_LOCK)
                .fetch_one(&mut *tx)
                .await?;
                Ok(tx)
            }
        }
    }

    /// Brings the schema up to date. A current schema is only read, so opening the database
    /// never waits for (or blocks) a writer; the write lock is taken only to migrate.
    async fn migrate(&self) -> Result<()> {
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        // A database without `schema_version` yet fails this read: it needs migrating.
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_version")
            .fetch_all(&self.pool)
            .await
            .unwrap_or_default();
        if migrations.iter().all(|(v, _)| applied.contains(v)) {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        sqlx::raw_sql(match self.backend {
            Backend::Sqlite => {
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)"
            }
            Backend::Postgres => {
                "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY)"
            }
        })
        .execute(&mut *tx)
        .await?;
        // Read again under the lock: another process may have migrated meanwhile.
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_version")
            .fetch_all(&mut *tx)
            .await?;
        for (version, sql) in migrations {
            if applied.contains(version) {
                continue;
            }
            sqlx::raw_sql(*sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await?;
            if *version == chain::MIGRATION {
                // Records stored before the chain existed become its first links.
                chain::link_unchained(&mut tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
        self.bulk.close().await;
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

    /// An organisation's name as its roster or contract gave it, `None` when unknown.
    pub async fn organisation_name(&self, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Ids of the organisations of a kind, sorted.
    pub async fn organisations(&self, kind: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM organisations WHERE kind = $1 ORDER BY id")
                .bind(kind)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

pub(crate) type Tx = Transaction<'static, Any>;

/// Writes an audit record with the id `id` its writer reserved under the write lock
/// (`crate::direct`: on SQLite the `max(id) + 1` SQLite would give it too, on PostgreSQL the
/// identity's `nextval`).
pub(crate) async fn audit_as(
    tx: &mut Tx,
    id: i64,
    actor: &str,
    action: &str,
    record: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, action, record, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(record)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends an audit event inside a transaction and returns its id.
pub(crate) async fn audit(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    record: &str,
    detail: &str,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor, action, record, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(record)
    .bind(detail)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

pub(crate) async fn ensure_organisation(
    tx: &mut Tx,
    id: &str,
    kind: &str,
    name: &str,
) -> Result<()> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT kind FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    match existing {
        Some(k) if k == kind => Ok(()),
        Some(k) => Err(StoreError::Conflict(format!(
            "organisation id \"{id}\" is already a {k}, not a {kind}"
        ))),
        None => {
            sqlx::query("INSERT INTO organisations (id, kind, name) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(kind)
                .bind(name)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }
    }
}

/// `VALUES (..), (..), ...` for a multi-row insert of `rows` rows of `cols` columns (sqlx's
/// `QueryBuilder` cannot be used: it writes `?` for `Any`, which PostgreSQL refuses). SQLite
/// gets anonymous `?` placeholders: it looks numbered ones up by name, in time quadratic in their
/// number, which for thousands of them costs more than the insert. PostgreSQL gets `$1, $2, ...`.
pub(crate) fn values(backend: Backend, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 6 + 7);
    sql.push_str("VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..cols {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", row * cols + col + 1)),
            }
        }
        sql.push(')');
    }
    sql
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

pub(crate) use obc_core::engine::sha256_hex as hex_sha256;

pub(crate) fn parse_date(text: &str) -> Result<time::Date> {
    obc_core::model::parse_iso_date(text)
        .ok_or_else(|| StoreError::Corrupt(format!("not an ISO date: {text}")))
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[authority_start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| authority_start + i);
    let rest = &url[path_start..];
    let query = rest.find('?').map_or("", |i| &rest[i..]);
    format!("{}/{name}{query}", &url[..path_start])
}

/// Creates an empty database with a new name on the PostgreSQL server of `server_url` (whose
/// role may create databases) and returns its URL. For tests: each gets a database of its own.
/// Names carry the process id; databases left by test processes that have ended are dropped.
#[doc(hidden)]
pub async fn create_test_database(server_url: &str) -> Result<String> {
    new_test_database(server_url, None).await
}

/// Like [`create_test_database`], but the new database is a copy of the one at `source_url`
/// on the same server (which nobody may be connected to).
#[doc(hidden)]
pub async fn copy_test_database(server_url: &str, source_url: &str) -> Result<String> {
    let path = source_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split_once('/'))
        .map_or("", |(_, path)| path);
    let source = path.split('?').next().unwrap_or(path);
    new_test_database(server_url, Some(source)).await
}

async fn new_test_database(server_url: &str, template: Option<&str>) -> Result<String> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let mut conn = sqlx::postgres::PgConnection::connect(server_url).await?;
    if !SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) && cfg!(target_os = "linux") {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'obc\\_test\\_%'",
        )
        .fetch_all(&mut conn)
        .await?;
        for name in names {
            let pid = name.split('_').nth(2).unwrap_or("");
            if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                // In use or gone already: either way, nothing to do.
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\""
                )))
                .execute(&mut conn)
                .await;
            }
        }
    }
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!("obc_test_{}_{n}_{nanos}", std::process::id());
    let template = template.map_or(String::new(), |t| {
        format!(" TEMPLATE \"{}\"", t.replace('"', "\"\""))
    });
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{name}\"{template}"
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(with_database(server_url, &name))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Store;

    /// Gives `import` every `(line, session)` of district `district` as a caller does: again
    /// from the first when it turns to staging.
    pub async fn add_all<'a>(
        import: &mut crate::SessionImport,
        district: &str,
        rows: impl IntoIterator<Item = (u64, &'a obc_core::Session)> + Clone,
    ) {
        loop {
            let mut staging = crate::Staging::Kept;
            for (line, session) in rows.clone() {
                staging = import.add(line, district, session.clone()).await.unwrap();
                if staging == crate::Staging::FromTheStart {
                    break;
                }
            }
            if staging == crate::Staging::Kept
                && import.rows_done().await.unwrap() == crate::Staging::Kept
            {
                return;
            }
        }
    }

    /// A fresh SQLite database per test, in the system's temp directory.
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

    /// A fresh PostgreSQL database on the server named by `OBC_TEST_POSTGRES_URL`; `None`
    /// when it is unset, unless `OBC_REQUIRE_POSTGRES=1` (CI), which makes that a failure.
    pub async fn fresh_postgres() -> Option<Store> {
        let Ok(server) = std::env::var("OBC_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("OBC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "OBC_REQUIRE_POSTGRES=1 but OBC_TEST_POSTGRES_URL is unset"
            );
            return None;
        };
        let url = super::create_test_database(&server).await.unwrap();
        Some(Store::open(&url, true).await.unwrap())
    }

    /// A new SQLite file under the system's temp directory (`name` and the process id), and a
    /// connection to it: for databases built as an earlier release left them.
    pub async fn new_sqlite_file(name: &str) -> (std::path::PathBuf, sqlx::AnyConnection) {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let path = std::env::temp_dir().join(format!("obc-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let url = format!("sqlite://{}?mode=rwc", path.display());
        (path, sqlx::AnyConnection::connect(&url).await.unwrap())
    }

    /// Runs `migrations` up to version `last` on an empty database, recording them as
    /// `Store::open` does, so that opening it afterwards runs only the later ones.
    pub async fn migrate_until(
        conn: &mut sqlx::AnyConnection,
        migrations: &[(i64, &'static str)],
        last: i64,
    ) {
        sqlx::raw_sql("CREATE TABLE schema_version (version BIGINT PRIMARY KEY)")
            .execute(&mut *conn)
            .await
            .unwrap();
        for (version, sql) in migrations.iter().take_while(|(v, _)| *v <= last) {
            sqlx::raw_sql(*sql).execute(&mut *conn).await.unwrap();
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }

    /// A fresh database of every backend under test: SQLite, and PostgreSQL when configured.
    pub async fn stores() -> Vec<Store> {
        let mut stores = vec![fresh().await];
        stores.extend(fresh_postgres().await);
        stores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SPEC example contract (district `ector`).
    const TEST_CONTRACT: &str = include_str!("../../core/tests/contract_example.toml");

    #[test]
    fn urls_are_redacted_and_renamed() {
        assert_eq!(
            redact("postgres://obc:secret@db:5432/obc?sslmode=disable"),
            "postgres://obc:***@db:5432/obc?sslmode=disable"
        );
        assert_eq!(redact("postgres://db/obc"), "postgres://db/obc");
        assert_eq!(redact("obc.db"), "obc.db");
        assert_eq!(
            with_database("postgres://a:b@h:1/postgres?x=1", "t"),
            "postgres://a:b@h:1/t?x=1"
        );
        assert_eq!(with_database("postgres://h", "t"), "postgres://h/t");
        assert_eq!(
            sqlite_url("my dir/o#b?.db", false),
            "sqlite:my%20dir/o%23b%3F.db?mode=rw"
        );
        assert_eq!(values(Backend::Postgres, 2, 2), "VALUES ($1, $2), ($3, $4)");
        assert_eq!(values(Backend::Sqlite, 2, 2), "VALUES (?, ?), (?, ?)");
    }

    #[tokio::test]
    async fn append_only_tables_refuse_changes_on_both_backends() {
        for store in test_support::stores().await {
            store.audit("t", "test", "record", "").await.unwrap();
            let mut refused = vec![
                "UPDATE audit_log SET actor = 'x'".to_string(),
                "DELETE FROM audit_log".to_string(),
            ];
            store
                .ensure_organisation("ector", "district", "Ector")
                .await
                .unwrap();
            let contract = obc_core::Contract::parse(TEST_CONTRACT).unwrap();
            store
                .add_contract("t", &contract, TEST_CONTRACT, None)
                .await
                .unwrap();
            for table in ["contract_versions", "ledger_chain"] {
                refused.push(format!("UPDATE {table} SET contract_id = 'x'"));
                refused.push(format!("DELETE FROM {table}"));
            }
            if store.backend() == Backend::Postgres {
                // Statement-level triggers: refused even when the table is empty.
                for table in [
                    "statements",
                    "statement_lines",
                    "statement_inputs",
                    "ledger_entries",
                    "audit_log",
                    "meetings",
                    "meeting_attendees",
                    "meeting_notes",
                    "action_items",
                    "action_item_events",
                    "contract_versions",
                    "session_history",
                    "assessment_history",
                    "student_history",
                    "enrollment_history",
                    "statement_inputs_as_of",
                    "ledger_chain",
                ] {
                    refused.push(format!("TRUNCATE {table} CASCADE"));
                }
            }
            for sql in refused {
                let err = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&store.pool)
                    .await
                    .expect_err(&sql);
                let text = err.to_string();
                assert!(
                    text.contains("append-only") || text.contains("never"),
                    "{:?} {sql}: {text}",
                    store.backend()
                );
            }
            assert_eq!(store.audit_log().await.unwrap().len(), 2);
        }
    }

    #[tokio::test]
    async fn both_backends_accept_the_portable_sql() {
        for store in test_support::stores().await {
            let row: (i64, i64, i64) = sqlx::query_as(
                "SELECT $2, CAST(coalesce(sum(CASE WHEN (1, NULL) IS DISTINCT FROM (1, $1) THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CASE WHEN lower('ABC') = lower($3) THEN 1 ELSE 0 END",
            )
            .bind(7_i64)
            .bind(5_i64)
            .bind("abc")
            .fetch_one(&store.pool)
            .await
            .unwrap();
            assert_eq!(row, (5, 1, 1), "{:?}", store.backend());
        }
    }

    /// Databases of every backend under test as releases before migration 6 left them (one
    /// test stored under the natural key), given as locations for `Store::open`.
    async fn databases_at_version_5() -> Vec<String> {
        sqlx::any::install_default_drivers();
        let path = std::env::temp_dir().join(format!("obc-store-v5-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut locations = vec![(path.display().to_string(), Backend::Sqlite)];
        if let Ok(server) = std::env::var("OBC_TEST_POSTGRES_URL") {
            locations.push((
                create_test_database(&server).await.unwrap(),
                Backend::Postgres,
            ));
        }
        for (location, backend) in &locations {
            let url = match backend {
                Backend::Sqlite => sqlite_url(location, true),
                Backend::Postgres => location.clone(),
            };
            let mut conn = AnyConnection::connect(&url).await.unwrap();
            let migrations = match backend {
                Backend::Sqlite => SQLITE_MIGRATIONS,
                Backend::Postgres => POSTGRES_MIGRATIONS,
            };
            test_support::migrate_until(&mut conn, migrations, 5).await;
            sqlx::raw_sql(
                "INSERT INTO assessment_results VALUES ('d1', 's1', 'MAP Growth', 'Reading',
                    'Spring 2013-2014', '2014-03-17', 32400, '152', NULL, NULL, 0, '[]')",
            )
            .execute(&mut conn)
            .await
            .unwrap();
            conn.close().await.unwrap();
        }
        locations.into_iter().map(|(l, _)| l).collect()
    }

    /// The rows of SQLite's compacted tables, one JSON array each, in key order: read from the
    /// tables before migrations 23-26 and from the views that replace them after.
    async fn compacted_rows(conn: &mut sqlx::AnyConnection) -> Vec<String> {
        let mut rows = Vec::new();
        for sql in [
            "SELECT json_array(provider_id, session_id, district_id, student_id, tutor_id,
                session_date, minutes, status, group_size, subject, written_by)
             FROM sessions ORDER BY provider_id, session_id",
            "SELECT json_array(district_id, id, school_id, grade, first_name, last_name, flags,
                written_by) FROM students ORDER BY district_id, id",
            "SELECT json_array(id, statement_id, posting, account, amount_cents, student_id, memo)
             FROM ledger_entries ORDER BY id",
            "SELECT json_array(statement_id, student_id, rule, base_cents, contingent_cents)
             FROM statement_lines ORDER BY statement_id, student_id",
            "SELECT json_array(district_id, student_id, assessment, subject, term_name, test_date,
                start_seconds, score, percentile, rapid_guessing_pct, growth_measure, growth,
                test_id, norms, written_by)
             FROM assessment_results ORDER BY district_id, student_id, test_date, test_id",
        ] {
            let table: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await.unwrap();
            rows.extend(table);
        }
        rows
    }

    #[tokio::test]
    async fn migrations_23_to_26_keep_every_row_of_the_compacted_tables() {
        use sqlx::Connection;
        let (path, mut conn) = test_support::new_sqlite_file("store-v22").await;
        test_support::migrate_until(&mut conn, SQLITE_MIGRATIONS, 22).await;

        // Every status, a leap day, two providers and districts sharing a tutor id, flags
        // shared and not, a posting under the default name, one under another and one without
        // a student, tests with and without a TestID in two districts and subjects.
        sqlx::raw_sql(
            "INSERT INTO organisations (id, kind, name) VALUES
                ('d1', 'district', 'D1'), ('d2', 'district', 'D2');
             INSERT INTO sessions (provider_id, session_id, district_id, student_id, tutor_id,
                session_date, minutes, status, group_size, subject, written_by) VALUES
                ('p1', 's1', 'd1', 'st1', 'T1', '2024-02-29', 30, 'attended', NULL, '', 3),
                ('p1', 's2', 'd1', 'st1', 'T1', '2024-03-01', 0, 'student_absent', 2, 'math', 3),
                ('p1', 's3', 'd2', 'st2', 'T2', '1999-12-31', 0, 'district_cancelled', 1, '', 0),
                ('p2', 's1', 'd1', 'st1', 'T1', '2025-01-01', 0, 'provider_cancelled', NULL, '', 4);
             INSERT INTO students (district_id, id, school_id, grade, first_name, last_name,
                flags, written_by) VALUES
                ('d1', 'st1', 'sch', '6', 'A', 'B', '{\"ell\":\"Y\"}', 1),
                ('d1', 'st3', 'sch', NULL, 'C', 'D', '{\"ell\":\"Y\"}', 1),
                ('d2', 'st2', 'sch', 'K', 'E', 'F', '{}', 2);
             INSERT INTO statements (id, contract_id, contract_version, milestone, milestone_date,
                statement_date, inputs_hash, content_sha256, engine_version, total_cents,
                content_json, finalized_at, finalized_by) VALUES
                (1, 'c1', 1, 'final', '2025-06-01', '2025-06-02', 'h', 's', 'e', 100, '{}', 't', 'u');
             INSERT INTO statement_lines VALUES (1, 'st1', 'base', 100, 0), (1, 'st2', 'none', 0, 0);
             INSERT INTO ledger_entries (statement_id, posting, account, amount_cents, student_id,
                memo) VALUES
                (1, 'c1/final/st1', 'district_payable:d1', -100, 'st1', 'base (milestone.final)'),
                (1, 'c1/final/st1', 'provider_receivable:p1', 100, 'st1', 'base (milestone.final)'),
                (1, 'c1/final/adjustment/midyear/st1', 'district_payable:d1', -5, 'st1', 'fix'),
                (1, 'c1/final/nte_cap', 'provider_receivable:p1', 5, NULL, 'nte_cap');
             INSERT INTO assessment_results VALUES
                ('d1', 'st1', 'MAP Growth', 'Mathematics', 'Fall 2024-2025', '2024-09-10', 0,
                 '192', '3', '2', 1, '[[\"4\",null,null],[null,null,null],[null,null,null]]',
                 '300000001', NULL, 2),
                ('d1', 'st1', 'MAP Growth', 'Mathematics', 'Winter 2024-2025', '2025-01-16',
                 3600, '201', NULL, NULL, 0, '[]', '', '2020', 2),
                ('d2', 'st2', 'MAP Growth', 'Reading', 'Fall 2024-2025', '2024-02-29', 0, NULL,
                 NULL, NULL, 1, '[]', 'T9', NULL, 0);",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let before = compacted_rows(&mut conn).await;
        conn.close().await.unwrap();
        let store = Store::open(path.to_str().unwrap(), false).await.unwrap();
        let mut conn = store.pool.acquire().await.unwrap().detach();
        assert_eq!(compacted_rows(&mut conn).await, before);
        let defaults: i64 =
            sqlx::query_scalar("SELECT count(*) FROM ledger_rows WHERE posting IS NULL")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(defaults, 2, "default posting names are not stored");
        store.close().await;
    }

    #[tokio::test]
    async fn migration_6_keeps_stored_tests_and_lets_two_tests_share_a_sitting() {
        for location in databases_at_version_5().await {
            let store = Store::open(&location, false).await.unwrap();
            let version: i64 = sqlx::query_scalar("SELECT max(version) FROM schema_version")
                .fetch_one(&store.pool)
                .await
                .unwrap();
            assert!(version >= 6);
            let tests: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT score, test_id, norms FROM assessment_results WHERE student_id = 's1'",
            )
            .fetch_all(&store.pool)
            .await
            .unwrap();
            assert_eq!(tests, [("152".to_string(), String::new(), None)]);
            // The same sitting under another TestID is a second row.
            sqlx::raw_sql(
                "INSERT INTO assessment_results (district_id, student_id, assessment, subject, term_name,
                    test_date, start_seconds, score, percentile, rapid_guessing_pct, growth_measure,
                    growth, test_id, norms, written_by)
                    VALUES ('d1', 's1', 'MAP Growth', 'Reading',
                    'Spring 2013-2014', '2014-03-17', 32400, '157', NULL, NULL, 1, '[]', 'T1', '2020', 0)",
            )
            .execute(&store.pool)
            .await
            .unwrap();
            // A TestID is unique within a district.
            let twin = sqlx::raw_sql(
                "INSERT INTO assessment_results (district_id, student_id, assessment, subject, term_name,
                    test_date, start_seconds, score, percentile, rapid_guessing_pct, growth_measure,
                    growth, test_id, norms, written_by)
                    VALUES ('d1', 's2', 'MAP Growth', 'Reading',
                    'Spring 2013-2014', '2014-03-17', 32400, '157', NULL, NULL, 1, '[]', 'T1', NULL, 0)",
            )
            .execute(&store.pool)
            .await;
            assert!(twin.is_err());
            store.close().await;
        }
    }
}
