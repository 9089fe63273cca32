//! Property tests of the payout engine (SPEC section 5): random contracts, students, sessions
//! and tests; the invariants every statement must keep. One test binary: `extremes` holds the
//! no-panic property over extreme valid contracts; `corrections` the property of corrections
//! and closing statements.

mod corrections;
mod extremes;

use obc_core::engine::{compute, PriorPayments, StatementRequest, StudentInput};
use obc_core::model::{
    AssessmentResult, Enrollment, Session, SessionStatus, Student, Window, WindowGrowth,
};
use obc_core::money::round_cents;
use obc_core::{Contract, Grade, Statement};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use time::{Date, Duration, Month};

// ---------------------------------------------------------------------------------------------
// Random contracts
// ---------------------------------------------------------------------------------------------

const MEASURES: [&str; 5] = [
    "growth_vs_projected",
    "met_projected",
    "rit_gain",
    "conditional_growth_percentile",
    "score",
];
const RESPONSIBLE: [&str; 3] = ["district", "provider", "exclude"];

#[derive(Debug, Clone)]
struct ContractParams {
    price_cents: i64,
    share_milli: i64,
    /// The NTE in thousandths of a dollar: mostly whole cents, sometimes not.
    nte_mills: i64,
    min_rate: i64,
    min_offered: u32,
    responsible: usize,
    same_tutor: i64,
    cancel: i64,
    missing: usize,
    measure: usize,
    rapid: Option<i64>,
    /// Tier mins (hundredths, strictly decreasing) above the "-inf" tier.
    tier_mins: Vec<i64>,
    /// Tier pays (hundredths, non-increasing), one more than `tier_mins`.
    tier_pays: Vec<i64>,
    enrollment_share: i64,
    /// School adjustments: (school, band mins strictly decreasing, adjusts non-increasing).
    adjustments: Vec<(String, Vec<i64>, Vec<i64>)>,
}

fn hundredths(n: i64) -> Decimal {
    Decimal::new(n, 2)
}

/// A tier min on the measure's scale, strictly increasing in `m`.
fn tier_min(measure: &str, m: i64) -> Decimal {
    match measure {
        "growth_vs_projected" | "met_projected" => Decimal::new(m, 2),
        "rit_gain" => Decimal::new(m, 1),
        "conditional_growth_percentile" => Decimal::new(m, 1) + Decimal::from(50),
        _ => Decimal::new(m, 1) + Decimal::from(200),
    }
}

fn bands_strategy() -> impl Strategy<Value = (Vec<i64>, Vec<i64>)> {
    (
        prop::collection::btree_set(-50i64..250, 0..=2),
        prop::collection::vec(-99i64..=60, 3),
    )
        .prop_map(|(mins, mut adjusts)| {
            let mins: Vec<i64> = mins.into_iter().rev().collect();
            adjusts.sort_unstable_by(|a, b| b.cmp(a));
            adjusts.truncate(mins.len() + 1);
            (mins, adjusts)
        })
}

