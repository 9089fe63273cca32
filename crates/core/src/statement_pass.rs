//! A statement computed in one pass over its students, streamed one at a time in canonical
//! order, never all of them at once (docs/SCALE.md).
//!
//! A line depends on its student's inputs alone, plus the base earlier milestones paid that
//! student; everything contract-wide (school medians, totals, the NTE cap, corrections) reads
//! only the lines. So each student is taken once: the lines of every finalized milestone
//! statement computed again with today's data (for the corrections), then the line of the
//! statement asked for. When the pass ends, the contract-wide steps run over the lines, exactly
//! as [`crate::engine::compute`] and [`crate::corrections::corrections_of`] do on inputs held in
//! memory: the statements are byte for byte the same.

use crate::corrections::{corrections, Corrections, FinalizedRun, PaidStatement};
use crate::engine::{EngineError, LineMaker, PriorPayments, SettledLine, StudentInput};
use crate::ratio::Ratio;
use crate::statement::{Line, Statement};
use rust_decimal::Decimal;

/// A finalized milestone statement being computed again with today's data.
struct Recomputation<'a> {
    maker: LineMaker<'a>,
    lines: Vec<RecomputedLine>,
}

/// A finalized milestone statement computed again: what the correction rule compares with
/// what was paid.
pub(crate) struct Recomputed {
    pub(crate) nte_cap: Option<Decimal>,
    pub(crate) lines: Vec<RecomputedLine>,
}

/// A line computed again for the corrections: what the contract-wide steps and the correction
/// rule read, no text. A statement computed after two finalized ones holds two sets of them,
/// a third of a whole [`Line`]'s size (docs/SCALE.md).
pub(crate) struct RecomputedLine {
    pub(crate) student_id: Box<str>,
    school_id: Box<str>,
    pub(crate) rule: Box<str>,
    counts: [u32; 5],
    tier_pays: Decimal,
    growth_vs_projected: Option<Ratio>,
    pub(crate) base_amount: Decimal,
    contingent_amount: Decimal,
    pub(crate) total: Decimal,
}

impl From<Line> for RecomputedLine {
    fn from(line: Line) -> RecomputedLine {
        RecomputedLine {
            counts: line.counts(),
            student_id: line.student_id.into_boxed_str(),
            school_id: line.school_id.into_boxed_str(),
            rule: line.rule.into_boxed_str(),
            tier_pays: line.tier_pays,
            growth_vs_projected: line.growth_vs_projected,
            base_amount: line.base_amount,
            contingent_amount: line.contingent_amount,
            total: line.total,
        }
    }
}

impl SettledLine for RecomputedLine {
    fn student_id(&self) -> &str {
        &self.student_id
    }
    fn school_id(&self) -> &str {
        &self.school_id
    }
    fn rule(&self) -> &str {
        &self.rule
    }
    fn growth_vs_projected(&self) -> Option<Ratio> {
        self.growth_vs_projected
    }
    fn tier_pays(&self) -> Decimal {
        self.tier_pays
    }
    fn counts(&self) -> [u32; 5] {
        self.counts
    }
    fn base_amount(&self) -> Decimal {
        self.base_amount
    }
    fn contingent_amount(&self) -> Decimal {
        self.contingent_amount
    }
    fn set_total(&mut self, total: Decimal) {
        self.total = total;
    }
    fn school_adjusted(&mut self, contingent: Decimal, _: usize, _: Decimal, _: Ratio) {
        self.contingent_amount = contingent;
        self.rule = format!("{}{}", self.rule, crate::rule_words::SCHOOL_ADJUST_SUFFIX).into();
    }
}

/// The pass: [`StatementPass::add`] each student in canonical order (by student id, each
/// student's rows canonical, see [`crate::engine::canonicalize`]), then
/// [`StatementPass::finish`].
pub struct StatementPass<'a> {
    finalized: Vec<&'a PaidStatement>,
    recomputations: Vec<Recomputation<'a>>,
    target: Option<LineMaker<'a>>,
    lines: Vec<Line>,
    last_student: Option<String>,
}

