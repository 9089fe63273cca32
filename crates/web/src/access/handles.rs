//! The handles a handler reaches data through (lldap's shape: the backend is handed out only
//! as a handler that the caller's permissions produced).
//!
//! - [`Reader`], from any viewer ([`Viewer::reader`]): every read narrowed to the viewer's
//!   [`Scope`]. A contract is read as a [`ScopedContract`], which only the scope check makes,
//!   and the reads of a contract's drafts, statements, progress, reviews, meetings and names
//!   take that value, never a bare id; a meeting to write to is a [`ScopedMeeting`], made only
//!   when its contract is in scope. Exports are audited through it.
//! - [`Writer`], from a [`WriteCapability`]: every web write (imports, contracts,
//!   finalizations, reviews, meetings, API idempotency keys), recorded under the capability's
//!   actor; a write to a contract or meeting takes the reader's proof that it is in scope.
//! - Role-wide handles, each made only by its role's check: [`AuditLog`] (admins, auditors),
//!   [`UserDirectory`] and [`AccountAdmin`] (admins), [`Designer`] (admins, district staff),
//!   and [`OwnAccount`] (the viewer's own sign-in).

use super::{Allowed, WriteCapability, ADMIN, AUDITORS, DESIGNERS};
use crate::auth::Viewer;
use crate::{AppState, WebError};
use axum::http::StatusCode;
use obc_app::drafts::{Draft, DraftSummary, Drafts};
use obc_core::progress::{ActionItem, Attendee, Meeting, MeetingNote, MeetingView, Side};
use obc_core::Statement;
use obc_store::{
    Account, ApiToken, AuditEvent, AuditFilter, ContractSummary, ContractVersion, IdempotencyClaim,
    Role, Scope, Store, StoreError, StoredReview, StoredStatement, StudentRecord, User,
    UserSummary, Viewer as MeetingViewer,
};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

impl AppState {
    /// The raw store, for this module only.
    fn raw(&self) -> &Store {
        &self.store.store
    }

    /// The stored drafts' in-memory copies, for this module only.
    fn drafts(&self) -> &Drafts {
        &self.store.drafts
    }
}

impl Viewer {
    /// The viewer's reading handle: every read narrowed to their scope.
    pub fn reader<'a>(&'a self, state: &'a AppState) -> Reader<'a> {
        Reader {
            state,
            viewer: self,
            scope: self.scope(),
        }
    }

    /// The handle on the viewer's own account (their tokens and password).
    pub fn own_account<'a>(&'a self, state: &'a AppState) -> OwnAccount<'a> {
        OwnAccount {
            store: state.raw(),
            viewer: self,
        }
    }

    /// The audit log and the ledger's verification: admins and auditors, else 403.
    pub fn audit_log<'a>(&self, state: &'a AppState) -> Result<AuditLog<'a>, WebError> {
        self.admitted(AUDITORS)?;
        Ok(AuditLog { store: state.raw() })
    }

    /// Every user and token, to manage them: admins, else 403.
    pub fn user_directory<'a>(&self, state: &'a AppState) -> Result<UserDirectory<'a>, WebError> {
        self.admitted(ADMIN)?;
        Ok(UserDirectory { store: state.raw() })
    }

    /// The contract design tools' district data: admins and district staff, else 403.
    pub fn designer<'a>(&'a self, state: &'a AppState) -> Result<Designer<'a>, WebError> {
        self.admitted(DESIGNERS)?;
        Ok(Designer {
            store: state.raw(),
            viewer: self,
        })
    }
}

impl Viewer {
    /// 403 unless the viewer's role is one the access rule admits.
    fn admitted(&self, allowed: Allowed) -> Result<(), WebError> {
        match allowed.admits(self.role()) {
            true => Ok(()),
            false => Err(WebError::forbidden("your role may not do this")),
        }
    }
}

impl WriteCapability {
    /// The handle that writes with this capability's actor.
    pub fn writer<'a>(&'a self, state: &'a AppState) -> Writer<'a> {
        Writer {
            store: state.raw(),
            cap: self,
        }
    }
}

/// A contract the viewer may see: only [`Reader::contract`] and [`Reader::contracts`] make one,
/// so a read that takes it cannot be handed an id outside the scope.
pub struct ScopedContract(ContractVersion);

impl ScopedContract {
    pub fn id(&self) -> &str {
        &self.0.contract.id
    }
}

impl std::ops::Deref for ScopedContract {
    type Target = ContractVersion;
    fn deref(&self) -> &ContractVersion {
        &self.0
    }
}

/// A student as the viewer's scope shows them: only [`Reader::student`] makes one.
pub struct ScopedStudent(StudentRecord);

impl std::ops::Deref for ScopedStudent {
    type Target = StudentRecord;
    fn deref(&self) -> &StudentRecord {
        &self.0
    }
}

