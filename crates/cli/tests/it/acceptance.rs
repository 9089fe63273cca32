//! The worked example `shared/examples/baseline_seed7`, driven exactly as its README says: every
//! figure of the expected statements must come out of `obc` to the byte.

use crate::support::{example, Obc, Table, BASELINE_CONTRACT};

pub(crate) const MILESTONES: [&str; 3] = ["enrollment", "midyear", "final"];

/// Rows of obc's CSV that the expected files do not have (obc's extra summary rows).
const EXTRA_SUMMARY_ROWS: [&str; 2] = ["BY_RULE", "COST_PER_OUTCOME"];

/// Asserts that every column of every row of `expected` equals obc's, and that obc has the same
/// rows in the same order (apart from its extra summary rows).
pub(crate) fn assert_statement_matches(milestone: &str, obc_csv: &str, expected_csv: &str) {
    let got = Table::parse(obc_csv);
    let expected = Table::parse(expected_csv);
    for column in &expected.header {
        assert!(
            got.header.contains(column),
            "{milestone}: obc's CSV has no column `{column}` (it has {:?})",
            got.header
        );
    }
    let key = |t: &Table| t.header[0].clone();
    assert_eq!(key(&got), "student_id", "{milestone}: obc's first column");
    let got_keys: Vec<&str> = got
        .rows
        .iter()
        .map(|r| r[&key(&got)].as_str())
        .filter(|k| !EXTRA_SUMMARY_ROWS.contains(k))
        .collect();
    let expected_keys: Vec<&str> = expected
        .rows
        .iter()
        .map(|r| r[&key(&expected)].as_str())
        .collect();
    assert_eq!(
        got_keys, expected_keys,
        "{milestone}: the rows (students, then totals) and their order"
    );

    let mut mismatches = Vec::new();
    for want in &expected.rows {
        let id = &want["student_id"];
        let have = got.row(id);
        for (column, value) in want {
            if &have[column] != value {
                mismatches.push(format!(
                    "{id} {column}: expected `{value}`, obc gives `{}`",
                    have[column]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{milestone}: {} fields differ from expected_{milestone}.csv:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

pub(crate) fn expected(milestone: &str) -> String {
    std::fs::read_to_string(example(&format!("expected_{milestone}.csv")))
        .expect("expected statement")
}

#[test]
fn worked_example_statements_equal_the_expected_ones() {
    let obc = Obc::new();
    obc.load_example();
    let mut finalized = Vec::new();
    for milestone in MILESTONES {
        let csv = obc.finalize_example(milestone);
        assert_statement_matches(milestone, &csv, &expected(milestone));
        finalized.push(csv);
    }
    // Nothing changed since: showing a finalized statement gives it again, byte for byte.
    for (milestone, csv) in MILESTONES.iter().zip(&finalized) {
        assert_eq!(
            &obc.example_statement(milestone, "csv"),
            csv,
            "{milestone} shown again"
        );
    }
}

#[test]
fn finalized_statement_is_shown_as_finalized() {
    let obc = Obc::new();
    obc.load_example();
    let draft = obc.run(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "enrollment",
    ]);
    assert!(draft.stderr().contains("DRAFT"), "{}", draft.stderr());
    draft.ok();
    obc.finalize_example("enrollment");
    let shown = obc.run(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "enrollment",
    ]);
    let stderr = shown.stderr();
    assert!(
        stderr.contains("FINALIZED") && stderr.contains("by tester"),
        "{stderr}"
    );
    let table = shown.ok();
    assert!(
        table.contains("31681.76"),
        "the table shows the statement total:\n{table}"
    );
}

#[test]
fn draft_is_reproducible_and_explained() {
    let obc = Obc::new();
    obc.load_example();
    obc.finalize_example("enrollment");
    obc.finalize_example("midyear");

    let csv = obc.example_statement("final", "csv");
    assert_eq!(
        csv,
        obc.example_statement("final", "csv"),
        "the draft CSV is byte-identical"
    );
    let json = obc.example_statement("final", "json");
    assert_eq!(
        json,
        obc.example_statement("final", "json"),
        "the draft JSON is byte-identical"
    );
    // `--output` writes the same bytes to a file, and nothing to standard output.
    let to_file = obc.ok(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "final",
        "--format",
        "csv",
        "--output",
        "final.csv",
    ]);
    assert_eq!(to_file, "");
    assert_eq!(
        std::fs::read_to_string(obc.path("final.csv")).expect("final.csv"),
        csv
    );
    // The draft is the statement the example expects, and the JSON says the same.
    assert_statement_matches("final (draft)", &csv, &expected("final"));
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("the statement JSON parses");
    assert_eq!(parsed["contract_id"], BASELINE_CONTRACT);
    assert_eq!(parsed["milestone"], "final");
    assert_eq!(parsed["totals"]["statement_total"], "37321.46");
    assert_eq!(parsed["lines"].as_array().map(Vec::len), Some(116));

    let want = Table::parse(&expected("final"));
    let want = want.row("2000000");
    let explanation = obc.ok(&[
        "explain",
        "--contract",
        BASELINE_CONTRACT,
        "--student",
        "2000000",
    ]);
    for fact in [
        "2000000",
        want["rule"].as_str(),              // tier:meets
        want["contingent_amount"].as_str(), // 480.02
        want["total"].as_str(),
        want["measure"].as_str(), // 1.2500
        "rate_card.meets",
        "720.03", // the base part, paid by the two earlier milestones
    ] {
        assert!(
            explanation.contains(fact),
            "explain should mention `{fact}`:\n{explanation}"
        );
    }
    // An earlier milestone can be explained too.
    let enrollment = obc.ok(&[
        "explain",
        "--contract",
        BASELINE_CONTRACT,
        "--student",
        "2000000",
        "--milestone",
        "enrollment",
    ]);
    assert!(
        enrollment.contains("Rule: base") && enrollment.contains("360.02"),
        "{enrollment}"
    );
}
