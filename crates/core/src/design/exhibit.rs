//! The rate-card exhibit a school board approves (SPEC 7): the contract in plain English, with
//! worked examples whose amounts come from the engine itself, so the words both parties sign and
//! the statements they will be paid by cannot disagree.

use crate::contract::{Contract, Measure, Responsible};
use crate::engine::{self, EngineError, PriorPayments, StatementRequest, StudentInput};
use crate::model::{AssessmentResult, Enrollment, Session, SessionStatus, Student};
use crate::money::{format_dollars, round_cents};
use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

/// The contract as the exhibit presents it: every figure and sentence derived from the document.
#[derive(Debug, Clone, Serialize)]
pub struct Exhibit {
    pub contract_id: String,
    pub district: String,
    pub provider: String,
    pub subject: String,
    pub period_start: String,
    pub period_end: String,
    /// SHA-256 of the contract document, printed on every page.
    pub contract_hash: String,
    pub price: Decimal,
    pub base_part: Decimal,
    pub contingent_part: Decimal,
    pub contingent_share: Decimal,
    pub not_to_exceed: Decimal,
    /// The most one student can earn in the year: base plus the best tier and school bonus.
    pub max_per_student: Decimal,
    /// Plain-English clauses, in the order the engine applies them.
    pub sections: Vec<Section>,
    pub tiers: Vec<TierRow>,
    pub milestones: Vec<MilestoneRow>,
    pub examples: Vec<WorkedExample>,
}

/// One titled part of the exhibit's text, citing the contract clause it renders.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub clause: String,
    pub paragraphs: Vec<String>,
}

/// One rate-card tier: which measures it covers and what it pays per student.
#[derive(Debug, Clone, Serialize)]
pub struct TierRow {
    pub name: String,
    pub condition: String,
    pub pays: Decimal,
    pub amount: Decimal,
}

/// One milestone of the payment schedule.
#[derive(Debug, Clone, Serialize)]
pub struct MilestoneRow {
    pub name: String,
    pub date: String,
    pub pays: String,
}

/// A synthetic student run through the engine at the contingent milestone: what a student in
/// this situation earns for the whole year (no school adjustment, no cap).
#[derive(Debug, Clone, Serialize)]
pub struct WorkedExample {
    pub situation: String,
    pub rule: String,
    pub base: Decimal,
    pub contingent: Decimal,
    pub total: Decimal,
    /// The engine's own one-line reason for the amount.
    pub reason: String,
}

impl Exhibit {
    pub fn price_text(&self) -> String {
        format_dollars(self.price)
    }
    pub fn base_text(&self) -> String {
        format_dollars(self.base_part)
    }
    pub fn contingent_text(&self) -> String {
        format_dollars(self.contingent_part)
    }
    pub fn nte_text(&self) -> String {
        format_dollars(self.not_to_exceed)
    }
    pub fn max_per_student_text(&self) -> String {
        format_dollars(self.max_per_student)
    }
    pub fn contingent_share_text(&self) -> String {
        percent(self.contingent_share)
    }
}

impl TierRow {
    pub fn pays_text(&self) -> String {
        percent(self.pays)
    }
    pub fn amount_text(&self) -> String {
        format_dollars(self.amount)
    }
}

impl WorkedExample {
    pub fn base_text(&self) -> String {
        format_dollars(self.base)
    }
    pub fn contingent_text(&self) -> String {
        format_dollars(self.contingent)
    }
    pub fn total_text(&self) -> String {
        format_dollars(self.total)
    }
}

/// A share as a percentage: `0.70` -> `70%`, `0.125` -> `12.5%`.
pub fn percent(share: Decimal) -> String {
    format!("{}%", (share * Decimal::ONE_HUNDRED).normalize())
}

/// Builds the exhibit of a contract whose document hashes to `contract_hash`.
pub fn build(contract: &Contract, contract_hash: &str) -> Result<Exhibit, EngineError> {
    let c = contract.contingent_part();
    let best_pays = contract
        .rate_card
        .iter()
        .map(|t| t.pays)
        .max()
        .unwrap_or_default();
    let best_adjust = contract
        .school_adjustments
        .iter()
        .flat_map(|a| a.bands.iter().map(|b| b.adjust))
        .max()
        .unwrap_or_default()
        .max(Decimal::ZERO);
    Ok(Exhibit {
        contract_id: contract.id.clone(),
        district: contract.district.clone(),
        provider: contract.provider.clone(),
        subject: contract.subject.clone(),
        period_start: contract.period.start.to_string(),
        period_end: contract.period.end.to_string(),
        contract_hash: contract_hash.to_string(),
        price: contract.price_per_student,
        base_part: contract.base_part(),
        contingent_part: c,
        contingent_share: contract.contingent_share,
        not_to_exceed: contract.not_to_exceed,
        max_per_student: round_cents(
            contract.base_part() + c * best_pays * (Decimal::ONE + best_adjust),
        ),
        sections: sections(contract),
        tiers: tiers(contract),
        milestones: milestones(contract),
        examples: examples(contract)?,
    })
}

