//! The response schemas of the OpenAPI document (`openapi::document`). The web crate's own
//! bodies derive theirs beside their structs; the JSON that core and app types write (progress,
//! meetings, statements, the INDIGO document) is described by the mirrors below, so that core
//! stays free of utoipa. The integration test `openapi_types_every_response` checks real bodies
//! against all of them, so a mirror that drifts from what core writes fails it.
//!
//! utoipa takes an `Option` field for one that may be absent; the bodies here write theirs
//! always (as `null` when empty), so those fields say `required = true`. Only the fields that
//! `skip_serializing_if` leaves out are not required.

use serde_json::{json, Value};
use utoipa::ToSchema;

/// `{"$ref": ...}` to `T`'s schema, which `openapi::components` must list.
pub(crate) fn of<T: ToSchema>() -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", T::name()) })
}

/// An array of `T`.
pub(crate) fn list_of<T: ToSchema>() -> Value {
    json!({"type": "array", "items": of::<T>()})
}

/// A JSON response described by `schema`.
pub(crate) fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// The answers of a read: the body, or the shared error of a refusal.
pub(crate) fn read_answers(description: &str, schema: Value) -> Value {
    json!({"200": json_response(description, schema), "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}})
}

/// A feature's `openapi_paths()` from the `json!` object of its paths.
pub(crate) fn paths(object: Value) -> serde_json::Map<String, Value> {
    match object {
        Value::Object(paths) => paths,
        _ => unreachable!("the paths are a JSON object"),
    }
}

pub(crate) use mirror::*;

/// The mirrors are never built: they only describe what core and app serialize. Decimal
/// amounts and rates are strings (`rust_decimal`'s `serde-with-str`).
#[allow(dead_code)]
mod mirror {
    use serde::Serialize;
    use serde_json::Value;
    use utoipa::ToSchema;

    /// A statement in its canonical JSON (`obc statement --format json`), its main fields.
    #[derive(Serialize, ToSchema)]
    pub(crate) struct Statement {
        contract_id: String,
        contract_version: u32,
        contract_hash: String,
        milestone: String,
        milestone_date: String,
        statement_date: String,
        contingent: bool,
        /// Present (true) on a closing statement only.
        #[serde(skip_serializing_if = "Option::is_none")]
        closing: Option<bool>,
        engine_version: String,
        inputs_hash: String,
        /// One line per student: counts, rates, scores, the rule and the amounts.
        #[schema(value_type = Vec<Object>)]
        lines: Vec<Value>,
        /// Corrections of earlier finalized statements; absent when there are none.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<Vec<Object>>)]
        adjustments: Option<Vec<Value>>,
        totals: StatementTotals,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct StatementTotals {
        students: u32,
        planned: u32,
        attended: u32,
        student_absent: u32,
        district_cancelled: u32,
        provider_cancelled: u32,
        base: String,
        contingent: String,
        lines_total: String,
        /// Absent when zero.
        #[serde(skip_serializing_if = "Option::is_none")]
        adjustments: Option<String>,
        paid_before: String,
        nte_remaining: String,
        #[schema(required = true)]
        nte_cap: Option<String>,
        statement_total: String,
        by_rule: Vec<RuleTotal>,
        met_target: u32,
        #[schema(required = true)]
        cost_per_outcome: Option<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct RuleTotal {
        rule: String,
        students: u32,
        base: String,
        contingent: String,
    }

    /// A student's status on a factor.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum Status {
        OnTrack,
        OffTrack,
        NotJudged,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum Factor {
        Attendance,
        ProviderDuties,
        Outcome,
    }

    /// A contract's progress at a date (GET /api/contracts/{id}/progress).
    #[derive(Serialize, ToSchema)]
    pub(crate) struct Progress {
        contract_id: String,
        contract_version: u32,
        contract_hash: String,
        as_of: String,
        /// The contingent milestone whose statement as of today gives the amounts at risk.
        milestone: String,
        measure: String,
        window: String,
        target_tier: String,
        target_min: String,
        inputs_hash: String,
        /// In student id order.
        students: Vec<StudentProgress>,
        by_school: Vec<SchoolSummary>,
        totals: Summary,
        rules_today: Vec<RuleCount>,
        statement_today: StatementToday,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum EnrollmentState {
        Active,
        NotStarted,
        Ended,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct StudentProgress {
        student_id: String,
        school_id: String,
        #[schema(required = true)]
        grade: Option<String>,
        enrollment: EnrollmentState,
        enrollment_start: String,
        #[schema(required = true)]
        enrollment_end: Option<String>,
        planned: u32,
        attended: u32,
        student_absent: u32,
        district_cancelled: u32,
        provider_cancelled: u32,
        minutes: u64,
        attendance: FactorProgress,
        provider_duties: FactorProgress,
        outcome: FactorProgress,
        scores: OutcomeScores,
        rule_today: String,
        contingent_today: String,
        #[schema(required = true)]
        projected_from: Option<String>,
        full_contingent: String,
        at_risk: String,
        notes: Vec<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct FactorProgress {
        status: Status,
        summary: String,
        checks: Vec<Check>,
    }

    /// One threshold of a factor, with the figure compared to it.
    #[derive(Serialize, ToSchema)]
    pub(crate) struct Check {
        name: String,
        clause: String,
        /// Four decimals; none when not judged.
        #[schema(required = true)]
        figure: Option<String>,
        /// `>=` or `<=`.
        comparison: String,
        threshold: String,
        status: Status,
        /// `district`, `provider`, `excluded` or `rate_card`.
        answers: String,
        detail: String,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct OutcomeScores {
        #[schema(required = true)]
        window: Option<String>,
        interim: bool,
        baseline_term: String,
        #[schema(required = true)]
        baseline: Option<String>,
        #[schema(required = true)]
        latest_term: Option<String>,
        #[schema(required = true)]
        latest: Option<String>,
        #[schema(required = true)]
        observed_growth: Option<String>,
        #[schema(required = true)]
        projected_growth: Option<String>,
        #[schema(required = true)]
        measure: Option<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct FactorCounts {
        on_track: u32,
        off_track: u32,
        not_judged: u32,
    }

    /// Counts by factor and money at risk over a group of students.
    #[derive(Serialize, ToSchema)]
    pub(crate) struct Summary {
        students: u32,
        active: u32,
        attendance: FactorCounts,
        provider_duties: FactorCounts,
        outcome: FactorCounts,
        off_track_any: u32,
        full_contingent: String,
        contingent_today: String,
        at_risk: String,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct SchoolSummary {
        school_id: String,
        #[serde(flatten)]
        summary: Summary,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct RuleCount {
        rule: String,
        students: u32,
        contingent: String,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct StatementToday {
        contingent: String,
        statement_total: String,
        by_rule: Vec<RuleTotal>,
    }

    /// A contract's meetings, cadence and open action items (GET /api/contracts/{id}/meetings).
    #[derive(Serialize, ToSchema)]
    pub(crate) struct MeetingList {
        contract_id: String,
        meetings: Vec<Meeting>,
        cadence: Cadence,
        open_action_items: Vec<ActionItem>,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct Meeting {
        id: i64,
        contract_id: String,
        contract_version: u32,
        held_on: String,
        opened_at: String,
        opened_by: String,
    }

    /// The meeting cadence checked at a date.
    #[derive(Serialize, ToSchema)]
    pub(crate) struct Cadence {
        every_days: u32,
        starts: String,
        as_of: String,
        #[schema(required = true)]
        last_meeting: Option<String>,
        #[schema(required = true)]
        next_due: Option<String>,
        overdue: bool,
        missed: Vec<Gap>,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct Gap {
        from: String,
        to: String,
        days: i64,
        missed: u32,
    }

    /// A meeting as the caller may see it.
    #[derive(Serialize, ToSchema)]
    pub(crate) struct MeetingView {
        meeting: Meeting,
        /// `intermediary`, `district`, `provider` or `auditor`.
        viewer: String,
        snapshot: Snapshot,
        off_track: Vec<OffTrackGroup>,
        #[schema(required = true)]
        previous_meeting: Option<i64>,
        /// None at a contract's first meeting.
        #[schema(required = true)]
        changes: Option<Changes>,
        cadence: Cadence,
        attendees: Vec<Attendee>,
        notes: Vec<MeetingNote>,
        carried_items: Vec<ActionItem>,
        new_items: Vec<ActionItem>,
    }

    /// What a meeting reviewed: every enrolled student's progress at its date.
    #[derive(Serialize, ToSchema)]
    pub(crate) struct Snapshot {
        as_of: String,
        rows: Vec<SnapshotRow>,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct SnapshotRow {
        student_id: String,
        school_id: String,
        attendance: Mark,
        provider_duties: Mark,
        outcome: Mark,
        at_risk: String,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct Mark {
        status: Status,
        summary: String,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct OffTrackGroup {
        school_id: String,
        factor: Factor,
        /// `[student id, why]` pairs.
        students: Vec<Vec<String>>,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct Changes {
        since: String,
        newly_off_track: Vec<Change>,
        back_on_track: Vec<Change>,
        no_longer_judged: Vec<Change>,
        still_off_track: u32,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct Change {
        student_id: String,
        school_id: String,
        factor: Factor,
        #[schema(required = true)]
        was: Option<Status>,
        #[schema(required = true)]
        now: Option<Status>,
        summary: String,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum Side {
        District,
        Provider,
        Intermediary,
        Other,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct Attendee {
        id: i64,
        name: String,
        side: Side,
        added_at: String,
        added_by: String,
    }

    /// The current version of a meeting note.
    #[derive(Serialize, ToSchema)]
    pub(crate) struct MeetingNote {
        id: i64,
        meeting_id: i64,
        #[schema(required = true)]
        replaces: Option<i64>,
        version: u32,
        /// None: a note about the meeting as a whole.
        #[schema(required = true)]
        student_id: Option<String>,
        text: String,
        district_only: bool,
        author: String,
        written_at: String,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum Owner {
        District,
        Provider,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum ActionStatus {
        Open,
        Done,
        Dropped,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct ActionItem {
        id: i64,
        meeting_id: i64,
        contract_id: String,
        #[schema(required = true)]
        student_id: Option<String>,
        text: String,
        owner: Owner,
        due_on: String,
        created_at: String,
        created_by: String,
        status: ActionStatus,
        #[schema(required = true)]
        status_at: Option<String>,
        #[schema(required = true)]
        status_by: Option<String>,
        #[schema(required = true)]
        status_note: Option<String>,
    }

    /// An INDIGO project document (the Government Outcomes Lab's data standard), its top level.
    /// INDIGO wraps each datum as `{"value": ...}`.
    #[derive(Serialize, ToSchema)]
    pub(crate) struct IndigoProject {
        name: IndigoText,
        /// `Contracted`, `Implementation` or `Complete`.
        stage_development: IndigoText,
        #[schema(value_type = Object)]
        dates: Value,
        #[schema(value_type = Object)]
        overall_project_finance: Value,
        #[schema(value_type = Object)]
        purpose_and_classifications: Value,
        #[schema(value_type = Object)]
        service_and_beneficiaries: Value,
        #[schema(value_type = Vec<Object>)]
        service_provisions: Vec<Value>,
        #[schema(value_type = Vec<Object>)]
        outcome_payment_commitments: Vec<Value>,
        #[schema(value_type = Vec<Object>)]
        outcome_metrics: Vec<Value>,
        #[schema(value_type = Vec<Object>)]
        outcome_pricings: Vec<Value>,
        #[schema(value_type = Vec<Object>)]
        outcome_payment_plans: Vec<Value>,
        #[schema(value_type = Vec<Object>)]
        outcome_payments: Vec<Value>,
        #[schema(value_type = Vec<Object>)]
        transactions: Vec<Value>,
        #[schema(value_type = Vec<Object>)]
        results: Vec<Value>,
    }

    #[derive(Serialize, ToSchema)]
    pub(crate) struct IndigoText {
        value: String,
    }
}
