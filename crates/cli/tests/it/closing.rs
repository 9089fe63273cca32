//! Closing statements (SPEC 5.11): after the final (contingent) statement is finalized, late
//! data is paid or credited once by a closing statement, so the contract's total paid is what
//! its final data pays.

use crate::support::{example, Obc, BASELINE_CONTRACT};
use crate::web_support::{Req, WebApp, Who, MESA_CONTRACT};

/// The worked example's session log with student 2000013's sessions all with one tutor (they
/// had 18 of 33 with T4001, a provider fault): the provider's corrected log.
fn corrected_sessions(obc: &Obc) -> String {
    let log = std::fs::read_to_string(example("sessions.csv")).expect("example sessions");
    let mut lines = log.lines();
    let mut out = format!("{}\n", lines.next().expect("header"));
    for line in lines.filter(|l| l.split(',').nth(1) == Some("2000013")) {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells[2] = "T4001";
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    obc.write("corrected.csv", out)
}

fn import_corrected(obc: &Obc) {
    let file = corrected_sessions(obc);
    obc.ok(&["import", "sessions", &file, "--provider", "brightpath"]);
}

fn closing(obc: &Obc, action: Option<&str>, date: &str) -> String {
    let mut args: Vec<&str> = vec!["statement"];
    args.extend(action);
    args.extend([
        "--contract",
        BASELINE_CONTRACT,
        "--closing",
        "--as-of",
        date,
        "--format",
        "csv",
    ]);
    obc.ok(&args)
}

fn statement_total(csv: &str) -> String {
    let row = csv
        .lines()
        .find(|l| l.starts_with("STATEMENT_TOTAL,"))
        .unwrap_or_else(|| panic!("no STATEMENT_TOTAL in {csv}"));
    row.trim_end_matches(',')
        .rsplit(',')
        .next()
        .unwrap()
        .to_string()
}

fn cents(amount: &str) -> i64 {
    let (whole, frac) = amount.split_once('.').expect("an amount with cents");
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    whole.parse::<i64>().unwrap() * 100 + sign * frac.parse::<i64>().unwrap()
}

#[test]
fn a_closing_pays_late_data_once_and_the_total_paid_is_what_the_final_data_pays() {
    closing_pays_late_data_once(Obc::new);
}

/// On databases made by `new` (SQLite here, PostgreSQL in `postgres.rs`).
pub(crate) fn closing_pays_late_data_once(new: impl Fn() -> Obc) {
    let obc = new();
    obc.load_example();
    let mut paid = 0;
    let mut finalized = Vec::new();
    for m in ["enrollment", "midyear", "final"] {
        let csv = obc.finalize_example(m);
        paid += cents(&statement_total(&csv));
        finalized.push(csv);
    }
    let final_line = finalized[2]
        .lines()
        .find(|l| l.starts_with("2000013,"))
        .unwrap();
    assert!(
        final_line.contains(",provider_fault,0.00,0.00,0.00,"),
        "{final_line}"
    );

    // Nothing new yet: a closing would total 0.00.
    assert_eq!(statement_total(&closing(&obc, None, "2025-07-01")), "0.00");

    import_corrected(&obc);
    let run = obc.run(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--closing",
        "--as-of",
        "2025-07-15",
        "--format",
        "csv",
    ]);
    assert!(
        run.stderr().contains("DRAFT closing statement"),
        "{}",
        run.stderr()
    );
    let draft = run.ok();
    let adjustment = draft
        .lines()
        .find(|l| l.starts_with("ADJUSTMENT,2000013,"))
        .unwrap_or_else(|| panic!("{draft}"));
    assert!(
        adjustment.contains(",adjustment:final,,,480.02,"),
        "{adjustment}"
    );
    assert!(
        adjustment.contains("paid 0.00 (provider_fault)") && adjustment.contains("(tier:meets)"),
        "{adjustment}"
    );
    assert!(draft.starts_with("student_id,"), "{draft}");
    assert!(draft.contains("\nTOTAL,0,"), "no student line: {draft}");
    assert_eq!(statement_total(&draft), "480.02");

    let closed = closing(&obc, Some("finalize"), "2025-07-15");
    assert_eq!(closed, draft, "the finalized closing is the draft");
    paid += cents(&statement_total(&closed));
    // Shown again, it is the finalized one, byte for byte.
    let run = obc.run(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--closing",
        "--as-of",
        "2025-07-15",
        "--format",
        "csv",
    ]);
    assert!(run.stderr().starts_with("FINALIZED"), "{}", run.stderr());
    assert_eq!(run.ok(), closed);
    // The finalized milestone statements are unchanged.
    for (m, csv) in ["enrollment", "midyear", "final"].iter().zip(&finalized) {
        assert_eq!(&obc.example_statement(m, "csv"), csv, "{m}");
    }

    // A second closing with nothing new totals 0.00; an earlier date than a finalized closing
    // is refused.
    let again = closing(&obc, Some("finalize"), "2025-08-01");
    assert!(!again.contains("ADJUSTMENT,"), "{again}");
    assert_eq!(statement_total(&again), "0.00");
    let earlier = obc.fails(&[
        "statement",
        "finalize",
        "--contract",
        BASELINE_CONTRACT,
        "--closing",
        "--as-of",
        "2025-07-20",
    ]);
    assert!(earlier.contains("finalized in date order"), "{earlier}");

    let verify = obc.ok(&["ledger", "verify"]);
    assert!(
        verify.contains("5 finalized statements verified"),
        "{verify}"
    );
    let ledger = obc.ok(&["ledger", "--format", "csv"]);
    let postings: Vec<&str> = ledger
        .lines()
        .filter(|l| l.contains("/closing-2025-07-15/"))
        .collect();
    assert_eq!(postings.len(), 2, "one posting, two entries: {ledger}");
    assert!(postings[0].contains("adjustment/final/2000013"), "{ledger}");

    // The same data known from the start pays exactly as much.
    let known = new();
    known.load_example();
    import_corrected(&known);
    let from_start: i64 = ["enrollment", "midyear", "final"]
        .iter()
        .map(|m| cents(&statement_total(&known.finalize_example(m))))
        .sum();
    assert_eq!(paid, from_start);
}

