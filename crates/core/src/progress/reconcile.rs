//! Why two counts of the same students differ: growth at or above projection (the histogram's
//! marker) against "met the target" (SPEC 5.8). A student can be at or above projection and
//! not meet the target because another rule decided their line first (attendance, the
//! district's or the provider's fault, an exclusion), and, with a target tier below 1.00, meet
//! the target below projection.

use crate::ratio::Ratio;
use crate::statement::Line;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// The students at or above projected growth, set against those who met the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetReconciliation {
    /// Lines with growth versus projected of at least 1.
    pub at_or_above_projection: u32,
    pub met_target: u32,
    /// Of those at or above projection, the ones another rule decided, by rule (rule order).
    pub decided_by_other_rule: Vec<(String, u32)>,
    /// Met the target with growth below projection (or none measured).
    pub met_below_projection: u32,
}

impl TargetReconciliation {
    /// Students at or above projection that another rule decided first.
    pub fn other_rule_total(&self) -> u32 {
        self.decided_by_other_rule.iter().map(|(_, n)| n).sum()
    }

    /// One sentence a reader can check the two counts with (empty when they agree plainly).
    pub fn explain(&self) -> String {
        let other = self.other_rule_total();
        let mut parts = Vec::new();
        if other > 0 {
            let rules: Vec<String> = self
                .decided_by_other_rule
                .iter()
                .map(|(rule, n)| format!("{rule}: {n}"))
                .collect();
            parts.push(format!(
                "{} at or above projection, {} met the target: the other {other} were decided by another rule first ({})",
                self.at_or_above_projection,
                self.met_target,
                rules.join(", ")
            ));
        }
        if self.met_below_projection > 0 {
            parts.push(format!(
                "{} met the target below projection (the target tier starts below 1.00)",
                self.met_below_projection
            ));
        }
        if parts.is_empty() {
            String::new()
        } else {
            parts.join("; ") + "."
        }
    }
}

/// Counts a statement's lines both ways.
pub fn reconcile_target(lines: &[Line]) -> TargetReconciliation {
    let mut at_or_above = 0;
    let mut met = 0;
    let mut met_below = 0;
    let mut other: BTreeMap<&str, u32> = BTreeMap::new();
    for l in lines {
        let above = l
            .growth_vs_projected
            .is_some_and(|g| g >= Ratio::whole(Decimal::ONE));
        at_or_above += u32::from(above);
        match (above, l.met_target()) {
            (true, false) => *other.entry(l.rule.as_str()).or_default() += 1,
            (false, true) => met_below += 1,
            _ => {}
        }
        met += u32::from(l.met_target());
    }
    TargetReconciliation {
        at_or_above_projection: at_or_above,
        met_target: met,
        decided_by_other_rule: other.into_iter().map(|(r, n)| (r.to_string(), n)).collect(),
        met_below_projection: met_below,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{compute, StatementRequest};
    use crate::progress::contingent_milestone;
    use crate::progress::testing::*;
    use std::borrow::Cow;

    #[test]
    fn students_at_or_above_projection_that_another_rule_decided_are_counted_by_rule() {
        // m1 grows 12 of 10 projected and meets the target; m2 grows as much but attended 5
        // of 20 offered sessions, so the attendance rule decides its line; m3 grows 5 of 10.
        let k = contract(&[]);
        let kids = vec![
            judged("m1", "sch-1", "212"),
            kid("m2")
                .school("sch-1")
                .many(5, Attended, "t1")
                .many(15, StudentAbsent, "t1")
                .map_test("Fall", "2024-09-05", "200", &[(FS, "10")])
                .map_test("Spring", "2025-05-01", "212", &[]),
            judged("m3", "sch-1", "205"),
        ];
        let statement = compute(StatementRequest {
            contract: &k,
            contract_version: 1,
            contract_hash: "test".into(),
            milestone: &contingent_milestone(&k).name,
            as_of: None,
            students: Cow::Owned(kids.into_iter().map(|k| k.input).collect()),
            prior: PriorPayments::default(),
        })
        .unwrap();
        let r = reconcile_target(&statement.lines);
        assert_eq!(r.met_target, statement.totals.met_target);
        assert_eq!((r.at_or_above_projection, r.met_target), (2, 1));
        assert_eq!(r.other_rule_total(), 1);
        let (rule, n) = &r.decided_by_other_rule[0];
        assert_eq!(*n, 1);
        assert!(!rule.starts_with("tier:"), "{rule}");
        assert_eq!(r.met_below_projection, 0);
        assert_eq!(
            r.explain(),
            format!("2 at or above projection, 1 met the target: the other 1 were decided by another rule first ({rule}: 1).")
        );
    }
}
