//! The commands: each reads files with `obc-ingest`, stores with `obc-store` and computes with
//! `obc-core`. `obc demo` drives the very same functions as the individual commands.

pub(crate) mod exhibit;
pub(crate) mod export;
mod imports;
pub(crate) mod lint;
pub(crate) mod progress;
mod review;
pub(crate) mod simulate;
mod statements;
pub(crate) mod target;
mod web;

use crate::{
    Cli, Command, ContractCommand, Format, ImportCommand, LedgerAction, StatementAction,
    UserCommand,
};
use anyhow::{bail, Context, Result};
use obc_core::csv_text::field;
use obc_store::Store;
use std::path::Path;

/// A spinner with the elapsed time on standard error while a long step runs (hidden when
/// standard error is not a terminal), so a minute's statement or roster is not taken for a hang.
/// It clears itself when dropped, however the step ends.
fn working(what: &str) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::new_spinner().with_finish(indicatif::ProgressFinish::AndClear);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}... {elapsed}")
            .expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

pub async fn run(cli: Cli) -> Result<()> {
    let actor = cli.actor.clone().unwrap_or_else(|| {
        format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        )
    });
    if let Command::Simulate(args) = &cli.command {
        return simulate::run(args).await;
    }
    if let Command::Restore { file, force } = &cli.command {
        return restore(file, &cli.db, *force).await;
    }
    if let Command::Exhibit(args) = &cli.command {
        return exhibit::run(args);
    }
    if let Command::Demo {
        students: Some(students),
        export,
        seed,
    } = &cli.command
    {
        let dir = export.as_deref().context("--students needs --export DIR")?;
        return state_demo(dir, *students, *seed);
    }
    let create = matches!(
        cli.command,
        Command::Init | Command::Demo { .. } | Command::Serve { demo: true, .. }
    );
    let store = Store::open(&cli.db, create).await?;
    let result = dispatch(&store, &actor, &cli).await;
    store.close().await;
    result
}

