//! Bad input: every importer refuses the whole file, names the file, the line (and the column
//! where one applies) and what it expected, imports nothing, and never panics.

use crate::support::{example, Obc, BASELINE_CONTRACT};
use std::io::Write;
use std::process::Stdio;

const SESSIONS_HEADER: &str = "session_id,student_id,tutor_id,date,minutes,status";
/// A good first row: a file that fails on a later line must not have imported it.
const GOOD_SESSION: &str = "s1,2000000,T1,2024-09-02,30,attended";

/// A database with the worked example's roster.
fn with_roster() -> Obc {
    let obc = Obc::init();
    obc.ok(&["import", "roster", &example("roster")]);
    obc
}

/// A database with the worked example's roster, contract and enrollments.
fn with_contract() -> Obc {
    let obc = with_roster();
    obc.ok(&["contract", "add", &example("contract.toml")]);
    obc.ok(&[
        "enroll",
        "--contract",
        BASELINE_CONTRACT,
        &example("enrollment.csv"),
    ]);
    obc
}

fn assert_mentions(stderr: &str, fragments: &[&str]) {
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "the error should mention `{fragment}`:\n{stderr}"
        );
    }
}

/// Imports a sessions file that is wrong after its good first row: the import fails with a
/// message holding `fragments`, and nothing of it was imported (the good row alone is then
/// added).
fn assert_sessions_rejected(name: &str, contents: &[u8], fragments: &[&str]) {
    let obc = with_roster();
    obc.write(name, contents);
    let audit = obc.audit();
    let err = obc.fails(&["import", "sessions", name, "--provider", "brightpath"]);
    assert_mentions(&err, fragments);
    assert_mentions(&err, &["nothing was imported"]);
    assert_eq!(
        obc.audit(),
        audit,
        "a refused import leaves no trace in the audit log"
    );
    obc.write("good.csv", format!("{SESSIONS_HEADER}\n{GOOD_SESSION}\n"));
    let out = obc.ok(&["import", "sessions", "good.csv", "--provider", "brightpath"]);
    assert!(
        out.contains("1 rows, 1 added, 0 replaced"),
        "the refused file's first row was imported:\n{out}"
    );
}

fn sessions_file(bad_row: &str) -> String {
    format!("{SESSIONS_HEADER}\n{GOOD_SESSION}\n{bad_row}\n")
}

#[test]
fn sessions_with_a_missing_column() {
    assert_sessions_rejected(
        "missing_column.csv",
        b"session_id,student_id,tutor_id,date,minutes\ns1,2000000,T1,2024-09-02,30\n",
        &[
            "missing_column.csv:1:",
            "`status`",
            "expected this column in the header",
        ],
    );
}

#[test]
fn sessions_with_a_bad_date() {
    assert_sessions_rejected(
        "bad_date.csv",
        sessions_file("s2,2000000,T1,2024-13-01,30,attended").as_bytes(),
        &[
            "bad_date.csv:3:",
            "column `date`",
            "2024-13-01",
            "expected a date as YYYY-MM-DD",
        ],
    );
}

#[test]
fn sessions_with_negative_minutes() {
    assert_sessions_rejected(
        "negative_minutes.csv",
        sessions_file("s2,2000000,T1,2024-09-03,-5,attended").as_bytes(),
        &[
            "negative_minutes.csv:3:",
            "column `minutes`",
            "`-5`",
            "expected a non-negative integer",
        ],
    );
}

#[test]
fn sessions_with_an_unknown_status() {
    assert_sessions_rejected(
        "unknown_status.csv",
        sessions_file("s2,2000000,T1,2024-09-03,30,present").as_bytes(),
        &[
            "unknown_status.csv:3:",
            "column `status`",
            "`present`",
            "expected one of attended, student_absent, district_cancelled, provider_cancelled",
        ],
    );
}

#[test]
fn sessions_of_a_student_not_in_the_roster() {
    assert_sessions_rejected(
        "unknown_student.csv",
        sessions_file("s2,9999999,T1,2024-09-03,30,attended").as_bytes(),
        &[
            "unknown_student.csv:3:",
            "column `student_id`",
            "`9999999`",
            "roster",
        ],
    );
}

