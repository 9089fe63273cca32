//! Contract versions and enrollments.

use crate::upserts::{Cell, Upserts};
use crate::versions::{rows_as_of, CONTRACT_VERSIONS, ENROLLMENTS};
use crate::{audit, ensure_organisation, hex_sha256, Result, Store, StoreError};
use obc_core::{Contract, Enrollment, EnrollmentSpan};
use std::collections::{HashMap, HashSet};

/// A stored version of a contract document.
#[derive(Debug, Clone)]
pub struct ContractVersion {
    pub contract: Contract,
    pub version: u32,
    pub sha256: String,
    pub source: String,
    /// The first statement date this version applies to.
    pub effective_from: String,
    /// False when the same document was already the latest version (nothing changed).
    pub created: bool,
}

/// A stored enrollment after its student id: start and end dates.
type StoredEnrollment = (String, Option<String>);

/// What an enrollment file changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnrollReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Where a provider works: the districts of its contracts and, per district and student, the
/// days each of its contracts enrolls the student. Used to place and check the sessions it
/// uploads and to decide which contract a session counts for. Keyed district, then student, so
/// that a lookup per uploaded row borrows its ids instead of allocating a key.
#[derive(Debug, Clone, Default)]
pub struct ProviderEnrollments {
    pub districts: HashSet<String>,
    /// One span per contract enrolling the student (the enrollment within the contract's
    /// period); a student enrolled only outside every period has an empty list.
    spans: HashMap<String, HashMap<String, Vec<EnrollmentSpan>>>,
}

impl ProviderEnrollments {
    /// The spans of a district's student, `None` when none of the contracts enrolls them.
    pub fn enrollment(&self, district: &str, student: &str) -> Option<&[EnrollmentSpan]> {
        self.spans
            .get(district)
            .and_then(|students| students.get(student))
            .map(Vec::as_slice)
    }

    /// Whether one of the provider's contracts enrolls the student of a district.
    pub fn enrolls(&self, district: &str, student: &str) -> bool {
        self.enrollment(district, student).is_some()
    }

    /// The spans of a district's student (empty when none of the contracts enrolls them).
    pub fn spans_of(&self, district: &str, student: &str) -> &[EnrollmentSpan] {
        self.enrollment(district, student).unwrap_or_default()
    }
}

impl Store {
    /// Where a provider works: its contracts' districts and enrolled students, with the days
    /// each contract (its latest version's period) enrolls them.
    pub async fn provider_enrollments(&self, provider: &str) -> Result<ProviderEnrollments> {
        self.provider_enrollments_as_of(provider, None).await
    }

