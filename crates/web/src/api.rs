//! The JSON API: everything the pages do, for scripts and for providers' nightly pushes.
//! Authenticate with the session cookie (state-changing calls then need `X-CSRF-Token`) or
//! with `Authorization: Bearer <token>` (`obc user token`). Described at `/api/openapi.json`.

use crate::access::{self, Effect, RouteSpec, WriteCapability, Writer};
use crate::auth::Viewer;
use crate::error::{csrf_header, ApiError, ApiViewer};
use crate::schemas;
use crate::upload::{self, Upload};
use crate::{AppState, WebError};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Json;
use obc_store::{IdempotencyClaim, Role};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The API's routes (the other features list their JSON routes beside their pages).
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/api/me",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(me),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(contracts),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || upload_route("contract"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts/{id}",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(contract),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts/{id}/statements/{milestone}/finalize",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(finalize),
    },
    RouteSpec {
        method: "GET",
        path: "/api/students/{district}/{student}",
        allowed: access::STAFF,
        effect: Effect::Reads,
        handler: || get(student),
    },
    RouteSpec {
        method: "POST",
        path: "/api/sessions",
        allowed: access::PROVIDERS,
        effect: Effect::Writes,
        handler: || post(upload_sessions),
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

/// GET /api/me.
#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    username: String,
    /// `admin`, `auditor`, `district` or `provider`.
    role: &'static str,
    /// The district or provider of district and provider staff.
    #[schema(required = true)]
    organisation: Option<String>,
    /// The session's token for `X-CSRF-Token` (none when signed in with an API token).
    #[schema(required = true)]
    csrf_token: Option<String>,
}

async fn me(ApiViewer(viewer): ApiViewer) -> Json<Me> {
    Json(Me {
        role: viewer.role().as_str(),
        username: viewer.user.username,
        organisation: viewer.user.org_id,
        csrf_token: viewer.csrf,
    })
}

/// A contract of GET /api/contracts.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContractListed {
    id: String,
    /// The latest version.
    version: u32,
    district: String,
    provider: String,
}

async fn contracts(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
) -> Result<Json<Vec<ContractListed>>, ApiError> {
    let list = (viewer.reader(&state).contract_list().await?)
        .into_iter()
        .map(|c| ContractListed {
            id: c.id,
            version: c.version,
            district: c.district_id,
            provider: c.provider_id,
        })
        .collect();
    Ok(Json(list))
}

