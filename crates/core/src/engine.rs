//! The payout engine: SPEC section 5, rule by rule. Pure and deterministic: the same request
//! gives the same statement, whatever order its rows came in.

use crate::contract::{Contract, Measure, Milestone, Responsible};
use crate::model::{AssessmentResult, Enrollment, Session, SessionStatus, Student, Term};
use crate::money::round_cents;
use crate::ratio::Ratio;
use crate::statement::{Adjustment, Line, RuleTotal, Statement, Totals};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use time::Date;

/// Written on every statement so a re-run can tell which rules produced it.
pub const ENGINE_VERSION: &str = concat!("obc-engine/", env!("CARGO_PKG_VERSION"));

/// One enrolled student with everything the engine needs about them.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StudentInput {
    pub student: Student,
    pub enrollment: Enrollment,
    /// The contract provider's sessions of this student that fit the contract (see
    /// [`crate::session_fit`]), any date (the engine filters).
    pub sessions: Vec<Session>,
    /// Blank-subject sessions of this student that count for none of the provider's contracts
    /// because two or more of them enroll the student on the session's date: named in the
    /// line's notes. Absent from the serialized form when empty (the inputs hash is unchanged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ambiguous_sessions: Vec<Session>,
    /// The student's test events, any subject and date (the engine filters).
    pub tests: Vec<AssessmentResult>,
}

/// What finalized statements of earlier milestones paid.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct PriorPayments {
    /// Sum of the totals of the finalized statements of earlier milestones.
    pub paid_before: Decimal,
    /// Base amounts already paid, per student: what the finalized statements of earlier
    /// milestones would pay computed with today's data, so late data is never paid twice
    /// (once as a correction, once as a catch-up).
    pub base_paid: BTreeMap<String, Decimal>,
    /// Lines of finalized statements that today's data would compute differently. Each is
    /// paid (or credited) once, on this statement, as an adjustment.
    #[serde(default)]
    pub corrections: Vec<Correction>,
    /// A closing statement's NTE line (see [`crate::corrections::Corrections`]); always zero for
    /// a milestone statement, whose own cap applies to everything it pays. Absent from the
    /// serialized form when zero (the inputs hash of a milestone statement is unchanged).
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub nte_difference: Decimal,
}

/// A line of a finalized statement as it was paid and as today's data computes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Correction {
    pub milestone: String,
    pub student_id: String,
    pub original_rule: String,
    pub original_amount: Decimal,
    pub corrected_rule: String,
    pub corrected_amount: Decimal,
}

/// Everything a statement depends on.
#[derive(Debug, Clone)]
pub struct StatementRequest<'a> {
    pub contract: &'a Contract,
    pub contract_version: u32,
    /// SHA-256 of the contract document, so the statement names the exact text.
    pub contract_hash: String,
    pub milestone: &'a str,
    /// The statement date; the milestone's date when `None`.
    pub as_of: Option<Date>,
    /// Owned, or borrowed when several statements are computed from one set of inputs (the
    /// corrections' recomputations, progress): borrowed inputs already in canonical order
    /// (see [`canonicalize`]) are never copied.
    pub students: Cow<'a, [StudentInput]>,
    pub prior: PriorPayments,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("contract {contract} has no milestone \"{milestone}\" (it has: {known})")]
    UnknownMilestone {
        contract: String,
        milestone: String,
        known: String,
    },
    /// A score or projection too large or too precise to compute with exactly (see
    /// [`crate::money::MAX_MAGNITUDE`]): refused, never a panic or a silently rounded figure.
    #[error("student {student}: {what} {value} {why}: correct the data and import it again")]
    ValueOutOfRange {
        student: String,
        what: String,
        value: Decimal,
        why: String,
    },
    /// A line amount of a billion dollars or more: the contract's tiers or bands multiply the
    /// contingent part beyond anything obc pays or stores.
    #[error(
        "student {student}: the line would pay {amount}, {max} or more; check the contract's \
         `pays` and `adjust` values",
        max = crate::money::MAX_MAGNITUDE
    )]
    AmountTooLarge { student: String, amount: Decimal },
}

/// Computes the statement of a contract at a milestone.
pub fn compute(req: StatementRequest<'_>) -> Result<Statement, EngineError> {
    compute_inner(req, true)
}

/// The same statement without its inputs hash (left empty): for recomputations that are only
/// compared with a finalized statement's lines, never stored, so the hot path of every
/// statement with earlier finalized milestones does not serialize its inputs again.
pub fn compute_unhashed(req: StatementRequest<'_>) -> Result<Statement, EngineError> {
    compute_inner(req, false)
}

fn compute_inner(mut req: StatementRequest<'_>, hashed: bool) -> Result<Statement, EngineError> {
    let maker = LineMaker::new(req.contract, req.milestone, req.as_of)?;
    if !is_canonical(&req.students) {
        canonicalize(req.students.to_mut());
    }
    let inputs_hash = if hashed {
        hash_inputs(
            &maker.header(req.contract_version, &req.contract_hash),
            &req.prior,
            &req.students,
        )
    } else {
        String::new()
    };
    let mut lines = Vec::with_capacity(req.students.len());
    for s in req.students.iter() {
        let paid = req
            .prior
            .base_paid
            .get(&s.student.id)
            .copied()
            .unwrap_or_default();
        lines.extend(maker.line(s, paid)?);
    }
    maker.statement(
        req.contract_version,
        &req.contract_hash,
        inputs_hash,
        lines,
        &req.prior,
    )
}

/// The two steps of a milestone statement, for callers that stream the students: the line of
/// one student, computed from that student's inputs alone, then the contract-wide steps over
/// the lines (school adjustments, the line bound, adjustments, totals and the NTE cap).
/// [`compute`] is exactly these two steps.
#[derive(Debug, Clone)]
pub struct LineMaker<'a> {
    contract: &'a Contract,
    milestone: Milestone,
    statement_date: Date,
    cumulative_share: Decimal,
}

