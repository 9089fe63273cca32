//! No panic on values that pass validation: for any contract `Contract::parse` accepts, built
//! from extreme but valid values (prices and the NTE up to 999999999.999999, six-decimal shares,
//! tiers and bands at the bounds), and random inputs (scores and projections within and far
//! beyond obc's bounds), statements and progress are computed or refused with an error, never a
//! panic, and every amount fits the cents the store keeps.

use obc_core::engine::{compute, EngineError, PriorPayments, StatementRequest, StudentInput};
use obc_core::model::{AssessmentResult, Enrollment, Session, SessionStatus, Student, Window};
use obc_core::money::{from_cents, to_cents};
use obc_core::progress::{self, ProgressRequest};
use obc_core::{Contract, Grade};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use time::{Date, Duration, Month};

/// A decimal below a billion in magnitude with at most six decimals, often at the edges.
fn bounded(non_negative: bool) -> impl Strategy<Value = Decimal> {
    let edge = prop_oneof![
        Just(Decimal::new(999_999_999_999_999, 6)),
        Just(Decimal::new(1, 6)),
        Just(Decimal::ZERO),
        Just(Decimal::new(999_999_999, 0)),
    ];
    let any = (0u32..=6).prop_flat_map(|scale| {
        let max = 10i64.pow(9 + scale) - 1;
        (-max..=max).prop_map(move |m| Decimal::new(m, scale))
    });
    prop_oneof![1 => edge, 2 => any]
        .prop_map(move |d: Decimal| if non_negative { d.abs() } else { d })
}

/// Any decimal at all, as a file could hold it.
fn unbounded() -> impl Strategy<Value = Decimal> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        0u32..=28,
    )
        .prop_map(|(lo, mid, hi, neg, scale)| Decimal::from_parts(lo, mid, hi, neg, scale))
}

fn file_value() -> impl Strategy<Value = Decimal> {
    prop_oneof![4 => bounded(false), 1 => unbounded()]
}

/// A share strictly between 0 and 1 (six decimals), or a rate in [0, 1].
fn millionths(range: std::ops::RangeInclusive<i64>) -> impl Strategy<Value = Decimal> {
    range.prop_map(|m| Decimal::new(m, 6))
}

const MEASURES: [&str; 5] = [
    "growth_vs_projected",
    "met_projected",
    "rit_gain",
    "conditional_growth_percentile",
    "score",
];
const RESPONSIBLE: [&str; 3] = ["district", "provider", "exclude"];

/// Decreasing distinct minimums above `"-inf"`, and non-increasing values one longer.
fn ladder(
    min: impl Strategy<Value = Decimal>,
    value: impl Strategy<Value = Decimal>,
) -> impl Strategy<Value = (Vec<Decimal>, Vec<Decimal>)> {
    (
        prop::collection::btree_set(min, 0..=3),
        prop::collection::vec(value, 4),
    )
        .prop_map(|(mins, mut values): (BTreeSet<Decimal>, Vec<Decimal>)| {
            let mins: Vec<Decimal> = mins.into_iter().rev().collect();
            values.sort_by(|a, b| b.cmp(a));
            values.truncate(mins.len() + 1);
            (mins, values)
        })
}

