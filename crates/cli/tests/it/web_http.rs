//! HTTP tests of the web app (issue 4): an access matrix of every role against every route,
//! pages and API, then one test per behaviour of the routes. Requests go to the real router
//! in-process, on a copy of a fixture built through the `obc` binary (see `web_support`).

use crate::support::Table;
use crate::web_support::*;
use axum::http::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// The access matrix
// ---------------------------------------------------------------------------------------------

/// What a cell of the matrix expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum E {
    /// This status (an API refusal must also be a JSON `{"error": ...}`).
    Status(u16),
    /// 303 See Other to this location.
    See(&'static str),
    /// A page refused to an anonymous visitor: 303 to /login.
    Login,
    /// An API call refused to an anonymous caller: 401 with a JSON error, never a redirect.
    Unauth,
}

const OK: E = E::Status(200);
const FORB: E = E::Status(403);
const NF: E = E::Status(404);
const LOGIN: E = E::Login;
const UNAUTH: E = E::Unauth;

impl E {
    fn short(self) -> String {
        match self {
            E::Status(s) => s.to_string(),
            E::See(to) => format!("303>{to}"),
            E::Login => "303>/login".into(),
            E::Unauth => "401".into(),
        }
    }
}

/// How a probe authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// A page, with the session cookie (forms carry the CSRF token themselves).
    Page,
    /// The API with the session cookie (POSTs carry X-CSRF-Token themselves).
    Api,
    /// The API with `Authorization: Bearer` (anonymous sends a token that does not exist).
    Bearer,
}

type Make = Arc<dyn Fn(&Session) -> Req + Send + Sync>;

/// One row of the matrix: a request, made for each user, and what each user must get.
struct Probe {
    method: &'static str,
    /// The router's pattern this request exercises.
    route: &'static str,
    what: String,
    via: Via,
    make: Make,
    /// In the order of `Who::ALL`: anon, admin, auditor, demo district, demo provider,
    /// dist-mesa district, brightpath provider.
    expect: [E; 7],
}

fn probe(
    method: &'static str,
    route: &'static str,
    what: impl Into<String>,
    via: Via,
    make: impl Fn(&Session) -> Req + Send + Sync + 'static,
    expect: [E; 7],
) -> Probe {
    Probe {
        method,
        route,
        what: what.into(),
        via,
        make: Arc::new(make),
        expect,
    }
}

fn get(route: &'static str, path: String, via: Via, expect: [E; 7]) -> Probe {
    let what = path.clone();
    probe("GET", route, what, via, move |_| Req::get(&path), expect)
}

/// A session log with one session of the user's "own" enrolled student (the demo's for the
/// admin and the demo's users, dist-mesa's for its users).
pub(crate) fn own_sessions(ids: &Ids, who: Who, session_id: &str) -> Vec<u8> {
    let student = if who.is_mesa_side() {
        &ids.mesa_enrolled
    } else {
        &ids.demo_enrolled
    };
    format!(
        "session_id,student_id,tutor_id,date,minutes,status\n{session_id},{student},T-web,2025-04-01,30,attended\n"
    )
    .into_bytes()
}

/// A plain roster with one new student of the user's "own" district.
fn own_roster(who: Who) -> Vec<u8> {
    let (id, school) = if who.is_mesa_side() {
        ("9990002", "sch-001")
    } else {
        ("9990001", "sch-lincoln")
    };
    format!("student_id,school_id,grade,first_name,last_name\n{id},{school},6,Web,Tester\n")
        .into_bytes()
}

/// A generic assessment file with one reading score of a student of the user's own district
/// (in no contract, so no statement changes).
fn own_assessments(ids: &Ids, who: Who) -> Vec<u8> {
    let student = if who.is_mesa_side() {
        &ids.mesa_unenrolled
    } else {
        &ids.demo_unenrolled
    };
    format!(
        "student_id,assessment,subject,term,date,score\n{student},Screener,Reading,Fall 2024-2025,2024-09-10,200\n"
    )
    .into_bytes()
}

/// A school attendance file with one day of a student of the user's own district (in no
/// contract, so no session is flagged).
fn own_attendance(ids: &Ids, who: Who) -> Vec<u8> {
    let student = if who.is_mesa_side() {
        &ids.mesa_unenrolled
    } else {
        &ids.demo_unenrolled
    };
    format!("student_id,date,present\n{student},2024-09-10,absent\n").into_bytes()
}

/// The organisation an admin names on uploads (staff never need to).
fn admin_org(who: Who, org: &'static str) -> Vec<(&'static str, &'static str)> {
    if who == Who::Admin {
        vec![("org", org)]
    } else {
        Vec::new()
    }
}

fn admin_org_query(who: Who, org: &str) -> String {
    if who == Who::Admin {
        format!("&org={org}")
    } else {
        String::new()
    }
}

/// A multipart upload form with the session's CSRF token and the admin's organisation.
fn upload_form(s: &Session, kind: &str, org: &'static str, file_name: &str, bytes: &[u8]) -> Req {
    let mut fields = vec![("csrf", s.csrf.as_str())];
    fields.extend(admin_org(s.who, org));
    Req::post(&format!("/upload/{kind}")).multipart(&fields, file_name, bytes)
}

pub(crate) fn api_post(s: &Session, path: &str, content_type: &str, body: &[u8]) -> Req {
    Req::post(path)
        .header("x-csrf-token", &s.csrf)
        .body(content_type, body)
}

