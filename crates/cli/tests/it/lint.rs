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

/// Writes a history in `dir`: twenty students who all grow exactly as projected (Fall 200,
/// Spring 208, projection 8) with `TestStandardError` 3.5 when `standard_error`, and with
/// `sessions` a `sessions.csv` of 40 sessions each, S01 and S02 attending 10, the rest 36.
fn synthetic_history(obc: &Obc, dir: &str, standard_error: bool, sessions: bool) -> String {
    std::fs::create_dir(obc.path(dir)).unwrap();
    let (se_head, se) = if standard_error {
        (",TestStandardError", ",3.5")
    } else {
        ("", "")
    };
    let mut results =
        format!("TermName,StudentID,Subject,TestStartDate,TestRITScore{se_head},FallToSpringProjectedGrowth\n");
    let mut log = String::from("session_id,student_id,tutor_id,date,minutes,status\n");
    for i in 1..=20 {
        results.push_str(&format!(
            "Fall 2023-2024,S{i:02},Mathematics,9/10/2023,200{se},8\nSpring 2023-2024,S{i:02},Mathematics,5/10/2024,208{se},\n"
        ));
        let attended = if i <= 2 { 10 } else { 36 };
        for k in 0..40 {
            let status = if k < attended {
                "attended"
            } else {
                "student_absent"
            };
            log.push_str(&format!(
                "x{i}-{k},S{i:02},T1,2023-{:02}-{:02},30,{status}\n",
                10 + k / 28,
                1 + k % 28
            ));
        }
    }
    obc.write(&format!("{dir}/AssessmentResults.csv"), results);
    if sessions {
        obc.write(&format!("{dir}/sessions.csv"), log);
    }
    dir.to_string()
}

fn lint_json(obc: &Obc, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (_, out, err) = lint(obc, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"))
}

/// The cream-skimming finding of students dropped by `by` (`lowest attendance`, ...).
fn cream_by(json: &serde_json::Value, by: &str) -> Option<serde_json::Value> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "cream_skimming" && f["numbers"]["dropped_by"] == by)
        .cloned()
}

#[test]
fn history_sessions_check_dropping_the_most_absent_and_standard_errors_set_the_noise() {
    let obc = Obc::new();
    let dir = synthetic_history(&obc, "h", true, true);
    // The provider answers for attendance: the two absent students earn nothing, so leaving
    // them out raises the pay per student.
    let provider = contract(
        &obc,
        &[("responsible = \"district\"", "responsible = \"provider\"")],
    );
    let json = lint_json(&obc, &[&provider, "--history", &dir]);
    let absence = cream_by(&json, "lowest attendance").expect("an absence finding");
    assert_eq!(absence["severity"], "warning", "{absence}");
    assert_eq!(absence["numbers"]["attendance_at_or_below"], "25%");
    let a = &json["assumptions"];
    assert!(
        a["sessions"].as_str().unwrap().starts_with("800 sessions"),
        "{a}"
    );
    // Every student grew as projected (no observed spread): the noise is the measurement
    // error of a growth score from TestStandardError, sqrt(3.5^2 + 3.5^2) = 4.94 RIT.
    assert!(
        a["growth_measurement_error"]
            .as_str()
            .unwrap()
            .starts_with("4.94 RIT (TestStandardError"),
        "{a}"
    );
    let sd = a["growth_sd"].as_str().unwrap();
    assert!(
        sd.starts_with("4.94 RIT") && sd.contains("raised from 0"),
        "{sd}"
    );

    // The district answers for attendance: absent students are paid in full, no warning.
    let district = obc.write(
        "district.toml",
        std::fs::read_to_string(example("contract.toml")).unwrap(),
    );
    let json = lint_json(&obc, &[&district, "--history", &dir]);
    let absence = cream_by(&json, "lowest attendance").expect("an absence finding");
    assert_eq!(absence["severity"], "info", "{absence}");
}

#[test]
fn without_sessions_or_standard_errors_the_history_says_what_it_did_not_check() {
    let obc = Obc::new();
    let dir = synthetic_history(&obc, "h", false, false);
    let provider = contract(
        &obc,
        &[("responsible = \"district\"", "responsible = \"provider\"")],
    );
    let json = lint_json(&obc, &[&provider, "--history", &dir]);
    assert!(cream_by(&json, "lowest attendance").is_none(), "{json}");
    let a = &json["assumptions"];
    assert!(a["sessions"].as_str().unwrap().starts_with("none"), "{a}");
    assert!(
        a["growth_measurement_error"]
            .as_str()
            .unwrap()
            .starts_with("not in the history"),
        "{a}"
    );
    // No standard error to raise it: the observed spread (every student grew as projected).
    let sd = a["growth_sd"].as_str().unwrap();
    assert!(
        sd.starts_with("0 RIT (observed minus projected growth of 20 students")
            && !sd.contains("raised"),
        "{sd}"
    );
    // The text report prints the same assumptions.
    let (_, text, _) = lint(&obc, &[&provider, "--history", &dir]);
    assert!(text.contains("  sessions: none"), "{text}");
    assert!(
        text.contains("  growth_measurement_error: not in the history"),
        "{text}"
    );
}

#[test]
fn a_history_with_a_bad_session_row_is_refused_with_its_line() {
    let obc = Obc::new();
    let dir = synthetic_history(&obc, "h", true, false);
    obc.write(
        "h/sessions.csv",
        "session_id,student_id,tutor_id,date,minutes,status\nx1,S01,T1,2023-10-01,30,maybe\n",
    );
    let file = contract(&obc, &[]);
    let (code, out, err) = lint(&obc, &[&file, "--history", &dir]);
    assert_eq!(code, Some(2), "{out}");
    assert!(err.contains("sessions.csv:2"), "{err}");
}