fn contract_strategy() -> impl Strategy<Value = ContractParams> {
    let nte_mills = prop_oneof![
        4 => (0i64..=2_000_000).prop_map(|cents| cents * 10),
        1 => 0i64..=20_000_000,
    ];
    let money = (1i64..=300_000, 1i64..=999, nte_mills);
    // thresholds mostly where real contracts put them, so that students reach the rate card
    let min_rate = prop_oneof![3 => 40i64..=80, 1 => 0i64..=100];
    let same_tutor = prop_oneof![3 => 30i64..=80, 1 => 0i64..=100];
    let cancel = prop_oneof![3 => 10i64..=40, 1 => 0i64..=100];
    let factors = (
        min_rate,
        0u32..=6,
        0usize..3,
        same_tutor,
        cancel,
        0usize..3,
        0usize..5,
    );
    let rapid = prop::option::of(0i64..=100);
    let tiers = (
        prop::collection::btree_set(-300i64..300, 0..=3),
        prop::collection::vec(0i64..=200, 4),
    );
    let adjustments = (
        prop::option::of(bands_strategy()),
        prop::option::of(bands_strategy()),
    );
    (money, factors, rapid, tiers, 0i64..=100, adjustments).prop_map(
        |(
            (price_cents, share_milli, nte_mills),
            (min_rate, min_offered, responsible, same_tutor, cancel, missing, measure),
            rapid,
            (mins, mut pays),
            enrollment_share,
            (star, own),
        )| {
            let tier_mins: Vec<i64> = mins.into_iter().rev().collect();
            pays.sort_unstable_by(|a, b| b.cmp(a));
            pays.truncate(tier_mins.len() + 1);
            let mut adjustments = Vec::new();
            if let Some((m, a)) = star {
                adjustments.push(("*".to_string(), m, a));
            }
            if let Some((m, a)) = own {
                adjustments.push(("s2".to_string(), m, a));
            }
            ContractParams {
                price_cents,
                share_milli,
                nte_mills,
                min_rate,
                min_offered,
                responsible,
                same_tutor,
                cancel,
                missing,
                measure,
                rapid,
                tier_mins,
                tier_pays: pays,
                enrollment_share,
                adjustments,
            }
        },
    )
}