#[test]
fn sessions_with_a_duplicate_session_id() {
    assert_sessions_rejected(
        "duplicate.csv",
        sessions_file("s1,2000001,T2,2024-09-03,30,attended").as_bytes(),
        &[
            "duplicate.csv:3:",
            "column `session_id`",
            "`s1`",
            "(also on line 2)",
        ],
    );
}

#[test]
fn sessions_file_not_in_utf8() {
    let mut contents = format!("{SESSIONS_HEADER}\n{GOOD_SESSION}\n").into_bytes();
    contents.extend_from_slice(b"s2,2000000,T\xe9,2024-09-03,30,attended\n"); // Latin-1 "Té"
    assert_sessions_rejected(
        "latin1.csv",
        &contents,
        &["latin1.csv:3:", "column `tutor_id`", "expected UTF-8"],
    );
}

#[test]
fn sessions_json_with_a_bad_value() {
    assert_sessions_rejected(
        "sessions.json",
        br#"[{"session_id":"s1","student_id":"2000000","tutor_id":"T1","date":"2024-09-02","minutes":30,"status":"attended"},
{"session_id":"s2","student_id":"2000000","tutor_id":"T1","date":"2024-09-03","minutes":-3,"status":"attended"}]"#,
        &["sessions.json:", "minutes", "-3", "expected a non-negative integer"],
    );
}

#[test]
fn every_problem_of_a_file_is_named() {
    let contents = format!(
        "{SESSIONS_HEADER}\n{GOOD_SESSION}\ns2,2000000,T1,2024-02-30,30,attended\ns3,2000000,T1,2024-09-04,x,attended\n"
    );
    assert_sessions_rejected(
        "two_problems.csv",
        contents.as_bytes(),
        &[
            "two_problems.csv:3:",
            "2024-02-30",
            "two_problems.csv:4:",
            "column `minutes`",
            "2 problems found",
        ],
    );
}

#[test]
fn assessments_with_bad_rows() {
    let obc = with_roster();
    let source =
        std::fs::read_to_string(example("AssessmentResults.csv")).expect("the example MAP file");
    let mut lines: Vec<String> = source.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let date = header
        .iter()
        .position(|c| *c == "TestStartDate")
        .expect("TestStartDate");
    let mut row: Vec<String> = lines[4].split(',').map(str::to_string).collect();
    row[date] = "9/31/2024".into();
    lines[4] = row.join(",");
    obc.write("AssessmentResults.csv", lines.join("\n") + "\n");
    let err = obc.fails(&["import", "assessments", "AssessmentResults.csv"]);
    assert_mentions(
        &err,
        &[
            "AssessmentResults.csv:5:",
            "column `TestStartDate`",
            "9/31/2024",
            "expected a date",
            "nothing was imported",
        ],
    );
    let out = obc.ok(&["import", "assessments", &example("AssessmentResults.csv")]);
    assert!(out.contains("503 added, 0 replaced, 0 unchanged"), "{out}");
}

