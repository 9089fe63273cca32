//! The students' table of a statement page: one page of the listing as rows (amounts as
//! `$1,234.56`, rates as percentages, rules in words, the reason and clauses on demand), the
//! search form's choices, sortable headings and the pager; rendered on its own so that its
//! size and cost can be checked apart from the page.

use super::listing::{Column, ListQuery, Listing};
use crate::figures::StatementChoices;
use crate::listing::Names;
use askama::Template;
use obc_core::money::format_dollars;
use obc_core::ratio::Ratio;
use obc_core::rule_words::rule_label;
use obc_core::statement::Line;
use obc_core::Statement;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Who looks at the table and what it links to.
pub struct TableView<'a> {
    pub district: &'a str,
    /// Whether the viewer may see students' names (and their pages).
    pub show_names: bool,
    pub names: &'a Names,
    /// The names of the page's students (empty when not shown).
    pub page_names: &'a HashMap<String, String>,
    /// `&as_of=DATE` when the statement is shown as of a date, to keep in links.
    pub as_of_param: &'a str,
    /// The statement's schools and rules, derived once per statement.
    pub choices: &'a StatementChoices,
}

/// A rate or measure as a percentage with one decimal (`92.6%`), blank when undefined.
fn percent(ratio: Option<Ratio>) -> String {
    ratio
        .map(|r| format!("{}%", (r.round(3) * Decimal::ONE_HUNDRED).normalize()))
        .unwrap_or_default()
}

/// An option of a filter's select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A column heading: a link that sorts by it (or reverses its order).
pub struct HeaderCell {
    pub label: &'static str,
    pub href: String,
    pub numeric: bool,
    /// `ascending` or `descending` on the column sorted by.
    pub aria_sort: Option<&'static str>,
    /// The arrow after the sorted column's label.
    pub arrow: &'static str,
}

/// A link of the pager; `None` when there is nowhere to go.
pub struct PageLink {
    pub label: &'static str,
    pub href: Option<String>,
}

/// A student's line as the compact table shows it.
pub struct StudentRow {
    pub student_id: String,
    pub student_link: Option<String>,
    pub name: String,
    pub school: String,
    pub rule: String,
    pub rule_code: String,
    pub attended: String,
    pub attendance: String,
    pub measure: String,
    pub base: String,
    pub contingent: String,
    pub total: String,
    pub reason: String,
    pub clauses: String,
    pub notes: String,
    pub explain: String,
}

/// The students' table of the statement page: the search form, one page of rows, the pager.
#[derive(Template)]
#[template(path = "statement_students.html")]
pub struct StudentTable {
    /// The statement page's path, which the form and the links answer to.
    pub action: String,
    pub as_of_param: String,
    pub q: String,
    pub sort: &'static str,
    pub dir: &'static str,
    pub schools: Vec<Choice>,
    pub rules: Vec<Choice>,
    pub show_names: bool,
    pub headers: Vec<HeaderCell>,
    pub rows: Vec<StudentRow>,
    pub showing: String,
    pub pager: Vec<PageLink>,
}

