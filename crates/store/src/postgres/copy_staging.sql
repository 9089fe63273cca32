-- Migration 22: where imports' rows land through COPY (crates/store/src/copy_stage.rs).
-- An import's transaction runs on sqlx's Any driver, which cannot COPY; the rows are copied on
-- connections of their own into these tables, keyed by the import's transaction id, and read
-- (sessions, through a temporary view) or staged (tests) and deleted by that transaction before
-- its merge. Unlogged: their rows are a staging area, never data (a crash empties them, which
-- loses nothing).
CREATE UNLOGGED TABLE copy_sessions (
    import_key   BIGINT NOT NULL,
    session_id   TEXT NOT NULL,
    line         BIGINT NOT NULL,
    district_id  TEXT NOT NULL,
    student_id   TEXT NOT NULL,
    tutor_id     TEXT NOT NULL,
    session_date TEXT NOT NULL,
    minutes      INTEGER NOT NULL,
    status       TEXT NOT NULL,
    group_size   INTEGER,
    subject      TEXT NOT NULL
);
-- An assessment import's rows, numbered in file order (a later row of a test replaces an
-- earlier one when they are staged).
CREATE UNLOGGED TABLE copy_tests (
    import_key         BIGINT NOT NULL,
    line               BIGINT NOT NULL,
    ident              TEXT NOT NULL,
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
    norms              TEXT,
    test_id            TEXT NOT NULL
);
-- A roster import's students, numbered in file order (a later row of a student replaces an
-- earlier one when they are staged).
CREATE UNLOGGED TABLE copy_students (
    import_key BIGINT NOT NULL,
    line       BIGINT NOT NULL,
    id         TEXT NOT NULL,
    school_id  TEXT NOT NULL,
    grade      TEXT,
    first_name TEXT NOT NULL,
    last_name  TEXT NOT NULL,
    flags      TEXT NOT NULL
);
