//! The student table of a statement as people work with it: searched by student id or name,
//! filtered by school and rule, sorted by any column and paged. A pure function over the
//! statement's lines, so that a page of a 100,000-line statement costs a few milliseconds and
//! at most [`PAGE_ROWS`] rows of HTML; the downloads stay whole.

use crate::listing::{Kept, Names};
use obc_core::statement::Line;
use serde::Deserialize;
use std::cmp::Ordering;
use std::sync::Arc;

/// The most rows a page shows.
pub const PAGE_ROWS: usize = 100;

/// What the viewer asked of the table, from the query string (`?q=&school=&rule=&sort=&dir=&page=`).
/// Every field is text, so that a hand-edited link shows the table instead of an error.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    pub school: Option<String>,
    pub rule: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<String>,
}

/// A sortable column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Student,
    Name,
    School,
    Rule,
    Attendance,
    Measure,
    Base,
    Contingent,
    Total,
}

impl Column {
    /// In the table's order: the amounts next to the student, then why.
    pub const ALL: [Column; 9] = [
        Column::Student,
        Column::Name,
        Column::Base,
        Column::Contingent,
        Column::Total,
        Column::School,
        Column::Rule,
        Column::Attendance,
        Column::Measure,
    ];

    /// The column's name in a link's `sort=`.
    pub fn key(self) -> &'static str {
        match self {
            Column::Student => "student",
            Column::Name => "name",
            Column::School => "school",
            Column::Rule => "rule",
            Column::Attendance => "attendance",
            Column::Measure => "measure",
            Column::Base => "base",
            Column::Contingent => "contingent",
            Column::Total => "total",
        }
    }

    fn parse(key: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.key() == key)
    }

    /// Numbers read largest first when first sorted; text A to Z.
    pub fn descends_first(self) -> bool {
        matches!(
            self,
            Column::Attendance
                | Column::Measure
                | Column::Base
                | Column::Contingent
                | Column::Total
        )
    }
}

impl ListQuery {
    /// The search text, trimmed; `None` when blank.
    pub fn search(&self) -> Option<&str> {
        non_blank(&self.q)
    }

    pub fn school(&self) -> Option<&str> {
        non_blank(&self.school)
    }

    pub fn rule(&self) -> Option<&str> {
        non_blank(&self.rule)
    }

    /// The column sorted on (the student id unless another is named) and whether descending.
    pub fn order(&self) -> (Column, bool) {
        let column = non_blank(&self.sort)
            .and_then(Column::parse)
            .unwrap_or(Column::Student);
        let descending = match non_blank(&self.dir) {
            Some("desc") => true,
            Some("asc") => false,
            _ => column.descends_first(),
        };
        (column, descending)
    }

    /// Whether the table needs every student's name (to search or sort by it), not only those
    /// of the page shown.
    pub fn needs_all_names(&self) -> bool {
        self.search().is_some() || self.order().0 == Column::Name
    }

    /// The query string of this table with another page, or another sort (which starts again
    /// at page 1), for links. Starts with `?`.
    pub fn href(&self, page: usize, order: Option<(Column, bool)>) -> String {
        let (column, descending) = order.unwrap_or_else(|| self.order());
        let page = if order.is_some() { 1 } else { page }.to_string();
        let pairs = [
            ("q", self.search().unwrap_or_default()),
            ("school", self.school().unwrap_or_default()),
            ("rule", self.rule().unwrap_or_default()),
            ("sort", column.key()),
            ("dir", if descending { "desc" } else { "asc" }),
            ("page", &page),
        ];
        // The shared link builder leaves the blank filters out; sort, dir and page never are.
        crate::listing::href("", &pairs)
    }
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// One page of the table.
#[derive(Debug)]
pub struct Listing<'a> {
    /// The lines of this page, in order.
    pub rows: Vec<&'a Line>,
    /// How many lines match the search and filters.
    pub matched: usize,
    /// The page shown (1-based; a page past the end shows the last).
    pub page: usize,
    pub pages: usize,
    pub column: Column,
    pub descending: bool,
}

