//! Daily school attendance as a district uploads it (SPEC section 6, session verification):
//! `student_id,date,present`, one row per student and school day, extra columns ignored.
//!
//! `present` is `true`/`false`, `1`/`0`, `Y`/`N`, `yes`/`no` or `present`/`absent`, in any
//! case. A student and date twice in one file is an error (a file must say what it means once).
//! Students are not checked against a roster here: the caller does that, since only it knows
//! the district.

use crate::csvfile::CsvFile;
use crate::ImportError;
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use time::Date;

/// Whether one student was in school on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolAttendance {
    pub student_id: String,
    pub date: Date,
    pub present: bool,
}

/// What the `present` column accepts, for messages.
const PRESENT_VALUES: &str = "one of true/false, 1/0, Y/N, yes/no, present/absent";

/// `present` as written in a file, case-insensitive; `None` when it is none of the accepted words.
pub fn parse_present(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "y" | "yes" | "present" => Some(true),
        "false" | "0" | "n" | "no" | "absent" => Some(false),
        _ => None,
    }
}

/// Streams the rows of one attendance file as `(line, SchoolAttendance)`, validating each.
pub struct SchoolAttendanceReader<R: Read> {
    file: CsvFile<R>,
    student: usize,
    date: usize,
    present: usize,
    seen: HashMap<(String, Date), u64>,
}

impl SchoolAttendanceReader<File> {
    /// Opens an attendance file on disk.
    pub fn open(path: &Path) -> Result<SchoolAttendanceReader<File>, ImportError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| ImportError::io(&name, &e))?;
        SchoolAttendanceReader::new(&name, file)
    }
}

impl<R: Read> SchoolAttendanceReader<R> {
    /// Reads the header; `student_id`, `date` and `present` are required.
    pub fn new(name: &str, reader: R) -> Result<SchoolAttendanceReader<R>, ImportError> {
        let file = CsvFile::new(name, reader)?;
        let h = &file.header;
        let student = h.require(name, &["student_id"])?;
        let date = h.require(name, &["date"])?;
        let present = h.require(name, &["present"])?;
        Ok(SchoolAttendanceReader {
            file,
            student,
            date,
            present,
            seen: HashMap::new(),
        })
    }
}

impl<R: Read> Iterator for SchoolAttendanceReader<R> {
    type Item = Result<(u64, SchoolAttendance), ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (student, date_col, present_col) = (self.student, self.date, self.present);
        let row = match self.file.next_row()? {
            Ok(row) => row,
            Err(e) => return Some(Err(e)),
        };
        let parsed = (|| {
            let student_id = row.required(student, "a student id")?;
            let date = row.iso_date(date_col)?;
            let present = parse_present(row.get(present_col))
                .ok_or_else(|| row.error(present_col, PRESENT_VALUES))?;
            let key = (student_id.to_string(), date);
            if let Some(first) = self.seen.get(&key) {
                return Err(row.error(
                    student,
                    format!(
                        "a student and date not already in this file ({student_id} on {date} \
                         is also on line {first})"
                    ),
                ));
            }
            self.seen.insert(key, row.line);
            Ok((
                row.line,
                SchoolAttendance {
                    student_id: student_id.to_string(),
                    date,
                    present,
                },
            ))
        })();
        Some(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect_all;

    fn read(text: &str) -> Vec<Result<(u64, SchoolAttendance), ImportError>> {
        SchoolAttendanceReader::new("attendance.csv", text.as_bytes())
            .unwrap()
            .collect()
    }

    #[test]
    fn present_values() {
        for t in ["true", "TRUE", "1", "Y", "y", "Yes", "present", "Present"] {
            assert_eq!(parse_present(t), Some(true), "{t}");
        }
        for f in ["false", "0", "N", "no", "NO", "absent", "Absent"] {
            assert_eq!(parse_present(f), Some(false), "{f}");
        }
        for bad in ["", "2", "t", "maybe", "tardy"] {
            assert_eq!(parse_present(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_rows_with_lines() {
        let rows = collect_all(read(
            "Student_ID,Date,Present,school\n2000000,2024-09-18,absent,x\n\n2000000,2024-09-19,Y,\n",
        ))
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.student_id, "2000000");
        assert!(!rows[0].1.present);
        assert_eq!(rows[1].0, 4);
        assert!(rows[1].1.present);
        assert_eq!(rows[1].1.date.to_string(), "2024-09-19");
    }

    #[test]
    fn errors_name_line_column_value() {
        let got = read(
            "student_id,date,present\na,2024-09-18,yes\nb,2024/09/18,yes\nc,2024-09-18,maybe\n,2024-09-18,no\na,2024-09-18,no\na,2024-09-19,no\n",
        );
        let errs: Vec<ImportError> = got.into_iter().filter_map(Result::err).collect();
        let where_: Vec<(u64, Option<&str>)> =
            errs.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            where_,
            [
                (3, Some("date")),
                (4, Some("present")),
                (5, Some("student_id")),
                (6, Some("student_id"))
            ]
        );
        assert_eq!(
            errs[0].to_string(),
            "attendance.csv:3: column `date`: value `2024/09/18`: expected a date as YYYY-MM-DD"
        );
        assert_eq!(
            errs[1].to_string(),
            "attendance.csv:4: column `present`: value `maybe`: expected one of true/false, 1/0, Y/N, yes/no, present/absent"
        );
        assert!(
            errs[3].to_string().contains("also on line 2"),
            "{}",
            errs[3]
        );
    }

    #[test]
    fn missing_column_is_a_line_one_error() {
        let e = SchoolAttendanceReader::new("a.csv", &b"student_id,date\n"[..])
            .err()
            .unwrap();
        assert_eq!((e.line, e.column.as_deref()), (1, Some("present")));
    }
}
