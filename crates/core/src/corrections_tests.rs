//! Unit tests of the correction rule and of closing statements, on the SPEC's example contract
//! without its school adjustment: B = 720.00 (360.00 at enrollment, 360.00 at midyear),
//! C = 480.00 at the final milestone; `meets` pays C x 1.00, `approaching` C x 0.50.
use super::*;
use crate::engine::{compute, compute_closing, ClosingRequest, StatementRequest};
use crate::model::SessionStatus::Attended;
use crate::test_kit::*;

/// A contract's finalized statements, kept as the store would keep them.
struct Books {
    contract: Contract,
    finalized: Vec<Statement>,
}

impl Books {
    fn new(replacements: &[(&str, &str)]) -> Books {
        Books {
            contract: contract(replacements),
            finalized: Vec::new(),
        }
    }

    fn corrections(&self, data: &[StudentInput]) -> Corrections {
        let paid: Vec<PaidStatement> = self.finalized.iter().cloned().map(Into::into).collect();
        let runs: Vec<FinalizedRun> = paid
            .iter()
            .map(|statement| FinalizedRun {
                contract: &self.contract,
                contract_version: 1,
                contract_hash: "test",
                statement,
            })
            .collect();
        corrections_of(&runs, data).unwrap()
    }

    fn finalize(&mut self, milestone: &str, data: &[StudentInput]) -> &Statement {
        let prior = self.corrections(data).for_milestone();
        let statement = compute(StatementRequest {
            contract: &self.contract,
            contract_version: 1,
            contract_hash: "test".into(),
            milestone,
            as_of: None,
            students: data.to_vec().into(),
            prior,
        })
        .unwrap();
        self.finalized.push(statement);
        self.finalized.last().unwrap()
    }

    fn close(&mut self, date: &str, data: &[StudentInput]) -> &Statement {
        let prior = self.corrections(data).for_closing();
        let statement = compute_closing(ClosingRequest {
            contract: &self.contract,
            contract_version: 1,
            contract_hash: "test".into(),
            date: day(date),
            students: data.to_vec(),
            prior,
        });
        self.finalized.push(statement);
        self.finalized.last().unwrap()
    }

    fn paid(&self) -> Decimal {
        self.finalized
            .iter()
            .map(|s| s.totals.statement_total)
            .sum()
    }

    fn finalize_all(&mut self, data: &[StudentInput]) {
        for m in ["enrollment", "midyear", "final"] {
            self.finalize(m, data);
        }
    }
}

/// Attends from 2024-09-02 and grows `spring - 200` against a projection of 10: 210 meets.
fn student(id: &str, spring: &str) -> StudentInput {
    kid(id).attended(20).scores("200", spring, "10").build()
}

fn correction(
    milestone: &str,
    student: &str,
    original: (&str, &str),
    corrected: (&str, &str),
) -> Correction {
    Correction {
        milestone: milestone.into(),
        student_id: student.into(),
        original_rule: original.0.into(),
        original_amount: dec(original.1),
        corrected_rule: corrected.0.into(),
        corrected_amount: dec(corrected.1),
    }
}

#[test]
fn unchanged_data_corrects_nothing_and_the_base_paid_is_what_was_paid() {
    let mut books = Books::new(&[]);
    let data = [student("a", "210"), student("b", "205")];
    books.finalize("enrollment", &data);
    books.finalize("midyear", &data);
    let c = books.corrections(&data);
    assert_eq!(c.corrections, []);
    assert_eq!(c.paid_before, dec("1440.00"));
    assert_eq!(c.paid_before.to_string(), "1440.00");
    assert_eq!(c.base_paid["a"], dec("720.00"));
    assert_eq!(c.nte_difference, Decimal::ZERO);
}

#[test]
fn a_paid_statement_read_from_stored_json_is_the_statement_reduced() {
    let mut books = Books::new(&[]);
    let data = [student("a", "210"), student("b", "205")];
    let statement = books.finalize("final", &data).clone();
    let read: PaidStatement = serde_json::from_str(&statement.to_json()).unwrap();
    let reduced = PaidStatement::from(statement);
    assert_eq!(read.lines, reduced.lines);
    assert_eq!(read.lines[0].rule.as_ref(), "tier:meets");
    assert_eq!(read.lines[0].total.to_string(), "1200.00");
    assert_eq!(read.totals.statement_total, reduced.totals.statement_total);
    assert_eq!(read.adjustments, reduced.adjustments);
}

#[test]
fn nothing_finalized_has_paid_zero_in_cents() {
    let c = Books::new(&[]).corrections(&[student("a", "210")]);
    assert_eq!(c.paid_before.to_string(), "0.00");
    assert_eq!(
        c,
        Corrections {
            paid_before: dec("0.00"),
            ..Corrections::default()
        }
    );
}

