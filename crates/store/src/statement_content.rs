//! A statement's JSON as stored: deflated (a tenth of its size) in `statements.content_deflate`
//! since migration 20 and `draft_statements.statement_deflate` since migration 21, or as text
//! in the rows written before. Readers get the same bytes either way, so hashes and the
//! ledger's chain do not change.

use crate::{Result, StoreError};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::{Read, Write};

/// A statement's JSON deflated for storage, and the SHA-256 of the JSON (hex), in one pass:
/// the text itself, hundreds of megabytes for a state, is never held.
pub(crate) fn seal(statement: &obc_core::Statement) -> (String, Vec<u8>) {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    let sha = statement
        .write_json(&mut encoder)
        .expect("writing to memory cannot fail");
    (
        sha,
        encoder.finish().expect("writing to memory cannot fail"),
    )
}

/// A text (a draft statement's JSON) deflated for storage.
pub(crate) fn deflate(text: &str) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(text.as_bytes())
        .expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// The JSON of statement `id` stored deflated (its `content_json` is empty): read and inflated.
pub(crate) async fn read_deflated<'e, E>(executor: E, id: i64) -> Result<String>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    inflate(
        &format!("statement {id}'s content"),
        deflated(executor, id).await?,
    )
}

/// The deflated JSON of statement `id`, as stored.
pub(crate) async fn deflated<'e, E>(executor: E, id: i64) -> Result<Option<Vec<u8>>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_scalar("SELECT content_deflate FROM statements WHERE id = $1")
            .bind(id)
            .fetch_one(executor)
            .await?,
    )
}

/// What a stored content's reader or parser failed at, naming it (`what`).
pub(crate) fn corrupt(what: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {why}"))
}

/// The text `deflated` holds, inflated as it is read; `what` names it in the error when it is
/// missing.
pub(crate) fn inflater(
    what: &str,
    deflated: Option<Vec<u8>>,
) -> Result<DeflateDecoder<std::io::Cursor<Vec<u8>>>> {
    let bytes = deflated.ok_or_else(|| corrupt(what, "neither JSON nor deflated JSON"))?;
    Ok(DeflateDecoder::new(std::io::Cursor::new(bytes)))
}

/// The statement `deflated` holds, parsed a line at a time as it is inflated
/// (crate::statement_lines), never held as text.
pub(crate) fn parse_deflated<L: serde::de::DeserializeOwned>(
    what: &str,
    deflated: Option<Vec<u8>>,
) -> Result<obc_core::Statement<L>> {
    let text = std::io::BufReader::with_capacity(1 << 16, inflater(what, deflated)?);
    crate::statement_lines::parse(text).map_err(|e| corrupt(what, e))
}

/// The text `deflated` holds; `what` names it in the error when it is missing or damaged.
pub(crate) fn inflate(what: &str, deflated: Option<Vec<u8>>) -> Result<String> {
    let mut json = String::new();
    inflater(what, deflated)?
        .read_to_string(&mut json)
        .map_err(|e| corrupt(what, e))?;
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deflated_json_reads_back_byte_for_byte() {
        let json = r#"{"contract_id":"c","lines":[]}"#.repeat(100);
        let stored = deflate(&json);
        assert!(stored.len() < json.len() / 10, "{} bytes", stored.len());
        assert_eq!(inflate("statement 1", Some(stored)).unwrap(), json);
    }

    #[test]
    fn deflated_statements_parse_as_they_inflate() {
        let line = r#"{"student_id":"s","rule":"r","total":"1.00"}"#;
        let json = format!(
            r#"{{"contract_id":"c","contract_version":1,"contract_hash":"h","milestone":"final","milestone_date":"2025-06-30","statement_date":"2025-06-30","contingent":true,"engine_version":"e","inputs_hash":"i","lines":[{}],"totals":{{"students":0,"planned":0,"attended":0,"student_absent":0,"district_cancelled":0,"provider_cancelled":0,"base":"0","contingent":"0","lines_total":"0","paid_before":"0","nte_remaining":"0","nte_cap":null,"statement_total":"0","by_rule":[],"met_target":0,"cost_per_outcome":null}}}}"#,
            vec![line; 10_000].join(",")
        );
        let statement: obc_core::corrections::PaidStatement =
            parse_deflated("statement 1", Some(deflate(&json))).unwrap();
        assert_eq!(statement.lines.len(), 10_000);
        let damaged =
            parse_deflated::<obc_core::corrections::PaidLine>("statement 7", Some(vec![0xff; 16]));
        assert!(matches!(damaged, Err(StoreError::Corrupt(m)) if m.contains("statement 7")));
    }

    #[test]
    fn missing_or_damaged_content_is_corrupt_not_a_panic() {
        assert!(matches!(
            inflate("statement 7", None),
            Err(StoreError::Corrupt(_))
        ));
        let damaged = inflate("statement 7", Some(vec![0xff; 16]));
        assert!(matches!(damaged, Err(StoreError::Corrupt(m)) if m.contains("statement 7")));
    }
}
