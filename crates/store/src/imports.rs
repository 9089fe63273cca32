//! Streaming, all-or-nothing imports of sessions and assessment results.
//!
//! Rows are staged in a temporary table in batches (multi-row prepared inserts; on PostgreSQL
//! through `COPY`, see crate::copy_stage) inside one transaction, then merged with set-based statements: new rows are added, changed rows replace
//! the stored ones (sessions keep the earlier version in `session_history`), identical rows are
//! left alone, so re-sending a file changes nothing. Dropping an import without `commit` rolls
//! everything back.

use crate::compact::{
    day_number, encoded_type, status_code, stored_table, text_key, Interned, TEXT_KEYS,
};
use crate::copy_stage::CopyStage;
use crate::direct::{Direct, Lent, Recorded, Staging};
use crate::resends::ImportDigest;
use crate::versions::{rows_as_of, ASSESSMENTS, SESSIONS};
use crate::{audit, ensure_organisation, Result, Store, Tx};
use obc_core::{AssessmentResult, Session, WindowGrowth};
use rust_decimal::Decimal;
use sqlx::any::AnyArguments;
use sqlx::Arguments;

const BATCH: usize = 500;

/// A staged session's columns as PostgreSQL copies them (text, like its `sessions` table).
const STAGED_SESSION: &str = "session_id, line, district_id, student_id, tutor_id, session_date, minutes, status, group_size, subject";

/// Where a backend keeps the current sessions, as an import compares and merges them: SQLite
/// in the compact `session_rows` (crate::compact), whose columns its staging table shares;
/// PostgreSQL in the text table `sessions`, read from the copied rows.
struct StoredSessions {
    backend: crate::Backend,
    table: &'static str,
    /// The provider's column.
    provider: &'static str,
    /// The columns a re-sent session is compared on, named alike in the staged rows.
    compared: &'static str,
}

const SQLITE_SESSIONS: StoredSessions = StoredSessions {
    backend: crate::Backend::Sqlite,
    table: "session_rows",
    provider: "provider",
    compared: "district, student_id, tutor, day, minutes, status, group_size, subject",
};

const POSTGRES_SESSIONS: StoredSessions = StoredSessions {
    backend: crate::Backend::Postgres,
    table: "sessions",
    provider: "provider_id",
    compared:
        "district_id, student_id, tutor_id, session_date, minutes, status, group_size, subject",
};

impl StoredSessions {
    fn of(backend: crate::Backend) -> &'static StoredSessions {
        match backend {
            crate::Backend::Sqlite => &SQLITE_SESSIONS,
            crate::Backend::Postgres => &POSTGRES_SESSIONS,
        }
    }

    /// `s.<provider> = <the provider bound as param>`.
    fn of_provider(&self, alias: &str, param: &str) -> String {
        format!(
            "{alias}.{} = {}",
            self.provider,
            text_key(self.backend, param)
        )
    }

    /// True when the stored row `stored` and the staged row `staged` differ in a compared
    /// column.
    fn changed(&self, stored: &str, staged: &str) -> String {
        differs(stored, staged, self.compared)
    }
}

/// The kinds of import in [`crate::resends`], and their audit actions.
pub const SESSIONS_KIND: &str = "sessions";
pub const SESSIONS_ACTION: &str = "import.sessions";
pub const ASSESSMENTS_KIND: &str = "assessments";
pub const ASSESSMENTS_ACTION: &str = "import.assessments";

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub added: u64,
    pub replaced: u64,
    pub unchanged: u64,
}

impl ImportCounts {
    /// From the merge query's counts of staged rows: all, new, and changed.
    pub(crate) fn of(total: i64, added: i64, replaced: i64) -> ImportCounts {
        ImportCounts {
            added: added as u64,
            replaced: replaced as u64,
            unchanged: (total - added - replaced) as u64,
        }
    }

    /// The audit log's words for an import of `source`.
    pub(crate) fn describe(&self, source: &str) -> String {
        format!(
            "{source}: {} added, {} replaced, {} unchanged",
            self.added, self.replaced, self.unchanged
        )
    }

    /// The source and counts back from [`ImportCounts::describe`]'s words (anything after
    /// the counts, like a note in parentheses, is ignored); `None` for other wording.
    pub(crate) fn read_description(detail: &str) -> Option<(String, ImportCounts)> {
        let (source, counts) = detail.rsplit_once(": ")?;
        let mut numbers = counts.split(", ").map(|part| {
            let (n, _) = part.split_once(' ')?;
            n.parse::<u64>().ok()
        });
        let counts = ImportCounts {
            added: numbers.next()??,
            replaced: numbers.next()??,
            unchanged: numbers.next()??,
        };
        Some((source.to_string(), counts))
    }
}

#[cfg(test)]
mod description_tests {
    use super::ImportCounts;

    #[test]
    fn an_import_description_reads_back() {
        let counts = ImportCounts {
            added: 3,
            replaced: 1,
            unchanged: 20,
        };
        let detail = format!("{} (replaced versions kept)", counts.describe("a: b.csv"));
        assert_eq!(
            ImportCounts::read_description(&detail),
            Some(("a: b.csv".to_string(), counts))
        );
        assert_eq!(ImportCounts::read_description("4 schools added"), None);
    }
}

/// Ends an import: empties its staging table (a temporary table lives on with the pooled
/// connection), brings PostgreSQL's statistics of the table it merged into up to date, and
/// commits. Without them, the first statement after a large first import is planned for an
/// empty table: at 100,000 students each chunk's sessions read walked the whole district's
/// index and heap (350 ms a chunk instead of 20, two thirds of a finalization); autovacuum
/// analyzes the table only later. SQLite plans without statistics as well as with them here.
pub(crate) async fn finish(
    mut tx: Tx,
    backend: crate::Backend,
    staged: &'static str,
    merged_into: &'static str,
) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {staged}")))
        .execute(&mut *tx)
        .await?;
    if backend == crate::Backend::Postgres {
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {merged_into}")))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A session upload in progress for one provider.
pub struct SessionImport {
    /// Lent to the direct insert being written ([`SessionImport::settle`]).
    tx: Lent,
    backend: crate::Backend,
    provider: String,
    /// (line in the file, district, session).
    pending: Vec<(u64, String, Session)>,
    /// On PostgreSQL, where the rows are copied (read as `staged_sessions`).
    copy: Option<CopyStage>,
    /// On SQLite, the keys of the provider, districts and tutors staged so far.
    keys: Interned,
    /// On SQLite, until a row is not new: the rows go straight to `session_rows`; on
    /// PostgreSQL, for a provider with no stored session, the copied rows go straight to
    /// `sessions` when they are all there (crate::direct).
    direct: Option<Direct>,
}

/// A session id a file uses more than once: a later line, and the first line it was on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedSession {
    pub session_id: String,
    pub line: u64,
    pub first_line: u64,
}

/// An assessment-file import in progress for one district.
pub struct AssessmentImport {
    /// Lent to the direct insert being written ([`AssessmentImport::settle`]).
    tx: Lent,
    backend: crate::Backend,
    district: String,
    pending: Vec<AssessmentResult>,
    /// On PostgreSQL, where the rows are copied until they are staged.
    copy: Option<CopyStage>,
    /// On SQLite, the keys of the district, assessments, subjects and terms staged so far.
    keys: Interned,
    /// For a district with no stored test: on SQLite, until a test comes twice, the rows go
    /// straight to `assessment_rows`; on PostgreSQL the copied rows go straight to
    /// `assessment_results` when they are all there (crate::direct).
    direct: Option<Direct>,
}

