//! The Letter printout of a statement, as a finance office files it: the summary page, the
//! amounts by school (adding up to the statement's totals), then the students' amounts. A
//! statement of more than [`PRINT_ALL_MAX`] lines lists its schools instead, each linked to a
//! printout of its own students (`?school=ID`), so that no page is megabytes of HTML.

use super::summary::{self, AmountRow};
use super::{heading, shown, Heading, StatementQuery};
use crate::auth::Viewer;
use crate::layout::render;
use crate::{AppState, WebError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use obc_core::money::format_dollars;
use obc_core::rule_words::rule_label;
use obc_core::statement::{Adjustment, SchoolTotal};
use obc_core::Statement;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

/// The most student lines a printout without `?school=` lists: the 600-student demo and the
/// worked example print whole, a state's statement (100,000 students: 17 MB of rows) by school.
pub const PRINT_ALL_MAX: usize = 2_000;

#[derive(Deserialize)]
pub struct PrintQuery {
    /// A school id: print that school's students only.
    pub school: Option<String>,
}

/// Which students a printout lists.
#[derive(Debug, PartialEq, Eq)]
enum Scope<'a> {
    /// Every student: a statement of at most [`PRINT_ALL_MAX`] lines.
    All,
    /// One school's students.
    School(&'a str),
    /// None: the schools, each linked to its own printout.
    Schools,
}

fn scope(lines: usize, school: Option<&str>) -> Scope<'_> {
    match school.filter(|s| !s.is_empty()) {
        Some(school) => Scope::School(school),
        None if lines <= PRINT_ALL_MAX => Scope::All,
        None => Scope::Schools,
    }
}

/// A school's students and amounts, named as the roster names it.
pub struct SchoolAmounts {
    pub school: String,
    /// Its own printout (none for a school's own printout and for the schools' sum).
    pub href: Option<String>,
    pub students: u32,
    pub base: String,
    pub contingent: String,
    pub total: String,
}

impl SchoolAmounts {
    fn new(school: String, href: Option<String>, t: &SchoolTotal) -> SchoolAmounts {
        SchoolAmounts {
            school,
            href,
            students: t.students,
            base: format_dollars(t.base),
            contingent: format_dollars(t.contingent),
            total: format_dollars(t.total),
        }
    }
}

/// A student's amounts on the filed statement.
pub struct PrintedLine {
    pub student_id: String,
    pub school: String,
    pub rule: String,
    pub base: String,
    pub contingent: String,
    pub total: String,
}

/// A correction of an earlier statement, paid or credited on this one.
pub struct CorrectionRow {
    pub student_id: String,
    pub milestone: String,
    pub change: String,
    pub amount: String,
}

impl CorrectionRow {
    fn new(a: &Adjustment) -> CorrectionRow {
        CorrectionRow {
            student_id: a.student_id.clone(),
            milestone: a.milestone.clone(),
            change: format!(
                "{} {} -> {} {}",
                a.original_rule,
                format_dollars(a.original_amount),
                a.corrected_rule,
                format_dollars(a.corrected_amount)
            ),
            amount: format_dollars(a.amount),
        }
    }
}

/// What a printout shows before the students: a school's printout heads with the school's row,
/// the statement's with its summary page and the amounts by school.
pub enum Part {
    School(SchoolAmounts),
    Schools {
        schools: Vec<SchoolAmounts>,
        /// The schools' sum, then what leads from it to the amount due.
        all: SchoolAmounts,
        to_due: Vec<AmountRow>,
    },
}

#[derive(Template)]
#[template(path = "statement_print.html")]
pub struct StatementPrint {
    pub h: Heading,
    pub contract_hash: String,
    pub inputs_hash: String,
    /// The statement's page, and its whole printout (for a school's printout).
    pub back: String,
    pub whole: String,
    /// The CSV download, every student's line.
    pub csv: String,
    pub part: Part,
    /// The students' rows; `None` when the statement prints by school.
    pub students: Option<Vec<PrintedLine>>,
    pub lines: usize,
    pub print_all_max: usize,
    pub corrections: Vec<CorrectionRow>,
    /// Whose corrections are listed, when not all of them.
    pub corrections_of: &'static str,
}

