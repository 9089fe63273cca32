//! Uploads: the upload form and its result page (a rejected contract document shown line by
//! line with its problems), and the API's pushes of rosters, assessments, school attendance
//! and sessions (`uploads/api.rs`). What an upload does is the shared [`crate::upload`].

mod api;

pub(crate) use api::openapi_paths;

use crate::access::{self, Effect, RouteSpec};
use crate::auth::Viewer;
use crate::layout::{render, Nav};
use crate::upload::{
    problem_rows, read_upload, run_upload_as, upload_route, ProblemRow, UploadBody,
};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use obc_store::Role;

/// The upload form, its POST, and the API's pushes.
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/upload",
        allowed: access::STAFF,
        effect: Effect::Reads,
        handler: || get(upload_page),
    },
    RouteSpec {
        method: "POST",
        path: "/upload/{kind}",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(upload),
    },
    RouteSpec {
        method: "POST",
        path: "/api/sessions",
        allowed: access::PROVIDERS,
        effect: Effect::Writes,
        handler: || post(api::upload_sessions),
    },
    RouteSpec {
        method: "POST",
        path: "/api/rosters",
        allowed: access::DISTRICT_DATA,
        effect: Effect::Writes,
        handler: || upload_route("roster"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/assessments",
        allowed: access::DISTRICT_DATA,
        effect: Effect::Writes,
        handler: || upload_route("assessments"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/school-attendance",
        allowed: access::DISTRICT_DATA,
        effect: Effect::Writes,
        handler: || upload_route("attendance"),
    },
];

#[derive(Template)]
#[template(path = "upload.html")]
pub struct UploadPage {
    pub nav: Nav,
    pub roster: bool,
    pub assessments: bool,
    pub sessions: bool,
    pub attendance: bool,
    pub contract: bool,
}

pub async fn upload_page(viewer: Viewer) -> Result<Response, WebError> {
    viewer.require(&[Role::Admin, Role::District, Role::Provider])?;
    let role = viewer.role();
    Ok(render(&UploadPage {
        nav: Nav::of(&viewer),
        roster: matches!(role, Role::Admin | Role::District),
        assessments: matches!(role, Role::Admin | Role::District),
        attendance: matches!(role, Role::Admin | Role::District),
        sessions: matches!(role, Role::Admin | Role::Provider),
        contract: role == Role::Admin,
    }))
}

#[derive(Template)]
#[template(path = "upload_result.html")]
pub struct UploadResultPage {
    pub nav: Nav,
    pub kind: String,
    pub accepted: bool,
    pub summary: Vec<String>,
    pub problems: Vec<ProblemRow>,
    pub more: u64,
    /// A rejected contract document, line by line, with each problem under its line.
    pub annotated: Vec<SourceLine>,
}

/// One line of an uploaded document and the problems found on it.
pub struct SourceLine {
    pub number: usize,
    pub text: String,
    pub problems: Vec<String>,
}

fn annotate(source: &[u8], problems: &[ProblemRow]) -> Vec<SourceLine> {
    String::from_utf8_lossy(source)
        .lines()
        .enumerate()
        .map(|(i, text)| SourceLine {
            number: i + 1,
            text: text.to_string(),
            problems: problems
                .iter()
                .filter(|p| p.line == (i + 1).to_string())
                .map(|p| format!("{}: {}", p.column, p.expected))
                .collect(),
        })
        .collect()
}

pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(kind): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let upload = read_upload(multipart).await?;
    let cap = viewer.may_write(upload.csrf.as_deref())?;
    let contract_body = match (&upload.body, kind.as_str()) {
        (UploadBody(file), "contract") => Some(file.try_clone().map_err(|e| {
            WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the spooled upload: {e}"),
            )
        })?),
        _ => None,
    };
    let outcome = run_upload_as(&state, &viewer, &cap, &kind, upload).await?;
    let (problems, more) = match &outcome.errors {
        Some(errors) => problem_rows(errors),
        None => (Vec::new(), 0),
    };
    let annotated = match contract_body {
        Some(file) if !outcome.accepted => annotate(&UploadBody(file).contract_bytes()?, &problems),
        _ => Vec::new(),
    };
    let mut response = render(&UploadResultPage {
        nav: Nav::of(&viewer),
        kind,
        accepted: outcome.accepted,
        summary: outcome.summary,
        problems,
        more,
        annotated,
    });
    if !outcome.accepted {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}
