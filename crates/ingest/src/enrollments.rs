//! Enrollments (SPEC 3.4): `student_id,start_date[,end_date]`, the students a district places
//! in a contract. Whether each student is in the roster is the caller's check.

use crate::csvfile::CsvFile;
use crate::{ImportError, ImportErrors};
use obc_core::Enrollment;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Reads and validates a whole enrollment file: ISO dates, `end_date` (optional) on or after
/// `start_date`, and each student once (enrolling a student twice in a contract is an error).
/// Returns each enrollment with its line.
pub fn read_enrollments<R: Read>(
    name: &str,
    reader: R,
) -> Result<Vec<(u64, Enrollment)>, ImportErrors> {
    let mut file = CsvFile::new(name, reader)?;
    let h = &file.header;
    let student = h.require(name, &["student_id"])?;
    let start = h.require(name, &["start_date"])?;
    let end = h.find(&["end_date"]);
    let mut errors = ImportErrors::new();
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some(row) = file.next_row() {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let parsed = (|| {
            let student_id = row.required(student, "a student id")?;
            let start_date = row.iso_date(start)?;
            let end_date = row.opt_iso_date(end)?;
            if let (Some(e), Some(c)) = (end_date, end) {
                if e < start_date {
                    return Err(row.error(c, format!("a date on or after start_date {start_date}")));
                }
            }
            if let Some(first) = seen.get(student_id) {
                return Err(row.error(
                    student,
                    format!("a student not already enrolled in this file (also on line {first})"),
                ));
            }
            seen.insert(student_id.to_string(), row.line);
            Ok(Enrollment {
                student_id: student_id.to_string(),
                start: start_date,
                end: end_date,
            })
        })();
        match parsed {
            Ok(e) => out.push((row.line, e)),
            Err(e) => errors.push(e),
        }
    }
    errors.into_result(out)
}

/// [`read_enrollments`] of a file on disk.
pub fn open(path: &Path) -> Result<Vec<(u64, Enrollment)>, ImportErrors> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| ImportError::io(&name, &e))?;
    read_enrollments(&name, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_example_enrollment() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/examples/baseline_seed7/enrollment.csv");
        let rows = open(&path).unwrap();
        assert_eq!(rows.len(), 116);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.student_id, "2000000");
        assert_eq!(rows[0].1.end, None);
        assert!(rows.iter().any(|(_, e)| e.end.is_some()));
    }

    #[test]
    fn validates_dates_order_and_duplicates() {
        let text = "student_id,start_date,end_date\na,2024-09-01,\nb,2024/09/01,\nc,2024-09-01,2024-08-01\na,2024-10-01,\n,2024-09-01,\n";
        let errs = read_enrollments("enrollment.csv", text.as_bytes()).unwrap_err();
        let got: Vec<(u64, Option<&str>)> =
            errs.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            got,
            [
                (3, Some("start_date")),
                (4, Some("end_date")),
                (5, Some("student_id")),
                (6, Some("student_id"))
            ]
        );
        assert!(errs[2].to_string().contains("also on line 2"));
        assert_eq!(
            errs[0].to_string(),
            "enrollment.csv:3: column `start_date`: value `2024/09/01`: expected a date as YYYY-MM-DD"
        );
    }

    #[test]
    fn missing_column_and_no_end_column() {
        let errs = read_enrollments("e.csv", &b"student_id,end_date\n"[..]).unwrap_err();
        assert_eq!(
            (errs[0].line, errs[0].column.as_deref()),
            (1, Some("start_date"))
        );
        let rows =
            read_enrollments("e.csv", &b"Student_ID,Start_Date\nx,2024-09-01\n"[..]).unwrap();
        assert_eq!(rows[0].1.end, None);
    }
}
