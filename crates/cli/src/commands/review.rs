//! `obc statement issue|approve|dispute|resolve`: review and disputes before finalization
//! (SPEC 5.12). The command line acts as the intermediary, for a party when it says so.

use crate::{ReviewParty, ReviewRuling, StatementAction};
use anyhow::{bail, Result};
use obc_core::review::{Disputed, Party, Ruling, Step};
use obc_store::{Scope, Store, StoredReview};

pub async fn run(store: &Store, actor: &str, action: &StatementAction) -> Result<()> {
    let (target, step) = match action {
        StatementAction::Finalize(_) => bail!("finalize is not a review step"),
        StatementAction::Issue { target, on } => {
            let on = match on {
                Some(text) => obc_core::model::parse_user_date(text)
                    .map_err(|why| anyhow::anyhow!("--on {text}: {why}"))?,
                None => obc_app::review::today(),
            };
            let review = obc_app::review::issue_statement(
                store,
                actor,
                &target.contract,
                &target.milestone,
                on,
            )
            .await?;
            eprintln!(
                "Issued {} / {} for review on {}: the district and the provider may approve or dispute it until {}",
                review.contract_id, review.milestone, review.issued_on, review.deadline
            );
            return Ok(());
        }
        StatementAction::Approve { target, party } => (
            target,
            Step::Approve {
                party: party_of(*party),
            },
        ),
        StatementAction::Dispute {
            target,
            party,
            student,
            reason,
        } => (
            target,
            Step::Dispute {
                party: party_of(*party),
                disputed: student
                    .clone()
                    .map_or(Disputed::Statement, Disputed::Student),
                reason: reason.clone(),
            },
        ),
        StatementAction::Resolve {
            target,
            dispute,
            ruling,
            reason,
        } => (
            target,
            Step::Resolve {
                dispute: *dispute,
                ruling: match ruling {
                    ReviewRuling::Upheld => Ruling::Upheld,
                    ReviewRuling::Rejected => Ruling::Rejected,
                },
                reason: reason.clone(),
            },
        ),
    };
    let review = obc_app::review::review_step(
        store,
        actor,
        &Scope::All,
        &target.contract,
        &target.milestone,
        step,
    )
    .await?;
    print_review(&review)
}

fn party_of(party: ReviewParty) -> Party {
    match party {
        ReviewParty::District => Party::District,
        ReviewParty::Provider => Party::Provider,
    }
}

/// The review's state on standard error: approvals, then every dispute and its resolution.
pub fn print_review(review: &StoredReview) -> Result<()> {
    let state = review.state()?;
    let approved = |p: Party| {
        if state.approved_by(p) {
            "approved"
        } else {
            "not approved"
        }
    };
    eprintln!(
        "Review of {} / {} (issued {}, deadline {}): district {}, provider {}",
        review.contract_id,
        review.milestone,
        review.issued_on,
        review.deadline,
        approved(Party::District),
        approved(Party::Provider)
    );
    for line in obc_app::review::dispute_lines(review)? {
        eprintln!("  {line}");
    }
    Ok(())
}

/// Prints the review of a milestone's statement, if it was issued for review.
pub async fn print_review_of(store: &Store, contract: &str, milestone: &str) -> Result<()> {
    match store.review(&Scope::All, contract, milestone).await? {
        Some(review) => print_review(&review),
        None => Ok(()),
    }
}
