//! Corrections of finalized statements (docs/RULES.md, "Corrections after finalization", and
//! SPEC 5.11, closing statements). A finalized statement is never changed: when data arrives
//! late (a re-sent session log, a rescored test), each finalized statement is computed again
//! with today's data, and what it would pay now, minus what was paid for it, is paid or
//! credited once on a later statement as an adjustment.
//!
//! Pure: the caller loads the finalized statements, their contract versions and today's data;
//! these functions decide.

use crate::engine::{Correction, EngineError, PriorPayments, StudentInput};
use crate::statement::Statement;
use crate::statement_pass::{Recomputed, StatementPass};
use crate::Contract;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use time::Date;

/// A finalized statement with the contract version it was computed under, so it can be
/// computed again with today's data.
#[derive(Debug, Clone, Copy)]
pub struct FinalizedRun<'a> {
    pub contract: &'a Contract,
    pub contract_version: u32,
    pub contract_hash: &'a str,
    pub statement: &'a PaidStatement,
}

/// A finalized statement as the correction rule reads it: its header, adjustments and totals,
/// and what each line paid. A statement computed after two finalized ones holds both: their
/// lines whole were a gigabyte each for a state (docs/SCALE.md). Read straight from the stored
/// JSON (`serde_json::from_str::<PaidStatement>`), the rest of each line is skipped.
pub type PaidStatement = Statement<PaidLine>;

/// What a line of a finalized statement paid, under which rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct PaidLine {
    pub student_id: Box<str>,
    pub rule: Box<str>,
    pub total: Decimal,
}

impl From<Statement> for PaidStatement {
    fn from(statement: Statement) -> PaidStatement {
        statement.map_lines(|l| PaidLine {
            student_id: l.student_id.into_boxed_str(),
            rule: l.rule.into_boxed_str(),
            total: l.total,
        })
    }
}

/// What the finalized statements paid compared with what today's data computes for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Corrections {
    /// The totals of the finalized statements given (after their caps): what was paid.
    pub paid_before: Decimal,
    /// One per finalized milestone line whose amount today's data changes, net of the
    /// adjustments already paid for it: by finalized statement (in the order given), then
    /// student id.
    pub corrections: Vec<Correction>,
    /// The base each student was paid by the finalized milestone statements, as today's data
    /// computes them: the next statement's "base due minus what earlier milestones paid" uses
    /// it, so a correction and a base catch-up never pay the same dollar twice.
    pub base_paid: BTreeMap<String, Decimal>,
    /// The NTE lines today's data gives the finalized milestone statements minus the NTE lines
    /// all finalized statements (closings included) carried: a closing statement's NTE line.
    pub nte_difference: Decimal,
}

impl Corrections {
    /// What a milestone statement is computed with. The difference of earlier NTE lines is not
    /// corrected there: the statement's own cap applies to everything it pays.
    pub fn for_milestone(self) -> PriorPayments {
        PriorPayments {
            paid_before: self.paid_before,
            base_paid: self.base_paid,
            corrections: self.corrections,
            nte_difference: Decimal::ZERO,
        }
    }

    /// What a closing statement is computed with: the corrections and the NTE lines'
    /// difference, so the contract's total paid becomes what its final data pays.
    pub fn for_closing(self) -> PriorPayments {
        PriorPayments {
            nte_difference: self.nte_difference,
            ..self.for_milestone()
        }
    }
}

/// The name under which a closing statement dated `date` is stored and shown, in place of a
/// milestone's name. Contracts cannot name a milestone like it (see `contract.rs`).
pub fn closing_name(date: Date) -> String {
    format!("closing-{date}")
}

/// Whether a milestone name is the one a closing statement takes (`closing-YYYY-MM-DD`).
pub fn is_closing_name(name: &str) -> bool {
    name.strip_prefix("closing-")
        .and_then(crate::model::parse_iso_date)
        .is_some_and(|date| closing_name(date) == name)
}

