//! `obc target`: choosing students from the imported worked example, and enrolling the choice.

use crate::support::{example, Obc, BASELINE_CONTRACT};
use std::collections::{BTreeMap, BTreeSet};

/// Students with a Fall Mathematics row whose percentile is below 40 in the worked example.
fn fall_math_below_40() -> BTreeSet<String> {
    let mut reader = csv::Reader::from_path(example("AssessmentResults.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (term, subject, id, pct) = (
        col("TermName"),
        col("Subject"),
        col("StudentID"),
        col("TestPercentile"),
    );
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| r[term] == *"Fall 2024-2025" && r[subject] == *"Mathematics")
        .filter(|r| r[pct].parse::<u32>().is_ok_and(|p| p < 40))
        .map(|r| r[id].to_string())
        .collect()
}

#[test]
fn target_selects_by_percentile_caps_schools_and_writes_an_enrollment_csv() {
    let obc = Obc::new();
    obc.ok(&["init"]);
    obc.ok(&["import", "roster", &example("roster")]);
    obc.ok(&["import", "assessments", &example("AssessmentResults.csv")]);
    obc.ok(&["contract", "add", &example("contract.toml")]);

    let base = [
        "target",
        "--subject",
        "Mathematics",
        "--term",
        "Fall 2024-2025",
        "--percentile-below",
        "40",
    ];
    let json: serde_json::Value =
        serde_json::from_str(&obc.ok(&[&base[..], &["--format", "json"]].concat())).unwrap();
    assert_eq!(json["district_students"], 120);
    let chosen: Vec<String> = json["chosen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["student_id"].as_str().unwrap().to_string())
        .collect();
    let below = fall_math_below_40();
    assert!(!chosen.is_empty());
    assert!(chosen.iter().all(|id| below.contains(id)), "{chosen:?}");
    let by_school = json["by_school"].as_object().unwrap();
    let summed: u64 = by_school
        .values()
        .map(|c| c["selected"].as_u64().unwrap())
        .sum();
    assert_eq!(summed as usize, chosen.len());

    // At most 5 per school, written as an enrollment CSV that `obc enroll` accepts.
    let out = obc.path("enrollment.csv");
    let text = obc.ok(&[
        &base[..],
        &[
            "--max-per-school",
            "5",
            "--start",
            "2024-09-03",
            "--out",
            out.to_str().unwrap(),
        ],
    ]
    .concat());
    assert!(text.contains("school"), "{text}");
    assert!(text.contains("(the roster carries no flags)"), "{text}");
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("student_id,start_date"));
    let rows: Vec<&str> = lines.collect();
    let schools: BTreeMap<String, usize> = by_school
        .iter()
        .map(|(k, v)| (k.clone(), v["selected"].as_u64().unwrap().min(5) as usize))
        .collect();
    assert_eq!(rows.len(), schools.values().sum::<usize>());
    assert!(rows.iter().all(|r| r.ends_with(",2024-09-03")));
    obc.ok(&[
        "enroll",
        "--contract",
        BASELINE_CONTRACT,
        out.to_str().unwrap(),
    ]);
}

#[test]
fn target_needs_a_start_date_to_write_the_csv() {
    let obc = Obc::new();
    obc.ok(&["init"]);
    let run = obc.run(&[
        "target",
        "--subject",
        "Mathematics",
        "--term",
        "Fall 2024-2025",
        "--percentile-below",
        "40",
        "--out",
        "x.csv",
    ]);
    assert!(!run.status.success(), "a usage error");
    let err = run.stderr();
    assert!(err.contains("--start"), "{err}");
}

#[test]
fn target_reads_its_rules_from_a_toml_file() {
    let obc = Obc::new();
    obc.ok(&["init"]);
    obc.ok(&["import", "roster", &example("roster")]);
    obc.ok(&["import", "assessments", &example("AssessmentResults.csv")]);
    let flags = obc.ok(&[
        "target",
        "--subject",
        "Mathematics",
        "--term",
        "Fall 2024-2025",
        "--rit-below",
        "215",
        "--format",
        "json",
    ]);
    let rules = obc.write(
        "rules.toml",
        "subject = \"Mathematics\"\nterm = \"Fall 2024-2025\"\nrit_below = \"215\"\n",
    );
    assert_eq!(
        obc.ok(&["target", "--rules", &rules, "--format", "json"]),
        flags
    );
    let bad = obc.write(
        "bad.toml",
        "subject = \"Mathematics\"\nterm = \"Fall\"\nrit = \"2\"\n",
    );
    let err = obc.fails(&["target", "--rules", &bad]);
    assert!(err.contains("bad.toml") && err.contains("line 3"), "{err}");
}
