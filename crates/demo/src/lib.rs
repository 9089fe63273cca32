//! obc's demo data set: a fictional district, its tutoring provider and one outcomes-based
//! contract, written as the files a real program exchanges (OneRoster roster, MAP combined data
//! file, provider session log, enrollment list, contract TOML), so every import and every
//! statement rule can be tried without real student data.
//!
//! The output depends only on the seed: a hand-written SplitMix64 and integer-only arithmetic
//! make the files byte-identical across platforms and crate versions.

mod calendar;
mod gen;
mod rng;

use calendar::{iso, mdy, Day};
use gen::{Demo, Subject, RACES, SCHOOLS, TERMS};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use gen::{ENROLLED_STUDENTS, ROSTER_STUDENTS};

/// The demo contract's id.
pub const CONTRACT_ID: &str = "demo-math-2025";
/// The demo district's id (the `sourcedId` of its OneRoster district org).
pub const DISTRICT_ID: &str = "demo-district";
/// The demo tutoring provider's id.
pub const PROVIDER_ID: &str = "demo-tutoring";
const DISTRICT_NAME: &str = "Demo Unified School District";

/// What [`write_demo`] wrote, so a caller can import it and say what was generated.
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
    /// Students in the roster ([`ROSTER_STUDENTS`]).
    pub students: usize,
    /// Students enrolled in the contract ([`ENROLLED_STUDENTS`]).
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
        students: demo.students.len(),
        enrolled: demo
            .students
            .iter()
            .filter(|s| s.enrollment.is_some())
            .count(),
        session_count: demo.sessions.len(),
        assessment_count: demo.tests.len(),
    };
    fs::write(roster_dir.join("manifest.csv"), manifest())?;
    fs::write(roster_dir.join("orgs.csv"), orgs())?;
    fs::write(roster_dir.join("academicSessions.csv"), academic_sessions())?;
    fs::write(roster_dir.join("courses.csv"), courses())?;
    fs::write(roster_dir.join("classes.csv"), classes())?;
    fs::write(roster_dir.join("users.csv"), users(&demo))?;
    fs::write(roster_dir.join("enrollments.csv"), enrollments(&demo))?;
    fs::write(roster_dir.join("demographics.csv"), demographics(&demo))?;
    fs::write(&files.assessments, assessments(&demo))?;
    fs::write(&files.sessions, sessions(&demo))?;
    fs::write(&files.enrollment, enrollment(&demo))?;
    fs::write(&files.contract, CONTRACT)?;
    fs::write(&files.readme, readme(seed, &files))?;
    Ok(files)
}

/// A CSV document built in memory; fields are quoted only when they need it (RFC 4180).
struct Csv(String);

impl Csv {
    fn new(header: &str) -> Csv {
        Csv(format!("{header}\n"))
    }

    fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) {
        for (k, f) in fields.into_iter().enumerate() {
            if k > 0 {
                self.0.push(',');
            }
            let f = f.as_ref();
            if f.contains([',', '"', '\n', '\r']) {
                self.0.push('"');
                self.0.push_str(&f.replace('"', "\"\""));
                self.0.push('"');
            } else {
                self.0.push_str(f);
            }
        }
        self.0.push('\n');
    }
}

fn opt(x: Option<i64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

fn manifest() -> String {
    let mut c = Csv::new("propertyName,value");
    for (k, v) in [
        ("manifest.version", "1.0"),
        ("oneroster.version", "1.1"),
        ("file.academicSessions", "bulk"),
        ("file.categories", "absent"),
        ("file.classes", "bulk"),
        ("file.classResources", "absent"),
        ("file.courses", "bulk"),
        ("file.courseResources", "absent"),
        ("file.demographics", "bulk"),
        ("file.enrollments", "bulk"),
        ("file.lineItems", "absent"),
        ("file.orgs", "bulk"),
        ("file.resources", "absent"),
        ("file.results", "absent"),
        ("file.users", "bulk"),
        ("source.systemName", "obc-demo"),
        ("source.systemCode", "obc-demo"),
    ] {
        c.row([k, v]);
    }
    c.0
}

fn orgs() -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId");
    c.row([
        DISTRICT_ID,
        "",
        "",
        DISTRICT_NAME,
        "district",
        "0600001",
        "",
    ]);
    for s in &SCHOOLS {
        c.row([s.id, "", "", s.name, "school", s.nces, DISTRICT_ID]);
    }
    c.0
}

fn academic_sessions() -> String {
    let mut c = Csv::new(
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    );
    c.row([
        "as-2025",
        "",
        "",
        "2024-2025",
        "schoolYear",
        "2024-08-12",
        "2025-05-30",
        "",
        "2025",
    ]);
    c.row([
        "as-2025-s1",
        "",
        "",
        "Fall Semester 2024-2025",
        "semester",
        "2024-08-12",
        "2024-12-20",
        "as-2025",
        "2025",
    ]);
    c.row([
        "as-2025-s2",
        "",
        "",
        "Spring Semester 2024-2025",
        "semester",
        "2025-01-06",
        "2025-05-30",
        "as-2025",
        "2025",
    ]);
    c.0
}

