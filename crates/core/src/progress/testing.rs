//! Hand-computed cases. The contract is the SPEC's example (`tests/contract_example.toml`)
//! without its school adjustment: C = 1200.00 x 0.40 = 480.00; min_rate 0.70,
//! min_offered 20, responsible = district, min_same_tutor_rate 0.80,
//! max_provider_cancel_rate 0.10, Fall -> Spring growth_vs_projected, projection table
//! grade 6 = 7.7, tiers exceeds 1.50 (1.25), meets 1.00 (1.00), approaching 0.50 (0.50),
//! below (0.00); the target tier is `meets` (the lowest paying 100%).
use super::*;
pub use crate::model::SessionStatus;
pub use SessionStatus::{Attended, DistrictCancelled, ProviderCancelled, StudentAbsent};

pub use crate::contract::Contract;
pub use crate::engine::PriorPayments;
pub use crate::model::Window;
pub use crate::money::format_cents;
pub use crate::test_kit::{contract, day, dec, kid, Kid};

/// What progress's cases add to the shared student builder.
pub trait Interim {
    fn on(self, date: &str, status: SessionStatus, tutor: &str, minutes: u32) -> Kid;
    fn many(self, n: u32, status: SessionStatus, tutor: &str) -> Kid;
    fn map_test(self, term: &str, date: &str, score: &str, growth: &[(Window, &str)]) -> Kid;
    fn rapid(self, pct: &str) -> Kid;
}

impl Interim for Kid {
    fn on(self, date: &str, status: SessionStatus, tutor: &str, minutes: u32) -> Kid {
        self.session(date, status, tutor, minutes)
    }

    /// `n` sessions on consecutive days; only attended ones have minutes.
    fn many(self, n: u32, status: SessionStatus, tutor: &str) -> Kid {
        let minutes = if status == Attended { 30 } else { 0 };
        self.sessions_of(n, status, tutor, minutes)
    }

    /// A MAP row of the contract's subject; `growth` sets projected growth by window.
    fn map_test(self, term: &str, date: &str, score: &str, growth: &[(Window, &str)]) -> Kid {
        let mut t = crate::test_kit::row(term, date, score);
        for (w, p) in growth {
            t.growth[*w as usize].projected = Some(dec(p));
        }
        self.test(t)
    }

    fn rapid(mut self, pct: &str) -> Kid {
        self.input.tests.last_mut().unwrap().rapid_guessing_pct = Some(dec(pct));
        self
    }
}

pub use Window::{FallToSpring as FS, FallToWinter as FW};

pub fn progress(contract: &Contract, as_of: &str, kids: Vec<Kid>) -> Progress {
    compute(ProgressRequest {
        contract,
        contract_version: 1,
        contract_hash: "test".into(),
        as_of: day(as_of),
        students: kids.into_iter().map(|k| k.input).collect(),
        prior: PriorPayments::default(),
    })
    .unwrap()
}

pub fn student<'p>(p: &'p Progress, id: &str) -> &'p StudentProgress {
    p.students.iter().find(|s| s.student_id == id).unwrap()
}

pub fn figure(f: &FactorProgress, name: &str) -> Option<String> {
    f.check(name).unwrap().figure.map(|r| r.display4())
}

/// 20 attended sessions with one tutor, Fall 200 projected 10 over Fall->Spring, Spring
/// 200 + growth.
pub fn judged(id: &str, school: &str, spring: &str) -> Kid {
    kid(id)
        .school(school)
        .many(20, Attended, "t1")
        .map_test("Fall", "2024-09-05", "200", &[(FS, "10")])
        .map_test("Spring", "2025-05-01", spring, &[])
}
