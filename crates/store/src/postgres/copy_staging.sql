-- Migration 22: where a sessions import's rows land through COPY (crates/store/src/session_copy.rs).
-- The import's transaction runs on sqlx's Any driver, which cannot COPY; the rows are copied on
-- a connection of their own into this table, keyed by the import's transaction id, and moved
-- into the import's temporary staging table by that transaction before its merge. Unlogged: its
-- rows are a staging area, never data (a crash empties it, which loses nothing).
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
