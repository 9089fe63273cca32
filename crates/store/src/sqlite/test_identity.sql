-- Migration 6 (SPEC 3.2, v2): a test is its MAP `TestID` when the file has one, so two tests of
-- one sitting (a growth test and an end-of-course test) stay two rows; `NormsReferenceData` is
-- kept. `test_id` is '' for tests without one (older rows, the generic CSV), which keep the
-- natural key. SQLite cannot change a primary key: the table is rebuilt.
CREATE TABLE assessment_results_v6 (
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
    test_id            TEXT NOT NULL DEFAULT '',
    norms              TEXT,
    PRIMARY KEY (district_id, student_id, assessment, subject, term_name, test_date, start_seconds, test_id)
);

INSERT INTO assessment_results_v6 (district_id, student_id, assessment, subject, term_name, test_date,
    start_seconds, score, percentile, rapid_guessing_pct, growth_measure, growth)
SELECT district_id, student_id, assessment, subject, term_name, test_date, start_seconds, score,
    percentile, rapid_guessing_pct, growth_measure, growth
FROM assessment_results;

DROP TABLE assessment_results;
ALTER TABLE assessment_results_v6 RENAME TO assessment_results;

CREATE UNIQUE INDEX assessment_results_test_id ON assessment_results (district_id, test_id)
    WHERE test_id <> '';
