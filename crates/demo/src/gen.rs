//! The simulated district: its students, the tutoring program's sessions and the MAP results.
//!
//! Everything is integers (RIT scores in tenths, probabilities and z-scores per mille), so a
//! seed gives the same data on every platform. Rare situations the statement rules must meet
//! (no sessions, chronic absence, students the school does not release, late starts, tutor
//! turnover, unreliable tutors) come in fixed quotas, so every seed exercises every rule.

use crate::calendar::{school_days, weekday, ymd, Day, PROGRAM_END, PROGRAM_START};
use crate::rng::Rng;

/// How many students the roster holds.
pub const ROSTER_STUDENTS: usize = 900;
/// How many of them (the lowest-scoring on last year's screener) the contract enrolls.
pub const ENROLLED_STUDENTS: usize = 600;

/// A school of the demo district. `quality` (per mille) scales tutored students' growth, so
/// the schools' medians land in different `school_adjustment` bands.
pub(crate) struct SchoolDef {
    pub id: &'static str,
    pub name: &'static str,
    pub short: &'static str,
    pub nces: &'static str,
    pub grades: &'static [u8],
    pub students: usize,
    ability_offset: i64,
    quality: i64,
    /// Relative share of the school's tutoring groups per tutor (part-timers have 1).
    tutor_loads: &'static [u64],
}

pub(crate) const SCHOOLS: [SchoolDef; 4] = [
    SchoolDef {
        id: "sch-lincoln",
        name: "Lincoln Middle School",
        short: "LIN",
        nces: "060000100011",
        grades: &[6, 7, 8],
        students: 240,
        ability_offset: 150,
        quality: 1500,
        tutor_loads: &[2, 2, 1, 2, 2],
    },
    SchoolDef {
        id: "sch-roosevelt",
        name: "Roosevelt Middle School",
        short: "ROO",
        nces: "060000100012",
        grades: &[6, 7, 8],
        students: 230,
        ability_offset: 0,
        quality: 1000,
        tutor_loads: &[2, 1, 2, 2, 2],
    },
    SchoolDef {
        id: "sch-washington",
        name: "Washington Middle School",
        short: "WAS",
        nces: "060000100013",
        grades: &[6, 7, 8],
        students: 250,
        ability_offset: -200,
        quality: 520,
        tutor_loads: &[2, 2, 2, 2, 1],
    },
    SchoolDef {
        id: "sch-jefferson",
        name: "Jefferson High School",
        short: "JEF",
        nces: "060000100014",
        grades: &[9],
        students: 180,
        ability_offset: 0,
        quality: 920,
        tutor_loads: &[2, 1, 2, 2],
    },
];

/// Why an enrolled student's year looks the way it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Regular,
    /// Enrolled, never scheduled: no sessions at all.
    NoSessions,
    /// Misses 40-60% of offered sessions: attendance below the contract's 70%.
    ChronicAbsence,
    /// The school often does not release the student: availability below 70%.
    NotReleased,
    /// Starts in January.
    January,
    /// Starts between late February and mid-April: few sessions, often fewer than 20 offered.
    VeryLate,
    /// Leaves the program between November and April.
    Leaver,
    /// Leaves within the first two months: fewer than 20 offered.
    EarlyLeaver,
    /// Moves to another group (and tutor) mid-year.
    Switcher,
}

/// Exact counts of the rare kinds among the enrolled; the rest are `Regular`.
const QUOTAS: [(Kind, usize); 8] = [
    (Kind::NoSessions, 5),
    (Kind::ChronicAbsence, 42),
    (Kind::NotReleased, 15),
    (Kind::VeryLate, 12),
    (Kind::January, 54),
    (Kind::Leaver, 30),
    (Kind::EarlyLeaver, 6),
    (Kind::Switcher, 24),
];

pub(crate) struct Enrollment {
    pub start: Day,
    pub end: Option<Day>,
    pub kind: Kind,
    /// Chance (per mille) of missing an offered session.
    absent_pm: i64,
    /// Chance (per mille) that the school does not release the student for a session.
    not_released_pm: i64,
    switch: Option<Day>,
}

