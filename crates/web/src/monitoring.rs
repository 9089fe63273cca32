//! Progress monitoring and continuous-improvement meetings (SPEC 6, docs/PROGRESS.md): the
//! progress of a contract at a date, its meetings and cadence, one meeting's agenda and
//! minutes, and the forms that record attendees, notes and action items; with their JSON API
//! twins under `/api`.
//!
//! Progress and meetings are computed and stored by `obc_app::progress` and `obc_store`, the
//! same calls the CLI makes, through the viewer's `Reader` and a capability's `Writer`. Every
//! meeting record is read through the store's viewer filter (`Store::meeting_view`,
//! `Store::action_items`): providers see only their own students and never district-only
//! notes. Contracts and meetings outside the user's scope answer 404.

use crate::access::{self, Effect, Reader, RouteSpec, ScopedContract, WriteCapability};
use crate::auth::Viewer;
use crate::error::{csrf_header, ApiError, ApiViewer};
use crate::format::{current_date, factor_text, parse_date, school_name, status_text};
use crate::layout::{render, Nav};
use crate::listing::{self, Column, ListQuery, Page, SortKey};
use crate::schemas;
use crate::{AppState, WebError};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use obc_app::progress::{self as app, MeetingList};
use obc_core::money::format_dollars;
use obc_core::progress::{
    ActionItem, ActionStatus, Attendee, Cadence, Factor, Meeting, MeetingNote, MeetingView,
    Progress, Side, Status,
};
use obc_store::Role;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// Progress monitoring's and meetings' routes.
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/contracts/{id}/meetings",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(meetings_page),
    },
    RouteSpec {
        method: "POST",
        path: "/contracts/{id}/meetings",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(open_meeting_form),
    },
    RouteSpec {
        method: "GET",
        path: "/meetings/{meeting}",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(meeting_page),
    },
    RouteSpec {
        method: "POST",
        path: "/meetings/{meeting}/attendees",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(attendee_form),
    },
    RouteSpec {
        method: "POST",
        path: "/meetings/{meeting}/notes",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(note_form),
    },
    RouteSpec {
        method: "POST",
        path: "/meetings/{meeting}/actions",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(action_form),
    },
    RouteSpec {
        method: "POST",
        path: "/meetings/{meeting}/actions/{item}/status",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(status_form),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts/{id}/progress",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(progress_api),
    },
    RouteSpec {
        method: "GET",
        path: "/api/contracts/{id}/meetings",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(meetings_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/contracts/{id}/meetings",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(open_meeting_api),
    },
    RouteSpec {
        method: "GET",
        path: "/api/meetings/{meeting}",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(meeting_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/meetings/{meeting}/attendees",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(attendee_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/meetings/{meeting}/notes",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(note_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/meetings/{meeting}/actions",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(action_api),
    },
    RouteSpec {
        method: "POST",
        path: "/api/meetings/{meeting}/actions/{item}/status",
        allowed: access::STAFF,
        effect: Effect::Writes,
        handler: || post(status_api),
    },
];

// ---------------------------------------------------------------------------------------------
// What a user may see and do
// ---------------------------------------------------------------------------------------------

/// Auditors only read.
const WRITERS: [Role; 3] = [Role::Admin, Role::District, Role::Provider];

fn non_empty(what: &str, text: &str) -> Result<(), WebError> {
    if text.trim().is_empty() {
        return Err(WebError::bad_request(format!("{what} is empty")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The use cases, shared by the pages and the API
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct ProgressQuery {
    /// The date to judge at (default: the contract's current date).
    as_of: Option<String>,
    /// Any value but empty, `0` or `false`: only the students off track on a factor.
    off_track: Option<String>,
}

impl ProgressQuery {
    fn off_track_only(&self) -> bool {
        self.off_track
            .as_deref()
            .is_some_and(|v| !matches!(v.trim(), "" | "0" | "false"))
    }
}

/// A contract's progress at the date asked for, for a viewer who may see the contract.
async fn progress_of(
    reader: &Reader<'_>,
    id: &str,
    query: &ProgressQuery,
) -> Result<(ScopedContract, std::sync::Arc<Progress>), WebError> {
    let cv = reader.contract(id).await?;
    let as_of =
        parse_date("as-of date", query.as_of.as_deref())?.unwrap_or_else(|| current_date(&cv));
    let mut p = reader.progress(&cv, as_of).await?;
    if query.off_track_only() {
        app::retain_off_track(std::sync::Arc::make_mut(&mut p));
    }
    Ok((cv, p))
}

#[derive(Deserialize, Default)]
pub struct AsOfQuery {
    as_of: Option<String>,
}

/// The meetings page's query: the date and the open action items' list.
#[derive(Deserialize, Default)]
pub struct MeetingsQuery {
    as_of: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<usize>,
}

async fn meeting_list(
    reader: &Reader<'_>,
    id: &str,
    as_of: Option<&str>,
) -> Result<MeetingList, WebError> {
    let cv = reader.contract(id).await?;
    let as_of = parse_date("as-of date", as_of)?.unwrap_or_else(|| current_date(&cv));
    reader.meeting_list(&cv, as_of).await
}

/// Opens a meeting of a contract (writers in scope).
async fn open_meeting(
    state: &AppState,
    viewer: &Viewer,
    write: &WriteCapability,
    id: &str,
    date: Option<&str>,
    attendees: &[(String, Side)],
) -> Result<Meeting, WebError> {
    let cv = viewer.reader(state).contract(id).await?;
    let held_on = parse_date("meeting date", date)?.unwrap_or_else(|| current_date(&cv));
    for (name, _) in attendees {
        non_empty("an attendee's name", name)?;
    }
    Ok(write
        .writer(state)
        .open_meeting(&cv, held_on, attendees)
        .await?)
}

/// A refusal of what was typed is the request's fault: 400, as every form error here.
fn typed_wrong(e: obc_app::AppError) -> WebError {
    match e {
        obc_app::AppError::Invalid(m) => WebError::bad_request(m),
        e => e.into(),
    }
}

async fn add_attendee(
    state: &AppState,
    viewer: &Viewer,
    write: &WriteCapability,
    meeting: i64,
    name: &str,
    side: &str,
) -> Result<Attendee, WebError> {
    let m = viewer.reader(state).meeting(meeting).await?;
    (write.writer(state).add_attendee(&m, name, side).await).map_err(typed_wrong)
}

async fn add_note(
    state: &AppState,
    viewer: &Viewer,
    write: &WriteCapability,
    meeting: i64,
    student: Option<String>,
    text: &str,
    district_only: bool,
) -> Result<MeetingNote, WebError> {
    let m = viewer.reader(state).meeting(meeting).await?;
    if district_only && viewer.role() == Role::Provider {
        return Err(WebError::forbidden(
            "provider staff cannot write district-only notes",
        ));
    }
    (write.writer(state))
        .add_note(&m, student.as_deref(), text, district_only)
        .await
        .map_err(typed_wrong)
}

async fn add_action(
    state: &AppState,
    (viewer, write): (&Viewer, &WriteCapability),
    meeting: i64,
    owner: &str,
    due: &str,
    text: &str,
    student: Option<String>,
) -> Result<ActionItem, WebError> {
    let m = viewer.reader(state).meeting(meeting).await?;
    let due = parse_date("due date", Some(due))?;
    (write.writer(state))
        .add_action(&m, owner, due, text, student.as_deref())
        .await
        .map_err(typed_wrong)
}

/// Closes (`done`, `dropped`) or reopens (`open`) an action item of the meeting's contract
/// that the viewer may see.
async fn set_status(
    state: &AppState,
    viewer: &Viewer,
    write: &WriteCapability,
    meeting: i64,
    item: i64,
    status: &str,
    note: &str,
) -> Result<ActionItem, WebError> {
    let m = viewer.reader(state).meeting(meeting).await?;
    (write.writer(state))
        .set_action_status(&m, item, status, note)
        .await
        .map_err(typed_wrong)
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

/// The cadence as the pages show it.
pub struct CadenceView {
    pub every_days: u32,
    pub starts: String,
    pub as_of: String,
    pub last_meeting: String,
    pub next_due: String,
    pub overdue: bool,
    pub missed_meetings: u32,
    /// One sentence per gap.
    pub gaps: Vec<String>,
}

fn cadence_view(c: &Cadence) -> CadenceView {
    CadenceView {
        every_days: c.every_days,
        starts: c.starts.clone(),
        as_of: c.as_of.clone(),
        last_meeting: c.last_meeting.clone().unwrap_or_else(|| "none".into()),
        next_due: c
            .next_due
            .clone()
            .unwrap_or_else(|| "none before the period ends".into()),
        overdue: c.overdue,
        missed_meetings: c.missed_meetings(),
        gaps: c
            .missed
            .iter()
            .map(|g| {
                format!(
                    "{} meeting{} missed: none from {} to {} ({} days)",
                    g.missed,
                    if g.missed == 1 { "" } else { "s" },
                    g.from,
                    g.to,
                    g.days
                )
            })
            .collect(),
    }
}

/// An action item as listed.
pub struct ItemRow {
    pub id: i64,
    pub meeting_id: i64,
    pub owner: &'static str,
    pub due: String,
    pub overdue: bool,
    pub student: String,
    pub text: String,
    pub status: &'static str,
    pub open: bool,
    pub status_note: String,
}

fn item_row(i: &ActionItem, today: &str) -> ItemRow {
    ItemRow {
        id: i.id,
        meeting_id: i.meeting_id,
        owner: i.owner.as_str(),
        due: i.due_on.clone(),
        overdue: i.overdue_on(today),
        student: i.student_id.clone().unwrap_or_default(),
        text: i.text.clone(),
        status: i.status.as_str(),
        open: i.status == ActionStatus::Open,
        status_note: match (&i.status_by, &i.status_at) {
            (Some(by), Some(at)) => {
                let note = i.status_note.as_deref().unwrap_or_default();
                if note.is_empty() {
                    format!("by {by} at {at}")
                } else {
                    format!("by {by} at {at}: {note}")
                }
            }
            _ => String::new(),
        },
    }
}

pub struct MeetingRow {
    pub id: i64,
    pub held_on: String,
    pub opened_by: String,
    pub opened_at: String,
}

#[derive(Template)]
#[template(path = "meetings.html")]
pub struct MeetingsPage {
    pub nav: Nav,
    pub contract_id: String,
    pub cadence: CadenceView,
    pub meetings: Vec<MeetingRow>,
    /// The open action items, one page of them.
    pub list: Page<ItemRow>,
    pub can_open: bool,
    /// The open form's date: the contract's current date.
    pub default_date: String,
}

fn item_columns() -> Vec<Column<ItemRow>> {
    vec![
        Column {
            key: "item",
            label: "Item",
            numeric: false,
            sort_by: |i: &ItemRow| SortKey::number(i.id),
        },
        Column {
            key: "owner",
            label: "Owner",
            numeric: false,
            sort_by: |i: &ItemRow| SortKey::text(i.owner),
        },
        Column {
            key: "due",
            label: "Due",
            numeric: false,
            sort_by: |i: &ItemRow| SortKey::text(&i.due),
        },
        Column {
            key: "student",
            label: "Student",
            numeric: false,
            sort_by: |i: &ItemRow| SortKey::text(&i.student),
        },
        Column {
            key: "what",
            label: "What",
            numeric: false,
            sort_by: |i: &ItemRow| SortKey::text(&i.text),
        },
        Column {
            key: "from",
            label: "From",
            numeric: false,
            sort_by: |i: &ItemRow| SortKey::number(i.meeting_id),
        },
    ]
}

pub async fn meetings_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<MeetingsQuery>,
) -> Result<Response, WebError> {
    let list = meeting_list(&viewer.reader(&state), &id, query.as_of.as_deref()).await?;
    let as_of = list.cadence.as_of.clone();
    let items: Vec<ItemRow> = list
        .open_action_items
        .iter()
        .map(|i| item_row(i, &as_of))
        .collect();
    let items_query = ListQuery {
        q: query.q,
        sort: query.sort,
        dir: query.dir,
        page: query.page,
    };
    let as_of_param = query.as_of.unwrap_or_default();
    let items = listing::paginate(
        items,
        |i| items_query.matches(&[&i.student, &i.text, &format!("#{}", i.id)]),
        &item_columns(),
        &items_query,
        &format!("/contracts/{id}/meetings"),
        &[("as_of", &as_of_param)],
    );
    Ok(render(&MeetingsPage {
        nav: Nav::of(&viewer),
        contract_id: id,
        cadence: cadence_view(&list.cadence),
        meetings: list
            .meetings
            .iter()
            .rev()
            .map(|m| MeetingRow {
                id: m.id,
                held_on: m.held_on.clone(),
                opened_by: m.opened_by.clone(),
                opened_at: m.opened_at.clone(),
            })
            .collect(),
        list: items,
        can_open: WRITERS.contains(&viewer.role()),
        default_date: as_of,
    }))
}

/// One off-track student on one factor, as the agenda lists them.
pub struct AgendaRow {
    pub school: String,
    pub factor: &'static str,
    pub student_id: String,
    pub name: String,
    pub why: String,
}

/// [`AgendaRow`] before its page is cut: the sort keys need the factor's order and the school.
pub struct AgendaEntry {
    school_id: String,
    school: String,
    factor: Factor,
    student_id: String,
    name: String,
    why: String,
}

fn agenda_columns(names: bool) -> Vec<Column<AgendaEntry>> {
    let mut columns = vec![
        Column {
            key: "school",
            label: "School",
            numeric: false,
            sort_by: |e: &AgendaEntry| SortKey::text(&e.school),
        },
        Column {
            key: "factor",
            label: "Factor",
            numeric: false,
            sort_by: |e: &AgendaEntry| SortKey::text(e.factor.as_str()),
        },
        Column {
            key: "student",
            label: "Student",
            numeric: false,
            sort_by: |e: &AgendaEntry| SortKey::text(&e.student_id),
        },
    ];
    if names {
        columns.push(Column {
            key: "name",
            label: "Name",
            numeric: false,
            sort_by: |e: &AgendaEntry| SortKey::text(&e.name),
        });
    }
    columns.push(Column {
        key: "why",
        label: "Why",
        numeric: false,
        sort_by: |e: &AgendaEntry| SortKey::text(&e.why),
    });
    columns
}

pub struct ChangeRow {
    pub school_id: String,
    pub factor: &'static str,
    pub student_id: String,
    pub was: &'static str,
    pub now: &'static str,
    pub summary: String,
}

pub struct NoteRow {
    pub id: i64,
    pub version: u32,
    pub about: String,
    pub district_only: bool,
    pub author: String,
    pub written_at: String,
    pub text: String,
}

/// The agenda's query: the off-track list's filters and the student the forms are about.
#[derive(Deserialize, Default)]
pub struct MeetingQuery {
    school: Option<String>,
    factor: Option<String>,
    /// Fills the forms' student field (the agenda's "note" links).
    student: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<usize>,
}

#[derive(Template)]
#[template(path = "meeting.html")]
pub struct MeetingPage {
    pub nav: Nav,
    pub id: i64,
    pub contract_id: String,
    pub contract_version: u32,
    pub held_on: String,
    pub opened_by: String,
    pub opened_at: String,
    pub seen_as: String,
    pub hides_district_only: bool,
    pub cadence: CadenceView,
    pub attendees: Vec<(String, &'static str)>,
    pub students: usize,
    pub off_track_any: usize,
    pub at_risk: String,
    /// Off-track students by school and factor, one page of them.
    pub list: Page<AgendaRow>,
    pub names: bool,
    /// (id, name) of the schools with an off-track student, and the one filtered on.
    pub schools: Vec<(String, String)>,
    pub school: String,
    pub factor: String,
    /// `None` at a contract's first meeting.
    pub previous: Option<(i64, String)>,
    pub newly_off_track: Vec<ChangeRow>,
    pub back_on_track: Vec<ChangeRow>,
    pub no_longer_judged: Vec<ChangeRow>,
    pub still_off_track: u32,
    pub carried: Vec<ItemRow>,
    pub notes: Vec<NoteRow>,
    pub new_items: Vec<ItemRow>,
    pub can_write: bool,
    pub can_district_only: bool,
    /// The student the forms are about (from the query), validated on the server when sent.
    pub student: String,
    /// The date action items are judged overdue at: the contract's current date.
    pub current: String,
    /// The action form's default due date: a cadence after the later of the meeting and the
    /// current date, so a new item is not born overdue.
    pub default_due: String,
}

fn change_rows(list: &[obc_core::progress::Change]) -> Vec<ChangeRow> {
    let status = |s: Option<Status>| s.map_or("not in the contract", status_text);
    list.iter()
        .map(|c| ChangeRow {
            school_id: c.school_id.clone(),
            factor: factor_text(c.factor),
            student_id: c.student_id.clone(),
            was: status(c.was),
            now: status(c.now),
            summary: c.summary.clone(),
        })
        .collect()
}

pub async fn meeting_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(meeting): Path<i64>,
    Query(query): Query<MeetingQuery>,
) -> Result<Response, WebError> {
    let reader = viewer.reader(&state);
    let v = reader.meeting_view(meeting).await?;
    let m = &v.meeting;
    let cv = reader.contract(&m.contract_id).await?;
    let current = current_date(&cv);
    let held_on = parse_date("meeting date", Some(&m.held_on))?.unwrap_or(current);
    let every = i64::from(v.cadence.every_days);
    let default_due = (held_on.max(current) + time::Duration::days(every)).to_string();
    let current = current.to_string();
    let off_track_any = v
        .snapshot
        .rows
        .iter()
        .filter(|r| {
            Factor::ALL
                .iter()
                .any(|f| r.mark(*f).status == Status::OffTrack)
        })
        .count();
    let at_risk: Decimal = v.snapshot.rows.iter().map(|r| r.at_risk).sum();
    let role = viewer.role();
    // Names for viewers who may open a student's record (not auditors).
    let names = reader.student_names(&cv).await?;
    let school_names = reader.school_names(&cv).await?;
    let entries: Vec<AgendaEntry> = v
        .off_track
        .iter()
        .flat_map(|g| {
            let school = school_name(&school_names, &g.school_id).to_string();
            let names = &names;
            g.students.iter().map(move |(student, why)| AgendaEntry {
                school_id: g.school_id.clone(),
                school: school.clone(),
                factor: g.factor,
                name: names
                    .as_ref()
                    .and_then(|n| n.get(student))
                    .cloned()
                    .unwrap_or_default(),
                student_id: student.clone(),
                why: why.clone(),
            })
        })
        .collect();
    let mut schools: Vec<(String, String)> = v
        .off_track
        .iter()
        .map(|g| {
            (
                g.school_id.clone(),
                school_name(&school_names, &g.school_id).to_string(),
            )
        })
        .collect();
    schools.sort_by(|a, b| a.1.cmp(&b.1));
    schools.dedup();
    let school = query.school.clone().unwrap_or_default();
    let factor = query.factor.clone().unwrap_or_default();
    let list = ListQuery {
        q: query.q.clone(),
        sort: query.sort.clone(),
        dir: query.dir.clone(),
        page: query.page,
    };
    let base = format!("/meetings/{meeting}");
    let page = listing::paginate(
        entries,
        |e| {
            (school.is_empty() || e.school_id == school)
                && (factor.is_empty() || e.factor.as_str() == factor)
                && list.matches(&[&e.student_id, &e.name, &e.school])
        },
        &agenda_columns(names.is_some()),
        &list,
        &base,
        &[("school", &school), ("factor", &factor)],
    );
    let page = page.map(|e| AgendaRow {
        school: e.school.clone(),
        factor: factor_text(e.factor),
        student_id: e.student_id.clone(),
        name: e.name.clone(),
        why: e.why.clone(),
    });
    Ok(render(&MeetingPage {
        nav: Nav::of(&viewer),
        id: m.id,
        contract_id: m.contract_id.clone(),
        contract_version: m.contract_version,
        held_on: m.held_on.clone(),
        opened_by: m.opened_by.clone(),
        opened_at: m.opened_at.clone(),
        seen_as: v.viewer.clone(),
        hides_district_only: !viewer.meeting_viewer().sees_district_only(),
        cadence: cadence_view(&v.cadence),
        attendees: v
            .attendees
            .iter()
            .map(|a| (a.name.clone(), a.side.as_str()))
            .collect(),
        students: v.snapshot.rows.len(),
        off_track_any,
        at_risk: format_dollars(at_risk),
        list: page,
        names: names.is_some(),
        schools,
        school,
        factor,
        previous: match (&v.changes, v.previous_meeting) {
            (Some(c), Some(id)) => Some((id, c.since.clone())),
            _ => None,
        },
        newly_off_track: v
            .changes
            .as_ref()
            .map(|c| change_rows(&c.newly_off_track))
            .unwrap_or_default(),
        back_on_track: v
            .changes
            .as_ref()
            .map(|c| change_rows(&c.back_on_track))
            .unwrap_or_default(),
        no_longer_judged: v
            .changes
            .as_ref()
            .map(|c| change_rows(&c.no_longer_judged))
            .unwrap_or_default(),
        still_off_track: v.changes.as_ref().map_or(0, |c| c.still_off_track),
        carried: v
            .carried_items
            .iter()
            .map(|i| item_row(i, &current))
            .collect(),
        notes: v
            .notes
            .iter()
            .map(|n| NoteRow {
                id: n.id,
                version: n.version,
                about: n
                    .student_id
                    .as_deref()
                    .map_or_else(|| "the meeting".to_string(), |s| format!("student {s}")),
                district_only: n.district_only,
                author: n.author.clone(),
                written_at: n.written_at.clone(),
                text: n.text.clone(),
            })
            .collect(),
        new_items: v.new_items.iter().map(|i| item_row(i, &current)).collect(),
        can_write: WRITERS.contains(&role),
        can_district_only: matches!(role, Role::Admin | Role::District),
        student: query.student.unwrap_or_default(),
        current,
        default_due,
    }))
}

#[derive(Deserialize, Default)]
pub struct OpenForm {
    csrf: Option<String>,
    date: Option<String>,
    /// One attendee a line, `SIDE: NAME`.
    #[serde(default)]
    attendees: String,
}

/// The attendees of the open form: one a line, `SIDE: NAME`.
fn attendee_lines(text: &str) -> Result<Vec<(String, Side)>, WebError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| app::parse_attendee(l).map_err(|e| WebError::bad_request(format!("attendee {e}"))))
        .collect()
}

pub async fn open_meeting_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<OpenForm>,
) -> Result<Response, WebError> {
    let write = viewer.may_write(form.csrf.as_deref())?;
    let attendees = attendee_lines(&form.attendees)?;
    let m = open_meeting(
        &state,
        &viewer,
        &write,
        &id,
        form.date.as_deref(),
        &attendees,
    )
    .await?;
    Ok(Redirect::to(&format!("/meetings/{}", m.id)).into_response())
}

#[derive(Deserialize, Default)]
pub struct AttendeeForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    side: String,
}

pub async fn attendee_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(meeting): Path<i64>,
    Form(form): Form<AttendeeForm>,
) -> Result<Response, WebError> {
    let write = viewer.may_write(form.csrf.as_deref())?;
    add_attendee(&state, &viewer, &write, meeting, &form.name, &form.side).await?;
    Ok(Redirect::to(&format!("/meetings/{meeting}#attendees")).into_response())
}

#[derive(Deserialize, Default)]
pub struct NoteForm {
    csrf: Option<String>,
    student: Option<String>,
    #[serde(default)]
    text: String,
    /// A checked box sends a value; an unchecked one nothing.
    district_only: Option<String>,
}

pub async fn note_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(meeting): Path<i64>,
    Form(form): Form<NoteForm>,
) -> Result<Response, WebError> {
    let write = viewer.may_write(form.csrf.as_deref())?;
    add_note(
        &state,
        &viewer,
        &write,
        meeting,
        form.student,
        &form.text,
        form.district_only.is_some(),
    )
    .await?;
    Ok(Redirect::to(&format!("/meetings/{meeting}#notes")).into_response())
}

