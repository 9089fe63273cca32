//! `obc target`: choose the students who most need tutoring from the imported roster and
//! assessment results, show the equity view, and write the enrollment CSV (SPEC 3.4).

use anyhow::{anyhow, Context, Result};
use clap::{Args, ValueEnum};
use obc_core::design::target::{self, share, Cut, RulesText, Selection, TargetRules};
use obc_store::Store;
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The report's rendering.
#[derive(Clone, Copy, ValueEnum)]
pub enum TargetFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct TargetArgs {
    /// The rules as a TOML file instead of the flags below (see docs/DESIGN.md, "target").
    #[arg(long, conflicts_with_all = ["grades", "subject", "term", "percentile_below", "rit_below", "flags", "max_per_school"])]
    rules: Option<PathBuf>,
    /// The district (needed when the database holds several).
    #[arg(long)]
    district: Option<String>,
    /// Grades to consider, comma-separated (default: every grade).
    #[arg(long, value_delimiter = ',')]
    grades: Vec<String>,
    /// The tests' subject, as MAP writes it.
    #[arg(long, required_unless_present = "rules")]
    subject: Option<String>,
    /// The term whose tests the cut applies to, as MAP's TermName.
    #[arg(long, required_unless_present = "rules")]
    term: Option<String>,
    /// Select students whose percentile on the term is below this.
    #[arg(long, conflicts_with = "rit_below", required_unless_present_any = ["rit_below", "rules"])]
    percentile_below: Option<Decimal>,
    /// Select students whose RIT score on the term is below this.
    #[arg(long)]
    rit_below: Option<Decimal>,
    /// Only students carrying this roster flag with a true value (repeatable).
    #[arg(long = "flag")]
    flags: Vec<String>,
    /// At most this many students per school, the lowest first (ties by student id).
    #[arg(long)]
    max_per_school: Option<usize>,
    /// Write the selection as an enrollment CSV (`student_id,start_date`) for `obc enroll`.
    #[arg(long, requires = "start")]
    out: Option<PathBuf>,
    /// The enrollment start date written in the CSV (YYYY-MM-DD); required with --out.
    #[arg(long)]
    start: Option<String>,
    #[arg(long, value_enum, default_value_t = TargetFormat::Text)]
    format: TargetFormat,
}

pub async fn run(store: &Store, args: &TargetArgs) -> Result<()> {
    let rules = match &args.rules {
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            target::parse_rules(&source).map_err(|e| anyhow!("{}: {e}", path.display()))?
        }
        None => rules_from_flags(args)?,
    };
    let start = args
        .start
        .as_deref()
        .map(|text| {
            obc_core::model::parse_user_date(text).map_err(|why| anyhow!("--start {text}: {why}"))
        })
        .transpose()?;
    let selection = obc_app::target::target(store, args.district.as_deref(), &rules).await?;
    if let (Some(path), Some(start)) = (&args.out, start) {
        std::fs::write(path, selection.enrollment_csv(start))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "wrote {} students to {}",
            selection.chosen.len(),
            path.display()
        );
    }
    match args.format {
        TargetFormat::Json => println!("{}", serde_json::to_string_pretty(&selection)?),
        TargetFormat::Text => print!("{}", report(&selection)),
    }
    Ok(())
}

/// The flags as the rules' words, through the same parser as a rules file and the web form.
fn rules_from_flags(args: &TargetArgs) -> Result<TargetRules> {
    RulesText {
        grades: args.grades.clone(),
        subject: args.subject.clone().unwrap_or_default(),
        term: args.term.clone().unwrap_or_default(),
        percentile_below: args.percentile_below.map(|d| d.to_string()),
        rit_below: args.rit_below.map(|d| d.to_string()),
        flags: args.flags.clone(),
        max_per_school: args.max_per_school,
    }
    .rules()
    .map_err(|e| anyhow!("{e}"))
}

/// The equity view: the selection next to the district, by school and by flag.
fn report(s: &Selection) -> String {
    let r = &s.rules;
    let cut = match r.cut {
        Cut::PercentileBelow(p) => format!("percentile below {p}"),
        Cut::RitBelow(p) => format!("RIT below {p}"),
    };
    let grades = if r.grades.is_empty() {
        "all".to_string()
    } else {
        r.grades
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let n = s.chosen.len();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Selected {n} of {} students: {} {}, {cut}; grades {grades}; flags {}; at most {} per school ({} left out by it)",
        s.district_students,
        r.subject,
        r.term,
        if r.flags.is_empty() { "none".to_string() } else { r.flags.join(", ") },
        r.max_per_school.map_or("any".to_string(), |m| m.to_string()),
        s.over_school_cap,
    );
    let _ = writeln!(
        out,
        "\n{:<24} {:>9} {:>9} {:>9}",
        "school", "selected", "district", "share"
    );
    for (school, c) in &s.by_school {
        let _ = writeln!(
            out,
            "{school:<24} {:>9} {:>9} {:>9}",
            c.selected,
            c.district,
            share(c.selected, c.district)
        );
    }
    let _ = writeln!(
        out,
        "\n{:<24} {:>9} {:>12} {:>9} {:>12}",
        "flag", "selected", "of selection", "district", "of district"
    );
    for (flag, c) in &s.by_flag {
        let _ = writeln!(
            out,
            "{flag:<24} {:>9} {:>12} {:>9} {:>12}",
            c.selected,
            share(c.selected, n),
            c.district,
            share(c.district, s.district_students)
        );
    }
    if s.by_flag.is_empty() {
        let _ = writeln!(out, "(the roster carries no flags)");
    }
    out
}
