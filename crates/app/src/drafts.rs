//! Draft statements and progress served from what is stored, for the web app's pages.
//!
//! Computing a 100,000-student contract's statement takes seconds; a page must not. A draft
//! (a milestone's statement now, or a closing statement's) is computed once, stored in the
//! database (`draft_statements`) with the key of its inputs ([`Store::draft_inputs_key`]) and
//! kept parsed in memory; a request whose key still matches reads it. An import, enrollment,
//! contract version or finalization changes the key, and the next request (or a refresh in
//! the background) computes it again. Concurrent requests for the same draft compute it once:
//! the others wait for it (single flight). Progress is kept the same way in memory only.
//!
//! Drafts are for display: finalization computes and verifies its statement as before.

use crate::consoles::ProviderConsole;
use crate::progress::compute_progress;
use crate::{load_closing_inputs, load_inputs, off_thread, InputSnapshot, Result};
use obc_core::progress::Progress;
use obc_core::statement::Totals;
use obc_core::{SessionStatus, Statement};
use obc_store::{ContractVersion, Store, StoredDraft, StoredStatement};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// What pages read of a draft without its lines: the dashboard's figures, the contract page's
/// attendance chart.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DraftSummary {
    pub totals: Totals,
    /// Attended and offered sessions per week, over the statement's students.
    pub weekly_attendance: Vec<WeekAttendance>,
}

/// A week's sessions, over all the students of a statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WeekAttendance {
    /// The week's Monday.
    pub week: time::Date,
    pub attended: u32,
    /// Attended or student absent: the sessions the student was offered.
    pub offered: u32,
}

/// A draft statement and its summary, as computed for one inputs key.
#[derive(Debug)]
pub struct Draft {
    pub inputs_key: String,
    pub statement: Arc<Statement>,
    pub summary: DraftSummary,
}

/// How many parsed statements and progress reports stay in memory: a 100,000-student
/// statement holds about 100 MB.
const KEPT_STATEMENTS: usize = 4;
const KEPT_PROGRESS: usize = 2;
/// Providers' consoles and districts' name lists: small next to a statement.
const KEPT_CONSOLES: usize = 16;

/// Names by id per district, with the newest import they were read after.
type KeptNames = Recent<String, (i64, Arc<HashMap<String, String>>)>;

/// The stored drafts and progress of a running web app, with their in-memory copies.
#[derive(Default)]
pub struct Drafts {
    /// By (contract, milestone or closing name).
    drafts: Recent<(String, String), Arc<Draft>>,
    /// Finalized statements read back from their JSON, by stored id: they never change.
    finalized: Recent<i64, Arc<Statement>>,
    /// By (contract, as-of date), with the inputs key they were computed from.
    progress: Recent<(String, time::Date), (String, Arc<Progress>)>,
    /// Providers' consoles by provider, with the newest import they were computed after.
    consoles: Recent<String, (i64, Arc<ProviderConsole>)>,
    /// Districts' student names by id, with the newest import they were read after.
    names: KeptNames,
    /// Districts' school names by id, the same way.
    schools: KeptNames,
    /// One lock per draft being computed, so concurrent requests compute it once.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Drafts {
    pub fn new() -> Drafts {
        Drafts::default()
    }

    /// The draft statement of a contract's milestone as of now (the default view, no as-of
    /// date): stored, or computed once and stored.
    pub async fn statement(
        &self,
        store: &Store,
        cv: &ContractVersion,
        milestone: &str,
    ) -> Result<Arc<Draft>> {
        self.draft(
            store,
            cv,
            milestone,
            load_inputs(store, cv, milestone, None),
        )
        .await
    }

    /// The statement to show for a milestone, as [`crate::statement_for_display`] decides it,
    /// from memory or storage when it can: the finalized one when it exists and no other date
    /// is asked for, else the stored draft (or, with an as-of date, one computed now). The
    /// finalized record comes without its JSON (`content_json` is empty).
    pub async fn statement_for_display(
        &self,
        store: &Store,
        cv: &ContractVersion,
        milestone: &str,
        as_of: Option<time::Date>,
    ) -> Result<(Arc<Statement>, Option<StoredStatement>)> {
        let finalized = store.finalized_record(&cv.contract.id, milestone).await?;
        let statement = match (&finalized, as_of) {
            (Some(record), None) => self.finalized_statement(store, record).await?,
            (_, None) => self
                .statement(store, cv, milestone)
                .await?
                .statement
                .clone(),
            (_, Some(_)) => Arc::new(crate::compute_statement(store, cv, milestone, as_of).await?),
        };
        Ok((statement, finalized))
    }

