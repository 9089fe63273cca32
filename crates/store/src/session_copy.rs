//! PostgreSQL's bulk path for a sessions import: `COPY`.
//!
//! The import's transaction runs on sqlx's `Any` driver, which cannot `COPY`. So the rows are
//! sent in blocks of [`ROWS`], each one `COPY copy_sessions ... FROM STDIN (FORMAT csv)` on a
//! connection of its own, into an unlogged table (migration 22) under the import's key (its
//! transaction id). A block is copied whole or not at all, so no connection goes back to the
//! pool in the middle of a `COPY`. The import's transaction reads them through a temporary view,
//! `staged_sessions`, of its key's rows: the merge is the one both backends run, and the
//! import's end deletes them through the view, committed with the merge. Rows of an import that
//! died are left behind, never read (no key matches them again), and deleted by the next
//! import: imports queue on the writer lock, so none runs while another begins.

use crate::{Result, Tx};
use obc_core::Session;
use sqlx::postgres::PgPool;

/// Rows per `COPY`: a few megabytes, so that the round trips do not count.
pub(crate) const ROWS: usize = 20_000;

const COLUMNS: &str = "session_id, line, district_id, student_id, tutor_id, session_date, minutes, status, group_size, subject";

/// Where a sessions import copies its rows.
pub(crate) struct SessionCopy {
    pool: PgPool,
    key: i64,
    buffer: Vec<u8>,
}

impl SessionCopy {
    /// For the import whose transaction is `tx`, which then reads its rows as `staged_sessions`.
    pub(crate) async fn begin(pool: &PgPool, tx: &mut Tx) -> Result<SessionCopy> {
        sqlx::query("DELETE FROM copy_sessions")
            .execute(&mut **tx)
            .await?;
        let key: i64 = sqlx::query_scalar("SELECT CAST(txid_current() AS BIGINT)")
            .fetch_one(&mut **tx)
            .await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE OR REPLACE TEMP VIEW staged_sessions AS
             SELECT {COLUMNS} FROM copy_sessions WHERE import_key = {key}"
        )))
        .execute(&mut **tx)
        .await?;
        Ok(SessionCopy {
            pool: pool.clone(),
            key,
            buffer: Vec::new(),
        })
    }

    /// Copies `rows` (line in the file, district, session) as one block of CSV.
    pub(crate) async fn send(
        &mut self,
        rows: impl Iterator<Item = (u64, String, Session)>,
    ) -> Result<()> {
        let b = &mut self.buffer;
        b.clear();
        for (line, district, s) in rows {
            let group = s.group_size.map(|g| g.to_string()).unwrap_or_default();
            b.extend_from_slice(format!("{},", self.key).as_bytes());
            text(b, &s.session_id);
            b.extend_from_slice(format!(",{},", line.min(i64::MAX as u64)).as_bytes());
            for field in [&district, &s.student_id, &s.tutor_id, &s.date.to_string()] {
                text(b, field);
                b.push(b',');
            }
            b.extend_from_slice(format!("{},", s.minutes).as_bytes());
            text(b, s.status.as_str());
            // An empty unquoted field is NULL: no group size.
            b.extend_from_slice(format!(",{group},").as_bytes());
            text(b, &s.subject);
            b.push(b'\n');
        }
        let mut conn = self.pool.acquire().await?;
        let mut copy = conn
            .copy_in_raw(&format!(
                "COPY copy_sessions (import_key, {COLUMNS}) FROM STDIN (FORMAT csv)"
            ))
            .await?;
        if let Err(e) = copy.send(self.buffer.as_slice()).await {
            // The server answers an abort with an error of its own: the send's is the one.
            let _ = copy.abort("the import stopped").await;
            return Err(e.into());
        }
        copy.finish().await?;
        Ok(())
    }
}

/// A CSV field, always quoted: an empty text stays empty (unquoted, it would be NULL) and no
/// comma, quote or line break in a hostile file can end it early.
fn text(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    for byte in value.bytes() {
        if byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn a_field_is_quoted_and_its_quotes_doubled() {
        let mut out = Vec::new();
        text(&mut out, "a,\"b\"\nc");
        text(&mut out, "");
        assert_eq!(out, b"\"a,\"\"b\"\"\nc\"\"\"");
    }
}