impl<'a> LineMaker<'a> {
    /// For the statement of `contract` at `milestone`, dated `as_of` (the milestone's date
    /// when `None`).
    pub fn new(
        contract: &'a Contract,
        milestone: &str,
        as_of: Option<Date>,
    ) -> Result<LineMaker<'a>, EngineError> {
        let milestone = contract
            .milestone(milestone)
            .ok_or_else(|| EngineError::UnknownMilestone {
                contract: contract.id.clone(),
                milestone: milestone.to_string(),
                known: contract
                    .milestones
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?
            .clone();
        Ok(LineMaker {
            contract,
            statement_date: as_of.unwrap_or(milestone.date),
            cumulative_share: cumulative_base_share(contract, &milestone),
            milestone,
        })
    }

    /// What the inputs hash of this statement covers besides its prior payments and students.
    pub fn header<'h>(&self, contract_version: u32, contract_hash: &'h str) -> InputsHeader<'h>
    where
        'a: 'h,
    {
        InputsHeader {
            contract: self.contract,
            contract_version,
            contract_hash,
            milestone: Cow::Owned(self.milestone.name.clone()),
            statement_date: self.statement_date,
        }
    }

    /// The line of one student, given the base earlier milestones paid them; `None` when the
    /// student was not enrolled during the contract period.
    pub fn line(
        &self,
        input: &StudentInput,
        base_paid: Decimal,
    ) -> Result<Option<Line>, EngineError> {
        if !enrolled_during_period(self.contract, &input.enrollment) {
            return Ok(None);
        }
        self.line_of(input, base_paid).map(Some)
    }

    /// The statement of `lines` (the students' lines in canonical order): `prior`'s
    /// corrections become its adjustments and `prior.paid_before` its NTE headroom.
    pub fn statement(
        &self,
        contract_version: u32,
        contract_hash: &str,
        inputs_hash: String,
        mut lines: Vec<Line>,
        prior: &PriorPayments,
    ) -> Result<Statement, EngineError> {
        let (adjustments, totals) = self.settle(&mut lines, prior)?;
        let contract = self.contract;
        let milestone = &self.milestone;
        Ok(Statement {
            contract_id: contract.id.clone(),
            contract_version,
            contract_hash: contract_hash.to_string(),
            milestone: milestone.name.clone(),
            milestone_date: milestone.date.to_string(),
            statement_date: self.statement_date.to_string(),
            contingent: milestone.contingent,
            closing: false,
            engine_version: ENGINE_VERSION.to_string(),
            inputs_hash,
            lines,
            adjustments,
            totals,
        })
    }

    /// The contract-wide steps over `lines` (school adjustments, each line's total and its
    /// bound), then the statement's adjustments and totals: on printed [`Line`]s, or on the
    /// compact lines of a finalized statement computed again (crate::statement_pass).
    pub(crate) fn settle<L: SettledLine>(
        &self,
        lines: &mut [L],
        prior: &PriorPayments,
    ) -> Result<(Vec<Adjustment>, Totals), EngineError> {
        let contract = self.contract;
        if self.milestone.contingent {
            apply_school_adjustments(contract, lines);
        }
        for line in lines.iter_mut() {
            let total = line.base_amount() + line.contingent_amount();
            // Below a billion per line, every sum of lines stays exact and fits in stored cents.
            if total.abs() >= crate::money::MAX_MAGNITUDE {
                return Err(EngineError::AmountTooLarge {
                    student: line.student_id().to_string(),
                    amount: total,
                });
            }
            line.set_total(total);
        }
        let adjustments = adjustments(&prior.corrections);
        let totals = totals(contract, lines, &adjustments, prior);
        Ok((adjustments, totals))
    }
}

/// What the contract-wide steps read and change of a line: a printed [`Line`], or the compact
/// line of a finalized statement computed again for its corrections, which keeps no text.
pub(crate) trait SettledLine {
    fn student_id(&self) -> &str;
    fn school_id(&self) -> &str;
    fn rule(&self) -> &str;
    fn growth_vs_projected(&self) -> Option<Ratio>;
    fn tier_pays(&self) -> Decimal;
    /// Planned, attended, student absent, district cancelled, provider cancelled.
    fn counts(&self) -> [u32; 5];
    fn base_amount(&self) -> Decimal;
    fn contingent_amount(&self) -> Decimal;
    fn set_total(&mut self, total: Decimal);
    /// The school's median growth vs projected `median` (the contract's school adjustment
    /// `index`, `adjust`) moved the line's contingent amount to `contingent`.
    fn school_adjusted(
        &mut self,
        contingent: Decimal,
        index: usize,
        adjust: Decimal,
        median: Ratio,
    );
}

impl SettledLine for Line {
    fn student_id(&self) -> &str {
        &self.student_id
    }
    fn school_id(&self) -> &str {
        &self.school_id
    }
    fn rule(&self) -> &str {
        &self.rule
    }
    fn growth_vs_projected(&self) -> Option<Ratio> {
        self.growth_vs_projected
    }
    fn tier_pays(&self) -> Decimal {
        self.tier_pays
    }
    fn counts(&self) -> [u32; 5] {
        Line::counts(self)
    }
    fn base_amount(&self) -> Decimal {
        self.base_amount
    }
    fn contingent_amount(&self) -> Decimal {
        self.contingent_amount
    }
    fn set_total(&mut self, total: Decimal) {
        self.total = total;
    }
    fn school_adjusted(
        &mut self,
        contingent: Decimal,
        index: usize,
        adjust: Decimal,
        median: Ratio,
    ) {
        self.contingent_amount = contingent;
        self.rule.push_str(crate::rule_words::SCHOOL_ADJUST_SUFFIX);
        self.contingent_clause
            .push_str(&format!(" + school_adjustment[{index}]"));
        self.reason = format!(
            "{}; school median growth vs projected {} adjusts it by {}",
            self.reason,
            median.display4(),
            adjust
        );
    }
}

/// Everything a closing statement depends on (SPEC 5.11).
#[derive(Debug, Clone)]
pub struct ClosingRequest<'a> {
    /// The contract version in effect on the closing's date (its NTE caps the contract).
    pub contract: &'a Contract,
    pub contract_version: u32,
    pub contract_hash: String,
    /// The closing's date, after the last milestone's.
    pub date: Date,
    /// Today's data, which the corrections in `prior` were computed from: recorded in the
    /// inputs hash.
    pub students: Vec<StudentInput>,
    /// What every finalized statement paid (`paid_before`), the corrections of their lines and
    /// the difference of their NTE lines ([`crate::corrections::corrections`]).
    pub prior: PriorPayments,
}

