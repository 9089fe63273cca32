//! The obc web app: server-rendered pages and a JSON API for the four roles of SPEC section 1.
//!
//! Access is decided on the server for every request: a handler first gets a [`auth::Viewer`]
//! (or the request is refused), then asks the store for data through the viewer's
//! [`obc_store::Scope`], which every query ANDs into its WHERE clause. Records outside the scope
//! answer 404, exactly like records that do not exist, so ids cannot be probed.

pub mod api;
pub mod auth;
pub mod charts;
pub mod monitoring;
pub mod pages;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use obc_store::{Store, StoreError};
use std::sync::Arc;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub limiter: Arc<auth::LoginLimiter>,
    /// Mark cookies `Secure` (HTTPS only). Browsers treat `localhost` as secure too.
    pub secure_cookies: bool,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState {
            store,
            limiter: Arc::default(),
            secure_cookies: true,
        }
    }
}

/// A refused or failed request, as a page for browsers or JSON for the API.
#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub message: String,
}

impl WebError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> WebError {
        WebError {
            status,
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::FORBIDDEN, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn not_found() -> WebError {
        WebError::new(StatusCode::NOT_FOUND, "not found, or not yours to see")
    }
    pub fn bad_request(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => WebError::new(StatusCode::NOT_FOUND, m),
            StoreError::Conflict(m) => WebError::new(StatusCode::CONFLICT, m),
            e @ StoreError::Busy(_) => {
                WebError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            e => WebError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

impl From<obc_app::AppError> for WebError {
    fn from(e: obc_app::AppError) -> Self {
        match e {
            obc_app::AppError::Store(s) => s.into(),
            e => WebError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            let mut response = axum::response::Redirect::to("/login").into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            return response;
        }
        let status = self.status;
        let mut response = pages::render(&pages::ErrorPage {
            status: status.as_u16(),
            message: self.message,
        });
        *response.status_mut() = status;
        with_retry_after(status, response)
    }
}

/// A busy database (503) tells the client when to try again.
pub(crate) fn with_retry_after(status: StatusCode, mut response: Response) -> Response {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    response
}

/// The `Retry-After` of a busy answer, in seconds.
const RETRY_AFTER_SECONDS: &str = "5";

/// Every route of the app.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/", get(pages::dashboard))
        .route("/contracts/{id}", get(pages::contract))
        .route(
            "/contracts/{id}/statements/{milestone}",
            get(pages::statement),
        )
        .route(
            "/contracts/{id}/statements/{milestone}/download",
            get(pages::download),
        )
        .route(
            "/contracts/{id}/statements/{milestone}/finalize",
            post(pages::finalize),
        )
        .route("/students/{district}/{student}", get(pages::student))
        .route("/upload", get(pages::upload_page))
        .route("/upload/{kind}", post(pages::upload))
        .route("/audit", get(pages::audit))
        .route("/ledger", get(pages::ledger))
        .merge(api::routes())
        .merge(monitoring::routes())
        .layer(DefaultBodyLimit::max(256 * 1024 * 1024))
        .with_state(state)
}

/// Serves the app until the process is stopped.
pub async fn serve(state: AppState, listen: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await
}

#[cfg(test)]
mod busy_tests {
    use super::*;

    #[test]
    fn a_busy_database_is_503_with_retry_after_never_500() {
        let busy = || StoreError::Busy("database is locked".into());
        let page = WebError::from(busy()).into_response();
        let api = api::ApiError::from(busy()).into_response();
        for response in [page, api] {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                response.headers().get(axum::http::header::RETRY_AFTER),
                Some(&axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS))
            );
        }
        let damaged = WebError::from(StoreError::Corrupt("x".into())).into_response();
        assert_eq!(damaged.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(damaged
            .headers()
            .get(axum::http::header::RETRY_AFTER)
            .is_none());
    }
}
