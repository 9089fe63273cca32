//! Statement inputs and finalized statements. A finalized statement is written once and
//! never edited (triggers refuse UPDATE and DELETE); what it paid feeds later milestones.

use crate::ProviderEnrollments;
use crate::{audit, Result, Store, StoreError};
use obc_core::engine::StudentInput;
use obc_core::money::to_cents;
use obc_core::Enrollment;
use obc_core::{Contract, Statement};

/// How many students a chunk of [`StatementInputs`] holds: a few megabytes of rows, and few
/// enough ids for one query's binds on both backends.
const STUDENTS_PER_CHUNK: usize = 2000;

/// A contract's statement inputs, read a chunk of students at a time in canonical order (see
/// [`Store::statement_input_chunks`]).
///
/// The chunks are read and assembled on a thread of their own from the moment the inputs are
/// asked for, one chunk ahead of the caller: the database, the decoding of its rows and the
/// grouping by student use one core while the engine uses the other (the profile of a 100,000
/// student statement had the assembly on the engine's thread, a sixth of its time).
pub struct StatementInputs {
    students: usize,
    delivered: usize,
    chunks: tokio::sync::mpsc::Receiver<Result<Vec<StudentInput>>>,
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl StatementInputs {
    /// How many enrolled students the chunks hold in all.
    pub fn students(&self) -> usize {
        self.students
    }

    /// Gives every chunk to `each` in order (the next chunk is read meanwhile).
    pub async fn for_each<E: From<StoreError>>(
        mut self,
        mut each: impl FnMut(&[StudentInput]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        while let Some(chunk) = self.next_chunk().await? {
            each(&chunk)?;
        }
        Ok(())
    }

    /// The next students' inputs in canonical order; `None` after the last.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<StudentInput>>> {
        if let Some(chunk) = self.chunks.recv().await {
            let chunk = chunk?;
            self.delivered += chunk.len();
            return Ok(Some(chunk));
        }
        // The reader is done: every student delivered, or it stopped (a panic) and an
        // incomplete set of inputs must not pass for the whole.
        if let Some(reader) = self.reader.take() {
            reader.await.map_err(|e| {
                StoreError::Corrupt(format!("reading statement inputs stopped: {e}"))
            })?;
        }
        if self.delivered != self.students {
            return Err(StoreError::Corrupt(format!(
                "statement inputs: {} of {} students read",
                self.delivered, self.students
            )));
        }
        Ok(None)
    }
}

/// Reads the chunks of [`StatementInputs`], on its own thread.
struct ChunkReader {
    store: Store,
    contract: Contract,
    as_of: Option<i64>,
    enrollments: std::vec::IntoIter<Enrollment>,
    provider: ProviderEnrollments,
}

impl ChunkReader {
    /// Starts reading on a blocking thread, which drives the reads' futures itself; the
    /// channel holds one chunk, so the reader stays one ahead of the caller.
    fn start(mut self, students: usize) -> StatementInputs {
        let (sender, chunks) = tokio::sync::mpsc::channel(1);
        let runtime = tokio::runtime::Handle::current();
        let reader = tokio::task::spawn_blocking(move || {
            runtime.block_on(async move {
                while let Some(chunk) = self.next_chunk().await.transpose() {
                    let failed = chunk.is_err();
                    // A caller that stopped listening has dropped the receiver.
                    if sender.send(chunk).await.is_err() || failed {
                        break;
                    }
                }
            })
        });
        StatementInputs {
            students,
            delivered: 0,
            chunks,
            reader: Some(reader),
        }
    }

