//! `obc`: the outcomes-based contracting intermediary on the command line.

mod commands;

/// mimalloc instead of glibc's malloc: a statement allocates rows on the database's reading
/// threads and frees them on the engine's, and glibc's per-thread arenas keep such memory
/// (10-15% of a 100,000-student draft's or finalization's peak RSS, docs/SCALE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// obc measures tutoring outcomes, decides whether a contract's benchmarks were met, and
/// computes what a district owes its tutoring provider, explaining every dollar.
///
/// A year, by hand (see `obc demo --export DIR` for files in the real formats):
///
///   obc init
///   obc import roster roster/                 # OneRoster 1.1 folder or zip
///   obc import assessments AssessmentResults.csv
///   obc import sessions sessions.csv --provider brightpath
///   obc import attendance school_attendance.csv   # optional: daily school attendance
///   obc contract add contract.toml
///   obc enroll --contract mesa-math-2025 enrollment.csv
///   obc statement --contract mesa-math-2025 --milestone enrollment
///   obc statement finalize --contract mesa-math-2025 --milestone enrollment
///   obc statement finalize --contract mesa-math-2025 --closing --as-of 2025-07-15   # late data
///   obc explain --contract mesa-math-2025 --student 2000001
///   obc report session-checks --contract mesa-math-2025
#[derive(Parser)]
#[command(name = "obc", version, verbatim_doc_comment)]
struct Cli {
    /// The database: a SQLite file, or a PostgreSQL URL (postgres://user:password@host/db).
    #[arg(long, global = true, env = "OBC_DB", default_value = "obc.db")]
    db: String,
    /// Who is acting, for the audit log (defaults to cli:$USER).
    #[arg(long, global = true, env = "OBC_ACTOR")]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an empty database (nothing happens if it exists).
    Init,
    /// Build a realistic synthetic district year in the database and print its final statement.
    ///
    /// Generates ~900 students in 4 schools (grades 6-9), one provider, a contract like SPEC
    /// section 4, ~600 enrollments, a school year of sessions and MAP Growth fall/winter/spring
    /// results, imports them through the same importers as real files, finalizes the
    /// enrollment and midyear statements and prints the final statement's summary. The same
    /// seed always gives the same data.
    ///
    /// With --students N, writes a state-scale data set instead (one district, about one school
    /// per 2,000 students, grades 3-8, ~90% enrolled, ~27 sessions per enrolled student, 3-4
    /// MAP rows per student) to the --export folder and prints the commands that import it;
    /// the database is not touched:
    ///
    ///   obc demo --students 100000 --export state-100k/
    #[command(verbatim_doc_comment)]
    Demo {
        /// Also write the generated files (real formats) to this folder, to see what to upload.
        #[arg(long)]
        export: Option<PathBuf>,
        /// Seed of the generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Write a state-scale data set of this many students (10 to 10,000,000) to --export.
        #[arg(long, requires = "export", value_parser = clap::value_parser!(u64).range(10..=10_000_000))]
        students: Option<u64>,
    },
    /// Import a file; the whole file is checked first and nothing is imported if any row is
    /// wrong. Importing the same file again changes nothing.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Add or show contracts.
    #[command(subcommand)]
    Contract(ContractCommand),
    /// Place students in a contract: a CSV `student_id,start_date[,end_date]`.
    Enroll {
        #[arg(long)]
        contract: String,
        file: PathBuf,
    },
    /// Compute a contract's statement at a milestone, or a closing statement after the final one
    /// (a draft unless finalized).
    Statement(StatementCommand),
    /// Simulate a contract's payments over many years (SPEC 7): cost, spread, paying for chance.
    Simulate(commands::simulate::SimulateArgs),
    /// Show how one student's amount was derived, step by step.
    Explain {
        #[arg(long)]
        contract: String,
        #[arg(long)]
        student: String,
        /// The milestone (default: the contingent one).
        #[arg(long)]
        milestone: Option<String>,
        /// Statement date (YYYY-MM-DD), default the milestone's date.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Serve the web app (pages and JSON API) on the same database.
    ///
    /// With --demo, an empty database first gets the demo district (as `obc demo`) and one
    /// login per role, printed at start.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Load the demo district and demo logins when the database has no contract yet.
        #[arg(long)]
        demo: bool,
        /// Send cookies without the Secure flag (plain HTTP on a host other than localhost).
        #[arg(long)]
        insecure_cookies: bool,
    },
    /// Manage the web app's users and API tokens; every change is written to the audit log.
    ///
    ///   obc user add maria --role district --org mesa-usd
    ///   OBC_PASSWORD='a new secret' obc user password maria
    ///   obc user token brightpath-bot --label nightly-push --days 30
    ///   obc user tokens                 # ids, labels, expiry, revocation
    ///   obc user token-revoke 3f2a9c1d0b7e
    ///   obc user disable maria          # ends her sign-ins, revokes her tokens
    #[command(subcommand, verbatim_doc_comment)]
    User(UserCommand),
    /// The ledger of finalized statements; `verify` recomputes each one and checks it.
    Ledger {
        #[command(subcommand)]
        action: Option<LedgerAction>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Copy the whole SQLite database to FILE while it stays in use (a consistent snapshot).
    /// A PostgreSQL database is backed up with pg_dump instead.
    Backup { file: PathBuf },
    /// Replace the SQLite database (--db) with a backup made by `obc backup`.
    Restore {
        file: PathBuf,
        /// Overwrite an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Every enrolled student's status on each factor at a date, by school and factor, with
    /// the contingent pay at risk if nothing changes.
    ///
    /// Attendance and the school's availability to date against attendance.min_rate; the
    /// same-tutor and provider cancel rates against provider_duties; the outcome measured like
    /// the contract's measure over the latest window with a valid score (e.g. Fall to Winter
    /// against MAP's FallToWinterProjectedGrowth) against the tier that meets the target. The
    /// amount at risk is the contingent statement computed as of that date, the latest
    /// interim measure standing in for a missing outcome score until the milestone's date.
    /// Rules: docs/PROGRESS.md.
    ///
    ///   obc progress --contract mesa-math-2025 --as-of 2025-02-03
    ///   obc progress --contract mesa-math-2025 --as-of 2025-02-03 --off-track --format csv -o off.csv
    #[command(verbatim_doc_comment)]
    Progress(commands::progress::ProgressArgs),
    /// Continuous-improvement meetings: open one (the agenda is prepared from progress), record
    /// attendees, notes and action items, close items, list meetings and the cadence.
    #[command(subcommand)]
    Meeting(commands::progress::MeetingCommand),
    /// Reports: weekly teacher updates (written to files) and session checks (sessions marked
    /// attended on days the student was absent from school).
    #[command(subcommand)]
    Report(commands::progress::ReportCommand),
    /// Check a draft contract for mistakes and perverse incentives (SPEC 7), before signing.
    ///
    /// Each finding has a check id (contingent_share, nte_below_full, cliff, paying_for_chance,
    /// cream_skimming, missing_score_incentive, cross_fault, norms), a severity, an explanation
    /// and the numbers behind it; every assumption is printed. Exit status: 0 clean (infos
    /// only), 1 warnings, 2 errors or an invalid contract. No database needed. Rules and
    /// defaults: docs/DESIGN.md.
    ///
    ///   obc lint contract.toml
    ///   obc lint contract.toml --students 450 --history last-year/   # AssessmentResults.csv [, sessions.csv]
    ///   obc lint contract.toml --growth-sd 7 --format json
    #[command(verbatim_doc_comment)]
    Lint(LintArgs),
    /// The contract as the plain-English rate-card exhibit a school board approves: price,
    /// base and contingent parts, each factor's threshold and who answers for it, the tiers,
    /// the milestones, the cap, and worked examples computed by the payout engine. Printable
    /// HTML (Letter) with the contract's SHA-256 on every page; no database needed.
    ///
    ///   obc exhibit contract.toml --out exhibit.html     # open it and print
    ///   obc exhibit contract.toml --format json          # the same content, for scripts
    #[command(verbatim_doc_comment)]
    Exhibit(commands::exhibit::ExhibitArgs),
    /// Export a contract in another data standard: INDIGO (the Government Outcomes Lab's
    /// standard for outcomes contracts) or Ed-Fi (a district's operational data store).
    #[command(subcommand)]
    Export(commands::export::ExportCommand),
    /// Choose the students who most need tutoring from the imported roster and assessment
    /// results: grades, a percentile or RIT cut on a term, flags, a cap per school (lowest
    /// first). Prints counts by school and by flag next to the district's (the equity view)
    /// and writes the choice as an enrollment CSV for `obc enroll`. Rules: docs/DESIGN.md.
    ///
    ///   obc target --subject Mathematics --term "Fall 2024-2025" --percentile-below 40 \
    ///     --grades 6,7 --flag english_learner --max-per-school 25 --start 2024-09-03 --out enrollment.csv
    ///   obc target --rules rules.toml --format json
    #[command(verbatim_doc_comment)]
    Target(commands::target::TargetArgs),
    /// Print the audit log: who did what, when.
    Audit {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A roster: a OneRoster 1.1 folder or zip, MAP's StudentsBySchool.csv, or a plain CSV
    /// `student_id,school_id,grade,first_name,last_name[,flags...]`.
    Roster {
        path: PathBuf,
        /// The district id (needed unless the OneRoster orgs name exactly one district).
        #[arg(long)]
        district: Option<String>,
    },
    /// Assessment results: MAP Growth `AssessmentResults.csv` (combined data file) or a CSV
    /// `student_id,assessment,subject,term,date,score[,projected_growth]`. Rows of students
    /// not in the roster are skipped and counted.
    Assessments {
        file: PathBuf,
        /// The district (needed when the database holds several).
        #[arg(long)]
        district: Option<String>,
    },
    /// A provider's session log, CSV or JSON:
    /// `session_id,student_id,tutor_id,date,minutes,status[,group_size]`. A re-sent session id
    /// replaces the earlier version, which is kept in the history.
    Sessions {
        file: PathBuf,
        #[arg(long)]
        provider: String,
    },
    /// The district's daily school attendance, for session verification: a CSV
    /// `student_id,date,present` with one row per student and school day (date YYYY-MM-DD;
    /// present one of true/false, 1/0, Y/N, yes/no, present/absent). Every student must be in
    /// the district's roster. A session the provider marked attended on a day the student was
    /// absent from school is then flagged for review (see `obc report session-checks`).
    /// A re-sent day replaces the earlier value.
    ///
    ///   obc import attendance school_attendance.csv --district mesa-usd
    #[command(verbatim_doc_comment)]
    Attendance {
        file: PathBuf,
        /// The district (needed when the database holds several).
        #[arg(long)]
        district: Option<String>,
    },
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Recompute every finalized statement from its stored inputs and contract version; check
    /// its hash, its stored lines and its postings. Exits 1 when anything differs.
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from OBC_PASSWORD, else a random one is printed.
    Add {
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The district (district staff) or provider (provider staff) the user belongs to.
        #[arg(long)]
        org: Option<String>,
    },
    /// List the users: role, organisation, and whether they are disabled.
    List,
    /// Set a user's password (a reset: the user changes their own on the web app's Account
    /// page). Read from OBC_PASSWORD, else a random one is printed. Their sign-ins end.
    Password { username: String },
    /// Disable a user: they can no longer sign in, their sign-ins end and every API token of
    /// theirs is revoked (for someone who left, or a leaked password).
    Disable { username: String },
    /// Let a disabled user sign in again. Their old API tokens stay revoked: make new ones.
    Enable { username: String },
    /// Create an API token for a user (e.g. a provider's nightly session push); printed once.
    /// It expires after --days days; make a new one before then.
    Token {
        username: String,
        #[arg(long, default_value = "api")]
        label: String,
        /// Days until the token is refused (1 to 366).
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=366))]
        days: u16,
    },
    /// List API tokens (never the secrets): id, user, label, created, expires, revoked.
    Tokens {
        /// Only this user's tokens.
        username: Option<String>,
    },
    /// Revoke an API token by its id (as `obc user tokens` lists it); it is refused from now on.
    TokenRevoke { id: String },
}