/// A closing statement: no student line, one adjustment line per corrected line of a finalized
/// statement, and the difference of the NTE lines, so that everything paid on the contract,
/// this statement included, is what its final data pays, never above the NTE.
pub fn compute_closing(mut req: ClosingRequest<'_>) -> Statement {
    canonicalize(&mut req.students);
    let header = closing_header(
        req.contract,
        req.contract_version,
        &req.contract_hash,
        req.date,
    );
    let inputs_hash = hash_inputs(&header, &req.prior, &req.students);
    closing_statement(&header, &req.prior, inputs_hash)
}

/// What the inputs hash of a closing statement dated `date` covers besides its prior payments
/// and students; its milestone is the closing's name.
pub fn closing_header<'h>(
    contract: &'h Contract,
    contract_version: u32,
    contract_hash: &'h str,
    date: Date,
) -> InputsHeader<'h> {
    InputsHeader {
        contract,
        contract_version,
        contract_hash,
        milestone: Cow::Owned(crate::corrections::closing_name(date)),
        statement_date: date,
    }
}

/// The closing statement of `header` ([`closing_header`]) from its prior payments and the
/// hash of its inputs.
pub fn closing_statement(
    header: &InputsHeader<'_>,
    prior: &PriorPayments,
    inputs_hash: String,
) -> Statement {
    let date = header.statement_date;
    let adjustments = adjustments(&prior.corrections);
    let mut totals = totals::<Line>(header.contract, &[], &adjustments, prior);
    let nte_line = cents(prior.nte_difference);
    totals.nte_cap = (!nte_line.is_zero()).then_some(nte_line);
    totals.statement_total = cents(totals.adjustments + nte_line);
    Statement {
        contract_id: header.contract.id.clone(),
        contract_version: header.contract_version,
        contract_hash: header.contract_hash.to_string(),
        milestone: header.milestone.to_string(),
        milestone_date: date.to_string(),
        statement_date: date.to_string(),
        contingent: false,
        closing: true,
        engine_version: ENGINE_VERSION.to_string(),
        inputs_hash,
        lines: Vec::new(),
        adjustments,
        totals,
    }
}

/// One adjustment line per correction, by student then milestone: the finalized statement is
/// never changed, the difference is paid or credited here.
fn adjustments(corrections: &[Correction]) -> Vec<Adjustment> {
    let mut out: Vec<Adjustment> = corrections
        .iter()
        .map(|c| Adjustment {
            student_id: c.student_id.clone(),
            milestone: c.milestone.clone(),
            original_rule: c.original_rule.clone(),
            original_amount: cents(c.original_amount),
            corrected_rule: c.corrected_rule.clone(),
            corrected_amount: cents(c.corrected_amount),
            amount: cents(c.corrected_amount - c.original_amount),
            reason: format!(
                "the finalized {} statement paid {} ({}); with data received since, that line is {} ({})",
                c.milestone,
                crate::money::format_cents(c.original_amount),
                c.original_rule,
                crate::money::format_cents(c.corrected_amount),
                c.corrected_rule
            ),
        })
        .collect();
    out.sort_by(|a, b| (&a.student_id, &a.milestone).cmp(&(&b.student_id, &b.milestone)));
    out
}

/// Sorts every input so that the order rows arrived in changes nothing. Tests keep their
/// relative order on equal date and time: there the later row wins (SPEC 5.2). Rows that do
/// not compete for one term (another subject, assessment or term at the same date and time,
/// as MAP writes a blank start time for every subject of a day) are ordered by what they are,
/// so their arrival order does not reach the inputs hash either. Call it once on inputs that
/// several statements borrow.
pub fn canonicalize(students: &mut [StudentInput]) {
    students.sort_by(|a, b| a.student.id.cmp(&b.student.id));
    for s in students {
        s.sessions.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        s.ambiguous_sessions
            .sort_by(|a, b| a.session_id.cmp(&b.session_id));
        s.tests.sort_by(test_order);
    }
}

/// Whether [`canonicalize`] would leave the inputs as they are (its sorts are stable, so
/// inputs already in its order are its result).
pub fn is_canonical(students: &[StudentInput]) -> bool {
    fn sorted<T>(items: &[T], le: impl Fn(&T, &T) -> bool) -> bool {
        items.windows(2).all(|w| le(&w[0], &w[1]))
    }
    let by_session = |s: &[Session]| sorted(s, |a, b| a.session_id <= b.session_id);
    sorted(students, |a, b| a.student.id <= b.student.id)
        && students.iter().all(|s| {
            by_session(&s.sessions)
                && by_session(&s.ambiguous_sessions)
                && sorted(&s.tests, |a, b| test_order(a, b).is_le())
        })
}

/// The canonical order of a student's tests: date, start time, then what they are (subject
/// and assessment without case, term).
fn test_order(a: &AssessmentResult, b: &AssessmentResult) -> std::cmp::Ordering {
    let caseless = |x: &str, y: &str| {
        x.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(y.bytes().map(|c| c.to_ascii_lowercase()))
    };
    (a.date, a.start_seconds)
        .cmp(&(b.date, b.start_seconds))
        .then_with(|| caseless(&a.subject, &b.subject))
        .then_with(|| caseless(&a.assessment, &b.assessment))
        .then_with(|| a.term_name.cmp(&b.term_name))
}

/// What the inputs hash covers besides the prior payments and the students.
#[derive(Debug, Clone)]
pub struct InputsHeader<'a> {
    contract: &'a Contract,
    contract_version: u32,
    contract_hash: &'a str,
    milestone: Cow<'a, str>,
    statement_date: Date,
}

/// SHA-256 over the canonical inputs, streamed so it stays linear and small in memory.
fn hash_inputs(
    header: &InputsHeader<'_>,
    prior: &PriorPayments,
    students: &[StudentInput],
) -> String {
    let mut hasher = InputsHasher::new(header, prior);
    for s in students {
        hasher.add(s);
    }
    hasher.finish()
}

