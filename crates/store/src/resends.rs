//! Recognising an identical re-send (issue 9): a provider that sends the same sessions file
//! again must not pay for a second full import, since the merge would change nothing.
//!
//! Every import of a kind records, per organisation, what it wrote: the SHA-256 of the file's
//! bytes and of what it resolved beyond the file (each session's district), with its row count
//! and audit record. A later import with both digests equal changes nothing, provided no other
//! import of the kind and organisation came in between (then the row describes that one): the
//! merge only adds and replaces by key, and only imports of the kind write those rows.

use crate::{audit, Result, Store, Tx};

/// What an import of a file wrote, as recorded for the next one to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportDigest {
    /// SHA-256 of the file's bytes, hex.
    pub file_sha256: String,
    /// SHA-256 of what the import resolved that the file alone does not say, hex.
    pub rows_sha256: String,
}

/// The recorded digest of the latest import, with the audit record it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestImport {
    pub digest: ImportDigest,
    /// Rows it merged.
    pub rows: u64,
    pub audit_id: i64,
}

impl Store {
    /// The digest of the latest import of `kind` for `scope` (an organisation id), if recorded.
    pub async fn latest_import(&self, kind: &str, scope: &str) -> Result<Option<LatestImport>> {
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT file_sha256, rows_sha256, row_count, audit_id FROM import_digests
             WHERE kind = $1 AND scope = $2",
        )
        .bind(kind)
        .bind(scope)
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(file_sha256, rows_sha256, rows, audit_id)| LatestImport {
                digest: ImportDigest {
                    file_sha256,
                    rows_sha256,
                },
                rows: rows as u64,
                audit_id,
            }),
        )
    }

    /// Records a re-send of `latest` that changes nothing, in the audit log, under the write
    /// lock. `false` when another import of the kind came in meanwhile: then the caller
    /// imports the file in full.
    pub async fn record_identical_resend(
        &self,
        actor: &str,
        action: &str,
        record: &str,
        (kind, scope): (&str, &str),
        latest: &LatestImport,
        detail: &str,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT audit_id FROM import_digests WHERE kind = $1 AND scope = $2",
        )
        .bind(kind)
        .bind(scope)
        .fetch_optional(&mut *tx)
        .await?;
        if current != Some(latest.audit_id) {
            return Ok(false);
        }
        audit(&mut tx, actor, action, record, detail).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Inside an import's transaction: records what it wrote for the next import to compare with,
/// or forgets the last digest when the import has none (then nothing can be skipped).
pub(crate) async fn remember(
    tx: &mut Tx,
    kind: &str,
    scope: &str,
    digest: Option<&ImportDigest>,
    rows: u64,
    audit_id: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM import_digests WHERE kind = $1 AND scope = $2")
        .bind(kind)
        .bind(scope)
        .execute(&mut **tx)
        .await?;
    if let Some(d) = digest {
        sqlx::query(
            "INSERT INTO import_digests (kind, scope, file_sha256, rows_sha256, row_count, audit_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(kind)
        .bind(scope)
        .bind(&d.file_sha256)
        .bind(&d.rows_sha256)
        .bind(rows as i64)
        .bind(audit_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
