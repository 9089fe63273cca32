//! The providers' session push (`POST /api/sessions`), made safe to retry by an
//! `Idempotency-Key`, and the OpenAPI paths of the API's pushes.

use crate::access::Writer;
use crate::error::{csrf_header, ApiError, ApiViewer};
use crate::upload::{
    openapi_parameters, openapi_report, openapi_upload, spool, upload_json, UploadQuery,
};
use crate::{AppState, WebError};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use obc_store::IdempotencyClaim;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// POST /api/sessions: a provider's nightly push. An `Idempotency-Key` header makes a retry
/// after a timeout return the first answer instead of importing again.
pub(super) async fn upload_sessions(
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

/// The pushes' paths in the OpenAPI document (assembled in `openapi`).
pub(crate) fn openapi_paths() -> serde_json::Map<String, Value> {
    let mut sessions_parameters = openapi_parameters();
    sessions_parameters
        .push(json!({"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}));
    let paths = json!({
        "/api/sessions": {"post": {
            "summary": "Upload a session log, CSV or JSON (provider). Send an Idempotency-Key header so a retry never imports twice.",
            "parameters": sessions_parameters,
            "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}}}}},
            "responses": {
                "200": openapi_report("Imported"),
                "422": openapi_report("Rejected: nothing was imported"),
                "403": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"}
            }
        }},
        "/api/rosters": openapi_upload("Upload a roster: OneRoster zip, StudentsBySchool.csv or plain CSV (district)", json!({"application/zip": {"schema": {"type": "string", "contentMediaType": "application/zip"}}, "text/csv": {"schema": {"type": "string"}}})),
        "/api/assessments": openapi_upload("Upload MAP AssessmentResults.csv or the generic assessment CSV (district)", json!({"text/csv": {"schema": {"type": "string"}}})),
        "/api/school-attendance": openapi_upload("Upload daily school attendance, a CSV student_id,date,present (district); sessions marked attended on days a student was absent from school are flagged for review", json!({"text/csv": {"schema": {"type": "string"}}}))
    });
    crate::schemas::paths(paths)
}
