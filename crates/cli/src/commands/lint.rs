//! `obc lint`: reads a contract (and optionally last year's files), runs the checks of
//! `obc_core::design::lint` and prints them. No database: a contract is linted before it is
//! added.

use crate::LintArgs;
use anyhow::{Context, Result};
use obc_core::design::history::{self, History, HistoryTest};
use obc_core::design::lint::{lint, LintOptions, Severity};
use obc_core::Contract;
use obc_ingest::{AssessmentReader, SessionReader};
use std::path::Path;
use std::process::ExitCode;

/// Exit statuses: clean, warnings only, errors (an invalid contract is an error too).
const EXIT_WARNINGS: u8 = 1;
const EXIT_ERRORS: u8 = 2;

pub fn run(args: &LintArgs) -> ExitCode {
    match lint_command(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERRORS)
        }
    }
}

fn lint_command(args: &LintArgs) -> Result<ExitCode> {
    let name = args.contract.display().to_string();
    let source =
        std::fs::read_to_string(&args.contract).with_context(|| format!("reading {name}"))?;
    let contract = Contract::parse(&source).map_err(|e| {
        let lines: Vec<String> = e
            .problems
            .iter()
            .map(|p| format!("{name}:{}:{}: {}", p.line, p.column, p.message))
            .collect();
        anyhow::anyhow!("{}\nthe contract is not valid", lines.join("\n"))
    })?;
    let history = args
        .history
        .as_deref()
        .map(|dir| read_history(&contract, dir))
        .transpose()?;
    let defaults = LintOptions::default();
    let opts = LintOptions {
        cliff_share: args.cliff_share.unwrap_or(defaults.cliff_share),
        growth_sd: args.growth_sd.unwrap_or(defaults.growth_sd),
        projected_growth: args.projected_growth.unwrap_or(defaults.projected_growth),
        students: args.students,
        effect_target: args.effect_target.unwrap_or(defaults.effect_target),
        drop_share: defaults.drop_share,
    };
    let report = lint(&contract, history.as_ref(), &opts);
    match args.format {
        crate::LintFormat::Text => print!("{}", report.to_text()),
        crate::LintFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(match report.worst() {
        None | Some(Severity::Info) => ExitCode::SUCCESS,
        Some(Severity::Warning) => ExitCode::from(EXIT_WARNINGS),
        Some(Severity::Error) => ExitCode::from(EXIT_ERRORS),
    })
}

/// Reads `DIR/AssessmentResults.csv` (MAP's combined data file, or the generic CSV) with each
/// test's `TestStandardError`, and `DIR/sessions.csv` (SPEC 3.3) when there is one; a bad row
/// refuses the history with its file, line and column.
fn read_history(contract: &Contract, dir: &Path) -> Result<History> {
    let path = dir.join("AssessmentResults.csv");
    let mut reader = AssessmentReader::open(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tests = Vec::new();
    while let Some(row) = reader.next_with_standard_error() {
        let (_, result, standard_error) = row.map_err(|e| anyhow::anyhow!("{e}"))?;
        // A district's export holds every subject: keep only what the summary reads.
        if result.subject.eq_ignore_ascii_case(&contract.subject)
            && result
                .assessment
                .eq_ignore_ascii_case(&contract.outcome.assessment)
        {
            tests.push(HistoryTest {
                result,
                standard_error,
            });
        }
    }
    let mut history = history::summarize(contract, &tests);
    let sessions_path = dir.join("sessions.csv");
    if sessions_path.exists() {
        let reader = SessionReader::open(&sessions_path).map_err(|e| anyhow::anyhow!("{e}"))?;
        // Streamed: a year of sessions is held as counts per student, never as rows.
        let mut bad_row = None;
        history.add_sessions(
            contract,
            reader.map_while(|row| match row {
                Ok((_, r)) => Some(r.session),
                Err(e) => {
                    bad_row = Some(e);
                    None
                }
            }),
        );
        if let Some(e) = bad_row {
            anyhow::bail!("{e}");
        }
    }
    Ok(history)
}