/// The (school, grade) pairs that have a math class, in school order.
fn school_grades() -> Vec<(usize, u8)> {
    SCHOOLS
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.grades.iter().map(move |&g| (i, g)))
        .collect()
}

fn class_id(school: usize, grade: u8) -> String {
    format!(
        "cls-{}-math-{grade:02}",
        SCHOOLS[school].short.to_lowercase()
    )
}

fn courses() -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes");
    for g in 6..=9u8 {
        c.row([
            format!("crs-math-{g:02}"),
            String::new(),
            String::new(),
            "as-2025".into(),
            format!("Math {g}"),
            format!("MATH{g}"),
            format!("{g:02}"),
            DISTRICT_ID.into(),
            "Mathematics".into(),
            String::new(),
        ]);
    }
    c.0
}

fn classes() -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods");
    for (k, (s, g)) in school_grades().into_iter().enumerate() {
        c.row([
            class_id(s, g),
            String::new(),
            String::new(),
            format!("Math {g} ({})", SCHOOLS[s].name),
            format!("{g:02}"),
            format!("crs-math-{g:02}"),
            format!("MATH{g}-{}", SCHOOLS[s].short),
            "scheduled".into(),
            format!("Room {}", 101 + k),
            SCHOOLS[s].id.into(),
            "as-2025".into(),
            "Mathematics".into(),
            String::new(),
            String::new(),
        ]);
    }
    c.0
}

const TEACHERS: [(&str, &str); 10] = [
    ("Maria", "Alvarez"),
    ("James", "Carter"),
    ("Linda", "Nguyen"),
    ("Robert", "Okafor"),
    ("Susan", "Patel"),
    ("David", "Kowalski"),
    ("Karen", "Mendoza"),
    ("Michael", "Brooks"),
    ("Angela", "Choi"),
    ("Thomas", "Reed"),
];

/// Users: one math teacher per class, then the students in SIS id order.
fn users(demo: &Demo) -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password");
    for (k, (s, _)) in school_grades().into_iter().enumerate() {
        let (first, last) = TEACHERS[k % TEACHERS.len()];
        let user = format!("{}{}", &first[..1].to_lowercase(), last.to_lowercase());
        c.row([
            format!("tch-{:03}", k + 1),
            String::new(),
            String::new(),
            "true".into(),
            SCHOOLS[s].id.into(),
            "teacher".into(),
            user.clone(),
            String::new(),
            first.into(),
            last.into(),
            String::new(),
            format!("E{}", 10_001 + k),
            format!("{user}@demo-usd.example"),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for (k, st) in demo.students.iter().enumerate() {
        c.row([
            st.sourced_id.clone(),
            String::new(),
            String::new(),
            "true".into(),
            SCHOOLS[st.school].id.into(),
            "student".into(),
            format!(
                "{}{}{k}",
                &st.first[..1].to_lowercase(),
                st.last.to_lowercase()
            ),
            format!("{{SIS:{}}}", st.sis),
            st.first.into(),
            st.last.into(),
            String::new(),
            st.sis.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!("{:02}", st.grade),
            String::new(),
        ]);
    }
    c.0
}

fn enrollments(demo: &Demo) -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate");
    for (k, (s, g)) in school_grades().into_iter().enumerate() {
        let teacher = format!("tch-{:03}", k + 1);
        c.row([
            format!("enr-{teacher}"),
            String::new(),
            String::new(),
            class_id(s, g),
            SCHOOLS[s].id.into(),
            teacher,
            "teacher".into(),
            "true".into(),
            String::new(),
            String::new(),
        ]);
    }
    for st in &demo.students {
        c.row([
            format!("enr-{}", st.sourced_id),
            String::new(),
            String::new(),
            class_id(st.school, st.grade),
            SCHOOLS[st.school].id.into(),
            st.sourced_id.clone(),
            "student".into(),
            "false".into(),
            String::new(),
            String::new(),
        ]);
    }
    c.0
}

/// OneRoster 1.1 `demographics.csv` (keyed by the user's `sourcedId`), with three extension
/// columns after the standard ones for the flags obc targets on: `englishLearner`,
/// `disability` and `economicallyDisadvantaged` (`true`/`false`).
fn demographics(demo: &Demo) -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus,englishLearner,disability,economicallyDisadvantaged");
    let b = |x: bool| if x { "true" } else { "false" }.to_string();
    for st in &demo.students {
        let race = |name: &str| b(RACES[st.race] == name);
        c.row([
            st.sourced_id.clone(),
            String::new(),
            String::new(),
            iso(st.birth),
            if st.female { "female" } else { "male" }.into(),
            race("americanIndianOrAlaskaNative"),
            race("asian"),
            race("blackOrAfricanAmerican"),
            race("nativeHawaiianOrOtherPacificIslander"),
            race("white"),
            race("demographicRaceTwoOrMoreRaces"),
            b(st.hispanic),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            b(st.english_learner),
            b(st.disability),
            b(st.econ_disadvantaged),
        ]);
    }
    c.0
}

