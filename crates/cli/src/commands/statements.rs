//! `obc statement`, `obc statement finalize` and `obc explain`.

use crate::{Format, StatementArgs};
use anyhow::{bail, Context, Result};
use obc_core::Statement;
use obc_store::Store;
use std::path::Path;

/// Writes the statement in `format` to `output` (standard output when `None`). JSON is
/// written as it is serialized: a state's statement is hundreds of megabytes of text.
fn emit(statement: &Statement, format: Format, output: Option<&Path>) -> Result<()> {
    use std::io::Write;
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        match format {
            Format::Table => out.write_all(statement.to_table().as_bytes())?,
            Format::Csv => out.write_all(statement.to_csv().as_bytes())?,
            Format::Json => {
                statement.write_json(&mut out)?;
            }
        }
        out.flush()
    };
    match output {
        Some(path) => std::fs::File::create(path)
            .and_then(|mut file| write(&mut file))
            .with_context(|| format!("writing {}", path.display())),
        None => match write(&mut std::io::stdout().lock()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        },
    }
}

/// Which statement the arguments name: a milestone's (at an optional date) or a closing.
enum Which<'a> {
    Milestone(&'a str, Option<time::Date>),
    Closing(time::Date),
}

fn which(args: &StatementArgs) -> Result<Which<'_>> {
    let as_of = obc_app::parse_as_of(args.as_of.as_deref())?;
    Ok(match (&args.milestone, as_of) {
        (Some(milestone), _) => Which::Milestone(milestone, as_of),
        (None, Some(date)) if args.closing => Which::Closing(date),
        _ => bail!("give --milestone NAME, or --closing --as-of YYYY-MM-DD"),
    })
}

/// Prints the statement of a milestone, or a closing statement: the finalized one when it
/// exists (byte for byte as finalized), else a draft computed now. Which one it is goes to
/// standard error.
pub async fn show(store: &Store, actor: &str, args: &StatementArgs) -> Result<()> {
    let money = |cents| obc_core::money::format_cents(obc_core::money::from_cents(cents));
    let working = super::working(&format!("Computing the statement of {}", args.contract));
    let (statement, status) = match which(args)? {
        Which::Milestone(milestone, as_of) => {
            let cv = store.contract(&args.contract).await?;
            let (statement, finalized) =
                obc_app::statement_for_display(store, &cv, milestone, as_of).await?;
            let status = match (&finalized, as_of) {
                (Some(f), None) => finalized_status(f),
                (Some(f), Some(_)) => format!(
                    "DRAFT recomputed as of {}; the milestone was FINALIZED {} with a total of {}",
                    statement.statement_date,
                    f.finalized_at,
                    money(f.total_cents)
                ),
                (None, _) => "DRAFT (not finalized)".to_string(),
            };
            (statement, status)
        }
        Which::Closing(date) => {
            let (statement, finalized) =
                obc_app::closing_for_display(store, &args.contract, date).await?;
            let status = match &finalized {
                Some(f) => finalized_status(f),
                None => "DRAFT closing statement (not finalized)".to_string(),
            };
            (statement, status)
        }
    };
    working.finish_and_clear();
    eprintln!("{status}");
    super::review::print_review_of(store, &args.contract, &statement.milestone).await?;
    if args.format != Format::Table {
        // A CSV or JSON statement is an export of student data: who took it is recorded.
        store
            .audit(
                actor,
                "export.statement",
                &format!(
                    "contract:{}/milestone:{}",
                    args.contract, statement.milestone
                ),
                &format!(
                    "{}, {} student lines",
                    if args.format == Format::Csv {
                        "csv"
                    } else {
                        "json"
                    },
                    statement.lines.len()
                ),
            )
            .await?;
    }
    emit(&statement, args.format, args.output.as_deref())
}

fn finalized_status(f: &obc_store::StoredStatement) -> String {
    format!(
        "FINALIZED {} by {} (sha256 {})",
        f.finalized_at, f.finalized_by, f.content_sha256
    )
}

pub async fn finalize(store: &Store, actor: &str, args: &StatementArgs) -> Result<()> {
    let working = super::working(&format!("Finalizing the statement of {}", args.contract));
    let (statement, stored) = match which(args)? {
        Which::Milestone(milestone, as_of) => {
            obc_app::finalize_statement(store, actor, &args.contract, milestone, as_of).await?
        }
        Which::Closing(date) => {
            obc_app::finalize_closing(store, actor, &args.contract, date).await?
        }
    };
    working.finish_and_clear();
    eprintln!(
        "Finalized {} / {}: total {} (sha256 {})",
        stored.contract_id,
        stored.milestone,
        obc_core::money::format_cents(statement.totals.statement_total),
        stored.content_sha256
    );
    super::review::print_review_of(store, &stored.contract_id, &stored.milestone).await?;
    emit(&statement, args.format, args.output.as_deref())
}

pub async fn explain(
    store: &Store,
    contract: &str,
    student: &str,
    milestone: Option<&str>,
    as_of: Option<&str>,
) -> Result<()> {
    let cv = store.contract(contract).await?;
    let milestone = match milestone {
        Some(m) => m.to_string(),
        None => cv
            .contract
            .milestones
            .last()
            .expect("validated")
            .name
            .clone(),
    };
    let statement =
        obc_app::compute_statement(store, &cv, &milestone, obc_app::parse_as_of(as_of)?).await?;
    match statement.explain(student) {
        Some(text) => {
            print!("{text}");
            Ok(())
        }
        None => bail!("student {student} has no line on {contract}'s {milestone} statement (not enrolled during the period?)"),
    }
}
