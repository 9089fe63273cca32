//! The state-scale data set (`obc demo --students N --export DIR`): one district of N students
//! in tens to hundreds of schools, written in the demo's formats (OneRoster roster, MAP combined
//! data file with `TestID`s, provider session log, enrollment list, contract) so that imports
//! and statements can be measured at the size a state runs.
//!
//! Streaming: only the students (a few dozen bytes each) and the tutoring groups are kept in
//! memory; sessions and tests are drawn student by student and written at once. Every student,
//! and every group's day, draws from its own forked stream, so the files depend only on the
//! seed and N.

use crate::calendar::{is_school_day, iso, weekday, ymd, Day, PROGRAM_END, PROGRAM_START};
use crate::formats::{
    academic_sessions, classes, courses, manifest, orgs, teacher_enrollments, teacher_users,
    write_enrollment, ContractDoc, CsvWriter, District, MapRow, RosterStudent, School, SessionRow,
    ASSESSMENTS_HEADER, DEMOGRAPHICS_HEADER, ENROLLMENTS_HEADER, ENROLLMENT_HEADER,
    SESSIONS_HEADER, USERS_HEADER,
};
use crate::gen::{
    growth_multiplier, school_day_in, uuid, Norms, Status, Subject, TestTaker, FEMALE, LAST, MALE,
    RACES, RACE_WEIGHTS, TERMS,
};
use crate::rng::Rng;
use crate::DemoFiles;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::ops::{Range, RangeInclusive};
use std::path::Path;

/// The state-scale contract's id.
pub const STATE_CONTRACT_ID: &str = "state-math-2025";
/// The state-scale district's id.
pub const STATE_DISTRICT_ID: &str = "state-district";
/// The state-scale tutoring provider's id.
pub const STATE_PROVIDER_ID: &str = "state-tutoring";
/// How many students a state-scale data set may have.
pub const STATE_STUDENTS: RangeInclusive<usize> = 10..=10_000_000;

const DISTRICT: District = District {
    id: STATE_DISTRICT_ID,
    name: "State Consolidated School District",
    nces: "0600002",
    email_domain: "state-csd.example",
};
const GRADES: RangeInclusive<u8> = 3..=8;
const GRADE_LIST: [u8; 6] = [3, 4, 5, 6, 7, 8];
/// Students per school, on average.
const STUDENTS_PER_SCHOOL: usize = 2000;
const SCHOOL_COUNT: RangeInclusive<usize> = 3..=500;
/// Enrolled students per tutor, on average.
const STUDENTS_PER_TUTOR: usize = 100;

/// Writes a state-scale data set of `students` students for `seed` into `dir` (created if
/// missing). `progress(done, total)` is called as the work advances. The same seed and size
/// always write byte-identical files.
pub fn write_state(
    dir: &Path,
    students: usize,
    seed: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> io::Result<DemoFiles> {
    if !STATE_STUDENTS.contains(&students) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a state-scale data set has {} to {} students, not {students}",
                STATE_STUDENTS.start(),
                STATE_STUDENTS.end()
            ),
        ));
    }
    let state = State::generate(seed, students);
    let roster_dir = dir.join("roster");
    fs::create_dir_all(&roster_dir)?;
    let mut files = DemoFiles {
        dir: dir.to_path_buf(),
        roster_dir: roster_dir.clone(),
        assessments: dir.join("AssessmentResults.csv"),
        sessions: dir.join("sessions.csv"),
        enrollment: dir.join("enrollment.csv"),
        contract: dir.join("contract.toml"),
        readme: dir.join("README.md"),
        contract_id: STATE_CONTRACT_ID.to_string(),
        district_id: STATE_DISTRICT_ID.to_string(),
        provider_id: STATE_PROVIDER_ID.to_string(),
        schools: state.schools.len(),
        students,
        enrolled: state.pupils.iter().filter(|p| p.span.is_some()).count(),
        session_count: 0,
        assessment_count: 0,
    };
    let total = 3 * students as u64;
    let step = (students / 100).max(1);
    let mut tick = |pass: usize, i: usize| {
        if (i + 1) % step == 0 || i + 1 == students {
            progress((pass * students + i + 1) as u64, total);
        }
    };
    state.write_roster(&roster_dir, &files.enrollment, |i| tick(0, i))?;
    let attended;
    (files.session_count, attended) = state.write_sessions(&files.sessions, |i| tick(1, i))?;
    files.assessment_count =
        state.write_assessments(&files.assessments, &attended, |i| tick(2, i))?;
    fs::write(&files.contract, state.contract())?;
    fs::write(&files.readme, readme(seed, &files))?;
    Ok(files)
}

