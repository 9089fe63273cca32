//! Session verification (SPEC 6): the district's daily school attendance, imported all or
//! nothing like sessions, and the sessions marked attended on days the student was absent.
//!
//! Rows are staged in a temporary table in batches inside one transaction, then merged: new
//! rows are added, changed rows replace the stored ones, identical rows are left alone, so
//! re-sending a file changes nothing. Dropping an import without `commit` rolls it back.

use crate::{audit, ensure_organisation, ImportCounts, Result, Store, Tx};
use time::Date;

const BATCH: usize = 500;

/// An attendance upload in progress for one district.
pub struct SchoolAttendanceImport {
    tx: Tx,
    backend: crate::Backend,
    district: String,
    pending: Vec<(String, Date, bool)>,
}

/// A session the provider marked attended on a day the district recorded the student absent
/// from school: to be reviewed before it is paid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedSession {
    pub student_id: String,
    pub session_id: String,
    pub tutor_id: String,
    pub date: Date,
    pub minutes: u32,
}

impl Store {
    /// Starts a school attendance import for `district` (created if new).
    pub async fn begin_school_attendance(&self, district: &str) -> Result<SchoolAttendanceImport> {
        let mut tx = self.write_tx().await?;
        ensure_organisation(&mut tx, district, "district", district).await?;
        sqlx::raw_sql(
            "CREATE TEMP TABLE IF NOT EXISTS staged_school_attendance (
                student_id TEXT NOT NULL, date TEXT NOT NULL, present INTEGER NOT NULL,
                PRIMARY KEY (student_id, date));
             DELETE FROM staged_school_attendance;",
        )
        .execute(&mut *tx)
        .await?;
        Ok(SchoolAttendanceImport {
            tx,
            backend: self.backend,
            district: district.to_string(),
            pending: Vec::with_capacity(BATCH),
        })
    }

    /// How many student-days of school attendance a district has uploaded (0: none yet, so
    /// no session can be checked).
    pub async fn school_attendance_days(&self, district: &str) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM school_attendance WHERE district_id = $1")
                .bind(district)
                .fetch_one(&self.pool)
                .await?;
        Ok(n as u64)
    }

    /// The sessions of a contract (its provider, its district, its enrolled students) marked
    /// `attended` on a day the student was recorded absent from school, sorted by student, then
    /// date, then session id.
    pub async fn sessions_to_review(&self, contract_id: &str) -> Result<Vec<FlaggedSession>> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            // From the school absences to the sessions (CROSS JOIN keeps SQLite's planner to
            // that order): a district without attendance data, or with few absences, costs
            // nothing, where starting from the sessions would read millions of them.
            "SELECT s.student_id, s.session_id, s.tutor_id, s.session_date, s.minutes
             FROM school_attendance a
             CROSS JOIN sessions s
             JOIN enrollments e ON e.contract_id = $1 AND e.student_id = s.student_id
             WHERE a.present = 0
               AND a.district_id IN (SELECT district_id FROM contract_versions WHERE contract_id = $1)
               AND s.district_id = a.district_id AND s.student_id = a.student_id AND s.session_date = a.date
               AND s.status = 'attended'
               AND EXISTS (SELECT 1 FROM contract_versions c WHERE c.contract_id = $1
                           AND c.provider_id = s.provider_id AND c.district_id = s.district_id)
             ORDER BY s.student_id, s.session_date, s.session_id",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(student_id, session_id, tutor_id, date, minutes)| {
                Ok(FlaggedSession {
                    student_id,
                    session_id,
                    tutor_id,
                    date: crate::parse_date(&date)?,
                    minutes: u32::try_from(minutes)
                        .map_err(|_| crate::StoreError::Corrupt(format!("minutes {minutes}")))?,
                })
            })
            .collect()
    }
}