/// The inputs hash built one student at a time, in canonical order: the header and the prior
/// payments first, then each student's canonical JSON. Buffered: serde_json writes a token at
/// a time, and SHA-256 takes whole blocks faster than a few bytes at a time.
pub struct InputsHasher(std::io::BufWriter<HashingWriter<std::io::Sink>>);

/// Passes what is written to it on to `out` and feeds it to SHA-256: the inputs hash (into a
/// sink), a finalized statement's stored JSON ([`crate::Statement::write_json`]) and the
/// ledger chain's digest of a statement's rows (obc-store), none of them held whole.
pub struct HashingWriter<W> {
    out: W,
    sha: Sha256,
}

impl<W: std::io::Write> HashingWriter<W> {
    pub fn new(out: W) -> Self {
        HashingWriter {
            out,
            sha: Sha256::new(),
        }
    }

    /// The SHA-256 of everything written, hex.
    pub fn finish(self) -> String {
        hex(&self.sha.finalize())
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl InputsHasher {
    pub fn new(header: &InputsHeader<'_>, prior: &PriorPayments) -> InputsHasher {
        let mut w = hashing_buffer(std::io::sink());
        let header = (
            &header.contract.id,
            header.contract_version,
            header.contract_hash,
            &header.milestone,
            header.statement_date.to_string(),
            prior,
        );
        serde_json::to_writer(&mut w, &header).expect("hashing never fails");
        InputsHasher(w)
    }

    /// Adds the next student in canonical order.
    pub fn add(&mut self, student: &StudentInput) {
        serde_json::to_writer(&mut self.0, student).expect("hashing never fails");
    }

    /// Adds students' canonical JSON as [`write_input`] wrote it, in canonical order.
    pub fn add_json(&mut self, json: &[u8]) {
        use std::io::Write;
        self.0.write_all(json).expect("hashing never fails");
    }

    pub fn finish(self) -> String {
        finish_hashing(self.0).expect("hashing never fails")
    }
}

/// A [`HashingWriter`] of `out` behind a 64 kB buffer, for writers of many small pieces.
pub fn hashing_buffer<W: std::io::Write>(out: W) -> std::io::BufWriter<HashingWriter<W>> {
    std::io::BufWriter::with_capacity(1 << 16, HashingWriter::new(out))
}

/// The SHA-256 (hex) of everything written to `buffer` ([`hashing_buffer`]), flushed to its
/// writer.
pub fn finish_hashing<W: std::io::Write>(
    buffer: std::io::BufWriter<HashingWriter<W>>,
) -> std::io::Result<String> {
    Ok(buffer.into_inner().map_err(|e| e.into_error())?.finish())
}

/// Writes a student's inputs as the inputs hash reads them, for a caller that must hash them
/// after its pass over the students (the prior payments, hashed first, come from that pass).
pub fn write_input(student: &StudentInput, w: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer(w, student).map_err(std::io::Error::from)
}

/// SHA-256 of bytes as lowercase hex: the hashes statements and the ledger record.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Bytes (a digest) as lowercase hex, as every hash obc records is written.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The share of the base part due by a milestone: its own and every earlier milestone's.
pub fn cumulative_base_share(contract: &Contract, milestone: &Milestone) -> Decimal {
    contract
        .milestones
        .iter()
        .filter(|m| m.date <= milestone.date)
        .map(|m| m.base_share)
        .sum()
}

/// A student has a line when enrolled at some point of the period.
fn enrolled_during_period(contract: &Contract, e: &Enrollment) -> bool {
    e.start <= contract.period.end && e.end.is_none_or(|end| end >= contract.period.start)
}

/// Session counts and rates of one student (SPEC 5.1).
#[derive(Default)]
struct Counts {
    planned: u32,
    attended: u32,
    student_absent: u32,
    district_cancelled: u32,
    provider_cancelled: u32,
    minutes: u64,
    same_tutor: u32,
    first_attended: Option<Date>,
}

/// The session counts the contingent rules read (SPEC 5.1, 5.4): all the simulator needs to
/// decide a simulated student with the engine's own rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounts {
    pub planned: u32,
    pub attended: u32,
    pub student_absent: u32,
    pub district_cancelled: u32,
    pub provider_cancelled: u32,
    /// Attended sessions with the student's most frequent tutor.
    pub same_tutor: u32,
}

impl Counts {
    fn session_counts(&self) -> SessionCounts {
        SessionCounts {
            planned: self.planned,
            attended: self.attended,
            student_absent: self.student_absent,
            district_cancelled: self.district_cancelled,
            provider_cancelled: self.provider_cancelled,
            same_tutor: self.same_tutor,
        }
    }
}

/// Which rule of SPEC 5.4 decides a student's contingent part: the first that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContingentRule {
    /// The school made the student available for too few sessions.
    DistrictUnavailable,
    /// Low attendance, and the district answers for attendance.
    DistrictAttendance,
    /// A missing score, and the district answers for missing scores.
    DistrictMissingScore,
    ProviderSameTutor,
    ProviderCancelled,
    /// Low attendance, and the provider answers for attendance.
    ProviderAttendance,
    /// A missing score, and the provider answers for missing scores.
    ProviderMissingScore,
    ExcludedAttendance,
    ExcludedMissingScore,
    /// Too few offered sessions to judge attendance.
    TooFewOffered,
    /// The rate card's tier of this index.
    Tier(usize),
}

impl ContingentRule {
    /// The share of the contingent part this rule pays.
    pub fn pays(self, contract: &Contract) -> Decimal {
        match self {
            ContingentRule::DistrictUnavailable
            | ContingentRule::DistrictAttendance
            | ContingentRule::DistrictMissingScore => Decimal::ONE,
            ContingentRule::Tier(i) => contract.rate_card[i].pays,
            _ => Decimal::ZERO,
        }
    }
}