    async fn next_chunk(&mut self) -> Result<Option<Vec<StudentInput>>> {
        let enrollments: Vec<Enrollment> =
            self.enrollments.by_ref().take(STUDENTS_PER_CHUNK).collect();
        if enrollments.is_empty() {
            return Ok(None);
        }
        let (store, contract, as_of) = (&self.store, &self.contract, self.as_of);
        let ids: Vec<&str> = enrollments.iter().map(|e| e.student_id.as_str()).collect();
        // Three reads side by side: on SQLite each runs on a blocking thread of its own.
        let (mut students, mut sessions, mut tests) = tokio::try_join!(
            store.students_of(&contract.district, Some(&ids), as_of),
            store.sessions_of(&contract.provider, &contract.district, Some(&ids), as_of),
            store.results_of(&contract.district, &contract.subject, Some(&ids), as_of),
        )?;
        let mut inputs = enrollments
            .into_iter()
            .map(|enrollment| {
                let student = students.remove(&enrollment.student_id).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "student {} is enrolled in {} but not in district {}'s roster",
                        enrollment.student_id, contract.id, contract.district
                    ))
                })?;
                let (sessions, ambiguous_sessions) = obc_core::sessions_for_contract(
                    sessions.remove(&student.id).unwrap_or_default(),
                    &contract.subject,
                    self.provider.spans_of(&contract.district, &student.id),
                );
                Ok(StudentInput {
                    sessions,
                    ambiguous_sessions,
                    tests: tests.remove(&student.id).unwrap_or_default(),
                    student,
                    enrollment,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        obc_core::engine::canonicalize(&mut inputs);
        Ok(Some(inputs))
    }
}

/// A finalized statement as stored.
#[derive(Debug, Clone)]
pub struct StoredStatement {
    pub id: i64,
    pub contract_id: String,
    pub contract_version: u32,
    pub milestone: String,
    pub statement_date: String,
    pub content_sha256: String,
    pub total_cents: i64,
    pub content_json: String,
    pub finalized_at: String,
    pub finalized_by: String,
}

pub(crate) type StatementRow = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
);

pub(crate) fn stored(row: StatementRow) -> StoredStatement {
    let (
        id,
        contract_id,
        version,
        milestone,
        statement_date,
        content_sha256,
        total_cents,
        content_json,
        finalized_at,
        finalized_by,
    ) = row;
    StoredStatement {
        id,
        contract_id,
        contract_version: version as u32,
        milestone,
        statement_date,
        content_sha256,
        total_cents,
        content_json,
        finalized_at,
        finalized_by,
    }
}

const SELECT_STATEMENT: &str =
    "SELECT id, contract_id, contract_version, milestone, statement_date, content_sha256,
    total_cents, content_json, finalized_at, finalized_by FROM statements";

impl Store {
    /// Everything the engine needs for a contract's enrolled students, all at once (see
    /// [`Store::statement_input_chunks`]): for callers that keep every student's inputs.
    pub async fn statement_inputs(
        &self,
        contract: &Contract,
        as_of: Option<i64>,
    ) -> Result<Vec<StudentInput>> {
        let mut chunks = self.statement_input_chunks(contract, as_of).await?;
        let mut inputs = Vec::new();
        while let Some(chunk) = chunks.next_chunk().await? {
            inputs.extend(chunk);
        }
        Ok(inputs)
    }

    /// Everything the engine needs for a contract's enrolled students, in the engine's
    /// canonical order, read a chunk of students at a time so a statement never holds every
    /// session: roster record, enrollment, the contract provider's sessions that count for
    /// this contract (its subject or none; a blank-subject session of a student the provider's
    /// contracts enroll twice that day is set apart as ambiguous) and the district's tests of
    /// the subject. Students enrolled but missing from the roster are a data error.
    ///
    /// `as_of` reads every row as it was after that audit record (what a finalization with
    /// `inputs_as_of` used, see [`crate::versions`]); `None` reads the rows as they are now.
    /// Each chunk is its own read: a finalization refuses inputs imported meanwhile (see
    /// [`Store::finalize`]), and rows read as of an audit record never change.
    pub async fn statement_input_chunks(
        &self,
        contract: &Contract,
        as_of: Option<i64>,
    ) -> Result<StatementInputs> {
        let mut enrollments = self.enrollments_as_of(&contract.id, as_of).await?;
        // The engine's order is by bytes; the database's may follow a collation.
        enrollments.sort_by(|a, b| a.student_id.cmp(&b.student_id));
        let provider = self
            .provider_enrollments_as_of(&contract.provider, as_of)
            .await?;
        let students = enrollments.len();
        Ok(ChunkReader {
            store: self.clone(),
            contract: contract.clone(),
            as_of,
            enrollments: enrollments.into_iter(),
            provider,
        }
        .start(students))
    }