#[test]
fn nonsense_terms_scores_and_grades_are_refused_at_their_line() {
    let obc = with_roster();
    let source =
        std::fs::read_to_string(example("AssessmentResults.csv")).expect("the example MAP file");
    let mut lines: Vec<String> = source.lines().map(str::to_string).collect();
    lines[3] = lines[3].replacen("Fall 2024-2025", "Autumn 2024-2025", 1);
    obc.write("AssessmentResults.csv", lines.join("\n") + "\n");
    let err = obc.fails(&["import", "assessments", "AssessmentResults.csv"]);
    assert_mentions(
        &err,
        &[
            "AssessmentResults.csv:4:",
            "column `TermName`",
            "Autumn 2024-2025",
            "<Fall|Winter|Spring|Summer> <YYYY>-<YYYY+1>",
            "nothing was imported",
        ],
    );
    obc.write(
        "scores.csv",
        "student_id,assessment,subject,term,date,score\n\
         2000000,Screener,Mathematics,Spring 2024-2025,2025-04-10,201\n\
         2000000,Screener,Mathematics,Fall,2024-09-10,1999\n\
         2000001,Screener,Mathematics,Spring 2024-2025,2025-04-10,12000\n",
    );
    let err = obc.fails(&["import", "assessments", "scores.csv"]);
    assert_mentions(
        &err,
        &[
            "scores.csv:3: column `term`: value `Fall`",
            "scores.csv:4: column `score`: value `12000`: expected a score from 0 to 9999",
        ],
    );
    obc.write(
        "roster.csv",
        "student_id,school_id,grade,first_name,last_name\n\
         2000000,sch-001,seven,A,B\n2000001,sch-001,14,C,D\n",
    );
    let err = obc.fails(&["import", "roster", "roster.csv", "--district", "dist-mesa"]);
    assert_mentions(
        &err,
        &[
            "roster.csv:2: column `grade`: value `seven`",
            "roster.csv:3: column `grade`: value `14`",
            "OneRoster's vocabulary",
        ],
    );
    let out = obc.ok(&["import", "assessments", &example("AssessmentResults.csv")]);
    assert!(out.contains("503 added, 0 replaced, 0 unchanged"), "{out}");
}

