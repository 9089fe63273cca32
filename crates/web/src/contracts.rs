//! Contracts: the dashboard (every contract in scope with its figures, and the provider's own
//! section, `contracts/provider_console.rs`), a contract's page (terms, milestones, charts,
//! schools), and their JSON (`contracts/api.rs`: the list, a contract, adding one).

mod api;
pub mod provider_console;

pub(crate) use api::{openapi_paths, ContractDetail, ContractListed};

use crate::access::{self, Effect, RouteSpec};
use crate::auth::Viewer;
use crate::charts::{self, StepKind, WaterfallStep};
use crate::figures::ContractFigures;
use crate::format::contingent_milestone;
use crate::layout::{render, Nav};
use crate::upload::upload_route;
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use obc_core::money::format_dollars;
use obc_core::statement::SchoolTotal;
use obc_core::Statement;
use obc_store::ContractVersion;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::{BTreeSet, HashMap};

/// The dashboard, a contract's page, and their JSON.
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(dashboard),
    },
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(contract),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(api::contracts),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || upload_route("contract"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts/{id}",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(api::contract),
    },
];

/// A contract in scope, with the figures of its contingent statement as of its date.
pub struct ContractRow {
    pub id: String,
    pub district: String,
    pub provider: String,
    pub version: u32,
    pub students: u32,
    pub met_target: u32,
    pub paid: String,
    pub projected_total: String,
    pub cost_per_outcome: String,
    /// The meeting cadence checked today.
    pub meetings: crate::format::MeetingFlag,
    /// Why the contract's figures cannot be computed (data obc refuses to compute with), shown
    /// in their place so the other contracts stay visible.
    pub problem: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub nav: Nav,
    pub rows: Vec<ContractRow>,
    /// The provider's own sessions and uploads (provider staff only).
    pub provider: Option<provider_console::ProviderSection>,
}