/// Every route of the web app's route table (`obc_web::route_table`), for every user. Probes run in this
/// order, each for every user in `Who::ALL` order; the few that change data are harmless to
/// the ones after them, and logging out comes last.
fn probes(ids: &Ids, meeting: i64) -> Vec<Probe> {
    use Via::{Api, Bearer, Page};
    let d = DEMO_CONTRACT;
    let m = MESA_CONTRACT;
    let (de, du, me, mu) = (
        ids.demo_enrolled.clone(),
        ids.demo_unenrolled.clone(),
        ids.mesa_enrolled.clone(),
        ids.mesa_unenrolled.clone(),
    );
    let zip = Arc::new(mesa_roster_zip());
    let toml = Arc::new(mesa_contract_toml());
    let mut p = Vec::new();

    // -- Sign-in ------------------------------------------------------------------------------
    p.push(get("/login", "/login".into(), Page, [OK; 7]));
    // (POST /login needs a fresh form token: see `run_probe`.)
    p.push(probe(
        "POST",
        "/login",
        "/login (own credentials; anon: unknown user)",
        Page,
        |_| Req::post("/login"),
        [
            E::Status(401),
            E::See("/"),
            E::See("/"),
            E::See("/"),
            E::See("/"),
            E::See("/"),
            E::See("/"),
        ],
    ));

    // -- Pages --------------------------------------------------------------------------------
    p.push(get("/", "/".into(), Page, [LOGIN, OK, OK, OK, OK, OK, OK]));
    let demo_only = [LOGIN, OK, OK, OK, OK, NF, NF];
    let mesa_only = [LOGIN, OK, OK, NF, NF, OK, OK];
    let nobody = [LOGIN, NF, NF, NF, NF, NF, NF];
    p.push(get(
        "/contracts/{id}",
        format!("/contracts/{d}"),
        Page,
        demo_only,
    ));
    p.push(get(
        "/contracts/{id}",
        format!("/contracts/{m}"),
        Page,
        mesa_only,
    ));
    p.push(get(
        "/contracts/{id}",
        "/contracts/no-such-contract".into(),
        Page,
        nobody,
    ));
    let st = "/contracts/{id}/statements/{milestone}";
    p.push(get(
        st,
        format!("/contracts/{d}/statements/final"),
        Page,
        demo_only,
    ));
    p.push(get(
        st,
        format!("/contracts/{m}/statements/midyear?as_of=2025-01-31"),
        Page,
        mesa_only,
    ));
    p.push(get(
        st,
        format!("/contracts/{m}/statements/final"),
        Page,
        mesa_only,
    ));
    p.push(get(
        st,
        format!("/contracts/{d}/statements/no-such-milestone"),
        Page,
        nobody,
    ));
    let dl = "/contracts/{id}/statements/{milestone}/download";
    p.push(get(
        dl,
        format!("/contracts/{d}/statements/midyear/download?format=csv"),
        Page,
        demo_only,
    ));
    p.push(get(
        dl,
        format!("/contracts/{m}/statements/final/download?format=json"),
        Page,
        mesa_only,
    ));
    p.push(get(
        dl,
        format!("/contracts/{m}/statements/final/download?format=xml"),
        Page,
        [
            LOGIN,
            E::Status(400),
            E::Status(400),
            NF,
            NF,
            E::Status(400),
            E::Status(400),
        ],
    ));
    // The filed statement and the INDIGO document (issue 13): read like the contract.
    let print = "/contracts/{id}/statements/{milestone}/print";
    p.push(get(
        print,
        format!("/contracts/{d}/statements/midyear/print"),
        Page,
        demo_only,
    ));
    p.push(get(
        print,
        format!("/contracts/{m}/statements/final/print?as_of=2025-06-30"),
        Page,
        mesa_only,
    ));
    p.push(get(
        print,
        format!("/contracts/{m}/statements/no-such-milestone/print"),
        Page,
        nobody,
    ));
    let indigo = "/contracts/{id}/indigo.json";
    p.push(get(
        indigo,
        format!("/contracts/{d}/indigo.json"),
        Page,
        demo_only,
    ));
    p.push(get(
        indigo,
        format!("/contracts/{m}/indigo.json"),
        Page,
        mesa_only,
    ));
    let fin = "/contracts/{id}/statements/{milestone}/finalize";
    // The confirmation page: admins only, for a draft of a contract they see.
    p.push(get(
        fin,
        format!("/contracts/{d}/statements/final/finalize"),
        Page,
        [LOGIN, OK, FORB, FORB, FORB, FORB, FORB],
    ));
    p.push(get(
        fin,
        format!("/contracts/{m}/statements/no-such-milestone/finalize"),
        Page,
        [LOGIN, NF, FORB, FORB, FORB, FORB, FORB],
    ));
    p.push(probe(
        "POST",
        fin,
        format!("/contracts/{m}/statements/enrollment/finalize (with CSRF, unconfirmed)"),
        Page,
        move |s| {
            Req::post(&format!("/contracts/{m}/statements/enrollment/finalize"))
                .form(&[("csrf", &s.csrf)])
        },
        [LOGIN, E::Status(400), FORB, FORB, FORB, FORB, FORB],
    ));
    p.push(probe(
        "POST",
        fin,
        format!("/contracts/{m}/statements/enrollment/finalize (with CSRF, confirmed)"),
        Page,
        move |s| {
            Req::post(&format!("/contracts/{m}/statements/enrollment/finalize"))
                .form(&[("csrf", &s.csrf), ("confirm", "yes")])
        },
        [
            LOGIN,
            E::See("/contracts/mesa-math-2025-baseline/statements/enrollment"),
            FORB,
            FORB,
            FORB,
            FORB,
            FORB,
        ],
    ));
    p.push(probe(
        "POST",
        fin,
        format!("/contracts/{d}/statements/final/finalize (no CSRF)"),
        Page,
        move |_| Req::post(&format!("/contracts/{d}/statements/final/finalize")).form(&[]),
        [LOGIN, FORB, FORB, FORB, FORB, FORB, FORB],
    ));
    // A student's explanation on a statement: like the statement; no line, 404.
    let why = "/contracts/{id}/statements/{milestone}/students/{student}";
    p.push(get(
        why,
        format!("/contracts/{d}/statements/final/students/{de}"),
        Page,
        demo_only,
    ));
    p.push(get(
        why,
        format!("/contracts/{m}/statements/final/students/{me}?as_of=2025-06-30"),
        Page,
        mesa_only,
    ));
    p.push(get(
        why,
        format!("/contracts/{d}/statements/final/students/{du}"),
        Page,
        nobody,
    ));
    let stu = "/students/{district}/{student}";
    p.push(get(
        stu,
        format!("/students/{DEMO_DISTRICT}/{de}"),
        Page,
        [LOGIN, OK, FORB, OK, OK, NF, NF],
    ));
    p.push(get(
        stu,
        format!("/students/{DEMO_DISTRICT}/{du}"),
        Page,
        [LOGIN, OK, FORB, OK, NF, NF, NF],
    ));
    p.push(get(
        stu,
        format!("/students/{MESA_DISTRICT}/{me}"),
        Page,
        [LOGIN, OK, FORB, NF, NF, OK, OK],
    ));
    p.push(get(
        stu,
        format!("/students/{MESA_DISTRICT}/{mu}"),
        Page,
        [LOGIN, OK, FORB, NF, NF, OK, NF],
    ));
    // A dist-mesa student id under the demo district's name, and a district that does not exist.
    p.push(get(
        stu,
        format!("/students/{DEMO_DISTRICT}/{me}"),
        Page,
        [LOGIN, NF, FORB, NF, NF, NF, NF],
    ));
    p.push(get(
        stu,
        format!("/students/no-such-district/{de}"),
        Page,
        [LOGIN, NF, FORB, NF, NF, NF, NF],
    ));
    // -- Design (a draft contract; nothing is stored) ------------------------------------------
    let designers = [LOGIN, OK, FORB, OK, FORB, OK, FORB];
    p.push(get("/design", "/design".into(), Page, designers));
    for (route, what) in [
        ("/design", "/design (dist-mesa's contract as a draft)"),
        (
            "/design/exhibit",
            "/design/exhibit (dist-mesa's contract as a draft)",
        ),
    ] {
        let toml = toml.clone();
        p.push(probe(
            "POST",
            route,
            what,
            Page,
            move |s| design_form(s, route, &toml),
            designers,
        ));
    }
    // The target view: one district's students, the viewer's own for district staff.
    for (route, path) in [
        (
            "/design/target",
            target_path("/design/target", MESA_DISTRICT, ""),
        ),
        (
            "/design/target/enrollment.csv",
            target_path(
                "/design/target/enrollment.csv",
                MESA_DISTRICT,
                "&start=2024-09-03",
            ),
        ),
    ] {
        p.push(get(
            route,
            path,
            Page,
            [LOGIN, OK, FORB, NF, FORB, OK, FORB],
        ));
    }
    p.push(get(
        "/upload",
        "/upload".into(),
        Page,
        [LOGIN, OK, FORB, OK, OK, OK, OK],
    ));
    let up = "/upload/{kind}";
    let district_uploads = [LOGIN, OK, FORB, OK, FORB, OK, FORB];
    p.push(probe(
        "POST",
        up,
        "/upload/roster (a plain roster of the user's district)",
        Page,
        |s| upload_form(s, "roster", DEMO_DISTRICT, "roster.csv", &own_roster(s.who)),
        district_uploads,
    ));
    {
        let zip = zip.clone();
        p.push(probe(
            "POST",
            up,
            "/upload/roster (dist-mesa's OneRoster zip)",
            Page,
            move |s| upload_form(s, "roster", MESA_DISTRICT, "roster.zip", &zip),
            [LOGIN, OK, FORB, FORB, FORB, OK, FORB],
        ));
    }
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            up,
            "/upload/assessments (a score of the user's district)",
            Page,
            move |s| {
                upload_form(
                    s,
                    "assessments",
                    DEMO_DISTRICT,
                    "scores.csv",
                    &own_assessments(&ids, s.who),
                )
            },
            district_uploads,
        ));
    }
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            up,
            "/upload/attendance (a school day of the user's district)",
            Page,
            move |s| {
                upload_form(
                    s,
                    "attendance",
                    DEMO_DISTRICT,
                    "attendance.csv",
                    &own_attendance(&ids, s.who),
                )
            },
            district_uploads,
        ));
    }
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            up,
            "/upload/sessions (a session of the user's contract)",
            Page,
            move |s| {
                upload_form(
                    s,
                    "sessions",
                    DEMO_PROVIDER,
                    "sessions.csv",
                    &own_sessions(&ids, s.who, "web-matrix-1"),
                )
            },
            [LOGIN, OK, FORB, FORB, OK, FORB, OK],
        ));
    }
    {
        let toml = toml.clone();
        p.push(probe(
            "POST",
            up,
            "/upload/contract (dist-mesa's contract, unchanged)",
            Page,
            move |s| upload_form(s, "contract", "", "contract.toml", &toml),
            [LOGIN, OK, FORB, FORB, FORB, FORB, FORB],
        ));
    }
    p.push(probe(
        "POST",
        up,
        "/upload/no-such-kind",
        Page,
        |s| upload_form(s, "no-such-kind", "", "x.csv", b"a,b\n"),
        [LOGIN, NF, FORB, NF, NF, NF, NF],
    ));
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            up,
            "/upload/sessions (no CSRF)",
            Page,
            move |s| {
                Req::post("/upload/sessions").multipart(
                    &[],
                    "s.csv",
                    &own_sessions(&ids, s.who, "web-matrix-1"),
                )
            },
            [LOGIN, FORB, FORB, FORB, FORB, FORB, FORB],
        ));
    }
    p.push(get(
        "/audit",
        "/audit".into(),
        Page,
        [LOGIN, OK, OK, FORB, FORB, FORB, FORB],
    ));
    p.push(get(
        "/ledger",
        "/ledger".into(),
        Page,
        [LOGIN, OK, OK, OK, OK, OK, OK],
    ));
    p.push(get("/style.css", "/style.css".into(), Page, [OK; 7]));

    // -- Accounts: own password for everyone, users and tokens for admins -----------------------
    p.push(get(
        "/account",
        "/account".into(),
        Page,
        [LOGIN, OK, OK, OK, OK, OK, OK],
    ));
    p.push(probe(
        "POST",
        "/account/password",
        "/account/password (right current password, confirmation differs)",
        Page,
        |s| {
            Req::post("/account/password").form(&[
                ("csrf", &s.csrf),
                ("current", &s.who.password()),
                ("new", "a-new-password-1"),
                ("confirm", "a-new-password-2"),
            ])
        },
        [
            LOGIN,
            E::Status(422),
            E::Status(422),
            E::Status(422),
            E::Status(422),
            E::Status(422),
            E::Status(422),
        ],
    ));
    p.push(probe(
        "POST",
        "/account/password",
        "/account/password (no CSRF)",
        Page,
        |s| {
            Req::post("/account/password").form(&[
                ("current", &s.who.password()),
                ("new", "a-new-password-1"),
                ("confirm", "a-new-password-1"),
            ])
        },
        [LOGIN, FORB, FORB, FORB, FORB, FORB, FORB],
    ));
    let admin_only = [LOGIN, OK, FORB, FORB, FORB, FORB, FORB];
    let admin_finds_nothing = [LOGIN, NF, FORB, FORB, FORB, FORB, FORB];
    p.push(get("/users", "/users".into(), Page, admin_only));
    for (route, path) in [
        ("/users/{username}/disable", "/users/no-such-user/disable"),
        ("/users/{username}/enable", "/users/no-such-user/enable"),
        ("/tokens/{id}/revoke", "/tokens/000000000000/revoke"),
    ] {
        p.push(probe(
            "POST",
            route,
            format!("{path} (with CSRF)"),
            Page,
            move |s| Req::post(path).form(&[("csrf", &s.csrf)]),
            admin_finds_nothing,
        ));
    }

    // -- API, with the session cookie -------------------------------------------------------
    let api_demo = [UNAUTH, OK, OK, OK, OK, NF, NF];
    let api_mesa = [UNAUTH, OK, OK, NF, NF, OK, OK];
    p.push(get(
        "/api/openapi.json",
        "/api/openapi.json".into(),
        Api,
        [OK; 7],
    ));
    p.push(get(
        "/api/me",
        "/api/me".into(),
        Api,
        [UNAUTH, OK, OK, OK, OK, OK, OK],
    ));
    p.push(get(
        "/api/contracts",
        "/api/contracts".into(),
        Api,
        [UNAUTH, OK, OK, OK, OK, OK, OK],
    ));
    p.push(get(
        "/api/contracts/{id}",
        format!("/api/contracts/{d}"),
        Api,
        api_demo,
    ));
    p.push(get(
        "/api/contracts/{id}",
        format!("/api/contracts/{m}"),
        Api,
        api_mesa,
    ));
    p.push(get(
        "/api/contracts/{id}",
        "/api/contracts/no-such-contract".into(),
        Api,
        [UNAUTH, NF, NF, NF, NF, NF, NF],
    ));
    let aindigo = "/api/contracts/{id}/indigo";
    p.push(get(
        aindigo,
        format!("/api/contracts/{d}/indigo"),
        Api,
        api_demo,
    ));
    p.push(get(
        aindigo,
        format!("/api/contracts/{m}/indigo"),
        Bearer,
        api_mesa,
    ));
    p.push(get(
        aindigo,
        "/api/contracts/no-such-contract/indigo".into(),
        Api,
        [UNAUTH, NF, NF, NF, NF, NF, NF],
    ));
    let ast = "/api/contracts/{id}/statements/{milestone}";
    p.push(get(
        ast,
        format!("/api/contracts/{d}/statements/midyear?format=csv"),
        Api,
        api_demo,
    ));
    p.push(get(
        ast,
        format!("/api/contracts/{m}/statements/final"),
        Api,
        api_mesa,
    ));
    p.push(get(
        ast,
        format!("/api/contracts/{m}/statements/no-such-milestone"),
        Api,
        [UNAUTH, NF, NF, NF, NF, NF, NF],
    ));
    let afin = "/api/contracts/{id}/statements/{milestone}/finalize";
    p.push(probe(
        "POST",
        afin,
        format!("/api/contracts/{m}/statements/midyear/finalize (X-CSRF-Token)"),
        Api,
        move |s| {
            api_post(
                s,
                &format!("/api/contracts/{m}/statements/midyear/finalize"),
                "application/json",
                b"",
            )
        },
        [UNAUTH, OK, FORB, FORB, FORB, FORB, FORB],
    ));
    p.push(probe(
        "POST",
        afin,
        format!("/api/contracts/{d}/statements/final/finalize (no X-CSRF-Token)"),
        Api,
        move |_| Req::post(&format!("/api/contracts/{d}/statements/final/finalize")),
        [UNAUTH, FORB, FORB, FORB, FORB, FORB, FORB],
    ));
    let ast = "/api/students/{district}/{student}";
    p.push(get(
        ast,
        format!("/api/students/{DEMO_DISTRICT}/{de}"),
        Api,
        [UNAUTH, OK, FORB, OK, OK, NF, NF],
    ));
    p.push(get(
        ast,
        format!("/api/students/{DEMO_DISTRICT}/{du}"),
        Api,
        [UNAUTH, OK, FORB, OK, NF, NF, NF],
    ));
    p.push(get(
        ast,
        format!("/api/students/{MESA_DISTRICT}/{me}"),
        Api,
        [UNAUTH, OK, FORB, NF, NF, OK, OK],
    ));
    p.push(get(
        ast,
        format!("/api/students/{MESA_DISTRICT}/{mu}"),
        Api,
        [UNAUTH, OK, FORB, NF, NF, OK, NF],
    ));
    p.push(get(
        ast,
        format!("/api/students/{DEMO_DISTRICT}/{me}"),
        Api,
        [UNAUTH, NF, FORB, NF, NF, NF, NF],
    ));
    {
        let toml = toml.clone();
        p.push(probe(
            "POST",
            "/api/contracts",
            "/api/contracts (dist-mesa's contract, unchanged)",
            Api,
            move |s| {
                api_post(
                    s,
                    "/api/contracts?name=contract.toml",
                    "application/toml",
                    &toml,
                )
            },
            [UNAUTH, OK, FORB, FORB, FORB, FORB, FORB],
        ));
    }
    let api_district_uploads = [UNAUTH, OK, FORB, OK, FORB, OK, FORB];
    p.push(probe(
        "POST",
        "/api/rosters",
        "/api/rosters (a plain roster of the user's district)",
        Api,
        |s| {
            let path = format!(
                "/api/rosters?name=roster.csv{}",
                admin_org_query(s.who, DEMO_DISTRICT)
            );
            api_post(s, &path, "text/csv", &own_roster(s.who))
        },
        api_district_uploads,
    ));
    {
        let zip = zip.clone();
        p.push(probe(
            "POST",
            "/api/rosters",
            "/api/rosters (dist-mesa's OneRoster zip)",
            Api,
            move |s| api_post(s, "/api/rosters?name=roster.zip", "application/zip", &zip),
            [UNAUTH, OK, FORB, FORB, FORB, OK, FORB],
        ));
    }
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            "/api/assessments",
            "/api/assessments (a score of the user's district)",
            Api,
            move |s| {
                let path = format!(
                    "/api/assessments?name=scores.csv{}",
                    admin_org_query(s.who, DEMO_DISTRICT)
                );
                api_post(s, &path, "text/csv", &own_assessments(&ids, s.who))
            },
            api_district_uploads,
        ));
    }
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            "/api/school-attendance",
            "/api/school-attendance (a school day of the user's district)",
            Api,
            move |s| {
                let path = format!(
                    "/api/school-attendance?name=attendance.csv{}",
                    admin_org_query(s.who, DEMO_DISTRICT)
                );
                api_post(s, &path, "text/csv", &own_attendance(&ids, s.who))
            },
            api_district_uploads,
        ));
    }
    let provider_uploads = [UNAUTH, OK, FORB, FORB, OK, FORB, OK];
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            "/api/sessions",
            "/api/sessions (a session of the user's contract)",
            Api,
            move |s| {
                let path = format!(
                    "/api/sessions?name=s.csv{}",
                    admin_org_query(s.who, DEMO_PROVIDER)
                );
                api_post(
                    s,
                    &path,
                    "text/csv",
                    &own_sessions(&ids, s.who, "web-matrix-2"),
                )
            },
            provider_uploads,
        ));
    }
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            "/api/sessions",
            "/api/sessions (no X-CSRF-Token)",
            Api,
            move |s| {
                Req::post("/api/sessions")
                    .body("text/csv", &own_sessions(&ids, s.who, "web-matrix-2"))
            },
            [UNAUTH, FORB, FORB, FORB, FORB, FORB, FORB],
        ));
    }
    p.push(get(
        "/api/ledger",
        "/api/ledger".into(),
        Api,
        [UNAUTH, OK, OK, OK, OK, OK, OK],
    ));
    p.push(get(
        "/api/audit",
        "/api/audit".into(),
        Api,
        [UNAUTH, OK, OK, FORB, FORB, FORB, FORB],
    ));

    // -- API, with a bearer token (no cookie, no CSRF token) --------------------------------
    p.push(get(
        "/api/me",
        "/api/me".into(),
        Bearer,
        [UNAUTH, OK, OK, OK, OK, OK, OK],
    ));
    p.push(get(
        "/api/contracts/{id}",
        format!("/api/contracts/{m}"),
        Bearer,
        api_mesa,
    ));
    p.push(get(
        "/api/students/{district}/{student}",
        format!("/api/students/{MESA_DISTRICT}/{me}"),
        Bearer,
        [UNAUTH, OK, FORB, NF, NF, OK, OK],
    ));
    p.push(get(
        "/api/students/{district}/{student}",
        format!("/api/students/{DEMO_DISTRICT}/{de}"),
        Bearer,
        [UNAUTH, OK, FORB, OK, OK, NF, NF],
    ));
    {
        let ids = ids.clone();
        p.push(probe(
            "POST",
            "/api/sessions",
            "/api/sessions (a session of the user's contract)",
            Bearer,
            move |s| {
                let path = format!(
                    "/api/sessions?name=s.csv{}",
                    admin_org_query(s.who, DEMO_PROVIDER)
                );
                Req::post(&path).body("text/csv", &own_sessions(&ids, s.who, "web-matrix-3"))
            },
            provider_uploads,
        ));
    }
    p.push(probe(
        "POST",
        "/api/contracts/{id}/statements/{milestone}/finalize",
        format!("/api/contracts/{d}/statements/no-such-milestone/finalize"),
        Bearer,
        move |_| {
            Req::post(&format!(
                "/api/contracts/{d}/statements/no-such-milestone/finalize"
            ))
        },
        [UNAUTH, E::Status(422), FORB, FORB, FORB, FORB, FORB],
    ));
    p.push(get(
        "/api/audit",
        "/api/audit".into(),
        Bearer,
        [UNAUTH, OK, OK, FORB, FORB, FORB, FORB],
    ));
    p.push(get(
        "/api/ledger",
        "/api/ledger".into(),
        Bearer,
        [UNAUTH, OK, OK, OK, OK, OK, OK],
    ));

    p.extend(review_probes());
    p.extend(monitoring_probes(meeting));
    p.extend(console_probes());

    // -- Signing out: last --------------------------------------------------------------------
    p.push(probe(
        "POST",
        "/logout",
        "/logout (no CSRF)",
        Page,
        |_| Req::post("/logout").form(&[]),
        [LOGIN, FORB, FORB, FORB, FORB, FORB, FORB],
    ));
    p.push(probe(
        "POST",
        "/logout",
        "/logout",
        Page,
        |s| Req::post("/logout").form(&[("csrf", &s.csrf)]),
        [E::See("/login"); 7],
    ));
    p.push(probe(
        "GET",
        "/",
        "/ (after signing out)",
        Page,
        |_| Req::get("/"),
        [LOGIN; 7],
    ));
    p.push(probe(
        "GET",
        "/api/me",
        "/api/me (after signing out)",
        Api,
        |_| Req::get("/api/me"),
        [UNAUTH; 7],
    ));
    p
}

