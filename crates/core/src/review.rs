//! Review and disputes before finalization (SPEC 5.12): the intermediary issues a draft, the
//! district and the provider approve it or dispute lines until the review deadline, the
//! intermediary resolves each dispute, and finalizing waits for all of that.
//!
//! Pure: the caller passes the day an action happens; the store keeps the steps and replays
//! them through [`Review::apply`], so the same rules judge a new step and a stored one.

use std::fmt;
use time::{Date, Duration};

/// A party that reviews an issued draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    District,
    Provider,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::District => "district",
            Party::Provider => "provider",
        }
    }

    pub fn parse(text: &str) -> Option<Party> {
        match text {
            "district" => Some(Party::District),
            "provider" => Some(Party::Provider),
            _ => None,
        }
    }
}

/// What a dispute is about: one student's line, or the whole statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disputed {
    Statement,
    Student(String),
}

impl fmt::Display for Disputed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disputed::Statement => f.write_str("the whole statement"),
            Disputed::Student(id) => write!(f, "student {id}'s line"),
        }
    }
}

/// How the intermediary resolved a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ruling {
    /// The data was corrected by an import and the statement recomputed.
    Upheld,
    Rejected,
}

impl Ruling {
    pub fn as_str(self) -> &'static str {
        match self {
            Ruling::Upheld => "upheld",
            Ruling::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Ruling> {
        match text {
            "upheld" => Some(Ruling::Upheld),
            "rejected" => Some(Ruling::Rejected),
            _ => None,
        }
    }
}

/// One step of a review after the draft was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Approve {
        party: Party,
    },
    Dispute {
        party: Party,
        disputed: Disputed,
        reason: String,
    },
    /// Resolves the dispute numbered `dispute` (1 is the first dispute of the review).
    Resolve {
        dispute: usize,
        ruling: Ruling,
        reason: String,
    },
}

/// A dispute and, once resolved, its resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    pub number: usize,
    pub party: Party,
    pub disputed: Disputed,
    pub reason: String,
    pub on: Date,
    pub resolution: Option<(Ruling, String)>,
}

/// An issued draft's review: its deadline, approvals and disputes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub issued_on: Date,
    /// The last day the parties may approve or dispute: issue date + `review_days`.
    pub deadline: Date,
    district_approved: bool,
    provider_approved: bool,
    disputes: Vec<Dispute>,
}

/// Why a step or a finalization is refused, in words a user acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

fn refuse<T>(message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(message.into()))
}

impl Review {
    /// A draft issued on `issued_on` under a contract with `review_days`.
    pub fn issue(issued_on: Date, review_days: u32) -> Review {
        Review {
            issued_on,
            deadline: issued_on + Duration::days(i64::from(review_days)),
            district_approved: false,
            provider_approved: false,
            disputes: Vec::new(),
        }
    }

    pub fn disputes(&self) -> &[Dispute] {
        &self.disputes
    }

    pub fn approved_by(&self, party: Party) -> bool {
        match party {
            Party::District => self.district_approved,
            Party::Provider => self.provider_approved,
        }
    }

    /// Disputes not yet resolved.
    pub fn open_disputes(&self) -> impl Iterator<Item = &Dispute> {
        self.disputes.iter().filter(|d| d.resolution.is_none())
    }

    /// Checks a step taken on `on` and records it, or says why it is refused.
    pub fn apply(&mut self, step: Step, on: Date) -> Result<(), Refusal> {
        match step {
            Step::Approve { party } => {
                self.check_open_for_parties(on, "approve")?;
                if self.approved_by(party) {
                    return refuse(format!("the {} already approved it", party.as_str()));
                }
                match party {
                    Party::District => self.district_approved = true,
                    Party::Provider => self.provider_approved = true,
                }
            }
            Step::Dispute {
                party,
                disputed,
                reason,
            } => {
                self.check_open_for_parties(on, "dispute")?;
                if self.approved_by(party) {
                    return refuse(format!(
                        "the {} approved this statement and can no longer dispute it",
                        party.as_str()
                    ));
                }
                let reason = required_reason(&reason, "a dispute")?;
                self.disputes.push(Dispute {
                    number: self.disputes.len() + 1,
                    party,
                    disputed,
                    reason,
                    on,
                    resolution: None,
                });
            }
            Step::Resolve {
                dispute,
                ruling,
                reason,
            } => {
                let reason = required_reason(&reason, "a resolution")?;
                let Some(d) = dispute
                    .checked_sub(1)
                    .and_then(|i| self.disputes.get_mut(i))
                else {
                    return refuse(format!("there is no dispute number {dispute}"));
                };
                if d.resolution.is_some() {
                    return refuse(format!("dispute {dispute} is already resolved"));
                }
                d.resolution = Some((ruling, reason));
            }
        }
        Ok(())
    }