/// SPEC 5.4: the first rule that applies to a student's counts and measure (`None`: missing).
pub fn contingent_rule(
    contract: &Contract,
    c: &SessionCounts,
    measure: Option<Ratio>,
) -> ContingentRule {
    let att = &contract.attendance;
    let duties = &contract.provider_duties;
    let r = Rates::of(c);
    let missing = measure.is_none();
    let judged = c.attended + c.student_absent >= att.min_offered;
    let low_attendance = judged && r.attendance.is_some_and(|a| a.lt(att.min_rate));
    let missing_rule = contract.outcome.missing_score;
    if r.availability.is_some_and(|a| a.lt(att.min_rate)) {
        ContingentRule::DistrictUnavailable
    } else if att.responsible == Responsible::District && low_attendance {
        ContingentRule::DistrictAttendance
    } else if missing && missing_rule == Responsible::District {
        ContingentRule::DistrictMissingScore
    } else if r
        .same_tutor
        .is_some_and(|t| t.lt(duties.min_same_tutor_rate))
    {
        ContingentRule::ProviderSameTutor
    } else if r
        .provider_cancel
        .is_some_and(|p| p.gt(duties.max_provider_cancel_rate))
    {
        ContingentRule::ProviderCancelled
    } else if att.responsible == Responsible::Provider && low_attendance {
        ContingentRule::ProviderAttendance
    } else if missing && missing_rule == Responsible::Provider {
        ContingentRule::ProviderMissingScore
    } else if att.responsible == Responsible::Exclude && low_attendance {
        ContingentRule::ExcludedAttendance
    } else if missing && missing_rule == Responsible::Exclude {
        ContingentRule::ExcludedMissingScore
    } else if !judged {
        ContingentRule::TooFewOffered
    } else {
        let measure = measure.expect("a missing measure was decided above");
        ContingentRule::Tier(tier_index(contract, measure))
    }
}

/// The index of the rate card's tier a measure reaches: the first from the top whose `min` it
/// meets (SPEC 5.4).
pub fn tier_index(contract: &Contract, measure: Ratio) -> usize {
    contract
        .rate_card
        .iter()
        .position(|t| t.min.is_none_or(|min| measure.cmp_decimal(min).is_ge()))
        .expect("validated: the last tier's min is -inf")
}

/// The contract's measure and growth vs projected of one student with both scores (SPEC 5.2).
/// `cgp` is the outcome test's conditional growth percentile, if any.
pub fn measure_of(
    measure: Measure,
    outcome: Decimal,
    observed: Decimal,
    projected: Option<Decimal>,
    cgp: Option<Decimal>,
) -> (Option<Ratio>, Option<Ratio>) {
    let positive_projection = projected.filter(|p| *p > Decimal::ZERO);
    let growth_vs_projected = positive_projection.and_then(|p| Ratio::new(observed, p));
    let value = match measure {
        Measure::GrowthVsProjected => growth_vs_projected,
        Measure::MetProjected => projected.map(|p| {
            Ratio::whole(if observed >= p {
                Decimal::ONE
            } else {
                Decimal::ZERO
            })
        }),
        Measure::RitGain => Some(Ratio::whole(observed)),
        Measure::ConditionalGrowthPercentile => cgp.map(Ratio::whole),
        Measure::Score => Some(Ratio::whole(outcome)),
    };
    (value, growth_vs_projected)
}

/// A contingent amount in cents: the contingent part times the tier's share, moved by a
/// school adjustment if any (SPEC 5.4, 5.5, 5.6).
pub fn contingent_amount(contract: &Contract, pays: Decimal, adjust: Option<Decimal>) -> Decimal {
    let c = contract.contingent_part();
    cents(round_cents(match adjust {
        Some(adjust) => c * pays * (Decimal::ONE + adjust),
        None => c * pays,
    }))
}

/// A school's adjustment from the growth vs projected of its `tier:*` lines (SPEC 5.5): the
/// index of its `[[school_adjustment]]`, the band's adjustment and the median; `None` when no
/// entry applies to the school. Reorders `values`; `None` too when it is empty.
pub fn school_adjustment(
    contract: &Contract,
    school: &str,
    values: &mut [Ratio],
) -> Option<(usize, Decimal, Ratio)> {
    let (index, entry) = contract.school_adjustment(school)?;
    if values.is_empty() {
        return None;
    }
    // Selection, not a sort: linear, so a simulator can take 10,000 medians per school.
    let n = values.len();
    let (below, upper, _) = values.select_nth_unstable(n / 2);
    let upper = *upper;
    let median = if n % 2 == 1 {
        upper
    } else {
        Ratio::mean(*below.iter().max().expect("n is even and > 0"), upper)
    };
    let band = entry
        .bands
        .iter()
        .find(|b| b.min.is_none_or(|min| median.cmp_decimal(min).is_ge()))
        .expect("validated: the last band's min is -inf");
    Some((index, band.adjust, median))
}

/// What may still be paid under the NTE after `paid_before`, in whole cents, never rounded up
/// past the NTE (SPEC 5.7): an NTE written with sub-cent digits must not be exceeded.
pub fn nte_remaining(contract: &Contract, paid_before: Decimal) -> Decimal {
    (contract.not_to_exceed - paid_before)
        .max(Decimal::ZERO)
        .round_dp_with_strategy(2, RoundingStrategy::ToZero)
}

/// The scores of one student (SPEC 5.2).
#[derive(Default)]
struct Scores {
    baseline: Option<Decimal>,
    outcome: Option<Decimal>,
    observed: Option<Decimal>,
    projected: Option<Decimal>,
    measure: Option<Ratio>,
    growth_vs_projected: Option<Ratio>,
    notes: Vec<String>,
}

/// What the contingent rules decided for one line.
struct Decision {
    rule: String,
    pays: Decimal,
    clause: String,
    reason: String,
}

