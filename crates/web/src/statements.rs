//! The statement of a milestone on the web, read like an invoice: a one-page summary (parties
//! by name, amounts as `$1,234.56`, the not-to-exceed used and left, why numbers differ), a
//! legend of rules in words, the students' table searched, filtered, sorted and paged, each
//! student's explanation as `obc explain` prints it, the Letter printout, the downloads and
//! finalization behind a confirmation that names the amount.

pub(crate) mod finalize;
mod listing;
mod printout;
pub mod review;
mod summary;
mod table;

pub use printout::{print, PRINT_ALL_MAX};

use crate::access::{self, Effect, Reader, RouteSpec, ScopedContract};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiViewer};
use crate::figures::{Figures, PerArc, StatementChoices};
use crate::layout::{render, Nav};
use crate::listing::{Kept, Names};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Form;
use listing::ListQuery;
use obc_core::money::format_dollars;
use obc_core::rule_words::legend;
use obc_core::Statement;
use obc_store::{Role, StoredStatement};
use serde::Deserialize;
use std::collections::HashMap;
use summary::AmountRow;
use table::{StudentTable, TableView};

/// A statement's pages, downloads, printout and finalization, and its API twin.
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/statements/{milestone}",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(statement),
    },
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/statements/{milestone}/download",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(download),
    },
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/statements/{milestone}/print",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(print),
    },
    RouteSpec {
        method: "POST",
        path: "/contracts/{id}/statements/{milestone}/finalize",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(finalize),
    },
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/statements/{milestone}/finalize",
        allowed: access::ADMIN,
        effect: Effect::Reads,
        handler: || get(confirm_finalize),
    },
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/statements/{milestone}/students/{student}",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(explanation),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts/{id}/statements/{milestone}",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(statement_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts/{id}/statements/{milestone}/finalize",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(finalize::finalize_api),
    },
];

/// GET /api/contracts/{id}/statements/{milestone}: the statement as JSON or CSV.
async fn statement_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path((id, milestone)): Path<(String, String)>,
    Query(query): Query<StatementQuery>,
) -> Result<Response, ApiError> {
    Ok(statement_file(&state, &viewer, &id, &milestone, &query).await?)
}

#[derive(Deserialize, Default)]
pub struct StatementQuery {
    pub as_of: Option<String>,
    pub format: Option<String>,
}

/// Whether the statement shown is the finalized one, a recomputation of it, or a draft.
fn status_text(shown: &Shown) -> String {
    match &shown.finalized {
        Some(f) if shown.sha256() == f.content_sha256 => {
            format!("Finalized {} by {} (sha256 {})", f.finalized_at, f.finalized_by, f.content_sha256)
        }
        Some(f) => format!(
            "Finalized {} by {} with a total of {}; the inputs changed since, so this is a recomputation (corrections go on the next statement)",
            f.finalized_at,
            f.finalized_by,
            format_dollars(obc_core::money::from_cents(f.total_cents))
        ),
        None => "Draft: not finalized".into(),
    }
}

/// A milestone's statement as shown to a viewer who may see its contract: the finalized one,
/// else the stored draft (see [`obc_app::drafts::Drafts::statement_for_display`]).
struct Shown {
    cv: ScopedContract,
    statement: std::sync::Arc<Statement>,
    finalized: Option<StoredStatement>,
    /// The statement is the finalized one read back (no other date was asked for).
    stored: bool,
    /// `&as_of=DATE` when a date was asked for, to keep in links.
    as_of_param: String,
}

async fn shown(
    reader: &Reader<'_>,
    id: &str,
    milestone: &str,
    as_of: Option<&str>,
) -> Result<Shown, WebError> {
    let cv = reader.contract(id).await?;
    cv.contract
        .milestone(milestone)
        .ok_or_else(WebError::not_found)?;
    let as_of = as_of.filter(|d| !d.trim().is_empty());
    let date = obc_app::parse_as_of(as_of).map_err(|e| WebError::bad_request(e.to_string()))?;
    let (statement, finalized) = reader.statement_for_display(&cv, milestone, date).await?;
    Ok(Shown {
        cv,
        statement,
        stored: finalized.is_some() && date.is_none(),
        finalized,
        // A date as it prints (2025-06-30): nothing to encode.
        as_of_param: date.map(|d| format!("&as_of={d}")).unwrap_or_default(),
    })
}

