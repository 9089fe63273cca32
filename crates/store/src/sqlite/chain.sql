-- Migration 8: a hash chain over the records money depends on. Every contract version and
-- every finalization (with its lines, inputs, postings, audit record and the session history
-- it could see) is a link carrying the hash of the link before it, so `obc ledger verify`
-- notices a row deleted, inserted or edited behind obc's back even with the triggers dropped.
-- Rows stored before this migration are linked when it runs (see docs/ARCHITECTURE.md).

CREATE TABLE ledger_chain (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('contract_version', 'statement')),
    contract_id    TEXT NOT NULL,
    -- The contract version's number, or the statement's id.
    record_id      INTEGER NOT NULL,
    -- How messages name the record, even once it is gone.
    label          TEXT NOT NULL,
    -- The statement's `statement.finalize` audit record (NULL for contract versions).
    audit_id       INTEGER,
    content_sha256 TEXT NOT NULL,
    prev_sha256    TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    UNIQUE (kind, contract_id, record_id)
);

CREATE TRIGGER ledger_chain_is_append_only BEFORE UPDATE ON ledger_chain
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_chain_is_kept BEFORE DELETE ON ledger_chain
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER contract_versions_are_immutable BEFORE UPDATE ON contract_versions
BEGIN SELECT RAISE(ABORT, 'signed contract versions are never edited (add a new version)'); END;
CREATE TRIGGER contract_versions_are_kept BEFORE DELETE ON contract_versions
BEGIN SELECT RAISE(ABORT, 'signed contract versions are never deleted'); END;
CREATE TRIGGER session_history_is_append_only BEFORE UPDATE ON session_history
BEGIN SELECT RAISE(ABORT, 'session history is append-only'); END;
CREATE TRIGGER session_history_is_kept BEFORE DELETE ON session_history
BEGIN SELECT RAISE(ABORT, 'session history is append-only'); END;

-- A finalized statement's lines, inputs and postings are complete once it is linked: nothing
-- can be added to them afterwards (a correction goes on a later statement). The postings'
-- trigger, `ledger_entries_are_complete`, is created by migration 25 on `ledger_rows` (this
-- migration created it on the table `ledger_entries` until that became a view).
CREATE TRIGGER statement_lines_are_complete BEFORE INSERT ON statement_lines
WHEN EXISTS (SELECT 1 FROM ledger_chain WHERE kind = 'statement' AND record_id = NEW.statement_id)
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;
CREATE TRIGGER statement_inputs_are_complete BEFORE INSERT ON statement_inputs
WHEN EXISTS (SELECT 1 FROM ledger_chain WHERE kind = 'statement' AND record_id = NEW.statement_id)
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;
