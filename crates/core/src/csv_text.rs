//! Text cells of every CSV obc writes, made safe to open in a spreadsheet (OWASP "CSV
//! injection"): a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
//! Excel, LibreOffice and Google Sheets as a formula, so a student id like `=HYPERLINK(...)` in
//! an upload would run in the reader's spreadsheet. Such a text cell gets a leading `'`, which
//! spreadsheets show as text and do not display. Numeric columns are never passed through here:
//! a negative amount stays `-3600.00`.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as written to CSV: unchanged, or prefixed with `'` when it would start a formula.
pub fn text_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// [`text_cell`] of an owned string, for rows built as `Vec<String>`.
pub fn text(text: impl AsRef<str>) -> String {
    text_cell(text.as_ref()).into_owned()
}

/// A text cell for CSV written by hand (one `println!` per row): neutralized like
/// [`text_cell`], then quoted when it holds a comma, a quote or a line break (RFC 4180).
pub fn field(text: &str) -> String {
    let text = text_cell(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralized_and_plain_text_is_unchanged() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("S-001", "S-001"),
            ("tier:meets", "tier:meets"),
            ("", ""),
        ] {
            assert_eq!(text_cell(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn hand_written_fields_are_neutralized_then_quoted() {
        assert_eq!(field("S-001"), "S-001");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("=1+\"x\""), "\"'=1+\"\"x\"\"\"");
        assert_eq!(field("-2+3"), "'-2+3");
    }
}