impl Enrollment {
    fn covers(&self, d: Day) -> bool {
        self.start <= d && self.end.map_or(true, |e| d <= e)
    }
}

pub(crate) const RACES: [&str; 6] = [
    "white",
    "blackOrAfricanAmerican",
    "asian",
    "americanIndianOrAlaskaNative",
    "nativeHawaiianOrOtherPacificIslander",
    "demographicRaceTwoOrMoreRaces",
];
pub(crate) const RACE_WEIGHTS: [u64; 6] = [55, 20, 8, 2, 1, 14];

pub(crate) struct Student {
    pub sourced_id: String,
    pub sis: String,
    pub first: &'static str,
    pub last: &'static str,
    pub school: usize,
    pub grade: u8,
    pub birth: Day,
    pub female: bool,
    pub hispanic: bool,
    pub race: usize,
    pub english_learner: bool,
    pub disability: bool,
    pub econ_disadvantaged: bool,
    /// True math achievement, a z-score per mille.
    ability: i64,
    /// Last spring's screener (ability plus noise): what the district targets on.
    prior: i64,
    /// Last day in the district, for the few who move away.
    pub moved: Option<Day>,
    pub enrollment: Option<Enrollment>,
    takes_reading: bool,
}

pub(crate) struct Tutor {
    pub id: String,
    school: usize,
    cancel_pm: i64,
    hired: Day,
    /// Last working day and who takes over the tutor's groups.
    leaves: Option<(Day, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Attended,
    StudentAbsent,
    DistrictCancelled,
    ProviderCancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Attended => "attended",
            Status::StudentAbsent => "student_absent",
            Status::DistrictCancelled => "district_cancelled",
            Status::ProviderCancelled => "provider_cancelled",
        }
    }
}

pub(crate) struct Session {
    pub student: usize,
    pub tutor: usize,
    pub date: Day,
    pub minutes: u32,
    pub status: Status,
    pub group_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Subject {
    Mathematics,
    Reading,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Mathematics => "Mathematics",
            Subject::Reading => "Reading",
        }
    }
}

pub(crate) const TERMS: [&str; 3] = ["Fall", "Winter", "Spring"];

