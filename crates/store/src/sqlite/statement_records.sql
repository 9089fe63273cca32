-- Migration 17: pages read a finalized statement's record (who finalized it, when, its total)
-- on almost every request. In SQLite those columns sit after the statement's JSON, tens of
-- megabytes at state scale, so reading them walks the JSON's overflow pages: an index holding
-- the record's columns answers those reads without touching the row.
CREATE INDEX statements_records ON statements (
    contract_id, milestone, milestone_date, id, contract_version, statement_date,
    content_sha256, total_cents, finalized_at, finalized_by
);
