//! A finalized statement's JSON as stored: deflated in `content_deflate` since migration 20
//! (a tenth of its size), or as text in `content_json` for statements finalized before it.
//! Readers get the same bytes either way, so hashes and the ledger's chain do not change.

use crate::{Result, StoreError};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::{Read, Write};

/// The statement's JSON deflated for storage.
pub(crate) fn deflate(json: &str) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(json.as_bytes())
        .expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// The JSON of statement `id` from its stored columns: the text when there is one (statements
/// finalized before migration 20), else the deflated bytes inflated.
pub(crate) fn json_of(id: i64, text: String, deflated: Option<Vec<u8>>) -> Result<String> {
    if !text.is_empty() {
        return Ok(text);
    }
    let corrupt = |why: String| StoreError::Corrupt(format!("statement {id}'s content: {why}"));
    let bytes = deflated.ok_or_else(|| corrupt("neither JSON nor deflated JSON".into()))?;
    let mut json = String::new();
    DeflateDecoder::new(bytes.as_slice())
        .read_to_string(&mut json)
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deflated_json_reads_back_byte_for_byte_and_text_wins() {
        let json = r#"{"contract_id":"c","lines":[]}"#.repeat(100);
        let stored = deflate(&json);
        assert!(stored.len() < json.len() / 10, "{} bytes", stored.len());
        assert_eq!(
            json_of(1, String::new(), Some(stored.clone())).unwrap(),
            json
        );
        assert_eq!(json_of(1, "text".into(), Some(stored)).unwrap(), "text");
    }

    #[test]
    fn missing_or_damaged_content_is_corrupt_not_a_panic() {
        assert!(matches!(
            json_of(7, String::new(), None),
            Err(StoreError::Corrupt(_))
        ));
        let damaged = json_of(7, String::new(), Some(vec![0xff; 16]));
        assert!(matches!(damaged, Err(StoreError::Corrupt(m)) if m.contains("statement 7")));
    }
}
