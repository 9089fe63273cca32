//! How SQLite stores its largest tables compactly (migrations 23-26): a text repeated across
//! millions of rows (a provider, district or tutor id, an assessment, subject or term, a set of
//! demographic flags) is stored once, in `text_keys` or `flag_sets`, and the rows hold its
//! integer key; a date is a day number, a session's status a code. Views named like the old
//! tables read them back as text, so readers never see the encoding; imports encode here, in
//! Rust, what the views decode in SQL (a test holds the two together), and the SQL they share
//! with PostgreSQL, which keeps text tables, names keys through [`text_key`].

use crate::{Backend, Result, Tx};
use obc_core::SessionStatus;
use std::collections::HashMap;

/// 1970-01-01 as a Julian day number.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// The table of repeated ids and names, and the table of flag sets: (table, text column).
pub(crate) const TEXT_KEYS: (&str, &str) = ("text_keys", "text");
pub(crate) const FLAG_SETS: (&str, &str) = ("flag_sets", "flags");

/// A status's code in `session_rows.status` (the view's `CASE` reads it back).
pub(crate) fn status_code(status: SessionStatus) -> i64 {
    match status {
        SessionStatus::Attended => 0,
        SessionStatus::StudentAbsent => 1,
        SessionStatus::DistrictCancelled => 2,
        SessionStatus::ProviderCancelled => 3,
    }
}

/// A date as a day number, days since 1970-01-01 (`session_rows.day`,
/// `assessment_rows.test_date`; the views' `date(day * 86400, 'unixepoch')` reads it back).
pub(crate) fn day_number(date: time::Date) -> i64 {
    i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY
}

/// What a compact column holds for the id bound as `param` (`$1`...): on SQLite its key in
/// `text_keys`, on PostgreSQL the id itself.
pub(crate) fn text_key(backend: Backend, param: &str) -> String {
    match backend {
        Backend::Sqlite => format!("(SELECT key FROM text_keys WHERE text = {param})"),
        Backend::Postgres => param.to_string(),
    }
}

/// Where an import writes a table's current rows: on SQLite its compact table (`compact`),
/// on PostgreSQL the text table (`text`, which SQLite reads through a view of that name).
pub(crate) fn stored_table(
    backend: Backend,
    compact: &'static str,
    text: &'static str,
) -> &'static str {
    match backend {
        Backend::Sqlite => compact,
        Backend::Postgres => text,
    }
}

/// The type of a staged column SQLite stages encoded (a key or a day number).
pub(crate) fn encoded_type(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "TEXT",
    }
}

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

impl Interned {
    pub(crate) fn new((table, column): (&'static str, &'static str)) -> Interned {
        Interned {
            table,
            column,
            keys: HashMap::new(),
        }
    }

    /// The key of `text`, stored first if new: one query for a text an earlier import
    /// stored, two for a new one.
    pub(crate) async fn key(&mut self, tx: &mut Tx, text: &str) -> Result<i64> {
        if let Some(key) = self.keys.get(text) {
            return Ok(*key);
        }
        let (table, column) = (self.table, self.column);
        let stored: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT key FROM {table} WHERE {column} = $1"
        )))
        .bind(text)
        .fetch_optional(&mut **tx)
        .await?;
        let key = match stored {
            Some(key) => key,
            None => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {table} ({column}) VALUES ($1) RETURNING key"
                )))
                .bind(text)
                .fetch_one(&mut **tx)
                .await?
            }
        };
        if self.keys.len() >= REMEMBERED {
            self.keys.clear();
        }
        self.keys.insert(text.to_string(), key);
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stores;
    use obc_core::Session;

    /// What the import encodes, the view decodes: every status, and dates from the first to
    /// the last a file may hold, across leap days.
    #[tokio::test]
    async fn the_view_reads_back_what_the_import_encodes() {
        for store in stores().await {
            round_trip(&store).await;
        }
    }

    async fn round_trip(store: &crate::Store) {
        let dates = [
            "0000-01-01",
            "1899-12-31",
            "1970-01-01",
            "2024-02-29",
            "9999-12-31",
        ];
        let mut sent = Vec::new();
        for (i, (date, status)) in dates
            .iter()
            .flat_map(|d| SessionStatus::ALL.map(|s| (*d, s)))
            .enumerate()
        {
            sent.push(Session {
                session_id: format!("s{i}"),
                student_id: "st".into(),
                tutor_id: format!("t{}", i % 3),
                date: crate::parse_date(date).unwrap(),
                minutes: 30,
                status,
                group_size: None,
                subject: String::new(),
            });
        }
        let mut import = store.begin_sessions("p").await.unwrap();
        crate::test_support::add_all(&mut import, "d", (0..).zip(&sent)).await;
        import.commit("test", "sessions.csv", None).await.unwrap();
        let mut read = store.sessions_by_student("p", "d", None).await.unwrap();
        let mut read = read.remove("st").unwrap();
        read.sort_by_key(|s| s.session_id[1..].parse::<usize>().unwrap());
        assert_eq!(read, sent);
    }
}
