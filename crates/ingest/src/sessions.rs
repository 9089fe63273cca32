//! Tutoring session logs as providers upload them (SPEC 3.3), CSV or JSON.
//!
//! CSV: `session_id,student_id,tutor_id,date,minutes,status[,group_size][,subject][,district]`,
//! extra columns ignored. JSON: an array of objects with the same fields, or
//! `{"sessions": [...]}`; ids may be strings or numbers. `tutor_id` may be blank except on an
//! attended session (a no-show may have no tutor assigned; an attended one must say who tutored,
//! for the same-tutor rate). A session lasts at most a day (1440 minutes). Students are not
//! checked against a roster here: the caller does that, since only it knows the districts.
//!
//! JSON is read as a stream: obc walks the array and hands one element at a time to serde_json,
//! validating it as it is yielded, so memory holds one element, never a tree of the whole upload.
//! A syntax error is reported at its line and ends the upload (the caller imports nothing).

use crate::csvfile::{parse_iso_date, parse_u32, CsvFile};
use crate::ImportError;
use obc_core::{Session, SessionStatus};
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

/// The longest session: a day.
pub const MAX_SESSION_MINUTES: u32 = 24 * 60;

/// The longest text a session field may hold (ids, subject, district), in bytes: longer values
/// are refused rather than stored.
pub const MAX_FIELD_BYTES: usize = 200;

/// Which layout a session file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFormat {
    Csv,
    Json,
}

/// One valid row of an upload: the session and the district the row names, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub session: Session,
    /// The optional `district` column: which district's student the row means, for a student
    /// id that several districts use. Blank when the row does not say.
    pub district: String,
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
    subject: Option<usize>,
    district: Option<usize>,
}

type RowResult = Result<(u64, SessionRow), ImportError>;

enum Inner<R: Read> {
    Csv(Box<CsvFile<Peeked<R>>>, CsvColumns),
    /// JSON, read one element at a time.
    Json(Box<JsonStream<Peeked<R>>>),
}