/// One row of the MAP combined data file.
pub(crate) struct Test {
    pub student: usize,
    pub term: usize,
    pub subject: Subject,
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

pub(crate) struct Demo {
    pub students: Vec<Student>,
    pub tutors: Vec<Tutor>,
    pub sessions: Vec<Session>,
    pub tests: Vec<Test>,
}

pub(crate) fn generate(seed: u64) -> Demo {
    let mut students = make_students(seed);
    enroll(seed, &mut students);
    move_away(seed, &mut students);
    let tutors = make_tutors(seed);
    let sessions = make_sessions(seed, &students, &tutors);
    let mut attended = vec![0i64; students.len()];
    for s in &sessions {
        if s.status == Status::Attended {
            attended[s.student] += 1;
        }
    }
    let tests = make_tests(seed, &students, &attended);
    Demo {
        students,
        tutors,
        sessions,
        tests,
    }
}

pub(crate) const FEMALE: [&str; 30] = [
    "Sofia",
    "Isabella",
    "Mia",
    "Camila",
    "Valentina",
    "Emma",
    "Olivia",
    "Ava",
    "Aaliyah",
    "Zoe",
    "Maya",
    "Ximena",
    "Nevaeh",
    "Layla",
    "Chloe",
    "Harper",
    "Amara",
    "Jasmine",
    "Leah",
    "Grace",
    "Mariana",
    "Naomi",
    "Aisha",
    "Lucia",
    "Hannah",
    "Ruby",
    "Priya",
    "Mei",
    "Fatima",
    "Elena",
];
pub(crate) const MALE: [&str; 30] = [
    "Mateo", "Liam", "Noah", "Santiago", "Elijah", "Jayden", "Lucas", "Ethan", "Jose", "Caleb",
    "Isaiah", "Diego", "Josiah", "Adrian", "Daniel", "Malik", "Gabriel", "Aiden", "Julian", "Omar",
    "Carlos", "Kevin", "Andre", "Samuel", "Hiro", "Ryan", "Xavier", "Miguel", "Dylan", "Tariq",
];
pub(crate) const LAST: [&str; 40] = [
    "Garcia",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Rodriguez",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Davis",
    "Miller",
    "Wilson",
    "Moore",
    "Taylor",
    "Anderson",
    "Thomas",
    "Jackson",
    "White",
    "Harris",
    "Martin",
    "Thompson",
    "Ramirez",
    "Flores",
    "Rivera",
    "Torres",
    "Nguyen",
    "Kim",
    "Patel",
    "Washington",
    "Robinson",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "Reyes",
    "Cruz",
    "Morales",
    "Ortiz",
];

/// A version-4-shaped UUID from the stream, as SIS exports use for `sourcedId`.
pub(crate) fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn make_students(seed: u64) -> Vec<Student> {
    let mut rng = Rng::new(seed, "students");
    let mut schools: Vec<usize> = SCHOOLS
        .iter()
        .enumerate()
        .flat_map(|(i, s)| std::iter::repeat(i).take(s.students))
        .collect();
    debug_assert_eq!(schools.len(), ROSTER_STUDENTS);
    rng.shuffle(&mut schools);
    let mut sis = 3_000_100;
    let mut out = Vec::with_capacity(schools.len());
    for school in schools {
        let def = &SCHOOLS[school];
        sis += rng.range(1, 3);
        let grade = *rng.pick(def.grades);
        let female = rng.chance(490);
        let first = if female {
            *rng.pick(&FEMALE)
        } else {
            *rng.pick(&MALE)
        };
        let last = *rng.pick(&LAST);
        let ability = rng.gauss(1000) + def.ability_offset;
        let prior = ability + rng.gauss(450);
        let low = ability < -500;
        // Grade 6 in fall 2024: born between 2012-09-02 and 2013-09-01.
        let birth = ymd(2012 - (i32::from(grade) - 6), 9, 2) + rng.range(0, 364) as Day;
        out.push(Student {
            sourced_id: uuid(&mut rng),
            sis: sis.to_string(),
            first,
            last,
            school,
            grade,
            birth,
            female,
            hispanic: rng.chance(480),
            race: rng.weighted(&RACE_WEIGHTS),
            english_learner: rng.chance(if low { 280 } else { 110 }),
            disability: rng.chance(if low { 200 } else { 90 }),
            econ_disadvantaged: rng.chance(if low { 750 } else { 550 }),
            ability,
            prior,
            moved: None,
            enrollment: None,
            takes_reading: rng.chance(400),
        });
    }
    out
}

/// A uniformly chosen school day in `from..=to`, if there is one.
pub(crate) fn school_day_in(rng: &mut Rng, from: Day, to: Day) -> Option<Day> {
    let days = school_days(from, to);
    (!days.is_empty()).then(|| *rng.pick(&days))
}

/// Enrolls the lowest-scoring students on last year's screener, as a district's `target` would.
fn enroll(seed: u64, students: &mut [Student]) {
    let mut rng = Rng::new(seed, "enrollment");
    let mut order: Vec<usize> = (0..students.len()).collect();
    order.sort_by_key(|&i| (students[i].prior, i));
    let mut chosen = order[..ENROLLED_STUDENTS].to_vec();
    chosen.sort_unstable();
    rng.shuffle(&mut chosen);
    let mut kinds = Vec::with_capacity(chosen.len());
    for (kind, n) in QUOTAS {
        kinds.extend(std::iter::repeat(kind).take(n));
    }
    kinds.resize(chosen.len(), Kind::Regular);
    for (&i, kind) in chosen.iter().zip(kinds) {
        let usual_start = |rng: &mut Rng| {
            let r = rng.below(1000);
            let (from, to) = if r < 780 {
                (ymd(2024, 8, 19), ymd(2024, 8, 30))
            } else if r < 940 {
                (ymd(2024, 9, 3), ymd(2024, 9, 30))
            } else {
                (ymd(2024, 10, 1), ymd(2024, 10, 31))
            };
            school_day_in(rng, from, to).expect("school days in range")
        };
        let start = match kind {
            Kind::January => school_day_in(&mut rng, ymd(2025, 1, 6), ymd(2025, 1, 31)),
            Kind::VeryLate => school_day_in(&mut rng, ymd(2025, 2, 24), ymd(2025, 4, 11)),
            Kind::EarlyLeaver => school_day_in(&mut rng, ymd(2024, 8, 19), ymd(2024, 8, 30)),
            _ => Some(usual_start(&mut rng)),
        }
        .expect("school days in range");
        let end = match kind {
            Kind::Leaver => school_day_in(
                &mut rng,
                (start + 21).max(ymd(2024, 10, 28)),
                ymd(2025, 4, 30),
            ),
            Kind::EarlyLeaver => school_day_in(&mut rng, ymd(2024, 9, 23), ymd(2024, 10, 18)),
            _ => None,
        };
        let switch = match kind {
            Kind::Switcher => school_day_in(
                &mut rng,
                (start + 21).max(ymd(2024, 10, 15)),
                ymd(2025, 3, 31),
            ),
            _ => None,
        };
        let absent_pm = match kind {
            Kind::ChronicAbsence => rng.range(380, 620),
            _ => rng.range(20, 190),
        };
        let not_released_pm = match kind {
            Kind::NotReleased => rng.range(330, 520),
            _ => rng.range(5, 45),
        };
        students[i].enrollment = Some(Enrollment {
            start,
            end,
            kind,
            absent_pm,
            not_released_pm,
            switch,
        });
    }
}

/// About 3% of students move away during the year: no tests after that, and an enrolled
/// student's enrollment ends.
fn move_away(seed: u64, students: &mut [Student]) {
    let mut rng = Rng::new(seed, "moves");
    for st in students.iter_mut() {
        if !rng.chance(30) {
            continue;
        }
        let earliest = match &st.enrollment {
            Some(e) => (e.start + 21).max(ymd(2024, 10, 1)),
            None => ymd(2024, 10, 1),
        };
        let Some(day) = school_day_in(&mut rng, earliest, ymd(2025, 4, 25)) else {
            continue;
        };
        st.moved = Some(day);
        if let Some(e) = &mut st.enrollment {
            if e.end.map_or(true, |end| day < end) {
                e.end = Some(day);
            }
            if e.switch.is_some_and(|s| s >= day) {
                e.switch = None;
            }
        }
    }
}

/// The provider's tutors: per school as many as `tutor_loads`, two of them unreliable (many
/// provider cancellations), three leaving during the year (their groups change tutor).
fn make_tutors(seed: u64) -> Vec<Tutor> {
    let mut rng = Rng::new(seed, "tutors");
    let mut tutors = Vec::new();
    let mut first_of_school = Vec::new();
    for (school, def) in SCHOOLS.iter().enumerate() {
        first_of_school.push(tutors.len());
        for _ in def.tutor_loads {
            tutors.push(Tutor {
                id: format!("T{}", 1001 + tutors.len()),
                school,
                cancel_pm: rng.range(8, 30),
                hired: PROGRAM_START,
                leaves: None,
            });
        }
    }
    // Unreliable tutors: the part-timers of Roosevelt and Jefferson.
    tutors[first_of_school[1] + 1].cancel_pm = 190;
    tutors[first_of_school[3] + 1].cancel_pm = 150;
    // Leaves at winter break (same-tutor rate ~0.45 for the group), at spring break (~0.75),
    // and in May (~0.92: still passes).
    let hire = |tutors: &mut Vec<Tutor>, school: usize, hired: Day| {
        tutors.push(Tutor {
            id: format!("T{}", 1001 + tutors.len()),
            school,
            cancel_pm: 15,
            hired,
            leaves: None,
        });
        tutors.len() - 1
    };
    let lincoln_new = hire(&mut tutors, 0, ymd(2025, 1, 6));
    tutors[first_of_school[0] + 2].leaves = Some((ymd(2024, 12, 20), lincoln_new));
    let washington_new = hire(&mut tutors, 2, ymd(2025, 3, 24));
    tutors[first_of_school[2] + 4].leaves = Some((ymd(2025, 3, 14), washington_new));
    tutors[first_of_school[1] + 3].leaves = Some((ymd(2025, 5, 2), first_of_school[1]));
    tutors
}

/// The tutor who has `t`'s groups on day `d`.
fn tutor_on(tutors: &[Tutor], t: usize, d: Day) -> usize {
    match tutors[t].leaves {
        Some((last, next)) if d > last => tutor_on(tutors, next, d),
        _ => t,
    }
}

struct Group {
    school: usize,
    days: [u32; 2],
    tutor: usize,
}

/// A student's time in a group: `from..=to`.
struct Membership {
    student: usize,
    group: usize,
    from: Day,
    to: Day,
}

const WEEKDAY_PAIRS: [[u32; 2]; 5] = [[0, 2], [1, 3], [0, 3], [1, 4], [2, 4]];

/// Sessions: students meet in small groups (1-4) twice a week with one tutor; statuses come
/// from school closures, the tutor's cancellations, the school not releasing the student, and
/// the student's absences.
fn make_sessions(seed: u64, students: &[Student], tutors: &[Tutor]) -> Vec<Session> {
    let mut rng = Rng::new(seed, "groups");
    let mut groups: Vec<Group> = Vec::new();
    let mut members: Vec<Membership> = Vec::new();
    for (school, def) in SCHOOLS.iter().enumerate() {
        let school_tutors: Vec<usize> = (0..tutors.len())
            .filter(|&t| tutors[t].school == school && tutors[t].hired == PROGRAM_START)
            .collect();
        let mut pool: Vec<usize> = (0..students.len())
            .filter(|&i| {
                students[i].school == school
                    && students[i]
                        .enrollment
                        .as_ref()
                        .is_some_and(|e| e.kind != Kind::NoSessions)
            })
            .collect();
        rng.shuffle(&mut pool);
        // Tutors take groups in proportion to their load, in a shuffled rotation.
        let mut slots: Vec<usize> = Vec::new();
        for (k, &load) in def.tutor_loads.iter().enumerate() {
            slots.extend(std::iter::repeat(school_tutors[k]).take(load as usize));
        }
        rng.shuffle(&mut slots);
        let mut slot = 0;
        let mut rest = &pool[..];
        while !rest.is_empty() {
            let size = (rng.weighted(&[12, 28, 45, 15]) + 1).min(rest.len());
            let g = groups.len();
            groups.push(Group {
                school,
                days: *rng.pick(&WEEKDAY_PAIRS),
                tutor: slots[slot % slots.len()],
            });
            slot += 1;
            for &i in &rest[..size] {
                let e = students[i].enrollment.as_ref().expect("enrolled");
                members.push(Membership {
                    student: i,
                    group: g,
                    from: e.start,
                    to: e.end.unwrap_or(PROGRAM_END),
                });
            }
            rest = &rest[size..];
        }
    }
    // Switchers move to a group of their school with another tutor.
    for m in 0..members.len() {
        let i = members[m].student;
        let Some(day) = students[i].enrollment.as_ref().and_then(|e| e.switch) else {
            continue;
        };
        let old = &groups[members[m].group];
        let others: Vec<usize> = (0..groups.len())
            .filter(|&g| groups[g].school == old.school && groups[g].tutor != old.tutor)
            .collect();
        let group = *rng.pick(&others);
        let to = members[m].to;
        members[m].to = day - 1;
        members.push(Membership {
            student: i,
            group,
            from: day,
            to,
        });
    }
    let mut by_group: Vec<Vec<&Membership>> = (0..groups.len()).map(|_| Vec::new()).collect();
    for m in &members {
        by_group[m.group].push(m);
    }
    for list in &mut by_group {
        list.sort_by_key(|m| m.student);
    }

    // School closures: one district-wide day and three per school (testing, events, weather).
    let mut rng = Rng::new(seed, "closures");
    let days = school_days(PROGRAM_START, PROGRAM_END);
    let district_day = *rng.pick(&days);
    let closed: Vec<Vec<Day>> = SCHOOLS
        .iter()
        .map(|_| {
            let mut c = vec![district_day];
            while c.len() < 4 {
                let d = *rng.pick(&days);
                if !c.contains(&d) {
                    c.push(d);
                }
            }
            c
        })
        .collect();

    let mut rng = Rng::new(seed, "sessions");
    let mut out = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for &d in days.iter().filter(|&&d| group.days.contains(&weekday(d))) {
            let active: Vec<usize> = by_group[g]
                .iter()
                .filter(|m| m.from <= d && d <= m.to)
                .map(|m| m.student)
                .filter(|&i| students[i].enrollment.as_ref().is_some_and(|e| e.covers(d)))
                .collect();
            if active.is_empty() {
                continue;
            }
            let tutor = tutor_on(tutors, group.tutor, d);
            let school_closed = closed[group.school].contains(&d);
            let provider_cancelled = rng.chance(tutors[tutor].cancel_pm);
            let substitute = if rng.chance(40) {
                let subs: Vec<usize> = (0..tutors.len())
                    .filter(|&t| {
                        t != tutor
                            && tutors[t].school == group.school
                            && tutors[t].hired <= d
                            && tutors[t].leaves.map_or(true, |(last, _)| d <= last)
                    })
                    .collect();
                (!subs.is_empty()).then(|| *rng.pick(&subs))
            } else {
                None
            };
            for &i in &active {
                let e = students[i].enrollment.as_ref().expect("enrolled");
                let status = if school_closed {
                    Status::DistrictCancelled
                } else if provider_cancelled {
                    Status::ProviderCancelled
                } else if rng.chance(e.not_released_pm) {
                    Status::DistrictCancelled
                } else if rng.chance(e.absent_pm) {
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
                out.push(Session {
                    student: i,
                    tutor: if delivered {
                        substitute.unwrap_or(tutor)
                    } else {
                        tutor
                    },
                    date: d,
                    minutes,
                    status,
                    group_size: active.len(),
                });
            }
        }
    }
    out
}

/// National-norm-like means (fall, winter, spring) and standard deviation, in RIT, by grade 6-9.
const MATH_NORMS: [([i64; 3], i64); 4] = [
    ([211, 214, 217], 15),
    ([215, 218, 220], 16),
    ([219, 221, 223], 17),
    ([222, 223, 225], 18),
];
const READING_NORMS: [([i64; 3], i64); 4] = [
    ([210, 212, 214], 15),
    ([213, 215, 216], 15),
    ([216, 217, 218], 16),
    ([218, 219, 219], 16),
];
/// Typical fall-to-spring growth at the grade's mean, in RIT, by grade 6-9.
const MATH_TYPICAL: [i64; 4] = [7, 6, 5, 5];
const READING_TYPICAL: [i64; 4] = [5, 4, 4, 3];

/// Standard normal CDF at z = 0.0, 0.1, ... 3.0, in 1/10000.
const PHI: [i64; 31] = [
    5000, 5398, 5793, 6179, 6554, 6915, 7257, 7580, 7881, 8159, 8413, 8643, 8849, 9032, 9192, 9332,
    9452, 9554, 9641, 9713, 9772, 9821, 9861, 9893, 9918, 9938, 9953, 9965, 9974, 9981, 9987,
];

/// Percentile (1-99) of a z-score given per mille, by linear interpolation in `PHI`.
fn percentile(z_milli: i64) -> i64 {
    let a = z_milli.abs();
    let i = (a / 100) as usize;
    let p = if i >= 30 {
        PHI[30]
    } else {
        PHI[i] + (PHI[i + 1] - PHI[i]) * (a % 100) / 100
    };
    let p = if z_milli < 0 { 10_000 - p } else { p };
    ((p + 50) / 100).clamp(1, 99)
}

/// Rounds tenths to the nearest integer (halves up).
fn round_tenths(x: i64) -> i64 {
    (x + 5).div_euclid(10)
}

/// A subject's norms at one grade, in RIT.
pub(crate) struct Norms {
    /// Mean score in fall, winter and spring.
    pub means: [i64; 3],
    pub sd: i64,
    /// Typical fall-to-spring growth at the grade's mean.
    pub typical: i64,
}

impl Norms {
    /// Projected fall-to-spring growth for a fall score: lower starters are projected to grow a
    /// little more, as in MAP's conditional norms.
    pub fn projected(&self, fall_rit: i64) -> i64 {
        (self.typical + (self.means[0] - fall_rit) / 12).clamp(2, 12)
    }

