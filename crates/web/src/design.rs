//! The "Design" page (SPEC 7): a draft contract checked before anyone signs it. Admins and
//! district staff upload a contract document and see its lint findings, a simulation of what
//! it would pay with its spread as a chart, and its printable exhibit. Nothing is stored: the
//! draft lives only for the request.
//!
//! The same page chooses the students who most need tutoring (`obc target`): the rules'
//! words go through `obc_core::design::target`'s parser and selection, over the imported
//! roster and results of one district: the viewer's own for district staff (decided here, on
//! the server), the one an admin picks.

use crate::access::{DesignDistrict, Designer};
use crate::auth::Viewer;
use crate::charts::{self, CountBin, ShareRow};
use crate::layout::{render, Nav};
use crate::upload::read_upload;
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use obc_core::design::lint::{lint, LintOptions};
use obc_core::design::simulate::{self, Assumptions, Plan, Population};
use obc_core::design::target::{share, Cut, RulesText, Selection};
use obc_core::money::format_cents;
use obc_core::Contract;
use obc_store::Role;
use rust_decimal::Decimal;
use serde::Deserialize;

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
    pub target: TargetForm,
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

pub async fn design_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    let target = TargetForm::new(&viewer.designer(&state)?, TargetQuery::default()).await?;
    Ok(render(&DesignPage {
        nav: Nav::of(&viewer),
        review: None,
        target,
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
pub async fn review(
    State(state): State<AppState>,
    viewer: Viewer,
    multipart: Multipart,
) -> Result<Response, WebError> {
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
    let target = TargetForm::new(&viewer.designer(&state)?, TargetQuery::default()).await?;
    Ok(render(&DesignPage {
        nav: Nav::of(&viewer),
        review: Some(review),
        target,
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
    let bins: Vec<CountBin> = bins
        .iter()
        .map(|b| CountBin {
            from: format!("${}", format_cents(b.from)),
            to: format!("${}", format_cents(b.to)),
            count: u64::from(b.years),
        })
        .collect();
    charts::binned_histogram("Simulated years by what the district pays", "years", &bins)
}

/// The target form's fields as the query string carries them: choosing students changes
/// nothing, so the form is a GET, and the download repeats the same query. Grades and flags
/// are comma-separated, as `obc target --grades 6,7` writes them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TargetQuery {
    /// Admins only: the district whose students are chosen.
    pub district: Option<String>,
    #[serde(default)]
    pub grades: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub term: String,
    /// `percentile` or `rit`: what `below` cuts.
    #[serde(default)]
    pub cut: String,
    #[serde(default)]
    pub below: String,
    #[serde(default)]
    pub flags: String,
    #[serde(default)]
    pub max_per_school: String,
    /// The enrollment CSV's start date (YYYY-MM-DD), for the download.
    #[serde(default)]
    pub start: String,
}

/// Words separated by commas, blanks left out.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

impl TargetQuery {
    /// The rules' words, for the one parser every front end uses.
    fn rules_text(&self) -> Result<RulesText, WebError> {
        let below = Some(self.below.clone());
        let (percentile_below, rit_below) = match self.cut.as_str() {
            "percentile" => (below, None),
            "rit" => (None, below),
            other => {
                return Err(WebError::bad_request(format!(
                    "cut \"{other}\": expected percentile or rit"
                )))
            }
        };
        let max = self.max_per_school.trim();
        let max_per_school = if max.is_empty() {
            None
        } else {
            Some(max.parse::<usize>().map_err(|_| {
                WebError::bad_request(format!(
                    "max_per_school \"{max}\": expected a whole number of students, or blank"
                ))
            })?)
        };
        Ok(RulesText {
            grades: comma_list(&self.grades),
            subject: self.subject.clone(),
            term: self.term.clone(),
            percentile_below,
            rit_below,
            flags: comma_list(&self.flags),
            max_per_school,
        })
    }
}

/// The target form, filled with what was asked, and the selection when there is one.
pub struct TargetForm {
    pub query: TargetQuery,
    /// Admins choose among these; empty for district staff, whose district is their own.
    pub districts: Vec<String>,
    pub result: Option<TargetView>,
}

impl TargetForm {
    async fn new(designer: &Designer<'_>, query: TargetQuery) -> Result<TargetForm, WebError> {
        Ok(TargetForm {
            query,
            districts: designer.districts().await?,
            result: None,
        })
    }

    fn is_cut(&self, cut: &str) -> bool {
        self.query.cut == cut || (self.query.cut.is_empty() && cut == "percentile")
    }

    fn is_district(&self, district: &str) -> bool {
        self.query.district.as_deref() == Some(district)
    }
}

/// A count of the selection next to the district's.
pub struct EquityRow {
    pub name: String,
    pub selected: usize,
    pub selected_share: String,
    pub district: usize,
    pub district_share: String,
}

/// The selection's equity view as the page shows it.
pub struct TargetView {
    pub district: String,
    pub chosen: usize,
    pub district_students: usize,
    pub over_school_cap: usize,
    pub rule: String,
    /// Per school: selected and share of the school's students, next to the school's size.
    pub schools: Vec<EquityRow>,
    /// Per flag: share of the selection carrying it, next to its share of the district.
    pub flags: Vec<EquityRow>,
    pub chart: String,
}

/// Chooses the students of the query's rules in the viewer's district.
async fn select(
    designer: &Designer<'_>,
    query: &TargetQuery,
) -> Result<(DesignDistrict, Selection), WebError> {
    let district = designer.district(query.district.as_deref()).await?;
    let rules = query.rules_text()?.rules().map_err(WebError::bad_request)?;
    let selection = designer.target(&district, &rules).await?;
    Ok((district, selection))
}

/// `GET /design/target`: the selection's counts by school and by flag next to the district's.
pub async fn target(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<TargetQuery>,
) -> Result<Response, WebError> {
    let designer = viewer.designer(&state)?;
    let (district, selection) = select(&designer, &query).await?;
    let mut form = TargetForm::new(&designer, query).await?;
    form.query.district = Some(district.id().to_string());
    form.result = Some(target_view(district.id().to_string(), &selection));
    Ok(render(&DesignPage {
        nav: Nav::of(&viewer),
        review: None,
        target: form,
    }))
}

/// `GET /design/target/enrollment.csv`: the selection as the enrollment CSV of SPEC 3.4, the
/// same bytes `obc target --out` writes. A list of students leaving obc: audited.
pub async fn target_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<TargetQuery>,
) -> Result<Response, WebError> {
    let designer = viewer.designer(&state)?;
    let (district, selection) = select(&designer, &query).await?;
    let start = obc_core::model::parse_user_date(query.start.trim())
        .map_err(|why| WebError::bad_request(format!("start \"{}\": {why}", query.start)))?;
    designer
        .record_export(
            &district,
            &format!("{} students, start {start}", selection.chosen.len()),
        )
        .await?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"enrollment-{}.csv\"", district.id()),
            ),
        ],
        selection.enrollment_csv(start),
    )
        .into_response())
}

