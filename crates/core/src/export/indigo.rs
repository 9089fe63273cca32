//! A contract as an INDIGO project document (SPEC 8): the Government Outcomes Lab's open data
//! standard for outcomes contracts, `schema/project.json` of the `indigo-data-standard`
//! repository (JSON Schema draft-07), where almost every value is wrapped as `{"value": ...}`.
//! The mapping is written in `docs/RULES.md` ("INDIGO export").

use super::{money_number, Party};
use crate::contract::{Measure, Responsible};
use crate::money::{format_cents, format_dollars};
use crate::{Contract, Statement};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// The payment plan every planned and actual payment of the export belongs to: the contract
/// version in force.
fn plan_id(version: u32) -> String {
    format!("contract-version-{version}")
}

/// A finalized statement as the export needs it.
pub struct Finalized<'a> {
    pub statement: &'a Statement,
    /// The finalization's date (`YYYY-MM-DD`), the day the payment was approved.
    pub finalized_on: String,
}

/// Everything a project document is made from.
pub struct Project<'a> {
    pub contract: &'a Contract,
    pub version: u32,
    pub contract_sha256: &'a str,
    pub district: Party,
    pub provider: Party,
    /// The finalized statements, in date order: the actual payments.
    pub finalized: Vec<Finalized<'a>>,
    /// The statement of the first milestone not finalized yet, computed now: the planned
    /// payment. `None` once every milestone is finalized.
    pub draft: Option<&'a Statement>,
}

fn value(v: impl Into<Value>) -> Value {
    json!({ "value": v.into() })
}

fn usd(amount: Decimal) -> Value {
    json!({ "currency": value("USD"), "amount": value(money_number(amount)) })
}

/// The outcome metric ids: one per factor (SPEC 5.4) and the measure.
const ATTENDANCE_METRIC: &str = "attendance";
const PROVIDER_DUTIES_METRIC: &str = "provider_duties";

fn outcome_metric_id(contract: &Contract) -> String {
    format!("outcome:{}", contract.outcome.measure.as_str())
}

fn responsible_words(r: Responsible) -> &'static str {
    match r {
        Responsible::District => "the district pays the contingent part in full",
        Responsible::Provider => "the contingent part is not paid",
        Responsible::Exclude => "the student is excluded (base part only)",
    }
}

fn measure_words(m: Measure) -> &'static str {
    match m {
        Measure::GrowthVsProjected => "observed growth divided by projected growth",
        Measure::MetProjected => "1 when observed growth meets projected growth, else 0",
        Measure::RitGain => "observed growth in RIT points",
        Measure::ConditionalGrowthPercentile => "the conditional growth percentile",
        Measure::Score => "the outcome term's score",
    }
}

