//! The one-page summary of a statement, shared by the statement page and its printout: the
//! amounts with `$` and thousands separators, the not-to-exceed used and left, the legend of
//! rules in words, and a sentence for every pair of numbers that differ.

use obc_core::money::format_dollars;
use obc_core::Statement;
use rust_decimal::Decimal;

/// One amount of the summary: a label and the amount as `$1,234.56`.
pub struct AmountRow {
    pub label: String,
    pub amount: String,
    pub strong: bool,
}

fn amount(label: &str, value: Decimal, strong: bool) -> AmountRow {
    AmountRow {
        label: label.to_string(),
        amount: format_dollars(value),
        strong,
    }
}

/// The statement's parts and the amount due: base, contingent, the student lines' sum,
/// corrections, the cap.
pub fn amounts(statement: &Statement) -> Vec<AmountRow> {
    let t = &statement.totals;
    let mut rows = vec![
        amount(
            &format!("Base parts ({} students)", t.students),
            t.base,
            false,
        ),
        amount("Contingent parts", t.contingent, false),
        amount("Student lines, in all", t.lines_total, false),
    ];
    rows.extend(from_lines_to_due(statement));
    rows
}

/// From the student lines' sum to the amount due: corrections, the cap, the amount due.
pub fn from_lines_to_due(statement: &Statement) -> Vec<AmountRow> {
    let t = &statement.totals;
    let mut rows = Vec::new();
    if !t.adjustments.is_zero() {
        rows.push(amount(
            "Corrections of earlier statements",
            t.adjustments,
            false,
        ));
    }
    if let Some(cap) = t.nte_cap {
        rows.push(amount("Not-to-exceed cap", cap, false));
    }
    rows.push(amount(
        "Amount due on this statement",
        t.statement_total,
        true,
    ));
    rows
}

/// The contract's not-to-exceed: paid so far on earlier statements, used with this one, left.
pub fn not_to_exceed(statement: &Statement, not_to_exceed: Decimal) -> Vec<AmountRow> {
    let t = &statement.totals;
    let used = t.paid_before + t.statement_total;
    vec![
        amount("Not to exceed (contract cap)", not_to_exceed, false),
        amount("Paid on earlier statements", t.paid_before, false),
        amount("Used, with this statement", used, true),
        amount("Left under the cap", not_to_exceed - used, true),
    ]
}