#[derive(Deserialize, Default)]
pub struct ActionForm {
    csrf: Option<String>,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    text: String,
    student: Option<String>,
}

pub async fn action_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(meeting): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response, WebError> {
    let write = viewer.may_write(form.csrf.as_deref())?;
    add_action(
        &state,
        (&viewer, &write),
        meeting,
        &form.owner,
        &form.due,
        &form.text,
        form.student,
    )
    .await?;
    Ok(Redirect::to(&format!("/meetings/{meeting}#actions")).into_response())
}

#[derive(Deserialize, Default)]
pub struct StatusForm {
    csrf: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn status_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((meeting, item)): Path<(i64, i64)>,
    Form(form): Form<StatusForm>,
) -> Result<Response, WebError> {
    let write = viewer.may_write(form.csrf.as_deref())?;
    set_status(
        &state,
        &viewer,
        &write,
        meeting,
        item,
        &form.status,
        &form.note,
    )
    .await?;
    Ok(Redirect::to(&format!("/meetings/{meeting}#item-{item}")).into_response())
}

// ---------------------------------------------------------------------------------------------
// The JSON API
// ---------------------------------------------------------------------------------------------

/// A JSON body, or a JSON error saying what is wrong with it.
fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        WebError::bad_request(format!("the body is not the JSON expected: {e}")).into()
    })
}

