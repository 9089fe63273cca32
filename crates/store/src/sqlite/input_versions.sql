-- Migration 10: a finalized statement records which inputs it used without copying them.
-- Every input row of a statement records the import that wrote it (`written_by`, the id of
-- that import's audit record; 0 for rows stored before this migration). A row an import
-- replaces moves to a history table with `replaced_by`, that import's audit id. The rows as
-- they were after audit record A are then the current rows with written_by <= A and the
-- history rows with written_by <= A < replaced_by: `obc ledger verify` rebuilds a
-- finalization's inputs from them (see docs/ARCHITECTURE.md).

ALTER TABLE sessions ADD COLUMN written_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session_history ADD COLUMN written_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assessment_results ADD COLUMN written_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE students ADD COLUMN written_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrollments ADD COLUMN written_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contract_versions ADD COLUMN written_by INTEGER NOT NULL DEFAULT 0;

-- Earlier versions of re-sent or rescored tests.
CREATE TABLE assessment_history (
    district_id        TEXT NOT NULL,
    student_id         TEXT NOT NULL,
    assessment         TEXT NOT NULL,
    subject            TEXT NOT NULL,
    term_name          TEXT NOT NULL,
    test_date          TEXT NOT NULL,
    start_seconds      INTEGER NOT NULL,
    score              TEXT,
    percentile         TEXT,
    rapid_guessing_pct TEXT,
    growth_measure     INTEGER NOT NULL,
    growth             TEXT NOT NULL,
    test_id            TEXT NOT NULL,
    norms              TEXT,
    written_by         INTEGER NOT NULL,
    replaced_by        INTEGER NOT NULL
);

-- Earlier versions of changed roster rows.
CREATE TABLE student_history (
    district_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    school_id   TEXT NOT NULL,
    grade       TEXT,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    flags       TEXT NOT NULL,
    written_by  INTEGER NOT NULL,
    replaced_by INTEGER NOT NULL
);

-- Earlier versions of changed enrollments.
CREATE TABLE enrollment_history (
    contract_id TEXT NOT NULL,
    student_id  TEXT NOT NULL,
    start_date  TEXT NOT NULL,
    end_date    TEXT,
    written_by  INTEGER NOT NULL,
    replaced_by INTEGER NOT NULL
);

-- What a finalization used: the inputs as they were after audit record `inputs_as_of`, whose
-- canonical form hashes to `inputs_sha256` (the engine's inputs hash). Statements finalized
-- before this migration keep their JSON copy in statement_inputs instead.
CREATE TABLE statement_inputs_as_of (
    statement_id  INTEGER PRIMARY KEY REFERENCES statements (id),
    inputs_as_of  INTEGER NOT NULL,
    inputs_sha256 TEXT NOT NULL
);

CREATE TRIGGER assessment_history_is_append_only BEFORE UPDATE ON assessment_history
BEGIN SELECT RAISE(ABORT, 'assessment history is append-only'); END;
CREATE TRIGGER assessment_history_is_kept BEFORE DELETE ON assessment_history
BEGIN SELECT RAISE(ABORT, 'assessment history is append-only'); END;
CREATE TRIGGER student_history_is_append_only BEFORE UPDATE ON student_history
BEGIN SELECT RAISE(ABORT, 'student history is append-only'); END;
CREATE TRIGGER student_history_is_kept BEFORE DELETE ON student_history
BEGIN SELECT RAISE(ABORT, 'student history is append-only'); END;
CREATE TRIGGER enrollment_history_is_append_only BEFORE UPDATE ON enrollment_history
BEGIN SELECT RAISE(ABORT, 'enrollment history is append-only'); END;
CREATE TRIGGER enrollment_history_is_kept BEFORE DELETE ON enrollment_history
BEGIN SELECT RAISE(ABORT, 'enrollment history is append-only'); END;
CREATE TRIGGER statement_inputs_as_of_are_immutable BEFORE UPDATE ON statement_inputs_as_of
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;
CREATE TRIGGER statement_inputs_as_of_are_kept BEFORE DELETE ON statement_inputs_as_of
BEGIN SELECT RAISE(ABORT, 'finalized statements are never deleted'); END;
CREATE TRIGGER statement_inputs_as_of_are_complete BEFORE INSERT ON statement_inputs_as_of
WHEN EXISTS (SELECT 1 FROM ledger_chain WHERE kind = 'statement' AND record_id = NEW.statement_id)
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;
