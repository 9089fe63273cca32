-- Users, login sessions and API tokens of the web app. Secrets are stored only as hashes.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'district', 'provider', 'auditor')),
    org_id        TEXT REFERENCES organisations (id),
    created_at    TEXT NOT NULL,
    CHECK ((role IN ('district', 'provider')) = (org_id IS NOT NULL))
);

CREATE TABLE login_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    label        TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- Retries of the session-upload API: the same key returns the first answer, never imports twice.
CREATE TABLE idempotency_keys (
    user_id    INTEGER NOT NULL,
    key        TEXT NOT NULL,
    -- SHA-256 of the request: a key sent again with another body is refused, not replayed.
    request_sha256 TEXT NOT NULL,
    status     INTEGER NOT NULL,
    response   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
