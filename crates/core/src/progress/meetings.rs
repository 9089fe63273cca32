//! Meeting records: meetings, attendees, notes and action items.

use super::*;
use serde::{Deserialize, Serialize};

/// Who an action item is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    District,
    Provider,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::District => "district",
            Owner::Provider => "provider",
        }
    }

    pub fn parse(text: &str) -> Option<Owner> {
        match text {
            "district" => Some(Owner::District),
            "provider" => Some(Owner::Provider),
            _ => None,
        }
    }
}

/// The organisation a meeting attendee speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    District,
    Provider,
    Intermediary,
    Other,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::District => "district",
            Side::Provider => "provider",
            Side::Intermediary => "intermediary",
            Side::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Side> {
        [
            Side::District,
            Side::Provider,
            Side::Intermediary,
            Side::Other,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// An action item's state: open until closed as done or dropped (it may be reopened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    Done,
    Dropped,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::Done => "done",
            ActionStatus::Dropped => "dropped",
        }
    }

    pub fn parse(text: &str) -> Option<ActionStatus> {
        [
            ActionStatus::Open,
            ActionStatus::Done,
            ActionStatus::Dropped,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A continuous-improvement meeting of a contract (its snapshot is kept apart: it is large).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meeting {
    pub id: i64,
    pub contract_id: String,
    pub contract_version: u32,
    /// The meeting's date; its snapshot is the progress as of this date.
    pub held_on: String,
    pub opened_at: String,
    pub opened_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attendee {
    pub id: i64,
    pub name: String,
    pub side: Side,
    pub added_at: String,
    pub added_by: String,
}

/// One version of a meeting note. An edit is a new version naming the one it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingNote {
    pub id: i64,
    pub meeting_id: i64,
    /// The version this one replaces (`None` for a first version).
    pub replaces: Option<i64>,
    /// 1 for a first version, 2 for its first edit...
    pub version: u32,
    /// `None`: a note about the meeting as a whole.
    pub student_id: Option<String>,
    pub text: String,
    /// Hidden from the provider (and auditors).
    pub district_only: bool,
    pub author: String,
    pub written_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionItem {
    pub id: i64,
    /// The meeting that opened the item.
    pub meeting_id: i64,
    pub contract_id: String,
    pub student_id: Option<String>,
    pub text: String,
    pub owner: Owner,
    pub due_on: String,
    pub created_at: String,
    pub created_by: String,
    /// The latest status change (`open` when never changed).
    pub status: ActionStatus,
    pub status_at: Option<String>,
    pub status_by: Option<String>,
    pub status_note: Option<String>,
}

impl ActionItem {
    /// Open and due strictly before `date` (ISO).
    pub fn overdue_on(&self, date: &str) -> bool {
        self.status == ActionStatus::Open && self.due_on.as_str() < date
    }
}

/// A meeting as one viewer may see it: the agenda it was opened with and what was recorded.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    pub meeting: Meeting,
    /// The viewer this view was filtered for (`intermediary`, `district`, `provider`, `auditor`).
    pub viewer: String,
    pub snapshot: Snapshot,
    /// Off-track students by school and factor, from the snapshot.
    pub off_track: Vec<OffTrackGroup>,
    /// The previous meeting of the contract (by date), if any.
    pub previous_meeting: Option<i64>,
    /// Changes since the previous meeting; `None` at a contract's first meeting.
    pub changes: Option<Changes>,
    /// The cadence checked at the meeting's date.
    pub cadence: Cadence,
    pub attendees: Vec<Attendee>,
    /// The current version of each note.
    pub notes: Vec<MeetingNote>,
    /// Items open when the meeting was opened (with their status now).
    pub carried_items: Vec<ActionItem>,
    /// Items this meeting opened.
    pub new_items: Vec<ActionItem>,
}
