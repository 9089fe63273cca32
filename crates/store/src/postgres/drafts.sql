-- Migration 12: draft statements stored for display, and indexes for the pages' reads (docs/ARCHITECTURE.md, "Stored drafts").
-- A draft is what the engine computes now for a contract's milestone (or a closing date); the
-- web app shows it instead of recomputing on every request. `inputs_key` says which inputs it
-- was computed from (Store::draft_inputs_key); a draft whose key differs from the current one
-- is stale and computed again. Drafts are never finalized statements: finalization computes
-- and stores its own, as before, and a draft may be replaced or deleted at any time.

CREATE TABLE draft_statements (
    contract_id    TEXT COLLATE "C" NOT NULL,
    -- The milestone, or a closing statement's `closing-YYYY-MM-DD` name.
    name           TEXT COLLATE "C" NOT NULL,
    inputs_key     TEXT COLLATE "C" NOT NULL,
    -- The statement's canonical JSON (Statement::to_json).
    statement_json TEXT COLLATE "C" NOT NULL,
    -- What the dashboard and the contract page read without the statement (obc-app's JSON).
    summary_json   TEXT COLLATE "C" NOT NULL,
    computed_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (contract_id, name)
);

-- The pages' reads by student: a student's sessions and enrollments (without them a student
-- page scans every session of the district).
CREATE INDEX sessions_by_district_student ON sessions (district_id, student_id);
CREATE INDEX enrollments_by_student ON enrollments (student_id);
