//! Tutoring session logs as providers upload them (SPEC 3.3), CSV or JSON.
//!
//! CSV: `session_id,student_id,tutor_id,date,minutes,status[,group_size]`, extra columns
//! ignored. JSON: an array of objects with the same fields, or `{"sessions": [...]}`; ids may
//! be strings or numbers. `tutor_id` may be blank except on an attended session (a no-show may
//! have no tutor assigned; an attended one must say who tutored, for the same-tutor rate).
//! Students are not checked against a roster here: the caller does that, since only it knows
//! the district.

use crate::csvfile::{parse_iso_date, parse_u32, CsvFile};
use crate::ImportError;
use obc_core::{Session, SessionStatus};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

/// Which layout a session file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFormat {
    Csv,
    Json,
}

/// The reader after format detection: the bytes peeked at, then the rest.
type Peeked<R> = std::io::Chain<Cursor<Vec<u8>>, R>;

struct CsvColumns {
    session_id: usize,
    student_id: usize,
    tutor_id: usize,
    date: usize,
    minutes: usize,
    status: usize,
    group_size: Option<usize>,
}

enum Inner<R: Read> {
    Csv(Box<CsvFile<Peeked<R>>>, CsvColumns),
    /// JSON is parsed whole up front; each element is validated as it is yielded.
    Json(std::vec::IntoIter<JsonElement>),
}

struct JsonElement {
    line: u64,
    /// The field prefix for messages, e.g. `[3]` or `sessions[3]`.
    path: String,
    object: Result<serde_json::Map<String, Value>, String>,
}

/// Streams the sessions of one upload as `(line, Session)`, validating each row and rejecting
/// a `session_id` that appears twice in the file (an upload must say what it means once).
pub struct SessionReader<R: Read> {
    name: String,
    inner: Inner<R>,
    seen: HashMap<String, u64>,
}

impl SessionReader<File> {
    /// Opens a session file; a `.json` extension forces JSON, else the content decides.
    pub fn open(path: &Path) -> Result<SessionReader<File>, ImportError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| ImportError::io(&name, &e))?;
        SessionReader::new(&name, file)
    }
}

