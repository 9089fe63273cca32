//! Continuous-improvement meetings of a contract (SPEC 6, docs/PROGRESS.md): the snapshot of
//! progress each meeting reviewed, attendees, notes per student and action items.
//!
//! Everything is append-only (triggers in `meetings.sql`): a note edited is a new version that
//! names the one it replaces, an action item's status changes are new events, and every change
//! is in the audit log. What a viewer may see is decided here, in [`Store::meeting_view`] and
//! [`Store::action_items`], so the CLI and the web apply the same rule: providers see only the
//! students of their own contracts and never district-only notes.

use crate::{audit, Result, Store, StoreError};
use obc_core::progress::{
    cadence, meeting_cadence_days, ActionItem, ActionStatus, Attendee, Cadence, Meeting,
    MeetingNote, MeetingView, Owner, Side, Snapshot,
};
use std::collections::{HashMap, HashSet};

/// Who is looking at meeting records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// The intermediary running the program: everything.
    Intermediary,
    /// Read-only oversight: every meeting, but not district-only notes.
    Auditor,
    /// Staff of one district: the meetings of its contracts, district-only notes included.
    District(String),
    /// Staff of one provider: the meetings of its contracts, only the students enrolled in its
    /// contracts, never district-only notes.
    Provider(String),
}

impl Viewer {
    pub fn kind(&self) -> &'static str {
        match self {
            Viewer::Intermediary => "intermediary",
            Viewer::Auditor => "auditor",
            Viewer::District(_) => "district",
            Viewer::Provider(_) => "provider",
        }
    }

    /// Whether district-only notes are shown.
    pub fn sees_district_only(&self) -> bool {
        matches!(self, Viewer::Intermediary | Viewer::District(_))
    }
}

type ItemRow = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const SELECT_ITEMS: &str =
    "SELECT a.id, a.meeting_id, a.contract_id, a.student_id, a.text, a.owner, a.due_on,
        a.created_at, a.created_by, e.status, e.changed_at, e.changed_by, e.note
 FROM action_items a
 LEFT JOIN action_item_events e
   ON e.id = (SELECT max(x.id) FROM action_item_events x WHERE x.item_id = a.id)";

fn item(row: ItemRow) -> Result<ActionItem> {
    let (
        id,
        meeting_id,
        contract_id,
        student_id,
        text,
        owner,
        due_on,
        created_at,
        created_by,
        status,
        status_at,
        status_by,
        status_note,
    ) = row;
    Ok(ActionItem {
        id,
        meeting_id,
        contract_id,
        student_id,
        text,
        owner: Owner::parse(&owner)
            .ok_or_else(|| StoreError::Corrupt(format!("action item owner {owner}")))?,
        due_on,
        created_at,
        created_by,
        status: match status {
            None => ActionStatus::Open,
            Some(s) => ActionStatus::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("action item status {s}")))?,
        },
        status_at,
        status_by,
        status_note,
    })
}

type MeetingRow = (i64, String, i64, String, String, String);

fn meeting(row: MeetingRow) -> Meeting {
    let (id, contract_id, version, held_on, opened_at, opened_by) = row;
    Meeting {
        id,
        contract_id,
        contract_version: version as u32,
        held_on,
        opened_at,
        opened_by,
    }
}

fn non_empty(what: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(StoreError::Conflict(format!("{what} is empty")));
    }
    Ok(())
}

/// Refuses a meeting or due date outside the years obc accepts (1900-2200).
fn supported_date(what: &str, date: time::Date) -> Result<()> {
    if obc_core::model::is_supported_date(date) {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "{what} {date}: {}",
            obc_core::model::unsupported_date_message()
        )))
    }
}