/// A school of the state-scale district.
struct StateSchool {
    id: String,
    name: String,
    short: String,
    nces: String,
    /// The students `students` (contiguous indices).
    students: Range<usize>,
    ability_offset: i64,
    /// Per mille of the projected growth its tutored students reach (by dosage).
    quality: i64,
    /// Its tutors (indices into `State::tutors`).
    tutors: Range<usize>,
    /// Days the school cancelled tutoring (testing, events, weather), one district-wide.
    closed: Vec<Day>,
}

impl StateSchool {
    fn as_school(&self) -> School<'_> {
        School {
            id: &self.id,
            name: &self.name,
            short: &self.short,
            nces: &self.nces,
            grades: &GRADE_LIST,
        }
    }
}

/// A student, compactly: only what more than one file needs.
struct Pupil {
    school: u32,
    grade: u8,
    female: bool,
    first: u8,
    last: u8,
    /// Math achievement, a z-score per mille.
    ability: i32,
    takes_reading: bool,
    /// Last day in the district, for the few who move away.
    moved: Option<Day>,
    /// The student's enrollment in the contract, if enrolled.
    span: Option<Span>,
    /// Enrolled and given a tutoring group (a few enrolled students never are).
    scheduled: bool,
    /// The tutoring group.
    group: Option<u32>,
}

impl Pupil {
    fn first_name(&self) -> &'static str {
        if self.female {
            FEMALE[usize::from(self.first)]
        } else {
            MALE[usize::from(self.first)]
        }
    }

    fn last_name(&self) -> &'static str {
        LAST[usize::from(self.last)]
    }
}

/// The district's SIS id of student `i`: eight digits, so text order is index order.
fn sis(i: usize) -> String {
    (10_000_000 + 2 * i).to_string()
}

struct Span {
    start: Day,
    end: Option<Day>,
    /// Chance (per mille) of missing an offered session.
    absent_pm: u16,
    /// Chance (per mille) that the school does not release the student for a session.
    not_released_pm: u16,
}

impl Span {
    fn covers(&self, d: Day) -> bool {
        self.start <= d && self.end.map_or(true, |e| d <= e)
    }
}

struct Tutor {
    id: String,
    cancel_pm: i64,
}

/// A tutoring group: its students meet one tutor once a week.
struct Group {
    school: u32,
    weekday: u32,
    tutor: u32,
    /// The tutor leaves after this day; this one takes the group over.
    handover: Option<(Day, u32)>,
    /// Its students (indices into `State::members`).
    members: Range<usize>,
}

impl Group {
    fn tutor_on(&self, d: Day) -> usize {
        match self.handover {
            Some((last, next)) if d > last => next as usize,
            _ => self.tutor as usize,
        }
    }
}

struct State {
    seed: u64,
    schools: Vec<StateSchool>,
    pupils: Vec<Pupil>,
    tutors: Vec<Tutor>,
    groups: Vec<Group>,
    members: Vec<u32>,
    /// Program days by weekday (0 = Monday).
    program_days: [Vec<Day>; 5],
}

impl State {
    fn generate(seed: u64, students: usize) -> State {
        let mut state = State {
            seed,
            schools: make_schools(seed, students),
            pupils: Vec::with_capacity(students),
            tutors: Vec::new(),
            groups: Vec::new(),
            members: Vec::new(),
            program_days: Default::default(),
        };
        for d in PROGRAM_START..=PROGRAM_END {
            if is_school_day(d) {
                state.program_days[weekday(d) as usize].push(d);
            }
        }
        let base = Rng::new(seed, "state-students");
        for (k, school) in state.schools.iter().enumerate() {
            for i in school.students.clone() {
                state
                    .pupils
                    .push(make_pupil(&mut base.fork(i as u64), k, school));
            }
        }
        state.make_groups();
        state
    }

