//! The file formats both generators write (the 900-student demo and the state-scale data set):
//! one CSV writer over any `io::Write`, and one writer per kind of row, so the two data sets
//! can never drift apart in what the importers receive.

use crate::calendar::{iso, mdy, Day};
use std::io::{self, Write};

/// A CSV file written row by row; fields are quoted only when they need it (RFC 4180).
pub(crate) struct CsvWriter<W: Write> {
    out: W,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(mut out: W, header: &str) -> io::Result<Self> {
        out.write_all(header.as_bytes())?;
        out.write_all(b"\n")?;
        Ok(CsvWriter { out })
    }

    pub fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) -> io::Result<()> {
        for (k, f) in fields.into_iter().enumerate() {
            if k > 0 {
                self.out.write_all(b",")?;
            }
            let f = f.as_ref();
            if f.contains([',', '"', '\n', '\r']) {
                self.out.write_all(b"\"")?;
                self.out.write_all(f.replace('"', "\"\"").as_bytes())?;
                self.out.write_all(b"\"")?;
            } else {
                self.out.write_all(f.as_bytes())?;
            }
        }
        self.out.write_all(b"\n")
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A CSV document built in memory (the demo's files are small).
pub(crate) struct Csv(CsvWriter<Vec<u8>>);

impl Csv {
    pub fn new(header: &str) -> Csv {
        Csv(CsvWriter::new(Vec::new(), header).expect("writing to memory cannot fail"))
    }

    pub fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) {
        self.0.row(fields).expect("writing to memory cannot fail");
    }

    /// The writer, for the row writers shared with the streaming generator.
    pub fn writer(&mut self) -> &mut CsvWriter<Vec<u8>> {
        &mut self.0
    }

    pub fn into_string(self) -> String {
        let bytes = self.0.finish().expect("writing to memory cannot fail");
        String::from_utf8(bytes).expect("the fields are UTF-8")
    }
}

/// A school as the roster files describe it.
pub(crate) struct School<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// A short code, used in class ids and class codes.
    pub short: &'a str,
    pub nces: &'a str,
    pub grades: &'a [u8],
}

/// The district whose roster is written.
pub(crate) struct District<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub nces: &'a str,
    /// The domain of the teachers' e-mail addresses.
    pub email_domain: &'a str,
}

pub(crate) fn manifest() -> String {
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
    c.into_string()
}

pub(crate) fn orgs(district: &District, schools: &[School]) -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId");
    c.row([
        district.id,
        "",
        "",
        district.name,
        "district",
        district.nces,
        "",
    ]);
    for s in schools {
        c.row([s.id, "", "", s.name, "school", s.nces, district.id]);
    }
    c.into_string()
}

/// The 2024-2025 school year and its two semesters.
pub(crate) fn academic_sessions() -> String {
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
    c.into_string()
}

/// The (school, grade) pairs that have a math class, in school order; the k-th has the class
/// taught by the k-th teacher.
fn school_grades<'a>(schools: &'a [School<'a>]) -> impl Iterator<Item = (&'a School<'a>, u8)> {
    schools
        .iter()
        .flat_map(|s| s.grades.iter().map(move |&g| (s, g)))
}

fn class_id(school: &School, grade: u8) -> String {
    format!("cls-{}-math-{grade:02}", school.short.to_lowercase())
}

/// One math course per grade.
pub(crate) fn courses(district: &District, grades: impl IntoIterator<Item = u8>) -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes");
    for g in grades {
        c.row([
            format!("crs-math-{g:02}"),
            String::new(),
            String::new(),
            "as-2025".into(),
            format!("Math {g}"),
            format!("MATH{g}"),
            format!("{g:02}"),
            district.id.into(),
            "Mathematics".into(),
            String::new(),
        ]);
    }
    c.into_string()
}

/// One math class per school and grade.
pub(crate) fn classes(schools: &[School]) -> String {
    let mut c = Csv::new("sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods");
    for (k, (s, g)) in school_grades(schools).enumerate() {
        c.row([
            class_id(s, g),
            String::new(),
            String::new(),
            format!("Math {g} ({})", s.name),
            format!("{g:02}"),
            format!("crs-math-{g:02}"),
            format!("MATH{g}-{}", s.short),
            "scheduled".into(),
            format!("Room {}", 101 + k),
            s.id.into(),
            "as-2025".into(),
            "Mathematics".into(),
            String::new(),
            String::new(),
        ]);
    }
    c.into_string()
}

pub(crate) const USERS_HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password";
pub(crate) const ENROLLMENTS_HEADER: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate";

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

fn teacher_id(k: usize) -> String {
    format!("tch-{:03}", k + 1)
}

