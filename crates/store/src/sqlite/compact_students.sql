-- Migration 24: students' demographic flags stored once per distinct set. Every student
-- carried its flags as a JSON object of a dozen keys (about 360 bytes), and a district's
-- students share a few hundred sets. `student_rows` refers to `flag_sets` by key; `students`
-- is a view with the columns the table had, so readers are unchanged (writes through it work
-- too). Roster imports write `student_rows` directly.

CREATE TABLE flag_sets (
    key   INTEGER PRIMARY KEY,
    flags TEXT NOT NULL UNIQUE
);

CREATE TABLE student_rows (
    district_id TEXT NOT NULL REFERENCES organisations (id),
    id          TEXT NOT NULL,
    school_id   TEXT NOT NULL,
    grade       TEXT,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    flags       INTEGER NOT NULL REFERENCES flag_sets (key),
    written_by  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (district_id, id)
);

INSERT INTO flag_sets (flags) SELECT DISTINCT flags FROM students;

INSERT INTO student_rows (district_id, id, school_id, grade, first_name, last_name, flags,
        written_by)
    SELECT s.district_id, s.id, s.school_id, s.grade, s.first_name, s.last_name, f.key,
           s.written_by
    FROM students s JOIN flag_sets f ON f.flags = s.flags;

DROP TABLE students;

CREATE INDEX students_by_id ON student_rows (id);

-- The flags as a scalar subquery, not a join: a reader that does not select them does not
-- look them up, and the view stays one table (SQLite flattens it even on a LEFT JOIN's right).
CREATE VIEW students AS
    SELECT r.district_id, r.id, r.school_id, r.grade, r.first_name, r.last_name,
           (SELECT f.flags FROM flag_sets f WHERE f.key = r.flags) AS flags, r.written_by
    FROM student_rows r;

-- Writes through the view, for tools and tests that treat `students` as the table it was.
CREATE TRIGGER students_insert INSTEAD OF INSERT ON students
BEGIN
    INSERT OR IGNORE INTO flag_sets (flags) VALUES (NEW.flags);
    INSERT INTO student_rows (district_id, id, school_id, grade, first_name, last_name, flags,
            written_by)
    VALUES (NEW.district_id, NEW.id, NEW.school_id, NEW.grade, NEW.first_name, NEW.last_name,
            (SELECT key FROM flag_sets WHERE flags = NEW.flags), coalesce(NEW.written_by, 0));
END;

CREATE TRIGGER students_update INSTEAD OF UPDATE ON students
BEGIN
    INSERT OR IGNORE INTO flag_sets (flags) VALUES (NEW.flags);
    UPDATE student_rows SET
        district_id = NEW.district_id, id = NEW.id, school_id = NEW.school_id,
        grade = NEW.grade, first_name = NEW.first_name, last_name = NEW.last_name,
        flags = (SELECT key FROM flag_sets WHERE flags = NEW.flags), written_by = NEW.written_by
    WHERE district_id = OLD.district_id AND id = OLD.id;
END;

CREATE TRIGGER students_delete INSTEAD OF DELETE ON students
BEGIN
    DELETE FROM student_rows WHERE district_id = OLD.district_id AND id = OLD.id;
END;
