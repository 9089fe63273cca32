//! `obc export indigo` and `obc export edfi`: a contract in the INDIGO data standard for
//! outcomes contracts, or as Ed-Fi resources for a district's ODS.

use anyhow::{Context, Result};
use clap::Subcommand;
use obc_store::Store;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ExportCommand {
    /// The contract as an INDIGO project document (JSON): milestones, prices, the finalized
    /// payments (Actual), the next milestone's draft (Planned), transactions and results.
    /// It holds no student-level data.
    ///
    ///   obc export indigo --contract mesa-math-2025 --out mesa-math-2025.indigo.json
    #[command(verbatim_doc_comment)]
    Indigo {
        #[arg(long)]
        contract: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The contract's data as Ed-Fi Data Standard 5 resources, one JSON file (an array) per
    /// resource, in the order to post them: interventions, studentInterventionAssociations,
    /// studentInterventionAttendanceEvents, assessments, studentAssessments. Mapping:
    /// docs/EDFI.md. The files hold student data: the export is recorded in the audit log.
    ///
    ///   obc export edfi --contract mesa-math-2025 --out edfi/ --education-organization-id 255901
    #[command(verbatim_doc_comment)]
    Edfi {
        #[arg(long)]
        contract: String,
        /// The folder to write the files to (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// The district's Ed-Fi educationOrganizationId (an integer); needed unless the
        /// district's obc id is a number.
        #[arg(long)]
        education_organization_id: Option<i64>,
    },
}

pub async fn run(store: &Store, actor: &str, command: &ExportCommand) -> Result<()> {
    match command {
        ExportCommand::Indigo { contract, out } => {
            let project = obc_app::export::indigo_project(store, contract).await?;
            let text = serde_json::to_string_pretty(&project)? + "\n";
            match out {
                Some(path) => {
                    std::fs::write(path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "wrote the INDIGO project document of {contract} to {}",
                        path.display()
                    );
                }
                None => print!("{text}"),
            }
            store
                .audit(actor, "export.indigo", &format!("contract:{contract}"), "")
                .await?;
            Ok(())
        }
        ExportCommand::Edfi {
            contract,
            out,
            education_organization_id,
        } => {
            let resources =
                obc_app::export::edfi_resources(store, contract, *education_organization_id)
                    .await?;
            std::fs::create_dir_all(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let mut written = Vec::new();
            for (name, bodies) in &resources {
                let path = out.join(format!("{name}.json"));
                let text = serde_json::to_string_pretty(bodies)? + "\n";
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                written.push(format!("{name} {}", bodies.len()));
                println!("{} ({} records)", path.display(), bodies.len());
            }
            store
                .audit(
                    actor,
                    "export.edfi",
                    &format!("contract:{contract}"),
                    &written.join(", "),
                )
                .await?;
            Ok(())
        }
    }
}
