//! Simulator throughput: `cargo bench -p obc-core --bench simulate`. Target (release, this
//! 2-core machine): 10,000 simulated years of a 5,000-student contract, at an effect and with
//! no effect, in under a minute. `OBC_BENCH_YEARS` shortens the run.

use obc_core::design::simulate::{simulate, Assumptions, Plan, Population};
use obc_core::Contract;
use rust_decimal::Decimal;
use std::time::Instant;

const CONTRACT: &str = include_str!("../tests/contract_example.toml");

fn main() {
    let contract = Contract::parse(CONTRACT).expect("the example contract parses");
    let years = std::env::var("OBC_BENCH_YEARS")
        .ok()
        .and_then(|y| y.parse().ok())
        .unwrap_or(10_000);
    let plan = Plan {
        years,
        seed: 7,
        effect: Decimal::new(20, 1),
        students: Some(5_000),
        assumptions: Assumptions::default(),
    };
    let started = Instant::now();
    let report = simulate(&contract, &Population::Drawn, &plan, &|| {}).expect("simulates");
    println!(
        "simulate: {years} years x 5,000 students (effect 2.0 and no effect) in {:.1?}; mean total {}",
        started.elapsed(),
        report.with_effect.mean_total
    );
}