    /// Tutors and groups, school by school: the scheduled students of a grade meet in groups
    /// of 1-4 on one weekday with one tutor; a few tutors leave during the year.
    fn make_groups(&mut self) {
        let mut rng = Rng::new(self.seed, "state-groups");
        for k in 0..self.schools.len() {
            let range = self.schools[k].students.clone();
            let enrolled = range
                .clone()
                .filter(|&i| self.pupils[i].span.is_some())
                .count();
            let first_tutor = self.tutors.len();
            for _ in 0..(enrolled / STUDENTS_PER_TUTOR).max(2) {
                let cancel_pm = if rng.chance(40) {
                    rng.range(150, 220)
                } else {
                    rng.range(8, 30)
                };
                self.tutors.push(Tutor {
                    id: format!("T{:06}", self.tutors.len() + 1),
                    cancel_pm,
                });
            }
            let tutors = first_tutor..self.tutors.len();
            self.schools[k].tutors = tutors.clone();
            let mut slot = rng.below(tutors.len() as u64) as usize;
            for grade in GRADES {
                let pool: Vec<u32> = range
                    .clone()
                    .filter(|&i| self.pupils[i].grade == grade && self.pupils[i].scheduled)
                    .map(|i| i as u32)
                    .collect();
                let mut pool = pool.into_iter();
                loop {
                    let size = rng.weighted(&[12, 28, 45, 15]) + 1;
                    let from = self.members.len();
                    self.members.extend(pool.by_ref().take(size));
                    if self.members.len() == from {
                        break;
                    }
                    let g = self.groups.len() as u32;
                    for &i in &self.members[from..] {
                        self.pupils[i as usize].group = Some(g);
                    }
                    let tutor = tutors.start + slot % tutors.len();
                    slot += 1;
                    let handover = rng.chance(80).then(|| {
                        let last = school_day_in(&mut rng, ymd(2024, 11, 1), ymd(2025, 3, 31))
                            .expect("school days in range");
                        let next = tutors.start + (tutor - tutors.start + 1) % tutors.len();
                        (last, next as u32)
                    });
                    self.groups.push(Group {
                        school: k as u32,
                        weekday: rng.below(5) as u32,
                        tutor: tutor as u32,
                        handover,
                        members: from..self.members.len(),
                    });
                }
            }
        }
    }

    fn school(&self, p: &Pupil) -> &StateSchool {
        &self.schools[p.school as usize]
    }

    /// The OneRoster folder, and the contract's enrollment list.
    fn write_roster(
        &self,
        dir: &Path,
        enrollment: &Path,
        mut tick: impl FnMut(usize),
    ) -> io::Result<()> {
        let schools: Vec<School> = self.schools.iter().map(StateSchool::as_school).collect();
        fs::write(dir.join("manifest.csv"), manifest())?;
        fs::write(dir.join("orgs.csv"), orgs(&DISTRICT, &schools))?;
        fs::write(dir.join("academicSessions.csv"), academic_sessions())?;
        fs::write(dir.join("courses.csv"), courses(&DISTRICT, GRADES))?;
        fs::write(dir.join("classes.csv"), classes(&schools))?;
        let mut users = csv_file(&dir.join("users.csv"), USERS_HEADER)?;
        let mut enrollments = csv_file(&dir.join("enrollments.csv"), ENROLLMENTS_HEADER)?;
        let mut demographics = csv_file(&dir.join("demographics.csv"), DEMOGRAPHICS_HEADER)?;
        let mut placed = csv_file(enrollment, ENROLLMENT_HEADER)?;
        teacher_users(&mut users, &DISTRICT, &schools)?;
        teacher_enrollments(&mut enrollments, &schools)?;
        let base = Rng::new(self.seed, "state-identity");
        for (i, p) in self.pupils.iter().enumerate() {
            let mut rng = base.fork(i as u64);
            let (first, last) = (p.first_name(), p.last_name());
            let sourced_id = uuid(&mut rng);
            let sis = sis(i);
            let username = format!("{}{}{i}", &first[..1].to_lowercase(), last.to_lowercase());
            let low = p.ability < -500;
            let student = RosterStudent {
                sourced_id: &sourced_id,
                sis: &sis,
                username: &username,
                first,
                last,
                grade: p.grade,
                // Grade 3 in fall 2024: born between 2015-09-02 and 2016-09-01.
                birth: ymd(2015 - (i32::from(p.grade) - 3), 9, 2) + rng.range(0, 364) as Day,
                female: p.female,
                hispanic: rng.chance(480),
                race: RACES[rng.weighted(&RACE_WEIGHTS)],
                english_learner: rng.chance(if low { 280 } else { 110 }),
                disability: rng.chance(if low { 200 } else { 90 }),
                econ_disadvantaged: rng.chance(if low { 750 } else { 550 }),
            };
            let school = self.school(p).as_school();
            student.write_user(&mut users, &school)?;
            student.write_enrollment(&mut enrollments, &school)?;
            student.write_demographics(&mut demographics)?;
            if let Some(span) = &p.span {
                write_enrollment(&mut placed, &sis, span.start, span.end)?;
            }
            tick(i);
        }
        for c in [users, enrollments, demographics, placed] {
            c.finish()?;
        }
        Ok(())
    }

