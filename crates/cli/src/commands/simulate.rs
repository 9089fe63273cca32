//! `obc simulate`: a draft contract's payments over many simulated years (SPEC 7), from last
//! year's files or from an assumptions TOML. The computing is `obc_core::design::simulate`.

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use obc_core::design::simulate::{self, Assumptions, Plan, Population};
use obc_core::Contract;
use obc_store::Store;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Run a contract's rules over many simulated years: what the district may pay and the
/// provider earn, their spread (p5/p50/p95), the share of the contingent part paid, the cost per
/// student who met the target, how the risk is shared, and what a provider with no effect would
/// earn ("paying for chance", SPEC 7).
///
/// Each year's students are last year's, resampled with replacement (--history: a folder with
/// `roster/` (OneRoster CSV), `AssessmentResults.csv`, `sessions.csv` and `enrollment.csv`, read
/// under this contract), or drawn from the distributions of --assumptions (keys and defaults in
/// docs/DESIGN.md; every assumption is printed with the result). The same seed gives the same
/// bytes.
///
/// Example: obc simulate contract.toml --students 5000 --years 10000 --effect 2.5 --seed 7
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// The contract document (TOML, SPEC 4).
    contract: PathBuf,
    /// Last year's files to resample students from.
    #[arg(long)]
    history: Option<PathBuf>,
    /// Distributions of a drawn year (TOML; see docs/DESIGN.md). Defaults are printed.
    #[arg(long)]
    assumptions: Option<PathBuf>,
    /// Simulated years.
    #[arg(long, default_value_t = 1000)]
    years: u32,
    /// Seed of the random draws.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The provider's assumed effect: RIT points added to every student's growth (at most 1
    /// decimal). The same years with no effect are always reported beside it.
    #[arg(long, default_value = "0")]
    effect: String,
    /// Students per year (default: the history's count, else `students` of the assumptions,
    /// else the NTE divided by the price).
    #[arg(long)]
    students: Option<u32>,
    #[arg(long, value_enum, default_value_t = SimulateFormat::Text)]
    format: SimulateFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimulateFormat {
    Text,
    Json,
}

pub async fn run(args: &SimulateArgs) -> Result<()> {
    let source = std::fs::read_to_string(&args.contract)
        .with_context(|| format!("reading {}", args.contract.display()))?;
    let contract = Contract::parse(&source)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.contract.display()))?;
    let effect = Decimal::from_str(args.effect.trim())
        .map_err(|_| anyhow::anyhow!("--effect {}: expected RIT points, e.g. 2.5", args.effect))?;
    let assumptions = match &args.assumptions {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Assumptions::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Assumptions::default(),
    };
    let population = match &args.history {
        Some(dir) => history(&args.contract, &contract, dir).await?,
        None => Population::Drawn,
    };
    let plan = Plan {
        years: args.years,
        seed: args.seed,
        effect,
        students: args.students,
        assumptions,
    };
    let runs = if effect.is_zero() { 1 } else { 2 };
    let bar = ProgressBar::new(u64::from(args.years) * runs);
    bar.set_style(
        ProgressStyle::with_template("simulating {bar:30} {human_pos}/{human_len} years ({eta})")
            .expect("valid template"),
    );
    let report = simulate::simulate(&contract, &population, &plan, &|| bar.inc(1));
    bar.finish_and_clear();
    let report = report?;
    match args.format {
        SimulateFormat::Text => print!("{}", report.to_text()),
        SimulateFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(())
}

/// Last year's students: the history files imported into a scratch database (the same
/// importers and checks as `obc import`), then the contract's statement at its contingent
/// milestone, computed with no earlier payments.
async fn history(contract_path: &Path, contract: &Contract, dir: &Path) -> Result<Population> {
    let scratch = std::env::temp_dir().join(format!("obc-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let db = scratch.join("history.db");
    let store = Store::open(&db.display().to_string(), true).await?;
    let result = load_history(&store, contract_path, contract, dir).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn load_history(
    store: &Store,
    contract_path: &Path,
    contract: &Contract,
    dir: &Path,
) -> Result<Population> {
    let actor = "obc simulate";
    let file = |name: &str| {
        let path = dir.join(name);
        if !path.exists() {
            bail!(
                "--history {}: no {name} (expected roster/, AssessmentResults.csv, sessions.csv, enrollment.csv)",
                dir.display()
            );
        }
        Ok(path)
    };
    let roster_dir = file("roster")?;
    let roster = obc_ingest::read_roster(&roster_dir, None).map_err(obc_app::AppError::from)?;
    obc_app::import_roster(store, actor, &roster_dir.display().to_string(), roster).await?;
    let bytes = std::fs::read(contract_path)?;
    let cv = obc_app::add_contract(
        store,
        actor,
        &contract_path.display().to_string(),
        &bytes,
        None,
    )
    .await?;
    let enrollment = file("enrollment.csv")?;
    let reader = std::fs::File::open(&enrollment)?;
    obc_app::enroll(
        store,
        actor,
        &contract.id,
        &enrollment.display().to_string(),
        reader,
    )
    .await?;
    let district = obc_app::district_for(store, None).await?;
    let results = file("AssessmentResults.csv")?;
    obc_app::import_assessments(
        store,
        actor,
        || std::fs::File::open(&results).map(std::io::BufReader::new),
        &results.display().to_string(),
        &district,
        &mut |_| {},
    )
    .await?;
    let sessions = file("sessions.csv")?;
    obc_app::import_sessions(
        store,
        actor,
        || std::fs::File::open(&sessions).map(std::io::BufReader::new),
        &sessions.display().to_string(),
        &contract.provider,
        obc_app::Reach::AnyDistrict,
        &mut |_| {},
    )
    .await?;
    let milestone = simulate::contingent_milestone(contract)?;
    let statement = obc_app::compute_statement(store, &cv, &milestone.name, None).await?;
    Ok(Population::from_statement(&statement))
}