impl<'a> StatementPass<'a> {
    /// `finalized`: every finalized statement before the one asked for, in milestone date
    /// order, with its contract version (as [`crate::corrections::corrections_of`] takes them).
    /// `target` makes the lines of the statement asked for; `None` for the corrections only
    /// (a closing statement's, which has no line of its own).
    pub fn new(
        finalized: &[FinalizedRun<'a>],
        target: Option<LineMaker<'a>>,
    ) -> Result<StatementPass<'a>, EngineError> {
        let recomputations = finalized
            .iter()
            .filter(|run| !run.statement.closing)
            .map(|run| {
                let statement = run.statement;
                Ok(Recomputation {
                    maker: LineMaker::new(
                        run.contract,
                        &statement.milestone,
                        crate::model::parse_iso_date(&statement.statement_date),
                    )?,
                    lines: Vec::new(),
                })
            })
            .collect::<Result<_, EngineError>>()?;
        Ok(StatementPass {
            finalized: finalized.iter().map(|run| run.statement).collect(),
            recomputations,
            target,
            lines: Vec::new(),
            last_student: None,
        })
    }

    /// Makes room for the lines of `students` students in each statement the pass builds (the
    /// one asked for and each recomputed one): grown by doubling, a state's lines would hold up
    /// to twice their size while the last growth copies them.
    pub fn reserve(&mut self, students: usize) {
        if self.target.is_some() {
            self.lines.reserve_exact(students);
        }
        for r in &mut self.recomputations {
            r.lines.reserve_exact(students);
        }
    }

    /// Takes the next student: their line of every finalized milestone statement computed
    /// again, each seeing the base the ones before paid them, then their line of the target.
    ///
    /// # Panics
    /// When students come out of canonical order: the lines would be out of order.
    pub fn add(&mut self, student: &StudentInput) -> Result<(), EngineError> {
        let id = &student.student.id;
        assert!(
            self.last_student.as_ref().is_none_or(|last| last < id),
            "students streamed out of order: {id} after {:?}",
            self.last_student
        );
        self.last_student = Some(id.clone());
        let mut base_paid = Decimal::ZERO;
        for r in &mut self.recomputations {
            if let Some(line) = r.maker.line(student, base_paid)? {
                base_paid += line.base_amount;
                r.lines.push(line.into());
            }
        }
        if let Some(maker) = &self.target {
            self.lines.extend(maker.line(student, base_paid)?);
        }
        Ok(())
    }

    /// The corrections of the finalized statements: each recomputed statement's totals (each
    /// seeing what the ones before it pay), compared with what was paid.
    pub fn corrections(self) -> Result<Corrections, EngineError> {
        Ok(self.finish_corrections()?.0)
    }

    /// The statement asked for (its inputs hash empty: the caller hashes the inputs after the
    /// prior payments, which only the pass decides) and the prior payments it was computed with.
    ///
    /// # Panics
    /// When the pass was made without a target.
    pub fn statement(
        self,
        contract_version: u32,
        contract_hash: &str,
    ) -> Result<(Statement, PriorPayments), EngineError> {
        let (found, target, lines) = self.finish_corrections()?;
        let maker = target.expect("a pass computing a statement has a target");
        let prior = found.for_milestone();
        let statement = maker.statement(
            contract_version,
            contract_hash,
            String::new(),
            lines,
            &prior,
        )?;
        Ok((statement, prior))
    }

