//! Drafts issued for review, and the parties' approvals and disputes and the intermediary's
//! resolutions (SPEC 5.12). The rules are `obc_core::review`'s: a new step is judged by
//! replaying the stored ones, in the transaction that appends it.

use crate::{audit, parse_date, Result, Scope, Store, StoreError};
use obc_core::review::{Disputed, Party, Review, Ruling, Step};
use sqlx::AnyConnection;
use time::Date;

/// One stored step of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewEvent {
    /// The day the step counts for (the review deadline is judged on it).
    pub on: Date,
    /// When it was recorded (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    pub actor: String,
    pub step: Step,
}

/// A draft issued for review, with its steps in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReview {
    pub contract_id: String,
    pub milestone: String,
    pub district_id: String,
    pub provider_id: String,
    pub issued_on: Date,
    pub issued_at: String,
    pub issued_by: String,
    pub deadline: Date,
    /// The issued draft's content hash and total: what the parties were shown.
    pub statement_sha256: String,
    pub total_cents: i64,
    pub events: Vec<ReviewEvent>,
}

impl StoredReview {
    /// The review's state, the stored steps replayed through the core rules.
    pub fn state(&self) -> Result<Review> {
        let days = u32::try_from((self.deadline - self.issued_on).whole_days())
            .map_err(|_| StoreError::Corrupt(format!("review deadline {}", self.deadline)))?;
        let mut review = Review::issue(self.issued_on, days);
        for event in &self.events {
            review
                .apply(event.step.clone(), event.on)
                .map_err(|refusal| StoreError::Corrupt(format!("review step: {refusal}")))?;
        }
        Ok(review)
    }
}

/// What a draft issued for review is: the contract's parties, the draft's hash and total.
pub struct IssuedDraft<'a> {
    pub contract_id: &'a str,
    pub milestone: &'a str,
    pub district_id: &'a str,
    pub provider_id: &'a str,
    pub statement_sha256: &'a str,
    pub total_cents: i64,
}

type ReviewRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
);

type EventRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Issues a draft for review on `issued_on`; the deadline is `review_days` later. Refused
    /// when the milestone is already issued or finalized.
    pub async fn issue_review(
        &self,
        actor: &str,
        draft: &IssuedDraft<'_>,
        issued_on: Date,
        review_days: u32,
    ) -> Result<StoredReview> {
        let mut tx = self.write_tx().await?;
        let finalized: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM statements WHERE contract_id = $1 AND milestone = $2",
        )
        .bind(draft.contract_id)
        .bind(draft.milestone)
        .fetch_one(&mut *tx)
        .await?;
        if finalized > 0 {
            return Err(StoreError::Conflict(format!(
                "the {} statement of {} is already finalized; only a draft is issued for review",
                draft.milestone, draft.contract_id
            )));
        }
        if load(&mut tx, &Scope::All, draft.contract_id, draft.milestone)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(format!(
                "the {} statement of {} is already issued for review",
                draft.milestone, draft.contract_id
            )));
        }
        let deadline = Review::issue(issued_on, review_days).deadline;
        sqlx::query(
            "INSERT INTO reviews (contract_id, milestone, district_id, provider_id, issued_on, issued_at,
                issued_by, deadline, statement_sha256, total_cents)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(draft.contract_id)
        .bind(draft.milestone)
        .bind(draft.district_id)
        .bind(draft.provider_id)
        .bind(issued_on.to_string())
        .bind(crate::now())
        .bind(actor)
        .bind(deadline.to_string())
        .bind(draft.statement_sha256)
        .bind(draft.total_cents)
        .execute(&mut *tx)
        .await?;
        let record = format!("{}/{}", draft.contract_id, draft.milestone);
        let detail = format!(
            "issued on {issued_on} for review until {deadline}; sha256 {}",
            draft.statement_sha256
        );
        audit(&mut tx, actor, "statement.issue", &record, &detail).await?;
        let review = load(&mut tx, &Scope::All, draft.contract_id, draft.milestone).await?;
        tx.commit().await?;
        review.ok_or_else(|| StoreError::Corrupt("the issued review vanished".into()))
    }

    /// The review of a milestone's draft, if it was issued and the scope may see the contract.
    pub async fn review(
        &self,
        scope: &Scope,
        contract_id: &str,
        milestone: &str,
    ) -> Result<Option<StoredReview>> {
        // A read: no write lock, so it goes on while an import writes.
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, scope, contract_id, milestone).await
    }

    /// Records an approval, dispute or resolution taken on `on`, if the review rules allow it
    /// (refusals are `Conflict`s in plain words), and audits it. A scope that may not see the
    /// contract finds no review.
    pub async fn record_review_step(
        &self,
        actor: &str,
        scope: &Scope,
        contract_id: &str,
        milestone: &str,
        step: Step,
        on: Date,
    ) -> Result<StoredReview> {
        let mut tx = self.write_tx().await?;
        let Some((review_id, stored)) =
            load_with_id(&mut tx, scope, contract_id, milestone).await?
        else {
            return Err(not_issued(contract_id, milestone));
        };
        let finalized: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM statements WHERE contract_id = $1 AND milestone = $2",
        )
        .bind(contract_id)
        .bind(milestone)
        .fetch_one(&mut *tx)
        .await?;
        if finalized > 0 {
            return Err(StoreError::Conflict(format!(
                "the {milestone} statement of {contract_id} is finalized; its review is closed"
            )));
        }
        stored
            .state()?
            .apply(step.clone(), on)
            .map_err(|refusal| StoreError::Conflict(refusal.0))?;
        let (kind, party, student, number, ruling, reason) = columns(&step);
        sqlx::query(
            "INSERT INTO review_events (review_id, kind, on_day, at, actor, party, student_id, dispute_number, ruling, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(review_id)
        .bind(kind)
        .bind(on.to_string())
        .bind(crate::now())
        .bind(actor)
        .bind(party)
        .bind(student)
        .bind(number)
        .bind(ruling)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        let record = format!("{contract_id}/{milestone}");
        audit(
            &mut tx,
            actor,
            &format!("statement.{kind}"),
            &record,
            &describe(&step),
        )
        .await?;
        let review = load(&mut tx, &Scope::All, contract_id, milestone).await?;
        tx.commit().await?;
        review.ok_or_else(|| StoreError::Corrupt("the review vanished".into()))
    }
}