/// The `users.csv` rows of the teachers: one math teacher per class.
pub(crate) fn teacher_users<W: Write>(
    c: &mut CsvWriter<W>,
    district: &District,
    schools: &[School],
) -> io::Result<()> {
    for (k, (s, _)) in school_grades(schools).enumerate() {
        let (first, last) = TEACHERS[k % TEACHERS.len()];
        let user = format!("{}{}", &first[..1].to_lowercase(), last.to_lowercase());
        c.row([
            teacher_id(k),
            String::new(),
            String::new(),
            "true".into(),
            s.id.into(),
            "teacher".into(),
            user.clone(),
            String::new(),
            first.into(),
            last.into(),
            String::new(),
            format!("E{}", 10_001 + k),
            format!("{user}@{}", district.email_domain),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ])?;
    }
    Ok(())
}

/// The `enrollments.csv` rows of the teachers in their classes.
pub(crate) fn teacher_enrollments<W: Write>(
    c: &mut CsvWriter<W>,
    schools: &[School],
) -> io::Result<()> {
    for (k, (s, g)) in school_grades(schools).enumerate() {
        let teacher = teacher_id(k);
        c.row([
            format!("enr-{teacher}"),
            String::new(),
            String::new(),
            class_id(s, g),
            s.id.into(),
            teacher,
            "teacher".into(),
            "true".into(),
            String::new(),
            String::new(),
        ])?;
    }
    Ok(())
}

/// A student as the roster files describe them.
pub(crate) struct RosterStudent<'a> {
    pub sourced_id: &'a str,
    /// The district's SIS id (`identifier`), the id every other file uses.
    pub sis: &'a str,
    pub username: &'a str,
    pub first: &'a str,
    pub last: &'a str,
    pub grade: u8,
    pub birth: Day,
    pub female: bool,
    pub hispanic: bool,
    /// OneRoster's name of the student's race column.
    pub race: &'a str,
    pub english_learner: bool,
    pub disability: bool,
    pub econ_disadvantaged: bool,
}

impl RosterStudent<'_> {
    /// The student's `users.csv` row.
    pub fn write_user<W: Write>(&self, c: &mut CsvWriter<W>, school: &School) -> io::Result<()> {
        c.row([
            self.sourced_id,
            "",
            "",
            "true",
            school.id,
            "student",
            self.username,
            &format!("{{SIS:{}}}", self.sis),
            self.first,
            self.last,
            "",
            self.sis,
            "",
            "",
            "",
            "",
            &format!("{:02}", self.grade),
            "",
        ])
    }

    /// The student's `enrollments.csv` row: the math class of their school and grade.
    pub fn write_enrollment<W: Write>(
        &self,
        c: &mut CsvWriter<W>,
        school: &School,
    ) -> io::Result<()> {
        c.row([
            &format!("enr-{}", self.sourced_id),
            "",
            "",
            &class_id(school, self.grade),
            school.id,
            self.sourced_id,
            "student",
            "false",
            "",
            "",
        ])
    }

    /// The student's `demographics.csv` row.
    pub fn write_demographics<W: Write>(&self, c: &mut CsvWriter<W>) -> io::Result<()> {
        let b = |x: bool| if x { "true" } else { "false" };
        let race = |name: &str| b(self.race == name);
        c.row([
            self.sourced_id,
            "",
            "",
            &iso(self.birth),
            if self.female { "female" } else { "male" },
            race("americanIndianOrAlaskaNative"),
            race("asian"),
            race("blackOrAfricanAmerican"),
            race("nativeHawaiianOrOtherPacificIslander"),
            race("white"),
            race("demographicRaceTwoOrMoreRaces"),
            b(self.hispanic),
            "",
            "",
            "",
            "",
            b(self.english_learner),
            b(self.disability),
            b(self.econ_disadvantaged),
        ])
    }
}

/// OneRoster 1.1 `demographics.csv` (keyed by the user's `sourcedId`), with three extension
/// columns after the standard ones for the flags obc targets on: `englishLearner`,
/// `disability` and `economicallyDisadvantaged` (`true`/`false`).
pub(crate) const DEMOGRAPHICS_HEADER: &str = "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus,englishLearner,disability,economicallyDisadvantaged";

/// The MAP combined data file's columns that the generators fill.
/// The largest whole-dollar NTE obc accepts (contract values stay below $1,000,000,000), so a
/// state-scale contract of a million students is still a valid contract.
const MAX_NTE: usize = 999_999_999;

pub(crate) const ASSESSMENTS_HEADER: &str = "TermName,DistrictName,SchoolName,StudentLastName,StudentFirstName,StudentID,Grade,Subject,Course,TestType,TestName,TestStartDate,TestDurationMinutes,TestRITScore,TestStandardError,TestPercentile,FallToSpringProjectedGrowth,FallToSpringObservedGrowth,FallToWinterProjectedGrowth,FallToWinterObservedGrowth,FallToSpringConditionalGrowthPercentile,FallToWinterConditionalGrowthPercentile,RapidGuessingPercentage";

