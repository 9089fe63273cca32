-- Progress monitoring: continuous-improvement meetings, notes and action items (SPEC 6,
-- docs/PROGRESS.md). Every table is append-only, like the ledger: triggers refuse UPDATE and
-- DELETE. A note edited is a new version naming the one it replaces; an action item's status
-- changes are new rows of action_item_events (the latest row is the status).

CREATE TABLE meetings (
    id               INTEGER PRIMARY KEY,
    contract_id      TEXT NOT NULL,
    contract_version INTEGER NOT NULL,
    -- The meeting's date, and the as-of date of its snapshot.
    held_on          TEXT NOT NULL,
    -- JSON (obc_core::progress::Snapshot): every enrolled student's status per factor.
    snapshot         TEXT NOT NULL,
    -- JSON array of the ids of the action items open when the meeting was opened.
    open_items       TEXT NOT NULL,
    opened_at        TEXT NOT NULL,
    opened_by        TEXT NOT NULL,
    UNIQUE (contract_id, held_on)
);

CREATE TABLE meeting_attendees (
    id         INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id),
    name       TEXT NOT NULL,
    side       TEXT NOT NULL CHECK (side IN ('district', 'provider', 'intermediary', 'other')),
    added_at   TEXT NOT NULL,
    added_by   TEXT NOT NULL
);
CREATE INDEX meeting_attendees_by_meeting ON meeting_attendees (meeting_id);

CREATE TABLE meeting_notes (
    id            INTEGER PRIMARY KEY,
    meeting_id    INTEGER NOT NULL REFERENCES meetings (id),
    -- The version this one replaces; a version is replaced at most once.
    replaces      INTEGER UNIQUE REFERENCES meeting_notes (id),
    -- NULL: a note about the meeting as a whole.
    student_id    TEXT,
    text          TEXT NOT NULL,
    district_only INTEGER NOT NULL CHECK (district_only IN (0, 1)),
    author        TEXT NOT NULL,
    written_at    TEXT NOT NULL
);
CREATE INDEX meeting_notes_by_meeting ON meeting_notes (meeting_id);

CREATE TABLE action_items (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    contract_id TEXT NOT NULL,
    student_id  TEXT,
    text        TEXT NOT NULL,
    owner       TEXT NOT NULL CHECK (owner IN ('district', 'provider')),
    due_on      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX action_items_by_contract ON action_items (contract_id);

CREATE TABLE action_item_events (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES action_items (id),
    status     TEXT NOT NULL CHECK (status IN ('open', 'done', 'dropped')),
    note       TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE INDEX action_item_events_by_item ON action_item_events (item_id);

CREATE TRIGGER meetings_are_immutable BEFORE UPDATE ON meetings
BEGIN SELECT RAISE(ABORT, 'meeting records are append-only'); END;
CREATE TRIGGER meetings_are_kept BEFORE DELETE ON meetings
BEGIN SELECT RAISE(ABORT, 'meeting records are append-only'); END;
CREATE TRIGGER meeting_attendees_are_immutable BEFORE UPDATE ON meeting_attendees
BEGIN SELECT RAISE(ABORT, 'meeting records are append-only'); END;
CREATE TRIGGER meeting_attendees_are_kept BEFORE DELETE ON meeting_attendees
BEGIN SELECT RAISE(ABORT, 'meeting records are append-only'); END;
CREATE TRIGGER meeting_notes_are_immutable BEFORE UPDATE ON meeting_notes
BEGIN SELECT RAISE(ABORT, 'meeting notes are append-only: an edit is a new version'); END;
CREATE TRIGGER meeting_notes_are_kept BEFORE DELETE ON meeting_notes
BEGIN SELECT RAISE(ABORT, 'meeting notes are append-only: an edit is a new version'); END;
CREATE TRIGGER action_items_are_immutable BEFORE UPDATE ON action_items
BEGIN SELECT RAISE(ABORT, 'action items are append-only: a status change is a new event'); END;
CREATE TRIGGER action_items_are_kept BEFORE DELETE ON action_items
BEGIN SELECT RAISE(ABORT, 'action items are append-only: a status change is a new event'); END;
CREATE TRIGGER action_item_events_are_immutable BEFORE UPDATE ON action_item_events
BEGIN SELECT RAISE(ABORT, 'action item events are append-only'); END;
CREATE TRIGGER action_item_events_are_kept BEFORE DELETE ON action_item_events
BEGIN SELECT RAISE(ABORT, 'action item events are append-only'); END;