    /// The provider's session log, by student then date; returns the row count and each
    /// student's attended sessions (their growth depends on it).
    fn write_sessions(
        &self,
        path: &Path,
        mut tick: impl FnMut(usize),
    ) -> io::Result<(usize, Vec<u16>)> {
        let mut out = csv_file(path, SESSIONS_HEADER)?;
        let mut attended = vec![0u16; self.pupils.len()];
        let dates: Vec<String> = (PROGRAM_START..=PROGRAM_END).map(iso).collect();
        let group_days = Rng::new(self.seed, "state-group-days");
        let students = Rng::new(self.seed, "state-sessions");
        let mut rows = 0;
        let mut id = String::new();
        for (i, p) in self.pupils.iter().enumerate() {
            tick(i);
            let (Some(span), Some(g)) = (&p.span, p.group) else {
                continue;
            };
            let group = &self.groups[g as usize];
            let school = &self.schools[group.school as usize];
            let sis = sis(i);
            let mut rng = students.fork(i as u64);
            for &d in &self.program_days[group.weekday as usize] {
                if !span.covers(d) {
                    continue;
                }
                let group_size = self.members[group.members.clone()]
                    .iter()
                    .filter(|&&m| {
                        let other = &self.pupils[m as usize];
                        other.span.as_ref().is_some_and(|s| s.covers(d))
                    })
                    .count();
                let day = (d - PROGRAM_START) as usize;
                let mut group_day = group_days.fork(u64::from(g) << 20 | day as u64);
                let tutor = group.tutor_on(d);
                let provider_cancelled = group_day.chance(self.tutors[tutor].cancel_pm);
                let substitute = (group_day.chance(40) && school.tutors.len() > 1).then(|| {
                    let others = school.tutors.len() as u64 - 1;
                    let k = school.tutors.start + group_day.below(others) as usize;
                    if k >= tutor {
                        k + 1
                    } else {
                        k
                    }
                });
                let status = if school.closed.contains(&d) {
                    Status::DistrictCancelled
                } else if provider_cancelled {
                    Status::ProviderCancelled
                } else if rng.chance(i64::from(span.not_released_pm)) {
                    Status::DistrictCancelled
                } else if rng.chance(i64::from(span.absent_pm)) {
                    Status::StudentAbsent
                } else {
                    Status::Attended
                };
                let minutes = match status {
                    Status::Attended if rng.chance(100) => rng.range(20, 44) as u32,
                    Status::Attended => 45,
                    _ => 0,
                };
                let delivered = matches!(status, Status::Attended | Status::StudentAbsent);
                let tutor = if delivered {
                    substitute.unwrap_or(tutor)
                } else {
                    tutor
                };
                if status == Status::Attended {
                    attended[i] += 1;
                }
                rows += 1;
                id.clear();
                write!(id, "ses-{rows:09}").expect("writing to a String");
                SessionRow {
                    id: &id,
                    student: &sis,
                    tutor: &self.tutors[tutor].id,
                    date: &dates[day],
                    minutes,
                    status: status.as_str(),
                    group_size,
                }
                .write(&mut out)?;
            }
        }
        out.finish()?;
        Ok((rows, attended))
    }

