//! The CSV reading every importer shares: header lookup (case-insensitive, BOM stripped),
//! UTF-8 checking per record, trimmed cell getters and the value parsers, each failing with an
//! [`ImportError`] that names the line, the column and the value.

use crate::ImportError;
use rust_decimal::Decimal;
use std::io::Read;
use std::str::FromStr;
use time::{Date, Month};

/// The most columns a record may have. obc's widest format (MAP's combined data file) has
/// about 160; a bound keeps a header of a million empty columns from costing memory.
pub(crate) const MAX_COLUMNS: usize = 1_000;

/// The most bytes one record may hold (all its fields together; so also one field's limit).
/// A MAP row is about 1 KiB; 64 KiB leaves room while keeping memory per record bounded.
pub(crate) const MAX_RECORD_BYTES: usize = 64 * 1024;

/// What an importer asks a person to do when the file is not UTF-8.
const NOT_UTF8: &str = "UTF-8 text (save the file as CSV UTF-8)";

/// A header's key for lookup: lowercase ASCII letters and digits only, so `sourcedId`,
/// `SourcedID` and `sourced_id` are one column.
pub(crate) fn key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The header row of a CSV file.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// The names as the file writes them (trimmed).
    pub names: Vec<String>,
    keys: Vec<String>,
}

impl Header {
    /// The index of the first column whose name matches one of `names` (by [`key`]).
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| {
            let k = key(n);
            self.keys.iter().position(|h| *h == k)
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.find(&[name]).is_some()
    }

    /// Like [`Header::find`], with a line-1 error naming `names[0]` when absent.
    pub fn require(&self, file: &str, names: &[&str]) -> Result<usize, ImportError> {
        self.find(names).ok_or_else(|| {
            let mut expected = "this column in the header".to_string();
            if names.len() > 1 {
                let others: Vec<String> = names[1..].iter().map(|n| format!("`{n}`")).collect();
                expected.push_str(&format!(" (or {})", others.join(", ")));
            }
            if self.names.len() <= 12 {
                expected.push_str(&format!("; the header is `{}`", self.names.join(",")));
            }
            ImportError {
                file: file.to_string(),
                line: 1,
                column: Some(names[0].to_string()),
                value: None,
                expected,
            }
        })
    }
}

/// Why a record could not be read.
#[derive(Debug)]
enum ReadError {
    Io(std::io::Error),
    /// The record at this line is over [`MAX_COLUMNS`] or [`MAX_RECORD_BYTES`]; reading stops.
    TooLarge(u64, String),
}

