//! PostgreSQL's bulk path for imports: `COPY`.
//!
//! An import's transaction runs on sqlx's `Any` driver, which cannot `COPY`. So its rows are
//! sent in blocks of [`ROWS`], each one `COPY <table> ... FROM STDIN (FORMAT csv)` on a
//! connection of the PostgreSQL driver's pool, into an unlogged table (migration 22:
//! `copy_sessions`, `copy_tests`, `copy_students`) under the import's key (its transaction id). A block is copied
//! whole or not at all, so no connection goes back to the pool in the middle of a `COPY`.
//!
//! A block is copied while the import parses the next one (at most one in flight, on a task of
//! its own); [`CopyStage::sent`] waits for the last before the import's transaction reads them.
//!
//! The import's transaction reads its key's rows, deletes them, and commits that with its
//! merge: sessions through a temporary view (`staged_sessions`), tests and students moved into
//! their temporary staging tables (a later row of a test or student replaces an earlier one). Rows of an
//! import that died are left behind, never read (no key matches them again), and deleted by the
//! next import of the kind: imports queue on the writer lock, so none runs while another begins.

use crate::{Result, Tx};
use sqlx::postgres::PgPool;

/// Rows per `COPY`: a few megabytes, so that the round trips do not count.
pub(crate) const ROWS: usize = 20_000;

/// Where an import copies its rows: `table (import_key, columns)`.
pub(crate) struct CopyStage {
    pool: PgPool,
    key: i64,
    table: &'static str,
    columns: String,
    buffer: Vec<u8>,
    /// Rows numbered so far ([`CopyStage::next_line`]).
    lines: i64,
    /// The block being copied.
    in_flight: Option<tokio::task::JoinHandle<Result<()>>>,
}

impl CopyStage {
    /// For the import whose transaction is `tx`, copying `columns` into `table`.
    pub(crate) async fn begin(
        pool: &PgPool,
        tx: &mut Tx,
        table: &'static str,
        columns: String,
    ) -> Result<CopyStage> {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut **tx)
            .await?;
        let key: i64 = sqlx::query_scalar("SELECT CAST(txid_current() AS BIGINT)")
            .fetch_one(&mut **tx)
            .await?;
        Ok(CopyStage {
            pool: pool.clone(),
            key,
            table,
            columns,
            buffer: Vec::new(),
            lines: 0,
            in_flight: None,
        })
    }

    /// The import's rows, for its transaction's SQL, once they are all [`CopyStage::sent`].
    pub(crate) fn rows(&self) -> String {
        debug_assert!(
            self.in_flight.is_none(),
            "read before every block was copied"
        );
        format!(
            "SELECT {} FROM {} WHERE import_key = {}",
            self.columns, self.table, self.key
        )
    }

    /// The next row's number, for tables where a later row of a key replaces an earlier one.
    pub(crate) fn next_line(&mut self) -> i64 {
        self.lines += 1;
        self.lines
    }

    /// Starts the next row of the block being built.
    pub(crate) fn row(&mut self) -> CsvRow<'_> {
        self.buffer
            .extend_from_slice(format!("{}", self.key).as_bytes());
        CsvRow(&mut self.buffer)
    }

    /// Copies the rows built since the last block, as one `COPY` on a task of its own, once
    /// the block before is copied: the caller builds the next block meanwhile.
    pub(crate) async fn send(&mut self) -> Result<()> {
        self.sent().await?;
        let (pool, buffer) = (self.pool.clone(), std::mem::take(&mut self.buffer));
        let sql = format!(
            "COPY {} (import_key, {}) FROM STDIN (FORMAT csv)",
            self.table, self.columns
        );
        self.in_flight = Some(tokio::spawn(copy_block(pool, sql, buffer)));
        Ok(())
    }

    /// Waits until every block sent is copied.
    pub(crate) async fn sent(&mut self) -> Result<()> {
        match self.in_flight.take() {
            Some(block) => block.await.map_err(|e| {
                crate::StoreError::Corrupt(format!("copying an import's rows stopped: {e}"))
            })?,
            None => Ok(()),
        }
    }

    /// Deletes the import's rows, in its transaction (once they are read or moved).
    pub(crate) async fn delete(&self, tx: &mut Tx) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE import_key = $1",
            self.table
        )))
        .bind(self.key)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// One `COPY` of a block of CSV rows, whole or not at all.
async fn copy_block(pool: PgPool, sql: String, block: Vec<u8>) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let mut copy = conn.copy_in_raw(&sql).await?;
    if let Err(e) = copy.send(block.as_slice()).await.map(|_| ()) {
        // The server answers an abort with an error of its own: the send's is the one.
        let _ = copy.abort("the import stopped").await;
        return Err(e.into());
    }
    copy.finish().await?;
    Ok(())
}

/// One CSV row being written, after its import key: each field is preceded by its comma.
pub(crate) struct CsvRow<'b>(&'b mut Vec<u8>);

impl CsvRow<'_> {
    /// A text, always quoted: an empty text stays empty (unquoted, it would be NULL) and no
    /// comma, quote or line break in a hostile file can end it early.
    pub(crate) fn text(self, value: &str) -> Self {
        self.0.extend_from_slice(b",\"");
        for byte in value.bytes() {
            if byte == b'"' {
                self.0.push(b'"');
            }
            self.0.push(byte);
        }
        self.0.push(b'"');
        self
    }

    /// A text or NULL (an empty unquoted field).
    pub(crate) fn optional_text(self, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.text(v),
            None => {
                self.0.push(b',');
                self
            }
        }
    }

    /// A number or NULL.
    pub(crate) fn number(self, value: Option<i64>) -> Self {
        self.0.push(b',');
        if let Some(v) = value {
            self.0.extend_from_slice(v.to_string().as_bytes());
        }
        self
    }

    /// Ends the row.
    pub(crate) fn end(self) {
        self.0.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::CsvRow;

    #[test]
    fn fields_are_quoted_their_quotes_doubled_and_nulls_left_empty() {
        let mut out = b"7".to_vec();
        CsvRow(&mut out)
            .text("a,\"b\"\nc")
            .text("")
            .optional_text(None)
            .number(Some(-3))
            .number(None)
            .end();
        assert_eq!(out, b"7,\"a,\"\"b\"\"\nc\",\"\",,-3,\n");
    }
}
