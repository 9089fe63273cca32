//! The ledger chain's digest of a finalized statement and everything it depends on
//! (crate::chain), written straight into SHA-256.
//!
//! The digest is the SHA-256 of one JSON object, as `serde_json::Value`'s `to_string` wrote it
//! when the chain began (keys sorted: `audit`, `history`, `inputs`, `inputs_as_of`, `lines`,
//! `parties`, `postings`, `statement`), so every link stored before still verifies. It is now
//! written piece by piece: the statement's JSON (hundreds of megabytes for a state) is inflated
//! a block at a time into the escaper, and lines, postings and history rows are streamed from
//! the database, never held. Building it as a `Value` was most of a 1,000,000-student
//! finalization's memory (the text inflated, parsed and printed again: three copies).

use crate::{statement_content, Result};
use futures_util::TryStreamExt;
use obc_core::engine::{finish_hashing, hashing_buffer, HashingWriter};
use serde::Serialize;
use sqlx::AnyConnection;
use std::io::{BufWriter, Read, Write};

type StatementColumns = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
);

/// A `session_history` row: session, student, tutor, date, minutes, status, group size,
/// replaced at, replaced by (audit id).
type HistoryRow = (
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<i64>,
    String,
    i64,
);

type Digest = BufWriter<HashingWriter<std::io::Sink>>;

// Writing into a hash cannot fail, nor can serializing strings and numbers.
const HASHING: &str = "hashing never fails";

fn put(out: &mut Digest, value: &impl Serialize) {
    serde_json::to_writer(out, value).expect(HASHING)
}

/// Writes `rows` as a JSON array of arrays, one row at a time.
async fn put_rows<'q, T>(
    out: &mut Digest,
    conn: &mut AnyConnection,
    query: sqlx::query::QueryAs<'q, sqlx::Any, T, sqlx::any::AnyArguments>,
) -> Result<()>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Serialize + Send + Unpin,
{
    raw(out, "[");
    let mut rows = query.fetch(conn);
    let mut first = true;
    while let Some(row) = rows.try_next().await? {
        if !first {
            raw(out, ",");
        }
        first = false;
        put(out, &row);
    }
    raw(out, "]");
    Ok(())
}

