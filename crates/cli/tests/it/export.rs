//! `obc export indigo` and `obc export edfi` on the worked example: the INDIGO document
//! validates against the standard's schema and its payments are the ledger's; the Ed-Fi files
//! have the shapes an ODS takes.

use crate::acceptance::MILESTONES;
use crate::support::{example, Obc, BASELINE_CONTRACT};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The part of INDIGO's `schema/project.json` the export fills (docs/indigo/README.md).
const INDIGO_SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/indigo/project.schema.json"
);

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).expect("exported file");
    serde_json::from_str(&text).expect("exported JSON")
}

fn indigo(obc: &Obc) -> Value {
    obc.ok(&[
        "export",
        "indigo",
        "--contract",
        BASELINE_CONTRACT,
        "--out",
        "project.json",
    ]);
    read_json(&obc.path("project.json"))
}

/// Every problem the JSON Schema at `schema_path` finds in `document`.
fn schema_problems(schema_path: &str, document: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema file"))
            .expect("schema JSON");
    let validator = jsonschema::draft7::new(&schema).expect("a valid draft-07 schema");
    validator
        .iter_errors(document)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

fn assert_valid(document: &Value) {
    let problems = schema_problems(INDIGO_SCHEMA, document);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The standard's own file, when a copy is at hand, validates it too.
    if let Ok(upstream) = std::env::var("OBC_INDIGO_SCHEMA") {
        let problems = schema_problems(&upstream, document);
        assert!(problems.is_empty(), "{upstream}:\n{}", problems.join("\n"));
    }
}

fn decimal(v: &Value) -> Decimal {
    v.to_string().parse().expect("a decimal number")
}

/// The actual payments (each finalized statement once, outside any plan), summed.
fn actual_payments(project: &Value) -> Decimal {
    project["outcome_payments"]
        .as_array()
        .expect("outcome_payments")
        .iter()
        .filter(|p| p["type"]["value"] == "Actual" && p.get("outcome_payment_plan_id").is_none())
        .map(|p| decimal(&p["money"]["amount"]["value"]))
        .sum()
}

/// What the ledger posted to the provider for the worked example's contract.
fn ledger_paid(obc: &Obc) -> Decimal {
    let ledger: Value = serde_json::from_str(&obc.ok(&["ledger", "--format", "json"])).unwrap();
    ledger
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["contract"] == BASELINE_CONTRACT)
        .flat_map(|s| s["entries"].as_array().unwrap())
        .filter(|e| {
            e["account"]
                .as_str()
                .unwrap()
                .starts_with("provider_receivable:")
        })
        .map(|e| e["amount"].as_str().unwrap().parse::<Decimal>().unwrap())
        .sum()
}

