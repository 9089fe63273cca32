//! Documents made from a contract for others to file or load: the INDIGO project document
//! (download and API) and the statement as a printable Letter document for a finance office.

use crate::api::{ApiError, ApiViewer};
use crate::auth::Viewer;
use crate::pages::{self, render};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use obc_core::money::format_dollars;
use obc_core::Statement;
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/contracts/{id}/indigo.json", get(indigo_download))
        .route("/api/contracts/{id}/indigo", get(indigo_api))
        .route(
            "/contracts/{id}/statements/{milestone}/print",
            get(statement_print),
        )
}

/// The INDIGO document of a contract in the viewer's scope; the export is audited.
async fn indigo_document(state: &AppState, viewer: &Viewer, id: &str) -> Result<Value, WebError> {
    pages::contract_in_scope(state, viewer, id).await?;
    let project = obc_app::export::indigo_project(&state.store, id).await?;
    state
        .store
        .audit(
            &viewer.user.username,
            "export.indigo",
            &format!("contract:{id}"),
            "web",
        )
        .await?;
    Ok(project)
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

/// One amount of the summary: a label and the amount with `$` and thousands separators.
pub struct AmountRow {
    pub label: String,
    pub amount: String,
    pub strong: bool,
}

/// A student's amounts on the filed statement.
pub struct StudentRow {
    pub student_id: String,
    pub school_id: String,
    pub rule: String,
    pub base: String,
    pub contingent: String,
    pub total: String,
}

/// A correction of an earlier statement, paid or credited on this one.
pub struct CorrectionRow {
    pub student_id: String,
    pub milestone: String,
    pub change: String,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "statement_print.html")]
pub struct StatementPrint {
    pub contract_id: String,
    pub contract_version: u32,
    pub contract_hash: String,
    pub milestone: String,
    pub district: String,
    pub provider: String,
    pub period: String,
    pub milestone_date: String,
    pub statement_date: String,
    pub status: String,
    pub amounts: Vec<AmountRow>,
    pub nte: Vec<AmountRow>,
    pub by_rule: Vec<pages::RuleRow>,
    pub met_target: u32,
    pub cost_per_outcome: String,
    pub students: Vec<StudentRow>,
    pub corrections: Vec<CorrectionRow>,
    pub inputs_hash: String,
}

fn amount(label: &str, value: Decimal, strong: bool) -> AmountRow {
    AmountRow {
        label: label.to_string(),
        amount: format_dollars(value),
        strong,
    }
}

/// The summary's amounts: the statement's parts and total, and the not-to-exceed used and left.
fn amounts(statement: &Statement, not_to_exceed: Decimal) -> (Vec<AmountRow>, Vec<AmountRow>) {
    let t = &statement.totals;
    let mut rows = vec![
        amount(
            &format!("Base parts ({} students)", t.students),
            t.base,
            false,
        ),
        amount("Contingent parts", t.contingent, false),
    ];
    if !t.adjustments.is_zero() {
        rows.push(amount(
            "Corrections of earlier statements",
            t.adjustments,
            false,
        ));
    }
    if let Some(cap) = t.nte_cap {
        rows.push(amount("Not-to-exceed cap", cap, false));
    }
    rows.push(amount(
        "Amount due on this statement",
        t.statement_total,
        true,
    ));
    let used = t.paid_before + t.statement_total;
    let nte = vec![
        amount("Not to exceed (contract cap)", not_to_exceed, false),
        amount("Paid on earlier statements", t.paid_before, false),
        amount("Used, with this statement", used, true),
        amount("Left under the cap", not_to_exceed - used, true),
    ];
    (rows, nte)
}

async fn party_name(state: &AppState, id: &str) -> Result<String, WebError> {
    Ok(match state.store.organisation_name(id).await? {
        Some(name) if name != id => format!("{name} ({id})"),
        _ => id.to_string(),
    })
}

/// `/contracts/{id}/statements/{milestone}/print`: the statement as a finance office files it,
/// a summary page (parties, period, amounts, the cap used and left) then every student's
/// amount. The finalized statement when there is one, else the draft, as on the statement page.
async fn statement_print(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Query(query): Query<pages::StatementQuery>,
) -> Result<Response, WebError> {
    let cv = pages::contract_in_scope(&state, &viewer, &id).await?;
    cv.contract
        .milestone(&milestone)
        .ok_or_else(WebError::not_found)?;
    let as_of = obc_app::parse_as_of(query.as_of.as_deref())
        .map_err(|e| WebError::bad_request(e.to_string()))?;
    let (statement, finalized) = (state.drafts)
        .statement_for_display(&state.store, &cv, &milestone, as_of)
        .await?;
    let c = &cv.contract;
    let status = pages::status_text(&finalized, &statement);
    let (amounts, nte) = amounts(&statement, c.not_to_exceed);
    let t = &statement.totals;
    Ok(render(&StatementPrint {
        contract_id: id.clone(),
        contract_version: statement.contract_version,
        contract_hash: statement.contract_hash.clone(),
        milestone: milestone.clone(),
        district: party_name(&state, &c.district).await?,
        provider: party_name(&state, &c.provider).await?,
        period: format!("{} to {}", c.period.start, c.period.end),
        milestone_date: statement.milestone_date.clone(),
        statement_date: statement.statement_date.clone(),
        status,
        amounts,
        nte,
        by_rule: t
            .by_rule
            .iter()
            .map(|r| pages::RuleRow {
                rule: r.rule.clone(),
                students: r.students,
                base: format_dollars(r.base),
                contingent: format_dollars(r.contingent),
                total: format_dollars(r.base + r.contingent),
            })
            .collect(),
        met_target: t.met_target,
        cost_per_outcome: t
            .cost_per_outcome
            .map(format_dollars)
            .unwrap_or_else(|| "none".into()),
        students: statement
            .lines
            .iter()
            .map(|l| StudentRow {
                student_id: l.student_id.clone(),
                school_id: l.school_id.clone(),
                rule: l.rule.clone(),
                base: format_dollars(l.base_amount),
                contingent: format_dollars(l.contingent_amount),
                total: format_dollars(l.total),
            })
            .collect(),
        corrections: statement
            .adjustments
            .iter()
            .map(|a| CorrectionRow {
                student_id: a.student_id.clone(),
                milestone: a.milestone.clone(),
                change: format!(
                    "{} {} -> {} {}",
                    a.original_rule,
                    format_dollars(a.original_amount),
                    a.corrected_rule,
                    format_dollars(a.corrected_amount)
                ),
                amount: format_dollars(a.amount),
            })
            .collect(),
        inputs_hash: statement.inputs_hash.clone(),
    }))
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
                "200": {"description": "An INDIGO 4.x project document", "content": {"application/json": {}}},
                "401": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}
            }
        }}),
    );
    paths
}