impl ReadError {
    /// The error for a person; `line` is where reading was when an I/O error happened.
    fn into_import(self, file: &str, line: u64) -> ImportError {
        match self {
            ReadError::Io(e) => ImportError::at(file, line, format!("a readable file ({e})")),
            ReadError::TooLarge(at, expected) => ImportError::at(file, at, expected),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// Splits a byte stream into CSV records with the physical line each starts on.
///
/// Built on `csv_core` rather than `csv::Reader` because the latter's record positions skip
/// blank lines when counting, and an error must name the line a person sees in an editor.
/// Blank lines between records are skipped here; a UTF-8 byte-order mark is dropped.
struct RecordReader<R: Read> {
    core: csv_core::Reader,
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    started: bool,
    /// The physical line of `buf[pos]`.
    line: u64,
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl<R: Read> RecordReader<R> {
    fn new(inner: R) -> RecordReader<R> {
        RecordReader {
            core: csv_core::Reader::new(),
            inner,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            eof: false,
            started: false,
            line: 1,
            out: vec![0; 4096],
            ends: vec![0; 64],
        }
    }

    /// Reads more input once the buffer is used up; at the end of input `eof` is set.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.pos < self.len || self.eof {
            return Ok(());
        }
        self.pos = 0;
        self.len = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Drops a byte-order mark at the start of the input.
    fn skip_bom(&mut self) -> std::io::Result<()> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        // Gather up to three bytes even if the reader hands them out one by one.
        while self.len < BOM.len() && !self.eof {
            let len = self.len;
            match self.inner.read(&mut self.buf[len..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.buf[..self.len].starts_with(BOM) {
            self.pos = BOM.len();
        }
        Ok(())
    }

    /// The next record's start line; its fields are then in `out` and `ends`. A record over
    /// the bounds is an error before its memory grows past them.
    fn read_record(&mut self) -> Result<Option<(u64, usize)>, ReadError> {
        if !self.started {
            self.started = true;
            self.skip_bom()?;
        }
        // Skip blank lines, so the record starts where its first byte is.
        loop {
            self.fill()?;
            if self.pos == self.len {
                return Ok(None);
            }
            match self.buf[self.pos] {
                b'\n' => self.line += 1,
                b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
        let start = self.line;
        let (mut nout, mut nends) = (0, 0);
        loop {
            self.fill()?;
            let input = &self.buf[self.pos..self.len];
            let (res, nin, o, e) =
                self.core
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nends..]);
            self.line += input[..nin].iter().filter(|&&b| b == b'\n').count() as u64;
            self.pos += nin;
            nout += o;
            nends += e;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    if self.out.len() >= MAX_RECORD_BYTES {
                        return Err(ReadError::TooLarge(
                            start,
                            format!(
                                "a record of at most {} KiB (is a quote missing its closing \
                                 quote?)",
                                MAX_RECORD_BYTES / 1024
                            ),
                        ));
                    }
                    let n = (self.out.len() * 2).min(MAX_RECORD_BYTES);
                    self.out.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() > MAX_COLUMNS {
                        return Err(too_many_columns(start));
                    }
                    let n = (self.ends.len() * 2).min(MAX_COLUMNS + 1);
                    self.ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::Record if nends > MAX_COLUMNS => {
                    return Err(too_many_columns(start))
                }
                csv_core::ReadRecordResult::Record => return Ok(Some((start, nends))),
                csv_core::ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// Field `i` of the record just read.
    fn field(&self, i: usize) -> &[u8] {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.out[from..self.ends[i]]
    }
}

fn too_many_columns(line: u64) -> ReadError {
    ReadError::TooLarge(line, format!("at most {MAX_COLUMNS} columns"))
}

/// A CSV file read record by record.
pub(crate) struct CsvFile<R: Read> {
    pub name: String,
    pub header: Header,
    /// The line of the header (1 unless the file starts with blank lines).
    pub header_line: u64,
    reader: RecordReader<R>,
    /// The current record's text (all fields, concatenated) and field ends.
    text: String,
    ends: Vec<usize>,
    done: bool,
}

/// One validated record of a [`CsvFile`].
pub(crate) struct Row<'a> {
    pub file: &'a str,
    pub line: u64,
    header: &'a Header,
    text: &'a str,
    ends: &'a [usize],
}

impl<R: Read> CsvFile<R> {
    /// Reads the header row. An empty file, or a header that is not UTF-8, is an error.
    pub fn new(name: &str, reader: R) -> Result<CsvFile<R>, ImportError> {
        let mut reader = RecordReader::new(reader);
        let (line, width) = match reader.read_record() {
            Ok(Some(r)) => r,
            Ok(None) => return Err(ImportError::at(name, 1, "a header row (the file is empty)")),
            Err(e) => return Err(e.into_import(name, 1)),
        };
        let mut names = Vec::with_capacity(width);
        for i in 0..width {
            let field = reader.field(i);
            match std::str::from_utf8(field) {
                Ok(s) => names.push(s.trim().to_string()),
                Err(_) => {
                    return Err(ImportError {
                        file: name.to_string(),
                        line,
                        column: None,
                        value: Some(String::from_utf8_lossy(field).into_owned()),
                        expected: NOT_UTF8.to_string(),
                    })
                }
            }
        }
        if names.iter().all(|n| n.is_empty()) {
            return Err(ImportError::at(name, line, "a header row of column names"));
        }
        let keys = names.iter().map(|n| key(n)).collect();
        Ok(CsvFile {
            name: name.to_string(),
            header: Header { names, keys },
            header_line: line,
            reader,
            text: String::new(),
            ends: Vec::new(),
            done: false,
        })
    }

    /// The next record, checked for UTF-8 and for extra non-blank cells beyond the header.
    /// Records whose cells are all blank (`,,,` lines spreadsheets leave) are skipped.
    /// Returns `None` at the end of the file or after a read failure (reported once).
    pub fn next_row(&mut self) -> Option<Result<Row<'_>, ImportError>> {
        let (line, width) = loop {
            if self.done {
                return None;
            }
            let (line, width) = match self.reader.read_record() {
                Ok(Some(r)) => r,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into_import(&self.name, self.reader.line)));
                }
            };
            let blank = (0..width).all(|i| self.reader.field(i).trim_ascii().is_empty());
            if !blank {
                break (line, width);
            }
        };
        for i in 0..width {
            let field = self.reader.field(i);
            // A NUL byte is no text any database keeps the same way: refuse it here, by line.
            let expected = if std::str::from_utf8(field).is_err() {
                NOT_UTF8
            } else if field.contains(&0) {
                "text without NUL bytes (the file may be UTF-16: save it as CSV UTF-8)"
            } else {
                continue;
            };
            return Some(Err(ImportError {
                file: self.name.clone(),
                line,
                column: self.header.names.get(i).cloned(),
                value: Some(String::from_utf8_lossy(field).replace('\0', "\\0")),
                expected: expected.to_string(),
            }));
        }
        // Every field is UTF-8, so their concatenation is.
        let used = if width == 0 {
            0
        } else {
            self.reader.ends[width - 1]
        };
        let mut bytes = std::mem::take(&mut self.text).into_bytes();
        bytes.clear();
        bytes.extend_from_slice(&self.reader.out[..used]);
        self.text = String::from_utf8(bytes).expect("fields were checked");
        self.ends.clear();
        self.ends.extend_from_slice(&self.reader.ends[..width]);
        let header_width = self.header.names.len();
        if width > header_width
            && (header_width..width).any(|i| !self.reader.field(i).trim_ascii().is_empty())
        {
            return Some(Err(ImportError::at(
                &self.name,
                line,
                format!(
                    "at most {header_width} cells as in the header (found {width}; is a value \
                     with a comma missing its quotes?)"
                ),
            )));
        }
        Some(Ok(Row {
            file: &self.name,
            line,
            header: &self.header,
            text: &self.text,
            ends: &self.ends,
        }))
    }

    /// Reads to the end, checking that every record is well-formed (for files obc reads only
    /// to make sure they parse). Errors go to `sink`.
    pub fn check_all(&mut self, sink: &mut crate::ImportErrors) {
        while let Some(row) = self.next_row() {
            if let Err(e) = row {
                sink.push(e);
            }
        }
    }
}

impl<'a> Row<'a> {
    /// The trimmed cell of column `col`; blank when the record is shorter than the header.
    pub fn get(&self, col: usize) -> &'a str {
        match self.ends.get(col) {
            Some(&end) => {
                let from = if col == 0 { 0 } else { self.ends[col - 1] };
                self.text[from..end].trim()
            }
            None => "",
        }
    }

    /// The trimmed cell of an optional column; blank when the column is absent.
    pub fn opt(&self, col: Option<usize>) -> &'a str {
        col.map_or("", |c| self.get(c))
    }