/// A meeting of a contract the viewer may see: only [`Reader::meeting`] makes one, so the
/// meeting writes that take it cannot be handed a meeting outside the scope.
pub struct ScopedMeeting(Meeting);

impl std::ops::Deref for ScopedMeeting {
    type Target = Meeting;
    fn deref(&self) -> &Meeting {
        &self.0
    }
}

/// Who reads meeting records, for the store's filter: admins are the intermediary, staff see
/// their organisation's, auditors read everything but district-only notes. Staff without an
/// organisation see nothing.
fn meeting_viewer(user: &User) -> MeetingViewer {
    let org = user.org_id.clone().unwrap_or_default();
    match user.role {
        Role::Admin => MeetingViewer::Intermediary,
        Role::Auditor => MeetingViewer::Auditor,
        Role::District => MeetingViewer::District(org),
        Role::Provider => MeetingViewer::Provider(org),
    }
}

impl Viewer {
    /// How the store's meeting records filter for this viewer.
    pub fn meeting_viewer(&self) -> MeetingViewer {
        meeting_viewer(&self.user)
    }
}

/// A refusal of a missing record: 404, as records outside the scope answer.
fn missing<T>(found: Result<T, StoreError>) -> Result<T, WebError> {
    match found {
        Err(StoreError::NotFound(_)) => Err(WebError::not_found()),
        other => Ok(other?),
    }
}

/// The store as one viewer may read it.
pub struct Reader<'a> {
    state: &'a AppState,
    viewer: &'a Viewer,
    scope: Scope,
}