impl LineMaker<'_> {
    fn line_of(&self, input: &StudentInput, paid: Decimal) -> Result<Line, EngineError> {
        let c = self.counts(input);
        let mut scores = self.scores(input)?;
        scores.notes.extend(self.ambiguous_note(input));
        let rates = Rates::of(&c.session_counts());
        let b = self.contract.base_part();
        let enrolled_by_milestone = input.enrollment.start <= self.milestone.date;
        let attended_by_milestone = c.first_attended.is_some_and(|d| d <= self.milestone.date);
        let eligible = enrolled_by_milestone && attended_by_milestone;
        let due = if eligible {
            b * self.cumulative_share
        } else {
            Decimal::ZERO
        };
        let base_amount = cents(round_cents((due - paid).max(Decimal::ZERO)));
        let base_clause = format!("milestone.{}", self.milestone.name);
        let base_reason = if eligible {
            format!(
                "base {} of {} due by {} ({}% of the base part), {} paid before",
                crate::money::format_cents(base_amount),
                crate::money::format_cents(due),
                self.milestone.name,
                (self.cumulative_share * Decimal::ONE_HUNDRED).normalize(),
                crate::money::format_cents(paid)
            )
        } else if !enrolled_by_milestone {
            format!(
                "starts {}, after the {} milestone ({}): no base yet",
                input.enrollment.start, self.milestone.name, self.milestone.date
            )
        } else {
            format!(
                "no attended session on or before {}: no base yet",
                self.milestone.date
            )
        };
        let decision = if self.milestone.contingent {
            self.contingent(&c, &rates, &scores)
        } else {
            let rule = if eligible {
                "base"
            } else if !enrolled_by_milestone {
                "not_enrolled"
            } else {
                "no_attended_session"
            };
            Decision {
                rule: rule.to_string(),
                pays: Decimal::ZERO,
                clause: String::new(),
                reason: String::new(),
            }
        };
        let contingent_amount = contingent_amount(self.contract, decision.pays, None);
        let reason = if self.milestone.contingent {
            format!("{}; {}", decision.reason, base_reason)
        } else {
            base_reason
        };
        Ok(Line {
            student_id: input.student.id.clone(),
            school_id: input.student.school_id.clone(),
            grade: input.student.grade.as_ref().map(|g| g.to_string()),
            enrollment_start: input.enrollment.start.to_string(),
            enrollment_end: input.enrollment.end.map(|d| d.to_string()),
            planned: c.planned,
            attended: c.attended,
            student_absent: c.student_absent,
            district_cancelled: c.district_cancelled,
            provider_cancelled: c.provider_cancelled,
            minutes: c.minutes,
            attendance_rate: rates.attendance,
            same_tutor_rate: rates.same_tutor,
            provider_cancel_rate: rates.provider_cancel,
            availability_rate: rates.availability,
            baseline: scores.baseline,
            outcome: scores.outcome,
            observed_growth: scores.observed,
            projected_growth: scores.projected,
            measure: scores.measure,
            growth_vs_projected: scores.growth_vs_projected,
            rule: decision.rule,
            tier_pays: decision.pays,
            base_amount,
            contingent_amount,
            total: Decimal::ZERO,
            base_clause,
            contingent_clause: decision.clause,
            reason,
            notes: scores.notes,
        })
    }

    /// Whether a session of this date counts: in the period, on or before the statement date,
    /// within the enrollment.
    fn counts_on(&self, e: &Enrollment, date: Date) -> bool {
        let period = self.contract.period;
        date >= period.start
            && date <= period.end
            && date <= self.statement_date
            && date >= e.start
            && e.end.is_none_or(|end| date <= end)
    }

    /// The note naming the ambiguous sessions this line would otherwise have counted.
    fn ambiguous_note(&self, input: &StudentInput) -> Option<String> {
        let ids: Vec<&str> = input
            .ambiguous_sessions
            .iter()
            .filter(|s| self.counts_on(&input.enrollment, s.date))
            .map(|s| s.session_id.as_str())
            .collect();
        let shown = ids.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        let more = if ids.len() > 5 { ", ..." } else { "" };
        (!ids.is_empty()).then(|| {
            format!(
                "{} sessions with no subject not counted ({shown}{more}): the student is enrolled in two or more of the provider's contracts on their dates",
                ids.len()
            )
        })
    }

    /// Counts the sessions that count: the provider's, in the period, on or before the
    /// statement date, within the enrollment.
    fn counts(&self, input: &StudentInput) -> Counts {
        let e = &input.enrollment;
        let mut c = Counts::default();
        let mut tutors: HashMap<&str, u32> = HashMap::new();
        for s in &input.sessions {
            if !self.counts_on(e, s.date) {
                continue;
            }
            c.planned += 1;
            c.minutes += u64::from(s.minutes);
            match s.status {
                SessionStatus::Attended => {
                    c.attended += 1;
                    *tutors.entry(s.tutor_id.as_str()).or_default() += 1;
                    c.first_attended = Some(c.first_attended.map_or(s.date, |d| d.min(s.date)));
                }
                SessionStatus::StudentAbsent => c.student_absent += 1,
                SessionStatus::DistrictCancelled => c.district_cancelled += 1,
                SessionStatus::ProviderCancelled => c.provider_cancelled += 1,
            }
        }
        c.same_tutor = tutors.values().copied().max().unwrap_or(0);
        c
    }

    /// Picks the baseline and outcome tests and computes growth and the measure. Every value
    /// the arithmetic uses is first checked against obc's bounds, so growth, ratios and their
    /// comparisons stay exact and cannot overflow.
    fn scores(&self, input: &StudentInput) -> Result<Scores, EngineError> {
        let outcome_cfg = &self.contract.outcome;
        let window = outcome_cfg.window();
        let mut s = Scores::default();
        let baseline = self.counted_test(input, outcome_cfg.from_term, &mut s.notes);
        let outcome = self.counted_test(input, outcome_cfg.to_term, &mut s.notes);
        if let Some(expected) = &outcome_cfg.norms {
            let counted = [
                (outcome_cfg.from_term, baseline),
                (outcome_cfg.to_term, outcome),
            ];
            for (term, t) in counted {
                let Some((t, norms)) = t.and_then(|t| t.norms.as_ref().map(|n| (t, n))) else {
                    continue;
                };
                if norms != expected {
                    s.notes.push(format!(
                        "data warning: the {} test of {} uses NWEA norms {norms}, the contract expects {expected}",
                        term.as_str(),
                        t.date
                    ));
                }
            }
        }
        s.baseline = baseline.and_then(|t| t.score).map(|d| d.normalize());
        s.outcome = outcome.and_then(|t| t.score).map(|d| d.normalize());
        s.projected = baseline
            .and_then(|t| t.window(window).projected)
            .or_else(|| outcome.and_then(|t| t.window(window).projected))
            .or_else(|| {
                input
                    .student
                    .grade
                    .as_ref()
                    .and_then(|g| outcome_cfg.projected.get(g).copied())
            })
            .map(|d| d.normalize());
        let window_name = window.column_prefix();
        let cgp = outcome.and_then(|t| t.window(window).conditional_growth_percentile);
        // The description is written only for a value out of bounds: not once per student.
        let checks: [(Option<Decimal>, &dyn Fn() -> String); 4] = [
            (s.baseline, &|| {
                format!("the {} score", outcome_cfg.from_term.as_str())
            }),
            (s.outcome, &|| {
                format!("the {} score", outcome_cfg.to_term.as_str())
            }),
            (s.projected, &|| {
                format!("the {window_name} projected growth")
            }),
            (
                cgp.filter(|_| outcome_cfg.measure == Measure::ConditionalGrowthPercentile),
                &|| format!("the {window_name} conditional growth percentile"),
            ),
        ];
        for (value, what) in checks {
            if let Some((value, why)) =
                value.and_then(|v| crate::money::bounds_problem(v).map(|why| (v, why)))
            {
                return Err(EngineError::ValueOutOfRange {
                    student: input.student.id.clone(),
                    what: what(),
                    value,
                    why,
                });
            }
        }
        if let (Some(b), Some(o)) = (s.baseline, s.outcome) {
            let observed = (o - b).normalize();
            s.observed = Some(observed);
            for file_value in [baseline, outcome]
                .into_iter()
                .flatten()
                .filter_map(|t| t.window(window).observed)
            {
                if file_value != observed {
                    s.notes.push(format!(
                        "data warning: the file's {}ObservedGrowth is {}, obc computes {}",
                        window.column_prefix(),
                        file_value.normalize(),
                        observed
                    ));
                }
            }
            (s.measure, s.growth_vs_projected) =
                measure_of(outcome_cfg.measure, o, observed, s.projected, cgp);
        }
        Ok(s)
    }

    /// The most recent valid test of a term; invalid ones are named in `notes`.
    fn counted_test<'i>(
        &self,
        input: &'i StudentInput,
        term: Term,
        notes: &mut Vec<String>,
    ) -> Option<&'i AssessmentResult> {
        let term_name = self.contract.term_name(term);
        let outcome = &self.contract.outcome;
        let mut counted = None;
        // Tests are sorted by date and time, stable: the last valid one is the most recent.
        for t in input.tests.iter().filter(|t| {
            t.term_name == term_name
                && t.subject.eq_ignore_ascii_case(&self.contract.subject)
                && t.assessment.eq_ignore_ascii_case(&outcome.assessment)
                && t.date <= self.statement_date
        }) {
            let rapid = outcome.max_rapid_guessing.and_then(|max| {
                t.rapid_guessing_pct
                    .filter(|pct| *pct >= max * Decimal::ONE_HUNDRED)
                    .map(|pct| (pct, max))
            });
            if let Some((pct, max)) = rapid {
                notes.push(format!(
                    "{} test of {} invalid: rapid guessing {}% >= {}%",
                    term.as_str(),
                    t.date,
                    pct.normalize(),
                    (max * Decimal::ONE_HUNDRED).normalize()
                ));
            } else if !t.growth_measure {
                notes.push(format!(
                    "{} test of {} invalid: not valid for growth (GrowthMeasureYN)",
                    term.as_str(),
                    t.date
                ));
            } else if t.score.is_some() {
                counted = Some(t);
            }
        }
        counted
    }

    /// SPEC 5.4: the first rule that applies decides the contingent part; this says why.
    fn contingent(&self, c: &Counts, r: &Rates, s: &Scores) -> Decision {
        let k = self.contract;
        let att = &k.attendance;
        let duties = &k.provider_duties;
        let rule = contingent_rule(k, &c.session_counts(), s.measure);
        let attendance_text = || {
            format!(
                "attended {} of {} offered sessions ({} < {})",
                c.attended,
                c.attended + c.student_absent,
                show(r.attendance),
                att.min_rate
            )
        };
        let missing_text = || {
            let what = match (s.baseline, s.outcome) {
                (None, _) => format!("no valid {} score", k.outcome.from_term.as_str()),
                (_, None) => format!("no valid {} score", k.outcome.to_term.as_str()),
                _ => format!(
                    "the measure {} cannot be computed",
                    k.outcome.measure.as_str()
                ),
            };
            format!(
                "{what} (missing scores: {})",
                responsible_name(k.outcome.missing_score)
            )
        };
        let decide = |name: &str, clause: &str, why: String| Decision {
            rule: name.to_string(),
            pays: rule.pays(k),
            clause: clause.to_string(),
            reason: why,
        };
        match rule {
            ContingentRule::DistrictUnavailable => decide(
                "district_fault",
                "attendance.min_rate",
                format!(
                    "the school made the student available for {} of {} planned sessions ({} < {}): contingent part paid in full",
                    c.planned - c.district_cancelled,
                    c.planned,
                    show(r.availability),
                    att.min_rate
                ),
            ),
            ContingentRule::DistrictAttendance => decide(
                "district_fault",
                "attendance.responsible",
                format!(
                    "{}, the district answers for attendance: contingent part paid in full",
                    attendance_text()
                ),
            ),
            ContingentRule::DistrictMissingScore => decide(
                "district_fault",
                "outcome.missing_score",
                format!("{}: contingent part paid in full", missing_text()),
            ),
            ContingentRule::ProviderSameTutor => decide(
                "provider_fault",
                "provider_duties.min_same_tutor_rate",
                format!(
                    "same tutor for {} of {} attended sessions ({} < {}): contingent part not paid",
                    c.same_tutor,
                    c.attended,
                    show(r.same_tutor),
                    duties.min_same_tutor_rate
                ),
            ),
            ContingentRule::ProviderCancelled => decide(
                "provider_fault",
                "provider_duties.max_provider_cancel_rate",
                format!(
                    "provider cancelled {} of {} planned sessions ({} > {}): contingent part not paid",
                    c.provider_cancelled,
                    c.planned,
                    show(r.provider_cancel),
                    duties.max_provider_cancel_rate
                ),
            ),
            ContingentRule::ProviderAttendance => decide(
                "provider_fault",
                "attendance.responsible",
                format!(
                    "{}, the provider answers for attendance: contingent part not paid",
                    attendance_text()
                ),
            ),
            ContingentRule::ProviderMissingScore => decide(
                "provider_fault",
                "outcome.missing_score",
                format!("{}: contingent part not paid", missing_text()),
            ),
            ContingentRule::ExcludedAttendance => decide(
                "excluded",
                "attendance.responsible",
                format!(
                    "{}, such students are excluded: base only",
                    attendance_text()
                ),
            ),
            ContingentRule::ExcludedMissingScore => decide(
                "excluded",
                "outcome.missing_score",
                format!("{}: excluded, base only", missing_text()),
            ),
            ContingentRule::TooFewOffered => decide(
                "excluded",
                "attendance.min_offered",
                format!(
                    "{} offered sessions, fewer than {}: too few to judge, base only",
                    c.attended + c.student_absent,
                    att.min_offered
                ),
            ),
            ContingentRule::Tier(index) => {
                let tier = &k.rate_card[index];
                let measure = s.measure.expect("a tier needs a measure");
                decide(
                    &format!("tier:{}", tier.name),
                    &format!("rate_card.{}", tier.name),
                    format!(
                        "{} {} reaches tier {}, which pays {}% of the contingent part",
                        k.outcome.measure.as_str(),
                        measure.display4(),
                        tier.name,
                        (tier.pays * Decimal::ONE_HUNDRED).normalize()
                    ),
                )
            }
        }
    }
}

