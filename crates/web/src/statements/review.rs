//! Review and disputes on the statement page and in the API (SPEC 5.12): the intermediary
//! issues a draft and resolves disputes; district staff of the contract's district and provider
//! staff of its provider approve it or dispute lines. The scope is checked on the server: a
//! contract outside the viewer's scope answers 404.

use crate::access::{self, Effect, Reader, RouteSpec, ScopedContract, WriteCapability};
use crate::auth::Viewer;
use crate::error::{csrf_header, ApiError, ApiViewer};
use crate::{AppState, WebError};
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Json;
use obc_core::money::{format_cents, from_cents};
use obc_core::review::{Disputed, Party, Ruling, Step};
use obc_store::{Role, StoredReview};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

/// The review's routes: the intermediary issues and resolves, the parties approve and dispute.
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/contracts/{id}/statements/{milestone}/issue",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(issue_form),
    },
    RouteSpec {
        method: "POST",
        path: "/contracts/{id}/statements/{milestone}/approve",
        allowed: access::PARTIES,
        effect: Effect::Writes,
        handler: || post(approve_form),
    },
    RouteSpec {
        method: "POST",
        path: "/contracts/{id}/statements/{milestone}/dispute",
        allowed: access::PARTIES,
        effect: Effect::Writes,
        handler: || post(dispute_form),
    },
    RouteSpec {
        method: "POST",
        path: "/contracts/{id}/statements/{milestone}/resolve",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(resolve_form),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts/{id}/statements/{milestone}/review",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(review_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts/{id}/statements/{milestone}/issue",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(issue_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts/{id}/statements/{milestone}/approve",
        allowed: access::PARTIES,
        effect: Effect::Writes,
        handler: || post(approve_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts/{id}/statements/{milestone}/dispute",
        allowed: access::PARTIES,
        effect: Effect::Writes,
        handler: || post(dispute_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts/{id}/statements/{milestone}/resolve",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(resolve_api),
    },
];

/// The party a viewer reviews for: district staff for their district, provider staff for
/// their provider; nobody else approves or disputes.
fn party_of(viewer: &Viewer) -> Result<Party, WebError> {
    match viewer.role() {
        Role::District => Ok(Party::District),
        Role::Provider => Ok(Party::Provider),
        _ => Err(WebError::forbidden(
            "only the district's and the provider's staff approve or dispute a statement",
        )),
    }
}

/// A contract the viewer may see with the milestone; else 404.
async fn in_scope(
    reader: &Reader<'_>,
    id: &str,
    milestone: &str,
) -> Result<ScopedContract, WebError> {
    let cv = reader.contract(id).await?;
    cv.contract
        .milestone(milestone)
        .ok_or_else(WebError::not_found)?;
    Ok(cv)
}

/// The intermediary's capability to issue and resolve.
fn intermediary(viewer: &Viewer, csrf: Option<&str>) -> Result<WriteCapability, WebError> {
    viewer.may_write_as(&[Role::Admin], csrf)
}

/// A party's capability to approve and dispute.
fn party(viewer: &Viewer, csrf: Option<&str>) -> Result<WriteCapability, WebError> {
    viewer.may_write_as(&[Role::District, Role::Provider], csrf)
}

async fn issue(
    state: &AppState,
    viewer: &Viewer,
    cap: &WriteCapability,
    id: &str,
    milestone: &str,
) -> Result<StoredReview, WebError> {
    let cv = in_scope(&viewer.reader(state), id, milestone).await?;
    let today = obc_app::review::today();
    Ok(cap
        .writer(state)
        .issue_statement(&cv, milestone, today)
        .await?)
}

/// Records a step with the capability of the role that takes it: parties approve and
/// dispute (`party`), the intermediary resolves (`intermediary`).
async fn step(
    state: &AppState,
    viewer: &Viewer,
    cap: &WriteCapability,
    id: &str,
    milestone: &str,
    step: Step,
) -> Result<StoredReview, WebError> {
    let cv = in_scope(&viewer.reader(state), id, milestone).await?;
    Ok(cap.writer(state).review_step(&cv, milestone, step).await?)
}

/// A dispute's fields, from a form or a JSON body; a blank student disputes the whole statement.
#[derive(Deserialize)]
pub struct DisputeFields {
    csrf: Option<String>,
    student: Option<String>,
    #[serde(default)]
    reason: String,
}

impl DisputeFields {
    fn step(self, viewer: &Viewer) -> Result<Step, WebError> {
        let student = self.student.filter(|s| !s.trim().is_empty());
        Ok(Step::Dispute {
            party: party_of(viewer)?,
            disputed: student.map_or(Disputed::Statement, |s| Disputed::Student(s.trim().into())),
            reason: self.reason,
        })
    }
}

/// A resolution's fields, from a form or a JSON body.
#[derive(Deserialize)]
pub struct ResolveFields {
    csrf: Option<String>,
    dispute: Option<NumberOrText>,
    #[serde(default)]
    ruling: String,
    #[serde(default)]
    reason: String,
}

impl ResolveFields {
    fn step(self) -> Result<Step, WebError> {
        let dispute = match &self.dispute {
            Some(NumberOrText::Number(n)) => Some(*n),
            Some(NumberOrText::Text(t)) => t.trim().parse::<usize>().ok(),
            None => None,
        }
        .ok_or_else(|| WebError::bad_request("dispute: expected a dispute number (1, 2, ...)"))?;
        let ruling = Ruling::parse(&self.ruling).ok_or_else(|| {
            WebError::bad_request(format!(
                "ruling {:?}: expected upheld or rejected",
                self.ruling
            ))
        })?;
        Ok(Step::Resolve {
            dispute,
            ruling,
            reason: self.reason,
        })
    }
}

/// A dispute number: a JSON number, or text from a form.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(usize),
    Text(String),
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

fn back_to_statement(id: &str, milestone: &str) -> Response {
    Redirect::to(&format!("/contracts/{id}/statements/{milestone}")).into_response()
}

async fn issue_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let cap = intermediary(&viewer, form.csrf.as_deref())?;
    issue(&state, &viewer, &cap, &id, &milestone).await?;
    Ok(back_to_statement(&id, &milestone))
}

async fn approve_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let cap = party(&viewer, form.csrf.as_deref())?;
    let party = party_of(&viewer)?;
    step(
        &state,
        &viewer,
        &cap,
        &id,
        &milestone,
        Step::Approve { party },
    )
    .await?;
    Ok(back_to_statement(&id, &milestone))
}

