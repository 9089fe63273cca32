//! Exports of a contract in other data standards: INDIGO (SPEC 8) and Ed-Fi. This module
//! gathers what the pure mappings of `obc_core::export` need from the store; the CLI writes the
//! result to files, the web app sends it.

use crate::{AppError, Result};
use obc_core::export::{edfi, indigo, Party};
use obc_core::Statement;
use obc_store::{ContractVersion, Store};

async fn party(store: &Store, id: &str) -> Result<Party> {
    Ok(Party {
        id: id.to_string(),
        name: store
            .organisation_name(id)
            .await?
            .unwrap_or_else(|| id.to_string()),
    })
}

/// A contract's finalized statements (date order) with the day each was finalized.
pub async fn finalized_statements(
    store: &Store,
    contract_id: &str,
) -> Result<Vec<(Statement, String)>> {
    let mut out = Vec::new();
    let mut finalized = store.finalized_statements_of(contract_id).await?;
    while let Some(stored) = finalized.next().await? {
        let statement = crate::stored_statement(&stored)?;
        let day = stored
            .finalized_at
            .get(..10)
            .unwrap_or(&stored.finalized_at)
            .to_string();
        out.push((statement, day));
    }
    Ok(out)
}

/// The statement of the first milestone not finalized yet, computed with today's data: what
/// the contract plans to pay next. `None` once every milestone is finalized.
async fn next_draft(
    store: &Store,
    cv: &ContractVersion,
    finalized: &[(Statement, String)],
) -> Result<Option<Statement>> {
    let next = cv
        .contract
        .milestones
        .iter()
        .find(|m| !finalized.iter().any(|(s, _)| s.milestone == m.name));
    match next {
        Some(m) => Ok(Some(
            crate::compute_statement(store, cv, &m.name, None).await?,
        )),
        None => Ok(None),
    }
}

/// The contract's INDIGO project document: the latest version, its finalized statements as
/// actual payments and the next milestone's draft as the planned one.
pub async fn indigo_project(store: &Store, contract_id: &str) -> Result<serde_json::Value> {
    let cv = store.contract(contract_id).await?;
    let finalized = finalized_statements(store, contract_id).await?;
    let draft = next_draft(store, &cv, &finalized).await?;
    let project = indigo::Project {
        contract: &cv.contract,
        version: cv.version,
        contract_sha256: &cv.sha256,
        district: party(store, &cv.contract.district).await?,
        provider: party(store, &cv.contract.provider).await?,
        finalized: finalized
            .iter()
            .map(|(statement, day)| indigo::Finalized {
                statement,
                finalized_on: day.clone(),
            })
            .collect(),
        draft: draft.as_ref(),
    };
    Ok(indigo::project(&project))
}

/// Parses the district's Ed-Fi education organization id: the one given, else the district's
/// own id when it is a number (Ed-Fi's ids are integers, obc's are the roster's strings).
fn education_organization_id(district: &str, given: Option<i64>) -> Result<i64> {
    match given {
        Some(id) => Ok(id),
        None => district.parse().map_err(|_| {
            AppError::Invalid(format!(
                "district \"{district}\" has no numeric id: give its Ed-Fi educationOrganizationId \
                 (the LEA id of the district's ODS) with --education-organization-id"
            ))
        }),
    }
}

/// The contract's Ed-Fi resources: the intervention, its student associations and attendance
/// events, the assessments and the student assessments.
pub async fn edfi_resources(
    store: &Store,
    contract_id: &str,
    given_id: Option<i64>,
) -> Result<edfi::Resources> {
    let cv = store.contract(contract_id).await?;
    let target = edfi::Target {
        education_organization_id: education_organization_id(&cv.contract.district, given_id)?,
    };
    let students = store.statement_inputs(&cv.contract, None).await?;
    Ok(edfi::resources(&cv.contract, &target, &students))
}