/// A user's role (SPEC section 1).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RoleArg {
    /// Intermediary admin: everything.
    Admin,
    /// District staff: their district only.
    District,
    /// Provider staff: students of their own contracts only.
    Provider,
    /// Read-only: contracts, statements, ledger, audit log.
    Auditor,
}

#[derive(Subcommand)]
enum ContractCommand {
    /// Validate and store a contract TOML. A changed document with a known id becomes a new
    /// version; signed versions are never edited.
    Add {
        file: PathBuf,
        /// For an amendment: statements dated on or after this date (YYYY-MM-DD) use this
        /// version; earlier ones keep the version they used. Default: the period start.
        #[arg(long)]
        effective: Option<String>,
    },
    /// Print a contract's latest version.
    Show { id: String },
    /// List contracts with their latest version.
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct StatementCommand {
    #[command(subcommand)]
    action: Option<StatementAction>,
    #[command(flatten)]
    args: Option<StatementArgs>,
}

#[derive(Subcommand)]
enum StatementAction {
    /// Compute and finalize: the statement is stored with its hash, posted once, and never
    /// changed afterwards.
    Finalize(StatementArgs),
    /// Issue the milestone's draft for review (SPEC 5.12): the district and the provider may
    /// approve it or dispute lines until the deadline (`review_days` after the issue date).
    Issue {
        #[command(flatten)]
        target: ReviewTarget,
        /// The issue date (YYYY-MM-DD), default today: the review deadline counts from it.
        #[arg(long)]
        on: Option<String>,
    },
    /// Record a party's approval of an issued draft (today).
    Approve {
        #[command(flatten)]
        target: ReviewTarget,
        #[arg(long, value_enum)]
        party: ReviewParty,
    },
    /// Record a party's dispute of a student's line, or of the whole statement without
    /// --student, with its reason (today, until the review deadline).
    Dispute {
        #[command(flatten)]
        target: ReviewTarget,
        #[arg(long, value_enum)]
        party: ReviewParty,
        #[arg(long)]
        student: Option<String>,
        #[arg(long)]
        reason: String,
    },
    /// Resolve a dispute (numbered 1, 2, ... in the order raised): upheld once the data is
    /// corrected by an import, or rejected, with a reason.
    Resolve {
        #[command(flatten)]
        target: ReviewTarget,
        #[arg(long)]
        dispute: usize,
        #[arg(long, value_enum)]
        ruling: ReviewRuling,
        #[arg(long)]
        reason: String,
    },
}

/// The statement a review step is about.
#[derive(Args, Clone)]
struct ReviewTarget {
    #[arg(long)]
    contract: String,
    #[arg(long)]
    milestone: String,
}

/// The party a review step is taken for (the CLI acts as the intermediary, on its behalf).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReviewParty {
    District,
    Provider,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReviewRuling {
    Upheld,
    Rejected,
}

#[derive(Args, Clone)]
struct StatementArgs {
    #[arg(long)]
    contract: String,
    #[arg(long, required_unless_present = "closing")]
    milestone: Option<String>,
    /// A closing statement instead of a milestone's: dated --as-of (after the last milestone),
    /// it pays or credits what data received since the finalized statements changes, NTE line
    /// included. Only after the contingent milestone is finalized.
    #[arg(long, conflicts_with = "milestone", requires = "as_of")]
    closing: bool,
    /// Statement date (YYYY-MM-DD), default the milestone's date; a closing statement's date.
    #[arg(long)]
    as_of: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// The arguments of `obc lint`.
#[derive(Args)]
struct LintArgs {
    /// The contract document (TOML, SPEC 4).
    contract: PathBuf,
    /// A folder with last year's MAP results, `AssessmentResults.csv` (combined data file, its
    /// `TestStandardError` too), and optionally its `sessions.csv` (SPEC 3.3): growth spread,
    /// student count, cream-skimming (lowest baselines; most absences) and norms checks use it.
    #[arg(long)]
    history: Option<PathBuf>,
    /// The enrolled or target student count, for the NTE check (default: from --history).
    #[arg(long)]
    students: Option<u32>,
    /// A step between adjacent tiers larger than this share of the price is a cliff [default: 0.10].
    #[arg(long, value_name = "SHARE")]
    cliff_share: Option<rust_decimal::Decimal>,
    /// Spread (SD, RIT) of observed minus projected growth, when no history gives it [default: 5].
    #[arg(long, value_name = "RIT")]
    growth_sd: Option<rust_decimal::Decimal>,
    /// Projected growth (RIT) when neither history nor [outcome.projected] gives it [default: 7].
    #[arg(long, value_name = "RIT")]
    projected_growth: Option<rust_decimal::Decimal>,
    /// The share of the contingent part the "effect needed" must earn on average [default: 0.90].
    #[arg(long, value_name = "SHARE")]
    effect_target: Option<rust_decimal::Decimal>,
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    format: LintFormat,
}

/// Output format of the design commands.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

/// Output format.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

fn main() -> ExitCode {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`obc ledger --format csv | head`) instead of failing on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    if let Command::Lint(args) = &cli.command {
        return commands::lint::run(args);
    }
    // The web app answers many requests at once on every core (the engine and argon2 run on
    // blocking threads besides). A command runs on this thread, with one worker that drives the
    // database connections' I/O meanwhile: a statement's engine keeps this thread busy while
    // PostgreSQL's rows for the next students arrive (docs/SCALE.md).
    let runtime = match cli.command {
        Command::Serve { .. } => tokio::runtime::Builder::new_multi_thread(),
        _ => {
            let mut one_worker = tokio::runtime::Builder::new_multi_thread();
            one_worker.worker_threads(1);
            one_worker
        }
    }
    .enable_all()
    .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_busy(&e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_BUSY)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The exit status of a command refused because another one held the database's write lock
/// (`EX_TEMPFAIL`): nothing is damaged, try again.
const EXIT_BUSY: u8 = 75;

/// Whether the command failed only because the database was busy.
fn is_busy(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<obc_store::StoreError>(),
            Some(obc_store::StoreError::Busy(_))
        ) || matches!(
            cause.downcast_ref::<obc_app::AppError>(),
            Some(obc_app::AppError::Store(obc_store::StoreError::Busy(_)))
        )
    })
}
