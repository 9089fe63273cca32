//! `obc import ...`, `obc contract add` and `obc enroll`: check the whole file, then store it in
//! one transaction, or store nothing and name every problem.

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use obc_core::Contract;
use obc_ingest::{AssessmentReader, ImportError, ImportErrors, SessionReader};
use obc_store::Store;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The error for a file with wrong rows: every problem, and that nothing was imported.
fn rejected(errors: ImportErrors) -> anyhow::Error {
    anyhow!(
        "{errors}\n{} problem{} found; nothing was imported",
        errors.total,
        if errors.total == 1 { "" } else { "s" }
    )
}

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

pub async fn roster(store: &Store, actor: &str, path: &Path, district: Option<&str>) -> Result<()> {
    let roster = obc_ingest::read_roster(path, district).map_err(rejected)?;
    let report = store
        .import_roster(
            actor,
            &path.display().to_string(),
            &roster.district_id,
            &roster.district_name,
            &roster.schools,
            &roster.students,
        )
        .await?;
    println!(
        "Roster of {} ({}): {} schools, {} students ({} added, {} updated, {} unchanged)",
        roster.district_id,
        roster.district_name,
        roster.schools.len(),
        roster.students.len(),
        report.students_added,
        report.students_updated,
        report.students_unchanged
    );
    Ok(())
}

/// The district an import is for: the one named, else the only one in the database.
async fn district_for(store: &Store, district: Option<&str>) -> Result<String> {
    let known = store.organisations("district").await?;
    match district {
        Some(d) if known.iter().any(|k| k == d) => Ok(d.to_string()),
        Some(d) => bail!(
            "unknown district \"{d}\": import its roster first (known: {})",
            known.join(", ")
        ),
        None => match known.as_slice() {
            [only] => Ok(only.clone()),
            [] => bail!("no district yet: import a roster first (obc import roster ...)"),
            many => bail!(
                "several districts ({}): say which with --district",
                many.join(", ")
            ),
        },
    }
}

pub async fn assessments(
    store: &Store,
    actor: &str,
    file: &Path,
    district: Option<&str>,
) -> Result<()> {
    let district = district_for(store, district).await?;
    let rostered: HashSet<String> = store.students(&district).await?.into_keys().collect();
    let reader = AssessmentReader::open(file).map_err(|e| rejected(e.into()))?;
    let name = file.display().to_string();
    let mut import = store.begin_assessments(&district).await?;
    let mut errors = ImportErrors::new();
    let (mut rows, mut skipped) = (0u64, 0u64);
    let mut flagged = Vec::new();
    let bar = progress("checking and staging test results");
    for row in reader {
        bar.inc(1);
        match row {
            Err(e) => errors.push(e),
            Ok((line, result)) => {
                rows += 1;
                if !rostered.contains(&result.student_id) {
                    skipped += 1;
                    continue;
                }
                if result
                    .rapid_guessing_pct
                    .is_some_and(|p| p >= Decimal::from(30))
                {
                    flagged.push(format!(
                        "{name}:{line}: student {} rapid guessing {}%",
                        result.student_id,
                        result.rapid_guessing_pct.unwrap_or_default()
                    ));
                } else if !result.growth_measure {
                    flagged.push(format!(
                        "{name}:{line}: student {} GrowthMeasureYN is false (not valid for growth)",
                        result.student_id
                    ));
                }
                if errors.total == 0 {
                    import.add(result).await?;
                }
            }
        }
    }
    bar.finish_and_clear();
    if errors.total > 0 {
        return Err(rejected(errors));
    }
    let counts = import.commit(actor, &name).await?;
    println!(
        "Assessments for {district}: {rows} rows read, {} added, {} replaced, {} unchanged, {skipped} skipped (students not in the roster)",
        counts.added, counts.replaced, counts.unchanged
    );
    if !flagged.is_empty() {
        println!("{} tests may be invalid for growth (NWEA flags 30% rapid guessing; the contract decides):", flagged.len());
        for f in flagged.iter().take(10) {
            println!("  {f}");
        }
        if flagged.len() > 10 {
            println!("  ... and {} more", flagged.len() - 10);
        }
    }
    Ok(())
}

