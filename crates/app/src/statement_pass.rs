//! A statement computed in one pass over the store's inputs, a chunk of students at a time
//! (docs/SCALE.md): never every student's sessions at once.
//!
//! obc-core's [`StatementPass`] decides every line, recomputed line and correction; this feeds
//! it the chunks and hashes the inputs. The inputs hash reads the prior payments before the
//! students, and the prior payments are known only when the pass ends, so while the pass runs
//! each student's canonical JSON goes to an unnamed temporary file, hashed after the header.
//! With no finalized statement before, the prior payments are known from the start and the
//! students are hashed as they come.

use crate::Result;
use obc_core::corrections::FinalizedRun;
use obc_core::engine::{self, InputsHasher, LineMaker, PriorPayments, StudentInput};
use obc_core::statement_pass::StatementPass;
use obc_core::Statement;
use obc_store::{ContractVersion, StatementInputs, StoreError};
use std::io::{BufReader, BufWriter, Read, Seek};

/// Which statement of a contract version to compute.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wanted<'a> {
    /// A milestone's statement, dated `as_of` (the milestone's date when `None`).
    Milestone {
        milestone: &'a str,
        as_of: Option<time::Date>,
    },
    /// The closing statement of a date.
    Closing(time::Date),
}

/// Computes `wanted` of `cv` from `inputs` (the contract's, as of some audit record), with
/// the corrections of `finalized` (the contract's finalized statements before it, in date
/// order).
pub(crate) async fn compute(
    cv: &ContractVersion,
    wanted: Wanted<'_>,
    finalized: &[FinalizedRun<'_>],
    inputs: StatementInputs,
) -> Result<Statement> {
    let contract = &cv.contract;
    let target = match wanted {
        Wanted::Milestone { milestone, as_of } => Some(LineMaker::new(contract, milestone, as_of)?),
        Wanted::Closing(_) => None,
    };
    let header = match (&target, wanted) {
        (Some(maker), _) => maker.header(cv.version, &cv.sha256),
        (None, Wanted::Closing(date)) => {
            engine::closing_header(contract, cv.version, &cv.sha256, date)
        }
        (None, Wanted::Milestone { .. }) => unreachable!("a milestone has its line maker"),
    };
    let closing = target.is_none();
    let mut pass = StatementPass::new(finalized, target)?;
    let mut hashing = if finalized.is_empty() {
        // Nothing finalized before: the prior payments are those of no statement.
        let prior = StatementPass::new(&[], None)?.corrections()?;
        let prior = if closing {
            prior.for_closing()
        } else {
            prior.for_milestone()
        };
        Hashing::Now(InputsHasher::new(&header, &prior))
    } else {
        Hashing::Later(BufWriter::new(tempfile::tempfile().map_err(spill_failed)?))
    };
    pass.reserve(inputs.students());
    inputs
        .for_each(|chunk| -> Result<()> {
            for student in chunk {
                pass.add(student)?;
                hashing.add(student)?;
            }
            Ok(())
        })
        .await?;
    let (mut statement, prior) = if closing {
        let prior = pass.corrections()?.for_closing();
        (
            engine::closing_statement(&header, &prior, String::new()),
            prior,
        )
    } else {
        pass.statement(cv.version, &cv.sha256)?
    };
    statement.inputs_hash = hashing.finish(&header, &prior)?;
    Ok(statement)
}

/// Where the students' canonical JSON goes until the inputs hash can take it.
enum Hashing {
    /// The prior payments are known: straight into the hash.
    Now(InputsHasher),
    /// Into a temporary file, hashed after the prior payments the pass decides.
    Later(BufWriter<std::fs::File>),
}

impl Hashing {
    fn add(&mut self, student: &StudentInput) -> Result<()> {
        match self {
            Hashing::Now(hasher) => hasher.add(student),
            Hashing::Later(file) => engine::write_input(student, file).map_err(spill_failed)?,
        }
        Ok(())
    }

    fn finish(self, header: &engine::InputsHeader<'_>, prior: &PriorPayments) -> Result<String> {
        match self {
            Hashing::Now(hasher) => Ok(hasher.finish()),
            Hashing::Later(file) => {
                let mut file = file
                    .into_inner()
                    .map_err(|e| spill_failed(e.into_error()))?;
                file.rewind().map_err(spill_failed)?;
                let mut hasher = InputsHasher::new(header, prior);
                let mut reader = BufReader::with_capacity(1 << 20, file);
                let mut buffer = vec![0; 1 << 20];
                loop {
                    let n = reader.read(&mut buffer).map_err(spill_failed)?;
                    if n == 0 {
                        break;
                    }
                    hasher.add_json(&buffer[..n]);
                }
                Ok(hasher.finish())
            }
        }
    }
}

fn spill_failed(e: std::io::Error) -> crate::AppError {
    StoreError::Corrupt(format!(
        "the statement's inputs could not be hashed through a temporary file: {e}"
    ))
    .into()
}
