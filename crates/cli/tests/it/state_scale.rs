//! `obc demo --students N --export DIR`: the state-scale data set, imported with the very
//! commands it prints, and repeatable byte for byte.

use crate::support::Obc;
use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).expect("under dir");
                let bytes = std::fs::read(&path).expect("read file");
                out.insert(name.display().to_string(), bytes);
            }
        }
    }
    out
}

#[test]
fn state_scale_data_imports_with_the_printed_commands() {
    let obc = Obc::new();
    let out = obc.ok(&["demo", "--students", "300", "--export", "state"]);
    assert!(
        out.contains("district state-district, 3 schools, 300 students"),
        "{out}"
    );
    assert!(
        !obc.path("obc.db").exists(),
        "generating must not touch the database"
    );
    let commands: Vec<Vec<&str>> = out
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("obc "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(commands.len(), 7, "{out}");
    for args in &commands {
        obc.ok(args);
    }
    let enrolled: usize = std::fs::read_to_string(obc.path("state/enrollment.csv"))
        .expect("enrollment list")
        .lines()
        .count()
        - 1;
    for milestone in ["enrollment", "midyear"] {
        obc.ok(&[
            "statement",
            "finalize",
            "--contract",
            "state-math-2025",
            "--milestone",
            milestone,
        ]);
    }
    let statement = obc.ok(&[
        "statement",
        "--contract",
        "state-math-2025",
        "--milestone",
        "final",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&statement).expect("statement JSON");
    let lines = json["lines"].as_array().expect("statement lines");
    assert_eq!(lines.len(), enrolled, "one line per enrolled student");
    for rule in ["district_fault", "provider_fault", "excluded", "tier:"] {
        assert!(
            lines
                .iter()
                .any(|l| l["rule"].as_str().is_some_and(|r| r.starts_with(rule))),
            "no {rule} line in the state-scale statement"
        );
    }
}

#[test]
fn state_scale_data_depends_only_on_seed_and_size() {
    let obc = Obc::new();
    for (dir, seed) in [("a", "11"), ("b", "11"), ("c", "12")] {
        obc.ok(&["demo", "--students", "200", "--seed", seed, "--export", dir]);
    }
    let a = files(&obc.path("a"));
    assert_eq!(a.len(), 13, "{:?}", a.keys());
    assert!(
        a == files(&obc.path("b")),
        "the same seed wrote other bytes"
    );
    assert!(
        a != files(&obc.path("c")),
        "another seed wrote the same bytes"
    );
}

#[test]
fn state_scale_needs_a_folder_and_a_sensible_size() {
    let obc = Obc::new();
    for (args, says) in [
        (&["demo", "--students", "300"][..], "--export"),
        (
            &["demo", "--students", "5", "--export", "x"],
            "10..=10000000",
        ),
    ] {
        let run = obc.run(args);
        assert!(!run.status.success(), "{args:?} succeeded");
        let err = run.stderr();
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!obc.path("obc.db").exists());
    assert!(!obc.path("x").exists());
}
