//! The use cases of obc, shared by the command line and the web app: import a file, add a
//! contract, enroll students, compute and finalize a statement. Each one checks the whole input,
//! then stores it in one transaction or not at all, and returns a report for the caller to show.

use obc_core::corrections::{Corrections, FinalizedRun, PaidLine, PaidStatement};
use obc_core::engine::{self, PriorPayments, StatementRequest, StudentInput};
use obc_core::{Contract, Statement};
use obc_ingest::{
    AssessmentReader, ImportError, ImportErrors, Roster, SessionReader, SessionRow,
    MAX_ERRORS_PER_FILE,
};
use obc_store::{
    ContractVersion, EnrollReport, FlaggedSession, ImportCounts, ImportDigest, LatestImport,
    ProviderEnrollments, RosterReport, Staging, Store, StoreError, StoredInputs, StoredStatement,
};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::io::Read;

pub mod consoles;
pub mod drafts;
pub mod export;
pub mod progress;
pub mod review;
mod statement_pass;
pub mod target;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input has wrong rows; nothing was imported.
    #[error("{errors}\n{} problem{} found; nothing was imported", .errors.total, if .errors.total == 1 { "" } else { "s" })]
    Rejected { errors: ImportErrors },
    /// The contract document is invalid: every problem with its TOML line and column.
    #[error("{}\nthe contract was not added", .problems.iter().map(|p| format!("{file}:{}:{}: {}", p.line, p.column, p.message)).collect::<Vec<_>>().join("\n"))]
    InvalidContract {
        file: String,
        problems: Vec<obc_core::contract::Problem>,
    },
    /// A request that cannot be met (unknown id, bad date); the message says what to do.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
}

impl From<ImportErrors> for AppError {
    fn from(e: ImportErrors) -> Self {
        AppError::Rejected { errors: e }
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        AppError::Rejected { errors: e.into() }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Runs CPU-heavy work (the engine, reading back a large statement) on the runtime's blocking
/// threads, so the threads answering requests stay free: a sign-in never waits behind a
/// statement being computed. A panic in `work` is the caller's panic.
pub async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("a computation was cancelled: {e}"),
        },
    }
}

/// Called once per row read with how many rows of the file this reading has reached, for
/// progress bars: an import that reads its file again (a re-send that changed, a file that
/// has to be staged after all) counts again from its first row, never past the file's rows.
pub type Tick<'a> = &'a mut (dyn FnMut(u64) + Send);

/// What a roster import did.
#[derive(Debug, Clone)]
pub struct RosterImport {
    pub district_id: String,
    pub district_name: String,
    pub schools: usize,
    pub students: usize,
    pub report: RosterReport,
}

impl RosterImport {
    /// One line per school this import created, with its students, so that a typo in a school
    /// id shows before anyone relies on it (SPEC 3.1).
    pub fn new_schools(&self) -> Vec<String> {
        self.report
            .new_schools
            .iter()
            .map(|s| {
                let students = match s.students {
                    1 => "1 student".to_string(),
                    n => format!("{n} students"),
                };
                if s.name == s.id {
                    format!(
                        "{} ({students}; the file names no school: check the id)",
                        s.id
                    )
                } else {
                    format!("{} \"{}\" ({students})", s.id, s.name)
                }
            })
            .collect()
    }
}

/// Stores a parsed roster.
pub async fn import_roster(
    store: &Store,
    actor: &str,
    source: &str,
    roster: Roster,
) -> Result<RosterImport> {
    let report = store
        .import_roster(
            actor,
            source,
            &roster.district_id,
            &roster.district_name,
            &roster.schools,
            &roster.students,
        )
        .await?;
    Ok(RosterImport {
        district_id: roster.district_id,
        district_name: roster.district_name,
        schools: roster.schools.len(),
        students: roster.students.len(),
        report,
    })
}

/// The district an import is for: the one named, else the only one in the database.
pub async fn district_for(store: &Store, district: Option<&str>) -> Result<String> {
    let known = store.organisations("district").await?;
    match district {
        Some(d) if known.iter().any(|k| k == d) => Ok(d.to_string()),
        Some(d) => Err(AppError::Invalid(format!(
            "unknown district \"{d}\": import its roster first (known: {})",
            known.join(", ")
        ))),
        None => match known.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(AppError::Invalid(
                "no district yet: import a roster first".into(),
            )),
            many => Err(AppError::Invalid(format!(
                "several districts ({}): say which with --district",
                many.join(", ")
            ))),
        },
    }
}

/// What an assessment import did.
#[derive(Debug, Clone)]
pub struct AssessmentsImport {
    pub district_id: String,
    pub rows: u64,
    pub counts: ImportCounts,
    /// Rows of students not in the district's roster (MAP exports hold the whole district).
    pub skipped: u64,
    /// Tests flagged for rapid guessing (30% or more, NWEA's rule) or not valid for growth.
    pub flagged: Vec<String>,
}

/// Imports a MAP combined data file or generic assessment CSV for a district. Like
/// [`import_sessions`], `open` gives the file from its first byte, and a file with the bytes of
/// the district's latest import is only checked: when the same rows are in the roster (the one
/// thing an import adds to the file), nothing would change.
pub async fn import_assessments<R: Read>(
    store: &Store,
    actor: &str,
    mut open: impl FnMut() -> std::io::Result<R>,
    name: &str,
    district: &str,
    tick: Tick<'_>,
) -> Result<AssessmentsImport> {
    let unreadable = |e: std::io::Error| AppError::from(ImportError::io(name, &e));
    let file_sha256 = sha256_of(open().map_err(unreadable)?).map_err(unreadable)?;
    let rostered = store.student_ids(district).await?;
    let resend = Resend {
        kind: obc_store::ASSESSMENTS_KIND,
        action: obc_store::ASSESSMENTS_ACTION,
        record: format!("district:{district}"),
        scope: district,
    };
    if let Some(latest) = resend.latest_with(store, &file_sha256).await? {
        let reader = AssessmentReader::new(name, open().map_err(unreadable)?)?;
        let mut checks = AssessmentRowChecks::new(name, district);
        for (read, row) in (1..).zip(reader) {
            tick(read);
            checks.check(&rostered, row);
        }
        let (mut report, rows_sha256) = checks.finish()?;
        if resend
            .recorded_as_identical(store, actor, &latest, name, report.rows, &rows_sha256)
            .await?
        {
            report.counts.unchanged = latest.rows;
            return Ok(report);
        }
    }
    let mut import = store.begin_assessments(district).await?;
    // At most twice, as for sessions.
    let (mut report, rows_sha256) = loop {
        let reader = AssessmentReader::new(name, open().map_err(unreadable)?)?;
        let mut checks = AssessmentRowChecks::new(name, district);
        let mut staging = Staging::Kept;
        for (read, row) in (1..).zip(reader) {
            tick(read);
            if let Some(result) = checks.check(&rostered, row) {
                staging = import.add(result).await?;
                if staging == Staging::FromTheStart {
                    break;
                }
            }
        }
        if staging == Staging::Kept && import.rows_done().await? == Staging::Kept {
            break checks.finish()?;
        }
    };
    let digest = ImportDigest {
        file_sha256,
        rows_sha256,
    };
    report.counts = import.commit(actor, name, Some(&digest)).await?;
    Ok(report)
}