impl Shown {
    /// The statement's content hash: the stored one of a finalized statement read back, else
    /// computed (which serializes every line: only when a page needs it).
    fn sha256(&self) -> String {
        match &self.finalized {
            Some(f) if self.stored => f.content_sha256.clone(),
            _ => self.statement.content_sha256(),
        }
    }
}

/// An organisation as "Name (id)", or its id when it has no other name.
fn party_name(name: String, id: &str) -> String {
    match name {
        name if name != id => format!("{name} ({id})"),
        _ => id.to_string(),
    }
}

/// The parties, period and dates of a statement, as its summary names them.
pub struct Heading {
    pub contract_id: String,
    pub contract_version: u32,
    pub milestone: String,
    pub milestone_date: String,
    pub statement_date: String,
    pub district: String,
    pub provider: String,
    pub period: String,
    pub status: String,
    pub amounts: Vec<AmountRow>,
    pub nte: Vec<AmountRow>,
    pub differences: Vec<String>,
    pub legend: Vec<LegendRow>,
    pub met_target: u32,
    pub cost_per_outcome: String,
}

/// A rule of the statement: its words, its code (as in the CSV), its students and amounts.
pub struct LegendRow {
    pub rule: String,
    pub words: String,
    pub students: u32,
    pub base: String,
    pub contingent: String,
    pub total: String,
}

