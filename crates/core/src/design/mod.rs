//! Tools to design a fair contract before signing it (SPEC 7).

pub mod exhibit;
pub mod history;
pub mod lint;
pub mod simulate;
pub mod target;