/// Inside a finalization's transaction: refuses it if the statement was issued for review and
/// the review does not allow it today, so a dispute recorded meanwhile is never overtaken.
pub(crate) async fn check_may_finalize(
    conn: &mut AnyConnection,
    contract_id: &str,
    milestone: &str,
) -> Result<()> {
    let Some(review) = load(conn, &Scope::All, contract_id, milestone).await? else {
        return Ok(());
    };
    let today = time::OffsetDateTime::now_utc().date();
    review.state()?.may_finalize(today).map_err(|refusal| {
        StoreError::Conflict(format!(
            "the {milestone} statement of {contract_id} was issued for review: {refusal}"
        ))
    })
}

fn not_issued(contract_id: &str, milestone: &str) -> StoreError {
    StoreError::NotFound(format!(
        "the {milestone} statement of {contract_id} was not issued for review"
    ))
}

/// The audit detail of a step.
fn describe(step: &Step) -> String {
    match step {
        Step::Approve { party } => format!("approved by the {}", party.as_str()),
        Step::Dispute {
            party,
            disputed,
            reason,
        } => format!("{disputed} disputed by the {}: {reason}", party.as_str()),
        Step::Resolve {
            dispute,
            ruling,
            reason,
        } => format!("dispute {dispute} {}: {reason}", ruling.as_str()),
    }
}

/// (kind, party, student, dispute number, ruling, reason) as stored.
#[allow(clippy::type_complexity)]
fn columns(
    step: &Step,
) -> (
    &'static str,
    Option<&'static str>,
    Option<&str>,
    Option<i64>,
    Option<&'static str>,
    Option<&str>,
) {
    match step {
        Step::Approve { party } => ("approve", Some(party.as_str()), None, None, None, None),
        Step::Dispute {
            party,
            disputed,
            reason,
        } => {
            let student = match disputed {
                Disputed::Statement => None,
                Disputed::Student(id) => Some(id.as_str()),
            };
            let reason = Some(reason.as_str());
            ("dispute", Some(party.as_str()), student, None, None, reason)
        }
        Step::Resolve {
            dispute,
            ruling,
            reason,
        } => {
            let number = i64::try_from(*dispute).ok();
            let reason = Some(reason.as_str());
            ("resolve", None, None, number, Some(ruling.as_str()), reason)
        }
    }
}