    /// The MAP combined data file (every student of the district, math and for some reading),
    /// by student, subject and term, with a `TestID` per row; returns the row count.
    fn write_assessments(
        &self,
        path: &Path,
        attended: &[u16],
        mut tick: impl FnMut(usize),
    ) -> io::Result<usize> {
        let mut out = csv_file(path, &format!("{ASSESSMENTS_HEADER},TestID"))?;
        let base = Rng::new(self.seed, "state-tests");
        let mut tests = Vec::new();
        let mut rows = 0;
        for (i, p) in self.pupils.iter().enumerate() {
            tick(i);
            let mut rng = base.fork(i as u64);
            let no_projection = rng.chance(50);
            let school = self.school(p);
            let sis = sis(i);
            tests.clear();
            for subject in [Subject::Mathematics, Subject::Reading] {
                if subject == Subject::Reading && !p.takes_reading {
                    continue;
                }
                let norms = norms(subject, p.grade);
                let ability = match subject {
                    Subject::Mathematics => i64::from(p.ability),
                    Subject::Reading => i64::from(p.ability) * 7 / 10 + rng.gauss(700),
                };
                let tutored =
                    (p.span.is_some() && subject == Subject::Mathematics).then_some(school.quality);
                let mult = growth_multiplier(&mut rng, tutored, i64::from(attended[i]));
                TestTaker {
                    index: i,
                    subject,
                    norms: &norms,
                    truth: norms.true_scores(ability, mult),
                    moved: p.moved,
                    no_projection,
                }
                .sittings(&mut rng, &mut tests);
            }
            for t in &tests {
                rows += 1;
                let mut fields = MapRow {
                    term: TERMS[t.term],
                    district: DISTRICT.name,
                    school: &school.name,
                    last: p.last_name(),
                    first: p.first_name(),
                    student: &sis,
                    grade: p.grade,
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
                }
                .fields();
                fields.push((300_000_000 + rows).to_string());
                out.row(fields)?;
            }
        }
        out.finish()?;
        Ok(rows)
    }

    fn contract(&self) -> String {
        let enrolled = self.pupils.iter().filter(|p| p.span.is_some()).count();
        ContractDoc {
            title: "State-scale contract written by obc-demo (the shape of SPEC section 4).",
            id: STATE_CONTRACT_ID,
            district: STATE_DISTRICT_ID,
            provider: STATE_PROVIDER_ID,
            students: enrolled,
            projected: &[
                (3, "11.0"),
                (4, "10.0"),
                (5, "8.0"),
                (6, "7.0"),
                (7, "6.0"),
                (8, "5.0"),
            ],
        }
        .toml()
    }
}

/// A CSV file written through a buffer.
fn csv_file(path: &Path, header: &str) -> io::Result<CsvWriter<BufWriter<File>>> {
    CsvWriter::new(
        BufWriter::with_capacity(1 << 20, File::create(path)?),
        header,
    )
}

const SCHOOL_NAMES: [&str; 40] = [
    "Lincoln",
    "Roosevelt",
    "Washington",
    "Jefferson",
    "Madison",
    "Adams",
    "Monroe",
    "Franklin",
    "Kennedy",
    "King",
    "Chavez",
    "Parks",
    "Hamilton",
    "Grant",
    "Garfield",
    "Tubman",
    "Douglass",
    "Earhart",
    "Edison",
    "Carver",
    "Cedar",
    "Maple",
    "Oak Grove",
    "Pine Ridge",
    "Willow Creek",
    "Riverside",
    "Lakeview",
    "Hillcrest",
    "Valley View",
    "Sunset",
    "Meadowbrook",
    "Highland",
    "Prairie",
    "Canyon",
    "Mesa Verde",
    "Summit",
    "Harbor",
    "Bayview",
    "Fairview",
    "Westwood",
];

