//! Web users, login sessions and API tokens. Passwords and tokens are never stored: only an
//! argon2 hash of each password and a SHA-256 of each token.

use crate::{audit, hex_sha256, Result, Store, StoreError};

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

    /// The stored answer to an earlier request with this idempotency key, if any, with the
    /// SHA-256 of that request.
    pub async fn idempotent_response(
        &self,
        user: &User,
        key: &str,
    ) -> Result<Option<(u16, String, String)>> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT status, response, request_sha256 FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user.id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(s, r, h)| (s as u16, r, h)))
    }

    /// Remembers the answer to a request with an idempotency key.
    pub async fn remember_response(
        &self,
        user: &User,
        key: &str,
        request_sha256: &str,
        status: u16,
        response: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, request_sha256, status, response, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(user.id)
        .bind(key)
        .bind(request_sha256)
        .bind(i64::from(status))
        .bind(response)
        .bind(crate::now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
