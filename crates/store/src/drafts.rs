//! Draft statements stored for display (migration 12): what the engine computed for a
//! contract's milestone, kept with the key of the inputs it was computed from, so a page reads
//! it instead of recomputing. A draft is never a finalized statement; it may be replaced at any
//! time. Whether it is still current is [`Store::draft_inputs_key`]'s to say. Pages also read
//! finalized statements' records here without their JSON ([`Store::finalized_record`]).

use crate::{Result, Store, StoredStatement};
use obc_core::Contract;

/// A finalized statement's columns with an empty `content_json`.
const FINALIZED_RECORD: &str =
    "SELECT id, contract_id, contract_version, milestone, statement_date,
    content_sha256, total_cents, CAST('' AS TEXT), finalized_at, finalized_by FROM statements";

/// The audit actions that write a district's own inputs (record `district:ID`).
const DISTRICT_WRITES: [&str; 3] = [
    "import.roster",
    "import.assessments",
    "import.school_attendance",
];

/// The audit actions that write a contract's inputs (record `contract:ID`): its enrollments
/// and versions. Those of every contract of the provider count, because a student's
/// enrollments in the provider's other contracts decide which sessions are ambiguous.
const CONTRACT_WRITES: [&str; 2] = ["enroll", "contract.version"];

/// A stored draft statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDraft {
    pub inputs_key: String,
    /// The statement's canonical JSON.
    pub statement_json: String,
    /// What pages read without the statement, as the app layer wrote it.
    pub summary_json: String,
}

impl Store {
    /// A finalized statement's record without its JSON (`content_json` is empty): what a page
    /// shows of it (when, by whom, its total and hash). Reading a 100,000-student statement's
    /// JSON takes a second; this takes a millisecond.
    pub async fn finalized_record(
        &self,
        contract_id: &str,
        milestone: &str,
    ) -> Result<Option<StoredStatement>> {
        self.finalized_of(FINALIZED_RECORD, contract_id, milestone)
            .await
    }

    /// Every finalized statement's record without its JSON, by contract and milestone date
    /// (the ledger page's list).
    pub async fn finalized_records(&self) -> Result<Vec<StoredStatement>> {
        self.every_finalized(FINALIZED_RECORD).await
    }