    /// The id of the newest audit record: the rows an import writes after it record a larger
    /// one. A finalization reads its inputs after taking this.
    pub async fn last_audit_id(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT CAST(coalesce(max(id), 0) AS BIGINT) FROM audit_log")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The newest audit record of an import of any kind (0 before the first): what a page
    /// computed from imported rows keys its cache by.
    pub async fn last_import_audit_id(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            // A range, not LIKE 'import.%': both backends read it from the action index.
            "SELECT CAST(coalesce(max(id), 0) AS BIGINT) FROM audit_log
             WHERE action >= 'import.' AND action < 'import/'",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Finalizes a computed statement: stores its canonical JSON, hash and lines. A milestone is
    /// finalized once; a later milestone already finalized blocks an earlier one.
    ///
    /// The inputs are not copied: the statement records `inputs_as_of`, the newest audit record
    /// when it is written, and its inputs hash, so the ledger can be verified by rebuilding the
    /// inputs as they were then (see [`crate::versions`]). `read_after` is
    /// [`Store::last_audit_id`] taken before the inputs were read: if an import wrote inputs
    /// since, they may not be what the statement was computed from, and nothing is stored.
    pub async fn finalize(
        &self,
        actor: &str,
        statement: &Statement,
        milestone_date: time::Date,
        district: &str,
        provider: &str,
        read_after: i64,
    ) -> Result<StoredStatement> {
        let mut tx = self.write_tx().await?;
        crate::reviews::check_may_finalize(&mut tx, &statement.contract_id, &statement.milestone)
            .await?;
        let inputs_as_of: i64 =
            sqlx::query_scalar("SELECT CAST(coalesce(max(id), 0) AS BIGINT) FROM audit_log")
                .fetch_one(&mut *tx)
                .await?;
        let imports_since: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM audit_log WHERE id > $1 AND action IN ({})",
            crate::versions::INPUT_WRITES
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
        .bind(read_after)
        .fetch_one(&mut *tx)
        .await?;
        if imports_since > 0 {
            return Err(StoreError::Conflict(format!(
                "the {} statement of {} was not finalized: data was imported while it was computed; finalize it again",
                statement.milestone, statement.contract_id
            )));
        }
        let existing: Option<(String, String)> = sqlx::query_as(
            "SELECT milestone, milestone_date FROM statements WHERE contract_id = $1 AND (milestone = $2 OR milestone_date >= $3)
             ORDER BY milestone_date LIMIT 1",
        )
        .bind(&statement.contract_id)
        .bind(&statement.milestone)
        .bind(milestone_date.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((milestone, date)) = existing {
            return Err(StoreError::Conflict(if milestone == statement.milestone {
                format!(
                    "the {} statement of {} is already finalized; finalized statements are never changed (corrections go on a later statement)",
                    milestone, statement.contract_id
                )
            } else {
                format!(
                    "the later milestone {milestone} ({date}) of {} is already finalized; milestones are finalized in date order",
                    statement.contract_id
                )
            }));
        }
        // Hashed and deflated as it is written: the text is never held whole.
        let (sha, deflated) = crate::statement_content::seal(statement);
        let total_cents = to_cents(statement.totals.statement_total);
        let now = crate::now();
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO statements (contract_id, contract_version, milestone, milestone_date, statement_date, inputs_hash,
                content_sha256, engine_version, total_cents, content_json, finalized_at, finalized_by,
                content_deflate)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(&statement.contract_id)
        .bind(i64::from(statement.contract_version))
        .bind(&statement.milestone)
        .bind(milestone_date.to_string())
        .bind(&statement.statement_date)
        .bind(&statement.inputs_hash)
        .bind(&sha)
        .bind(&statement.engine_version)
        .bind(total_cents)
        .bind("")
        .bind(&now)
        .bind(actor)
        .bind(deflated)
        .fetch_one(&mut *tx)
        .await?;
        for chunk in statement.lines.chunks(500) {
            let sql = format!(
                "INSERT INTO statement_lines (statement_id, student_id, rule, base_cents, contingent_cents) {}",
                crate::values(self.backend, chunk.len(), 5)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for l in chunk {
                q = q
                    .bind(id)
                    .bind(&l.student_id)
                    .bind(&l.rule)
                    .bind(to_cents(l.base_amount))
                    .bind(to_cents(l.contingent_amount));
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO statement_inputs_as_of (statement_id, inputs_as_of, inputs_sha256) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(inputs_as_of)
        .bind(&statement.inputs_hash)
        .execute(&mut *tx)
        .await?;
        crate::ledger::post(&mut tx, self.backend, id, statement, district, provider).await?;
        let audit_id = audit(
            &mut tx,
            actor,
            "statement.finalize",
            &format!(
                "contract:{}/milestone:{}",
                statement.contract_id, statement.milestone
            ),
            &format!(
                "version {}, total {}, sha256 {sha}, inputs {}",
                statement.contract_version, statement.totals.statement_total, statement.inputs_hash
            ),
        )
        .await?;
        crate::chain::link_statement(
            &mut tx,
            id,
            &statement.contract_id,
            &statement.milestone,
            Some(audit_id),
        )
        .await?;
        tx.commit().await?;
        Ok(StoredStatement {
            id,
            contract_id: statement.contract_id.clone(),
            contract_version: statement.contract_version,
            milestone: statement.milestone.clone(),
            statement_date: statement.statement_date.clone(),
            content_sha256: sha,
            total_cents,
            // Its record: the JSON is stored (deflated), and read back when asked for.
            content_json: String::new(),
            finalized_at: now,
            finalized_by: actor.to_string(),
        })
    }

    /// The finalized statement of a milestone, if any.
    pub async fn finalized(
        &self,
        contract_id: &str,
        milestone: &str,
    ) -> Result<Option<StoredStatement>> {
        match self
            .finalized_of(SELECT_STATEMENT, contract_id, milestone)
            .await?
        {
            Some(s) => Ok(self.with_content(vec![s]).await?.pop()),
            None => Ok(None),
        }
    }

    /// Statements read with `SELECT_STATEMENT`, with their JSON: those finalized since
    /// migration 20 keep it deflated in a column of its own, read and inflated here.
    async fn with_content(&self, statements: Vec<StoredStatement>) -> Result<Vec<StoredStatement>> {
        self.one_at_a_time(statements).all().await
    }

    fn one_at_a_time(&self, statements: Vec<StoredStatement>) -> FinalizedList<'_> {
        FinalizedList {
            store: self,
            records: statements.into_iter(),
        }
    }

    /// Every finalized statement, by contract then milestone date, one at a time.
    pub async fn finalized_statements(&self) -> Result<FinalizedList<'_>> {
        let statements = self.every_finalized(SELECT_STATEMENT).await?;
        Ok(self.one_at_a_time(statements))
    }

    /// A milestone's finalized statement as `select` reads it (with or without its JSON).
    pub(crate) async fn finalized_of(
        &self,
        select: &str,
        contract_id: &str,
        milestone: &str,
    ) -> Result<Option<StoredStatement>> {
        // `milestone || ''` keeps SQLite from answering by the (contract, milestone) unique
        // index, which is not covering: it then reads the record from the covering index of
        // migration 17 instead of walking the statement's JSON.
        let sql = format!("{select} WHERE contract_id = $1 AND milestone || '' = $2");
        let row: Option<StatementRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(contract_id)
            .bind(milestone)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(stored))
    }

    /// Every finalized statement as `select` reads it, by contract then milestone date.
    pub(crate) async fn every_finalized(&self, select: &str) -> Result<Vec<StoredStatement>> {
        let sql = format!("{select} ORDER BY contract_id, milestone_date");
        let rows: Vec<StatementRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(stored).collect())
    }

    /// The finalized statements of one contract, in milestone date order, one at a time.
    pub async fn finalized_statements_of(&self, contract_id: &str) -> Result<FinalizedList<'_>> {
        let sql = format!("{SELECT_STATEMENT} WHERE contract_id = $1 ORDER BY milestone_date");
        let rows: Vec<StatementRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(contract_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(self.one_at_a_time(rows.into_iter().map(stored).collect()))
    }

    /// The finalized statements of one contract dated before `before`, in milestone date
    /// order: those a statement of that date corrects.
    pub async fn finalized_statements_before(
        &self,
        contract_id: &str,
        before: time::Date,
    ) -> Result<FinalizedList<'_>> {
        let sql = format!(
            "{SELECT_STATEMENT} WHERE contract_id = $1 AND milestone_date < $2 ORDER BY milestone_date"
        );
        let rows: Vec<StatementRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(contract_id)
            .bind(before.to_string())
            .fetch_all(&self.pool)
            .await?;
        Ok(self.one_at_a_time(rows.into_iter().map(stored).collect()))
    }

    /// Whether any finalized statement used this contract (then its versions are frozen).
    pub async fn contract_is_used(&self, contract_id: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM statements WHERE contract_id = $1")
            .bind(contract_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }
}

/// Finalized statements whose JSON is read when each is taken ([`FinalizedList::next`]): a
/// state's statement is hundreds of megabytes of text, and callers need one at a time.
pub struct FinalizedList<'s> {
    store: &'s Store,
    records: std::vec::IntoIter<StoredStatement>,
}

impl FinalizedList<'_> {
    /// The next statement with its JSON (inflated when stored deflated).
    pub async fn next(&mut self) -> Result<Option<StoredStatement>> {
        let Some(mut s) = self.records.next() else {
            return Ok(None);
        };
        if s.content_json.is_empty() {
            s.content_json =
                crate::statement_content::read_deflated(&self.store.pool, s.id).await?;
        }
        Ok(Some(s))
    }

