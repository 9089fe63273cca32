//! Who is asking: login with argon2-hashed passwords, session cookies, CSRF tokens, API tokens
//! and a login rate limit. Every handler gets a [`Viewer`] from here or is refused.

use crate::layout::{render, LoginPage, Nav};
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
/// The cookie of a browser that signed in successfully: its sign-ins are limited on their own.
pub const DEVICE_COOKIE: &str = "obc_device";
const DEVICE_DAYS: i64 = 180;
/// The shortest password accepted, on the web and the command line.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Refuses a new password that is too short.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

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

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// [`hash_password`] for a request handler: argon2 takes tens of milliseconds of CPU on
/// purpose, so it runs on a blocking thread and the async threads keep answering.
pub async fn hash_password_off_thread(password: String) -> Result<String, String> {
    obc_app::off_thread(move || hash_password(&password)).await
}

/// [`verify_password`] for a request handler, on a blocking thread; `None` checks against
/// a hash no password matches (an unknown username costs the same work).
pub async fn password_matches(password: String, hash: Option<String>) -> bool {
    obc_app::off_thread(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            verify_password(&password, unknown_user_hash());
            false
        }
    })
    .await
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
        // Already signed in by the route's access check (`access::enforce`).
        if let Some(viewer) = parts.extensions.get::<Viewer>() {
            return Ok(viewer.clone());
        }
        if let Some(token) = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return match state.sign_in().user_for_token(token.trim()).await? {
                Some(user) => Ok(Viewer { user, csrf: None }),
                None => Err(WebError::unauthorized("unknown API token")),
            };
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::unauthorized("please sign in"));
        };
        match state.sign_in().session(token).await? {
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

/// Failed sign-ins per key (a client address, a username or a remembered browser), with
/// backoff. An attempt is reserved, counted as a failure, before its password is checked and
/// given back when the password was right, so parallel tries cannot slip past the limit.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Failures>>,
}

/// The failed sign-ins of one key: how many, and when the last one was.
#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failures allowed before a key is locked for `LOCK`.
const MAX_FAILURES: u32 = 5;
/// The first lock; each further failure after one doubles it, up to `LOCK * 2^MAX_DOUBLINGS`.
const LOCK: Duration = Duration::from_secs(300);
const MAX_DOUBLINGS: u32 = 6;
/// A key with no failure for this long starts again from zero.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Failures {
    /// How long this key must still wait, if it is locked at `now`.
    fn locked_for(self, now: Instant) -> Option<Duration> {
        if self.count < MAX_FAILURES {
            return None;
        }
        let lock = LOCK * 2u32.pow((self.count - MAX_FAILURES).min(MAX_DOUBLINGS));
        (self.last + lock)
            .checked_duration_since(now)
            .filter(|wait| !wait.is_zero())
    }
}

/// A reserved sign-in attempt: it stays counted as a failure unless [`Attempt::succeeded`].
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    keys: Vec<String>,
}

impl Attempt<'_> {
    /// The password was right: the attempt no longer counts against its keys.
    pub fn succeeded(self) {
        let mut map = self.limiter.failures.lock().expect("limiter lock");
        for key in &self.keys {
            if let Some(f) = map.get_mut(key) {
                f.count = f.count.saturating_sub(1);
            }
        }
    }
}

