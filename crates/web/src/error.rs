//! The API's answers to a refusal or failure (JSON, never a redirect) and its viewer, shared
//! by every feature's JSON handlers. Imports no feature module.

use crate::auth::Viewer;
use crate::{AppState, WebError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// An API failure: JSON [`ErrorBody`] with the HTTP status.
pub struct ApiError(WebError);

/// The body of every refusal or failure of the API.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong, for people.
    error: String,
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        ApiError(e)
    }
}

impl From<obc_store::StoreError> for ApiError {
    fn from(e: obc_store::StoreError) -> Self {
        ApiError(e.into())
    }
}

impl From<obc_app::AppError> for ApiError {
    fn from(e: obc_app::AppError) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let WebError { status, message } = self.0;
        let body = ErrorBody { error: message };
        crate::with_retry_after(status, (status, Json(body)).into_response())
    }
}

/// The viewer of an API call; refusals are JSON, never a redirect to the sign-in page.
pub struct ApiViewer(pub Viewer);

impl FromRequestParts<AppState> for ApiViewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        Ok(ApiViewer(viewer))
    }
}

/// The `X-CSRF-Token` header of a cookie-authenticated write.
pub(crate) fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-csrf-token").and_then(|v| v.to_str().ok())
}