/// Review and disputes of the mesa contract's final statement (SPEC 5.12), in an order that
/// walks it: the admin issues it, the mesa parties dispute, the admin resolves, they approve.
fn review_probes() -> Vec<Probe> {
    use Via::{Api, Page};
    let m = MESA_CONTRACT;
    let base = move |action: &str| format!("/contracts/{m}/statements/final/{action}");
    let page = move |action: &'static str, fields: &'static [(&'static str, &'static str)]| {
        move |s: &Session| {
            let mut form = vec![("csrf", s.csrf.as_str())];
            form.extend(fields.iter().copied());
            Req::post(&base(action)).form(&form)
        }
    };
    let api = move |action: &'static str, body: &'static [u8]| {
        move |s: &Session| {
            api_post(
                s,
                &format!("/api{}", base(action)),
                "application/json",
                body,
            )
        }
    };
    let back = E::See("/contracts/mesa-math-2025-baseline/statements/final");
    let parties = [LOGIN, FORB, FORB, NF, NF, back, back];
    let admin = [LOGIN, back, FORB, FORB, FORB, FORB, FORB];
    let route = |action: &str| -> &'static str {
        match action {
            "issue" => "/contracts/{id}/statements/{milestone}/issue",
            "approve" => "/contracts/{id}/statements/{milestone}/approve",
            "dispute" => "/contracts/{id}/statements/{milestone}/dispute",
            "resolve" => "/contracts/{id}/statements/{milestone}/resolve",
            "api review" => "/api/contracts/{id}/statements/{milestone}/review",
            "api issue" => "/api/contracts/{id}/statements/{milestone}/issue",
            "api approve" => "/api/contracts/{id}/statements/{milestone}/approve",
            "api dispute" => "/api/contracts/{id}/statements/{milestone}/dispute",
            _ => "/api/contracts/{id}/statements/{milestone}/resolve",
        }
    };
    vec![
        probe(
            "POST",
            route("issue"),
            base("issue") + " (no CSRF)",
            Page,
            move |_| Req::post(&base("issue")).form(&[]),
            [LOGIN, FORB, FORB, FORB, FORB, FORB, FORB],
        ),
        probe(
            "POST",
            route("issue"),
            base("issue"),
            Page,
            page("issue", &[]),
            admin,
        ),
        probe(
            "POST",
            route("dispute"),
            base("dispute"),
            Page,
            page("dispute", &[("reason", "sessions missing")]),
            parties,
        ),
        probe(
            "POST",
            route("resolve"),
            base("resolve"),
            Page,
            page(
                "resolve",
                &[
                    ("dispute", "1"),
                    ("ruling", "rejected"),
                    ("reason", "logs match"),
                ],
            ),
            admin,
        ),
        get(
            route("api review"),
            format!("/api{}", base("review")),
            Api,
            [UNAUTH, OK, OK, NF, NF, OK, OK],
        ),
        probe(
            "POST",
            route("api dispute"),
            format!("/api{}", base("dispute")),
            Api,
            api("dispute", br#"{"reason": "one more"}"#),
            [UNAUTH, FORB, FORB, NF, NF, OK, OK],
        ),
        probe(
            "POST",
            route("api resolve"),
            format!("/api{}", base("resolve")),
            Api,
            api(
                "resolve",
                br#"{"dispute": 3, "ruling": "upheld", "reason": "corrected"}"#,
            ),
            [UNAUTH, OK, FORB, FORB, FORB, FORB, FORB],
        ),
        probe(
            "POST",
            route("api issue"),
            format!("/api{}", base("issue")) + " (already issued)",
            Api,
            api("issue", b""),
            [UNAUTH, E::Status(409), FORB, FORB, FORB, FORB, FORB],
        ),
        probe(
            "POST",
            route("api approve"),
            format!("/api{}", base("approve")),
            Api,
            api("approve", b""),
            [UNAUTH, FORB, FORB, NF, NF, OK, OK],
        ),
        probe(
            "POST",
            route("approve"),
            base("approve") + " (already approved)",
            Page,
            page("approve", &[]),
            [LOGIN, FORB, FORB, NF, NF, E::Status(409), E::Status(409)],
        ),
    ]
}

/// Progress monitoring and meetings of dist-mesa's contract (issue 6). Writes send a field
/// that is refused after the access checks (an empty text, a date that does not read), so
/// they show who may write without changing the meeting.
fn monitoring_probes(meeting: i64) -> Vec<Probe> {
    use Via::{Api, Bearer, Page};
    let m = MESA_CONTRACT;
    let mesa_pages = [LOGIN, OK, OK, NF, NF, OK, OK];
    let mesa_api = [UNAUTH, OK, OK, NF, NF, OK, OK];
    let bad = E::Status(400);
    let writers = [LOGIN, bad, FORB, NF, NF, bad, bad];
    let api_writers = [UNAUTH, bad, FORB, NF, NF, bad, bad];
    let mut p = vec![
        get(
            "/contracts/{id}/progress",
            format!("/contracts/{m}/progress?as_of=2025-02-03"),
            Page,
            mesa_pages,
        ),
        get(
            "/contracts/{id}/students",
            format!("/contracts/{m}/students"),
            Page,
            mesa_pages,
        ),
        get(
            "/api/contracts/{id}/progress",
            format!("/api/contracts/{m}/progress?as_of=2025-02-03"),
            Bearer,
            mesa_api,
        ),
        get(
            "/contracts/{id}/meetings",
            format!("/contracts/{m}/meetings"),
            Page,
            mesa_pages,
        ),
        get(
            "/api/contracts/{id}/meetings",
            format!("/api/contracts/{m}/meetings"),
            Api,
            mesa_api,
        ),
        get(
            "/meetings/{meeting}",
            format!("/meetings/{meeting}"),
            Page,
            mesa_pages,
        ),
        get(
            "/meetings/{meeting}",
            "/meetings/999999".into(),
            Page,
            [LOGIN, NF, NF, NF, NF, NF, NF],
        ),
        get(
            "/api/meetings/{meeting}",
            format!("/api/meetings/{meeting}"),
            Bearer,
            mesa_api,
        ),
    ];
    // No item 999999: writers in scope learn only that (404), the others are refused first.
    let item = "999999";
    let no_item = [LOGIN, NF, FORB, NF, NF, NF, NF];
    let api_no_item = [UNAUTH, NF, FORB, NF, NF, NF, NF];
    let writes = [
        (
            "/contracts/{id}/meetings",
            format!("/contracts/{m}/meetings"),
            "date=not-a-date",
            serde_json::json!({"date": "not-a-date"}),
            (writers, api_writers),
        ),
        (
            "/meetings/{meeting}/attendees",
            format!("/meetings/{meeting}/attendees"),
            "name=&side=district",
            serde_json::json!({"name": "", "side": "district"}),
            (writers, api_writers),
        ),
        (
            "/meetings/{meeting}/notes",
            format!("/meetings/{meeting}/notes"),
            "text=",
            serde_json::json!({"text": ""}),
            (writers, api_writers),
        ),
        (
            "/meetings/{meeting}/actions",
            format!("/meetings/{meeting}/actions"),
            "owner=district&due=2025-03-01&text=",
            serde_json::json!({"owner": "district", "due": "2025-03-01", "text": ""}),
            (writers, api_writers),
        ),
        (
            "/meetings/{meeting}/actions/{item}/status",
            format!("/meetings/{meeting}/actions/{item}/status"),
            "status=done",
            serde_json::json!({"status": "done"}),
            (no_item, api_no_item),
        ),
    ];
    for (route, path, fields, body, (page_expect, api_expect)) in writes {
        let form_path = path.clone();
        p.push(probe(
            "POST",
            route,
            format!("{path} ({fields})"),
            Page,
            move |s| {
                let mut form = vec![("csrf", s.csrf.as_str())];
                form.extend(fields.split('&').filter_map(|kv| kv.split_once('=')));
                Req::post(&form_path).form(&form)
            },
            page_expect,
        ));
        let api_route: &'static str = Box::leak(format!("/api{route}").into_boxed_str());
        let api_path = format!("/api{path}");
        let body = body.to_string();
        p.push(probe(
            "POST",
            api_route,
            format!("{api_path} ({body})"),
            Api,
            move |s| api_post(s, &api_path, "application/json", body.as_bytes()),
            api_expect,
        ));
    }
    p
}

/// The consoles: the audit log's filters and downloads and the ledger's verification for
/// auditors, user and token management for admins.
fn console_probes() -> Vec<Probe> {
    use Via::Page;
    let auditors = [LOGIN, OK, OK, FORB, FORB, FORB, FORB];
    let bad = E::Status(400);
    let mut p = vec![
        get(
            "/audit",
            "/audit?actor=admin&action=import.&contract=mesa-math-2025-baseline&page=2".into(),
            Page,
            auditors,
        ),
        get(
            "/audit",
            "/audit?from=yesterday".into(),
            Page,
            [LOGIN, bad, bad, FORB, FORB, FORB, FORB],
        ),
    ];
    for format in ["csv", "json"] {
        p.push(get(
            "/audit/download",
            format!("/audit/download?format={format}&action=login"),
            Page,
            auditors,
        ));
    }
    p.push(get(
        "/audit/download",
        "/audit/download?format=xml".into(),
        Page,
        [LOGIN, bad, bad, FORB, FORB, FORB, FORB],
    ));
    p.push(probe(
        "POST",
        "/ledger/verify",
        "/ledger/verify (with CSRF)",
        Page,
        |s| Req::post("/ledger/verify").form(&[("csrf", &s.csrf)]),
        auditors,
    ));
    p.push(probe(
        "POST",
        "/ledger/verify",
        "/ledger/verify (no CSRF)",
        Page,
        |_| Req::post("/ledger/verify").form(&[]),
        [LOGIN, FORB, FORB, FORB, FORB, FORB, FORB],
    ));
    let admin_only = |admin: E| [LOGIN, admin, FORB, FORB, FORB, FORB, FORB];
    p.push(probe(
        "POST",
        "/users",
        "/users (a username with a space)",
        Page,
        |s| {
            Req::post("/users").form(&[
                ("csrf", &s.csrf),
                ("username", "not valid"),
                ("role", "auditor"),
            ])
        },
        admin_only(E::Status(422)),
    ));
    p.push(probe(
        "POST",
        "/users",
        "/users (no CSRF)",
        Page,
        |_| Req::post("/users").form(&[("username", "someone"), ("role", "auditor")]),
        admin_only(FORB),
    ));
    p.push(probe(
        "POST",
        "/users/{username}/password",
        "/users/no-such-user/password (with CSRF)",
        Page,
        |s| Req::post("/users/no-such-user/password").form(&[("csrf", &s.csrf)]),
        admin_only(NF),
    ));
    p.push(probe(
        "POST",
        "/tokens",
        "/tokens (for no-such-user)",
        Page,
        |s| {
            Req::post("/tokens").form(&[
                ("csrf", &s.csrf),
                ("username", "no-such-user"),
                ("label", "matrix"),
                ("days", "30"),
            ])
        },
        admin_only(NF),
    ));
    p
}

/// Makes a probe's request for a session and sends it.
async fn run_probe(app: &WebApp, probe: &Probe, session: &Session) -> Resp {
    if probe.method == "POST" && probe.route == "/login" {
        let (user, password) = match session.who {
            Who::Anon => ("nobody".to_string(), "wrong-password".to_string()),
            who => (who.username().to_string(), who.password()),
        };
        return app.post_login(&user, &password).await;
    }
    let req = (probe.make)(session);
    // After signing out, the old session cookie is sent as before and must no longer work.
    let req = match probe.via {
        Via::Page | Via::Api => session.with_cookie(req),
        Via::Bearer => session.with_token(req),
    };
    app.send(req).await
}

/// Whether a response is what the cell expects; else what is wrong.
fn judge(expect: E, via: Via, r: &Resp) -> Result<(), String> {
    let status = r.status.as_u16();
    let json_error = || {
        let is_json = r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"));
        let has_error = serde_json::from_slice::<Value>(&r.body)
            .ok()
            .is_some_and(|v| v["error"].is_string());
        if is_json && has_error {
            Ok(())
        } else {
            Err(format!(
                "{status} should be a JSON error, got: {}",
                r.excerpt()
            ))
        }
    };
    match expect {
        E::Status(s) if s == status => {
            if via != Via::Page && status >= 400 {
                json_error()
            } else {
                Ok(())
            }
        }
        E::See(to) if status == 303 && r.location() == Some(to) => Ok(()),
        E::Login if status == 303 && r.location() == Some("/login") => Ok(()),
        E::Unauth if status == 401 => json_error(),
        _ => Err(format!(
            "got {status}{}: {}",
            r.location().map(|l| format!(" to {l}")).unwrap_or_default(),
            r.excerpt()
        )),
    }
}

/// (method, pattern) of every route, from the table the router is built from.
fn table_routes() -> BTreeSet<(String, String)> {
    obc_web::route_table()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect()
}

/// The role of a signed-in user of the matrix.
fn role_of(who: Who) -> Option<obc_store::Role> {
    use obc_store::Role;
    match who {
        Who::Anon => None,
        Who::Admin => Some(Role::Admin),
        Who::Auditor => Some(Role::Auditor),
        Who::District | Who::Mesa => Some(Role::District),
        Who::Provider | Who::Brightpath => Some(Role::Provider),
    }
}

/// Where the matrix's expectations contradict the route table: a role the table does not
/// admit must be refused with 403 (anonymous callers: the sign-in form or 401), and no route
/// that writes admits auditors.
fn contradictions_with_the_table(probes: &[Probe]) -> Vec<String> {
    use obc_web::access::{Allowed, Effect};
    let table = obc_web::route_table();
    let mut found = Vec::new();
    for spec in &table {
        if spec.effect == Effect::Writes && spec.allowed.admits(obc_store::Role::Auditor) {
            found.push(format!(
                "{} {} writes but admits auditors",
                spec.method, spec.path
            ));
        }
    }
    for probe in probes {
        let Some(spec) = table
            .iter()
            .find(|r| r.method == probe.method && r.path == probe.route)
        else {
            continue;
        };
        for (who, expect) in Who::ALL.into_iter().zip(probe.expect) {
            let refused = match (role_of(who), spec.allowed) {
                (_, Allowed::Anyone) => continue,
                (None, _) if spec.is_api() => UNAUTH,
                (None, _) => LOGIN,
                (Some(role), allowed) if !allowed.admits(role) => FORB,
                _ => continue,
            };
            let to_sign_in = |e: E| e == LOGIN || e == E::See("/login");
            if expect != refused && !(to_sign_in(expect) && to_sign_in(refused)) {
                found.push(format!(
                    "{} {} as {}: the table refuses ({}), the matrix expects {}",
                    probe.method,
                    probe.what,
                    who.label(),
                    refused.short(),
                    expect.short()
                ));
            }
        }
    }
    found
}

/// One row's outcome: each cell's status (Err when not as expected) and the row's time.
type Row = (Vec<Result<u16, (u16, String)>>, std::time::Duration);

fn matrix_report(probes: &[Probe], results: &[Row]) -> String {
    let width = probes.iter().map(|p| p.what.len() + 12).max().unwrap_or(40);
    let mut out = String::new();
    let _ = write!(out, "{:<width$}", "request");
    for who in Who::ALL {
        let _ = write!(out, " {:>12}", who.label());
    }
    out.push_str("     time\n");
    for (probe, (row, time)) in probes.iter().zip(results) {
        let via = match probe.via {
            Via::Page => "page",
            Via::Api => "api",
            Via::Bearer => "bearer",
        };
        let _ = write!(
            out,
            "{:<width$}",
            format!("{} {} [{via}]", probe.method, probe.what)
        );
        for (cell, expect) in row.iter().zip(probe.expect) {
            let text = match cell {
                Ok(status) => format!("{status} ok"),
                Err((status, _)) => format!("{status}!={} X", expect.short()),
            };
            let _ = write!(out, " {text:>12}");
        }
        let _ = writeln!(out, " {:>6}ms", time.as_millis());
    }
    out
}

