//! The obc web app: server-rendered pages and a JSON API for the four roles of SPEC section 1.
//!
//! Access is decided on the server for every request: a handler first gets a [`auth::Viewer`]
//! (or the request is refused), then reads data through a handle the viewer's checks produce
//! ([`access::Reader`] for the viewer's [`obc_store::Scope`], which every query ANDs into its
//! WHERE clause; role handles for role-wide reads; [`access::Writer`] from a write
//! capability). Records outside the scope answer 404, exactly like records that do not exist,
//! so ids cannot be probed.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod charts;
pub mod contracts;
pub mod design;
mod error;
pub mod exhibit;
pub mod export;
mod figures;
mod format;
pub mod layout;
pub mod listing;
pub mod monitoring;
pub mod openapi;
mod schemas;
pub mod statements;
pub mod students;
mod upload;
pub mod uploads;

use access::{Allowed, Effect, RouteSpec};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::FutureExt;
use obc_store::{Store, StoreError};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    /// The store and its drafts (draft statements and progress, stored and kept in memory so
    /// that a page does not recompute them), opened only by the handles of [`access`]: a
    /// handler reaches data through a handle a check produced, never the raw store.
    pub(crate) store: access::RawStore,
    pub limiter: Arc<auth::LoginLimiter>,
    /// Figures derived from whole statements, computed once per statement.
    pub(crate) figures: Arc<figures::Figures>,
    /// The statement page's sorted orders and search index, kept per statement like the
    /// figures; the progress and students lists', per progress report.
    pub(crate) statement_lists: Arc<figures::PerArc<obc_core::Statement, listing::Kept>>,
    pub(crate) progress_lists: Arc<figures::PerArc<obc_core::progress::Progress, listing::Kept>>,
    /// Mark cookies `Secure` (HTTPS only). Browsers treat `localhost` as secure too.
    pub secure_cookies: bool,
    /// Refresh the drafts in the background after an import or a finalization ([`serve`]
    /// turns it on; in-process tests leave it off, so no task of theirs holds a write lock).
    pub refresh_drafts_in_background: bool,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState {
            store: access::RawStore::new(store),
            limiter: Arc::default(),
            figures: Arc::default(),
            statement_lists: Arc::default(),
            progress_lists: Arc::default(),
            secure_cookies: true,
            refresh_drafts_in_background: false,
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
    /// A failure that is ours, not the client's: logged in full, answered without details (a
    /// database's error text can name tables, paths and values).
    pub fn internal(error: &dyn std::fmt::Display) -> WebError {
        tracing::error!(error = %error, "internal error");
        WebError::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR_MESSAGE)
    }
}

