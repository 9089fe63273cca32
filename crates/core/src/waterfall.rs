//! From full price to what is payable: the steps a finance officer reads on the contract page
//! (full price, the base not earned, what each rule took away or added, corrections of earlier
//! statements, the cap, and what is payable in all), in exact money. The steps reconcile:
//! full price plus every change is the amount payable.

use crate::statement::Totals;
use crate::Contract;
use rust_decimal::Decimal;

/// One step of the waterfall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStep {
    pub label: String,
    pub amount: Decimal,
    pub kind: StepKind,
}

/// What a step's amount is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A level: the full price, or what is payable.
    Total,
    /// A signed change of the running amount.
    Change,
}

/// The waterfall of a statement's totals under its contract. Rules whose students were paid
/// exactly the contingent part add no step.
pub fn payment_waterfall(contract: &Contract, totals: &Totals) -> Vec<PaymentStep> {
    let step = |label: &str, amount: Decimal, kind: StepKind| PaymentStep {
        label: label.to_string(),
        amount,
        kind,
    };
    let students = Decimal::from(totals.students);
    let mut steps = vec![step(
        "Full price",
        students * contract.price_per_student,
        StepKind::Total,
    )];
    let base_not_earned = students * contract.base_part() - (totals.paid_before + totals.base);
    if !base_not_earned.is_zero() {
        steps.push(step("Base not earned", -base_not_earned, StepKind::Change));
    }
    for r in &totals.by_rule {
        let delta = r.contingent - Decimal::from(r.students) * contract.contingent_part();
        if !delta.is_zero() {
            steps.push(step(&r.rule, delta, StepKind::Change));
        }
    }
    if !totals.adjustments.is_zero() {
        steps.push(step(
            "Corrections of earlier statements",
            totals.adjustments,
            StepKind::Change,
        ));
    }
    if let Some(cap) = totals.nte_cap {
        steps.push(step("NTE cap", cap, StepKind::Change));
    }
    steps.push(step(
        "Payable",
        totals.paid_before + totals.statement_total,
        StepKind::Total,
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_kit::{contract, dec, final_statement, two_schools};

    #[test]
    fn full_price_and_every_change_add_up_to_what_is_payable() {
        // Rules that add, take away and pay the contingent part exactly.
        let k = contract(&[]);
        let statement = final_statement(&k, two_schools());
        let steps = payment_waterfall(&k, &statement.totals);
        let (first, last) = (&steps[0], &steps[steps.len() - 1]);
        assert_eq!(
            (first.label.as_str(), first.kind),
            ("Full price", StepKind::Total)
        );
        assert_eq!(
            (last.label.as_str(), last.kind),
            ("Payable", StepKind::Total)
        );
        assert!(steps.len() > 3, "rules added and took away: {steps:?}");
        let changes: Decimal = (steps.iter())
            .filter(|s| s.kind == StepKind::Change)
            .map(|s| s.amount)
            .sum();
        assert_eq!(first.amount + changes, last.amount, "{steps:?}");
        assert_eq!(last.amount, statement.totals.statement_total);
        // By hand (price 1,200.00 = base 720.00 + contingent 480.00): 5 students, 6,000.00;
        // b3 had no session, so 720.00 of base is not earned; a1 exceeds (x1.25: +120.00),
        // a2 approaches (x0.50: -240.00), the others are paid the contingent part exactly.
        let amounts: Vec<(&str, Decimal)> =
            steps.iter().map(|s| (s.label.as_str(), s.amount)).collect();
        assert_eq!(amounts[0].1, dec("6000.00"));
        assert_eq!(amounts[1], ("Base not earned", dec("-720.00")));
        let mut rules: Vec<Decimal> = amounts[2..amounts.len() - 1].iter().map(|a| a.1).collect();
        rules.sort();
        assert_eq!(rules, [dec("-240.00"), dec("120.00")]);
        assert_eq!(last.amount, dec("5160.00"));
    }
}