impl Reader<'_> {
    fn store(&self) -> &Store {
        self.state.raw()
    }

    /// A contract the viewer may see; one outside the scope answers 404 like a missing one.
    pub async fn contract(&self, id: &str) -> Result<ScopedContract, WebError> {
        if !self.store().contract_in_scope(&self.scope, id).await? {
            return Err(WebError::not_found());
        }
        Ok(ScopedContract(self.store().contract(id).await?))
    }

    /// Every contract the viewer may see (latest versions), by id.
    pub async fn contracts(&self) -> Result<Vec<ScopedContract>, WebError> {
        let mut contracts = Vec::new();
        for summary in self.store().contracts_in_scope(&self.scope).await? {
            contracts.push(ScopedContract(self.store().contract(&summary.id).await?));
        }
        Ok(contracts)
    }

    /// A student as the viewer may see them (providers: enrolled in their contracts, without
    /// flags); else 404.
    pub async fn student(&self, district: &str, id: &str) -> Result<ScopedStudent, WebError> {
        Ok(ScopedStudent(
            self.store()
                .student_in_scope(&self.scope, district, id)
                .await?
                .ok_or_else(WebError::not_found)?,
        ))
    }

    /// The contracts a student is enrolled in, with the enrollment's start and end: those the
    /// scoped read of the student kept, so each is in scope.
    pub async fn enrollments(
        &self,
        student: &ScopedStudent,
    ) -> Result<Vec<(ScopedContract, String, Option<String>)>, WebError> {
        let mut contracts = Vec::new();
        for (id, start, end) in &student.enrollments {
            let cv = self.store().contract(id).await?;
            contracts.push((ScopedContract(cv), start.clone(), end.clone()));
        }
        Ok(contracts)
    }

    /// The stored draft statement of a milestone as of now.
    pub async fn draft(
        &self,
        cv: &ScopedContract,
        milestone: &str,
    ) -> Result<Arc<Draft>, WebError> {
        Ok(self
            .state
            .drafts()
            .statement(self.store(), cv, milestone)
            .await?)
    }

    /// The draft statement of a milestone as the viewer asked for it: the stored draft, or
    /// with an as-of date one computed now. A milestone the contract lacks is 404.
    pub async fn statement(
        &self,
        cv: &ScopedContract,
        milestone: &str,
        as_of: Option<&str>,
    ) -> Result<Arc<Statement>, WebError> {
        let as_of =
            obc_app::parse_as_of(as_of).map_err(|e| WebError::bad_request(e.to_string()))?;
        let statement = match as_of {
            None => (self
                .state
                .drafts()
                .statement(self.store(), cv, milestone)
                .await)
                .map(|draft| draft.statement.clone()),
            Some(_) => obc_app::compute_statement(self.store(), cv, milestone, as_of)
                .await
                .map(Arc::new),
        };
        statement.map_err(|e| match e {
            obc_app::AppError::Invalid(m) => WebError::new(StatusCode::NOT_FOUND, m),
            e => e.into(),
        })
    }

    /// The summary of a milestone's draft (the dashboard's figures).
    pub async fn summary(
        &self,
        cv: &ScopedContract,
        milestone: &str,
    ) -> Result<DraftSummary, WebError> {
        Ok(self
            .state
            .drafts()
            .summary(self.store(), cv, milestone)
            .await?)
    }

    /// What late data changes since the contract's final statement, if anything.
    pub async fn changes_since_final(
        &self,
        cv: &ScopedContract,
        today: time::Date,
    ) -> Result<Option<Arc<Statement>>, WebError> {
        Ok(self
            .state
            .drafts()
            .changes_since_final(self.store(), cv, today)
            .await?)
    }

    /// The contract's progress at a date.
    pub async fn progress(
        &self,
        cv: &ScopedContract,
        as_of: time::Date,
    ) -> Result<Arc<obc_core::progress::Progress>, WebError> {
        Ok(self
            .state
            .drafts()
            .progress(self.store(), cv, as_of)
            .await?)
    }

    /// The finalized statement of a milestone, if it was finalized.
    pub async fn finalized_record(
        &self,
        cv: &ScopedContract,
        milestone: &str,
    ) -> Result<Option<StoredStatement>, WebError> {
        Ok(self.store().finalized_record(cv.id(), milestone).await?)
    }

    /// The contract district's school names by id (kept until the next import).
    pub async fn school_names(
        &self,
        cv: &ScopedContract,
    ) -> Result<Arc<HashMap<String, String>>, WebError> {
        let district = &cv.contract.district;
        Ok(self
            .state
            .drafts()
            .school_names(self.store(), district)
            .await?)
    }

    /// The contract district's student names by id, for viewers who may open a student's
    /// record (the student page); `None` for auditors.
    pub async fn student_names(
        &self,
        cv: &ScopedContract,
    ) -> Result<Option<Arc<HashMap<String, String>>>, WebError> {
        if self.viewer.role() == Role::Auditor {
            return Ok(None);
        }
        let names = self
            .state
            .drafts()
            .student_names(self.store(), &cv.contract.district)
            .await?;
        Ok(Some(names))
    }

    /// The contract's district and provider by name (their ids when unnamed).
    pub async fn party_names(&self, cv: &ScopedContract) -> Result<(String, String), WebError> {
        let name = |id: &str| {
            let id = id.to_string();
            async move { Ok::<_, WebError>(self.store().organisation_name(&id).await?.unwrap_or(id)) }
        };
        Ok((
            name(&cv.contract.district).await?,
            name(&cv.contract.provider).await?,
        ))
    }

    /// Sessions of the contract marked attended on days the student was absent from school.
    pub async fn sessions_to_review(
        &self,
        cv: &ScopedContract,
    ) -> Result<obc_app::SessionChecks, WebError> {
        Ok(obc_app::sessions_to_review(self.store(), cv.id()).await?)
    }

    /// The contract's meeting cadence checked at its current date.
    pub async fn meeting_flag(
        &self,
        cv: &ScopedContract,
    ) -> Result<crate::format::MeetingFlag, WebError> {
        let today = crate::format::current_date(cv);
        let cadence = self.store().meeting_cadence(cv.id(), today).await?;
        Ok(crate::format::meeting_flag(&cadence))
    }

    /// The contract's meetings, cadence and open action items as the viewer may see them.
    pub async fn meeting_list(
        &self,
        cv: &ScopedContract,
        as_of: time::Date,
    ) -> Result<obc_app::progress::MeetingList, WebError> {
        let viewer = self.viewer.meeting_viewer();
        Ok(obc_app::progress::meeting_list(self.store(), cv.id(), &viewer, as_of).await?)
    }

    /// A meeting as the viewer may see it (the store filters its records); else 404.
    pub async fn meeting_view(&self, meeting: i64) -> Result<MeetingView, WebError> {
        let viewer = self.viewer.meeting_viewer();
        missing(self.store().meeting_view(meeting, &viewer).await)
    }

    /// A meeting of a contract the viewer may see; else 404.
    pub async fn meeting(&self, meeting: i64) -> Result<ScopedMeeting, WebError> {
        let m = missing(self.store().meeting(meeting).await)?;
        self.contract(&m.contract_id).await?;
        Ok(ScopedMeeting(m))
    }

    /// The contracts the viewer may see, as listed (latest versions, by id).
    pub async fn contract_list(&self) -> Result<Vec<ContractSummary>, WebError> {
        Ok(self.store().contracts_in_scope(&self.scope).await?)
    }

    /// The statement to show for a milestone: the finalized one when there is one and no
    /// date is asked for, else the stored draft (or one computed at the date); with the
    /// finalized record (see [`Drafts::statement_for_display`]).
    pub async fn statement_for_display(
        &self,
        cv: &ScopedContract,
        milestone: &str,
        as_of: Option<time::Date>,
    ) -> Result<(Arc<Statement>, Option<StoredStatement>), WebError> {
        Ok(self
            .state
            .drafts()
            .statement_for_display(self.store(), cv, milestone, as_of)
            .await?)
    }

    /// The names of some of the contract district's students by id (a page's rows); empty
    /// for auditors, who read statements but never students' names.
    pub async fn student_names_among(
        &self,
        cv: &ScopedContract,
        ids: &[&str],
    ) -> Result<HashMap<String, String>, WebError> {
        if self.viewer.role() == Role::Auditor {
            return Ok(HashMap::new());
        }
        let district = &cv.contract.district;
        Ok(self.store().student_names(district, Some(ids)).await?)
    }

    /// Records in the audit log that a milestone's statement left obc as a file.
    pub async fn record_statement_export(
        &self,
        cv: &ScopedContract,
        milestone: &str,
        detail: &str,
    ) -> Result<(), WebError> {
        let target = format!("contract:{}/milestone:{milestone}", cv.id());
        self.audit_export("export.statement", &target, detail).await
    }

    /// The contract as an INDIGO project document; the export is recorded in the audit log.
    pub async fn indigo_project(&self, cv: &ScopedContract) -> Result<serde_json::Value, WebError> {
        let project = obc_app::export::indigo_project(self.store(), cv.id()).await?;
        let target = format!("contract:{}", cv.id());
        self.audit_export("export.indigo", &target, "web").await?;
        Ok(project)
    }

    /// Exports are audited for every viewer who may read them, auditors too: recording one
    /// is not a change of data.
    async fn audit_export(&self, action: &str, target: &str, detail: &str) -> Result<(), WebError> {
        let actor = &self.viewer.user.username;
        Ok(self.store().audit(actor, action, target, detail).await?)
    }

    /// The review of a milestone's issued draft, if it was issued.
    pub async fn review(
        &self,
        cv: &ScopedContract,
        milestone: &str,
    ) -> Result<Option<StoredReview>, WebError> {
        Ok(self.store().review(&self.scope, cv.id(), milestone).await?)
    }

    /// The finalized statements of contracts the viewer may see.
    pub async fn ledger(&self) -> Result<Vec<StoredStatement>, WebError> {
        let visible: Vec<String> = (self.store().contracts_in_scope(&self.scope).await?)
            .into_iter()
            .map(|c| c.id)
            .collect();
        Ok(self
            .store()
            .finalized_records()
            .await?
            .into_iter()
            .filter(|s| visible.contains(&s.contract_id))
            .collect())
    }

    /// The provider's console, for provider staff of their own organisation; `None` for
    /// every other viewer.
    pub async fn provider_console(
        &self,
    ) -> Result<Option<Arc<obc_app::consoles::ProviderConsole>>, WebError> {
        let (Role::Provider, Scope::Provider(provider)) = (self.viewer.role(), &self.scope) else {
            return Ok(None);
        };
        let console = self
            .state
            .drafts()
            .provider_console(self.store(), provider)
            .await?;
        Ok(Some(console))
    }
}