/// The rate card in words: `exceeds: measure >= 1.50 pays 1.25 x C; ...`.
fn rate_card_words(contract: &Contract) -> String {
    contract
        .rate_card
        .iter()
        .map(|t| match t.min {
            Some(min) => format!("{}: measure >= {min} pays {} x C", t.name, t.pays),
            None => format!("{}: otherwise pays {} x C", t.name, t.pays),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The lowest tier minimum whose tier pays the full contingent part: "met the target".
fn target_words(contract: &Contract) -> String {
    let met = contract
        .rate_card
        .iter()
        .rev()
        .find(|t| t.pays >= Decimal::ONE);
    match met.and_then(|t| t.min.map(|min| (t, min))) {
        Some((t, min)) => format!(
            "{} >= {min} (tier {}, which pays the full contingent part)",
            contract.outcome.measure.as_str(),
            t.name
        ),
        None => "no tier pays the full contingent part".to_string(),
    }
}

fn outcome_metrics(p: &Project, students: Option<u32>) -> Vec<Value> {
    let c = p.contract;
    let population = format!(
        "Students the district enrolled in contract {} ({} tutoring, {} to {})",
        c.id, c.subject, c.period.start, c.period.end
    );
    // The factors are checked on the session logs; the outcome compares two test terms.
    let metric = |id: &str, definition: String, target: String, other: Option<String>| {
        let validation = if id.starts_with("outcome:") {
            "Pre-Post analysis"
        } else {
            "Simple ex-post verification"
        };
        let mut m = json!({
            "id": id,
            "definition": value(definition),
            "target_population": value(population.clone()),
            "unit_type_of_targeted_service_users_or_beneficiaries": value("Individual"),
            "outcome_metric_target": value(target),
            "policy_sector": value("Education"),
            "outcome_validation_method": value(validation),
        });
        if let Some(n) = students {
            m["targeted_number_of_service_users_or_beneficiaries_total"] = value(n);
        }
        if let Some(other) = other {
            m["other_target_for_meeting_outcome_metric_target"] = value(other);
        }
        m
    };
    let a = &c.attendance;
    let d = &c.provider_duties;
    let o = &c.outcome;
    let mut outcome = metric(
        &outcome_metric_id(c),
        format!(
            "{} {} growth from {} to {}: {}",
            o.assessment,
            c.subject,
            o.from_term.as_str(),
            o.to_term.as_str(),
            measure_words(o.measure)
        ),
        target_words(c),
        Some(format!(
            "A missing baseline or outcome score: {}",
            responsible_words(o.missing_score)
        )),
    );
    outcome["data_source_for_outcome_validation"] = value(format!(
        "{} results exported by the district ({} {})",
        o.assessment,
        c.subject,
        c.school_year()
    ));
    vec![
        metric(
            ATTENDANCE_METRIC,
            "Attended sessions divided by sessions offered (attended or student absent)"
                .to_string(),
            format!(
                "attendance_rate >= {} once at least {} sessions were offered",
                a.min_rate, a.min_offered
            ),
            Some(format!(
                "Below the rate: {}; a school availability below the rate is the district's fault",
                responsible_words(a.responsible)
            )),
        ),
        metric(
            PROVIDER_DUTIES_METRIC,
            "The provider's duties: the same tutor, and sessions not cancelled by the provider"
                .to_string(),
            format!(
                "same_tutor_rate >= {} and provider_cancel_rate <= {}",
                d.min_same_tutor_rate, d.max_provider_cancel_rate
            ),
            Some("Otherwise the contingent part is not paid (provider fault)".to_string()),
        ),
        outcome,
    ]
}

fn outcome_pricing(c: &Contract) -> Value {
    let base_due = c
        .milestones
        .iter()
        .filter(|m| !m.base_share.is_zero())
        .map(|m| format!("{} x B at {} ({})", m.base_share, m.name, m.date))
        .collect::<Vec<_>>()
        .join(", ");
    json!({
        "outcome_metric_id": value(outcome_metric_id(c)),
        "currency": value("USD"),
        "price_per_unit": {"amount": value(money_number(c.price_per_student))},
        "maximum_price_if_all_targets_achieved": {"amount": value(format_cents(c.not_to_exceed))},
        "price_description": value(format!(
            "{} per student: a base part B = {} paid for every enrolled student with an attended session ({base_due}), \
             and a contingent part C = {} paid at {} by the rate card ({}). All payments are capped at the \
             not-to-exceed amount of {}.",
            format_dollars(c.price_per_student),
            format_dollars(c.base_part()),
            format_dollars(c.contingent_part()),
            c.milestones.iter().find(|m| m.contingent).map_or("the contingent milestone", |m| m.name.as_str()),
            rate_card_words(c),
            format_dollars(c.not_to_exceed),
        )),
    })
}

/// The claim period of a statement: from the day after the previous milestone (the contract's
/// start for the first) to the statement's milestone date.
fn claim_period(c: &Contract, s: &Statement) -> Value {
    let start = c
        .milestones
        .iter()
        .filter(|m| m.date.to_string() < s.milestone_date)
        .map(|m| m.date.next_day().unwrap_or(m.date))
        .max()
        .unwrap_or(c.period.start);
    json!({"start_date": value(start.to_string()), "end_date": value(s.milestone_date.clone())})
}

/// What a statement pays, in words: its parts, so a reader can reconcile the amount.
fn payment_notes(s: &Statement, draft: bool) -> String {
    let t = &s.totals;
    let mut parts = vec![
        format!("base {}", format_dollars(t.base)),
        format!("contingent {}", format_dollars(t.contingent)),
    ];
    if !t.adjustments.is_zero() {
        parts.push(format!(
            "corrections of earlier statements {}",
            format_dollars(t.adjustments)
        ));
    }
    if let Some(cap) = t.nte_cap {
        parts.push(format!("not-to-exceed cap {}", format_dollars(cap)));
    }
    format!(
        "{} statement of milestone {} ({} students, statement date {}, sha256 of inputs {}): {}",
        if draft { "Draft" } else { "Finalized" },
        s.milestone,
        t.students,
        s.statement_date,
        s.inputs_hash,
        parts.join(", ")
    )
}

fn outcome_payment(p: &Project, s: &Statement, kind: &str, plan: Option<&str>) -> Value {
    let mut payment = json!({
        "period": claim_period(p.contract, s),
        "payer_organisation_id": value(p.district.id.clone()),
        "recipient_organisation_id": value(p.provider.id.clone()),
        "type": value(kind),
        "money": usd(s.totals.statement_total),
        "notes": payment_notes(s, kind == "Planned"),
    });
    if let Some(plan) = plan {
        payment["outcome_payment_plan_id"] = value(plan);
    }
    payment
}

/// The payments: each finalized statement once as `Actual` without a plan, then the plan of
/// the contract version in force, which (as the standard asks) repeats the actual payments and
/// adds the draft as `Planned`.
fn outcome_payments(p: &Project) -> Vec<Value> {
    let plan = plan_id(p.version);
    let actual = p
        .finalized
        .iter()
        .map(|f| outcome_payment(p, f.statement, "Actual", None));
    let planned = p
        .finalized
        .iter()
        .map(|f| outcome_payment(p, f.statement, "Actual", Some(&plan)))
        .chain(
            p.draft
                .map(|d| outcome_payment(p, d, "Planned", Some(&plan))),
        );
    actual.chain(planned).collect()
}

/// One transaction per finalized statement that moved money: the district pays the provider,
/// or (a credit) the provider repays the district; the amount is always positive.
fn transactions(p: &Project) -> Vec<Value> {
    p.finalized
        .iter()
        .filter(|f| !f.statement.totals.statement_total.is_zero())
        .map(|f| {
            let total = f.statement.totals.statement_total;
            let (from, to) = if total.is_sign_negative() {
                (&p.provider, &p.district)
            } else {
                (&p.district, &p.provider)
            };
            json!({
                "date": value(f.finalized_on.clone()),
                "sending_organisation_id": value(from.id.clone()),
                "receiving_organisation_id": value(to.id.clone()),
                "transaction_type": value("Outcome Payment"),
                "money": usd(total.abs()),
                "notes": format!("Statement of milestone {} (contract {} version {})", f.statement.milestone, p.contract.id, f.statement.contract_version),
            })
        })
        .collect()
}

/// A result per finalized statement: students engaged (an attended session counted), and at
/// the contingent milestone the students who met the target; `Final` for the contingent one.
fn results(p: &Project) -> Vec<Value> {
    p.finalized
        .iter()
        .map(|f| {
            let s = f.statement;
            let engaged = s.lines.iter().filter(|l| l.attended > 0).count() as u64;
            let mut r = json!({
                "result_level": value("Project level"),
                "result_type": value(if s.contingent { "Final" } else { "Interim" }),
                "period": {"start_date": value(p.contract.period.start.to_string()), "end_date": value(s.milestone_date.clone())},
                "number_engaged_in_impact_bond": value(engaged),
                "notes": format!("{} students enrolled at milestone {}; engaged = at least one attended session counted", s.totals.students, s.milestone),
            });
            if s.contingent {
                r["outcome_metric_id"] = value(outcome_metric_id(p.contract));
                r["number_with_positive_social_outcomes"] = value(s.totals.met_target);
                r["outcomes_achieved"] = value(format!(
                    "{} of {} students met the target ({})",
                    s.totals.met_target,
                    s.totals.students,
                    target_words(p.contract)
                ));
            }
            r
        })
        .collect()
}

/// The stage of the project, from what has been paid: nothing finalized yet is `Contracted`,
/// the contingent milestone finalized is `Complete`, anything between is `Implementation`.
fn stage(p: &Project) -> &'static str {
    if p.finalized.iter().any(|f| f.statement.contingent) {
        "Complete"
    } else if p.finalized.is_empty() {
        "Contracted"
    } else {
        "Implementation"
    }
}

/// The project document.
pub fn project(p: &Project) -> Value {
    let c = p.contract;
    let paid: Decimal = p
        .finalized
        .iter()
        .map(|f| f.statement.totals.statement_total)
        .sum();
    let students = p
        .draft
        .or_else(|| p.finalized.last().map(|f| f.statement))
        .map(|s| s.totals.students);
    let contingent = c.milestones.iter().find(|m| m.contingent);
    let mut dates = Map::new();
    dates.insert(
        "start_date_of_service_provision".into(),
        value(c.period.start.to_string()),
    );
    dates.insert(
        "anticipated_end_date_of_service_provision".into(),
        value(c.period.end.to_string()),
    );
    if let Some(m) = contingent {
        dates.insert(
            "anticipated_completion_date".into(),
            value(m.date.to_string()),
        );
    }
    if let Some(f) = p.finalized.iter().find(|f| f.statement.contingent) {
        dates.insert(
            "actual_completion_date".into(),
            value(f.finalized_on.clone()),
        );
    }
    dates.insert(
        "notes".into(),
        Value::String(format!(
            "Contract {} version {} (document sha256 {})",
            c.id, p.version, p.contract_sha256
        )),
    );
    let intervention = format!(
        "{} tutoring by {} for students of {}",
        c.subject, p.provider.name, p.district.name
    );
    let mut service = json!({
        "target_population": value(format!("Students of {} enrolled in contract {}", p.district.name, c.id)),
        "unit_type_targeted_service_users_or_beneficiaries": value("Individual"),
    });
    if let Some(n) = students {
        service["targeted_number_service_users_or_beneficiaries_total"] = value(n);
    }
    json!({
        "name": value(format!("{}: {} tutoring, {} and {}", c.id, c.subject, p.district.name, p.provider.name)),
        "stage_development": value(stage(p)),
        "dates": dates,
        "overall_project_finance": {
            "maximum_potential_outcome_payment_v2": usd(c.not_to_exceed),
            "total_outcome_payments_made": usd(paid),
            "configuration_contracting_parties": value("Direct structure: an outcomes contract between the district (outcome payer) and the tutoring provider, administered by an intermediary"),
        },
        "purpose_and_classifications": {
            "social_challenge": value(format!("Students behind in {}", c.subject)),
            "intervention": value(intervention.clone()),
            "policy_sector": value("Education"),
        },
        "service_and_beneficiaries": service,
        "service_provisions": [{
            "id": "provider",
            "organisation_id": value(p.provider.id.clone()),
            "intervention": value(intervention),
            "planned_service": {"start_date": value(c.period.start.to_string()), "end_date": value(c.period.end.to_string())},
        }],
        "outcome_payment_commitments": [{
            "organisation_id": value(p.district.id.clone()),
            "organisation_role_category": value("Government/Public Sector/Public Bank"),
            "maximum_potential_outcome_payment": usd(c.not_to_exceed),
            "total_outcome_payments": usd(paid),
            "period": {"start_date": value(c.period.start.to_string()), "end_date": value(c.period.end.to_string())},
        }],
        "outcome_metrics": outcome_metrics(p, students),
        "outcome_pricings": [outcome_pricing(c)],
        "outcome_payment_plans": [{
            "id": value(plan_id(p.version)),
            "period": {"start_date": value(c.period.start.to_string()), "end_date": value(c.period.end.to_string())},
            "notes": format!("The milestones of contract {} version {}: {}", c.id, p.version,
                c.milestones.iter().map(|m| format!("{} on {}{}", m.name, m.date, if m.contingent { " (contingent part)" } else { "" })).collect::<Vec<_>>().join(", ")),
        }],
        "outcome_payments": outcome_payments(p),
        "transactions": transactions(p),
        "results": results(p),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{self, PriorPayments, StatementRequest};
    use crate::test_kit::{contract, kid};

    fn statement(c: &Contract, milestone: &str) -> Statement {
        engine::compute(StatementRequest {
            contract: c,
            contract_version: 1,
            contract_hash: "h".into(),
            milestone,
            as_of: None,
            students: vec![kid("s1").attended(3).build(), kid("s2").attended(2).build()].into(),
            prior: PriorPayments::default(),
        })
        .unwrap()
    }

    fn party(id: &str) -> Party {
        Party {
            id: id.into(),
            name: format!("{id} name"),
        }
    }

    fn project_of<'a>(
        c: &'a Contract,
        finalized: &[&'a Statement],
        draft: Option<&'a Statement>,
    ) -> Value {
        project(&Project {
            contract: c,
            version: 2,
            contract_sha256: "abc",
            district: party("ector"),
            provider: party("fev"),
            finalized: finalized
                .iter()
                .map(|s| Finalized {
                    statement: s,
                    finalized_on: "2024-10-20".into(),
                })
                .collect(),
            draft,
        })
    }

    #[test]
    fn claim_periods_run_from_the_day_after_the_previous_milestone() {
        let c = contract(&[]);
        let enrollment = statement(&c, "enrollment");
        let midyear = statement(&c, "midyear");
        let p = project_of(&c, &[&enrollment], Some(&midyear));
        let payments = p["outcome_payments"].as_array().unwrap();
        assert_eq!(payments.len(), 3, "actual, actual in the plan, planned");
        assert_eq!(payments[0]["period"]["start_date"]["value"], "2024-08-12");
        assert_eq!(payments[0]["period"]["end_date"]["value"], "2024-10-15");
        assert!(payments[0].get("outcome_payment_plan_id").is_none());
        assert_eq!(
            payments[1]["outcome_payment_plan_id"]["value"],
            "contract-version-2"
        );
        assert_eq!(payments[2]["type"]["value"], "Planned");
        assert_eq!(payments[2]["period"]["start_date"]["value"], "2024-10-16");
        assert_eq!(p["stage_development"]["value"], "Implementation");
        let paid: Decimal = p["outcome_payments"][0]["money"]["amount"]["value"]
            .to_string()
            .parse()
            .unwrap();
        assert_eq!(paid, enrollment.totals.statement_total);
    }

    #[test]
    fn a_credit_is_a_positive_transaction_from_the_provider() {
        let c = contract(&[]);
        let mut credit = statement(&c, "midyear");
        credit.totals.statement_total = Decimal::new(-12050, 2);
        let p = project_of(&c, &[&credit], None);
        let t = &p["transactions"][0];
        assert_eq!(t["sending_organisation_id"]["value"], "fev");
        assert_eq!(t["receiving_organisation_id"]["value"], "ector");
        assert_eq!(t["money"]["amount"]["value"].to_string(), "120.5");
        assert_eq!(t["transaction_type"]["value"], "Outcome Payment");
    }

    #[test]
    fn stage_follows_what_was_finalized() {
        let c = contract(&[]);
        let enrollment = statement(&c, "enrollment");
        let last = statement(&c, "final");
        assert_eq!(
            project_of(&c, &[], Some(&enrollment))["stage_development"]["value"],
            "Contracted"
        );
        let done = project_of(&c, &[&enrollment, &last], None);
        assert_eq!(done["stage_development"]["value"], "Complete");
        assert_eq!(done["results"][1]["result_type"]["value"], "Final");
        assert_eq!(done["results"][0]["result_type"]["value"], "Interim");
        assert_eq!(
            done["dates"]["actual_completion_date"]["value"],
            "2024-10-20"
        );
    }

    #[test]
    fn the_rate_card_and_cap_are_in_the_pricing() {
        let c = contract(&[]);
        let p = project_of(&c, &[], None);
        let pricing = &p["outcome_pricings"][0];
        assert_eq!(
            pricing["maximum_price_if_all_targets_achieved"]["amount"]["value"],
            "600000.00"
        );
        let words = pricing["price_description"]["value"].as_str().unwrap();
        assert!(
            words.contains("exceeds: measure >= 1.50 pays 1.25 x C"),
            "{words}"
        );
        assert!(words.contains("below: otherwise pays 0.00 x C"), "{words}");
        assert!(words.contains("$600,000.00"), "{words}");
        assert_eq!(
            p["outcome_metrics"][2]["outcome_metric_target"]["value"],
            "growth_vs_projected >= 1.00 (tier meets, which pays the full contingent part)"
        );
    }
}
