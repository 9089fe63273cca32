-- Migration 23: sessions stored compactly. A state's year is tens of millions of sessions, and
-- their text columns were most of the database: the provider's and district's ids repeated in
-- every row and in both indexes, the tutor's id, the status and the date as text.
-- `session_rows` keeps the provider, district and tutor ids as integer keys of `text_keys`,
-- the date as days since 1970-01-01 and the status as a code, clustered by student (the order
-- statements read them in); `sessions` is a view with the columns and values the table had,
-- so every reader and ad-hoc query is unchanged (writes through it work too). Imports write
-- `session_rows` directly. A session takes less than half the bytes it did.

CREATE TABLE text_keys (
    key  INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);

CREATE TABLE session_rows (
    provider     INTEGER NOT NULL REFERENCES text_keys (key),
    session_id   TEXT NOT NULL,
    district     INTEGER NOT NULL REFERENCES text_keys (key),
    student_id   TEXT NOT NULL,
    tutor        INTEGER NOT NULL REFERENCES text_keys (key),
    day          INTEGER NOT NULL,
    minutes      INTEGER NOT NULL CHECK (minutes >= 0),
    -- 0 attended, 1 student_absent, 2 district_cancelled, 3 provider_cancelled
    status       INTEGER NOT NULL CHECK (status BETWEEN 0 AND 3),
    group_size   INTEGER,
    subject      TEXT NOT NULL DEFAULT '',
    written_by   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (district, student_id, provider, session_id)
) WITHOUT ROWID;

INSERT INTO text_keys (text)
    SELECT provider_id FROM sessions UNION SELECT district_id FROM sessions
    UNION SELECT tutor_id FROM sessions;

INSERT INTO session_rows (provider, session_id, district, student_id, tutor, day, minutes,
        status, group_size, subject, written_by)
    SELECT p.key, s.session_id, d.key, s.student_id, t.key,
           unixepoch(s.session_date) / 86400, s.minutes,
           CASE s.status WHEN 'attended' THEN 0 WHEN 'student_absent' THEN 1
                WHEN 'district_cancelled' THEN 2 ELSE 3 END,
           s.group_size, s.subject, s.written_by
    FROM sessions s
    JOIN text_keys p ON p.text = s.provider_id
    JOIN text_keys d ON d.text = s.district_id
    JOIN text_keys t ON t.text = s.tutor_id;

DROP TABLE sessions;

CREATE UNIQUE INDEX session_rows_by_id ON session_rows (provider, session_id);

-- The provider and district by join (readers filter on them); the tutor by a scalar
-- subquery, looked up only by a reader that selects it.
CREATE VIEW sessions AS
    SELECT p.text AS provider_id, r.session_id, d.text AS district_id, r.student_id,
           (SELECT t.text FROM text_keys t WHERE t.key = r.tutor) AS tutor_id,
           date(r.day * 86400, 'unixepoch') AS session_date, r.minutes,
           CASE r.status WHEN 0 THEN 'attended' WHEN 1 THEN 'student_absent'
                WHEN 2 THEN 'district_cancelled' ELSE 'provider_cancelled' END AS status,
           r.group_size, r.subject, r.written_by
    FROM session_rows r
    JOIN text_keys p ON p.key = r.provider
    JOIN text_keys d ON d.key = r.district;

-- Writes through the view, for tools and tests that treat `sessions` as the table it was.
CREATE TRIGGER sessions_insert INSTEAD OF INSERT ON sessions
BEGIN
    INSERT OR IGNORE INTO text_keys (text)
        VALUES (NEW.provider_id), (NEW.district_id), (NEW.tutor_id);
    INSERT INTO session_rows (provider, session_id, district, student_id, tutor, day, minutes,
            status, group_size, subject, written_by)
    VALUES ((SELECT key FROM text_keys WHERE text = NEW.provider_id), NEW.session_id,
            (SELECT key FROM text_keys WHERE text = NEW.district_id), NEW.student_id,
            (SELECT key FROM text_keys WHERE text = NEW.tutor_id),
            unixepoch(NEW.session_date) / 86400, NEW.minutes,
            CASE NEW.status WHEN 'attended' THEN 0 WHEN 'student_absent' THEN 1
                 WHEN 'district_cancelled' THEN 2 WHEN 'provider_cancelled' THEN 3 END,
            NEW.group_size, coalesce(NEW.subject, ''), coalesce(NEW.written_by, 0));
END;

CREATE TRIGGER sessions_update INSTEAD OF UPDATE ON sessions
BEGIN
    INSERT OR IGNORE INTO text_keys (text)
        VALUES (NEW.provider_id), (NEW.district_id), (NEW.tutor_id);
    UPDATE session_rows SET
        provider = (SELECT key FROM text_keys WHERE text = NEW.provider_id),
        session_id = NEW.session_id,
        district = (SELECT key FROM text_keys WHERE text = NEW.district_id),
        student_id = NEW.student_id,
        tutor = (SELECT key FROM text_keys WHERE text = NEW.tutor_id),
        day = unixepoch(NEW.session_date) / 86400, minutes = NEW.minutes,
        status = CASE NEW.status WHEN 'attended' THEN 0 WHEN 'student_absent' THEN 1
                     WHEN 'district_cancelled' THEN 2 WHEN 'provider_cancelled' THEN 3 END,
        group_size = NEW.group_size, subject = NEW.subject, written_by = NEW.written_by
    WHERE provider = (SELECT key FROM text_keys WHERE text = OLD.provider_id)
      AND session_id = OLD.session_id;
END;

CREATE TRIGGER sessions_delete INSTEAD OF DELETE ON sessions
BEGIN
    DELETE FROM session_rows
    WHERE provider = (SELECT key FROM text_keys WHERE text = OLD.provider_id)
      AND session_id = OLD.session_id;
END;