/// The writes, made only from a [`WriteCapability`]: each records the capability's actor;
/// those of a contract or meeting take the reader's proof that the writer may see it.
pub struct Writer<'a> {
    store: &'a Store,
    cap: &'a WriteCapability,
}

impl Writer<'_> {
    /// Finalizes a milestone's statement (once its review, if any, allows it).
    pub async fn finalize(
        &self,
        cv: &ScopedContract,
        milestone: &str,
        as_of: Option<time::Date>,
    ) -> obc_app::Result<(Statement, StoredStatement)> {
        obc_app::finalize_statement(self.store, self.cap.actor(), cv.id(), milestone, as_of).await
    }

    /// Issues a milestone's draft for review on `on`.
    pub async fn issue_statement(
        &self,
        cv: &ScopedContract,
        milestone: &str,
        on: time::Date,
    ) -> obc_app::Result<StoredReview> {
        let actor = self.cap.actor();
        obc_app::review::issue_statement(self.store, actor, cv.id(), milestone, on).await
    }

    /// Records an approval, dispute or resolution of a milestone's issued draft.
    pub async fn review_step(
        &self,
        cv: &ScopedContract,
        milestone: &str,
        step: obc_core::review::Step,
    ) -> obc_app::Result<StoredReview> {
        let (actor, scope) = (self.cap.actor(), self.cap.user.scope());
        obc_app::review::review_step(self.store, actor, &scope, cv.id(), milestone, step).await
    }

    /// Opens a meeting of the contract held on a day, with its attendees.
    pub async fn open_meeting(
        &self,
        cv: &ScopedContract,
        held_on: time::Date,
        attendees: &[(String, Side)],
    ) -> obc_app::Result<Meeting> {
        let actor = self.cap.actor();
        let (m, _) =
            obc_app::progress::open_meeting(self.store, actor, cv.id(), held_on, attendees).await?;
        Ok(m)
    }

    pub async fn add_attendee(
        &self,
        m: &ScopedMeeting,
        name: &str,
        side: &str,
    ) -> obc_app::Result<Attendee> {
        obc_app::progress::add_attendee(self.store, self.cap.actor(), m.id, name, side).await
    }

    pub async fn add_note(
        &self,
        m: &ScopedMeeting,
        student: Option<&str>,
        text: &str,
        district_only: bool,
    ) -> obc_app::Result<MeetingNote> {
        let actor = self.cap.actor();
        obc_app::progress::add_note(self.store, actor, m.id, student, text, district_only).await
    }

    pub async fn add_action(
        &self,
        m: &ScopedMeeting,
        owner: &str,
        due: Option<time::Date>,
        text: &str,
        student: Option<&str>,
    ) -> obc_app::Result<ActionItem> {
        let actor = self.cap.actor();
        obc_app::progress::add_action(self.store, actor, m.id, owner, due, text, student).await
    }

    /// Closes or reopens an action item of the meeting's contract that the writer may see.
    pub async fn set_action_status(
        &self,
        m: &ScopedMeeting,
        item: i64,
        status: &str,
        note: &str,
    ) -> obc_app::Result<ActionItem> {
        obc_app::progress::set_action_status(
            self.store,
            self.cap.actor(),
            &meeting_viewer(&self.cap.user),
            &m.contract_id,
            item,
            status,
            note,
        )
        .await
    }

    /// Claims an API push's idempotency key for the writer (see [`IdempotencyClaim`]).
    pub async fn claim_idempotency_key(
        &self,
        key: &str,
        request_sha256: &str,
    ) -> Result<IdempotencyClaim, WebError> {
        let user = &self.cap.user;
        Ok(self
            .store
            .claim_idempotency_key(user, key, request_sha256)
            .await?)
    }

    /// Keeps the answer of the push that claimed `key`, for its retries.
    pub async fn remember_response(
        &self,
        key: &str,
        status: u16,
        response: &str,
    ) -> Result<(), WebError> {
        let user = &self.cap.user;
        Ok(self
            .store
            .remember_response(user, key, status, response)
            .await?)
    }

    /// Frees `key` after a push that imported nothing, so a retry runs again.
    pub async fn release_idempotency_key(&self, key: &str) -> Result<(), WebError> {
        Ok(self
            .store
            .release_idempotency_key(&self.cap.user, key)
            .await?)
    }

    /// The district an upload is for: the one named (which must be known), or the only one.
    pub async fn district_for(&self, asked: Option<&str>) -> Result<String, WebError> {
        Ok(obc_app::district_for(self.store, asked).await?)
    }

    pub async fn import_roster(
        &self,
        name: &str,
        roster: obc_ingest::roster::Roster,
    ) -> obc_app::Result<obc_app::RosterImport> {
        obc_app::import_roster(self.store, self.cap.actor(), name, roster).await
    }

    pub async fn import_assessments<R: Read>(
        &self,
        open: impl FnMut() -> std::io::Result<R>,
        name: &str,
        district: &str,
    ) -> obc_app::Result<obc_app::AssessmentsImport> {
        obc_app::import_assessments(
            self.store,
            self.cap.actor(),
            open,
            name,
            district,
            &mut |_| {},
        )
        .await
    }

    pub async fn import_sessions<R: Read>(
        &self,
        open: impl FnMut() -> std::io::Result<R>,
        name: &str,
        provider: &str,
        reach: obc_app::Reach,
    ) -> obc_app::Result<obc_app::SessionsImport> {
        obc_app::import_sessions(
            self.store,
            self.cap.actor(),
            open,
            name,
            provider,
            reach,
            &mut |_| {},
        )
        .await
    }

    pub async fn import_school_attendance<R: Read>(
        &self,
        name: &str,
        reader: R,
        district: &str,
    ) -> obc_app::Result<obc_app::SchoolAttendanceImport> {
        obc_app::import_school_attendance(
            self.store,
            self.cap.actor(),
            name,
            reader,
            district,
            &mut |_| {},
        )
        .await
    }

    pub async fn add_contract(
        &self,
        name: &str,
        source: &[u8],
        effective: Option<time::Date>,
    ) -> obc_app::Result<ContractVersion> {
        obc_app::add_contract(self.store, self.cap.actor(), name, source, effective).await
    }
}

