//! The auditor's console: the audit log filtered, paged and downloaded, and the ledger of
//! finalized statements with its verification, as pages and as JSON.

use crate::access::{self, Effect, RouteSpec};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiViewer};
use crate::layout::{render, Nav};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use obc_app::consoles::AuditPage;
use obc_core::csv_text::field;
use obc_core::money::{format_cents, from_cents};
use obc_store::{AuditEvent, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The audit log's and the ledger's routes.
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/audit",
        allowed: access::AUDITORS,
        effect: Effect::Reads,
        handler: || get(audit_log_page),
    },
    RouteSpec {
        method: "GET",
        path: "/audit/download",
        allowed: access::AUDITORS,
        effect: Effect::Reads,
        handler: || get(audit_download),
    },
    RouteSpec {
        method: "GET",
        path: "/api/audit",
        allowed: access::AUDITORS,
        effect: Effect::Reads,
        handler: || get(audit_api),
    },
    RouteSpec {
        method: "GET",
        path: "/ledger",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(ledger_page),
    },
    RouteSpec {
        method: "POST",
        path: "/ledger/verify",
        allowed: access::AUDITORS,
        effect: Effect::Reads,
        handler: || post(verify_page),
    },
    RouteSpec {
        method: "GET",
        path: "/api/ledger",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(ledger_api),
    },
];

// ---------------------------------------------------------------------------------------------
// The audit log
// ---------------------------------------------------------------------------------------------

/// The audit log's filter as the form and the links carry it; empty fields do not filter.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contract: String,
    #[serde(default, skip_serializing)]
    pub page: Option<u64>,
    #[serde(default, skip_serializing)]
    pub format: Option<String>,
}

impl AuditQuery {
    /// The store's filter; a date that does not read is refused (400).
    fn filter(&self) -> Result<AuditFilter, WebError> {
        let text = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty());
        let day = |what: &str, t: &str| -> Result<Option<String>, WebError> {
            match text(t) {
                None => Ok(None),
                Some(t) => obc_core::model::parse_user_date(&t)
                    .map(|d| Some(d.to_string()))
                    .map_err(|why| WebError::bad_request(format!("{what} {t}: {why}"))),
            }
        };
        Ok(AuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            from: day("from", &self.from)?,
            to: day("to", &self.to)?,
            contract: text(&self.contract),
        })
    }

    /// The filter as a query string (`actor=...&...`), for links that keep it.
    fn query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditLogPage {
    pub nav: Nav,
    pub query: AuditQuery,
    /// The filter as a query string, for the page and download links.
    pub kept: String,
    pub log: AuditPage,
}

/// GET /audit (admins, auditors): the log newest first, filtered by actor, action, dates and
/// contract, 100 events a page.
pub async fn audit_log_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let filter = query.filter()?;
    let log = (viewer.audit_log(&state)?)
        .page(&filter, query.page.unwrap_or(1))
        .await?;
    Ok(render(&AuditLogPage {
        nav: Nav::of(&viewer),
        kept: query.query_string(),
        query,
        log,
    }))
}

/// Every event that passes the filter, newest first (downloads are whole, not paged).
async fn filtered_events(
    state: &AppState,
    viewer: &Viewer,
    query: &AuditQuery,
) -> Result<Vec<AuditEvent>, WebError> {
    let filter = query.filter()?;
    viewer.audit_log(state)?.events(&filter).await
}

/// An event of the audit log as JSON (the API and the JSON download).
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditEntry<'a> {
    id: i64,
    /// UTC, RFC 3339.
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    /// What the event is about (`contract:ID`, `provider:ID`...).
    record: &'a str,
    detail: &'a str,
}

impl<'a> From<&'a AuditEvent> for AuditEntry<'a> {
    fn from(e: &'a AuditEvent) -> Self {
        AuditEntry {
            id: e.id,
            at: &e.at,
            actor: &e.actor,
            action: &e.action,
            record: &e.record,
            detail: &e.detail,
        }
    }
}

fn entries(events: &[AuditEvent]) -> Vec<AuditEntry<'_>> {
    events.iter().map(AuditEntry::from).collect()
}

/// The events as CSV: a header, then one line per event, every cell made safe for
/// spreadsheets.
fn events_csv(events: &[AuditEvent]) -> String {
    let mut out = String::from("id,at,actor,action,record,detail\n");
    for e in events {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            e.id,
            field(&e.at),
            field(&e.actor),
            field(&e.action),
            field(&e.record),
            field(&e.detail)
        ));
    }
    out
}