/// The corrections a printout lists: all of them, a school's students', or (printing by
/// school) those of students without a line on this statement, which no school lists.
fn corrections(statement: &Statement, scope: &Scope) -> Vec<CorrectionRow> {
    let adjustments = &statement.adjustments;
    if adjustments.is_empty() || *scope == Scope::All {
        return adjustments.iter().map(CorrectionRow::new).collect();
    }
    let school_of: HashMap<&str, &str> = statement
        .lines
        .iter()
        .map(|l| (l.student_id.as_str(), l.school_id.as_str()))
        .collect();
    let wanted = match scope {
        Scope::School(school) => Some(*school),
        _ => None,
    };
    adjustments
        .iter()
        .filter(|a| school_of.get(a.student_id.as_str()).copied() == wanted)
        .map(CorrectionRow::new)
        .collect()
}

/// `GET .../print`: the statement as a finance office files it (see the module's doc). The
/// finalized statement when there is one, else the draft, as on the statement page.
pub async fn print(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, milestone)): Path<(String, String)>,
    Query(query): Query<StatementQuery>,
    Query(print): Query<PrintQuery>,
) -> Result<Response, WebError> {
    let reader = viewer.reader(&state);
    let shown = shown(&reader, &id, &milestone, query.as_of.as_deref()).await?;
    let names = reader.school_names(&shown.cv).await?;
    let name = |school: &str| crate::format::school_name(&names, school).to_string();
    let statement = &shown.statement;
    let scope = scope(statement.lines.len(), print.school.as_deref());
    let base = format!("/contracts/{id}/statements/{milestone}");
    let as_of = shown.as_of_param.trim_start_matches("&as_of=");
    let totals = state.figures.schools(statement);
    let part = match scope {
        Scope::School(school) => {
            let t = totals
                .iter()
                .find(|t| t.school_id == school)
                .ok_or_else(|| {
                    WebError::new(
                        StatusCode::NOT_FOUND,
                        format!("No student of school {school} is on this statement."),
                    )
                })?;
            let named = match name(school) {
                unnamed if unnamed == school => unnamed,
                named => format!("{named} ({school})"),
            };
            Part::School(SchoolAmounts::new(named, None, t))
        }
        _ => {
            let sum = SchoolTotal {
                students: totals.iter().map(|t| t.students).sum(),
                base: totals.iter().map(|t| t.base).sum::<Decimal>(),
                contingent: totals.iter().map(|t| t.contingent).sum::<Decimal>(),
                total: totals.iter().map(|t| t.total).sum::<Decimal>(),
                ..SchoolTotal::default()
            };
            let printout = |school: &str| {
                crate::listing::href(
                    &format!("{base}/print"),
                    &[("school", school), ("as_of", as_of)],
                )
            };
            Part::Schools {
                schools: totals
                    .iter()
                    .map(|t| {
                        SchoolAmounts::new(name(&t.school_id), Some(printout(&t.school_id)), t)
                    })
                    .collect(),
                all: SchoolAmounts::new("All schools".into(), None, &sum),
                to_due: summary::from_lines_to_due(statement),
            }
        }
    };
    let students = match scope {
        Scope::Schools => None,
        _ => Some(
            statement
                .lines
                .iter()
                .filter(|l| !matches!(scope, Scope::School(s) if s != l.school_id))
                .map(|l| PrintedLine {
                    student_id: l.student_id.clone(),
                    school: name(&l.school_id),
                    rule: rule_label(&l.rule, l.tier_pays),
                    base: format_dollars(l.base_amount),
                    contingent: format_dollars(l.contingent_amount),
                    total: format_dollars(l.total),
                })
                .collect(),
        ),
    };
    Ok(render(&StatementPrint {
        h: heading(&reader, &shown).await?,
        contract_hash: statement.contract_hash.clone(),
        inputs_hash: statement.inputs_hash.clone(),
        back: crate::listing::href(&base, &[("as_of", as_of)]),
        whole: crate::listing::href(&format!("{base}/print"), &[("as_of", as_of)]),
        csv: format!("{base}/download?format=csv{}", shown.as_of_param),
        part,
        students,
        lines: statement.lines.len(),
        print_all_max: PRINT_ALL_MAX,
        corrections: corrections(statement, &scope),
        corrections_of: match scope {
            Scope::All => "",
            Scope::School(_) => " (this school's students)",
            Scope::Schools => {
                " (of students without a line on this statement; each school's printout lists its students')"
            }
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printout_lists_every_student_up_to_the_cap_then_schools_or_one_school() {
        assert_eq!(scope(600, None), Scope::All);
        assert_eq!(scope(PRINT_ALL_MAX, None), Scope::All);
        assert_eq!(scope(PRINT_ALL_MAX + 1, None), Scope::Schools);
        assert_eq!(scope(100_000, Some("")), Scope::Schools);
        assert_eq!(scope(100_000, Some("sch-1")), Scope::School("sch-1"));
        assert_eq!(scope(600, Some("sch-1")), Scope::School("sch-1"));
    }

    /// A statement of students `(id, school)` with a correction for each of `corrected`.
    fn statement(students: &[(&str, &str)], corrected: &[&str]) -> Statement {
        let line = |(id, school): &(&str, &str)| {
            format!(
                r#"{{"student_id":"{id}","school_id":"{school}","grade":null,"enrollment_start":"2024-08-12","enrollment_end":null,"planned":0,"attended":0,"student_absent":0,"district_cancelled":0,"provider_cancelled":0,"minutes":0,"attendance_rate":null,"same_tutor_rate":null,"provider_cancel_rate":null,"availability_rate":null,"baseline":null,"outcome":null,"observed_growth":null,"projected_growth":null,"measure":null,"growth_vs_projected":null,"rule":"excluded","tier_pays":"0","base_amount":"0","contingent_amount":"0","total":"0","base_clause":"","contingent_clause":"","reason":"","notes":[]}}"#
            )
        };
        let adjustment = |id: &&str| {
            format!(
                r#"{{"student_id":"{id}","milestone":"midyear","original_rule":"excluded","original_amount":"0","corrected_rule":"district_fault","corrected_amount":"360.00","amount":"360.00","reason":""}}"#
            )
        };
        let json = format!(
            r#"{{"contract_id":"c","contract_version":1,"contract_hash":"h","milestone":"final","milestone_date":"2025-06-30","statement_date":"2025-06-30","contingent":true,"engine_version":"e","inputs_hash":"i","lines":[{}],"adjustments":[{}],"totals":{{"students":0,"planned":0,"attended":0,"student_absent":0,"district_cancelled":0,"provider_cancelled":0,"base":"0","contingent":"0","lines_total":"0","paid_before":"0","nte_remaining":"0","nte_cap":null,"statement_total":"0","by_rule":[],"met_target":0,"cost_per_outcome":null}}}}"#,
            students.iter().map(line).collect::<Vec<_>>().join(","),
            corrected
                .iter()
                .map(adjustment)
                .collect::<Vec<_>>()
                .join(",")
        );
        Statement::from_json(&json).expect("a statement")
    }

    #[test]
    fn a_schools_printout_lists_its_students_corrections_and_the_schools_the_others() {
        let s = statement(
            &[("a1", "sch-a"), ("b1", "sch-b"), ("a2", "sch-a")],
            &["a2", "b1", "gone"],
        );
        let of = |scope: Scope| -> Vec<String> {
            corrections(&s, &scope)
                .into_iter()
                .map(|c| c.student_id)
                .collect()
        };
        assert_eq!(of(Scope::All), ["a2", "b1", "gone"]);
        assert_eq!(of(Scope::School("sch-a")), ["a2"]);
        assert_eq!(of(Scope::School("sch-b")), ["b1"]);
        // Printing by school, the statement's printout lists the corrections no school lists.
        assert_eq!(of(Scope::Schools), ["gone"]);
    }
}