/// What a client is told of a failure that is ours.
pub const INTERNAL_ERROR_MESSAGE: &str =
    "the server hit an internal error, which was logged: try again, or tell the administrator";

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => WebError::new(StatusCode::NOT_FOUND, m),
            StoreError::Conflict(m) => WebError::new(StatusCode::CONFLICT, m),
            e @ StoreError::Busy(_) => {
                WebError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            e => WebError::internal(&e),
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
        let mut response = layout::render(&layout::ErrorPage {
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

/// The routes of sign-in, the stylesheet and the design tools (the features list their own).
const PAGE_ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/login",
        allowed: Allowed::Anyone,
        effect: Effect::Reads,
        handler: || get(auth::login_page),
    },
    RouteSpec {
        method: "POST",
        path: "/login",
        allowed: Allowed::Anyone,
        effect: Effect::OwnAccount,
        handler: || post(auth::login),
    },
    RouteSpec {
        method: "POST",
        path: "/logout",
        allowed: access::SIGNED_IN,
        effect: Effect::OwnAccount,
        handler: || post(auth::logout),
    },
    RouteSpec {
        method: "GET",
        path: "/style.css",
        allowed: Allowed::Anyone,
        effect: Effect::Reads,
        handler: || get(layout::stylesheet),
    },
    RouteSpec {
        method: "GET",
        path: "/design",
        allowed: access::DESIGNERS,
        effect: Effect::Reads,
        handler: || get(design::design_page),
    },
    RouteSpec {
        method: "POST",
        path: "/design",
        allowed: access::DESIGNERS,
        effect: Effect::Reads,
        handler: || post(design::review),
    },
    RouteSpec {
        method: "POST",
        path: "/design/exhibit",
        allowed: access::DESIGNERS,
        effect: Effect::Reads,
        handler: || post(design::exhibit),
    },
    RouteSpec {
        method: "GET",
        path: "/design/target",
        allowed: access::DESIGNERS,
        effect: Effect::Reads,
        handler: || get(design::target),
    },
    RouteSpec {
        method: "GET",
        path: "/design/target/enrollment.csv",
        allowed: access::DESIGNERS,
        effect: Effect::Reads,
        handler: || get(design::target_csv),
    },
];

/// Every route of the app, the table [`router`] is built from.
pub fn route_table() -> Vec<&'static RouteSpec> {
    [
        PAGE_ROUTES,
        contracts::ROUTES,
        accounts::ROUTES,
        audit::ROUTES,
        openapi::ROUTES,
        monitoring::ROUTES,
        export::ROUTES,
        statements::ROUTES,
        statements::review::ROUTES,
        students::ROUTES,
        uploads::ROUTES,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every route of the app, from [`route_table`], each behind its access check.
pub fn router(state: AppState) -> Router {
    let routes = access::build(&state, &route_table())
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .with_state(state);
    guarded(routes)
}

/// The largest request body of a signed-in user (an upload).
pub const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;
/// The largest request body of anyone not signed in (the sign-in form is far smaller).
pub const ANONYMOUS_BODY_BYTES: usize = 16 * 1024;

/// What a browser may load on our pages: our stylesheet, our forms, inline SVG; no scripts, no
/// frames, nothing from elsewhere.
const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The layers every request passes: security headers on every answer, panics answered with
/// the error page, bodies of anonymous requests bounded, and every request logged.
fn guarded(routes: Router) -> Router {
    routes
        .layer(middleware::from_fn(limit_anonymous_bodies))
        .layer(middleware::from_fn(catch_panics))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(log_requests))
}

/// One structured log event per request: method, path (never the query, which may hold a
/// searched name), status and milliseconds.
async fn log_requests(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    if status >= 500 {
        tracing::warn!(%method, path, status, ms, "request");
    } else {
        tracing::info!(%method, path, status, ms, "request");
    }
    response
}

/// Logs to standard error as `tracing` events, at the level `OBC_LOG` names (`error`, `warn`,
/// `info`: the default, `debug`, `trace`).
pub fn init_logging() {
    let level = std::env::var("OBC_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing_subscriber::filter::LevelFilter>().ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    // A second call (tests start several servers in one process) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Adds the security headers to every response. Everything but the stylesheet may hold
/// student data or a form token, so nothing else is stored by browsers or proxies.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE),
        (X_FRAME_OPTIONS, "DENY"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Answers a handler's panic with the error page (500) and logs it, instead of dropping the
/// connection.
async fn catch_panics(request: Request, next: Next) -> Response {
    let route = format!("{} {}", request.method(), request.uri().path());
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            WebError::internal(&format_args!("{route} panicked: {what}")).into_response()
        }
    }
}

/// Reads the body of a request with no credentials (and of every sign-in) only up to
/// [`ANONYMOUS_BODY_BYTES`]: a stranger cannot make the server buffer a large body.
async fn limit_anonymous_bodies(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let signed_in = headers.contains_key(AUTHORIZATION)
        || auth::cookie(headers, auth::SESSION_COOKIE).is_some();
    if signed_in && request.uri().path() != "/login" {
        return next.run(request).await;
    }
    let too_large = || {
        WebError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "a request before signing in may have at most {} KiB",
                ANONYMOUS_BODY_BYTES / 1024
            ),
        )
        .into_response()
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > ANONYMOUS_BODY_BYTES as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, ANONYMOUS_BODY_BYTES).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(),
    }
}