async fn progress_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
    Query(query): Query<ProgressQuery>,
) -> Result<Json<Progress>, ApiError> {
    let (_, p) = progress_of(&viewer.reader(&state), &id, &query).await?;
    Ok(Json(std::sync::Arc::unwrap_or_clone(p)))
}

async fn meetings_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
    Query(query): Query<AsOfQuery>,
) -> Result<Json<MeetingList>, ApiError> {
    Ok(Json(
        meeting_list(&viewer.reader(&state), &id, query.as_of.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
struct AttendeeBody {
    name: String,
    side: String,
}

#[derive(Deserialize, Default)]
struct OpenBody {
    date: Option<String>,
    #[serde(default)]
    attendees: Vec<AttendeeBody>,
}

async fn open_meeting_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<MeetingView>, ApiError> {
    let write = viewer.may_write(csrf_header(&headers))?;
    let body: OpenBody = if body.is_empty() {
        OpenBody::default()
    } else {
        json_body(&body)?
    };
    let attendees = body
        .attendees
        .iter()
        .map(|a| {
            Side::parse(a.side.trim())
                .map(|side| (a.name.trim().to_string(), side))
                .ok_or_else(|| {
                    WebError::bad_request(format!(
                        "attendee side {}: expected district, provider, intermediary or other",
                        a.side
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let m = open_meeting(
        &state,
        &viewer,
        &write,
        &id,
        body.date.as_deref(),
        &attendees,
    )
    .await?;
    Ok(Json(viewer.reader(&state).meeting_view(m.id).await?))
}

async fn meeting_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path(meeting): Path<i64>,
) -> Result<Json<MeetingView>, ApiError> {
    Ok(Json(viewer.reader(&state).meeting_view(meeting).await?))
}

async fn attendee_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path(meeting): Path<i64>,
    body: Bytes,
) -> Result<Json<Attendee>, ApiError> {
    let write = viewer.may_write(csrf_header(&headers))?;
    let body: AttendeeBody = json_body(&body)?;
    Ok(Json(
        add_attendee(&state, &viewer, &write, meeting, &body.name, &body.side).await?,
    ))
}

#[derive(Deserialize)]
struct NoteBody {
    student: Option<String>,
    text: String,
    #[serde(default)]
    district_only: bool,
}

async fn note_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path(meeting): Path<i64>,
    body: Bytes,
) -> Result<Json<MeetingNote>, ApiError> {
    let write = viewer.may_write(csrf_header(&headers))?;
    let body: NoteBody = json_body(&body)?;
    Ok(Json(
        add_note(
            &state,
            &viewer,
            &write,
            meeting,
            body.student,
            &body.text,
            body.district_only,
        )
        .await?,
    ))
}

#[derive(Deserialize)]
struct ActionBody {
    owner: String,
    due: String,
    text: String,
    student: Option<String>,
}

async fn action_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path(meeting): Path<i64>,
    body: Bytes,
) -> Result<Json<ActionItem>, ApiError> {
    let write = viewer.may_write(csrf_header(&headers))?;
    let body: ActionBody = json_body(&body)?;
    Ok(Json(
        add_action(
            &state,
            (&viewer, &write),
            meeting,
            &body.owner,
            &body.due,
            &body.text,
            body.student,
        )
        .await?,
    ))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    note: String,
}

async fn status_api(
    State(state): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    headers: HeaderMap,
    Path((meeting, item)): Path<(i64, i64)>,
    body: Bytes,
) -> Result<Json<ActionItem>, ApiError> {
    let write = viewer.may_write(csrf_header(&headers))?;
    let body: StatusBody = json_body(&body)?;
    Ok(Json(
        set_status(
            &state,
            &viewer,
            &write,
            meeting,
            item,
            &body.status,
            &body.note,
        )
        .await?,
    ))
}

/// The OpenAPI paths of this module, merged into `openapi::document`.
pub(crate) fn openapi_paths() -> serde_json::Map<String, Value> {
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    let meeting =
        json!({"name": "meeting", "in": "path", "required": true, "schema": {"type": "integer"}});
    let item =
        json!({"name": "item", "in": "path", "required": true, "schema": {"type": "integer"}});
    let as_of = json!({"name": "as_of", "in": "query", "description": "Default: the contract's current date (today within its period, else its start or end)", "schema": {"type": "string", "format": "date"}});
    let ok = |d: &str, schema: Value| json!({"200": schemas::json_response(d, schema), "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}});
    let post = |summary: &str, params: Value, body: Value, (done, schema): (&str, Value)| {
        json!({"post": {
            "summary": summary,
            "parameters": params,
            "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": schemas::json_response(done, schema),
                "400": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"}
            }
        }})
    };
    let text = json!({"type": "string"});
    let date = json!({"type": "string", "format": "date"});
    let side = json!({"type": "string", "enum": ["district", "provider", "intermediary", "other"]});
    let attendee = json!({"type": "object", "required": ["name", "side"], "properties": {"name": text, "side": side}});
    let mut meetings = json!({"get": {
        "summary": "A contract's meetings, its meeting cadence (every 14 days) checked at a date with missed meetings, and the open action items the caller may see",
        "parameters": [id, as_of],
        "responses": ok("Meetings, cadence, open action items", schemas::of::<schemas::MeetingList>())
    }});
    meetings["post"] = post(
        "Open a meeting (not auditors): progress as of its date is stored as its snapshot; returns the agenda as the caller sees it",
        json!([id]),
        json!({"type": "object", "properties": {"date": date, "attendees": {"type": "array", "items": attendee}}}),
        ("The meeting", schemas::of::<schemas::MeetingView>()),
    )["post"]
        .clone();
    let paths = json!({
        "/api/contracts/{id}/progress": {"get": {
            "summary": "Every enrolled student's status on each factor at a date, by school and factor, with the contingent pay at risk if nothing changes",
            "parameters": [id, as_of, {"name": "off_track", "in": "query", "description": "1: list only students off track on a factor (counts still cover all)", "schema": {"type": "string"}}],
            "responses": ok("The progress", schemas::of::<schemas::Progress>())
        }},
        "/api/contracts/{id}/meetings": meetings,
        "/api/meetings/{meeting}": {"get": {
            "summary": "A meeting as the caller may see it: agenda (off track by school and factor, changes since the previous meeting, open action items), attendees, notes, action items. Providers see only their students and no district-only notes",
            "parameters": [meeting],
            "responses": ok("The meeting", schemas::of::<schemas::MeetingView>())
        }},
        "/api/meetings/{meeting}/attendees": post(
            "Add an attendee (not auditors)",
            json!([meeting]),
            attendee,
            ("The attendee", schemas::of::<schemas::Attendee>()),
        ),
        "/api/meetings/{meeting}/notes": post(
            "Write a note about a student of the contract or the meeting (not auditors); district_only hides it from providers and auditors (district staff and admins only)",
            json!([meeting]),
            json!({"type": "object", "required": ["text"], "properties": {"student": text, "text": text, "district_only": {"type": "boolean"}}}),
            ("The note", schemas::of::<schemas::MeetingNote>()),
        ),
        "/api/meetings/{meeting}/actions": post(
            "Record an action item: owner district or provider, due date (not auditors)",
            json!([meeting]),
            json!({"type": "object", "required": ["owner", "due", "text"], "properties": {"owner": {"type": "string", "enum": ["district", "provider"]}, "due": date, "text": text, "student": text}}),
            ("The action item", schemas::of::<schemas::ActionItem>()),
        ),
        "/api/meetings/{meeting}/actions/{item}/status": post(
            "Close an action item (done, dropped) or reopen it (open) (not auditors)",
            json!([meeting, item]),
            json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["done", "dropped", "open"]}, "note": text}}),
            ("The action item", schemas::of::<schemas::ActionItem>()),
        ),
    });
    schemas::paths(paths)
}