/// Why numbers on the page that one would expect equal are not, in words: the lines' sum
/// against the amount due (corrections, the cap), and the students who met the target
/// against all students.
pub fn differences(statement: &Statement, not_to_exceed: Decimal) -> Vec<String> {
    let t = &statement.totals;
    let mut notes = vec![format!(
        "Each student's total is the base part plus the contingent part: {} + {} = {} over {} students.",
        format_dollars(t.base),
        format_dollars(t.contingent),
        format_dollars(t.lines_total),
        t.students
    )];
    if !t.adjustments.is_zero() {
        notes.push(format!(
            "Corrections of earlier, finalized statements ({}) are added to the student lines ({}): late or corrected data changed what those statements should have paid.",
            format_dollars(t.adjustments),
            format_dollars(t.lines_total)
        ));
    }
    let due = t.lines_total + t.adjustments;
    match t.nte_cap {
        Some(cap) => notes.push(format!(
            "The amount due ({}) is less than the {} owed: the contract's not-to-exceed of {} less {} paid on earlier statements leaves {}, so the cap takes off {}.",
            format_dollars(t.statement_total),
            format_dollars(due),
            format_dollars(not_to_exceed),
            format_dollars(t.paid_before),
            format_dollars(t.nte_remaining),
            format_dollars(-cap)
        )),
        None if !t.adjustments.is_zero() => notes.push(format!(
            "The amount due is the student lines plus the corrections: {}.",
            format_dollars(t.statement_total)
        )),
        None => notes.push(format!(
            "The amount due equals the student lines ({}): the not-to-exceed is not reached.",
            format_dollars(t.statement_total)
        )),
    }
    if !t.paid_before.is_zero() {
        notes.push(format!(
            "{} was paid on earlier statements, which is not part of this amount due; paid so far with this statement: {}.",
            format_dollars(t.paid_before),
            format_dollars(t.paid_before + t.statement_total)
        ));
    }
    if statement.contingent {
        notes.push(format!(
            "{} of {} students met the target (a tier paying 100% or more of the contingent part); the others were decided by the rules listed with them (a rule that applies first, such as the district's or the provider's responsibility, takes precedence over the score).",
            t.met_target, t.students
        ));
    } else {
        notes.push(
            "This milestone pays base parts only; the contingent parts are decided at the contract's last milestone."
                .to_string(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A statement's totals from JSON: only the fields the summary reads matter.
    fn statement(totals: &str, contingent: bool) -> Statement {
        let json = format!(
            r#"{{"contract_id":"c","contract_version":1,"contract_hash":"h","milestone":"final","milestone_date":"2025-06-30","statement_date":"2025-06-30","contingent":{contingent},"engine_version":"e","inputs_hash":"i","lines":[],"totals":{totals}}}"#
        );
        Statement::from_json(&json).expect("a statement")
    }

    const CAPPED: &str = r#"{"students":3,"planned":0,"attended":0,"student_absent":0,"district_cancelled":0,"provider_cancelled":0,"base":"2160.00","contingent":"1440.00","lines_total":"3600.00","paid_before":"1000.00","nte_remaining":"2000.00","nte_cap":"-1600.00","statement_total":"2000.00","by_rule":[],"met_target":2,"cost_per_outcome":"1500.00"}"#;

    #[test]
    fn a_capped_statement_says_how_the_cap_makes_the_amount_due() {
        let s = statement(CAPPED, true);
        let nte = Decimal::from(3000);
        let labels: Vec<(String, String)> = amounts(&s)
            .into_iter()
            .map(|a| (a.label, a.amount))
            .collect();
        assert_eq!(
            labels,
            [
                ("Base parts (3 students)", "$2,160.00"),
                ("Contingent parts", "$1,440.00"),
                ("Student lines, in all", "$3,600.00"),
                ("Not-to-exceed cap", "-$1,600.00"),
                ("Amount due on this statement", "$2,000.00"),
            ]
            .map(|(l, a)| (l.to_string(), a.to_string()))
        );
        let cap: Vec<String> = not_to_exceed(&s, nte)
            .into_iter()
            .map(|a| format!("{} {}", a.label, a.amount))
            .collect();
        assert_eq!(
            cap,
            [
                "Not to exceed (contract cap) $3,000.00",
                "Paid on earlier statements $1,000.00",
                "Used, with this statement $3,000.00",
                "Left under the cap $0.00",
            ]
        );
        let notes = differences(&s, nte).join("\n");
        assert!(
            notes.contains("$2,160.00 + $1,440.00 = $3,600.00 over 3 students"),
            "{notes}"
        );
        assert!(notes.contains("The amount due ($2,000.00) is less than the $3,600.00 owed: the contract's not-to-exceed of $3,000.00 less $1,000.00 paid on earlier statements leaves $2,000.00, so the cap takes off $1,600.00."), "{notes}");
        assert!(
            notes.contains("paid so far with this statement: $3,000.00"),
            "{notes}"
        );
        assert!(notes.contains("2 of 3 students met the target"), "{notes}");
    }

    #[test]
    fn an_uncapped_base_milestone_says_the_lines_are_the_amount_due() {
        let totals = CAPPED
            .replace(
                r#""nte_cap":"-1600.00","statement_total":"2000.00""#,
                r#""statement_total":"3600.00""#,
            )
            .replace(r#""paid_before":"1000.00""#, r#""paid_before":"0.00""#);
        let s = statement(&totals, false);
        let notes = differences(&s, Decimal::from(100_000)).join("\n");
        assert!(
            notes.contains("The amount due equals the student lines ($3,600.00)"),
            "{notes}"
        );
        assert!(!notes.contains("earlier statements"), "{notes}");
        assert!(notes.contains("base parts only"), "{notes}");
        assert!(amounts(&s).iter().all(|a| a.label != "Not-to-exceed cap"));
    }
}
