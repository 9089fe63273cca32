//! The page shell every feature's HTML shares: rendering, the navigation bar, the sign-in and
//! error pages and the stylesheet. Imports no module of the crate (the bar is built from a
//! viewer in [`crate::auth`], which renders the sign-in page through this module).

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Renders a template, or a plain 500 if the template itself fails.
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("page failed to render: {e}"),
        )
            .into_response(),
    }
}

/// What the navigation bar needs.
pub struct Nav {
    pub username: String,
    pub role: &'static str,
    pub org: String,
    pub csrf: String,
    pub can_upload: bool,
    pub can_audit: bool,
    pub can_manage_users: bool,
    /// The contract design tools (lint, simulation, exhibit): admins and district staff.
    pub can_design: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub csrf: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}

/// GET /style.css: the app's one stylesheet (no inline styles: see the Content-Security-Policy).
pub async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../templates/style.css"),
    )
        .into_response()
}
