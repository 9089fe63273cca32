//! HTTP tests of the statement page (issue 10): the students' table searched, filtered,
//! sorted and paged; names only for the roles that may see them; each student's explanation as
//! `obc explain` prints it; "paid so far" current after a finalization. Each runs on SQLite
//! here and on PostgreSQL in `postgres.rs`.

use crate::support::Table;
use crate::web_support::*;
use axum::http::StatusCode;
use std::collections::BTreeMap;

/// The mesa contract's final statement page.
fn final_page() -> String {
    format!("/contracts/{MESA_CONTRACT}/statements/final")
}

/// The student ids of a page's table, in order (from their explanation links).
fn listed(html: &str) -> Vec<String> {
    let marker = "/statements/final/students/";
    html.match_indices(marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            rest[..rest.find(['"', '?']).expect("the link ends")].to_string()
        })
        .collect()
}

/// The mesa final statement's student lines from `obc statement` (CSV rows by column).
fn lines(app: &WebApp) -> Vec<BTreeMap<String, String>> {
    let csv = app.cli(&[
        "statement",
        "--contract",
        MESA_CONTRACT,
        "--milestone",
        "final",
        "--format",
        "csv",
    ]);
    Table::parse(&csv)
        .rows
        .into_iter()
        .filter(|r| {
            !r["student_id"]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_')
        })
        .collect()
}

pub(crate) async fn the_students_table_searches_filters_sorts_and_pages(app: WebApp) {
    let s = app.login(Who::Mesa).await;
    let page = |query: String| {
        let s = &s;
        let app = &app;
        async move {
            let r = app
                .send(s.with_cookie(Req::get(&format!("{}{query}", final_page()))))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.excerpt());
            let html = r.text();
            assert!(html.len() < 1_000_000, "{query}: {} bytes", html.len());
            html
        }
    };
    let lines = lines(&app);
    assert_eq!(lines.len(), 116);

    // By id.
    let me = app.ids.mesa_enrolled.clone();
    let html = page(format!("?q={me}")).await;
    assert_eq!(listed(&html), [me.as_str()]);
    assert!(html.contains("Students 1 to 1 of 1 matching, of 116 on the statement"));

    // By name, any case: the district sees its students' names.
    let name = app
        .store
        .student_names(MESA_DISTRICT, Some(&[me.as_str()]))
        .await
        .unwrap()
        .remove(&me)
        .expect("a name");
    let last = name.split(' ').next_back().unwrap().to_uppercase();
    let html = page(format!("?q={last}")).await;
    assert!(listed(&html).contains(&me), "{last}: {:?}", listed(&html));
    assert!(html.contains(&format!("<td>{}</td>", html_escape(&name))));

    // By school (shown by name) and by rule; the two combine.
    let school = lines.iter().find(|l| l["student_id"] == me).unwrap()["school_id"].clone();
    let school_name = app.store.school_names(MESA_DISTRICT).await.unwrap()[&school].clone();
    let at_school: Vec<String> = lines
        .iter()
        .filter(|l| l["school_id"] == school)
        .map(|l| l["student_id"].clone())
        .collect();
    let html = page(format!("?school={school}")).await;
    assert_eq!(listed(&html), at_school);
    assert!(html.contains(&format!(
        "<option value=\"{school}\" selected>{}</option>",
        html_escape(&school_name)
    )));
    assert_eq!(
        html.matches(&format!("<td>{}</td>", html_escape(&school_name)))
            .count(),
        at_school.len()
    );
    let rule = lines[0]["rule"].clone();
    let both: Vec<String> = lines
        .iter()
        .filter(|l| l["school_id"] == school && l["rule"] == rule)
        .map(|l| l["student_id"].clone())
        .collect();
    let html = page(format!(
        "?school={school}&rule={}",
        rule.replace(':', "%3A")
    ))
    .await;
    assert_eq!(listed(&html), both, "{school} and {rule}");

    // Sorted by total, largest first (ties by student), then paged keeping the order.
    let mut by_total: Vec<(rust_decimal::Decimal, &String)> = lines
        .iter()
        .map(|l| (l["total"].parse().unwrap(), &l["student_id"]))
        .collect();
    by_total.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let expected: Vec<String> = by_total.iter().map(|(_, id)| id.to_string()).collect();
    let first = page("?sort=total&dir=desc".into()).await;
    assert_eq!(listed(&first), expected[..100]);
    assert!(first.contains("aria-sort=\"descending\""));
    assert!(
        first.contains("href=\"?sort=total&#38;dir=desc&#38;page=2#students\""),
        "the pager keeps the sort"
    );
    let second = page("?sort=total&dir=desc&page=2".into()).await;
    assert_eq!(listed(&second), expected[100..]);
    // Ascending, by the column's link.
    assert!(first.contains("href=\"?sort=total&#38;dir=asc&#38;page=1#students\""));
    let ascending = page("?sort=total&dir=asc".into()).await;
    assert_eq!(listed(&ascending)[0], *by_total.last().unwrap().1);

    // A statement as of a date keeps its date in every link and in the form.
    let dated = page("?as_of=2025-06-30&sort=total&dir=desc".into()).await;
    assert!(dated
        .contains("href=\"?sort=total&#38;dir=desc&#38;page=2&#38;as_of=2025-06-30#students\""));
    assert!(dated.contains("<input type=\"hidden\" name=\"as_of\" value=\"2025-06-30\">"));
    assert!(dated.contains("/download?format=csv&#38;as_of=2025-06-30"));

    // Nothing matches: said, not an error; a page past the end shows the last.
    let html = page("?q=no-such-student".into()).await;
    assert!(listed(&html).is_empty());
    assert!(html.contains("No student matches (0 of 116)."));
    let html = page("?page=999".into()).await;
    assert!(html.contains("page 2 of 2"));
}

