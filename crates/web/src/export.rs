//! Documents made from a contract for others to file or load: the INDIGO project document
//! (download and API). The statement's printable Letter document for a finance office is with
//! the statement pages, in `statements`.

use crate::access::{self, Effect, RouteSpec};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiViewer};
use crate::{AppState, WebError};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde_json::{json, Value};

/// The exports' routes.
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/indigo.json",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(indigo_download),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts/{id}/indigo",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(indigo_api),
    },
];

/// The INDIGO document of a contract in the viewer's scope; the export is audited.
async fn indigo_document(state: &AppState, viewer: &Viewer, id: &str) -> Result<Value, WebError> {
    let reader = viewer.reader(state);
    let cv = reader.contract(id).await?;
    reader.indigo_project(&cv).await
}

async fn indigo_download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let project = indigo_document(&state, &viewer, &id).await?;
    let body = serde_json::to_string_pretty(&project).expect("JSON values serialize") + "\n";
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.indigo.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn indigo_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(indigo_document(&state, &viewer, &id).await?))
}

/// The OpenAPI paths of this module's API routes.
pub(crate) fn openapi_paths() -> serde_json::Map<String, Value> {
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/api/contracts/{id}/indigo".into(),
        json!({"get": {
            "summary": "The contract as an INDIGO project document (the Government Outcomes Lab's data standard for outcomes contracts): milestones, prices, finalized payments (Actual), the next milestone's draft (Planned), transactions and results; recorded in the audit log",
            "parameters": [id],
            "responses": {
                "200": crate::schemas::json_response("An INDIGO 4.x project document", crate::schemas::of::<crate::schemas::IndigoProject>()),
                "401": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}
            }
        }}),
    );
    paths
}