impl SchoolAttendanceImport {
    /// Stages one student-day; a later row for the same student and date replaces an earlier.
    pub async fn add(&mut self, student_id: &str, date: Date, present: bool) -> Result<()> {
        self.pending.push((student_id.to_string(), date, present));
        if self.pending.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // One statement may not touch a row twice (PostgreSQL refuses it): keep the last row
        // of each key in the batch.
        let mut seen = std::collections::HashSet::new();
        let mut batch: Vec<(String, Date, bool)> = self
            .pending
            .drain(..)
            .rev()
            .filter(|(s, d, _)| seen.insert((s.clone(), *d)))
            .collect();
        batch.reverse();
        let sql = format!(
            "INSERT INTO staged_school_attendance (student_id, date, present) {}
             ON CONFLICT (student_id, date) DO UPDATE SET present = excluded.present",
            crate::values(self.backend, batch.len(), 3)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (student, date, present) in batch {
            q = q
                .bind(student)
                .bind(date.to_string())
                .bind(i64::from(present));
        }
        q.execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Merges the staged rows and commits; `source` names the file for the audit log.
    pub async fn commit(mut self, actor: &str, source: &str) -> Result<ImportCounts> {
        self.flush().await?;
        let (total, added, replaced): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*),
                    count(*) - count(a.student_id),
                    CAST(coalesce(sum(CASE WHEN a.student_id IS NOT NULL AND a.present <> n.present
                        THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM staged_school_attendance n LEFT JOIN school_attendance a
               ON a.district_id = $1 AND a.student_id = n.student_id AND a.date = n.date",
        )
        .bind(&self.district)
        .fetch_one(&mut *self.tx)
        .await?;
        let counts = ImportCounts::of(total, added, replaced);
        sqlx::query(
            "INSERT INTO school_attendance (district_id, student_id, date, present)
             SELECT $1, student_id, date, present FROM staged_school_attendance WHERE true
             ON CONFLICT (district_id, student_id, date) DO UPDATE SET present = excluded.present
             WHERE school_attendance.present <> excluded.present",
        )
        .bind(&self.district)
        .execute(&mut *self.tx)
        .await?;
        audit(
            &mut self.tx,
            actor,
            "import.school_attendance",
            &format!("district:{}", self.district),
            &counts.describe(source),
        )
        .await?;
        crate::imports::finish(
            self.tx,
            self.backend,
            "staged_school_attendance",
            "school_attendance",
        )
        .await?;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stores;
    use obc_core::{Session, SessionStatus};

    fn day(text: &str) -> Date {
        obc_core::model::parse_iso_date(text).unwrap()
    }

    async fn upload(store: &Store, rows: &[(&str, &str, bool)]) -> ImportCounts {
        let mut import = store.begin_school_attendance("d1").await.unwrap();
        for (s, d, p) in rows {
            import.add(s, day(d), *p).await.unwrap();
        }
        import.commit("test", "attendance.csv").await.unwrap()
    }

    fn session(id: &str, student: &str, date: &str, status: SessionStatus) -> Session {
        Session {
            session_id: id.into(),
            student_id: student.into(),
            tutor_id: "t1".into(),
            date: day(date),
            minutes: 30,
            status,
            group_size: None,
            subject: String::new(),
        }
    }

    #[tokio::test]
    async fn attendance_import_is_idempotent_and_changes_replace() {
        for store in stores().await {
            let many: Vec<(String, String)> = (0..1100)
                .map(|i| (format!("s{i}"), "2024-09-18".to_string()))
                .collect();
            let rows: Vec<(&str, &str, bool)> = many
                .iter()
                .map(|(s, d)| (s.as_str(), d.as_str(), true))
                .collect();
            let first = upload(&store, &rows).await;
            assert_eq!((first.added, first.replaced, first.unchanged), (1100, 0, 0));
            let again = upload(&store, &rows).await;
            assert_eq!((again.added, again.replaced, again.unchanged), (0, 0, 1100));
            let changed = upload(
                &store,
                &[("s1", "2024-09-18", false), ("s1", "2024-09-19", true)],
            )
            .await;
            assert_eq!(
                (changed.added, changed.replaced, changed.unchanged),
                (1, 1, 0)
            );
            assert_eq!(store.school_attendance_days("d1").await.unwrap(), 1101);
            assert_eq!(store.school_attendance_days("d2").await.unwrap(), 0);
            let log = store.audit_log().await.unwrap();
            let audited = log
                .iter()
                .filter(|e| e.2 == "import.school_attendance" && e.3 == "district:d1")
                .count();
            assert_eq!(audited, 3, "{log:?}");
            // An import dropped before commit leaves nothing.
            let mut import = store.begin_school_attendance("d1").await.unwrap();
            import.add("new", day("2024-09-18"), false).await.unwrap();
            drop(import);
            assert_eq!(store.school_attendance_days("d1").await.unwrap(), 1101);
        }
    }

    #[tokio::test]
    async fn attended_sessions_on_absent_days_are_flagged() {
        for store in stores().await {
            for (contract, district, provider) in [("c1", "d1", "p1"), ("c2", "d1", "p2")] {
                sqlx::query(
                    "INSERT INTO contract_versions (contract_id, version, district_id, provider_id,
                       source, sha256, effective_from, created_at, created_by)
                     VALUES ($1, 1, $2, $3, '', '', '2024-09-01', '', 'test')",
                )
                .bind(contract)
                .bind(district)
                .bind(provider)
                .execute(&store.pool)
                .await
                .unwrap();
            }
            for (contract, student) in [("c1", "a"), ("c1", "b"), ("c2", "a")] {
                sqlx::query(
                    "INSERT INTO enrollments (contract_id, student_id, start_date) VALUES ($1, $2, '2024-09-01')",
                )
                .bind(contract)
                .bind(student)
                .execute(&store.pool)
                .await
                .unwrap();
            }
            let mut import = store.begin_sessions("p1").await.unwrap();
            let sessions = [
                session("x1", "b", "2024-09-18", SessionStatus::Attended),
                session("x2", "a", "2024-09-19", SessionStatus::Attended),
                session("x3", "a", "2024-09-18", SessionStatus::Attended),
                session("x4", "a", "2024-09-20", SessionStatus::StudentAbsent),
                session("x5", "a", "2024-09-21", SessionStatus::Attended),
                session("x6", "z", "2024-09-18", SessionStatus::Attended),
            ];
            crate::test_support::add_all(&mut import, "d1", (2..).zip(&sessions)).await;
            import.commit("test", "sessions.csv", None).await.unwrap();
            assert!(store.sessions_to_review("c1").await.unwrap().is_empty());
            upload(
                &store,
                &[
                    ("a", "2024-09-18", false),
                    ("a", "2024-09-19", false),
                    ("a", "2024-09-20", false),
                    ("a", "2024-09-21", true),
                    ("b", "2024-09-18", false),
                    ("z", "2024-09-18", false),
                ],
            )
            .await;
            let flagged = store.sessions_to_review("c1").await.unwrap();
            let got: Vec<(&str, &str, String)> = flagged
                .iter()
                .map(|f| {
                    (
                        f.student_id.as_str(),
                        f.session_id.as_str(),
                        f.date.to_string(),
                    )
                })
                .collect();
            assert_eq!(
                got,
                [
                    ("a", "x3", "2024-09-18".to_string()),
                    ("a", "x2", "2024-09-19".to_string()),
                    ("b", "x1", "2024-09-18".to_string())
                ],
                "{:?}",
                store.backend()
            );
            assert_eq!(flagged[0].tutor_id, "t1");
            assert_eq!(flagged[0].minutes, 30);
            // Another provider's contract sees none of p1's sessions.
            assert!(store.sessions_to_review("c2").await.unwrap().is_empty());
            assert!(store.sessions_to_review("nope").await.unwrap().is_empty());
        }
    }
}
