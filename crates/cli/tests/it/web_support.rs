//! The web app's test harness. One fixture database is built once per test run through the real
//! `obc` binary: the demo district (`obc demo`), a second district with its own contract and
//! provider (the worked example: dist-mesa, brightpath), a login per role and an API token per
//! user. Each test copies it into its own directory and serves it in-process: requests go
//! straight to `obc_web::router`, no socket.

use crate::support::{example, Obc, BASELINE_CONTRACT};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use obc_store::Store;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;
use tower::ServiceExt;

pub const DEMO_CONTRACT: &str = "demo-math-2025";
pub const DEMO_DISTRICT: &str = "demo-district";
pub const DEMO_PROVIDER: &str = "demo-tutoring";
pub const MESA_CONTRACT: &str = BASELINE_CONTRACT;
pub const MESA_DISTRICT: &str = "dist-mesa";
pub const MESA_PROVIDER: &str = "brightpath";

/// Who makes a request: nobody, or one of the fixture's users.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Who {
    Anon,
    Admin,
    Auditor,
    /// District staff of the demo district.
    District,
    /// Provider staff of the demo's provider.
    Provider,
    /// District staff of dist-mesa.
    Mesa,
    /// Provider staff of brightpath (dist-mesa's provider).
    Brightpath,
}

impl Who {
    pub const ALL: [Who; 7] = [
        Who::Anon,
        Who::Admin,
        Who::Auditor,
        Who::District,
        Who::Provider,
        Who::Mesa,
        Who::Brightpath,
    ];

    pub const USERS: [Who; 6] = [
        Who::Admin,
        Who::Auditor,
        Who::District,
        Who::Provider,
        Who::Mesa,
        Who::Brightpath,
    ];

    pub fn username(self) -> &'static str {
        match self {
            Who::Anon => "nobody",
            Who::Admin => "admin",
            Who::Auditor => "auditor",
            Who::District => "district",
            Who::Provider => "provider",
            Who::Mesa => "mesa",
            Who::Brightpath => "brightpath",
        }
    }

    pub fn password(self) -> String {
        format!("{}-password", self.username())
    }

    /// `obc user add` role and organisation.
    fn role_org(self) -> (&'static str, Option<&'static str>) {
        match self {
            Who::Anon => unreachable!("anonymous has no account"),
            Who::Admin => ("admin", None),
            Who::Auditor => ("auditor", None),
            Who::District => ("district", Some(DEMO_DISTRICT)),
            Who::Provider => ("provider", Some(DEMO_PROVIDER)),
            Who::Mesa => ("district", Some(MESA_DISTRICT)),
            Who::Brightpath => ("provider", Some(MESA_PROVIDER)),
        }
    }

    /// A column heading of the access matrix.
    pub fn label(self) -> &'static str {
        match self {
            Who::Anon => "anon",
            Who::Admin => "admin",
            Who::Auditor => "auditor",
            Who::District => "demo-dist",
            Who::Provider => "demo-prov",
            Who::Mesa => "mesa-dist",
            Who::Brightpath => "bright-prov",
        }
    }

    /// Whether this user's own data is the second district's (dist-mesa, brightpath).
    pub fn is_mesa_side(self) -> bool {
        matches!(self, Who::Mesa | Who::Brightpath)
    }
}

/// The fixture as built once: the database's bytes and each user's API token.
struct Template {
    db: Vec<u8>,
    wal: Option<Vec<u8>>,
    tokens: BTreeMap<Who, String>,
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(build_template)
}

fn build_template() -> Template {
    let started = std::time::Instant::now();
    let obc = Obc::new();
    let tokens = build_fixture(&obc);
    let db = std::fs::read(obc.path("obc.db")).expect("the fixture database");
    let wal = std::fs::read(obc.path("obc.db-wal")).ok();
    eprintln!(
        "web fixture built in {:.1}s ({} bytes)",
        started.elapsed().as_secs_f64(),
        db.len()
    );
    Template { db, wal, tokens }
}

