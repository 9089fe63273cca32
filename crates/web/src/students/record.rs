//! A student's record: the page (`/students/{district}/{student}`: the factors on each
//! contract enrolling the student, sessions, scores, flags) and its JSON timeline
//! (`/api/students/{district}/{student}`). Providers see their own students, without flags.

use crate::auth::Viewer;
use crate::error::{ApiError, ApiViewer};
use crate::format::contingent_milestone;
use crate::layout::{render, Nav};
use crate::schemas;
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use obc_core::money::format_dollars;
use obc_core::statement::Line;
use obc_store::Role;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A session as the page lists it.
pub struct SessionRow {
    pub date: String,
    pub provider: String,
    pub tutor: String,
    pub minutes: u32,
    pub status: &'static str,
    pub subject: String,
}

impl SessionRow {
    fn of((provider, x): &(String, obc_core::Session)) -> SessionRow {
        SessionRow {
            date: x.date.to_string(),
            provider: provider.clone(),
            tutor: x.tutor_id.clone(),
            minutes: x.minutes,
            status: x.status.as_str(),
            subject: x.subject.clone(),
        }
    }
}

/// A test score as the page lists it.
pub struct TestRow {
    pub term: String,
    pub subject: String,
    pub date: String,
    pub score: String,
    pub percentile: String,
    pub rapid_guessing: String,
}

/// A contract enrolling the student: the dates, and the student's line on its contingent
/// statement.
pub struct FactorRow {
    pub contract_id: String,
    pub enrolled: String,
    pub attendance: String,
    pub same_tutor: String,
    pub provider_cancel: String,
    pub availability: String,
    pub measure: String,
    pub rule: String,
    pub total: String,
    pub reason: String,
}

