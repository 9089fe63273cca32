//! Accounts on the web: every signed-in user changes their own password; admins add users,
//! reset their passwords, disable and enable them, and issue and revoke API tokens. Every
//! change is audited by the store; new passwords and tokens are shown once, never stored.
//! `GET /api/me` tells an API client who it is signed in as, and its CSRF token.

use crate::access::{self, AccountAdmin, Effect, RouteSpec};
use crate::auth::{self, Viewer};
use crate::error::ApiViewer;
use crate::layout::{render, Nav};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use obc_store::{ApiToken, Role, UserSummary};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

/// Accounts' routes: everyone's own password and `/api/me`, users and tokens for admins.
pub(crate) const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/api/me",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(me),
    },
    RouteSpec {
        method: "GET",
        path: "/account",
        allowed: access::SIGNED_IN,
        effect: Effect::Reads,
        handler: || get(account_page),
    },
    RouteSpec {
        method: "POST",
        path: "/account/password",
        allowed: access::SIGNED_IN,
        effect: Effect::OwnAccount,
        handler: || post(change_password),
    },
    RouteSpec {
        method: "GET",
        path: "/users",
        allowed: access::ADMIN,
        effect: Effect::Reads,
        handler: || get(users_page),
    },
    RouteSpec {
        method: "POST",
        path: "/users",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(add_user),
    },
    RouteSpec {
        method: "POST",
        path: "/users/{username}/password",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(reset_password),
    },
    RouteSpec {
        method: "POST",
        path: "/tokens",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(issue_token),
    },
    RouteSpec {
        method: "POST",
        path: "/users/{username}/disable",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(disable_user),
    },
    RouteSpec {
        method: "POST",
        path: "/users/{username}/enable",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(enable_user),
    },
    RouteSpec {
        method: "POST",
        path: "/tokens/{id}/revoke",
        allowed: access::ADMIN,
        effect: Effect::Writes,
        handler: || post(revoke_token),
    },
];

/// GET /api/me.
#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    username: String,
    /// `admin`, `auditor`, `district` or `provider`.
    role: &'static str,
    /// The district or provider of district and provider staff.
    #[schema(required = true)]
    organisation: Option<String>,
    /// The session's token for `X-CSRF-Token` (none when signed in with an API token).
    #[schema(required = true)]
    csrf_token: Option<String>,
}

async fn me(ApiViewer(viewer): ApiViewer) -> Json<Me> {
    Json(Me {
        role: viewer.role().as_str(),
        username: viewer.user.username,
        organisation: viewer.user.org_id,
        csrf_token: viewer.csrf,
    })
}

/// `/api/me` in the OpenAPI document (assembled in `openapi`).
pub(crate) fn openapi_paths() -> serde_json::Map<String, Value> {
    let paths = json!({
        "/api/me": {"get": {"summary": "The signed-in user, role, organisation and CSRF token", "responses": crate::schemas::read_answers("The user", crate::schemas::of::<Me>())}}
    });
    crate::schemas::paths(paths)
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub nav: Nav,
    pub message: Option<String>,
    pub tokens: Vec<ApiToken>,
}

async fn render_account(
    state: &AppState,
    viewer: &Viewer,
    message: Option<String>,
) -> Result<Response, WebError> {
    let tokens = viewer.own_account(state).tokens().await?;
    Ok(render(&AccountPage {
        nav: Nav::of(viewer),
        message,
        tokens,
    }))
}

/// GET /account: the password form and the user's own API tokens.
pub async fn account_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    render_account(&state, &viewer, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    current: String,
    new: String,
    confirm: String,
}

/// POST /account/password: the current password, then the new one twice. Other sign-ins of
/// the user end; this one goes on. Wrong current passwords count like failed sign-ins.
pub async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    viewer.check_csrf(form.csrf.as_deref())?;
    let username = viewer.user.username.clone();
    let attempt = state
        .limiter
        .reserve(vec![format!("password:{username}")])
        .map_err(|_| {
            WebError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many wrong current passwords: wait and try again",
            )
        })?;
    let own = viewer.own_account(&state);
    let current_hash = own.password_hash().await?;
    if !auth::password_matches(form.current.clone(), Some(current_hash)).await {
        return Err(WebError::forbidden("the current password is wrong"));
    }
    attempt.succeeded();
    if form.new != form.confirm {
        return Err(WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the new password and its confirmation differ",
        ));
    }
    auth::check_new_password(&form.new)
        .map_err(|e| WebError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let hash = auth::hash_password_off_thread(form.new.clone())
        .await
        .map_err(|e| WebError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let this_session = auth::cookie(&headers, auth::SESSION_COOKIE);
    own.set_password(&hash, this_session).await?;
    render_account(
        &state,
        &viewer,
        Some("Your password was changed; your other sign-ins were ended.".into()),
    )
    .await
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub nav: Nav,
    pub users: Vec<UserSummary>,
    pub tokens: Vec<ApiToken>,
    /// What the last change did.
    pub message: Option<String>,
    /// A new password or token, shown this once.
    pub secret: Option<String>,
    /// The organisations a district or provider user may belong to.
    pub districts: Vec<String>,
    pub providers: Vec<String>,
}

async fn render_users(
    state: &AppState,
    viewer: &Viewer,
    message: Option<String>,
    secret: Option<String>,
) -> Result<Response, WebError> {
    let directory = viewer.user_directory(state)?;
    Ok(render(&UsersPage {
        nav: Nav::of(viewer),
        users: directory.users().await?,
        tokens: directory.tokens().await?,
        message,
        secret,
        districts: directory.organisations("district").await?,
        providers: directory.organisations("provider").await?,
    }))
}

/// GET /users (admins): every user and API token, with the forms that add users, reset
/// passwords, disable, enable, issue and revoke.
pub async fn users_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    render_users(&state, &viewer, None, None).await
}

