-- Account security (migration 9): users can be disabled, API tokens expire and can be revoked,
-- and browsers that signed in successfully are remembered so that someone else's failed
-- sign-ins do not lock their owner out.

-- When the user was disabled; NULL while they may sign in and use their tokens.
ALTER TABLE users ADD COLUMN disabled_at TEXT;

-- Tokens made before this migration expire 90 days after it ran.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+90 days');
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;

-- A browser that signed in as a user: its cookie's secret, stored hashed.
CREATE TABLE known_devices (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    expires_at   TEXT NOT NULL
);

CREATE INDEX login_sessions_by_user ON login_sessions (user_id);
CREATE INDEX login_sessions_by_expiry ON login_sessions (expires_at);
