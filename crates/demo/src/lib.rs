//! obc's demo data set: a fictional district, its tutoring provider and one outcomes-based
//! contract, written as the files a real program exchanges (OneRoster roster, MAP combined data
//! file, provider session log, enrollment list, contract TOML), so every import and every
//! statement rule can be tried without real student data.
//!
//! The output depends only on the seed: a hand-written SplitMix64 and integer-only arithmetic
//! make the files byte-identical across platforms and crate versions.

mod calendar;
mod formats;
mod gen;
mod rng;
mod scale;

use calendar::{iso, Day};
use formats::{
    academic_sessions, classes, courses, manifest, orgs, teacher_enrollments, teacher_users,
    write_enrollment, ContractDoc, Csv, District, MapRow, RosterStudent, School, SessionRow,
    ASSESSMENTS_HEADER, DEMOGRAPHICS_HEADER, ENROLLMENTS_HEADER, ENROLLMENT_HEADER,
    SESSIONS_HEADER, USERS_HEADER,
};
use gen::{Demo, RACES, SCHOOLS, TERMS};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use gen::{ENROLLED_STUDENTS, ROSTER_STUDENTS};
pub use scale::{
    write_state, STATE_CONTRACT_ID, STATE_DISTRICT_ID, STATE_PROVIDER_ID, STATE_STUDENTS,
};

/// The demo contract's id.
pub const CONTRACT_ID: &str = "demo-math-2025";
/// The demo district's id (the `sourcedId` of its OneRoster district org).
pub const DISTRICT_ID: &str = "demo-district";
/// The demo tutoring provider's id.
pub const PROVIDER_ID: &str = "demo-tutoring";
const DISTRICT_NAME: &str = "Demo Unified School District";

/// What [`write_demo`] or [`write_state`] wrote, so a caller can import it and say what was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFiles {
    pub dir: PathBuf,
    /// The OneRoster 1.1 CSV folder.
    pub roster_dir: PathBuf,
    /// The MAP Growth combined data file (`AssessmentResults.csv`).
    pub assessments: PathBuf,
    /// The provider's session log (`sessions.csv`).
    pub sessions: PathBuf,
    /// The contract's enrollment list (`enrollment.csv`).
    pub enrollment: PathBuf,
    /// The contract document (`contract.toml`).
    pub contract: PathBuf,
    pub readme: PathBuf,
    pub contract_id: String,
    pub district_id: String,
    pub provider_id: String,
    /// Schools in the roster.
    pub schools: usize,
    /// Students in the roster ([`ROSTER_STUDENTS`] in the demo).
    pub students: usize,
    /// Students enrolled in the contract ([`ENROLLED_STUDENTS`] in the demo).
    pub enrolled: usize,
    /// Rows of `sessions.csv`.
    pub session_count: usize,
    /// Rows of `AssessmentResults.csv`.
    pub assessment_count: usize,
}

/// Writes the demo data set for `seed` into `dir` (created if missing; existing files of the
/// same names are replaced). The same seed always writes byte-identical files.
pub fn write_demo(dir: &Path, seed: u64) -> io::Result<DemoFiles> {
    let demo = gen::generate(seed);
    let roster_dir = dir.join("roster");
    fs::create_dir_all(&roster_dir)?;
    let files = DemoFiles {
        dir: dir.to_path_buf(),
        roster_dir: roster_dir.clone(),
        assessments: dir.join("AssessmentResults.csv"),
        sessions: dir.join("sessions.csv"),
        enrollment: dir.join("enrollment.csv"),
        contract: dir.join("contract.toml"),
        readme: dir.join("README.md"),
        contract_id: CONTRACT_ID.to_string(),
        district_id: DISTRICT_ID.to_string(),
        provider_id: PROVIDER_ID.to_string(),
        schools: SCHOOLS.len(),
        students: demo.students.len(),
        enrolled: demo
            .students
            .iter()
            .filter(|s| s.enrollment.is_some())
            .count(),
        session_count: demo.sessions.len(),
        assessment_count: demo.tests.len(),
    };
    for (name, text) in roster_files(&demo) {
        fs::write(roster_dir.join(name), text)?;
    }
    fs::write(&files.assessments, assessments(&demo))?;
    fs::write(&files.sessions, sessions(&demo))?;
    fs::write(&files.enrollment, enrollment(&demo))?;
    fs::write(&files.contract, contract())?;
    fs::write(&files.readme, readme(seed, &files))?;
    Ok(files)
}