#[test]
fn indigo_export_validates_and_its_payments_are_the_ledgers_at_every_stage() {
    let obc = Obc::new();
    obc.load_example();
    let project = indigo(&obc);
    assert_valid(&project);
    assert_eq!(project["stage_development"]["value"], "Contracted");
    assert_eq!(actual_payments(&project), Decimal::ZERO);
    let planned: Vec<&Value> = project["outcome_payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"]["value"] == "Planned")
        .collect();
    assert_eq!(planned.len(), 1, "the first milestone's draft is planned");
    assert!(planned[0]["notes"]
        .as_str()
        .unwrap()
        .contains("milestone enrollment"));

    for (done, milestone) in MILESTONES.iter().enumerate() {
        obc.finalize_example(milestone);
        let project = indigo(&obc);
        assert_valid(&project);
        let paid = ledger_paid(&obc);
        assert!(paid > Decimal::ZERO);
        assert_eq!(
            actual_payments(&project),
            paid,
            "after {milestone}: the export's actual payments are what the ledger posted"
        );
        assert_eq!(
            decimal(
                &project["overall_project_finance"]["total_outcome_payments_made"]["amount"]
                    ["value"]
            ),
            paid
        );
        let transactions: Decimal = project["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                assert_eq!(t["transaction_type"]["value"], "Outcome Payment");
                assert_eq!(t["sending_organisation_id"]["value"], "dist-mesa");
                decimal(&t["money"]["amount"]["value"])
            })
            .sum();
        assert_eq!(transactions, paid, "after {milestone}: the transactions");
        let results = project["results"].as_array().unwrap();
        assert_eq!(
            results.len(),
            done + 1,
            "one result per finalized statement"
        );
        let last = done + 1 == MILESTONES.len();
        assert_eq!(
            results[done]["result_type"]["value"],
            if last { "Final" } else { "Interim" }
        );
        assert_eq!(
            project["stage_development"]["value"],
            if last { "Complete" } else { "Implementation" }
        );
    }
    // Every milestone finalized: nothing is planned beyond what was paid.
    let project = indigo(&obc);
    let final_result = project["results"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(final_result["number_with_positive_social_outcomes"]["value"].is_u64());
    assert!(
        project["outcome_payments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["type"]["value"] == "Actual"),
        "no planned payment once every milestone is finalized"
    );
}

#[test]
fn indigo_export_maps_the_contract_terms() {
    let obc = Obc::new();
    obc.load_example();
    let project = indigo(&obc);
    let pricing = &project["outcome_pricings"][0];
    let contract = std::fs::read_to_string(example("contract.toml")).unwrap();
    let nte = contract
        .lines()
        .find_map(|l| l.strip_prefix("not_to_exceed = \""))
        .and_then(|rest| rest.split('"').next())
        .expect("the example's not_to_exceed");
    assert_eq!(
        pricing["maximum_price_if_all_targets_achieved"]["amount"]["value"]
            .as_str()
            .unwrap()
            .parse::<Decimal>()
            .unwrap(),
        nte.parse::<Decimal>().unwrap(),
        "the NTE is the maximum price"
    );
    let description = pricing["price_description"]["value"].as_str().unwrap();
    assert!(
        description.contains("rate card") && description.contains(" x C"),
        "the tiers are in the price description: {description}"
    );
    let metrics: Vec<&str> = project["outcome_metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(metrics[..2], ["attendance", "provider_duties"]);
    assert!(metrics[2].starts_with("outcome:"), "{metrics:?}");
    assert_eq!(pricing["outcome_metric_id"]["value"], metrics[2]);
    let plans = project["outcome_payment_plans"].as_array().unwrap();
    assert_eq!(plans.len(), 1);
    let notes = plans[0]["notes"].as_str().unwrap();
    for milestone in MILESTONES {
        assert!(notes.contains(milestone), "{notes}");
    }
    assert!(obc.audit().contains("export.indigo"));
}

#[test]
fn a_misspelt_indigo_key_fails_the_schema() {
    // The schema is strict: the validation above would catch a key the standard does not have.
    let document =
        serde_json::json!({"outcome_payments": [{"type": {"value": "Actual"}, "amout": 1}]});
    assert!(!schema_problems(INDIGO_SCHEMA, &document).is_empty());
    let document = serde_json::json!({"transactions": [{"date": {"value": "15/10/2024"}}]});
    assert!(!schema_problems(INDIGO_SCHEMA, &document).is_empty());
}

fn edfi(obc: &Obc) -> BTreeMap<String, Vec<Value>> {
    let out = obc.ok(&[
        "export",
        "edfi",
        "--contract",
        BASELINE_CONTRACT,
        "--out",
        "edfi",
        "--education-organization-id",
        "255901",
    ]);
    let mut files = BTreeMap::new();
    for name in [
        "interventions",
        "studentInterventionAssociations",
        "studentInterventionAttendanceEvents",
        "assessments",
        "studentAssessments",
    ] {
        assert!(out.contains(&format!("{name}.json")), "{out}");
        let body = read_json(&obc.path(&format!("edfi/{name}.json")));
        files.insert(
            name.to_string(),
            body.as_array().expect("a JSON array").clone(),
        );
    }
    files
}

#[test]
fn edfi_export_writes_one_array_per_resource_with_edfi_shapes() {
    let obc = Obc::new();
    obc.load_example();
    let files = edfi(&obc);
    let reference = serde_json::json!({"educationOrganizationId": 255901, "interventionIdentificationCode": BASELINE_CONTRACT});

    let interventions = &files["interventions"];
    assert_eq!(interventions.len(), 1);
    let i = &interventions[0];
    assert_eq!(i["interventionIdentificationCode"], BASELINE_CONTRACT);
    assert_eq!(
        i["educationOrganizationReference"]["educationOrganizationId"],
        255901
    );
    assert_eq!(i["beginDate"], "2024-08-12");
    for key in ["interventionClassDescriptor", "deliveryMethodDescriptor"] {
        assert!(i[key].as_str().unwrap().starts_with("uri://ed-fi.org/"));
    }

    let enrolled: BTreeSet<String> = std::fs::read_to_string(example("enrollment.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let associations = &files["studentInterventionAssociations"];
    let associated: BTreeSet<String> = associations
        .iter()
        .map(|a| {
            assert_eq!(a["interventionReference"], reference);
            a["studentReference"]["studentUniqueId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(associated, enrolled, "one association per enrolled student");
    assert_eq!(associations.len(), enrolled.len());

    // Ed-Fi's key of an attendance event: category, date, intervention, student.
    let events = &files["studentInterventionAttendanceEvents"];
    assert!(!events.is_empty());
    let mut keys = BTreeSet::new();
    let mut attended_minutes = 0u64;
    for e in events {
        let category = e["attendanceEventCategoryDescriptor"].as_str().unwrap();
        assert!(
            category.starts_with("uri://ed-fi.org/AttendanceEventCategoryDescriptor#"),
            "{category}"
        );
        assert_eq!(e["interventionReference"], reference);
        assert!(e["eventDate"].as_str().unwrap().len() == 10);
        assert!(e["attendanceEventReason"].as_str().unwrap().len() <= 255);
        let key = (
            category.to_string(),
            e["eventDate"].to_string(),
            e["studentReference"]["studentUniqueId"].to_string(),
        );
        assert!(keys.insert(key), "two events with one key: {e}");
        if category.ends_with("#In Attendance") {
            attended_minutes += e["interventionDuration"].as_u64().unwrap();
        }
    }
    assert!(attended_minutes > 0);

    let assessments = &files["assessments"];
    assert_eq!(assessments.len(), 1, "{assessments:?}");
    assert_eq!(
        assessments[0]["assessmentIdentifier"],
        "MAP Growth Mathematics"
    );
    let student_assessments = &files["studentAssessments"];
    assert!(!student_assessments.is_empty());
    let mut identifiers = BTreeSet::new();
    for sa in student_assessments {
        assert_eq!(sa["assessmentReference"]["namespace"], "uri://nwea.org");
        let student = sa["studentReference"]["studentUniqueId"].as_str().unwrap();
        // Ed-Fi's key: assessment, student, identifier.
        let identifier = sa["studentAssessmentIdentifier"].as_str().unwrap();
        assert!(identifier.len() <= 60, "{identifier}");
        assert!(
            identifiers.insert((student.to_string(), identifier.to_string())),
            "two results with one key: {sa}"
        );
        assert!(enrolled.contains(student), "{student} is not enrolled");
        assert!(sa["administrationDate"].as_str().unwrap().ends_with('Z'));
        let rit = &sa["scoreResults"][0];
        assert_eq!(
            rit["assessmentReportingMethodDescriptor"],
            "uri://ed-fi.org/AssessmentReportingMethodDescriptor#RIT scale score"
        );
        let score: Decimal = rit["result"].as_str().unwrap().parse().unwrap();
        assert!((100..=350).contains(&score.trunc().try_into().unwrap_or(0i64)));
    }
    let audit = obc.audit();
    assert!(audit.contains("export.edfi"), "{audit}");
}

#[test]
fn edfi_export_needs_the_districts_edfi_id() {
    let obc = Obc::new();
    obc.load_example();
    let err = obc.fails(&[
        "export",
        "edfi",
        "--contract",
        BASELINE_CONTRACT,
        "--out",
        "edfi",
    ]);
    assert!(
        err.contains("--education-organization-id") && err.contains("dist-mesa"),
        "{err}"
    );
    assert!(!obc.path("edfi").exists(), "nothing is written");
}

// ---------------------------------------------------------------------------------------------
// The web app: the INDIGO download and API, the statement as a filed document
// ---------------------------------------------------------------------------------------------

use crate::web_support::{html_escape, Req, WebApp, Who, MESA_CONTRACT};
use axum::http::StatusCode;

#[tokio::test]
async fn indigo_download_and_api_give_the_cli_document_and_are_audited() {
    let app = WebApp::new().await;
    let s = app.login(Who::Brightpath).await;
    let path = format!("/contracts/{MESA_CONTRACT}/indigo.json");
    let page = app.send(s.with_cookie(Req::get(&path))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(
        page.header("content-disposition"),
        Some(format!("attachment; filename=\"{MESA_CONTRACT}.indigo.json\"").as_str())
    );
    let api = app
        .send(s.with_token(Req::get(&format!("/api/contracts/{MESA_CONTRACT}/indigo"))))
        .await;
    assert_eq!(api.status, StatusCode::OK);
    let cli: Value =
        serde_json::from_str(&app.cli(&["export", "indigo", "--contract", MESA_CONTRACT])).unwrap();
    assert_eq!(page.json(), cli, "the download is the CLI's document");
    assert_eq!(api.json(), cli, "the API gives the CLI's document");
    assert_valid(&cli);
    let exports = app
        .audit_actions(Who::Brightpath.username())
        .await
        .into_iter()
        .filter(|(action, _, _)| action == "export.indigo")
        .count();
    assert_eq!(exports, 2, "the download and the API call are audited");
    let contract_page = app
        .send(s.with_cookie(Req::get(&format!("/contracts/{MESA_CONTRACT}"))))
        .await;
    assert!(
        contract_page.text().contains(&path),
        "the contract page links the download"
    );
    let openapi = app.send(Req::get("/api/openapi.json")).await.json();
    assert!(openapi["paths"]["/api/contracts/{id}/indigo"]["get"].is_object());
}

/// The text of an HTML page with the tags taken out and spaces collapsed.
fn page_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_print_view_is_a_letter_document_with_parties_amounts_and_every_student() {
    let app = WebApp::new().await;
    let s = app.login(Who::Mesa).await;
    let milestone = "enrollment";
    let path = format!("/contracts/{MESA_CONTRACT}/statements/{milestone}/print");
    let statement_json = |app: &WebApp| -> Value {
        serde_json::from_str(&app.cli(&[
            "statement",
            "--contract",
            MESA_CONTRACT,
            "--milestone",
            milestone,
            "--format",
            "json",
        ]))
        .unwrap()
    };
    let draft = app.send(s.with_cookie(Req::get(&path))).await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.text());
    assert!(
        page_text(&draft.text()).contains("Draft: not finalized"),
        "a draft says so"
    );
    app.cli(&[
        "statement",
        "finalize",
        "--contract",
        MESA_CONTRACT,
        "--milestone",
        milestone,
    ]);
    let statement = statement_json(&app);
    let page = app.send(s.with_cookie(Req::get(&path))).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let text = page_text(&html);
    assert!(text.contains("Finalized"), "{text}");
    assert!(
        html.contains("href=\"/style.css\""),
        "the app's stylesheet, no inline style"
    );
    assert!(!html.contains("<style"), "the CSP allows no inline style");
    // The summary page: parties by name, period, amounts with $ and thousands separators.
    for fragment in [
        "District (payer) Mesa Independent School District (dist-mesa)",
        "Provider (payee) brightpath",
        "Contract period 2024-08-12 to 2025-05-30",
        "Milestone date 2024-10-15",
    ] {
        assert!(text.contains(fragment), "`{fragment}` in: {text}");
    }
    let dollars = |pointer: &str| {
        let amount: Decimal = statement
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{pointer} in the statement JSON"))
            .parse()
            .unwrap();
        obc_core::money::format_dollars(amount)
    };
    let total = dollars("/totals/statement_total");
    assert!(total.contains(',') && total.starts_with('$'), "{total}");
    assert!(
        text.contains(&format!("Amount due on this statement {total}")),
        "{total} in: {text}"
    );
    let contract = std::fs::read_to_string(example("contract.toml")).unwrap();
    let nte: Decimal = contract
        .lines()
        .find_map(|l| l.strip_prefix("not_to_exceed = \""))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    let total_amount: Decimal = statement["totals"]["statement_total"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let paid_before: Decimal = statement["totals"]["paid_before"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let used = obc_core::money::format_dollars(paid_before + total_amount);
    let left = obc_core::money::format_dollars(nte - paid_before - total_amount);
    for fragment in [
        format!(
            "Not to exceed (contract cap) {}",
            obc_core::money::format_dollars(nte)
        ),
        format!("Used, with this statement {used}"),
        format!("Left under the cap {left}"),
    ] {
        assert!(text.contains(&fragment), "`{fragment}` in: {text}");
    }
    // Then every student's amount, in the statement's order.
    let lines = statement["lines"].as_array().unwrap();
    assert!(text.contains(&format!("Amount per student ({} students)", lines.len())));
    let students_part = &html[html.find("students-page").expect("the students' page")..];
    // Schools by name, rules in words.
    let schools = app.store.school_names("dist-mesa").await.unwrap();
    let mut from = 0;
    for line in lines {
        let id = line["student_id"].as_str().unwrap();
        let amount: Decimal = line["total"].as_str().unwrap().parse().unwrap();
        let tier_pays: Decimal = line["tier_pays"].as_str().unwrap().parse().unwrap();
        let school_id = line["school_id"].as_str().unwrap();
        let school = &schools[school_id];
        assert_ne!(school, school_id, "the roster names the school");
        let row = format!(
            "<tr><td>{id}</td><td>{}</td><td>{}</td>",
            html_escape(school),
            html_escape(&obc_core::rule_words::rule_label(
                line["rule"].as_str().unwrap(),
                tier_pays
            ))
        );
        let at = students_part[from..]
            .find(&row)
            .unwrap_or_else(|| panic!("student {id}'s row, in order"));
        from += at + row.len();
        let rest = &students_part[from..];
        let row_end = rest.find("</tr>").unwrap();
        assert!(
            rest[..row_end].contains(&obc_core::money::format_dollars(amount)),
            "student {id}'s total"
        );
    }
    // The stylesheet makes it a Letter document: a summary page, then the students.
    let css = app.send(Req::get("/style.css")).await.text();
    assert!(css.contains("@page { size: Letter"));
    assert!(css.contains(".document .summary-page { break-after: page"));
}