    /// The next statement with lines read as `L` (a reduced line) straight from its stored
    /// bytes, inflated and parsed a line at a time (crate::statement_lines): neither the text
    /// nor a whole statement is ever held. The parse runs on a blocking thread of its own, so a
    /// caller taking several statements before awaiting them parses them side by side (a
    /// state's two finalized statements are 2 GB of JSON). The record's `content_json` is left
    /// empty.
    pub async fn next_parsing<L: serde::de::DeserializeOwned + Send + 'static>(
        &mut self,
    ) -> Result<
        Option<(
            StoredStatement,
            impl std::future::Future<Output = Result<obc_core::Statement<L>>> + use<L>,
        )>,
    > {
        let Some(mut s) = self.records.next() else {
            return Ok(None);
        };
        let what = format!("finalized statement {}", s.id);
        let text = std::mem::take(&mut s.content_json);
        let deflated = match text.is_empty() {
            true => Some(crate::statement_content::deflated(&self.store.pool, s.id).await?),
            false => None,
        };
        let parsing = tokio::task::spawn_blocking({
            let what = what.clone();
            move || match deflated {
                Some(deflated) => crate::statement_content::parse_deflated(&what, deflated),
                None => crate::statement_lines::parse(text.as_bytes())
                    .map_err(|e| crate::statement_content::corrupt(&what, e)),
            }
        });
        let parsed = async move {
            parsing
                .await
                .map_err(|e| crate::statement_content::corrupt(&what, e))?
        };
        Ok(Some((s, parsed)))
    }

    /// Every statement left, with its JSON (for callers that hold them all anyway).
    pub async fn all(mut self) -> Result<Vec<StoredStatement>> {
        let mut all = Vec::with_capacity(self.records.len());
        while let Some(s) = self.next().await? {
            all.push(s);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::stores;
    use crate::{StoreError, StoredInputs};
    use obc_core::engine::{self, StatementRequest};

    const CONTRACT: &str = include_str!("../../core/tests/contract_example.toml");

    #[tokio::test]
    async fn a_finalization_records_its_inputs_as_of_and_refuses_inputs_imported_meanwhile() {
        for store in stores().await {
            let contract = obc_core::Contract::parse(CONTRACT).unwrap();
            store
                .ensure_organisation("ector", "district", "Ector")
                .await
                .unwrap();
            store
                .add_contract("t", &contract, CONTRACT, None)
                .await
                .unwrap();
            let milestone = &contract.milestones[0];
            let statement = engine::compute(StatementRequest {
                contract: &contract,
                contract_version: 1,
                contract_hash: crate::hex_sha256(CONTRACT.as_bytes()),
                milestone: &milestone.name,
                as_of: None,
                students: Vec::new().into(),
                prior: Default::default(),
            })
            .unwrap();
            let finalize = |read_after| {
                store.finalize("t", &statement, milestone.date, "ector", "fev", read_after)
            };
            // Inputs imported after they were read: they may not be what was computed.
            let read_after = store.last_audit_id().await.unwrap();
            store
                .import_roster("t", "roster", "ector", "Ector", &[], &[])
                .await
                .unwrap();
            let refused = finalize(read_after).await.unwrap_err();
            assert!(
                matches!(&refused, StoreError::Conflict(m) if m.contains("imported while it was computed")),
                "{refused}"
            );
            // Other audited actions meanwhile change no input.
            let read_after = store.last_audit_id().await.unwrap();
            store.audit("t", "user.login", "user:t", "").await.unwrap();
            let as_of = store.last_audit_id().await.unwrap();
            let stored = finalize(read_after).await.unwrap();
            assert_eq!(
                store.stored_inputs(stored.id).await.unwrap(),
                Some(StoredInputs::AsOf {
                    audit_id: as_of,
                    sha256: statement.inputs_hash.clone()
                })
            );
        }
    }
}