/// About one school per 2,000 students (3 to 500), of uneven sizes, each with its program's
/// quality, and closures (one district-wide day and three of its own).
fn make_schools(seed: u64, students: usize) -> Vec<StateSchool> {
    let mut rng = Rng::new(seed, "state-schools");
    let count = (students / STUDENTS_PER_SCHOOL).clamp(*SCHOOL_COUNT.start(), *SCHOOL_COUNT.end());
    let weights: Vec<u64> = (0..count).map(|_| rng.range(60, 140) as u64).collect();
    let total: u64 = weights.iter().sum();
    let program: Vec<Day> = (PROGRAM_START..=PROGRAM_END)
        .filter(|&d| is_school_day(d))
        .collect();
    let district_day = *rng.pick(&program);
    let mut schools = Vec::with_capacity(count);
    let mut seen = 0;
    let mut start = 0;
    for (k, w) in weights.iter().enumerate() {
        seen += w;
        let end = (students as u64 * seen / total) as usize;
        let stem = SCHOOL_NAMES[k % SCHOOL_NAMES.len()];
        let name = match k / SCHOOL_NAMES.len() {
            0 => format!("{stem} Elementary School"),
            n => format!("{stem} Elementary School {}", n + 1),
        };
        let mut closed = vec![district_day];
        while closed.len() < 4 {
            let d = *rng.pick(&program);
            if !closed.contains(&d) {
                closed.push(d);
            }
        }
        schools.push(StateSchool {
            id: format!("sch-{:04}", k + 1),
            name,
            short: format!("S{:04}", k + 1),
            nces: format!("{:012}", 60_000_200_000 + k as u64),
            students: start..end,
            ability_offset: rng.range(-300, 300),
            quality: rng.range(500, 1500),
            tutors: 0..0,
            closed,
        });
        start = end;
    }
    schools
}

/// When an enrolled student starts and whether they leave, per mille of the enrolled:
/// most start in the first weeks, some in the fall or in January, a few very late; some leave.
fn make_span(rng: &mut Rng) -> Span {
    let day = |rng: &mut Rng, from: Day, to: Day| {
        school_day_in(rng, from, to).expect("school days in range")
    };
    let r = rng.below(1000);
    let start = match r {
        0..700 => day(rng, ymd(2024, 8, 26), ymd(2024, 10, 4)),
        700..850 => day(rng, ymd(2024, 10, 1), ymd(2024, 11, 22)),
        850..930 => day(rng, ymd(2025, 1, 6), ymd(2025, 1, 31)),
        930..960 => day(rng, ymd(2025, 2, 24), ymd(2025, 4, 11)),
        _ => day(rng, ymd(2024, 8, 19), ymd(2024, 8, 30)),
    };
    let end = match r {
        // Leavers: most between November and April, some within two months.
        960..990 => Some(day(
            rng,
            (start + 21).max(ymd(2024, 10, 28)),
            ymd(2025, 4, 30),
        )),
        990.. => Some(day(rng, ymd(2024, 9, 23), ymd(2024, 10, 18))),
        _ => None,
    };
    let chronic = rng.chance(70);
    let not_released = rng.chance(25);
    Span {
        start,
        end,
        absent_pm: if chronic {
            rng.range(380, 620)
        } else {
            rng.range(20, 190)
        } as u16,
        not_released_pm: if not_released {
            rng.range(330, 520)
        } else {
            rng.range(5, 45)
        } as u16,
    }
}

/// Student of `school` drawn from their own stream: grade, name, ability, whether they take
/// reading, whether (90%) and how they are enrolled, whether (3%) they move away.
fn make_pupil(rng: &mut Rng, school_index: usize, school: &StateSchool) -> Pupil {
    let grade = rng.range(3, 8) as u8;
    let female = rng.chance(490);
    let first = rng.below(FEMALE.len().min(MALE.len()) as u64) as u8;
    let last = rng.below(LAST.len() as u64) as u8;
    let ability = (rng.gauss(1000) + school.ability_offset) as i32;
    let takes_reading = rng.chance(200);
    let mut span = rng.chance(900).then(|| make_span(rng));
    let moved = rng.chance(30).then(|| {
        let earliest = span
            .as_ref()
            .map_or(ymd(2024, 10, 1), |s| (s.start + 21).max(ymd(2024, 10, 1)));
        school_day_in(rng, earliest, ymd(2025, 4, 25))
    });
    let moved = moved.flatten();
    if let (Some(day), Some(s)) = (moved, span.as_mut()) {
        if s.end.map_or(true, |end| day < end) {
            s.end = Some(day);
        }
    }
    // A few enrolled students are never scheduled.
    let scheduled = span.is_some() && !rng.chance(5);
    Pupil {
        school: school_index as u32,
        grade,
        female,
        first,
        last,
        ability,
        takes_reading,
        moved,
        span,
        scheduled,
        group: None,
    }
}

