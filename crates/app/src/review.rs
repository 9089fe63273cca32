//! Review and disputes before finalization (SPEC 5.12), as the CLI and the web app use them:
//! issue a draft, record approvals, disputes and resolutions, and check a finalization.

use crate::{compute_statement, AppError, Result};
use obc_core::money::to_cents;
use obc_core::review::{Disputed, Step};
use obc_store::{IssuedDraft, Scope, Store, StoredReview};
use time::Date;

/// The day a review step counts for: today, in UTC (the deadline is a calendar day).
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// Issues the milestone's draft, as computed now, for review on `on` (today or earlier: an
/// issue sent before it was recorded).
pub async fn issue_statement(
    store: &Store,
    actor: &str,
    contract_id: &str,
    milestone: &str,
    on: Date,
) -> Result<StoredReview> {
    if on > today() {
        return Err(AppError::Invalid(format!(
            "cannot issue on {on}, a day still to come: issue it on that day"
        )));
    }
    let cv = store.contract(contract_id).await?;
    let draft = compute_statement(store, &cv, milestone, None).await?;
    let issued = IssuedDraft {
        contract_id,
        milestone,
        district_id: &cv.contract.district,
        provider_id: &cv.contract.provider,
        statement_sha256: &draft.content_sha256(),
        total_cents: to_cents(draft.totals.statement_total),
    };
    Ok(store
        .issue_review(actor, &issued, on, cv.contract.review_days)
        .await?)
}

/// Records an approval, dispute or resolution taken today by `actor` within `scope`. A disputed
/// student must have a line on the draft.
pub async fn review_step(
    store: &Store,
    actor: &str,
    scope: &Scope,
    contract_id: &str,
    milestone: &str,
    step: Step,
) -> Result<StoredReview> {
    if let Step::Dispute {
        disputed: Disputed::Student(student),
        ..
    } = &step
    {
        let cv = store.contract(contract_id).await?;
        let draft = compute_statement(store, &cv, milestone, None).await?;
        if !draft.lines.iter().any(|l| &l.student_id == student) {
            return Err(AppError::Invalid(format!(
                "student {student} has no line on the {milestone} statement of {contract_id}"
            )));
        }
    }
    Ok(store
        .record_review_step(actor, scope, contract_id, milestone, step, today())
        .await?)
}

/// Refuses to finalize an issued draft while a dispute is open, or before its deadline unless
/// both parties approved; a draft never issued is finalized directly.
pub async fn check_may_finalize(store: &Store, contract_id: &str, milestone: &str) -> Result<()> {
    let Some(review) = store.review(&Scope::All, contract_id, milestone).await? else {
        return Ok(());
    };
    review.state()?.may_finalize(today()).map_err(|refusal| {
        AppError::Invalid(format!(
            "the {milestone} statement of {contract_id} was issued for review: {refusal}"
        ))
    })
}

/// One line per dispute and its resolution, for showing with a statement.
pub fn dispute_lines(review: &StoredReview) -> Result<Vec<String>> {
    let state = review.state()?;
    Ok(state
        .disputes()
        .iter()
        .map(|d| {
            let outcome = match &d.resolution {
                Some((ruling, reason)) => format!("{}: {reason}", ruling.as_str()),
                None => "open".to_string(),
            };
            format!(
                "dispute {} ({}, {} by the {}): {} -> {outcome}",
                d.number,
                d.on,
                d.disputed,
                d.party.as_str(),
                d.reason
            )
        })
        .collect())
}