async fn heading(reader: &Reader<'_>, shown: &Shown) -> Result<Heading, WebError> {
    let (statement, c) = (&shown.statement, &shown.cv.contract);
    let t = &statement.totals;
    let (district, provider) = reader.party_names(&shown.cv).await?;
    let words: HashMap<String, String> = legend(statement).into_iter().collect();
    Ok(Heading {
        contract_id: statement.contract_id.clone(),
        contract_version: statement.contract_version,
        milestone: statement.milestone.clone(),
        milestone_date: statement.milestone_date.clone(),
        statement_date: statement.statement_date.clone(),
        district: party_name(district, &c.district),
        provider: party_name(provider, &c.provider),
        period: format!("{} to {}", c.period.start, c.period.end),
        status: status_text(shown),
        amounts: summary::amounts(statement),
        nte: summary::not_to_exceed(statement, c.not_to_exceed),
        differences: summary::differences(statement, c.not_to_exceed),
        legend: t
            .by_rule
            .iter()
            .map(|r| LegendRow {
                rule: r.rule.clone(),
                words: words.get(&r.rule).cloned().unwrap_or_default(),
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
            .unwrap_or_else(|| "none (no student met the target)".into()),
    })
}

#[derive(Template)]
#[template(path = "statement.html")]
pub struct StatementPage {
    pub nav: Nav,
    pub h: Heading,
    pub can_finalize: bool,
    pub as_of_param: String,
    /// The students' table, rendered on its own (`statement_students.html`).
    pub table: String,
    pub inputs_hash: String,
    pub review: review::ReviewSection,
    /// For the review section, which names them so.
    pub contract_id: String,
    pub milestone: String,
}

/// The table's page asked for by `query`, with names where the viewer may see them.
async fn student_table(
    reader: &Reader<'_>,
    viewer: &Viewer,
    shown: &Shown,
    query: &ListQuery,
    figures: &Figures,
    kept: &PerArc<Statement, Kept>,
) -> Result<StudentTable, WebError> {
    let district = &shown.cv.contract.district;
    // Auditors read statements but never students' names (nor their pages).
    let show_names = viewer.role() != Role::Auditor;
    let schools = reader.school_names(&shown.cv).await?;
    let all_names = match query.needs_all_names() {
        true => reader.student_names(&shown.cv).await?,
        false => None,
    };
    let names = Names {
        students: all_names.clone(),
        schools,
    };
    let kept = kept.of(&shown.statement, |_| Kept::default());
    let listing = listing::list(&shown.statement.lines, &names, &kept, query);
    let page_names = match (&all_names, show_names) {
        (Some(all), _) => listing
            .rows
            .iter()
            .filter_map(|l| Some((l.student_id.clone(), all.get(&l.student_id)?.clone())))
            .collect(),
        (None, true) => {
            let ids: Vec<&str> = listing.rows.iter().map(|l| l.student_id.as_str()).collect();
            reader.student_names_among(&shown.cv, &ids).await?
        }
        (None, false) => HashMap::new(),
    };
    Ok(table::build(
        &shown.statement,
        &listing,
        query,
        &TableView {
            district,
            show_names,
            names: &names,
            page_names: &page_names,
            as_of_param: &shown.as_of_param,
            choices: &(figures.statement).of(&shown.statement, StatementChoices::of),
        },
    ))
}

/// `GET /contracts/{id}/statements/{milestone}`: the summary, the legend, a page of students.
pub async fn statement(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Query(query): Query<StatementQuery>,
    Query(list): Query<ListQuery>,
) -> Result<Response, WebError> {
    let reader = viewer.reader(&state);
    let shown = shown(&reader, &id, &milestone, query.as_of.as_deref()).await?;
    let review = review::section(
        &reader,
        &viewer,
        &shown.cv,
        &milestone,
        shown.finalized.is_some(),
        &|| shown.sha256(),
    )
    .await?;
    let table = student_table(
        &reader,
        &viewer,
        &shown,
        &list,
        &state.figures,
        &state.statement_lists,
    )
    .await?
    .render()
    .map_err(|e| {
        WebError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("page failed to render: {e}"),
        )
    })?;
    Ok(render(&StatementPage {
        nav: Nav::of(&viewer),
        h: heading(&reader, &shown).await?,
        can_finalize: viewer.role() == Role::Admin && shown.finalized.is_none(),
        as_of_param: shown.as_of_param.clone(),
        table,
        inputs_hash: shown.statement.inputs_hash.clone(),
        review,
        contract_id: id,
        milestone,
    }))
}

#[derive(Template)]
#[template(path = "statement_student.html")]
pub struct ExplanationPage {
    pub nav: Nav,
    pub contract_id: String,
    pub milestone: String,
    pub student_id: String,
    pub name: Option<String>,
    pub student_link: Option<String>,
    pub school: String,
    pub rule: String,
    pub base: String,
    pub contingent: String,
    pub total: String,
    pub explanation: String,
    pub back: String,
}

/// `GET /contracts/{id}/statements/{milestone}/students/{student}`: one student's line
/// explained as `obc explain` prints it (counts, rates and their formulas, scores, rule, clauses).
pub async fn explanation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone, student)): Path<(String, String, String)>,
    Query(query): Query<StatementQuery>,
) -> Result<Response, WebError> {
    let reader = viewer.reader(&state);
    let shown = shown(&reader, &id, &milestone, query.as_of.as_deref()).await?;
    let statement = &shown.statement;
    let line = statement
        .lines
        .iter()
        .find(|l| l.student_id == student)
        .ok_or_else(WebError::not_found)?;
    let explanation = statement
        .explain(&student)
        .ok_or_else(WebError::not_found)?;
    let district = &shown.cv.contract.district;
    let show_names = viewer.role() != Role::Auditor;
    let name = (reader
        .student_names_among(&shown.cv, &[student.as_str()])
        .await?)
        .remove(&student);
    let schools = reader.school_names(&shown.cv).await?;
    Ok(render(&ExplanationPage {
        nav: Nav::of(&viewer),
        student_link: show_names.then(|| format!("/students/{district}/{student}")),
        name,
        school: format!(
            "{} ({})",
            schools.get(&line.school_id).unwrap_or(&line.school_id),
            line.school_id
        ),
        rule: obc_core::rule_words::rule_in_words(&line.rule, line.tier_pays),
        base: format_dollars(line.base_amount),
        contingent: format_dollars(line.contingent_amount),
        total: format_dollars(line.total),
        explanation,
        back: format!(
            "/contracts/{id}/statements/{milestone}{}{}",
            ListQuery {
                q: Some(student.clone()),
                ..ListQuery::default()
            }
            .href(1, None),
            shown.as_of_param
        ),
        contract_id: id,
        milestone,
        student_id: student,
    }))
}