/// What "the contingent part" becomes under each answer of `responsible` / `missing_score`.
fn consequence(who: Responsible) -> &'static str {
    match who {
        Responsible::District => "the district answers for it and pays the contingent part in full",
        Responsible::Provider => "the provider answers for it and the contingent part is not paid",
        Responsible::Exclude => {
            "the student is excluded from the outcome: the base part only, no contingent part"
        }
    }
}

/// The outcome measure in words, e.g. "growth divided by the projected growth".
fn measure_words(measure: Measure) -> &'static str {
    match measure {
        Measure::GrowthVsProjected => {
            "observed growth (outcome score minus baseline score) divided by the projected growth"
        }
        Measure::MetProjected => {
            "1 when the observed growth reaches the projected growth, otherwise 0"
        }
        Measure::RitGain => "observed growth in RIT points (outcome score minus baseline score)",
        Measure::ConditionalGrowthPercentile => {
            "the conditional growth percentile reported with the outcome test"
        }
        Measure::Score => "the outcome test's score",
    }
}

fn sections(contract: &Contract) -> Vec<Section> {
    let att = &contract.attendance;
    let duties = &contract.provider_duties;
    let out = &contract.outcome;
    let c = format_dollars(contract.contingent_part());
    let mut result = vec![
        Section {
            title: "Price".into(),
            clause: "price_per_student, contingent_share".into(),
            paragraphs: vec![format!(
                "Each enrolled student is priced at {}. Of this, {} ({}) is the base part, paid \
                 for enrolling and serving the student; {} ({}) is the contingent part, paid \
                 according to the rules below.",
                format_dollars(contract.price_per_student),
                format_dollars(contract.base_part()),
                percent(Decimal::ONE - contract.contingent_share),
                c,
                percent(contract.contingent_share),
            )],
        },
        Section {
            title: "Factor 1: attendance".into(),
            clause: "attendance".into(),
            paragraphs: vec![
                format!(
                    "If the school makes fewer than {} of the planned sessions available (sessions \
                     the district cancels), the district pays the contingent part in full ({c}).",
                    percent(att.min_rate)
                ),
                format!(
                    "If the provider offered at least {} sessions and the student attends fewer \
                     than {} of offered sessions, {}.",
                    att.min_offered,
                    percent(att.min_rate),
                    consequence(att.responsible)
                ),
                format!(
                    "A student offered fewer than {} sessions received too few to judge: the \
                     base part only, no contingent part.",
                    att.min_offered
                ),
            ],
        },
        Section {
            title: "Factor 2: the provider's duties".into(),
            clause: "provider_duties".into(),
            paragraphs: vec![format!(
                "If fewer than {} of the student's attended sessions are with their most frequent \
                 tutor, or the provider cancels more than {} of the planned sessions, the provider \
                 answers for it and the contingent part is not paid.",
                percent(duties.min_same_tutor_rate),
                percent(duties.max_provider_cancel_rate)
            )],
        },
    ];
    let mut outcome = vec![
        format!(
            "The outcome is measured with {} in {}, from the {} to the {} test of {}, as {}.",
            out.assessment,
            contract.subject,
            out.from_term.as_str(),
            out.to_term.as_str(),
            contract.school_year(),
            measure_words(out.measure)
        ),
        format!(
            "If the baseline or the outcome score is missing, {}.",
            consequence(out.missing_score)
        ),
    ];
    if let Some(rapid) = out.max_rapid_guessing {
        outcome.push(format!(
            "A test with {} or more rapid guesses is not valid and counts as not taken.",
            percent(rapid)
        ));
    }
    if let Some(norms) = &out.norms {
        outcome.push(format!("Only scores on the {norms} norms count."));
    }
    outcome.push(
        "Otherwise the rate card below decides the contingent part. These rules apply in the \
         order written: the district's failures first, then the provider's, then too few \
         sessions or exclusion, then the rate card."
            .into(),
    );
    result.push(Section {
        title: "Factor 3: the outcome".into(),
        clause: "outcome".into(),
        paragraphs: outcome,
    });
    for (i, adj) in contract.school_adjustments.iter().enumerate() {
        let school = if adj.school == "*" {
            "every school without its own adjustment".to_string()
        } else {
            format!("school {}", adj.school)
        };
        let bands: Vec<String> = adj
            .bands
            .iter()
            .map(|b| {
                let when = match b.min {
                    Some(min) => format!("a median of at least {min}"),
                    None => "a lower median".to_string(),
                };
                format!(
                    "{when}: {:+}%",
                    (b.adjust * Decimal::ONE_HUNDRED).normalize()
                )
            })
            .collect();
        result.push(Section {
            title: "School adjustment".into(),
            clause: format!("school_adjustment[{i}]"),
            paragraphs: vec![format!(
                "At {school}, the median growth-versus-projection of the students paid by the \
                 rate card raises or lowers each such student's contingent amount: {}.",
                bands.join("; ")
            )],
        });
    }
    result.push(Section {
        title: "Cap".into(),
        clause: "not_to_exceed".into(),
        paragraphs: vec![format!(
            "All payments under this contract together never exceed {} (not to exceed); a \
             statement that would pass it is reduced to the remainder.",
            format_dollars(contract.not_to_exceed)
        )],
    });
    result
}

