//! `POST /api/contracts/{id}/statements/{milestone}/finalize`, the JSON twin of the finalize
//! form, and the OpenAPI paths of the statement and its finalization.

use crate::error::{csrf_header, ApiError, ApiViewer};
use crate::schemas;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use obc_store::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// The query of a finalization: the date it is as of.
#[derive(Deserialize, Default)]
pub(super) struct FinalizeQuery {
    as_of: Option<String>,
}

/// Finalizes the statement of a milestone, as the finalize form does, answering what was
/// fixed for good.
pub(super) async fn finalize_api(
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

/// The statement's and its finalization's paths in the OpenAPI document (assembled in
/// `openapi`).
pub(crate) fn openapi_paths() -> serde_json::Map<String, serde_json::Value> {
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    let milestone =
        json!({"name": "milestone", "in": "path", "required": true, "schema": {"type": "string"}});
    let as_of =
        json!({"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"}});
    schemas::paths(json!({
        "/api/contracts/{id}/statements/{milestone}": {"get": {
            "summary": "The statement of a milestone (draft unless finalized), CSV or JSON; recorded in the audit log as an export",
            "parameters": [id, milestone, as_of, {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}],
            "responses": {"200": {"description": "The statement", "content": {"application/json": {"schema": schemas::of::<schemas::Statement>()}, "text/csv": {"schema": {"type": "string", "description": "One line per student (CSV_COLUMNS of the engine), then the totals"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
        }},
        "/api/contracts/{id}/statements/{milestone}/finalize": {"post": {
            "summary": "Finalize a statement (admin); it is never changed afterwards",
            "parameters": [id, milestone, as_of],
            "responses": {"200": schemas::json_response("Finalized", schemas::of::<Finalized>()), "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}
        }}
    }))
}
