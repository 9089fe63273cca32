-- Migration 17: the finalized statements' records without their JSON (see the SQLite file).
-- PostgreSQL keeps large values out of line, so the index only spares reading the rows.
CREATE INDEX statements_records ON statements (
    contract_id, milestone, milestone_date, id, contract_version, statement_date,
    content_sha256, total_cents, finalized_at, finalized_by
);
