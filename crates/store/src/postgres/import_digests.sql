-- What the latest import of each kind wrote, per organisation (issue 9: an identical re-send).
-- `file_sha256` is the file's bytes; `rows_sha256` what the import resolved from them that the
-- file alone does not say (each session's district); `rows` how many rows it merged. Every
-- import of the kind replaces its row, so the row always describes the latest import.
CREATE TABLE import_digests (
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    rows_sha256 TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    audit_id BIGINT NOT NULL,
    PRIMARY KEY (kind, scope)
);
