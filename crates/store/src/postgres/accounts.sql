-- Account security (migration 9): users can be disabled, API tokens expire and can be revoked,
-- and browsers that signed in successfully are remembered so that someone else's failed
-- sign-ins do not lock their owner out.

-- When the user was disabled; NULL while they may sign in and use their tokens.
ALTER TABLE users ADD COLUMN disabled_at TEXT COLLATE "C";

-- Tokens made before this migration expire 90 days after it ran.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE api_tokens SET expires_at = to_char((now() AT TIME ZONE 'UTC') + interval '90 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT COLLATE "C";

-- A browser that signed in as a user: its cookie's secret, stored hashed.
CREATE TABLE known_devices (
    token_sha256 TEXT COLLATE "C" PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    expires_at   TEXT COLLATE "C" NOT NULL
);

CREATE INDEX login_sessions_by_user ON login_sessions (user_id);
CREATE INDEX login_sessions_by_expiry ON login_sessions (expires_at);