impl Listing<'_> {
    /// The 1-based positions of the first and last rows shown (0, 0 when none).
    pub fn range(&self) -> (usize, usize) {
        if self.rows.is_empty() {
            return (0, 0);
        }
        let first = (self.page - 1) * PAGE_ROWS + 1;
        (first, first + self.rows.len() - 1)
    }
}

/// The statement's lines in the order of a column (ties by student id), as indexes, kept per
/// statement and names: a sorted page of 100,000 students is a filter over a stored order
/// instead of a sort per request.
fn order(
    lines: &[Line],
    names: &Names,
    kept: &Kept,
    column: Column,
    descending: bool,
) -> Arc<Vec<u32>> {
    kept.order(names, &format!("{}:{descending}", column.key()), || {
        let mut order: Vec<u32> = (0..lines.len() as u32).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&lines[a as usize], &lines[b as usize]);
            let order = compare(column, a, b, names);
            let order = if descending { order.reverse() } else { order };
            order.then_with(|| a.student_id.cmp(&b.student_id))
        });
        order
    })
}

/// The lines that match `query`, sorted (ties by student id) and cut to the page asked for.
/// `kept` keeps the statement's sorted orders and search index (one per statement). The search
/// is one phrase, found in the student id or (when given) the student's name.
pub fn list<'a>(lines: &'a [Line], names: &Names, kept: &Kept, query: &ListQuery) -> Listing<'a> {
    let found = query.search().map(|phrase| {
        let index = kept.search(names, "statement", 2, || {
            (lines.iter()).flat_map(|l| {
                [
                    l.student_id.as_str(),
                    names.student(&l.student_id).unwrap_or(""),
                ]
            })
        });
        index.rows_matching(&[phrase.to_lowercase()])
    });
    let school = query.school();
    let rule = query.rule();
    let keeps = |i: usize, l: &Line| {
        school.is_none_or(|s| l.school_id == s)
            && rule.is_none_or(|r| l.rule == r)
            && found.as_ref().is_none_or(|found| found[i])
    };
    let (column, descending) = query.order();
    let order = order(lines, names, kept, column, descending);
    let rows: Vec<&Line> = order
        .iter()
        .map(|&i| (i as usize, &lines[i as usize]))
        .filter(|&(i, l)| keeps(i, l))
        .map(|(_, l)| l)
        .collect();
    let matched = rows.len();
    let pages = matched.div_ceil(PAGE_ROWS).max(1);
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let rows = rows
        .into_iter()
        .skip((page - 1) * PAGE_ROWS)
        .take(PAGE_ROWS)
        .collect();
    Listing {
        rows,
        matched,
        page,
        pages,
        column,
        descending,
    }
}