#[test]
fn a_header_of_twenty_megabytes_of_commas_is_refused_at_once() {
    let obc = with_roster();
    obc.write("commas.csv", vec![b','; 20 << 20]);
    let started = std::time::Instant::now();
    for args in [
        &["import", "assessments", "commas.csv"][..],
        &["import", "roster", "commas.csv", "--district", "dist-mesa"][..],
    ] {
        let err = obc.fails(args);
        assert_mentions(&err, &["commas.csv:1: expected at most 1000 columns"]);
    }
    // It stops at the bound instead of reading (and holding) the whole header.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// Adds a contract that is wrong: refused with the TOML line and what is wrong, nothing stored.
fn assert_contract_rejected(name: &str, source: &str, fragments: &[&str]) {
    let obc = with_roster();
    obc.write(name, source);
    let err = obc.fails(&["contract", "add", name]);
    assert_mentions(&err, fragments);
    assert_mentions(&err, &["the contract was not added"]);
    assert_eq!(
        obc.ok(&["contract", "list", "--format", "csv"]),
        "id,version\n"
    );
    assert!(!obc.audit().contains("contract.version"));
    let out = obc.ok(&["contract", "add", &example("contract.toml")]);
    assert!(out.contains("version 1 added"), "{out}");
}

/// The example contract with `from` replaced by `to`, and the line where `to` starts.
fn example_contract_with(from: &str, to: &str) -> (String, usize) {
    let source = std::fs::read_to_string(example("contract.toml")).expect("the example contract");
    assert_eq!(
        source.matches(from).count(),
        1,
        "`{from}` is in the example contract once"
    );
    let changed = source.replace(from, to);
    let line = changed[..changed.find(to).expect("replaced")]
        .matches('\n')
        .count()
        + 1;
    (changed, line)
}

#[test]
fn contract_with_tiers_out_of_order() {
    // "meets" now starts above "exceeds".
    let (source, line) = example_contract_with(
        "name = \"meets\"\nmin = \"1.00\"",
        "name = \"meets\"\nmin = \"1.60\"",
    );
    let line = line + 1; // the `min` line
    assert_contract_rejected(
        "tiers.toml",
        &source,
        &[
            &format!("tiers.toml:{line}:"),
            "rate_card.meets.min",
            "exceeds",
        ],
    );
}

#[test]
fn contract_with_a_contingent_share_above_1() {
    let (source, line) =
        example_contract_with("contingent_share = \"0.40\"", "contingent_share = \"1.5\"");
    assert_contract_rejected(
        "share.toml",
        &source,
        &[
            &format!("share.toml:{line}:"),
            "contingent_share",
            "1.5",
            "between 0 and 1",
        ],
    );
}

#[test]
fn contract_with_an_unknown_key() {
    let (source, line) =
        example_contract_with("min_offered = 20\n", "min_offered = 20\nmin_ofered = 5\n");
    let line = line + 1; // the misspelt key follows
    assert_contract_rejected(
        "unknown_key.toml",
        &source,
        &[
            &format!("unknown_key.toml:{line}:1:"),
            "unknown field `min_ofered`",
            "min_offered",
        ],
    );
}

#[test]
fn contract_with_decimals_as_numbers() {
    let (source, line) = example_contract_with(
        "price_per_student = \"1200.05\"",
        "price_per_student = 1200.05",
    );
    assert_contract_rejected(
        "numbers.toml",
        &source,
        &[
            &format!("numbers.toml:{line}:"),
            "decimals are written as strings",
            "\"1200.05\"",
        ],
    );
}

/// The worked example's roster as a zip archive, as districts send it.
fn roster_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut files: Vec<_> = std::fs::read_dir(example("roster"))
        .expect("the example roster")
        .map(|e| e.expect("roster entry").path())
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(&std::fs::read(&path).expect("roster file"))
            .expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

/// Imports a broken roster archive: refused, named, nothing imported; the whole archive then
/// imports every student as new.
fn assert_roster_rejected(name: &str, contents: &[u8], fragments: &[&str]) {
    let obc = Obc::init();
    obc.write(name, contents);
    let err = obc.fails(&["import", "roster", name]);
    assert_mentions(&err, fragments);
    assert_mentions(&err, &["nothing was imported"]);
    assert_eq!(obc.audit(), "", "a refused roster leaves no trace");
    obc.write("roster.zip", roster_zip());
    let out = obc.ok(&["import", "roster", "roster.zip"]);
    assert!(
        out.contains("120 students (120 added, 0 updated, 0 unchanged)"),
        "{out}"
    );
}

#[test]
fn roster_zip_truncated() {
    let zip = roster_zip();
    assert_roster_rejected(
        "half.zip",
        &zip[..zip.len() / 2],
        &["half.zip", "expected a complete, undamaged zip"],
    );
    assert_roster_rejected("cut.zip", &zip[..zip.len() - 10], &["cut.zip", "zip"]);
    assert_roster_rejected(
        "garbage.zip",
        b"PK\x03\x04 not a zip at all",
        &["garbage.zip", "zip"],
    );
}

#[test]
fn roster_zip_with_a_damaged_entry() {
    let mut zip = roster_zip();
    let header = zip
        .windows(9)
        .position(|w| w == b"users.csv")
        .expect("users.csv entry");
    // Flip bytes of the entry's compressed data, just after its local header.
    for byte in &mut zip[header + 40..header + 80] {
        *byte ^= 0xff;
    }
    assert_roster_rejected("damaged.zip", &zip, &["damaged.zip", "users.csv"]);
}

#[test]
fn enrollment_of_a_student_not_in_the_roster() {
    let obc = with_roster();
    obc.ok(&["contract", "add", &example("contract.toml")]);
    obc.write(
        "enrollment.csv",
        "student_id,start_date,end_date\n2000000,2024-08-24,\n9999999,2024-08-24,\n",
    );
    let err = obc.fails(&["enroll", "--contract", BASELINE_CONTRACT, "enrollment.csv"]);
    assert_mentions(
        &err,
        &[
            "enrollment.csv:3:",
            "column `student_id`",
            "`9999999`",
            "roster",
            "nothing was imported",
        ],
    );
    obc.write(
        "enrollment.csv",
        "student_id,start_date,end_date\n2000000,2024-08-24,\n",
    );
    let out = obc.ok(&["enroll", "--contract", BASELINE_CONTRACT, "enrollment.csv"]);
    assert!(out.contains("1 added, 0 updated, 0 unchanged"), "{out}");
}

#[test]
fn enrollment_of_a_student_twice_or_with_bad_dates() {
    let obc = with_roster();
    obc.ok(&["contract", "add", &example("contract.toml")]);
    obc.write(
        "twice.csv",
        "student_id,start_date,end_date\n2000000,2024-08-24,\n2000000,2024-09-01,\n",
    );
    let err = obc.fails(&["enroll", "--contract", BASELINE_CONTRACT, "twice.csv"]);
    assert_mentions(&err, &["twice.csv:3:", "`2000000`", "line 2"]);
    obc.write(
        "backwards.csv",
        "student_id,start_date,end_date\n2000000,2024-08-24,2024-08-01\n",
    );
    let err = obc.fails(&["enroll", "--contract", BASELINE_CONTRACT, "backwards.csv"]);
    assert_mentions(
        &err,
        &["backwards.csv:2:", "column `end_date`", "2024-08-01"],
    );
    obc.write(
        "us_date.csv",
        "student_id,start_date,end_date\n2000000,8/24/2024,\n",
    );
    let err = obc.fails(&["enroll", "--contract", BASELINE_CONTRACT, "us_date.csv"]);
    assert_mentions(
        &err,
        &["us_date.csv:2:", "column `start_date`", "YYYY-MM-DD"],
    );
    assert!(!obc.audit().contains("enroll"), "nothing was enrolled");
}

#[test]
fn statement_for_an_unknown_milestone_contract_or_date() {
    let obc = with_contract();
    let err = obc.fails(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "spring",
    ]);
    assert_mentions(
        &err,
        &["no milestone \"spring\"", "enrollment, midyear, final"],
    );
    let err = obc.fails(&[
        "statement",
        "finalize",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "spring",
    ]);
    assert_mentions(&err, &["no milestone \"spring\""]);
    let err = obc.fails(&["statement", "--contract", "nosuch", "--milestone", "final"]);
    assert_mentions(&err, &["no contract \"nosuch\"", "obc contract add"]);
    let err = obc.fails(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "final",
        "--as-of",
        "2025-02-30",
    ]);
    assert_mentions(&err, &["2025-02-30", "expected a date"]);
    let err = obc.fails(&[
        "explain",
        "--contract",
        BASELINE_CONTRACT,
        "--student",
        "9999999",
    ]);
    assert_mentions(&err, &["9999999", "no line"]);
    assert!(!obc.audit().contains("statement.finalize"));
}

