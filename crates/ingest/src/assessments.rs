//! Assessment results (SPEC 3.2): NWEA MAP Growth's combined data file, or a generic CSV
//! `student_id,assessment,subject,term,date,score[,projected_growth]` for other tests.
//!
//! Files are streamed row by row: a district's MAP export holds every student of every school,
//! and can be large. Which columns are used is decided once per file, from the header (SPEC 5,
//! Details): `Subject` when present else `MeasurementScale`; `{W}ProjectedGrowth` when present
//! else `Typical{W}Growth`; a blank cell never falls back to the other column.

use crate::csvfile::{parse_iso_date, parse_term_name, parse_us_date, CsvFile, Row, TERM_NAME};
use crate::ImportError;
use obc_core::{AssessmentResult, Window, WindowGrowth};
use rust_decimal::Decimal;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Which layout an assessment file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssessmentFormat {
    /// NWEA MAP Growth combined data file (`TermName`, `StudentID`, `TestRITScore`, ...).
    Map,
    /// `student_id,assessment,subject,term,date,score[,projected_growth]`.
    Generic,
}

/// The assessment name given to every MAP row.
pub const MAP_ASSESSMENT: &str = "MAP Growth";

/// The RIT scale's range (SPEC 3.2): a MAP score outside it is an error.
const RIT_RANGE: (u32, u32) = (100, 350);

/// The range of a generic CSV score of another assessment: state tests and screeners use
/// scales from 0 into the thousands (Smarter Balanced 2000-3000), none beyond four digits.
const GENERIC_SCORE_RANGE: (u32, u32) = (0, 9999);

struct WindowColumns {
    projected: Option<usize>,
    observed: Option<usize>,
    cgp: Option<usize>,
}

struct MapColumns {
    term: usize,
    student: usize,
    subject: usize,
    date: usize,
    time: Option<usize>,
    score: usize,
    percentile: Option<usize>,
    rapid: Option<usize>,
    growth_measure: Option<usize>,
    test_id: Option<usize>,
    norms: Option<usize>,
    /// `TestStandardError`: read only by [`AssessmentReader::next_with_standard_error`].
    standard_error: Option<usize>,
    windows: [WindowColumns; 3],
}

struct GenericColumns {
    student: usize,
    assessment: usize,
    subject: usize,
    term: usize,
    date: usize,
    score: usize,
    projected: Option<usize>,
}

enum Columns {
    Map(Box<MapColumns>),
    Generic(GenericColumns),
}

/// Streams the test events of one file as `(line, AssessmentResult)`.
///
/// The generic CSV has no growth windows: its optional `projected_growth` is put in the
/// `projected` of every window (the engine picks the window of the contract), and start time,
/// percentile and rapid guessing are left empty, `growth_measure` true.
pub struct AssessmentReader<R: Read> {
    file: CsvFile<R>,
    columns: Columns,
}

impl AssessmentReader<File> {
    /// Opens an assessment file on disk.
    pub fn open(path: &Path) -> Result<AssessmentReader<File>, ImportError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| ImportError::io(&name, &e))?;
        AssessmentReader::new(&name, file)
    }
}