/// A statement file; exports of student data are recorded in the audit log.
pub(crate) async fn statement_file(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    milestone: &str,
    query: &StatementQuery,
) -> Result<Response, WebError> {
    let reader = viewer.reader(state);
    let shown = shown(&reader, id, milestone, query.as_of.as_deref()).await?;
    let statement = shown.statement;
    let (body, content_type, ext) = match query.format.as_deref().unwrap_or("json") {
        "csv" => (statement.to_csv(), "text/csv; charset=utf-8", "csv"),
        "json" => (statement.to_json(), "application/json", "json"),
        other => {
            return Err(WebError::bad_request(format!(
                "format {other}: expected csv or json"
            )))
        }
    };
    let detail = format!("{ext}, {} student lines", statement.lines.len());
    (reader.record_statement_export(&shown.cv, milestone, &detail)).await?;
    Ok((
        [
            (CONTENT_TYPE, content_type.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-{milestone}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Query(query): Query<StatementQuery>,
) -> Result<Response, WebError> {
    statement_file(&state, &viewer, &id, &milestone, &query).await
}

#[derive(Template)]
#[template(path = "statement_finalize.html")]
pub struct ConfirmPage {
    pub nav: Nav,
    pub contract_id: String,
    pub milestone: String,
    pub statement_date: String,
    pub amount: String,
    pub students: u32,
    pub as_of: String,
    pub as_of_param: String,
}

/// `GET .../finalize`: what finalizing would fix for good, and the form that does it.
pub async fn confirm_finalize(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Query(query): Query<StatementQuery>,
) -> Result<Response, WebError> {
    viewer.require(&[Role::Admin])?;
    let reader = viewer.reader(&state);
    let shown = shown(&reader, &id, &milestone, query.as_of.as_deref()).await?;
    if let Some(f) = &shown.finalized {
        return Err(WebError::new(
            StatusCode::CONFLICT,
            format!(
                "{id} {milestone} is already finalized ({} by {})",
                f.finalized_at, f.finalized_by
            ),
        ));
    }
    let t = &shown.statement.totals;
    Ok(render(&ConfirmPage {
        nav: Nav::of(&viewer),
        statement_date: shown.statement.statement_date.clone(),
        amount: format_dollars(t.statement_total),
        students: t.students,
        as_of: shown.as_of_param.replace("&as_of=", ""),
        as_of_param: shown.as_of_param.replacen('&', "?", 1),
        contract_id: id,
        milestone,
    }))
}

/// The value of the confirmation field of the finalize form.
const CONFIRMED: &str = "yes";

#[derive(Deserialize)]
pub struct FinalizeForm {
    csrf: Option<String>,
    as_of: Option<String>,
    /// [`CONFIRMED`] when the admin confirmed on the confirmation page.
    confirm: Option<String>,
}

/// `POST .../finalize`: finalizes, once confirmed (finalizing cannot be undone).
pub async fn finalize(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Form(form): Form<FinalizeForm>,
) -> Result<Response, WebError> {
    let cap = viewer.may_write_as(&[Role::Admin], form.csrf.as_deref())?;
    let cv = viewer.reader(&state).contract(&id).await?;
    if form.confirm.as_deref() != Some(CONFIRMED) {
        return Err(WebError::bad_request(format!(
            "finalizing cannot be undone: confirm it on /contracts/{id}/statements/{milestone}/finalize"
        )));
    }
    let as_of = obc_app::parse_as_of(form.as_of.as_deref().filter(|s| !s.is_empty()))
        .map_err(WebError::from)?;
    cap.writer(&state).finalize(&cv, &milestone, as_of).await?;
    state.refresh_drafts().await?;
    Ok(Redirect::to(&format!("/contracts/{id}/statements/{milestone}")).into_response())
}
