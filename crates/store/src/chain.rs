//! The ledger's hash chain: every contract version and every finalization is a link that
//! carries the SHA-256 of its record's rows and of the link before it, so that `obc ledger
//! verify` notices any row deleted, inserted or edited behind obc's back, even by someone who
//! dropped the append-only triggers first.
//!
//! A statement's link covers its row, lines, inputs snapshot (or since migration 10 the audit
//! id and hash of the inputs it used), ledger postings, its
//! `statement.finalize` audit record and the session history of its contract's provider and
//! district that was written before it (history rows are what a later correction is checked
//! against). A contract version's link covers its row, source included.

use crate::statement_digest::statement_content;
use crate::{hex_sha256, Result, Store, Tx};
use serde_json::json;
use sqlx::AnyConnection;

/// The migration that created the chain; running it links the rows stored before it.
pub(crate) const MIGRATION: i64 = 8;

/// The `prev_sha256` of the first link.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const CONTRACT_VERSION: &str = "contract_version";
const STATEMENT: &str = "statement";

/// One thing `ledger verify` found wrong outside a statement's own recomputation, naming the
/// record (`statement` is set when the record is a finalized statement that still exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    /// The record, as `obc ledger verify` names it.
    pub record: String,
    /// The finalized statement's (contract id, milestone), when the problem is about one.
    pub statement: Option<(String, String)>,
    pub problem: String,
}

/// What the chain check found: how many links, the newest link's hash (an auditor may note it
/// to detect a chain rewritten as a whole later), and the problems.
#[derive(Debug, Clone, Default)]
pub struct ChainReport {
    pub links: usize,
    pub head: Option<String>,
    pub problems: Vec<ChainProblem>,
}

fn contract_label(contract_id: &str, version: i64) -> String {
    format!("contract {contract_id} version {version}")
}

fn statement_label(contract_id: &str, milestone: &str) -> String {
    format!("{contract_id} / {milestone}")
}

/// The hash of a link: its place in the chain and what it covers.
fn link_sha256(
    prev: &str,
    kind: &str,
    contract_id: &str,
    record_id: i64,
    label: &str,
    audit_id: Option<i64>,
    content: &str,
) -> String {
    let text = json!([prev, kind, contract_id, record_id, label, audit_id, content]).to_string();
    hex_sha256(text.as_bytes())
}

/// The digest of a contract version's row, `None` when it is gone.
async fn contract_version_content(
    conn: &mut AnyConnection,
    contract_id: &str,
    version: i64,
) -> Result<Option<String>> {
    let row: Option<(String, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT district_id, provider_id, source, sha256, effective_from, created_at, created_by
         FROM contract_versions WHERE contract_id = $1 AND version = $2",
    )
    .bind(contract_id)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| {
        let text = json!([contract_id, version, r.0, r.1, r.2, r.3, r.4, r.5, r.6]).to_string();
        hex_sha256(text.as_bytes())
    }))
}

