-- Migration 25: what a finalization adds, stored compactly.
-- Ledger entries: a finalization posts two per paid student, and each repeated its account
-- and memo (a handful of distinct texts per statement) and its posting's name, which is
-- almost always `contract/milestone/student` of its own statement. `ledger_rows` keeps the
-- account and memo as keys of `text_keys` and the posting's name only when it is not that
-- default (NULL otherwise); `ledger_entries` is a view with the columns and values the table
-- had, so readers, the chain's digest and ad-hoc queries are unchanged, and writes go through
-- it.
-- Statement lines: kept in their key's B-tree alone (WITHOUT ROWID), not in a table and an
-- index of the same key.
-- A finalization adds about 40% fewer bytes.

CREATE TABLE statement_line_rows (
    statement_id     INTEGER NOT NULL REFERENCES statements (id),
    student_id       TEXT NOT NULL,
    rule             TEXT NOT NULL,
    base_cents       INTEGER NOT NULL,
    contingent_cents INTEGER NOT NULL,
    PRIMARY KEY (statement_id, student_id)
) WITHOUT ROWID;
INSERT INTO statement_line_rows SELECT statement_id, student_id, rule, base_cents, contingent_cents
    FROM statement_lines;
DROP TABLE statement_lines;
ALTER TABLE statement_line_rows RENAME TO statement_lines;
CREATE TRIGGER statement_lines_are_immutable BEFORE UPDATE ON statement_lines
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;
CREATE TRIGGER statement_lines_are_kept BEFORE DELETE ON statement_lines
BEGIN SELECT RAISE(ABORT, 'finalized statements are never deleted'); END;
CREATE TRIGGER statement_lines_are_complete BEFORE INSERT ON statement_lines
WHEN EXISTS (SELECT 1 FROM ledger_chain WHERE kind = 'statement' AND record_id = NEW.statement_id)
BEGIN SELECT RAISE(ABORT, 'finalized statements are never edited'); END;

CREATE TABLE ledger_rows (
    id           INTEGER PRIMARY KEY,
    statement_id INTEGER NOT NULL REFERENCES statements (id),
    posting      TEXT,
    account      INTEGER NOT NULL REFERENCES text_keys (key),
    amount_cents INTEGER NOT NULL,
    student_id   TEXT,
    memo         INTEGER NOT NULL REFERENCES text_keys (key)
);

INSERT OR IGNORE INTO text_keys (text)
    SELECT account FROM ledger_entries UNION SELECT memo FROM ledger_entries;

INSERT INTO ledger_rows (id, statement_id, posting, account, amount_cents, student_id, memo)
    SELECT l.id, l.statement_id,
           CASE WHEN l.posting = s.contract_id || '/' || s.milestone || '/' || l.student_id
                THEN NULL ELSE l.posting END,
           a.key, l.amount_cents, l.student_id, m.key
    FROM ledger_entries l
    JOIN statements s ON s.id = l.statement_id
    JOIN text_keys a ON a.text = l.account
    JOIN text_keys m ON m.text = l.memo;

DROP TABLE ledger_entries;

CREATE INDEX ledger_by_statement ON ledger_rows (statement_id);

CREATE VIEW ledger_entries AS
    SELECT r.id, r.statement_id,
           coalesce(r.posting, (SELECT s.contract_id || '/' || s.milestone FROM statements s
                                WHERE s.id = r.statement_id) || '/' || r.student_id) AS posting,
           (SELECT t.text FROM text_keys t WHERE t.key = r.account) AS account,
           r.amount_cents, r.student_id,
           (SELECT t.text FROM text_keys t WHERE t.key = r.memo) AS memo
    FROM ledger_rows r;

-- The ledger's rules, on the rows (the same names as on the table they replace).
CREATE TRIGGER ledger_is_append_only BEFORE UPDATE ON ledger_rows
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_is_kept BEFORE DELETE ON ledger_rows
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_are_complete BEFORE INSERT ON ledger_rows
WHEN EXISTS (SELECT 1 FROM ledger_chain WHERE kind = 'statement' AND record_id = NEW.statement_id)
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: a finalized statement''s postings are complete'); END;

-- Writes through the view: obc posts through it, and the rules above still apply.
CREATE TRIGGER ledger_entries_insert INSTEAD OF INSERT ON ledger_entries
BEGIN
    INSERT OR IGNORE INTO text_keys (text) VALUES (NEW.account), (NEW.memo);
    INSERT INTO ledger_rows (id, statement_id, posting, account, amount_cents, student_id, memo)
    VALUES (NEW.id, NEW.statement_id,
            CASE WHEN NEW.posting = (SELECT s.contract_id || '/' || s.milestone FROM statements s
                                     WHERE s.id = NEW.statement_id) || '/' || NEW.student_id
                 THEN NULL ELSE NEW.posting END,
            (SELECT key FROM text_keys WHERE text = NEW.account), NEW.amount_cents,
            NEW.student_id, (SELECT key FROM text_keys WHERE text = NEW.memo));
END;

CREATE TRIGGER ledger_entries_update INSTEAD OF UPDATE ON ledger_entries
BEGIN
    INSERT OR IGNORE INTO text_keys (text) VALUES (NEW.account), (NEW.memo);
    UPDATE ledger_rows SET
        statement_id = NEW.statement_id,
        posting = CASE WHEN NEW.posting = (SELECT s.contract_id || '/' || s.milestone
                                           FROM statements s WHERE s.id = NEW.statement_id)
                                          || '/' || NEW.student_id
                       THEN NULL ELSE NEW.posting END,
        account = (SELECT key FROM text_keys WHERE text = NEW.account),
        amount_cents = NEW.amount_cents, student_id = NEW.student_id,
        memo = (SELECT key FROM text_keys WHERE text = NEW.memo)
    WHERE id = OLD.id;
END;

CREATE TRIGGER ledger_entries_delete INSTEAD OF DELETE ON ledger_entries
BEGIN
    DELETE FROM ledger_rows WHERE id = OLD.id;
END;
