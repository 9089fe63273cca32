//! HTTP tests of progress monitoring and continuous-improvement meetings in the web app (issue 6):
//! the progress page, the meetings list with its cadence flag, one meeting's agenda and minutes,
//! their forms and JSON twins. Requests go to the real router in-process, on a copy of the
//! fixture of `web_support` (the demo district and dist-mesa, a login per role). Most tests use
//! dist-mesa's contract: its district staff (`Who::Mesa`) and provider staff
//! (`Who::Brightpath`) are the insiders, the demo district's staff the outsiders.

use crate::web_http::api_post;
use crate::web_support::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// A date inside the contracts' period, after the Winter tests.
const AS_OF: &str = "2025-02-03";

/// A form POST with the session's cookie and CSRF token.
fn form(s: &Session, path: &str, fields: &[(&str, &str)]) -> Req {
    let mut all = vec![("csrf", s.csrf.as_str())];
    all.extend_from_slice(fields);
    s.with_cookie(Req::post(path).form(&all))
}

/// A JSON API POST with the session's cookie and its X-CSRF-Token.
fn api_json(s: &Session, path: &str, body: &Value) -> Req {
    s.with_cookie(api_post(
        s,
        path,
        "application/json",
        body.to_string().as_bytes(),
    ))
}

/// A JSON API POST with the user's API token (no cookie, no CSRF token).
fn bearer_json(s: &Session, path: &str, body: &Value) -> Req {
    s.with_token(Req::post(path).body("application/json", body.to_string().as_bytes()))
}

/// GET a page that must render.
async fn page(app: &WebApp, s: &Session, path: &str) -> String {
    let r = app.send(s.with_cookie(Req::get(path))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "GET {path} as {}: {}",
        s.who.label(),
        r.excerpt()
    );
    r.text()
}

/// GET an API document that must answer 200.
async fn api(app: &WebApp, s: &Session, path: &str) -> Value {
    let r = app.send(s.with_token(Req::get(path))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "GET {path} as {}: {}",
        s.who.label(),
        r.excerpt()
    );
    r.json()
}

