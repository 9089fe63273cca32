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

/// The status of a code of `session_rows.status` ([`status_code`]'s inverse).
pub(crate) fn status_of_code(code: i64) -> Option<SessionStatus> {
    SessionStatus::ALL
        .into_iter()
        .find(|s| status_code(*s) == code)
}

/// The date of a day number ([`day_number`]'s inverse).
pub(crate) fn date_of_day(day: i64) -> Option<time::Date> {
    let julian = i32::try_from(day.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()?;
    time::Date::from_julian_day(julian).ok()
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

    /// The key of `text` when this import has met it already: no query.
    pub(crate) fn cached(&self, text: &str) -> Option<i64> {
        self.keys.get(text).copied()
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

/// How many tutor keys one lookup of [`crate::Store::compact_sessions_of`] names.
const TUTORS_PER_LOOKUP: usize = 10_000;

impl crate::Store {
    /// [`crate::Store::sessions_by_student`] now, on SQLite, decoded here from `session_rows`
    /// instead of through the `sessions` view: a statement reads every session of a contract,
    /// and the view's per-row tutor lookup, date formatting and status text (parsed back by the
    /// reader) were most of the reading's time (1.2 s of SQLite's CPU against 0.26 s for the
    /// 2.4 million sessions of 100,000 students). Rows as of an audit record, which take the
    /// history's text rows too, still go through the view; a test holds the two together.
    pub(crate) async fn compact_sessions_of(
        &self,
        provider: &str,
        district: &str,
        students: Option<&[&str]>,
    ) -> Result<HashMap<String, Vec<obc_core::Session>>> {
        type Row = (String, String, i64, i64, i64, i64, Option<i64>, String);
        let (filter, binds) = self.students_in("r.student_id", &[provider, district], students);
        let rows: Vec<Row> = self
            .bulk_rows(
                &format!(
                    "SELECT r.session_id, r.student_id, r.tutor, r.day, r.minutes, r.status, r.group_size, r.subject
                     FROM session_rows r WHERE r.provider = {} AND r.district = {}{filter}",
                    text_key(Backend::Sqlite, "$1"),
                    text_key(Backend::Sqlite, "$2")
                ),
                &binds,
            )
            .await?;
        // The tutors' ids: one lookup for the few hundred keys of a chunk, in lists of at most
        // `TUTORS_PER_LOOKUP` (a hostile file may name a new tutor on every row).
        let keys: Vec<i64> = rows
            .iter()
            .map(|r| r.2)
            .collect::<std::collections::BTreeSet<i64>>()
            .into_iter()
            .collect();
        let mut tutors: HashMap<i64, String> = HashMap::new();
        for some in keys.chunks(TUTORS_PER_LOOKUP) {
            let some: Vec<String> = some.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT key, text FROM text_keys WHERE key IN ({})",
                some.join(", ")
            );
            tutors.extend(self.bulk_rows::<(i64, String)>(&sql, &[]).await?);
        }
        let corrupt = |what: String| crate::StoreError::Corrupt(what);
        crate::imports::by_student(rows.into_iter().map(
            |(session_id, student_id, tutor, day, minutes, status, group_size, subject)| {
                Ok(obc_core::Session {
                    tutor_id: tutors
                        .get(&tutor)
                        .ok_or_else(|| corrupt(format!("session {session_id}: tutor key {tutor}")))?
                        .clone(),
                    date: date_of_day(day)
                        .ok_or_else(|| corrupt(format!("session {session_id}: day {day}")))?,
                    minutes: crate::imports::stored_minutes(minutes)?,
                    status: status_of_code(status).ok_or_else(|| {
                        corrupt(format!("session {session_id}: status code {status}"))
                    })?,
                    group_size: group_size.and_then(|g| u32::try_from(g).ok()),
                    session_id,
                    student_id,
                    subject,
                })
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stores;
    use obc_core::Session;

    /// What the import encodes, both readers decode (the rows now from `session_rows`, the
    /// rows as of an audit record through the view): every status, dates from the first to the
    /// last a file may hold across leap days, group sizes and subjects or none.
    #[tokio::test]
    async fn sessions_read_back_as_imported_now_and_as_of_the_import() {
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
                group_size: (i % 2 == 0).then_some(i as u32),
                subject: if i % 3 == 0 {
                    "Math".into()
                } else {
                    String::new()
                },
            });
        }
        let mut import = store.begin_sessions("p").await.unwrap();
        crate::test_support::add_all(&mut import, "d", (0..).zip(&sent)).await;
        import.commit("test", "sessions.csv", None).await.unwrap();
        // Now (on SQLite straight from `session_rows`) and as of the import (through the view).
        let as_of = store.last_audit_id().await.unwrap();
        for as_of in [None, Some(as_of)] {
            let mut read = store.sessions_by_student("p", "d", as_of).await.unwrap();
            let mut read = read.remove("st").unwrap();
            read.sort_by_key(|s| s.session_id[1..].parse::<usize>().unwrap());
            assert_eq!(read, sent, "as of {as_of:?}");
        }
    }
}
