//! Importers of obc's input files (SPEC section 3): rosters, assessment results, tutoring
//! sessions, enrollments and daily school attendance.
//!
//! Every parser streams its input where the format allows it, validates every row and reports
//! what is wrong as an [`ImportError`] naming the file, the physical line, the column, the value
//! and what was expected, so a district or provider can fix the file themselves. Nothing here
//! touches a database or prints: callers decide what to store and how to report.
//!
//! Readers are generic over [`std::io::Read`] (the web app hands over uploaded bytes) and take a
//! `name` used in messages; each module also has a convenience function that opens a path.

pub mod assessments;
mod csvfile;
pub mod enrollments;
#[cfg(test)]
mod fuzz_tests;
pub mod roster;
pub mod school_attendance;
pub mod sessions;

pub use assessments::{AssessmentFormat, AssessmentReader};
pub use enrollments::read_enrollments;
pub use roster::{read_roster, Roster};
pub use school_attendance::{SchoolAttendance, SchoolAttendanceReader};
pub use sessions::{SessionFormat, SessionReader, SessionRow};

use std::collections::HashMap;
use std::fmt;

/// How many errors are kept per file; further errors are only counted, so a file that is wrong
/// on every one of its million rows does not produce a million messages.
pub const MAX_ERRORS_PER_FILE: usize = 100;

/// One thing wrong with an input file, precise enough for a person to find and fix it.
///
/// `line` is the 1-based physical line where the offending record starts (line 1 is a CSV
/// header, so header problems such as a missing column are on line 1); 0 means the file as a
/// whole (a missing file in a roster, a damaged zip archive, an unreadable file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {}", line_part(*.line), detail(.column, .value, .expected))]
pub struct ImportError {
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
    pub value: Option<String>,
    pub expected: String,
}

fn line_part(line: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

fn detail(column: &Option<String>, value: &Option<String>, expected: &str) -> String {
    let mut out = String::new();
    if let Some(c) = column {
        out.push_str(&format!("column `{c}`: "));
    }
    if let Some(v) = value {
        out.push_str(&format!("value `{v}`: "));
    }
    out.push_str("expected ");
    out.push_str(expected);
    out
}

impl ImportError {
    /// An error about a file as a whole (line 0), e.g. it cannot be opened.
    pub fn file(file: &str, expected: impl Into<String>) -> ImportError {
        ImportError {
            file: file.to_string(),
            line: 0,
            column: None,
            value: None,
            expected: expected.into(),
        }
    }

    /// An error about one line, without a particular column.
    pub fn at(file: &str, line: u64, expected: impl Into<String>) -> ImportError {
        ImportError {
            file: file.to_string(),
            line,
            column: None,
            value: None,
            expected: expected.into(),
        }
    }

    /// An error about one value of one column on one line.
    pub fn value(
        file: &str,
        line: u64,
        column: &str,
        value: &str,
        expected: impl Into<String>,
    ) -> ImportError {
        ImportError {
            file: file.to_string(),
            line,
            column: Some(column.to_string()),
            value: Some(value.to_string()),
            expected: expected.into(),
        }
    }

    /// The error for a file that cannot be opened or read.
    pub fn io(file: &str, err: &std::io::Error) -> ImportError {
        ImportError::file(file, format!("a readable file ({err})"))
    }
}

/// The errors of an import: the first [`MAX_ERRORS_PER_FILE`] of each file, and how many there
/// were in all, so the caller can say "... and N more". It dereferences to the kept errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportErrors {
    /// The kept errors, in the order they were found.
    pub errors: Vec<ImportError>,
    /// Every error found, kept or not.
    pub total: u64,
    per_file: HashMap<String, usize>,
}

impl ImportErrors {
    /// No errors yet.
    pub fn new() -> ImportErrors {
        ImportErrors::default()
    }

    /// Records an error, keeping it unless its file already has [`MAX_ERRORS_PER_FILE`].
    pub fn push(&mut self, err: ImportError) {
        self.total += 1;
        let kept = self.per_file.entry(err.file.clone()).or_insert(0);
        if *kept < MAX_ERRORS_PER_FILE {
            *kept += 1;
            self.errors.push(err);
        }
    }

    /// How many errors were found but not kept.
    pub fn more(&self) -> u64 {
        self.total - self.errors.len() as u64
    }

    /// `Ok(value)` when no error was recorded, else the errors.
    pub fn into_result<T>(self, value: T) -> Result<T, ImportErrors> {
        if self.total == 0 {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<ImportError> for ImportErrors {
    fn from(err: ImportError) -> ImportErrors {
        let mut errors = ImportErrors::new();
        errors.push(err);
        errors
    }
}

impl std::ops::Deref for ImportErrors {
    type Target = [ImportError];
    fn deref(&self) -> &[ImportError] {
        &self.errors
    }
}

impl IntoIterator for ImportErrors {
    type Item = ImportError;
    type IntoIter = std::vec::IntoIter<ImportError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a ImportErrors {
    type Item = &'a ImportError;
    type IntoIter = std::slice::Iter<'a, ImportError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

/// One error a line, then "... and N more errors" when some were not kept.
impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if self.more() > 0 {
            write!(f, "\n... and {} more errors", self.more())?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// Drains a streaming reader (sessions, assessments): all its records when every row is valid,
/// else the errors (capped per file), so nothing is imported from a file with a wrong row.
pub fn collect_all<T>(
    rows: impl IntoIterator<Item = Result<T, ImportError>>,
) -> Result<Vec<T>, ImportErrors> {
    let mut out = Vec::new();
    let mut errors = ImportErrors::new();
    for row in rows {
        match row {
            Ok(r) if errors.total == 0 => out.push(r),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    errors.into_result(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_column_value() {
        let e = ImportError::value(
            "sessions.csv",
            12,
            "minutes",
            "-5",
            "a non-negative integer",
        );
        assert_eq!(
            e.to_string(),
            "sessions.csv:12: column `minutes`: value `-5`: expected a non-negative integer"
        );
        assert_eq!(
            ImportError::file("roster.zip", "a zip archive").to_string(),
            "roster.zip: expected a zip archive"
        );
        assert_eq!(
            ImportError::at("a.csv", 3, "a row").to_string(),
            "a.csv:3: expected a row"
        );
    }

    #[test]
    fn errors_are_capped_per_file_and_counted() {
        let mut errors = ImportErrors::new();
        for i in 0..150 {
            errors.push(ImportError::at("a.csv", i + 2, "x"));
        }
        errors.push(ImportError::at("b.csv", 2, "y"));
        assert_eq!(errors.len(), MAX_ERRORS_PER_FILE + 1);
        assert_eq!(errors.total, 151);
        assert_eq!(errors.more(), 50);
        assert!(errors.to_string().ends_with("... and 50 more errors"));
        let r = collect_all(vec![Ok(1), Err(ImportError::at("a", 2, "x")), Ok(3)]);
        assert_eq!(r.unwrap_err().total, 1);
        assert_eq!(collect_all::<i32>(vec![Ok(1), Ok(2)]).unwrap(), vec![1, 2]);
    }
}