impl LoginLimiter {
    /// Reserves an attempt under every key, or says how long the most locked key must wait.
    pub fn reserve(&self, keys: Vec<String>) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("limiter lock");
        // Forget keys that have been quiet for a day, so the map stays small.
        if map.len() > 10_000 {
            map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        }
        let fresh = |f: Option<&Failures>| {
            f.copied()
                .filter(|f| now.duration_since(f.last) < FORGET_AFTER)
                .unwrap_or(Failures {
                    count: 0,
                    last: now,
                })
        };
        if let Some(wait) = keys
            .iter()
            .filter_map(|k| fresh(map.get(k)).locked_for(now))
            .max()
        {
            return Err(wait);
        }
        for key in &keys {
            let f = fresh(map.get(key));
            map.insert(
                key.clone(),
                Failures {
                    count: f.count + 1,
                    last: now,
                },
            );
        }
        Ok(Attempt {
            limiter: self,
            keys,
        })
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
    let mut response = render(&LoginPage {
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

/// The keys a sign-in attempt counts under. A browser that signed in as this user before (it
/// holds their device cookie) counts only under its own key, so that someone else's failures,
/// against the account or from the same address, do not lock the owner out; any other browser
/// counts under its address and the username.
async fn limit_keys(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    username: &str,
) -> Result<Vec<String>, WebError> {
    if let Some(device) = cookie(headers, DEVICE_COOKIE) {
        if state.sign_in().is_known_device(username, device).await? {
            return Ok(vec![format!(
                "device:{}",
                obc_core::engine::sha256_hex(device.as_bytes())
            )]);
        }
    }
    Ok(vec![address_key(peer), format!("user:{username}")])
}

/// The limiter's key of a client address: an IPv6 client by its /64, which one host can fill
/// with addresses of its own.
fn address_key(peer: Option<IpAddr>) -> String {
    match peer {
        None => "ip:unknown".into(),
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The sign-in form again, with a message, a status and a fresh form token.
fn login_form_again(state: &AppState, status: StatusCode, message: &str) -> Response {
    let csrf = random_token();
    let mut response = render(&LoginPage {
        csrf: csrf.clone(),
        error: Some(message.into()),
    });
    *response.status_mut() = status;
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    response
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
    let keys = limit_keys(&state, &headers, peer, &form.username).await?;
    let attempt = match state.limiter.reserve(keys) {
        Ok(attempt) => attempt,
        Err(wait) => {
            return Err(WebError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many failed sign-ins: wait {} minutes and try again",
                    wait.as_secs().div_ceil(60).max(1)
                ),
            ))
        }
    };
    let found = state.sign_in().account(&form.username).await?;
    // An unknown username costs the same argon2 work as a wrong password, so the answer's
    // timing does not tell which usernames exist.
    let hash = found.as_ref().map(|account| account.password_hash.clone());
    let verified = password_matches(form.password.clone(), hash).await;
    let account = match found {
        Some(account) if verified => account,
        _ => {
            return Ok(login_form_again(
                &state,
                StatusCode::UNAUTHORIZED,
                "Unknown username or wrong password.",
            ))
        }
    };
    attempt.succeeded();
    if account.disabled {
        return Ok(login_form_again(
            &state,
            StatusCode::FORBIDDEN,
            "This account is disabled: ask an administrator.",
        ));
    }
    let user = account.user;
    let token = random_token();
    state
        .sign_in()
        .start_session(
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
    let known = match cookie(&headers, DEVICE_COOKIE) {
        Some(device) => {
            state
                .sign_in()
                .is_known_device(&user.username, device)
                .await?
        }
        None => false,
    };
    if !known {
        let device = random_token();
        state
            .sign_in()
            .remember_device(&user, &device, time::Duration::days(DEVICE_DAYS))
            .await?;
        response.headers_mut().append(
            SET_COOKIE,
            set_cookie(&state, DEVICE_COOKIE, &device, DEVICE_DAYS * 24 * 3600),
        );
    }
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
        state.sign_in().end_session(token).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    Ok(response)
}

/// The bar is built here, beside the viewer, so that [`crate::layout`] imports no module.
impl Nav {
    pub(crate) fn of(viewer: &Viewer) -> Nav {
        Nav {
            username: viewer.user.username.clone(),
            role: viewer.role().as_str(),
            org: viewer.user.org_id.clone().unwrap_or_default(),
            csrf: viewer.csrf.clone().unwrap_or_default(),
            can_upload: viewer.role() != Role::Auditor,
            can_audit: matches!(viewer.role(), Role::Admin | Role::Auditor),
            can_manage_users: viewer.role() == Role::Admin,
            can_design: matches!(viewer.role(), Role::Admin | Role::District),
        }
    }
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
    fn the_limiter_reserves_before_checking_and_backs_off() {
        let limiter = LoginLimiter::default();
        let keys = || vec!["ip:1".to_string(), "user:admin".to_string()];
        // Five attempts held at once: the sixth is refused before any of them finished.
        let held: Vec<_> = (0..5).map(|_| limiter.reserve(keys()).unwrap()).collect();
        let wait = limiter.reserve(keys()).err().expect("locked");
        assert!(
            wait <= LOCK && wait > LOCK - Duration::from_secs(5),
            "{wait:?}"
        );
        // Other keys are not affected.
        assert!(limiter.reserve(vec!["ip:2".to_string()]).is_ok());
        // A right password gives its attempt back.
        held.into_iter().next().unwrap().succeeded();
        let sixth = limiter.reserve(keys()).expect("one attempt was given back");
        drop(sixth);
        // Each failure past the limit doubles the lock.
        let mut map = limiter.failures.lock().unwrap();
        let f = map.get_mut("user:admin").unwrap();
        assert_eq!(f.count, 5);
        f.count = 7;
        let now = f.last;
        assert_eq!(f.locked_for(now), Some(LOCK * 4));
        f.count = 100;
        assert_eq!(f.locked_for(now), Some(LOCK * 64));
        assert_eq!(f.locked_for(now + LOCK * 64), None);
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let key = |a: &str| address_key(Some(a.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "ip:192.0.2.7");
        assert_eq!(key("192.0.2.7"), "ip:192.0.2.7");
        assert_eq!(address_key(None), "ip:unknown");
    }

    #[test]
    fn new_passwords_need_eight_characters() {
        assert!(check_new_password("1234567").is_err());
        assert!(check_new_password("12345678").is_ok());
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
