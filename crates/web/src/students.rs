//! The two pages that list a contract's enrolled students from its progress: the progress page
//! (`/contracts/{id}/progress`: each factor's status and the money at risk) and the students
//! list (`/contracts/{id}/students`: school, sessions, attendance, latest scores, status).
//! Both are paged, searchable by student id and name, filterable by school, factor, status and
//! measure bin, and sortable by any column, through [`crate::listing`]. Names are shown and
//! searched only for viewers who may open a student's record (not auditors); schools, the
//! district and the provider by name.

pub(crate) mod record;

use crate::access::{self, Effect, RouteSpec, ScopedContract};
use crate::auth::Viewer;
use crate::format::{current_date, factor_text, parse_date, school_name, status_text};
use crate::layout::{render, Nav};
use crate::listing::{self, Column, Kept, ListQuery, Names, Page, SortKey};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use obc_core::money::format_dollars;
use obc_core::progress::{Factor, FactorProgress, Progress, Status, StudentProgress};
use obc_core::ratio::Ratio;
use obc_store::Role;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The two pages' routes, and a student's record (`students/record.rs`).
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/progress",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(progress_page),
    },
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/students",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(students_page),
    },
    RouteSpec {
        method: "GET",
        path: "/students/{district}/{student}",
        allowed: access::STAFF,
        effect: Effect::Reads,
        handler: || get(record::student_page),
    },
    RouteSpec {
        method: "GET",
        path: "/api/students/{district}/{student}",
        allowed: access::STAFF,
        effect: Effect::Reads,
        handler: || get(record::student_api),
    },
];

/// The query of both pages: the date, the filters and the list's own parameters.
#[derive(Deserialize, Default)]
pub struct StudentsQuery {
    /// The date to judge at (default: the contract's current date).
    as_of: Option<String>,
    /// Any value but empty, `0` or `false`: off track on a factor (as `status=off_track`).
    off_track: Option<String>,
    /// A school id.
    school: Option<String>,
    /// `attendance`, `provider_duties` or `outcome`; alone, off track on that factor.
    factor: Option<String>,
    /// `on_track`, `off_track` or `not_judged`, on the factor or on any factor.
    status: Option<String>,
    /// The outcome measure's bin: at least `measure_from`, under `measure_to`.
    measure_from: Option<String>,
    measure_to: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<usize>,
}

impl StudentsQuery {
    fn list(&self) -> ListQuery {
        ListQuery {
            q: self.q.clone(),
            sort: self.sort.clone(),
            dir: self.dir.clone(),
            page: self.page,
        }
    }
}

/// What a student list keeps, read from the query (unknown values answer 400).
struct Filter {
    school: String,
    factor: Option<Factor>,
    status: Option<Status>,
    measure_from: Option<Decimal>,
    measure_to: Option<Decimal>,
}

