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
    let obc = Obc::new();
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
    // The finalized statement is the same bytes as one finalized without a review.
    let plain = Obc::new();
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