/// Serves the app until the process is stopped.
pub async fn serve(mut state: AppState, listen: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    state.refresh_drafts_in_background = true;
    if let Err(e) = state.refresh_drafts().await {
        eprintln!("note: the stored drafts were not refreshed at start: {e}");
    }
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
        let api = error::ApiError::from(busy()).into_response();
        for response in [page, api] {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                response.headers().get(axum::http::header::RETRY_AFTER),
                Some(&axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS))
            );
        }
        let damaged = WebError::from(StoreError::Corrupt("table statements: x".into()));
        assert_eq!(damaged.message, INTERNAL_ERROR_MESSAGE, "no database text");
        let damaged = damaged.into_response();
        assert_eq!(damaged.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(damaged
            .headers()
            .get(axum::http::header::RETRY_AFTER)
            .is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    async fn send(router: Router, request: Request) -> Response {
        router.oneshot(request).await.expect("the router answers")
    }

    fn panicking() -> Router {
        guarded(Router::new().route(
            "/boom",
            get(|| async {
                if true {
                    panic!("a bug in a handler");
                }
                "unreachable"
            }),
        ))
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_error_page_with_500() {
        let response = send(
            panicking(),
            Request::get("/boom").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[X_FRAME_OPTIONS], "DENY");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let html = String::from_utf8_lossy(&body);
        assert!(html.contains("Something went wrong"), "{html}");
        assert!(html.contains("internal error"), "{html}");
        assert!(!html.contains("a bug in a handler"), "{html}");
    }

    #[tokio::test]
    async fn anonymous_bodies_are_refused_past_16_kib_even_without_a_length() {
        let router =
            guarded(Router::new().route("/echo", post(|body: String| async move { body })));
        let big = vec![b'x'; ANONYMOUS_BODY_BYTES + 1];
        // Declared too large: refused before reading.
        let declared = Request::post("/echo")
            .header(CONTENT_LENGTH, big.len())
            .body(Body::from(big.clone()))
            .unwrap();
        assert_eq!(
            send(router.clone(), declared).await.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        // Streamed with no length: refused once the limit is passed.
        let chunks = futures_util::stream::iter(
            big.chunks(1024)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        );
        let streamed = Request::post("/echo")
            .body(Body::from_stream(chunks))
            .unwrap();
        assert_eq!(
            send(router.clone(), streamed).await.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        // A small body passes.
        let small = Request::post("/echo").body(Body::from("hello")).unwrap();
        assert_eq!(send(router, small).await.status(), StatusCode::OK);
    }
}

/// The module graph of this crate stays acyclic (docs/ARCHITECTURE.md, `crates/web`): features
/// and shared modules import only shared modules, never a feature nor the assembly, which only
/// the crate root imports. Read from the sources' `crate::` paths, so a new cycle or a feature
/// reaching into another fails here, not in review.
#[cfg(test)]
mod module_graph_tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// The modules every feature may use; they import no feature. Any other module but the
    /// assembly is a feature.
    const SHARED: &[&str] = &[
        "access", "auth", "charts", "error", "exhibit", "figures", "format", "layout", "listing",
        "schemas", "upload",
    ];
    /// Assembles the features' parts; only the crate root (`lib.rs`) may import it.
    const ASSEMBLY: &str = "openapi";

    /// Every `.rs` file under `dir` with the top module it belongs to (`statements/table.rs`
    /// is part of `statements`).
    fn sources(dir: &Path, top: Option<&str>, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let module = top.unwrap_or(stem).to_string();
            if path.is_dir() {
                sources(&path, Some(&module), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((
                    module,
                    std::fs::read_to_string(&path).expect("a source file"),
                ));
            }
        }
    }

    /// The first name of each path after `crate::` in `code` (`crate::{a, b::c}` gives a
    /// and b), comment lines left out: a doc link is not an import.
    fn crate_references(code: &str) -> BTreeSet<String> {
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let ident = |s: &str| -> String {
            s.trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        let mut names = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let Some(group) = rest.strip_prefix('{') else {
                names.insert(ident(rest));
                continue;
            };
            let (mut depth, mut item_start) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.insert(ident(&group[item_start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(ident(&group[item_start..i]));
                        item_start = i + 1;
                    }
                    _ => {}
                }
            }
        }
        names
    }

    /// Which module imports which, the crate root left out.
    fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            None,
            &mut files,
        );
        let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, code) in files.iter().filter(|(m, _)| m != "lib") {
            let edges = graph.entry(module.clone()).or_default();
            for name in crate_references(code) {
                if modules.contains(&name) && name != *module && name != "lib" {
                    edges.insert(name);
                }
            }
        }
        graph
    }

    /// A cycle through `at`, if the walk from it finds one (`path` is the walk so far).
    fn cycle_from(
        graph: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            let mut cycle = path[start..].to_vec();
            cycle.push(at.to_string());
            return Some(cycle);
        }
        if !done.insert(at.to_string()) {
            return None;
        }
        path.push(at.to_string());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(cycle) = cycle_from(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }

    #[test]
    fn references_are_read_from_paths_and_groups() {
        let code = "use crate::a::X;\nuse crate::{b::{self, Y}, c,\n  d};\n// [`crate::e`]\nlet _ = crate::f::g();";
        let names: Vec<_> = crate_references(code).into_iter().collect();
        assert_eq!(names, ["a", "b", "c", "d", "f"]);
    }

    #[test]
    fn modules_import_only_shared_modules_without_a_cycle() {
        let graph = module_graph();
        assert!(
            graph.contains_key("contracts") && graph.contains_key("layout"),
            "{graph:?}"
        );
        let mut done = BTreeSet::new();
        for module in graph.keys() {
            let cycle = cycle_from(&graph, module, &mut Vec::new(), &mut done);
            assert!(
                cycle.is_none(),
                "import cycle: {}",
                cycle.unwrap().join(" -> ")
            );
        }
        for (module, edges) in graph.iter().filter(|(m, _)| *m != ASSEMBLY) {
            let features: Vec<_> = edges
                .iter()
                .filter(|m| !SHARED.contains(&m.as_str()))
                .collect();
            assert!(
                features.is_empty(),
                "{module} imports {features:?}: a module imports only shared modules"
            );
        }
    }
}
