//! Multi-row upserts inside an import's transaction: one statement per batch of rows instead of
//! one round trip per row (a 100,000-student roster was 100,000 statements).

use crate::{Backend, Result, Tx};
use std::collections::HashSet;

/// Rows per statement: 8 columns x 500 rows stays far below both backends' parameter limits.
const BATCH: usize = 500;

/// A value of one row.
pub(crate) enum Cell {
    Text(Option<String>),
    Int(i64),
}

/// Rows waiting to be upserted by `INSERT INTO {table} ({columns}) VALUES ... {conflict}`.
pub(crate) struct Upserts {
    backend: Backend,
    head: String,
    conflict: String,
    columns: usize,
    rows: Vec<Vec<Cell>>,
    /// The keys of the pending rows: one statement may not upsert a key twice (PostgreSQL
    /// refuses it), so a repeated key flushes first and the later row wins, as row by row.
    keys: HashSet<String>,
}

impl Upserts {
    pub(crate) fn new(backend: Backend, table: &str, columns: &str, conflict: &str) -> Upserts {
        Upserts {
            backend,
            head: format!("INSERT INTO {table} ({columns}) "),
            conflict: conflict.to_string(),
            columns: columns.split(',').count(),
            rows: Vec::with_capacity(BATCH),
            keys: HashSet::new(),
        }
    }

    /// Adds a row whose key is `key`; writes a batch when it is full.
    pub(crate) async fn push(&mut self, tx: &mut Tx, key: &str, row: Vec<Cell>) -> Result<()> {
        debug_assert_eq!(row.len(), self.columns);
        if self.keys.contains(key) {
            self.flush(tx).await?;
        }
        self.keys.insert(key.to_string());
        self.rows.push(row);
        if self.rows.len() >= BATCH {
            self.flush(tx).await?;
        }
        Ok(())
    }

    /// Writes the pending rows.
    pub(crate) async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "{}{} {}",
            self.head,
            crate::values(self.backend, self.rows.len(), self.columns),
            self.conflict
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for cell in self.rows.drain(..).flatten() {
            query = match cell {
                Cell::Text(text) => query.bind(text),
                Cell::Int(n) => query.bind(n),
            };
        }
        query.execute(&mut **tx).await?;
        self.keys.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stores;

    #[tokio::test]
    async fn batches_write_every_row_and_a_repeated_key_keeps_the_later_row() {
        for store in stores().await {
            let mut tx = store.write_tx().await.unwrap();
            let mut upserts = Upserts::new(
                store.backend,
                "organisations",
                "id, kind, name",
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            );
            let text = |t: &str| Cell::Text(Some(t.to_string()));
            for i in 0..1234 {
                let id = format!("d{i:04}");
                let row = vec![text(&id), text("district"), text("first")];
                upserts.push(&mut tx, &id, row).await.unwrap();
            }
            // d1233 is still pending: the batch is written first, then the later row.
            let again = vec![text("d1233"), text("district"), text("second")];
            upserts.push(&mut tx, "d1233", again).await.unwrap();
            upserts.flush(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT id, name FROM organisations ORDER BY id")
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
            assert_eq!(rows.len(), 1234);
            assert_eq!(rows[1], ("d0001".to_string(), "first".to_string()));
            assert_eq!(rows[1233], ("d1233".to_string(), "second".to_string()));
        }
    }
}