fn contract_toml() -> impl Strategy<Value = String> {
    let money = (bounded(true), millionths(1..=999_999), bounded(true));
    let rates = (
        millionths(0..=1_000_000),
        millionths(0..=1_000_000),
        millionths(0..=1_000_000),
        prop::option::of(millionths(0..=1_000_000)),
    );
    let kinds = (0usize..3, 0usize..3, 0usize..5, 0u32..=3);
    // adjust > -1: -0.999999 up to just below a billion
    let adjust = (-999_999i64..=999_999_999_999_999).prop_map(|m| Decimal::new(m, 6));
    let shapes = (
        ladder(bounded(false), bounded(true)),
        prop::option::of(ladder(bounded(false), adjust)),
        millionths(0..=1_000_000),
        bounded(false),
    );
    (money, rates, kinds, shapes).prop_map(
        |(
            (price, share, nte),
            (min_rate, same_tutor, cancel, rapid),
            (responsible, missing, measure, min_offered),
            ((tier_mins, pays), bands, enrollment_share, projected),
        )| {
            let price = price.max(Decimal::new(1, 6));
            let rapid = rapid
                .map(|r| format!("max_rapid_guessing = \"{r}\"\n"))
                .unwrap_or_default();
            let mut s = format!(
                r#"id = "extreme"
district = "d"
provider = "p"
period = {{ start = 2024-08-12, end = 2025-05-30 }}
subject = "Mathematics"
price_per_student = "{price}"
contingent_share = "{share}"
not_to_exceed = "{nte}"

[attendance]
min_rate = "{min_rate}"
min_offered = {min_offered}
responsible = "{}"

[provider_duties]
min_same_tutor_rate = "{same_tutor}"
max_provider_cancel_rate = "{cancel}"

[outcome]
assessment = "MAP Growth"
from_term = "Fall"
to_term = "Spring"
measure = "{}"
missing_score = "{}"
{rapid}
[outcome.projected]
"6" = "{projected}"
"#,
                RESPONSIBLE[responsible], MEASURES[measure], RESPONSIBLE[missing],
            );
            for (i, pays) in pays.iter().enumerate() {
                let min = tier_mins.get(i).map_or("-inf".to_string(), |m| m.to_string());
                s.push_str(&format!(
                    "\n[[rate_card]]\nname = \"t{i}\"\nmin = \"{min}\"\npays = \"{pays}\"\n"
                ));
            }
            s.push_str(&format!(
                "\n[[milestone]]\nname = \"enrollment\"\ndate = 2024-10-15\nbase_share = \"{enrollment_share}\"\n\
                 \n[[milestone]]\nname = \"midyear\"\ndate = 2025-01-31\nbase_share = \"{}\"\n\
                 \n[[milestone]]\nname = \"final\"\ndate = 2025-06-30\ncontingent = true\n",
                Decimal::ONE - enrollment_share
            ));
            if let Some((mins, adjusts)) = bands {
                let bands: Vec<String> = adjusts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let min = mins.get(i).map_or("-inf".to_string(), |m| m.to_string());
                        format!("{{ min = \"{min}\", adjust = \"{a}\" }}")
                    })
                    .collect();
                s.push_str(&format!(
                    "\n[[school_adjustment]]\nschool = \"*\"\nmeasure = \"median_growth_vs_projected\"\nbands = [{}]\n",
                    bands.join(", ")
                ));
            }
            s
        },
    )
}

fn day(offset: i64) -> Date {
    Date::from_calendar_date(2024, Month::August, 1).unwrap() + Duration::days(offset)
}

/// A test row: term (0 Fall, 1 Winter, 2 Spring), day, score, projection, percentile.
type Row = (usize, i64, Decimal, Option<Decimal>, Option<Decimal>);

fn row() -> impl Strategy<Value = Row> {
    (
        0usize..3,
        0i64..330,
        file_value(),
        prop::option::of(file_value()),
        prop::option::of(file_value()),
    )
}

/// Sessions (day, status) and test rows of one student.
type Kid = (Vec<(i64, usize)>, Vec<Row>, Option<i64>);

fn kid() -> impl Strategy<Value = Kid> {
    (
        prop::collection::vec(
            (0i64..330, prop_oneof![6 => Just(0usize), 1 => 0usize..4]),
            0..8,
        ),
        prop::collection::vec(row(), 0..5),
        prop::option::of(any::<i64>()),
    )
}

const TERMS: [&str; 3] = ["Fall 2024-2025", "Winter 2024-2025", "Spring 2024-2025"];