/// The demo district's schools, as the roster files describe them.
fn schools() -> Vec<School<'static>> {
    SCHOOLS
        .iter()
        .map(|s| School {
            id: s.id,
            name: s.name,
            short: s.short,
            nces: s.nces,
            grades: s.grades,
        })
        .collect()
}

const DISTRICT: District = District {
    id: DISTRICT_ID,
    name: DISTRICT_NAME,
    nces: "0600001",
    email_domain: "demo-usd.example",
};

fn roster_student<'a>(st: &'a gen::Student, username: &'a str) -> RosterStudent<'a> {
    RosterStudent {
        sourced_id: &st.sourced_id,
        sis: &st.sis,
        username,
        first: st.first,
        last: st.last,
        grade: st.grade,
        birth: st.birth,
        female: st.female,
        hispanic: st.hispanic,
        race: RACES[st.race],
        english_learner: st.english_learner,
        disability: st.disability,
        econ_disadvantaged: st.econ_disadvantaged,
    }
}

/// Every roster file of the demo: (file name, contents).
fn roster_files(demo: &Demo) -> Vec<(&'static str, String)> {
    let schools = schools();
    let mut users = Csv::new(USERS_HEADER);
    let mut enrollments = Csv::new(ENROLLMENTS_HEADER);
    let mut demographics = Csv::new(DEMOGRAPHICS_HEADER);
    teacher_users(users.writer(), &DISTRICT, &schools).expect("writing to memory");
    teacher_enrollments(enrollments.writer(), &schools).expect("writing to memory");
    for (k, st) in demo.students.iter().enumerate() {
        let username = format!(
            "{}{}{k}",
            &st.first[..1].to_lowercase(),
            st.last.to_lowercase()
        );
        let student = roster_student(st, &username);
        let school = &schools[st.school];
        student
            .write_user(users.writer(), school)
            .expect("writing to memory");
        student
            .write_enrollment(enrollments.writer(), school)
            .expect("writing to memory");
        student
            .write_demographics(demographics.writer())
            .expect("writing to memory");
    }
    vec![
        ("manifest.csv", manifest()),
        ("orgs.csv", orgs(&DISTRICT, &schools)),
        ("academicSessions.csv", academic_sessions()),
        ("courses.csv", courses(&DISTRICT, 6..=9)),
        ("classes.csv", classes(&schools)),
        ("users.csv", users.into_string()),
        ("enrollments.csv", enrollments.into_string()),
        ("demographics.csv", demographics.into_string()),
    ]
}

/// The MAP combined data file, ordered as MAP exports are: term, school, student, subject.
fn assessments(demo: &Demo) -> String {
    let mut c = Csv::new(ASSESSMENTS_HEADER);
    let mut tests: Vec<&gen::Test> = demo.tests.iter().collect();
    tests.sort_by_key(|t| {
        let st = &demo.students[t.student];
        (t.term, SCHOOLS[st.school].name, &st.sis, t.subject, t.date)
    });
    for t in tests {
        let st = &demo.students[t.student];
        let row = MapRow {
            term: TERMS[t.term],
            district: DISTRICT_NAME,
            school: SCHOOLS[st.school].name,
            last: st.last,
            first: st.first,
            student: &st.sis,
            grade: st.grade,
            subject: t.subject.as_str(),
            date: t.date,
            duration: t.duration,
            rit: t.rit,
            se_tenths: t.se_tenths,
            percentile: t.percentile,
            proj_fs: t.proj_fs,
            obs_fs: t.obs_fs,
            proj_fw: t.proj_fw,
            obs_fw: t.obs_fw,
            cgp_fs: t.cgp_fs,
            cgp_fw: t.cgp_fw,
            rapid: t.rapid,
        };
        c.row(row.fields());
    }
    c.into_string()
}