async fn dispatch(store: &Store, actor: &str, cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Init => {
            println!("obc database ready at {}", obc_store::redact(&cli.db));
            Ok(())
        }
        Command::Demo { export, seed, .. } => {
            demo(
                store,
                actor,
                &obc_store::redact(&cli.db),
                export.as_deref(),
                *seed,
            )
            .await
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
        Command::Import(ImportCommand::Attendance { file, district }) => {
            imports::school_attendance(store, actor, file, district.as_deref()).await
        }
        Command::Contract(ContractCommand::Add { file, effective }) => {
            imports::contract(store, actor, file, effective.as_deref()).await
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
                        println!("{},{v}", field(id));
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
        Command::Export(command) => export::run(store, actor, command).await,
        Command::Enroll { contract, file } => imports::enroll(store, actor, contract, file).await,
        Command::Statement(cmd) => match (&cmd.action, &cmd.args) {
            (Some(StatementAction::Finalize(args)), _) => {
                statements::finalize(store, actor, args).await
            }
            (Some(action), _) => review::run(store, actor, action).await,
            (None, Some(args)) => statements::show(store, actor, args).await,
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
                demo(store, actor, &obc_store::redact(&cli.db), None, 7).await?;
            }
            if *with_demo {
                web::demo_users(store, actor).await?;
            }
            web::serve(store, listen, !insecure_cookies).await
        }
        Command::User(UserCommand::Add {
            username,
            role,
            org,
        }) => web::add_user(store, actor, username, *role, org.as_deref()).await,
        Command::User(UserCommand::Token {
            username,
            label,
            days,
        }) => web::add_token(store, actor, username, label, *days).await,
        Command::User(UserCommand::List) => web::list_users(store).await,
        Command::User(UserCommand::Password { username }) => {
            web::set_password(store, actor, username).await
        }
        Command::User(UserCommand::Disable { username }) => {
            store.set_disabled(actor, username, true).await?;
            println!(
                "User {username} disabled: their sign-ins ended and their API tokens were revoked."
            );
            Ok(())
        }
        Command::User(UserCommand::Enable { username }) => {
            store.set_disabled(actor, username, false).await?;
            println!(
                "User {username} may sign in again (make new API tokens with `obc user token`)."
            );
            Ok(())
        }
        Command::User(UserCommand::Tokens { username }) => {
            web::list_tokens(store, username.as_deref()).await
        }
        Command::User(UserCommand::TokenRevoke { id }) => {
            let token = store.revoke_api_token(actor, id).await?;
            println!(
                "Token {} of {} ({}) revoked.",
                token.id, token.username, token.label
            );
            Ok(())
        }
        Command::Ledger {
            action: Some(LedgerAction::Verify),
            ..
        } => verify(store).await,
        Command::Ledger {
            action: None,
            format,
        } => ledger(store, *format).await,
        Command::Backup { file } => {
            store.backup(&file.display().to_string()).await?;
            store
                .audit(actor, "backup", &format!("file:{}", file.display()), "")
                .await?;
            println!(
                "Backed up {} to {}",
                obc_store::redact(&cli.db),
                file.display()
            );
            Ok(())
        }
        Command::Restore { .. } | Command::Exhibit(_) | Command::Lint(_) | Command::Simulate(_) => {
            unreachable!("handled before the database is opened")
        }
        Command::Progress(args) => progress::show_progress(store, actor, args).await,
        Command::Meeting(cmd) => progress::meeting(store, actor, cmd).await,
        Command::Report(cmd) => progress::report(store, actor, cmd).await,
        Command::Target(args) => target::run(store, args).await,
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
    imports::contract(store, actor, &files.contract, None).await?;
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
            let (statement, _) =
                obc_app::finalize_statement(store, actor, &files.contract_id, &m.name, None)
                    .await?;
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
    let statement = obc_app::compute_statement(store, &cv, &last.name, None).await?;
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

/// `obc demo --students N --export DIR`: writes a state-scale data set and says how to import
/// it; no database is opened.
fn state_demo(dir: &Path, students: u64, seed: u64) -> Result<()> {
    let students = usize::try_from(students).context("--students is too large")?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "generating {bar:30} {percent}% ({elapsed}, {eta} left)",
        )
        .expect("valid template"),
    );
    let files = obc_demo::write_state(dir, students, seed, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let files = files.with_context(|| format!("writing the data set to {}", dir.display()))?;
    println!(
        "State-scale data set (seed {seed}) in {}: district {}, {} schools, {} students, {} enrolled in {}, {} sessions, {} MAP rows",
        files.dir.display(),
        files.district_id,
        files.schools,
        files.students,
        files.enrolled,
        files.contract_id,
        files.session_count,
        files.assessment_count
    );
    println!("\nImport it (add --db to choose the database):");
    let path = |p: &Path| p.display().to_string();
    for command in [
        "obc init".to_string(),
        format!("obc import roster {}", path(&files.roster_dir)),
        format!("obc import assessments {}", path(&files.assessments)),
        format!("obc contract add {}", path(&files.contract)),
        format!(
            "obc enroll --contract {} {}",
            files.contract_id,
            path(&files.enrollment)
        ),
        format!(
            "obc import sessions {} --provider {}",
            path(&files.sessions),
            files.provider_id
        ),
        format!(
            "obc statement --contract {} --milestone final",
            files.contract_id
        ),
    ] {
        println!("  {command}");
    }
    Ok(())
}

/// `obc ledger`: finalized statements with their totals, hashes and postings.
async fn ledger(store: &Store, format: Format) -> Result<()> {
    // Records and postings only: the statements' JSON is not read.
    let statements = store.finalized_records().await?;
    let mut rows = Vec::new();
    for s in &statements {
        for e in store.ledger_entries(s.id).await? {
            rows.push((s, e));
        }
    }
    let money = |cents: i64| obc_core::money::format_cents(obc_core::money::from_cents(cents));
    match format {
        Format::Json => {
            let list: Vec<_> = statements
                .iter()
                .map(|s| {
                    let entries: Vec<_> = rows
                        .iter()
                        .filter(|(r, _)| r.id == s.id)
                        .map(|(_, e)| serde_json::json!({"posting": e.posting, "account": e.account, "amount": money(e.amount_cents), "student_id": e.student_id, "memo": e.memo}))
                        .collect();
                    serde_json::json!({
                        "contract": s.contract_id, "version": s.contract_version, "milestone": s.milestone,
                        "statement_date": s.statement_date, "total": money(s.total_cents), "sha256": s.content_sha256,
                        "finalized_at": s.finalized_at, "finalized_by": s.finalized_by, "entries": entries,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Format::Csv => {
            println!("contract,milestone,posting,account,amount,student_id,memo");
            for (s, e) in &rows {
                println!(
                    "{},{},{},{},{},{},{}",
                    field(&s.contract_id),
                    field(&s.milestone),
                    e.posting,
                    field(&e.account),
                    money(e.amount_cents),
                    field(e.student_id.as_deref().unwrap_or("")),
                    field(&e.memo)
                );
            }
        }
        Format::Table => {
            if statements.is_empty() {
                println!("No finalized statements yet.");
            }
            for s in &statements {
                let postings = rows.iter().filter(|(r, _)| r.id == s.id).count() / 2;
                println!(
                    "{:<28} {:<12} v{} {:>14}  {} postings  finalized {} by {}  sha256 {}",
                    s.contract_id,
                    s.milestone,
                    s.contract_version,
                    money(s.total_cents),
                    postings,
                    s.finalized_at,
                    s.finalized_by,
                    s.content_sha256
                );
            }
        }
    }
    Ok(())
}

/// `obc ledger verify`: one line per statement, then one line per problem naming its record.
async fn verify(store: &Store) -> Result<()> {
    let report = obc_app::verify_ledger(store).await?;
    let mut failed = 0;
    for v in &report.statements {
        if v.problems.is_empty() {
            println!(
                "ok       {} / {} (sha256 {})",
                v.contract_id, v.milestone, v.sha256
            );
        } else {
            failed += 1;
            println!("MISMATCH {} / {}:", v.contract_id, v.milestone);
            for p in &v.problems {
                println!("         {p}");
            }
        }
    }
    for p in &report.other_problems {
        println!("PROBLEM  {}: {}", p.record, p.problem);
    }
    let total = report.statements.len();
    if !report.ok() {
        let mut summary = Vec::new();
        if failed > 0 {
            summary.push(format!(
                "{failed} of {total} finalized statements do not verify"
            ));
        }
        let others = report.other_problems.len();
        if others > 0 {
            summary.push(format!(
                "{others} other problem{} in the ledger",
                if others == 1 { "" } else { "s" }
            ));
        }
        bail!("{}", summary.join("; "));
    }
    if let Some(head) = &report.head {
        // On standard error: the head hashes times, so it differs between databases.
        eprintln!(
            "chain of {} records intact, head sha256 {head}",
            report.links
        );
    }
    println!("{total} finalized statements verified");
    Ok(())
}

/// `obc restore`: puts a backup in place of the database, after checking it is one.
async fn restore(file: &Path, db: &str, force: bool) -> Result<()> {
    if obc_store::is_postgres_url(db) {
        bail!(
            "obc restore replaces a SQLite database file; restore a PostgreSQL database with pg_restore or psql"
        );
    }
    if !file.exists() {
        bail!("no backup at {}", file.display());
    }
    Store::open(&file.display().to_string(), false)
        .await
        .with_context(|| format!("{} is not an obc database", file.display()))?
        .close()
        .await;
    if Path::new(db).exists() && !force {
        bail!(
            "{db} exists; pass --force to replace it with {}",
            file.display()
        );
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{suffix}"));
    }
    std::fs::copy(file, db).with_context(|| format!("copying {} to {db}", file.display()))?;
    let store = Store::open(db, false).await?;
    store
        .audit("cli", "restore", &format!("file:{}", file.display()), "")
        .await?;
    store.close().await;
    println!("Restored {db} from {}", file.display());
    Ok(())
}