    /// The true fall, winter and spring scores (RIT tenths) of a student of `ability` (a
    /// z-score per mille) whose growth is `mult` per mille of the projection.
    pub fn true_scores(&self, ability: i64, mult: i64) -> [i64; 3] {
        let fall = self.means[0] * 10 + ability * self.sd / 100;
        let growth = self.projected(fall / 10) * 10 * mult / 1000;
        [fall, fall + growth * 55 / 100, fall + growth]
    }
}

/// The demo's norms (grades 6-9).
fn norms(subject: Subject, grade: u8) -> Norms {
    let g = usize::from(grade - 6);
    let ((means, sd), typical) = match subject {
        Subject::Mathematics => (MATH_NORMS[g], MATH_TYPICAL[g]),
        Subject::Reading => (READING_NORMS[g], READING_TYPICAL[g]),
    };
    Norms { means, sd, typical }
}

/// How fast a student grows, per mille of the projection: a tutored student by their
/// school's program `quality` (per mille) and dosage (attended sessions, full at 50), plus noise.
pub(crate) fn growth_multiplier(rng: &mut Rng, tutored_quality: Option<i64>, attended: i64) -> i64 {
    let expected = match tutored_quality {
        Some(quality) => {
            let dosage = (attended * 1000 / 50).min(1000);
            quality * (700 + 350 * dosage / 1000) / 1000
        }
        None => 1000,
    };
    expected + rng.gauss(300)
}

pub(crate) const WINDOWS: [(Day, Day); 3] = [
    (ymd(2024, 8, 26), ymd(2024, 9, 20)),
    (ymd(2025, 1, 13), ymd(2025, 1, 31)),
    (ymd(2025, 4, 28), ymd(2025, 5, 16)),
];
/// Chance (per mille) that a student has no test in a term (absent, new to the district).
const MISSING_PM: [i64; 3] = [30, 70, 25];

/// MAP results of every roster student (MAP exports hold the whole district). Tutored
/// students grow by their school's program quality times their dosage; each test adds
/// measurement noise, and rapid guessing lowers the score.
fn make_tests(seed: u64, students: &[Student], attended: &[i64]) -> Vec<Test> {
    let mut rng = Rng::new(seed, "tests");
    let mut out = Vec::new();
    for (i, st) in students.iter().enumerate() {
        let no_projection = rng.chance(50);
        let mut subjects = vec![Subject::Mathematics];
        if st.takes_reading {
            subjects.push(Subject::Reading);
        }
        for subject in subjects {
            let norms = norms(subject, st.grade);
            let ability = match subject {
                Subject::Mathematics => st.ability,
                Subject::Reading => st.ability * 7 / 10 + rng.gauss(700),
            };
            let tutored = (st.enrollment.is_some() && subject == Subject::Mathematics)
                .then_some(SCHOOLS[st.school].quality);
            let mult = growth_multiplier(&mut rng, tutored, attended[i]);
            let truth = norms.true_scores(ability, mult);
            let student = TestTaker {
                index: i,
                subject,
                norms: &norms,
                truth,
                moved: st.moved,
                no_projection,
            };
            student.sittings(&mut rng, &mut out);
        }
    }
    out
}

/// One student's year in one MAP subject, as [`TestTaker::sittings`] draws its tests.
pub(crate) struct TestTaker<'a> {
    /// The student's index.
    pub index: usize,
    pub subject: Subject,
    pub norms: &'a Norms,
    /// True scores (RIT tenths) in fall, winter and spring.
    pub truth: [i64; 3],
    /// Moved away on this day: no test after it.
    pub moved: Option<Day>,
    /// The district's export has no projection for the student.
    pub no_projection: bool,
}