    /// The summary of a milestone's draft: read from storage when current, so the dashboard
    /// never parses or computes a statement it has seen.
    pub async fn summary(
        &self,
        store: &Store,
        cv: &ContractVersion,
        milestone: &str,
    ) -> Result<DraftSummary> {
        let key = store.draft_inputs_key(&cv.contract).await?;
        if let Some(draft) = self.drafts.get(&slot(cv, milestone)) {
            if draft.inputs_key == key {
                return Ok(draft.summary.clone());
            }
        }
        if let Some((stored_key, json)) = store.draft_summary(&cv.contract.id, milestone).await? {
            if stored_key == key {
                if let Ok(summary) = serde_json::from_str(&json) {
                    return Ok(summary);
                }
            }
        }
        Ok(self.statement(store, cv, milestone).await?.summary.clone())
    }

    /// What late data changes since the contract's final statement, as
    /// [`crate::changes_since_final`] says, from the stored draft of that closing statement.
    pub async fn changes_since_final(
        &self,
        store: &Store,
        cv: &ContractVersion,
        today: time::Date,
    ) -> Result<Option<Arc<Statement>>> {
        let Some(date) = crate::changes_since_final_date(store, cv, today).await? else {
            return Ok(None);
        };
        let name = obc_core::corrections::closing_name(date);
        let load = load_closing_inputs(store, &cv.contract.id, date);
        Ok(Some(
            self.draft(store, cv, &name, load).await?.statement.clone(),
        ))
    }

    /// A contract's progress at a date, computed once per inputs key and kept in memory.
    pub async fn progress(
        &self,
        store: &Store,
        cv: &ContractVersion,
        as_of: time::Date,
    ) -> Result<Arc<Progress>> {
        let id = (cv.contract.id.clone(), as_of);
        let _flight = self
            .flight(format!("progress/{}/{as_of}", cv.contract.id))
            .await;
        let key = store.draft_inputs_key(&cv.contract).await?;
        if let Some((kept_key, progress)) = self.progress.get(&id) {
            if kept_key == key {
                return Ok(progress);
            }
        }
        let progress = Arc::new(compute_progress(store, cv, as_of).await?);
        self.progress
            .put(id, (key, progress.clone()), KEPT_PROGRESS);
        Ok(progress)
    }

    /// A provider's console ([`crate::consoles::provider_console`]), computed once per import
    /// (it counts every session of the provider: seconds at state scale) and kept in memory.
    pub async fn provider_console(
        &self,
        store: &Store,
        provider: &str,
    ) -> Result<Arc<ProviderConsole>> {
        let _flight = self.flight(format!("console/{provider}")).await;
        let key = store.last_import_audit_id().await?;
        if let Some((kept_key, console)) = self.consoles.get(&provider.to_string()) {
            if kept_key == key {
                return Ok(console);
            }
        }
        let console = Arc::new(crate::consoles::provider_console(store, provider).await?);
        self.consoles
            .put(provider.to_string(), (key, console.clone()), KEPT_CONSOLES);
        Ok(console)
    }

    /// A district's student names by id ("First Last"), read once per import and kept in
    /// memory: a list searched by name needs every one of them on each request.
    pub async fn student_names(
        &self,
        store: &Store,
        district: &str,
    ) -> Result<Arc<HashMap<String, String>>> {
        let read = store.student_names(district, None);
        self.kept_names(&self.names, "names", store, district, read)
            .await
    }

    /// A district's school names by id, kept like its students' names (a list keeps its
    /// orders by school name while these stay the same).
    pub async fn school_names(
        &self,
        store: &Store,
        district: &str,
    ) -> Result<Arc<HashMap<String, String>>> {
        let read = store.school_names(district);
        self.kept_names(&self.schools, "schools", store, district, read)
            .await
    }