    fn finish_corrections(
        self,
    ) -> Result<(Corrections, Option<LineMaker<'a>>, Vec<Line>), EngineError> {
        let mut prior = PriorPayments::default();
        let mut recomputed = Vec::with_capacity(self.recomputations.len());
        for r in self.recomputations {
            let mut lines = r.lines;
            let (_, totals) = r.maker.settle(&mut lines, &prior)?;
            prior.paid_before += totals.statement_total;
            recomputed.push(Recomputed {
                nte_cap: totals.nte_cap,
                lines,
            });
        }
        Ok((
            corrections(&self.finalized, &recomputed),
            self.target,
            self.lines,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrections::corrections_of;
    use crate::engine::{canonicalize, compute, InputsHasher, StatementRequest};
    use crate::model::SessionStatus::{Attended, ProviderCancelled, StudentAbsent};
    use crate::test_kit::*;

    /// Students of two schools with every kind of line, in canonical order.
    fn students(spring_of_b: &str) -> Vec<StudentInput> {
        let mut students = vec![
            kid("a").judged_with_growth(12).build(),
            kid("b")
                .attended(20)
                .scores("200", spring_of_b, "10")
                .school("sch-2")
                .build(),
            kid("c")
                .sessions(10, StudentAbsent, "t1")
                .attended(12)
                .build(),
            kid("d")
                .sessions(12, ProviderCancelled, "t2")
                .judged_with_growth(3)
                .build(),
            kid("e")
                .enrolled("2025-02-01", None)
                .from("2025-02-03")
                .judged_with_growth(9)
                .build(),
            kid("f")
                .enrolled("2023-01-01", Some("2023-06-01"))
                .attended(3)
                .build(),
            kid("g")
                .attended(4)
                .ambiguous()
                .session_on("2024-10-01", Attended, "t3")
                .build(),
            kid("h").sessions(5, StudentAbsent, "t1").build(),
        ];
        canonicalize(&mut students);
        students
    }

    fn milestone(
        contract: &crate::Contract,
        name: &str,
        students: &[StudentInput],
        finalized: &[FinalizedRun<'_>],
    ) -> Statement {
        compute(StatementRequest {
            contract,
            contract_version: 1,
            contract_hash: "hash".into(),
            milestone: name,
            as_of: None,
            students: students.into(),
            prior: corrections_of(finalized, students).unwrap().for_milestone(),
        })
        .unwrap()
    }

    #[test]
    fn a_pass_gives_the_engines_statement_byte_for_byte_with_corrections() {
        let contract = contract_with_schools(&[]);
        let run = |statement| FinalizedRun {
            contract: &contract,
            contract_version: 1,
            contract_hash: "hash",
            statement,
        };
        let before = students("205");
        let enrollment = milestone(&contract, "enrollment", &before, &[]);
        let enrollment = PaidStatement::from(enrollment);
        let midyear = PaidStatement::from(milestone(
            &contract,
            "midyear",
            &before,
            &[run(&enrollment)],
        ));
        // Late data: b's spring test rescored, a session of h re-sent as attended.
        let mut today = students("230");
        today[7].sessions[0].status = Attended;
        let finalized = [run(&enrollment), run(&midyear)];
        for name in ["midyear", "final"] {
            let earlier = if name == "midyear" {
                &finalized[..1]
            } else {
                &finalized[..]
            };
            let expected = milestone(&contract, name, &today, earlier);
            let mut pass = StatementPass::new(
                earlier,
                Some(LineMaker::new(&contract, name, None).unwrap()),
            )
            .unwrap();
            for s in &today {
                pass.add(s).unwrap();
            }
            let (mut statement, prior) = pass.statement(1, "hash").unwrap();
            let maker = LineMaker::new(&contract, name, None).unwrap();
            let mut hasher = InputsHasher::new(&maker.header(1, "hash"), &prior);
            for s in &today {
                hasher.add(s);
            }
            statement.inputs_hash = hasher.finish();
            assert_eq!(statement.to_json(), expected.to_json(), "{name}");
            if name == "final" {
                assert!(
                    !statement.adjustments.is_empty(),
                    "the late data corrects a line"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn students_out_of_order_are_refused() {
        let contract = contract(&[]);
        let maker = LineMaker::new(&contract, "final", None).unwrap();
        let mut pass = StatementPass::new(&[], Some(maker)).unwrap();
        pass.add(&kid("b").build()).unwrap();
        pass.add(&kid("a").build()).unwrap();
    }
}