pub(crate) async fn names_are_shown_to_district_and_provider_never_to_auditors(app: WebApp) {
    let me = app.ids.mesa_enrolled.clone();
    let name = app
        .store
        .student_names(MESA_DISTRICT, Some(&[me.as_str()]))
        .await
        .unwrap()
        .remove(&me)
        .expect("a name");
    let first_name = name.split(' ').next().unwrap().to_string();
    for who in [Who::Admin, Who::Mesa, Who::Brightpath, Who::Auditor] {
        let s = app.login(who).await;
        let by_id = app
            .send(s.with_cookie(Req::get(&format!("{}?q={me}", final_page()))))
            .await
            .text();
        assert_eq!(listed(&by_id), [me.as_str()], "{}", who.label());
        let by_name = app
            .send(s.with_cookie(Req::get(&format!(
                "{}?q={first_name}&sort=name",
                final_page()
            ))))
            .await;
        assert_eq!(by_name.status, StatusCode::OK);
        let by_name = by_name.text();
        let sees = who != Who::Auditor;
        assert_eq!(
            by_id.contains(&html_escape(&name)),
            sees,
            "{} and {me}'s name",
            who.label()
        );
        assert_eq!(
            listed(&by_name).contains(&me),
            sees,
            "{}: a search by name finds {me} only for those who see names",
            who.label()
        );
        let explanation = app
            .send(s.with_cookie(Req::get(&format!("{}/students/{me}", final_page()))))
            .await
            .text();
        assert_eq!(explanation.contains(&html_escape(&name)), sees);
    }
    // Another district's staff and provider: the statement is not theirs.
    for who in [Who::District, Who::Provider] {
        let s = app.login(who).await;
        let r = app
            .send(s.with_cookie(Req::get(&format!("{}?q={first_name}", final_page()))))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", who.label());
        assert!(!r.text().contains(&html_escape(&name)));
    }
}

