//! Lists people can work with: a page of at most [`PAGE_SIZE`] rows, kept by a search and the
//! page's own filters, sorted by any column, with plain links for the headers and the pager
//! (the pages run no script: the content security policy forbids it). One pure function,
//! [`paginate`], serves every list; downloads (CSV, JSON) stay whole and never go through it.

use rust_decimal::Decimal;
use serde::Deserialize;
use std::cmp::Ordering;

/// The most rows one page shows.
pub const PAGE_SIZE: usize = 100;

/// What every list's query string may ask for (pages add their own filters beside it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    /// Words to search for: a row is kept when every word is in one of its searchable texts.
    pub q: Option<String>,
    /// A column key; unknown keys keep the rows' own order.
    pub sort: Option<String>,
    /// `desc` sorts from the largest; anything else from the smallest.
    pub dir: Option<String>,
    /// 1-based; clamped to the pages there are.
    pub page: Option<usize>,
}

impl ListQuery {
    /// The search as typed, trimmed (empty when none).
    pub fn search(&self) -> &str {
        self.q.as_deref().map_or("", str::trim)
    }

    /// Whether every word of the search is in one of `texts` (ignoring case); true without a
    /// search.
    pub fn matches(&self, texts: &[&str]) -> bool {
        // Without a search every row matches, and no row's texts are lowered.
        if !self.searching() {
            return true;
        }
        self.search()
            .to_lowercase()
            .split_whitespace()
            .all(|word| texts.iter().any(|t| contains_folded(t, word)))
    }

    /// Whether the query searches: rows whose texts cost a lookup skip it otherwise.
    pub fn searching(&self) -> bool {
        !self.search().trim().is_empty()
    }

    fn descending(&self) -> bool {
        self.dir.as_deref() == Some("desc")
    }
}

/// Whether `text` holds `needle` (already lowercase), ignoring case; without allocating when
/// both are ASCII, as ids and most names are.
pub fn contains_folded(text: &str, needle: &str) -> bool {
    if text.is_ascii() && needle.is_ascii() {
        let (text, needle) = (text.as_bytes(), needle.as_bytes());
        return needle.is_empty()
            || text
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle));
    }
    text.to_lowercase().contains(needle)
}

/// What a column sorts by. Missing values sort after every value, whichever the direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Number(Decimal),
    Text(String),
    Missing,
}

impl SortKey {
    pub fn text(s: &str) -> SortKey {
        SortKey::Text(s.to_lowercase())
    }

    pub fn number(n: impl Into<Decimal>) -> SortKey {
        SortKey::Number(n.into())
    }

    pub fn maybe(n: Option<Decimal>) -> SortKey {
        n.map_or(SortKey::Missing, SortKey::Number)
    }
}

/// One sortable column of a list: `key` is what `?sort=` names.
pub struct Column<T> {
    pub key: &'static str,
    pub label: &'static str,
    pub numeric: bool,
    pub sort_by: fn(&T) -> SortKey,
}

/// A column header as the page shows it: a link that sorts by the column (or reverses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub label: &'static str,
    pub href: String,
    /// `ascending`, `descending` or `none`: the header's `aria-sort`.
    pub sorted: &'static str,
    pub numeric: bool,
}

/// One page of a list, with what the page needs to show where it is.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// Rows kept by the search and filters (on every page).
    pub total: usize,
    /// Rows before the search and filters.
    pub unfiltered: usize,
    /// 1-based.
    pub page: usize,
    pub pages: usize,
    /// 1-based numbers of the first and last row shown (0 and 0 when none).
    pub first: usize,
    pub last: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub headers: Vec<Header>,
    /// The search as typed, for the search field.
    pub search: String,
    /// The sort and direction in force, for the filter form's hidden fields.
    pub sort: String,
    pub dir: String,
}

impl<T> Page<T> {
    /// Whether a search or filter hides rows.
    pub fn filtered(&self) -> bool {
        self.total != self.unfiltered
    }