    /// Names read by `read`, or kept in `kept` since the newest import.
    async fn kept_names(
        &self,
        kept: &KeptNames,
        kind: &str,
        store: &Store,
        district: &str,
        read: impl Future<Output = obc_store::Result<HashMap<String, String>>>,
    ) -> Result<Arc<HashMap<String, String>>> {
        let _flight = self.flight(format!("{kind}/{district}")).await;
        let key = store.last_import_audit_id().await?;
        if let Some((kept_key, names)) = kept.get(&district.to_string()) {
            if kept_key == key {
                return Ok(names);
            }
        }
        let names = Arc::new(read.await?);
        kept.put(district.to_string(), (key, names.clone()), KEPT_CONSOLES);
        Ok(names)
    }

    /// Brings the drafts of every milestone of these contracts, and their progress as of the
    /// contract's current date, up to date in the background (after an import), so the next
    /// page reads them instead of computing them. Failures are left for that page to report.
    pub fn refresh_in_background(self: &Arc<Self>, store: &Store, contracts: Vec<ContractVersion>) {
        let (drafts, store) = (self.clone(), store.clone());
        tokio::spawn(async move {
            for cv in &contracts {
                // The contingent milestone first: the dashboard and the contract page show it.
                let mut milestones: Vec<_> = cv.contract.milestones.iter().collect();
                milestones.sort_by_key(|m| !m.contingent);
                for m in milestones {
                    // A finalized milestone's page shows the finalized statement.
                    let finalized = store.finalized_record(&cv.contract.id, &m.name).await;
                    if !m.contingent && matches!(finalized, Ok(Some(_))) {
                        continue;
                    }
                    if let Err(e) = drafts.statement(&store, cv, &m.name).await {
                        eprintln!(
                            "note: the draft {} of {} was not refreshed: {e}",
                            m.name, cv.contract.id
                        );
                    }
                }
                // The progress page's default date: seconds at state scale, so not on the
                // first request.
                let today = time::OffsetDateTime::now_utc().date();
                let date = obc_core::progress::current_date(&cv.contract, today);
                if let Err(e) = drafts.progress(&store, cv, date).await {
                    eprintln!(
                        "note: the progress of {} was not refreshed: {e}",
                        cv.contract.id
                    );
                }
            }
        });
    }

    /// A finalized statement read and parsed once from its stored JSON.
    async fn finalized_statement(
        &self,
        store: &Store,
        record: &StoredStatement,
    ) -> Result<Arc<Statement>> {
        let _flight = self.flight(format!("finalized/{}", record.id)).await;
        if let Some(statement) = self.finalized.get(&record.id) {
            return Ok(statement);
        }
        let stored = (store
            .finalized(&record.contract_id, &record.milestone)
            .await?)
            .filter(|stored| stored.id == record.id)
            .ok_or_else(|| obc_store::StoreError::NotFound("a finalized statement".into()))?;
        let statement = Arc::new(off_thread(move || crate::stored_statement(&stored)).await?);
        self.finalized
            .put(record.id, statement.clone(), KEPT_STATEMENTS);
        Ok(statement)
    }

    /// The draft named `name` (a milestone or a closing name) of a contract: from memory when
    /// its key is current, else from storage, else computed from `load`'s inputs and stored.
    async fn draft(
        &self,
        store: &Store,
        cv: &ContractVersion,
        name: &str,
        load: impl Future<Output = Result<(ContractVersion, InputSnapshot)>>,
    ) -> Result<Arc<Draft>> {
        let id = slot(cv, name);
        let flight = self
            .flight(format!("statement/{}/{name}", cv.contract.id))
            .await;
        // The key is read before the inputs, so a draft is never kept under a newer key than
        // its inputs.
        let key = store.draft_inputs_key(&cv.contract).await?;
        if let Some(draft) = self.drafts.get(&id) {
            if draft.inputs_key == key {
                return Ok(draft);
            }
        }
        if let Some(stored) = store.draft_statement(&cv.contract.id, name).await? {
            if stored.inputs_key == key {
                if let Ok(draft) = off_thread(move || parse(stored)).await {
                    let draft = Arc::new(draft);
                    self.drafts.put(id, draft.clone(), KEPT_STATEMENTS);
                    return Ok(draft);
                }
            }
        }
        let (effective, inputs) = load.await?;
        let draft = off_thread(move || compute(key, effective, inputs)).await?;
        let draft = Arc::new(draft);
        self.drafts.put(id, draft.clone(), KEPT_STATEMENTS);
        // The pages waiting for it have it now; this request stores it. (Not a spawned task:
        // its write lock would be held as long as the runtime does not poll it.)
        drop(flight);
        let saved = draft.clone();
        let stored = off_thread(move || StoredDraft {
            inputs_key: saved.inputs_key.clone(),
            statement_json: saved.statement.to_json(),
            summary_json: serde_json::to_string(&saved.summary).expect("a summary serializes"),
        })
        .await;
        if let Err(e) = store.save_draft(&cv.contract.id, name, &stored).await {
            eprintln!(
                "note: the draft {name} of {} was not stored: {e}",
                cv.contract.id
            );
        }
        Ok(draft)
    }