/// The audit log and the ledger's verification: only [`Viewer::audit_log`] makes one, for
/// admins and auditors.
pub struct AuditLog<'a> {
    store: &'a Store,
}

impl AuditLog<'_> {
    /// One page of the filtered log, newest first.
    pub async fn page(
        &self,
        filter: &AuditFilter,
        page: u64,
    ) -> Result<obc_app::consoles::AuditPage, WebError> {
        Ok(obc_app::consoles::audit_page(self.store, filter, page).await?)
    }

    /// Every event that passes the filter, newest first.
    pub async fn events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, WebError> {
        Ok(self.store.audit_events(filter, 0, u64::MAX >> 1).await?)
    }

    /// `obc ledger verify`'s check of every finalized statement.
    pub async fn verify_ledger(&self) -> Result<obc_app::LedgerVerification, WebError> {
        Ok(obc_app::verify_ledger(self.store).await?)
    }
}

/// Every user, token and organisation: only [`Viewer::user_directory`] makes one, for admins.
pub struct UserDirectory<'a> {
    store: &'a Store,
}

impl UserDirectory<'_> {
    pub async fn users(&self) -> Result<Vec<UserSummary>, WebError> {
        Ok(self.store.users().await?)
    }

    pub async fn tokens(&self) -> Result<Vec<ApiToken>, WebError> {
        Ok(self.store.api_tokens(None).await?)
    }

    /// The organisations of a kind (`district`, `provider`) a staff user may belong to.
    pub async fn organisations(&self, kind: &str) -> Result<Vec<String>, WebError> {
        Ok(self.store.organisations(kind).await?)
    }

    /// A user's account, or 404.
    pub async fn account(&self, username: &str) -> Result<Account, WebError> {
        (self.store.user_for_login(username).await?).ok_or_else(WebError::not_found)
    }
}