/// Streams the sessions of one upload as `(line, SessionRow)`, validating each row. A
/// `session_id` used twice in a file is refused where the rows are staged (obc-store's session
/// import, which names both lines): a map of every id here was most of the memory of a state's
/// import (2 GB for 25 million rows).
pub struct SessionReader<R: Read> {
    name: String,
    inner: Inner<R>,
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
        let inner = if json {
            if head.starts_with(b"\xEF\xBB\xBF") {
                head.drain(..3);
            }
            Inner::Json(Box::new(JsonStream::open(
                name,
                Cursor::new(head).chain(reader),
            )?))
        } else {
            let file = CsvFile::new(name, Cursor::new(head).chain(reader))?;
            let h = &file.header;
            let cols = CsvColumns {
                session_id: h.require(name, &["session_id"])?,
                student_id: h.require(name, &["student_id"])?,
                tutor_id: h.require(name, &["tutor_id"])?,
                date: h.require(name, &["date"])?,
                minutes: h.require(name, &["minutes"])?,
                status: h.require(name, &["status"])?,
                group_size: h.find(&["group_size"]),
                subject: h.find(&["subject"]),
                district: h.find(&["district", "district_id"]),
            };
            Inner::Csv(Box::new(file), cols)
        };
        Ok(SessionReader {
            name: name.to_string(),
            inner,
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
    subject: &'a str,
    district: &'a str,
}

/// Validates one session; `err(column, value, expected)` builds the error for the format.
fn build(
    f: &Fields<'_>,
    err: &dyn Fn(&str, &str, &str) -> ImportError,
) -> Result<SessionRow, ImportError> {
    for (column, value) in [
        ("session_id", f.session_id),
        ("student_id", f.student_id),
        ("tutor_id", f.tutor_id),
        ("subject", f.subject),
        ("district", f.district),
    ] {
        if value.len() > MAX_FIELD_BYTES {
            return Err(err(column, &shorten(value), &too_long()));
        }
    }
    if f.session_id.is_empty() {
        return Err(err("session_id", "", "a session id"));
    }
    if f.student_id.is_empty() {
        return Err(err("student_id", "", "a student id"));
    }
    let date = parse_iso_date(f.date).ok_or_else(|| err("date", f.date, "a date as YYYY-MM-DD"))?;
    let minutes = parse_u32(f.minutes)
        .filter(|m| *m <= MAX_SESSION_MINUTES)
        .ok_or_else(|| {
            err(
                "minutes",
                f.minutes,
                "a non-negative integer, at most 1440 (a session lasts at most 24 hours)",
            )
        })?;
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
    Ok(SessionRow {
        session: Session {
            session_id: f.session_id.to_string(),
            student_id: f.student_id.to_string(),
            tutor_id: f.tutor_id.to_string(),
            date,
            minutes,
            status,
            group_size,
            subject: f.subject.to_string(),
        },
        district: f.district.to_string(),
    })
}

fn too_long() -> String {
    format!("at most {MAX_FIELD_BYTES} bytes")
}

/// The start of an overlong value, for a message that stays readable.
fn shorten(value: &str) -> String {
    let mut end = value.len().min(40);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    if end < value.len() {
        format!("{}...", &value[..end])
    } else {
        value.to_string()
    }
}

/// The JSON fields a session reads, in [`JSON_FIELDS`] order.
const JSON_FIELDS: [&str; 9] = [
    "session_id",
    "student_id",
    "tutor_id",
    "date",
    "minutes",
    "status",
    "group_size",
    "subject",
    "district",
];

/// A JSON upload read one element at a time: obc walks the array's punctuation itself and
/// hands each element to serde_json, so nothing but the element at hand is held in memory.
struct JsonStream<R: Read> {
    input: ByteReader<R>,
    /// The field prefix for messages: `` for a bare array, `sessions` for the wrapper object.
    prefix: &'static str,
    /// The index of the next element.
    index: usize,
    state: JsonState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonState {
    /// Before the first element of the array.
    First,
    /// After an element: a `,` or the closing `]` comes next.
    Next,
    /// The array is closed or a syntax error ended the document.
    Done,
}

/// The bytes of an upload with the line the reader is on and one byte of look-ahead.
struct ByteReader<R: Read> {
    inner: BufReader<R>,
    line: u64,
    pushed: Option<u8>,
}

impl<R: Read> ByteReader<R> {
    fn next_byte(&mut self) -> std::io::Result<Option<u8>> {
        if let Some(b) = self.pushed.take() {
            return Ok(Some(b));
        }
        let mut byte = [0u8; 1];
        loop {
            match self.inner.read(&mut byte) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    if byte[0] == b'\n' {
                        self.line += 1;
                    }
                    return Ok(Some(byte[0]));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Gives a byte back; the next read returns it again.
    fn unread(&mut self, b: u8) {
        self.pushed = Some(b);
    }

    /// The next byte that is not JSON whitespace, consumed.
    fn non_blank(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            match self.next_byte()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => {}
                other => return Ok(other),
            }
        }
    }
}

/// serde_json reads an `io::Read` a byte at a time, so the line count stays exact.
impl<R: Read> Read for ByteReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        Ok(match self.next_byte()? {
            Some(b) => {
                buf[0] = b;
                1
            }
            None => 0,
        })
    }
}

const DOCUMENT_EXPECTED: &str = "a JSON array of sessions or an object with a `sessions` array";

/// The longest scalar (number, `true`, `null`...) obc reads where an object belongs.
const MAX_SCALAR_BYTES: usize = 64;

/// Why reading a JSON document stopped: an I/O failure or a syntax error at the reader's line.
enum Stop {
    Io(std::io::Error),
    Syntax(String),
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Stop {
        Stop::Io(e)
    }
}

impl From<serde_json::Error> for Stop {
    fn from(e: serde_json::Error) -> Stop {
        if e.is_io() {
            return Stop::Io(std::io::Error::other(e.to_string()));
        }
        // serde_json counts lines from where it started (this element); obc knows the real one.
        let text = e.to_string();
        let text = text.split(" at line ").next().unwrap_or_default();
        Stop::Syntax(format!("valid JSON ({text})"))
    }
}

impl<R: Read> JsonStream<R> {
    /// Reads up to the first element: the opening `[`, or the wrapper object's keys up to its
    /// `sessions` array.
    fn open(name: &str, reader: R) -> Result<JsonStream<R>, ImportError> {
        let mut stream = JsonStream {
            input: ByteReader {
                inner: BufReader::new(reader),
                line: 1,
                pushed: None,
            },
            prefix: "",
            index: 0,
            state: JsonState::First,
        };
        let opened = match stream.input.non_blank() {
            Ok(Some(b'[')) => Ok(()),
            Ok(Some(b'{')) => {
                stream.prefix = "sessions";
                stream.open_wrapper()
            }
            Ok(_) => Err(Stop::Syntax(DOCUMENT_EXPECTED.to_string())),
            Err(e) => Err(Stop::Io(e)),
        };
        opened.map_err(|stop| stream.error(name, stop))?;
        Ok(stream)
    }