fn input(index: usize, (sessions, rows, _): &Kid) -> StudentInput {
    let id = format!("s{index}");
    StudentInput {
        student: Student {
            id: id.clone(),
            school_id: format!("sch{}", index % 2),
            grade: Grade::parse("6"),
            first_name: "F".into(),
            last_name: "L".into(),
            flags: Default::default(),
        },
        enrollment: Enrollment {
            student_id: id.clone(),
            start: day(0),
            end: None,
        },
        sessions: sessions
            .iter()
            .enumerate()
            .map(|(i, (offset, status))| Session {
                session_id: format!("{id}-{i}"),
                student_id: id.clone(),
                tutor_id: "t".into(),
                date: day(*offset),
                minutes: 30,
                status: SessionStatus::ALL[*status],
                group_size: None,
                subject: String::new(),
            })
            .collect(),
        ambiguous_sessions: vec![],
        tests: rows
            .iter()
            .enumerate()
            .map(|(i, (term, offset, score, projected, cgp))| {
                let mut t = AssessmentResult {
                    student_id: id.clone(),
                    assessment: "MAP Growth".into(),
                    subject: "Mathematics".into(),
                    term_name: TERMS[*term].into(),
                    date: day(*offset),
                    start_seconds: i as u32,
                    score: Some(*score),
                    percentile: None,
                    rapid_guessing_pct: None,
                    growth_measure: true,
                    growth: Default::default(),
                    test_id: None,
                    norms: None,
                };
                for w in Window::ALL {
                    t.growth[w as usize].projected = *projected;
                    t.growth[w as usize].conditional_growth_percentile = *cgp;
                }
                t
            })
            .collect(),
    }
}

/// An error the engine may give on such data; anything else is a bug.
fn expected(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::ValueOutOfRange { .. } | EngineError::AmountTooLarge { .. }
    )
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(96);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_valid_contract_and_no_input_makes_compute_panic(
        toml in contract_toml(),
        kids in prop::collection::vec(kid(), 0..5),
        milestone in 0usize..3,
        as_of in prop::option::of(0i64..400),
        paid_before in any::<i64>(),
    ) {
        let contract = Contract::parse(&toml)
            .unwrap_or_else(|e| panic!("generated contract invalid: {e}\n{toml}"));
        let students: Vec<StudentInput> =
            kids.iter().enumerate().map(|(i, k)| input(i, k)).collect();
        let prior = PriorPayments {
            paid_before: from_cents(paid_before.abs() / 2),
            base_paid: kids
                .iter()
                .enumerate()
                .filter_map(|(i, k)| k.2.map(|c| (format!("s{i}"), from_cents(c / 2))))
                .collect(),
            corrections: Vec::new(),
            nte_difference: Decimal::ZERO,
        };
        let name = ["enrollment", "midyear", "final"][milestone];
        match compute(StatementRequest {
            contract: &contract,
            contract_version: 1,
            contract_hash: "h".into(),
            milestone: name,
            as_of: as_of.map(day),
            students: students.clone().into(),
            prior: prior.clone(),
        }) {
            Ok(s) => {
                for l in &s.lines {
                    to_cents(l.base_amount);
                    to_cents(l.contingent_amount);
                    to_cents(l.total);
                }
                to_cents(s.totals.statement_total);
                s.totals.nte_cap.map(to_cents);
                prop_assert!(!s.to_csv().is_empty());
                prop_assert!(!s.to_json().is_empty());
            }
            Err(e) => prop_assert!(expected(&e), "{e}"),
        }
        match progress::compute(ProgressRequest {
            contract: &contract,
            contract_version: 1,
            contract_hash: "h".into(),
            as_of: day(as_of.unwrap_or(300)),
            students,
            prior,
        }) {
            Ok(p) => {
                prop_assert!(!p.to_csv().is_empty());
                prop_assert!(!p.to_table().is_empty());
            }
            Err(e) => prop_assert!(expected(&e), "{e}"),
        }
    }
}