/// GET /audit/download?format=csv|json (admins, auditors): the filtered log as a file.
pub async fn audit_download(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let (content_type, extension) = match query.format.as_deref() {
        Some("csv") => ("text/csv; charset=utf-8", "csv"),
        Some("json") => ("application/json", "json"),
        _ => return Err(WebError::bad_request("format must be csv or json")),
    };
    let events = filtered_events(&state, &viewer, &query).await?;
    let body = if extension == "csv" {
        events_csv(&events)
    } else {
        serde_json::to_string(&entries(&events)).expect("events serialize")
    };
    Ok((
        [
            (CONTENT_TYPE, content_type.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"audit-log.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// GET /api/audit (admins, auditors): the filtered log as JSON, newest first.
async fn audit_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let events = filtered_events(&state, &viewer, &query).await?;
    Ok(Json(entries(&events)).into_response())
}

// ---------------------------------------------------------------------------------------------
// The ledger
// ---------------------------------------------------------------------------------------------

/// A finalized statement of the ledger (the page's row, and GET /api/ledger's entry).
#[derive(Serialize, ToSchema)]
pub struct LedgerRow {
    #[serde(rename = "contract")]
    pub contract_id: String,
    pub version: u32,
    pub milestone: String,
    pub statement_date: String,
    pub total: String,
    /// SHA-256 of the statement's JSON.
    pub sha256: String,
    /// `<when> by <who>`.
    pub finalized: String,
}

/// The outcome of a ledger verification run from the page.
pub struct Verified {
    /// `ok` lines of statements that verify, as `ledger verify` prints them.
    pub ok: Vec<String>,
    /// Each problem, naming its statement or record.
    pub problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "ledger.html")]
pub struct LedgerPage {
    pub nav: Nav,
    pub rows: Vec<LedgerRow>,
    /// Admins and auditors may verify the ledger.
    pub can_verify: bool,
    pub verified: Option<Verified>,
}

/// Finalized statements in the viewer's scope.
async fn ledger_rows(state: &AppState, viewer: &Viewer) -> Result<Vec<LedgerRow>, WebError> {
    Ok((viewer.reader(state).ledger().await?)
        .into_iter()
        .map(|s| LedgerRow {
            contract_id: s.contract_id,
            version: s.contract_version,
            milestone: s.milestone,
            statement_date: s.statement_date,
            total: format_cents(from_cents(s.total_cents)),
            sha256: s.content_sha256,
            finalized: format!("{} by {}", s.finalized_at, s.finalized_by),
        })
        .collect())
}

async fn render_ledger(
    state: &AppState,
    viewer: &Viewer,
    verified: Option<Verified>,
) -> Result<Response, WebError> {
    Ok(render(&LedgerPage {
        nav: Nav::of(viewer),
        rows: ledger_rows(state, viewer).await?,
        can_verify: access::AUDITORS.admits(viewer.role()),
        verified,
    }))
}

/// GET /ledger: the finalized statements the viewer may see.
pub async fn ledger_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    render_ledger(&state, &viewer, None).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// POST /ledger/verify (admins, auditors): runs `obc ledger verify`'s check and shows every
/// problem, or that the ledger verified. It only reads, but takes the form token all the same
/// (it is expensive; no other site should start it).
pub async fn verify_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    viewer.check_csrf(form.csrf.as_deref())?;
    let report = viewer.audit_log(&state)?.verify_ledger().await?;
    let mut verified = Verified {
        ok: Vec::new(),
        problems: Vec::new(),
    };
    for v in &report.statements {
        if v.problems.is_empty() {
            verified.ok.push(format!(
                "{} / {} (sha256 {})",
                v.contract_id, v.milestone, v.sha256
            ));
        }
        for p in &v.problems {
            verified
                .problems
                .push(format!("{} / {}: {p}", v.contract_id, v.milestone));
        }
    }
    for p in &report.other_problems {
        verified
            .problems
            .push(format!("{}: {}", p.record, p.problem));
    }
    render_ledger(&state, &viewer, Some(verified)).await
}

/// GET /api/ledger: the finalized statements the caller may see.
async fn ledger_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
) -> Result<Json<Vec<LedgerRow>>, ApiError> {
    Ok(Json(ledger_rows(&state, &viewer).await?))
}

/// The ledger's and the audit log's paths in the OpenAPI document.
pub(crate) fn openapi_paths() -> serde_json::Map<String, serde_json::Value> {
    use crate::schemas;
    let ok = schemas::read_answers;
    let paths = serde_json::json!({
        "/api/ledger": {"get": {"summary": "Finalized statements in scope, with their SHA-256", "responses": ok("Statements", schemas::list_of::<LedgerRow>())}},
        "/api/audit": {"get": {
            "summary": "The audit log (admin, auditor), newest first, every event that passes the filters",
            "parameters": [
                {"name": "actor", "in": "query", "description": "The username exactly", "schema": {"type": "string"}},
                {"name": "action", "in": "query", "description": "The action exactly (login), or a family ending in '.' (import.)", "schema": {"type": "string"}},
                {"name": "from", "in": "query", "description": "Events on this UTC day or later", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "description": "Events on this UTC day or earlier", "schema": {"type": "string", "format": "date"}},
                {"name": "contract", "in": "query", "description": "Events on the contract and its statements", "schema": {"type": "string"}}
            ],
            "responses": ok("Audit events", schemas::list_of::<AuditEntry>())
        }}
    });
    schemas::paths(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_csv_quotes_and_neutralizes_cells() {
        let csv = events_csv(&[AuditEvent {
            id: 7,
            at: "2025-01-01T00:00:00Z".into(),
            actor: "=cmd".into(),
            action: "import.sessions".into(),
            record: "provider:p".into(),
            detail: "a.csv: 1 added, 0 replaced, 0 unchanged".into(),
        }]);
        assert_eq!(
            csv,
            "id,at,actor,action,record,detail\n7,2025-01-01T00:00:00Z,'=cmd,import.sessions,provider:p,\"a.csv: 1 added, 0 replaced, 0 unchanged\"\n"
        );
    }

    #[test]
    fn the_filter_keeps_only_what_was_given_and_refuses_bad_dates() {
        let query = AuditQuery {
            actor: " admin ".into(),
            from: "2025-01-02".into(),
            page: Some(3),
            ..AuditQuery::default()
        };
        let filter = query.filter().unwrap();
        assert_eq!(filter.actor.as_deref(), Some("admin"));
        assert_eq!(filter.from.as_deref(), Some("2025-01-02"));
        assert_eq!(filter.action, None);
        assert_eq!(query.query_string(), "actor=+admin+&from=2025-01-02");
        let bad = AuditQuery {
            to: "yesterday".into(),
            ..AuditQuery::default()
        };
        assert_eq!(
            bad.filter().unwrap_err().status,
            axum::http::StatusCode::BAD_REQUEST
        );
    }
}
