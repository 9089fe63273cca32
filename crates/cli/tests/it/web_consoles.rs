//! HTTP tests of the consoles (issue 10): the provider's dashboard section, the admin's users
//! and tokens, the auditor's audit log (filters, pages, downloads) and ledger verification.
//! Requests go to the real router in-process, on a copy of the fixture of `web_support`.

use crate::web_support::*;
use axum::http::StatusCode;
use serde_json::Value;

/// A form POST with the session's cookie and CSRF token.
fn form(s: &Session, path: &str, fields: &[(&str, &str)]) -> Req {
    let mut all = vec![("csrf", s.csrf.as_str())];
    all.extend_from_slice(fields);
    s.with_cookie(Req::post(path).form(&all))
}

/// The value of the page's one-time secret field.
fn secret(html: &str) -> String {
    let start = html.find("id=\"secret\"").expect("a secret on the page");
    let value = &html[start..];
    let value = &value[value.find("value=\"").expect("its value") + 7..];
    value[..value.find('"').expect("its end")].to_string()
}

pub(crate) async fn admins_add_users_reset_passwords_and_issue_tokens(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    // A new auditor: the generated password signs them in.
    let r = app
        .send(form(
            &admin,
            "/users",
            &[
                ("username", "new-auditor"),
                ("role", "auditor"),
                ("org", ""),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    let first = secret(&r.text());
    assert_eq!(first.len(), 20);
    assert_eq!(
        app.post_login("new-auditor", &first).await.status,
        StatusCode::SEE_OTHER
    );
    // The same username twice, a district user without a district, a bad name: refused.
    for (fields, status) in [
        (
            [
                ("username", "new-auditor"),
                ("role", "auditor"),
                ("org", ""),
            ],
            StatusCode::CONFLICT,
        ),
        (
            [
                ("username", "new-district"),
                ("role", "district"),
                ("org", ""),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            [("username", "a/b"), ("role", "auditor"), ("org", "")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = app.send(form(&admin, "/users", &fields)).await;
        assert_eq!(r.status, status, "{fields:?}: {}", r.excerpt());
    }
    // A district user of a district.
    let r = app
        .send(form(
            &admin,
            "/users",
            &[
                ("username", "new-district"),
                ("role", "district"),
                ("org", DEMO_DISTRICT),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    assert!(r.text().contains(DEMO_DISTRICT));

    // A reset: a new password works, the old one no longer does.
    let r = app
        .send(form(&admin, "/users/new-auditor/password", &[]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    let second = secret(&r.text());
    assert_ne!(first, second);
    assert_eq!(
        app.post_login("new-auditor", &first).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_login("new-auditor", &second).await.status,
        StatusCode::SEE_OTHER
    );

    // A token, shown once, answers the API as its user until revoked.
    let r = app
        .send(form(
            &admin,
            "/tokens",
            &[
                ("username", "new-auditor"),
                ("label", "board export"),
                ("days", "30"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    let token = secret(&r.text());
    assert_eq!(token.len(), 64);
    let me = app
        .send(Req::get("/api/me").header("authorization", &format!("Bearer {token}")))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "new-auditor");
    let stored = app
        .store
        .api_tokens(Some("new-auditor"))
        .await
        .expect("tokens");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].label, "board export");
    assert!(!app
        .send(admin.with_cookie(Req::get("/users")))
        .await
        .text()
        .contains(&token));
    for days in ["0", "366"] {
        let r = app
            .send(form(
                &admin,
                "/tokens",
                &[("username", "new-auditor"), ("label", "x"), ("days", days)],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{days} days");
    }
    let audit = app.audit_actions("admin").await;
    for (action, record) in [
        ("user.add", "user:new-auditor"),
        ("user.add", "user:new-district"),
        ("token.add", "user:new-auditor"),
    ] {
        assert!(
            audit.iter().any(|(a, r, _)| a == action && r == record),
            "{action} {record}: {audit:?}"
        );
    }
}

pub(crate) async fn auditors_filter_page_and_download_the_audit_log(app: WebApp) {
    let auditor = app.login(Who::Auditor).await;
    // Sign-ins enough for more than one page (recorded directly: argon2 is slow in tests).
    for _ in 0..101 {
        app.store
            .audit("provider", "login", "user:provider", "")
            .await
            .expect("audit");
    }
    let rows = |html: &str| html.matches("<tr><td class=\"when\">").count();
    let first = page(&app, &auditor, "/audit?actor=provider&action=login").await;
    assert_eq!(rows(&first), 100);
    assert!(first.contains("page 1 of 2"), "{first}");
    let next = &first[first.find("rel=\"next\" href=\"").expect("a next link") + 17..];
    let next = next[..next.find('"').expect("its end")]
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert_eq!(next, "/audit?page=2&actor=provider&action=login");
    let second = page(&app, &auditor, &next).await;
    assert!(rows(&second) >= 1);
    // Past the last page: the last page.
    assert_eq!(
        rows(&page(&app, &auditor, "/audit?actor=provider&action=login&page=99").await),
        rows(&second)
    );

    // The downloads hold every event that passes, newest first.
    let json = app
        .send(auditor.with_cookie(Req::get(
            "/audit/download?format=json&actor=provider&action=login",
        )))
        .await;
    assert_eq!(json.status, StatusCode::OK);
    let events: Vec<Value> = serde_json::from_slice(&json.body).expect("JSON");
    assert_eq!(events.len(), 100 + rows(&second));
    assert!(events
        .iter()
        .all(|e| e["actor"] == "provider" && e["action"] == "login"));
    assert!(events[0]["id"].as_i64() > events[1]["id"].as_i64());
    let csv = app
        .send(auditor.with_cookie(Req::get(
            "/audit/download?format=csv&actor=provider&action=login",
        )))
        .await;
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,at,actor,action,record,detail"));
    assert_eq!(lines.count(), events.len());
    // The API takes the same filter.
    let api = app
        .send(auditor.with_token(Req::get("/api/audit?action=login&actor=provider")))
        .await;
    assert_eq!(api.json().as_array().map(Vec::len), Some(events.len()));

    // By contract: its own records and its statements', nobody else's.
    let by_contract = app
        .send(auditor.with_token(Req::get(&format!("/api/audit?contract={DEMO_CONTRACT}"))))
        .await
        .json();
    let records: Vec<&str> = by_contract
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["record"].as_str())
        .collect();
    assert!(!records.is_empty());
    assert!(
        records
            .iter()
            .all(|r| *r == format!("contract:{DEMO_CONTRACT}")
                || r.starts_with(&format!("contract:{DEMO_CONTRACT}/"))),
        "{records:?}"
    );
    // By day: nothing before the fixture was built.
    let old = page(&app, &auditor, "/audit?to=2000-01-01").await;
    assert!(old.contains("0 events"), "{old}");
}

/// GET a page as `s` that must render.
async fn page(app: &WebApp, s: &Session, path: &str) -> String {
    let r = app.send(s.with_cookie(Req::get(path))).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.excerpt());
    r.text()
}

pub(crate) async fn auditors_verify_the_ledger_from_its_page(app: WebApp) {
    let auditor = app.login(Who::Auditor).await;
    let ledger = app
        .send(auditor.with_cookie(Req::get("/ledger")))
        .await
        .text();
    assert!(ledger.contains("action=\"/ledger/verify\""));
    let r = app.send(form(&auditor, "/ledger/verify", &[])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    let text = r.text();
    assert!(text.contains("Verified: "), "{text}");
    assert!(!text.contains("PROBLEM"));
    // Staff see the ledger without the button.
    let district = app.login(Who::District).await;
    let page = app
        .send(district.with_cookie(Req::get("/ledger")))
        .await
        .text();
    assert!(!page.contains("/ledger/verify"));
}

pub(crate) async fn providers_see_their_sessions_no_shows_and_uploads(app: WebApp) {
    let provider = app.login(Who::Provider).await;
    let csv = crate::web_http::own_sessions(&app.ids, Who::Provider, "console-1");
    let r = app
        .send(provider.with_cookie(crate::web_http::api_post(
            &provider,
            "/api/sessions?name=console.csv",
            "text/csv",
            &csv,
        )))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    let home = app.send(provider.with_cookie(Req::get("/"))).await.text();
    for part in [
        "id=\"provider-console\"",
        "Attended sessions per week",
        "id=\"no-shows-by-tutor\"",
        "id=\"no-shows-by-school\"",
        "id=\"upload-history\"",
    ] {
        assert!(home.contains(part), "{part}");
    }
    let history = &home[home.find("id=\"upload-history\"").expect("history")..];
    let newest = &history[history.find("<tbody><tr>").expect("a row")..];
    let newest = &newest[..newest.find("</tr>").expect("its end")];
    assert!(
        newest.contains("console.csv")
            && newest.contains(
                "<td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0</td>"
            ),
        "{newest}"
    );
    // Nobody else has the section.
    for who in [Who::Admin, Who::District, Who::Auditor] {
        let s = app.login(who).await;
        let page = app.send(s.with_cookie(Req::get("/"))).await.text();
        assert!(!page.contains("provider-console"), "{}", who.label());
    }
    // Another provider sees its own uploads only.
    let bright = app.login(Who::Brightpath).await;
    let page = app.send(bright.with_cookie(Req::get("/"))).await.text();
    assert!(!page.contains("console.csv"));
}

/// Every test above as a `#[tokio::test]` on the app `$app` makes, like `web_http::web_tests`.
macro_rules! console_tests {
    ($app:path) => {
        $crate::web_consoles::console_tests!(@ $app; admins_add_users_reset_passwords_and_issue_tokens, auditors_filter_page_and_download_the_audit_log, auditors_verify_the_ledger_from_its_page, providers_see_their_sessions_no_shows_and_uploads);
    };
    (@ $app:path; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                if let Some(app) = $app().await {
                    $crate::web_consoles::$name(app).await;
                }
            }
        )*
    };
}
pub(crate) use console_tests;

mod on_sqlite {
    async fn app() -> Option<crate::web_support::WebApp> {
        Some(crate::web_support::WebApp::new().await)
    }

    crate::web_consoles::console_tests!(app);
}
