-- Migration 10: input rows versioned by the import that wrote them (see
-- ../sqlite/input_versions.sql).

ALTER TABLE sessions ADD COLUMN written_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE session_history ADD COLUMN written_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assessment_results ADD COLUMN written_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE students ADD COLUMN written_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE enrollments ADD COLUMN written_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contract_versions ADD COLUMN written_by BIGINT NOT NULL DEFAULT 0;

CREATE TABLE assessment_history (
    district_id        TEXT COLLATE "C" NOT NULL,
    student_id         TEXT COLLATE "C" NOT NULL,
    assessment         TEXT COLLATE "C" NOT NULL,
    subject            TEXT COLLATE "C" NOT NULL,
    term_name          TEXT COLLATE "C" NOT NULL,
    test_date          TEXT COLLATE "C" NOT NULL,
    start_seconds      BIGINT NOT NULL,
    score              TEXT COLLATE "C",
    percentile         TEXT COLLATE "C",
    rapid_guessing_pct TEXT COLLATE "C",
    growth_measure     BIGINT NOT NULL,
    growth             TEXT COLLATE "C" NOT NULL,
    test_id            TEXT COLLATE "C" NOT NULL,
    norms              TEXT COLLATE "C",
    written_by         BIGINT NOT NULL,
    replaced_by        BIGINT NOT NULL
);

CREATE TABLE student_history (
    district_id TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    school_id   TEXT COLLATE "C" NOT NULL,
    grade       TEXT COLLATE "C",
    first_name  TEXT COLLATE "C" NOT NULL,
    last_name   TEXT COLLATE "C" NOT NULL,
    flags       TEXT COLLATE "C" NOT NULL,
    written_by  BIGINT NOT NULL,
    replaced_by BIGINT NOT NULL
);

CREATE TABLE enrollment_history (
    contract_id TEXT COLLATE "C" NOT NULL,
    student_id  TEXT COLLATE "C" NOT NULL,
    start_date  TEXT COLLATE "C" NOT NULL,
    end_date    TEXT COLLATE "C",
    written_by  BIGINT NOT NULL,
    replaced_by BIGINT NOT NULL
);

CREATE TABLE statement_inputs_as_of (
    statement_id  BIGINT PRIMARY KEY REFERENCES statements (id),
    inputs_as_of  BIGINT NOT NULL,
    inputs_sha256 TEXT COLLATE "C" NOT NULL
);

CREATE TRIGGER assessment_history_is_append_only BEFORE UPDATE ON assessment_history
    FOR EACH ROW EXECUTE FUNCTION obc_refuse('assessment history is append-only');
CREATE TRIGGER assessment_history_is_kept BEFORE DELETE ON assessment_history
    FOR EACH ROW EXECUTE FUNCTION obc_refuse('assessment history is append-only');
CREATE TRIGGER assessment_history_is_kept_truncate BEFORE TRUNCATE ON assessment_history
    FOR EACH STATEMENT EXECUTE FUNCTION obc_refuse('assessment history is append-only');
CREATE TRIGGER student_history_is_append_only BEFORE UPDATE ON student_history
    FOR EACH ROW EXECUTE FUNCTION obc_refuse('student history is append-only');
CREATE TRIGGER student_history_is_kept BEFORE DELETE ON student_history
    FOR EACH ROW EXECUTE FUNCTION obc_refuse('student history is append-only');
CREATE TRIGGER student_history_is_kept_truncate BEFORE TRUNCATE ON student_history
    FOR EACH STATEMENT EXECUTE FUNCTION obc_refuse('student history is append-only');
CREATE TRIGGER enrollment_history_is_append_only BEFORE UPDATE ON enrollment_history
    FOR EACH ROW EXECUTE FUNCTION obc_refuse('enrollment history is append-only');
CREATE TRIGGER enrollment_history_is_kept BEFORE DELETE ON enrollment_history
    FOR EACH ROW EXECUTE FUNCTION obc_refuse('enrollment history is append-only');
CREATE TRIGGER enrollment_history_is_kept_truncate BEFORE TRUNCATE ON enrollment_history
    FOR EACH STATEMENT EXECUTE FUNCTION obc_refuse('enrollment history is append-only');
CREATE TRIGGER statement_inputs_as_of_are_immutable BEFORE UPDATE ON statement_inputs_as_of
    FOR EACH ROW EXECUTE FUNCTION obc_refuse('finalized statements are never edited');
CREATE TRIGGER statement_inputs_as_of_are_kept BEFORE DELETE ON statement_inputs_as_of
    FOR EACH ROW EXECUTE FUNCTION obc_refuse('finalized statements are never deleted');
CREATE TRIGGER statement_inputs_as_of_are_kept_truncate BEFORE TRUNCATE ON statement_inputs_as_of
    FOR EACH STATEMENT EXECUTE FUNCTION obc_refuse('finalized statements are never deleted');
CREATE TRIGGER statement_inputs_as_of_are_complete BEFORE INSERT ON statement_inputs_as_of
    FOR EACH ROW EXECUTE FUNCTION obc_refuse_after_finalization('finalized statements are never edited');
