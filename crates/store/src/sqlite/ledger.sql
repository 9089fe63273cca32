-- The ledger: what each finalized statement posted, and the inputs it was computed from, so
-- `obc ledger verify` can recompute it. Append-only, like the statements.

CREATE TABLE statement_inputs (
    statement_id INTEGER PRIMARY KEY REFERENCES statements (id),
    inputs_json  TEXT NOT NULL
);

-- Double entry: every posting moves an amount from the district's payable account to the
-- provider's receivable account, so the entries of a posting sum to zero.
CREATE TABLE ledger_entries (
    id           INTEGER PRIMARY KEY,
    statement_id INTEGER NOT NULL REFERENCES statements (id),
    posting      TEXT NOT NULL,
    account      TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    student_id   TEXT,
    memo         TEXT NOT NULL
);
CREATE INDEX ledger_by_statement ON ledger_entries (statement_id);

CREATE TRIGGER statement_inputs_are_immutable BEFORE UPDATE ON statement_inputs
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;
CREATE TRIGGER statement_inputs_are_kept BEFORE DELETE ON statement_inputs
BEGIN SELECT RAISE(ABORT, 'finalized statements are never deleted'); END;
CREATE TRIGGER ledger_is_append_only BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_is_kept BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
