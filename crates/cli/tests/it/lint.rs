//! `obc lint`: findings with check ids, severities and numbers; exit 0 clean, 1 warnings,
//! 2 errors or an invalid contract. No database is needed.

use crate::support::{example, Obc};

/// The SPEC 4 contract with some text replaced.
fn contract(obc: &Obc, edits: &[(&str, &str)]) -> String {
    let mut source = std::fs::read_to_string(example("contract.toml")).expect("example contract");
    for (from, to) in edits {
        assert!(source.contains(from), "{from}");
        source = source.replacen(from, to, 1);
    }
    obc.write("draft.toml", source)
}

fn lint(obc: &Obc, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["lint"];
    all.extend_from_slice(args);
    let run = obc.run(&all);
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    (run.status.code(), run.stdout(), run.stderr())
}

#[test]
fn lint_prints_findings_and_assumptions_and_exits_1_on_warnings() {
    let obc = Obc::new();
    let file = contract(&obc, &[]);
    let (code, out, _) = lint(&obc, &[&file]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("WARNING [paying_for_chance]"), "{out}");
    assert!(
        out.contains("growth_sd: 5 RIT (--growth-sd default"),
        "{out}"
    );
    assert!(out.contains("INFO [cream_skimming] Not checked"), "{out}");
    assert!(!obc.path("obc.db").exists(), "lint needs no database");
}

#[test]
fn lint_json_names_every_check_and_exits_2_on_errors() {
    let obc = Obc::new();
    let file = contract(&obc, &[("not_to_exceed = \"", "not_to_exceed = \"1")]);
    let (code, out, _) = lint(&obc, &[&file, "--students", "100000", "--format", "json"]);
    assert_eq!(code, Some(2), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let known = [
        "contingent_share",
        "nte_below_full",
        "cliff",
        "paying_for_chance",
        "cream_skimming",
        "missing_score_incentive",
        "cross_fault",
        "norms",
    ];
    let findings = json["findings"].as_array().expect("findings");
    for f in findings {
        assert!(known.contains(&f["check"].as_str().unwrap()), "{f}");
        assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let nte = findings
        .iter()
        .find(|f| f["check"] == "nte_below_full")
        .expect("nte finding");
    assert_eq!(nte["severity"], "error");
    assert_eq!(nte["numbers"]["students"], "100000");
    assert!(json["assumptions"]["noise"].as_str().is_some());
}

#[test]
fn a_fair_contract_lints_clean_with_exit_0() {
    let obc = Obc::new();
    let file = contract(
        &obc,
        &[
            ("responsible = \"district\"", "responsible = \"exclude\""),
            (
                "missing_score = \"district\"",
                "missing_score = \"exclude\"",
            ),
            ("min = \"1.50\"", "min = \"2.50\""),
            ("min = \"1.00\"", "min = \"2.00\""),
            ("min = \"0.50\"", "min = \"1.50\""),
        ],
    );
    let (code, out, _) = lint(&obc, &[&file, "--cliff-share", "0.5"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("WARNING"), "{out}");
    assert!(out.contains("INFO [paying_for_chance]"), "{out}");
}

#[test]
fn an_invalid_contract_is_refused_with_its_line_and_exit_2() {
    let obc = Obc::new();
    let file = contract(
        &obc,
        &[("contingent_share = \"0.40\"", "contingent_share = \"1.40\"")],
    );
    let (code, out, err) = lint(&obc, &[&file]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(
        err.contains("draft.toml:") && err.contains("contingent_share"),
        "{err}"
    );
}

#[test]
fn history_gives_the_spread_the_count_and_the_cream_skimming_check() {
    let obc = Obc::new();
    std::fs::create_dir(obc.path("last-year")).unwrap();
    std::fs::copy(
        example("AssessmentResults.csv"),
        obc.path("last-year/AssessmentResults.csv"),
    )
    .unwrap();
    let file = contract(&obc, &[]);
    let (code, out, _) = lint(&obc, &[&file, "--history", "last-year", "--format", "json"]);
    assert_eq!(code, Some(1), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let sd = json["assumptions"]["growth_sd"].as_str().unwrap();
    assert!(sd.contains("students of the history"), "{sd}");
    let students = json["assumptions"]["students"].as_str().unwrap();
    assert!(students.contains("history"), "{students}");
    let findings = json["findings"].as_array().unwrap();
    let cream = findings
        .iter()
        .find(|f| f["check"] == "cream_skimming")
        .unwrap();
    assert_eq!(cream["numbers"]["history_year"], "2024-2025");
    // Same input, same bytes.
    let (_, again, _) = lint(&obc, &[&file, "--history", "last-year", "--format", "json"]);
    assert_eq!(out, again);
}

#[test]
fn a_history_with_a_bad_row_is_refused_with_its_line() {
    let obc = Obc::new();
    std::fs::create_dir(obc.path("h")).unwrap();
    obc.write(
        "h/AssessmentResults.csv",
        "TermName,StudentID,Subject,TestStartDate,TestRITScore\nFall 2024-2025,1,Mathematics,9/6/2024,999\n",
    );
    let file = contract(&obc, &[]);
    let (code, _, err) = lint(&obc, &[&file, "--history", "h"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("AssessmentResults.csv") && err.contains('2'),
        "{err}"
    );
}