/// Builds the fixture in `obc`'s database through the `obc` binary; returns each user's API
/// token.
fn build_fixture(obc: &Obc) -> BTreeMap<Who, String> {
    obc.ok(&["demo"]);
    obc.ok(&["import", "roster", &example("roster")]);
    obc.ok(&[
        "import",
        "assessments",
        &example("AssessmentResults.csv"),
        "--district",
        MESA_DISTRICT,
    ]);
    obc.ok(&[
        "import",
        "sessions",
        &example("sessions.csv"),
        "--provider",
        MESA_PROVIDER,
    ]);
    obc.ok(&["contract", "add", &example("contract.toml")]);
    obc.ok(&[
        "enroll",
        "--contract",
        MESA_CONTRACT,
        &example("enrollment.csv"),
    ]);
    let mut tokens = BTreeMap::new();
    for who in Who::USERS {
        let (role, org) = who.role_org();
        let mut args = vec!["user", "add", who.username(), "--role", role];
        if let Some(org) = org {
            args.extend(["--org", org]);
        }
        let output = obc
            .command(&args)
            .env("OBC_PASSWORD", who.password())
            .output()
            .expect("run obc user add");
        assert!(
            output.status.success(),
            "obc {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        let token = obc.ok(&["user", "token", who.username()]);
        tokens.insert(who, token.trim().to_string());
    }
    tokens
}

/// The fixture built once on PostgreSQL: its database's URL (copied for each test) and the
/// users' API tokens.
fn postgres_template(server: &str) -> &'static (String, BTreeMap<Who, String>) {
    static TEMPLATE: OnceLock<(String, BTreeMap<Who, String>)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let started = std::time::Instant::now();
        let url = std::thread::scope(|s| {
            s.spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime")
                    .block_on(obc_store::create_test_database(server))
                    .expect("create the PostgreSQL fixture database")
            })
            .join()
            .expect("create the PostgreSQL fixture database")
        });
        let tokens = build_fixture(&Obc::with_db(&url));
        eprintln!(
            "web fixture built on PostgreSQL in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        (url, tokens)
    })
}

/// Student ids of the fixture, read from its database.
#[derive(Clone, Debug)]
pub struct Ids {
    /// Enrolled in the demo contract.
    pub demo_enrolled: String,
    /// In the demo district's roster, in no contract.
    pub demo_unenrolled: String,
    /// Enrolled in the dist-mesa contract.
    pub mesa_enrolled: String,
    /// In dist-mesa's roster, in no contract.
    pub mesa_unenrolled: String,
}

async fn ids(store: &Store) -> Ids {
    let mut out = Vec::new();
    for (district, contract) in [
        (DEMO_DISTRICT, DEMO_CONTRACT),
        (MESA_DISTRICT, MESA_CONTRACT),
    ] {
        let enrolled: Vec<String> = store
            .enrollments(contract)
            .await
            .expect("enrollments")
            .into_iter()
            .map(|e| e.student_id)
            .collect();
        let mut students: Vec<String> = store
            .students(district)
            .await
            .expect("students")
            .into_keys()
            .collect();
        // Numeric SIS ids first (dist-mesa's roster has a few UUIDs): 2000000 is the first.
        students.sort_by_key(|s| (!s.chars().all(|c| c.is_ascii_digit()), s.clone()));
        let first_enrolled = students
            .iter()
            .find(|s| enrolled.contains(s))
            .expect("an enrolled student")
            .clone();
        let first_unenrolled = students
            .iter()
            .find(|s| !enrolled.contains(s))
            .expect("a student in no contract")
            .clone();
        out.push((first_enrolled, first_unenrolled));
    }
    let (mesa_enrolled, mesa_unenrolled) = out.pop().expect("mesa");
    let (demo_enrolled, demo_unenrolled) = out.pop().expect("demo");
    Ids {
        demo_enrolled,
        demo_unenrolled,
        mesa_enrolled,
        mesa_unenrolled,
    }
}

