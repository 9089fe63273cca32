//! The commands: each reads files with `obc-ingest`, stores with `obc-store` and computes with
//! `obc-core`. `obc demo` drives the very same functions as the individual commands.

mod imports;
mod statements;
mod web;

use crate::{Cli, Command, ContractCommand, Format, ImportCommand, StatementAction, UserCommand};
use anyhow::{bail, Context, Result};
use obc_store::Store;
use std::path::Path;

pub async fn run(cli: Cli) -> Result<()> {
    let actor = cli.actor.clone().unwrap_or_else(|| {
        format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        )
    });
    let create = matches!(cli.command, Command::Init | Command::Demo { .. } | Command::Serve { demo: true, .. });
    let store = Store::open(&cli.db, create).await?;
    let result = dispatch(&store, &actor, &cli).await;
    store.close().await;
    result
}

async fn dispatch(store: &Store, actor: &str, cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Init => {
            println!("obc database ready at {}", cli.db);
            Ok(())
        }
        Command::Demo { export, seed } => {
            demo(store, actor, &cli.db, export.as_deref(), *seed).await
        }
        Command::Import(ImportCommand::Roster { path, district }) => {
            imports::roster(store, actor, path, district.as_deref()).await
        }
        Command::Import(ImportCommand::Assessments { file, district }) => {
            imports::assessments(store, actor, file, district.as_deref()).await
        }
        Command::Import(ImportCommand::Sessions { file, provider }) => {
            imports::sessions(store, actor, file, provider).await
        }
        Command::Contract(ContractCommand::Add { file }) => {
            imports::contract(store, actor, file).await
        }
        Command::Contract(ContractCommand::Show { id }) => {
            let cv = store.contract(id).await?;
            println!(
                "# contract {} version {} (sha256 {})",
                id, cv.version, cv.sha256
            );
            print!("{}", cv.source);
            Ok(())
        }
        Command::Contract(ContractCommand::List { format }) => {
            let contracts = store.contracts().await?;
            match format {
                Format::Json => {
                    let list: Vec<_> = contracts
                        .iter()
                        .map(|(id, v)| serde_json::json!({"id": id, "version": v}))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&list)?);
                }
                Format::Csv => {
                    println!("id,version");
                    for (id, v) in &contracts {
                        println!("{id},{v}");
                    }
                }
                Format::Table => {
                    for (id, v) in &contracts {
                        println!("{id:<40} version {v}");
                    }
                }
            }
            Ok(())
        }
        Command::Enroll { contract, file } => imports::enroll(store, actor, contract, file).await,
        Command::Statement(cmd) => match (&cmd.action, &cmd.args) {
            (Some(StatementAction::Finalize(args)), _) => {
                statements::finalize(store, actor, args).await
            }
            (None, Some(args)) => statements::show(store, args).await,
            (None, None) => bail!("give --contract and --milestone (see obc statement --help)"),
        },
        Command::Explain {
            contract,
            student,
            milestone,
            as_of,
        } => {
            statements::explain(
                store,
                contract,
                student,
                milestone.as_deref(),
                as_of.as_deref(),
            )
            .await
        }
        Command::Serve {
            listen,
            demo: with_demo,
            insecure_cookies,
        } => {
            if *with_demo && store.contracts().await?.is_empty() {
                demo(store, actor, &cli.db, None, 7).await?;
            }
            if *with_demo {
                web::demo_users(store, actor).await?;
            }
            web::serve(store, listen, !insecure_cookies).await
        }
        Command::User(UserCommand::Add { username, role, org }) => {
            web::add_user(store, actor, username, *role, org.as_deref()).await
        }
        Command::User(UserCommand::Token { username, label }) => web::add_token(store, actor, username, label).await,
        Command::Audit { format } => {
            let log = store.audit_log().await?;
            match format {
                Format::Json => {
                    let rows: Vec<_> = log
                        .iter()
                        .map(|(at, actor, action, record, detail)| {
                            serde_json::json!({"at": at, "actor": actor, "action": action, "record": record, "detail": detail})
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                }
                _ => {
                    for (at, actor, action, record, detail) in log {
                        println!("{at}  {actor:<16} {action:<20} {record:<36} {detail}");
                    }
                }
            }
            Ok(())
        }
    }
}

/// `obc demo`: generate, import through the real importers, finalize the first milestones,
/// print the final statement's summary.
async fn demo(
    store: &Store,
    actor: &str,
    db: &str,
    export: Option<&Path>,
    seed: u64,
) -> Result<()> {
    let temp;
    let dir = match export {
        Some(dir) => dir,
        None => {
            temp = std::env::temp_dir().join(format!("obc-demo-{}", std::process::id()));
            temp.as_path()
        }
    };
    let files = obc_demo::write_demo(dir, seed)
        .with_context(|| format!("writing the demo files to {}", dir.display()))?;
    println!(
        "Demo district {}: {} students, {} enrolled in {}, {} sessions, {} test events",
        files.district_id,
        files.students,
        files.enrolled,
        files.contract_id,
        files.session_count,
        files.assessment_count
    );
    imports::roster(store, actor, &files.roster_dir, None).await?;
    imports::contract(store, actor, &files.contract).await?;
    imports::enroll(store, actor, &files.contract_id, &files.enrollment).await?;
    imports::assessments(store, actor, &files.assessments, Some(&files.district_id)).await?;
    imports::sessions(store, actor, &files.sessions, &files.provider_id).await?;
    let cv = store.contract(&files.contract_id).await?;
    for m in cv.contract.milestones.iter().filter(|m| !m.contingent) {
        if store
            .finalized(&files.contract_id, &m.name)
            .await?
            .is_none()
        {
            let statement = statements::compute(store, &cv, &m.name, None).await?;
            store.finalize(actor, &statement, m.date).await?;
            println!(
                "Finalized the {} statement: {}",
                m.name,
                obc_core::money::format_cents(statement.totals.statement_total)
            );
        }
    }
    let last = cv
        .contract
        .milestones
        .last()
        .expect("validated contract has milestones");
    let statement = statements::compute(store, &cv, &last.name, None).await?;
    println!();
    print!("{}", statement.summary());
    match export {
        Some(dir) => println!("\nThe demo's input files are in {}", dir.display()),
        None => {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    println!(
        "\nDatabase: {db}. Next: obc --db {db} statement --contract {c} --milestone {m} --format csv\n      or: obc --db {db} explain --contract {c} --student <id>",
        c = files.contract_id,
        m = last.name
    );
    Ok(())
}
