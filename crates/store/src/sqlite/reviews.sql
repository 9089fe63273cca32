-- Migration 11: review and disputes before finalization (SPEC 5.12). A draft issued for review
-- is a `reviews` row (one per contract milestone); every approval, dispute and resolution is a
-- `review_events` row. Both are append-only: the review's history is what the parties said.

CREATE TABLE reviews (
    id               INTEGER PRIMARY KEY,
    contract_id      TEXT NOT NULL,
    milestone        TEXT NOT NULL,
    district_id      TEXT NOT NULL,
    provider_id      TEXT NOT NULL,
    issued_on        TEXT NOT NULL,
    issued_at        TEXT NOT NULL,
    issued_by        TEXT NOT NULL,
    deadline         TEXT NOT NULL,
    statement_sha256 TEXT NOT NULL,
    total_cents      INTEGER NOT NULL,
    UNIQUE (contract_id, milestone)
);

CREATE TABLE review_events (
    id             INTEGER PRIMARY KEY,
    review_id      INTEGER NOT NULL REFERENCES reviews (id),
    kind           TEXT NOT NULL CHECK (kind IN ('approve', 'dispute', 'resolve')),
    on_day         TEXT NOT NULL,
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    party          TEXT CHECK (party IN ('district', 'provider')),
    student_id     TEXT,
    dispute_number INTEGER,
    ruling         TEXT CHECK (ruling IN ('upheld', 'rejected')),
    reason         TEXT
);
CREATE INDEX review_events_by_review ON review_events (review_id, id);

CREATE TRIGGER reviews_are_immutable BEFORE UPDATE ON reviews
BEGIN SELECT RAISE(ABORT, 'issued reviews are never edited'); END;
CREATE TRIGGER reviews_are_kept BEFORE DELETE ON reviews
BEGIN SELECT RAISE(ABORT, 'issued reviews are never deleted'); END;
CREATE TRIGGER review_events_are_append_only BEFORE UPDATE ON review_events
BEGIN SELECT RAISE(ABORT, 'review events are append-only'); END;
CREATE TRIGGER review_events_are_kept BEFORE DELETE ON review_events
BEGIN SELECT RAISE(ABORT, 'review events are append-only'); END;