/// Opens a meeting through the form; returns its id.
async fn open_meeting(
    app: &WebApp,
    s: &Session,
    contract: &str,
    date: &str,
    attendees: &str,
) -> i64 {
    let r = app
        .send(form(
            s,
            &format!("/contracts/{contract}/meetings"),
            &[("date", date), ("attendees", attendees)],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "open: {}", r.excerpt());
    r.location()
        .and_then(|l| l.strip_prefix("/meetings/"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("redirect to the meeting, got {:?}", r.location()))
}

/// Posts a form that must succeed (303 back to the meeting).
async fn post_ok(app: &WebApp, s: &Session, path: &str, fields: &[(&str, &str)]) {
    let r = app.send(form(s, path, fields)).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "POST {path} as {}: {}",
        s.who.label(),
        r.excerpt()
    );
}

/// The id of the action item with this text, from the meeting's JSON.
fn item_id(view: &Value, text: &str) -> i64 {
    view["new_items"]
        .as_array()
        .expect("new_items")
        .iter()
        .chain(view["carried_items"].as_array().expect("carried_items"))
        .find(|i| i["text"] == text)
        .and_then(|i| i["id"].as_i64())
        .unwrap_or_else(|| panic!("no action item {text:?} in {view}"))
}

/// An amount as the pages show it (`$1,234.56`), from the CLI's `1234.56`.
fn dollars(plain: &str) -> String {
    obc_core::money::format_dollars(plain.parse().expect("an amount"))
}

/// The baseline contract's period end (`examples/baseline_seed7/contract.toml`), long past:
/// the contract's current date.
const PERIOD_END: &str = "2025-05-30";

/// The students of the first table with an id attribute `table`, by the row headers' text.
fn row_ids(html: &str, table: &str) -> Vec<String> {
    let Some(start) = html.find(&format!("<table id=\"{table}\">")) else {
        return Vec::new();
    };
    let body = &html[start..start + html[start..].find("</table>").expect("table end")];
    body.split("<th scope=\"row\">")
        .skip(1)
        .map(|cell| {
            let cell = &cell[..cell.find("</th>").expect("cell end")];
            // A linked id: `<a href="...">ID</a>`.
            let text = cell
                .rsplit('>')
                .nth(1)
                .map_or(cell, |t| t.trim_end_matches("</a"));
            if cell.starts_with("<a ") { text } else { cell }.to_string()
        })
        .collect()
}

/// The count in a list heading: `<h2 id="students">Students ... (N)</h2>`.
fn heading_count(html: &str, id: &str) -> usize {
    let start = html
        .find(&format!("<h2 id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no heading {id}"));
    let h = &html[start..start + html[start..].find("</h2>").expect("heading end")];
    h[h.rfind('(').expect("(") + 1..h.rfind(')').expect(")")]
        .parse()
        .expect("a count")
}

pub(crate) async fn the_students_list_pages_searches_filters_and_sorts(app: WebApp) {
    let cli: Value = serde_json::from_str(&app.cli(&[
        "progress",
        "--contract",
        MESA_CONTRACT,
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]))
    .expect("obc progress --format json");
    let students = cli["students"].as_array().expect("students");
    let base = format!("/contracts/{MESA_CONTRACT}/students?as_of={AS_OF}");
    let admin = app.login(Who::Admin).await;
    let html = page(&app, &admin, &base).await;
    assert!(html.contains(&format!(
        "<h1>Students of {MESA_CONTRACT} as of {AS_OF}</h1>"
    )));
    assert_eq!(heading_count(&html, "students"), students.len());
    let ids = row_ids(&html, "students-table");
    assert_eq!(ids.len(), students.len().min(100));
    // The contract page links the list.
    let contract = page(&app, &admin, &format!("/contracts/{MESA_CONTRACT}")).await;
    assert!(contract.contains(&format!(
        "<a href=\"/contracts/{MESA_CONTRACT}/students\">Students</a>"
    )));

    // Sorting by student, both ways.
    let mut all: Vec<String> = students
        .iter()
        .map(|s| s["student_id"].as_str().expect("id").to_string())
        .collect();
    all.sort_by_key(|id| id.to_lowercase());
    let up = row_ids(
        &page(&app, &admin, &format!("{base}&sort=student&dir=asc")).await,
        "students-table",
    );
    assert_eq!(up[0], all[0]);
    let down = row_ids(
        &page(&app, &admin, &format!("{base}&sort=student&dir=desc")).await,
        "students-table",
    );
    assert_eq!(&down[0], all.last().expect("a student"));
    // A numeric column sorts by number: the most at risk first on the progress page.
    let most = students
        .iter()
        .map(|s| {
            s["at_risk"]
                .as_str()
                .expect("at_risk")
                .parse::<rust_decimal::Decimal>()
                .expect("amount")
        })
        .max()
        .expect("a student");
    let html = page(
        &app,
        &admin,
        &format!("/contracts/{MESA_CONTRACT}/progress?as_of={AS_OF}&sort=at_risk&dir=desc"),
    )
    .await;
    let table = &html[html.find("<table id=\"students-table\">").expect("table")..];
    let body = &table[table.find("<tbody>").expect("body")..];
    let first_row = &body[..body.find("</tr>").expect("row")];
    assert!(
        first_row.ends_with(&format!("{}</td>", obc_core::money::format_dollars(most))),
        "{first_row}"
    );

    // Filtering by school, factor and status counts what the CLI counts.
    let school = students[0]["school_id"].as_str().expect("school");
    let expected = students
        .iter()
        .filter(|s| s["school_id"] == school && s["outcome"]["status"] == "off_track")
        .count();
    let html = page(
        &app,
        &admin,
        &format!("{base}&school={school}&factor=outcome&status=off_track"),
    )
    .await;
    assert_eq!(heading_count(&html, "students"), expected);
    assert!(html.contains(&format!("<option value=\"{school}\" selected>")));
    for bad in ["factor=nope", "status=nope", "measure_from=x"] {
        let r = app
            .send(admin.with_cookie(Req::get(&format!("{base}&{bad}"))))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Paging: at most 100 rows a page, the next page starts where the first ended.
    if students.len() > 100 {
        let second = row_ids(
            &page(&app, &admin, &format!("{base}&sort=student&dir=asc&page=2")).await,
            "students-table",
        );
        assert_eq!(second[0], all[100]);
    }

    // Search by id, and by name for those who may see names.
    let student = app.ids.mesa_enrolled.clone();
    let record = page(
        &app,
        &admin,
        &format!("/students/{MESA_DISTRICT}/{student}"),
    )
    .await;
    let h1 = &record[record.find("<h1>").expect("h1") + 4..record.find("</h1>").expect("h1 end")];
    let name = h1.split_once(": ").expect("Student ID: NAME").1.to_string();
    let found = row_ids(
        &page(&app, &admin, &format!("{base}&q={student}")).await,
        "students-table",
    );
    assert!(found.contains(&student), "{found:?}");
    let by_name = format!("{base}&q={}", name.replace(' ', "+"));
    for who in [Who::Admin, Who::Mesa, Who::Brightpath, Who::Auditor] {
        let s = app.login(who).await;
        let html = page(&app, &s, &by_name).await;
        let found = row_ids(&html, "students-table");
        let sees_names = who != Who::Auditor;
        assert_eq!(
            found.contains(&student),
            sees_names,
            "{}: {found:?}",
            who.label()
        );
        assert_eq!(
            html.contains(&format!("<td>{name}</td>")),
            sees_names,
            "{}",
            who.label()
        );
        assert_eq!(
            html.contains(">Name</a></th>"),
            sees_names,
            "{}",
            who.label()
        );
        if who == Who::Brightpath {
            for word in DEMOGRAPHICS {
                assert!(!html.contains(word), "{word}");
            }
        }
    }
    // Outside the scope: 404.
    for who in [Who::District, Who::Provider] {
        let s = app.login(who).await;
        let r = app.send(s.with_cookie(Req::get(&base))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", who.label());
    }
}

pub(crate) async fn progress_and_meetings_default_to_the_contract_current_date(app: WebApp) {
    let mesa = app.login(Who::Mesa).await;
    let html = page(&app, &mesa, &format!("/contracts/{MESA_CONTRACT}/progress")).await;
    assert!(
        html.contains(&format!(
            "<h1>Progress of {MESA_CONTRACT} as of {PERIOD_END}</h1>"
        )),
        "the period ended: its end, not today"
    );
    let json = api(
        &app,
        &mesa,
        &format!("/api/contracts/{MESA_CONTRACT}/progress"),
    )
    .await;
    assert_eq!(json["as_of"], PERIOD_END);
    let list = api(
        &app,
        &mesa,
        &format!("/api/contracts/{MESA_CONTRACT}/meetings"),
    )
    .await;
    assert_eq!(list["cadence"]["as_of"], PERIOD_END);
    if let Some(next) = list["cadence"]["next_due"].as_str() {
        assert!(next >= PERIOD_END, "next due {next} in the past");
    }
    let html = page(&app, &mesa, &format!("/contracts/{MESA_CONTRACT}/meetings")).await;
    assert!(html.contains(&format!("name=\"date\" value=\"{PERIOD_END}\"")));
    // A meeting opened without a date is held on the current date; its action form's due
    // date is a cadence later, so a new item is not born overdue.
    let id = open_meeting(&app, &mesa, MESA_CONTRACT, "", "").await;
    let view = api(&app, &mesa, &format!("/api/meetings/{id}")).await;
    assert_eq!(view["meeting"]["held_on"], PERIOD_END);
    let html = page(&app, &mesa, &format!("/meetings/{id}")).await;
    let due = html
        .split("id=\"action-due\" name=\"due\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a default due date")
        .to_string();
    assert!(due.as_str() > PERIOD_END, "{due}");
    post_ok(
        &app,
        &mesa,
        &format!("/meetings/{id}/actions"),
        &[
            ("owner", "district"),
            ("due", &due),
            ("text", "Born on time"),
        ],
    )
    .await;
    let html = page(&app, &mesa, &format!("/meetings/{id}")).await;
    let row = html
        .split("<tr id=\"item-")
        .map(|r| &r[..r.find("</tr>").unwrap_or(r.len())])
        .find(|r| r.contains("Born on time"))
        .expect("the new item");
    assert!(!row.contains("overdue"), "{row}");
    // The note form is near the top, not below the agenda, and takes a student id.
    let form = html.find("action=\"/meetings/").expect("a form");
    let agenda = html.find("<h2 id=\"off-track\">").expect("the agenda");
    assert!(form < agenda);
    assert!(html.contains("<input type=\"text\" id=\"note-student\" name=\"student\""));
    assert!(!html.contains("<select id=\"note-student\""));
}

const DEMOGRAPHICS: [&str; 5] = [
    "english_learner",
    "disability",
    "economically_disadvantaged",
    "hispanic",
    "flags",
];

pub(crate) async fn progress_pages_for_every_role_equal_the_cli(app: WebApp) {
    let cli: Value = serde_json::from_str(&app.cli(&[
        "progress",
        "--contract",
        MESA_CONTRACT,
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]))
    .expect("obc progress --format json");
    let at_risk = dollars(cli["totals"]["at_risk"].as_str().expect("at_risk"));
    let students = cli["students"].as_array().expect("students").len();
    let off_track = cli["totals"]["off_track_any"]
        .as_u64()
        .expect("off_track_any") as usize;
    assert!(
        students > 0 && off_track > 0 && off_track < students,
        "{}",
        cli["totals"]
    );
    let path = format!("/contracts/{MESA_CONTRACT}/progress?as_of={AS_OF}");
    let api_path = format!("/api{path}");
    for who in [Who::Admin, Who::Mesa, Who::Brightpath, Who::Auditor] {
        let s = app.login(who).await;
        let html = page(&app, &s, &path).await;
        assert!(html.contains(&format!(
            "<h1>Progress of {MESA_CONTRACT} as of {AS_OF}</h1>"
        )));
        assert!(html.contains("<h2>Off track by school and factor</h2>"));
        assert!(html.contains(">All schools</a></th>"));
        assert!(
            html.contains(&format!("<strong>{at_risk}</strong>")),
            "{at_risk}"
        );
        assert!(html.contains(&format!("<h2 id=\"students\">Students ({students})</h2>")));
        for field in ["as_of", "q", "school", "factor", "status"] {
            assert!(
                html.contains(&format!("<label for=\"{field}\">")),
                "{field}"
            );
        }
        // Student pages are linked for those who may open them (not auditors).
        assert_eq!(
            html.contains(&format!("href=\"/students/{MESA_DISTRICT}/")),
            who != Who::Auditor,
            "{}",
            who.label()
        );
        // The API is the same computation as `obc progress`, to the byte.
        let json = api(&app, &s, &api_path).await;
        assert_eq!(json, cli, "API and CLI progress as {}", who.label());
        if who == Who::Brightpath {
            for word in DEMOGRAPHICS {
                assert!(
                    !html.contains(word) && !json.to_string().contains(word),
                    "{word}"
                );
            }
        }
        // Only the students off track, the counts still over all.
        let html = page(&app, &s, &format!("{path}&off_track=1")).await;
        assert!(html.contains(&format!(
            "<h2 id=\"students\">Students off track on a factor ({off_track})</h2>"
        )));
        assert!(html.contains(&format!("<strong>{at_risk}</strong>")));
        assert!(
            html.contains("<option value=\"off_track\" selected>"),
            "the filter stays chosen"
        );
        let json = api(&app, &s, &format!("{api_path}&off_track=1")).await;
        assert_eq!(json["students"].as_array().map(Vec::len), Some(off_track));
        assert_eq!(json["totals"], cli["totals"]);
    }
    // Outside the scope: 404, exactly like a contract that does not exist.
    for who in [Who::District, Who::Provider] {
        let s = app.login(who).await;
        for p in [&path, &api_path] {
            let r = app.send(s.with_cookie(Req::get(p))).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{p} as {}", who.label());
        }
    }
    let admin = app.login(Who::Admin).await;
    let r = app
        .send(admin.with_cookie(Req::get(&format!(
            "/contracts/{MESA_CONTRACT}/progress?as_of=soon"
        ))))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("as-of date soon: expected a date"),
        "{}",
        r.excerpt()
    );
    let r = app
        .send(admin.with_token(Req::get("/api/contracts/no-such-contract/progress")))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].is_string());
}

