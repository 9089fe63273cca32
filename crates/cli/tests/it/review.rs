//! Review and disputes before finalization (SPEC 5.12): an issued draft is finalized only once
//! its disputes are resolved and, before the deadline, both parties approved it.

use crate::support::{Obc, BASELINE_CONTRACT};

const MILESTONE: &str = "enrollment";

/// `obc statement ACTION --contract ... --milestone enrollment EXTRA...`.
fn review_args<'a>(action: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "statement",
        action,
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        MILESTONE,
    ];
    args.extend(extra);
    args
}

fn finalize(obc: &Obc) -> crate::support::Run {
    obc.run(&review_args("finalize", &["--format", "csv"]))
}

#[test]
fn an_issued_draft_is_finalized_after_its_disputes_are_resolved_and_both_parties_approved() {
    issued_draft_waits_for_its_review(Obc::new);
}

/// On databases made by `new` (SQLite here, PostgreSQL in `postgres.rs`).
pub(crate) fn issued_draft_waits_for_its_review(new: impl Fn() -> Obc) {
    let obc = new();
    obc.load_example();
    let issued = obc.run(&review_args("issue", &[])).ok();
    assert!(issued.is_empty(), "{issued}");
    let dispute = [
        "--party",
        "district",
        "--student",
        "2000013",
        "--reason",
        "tutor changes were the district's room moves",
    ];
    obc.ok(&review_args("dispute", &dispute));

    let refused = finalize(&obc).fails();
    assert!(
        refused.contains("dispute 1 (student 2000013's line by the district) still open"),
        "{refused}"
    );
    obc.ok(&review_args(
        "resolve",
        &[
            "--dispute",
            "1",
            "--ruling",
            "rejected",
            "--reason",
            "the logs show provider changes",
        ],
    ));
    let refused = finalize(&obc).fails();
    assert!(
        refused.contains("unless both parties approved; waiting for the district and the provider"),
        "{refused}"
    );
    obc.ok(&review_args("approve", &["--party", "district"]));
    obc.ok(&review_args("approve", &["--party", "provider"]));

    let finalized = finalize(&obc);
    let stderr = finalized.stderr();
    let csv = finalized.ok();
    assert!(csv.contains("STATEMENT_TOTAL"), "{csv}");
    assert!(
        stderr.contains("district approved, provider approved"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "student 2000013's line by the district): tutor changes were the district's room moves -> rejected: the logs show provider changes"
        ),
        "{stderr}"
    );
    let shown = obc.run(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        MILESTONE,
        "--format",
        "csv",
    ]);
    assert!(shown
        .stderr()
        .contains("-> rejected: the logs show provider changes"));
    assert_eq!(
        shown.ok(),
        csv,
        "shown as finalized, with its review beside it"
    );
    // The finalized statement is the same bytes as one finalized without a review.
    let plain = new();
    plain.load_example();
    assert_eq!(plain.finalize_example(MILESTONE), csv);

    let audit = obc.audit();
    for action in [
        "statement.issue",
        "statement.dispute",
        "statement.resolve",
        "statement.approve",
    ] {
        assert!(audit.contains(action), "{action} missing from\n{audit}");
    }
    let closed = obc.fails(&review_args("approve", &["--party", "district"]));
    assert!(
        closed.contains("is finalized; its review is closed"),
        "{closed}"
    );
}

#[test]
fn after_the_deadline_disputes_are_refused_and_finalizing_needs_no_approval() {
    let obc = Obc::new();
    obc.load_example();
    obc.ok(&review_args("issue", &["--on", "2025-01-01"]));
    let late = obc.fails(&review_args(
        "dispute",
        &["--party", "provider", "--reason", "too late"],
    ));
    assert!(
        late.contains("the review deadline was 2025-01-11"),
        "{late}"
    );
    finalize(&obc).ok();
}

#[test]
fn a_dispute_names_a_student_of_the_statement_and_a_draft_is_issued_once() {
    let obc = Obc::new();
    obc.load_example();
    let future = obc.fails(&review_args("issue", &["--on", "2199-01-01"]));
    assert!(future.contains("a day still to come"), "{future}");
    let not_issued = obc.fails(&review_args("approve", &["--party", "district"]));
    assert!(
        not_issued.contains("was not issued for review"),
        "{not_issued}"
    );
    obc.ok(&review_args("issue", &[]));
    let again = obc.fails(&review_args("issue", &[]));
    assert!(again.contains("already issued for review"), "{again}");
    let unknown = obc.fails(&review_args(
        "dispute",
        &[
            "--party",
            "provider",
            "--student",
            "nobody",
            "--reason",
            "x",
        ],
    ));
    assert!(unknown.contains("student nobody has no line"), "{unknown}");
}

