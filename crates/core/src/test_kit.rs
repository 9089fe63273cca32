//! Builders shared by the engine's and progress's unit tests: the SPEC's example contract with
//! edits, MAP rows, and `Kid`, one enrolled student built step by step.

use crate::contract::Contract;
use crate::engine::StudentInput;
use crate::grade::Grade;
use crate::model::{AssessmentResult, Enrollment, Session, SessionStatus, Student, Window};
use rust_decimal::Decimal;
use std::str::FromStr;
use time::Date;

pub const EXAMPLE: &str = include_str!("../tests/contract_example.toml");

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn day(s: &str) -> Date {
    crate::model::parse_iso_date(s).unwrap()
}

/// Applies string replacements to a contract document; each text must occur exactly once.
pub fn edit(source: &str, replacements: &[(&str, &str)]) -> String {
    let mut src = source.to_string();
    for (from, to) in replacements {
        assert_eq!(
            src.matches(from).count(),
            1,
            "`{from}` must occur exactly once"
        );
        src = src.replace(from, to);
    }
    src
}

/// The example contract without its school adjustment, with replacements.
pub fn contract(replacements: &[(&str, &str)]) -> Contract {
    let cut = EXAMPLE.find("[[school_adjustment]]").unwrap();
    Contract::parse(&edit(&EXAMPLE[..cut], replacements)).unwrap()
}

/// The example contract as written (school adjustment "*" included), with replacements.
pub fn contract_with_schools(replacements: &[(&str, &str)]) -> Contract {
    Contract::parse(&edit(EXAMPLE, replacements)).unwrap()
}

/// A MAP row of the contract's subject and assessment, at 09:00:00.
pub fn row(term: &str, date: &str, score: &str) -> AssessmentResult {
    AssessmentResult {
        student_id: String::new(),
        assessment: "MAP Growth".into(),
        subject: "Mathematics".into(),
        term_name: format!("{term} 2024-2025"),
        date: day(date),
        start_seconds: 9 * 3600,
        score: Some(dec(score)),
        percentile: None,
        rapid_guessing_pct: None,
        growth_measure: true,
        growth: Default::default(),
        test_id: None,
        norms: None,
    }
}

pub const FS: usize = Window::FallToSpring as usize;

/// The row with projected growth for fall to spring.
pub fn projected(mut t: AssessmentResult, p: &str) -> AssessmentResult {
    t.growth[FS].projected = Some(dec(p));
    t
}

/// One enrolled student being built: grade 6, school sch-1, enrolled from the period start,
/// sessions daily from 2024-09-02.
pub struct Kid {
    pub input: StudentInput,
    pub next_day: Date,
}

pub fn kid(id: &str) -> Kid {
    Kid {
        input: StudentInput {
            student: Student {
                id: id.into(),
                school_id: "sch-1".into(),
                grade: Grade::parse("6"),
                first_name: "Ana".into(),
                last_name: format!("Diaz-{id}"),
                flags: Default::default(),
            },
            enrollment: Enrollment {
                student_id: id.into(),
                start: day("2024-08-12"),
                end: None,
            },
            sessions: vec![],
            ambiguous_sessions: vec![],
            tests: vec![],
        },
        next_day: day("2024-09-02"),
    }
}

impl Kid {
    pub fn school(mut self, school: &str) -> Kid {
        self.input.student.school_id = school.into();
        self
    }

    pub fn grade(mut self, grade: &str) -> Kid {
        self.input.student.grade = Grade::parse(grade);
        self
    }

    pub fn enrolled(mut self, start: &str, end: Option<&str>) -> Kid {
        self.input.enrollment.start = day(start);
        self.input.enrollment.end = end.map(day);
        self
    }

    /// The next session day (daily from 2024-09-02, or from `from`).
    pub fn from(mut self, date: &str) -> Kid {
        self.next_day = day(date);
        self
    }

    /// One session on a date.
    pub fn session(mut self, date: &str, status: SessionStatus, tutor: &str, minutes: u32) -> Kid {
        let n = self.input.sessions.len();
        self.input.sessions.push(Session {
            session_id: format!("{}-{n:03}", self.input.student.id),
            student_id: self.input.student.id.clone(),
            tutor_id: tutor.into(),
            date: day(date),
            minutes,
            status,
            group_size: None,
            subject: String::new(),
        });
        self
    }

    /// Moves the sessions given so far to the ambiguous ones (blank subject, two contracts).
    pub fn ambiguous(mut self) -> Kid {
        let sessions = std::mem::take(&mut self.input.sessions);
        self.input.ambiguous_sessions.extend(sessions);
        self
    }

    /// One 30-minute session on a date.
    pub fn session_on(self, date: &str, status: SessionStatus, tutor: &str) -> Kid {
        self.session(date, status, tutor, 30)
    }

    /// `n` sessions of a status with a tutor on consecutive days, `minutes` each.
    pub fn sessions_of(mut self, n: u32, status: SessionStatus, tutor: &str, minutes: u32) -> Kid {
        for _ in 0..n {
            let date = self.next_day;
            self.next_day = date.next_day().unwrap();
            self = self.session(&date.to_string(), status, tutor, minutes);
        }
        self
    }

    /// `n` 30-minute sessions of a status with a tutor on consecutive days.
    pub fn sessions(self, n: u32, status: SessionStatus, tutor: &str) -> Kid {
        self.sessions_of(n, status, tutor, 30)
    }

    pub fn attended(self, n: u32) -> Kid {
        self.sessions(n, SessionStatus::Attended, "t1")
    }

    pub fn test(mut self, mut t: AssessmentResult) -> Kid {
        t.student_id = self.input.student.id.clone();
        self.input.tests.push(t);
        self
    }

    /// A Fall row (2024-09-05) carrying the projected growth and a Spring row (2025-05-01).
    pub fn scores(self, fall: &str, spring: &str, projection: &str) -> Kid {
        self.test(projected(row("Fall", "2024-09-05", fall), projection))
            .test(row("Spring", "2025-05-01", spring))
    }

    /// 20 attended sessions with one tutor and growth / projection = `growth` / 10.
    pub fn judged_with_growth(self, growth: i64) -> Kid {
        let spring = (200 + growth).to_string();
        self.attended(20).scores("200", &spring, "10")
    }

    pub fn build(self) -> StudentInput {
        self.input
    }
}

/// The final statement of `kids` under `contract`, with nothing paid before.
pub fn final_statement(contract: &Contract, kids: Vec<Kid>) -> crate::Statement {
    crate::engine::compute(crate::engine::StatementRequest {
        contract,
        contract_version: 1,
        contract_hash: "test".into(),
        milestone: "final",
        as_of: None,
        students: kids.into_iter().map(Kid::build).collect::<Vec<_>>().into(),
        prior: crate::engine::PriorPayments::default(),
    })
    .expect("the statement computes")
}

/// Five students of two schools: a1 exceeds the target (1.5 x projection), a2 approaches it,
/// b1 meets it; b2 (3 sessions) and b3 (none) were not offered the minimum.
pub fn two_schools() -> Vec<Kid> {
    vec![
        kid("a1").school("sch-a").judged_with_growth(15),
        kid("a2").school("sch-a").judged_with_growth(5),
        kid("b1").school("sch-b").judged_with_growth(10),
        kid("b2").school("sch-b").attended(3),
        kid("b3").school("sch-b"),
    ]
}