fn target_view(district: String, s: &Selection) -> TargetView {
    let n = s.chosen.len();
    let r = &s.rules;
    let cut = match r.cut {
        Cut::PercentileBelow(p) => format!("percentile below {p}"),
        Cut::RitBelow(p) => format!("RIT below {p}"),
    };
    let grades = if r.grades.is_empty() {
        "every grade".to_string()
    } else {
        let g: Vec<String> = r.grades.iter().map(|g| g.to_string()).collect();
        format!("grades {}", g.join(", "))
    };
    let flags = if r.flags.is_empty() {
        "no flag required".to_string()
    } else {
        format!("flags {}", r.flags.join(", "))
    };
    let cap = r
        .max_per_school
        .map_or("no cap per school".to_string(), |m| {
            format!("at most {m} per school")
        });
    let schools = s
        .by_school
        .iter()
        .map(|(name, c)| EquityRow {
            name: name.clone(),
            selected: c.selected,
            selected_share: share(c.selected, c.district),
            district: c.district,
            district_share: share(c.district, s.district_students),
        })
        .collect();
    let flag_rows: Vec<EquityRow> = s
        .by_flag
        .iter()
        .map(|(name, c)| EquityRow {
            name: name.clone(),
            selected: c.selected,
            selected_share: share(c.selected, n),
            district: c.district,
            district_share: share(c.district, s.district_students),
        })
        .collect();
    let percent = |count: usize, total: usize| {
        if total == 0 {
            0.0
        } else {
            count as f64 * 100.0 / total as f64
        }
    };
    let rows: Vec<ShareRow> = s
        .by_flag
        .iter()
        .map(|(name, c)| ShareRow {
            label: name.clone(),
            first: percent(c.selected, n),
            second: percent(c.district, s.district_students),
        })
        .collect();
    TargetView {
        district,
        chosen: n,
        district_students: s.district_students,
        over_school_cap: s.over_school_cap,
        rule: format!("{} {}, {cut}; {grades}; {flags}; {cap}", r.subject, r.term),
        schools,
        flags: flag_rows,
        chart: charts::share_bars(
            "Each subgroup's share of the selection and of the district",
            ("selection", "district"),
            &rows,
        ),
    }
}