impl<R: Read> AssessmentReader<R> {
    /// Reads the header, detects the layout and picks the columns; header problems (a missing
    /// column, an unknown layout, a file that is not UTF-8) are errors on line 1.
    pub fn new(name: &str, reader: R) -> Result<AssessmentReader<R>, ImportError> {
        let file = CsvFile::new(name, reader)?;
        let h = &file.header;
        let columns = if h.has("TermName") && h.has("StudentID") && h.has("TestRITScore") {
            let window = |w: Window| {
                let p = w.column_prefix();
                WindowColumns {
                    projected: h
                        .find(&[&format!("{p}ProjectedGrowth")])
                        .or_else(|| h.find(&[&format!("Typical{p}Growth")])),
                    observed: h.find(&[&format!("{p}ObservedGrowth")]),
                    cgp: h.find(&[&format!("{p}ConditionalGrowthPercentile")]),
                }
            };
            Columns::Map(Box::new(MapColumns {
                term: h.require(name, &["TermName"])?,
                student: h.require(name, &["StudentID"])?,
                subject: h.require(name, &["Subject", "MeasurementScale"])?,
                date: h.require(name, &["TestStartDate"])?,
                time: h.find(&["TestStartTime"]),
                score: h.require(name, &["TestRITScore"])?,
                percentile: h.find(&["TestPercentile"]),
                rapid: h.find(&["RapidGuessingPercentage"]),
                growth_measure: h.find(&["GrowthMeasureYN"]),
                test_id: h.find(&["TestID"]),
                norms: h.find(&["NormsReferenceData"]),
                standard_error: h.find(&["TestStandardError"]),
                windows: Window::ALL.map(window),
            }))
        } else if h.has("student_id") && h.has("score") {
            Columns::Generic(GenericColumns {
                student: h.require(name, &["student_id"])?,
                assessment: h.require(name, &["assessment"])?,
                subject: h.require(name, &["subject"])?,
                term: h.require(name, &["term"])?,
                date: h.require(name, &["date"])?,
                score: h.require(name, &["score"])?,
                projected: h.find(&["projected_growth"]),
            })
        } else {
            return Err(ImportError::at(
                name,
                file.header_line,
                "a MAP Growth combined data file (columns TermName, StudentID, TestRITScore, ...) \
                 or a CSV with columns student_id,assessment,subject,term,date,score",
            ));
        };
        Ok(AssessmentReader { file, columns })
    }

    /// The detected layout.
    pub fn format(&self) -> AssessmentFormat {
        match self.columns {
            Columns::Map(_) => AssessmentFormat::Map,
            Columns::Generic(_) => AssessmentFormat::Generic,
        }
    }
}

/// The largest `TestStandardError` accepted: a RIT score's is about 3 points (SPEC 7); a
/// value past this is a broken cell, not a measurement.
const MAX_STANDARD_ERROR: u32 = 50;

/// A row with its `TestStandardError`, when read.
type RowWithError = (u64, AssessmentResult, Option<Decimal>);

impl<R: Read> AssessmentReader<R> {
    /// The next row with its `TestStandardError` (MAP files; `None` in the generic CSV or in a
    /// blank cell), for the design tools' noise model (SPEC 7). The importer does not read
    /// the column, so a file it accepts is not refused for it; here a value that is not a
    /// standard error is an error at its line and column.
    pub fn next_with_standard_error(&mut self) -> Option<Result<RowWithError, ImportError>> {
        self.read(true)
    }

    fn read(&mut self, with_standard_error: bool) -> Option<Result<RowWithError, ImportError>> {
        let row = match self.file.next_row()? {
            Ok(row) => row,
            Err(e) => return Some(Err(e)),
        };
        let result = match &self.columns {
            Columns::Map(c) => map_row(&row, c),
            Columns::Generic(c) => generic_row(&row, c),
        };
        let standard_error = match &self.columns {
            Columns::Map(c) if with_standard_error => standard_error(&row, c.standard_error),
            _ => Ok(None),
        };
        Some(result.and_then(|r| standard_error.map(|e| (row.line, r, e))))
    }
}

impl<R: Read> Iterator for AssessmentReader<R> {
    type Item = Result<(u64, AssessmentResult), ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read(false)
            .map(|row| row.map(|(line, result, _)| (line, result)))
    }
}

/// A `TestStandardError` cell: RIT points from 0 to [`MAX_STANDARD_ERROR`], or blank.
fn standard_error(row: &Row<'_>, col: Option<usize>) -> Result<Option<Decimal>, ImportError> {
    let value = row.opt_decimal(col)?;
    match (value, col) {
        (Some(v), Some(col)) if v < Decimal::ZERO || v > Decimal::from(MAX_STANDARD_ERROR) => {
            Err(row.error(
                col,
                format!("a standard error from 0 to {MAX_STANDARD_ERROR} RIT points, or blank"),
            ))
        }
        _ => Ok(value),
    }
}