async fn load(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    milestone: &str,
) -> Result<Option<StoredReview>> {
    Ok(load_with_id(conn, scope, contract_id, milestone)
        .await?
        .map(|(_, review)| review))
}

async fn load_with_id(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    milestone: &str,
) -> Result<Option<(i64, StoredReview)>> {
    let (district, provider) = scope.binds();
    let row: Option<ReviewRow> = sqlx::query_as(
        "SELECT id, contract_id, milestone, district_id, provider_id, issued_on, issued_at, issued_by,
                deadline, statement_sha256, total_cents
         FROM reviews WHERE contract_id = $1 AND milestone = $2
           AND ($3 IS NULL OR district_id = $3) AND ($4 IS NULL OR provider_id = $4)",
    )
    .bind(contract_id)
    .bind(milestone)
    .bind(district)
    .bind(provider)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((
        id,
        contract_id,
        milestone,
        district_id,
        provider_id,
        on,
        at,
        by,
        deadline,
        sha,
        total,
    )) = row
    else {
        return Ok(None);
    };
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT kind, on_day, at, actor, party, student_id, dispute_number, ruling, reason
         FROM review_events WHERE review_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let events = rows.into_iter().map(event).collect::<Result<Vec<_>>>()?;
    Ok(Some((
        id,
        StoredReview {
            contract_id,
            milestone,
            district_id,
            provider_id,
            issued_on: parse_date(&on)?,
            issued_at: at,
            issued_by: by,
            deadline: parse_date(&deadline)?,
            statement_sha256: sha,
            total_cents: total,
            events,
        },
    )))
}

