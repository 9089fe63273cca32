//! A stored statement's JSON parsed a line at a time. serde_json reading from an `io::Read`
//! makes a call per byte: two finalized statements of 100,000 students, 200 MB of JSON, took
//! 1.8 s to parse that way before a statement could start, several times what parsing the
//! same bytes from a slice takes. So the text is scanned as it is inflated: each element of
//! the document's top-level `lines` array is cut out and parsed from its own bytes, and the
//! rest of the document (its header, adjustments and totals) is parsed with `lines` left
//! empty. Only one line's text is held at a time.
//!
//! The scan is written here, not taken from a crate: it only has to find where each element
//! of one array ends (strings, their escapes and nesting), and serde_json still parses every
//! byte it keeps, so a damaged document is reported as serde_json reports it.

use obc_core::Statement;
use serde::de::DeserializeOwned;
use std::io::BufRead;

/// The key of the array cut into lines.
const KEY: &[u8] = b"lines";

/// Where a byte of the document goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sink {
    /// The document without its lines.
    Rest,
    /// The line being cut out.
    Line,
    /// Nowhere: the commas and spaces between lines.
    Between,
}

/// The scan's state between two bytes.
struct Scan {
    /// Open objects and arrays around the byte.
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// How much of `lines` the top-level object's current string has matched (`None`: it is
    /// some other string). A key is followed by `:` and its value, so a `[` right after the
    /// key `"lines"` opens the lines. A key spelled with escapes is not recognised: its array
    /// is then parsed with the rest, slower but the same.
    key_matched: Option<usize>,
    last_key_is_lines: bool,
    in_lines: bool,
    rest: Vec<u8>,
    line: Vec<u8>,
}

/// The statement `text` holds, its lines parsed one at a time (see the module's text).
pub(crate) fn parse<L: DeserializeOwned>(mut text: impl BufRead) -> Result<Statement<L>, String> {
    let mut scan = Scan::new();
    let mut lines = Vec::new();
    loop {
        let chunk = text.fill_buf().map_err(|e| e.to_string())?;
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        scan.chunk(chunk, |line| {
            lines.push(serde_json::from_slice::<L>(line).map_err(|e| format!("a line: {e}"))?);
            Ok(())
        })?;
        text.consume(n);
    }
    if scan.in_lines || scan.in_string {
        return Err("the statement's JSON ends inside its lines".to_string());
    }
    let mut statement: Statement<L> =
        serde_json::from_slice(&scan.rest).map_err(|e| e.to_string())?;
    lines.shrink_to_fit();
    statement.lines = lines;
    Ok(statement)
}

impl Scan {
    fn new() -> Scan {
        Scan {
            depth: 0,
            in_string: false,
            escaped: false,
            key_matched: None,
            last_key_is_lines: false,
            in_lines: false,
            rest: Vec::new(),
            line: Vec::new(),
        }
    }

    /// Scans `chunk`, giving each whole line to `line_done`.
    fn chunk(
        &mut self,
        chunk: &[u8],
        mut line_done: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        // Bytes from `mark` on go to `sink`; they are copied when the sink changes.
        let mut mark = 0;
        let mut sink = self.sink();
        let mut i = 0;
        while let Some(skip) = self.skip(&chunk[i..]) {
            i += skip;
            let (this, ends_line) = self.step(chunk[i])?;
            if this != sink {
                self.copy(sink, &chunk[mark..i]);
                (mark, sink) = (i, this);
            }
            if ends_line {
                self.copy(sink, &chunk[mark..=i]);
                mark = i + 1;
                line_done(&self.line)?;
                self.line.clear();
                sink = self.sink();
            }
            i += 1;
        }
        self.copy(sink, &chunk[mark..]);
        Ok(())
    }

    /// How many of `bytes`' first bytes leave the state as it is (they only go to the current
    /// sink): the next byte may change it. `None` when all do. Most of a statement is text
    /// inside a line's strings, skipped with `memchr` to the next quote or backslash.
    fn skip(&self, bytes: &[u8]) -> Option<usize> {
        if self.in_string {
            if self.escaped || self.key_matched.is_some() {
                return (!bytes.is_empty()).then_some(0);
            }
            return memchr::memchr2(b'"', b'\\', bytes);
        }
        if self.sink() == Sink::Between {
            // Between lines, anything but a space or a comma is an error to report.
            return (!bytes.is_empty()).then_some(0);
        }
        bytes
            .iter()
            .position(|b| matches!(b, b'"' | b'{' | b'}' | b'[' | b']'))
    }

    /// Where bytes go in the current state, before the next byte changes it.
    fn sink(&self) -> Sink {
        match (self.in_lines, self.depth) {
            (false, _) => Sink::Rest,
            (true, 0..=2) => Sink::Between,
            (true, _) => Sink::Line,
        }
    }

    fn copy(&mut self, sink: Sink, bytes: &[u8]) {
        match sink {
            Sink::Rest => self.rest.extend_from_slice(bytes),
            Sink::Line => self.line.extend_from_slice(bytes),
            Sink::Between => {}
        }
    }

