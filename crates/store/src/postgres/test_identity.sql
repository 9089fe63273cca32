-- Migration 6 (SPEC 3.2, v2): a test is its MAP `TestID` when the file has one, so two tests of
-- one sitting (a growth test and an end-of-course test) stay two rows; `NormsReferenceData` is
-- kept. `test_id` is '' for tests without one (older rows, the generic CSV), which keep the
-- natural key.
ALTER TABLE assessment_results ADD COLUMN test_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE assessment_results ADD COLUMN norms TEXT COLLATE "C";
ALTER TABLE assessment_results DROP CONSTRAINT assessment_results_pkey;
ALTER TABLE assessment_results ADD PRIMARY KEY
    (district_id, student_id, assessment, subject, term_name, test_date, start_seconds, test_id);
CREATE UNIQUE INDEX assessment_results_test_id ON assessment_results (district_id, test_id)
    WHERE test_id <> '';