pub(crate) async fn access_matrix_every_role_by_every_route(app: WebApp) {
    let started = std::time::Instant::now();
    // A meeting of dist-mesa's contract for the meeting routes' rows.
    let admin = app.login(Who::Admin).await;
    let opened = app
        .send(
            admin.with_token(
                Req::post(&format!("/api/contracts/{MESA_CONTRACT}/meetings"))
                    .body("application/json", br#"{"date": "2025-02-03"}"#),
            ),
        )
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    let meeting = opened.json()["meeting"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a meeting id in {}", opened.text()));
    let probes = probes(&app.ids, meeting);

    // Every route of the router's table has at least one row, and every row names a route
    // of the table; the rows agree with the roles the table admits.
    let declared = table_routes();
    let probed: BTreeSet<(String, String)> = probes
        .iter()
        .map(|p| (p.method.to_string(), p.route.to_string()))
        .collect();
    let missing: Vec<_> = declared.difference(&probed).collect();
    assert!(
        missing.is_empty(),
        "routes with no row in the access matrix: {missing:?}"
    );
    let unknown: Vec<_> = probed.difference(&declared).collect();
    assert!(
        unknown.is_empty(),
        "matrix rows for routes the router does not have: {unknown:?}"
    );
    let contradictions = contradictions_with_the_table(&probes);
    assert!(
        contradictions.is_empty(),
        "the matrix contradicts the route table:\n{}",
        contradictions.join("\n")
    );

    let mut sessions = Vec::new();
    for who in Who::ALL {
        sessions.push(app.login(who).await);
    }
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for probe in &probes {
        let row_started = std::time::Instant::now();
        let mut row = Vec::new();
        for (session, expect) in sessions.iter().zip(probe.expect) {
            let response = run_probe(&app, probe, session).await;
            let status = response.status.as_u16();
            match judge(expect, probe.via, &response) {
                Ok(()) => row.push(Ok(status)),
                Err(why) => {
                    failures.push(format!(
                        "{} {} [{:?}] as {}: expected {}, {why}",
                        probe.method,
                        probe.what,
                        probe.via,
                        session.who.label(),
                        expect.short()
                    ));
                    row.push(Err((status, why)));
                }
            }
        }
        results.push((row, row_started.elapsed()));
    }
    let cells = probes.len() * Who::ALL.len();
    let report = matrix_report(&probes, &results);
    assert!(
        failures.is_empty(),
        "{} of {cells} cells of the access matrix failed:\n{report}\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "access matrix: {} requests x {} users = {cells} cells, {} routes, all as expected ({:.1}s)\n{report}",
        probes.len(),
        Who::ALL.len(),
        declared.len(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// The routes, one behaviour at a time
// ---------------------------------------------------------------------------------------------

/// A multipart upload form posted with a session's cookie and CSRF token.
fn upload(s: &Session, kind: &str, fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> Req {
    let mut all = vec![("csrf", s.csrf.as_str())];
    all.extend_from_slice(fields);
    s.with_cookie(Req::post(&format!("/upload/{kind}")).multipart(&all, name, bytes))
}

/// A draft contract posted to a design form with a session's cookie and CSRF token.
fn design_form(s: &Session, route: &str, toml: &[u8]) -> Req {
    s.with_cookie(Req::post(route).multipart(&[("csrf", s.csrf.as_str())], "draft.toml", toml))
}

/// A target query of Fall 2024-2025 Mathematics below the 40th percentile in `district`, with
/// `extra` (`&key=value...`) appended.
fn target_path(route: &str, district: &str, extra: &str) -> String {
    format!("{route}?district={district}&subject=Mathematics&term=Fall+2024-2025&cut=percentile&below=40{extra}")
}

/// The sessions of a student, as the admin's API shows them: (provider, session id).
async fn sessions_of(
    app: &WebApp,
    admin: &Session,
    district: &str,
    student: &str,
) -> Vec<(String, String)> {
    let r = app
        .send(admin.with_token(Req::get(&format!("/api/students/{district}/{student}"))))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| {
            (
                s["provider"].as_str().expect("provider").to_string(),
                s["session_id"].as_str().expect("session id").to_string(),
            )
        })
        .collect()
}

pub(crate) async fn login_refuses_wrong_passwords_and_stale_forms(app: WebApp) {
    // The form sets its token as a cookie and as a hidden field.
    let (cookie, csrf) = app.login_form().await;
    assert_eq!(csrf.len(), 64);

    // A form token that is not the cookie's: 403, and no session.
    let stale = app
        .send(
            Req::post("/login")
                .cookie(&format!("obc_login_csrf={cookie}"))
                .form(&[
                    ("username", "admin"),
                    ("password", &Who::Admin.password()),
                    ("csrf", "0".repeat(64).as_str()),
                ]),
        )
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.text());
    assert!(stale.set_cookie("obc_session").is_none());
    // No cookie at all: 403 too.
    let cookieless = app
        .send(Req::post("/login").form(&[
            ("username", "admin"),
            ("password", &Who::Admin.password()),
            ("csrf", &csrf),
        ]))
        .await;
    assert_eq!(cookieless.status, StatusCode::FORBIDDEN);

    // A wrong password: 401, the form again with a message and a new token, no session.
    let wrong = app.post_login("admin", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.text().contains("Unknown username or wrong password."),
        "{}",
        wrong.text()
    );
    assert!(wrong.set_cookie("obc_session").is_none());
    assert!(wrong
        .set_cookie("obc_login_csrf")
        .is_some_and(|c| c.len() == 64 && c != cookie));
    // An unknown user reads the same.
    let unknown = app.post_login("nobody", "not-the-password").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown
        .text()
        .contains("Unknown username or wrong password."));

    // The right password works, and the session cookie is HttpOnly and SameSite=Strict.
    let ok = app.post_login("district", &Who::District.password()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let set = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("obc_session="))
        .expect("a session cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure"),
        "{set}"
    );

    assert!(app
        .audit_actions("district")
        .await
        .iter()
        .any(|(a, _, _)| a == "login"));
}

pub(crate) async fn five_failed_sign_ins_lock_the_form(app: WebApp) {
    for attempt in 1..=5 {
        let r = app.post_login("admin", "wrong-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // The sixth is refused before the password is even checked, right or wrong.
    for password in [Who::Admin.password(), "wrong-password".to_string()] {
        let r = app.post_login("admin", &password).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
        assert!(r.set_cookie("obc_session").is_none());
        assert!(r.text().contains("too many failed sign-ins"));
    }
    // In-process requests carry no client address, so they all count as one client: the
    // client is blocked too, whoever it signs in as.
    let r = app.post_login("district", &Who::District.password()).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let audit = app.store.audit_log().await.expect("audit log");
    assert!(
        !audit.iter().any(|(_, _, action, _, _)| action == "login"),
        "nobody signed in: {audit:?}"
    );
    // API tokens are not affected.
    assert_eq!(
        app.send(Req::get("/api/me").header(
            "authorization",
            &format!("Bearer {}", app.token(Who::Admin))
        ))
        .await
        .status,
        StatusCode::OK
    );
}

pub(crate) async fn logout_ends_the_session(app: WebApp) {
    let s = app.login(Who::Provider).await;
    assert_eq!(
        app.send(s.with_cookie(Req::get("/"))).await.status,
        StatusCode::OK
    );

    // The nav bar's sign-out form carries the CSRF token.
    let home = app.send(s.with_cookie(Req::get("/"))).await.text();
    assert!(home.contains("action=\"/logout\""), "{home}");
    assert!(home.contains(&s.csrf));

    let out = app
        .send(s.with_cookie(Req::post("/logout").form(&[("csrf", &s.csrf)])))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), Some("/login"));
    assert_eq!(out.set_cookie("obc_session").as_deref(), Some(""));

    // The old cookie opens nothing any more, pages or API.
    let page = app.send(s.with_cookie(Req::get("/"))).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login"));
    let api = app.send(s.with_cookie(Req::get("/api/me"))).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(api.json()["error"].is_string());
    // The API token is a separate credential and still works.
    assert_eq!(
        app.send(s.with_token(Req::get("/api/me"))).await.status,
        StatusCode::OK
    );
    // A token that does not exist does not.
    let bogus = app
        .send(Req::get("/api/me").header("authorization", "Bearer 0123"))
        .await;
    assert_eq!(bogus.status, StatusCode::UNAUTHORIZED);
}

pub(crate) async fn dashboards_list_only_contracts_in_scope(app: WebApp) {
    for (who, visible) in [
        (Who::Admin, vec![DEMO_CONTRACT, MESA_CONTRACT]),
        (Who::Auditor, vec![DEMO_CONTRACT, MESA_CONTRACT]),
        (Who::District, vec![DEMO_CONTRACT]),
        (Who::Provider, vec![DEMO_CONTRACT]),
        (Who::Mesa, vec![MESA_CONTRACT]),
        (Who::Brightpath, vec![MESA_CONTRACT]),
    ] {
        let s = app.login(who).await;
        let page = app.send(s.with_cookie(Req::get("/"))).await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.text();
        for contract in [DEMO_CONTRACT, MESA_CONTRACT] {
            assert_eq!(
                html.contains(&format!("/contracts/{contract}\"")),
                visible.contains(&contract),
                "{} dashboard and {contract}:\n{html}",
                who.label()
            );
        }
        let api = app
            .send(s.with_cookie(Req::get("/api/contracts")))
            .await
            .json();
        let ids: Vec<&str> = api
            .as_array()
            .expect("a list")
            .iter()
            .map(|c| c["id"].as_str().expect("id"))
            .collect();
        assert_eq!(ids, visible, "{} /api/contracts", who.label());
        // The ledger lists finalized statements of visible contracts only (the demo has two).
        let ledger = app
            .send(s.with_cookie(Req::get("/api/ledger")))
            .await
            .json();
        let contracts: BTreeSet<&str> = ledger
            .as_array()
            .expect("a list")
            .iter()
            .map(|r| r["contract"].as_str().expect("contract"))
            .collect();
        let expected: BTreeSet<&str> = visible
            .iter()
            .copied()
            .filter(|c| *c == DEMO_CONTRACT)
            .collect();
        assert_eq!(contracts, expected, "{} /api/ledger", who.label());
        let ledger_page = app.send(s.with_cookie(Req::get("/ledger"))).await.text();
        assert_eq!(
            ledger_page.contains(DEMO_CONTRACT),
            visible.contains(&DEMO_CONTRACT),
            "{} /ledger",
            who.label()
        );
    }
}

pub(crate) async fn the_statement_page_shows_every_student_with_reasons_and_totals(app: WebApp) {
    let s = app.login(Who::Mesa).await;
    let url = format!("/contracts/{MESA_CONTRACT}/statements/final");
    let page = app.send(s.with_cookie(Req::get(&url))).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Draft: not finalized"));
    assert!(
        !html.contains("/finalize\""),
        "only admins see the finalize button"
    );
    // 116 students: 100 on the first page, 16 on the second.
    let second = app
        .send(s.with_cookie(Req::get(&format!("{url}?page=2"))))
        .await
        .text();
    let both = format!("{html}{second}");
    let csv = app.cli(&[
        "statement",
        "--contract",
        MESA_CONTRACT,
        "--milestone",
        "final",
        "--format",
        "csv",
    ]);
    let table = Table::parse(&csv);
    let dollars = |amount: &str| {
        obc_core::money::format_dollars(amount.parse().expect("an amount in the CSV"))
    };
    let mut students = 0;
    for row in &table.rows {
        let id = &row["student_id"];
        if id.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        students += 1;
        let link = format!("<a href=\"/students/{MESA_DISTRICT}/{id}\">{id}</a>");
        assert_eq!(
            both.matches(&link).count(),
            1,
            "student {id} is linked to their page, on one page"
        );
        assert!(
            both.contains(&html_escape(&row["reason"])),
            "student {id}'s reason is on the page: {}",
            row["reason"]
        );
        // The student's amount is on the student's row.
        let at = both.find(&link).expect("the student's row");
        let row_html = &both[at..at + both[at..].find("</tr>").expect("the row's end")];
        let amount = format!(
            "<td class=\"num\"><strong>{}</strong></td>",
            dollars(&row["total"])
        );
        assert!(row_html.contains(&amount), "{id}: {amount} in {row_html}");
    }
    assert_eq!(students, 116);
    assert_eq!(html.matches("<a href=\"/students/").count(), 100);
    assert!(
        html.contains("Students 1 to 100 of 116; page 1 of 2."),
        "{html}"
    );
    assert!(second.contains("Students 101 to 116 of 116; page 2 of 2."));
    let total = table.row("TOTAL");
    for column in ["base_amount", "contingent_amount", "total"] {
        assert!(
            html.contains(&format!(
                "<td class=\"num\">{}</td>",
                dollars(&total[column])
            )),
            "the TOTAL {column} {} is on the page",
            total[column]
        );
    }
    let statement_total = dollars(&table.row("STATEMENT_TOTAL")["total"]);
    assert!(
        html.contains(&format!("<strong>{statement_total}</strong>")),
        "statement total {statement_total}"
    );
    for rule in table.rows_keyed("BY_RULE") {
        assert!(
            html.contains(&format!(
                "<span class=\"code\">({})</span></td><td class=\"num\">{}</td>",
                html_escape(&rule["rule"]),
                rule["school_id"]
            )),
            "by rule {rule:?}"
        );
    }
    // Links to the CSV, the JSON and a printable page.
    for link in [
        "download?format=csv",
        "download?format=json",
        "/statements/final/print",
    ] {
        assert!(html.contains(link), "{link}");
    }
    // The auditor reads the same statement, without links to student pages nor names.
    let auditor = app.login(Who::Auditor).await;
    let html = app.send(auditor.with_cookie(Req::get(&url))).await.text();
    assert!(html.contains(&format!("<strong>{statement_total}</strong>")));
    assert!(
        !html.contains("href=\"/students/"),
        "auditors get no student links"
    );
    assert!(!html.contains(">Name"), "auditors get no names column");
}

pub(crate) async fn downloads_equal_the_cli_byte_for_byte_and_are_audited(app: WebApp) {
    for (who, contract, milestone) in [
        (Who::District, DEMO_CONTRACT, "midyear"),
        (Who::Auditor, DEMO_CONTRACT, "final"),
        (Who::Brightpath, MESA_CONTRACT, "final"),
    ] {
        let s = app.login(who).await;
        for format in ["csv", "json"] {
            let cli = app.cli(&[
                "statement",
                "--contract",
                contract,
                "--milestone",
                milestone,
                "--format",
                format,
            ]);
            let before = app.audit_actions(who.username()).await.len();
            let page = app
                .send(s.with_cookie(Req::get(&format!(
                    "/contracts/{contract}/statements/{milestone}/download?format={format}"
                ))))
                .await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(
                page.text() == cli,
                "{} {contract} {milestone} {format}: the download differs from `obc statement`",
                who.label()
            );
            let disposition = page.header("content-disposition").expect("an attachment");
            assert_eq!(
                disposition,
                format!("attachment; filename=\"{contract}-{milestone}.{format}\"")
            );
            let content_type = page.header("content-type").expect("a content type");
            assert!(content_type.starts_with(if format == "csv" {
                "text/csv"
            } else {
                "application/json"
            }));
            let api = app
                .send(s.with_token(Req::get(&format!(
                    "/api/contracts/{contract}/statements/{milestone}?format={format}"
                ))))
                .await;
            assert_eq!(api.status, StatusCode::OK);
            assert!(
                api.text() == cli,
                "the API's {format} differs from `obc statement`"
            );
            let audit = app.audit_actions(who.username()).await;
            let exports: Vec<_> = audit[before..]
                .iter()
                .filter(|(action, _, _)| action == "export.statement")
                .collect();
            assert_eq!(exports.len(), 2, "{audit:?}");
            for (_, record, detail) in exports {
                assert_eq!(
                    record,
                    &format!("contract:{contract}/milestone:{milestone}")
                );
                assert!(detail.starts_with(format), "{detail}");
            }
        }
    }
    // JSON is the API's default format.
    let s = app.login(Who::Mesa).await;
    let json = app
        .send(s.with_cookie(Req::get(&format!(
            "/api/contracts/{MESA_CONTRACT}/statements/final"
        ))))
        .await
        .json();
    assert_eq!(json["contract_id"], MESA_CONTRACT);
    assert_eq!(json["lines"].as_array().map(Vec::len), Some(116));
}

pub(crate) async fn finalize_by_form_and_by_api(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    let url = format!("/contracts/{MESA_CONTRACT}/statements/enrollment");
    let page = app.send(admin.with_cookie(Req::get(&url))).await.text();
    assert!(page.contains("Draft: not finalized"));
    assert!(
        page.contains(&format!("href=\"{url}/finalize\"")),
        "the admin sees the link to finalize"
    );
    // Which asks for confirmation with the amount and the students.
    let confirm = app
        .send(admin.with_cookie(Req::get(&format!("{url}/finalize"))))
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    let confirm = confirm.text();
    let draft: Value = serde_json::from_str(&app.cli(&[
        "statement",
        "--contract",
        MESA_CONTRACT,
        "--milestone",
        "enrollment",
        "--format",
        "json",
    ]))
    .expect("the draft's JSON");
    let amount = obc_core::money::format_dollars(
        draft["totals"]["statement_total"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("a total"),
    );
    assert!(
        confirm.contains(&format!(
            "Finalize {amount} for {} students?",
            draft["totals"]["students"]
        )),
        "{confirm}"
    );
    assert!(confirm.contains("This cannot be undone."));
    assert!(confirm.contains(&format!("action=\"{url}/finalize\"")));
    assert!(confirm.contains(&format!("name=\"csrf\" value=\"{}\"", admin.csrf)));
    assert!(confirm.contains("name=\"confirm\" value=\"yes\""));

    // Without the form's token, or with a stale one: 403, still a draft.
    let finalize = format!("{url}/finalize");
    for fields in [vec![], vec![("csrf", "0".repeat(64))]] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .send(admin.with_cookie(Req::post(&finalize).form(&fields)))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
    assert!(app
        .send(admin.with_cookie(Req::get(&url)))
        .await
        .text()
        .contains("Draft: not finalized"));
    // District staff may not finalize, even with their token and a confirmation.
    let mesa = app.login(Who::Mesa).await;
    let r = app
        .send(
            mesa.with_cookie(
                Req::post(&finalize).form(&[("csrf", &mesa.csrf), ("confirm", "yes")]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Without the confirmation: 400, still a draft.
    let r = app
        .send(admin.with_cookie(Req::post(&finalize).form(&[("csrf", &admin.csrf)])))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(app
        .send(admin.with_cookie(Req::get(&url)))
        .await
        .text()
        .contains("Draft: not finalized"));

    // With both: back to the statement, now finalized, without the button.
    let r = app
        .send(
            admin.with_cookie(
                Req::post(&finalize).form(&[("csrf", &admin.csrf), ("confirm", "yes")]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), Some(url.as_str()));
    let page = app.send(admin.with_cookie(Req::get(&url))).await.text();
    assert!(
        page.contains("Finalized 20") && page.contains("by admin"),
        "{page}"
    );
    assert!(!page.contains("/finalize\""));
    // Twice: 409, and nothing changes; its confirmation page says so too.
    let again = app
        .send(
            admin.with_cookie(
                Req::post(&finalize).form(&[("csrf", &admin.csrf), ("confirm", "yes")]),
            ),
        )
        .await;
    let confirm_again = app.send(admin.with_cookie(Req::get(&finalize))).await;
    assert_eq!(confirm_again.status, StatusCode::CONFLICT);
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert!(again.text().contains("already finalized"));

    // The API: the cookie needs X-CSRF-Token; a bearer token does not.
    let api = format!("/api/contracts/{MESA_CONTRACT}/statements/midyear/finalize");
    let r = app.send(admin.with_cookie(Req::post(&api))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(admin.with_cookie(Req::post(&api).header("x-csrf-token", &admin.csrf)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["contract"], MESA_CONTRACT);
    assert_eq!(body["milestone"], "midyear");
    assert_eq!(body["sha256"].as_str().map(str::len), Some(64));
    let r = app
        .send(admin.with_cookie(Req::post(&api).header("x-csrf-token", &admin.csrf)))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["error"]
        .as_str()
        .is_some_and(|e| e.contains("already finalized")));
    let final_api = format!("/api/contracts/{MESA_CONTRACT}/statements/final/finalize");
    let r = app.send(mesa.with_token(Req::post(&final_api))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send(admin.with_token(Req::post(&final_api))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The contract, the ledger, the CLI and the audit log agree.
    let contract = app
        .send(mesa.with_token(Req::get(&format!("/api/contracts/{MESA_CONTRACT}"))))
        .await
        .json();
    let milestones = contract["milestones"].as_array().expect("milestones");
    assert!(
        milestones.iter().all(|m| m["finalized"]["by"] == "admin"),
        "{contract}"
    );
    let ledger = app
        .send(mesa.with_token(Req::get("/api/ledger")))
        .await
        .json();
    assert_eq!(ledger.as_array().map(Vec::len), Some(3), "{ledger}");
    assert_eq!(ledger[1]["sha256"], body["sha256"]);
    let finalized = app
        .audit_actions("admin")
        .await
        .into_iter()
        .filter(|(action, _, _)| action == "statement.finalize")
        .count();
    assert_eq!(finalized, 3);
    let page = app
        .send(mesa.with_cookie(Req::get(&format!(
            "/contracts/{MESA_CONTRACT}/statements/midyear"
        ))))
        .await
        .text();
    assert!(page.contains(&format!(
        "(sha256 {})",
        body["sha256"].as_str().unwrap_or_default()
    )));
}

pub(crate) async fn a_rejected_upload_lists_every_problem_and_imports_nothing(app: WebApp) {
    let provider = app.login(Who::Provider).await;
    let admin = app.login(Who::Admin).await;
    let student = app.ids.demo_enrolled.clone();
    let before = sessions_of(&app, &admin, DEMO_DISTRICT, &student).await;
    let bad = format!(
        "session_id,student_id,tutor_id,date,minutes,status\n\
         web-bad-1,{student},T-web,2025-04-01,30,attended\n\
         web-bad-2,{student},T-web,2025-04-02,abc,attended\n\
         web-bad-3,{student},T-web,2025-04-03,30,cancelled\n"
    );
    let r = app
        .send(upload(
            &provider,
            "sessions",
            &[],
            "nightly.csv",
            bad.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("rejected") && html.contains("nothing was imported"),
        "{html}"
    );
    assert!(html.contains("<table id=\"problems\">"));
    assert!(
        html.contains(
            "<td>nightly.csv</td><td class=\"num\">3</td><td>minutes</td><td>abc</td><td>"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "<td>nightly.csv</td><td class=\"num\">4</td><td>status</td><td>cancelled</td><td>"
        ),
        "{html}"
    );
    assert_eq!(
        sessions_of(&app, &admin, DEMO_DISTRICT, &student).await,
        before,
        "nothing was imported"
    );

    // The same through the API: 422 with the problems as JSON.
    let r = app
        .send(provider.with_token(
            Req::post("/api/sessions?name=nightly.csv").body("text/csv", bad.as_bytes()),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.json();
    assert_eq!(body["imported"], false);
    let problems = body["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2, "{body}");
    assert_eq!(problems[0]["file"], "nightly.csv");
    assert_eq!(problems[0]["line"], 3);
    assert_eq!(problems[0]["column"], "minutes");
    assert_eq!(problems[0]["value"], "abc");
    assert!(problems[0]["expected"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    assert_eq!(problems[1]["line"], 4);
    assert_eq!(problems[1]["column"], "status");
    assert_eq!(
        sessions_of(&app, &admin, DEMO_DISTRICT, &student).await,
        before
    );

    // A student the roster does not know is a problem of its row too.
    let unknown = "session_id,student_id,tutor_id,date,minutes,status\nweb-bad-4,no-such-student,T-web,2025-04-01,30,attended\n";
    let r = app
        .send(upload(
            &provider,
            "sessions",
            &[],
            "s.csv",
            unknown.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .contains("<td>student_id</td><td>no-such-student</td>"));

    // A good file: 200, imported.
    let good = format!("session_id,student_id,tutor_id,date,minutes,status\nweb-good-1,{student},T-web,2025-04-01,30,attended\n");
    let r = app
        .send(upload(
            &provider,
            "sessions",
            &[],
            "good.csv",
            good.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("imported") && html.contains("1 rows: 1 added"),
        "{html}"
    );
    assert!(!html.contains("id=\"problems\""));
    let after = sessions_of(&app, &admin, DEMO_DISTRICT, &student).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.contains(&(DEMO_PROVIDER.to_string(), "web-good-1".to_string())));

    // The district's uploads are validated the same way.
    let district = app.login(Who::District).await;
    let roster = "student_id,school_id,grade,first_name,last_name\n9990005,sch-lincoln,6,Ok,Row\n9990006,,6,No,School\n";
    let r = app
        .send(upload(
            &district,
            "roster",
            &[],
            "roster.csv",
            roster.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text()
            .contains("<td>roster.csv</td><td class=\"num\">3</td><td>school_id</td>"),
        "{}",
        r.text()
    );
    let r = app
        .send(admin.with_token(Req::get(&format!("/api/students/{DEMO_DISTRICT}/9990005"))))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "the good row of a rejected roster was not imported"
    );
    let scores = format!("student_id,assessment,subject,term,date,score\n{student},Screener,Reading,Fall 2024-2025,2024-13-45,200\n");
    let r = app
        .send(upload(
            &district,
            "assessments",
            &[],
            "scores.csv",
            scores.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains(
            "<td>scores.csv</td><td class=\"num\">2</td><td>date</td><td>2024-13-45</td>"
        ),
        "{}",
        r.text()
    );
    // A request without a file is refused before anything is read.
    let r = app
        .send(district.with_cookie(Req::post("/upload/roster").multipart(
            &[("csrf", &district.csrf)],
            "empty.csv",
            b"",
        )))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

pub(crate) async fn api_session_pushes_are_idempotent(app: WebApp) {
    let provider = app.login(Who::Provider).await;
    let admin = app.login(Who::Admin).await;
    let student = app.ids.demo_enrolled.clone();
    let body = format!("session_id,student_id,tutor_id,date,minutes,status\nweb-idem-1,{student},T-web,2025-04-01,30,attended\nweb-idem-2,{student},T-web,2025-04-02,25,student_absent\n");
    let push = |key: &str, body: &[u8]| {
        provider.with_token(
            Req::post("/api/sessions?name=nightly.csv")
                .header("idempotency-key", key)
                .body("text/csv", body),
        )
    };
    let imports = |audit: &[(String, String, String)]| {
        audit
            .iter()
            .filter(|(action, _, _)| action == "import.sessions")
            .count()
    };

    let first = app.send(push("nightly-2025-04-02", body.as_bytes())).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert!(first.header("idempotent-replay").is_none());
    let json = first.json();
    assert_eq!(json["imported"], true);
    assert!(
        json["summary"][0]
            .as_str()
            .is_some_and(|s| s.contains("2 rows: 2 added")),
        "{json}"
    );
    let audit = app.audit_actions("provider").await;
    let sessions = sessions_of(&app, &admin, DEMO_DISTRICT, &student).await;

    // The retry after a timeout: the same answer, marked as a replay, and nothing imported.
    let retry = app.send(push("nightly-2025-04-02", body.as_bytes())).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.header("idempotent-replay"), Some("true"));
    assert_eq!(retry.json(), json);
    assert_eq!(
        imports(&app.audit_actions("provider").await),
        imports(&audit)
    );
    assert_eq!(
        sessions_of(&app, &admin, DEMO_DISTRICT, &student).await,
        sessions
    );

    // The same key with other data is a mistake of the client: refused, nothing imported.
    let other = body.replace(",30,attended", ",45,attended");
    let r = app.send(push("nightly-2025-04-02", other.as_bytes())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.json()["error"]
        .as_str()
        .is_some_and(|e| e.contains("different request")));
    assert_eq!(
        sessions_of(&app, &admin, DEMO_DISTRICT, &student).await,
        sessions
    );

    // A new key imports again (the file is unchanged, so nothing is added).
    let again = app.send(push("nightly-2025-04-03", body.as_bytes())).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.header("idempotent-replay").is_none());
    assert!(again.json()["summary"][0]
        .as_str()
        .is_some_and(|s| s.contains("0 added, 0 replaced (earlier versions kept), 2 unchanged")));
    assert_eq!(
        imports(&app.audit_actions("provider").await),
        imports(&audit) + 1
    );
    assert_eq!(
        sessions_of(&app, &admin, DEMO_DISTRICT, &student).await,
        sessions
    );

    // A rejected push is remembered too: its retry answers 422 again.
    let bad = b"session_id,student_id,tutor_id,date,minutes,status\nweb-idem-3,nobody,T-web,2025-04-01,30,attended\n";
    let r = app.send(push("nightly-bad", bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r2 = app.send(push("nightly-bad", bad)).await;
    assert_eq!(r2.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r2.header("idempotent-replay"), Some("true"));
    assert_eq!(r2.json(), r.json());

    // Keys belong to their user: another provider's same key is not a replay.
    let brightpath = app.login(Who::Brightpath).await;
    let mesa_student = app.ids.mesa_enrolled.clone();
    let theirs = format!("session_id,student_id,tutor_id,date,minutes,status\nweb-idem-9,{mesa_student},T-web,2025-04-01,30,attended\n");
    let r = app
        .send(
            brightpath.with_token(
                Req::post("/api/sessions")
                    .header("idempotency-key", "nightly-2025-04-02")
                    .body("text/csv", theirs.as_bytes()),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.header("idempotent-replay").is_none());

    // JSON bodies are accepted as well as CSV.
    let json_body = format!("[{{\"session_id\": \"web-idem-json\", \"student_id\": \"{student}\", \"tutor_id\": \"T-web\", \"date\": \"2025-04-05\", \"minutes\": 40, \"status\": \"attended\"}}]");
    let r = app
        .send(
            provider.with_token(
                Req::post("/api/sessions").body("application/json", json_body.as_bytes()),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(sessions_of(&app, &admin, DEMO_DISTRICT, &student)
        .await
        .contains(&(DEMO_PROVIDER.to_string(), "web-idem-json".to_string())));
}

pub(crate) async fn providers_upload_sessions_only_as_themselves(app: WebApp) {
    let provider = app.login(Who::Provider).await;
    let admin = app.login(Who::Admin).await;
    let student = app.ids.demo_enrolled.clone();
    let file = |id: &str| {
        format!("session_id,student_id,tutor_id,date,minutes,status\n{id},{student},T-web,2025-04-01,30,attended\n")
    };

    // Naming another provider, by form field or by query, changes nothing: the provider's own
    // organisation is used.
    let r = app
        .send(upload(
            &provider,
            "sessions",
            &[("org", MESA_PROVIDER)],
            "s.csv",
            file("web-org-1").as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .send(
            provider.with_token(
                Req::post(&format!("/api/sessions?org={MESA_PROVIDER}"))
                    .body("text/csv", file("web-org-2").as_bytes()),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let sessions = sessions_of(&app, &admin, DEMO_DISTRICT, &student).await;
    for id in ["web-org-1", "web-org-2"] {
        assert!(
            sessions.contains(&(DEMO_PROVIDER.to_string(), id.to_string())),
            "{sessions:?}"
        );
    }
    assert!(
        sessions.iter().all(|(p, _)| p == DEMO_PROVIDER),
        "no session was stored as brightpath's: {sessions:?}"
    );
    // The provider's student page lists only its own sessions; brightpath still cannot see
    // the student.
    let own = app
        .send(provider.with_token(Req::get(&format!(
            "/api/students/{DEMO_DISTRICT}/{student}"
        ))))
        .await
        .json();
    assert!(own["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .all(|s| s["provider"] == DEMO_PROVIDER));
    let brightpath = app.login(Who::Brightpath).await;
    let r = app
        .send(brightpath.with_token(Req::get(&format!(
            "/api/students/{DEMO_DISTRICT}/{student}"
        ))))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // An admin uploads for the provider named; without one, the upload is refused.
    let r = app
        .send(upload(
            &admin,
            "sessions",
            &[("org", DEMO_PROVIDER)],
            "s.csv",
            file("web-org-3").as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .send(upload(
            &admin,
            "sessions",
            &[],
            "s.csv",
            file("web-org-4").as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
}

pub(crate) async fn districts_upload_only_their_own_roster(app: WebApp) {
    let district = app.login(Who::District).await;
    let admin = app.login(Who::Admin).await;
    let zip = mesa_roster_zip();
    let mesa_student = app.ids.mesa_enrolled.clone();

    // dist-mesa's OneRoster export, by the demo district: refused, by form and by API.
    let r = app
        .send(upload(&district, "roster", &[], "roster.zip", &zip))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains(MESA_DISTRICT));
    let r = app
        .send(
            district.with_token(
                Req::post("/api/rosters?name=roster.zip").body("application/zip", &zip),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.json()["error"]
        .as_str()
        .is_some_and(|e| e.contains(MESA_DISTRICT)));
    // Nothing was imported, under either district.
    let r = app
        .send(admin.with_token(Req::get(&format!(
            "/api/students/{DEMO_DISTRICT}/{mesa_student}"
        ))))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "dist-mesa's students were not copied into the demo district"
    );
    assert!(!app
        .audit_actions("district")
        .await
        .iter()
        .any(|(a, _, _)| a == "import.roster"));
    // dist-mesa's own staff may send it (it is unchanged).
    let mesa = app.login(Who::Mesa).await;
    let r = app
        .send(upload(&mesa, "roster", &[], "roster.zip", &zip))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("120 unchanged"), "{}", r.text());

    // A plain roster names no district: it goes to the uploader's own, whatever the form says.
    let plain =
        "student_id,school_id,grade,first_name,last_name\n9990003,sch-lincoln,6,<b>Own</b>,District\n";
    let r = app
        .send(upload(
            &district,
            "roster",
            &[("org", MESA_DISTRICT)],
            "roster.csv",
            plain.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains(&format!("Roster of {DEMO_DISTRICT}")));
    // sch-lincoln is known (and keeps its name): no new school. A typo is reported as new.
    assert!(!r.text().contains("New school"), "{}", r.text());
    let typo = plain.replace("sch-lincoln", "sch-lincon");
    let r = app
        .send(upload(
            &district,
            "roster",
            &[],
            "roster.csv",
            typo.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text()
            .contains("New school: sch-lincon (1 student; the file names no school: check the id)"),
        "{}",
        r.text()
    );
    let r = app
        .send(admin.with_token(Req::get(&format!("/api/students/{MESA_DISTRICT}/9990003"))))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .send(admin.with_token(Req::get(&format!("/api/students/{DEMO_DISTRICT}/9990003"))))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The same for assessment files: the uploader's district, whatever the query says.
    let scores = "student_id,assessment,subject,term,date,score\n9990003,Screener,Reading,Fall 2024-2025,2024-09-10,201\n";
    let r = app
        .send(
            district.with_token(
                Req::post(&format!("/api/assessments?org={MESA_DISTRICT}"))
                    .body("text/csv", scores.as_bytes()),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let student = app
        .send(district.with_token(Req::get(&format!("/api/students/{DEMO_DISTRICT}/9990003"))))
        .await
        .json();
    assert_eq!(student["tests"][0]["score"], "201", "{student}");
    // What uploads bring in is shown escaped, never as markup.
    let page = app
        .send(district.with_cookie(Req::get(&format!("/students/{DEMO_DISTRICT}/9990003"))))
        .await
        .text();
    assert!(
        page.contains("&#60;b&#62;Own&#60;/b&#62; District"),
        "{page}"
    );
    assert!(!page.contains("<b>Own</b>"));
    // Provider staff upload no rosters or scores.
    let provider = app.login(Who::Provider).await;
    for kind in ["roster", "assessments"] {
        let r = app
            .send(upload(&provider, kind, &[], "x.csv", plain.as_bytes()))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "provider {kind}");
    }
}

pub(crate) async fn the_design_page_lints_simulates_and_shows_the_exhibit(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    let toml = std::fs::read(crate::support::example("contract.toml"))
        .expect("the worked example's contract");
    let r = app.send(design_form(&admin, "/design", &toml)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(page.contains("<h2>Lint findings for "), "{page}");
    assert!(page.contains("<td><code>"), "a lint check id: {page}");
    assert!(page.contains("<svg"), "the simulation chart: {page}");
    assert!(
        page.contains("200 simulated years of 300 drawn students each (seed 7)"),
        "{page}"
    );
    assert!(page.contains("formaction=\"/design/exhibit\""), "{page}");

    let r = app
        .send(design_form(&admin, "/design/exhibit", &toml))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let hash = obc_core::engine::sha256_hex(&toml);
    assert!(
        r.text()
            .contains(&format!("SHA-256 <span class=\"hash\">{hash}</span>")),
        "{}",
        r.text()
    );

    // A document that is not a contract names its line.
    let r = app
        .send(design_form(&admin, "/design", b"id = \"x\"\nprice = "))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("draft.toml:2:"), "{}", r.text());
}

pub(crate) async fn the_design_page_targets_only_the_viewers_district(app: WebApp) {
    let demo_ids: BTreeSet<String> = app
        .store
        .students(DEMO_DISTRICT)
        .await
        .expect("students")
        .into_keys()
        .collect();
    let cli_out = app.obc.path("cli-enrollment.csv");
    let cli = |district: &str, extra: &[&str]| {
        let mut args = vec![
            "target",
            "--district",
            district,
            "--subject",
            "Mathematics",
            "--term",
            "Fall 2024-2025",
            "--percentile-below",
            "40",
        ];
        args.extend_from_slice(extra);
        app.cli(&args)
    };

    // The form: an admin picks the district; district staff have only their own.
    let admin = app.login(Who::Admin).await;
    let page = app.send(admin.with_cookie(Req::get("/design"))).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("action=\"/design/target\""),
        "{}",
        page.excerpt()
    );
    assert!(
        html.contains(&format!("<option value=\"{MESA_DISTRICT}\"")),
        "{}",
        page.excerpt()
    );
    let district = app.login(Who::District).await;
    let html = app
        .send(district.with_cookie(Req::get("/design")))
        .await
        .text();
    assert!(html.contains("action=\"/design/target\""));
    assert!(
        !html.contains("name=\"district\""),
        "district staff choose no district"
    );

    // District staff see their own district's selection, the same as `obc target`'s.
    let json: Value =
        serde_json::from_str(&cli(DEMO_DISTRICT, &["--format", "json"])).expect("JSON");
    let chosen = json["chosen"].as_array().expect("chosen").len();
    assert!(
        chosen > 0,
        "the demo has students below the 40th percentile"
    );
    let path = target_path("/design/target", "", "&grades=&flags=&max_per_school=");
    let r = app.send(district.with_cookie(Req::get(&path))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    let html = r.text();
    assert!(
        html.contains(&format!(
            "{chosen} of {} students of {DEMO_DISTRICT} chosen",
            json["district_students"]
        )),
        "{}",
        r.excerpt()
    );
    assert!(
        html.contains("<td>english_learner</td>"),
        "the subgroups: {}",
        r.excerpt()
    );
    assert!(html.contains("<svg"), "the equity chart");
    assert!(html.contains("action=\"/design/target/enrollment.csv\""));

    // Its download is `obc target --out`'s file, byte for byte, of its own students, audited.
    cli(
        DEMO_DISTRICT,
        &[
            "--start",
            "2024-09-03",
            "--out",
            cli_out.to_str().expect("UTF-8"),
        ],
    );
    let expected = std::fs::read_to_string(&cli_out).expect("the CLI's CSV");
    let csv_path = target_path("/design/target/enrollment.csv", "", "&start=2024-09-03");
    let r = app.send(district.with_cookie(Req::get(&csv_path))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    assert_eq!(r.text(), expected);
    assert!(r
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"enrollment-{DEMO_DISTRICT}.csv\"").as_str())
    );
    let ids: Vec<&str> = expected
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(ids.len(), chosen);
    assert!(ids.iter().all(|id| demo_ids.contains(*id)), "{ids:?}");
    let audit = app.audit_actions(Who::District.username()).await;
    assert!(
        audit
            .iter()
            .any(|(action, record, detail)| action == "export.target"
                && record == &format!("district:{DEMO_DISTRICT}")
                && detail.starts_with(&format!("{chosen} students"))),
        "{audit:?}"
    );

    // Another district's students are never shown to district staff, however asked.
    for route in ["/design/target", "/design/target/enrollment.csv"] {
        let other = target_path(route, MESA_DISTRICT, "&start=2024-09-03");
        let r = app.send(district.with_cookie(Req::get(&other))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{route}: {}", r.excerpt());
        let r = app.send(district.with_token(Req::get(&other))).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{route} by token: {}",
            r.excerpt()
        );
    }
    // An admin chooses the district; the selection is that district's.
    let r = app
        .send(admin.with_cookie(Req::get(&target_path("/design/target", MESA_DISTRICT, ""))))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    assert!(r
        .text()
        .contains(&format!("students of {MESA_DISTRICT} chosen")));
    assert!(r.text().contains("The roster carries no flags."));

    // Providers may not use the design tools.
    let provider = app.login(Who::Provider).await;
    for route in ["/design/target", "/design/target/enrollment.csv"] {
        let path = target_path(route, DEMO_DISTRICT, "&start=2024-09-03");
        let r = app.send(provider.with_cookie(Req::get(&path))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{route}");
    }

    // A rule the parser refuses is named; a download needs its start date.
    let bad = target_path("/design/target", "", "").replace("below=40", "below=forty");
    let r = app.send(district.with_cookie(Req::get(&bad))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("forty"), "{}", r.excerpt());
    let r = app
        .send(district.with_cookie(Req::get(&target_path(
            "/design/target/enrollment.csv",
            "",
            "",
        ))))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("start"), "{}", r.excerpt());
}

pub(crate) async fn an_invalid_contract_names_its_line(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    // A syntax error on line 5.
    let broken = "id = \"web-contract\"\ndistrict = \"demo-district\"\nprovider = \"demo-tutoring\"\nperiod = { start = 2024-08-12, end = 2025-05-30 \nsubject = \"Mathematics\"\n";
    let r = app
        .send(upload(
            &admin,
            "contract",
            &[],
            "broken.toml",
            broken.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let page = r.text();
    assert!(
        page.contains("<td>broken.toml</td><td class=\"num\">5</td>"),
        "{page}"
    );
    // The document is shown with the problem next to its line.
    let line5 = page
        .split("<tr class=\"bad\">")
        .nth(1)
        .expect("an annotated line");
    assert!(line5.starts_with("<td class=\"num\">5</td>"), "{line5}");
    assert!(line5.contains("&#9650; column"), "{line5}");
    // A wrong value on line 6, column 21, through the API.
    let toml = String::from_utf8(mesa_contract_toml()).expect("UTF-8");
    let bad_value = toml.replace(
        "price_per_student = \"1200.05\"",
        "price_per_student = \"abc\"",
    );
    assert_ne!(bad_value, toml);
    let r = app
        .send(
            admin.with_token(
                Req::post("/api/contracts?name=bad-value.toml")
                    .body("application/toml", bad_value.as_bytes()),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.json();
    assert_eq!(body["imported"], false);
    assert!(
        body["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .any(|p| p["file"] == "bad-value.toml"
                && p["line"] == 6
                && p["column"] == "column 21"
                && p["expected"]
                    .as_str()
                    .is_some_and(|e| e.contains("price_per_student"))),
        "{body}"
    );
    // An unknown district: the problem is at the `district` line.
    let unknown = toml.replace("district = \"dist-mesa\"", "district = \"dist-nowhere\"");
    assert_ne!(unknown, toml);
    let r = app
        .send(
            admin.with_token(
                Req::post("/api/contracts?name=unknown.toml")
                    .body("application/toml", unknown.as_bytes()),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let body = r.json();
    assert!(
        body["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .any(|p| {
                p["line"] == 2
                    && p["column"] == "column 12"
                    && p["expected"].as_str().is_some_and(|e| {
                        e.contains("`district` = \"dist-nowhere\": no such district")
                    })
            }),
        "{body}"
    );
    // Nothing was added.
    let list = app
        .send(admin.with_token(Req::get("/api/contracts")))
        .await
        .json();
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    // A new version of a contract, by the admin: accepted and listed.
    let amended = toml.replace(
        "not_to_exceed = \"216009.00\"",
        "not_to_exceed = \"250000.00\"",
    );
    assert_ne!(amended, toml);
    let r = app
        .send(upload(
            &admin,
            "contract",
            &[],
            "amended.toml",
            amended.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text()
            .contains(&format!("Contract {MESA_CONTRACT} version 2 added")),
        "{}",
        r.text()
    );
}

/// A score obc refuses to compute with (a projection with 28 decimals) makes the contract's
/// statement an error page naming the student and value, never a dropped connection, and the
/// dashboard shows that message in the contract's row while the other contracts keep theirs.
pub(crate) async fn a_contract_whose_data_cannot_be_computed_keeps_the_dashboard(app: WebApp) {
    let student = app.ids.mesa_enrolled.clone();
    let file = app.obc.write(
        "tiny_projection.csv",
        format!(
            "student_id,assessment,subject,term,date,score,projected_growth\n\
             {student},MAP Growth,Mathematics,Fall 2024-2025,2024-10-30,200,0.0000000000000000000000000001\n"
        ),
    );
    app.cli(&["import", "assessments", &file, "--district", MESA_DISTRICT]);
    let why = format!(
        "student {student}: the FallToSpring projected growth 0.0000000000000000000000000001 has more than 6 decimal places"
    );
    let admin = app.login(Who::Admin).await;
    let r = app.send(admin.with_cookie(Req::get("/"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    let page = r.text();
    assert!(page.contains(&why), "{page}");
    assert!(
        page.contains(&format!("<a href=\"/contracts/{DEMO_CONTRACT}\">")),
        "{page}"
    );
    let r = app
        .send(admin.with_cookie(Req::get(&format!(
            "/contracts/{MESA_CONTRACT}/statements/final"
        ))))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.excerpt()
    );
    assert!(r.text().contains(&why), "{}", r.excerpt());
}

/// The JSON API's routes, as the web features declare them in the route table.
const API_ROUTES: [(&str, &str); 14] = [
    ("GET", "/api/openapi.json"),
    ("GET", "/api/me"),
    ("GET", "/api/contracts"),
    ("POST", "/api/contracts"),
    ("GET", "/api/contracts/{id}"),
    ("GET", "/api/contracts/{id}/statements/{milestone}"),
    (
        "POST",
        "/api/contracts/{id}/statements/{milestone}/finalize",
    ),
    ("GET", "/api/students/{district}/{student}"),
    ("POST", "/api/sessions"),
    ("POST", "/api/rosters"),
    ("POST", "/api/assessments"),
    ("POST", "/api/school-attendance"),
    ("GET", "/api/ledger"),
    ("GET", "/api/audit"),
];

pub(crate) async fn openapi_describes_every_api_route(app: WebApp) {
    let r = app.send(Req::get("/api/openapi.json")).await;
    assert_eq!(r.status, StatusCode::OK, "the document is public");
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let listed: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let all_api: BTreeSet<(String, String)> = table_routes()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/"))
        .collect();
    let unrouted: Vec<_> = listed.difference(&all_api).collect();
    assert!(
        unrouted.is_empty(),
        "the test lists API routes the router does not have: {unrouted:?}"
    );

    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let undocumented: Vec<_> = listed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "API routes missing from the OpenAPI document: {undocumented:?}"
    );
    let phantom: Vec<_> = documented.difference(&all_api).collect();
    assert!(
        phantom.is_empty(),
        "OpenAPI operations the router does not have: {phantom:?}"
    );
    // The API routes of the other modules are documented too.
    let elsewhere: Vec<_> = all_api
        .difference(&listed)
        .filter(|r| !documented.contains(*r))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "API routes missing from the OpenAPI document: {elsewhere:?}"
    );
    // Path parameters are declared, and every $ref resolves.
    for (path, item) in paths {
        for (_, operation) in item.as_object().expect("a path item") {
            for param in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                let declared = operation["parameters"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p["name"] == param && p["in"] == "path" && p["required"] == true)
                });
                assert!(declared, "{path}: parameter {param}");
            }
            assert!(operation["responses"].is_object(), "{path}: responses");
        }
    }
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/").skip(1) {
        let pointer = reference.split('"').next().expect("a pointer");
        assert!(
            doc.pointer(&format!("/{pointer}")).is_some(),
            "unresolved $ref #/{pointer}"
        );
    }
}

/// Every request body and response of every operation has a schema, every `$ref` resolves,
/// and the bodies the API answers (reads, writes and refusals) have what their schemas require.
pub(crate) async fn openapi_types_every_response(app: WebApp) {
    let doc = app.send(Req::get("/api/openapi.json")).await.json();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in &refs {
        assert!(resolve(&doc, r).is_some(), "unresolved $ref {r}");
    }
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            for (media, body) in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                assert!(
                    body["schema"].is_object(),
                    "{method} {path}: request {media} has no schema"
                );
            }
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success response"
            );
            for (status, response) in responses {
                let response = follow(&doc, response);
                let content = response["content"].as_object();
                assert!(
                    content.is_some_and(|c| !c.is_empty()),
                    "{method} {path} {status}: no content"
                );
                for (media, body) in content.into_iter().flatten() {
                    assert!(
                        body["schema"].as_object().is_some_and(|s| !s.is_empty()),
                        "{method} {path} {status} {media}: no schema"
                    );
                }
            }
        }
    }

    let bearer =
        |who: Who, req: Req| req.header("authorization", &format!("Bearer {}", app.token(who)));
    let json_post = |who: Who, url: &str, body: &str| {
        bearer(
            who,
            Req::post(url).body("application/json", body.as_bytes()),
        )
    };
    let m = MESA_CONTRACT;
    let student = app.ids.mesa_enrolled.clone();
    let statement = "/api/contracts/{id}/statements/{milestone}";
    // Writes first, so that the reads have finalized statements, a review and a meeting.
    let mut calls: Vec<(&str, &str, Req)> = vec![
        (
            "/api/contracts/{id}/statements/{milestone}/finalize",
            "200",
            bearer(
                Who::Admin,
                Req::post(&format!(
                    "/api/contracts/{m}/statements/midyear/finalize?as_of=2025-01-31"
                )),
            ),
        ),
        (
            "/api/contracts/{id}/statements/{milestone}/issue",
            "200",
            bearer(
                Who::Admin,
                Req::post(&format!("/api/contracts/{m}/statements/enrollment/issue")),
            ),
        ),
        (
            "/api/contracts/{id}/statements/{milestone}/dispute",
            "200",
            json_post(
                Who::Brightpath,
                &format!("/api/contracts/{m}/statements/enrollment/dispute"),
                &format!(r#"{{"student": "{student}", "reason": "two sessions missing"}}"#),
            ),
        ),
        (
            "/api/contracts/{id}/statements/{milestone}/resolve",
            "200",
            json_post(
                Who::Admin,
                &format!("/api/contracts/{m}/statements/enrollment/resolve"),
                r#"{"dispute": 1, "ruling": "rejected", "reason": "the log is complete"}"#,
            ),
        ),
        (
            "/api/contracts/{id}/meetings",
            "200",
            json_post(
                Who::Admin,
                &format!("/api/contracts/{m}/meetings"),
                r#"{"attendees": [{"name": "Ana", "side": "district"}]}"#,
            ),
        ),
        (
            "/api/rosters",
            "422",
            bearer(
                Who::Mesa,
                Req::post("/api/rosters").body("text/csv", b"student_id\n"),
            ),
        ),
        (
            "/api/contracts/{id}",
            "404",
            bearer(Who::Admin, Req::get("/api/contracts/no-such-contract")),
        ),
    ];
    let mut seen = Vec::new();
    let mut meeting = None;
    while !calls.is_empty() {
        for (path, status, req) in std::mem::take(&mut calls) {
            let method = req.method.as_str().to_lowercase();
            let url = req.path.clone();
            let r = app.send(req).await;
            assert_eq!(r.status.as_str(), status, "{method} {url}: {}", r.excerpt());
            let response = follow(&doc, &doc["paths"][path][&method]["responses"][status]);
            let media = r.header("content-type").unwrap_or_default();
            let media = media.split(';').next().unwrap_or_default().to_string();
            let schema = &response["content"][&media]["schema"];
            assert!(
                schema.is_object(),
                "{method} {url} {status}: {media} is undocumented"
            );
            let body = match media.as_str() {
                "application/json" => r.json(),
                _ => Value::String(r.text()),
            };
            if let Err(why) = conforms(&doc, schema, &body, "body") {
                panic!("{method} {url}: {why}\n{body:#}");
            }
            // The writes leave something in each list whose items the schema describes.
            let filled = match path {
                "/api/ledger" => body[0].is_object(),
                "/api/meetings/{meeting}" => {
                    body["attendees"][1].is_object() && body["notes"][0].is_object()
                }
                "/api/contracts/{id}/statements/{milestone}/review" => {
                    body["disputes"][0]["resolution"].is_object()
                }
                _ => true,
            };
            assert!(filled, "{method} {url}: {body}");
            seen.push(path);
            if path == "/api/contracts/{id}/meetings" && method == "post" {
                meeting = body["meeting"]["id"].as_i64();
                let id = meeting.expect("the meeting's id");
                let at = |p: &str| format!("/api/meetings/{id}{p}");
                calls.extend([
                    ("/api/meetings/{meeting}/attendees", "200", json_post(Who::Admin, &at("/attendees"), r#"{"name": "Ben", "side": "provider"}"#)),
                    ("/api/meetings/{meeting}/notes", "200", json_post(Who::Mesa, &at("/notes"), &format!(r#"{{"student": "{student}", "text": "reads daily", "district_only": true}}"#))),
                    ("/api/meetings/{meeting}/actions", "200", json_post(Who::Mesa, &at("/actions"), r#"{"owner": "provider", "due": "2025-03-01", "text": "call home"}"#)),
                ]);
            }
            if path == "/api/meetings/{meeting}/actions" {
                let (id, item) = (
                    meeting.expect("a meeting"),
                    body["id"].as_i64().expect("an item"),
                );
                calls.push((
                    "/api/meetings/{meeting}/actions/{item}/status",
                    "200",
                    json_post(
                        Who::Admin,
                        &format!("/api/meetings/{id}/actions/{item}/status"),
                        r#"{"status": "done", "note": "called"}"#,
                    ),
                ));
            }
            if path == "/api/meetings/{meeting}/actions/{item}/status" {
                // Then every read, as the admin sees it.
                let id = meeting.expect("a meeting");
                let reads = [
                    ("/api/me", "/api/me".to_string()),
                    ("/api/contracts", "/api/contracts".into()),
                    ("/api/contracts/{id}", format!("/api/contracts/{m}")),
                    (statement, format!("/api/contracts/{m}/statements/midyear")),
                    (
                        statement,
                        format!("/api/contracts/{DEMO_CONTRACT}/statements/final?format=json"),
                    ),
                    (
                        statement,
                        format!("/api/contracts/{m}/statements/final?format=csv"),
                    ),
                    (
                        "/api/contracts/{id}/statements/{milestone}/review",
                        format!("/api/contracts/{m}/statements/enrollment/review"),
                    ),
                    (
                        "/api/students/{district}/{student}",
                        format!("/api/students/{MESA_DISTRICT}/{student}"),
                    ),
                    ("/api/ledger", "/api/ledger".into()),
                    ("/api/audit", "/api/audit?action=statement.".into()),
                    (
                        "/api/contracts/{id}/progress",
                        format!("/api/contracts/{m}/progress"),
                    ),
                    (
                        "/api/contracts/{id}/meetings",
                        format!("/api/contracts/{m}/meetings"),
                    ),
                    ("/api/meetings/{meeting}", format!("/api/meetings/{id}")),
                    (
                        "/api/contracts/{id}/indigo",
                        format!("/api/contracts/{m}/indigo"),
                    ),
                    ("/api/openapi.json", "/api/openapi.json".into()),
                ];
                calls.extend(
                    reads
                        .into_iter()
                        .map(|(path, url)| (path, "200", bearer(Who::Admin, Req::get(&url)))),
                );
            }
        }
    }
    assert!(
        seen.contains(&"/api/openapi.json"),
        "every call was made: {seen:?}"
    );
}

/// Every `$ref` of a JSON document.
fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => refs.push(r.clone()),
                    _ => collect_refs(v, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

/// The target of a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// `value`, or what it refers to.
fn follow<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(r) => resolve(doc, r).unwrap_or_else(|| panic!("unresolved $ref {r}")),
        None => value,
    }
}

/// Whether `body` has every property `schema` requires, of the JSON types and enum values it
/// names, through `$ref`, `allOf`, `oneOf`/`anyOf`, arrays and nested objects; else where not.
fn conforms(doc: &Value, schema: &Value, body: &Value, at: &str) -> Result<(), String> {
    let schema = follow(doc, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        conforms(doc, part, body, at)?;
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        if !options.iter().any(|o| conforms(doc, o, body, at).is_ok()) {
            return Err(format!(
                "{at}: {body} is none of {}",
                Value::from(options.clone())
            ));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let is = |t: &str| match t {
        "object" => body.is_object(),
        "array" => body.is_array(),
        "string" => body.is_string(),
        "integer" => body.is_i64() || body.is_u64(),
        "number" => body.is_number(),
        "boolean" => body.is_boolean(),
        "null" => body.is_null(),
        other => panic!("{at}: unknown type {other}"),
    };
    if !types.is_empty() && !types.iter().any(|t| is(t)) {
        return Err(format!("{at}: {body} is not {types:?}"));
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(body) {
            return Err(format!("{at}: {body} is not one of {values:?}"));
        }
    }
    if let Some(object) = body.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().expect("a property name");
            if !object.contains_key(name) {
                return Err(format!("{at}: no {name}, which the schema requires"));
            }
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(value) = object.get(name) {
                conforms(doc, property, value, &format!("{at}.{name}"))?;
            }
        }
    }
    if let (Some(items), true) = (body.as_array(), schema["items"].is_object()) {
        for (i, item) in items.iter().enumerate() {
            conforms(doc, &schema["items"], item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

pub(crate) async fn providers_never_see_demographics(app: WebApp) {
    let student = app.ids.demo_enrolled.clone();
    let path = format!("/students/{DEMO_DISTRICT}/{student}");
    let api_path = format!("/api{path}");
    for who in [Who::Admin, Who::District, Who::Provider] {
        let s = app.login(who).await;
        let json = app.send(s.with_cookie(Req::get(&api_path))).await.json();
        let html = app.send(s.with_cookie(Req::get(&path))).await.text();
        if who == Who::Provider {
            assert!(
                json.get("flags").is_none(),
                "no flags for providers: {json}"
            );
            assert!(!html.contains("Flags:"), "no flags on the provider's page");
            for word in [
                "english_learner",
                "disability",
                "economically_disadvantaged",
                "hispanic",
            ] {
                assert!(
                    !json.to_string().contains(word) && !html.contains(word),
                    "{word}"
                );
            }
            assert!(json["sessions"]
                .as_array()
                .expect("sessions")
                .iter()
                .all(|x| x["provider"] == DEMO_PROVIDER));
        } else {
            let flags = json["flags"]
                .as_object()
                .expect("flags for district staff and admins");
            assert!(flags.contains_key("english_learner"), "{json}");
            assert!(html.contains("Flags:") && html.contains("english_learner="));
        }
    }
    // Every student page is the student's timeline: enrollment, factors, scores and sessions.
    let district = app.login(Who::District).await;
    let json = app
        .send(district.with_cookie(Req::get(&api_path)))
        .await
        .json();
    let html = app.send(district.with_cookie(Req::get(&path))).await.text();
    let sessions = json["sessions"].as_array().expect("sessions");
    let tests = json["tests"].as_array().expect("tests");
    assert!(!sessions.is_empty() && !tests.is_empty(), "{json}");
    assert_eq!(json["enrollments"][0]["contract"], DEMO_CONTRACT);
    assert!(html.contains(&format!("<h2>Sessions ({})</h2>", sessions.len())));
    assert!(html.contains(&format!(
        "<a href=\"/contracts/{DEMO_CONTRACT}\">{DEMO_CONTRACT}</a>"
    )));
    for s in sessions {
        assert!(html.contains(&format!(
            "<tr><td>{}</td><td>{}</td>",
            s["date"].as_str().unwrap_or_default(),
            s["provider"].as_str().unwrap_or_default()
        )));
    }
    for t in tests {
        assert!(html.contains(&format!(
            "<td>{}</td><td>{}</td><td>{}</td>",
            t["term"].as_str().unwrap_or_default(),
            t["subject"].as_str().unwrap_or_default(),
            t["date"].as_str().unwrap_or_default()
        )));
    }
    let dates: Vec<&str> = sessions.iter().filter_map(|s| s["date"].as_str()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted, "the timeline is in date order");
}

pub(crate) async fn providers_cannot_write_sessions_into_districts_they_do_not_serve(app: WebApp) {
    let brightpath = app.login(Who::Brightpath).await;
    let admin = app.login(Who::Admin).await;
    let demo_student = app.ids.demo_enrolled.clone();
    let push = |student: &str| {
        let body = format!(
            "session_id,student_id,tutor_id,date,minutes,status\nweb-foreign-1,{student},T-web,2025-04-01,30,attended\n"
        );
        brightpath.with_token(Req::post("/api/sessions").body("text/csv", body.as_bytes()))
    };
    // brightpath has no contract with the demo district: its student is none of brightpath's
    // business, and must read exactly like a student who does not exist.
    let foreign = app.send(push(&demo_student)).await;
    let unknown = app.send(push("no-such-student")).await;
    assert_eq!(
        foreign.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        foreign.text()
    );
    assert_eq!(
        foreign.json()["problems"][0]["expected"],
        unknown.json()["problems"][0]["expected"]
    );
    let sessions = sessions_of(&app, &admin, DEMO_DISTRICT, &demo_student).await;
    assert!(
        sessions.iter().all(|(p, _)| p != MESA_PROVIDER),
        "{sessions:?}"
    );
}

pub(crate) async fn every_response_carries_security_headers(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    let student = format!("/api/students/{DEMO_DISTRICT}/{}", app.ids.demo_enrolled);
    let responses = [
        ("/login", app.send(Req::get("/login")).await),
        ("/ (anonymous)", app.send(Req::get("/")).await),
        (
            "contract page",
            app.send(admin.with_cookie(Req::get(&format!("/contracts/{DEMO_CONTRACT}"))))
                .await,
        ),
        (
            "student JSON",
            app.send(admin.with_token(Req::get(&student))).await,
        ),
        (
            "404",
            app.send(admin.with_cookie(Req::get("/no-such-page"))).await,
        ),
        ("/style.css", app.send(Req::get("/style.css")).await),
    ];
    for (what, r) in &responses {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{what}: {csp:?}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
        let cache = r.header("cache-control").unwrap_or_default();
        if *what == "/style.css" {
            assert!(cache.starts_with("public"), "{cache}");
            assert!(r.text().contains("--accent"), "the stylesheet is served");
        } else {
            assert_eq!(cache, "no-store", "{what}");
        }
    }
    // The policy allows no inline style or script: the pages have none.
    let page = responses[2].1.text();
    assert!(page.contains("<svg"), "the contract page has its charts");
    for inline in ["<style", "style=\"", "<script", " onclick="] {
        assert!(
            !page.contains(inline),
            "inline {inline} on the contract page"
        );
    }
    assert!(page.contains("<link rel=\"stylesheet\" href=\"/style.css\">"));
}

pub(crate) async fn forty_parallel_wrong_passwords_check_at_most_five(app: WebApp) {
    let tries = (0..40).map(|_| app.post_login("admin", "wrong-password"));
    let answers = futures_util::future::join_all(tries).await;
    let checked = answers
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(checked <= 5, "{checked} wrong passwords were checked");
    assert_eq!(checked + refused, 40, "every other try is refused with 429");
}

pub(crate) async fn a_known_browser_signs_in_despite_an_attackers_failures(app: WebApp) {
    // The admin signs in on their browser, which is remembered, and signs out.
    let first = app.post_login("admin", &Who::Admin.password()).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text());
    let device = first
        .set_cookie("obc_device")
        .expect("a successful sign-in remembers the browser");
    let set = first
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("obc_device="))
        .expect("the device cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    // A district user's browser is known too, but only for the district user.
    let district = app.post_login("district", &Who::District.password()).await;
    let district_device = district.set_cookie("obc_device").expect("remembered");

    // An attacker tries passwords for admin until refused.
    let mut refused = 0;
    for _ in 0..10 {
        let r = app.post_login("admin", "guess").await;
        refused += usize::from(r.status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(refused, 5, "five guesses are checked, then refused");
    // Any other browser is locked out of admin, even with the right password...
    let r = app.post_login("admin", &Who::Admin.password()).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = app
        .post_login_with(
            "admin",
            &Who::Admin.password(),
            &format!("obc_device={district_device}"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a device of another user"
    );
    // ...but the admin's own browser signs in.
    let r = app
        .post_login_with(
            "admin",
            &Who::Admin.password(),
            &format!("obc_device={device}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.set_cookie("obc_session").is_some());
    // A known browser is limited on its own: five wrong passwords lock it too.
    for _ in 0..5 {
        let r = app
            .post_login_with("admin", "typo", &format!("obc_device={device}"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .post_login_with(
            "admin",
            &Who::Admin.password(),
            &format!("obc_device={device}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A page's status, for a request that must succeed as a plain page.
async fn page_status(app: &WebApp, session: &Session, path: &str) -> StatusCode {
    app.send(session.with_cookie(Req::get(path))).await.status
}

pub(crate) async fn users_change_their_own_password(app: WebApp) {
    let here = app.login(Who::Provider).await;
    let elsewhere = app.login(Who::Provider).await;
    let page = app.send(here.with_cookie(Req::get("/account"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("action=\"/account/password\""));
    let change = |current: &str, new: &str, confirm: &str| {
        here.with_cookie(Req::post("/account/password").form(&[
            ("csrf", &here.csrf),
            ("current", current),
            ("new", new),
            ("confirm", confirm),
        ]))
    };
    let old = Who::Provider.password();
    let wrong = app
        .send(change("not-it", "new-password-9", "new-password-9"))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text());
    let short = app.send(change(&old, "short", "short")).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short.text().contains("at least 8 characters"),
        "{}",
        short.text()
    );
    let done = app
        .send(change(&old, "new-password-9", "new-password-9"))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.text().contains("Your password was changed"));
    // This sign-in goes on; the other one ended.
    assert_eq!(page_status(&app, &here, "/").await, StatusCode::OK);
    assert_eq!(
        page_status(&app, &elsewhere, "/").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post_login("provider", &old).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_login("provider", "new-password-9").await.status,
        StatusCode::SEE_OTHER
    );
    assert!(app
        .audit_actions("provider")
        .await
        .iter()
        .any(|(a, r, _)| a == "user.password" && r == "user:provider"));
}

pub(crate) async fn admins_disable_users_and_revoke_tokens(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    let provider = app.login(Who::Provider).await;
    let users = app.send(admin.with_cookie(Req::get("/users"))).await;
    assert_eq!(users.status, StatusCode::OK);
    assert!(users.text().contains("action=\"/users/provider/disable\""));
    let post = |path: &str| admin.with_cookie(Req::post(path).form(&[("csrf", &admin.csrf)]));

    // Disabling ends the provider's sign-in, refuses their token and their password.
    let r = app.send(post("/users/provider/disable")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), Some("/users"));
    assert_eq!(
        page_status(&app, &provider, "/").await,
        StatusCode::SEE_OTHER
    );
    let api = app.send(provider.with_token(Req::get("/api/me"))).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    let login = app.post_login("provider", &Who::Provider.password()).await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    assert!(login.text().contains("This account is disabled"));
    assert!(login.set_cookie("obc_session").is_none());
    // Enabled again, they sign in; the old token stays revoked.
    let r = app.send(post("/users/provider/enable")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.post_login("provider", &Who::Provider.password())
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let api = app.send(provider.with_token(Req::get("/api/me"))).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);

    // Revoking one token refuses it.
    let district = app.login(Who::District).await;
    assert_eq!(
        app.send(district.with_token(Req::get("/api/me")))
            .await
            .status,
        StatusCode::OK
    );
    let tokens = app
        .store
        .api_tokens(Some("district"))
        .await
        .expect("tokens");
    let id = &tokens[0].id;
    let r = app.send(post(&format!("/tokens/{id}/revoke"))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        app.send(district.with_token(Req::get("/api/me")))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // An admin cannot disable themselves.
    let r = app.send(post("/users/admin/disable")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let audit = app.audit_actions("admin").await;
    for (action, record) in [
        ("user.disable", "user:provider"),
        ("user.enable", "user:provider"),
        ("token.revoke", "user:district"),
    ] {
        assert!(
            audit.iter().any(|(a, r, _)| a == action && r == record),
            "{action} {record}: {audit:?}"
        );
    }

    // The same from the command line, with --help that teaches.
    let help = app.cli(&["user", "--help"]);
    for fragment in [
        "token-revoke",
        "disable",
        "password",
        "tokens",
        "obc user token-revoke",
    ] {
        assert!(help.contains(fragment), "{fragment}: {help}");
    }
    assert!(app.cli(&["user", "token", "--help"]).contains("--days"));
    let token = app.cli(&["user", "token", "auditor", "--label", "cli", "--days", "30"]);
    let token = token.trim();
    let listed = app.cli(&["user", "tokens", "auditor"]);
    let row = listed
        .lines()
        .find(|l| l.contains(" cli "))
        .expect("the new token");
    let id = row.split_whitespace().next().expect("an id");
    let in_30_days = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    assert!(row.contains(&in_30_days.date().to_string()), "{row}");
    let bearer = |t: &str| Req::get("/api/me").header("authorization", &format!("Bearer {t}"));
    assert_eq!(app.send(bearer(token)).await.status, StatusCode::OK);
    app.cli(&["user", "token-revoke", id]);
    assert_eq!(
        app.send(bearer(token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let auditor = app.login(Who::Auditor).await;
    app.cli(&["user", "disable", "auditor"]);
    assert_eq!(
        page_status(&app, &auditor, "/").await,
        StatusCode::SEE_OTHER
    );
    assert!(app.cli(&["user", "list"]).contains("disabled"));
    app.cli(&["user", "enable", "auditor"]);
    let out = app.cli(&["user", "password", "auditor"]);
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("a generated password");
    assert_eq!(
        app.post_login("auditor", password).await.status,
        StatusCode::SEE_OTHER
    );
    let audit = app.audit_actions("tester").await;
    for action in [
        "token.add",
        "token.revoke",
        "user.disable",
        "user.enable",
        "user.password",
    ] {
        assert!(
            audit.iter().any(|(a, _, _)| a == action),
            "{action}: {audit:?}"
        );
    }
}

pub(crate) async fn api_tokens_expire(app: WebApp) {
    let account = app
        .store
        .user_for_login("district")
        .await
        .expect("query")
        .expect("the district user");
    let bearer = |t: &str| Req::get("/api/me").header("authorization", &format!("Bearer {t}"));
    for (token, valid_for, status) in [
        (
            "expired-token",
            time::Duration::seconds(-1),
            StatusCode::UNAUTHORIZED,
        ),
        ("fresh-token", time::Duration::days(1), StatusCode::OK),
    ] {
        app.store
            .add_api_token("test", &account.user, token, token, valid_for)
            .await
            .expect("store a token");
        let r = app.send(bearer(token)).await;
        assert_eq!(r.status, status, "{token}: {}", r.text());
    }
    // Tokens are made for 90 days unless told otherwise.
    let out = app.obc.run(&["user", "token", "district"]);
    let in_90_days = time::OffsetDateTime::now_utc() + time::Duration::days(90);
    assert!(
        out.stderr()
            .contains(&format!("It expires {}", in_90_days.date())),
        "{}",
        out.stderr()
    );
}

pub(crate) async fn expired_login_sessions_are_deleted(app: WebApp) {
    let account = app
        .store
        .user_for_login("auditor")
        .await
        .expect("query")
        .expect("the auditor");
    app.store
        .create_login_session(&account.user, "stale", "csrf", time::Duration::hours(-1))
        .await
        .expect("an expired session");
    // Direct SQL runs its own runtime, so on a thread of its own.
    let sessions_of_auditor = || {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    crate::ledger::try_sql(
                        &app.obc,
                        &["SELECT count(*) FROM login_sessions WHERE user_id = (SELECT id FROM users WHERE username = 'auditor')"],
                    )
                    .expect("count sessions")
                })
                .join()
                .expect("the SQL thread")
        })
    };
    assert_eq!(sessions_of_auditor(), vec![1]);
    app.login(Who::District).await;
    let stale = sessions_of_auditor();
    assert_eq!(
        stale,
        vec![0],
        "the expired session was deleted at the next sign-in"
    );
}

pub(crate) async fn anonymous_bodies_and_error_pages_are_bounded(app: WebApp) {
    // A large sign-in is refused without being read whole.
    let (cookie, csrf) = app.login_form().await;
    let padding = "x".repeat(1024 * 1024);
    let big = app
        .send(
            Req::post("/login")
                .cookie(&format!("obc_login_csrf={cookie}"))
                .form(&[
                    ("username", "admin"),
                    ("password", &padding),
                    ("csrf", &csrf),
                ]),
        )
        .await;
    assert_eq!(
        big.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        big.excerpt()
    );
    // So is any other anonymous body.
    let r = app
        .send(Req::post("/upload/sessions").body("text/csv", padding.as_bytes()))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    // A rejected upload shows the first 100 problems, values cut short, and how many more.
    let admin = app.login(Who::Admin).await;
    let long_value = "9".repeat(10_000);
    let mut csv = String::from("session_id,student_id,tutor_id,date,minutes,status\n");
    for i in 0..500 {
        csv.push_str(&format!(
            "b{i},{},T1,2025-01-01,{long_value},attended\n",
            app.ids.demo_enrolled
        ));
    }
    let r = app
        .send(upload(
            &admin,
            "sessions",
            &[("org", DEMO_PROVIDER)],
            "bad.csv",
            csv.as_bytes(),
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.excerpt()
    );
    let html = r.text();
    assert_eq!(
        html.matches("<tr><td>bad.csv</td>").count(),
        100,
        "{}",
        r.excerpt()
    );
    assert!(
        html.contains("... and 400 more problems."),
        "{}",
        r.excerpt()
    );
    assert!(html.contains("... (10000 characters)"), "{}", r.excerpt());
    assert!(html.len() < 200_000, "{} bytes of HTML", html.len());
}

/// Every web test above as a `#[tokio::test]`, on the app `$app` makes (an async fn returning
/// `Option<WebApp>`; `None` skips). Here on SQLite; `postgres.rs` runs them on PostgreSQL.
macro_rules! web_tests {
    ($app:path) => {
        $crate::web_http::web_tests!(@ $app; access_matrix_every_role_by_every_route, login_refuses_wrong_passwords_and_stale_forms, five_failed_sign_ins_lock_the_form, logout_ends_the_session, dashboards_list_only_contracts_in_scope, the_statement_page_shows_every_student_with_reasons_and_totals, downloads_equal_the_cli_byte_for_byte_and_are_audited, finalize_by_form_and_by_api, a_rejected_upload_lists_every_problem_and_imports_nothing, api_session_pushes_are_idempotent, providers_upload_sessions_only_as_themselves, districts_upload_only_their_own_roster, an_invalid_contract_names_its_line, the_design_page_lints_simulates_and_shows_the_exhibit, the_design_page_targets_only_the_viewers_district, a_contract_whose_data_cannot_be_computed_keeps_the_dashboard, openapi_describes_every_api_route, openapi_types_every_response, providers_never_see_demographics, providers_cannot_write_sessions_into_districts_they_do_not_serve, every_response_carries_security_headers, forty_parallel_wrong_passwords_check_at_most_five, a_known_browser_signs_in_despite_an_attackers_failures, users_change_their_own_password, admins_disable_users_and_revoke_tokens, api_tokens_expire, expired_login_sessions_are_deleted, anonymous_bodies_and_error_pages_are_bounded);
    };
    (@ $app:path; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                if let Some(app) = $app().await {
                    $crate::web_http::$name(app).await;
                }
            }
        )*
    };
}
pub(crate) use web_tests;

mod on_sqlite {
    async fn app() -> Option<crate::web_support::WebApp> {
        Some(crate::web_support::WebApp::new().await)
    }

    crate::web_http::web_tests!(app);
}