#[test]
fn missing_files() {
    let obc = with_roster();
    let err = obc.fails(&[
        "import",
        "sessions",
        "nosuch.csv",
        "--provider",
        "brightpath",
    ]);
    assert_mentions(&err, &["nosuch.csv", "expected a readable file"]);
    let err = obc.fails(&["import", "roster", "nosuch"]);
    assert_mentions(&err, &["nosuch"]);
    obc.write("empty.csv", "");
    let err = obc.fails(&[
        "import",
        "sessions",
        "empty.csv",
        "--provider",
        "brightpath",
    ]);
    assert_mentions(&err, &["empty.csv:1:", "expected a header row"]);
    let err = obc.fails(&["import", "assessments", &example("sessions.csv")]);
    assert_mentions(&err, &["sessions.csv:1:", "MAP Growth"]);
}

#[test]
fn commands_on_a_missing_database_give_a_hint() {
    let obc = Obc::new();
    for args in [
        &["audit"][..],
        &["import", "roster", &example("roster")],
        &[
            "statement",
            "--contract",
            BASELINE_CONTRACT,
            "--milestone",
            "final",
        ],
        &["contract", "list"],
    ] {
        let err = obc.fails(args);
        assert_mentions(&err, &["no obc database at obc.db", "obc init"]);
    }
    assert!(
        !obc.path("obc.db").exists(),
        "a failing command must not create the database"
    );
}

/// `obc statement ... | head`: the reader goes away before the statement is written. The JSON
/// statement of the worked example (over 100 KB) is larger than a pipe's buffer, so the write
/// fails whatever the timing.
#[test]
fn a_closed_output_pipe_does_not_panic() {
    let obc = with_contract();
    obc.ok(&[
        "import",
        "sessions",
        &example("sessions.csv"),
        "--provider",
        "brightpath",
    ]);
    obc.ok(&["import", "assessments", &example("AssessmentResults.csv")]);
    let mut child = obc
        .command(&[
            "statement",
            "--contract",
            BASELINE_CONTRACT,
            "--milestone",
            "final",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn obc");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait for obc");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "obc panicked on a closed pipe:\n{stderr}"
    );
    assert_ne!(output.status.code(), Some(101), "exit code of a panic");
}

