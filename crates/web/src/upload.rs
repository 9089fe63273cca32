//! The upload use case the upload form, the API's pushes and the Design page share: the
//! form's fields read as they stream in, the import run for the viewer with a write
//! capability, and the problems of a rejected file as rows; in `upload/json.rs`, the same
//! through the API. Imports no feature module.

mod json;

pub(crate) use json::{
    openapi_parameters, openapi_report, openapi_upload, spool, upload_json, upload_route,
    UploadQuery, UploadReport,
};

use crate::access::WriteCapability;
use crate::auth::Viewer;
use crate::{AppState, WebError};
use axum::extract::Multipart;
use axum::http::StatusCode;
use obc_store::Role;
use std::io::{Read, Seek, Write};

/// One problem of a rejected file, as a table row.
pub struct ProblemRow {
    pub file: String,
    pub line: String,
    pub column: String,
    pub value: String,
    pub expected: String,
}

/// An uploaded file, spooled to an anonymous temporary file as it streamed in (a form's file
/// or an API body), so a large upload is held in memory by no one.
pub(crate) struct UploadBody(pub std::fs::File);

/// A reader of an upload from its first byte.
pub(crate) trait UploadReader: std::io::Read + std::io::Seek + Send {}
impl<T: std::io::Read + std::io::Seek + Send> UploadReader for T {}

/// The largest contract document: contracts are read whole, and shown line by line when wrong.
const MAX_CONTRACT_BYTES: u64 = 1024 * 1024;

impl UploadBody {
    /// The upload from its start.
    pub fn reader(&self) -> Result<Box<dyn UploadReader>, WebError> {
        let unreadable = |e: std::io::Error| {
            WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the spooled upload: {e}"),
            )
        };
        let mut file = self.0.try_clone().map_err(unreadable)?;
        file.seek(std::io::SeekFrom::Start(0)).map_err(unreadable)?;
        Ok(Box::new(std::io::BufReader::new(file)))
    }

    /// The whole upload in memory, for a contract document, refused past [`MAX_CONTRACT_BYTES`].
    pub(crate) fn contract_bytes(&self) -> Result<Vec<u8>, WebError> {
        let mut bytes = Vec::new();
        self.reader()?
            .take(MAX_CONTRACT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| WebError::bad_request(format!("unreadable upload: {e}")))?;
        if bytes.len() as u64 > MAX_CONTRACT_BYTES {
            return Err(WebError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "a contract document may have at most {} KiB",
                    MAX_CONTRACT_BYTES / 1024
                ),
            ));
        }
        Ok(bytes)
    }
}

/// The fields of an upload form.
pub(crate) struct Upload {
    pub csrf: Option<String>,
    pub file_name: String,
    pub body: UploadBody,
    pub org: Option<String>,
    /// A contract amendment's effective date (YYYY-MM-DD).
    pub effective: Option<String>,
}

/// Reads an upload form, writing its file to a temporary file chunk by chunk.
pub(crate) async fn read_upload(mut multipart: Multipart) -> Result<Upload, WebError> {
    let unreadable =
        |e: &dyn std::fmt::Display| WebError::bad_request(format!("unreadable upload: {e}"));
    let spool_failed = |e: std::io::Error| {
        WebError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot spool the upload: {e}"),
        )
    };
    let mut csrf = None;
    let mut file = None;
    let mut org = None;
    let mut effective = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|e| unreadable(&e))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_string();
            let mut spool = tempfile::tempfile().map_err(spool_failed)?;
            let mut size = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(|e| unreadable(&e))? {
                size += chunk.len() as u64;
                spool.write_all(&chunk).map_err(spool_failed)?;
            }
            file = (size > 0).then_some((file_name, spool));
        } else {
            let text = field.text().await.map_err(|e| unreadable(&e))?;
            match name.as_str() {
                "csrf" => csrf = Some(text),
                "org" if !text.trim().is_empty() => org = Some(text.trim().to_string()),
                "effective" if !text.trim().is_empty() => effective = Some(text.trim().to_string()),
                _ => {}
            }
        }
    }
    let Some((file_name, spool)) = file else {
        return Err(WebError::bad_request("choose a file to upload"));
    };
    Ok(Upload {
        csrf,
        file_name,
        body: UploadBody(spool),
        org,
        effective,
    })
}