fn non_blank(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

impl Filter {
    fn of(query: &StudentsQuery) -> Result<Filter, WebError> {
        let factor = non_blank(&query.factor)
            .map(|f| {
                Factor::ALL
                    .into_iter()
                    .find(|x| x.as_str() == f)
                    .ok_or_else(|| {
                        WebError::bad_request(format!(
                            "factor {f}: expected attendance, provider_duties or outcome"
                        ))
                    })
            })
            .transpose()?;
        let off_track = non_blank(&query.off_track).is_some_and(|v| !matches!(v, "0" | "false"));
        let status = match non_blank(&query.status) {
            Some(s) => Some(
                [Status::OnTrack, Status::OffTrack, Status::NotJudged]
                    .into_iter()
                    .find(|x| x.as_str() == s)
                    .ok_or_else(|| {
                        WebError::bad_request(format!(
                            "status {s}: expected on_track, off_track or not_judged"
                        ))
                    })?,
            ),
            None if off_track || factor.is_some() => Some(Status::OffTrack),
            None => None,
        };
        let bound = |what: &str, text: &Option<String>| {
            non_blank(text)
                .map(|t| {
                    t.parse::<Decimal>()
                        .map_err(|_| WebError::bad_request(format!("{what} {t}: not a number")))
                })
                .transpose()
        };
        Ok(Filter {
            school: non_blank(&query.school).unwrap_or_default().to_string(),
            factor,
            status,
            measure_from: bound("measure_from", &query.measure_from)?,
            measure_to: bound("measure_to", &query.measure_to)?,
        })
    }

    fn keeps(&self, s: &StudentProgress) -> bool {
        let status_ok = match (self.status, self.factor) {
            (None, _) => true,
            (Some(st), Some(f)) => s.factor(f).status == st,
            (Some(st), None) => Factor::ALL.iter().any(|f| s.factor(*f).status == st),
        };
        let measure = s.scores.measure;
        let from_ok = self
            .measure_from
            .is_none_or(|d| measure.is_some_and(|m| !m.lt(d)));
        let to_ok = self
            .measure_to
            .is_none_or(|d| measure.is_some_and(|m| m.lt(d)));
        (self.school.is_empty() || s.school_id == self.school) && status_ok && from_ok && to_ok
    }

    /// The filter as query parameters, for the list's links.
    fn params(&self) -> Vec<(&'static str, String)> {
        let show = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        vec![
            ("school", self.school.clone()),
            (
                "factor",
                self.factor.map(Factor::as_str).unwrap_or_default().into(),
            ),
            (
                "status",
                self.status.map(Status::as_str).unwrap_or_default().into(),
            ),
            ("measure_from", show(self.measure_from)),
            ("measure_to", show(self.measure_to)),
        ]
    }

    /// The filter in words, for the heading (empty without one).
    fn words(&self, schools: &HashMap<String, String>) -> String {
        let mut parts = Vec::new();
        if !self.school.is_empty() {
            parts.push(format!("at {}", school_name(schools, &self.school)));
        }
        if let Some(st) = self.status {
            let on = self.factor.map_or("a factor", factor_text);
            parts.push(format!("{} on {}", status_text(st), on.to_lowercase()));
        }
        match (self.measure_from, self.measure_to) {
            (Some(a), Some(b)) => parts.push(format!("measure from {a} to under {b}")),
            (Some(a), None) => parts.push(format!("measure at least {a}")),
            (None, Some(b)) => parts.push(format!("measure under {b}")),
            (None, None) => {}
        }
        parts.join(", ")
    }
}

/// What both pages need: the contract, its progress at the date asked for and the words for
/// its codes.
struct Context {
    cv: ScopedContract,
    progress: Arc<Progress>,
    /// Student names (`None` for viewers who may not see them) and school names, by id.
    names: Names,
    /// The lists' sorted orders and search index, kept per progress report.
    kept: Arc<Kept>,
    district: String,
    provider: String,
}

async fn context(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    as_of: Option<&str>,
) -> Result<Context, WebError> {
    let reader = viewer.reader(state);
    let cv = reader.contract(id).await?;
    let as_of = parse_date("as-of date", as_of)?.unwrap_or_else(|| current_date(&cv));
    let progress = reader.progress(&cv, as_of).await?;
    // Names only (not whole roster rows with their flags): a search may look for any of them.
    let names = Names {
        students: reader.student_names(&cv).await?,
        schools: reader.school_names(&cv).await?,
    };
    let (district, provider) = reader.party_names(&cv).await?;
    Ok(Context {
        cv,
        kept: state.progress_lists.of(&progress, |_| Kept::default()),
        progress,
        names,
        district,
        provider,
    })
}

/// A student as listed: their progress, with their name and school in words looked up only
/// when a search, a sort or the page's rows need them (not for each of 100,000 students).
#[derive(Clone, Copy)]
struct Listed<'a> {
    s: &'a StudentProgress,
    ctx: &'a Context,
}

impl<'a> Listed<'a> {
    fn name(&self) -> &'a str {
        self.ctx.names.student(&self.s.student_id).unwrap_or("")
    }

    fn school(&self) -> &'a str {
        self.ctx.names.school(&self.s.school_id)
    }
}