fn map_row(row: &Row<'_>, c: &MapColumns) -> Result<AssessmentResult, ImportError> {
    let term_name = term_name(row, c.term)?;
    let student_id = row.required(c.student, "a student id")?;
    let subject = row.required(c.subject, "a subject")?;
    let date_text = row.get(c.date);
    let date = parse_us_date(date_text)
        .or_else(|| parse_iso_date(date_text))
        .ok_or_else(|| row.error(c.date, "a date as M/D/YYYY or YYYY-MM-DD"))?;
    let start_seconds = match c.time {
        Some(col) => parse_time(row.get(col))
            .ok_or_else(|| row.error(col, "a time such as 09:00:00 or 9:00:00 AM, or blank"))?,
        None => 0,
    };
    let rapid_guessing_pct = row.opt_decimal(c.rapid)?;
    if let (Some(p), Some(col)) = (rapid_guessing_pct, c.rapid) {
        if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
            return Err(row.error(col, "a percentage from 0 to 100"));
        }
    }
    let growth_measure = match c.growth_measure {
        Some(col) => parse_yes_no(row.get(col))
            .ok_or_else(|| row.error(col, "TRUE or FALSE (or Y/N, YES/NO, T/F, 1/0, blank)"))?,
        None => true,
    };
    let mut growth: [WindowGrowth; 3] = Default::default();
    for (g, w) in growth.iter_mut().zip(&c.windows) {
        *g = WindowGrowth {
            projected: row.opt_decimal(w.projected)?,
            observed: row.opt_decimal(w.observed)?,
            conditional_growth_percentile: row.opt_decimal(w.cgp)?,
        };
    }
    Ok(AssessmentResult {
        student_id: student_id.to_string(),
        assessment: MAP_ASSESSMENT.to_string(),
        subject: subject.to_string(),
        term_name: term_name.to_string(),
        date,
        start_seconds,
        score: score(row, c.score, RIT_RANGE, "on the RIT scale")?,
        percentile: row.opt_decimal(c.percentile)?,
        rapid_guessing_pct,
        growth_measure,
        growth,
        test_id: opt_text(row, c.test_id),
        norms: opt_text(row, c.norms),
    })
}

fn generic_row(row: &Row<'_>, c: &GenericColumns) -> Result<AssessmentResult, ImportError> {
    let student_id = row.required(c.student, "a student id")?;
    let assessment = row.required(c.assessment, "an assessment name")?;
    let subject = row.required(c.subject, "a subject")?;
    let term_name = term_name(row, c.term)?;
    let date_text = row.get(c.date);
    let date = parse_iso_date(date_text)
        .or_else(|| parse_us_date(date_text))
        .ok_or_else(|| row.error(c.date, "a date as YYYY-MM-DD"))?;
    let score = if assessment.eq_ignore_ascii_case(MAP_ASSESSMENT) {
        score(row, c.score, RIT_RANGE, "on the RIT scale")?
    } else {
        score(row, c.score, GENERIC_SCORE_RANGE, "")?
    };
    let projected = row.opt_decimal(c.projected)?;
    let window = WindowGrowth {
        projected,
        ..WindowGrowth::default()
    };
    Ok(AssessmentResult {
        student_id: student_id.to_string(),
        assessment: assessment.to_string(),
        subject: subject.to_string(),
        term_name: term_name.to_string(),
        date,
        start_seconds: 0,
        score,
        percentile: None,
        rapid_guessing_pct: None,
        growth_measure: true,
        growth: [window.clone(), window.clone(), window],
        test_id: None,
        norms: None,
    })
}

/// A term cell in SPEC 3.2's form (`Fall 2024-2025`).
fn term_name<'a>(row: &Row<'a>, col: usize) -> Result<&'a str, ImportError> {
    let text = row.get(col);
    match parse_term_name(text) {
        Some(_) => Ok(text),
        None => Err(row.error(col, TERM_NAME)),
    }
}