    fn error(&self, name: &str, stop: Stop) -> ImportError {
        match stop {
            Stop::Io(e) => ImportError::io(name, &e),
            Stop::Syntax(expected) => ImportError::at(name, self.input.line, expected),
        }
    }

    /// Skips the wrapper's keys until `"sessions": [`.
    fn open_wrapper(&mut self) -> Result<(), Stop> {
        let mut first = true;
        loop {
            match self.input.non_blank()? {
                Some(b'}') if first => break,
                Some(b'"') => {}
                Some(b',') if !first => {
                    if self.input.non_blank()? != Some(b'"') {
                        return Err(Stop::Syntax("valid JSON (a key after `,`)".into()));
                    }
                }
                Some(b'}') => break,
                _ => return Err(Stop::Syntax("valid JSON (a key or `}`)".into())),
            }
            first = false;
            self.input.unread(b'"');
            let key: String = serde::Deserialize::deserialize(
                &mut serde_json::Deserializer::from_reader(&mut self.input),
            )?;
            if self.input.non_blank()? != Some(b':') {
                return Err(Stop::Syntax("valid JSON (`:` after a key)".into()));
            }
            if key == "sessions" {
                if self.input.non_blank()? != Some(b'[') {
                    return Err(Stop::Syntax("an array of sessions in `sessions`".into()));
                }
                return Ok(());
            }
            self.skip_value()?;
        }
        Err(Stop::Syntax(
            "an object with a `sessions` array, or an array of sessions".into(),
        ))
    }

    /// Skips one value (after the sessions array, or a key other than `sessions`).
    fn skip_value(&mut self) -> Result<(), Stop> {
        match self.input.non_blank()? {
            Some(b @ (b'{' | b'[' | b'"')) => {
                self.input.unread(b);
                <IgnoredAny as serde::Deserialize>::deserialize(
                    &mut serde_json::Deserializer::from_reader(&mut self.input),
                )?;
                Ok(())
            }
            Some(b) => {
                let token = self.scalar(b)?;
                serde_json::from_str::<IgnoredAny>(&token)?;
                Ok(())
            }
            None => Err(Stop::Syntax("valid JSON (a value)".into())),
        }
    }

    /// Reads a scalar token that starts with `first`, up to the next delimiter (given back).
    fn scalar(&mut self, first: u8) -> Result<String, Stop> {
        let mut token = vec![first];
        while let Some(b) = self.input.next_byte()? {
            if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                self.input.unread(b);
                break;
            }
            if token.len() >= MAX_SCALAR_BYTES {
                return Err(Stop::Syntax(
                    "valid JSON (a value this long is no session)".into(),
                ));
            }
            token.push(b);
        }
        String::from_utf8(token).map_err(|_| Stop::Syntax("valid JSON (UTF-8 text)".into()))
    }