impl Context {
    fn listed(&self) -> Vec<Listed<'_>> {
        (self.progress.students.iter())
            .map(|s| Listed { s, ctx: self })
            .collect()
    }

    /// One page of the students the query keeps, on the page named `list`.
    fn page<'a>(
        &'a self,
        list: &str,
        query: &StudentsQuery,
        filter: &Filter,
        columns: &[Column<Listed<'a>>],
        base: &str,
    ) -> Page<Listed<'a>> {
        let list_query = query.list();
        let mut params = filter.params();
        if let Some(as_of) = non_blank(&query.as_of) {
            params.insert(0, ("as_of", as_of.to_string()));
        }
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let rows = self.listed();
        let found = list_query.searching().then(|| {
            let index = self.kept.search(&self.names, "students", 3, || {
                (rows.iter()).flat_map(|l| [l.s.student_id.as_str(), l.name(), l.school()])
            });
            index.rows_matching(&list_query.words())
        });
        let page = listing::paginate_kept(
            &rows,
            &self.kept,
            &self.names,
            list,
            |i| filter.keeps(rows[i].s) && found.as_ref().is_none_or(|f| f[i]),
            columns,
            &list_query,
            base,
            &params,
        );
        page.map(|l| **l)
    }

    fn link(&self, viewer: &Viewer, student: &str) -> Option<String> {
        (viewer.role() != Role::Auditor)
            .then(|| format!("/students/{}/{student}", self.cv.contract.district))
    }

    fn school_options(&self) -> Vec<(String, String)> {
        let mut options: Vec<(String, String)> = self
            .progress
            .by_school
            .iter()
            .map(|s| {
                let id = s.school_id.clone();
                (self.names.school(&id).to_string(), id)
            })
            .collect();
        options.sort();
        options.into_iter().map(|(name, id)| (id, name)).collect()
    }
}

fn status_key(f: &FactorProgress) -> SortKey {
    SortKey::text(f.status.as_str())
}

fn name_column<'a>() -> Column<Listed<'a>> {
    Column {
        key: "name",
        label: "Name",
        numeric: false,
        sort_by: |l: &Listed| SortKey::text(l.name()),
    }
}

/// The columns before the page's own: student, name (when shown), school.
fn lead_columns<'a>(names: bool) -> Vec<Column<Listed<'a>>> {
    let mut columns = vec![Column {
        key: "student",
        label: "Student",
        numeric: false,
        sort_by: |l: &Listed| SortKey::text(&l.s.student_id),
    }];
    if names {
        columns.push(name_column());
    }
    columns.push(Column {
        key: "school",
        label: "School",
        numeric: false,
        sort_by: |l: &Listed| SortKey::text(l.school()),
    });
    columns
}

/// The filter form's choices and values, shared by both pages.
pub struct FilterView {
    pub action: String,
    pub as_of: String,
    pub school: String,
    pub schools: Vec<(String, String)>,
    pub factor: String,
    pub status: String,
    pub measure_from: String,
    pub measure_to: String,
    /// The filter in words (empty without one).
    pub words: String,
    /// Whether names are searchable (the search field's label says so).
    pub names: bool,
}

