//! Engine throughput: `cargo bench -p obc-core`. A state-scale year is 1,000,000 students and
//! 30,000,000 sessions; the engine must stay linear. Target (release, one core): a statement
//! for 100,000 students and 3,000,000 sessions in under 10 seconds.

use obc_core::engine::{compute, compute_unhashed, PriorPayments, StatementRequest, StudentInput};
use obc_core::model::parse_iso_date;
use obc_core::{AssessmentResult, Contract, Enrollment, Grade, Session, SessionStatus, Student};
use rust_decimal::Decimal;
use std::time::Instant;

const CONTRACT: &str = include_str!("../tests/contract_example.toml");

fn students(n: usize, sessions_each: usize) -> Vec<StudentInput> {
    let start = parse_iso_date("2024-08-19").unwrap();
    let statuses = [
        SessionStatus::Attended,
        SessionStatus::Attended,
        SessionStatus::Attended,
        SessionStatus::StudentAbsent,
        SessionStatus::Attended,
        SessionStatus::DistrictCancelled,
        SessionStatus::Attended,
        SessionStatus::ProviderCancelled,
    ];
    (0..n)
        .map(|i| {
            let id = format!("{:07}", 1_000_000 + i);
            let test = |term: &str, date: &str, score: i64, projected: Option<i64>| {
                let mut t = AssessmentResult {
                    student_id: id.clone(),
                    assessment: "MAP Growth".into(),
                    subject: "Mathematics".into(),
                    term_name: term.into(),
                    date: parse_iso_date(date).unwrap(),
                    start_seconds: 0,
                    score: Some(Decimal::from(score)),
                    percentile: None,
                    rapid_guessing_pct: None,
                    growth_measure: true,
                    growth: Default::default(),
                    test_id: None,
                    norms: None,
                };
                t.growth[1].projected = projected.map(Decimal::from);
                t
            };
            StudentInput {
                student: Student {
                    id: id.clone(),
                    school_id: format!("sch-{}", i % 40),
                    grade: Grade::parse(&format!("{}", 6 + i % 3)),
                    first_name: String::new(),
                    last_name: String::new(),
                    flags: Default::default(),
                },
                enrollment: Enrollment {
                    student_id: id.clone(),
                    start,
                    end: None,
                },
                sessions: (0..sessions_each)
                    .map(|k| Session {
                        session_id: format!("s{i}-{k}"),
                        student_id: id.clone(),
                        tutor_id: format!("T{}", (i + k / 25) % 500),
                        date: start + time::Duration::days((k * 7 / 2) as i64 % 280),
                        minutes: 30,
                        status: statuses[(i + k) % statuses.len()],
                        group_size: None,
                        subject: String::new(),
                    })
                    .collect(),
                ambiguous_sessions: vec![],
                tests: vec![
                    test(
                        "Fall 2024-2025",
                        "2024-09-10",
                        200 + (i % 30) as i64,
                        Some(8),
                    ),
                    test("Spring 2025-2026", "2025-05-01", 210, None),
                    test(
                        "Spring 2024-2025",
                        "2025-05-01",
                        200 + (i % 45) as i64,
                        None,
                    ),
                ],
            }
        })
        .collect()
}

fn main() {
    let contract = Contract::parse(CONTRACT).expect("the example contract parses");
    for (n, each) in [(10_000, 30), (100_000, 30)] {
        let input = students(n, each);
        let started = Instant::now();
        let statement = compute(StatementRequest {
            contract: &contract,
            contract_version: 1,
            contract_hash: String::new(),
            milestone: "final",
            as_of: None,
            students: input.into(),
            prior: PriorPayments::default(),
        })
        .expect("computes");
        let elapsed = started.elapsed();
        let input = students(n, each);
        let started = Instant::now();
        compute_unhashed(StatementRequest {
            contract: &contract,
            contract_version: 1,
            contract_hash: String::new(),
            milestone: "final",
            as_of: None,
            students: input.into(),
            prior: PriorPayments::default(),
        })
        .expect("computes");
        println!(
            "engine without the inputs hash (recomputations), {n} students: {:.2?}",
            started.elapsed()
        );
        let csv = statement.to_csv();
        println!(
            "engine: {n} students, {} sessions: {:.2?} ({:.0} sessions/s); CSV {} bytes; total {}",
            n * each,
            elapsed,
            (n * each) as f64 / elapsed.as_secs_f64(),
            csv.len(),
            statement.totals.statement_total
        );
    }
}