/// The table of `listing`'s page of `statement`.
pub fn build(
    statement: &Statement,
    listing: &Listing,
    query: &ListQuery,
    view: &TableView,
) -> StudentTable {
    let (names, suffix, district) = (view.names, view.as_of_param, view.district);
    let action = format!(
        "/contracts/{}/statements/{}",
        statement.contract_id, statement.milestone
    );
    let rows = listing
        .rows
        .iter()
        .map(|l| StudentRow {
            student_id: l.student_id.clone(),
            student_link: view
                .show_names
                .then(|| format!("/students/{district}/{}", l.student_id)),
            name: view
                .page_names
                .get(&l.student_id)
                .cloned()
                .unwrap_or_default(),
            school: names.school(&l.school_id).to_string(),
            rule: rule_label(&l.rule, l.tier_pays),
            rule_code: l.rule.clone(),
            attended: format!("{} of {}", l.attended, l.planned),
            attendance: percent(l.attendance_rate),
            measure: percent(l.measure),
            base: format_dollars(l.base_amount),
            contingent: format_dollars(l.contingent_amount),
            total: format_dollars(l.total),
            reason: l.reason.clone(),
            clauses: clauses(l),
            notes: l.notes.join("; "),
            explain: format!(
                "{action}/students/{}{}",
                l.student_id,
                suffix.replacen('&', "?", 1)
            ),
        })
        .collect();
    let selected = |value: Option<&str>, v: &str| value == Some(v);
    let mut schools: Vec<Choice> = (view.choices.school_ids.iter())
        .map(|id| Choice {
            value: id.clone(),
            label: names.school(id).to_string(),
            selected: selected(query.school(), id),
        })
        .collect();
    schools.sort_by(|a, b| a.label.cmp(&b.label));
    let rules = (view.choices.legend.iter())
        .map(|(code, words)| Choice {
            selected: selected(query.rule(), code),
            label: format!("{code}: {words}"),
            value: code.clone(),
        })
        .collect();
    let (column, descending) = (listing.column, listing.descending);
    let headers = Column::ALL
        .into_iter()
        .filter(|c| view.show_names || *c != Column::Name)
        .map(|c| {
            let next = if c == column {
                !descending
            } else {
                c.descends_first()
            };
            HeaderCell {
                label: header_label(c),
                href: format!("{}{suffix}", query.href(1, Some((c, next)))),
                numeric: c.descends_first(),
                aria_sort: (c == column).then_some(if descending {
                    "descending"
                } else {
                    "ascending"
                }),
                arrow: match (c == column, descending) {
                    (false, _) => "",
                    (true, false) => " ▲",
                    (true, true) => " ▼",
                },
            }
        })
        .collect();
    StudentTable {
        action,
        as_of_param: suffix.to_string(),
        q: query.search().unwrap_or_default().to_string(),
        sort: column.key(),
        dir: if descending { "desc" } else { "asc" },
        schools,
        rules,
        show_names: view.show_names,
        headers,
        showing: showing(listing, statement.lines.len()),
        pager: pager(listing, query, suffix),
        rows,
    }
}

fn header_label(column: Column) -> &'static str {
    match column {
        Column::Student => "Student",
        Column::Name => "Name",
        Column::School => "School",
        Column::Rule => "Rule",
        Column::Attendance => "Attendance",
        Column::Measure => "Measure",
        Column::Base => "Base",
        Column::Contingent => "Contingent",
        Column::Total => "Total",
    }
}

/// The contract clauses behind a line's amounts.
fn clauses(l: &Line) -> String {
    if l.contingent_clause.is_empty() {
        format!("base: {}", l.base_clause)
    } else {
        format!(
            "base: {}; contingent: {}",
            l.base_clause, l.contingent_clause
        )
    }
}

/// "Students 101 to 116 of 116" (and how many the filters left out of all).
fn showing(listing: &Listing, all: usize) -> String {
    let (first, last) = listing.range();
    let of = if listing.matched == all {
        format!("{all}")
    } else {
        format!("{} matching, of {all} on the statement", listing.matched)
    };
    if listing.matched == 0 {
        return format!("No student matches (0 of {all}).");
    }
    format!(
        "Students {first} to {last} of {of}; page {} of {}.",
        listing.page, listing.pages
    )
}