    /// The name of column `col` as the file writes it.
    pub fn column_name(&self, col: usize) -> &'a str {
        self.header.names.get(col).map_or("", String::as_str)
    }

    /// An error about column `col` of this row, quoting its value.
    pub fn error(&self, col: usize, expected: impl Into<String>) -> ImportError {
        ImportError::value(
            self.file,
            self.line,
            self.column_name(col),
            self.get(col),
            expected,
        )
    }

    /// A cell that must not be blank.
    pub fn required(&self, col: usize, what: &str) -> Result<&'a str, ImportError> {
        let v = self.get(col);
        if v.is_empty() {
            Err(self.error(col, what))
        } else {
            Ok(v)
        }
    }

    pub fn iso_date(&self, col: usize) -> Result<Date, ImportError> {
        parse_iso_date(self.get(col)).ok_or_else(|| self.error(col, "a date as YYYY-MM-DD"))
    }

    /// An ISO date; blank (or an absent column) is `None`.
    pub fn opt_iso_date(&self, col: Option<usize>) -> Result<Option<Date>, ImportError> {
        match col {
            Some(c) if !self.get(c).is_empty() => self.iso_date(c).map(Some),
            _ => Ok(None),
        }
    }

    /// A decimal; blank (or an absent column) is `None`.
    pub fn opt_decimal(&self, col: Option<usize>) -> Result<Option<Decimal>, ImportError> {
        match col {
            Some(c) if !self.get(c).is_empty() => parse_decimal(self.get(c))
                .map(Some)
                .ok_or_else(|| self.error(c, "a decimal number such as 12 or 4.5")),
            _ => Ok(None),
        }
    }
}

/// `YYYY-MM-DD`, strictly (four-digit year, two-digit month and day, a real calendar day).
pub(crate) fn parse_iso_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&text[0..4])?;
    let month = digits(&text[5..7])?;
    let day = digits(&text[8..10])?;
    make_date(year, month, day)
}

/// `M/D/YYYY` as MAP writes dates (one or two digits for month and day).
pub(crate) fn parse_us_date(text: &str) -> Option<Date> {
    let mut parts = text.split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || m.len() > 2 || d.len() > 2 || y.len() != 4 {
        return None;
    }
    make_date(digits(y)?, digits(m)?, digits(d)?)
}