/// Appends a link after the newest one.
async fn append(
    tx: &mut Tx,
    kind: &str,
    contract_id: &str,
    record_id: i64,
    label: &str,
    audit_id: Option<i64>,
    content: &str,
) -> Result<()> {
    let prev: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM ledger_chain ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_string());
    let sha = link_sha256(
        &prev,
        kind,
        contract_id,
        record_id,
        label,
        audit_id,
        content,
    );
    sqlx::query(
        "INSERT INTO ledger_chain (kind, contract_id, record_id, label, audit_id, content_sha256, prev_sha256, sha256)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(kind)
    .bind(contract_id)
    .bind(record_id)
    .bind(label)
    .bind(audit_id)
    .bind(content)
    .bind(&prev)
    .bind(&sha)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Links a contract version just stored in `tx`.
pub(crate) async fn link_contract_version(
    tx: &mut Tx,
    contract_id: &str,
    version: i64,
) -> Result<()> {
    let content = contract_version_content(tx, contract_id, version)
        .await?
        .ok_or_else(|| crate::StoreError::NotFound(contract_label(contract_id, version)))?;
    let label = contract_label(contract_id, version);
    append(
        tx,
        CONTRACT_VERSION,
        contract_id,
        version,
        &label,
        None,
        &content,
    )
    .await
}

/// Links a statement just finalized in `tx`, with its `statement.finalize` audit record.
pub(crate) async fn link_statement(
    tx: &mut Tx,
    statement_id: i64,
    contract_id: &str,
    milestone: &str,
    audit_id: Option<i64>,
) -> Result<()> {
    let content = statement_content(tx, statement_id, audit_id)
        .await?
        .ok_or_else(|| crate::StoreError::NotFound(statement_label(contract_id, milestone)))?;
    let label = statement_label(contract_id, milestone);
    append(
        tx,
        STATEMENT,
        contract_id,
        statement_id,
        &label,
        audit_id,
        &content,
    )
    .await
}

/// Links the contract versions and statements that have no link yet: at migration 8, those
/// stored before the chain existed (they become its anchor, as they are then).
pub(crate) async fn link_unchained(tx: &mut Tx) -> Result<()> {
    let versions: Vec<(String, i64)> = sqlx::query_as(
        "SELECT contract_id, version FROM contract_versions c WHERE NOT EXISTS
           (SELECT 1 FROM ledger_chain l WHERE l.kind = 'contract_version' AND l.contract_id = c.contract_id AND l.record_id = c.version)
         ORDER BY created_at, contract_id, version",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (contract_id, version) in versions {
        link_contract_version(tx, &contract_id, version).await?;
    }
    let statements: Vec<(i64, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT s.id, s.contract_id, s.milestone,
                (SELECT min(a.id) FROM audit_log a WHERE a.action = 'statement.finalize'
                   AND a.record = 'contract:' || s.contract_id || '/milestone:' || s.milestone)
         FROM statements s WHERE NOT EXISTS
           (SELECT 1 FROM ledger_chain l WHERE l.kind = 'statement' AND l.record_id = s.id)
         ORDER BY s.id",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (id, contract_id, milestone, audit_id) in statements {
        link_statement(tx, id, &contract_id, &milestone, audit_id).await?;
    }
    Ok(())
}

type LinkRow = (
    i64,
    String,
    String,
    i64,
    String,
    Option<i64>,
    String,
    String,
    String,
);

impl Store {
    /// Walks the chain and checks every link against the rows it covers, every contract
    /// version's hash against its source, and the audit log's finalize records against the
    /// finalized statements. Reads only.
    pub async fn check_chain(&self) -> Result<ChainReport> {
        // One snapshot, so a statement finalized meanwhile is seen whole or not at all.
        let mut tx = self.pool.begin().await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let conn: &mut AnyConnection = &mut tx;
        let links: Vec<LinkRow> = sqlx::query_as(
            "SELECT id, kind, contract_id, record_id, label, audit_id, content_sha256, prev_sha256, sha256
             FROM ledger_chain ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let statements: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, contract_id, milestone FROM statements ORDER BY id")
                .fetch_all(&mut *conn)
                .await?;
        let statement_of = |id: i64| {
            statements
                .iter()
                .find(|s| s.0 == id)
                .map(|s| (s.1.clone(), s.2.clone()))
        };
        let mut report = ChainReport {
            links: links.len(),
            head: links.last().map(|l| l.8.clone()),
            problems: Vec::new(),
        };
        let mut problem = |record: String, statement: Option<(String, String)>, text: String| {
            report.problems.push(ChainProblem {
                record,
                statement,
                problem: text,
            })
        };
        let mut expected_prev = GENESIS.to_string();
        let mut chained_versions = std::collections::HashSet::new();
        let mut chained_statements = std::collections::HashSet::new();
        for (id, kind, contract_id, record_id, label, audit_id, content, prev, sha) in &links {
            let record = format!("chain link {id} ({label})");
            if *prev != expected_prev {
                problem(
                    record.clone(),
                    None,
                    "does not follow the link before it: a link was deleted, inserted or edited"
                        .into(),
                );
            }
            if link_sha256(
                prev,
                kind,
                contract_id,
                *record_id,
                label,
                *audit_id,
                content,
            ) != *sha
            {
                problem(
                    record,
                    None,
                    "edited: its hash does not match what it records".into(),
                );
            }
            expected_prev = sha.clone();
            let (now, statement) = if kind == CONTRACT_VERSION {
                chained_versions.insert((contract_id.clone(), *record_id));
                (
                    contract_version_content(conn, contract_id, *record_id).await?,
                    None,
                )
            } else {
                chained_statements.insert(*record_id);
                (
                    statement_content(conn, *record_id, *audit_id).await?,
                    statement_of(*record_id),
                )
            };
            match now {
                None => problem(
                    label.clone(),
                    None,
                    format!("in the chain (link {id}), but its record is gone: deleted"),
                ),
                Some(now) if now != *content => problem(
                    label.clone(),
                    statement,
                    format!("its stored rows changed since it was recorded (chain link {id})"),
                ),
                Some(_) => {}
            }
        }
        let versions: Vec<(String, i64, String, String)> = sqlx::query_as(
            "SELECT contract_id, version, source, sha256 FROM contract_versions ORDER BY contract_id, version",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (contract_id, version, source, sha256) in &versions {
            let label = contract_label(contract_id, *version);
            let actual = hex_sha256(source.as_bytes());
            if actual != *sha256 {
                problem(
                    label.clone(),
                    None,
                    format!("its source hashes to {actual}, not the recorded {sha256}: edited"),
                );
            }
            if !chained_versions.contains(&(contract_id.clone(), *version)) {
                problem(
                    label,
                    None,
                    "not in the chain: added behind obc's back".into(),
                );
            }
        }
        for (id, contract_id, milestone) in &statements {
            if !chained_statements.contains(id) {
                problem(
                    statement_label(contract_id, milestone),
                    Some((contract_id.clone(), milestone.clone())),
                    "not in the chain: added behind obc's back".into(),
                );
            }
        }
        let finalize_records: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, record FROM audit_log WHERE action = 'statement.finalize' ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let audited = |contract_id: &str, milestone: &str| {
            format!("contract:{contract_id}/milestone:{milestone}")
        };
        for (_, contract_id, milestone) in &statements {
            let record = audited(contract_id, milestone);
            if !finalize_records.iter().any(|(_, r)| *r == record) {
                problem(
                    statement_label(contract_id, milestone),
                    Some((contract_id.clone(), milestone.clone())),
                    "no statement.finalize record in the audit log".into(),
                );
            }
        }
        for (id, record) in &finalize_records {
            if !statements.iter().any(|(_, c, m)| audited(c, m) == *record) {
                problem(
                    format!("audit record {id}"),
                    None,
                    format!("records the finalization of {record}, which is not in the ledger"),
                );
            }
        }
        tx.rollback().await?;
        Ok(report)
    }
}