/// A score within `range` (inclusive), or blank (a missing score).
fn score(
    row: &Row<'_>,
    col: usize,
    (min, max): (u32, u32),
    scale: &str,
) -> Result<Option<Decimal>, ImportError> {
    let value = row.opt_decimal(Some(col))?;
    match value {
        Some(v) if v < Decimal::from(min) || v > Decimal::from(max) => {
            let scale = if scale.is_empty() {
                String::new()
            } else {
                format!(" {scale}")
            };
            Err(row.error(col, format!("a score from {min} to {max}{scale}, or blank")))
        }
        _ => Ok(value),
    }
}

/// An optional text cell: blank (or an absent column) is `None`.
fn opt_text(row: &Row<'_>, col: Option<usize>) -> Option<String> {
    Some(row.opt(col))
        .filter(|t| !t.is_empty())
        .map(String::from)
}

/// `GrowthMeasureYN`: FALSE/F/N/NO/0 are false; TRUE/T/Y/YES/1 and blank are true (any case).
fn parse_yes_no(text: &str) -> Option<bool> {
    match text.to_ascii_uppercase().as_str() {
        "FALSE" | "F" | "N" | "NO" | "0" => Some(false),
        "TRUE" | "T" | "Y" | "YES" | "1" | "" => Some(true),
        _ => None,
    }
}