/// One test's web app: its own copy of the fixture database, served in-process.
pub struct WebApp {
    /// The test's directory; `obc` commands run on the same database.
    pub obc: Obc,
    pub store: Store,
    router: axum::Router,
    pub ids: Ids,
    tokens: &'static BTreeMap<Who, String>,
}

impl WebApp {
    pub async fn new() -> WebApp {
        let template = template();
        let obc = Obc::new();
        std::fs::write(obc.path("obc.db"), &template.db).expect("copy the fixture");
        if let Some(wal) = &template.wal {
            std::fs::write(obc.path("obc.db-wal"), wal).expect("copy the fixture's WAL");
        }
        let path = obc.path("obc.db");
        let store = Store::open(path.to_str().expect("UTF-8 path"), false)
            .await
            .expect("open the fixture");
        WebApp::serve(obc, store, &template.tokens).await
    }

    /// The app on its own copy of the fixture on the PostgreSQL server of `server` (a URL).
    pub async fn on_postgres(server: &str) -> WebApp {
        let (template, tokens) = postgres_template(server);
        let url = obc_store::copy_test_database(server, template)
            .await
            .expect("copy the PostgreSQL fixture");
        let store = Store::open(&url, false)
            .await
            .expect("open the PostgreSQL fixture");
        WebApp::serve(Obc::with_db(&url), store, tokens).await
    }

    async fn serve(obc: Obc, store: Store, tokens: &'static BTreeMap<Who, String>) -> WebApp {
        let router = obc_web::router(obc_web::AppState::new(store.clone()));
        let ids = ids(&store).await;
        WebApp {
            obc,
            store,
            router,
            ids,
            tokens,
        }
    }

    /// The app as a new server process on the same database would serve it: nothing kept in
    /// memory (stored drafts are read back from the database).
    pub fn restart(&mut self) {
        self.router = obc_web::router(obc_web::AppState::new(self.store.clone()));
    }

    /// The API token of a user (`obc user token`).
    pub fn token(&self, who: Who) -> &str {
        &self.tokens[&who]
    }

    /// Sends a request to the app.
    pub async fn send(&self, req: Req) -> Resp {
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(req.path.as_str());
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let request = builder.body(Body::from(req.body)).expect("a request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body")
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// The sign-in form's token and the cookie that goes with it.
    pub async fn login_form(&self) -> (String, String) {
        let page = self.send(Req::get("/login")).await;
        assert_eq!(page.status, StatusCode::OK, "GET /login");
        let cookie = page
            .set_cookie("obc_login_csrf")
            .expect("GET /login sets obc_login_csrf");
        let html = page.text();
        let field = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the login form has a csrf field")
            .to_string();
        assert_eq!(field, cookie, "the form's token is the cookie's");
        (cookie, field)
    }

    /// POST /login with a fresh form token.
    pub async fn post_login(&self, username: &str, password: &str) -> Resp {
        self.post_login_with(username, password, "").await
    }

    /// POST /login with a fresh form token and another cookie (e.g. the browser's device
    /// cookie, `obc_device=...`).
    pub async fn post_login_with(&self, username: &str, password: &str, cookie: &str) -> Resp {
        let (form_cookie, csrf) = self.login_form().await;
        let mut req = Req::post("/login").cookie(&format!("obc_login_csrf={form_cookie}"));
        if !cookie.is_empty() {
            req = req.cookie(cookie);
        }
        self.send(req.form(&[
            ("username", username),
            ("password", password),
            ("csrf", &csrf),
        ]))
        .await
    }

    /// Signs a user in through the login form; anonymous gets an empty session.
    pub async fn login(&self, who: Who) -> Session {
        if who == Who::Anon {
            return Session {
                who,
                cookie: None,
                csrf: "no-session-no-token".into(),
                token: "not-a-token".into(),
            };
        }
        let response = self.post_login(who.username(), &who.password()).await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "login of {}: {}",
            who.username(),
            response.text()
        );
        assert_eq!(response.location(), Some("/"));
        let cookie = response
            .set_cookie("obc_session")
            .expect("login sets obc_session");
        let me = self
            .send(Req::get("/api/me").cookie(&format!("obc_session={cookie}")))
            .await;
        assert_eq!(me.status, StatusCode::OK, "/api/me: {}", me.text());
        let me = me.json();
        assert_eq!(me["username"], who.username());
        let csrf = me["csrf_token"]
            .as_str()
            .expect("a CSRF token for cookie sessions")
            .to_string();
        Session {
            who,
            cookie: Some(format!("obc_session={cookie}")),
            csrf,
            token: self.token(who).to_string(),
        }
    }