    fn check_open_for_parties(&self, on: Date, verb: &str) -> Result<(), Refusal> {
        if on < self.issued_on {
            return refuse(format!(
                "cannot {verb} on {on}: the draft was issued on {}",
                self.issued_on
            ));
        }
        if on > self.deadline {
            return refuse(format!(
                "cannot {verb} on {on}: the review deadline was {}",
                self.deadline
            ));
        }
        Ok(())
    }

    /// Whether the issued draft may be finalized on `today`: never while a dispute is open;
    /// before the deadline has passed only if both parties approved.
    pub fn may_finalize(&self, today: Date) -> Result<(), Refusal> {
        let open: Vec<String> = self
            .open_disputes()
            .map(|d| format!("{} ({} by the {})", d.number, d.disputed, d.party.as_str()))
            .collect();
        if !open.is_empty() {
            return refuse(format!(
                "cannot finalize: dispute {} still open; the intermediary resolves it first",
                open.join(", ")
            ));
        }
        if today <= self.deadline && !(self.district_approved && self.provider_approved) {
            let waiting: Vec<&str> = [Party::District, Party::Provider]
                .into_iter()
                .filter(|p| !self.approved_by(*p))
                .map(Party::as_str)
                .collect();
            return refuse(format!(
                "cannot finalize before the review deadline ({}) unless both parties approved; \
                 waiting for the {}",
                self.deadline,
                waiting.join(" and the ")
            ));
        }
        Ok(())
    }
}

/// The longest reason kept: a paragraph, not a file (a reason is stored and shown on every page
/// of the review).
pub const MAX_REASON_CHARS: usize = 2_000;

