//! `obc exhibit`: the contract as the printable rate-card exhibit a school board approves.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use obc_core::design::exhibit;
use obc_core::Contract;
use std::path::PathBuf;

/// The exhibit's rendering.
#[derive(Clone, Copy, ValueEnum)]
pub enum ExhibitFormat {
    /// A standalone printable page (Letter).
    Html,
    /// The structured exhibit, for scripts.
    Json,
}

#[derive(Args)]
pub struct ExhibitArgs {
    /// The contract document (TOML, SPEC 4); it is validated first.
    contract: PathBuf,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ExhibitFormat::Html)]
    format: ExhibitFormat,
}

/// Builds the exhibit from the document's exact bytes (its SHA-256 is printed on every page)
/// and writes it; no database is needed.
pub fn run(args: &ExhibitArgs) -> Result<()> {
    let source = std::fs::read_to_string(&args.contract)
        .with_context(|| format!("cannot read {}", args.contract.display()))?;
    let contract = Contract::parse(&source)
        .map_err(|e| anyhow::anyhow!("{}: invalid contract:\n{e}", args.contract.display()))?;
    let hash = obc_core::engine::sha256_hex(source.as_bytes());
    let built = exhibit::build(&contract, &hash)?;
    let text = match args.format {
        ExhibitFormat::Html => obc_web::exhibit::render_exhibit(&built)?,
        ExhibitFormat::Json => serde_json::to_string_pretty(&built)? + "\n",
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote the exhibit of {} (SHA-256 {hash}) to {}",
                contract.id,
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