/// A password for a new user or a reset: random, shown to the admin once.
fn generated_password() -> Result<(String, String), WebError> {
    let password = auth::random_token()[..20].to_string();
    let hash = auth::hash_password(&password)
        .map_err(|e| WebError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok((password, hash))
}

/// Usernames appear in paths (`/users/{username}/...`): letters, digits, `.`, `_`, `-`.
fn check_username(username: &str) -> Result<(), WebError> {
    let fine = (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if fine {
        Ok(())
    } else {
        Err(WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a username has 1 to 64 letters, digits, dots, underscores or hyphens",
        ))
    }
}

#[derive(Deserialize)]
pub struct NewUserForm {
    csrf: Option<String>,
    username: String,
    role: String,
    #[serde(default)]
    org: String,
}

/// POST /users: a new user with a role and, for district and provider staff, their
/// organisation; the generated password is shown once.
pub async fn add_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<NewUserForm>,
) -> Result<Response, WebError> {
    let admin = AccountAdmin::of(&viewer, &state, form.csrf.as_deref())?;
    let username = form.username.trim();
    check_username(username)?;
    let role = Role::parse(&form.role)
        .ok_or_else(|| WebError::new(StatusCode::UNPROCESSABLE_ENTITY, "choose a role"))?;
    let staff = matches!(role, Role::District | Role::Provider);
    let org = Some(form.org.trim()).filter(|o| staff && !o.is_empty());
    if staff && org.is_none() {
        return Err(WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("a {} user needs an organisation", role.as_str()),
        ));
    }
    let (password, hash) = generated_password()?;
    let user = admin.add_user(username, &hash, role, org).await?;
    render_users(
        &state,
        &viewer,
        Some(format!(
            "User {} added ({}). Give them this password; they can change it on their account page.",
            user.username,
            user.role.as_str()
        )),
        Some(password),
    )
    .await
}

/// POST /users/{username}/password: a new generated password, shown once; the user's
/// sign-ins end.
pub async fn reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let admin = AccountAdmin::of(&viewer, &state, form.csrf.as_deref())?;
    let (password, hash) = generated_password()?;
    admin.set_password(&username, &hash).await?;
    render_users(
        &state,
        &viewer,
        Some(format!(
            "The password of {username} was reset and their sign-ins ended. Give them this password:"
        )),
        Some(password),
    )
    .await
}

/// The longest an API token issued on the web is valid.
const MAX_TOKEN_DAYS: u16 = 365;

#[derive(Deserialize)]
pub struct NewTokenForm {
    csrf: Option<String>,
    username: String,
    label: String,
    days: u16,
}

/// POST /tokens: an API token for an active user, valid 1 to 365 days; the token is shown
/// once (only its SHA-256 is stored).
pub async fn issue_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<NewTokenForm>,
) -> Result<Response, WebError> {
    let admin = AccountAdmin::of(&viewer, &state, form.csrf.as_deref())?;
    if !(1..=MAX_TOKEN_DAYS).contains(&form.days) {
        return Err(WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("a token is valid 1 to {MAX_TOKEN_DAYS} days"),
        ));
    }
    let label = form.label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a token needs a label of at most 100 characters (what it is for)",
        ));
    }
    let account = (viewer.user_directory(&state)?)
        .account(form.username.trim())
        .await?;
    if account.disabled {
        return Err(WebError::new(
            StatusCode::CONFLICT,
            "the user is disabled: enable them first",
        ));
    }
    let token = auth::random_token();
    let stored = admin
        .issue_token(&account.user, &token, label, form.days)
        .await?;
    render_users(
        &state,
        &viewer,
        Some(format!(
            "Token {} issued to {}, valid until {}. Copy it now: it is not shown again. Use it as Authorization: Bearer <token>.",
            stored.id, stored.username, stored.expires_at
        )),
        Some(token),
    )
    .await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// POST /users/{username}/disable: their sessions end and their tokens are revoked. An admin
/// cannot disable themselves (nobody might be left to enable them).
pub async fn disable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let admin = AccountAdmin::of(&viewer, &state, form.csrf.as_deref())?;
    admin.set_disabled(&username, true).await?;
    Ok(Redirect::to("/users").into_response())
}

/// POST /users/{username}/enable: they may sign in again (their old tokens stay revoked).
pub async fn enable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let admin = AccountAdmin::of(&viewer, &state, form.csrf.as_deref())?;
    admin.set_disabled(&username, false).await?;
    Ok(Redirect::to("/users").into_response())
}

/// POST /tokens/{id}/revoke: the token is refused from now on.
pub async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let admin = AccountAdmin::of(&viewer, &state, form.csrf.as_deref())?;
    admin.revoke_token(&id).await?;
    Ok(Redirect::to("/users").into_response())
}