/// The admin's handle on accounts, the only way handlers change users and tokens (lldap's
/// `get_admin_handler`): made from an admin's write capability, it records the viewer as the
/// actor of every change and offers nothing else of the store.
pub struct AccountAdmin<'a> {
    store: &'a Store,
    cap: WriteCapability,
}

impl<'a> AccountAdmin<'a> {
    /// The handle, if the viewer is an admin and sent the form's token; else 403.
    pub fn of(viewer: &Viewer, state: &'a AppState, csrf: Option<&str>) -> Result<Self, WebError> {
        Ok(AccountAdmin {
            store: state.raw(),
            cap: viewer.may_write_as(&[Role::Admin], csrf)?,
        })
    }

    pub async fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        org: Option<&str>,
    ) -> Result<User, WebError> {
        Ok(self
            .store
            .add_user(self.cap.actor(), username, password_hash, role, org)
            .await?)
    }

    /// A new password; the user's sign-ins end.
    pub async fn set_password(&self, username: &str, password_hash: &str) -> Result<(), WebError> {
        Ok(self
            .store
            .set_password(self.cap.actor(), username, password_hash, None)
            .await?)
    }

    /// Disables (sign-ins end, tokens revoked) or enables a user other than the admin.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<(), WebError> {
        if disabled && username == self.cap.actor() {
            return Err(WebError::new(
                StatusCode::CONFLICT,
                "you cannot disable yourself: ask another admin",
            ));
        }
        Ok(self
            .store
            .set_disabled(self.cap.actor(), username, disabled)
            .await?)
    }

    pub async fn issue_token(
        &self,
        user: &User,
        token: &str,
        label: &str,
        days: u16,
    ) -> Result<ApiToken, WebError> {
        Ok(self
            .store
            .add_api_token(
                self.cap.actor(),
                user,
                token,
                label,
                time::Duration::days(i64::from(days)),
            )
            .await?)
    }

    pub async fn revoke_token(&self, id: &str) -> Result<(), WebError> {
        self.store.revoke_api_token(self.cap.actor(), id).await?;
        Ok(())
    }
}

/// The viewer's own account: their API tokens and their password.
pub struct OwnAccount<'a> {
    store: &'a Store,
    viewer: &'a Viewer,
}

impl OwnAccount<'_> {
    pub async fn tokens(&self) -> Result<Vec<ApiToken>, WebError> {
        Ok(self
            .store
            .api_tokens(Some(&self.viewer.user.username))
            .await?)
    }

    /// The stored hash of the viewer's password, to check the current one against.
    pub async fn password_hash(&self) -> Result<String, WebError> {
        let account = (self
            .store
            .user_for_login(&self.viewer.user.username)
            .await?)
            .ok_or_else(WebError::not_found)?;
        Ok(account.password_hash)
    }

    /// A new password, recorded as the viewer's own change; their other sign-ins end, the one
    /// of `this_session` goes on.
    pub async fn set_password(
        &self,
        password_hash: &str,
        this_session: Option<&str>,
    ) -> Result<(), WebError> {
        let username = &self.viewer.user.username;
        Ok(self
            .store
            .set_password(username, username, password_hash, this_session)
            .await?)
    }
}