#[test]
fn a_closing_comes_after_the_final_statement_and_the_last_milestone() {
    let obc = Obc::new();
    obc.load_example();
    obc.finalize_example("enrollment");
    let early = obc.fails(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--closing",
        "--as-of",
        "2025-07-15",
    ]);
    assert!(
        early.contains("finalize the final statement of mesa-math-2025-baseline first"),
        "{early}"
    );
    obc.finalize_example("midyear");
    obc.finalize_example("final");
    let dated = obc.fails(&[
        "statement",
        "finalize",
        "--contract",
        BASELINE_CONTRACT,
        "--closing",
        "--as-of",
        "2025-06-30",
    ]);
    assert!(
        dated.contains("dated after the last milestone") && dated.contains("2025-06-30"),
        "{dated}"
    );
    // Usage errors (clap's exit status 2).
    let usage = |args: &[&str]| {
        let run = obc.run(args);
        assert_eq!(run.status.code(), Some(2), "{}", run.stderr());
        run.stderr()
    };
    let no_date = usage(&["statement", "--contract", BASELINE_CONTRACT, "--closing"]);
    assert!(no_date.contains("--as-of"), "{no_date}");
    let both = usage(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--closing",
        "--milestone",
        "final",
        "--as-of",
        "2025-07-15",
    ]);
    assert!(both.contains("cannot be used with"), "{both}");
}

/// The dist-mesa contract's page, as the admin sees it.
async fn contract_page(app: &WebApp) -> String {
    let admin = app.login(Who::Admin).await;
    app.send(admin.with_cookie(Req::get(&format!("/contracts/{MESA_CONTRACT}"))))
        .await
        .text()
}

#[tokio::test]
async fn the_contract_page_shows_the_changes_since_the_final_statement() {
    let app = WebApp::new().await;
    assert!(!contract_page(&app)
        .await
        .contains("since the final statement"));
    for m in ["enrollment", "midyear", "final"] {
        app.cli(&[
            "statement",
            "finalize",
            "--contract",
            MESA_CONTRACT,
            "--milestone",
            m,
        ]);
    }
    assert!(contract_page(&app)
        .await
        .contains("No changes since the final statement."));
    import_corrected(&app.obc);
    let html = contract_page(&app).await;
    assert!(
        html.contains("Changes since the final statement: +$480.02 for 1 student"),
        "{html}"
    );
}