    /// [`Store::provider_enrollments`] as it was after audit record `as_of` (`None`: now).
    pub(crate) async fn provider_enrollments_as_of(
        &self,
        provider: &str,
        as_of: Option<i64>,
    ) -> Result<ProviderEnrollments> {
        let contracts: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT contract_id, district_id FROM {} WHERE provider_id = $1
             ORDER BY contract_id",
            rows_as_of(CONTRACT_VERSIONS, as_of)
        )))
        .bind(provider)
        .fetch_all(&self.pool)
        .await?;
        let mut out = ProviderEnrollments::default();
        for (contract_id, district) in contracts {
            let period = self
                .read_version(&contract_id, None, as_of)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("no contract \"{contract_id}\"")))?
                .contract
                .period;
            for e in self.enrollments_as_of(&contract_id, as_of).await? {
                let spans = out
                    .spans
                    .entry(district.clone())
                    .or_default()
                    .entry(e.student_id.clone())
                    .or_default();
                spans.extend(EnrollmentSpan::of(&e, (period.start, period.end)));
            }
            out.districts.insert(district);
        }
        Ok(out)
    }

    /// Stores a validated contract. A document equal to the latest version is a no-op; any
    /// other document becomes a new version, so a signed version is never edited.
    /// `effective` is the first statement date the version applies to (an amendment's
    /// effective date); without it, the contract's period start.
    pub async fn add_contract(
        &self,
        actor: &str,
        contract: &Contract,
        source: &str,
        effective: Option<time::Date>,
    ) -> Result<ContractVersion> {
        let sha256 = hex_sha256(source.as_bytes());
        let effective_from = effective.unwrap_or(contract.period.start).to_string();
        let mut tx = self.write_tx().await?;
        let known: Option<String> =
            sqlx::query_scalar("SELECT kind FROM organisations WHERE id = $1")
                .bind(&contract.district)
                .fetch_optional(&mut *tx)
                .await?;
        if known.as_deref() != Some("district") {
            return Err(StoreError::NotFound(format!(
                "contract {}: district \"{}\" is unknown; import its roster first (obc import roster ... --district {})",
                contract.id, contract.district, contract.district
            )));
        }
        ensure_organisation(&mut tx, &contract.provider, "provider", &contract.provider).await?;
        let latest: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT version, sha256, effective_from FROM contract_versions WHERE contract_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(&contract.id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((version, hash, effective)) = &latest {
            if *hash == sha256 && *effective == effective_from {
                return Ok(ContractVersion {
                    contract: contract.clone(),
                    version: *version as u32,
                    sha256,
                    source: source.to_string(),
                    effective_from,
                    created: false,
                });
            }
        }
        let version = latest.map_or(1, |(v, _, _)| v + 1);
        let audit_id = audit(
            &mut tx,
            actor,
            "contract.version",
            &format!("contract:{}", contract.id),
            &format!("version {version}, effective from {effective_from}, sha256 {sha256}"),
        )
        .await?;
        sqlx::query(
            "INSERT INTO contract_versions (contract_id, version, district_id, provider_id, source, sha256, effective_from, created_at, created_by, written_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&contract.id)
        .bind(version)
        .bind(&contract.district)
        .bind(&contract.provider)
        .bind(source)
        .bind(&sha256)
        .bind(&effective_from)
        .bind(crate::now())
        .bind(actor)
        .bind(audit_id)
        .execute(&mut *tx)
        .await?;
        crate::chain::link_contract_version(&mut tx, &contract.id, version).await?;
        tx.commit().await?;
        Ok(ContractVersion {
            contract: contract.clone(),
            version: version as u32,
            sha256,
            source: source.to_string(),
            effective_from,
            created: true,
        })
    }

    /// One version of a contract, as signed.
    pub async fn contract_version(&self, id: &str, version: u32) -> Result<ContractVersion> {
        self.read_version(id, Some(version), None)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!("no version {version} of contract \"{id}\""))
            })
    }

    /// The latest version of a contract.
    pub async fn contract(&self, id: &str) -> Result<ContractVersion> {
        self.read_version(id, None, None).await?.ok_or_else(|| {
            StoreError::NotFound(format!(
                "no contract \"{id}\": add it with `obc contract add FILE.toml`"
            ))
        })
    }

    /// The version in force on a statement date: the latest version effective on or before it,
    /// else (a date before every effective date) the first version.
    pub async fn contract_effective(&self, id: &str, date: time::Date) -> Result<ContractVersion> {
        let version: Option<i64> = sqlx::query_scalar(
            "SELECT coalesce(max(CASE WHEN effective_from <= $2 THEN version END), min(version))
             FROM contract_versions WHERE contract_id = $1",
        )
        .bind(id)
        .bind(date.to_string())
        .fetch_one(&self.pool)
        .await?;
        let version =
            version.ok_or_else(|| StoreError::NotFound(format!("no contract \"{id}\"")))?;
        self.contract_version(id, version as u32).await
    }

    /// A version of a contract, the latest (after audit record `as_of`, `None`: now) when
    /// `version` is `None`.
    async fn read_version(
        &self,
        id: &str,
        version: Option<u32>,
        as_of: Option<i64>,
    ) -> Result<Option<ContractVersion>> {
        let row: Option<(i64, String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT version, source, sha256, effective_from FROM contract_versions WHERE contract_id = $1
             AND version = coalesce($2, (SELECT max(version) FROM {} WHERE contract_id = $1))",
            rows_as_of(CONTRACT_VERSIONS, as_of)
        )))
            .bind(id)
            .bind(version.map(i64::from))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(version, source, sha256, effective_from)| {
            let contract = Contract::parse(&source)
                .map_err(|e| StoreError::Corrupt(format!("contract {id} v{version}: {e}")))?;
            Ok(ContractVersion {
                contract,
                version: version as u32,
                sha256,
                source,
                effective_from,
                created: false,
            })
        })
        .transpose()
    }

    /// Every contract id with its latest version, sorted.
    pub async fn contracts(&self) -> Result<Vec<(String, u32)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT contract_id, max(version) FROM contract_versions GROUP BY contract_id ORDER BY contract_id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id, v)| (id, v as u32)).collect())
    }

    /// Places students in a contract, in one transaction. Re-sending a student with other
    /// dates updates the enrollment (audited); identical rows change nothing.
    pub async fn enroll(
        &self,
        actor: &str,
        source: &str,
        contract_id: &str,
        rows: &[Enrollment],
    ) -> Result<EnrollReport> {
        let mut tx = self.write_tx().await?;
        let mut stored: HashMap<String, StoredEnrollment> = sqlx::query_as(
            "SELECT student_id, start_date, end_date FROM enrollments WHERE contract_id = $1",
        )
        .bind(contract_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(student, start, end)| (student, (start, end)))
        .collect();
        // What changes, decided before writing: the rows written record this file's audit id.
        let mut report = EnrollReport::default();
        let mut changes = Vec::new();
        for e in rows {
            let new = (e.start.to_string(), e.end.map(|d| d.to_string()));
            let old = stored.insert(e.student_id.clone(), new.clone());
            match &old {
                Some(old) if *old == new => report.unchanged += 1,
                Some(_) => report.updated += 1,
                None => report.added += 1,
            }
            if old.as_ref() != Some(&new) {
                changes.push((&e.student_id, old, new));
            }
        }
        let audit_id = audit(
            &mut tx,
            actor,
            "enroll",
            &format!("contract:{contract_id}"),
            &format!(
                "{source}: {} added, {} updated, {} unchanged",
                report.added, report.updated, report.unchanged
            ),
        )
        .await?;
        let keep_replaced = crate::versions::keep_replaced(
            crate::versions::ENROLLMENTS,
            "WHERE r.contract_id = $2 AND r.student_id = $3",
        );
        let mut upserts = Upserts::new(
            self.backend,
            "enrollments",
            "contract_id, student_id, start_date, end_date, written_by",
            "ON CONFLICT (contract_id, student_id) DO UPDATE SET
               start_date = excluded.start_date, end_date = excluded.end_date, written_by = excluded.written_by",
        );
        for (student, old, new) in changes {
            // The replaced version is kept before the batch holding its successor is written.
            if let Some(old) = old {
                sqlx::query(sqlx::AssertSqlSafe(keep_replaced.as_str()))
                    .bind(audit_id)
                    .bind(contract_id)
                    .bind(student)
                    .execute(&mut *tx)
                    .await?;
                audit(
                    &mut tx,
                    actor,
                    "enrollment.update",
                    &format!("contract:{contract_id}/student:{student}"),
                    &format!("{source}: {:?} -> {:?}", old, new),
                )
                .await?;
            }
            upserts
                .push(
                    &mut tx,
                    student,
                    vec![
                        Cell::Text(Some(contract_id.to_string())),
                        Cell::Text(Some(student.clone())),
                        Cell::Text(Some(new.0)),
                        Cell::Text(new.1),
                        Cell::Int(audit_id),
                    ],
                )
                .await?;
        }
        upserts.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The enrollments of a contract, sorted by student id.
    pub async fn enrollments(&self, contract_id: &str) -> Result<Vec<Enrollment>> {
        self.enrollments_as_of(contract_id, None).await
    }

    /// [`Store::enrollments`] as they were after audit record `as_of` (`None`: now).
    pub(crate) async fn enrollments_as_of(
        &self,
        contract_id: &str,
        as_of: Option<i64>,
    ) -> Result<Vec<Enrollment>> {
        let rows: Vec<(String, String, Option<String>)> = self
            .bulk_rows(
                &format!(
                    "SELECT student_id, start_date, end_date FROM {} WHERE contract_id = $1 ORDER BY student_id",
                    rows_as_of(ENROLLMENTS, as_of)
                ),
                &[contract_id],
            )
            .await?;
        rows.into_iter()
            .map(|(student_id, start, end)| {
                Ok(Enrollment {
                    student_id,
                    start: crate::parse_date(&start)?,
                    end: end.as_deref().map(crate::parse_date).transpose()?,
                })
            })
            .collect()
    }
}