async fn dispute_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Form(form): Form<DisputeFields>,
) -> Result<Response, WebError> {
    let cap = party(&viewer, form.csrf.as_deref())?;
    let dispute = form.step(&viewer)?;
    step(&state, &viewer, &cap, &id, &milestone, dispute).await?;
    Ok(back_to_statement(&id, &milestone))
}

async fn resolve_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Form(form): Form<ResolveFields>,
) -> Result<Response, WebError> {
    let cap = intermediary(&viewer, form.csrf.as_deref())?;
    let resolution = form.step()?;
    step(&state, &viewer, &cap, &id, &milestone, resolution).await?;
    Ok(back_to_statement(&id, &milestone))
}

/// A review as JSON (every review route's answer): deadline, approvals, every dispute and
/// its resolution.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReviewBody {
    contract: String,
    milestone: String,
    issued_on: String,
    issued_by: String,
    /// The last day to approve or dispute.
    deadline: String,
    /// SHA-256 of the draft as issued.
    sha256: String,
    total: String,
    approved: Approvals,
    disputes: Vec<DisputeBody>,
}

/// Whether each party approved the issued draft.
#[derive(Serialize, ToSchema)]
pub(crate) struct Approvals {
    district: bool,
    provider: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DisputeBody {
    /// 1 for the first dispute.
    number: usize,
    on: String,
    /// `district` or `provider`.
    party: &'static str,
    /// The disputed student's line; none: the whole statement.
    #[schema(required = true)]
    student: Option<String>,
    reason: String,
    /// None while the dispute is open.
    #[schema(required = true)]
    resolution: Option<Resolution>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Resolution {
    /// `upheld` or `rejected`.
    ruling: &'static str,
    reason: String,
}

fn review_json(review: &StoredReview) -> Result<ReviewBody, WebError> {
    let state = review.state()?;
    let disputes = state
        .disputes()
        .iter()
        .map(|d| DisputeBody {
            number: d.number,
            on: d.on.to_string(),
            party: d.party.as_str(),
            student: match &d.disputed {
                Disputed::Student(s) => Some(s.clone()),
                Disputed::Statement => None,
            },
            reason: d.reason.clone(),
            resolution: d.resolution.as_ref().map(|(ruling, reason)| Resolution {
                ruling: ruling.as_str(),
                reason: reason.clone(),
            }),
        })
        .collect();
    Ok(ReviewBody {
        contract: review.contract_id.clone(),
        milestone: review.milestone.clone(),
        issued_on: review.issued_on.to_string(),
        issued_by: review.issued_by.clone(),
        deadline: review.deadline.to_string(),
        sha256: review.statement_sha256.clone(),
        total: format_cents(from_cents(review.total_cents)),
        approved: Approvals {
            district: state.approved_by(Party::District),
            provider: state.approved_by(Party::Provider),
        },
        disputes,
    })
}

async fn review_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path((id, milestone)): Path<(String, String)>,
) -> Result<Json<ReviewBody>, ApiError> {
    let reader = viewer.reader(&state);
    let cv = in_scope(&reader, &id, &milestone).await?;
    let review = (reader.review(&cv, &milestone).await?).ok_or_else(WebError::not_found)?;
    Ok(Json(review_json(&review)?))
}

async fn issue_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path((id, milestone)): Path<(String, String)>,
) -> Result<Json<ReviewBody>, ApiError> {
    let cap = intermediary(&viewer, csrf_header(&headers))?;
    let review = issue(&state, &viewer, &cap, &id, &milestone).await?;
    Ok(Json(review_json(&review)?))
}