fn tiers(contract: &Contract) -> Vec<TierRow> {
    let measure = contract.outcome.measure.as_str();
    let mut upper: Option<Decimal> = None;
    contract
        .rate_card
        .iter()
        .map(|t| {
            let condition = match (t.min, upper) {
                (Some(min), _) => format!("{measure} at least {min}"),
                (None, Some(above)) => format!("{measure} below {above}"),
                (None, None) => format!("any {measure}"),
            };
            upper = t.min;
            TierRow {
                name: t.name.clone(),
                condition,
                pays: t.pays,
                amount: round_cents(contract.contingent_part() * t.pays),
            }
        })
        .collect()
}

fn milestones(contract: &Contract) -> Vec<MilestoneRow> {
    contract
        .milestones
        .iter()
        .map(|m| {
            let mut parts = Vec::new();
            if !m.base_share.is_zero() {
                parts.push(format!(
                    "{} of the base part ({}) per student who started by then and attended a \
                     session",
                    percent(m.base_share),
                    format_dollars(round_cents(contract.base_part() * m.base_share))
                ));
            }
            if m.contingent {
                parts.push("the contingent part, by the rules above".into());
            }
            MilestoneRow {
                name: m.name.clone(),
                date: m.date.to_string(),
                pays: parts.join("; and "),
            }
        })
        .collect()
}

/// The baseline score every worked example starts from, and the projected growth it is given.
const EXAMPLE_BASELINE: i64 = 200;
const EXAMPLE_PROJECTION: i64 = 10;

/// A synthetic student's sessions and scores: `offered` sessions of which `attended` attended
/// (the rest missed by the student), `district_cancelled` more cancelled by the school, and the
/// outcome at `growth_tenths` tenths of the projection (none: no outcome test).
struct Scenario {
    offered: u32,
    attended: u32,
    district_cancelled: u32,
    growth_tenths: Option<i64>,
}

