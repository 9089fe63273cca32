//! NWEA's own sample exports (`shared/samples/map/`) through the real binary: their
//! StudentsBySchool roster, and their combined data file where one sitting holds two tests
//! (a growth test and an end-of-course one, `GrowthMeasureYN` FALSE) told apart by `TestID`.

use crate::support::{Obc, Table, SHARED};

fn sample(name: &str) -> String {
    format!("{SHARED}/samples/map/{name}")
}

/// A reading contract of the sample district's 2013-2014 school year.
const CONTRACT: &str = r#"id = "nwea-reading"
district = "nwea"
provider = "brightpath"
period = { start = 2013-08-15, end = 2014-06-13 }
subject = "Reading"
price_per_student = "1000.00"
contingent_share = "0.40"
not_to_exceed = "100000.00"

[attendance]
min_rate = "0.70"
min_offered = 20
responsible = "district"

[provider_duties]
min_same_tutor_rate = "0.80"
max_provider_cancel_rate = "0.10"

[outcome]
assessment = "MAP Growth"
from_term = "Fall"
to_term = "Spring"
measure = "growth_vs_projected"
missing_score = "district"

[[rate_card]]
name = "meets"
min = "1.00"
pays = "1.00"

[[rate_card]]
name = "below"
min = "-inf"
pays = "0.00"

[[milestone]]
name = "start"
date = 2013-10-01
base_share = "1.00"

[[milestone]]
name = "final"
date = 2014-06-30
contingent = true
"#;

#[test]
fn two_tests_of_one_sitting_are_kept_and_the_growth_test_counts() {
    let obc = Obc::init();
    let out = obc.ok(&[
        "import",
        "roster",
        &sample("StudentsBySchool.csv"),
        "--district",
        "nwea",
    ]);
    // Grade 13 (NWEA's sample uses it) is in the vocabulary; every school is new and named.
    assert!(out.contains("4 new schools"), "{out}");
    assert!(out.contains("Mt. Hood High School"), "{out}");
    let out = obc.ok(&["import", "assessments", &sample("AssessmentResults.csv")]);
    // Every row is its own test: 9,091 rows, 9,091 tests.
    assert!(out.contains("9091 rows read, 9091 added"), "{out}");

    // F08000096 sat Reading in fall and in spring, each time a growth test first and an
    // end-of-course test (GrowthMeasureYN FALSE) of the same date and start time after it.
    let sessions: String =
        std::iter::once("session_id,student_id,tutor_id,date,minutes,status\n".to_string())
            .chain((1..=20).map(|i| format!("s{i},F08000096,t1,2013-10-{i:02},30,attended\n")))
            .collect();
    obc.write("sessions.csv", sessions);
    obc.ok(&[
        "import",
        "sessions",
        "sessions.csv",
        "--provider",
        "brightpath",
    ]);
    obc.write("contract.toml", CONTRACT);
    obc.ok(&["contract", "add", "contract.toml"]);
    obc.write(
        "enrollment.csv",
        "student_id,start_date\nF08000096,2013-09-01\n",
    );
    obc.ok(&["enroll", "--contract", "nwea-reading", "enrollment.csv"]);
    let statement = obc.ok(&[
        "statement",
        "--contract",
        "nwea-reading",
        "--milestone",
        "final",
        "--format",
        "csv",
    ]);
    let table = Table::parse(&statement);
    let line = table.row("F08000096");
    // The growth tests count: fall 157 (projected growth 17), spring 177.
    assert_eq!(line["baseline"], "157", "{statement}");
    assert_eq!(line["outcome"], "177");
    assert_eq!(line["observed_growth"], "20");
    assert_eq!(line["projected_growth"], "17");
    assert_eq!(line["rule"], "tier:meets");
    assert_eq!(line["contingent_amount"], "400.00");

    // Importing the same file again changes nothing.
    let out = obc.ok(&["import", "assessments", &sample("AssessmentResults.csv")]);
    assert!(out.contains("0 added, 0 replaced, 9091 unchanged"), "{out}");
}