fn make_date(year: u32, month: u32, day: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

/// A non-empty run of ASCII digits (no sign, no spaces).
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A non-negative integer written with digits only (`30`, not `30.0` or `+30`).
pub(crate) fn parse_u32(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A plain decimal: optional sign, digits, optional fraction; no exponent, no separators.
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let ok = (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    Decimal::from_str(text.strip_prefix('+').unwrap_or(text)).ok()
}

/// A term name as SPEC 3.2 requires it, `<Fall|Winter|Spring|Summer> <YYYY>-<YYYY+1>`
/// (`Fall 2024-2025`), as its order: (school year's first year, Fall 0 < Winter < Spring <
/// Summer 3). `Autumn 2024-2025`, `Fall` or `Fall 2024-2026` are `None`.
pub(crate) fn parse_term_name(term: &str) -> Option<(u32, u8)> {
    let (season, years) = term.split_once(' ')?;
    let rank = ["Fall", "Winter", "Spring", "Summer"]
        .iter()
        .position(|s| *s == season)?;
    let (start, end) = years.split_once('-')?;
    let year = |s: &str| (s.len() == 4).then(|| digits(s)).flatten();
    let (start, end) = (year(start)?, year(end)?);
    (end == start + 1).then_some((start, rank as u8))
}

/// What a term cell must hold, for error messages.
pub(crate) const TERM_NAME: &str =
    "a term as <Fall|Winter|Spring|Summer> <YYYY>-<YYYY+1>, such as `Fall 2024-2025`";

/// Splits a multi-valued OneRoster cell (`sch-1,sch-2`, possibly with quotes or brackets
/// around items) into its non-blank items.
pub(crate) fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(|s| s.trim_matches(|c: char| c.is_whitespace() || "\"'[]{}".contains(c)))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(parse_iso_date("2024-09-06"), Some(d(2024, 9, 6)));
        assert_eq!(parse_iso_date("2024-9-06"), None);
        assert_eq!(parse_iso_date("2024-02-30"), None);
        assert_eq!(parse_iso_date("+024-02-03"), None);
        assert_eq!(parse_us_date("9/6/2024"), Some(d(2024, 9, 6)));
        assert_eq!(parse_us_date("12/31/2013"), Some(d(2013, 12, 31)));
        assert_eq!(parse_us_date("13/1/2013"), None);
        assert_eq!(parse_us_date("9/6/24"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_decimal("4.5"), Some(Decimal::new(45, 1)));
        assert_eq!(parse_decimal("-3"), Some(Decimal::from(-3)));
        assert_eq!(parse_decimal("+3"), Some(Decimal::from(3)));
        assert_eq!(parse_decimal(".5"), Some(Decimal::new(5, 1)));
        for bad in ["", ".", "1e5", "1_000", "1,5", "abc", "--1", "1.2.3"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
        assert_eq!(parse_u32("30"), Some(30));
        assert_eq!(parse_u32("-5"), None);
        assert_eq!(parse_u32("30.0"), None);
    }

    #[test]
    fn term_names() {
        assert_eq!(parse_term_name("Fall 2024-2025"), Some((2024, 0)));
        assert_eq!(parse_term_name("Summer 2012-2013"), Some((2012, 3)));
        assert!(parse_term_name("Spring 2013-2014") > parse_term_name("Winter 2013-2014"));
        for bad in [
            "Autumn 2024-2025",
            "Fall",
            "fall 2024-2025",
            "Fall 2024-2026",
            "Fall 2024",
            "Fall  2024-2025",
            "Fall 2024-2025 ",
            "Fall 24-25",
            "Fall +024-0025",
        ] {
            assert_eq!(parse_term_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn lists_and_keys() {
        let items: Vec<&str> = split_list(" \"sch-1\", sch-2 ,,").collect();
        assert_eq!(items, ["sch-1", "sch-2"]);
        assert_eq!(key("sourced_Id"), "sourcedid");
    }

    #[test]
    fn header_is_case_insensitive_and_bom_stripped() {
        let data = b"\xEF\xBB\xBFStudent_ID,Minutes\n1,2\n";
        let mut f = CsvFile::new("x.csv", &data[..]).unwrap();
        assert_eq!(f.header.find(&["studentid"]), Some(0));
        let e = f.header.require("x.csv", &["status"]).unwrap_err();
        assert_eq!(e.line, 1);
        assert_eq!(
            e.to_string(),
            "x.csv:1: column `status`: expected this column in the header; the header is `Student_ID,Minutes`"
        );
        let row = f.next_row().unwrap().unwrap();
        assert_eq!(
            (row.line, row.get(0), row.get(1), row.get(5)),
            (2, "1", "2", "")
        );
        assert!(f.next_row().is_none());
    }

    #[test]
    fn non_utf8_names_line_and_column() {
        let data = b"a,b\n1,2\n3,Jos\xE9\n";
        let mut f = CsvFile::new("x.csv", &data[..]).unwrap();
        assert!(f.next_row().unwrap().is_ok());
        let e = f.next_row().unwrap().err().unwrap();
        assert_eq!((e.line, e.column.as_deref()), (3, Some("b")));
        assert!(e.expected.contains("UTF-8"), "{e}");
        assert!(f.next_row().is_none());
        let e = CsvFile::new("y.csv", &b"J\xE9,b\n"[..]).err().unwrap();
        assert_eq!(e.line, 1);
        let e = CsvFile::new("z.csv", &b""[..]).err().unwrap();
        assert_eq!(
            e.to_string(),
            "z.csv:1: expected a header row (the file is empty)"
        );
    }

    #[test]
    fn nul_bytes_name_line_and_column() {
        let data = b"a,b\n1,2\n3,x\x00y\n";
        let mut f = CsvFile::new("x.csv", &data[..]).unwrap();
        assert!(f.next_row().unwrap().is_ok());
        let e = f.next_row().unwrap().err().unwrap();
        assert_eq!(
            (e.line, e.column.as_deref(), e.value.as_deref()),
            (3, Some("b"), Some("x\\0y"))
        );
        assert!(e.expected.contains("NUL"), "{e}");
    }

    /// A reader that hands out `len` copies of `byte` after `prefix`, without holding them.
    struct Repeat {
        prefix: &'static [u8],
        byte: u8,
        left: usize,
    }

    impl Read for Repeat {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.prefix.is_empty() {
                let n = self.prefix.len().min(buf.len());
                buf[..n].copy_from_slice(&self.prefix[..n]);
                self.prefix = &self.prefix[n..];
                return Ok(n);
            }
            let n = self.left.min(buf.len());
            buf[..n].fill(self.byte);
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_huge_header_of_commas_is_refused_early() {
        let twenty_mb = || Repeat {
            prefix: b"",
            byte: b',',
            left: 20 << 20,
        };
        let e = CsvFile::new("x.csv", twenty_mb()).err().unwrap();
        assert_eq!(e.to_string(), "x.csv:1: expected at most 1000 columns");
        // It stopped at the bound, after one buffer of input: memory never grew past it.
        let mut reader = RecordReader::new(twenty_mb());
        assert!(reader.read_record().is_err());
        assert!(reader.ends.len() <= MAX_COLUMNS + 1);
        assert!(reader.inner.left >= (20 << 20) - reader.buf.len());
    }

    #[test]
    fn a_huge_field_is_refused_at_its_line() {
        let data = Repeat {
            prefix: b"a,b\n1,2\n3,\"",
            byte: b'x',
            left: 20 << 20,
        };
        let mut f = CsvFile::new("x.csv", data).unwrap();
        assert!(f.next_row().unwrap().is_ok());
        let e = f.next_row().unwrap().err().unwrap();
        assert_eq!(e.line, 3);
        assert!(e.expected.contains("at most 64 KiB"), "{e}");
        assert!(f.next_row().is_none());
        assert!(f.reader.out.len() <= MAX_RECORD_BYTES);
        // A record just under the bound is fine.
        let mut text = b"a,b\n".to_vec();
        text.extend(std::iter::repeat_n(b'y', MAX_RECORD_BYTES - 10));
        text.extend_from_slice(b",z\n");
        let mut f = CsvFile::new("x.csv", &text[..]).unwrap();
        assert_eq!(f.next_row().unwrap().ok().unwrap().get(1), "z");
    }

    #[test]
    fn extra_cells_and_multiline_records() {
        let data = b"a,b\r\n\r\n1,2,\n\n,,\n\"x\r\ny\",2\r\n3,4,5\n\n7";
        let mut f = CsvFile::new("x.csv", &data[..]).unwrap();
        assert_eq!(f.next_row().unwrap().ok().unwrap().line, 3);
        let row = f.next_row().unwrap().ok().unwrap();
        assert_eq!((row.line, row.get(0), row.get(1)), (6, "x\r\ny", "2"));
        let e = f.next_row().unwrap().err().unwrap();
        assert_eq!(e.line, 8);
        let row = f.next_row().unwrap().ok().unwrap();
        assert_eq!((row.line, row.get(0), row.get(1)), (10, "7", ""));
        assert!(f.next_row().is_none());
    }
}