/// The checks of an assessment file's rows: every problem, the rows skipped (students not in
/// the roster), the flagged tests, and a digest of which rows were kept.
struct AssessmentRowChecks<'a> {
    name: &'a str,
    errors: ImportErrors,
    report: AssessmentsImport,
    kept: sha2::Sha256,
}

impl<'a> AssessmentRowChecks<'a> {
    fn new(name: &'a str, district: &str) -> Self {
        use sha2::Digest;
        AssessmentRowChecks {
            name,
            errors: ImportErrors::new(),
            report: AssessmentsImport {
                district_id: district.to_string(),
                rows: 0,
                counts: ImportCounts::default(),
                skipped: 0,
                flagged: Vec::new(),
            },
            kept: sha2::Sha256::new(),
        }
    }

    /// Checks one row; the result when it may be imported (rostered, no problem so far).
    fn check(
        &mut self,
        rostered: &HashSet<String>,
        row: std::result::Result<(u64, obc_core::AssessmentResult), ImportError>,
    ) -> Option<obc_core::AssessmentResult> {
        use sha2::Digest;
        let (line, result) = match row {
            Ok(r) => r,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        let report = &mut self.report;
        report.rows += 1;
        let kept = rostered.contains(&result.student_id);
        self.kept.update([u8::from(kept)]);
        if !kept {
            report.skipped += 1;
            return None;
        }
        if let Some(pct) = result
            .rapid_guessing_pct
            .filter(|p| *p >= Decimal::from(30))
        {
            report.flagged.push(format!(
                "{}:{line}: student {} rapid guessing {pct}%",
                self.name, result.student_id
            ));
        } else if !result.growth_measure {
            report.flagged.push(format!(
                "{}:{line}: student {} GrowthMeasureYN is false (not valid for growth)",
                self.name, result.student_id
            ));
        }
        (self.errors.total == 0).then_some(result)
    }

    /// Every problem found, or the report (without counts) and the digest of the kept rows.
    fn finish(self) -> Result<(AssessmentsImport, String)> {
        use sha2::Digest;
        if self.errors.total > 0 {
            return Err(self.errors.into());
        }
        Ok((self.report, obc_core::engine::hex(&self.kept.finalize())))
    }
}

/// An import kind whose identical re-send is recognised (`obc_store::resends`).
struct Resend<'a> {
    kind: &'a str,
    action: &'a str,
    /// The audit log's record of the import.
    record: String,
    /// The organisation whose latest import is compared with.
    scope: &'a str,
}

impl Resend<'_> {
    /// The organisation's latest import of the kind, when it had these file bytes.
    async fn latest_with(&self, store: &Store, file_sha256: &str) -> Result<Option<LatestImport>> {
        Ok(store
            .latest_import(self.kind, self.scope)
            .await?
            .filter(|l| l.digest.file_sha256 == file_sha256))
    }

    /// Records the re-send in the audit log when what it resolved equals the latest import's
    /// (and that is still the latest): then it changes nothing and is not merged.
    async fn recorded_as_identical(
        &self,
        store: &Store,
        actor: &str,
        latest: &LatestImport,
        name: &str,
        rows: u64,
        rows_sha256: &str,
    ) -> Result<bool> {
        if rows_sha256 != latest.digest.rows_sha256 {
            return Ok(false);
        }
        let detail = format!(
            "{name}: {rows} rows, identical to the import of audit record {}: nothing changed",
            latest.audit_id
        );
        Ok(store
            .record_identical_resend(
                actor,
                self.action,
                &self.record,
                (self.kind, self.scope),
                latest,
                &detail,
            )
            .await?)
    }
}

/// What a session upload did.
#[derive(Debug, Clone)]
pub struct SessionsImport {
    pub provider_id: String,
    pub rows: u64,
    pub counts: ImportCounts,
    /// Students with sessions who are not (yet) enrolled in one of the provider's contracts.
    pub not_enrolled: Vec<String>,
    /// Sessions with no subject of students two or more of the provider's contracts enroll on
    /// the session's date: they count for none of them (SPEC 3.3).
    pub ambiguous: Vec<String>,
}

/// Which districts a session upload may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The intermediary: any district with the student in its roster.
    AnyDistrict,
    /// Provider staff: only districts where the provider has a contract. A student elsewhere
    /// gets the same error as an unknown id, so uploads cannot probe other rosters.
    ContractDistricts,
}