/// A district a designer may choose students from: only [`Designer::district`] makes one.
pub struct DesignDistrict(String);

impl DesignDistrict {
    pub fn id(&self) -> &str {
        &self.0
    }
}

/// The district data of the contract design tools: only [`Viewer::designer`] makes one.
pub struct Designer<'a> {
    store: &'a Store,
    viewer: &'a Viewer,
}

impl Designer<'_> {
    /// The districts an admin chooses among; empty for district staff, whose own is fixed.
    pub async fn districts(&self) -> Result<Vec<String>, WebError> {
        if self.viewer.role() != Role::Admin {
            return Ok(Vec::new());
        }
        Ok(self.store.organisations("district").await?)
    }

    /// The district whose students the viewer may choose from: district staff their own
    /// (another district answers 404, as records out of scope do), an admin the one asked for
    /// (or the only one).
    pub async fn district(&self, asked: Option<&str>) -> Result<DesignDistrict, WebError> {
        let asked = asked.map(str::trim).filter(|d| !d.is_empty());
        if self.viewer.role() == Role::Admin {
            return Ok(DesignDistrict(
                obc_app::district_for(self.store, asked).await?,
            ));
        }
        let own = (self.viewer.user.org_id.as_deref())
            .ok_or_else(|| WebError::forbidden("your account belongs to no district"))?;
        match asked {
            Some(other) if other != own => Err(WebError::not_found()),
            _ => Ok(DesignDistrict(
                obc_app::district_for(self.store, Some(own)).await?,
            )),
        }
    }

    /// The district's students chosen by the rules.
    pub async fn target(
        &self,
        district: &DesignDistrict,
        rules: &obc_core::design::target::TargetRules,
    ) -> Result<obc_core::design::target::Selection, WebError> {
        Ok(obc_app::target::target(self.store, Some(district.id()), rules).await?)
    }

    /// Records in the audit log that a list of the district's students left obc.
    pub async fn record_export(
        &self,
        district: &DesignDistrict,
        detail: &str,
    ) -> Result<(), WebError> {
        self.store
            .audit(
                &self.viewer.user.username,
                "export.target",
                &format!("district:{}", district.id()),
                detail,
            )
            .await?;
        Ok(())
    }
}

impl AppState {
    /// The sign-in's handle, for anyone (signing in is how a viewer is made).
    pub fn sign_in(&self) -> SignIn<'_> {
        SignIn { store: self.raw() }
    }
}

/// What signing in and out reads and writes: sessions, API tokens, remembered browsers and
/// the account of a username. Only [`crate::auth`] uses it.
pub struct SignIn<'a> {
    store: &'a Store,
}