impl Store {
    /// Starts a session upload for `provider` (created if new).
    pub async fn begin_sessions(&self, provider: &str) -> Result<SessionImport> {
        let mut tx = self.write_tx().await?;
        ensure_organisation(&mut tx, provider, "provider", provider).await?;
        let mut keys = Interned::new(TEXT_KEYS);
        let copy = match self.bulk.postgres_pool() {
            Some(pool) => {
                let copy =
                    CopyStage::begin(pool, &mut tx, "copy_sessions", STAGED_SESSION.into()).await?;
                // The merge reads them as SQLite's staging table; the import's end deletes
                // them through it.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE OR REPLACE TEMP VIEW staged_sessions AS {}",
                    copy.rows()
                )))
                .execute(&mut *tx)
                .await?;
                Some(copy)
            }
            None => None,
        };
        let direct = match copy {
            // Only for a provider with no stored session: its rows are then all new unless
            // the file repeats an id, which the primary key finds.
            Some(_) => {
                let owned = "FROM sessions WHERE provider_id = $1";
                Direct::when_none_stored(&mut tx, self.backend, owned, provider).await?
            }
            None => {
                // Made before the savepoint, so that its undoing keeps it.
                keys.key(&mut tx, provider).await?;
                Some(Direct::begin(&mut tx, self.backend).await?)
            }
        };
        Ok(SessionImport {
            tx: Lent::new(tx),
            backend: self.backend,
            provider: provider.to_string(),
            pending: Vec::with_capacity(BATCH),
            copy,
            keys,
            direct,
        })
    }

    /// Starts an assessment import for a district.
    pub async fn begin_assessments(&self, district: &str) -> Result<AssessmentImport> {
        let mut tx = self.write_tx().await?;
        // `ident` is a test's identity within the file (its TestID, else its natural key); the
        // index on the natural key serves the upgrade of tests stored before TestIDs were kept.
        // On SQLite the assessment, subject, term and date are encoded like `assessment_rows`.
        let coded = encoded_type(self.backend);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TEMP TABLE IF NOT EXISTS staged_tests (
                ident TEXT PRIMARY KEY,
                student_id TEXT NOT NULL, assessment {coded} NOT NULL, subject {coded} NOT NULL,
                term_name {coded} NOT NULL, test_date {coded} NOT NULL, start_seconds INTEGER NOT NULL,
                score TEXT, percentile TEXT, rapid_guessing_pct TEXT, growth_measure INTEGER NOT NULL,
                growth TEXT NOT NULL, test_id TEXT NOT NULL, norms TEXT);
             CREATE INDEX IF NOT EXISTS staged_tests_key ON staged_tests
                (student_id, assessment, subject, term_name, test_date, start_seconds);
             DELETE FROM staged_tests;"
        )))
        .execute(&mut *tx)
        .await?;
        let mut keys = Interned::new(TEXT_KEYS);
        let copy = match self.bulk.postgres_pool() {
            Some(pool) => {
                let columns = format!("line, ident, {TEST_COLUMNS}");
                Some(CopyStage::begin(pool, &mut tx, "copy_tests", columns).await?)
            }
            None => None,
        };
        if copy.is_none() {
            // Made before the savepoint, so that its undoing keeps it.
            keys.key(&mut tx, district).await?;
        }
        // Only for a district's first tests: a stored test may be matched by its natural key,
        // or take a TestID, which only the merge knows how to do.
        let owned = format!(
            "FROM {} WHERE district_id = {}",
            stored_table(self.backend, "assessment_rows", "assessment_results"),
            text_key(self.backend, "$1")
        );
        let direct = Direct::when_none_stored(&mut tx, self.backend, &owned, district).await?;
        Ok(AssessmentImport {
            tx: Lent::new(tx),
            backend: self.backend,
            district: district.to_string(),
            pending: Vec::with_capacity(BATCH),
            copy,
            keys,
            direct,
        })
    }

    /// The sessions of a provider for a district's students, grouped by student id, as they
    /// were after audit record `as_of` (`None`: now).
    pub async fn sessions_by_student(
        &self,
        provider: &str,
        district: &str,
        as_of: Option<i64>,
    ) -> Result<std::collections::HashMap<String, Vec<Session>>> {
        self.sessions_of(provider, district, None, as_of).await
    }

    /// [`Store::sessions_by_student`] of the students named (`None`: every student).
    pub(crate) async fn sessions_of(
        &self,
        provider: &str,
        district: &str,
        students: Option<&[&str]>,
        as_of: Option<i64>,
    ) -> Result<std::collections::HashMap<String, Vec<Session>>> {
        if self.backend == crate::Backend::Sqlite && as_of.is_none() {
            return self.compact_sessions_of(provider, district, students).await;
        }
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            String,
            Option<i64>,
            String,
        );
        let (filter, binds) = self.students_in("student_id", &[provider, district], students);
        let rows: Vec<Row> = self
            .bulk_rows(
                &format!(
                    "SELECT session_id, student_id, tutor_id, session_date, minutes, status, group_size, subject
                     FROM {} WHERE provider_id = $1 AND district_id = $2{filter}",
                    rows_as_of(SESSIONS, as_of)
                ),
                &binds,
            )
            .await?;
        by_student(rows.into_iter().map(
            |(session_id, student_id, tutor_id, date, minutes, status, group_size, subject)| {
                Ok(Session {
                    session_id,
                    student_id,
                    tutor_id,
                    date: crate::parse_date(&date)?,
                    minutes: stored_minutes(minutes)?,
                    status: obc_core::SessionStatus::parse(&status).ok_or_else(|| {
                        crate::StoreError::Corrupt(format!("session status {status}"))
                    })?,
                    group_size: group_size.and_then(|g| u32::try_from(g).ok()),
                    subject,
                })
            },
        ))
    }

    /// A district's test events of one subject, grouped by student id, in stored key order, as
    /// they were after audit record `as_of` (`None`: now).
    pub async fn results_by_student(
        &self,
        district: &str,
        subject: &str,
        as_of: Option<i64>,
    ) -> Result<std::collections::HashMap<String, Vec<AssessmentResult>>> {
        self.results_of(district, subject, None, as_of).await
    }

    /// [`Store::results_by_student`] of the students named (`None`: every student).
    pub(crate) async fn results_of(
        &self,
        district: &str,
        subject: &str,
        students: Option<&[&str]>,
        as_of: Option<i64>,
    ) -> Result<std::collections::HashMap<String, Vec<AssessmentResult>>> {
        let (filter, binds) = self.students_in("student_id", &[district, subject], students);
        let rows: Vec<ResultRow> = self
            .bulk_rows(
                &format!(
                    "{SELECT_RESULTS} {} WHERE district_id = $1 AND lower(subject) = lower($2){filter} ORDER BY {RESULT_KEY}",
                    rows_as_of(ASSESSMENTS, as_of)
                ),
                &binds,
            )
            .await?;
        let mut map: std::collections::HashMap<String, Vec<AssessmentResult>> =
            std::collections::HashMap::new();
        for row in rows {
            let result = decode_result(row)?;
            map.entry(result.student_id.clone())
                .or_default()
                .push(result);
        }
        Ok(map)
    }

    /// One student's test events, every subject.
    pub async fn student_results(
        &self,
        district: &str,
        student: &str,
    ) -> Result<Vec<AssessmentResult>> {
        let rows: Vec<ResultRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_RESULTS} assessment_results WHERE district_id = $1 AND student_id = $2 ORDER BY {RESULT_KEY}"
        )))
        .bind(district)
        .bind(student)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(decode_result).collect()
    }
}

/// Sessions grouped by their student's id.
pub(crate) fn by_student(
    sessions: impl Iterator<Item = Result<Session>>,
) -> Result<std::collections::HashMap<String, Vec<Session>>> {
    let mut map: std::collections::HashMap<String, Vec<Session>> = std::collections::HashMap::new();
    for session in sessions {
        let session = session?;
        match map.get_mut(&session.student_id) {
            Some(sessions) => sessions.push(session),
            None => {
                map.insert(session.student_id.clone(), vec![session]);
            }
        }
    }
    Ok(map)
}

/// A stored session's minutes (never negative: the tables' check).
pub(crate) fn stored_minutes(minutes: i64) -> Result<u32> {
    u32::try_from(minutes).map_err(|_| crate::StoreError::Corrupt(format!("minutes {minutes}")))
}

/// Where an assessment import stages its tests, and the table it merges them into.
const STAGED_TESTS: (&str, &str) = ("staged_tests", "assessment_results");

/// The key of `assessment_results` after the district: the order in which tests are read.
const RESULT_KEY: &str =
    "student_id, assessment, subject, term_name, test_date, start_seconds, test_id";

/// The natural key of a test (SPEC 3.2), its identity when it has no TestID.
const NATURAL_KEY: &str = "student_id, assessment, subject, term_name, test_date, start_seconds";

/// The columns of a test after its natural key.
const TEST_VALUES: &str = "score, percentile, rapid_guessing_pct, growth_measure, growth, norms";

/// Every column a staged test carries to `assessment_results`.
const TEST_COLUMNS: &str = "student_id, assessment, subject, term_name, test_date, start_seconds, \
    score, percentile, rapid_guessing_pct, growth_measure, growth, norms, test_id";

const SELECT_RESULTS: &str =
    "SELECT student_id, assessment, subject, term_name, test_date, start_seconds, score,
    percentile, rapid_guessing_pct, growth_measure, growth, test_id, norms FROM";

type ResultRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    String,
    String,
    Option<String>,
);

fn decode_result(row: ResultRow) -> Result<AssessmentResult> {
    let (
        student_id,
        assessment,
        subject,
        term_name,
        date,
        start,
        score,
        pct,
        rapid,
        gm,
        growth,
        test_id,
        norms,
    ) = row;
    Ok(AssessmentResult {
        student_id,
        assessment,
        subject,
        term_name,
        date: crate::parse_date(&date)?,
        start_seconds: u32::try_from(start).unwrap_or(0),
        score: parse_decimal(score)?,
        percentile: parse_decimal(pct)?,
        rapid_guessing_pct: parse_decimal(rapid)?,
        growth_measure: gm != 0,
        growth: decode_growth(&growth)?,
        test_id: Some(test_id).filter(|t| !t.is_empty()),
        norms,
    })
}

fn parse_decimal(text: Option<String>) -> Result<Option<Decimal>> {
    text.map(|t| {
        t.parse::<Decimal>()
            .map_err(|_| crate::StoreError::Corrupt(format!("decimal {t}")))
    })
    .transpose()
}

type GrowthCells = [[Option<String>; 3]; 3];

fn encode_growth(growth: &[WindowGrowth; 3]) -> String {
    let cells: GrowthCells = growth.clone().map(|g| {
        [g.projected, g.observed, g.conditional_growth_percentile].map(|d| d.map(|d| d.to_string()))
    });
    serde_json::to_string(&cells).expect("growth serializes")
}

fn decode_growth(text: &str) -> Result<[WindowGrowth; 3]> {
    let cells: GrowthCells = serde_json::from_str(text)
        .map_err(|e| crate::StoreError::Corrupt(format!("growth {text}: {e}")))?;
    let mut out: [WindowGrowth; 3] = Default::default();
    for (slot, [p, o, c]) in out.iter_mut().zip(cells) {
        *slot = WindowGrowth {
            projected: parse_decimal(p)?,
            observed: parse_decimal(o)?,
            conditional_growth_percentile: parse_decimal(c)?,
        };
    }
    Ok(out)
}

impl SessionImport {
    /// Adds one session of a student of `district`, from `line` of the file.
    pub async fn add(&mut self, line: u64, district: &str, session: Session) -> Result<Staging> {
        self.pending.push((line, district.to_string(), session));
        if !batch_full(self.pending.len(), &self.copy, &self.direct, &self.tx) {
            return Ok(Staging::Kept);
        }
        self.flush().await
    }

    /// Writes the rows still held; call it after the file's last row, before
    /// [`SessionImport::repeated_sessions`].
    pub async fn rows_done(&mut self) -> Result<Staging> {
        // The last batch may still be being written.
        let mut staging = self.flush().await?;
        if staging == Staging::Kept {
            staging = self.settle().await?;
        }
        if let Some(copy) = &mut self.copy {
            copy.sent().await?;
            let columns = format!("session_id, {}", POSTGRES_SESSIONS.compared);
            let owner = ("provider_id", self.provider.as_str());
            Direct::insert_copied(
                &mut self.direct,
                self.tx.idle(),
                "sessions",
                &columns,
                owner,
                "staged_sessions",
            )
            .await?;
        }
        Ok(staging)
    }

    async fn flush(&mut self) -> Result<Staging> {
        let bound = self.bound_while_writing()?;
        let settled = self.settle().await?;
        if settled == Staging::FromTheStart || (self.pending.is_empty() && bound.is_none()) {
            return Ok(settled);
        }
        if self.direct.is_some() && self.copy.is_none() {
            return self.write_directly(bound).await;
        }
        if let Some(copy) = &mut self.copy {
            for (line, district, s) in self.pending.drain(..) {
                copy.row()
                    .text(&s.session_id)
                    .number(Some(i64::try_from(line).unwrap_or(i64::MAX)))
                    .text(&district)
                    .text(&s.student_id)
                    .text(&s.tutor_id)
                    .text(&s.date.to_string())
                    .number(Some(i64::from(s.minutes)))
                    .text(s.status.as_str())
                    .number(s.group_size.map(i64::from))
                    .text(&s.subject)
                    .end();
            }
            copy.send().await?;
            return Ok(Staging::Kept);
        }
        let sql = format!(
            "INSERT INTO staged_sessions (session_id, line, {}) {}",
            SQLITE_SESSIONS.compared,
            crate::values(self.backend, self.pending.len(), 10)
        );
        let keys = self.keys_of_pending().await?;
        let (_, args) = self.bind_pending(keys, true)?;
        sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
            .execute(&mut **self.tx.idle())
            .await?;
        Ok(Staging::Kept)
    }

    /// The keys of the held rows' districts and tutors, in their order; a text met for the
    /// first time is stored (the transaction must be idle).
    async fn keys_of_pending(&mut self) -> Result<Vec<(i64, i64)>> {
        let mut keys = Vec::with_capacity(self.pending.len());
        for (_, district, s) in &self.pending {
            let district = self.keys.key(self.tx.idle(), district).await?;
            keys.push((district, self.keys.key(self.tx.idle(), &s.tutor_id).await?));
        }
        Ok(keys)
    }

    /// [`SessionImport::keys_of_pending`] when this import has met every text already: no
    /// query, so the transaction may be busy.
    fn known_keys_of_pending(&self) -> Option<Vec<(i64, i64)>> {
        let known = |text: &str| self.keys.cached(text);
        (self.pending.iter())
            .map(|(_, district, s)| Some((known(district)?, known(&s.tutor_id)?)))
            .collect()
    }

    /// The held rows bound as SQLite keeps them with their districts' and tutors' `keys`, and
    /// their lines' numbers when `lines`. Also how many rows.
    fn bind_pending(
        &mut self,
        keys: Vec<(i64, i64)>,
        lines: bool,
    ) -> Result<(usize, AnyArguments)> {
        let rows = self.pending.len();
        let mut args = AnyArguments::default();
        for ((line, _, s), keys) in std::mem::take(&mut self.pending).into_iter().zip(keys) {
            let line = i64::try_from(line).unwrap_or(i64::MAX);
            let then: &[i64] = if lines { &[line] } else { &[] };
            encode_session(&mut args, then, keys, s)?;
        }
        Ok((rows, args))
    }

    /// The held rows bound for a direct insert while the previous batch is being written, when
    /// every district and tutor they name has its key already (a new one needs the
    /// transaction, so such a batch is bound once it is settled). Binding 2,000 rows took a
    /// fifth of the time between two inserts, with SQLite waiting.
    fn bound_while_writing(&mut self) -> Result<Option<(usize, AnyArguments)>> {
        if self.copy.is_some() || !self.tx.busy() || self.pending.is_empty() {
            return Ok(None);
        }
        match self.known_keys_of_pending() {
            Some(keys) => self.bind_pending(keys, false).map(Some),
            None => Ok(None),
        }
    }

    /// Writes the held rows (or those `bound` already) to `session_rows` (crate::direct) while
    /// the caller reads the next rows ([`Lent`]); the next [`SessionImport::settle`] says
    /// whether they were kept: a row that is not new undoes every row written and turns the
    /// import to staging.
    async fn write_directly(&mut self, bound: Option<(usize, AnyArguments)>) -> Result<Staging> {
        let bound = match bound {
            Some(bound) => bound,
            None => {
                let keys = self.keys_of_pending().await?;
                self.bind_pending(keys, false)?
            }
        };
        let Some(direct) = self.direct.take() else {
            unreachable!("called for a direct import")
        };
        let provider = self.provider.clone();
        let provider = self.keys.key(self.tx.idle(), &provider).await?;
        let columns = format!("session_id, {}", SQLITE_SESSIONS.compared);
        let sql = direct.insert("session_rows", bound.0, &columns, ("provider", provider));
        self.tx
            .write(direct, sqlx::query_with(sqlx::AssertSqlSafe(sql), bound.1));
        Ok(Staging::Kept)
    }

    /// [`Lent::settle`], then staging from now on when the rows were not kept.
    async fn settle(&mut self) -> Result<Staging> {
        let staging = self.tx.settle(&mut self.direct, &mut self.pending).await?;
        if staging == Staging::FromTheStart {
            self.stage_from_now().await?;
        }
        Ok(staging)
    }