/// Imports a provider's session log (CSV or JSON). `open` gives the file from its first byte;
/// it is read twice when the provider's latest import recorded the same file bytes: once to
/// check it and resolve its districts, and, only when that resolution differs, again to import
/// it. An identical re-send thus costs a read, not a merge (`obc_store::resends`).
pub async fn import_sessions<R: Read>(
    store: &Store,
    actor: &str,
    mut open: impl FnMut() -> std::io::Result<R>,
    name: &str,
    provider: &str,
    reach: Reach,
    tick: Tick<'_>,
) -> Result<SessionsImport> {
    let unreadable = |e: std::io::Error| AppError::from(ImportError::io(name, &e));
    let file_sha256 = sha256_of(open().map_err(unreadable)?).map_err(unreadable)?;
    let context = SessionContext {
        student_districts: store.student_districts().await?,
        provider_contracts: store.provider_enrollments(provider).await?,
        reach,
    };
    let resend = Resend {
        kind: obc_store::SESSIONS_KIND,
        action: obc_store::SESSIONS_ACTION,
        record: format!("provider:{provider}"),
        scope: provider,
    };
    if let Some(latest) = resend.latest_with(store, &file_sha256).await? {
        let reader = SessionReader::new(name, open().map_err(unreadable)?)?;
        let mut checks = SessionRowChecks::new(name);
        for (read, row) in (1..).zip(reader) {
            tick(read);
            checks.check(&context, row);
        }
        let checked = checks.finish()?;
        if resend
            .recorded_as_identical(
                store,
                actor,
                &latest,
                name,
                checked.rows,
                &checked.rows_sha256,
            )
            .await?
        {
            let counts = ImportCounts {
                unchanged: latest.rows,
                ..ImportCounts::default()
            };
            return Ok(checked.report(provider, counts));
        }
    }
    let mut import = store.begin_sessions(provider).await?;
    // At most twice: an import that has to stage its rows says so once (`Staging`).
    let checked = loop {
        let reader = SessionReader::new(name, open().map_err(unreadable)?)?;
        let mut checks = SessionRowChecks::new(name);
        let mut staging = Staging::Kept;
        for (read, row) in (1..).zip(reader) {
            tick(read);
            if let Some((line, district, session)) = checks.check(&context, row) {
                staging = import.add(line, district, session).await?;
                if staging == Staging::FromTheStart {
                    break;
                }
            }
        }
        if staging == Staging::Kept && import.rows_done().await? == Staging::Kept {
            break checks.finish()?;
        }
    };
    let (repeats, repeated) = import.repeated_sessions(MAX_ERRORS_PER_FILE).await?;
    if repeats > 0 {
        return Err(repeated_session_errors(name, repeats, repeated).into());
    }
    let digest = ImportDigest {
        file_sha256,
        rows_sha256: checked.rows_sha256.clone(),
    };
    let counts = import.commit(actor, name, Some(&digest)).await?;
    Ok(checked.report(provider, counts))
}

/// The errors of a session file that uses ids more than once (`repeats` later lines in all,
/// the first of them in `repeated`), each naming the line the id was first on.
fn repeated_session_errors(
    name: &str,
    repeats: u64,
    repeated: Vec<obc_store::RepeatedSession>,
) -> ImportErrors {
    let mut errors = ImportErrors::new();
    for r in &repeated {
        errors.push(ImportError::value(
            name,
            r.line,
            "session_id",
            &r.session_id,
            format!(
                "a session id not already used in this file (also on line {})",
                r.first_line
            ),
        ));
    }
    errors.total = repeats;
    errors
}

/// SHA-256 of a whole file, hex.
fn sha256_of(mut reader: impl Read) -> std::io::Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        match reader.read(&mut buffer)? {
            0 => return Ok(obc_core::engine::hex(&hasher.finalize())),
            n => hasher.update(&buffer[..n]),
        }
    }
}

/// What a session row is checked against: who is in which roster, and the provider's
/// enrollments.
struct SessionContext {
    student_districts: HashMap<String, Vec<String>>,
    provider_contracts: ProviderEnrollments,
    reach: Reach,
}

/// The checks of a session file's rows, row by row: every problem, the students not enrolled,
/// the ambiguous sessions, and a digest of each accepted row's district (what an import
/// resolves beyond the file's bytes).
struct SessionRowChecks<'a> {
    name: &'a str,
    errors: ImportErrors,
    not_enrolled: HashSet<String>,
    ambiguous: Vec<String>,
    rows: u64,
    districts: sha2::Sha256,
}

/// A session file that passed its checks.
struct CheckedSessions {
    rows: u64,
    rows_sha256: String,
    not_enrolled: Vec<String>,
    ambiguous: Vec<String>,
}

impl<'a> SessionRowChecks<'a> {
    fn new(name: &'a str) -> Self {
        use sha2::Digest;
        SessionRowChecks {
            name,
            errors: ImportErrors::new(),
            not_enrolled: HashSet::new(),
            ambiguous: Vec::new(),
            rows: 0,
            districts: sha2::Sha256::new(),
        }
    }

    /// Checks one row; its line, district and session when it may be imported (no problem so
    /// far).
    fn check<'c>(
        &mut self,
        context: &'c SessionContext,
        row: std::result::Result<(u64, SessionRow), ImportError>,
    ) -> Option<(u64, &'c str, obc_core::Session)> {
        use sha2::Digest;
        let (line, row) = match row {
            Ok(r) => r,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        self.rows += 1;
        let district = match resolve_district(
            &context.student_districts,
            &context.provider_contracts,
            &row,
            context.reach,
        ) {
            Ok(d) => d,
            Err((column, expected)) => {
                let value = match column {
                    "district" => &row.district,
                    _ => &row.session.student_id,
                };
                self.errors
                    .push(ImportError::value(self.name, line, column, value, expected));
                return None;
            }
        };
        let session = row.session;
        let spans = context
            .provider_contracts
            .enrollment(district, &session.student_id);
        if spans.is_none() {
            self.not_enrolled.insert(session.student_id.clone());
        }
        let enrolling = spans
            .unwrap_or_default()
            .iter()
            .filter(|s| s.contains(session.date))
            .count();
        if obc_core::session_is_ambiguous(&session.subject, enrolling) {
            self.ambiguous.push(session.session_id.clone());
        }
        // Length-prefixed, so no two sequences of districts hash alike.
        self.districts.update((district.len() as u64).to_le_bytes());
        self.districts.update(district.as_bytes());
        (self.errors.total == 0).then_some((line, district, session))
    }

    /// Every problem found, or what the accepted file says.
    fn finish(self) -> Result<CheckedSessions> {
        use sha2::Digest;
        if self.errors.total > 0 {
            return Err(self.errors.into());
        }
        let mut not_enrolled: Vec<String> = self.not_enrolled.into_iter().collect();
        not_enrolled.sort();
        let mut ambiguous = self.ambiguous;
        ambiguous.sort();
        Ok(CheckedSessions {
            rows: self.rows,
            rows_sha256: obc_core::engine::hex(&self.districts.finalize()),
            not_enrolled,
            ambiguous,
        })
    }
}