impl SignIn<'_> {
    /// The user of an API token that is valid, if any.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>, WebError> {
        Ok(self.store.user_for_token(token).await?)
    }

    /// The user of a live session cookie and the session's form token, if any.
    pub async fn session(&self, token: &str) -> Result<Option<(User, String)>, WebError> {
        Ok(self.store.login_session(token).await?)
    }

    /// The account a username signs in to, with its password hash.
    pub async fn account(&self, username: &str) -> Result<Option<Account>, WebError> {
        Ok(self.store.user_for_login(username).await?)
    }

    pub async fn start_session(
        &self,
        user: &User,
        token: &str,
        csrf: &str,
        valid_for: time::Duration,
    ) -> Result<(), WebError> {
        Ok(self
            .store
            .create_login_session(user, token, csrf, valid_for)
            .await?)
    }

    pub async fn end_session(&self, token: &str) -> Result<(), WebError> {
        Ok(self.store.end_login_session(token).await?)
    }

    /// Whether this browser's device cookie is one the user signed in with before.
    pub async fn is_known_device(&self, username: &str, device: &str) -> Result<bool, WebError> {
        Ok(self.store.is_known_device(username, device).await?)
    }

    pub async fn remember_device(
        &self,
        user: &User,
        device: &str,
        valid_for: time::Duration,
    ) -> Result<(), WebError> {
        Ok(self.store.add_known_device(user, device, valid_for).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, org: Option<&str>) -> Viewer {
        Viewer {
            user: User {
                id: 1,
                username: "someone".into(),
                role,
                org_id: org.map(str::to_string),
            },
            csrf: None,
        }
    }

    /// Two districts with one student each, and the example contract (district `ector`,
    /// provider `fev`), which enrolls no one.
    async fn two_districts(dir: &tempfile::TempDir) -> (AppState, String) {
        let db = dir.path().join("scoped.db");
        let store = Store::open(db.to_str().unwrap(), true).await.unwrap();
        for district in ["ector", "other"] {
            let csv = "student_id,school_id,grade,first_name,last_name\ns1,sch1,6,Ana,Ruiz\n";
            let roster = obc_ingest::roster::read_roster_upload(
                "roster.csv",
                std::io::Cursor::new(csv),
                Some(district),
            )
            .unwrap();
            obc_app::import_roster(&store, "t", "roster.csv", roster)
                .await
                .unwrap();
        }
        let source = include_str!("../../../core/tests/contract_example.toml");
        let cv = obc_app::add_contract(&store, "t", "c.toml", source.as_bytes(), None)
            .await
            .unwrap();
        (AppState::new(store), cv.contract.id)
    }

    #[tokio::test]
    async fn the_reader_answers_404_outside_the_viewers_scope() {
        let dir = tempfile::tempdir().unwrap();
        let (state, contract) = two_districts(&dir).await;
        let not_found = |r: Result<_, WebError>| r.err().map(|e| e.status);
        let admin = viewer(Role::Admin, None);
        let ector = viewer(Role::District, Some("ector"));
        let other = viewer(Role::District, Some("other"));
        let provider = viewer(Role::Provider, Some("fev"));
        for (who, sees) in [
            (&admin, true),
            (&ector, true),
            (&provider, true),
            (&other, false),
        ] {
            let reader = who.reader(&state);
            let found = reader
                .contract(&contract)
                .await
                .map(|cv| cv.id().to_string());
            match sees {
                true => assert_eq!(found.unwrap(), contract),
                false => assert_eq!(not_found(found), Some(StatusCode::NOT_FOUND)),
            }
            assert_eq!(reader.contracts().await.unwrap().len(), usize::from(sees));
        }
        // District staff see their own district's students only; the provider enrolls no one.
        async fn student(state: &AppState, v: &Viewer, district: &str) -> Result<String, WebError> {
            let s = v.reader(state).student(district, "s1").await?;
            Ok(s.student.id.clone())
        }
        assert_eq!(student(&state, &ector, "ector").await.unwrap(), "s1");
        assert_eq!(student(&state, &admin, "other").await.unwrap(), "s1");
        for (v, district) in [(&ector, "other"), (&other, "ector"), (&provider, "ector")] {
            assert_eq!(
                not_found(student(&state, v, district).await),
                Some(StatusCode::NOT_FOUND)
            );
        }
    }

    /// A meeting is read and written only through its contract's scope: another district's
    /// staff get 404 for it, as for a meeting that does not exist.
    #[tokio::test]
    async fn meetings_are_reached_only_within_the_viewers_scope() {
        let dir = tempfile::tempdir().unwrap();
        let (state, contract) = two_districts(&dir).await;
        let ector = viewer(Role::District, Some("ector"));
        let other = viewer(Role::District, Some("other"));
        let cap = ector.may_write(None).unwrap();
        let cv = ector.reader(&state).contract(&contract).await.unwrap();
        let held_on = time::Date::from_calendar_date(2024, time::Month::October, 1).unwrap();
        let writer = cap.writer(&state);
        let opened = writer.open_meeting(&cv, held_on, &[]).await.unwrap();
        let ours = ector.reader(&state).meeting(opened.id).await.unwrap();
        let added = writer.add_attendee(&ours, "Ana", "district").await;
        assert_eq!(added.unwrap().name, "Ana");
        let seen = ector.reader(&state).meeting_view(opened.id).await.unwrap();
        assert_eq!(seen.attendees.len(), 1);
        let status = |r: Result<(), WebError>| r.err().map(|e| e.status);
        let theirs = other.reader(&state);
        for found in [
            status(theirs.meeting(opened.id).await.map(drop)),
            status(theirs.meeting_view(opened.id).await.map(drop)),
            status(ector.reader(&state).meeting(opened.id + 1).await.map(drop)),
        ] {
            assert_eq!(found, Some(StatusCode::NOT_FOUND));
        }
    }

    #[tokio::test]
    async fn role_handles_are_made_only_for_their_roles() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("roles.db");
        let store = Store::open(db.to_str().unwrap(), true).await.unwrap();
        let state = AppState::new(store);
        let forbidden = |r: Result<(), WebError>| r.err().map(|e| e.status);
        for role in [Role::Admin, Role::District, Role::Provider, Role::Auditor] {
            let v = viewer(role, Some("org"));
            let audit = forbidden(v.audit_log(&state).map(drop));
            let users = forbidden(v.user_directory(&state).map(drop));
            let design = forbidden(v.designer(&state).map(drop));
            let allowed = |yes: bool| (!yes).then_some(StatusCode::FORBIDDEN);
            assert_eq!(audit, allowed(matches!(role, Role::Admin | Role::Auditor)));
            assert_eq!(users, allowed(role == Role::Admin));
            assert_eq!(
                design,
                allowed(matches!(role, Role::Admin | Role::District))
            );
        }
    }
}
