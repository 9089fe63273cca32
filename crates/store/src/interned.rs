//! Texts SQLite stores once and refers to by integer key: provider, district and tutor ids in
//! session rows (`text_keys`, migration 23), students' demographic flags (`flag_sets`,
//! migration 24). A state repeats a few thousand such texts across millions of rows.

use crate::{Result, Tx};
use std::collections::HashMap;

/// At most this many keys are remembered.
const REMEMBERED: usize = 100_000;

/// The keys of one table's texts, added as an import first meets them and remembered for the
/// rest of it. A real import meets a handful of districts, a few thousand tutors and a few
/// hundred flag sets; a hostile file naming a new tutor on every line only empties the map
/// now and then (each miss is then a lookup), so memory stays bounded.
pub(crate) struct Interned {
    table: &'static str,
    column: &'static str,
    keys: HashMap<String, i64>,
}

pub(crate) const TEXT_KEYS: (&str, &str) = ("text_keys", "text");
pub(crate) const FLAG_SETS: (&str, &str) = ("flag_sets", "flags");

impl Interned {
    pub(crate) fn new((table, column): (&'static str, &'static str)) -> Interned {
        Interned {
            table,
            column,
            keys: HashMap::new(),
        }
    }

    /// The key of `text`, stored first if new.
    pub(crate) async fn key(&mut self, tx: &mut Tx, text: &str) -> Result<i64> {
        if let Some(key) = self.keys.get(text) {
            return Ok(*key);
        }
        let (table, column) = (self.table, self.column);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT OR IGNORE INTO {table} ({column}) VALUES ($1)"
        )))
        .bind(text)
        .execute(&mut **tx)
        .await?;
        let key: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT key FROM {table} WHERE {column} = $1"
        )))
        .bind(text)
        .fetch_one(&mut **tx)
        .await?;
        if self.keys.len() >= REMEMBERED {
            self.keys.clear();
        }
        self.keys.insert(text.to_string(), key);
        Ok(key)
    }
}
