//! Server-rendered pages. They work without JavaScript; charts are inline SVG.

pub mod provider_console;

use crate::auth::Viewer;
use crate::charts::{self, StepKind, WaterfallStep};
use crate::layout::{render, Nav};
use crate::upload::{problem_rows, read_upload, run_upload_as, ProblemRow, UploadBody};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::figures::ContractFigures;
use obc_core::money::format_dollars;
use obc_core::statement::{Line, SchoolTotal};
use obc_core::Statement;
use obc_store::{ContractVersion, Role};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::{BTreeSet, HashMap};

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

fn contingent_milestone(cv: &ContractVersion) -> &str {
    &cv.contract
        .milestones
        .last()
        .expect("validated contract has milestones")
        .name
}

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

/// A statement line as shown: money and rates formatted, reason in words.
pub struct LineRow {
    pub student_id: String,
    pub student_link: Option<String>,
    pub school_id: String,
    pub planned: u32,
    pub attended: u32,
    pub attendance_rate: String,
    pub same_tutor_rate: String,
    pub provider_cancel_rate: String,
    pub availability_rate: String,
    pub baseline: String,
    pub outcome: String,
    pub measure: String,
    pub rule: String,
    pub base: String,
    pub contingent: String,
    pub total: String,
    pub reason: String,
    pub notes: String,
}

fn line_row(l: &Line, district: &str, link: bool) -> LineRow {
    let ratio = |r: &Option<obc_core::ratio::Ratio>| r.map(|r| r.display4()).unwrap_or_default();
    let dec = |d: &Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    LineRow {
        student_id: l.student_id.clone(),
        student_link: link.then(|| format!("/students/{district}/{}", l.student_id)),
        school_id: l.school_id.clone(),
        planned: l.planned,
        attended: l.attended,
        attendance_rate: ratio(&l.attendance_rate),
        same_tutor_rate: ratio(&l.same_tutor_rate),
        provider_cancel_rate: ratio(&l.provider_cancel_rate),
        availability_rate: ratio(&l.availability_rate),
        baseline: dec(&l.baseline),
        outcome: dec(&l.outcome),
        measure: ratio(&l.measure),
        rule: l.rule.clone(),
        base: format_dollars(l.base_amount),
        contingent: format_dollars(l.contingent_amount),
        total: format_dollars(l.total),
        reason: l.reason.clone(),
        notes: l.notes.join("; "),
    }
}

pub struct SessionRow {
    pub date: String,
    pub provider: String,
    pub tutor: String,
    pub minutes: u32,
    pub status: &'static str,
    pub subject: String,
}

impl SessionRow {
    fn of((provider, x): &(String, obc_core::Session)) -> SessionRow {
        SessionRow {
            date: x.date.to_string(),
            provider: provider.clone(),
            tutor: x.tutor_id.clone(),
            minutes: x.minutes,
            status: x.status.as_str(),
            subject: x.subject.clone(),
        }
    }
}

pub struct TestRow {
    pub term: String,
    pub subject: String,
    pub date: String,
    pub score: String,
    pub percentile: String,
    pub rapid_guessing: String,
}

pub struct FactorRow {
    pub contract_id: String,
    pub enrolled: String,
    pub attendance: String,
    pub same_tutor: String,
    pub provider_cancel: String,
    pub availability: String,
    pub measure: String,
    pub rule: String,
    pub total: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "student.html")]
pub struct StudentPage {
    pub nav: Nav,
    pub district: String,
    pub id: String,
    pub name: String,
    pub school: String,
    pub grade: String,
    pub flags: Vec<(String, String)>,
    pub show_flags: bool,
    pub factors: Vec<FactorRow>,
    pub sessions: Vec<SessionRow>,
    /// Sessions of providers that enroll the student in no contract: shown apart, for review.
    pub unenrolled_sessions: Vec<SessionRow>,
    pub tests: Vec<TestRow>,
}