impl CheckedSessions {
    fn report(self, provider: &str, counts: ImportCounts) -> SessionsImport {
        SessionsImport {
            provider_id: provider.to_string(),
            rows: self.rows,
            counts,
            not_enrolled: self.not_enrolled,
            ambiguous: self.ambiguous,
        }
    }
}

/// The district of a session's student, or the column and what was expected.
///
/// A row's `district` column decides when present. Otherwise: the only district (among those
/// the uploader may reach) whose roster has the id; if several do, the one where the provider's
/// contracts enroll the student on the session's date, else at any time, else the only one where
/// the provider has a contract. Messages name only districts where the provider has a contract.
fn resolve_district<'a>(
    student_districts: &'a HashMap<String, Vec<String>>,
    provider: &ProviderEnrollments,
    row: &SessionRow,
    reach: Reach,
) -> Result<&'a str, (&'static str, String)> {
    let student = row.session.student_id.as_str();
    let has_contract = |d: &&String| provider.districts.contains(*d);
    let reachable: Vec<&String> = student_districts
        .get(student)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|d| reach == Reach::AnyDistrict || has_contract(d))
        .collect();
    if !row.district.is_empty() {
        return match reachable.iter().find(|d| ***d == row.district) {
            Some(d) => Ok(d.as_str()),
            None => Err((
                "district",
                format!("a district whose roster has student {student} (or a blank cell)"),
            )),
        };
    }
    let only = |candidates: Vec<&'a String>| match candidates.as_slice() {
        [only] => Some(only.as_str()),
        _ => None,
    };
    let enrolled_on_date = |d: &&String| {
        provider
            .spans_of(d, student)
            .iter()
            .any(|s| s.contains(row.session.date))
    };
    let enrolled = |d: &&String| provider.enrolls(d, student);
    if reachable.is_empty() {
        return Err((
            "student_id",
            match reach {
                Reach::ContractDistricts => {
                    "a student of a district where the provider has a contract".to_string()
                }
                Reach::AnyDistrict => "a student id of an imported roster".to_string(),
            },
        ));
    }
    let pick = |keep: &dyn Fn(&&String) -> bool| {
        only(reachable.iter().copied().filter(|d| keep(d)).collect())
    };
    if let Some(d) = pick(&|_| true)
        .or_else(|| pick(&enrolled_on_date))
        .or_else(|| pick(&enrolled))
        .or_else(|| pick(&has_contract))
    {
        return Ok(d);
    }
    let named: Vec<&str> = reachable
        .iter()
        .filter(|d| has_contract(d))
        .map(|d| d.as_str())
        .collect();
    let which = if named.len() >= 2 {
        format!("the rosters of {} hold it", named.join(", "))
    } else {
        "several districts' rosters hold it".to_string()
    };
    Err((
        "student_id",
        format!(
            "a student id the provider's enrollments place in one district ({which}, and no contract of the provider enrolls the student in just one of them): add a `district` column"
        ),
    ))
}

/// Validates and stores a contract document; `name` is the file name used in messages.
pub async fn add_contract(
    store: &Store,
    actor: &str,
    name: &str,
    bytes: &[u8],
    effective: Option<time::Date>,
) -> Result<ContractVersion> {
    let source = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        AppError::InvalidContract {
            file: name.to_string(),
            problems: vec![obc_core::contract::Problem {
                line,
                column: 1,
                message: "expected UTF-8 text".into(),
            }],
        }
    })?;
    let contract = Contract::parse(source).map_err(|e| AppError::InvalidContract {
        file: name.to_string(),
        problems: e.problems,
    })?;
    let district = &contract.district;
    if !store
        .organisations("district")
        .await?
        .iter()
        .any(|d| d == district)
    {
        return Err(AppError::InvalidContract {
            file: name.to_string(),
            problems: vec![Contract::district_problem(
                source,
                format!(
                    "`district` = \"{district}\": no such district; import its roster first \
                     (obc import roster ... --district {district})"
                ),
            )],
        });
    }
    Ok(store
        .add_contract(actor, &contract, source, effective)
        .await?)
}

/// Places students in a contract; every student must be in the contract district's roster.
pub async fn enroll<R: Read>(
    store: &Store,
    actor: &str,
    contract_id: &str,
    name: &str,
    reader: R,
) -> Result<EnrollReport> {
    let cv = store.contract(contract_id).await?;
    let rows = obc_ingest::read_enrollments(name, reader)?;
    let rostered = store.student_ids(&cv.contract.district).await?;
    let mut errors = ImportErrors::new();
    for (line, e) in &rows {
        if !rostered.contains(&e.student_id) {
            errors.push(ImportError::value(
                name,
                *line,
                "student_id",
                &e.student_id,
                format!("a student in district {}'s roster", cv.contract.district),
            ));
        }
    }
    if errors.total > 0 {
        return Err(errors.into());
    }
    let enrollments: Vec<_> = rows.into_iter().map(|(_, e)| e).collect();
    Ok(store.enroll(actor, name, contract_id, &enrollments).await?)
}

/// What a school attendance import did.
#[derive(Debug, Clone)]
pub struct SchoolAttendanceImport {
    pub district_id: String,
    pub rows: u64,
    pub counts: ImportCounts,
}

/// Imports a district's daily school attendance (`student_id,date,present`), all or nothing:
/// every student must be in the district's roster (an unknown id is an error with its line).
pub async fn import_school_attendance<R: Read>(
    store: &Store,
    actor: &str,
    name: &str,
    reader: R,
    district: &str,
    tick: Tick<'_>,
) -> Result<SchoolAttendanceImport> {
    let reader = obc_ingest::SchoolAttendanceReader::new(name, reader)?;
    let rostered = store.student_ids(district).await?;
    let mut import = store.begin_school_attendance(district).await?;
    let mut errors = ImportErrors::new();
    let mut rows = 0u64;
    for (read, row) in (1..).zip(reader) {
        tick(read);
        let (line, record) = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        rows += 1;
        if !rostered.contains(&record.student_id) {
            errors.push(ImportError::value(
                name,
                line,
                "student_id",
                &record.student_id,
                format!("a student in district {district}'s roster"),
            ));
            continue;
        }
        if errors.total == 0 {
            import
                .add(&record.student_id, record.date, record.present)
                .await?;
        }
    }
    if errors.total > 0 {
        return Err(errors.into());
    }
    let counts = import.commit(actor, name).await?;
    Ok(SchoolAttendanceImport {
        district_id: district.to_string(),
        rows,
        counts,
    })
}