    /// The same page with its rows turned into what a template shows.
    pub fn map<U>(self, row: impl Fn(&T) -> U) -> Page<U> {
        Page {
            rows: self.rows.iter().map(row).collect(),
            total: self.total,
            unfiltered: self.unfiltered,
            page: self.page,
            pages: self.pages,
            first: self.first,
            last: self.last,
            prev: self.prev,
            next: self.next,
            headers: self.headers,
            search: self.search,
            sort: self.sort,
            dir: self.dir,
        }
    }
}

/// The rows `keep` keeps, sorted as the query asks (stably: rows equal on the column keep
/// their order), cut to the page asked for. `base` is the page's path and `filters` its own
/// query parameters (empty values are left out of links), kept in every link it builds.
pub fn paginate<T>(
    rows: Vec<T>,
    keep: impl Fn(&T) -> bool,
    columns: &[Column<T>],
    query: &ListQuery,
    base: &str,
    filters: &[(&str, &str)],
) -> Page<T> {
    let unfiltered = rows.len();
    let mut rows: Vec<T> = rows.into_iter().filter(|r| keep(r)).collect();
    let sorted = query
        .sort
        .as_deref()
        .and_then(|key| columns.iter().find(|c| c.key == key));
    let descending = query.descending();
    if let Some(column) = sorted {
        let mut keyed: Vec<(SortKey, T)> = rows
            .into_iter()
            .map(|r| ((column.sort_by)(&r), r))
            .collect();
        keyed.sort_by(|(a, _), (b, _)| by_direction(a, b, descending));
        rows = keyed.into_iter().map(|(_, r)| r).collect();
    }
    let total = rows.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let skip = (page - 1) * PAGE_SIZE;
    let rows: Vec<T> = rows.into_iter().skip(skip).take(PAGE_SIZE).collect();
    let (sort, dir) = match sorted {
        Some(c) => (c.key, if descending { "desc" } else { "asc" }),
        None => ("", ""),
    };
    let link = |sort: &str, dir: &str, page: usize| {
        let page = page.to_string();
        let mut params: Vec<(&str, &str)> = filters.to_vec();
        params.extend([("q", query.search()), ("sort", sort), ("dir", dir)]);
        if page != "1" {
            params.push(("page", &page));
        }
        href(base, &params)
    };
    let headers = columns
        .iter()
        .map(|c| {
            let this = sorted.is_some_and(|s| s.key == c.key);
            let next_dir = if this && !descending { "desc" } else { "asc" };
            Header {
                label: c.label,
                href: link(c.key, next_dir, 1),
                sorted: match (this, descending) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                },
                numeric: c.numeric,
            }
        })
        .collect();
    Page {
        first: if rows.is_empty() { 0 } else { skip + 1 },
        last: skip + rows.len(),
        prev: (page > 1).then(|| link(sort, dir, page - 1)),
        next: (page < pages).then(|| link(sort, dir, page + 1)),
        rows,
        total,
        unfiltered,
        page,
        pages,
        headers,
        search: query.search().to_string(),
        sort: sort.to_string(),
        dir: dir.to_string(),
    }
}

/// Ascending or descending, with missing values last either way.
fn by_direction(a: &SortKey, b: &SortKey, descending: bool) -> Ordering {
    match (a, b) {
        (SortKey::Missing, SortKey::Missing) => Ordering::Equal,
        (SortKey::Missing, _) => Ordering::Greater,
        (_, SortKey::Missing) => Ordering::Less,
        _ if descending => b.cmp(a),
        _ => a.cmp(b),
    }
}

