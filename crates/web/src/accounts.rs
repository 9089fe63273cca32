//! Accounts on the web: every signed-in user changes their own password; admins disable and
//! enable users and revoke API tokens. Every change is audited by the store.

use crate::auth::{self, Viewer};
use crate::pages::{render, Nav};
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use obc_store::{ApiToken, Role, UserSummary};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/users", get(users_page))
        .route("/users/{username}/disable", post(disable_user))
        .route("/users/{username}/enable", post(enable_user))
        .route("/tokens/{id}/revoke", post(revoke_token))
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
    let tokens = state.store.api_tokens(Some(&viewer.user.username)).await?;
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
    let account = state
        .store
        .user_for_login(&username)
        .await?
        .ok_or_else(WebError::not_found)?;
    if !auth::password_matches(form.current.clone(), Some(account.password_hash)).await {
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
    state
        .store
        .set_password(&username, &username, &hash, this_session)
        .await?;
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
}

/// GET /users (admins): every user and API token, with the forms that disable, enable and
/// revoke.
pub async fn users_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    viewer.require(&[Role::Admin])?;
    Ok(render(&UsersPage {
        nav: Nav::of(&viewer),
        users: state.store.users().await?,
        tokens: state.store.api_tokens(None).await?,
    }))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// An admin's change from the users page: role and token checked, then back to the page.
async fn admin_change(
    viewer: &Viewer,
    form: &CsrfForm,
    change: impl std::future::Future<Output = Result<(), WebError>>,
) -> Result<Response, WebError> {
    viewer.require(&[Role::Admin])?;
    viewer.check_csrf(form.csrf.as_deref())?;
    change.await?;
    Ok(Redirect::to("/users").into_response())
}

/// POST /users/{username}/disable: their sessions end and their tokens are revoked. An admin
/// cannot disable themselves (nobody might be left to enable them).
pub async fn disable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    admin_change(&viewer, &form, async {
        if username == viewer.user.username {
            return Err(WebError::new(
                StatusCode::CONFLICT,
                "you cannot disable yourself: ask another admin",
            ));
        }
        Ok(state
            .store
            .set_disabled(&viewer.user.username, &username, true)
            .await?)
    })
    .await
}

/// POST /users/{username}/enable: they may sign in again (their old tokens stay revoked).
pub async fn enable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    admin_change(&viewer, &form, async {
        Ok(state
            .store
            .set_disabled(&viewer.user.username, &username, false)
            .await?)
    })
    .await
}

/// POST /tokens/{id}/revoke: the token is refused from now on.
pub async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    admin_change(&viewer, &form, async {
        state
            .store
            .revoke_api_token(&viewer.user.username, &id)
            .await?;
        Ok(())
    })
    .await
}
