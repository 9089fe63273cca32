-- Session verification (SPEC 6, docs/PROGRESS.md): the district's daily school attendance, one
-- row per student and school day. A session marked attended on a day the student was absent
-- from school is flagged for review. Re-sending a file changes nothing; a changed row replaces
-- the stored one (the import is audited).

CREATE TABLE school_attendance (
    district_id TEXT COLLATE "C" NOT NULL,
    student_id  TEXT COLLATE "C" NOT NULL,
    date        TEXT COLLATE "C" NOT NULL,
    -- 1 when the student was in school that day, 0 when absent.
    present     BIGINT NOT NULL CHECK (present IN (0, 1)),
    PRIMARY KEY (district_id, student_id, date)
);