pub async fn student(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((district, student_id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    viewer.require(&[Role::Admin, Role::District, Role::Provider])?;
    let reader = viewer.reader(&state);
    let record = reader.student(&district, &student_id).await?;
    let mut factors = Vec::new();
    for (cv, start, end) in reader.enrollments(&record).await? {
        let statement = reader
            .statement(&cv, contingent_milestone(&cv), None)
            .await?;
        if let Some(l) = statement.lines.iter().find(|l| l.student_id == student_id) {
            let row = line_row(l, &district, false);
            factors.push(FactorRow {
                contract_id: cv.id().to_string(),
                enrolled: format!("{start} to {}", end.as_deref().unwrap_or("(open)")),
                attendance: row.attendance_rate,
                same_tutor: row.same_tutor_rate,
                provider_cancel: row.provider_cancel_rate,
                availability: row.availability_rate,
                measure: row.measure,
                rule: row.rule,
                total: row.total,
                reason: row.reason,
            });
        }
    }
    let s = &record.student;
    Ok(render(&StudentPage {
        nav: Nav::of(&viewer),
        district: district.clone(),
        id: s.id.clone(),
        name: format!("{} {}", s.first_name, s.last_name),
        school: s.school_id.clone(),
        grade: s.grade.as_ref().map(|g| g.to_string()).unwrap_or_default(),
        show_flags: viewer.role() != Role::Provider,
        flags: s.flags.clone(),
        factors,
        sessions: record.sessions.iter().map(SessionRow::of).collect(),
        unenrolled_sessions: record
            .unenrolled_sessions
            .iter()
            .map(SessionRow::of)
            .collect(),
        tests: record
            .tests
            .iter()
            .map(|t| TestRow {
                term: t.term_name.clone(),
                subject: t.subject.clone(),
                date: t.date.to_string(),
                score: t.score.map(|d| d.to_string()).unwrap_or_default(),
                percentile: t.percentile.map(|d| d.to_string()).unwrap_or_default(),
                rapid_guessing: t
                    .rapid_guessing_pct
                    .map(|d| format!("{d}%"))
                    .unwrap_or_default(),
            })
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "upload.html")]
pub struct UploadPage {
    pub nav: Nav,
    pub roster: bool,
    pub assessments: bool,
    pub sessions: bool,
    pub attendance: bool,
    pub contract: bool,
}

pub async fn upload_page(viewer: Viewer) -> Result<Response, WebError> {
    viewer.require(&[Role::Admin, Role::District, Role::Provider])?;
    let role = viewer.role();
    Ok(render(&UploadPage {
        nav: Nav::of(&viewer),
        roster: matches!(role, Role::Admin | Role::District),
        assessments: matches!(role, Role::Admin | Role::District),
        attendance: matches!(role, Role::Admin | Role::District),
        sessions: matches!(role, Role::Admin | Role::Provider),
        contract: role == Role::Admin,
    }))
}

#[derive(Template)]
#[template(path = "upload_result.html")]
pub struct UploadResultPage {
    pub nav: Nav,
    pub kind: String,
    pub accepted: bool,
    pub summary: Vec<String>,
    pub problems: Vec<ProblemRow>,
    pub more: u64,
    /// A rejected contract document, line by line, with each problem under its line.
    pub annotated: Vec<SourceLine>,
}

/// One line of an uploaded document and the problems found on it.
pub struct SourceLine {
    pub number: usize,
    pub text: String,
    pub problems: Vec<String>,
}

fn annotate(source: &[u8], problems: &[ProblemRow]) -> Vec<SourceLine> {
    String::from_utf8_lossy(source)
        .lines()
        .enumerate()
        .map(|(i, text)| SourceLine {
            number: i + 1,
            text: text.to_string(),
            problems: problems
                .iter()
                .filter(|p| p.line == (i + 1).to_string())
                .map(|p| format!("{}: {}", p.column, p.expected))
                .collect(),
        })
        .collect()
}

pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(kind): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let upload = read_upload(multipart).await?;
    let cap = viewer.may_write(upload.csrf.as_deref())?;
    let contract_body = match (&upload.body, kind.as_str()) {
        (UploadBody(file), "contract") => Some(file.try_clone().map_err(|e| {
            WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the spooled upload: {e}"),
            )
        })?),
        _ => None,
    };
    let outcome = run_upload_as(&state, &viewer, &cap, &kind, upload).await?;
    let (problems, more) = match &outcome.errors {
        Some(errors) => problem_rows(errors),
        None => (Vec::new(), 0),
    };
    let annotated = match contract_body {
        Some(file) if !outcome.accepted => annotate(&UploadBody(file).contract_bytes()?, &problems),
        _ => Vec::new(),
    };
    let mut response = render(&UploadResultPage {
        nav: Nav::of(&viewer),
        kind,
        accepted: outcome.accepted,
        summary: outcome.summary,
        problems,
        more,
        annotated,
    });
    if !outcome.accepted {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}