/// `base?k=v&...` with the empty values left out and the rest percent-encoded.
pub fn href(base: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

/// Percent-encodes all but the unreserved characters of RFC 3986.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_search_matches_ignoring_case_with_or_without_ascii() {
        assert!(contains_folded("Ada LOVELACE", "lovelace"));
        assert!(contains_folded("S0012", "s00"));
        assert!(!contains_folded("Ada", "adam"));
        assert!(contains_folded("ÉLODIE Dupré", "élodie"));
        assert!(contains_folded("anything", ""));
    }

    /// (id, name, score)
    type Row = (String, &'static str, Option<i64>);

    fn rows(n: usize) -> Vec<Row> {
        (1..=n)
            .map(|i| {
                let name = if i % 2 == 0 { "Ana Ruiz" } else { "Ben Ode" };
                let score = (i % 7 != 0).then_some((i * 37 % 101) as i64);
                (format!("s{i:03}"), name, score)
            })
            .collect()
    }

    fn columns() -> Vec<Column<Row>> {
        vec![
            Column {
                key: "id",
                label: "Student",
                numeric: false,
                sort_by: |r| SortKey::text(&r.0),
            },
            Column {
                key: "score",
                label: "Score",
                numeric: true,
                sort_by: |r| SortKey::maybe(r.2.map(Decimal::from)),
            },
        ]
    }

    fn query(q: &str, sort: &str, dir: &str, page: usize) -> ListQuery {
        ListQuery {
            q: Some(q.into()),
            sort: Some(sort.into()),
            dir: Some(dir.into()),
            page: Some(page),
        }
    }

    fn list(rows: Vec<Row>, q: &ListQuery) -> Page<Row> {
        paginate(
            rows,
            |r| q.matches(&[&r.0, r.1]),
            &columns(),
            q,
            "/x",
            &[("school", "sch 1")],
        )
    }

    #[test]
    fn pages_hold_at_most_a_hundred_rows_and_link_to_their_neighbours() {
        let p = list(rows(250), &ListQuery::default());
        assert_eq!((p.rows.len(), p.total, p.pages, p.page), (100, 250, 3, 1));
        assert_eq!((p.first, p.last), (1, 100));
        assert_eq!(p.prev, None);
        assert_eq!(p.next.as_deref(), Some("/x?school=sch%201&page=2"));
        let last = list(rows(250), &query("", "", "", 9));
        assert_eq!((last.page, last.first, last.last), (3, 201, 250));
        assert_eq!(last.rows[0].0, "s201");
        assert_eq!(last.prev.as_deref(), Some("/x?school=sch%201&page=2"));
        assert_eq!(last.next, None);
        let empty = list(Vec::new(), &ListQuery::default());
        assert_eq!(
            (empty.pages, empty.page, empty.first, empty.last),
            (1, 1, 0, 0)
        );
    }

    #[test]
    fn the_search_keeps_rows_with_every_word_ignoring_case() {
        let p = list(rows(250), &query("ana S00", "", "", 1));
        let ids: Vec<&str> = p.rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(ids, ["s002", "s004", "s006", "s008"]);
        assert_eq!((p.total, p.unfiltered), (4, 250));
        assert!(p.filtered());
        assert_eq!(p.search, "ana S00");
    }

    #[test]
    fn any_column_sorts_both_ways_with_missing_values_last() {
        let up = list(rows(20), &query("", "score", "asc", 1));
        let scores: Vec<Option<i64>> = up.rows.iter().map(|r| r.2).collect();
        assert_eq!(&scores[..3], &[Some(3), Some(10), Some(20)]);
        assert_eq!(&scores[18..], &[None, None]);
        let down = list(rows(20), &query("", "score", "desc", 1));
        let scores: Vec<Option<i64>> = down.rows.iter().map(|r| r.2).collect();
        assert_eq!(scores[0], Some(97));
        assert_eq!(&scores[18..], &[None, None]);
        // The sorted header reverses; the others sort ascending; all keep search and filters.
        assert_eq!(down.headers[1].sorted, "descending");
        assert_eq!(down.headers[1].href, "/x?school=sch%201&sort=score&dir=asc");
        assert_eq!(down.headers[0].sorted, "none");
        assert_eq!(up.headers[1].href, "/x?school=sch%201&sort=score&dir=desc");
        let unknown = list(rows(5), &query("", "nope", "desc", 1));
        assert_eq!(unknown.rows[0].0, "s001");
        assert_eq!(unknown.sort, "");
    }

    #[test]
    fn links_keep_the_search_sort_and_filters() {
        let p = list(rows(250), &query("Ben & co", "id", "desc", 2));
        assert_eq!(p.total, 0);
        let p = list(rows(250), &query("ben", "id", "desc", 1));
        assert_eq!(p.rows[0].0, "s249");
        assert_eq!(
            p.next.as_deref(),
            Some("/x?school=sch%201&q=ben&sort=id&dir=desc&page=2")
        );
        assert_eq!(href("/y", &[("q", "a&b=c")]), "/y?q=a%26b%3Dc");
    }
}
