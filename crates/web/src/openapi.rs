//! The OpenAPI document (`/api/openapi.json`), assembled from each feature's paths and
//! schemas. An assembly module: only the crate root imports it, and it imports the features.

use crate::access::{Allowed, Effect, RouteSpec};
use crate::statements::{finalize, review};
use crate::students::record;
use crate::{accounts, audit, contracts, export, monitoring, schemas, uploads};
use axum::routing::get;
use axum::Json;
use serde_json::{json, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// The document's route.
pub(crate) const ROUTES: &[RouteSpec] = &[RouteSpec {
    method: "GET",
    path: "/api/openapi.json",
    allowed: Allowed::Anyone,
    effect: Effect::Reads,
    handler: || get(openapi),
}];

async fn openapi() -> Json<Value> {
    Json(document())
}

/// The whole document: every feature's paths.
pub fn document() -> Value {
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "obc API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Outcomes-based contracting for K-12 tutoring. Every call is limited to the caller's organisation: district staff see their district, provider staff the students of their own contracts, auditors read contracts, statements, ledger and audit log."},
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": {
            "/api/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": schemas::json_response("OpenAPI 3.1", json!({"type": "object", "required": ["openapi", "info", "paths", "components"]}))}}}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token from `obc user token USERNAME`"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "obc_session", "description": "The web session; POSTs also need the X-CSRF-Token header from /api/me"}
            },
            "responses": {"Error": schemas::json_response("Refused or failed", schemas::of::<crate::error::ErrorBody>())},
            "schemas": {
                "Session": {"type": "object", "required": ["session_id", "student_id", "tutor_id", "date", "minutes", "status"], "properties": {
                    "session_id": {"type": "string"}, "student_id": {"type": "string"}, "tutor_id": {"type": "string"},
                    "date": {"type": "string", "format": "date"}, "minutes": {"type": "integer", "minimum": 0, "maximum": 1440},
                    "status": {"type": "string", "enum": ["attended", "student_absent", "district_cancelled", "provider_cancelled"]},
                    "group_size": {"type": "integer", "minimum": 1},
                    "subject": {"type": "string", "maxLength": 200, "description": "What the session taught; blank counts for any of the provider's contracts enrolling the student, unless two or more do on that date (then for none)"},
                    "district": {"type": "string", "maxLength": 200, "description": "The student's district, for a student id that several districts' rosters hold; blank: placed by the provider's enrollments"}}}
            }
        }
    });
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.extend(components());
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(accounts::openapi_paths());
        paths.extend(contracts::openapi_paths());
        paths.extend(finalize::openapi_paths());
        paths.extend(record::openapi_paths());
        paths.extend(uploads::openapi_paths());
        paths.extend(audit::openapi_paths());
        paths.extend(monitoring::openapi_paths());
        paths.extend(export::openapi_paths());
        paths.extend(review::openapi_paths());
    }
    doc
}

/// Every response schema and the schemas they use, for `components.schemas`.
pub(crate) fn components() -> serde_json::Map<String, Value> {
    fn add<T: ToSchema>(all: &mut Vec<(String, RefOr<Schema>)>) {
        all.push((T::name().into_owned(), T::schema()));
        T::schemas(all);
    }
    let mut all = Vec::new();
    add::<crate::error::ErrorBody>(&mut all);
    add::<accounts::Me>(&mut all);
    add::<contracts::ContractListed>(&mut all);
    add::<contracts::ContractDetail>(&mut all);
    add::<finalize::Finalized>(&mut all);
    add::<record::StudentTimeline>(&mut all);
    add::<crate::upload::UploadReport>(&mut all);
    add::<audit::AuditEntry>(&mut all);
    add::<audit::LedgerRow>(&mut all);
    add::<review::ReviewBody>(&mut all);
    add::<schemas::Statement>(&mut all);
    add::<schemas::Progress>(&mut all);
    add::<schemas::MeetingList>(&mut all);
    add::<schemas::MeetingView>(&mut all);
    add::<schemas::IndigoProject>(&mut all);
    all.into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).expect("a schema")))
        .collect()
}