fn examples(contract: &Contract) -> Result<Vec<WorkedExample>, EngineError> {
    let att = &contract.attendance;
    // Enough offered sessions to be judged, a multiple of 10 so that 80% is whole.
    let offered = contract.attendance.min_offered.max(20).div_ceil(10) * 10;
    let eighty = offered * 8 / 10;
    let growth = format!(
        "grows 1.2 times the projection ({} RIT points where {} were projected)",
        EXAMPLE_PROJECTION * 12 / 10,
        EXAMPLE_PROJECTION
    );
    let mut list = vec![
        (
            format!("A student who attends 80% of offered sessions ({eighty} of {offered}) and {growth}"),
            Scenario { offered, attended: eighty, district_cancelled: 0, growth_tenths: Some(12) },
        ),
        (
            format!(
                "A student whose school cancelled half the sessions ({offered} of {}), who \
                 attends every session offered and grows as projected",
                offered * 2
            ),
            Scenario { offered, attended: offered, district_cancelled: offered, growth_tenths: Some(10) },
        ),
        (
            format!("A student who attends 80% of offered sessions ({eighty} of {offered}) but has no {} score", contract.outcome.to_term.as_str()),
            Scenario { offered, attended: eighty, district_cancelled: 0, growth_tenths: None },
        ),
    ];
    // Just below the attendance minimum, with enough sessions for whole percentages.
    let hundred = contract.attendance.min_offered.max(100).div_ceil(100) * 100;
    let needed = (att.min_rate * Decimal::from(hundred)).ceil();
    if let Some(below) = u32::try_from(needed).ok().and_then(|n| n.checked_sub(1)) {
        list.push((
            format!(
                "A student who attends {below} of {hundred} offered sessions, below the {} \
                 minimum, and {growth}",
                percent(att.min_rate)
            ),
            Scenario {
                offered: hundred,
                attended: below,
                district_cancelled: 0,
                growth_tenths: Some(12),
            },
        ));
    }
    // The rules without school adjustments: one student's school median is their own growth.
    let mut plain = contract.clone();
    plain.school_adjustments.clear();
    list.into_iter()
        .map(|(situation, scenario)| worked(&plain, situation, &scenario))
        .collect()
}

/// Runs one scenario through the engine at the contingent milestone, with nothing paid before.
fn worked(
    contract: &Contract,
    situation: String,
    scenario: &Scenario,
) -> Result<WorkedExample, EngineError> {
    let milestone = contract
        .milestones
        .iter()
        .find(|m| m.contingent)
        .expect("a valid contract has a contingent milestone");
    let statement = engine::compute_unhashed(StatementRequest {
        contract,
        contract_version: 1,
        contract_hash: String::new(),
        milestone: &milestone.name,
        as_of: None,
        students: vec![example_student(contract, scenario)].into(),
        prior: PriorPayments::default(),
    })?;
    let line = statement
        .lines
        .into_iter()
        .next()
        .expect("the example student is enrolled during the period");
    Ok(WorkedExample {
        situation,
        rule: line.rule,
        base: line.base_amount,
        contingent: line.contingent_amount,
        total: line.total,
        reason: line.reason,
    })
}

const EXAMPLE_ID: &str = "example";

/// The engine's inputs for a scenario: enrolled for the whole period, every session and test
/// on its first day, one tutor, no provider cancellations.
fn example_student(contract: &Contract, scenario: &Scenario) -> StudentInput {
    let day = contract.period.start;
    let mut sessions = Vec::new();
    let statuses = [
        (SessionStatus::Attended, scenario.attended),
        (
            SessionStatus::StudentAbsent,
            scenario.offered - scenario.attended,
        ),
        (
            SessionStatus::DistrictCancelled,
            scenario.district_cancelled,
        ),
    ];
    for (status, count) in statuses {
        for _ in 0..count {
            sessions.push(Session {
                session_id: format!("s{:05}", sessions.len()),
                student_id: EXAMPLE_ID.into(),
                tutor_id: "tutor".into(),
                date: day,
                minutes: 30,
                status,
                group_size: None,
                subject: contract.subject.clone(),
            });
        }
    }
    let window = contract.outcome.window() as usize;
    let baseline = Decimal::from(EXAMPLE_BASELINE);
    let projection = Decimal::from(EXAMPLE_PROJECTION);
    let mut tests = vec![test(contract, contract.outcome.from_term, day, baseline)];
    if let Some(tenths) = scenario.growth_tenths {
        let grown = projection * Decimal::new(tenths, 1);
        tests.push(test(
            contract,
            contract.outcome.to_term,
            day,
            baseline + grown,
        ));
        // A conditional growth percentile of 50 is typical growth: 5 points per tenth above.
        tests[1].growth[window].conditional_growth_percentile =
            Some(Decimal::from(50 + (tenths - 10) * 5));
    }
    tests[0].growth[window].projected = Some(projection);
    StudentInput {
        student: Student {
            id: EXAMPLE_ID.into(),
            school_id: "school".into(),
            grade: None,
            first_name: String::new(),
            last_name: String::new(),
            flags: Default::default(),
        },
        enrollment: Enrollment {
            student_id: EXAMPLE_ID.into(),
            start: contract.period.start,
            end: None,
        },
        sessions,
        ambiguous_sessions: vec![],
        tests,
    }
}