/// The session checks of a contract (SPEC 6, session verification).
#[derive(Debug, Clone)]
pub struct SessionChecks {
    pub contract_id: String,
    pub district_id: String,
    pub provider_id: String,
    /// Student-days of school attendance the district has uploaded; 0 means nothing could be
    /// checked.
    pub attendance_days: u64,
    /// Sessions marked attended on days the student was absent from school, by student, date.
    pub flagged: Vec<FlaggedSession>,
}

/// The sessions of a contract to review: marked `attended` on a day the district recorded the
/// student absent from school.
pub async fn sessions_to_review(store: &Store, contract_id: &str) -> Result<SessionChecks> {
    let cv = store.contract(contract_id).await?;
    let attendance_days = store.school_attendance_days(&cv.contract.district).await?;
    let flagged = store.sessions_to_review(contract_id).await?;
    Ok(SessionChecks {
        contract_id: contract_id.to_string(),
        district_id: cv.contract.district.clone(),
        provider_id: cv.contract.provider.clone(),
        attendance_days,
        flagged,
    })
}

/// Parses `--as-of`.
pub fn parse_as_of(as_of: Option<&str>) -> Result<Option<time::Date>> {
    as_of
        .map(|text| {
            obc_core::model::parse_user_date(text)
                .map_err(|why| AppError::Invalid(format!("as-of date {text}: {why}")))
        })
        .transpose()
}

/// Everything a statement is computed from besides the contract: kept with a finalized
/// statement so `ledger verify` can compute it again.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InputSnapshot {
    pub milestone: String,
    pub as_of: Option<time::Date>,
    pub students: Vec<StudentInput>,
    pub prior: PriorPayments,
    /// A closing statement's inputs (`milestone` is its `closing-YYYY-MM-DD` name, `as_of` its
    /// date). Absent from a milestone statement's snapshot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closing: bool,
}

impl InputSnapshot {
    /// [`InputSnapshot::compute`] on a blocking thread ([`off_thread`]).
    pub async fn compute_off_thread(self, cv: ContractVersion) -> Result<Statement> {
        off_thread(move || self.compute(&cv)).await
    }

    /// Runs the engine on the snapshot (it takes the inputs: no copy of every session).
    pub fn compute(self, cv: &ContractVersion) -> Result<Statement> {
        if self.closing {
            let date = self.as_of.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "the closing inputs {} have no date",
                    self.milestone
                ))
            })?;
            return Ok(engine::compute_closing(engine::ClosingRequest {
                contract: &cv.contract,
                contract_version: cv.version,
                contract_hash: cv.sha256.clone(),
                date,
                students: self.students,
                prior: self.prior,
            }));
        }
        Ok(engine::compute(StatementRequest {
            contract: &cv.contract,
            contract_version: cv.version,
            contract_hash: cv.sha256.clone(),
            milestone: &self.milestone,
            as_of: self.as_of,
            students: self.students.into(),
            prior: self.prior,
        })?)
    }
}

/// Loads what a statement is computed from, as stored now, every student at once (see
/// [`compute_statement`], which streams them).
pub async fn load_inputs(
    store: &Store,
    cv: &ContractVersion,
    milestone: &str,
    as_of: Option<time::Date>,
) -> Result<(ContractVersion, InputSnapshot)> {
    let (cv, date) = effective_version(store, cv, milestone, as_of).await?;
    let snapshot = read_inputs(store, &cv, milestone, date, as_of, None).await?;
    Ok((cv, snapshot))
}

/// The version of `cv`'s contract that a statement at a milestone, dated `as_of`, is computed
/// under (an amendment applies to statements dated on or after its effective date), and the
/// milestone's date in it.
async fn effective_version(
    store: &Store,
    cv: &ContractVersion,
    milestone: &str,
    as_of: Option<time::Date>,
) -> Result<(ContractVersion, time::Date)> {
    let unknown = |cv: &ContractVersion| {
        let known: Vec<_> = cv
            .contract
            .milestones
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        AppError::Invalid(format!(
            "contract {} (version {}) has no milestone \"{milestone}\" (it has: {})",
            cv.contract.id,
            cv.version,
            known.join(", ")
        ))
    };
    let date = cv
        .contract
        .milestone(milestone)
        .ok_or_else(|| unknown(cv))?
        .date;
    let cv = store
        .contract_effective(&cv.contract.id, as_of.unwrap_or(date))
        .await?;
    let date = cv
        .contract
        .milestone(milestone)
        .ok_or_else(|| unknown(&cv))?
        .date;
    Ok((cv, date))
}

/// Reads what a statement of `cv` at a milestone (dated `milestone_date`) is computed from:
/// the rows as they were after audit record `inputs_as_of`, or as they are now (`None`). A
/// closing statement's "milestone" is its name and its date.
async fn read_inputs(
    store: &Store,
    cv: &ContractVersion,
    milestone: &str,
    milestone_date: time::Date,
    as_of: Option<time::Date>,
    inputs_as_of: Option<i64>,
) -> Result<InputSnapshot> {
    let closing = obc_core::corrections::is_closing_name(milestone);
    let students = store.statement_inputs(&cv.contract, inputs_as_of).await?;
    let (students, corrections) =
        corrections_before(store, &cv.contract.id, milestone_date, students).await?;
    Ok(InputSnapshot {
        milestone: milestone.to_string(),
        as_of,
        students,
        prior: if closing {
            corrections.for_closing()
        } else {
            corrections.for_milestone()
        },
        closing,
    })
}

/// A finalized statement read back from its stored JSON (the bytes that were finalized).
pub fn stored_statement(stored: &StoredStatement) -> Result<Statement> {
    Ok(Statement::from_json(&stored.content_json)
        .map_err(|e| StoreError::Corrupt(format!("finalized statement {}: {e}", stored.id)))?)
}

/// The finalized statements of a contract dated before `before` (milestone date order), with
/// the contract version each was computed under.
struct FinalizedBefore {
    statements: Vec<(u32, PaidStatement)>,
    versions: HashMap<u32, ContractVersion>,
}