/// GET /api/contracts/{id}.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContractDetail {
    id: String,
    version: u32,
    /// SHA-256 of the contract document.
    sha256: String,
    district: String,
    provider: String,
    /// The contract document (TOML) as added.
    source: String,
    milestones: Vec<MilestoneDetail>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct MilestoneDetail {
    name: String,
    date: String,
    base_share: String,
    contingent: bool,
    /// The finalized statement, once there is one.
    #[schema(required = true)]
    finalized: Option<FinalizedMark>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct FinalizedMark {
    at: String,
    by: String,
    /// SHA-256 of the statement's JSON.
    sha256: String,
    total: String,
}

async fn contract(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
) -> Result<Json<ContractDetail>, ApiError> {
    let reader = viewer.reader(&state);
    let cv = reader.contract(&id).await?;
    let mut milestones = Vec::new();
    for m in &cv.contract.milestones {
        let finalized = reader.finalized_record(&cv, &m.name).await?;
        milestones.push(MilestoneDetail {
            name: m.name.clone(),
            date: m.date.to_string(),
            base_share: m.base_share.to_string(),
            contingent: m.contingent,
            finalized: finalized.map(|f| FinalizedMark {
                at: f.finalized_at,
                by: f.finalized_by,
                sha256: f.content_sha256,
                total: obc_core::money::format_cents(obc_core::money::from_cents(f.total_cents)),
            }),
        });
    }
    Ok(Json(ContractDetail {
        id,
        version: cv.version,
        sha256: cv.sha256.clone(),
        district: cv.contract.district.clone(),
        provider: cv.contract.provider.clone(),
        source: cv.source.clone(),
        milestones,
    }))
}

#[derive(Deserialize, Default)]
struct FinalizeQuery {
    as_of: Option<String>,
}

async fn finalize(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path((id, milestone)): Path<(String, String)>,
    Query(query): Query<FinalizeQuery>,
) -> Result<Json<Finalized>, ApiError> {
    let cap = viewer.may_write_as(&[Role::Admin], csrf_header(&headers))?;
    let cv = viewer.reader(&state).contract(&id).await?;
    let as_of = obc_app::parse_as_of(query.as_of.as_deref())?;
    let (statement, stored) = cap.writer(&state).finalize(&cv, &milestone, as_of).await?;
    state.refresh_drafts().await?;
    Ok(Json(Finalized {
        contract: id,
        milestone,
        sha256: stored.content_sha256,
        total: obc_core::money::format_cents(statement.totals.statement_total),
    }))
}

/// POST .../finalize: the statement finalized.
#[derive(Serialize, ToSchema)]
pub(crate) struct Finalized {
    contract: String,
    milestone: String,
    /// SHA-256 of the statement's JSON, as the ledger keeps it.
    sha256: String,
    total: String,
}

async fn student(
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
        flags: (viewer.role() != Role::Provider).then(|| s.flags.clone().into_iter().collect()),
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

#[derive(Deserialize, Default)]
struct UploadQuery {
    /// The provider or district, for admins (staff always upload for their own organisation).
    org: Option<String>,
    /// A file name for messages.
    name: Option<String>,
    /// For contracts: the amendment's effective date (YYYY-MM-DD).
    effective: Option<String>,
}

async fn upload_json(
    state: &AppState,
    viewer: &Viewer,
    cap: &WriteCapability,
    kind: &str,
    query: UploadQuery,
    body: std::fs::File,
) -> Result<(StatusCode, UploadReport), ApiError> {
    let upload = Upload {
        csrf: None,
        file_name: query.name.unwrap_or_else(|| format!("{kind} upload")),
        body: upload::UploadBody(body),
        org: query.org,
        effective: query.effective,
    };
    let outcome = upload::run_upload_as(state, viewer, cap, kind, upload).await?;
    let problems = outcome
        .errors
        .into_iter()
        .flat_map(|errors| errors.errors)
        .map(|e| Problem {
            file: e.file,
            line: e.line,
            column: e.column,
            value: e.value,
            expected: e.expected,
        })
        .collect();
    let status = if outcome.accepted {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        UploadReport {
            imported: outcome.accepted,
            summary: outcome.summary,
            problems,
        },
    ))
}

/// The answer to an upload, imported (200) or rejected whole (422).
#[derive(Serialize, ToSchema)]
pub(crate) struct UploadReport {
    imported: bool,
    /// What was added, replaced or left unchanged, for people.
    summary: Vec<String>,
    /// Every problem of a rejected upload (the first ones of each file).
    problems: Vec<Problem>,
}

/// One problem of an upload: where it is and what was expected.
#[derive(Serialize, ToSchema)]
pub(crate) struct Problem {
    file: String,
    /// 0 when the problem is with the file as a whole.
    line: u64,
    #[schema(required = true)]
    column: Option<String>,
    #[schema(required = true)]
    value: Option<String>,
    expected: String,
}

/// POST /api/sessions: a provider's nightly push. An `Idempotency-Key` header makes a retry
/// after a timeout return the first answer instead of importing again.
async fn upload_sessions(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let cap = viewer.may_write(csrf_header(&headers))?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // What the request asked for: the same key with another request is a client error.
    let mut request = Sha256::new();
    request.update(query.org.as_deref().unwrap_or_default());
    request.update(b"\n");
    request.update(query.name.as_deref().unwrap_or_default());
    request.update(b"\n");
    let body = spool(body, &mut request).await?;
    let request_sha256 = obc_core::engine::hex(&request.finalize());
    let Some(key) = key else {
        let (status, body) = upload_json(&state, &viewer, &cap, "sessions", query, body).await?;
        return Ok((status, Json(body)).into_response());
    };
    let writer = cap.writer(&state);
    if let Some(earlier) = wait_for_key(&writer, &key, &request_sha256).await? {
        return Ok(earlier);
    }
    match upload_json(&state, &viewer, &cap, "sessions", query, body).await {
        Ok((status, body)) => {
            let stored = serde_json::to_string(&body).expect("a report serializes");
            (writer.remember_response(&key, status.as_u16(), &stored)).await?;
            Ok((status, Json(body)).into_response())
        }
        Err(e) => {
            // Nothing was imported: a retry with the key runs again.
            writer.release_idempotency_key(&key).await?;
            Err(e)
        }
    }
}

/// How long a request waits for an earlier one with its idempotency key to finish.
const IDEMPOTENCY_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Claims `key` for this request (`None`: go ahead), or answers it from the earlier request
/// with the key: its stored answer marked as a replay, after waiting for it to finish; a 422
/// refusal when that request was a different one; 409 when it is still running after
/// [`IDEMPOTENCY_WAIT`].
async fn wait_for_key(
    writer: &Writer<'_>,
    key: &str,
    request_sha256: &str,
) -> Result<Option<Response>, ApiError> {
    let give_up = std::time::Instant::now() + IDEMPOTENCY_WAIT;
    loop {
        let claim = writer.claim_idempotency_key(key, request_sha256).await?;
        let earlier_sha = match &claim {
            IdempotencyClaim::Claimed => return Ok(None),
            IdempotencyClaim::InProgress { request_sha256 } => request_sha256,
            IdempotencyClaim::Answered { request_sha256, .. } => request_sha256,
        };
        if earlier_sha != request_sha256 {
            return Err(WebError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this Idempotency-Key was already used for a different request: use a new key for new data",
            )
            .into());
        }
        if let IdempotencyClaim::Answered {
            status, response, ..
        } = claim
        {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            // The stored answer byte for byte: the same `UploadReport` the first request got.
            let headers = [
                ("content-type", "application/json"),
                ("idempotent-replay", "true"),
            ];
            return Ok(Some((status, headers, response).into_response()));
        }
        if std::time::Instant::now() >= give_up {
            return Err(WebError::new(
                StatusCode::CONFLICT,
                "a request with this Idempotency-Key is still running: retry it later",
            )
            .into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Writes a request body to an anonymous temporary file as it streams in, hashing it on the
/// way, so that a large push is held in memory by no one (a 200 MB body once took 415 MB).
/// Bodies past [`crate::MAX_UPLOAD_BYTES`] are refused.
async fn spool(body: Body, hash: &mut Sha256) -> Result<std::fs::File, ApiError> {
    use futures_util::StreamExt;
    use std::io::Write;
    let failed = |e: std::io::Error| {
        WebError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot spool the upload: {e}"),
        )
    };
    let mut file = tempfile::tempfile().map_err(failed)?;
    let mut size = 0usize;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| WebError::bad_request(format!("unreadable upload: {e}")))?;
        size += chunk.len();
        if size > crate::MAX_UPLOAD_BYTES {
            return Err(WebError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "an upload may have at most {} MiB",
                    crate::MAX_UPLOAD_BYTES >> 20
                ),
            )
            .into());
        }
        hash.update(&chunk);
        file.write_all(&chunk).map_err(failed)?;
    }
    Ok(file)
}