/// `TestStartTime` as seconds since midnight: `09:00:00`, `9:00:00 AM`, `9:00 PM`, `13:05`;
/// blank is 0 (SPEC 5: a blank time sorts as 00:00:00).
fn parse_time(text: &str) -> Option<u32> {
    if text.is_empty() {
        return Some(0);
    }
    let upper = text.to_ascii_uppercase();
    let (clock, meridiem) = if let Some(t) = upper.strip_suffix("AM") {
        (t.trim_end(), Some(false))
    } else if let Some(t) = upper.strip_suffix("PM") {
        (t.trim_end(), Some(true))
    } else {
        (upper.as_str(), None)
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let num = |s: &str, max_len: usize| -> Option<u32> {
        if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let mut hour = num(parts[0], 2)?;
    let minute = num(parts[1], 2)?;
    let second = match parts.get(2) {
        Some(s) => num(s, 2)?,
        None => 0,
    };
    if minute > 59 || second > 59 {
        return None;
    }
    match meridiem {
        Some(pm) => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour = hour % 12 + if pm { 12 } else { 0 };
        }
        None if hour > 23 => return None,
        None => {}
    }
    Some(hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect_all;
    use crate::csvfile::parse_decimal;
    use std::path::PathBuf;
    use time::{Date, Month};

    fn shared(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared")
            .join(rel)
    }

    fn dec(s: &str) -> Option<Decimal> {
        parse_decimal(s)
    }

    fn read(text: &str) -> Vec<Result<(u64, AssessmentResult), ImportError>> {
        AssessmentReader::new("AssessmentResults.csv", text.as_bytes())
            .unwrap()
            .collect()
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("09:00:00"), Some(9 * 3600));
        assert_eq!(parse_time("9:00:00 AM"), Some(9 * 3600));
        assert_eq!(parse_time("12:30:00 AM"), Some(30 * 60));
        assert_eq!(parse_time("12:00:00 PM"), Some(12 * 3600));
        assert_eq!(parse_time("1:15:05 pm"), Some(13 * 3600 + 15 * 60 + 5));
        assert_eq!(parse_time("13:05"), Some(13 * 3600 + 5 * 60));
        assert_eq!(parse_time(""), Some(0));
        for bad in [
            "25:00:00",
            "13:00:00 PM",
            "0:00:00 AM",
            "9",
            "9:60:00",
            "nine",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn map_sample_post_2015() {
        let reader = AssessmentReader::open(&shared("samples/map/AssessmentResults.csv")).unwrap();
        assert_eq!(reader.format(), AssessmentFormat::Map);
        let rows = collect_all(reader).unwrap();
        assert_eq!(rows.len(), 9091);
        let (line, r) = &rows[0];
        assert_eq!(*line, 2);
        assert_eq!(r.student_id, "F08000002");
        assert_eq!(r.assessment, "MAP Growth");
        assert_eq!(r.subject, "Mathematics");
        assert_eq!(r.term_name, "Fall 2013-2014");
        assert_eq!(
            r.date,
            Date::from_calendar_date(2013, Month::September, 16).unwrap()
        );
        assert_eq!(r.start_seconds, 9 * 3600);
        assert_eq!(r.score, dec("209"));
        assert_eq!(r.percentile, dec("25"));
        assert_eq!(r.rapid_guessing_pct, None);
        assert_eq!(r.test_id.as_deref(), Some("122234707"));
        assert_eq!(r.norms, None);
        assert!(r.growth_measure);
        assert_eq!(r.window(Window::FallToWinter).projected, dec("3"));
        assert_eq!(r.window(Window::FallToSpring).projected, dec("6"));
        assert_eq!(r.window(Window::WinterToSpring).projected, None);
        assert_eq!(rows.iter().filter(|(_, r)| !r.growth_measure).count(), 540);
    }

    #[test]
    fn map_sample_pre_2015_reads_typical_growth() {
        let rows = collect_all(
            AssessmentReader::open(&shared("samples/map/AssessmentResults_pre2015.csv")).unwrap(),
        )
        .unwrap();
        assert_eq!(rows.len(), 9091);
        let r = &rows[0].1;
        assert_eq!(r.window(Window::FallToSpring).projected, dec("6"));
        assert_eq!(r.window(Window::FallToWinter).projected, dec("3"));
        // The older layout has no Typical growth for winter to spring.
        assert_eq!(r.window(Window::WinterToSpring).projected, None);
        // Same projections as the newer layout, row by row.
        let newer = collect_all(
            AssessmentReader::open(&shared("samples/map/AssessmentResults.csv")).unwrap(),
        )
        .unwrap();
        for ((_, a), (_, b)) in rows.iter().zip(&newer) {
            assert_eq!(a.student_id, b.student_id);
            assert_eq!(a.score, b.score);
            assert_eq!(
                a.window(Window::FallToSpring).projected,
                b.window(Window::FallToSpring).projected
            );
        }
    }

    #[test]
    fn example_file_with_subject_and_rapid_guessing() {
        let rows = collect_all(
            AssessmentReader::open(&shared("examples/baseline_seed7/AssessmentResults.csv"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(rows.len(), 507);
        let r = &rows[0].1;
        assert_eq!(r.subject, "Mathematics");
        assert_eq!(r.start_seconds, 0);
        assert_eq!(r.rapid_guessing_pct, dec("15"));
        assert_eq!(r.window(Window::FallToSpring).projected, dec("8"));
        assert!(rows.iter().any(|(_, r)| r
            .window(Window::FallToWinter)
            .conditional_growth_percentile
            .is_some()));
    }

    #[test]
    fn projected_column_never_falls_back_per_cell() {
        let text = "TermName,StudentID,Subject,MeasurementScale,TestStartDate,TestRITScore,FallToSpringProjectedGrowth,TypicalFallToSpringGrowth\n\
                    Fall 2024-2025,1,Mathematics,Math scale,2024-09-06,200,,7\n";
        let r = read(text).remove(0).unwrap().1;
        assert_eq!(r.subject, "Mathematics");
        assert_eq!(r.window(Window::FallToSpring).projected, None);
    }

    #[test]
    fn bad_values_name_column_and_value() {
        let text = "TermName,StudentID,MeasurementScale,TestStartDate,TestStartTime,TestRITScore,TestPercentile,RapidGuessingPercentage,GrowthMeasureYN\n\
                    Fall 2024-2025,1,Math,9/6/2024,9:00:00 AM,200,40,5,FALSE\n\
                    Fall 2024-2025,1,Math,2024-13-01,,200,40,5,TRUE\n\
                    Fall 2024-2025,1,Math,9/6/2024,,abc,40,5,TRUE\n\
                    Fall 2024-2025,1,Math,9/6/2024,,200,40,101,TRUE\n\
                    Fall 2024-2025,1,Math,9/6/2024,,200,40,,maybe\n\
                    Fall 2024-2025,1,Math,9/6/2024,nine,200,40,,\n\
                    Fall 2024-2025,1,Math,9/6/2024,,,,,no\n";
        let rows = read(text);
        let ok = rows[0].as_ref().unwrap();
        assert!(!ok.1.growth_measure);
        assert_eq!(ok.1.rapid_guessing_pct, dec("5"));
        let cols: Vec<_> = rows[1..6]
            .iter()
            .map(|r| r.as_ref().unwrap_err().column.clone().unwrap())
            .collect();
        assert_eq!(
            cols,
            [
                "TestStartDate",
                "TestRITScore",
                "RapidGuessingPercentage",
                "GrowthMeasureYN",
                "TestStartTime"
            ]
        );
        assert_eq!(
            rows[4].as_ref().unwrap_err().to_string(),
            "AssessmentResults.csv:6: column `GrowthMeasureYN`: value `maybe`: expected TRUE or FALSE (or Y/N, YES/NO, T/F, 1/0, blank)"
        );
        let blank = &rows[6].as_ref().unwrap().1;
        assert_eq!(
            (blank.score, blank.percentile, blank.growth_measure),
            (None, None, false)
        );
    }

    #[test]
    fn test_id_and_norms_are_kept_blank_is_none() {
        let text =
            "TermName,StudentID,Subject,TestStartDate,TestRITScore,TestID,NormsReferenceData\n\
                    Fall 2024-2025,1,Math,9/6/2024,200,T-1,2020\n\
                    Fall 2024-2025,1,Math,9/6/2024,200,,\n";
        let rows = read(text);
        let r = &rows[0].as_ref().unwrap().1;
        assert_eq!(
            (r.test_id.as_deref(), r.norms.as_deref()),
            (Some("T-1"), Some("2020"))
        );
        let r = &rows[1].as_ref().unwrap().1;
        assert_eq!((r.test_id.as_deref(), r.norms.as_deref()), (None, None));
    }

    #[test]
    fn standard_errors_are_read_on_request_and_checked_only_then() {
        let text = "TermName,StudentID,Subject,TestStartDate,TestRITScore,TestStandardError\n\
                    Fall 2024-2025,1,Math,9/6/2024,200,3.1\n\
                    Fall 2024-2025,2,Math,9/6/2024,200,\n\
                    Fall 2024-2025,3,Math,9/6/2024,200,-1\n";
        let mut reader = AssessmentReader::new("a.csv", text.as_bytes()).unwrap();
        let errors: Vec<_> = std::iter::from_fn(|| reader.next_with_standard_error())
            .map(|r| r.map(|(_, _, e)| e).map_err(|e| e.to_string()))
            .collect();
        assert_eq!(errors[0], Ok(Some(Decimal::new(31, 1))));
        assert_eq!(errors[1], Ok(None));
        let bad = errors[2].as_ref().unwrap_err();
        assert!(
            bad.contains("a.csv:4")
                && bad.contains("TestStandardError")
                && bad.contains("standard error"),
            "{bad}"
        );
        // The importer ignores the column, as it always did.
        assert!(read(text).iter().all(|r| r.is_ok()));
    }

    #[test]
    fn term_names_and_scores_out_of_range_are_errors_at_their_line() {
        let text = "TermName,StudentID,Subject,TestStartDate,TestRITScore\n\
                    Autumn 2024-2025,1,Math,9/6/2024,200\n\
                    Fall 2024-2025,1,Math,9/6/2024,99\n\
                    Fall 2024-2025,1,Math,9/6/2024,350.5\n\
                    Fall 2024-2025,1,Math,9/6/2024,100\n\
                    Fall 2024-2025,1,Math,9/6/2024,350\n";
        let rows = read(text);
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            "AssessmentResults.csv:2: column `TermName`: value `Autumn 2024-2025`: expected a term \
             as <Fall|Winter|Spring|Summer> <YYYY>-<YYYY+1>, such as `Fall 2024-2025`"
        );
        for (i, value) in [(1, "99"), (2, "350.5")] {
            let e = rows[i].as_ref().unwrap_err();
            assert_eq!((e.line, e.value.as_deref()), (i as u64 + 2, Some(value)));
            assert_eq!(
                e.expected,
                "a score from 100 to 350 on the RIT scale, or blank"
            );
        }
        assert!(rows[3].is_ok() && rows[4].is_ok());

        let generic = "student_id,assessment,subject,term,date,score\n\
                       s1,STAAR,Math,Fall,2025-04-10,1999\n\
                       s1,STAAR,Math,Spring 2024-2025,2025-04-10,1999\n\
                       s1,STAAR,Math,Spring 2024-2025,2025-04-10,10000\n\
                       s1,STAAR,Math,Spring 2024-2025,2025-04-10,-1\n\
                       s1,map growth,Math,Spring 2024-2025,2025-04-10,1999\n";
        let rows: Vec<_> = AssessmentReader::new("state.csv", generic.as_bytes())
            .unwrap()
            .collect();
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (2, Some("term")));
        assert_eq!(rows[1].as_ref().unwrap().1.score, dec("1999"));
        for (i, expected) in [
            (2, "a score from 0 to 9999, or blank"),
            (3, "a score from 0 to 9999, or blank"),
            (4, "a score from 100 to 350 on the RIT scale, or blank"),
        ] {
            let e = rows[i].as_ref().unwrap_err();
            assert_eq!(
                (e.column.as_deref(), e.expected.as_str()),
                (Some("score"), expected)
            );
        }
    }

    #[test]
    fn yes_no_values() {
        for t in ["TRUE", "true", "T", "y", "Yes", "1", ""] {
            assert_eq!(parse_yes_no(t), Some(true), "{t}");
        }
        for f in ["FALSE", "False", "f", "N", "no", "0"] {
            assert_eq!(parse_yes_no(f), Some(false), "{f}");
        }
        assert_eq!(parse_yes_no("2"), None);
    }

    #[test]
    fn generic_csv_puts_projection_in_every_window() {
        let text = "student_id,assessment,subject,term,date,score,projected_growth\n\
                    s1,STAAR,Mathematics,Spring 2024-2025,2025-04-10,1550,12\n\
                    s2,STAAR,Mathematics,Spring 2024-2025,04/10/2025,,\n";
        let rows: Vec<_> = AssessmentReader::new("state.csv", text.as_bytes())
            .unwrap()
            .collect();
        let r = &rows[0].as_ref().unwrap().1;
        assert_eq!(r.assessment, "STAAR");
        for w in Window::ALL {
            assert_eq!(r.window(w).projected, dec("12"));
        }
        let r = &rows[1].as_ref().unwrap().1;
        assert_eq!(
            (r.score, r.window(Window::FallToSpring).projected),
            (None, None)
        );
    }

    #[test]
    fn header_errors() {
        let e = AssessmentReader::new("x.csv", &b"TermName,StudentID,TestRITScore,Subject\n"[..])
            .err()
            .unwrap();
        assert_eq!((e.line, e.column.as_deref()), (1, Some("TestStartDate")));
        let e = AssessmentReader::new(
            "x.csv",
            &b"TermName,StudentID,TestRITScore,TestStartDate\n"[..],
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("`MeasurementScale`"), "{e}");
        let e = AssessmentReader::new("x.csv", &b"a,b\n"[..]).err().unwrap();
        assert_eq!(e.line, 1);
        assert!(e.expected.contains("MAP Growth"));
    }

    #[test]
    fn non_utf8_row() {
        let mut bytes = b"TermName,StudentID,Subject,TestStartDate,TestRITScore\n".to_vec();
        bytes.extend_from_slice(b"Fall 2024-2025,1,Matem\xE1ticas,9/6/2024,200\n");
        let rows: Vec<_> = AssessmentReader::new("x.csv", &bytes[..])
            .unwrap()
            .collect();
        let e = rows[0].as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (2, Some("Subject")));
    }
}
