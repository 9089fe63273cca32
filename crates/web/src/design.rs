//! The "Design" page (SPEC 7): a draft contract checked before anyone signs it. Admins and
//! district staff upload a contract document and see its lint findings, a simulation of what
//! it would pay with its spread as a chart, and its printable exhibit. Nothing is stored: the
//! draft lives only for the request.

use crate::auth::Viewer;
use crate::charts::{self, StepKind, WaterfallStep};
use crate::pages::{read_upload, render, Nav};
use crate::WebError;
use askama::Template;
use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use obc_core::design::lint::{lint, LintOptions};
use obc_core::design::simulate::{self, Assumptions, Plan, Population};
use obc_core::money::format_cents;
use obc_core::Contract;
use obc_store::Role;
use rust_decimal::Decimal;

/// The simulation the page runs: fixed, so the same draft always shows the same figures, and
/// modest, so a page answers in about a second on a small server.
const SIMULATED_YEARS: u32 = 200;
const SIMULATED_STUDENTS: u32 = 300;
const SIMULATION_SEED: u64 = 7;

/// Who may use the design tools.
const DESIGNERS: [Role; 2] = [Role::Admin, Role::District];

#[derive(Template)]
#[template(path = "design.html")]
pub struct DesignPage {
    pub nav: Nav,
    pub review: Option<Review>,
}

/// What the page shows of an uploaded draft.
pub struct Review {
    pub file_name: String,
    pub contract_id: String,
    pub findings: Vec<FindingRow>,
    pub lint_assumptions: Vec<(String, String)>,
    pub simulation: SimulationView,
}

/// One lint finding as a table row.
pub struct FindingRow {
    pub check: String,
    pub severity: &'static str,
    pub message: String,
    /// The finding's numbers as `name = value`, in name order.
    pub numbers: Vec<String>,
}

/// The simulation's summary, its printed assumptions and the chart of what the district pays.
pub struct SimulationView {
    pub years: u32,
    pub students: u32,
    pub seed: u64,
    pub full_price: String,
    pub not_to_exceed: String,
    pub mean: String,
    pub p5: String,
    pub p50: String,
    pub p95: String,
    pub contingent_share_paid: String,
    pub assumptions: Vec<(String, String, String)>,
    pub chart: String,
}

pub async fn design_page(viewer: Viewer) -> Result<Response, WebError> {
    viewer.require(&DESIGNERS)?;
    Ok(render(&DesignPage {
        nav: Nav::of(&viewer),
        review: None,
    }))
}

/// The uploaded draft, parsed, with its exact bytes (the exhibit prints their SHA-256).
struct Draft {
    file_name: String,
    source: String,
    contract: Contract,
}

/// Reads the form's draft; a document that is not a valid contract is refused with every
/// problem's line and column.
async fn read_draft(viewer: &Viewer, multipart: Multipart) -> Result<Draft, WebError> {
    viewer.require(&DESIGNERS)?;
    let upload = read_upload(multipart).await?;
    viewer.check_csrf(upload.csrf.as_deref())?;
    let bytes = upload.body.contract_bytes()?;
    let name = upload.file_name;
    let source = String::from_utf8(bytes)
        .map_err(|_| WebError::bad_request(format!("{name}: a contract is UTF-8 text")))?;
    let contract = Contract::parse(&source).map_err(|e| {
        let problems: Vec<String> = e
            .problems
            .iter()
            .map(|p| format!("{name}:{}:{}: {}", p.line, p.column, p.message))
            .collect();
        WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the contract is not valid: {}", problems.join("; ")),
        )
    })?;
    Ok(Draft {
        file_name: name,
        source,
        contract,
    })
}

/// `POST /design`: the draft's lint findings and simulation.
pub async fn review(viewer: Viewer, multipart: Multipart) -> Result<Response, WebError> {
    let draft = read_draft(&viewer, multipart).await?;
    let report = lint(&draft.contract, None, &LintOptions::default());
    let contract = draft.contract.clone();
    // The simulation is CPU work: off the async workers.
    let simulated = tokio::task::spawn_blocking(move || simulation(&contract))
        .await
        .map_err(|e| {
            WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the simulation failed: {e}"),
            )
        })??;
    let review = Review {
        file_name: draft.file_name,
        contract_id: report.contract_id.clone(),
        findings: report
            .findings
            .iter()
            .map(|f| FindingRow {
                check: f.check.to_string(),
                severity: f.severity.as_str(),
                message: f.message.clone(),
                numbers: f
                    .numbers
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect(),
            })
            .collect(),
        lint_assumptions: report.assumptions.into_iter().collect(),
        simulation: simulated,
    };
    Ok(render(&DesignPage {
        nav: Nav::of(&viewer),
        review: Some(review),
    }))
}

/// `POST /design/exhibit`: the draft's printable exhibit, as `obc exhibit` writes it.
pub async fn exhibit(viewer: Viewer, multipart: Multipart) -> Result<Response, WebError> {
    let draft = read_draft(&viewer, multipart).await?;
    let hash = obc_core::engine::sha256_hex(draft.source.as_bytes());
    let built = obc_core::design::exhibit::build(&draft.contract, &hash)
        .map_err(|e| WebError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let html = crate::exhibit::render_exhibit(&built).map_err(|e| {
        WebError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the exhibit failed to render: {e}"),
        )
    })?;
    Ok(Html(html).into_response())
}

/// The page's simulation: drawn students under the default assumptions, no provider effect
/// (what the contract pays for chance).
fn simulation(contract: &Contract) -> Result<SimulationView, WebError> {
    let plan = Plan {
        years: SIMULATED_YEARS,
        seed: SIMULATION_SEED,
        effect: Decimal::ZERO,
        students: Some(SIMULATED_STUDENTS),
        assumptions: Assumptions::default(),
    };
    let report = simulate::simulate(contract, &Population::Drawn, &plan, &|| {})
        .map_err(|e| WebError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let o = &report.with_effect;
    Ok(SimulationView {
        years: report.years,
        students: report.students,
        seed: report.seed,
        full_price: format_cents(report.full_price),
        not_to_exceed: format_cents(report.not_to_exceed),
        mean: format_cents(o.mean_total),
        p5: format_cents(o.p5),
        p50: format_cents(o.p50),
        p95: format_cents(o.p95),
        contingent_share_paid: format!(
            "{}%",
            (o.contingent_share_paid * Decimal::ONE_HUNDRED).round_dp(1)
        ),
        assumptions: report
            .assumptions
            .iter()
            .map(|a| (a.name.clone(), a.value.clone(), a.source.clone()))
            .collect(),
        chart: cost_chart(&o.histogram),
    })
}

/// The histogram of what the district pays per simulated year, one bar per bin (the bins are
/// the simulator's own, so the chart and `obc simulate` agree).
fn cost_chart(bins: &[simulate::Bin]) -> String {
    let steps: Vec<WaterfallStep> = bins
        .iter()
        .map(|b| WaterfallStep {
            label: format!("{}–{}", format_cents(b.from), format_cents(b.to)),
            amount: f64::from(b.years),
            amount_text: format!("{} years", b.years),
            kind: StepKind::Total,
        })
        .collect();
    charts::waterfall("Simulated years by what the district pays", &steps)
}
