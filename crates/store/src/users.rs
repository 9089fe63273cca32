//! Web users, login sessions and API tokens. Passwords and tokens are never stored: only an
//! argon2 hash of each password and a SHA-256 of each token.

use crate::{audit, hex_sha256, Result, Store, StoreError};

/// The `status` of an idempotency key whose request is still running.
const IN_PROGRESS: i64 = 0;

/// After how long a claim still in progress is deemed abandoned (its server stopped).
pub const STALE_CLAIM_MINUTES: i64 = 10;

/// Where a request stands with its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is this request's: run it, then `remember_response` (or
    /// `release_idempotency_key` when it fails).
    Claimed,
    /// An earlier request with the key is still running.
    InProgress { request_sha256: String },
    /// An earlier request with the key was answered.
    Answered {
        status: u16,
        response: String,
        request_sha256: String,
    },
}

/// A user's role (SPEC section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Intermediary admin: sees everything, adds contracts, finalizes statements.
    Admin,
    /// District staff: only their district.
    District,
    /// Provider staff: only the students of their own contracts.
    Provider,
    /// Read-only: contracts, statements, ledger and audit log.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::District => "district",
            Role::Provider => "provider",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::District, Role::Provider, Role::Auditor]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// A signed-in user: who they are and which organisation bounds what they see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The district or provider of district and provider staff.
    pub org_id: Option<String>,
}

/// A user as login sees them: the password hash to verify and whether they may sign in.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    pub password_hash: String,
    pub disabled: bool,
}

/// A user as the admin's list shows them.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub user: User,
    pub created_at: String,
    /// When the user was disabled, if they are.
    pub disabled_at: Option<String>,
}

/// An API token as its owner and admins see it: never the secret, only an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// The first characters of the token's SHA-256: enough to name it, useless to use it.
    pub id: String,
    pub username: String,
    pub label: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

/// Hex characters of a token's SHA-256 that name it.
const TOKEN_ID_LEN: usize = 12;

type UserRow = (i64, String, String, Option<String>);
/// A user's columns, one more text column (a password hash or a creation time) and
/// `disabled_at`.
type AccountRow = (i64, String, String, Option<String>, String, Option<String>);

fn user(row: UserRow) -> Result<User> {
    let (id, username, role, org_id) = row;
    let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?;
    Ok(User {
        id,
        username,
        role,
        org_id,
    })
}