    /// Makes the import stage its rows from now on, its direct rows undone.
    async fn stage_from_now(&mut self) -> Result<()> {
        // Keys made since the savepoint went with it; the provider's was made before.
        self.keys = Interned::new(TEXT_KEYS);
        // Keyed by id and line, so that an id used twice stages both lines and
        // `repeated_sessions` names them. The staged rows live in their key's B-tree alone
        // (no rowid table beside it): one insert per row instead of two. They are encoded
        // like `session_rows`, so the merge compares and copies columns.
        sqlx::raw_sql(
            "CREATE TEMP TABLE IF NOT EXISTS staged_sessions (
                session_id TEXT NOT NULL, line BIGINT NOT NULL, district INTEGER NOT NULL,
                student_id TEXT NOT NULL, tutor INTEGER NOT NULL, day INTEGER NOT NULL,
                minutes INTEGER NOT NULL, status INTEGER NOT NULL, group_size INTEGER,
                subject TEXT NOT NULL, PRIMARY KEY (session_id, line)) WITHOUT ROWID;
             DELETE FROM staged_sessions;",
        )
        .execute(&mut **self.tx.idle())
        .await?;
        Ok(())
    }

    /// The session ids staged more than once (the file's mistake: an upload says what it
    /// means once): how many later lines repeat an id, and the first `limit` of them in file
    /// order. One ordered pass over the staged rows, instead of a map of every id in memory.
    pub async fn repeated_sessions(&mut self, limit: usize) -> Result<(u64, Vec<RepeatedSession>)> {
        crate::direct::all_kept(self.rows_done().await?)?;
        if self.direct.is_some() {
            // `session_rows`' unique index took every row: no id came twice.
            return Ok((0, Vec::new()));
        }
        let repeats = "FROM staged_sessions n JOIN (
                SELECT session_id, min(line) AS first_line FROM staged_sessions
                GROUP BY session_id HAVING count(*) > 1) f
             ON n.session_id = f.session_id AND n.line > f.first_line";
        let total: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) {repeats}")))
                .fetch_one(&mut **self.tx.idle())
                .await?;
        if total == 0 {
            return Ok((0, Vec::new()));
        }
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT n.session_id, n.line, f.first_line {repeats} ORDER BY n.line LIMIT $1"
        )))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut **self.tx.idle())
        .await?;
        let repeated = rows
            .into_iter()
            .map(|(session_id, line, first_line)| RepeatedSession {
                session_id,
                line: line as u64,
                first_line: first_line as u64,
            })
            .collect();
        Ok((total as u64, repeated))
    }

    /// Commits an import whose rows were written directly: every row was new.
    async fn commit_direct(
        mut self,
        direct: Direct,
        actor: &str,
        source: &str,
        digest: Option<&ImportDigest>,
    ) -> Result<ImportCounts> {
        let recorded = Recorded {
            actor,
            action: SESSIONS_ACTION,
            kind: SESSIONS_KIND,
            scope_kind: "provider",
            scope: &self.provider,
            digest,
        };
        let counts = direct
            .finish(self.tx.idle(), recorded, |counts| {
                sessions_described(counts, source)
            })
            .await?;
        match self.backend {
            // The copied rows go, as after a merge.
            crate::Backend::Postgres => {
                self.tx
                    .finish(self.backend, "staged_sessions", "sessions")
                    .await?
            }
            crate::Backend::Sqlite => self.tx.into_tx().commit().await?,
        }
        Ok(counts)
    }

    /// Merges the staged sessions and commits; `source` names the file for the audit log.
    /// `digest` (when the caller has one) lets an identical re-send of the file be recognised
    /// (see [`crate::resends`]).
    pub async fn commit(
        mut self,
        actor: &str,
        source: &str,
        digest: Option<&ImportDigest>,
    ) -> Result<ImportCounts> {
        crate::direct::all_kept(self.rows_done().await?)?;
        if let Some(direct) = self.direct.take() {
            return self.commit_direct(direct, actor, source, digest).await;
        }
        let stored = StoredSessions::of(self.backend);
        let (total, added, replaced): (i64, i64, i64) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT count(*),
                    count(*) - count(s.session_id),
                    CAST(coalesce(sum(CASE WHEN s.session_id IS NOT NULL AND {}
                        THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM staged_sessions n LEFT JOIN {} s ON {} AND s.session_id = n.session_id",
                stored.changed("s", "n"),
                stored.table,
                stored.of_provider("s", "$1"),
            )))
            .bind(&self.provider)
            .fetch_one(&mut **self.tx.idle())
            .await?;
        let counts = ImportCounts::of(total, added, replaced);
        let audit_id = audit(
            self.tx.idle(),
            actor,
            SESSIONS_ACTION,
            &format!("provider:{}", self.provider),
            &sessions_described(&counts, source),
        )
        .await?;
        if replaced > 0 {
            // The replaced versions, read as text through `sessions` (a view on SQLite).
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO session_history (provider_id, session_id, district_id, student_id, tutor_id,
                        session_date, minutes, status, group_size, replaced_at, replaced_by, subject, written_by)
                 SELECT v.provider_id, v.session_id, v.district_id, v.student_id, v.tutor_id, v.session_date,
                        v.minutes, v.status, v.group_size, $1, $2, v.subject, v.written_by
                 FROM sessions v
                 WHERE v.provider_id = $3 AND v.session_id IN (
                    SELECT n.session_id FROM staged_sessions n JOIN {} s
                        ON {} AND s.session_id = n.session_id
                    WHERE {})",
                stored.table,
                stored.of_provider("s", "$3"),
                stored.changed("s", "n"),
            )))
            .bind(crate::now())
            .bind(audit_id)
            .bind(&self.provider)
            .execute(&mut **self.tx.idle())
            .await?;
        }
        match self.backend {
            crate::Backend::Postgres => {
                merge_sessions_postgres(self.tx.idle(), &self.provider, audit_id).await?
            }
            crate::Backend::Sqlite => {
                merge_sessions_sqlite(self.tx.idle(), &self.provider, audit_id).await?
            }
        }
        crate::resends::remember(
            self.tx.idle(),
            SESSIONS_KIND,
            &self.provider,
            digest,
            total as u64,
            audit_id,
        )
        .await?;
        self.tx
            .finish(self.backend, "staged_sessions", "sessions")
            .await?;
        Ok(counts)
    }
}

/// Binds session `s` as SQLite keeps it: its id, the numbers `then`, and the columns of
/// `compared`, its district's and tutor's texts by their `keys`.
fn encode_session(
    args: &mut AnyArguments,
    then: &[i64],
    (district, tutor): (i64, i64),
    s: Session,
) -> Result<()> {
    let bound = (|| {
        args.add(s.session_id)?;
        for n in then {
            args.add(*n)?;
        }
        args.add(district)?;
        args.add(s.student_id)?;
        args.add(tutor)?;
        args.add(day_number(s.date))?;
        args.add(i64::from(s.minutes))?;
        args.add(status_code(s.status))?;
        args.add(s.group_size.map(i64::from))?;
        args.add(s.subject)
    })();
    bound.map_err(|e| crate::StoreError::Db(sqlx::Error::Encode(e)))
}

/// Whether an import holds enough rows (`held`) to write them: a block of `COPY` on
/// PostgreSQL, one direct insert (the import writes directly while it has its `Direct`, or
/// while an insert holds its transaction), or one staging insert.
fn batch_full(held: usize, copy: &Option<CopyStage>, direct: &Option<Direct>, tx: &Lent) -> bool {
    let rows = match (copy, direct.is_some() || tx.busy()) {
        (Some(_), _) => crate::copy_stage::ROWS,
        (None, true) => crate::direct::ROWS,
        (None, false) => BATCH,
    };
    held >= rows
}

/// The audit log's words for a sessions import of `source`.
fn sessions_described(counts: &ImportCounts, source: &str) -> String {
    format!(
        "{} (replaced versions kept in session_history)",
        counts.describe(source)
    )
}

