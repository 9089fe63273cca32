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

type UserRow = (i64, String, String, Option<String>);

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

    /// A user and their password hash, for login.
    pub async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
        let row: Option<(i64, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT id, username, role, org_id, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, u, r, o, hash)| Ok((user((id, u, r, o))?, hash)))
            .transpose()
    }

    /// Starts a login session lasting `valid_for`; `token` is the cookie's secret, stored hashed.
    pub async fn create_login_session(
        &self,
        user: &User,
        token: &str,
        csrf: &str,
        valid_for: time::Duration,
    ) -> Result<()> {
        let expires_at = crate::timestamp(time::OffsetDateTime::now_utc() + valid_for);
        let mut tx = self.write_tx().await?;
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

    /// The user and CSRF token of a login session that has not expired.
    pub async fn login_session(&self, token: &str) -> Result<Option<(User, String)>> {
        let row: Option<(i64, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT u.id, u.username, u.role, u.org_id, s.csrf_token FROM login_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_sha256 = $1 AND s.expires_at > $2",
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

    /// Stores an API token (hashed) for a user.
    pub async fn add_api_token(
        &self,
        actor: &str,
        user: &User,
        token: &str,
        label: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO api_tokens (token_sha256, user_id, label, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(hex_sha256(token.as_bytes()))
        .bind(user.id)
        .bind(label)
        .bind(crate::now())
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "token.add",
            &format!("user:{}", user.username),
            label,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user an API token belongs to.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.username, u.role, u.org_id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1",
        )
        .bind(hex_sha256(token.as_bytes()))
        .fetch_optional(&self.pool)
        .await?;
        row.map(user).transpose()
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