fn test(
    contract: &Contract,
    term: crate::model::Term,
    date: Date,
    score: Decimal,
) -> AssessmentResult {
    AssessmentResult {
        student_id: EXAMPLE_ID.into(),
        assessment: contract.outcome.assessment.clone(),
        subject: contract.subject.clone(),
        term_name: contract.term_name(term),
        date,
        start_seconds: 0,
        score: Some(score),
        percentile: None,
        rapid_guessing_pct: None,
        growth_measure: true,
        growth: Default::default(),
        test_id: None,
        norms: contract.outcome.norms.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_kit::{contract_with_schools, edit, EXAMPLE};

    #[test]
    fn worked_examples_pay_what_the_engine_pays() {
        let contract = contract_with_schools(&[]);
        let exhibit = build(&contract, "abc").unwrap();
        let mut plain = contract.clone();
        plain.school_adjustments.clear();
        // 80% attendance and 1.2x growth: meets (1.00): base 720 + contingent 480.
        let first = &exhibit.examples[0];
        assert_eq!(first.rule, "tier:meets");
        assert_eq!(first.total, Decimal::new(120000, 2));
        assert!(first.situation.contains("80% of offered sessions"));
        // Half the sessions cancelled by the school: district fault, paid in full.
        assert_eq!(exhibit.examples[1].rule, "district_fault");
        // Missing score, missing_score = "district": paid in full.
        assert_eq!(exhibit.examples[2].rule, "district_fault");
        // 69% attendance, responsible = "district": paid in full.
        assert!(exhibit.examples[3].situation.contains("69 of 100"));
        assert_eq!(exhibit.examples[3].rule, "district_fault");
        // Each amount equals what engine::compute pays the same inputs.
        let scenarios = [(12, 20, 16, 0), (10, 20, 20, 20)];
        for (i, (tenths, offered, attended, cancelled)) in scenarios.into_iter().enumerate() {
            let input = example_student(
                &plain,
                &Scenario {
                    offered,
                    attended,
                    district_cancelled: cancelled,
                    growth_tenths: Some(tenths),
                },
            );
            let statement = engine::compute(StatementRequest {
                contract: &plain,
                contract_version: 1,
                contract_hash: "abc".into(),
                milestone: "final",
                as_of: None,
                students: vec![input].into(),
                prior: PriorPayments::default(),
            })
            .unwrap();
            assert_eq!(statement.lines[0].total, exhibit.examples[i].total);
            assert_eq!(statement.lines[0].rule, exhibit.examples[i].rule);
        }
    }

    #[test]
    fn words_follow_who_answers_for_each_rule() {
        let provider = Contract::parse(&edit(
            EXAMPLE,
            &[
                ("responsible = \"district\"", "responsible = \"provider\""),
                (
                    "missing_score = \"district\"",
                    "missing_score = \"exclude\"",
                ),
            ],
        ))
        .unwrap();
        let exhibit = build(&provider, "abc").unwrap();
        let text: String = exhibit
            .sections
            .iter()
            .flat_map(|s| s.paragraphs.clone())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains(
            "attends fewer than 70% of offered sessions, the provider answers for it and the \
             contingent part is not paid"
        ));
        assert!(text.contains("score is missing, the student is excluded"));
        assert_eq!(exhibit.examples[3].rule, "provider_fault");
        assert_eq!(exhibit.examples[3].total, Decimal::new(72000, 2));
        assert_eq!(exhibit.examples[2].rule, "excluded");
        let district = build(&contract_with_schools(&[]), "abc").unwrap();
        assert!(district.sections[1].paragraphs[1].contains("the district answers for it"));
    }

    #[test]
    fn tiers_milestones_and_cap_come_from_the_contract() {
        let exhibit = build(&contract_with_schools(&[]), "abc").unwrap();
        let names: Vec<_> = exhibit.tiers.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["exceeds", "meets", "approaching", "below"]);
        assert_eq!(exhibit.tiers[0].amount_text(), "$600.00");
        assert_eq!(exhibit.tiers[3].condition, "growth_vs_projected below 0.50");
        assert_eq!(exhibit.milestones.len(), 3);
        assert!(exhibit.milestones[0].pays.contains("$360.00"));
        assert_eq!(exhibit.nte_text(), "$600,000.00");
        // Base 720 + 480 x 1.25 x 1.10.
        assert_eq!(exhibit.max_per_student_text(), "$1,380.00");
        assert!(exhibit
            .sections
            .iter()
            .any(|s| s.clause == "school_adjustment[0]"));
    }
}
