//! Tools to design a fair contract before signing it (SPEC 7).

pub mod simulate;
