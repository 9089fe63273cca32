//! Reading the audit log: filtered and paged for auditors, and a provider's uploads with what
//! each changed.

use crate::imports::ImportCounts;
use crate::{Result, Store};

/// One event of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub record: String,
    pub detail: String,
}

/// Which events an auditor asks for; an empty field does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The username exactly.
    pub actor: Option<String>,
    /// The action exactly (`login`), or a family ending in `.` (`import.`).
    pub action: Option<String>,
    /// Events on this day or later (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Events on this day or earlier (`YYYY-MM-DD`, UTC).
    pub to: Option<String>,
    /// Events on the contract or on a record under it (its statements, enrollments).
    pub contract: Option<String>,
}

impl AuditFilter {
    /// The WHERE clause and its bound values, `$1` first.
    fn clause(&self) -> (String, Vec<String>) {
        let mut parts = Vec::new();
        let mut values = Vec::new();
        let bind = |values: &mut Vec<String>, v: String| {
            values.push(v);
            format!("${}", values.len())
        };
        if let Some(actor) = &self.actor {
            parts.push(format!("actor = {}", bind(&mut values, actor.clone())));
        }
        match &self.action {
            Some(family) if family.ends_with('.') => {
                let n = family.chars().count();
                parts.push(format!(
                    "substr(action, 1, {n}) = {}",
                    bind(&mut values, family.clone())
                ));
            }
            Some(action) => parts.push(format!("action = {}", bind(&mut values, action.clone()))),
            None => {}
        }
        if let Some(from) = &self.from {
            parts.push(format!(
                "substr(at, 1, 10) >= {}",
                bind(&mut values, from.clone())
            ));
        }
        if let Some(to) = &self.to {
            parts.push(format!(
                "substr(at, 1, 10) <= {}",
                bind(&mut values, to.clone())
            ));
        }
        if let Some(contract) = &self.contract {
            let exact = bind(&mut values, format!("contract:{contract}"));
            let under = format!("contract:{contract}/");
            let n = under.chars().count();
            let under = bind(&mut values, under);
            parts.push(format!(
                "(record = {exact} OR substr(record, 1, {n}) = {under})"
            ));
        }
        let clause = if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        };
        (clause, values)
    }
}

type EventRow = (i64, String, String, String, String, String);

fn event(row: EventRow) -> AuditEvent {
    let (id, at, actor, action, record, detail) = row;
    AuditEvent {
        id,
        at,
        actor,
        action,
        record,
        detail,
    }
}

/// One upload of a provider's sessions, as the audit log recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub at: String,
    pub actor: String,
    /// The file's name as uploaded.
    pub source: String,
    /// Rows added, replaced and unchanged; `None` for an entry in an older wording.
    pub counts: Option<ImportCounts>,
}

impl Store {
    /// The events that pass `filter`, newest first, `limit` of them after skipping `offset`.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AuditEvent>> {
        let (clause, values) = filter.clause();
        let sql = format!(
            "SELECT id, at, actor, action, record, detail FROM audit_log{clause} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for v in values {
            query = query.bind(v);
        }
        let rows: Vec<EventRow> = query.fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(event).collect())
    }

    /// How many events pass `filter`.
    pub async fn audit_event_count(&self, filter: &AuditFilter) -> Result<u64> {
        let (clause, values) = filter.clause();
        let sql = format!("SELECT count(*) FROM audit_log{clause}");
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for v in values {
            query = query.bind(v);
        }
        let count: i64 = query.fetch_one(&self.pool).await?;
        Ok(count as u64)
    }

    /// The sessions uploads of a provider, newest first.
    pub async fn session_uploads(&self, provider: &str) -> Result<Vec<UploadRecord>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT at, actor, detail FROM audit_log WHERE action = 'import.sessions' AND record = $1 ORDER BY id DESC",
        )
        .bind(format!("provider:{provider}"))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, detail)| {
                let (source, counts) = match ImportCounts::read_description(&detail) {
                    Some((source, counts)) => (source, Some(counts)),
                    None => (detail, None),
                };
                UploadRecord {
                    at,
                    actor,
                    source,
                    counts,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_audit_log_filters_by_actor_action_contract_and_day_newest_first() {
        for store in crate::test_support::stores().await {
            filters_and_pages(store).await;
        }
    }

    async fn filters_and_pages(store: Store) {
        for (actor, action, record) in [
            ("admin", "contract.version", "contract:c1"),
            ("admin", "statement.finalize", "contract:c1/milestone:final"),
            ("admin", "contract.version", "contract:c10"),
            ("prov", "import.sessions", "provider:p"),
            ("prov", "login", "user:prov"),
        ] {
            store.audit(actor, action, record, "").await.unwrap();
        }
        let get = |filter: AuditFilter| {
            let store = store.clone();
            async move {
                store
                    .audit_events(&filter, 0, 100)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.record)
                    .collect::<Vec<_>>()
            }
        };
        let contract = AuditFilter {
            contract: Some("c1".into()),
            ..AuditFilter::default()
        };
        assert_eq!(
            get(contract.clone()).await,
            ["contract:c1/milestone:final", "contract:c1"]
        );
        assert_eq!(store.audit_event_count(&contract).await.unwrap(), 2);
        let imports = AuditFilter {
            actor: Some("prov".into()),
            action: Some("import.".into()),
            ..AuditFilter::default()
        };
        assert_eq!(get(imports).await, ["provider:p"]);
        let today = crate::now()[..10].to_string();
        let days = |from: &str, to: &str| AuditFilter {
            from: Some(from.into()),
            to: Some(to.into()),
            ..AuditFilter::default()
        };
        assert_eq!(get(days(&today, &today)).await.len(), 5);
        assert!(get(days("2000-01-01", "2000-12-31")).await.is_empty());
        // A quote in a filter is a value, not SQL.
        let odd = AuditFilter {
            actor: Some("x' OR '1'='1".into()),
            ..AuditFilter::default()
        };
        assert!(get(odd).await.is_empty());
        // Paging: newest first, then the rest.
        let all = store
            .audit_events(&AuditFilter::default(), 0, 2)
            .await
            .unwrap();
        let rest = store
            .audit_events(&AuditFilter::default(), 2, 100)
            .await
            .unwrap();
        assert_eq!(all[0].record, "user:prov");
        assert_eq!(all.len() + rest.len(), 5);
        assert!(all[1].id > rest[0].id);
    }
}