impl FactorRow {
    /// The student's line on a contract's statement, rates to four places, money in dollars.
    fn of(contract_id: String, enrolled: String, l: &Line) -> FactorRow {
        let ratio = |r: Option<obc_core::ratio::Ratio>| r.map(|r| r.display4()).unwrap_or_default();
        FactorRow {
            contract_id,
            enrolled,
            attendance: ratio(l.attendance_rate),
            same_tutor: ratio(l.same_tutor_rate),
            provider_cancel: ratio(l.provider_cancel_rate),
            availability: ratio(l.availability_rate),
            measure: ratio(l.measure),
            rule: l.rule.clone(),
            total: format_dollars(l.total),
            reason: l.reason.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "student.html")]
pub struct StudentPage {
    pub nav: Nav,
    pub district: String,
    pub id: String,
    pub name: String,
    pub school: String,
    pub grade: String,
    pub flags: Vec<(String, String)>,
    pub show_flags: bool,
    pub factors: Vec<FactorRow>,
    pub sessions: Vec<SessionRow>,
    /// Sessions of providers that enroll the student in no contract: shown apart, for review.
    pub unenrolled_sessions: Vec<SessionRow>,
    pub tests: Vec<TestRow>,
}

/// GET /students/{district}/{student}: the student's page (staff whose scope holds the
/// student).
pub(super) async fn student_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((district, student_id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    viewer.require(&[Role::Admin, Role::District, Role::Provider])?;
    let reader = viewer.reader(&state);
    let record = reader.student(&district, &student_id).await?;
    let mut factors = Vec::new();
    for (cv, start, end) in reader.enrollments(&record).await? {
        let statement = reader
            .statement(&cv, contingent_milestone(&cv), None)
            .await?;
        if let Some(l) = statement.lines.iter().find(|l| l.student_id == student_id) {
            let enrolled = format!("{start} to {}", end.as_deref().unwrap_or("(open)"));
            factors.push(FactorRow::of(cv.id().to_string(), enrolled, l));
        }
    }
    let s = &record.student;
    Ok(render(&StudentPage {
        nav: Nav::of(&viewer),
        district: district.clone(),
        id: s.id.clone(),
        name: format!("{} {}", s.first_name, s.last_name),
        school: s.school_id.clone(),
        grade: s.grade.as_ref().map(|g| g.to_string()).unwrap_or_default(),
        show_flags: viewer.role() != Role::Provider,
        flags: s.flags.to_vec(),
        factors,
        sessions: record.sessions.iter().map(SessionRow::of).collect(),
        unenrolled_sessions: record
            .unenrolled_sessions
            .iter()
            .map(SessionRow::of)
            .collect(),
        tests: record
            .tests
            .iter()
            .map(|t| TestRow {
                term: t.term_name.clone(),
                subject: t.subject.clone(),
                date: t.date.to_string(),
                score: t.score.map(|d| d.to_string()).unwrap_or_default(),
                percentile: t.percentile.map(|d| d.to_string()).unwrap_or_default(),
                rapid_guessing: t
                    .rapid_guessing_pct
                    .map(|d| format!("{d}%"))
                    .unwrap_or_default(),
            })
            .collect(),
    }))
}

/// GET /api/students/{district}/{student}: the student's timeline as JSON.
pub(super) async fn student_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path((district, student_id)): Path<(String, String)>,
) -> Result<Json<StudentTimeline>, ApiError> {
    let record = viewer
        .reader(&state)
        .student(&district, &student_id)
        .await?;
    let sessions = |list: &[(String, obc_core::Session)]| {
        list.iter().map(SessionEntry::of).collect::<Vec<_>>()
    };
    let s = &record.student;
    Ok(Json(StudentTimeline {
        district,
        id: s.id.clone(),
        school: s.school_id.clone(),
        grade: s.grade.as_ref().map(|g| g.to_string()),
        first_name: s.first_name.clone(),
        last_name: s.last_name.clone(),
        enrollments: record
            .enrollments
            .iter()
            .map(|(contract, start, end)| Enrollment {
                contract: contract.clone(),
                start: start.clone(),
                end: end.clone(),
            })
            .collect(),
        sessions: sessions(&record.sessions),
        sessions_not_enrolled_with_provider: sessions(&record.unenrolled_sessions),
        tests: record
            .tests
            .iter()
            .map(|t| TestEntry {
                date: t.date.to_string(),
                score: t.score.map(|d| d.to_string()),
                percentile: t.percentile.map(|d| d.to_string()),
                assessment: t.assessment.clone(),
                subject: t.subject.clone(),
                term: t.term_name.clone(),
            })
            .collect(),
        flags: (viewer.role() != Role::Provider).then(|| s.flags.iter().cloned().collect()),
    }))
}

/// GET /api/students/{district}/{student}: a student's timeline.
#[derive(Serialize, ToSchema)]
pub(crate) struct StudentTimeline {
    district: String,
    id: String,
    school: String,
    #[schema(required = true)]
    grade: Option<String>,
    first_name: String,
    last_name: String,
    enrollments: Vec<Enrollment>,
    sessions: Vec<SessionEntry>,
    /// Kept (SPEC 5) but flagged for review: the provider enrolls the student in no contract.
    sessions_not_enrolled_with_provider: Vec<SessionEntry>,
    tests: Vec<TestEntry>,
    /// Targeting and equity flags by name; never shown to providers.
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<BTreeMap<String, String>>,
}

/// An enrollment in a contract the caller may see.
#[derive(Serialize, ToSchema)]
pub(crate) struct Enrollment {
    contract: String,
    start: String,
    #[schema(required = true)]
    end: Option<String>,
}

/// A session of a student's timeline.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionEntry {
    provider: String,
    session_id: String,
    tutor_id: String,
    date: String,
    minutes: u32,
    /// `attended`, `student_absent`, `district_cancelled` or `provider_cancelled`.
    status: &'static str,
    /// Blank when the provider did not say.
    subject: String,
}

impl SessionEntry {
    fn of((provider, x): &(String, obc_core::Session)) -> SessionEntry {
        SessionEntry {
            provider: provider.clone(),
            session_id: x.session_id.clone(),
            tutor_id: x.tutor_id.clone(),
            date: x.date.to_string(),
            minutes: x.minutes,
            status: x.status.as_str(),
            subject: x.subject.clone(),
        }
    }
}

/// A test score of a student's timeline.
#[derive(Serialize, ToSchema)]
pub(crate) struct TestEntry {
    assessment: String,
    subject: String,
    /// The term as the file writes it, e.g. `Fall 2024-2025`.
    term: String,
    date: String,
    #[schema(required = true)]
    score: Option<String>,
    #[schema(required = true)]
    percentile: Option<String>,
}

/// The timeline's path in the OpenAPI document (assembled in `openapi`).
pub(crate) fn openapi_paths() -> serde_json::Map<String, serde_json::Value> {
    schemas::paths(json!({
        "/api/students/{district}/{student}": {"get": {
            "summary": "A student's timeline: enrollments, sessions, scores (providers: own students, no demographics)",
            "parameters": [{"name": "district", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "student", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": schemas::read_answers("The student", schemas::of::<StudentTimeline>())
        }}
    }))
}