/// GET /: every contract in scope with its figures, and the provider's own section.
pub async fn dashboard(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    let reader = viewer.reader(&state);
    let mut rows = Vec::new();
    for cv in reader.contracts().await? {
        let meetings = reader.meeting_flag(&cv).await?;
        let draft = reader.summary(&cv, contingent_milestone(&cv)).await;
        let (id, district, provider) = (
            cv.id().to_string(),
            cv.contract.district.clone(),
            cv.contract.provider.clone(),
        );
        let draft = match draft {
            Ok(draft) => draft,
            Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
                rows.push(ContractRow {
                    id,
                    district,
                    provider,
                    version: cv.version,
                    students: 0,
                    met_target: 0,
                    paid: String::new(),
                    projected_total: String::new(),
                    cost_per_outcome: String::new(),
                    meetings,
                    problem: Some(e.message),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let t = &draft.totals;
        rows.push(ContractRow {
            id,
            district,
            provider,
            version: cv.version,
            students: t.students,
            met_target: t.met_target,
            paid: format_dollars(t.paid_before),
            projected_total: format_dollars(t.paid_before + t.statement_total),
            cost_per_outcome: t
                .cost_per_outcome
                .map(format_dollars)
                .unwrap_or_else(|| "none".into()),
            meetings,
            problem: None,
        });
    }
    Ok(render(&DashboardPage {
        nav: Nav::of(&viewer),
        rows,
        provider: provider_console::section(&reader).await?,
    }))
}

pub struct MilestoneRow {
    pub name: String,
    pub date: String,
    pub base_share: String,
    pub contingent: bool,
    pub finalized: String,
}

#[derive(Template)]
#[template(path = "contract.html")]
pub struct ContractPage {
    pub nav: Nav,
    pub id: String,
    pub version: u32,
    pub sha256: String,
    pub district: String,
    pub provider: String,
    pub price: String,
    pub share: String,
    pub nte: String,
    pub source: String,
    pub milestones: Vec<MilestoneRow>,
    /// Once the contingent milestone is finalized: what late data changes (SPEC 5.11), else
    /// empty.
    pub changes_since_final: String,
    pub students: u32,
    pub met_target: u32,
    pub total_cost: String,
    pub cost_per_outcome: String,
    pub growth_chart: String,
    /// Why "at or above projection" and "met the target" differ (empty when they agree).
    pub target_note: String,
    pub attendance_chart: String,
    pub waterfall_chart: String,
    pub schools: Vec<SchoolRow>,
}

/// A school's students on the final statement as it stands.
pub struct SchoolRow {
    pub school: String,
    pub students: u32,
    pub met_target: u32,
    pub district_fault: u32,
    pub provider_fault: u32,
    pub excluded: u32,
    pub contingent: String,
    pub total: String,
}

/// Each school's row, named as the roster names it.
fn school_rows(schools: &[SchoolTotal], names: &HashMap<String, String>) -> Vec<SchoolRow> {
    schools
        .iter()
        .map(|s| SchoolRow {
            school: crate::format::school_name(names, &s.school_id).to_string(),
            students: s.students,
            met_target: s.met_target,
            district_fault: s.district_fault,
            provider_fault: s.provider_fault,
            excluded: s.excluded,
            contingent: format_dollars(s.contingent),
            total: format_dollars(s.total),
        })
        .collect()
}

/// "changes since the final statement: +$X for N students", from the draft closing statement.
fn changes_since_final(closing: &Statement) -> String {
    let total = closing.totals.statement_total;
    let students: BTreeSet<&str> = closing
        .adjustments
        .iter()
        .map(|a| a.student_id.as_str())
        .collect();
    if total.is_zero() && students.is_empty() {
        return "No changes since the final statement.".to_string();
    }
    format!(
        "Changes since the final statement: {}{} for {} student{} (a closing statement pays them: obc statement --contract {} --closing --as-of DATE).",
        if total.is_sign_negative() { "-" } else { "+" },
        format_dollars(total.abs()),
        students.len(),
        if students.len() == 1 { "" } else { "s" },
        closing.contract_id
    )
}

/// GET /contracts/{id}: a contract's terms, milestones, charts and schools.
pub async fn contract(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let reader = viewer.reader(&state);
    let cv = reader.contract(&id).await?;
    let c = &cv.contract;
    let mut milestones = Vec::new();
    for m in &c.milestones {
        let finalized = reader.finalized_record(&cv, &m.name).await?;
        milestones.push(MilestoneRow {
            name: m.name.clone(),
            date: m.date.to_string(),
            base_share: (m.base_share * Decimal::ONE_HUNDRED)
                .normalize()
                .to_string()
                + "%",
            contingent: m.contingent,
            finalized: finalized
                .map(|f| {
                    format!(
                        "finalized {} ({})",
                        f.finalized_at,
                        format_dollars(obc_core::money::from_cents(f.total_cents))
                    )
                })
                .unwrap_or_else(|| "draft".into()),
        });
    }
    let today = time::OffsetDateTime::now_utc().date();
    let changes_since_final = (reader.changes_since_final(&cv, today).await?)
        .map(|closing| changes_since_final(&closing))
        .unwrap_or_default();
    // One stored draft serves the statement and the attendance chart.
    let draft = reader.draft(&cv, contingent_milestone(&cv)).await?;
    let attendance = weekly_attendance(&draft.summary.weekly_attendance);
    let statement = &draft.statement;
    let t = &statement.totals;
    let figures = (state.figures.contract).of(statement, |s| contract_figures(&id, s));
    Ok(render(&ContractPage {
        nav: Nav::of(&viewer),
        id: id.clone(),
        version: cv.version,
        sha256: cv.sha256.clone(),
        district: c.district.clone(),
        provider: c.provider.clone(),
        price: format_dollars(c.price_per_student),
        share: (c.contingent_share * Decimal::ONE_HUNDRED)
            .normalize()
            .to_string()
            + "%",
        nte: format_dollars(c.not_to_exceed),
        source: cv.source.clone(),
        milestones,
        changes_since_final,
        students: t.students,
        met_target: t.met_target,
        total_cost: format_dollars(t.paid_before + t.statement_total),
        cost_per_outcome: t
            .cost_per_outcome
            .map(format_dollars)
            .unwrap_or_else(|| "none".into()),
        growth_chart: figures.growth_chart.clone(),
        target_note: figures.target_note.clone(),
        attendance_chart: charts::line_chart(
            "Weekly attendance rate (attended / offered)",
            &attendance,
            1.0,
            Some((
                c.attendance.min_rate.to_f64().unwrap_or(0.0),
                "contract minimum",
            )),
        ),
        waterfall_chart: charts::waterfall(
            "From full price to amount payable",
            &waterfall(&cv, statement),
        ),
        schools: school_rows(
            &state.figures.schools(statement),
            &*reader.school_names(&cv).await?,
        ),
    }))
}

/// What the contract page shows of a statement's lines: derived once per statement (a pass
/// over every line, 100,000 at state scale).
fn contract_figures(contract: &str, statement: &Statement) -> ContractFigures {
    let growth: Vec<f64> = statement
        .lines
        .iter()
        .filter_map(|l| l.growth_vs_projected.and_then(|g| g.round(4).to_f64()))
        .collect();
    ContractFigures {
        growth_chart: charts::histogram_linked(
            "Growth versus projected growth, per student",
            &growth,
            0.25,
            Some((1.0, "meets projection")),
            &|from, to| growth_bin_link(contract, from, to),
        ),
        target_note: obc_core::progress::reconcile_target(&statement.lines).explain(),
    }
}

/// The students list of a contract filtered to one bin of the growth histogram.
fn growth_bin_link(contract: &str, from: Option<f64>, to: Option<f64>) -> String {
    let edge = |e: Option<f64>| e.map(|e| e.to_string()).unwrap_or_default();
    let (from, to) = (edge(from), edge(to));
    crate::listing::href(
        &format!("/contracts/{contract}/students"),
        &[("measure_from", &from), ("measure_to", &to)],
    ) + "#students"
}

/// Attended / offered per week (Monday), over all enrolled students.
fn weekly_attendance(weeks: &[obc_app::drafts::WeekAttendance]) -> Vec<(String, Option<f64>)> {
    weeks
        .iter()
        .map(|w| {
            let rate = (w.offered > 0).then(|| f64::from(w.attended) / f64::from(w.offered));
            (w.week.to_string(), rate)
        })
        .collect()
}

/// Full price, what each rule took away or added, the cap, and what is payable in all.
fn waterfall(cv: &ContractVersion, statement: &Statement) -> Vec<WaterfallStep> {
    use obc_core::waterfall::{payment_waterfall, StepKind as Step};
    payment_waterfall(&cv.contract, &statement.totals)
        .into_iter()
        .map(|s| WaterfallStep {
            kind: match s.kind {
                Step::Total => StepKind::Total,
                Step::Change if s.amount > Decimal::ZERO => StepKind::Increase,
                Step::Change => StepKind::Decrease,
            },
            amount: s.amount.to_f64().unwrap_or(0.0),
            amount_text: format_dollars(s.amount),
            label: s.label,
        })
        .collect()
}
