//! Figures derived from a whole statement (the contract page's growth chart, target note and
//! school table; the statement page's filter choices; the printout's school totals), computed once per statement instead
//! of on every request: at 100,000 students each is a pass over every line.
//!
//! A stored draft or finalized statement is shared as one `Arc<Statement>` until its inputs
//! change (`obc_app::drafts`), so that `Arc` is the key: a new draft is a new `Arc`, and its
//! figures are computed again. An entry holds its statement, so a key is never reused.

use obc_core::statement::SchoolTotal;
use obc_core::Statement;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// How many statements' figures stay in memory (each is small: charts and a few hundred
/// schools); as many as the drafts keep, and the finalized statements beside them.
const KEPT: usize = 8;

/// Values derived from shared values (statements), by the `Arc` they are shared as.
pub struct PerArc<K, T> {
    kept: Mutex<VecDeque<(Arc<K>, Arc<T>)>>,
}

impl<K, T> Default for PerArc<K, T> {
    fn default() -> Self {
        PerArc {
            kept: Mutex::new(VecDeque::new()),
        }
    }
}

impl<K, T> PerArc<K, T> {
    /// The value derived from `statement`, computed by `derive` the first time it is asked
    /// for. Two first requests at once may both compute it; either result is the same.
    pub fn of(&self, statement: &Arc<K>, derive: impl FnOnce(&K) -> T) -> Arc<T> {
        let found = self
            .lock()
            .iter()
            .find(|(s, _)| Arc::ptr_eq(s, statement))
            .map(|(_, v)| v.clone());
        if let Some(value) = found {
            return value;
        }
        let value = Arc::new(derive(statement));
        let mut kept = self.lock();
        kept.push_front((statement.clone(), value.clone()));
        kept.truncate(KEPT);
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Arc<K>, Arc<T>)>> {
        self.kept
            .lock()
            .expect("the figures lock is never poisoned")
    }
}

/// What the contract page shows of its contingent milestone's statement.
pub struct ContractFigures {
    /// The growth histogram, each bar linked to its students.
    pub growth_chart: String,
    /// Why "at or above projection" and "met the target" differ.
    pub target_note: String,
}

/// The statement page's filter choices: the schools and rules on the statement.
pub struct StatementChoices {
    /// School ids, each once, by id.
    pub school_ids: Vec<String>,
    /// Each rule of the totals with its words.
    pub legend: Vec<(String, String)>,
}

impl StatementChoices {
    pub fn of(statement: &Statement) -> StatementChoices {
        let school_ids: std::collections::BTreeSet<&str> = statement
            .lines
            .iter()
            .map(|l| l.school_id.as_str())
            .collect();
        StatementChoices {
            school_ids: school_ids.into_iter().map(str::to_string).collect(),
            legend: obc_core::rule_words::legend(statement),
        }
    }
}

/// The figures of the running app.
#[derive(Default)]
pub struct Figures {
    pub contract: PerArc<Statement, ContractFigures>,
    pub statement: PerArc<Statement, StatementChoices>,
    /// Each school's students and amounts (the contract page's table, the printout's).
    schools: PerArc<Statement, Vec<SchoolTotal>>,
}

impl Figures {
    /// [`obc_core::statement::school_totals`] of a statement, summed once.
    pub fn schools(&self, statement: &Arc<Statement>) -> Arc<Vec<SchoolTotal>> {
        (self.schools).of(statement, |s| obc_core::statement::school_totals(&s.lines))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_value_is_derived_once_and_a_new_one_again() {
        let memo: PerArc<String, usize> = PerArc::default();
        let (a, b) = (Arc::new("draft".to_string()), Arc::new("draft".to_string()));
        let runs = std::cell::Cell::new(0);
        let derive = |s: &String| {
            runs.set(runs.get() + 1);
            s.len()
        };
        assert_eq!(*memo.of(&a, derive), 5);
        assert_eq!(*memo.of(&a, derive), 5);
        assert_eq!(runs.get(), 1, "the same Arc is derived once");
        memo.of(&b, derive);
        assert_eq!(runs.get(), 2, "an equal value in a new Arc is a new draft");
    }

    #[test]
    fn only_the_newest_are_kept() {
        let memo: PerArc<usize, usize> = PerArc::default();
        let values: Vec<Arc<usize>> = (0..=KEPT).map(Arc::new).collect();
        for v in &values {
            memo.of(v, |n| *n);
        }
        let mut runs = 0;
        memo.of(&values[0], |n| {
            runs += 1;
            *n
        });
        assert_eq!(runs, 1, "the oldest was dropped");
        memo.of(&values[KEPT], |n| {
            runs += 1;
            *n
        });
        assert_eq!(runs, 1, "the newest is kept");
    }
}
