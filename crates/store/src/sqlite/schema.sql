-- obc schema, version 1. Money is integer cents; dates are ISO text; decimals are text.

CREATE TABLE organisations (
    id   TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('district', 'provider', 'intermediary')),
    name TEXT NOT NULL
);

CREATE TABLE schools (
    district_id TEXT NOT NULL REFERENCES organisations (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (district_id, id)
);

CREATE TABLE students (
    district_id TEXT NOT NULL REFERENCES organisations (id),
    id          TEXT NOT NULL,
    school_id   TEXT NOT NULL,
    grade       TEXT,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    flags       TEXT NOT NULL,
    PRIMARY KEY (district_id, id)
);
CREATE INDEX students_by_id ON students (id);

-- One row per counted test event; a re-sent row with the same key replaces the earlier one.
CREATE TABLE assessment_results (
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
    PRIMARY KEY (district_id, student_id, assessment, subject, term_name, test_date, start_seconds)
);

CREATE TABLE sessions (
    provider_id  TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    district_id  TEXT NOT NULL,
    student_id   TEXT NOT NULL,
    tutor_id     TEXT NOT NULL,
    session_date TEXT NOT NULL,
    minutes      INTEGER NOT NULL CHECK (minutes >= 0),
    status       TEXT NOT NULL CHECK (status IN ('attended', 'student_absent', 'district_cancelled', 'provider_cancelled')),
    group_size   INTEGER,
    PRIMARY KEY (provider_id, session_id)
);
CREATE INDEX sessions_by_student ON sessions (provider_id, district_id, student_id);

-- Earlier versions of re-sent sessions: nothing a provider sent is ever lost.
CREATE TABLE session_history (
    provider_id  TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    district_id  TEXT NOT NULL,
    student_id   TEXT NOT NULL,
    tutor_id     TEXT NOT NULL,
    session_date TEXT NOT NULL,
    minutes      INTEGER NOT NULL,
    status       TEXT NOT NULL,
    group_size   INTEGER,
    replaced_at  TEXT NOT NULL,
    replaced_by  INTEGER NOT NULL
);

CREATE TABLE contract_versions (
    contract_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    district_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    -- Statements dated on or after this date use this version (an amendment's effective date).
    effective_from TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (contract_id, version)
);

CREATE TABLE enrollments (
    contract_id TEXT NOT NULL,
    student_id  TEXT NOT NULL,
    start_date  TEXT NOT NULL,
    end_date    TEXT,
    PRIMARY KEY (contract_id, student_id)
);

-- Finalized statements: written once, never updated or deleted.
CREATE TABLE statements (
    id               INTEGER PRIMARY KEY,
    contract_id      TEXT NOT NULL,
    contract_version INTEGER NOT NULL,
    milestone        TEXT NOT NULL,
    milestone_date   TEXT NOT NULL,
    statement_date   TEXT NOT NULL,
    inputs_hash      TEXT NOT NULL,
    content_sha256   TEXT NOT NULL,
    engine_version   TEXT NOT NULL,
    total_cents      INTEGER NOT NULL,
    content_json     TEXT NOT NULL,
    finalized_at     TEXT NOT NULL,
    finalized_by     TEXT NOT NULL,
    UNIQUE (contract_id, milestone)
);

CREATE TABLE statement_lines (
    statement_id     INTEGER NOT NULL REFERENCES statements (id),
    student_id       TEXT NOT NULL,
    rule             TEXT NOT NULL,
    base_cents       INTEGER NOT NULL,
    contingent_cents INTEGER NOT NULL,
    PRIMARY KEY (statement_id, student_id)
);

CREATE TRIGGER statements_are_immutable BEFORE UPDATE ON statements
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;
CREATE TRIGGER statements_are_kept BEFORE DELETE ON statements
BEGIN SELECT RAISE(ABORT, 'finalized statements are never deleted'); END;
CREATE TRIGGER statement_lines_are_immutable BEFORE UPDATE ON statement_lines
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;
CREATE TRIGGER statement_lines_are_kept BEFORE DELETE ON statement_lines
BEGIN SELECT RAISE(ABORT, 'finalized statements are never deleted'); END;

-- Who did what, when, to which record.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    record TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER audit_log_is_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_is_kept BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