fn event(row: EventRow) -> Result<ReviewEvent> {
    let (kind, on, at, actor, party, student, number, ruling, reason) = row;
    let corrupt = || StoreError::Corrupt(format!("review event {kind} recorded at {at}"));
    let party = || party.as_deref().and_then(Party::parse).ok_or_else(corrupt);
    let reason = reason.clone().unwrap_or_default();
    let step = match kind.as_str() {
        "approve" => Step::Approve { party: party()? },
        "dispute" => Step::Dispute {
            party: party()?,
            disputed: student.map_or(Disputed::Statement, Disputed::Student),
            reason,
        },
        "resolve" => Step::Resolve {
            dispute: number
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(corrupt)?,
            ruling: ruling
                .as_deref()
                .and_then(Ruling::parse)
                .ok_or_else(corrupt)?,
            reason,
        },
        _ => return Err(corrupt()),
    };
    Ok(ReviewEvent {
        on: parse_date(&on)?,
        at,
        actor,
        step,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stores;

    fn draft() -> IssuedDraft<'static> {
        IssuedDraft {
            contract_id: "c1",
            milestone: "final",
            district_id: "ector",
            provider_id: "fev",
            statement_sha256: "abc",
            total_cents: 12_345,
        }
    }

    fn day(n: u8) -> Date {
        Date::from_calendar_date(2025, time::Month::March, n).unwrap()
    }

    #[tokio::test]
    async fn a_review_is_issued_once_and_its_steps_are_judged_scoped_and_audited() {
        for store in stores().await {
            let issued = store
                .issue_review("admin", &draft(), day(1), 10)
                .await
                .unwrap();
            assert_eq!(issued.deadline, day(11));
            let again = store.issue_review("admin", &draft(), day(2), 10).await;
            assert!(matches!(again, Err(StoreError::Conflict(m)) if m.contains("already issued")));

            let dispute = Step::Dispute {
                party: Party::Provider,
                disputed: Disputed::Student("s1".into()),
                reason: "missing sessions".into(),
            };
            let other = Scope::Provider("other".into());
            let hidden = store
                .record_review_step("p2", &other, "c1", "final", dispute.clone(), day(2))
                .await;
            assert!(matches!(hidden, Err(StoreError::NotFound(_))), "{hidden:?}");
            assert!(store.review(&other, "c1", "final").await.unwrap().is_none());

            let own = Scope::Provider("fev".into());
            store
                .record_review_step("p1", &own, "c1", "final", dispute.clone(), day(2))
                .await
                .unwrap();
            let late = store
                .record_review_step("p1", &own, "c1", "final", dispute, day(12))
                .await;
            assert!(
                matches!(&late, Err(StoreError::Conflict(m)) if m.contains("deadline was 2025-03-11")),
                "{late:?}"
            );
            let resolve = Step::Resolve {
                dispute: 1,
                ruling: Ruling::Rejected,
                reason: "logs match".into(),
            };
            let review = store
                .record_review_step("admin", &Scope::All, "c1", "final", resolve, day(3))
                .await
                .unwrap();
            assert_eq!(review.events.len(), 2);
            let state = review.state().unwrap();
            assert_eq!(
                state.disputes()[0].resolution,
                Some((Ruling::Rejected, "logs match".into()))
            );
            let actions: Vec<String> = store
                .audit_log()
                .await
                .unwrap()
                .into_iter()
                .map(|(_, actor, action, _, _)| format!("{actor} {action}"))
                .collect();
            assert_eq!(
                actions,
                [
                    "admin statement.issue",
                    "p1 statement.dispute",
                    "admin statement.resolve"
                ]
            );
        }
    }

    #[tokio::test]
    async fn the_store_refuses_to_finalize_an_issued_draft_with_an_open_dispute() {
        const CONTRACT: &str = include_str!("../../core/tests/contract_example.toml");
        for store in stores().await {
            let contract = obc_core::Contract::parse(CONTRACT).unwrap();
            store
                .ensure_organisation("ector", "district", "Ector")
                .await
                .unwrap();
            store
                .add_contract("t", &contract, CONTRACT, None)
                .await
                .unwrap();
            let milestone = &contract.milestones[0];
            let statement = obc_core::engine::compute(obc_core::engine::StatementRequest {
                contract: &contract,
                contract_version: 1,
                contract_hash: crate::hex_sha256(CONTRACT.as_bytes()),
                milestone: &milestone.name,
                as_of: None,
                students: Vec::new().into(),
                prior: Default::default(),
            })
            .unwrap();
            let issued = IssuedDraft {
                contract_id: &contract.id,
                milestone: &milestone.name,
                ..draft()
            };
            // Issued long ago: the deadline has passed, only the open dispute stands in the way.
            store
                .issue_review("admin", &issued, day(1), 10)
                .await
                .unwrap();
            let dispute = Step::Dispute {
                party: Party::District,
                disputed: Disputed::Statement,
                reason: "wrong period".into(),
            };
            store
                .record_review_step(
                    "d",
                    &Scope::All,
                    &contract.id,
                    &milestone.name,
                    dispute,
                    day(2),
                )
                .await
                .unwrap();
            let read_after = store.last_audit_id().await.unwrap();
            let finalize =
                || store.finalize("t", &statement, milestone.date, "ector", "fev", read_after);
            let refused = finalize().await.unwrap_err();
            assert!(
                matches!(&refused, StoreError::Conflict(m) if m.contains("dispute 1 (the whole statement by the district) still open")),
                "{refused}"
            );
            let resolve = Step::Resolve {
                dispute: 1,
                ruling: Ruling::Rejected,
                reason: "the period is the contract's".into(),
            };
            store
                .record_review_step(
                    "admin",
                    &Scope::All,
                    &contract.id,
                    &milestone.name,
                    resolve,
                    day(3),
                )
                .await
                .unwrap();
            // Resolving is an audited action, not an input: the read stays valid.
            finalize().await.unwrap();
        }
    }

    #[tokio::test]
    async fn review_rows_are_append_only() {
        for store in stores().await {
            store
                .issue_review("admin", &draft(), day(1), 10)
                .await
                .unwrap();
            let approve = Step::Approve {
                party: Party::District,
            };
            store
                .record_review_step("d", &Scope::All, "c1", "final", approve, day(1))
                .await
                .unwrap();
            let mut refused = Vec::new();
            for table in ["reviews", "review_events"] {
                refused.push(format!("UPDATE {table} SET id = id + 100"));
                refused.push(format!("DELETE FROM {table}"));
                if store.backend() == crate::Backend::Postgres {
                    refused.push(format!("TRUNCATE {table} CASCADE"));
                }
            }
            for sql in refused {
                let err = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&store.pool)
                    .await
                    .expect_err(&sql);
                assert!(
                    err.to_string().contains("never") || err.to_string().contains("append-only"),
                    "{sql}: {err}"
                );
            }
        }
    }
}