impl Store {
    /// Opens a meeting of a contract with the snapshot it reviews (its date is the snapshot's
    /// as-of date) and its first attendees. The action items open at this moment are recorded
    /// as the ones it carries. One meeting per contract and day.
    pub async fn open_meeting(
        &self,
        actor: &str,
        contract_id: &str,
        contract_version: u32,
        snapshot: &Snapshot,
        attendees: &[(String, Side)],
    ) -> Result<Meeting> {
        let held_on = crate::parse_date(&snapshot.as_of)?;
        supported_date("meeting date", held_on)?;
        let held_on = held_on.to_string();
        let mut tx = self.write_tx().await?;
        let known: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM contract_versions WHERE contract_id = $1 AND version = $2",
        )
        .bind(contract_id)
        .bind(i64::from(contract_version))
        .fetch_optional(&mut *tx)
        .await?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!(
                "no contract \"{contract_id}\" version {contract_version}"
            )));
        }
        let same_day: Option<i64> =
            sqlx::query_scalar("SELECT id FROM meetings WHERE contract_id = $1 AND held_on = $2")
                .bind(contract_id)
                .bind(&held_on)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = same_day {
            return Err(StoreError::Conflict(format!(
                "contract {contract_id} already has meeting {id} on {held_on}: add to it (obc meeting note --meeting {id} ...)"
            )));
        }
        for (name, _) in attendees {
            non_empty("an attendee's name", name)?;
        }
        let open: Vec<i64> = sqlx::query_scalar(
            "SELECT a.id FROM action_items a WHERE a.contract_id = $1 AND coalesce(
                (SELECT e.status FROM action_item_events e WHERE e.item_id = a.id ORDER BY e.id DESC LIMIT 1),
                'open') = 'open' ORDER BY a.id",
        )
        .bind(contract_id)
        .fetch_all(&mut *tx)
        .await?;
        let snapshot_json = serde_json::to_string(snapshot)
            .map_err(|e| StoreError::Corrupt(format!("snapshot: {e}")))?;
        let open_json = serde_json::to_string(&open).expect("ids serialize");
        let now = crate::now();
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO meetings (contract_id, contract_version, held_on, snapshot, open_items, opened_at, opened_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(contract_id)
        .bind(i64::from(contract_version))
        .bind(&held_on)
        .bind(&snapshot_json)
        .bind(&open_json)
        .bind(&now)
        .bind(actor)
        .fetch_one(&mut *tx)
        .await?;
        let off_track = snapshot
            .rows
            .iter()
            .filter(|r| {
                obc_core::progress::Factor::ALL
                    .iter()
                    .any(|f| r.mark(*f).status == obc_core::progress::Status::OffTrack)
            })
            .count();
        audit(
            &mut tx,
            actor,
            "meeting.open",
            &format!("contract:{contract_id}/meeting:{id}"),
            &format!(
                "version {contract_version}, held on {held_on}, {} students, {off_track} off track on a factor, {} open action items carried",
                snapshot.rows.len(),
                open.len()
            ),
        )
        .await?;
        for (name, side) in attendees {
            insert_attendee(&mut tx, actor, id, name, *side).await?;
        }
        tx.commit().await?;
        Ok(Meeting {
            id,
            contract_id: contract_id.to_string(),
            contract_version,
            held_on,
            opened_at: now,
            opened_by: actor.to_string(),
        })
    }

    /// A meeting by id.
    pub async fn meeting(&self, id: i64) -> Result<Meeting> {
        let row: Option<MeetingRow> = sqlx::query_as(
            "SELECT id, contract_id, contract_version, held_on, opened_at, opened_by FROM meetings WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(meeting)
            .ok_or_else(|| StoreError::NotFound(format!("no meeting {id}")))
    }

    /// The meetings of a contract, by date.
    pub async fn meetings(&self, contract_id: &str) -> Result<Vec<Meeting>> {
        let rows: Vec<MeetingRow> = sqlx::query_as(
            "SELECT id, contract_id, contract_version, held_on, opened_at, opened_by FROM meetings
             WHERE contract_id = $1 ORDER BY held_on, id",
        )
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(meeting).collect())
    }

    /// The contract's meeting cadence checked at a date (docs/PROGRESS.md): meetings are due
    /// every 14 days from the first enrollment's start (or the period's start if later).
    pub async fn meeting_cadence(&self, contract_id: &str, as_of: time::Date) -> Result<Cadence> {
        let contract = self.contract(contract_id).await?.contract;
        let dates: Vec<time::Date> = self
            .meetings(contract_id)
            .await?
            .iter()
            .map(|x| crate::parse_date(&x.held_on))
            .collect::<Result<_>>()?;
        let first: Option<String> =
            sqlx::query_scalar("SELECT min(start_date) FROM enrollments WHERE contract_id = $1")
                .bind(contract_id)
                .fetch_one(&self.pool)
                .await?;
        let first = first.as_deref().map(crate::parse_date).transpose()?;
        Ok(cadence(
            &contract,
            first,
            &dates,
            as_of,
            meeting_cadence_days(&contract),
        ))
    }

    /// Adds an attendee to a meeting.
    pub async fn add_attendee(
        &self,
        actor: &str,
        meeting_id: i64,
        name: &str,
        side: Side,
    ) -> Result<Attendee> {
        non_empty("an attendee's name", name)?;
        self.meeting(meeting_id).await?;
        let mut tx = self.write_tx().await?;
        let attendee = insert_attendee(&mut tx, actor, meeting_id, name, side).await?;
        tx.commit().await?;
        Ok(attendee)
    }

    /// Writes a note of a meeting, about one student of the contract or (`None`) the meeting.
    pub async fn add_meeting_note(
        &self,
        actor: &str,
        meeting_id: i64,
        student_id: Option<&str>,
        text: &str,
        district_only: bool,
    ) -> Result<MeetingNote> {
        non_empty("the note", text)?;
        let m = self.meeting(meeting_id).await?;
        if let Some(s) = student_id {
            self.check_enrolled(&m.contract_id, s).await?;
        }
        let mut tx = self.write_tx().await?;
        let note = insert_note(
            &mut tx,
            actor,
            meeting_id,
            None,
            student_id,
            text,
            district_only,
        )
        .await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Edits a note: a new version replacing `note_id`, which must be the latest version. The
    /// new version keeps the student; `district_only` `None` keeps the visibility.
    pub async fn edit_meeting_note(
        &self,
        actor: &str,
        note_id: i64,
        text: &str,
        district_only: Option<bool>,
    ) -> Result<MeetingNote> {
        non_empty("the note", text)?;
        let mut tx = self.write_tx().await?;
        let old: Option<(i64, Option<String>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT meeting_id, student_id, district_only, (SELECT id FROM meeting_notes r WHERE r.replaces = n.id)
             FROM meeting_notes n WHERE id = $1",
        )
        .bind(note_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (meeting_id, student_id, was_district_only, replaced_by) =
            old.ok_or_else(|| StoreError::NotFound(format!("no meeting note {note_id}")))?;
        if let Some(newer) = replaced_by {
            return Err(StoreError::Conflict(format!(
                "note {note_id} was already replaced by note {newer}: edit the latest version"
            )));
        }
        let note = insert_note(
            &mut tx,
            actor,
            meeting_id,
            Some(note_id),
            student_id.as_deref(),
            text,
            district_only.unwrap_or(was_district_only != 0),
        )
        .await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Records an action item decided at a meeting.
    pub async fn add_action_item(
        &self,
        actor: &str,
        meeting_id: i64,
        student_id: Option<&str>,
        text: &str,
        owner: Owner,
        due_on: time::Date,
    ) -> Result<ActionItem> {
        non_empty("the action item", text)?;
        supported_date("due date", due_on)?;
        let m = self.meeting(meeting_id).await?;
        if let Some(s) = student_id {
            self.check_enrolled(&m.contract_id, s).await?;
        }
        let mut tx = self.write_tx().await?;
        let now = crate::now();
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO action_items (meeting_id, contract_id, student_id, text, owner, due_on, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(meeting_id)
        .bind(&m.contract_id)
        .bind(student_id)
        .bind(text)
        .bind(owner.as_str())
        .bind(due_on.to_string())
        .bind(&now)
        .bind(actor)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "meeting.action",
            &format!("meeting:{meeting_id}/action:{id}"),
            &format!(
                "owner {}, due {due_on}{}",
                owner.as_str(),
                student_id
                    .map(|s| format!(", student {s}"))
                    .unwrap_or_default()
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(ActionItem {
            id,
            meeting_id,
            contract_id: m.contract_id,
            student_id: student_id.map(str::to_string),
            text: text.to_string(),
            owner,
            due_on: due_on.to_string(),
            created_at: now,
            created_by: actor.to_string(),
            status: ActionStatus::Open,
            status_at: None,
            status_by: None,
            status_note: None,
        })
    }

    /// Changes an action item's status (close it as done or dropped, or reopen it): a new
    /// event, the earlier ones stay.
    pub async fn set_action_status(
        &self,
        actor: &str,
        item_id: i64,
        status: ActionStatus,
        note: &str,
    ) -> Result<ActionItem> {
        let current = self.action_item(item_id).await?;
        if current.status == status {
            return Err(StoreError::Conflict(format!(
                "action item {item_id} is already {}",
                status.as_str()
            )));
        }
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO action_item_events (item_id, status, note, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(item_id)
        .bind(status.as_str())
        .bind(note)
        .bind(crate::now())
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "meeting.action.status",
            &format!("meeting:{}/action:{item_id}", current.meeting_id),
            &format!("{} -> {}", current.status.as_str(), status.as_str()),
        )
        .await?;
        tx.commit().await?;
        self.action_item(item_id).await
    }

    /// One action item with its current status.
    pub async fn action_item(&self, item_id: i64) -> Result<ActionItem> {
        let sql = format!("{SELECT_ITEMS} WHERE a.id = $1");
        let row: Option<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?;
        item(row.ok_or_else(|| StoreError::NotFound(format!("no action item {item_id}")))?)
    }

    /// The action items of a contract a viewer may see (all, or only the open ones), by id.
    pub async fn action_items(
        &self,
        contract_id: &str,
        viewer: &Viewer,
        open_only: bool,
    ) -> Result<Vec<ActionItem>> {
        // A provider's students are checked in the query, item by item: the set of every
        // student it serves is 100,000 ids at state scale, for a handful of items.
        let enrolled_with = self.provider_visibility(contract_id, viewer).await?;
        let (provider, district) = enrolled_with.unzip();
        let sql = format!(
            "{SELECT_ITEMS} WHERE a.contract_id = $1
               AND ($2 IS NULL OR a.student_id IS NULL OR EXISTS
                    (SELECT 1 FROM enrollments en JOIN contract_versions c ON c.contract_id = en.contract_id
                     WHERE en.student_id = a.student_id AND c.provider_id = $2 AND c.district_id = $3))
             ORDER BY a.id"
        );
        let rows: Vec<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(contract_id)
            .bind(provider)
            .bind(district)
            .fetch_all(&self.pool)
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let i = item(row)?;
            if !open_only || i.status == ActionStatus::Open {
                items.push(i);
            }
        }
        Ok(items)
    }

    /// A meeting as a viewer may see it: its snapshot and off-track list, the changes since
    /// the previous meeting, the cadence at its date, attendees, the current version of each
    /// note and the action items it carried and opened. District staff of another district
    /// and providers of another provider get `NotFound`; providers see only the students of
    /// their own contracts and no district-only note; auditors see no district-only note.
    pub async fn meeting_view(&self, meeting_id: i64, viewer: &Viewer) -> Result<MeetingView> {
        let m = self.meeting(meeting_id).await?;
        let visible = match self.visibility(&m.contract_id, viewer).await {
            Err(StoreError::NotFound(_)) => {
                return Err(StoreError::NotFound(format!("no meeting {meeting_id}")))
            }
            other => other?,
        };
        let (snapshot_json, open_json): (String, String) =
            sqlx::query_as("SELECT snapshot, open_items FROM meetings WHERE id = $1")
                .bind(meeting_id)
                .fetch_one(&self.pool)
                .await?;
        let mut snapshot = parse_snapshot(meeting_id, &snapshot_json)?;
        let previous: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, snapshot FROM meetings WHERE contract_id = $1 AND (held_on < $2 OR (held_on = $3 AND id < $4))
             ORDER BY held_on DESC, id DESC LIMIT 1",
        )
        .bind(&m.contract_id)
        .bind(&m.held_on)
        .bind(&m.held_on)
        .bind(m.id)
        .fetch_optional(&self.pool)
        .await?;
        let changes = match &previous {
            Some((id, json)) => {
                let before = parse_snapshot(*id, json)?;
                let mut c = snapshot.changes_since(&before);
                c.retain_students(|s| visible.student_id(s));
                Some(c)
            }
            None => None,
        };
        snapshot.retain_students(|s| visible.student_id(s));
        let off_track = snapshot.off_track();
        let cadence = self
            .meeting_cadence(&m.contract_id, crate::parse_date(&m.held_on)?)
            .await?;
        let attendees: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT id, name, side, added_at, added_by FROM meeting_attendees WHERE meeting_id = $1 ORDER BY id",
        )
        .bind(meeting_id)
        .fetch_all(&self.pool)
        .await?;
        let attendees = attendees
            .into_iter()
            .map(|(id, name, side, added_at, added_by)| {
                Ok(Attendee {
                    id,
                    name,
                    side: Side::parse(&side)
                        .ok_or_else(|| StoreError::Corrupt(format!("attendee side {side}")))?,
                    added_at,
                    added_by,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let notes = self
            .current_notes(meeting_id)
            .await?
            .into_iter()
            .filter(|n| {
                (viewer.sees_district_only() || !n.district_only) && visible.student(&n.student_id)
            })
            .collect();
        let carried: Vec<i64> = serde_json::from_str(&open_json)
            .map_err(|e| StoreError::Corrupt(format!("meeting {meeting_id} open items: {e}")))?;
        let carried: HashSet<i64> = carried.into_iter().collect();
        let items = self.action_items(&m.contract_id, viewer, false).await?;
        let (carried_items, new_items) = (
            items
                .iter()
                .filter(|i| carried.contains(&i.id))
                .cloned()
                .collect(),
            items
                .into_iter()
                .filter(|i| i.meeting_id == meeting_id)
                .collect(),
        );
        Ok(MeetingView {
            meeting: m,
            viewer: viewer.kind().to_string(),
            snapshot,
            off_track,
            previous_meeting: previous.map(|(id, _)| id),
            changes,
            cadence,
            attendees,
            notes,
            carried_items,
            new_items,
        })
    }

    /// The latest version of each note of a meeting, in the order the notes were first written.
    async fn current_notes(&self, meeting_id: i64) -> Result<Vec<MeetingNote>> {
        type NoteRow = (
            i64,
            Option<i64>,
            Option<String>,
            String,
            i64,
            String,
            String,
        );
        let rows: Vec<NoteRow> = sqlx::query_as(
            "SELECT id, replaces, student_id, text, district_only, author, written_at
             FROM meeting_notes WHERE meeting_id = $1 ORDER BY id",
        )
        .bind(meeting_id)
        .fetch_all(&self.pool)
        .await?;
        // Version numbers and the first version of each chain, in id order (a replacement
        // always has a larger id than the version it replaces).
        let mut version: HashMap<i64, (u32, i64)> = HashMap::new();
        let replaced: HashSet<i64> = rows.iter().filter_map(|r| r.1).collect();
        let mut notes = Vec::new();
        for (id, replaces, student_id, text, district_only, author, written_at) in rows {
            let (v, first) = match replaces.and_then(|r| version.get(&r)) {
                Some((v, first)) => (v + 1, *first),
                None => (1, id),
            };
            version.insert(id, (v, first));
            if replaced.contains(&id) {
                continue;
            }
            notes.push((
                first,
                MeetingNote {
                    id,
                    meeting_id,
                    replaces,
                    version: v,
                    student_id,
                    text,
                    district_only: district_only != 0,
                    author,
                    written_at,
                },
            ));
        }
        notes.sort_by_key(|(first, _)| *first);
        Ok(notes.into_iter().map(|(_, n)| n).collect())
    }

    /// Every version of a note's chain up to `note_id`, oldest first.
    pub async fn note_history(&self, note_id: i64) -> Result<Vec<(i64, String, String, String)>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "WITH RECURSIVE chain(id, replaces, text, author, written_at) AS (
                SELECT id, replaces, text, author, written_at FROM meeting_notes WHERE id = $1
                UNION ALL
                SELECT n.id, n.replaces, n.text, n.author, n.written_at FROM meeting_notes n JOIN chain c ON n.id = c.replaces)
             SELECT id, text, author, written_at FROM chain ORDER BY id",
        )
        .bind(note_id)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound(format!("no meeting note {note_id}")));
        }
        Ok(rows)
    }

    async fn check_enrolled(&self, contract_id: &str, student_id: &str) -> Result<()> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM enrollments WHERE contract_id = $1 AND student_id = $2",
        )
        .bind(contract_id)
        .bind(student_id)
        .fetch_one(&self.pool)
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "student {student_id} is not enrolled in {contract_id}"
            )));
        }
        Ok(())
    }

    /// Which students of a contract's meetings a viewer may see; `NotFound` when the viewer
    /// may not see the contract at all.
    async fn visibility(&self, contract_id: &str, viewer: &Viewer) -> Result<Visible> {
        let Some((provider, district)) = self.provider_visibility(contract_id, viewer).await?
        else {
            return Ok(Visible::All);
        };
        let students: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT e.student_id FROM enrollments e
             JOIN contract_versions c ON c.contract_id = e.contract_id
             WHERE c.provider_id = $1 AND c.district_id = $2",
        )
        .bind(provider)
        .bind(district)
        .fetch_all(&self.pool)
        .await?;
        Ok(Visible::Only(students.into_iter().collect()))
    }

    /// Whether a viewer sees a contract's records only for the students of one provider's
    /// contracts in its district (`Some((provider, district))`: the contract's provider) or
    /// all of them (`None`); `NotFound` for a viewer who may not see the contract.
    async fn provider_visibility(
        &self,
        contract_id: &str,
        viewer: &Viewer,
    ) -> Result<Option<(String, String)>> {
        let parties: Option<(String, String)> = sqlx::query_as(
            "SELECT district_id, provider_id FROM contract_versions WHERE contract_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(contract_id)
        .fetch_optional(&self.pool)
        .await?;
        let (district, provider) = parties
            .ok_or_else(|| StoreError::NotFound(format!("no contract \"{contract_id}\"")))?;
        match viewer {
            Viewer::Intermediary | Viewer::Auditor => Ok(None),
            Viewer::District(d) if *d == district => Ok(None),
            Viewer::Provider(p) if *p == provider => Ok(Some((provider, district))),
            _ => Err(StoreError::NotFound(format!(
                "no contract \"{contract_id}\""
            ))),
        }
    }
}