#[test]
fn a_late_session_log_changes_the_rule_of_a_finalized_line() {
    let mut books = Books::new(&[]);
    // No attended session by the enrollment milestone (2024-10-15): no base yet.
    let late = kid("a").from("2024-11-01").attended(20).build();
    books.finalize("enrollment", &[late]);
    let corrected = kid("a").from("2024-10-01").attended(20).build();
    let c = books.corrections(&[corrected]);
    assert_eq!(
        c.corrections,
        [correction(
            "enrollment",
            "a",
            ("no_attended_session", "0.00"),
            ("base", "360.00")
        )]
    );
    assert_eq!(c.base_paid["a"], dec("360.00"));
}

#[test]
fn a_student_added_or_removed_since_has_no_line_on_one_side() {
    let mut books = Books::new(&[]);
    books.finalize("enrollment", &[student("a", "210")]);
    let added = books.corrections(&[student("a", "210"), student("b", "210")]);
    assert_eq!(
        added.corrections,
        [correction(
            "enrollment",
            "b",
            ("no line", "0"),
            ("base", "360.00")
        )]
    );
    let removed = books.corrections(&[]);
    assert_eq!(
        removed.corrections,
        [correction(
            "enrollment",
            "a",
            ("base", "360.00"),
            ("no line", "0")
        )]
    );
    assert!(removed.base_paid.is_empty());
}

#[test]
fn a_correction_already_paid_by_a_later_finalized_statement_is_not_paid_again() {
    let mut books = Books::new(&[]);
    books.finalize("enrollment", &[student("a", "210")]);
    let both = [student("a", "210"), student("b", "210")];
    let midyear = books.finalize("midyear", &both);
    assert_eq!(midyear.adjustments.len(), 1);
    assert_eq!(midyear.adjustments[0].amount, dec("360.00"));
    // b's catch-up is not paid twice: the midyear line pays only its own share.
    let b = midyear.lines.iter().find(|l| l.student_id == "b").unwrap();
    assert_eq!(b.base_amount, dec("360.00"));
    assert_eq!(books.corrections(&both).corrections, []);
    // b leaves again: the enrollment correction paid on the midyear statement is credited
    // back, though neither the finalized enrollment line nor today's data has b.
    let c = books.corrections(&[student("a", "210")]);
    assert_eq!(
        c.corrections,
        [
            correction("enrollment", "b", ("no line", "360.00"), ("no line", "0")),
            correction("midyear", "b", ("base", "360.00"), ("no line", "0")),
        ]
    );
}

#[test]
fn a_closing_pays_a_rescored_test_and_a_second_closing_totals_zero() {
    let mut books = Books::new(&[]);
    books.finalize_all(&[student("a", "210"), student("b", "210")]);
    assert_eq!(books.paid(), dec("2400.00"));
    let rescored = [student("a", "210"), student("b", "205")];
    let closing = books.close("2025-07-15", &rescored).clone();
    assert!(closing.closing);
    assert_eq!(closing.milestone, "closing-2025-07-15");
    assert_eq!(closing.statement_date, "2025-07-15");
    assert!(closing.lines.is_empty());
    assert_eq!(closing.adjustments.len(), 1);
    let a = &closing.adjustments[0];
    assert_eq!(
        (a.student_id.as_str(), a.milestone.as_str(), a.amount),
        ("b", "final", dec("-240.00"))
    );
    assert_eq!(a.corrected_rule, "tier:approaching");
    assert_eq!(closing.totals.nte_cap, None);
    assert_eq!(closing.totals.paid_before, dec("2400.00"));
    assert_eq!(closing.totals.statement_total, dec("-240.00"));
    assert_eq!(books.paid(), dec("2160.00"));
    assert!(!closing.inputs_hash.is_empty());

    let again = books.close("2025-08-01", &rescored);
    assert!(again.adjustments.is_empty());
    assert_eq!(again.totals.statement_total.to_string(), "0.00");
}

#[test]
fn a_closing_includes_the_difference_of_the_nte_line() {
    // Two students of 1200.00 each under an NTE of 1000.00: the midyear cap cuts 440.00 and
    // the final statement pays nothing more.
    let mut books = Books::new(&[("\"600000.00\"", "\"1000.00\"")]);
    books.finalize_all(&[student("a", "210"), student("b", "210")]);
    assert_eq!(books.paid(), dec("1000.00"));
    // b's outcome is rescored below: the final data pays 1920.00, still capped at 1000.00.
    let lower = [student("a", "210"), student("b", "190")];
    let closing = books.close("2025-07-15", &lower).clone();
    assert_eq!(closing.adjustments[0].amount, dec("-480.00"));
    assert_eq!(closing.totals.nte_cap, Some(dec("480.00")));
    assert_eq!(closing.totals.statement_total, dec("0.00"));
    // Now a and b are both rescored so low that the final data pays 1440.00: still capped.
    let both_lower = [student("a", "190"), student("b", "190")];
    assert_eq!(
        books
            .close("2025-07-16", &both_lower)
            .totals
            .statement_total,
        dec("0.00")
    );
    assert_eq!(books.paid(), dec("1000.00"));
}

