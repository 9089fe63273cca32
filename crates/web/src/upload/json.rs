//! An upload through the API: the query, the body spooled as it streams in, the report of an
//! import, the route of a whole file POSTed as the body, and their OpenAPI description. Shared
//! by the contracts feature (`POST /api/contracts`) and the uploads feature (the district's
//! and providers' pushes).

use super::{run_upload_as, Upload, UploadBody};
use crate::access::WriteCapability;
use crate::auth::Viewer;
use crate::error::{csrf_header, ApiError, ApiViewer};
use crate::schemas;
use crate::{AppState, WebError};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{post, MethodRouter};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The query of an API upload.
#[derive(Deserialize, Default)]
pub(crate) struct UploadQuery {
    /// The provider or district, for admins (staff always upload for their own organisation).
    pub org: Option<String>,
    /// A file name for messages.
    pub name: Option<String>,
    /// For contracts: the amendment's effective date (YYYY-MM-DD).
    effective: Option<String>,
}

/// Imports `body` as an upload of `kind` and reports what happened.
pub(crate) async fn upload_json(
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
        body: UploadBody(body),
        org: query.org,
        effective: query.effective,
    };
    let outcome = run_upload_as(state, viewer, cap, kind, upload).await?;
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

/// Writes a request body to an anonymous temporary file as it streams in, hashing it on the
/// way, so that a large push is held in memory by no one (a 200 MB body once took 415 MB).
/// Bodies past [`crate::MAX_UPLOAD_BYTES`] are refused.
pub(crate) async fn spool(body: Body, hash: &mut Sha256) -> Result<std::fs::File, ApiError> {
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
pub(crate) fn upload_route(kind: &'static str) -> MethodRouter<AppState> {
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

/// The query parameters of an API upload, in the OpenAPI document.
pub(crate) fn openapi_parameters() -> Vec<Value> {
    let org = json!({"name": "org", "in": "query", "description": "District or provider id (admins only; staff upload for their own organisation)", "schema": {"type": "string"}});
    let name = json!({"name": "name", "in": "query", "description": "File name used in error messages", "schema": {"type": "string"}});
    vec![org, name]
}

/// An upload's answer (an [`UploadReport`]), in the OpenAPI document.
pub(crate) fn openapi_report(description: &str) -> Value {
    schemas::json_response(description, schemas::of::<UploadReport>())
}

/// The OpenAPI path of a whole file of `media` POSTed as the body.
pub(crate) fn openapi_upload(summary: &str, media: Value) -> Value {
    json!({"post": {
        "summary": summary,
        "parameters": openapi_parameters(),
        "requestBody": {"required": true, "content": media},
        "responses": {
            "200": openapi_report("Imported"),
            "422": openapi_report("Rejected: nothing was imported; every problem is listed"),
            "403": {"$ref": "#/components/responses/Error"}
        }
    }})
}