    /// Waits for the right to compute `what`; held until the guard is dropped.
    async fn flight(&self, what: String) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .flights
            .lock()
            .expect("the flights lock is never poisoned")
            .entry(what)
            .or_default()
            .clone();
        lock.lock_owned().await
    }
}

fn slot(cv: &ContractVersion, name: &str) -> (String, String) {
    (cv.contract.id.clone(), name.to_string())
}

/// Computes a draft from its inputs (on a blocking thread: it runs the engine).
fn compute(inputs_key: String, cv: ContractVersion, inputs: InputSnapshot) -> Result<Draft> {
    let weekly_attendance = weekly_attendance(&inputs.students);
    let statement = inputs.compute(&cv)?;
    Ok(Draft {
        inputs_key,
        summary: DraftSummary {
            totals: statement.totals.clone(),
            weekly_attendance,
        },
        statement: Arc::new(statement),
    })
}

/// A stored draft read back.
fn parse(stored: StoredDraft) -> std::result::Result<Draft, String> {
    let statement = Statement::from_json(&stored.statement_json).map_err(|e| e.to_string())?;
    let summary = serde_json::from_str(&stored.summary_json).map_err(|e| e.to_string())?;
    Ok(Draft {
        inputs_key: stored.inputs_key,
        statement: Arc::new(statement),
        summary,
    })
}

/// Attended and offered sessions per week (by Monday), over all the students.
pub fn weekly_attendance(students: &[obc_core::engine::StudentInput]) -> Vec<WeekAttendance> {
    let mut weeks: BTreeMap<time::Date, (u32, u32)> = BTreeMap::new();
    for session in students.iter().flat_map(|s| &s.sessions) {
        let monday = session.date
            - time::Duration::days(i64::from(session.date.weekday().number_days_from_monday()));
        let (attended, offered) = weeks.entry(monday).or_default();
        match session.status {
            SessionStatus::Attended => {
                *attended += 1;
                *offered += 1;
            }
            SessionStatus::StudentAbsent => *offered += 1,
            _ => {}
        }
    }
    weeks
        .into_iter()
        .map(|(week, (attended, offered))| WeekAttendance {
            week,
            attended,
            offered,
        })
        .collect()
}

/// The few most recently stored values, by key.
struct Recent<K, V> {
    entries: Mutex<VecDeque<(K, V)>>,
}

impl<K, V> Default for Recent<K, V> {
    fn default() -> Self {
        Recent {
            entries: Mutex::new(VecDeque::new()),
        }
    }
}

