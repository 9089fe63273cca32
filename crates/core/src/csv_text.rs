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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralized_and_plain_text_is_unchanged() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
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
}
