-- Migration 26: MAP results stored compactly. Each test repeated its district, assessment,
-- subject and term as text in its row and in its key's index, and its date as text.
-- `assessment_rows` has the same columns holding keys of `text_keys` (district_id,
-- assessment, subject, term_name) and days since 1970-01-01 (test_date), so an import's
-- compare-and-merge SQL is the same on its staged rows, encoded alike. `assessment_results`
-- is a view with the text the table had; `row_key` (the row's rowid) lets an import name the
-- rows whose earlier versions it keeps.

INSERT OR IGNORE INTO text_keys (text)
    SELECT district_id FROM assessment_results UNION SELECT assessment FROM assessment_results
    UNION SELECT subject FROM assessment_results UNION SELECT term_name FROM assessment_results;

CREATE TABLE assessment_rows (
    district_id        INTEGER NOT NULL REFERENCES text_keys (key),
    student_id         TEXT NOT NULL,
    assessment         INTEGER NOT NULL REFERENCES text_keys (key),
    subject            INTEGER NOT NULL REFERENCES text_keys (key),
    term_name          INTEGER NOT NULL REFERENCES text_keys (key),
    test_date          INTEGER NOT NULL,
    start_seconds      INTEGER NOT NULL,
    score              TEXT,
    percentile         TEXT,
    rapid_guessing_pct TEXT,
    growth_measure     INTEGER NOT NULL,
    growth             TEXT NOT NULL,
    test_id            TEXT NOT NULL DEFAULT '',
    norms              TEXT,
    written_by         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (district_id, student_id, assessment, subject, term_name, test_date, start_seconds, test_id)
);

INSERT INTO assessment_rows
    SELECT d.key, r.student_id, a.key, s.key, t.key, unixepoch(r.test_date) / 86400,
           r.start_seconds, r.score, r.percentile, r.rapid_guessing_pct, r.growth_measure,
           r.growth, r.test_id, r.norms, r.written_by
    FROM assessment_results r
    JOIN text_keys d ON d.text = r.district_id
    JOIN text_keys a ON a.text = r.assessment
    JOIN text_keys s ON s.text = r.subject
    JOIN text_keys t ON t.text = r.term_name;

DROP TABLE assessment_results;

CREATE UNIQUE INDEX assessment_results_test_id ON assessment_rows (district_id, test_id)
    WHERE test_id <> '';

-- The district and subject by join (readers filter on them); the assessment and term by
-- scalar subqueries, looked up only by a reader that selects them.
CREATE VIEW assessment_results AS
    SELECT d.text AS district_id, r.student_id,
           (SELECT k.text FROM text_keys k WHERE k.key = r.assessment) AS assessment,
           s.text AS subject,
           (SELECT k.text FROM text_keys k WHERE k.key = r.term_name) AS term_name,
           date(r.test_date * 86400, 'unixepoch') AS test_date, r.start_seconds, r.score,
           r.percentile, r.rapid_guessing_pct, r.growth_measure, r.growth, r.test_id, r.norms,
           r.written_by, r.rowid AS row_key
    FROM assessment_rows r
    JOIN text_keys d ON d.key = r.district_id
    JOIN text_keys s ON s.key = r.subject;

-- Writes through the view, for tools and tests that treat it as the table it was.
CREATE TRIGGER assessment_results_insert INSTEAD OF INSERT ON assessment_results
BEGIN
    INSERT OR IGNORE INTO text_keys (text)
        VALUES (NEW.district_id), (NEW.assessment), (NEW.subject), (NEW.term_name);
    INSERT INTO assessment_rows (district_id, student_id, assessment, subject, term_name,
            test_date, start_seconds, score, percentile, rapid_guessing_pct, growth_measure,
            growth, test_id, norms, written_by)
    VALUES ((SELECT key FROM text_keys WHERE text = NEW.district_id), NEW.student_id,
            (SELECT key FROM text_keys WHERE text = NEW.assessment),
            (SELECT key FROM text_keys WHERE text = NEW.subject),
            (SELECT key FROM text_keys WHERE text = NEW.term_name),
            unixepoch(NEW.test_date) / 86400, NEW.start_seconds, NEW.score, NEW.percentile,
            NEW.rapid_guessing_pct, NEW.growth_measure, NEW.growth, coalesce(NEW.test_id, ''),
            NEW.norms, coalesce(NEW.written_by, 0));
END;

CREATE TRIGGER assessment_results_update INSTEAD OF UPDATE ON assessment_results
BEGIN
    INSERT OR IGNORE INTO text_keys (text)
        VALUES (NEW.district_id), (NEW.assessment), (NEW.subject), (NEW.term_name);
    UPDATE assessment_rows SET
        district_id = (SELECT key FROM text_keys WHERE text = NEW.district_id),
        student_id = NEW.student_id,
        assessment = (SELECT key FROM text_keys WHERE text = NEW.assessment),
        subject = (SELECT key FROM text_keys WHERE text = NEW.subject),
        term_name = (SELECT key FROM text_keys WHERE text = NEW.term_name),
        test_date = unixepoch(NEW.test_date) / 86400, start_seconds = NEW.start_seconds,
        score = NEW.score, percentile = NEW.percentile,
        rapid_guessing_pct = NEW.rapid_guessing_pct, growth_measure = NEW.growth_measure,
        growth = NEW.growth, test_id = NEW.test_id, norms = NEW.norms,
        written_by = NEW.written_by
    WHERE rowid = OLD.row_key;
END;

CREATE TRIGGER assessment_results_delete INSTEAD OF DELETE ON assessment_results
BEGIN
    DELETE FROM assessment_rows WHERE rowid = OLD.row_key;
END;