/// One row of the MAP combined data file.
pub(crate) struct MapRow<'a> {
    /// `Fall`, `Winter` or `Spring` (of 2024-2025).
    pub term: &'a str,
    pub district: &'a str,
    pub school: &'a str,
    pub last: &'a str,
    pub first: &'a str,
    pub student: &'a str,
    pub grade: u8,
    /// `Mathematics` or `Reading`.
    pub subject: &'a str,
    pub date: Day,
    pub duration: i64,
    pub rit: i64,
    pub se_tenths: i64,
    pub percentile: i64,
    pub proj_fs: Option<i64>,
    pub obs_fs: Option<i64>,
    pub proj_fw: Option<i64>,
    pub obs_fw: Option<i64>,
    pub cgp_fs: Option<i64>,
    pub cgp_fw: Option<i64>,
    pub rapid: i64,
}

fn opt(x: Option<i64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

impl MapRow<'_> {
    /// The row's fields in [`ASSESSMENTS_HEADER`]'s order.
    pub fn fields(&self) -> Vec<String> {
        let course = match self.subject {
            "Reading" => "Reading",
            _ => "Math",
        };
        let level = if self.grade < 6 { "2-5" } else { "6+" };
        let name = format!("Growth: {course} {level} CCSS 2010");
        vec![
            format!("{} 2024-2025", self.term),
            self.district.into(),
            self.school.into(),
            self.last.into(),
            self.first.into(),
            self.student.into(),
            self.grade.to_string(),
            self.subject.into(),
            format!("{course} {}", self.grade),
            "Survey With Goals".into(),
            name,
            mdy(self.date),
            self.duration.to_string(),
            self.rit.to_string(),
            format!("{}.{}", self.se_tenths / 10, self.se_tenths % 10),
            self.percentile.to_string(),
            opt(self.proj_fs),
            opt(self.obs_fs),
            opt(self.proj_fw),
            opt(self.obs_fw),
            opt(self.cgp_fs),
            opt(self.cgp_fw),
            self.rapid.to_string(),
        ]
    }
}

pub(crate) const SESSIONS_HEADER: &str =
    "session_id,student_id,tutor_id,date,minutes,status,group_size";

/// One row of a provider's session log.
pub(crate) struct SessionRow<'a> {
    pub id: &'a str,
    pub student: &'a str,
    pub tutor: &'a str,
    pub date: &'a str,
    pub minutes: u32,
    pub status: &'a str,
    pub group_size: usize,
}

impl SessionRow<'_> {
    pub fn write<W: Write>(&self, c: &mut CsvWriter<W>) -> io::Result<()> {
        c.row([
            self.id,
            self.student,
            self.tutor,
            self.date,
            &self.minutes.to_string(),
            self.status,
            &self.group_size.to_string(),
        ])
    }
}

pub(crate) const ENROLLMENT_HEADER: &str = "student_id,start_date,end_date";

/// One row of a contract's enrollment list.
pub(crate) fn write_enrollment<W: Write>(
    c: &mut CsvWriter<W>,
    student: &str,
    start: Day,
    end: Option<Day>,
) -> io::Result<()> {
    c.row([student, &iso(start), &end.map(iso).unwrap_or_default()])
}

/// A contract in the shape of SPEC section 4: $1,200 per student, 40% contingent on attendance,
/// tutor continuity and fall-to-spring growth against projection, three milestones, a cap of
/// `students` x the price, and `projected` (grade, RIT) where the MAP file has no projection.
pub(crate) struct ContractDoc<'a> {
    /// The first comment line (who wrote it).
    pub title: &'a str,
    pub id: &'a str,
    pub district: &'a str,
    pub provider: &'a str,
    pub students: usize,
    pub projected: &'a [(u8, &'a str)],
}

impl ContractDoc<'_> {
    pub fn toml(&self) -> String {
        let mut projected = String::new();
        for (grade, rit) in self.projected {
            projected.push_str(&format!("\"{grade}\" = \"{rit}\"\n"));
        }
        format!(
            r#"# {title}
id = "{id}"
district = "{district}"
provider = "{provider}"
period = {{ start = 2024-08-12, end = 2025-05-30 }}
subject = "Mathematics"
price_per_student = "1200.00"
contingent_share = "0.40"
not_to_exceed = "{nte}.00"       # {nte_note}

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
{projected}
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
  {{ min = "1.20", adjust = "0.10" }},
  {{ min = "0.80", adjust = "0.00" }},
  {{ min = "-inf", adjust = "-0.10" }},
]
"#,
            title = self.title,
            id = self.id,
            district = self.district,
            provider = self.provider,
            nte = self.students.saturating_mul(1200).min(MAX_NTE),
            nte_note = if self.students.saturating_mul(1200) > MAX_NTE {
                format!(
                    "{} students x 1200.00 is above obc's bound for a contract value: the cap binds",
                    self.students
                )
            } else {
                format!("{} students x 1200.00", self.students)
            },
        )
    }
}