impl<R: Read> SessionReader<R> {
    /// Detects the format (a `name` ending in `.json`, or a first non-blank byte `[` or `{`,
    /// means JSON) and reads the CSV header, or the whole JSON document.
    pub fn new(name: &str, mut reader: R) -> Result<SessionReader<R>, ImportError> {
        let mut head = Vec::new();
        let first = loop {
            let mut byte = [0u8; 1];
            match reader.read(&mut byte) {
                Ok(0) => break None,
                Ok(_) => {
                    head.push(byte[0]);
                    let rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
                    if let Some(&b) = rest.iter().find(|b| !b.is_ascii_whitespace()) {
                        if b != 0xEF || head.len() > 3 {
                            break Some(b);
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ImportError::io(name, &e)),
            }
        };
        let json =
            name.to_ascii_lowercase().ends_with(".json") || matches!(first, Some(b'[' | b'{'));
        let reader = Cursor::new(head).chain(reader);
        let inner = if json {
            Inner::Json(parse_json(name, reader)?.into_iter())
        } else {
            let file = CsvFile::new(name, reader)?;
            let h = &file.header;
            let cols = CsvColumns {
                session_id: h.require(name, &["session_id"])?,
                student_id: h.require(name, &["student_id"])?,
                tutor_id: h.require(name, &["tutor_id"])?,
                date: h.require(name, &["date"])?,
                minutes: h.require(name, &["minutes"])?,
                status: h.require(name, &["status"])?,
                group_size: h.find(&["group_size"]),
            };
            Inner::Csv(Box::new(file), cols)
        };
        Ok(SessionReader {
            name: name.to_string(),
            inner,
            seen: HashMap::new(),
        })
    }

    /// The detected layout.
    pub fn format(&self) -> SessionFormat {
        match self.inner {
            Inner::Csv(..) => SessionFormat::Csv,
            Inner::Json(_) => SessionFormat::Json,
        }
    }
}

/// The fields of one session as text, before validation; shared by CSV and JSON.
struct Fields<'a> {
    session_id: &'a str,
    student_id: &'a str,
    tutor_id: &'a str,
    date: &'a str,
    minutes: &'a str,
    status: &'a str,
    group_size: &'a str,
}

/// Validates one session; `err(column, value, expected)` builds the error for the format.
fn build(
    f: &Fields<'_>,
    err: &dyn Fn(&str, &str, &str) -> ImportError,
) -> Result<Session, ImportError> {
    if f.session_id.is_empty() {
        return Err(err("session_id", "", "a session id"));
    }
    if f.student_id.is_empty() {
        return Err(err("student_id", "", "a student id"));
    }
    let date = parse_iso_date(f.date).ok_or_else(|| err("date", f.date, "a date as YYYY-MM-DD"))?;
    let minutes =
        parse_u32(f.minutes).ok_or_else(|| err("minutes", f.minutes, "a non-negative integer"))?;
    let status = SessionStatus::parse(f.status).ok_or_else(|| {
        err(
            "status",
            f.status,
            "one of attended, student_absent, district_cancelled, provider_cancelled",
        )
    })?;
    if f.tutor_id.is_empty() && status == SessionStatus::Attended {
        return Err(err(
            "tutor_id",
            "",
            "a tutor id (required for an attended session)",
        ));
    }
    let group_size = if f.group_size.is_empty() {
        None
    } else {
        match parse_u32(f.group_size) {
            Some(n) if n > 0 => Some(n),
            _ => {
                return Err(err(
                    "group_size",
                    f.group_size,
                    "a positive integer or blank",
                ))
            }
        }
    };
    Ok(Session {
        session_id: f.session_id.to_string(),
        student_id: f.student_id.to_string(),
        tutor_id: f.tutor_id.to_string(),
        date,
        minutes,
        status,
        group_size,
    })
}

/// Reads a JSON document whole and splits it into its elements with their lines.
fn parse_json<R: Read>(name: &str, mut reader: R) -> Result<Vec<JsonElement>, ImportError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::io(name, &e))?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let syntax =
        |e: serde_json::Error| ImportError::at(name, e.line() as u64, format!("valid JSON ({e})"));
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    let (prefix, items): (&str, Vec<&RawValue>) = match first {
        Some(b'[') => ("", serde_json::from_slice(text).map_err(syntax)?),
        Some(b'{') => {
            #[derive(serde::Deserialize)]
            struct Wrapper<'a> {
                #[serde(borrow)]
                sessions: Option<Vec<&'a RawValue>>,
            }
            let w: Wrapper<'_> = serde_json::from_slice(text).map_err(syntax)?;
            let items = w.sessions.ok_or_else(|| {
                ImportError::at(
                    name,
                    1,
                    "an object with a `sessions` array, or an array of sessions",
                )
            })?;
            ("sessions", items)
        }
        _ => {
            return Err(ImportError::at(
                name,
                1,
                "a JSON array of sessions or an object with a `sessions` array",
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let (mut line, mut scanned) = (1u64, 0usize);
    for (i, raw) in items.into_iter().enumerate() {
        let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
        line += text[scanned..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        scanned = offset;
        let object = match serde_json::from_str::<Value>(raw.get()) {
            // A NUL character is no text every database keeps: refuse it with its element.
            Ok(Value::Object(_)) if raw.get().contains("\\u0000") => {
                Err("an object without NUL characters (\\u0000)".to_string())
            }
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(other.to_string()),
            Err(e) => Err(e.to_string()),
        };
        out.push(JsonElement {
            line,
            path: format!("{prefix}[{i}]"),
            object,
        });
    }
    Ok(out)
}

/// A JSON field as text: strings as written, numbers in their JSON form, null as blank.
fn json_text(value: Option<&Value>) -> Result<String, String> {
    match value {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(other.to_string()),
    }
}

impl<R: Read> SessionReader<R> {
    fn next_json(name: &str, el: JsonElement) -> Result<(u64, Session), ImportError> {
        let line = el.line;
        let object = el.object.map_err(|v| ImportError {
            file: name.to_string(),
            line,
            column: Some(el.path.clone()),
            value: Some(v),
            expected: "an object with the fields of a session".to_string(),
        })?;
        let mut texts = Vec::with_capacity(7);
        for field in [
            "session_id",
            "student_id",
            "tutor_id",
            "date",
            "minutes",
            "status",
            "group_size",
        ] {
            let v = object.get(field);
            texts.push(json_text(v).map_err(|v| ImportError {
                file: name.to_string(),
                line,
                column: Some(format!("{}.{field}", el.path)),
                value: Some(v),
                expected: "a string or a number".to_string(),
            })?);
        }
        let fields = Fields {
            session_id: &texts[0],
            student_id: &texts[1],
            tutor_id: &texts[2],
            date: &texts[3],
            minutes: &texts[4],
            status: &texts[5],
            group_size: &texts[6],
        };
        let err = |col: &str, value: &str, expected: &str| ImportError {
            file: name.to_string(),
            line,
            column: Some(format!("{}.{col}", el.path)),
            value: Some(value.to_string()),
            expected: expected.to_string(),
        };
        build(&fields, &err).map(|s| (line, s))
    }
}

impl<R: Read> Iterator for SessionReader<R> {
    type Item = Result<(u64, Session), ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = match &mut self.inner {
            Inner::Csv(file, c) => {
                let row = match file.next_row()? {
                    Ok(row) => row,
                    Err(e) => return Some(Err(e)),
                };
                let fields = Fields {
                    session_id: row.get(c.session_id),
                    student_id: row.get(c.student_id),
                    tutor_id: row.get(c.tutor_id),
                    date: row.get(c.date),
                    minutes: row.get(c.minutes),
                    status: row.get(c.status),
                    group_size: row.opt(c.group_size),
                };
                let err = |col: &str, value: &str, expected: &str| {
                    ImportError::value(row.file, row.line, col, value, expected)
                };
                build(&fields, &err).map(|s| (row.line, s))
            }
            Inner::Json(items) => Self::next_json(&self.name, items.next()?),
        };
        Some(result.and_then(|(line, session)| {
            match self.seen.insert(session.session_id.clone(), line) {
                Some(first) => {
                    // Keep the first line as the reference for a third occurrence.
                    self.seen.insert(session.session_id.clone(), first);
                    Err(ImportError {
                        file: self.name.clone(),
                        line,
                        column: Some("session_id".to_string()),
                        value: Some(session.session_id),
                        expected: format!(
                            "a session id not already used in this file (also on line {first})"
                        ),
                    })
                }
                None => Ok((line, session)),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect_all;

    fn read(name: &str, text: &str) -> Vec<Result<(u64, Session), ImportError>> {
        SessionReader::new(name, text.as_bytes()).unwrap().collect()
    }

    const HEADER: &str = "session_id,student_id,tutor_id,date,minutes,status,group_size\n";

    #[test]
    fn reads_the_example_sessions() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/examples/baseline_seed7/sessions.csv"
        );
        let reader = SessionReader::open(Path::new(path)).unwrap();
        assert_eq!(reader.format(), SessionFormat::Csv);
        let sessions = collect_all(reader).unwrap();
        assert_eq!(sessions.len(), 3336);
        let (line, first) = &sessions[0];
        assert_eq!(*line, 2);
        assert_eq!(first.session_id, "ses-00000001");
        assert_eq!(first.minutes, 30);
        assert_eq!(first.status, SessionStatus::Attended);
        assert_eq!(first.group_size, None);
    }

    #[test]
    fn csv_rows_validate() {
        let text = format!(
            "\u{feff}{HEADER}s1,stu1,T1,2024-09-03,30,attended,3\ns2,stu1,,2024-09-04,0,student_absent,\n"
        );
        let rows = collect_all(read("sessions.csv", &text)).unwrap();
        assert_eq!(rows[0].1.group_size, Some(3));
        assert_eq!(rows[1].0, 3);
        assert_eq!(rows[1].1.tutor_id, "");
    }

    #[test]
    fn missing_column_is_on_line_1() {
        let e = SessionReader::new(
            "sessions.csv",
            &b"session_id,student_id,tutor_id,date,status\n"[..],
        )
        .err()
        .unwrap();
        assert_eq!((e.line, e.column.as_deref()), (1, Some("minutes")));
    }

    #[test]
    fn negative_minutes() {
        let rows = read("sessions.csv", &format!("{HEADER}s1,stu1,T1,2024-09-03,30,attended,\n\n\ns2,stu1,T1,2024-09-03,-5,attended,\n"));
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            "sessions.csv:5: column `minutes`: value `-5`: expected a non-negative integer"
        );
    }

    #[test]
    fn bad_date_unknown_status_bad_group_size_missing_tutor() {
        let rows = read(
            "s.csv",
            &format!(
                "{HEADER}s1,stu1,T1,9/3/2024,30,attended,\ns2,stu1,T1,2024-09-03,30,present,\ns3,stu1,T1,2024-09-03,30,attended,0\ns4,stu1,,2024-09-03,30,attended,\n"
            ),
        );
        let cols: Vec<_> = rows
            .iter()
            .map(|r| r.as_ref().unwrap_err().column.clone().unwrap())
            .collect();
        assert_eq!(cols, ["date", "status", "group_size", "tutor_id"]);
        assert!(rows[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("value `present`"));
    }

    #[test]
    fn duplicate_session_id_names_both_lines() {
        let rows = read(
            "s.csv",
            &format!("{HEADER}s1,stu1,T1,2024-09-03,30,attended,\ns2,stu1,T1,2024-09-04,30,attended,\ns1,stu2,T1,2024-09-05,30,attended,\n"),
        );
        let e = rows[2].as_ref().unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.to_string().contains("also on line 2"), "{e}");
    }

    #[test]
    fn non_utf8_is_an_error_not_a_panic() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"s1,stu1,Jos\xE9,2024-09-03,30,attended,\n");
        let rows: Vec<_> = SessionReader::new("s.csv", &bytes[..]).unwrap().collect();
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (2, Some("tutor_id")));
        let e = SessionReader::new("s.json", &b"[{\"session_id\": \"\xE9\"}]"[..])
            .err()
            .unwrap();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn nul_characters_are_refused_in_csv_and_json() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"s1,stu1,T\x001,2024-09-03,30,attended,\n");
        let rows: Vec<_> = SessionReader::new("s.csv", &bytes[..]).unwrap().collect();
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (2, Some("tutor_id")));
        let json = "[\n{\"session_id\": \"a\\u0000b\", \"student_id\": \"s\", \"tutor_id\": \"t\", \"date\": \"2024-09-03\", \"minutes\": 30, \"status\": \"attended\"}]";
        let rows: Vec<_> = SessionReader::new("s.json", json.as_bytes())
            .unwrap()
            .collect();
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.to_string().contains("NUL"), "{e}");
    }

    #[test]
    fn json_array_and_object() {
        let text = r#"[
  {"session_id": "s1", "student_id": 2000000, "tutor_id": "T1", "date": "2024-09-03",
   "minutes": 30, "status": "attended"},
  {"session_id": "s2", "student_id": "2000000", "tutor_id": "T1", "date": "2024-09-04",
   "minutes": 45, "status": "student_absent", "group_size": 2}
]"#;
        let rows = collect_all(read("upload", text)).unwrap();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(rows[0].1.student_id, "2000000");
        assert_eq!(rows[1].1.group_size, Some(2));

        let text = "{\"provider\": \"fev\", \"sessions\": [\n{\"session_id\": \"s1\", \"student_id\": \"a\", \"tutor_id\": \"T\", \"date\": \"2024-09-03\", \"minutes\": -5, \"status\": \"attended\"}]}";
        let rows = read("s.json", text);
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.json:2: column `sessions[0].minutes`: value `-5`: expected a non-negative integer"
        );
    }

    #[test]
    fn json_errors() {
        let e = SessionReader::new("s.json", &b"[\n{\"session_id\": }]"[..])
            .err()
            .unwrap();
        assert_eq!(e.line, 2);
        let e = SessionReader::new("s.json", &b"{\"rows\": []}"[..])
            .err()
            .unwrap();
        assert!(e.expected.contains("sessions"));
        let rows = read("s.json", "[1, {\"session_id\": [1]}]");
        assert_eq!(rows[0].as_ref().unwrap_err().column.as_deref(), Some("[0]"));
        assert_eq!(
            rows[1].as_ref().unwrap_err().column.as_deref(),
            Some("[1].session_id")
        );
        let rows = read(
            "s.json",
            r#"[{"session_id": "s1", "student_id": "a", "tutor_id": "T", "date": "2024-09-03", "minutes": 1, "status": "attended"},
{"session_id": "s1", "student_id": "a", "tutor_id": "T", "date": "2024-09-03", "minutes": 1, "status": "attended"}]"#,
        );
        assert!(rows[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("also on line 1"));
    }
}