/// The web flow on the mesa contract's enrollment statement: the admin issues it, brightpath
/// disputes a line, the demo provider cannot touch it, finalizing waits for the resolution and
/// both approvals, and the page shows the dispute and its resolution.
#[tokio::test]
async fn the_statement_page_issues_takes_approvals_and_disputes_and_resolves() {
    use crate::web_support::{html_escape, Req, WebApp, Who, MESA_CONTRACT};
    let app = WebApp::new().await;
    let page = format!("/contracts/{MESA_CONTRACT}/statements/{MILESTONE}");
    let admin = app.login(Who::Admin).await;
    let provider = app.login(Who::Brightpath).await;
    let district = app.login(Who::Mesa).await;
    let other_provider = app.login(Who::Provider).await;
    let post = |s: &crate::web_support::Session, action: &str, fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", s.csrf.as_str())];
        form.extend(fields.iter().copied());
        s.with_cookie(Req::post(&format!("{page}/{action}")).form(&form))
    };

    let html = app.send(admin.with_cookie(Req::get(&page))).await.text();
    assert!(html.contains("Issue for review"), "the admin may issue");
    let r = app.send(post(&admin, "issue", &[])).await;
    assert_eq!(r.location(), Some(page.as_str()), "{}", r.excerpt());
    let html = app.send(provider.with_cookie(Req::get(&page))).await.text();
    assert!(
        html.contains("Dispute line") && html.contains(">Approve<"),
        "{html}"
    );

    let student = app.ids.mesa_enrolled.clone();
    let dispute = [
        ("student", student.as_str()),
        ("reason", "two sessions missing"),
    ];
    let r = app.send(post(&other_provider, "dispute", &dispute)).await;
    assert_eq!(
        r.status.as_u16(),
        404,
        "another provider's contract: {}",
        r.excerpt()
    );
    let r = app.send(post(&provider, "dispute", &dispute)).await;
    assert_eq!(r.location(), Some(page.as_str()), "{}", r.excerpt());

    let r = app
        .send(post(&admin, "finalize", &[("confirm", "yes")]))
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.excerpt());
    assert!(r.text().contains("still open"), "{}", r.excerpt());

    // The provider's corrected log changes the draft: the page says it differs from the issued one.
    let changed = "differs from the draft issued for review";
    assert!(!app
        .send(admin.with_cookie(Req::get(&page)))
        .await
        .text()
        .contains(changed));
    let log = crate::web_http::own_sessions(&app.ids, Who::Brightpath, "review-1");
    let file = app.obc.write("corrected.csv", log);
    app.cli(&["import", "sessions", &file, "--provider", "brightpath"]);
    let html = app.send(admin.with_cookie(Req::get(&page))).await.text();
    assert!(html.contains(changed), "{html}");
    let resolution = [
        ("dispute", "1"),
        ("ruling", "upheld"),
        ("reason", "log corrected"),
    ];
    app.send(post(&admin, "resolve", &resolution)).await;
    app.send(post(&district, "approve", &[])).await;
    app.send(post(&provider, "approve", &[])).await;
    let r = app
        .send(post(&admin, "finalize", &[("confirm", "yes")]))
        .await;
    assert_eq!(r.location(), Some(page.as_str()), "{}", r.excerpt());

    let html = app.send(district.with_cookie(Req::get(&page))).await.text();
    assert!(
        html.contains("District: approved; provider: approved"),
        "{html}"
    );
    assert!(
        html.contains(&html_escape("two sessions missing")),
        "{html}"
    );
    assert!(html.contains("upheld: log corrected"), "{html}");
    assert!(
        !html.contains("Dispute line"),
        "a finalized statement's review is closed"
    );

    let api = app
        .send(admin.with_cookie(Req::get(&format!(
            "/api/contracts/{MESA_CONTRACT}/statements/{MILESTONE}/review"
        ))))
        .await
        .json();
    assert_eq!(api["disputes"][0]["student"], student.as_str());
    assert_eq!(api["disputes"][0]["resolution"]["ruling"], "upheld");
    let actions: Vec<String> = app
        .audit_actions(Who::Brightpath.username())
        .await
        .into_iter()
        .map(|(action, _, _)| action)
        .filter(|action| action.starts_with("statement."))
        .collect();
    assert_eq!(actions, ["statement.dispute", "statement.approve"]);
}
