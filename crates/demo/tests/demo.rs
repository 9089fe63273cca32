//! The demo data set is deterministic, has the advertised shape, and its final statement meets
//! every rule of SPEC section 5 (checked with a small re-implementation of the rules).

use obc_demo::{write_demo, DemoFiles, ENROLLED_STUDENTS, ROSTER_STUDENTS};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obc-demo-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Rows of a CSV file (the demo never quotes a field) as maps from header to value.
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = fs::read_to_string(path).unwrap();
    assert!(!text.contains('"'), "{} needs no quoting", path.display());
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{}: {line}", path.display());
            header
                .iter()
                .zip(fields)
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn same_seed_gives_identical_files_and_other_seeds_differ() {
    let a = temp_dir("a");
    let b = temp_dir("b");
    let c = temp_dir("c");
    write_demo(&a, 7).unwrap();
    write_demo(&b, 7).unwrap();
    write_demo(&c, 8).unwrap();
    let fa = files_under(&a);
    let fb = files_under(&b);
    assert_eq!(fa.len(), 13);
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.strip_prefix(&a).unwrap(), y.strip_prefix(&b).unwrap());
        assert!(
            fs::read(x).unwrap() == fs::read(y).unwrap(),
            "{} differs",
            x.display()
        );
    }
    assert_ne!(
        fs::read(a.join("sessions.csv")).unwrap(),
        fs::read(c.join("sessions.csv")).unwrap()
    );
    for d in [a, b, c] {
        fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn counts_and_shapes() {
    let dir = temp_dir("counts");
    let f: DemoFiles = write_demo(&dir, 1).unwrap();
    assert_eq!(
        (f.students, f.enrolled),
        (ROSTER_STUDENTS, ENROLLED_STUDENTS)
    );
    assert_eq!(f.contract_id, "demo-math-2025");

    let users = read_csv(&f.roster_dir.join("users.csv"));
    let students: Vec<_> = users.iter().filter(|u| u["role"] == "student").collect();
    assert_eq!(students.len(), ROSTER_STUDENTS);
    let ids: BTreeSet<&str> = students.iter().map(|u| u["identifier"].as_str()).collect();
    assert_eq!(ids.len(), ROSTER_STUDENTS);
    for u in &students {
        assert!(u["identifier"].len() == 7 && u["identifier"].starts_with('3'));
        assert!(["06", "07", "08", "09"].contains(&u["grades"].as_str()));
        assert!(u["orgSourcedIds"].starts_with("sch-"));
    }
    let orgs = read_csv(&f.roster_dir.join("orgs.csv"));
    assert_eq!(orgs.iter().filter(|o| o["type"] == "district").count(), 1);
    assert_eq!(
        read_csv(&f.roster_dir.join("demographics.csv")).len(),
        ROSTER_STUDENTS
    );

    let enrollment = read_csv(&f.enrollment);
    assert_eq!(enrollment.len(), ENROLLED_STUDENTS);
    assert!(enrollment
        .iter()
        .all(|e| ids.contains(e["student_id"].as_str())));
    assert!(enrollment
        .iter()
        .any(|e| e["start_date"].starts_with("2025-01")));
    assert!(enrollment.iter().any(|e| !e["end_date"].is_empty()));

    let sessions = read_csv(&f.sessions);
    assert_eq!(sessions.len(), f.session_count);
    let statuses: BTreeSet<&str> = sessions.iter().map(|s| s["status"].as_str()).collect();
    assert_eq!(
        statuses,
        BTreeSet::from([
            "attended",
            "district_cancelled",
            "provider_cancelled",
            "student_absent"
        ])
    );
    let session_ids: BTreeSet<&str> = sessions.iter().map(|s| s["session_id"].as_str()).collect();
    assert_eq!(session_ids.len(), sessions.len());
    for s in &sessions {
        assert!(("2024-08-19".."2025-05-24").contains(&s["date"].as_str()));
        assert_eq!(s["minutes"] != "0", s["status"] == "attended");
    }

    let tests = read_csv(&f.assessments);
    assert_eq!(tests.len(), f.assessment_count);
    let terms: BTreeSet<&str> = tests.iter().map(|t| t["TermName"].as_str()).collect();
    assert_eq!(
        terms,
        BTreeSet::from(["Fall 2024-2025", "Spring 2024-2025", "Winter 2024-2025"])
    );
    assert!(tests.iter().any(|t| t["Subject"] == "Reading"));
    assert!(tests
        .iter()
        .any(|t| t["RapidGuessingPercentage"].parse::<u32>().unwrap() >= 30));
    assert!(tests
        .iter()
        .any(|t| t["TermName"].starts_with("Fall") && t["FallToSpringProjectedGrowth"].is_empty()));

    let contract = fs::read_to_string(&f.contract).unwrap();
    assert!(contract.contains("not_to_exceed = \"720000.00\""));
    assert_eq!(fs::read_to_string(&f.readme).unwrap().lines().count(), 10);
    fs::remove_dir_all(dir).unwrap();
}

/// One enrolled student's line at the final milestone.
#[derive(Debug)]
struct Line {
    school: String,
    rule: String,
    measure: Option<f64>,
}

/// The rules of SPEC section 5, item 4, for the demo contract (as of 2025-06-30).
fn final_lines(f: &DemoFiles) -> Vec<Line> {
    let users = read_csv(&f.roster_dir.join("users.csv"));
    let student: BTreeMap<String, (String, u32)> = users
        .iter()
        .filter(|u| u["role"] == "student")
        .map(|u| {
            let grade = u["grades"].parse().unwrap();
            (u["identifier"].clone(), (u["orgSourcedIds"].clone(), grade))
        })
        .collect();
    let mut sessions: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for s in read_csv(&f.sessions) {
        sessions.entry(s["student_id"].clone()).or_default().push(s);
    }
    // (student, term) -> (date, row number, score, projection) of the latest valid math test.
    type Best = BTreeMap<(String, String), ((u32, u32, u32), usize, i64, Option<i64>)>;
    let mut best: Best = BTreeMap::new();
    for (n, t) in read_csv(&f.assessments).into_iter().enumerate() {
        if t["Subject"] != "Mathematics"
            || t["RapidGuessingPercentage"].parse::<u32>().unwrap() >= 30
        {
            continue;
        }
        let mdy: Vec<u32> = t["TestStartDate"]
            .split('/')
            .map(|x| x.parse().unwrap())
            .collect();
        let key = ((mdy[2], mdy[0], mdy[1]), n);
        let term = t["TermName"].split(' ').next().unwrap().to_string();
        let proj = t["FallToSpringProjectedGrowth"]
            .parse::<i64>()
            .ok()
            .map(|p| p * 10);
        let entry = (key.0, key.1, t["TestRITScore"].parse().unwrap(), proj);
        let slot = best.entry((t["StudentID"].clone(), term)).or_insert(entry);
        if (entry.0, entry.1) > (slot.0, slot.1) {
            *slot = entry;
        }
    }
    let table_tenths = |grade: u32| [75, 65, 55, 50][grade as usize - 6];
    let mut lines = Vec::new();
    for e in read_csv(&f.enrollment) {
        let id = &e["student_id"];
        let (school, grade) = student[id].clone();
        let (start, end) = (e["start_date"].as_str(), e["end_date"].as_str());
        let mine: Vec<_> = sessions
            .get(id)
            .map(|v| {
                v.iter()
                    .filter(|s| {
                        s["date"].as_str() >= start && (end.is_empty() || s["date"].as_str() <= end)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let count = |st: &str| mine.iter().filter(|s| s["status"] == st).count();
        let (att, abs, dc, pc) = (
            count("attended"),
            count("student_absent"),
            count("district_cancelled"),
            count("provider_cancelled"),
        );
        let planned = mine.len();
        let offered = att + abs;
        let mut per_tutor: BTreeMap<&str, usize> = BTreeMap::new();
        for s in mine.iter().filter(|s| s["status"] == "attended") {
            *per_tutor.entry(s["tutor_id"].as_str()).or_default() += 1;
        }
        let top = per_tutor.values().max().copied().unwrap_or(0);
        let base = best.get(&(id.clone(), "Fall".into()));
        let out = best.get(&(id.clone(), "Spring".into()));
        let score = match (base, out) {
            (Some(b), Some(o)) => {
                let proj = b.3.or(o.3).unwrap_or(table_tenths(grade));
                Some((o.2 - b.2) as f64 * 10.0 / proj as f64)
            }
            _ => None,
        };
        let district = (planned > 0 && (planned - dc) * 100 < 70 * planned)
            || (offered >= 20 && att * 100 < 70 * offered);
        let provider =
            (att > 0 && top * 100 < 80 * att) || (planned > 0 && pc * 100 > 10 * planned);
        let rule = match score {
            None => "district_fault",
            Some(_) if district => "district_fault",
            Some(_) if provider => "provider_fault",
            Some(_) if offered < 20 => "excluded",
            Some(m) if m >= 1.5 => "tier:exceeds",
            Some(m) if m >= 1.0 => "tier:meets",
            Some(m) if m >= 0.5 => "tier:approaching",
            Some(_) => "tier:below",
        }
        .to_string();
        lines.push(Line {
            school,
            rule,
            measure: score,
        });
    }
    lines
}

/// The school adjustment band of each school: +0.10, 0.00 or -0.10 (SPEC section 5, item 5).
fn bands(lines: &[Line]) -> BTreeMap<String, (f64, &'static str)> {
    let mut by_school: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.rule.starts_with("tier:")) {
        by_school
            .entry(l.school.clone())
            .or_default()
            .push(l.measure.unwrap());
    }
    by_school
        .into_iter()
        .map(|(s, mut v)| {
            v.sort_by(f64::total_cmp);
            let n = v.len();
            let median = if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / 2.0
            };
            let band = if median >= 1.2 {
                "+0.10"
            } else if median >= 0.8 {
                "0.00"
            } else {
                "-0.10"
            };
            (s, (median, band))
        })
        .collect()
}

#[test]
fn the_final_statement_meets_every_rule_and_band() {
    for seed in [1, 2, 3, 7, 42, 2025] {
        let dir = temp_dir(&format!("rules-{seed}"));
        let f = write_demo(&dir, seed).unwrap();
        let lines = final_lines(&f);
        let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
        for l in &lines {
            *rules.entry(l.rule.as_str()).or_default() += 1;
        }
        let bands = bands(&lines);
        println!("seed {seed}: {rules:?}");
        println!("seed {seed}: {bands:?}");
        for rule in [
            "district_fault",
            "provider_fault",
            "excluded",
            "tier:exceeds",
            "tier:meets",
            "tier:approaching",
            "tier:below",
        ] {
            assert!(rules.contains_key(rule), "seed {seed}: no {rule}");
        }
        let seen: BTreeSet<&str> = bands.values().map(|b| b.1).collect();
        assert_eq!(
            seen,
            BTreeSet::from(["+0.10", "-0.10", "0.00"]),
            "seed {seed}"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}

/// Tuning aid, not a check: `cargo test -p obc-demo --release -- --ignored --nocapture`.
#[test]
#[ignore]
fn scan_seeds() {
    let mut misses = 0;
    for seed in 0..100 {
        let dir = temp_dir(&format!("scan-{seed}"));
        let f = write_demo(&dir, seed).unwrap();
        let lines = final_lines(&f);
        let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
        for l in &lines {
            *rules.entry(l.rule.as_str()).or_default() += 1;
        }
        let bands = bands(&lines);
        // Jefferson (grade 9, small projections) is the noisy one: its band varies by seed.
        let ok = bands.iter().all(|(s, b)| match s.as_str() {
            "sch-lincoln" => b.1 == "+0.10",
            "sch-roosevelt" => b.1 == "0.00",
            "sch-washington" => b.1 == "-0.10",
            _ => true,
        });
        if !ok {
            misses += 1;
        }
        println!("seed {seed}: {ok} {rules:?} {bands:?}");
        fs::remove_dir_all(dir).unwrap();
    }
    println!("seeds whose schools are not in their designed band: {misses}");
}