fn compare(column: Column, a: &Line, b: &Line, names: &Names) -> Ordering {
    match column {
        Column::Student => a.student_id.cmp(&b.student_id),
        Column::Name => names
            .student(&a.student_id)
            .cmp(&names.student(&b.student_id)),
        Column::School => names.school(&a.school_id).cmp(names.school(&b.school_id)),
        Column::Rule => a.rule.cmp(&b.rule),
        Column::Attendance => a.attendance_rate.cmp(&b.attendance_rate),
        Column::Measure => a.measure.cmp(&b.measure),
        Column::Base => a.base_amount.cmp(&b.base_amount),
        Column::Contingent => a.contingent_amount.cmp(&b.contingent_amount),
        Column::Total => a.total.cmp(&b.total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::collections::HashMap;

    fn line(id: &str, school: &str, rule: &str, total: i64) -> Line {
        let json = format!(
            r#"{{"student_id":"{id}","school_id":"{school}","grade":null,"enrollment_start":"2024-09-01","enrollment_end":null,"planned":0,"attended":0,"student_absent":0,"district_cancelled":0,"provider_cancelled":0,"minutes":0,"attendance_rate":null,"same_tutor_rate":null,"provider_cancel_rate":null,"availability_rate":null,"baseline":null,"outcome":null,"observed_growth":null,"projected_growth":null,"measure":null,"growth_vs_projected":null,"rule":"{rule}","tier_pays":"1","base_amount":"0.00","contingent_amount":"0.00","total":"{total}.00","base_clause":"","contingent_clause":"","reason":"","notes":[]}}"#
        );
        serde_json::from_str(&json).expect("a line")
    }

    /// 250 students s000..s249 at two schools, rules alternating, totals 0..249.
    fn lines() -> Vec<Line> {
        (0..250)
            .map(|i| {
                line(
                    &format!("s{i:03}"),
                    if i % 2 == 0 { "sch-a" } else { "sch-b" },
                    if i % 5 == 0 { "excluded" } else { "tier:meets" },
                    i,
                )
            })
            .collect()
    }

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        ListQuery {
            q: get("q"),
            school: get("school"),
            rule: get("rule"),
            sort: get("sort"),
            dir: get("dir"),
            page: get("page"),
        }
    }

    fn ids(listing: &Listing) -> Vec<String> {
        listing.rows.iter().map(|l| l.student_id.clone()).collect()
    }

    fn names(students: Option<&[(&str, &str)]>, schools: &[(&str, &str)]) -> Names {
        let map = |pairs: &[(&str, &str)]| -> Arc<HashMap<String, String>> {
            Arc::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        Names {
            students: students.map(map),
            schools: map(schools),
        }
    }

    #[test]
    fn pages_hold_at_most_100_rows_and_a_page_past_the_end_shows_the_last() {
        let lines = lines();
        let names = names(None, &[]);
        let first = list(&lines, &names, &Kept::default(), &query(&[]));
        assert_eq!(
            (first.rows.len(), first.matched, first.pages),
            (100, 250, 3)
        );
        assert_eq!(first.rows[0].student_id, "s000");
        assert_eq!(first.range(), (1, 100));
        let last = list(&lines, &names, &Kept::default(), &query(&[("page", "3")]));
        assert_eq!(last.rows.len(), 50);
        assert_eq!(last.range(), (201, 250));
        for wild in ["99", "0", "-1", "x"] {
            let page = list(&lines, &names, &Kept::default(), &query(&[("page", wild)])).page;
            assert_eq!(page, if wild == "99" { 3 } else { 1 }, "page={wild}");
        }
    }

    #[test]
    fn search_matches_ids_and_only_the_names_given() {
        let lines = lines();
        let with_names = names(Some(&[("s007", "Ada Lovelace")]), &[]);
        let found = list(
            &lines,
            &with_names,
            &Kept::default(),
            &query(&[("q", " LOVELACE ")]),
        );
        assert_eq!(ids(&found), ["s007"]);
        let found = list(
            &lines,
            &with_names,
            &Kept::default(),
            &query(&[("q", "s12")]),
        );
        assert_eq!(found.matched, 10, "s120..s129");
        // Without names (a viewer who may not see them) a name finds nothing.
        let without = names(None, &[]);
        assert_eq!(
            list(
                &lines,
                &without,
                &Kept::default(),
                &query(&[("q", "lovelace")])
            )
            .matched,
            0
        );
        let none = list(&lines, &without, &Kept::default(), &query(&[("q", "zzz")]));
        assert_eq!((none.rows.len(), none.pages, none.range()), (0, 1, (0, 0)));
    }

    #[test]
    fn filters_combine_and_sorting_breaks_ties_by_student() {
        let lines = lines();
        let names = names(None, &[("sch-a", "Zeta School"), ("sch-b", "Alpha School")]);
        let filtered = list(
            &lines,
            &names,
            &Kept::default(),
            &query(&[("school", "sch-a"), ("rule", "excluded")]),
        );
        // Even and a multiple of 5: multiples of 10.
        assert_eq!(filtered.matched, 25);
        assert!(filtered
            .rows
            .iter()
            .all(|l| l.school_id == "sch-a" && l.rule == "excluded"));
        // Totals sort largest first by default.
        let by_total = list(
            &lines,
            &names,
            &Kept::default(),
            &query(&[("sort", "total")]),
        );
        assert_eq!(by_total.rows[0].total, Decimal::from(249));
        assert!(by_total.descending);
        let ascending = list(
            &lines,
            &names,
            &Kept::default(),
            &query(&[("sort", "total"), ("dir", "asc")]),
        );
        assert_eq!(ascending.rows[0].student_id, "s000");
        // Schools sort by name: Alpha (sch-b, odd ids) first, ties by id.
        let by_school = list(
            &lines,
            &names,
            &Kept::default(),
            &query(&[("sort", "school")]),
        );
        assert_eq!(&ids(&by_school)[..2], ["s001", "s003"]);
        // An unknown column sorts by student.
        let unknown = list(
            &lines,
            &names,
            &Kept::default(),
            &query(&[("sort", "nope"), ("dir", "desc")]),
        );
        assert_eq!(unknown.rows[0].student_id, "s249");
    }

    #[test]
    fn links_keep_the_search_and_filters_and_a_new_sort_starts_at_page_1() {
        let q = query(&[("q", "Ana & Bo"), ("rule", "tier:meets"), ("page", "2")]);
        assert_eq!(
            q.href(3, None),
            "?q=Ana%20%26%20Bo&rule=tier%3Ameets&sort=student&dir=asc&page=3"
        );
        assert_eq!(
            q.href(2, Some((Column::Total, true))),
            "?q=Ana%20%26%20Bo&rule=tier%3Ameets&sort=total&dir=desc&page=1"
        );
        assert!(q.needs_all_names());
        assert!(!query(&[("sort", "total")]).needs_all_names());
        assert!(query(&[("sort", "name")]).needs_all_names());
    }

    #[test]
    fn a_page_of_100000_lines_is_searched_and_sorted() {
        let template = line("s", "sch-a", "tier:meets", 1);
        let lines: Vec<Line> = (0..100_000)
            .map(|i| Line {
                student_id: format!("s{i:06}"),
                total: Decimal::from(i % 977),
                ..template.clone()
            })
            .collect();
        let students: HashMap<String, String> = lines
            .iter()
            .map(|l| (l.student_id.clone(), format!("Name {}", l.student_id)))
            .collect();
        let names = Names {
            students: Some(Arc::new(students)),
            schools: Arc::default(),
        };
        let listing = list(
            &lines,
            &names,
            &Kept::default(),
            &query(&[("q", "name s09"), ("sort", "total")]),
        );
        assert_eq!(listing.matched, 10_000);
        assert_eq!(listing.rows.len(), PAGE_ROWS);
    }

    #[test]
    fn kept_orders_and_searches_page_as_fresh_ones_do() {
        let lines: Vec<Line> = (0..250)
            .map(|i| line(&format!("s{i:03}"), "sch-a", "tier:meets", (i * 37) % 101))
            .collect();
        let names = names(
            Some(&[("s007", "Ada Lovelace"), ("s017", "Ada Byron")]),
            &[],
        );
        let kept = Kept::default();
        for pairs in [
            &[("sort", "total"), ("page", "2")][..],
            &[("sort", "total"), ("dir", "asc"), ("page", "3")],
            &[("sort", "total"), ("page", "2")],
            &[("sort", "student"), ("dir", "desc")],
            &[("sort", "name"), ("q", "ada")],
            &[("sort", "name"), ("q", "ADA BY")],
            &[("q", "s1")],
        ] {
            let ids = |l: Listing| {
                l.rows
                    .iter()
                    .map(|l| l.student_id.clone())
                    .collect::<Vec<_>>()
            };
            let with_kept = ids(list(&lines, &names, &kept, &query(pairs)));
            let fresh = ids(list(&lines, &names, &Kept::default(), &query(pairs)));
            assert_eq!(with_kept, fresh, "{pairs:?}");
        }
        let by_name = list(
            &lines,
            &names,
            &kept,
            &query(&[("sort", "name"), ("q", "ada")]),
        );
        assert_eq!(ids(&by_name), ["s017", "s007"], "Byron before Lovelace");
    }
}