fn contract_toml(p: &ContractParams) -> String {
    let measure = MEASURES[p.measure];
    let rapid = p
        .rapid
        .map(|r| format!("max_rapid_guessing = \"{}\"\n", hundredths(r)))
        .unwrap_or_default();
    let mut s = format!(
        r#"id = "prop"
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
responsible = "{responsible}"

[provider_duties]
min_same_tutor_rate = "{same_tutor}"
max_provider_cancel_rate = "{cancel}"

[outcome]
assessment = "MAP Growth"
from_term = "Fall"
to_term = "Spring"
measure = "{measure}"
missing_score = "{missing}"
{rapid}
[outcome.projected]
"6" = "7.7"
"K" = "12.5"
"#,
        price = hundredths(p.price_cents),
        share = Decimal::new(p.share_milli, 3),
        nte = Decimal::new(p.nte_mills, 3),
        min_rate = hundredths(p.min_rate),
        min_offered = p.min_offered,
        responsible = RESPONSIBLE[p.responsible],
        same_tutor = hundredths(p.same_tutor),
        cancel = hundredths(p.cancel),
        missing = RESPONSIBLE[p.missing],
    );
    for (i, pays) in p.tier_pays.iter().enumerate() {
        let min = p
            .tier_mins
            .get(i)
            .map_or("-inf".to_string(), |m| tier_min(measure, *m).to_string());
        s.push_str(&format!(
            "\n[[rate_card]]\nname = \"t{i}\"\nmin = \"{min}\"\npays = \"{}\"\n",
            hundredths(*pays)
        ));
    }
    s.push_str(&format!(
        "\n[[milestone]]\nname = \"enrollment\"\ndate = 2024-10-15\nbase_share = \"{}\"\n",
        hundredths(p.enrollment_share)
    ));
    s.push_str(&format!(
        "\n[[milestone]]\nname = \"midyear\"\ndate = 2025-01-31\nbase_share = \"{}\"\n",
        hundredths(100 - p.enrollment_share)
    ));
    s.push_str("\n[[milestone]]\nname = \"final\"\ndate = 2025-06-30\ncontingent = true\n");
    for (school, mins, adjusts) in &p.adjustments {
        let bands: Vec<String> = adjusts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let min = mins
                    .get(i)
                    .map_or("-inf".to_string(), |m| hundredths(*m).to_string());
                format!("{{ min = \"{min}\", adjust = \"{}\" }}", hundredths(*a))
            })
            .collect();
        s.push_str(&format!(
            "\n[[school_adjustment]]\nschool = \"{school}\"\nmeasure = \"median_growth_vs_projected\"\nbands = [{}]\n",
            bands.join(", ")
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Random students
// ---------------------------------------------------------------------------------------------

fn day(offset: i64) -> Date {
    Date::from_calendar_date(2024, Month::August, 1).unwrap() + Duration::days(offset)
}

const STATUSES: [SessionStatus; 4] = SessionStatus::ALL;
const TERMS: [&str; 3] = ["Fall 2024-2025", "Winter 2024-2025", "Spring 2024-2025"];
const GRADES: [&str; 4] = ["5", "6", "7", "KG"];
const PREFIXES: [&str; 4] = ["a", "B", "z", "é"];

/// A test row: term, subject (0 = the contract's), day, hour, score, projection (tenths),
/// rapid guessing, valid for growth, conditional growth percentile, observed growth in the file.
type TestRow = (
    usize,
    u8,
    i64,
    u32,
    i64,
    Option<i64>,
    Option<i64>,
    bool,
    Option<i64>,
    Option<i64>,
);

#[derive(Debug, Clone)]
struct StudentParams {
    school: usize,
    grade: usize,
    start: i64,
    length: Option<i64>,
    sessions: Vec<(i64, usize, u8)>,
    tests: Vec<TestRow>,
    base_paid: Option<i64>,
}

/// Any row: any term, mostly the contract's subject, any date.
fn test_row() -> impl Strategy<Value = TestRow> {
    (
        0usize..3,
        prop_oneof![4 => Just(0u8), 1 => Just(1u8)],
        0i64..380,
        row_details(),
    )
        .prop_map(
            |(term, subject, offset, (hour, score, projected, rapid, valid, cgp, observed))| {
                (
                    term, subject, offset, hour, score, projected, rapid, valid, cgp, observed,
                )
            },
        )
}

/// A row of the contract's subject in a term, dated within the term's testing window.
fn term_row(term: usize, days: std::ops::Range<i64>) -> impl Strategy<Value = TestRow> {
    (days, row_details()).prop_map(
        move |(offset, (hour, score, projected, rapid, valid, cgp, observed))| {
            (
                term, 0u8, offset, hour, score, projected, rapid, valid, cgp, observed,
            )
        },
    )
}

/// Hour, score, projection (tenths), rapid guessing, valid for growth, CGP, observed growth.
#[allow(clippy::type_complexity)]
fn row_details() -> impl Strategy<
    Value = (
        u32,
        i64,
        Option<i64>,
        Option<i64>,
        bool,
        Option<i64>,
        Option<i64>,
    ),
> {
    (
        7u32..16,
        180i64..240,
        prop_oneof![3 => (-20i64..=200).prop_map(Some), 1 => Just(None)],
        prop_oneof![4 => Just(None), 1 => (0i64..=60).prop_map(Some)],
        prop_oneof![8 => Just(true), 1 => Just(false)],
        prop::option::of(1i64..=99),
        prop_oneof![3 => Just(None), 1 => (-10i64..=40).prop_map(Some)],
    )
}

fn student_strategy() -> impl Strategy<Value = StudentParams> {
    let status =
        prop_oneof![12 => Just(0usize), 3 => Just(1usize), 1 => Just(2usize), 1 => Just(3usize)];
    let tutor = prop_oneof![12 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)];
    let tests = (
        prop::option::of(term_row(0, 15..90)),
        prop::option::of(term_row(2, 240..320)),
        prop::collection::vec(test_row(), 0..4),
    )
        .prop_map(|(fall, spring, mut more)| {
            more.extend(fall);
            more.extend(spring);
            more
        });
    (
        0usize..3,
        0usize..4,
        prop_oneof![3 => 0i64..40, 1 => -40i64..320],
        prop::option::of(0i64..300),
        prop::collection::vec((0i64..330, status, tutor), 0..30),
        tests,
        prop::option::of(0i64..=200_000),
    )
        .prop_map(
            |(school, grade, start, length, sessions, tests, base_paid)| StudentParams {
                school,
                grade,
                start,
                length,
                sessions,
                tests,
                base_paid,
            },
        )
}

fn student_input(index: usize, p: &StudentParams) -> StudentInput {
    let id = format!("{}{index}", PREFIXES[index % PREFIXES.len()]);
    let growth = |projected: Option<i64>, observed: Option<i64>, cgp: Option<i64>| {
        let mut g: [WindowGrowth; 3] = Default::default();
        g[Window::FallToSpring as usize] = WindowGrowth {
            projected: projected.map(|p| Decimal::new(p, 1)),
            observed: observed.map(Decimal::from),
            conditional_growth_percentile: cgp.map(Decimal::from),
        };
        g
    };
    StudentInput {
        student: Student {
            id: id.clone(),
            school_id: format!("s{}", p.school + 1),
            grade: Grade::parse(GRADES[p.grade]),
            first_name: "F".into(),
            last_name: "L".into(),
            flags: Default::default(),
        },
        enrollment: Enrollment {
            student_id: id.clone(),
            start: day(p.start),
            end: p.length.map(|l| day(p.start + l)),
        },
        sessions: p
            .sessions
            .iter()
            .enumerate()
            .map(|(i, (offset, status, tutor))| Session {
                session_id: format!("{id}-{i:02}"),
                student_id: id.clone(),
                tutor_id: format!("t{tutor}"),
                date: day(*offset),
                minutes: 30,
                status: STATUSES[*status],
                group_size: None,
                subject: String::new(),
            })
            .collect(),
        ambiguous_sessions: vec![],
        tests: p
            .tests
            .iter()
            .enumerate()
            .flat_map(
                |(
                    i,
                    (term, subject, offset, hour, score, projected, rapid, valid, cgp, observed),
                )| {
                    let row = AssessmentResult {
                        student_id: id.clone(),
                        assessment: "MAP Growth".into(),
                        subject: if *subject == 0 {
                            "Mathematics"
                        } else {
                            "Reading"
                        }
                        .into(),
                        term_name: TERMS[*term].into(),
                        date: day(*offset),
                        // distinct date and time among a student's rows of one subject: the index
                        // breaks every tie
                        start_seconds: hour * 3600 + i as u32,
                        score: Some(Decimal::from(*score)),
                        percentile: None,
                        rapid_guessing_pct: rapid.map(Decimal::from),
                        growth_measure: *valid,
                        growth: growth(*projected, *observed, *cgp),
                        test_id: None,
                        norms: None,
                    };
                    // MAP tests a student in several subjects the same day, often with the same
                    // (or a blank) start time: every other row gets a Reading twin of the same time.
                    let twin = (i % 2 == 0 && *subject == 0).then(|| AssessmentResult {
                        subject: "Reading".into(),
                        score: Some(Decimal::from(*score - 7)),
                        ..row.clone()
                    });
                    std::iter::once(row).chain(twin)
                },
            )
            .collect(),
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    contract: ContractParams,
    students: Vec<StudentParams>,
    milestone: usize,
    as_of: Option<i64>,
    paid_before_cents: i64,
    shuffle_seed: u64,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        contract_strategy(),
        prop::collection::vec(student_strategy(), 0..8),
        prop_oneof![1 => Just(0usize), 1 => Just(1usize), 3 => Just(2usize)],
        prop::option::of(0i64..400),
        prop_oneof![1 => Just(0i64), 2 => 0i64..=2_000_000],
        any::<u64>(),
    )
        .prop_map(
            |(contract, students, milestone, as_of, paid_before_cents, shuffle_seed)| Scenario {
                contract,
                students,
                milestone,
                as_of,
                paid_before_cents,
                shuffle_seed,
            },
        )
}

const MILESTONES: [&str; 3] = ["enrollment", "midyear", "final"];

impl Scenario {
    fn contract(&self) -> Contract {
        let toml = contract_toml(&self.contract);
        Contract::parse(&toml).unwrap_or_else(|e| panic!("generated contract invalid: {e}\n{toml}"))
    }

    fn inputs(&self) -> Vec<StudentInput> {
        self.students
            .iter()
            .enumerate()
            .map(|(i, s)| student_input(i, s))
            .collect()
    }

    fn prior(&self) -> PriorPayments {
        let inputs = self.inputs();
        PriorPayments {
            paid_before: hundredths(self.paid_before_cents),
            base_paid: self
                .students
                .iter()
                .zip(&inputs)
                .filter_map(|(s, i)| s.base_paid.map(|c| (i.student.id.clone(), hundredths(c))))
                .collect(),
            corrections: Vec::new(),
            nte_difference: Decimal::ZERO,
        }
    }

    fn run(&self, contract: &Contract, students: Vec<StudentInput>) -> Statement {
        compute(StatementRequest {
            contract,
            contract_version: 3,
            contract_hash: "hash".into(),
            milestone: MILESTONES[self.milestone],
            as_of: self.as_of.map(day),
            students: students.into(),
            prior: self.prior(),
        })
        .unwrap()
    }
}

/// A small deterministic Fisher-Yates shuffle (xorshift), so proptest can shrink the seed.
fn shuffle<T>(items: &mut [T], seed: &mut u64) {
    for i in (1..items.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = (*seed % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// 64 cases, so CI stays fast; `PROPTEST_CASES=5000` runs more.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// A line pays at most round(B) + round(C x max(1.00, max pays x (1 + max(0, max adjust)))):
    /// the base due at a milestone is at most B, the contingent part at most the best tier with
    /// the best band, or C x 1.00 for a district fault (which pays in full even when every tier
    /// pays less).
    #[test]
    fn a_line_never_exceeds_the_price_bound(sc in scenario()) {
        let contract = sc.contract();
        let s = sc.run(&contract, sc.inputs());
        let max_pays = contract.rate_card.iter().map(|t| t.pays).max().unwrap();
        let max_adjust = contract
            .school_adjustments
            .iter()
            .flat_map(|a| a.bands.iter().map(|b| b.adjust))
            .max()
            .unwrap_or_default()
            .max(Decimal::ZERO);
        let factor = (max_pays * (Decimal::ONE + max_adjust)).max(Decimal::ONE);
        let base_bound = round_cents(contract.base_part());
        let contingent_bound = round_cents(contract.contingent_part() * factor);
        for l in &s.lines {
            prop_assert!(l.base_amount >= Decimal::ZERO, "{l:?}");
            prop_assert!(l.contingent_amount >= Decimal::ZERO, "{l:?}");
            prop_assert!(l.base_amount <= base_bound, "{} > {base_bound}", l.base_amount);
            prop_assert!(l.contingent_amount <= contingent_bound, "{} > {contingent_bound}", l.contingent_amount);
            prop_assert!(l.total <= base_bound + contingent_bound);
            if !s.contingent {
                prop_assert_eq!(l.contingent_amount, Decimal::ZERO);
                prop_assert!(["base", "not_enrolled", "no_attended_session"].contains(&l.rule.as_str()), "{}", l.rule);
            }
        }
    }

    /// The statement total never exceeds max(0, NTE - paid before); it is the lines' total, or
    /// that remainder in whole cents (rounded down) when the cap binds.
    #[test]
    fn the_statement_total_never_exceeds_what_remains_of_the_nte(sc in scenario()) {
        let contract = sc.contract();
        let s = sc.run(&contract, sc.inputs());
        let t = &s.totals;
        let remaining = (contract.not_to_exceed - t.paid_before).max(Decimal::ZERO);
        prop_assert!(t.statement_total <= remaining, "{} > {remaining}", t.statement_total);
        prop_assert!(t.statement_total >= Decimal::ZERO);
        let remaining_cents = remaining.round_dp_with_strategy(2, RoundingStrategy::ToZero);
        prop_assert_eq!(t.statement_total, t.lines_total.min(remaining_cents));
        prop_assert_eq!(t.nte_cap.is_some(), t.paid_before + t.lines_total > contract.not_to_exceed);
        if let Some(cap) = t.nte_cap {
            prop_assert!(cap <= Decimal::ZERO);
        }
    }

    /// A district fault pays the contingent part in full: round(C), whatever the tiers and bands.
    #[test]
    fn a_district_fault_pays_exactly_round_c(sc in scenario()) {
        let contract = sc.contract();
        let s = sc.run(&contract, sc.inputs());
        let c = round_cents(contract.contingent_part());
        for l in s.lines.iter().filter(|l| l.rule == "district_fault") {
            prop_assert!(s.contingent);
            prop_assert_eq!(l.contingent_amount, c);
            prop_assert_eq!(l.tier_pays, Decimal::ONE);
        }
    }

    /// The order rows arrive in changes no byte of the statement.
    #[test]
    fn reordering_input_rows_changes_no_byte(sc in scenario()) {
        let contract = sc.contract();
        let s = sc.run(&contract, sc.inputs());
        let mut seed = sc.shuffle_seed | 1;
        let mut shuffled = sc.inputs();
        shuffle(&mut shuffled, &mut seed);
        for st in &mut shuffled {
            shuffle(&mut st.sessions, &mut seed);
            shuffle(&mut st.tests, &mut seed);
        }
        let r = sc.run(&contract, shuffled);
        prop_assert_eq!(s.to_csv(), r.to_csv());
        prop_assert_eq!(s.to_json(), r.to_json());
    }

    /// Totals are sums of the rounded lines; lines come in byte order of student id.
    #[test]
    fn totals_equal_the_sum_of_lines(sc in scenario()) {
        let contract = sc.contract();
        let s = sc.run(&contract, sc.inputs());
        let t = &s.totals;
        let base: Decimal = s.lines.iter().map(|l| l.base_amount).sum();
        let contingent: Decimal = s.lines.iter().map(|l| l.contingent_amount).sum();
        prop_assert_eq!(t.base, base);
        prop_assert_eq!(t.contingent, contingent);
        prop_assert_eq!(t.lines_total, base + contingent);
        prop_assert_eq!(t.statement_total, t.lines_total + t.nte_cap.unwrap_or_default());
        prop_assert_eq!(t.students as usize, s.lines.len());
        for l in &s.lines {
            prop_assert_eq!(l.total, l.base_amount + l.contingent_amount);
            prop_assert_eq!(l.base_amount, round_cents(l.base_amount));
            prop_assert_eq!(l.contingent_amount, round_cents(l.contingent_amount));
        }
        let by_rule_students: u32 = t.by_rule.iter().map(|r| r.students).sum();
        prop_assert_eq!(by_rule_students, t.students);
        prop_assert_eq!(t.by_rule.iter().map(|r| r.base).sum::<Decimal>(), base);
        prop_assert_eq!(t.by_rule.iter().map(|r| r.contingent).sum::<Decimal>(), contingent);
        for r in &t.by_rule {
            let lines: Vec<_> = s.lines.iter().filter(|l| l.rule == r.rule).collect();
            prop_assert_eq!(lines.len() as u32, r.students);
            prop_assert_eq!(lines.iter().map(|l| l.base_amount).sum::<Decimal>(), r.base);
        }
        let met = s.lines.iter().filter(|l| l.rule.starts_with("tier:") && l.tier_pays >= Decimal::ONE).count();
        prop_assert_eq!(t.met_target as usize, met);
        match t.cost_per_outcome {
            Some(c) => prop_assert_eq!(c, round_cents((t.paid_before + t.statement_total) / Decimal::from(met as u32))),
            None => prop_assert_eq!(met, 0),
        }
        let ids: Vec<&[u8]> = s.lines.iter().map(|l| l.student_id.as_bytes()).collect();
        prop_assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
