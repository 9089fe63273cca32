//! What a user may see. The web app asks the store for data only through a [`Scope`], and
//! every list query ANDs the scope into its WHERE clause, so a forgotten check cannot leak
//! another organisation's records.

use crate::{Result, Role, Store, User};
use obc_core::{AssessmentResult, Session, Student};

/// The records a user's role and organisation allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Intermediary admin and auditors: every contract.
    All,
    /// District staff: contracts and students of one district.
    District(String),
    /// Provider staff: its own contracts and the students enrolled in them.
    Provider(String),
}

impl User {
    pub fn scope(&self) -> Scope {
        match (self.role, &self.org_id) {
            (Role::District, Some(d)) => Scope::District(d.clone()),
            (Role::Provider, Some(p)) => Scope::Provider(p.clone()),
            _ => Scope::All,
        }
    }
}

impl Scope {
    /// The two bind values of the `(? IS NULL OR district_id = ?) AND (? IS NULL OR provider_id = ?)`
    /// filter used by every contract query.
    pub(crate) fn binds(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Scope::All => (None, None),
            Scope::District(d) => (Some(d), None),
            Scope::Provider(p) => (None, Some(p)),
        }
    }
}

/// A contract as listed: id, latest version, district and provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractSummary {
    pub id: String,
    pub version: u32,
    pub district_id: String,
    pub provider_id: String,
}

/// One student's record as a scope may see it, with their sessions and tests.
#[derive(Debug, Clone)]
pub struct StudentRecord {
    pub district_id: String,
    /// Flags (demographics) are emptied for providers.
    pub student: Student,
    /// (contract id, start, end) of the visible contracts the student is enrolled in.
    pub enrollments: Vec<(String, String, Option<String>)>,
    /// (provider id, session), by date, of the providers whose contracts enroll the student;
    /// providers see only their own sessions.
    pub sessions: Vec<(String, Session)>,
    /// (provider id, session), by date, of providers none of whose contracts enroll the
    /// student: kept (SPEC 5) but flagged for review, never part of another provider's timeline.
    pub unenrolled_sessions: Vec<(String, Session)>,
    pub tests: Vec<AssessmentResult>,
}

impl Store {
    /// The contracts a scope may see, by id.
    pub async fn contracts_in_scope(&self, scope: &Scope) -> Result<Vec<ContractSummary>> {
        let (district, provider) = scope.binds();
        let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
            "SELECT c.contract_id, c.version, c.district_id, c.provider_id FROM contract_versions c
             WHERE c.version = (SELECT max(version) FROM contract_versions v WHERE v.contract_id = c.contract_id)
               AND ($1 IS NULL OR c.district_id = $1) AND ($2 IS NULL OR c.provider_id = $2)
             ORDER BY c.contract_id",
        )
        .bind(district)
        .bind(provider)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, version, district_id, provider_id)| ContractSummary {
                id,
                version: version as u32,
                district_id,
                provider_id,
            })
            .collect())
    }

    /// Whether a scope may see a contract.
    pub async fn contract_in_scope(&self, scope: &Scope, contract_id: &str) -> Result<bool> {
        Ok(self
            .contracts_in_scope(scope)
            .await?
            .iter()
            .any(|c| c.id == contract_id))
    }

    /// A student as a scope may see them, or `None` when the scope may not (or there is no
    /// such student): district staff only their district's, providers only students enrolled
    /// in their own contracts, without demographics.
    pub async fn student_in_scope(
        &self,
        scope: &Scope,
        district_id: &str,
        student_id: &str,
    ) -> Result<Option<StudentRecord>> {
        let (district_filter, provider_filter) = scope.binds();
        if district_filter.is_some_and(|d| d != district_id) {
            return Ok(None);
        }
        let enrollments: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT e.contract_id, e.start_date, e.end_date FROM enrollments e
             JOIN contract_versions c ON c.contract_id = e.contract_id AND c.version =
                  (SELECT max(version) FROM contract_versions v WHERE v.contract_id = c.contract_id)
             WHERE e.student_id = $1 AND c.district_id = $2 AND ($3 IS NULL OR c.provider_id = $3)
             ORDER BY e.contract_id",
        )
        .bind(student_id)
        .bind(district_id)
        .bind(provider_filter)
        .fetch_all(&self.pool)
        .await?;
        if provider_filter.is_some() && enrollments.is_empty() {
            return Ok(None);
        }
        let Some(mut student) = self
            .students_of(district_id, Some(&[student_id]), None)
            .await?
            .remove(student_id)
        else {
            return Ok(None);
        };
        if provider_filter.is_some() {
            student.flags = Default::default();
        }
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            String,
            Option<i64>,
            String,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.provider_id, s.session_id, s.tutor_id, s.session_date, s.minutes, s.status, s.group_size,
                    s.subject,
                    CAST(CASE WHEN EXISTS (SELECT 1 FROM enrollments e JOIN contract_versions c ON c.contract_id = e.contract_id
                         WHERE e.student_id = s.student_id AND c.district_id = s.district_id AND c.provider_id = s.provider_id)
                    THEN 1 ELSE 0 END AS BIGINT)
             FROM sessions s
             WHERE s.district_id = $1 AND s.student_id = $2 AND ($3 IS NULL OR s.provider_id = $3)
             ORDER BY s.session_date, s.session_id",
        )
        .bind(district_id)
        .bind(student_id)
        .bind(provider_filter)
        .fetch_all(&self.pool)
        .await?;
        let (mut sessions, mut unenrolled_sessions) = (Vec::new(), Vec::new());
        for (
            provider,
            session_id,
            tutor_id,
            date,
            minutes,
            status,
            group_size,
            subject,
            enrolled,
        ) in rows
        {
            let session = Session {
                session_id,
                student_id: student_id.to_string(),
                tutor_id,
                date: crate::parse_date(&date)?,
                minutes: u32::try_from(minutes).unwrap_or(0),
                status: obc_core::SessionStatus::parse(&status).ok_or_else(|| {
                    crate::StoreError::Corrupt(format!("session status {status}"))
                })?,
                group_size: group_size.and_then(|g| u32::try_from(g).ok()),
                subject,
            };
            if enrolled == 1 {
                sessions.push((provider, session));
            } else {
                unenrolled_sessions.push((provider, session));
            }
        }
        let mut tests = self.student_results(district_id, student_id).await?;
        tests.sort_by_key(|t| (t.date, t.start_seconds));
        Ok(Some(StudentRecord {
            district_id: district_id.to_string(),
            student,
            enrollments,
            sessions,
            unenrolled_sessions,
            tests,
        }))
    }
}