async fn approve_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path((id, milestone)): Path<(String, String)>,
) -> Result<Json<ReviewBody>, ApiError> {
    let cap = party(&viewer, csrf_header(&headers))?;
    let party = party_of(&viewer)?;
    let review = step(
        &state,
        &viewer,
        &cap,
        &id,
        &milestone,
        Step::Approve { party },
    )
    .await?;
    Ok(Json(review_json(&review)?))
}

/// A JSON body, refused with a 400 naming what is wrong.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    serde_json::from_slice(bytes).map_err(|e| WebError::bad_request(format!("request body: {e}")))
}

async fn dispute_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path((id, milestone)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> Result<Json<ReviewBody>, ApiError> {
    let cap = party(&viewer, csrf_header(&headers))?;
    let dispute = body::<DisputeFields>(&bytes)?.step(&viewer)?;
    let review = step(&state, &viewer, &cap, &id, &milestone, dispute).await?;
    Ok(Json(review_json(&review)?))
}

async fn resolve_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path((id, milestone)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> Result<Json<ReviewBody>, ApiError> {
    let cap = intermediary(&viewer, csrf_header(&headers))?;
    let resolution = body::<ResolveFields>(&bytes)?.step()?;
    let review = step(&state, &viewer, &cap, &id, &milestone, resolution).await?;
    Ok(Json(review_json(&review)?))
}

/// The review part of a statement page.
pub struct ReviewSection {
    pub issued: Option<IssuedView>,
    pub can_issue: bool,
    pub can_review: bool,
    pub can_resolve: bool,
}

pub struct IssuedView {
    /// The issued draft's total when the statement shown is not that draft (recomputed since,
    /// e.g. after an upheld dispute's correction).
    pub issued_total_if_changed: Option<String>,
    pub issued_on: String,
    pub issued_by: String,
    pub deadline: String,
    pub district: &'static str,
    pub provider: &'static str,
    pub disputes: Vec<DisputeRow>,
}

pub struct DisputeRow {
    pub number: usize,
    pub on: String,
    pub party: &'static str,
    pub disputed: String,
    pub reason: String,
    pub resolution: String,
    pub open: bool,
}

/// What the statement page shows of a milestone's review, and which forms the viewer gets.
pub async fn section(
    reader: &Reader<'_>,
    viewer: &Viewer,
    cv: &ScopedContract,
    milestone: &str,
    finalized: bool,
    shown_sha256: &(dyn Fn() -> String + Sync),
) -> Result<ReviewSection, WebError> {
    let review = reader.review(cv, milestone).await?;
    let role = viewer.role();
    // The shown statement's hash costs a serialization of every line: only with a review.
    let issued = review
        .as_ref()
        .map(|r| issued_view(r, &shown_sha256()))
        .transpose()?;
    let open = issued
        .as_ref()
        .is_some_and(|i| i.disputes.iter().any(|d| d.open));
    Ok(ReviewSection {
        can_issue: role == Role::Admin && !finalized && issued.is_none(),
        can_review: matches!(role, Role::District | Role::Provider)
            && !finalized
            && issued.is_some(),
        can_resolve: role == Role::Admin && !finalized && open,
        issued,
    })
}

fn issued_view(review: &StoredReview, shown_sha256: &str) -> Result<IssuedView, WebError> {
    let state = review.state()?;
    let approved = |p| {
        if state.approved_by(p) {
            "approved"
        } else {
            "not approved"
        }
    };
    Ok(IssuedView {
        issued_total_if_changed: (review.statement_sha256 != shown_sha256)
            .then(|| format_cents(from_cents(review.total_cents))),
        issued_on: review.issued_on.to_string(),
        issued_by: review.issued_by.clone(),
        deadline: review.deadline.to_string(),
        district: approved(Party::District),
        provider: approved(Party::Provider),
        disputes: state
            .disputes()
            .iter()
            .map(|d| DisputeRow {
                number: d.number,
                on: d.on.to_string(),
                party: d.party.as_str(),
                disputed: d.disputed.to_string(),
                reason: d.reason.clone(),
                resolution: match &d.resolution {
                    Some((ruling, reason)) => format!("{}: {reason}", ruling.as_str()),
                    None => "open".into(),
                },
                open: d.resolution.is_none(),
            })
            .collect(),
    })
}

/// The OpenAPI paths of the review routes.
pub fn openapi_paths() -> serde_json::Map<String, Value> {
    let params = json!([
        {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "milestone", "in": "path", "required": true, "schema": {"type": "string"}}
    ]);
    let answers = json!({
        "200": crate::schemas::json_response("The review: deadline, approvals, disputes and resolutions", crate::schemas::of::<ReviewBody>()),
        "400": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"},
        "409": {"$ref": "#/components/responses/Error"}
    });
    let post = |summary: &str, body: Option<Value>| {
        let mut op =
            json!({"post": {"summary": summary, "parameters": params, "responses": answers}});
        if let Some(schema) = body {
            op["post"]["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        op
    };
    let base = "/api/contracts/{id}/statements/{milestone}";
    let mut paths = serde_json::Map::new();
    paths.insert(
        format!("{base}/review"),
        json!({"get": {"summary": "The review of an issued draft (SPEC 5.12), in the caller's scope", "parameters": params, "responses": answers}}),
    );
    paths.insert(
        format!("{base}/issue"),
        post(
            "Issue the draft for review until today + review_days (admin)",
            None,
        ),
    );
    paths.insert(
        format!("{base}/approve"),
        post(
            "Approve the issued draft for the caller's party (district or provider staff)",
            None,
        ),
    );
    paths.insert(
        format!("{base}/dispute"),
        post(
            "Dispute a student's line, or the whole statement without `student`, with a reason, until the deadline (district or provider staff)",
            Some(json!({"type": "object", "required": ["reason"], "properties": {"student": {"type": "string"}, "reason": {"type": "string"}}})),
        ),
    );
    paths.insert(
        format!("{base}/resolve"),
        post(
            "Resolve a dispute: upheld (after the data is corrected) or rejected, with a reason (admin)",
            Some(json!({"type": "object", "required": ["dispute", "ruling", "reason"], "properties": {"dispute": {"type": "integer", "minimum": 1, "description": "The dispute's number, 1 for the first"}, "ruling": {"type": "string", "enum": ["upheld", "rejected"]}, "reason": {"type": "string"}}})),
        ),
    );
    paths
}