fn required_reason(reason: &str, what: &str) -> Result<String, Refusal> {
    let reason = reason.trim();
    if reason.is_empty() {
        return refuse(format!("{what} needs a reason"));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return refuse(format!(
            "the reason of {what} has {} characters; at most {MAX_REASON_CHARS} are kept",
            reason.chars().count()
        ));
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    const ISSUED: Date = d(1, 10);

    /// A day of 2025.
    const fn d(month: u8, day: u8) -> Date {
        match Date::from_calendar_date(2025, Month::January.nth_next(month - 1), day) {
            Ok(date) => date,
            Err(_) => panic!("a valid test date"),
        }
    }

    fn review() -> Review {
        Review::issue(ISSUED, 10)
    }

    fn dispute(party: Party, student: &str) -> Step {
        Step::Dispute {
            party,
            disputed: Disputed::Student(student.into()),
            reason: "sessions missing".into(),
        }
    }

    fn resolve(number: usize, ruling: Ruling) -> Step {
        Step::Resolve {
            dispute: number,
            ruling,
            reason: "checked the logs".into(),
        }
    }

    #[test]
    fn the_deadline_is_the_issue_date_plus_review_days() {
        assert_eq!(review().deadline, d(1, 20));
        assert_eq!(Review::issue(ISSUED, 0).deadline, ISSUED);
    }

    #[test]
    fn a_dispute_is_allowed_until_the_deadline_inclusive() {
        let mut r = review();
        r.apply(dispute(Party::District, "s1"), d(1, 20)).unwrap();
        let err = r
            .apply(dispute(Party::Provider, "s2"), d(1, 21))
            .unwrap_err();
        assert!(
            err.0.contains("the review deadline was 2025-01-20"),
            "{err}"
        );
    }

    #[test]
    fn a_step_before_the_issue_date_is_refused() {
        let err = review()
            .apply(
                Step::Approve {
                    party: Party::District,
                },
                d(1, 9),
            )
            .unwrap_err();
        assert!(err.0.contains("issued on 2025-01-10"), "{err}");
    }

    #[test]
    fn a_dispute_needs_a_reason() {
        let step = Step::Dispute {
            party: Party::Provider,
            disputed: Disputed::Statement,
            reason: "  ".into(),
        };
        let err = review().apply(step, ISSUED).unwrap_err();
        assert_eq!(err.0, "a dispute needs a reason");
    }

    #[test]
    fn a_reason_longer_than_a_paragraph_is_refused() {
        let step = |n| Step::Dispute {
            party: Party::Provider,
            disputed: Disputed::Statement,
            reason: "x".repeat(n),
        };
        assert!(review().apply(step(MAX_REASON_CHARS), ISSUED).is_ok());
        let err = review()
            .apply(step(MAX_REASON_CHARS + 1), ISSUED)
            .unwrap_err();
        assert_eq!(
            err.0,
            "the reason of a dispute has 2001 characters; at most 2000 are kept"
        );
    }

    #[test]
    fn a_resolution_needs_a_reason() {
        let mut r = review();
        r.apply(dispute(Party::District, "s1"), ISSUED).unwrap();
        let step = Step::Resolve {
            dispute: 1,
            ruling: Ruling::Rejected,
            reason: String::new(),
        };
        assert_eq!(
            r.apply(step, ISSUED).unwrap_err().0,
            "a resolution needs a reason"
        );
    }

    #[test]
    fn finalizing_is_refused_while_a_dispute_is_open() {
        let mut r = review();
        r.apply(dispute(Party::Provider, "s1"), ISSUED).unwrap();
        let err = r.may_finalize(d(2, 1)).unwrap_err();
        assert!(
            err.0
                .contains("dispute 1 (student s1's line by the provider) still open"),
            "{err}"
        );
        r.apply(resolve(1, Ruling::Rejected), d(2, 1)).unwrap();
        r.may_finalize(d(2, 1)).unwrap();
    }

    #[test]
    fn before_the_deadline_finalizing_needs_both_approvals() {
        let mut r = review();
        let err = r.may_finalize(d(1, 20)).unwrap_err();
        assert!(
            err.0.contains("waiting for the district and the provider"),
            "{err}"
        );
        r.apply(
            Step::Approve {
                party: Party::District,
            },
            ISSUED,
        )
        .unwrap();
        let err = r.may_finalize(ISSUED).unwrap_err();
        assert!(err.0.ends_with("waiting for the provider"), "{err}");
        r.apply(
            Step::Approve {
                party: Party::Provider,
            },
            ISSUED,
        )
        .unwrap();
        r.may_finalize(ISSUED).unwrap();
    }

    #[test]
    fn after_the_deadline_finalizing_needs_no_approval() {
        review().may_finalize(d(1, 21)).unwrap();
    }

    #[test]
    fn a_party_approves_once_and_then_cannot_dispute() {
        let mut r = review();
        let approve = Step::Approve {
            party: Party::Provider,
        };
        r.apply(approve.clone(), ISSUED).unwrap();
        assert!(r
            .apply(approve, ISSUED)
            .unwrap_err()
            .0
            .contains("already approved"));
        let err = r.apply(dispute(Party::Provider, "s1"), ISSUED).unwrap_err();
        assert!(err.0.contains("can no longer dispute"), "{err}");
        r.apply(dispute(Party::District, "s1"), ISSUED).unwrap();
    }

    #[test]
    fn a_dispute_is_resolved_once_and_must_exist() {
        let mut r = review();
        r.apply(dispute(Party::District, "s1"), ISSUED).unwrap();
        assert_eq!(
            r.apply(resolve(2, Ruling::Upheld), ISSUED).unwrap_err().0,
            "there is no dispute number 2"
        );
        assert_eq!(
            r.apply(resolve(0, Ruling::Upheld), ISSUED).unwrap_err().0,
            "there is no dispute number 0"
        );
        r.apply(resolve(1, Ruling::Upheld), ISSUED).unwrap();
        assert_eq!(
            r.apply(resolve(1, Ruling::Rejected), ISSUED).unwrap_err().0,
            "dispute 1 is already resolved"
        );
        let d = &r.disputes()[0];
        assert_eq!(
            d.resolution,
            Some((Ruling::Upheld, "checked the logs".into()))
        );
    }

    #[test]
    fn the_intermediary_resolves_after_the_deadline_too() {
        let mut r = review();
        r.apply(dispute(Party::District, "s1"), ISSUED).unwrap();
        r.apply(resolve(1, Ruling::Rejected), d(3, 1)).unwrap();
        assert_eq!(r.open_disputes().count(), 0);
    }

    #[test]
    fn parties_and_rulings_round_trip_through_text() {
        for p in [Party::District, Party::Provider] {
            assert_eq!(Party::parse(p.as_str()), Some(p));
        }
        for r in [Ruling::Upheld, Ruling::Rejected] {
            assert_eq!(Ruling::parse(r.as_str()), Some(r));
        }
        assert_eq!(Party::parse("intermediary"), None);
    }
}