    /// After the array: the wrapper object's remaining keys, then the end of the document.
    fn close(&mut self) -> Result<(), Stop> {
        if !self.prefix.is_empty() {
            loop {
                match self.input.non_blank()? {
                    Some(b'}') => break,
                    Some(b',') => {
                        if self.input.non_blank()? != Some(b'"') {
                            return Err(Stop::Syntax("valid JSON (a key after `,`)".into()));
                        }
                        self.input.unread(b'"');
                        let _: IgnoredAny = serde::Deserialize::deserialize(
                            &mut serde_json::Deserializer::from_reader(&mut self.input),
                        )?;
                        if self.input.non_blank()? != Some(b':') {
                            return Err(Stop::Syntax("valid JSON (`:` after a key)".into()));
                        }
                        self.skip_value()?;
                    }
                    _ => return Err(Stop::Syntax("valid JSON (`,` or `}`)".into())),
                }
            }
        }
        match self.input.non_blank()? {
            None => Ok(()),
            Some(_) => Err(Stop::Syntax(
                "valid JSON (nothing after the sessions)".into(),
            )),
        }
    }

    /// The next element, validated, or `None` at the end of the array.
    fn next_element(&mut self, name: &str) -> Result<Option<RowResult>, Stop> {
        if self.state == JsonState::Done {
            return Ok(None);
        }
        let b = self.input.non_blank()?;
        match (self.state, b) {
            (JsonState::First, Some(b']')) | (JsonState::Next, Some(b']')) => {
                self.state = JsonState::Done;
                self.close()?;
                return Ok(None);
            }
            (JsonState::First, Some(b)) => self.input.unread(b),
            (JsonState::Next, Some(b',')) => {}
            _ => {
                return Err(Stop::Syntax(
                    "valid JSON (`,` or `]` after a session)".into(),
                ))
            }
        }
        self.state = JsonState::Next;
        let visitor = ElementVisitor {
            name,
            path: format!("{}[{}]", self.prefix, self.index),
            line: self.input.line,
        };
        self.index += 1;
        match self.input.non_blank()? {
            Some(b @ (b'{' | b'[' | b'"')) => {
                // The element's first byte is on the reader's current line.
                let visitor = ElementVisitor {
                    line: self.input.line,
                    ..visitor
                };
                self.input.unread(b);
                let mut de = serde_json::Deserializer::from_reader(&mut self.input);
                Ok(Some(de::Deserializer::deserialize_any(&mut de, visitor)?))
            }
            Some(b) if b != b']' && b != b',' => {
                let visitor = ElementVisitor {
                    line: self.input.line,
                    ..visitor
                };
                let token = self.scalar(b)?;
                serde_json::from_str::<IgnoredAny>(&token)?;
                visitor.not_an_object(token).map(Some)
            }
            _ => Err(Stop::Syntax("valid JSON (a session after `,`)".into())),
        }
    }
}

struct ElementVisitor<'n> {
    name: &'n str,
    path: String,
    line: u64,
}

impl ElementVisitor<'_> {
    fn error(&self, column: String, value: String, expected: &str) -> ImportError {
        ImportError {
            file: self.name.to_string(),
            line: self.line,
            column: Some(column),
            value: Some(value),
            expected: expected.to_string(),
        }
    }

    fn not_an_object<E>(self, value: String) -> Result<RowResult, E> {
        let e = self.error(
            self.path.clone(),
            value,
            "an object with the fields of a session",
        );
        Ok(Err(e))
    }
}

