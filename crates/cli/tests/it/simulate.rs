//! `obc simulate`: deterministic reports, JSON fields, an effect against none, history files.

use crate::support::{example, Obc};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn number(v: &serde_json::Value) -> f64 {
    v.as_str().expect("decimals are strings").parse().unwrap()
}

const SMALL: [&str; 4] = ["--years", "60", "--students", "150"];

#[test]
fn the_same_seed_prints_the_same_bytes_and_another_seed_does_not() {
    let obc = Obc::new();
    let contract = example("contract.toml");
    let run = |seed: &str| {
        let mut args = vec![
            "simulate",
            contract.as_str(),
            "--seed",
            seed,
            "--effect",
            "2",
        ];
        args.extend(SMALL);
        obc.ok(&args)
    };
    let first = run("11");
    assert_eq!(first, run("11"));
    assert_ne!(first, run("12"));
    for shown in [
        "Assumptions:",
        "growth_sd = 5 (default)",
        "effect (RIT points added to every student's growth) = 2 (flag)",
        "Paying for chance",
        "#",
    ] {
        assert!(first.contains(shown), "{shown} in\n{first}");
    }
}

#[test]
fn json_reports_both_effects_and_every_assumption() {
    let obc = Obc::new();
    let assumptions = obc.write(
        "assumptions.toml",
        "growth_sd = \"4.0\"\nattendance_mean = 0.9\n",
    );
    let contract = example("contract.toml");
    let mut args = vec![
        "simulate",
        contract.as_str(),
        "--assumptions",
        assumptions.as_str(),
        "--effect",
        "4",
        "--format",
        "json",
    ];
    args.extend(SMALL);
    let report = json(&obc.ok(&args));
    assert_eq!(report["source"], "assumptions");
    assert_eq!(report["students"], 150);
    let with = &report["with_effect"];
    let without = &report["no_effect"];
    for field in [
        "mean_total",
        "p5",
        "p50",
        "p95",
        "contingent_share_paid",
        "years_cap_binds",
    ] {
        assert!(with[field].is_string(), "{field}: {with}");
    }
    assert_eq!(
        with["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["years"].as_u64().unwrap())
            .sum::<u64>(),
        60
    );
    assert!(number(&with["contingent_share_paid"]) > number(&without["contingent_share_paid"]));
    assert!(number(&with["mean_total"]) > number(&without["mean_total"]));
    let printed = report["assumptions"].as_array().unwrap();
    let find = |name: &str| {
        printed
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(find("growth_sd")["source"], "assumptions file");
    assert_eq!(find("growth_sd")["value"], "4.0");
    assert_eq!(find("measurement_error_sd")["source"], "default");
    // How the model works is printed too: no hidden constants.
    for method in [
        "met the target",
        "random draws",
        "histogram",
        "base part paid for",
    ] {
        assert_eq!(find(method)["source"], "method", "{method}");
    }
}

#[test]
fn history_resamples_last_years_students() {
    let obc = Obc::new();
    let contract = example("contract.toml");
    let dir = example("");
    let report = json(&obc.ok(&[
        "simulate",
        &contract,
        "--history",
        &dir,
        "--years",
        "30",
        "--format",
        "json",
    ]));
    assert_eq!(report["source"], "history");
    assert!(report["students"].as_u64().unwrap() > 0);
    assert_eq!(
        report["with_effect"], report["no_effect"],
        "effect 0: one run"
    );
}

#[test]
fn a_wrong_assumption_names_the_file_key_and_expectation() {
    let obc = Obc::new();
    let assumptions = obc.write("assumptions.toml", "attendance_mean = 1.5\n");
    let err = obc.fails(&[
        "simulate",
        &example("contract.toml"),
        "--assumptions",
        &assumptions,
    ]);
    assert!(
        err.contains("assumptions.toml") && err.contains("attendance_mean"),
        "{err}"
    );
    assert!(err.contains("expected a share from 0 to 1"), "{err}");
}
