//! How SQLite keeps sessions (migration 23): `session_rows` holds the provider, district and
//! tutor ids as integer keys of `text_keys` (crate::interned), the date as days since
//! 1970-01-01 and the status as a code; the view `sessions` reads them back as the text columns every reader uses. At state
//! scale the text was most of the database. Imports encode here, in Rust, what the view
//! decodes in SQL; a test holds the two together. PostgreSQL keeps the text table.

use obc_core::SessionStatus;

/// 1970-01-01 as a Julian day number.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// A status's code in `session_rows.status` (the view's `CASE` reads it back).
pub(crate) fn status_code(status: SessionStatus) -> i64 {
    match status {
        SessionStatus::Attended => 0,
        SessionStatus::StudentAbsent => 1,
        SessionStatus::DistrictCancelled => 2,
        SessionStatus::ProviderCancelled => 3,
    }
}

/// A date as `session_rows.day`: days since 1970-01-01 (the view's `date(day * 86400,
/// 'unixepoch')` reads it back).
pub(crate) fn day_number(date: time::Date) -> i64 {
    i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY
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
        for (line, session) in sent.iter().enumerate() {
            import.add(line as u64, "d", session.clone()).await.unwrap();
        }
        import.commit("test", "sessions.csv", None).await.unwrap();
        let mut read = store.sessions_by_student("p", "d", None).await.unwrap();
        let mut read = read.remove("st").unwrap();
        read.sort_by_key(|s| s.session_id[1..].parse::<usize>().unwrap());
        assert_eq!(read, sent);
    }
}