fn pager(listing: &Listing, query: &ListQuery, suffix: &str) -> Vec<PageLink> {
    let link = |label: &'static str, page: usize, usable: bool| PageLink {
        label,
        href: usable.then(|| format!("{}{suffix}", query.href(page, None))),
    };
    let (page, pages) = (listing.page, listing.pages);
    vec![
        link("First", 1, page > 1),
        link("Previous", page.saturating_sub(1), page > 1),
        link("Next", page + 1, page < pages),
        link("Last", pages, page < pages),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statements::listing::list;

    #[test]
    fn rates_show_as_percentages() {
        assert_eq!(percent(Ratio::new(25, 27)), "92.6%");
        assert_eq!(percent(Ratio::new(1, 1)), "100%");
        assert_eq!(percent(Ratio::new(-1, 1)), "-100%");
        assert_eq!(percent(None), "");
    }

    /// A statement of `n` students at 20 schools with every figure set, as the engine writes
    /// them (read through the statement's own JSON).
    fn statement(n: usize) -> Statement {
        let line = |i: usize| {
            format!(
                r#"{{"student_id":"s{i:06}","school_id":"sch-{:02}","grade":"6","enrollment_start":"2024-09-01","enrollment_end":null,"planned":60,"attended":50,"student_absent":8,"district_cancelled":1,"provider_cancelled":1,"minutes":1500,"attendance_rate":"0.8621","same_tutor_rate":"0.9000","provider_cancel_rate":"0.0167","availability_rate":"0.9833","baseline":"200","outcome":"212","observed_growth":"12","projected_growth":"10","measure":"1.2000","growth_vs_projected":"1.2000","rule":"tier:meets+school_adjust","tier_pays":"1.00","base_amount":"0.00","contingent_amount":"{}.00","total":"{}.00","base_clause":"milestone.final","contingent_clause":"rate_card.meets + school_adjustment[0]","reason":"growth_vs_projected 1.2000 reaches tier meets, which pays 100% of the contingent part; base 0.00 of 720.00 due by final (100% of the base part), 720.00 paid before; school median growth vs projected 1.0714 adjusts it by 0.10","notes":[]}}"#,
                i % 20,
                400 + i % 300,
                400 + i % 300
            )
        };
        let lines: Vec<String> = (0..n).map(line).collect();
        let json = format!(
            r#"{{"contract_id":"c","contract_version":1,"contract_hash":"h","milestone":"final","milestone_date":"2025-06-30","statement_date":"2025-06-30","contingent":true,"engine_version":"e","inputs_hash":"i","lines":[{}],"totals":{{"students":{n},"planned":0,"attended":0,"student_absent":0,"district_cancelled":0,"provider_cancelled":0,"base":"0.00","contingent":"0.00","lines_total":"0.00","paid_before":"0.00","nte_remaining":"0.00","statement_total":"0.00","by_rule":[{{"rule":"tier:meets+school_adjust","students":{n},"base":"0.00","contingent":"0.00"}}],"met_target":{n},"cost_per_outcome":null}}}}"#,
            lines.join(",")
        );
        Statement::from_json(&json).expect("a statement")
    }

    #[test]
    fn a_page_of_a_100000_student_statement_is_small() {
        let statement = statement(100_000);
        let schools: HashMap<String, String> = (0..20)
            .map(|i| (format!("sch-{i:02}"), format!("School number {i}")))
            .collect();
        let students: HashMap<String, String> = statement
            .lines
            .iter()
            .map(|l| (l.student_id.clone(), format!("First Last-{}", l.student_id)))
            .collect();
        let names = Names {
            students: Some(std::sync::Arc::new(students.clone())),
            schools: std::sync::Arc::new(schools),
        };
        let query = ListQuery {
            q: Some("last-s0".into()),
            school: Some("sch-07".into()),
            sort: Some("total".into()),
            page: Some("3".into()),
            ..ListQuery::default()
        };
        let page_names = students.clone();
        let listing = list(&statement.lines, &names, &Default::default(), &query);
        let html = build(
            &statement,
            &listing,
            &query,
            &TableView {
                district: "d",
                show_names: true,
                names: &names,
                page_names: &page_names,
                as_of_param: "",
                choices: &StatementChoices::of(&statement),
            },
        )
        .render()
        .expect("the table renders");
        assert_eq!(listing.matched, 5_000);
        assert_eq!(html.matches("<tr>").count(), 101, "a heading and 100 rows");
        // Speed is measured by bench/web, not here.
        assert!(html.len() < 1_000_000, "{} bytes", html.len());
    }
}