impl FinalizedBefore {
    async fn load(store: &Store, contract_id: &str, before: time::Date) -> Result<FinalizedBefore> {
        // Each statement parsed as it is inflated to what the correction rule reads, all of
        // them side by side.
        let mut finalized = store
            .finalized_statements_before(contract_id, before)
            .await?;
        let mut parsing = Vec::new();
        while let Some((stored, statement)) = finalized.next_parsing::<PaidLine>().await? {
            parsing.push((stored.contract_version, statement));
        }
        let mut statements = Vec::with_capacity(parsing.len());
        for (version, statement) in parsing {
            statements.push((version, statement.await?));
        }
        let mut versions: HashMap<u32, ContractVersion> = HashMap::new();
        for (version, _) in &statements {
            if !versions.contains_key(version) {
                let cv = store.contract_version(contract_id, *version).await?;
                versions.insert(*version, cv);
            }
        }
        Ok(FinalizedBefore {
            statements,
            versions,
        })
    }

    /// What the correction rule of obc-core ([`obc_core::corrections`]) takes.
    fn runs(&self) -> Vec<FinalizedRun<'_>> {
        self.statements
            .iter()
            .map(|(version, statement)| {
                let cv = &self.versions[version];
                FinalizedRun {
                    contract: &cv.contract,
                    contract_version: cv.version,
                    contract_hash: &cv.sha256,
                    statement,
                }
            })
            .collect()
    }
}

/// Loads the finalized statements of a contract dated before `before`, with their contract
/// versions, and runs the correction rule of obc-core ([`obc_core::corrections`]) on them with
/// today's data: what they paid, the corrections of their lines and the base already paid.
/// The parsing and the recomputations run off the async threads; `students` comes back.
async fn corrections_before(
    store: &Store,
    contract_id: &str,
    before: time::Date,
    students: Vec<StudentInput>,
) -> Result<(Vec<StudentInput>, Corrections)> {
    let finalized = FinalizedBefore::load(store, contract_id, before).await?;
    off_thread(move || {
        let corrections = obc_core::corrections::corrections_of(&finalized.runs(), &students)?;
        Ok((students, corrections))
    })
    .await
}

/// Computes a statement of `cv` in one pass over its inputs (see [`statement_pass`]): the
/// milestone's (dated `milestone_date`), or the closing `wanted` names, with the corrections
/// of the contract's finalized statements before it, from the inputs as they were after audit
/// record `inputs_as_of` (`None`: now).
async fn stream_statement(
    store: &Store,
    cv: &ContractVersion,
    wanted: statement_pass::Wanted<'_>,
    milestone_date: time::Date,
    inputs_as_of: Option<i64>,
) -> Result<Statement> {
    // The inputs start being read while the finalized statements are parsed.
    let inputs = store
        .statement_input_chunks(&cv.contract, inputs_as_of)
        .await?;
    let finalized = FinalizedBefore::load(store, &cv.contract.id, milestone_date).await?;
    statement_pass::compute(cv, wanted, &finalized.runs(), inputs).await
}

/// The contract version a closing statement dated `date` is computed under (SPEC 5.11): the
/// one in effect that day. A closing comes after the contingent milestone is finalized and is
/// dated after the last milestone.
async fn closing_version(
    store: &Store,
    contract_id: &str,
    date: time::Date,
) -> Result<ContractVersion> {
    let cv = store.contract_effective(contract_id, date).await?;
    let last = cv
        .contract
        .milestones
        .iter()
        .max_by_key(|m| m.date)
        .expect("a validated contract has milestones");
    if date <= last.date {
        return Err(AppError::Invalid(format!(
            "a closing statement is dated after the last milestone of {contract_id} ({} on {}): --as-of {date} is not",
            last.name, last.date
        )));
    }
    let contingent = cv
        .contract
        .milestones
        .iter()
        .find(|m| m.contingent)
        .expect("a validated contract has a contingent milestone");
    if store
        .finalized(contract_id, &contingent.name)
        .await?
        .is_none()
    {
        return Err(AppError::Invalid(format!(
            "a closing statement comes after the contingent milestone is finalized: finalize the {} statement of {contract_id} first",
            contingent.name
        )));
    }
    Ok(cv)
}

/// Loads what a closing statement dated `date` is computed from, every student at once (the
/// web app's stored drafts, which also chart the sessions; [`compute_closing`] streams them).
pub async fn load_closing_inputs(
    store: &Store,
    contract_id: &str,
    date: time::Date,
) -> Result<(ContractVersion, InputSnapshot)> {
    let cv = closing_version(store, contract_id, date).await?;
    let name = obc_core::corrections::closing_name(date);
    let snapshot = read_inputs(store, &cv, &name, date, Some(date), None).await?;
    Ok((cv, snapshot))
}

/// The closing statement dated `date` computed now from today's data and every finalized
/// statement before it, with the contract version it is computed under.
async fn compute_closing(
    store: &Store,
    contract_id: &str,
    date: time::Date,
) -> Result<(ContractVersion, Statement)> {
    let cv = closing_version(store, contract_id, date).await?;
    let wanted = statement_pass::Wanted::Closing(date);
    let statement = stream_statement(store, &cv, wanted, date, None).await?;
    Ok((cv, statement))
}

/// The closing statement to show for a date: the finalized one when a closing of that date
/// was finalized (it never changes), else a draft computed now.
pub async fn closing_for_display(
    store: &Store,
    contract_id: &str,
    date: time::Date,
) -> Result<(Statement, Option<StoredStatement>)> {
    let name = obc_core::corrections::closing_name(date);
    if let Some(stored) = store.finalized(contract_id, &name).await? {
        let statement = stored_statement(&stored)?;
        return Ok((statement, Some(stored)));
    }
    Ok((compute_closing(store, contract_id, date).await?.1, None))
}

/// What late data changes since the contract's final (contingent) statement was finalized: the
/// draft closing statement dated `today` (or the day after the last milestone, if later), or
/// `None` while the contingent milestone is not finalized.
pub async fn changes_since_final(
    store: &Store,
    cv: &ContractVersion,
    today: time::Date,
) -> Result<Option<Statement>> {
    let Some(date) = changes_since_final_date(store, cv, today).await? else {
        return Ok(None);
    };
    Ok(Some(compute_closing(store, &cv.contract.id, date).await?.1))
}

