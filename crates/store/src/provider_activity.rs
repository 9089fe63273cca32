//! A provider's sessions counted for its console: by day, and no-shows by tutor and by school.

use crate::{Result, Store};

/// Sessions of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySessions {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Sessions recorded, whatever their status.
    pub recorded: u64,
    /// Sessions the student attended.
    pub attended: u64,
}

/// Sessions of one tutor or school, and how many the student missed (`student_absent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoShows {
    /// The tutor's id, or the school's name (its id when the roster gives no name).
    pub label: String,
    pub sessions: u64,
    pub no_shows: u64,
}

type CountRow = (String, i64, i64);

fn no_shows(rows: Vec<CountRow>) -> Vec<NoShows> {
    rows.into_iter()
        .map(|(label, sessions, no_shows)| NoShows {
            label,
            sessions: sessions as u64,
            no_shows: no_shows as u64,
        })
        .collect()
}

/// `count(*)` and the count of no-shows, as two BIGINT columns.
const COUNTS: &str = "count(*), CAST(coalesce(sum(CASE WHEN s.status = 'student_absent' THEN 1 ELSE 0 END), 0) AS BIGINT)";

impl Store {
    /// The provider's sessions per day, oldest first.
    pub async fn provider_sessions_by_day(&self, provider: &str) -> Result<Vec<DaySessions>> {
        let rows: Vec<CountRow> = sqlx::query_as(
            "SELECT session_date, count(*),
                    CAST(coalesce(sum(CASE WHEN status = 'attended' THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM sessions WHERE provider_id = $1 GROUP BY session_date ORDER BY session_date",
        )
        .bind(provider)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(date, recorded, attended)| DaySessions {
                date,
                recorded: recorded as u64,
                attended: attended as u64,
            })
            .collect())
    }

    /// The provider's sessions and no-shows per tutor, most no-shows first.
    pub async fn provider_no_shows_by_tutor(&self, provider: &str) -> Result<Vec<NoShows>> {
        let rows: Vec<CountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT s.tutor_id, {COUNTS} FROM sessions s WHERE s.provider_id = $1
             GROUP BY s.tutor_id ORDER BY 3 DESC, 1"
        )))
        .bind(provider)
        .fetch_all(&self.pool)
        .await?;
        Ok(no_shows(rows))
    }

    /// The provider's sessions and no-shows per school of the student (by the roster), most
    /// no-shows first.
    pub async fn provider_no_shows_by_school(&self, provider: &str) -> Result<Vec<NoShows>> {
        let rows: Vec<CountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT coalesce(sc.name, st.school_id, 'not on the roster'), {COUNTS}
             FROM sessions s
             LEFT JOIN students st ON st.district_id = s.district_id AND st.id = s.student_id
             LEFT JOIN schools sc ON sc.district_id = st.district_id AND sc.id = st.school_id
             WHERE s.provider_id = $1
             GROUP BY coalesce(sc.name, st.school_id, 'not on the roster') ORDER BY 3 DESC, 1"
        )))
        .bind(provider)
        .fetch_all(&self.pool)
        .await?;
        Ok(no_shows(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_providers_sessions_count_by_day_tutor_and_school() {
        for store in crate::test_support::stores().await {
            counts(store).await;
        }
    }

    async fn counts(store: Store) {
        store
            .ensure_organisation("d", "district", "District")
            .await
            .unwrap();
        store
            .ensure_organisation("p", "provider", "Provider")
            .await
            .unwrap();
        for (provider, id, student, tutor, date, status) in [
            ("p", "1", "s1", "T1", "2025-01-06", "attended"),
            ("p", "2", "s1", "T1", "2025-01-06", "student_absent"),
            ("p", "3", "s2", "T2", "2025-01-07", "student_absent"),
            ("p", "4", "s2", "T2", "2025-01-08", "provider_cancelled"),
            ("other", "5", "s2", "T2", "2025-01-08", "student_absent"),
        ] {
            sqlx::query(
                "INSERT INTO sessions (provider_id, session_id, district_id, student_id, tutor_id, session_date, minutes, status)
                 VALUES ($1, $2, 'd', $3, $4, $5, 30, $6)",
            )
            .bind(provider)
            .bind(id)
            .bind(student)
            .bind(tutor)
            .bind(date)
            .bind(status)
            .execute(&store.pool)
            .await
            .unwrap();
        }
        let days = store.provider_sessions_by_day("p").await.unwrap();
        assert_eq!(
            days.iter()
                .map(|d| (d.date.as_str(), d.recorded, d.attended))
                .collect::<Vec<_>>(),
            [
                ("2025-01-06", 2, 1),
                ("2025-01-07", 1, 0),
                ("2025-01-08", 1, 0)
            ]
        );
        let tutors = store.provider_no_shows_by_tutor("p").await.unwrap();
        assert_eq!(
            tutors
                .iter()
                .map(|t| (t.label.as_str(), t.sessions, t.no_shows))
                .collect::<Vec<_>>(),
            [("T1", 2, 1), ("T2", 2, 1)]
        );
        let schools = store.provider_no_shows_by_school("p").await.unwrap();
        assert_eq!(schools.len(), 1);
        assert_eq!(
            (
                schools[0].label.as_str(),
                schools[0].sessions,
                schools[0].no_shows
            ),
            ("not on the roster", 4, 2)
        );
    }
}
