//! Stored draft statements (issue 10): a page reads the draft stored for the current inputs,
//! byte for byte what a fresh computation gives, and an enrollment, import or contract version
//! that changes the inputs makes the next page compute and store it again.

use crate::web_support::{Req, WebApp, Who, MESA_CONTRACT};
use axum::http::StatusCode;
use std::time::{Duration, Instant};

const MILESTONE: &str = "final";

/// The draft stored for the current inputs, once the background write has landed.
async fn current_draft(app: &WebApp) -> obc_store::StoredDraft {
    let contract = app
        .store
        .contract(MESA_CONTRACT)
        .await
        .expect("contract")
        .contract;
    let started = Instant::now();
    loop {
        let key = app.store.draft_inputs_key(&contract).await.expect("key");
        let stored = app.store.draft_statement(MESA_CONTRACT, MILESTONE).await;
        match stored.expect("read the draft") {
            Some(draft) if draft.inputs_key == key => return draft,
            _ if started.elapsed() > Duration::from_secs(30) => {
                panic!("no draft of {MESA_CONTRACT} {MILESTONE} was stored for key {key}")
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// What `obc statement` computes now, as JSON.
fn fresh(app: &WebApp) -> String {
    app.cli(&[
        "statement",
        "--contract",
        MESA_CONTRACT,
        "--milestone",
        MILESTONE,
        "--format",
        "json",
    ])
}

async fn download(app: &WebApp, cookie: &crate::web_support::Session) -> String {
    let page = app
        .send(cookie.with_cookie(Req::get(&format!(
            "/contracts/{MESA_CONTRACT}/statements/{MILESTONE}/download?format=json"
        ))))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.text()
}

pub(crate) async fn a_page_reads_the_stored_draft_until_an_enrollment_changes_it(mut app: WebApp) {
    let admin = app.login(Who::Admin).await;
    let page = app
        .send(admin.with_cookie(Req::get(&format!(
            "/contracts/{MESA_CONTRACT}/statements/{MILESTONE}"
        ))))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let stored = current_draft(&app).await;
    let before = fresh(&app);
    assert!(
        stored.statement_json == before,
        "the stored draft differs from `obc statement`"
    );

    // A new server reads the stored draft instead of computing it: a marked total shows.
    let mut marked: serde_json::Value = serde_json::from_str(&stored.statement_json).unwrap();
    marked["totals"]["statement_total"] = "98765.43".into();
    let marked = obc_store::StoredDraft {
        statement_json: obc_core::Statement::from_json(&marked.to_string())
            .expect("still a statement")
            .to_json(),
        ..stored.clone()
    };
    app.store
        .save_draft(MESA_CONTRACT, MILESTONE, &marked)
        .await
        .unwrap();
    app.restart();
    let admin = app.login(Who::Admin).await;
    let page = app
        .send(admin.with_cookie(Req::get(&format!(
            "/contracts/{MESA_CONTRACT}/statements/{MILESTONE}"
        ))))
        .await;
    let html = page.text();
    assert!(
        html.contains("98765.43") || html.contains("98,765.43"),
        "the page shows the stored draft's total"
    );
    assert_eq!(download(&app, &admin).await, marked.statement_json);

    // An enrollment changes the inputs: the next page computes the draft again and stores it.
    let student = app.ids.mesa_unenrolled.clone();
    let file = app.obc.write(
        "more.csv",
        format!("student_id,start_date,end_date\n{student},2024-09-03,\n"),
    );
    app.cli(&["enroll", "--contract", MESA_CONTRACT, &file]);
    let after = fresh(&app);
    assert_ne!(after, before, "the enrollment adds a line");
    assert!(after.contains(&format!("\"{student}\"")));
    assert!(
        download(&app, &admin).await == after,
        "after the enrollment the download is the fresh computation"
    );
    assert!(current_draft(&app).await.statement_json == after);
}

pub(crate) async fn twenty_concurrent_pages_compute_a_draft_once(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    let path = format!("/contracts/{MESA_CONTRACT}/statements/{MILESTONE}/download?format=json");
    let pages = futures_util::future::join_all(
        (0..20).map(|_| app.send(admin.with_cookie(Req::get(&path)))),
    )
    .await;
    let first = pages[0].text();
    assert!(pages
        .iter()
        .all(|p| p.status == StatusCode::OK && p.text() == first));
    assert!(first == fresh(&app));
}

/// Every test above as a `#[tokio::test]` on the app `$app` makes, like `web_http::web_tests`.
macro_rules! drafts_tests {
    ($app:path) => {
        $crate::web_drafts::drafts_tests!(@ $app; a_page_reads_the_stored_draft_until_an_enrollment_changes_it, twenty_concurrent_pages_compute_a_draft_once);
    };
    (@ $app:path; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                if let Some(app) = $app().await {
                    $crate::web_drafts::$name(app).await;
                }
            }
        )*
    };
}
pub(crate) use drafts_tests;

mod on_sqlite {
    async fn app() -> Option<crate::web_support::WebApp> {
        Some(crate::web_support::WebApp::new().await)
    }

    crate::web_drafts::drafts_tests!(app);
}