/// The date of the draft closing statement that shows what late data changes since the
/// contract's final statement: `today`, or the day after the last milestone if later; `None`
/// while the contingent milestone is not finalized.
pub async fn changes_since_final_date(
    store: &Store,
    cv: &ContractVersion,
    today: time::Date,
) -> Result<Option<time::Date>> {
    let Some(contingent) = cv.contract.milestones.iter().find(|m| m.contingent) else {
        return Ok(None);
    };
    if store
        .finalized_record(&cv.contract.id, &contingent.name)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let last = cv.contract.milestones.iter().map(|m| m.date).max();
    let after_last = last.and_then(|d| d.next_day()).unwrap_or(today);
    Ok(Some(today.max(after_last)))
}

/// Computes and finalizes a closing statement dated `date`; it is posted like any statement.
pub async fn finalize_closing(
    store: &Store,
    actor: &str,
    contract_id: &str,
    date: time::Date,
) -> Result<(Statement, StoredStatement)> {
    let read_after = store.last_audit_id().await?;
    let (cv, statement) = compute_closing(store, contract_id, date).await?;
    finalize_computed(store, actor, &cv, statement, date, read_after).await
}

/// Computes a contract's statement at a milestone from its stored inputs, in one pass over
/// them (never every student's sessions at once).
pub async fn compute_statement(
    store: &Store,
    cv: &ContractVersion,
    milestone: &str,
    as_of: Option<time::Date>,
) -> Result<Statement> {
    Ok(milestone_statement(store, cv, milestone, as_of).await?.1)
}

/// [`compute_statement`], with the contract version it was computed under.
async fn milestone_statement(
    store: &Store,
    cv: &ContractVersion,
    milestone: &str,
    as_of: Option<time::Date>,
) -> Result<(ContractVersion, Statement)> {
    let (cv, date) = effective_version(store, cv, milestone, as_of).await?;
    let wanted = statement_pass::Wanted::Milestone { milestone, as_of };
    let statement = stream_statement(store, &cv, wanted, date, None).await?;
    Ok((cv, statement))
}

/// The statement to show for a milestone: the finalized one, read back from what was stored,
/// when it exists and no other date is asked for (finalized statements never change, even when
/// late data arrives); else a draft computed now, with the finalized statement's record only
/// (its JSON, hundreds of megabytes for a state, is not read for a draft).
pub async fn statement_for_display(
    store: &Store,
    cv: &ContractVersion,
    milestone: &str,
    as_of: Option<time::Date>,
) -> Result<(Statement, Option<StoredStatement>)> {
    if as_of.is_none() {
        if let Some(stored) = store.finalized(&cv.contract.id, milestone).await? {
            let statement = stored_statement(&stored)?;
            return Ok((statement, Some(stored)));
        }
    }
    let record = store.finalized_record(&cv.contract.id, milestone).await?;
    Ok((
        compute_statement(store, cv, milestone, as_of).await?,
        record,
    ))
}

/// Computes and finalizes a statement; it is stored once and never changed.
pub async fn finalize_statement(
    store: &Store,
    actor: &str,
    contract_id: &str,
    milestone: &str,
    as_of: Option<time::Date>,
) -> Result<(Statement, StoredStatement)> {
    review::check_may_finalize(store, contract_id, milestone).await?;
    let latest = store.contract(contract_id).await?;
    // The inputs are not copied: the statement records the audit record they were read after.
    let read_after = store.last_audit_id().await?;
    let (cv, statement) = milestone_statement(store, &latest, milestone, as_of).await?;
    let date = cv
        .contract
        .milestone(milestone)
        .expect("milestone_statement checked the milestone")
        .date;
    finalize_computed(store, actor, &cv, statement, date, read_after).await
}

/// Stores a computed statement, finalized, with the audit record its inputs were read after
/// (`read_after`) and their hash, not a copy of them.
async fn finalize_computed(
    store: &Store,
    actor: &str,
    cv: &ContractVersion,
    statement: Statement,
    milestone_date: time::Date,
    read_after: i64,
) -> Result<(Statement, StoredStatement)> {
    let stored = store
        .finalize(
            actor,
            &statement,
            milestone_date,
            &cv.contract.district,
            &cv.contract.provider,
            read_after,
        )
        .await?;
    Ok((statement, stored))
}

/// What `ledger verify` found for one finalized statement.
#[derive(Debug, Clone)]
pub struct Verification {
    pub contract_id: String,
    pub milestone: String,
    pub sha256: String,
    /// Empty when the statement recomputes to the same bytes, its lines and postings agree and
    /// its rows are those the ledger's hash chain recorded.
    pub problems: Vec<String>,
}

/// What `ledger verify` found: each finalized statement, and the problems with other records
/// (contract versions, deleted statements, the chain itself, the audit log).
#[derive(Debug, Clone)]
pub struct LedgerVerification {
    pub statements: Vec<Verification>,
    pub other_problems: Vec<obc_store::ChainProblem>,
    /// How many links the hash chain has, and the newest one's hash.
    pub links: usize,
    pub head: Option<String>,
}

impl LedgerVerification {
    /// Whether everything verified.
    pub fn ok(&self) -> bool {
        self.other_problems.is_empty() && self.statements.iter().all(|v| v.problems.is_empty())
    }
}