impl<'de> Visitor<'de> for ElementVisitor<'_> {
    type Value = RowResult;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a session object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RowResult, A::Error> {
        let mut texts: [Result<String, String>; 9] = std::array::from_fn(|_| Ok(String::new()));
        while let Some(key) = map.next_key::<FieldName>()? {
            match key.0 {
                Some(i) => texts[i] = map.next_value::<FieldText>()?.0,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let mut fields = Vec::with_capacity(texts.len());
        for (field, text) in JSON_FIELDS.iter().zip(&texts) {
            match text {
                Ok(t) => fields.push(t.as_str()),
                Err(value) => {
                    let expected = if value.contains('\0') {
                        "text without NUL characters (\\u0000)".to_string()
                    } else if value.len() > MAX_FIELD_BYTES {
                        too_long()
                    } else {
                        "a string or a number".to_string()
                    };
                    let e = self.error(
                        format!("{}.{field}", self.path),
                        shorten(&value.replace('\0', "\\u0000")),
                        &expected,
                    );
                    return Ok(Err(e));
                }
            }
        }
        let row = Fields {
            session_id: fields[0],
            student_id: fields[1],
            tutor_id: fields[2],
            date: fields[3],
            minutes: fields[4],
            status: fields[5],
            group_size: fields[6],
            subject: fields[7],
            district: fields[8],
        };
        let err = |col: &str, value: &str, expected: &str| {
            self.error(format!("{}.{col}", self.path), value.to_string(), expected)
        };
        Ok(build(&row, &err).map(|s| (self.line, s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RowResult, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.not_an_object("an array".to_string())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RowResult, E> {
        self.not_an_object(shorten(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RowResult, E> {
        self.not_an_object(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RowResult, E> {
        self.not_an_object(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RowResult, E> {
        self.not_an_object(format!("{v:?}"))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RowResult, E> {
        self.not_an_object(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<RowResult, E> {
        self.not_an_object("null".to_string())
    }
}

/// A key of a session object: the index of a field obc reads, or `None` for others.
struct FieldName(Option<usize>);

impl<'de> de::Deserialize<'de> for FieldName {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FieldName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldName, E> {
                Ok(FieldName(JSON_FIELDS.iter().position(|f| *f == v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A field's value as text: strings trimmed, numbers in their JSON form, null as blank.
/// Anything else (or an overlong or NUL-holding string) is `Err(value as written)`.
struct FieldText(Result<String, String>);

impl<'de> de::Deserialize<'de> for FieldText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldText, E> {
                let v = v.trim();
                Ok(FieldText(
                    if v.contains('\0') || v.len() > MAX_FIELD_BYTES {
                        Err(v.to_string())
                    } else {
                        Ok(v.to_string())
                    },
                ))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FieldText, E> {
                Ok(FieldText(Ok(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FieldText, E> {
                Ok(FieldText(Ok(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<FieldText, E> {
                Ok(FieldText(Ok(format!("{v:?}"))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<FieldText, E> {
                Ok(FieldText(Ok(String::new())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<FieldText, E> {
                Ok(FieldText(Err(v.to_string())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldText, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FieldText(Err("an array".to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldText, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(FieldText(Err("an object".to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

impl<R: Read> Iterator for SessionReader<R> {
    type Item = RowResult;

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
                    subject: row.opt(c.subject),
                    district: row.opt(c.district),
                };
                let err = |col: &str, value: &str, expected: &str| {
                    ImportError::value(row.file, row.line, col, value, expected)
                };
                build(&fields, &err).map(|s| (row.line, s))
            }
            Inner::Json(json) => match json.next_element(&self.name) {
                Ok(Some(result)) => result,
                Ok(None) => return None,
                Err(stop) => {
                    json.state = JsonState::Done;
                    return Some(Err(json.error(&self.name, stop)));
                }
            },
        };
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect_all;

    fn read(name: &str, text: &str) -> Vec<RowResult> {
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
        assert_eq!(first.session.session_id, "ses-00000001");
        assert_eq!(first.session.minutes, 30);
        assert_eq!(first.session.status, SessionStatus::Attended);
        assert_eq!(first.session.group_size, None);
    }

    #[test]
    fn csv_rows_validate() {
        let text = format!(
            "\u{feff}{HEADER}s1,stu1,T1,2024-09-03,30,attended,3\ns2,stu1,,2024-09-04,0,student_absent,\n"
        );
        let rows = collect_all(read("sessions.csv", &text)).unwrap();
        assert_eq!(rows[0].1.session.group_size, Some(3));
        assert_eq!(rows[1].0, 3);
        assert_eq!(rows[1].1.session.tutor_id, "");
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
            "sessions.csv:5: column `minutes`: value `-5`: expected a non-negative integer, at most 1440 (a session lasts at most 24 hours)"
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
    fn non_utf8_is_an_error_not_a_panic() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"s1,stu1,Jos\xE9,2024-09-03,30,attended,\n");
        let rows: Vec<_> = SessionReader::new("s.csv", &bytes[..]).unwrap().collect();
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (2, Some("tutor_id")));
        let rows: Vec<_> = SessionReader::new("s.json", &b"[{\"session_id\": \"\xE9\"}]"[..])
            .unwrap()
            .collect();
        let e = rows[0].as_ref().unwrap_err();
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
        assert_eq!(rows[0].1.session.student_id, "2000000");
        assert_eq!(rows[1].1.session.group_size, Some(2));

        let text = "{\"provider\": \"fev\", \"sessions\": [\n{\"session_id\": \"s1\", \"student_id\": \"a\", \"tutor_id\": \"T\", \"date\": \"2024-09-03\", \"minutes\": -5, \"status\": \"attended\"}]}";
        let rows = read("s.json", text);
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.json:2: column `sessions[0].minutes`: value `-5`: expected a non-negative integer, at most 1440 (a session lasts at most 24 hours)"
        );
    }

    #[test]
    fn json_errors() {
        let e = read("s.json", "[\n{\"session_id\": }]")
            .remove(0)
            .unwrap_err();
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
    }

    #[test]
    fn subject_and_district_columns_are_optional_in_csv_and_json() {
        let text = "session_id,student_id,tutor_id,date,minutes,status,subject,district\ns1,stu1,T1,2024-09-03,30,attended, Reading ,rival\ns2,stu1,T1,2024-09-04,30,attended,,\n";
        let rows = collect_all(read("s.csv", text)).unwrap();
        assert_eq!(rows[0].1.session.subject, "Reading");
        assert_eq!(rows[0].1.district, "rival");
        assert_eq!(
            (
                rows[1].1.session.subject.as_str(),
                rows[1].1.district.as_str()
            ),
            ("", "")
        );
        let rows = collect_all(read(
            "s.csv",
            &format!("{HEADER}s1,stu1,T1,2024-09-03,30,attended,\n"),
        ))
        .unwrap();
        assert_eq!(rows[0].1.session.subject, "");
        let json = r#"[{"session_id": "s1", "student_id": "a", "tutor_id": "T", "date": "2024-09-03", "minutes": 1, "status": "attended", "subject": "Mathematics", "district_id": "x", "district": "demo"}]"#;
        let rows = collect_all(read("s.json", json)).unwrap();
        assert_eq!(rows[0].1.session.subject, "Mathematics");
        assert_eq!(rows[0].1.district, "demo");
    }

    #[test]
    fn a_session_lasts_at_most_a_day() {
        let rows = read(
            "s.csv",
            &format!("{HEADER}s1,stu1,T1,2024-09-03,1440,attended,\ns2,stu1,T1,2024-09-03,1441,attended,\ns3,stu1,T1,2024-09-03,4294967295,attended,\n"),
        );
        assert_eq!(rows[0].as_ref().unwrap().1.session.minutes, 1440);
        for (row, line) in rows[1..].iter().zip([3, 4]) {
            let e = row.as_ref().unwrap_err();
            assert_eq!(
                (e.line, e.column.as_deref()),
                (line, Some("minutes")),
                "{e}"
            );
            assert!(e.expected.contains("at most 24 hours"), "{e}");
        }
        let json = r#"[{"session_id": "s1", "student_id": "a", "tutor_id": "T", "date": "2024-09-03", "minutes": 4294967295, "status": "attended"}]"#;
        let e = read("s.json", json).remove(0).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("[0].minutes"));
    }

    #[test]
    fn overlong_fields_are_refused_with_a_short_value() {
        // Longer than a field may be, shorter than the 64 KiB a CSV record may be.
        let long = "x".repeat(1_000);
        let rows = read(
            "s.csv",
            &format!("{HEADER}{long},stu1,T1,2024-09-03,30,attended,\n"),
        );
        let huge = "x".repeat(100_000);
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!(e.column.as_deref(), Some("session_id"));
        assert!(e.to_string().len() < 200, "{e}");
        let json = format!(
            r#"[{{"session_id": "s1", "student_id": "a", "tutor_id": "T", "date": "2024-09-03", "minutes": 1, "status": "attended", "subject": "{huge}"}}]"#
        );
        let e = read("s.json", &json).remove(0).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("[0].subject"));
        assert!(e.expected.contains("at most 200 bytes"), "{e}");
        assert!(e.to_string().len() < 200, "{e}");
    }

    /// A reader that fails after `limit` bytes: whatever the parser yields before that was
    /// read without holding the rest of the document.
    struct FailsAfter<'a> {
        bytes: &'a [u8],
        limit: usize,
    }

    impl Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.limit == 0 {
                return Err(std::io::Error::other("connection reset"));
            }
            let n = buf.len().min(self.limit).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            self.limit -= n;
            Ok(n)
        }
    }

    #[test]
    fn json_is_read_one_element_at_a_time_and_counts_every_error() {
        let good = r#"{"session_id": "ID", "student_id": "a", "tutor_id": "T", "date": "2024-09-03", "minutes": 1, "status": "attended"}"#;
        let elements: Vec<String> = (0..250)
            .map(|i| good.replace("ID", &format!("s{i}")))
            .collect();
        let text = format!(
            "{{\"provider\": \"p\", \"sessions\": [\n{}\n], \"note\": [1, {{}}]}}",
            elements.join(",\n")
        );
        // The first rows arrive although the upload breaks off long before its end.
        let broken = FailsAfter {
            bytes: text.as_bytes(),
            limit: 2 * 8192 + 400,
        };
        let mut reader = SessionReader::new("s.json", broken).unwrap();
        let (line, first) = reader.next().unwrap().unwrap();
        assert_eq!((line, first.session.session_id.as_str()), (2, "s0"));
        let last = reader.by_ref().last().unwrap().unwrap_err();
        assert!(last.expected.contains("connection reset"), "{last}");
        assert!(reader.next().is_none(), "nothing after a broken document");

        let rows = collect_all(read("s.json", &text)).unwrap();
        assert_eq!(rows.len(), 250);
        assert_eq!(rows[249].0, 251);
        let bad = text.replace("attended", "late");
        let errors = collect_all(read("s.json", &bad)).unwrap_err();
        assert_eq!(errors.total, 250);
        assert_eq!(errors.len(), crate::MAX_ERRORS_PER_FILE);
        assert_eq!(errors[1].line, 3);
    }

    #[test]
    fn json_syntax_errors_name_their_line_and_end_the_upload() {
        let text = "[\n{\"session_id\": \"s1\", \"student_id\": \"a\", \"tutor_id\": \"T\", \"date\": \"2024-09-03\", \"minutes\": 1, \"status\": \"attended\"},\n\n{\"session_id\": }\n]";
        let rows = read("s.json", text);
        assert_eq!(rows.len(), 2);
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.expected.starts_with("valid JSON"), "{e}");
        for (text, line) in [
            ("[1 2]", 1),
            ("[{},\n]", 2),
            ("[]\n]", 2),
            ("{\"sessions\": []\n, \"x\" 1}", 2),
            ("[\"a\", true, -1.5e3, null]", 1),
        ] {
            let rows = read("s.json", text);
            assert!(rows.iter().any(Result::is_err), "{text}");
            assert!(
                rows.iter()
                    .filter_map(|r| r.as_ref().err())
                    .all(|e| e.line == line || e.line == 1),
                "{text}: {rows:?}"
            );
        }
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const CSV: &str = "session_id,student_id,tutor_id,date,minutes,status,group_size,subject\n\
            s1,stu1,T1,2024-09-03,30,attended,3,Mathematics\n\
            s2,stu1,,2024-09-04,0,student_absent,,\n\
            \"s3\",\"stu,2\",T2,2024-09-05,45,provider_cancelled,1,Reading\n";
        const JSON: &str = "{\"sessions\": [\n\
            {\"session_id\": \"s1\", \"student_id\": 2000000, \"tutor_id\": \"T1\", \"date\": \"2024-09-03\", \"minutes\": 30, \"status\": \"attended\"},\n\
            {\"session_id\": \"s2\", \"student_id\": \"a\", \"tutor_id\": null, \"date\": \"2024-09-04\", \"minutes\": 0, \"status\": \"student_absent\", \"subject\": \"Reading\"}\n\
            ]}";

        /// One way of damaging a file: flip a byte, cut it short, or insert a troublemaker.
        #[derive(Debug, Clone)]
        enum Mutation {
            Flip(usize, u8),
            Truncate(usize),
            Insert(usize, &'static str),
            HugeField(usize),
        }

        fn mutation() -> impl Strategy<Value = Mutation> {
            prop_oneof![
                (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
                any::<usize>().prop_map(Mutation::Truncate),
                (
                    any::<usize>(),
                    prop::sample::select(vec![
                        "\"", ",", "\0", "\n", "[", "}", "\u{feff}", "\\u0000", "\u{e9}"
                    ])
                )
                    .prop_map(|(i, t)| Mutation::Insert(i, t)),
                any::<usize>().prop_map(Mutation::HugeField),
            ]
        }

        fn apply(text: &str, mutations: &[Mutation]) -> Vec<u8> {
            let mut bytes = text.as_bytes().to_vec();
            for m in mutations {
                let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
                match *m {
                    Mutation::Flip(i, b) if !bytes.is_empty() => {
                        let i = i % bytes.len();
                        bytes[i] ^= b;
                    }
                    Mutation::Flip(..) => {}
                    Mutation::Truncate(i) => bytes.truncate(at(i, bytes.len())),
                    Mutation::Insert(i, t) => {
                        let i = at(i, bytes.len());
                        bytes.splice(i..i, t.bytes());
                    }
                    Mutation::HugeField(i) => {
                        let i = at(i, bytes.len());
                        bytes.splice(i..i, std::iter::repeat_n(b'9', 5000));
                    }
                }
            }
            bytes
        }

        /// Parses whatever came out: never a panic; every error names a line (or the file).
        fn check(name: &str, bytes: &[u8]) {
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            match SessionReader::new(name, bytes) {
                Err(e) => assert!(e.line <= lines, "{e}"),
                Ok(reader) => {
                    for row in reader {
                        match row {
                            Ok((line, _)) => assert!((1..=lines).contains(&line)),
                            Err(e) => assert!((1..=lines).contains(&e.line), "{e}"),
                        }
                    }
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

            #[test]
            fn mutated_csv_never_panics(m in prop::collection::vec(mutation(), 1..4)) {
                check("s.csv", &apply(CSV, &m));
            }

            #[test]
            fn mutated_json_never_panics(m in prop::collection::vec(mutation(), 1..4)) {
                check("s.json", &apply(JSON, &m));
            }
        }
    }
}