/// The correction rule. `finalized` holds every finalized statement that counts (milestone
/// statements and closings, in date order) as it was paid; `recomputed` holds, in the same
/// order, each finalized milestone statement (not the closings) computed again with today's
/// data (see [`corrections_of`]).
///
/// A student's line of a finalized milestone statement is corrected when what today's data
/// computes for it differs from what was paid for it: the line as finalized plus the
/// adjustments later statements already paid for that milestone and student. A student with
/// no line (added or removed since) counts as a line of 0.00 under the rule `no line`.
pub(crate) fn corrections(finalized: &[&PaidStatement], recomputed: &[Recomputed]) -> Corrections {
    let mut out = Corrections {
        // In cents even when nothing was paid ("0.00", not "0"): it is part of the inputs hash.
        paid_before: crate::money::from_cents(0),
        ..Corrections::default()
    };
    let mut already: HashMap<(&str, &str), Decimal> = HashMap::new();
    let mut nte_paid = Decimal::ZERO;
    for statement in finalized {
        out.paid_before += statement.totals.statement_total;
        for a in &statement.adjustments {
            *already
                .entry((a.milestone.as_str(), a.student_id.as_str()))
                .or_default() += a.amount;
        }
        nte_paid += statement.totals.nte_cap.unwrap_or_default();
    }
    let milestones = finalized.iter().filter(|s| !s.closing);
    let mut base_paid = Vec::new();
    for (paid, again) in milestones.zip(recomputed) {
        let milestone = paid.milestone.as_str();
        let was = by_student(
            paid.lines
                .iter()
                .map(|l| (&*l.student_id, (&*l.rule, l.total))),
        );
        let now = by_student(
            again
                .lines
                .iter()
                .map(|l| (&*l.student_id, (&*l.rule, l.total))),
        );
        let mut adjusted: Vec<&str> = already
            .keys()
            .filter(|(m, _)| *m == milestone)
            .map(|(_, student)| *student)
            .collect();
        adjusted.sort_unstable();
        // Every student with a line then or now, or an adjustment of this milestone, in
        // order, once: the three lists are sorted, so they are merged.
        let (mut w, mut n, mut a) = (0, 0, 0);
        loop {
            let heads = [was.get(w).map(|l| l.0), now.get(n).map(|l| l.0)];
            let next = heads
                .into_iter()
                .chain([adjusted.get(a).copied()])
                .flatten()
                .min();
            let Some(student) = next else { break };
            let old = was.get(w).filter(|l| l.0 == student).map(|l| l.1);
            let new = now.get(n).filter(|l| l.0 == student).map(|l| l.1);
            w += usize::from(old.is_some());
            n += usize::from(new.is_some());
            a += usize::from(adjusted.get(a) == Some(&student));
            let (old, new) = (old.as_ref(), new.as_ref());
            let paid_for_line = amount(old)
                + already
                    .get(&(milestone, student))
                    .copied()
                    .unwrap_or_default();
            if paid_for_line != amount(new) {
                out.corrections.push(Correction {
                    milestone: milestone.to_string(),
                    student_id: student.to_string(),
                    original_rule: rule(old),
                    original_amount: paid_for_line,
                    corrected_rule: rule(new),
                    corrected_amount: amount(new),
                });
            }
        }
        base_paid.extend(again.lines.iter().map(|l| (&*l.student_id, l.base_amount)));
        out.nte_difference += again.nte_cap.unwrap_or_default();
    }
    out.base_paid = summed_by_student(base_paid);
    out.nte_difference -= nte_paid;
    out
}

/// Lines by student, in order, a student's last line where it has two (as a map built from
/// them would keep). Lines come in canonical order, so the sort only checks it. Sorted lists
/// instead of maps: a state's million students made the maps' hashing and the ordered set of
/// their ids a fifth of a statement's closing steps.
fn by_student<'l>(lines: impl Iterator<Item = (&'l str, Paid<'l>)>) -> Vec<(&'l str, Paid<'l>)> {
    let mut lines: Vec<_> = lines.collect();
    lines.sort_by(|a, b| a.0.cmp(b.0));
    let mut once: Vec<(&str, Paid)> = Vec::with_capacity(lines.len());
    for line in lines {
        match once.last_mut() {
            Some(last) if last.0 == line.0 => *last = line,
            _ => once.push(line),
        }
    }
    once
}

/// Each student's amounts summed (from zero), by student.
fn summed_by_student(mut amounts: Vec<(&str, Decimal)>) -> BTreeMap<String, Decimal> {
    amounts.sort_by(|a, b| a.0.cmp(b.0));
    let mut sums: Vec<(String, Decimal)> = Vec::new();
    for (student, amount) in amounts {
        match sums.last_mut() {
            Some(last) if last.0 == student => last.1 += amount,
            _ => sums.push((student.to_string(), Decimal::ZERO + amount)),
        }
    }
    // Sorted and once each: the map is built from them in one sweep.
    sums.into_iter().collect()
}

/// Each finalized milestone statement computed again with today's `students`, in the order
/// given (milestone date order), each with its own contract version and statement date, then
/// [`corrections`]: what a new statement needs to know about the finalized ones before it.
/// Closing statements are not recomputed: they have no lines of their own. Each recomputation
/// sees the base and the totals the ones before it pay with today's data, so the recomputed
/// statements are what the contract would have paid had today's data been known all along
/// (their NTE lines included). The pass of [`crate::statement_pass`] over `students`.
pub fn corrections_of(
    finalized: &[FinalizedRun<'_>],
    students: &[StudentInput],
) -> Result<Corrections, EngineError> {
    let mut students = std::borrow::Cow::Borrowed(students);
    if !crate::engine::is_canonical(&students) {
        crate::engine::canonicalize(students.to_mut());
    }
    let mut pass = StatementPass::new(finalized, None)?;
    for s in students.iter() {
        pass.add(s)?;
    }
    pass.corrections()
}

/// A line's rule and total.
type Paid<'l> = (&'l str, Decimal);

fn amount(line: Option<&Paid>) -> Decimal {
    line.map_or(Decimal::ZERO, |l| l.1)
}

fn rule(line: Option<&Paid>) -> String {
    line.map_or_else(|| "no line".to_string(), |l| l.0.to_string())
}

#[cfg(test)]
#[path = "corrections_tests.rs"]
mod tests;