/// The MAP combined data file, ordered as MAP exports are: term, school, student, subject.
fn assessments(demo: &Demo) -> String {
    let mut c = Csv::new("TermName,DistrictName,SchoolName,StudentLastName,StudentFirstName,StudentID,Grade,Subject,Course,TestType,TestName,TestStartDate,TestDurationMinutes,TestRITScore,TestStandardError,TestPercentile,FallToSpringProjectedGrowth,FallToSpringObservedGrowth,FallToWinterProjectedGrowth,FallToWinterObservedGrowth,FallToSpringConditionalGrowthPercentile,FallToWinterConditionalGrowthPercentile,RapidGuessingPercentage");
    let mut tests: Vec<&gen::Test> = demo.tests.iter().collect();
    tests.sort_by_key(|t| {
        let st = &demo.students[t.student];
        (t.term, SCHOOLS[st.school].name, &st.sis, t.subject, t.date)
    });
    for t in tests {
        let st = &demo.students[t.student];
        let (course, name) = match t.subject {
            Subject::Mathematics => ("Math", "Growth: Math 6+ CCSS 2010"),
            Subject::Reading => ("Reading", "Growth: Reading 6+ CCSS 2010"),
        };
        c.row([
            format!("{} 2024-2025", TERMS[t.term]),
            DISTRICT_NAME.into(),
            SCHOOLS[st.school].name.into(),
            st.last.into(),
            st.first.into(),
            st.sis.clone(),
            st.grade.to_string(),
            t.subject.as_str().into(),
            format!("{course} {}", st.grade),
            "Survey With Goals".into(),
            name.into(),
            mdy(t.date),
            t.duration.to_string(),
            t.rit.to_string(),
            format!("{}.{}", t.se_tenths / 10, t.se_tenths % 10),
            t.percentile.to_string(),
            opt(t.proj_fs),
            opt(t.obs_fs),
            opt(t.proj_fw),
            opt(t.obs_fw),
            opt(t.cgp_fs),
            opt(t.cgp_fw),
            t.rapid.to_string(),
        ]);
    }
    c.0
}

/// The provider's log, one row per planned session and student, by student then date.
fn sessions(demo: &Demo) -> String {
    let mut c = Csv::new("session_id,student_id,tutor_id,date,minutes,status,group_size");
    let mut rows: Vec<&gen::Session> = demo.sessions.iter().collect();
    rows.sort_by_key(|s| (&demo.students[s.student].sis, s.date));
    for (k, s) in rows.into_iter().enumerate() {
        c.row([
            format!("ses-{:08}", k + 1),
            demo.students[s.student].sis.clone(),
            demo.tutors[s.tutor].id.clone(),
            iso(s.date),
            s.minutes.to_string(),
            s.status.as_str().into(),
            s.group_size.to_string(),
        ]);
    }
    c.0
}

fn enrollment(demo: &Demo) -> String {
    let mut c = Csv::new("student_id,start_date,end_date");
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
        c.row([id.to_string(), iso(start), end.map(iso).unwrap_or_default()]);
    }
    c.0
}

/// The contract: SPEC section 4's example with the demo's parties and a cap that does not bind.
const CONTRACT: &str = r#"# Demo contract written by obc-demo (the shape of SPEC section 4).
id = "demo-math-2025"
district = "demo-district"
provider = "demo-tutoring"
period = { start = 2024-08-12, end = 2025-05-30 }
subject = "Mathematics"
price_per_student = "1200.00"
contingent_share = "0.40"
not_to_exceed = "720000.00"       # 600 students x 1200.00

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
max_rapid_guessing = "0.30"

[outcome.projected]               # used only where the MAP file has no projection
"6" = "7.5"
"7" = "6.5"
"8" = "5.5"
"9" = "5.0"

[[rate_card]]
name = "exceeds"
min = "1.50"
pays = "1.25"

[[rate_card]]
name = "meets"
min = "1.00"
pays = "1.00"

[[rate_card]]
name = "approaching"
min = "0.50"
pays = "0.50"

[[rate_card]]
name = "below"
min = "-inf"
pays = "0.00"

[[milestone]]
name = "enrollment"
date = 2024-10-15
base_share = "0.50"

[[milestone]]
name = "midyear"
date = 2025-01-31
base_share = "0.50"

[[milestone]]
name = "final"
date = 2025-06-30
contingent = true

[[school_adjustment]]
school = "*"
measure = "median_growth_vs_projected"
bands = [
  { min = "1.20", adjust = "0.10" },
  { min = "0.80", adjust = "0.00" },
  { min = "-inf", adjust = "-0.10" },
]
"#;

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