    /// Runs `obc ARGS` on this test's database.
    pub fn cli(&self, args: &[&str]) -> String {
        self.obc.ok(args)
    }

    /// The audit log's actions by an actor.
    pub async fn audit_actions(&self, actor: &str) -> Vec<(String, String, String)> {
        self.store
            .audit_log()
            .await
            .expect("audit log")
            .into_iter()
            .filter(|(_, a, _, _, _)| a == actor)
            .map(|(_, _, action, record, detail)| (action, record, detail))
            .collect()
    }
}

/// A signed-in user (or anonymous): the session cookie, its CSRF token and the user's API token.
#[derive(Clone, Debug)]
pub struct Session {
    pub who: Who,
    pub cookie: Option<String>,
    pub csrf: String,
    pub token: String,
}

impl Session {
    /// The request with this session's cookie.
    pub fn with_cookie(&self, req: Req) -> Req {
        match &self.cookie {
            Some(c) => req.cookie(c),
            None => req,
        }
    }

    /// The request with this user's API token.
    pub fn with_token(&self, req: Req) -> Req {
        req.header("authorization", &format!("Bearer {}", self.token))
    }
}

/// A request under construction.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

const BOUNDARY: &str = "obc-test-boundary-5f2a9c";

impl Req {
    pub fn new(method: Method, path: &str) -> Req {
        Req {
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(path: &str) -> Req {
        Req::new(Method::GET, path)
    }

    pub fn post(path: &str) -> Req {
        Req::new(Method::POST, path)
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn cookie(self, cookie: &str) -> Req {
        self.header("cookie", cookie)
    }

    /// An `application/x-www-form-urlencoded` body.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Req {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.body = body.into_bytes();
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// A `multipart/form-data` body: text fields, then the file as field `file`.
    pub fn multipart(mut self, fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> Req {
        let mut body = Vec::new();
        for (name, value) in fields {
            write!(
                body,
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .expect("write to a Vec");
        }
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .expect("write to a Vec");
        body.extend_from_slice(file);
        write!(body, "\r\n--{BOUNDARY}--\r\n").expect("write to a Vec");
        self.body = body;
        self.header(
            "content-type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
    }

    /// A raw body with its content type.
    pub fn body(mut self, content_type: &str, body: &[u8]) -> Req {
        self.body = body.to_vec();
        self.header("content-type", content_type)
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A response, read in full.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The value a `Set-Cookie` header gives the cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// A short excerpt of the body, for failure messages.
    pub fn excerpt(&self) -> String {
        let text = self.text();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        text.chars().take(300).collect()
    }
}

/// Text as askama escapes it in pages.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&#38;"),
            '<' => out.push_str("&#60;"),
            '>' => out.push_str("&#62;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The worked example's roster folder as a zip archive (a OneRoster export of dist-mesa).
pub fn mesa_roster_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut files: Vec<_> = std::fs::read_dir(example("roster"))
        .expect("the example roster")
        .map(|e| e.expect("roster entry").path())
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(&std::fs::read(&path).expect("roster file"))
            .expect("zip write");
    }
    zip.finish().expect("zip finish").into_inner()
}

/// The worked example's contract document.
pub fn mesa_contract_toml() -> Vec<u8> {
    std::fs::read(example("contract.toml")).expect("the example contract")
}
