//! Progress monitoring and continuous-improvement meetings (SPEC 6, docs/PROGRESS.md), as use
//! cases shared by the command line and the web app: load what progress is computed from,
//! compute it, open a meeting with its snapshot, list a contract's meetings for a viewer.
//! The rules are in `obc_core::progress`; the records and the viewer filter in `obc_store`.

use crate::{AppError, Result};
use obc_core::engine::{PriorPayments, StudentInput};
use obc_core::progress::{
    self, ActionItem, ActionStatus, Attendee, Cadence, Factor, Meeting, MeetingNote, Owner,
    Progress, ProgressRequest, Side, Status, StudentProgress, TeacherWeek,
};
use obc_store::{ContractVersion, Store, Viewer};

/// What progress (and the weekly teacher updates) of a contract is computed from: the inputs of
/// its contingent statement, loaded exactly as a statement loads them (prior payments with
/// their corrections), so progress and statements never disagree.
pub async fn progress_inputs(
    store: &Store,
    cv: &ContractVersion,
) -> Result<(Vec<StudentInput>, PriorPayments)> {
    let contingent = cv
        .contract
        .milestones
        .iter()
        .find(|m| m.contingent)
        .expect("validated: one contingent milestone");
    let (_, inputs) = crate::load_inputs(store, cv, &contingent.name, None).await?;
    Ok((inputs.students, inputs.prior))
}

/// Refuses a date outside the years obc accepts (1900-2200), before any computation or record
/// uses it: a week or a review period added to year 9999 would leave the calendar.
fn supported_date(what: &str, date: time::Date) -> Result<()> {
    if obc_core::model::is_supported_date(date) {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "{what} {date}: {}",
            obc_core::model::unsupported_date_message()
        )))
    }
}

fn request(
    cv: &ContractVersion,
    students: Vec<StudentInput>,
    prior: PriorPayments,
    as_of: time::Date,
) -> ProgressRequest<'_> {
    ProgressRequest {
        contract: &cv.contract,
        contract_version: cv.version,
        contract_hash: cv.sha256.clone(),
        as_of,
        students,
        prior,
    }
}

/// Loads a contract's stored inputs and computes its progress at a date.
pub async fn compute_progress(
    store: &Store,
    cv: &ContractVersion,
    as_of: time::Date,
) -> Result<Progress> {
    supported_date("as-of date", as_of)?;
    let (students, prior) = progress_inputs(store, cv).await?;
    Ok(progress::compute(request(cv, students, prior, as_of))?)
}

/// Whether a student is off track on at least one factor.
pub fn is_off_track(s: &StudentProgress) -> bool {
    Factor::ALL
        .iter()
        .any(|f| s.factor(*f).status == Status::OffTrack)
}

/// Keeps only the students off track on at least one factor (the counts still cover all).
pub fn retain_off_track(p: &mut Progress) {
    p.students.retain(is_off_track);
}

/// Loads a contract's stored inputs and computes the teacher updates of the week (Monday to
/// Sunday) containing `week`.
pub async fn teacher_updates(
    store: &Store,
    cv: &ContractVersion,
    week: time::Date,
) -> Result<TeacherWeek> {
    supported_date("week", week)?;
    let (students, prior) = progress_inputs(store, cv).await?;
    Ok(progress::teacher_updates(
        request(cv, students, prior, week),
        week,
    )?)
}

/// Reads a side as typed (`district`, `provider`, `intermediary`, `other`).
pub fn parse_side(text: &str) -> Result<Side> {
    Side::parse(text.trim()).ok_or_else(|| {
        AppError::Invalid(format!(
            "side {text}: expected district, provider, intermediary or other"
        ))
    })
}

/// Refuses an empty name, note or action item (`what` names it in the message).
fn non_empty(what: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(AppError::Invalid(format!("{what} is empty")));
    }
    Ok(())
}

/// Adds an attendee to a meeting: `side` as typed.
pub async fn add_attendee(
    store: &Store,
    actor: &str,
    meeting_id: i64,
    name: &str,
    side: &str,
) -> Result<Attendee> {
    non_empty("the attendee's name", name)?;
    let side = parse_side(side)?;
    Ok(store
        .add_attendee(actor, meeting_id, name.trim(), side)
        .await?)
}