/// The provider's log, one row per planned session and student, by student then date.
fn sessions(demo: &Demo) -> String {
    let mut c = Csv::new(SESSIONS_HEADER);
    let mut rows: Vec<&gen::Session> = demo.sessions.iter().collect();
    rows.sort_by_key(|s| (&demo.students[s.student].sis, s.date));
    for (k, s) in rows.into_iter().enumerate() {
        SessionRow {
            id: &format!("ses-{:08}", k + 1),
            student: &demo.students[s.student].sis,
            tutor: &demo.tutors[s.tutor].id,
            date: &iso(s.date),
            minutes: s.minutes,
            status: s.status.as_str(),
            group_size: s.group_size,
        }
        .write(c.writer())
        .expect("writing to memory");
    }
    c.into_string()
}

fn enrollment(demo: &Demo) -> String {
    let mut c = Csv::new(ENROLLMENT_HEADER);
    let mut rows: Vec<(&str, Day, Option<Day>)> = demo
        .students
        .iter()
        .filter_map(|s| {
            s.enrollment
                .as_ref()
                .map(|e| (s.sis.as_str(), e.start, e.end))
        })
        .collect();
    rows.sort();
    for (id, start, end) in rows {
        write_enrollment(c.writer(), id, start, end).expect("writing to memory");
    }
    c.into_string()
}

/// The contract: SPEC section 4's example with the demo's parties and a cap that does not bind.
fn contract() -> String {
    ContractDoc {
        title: "Demo contract written by obc-demo (the shape of SPEC section 4).",
        id: CONTRACT_ID,
        district: DISTRICT_ID,
        provider: PROVIDER_ID,
        students: ENROLLED_STUDENTS,
        projected: &[(6, "7.5"), (7, "6.5"), (8, "5.5"), (9, "5.0")],
    }
    .toml()
}

fn readme(seed: u64, f: &DemoFiles) -> String {
    format!(
        "# obc demo data (seed {seed}): fictional, no real students\n\
- `roster/`: OneRoster 1.1 CSV of `{DISTRICT_ID}` ({DISTRICT_NAME}): 4 schools, {} students in grades 06-09 (`identifier` = SIS id), 10 teachers; `demographics.csv` adds `englishLearner`, `disability`, `economicallyDisadvantaged`.\n\
- `AssessmentResults.csv`: MAP Growth combined data file, 2024-2025, Fall/Winter/Spring, Mathematics (and some Reading), {} rows: a few missing tests, retests, rapid guessing >= 30%, blank projections.\n\
- `sessions.csv`: `{PROVIDER_ID}`'s log of {} planned sessions (twice a week, groups of 1-5) with all four statuses and `group_size`.\n\
- `enrollment.csv`: the {} students (the lowest on last year's screener) placed in the contract, with start and end dates.\n\
- `contract.toml`: `{CONTRACT_ID}`, $1,200 per student, 40% contingent on attendance, tutor continuity and fall-to-spring growth vs projection.\n\
- Built so the final statement shows every rule: district_fault, provider_fault, excluded, each tier, and each school adjustment band.\n\
- Try: import the roster, MAP file, contract, enrollment and sessions, then evaluate the milestones `enrollment`, `midyear` and `final`.\n\
- The same seed always writes byte-identical files (`obc-demo` uses its own PRNG and integer arithmetic).\n\
- Names, ids and scores are simulated; any resemblance to real students is coincidental.\n",
        f.students, f.assessment_count, f.session_count, f.enrolled
    )
}