pub(crate) async fn a_meeting_is_opened_noted_and_its_items_closed_and_the_pages_show_it(
    app: WebApp,
) {
    let mesa = app.login(Who::Mesa).await;
    let bright = app.login(Who::Brightpath).await;
    let admin = app.login(Who::Admin).await;
    let student = app.ids.mesa_enrolled.clone();
    let meetings_path = format!("/contracts/{MESA_CONTRACT}/meetings");

    let html = page(&app, &mesa, &meetings_path).await;
    assert!(html.contains(&format!("<h1>Meetings of {MESA_CONTRACT}</h1>")));
    assert!(html.contains("No meeting yet."));
    assert!(html.contains(&format!("action=\"{meetings_path}\"")));
    for label in ["for=\"date\"", "for=\"attendees\""] {
        assert!(html.contains(label), "{label}");
    }

    // 1. Open the first meeting with two attendees.
    let first = open_meeting(
        &app,
        &mesa,
        MESA_CONTRACT,
        "2024-10-01",
        "district: Ana Ruiz\r\nprovider: Bo Lee\r\n",
    )
    .await;
    let m = format!("/meetings/{first}");
    let html = page(&app, &mesa, &m).await;
    assert!(html.contains(&format!("Meeting {first} of {MESA_CONTRACT}, 2024-10-01")));
    assert!(
        html.contains("<li>Ana Ruiz (district)</li>")
            && html.contains("<li>Bo Lee (provider)</li>")
    );
    assert!(html.contains("1. Off track, by school and factor"));
    assert!(html.contains("the contract's first meeting: nothing to compare with"));
    assert!(
        html.contains("No notes yet.") && html.contains("5. Action items from this meeting (0)")
    );
    // The agenda is the progress at the meeting's date.
    let view = api(&app, &mesa, &format!("/api{m}")).await;
    let progress = api(
        &app,
        &mesa,
        &format!("/api/contracts/{MESA_CONTRACT}/progress?as_of=2024-10-01"),
    )
    .await;
    assert_eq!(
        view["snapshot"]["rows"].as_array().map(Vec::len),
        progress["students"].as_array().map(Vec::len)
    );

    // 2. Notes, an attendee and action items, by both sides.
    post_ok(
        &app,
        &mesa,
        &format!("{m}/notes"),
        &[
            ("student", &student),
            ("text", "Family asked for Monday sessions only"),
            ("district_only", "1"),
        ],
    )
    .await;
    post_ok(
        &app,
        &bright,
        &format!("{m}/notes"),
        &[("student", ""), ("text", "Tutors rotate in October")],
    )
    .await;
    post_ok(
        &app,
        &bright,
        &format!("{m}/attendees"),
        &[("name", "Cy Tutor"), ("side", "provider")],
    )
    .await;
    post_ok(
        &app,
        &mesa,
        &format!("{m}/actions"),
        &[
            ("owner", "district"),
            ("due", "2024-10-15"),
            ("student", &student),
            ("text", "Release from 2nd period"),
        ],
    )
    .await;
    post_ok(
        &app,
        &bright,
        &format!("{m}/actions"),
        &[
            ("owner", "provider"),
            ("due", "2024-10-20"),
            ("student", ""),
            ("text", "Keep one tutor per student"),
        ],
    )
    .await;
    let view = api(&app, &mesa, &format!("/api{m}")).await;
    let release = item_id(&view, "Release from 2nd period");
    let keep = item_id(&view, "Keep one tutor per student");
    let html = page(&app, &mesa, &m).await;
    assert!(html.contains("<li>Cy Tutor (provider)</li>"));
    assert!(html.contains("4. Notes (2)"));
    assert!(html.contains(&format!("<td>student {student}</td><td><strong>district-only</strong></td><td>Family asked for Monday sessions only</td>")));
    assert!(html.contains("<td>the meeting</td><td>shared</td><td>Tutors rotate in October</td>"));
    assert!(html.contains("5. Action items from this meeting (2)"));
    assert!(html.contains(&format!("<tr id=\"item-{release}\"><th scope=\"row\">#{release}</th><td>district</td><td>2024-10-15 <strong class=\"error\">overdue</strong></td><td>{student}</td><td>Release from 2nd period</td><td><strong>open</strong>")));
    assert!(html.contains(&format!("Close item #{release}")));
    assert!(html.contains(&format!("<label for=\"item-{release}-status\">")));

    // 3. The provider closes one item; it shows as done, with the note, and can be reopened.
    post_ok(
        &app,
        &bright,
        &format!("{m}/actions/{keep}/status"),
        &[("status", "done"), ("note", "assigned fixed tutors")],
    )
    .await;
    let html = page(&app, &mesa, &m).await;
    assert!(html.contains("<strong>done</strong><br><span class=\"muted\">by brightpath at "));
    assert!(html.contains(": assigned fixed tutors</span>"));
    assert!(html.contains(&format!("Reopen item #{keep}")));
    let r = app
        .send(form(
            &mesa,
            &format!("{m}/actions/{keep}/status"),
            &[("status", "done")],
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "already done: {}",
        r.excerpt()
    );

    // 4. A second meeting, through the API: changes since the first, the open item carried.
    let r = app
        .send(api_json(
            &admin,
            &format!("/api{meetings_path}"),
            &json!({"date": AS_OF, "attendees": [{"name": "Ana Ruiz", "side": "district"}]}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.excerpt());
    let second_view = r.json();
    let second = second_view["meeting"]["id"]
        .as_i64()
        .expect("the meeting id");
    assert_eq!(second_view["previous_meeting"], first);
    assert_eq!(second_view["changes"]["since"], "2024-10-01");
    let carried: Vec<i64> = second_view["carried_items"]
        .as_array()
        .expect("carried")
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert_eq!(
        carried,
        vec![release],
        "only the item still open is carried"
    );
    let html = page(&app, &bright, &format!("/meetings/{second}")).await;
    assert!(html.contains(&format!(
        "Since <a href=\"/meetings/{first}\">meeting {first}</a> (2024-10-01):"
    )));
    let newly = second_view["changes"]["newly_off_track"]
        .as_array()
        .expect("newly")
        .len();
    assert!(html.contains(&format!("{newly} newly off track")));
    assert!(html.contains("3. Action items open when the meeting opened (1)"));
    assert!(html.contains(&format!("<tr id=\"item-{release}\">")));
    assert!(html.contains("<li>Ana Ruiz (district)</li>"));
    // Closing the carried item from the second meeting; reopening the first one's.
    post_ok(
        &app,
        &mesa,
        &format!("/meetings/{second}/actions/{release}/status"),
        &[("status", "dropped"), ("note", "schedule changed")],
    )
    .await;
    post_ok(
        &app,
        &mesa,
        &format!("{m}/actions/{keep}/status"),
        &[("status", "open"), ("note", "tutor left")],
    )
    .await;
    let html = page(&app, &mesa, &format!("/meetings/{second}")).await;
    assert!(
        html.contains("<strong>dropped</strong>") && html.contains(": schedule changed</span>")
    );

    // 5. The list: both meetings, the item open again, the cadence.
    let html = page(&app, &bright, &meetings_path).await;
    assert!(html.contains("<h2>Meetings (2)</h2>"));
    for id in [first, second] {
        assert!(html.contains(&format!("<a href=\"/meetings/{id}\">Meeting {id}</a>")));
    }
    assert!(html.contains("<h2 id=\"items\">Open action items (1)</h2>"));
    assert!(html.contains("Keep one tutor per student"));
    assert!(!html.contains("Release from 2nd period"));
    let list = api(
        &app,
        &bright,
        &format!("/api{meetings_path}?as_of=2025-02-10"),
    )
    .await;
    assert_eq!(list["meetings"].as_array().map(Vec::len), Some(2));
    assert_eq!(list["cadence"]["last_meeting"], AS_OF);
    assert_eq!(list["cadence"]["next_due"], "2025-02-17");
    assert_eq!(list["cadence"]["overdue"], false);

    // 6. Refused input says why, and records nothing.
    let r = app
        .send(form(&mesa, &meetings_path, &[("date", "2024-10-01")]))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "one meeting a day: {}",
        r.excerpt()
    );
    for (path, fields, why) in [
        (
            meetings_path.clone(),
            vec![("date", "next week")],
            "meeting date next week: expected a date",
        ),
        (
            meetings_path.clone(),
            vec![("date", "9999-12-27")],
            "meeting date 9999-12-27: expected a date between 1900-01-01 and 2200-12-31",
        ),
        (
            format!("{m}/actions"),
            vec![("owner", "district"), ("due", "9999-01-01"), ("text", "x")],
            "due date 9999-01-01: expected a date between 1900-01-01 and 2200-12-31",
        ),
        (
            meetings_path.clone(),
            vec![("date", "2024-11-01"), ("attendees", "Ana Ruiz")],
            "expected SIDE:NAME",
        ),
        (
            format!("{m}/notes"),
            vec![("text", "  ")],
            "the note is empty",
        ),
        (
            format!("{m}/actions"),
            vec![("owner", "nobody"), ("due", "2024-10-15"), ("text", "x")],
            "owner nobody",
        ),
        (
            format!("{m}/actions"),
            vec![("owner", "district"), ("due", ""), ("text", "x")],
            "due date",
        ),
        (
            format!("{m}/attendees"),
            vec![("name", "Dee"), ("side", "parent")],
            "side parent",
        ),
    ] {
        let r = app.send(form(&mesa, &path, &fields)).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{path} {fields:?}: {}",
            r.excerpt()
        );
        assert!(r.text().contains(why), "{why}: {}", r.excerpt());
    }
    let r = app
        .send(form(
            &mesa,
            &format!("{m}/notes"),
            &[("student", "no-such-student"), ("text", "x")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.excerpt());
    let list = api(&app, &admin, &format!("/api{meetings_path}")).await;
    assert_eq!(list["meetings"].as_array().map(Vec::len), Some(2));

    // 7. Every change is in the audit log under the user who made it.
    let actions = |rows: Vec<(String, String, String)>| {
        rows.into_iter().map(|(a, _, _)| a).collect::<Vec<_>>()
    };
    let by_mesa = actions(app.audit_actions("mesa").await);
    for a in [
        "meeting.open",
        "meeting.attendee",
        "meeting.note",
        "meeting.action",
        "meeting.action.status",
    ] {
        assert!(by_mesa.iter().any(|x| x == a), "mesa {a}: {by_mesa:?}");
    }
    let by_bright = actions(app.audit_actions("brightpath").await);
    for a in [
        "meeting.note",
        "meeting.attendee",
        "meeting.action",
        "meeting.action.status",
    ] {
        assert!(
            by_bright.iter().any(|x| x == a),
            "brightpath {a}: {by_bright:?}"
        );
    }
    assert!(actions(app.audit_actions("admin").await)
        .iter()
        .any(|a| a == "meeting.open"));
    // The CLI sees what the web recorded.
    let shown = app.cli(&["meeting", "show", "--meeting", &second.to_string()]);
    assert!(shown.contains("schedule changed"), "{shown}");
}

pub(crate) async fn providers_never_see_district_only_notes_nor_other_contracts_meetings(
    app: WebApp,
) {
    let mesa = app.login(Who::Mesa).await;
    let id = open_meeting(&app, &mesa, MESA_CONTRACT, AS_OF, "").await;
    let m = format!("/meetings/{id}");
    post_ok(
        &app,
        &mesa,
        &format!("{m}/notes"),
        &[
            ("text", "SECRET district-only remark"),
            ("district_only", "on"),
        ],
    )
    .await;
    post_ok(
        &app,
        &mesa,
        &format!("{m}/notes"),
        &[("text", "Shared with the provider")],
    )
    .await;
    post_ok(
        &app,
        &mesa,
        &format!("{m}/actions"),
        &[
            ("owner", "provider"),
            ("due", "2025-02-20"),
            ("text", "Call the families"),
        ],
    )
    .await;
    let item = item_id(
        &api(&app, &mesa, &format!("/api{m}")).await,
        "Call the families",
    );

    // Who sees the district-only note: the district and the intermediary only.
    for who in [Who::Admin, Who::Mesa, Who::Brightpath, Who::Auditor] {
        let s = app.login(who).await;
        let html = page(&app, &s, &m).await;
        let json = api(&app, &s, &format!("/api{m}")).await;
        let sees = matches!(who, Who::Admin | Who::Mesa);
        assert_eq!(html.contains("SECRET"), sees, "page as {}", who.label());
        assert_eq!(
            json.to_string().contains("SECRET"),
            sees,
            "API as {}",
            who.label()
        );
        assert!(html.contains("Shared with the provider") && html.contains("Call the families"));
        assert_eq!(
            json["notes"].as_array().map(Vec::len),
            Some(if sees { 2 } else { 1 })
        );
        assert_eq!(html.contains("district-only notes are not shown"), !sees);
        // Only district staff and admins may write district-only notes; auditors write nothing.
        assert_eq!(
            html.contains("name=\"district_only\""),
            sees,
            "{}",
            who.label()
        );
        assert_eq!(
            html.contains(&format!("action=\"{m}/notes\"")),
            who != Who::Auditor
        );
        // Everyone who sees the contract sees its meetings list.
        let list = page(&app, &s, &format!("/contracts/{MESA_CONTRACT}/meetings")).await;
        assert!(list.contains(&format!("<a href=\"{m}\">Meeting {id}</a>")));
        assert_eq!(
            json["viewer"],
            match who {
                Who::Admin => "intermediary",
                Who::Mesa => "district",
                Who::Brightpath => "provider",
                _ => "auditor",
            }
        );
    }
    // The provider may not hide a note from itself, by form or API.
    let bright = app.login(Who::Brightpath).await;
    let r = app
        .send(form(
            &bright,
            &format!("{m}/notes"),
            &[("text", "hidden?"), ("district_only", "on")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(api_json(
            &bright,
            &format!("/api{m}/notes"),
            &json!({"text": "hidden?", "district_only": true}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.json()["error"].is_string());

    // Staff of the other district and provider: 404 on everything of this contract.
    let reads = [
        m.clone(),
        format!("/api{m}"),
        format!("/contracts/{MESA_CONTRACT}/meetings"),
        format!("/api/contracts/{MESA_CONTRACT}/meetings"),
    ];
    for who in [Who::District, Who::Provider] {
        let s = app.login(who).await;
        for path in &reads {
            let r = app.send(s.with_cookie(Req::get(path))).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "GET {path} as {}",
                who.label()
            );
            assert!(!r.text().contains("SECRET") && !r.text().contains("Call the families"));
        }
        for (path, fields) in [
            (format!("{m}/notes"), vec![("text", "intruder")]),
            (
                format!("{m}/attendees"),
                vec![("name", "intruder"), ("side", "other")],
            ),
            (
                format!("{m}/actions"),
                vec![
                    ("owner", "district"),
                    ("due", "2025-03-01"),
                    ("text", "intruder"),
                ],
            ),
            (
                format!("{m}/actions/{item}/status"),
                vec![("status", "done")],
            ),
            (
                format!("/contracts/{MESA_CONTRACT}/meetings"),
                vec![("date", "2025-03-03")],
            ),
        ] {
            let r = app.send(form(&s, &path, &fields)).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "POST {path} as {}",
                who.label()
            );
        }
        let r = app
            .send(api_json(
                &s,
                &format!("/api{m}/actions/{item}/status"),
                &json!({"status": "done"}),
            ))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // And the other way round: dist-mesa's provider sees none of the demo contract's meetings.
    let demo = app.login(Who::District).await;
    let demo_meeting = open_meeting(&app, &demo, DEMO_CONTRACT, AS_OF, "").await;
    for path in [
        format!("/meetings/{demo_meeting}"),
        format!("/contracts/{DEMO_CONTRACT}/meetings"),
    ] {
        let r = app.send(bright.with_cookie(Req::get(&path))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Nothing the outsiders tried was recorded; the item is still open.
    let view = api(&app, &mesa, &format!("/api{m}")).await;
    assert!(!view.to_string().contains("intruder"));
    assert_eq!(view["new_items"][0]["status"], "open");
    let list = api(
        &app,
        &mesa,
        &format!("/api/contracts/{MESA_CONTRACT}/meetings"),
    )
    .await;
    assert_eq!(list["meetings"].as_array().map(Vec::len), Some(1));
    // A meeting that does not exist answers like one that is not yours.
    let admin = app.login(Who::Admin).await;
    let r = app
        .send(admin.with_cookie(Req::get("/meetings/99999")))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// One POST of the meetings: (page path, form fields, API path, JSON body).
type Write = (String, Vec<(&'static str, &'static str)>, String, Value);

/// The POST routes of the meetings, each as a form and as an API call.
fn writes(contract: &str, meeting: i64, item: i64) -> Vec<Write> {
    let m = format!("/meetings/{meeting}");
    vec![
        (
            format!("/contracts/{contract}/meetings"),
            vec![("date", "2025-03-03")],
            format!("/api/contracts/{contract}/meetings"),
            json!({"date": "2025-03-03"}),
        ),
        (
            format!("{m}/attendees"),
            vec![("name", "Eve"), ("side", "other")],
            format!("/api{m}/attendees"),
            json!({"name": "Eve", "side": "other"}),
        ),
        (
            format!("{m}/notes"),
            vec![("text", "A note")],
            format!("/api{m}/notes"),
            json!({"text": "A note"}),
        ),
        (
            format!("{m}/actions"),
            vec![
                ("owner", "district"),
                ("due", "2025-03-01"),
                ("text", "An item"),
            ],
            format!("/api{m}/actions"),
            json!({"owner": "district", "due": "2025-03-01", "text": "An item"}),
        ),
        (
            format!("{m}/actions/{item}/status"),
            vec![("status", "done")],
            format!("/api{m}/actions/{item}/status"),
            json!({"status": "done"}),
        ),
    ]
}

/// What a meeting holds, to see that refused requests changed nothing.
async fn counts(app: &WebApp, meeting: i64) -> (usize, usize, usize, usize, String) {
    let admin = app.login(Who::Admin).await;
    let view = api(app, &admin, &format!("/api/meetings/{meeting}")).await;
    let list = api(
        app,
        &admin,
        &format!("/api/contracts/{MESA_CONTRACT}/meetings"),
    )
    .await;
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    (
        len(&list["meetings"]),
        len(&view["attendees"]),
        len(&view["notes"]),
        len(&view["new_items"]),
        view["new_items"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

pub(crate) async fn auditors_read_the_pages_but_write_nothing(app: WebApp) {
    let mesa = app.login(Who::Mesa).await;
    let id = open_meeting(&app, &mesa, MESA_CONTRACT, AS_OF, "district: Ana Ruiz").await;
    post_ok(
        &app,
        &mesa,
        &format!("/meetings/{id}/actions"),
        &[
            ("owner", "provider"),
            ("due", "2025-02-20"),
            ("text", "Call the families"),
        ],
    )
    .await;
    let item = item_id(
        &api(&app, &mesa, &format!("/api/meetings/{id}")).await,
        "Call the families",
    );
    let before = counts(&app, id).await;

    let auditor = app.login(Who::Auditor).await;
    for path in [
        format!("/contracts/{MESA_CONTRACT}/progress?as_of={AS_OF}"),
        format!("/contracts/{MESA_CONTRACT}/meetings"),
        format!("/meetings/{id}"),
    ] {
        let html = page(&app, &auditor, &path).await;
        assert!(
            !html.contains("<form method=\"post\" action=\"/meetings/"),
            "{path}"
        );
        assert!(
            !html.contains(&format!("action=\"/contracts/{MESA_CONTRACT}/meetings\"")),
            "{path}"
        );
    }
    for (path, fields, api_path, body) in writes(MESA_CONTRACT, id, item) {
        let r = app.send(form(&auditor, &path, &fields)).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {path}: {}",
            r.excerpt()
        );
        let r = app.send(bearer_json(&auditor, &api_path, &body)).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {api_path}: {}",
            r.excerpt()
        );
        assert!(r.json()["error"].is_string());
        let r = app.send(api_json(&auditor, &api_path, &body)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {api_path}");
    }
    assert_eq!(counts(&app, id).await, before, "nothing was recorded");
}

pub(crate) async fn every_meeting_post_needs_the_csrf_token_unless_it_uses_an_api_token(
    app: WebApp,
) {
    let mesa = app.login(Who::Mesa).await;
    let id = open_meeting(&app, &mesa, MESA_CONTRACT, AS_OF, "").await;
    post_ok(
        &app,
        &mesa,
        &format!("/meetings/{id}/actions"),
        &[
            ("owner", "provider"),
            ("due", "2025-02-20"),
            ("text", "Call the families"),
        ],
    )
    .await;
    let item = item_id(
        &api(&app, &mesa, &format!("/api/meetings/{id}")).await,
        "Call the families",
    );
    let before = counts(&app, id).await;
    let stale = "0".repeat(64);
    let html = page(&app, &mesa, &format!("/meetings/{id}")).await;
    let forms = html
        .matches("<form method=\"post\" action=\"/meetings/")
        .count();
    let with_token = html
        .matches(&format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            mesa.csrf
        ))
        .count();
    assert!(
        forms >= 4,
        "attendee, note, action and status forms: {forms}"
    );
    assert_eq!(
        with_token,
        forms + 1,
        "every form carries the token (and the sign-out form)"
    );

    for (path, fields, api_path, body) in writes(MESA_CONTRACT, id, item) {
        // A form without the token, or with a stale one.
        let r = app
            .send(mesa.with_cookie(Req::post(&path).form(&fields)))
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {path} without a token"
        );
        let mut stale_fields = vec![("csrf", stale.as_str())];
        stale_fields.extend_from_slice(&fields);
        let r = app
            .send(mesa.with_cookie(Req::post(&path).form(&stale_fields)))
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {path} with a stale token"
        );
        assert!(r.text().contains("security token"), "{}", r.excerpt());
        // The API with the session cookie needs X-CSRF-Token.
        let r = app
            .send(mesa.with_cookie(
                Req::post(&api_path).body("application/json", body.to_string().as_bytes()),
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {api_path} without X-CSRF-Token"
        );
        assert!(r.json()["error"].is_string());
    }
    assert_eq!(counts(&app, id).await, before, "nothing was recorded");

    // With an API token no CSRF token is needed: each call works.
    for (_, _, api_path, body) in writes(MESA_CONTRACT, id, item) {
        let r = app.send(bearer_json(&mesa, &api_path, &body)).await;
        assert_eq!(r.status, StatusCode::OK, "POST {api_path}: {}", r.excerpt());
    }
    assert_eq!(counts(&app, id).await, (2, 1, 1, 2, "done".to_string()));
    // A body that is not the JSON expected is a JSON 400.
    let r = app
        .send(bearer_json(
            &mesa,
            &format!("/api/meetings/{id}/notes"),
            &json!({"note": "x"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("text")),
        "{}",
        r.text()
    );
}

pub(crate) async fn the_dashboard_flags_missed_meetings_and_the_contract_page_links_its_monitoring(
    app: WebApp,
) {
    let admin = app.login(Who::Admin).await;
    let html = page(&app, &admin, &format!("/contracts/{MESA_CONTRACT}")).await;
    assert!(html.contains(&format!(
        "<a href=\"/contracts/{MESA_CONTRACT}/progress\">Progress</a>"
    )));
    assert!(html.contains(&format!(
        "<a href=\"/contracts/{MESA_CONTRACT}/meetings\">Meetings</a>"
    )));

    // The number of missed meetings as the CLI counts them today (the period is over).
    let missed = |app: &WebApp| {
        let list: Value = serde_json::from_str(&app.cli(&[
            "meeting",
            "list",
            "--contract",
            MESA_CONTRACT,
            "--format",
            "json",
        ]))
        .expect("obc meeting list --format json");
        list["cadence"]["missed"]
            .as_array()
            .expect("gaps")
            .iter()
            .map(|g| g["missed"].as_u64().expect("missed"))
            .sum::<u64>()
    };
    let row = |html: &str| {
        html.split("<tr>")
            .find(|r| r.contains(&format!("<a href=\"/contracts/{MESA_CONTRACT}\">")))
            .expect("the contract's row")
            .to_string()
    };
    let before = missed(&app);
    assert!(before > 0, "no meeting was ever held");
    let dashboard = page(&app, &admin, "/").await;
    assert!(dashboard.contains("<th scope=\"col\">Meetings</th>"));
    let r = row(&dashboard);
    assert!(
        r.contains("<strong class=\"error\">Missed meeting</strong>"),
        "{r}"
    );
    assert!(
        r.contains(&format!(
            "<a href=\"/contracts/{MESA_CONTRACT}/meetings\">{before} missed</a>"
        )),
        "{r}"
    );
    let list = page(
        &app,
        &admin,
        &format!("/contracts/{MESA_CONTRACT}/meetings"),
    )
    .await;
    assert!(
        list.contains(&format!("<strong>Missed meetings: {before}</strong>")),
        "{list}"
    );
    assert!(list.contains("role=\"alert\""));

    // A meeting on time (14 days after the program's start) brings the count down.
    let list = api(
        &app,
        &admin,
        &format!("/api/contracts/{MESA_CONTRACT}/meetings"),
    )
    .await;
    let starts = list["cadence"]["starts"]
        .as_str()
        .expect("starts")
        .to_string();
    let on_time =
        obc_core::model::parse_iso_date(&starts).expect("a date") + time::Duration::days(14);
    let mesa = app.login(Who::Mesa).await;
    open_meeting(&app, &mesa, MESA_CONTRACT, &on_time.to_string(), "").await;
    let after = missed(&app);
    assert_eq!(after, before - 1);
    for who in [Who::Admin, Who::Mesa, Who::Brightpath, Who::Auditor] {
        let s = app.login(who).await;
        let r = row(&page(&app, &s, "/").await);
        assert!(
            r.contains(&format!("{after} missed; last {on_time}</a>")),
            "{}: {r}",
            who.label()
        );
    }
}

pub(crate) async fn openapi_describes_the_monitoring_routes(app: WebApp) {
    let doc = app.send(Req::get("/api/openapi.json")).await.json();
    for (method, path, params) in [
        (
            "get",
            "/api/contracts/{id}/progress",
            &["id", "as_of", "off_track"][..],
        ),
        ("get", "/api/contracts/{id}/meetings", &["id", "as_of"][..]),
        ("post", "/api/contracts/{id}/meetings", &["id"][..]),
        ("get", "/api/meetings/{meeting}", &["meeting"][..]),
        (
            "post",
            "/api/meetings/{meeting}/attendees",
            &["meeting"][..],
        ),
        ("post", "/api/meetings/{meeting}/notes", &["meeting"][..]),
        ("post", "/api/meetings/{meeting}/actions", &["meeting"][..]),
        (
            "post",
            "/api/meetings/{meeting}/actions/{item}/status",
            &["meeting", "item"][..],
        ),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op["summary"].is_string(), "{method} {path}");
        for p in params {
            assert!(
                op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|x| x["name"] == *p)),
                "{method} {path}: parameter {p}"
            );
        }
        if method == "post" {
            assert!(
                op["requestBody"]["content"]["application/json"]["schema"].is_object(),
                "{path}"
            );
        }
    }
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/").skip(1) {
        let pointer = reference.split('"').next().expect("a pointer");
        assert!(
            doc.pointer(&format!("/{pointer}")).is_some(),
            "unresolved $ref #/{pointer}"
        );
    }
}

/// Every test above as a `#[tokio::test]` on the app `$app` makes, like `web_http::web_tests`.
macro_rules! monitoring_tests {
    ($app:path) => {
        $crate::web_monitoring::monitoring_tests!(@ $app; progress_pages_for_every_role_equal_the_cli, a_meeting_is_opened_noted_and_its_items_closed_and_the_pages_show_it, providers_never_see_district_only_notes_nor_other_contracts_meetings, auditors_read_the_pages_but_write_nothing, every_meeting_post_needs_the_csrf_token_unless_it_uses_an_api_token, the_dashboard_flags_missed_meetings_and_the_contract_page_links_its_monitoring, openapi_describes_the_monitoring_routes, the_students_list_pages_searches_filters_and_sorts, progress_and_meetings_default_to_the_contract_current_date);
    };
    (@ $app:path; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                if let Some(app) = $app().await {
                    $crate::web_monitoring::$name(app).await;
                }
            }
        )*
    };
}
pub(crate) use monitoring_tests;

mod on_sqlite {
    async fn app() -> Option<crate::web_support::WebApp> {
        Some(crate::web_support::WebApp::new().await)
    }

    crate::web_monitoring::monitoring_tests!(app);
}
