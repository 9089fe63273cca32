//! The ledger of finalized statements: double-entry postings, the stored lines and inputs, read
//! back for `obc ledger` and `obc ledger verify`.

use crate::{Result, Store, Tx};
use obc_core::Statement;

/// One ledger entry; the entries of a posting sum to zero.
/// What a finalized statement records of its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredInputs {
    /// Statements finalized before migration 10: a JSON copy of every input.
    Snapshot(String),
    /// The input rows as they were after audit record `audit_id` (see docs/ARCHITECTURE.md),
    /// whose canonical form hashes to `sha256` (the engine's inputs hash).
    AsOf { audit_id: i64, sha256: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub statement_id: i64,
    pub posting: String,
    pub account: String,
    pub amount_cents: i64,
    pub student_id: Option<String>,
    pub memo: String,
}

/// A statement line as stored in `statement_lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub student_id: String,
    pub rule: String,
    pub base_cents: i64,
    pub contingent_cents: i64,
}

/// Writes a finalized statement's postings, as obc-core builds them
/// ([`obc_core::postings::postings`]): two entries each, one row per entry.
pub(crate) async fn post(
    tx: &mut Tx,
    backend: crate::Backend,
    statement_id: i64,
    statement: &Statement,
    district: &str,
    provider: &str,
) -> Result<()> {
    let postings = obc_core::postings::postings(statement, district, provider);
    for chunk in postings.chunks(250) {
        let sql = format!(
            "INSERT INTO ledger_entries (statement_id, posting, account, amount_cents, student_id, memo) {}",
            crate::values(backend, chunk.len() * 2, 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for posting in chunk {
            for entry in &posting.entries {
                q = q
                    .bind(statement_id)
                    .bind(&posting.name)
                    .bind(&entry.account)
                    .bind(entry.amount_cents)
                    .bind(posting.student_id.as_deref())
                    .bind(&posting.memo);
            }
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// The ledger entries of a finalized statement, in posting order.
    pub async fn ledger_entries(&self, statement_id: i64) -> Result<Vec<LedgerEntry>> {
        let rows: Vec<(i64, String, String, i64, Option<String>, String)> = sqlx::query_as(
            "SELECT statement_id, posting, account, amount_cents, student_id, memo FROM ledger_entries
             WHERE statement_id = $1 ORDER BY id",
        )
        .bind(statement_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(statement_id, posting, account, amount_cents, student_id, memo)| LedgerEntry {
                    statement_id,
                    posting,
                    account,
                    amount_cents,
                    student_id,
                    memo,
                },
            )
            .collect())
    }

    /// The stored lines of a finalized statement, by student id.
    pub async fn stored_lines(&self, statement_id: i64) -> Result<Vec<StoredLine>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT student_id, rule, base_cents, contingent_cents FROM statement_lines WHERE statement_id = $1 ORDER BY student_id",
        )
        .bind(statement_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(student_id, rule, base_cents, contingent_cents)| StoredLine {
                    student_id,
                    rule,
                    base_cents,
                    contingent_cents,
                },
            )
            .collect())
    }

    /// What a finalized statement records of the inputs it was computed from.
    pub async fn stored_inputs(&self, statement_id: i64) -> Result<Option<StoredInputs>> {
        let as_of: Option<(i64, String)> = sqlx::query_as(
            "SELECT inputs_as_of, inputs_sha256 FROM statement_inputs_as_of WHERE statement_id = $1",
        )
        .bind(statement_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((audit_id, sha256)) = as_of {
            return Ok(Some(StoredInputs::AsOf { audit_id, sha256 }));
        }
        let json: Option<String> =
            sqlx::query_scalar("SELECT inputs_json FROM statement_inputs WHERE statement_id = $1")
                .bind(statement_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(json.map(StoredInputs::Snapshot))
    }

    /// Writes a consistent copy of the whole database to `path` while it stays in use.
    /// SQLite only: a PostgreSQL database is backed up with `pg_dump`.
    pub async fn backup(&self, path: &str) -> Result<()> {
        if self.backend == crate::Backend::Postgres {
            return Err(crate::StoreError::Conflict(
                "obc backup copies a SQLite database; back up a PostgreSQL database with pg_dump (and restore it with pg_restore or psql)".to_string(),
            ));
        }
        if std::path::Path::new(path).exists() {
            return Err(crate::StoreError::Conflict(format!(
                "{path} already exists; choose a new file"
            )));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
