//! Where a student stands: the statuses, the three factors, and the checks a factor's status
//! is judged from.

use super::*;
use crate::ratio::Ratio;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where a student stands on one factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    OnTrack,
    OffTrack,
    /// No figure yet (no session, no score after the baseline...): neither on nor off track.
    NotJudged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::OnTrack => "on_track",
            Status::OffTrack => "off_track",
            Status::NotJudged => "not_judged",
        }
    }

    /// The short mark of the text table: `on`, `OFF`, `-`.
    pub(super) fn mark(self) -> &'static str {
        match self {
            Status::OnTrack => "on",
            Status::OffTrack => "OFF",
            Status::NotJudged => "-",
        }
    }
}

/// The three per-student factors of a contract (SPEC section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// Factor 1, `[attendance]`: attendance rate and the school's availability rate.
    Attendance,
    /// Factor 2, `[provider_duties]`: same-tutor rate and provider cancel rate.
    ProviderDuties,
    /// Factor 3, `[outcome]`: the measure projected from the latest score.
    Outcome,
}

impl Factor {
    pub const ALL: [Factor; 3] = [Factor::Attendance, Factor::ProviderDuties, Factor::Outcome];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Attendance => "attendance",
            Factor::ProviderDuties => "provider_duties",
            Factor::Outcome => "outcome",
        }
    }
}

/// One threshold of a factor, with the figure compared to it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The figure: `attendance_rate`, `availability_rate`, `same_tutor_rate`,
    /// `provider_cancel_rate`, or the contract's measure (`growth_vs_projected`...).
    pub name: String,
    /// The contract clause that sets the threshold.
    pub clause: String,
    #[serde(serialize_with = "ratio4")]
    pub figure: Option<Ratio>,
    /// `>=` (the figure must be at least the threshold) or `<=` (at most).
    pub comparison: &'static str,
    /// The threshold as written in the contract (`"-inf"` for an open tier).
    pub threshold: String,
    pub status: Status,
    /// Who answers for this figure under the contract: `district`, `provider`, `excluded`
    /// (`responsible = "exclude"`) or `rate_card` (the outcome).
    pub answers: &'static str,
    /// The counts or scores behind the figure, or why it is not judged.
    pub detail: String,
}

impl Check {
    /// One line for people: `attendance_rate 0.6000 < 0.70 (attended 6 of 10 offered sessions)`.
    pub fn describe(&self) -> String {
        match (self.status, self.figure) {
            (Status::NotJudged, _) | (_, None) => {
                format!("{} not judged: {}", self.name, self.detail)
            }
            (status, Some(f)) => {
                let cmp = match (status, self.comparison) {
                    (Status::OffTrack, ">=") => "<",
                    (Status::OffTrack, _) => ">",
                    (_, c) => c,
                };
                format!(
                    "{} {} {} {} ({})",
                    self.name,
                    f.display4(),
                    cmp,
                    self.threshold,
                    self.detail
                )
            }
        }
    }
}

/// A student's status on one factor: off track when any check is, on track when at least one
/// check is judged and none is off, else not judged.
#[derive(Debug, Clone, Serialize)]
pub struct FactorProgress {
    pub status: Status,
    /// The off-track checks (or the judged ones when on track, or all when not judged), described.
    pub summary: String,
    pub checks: Vec<Check>,
}

impl FactorProgress {
    pub(super) fn of(checks: Vec<Check>) -> FactorProgress {
        let any = |s: Status| checks.iter().any(|c| c.status == s);
        let status = if any(Status::OffTrack) {
            Status::OffTrack
        } else if any(Status::OnTrack) {
            Status::OnTrack
        } else {
            Status::NotJudged
        };
        let summary = checks
            .iter()
            .filter(|c| status == Status::NotJudged || c.status == status)
            .map(Check::describe)
            .collect::<Vec<_>>()
            .join("; ");
        FactorProgress {
            status,
            summary,
            checks,
        }
    }

    pub(super) fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

pub(super) fn show_min(min: Option<Decimal>) -> String {
    min.map_or_else(|| "-inf".to_string(), |d| d.to_string())
}

/// A rate check: not judged when the rate is undefined; `at_least` thresholds fail strictly
/// below, `at_most` strictly above (a rate equal to its threshold passes, as in SPEC 5.1).
pub(super) fn rate_check(
    name: &str,
    clause: &str,
    figure: Option<Ratio>,
    at_least: bool,
    threshold: Decimal,
    answers: &'static str,
    detail: String,
) -> Check {
    let status = match figure {
        None => Status::NotJudged,
        Some(r) if (at_least && r.lt(threshold)) || (!at_least && r.gt(threshold)) => {
            Status::OffTrack
        }
        Some(_) => Status::OnTrack,
    };
    Check {
        name: name.to_string(),
        clause: clause.to_string(),
        figure,
        comparison: if at_least { ">=" } else { "<=" },
        threshold: threshold.to_string(),
        status,
        answers,
        detail,
    }
}