/// National-norm-like MAP norms by grade 3-8: (fall, winter, spring) means, SD, typical
/// fall-to-spring growth, in RIT.
const MATH_NORMS: [([i64; 3], i64, i64); 6] = [
    ([188, 196, 200], 13, 11),
    ([199, 205, 209], 14, 10),
    ([209, 214, 217], 15, 8),
    ([212, 217, 219], 15, 7),
    ([217, 221, 223], 16, 6),
    ([223, 225, 227], 17, 5),
];
const READING_NORMS: [([i64; 3], i64, i64); 6] = [
    ([187, 194, 198], 15, 10),
    ([197, 202, 205], 15, 8),
    ([204, 208, 210], 15, 6),
    ([209, 212, 214], 15, 5),
    ([213, 215, 217], 15, 4),
    ([216, 218, 219], 16, 3),
];

fn norms(subject: Subject, grade: u8) -> Norms {
    let g = usize::from(grade - GRADES.start());
    let (means, sd, typical) = match subject {
        Subject::Mathematics => MATH_NORMS[g],
        Subject::Reading => READING_NORMS[g],
    };
    Norms { means, sd, typical }
}

fn readme(seed: u64, f: &DemoFiles) -> String {
    format!(
        "# obc state-scale data (seed {seed}, {} students): fictional, no real students\n\
- `roster/`: OneRoster 1.1 CSV of `{STATE_DISTRICT_ID}`: {} schools, grades 03-08 (`identifier` = SIS id), one math teacher per school and grade; `demographics.csv` adds `englishLearner`, `disability`, `economicallyDisadvantaged`.\n\
- `AssessmentResults.csv`: MAP Growth combined data file with `TestID`, 2024-2025, Fall/Winter/Spring, Mathematics (and some Reading), {} rows: missing tests, retests, rapid guessing, blank projections.\n\
- `sessions.csv`: `{STATE_PROVIDER_ID}`'s log of {} sessions (groups of 1-4, once a week, mostly the same tutor), all four statuses.\n\
- `enrollment.csv`: the {} students placed in `{STATE_CONTRACT_ID}` (`contract.toml`).\n\
- Import: `obc import roster roster/`, `obc import assessments AssessmentResults.csv`, `obc import sessions sessions.csv --provider {STATE_PROVIDER_ID}`, `obc contract add contract.toml`, `obc enroll --contract {STATE_CONTRACT_ID} enrollment.csv`.\n",
        f.students, f.schools, f.assessment_count, f.session_count, f.enrolled
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(dir: &Path, students: usize, seed: u64) -> DemoFiles {
        write_state(dir, students, seed, &mut |_, _| {}).expect("write the data set")
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("obc-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn has_the_shape_of_a_state_program() {
        let dir = temp("shape");
        let f = generate(&dir, 6000, 3);
        assert_eq!(f.schools, 3);
        let enrolled = f.enrolled as f64 / f.students as f64;
        assert!((0.87..0.93).contains(&enrolled), "{enrolled}");
        let per_enrolled = f.session_count as f64 / f.enrolled as f64;
        assert!((25.0..=28.0).contains(&per_enrolled), "{per_enrolled}");
        let per_student = f.assessment_count as f64 / f.students as f64;
        assert!((3.0..=4.0).contains(&per_student), "{per_student}");
        let sessions = fs::read_to_string(&f.sessions).expect("sessions");
        for status in [
            "attended",
            "student_absent",
            "district_cancelled",
            "provider_cancelled",
        ] {
            assert!(sessions.contains(&format!(",{status},")), "no {status}");
        }
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn schools_scale_with_students() {
        assert_eq!(make_schools(1, 10).len(), 3);
        assert_eq!(make_schools(1, 100_000).len(), 50);
        assert_eq!(make_schools(1, 10_000_000).len(), 500);
        let schools = make_schools(1, 100_000);
        assert_eq!(schools.last().map(|s| s.students.end), Some(100_000));
    }

    #[test]
    fn refuses_a_size_out_of_range() {
        let err = write_state(&temp("small"), 9, 1, &mut |_, _| {}).expect_err("too small");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