impl FilterView {
    fn of(ctx: &Context, filter: &Filter, action: String) -> FilterView {
        let params: HashMap<&str, String> = filter.params().into_iter().collect();
        FilterView {
            action,
            as_of: ctx.progress.as_of.clone(),
            school: filter.school.clone(),
            schools: ctx.school_options(),
            factor: params["factor"].clone(),
            status: params["status"].clone(),
            measure_from: params["measure_from"].clone(),
            measure_to: params["measure_to"].clone(),
            words: filter.words(&ctx.names.schools),
            names: ctx.names.students.is_some(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The progress page
// ---------------------------------------------------------------------------------------------

/// Off-track counts and money of a group of students, each count linking to its students.
pub struct SummaryRow {
    pub label: String,
    pub students: u32,
    pub active: u32,
    /// (count, link to the students) for attendance, provider duties, outcome, any factor.
    pub off: Vec<(u32, String)>,
    pub at_risk: String,
    pub link: String,
}

/// One factor of a student: its status and why.
pub struct FactorCell {
    pub status: &'static str,
    pub off: bool,
    pub summary: String,
}

fn factor_cell(f: &FactorProgress) -> FactorCell {
    FactorCell {
        status: status_text(f.status),
        off: f.status == Status::OffTrack,
        summary: f.summary.clone(),
    }
}

pub struct ProgressRow {
    pub student_id: String,
    pub name: String,
    pub link: Option<String>,
    pub school: String,
    pub enrollment: &'static str,
    pub attendance: FactorCell,
    pub provider_duties: FactorCell,
    pub outcome: FactorCell,
    pub rule_today: String,
    pub contingent_today: String,
    pub at_risk: String,
    pub notes: String,
}

/// A session to review (session verification, SPEC 6).
pub struct ReviewRow {
    pub student_id: String,
    pub link: Option<String>,
    pub session_id: String,
    pub tutor_id: String,
    pub date: String,
    pub minutes: u32,
}

#[derive(Template)]
#[template(path = "progress.html")]
pub struct ProgressPage {
    pub nav: Nav,
    pub contract_id: String,
    pub district: String,
    pub provider: String,
    pub as_of: String,
    pub filter: FilterView,
    pub milestone: String,
    pub target: String,
    pub total: SummaryRow,
    pub schools: Vec<SummaryRow>,
    pub full_contingent: String,
    pub contingent_today: String,
    pub statement_today: String,
    pub names: bool,
    pub list: Page<ProgressRow>,
    /// Student-days of school attendance the district uploaded (0: no session can be checked).
    pub attendance_days: u64,
    /// Sessions marked attended on days the student was absent from school.
    pub to_review: Vec<ReviewRow>,
}

fn progress_columns<'a>(names: bool) -> Vec<Column<Listed<'a>>> {
    let mut columns = lead_columns(names);
    columns.extend([
        Column {
            key: "enrollment",
            label: "Enrollment",
            numeric: false,
            sort_by: |l: &Listed| SortKey::text(l.s.enrollment.as_str()),
        },
        Column {
            key: "attendance",
            label: "Attendance",
            numeric: false,
            sort_by: |l: &Listed| status_key(&l.s.attendance),
        },
        Column {
            key: "provider_duties",
            label: "Provider duties",
            numeric: false,
            sort_by: |l: &Listed| status_key(&l.s.provider_duties),
        },
        Column {
            key: "outcome",
            label: "Outcome",
            numeric: false,
            sort_by: |l: &Listed| status_key(&l.s.outcome),
        },
        Column {
            key: "rule",
            label: "If nothing changes",
            numeric: false,
            sort_by: |l: &Listed| SortKey::text(&l.s.rule_today),
        },
        Column {
            key: "contingent",
            label: "Contingent",
            numeric: true,
            sort_by: |l: &Listed| SortKey::number(l.s.contingent_today),
        },
        Column {
            key: "at_risk",
            label: "At risk",
            numeric: true,
            sort_by: |l: &Listed| SortKey::number(l.s.at_risk),
        },
    ]);
    columns
}

pub async fn progress_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<StudentsQuery>,
) -> Result<Response, WebError> {
    let filter = Filter::of(&query)?;
    let ctx = context(&state, &viewer, &id, query.as_of.as_deref()).await?;
    let p = &ctx.progress;
    let base = format!("/contracts/{id}/progress");
    let names = ctx.names.students.is_some();
    let page = ctx.page("progress", &query, &filter, &progress_columns(names), &base);
    let list = page.map(|l| ProgressRow {
        student_id: l.s.student_id.clone(),
        name: l.name().to_string(),
        link: ctx.link(&viewer, &l.s.student_id),
        school: l.school().to_string(),
        enrollment: l.s.enrollment.as_str(),
        attendance: factor_cell(&l.s.attendance),
        provider_duties: factor_cell(&l.s.provider_duties),
        outcome: factor_cell(&l.s.outcome),
        rule_today: match &l.s.projected_from {
            Some(w) => format!("{} (projected from {w})", l.s.rule_today),
            None => l.s.rule_today.clone(),
        },
        contingent_today: format_dollars(l.s.contingent_today),
        at_risk: format_dollars(l.s.at_risk),
        notes: l.s.notes.join("; "),
    });
    let checks = viewer.reader(&state).sessions_to_review(&ctx.cv).await?;
    let to_review = checks
        .flagged
        .into_iter()
        .map(|f| ReviewRow {
            link: ctx.link(&viewer, &f.student_id),
            student_id: f.student_id,
            session_id: f.session_id,
            tutor_id: f.tutor_id,
            date: f.date.to_string(),
            minutes: f.minutes,
        })
        .collect();
    let summary_row = |label: &str, school: &str, s: &obc_core::progress::Summary| {
        let link = |factor: &str| {
            listing::href(
                &base,
                &[
                    ("as_of", &p.as_of),
                    ("school", school),
                    ("factor", factor),
                    ("status", "off_track"),
                ],
            ) + "#students"
        };
        SummaryRow {
            label: label.to_string(),
            students: s.students,
            active: s.active,
            off: vec![
                (s.attendance.off_track, link("attendance")),
                (s.provider_duties.off_track, link("provider_duties")),
                (s.outcome.off_track, link("outcome")),
                (s.off_track_any, link("")),
            ],
            at_risk: format_dollars(s.at_risk),
            link: listing::href(&base, &[("as_of", &p.as_of), ("school", school)]) + "#students",
        }
    };
    let mut schools: Vec<SummaryRow> = p
        .by_school
        .iter()
        .map(|s| summary_row(ctx.names.school(&s.school_id), &s.school_id, &s.summary))
        .collect();
    schools.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(render(&ProgressPage {
        nav: Nav::of(&viewer),
        contract_id: id.clone(),
        district: ctx.district.clone(),
        provider: ctx.provider.clone(),
        as_of: p.as_of.clone(),
        filter: FilterView::of(&ctx, &filter, base.clone()),
        milestone: p.milestone.clone(),
        target: format!(
            "{} {} at least {} (tier {})",
            p.window, p.measure, p.target_min, p.target_tier
        ),
        total: summary_row("All schools", "", &p.totals),
        schools,
        full_contingent: format_dollars(p.totals.full_contingent),
        contingent_today: format_dollars(p.totals.contingent_today),
        statement_today: format_dollars(p.statement_today.contingent),
        names,
        list,
        attendance_days: checks.attendance_days,
        to_review,
    }))
}

// ---------------------------------------------------------------------------------------------
// The students list
// ---------------------------------------------------------------------------------------------

pub struct StudentRow {
    pub student_id: String,
    pub name: String,
    pub link: Option<String>,
    pub school: String,
    pub grade: String,
    pub sessions: String,
    pub attendance: String,
    pub baseline: String,
    pub latest: String,
    pub measure: String,
    pub status: String,
    pub off: bool,
}

#[derive(Template)]
#[template(path = "students.html")]
pub struct StudentsPage {
    pub nav: Nav,
    pub contract_id: String,
    pub district: String,
    pub provider: String,
    pub as_of: String,
    pub filter: FilterView,
    pub names: bool,
    pub list: Page<StudentRow>,
}

/// The attendance rate the attendance factor was judged on, if any.
fn attendance_rate(s: &StudentProgress) -> Option<Ratio> {
    s.attendance
        .checks
        .iter()
        .find(|c| c.name == "attendance_rate")
        .and_then(|c| c.figure)
}

/// A rate as a percentage with one decimal (`92.6%`).
fn percent(r: Ratio) -> String {
    format!("{}%", (r.round(3) * Decimal::ONE_HUNDRED).normalize())
}

/// The factors a student is off track on, in words.
fn status_words(s: &StudentProgress) -> (String, bool) {
    let off: Vec<&str> = Factor::ALL
        .into_iter()
        .filter(|f| s.factor(*f).status == Status::OffTrack)
        .map(|f| factor_text(f))
        .collect();
    if !off.is_empty() {
        (
            format!("off track: {}", off.join(", ").to_lowercase()),
            true,
        )
    } else if Factor::ALL
        .iter()
        .any(|f| s.factor(*f).status == Status::OnTrack)
    {
        ("on track".into(), false)
    } else {
        ("not judged".into(), false)
    }
}

fn off_count(s: &StudentProgress) -> usize {
    Factor::ALL
        .iter()
        .filter(|f| s.factor(**f).status == Status::OffTrack)
        .count()
}

fn student_columns<'a>(names: bool) -> Vec<Column<Listed<'a>>> {
    let mut columns = lead_columns(names);
    columns.extend([
        Column {
            key: "grade",
            label: "Grade",
            numeric: false,
            sort_by: |l: &Listed| l.s.grade.as_deref().map_or(SortKey::Missing, SortKey::text),
        },
        Column {
            key: "sessions",
            label: "Sessions attended",
            numeric: true,
            sort_by: |l: &Listed| SortKey::number(l.s.attended),
        },
        Column {
            key: "attendance",
            label: "Attendance rate",
            numeric: true,
            sort_by: |l: &Listed| SortKey::maybe(attendance_rate(l.s).map(|r| r.round(6))),
        },
        Column {
            key: "baseline",
            label: "Baseline",
            numeric: true,
            sort_by: |l: &Listed| SortKey::maybe(l.s.scores.baseline),
        },
        Column {
            key: "latest",
            label: "Latest score",
            numeric: true,
            sort_by: |l: &Listed| SortKey::maybe(l.s.scores.latest),
        },
        Column {
            key: "measure",
            label: "Measure",
            numeric: true,
            sort_by: |l: &Listed| SortKey::maybe(l.s.scores.measure.map(|m| m.round(6))),
        },
        Column {
            key: "status",
            label: "Status",
            numeric: false,
            sort_by: |l: &Listed| SortKey::number(Decimal::from(off_count(l.s))),
        },
    ]);
    columns
}

pub async fn students_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<StudentsQuery>,
) -> Result<Response, WebError> {
    let filter = Filter::of(&query)?;
    let ctx = context(&state, &viewer, &id, query.as_of.as_deref()).await?;
    let base = format!("/contracts/{id}/students");
    let names = ctx.names.students.is_some();
    let page = ctx.page("students", &query, &filter, &student_columns(names), &base);
    let list = page.map(|l| {
        let sc = &l.s.scores;
        let (status, off) = status_words(l.s);
        StudentRow {
            student_id: l.s.student_id.clone(),
            name: l.name().to_string(),
            link: ctx.link(&viewer, &l.s.student_id),
            school: l.school().to_string(),
            grade: l.s.grade.clone().unwrap_or_default(),
            sessions: format!("{} of {}", l.s.attended, l.s.planned),
            attendance: attendance_rate(l.s).map(percent).unwrap_or_default(),
            baseline: sc
                .baseline
                .map(|b| format!("{b} ({})", sc.baseline_term))
                .unwrap_or_default(),
            latest: match (sc.latest, &sc.latest_term) {
                (Some(score), Some(term)) => format!("{score} ({term})"),
                _ => String::new(),
            },
            measure: sc.measure.map(|m| m.display4()).unwrap_or_default(),
            status,
            off,
        }
    });
    Ok(render(&StudentsPage {
        nav: Nav::of(&viewer),
        contract_id: id,
        district: ctx.district.clone(),
        provider: ctx.provider.clone(),
        as_of: ctx.progress.as_of.clone(),
        filter: FilterView::of(&ctx, &filter, base),
        names,
        list,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> StudentsQuery {
        let text = listing::href("", pairs);
        serde_urlencoded_query(text.trim_start_matches('?'))
    }

    fn serde_urlencoded_query(text: &str) -> StudentsQuery {
        axum::extract::Query::<StudentsQuery>::try_from_uri(&format!("/x?{text}").parse().unwrap())
            .unwrap()
            .0
    }

    #[test]
    fn a_factor_alone_means_off_track_on_it_and_bad_values_are_refused() {
        let f = Filter::of(&query(&[("factor", "outcome")])).unwrap();
        assert_eq!(
            (f.factor, f.status),
            (Some(Factor::Outcome), Some(Status::OffTrack))
        );
        let f = Filter::of(&query(&[("off_track", "1")])).unwrap();
        assert_eq!((f.factor, f.status), (None, Some(Status::OffTrack)));
        let f = Filter::of(&query(&[("status", "on_track"), ("school", " s1 ")])).unwrap();
        assert_eq!((f.status, f.school.as_str()), (Some(Status::OnTrack), "s1"));
        assert!(Filter::of(&query(&[("factor", "nope")])).is_err());
        assert!(Filter::of(&query(&[("status", "nope")])).is_err());
        assert!(Filter::of(&query(&[("measure_from", "x")])).is_err());
        let f = Filter::of(&query(&[("measure_from", "0.5"), ("measure_to", "1")])).unwrap();
        assert_eq!(
            f.params()[3..],
            [
                ("measure_from", "0.5".to_string()),
                ("measure_to", "1".to_string())
            ]
        );
    }

    #[test]
    fn percentages_keep_one_decimal() {
        assert_eq!(percent(Ratio::new(25, 27).unwrap()), "92.6%");
        assert_eq!(percent(Ratio::new(1, 1).unwrap()), "100%");
    }
}