/// Recomputes every finalized statement from its stored inputs and contract version, checks
/// the stored hash, lines and ledger postings against it, and checks the ledger's hash chain
/// (every contract version and finalization, none deleted, inserted or edited) and the audit
/// log's finalize records.
pub async fn verify_ledger(store: &Store) -> Result<LedgerVerification> {
    let mut statements = Vec::new();
    let mut finalized = store.finalized_statements().await?;
    while let Some(stored) = finalized.next().await? {
        let mut problems = Vec::new();
        let sha = obc_core::engine::sha256_hex(stored.content_json.as_bytes());
        if sha != stored.content_sha256 {
            problems.push(format!(
                "stored JSON hashes to {sha}, not the recorded {}",
                stored.content_sha256
            ));
        }
        match recompute(store, &stored).await {
            Err(e) => problems.push(format!("cannot be recomputed: {e}")),
            Ok(Recomputed::Missing) => problems.push("its inputs are missing".into()),
            Ok(Recomputed::Unreadable(e)) => {
                problems.push(format!("its inputs cannot be read: {e}"))
            }
            Ok(Recomputed::InputsChanged { as_of, sha256 }) => problems.push(format!(
                "its input rows as of audit record {as_of} hash to {sha256}, not the recorded inputs hash: an input row (a session, test, roster row, enrollment or their history) was changed behind obc's back"
            )),
            Ok(Recomputed::Statement(again)) if again.to_json() != stored.content_json => {
                problems.push(format!(
                    "recomputing from the stored inputs gives a different statement (total {}, sha256 {})",
                    obc_core::money::format_cents(again.totals.statement_total),
                    again.content_sha256()
                ))
            }
            Ok(Recomputed::Statement(_)) => {}
        }
        match Statement::from_json(&stored.content_json) {
            Err(e) => problems.push(format!("the stored JSON cannot be read: {e}")),
            Ok(statement) => {
                check_lines_and_postings(store, &stored, &statement, &mut problems).await?
            }
        }
        statements.push(Verification {
            contract_id: stored.contract_id,
            milestone: stored.milestone,
            sha256: stored.content_sha256,
            problems,
        });
    }
    let chain = store.check_chain().await?;
    let mut other_problems = Vec::new();
    for p in chain.problems {
        let own = p.statement.as_ref().and_then(|(contract, milestone)| {
            statements
                .iter_mut()
                .find(|v| v.contract_id == *contract && v.milestone == *milestone)
        });
        match own {
            Some(v) => v.problems.push(p.problem),
            None => other_problems.push(p),
        }
    }
    Ok(LedgerVerification {
        statements,
        other_problems,
        links: chain.links,
        head: chain.head,
    })
}

/// What recomputing a finalized statement from what it recorded of its inputs gave.
enum Recomputed {
    Statement(Box<Statement>),
    /// Neither a copy of the inputs nor the audit record they were read after.
    Missing,
    /// The stored copy of the inputs is not valid JSON of them.
    Unreadable(serde_json::Error),
    /// The input rows as of the recorded audit record no longer hash to the recorded hash.
    InputsChanged {
        as_of: i64,
        sha256: String,
    },
}

/// A finalized statement computed again with its contract version from its stored inputs:
/// the JSON copy of statements finalized before migration 10, else the input rows rebuilt as
/// they were after its `inputs_as_of` audit record, whose hash must be the recorded one.
async fn recompute(store: &Store, stored: &StoredStatement) -> Result<Recomputed> {
    let cv = store
        .contract_version(&stored.contract_id, stored.contract_version)
        .await?;
    match store.stored_inputs(stored.id).await? {
        None => Ok(Recomputed::Missing),
        Some(StoredInputs::Snapshot(json)) => match serde_json::from_str::<InputSnapshot>(&json) {
            Err(e) => Ok(Recomputed::Unreadable(e)),
            Ok(inputs) => Ok(Recomputed::Statement(Box::new(inputs.compute(&cv)?))),
        },
        Some(StoredInputs::AsOf { audit_id, sha256 }) => {
            // The statement date stands for the as-of date it was computed at: the engine
            // uses nothing else of it. A closing is dated by it too.
            let statement_date = obc_core::model::parse_iso_date(&stored.statement_date);
            let milestone_date = match cv.contract.milestone(&stored.milestone) {
                Some(m) => Some(m.date),
                None if obc_core::corrections::is_closing_name(&stored.milestone) => statement_date,
                None => None,
            }
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "contract {} version {} has no milestone {}",
                    stored.contract_id, stored.contract_version, stored.milestone
                ))
            })?;
            let wanted = if obc_core::corrections::is_closing_name(&stored.milestone) {
                statement_pass::Wanted::Closing(milestone_date)
            } else {
                statement_pass::Wanted::Milestone {
                    milestone: &stored.milestone,
                    as_of: statement_date,
                }
            };
            let again =
                stream_statement(store, &cv, wanted, milestone_date, Some(audit_id)).await?;
            if again.inputs_hash != sha256 {
                return Ok(Recomputed::InputsChanged {
                    as_of: audit_id,
                    sha256: again.inputs_hash,
                });
            }
            Ok(Recomputed::Statement(Box::new(again)))
        }
    }
}

async fn check_lines_and_postings(
    store: &Store,
    stored: &StoredStatement,
    statement: &Statement,
    problems: &mut Vec<String>,
) -> Result<()> {
    use obc_core::money::to_cents;
    let lines = store.stored_lines(stored.id).await?;
    let expected: Vec<obc_store::StoredLine> = statement
        .lines
        .iter()
        .map(|l| obc_store::StoredLine {
            student_id: l.student_id.clone(),
            rule: l.rule.clone(),
            base_cents: to_cents(l.base_amount),
            contingent_cents: to_cents(l.contingent_amount),
        })
        .collect();
    if lines.len() != expected.len() {
        problems.push(format!(
            "{} stored lines, the statement has {}",
            lines.len(),
            expected.len()
        ));
    }
    for (got, want) in lines.iter().zip(&expected) {
        if got != want {
            problems.push(format!(
                "stored line of student {} is {} {}+{} cents, the statement says {} {} {}+{}",
                got.student_id,
                got.rule,
                got.base_cents,
                got.contingent_cents,
                want.student_id,
                want.rule,
                want.base_cents,
                want.contingent_cents
            ));
        }
    }
    if stored.total_cents != to_cents(statement.totals.statement_total) {
        problems.push(format!(
            "recorded total {} cents differs from the statement's",
            stored.total_cents
        ));
    }
    let entries = store.ledger_entries(stored.id).await?;
    let mut by_posting: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    let mut receivable = 0i64;
    for e in &entries {
        *by_posting.entry(e.posting.as_str()).or_default() += e.amount_cents;
        if e.account.starts_with("provider_receivable:") {
            receivable += e.amount_cents;
        }
    }
    for (posting, sum) in by_posting.iter().filter(|(_, sum)| **sum != 0) {
        problems.push(format!(
            "ledger posting {posting} does not balance (sums to {sum} cents)"
        ));
    }
    if receivable != stored.total_cents {
        problems.push(format!(
            "the ledger posts {receivable} cents to the provider, the statement total is {} cents",
            stored.total_cents
        ));
    }
    Ok(())
}

#[cfg(test)]
mod import_progress_tests;
#[cfg(test)]
mod rejected_imports_tests;
