//! Lists people can work with: a page of at most [`PAGE_SIZE`] rows, kept by a search and the
//! page's own filters, sorted by any column, with plain links for the headers and the pager
//! (the pages run no script: the content security policy forbids it). One pure function,
//! [`paginate`], serves every list; downloads (CSV, JSON) stay whole and never go through it.
//!
//! A list of a whole contract (100,000 students) is kept beside its shared rows instead
//! ([`paginate_kept`]): its sorted orders and a search index are computed once per rows and
//! names ([`Kept`]), because sorting or searching every row costs tens of milliseconds a request.

use memchr::memmem;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// The most rows one page shows.
pub const PAGE_SIZE: usize = 100;

/// The most words a search matches (docs/RULES.md); later words are ignored.
pub const MAX_SEARCH_WORDS: usize = 12;

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
        self.words()
            .iter()
            .all(|word| texts.iter().any(|t| contains_folded(t, word)))
    }

    /// The search's words, lowercase, each once, at most [`MAX_SEARCH_WORDS`]: every word is
    /// a pass over a whole contract's texts, so a pasted paragraph must not cost thousands.
    pub fn words(&self) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for word in self.search().to_lowercase().split_whitespace() {
            if words.len() == MAX_SEARCH_WORDS {
                break;
            }
            if !words.iter().any(|w| w == word) {
                words.push(word.to_string());
            }
        }
        words
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
    pub fn map<U>(self, row: impl FnMut(&T) -> U) -> Page<U> {
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
    let order = sorted_column(columns, query).map(|c| sort_order(&rows, c, query.descending()));
    let page = page_of(
        rows.len(),
        order.as_deref(),
        |i| keep(&rows[i]),
        columns,
        query,
        base,
        filters,
    );
    let mut rows: Vec<Option<T>> = rows.into_iter().map(Some).collect();
    page.map(|&i| rows[i].take().expect("a page holds each row once"))
}

/// [`paginate`] over rows shared between requests (one statement's lines, one progress
/// report's students), with their sorted orders kept in `kept` (one per rows) under the name
/// `list` (the page's), for the `names` the rows are shown with. `keep` is given each row's
/// index, so a search can read [`Kept::search`]'s answer.
#[allow(clippy::too_many_arguments)] // the list's parts, all needed to build its links
pub fn paginate_kept<'r, T>(
    rows: &'r [T],
    kept: &Kept,
    names: &Names,
    list: &str,
    keep: impl Fn(usize) -> bool,
    columns: &[Column<T>],
    query: &ListQuery,
    base: &str,
    filters: &[(&str, &str)],
) -> Page<&'r T> {
    let descending = query.descending();
    let order = sorted_column(columns, query).map(|c| {
        let key = format!("{list}:{}:{descending}", c.key);
        kept.orders
            .of(names, &key, || sort_order(rows, c, descending))
    });
    let page = page_of(
        rows.len(),
        order.as_deref().map(Vec::as_slice),
        keep,
        columns,
        query,
        base,
        filters,
    );
    page.map(|&i| &rows[i])
}

/// The column the query sorts by, if it names one.
fn sorted_column<'c, T>(columns: &'c [Column<T>], query: &ListQuery) -> Option<&'c Column<T>> {
    let key = query.sort.as_deref()?;
    columns.iter().find(|c| c.key == key)
}