/// SQLite's merge of the staged sessions into `session_rows`: new rows added, changed rows
/// replaced, identical rows left alone, in one statement.
async fn merge_sessions_sqlite(tx: &mut Tx, provider: &str, audit_id: i64) -> Result<()> {
    let columns = SQLITE_SESSIONS.compared;
    let set = set_excluded(&format!("{columns}, written_by"));
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO session_rows AS s (provider, session_id, {columns}, written_by)
             SELECT {}, session_id, {columns}, $2
             FROM staged_sessions WHERE true
             ON CONFLICT (provider, session_id) DO UPDATE SET {set}
             WHERE {}",
        text_key(crate::Backend::Sqlite, "$1"),
        SQLITE_SESSIONS.changed("s", "excluded"),
    )))
    .bind(provider)
    .bind(audit_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// PostgreSQL's merge of the staged sessions: the changed rows updated, then the new ones
/// inserted. The same result as SQLite's one `INSERT ... ON CONFLICT DO UPDATE`, which on
/// PostgreSQL tries every row's insert speculatively first: 15 s of a 2.4-million-row first
/// import, against 9 s for the plain insert.
async fn merge_sessions_postgres(tx: &mut Tx, provider: &str, audit_id: i64) -> Result<()> {
    let columns = POSTGRES_SESSIONS.compared;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE sessions s SET {}, written_by = $2
         FROM staged_sessions n
         WHERE s.provider_id = $1 AND s.session_id = n.session_id AND {}",
        columns
            .split(", ")
            .map(|c| format!("{c} = n.{c}"))
            .collect::<Vec<_>>()
            .join(", "),
        POSTGRES_SESSIONS.changed("s", "n"),
    )))
    .bind(provider)
    .bind(audit_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sessions (provider_id, session_id, {columns}, written_by)
         SELECT $1, n.session_id, {}, $2
         FROM staged_sessions n
         WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.provider_id = $1 AND s.session_id = n.session_id)",
        qualified("n", columns),
    )))
    .bind(provider)
    .bind(audit_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A staged test's identity within one file: its TestID, else its natural key (JSON, so that
/// no two keys run together).
fn staged_ident(r: &AssessmentResult) -> String {
    match &r.test_id {
        Some(id) => format!("id:{id}"),
        None => {
            let key = (
                &r.student_id,
                &r.assessment,
                &r.subject,
                &r.term_name,
                r.date.to_string(),
                r.start_seconds,
            );
            format!(
                "key:{}",
                serde_json::to_string(&key).expect("a key serializes")
            )
        }
    }
}

/// The two kinds of staged tests and how each finds its stored version: (which staged tests,
/// how a stored `r` matches a staged `n`, the conflict target of the merge, the columns a
/// newer version may change). With a TestID everything but the TestID may change (a rescore,
/// a corrected date); without one the natural key is the identity. The literal
/// `r.test_id <> ''` lets both backends use the partial unique index.
const TEST_KINDS: [(&str, &str, &str, &str); 2] = [
    (
        "test_id <> ''",
        "r.test_id = n.test_id AND r.test_id <> ''",
        "(district_id, test_id) WHERE test_id <> ''",
        "student_id, assessment, subject, term_name, test_date, start_seconds, score, percentile, \
         rapid_guessing_pct, growth_measure, growth, norms",
    ),
    (
        "test_id = ''",
        "r.test_id = '' AND r.student_id = n.student_id AND r.assessment = n.assessment
         AND r.subject = n.subject AND r.term_name = n.term_name AND r.test_date = n.test_date
         AND r.start_seconds = n.start_seconds",
        "(district_id, student_id, assessment, subject, term_name, test_date, start_seconds, test_id)",
        TEST_VALUES,
    ),
];

/// `columns` (comma-separated) each prefixed with `table.`.
fn qualified(table: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when row `old` differs from row `new` (table names or aliases) in one of `columns`
/// (comma-separated), NULLs compared as values: how every import tells a changed row.
pub(crate) fn differs(old: &str, new: &str, columns: &str) -> String {
    format!(
        "({}) IS DISTINCT FROM ({})",
        qualified(old, columns),
        qualified(new, columns)
    )
}

/// An upsert's `SET` list giving `columns` (comma-separated) their new values.
pub(crate) fn set_excluded(columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{0} = excluded.{0}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl AssessmentImport {
    /// Where the import writes: `assessment_rows` on SQLite (migration 26: the district,
    /// assessment, subject and term as keys of `text_keys`, the date as a day number, under
    /// the text table's column names, so that this SQL serves both), else `assessment_results`.
    fn stored_table(&self) -> &'static str {
        stored_table(self.backend, "assessment_rows", "assessment_results")
    }

    /// Stages one test event. A later row of the same test replaces an earlier one: the same
    /// TestID, or for a test without one the same (student, assessment, subject, term, date,
    /// start time).
    pub async fn add(&mut self, result: AssessmentResult) -> Result<Staging> {
        self.pending.push(result);
        if !batch_full(self.pending.len(), &self.copy, &self.direct, &self.tx) {
            return Ok(Staging::Kept);
        }
        self.flush().await
    }

    /// Writes the rows still held; call it after the file's last row, before
    /// [`AssessmentImport::commit`].
    pub async fn rows_done(&mut self) -> Result<Staging> {
        // The last batch may still be being written.
        let mut staging = self.flush().await?;
        if staging == Staging::Kept {
            staging = self.settle().await?;
        }
        if let Some(copy) = &mut self.copy {
            copy.sent().await?;
            // The last row of each test, as staging keeps it.
            let latest = format!(
                "(SELECT DISTINCT ON (ident) * FROM ({}) c ORDER BY ident, line DESC) AS t",
                copy.rows()
            );
            let owner = ("district_id", self.district.as_str());
            Direct::insert_copied(
                &mut self.direct,
                self.tx.idle(),
                "assessment_results",
                TEST_COLUMNS,
                owner,
                &latest,
            )
            .await?;
        }
        Ok(staging)
    }

    async fn flush(&mut self) -> Result<Staging> {
        let settled = self.settle().await?;
        if settled == Staging::FromTheStart || self.pending.is_empty() {
            return Ok(settled);
        }
        if self.direct.is_some() && self.copy.is_none() {
            return self.write_directly().await;
        }
        if let Some(copy) = &mut self.copy {
            for r in self.pending.drain(..) {
                let line = copy.next_line();
                copy.row()
                    .number(Some(line))
                    .text(&staged_ident(&r))
                    .text(&r.student_id)
                    .text(&r.assessment)
                    .text(&r.subject)
                    .text(&r.term_name)
                    .text(&r.date.to_string())
                    .number(Some(i64::from(r.start_seconds)))
                    .optional_text(r.score.map(|d| d.to_string()).as_deref())
                    .optional_text(r.percentile.map(|d| d.to_string()).as_deref())
                    .optional_text(r.rapid_guessing_pct.map(|d| d.to_string()).as_deref())
                    .number(Some(i64::from(r.growth_measure)))
                    .text(&encode_growth(&r.growth))
                    .optional_text(r.norms.as_deref())
                    .text(r.test_id.as_deref().unwrap_or_default())
                    .end();
            }
            copy.send().await?;
            return Ok(Staging::Kept);
        }
        // One statement may not touch a row twice (PostgreSQL refuses it), so a batch keeps
        // only the last row of each test; a later batch still replaces an earlier one.
        let mut seen = std::collections::HashSet::new();
        let mut batch: Vec<(String, AssessmentResult)> = self
            .pending
            .drain(..)
            .rev()
            .map(|r| (staged_ident(&r), r))
            .filter(|(ident, _)| seen.insert(ident.clone()))
            .collect();
        batch.reverse();
        let sql = format!(
            "INSERT INTO staged_tests (ident, {TEST_COLUMNS}) {} ON CONFLICT (ident) DO UPDATE SET {}",
            crate::values(self.backend, batch.len(), 14),
            set_excluded(TEST_COLUMNS)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (ident, r) in batch {
            q = self.bind_test(q.bind(ident), r).await?;
        }
        q.execute(&mut **self.tx.idle()).await?;
        Ok(Staging::Kept)
    }

    /// Binds the columns of `TEST_COLUMNS` of `r`: on SQLite keys and a day number, on
    /// PostgreSQL the texts.
    async fn bind_test<'q>(
        &mut self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        r: AssessmentResult,
    ) -> Result<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>> {
        q = q.bind(r.student_id);
        q = match self.backend {
            crate::Backend::Sqlite => q
                .bind(self.keys.key(self.tx.idle(), &r.assessment).await?)
                .bind(self.keys.key(self.tx.idle(), &r.subject).await?)
                .bind(self.keys.key(self.tx.idle(), &r.term_name).await?)
                .bind(day_number(r.date)),
            crate::Backend::Postgres => q
                .bind(r.assessment)
                .bind(r.subject)
                .bind(r.term_name)
                .bind(r.date.to_string()),
        };
        Ok(q.bind(i64::from(r.start_seconds))
            .bind(r.score.map(|d| d.to_string()))
            .bind(r.percentile.map(|d| d.to_string()))
            .bind(r.rapid_guessing_pct.map(|d| d.to_string()))
            .bind(i64::from(r.growth_measure))
            .bind(encode_growth(&r.growth))
            .bind(r.norms)
            .bind(r.test_id.unwrap_or_default()))
    }

    /// Writes the held rows to `assessment_rows` (crate::direct) while the caller reads the
    /// next rows ([`Lent`]); the next [`AssessmentImport::settle`] says whether they were kept:
    /// a test that comes twice undoes every row written and turns the import to staging.
    async fn write_directly(&mut self) -> Result<Staging> {
        let Some(direct) = self.direct.take() else {
            unreachable!("called for a direct import")
        };
        let district = self.district.clone();
        let district = self.keys.key(self.tx.idle(), &district).await?;
        let owner = ("district_id", district);
        let sql = direct.insert("assessment_rows", self.pending.len(), TEST_COLUMNS, owner);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in std::mem::take(&mut self.pending) {
            q = self.bind_test(q, r).await?;
        }
        self.tx.write(direct, q);
        Ok(Staging::Kept)
    }

    /// [`Lent::settle`]; when the rows were not kept, the keys made since the savepoint went
    /// with it (the district's was made before).
    async fn settle(&mut self) -> Result<Staging> {
        let staging = self.tx.settle(&mut self.direct, &mut self.pending).await?;
        if staging == Staging::FromTheStart {
            self.keys = Interned::new(TEXT_KEYS);
        }
        Ok(staging)
    }

    /// A test stored before TestIDs were kept (test_id '') takes the TestID of the staged test
    /// of the same natural key (the smallest, when a sitting has two), so that re-importing a
    /// file replaces it instead of adding a twin. The import's audit id is not known yet: an
    /// adopted row is marked by a negative `written_by` (-1 - the original) until
    /// [`AssessmentImport::keep_adopted`] moves its earlier version to the history. Returns how
    /// many rows were adopted.
    async fn adopt_test_ids(&mut self) -> Result<u64> {
        let t = self.stored_table();
        let district = text_key(self.backend, "$1");
        let staged_test_id = format!(
            "SELECT min(n.test_id) FROM staged_tests n
            WHERE n.test_id <> '' AND n.student_id = {t}.student_id
              AND n.assessment = {t}.assessment AND n.subject = {t}.subject
              AND n.term_name = {t}.term_name AND n.test_date = {t}.test_date
              AND n.start_seconds = {t}.start_seconds
              AND NOT EXISTS (SELECT 1 FROM {t} r
                  WHERE r.district_id = {district} AND r.test_id = n.test_id AND r.test_id <> '')"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {t} SET test_id = ({staged_test_id}), written_by = -1 - written_by
             WHERE district_id = {district} AND test_id = '' AND ({staged_test_id}) IS NOT NULL"
        )))
        .bind(&self.district)
        .execute(&mut **self.tx.idle())
        .await?;
        Ok(done.rows_affected())
    }

    /// Keeps the versions of the tests [`AssessmentImport::adopt_test_ids`] gave a TestID as
    /// they were (without one) in the history, replaced by import `audit_id`.
    async fn keep_adopted(&mut self, audit_id: i64) -> Result<()> {
        let columns = crate::versions::ASSESSMENTS.columns;
        let as_they_were = columns.replace("test_id", "''");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO assessment_history ({columns}, written_by, replaced_by)
             SELECT {as_they_were}, -1 - written_by, $1 FROM assessment_results
             WHERE district_id = $2 AND written_by < 0"
        )))
        .bind(audit_id)
        .bind(&self.district)
        .execute(&mut **self.tx.idle())
        .await?;
        sqlx::query(
            "UPDATE assessment_results SET written_by = $1 WHERE district_id = $2 AND written_by < 0",
        )
        .bind(audit_id)
        .bind(&self.district)
        .execute(&mut **self.tx.idle())
        .await?;
        Ok(())
    }

    /// Merges the staged results and commits. Replaced tests keep their earlier version in
    /// `assessment_history`; every row written records the import's audit id.
    /// `digest` as for sessions.
    pub async fn commit(
        mut self,
        actor: &str,
        source: &str,
        digest: Option<&ImportDigest>,
    ) -> Result<ImportCounts> {
        crate::direct::all_kept(self.rows_done().await?)?;
        if let Some(direct) = self.direct.take() {
            let recorded = Recorded {
                actor,
                action: ASSESSMENTS_ACTION,
                kind: ASSESSMENTS_KIND,
                scope_kind: "district",
                scope: &self.district,
                digest,
            };
            let counts = direct
                .finish(self.tx.idle(), recorded, |counts| counts.describe(source))
                .await?;
            if let Some(copy) = self.copy.take() {
                copy.delete(self.tx.idle()).await?;
            }
            self.tx
                .finish(self.backend, STAGED_TESTS.0, STAGED_TESTS.1)
                .await?;
            return Ok(counts);
        }
        if let Some(copy) = self.copy.take() {
            // The copied rows staged as the inserts stage them: a later row of a test
            // replaces an earlier one.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO staged_tests (ident, {TEST_COLUMNS})
                 SELECT DISTINCT ON (ident) ident, {TEST_COLUMNS} FROM ({}) c
                 ORDER BY ident, line DESC",
                copy.rows()
            )))
            .execute(&mut **self.tx.idle())
            .await?;
            copy.delete(self.tx.idle()).await?;
        }
        let adopted = self.adopt_test_ids().await?;
        let stored = self.stored_table();
        let backend = self.backend;
        let district = |param| text_key(backend, param);
        let mut counts = ImportCounts::default();
        let all = format!("{NATURAL_KEY}, {TEST_VALUES}");
        for (staged, matching, _, _) in TEST_KINDS {
            let (total, added, replaced): (i64, i64, i64) =
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT count(*), count(*) - count(r.student_id),
                        CAST(coalesce(sum(CASE WHEN r.student_id IS NOT NULL AND {}
                            THEN 1 ELSE 0 END), 0) AS BIGINT)
                 FROM staged_tests n LEFT JOIN {stored} r ON r.district_id = {} AND {matching}
                 WHERE n.{staged}",
                    differs("r", "n", &all),
                    district("$1"),
                )))
                .bind(&self.district)
                .fetch_one(&mut **self.tx.idle())
                .await?;
            let kind = ImportCounts::of(total, added, replaced);
            counts.added += kind.added;
            counts.replaced += kind.replaced;
            counts.unchanged += kind.unchanged;
        }
        let audit_id = audit(
            self.tx.idle(),
            actor,
            ASSESSMENTS_ACTION,
            &format!("district:{}", self.district),
            &counts.describe(source),
        )
        .await?;
        if adopted > 0 {
            self.keep_adopted(audit_id).await?;
        }
        for (staged, matching, conflict, values) in TEST_KINDS {
            // A row adopted above (written by this import) already has its history. The
            // replaced rows are compared as stored, and kept as the text `assessment_results`
            // reads (on SQLite, the view's `row_key` names them).
            let replaced = format!(
                "n.{staged} AND r.written_by <> $1 AND {}",
                differs("r", "n", values)
            );
            let source = match self.backend {
                crate::Backend::Postgres => format!(
                    "JOIN staged_tests n ON {matching} WHERE r.district_id = $2 AND {replaced}"
                ),
                crate::Backend::Sqlite => format!(
                    "WHERE r.row_key IN (SELECT r.rowid FROM staged_tests n
                        JOIN {stored} r ON r.district_id = {} AND {matching}
                        WHERE {replaced})",
                    district("$2")
                ),
            };
            sqlx::query(sqlx::AssertSqlSafe(crate::versions::keep_replaced(
                crate::versions::ASSESSMENTS,
                &source,
            )))
            .bind(audit_id)
            .bind(&self.district)
            .execute(&mut **self.tx.idle())
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {stored} (district_id, {TEST_COLUMNS}, written_by)
                 SELECT {}, {TEST_COLUMNS}, $2 FROM staged_tests WHERE {staged}
                 ON CONFLICT {conflict} DO UPDATE SET {}, written_by = excluded.written_by
                 WHERE {}",
                district("$1"),
                set_excluded(values),
                differs(stored, "excluded", values),
            )))
            .bind(&self.district)
            .bind(audit_id)
            .execute(&mut **self.tx.idle())
            .await?;
        }
        crate::resends::remember(
            self.tx.idle(),
            ASSESSMENTS_KIND,
            &self.district,
            digest,
            counts.added + counts.replaced + counts.unchanged,
            audit_id,
        )
        .await?;
        self.tx
            .finish(self.backend, STAGED_TESTS.0, STAGED_TESTS.1)
            .await?;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{add_all, stores};
    use obc_core::SessionStatus;

    fn session(id: &str, minutes: u32) -> Session {
        Session {
            session_id: id.into(),
            student_id: "s1".into(),
            tutor_id: "t1".into(),
            date: obc_core::model::parse_iso_date("2024-09-02").unwrap(),
            minutes,
            status: SessionStatus::Attended,
            group_size: None,
            subject: String::new(),
        }
    }

    async fn upload(store: &Store, sessions: &[Session]) -> ImportCounts {
        let mut import = store.begin_sessions("p1").await.unwrap();
        add_all(&mut import, "d1", (2..).zip(sessions)).await;
        import.commit("test", "file", None).await.unwrap()
    }

    #[tokio::test]
    async fn ids_staged_twice_are_named_with_their_first_line() {
        for store in stores().await {
            let mut import = store.begin_sessions("p1").await.unwrap();
            let sessions: Vec<(u64, Session)> = [
                (2, "s1"),
                (3, "s2"),
                (4, "s1"),
                (5, "s3"),
                (6, "s1"),
                (7, "s3"),
            ]
            .into_iter()
            .map(|(line, id)| (line, session(id, 30)))
            .collect();
            add_all(&mut import, "d1", sessions.iter().map(|(l, s)| (*l, s))).await;
            let repeated = |session_id: &str, line, first_line| RepeatedSession {
                session_id: session_id.into(),
                line,
                first_line,
            };
            assert_eq!(
                import.repeated_sessions(100).await.unwrap(),
                (
                    3,
                    vec![
                        repeated("s1", 4, 2),
                        repeated("s1", 6, 2),
                        repeated("s3", 7, 5)
                    ]
                )
            );
            assert_eq!(
                import.repeated_sessions(1).await.unwrap(),
                (3, vec![repeated("s1", 4, 2)]),
                "the count is whole, the list cut"
            );
            drop(import);
            let mut clean = store.begin_sessions("p1").await.unwrap();
            add_all(&mut clean, "d1", [(2, &session("s1", 30))]).await;
            assert_eq!(clean.repeated_sessions(100).await.unwrap(), (0, vec![]));
        }
    }

    /// Many direct batches, each bound while the one before is written, with new tutors in
    /// later batches (bound once the batch before is settled): every row is written once; an id
    /// repeated batches later still turns the import to staging, which names it.
    #[tokio::test]
    async fn direct_batches_bound_ahead_keep_every_row_and_still_find_a_late_repeat() {
        let sessions = |repeat_at: Option<usize>| -> Vec<Session> {
            (0..7_000)
                .map(|i| {
                    let id = match repeat_at {
                        Some(at) if i == at => "x10".to_string(),
                        _ => format!("x{i}"),
                    };
                    Session {
                        tutor_id: format!("t{}", i / 2_500),
                        ..session(&id, 30)
                    }
                })
                .collect()
        };
        for store in stores().await {
            let counts = upload(&store, &sessions(None)).await;
            assert_eq!((counts.added, counts.replaced), (7_000, 0));
            let stored = store.sessions_by_student("p1", "d1", None).await.unwrap();
            let tutors: std::collections::BTreeSet<&str> = stored
                .values()
                .flatten()
                .map(|s| s.tutor_id.as_str())
                .collect();
            assert_eq!(stored.values().map(Vec::len).sum::<usize>(), 7_000);
            assert_eq!(tutors.into_iter().collect::<Vec<_>>(), ["t0", "t1", "t2"]);

            let mut import = store.begin_sessions("p2").await.unwrap();
            let late = sessions(Some(6_500));
            add_all(&mut import, "d1", (2..).zip(&late)).await;
            let first = RepeatedSession {
                session_id: "x10".into(),
                line: 6_502,
                first_line: 12,
            };
            assert_eq!(
                import.repeated_sessions(10).await.unwrap(),
                (1, vec![first])
            );
        }
    }

    #[tokio::test]
    async fn resending_sessions_is_idempotent_and_replacements_keep_history() {
        for store in stores().await {
            let first: Vec<Session> = (0..1200).map(|i| session(&format!("x{i}"), 30)).collect();
            assert_eq!(
                upload(&store, &first).await,
                ImportCounts {
                    added: 1200,
                    replaced: 0,
                    unchanged: 0
                }
            );
            assert_eq!(
                upload(&store, &first).await,
                ImportCounts {
                    added: 0,
                    replaced: 0,
                    unchanged: 1200
                }
            );
            let resent = [session("x5", 45), session("new", 30)];
            assert_eq!(
                upload(&store, &resent).await,
                ImportCounts {
                    added: 1,
                    replaced: 1,
                    unchanged: 0
                }
            );
            let stored = store.sessions_by_student("p1", "d1", None).await.unwrap();
            let x5 = stored["s1"].iter().find(|s| s.session_id == "x5").unwrap();
            assert_eq!(x5.minutes, 45);
            let history: Vec<(String, i64)> =
                sqlx::query_as("SELECT session_id, minutes FROM session_history")
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
            assert_eq!(history, vec![("x5".to_string(), 30)]);
        }
    }

    #[tokio::test]
    async fn a_changed_subject_replaces_the_session_and_keeps_the_earlier_one() {
        for store in stores().await {
            upload(&store, &[session("x", 30)]).await;
            let mut math = session("x", 30);
            math.subject = "Mathematics".into();
            assert_eq!(upload(&store, &[math.clone()]).await.replaced, 1);
            assert_eq!(upload(&store, &[math]).await.unchanged, 1);
            let stored = store.sessions_by_student("p1", "d1", None).await.unwrap();
            assert_eq!(stored["s1"][0].subject, "Mathematics");
            let history: Vec<(String, String)> =
                sqlx::query_as("SELECT session_id, subject FROM session_history")
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
            assert_eq!(history, vec![("x".to_string(), String::new())]);
        }
    }

    #[tokio::test]
    async fn postgres_copies_sessions_and_a_dead_imports_copies_are_never_read() {
        let Some(store) = crate::test_support::fresh_postgres().await else {
            return;
        };
        let copied = |store: &Store| {
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM copy_sessions")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        // More than a block copied, then the import dies before its merge.
        let mut dead = store.begin_sessions("p1").await.unwrap();
        let rows = crate::copy_stage::ROWS as u64 + 10;
        for i in 0..rows {
            let _ = dead
                .add(i + 2, "d1", session(&format!("dead{i}"), 30))
                .await
                .unwrap();
        }
        drop(dead);
        // Its first block is copied on a task of its own, which outlives the import.
        let mut left = 0;
        for _ in 0..100 {
            left = copied(&store).await;
            if left > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(left, crate::copy_stage::ROWS as i64);
        // Texts a CSV could misread, and a group size, come back as they were.
        let mut odd = session("a,\"b\"\nc", 30);
        odd.subject = "Math, \"Algebra\"".into();
        odd.group_size = Some(3);
        let plain = session("", 0);
        assert_eq!(upload(&store, &[odd.clone(), plain.clone()]).await.added, 2);
        assert_eq!(copied(&store).await, 0, "the next import deletes them");
        let mut stored = store.sessions_by_student("p1", "d1", None).await.unwrap()["s1"].clone();
        stored.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        assert_eq!(stored, vec![plain, odd]);
    }

    /// The rows of `table`, how many imports wrote them, and how many were written by no
    /// record of `action` whose counts begin with `counts`.
    async fn written_by_imports(
        store: &Store,
        table: &str,
        action: &str,
        counts: &str,
    ) -> (i64, i64, i64) {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), count(DISTINCT written_by),
                CAST(coalesce(sum(CASE WHEN a.id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM {table} r LEFT JOIN audit_log a ON a.id = r.written_by
                AND a.action = '{action}' AND a.detail LIKE '%: {counts}, 0 unchanged%'"
        )))
        .fetch_one(&store.pool)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn new_sessions_go_straight_to_their_table_under_the_imports_audit_record() {
        for store in stores().await {
            let first: Vec<Session> = (0..700).map(|i| session(&format!("a{i}"), 30)).collect();
            let more: Vec<Session> = (0..700).map(|i| session(&format!("b{i}"), 30)).collect();
            for (file, sessions) in [("first", &first), ("more", &more)] {
                let mut import = store.begin_sessions("p1").await.unwrap();
                add_all(&mut import, "d1", (2..).zip(sessions.iter())).await;
                // PostgreSQL goes direct for a provider with no stored session only.
                assert_eq!(
                    import.direct.is_some(),
                    store.backend == crate::Backend::Sqlite || file == "first",
                    "{file}: none of its ids was stored"
                );
                let counts = import.commit("test", file, None).await.unwrap();
                assert_eq!(counts.added, 700);
            }
            assert_eq!(
                written_by_imports(&store, "sessions", SESSIONS_ACTION, "700 added, 0 replaced")
                    .await,
                (1400, 2, 0)
            );
            // A file with one stored id turns to staging, and stores the rest once.
            let mut import = store.begin_sessions("p1").await.unwrap();
            let mixed: Vec<Session> = (0..5)
                .map(|i| session(&format!("c{i}"), 30))
                .chain([session("a0", 45)])
                .collect();
            add_all(&mut import, "d1", (2..).zip(mixed.iter())).await;
            assert!(import.direct.is_none());
            let counts = import.commit("test", "mixed", None).await.unwrap();
            assert_eq!((counts.added, counts.replaced), (5, 1));
        }
    }

    #[tokio::test]
    async fn an_import_dropped_before_commit_leaves_nothing() {
        for store in stores().await {
            let mut import = store.begin_sessions("p1").await.unwrap();
            for i in 0..700 {
                let _ = import
                    .add(i + 2, "d1", session(&format!("x{i}"), 30))
                    .await
                    .unwrap();
            }
            drop(import);
            assert!(store
                .sessions_by_student("p1", "d1", None)
                .await
                .unwrap()
                .is_empty());
            assert_eq!(upload(&store, &[session("a", 1)]).await.added, 1);
        }
    }

    #[tokio::test]
    async fn results_round_trip_and_later_row_wins() {
        for store in stores().await {
            let mut r = AssessmentResult {
                student_id: "s1".into(),
                assessment: "MAP Growth".into(),
                subject: "Mathematics".into(),
                term_name: "Fall 2024-2025".into(),
                date: obc_core::model::parse_iso_date("2024-09-06").unwrap(),
                start_seconds: 0,
                score: Some(Decimal::from(211)),
                percentile: None,
                rapid_guessing_pct: Some(Decimal::from(15)),
                growth_measure: true,
                growth: Default::default(),
                test_id: None,
                norms: Some("2020".into()),
            };
            r.growth[1].projected = Some(Decimal::new(77, 1));
            let mut later = r.clone();
            later.score = Some(Decimal::from(212));
            let counts = import(&store, &[r.clone(), later.clone()]).await;
            assert_eq!(counts.added, 1);
            let stored = store
                .results_by_student("d1", "mathematics", None)
                .await
                .unwrap();
            assert_eq!(stored["s1"], vec![later]);
        }
    }

    fn test(test_id: Option<&str>, score: i64, growth_measure: bool) -> AssessmentResult {
        AssessmentResult {
            student_id: "s1".into(),
            assessment: "MAP Growth".into(),
            subject: "Reading".into(),
            term_name: "Spring 2013-2014".into(),
            date: obc_core::model::parse_iso_date("2014-03-17").unwrap(),
            start_seconds: 9 * 3600,
            score: Some(Decimal::from(score)),
            percentile: None,
            rapid_guessing_pct: None,
            growth_measure,
            growth: Default::default(),
            test_id: test_id.map(String::from),
            norms: None,
        }
    }

    async fn import(store: &Store, tests: &[AssessmentResult]) -> ImportCounts {
        let mut import = store.begin_assessments("d1").await.unwrap();
        // Again from the first test when the import turns to staging, as callers do.
        'file: loop {
            for t in tests {
                if import.add(t.clone()).await.unwrap() == Staging::FromTheStart {
                    continue 'file;
                }
            }
            if import.rows_done().await.unwrap() == Staging::Kept {
                break;
            }
        }
        import.commit("t", "f", None).await.unwrap()
    }

    fn counts(added: u64, replaced: u64, unchanged: u64) -> ImportCounts {
        ImportCounts {
            added,
            replaced,
            unchanged,
        }
    }

    #[tokio::test]
    async fn a_districts_first_tests_go_straight_to_their_table_under_the_imports_audit_record() {
        for store in stores().await {
            let first = store.begin_assessments("d1").await.unwrap();
            assert!(first.direct.is_some(), "no test of d1 is stored");
            drop(first);
            let tests = [test(Some("T1"), 157, true), test(Some("T2"), 152, false)];
            assert_eq!(import(&store, &tests).await, counts(2, 0, 0));
            assert_eq!(
                written_by_imports(
                    &store,
                    "assessment_results",
                    ASSESSMENTS_ACTION,
                    "2 added, 0 replaced"
                )
                .await,
                (2, 1, 0)
            );
            let again = store.begin_assessments("d1").await.unwrap();
            assert!(
                again.direct.is_none(),
                "d1 has stored tests: they are merged"
            );
        }
    }

    #[tokio::test]
    async fn tests_with_a_test_id_are_that_test_id() {
        for store in stores().await {
            // Two tests of one sitting, the end-of-course one last: both are kept.
            let growth = test(Some("T1"), 157, true);
            let end_of_course = test(Some("T2"), 152, false);
            let both = [growth.clone(), end_of_course.clone()];
            assert_eq!(import(&store, &both).await, counts(2, 0, 0));
            assert_eq!(import(&store, &both).await, counts(0, 0, 2));
            let stored = store
                .results_by_student("d1", "reading", None)
                .await
                .unwrap();
            assert_eq!(stored["s1"], both);
            // The same TestID again with a corrected date is a rescore: it replaces.
            let mut rescored = growth.clone();
            rescored.date = obc_core::model::parse_iso_date("2014-03-18").unwrap();
            rescored.score = Some(Decimal::from(158));
            assert_eq!(import(&store, &[rescored.clone()]).await, counts(0, 1, 0));
            let stored = store
                .results_by_student("d1", "reading", None)
                .await
                .unwrap();
            assert_eq!(stored["s1"], vec![end_of_course, rescored]);
        }
    }

    #[tokio::test]
    async fn a_test_stored_without_test_id_takes_the_test_id_of_its_sitting() {
        for store in stores().await {
            // Imported before TestIDs were kept: one row for the sitting.
            assert_eq!(
                import(&store, &[test(None, 152, false)]).await,
                counts(1, 0, 0)
            );
            let both = [test(Some("T1"), 157, true), test(Some("T2"), 152, false)];
            // T1 (the smaller id) takes over the stored row and replaces its values; T2 is new.
            assert_eq!(import(&store, &both).await, counts(1, 1, 0));
            let stored = store
                .results_by_student("d1", "reading", None)
                .await
                .unwrap();
            assert_eq!(stored["s1"], both);
            // A file without TestIDs keeps the natural key: the later row wins.
            let (first, later) = (test(None, 150, true), test(None, 151, true));
            assert_eq!(
                import(&store, &[first, later.clone()]).await,
                counts(1, 0, 0)
            );
            assert_eq!(
                store
                    .results_by_student("d1", "reading", None)
                    .await
                    .unwrap()["s1"]
                    .len(),
                3
            );
        }
    }

    #[tokio::test]
    async fn an_adopted_or_rescored_test_reads_as_it_was_before_the_import() {
        for store in stores().await {
            import(&store, &[test(None, 152, false)]).await;
            let legacy = store.last_audit_id().await.unwrap();
            let both = [test(Some("T1"), 157, true), test(Some("T2"), 152, false)];
            import(&store, &both).await;
            let adopted = store.last_audit_id().await.unwrap();
            let rescored = test(Some("T1"), 158, true);
            import(&store, std::slice::from_ref(&rescored)).await;
            // The same file again writes nothing, not even history.
            assert_eq!(
                import(&store, std::slice::from_ref(&rescored)).await,
                counts(0, 0, 1)
            );
            let history: i64 = sqlx::query_scalar("SELECT count(*) FROM assessment_history")
                .fetch_one(&store.pool)
                .await
                .unwrap();
            assert_eq!(history, 2);
            let read = |as_of| {
                let store = store.clone();
                async move {
                    store
                        .results_by_student("d1", "reading", as_of)
                        .await
                        .unwrap()
                        .remove("s1")
                        .unwrap()
                }
            };
            assert_eq!(read(Some(legacy)).await, [test(None, 152, false)]);
            assert_eq!(read(Some(adopted)).await, both);
            assert_eq!(read(None).await, [rescored, both[1].clone()]);
        }
    }
}
