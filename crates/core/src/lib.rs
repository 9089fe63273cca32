//! The domain core of obc: the contract model, the input records and the payout engine.
//!
//! Everything here is pure: no files, no database, no clock, no async. Importers, storage and
//! the command line depend on this crate, never the other way round. Equal inputs give equal
//! outputs, byte for byte.

pub mod contract;
pub mod corrections;
pub mod csv_text;
pub mod design;
pub mod engine;
pub mod export;
pub mod grade;
pub mod model;
pub mod money;
pub mod postings;
pub mod progress;
pub mod ratio;
pub mod review;
pub mod rule_words;
pub mod statement;
pub mod statement_pass;
#[cfg(test)]
mod test_kit;
pub mod waterfall;

pub use contract::{Contract, ContractError};
pub use grade::Grade;
pub use model::*;
pub use statement::Statement;
