//! `obc import ...`, `obc contract add` and `obc enroll`: the use cases of `obc-app`, with
//! progress on standard error and a report on standard output.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use obc_store::Store;
use std::path::Path;

/// A row counter on standard error for long imports (hidden when not a terminal).
fn progress(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {human_pos} rows ({per_sec})")
            .expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar
}

/// Moves `bar` to the rows read every 4,096 rows: drawing on each row of a multi-million-row
/// file was a noticeable share of an import's check.
fn every_4096_rows(bar: &ProgressBar) -> impl FnMut(u64) + '_ {
    |rows| {
        if rows.is_multiple_of(4096) {
            bar.set_position(rows);
        }
    }
}

/// Prints at most ten items of a list, then how many more.
fn print_some(items: &[String]) {
    for item in items.iter().take(10) {
        println!("  {item}");
    }
    if items.len() > 10 {
        println!("  ... and {} more", items.len() - 10);
    }
}

pub async fn roster(store: &Store, actor: &str, path: &Path, district: Option<&str>) -> Result<()> {
    let working = super::working(&format!("Reading the roster {}", path.display()));
    let roster = obc_ingest::read_roster(path, district).map_err(obc_app::AppError::from)?;
    working.set_message(format!(
        "Importing the roster's {} students",
        roster.students.len()
    ));
    let done = obc_app::import_roster(store, actor, &path.display().to_string(), roster).await?;
    drop(working);
    let r = &done.report;
    println!(
        "Roster of {} ({}): {} schools, {} students ({} added, {} updated, {} unchanged)",
        done.district_id,
        done.district_name,
        done.schools,
        done.students,
        r.students_added,
        r.students_updated,
        r.students_unchanged
    );
    let new_schools = done.new_schools();
    if !new_schools.is_empty() {
        println!(
            "{} new schools (check their ids for typos):",
            new_schools.len()
        );
        print_some(&new_schools);
    }
    Ok(())
}

pub async fn assessments(
    store: &Store,
    actor: &str,
    file: &Path,
    district: Option<&str>,
) -> Result<()> {
    let district = obc_app::district_for(store, district).await?;
    let bar = progress("checking and staging test results");
    let done = obc_app::import_assessments(
        store,
        actor,
        || std::fs::File::open(file).map(std::io::BufReader::new),
        &file.display().to_string(),
        &district,
        &mut every_4096_rows(&bar),
    )
    .await;
    bar.finish_and_clear();
    let done = done?;
    let c = done.counts;
    println!(
        "Assessments for {}: {} rows read, {} added, {} replaced, {} unchanged, {} skipped (students not in the roster)",
        done.district_id, done.rows, c.added, c.replaced, c.unchanged, done.skipped
    );
    if !done.flagged.is_empty() {
        println!(
            "{} tests may be invalid for growth (NWEA flags 30% rapid guessing; the contract decides):",
            done.flagged.len()
        );
        print_some(&done.flagged);
    }
    Ok(())
}

pub async fn sessions(store: &Store, actor: &str, file: &Path, provider: &str) -> Result<()> {
    let bar = progress("checking and staging sessions");
    let done = obc_app::import_sessions(
        store,
        actor,
        || std::fs::File::open(file).map(std::io::BufReader::new),
        &file.display().to_string(),
        provider,
        obc_app::Reach::AnyDistrict,
        &mut every_4096_rows(&bar),
    )
    .await;
    bar.finish_and_clear();
    let done = done?;
    let c = done.counts;
    println!(
        "Sessions of {provider}: {} rows, {} added, {} replaced (earlier versions kept), {} unchanged",
        done.rows, c.added, c.replaced, c.unchanged
    );
    if !done.not_enrolled.is_empty() {
        println!(
            "warning: {} students are not (yet) enrolled in any of {provider}'s contracts; their sessions are kept and count once they are:",
            done.not_enrolled.len()
        );
        print_some(&done.not_enrolled);
    }
    if !done.ambiguous.is_empty() {
        println!(
            "warning: {} sessions have no subject and their students are enrolled in two or more of {provider}'s contracts on their dates: they count for none of them (send a `subject` column to say which):",
            done.ambiguous.len()
        );
        print_some(&done.ambiguous);
    }
    Ok(())
}

pub async fn school_attendance(
    store: &Store,
    actor: &str,
    file: &Path,
    district: Option<&str>,
) -> Result<()> {
    let district = obc_app::district_for(store, district).await?;
    let name = file.display().to_string();
    let reader = std::fs::File::open(file).with_context(|| format!("opening {name}"))?;
    let bar = progress("checking and staging school attendance");
    let done = obc_app::import_school_attendance(
        store,
        actor,
        &name,
        std::io::BufReader::new(reader),
        &district,
        &mut every_4096_rows(&bar),
    )
    .await;
    bar.finish_and_clear();
    let done = done?;
    let c = done.counts;
    println!(
        "School attendance for {}: {} rows, {} added, {} replaced, {} unchanged",
        done.district_id, done.rows, c.added, c.replaced, c.unchanged
    );
    println!("Check the sessions against it with `obc report session-checks --contract ID`.");
    Ok(())
}

pub async fn contract(
    store: &Store,
    actor: &str,
    file: &Path,
    effective: Option<&str>,
) -> Result<()> {
    let effective = effective
        .map(|text| {
            obc_core::model::parse_user_date(text)
                .map_err(|why| anyhow::anyhow!("--effective {text}: {why}"))
        })
        .transpose()?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let cv =
        obc_app::add_contract(store, actor, &file.display().to_string(), &bytes, effective).await?;
    let id = &cv.contract.id;
    if !cv.created {
        println!("Contract {id} version {} is unchanged", cv.version);
        return Ok(());
    }
    println!(
        "Contract {id} version {} added, effective from {} (sha256 {})",
        cv.version, cv.effective_from, cv.sha256
    );
    if cv.version > 1 && store.contract_is_used(id).await? {
        println!(
            "Earlier versions stay as signed: the finalized statements name the version they used."
        );
    }
    Ok(())
}

pub async fn enroll(store: &Store, actor: &str, contract_id: &str, file: &Path) -> Result<()> {
    let name = file.display().to_string();
    let reader = std::fs::File::open(file).with_context(|| format!("opening {name}"))?;
    let working = super::working(&format!("Enrolling {name} in {contract_id}"));
    let report = obc_app::enroll(store, actor, contract_id, &name, reader).await?;
    drop(working);
    println!(
        "Enrollments in {contract_id}: {} added, {} updated, {} unchanged",
        report.added, report.updated, report.unchanged
    );
    Ok(())
}