/// POST of a whole file of one kind (roster, assessments, attendance, contract) as the request
/// body.
fn upload_route(kind: &'static str) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              ApiViewer(viewer): ApiViewer,
              headers: HeaderMap,
              Query(query): Query<UploadQuery>,
              body: Body| async move {
            let cap = viewer.may_write(csrf_header(&headers))?;
            let body = spool(body, &mut Sha256::new()).await?;
            let (status, body) = upload_json(&state, &viewer, &cap, kind, query, body).await?;
            Ok::<_, ApiError>((status, Json(body)).into_response())
        },
    )
}

/// The API's paths in the OpenAPI document (assembled in [`crate::openapi`]).
pub(crate) fn openapi_paths() -> serde_json::Map<String, Value> {
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    let milestone =
        json!({"name": "milestone", "in": "path", "required": true, "schema": {"type": "string"}});
    let as_of =
        json!({"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"}});
    let org = json!({"name": "org", "in": "query", "description": "District or provider id (admins only; staff upload for their own organisation)", "schema": {"type": "string"}});
    let name = json!({"name": "name", "in": "query", "description": "File name used in error messages", "schema": {"type": "string"}});
    let ok = schemas::read_answers;
    let report = |d: &str| schemas::json_response(d, schemas::of::<UploadReport>());
    let upload = |summary: &str, media: Value| {
        json!({"post": {
            "summary": summary,
            "parameters": [org, name],
            "requestBody": {"required": true, "content": media},
            "responses": {
                "200": report("Imported"),
                "422": report("Rejected: nothing was imported; every problem is listed"),
                "403": {"$ref": "#/components/responses/Error"}
            }
        }})
    };
    let mut contract_post = upload(
        "Add a contract document (TOML); a changed document becomes a new version, in force from its effective date (admin)",
        json!({"application/toml": {"schema": {"type": "string"}}}),
    )["post"]
        .clone();
    contract_post["parameters"]
        .as_array_mut()
        .expect("parameters")
        .push(json!({"name": "effective", "in": "query", "description": "An amendment's effective date: statements dated on or after it use this version (default: the contract's period start)", "schema": {"type": "string", "format": "date"}}));
    let paths = json!({
        "/api/me": {"get": {"summary": "The signed-in user, role, organisation and CSRF token", "responses": ok("The user", schemas::of::<Me>())}},
        "/api/contracts": {
            "get": {"summary": "Contracts in the caller's scope", "responses": ok("Contracts", schemas::list_of::<ContractListed>())},
            "post": contract_post
        },
        "/api/contracts/{id}": {"get": {"summary": "A contract: document, version, milestones and their finalized statements", "parameters": [id], "responses": ok("The contract", schemas::of::<ContractDetail>())}},
        "/api/contracts/{id}/statements/{milestone}": {"get": {
            "summary": "The statement of a milestone (draft unless finalized), CSV or JSON; recorded in the audit log as an export",
            "parameters": [id, milestone, as_of, {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}],
            "responses": {"200": {"description": "The statement", "content": {"application/json": {"schema": schemas::of::<schemas::Statement>()}, "text/csv": {"schema": {"type": "string", "description": "One line per student (CSV_COLUMNS of the engine), then the totals"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
        }},
        "/api/contracts/{id}/statements/{milestone}/finalize": {"post": {
            "summary": "Finalize a statement (admin); it is never changed afterwards",
            "parameters": [id, milestone, as_of],
            "responses": {"200": schemas::json_response("Finalized", schemas::of::<Finalized>()), "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}
        }},
        "/api/students/{district}/{student}": {"get": {
            "summary": "A student's timeline: enrollments, sessions, scores (providers: own students, no demographics)",
            "parameters": [{"name": "district", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "student", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": ok("The student", schemas::of::<StudentTimeline>())
        }},
        "/api/sessions": {"post": {
            "summary": "Upload a session log, CSV or JSON (provider). Send an Idempotency-Key header so a retry never imports twice.",
            "parameters": [org, name, {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
            "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}}}}},
            "responses": {
                "200": report("Imported"),
                "422": report("Rejected: nothing was imported"),
                "403": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"}
            }
        }},
        "/api/rosters": upload("Upload a roster: OneRoster zip, StudentsBySchool.csv or plain CSV (district)", json!({"application/zip": {"schema": {"type": "string", "contentMediaType": "application/zip"}}, "text/csv": {"schema": {"type": "string"}}})),
        "/api/assessments": upload("Upload MAP AssessmentResults.csv or the generic assessment CSV (district)", json!({"text/csv": {"schema": {"type": "string"}}})),
        "/api/school-attendance": upload("Upload daily school attendance, a CSV student_id,date,present (district); sessions marked attended on days a student was absent from school are flagged for review", json!({"text/csv": {"schema": {"type": "string"}}}))
    });
    match paths {
        Value::Object(paths) => paths,
        _ => unreachable!("a JSON object"),
    }
}