/// Writes a note of a meeting about a student of the contract (blank: the meeting as a whole);
/// the store refuses a student the contract does not enroll.
pub async fn add_note(
    store: &Store,
    actor: &str,
    meeting_id: i64,
    student: Option<&str>,
    text: &str,
    district_only: bool,
) -> Result<MeetingNote> {
    non_empty("the note", text)?;
    let student = student.map(str::trim).filter(|s| !s.is_empty());
    Ok(store
        .add_meeting_note(actor, meeting_id, student, text.trim(), district_only)
        .await?)
}

/// Adds an action item to a meeting: `owner` as typed (`district`, `provider`), due on `due`,
/// about a student of the contract or none (blank).
pub async fn add_action(
    store: &Store,
    actor: &str,
    meeting_id: i64,
    owner: &str,
    due: Option<time::Date>,
    text: &str,
    student: Option<&str>,
) -> Result<ActionItem> {
    let owner = Owner::parse(owner.trim()).ok_or_else(|| {
        AppError::Invalid(format!("owner {owner}: expected district or provider"))
    })?;
    let due = due.ok_or_else(|| AppError::Invalid("give the action item a due date".into()))?;
    non_empty("the action item", text)?;
    let student = student.map(str::trim).filter(|s| !s.is_empty());
    Ok(store
        .add_action_item(actor, meeting_id, student, text.trim(), owner, due)
        .await?)
}

/// Closes (`done`, `dropped`) or reopens (`open`) an action item of a contract, if the viewer
/// may see it (`NotFound` otherwise, as if it did not exist).
pub async fn set_action_status(
    store: &Store,
    actor: &str,
    viewer: &Viewer,
    contract_id: &str,
    item: i64,
    status: &str,
    note: &str,
) -> Result<ActionItem> {
    let visible = store.action_items(contract_id, viewer, false).await?;
    if !visible.iter().any(|i| i.id == item) {
        return Err(obc_store::StoreError::NotFound(format!("action item {item}")).into());
    }
    let status = ActionStatus::parse(status.trim()).ok_or_else(|| {
        AppError::Invalid(format!("status {status}: expected done, dropped or open"))
    })?;
    Ok(store
        .set_action_status(actor, item, status, note.trim())
        .await?)
}

/// Reads an attendee written `SIDE:NAME` (`district:Ana Ruiz`).
pub fn parse_attendee(text: &str) -> Result<(String, Side)> {
    let (side, name) = text.split_once(':').ok_or_else(|| {
        AppError::Invalid(format!(
            "{text}: expected SIDE:NAME, e.g. \"district:Ana Ruiz\""
        ))
    })?;
    let side = Side::parse(side.trim().to_ascii_lowercase().as_str()).ok_or_else(|| {
        AppError::Invalid(format!(
            "{text}: the side must be district, provider, intermediary or other"
        ))
    })?;
    Ok((name.trim().to_string(), side))
}

/// Opens a meeting of a contract on `held_on`: computes progress as of that date and stores
/// it as the meeting's snapshot, with the first attendees. Returns the meeting and the
/// progress it was opened with.
pub async fn open_meeting(
    store: &Store,
    actor: &str,
    contract_id: &str,
    held_on: time::Date,
    attendees: &[(String, Side)],
) -> Result<(Meeting, Progress)> {
    supported_date("meeting date", held_on)?;
    let cv = store.contract(contract_id).await?;
    let p = compute_progress(store, &cv, held_on).await?;
    let m = store
        .open_meeting(actor, contract_id, cv.version, &p.snapshot(), attendees)
        .await?;
    Ok((m, p))
}

/// A contract's meetings, its cadence checked at a date and the action items still open, as
/// a viewer may see them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MeetingList {
    pub contract_id: String,
    /// By date.
    pub meetings: Vec<Meeting>,
    pub cadence: Cadence,
    pub open_action_items: Vec<ActionItem>,
}

/// Lists a contract's meetings for a viewer (`NotFound` when the viewer may not see the
/// contract's meetings).
pub async fn meeting_list(
    store: &Store,
    contract_id: &str,
    viewer: &Viewer,
    as_of: time::Date,
) -> Result<MeetingList> {
    // The viewer filter first, so a contract outside the viewer's reach is not described.
    let open_action_items = store.action_items(contract_id, viewer, true).await?;
    Ok(MeetingList {
        contract_id: contract_id.to_string(),
        meetings: store.meetings(contract_id).await?,
        cadence: store.meeting_cadence(contract_id, as_of).await?,
        open_action_items,
    })
}