/// The students a viewer may see.
enum Visible {
    All,
    Only(HashSet<String>),
}

impl Visible {
    fn student_id(&self, id: &str) -> bool {
        match self {
            Visible::All => true,
            Visible::Only(ids) => ids.contains(id),
        }
    }

    /// A record about a student (or about no student, which everyone with access sees).
    fn student(&self, id: &Option<String>) -> bool {
        id.as_deref().is_none_or(|s| self.student_id(s))
    }
}

fn parse_snapshot(meeting_id: i64, json: &str) -> Result<Snapshot> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("meeting {meeting_id} snapshot: {e}")))
}

async fn insert_attendee(
    tx: &mut crate::Tx,
    actor: &str,
    meeting_id: i64,
    name: &str,
    side: Side,
) -> Result<Attendee> {
    let now = crate::now();
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO meeting_attendees (meeting_id, name, side, added_at, added_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(meeting_id)
    .bind(name.trim())
    .bind(side.as_str())
    .bind(&now)
    .bind(actor)
    .fetch_one(&mut **tx)
    .await?;
    audit(
        tx,
        actor,
        "meeting.attendee",
        &format!("meeting:{meeting_id}/attendee:{id}"),
        &format!("{} ({})", name.trim(), side.as_str()),
    )
    .await?;
    Ok(Attendee {
        id,
        name: name.trim().to_string(),
        side,
        added_at: now,
        added_by: actor.to_string(),
    })
}

/// Inserts a note version; the audit event names the student and visibility, not the text.
async fn insert_note(
    tx: &mut crate::Tx,
    actor: &str,
    meeting_id: i64,
    replaces: Option<i64>,
    student_id: Option<&str>,
    text: &str,
    district_only: bool,
) -> Result<MeetingNote> {
    let now = crate::now();
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO meeting_notes (meeting_id, replaces, student_id, text, district_only, author, written_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(meeting_id)
    .bind(replaces)
    .bind(student_id)
    .bind(text)
    .bind(i64::from(district_only))
    .bind(actor)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    let version: i64 = sqlx::query_scalar(
        "WITH RECURSIVE chain(id, replaces) AS (
            SELECT id, replaces FROM meeting_notes WHERE id = $1
            UNION ALL
            SELECT n.id, n.replaces FROM meeting_notes n JOIN chain c ON n.id = c.replaces)
         SELECT count(*) FROM chain",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    audit(
        tx,
        actor,
        if replaces.is_some() {
            "meeting.note.edit"
        } else {
            "meeting.note"
        },
        &format!("meeting:{meeting_id}/note:{id}"),
        &format!(
            "{}{}{}",
            student_id.map_or_else(|| "the meeting".to_string(), |s| format!("student {s}")),
            if district_only { ", district-only" } else { "" },
            replaces
                .map(|r| format!(", replaces note {r}"))
                .unwrap_or_default()
        ),
    )
    .await?;
    Ok(MeetingNote {
        id,
        meeting_id,
        replaces,
        version: version as u32,
        student_id: student_id.map(str::to_string),
        text: text.to_string(),
        district_only,
        author: actor.to_string(),
        written_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stores;
    use obc_core::progress::{Factor, Mark, SnapshotRow, Status};
    use obc_core::{Contract, Enrollment};
    use rust_decimal::Decimal;

    const EXAMPLE: &str = include_str!("../../core/tests/contract_example.toml");

    fn day(s: &str) -> time::Date {
        obc_core::model::parse_iso_date(s).unwrap()
    }

    /// The SPEC example contract (district `ector`, provider `fev`) with students s1..s3.
    async fn setup(store: Store) -> Store {
        store
            .ensure_organisation("ector", "district", "Ector")
            .await
            .unwrap();
        let contract = Contract::parse(EXAMPLE).unwrap();
        store
            .add_contract("admin", &contract, EXAMPLE, None)
            .await
            .unwrap();
        let rows: Vec<Enrollment> = ["s1", "s2", "s3"]
            .iter()
            .map(|id| Enrollment {
                student_id: id.to_string(),
                start: day("2024-08-12"),
                end: None,
            })
            .collect();
        store
            .enroll("admin", "enrollment.csv", "ector-math-2025", &rows)
            .await
            .unwrap();
        store
    }

    fn row(id: &str, school: &str, att: Status, outcome: Status) -> SnapshotRow {
        let m = |s: Status| Mark {
            status: s,
            summary: format!("{id} {}", s.as_str()),
        };
        SnapshotRow {
            student_id: id.into(),
            school_id: school.into(),
            attendance: m(att),
            provider_duties: m(Status::OnTrack),
            outcome: m(outcome),
            at_risk: Decimal::new(48000, 2),
        }
    }

    fn snapshot(as_of: &str, rows: Vec<SnapshotRow>) -> Snapshot {
        Snapshot {
            as_of: as_of.into(),
            rows,
        }
    }

    use Status::{NotJudged as N, OffTrack as X, OnTrack as O};

    async fn open(store: &Store, as_of: &str, rows: Vec<SnapshotRow>) -> Meeting {
        store
            .open_meeting(
                "admin",
                "ector-math-2025",
                1,
                &snapshot(as_of, rows),
                &[
                    ("Ana Ruiz".into(), Side::District),
                    ("Bo Lee".into(), Side::Provider),
                ],
            )
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_meeting_keeps_its_snapshot_and_one_meeting_per_day() {
        for store in stores().await {
            let store = setup(store).await;
            let m = open(&store, "2024-09-20", vec![row("s1", "sch-1", X, N)]).await;
            assert_eq!(m.held_on, "2024-09-20");
            let view = store
                .meeting_view(m.id, &Viewer::Intermediary)
                .await
                .unwrap();
            assert_eq!(view.snapshot.rows.len(), 1);
            assert_eq!(view.off_track.len(), 1);
            assert_eq!(view.off_track[0].factor, Factor::Attendance);
            assert_eq!(
                view.changes, None,
                "the first meeting has nothing to compare with"
            );
            assert_eq!(view.attendees.len(), 2);
            let again = store
                .open_meeting(
                    "admin",
                    "ector-math-2025",
                    1,
                    &snapshot("2024-09-20", vec![]),
                    &[],
                )
                .await;
            assert!(matches!(again, Err(StoreError::Conflict(_))));
            let unknown = store
                .open_meeting("admin", "nope", 1, &snapshot("2024-09-21", vec![]), &[])
                .await;
            assert!(matches!(unknown, Err(StoreError::NotFound(_))));
            let log = store.audit_log().await.unwrap();
            let actions: Vec<&str> = log.iter().map(|e| e.2.as_str()).collect();
            assert!(actions.ends_with(&["meeting.open", "meeting.attendee", "meeting.attendee"]));
            assert_eq!(store.meetings("ector-math-2025").await.unwrap(), vec![m]);
        }
    }

    #[tokio::test]
    async fn meeting_and_due_dates_outside_1900_to_2200_are_refused() {
        for store in stores().await {
            let store = setup(store).await;
            let far = store
                .open_meeting(
                    "admin",
                    "ector-math-2025",
                    1,
                    &snapshot("9999-12-27", vec![]),
                    &[],
                )
                .await;
            match far {
                Err(StoreError::Conflict(e)) => assert_eq!(
                    e,
                    "meeting date 9999-12-27: expected a date between 1900-01-01 and 2200-12-31"
                ),
                other => panic!("{other:?}"),
            }
            assert!(store.meetings("ector-math-2025").await.unwrap().is_empty());
            let m = open(&store, "2024-09-20", vec![]).await;
            let due = store
                .add_action_item(
                    "admin",
                    m.id,
                    None,
                    "call",
                    Owner::District,
                    day("9999-01-01"),
                )
                .await;
            assert!(
                matches!(due, Err(StoreError::Conflict(e)) if e.starts_with("due date 9999-01-01"))
            );
        }
    }

    #[tokio::test]
    async fn changes_and_carried_items_come_from_the_previous_meeting() {
        for store in stores().await {
            let store = setup(store).await;
            let first = open(
                &store,
                "2024-09-20",
                vec![row("s1", "sch-1", X, N), row("s2", "sch-1", O, N)],
            )
            .await;
            let item = store
                .add_action_item(
                    "admin",
                    first.id,
                    Some("s1"),
                    "Move s1's sessions to 2nd period",
                    Owner::District,
                    day("2024-10-01"),
                )
                .await
                .unwrap();
            let done = store
                .add_action_item(
                    "admin",
                    first.id,
                    None,
                    "Send the tutor schedule",
                    Owner::Provider,
                    day("2024-09-27"),
                )
                .await
                .unwrap();
            store
                .set_action_status("admin", done.id, ActionStatus::Done, "sent")
                .await
                .unwrap();
            // Period start 2024-08-12 -> 2024-09-20: 39 days, two meetings (due 08-26 and 09-09)
            // missed; 2024-09-20 -> 2024-10-20: 30 days, two more (due 10-04 and 10-18).
            let second = open(
                &store,
                "2024-10-20",
                vec![row("s1", "sch-1", O, N), row("s2", "sch-1", X, N)],
            )
            .await;
            let view = store
                .meeting_view(second.id, &Viewer::Intermediary)
                .await
                .unwrap();
            assert_eq!(view.previous_meeting, Some(first.id));
            let c = view.changes.unwrap();
            assert_eq!(c.since, "2024-09-20");
            assert_eq!(c.newly_off_track.len(), 1);
            assert_eq!(c.newly_off_track[0].student_id, "s2");
            assert_eq!(c.back_on_track.len(), 1);
            assert_eq!(c.back_on_track[0].student_id, "s1");
            let carried: Vec<i64> = view.carried_items.iter().map(|i| i.id).collect();
            assert_eq!(
                carried,
                vec![item.id],
                "only the item still open is carried"
            );
            assert!(view.new_items.is_empty());
            assert_eq!(view.cadence.missed_meetings(), 4);
            assert_eq!(view.cadence.missed[1].days, 30);
            assert!(!view.cadence.overdue);
            // Closing later does not change what the meeting carried, only the status shown.
            store
                .set_action_status("admin", item.id, ActionStatus::Done, "moved")
                .await
                .unwrap();
            let view = store
                .meeting_view(second.id, &Viewer::Intermediary)
                .await
                .unwrap();
            assert_eq!(view.carried_items[0].status, ActionStatus::Done);
            assert_eq!(view.carried_items[0].status_note.as_deref(), Some("moved"));
            let open_items = store
                .action_items("ector-math-2025", &Viewer::Intermediary, true)
                .await
                .unwrap();
            assert!(open_items.is_empty());
        }
    }

    #[tokio::test]
    async fn action_items_close_reopen_and_refuse_a_repeat() {
        for store in stores().await {
            let store = setup(store).await;
            let m = open(&store, "2024-09-20", vec![]).await;
            let i = store
                .add_action_item(
                    "admin",
                    m.id,
                    None,
                    "Call",
                    Owner::Provider,
                    day("2024-09-30"),
                )
                .await
                .unwrap();
            assert_eq!(i.status, ActionStatus::Open);
            assert!(i.overdue_on("2024-10-01"));
            let closed = store
                .set_action_status("pat", i.id, ActionStatus::Dropped, "no longer needed")
                .await
                .unwrap();
            assert_eq!(closed.status, ActionStatus::Dropped);
            assert_eq!(closed.status_by.as_deref(), Some("pat"));
            let again = store
                .set_action_status("pat", i.id, ActionStatus::Dropped, "")
                .await;
            assert!(matches!(again, Err(StoreError::Conflict(_))));
            let reopened = store
                .set_action_status("pat", i.id, ActionStatus::Open, "after all")
                .await
                .unwrap();
            assert_eq!(reopened.status, ActionStatus::Open);
            let bad_student = store
                .add_action_item(
                    "admin",
                    m.id,
                    Some("zz"),
                    "x",
                    Owner::District,
                    day("2024-10-01"),
                )
                .await;
            assert!(matches!(bad_student, Err(StoreError::NotFound(_))));
            let empty = store
                .add_action_item(
                    "admin",
                    m.id,
                    None,
                    "  ",
                    Owner::District,
                    day("2024-10-01"),
                )
                .await;
            assert!(matches!(empty, Err(StoreError::Conflict(_))));
        }
    }

    #[tokio::test]
    async fn an_edited_note_is_a_new_version_and_the_old_one_stays() {
        for store in stores().await {
            let store = setup(store).await;
            let m = open(&store, "2024-09-20", vec![]).await;
            let n1 = store
                .add_meeting_note("ana", m.id, Some("s1"), "Misses Mondays", false)
                .await
                .unwrap();
            let n2 = store
                .edit_meeting_note("ana", n1.id, "Misses Mondays (sports)", None)
                .await
                .unwrap();
            assert_eq!((n2.version, n2.replaces), (2, Some(n1.id)));
            assert_eq!(n2.student_id.as_deref(), Some("s1"));
            let stale = store.edit_meeting_note("ana", n1.id, "x", None).await;
            assert!(matches!(stale, Err(StoreError::Conflict(_))));
            let n3 = store
                .edit_meeting_note("ana", n2.id, "Misses Mondays (family)", Some(true))
                .await
                .unwrap();
            assert_eq!(n3.version, 3);
            assert!(n3.district_only);
            let general = store
                .add_meeting_note("ana", m.id, None, "Good meeting", false)
                .await
                .unwrap();
            let view = store
                .meeting_view(m.id, &Viewer::Intermediary)
                .await
                .unwrap();
            let notes: Vec<(i64, u32)> = view.notes.iter().map(|n| (n.id, n.version)).collect();
            assert_eq!(notes, vec![(n3.id, 3), (general.id, 1)]);
            let history = store.note_history(n3.id).await.unwrap();
            let texts: Vec<&str> = history.iter().map(|h| h.1.as_str()).collect();
            assert_eq!(
                texts,
                [
                    "Misses Mondays",
                    "Misses Mondays (sports)",
                    "Misses Mondays (family)"
                ]
            );
            let not_enrolled = store
                .add_meeting_note("ana", m.id, Some("zz"), "x", false)
                .await;
            assert!(matches!(not_enrolled, Err(StoreError::NotFound(_))));
        }
    }

    #[tokio::test]
    async fn providers_see_their_students_and_no_district_only_note() {
        for store in stores().await {
            let store = setup(store).await;
            // x9 is in the snapshot but in no contract of the provider.
            let m = open(
                &store,
                "2024-09-20",
                vec![row("s1", "sch-1", X, N), row("x9", "sch-1", X, N)],
            )
            .await;
            store
                .add_meeting_note("ana", m.id, Some("s1"), "Shared with the provider", false)
                .await
                .unwrap();
            store
                .add_meeting_note("ana", m.id, Some("s1"), "Family situation", true)
                .await
                .unwrap();
            let texts =
                |v: &MeetingView| v.notes.iter().map(|n| n.text.clone()).collect::<Vec<_>>();
            let all = store
                .meeting_view(m.id, &Viewer::Intermediary)
                .await
                .unwrap();
            assert_eq!(texts(&all).len(), 2);
            assert_eq!(all.snapshot.rows.len(), 2);
            let district = store
                .meeting_view(m.id, &Viewer::District("ector".into()))
                .await
                .unwrap();
            assert_eq!(texts(&district).len(), 2);
            let provider = store
                .meeting_view(m.id, &Viewer::Provider("fev".into()))
                .await
                .unwrap();
            assert_eq!(texts(&provider), ["Shared with the provider"]);
            let ids: Vec<&str> = provider
                .snapshot
                .rows
                .iter()
                .map(|r| r.student_id.as_str())
                .collect();
            assert_eq!(ids, ["s1"]);
            assert_eq!(provider.off_track[0].students.len(), 1);
            assert_eq!(provider.viewer, "provider");
            let auditor = store.meeting_view(m.id, &Viewer::Auditor).await.unwrap();
            assert_eq!(texts(&auditor), ["Shared with the provider"]);
            for outsider in [
                Viewer::Provider("other".into()),
                Viewer::District("elsewhere".into()),
            ] {
                let seen = store.meeting_view(m.id, &outsider).await;
                assert!(
                    matches!(&seen, Err(StoreError::NotFound(msg)) if msg == &format!("no meeting {}", m.id)),
                    "{outsider:?}"
                );
                assert!(store
                    .action_items("ector-math-2025", &outsider, false)
                    .await
                    .is_err());
            }
        }
    }

    #[tokio::test]
    async fn meeting_records_refuse_update_and_delete() {
        for store in stores().await {
            let store = setup(store).await;
            let m = open(&store, "2024-09-20", vec![row("s1", "sch-1", X, N)]).await;
            let n = store
                .add_meeting_note("ana", m.id, None, "note", false)
                .await
                .unwrap();
            let i = store
                .add_action_item("ana", m.id, None, "do", Owner::District, day("2024-10-01"))
                .await
                .unwrap();
            store
                .set_action_status("ana", i.id, ActionStatus::Done, "")
                .await
                .unwrap();
            for sql in [
                "UPDATE meetings SET held_on = '2024-01-01'",
                "DELETE FROM meetings",
                "UPDATE meeting_attendees SET name = 'x'",
                "DELETE FROM meeting_attendees",
                "UPDATE meeting_notes SET text = 'x'",
                "DELETE FROM meeting_notes",
                "UPDATE action_items SET due_on = '2030-01-01'",
                "DELETE FROM action_items",
                "UPDATE action_item_events SET status = 'open'",
                "DELETE FROM action_item_events",
            ] {
                let err = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&store.pool)
                    .await
                    .expect_err(sql);
                assert!(err.to_string().contains("append-only"), "{sql}: {err}");
            }
            assert_eq!(n.version, 1);
        }
    }
}