impl TestTaker<'_> {
    /// The student's tests, term by term: a few missing, measurement noise, rapid guessing
    /// (which lowers the score) and retests.
    pub fn sittings(&self, rng: &mut Rng, out: &mut Vec<Test>) {
        let (means, sd) = (self.norms.means, self.norms.sd);
        let mut fall_row: Option<(i64, Option<i64>)> = None;
        for term in 0..3 {
            let (from, to) = WINDOWS[term];
            let to = self.moved.map_or(to, |m| m.min(to));
            let days = school_days(from, to);
            if days.is_empty() || rng.chance(MISSING_PM[term]) {
                continue;
            }
            // The first sitting falls in the window's first two-thirds, leaving room for a retest.
            let mut date = days[rng.below((days.len() as u64 * 2).div_ceil(3)) as usize];
            loop {
                let r = rng.below(1000);
                let rapid = if r < 25 {
                    rng.range(30, 62)
                } else if r < 110 {
                    rng.range(10, 29)
                } else {
                    rng.below(10).min(rng.below(10)) as i64
                };
                let penalty = if rapid >= 30 {
                    (rapid - 15) * 4
                } else {
                    rapid / 2
                };
                let rit = round_tenths(self.truth[term] + rng.gauss(30) - penalty);
                let z = (rit - means[term]) * 1000 / sd;
                let mut t = Test {
                    student: self.index,
                    term,
                    subject: self.subject,
                    date,
                    duration: if rapid >= 30 {
                        rng.range(10, 25)
                    } else {
                        rng.range(28, 80)
                    },
                    rit,
                    se_tenths: if rapid >= 30 {
                        rng.range(35, 45)
                    } else {
                        rng.range(29, 34)
                    },
                    percentile: percentile(z),
                    proj_fs: None,
                    obs_fs: None,
                    proj_fw: None,
                    obs_fw: None,
                    cgp_fs: None,
                    cgp_fw: None,
                    rapid,
                };
                let growth_sd = match self.subject {
                    Subject::Mathematics => [65, 50],
                    Subject::Reading => [70, 55],
                };
                match term {
                    0 => {
                        let p = (!self.no_projection).then(|| self.norms.projected(rit));
                        t.proj_fs = p;
                        t.proj_fw = p.map(|p| ((p * 55 + 50) / 100).max(1));
                        fall_row = Some((rit, p));
                    }
                    _ => {
                        if let Some((fall_rit, p)) = fall_row {
                            let observed = rit - fall_rit;
                            let (proj, sd) = if term == 1 {
                                (p.map(|p| ((p * 55 + 50) / 100).max(1)), growth_sd[1])
                            } else {
                                (p, growth_sd[0])
                            };
                            let cgp = proj.map(|p| percentile((observed - p) * 10_000 / sd));
                            if term == 1 {
                                t.obs_fw = Some(observed);
                                t.cgp_fw = cgp;
                            } else {
                                t.obs_fs = Some(observed);
                                t.cgp_fs = cgp;
                            }
                        }
                    }
                }
                out.push(t);
                // Rapid guessing usually earns a retest a few days later; a few students
                // retest anyway.
                let retest = if rapid >= 30 {
                    rng.chance(650)
                } else {
                    rng.chance(5)
                };
                let later: Vec<Day> = days.iter().copied().filter(|&d| d >= date + 3).collect();
                if !retest || later.is_empty() {
                    break;
                }
                date = later[rng.below(later.len().min(6) as u64) as usize];
            }
        }
    }
}