    /// Byte `b`'s sink, and whether it ends a line; updates the state.
    fn step(&mut self, b: u8) -> Result<(Sink, bool), String> {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'"' {
                self.in_string = false;
                self.last_key_is_lines = self.key_matched == Some(KEY.len());
            } else {
                self.escaped = b == b'\\';
                self.key_matched = self
                    .key_matched
                    .filter(|&n| KEY.get(n) == Some(&b))
                    .map(|n| n + 1);
            }
            return Ok((self.sink(), false));
        }
        match b {
            b'"' => {
                if self.in_lines && self.depth == 2 {
                    return Err("a statement line is a string, not an object".to_string());
                }
                self.in_string = true;
                self.last_key_is_lines = false;
                self.key_matched = (!self.in_lines && self.depth == 1).then_some(0);
                Ok((self.sink(), false))
            }
            b'{' | b'[' => {
                if self.in_lines && self.depth == 2 && b == b'[' {
                    return Err("a statement line is an array, not an object".to_string());
                }
                let opens_lines =
                    b == b'[' && !self.in_lines && self.depth == 1 && self.last_key_is_lines;
                self.depth += 1;
                if opens_lines {
                    self.in_lines = true;
                    return Ok((Sink::Rest, false));
                }
                Ok((self.sink(), false))
            }
            b'}' | b']' => {
                let sink = self.sink();
                self.depth = (self.depth.checked_sub(1))
                    .ok_or_else(|| "a `}` or `]` too many".to_string())?;
                if self.in_lines && self.depth == 1 {
                    self.in_lines = false;
                    self.last_key_is_lines = false;
                    return Ok((Sink::Rest, false));
                }
                Ok((sink, self.in_lines && self.depth == 2))
            }
            b',' | b' ' | b'\n' | b'\r' | b'\t' => Ok((self.sink(), false)),
            _ if self.in_lines && self.depth == 2 => {
                Err("a statement line is a number or literal, not an object".to_string())
            }
            _ => Ok((self.sink(), false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obc_core::corrections::{PaidLine, PaidStatement};

    fn statement_json(lines: &str) -> String {
        format!(
            r#"{{"contract_id":"c","contract_version":1,"contract_hash":"h","milestone":"lines","milestone_date":"2025-06-30","statement_date":"2025-06-30","contingent":true,"engine_version":"e","inputs_hash":"i","lines":[{lines}],"totals":{{"students":0,"planned":0,"attended":0,"student_absent":0,"district_cancelled":0,"provider_cancelled":0,"base":"0","contingent":"0","lines_total":"0","paid_before":"0","nte_remaining":"0","nte_cap":null,"statement_total":"12.50","by_rule":[],"met_target":0,"cost_per_outcome":null}}}}"#
        )
    }

    /// Parses `json` read a few bytes at a time, so that every cut falls inside a chunk.
    fn parse_in_chunks(json: &str, size: usize) -> Result<PaidStatement, String> {
        parse(std::io::BufReader::with_capacity(size, json.as_bytes()))
    }

    #[test]
    fn reads_what_serde_json_reads_at_every_chunk_size() {
        let lines = r#"{"student_id":"s1","rule":"tier:meets","total":"1.00","reason":"a \"quoted\" } ] { [ reason\\","nested":{"a":[1,{"b":"lines"}]}},
            {"student_id":"s2","rule":"x","total":"2.50"}"#;
        let json = statement_json(lines);
        let whole: PaidStatement = serde_json::from_str(&json).unwrap();
        for size in [1, 2, 3, 7, 64, 1 << 16] {
            let parsed = parse_in_chunks(&json, size).unwrap();
            assert_eq!(parsed.lines, whole.lines, "chunks of {size}");
            assert_eq!(parsed.totals.statement_total, whole.totals.statement_total);
            assert_eq!(parsed.milestone, "lines");
        }
        assert_eq!(
            whole.lines[1],
            PaidLine {
                student_id: "s2".into(),
                rule: "x".into(),
                total: "2.50".parse().unwrap(),
            }
        );
    }

    #[test]
    fn the_lines_are_cut_out_one_by_one_and_the_rest_kept() {
        let json = statement_json(r#"{"a":"]"} , {"b":[{}]}"#);
        let mut scan = Scan::new();
        let mut cut = Vec::new();
        for chunk in json.as_bytes().chunks(5) {
            scan.chunk(chunk, |line| {
                cut.push(String::from_utf8(line.to_vec()).unwrap());
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(cut, [r#"{"a":"]"}"#, r#"{"b":[{}]}"#]);
        assert_eq!(String::from_utf8(scan.rest).unwrap(), statement_json(""));
    }

    #[test]
    fn pretty_printed_and_empty_lines_read_too() {
        let statement: PaidStatement = serde_json::from_str(&statement_json(
            r#"{"student_id":"s1","rule":"r","total":"1.00"}"#,
        ))
        .unwrap();
        let pretty = serde_json::to_string_pretty(&statement.map_lines(|l| {
            serde_json::json!({"student_id": &*l.student_id, "rule": &*l.rule, "total": l.total})
        }))
        .unwrap();
        assert_eq!(parse_in_chunks(&pretty, 5).unwrap().lines.len(), 1);
        assert!(parse_in_chunks(&statement_json(""), 4)
            .unwrap()
            .lines
            .is_empty());
    }

    #[test]
    fn damaged_text_is_an_error_not_a_panic() {
        let cut = statement_json(r#"{"student_id":"s1","rule":"r","total":"1.00"}"#);
        for bad in [
            statement_json(r#"{"student_id":"s1","rule":"r","total":"x"}"#),
            statement_json(r#"7"#),
            statement_json(r#""s1""#),
            statement_json(r#"[1]"#),
            cut[..cut.len() / 2].to_string(),
            "]]]".to_string(),
            String::new(),
        ] {
            assert!(parse_in_chunks(&bad, 3).is_err(), "{bad}");
        }
    }
}