/// The four rates of SPEC 5.1; `None` where the denominator is 0.
struct Rates {
    attendance: Option<Ratio>,
    same_tutor: Option<Ratio>,
    provider_cancel: Option<Ratio>,
    availability: Option<Ratio>,
}

impl Rates {
    fn of(c: &SessionCounts) -> Rates {
        Rates {
            attendance: Ratio::new(c.attended, c.attended + c.student_absent),
            same_tutor: Ratio::new(c.same_tutor, c.attended),
            provider_cancel: Ratio::new(c.provider_cancelled, c.planned),
            availability: Ratio::new(c.planned - c.district_cancelled, c.planned),
        }
    }
}

fn show(r: Option<Ratio>) -> String {
    r.map_or_else(|| "undefined".to_string(), |r| r.display4())
}

fn responsible_name(r: Responsible) -> &'static str {
    match r {
        Responsible::District => "the district's responsibility",
        Responsible::Provider => "the provider's responsibility",
        Responsible::Exclude => "the student is excluded",
    }
}

/// Rounded amounts keep two decimals so they print as `0.00`, never `-0.00` or `0`.
fn cents(mut d: Decimal) -> Decimal {
    if d.is_zero() {
        d = Decimal::ZERO;
    }
    d.rescale(2);
    d
}