/// A `--db` that cannot be a database: the message should name the path, once.
#[test]
fn an_unusable_database_path_is_named() {
    let obc = Obc::new();
    let err = obc.fails(&["--db", "no/such/dir/obc.db", "init"]);
    assert_mentions(&err, &["no/such/dir/obc.db"]);
    assert_eq!(
        err.matches("unable to open database file").count(),
        1,
        "{err}"
    );
    obc.write("notes.db", "these are not the tables you are looking for\n");
    let err = obc.fails(&["--db", "notes.db", "init"]);
    assert_mentions(&err, &["notes.db", "not a database"]);
    assert_eq!(err.matches("file is not a database").count(), 1, "{err}");
}

#[test]
fn contract_of_an_unknown_district_names_the_district_line() {
    let (source, line) =
        example_contract_with("district = \"dist-mesa\"", "district = \"dist-nowhere\"");
    assert_contract_rejected(
        "district.toml",
        &source,
        &[
            &format!("district.toml:{line}:12:"),
            "`district` = \"dist-nowhere\"",
            "no such district",
            "--district dist-nowhere",
        ],
    );
}

#[test]
fn contract_whose_contingent_milestone_is_not_last_names_its_date_line() {
    let (source, line) = example_contract_with(
        "date = 2025-06-30\ncontingent = true",
        "date = 2024-09-30\ncontingent = true",
    );
    assert_contract_rejected(
        "order.toml",
        &source,
        &[
            &format!("order.toml:{line}:8:"),
            "`milestone.final.date`",
            "must be the last by date",
        ],
    );
}

#[test]
fn contract_values_that_would_overflow_are_refused_at_their_line() {
    for (from, to, fragments) in [
        (
            "price_per_student = \"1200.05\"",
            "price_per_student = \"99999999999999999999\"",
            &[
                "`price_per_student` = 99999999999999999999",
                "below 1000000000",
            ][..],
        ),
        (
            "date = 2024-10-15\nbase_share = \"0.50\"",
            "date = 2024-10-15\nbase_share = \"79228162514264337593543950335\"",
            &["base_share", "below 1000000000", "between 0 and 1"][..],
        ),
        (
            "\"6\" = \"8\"",
            "\"6\" = \"0.0000000000000000000000000001\"",
            &["outcome.projected", "more than 6 decimal places"][..],
        ),
        (
            "date = 2025-06-30",
            "date = 9999-06-30",
            &[
                "9999-06-30",
                "expected a date between 1900-01-01 and 2200-12-31",
            ][..],
        ),
    ] {
        let (source, mut line) = example_contract_with(from, to);
        if from.starts_with("date = 2024-10-15") {
            line += 1; // the base_share line
        }
        let at = format!("overflow.toml:{line}:");
        let mut expected = vec![at.as_str()];
        expected.extend_from_slice(fragments);
        assert_contract_rejected("overflow.toml", &source, &expected);
    }
}

#[test]
fn dates_on_the_command_line_must_lie_within_1900_and_2200() {
    let obc = with_contract();
    let expected = "expected a date between 1900-01-01 and 2200-12-31";
    let err = obc.fails(&[
        "report",
        "teacher-updates",
        "--contract",
        BASELINE_CONTRACT,
        "--week",
        "9999-12-27",
    ]);
    assert_mentions(&err, &["--week 9999-12-27", expected]);
    let err = obc.fails(&[
        "statement",
        "--contract",
        BASELINE_CONTRACT,
        "--milestone",
        "final",
        "--as-of",
        "9999-12-31",
    ]);
    assert_mentions(&err, &["as-of date 9999-12-31", expected]);
    let err = obc.fails(&[
        "progress",
        "--contract",
        BASELINE_CONTRACT,
        "--as-of",
        "1899-12-31",
    ]);
    assert_mentions(&err, &["--as-of 1899-12-31", expected]);
    let err = obc.fails(&[
        "meeting",
        "open",
        "--contract",
        BASELINE_CONTRACT,
        "--date",
        "9999-01-01",
    ]);
    assert_mentions(&err, &["--date 9999-01-01", expected]);
    assert!(!obc.audit().contains("meeting.open"));
}