impl Store {
    /// Creates a user; `password_hash` is an argon2 PHC string made by the caller.
    pub async fn add_user(
        &self,
        actor: &str,
        username: &str,
        password_hash: &str,
        role: Role,
        org_id: Option<&str>,
    ) -> Result<User> {
        let mut tx = self.write_tx().await?;
        if let Some(org) = org_id {
            let kind: Option<String> =
                sqlx::query_scalar("SELECT kind FROM organisations WHERE id = $1")
                    .bind(org)
                    .fetch_optional(&mut *tx)
                    .await?;
            let expected = role.as_str();
            if kind.as_deref() != Some(expected) {
                return Err(StoreError::NotFound(format!("no {expected} \"{org}\" (import its roster or sessions, or add a contract naming it)")));
            }
        } else if matches!(role, Role::District | Role::Provider) {
            return Err(StoreError::Conflict(format!(
                "a {} user needs --org",
                role.as_str()
            )));
        }
        let org_id = org_id.filter(|_| matches!(role, Role::District | Role::Provider));
        let id = sqlx::query_scalar::<_, i64>("INSERT INTO users (username, password_hash, role, org_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(username)
            .bind(password_hash)
            .bind(role.as_str())
            .bind(org_id)
            .bind(crate::now())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict(format!("user \"{username}\" already exists"))
                }
                e => e.into(),
            })?;
        audit(
            &mut tx,
            actor,
            "user.add",
            &format!("user:{username}"),
            &format!(
                "role {}, organisation {}",
                role.as_str(),
                org_id.unwrap_or("none")
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(User {
            id,
            username: username.to_string(),
            role,
            org_id: org_id.map(str::to_string),
        })
    }

    /// A user with their password hash and whether they are disabled, for login.
    pub async fn user_for_login(&self, username: &str) -> Result<Option<Account>> {
        let row: Option<AccountRow> =
            sqlx::query_as(
                "SELECT id, username, role, org_id, password_hash, disabled_at FROM users WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(id, u, r, o, password_hash, disabled_at)| {
            Ok(Account {
                user: user((id, u, r, o))?,
                password_hash,
                disabled: disabled_at.is_some(),
            })
        })
        .transpose()
    }

    /// A user who exists, else a NotFound naming them.
    async fn existing_user(&self, username: &str) -> Result<User> {
        self.user_for_login(username)
            .await?
            .map(|a| a.user)
            .ok_or_else(|| StoreError::NotFound(format!("no user \"{username}\"")))
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserSummary>> {
        let rows: Vec<AccountRow> =
            sqlx::query_as(
                "SELECT id, username, role, org_id, created_at, disabled_at FROM users ORDER BY username",
            )
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(id, u, r, o, created_at, disabled_at)| {
                Ok(UserSummary {
                    user: user((id, u, r, o))?,
                    created_at,
                    disabled_at,
                })
            })
            .collect()
    }

    /// Starts a login session lasting `valid_for`; `token` is the cookie's secret, stored hashed.
    /// Expired sessions and remembered browsers of every user are deleted on the way.
    pub async fn create_login_session(
        &self,
        user: &User,
        token: &str,
        csrf: &str,
        valid_for: time::Duration,
    ) -> Result<()> {
        let now = crate::now();
        let expires_at = crate::timestamp(time::OffsetDateTime::now_utc() + valid_for);
        let mut tx = self.write_tx().await?;
        for sweep in [
            "DELETE FROM login_sessions WHERE expires_at <= $1",
            "DELETE FROM known_devices WHERE expires_at <= $1",
        ] {
            sqlx::query(sweep).bind(&now).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO login_sessions (token_sha256, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(hex_sha256(token.as_bytes()))
            .bind(user.id)
            .bind(csrf)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            &user.username,
            "login",
            &format!("user:{}", user.username),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user and CSRF token of a login session that has not expired, of a user who is not
    /// disabled.
    pub async fn login_session(&self, token: &str) -> Result<Option<(User, String)>> {
        let row: Option<(i64, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT u.id, u.username, u.role, u.org_id, s.csrf_token FROM login_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(hex_sha256(token.as_bytes()))
        .bind(crate::now())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, u, r, o, csrf)| Ok((user((id, u, r, o))?, csrf)))
            .transpose()
    }

    /// Ends a login session.
    pub async fn end_login_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_sessions WHERE token_sha256 = $1")
            .bind(hex_sha256(token.as_bytes()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Remembers a browser that signed in as `user` (its cookie's secret, hashed).
    pub async fn add_known_device(
        &self,
        user: &User,
        token: &str,
        valid_for: time::Duration,
    ) -> Result<()> {
        let expires_at = crate::timestamp(time::OffsetDateTime::now_utc() + valid_for);
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO known_devices (token_sha256, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(hex_sha256(token.as_bytes()))
        .bind(user.id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `token` is the cookie of a browser that signed in as `username` before.
    pub async fn is_known_device(&self, username: &str, token: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT d.user_id FROM known_devices d JOIN users u ON u.id = d.user_id
             WHERE d.token_sha256 = $1 AND u.username = $2 AND d.expires_at > $3",
        )
        .bind(hex_sha256(token.as_bytes()))
        .bind(username)
        .bind(crate::now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Replaces a user's password hash and ends their login sessions, except `keep` (the
    /// session of a user changing their own password).
    pub async fn set_password(
        &self,
        actor: &str,
        username: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<()> {
        let target = self.existing_user(username).await?;
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(target.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_sessions WHERE user_id = $1 AND token_sha256 <> $2")
            .bind(target.id)
            .bind(keep.map(|t| hex_sha256(t.as_bytes())).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            "user.password",
            &format!("user:{username}"),
            "password changed; other sign-ins ended",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables a user (ending their sessions, revoking their tokens and forgetting their
    /// browsers) or enables them again (their old tokens stay revoked).
    pub async fn set_disabled(&self, actor: &str, username: &str, disabled: bool) -> Result<()> {
        let target = self.existing_user(username).await?;
        let now = crate::now();
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(disabled.then_some(now.as_str()))
            .bind(target.id)
            .execute(&mut *tx)
            .await?;
        let (action, detail) = if disabled {
            for forget in [
                "DELETE FROM login_sessions WHERE user_id = $1",
                "DELETE FROM known_devices WHERE user_id = $1",
            ] {
                sqlx::query(forget)
                    .bind(target.id)
                    .execute(&mut *tx)
                    .await?;
            }
            let revoked = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(&now)
            .bind(target.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            (
                "user.disable",
                format!("sessions ended, {revoked} API tokens revoked"),
            )
        } else {
            ("user.enable", String::new())
        };
        audit(&mut tx, actor, action, &format!("user:{username}"), &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores an API token (hashed) for a user, valid for `valid_for`.
    pub async fn add_api_token(
        &self,
        actor: &str,
        user: &User,
        token: &str,
        label: &str,
        valid_for: time::Duration,
    ) -> Result<ApiToken> {
        let sha = hex_sha256(token.as_bytes());
        let created_at = crate::now();
        let expires_at = crate::timestamp(time::OffsetDateTime::now_utc() + valid_for);
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO api_tokens (token_sha256, user_id, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&sha)
        .bind(user.id)
        .bind(label)
        .bind(&created_at)
        .bind(&expires_at)
        .execute(&mut *tx)
        .await?;
        let token = ApiToken {
            id: sha[..TOKEN_ID_LEN].to_string(),
            username: user.username.clone(),
            label: label.to_string(),
            created_at,
            expires_at,
            revoked_at: None,
        };
        audit(
            &mut tx,
            actor,
            "token.add",
            &format!("user:{}", user.username),
            &format!("{label} (id {}, expires {})", token.id, token.expires_at),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The user an API token belongs to, unless the token expired or was revoked or the user
    /// is disabled.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.username, u.role, u.org_id FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(hex_sha256(token.as_bytes()))
        .bind(crate::now())
        .fetch_optional(&self.pool)
        .await?;
        row.map(user).transpose()
    }

    /// The API tokens of one user, or of everyone, newest first.
    pub async fn api_tokens(&self, username: Option<&str>) -> Result<Vec<ApiToken>> {
        let rows: Vec<(String, String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT t.token_sha256, u.username, t.label, t.created_at, t.expires_at, t.revoked_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE $1 = '' OR u.username = $1 ORDER BY t.created_at DESC, t.token_sha256",
        )
        .bind(username.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(sha, username, label, created_at, expires_at, revoked_at)| ApiToken {
                    id: sha[..TOKEN_ID_LEN].to_string(),
                    username,
                    label,
                    created_at,
                    expires_at,
                    revoked_at,
                },
            )
            .collect())
    }

    /// Revokes the API token with this id (as [`Store::api_tokens`] lists it).
    pub async fn revoke_api_token(&self, actor: &str, id: &str) -> Result<ApiToken> {
        let token = self
            .api_tokens(None)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "no API token with id \"{id}\" (`obc user tokens` lists them)"
                ))
            })?;
        if token.revoked_at.is_some() {
            return Ok(token);
        }
        let now = crate::now();
        let mut tx = self.write_tx().await?;
        // The id was found among the tokens, so it is hex: no LIKE wildcards.
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE token_sha256 LIKE $2")
            .bind(&now)
            .bind(format!("{id}%"))
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            "token.revoke",
            &format!("user:{}", token.username),
            &format!("{} (id {id})", token.label),
        )
        .await?;
        tx.commit().await?;
        Ok(ApiToken {
            revoked_at: Some(now),
            ..token
        })
    }

    /// Claims an idempotency key for a request whose SHA-256 is `request_sha256`, under the
    /// write lock, so of several requests sent at once with one key exactly one is
    /// [`IdempotencyClaim::Claimed`]; the others see it in progress or answered. A claim left
    /// in progress for [`STALE_CLAIM_MINUTES`] (its server died) is taken over.
    pub async fn claim_idempotency_key(
        &self,
        user: &User,
        key: &str,
        request_sha256: &str,
    ) -> Result<IdempotencyClaim> {
        let mut tx = self.write_tx().await?;
        let row: Option<(i64, String, String, String)> = sqlx::query_as(
            "SELECT status, response, request_sha256, created_at FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user.id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let now = time::OffsetDateTime::now_utc();
        let stale_before = crate::timestamp(now - time::Duration::minutes(STALE_CLAIM_MINUTES));
        let claim = match row {
            Some((IN_PROGRESS, _, sha, created_at)) if created_at >= stale_before => {
                return Ok(IdempotencyClaim::InProgress {
                    request_sha256: sha,
                })
            }
            Some((IN_PROGRESS, ..)) => {
                sqlx::query(
                    "UPDATE idempotency_keys SET request_sha256 = $1, created_at = $2 WHERE user_id = $3 AND key = $4",
                )
                .bind(request_sha256)
                .bind(crate::timestamp(now))
                .bind(user.id)
                .bind(key)
                .execute(&mut *tx)
                .await?;
                IdempotencyClaim::Claimed
            }
            Some((status, response, sha, _)) => {
                return Ok(IdempotencyClaim::Answered {
                    status: status as u16,
                    response,
                    request_sha256: sha,
                })
            }
            None => {
                sqlx::query(
                    "INSERT INTO idempotency_keys (user_id, key, request_sha256, status, response, created_at)
                     VALUES ($1, $2, $3, $4, '', $5)",
                )
                .bind(user.id)
                .bind(key)
                .bind(request_sha256)
                .bind(IN_PROGRESS)
                .bind(crate::timestamp(now))
                .execute(&mut *tx)
                .await?;
                IdempotencyClaim::Claimed
            }
        };
        tx.commit().await?;
        Ok(claim)
    }

    /// Remembers the answer to the request that claimed `key`: later requests with the key
    /// get it back.
    pub async fn remember_response(
        &self,
        user: &User,
        key: &str,
        status: u16,
        response: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response = $2 WHERE user_id = $3 AND key = $4 AND status = $5",
        )
        .bind(i64::from(status))
        .bind(response)
        .bind(user.id)
        .bind(key)
        .bind(IN_PROGRESS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up a claim whose request failed without an answer worth replaying, so that a
    /// retry with the key runs again.
    pub async fn release_idempotency_key(&self, user: &User, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = $3")
            .bind(user.id)
            .bind(key)
            .bind(IN_PROGRESS)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod idempotency_tests {
    use super::*;
    use crate::test_support::stores;

    #[tokio::test]
    async fn one_claim_per_key_until_answered_or_released() {
        for store in stores().await {
            let user = User {
                id: 7,
                username: "p".into(),
                role: Role::Provider,
                org_id: Some("p1".into()),
            };
            let claim = |sha: &'static str| store.claim_idempotency_key(&user, "k", sha);
            assert_eq!(claim("a").await.unwrap(), IdempotencyClaim::Claimed);
            let in_progress = IdempotencyClaim::InProgress {
                request_sha256: "a".into(),
            };
            assert_eq!(claim("a").await.unwrap(), in_progress);
            assert_eq!(claim("b").await.unwrap(), in_progress);
            // A failed request gives the key back.
            store.release_idempotency_key(&user, "k").await.unwrap();
            assert_eq!(claim("b").await.unwrap(), IdempotencyClaim::Claimed);
            store
                .remember_response(&user, "k", 200, "{}")
                .await
                .unwrap();
            let answered = IdempotencyClaim::Answered {
                status: 200,
                response: "{}".into(),
                request_sha256: "b".into(),
            };
            assert_eq!(claim("b").await.unwrap(), answered);
            // An answer is kept: neither released nor overwritten.
            store.release_idempotency_key(&user, "k").await.unwrap();
            store
                .remember_response(&user, "k", 500, "oops")
                .await
                .unwrap();
            assert_eq!(claim("a").await.unwrap(), answered);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, SQLITE_MIGRATIONS};
    use sqlx::Connection;

    /// A database made before migration 9, with a user and an API token, upgrades: the token
    /// still works and now expires 90 days after the upgrade.
    #[tokio::test]
    async fn tokens_made_before_expiry_existed_get_90_days() {
        let (path, mut conn) = crate::test_support::new_sqlite_file("upgrade").await;
        crate::test_support::migrate_until(&mut conn, SQLITE_MIGRATIONS, 5).await;
        sqlx::raw_sql(
            "INSERT INTO users (id, username, password_hash, role, created_at) VALUES (1, 'old', 'x', 'admin', '2024-01-01T00:00:00Z');
             INSERT INTO api_tokens (token_sha256, user_id, label, created_at) VALUES ('2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b', 1, 'old', '2024-01-01T00:00:00Z');",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();

        let store = Store::open(path.to_str().unwrap(), false).await.unwrap();
        // The token's secret is "secret" (its SHA-256 is stored above).
        let user = store.user_for_token("secret").await.unwrap();
        assert_eq!(user.map(|u| u.username), Some("old".to_string()));
        let tokens = store.api_tokens(Some("old")).await.unwrap();
        let in_90_days = time::OffsetDateTime::now_utc() + time::Duration::days(90);
        assert!(
            tokens[0]
                .expires_at
                .starts_with(&in_90_days.date().to_string()),
            "{tokens:?}"
        );
        assert_eq!(tokens[0].id, "2bb80d537b1d");
        store.close().await;
        let _ = std::fs::remove_file(&path);
    }
}
