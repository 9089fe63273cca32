//! What progress reports: each enrolled student's progress, and counts and money at risk by school
//! and in total.

use super::*;
use crate::ratio::Ratio;
use crate::statement::RuleTotal;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};

/// The scores behind the outcome factor.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeScores {
    /// The growth window judged: the contract's own once its outcome term has a valid score,
    /// else the interim window to the latest term with one (`FallToWinter`); none before that.
    pub window: Option<String>,
    /// True when `window` is an interim window, not the contract's.
    pub interim: bool,
    pub baseline_term: String,
    pub baseline: Option<Decimal>,
    pub latest_term: Option<String>,
    pub latest: Option<Decimal>,
    pub observed_growth: Option<Decimal>,
    pub projected_growth: Option<Decimal>,
    #[serde(serialize_with = "ratio4")]
    pub measure: Option<Ratio>,
}

/// Whether the student's enrollment covers the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentState {
    Active,
    /// Starts after the as-of date.
    NotStarted,
    /// Ended before the as-of date (the statement still has the student's line).
    Ended,
}

impl EnrollmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentState::Active => "active",
            EnrollmentState::NotStarted => "not_started",
            EnrollmentState::Ended => "ended",
        }
    }
}

/// One enrolled student's progress.
#[derive(Debug, Clone, Serialize)]
pub struct StudentProgress {
    pub student_id: String,
    pub school_id: String,
    pub grade: Option<String>,
    pub enrollment: EnrollmentState,
    pub enrollment_start: String,
    pub enrollment_end: Option<String>,
    pub planned: u32,
    pub attended: u32,
    pub student_absent: u32,
    pub district_cancelled: u32,
    pub provider_cancelled: u32,
    pub minutes: u64,
    pub attendance: FactorProgress,
    pub provider_duties: FactorProgress,
    pub outcome: FactorProgress,
    pub scores: OutcomeScores,
    /// The rule of the student's line on the contingent statement computed as of today, with
    /// the latest interim measure standing in for a missing outcome score (`projected_from`).
    pub rule_today: String,
    /// The contingent amount that line pays.
    pub contingent_today: Decimal,
    /// The interim window whose measure stood in for the outcome in `rule_today` (set when
    /// the outcome term has no score yet, the outcome factor is judged on that window and the
    /// date is before the contingent milestone's).
    pub projected_from: Option<String>,
    /// C x 1.00, rounded to cents: the contingent part at full performance.
    pub full_contingent: Decimal,
    /// max(0, full_contingent - contingent_today).
    pub at_risk: Decimal,
    /// Invalid tests and data warnings, as on the statement line.
    pub notes: Vec<String>,
}

impl StudentProgress {
    pub fn factor(&self, factor: Factor) -> &FactorProgress {
        match factor {
            Factor::Attendance => &self.attendance,
            Factor::ProviderDuties => &self.provider_duties,
            Factor::Outcome => &self.outcome,
        }
    }
}

/// Students on, off and not judged on one factor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FactorCounts {
    pub on_track: u32,
    pub off_track: u32,
    pub not_judged: u32,
}

impl FactorCounts {
    pub(super) fn add(&mut self, s: Status) {
        match s {
            Status::OnTrack => self.on_track += 1,
            Status::OffTrack => self.off_track += 1,
            Status::NotJudged => self.not_judged += 1,
        }
    }
}

/// Counts by factor and money at risk over a group of students (a school, or all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub students: u32,
    pub active: u32,
    pub attendance: FactorCounts,
    pub provider_duties: FactorCounts,
    pub outcome: FactorCounts,
    /// Students off track on at least one factor.
    pub off_track_any: u32,
    pub full_contingent: Decimal,
    pub contingent_today: Decimal,
    pub at_risk: Decimal,
}

impl Summary {
    pub(super) fn add(&mut self, s: &StudentProgress) {
        self.students += 1;
        if s.enrollment == EnrollmentState::Active {
            self.active += 1;
        }
        self.attendance.add(s.attendance.status);
        self.provider_duties.add(s.provider_duties.status);
        self.outcome.add(s.outcome.status);
        if Factor::ALL
            .iter()
            .any(|f| s.factor(*f).status == Status::OffTrack)
        {
            self.off_track_any += 1;
        }
        self.full_contingent += s.full_contingent;
        self.contingent_today += s.contingent_today;
        self.at_risk += s.at_risk;
    }

    pub fn factor(&self, factor: Factor) -> &FactorCounts {
        match factor {
            Factor::Attendance => &self.attendance,
            Factor::ProviderDuties => &self.provider_duties,
            Factor::Outcome => &self.outcome,
        }
    }
}

/// A school's summary.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolSummary {
    pub school_id: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// A contract's progress at a date.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub contract_id: String,
    pub contract_version: u32,
    pub contract_hash: String,
    pub as_of: String,
    /// The contingent milestone whose statement "as of today" gives the amounts at risk.
    pub milestone: String,
    pub measure: String,
    /// The contract's growth window (`FallToSpring`).
    pub window: String,
    /// The tier a student must reach to meet the target (the lowest tier paying 100% or more).
    pub target_tier: String,
    /// Its `min` (`"-inf"` for an open tier).
    pub target_min: String,
    /// The inputs hash of the statement computed as of today.
    pub inputs_hash: String,
    /// In student id order.
    pub students: Vec<StudentProgress>,
    /// By school id.
    pub by_school: Vec<SchoolSummary>,
    pub totals: Summary,
    /// Students and contingent amounts by `rule_today` (projected as above).
    pub rules_today: Vec<RuleCount>,
    /// The contingent statement computed as of today without projection, as the engine gives
    /// it: before the outcome term is tested, `outcome.missing_score` decides most lines.
    pub statement_today: StatementToday,
}

/// Students and contingent pay under one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub rule: String,
    pub students: u32,
    pub contingent: Decimal,
}

/// The engine's contingent statement as of the progress date, unprojected.
#[derive(Debug, Clone, Serialize)]
pub struct StatementToday {
    pub contingent: Decimal,
    /// After the not-to-exceed cap, base lines included.
    pub statement_total: Decimal,
    pub by_rule: Vec<RuleTotal>,
}

pub(super) fn ratio4<S: Serializer>(r: &Option<Ratio>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&r.display4()),
        None => s.serialize_none(),
    }
}