pub async fn sessions(store: &Store, actor: &str, file: &Path, provider: &str) -> Result<()> {
    let student_districts = store.student_districts().await?;
    let provider_contracts = store.provider_enrollments(provider).await?;
    let reader = SessionReader::open(file).map_err(|e| rejected(e.into()))?;
    let name = file.display().to_string();
    let mut import = store.begin_sessions(provider).await?;
    let mut errors = ImportErrors::new();
    let mut not_enrolled: HashSet<String> = HashSet::new();
    let mut rows = 0u64;
    let bar = progress("checking and staging sessions");
    for row in reader {
        bar.inc(1);
        let (line, session) = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        rows += 1;
        let district = match resolve_district(
            &student_districts,
            &provider_contracts.districts,
            &session.student_id,
        ) {
            Ok(d) => d,
            Err(expected) => {
                errors.push(ImportError::value(
                    &name,
                    line,
                    "student_id",
                    &session.student_id,
                    expected,
                ));
                continue;
            }
        };
        if !provider_contracts
            .students
            .contains(&(district.clone(), session.student_id.clone()))
        {
            not_enrolled.insert(session.student_id.clone());
        }
        if errors.total == 0 {
            import.add(&district, session).await?;
        }
    }
    bar.finish_and_clear();
    if errors.total > 0 {
        return Err(rejected(errors));
    }
    let counts = import.commit(actor, &name).await?;
    println!(
        "Sessions of {provider}: {rows} rows, {} added, {} replaced (earlier versions kept), {} unchanged",
        counts.added, counts.replaced, counts.unchanged
    );
    if !not_enrolled.is_empty() {
        let mut ids: Vec<_> = not_enrolled.into_iter().collect();
        ids.sort();
        println!(
            "warning: {} students are not (yet) enrolled in any of {provider}'s contracts; their sessions are kept and count once they are: {}{}",
            ids.len(),
            ids.iter().take(10).cloned().collect::<Vec<_>>().join(", "),
            if ids.len() > 10 { ", ..." } else { "" }
        );
    }
    Ok(())
}

/// The district of a session's student: the only district that has the id, else the only one
/// of those where the provider has a contract.
fn resolve_district(
    student_districts: &HashMap<String, Vec<String>>,
    provider_districts: &HashSet<String>,
    student: &str,
) -> Result<String, String> {
    let candidates = student_districts
        .get(student)
        .map(Vec::as_slice)
        .unwrap_or_default();
    match candidates {
        [] => Err("a student id of an imported roster".into()),
        [only] => Ok(only.clone()),
        many => {
            let with_contract: Vec<_> = many
                .iter()
                .filter(|d| provider_districts.contains(*d))
                .collect();
            match with_contract.as_slice() {
                [only] => Ok((*only).clone()),
                _ => Err(format!(
                    "a student id of one district (it is in {}, and the provider has contracts with {})",
                    many.join(", "),
                    with_contract.len()
                )),
            }
        }
    }
}

pub async fn contract(store: &Store, actor: &str, file: &Path) -> Result<()> {
    let source = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let source = String::from_utf8(source).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        anyhow!("{}:{line}: expected UTF-8 text", file.display())
    })?;
    let contract = Contract::parse(&source).map_err(|e| {
        let lines: Vec<String> = e
            .problems
            .iter()
            .map(|p| format!("{}:{}:{}: {}", file.display(), p.line, p.column, p.message))
            .collect();
        anyhow!("{}\nthe contract was not added", lines.join("\n"))
    })?;
    let cv = store.add_contract(actor, &contract, &source).await?;
    if cv.created {
        let used = if cv.version > 1 && store.contract_is_used(&contract.id).await? {
            " (earlier versions stay as signed: finalized statements name them)"
        } else {
            ""
        };
        println!(
            "Contract {} version {} added (sha256 {}){used}",
            contract.id, cv.version, cv.sha256
        );
    } else {
        println!(
            "Contract {} version {} is unchanged",
            contract.id, cv.version
        );
    }
    Ok(())
}

pub async fn enroll(store: &Store, actor: &str, contract_id: &str, file: &Path) -> Result<()> {
    let cv = store.contract(contract_id).await?;
    let rows = obc_ingest::enrollments::open(file).map_err(rejected)?;
    let rostered: HashSet<String> = store
        .students(&cv.contract.district)
        .await?
        .into_keys()
        .collect();
    let name = file.display().to_string();
    let mut errors = ImportErrors::new();
    for (line, e) in &rows {
        if !rostered.contains(&e.student_id) {
            errors.push(ImportError::value(
                &name,
                *line,
                "student_id",
                &e.student_id,
                format!("a student in district {}'s roster", cv.contract.district),
            ));
        }
    }
    if errors.total > 0 {
        return Err(rejected(errors));
    }
    let enrollments: Vec<_> = rows.into_iter().map(|(_, e)| e).collect();
    let report = store
        .enroll(actor, &name, contract_id, &enrollments)
        .await?;
    println!(
        "Enrollments in {contract_id}: {} added, {} updated, {} unchanged",
        report.added, report.updated, report.unchanged
    );
    Ok(())
}