/// The rows' indexes sorted by `column` (stably).
fn sort_order<T>(rows: &[T], column: &Column<T>, descending: bool) -> Vec<u32> {
    let mut keyed: Vec<(SortKey, u32)> = (rows.iter().enumerate())
        .map(|(i, r)| ((column.sort_by)(r), i as u32))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| by_direction(a, b, descending));
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The page of row indexes that `keep` keeps, in `order` (the rows' own without one).
fn page_of<T>(
    len: usize,
    order: Option<&[u32]>,
    keep: impl Fn(usize) -> bool,
    columns: &[Column<T>],
    query: &ListQuery,
    base: &str,
    filters: &[(&str, &str)],
) -> Page<usize> {
    let kept: Vec<usize> = match order {
        Some(order) => (order.iter().map(|&i| i as usize))
            .filter(|&i| keep(i))
            .collect(),
        None => (0..len).filter(|&i| keep(i)).collect(),
    };
    let sorted = sorted_column(columns, query);
    let descending = query.descending();
    let total = kept.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let skip = (page - 1) * PAGE_SIZE;
    let rows: Vec<usize> = kept.into_iter().skip(skip).take(PAGE_SIZE).collect();
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
        unfiltered: len,
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

/// Names by id as a list shows and searches them: students' (only for viewers who may see
/// them) and schools'. Both are shared until a roster import replaces them, so what is kept
/// for a list knows them by identity.
#[derive(Clone)]
pub struct Names {
    pub students: Option<Arc<HashMap<String, String>>>,
    pub schools: Arc<HashMap<String, String>>,
}

impl Names {
    pub fn student(&self, id: &str) -> Option<&str> {
        self.students.as_ref()?.get(id).map(String::as_str)
    }

    /// The school's name, or its id when the roster named none.
    pub fn school<'s>(&'s self, id: &'s str) -> &'s str {
        crate::format::school_name(&self.schools, id)
    }

    /// Whether these are the very names `other` holds (not equal copies).
    fn same(&self, other: &Names) -> bool {
        let students = match (&self.students, &other.students) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        students && Arc::ptr_eq(&self.schools, &other.schools)
    }
}

/// What is kept for one list's rows (kept beside them, e.g. per statement): sorted orders and
/// search indexes, by the names they were computed with and a name of their own.
#[derive(Default)]
pub struct Kept {
    orders: KeptBy<Vec<u32>>,
    searches: KeptBy<SearchIndex>,
}

impl Kept {
    /// The rows' search index named `list`, built by `texts` the first time: each row's
    /// searchable texts, `per_row` of them (empty when a row has none).
    pub fn search<'t, I: Iterator<Item = &'t str>>(
        &self,
        names: &Names,
        list: &str,
        per_row: usize,
        texts: impl FnOnce() -> I,
    ) -> Arc<SearchIndex> {
        self.searches
            .of(names, list, || SearchIndex::new(per_row, texts()))
    }

    /// The rows' order named `key`, sorted by `sort` the first time.
    pub fn order(
        &self,
        names: &Names,
        key: &str,
        sort: impl FnOnce() -> Vec<u32>,
    ) -> Arc<Vec<u32>> {
        self.orders.of(names, key, sort)
    }
}

/// How many values of a kind stay kept for one list (each order of 100,000 rows is 400 kB).
const KEPT_PER_LIST: usize = 24;

/// Values by names and key, the most recently computed first.
struct KeptBy<T> {
    kept: Mutex<VecDeque<(Names, String, Arc<T>)>>,
}

impl<T> Default for KeptBy<T> {
    fn default() -> Self {
        KeptBy {
            kept: Mutex::new(VecDeque::new()),
        }
    }
}

impl<T> KeptBy<T> {
    /// The value for `names` and `key`, computed outside the lock (two first requests at once
    /// may both compute it; either result is the same).
    fn of(&self, names: &Names, key: &str, compute: impl FnOnce() -> T) -> Arc<T> {
        let found = (self.lock().iter())
            .find(|(n, k, _)| k == key && n.same(names))
            .map(|(_, _, v)| v.clone());
        if let Some(value) = found {
            return value;
        }
        let value = Arc::new(compute());
        let mut kept = self.lock();
        kept.push_front((names.clone(), key.to_string(), value.clone()));
        kept.truncate(KEPT_PER_LIST);
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Names, String, Arc<T>)>> {
        self.kept
            .lock()
            .expect("the kept lists' lock is never poisoned")
    }
}

/// Every row's searchable texts, lowercase, in one buffer: a search is one substring scan over
/// it (`memchr`'s, which skips ahead by whole blocks) instead of a comparison per row and text.
pub struct SearchIndex {
    folded: String,
    /// Where each text ends in `folded`; a row's texts are `per_row` consecutive ones.
    ends: Vec<usize>,
    per_row: usize,
}

impl SearchIndex {
    /// The index of `texts`, `per_row` of them per row, in row order.
    pub fn new<'t>(per_row: usize, texts: impl Iterator<Item = &'t str>) -> SearchIndex {
        let (mut folded, mut ends) = (String::new(), Vec::new());
        for text in texts {
            if text.is_ascii() {
                let start = folded.len();
                folded.push_str(text);
                folded[start..].make_ascii_lowercase();
            } else {
                folded.push_str(&text.to_lowercase());
            }
            ends.push(folded.len());
        }
        SearchIndex {
            folded,
            ends,
            per_row: per_row.max(1),
        }
    }

    /// For each row, whether every one of `needles` (lowercase) is within one of its texts.
    pub fn rows_matching(&self, needles: &[String]) -> Vec<bool> {
        let rows = self.ends.len() / self.per_row;
        let mut kept = vec![true; rows];
        let haystack = self.folded.as_bytes();
        for needle in needles.iter().filter(|n| !n.is_empty()) {
            let finder = memmem::Finder::new(needle.as_bytes());
            let mut found = vec![false; rows];
            let mut from = 0;
            while let Some(at) = finder.find(&haystack[from..]).map(|hit| from + hit) {
                let text = self.ends.partition_point(|&end| end <= at);
                let row = text / self.per_row;
                if at + needle.len() <= self.ends[text] {
                    found[row] = true;
                    // The row is found: go on from the next row.
                    from = self.ends[(row + 1) * self.per_row - 1];
                } else {
                    // A hit across two texts is none; one may start inside it.
                    from = at + 1;
                }
            }
            for (keep, found) in kept.iter_mut().zip(found) {
                *keep &= found;
            }
            if !kept.contains(&true) {
                break;
            }
        }
        kept
    }
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

    #[test]
    fn a_search_has_each_word_once_and_at_most_twelve() {
        let q = |text: &str| ListQuery {
            q: Some(text.into()),
            ..ListQuery::default()
        };
        assert_eq!(q(" Ana ana  RUIZ ").words(), ["ana", "ruiz"]);
        let many: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let words = q(&many.join(" ")).words();
        assert_eq!(words.len(), MAX_SEARCH_WORDS);
        assert_eq!(words[..], many[..MAX_SEARCH_WORDS]);
    }

    #[test]
    fn the_search_index_finds_words_within_one_text_of_a_row() {
        // Row 0's texts run together as "abab|ab"; "bab" must be found inside "abab" although
        // a scan first meets it across the two texts of row 0 and 1.
        let index = SearchIndex::new(2, ["ab", "abab", "Élodie", "", "x", "Dupré"].into_iter());
        let find = |needles: &[&str]| {
            let needles: Vec<String> = needles.iter().map(|n| n.to_string()).collect();
            index.rows_matching(&needles)
        };
        assert_eq!(find(&["bab"]), [true, false, false]);
        assert_eq!(find(&["ba"]), [true, false, false]);
        assert_eq!(
            find(&["abx"]),
            [false, false, false],
            "across rows is no match"
        );
        assert_eq!(find(&["élodie"]), [false, true, false]);
        assert_eq!(find(&["x", "dupré"]), [false, false, true]);
        assert_eq!(find(&["x", "ab"]), [false, false, false]);
        assert_eq!(find(&[]), [true, true, true]);
        assert_eq!(find(&[""]), [true, true, true]);
    }

    #[test]
    fn kept_lists_page_as_fresh_ones_do_and_keep_one_order_per_names() {
        let rows = rows(250);
        let names = Names {
            students: None,
            schools: Arc::default(),
        };
        let kept = Kept::default();
        for q in [
            query("", "score", "desc", 2),
            query("ana", "score", "asc", 1),
            query("", "id", "desc", 3),
            query("ben s1", "", "", 1),
        ] {
            let found = kept.search(&names, "rows", 2, || {
                rows.iter().flat_map(|r| [r.0.as_str(), r.1])
            });
            let found = found.rows_matching(&q.words());
            let with_kept = paginate_kept(
                &rows,
                &kept,
                &names,
                "rows",
                |i| found[i],
                &columns(),
                &q,
                "/x",
                &[("school", "sch 1")],
            );
            let fresh = list(rows.clone(), &q);
            let ids = |p: Vec<&Row>| p.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
            assert_eq!(
                ids(with_kept.rows),
                ids(fresh.rows.iter().collect()),
                "{q:?}"
            );
            assert_eq!((with_kept.total, with_kept.next), (fresh.total, fresh.next));
        }
        assert_eq!(kept.orders.lock().len(), 3);
        // Other names (a roster import) are other orders.
        let other = Names {
            students: None,
            schools: Arc::default(),
        };
        paginate_kept(
            &rows,
            &kept,
            &other,
            "rows",
            |_| true,
            &columns(),
            &query("", "id", "desc", 1),
            "/x",
            &[],
        );
        assert_eq!(kept.orders.lock().len(), 4);
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
