//! Who is asking: login with argon2-hashed passwords, session cookies, CSRF tokens, API tokens
//! and a login rate limit. Every handler gets a [`Viewer`] from here or is refused.

use crate::{AppState, WebError};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use obc_store::{Role, Scope, User};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "obc_session";
const LOGIN_CSRF_COOKIE: &str = "obc_login_csrf";
const SESSION_HOURS: i64 = 8;

/// Hashes a password for storage (argon2id, random salt).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// A hash no password matches, verified for unknown usernames.
fn unknown_user_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_token()).expect("hashing a random token works"))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// 32 random bytes as hex: session cookies, CSRF and API tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The signed-in user of a request, with the CSRF token forms must echo.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    /// None for API-token requests, which carry no cookies and need no CSRF token.
    pub csrf: Option<String>,
}

impl Viewer {
    pub fn scope(&self) -> Scope {
        self.user.scope()
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Refuses the request unless the viewer has one of the roles.
    pub fn require(&self, roles: &[Role]) -> Result<(), WebError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(WebError::forbidden("your role may not do this"))
        }
    }

    /// Checks the CSRF token of a state-changing request made with the session cookie.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), WebError> {
        match &self.csrf {
            None => Ok(()),
            Some(expected)
                if sent.is_some_and(|s| constant_time_eq(s.as_bytes(), expected.as_bytes())) =>
            {
                Ok(())
            }
            Some(_) => Err(WebError::forbidden(
                "the form's security token is missing or stale: reload the page and try again",
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return match state.store.user_for_token(token.trim()).await? {
                Some(user) => Ok(Viewer { user, csrf: None }),
                None => Err(WebError::unauthorized("unknown API token")),
            };
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::unauthorized("please sign in"));
        };
        match state.store.login_session(token).await? {
            Some((user, csrf)) => Ok(Viewer {
                user,
                csrf: Some(csrf),
            }),
            None => Err(WebError::unauthorized(
                "your session has ended: please sign in again",
            )),
        }
    }
}

/// Failed logins per client and per username; more than `MAX_FAILURES` in `WINDOW` is refused.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

const MAX_FAILURES: usize = 5;
const WINDOW: Duration = Duration::from_secs(300);

impl LoginLimiter {
    fn blocked(&self, keys: &[String]) -> bool {
        let mut map = self.failures.lock().expect("limiter lock");
        keys.iter().any(|k| {
            let entries = map.entry(k.clone()).or_default();
            entries.retain(|t| t.elapsed() < WINDOW);
            entries.len() >= MAX_FAILURES
        })
    }

    fn fail(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("limiter lock");
        // Forget clients and usernames whose failures have all expired, so the map stays small.
        if map.len() > 10_000 {
            map.retain(|_, times| times.iter().any(|t| t.elapsed() < WINDOW));
        }
        for k in keys {
            map.entry(k.clone()).or_default().push(Instant::now());
        }
    }
}

/// The client's address when the server knows it (not in in-process tests).
pub struct ClientAddr(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie text is ASCII")
}

/// GET /login: the form, with a CSRF token bound to a short-lived cookie.
pub async fn login_page(State(state): State<AppState>) -> Response {
    let csrf = random_token();
    let mut response = crate::pages::render(&crate::pages::LoginPage {
        csrf: csrf.clone(),
        error: None,
    });
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(&state, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

/// POST /login.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let cookie_csrf = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie_csrf.is_empty() || !constant_time_eq(cookie_csrf.as_bytes(), form.csrf.as_bytes()) {
        return Err(WebError::forbidden(
            "the sign-in form expired: reload the page and try again",
        ));
    }
    let keys = [
        format!(
            "ip:{}",
            peer.map_or_else(|| "unknown".to_string(), |p| p.to_string())
        ),
        format!("user:{}", form.username),
    ];
    if state.limiter.blocked(&keys) {
        return Err(WebError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins: wait five minutes and try again",
        ));
    }
    let found = state.store.user_for_login(&form.username).await?;
    // An unknown username costs the same argon2 work as a wrong password, so the answer's
    // timing does not tell which usernames exist.
    let verified = match &found {
        Some((_, hash)) => verify_password(&form.password, hash),
        None => {
            verify_password(&form.password, unknown_user_hash());
            false
        }
    };
    let user = match found {
        Some((user, _)) if verified => user,
        _ => {
            state.limiter.fail(&keys);
            let csrf = random_token();
            let mut response = crate::pages::render(&crate::pages::LoginPage {
                csrf: csrf.clone(),
                error: Some("Unknown username or wrong password.".into()),
            });
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.headers_mut().append(
                SET_COOKIE,
                set_cookie(&state, LOGIN_CSRF_COOKIE, &csrf, 3600),
            );
            return Ok(response);
        }
    };
    let token = random_token();
    state
        .store
        .create_login_session(
            &user,
            &token,
            &random_token(),
            time::Duration::hours(SESSION_HOURS),
        )
        .await?;
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &token, SESSION_HOURS * 3600),
    );
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0));
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// POST /logout.
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    viewer.check_csrf(form.csrf.as_deref())?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.store.end_login_session(token).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn the_limiter_blocks_after_five_failures() {
        let limiter = LoginLimiter::default();
        let keys = ["ip:1".to_string()];
        for _ in 0..5 {
            assert!(!limiter.blocked(&keys));
            limiter.fail(&keys);
        }
        assert!(limiter.blocked(&keys));
        assert!(!limiter.blocked(&["ip:2".to_string()]));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; obc_session=xyz; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