/// The digest of statement `statement_id` and what it depends on, `None` when its row is gone.
/// `audit_id` is its `statement.finalize` audit record: session history written before it is
/// covered.
pub(crate) async fn statement_content(
    conn: &mut AnyConnection,
    statement_id: i64,
    audit_id: Option<i64>,
) -> Result<Option<String>> {
    let row: Option<StatementColumns> = sqlx::query_as(
        "SELECT contract_id, contract_version, milestone, milestone_date, statement_date, inputs_hash,
                content_sha256, engine_version, total_cents, content_json, finalized_at, finalized_by
         FROM statements WHERE id = $1",
    )
    .bind(statement_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(s) = row else {
        return Ok(None);
    };
    let parties: Option<(String, String)> = sqlx::query_as(
        "SELECT provider_id, district_id FROM contract_versions WHERE contract_id = $1 AND version = $2",
    )
    .bind(&s.0)
    .bind(s.1)
    .fetch_optional(&mut *conn)
    .await?;
    let mut out: Digest = hashing_buffer(std::io::sink());

    let audit: Option<(String, String, String, String, String)> =
        sqlx::query_as("SELECT at, actor, action, record, detail FROM audit_log WHERE id = $1")
            .bind(audit_id.unwrap_or(-1))
            .fetch_optional(&mut *conn)
            .await?;
    raw(&mut out, "{\"audit\":");
    put(&mut out, &audit);

    raw(&mut out, ",\"history\":");
    match (&parties, audit_id) {
        (Some((provider, district)), Some(audit_id)) => {
            let history = sqlx::query_as::<_, HistoryRow>(
                "SELECT session_id, student_id, tutor_id, session_date, minutes, status, group_size,
                        replaced_at, replaced_by
                 FROM session_history WHERE provider_id = $1 AND district_id = $2 AND replaced_by < $3
                 ORDER BY session_id, replaced_by",
            )
            .bind(provider)
            .bind(district)
            .bind(audit_id);
            put_rows(&mut out, conn, history).await?;
        }
        _ => raw(&mut out, "[]"),
    }

    let inputs: Option<String> =
        sqlx::query_scalar("SELECT inputs_json FROM statement_inputs WHERE statement_id = $1")
            .bind(statement_id)
            .fetch_optional(&mut *conn)
            .await?;
    raw(&mut out, ",\"inputs\":");
    put(&mut out, &inputs);
    drop(inputs);

    // Statements finalized since migration 10 record which inputs they used instead of a copy
    // (older links keep their hash: the key is absent for them).
    let inputs_as_of: Option<(i64, String)> = sqlx::query_as(
        "SELECT inputs_as_of, inputs_sha256 FROM statement_inputs_as_of WHERE statement_id = $1",
    )
    .bind(statement_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(inputs_as_of) = inputs_as_of {
        raw(&mut out, ",\"inputs_as_of\":");
        put(&mut out, &inputs_as_of);
    }

    raw(&mut out, ",\"lines\":");
    let lines = sqlx::query_as::<_, (String, String, i64, i64)>(
        "SELECT student_id, rule, base_cents, contingent_cents FROM statement_lines
         WHERE statement_id = $1 ORDER BY student_id",
    )
    .bind(statement_id);
    put_rows(&mut out, conn, lines).await?;

    raw(&mut out, ",\"parties\":");
    put(&mut out, &parties);

    raw(&mut out, ",\"postings\":");
    let postings = sqlx::query_as::<_, (i64, String, String, i64, Option<String>, String)>(
        "SELECT id, posting, account, amount_cents, student_id, memo FROM ledger_entries
         WHERE statement_id = $1 ORDER BY id",
    )
    .bind(statement_id);
    put_rows(&mut out, conn, postings).await?;

    // The statement's row, as an array whose tenth column (the content) is written in blocks.
    raw(&mut out, ",\"statement\":");
    let head =
        serde_json::to_vec(&(&s.0, s.1, &s.2, &s.3, &s.4, &s.5, &s.6, &s.7, s.8)).expect(HASHING);
    write(&mut out, &head[..head.len() - 1]);
    raw(&mut out, ",\"");
    if s.9.is_empty() {
        let what = format!("statement {statement_id}'s content");
        let deflated = statement_content::deflated(&mut *conn, statement_id).await?;
        let mut decoder = statement_content::inflater(&what, deflated)?;
        let mut block = vec![0u8; 1 << 16];
        loop {
            let n = decoder
                .read(&mut block)
                .map_err(|e| statement_content::corrupt(&what, e))?;
            if n == 0 {
                break;
            }
            escape_into(&mut out, &block[..n]);
        }
    } else {
        escape_into(&mut out, s.9.as_bytes());
    }
    raw(&mut out, "\",");
    let tail = serde_json::to_vec(&(&s.10, &s.11)).expect(HASHING);
    write(&mut out, &tail[1..]);
    raw(&mut out, "}");
    Ok(Some(finish_hashing(out).expect(HASHING)))
}

/// Writes `bytes` (UTF-8, possibly cut inside a character: only ASCII is escaped) as the inside
/// of a JSON string, escaped exactly as serde_json escapes a string.
fn escape_into(out: &mut Digest, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        write(out, &bytes[start..i]);
        if escape.is_empty() {
            write(out, format!("\\u{b:04x}").as_bytes());
        } else {
            write(out, escape);
        }
        start = i + 1;
    }
    write(out, &bytes[start..])
}

fn write(out: &mut Digest, bytes: &[u8]) {
    out.write_all(bytes).expect(HASHING)
}

fn raw(out: &mut Digest, text: &str) {
    write(out, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::stores;
    use serde_json::json;

    const CONTRACT: &str = include_str!("../../core/tests/contract_example.toml");

    /// The digest as the chain defined it: every row read, one `Value`, printed. Links stored
    /// before the streamed digest carry these hashes.
    async fn digest_as_a_value(conn: &mut AnyConnection, id: i64, audit_id: i64) -> String {
        let s: StatementColumns = sqlx::query_as(
            "SELECT contract_id, contract_version, milestone, milestone_date, statement_date, inputs_hash,
                    content_sha256, engine_version, total_cents, content_json, finalized_at, finalized_by
             FROM statements WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let mut content_json = s.9.clone();
        if content_json.is_empty() {
            content_json = crate::statement_content::read_deflated(&mut *conn, id)
                .await
                .unwrap();
        }
        let lines: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT student_id, rule, base_cents, contingent_cents FROM statement_lines
             WHERE statement_id = $1 ORDER BY student_id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let postings: Vec<(i64, String, String, i64, Option<String>, String)> = sqlx::query_as(
            "SELECT id, posting, account, amount_cents, student_id, memo FROM ledger_entries
             WHERE statement_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let audit: Option<(String, String, String, String, String)> =
            sqlx::query_as("SELECT at, actor, action, record, detail FROM audit_log WHERE id = $1")
                .bind(audit_id)
                .fetch_optional(&mut *conn)
                .await
                .unwrap();
        let history: Vec<HistoryRow> = sqlx::query_as(
            "SELECT session_id, student_id, tutor_id, session_date, minutes, status, group_size,
                    replaced_at, replaced_by
             FROM session_history WHERE provider_id = 'fev' AND district_id = 'ector' AND replaced_by < $1
             ORDER BY session_id, replaced_by",
        )
        .bind(audit_id)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let history: Vec<serde_json::Value> = history
            .into_iter()
            .map(|r| json!([r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8]))
            .collect();
        let inputs_as_of: Option<(i64, String)> = sqlx::query_as(
            "SELECT inputs_as_of, inputs_sha256 FROM statement_inputs_as_of WHERE statement_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
        let statement = json!([
            s.0,
            s.1,
            s.2,
            s.3,
            s.4,
            s.5,
            s.6,
            s.7,
            s.8,
            content_json,
            s.10,
            s.11
        ]);
        let mut content = json!({
            "statement": statement,
            "inputs": None::<String>,
            "lines": lines,
            "postings": postings,
            "audit": audit,
            "parties": Some(("fev", "ector")),
            "history": history,
        });
        if let Some(inputs_as_of) = inputs_as_of {
            content["inputs_as_of"] = json!(inputs_as_of);
        }
        crate::hex_sha256(content.to_string().as_bytes())
    }

    #[tokio::test]
    async fn the_streamed_digest_is_the_chains_digest_byte_for_byte() {
        for store in stores().await {
            let contract = obc_core::Contract::parse(CONTRACT).unwrap();
            store
                .ensure_organisation("ector", "district", "Ector")
                .await
                .unwrap();
            store
                .add_contract("t", &contract, CONTRACT, None)
                .await
                .unwrap();
            store
                .audit("t", "statement.finalize", "r", "a \"quoted\"\ndetail")
                .await
                .unwrap();
            let audit_id = store.last_audit_id().await.unwrap();
            // Content with every character the escaper treats, longer than one block.
            let text: String = (0u8..0x80).map(char::from).collect::<String>() + "é → 😀";
            let content =
                format!("{{\"text\":{}}}", serde_json::to_string(&text).unwrap()).repeat(2_000);
            let deflated = crate::statement_content::deflate(&content);
            let mut conn = store.pool.acquire().await.unwrap();
            for (id, json, deflate) in [(1, "", Some(deflated)), (2, content.as_str(), None)] {
                sqlx::query(
                    "INSERT INTO statements (id, contract_id, contract_version, milestone, milestone_date,
                       statement_date, inputs_hash, content_sha256, engine_version, total_cents,
                       content_json, finalized_at, finalized_by, content_deflate)
                     VALUES ($1, 'ector-math-2025', 1, $2, '2025-01-15', '2025-01-15', 'h', 'c', 'e', 12345,
                       $3, '2025-01-16T00:00:00Z', 'fev', $4)",
                )
                .bind(id)
                .bind(format!("m{id}"))
                .bind(json)
                .bind(deflate)
                .execute(&mut *conn)
                .await
                .unwrap();
                for student in ["s2", "s1"] {
                    sqlx::query(
                        "INSERT INTO statement_lines VALUES ($1, $2, 'tier:meets', 100, 50)",
                    )
                    .bind(id)
                    .bind(student)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                    sqlx::query(
                        "INSERT INTO ledger_entries (statement_id, posting, account, amount_cents, student_id, memo)
                         VALUES ($1, 'p', 'a', -7, $2, 'memo \"x\"')",
                    )
                    .bind(id)
                    .bind(student)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                }
            }
            sqlx::query("INSERT INTO statement_inputs_as_of VALUES (1, $1, 'sha')")
                .bind(audit_id)
                .execute(&mut *conn)
                .await
                .unwrap();
            for (session, group) in [("b", Some(2)), ("a", None)] {
                sqlx::query(
                    "INSERT INTO session_history (provider_id, session_id, district_id, student_id, tutor_id,
                       session_date, minutes, status, group_size, replaced_at, replaced_by)
                     VALUES ('fev', $1, 'ector', 's1', 't', '2024-10-01', 30, 'attended', $2, 'now', $3)",
                )
                .bind(session)
                .bind(group)
                .bind(audit_id - 1)
                .execute(&mut *conn)
                .await
                .unwrap();
            }
            for id in [1, 2] {
                let streamed = statement_content(&mut conn, id, Some(audit_id))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(
                    streamed,
                    digest_as_a_value(&mut conn, id, audit_id).await,
                    "statement {id}"
                );
            }
            assert_eq!(statement_content(&mut conn, 3, None).await.unwrap(), None);
        }
    }

    /// The SHA-256 of `chunks` escaped one after the other.
    fn escaped(chunks: &[&[u8]]) -> String {
        let mut out = hashing_buffer(std::io::sink());
        for c in chunks {
            escape_into(&mut out, c);
        }
        finish_hashing(out).unwrap()
    }

    #[test]
    fn content_is_escaped_as_serde_json_escapes_a_string_in_any_blocks() {
        let mut text: String = (0u8..0x80).map(char::from).collect();
        text.push_str("é → 😀 \\\" end");
        let json = serde_json::to_string(&text).unwrap();
        let inside = &json.as_bytes()[1..json.len() - 1];
        let expected = obc_core::engine::sha256_hex(inside);
        let bytes = text.as_bytes();
        assert_eq!(escaped(&[bytes]), expected);
        for cut in [1, 7, 128, 130, bytes.len() - 1] {
            assert_eq!(
                escaped(&[&bytes[..cut], &bytes[cut..]]),
                expected,
                "cut at {cut}"
            );
        }
    }
}