#[test]
fn a_closing_credits_back_what_the_nte_no_longer_allows_and_never_pays_above_it() {
    // NTE 2000.00: the final statement is capped at 560.00 (2400.00 due).
    let mut books = Books::new(&[("\"600000.00\"", "\"2000.00\"")]);
    books.finalize_all(&[student("a", "210"), student("b", "210")]);
    assert_eq!(books.paid(), dec("2000.00"));
    // a rescored below: the final data pays 1920.00, under the NTE.
    let lower = [student("a", "190"), student("b", "210")];
    let closing = books.close("2025-07-15", &lower).clone();
    assert_eq!(closing.totals.adjustments, dec("-480.00"));
    assert_eq!(closing.totals.nte_cap, Some(dec("400.00")));
    assert_eq!(closing.totals.statement_total, dec("-80.00"));
    assert_eq!(books.paid(), dec("1920.00"));
    // Rescored back up: paid again up to the NTE, never above it.
    let closing = books
        .close("2025-07-16", &[student("a", "210"), student("b", "210")])
        .clone();
    assert_eq!(closing.totals.statement_total, dec("80.00"));
    assert_eq!(books.paid(), dec("2000.00"));
}

#[test]
fn closing_names_are_recognized_exactly() {
    assert_eq!(closing_name(day("2025-07-15")), "closing-2025-07-15");
    assert!(is_closing_name("closing-2025-07-15"));
    for name in [
        "closing",
        "closing-2025-7-15",
        "closing-2025-02-30",
        "final",
        "closing-2025-07-15x",
    ] {
        assert!(!is_closing_name(name), "{name}");
    }
}

#[test]
fn a_closing_is_not_recomputed_as_a_milestone() {
    let mut books = Books::new(&[]);
    let data = [student("a", "210")];
    books.finalize_all(&data);
    books.close("2025-07-15", &data);
    // Recomputed as a milestone, the closing would name an unknown milestone and fail.
    let found = books.corrections(&data);
    assert_eq!(found.corrections, []);
    assert_eq!(found.paid_before, books.paid());
}

#[test]
fn sessions_after_a_statement_date_do_not_correct_it() {
    let mut books = Books::new(&[]);
    let data = [kid("a").attended(20).build()];
    books.finalize("enrollment", &data);
    let more = [kid("a")
        .attended(20)
        .session_on("2024-12-01", Attended, "t2")
        .build()];
    assert_eq!(books.corrections(&more).corrections, []);
}

#[test]
fn a_closing_renders_its_adjustments_and_nte_line_only() {
    let mut books = Books::new(&[("\"600000.00\"", "\"2000.00\"")]);
    books.finalize_all(&[student("a", "210"), student("b", "210")]);
    let closing = books.close("2025-07-15", &[student("a", "190"), student("b", "210")]);
    let table = closing.to_table();
    assert!(
        table.starts_with("Closing statement closing-2025-07-15 for contract ector-math-2025"),
        "{table}"
    );
    assert!(table.contains("adjustment final a"), "{table}");
    assert!(table.contains("nte_cap (not_to_exceed)"), "{table}");
    assert!(!table.contains("cost per outcome"), "{table}");
    let csv = closing.to_csv();
    assert!(csv.contains("\nTOTAL,0,"), "{csv}");
    assert!(csv.contains("\nADJUSTMENT,a,"), "{csv}");
    assert!(csv.contains("\nNTE_CAP,,"), "{csv}");
    assert!(
        csv.contains("\nSTATEMENT_TOTAL,,,,,,,,,,,,,,,,,,,-80.00,"),
        "{csv}"
    );
    assert!(closing.to_json().contains("\"closing\": true"));
    let read = Statement::from_json(&closing.to_json()).unwrap();
    assert_eq!(read.to_csv(), csv);
}

#[test]
fn lines_by_student_are_sorted_and_a_student_twice_keeps_its_last_line() {
    let lines = [
        ("b", ("r1", dec("1"))),
        ("a", ("r2", dec("2"))),
        ("b", ("r3", dec("3"))),
    ];
    assert_eq!(
        by_student(lines.into_iter()),
        [("a", ("r2", dec("2"))), ("b", ("r3", dec("3")))]
    );
}

#[test]
fn base_paid_sums_each_students_amounts_from_zero() {
    let summed = summed_by_student(vec![
        ("b", dec("1.50")),
        ("a", dec("2")),
        ("b", dec("1.25")),
    ]);
    assert_eq!(
        summed.into_iter().collect::<Vec<_>>(),
        [("a".to_string(), dec("2")), ("b".to_string(), dec("2.75"))]
    );
}
