//! The property of corrections and closing statements (SPEC 5.11): whatever data arrives late,
//! and whenever, once a closing statement is finalized the contract has paid exactly what its
//! final data pays (each milestone computed with that data from the start), capped by the NTE;
//! a closing right after it pays nothing. The expected amount is computed here independently
//! of `obc_core::corrections`.

use super::{
    config, contract_strategy, contract_toml, day, student_input, student_strategy, MILESTONES,
};
use super::{ContractParams, StudentParams};
use obc_core::corrections::{corrections_of, FinalizedRun, PaidStatement};
use obc_core::engine::{
    compute, compute_closing, ClosingRequest, PriorPayments, StatementRequest, StudentInput,
};
use obc_core::{Contract, Statement};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn inputs(version: &[StudentParams]) -> Vec<StudentInput> {
    version
        .iter()
        .enumerate()
        .map(|(i, p)| student_input(i, p))
        .collect()
}

fn milestone(
    contract: &Contract,
    name: &str,
    data: &[StudentInput],
    prior: PriorPayments,
) -> Statement {
    compute(StatementRequest {
        contract,
        contract_version: 1,
        contract_hash: "hash".into(),
        milestone: name,
        as_of: None,
        students: data.to_vec().into(),
        prior,
    })
    .unwrap()
}

/// What the contract pays when `data` is known from the start: every milestone in order, each
/// with the base and totals the ones before it paid.
fn final_data_pays(contract: &Contract, data: &[StudentInput]) -> Decimal {
    let mut prior = PriorPayments::default();
    for name in MILESTONES {
        let s = milestone(contract, name, data, prior.clone());
        prior.paid_before += s.totals.statement_total;
        for l in &s.lines {
            *prior.base_paid.entry(l.student_id.clone()).or_default() += l.base_amount;
        }
    }
    prior.paid_before
}

/// Finalized statements of one contract, and the next one computed against them.
struct Books<'c> {
    contract: &'c Contract,
    finalized: Vec<Statement>,
}

impl Books<'_> {
    fn prior(&self, data: &[StudentInput]) -> obc_core::corrections::Corrections {
        let paid: Vec<PaidStatement> = self.finalized.iter().cloned().map(Into::into).collect();
        let runs: Vec<FinalizedRun> = paid
            .iter()
            .map(|statement| FinalizedRun {
                contract: self.contract,
                contract_version: 1,
                contract_hash: "hash",
                statement,
            })
            .collect();
        corrections_of(&runs, data).unwrap()
    }

    fn closing(&self, offset: i64, data: &[StudentInput]) -> Statement {
        compute_closing(ClosingRequest {
            contract: self.contract,
            contract_version: 1,
            contract_hash: "hash".into(),
            date: day(offset),
            students: data.to_vec(),
            prior: self.prior(data).for_closing(),
        })
    }

    fn paid(&self) -> Decimal {
        self.finalized
            .iter()
            .map(|s| s.totals.statement_total)
            .sum()
    }
}

fn history() -> impl Strategy<Value = (ContractParams, Vec<Vec<StudentParams>>, Vec<usize>)> {
    (
        contract_strategy(),
        prop::collection::vec(prop::collection::vec(student_strategy(), 0..5), 1..4),
        // The data version each milestone, then each closing (1 to 3), is computed with.
        prop::collection::vec(0usize..4, 4..7),
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn corrections_and_closings_pay_what_the_final_data_pays_capped_by_the_nte(
        (params, versions, schedule) in history()
    ) {
        let toml = contract_toml(&params);
        let contract = Contract::parse(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let mut books = Books { contract: &contract, finalized: Vec::new() };
        for (step, version) in schedule.iter().enumerate() {
            let data = inputs(&versions[version % versions.len()]);
            if step < MILESTONES.len() {
                let prior = books.prior(&data).for_milestone();
                let s = milestone(&contract, MILESTONES[step], &data, prior);
                books.finalized.push(s);
                continue;
            }
            let offset = 340 + step as i64 * 10;
            let closing = books.closing(offset, &data);
            prop_assert!(closing.closing && closing.lines.is_empty());
            prop_assert_eq!(
                closing.totals.statement_total,
                closing.totals.adjustments + closing.totals.nte_cap.unwrap_or_default()
            );
            books.finalized.push(closing);
            let paid = books.paid();
            prop_assert_eq!(paid, final_data_pays(&contract, &data));
            prop_assert!(paid <= contract.not_to_exceed, "{} > NTE {}", paid, contract.not_to_exceed);
            let again = books.closing(offset + 1, &data);
            prop_assert!(again.adjustments.is_empty(), "{:?}", again.adjustments);
            prop_assert_eq!(again.totals.statement_total.to_string(), "0.00");
        }
    }
}
