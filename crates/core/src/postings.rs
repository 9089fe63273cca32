//! The ledger postings of a finalized statement: double entry, built here so the store only
//! writes them. Each posting moves an amount from the district's payable to the provider's
//! receivable, so its entries sum to zero and the receivable grows by the statement's total.

use crate::money::to_cents;
use crate::statement::Statement;

/// One side of a posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub account: String,
    pub amount_cents: i64,
}

/// One movement of money, named after what it pays: `contract/milestone/student`,
/// `contract/milestone/adjustment/corrected milestone/student` or `contract/milestone/nte_cap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub name: String,
    pub student_id: Option<String>,
    pub memo: String,
    /// The district's payable (debited), then the provider's receivable (credited).
    pub entries: [Entry; 2],
}

/// The postings of a statement: one per student line that pays something, one per non-zero
/// adjustment, and one for the NTE line when there is one, in that order.
pub fn postings(statement: &Statement, district: &str, provider: &str) -> Vec<Posting> {
    let payable = format!("district_payable:{district}");
    let receivable = format!("provider_receivable:{provider}");
    let posting = |name: String, cents: i64, student_id: Option<&str>, memo: String| Posting {
        name,
        student_id: student_id.map(str::to_string),
        memo,
        entries: [
            Entry {
                account: payable.clone(),
                amount_cents: -cents,
            },
            Entry {
                account: receivable.clone(),
                amount_cents: cents,
            },
        ],
    };
    let prefix = format!("{}/{}", statement.contract_id, statement.milestone);
    let lines = statement
        .lines
        .iter()
        .filter(|l| !l.total.is_zero())
        .map(|l| {
            posting(
                format!("{prefix}/{}", l.student_id),
                to_cents(l.total),
                Some(&l.student_id),
                format!("{} ({})", l.rule, l.base_clause),
            )
        });
    let adjustments = statement
        .adjustments
        .iter()
        .filter(|a| !a.amount.is_zero())
        .map(|a| {
            posting(
                format!("{prefix}/adjustment/{}/{}", a.milestone, a.student_id),
                to_cents(a.amount),
                Some(&a.student_id),
                format!(
                    "correction of the {} line ({} -> {})",
                    a.milestone, a.original_rule, a.corrected_rule
                ),
            )
        });
    let cap = statement.totals.nte_cap.map(|cap| {
        posting(
            format!("{prefix}/nte_cap"),
            to_cents(cap),
            None,
            "nte_cap (not_to_exceed)".to_string(),
        )
    });
    lines.chain(adjustments).chain(cap).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::{Adjustment, Line, Totals};
    use crate::test_kit::dec;

    fn line(student: &str, total: &str) -> Line {
        serde_json::from_value(serde_json::json!({
            "student_id": student, "school_id": "s1", "grade": null, "enrollment_start": "2024-08-12",
            "enrollment_end": null, "planned": 0, "attended": 0, "student_absent": 0,
            "district_cancelled": 0, "provider_cancelled": 0, "minutes": 0,
            "attendance_rate": null, "same_tutor_rate": null, "provider_cancel_rate": null,
            "availability_rate": null, "baseline": null, "outcome": null, "observed_growth": null,
            "projected_growth": null, "measure": null, "growth_vs_projected": null,
            "rule": "base", "tier_pays": "0", "base_amount": total, "contingent_amount": "0.00",
            "total": total, "base_clause": "milestone.midyear", "contingent_clause": "",
            "reason": "", "notes": []
        }))
        .unwrap()
    }

    fn statement(
        lines: &[(&str, &str)],
        adjustments: &[(&str, &str)],
        cap: Option<&str>,
    ) -> Statement {
        let lines: Vec<Line> = lines.iter().map(|(s, t)| line(s, t)).collect();
        let adjustments: Vec<Adjustment> = adjustments
            .iter()
            .map(|(s, amount)| Adjustment {
                student_id: s.to_string(),
                milestone: "enrollment".into(),
                original_rule: "base".into(),
                original_amount: dec("360.00"),
                corrected_rule: "no line".into(),
                corrected_amount: dec("360.00") + dec(amount),
                amount: dec(amount),
                reason: String::new(),
            })
            .collect();
        let total = lines.iter().map(|l| l.total).sum::<rust_decimal::Decimal>()
            + adjustments
                .iter()
                .map(|a| a.amount)
                .sum::<rust_decimal::Decimal>()
            + cap.map(dec).unwrap_or_default();
        Statement {
            contract_id: "c".into(),
            contract_version: 1,
            contract_hash: String::new(),
            milestone: "midyear".into(),
            milestone_date: "2025-01-31".into(),
            statement_date: "2025-01-31".into(),
            contingent: false,
            closing: false,
            engine_version: String::new(),
            inputs_hash: String::new(),
            lines,
            adjustments,
            totals: Totals {
                nte_cap: cap.map(dec),
                statement_total: total,
                ..Totals::default()
            },
        }
    }

    #[test]
    fn one_posting_per_paying_line_adjustment_and_cap_each_summing_to_zero() {
        let s = statement(
            &[("a", "360.00"), ("b", "0.00"), ("c", "120.50")],
            &[("d", "-360.00"), ("e", "0.00")],
            Some("-20.50"),
        );
        let postings = postings(&s, "d1", "p1");
        let names: Vec<&str> = postings.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "c/midyear/a",
                "c/midyear/c",
                "c/midyear/adjustment/enrollment/d",
                "c/midyear/nte_cap"
            ]
        );
        for p in &postings {
            assert_eq!(p.entries[0].amount_cents + p.entries[1].amount_cents, 0);
            assert_eq!(p.entries[0].account, "district_payable:d1");
            assert_eq!(p.entries[1].account, "provider_receivable:p1");
        }
        let receivable: i64 = postings.iter().map(|p| p.entries[1].amount_cents).sum();
        assert_eq!(receivable, to_cents(s.totals.statement_total));
        assert_eq!(postings[0].student_id.as_deref(), Some("a"));
        assert_eq!(postings[0].memo, "base (milestone.midyear)");
        assert_eq!(
            postings[2].memo,
            "correction of the enrollment line (base -> no line)"
        );
        assert_eq!(postings[3].student_id, None);
        assert_eq!(postings[3].memo, "nte_cap (not_to_exceed)");
        assert_eq!(postings[3].entries[1].amount_cents, -2050);
    }

    #[test]
    fn a_statement_that_pays_nothing_posts_nothing() {
        let s = statement(&[("a", "0.00")], &[], None);
        assert!(postings(&s, "d1", "p1").is_empty());
    }
}