/// The outcome of an upload: a summary when accepted, else every problem.
pub(crate) struct UploadOutcome {
    pub accepted: bool,
    pub summary: Vec<String>,
    pub errors: Option<obc_ingest::ImportErrors>,
}

/// Runs an upload of `kind` for the viewer with their write capability; the organisation
/// comes from the viewer's own (district and provider staff can only upload for themselves)
/// or, for admins, the form.
pub(crate) async fn run_upload_as(
    state: &AppState,
    viewer: &Viewer,
    cap: &WriteCapability,
    kind: &str,
    upload: Upload,
) -> Result<UploadOutcome, WebError> {
    let role = viewer.role();
    let writer = cap.writer(state);
    let own_org = viewer.user.org_id.clone();
    let org = if role == Role::Admin {
        upload.org.clone()
    } else {
        own_org
    };
    let name = upload.file_name.as_str();
    let result: Result<Vec<String>, obc_app::AppError> = match kind {
        "roster" => {
            viewer.require(&[Role::Admin, Role::District])?;
            let read = |district: Option<&str>| match upload.body.reader() {
                Ok(reader) => obc_ingest::roster::read_roster_upload(name, reader, district)
                    .map_err(obc_app::AppError::from),
                Err(e) => Err(obc_app::AppError::Invalid(e.message)),
            };
            // District staff: a roster that names its district (a OneRoster export) must name
            // theirs, so it is read first without their id (which would override the file's);
            // one that names none (plain CSV, StudentsBySchool) is read as theirs.
            let parsed = if role == Role::District {
                read(None).or_else(|_| read(org.as_deref()))
            } else {
                read(org.as_deref())
            };
            match parsed {
                Err(e) => Err(e),
                Ok(roster) if role == Role::District && Some(&roster.district_id) != viewer.user.org_id.as_ref() => {
                    return Err(WebError::forbidden(format!(
                        "this roster is for district {}, not yours",
                        roster.district_id
                    )))
                }
                Ok(roster) => writer.import_roster(name, roster).await.map(|r| {
                    let mut lines = vec![format!(
                        "Roster of {}: {} schools, {} students ({} added, {} updated, {} unchanged).",
                        r.district_id, r.schools, r.students, r.report.students_added, r.report.students_updated, r.report.students_unchanged
                    )];
                    lines.extend(r.new_schools().into_iter().take(20).map(|s| format!("New school: {s}")));
                    lines
                }),
            }
        }
        "assessments" => {
            viewer.require(&[Role::Admin, Role::District])?;
            let district = writer.district_for(org.as_deref()).await?;
            let open = || {
                upload
                    .body
                    .reader()
                    .map_err(|e| std::io::Error::other(e.message))
            };
            writer.import_assessments(open, name, &district)
                    .await
                    .map(|r| {
                        let mut lines = vec![format!(
                            "{} rows: {} added, {} replaced, {} unchanged, {} skipped (students not in the roster).",
                            r.rows, r.counts.added, r.counts.replaced, r.counts.unchanged, r.skipped
                        )];
                        lines.extend(r.flagged.into_iter().take(20));
                        lines
                    })
        }
        "sessions" => {
            viewer.require(&[Role::Admin, Role::Provider])?;
            let reach = if role == Role::Provider {
                obc_app::Reach::ContractDistricts
            } else {
                obc_app::Reach::AnyDistrict
            };
            let provider = org
                .ok_or_else(|| WebError::bad_request("say which provider the sessions are for"))?;
            let open = || {
                upload
                    .body
                    .reader()
                    .map_err(|e| std::io::Error::other(e.message))
            };
            writer.import_sessions(open, name, &provider, reach)
                    .await
                    .map(|r| {
                        let mut lines = vec![format!(
                            "{} rows: {} added, {} replaced (earlier versions kept), {} unchanged.",
                            r.rows, r.counts.added, r.counts.replaced, r.counts.unchanged
                        )];
                        if !r.not_enrolled.is_empty() {
                            lines.push(format!(
                                "{} students are not enrolled in your contracts yet; their sessions are kept.",
                                r.not_enrolled.len()
                            ));
                        }
                        if !r.ambiguous.is_empty() {
                            lines.push(format!(
                                "{} sessions have no subject and their students are enrolled in two or more of your contracts on their dates: they count for none of them (send a `subject` column to say which): {}.",
                                r.ambiguous.len(),
                                r.ambiguous.iter().take(20).cloned().collect::<Vec<_>>().join(", ")
                            ));
                        }
                        lines
                    })
        }
        "attendance" => {
            viewer.require(&[Role::Admin, Role::District])?;
            let district = writer.district_for(org.as_deref()).await?;
            writer
                .import_school_attendance(name, upload.body.reader()?, &district)
                .await
            .map(|r| {
                vec![
                    format!(
                        "School attendance for {}: {} rows, {} added, {} replaced, {} unchanged.",
                        r.district_id, r.rows, r.counts.added, r.counts.replaced, r.counts.unchanged
                    ),
                    "Sessions marked attended on days a student was absent from school are listed under \"Sessions to review\" on each contract's progress page.".into(),
                ]
            })
        }
        "contract" => {
            viewer.require(&[Role::Admin])?;
            let effective = match upload.effective.as_deref() {
                None => None,
                Some(text) => Some(obc_core::model::parse_user_date(text).map_err(|why| {
                    WebError::bad_request(format!("effective date {text}: {why}"))
                })?),
            };
            let source = upload.body.contract_bytes()?;
            writer
                .add_contract(name, &source, effective)
                .await
                .map(|cv| {
                    vec![if cv.created {
                        format!(
                            "Contract {} version {} added, effective from {} (sha256 {}).",
                            cv.contract.id, cv.version, cv.effective_from, cv.sha256
                        )
                    } else {
                        format!(
                            "Contract {} version {} is unchanged.",
                            cv.contract.id, cv.version
                        )
                    }]
                })
        }
        _ => return Err(WebError::not_found()),
    };
    if result.is_ok() {
        state.refresh_drafts().await?;
    }
    match result {
        Ok(summary) => Ok(UploadOutcome {
            accepted: true,
            summary,
            errors: None,
        }),
        Err(obc_app::AppError::Rejected { errors }) => Ok(UploadOutcome {
            accepted: false,
            summary: vec![format!(
                "{} problem{} found; nothing was imported.",
                errors.total,
                if errors.total == 1 { "" } else { "s" }
            )],
            errors: Some(errors),
        }),
        Err(obc_app::AppError::InvalidContract { file, problems }) => {
            let mut errors = obc_ingest::ImportErrors::new();
            for p in &problems {
                errors.push(obc_ingest::ImportError {
                    file: file.clone(),
                    line: p.line as u64,
                    column: Some(format!("column {}", p.column)),
                    value: None,
                    expected: p.message.clone(),
                });
            }
            Ok(UploadOutcome {
                accepted: false,
                summary: vec![
                    "The contract was not added; each problem is shown next to its line below."
                        .into(),
                ],
                errors: Some(errors),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Problems shown on a page or in an answer: the first 100, values and messages shortened.
const SHOWN_PROBLEMS: usize = 100;
const SHOWN_VALUE_CHARS: usize = 80;
const SHOWN_MESSAGE_CHARS: usize = 300;

/// `text` cut to `max` characters, saying how long it was.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}... ({} characters)", &text[..end], text.chars().count()),
    }
}

/// The problems of a rejected upload as table rows, and how many more there were.
pub(crate) fn problem_rows(errors: &obc_ingest::ImportErrors) -> (Vec<ProblemRow>, u64) {
    let rows: Vec<ProblemRow> = errors
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|e| ProblemRow {
            file: shorten(&e.file, SHOWN_VALUE_CHARS),
            line: if e.line == 0 {
                String::new()
            } else {
                e.line.to_string()
            },
            column: shorten(e.column.as_deref().unwrap_or_default(), SHOWN_VALUE_CHARS),
            value: shorten(e.value.as_deref().unwrap_or_default(), SHOWN_VALUE_CHARS),
            expected: shorten(&e.expected, SHOWN_MESSAGE_CHARS),
        })
        .collect();
    let more = errors.total.saturating_sub(rows.len() as u64);
    (rows, more)
}