impl<K: PartialEq, V: Clone> Recent<K, V> {
    fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().expect("never poisoned");
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// Keeps `value` under `key`, dropping the oldest entries past `capacity`.
    fn put(&self, key: K, value: V, capacity: usize) {
        let mut entries = self.entries.lock().expect("never poisoned");
        entries.retain(|(k, _)| *k != key);
        entries.push_back((key, value));
        while entries.len() > capacity {
            entries.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rejected_imports_tests::example_store;

    const CONTRACT: &str = "mesa-math-2025-baseline";

    /// The draft stored in the database for the current inputs, once its write has landed.
    async fn stored(store: &Store, cv: &ContractVersion, name: &str) -> StoredDraft {
        for _ in 0..1000 {
            let key = store.draft_inputs_key(&cv.contract).await.unwrap();
            match store.draft_statement(&cv.contract.id, name).await.unwrap() {
                Some(draft) if draft.inputs_key == key => return draft,
                _ => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
        panic!("the draft {name} was not stored");
    }

    #[tokio::test]
    async fn twenty_concurrent_requests_compute_a_draft_once_as_a_fresh_computation() {
        let dir = tempfile::tempdir().unwrap();
        let store = example_store(dir.path()).await;
        let cv = store.contract(CONTRACT).await.unwrap();
        let drafts = Drafts::new();
        let all = futures_join((0..20).map(|_| drafts.statement(&store, &cv, "final"))).await;
        let first = all[0].as_ref().unwrap();
        for draft in &all {
            assert!(Arc::ptr_eq(draft.as_ref().unwrap(), first), "computed once");
        }
        let fresh = crate::compute_statement(&store, &cv, "final", None)
            .await
            .unwrap()
            .to_json();
        assert!(
            first.statement.to_json() == fresh,
            "the draft is the statement"
        );
        let saved = stored(&store, &cv, "final").await;
        assert!(saved.statement_json == fresh, "stored byte for byte");
        let summary: DraftSummary = serde_json::from_str(&saved.summary_json).unwrap();
        assert_eq!(
            summary.totals.statement_total,
            first.statement.totals.statement_total
        );
        assert!(summary
            .weekly_attendance
            .iter()
            .all(|w| w.week.weekday() == time::Weekday::Monday && w.attended <= w.offered));
        assert!(summary.weekly_attendance.iter().any(|w| w.attended > 0));

        // Another process (a restart) reads it back instead of computing it.
        let restarted = Drafts::new();
        let again = restarted.statement(&store, &cv, "final").await.unwrap();
        assert!(again.statement.to_json() == fresh);
    }

    #[tokio::test]
    async fn a_draft_is_computed_again_when_its_inputs_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = example_store(dir.path()).await;
        let cv = store.contract(CONTRACT).await.unwrap();
        let drafts = Drafts::new();
        let before = drafts.statement(&store, &cv, "midyear").await.unwrap();
        let same = drafts.statement(&store, &cv, "midyear").await.unwrap();
        assert!(Arc::ptr_eq(&before, &same), "kept while the inputs stay");
        // One student's enrollment ends before the statement's period starts.
        let student = &before.statement.lines[0].student_id;
        let change = format!("student_id,start_date,end_date\n{student},2024-08-01,2024-08-02\n");
        crate::enroll(&store, "t", CONTRACT, "e.csv", change.as_bytes())
            .await
            .unwrap();
        let after = drafts.statement(&store, &cv, "midyear").await.unwrap();
        assert_ne!(after.inputs_key, before.inputs_key);
        let fresh = crate::compute_statement(&store, &cv, "midyear", None)
            .await
            .unwrap();
        assert!(after.statement.to_json() == fresh.to_json());
        assert!(after.statement.to_json() != before.statement.to_json());
        let summary = drafts.summary(&store, &cv, "midyear").await.unwrap();
        assert_eq!(summary.totals.students, fresh.totals.students);
    }

    /// Runs the futures concurrently on this thread, in order.
    async fn futures_join<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
        let mut pinned: Vec<_> = futures.map(Box::pin).collect();
        let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (future, slot) in pinned.iter_mut().zip(out.iter_mut()) {
                if slot.is_none() {
                    match future.as_mut().poll(cx) {
                        std::task::Poll::Ready(v) => *slot = Some(v),
                        std::task::Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        out.into_iter().map(|v| v.unwrap()).collect()
    }

    #[test]
    fn recent_values_keep_the_newest_and_replace_by_key() {
        let recent: Recent<&str, u32> = Recent::default();
        recent.put("a", 1, 2);
        recent.put("b", 2, 2);
        recent.put("a", 3, 2);
        recent.put("c", 4, 2);
        assert_eq!(recent.get(&"a"), Some(3));
        assert_eq!(recent.get(&"b"), None, "the oldest went first");
        assert_eq!(recent.get(&"c"), Some(4));
    }
}
