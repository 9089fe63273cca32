//! Progress monitoring (SPEC section 6): at any date, each enrolled student's status on each of
//! the three factors, the amount at risk if nothing changes, the snapshots continuous-improvement
//! meetings compare, the meeting cadence check and the weekly teacher updates.
//!
//! Pure, like the engine, and built on it: every count, rate, counted test and score is the one
//! `engine::compute` puts on a statement line, so progress and statements never disagree. The
//! rules are written in `docs/PROGRESS.md`.

mod cadence;
mod compute;
mod current_date;
mod meetings;
mod reconcile;
mod render;
mod snapshot;
mod status;
mod summary;
mod teacher;
#[cfg(test)]
mod testing;

pub use cadence::*;
pub use compute::*;
pub use current_date::*;
pub use meetings::*;
pub use reconcile::*;
pub use render::*;
pub use snapshot::*;
pub use status::*;
pub use summary::*;
pub use teacher::*;