/// SPEC 5.5: the school's median growth vs projected moves every `tier:*` line of the school.
fn apply_school_adjustments<L: SettledLine>(contract: &Contract, lines: &mut [L]) {
    if contract.school_adjustments.is_empty() {
        return;
    }
    let mut by_school: BTreeMap<&str, Vec<Ratio>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.rule().starts_with("tier:")) {
        if let Some(g) = l.growth_vs_projected() {
            by_school.entry(l.school_id()).or_default().push(g);
        }
    }
    let adjustments: HashMap<String, (usize, Decimal, Ratio)> = by_school
        .into_iter()
        .filter_map(|(school, mut values)| {
            let found = school_adjustment(contract, school, &mut values)?;
            Some((school.to_string(), found))
        })
        .collect();
    for l in lines.iter_mut().filter(|l| l.rule().starts_with("tier:")) {
        if let Some((index, adjust, median)) = adjustments.get(l.school_id()) {
            let contingent = contingent_amount(contract, l.tier_pays(), Some(*adjust));
            l.school_adjusted(contingent, *index, *adjust, *median);
        }
    }
}

fn totals<L: SettledLine>(
    contract: &Contract,
    lines: &[L],
    adjustments: &[Adjustment],
    prior: &PriorPayments,
) -> Totals {
    let mut t = Totals {
        students: lines.len() as u32,
        paid_before: cents(prior.paid_before),
        ..Totals::default()
    };
    let mut by_rule: BTreeMap<&str, RuleTotal> = BTreeMap::new();
    for l in lines {
        let [planned, attended, student_absent, district_cancelled, provider_cancelled] =
            l.counts();
        t.planned += planned;
        t.attended += attended;
        t.student_absent += student_absent;
        t.district_cancelled += district_cancelled;
        t.provider_cancelled += provider_cancelled;
        t.base += l.base_amount();
        t.contingent += l.contingent_amount();
        let r = by_rule.entry(l.rule()).or_insert_with(|| RuleTotal {
            rule: l.rule().to_string(),
            ..RuleTotal::default()
        });
        r.students += 1;
        r.base += l.base_amount();
        r.contingent += l.contingent_amount();
        if crate::statement::met_target(l.rule(), l.tier_pays()) {
            t.met_target += 1;
        }
    }
    t.base = cents(t.base);
    t.contingent = cents(t.contingent);
    t.lines_total = cents(t.base + t.contingent);
    t.adjustments = cents(adjustments.iter().map(|a| a.amount).sum());
    let due = t.lines_total + t.adjustments;
    // What may still be paid, in whole cents and never rounded up past the NTE (SPEC 5.7): an
    // NTE written with sub-cent digits must not let the statement total exceed it.
    let remaining = nte_remaining(contract, prior.paid_before);
    t.nte_remaining = cents(remaining);
    if prior.paid_before + due > contract.not_to_exceed {
        t.nte_cap = Some(cents(remaining - due));
    }
    t.statement_total = cents(due + t.nte_cap.unwrap_or_default());
    t.by_rule = by_rule
        .into_values()
        .map(|mut r| {
            r.base = cents(r.base);
            r.contingent = cents(r.contingent);
            r
        })
        .collect();
    if t.met_target > 0 {
        let all_paid = prior.paid_before + t.statement_total;
        t.cost_per_outcome = Some(cents(round_cents(all_paid / Decimal::from(t.met_target))));
    }
    t
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