    /// The key of everything a draft statement of `contract` (or its progress) is computed
    /// from, besides the date asked for: it changes whenever an import, enrollment, contract
    /// version or finalization could change the draft, and it is cheap (one indexed count of
    /// the contract's finalized statements and one pass over the audit log, no input rows).
    ///
    /// It is the newest audit record and the number of audit records that wrote the contract's
    /// inputs (the district's roster, tests and school attendance; the provider's sessions; the
    /// enrollments and versions of the provider's contracts), the number of the contract's
    /// finalized statements, and the engine's version. The count catches a record committed
    /// after a newer one. Read it before the inputs: a draft computed from newer inputs than
    /// its key says is only computed again once more, never shown stale.
    pub async fn draft_inputs_key(&self, contract: &Contract) -> Result<String> {
        let quoted = |actions: &[&str]| {
            actions
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = format!(
            "SELECT CAST(coalesce(max(id), 0) AS BIGINT), count(*),
                (SELECT count(*) FROM statements WHERE contract_id = $4)
             FROM audit_log
             WHERE (action IN ({}) AND record = $1)
                OR (action = 'import.sessions' AND record = $2)
                OR (action IN ({}) AND record IN
                    (SELECT 'contract:' || contract_id FROM contract_versions WHERE provider_id = $3))",
            quoted(&DISTRICT_WRITES),
            quoted(&CONTRACT_WRITES)
        );
        let (newest, writes, finalized): (i64, i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(format!("district:{}", contract.district))
            .bind(format!("provider:{}", contract.provider))
            .bind(&contract.provider)
            .bind(&contract.id)
            .fetch_one(&self.pool)
            .await?;
        Ok(format!(
            "{}/audit {newest}/writes {writes}/finalized {finalized}",
            obc_core::engine::ENGINE_VERSION
        ))
    }

    /// The stored draft of a contract's milestone (or closing name), if any, current or not.
    pub async fn draft_statement(
        &self,
        contract_id: &str,
        name: &str,
    ) -> Result<Option<StoredDraft>> {
        let row: Option<(String, String, String, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT inputs_key, statement_json, summary_json, statement_deflate FROM draft_statements
             WHERE contract_id = $1 AND name = $2",
        )
        .bind(contract_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some((inputs_key, mut statement_json, summary_json, deflated)) = row else {
            return Ok(None);
        };
        // Drafts saved since migration 21 keep their JSON deflated.
        if statement_json.is_empty() {
            let what = format!("the draft {name} of {contract_id}");
            statement_json = crate::statement_content::inflate(&what, deflated)?;
        }
        Ok(Some(StoredDraft {
            inputs_key,
            statement_json,
            summary_json,
        }))
    }

    /// The key and summary of a stored draft, without its statement (the dashboard's read).
    pub async fn draft_summary(
        &self,
        contract_id: &str,
        name: &str,
    ) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT inputs_key, summary_json FROM draft_statements WHERE contract_id = $1 AND name = $2",
        )
        .bind(contract_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Stores (or replaces) the draft of a contract's milestone or closing name. A closing
    /// draft replaces the contract's other closing drafts: their names are dates (the contract
    /// page asks for today's), and each is a whole statement, so kept ones would pile up a
    /// statement a day.
    pub async fn save_draft(
        &self,
        contract_id: &str,
        name: &str,
        draft: &StoredDraft,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if obc_core::corrections::is_closing_name(name) {
            sqlx::query(
                "DELETE FROM draft_statements WHERE contract_id = $1 AND name LIKE 'closing-%' AND name <> $2",
            )
            .bind(contract_id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO draft_statements (contract_id, name, inputs_key, statement_json, summary_json, computed_at,
                statement_deflate)
             VALUES ($1, $2, $3, '', $4, $5, $6)
             ON CONFLICT (contract_id, name) DO UPDATE SET inputs_key = excluded.inputs_key,
                statement_json = excluded.statement_json, summary_json = excluded.summary_json,
                computed_at = excluded.computed_at, statement_deflate = excluded.statement_deflate",
        )
        .bind(contract_id)
        .bind(name)
        .bind(&draft.inputs_key)
        .bind(&draft.summary_json)
        .bind(crate::now())
        .bind(crate::statement_content::deflate(&draft.statement_json))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::stores;
    use crate::Store;
    use obc_core::model::parse_iso_date;
    use obc_core::{Contract, Enrollment, School, Student};

    const CONTRACT: &str = include_str!("../../core/tests/contract_example.toml");

    async fn roster(store: &Store, district: &str, grade: &str) {
        let school = School {
            id: "sch-1".into(),
            name: "One".into(),
        };
        let student = Student {
            id: "s1".into(),
            school_id: "sch-1".into(),
            grade: obc_core::Grade::parse(grade),
            first_name: "A".into(),
            last_name: "B".into(),
            flags: Default::default(),
        };
        store
            .import_roster("t", "f", district, "D", &[school], &[student])
            .await
            .unwrap();
    }

    async fn enroll(store: &Store, contract: &str, start: &str) {
        let row = Enrollment {
            student_id: "s1".into(),
            start: parse_iso_date(start).unwrap(),
            end: None,
        };
        store.enroll("t", "f", contract, &[row]).await.unwrap();
    }

    #[tokio::test]
    async fn the_inputs_key_changes_with_the_contracts_inputs_only() {
        for store in stores().await {
            roster(&store, "ector", "6").await;
            let contract = Contract::parse(CONTRACT).unwrap();
            store
                .add_contract("t", &contract, CONTRACT, None)
                .await
                .unwrap();
            let key = || {
                let store = store.clone();
                let contract = contract.clone();
                async move { store.draft_inputs_key(&contract).await.unwrap() }
            };
            let mut last = key().await;
            assert!(last.starts_with(obc_core::engine::ENGINE_VERSION), "{last}");

            // Not an input: an export's audit record, another district's roster.
            store
                .audit("t", "export.statement", "contract:x", "")
                .await
                .unwrap();
            roster(&store, "elsewhere", "6").await;
            assert_eq!(key().await, last);

            let mut changed = |now: String, what: &str| {
                assert_ne!(now, last, "{what} changes the key");
                last = now;
            };
            roster(&store, "ector", "7").await;
            changed(key().await, "the district's roster");
            enroll(&store, &contract.id, "2024-09-01").await;
            changed(key().await, "an enrollment");
            // Another contract of the same provider: its enrollments decide ambiguous sessions.
            let summer = CONTRACT.replace("ector-math-2025", "ector-math-2025-summer");
            let other = Contract::parse(&summer).unwrap();
            store
                .add_contract("t", &other, &summer, None)
                .await
                .unwrap();
            changed(key().await, "a contract of the provider");
            enroll(&store, &other.id, "2024-09-01").await;
            changed(
                key().await,
                "an enrollment in the provider's other contract",
            );
            let amended = CONTRACT.replace("end = 2025-05-30", "end = 2025-04-30");
            store
                .add_contract("t", &Contract::parse(&amended).unwrap(), &amended, None)
                .await
                .unwrap();
            changed(key().await, "a new contract version");
        }
    }

    #[tokio::test]
    async fn a_saved_draft_is_read_back_and_replaced() {
        for store in stores().await {
            assert_eq!(store.draft_statement("c1", "midyear").await.unwrap(), None);
            let draft = |key: &str, json: &str| super::StoredDraft {
                inputs_key: key.into(),
                statement_json: json.into(),
                summary_json: "{}".into(),
            };
            store
                .save_draft("c1", "midyear", &draft("k1", "[1]"))
                .await
                .unwrap();
            store
                .save_draft("c1", "midyear", &draft("k2", "[2]"))
                .await
                .unwrap();
            assert_eq!(
                store.draft_statement("c1", "midyear").await.unwrap(),
                Some(draft("k2", "[2]"))
            );
            assert_eq!(
                store.draft_summary("c1", "midyear").await.unwrap(),
                Some(("k2".into(), "{}".into()))
            );
            assert_eq!(store.draft_statement("c1", "final").await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_closing_draft_replaces_the_contracts_earlier_closing_drafts_only() {
        for store in stores().await {
            let draft = |json: &str| super::StoredDraft {
                inputs_key: "k".into(),
                statement_json: json.into(),
                summary_json: "{}".into(),
            };
            for (contract, name) in [
                ("c1", "final"),
                ("c1", "closing-2025-07-01"),
                ("c2", "closing-2025-07-01"),
                ("c1", "closing-2025-07-02"),
            ] {
                store
                    .save_draft(contract, name, &draft(name))
                    .await
                    .unwrap();
            }
            let kept = |contract: &'static str, name: &'static str| {
                let store = store.clone();
                async move {
                    store
                        .draft_statement(contract, name)
                        .await
                        .unwrap()
                        .is_some()
                }
            };
            assert!(kept("c1", "closing-2025-07-02").await);
            assert!(
                !kept("c1", "closing-2025-07-01").await,
                "replaced by the newer one"
            );
            assert!(kept("c1", "final").await, "milestone drafts stay");
            assert!(
                kept("c2", "closing-2025-07-01").await,
                "another contract's stays"
            );
        }
    }
}