pub(crate) async fn a_students_explanation_is_what_obc_explain_prints(app: WebApp) {
    let me = app.ids.mesa_enrolled.clone();
    let cli = app.cli(&[
        "explain",
        "--contract",
        MESA_CONTRACT,
        "--student",
        &me,
        "--milestone",
        "final",
    ]);
    assert!(
        cli.contains("attendance_rate") && cli.contains("4. Amounts"),
        "{cli}"
    );
    let s = app.login(Who::Brightpath).await;
    let r = app
        .send(s.with_cookie(Req::get(&format!("{}/students/{me}", final_page()))))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(
        html.contains(&format!(
            "<pre class=\"explanation\">{}</pre>",
            html_escape(&cli)
        )),
        "{html}"
    );
    // The statement's row links to it.
    let table = app
        .send(s.with_cookie(Req::get(&format!("{}?q={me}", final_page()))))
        .await
        .text();
    assert!(table.contains(&format!(
        "href=\"{}/students/{me}\">Full explanation",
        final_page()
    )));
    // A student with no line on the statement: 404.
    let unenrolled = app.ids.mesa_unenrolled.clone();
    let r = app
        .send(s.with_cookie(Req::get(&format!("{}/students/{unenrolled}", final_page()))))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

pub(crate) async fn paid_so_far_is_current_after_a_finalization(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    let midyear = format!("/contracts/{MESA_CONTRACT}/statements/midyear");
    let paid = |html: &str| {
        let label = "Paid on earlier statements</th><td class=\"num\">";
        let at = html.find(label).expect("paid on earlier statements") + label.len();
        html[at..at + html[at..].find('<').unwrap()].to_string()
    };
    let before = app.send(admin.with_cookie(Req::get(&midyear))).await.text();
    assert_eq!(paid(&before), "$0.00");
    let enrollment = format!("/contracts/{MESA_CONTRACT}/statements/enrollment");
    let confirm = app
        .send(admin.with_cookie(Req::get(&format!("{enrollment}/finalize"))))
        .await
        .text();
    let amount_at = confirm.find("<h1>Finalize ").unwrap() + "<h1>Finalize ".len();
    let amount =
        confirm[amount_at..amount_at + confirm[amount_at..].find(' ').unwrap()].to_string();
    let r = app
        .send(
            admin.with_cookie(
                Req::post(&format!("{enrollment}/finalize"))
                    .form(&[("csrf", &admin.csrf), ("confirm", "yes")]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.excerpt());
    let after = app.send(admin.with_cookie(Req::get(&midyear))).await.text();
    assert_eq!(
        paid(&after),
        amount,
        "the midyear draft counts the finalized enrollment"
    );
    assert!(
        after.contains("was paid on earlier statements"),
        "said in words"
    );
}

/// A statement's JSON from `obc statement`.
fn statement_json(app: &WebApp, contract: &str) -> serde_json::Value {
    let json = app.cli(&[
        "statement",
        "--contract",
        contract,
        "--milestone",
        "final",
        "--format",
        "json",
    ]);
    serde_json::from_str(&json).expect("the statement's JSON")
}

/// An amount of a statement's JSON as the printout writes it.
fn dollars(statement: &serde_json::Value, pointer: &str) -> String {
    let amount: rust_decimal::Decimal = statement
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in the statement"))
        .parse()
        .expect("an amount");
    obc_core::money::format_dollars(amount)
}

/// A printout's section (`<section class="NAME">`), empty when it has none.
fn section<'h>(html: &'h str, name: &str) -> &'h str {
    let Some(at) = html.find(&format!("<section class=\"{name}\"")) else {
        return "";
    };
    &html[at..at + html[at..].find("</section>").expect("the section ends")]
}

/// The first cells of a section's rows, in order.
fn first_cells(section: &str) -> Vec<String> {
    section
        .split("<tr><td>")
        .skip(1)
        .map(|row| row[..row.find("</td>").expect("a cell")].to_string())
        .collect()
}

/// The amounts of a section's row whose header cell is `label`.
fn row_cells(section: &str, label: &str) -> Vec<String> {
    let at = section
        .find(&format!(">{label}</th>"))
        .unwrap_or_else(|| panic!("a row {label} in {section}"));
    let row = &section[at..at + section[at..].find("</tr>").expect("the row ends")];
    row.split("<td class=\"num\">")
        .skip(1)
        .map(|cell| cell[..cell.find("</td>").expect("a cell")].to_string())
        .collect()
}

pub(crate) async fn the_printout_lists_schools_above_its_cap_and_one_schools_students(app: WebApp) {
    let admin = app.login(Who::Admin).await;
    let get = |path: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let r = app.send(admin.with_cookie(Req::get(&path))).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.excerpt());
            let html = r.text();
            assert!(html.len() < 1_000_000, "{path}: {} bytes", html.len());
            html
        }
    };

    // The demo's 600 students print whole, after the amounts by school.
    let demo = statement_json(&app, DEMO_CONTRACT);
    let html = get(format!("/contracts/{DEMO_CONTRACT}/statements/final/print")).await;
    let students: Vec<&str> = demo["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["student_id"].as_str().unwrap())
        .collect();
    assert!(students.len() > 500, "{} students", students.len());
    assert_eq!(first_cells(section(&html, "students-page")), students);
    assert!(
        html.contains("Amounts by school (4 schools)"),
        "the demo's 4 schools"
    );
    assert_eq!(
        row_cells(section(&html, "schools-page"), "All schools")[3],
        dollars(&demo, "/totals/lines_total")
    );

    // A state's statement above the cap: its schools, no student.
    let data = app.obc.path("state");
    let data = data.to_str().unwrap();
    app.cli(&["demo", "--students", "2500", "--export", data]);
    let contract = "state-math-2025";
    for args in [
        vec!["import", "roster", &format!("{data}/roster")],
        vec![
            "import",
            "assessments",
            &format!("{data}/AssessmentResults.csv"),
            "--district",
            "state-district",
        ],
        vec!["contract", "add", &format!("{data}/contract.toml")],
        vec![
            "enroll",
            "--contract",
            contract,
            &format!("{data}/enrollment.csv"),
        ],
        vec![
            "import",
            "sessions",
            &format!("{data}/sessions.csv"),
            "--provider",
            "state-tutoring",
        ],
    ] {
        app.cli(&args);
    }
    let state = statement_json(&app, contract);
    let lines = state["lines"].as_array().unwrap();
    assert!(lines.len() > obc_web::statements::PRINT_ALL_MAX);
    let print = format!("/contracts/{contract}/statements/final/print");
    let html = get(print.clone()).await;
    assert!(
        section(&html, "students-page").is_empty(),
        "no student rows"
    );
    assert!(html.contains(&format!("This statement has {} student lines", lines.len())));
    assert!(html.contains(&format!(
        "href=\"/contracts/{contract}/statements/final/download?format=csv\""
    )));
    let schools_page = section(&html, "schools-page");
    let all = row_cells(schools_page, "All schools");
    assert_eq!(all[0], lines.len().to_string());
    assert_eq!(all[1], dollars(&state, "/totals/base"));
    assert_eq!(all[2], dollars(&state, "/totals/contingent"));
    assert_eq!(all[3], dollars(&state, "/totals/lines_total"));
    assert_eq!(
        row_cells(
            schools_page,
            "<strong>Amount due on this statement</strong>"
        )[0],
        format!(
            "<strong>{}</strong>",
            dollars(&state, "/totals/statement_total")
        )
    );

    // Each school's printout: exactly its students, in the statement's order.
    let mut schools: Vec<&str> = lines
        .iter()
        .map(|l| l["school_id"].as_str().unwrap())
        .collect();
    schools.dedup();
    schools.sort_unstable();
    schools.dedup();
    assert!(schools.len() > 1, "{schools:?}");
    for &school in &schools {
        let link = format!("{print}?school={school}");
        assert!(
            html.contains(&format!("href=\"{link}\"")),
            "a link to {link}"
        );
        let page = get(link).await;
        let expected: Vec<&str> = lines
            .iter()
            .filter(|l| l["school_id"] == school)
            .map(|l| l["student_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            first_cells(section(&page, "students-page")),
            expected,
            "{school}"
        );
        assert!(!page.contains("Amounts by school"), "{school}");
    }

    // As of a date, the links keep it; an unknown school is not found.
    let as_of = "as_of=2025-06-01";
    let html = get(format!("{print}?{as_of}")).await;
    let link = format!("{print}?school={}&{as_of}", schools[0]);
    assert!(
        html.contains(&format!("href=\"{}\"", html_escape(&link))),
        "{link}"
    );
    let page = get(link).await;
    assert!(page.contains("<th scope=\"row\">Statement date</th><td>2025-06-01</td>"));
    let r = app
        .send(admin.with_cookie(Req::get(&format!("{print}?school=no-such-school"))))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("No student of school no-such-school"));
}

/// Every test above as a `#[tokio::test]` on the app `$app` makes, like `web_http::web_tests`.
macro_rules! statement_tests {
    ($app:path) => {
        $crate::web_statements::statement_tests!(@ $app; the_students_table_searches_filters_sorts_and_pages, names_are_shown_to_district_and_provider_never_to_auditors, a_students_explanation_is_what_obc_explain_prints, paid_so_far_is_current_after_a_finalization, the_printout_lists_schools_above_its_cap_and_one_schools_students);
    };
    (@ $app:path; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                if let Some(app) = $app().await {
                    $crate::web_statements::$name(app).await;
                }
            }
        )*
    };
}
pub(crate) use statement_tests;

mod on_sqlite {
    async fn app() -> Option<crate::web_support::WebApp> {
        Some(crate::web_support::WebApp::new().await)
    }

    crate::web_statements::statement_tests!(app);
}
