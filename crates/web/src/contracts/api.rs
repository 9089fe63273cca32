//! The contracts' JSON: the list in scope, a contract with its milestones and finalized
//! statements, and their OpenAPI paths (adding a contract is the shared upload route).

use crate::error::{ApiError, ApiViewer};
use crate::schemas;
use crate::upload::openapi_upload;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// A contract of GET /api/contracts.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContractListed {
    id: String,
    /// The latest version.
    version: u32,
    district: String,
    provider: String,
}

/// GET /api/contracts: the contracts in the caller's scope.
pub(super) async fn contracts(
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

/// GET /api/contracts/{id}: a contract in the caller's scope, else 404.
pub(super) async fn contract(
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

/// The contracts' paths in the OpenAPI document (assembled in `openapi`).
pub(crate) fn openapi_paths() -> serde_json::Map<String, serde_json::Value> {
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    let ok = schemas::read_answers;
    let mut contract_post = openapi_upload(
        "Add a contract document (TOML); a changed document becomes a new version, in force from its effective date (admin)",
        json!({"application/toml": {"schema": {"type": "string"}}}),
    )["post"]
        .clone();
    contract_post["parameters"]
        .as_array_mut()
        .expect("parameters")
        .push(json!({"name": "effective", "in": "query", "description": "An amendment's effective date: statements dated on or after it use this version (default: the contract's period start)", "schema": {"type": "string", "format": "date"}}));
    schemas::paths(json!({
        "/api/contracts": {
            "get": {"summary": "Contracts in the caller's scope", "responses": ok("Contracts", schemas::list_of::<ContractListed>())},
            "post": contract_post
        },
        "/api/contracts/{id}": {"get": {"summary": "A contract: document, version, milestones and their finalized statements", "parameters": [id], "responses": ok("The contract", schemas::of::<ContractDetail>())}}
    }))
}
