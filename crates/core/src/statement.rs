//! A statement: one line per enrolled student with every figure and the reason for its amount,
//! and its totals. Rendered as CSV, JSON or a text table; every rendering is byte-stable.

use crate::csv_text::text;
use crate::money::format_cents;
use crate::ratio::Ratio;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One student's line (SPEC 5.10).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub student_id: String,
    pub school_id: String,
    pub grade: Option<String>,
    pub enrollment_start: String,
    pub enrollment_end: Option<String>,
    pub planned: u32,
    pub attended: u32,
    pub student_absent: u32,
    pub district_cancelled: u32,
    pub provider_cancelled: u32,
    pub minutes: u64,
    #[serde(serialize_with = "ratio4", deserialize_with = "ratio_from_display")]
    pub attendance_rate: Option<Ratio>,
    #[serde(serialize_with = "ratio4", deserialize_with = "ratio_from_display")]
    pub same_tutor_rate: Option<Ratio>,
    #[serde(serialize_with = "ratio4", deserialize_with = "ratio_from_display")]
    pub provider_cancel_rate: Option<Ratio>,
    #[serde(serialize_with = "ratio4", deserialize_with = "ratio_from_display")]
    pub availability_rate: Option<Ratio>,
    pub baseline: Option<Decimal>,
    pub outcome: Option<Decimal>,
    pub observed_growth: Option<Decimal>,
    pub projected_growth: Option<Decimal>,
    #[serde(serialize_with = "ratio4", deserialize_with = "ratio_from_display")]
    pub measure: Option<Ratio>,
    #[serde(serialize_with = "ratio4", deserialize_with = "ratio_from_display")]
    pub growth_vs_projected: Option<Ratio>,
    pub rule: String,
    /// The `pays` of the tier that applied (1.00 for district fault), before school adjustment.
    pub tier_pays: Decimal,
    pub base_amount: Decimal,
    pub contingent_amount: Decimal,
    pub total: Decimal,
    /// The contract clause behind the base amount (`milestone.midyear`).
    pub base_clause: String,
    /// The contract clause behind the contingent amount (`rate_card.meets`), empty before the
    /// contingent milestone.
    pub contingent_clause: String,
    pub reason: String,
    /// Invalid tests and data warnings for this student.
    pub notes: Vec<String>,
}

impl Line {
    /// SPEC 5.8's "met the target": a tier rule whose tier pays at least 100%.
    pub fn met_target(&self) -> bool {
        met_target(&self.rule, self.tier_pays)
    }

    /// Planned, attended, student absent, district cancelled, provider cancelled.
    pub fn counts(&self) -> [u32; 5] {
        [
            self.planned,
            self.attended,
            self.student_absent,
            self.district_cancelled,
            self.provider_cancelled,
        ]
    }
}

/// [`Line::met_target`] of a line's rule and tier pays.
pub(crate) fn met_target(rule: &str, tier_pays: Decimal) -> bool {
    rule.starts_with("tier:") && tier_pays >= Decimal::ONE
}

/// One school's students and amounts on a statement (the contract page's table, the printout's
/// amounts by school).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchoolTotal {
    pub school_id: String,
    pub students: u32,
    /// Students who met the target ([`Line::met_target`]).
    pub met_target: u32,
    pub district_fault: u32,
    pub provider_fault: u32,
    pub excluded: u32,
    pub base: Decimal,
    pub contingent: Decimal,
    pub total: Decimal,
}

/// Each school's students and amounts, by school id. Sums of the rounded lines, so the schools
/// add up exactly to the statement's base, contingent and student lines' total.
pub fn school_totals(lines: &[Line]) -> Vec<SchoolTotal> {
    let mut by_school: BTreeMap<&str, SchoolTotal> = BTreeMap::new();
    for l in lines {
        let s = by_school
            .entry(l.school_id.as_str())
            .or_insert_with(|| SchoolTotal {
                school_id: l.school_id.clone(),
                ..SchoolTotal::default()
            });
        s.students += 1;
        s.met_target += u32::from(l.met_target());
        s.district_fault += u32::from(l.rule == "district_fault");
        s.provider_fault += u32::from(l.rule == "provider_fault");
        s.excluded += u32::from(l.rule == "excluded");
        s.base += l.base_amount;
        s.contingent += l.contingent_amount;
        s.total += l.total;
    }
    by_school.into_values().collect()
}

/// A correction of a finalized statement's line, paid or credited on this statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub student_id: String,
    /// The finalized milestone whose line is corrected.
    pub milestone: String,
    pub original_rule: String,
    pub original_amount: Decimal,
    pub corrected_rule: String,
    pub corrected_amount: Decimal,
    /// corrected - original: a debit when positive, a credit when negative.
    pub amount: Decimal,
    pub reason: String,
}

/// Students and amounts under one rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RuleTotal {
    pub rule: String,
    pub students: u32,
    pub base: Decimal,
    pub contingent: Decimal,
}

/// The statement's totals; all amounts are sums of rounded lines.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    pub students: u32,
    pub planned: u32,
    pub attended: u32,
    pub student_absent: u32,
    pub district_cancelled: u32,
    pub provider_cancelled: u32,
    pub base: Decimal,
    pub contingent: Decimal,
    /// Sum of the student lines.
    pub lines_total: Decimal,
    /// Sum of the adjustment lines (corrections of finalized statements).
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub adjustments: Decimal,
    /// Totals of the finalized statements of earlier milestones.
    pub paid_before: Decimal,
    /// max(0, NTE - paid before).
    pub nte_remaining: Decimal,
    /// Negative amount that brings the total down to the NTE remainder, when the cap binds.
    pub nte_cap: Option<Decimal>,
    pub statement_total: Decimal,
    pub by_rule: Vec<RuleTotal>,
    /// Students whose rule is a tier paying 100% or more.
    pub met_target: u32,
    /// All paid on the contract including this statement / students who met the target.
    pub cost_per_outcome: Option<Decimal>,
}

/// The evaluation of a contract at a milestone. A finalized statement is read back from its
/// stored JSON (`from_json`) and renders to the same bytes. Its lines are [`Line`]s, except in
/// a statement read for the correction rule only
/// ([`crate::corrections::PaidStatement`]), which keeps what each line paid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Statement<L = Line> {
    pub contract_id: String,
    pub contract_version: u32,
    pub contract_hash: String,
    pub milestone: String,
    pub milestone_date: String,
    pub statement_date: String,
    pub contingent: bool,
    /// A closing statement (SPEC 5.11): adjustment lines only, `milestone` is its
    /// `closing-YYYY-MM-DD` name. Absent from the JSON of a milestone statement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closing: bool,
    pub engine_version: String,
    pub inputs_hash: String,
    pub lines: Vec<L>,
    /// Corrections of earlier finalized statements (late or corrected data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<Adjustment>,
    pub totals: Totals,
}

/// Reads a rate or measure back from its 4-decimal display, to re-render a stored statement.
fn ratio_from_display<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Ratio>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| {
        t.parse::<Decimal>()
            .map(Ratio::whole)
            .map_err(|_| serde::de::Error::custom(format!("a rate like 0.8571, not {t}")))
    })
    .transpose()
}

fn ratio4<S: Serializer>(r: &Option<Ratio>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&r.display4()),
        None => s.serialize_none(),
    }
}

/// The CSV columns; the first twenty are those of the worked example's expected statements.
pub const CSV_COLUMNS: [&str; 26] = [
    "student_id",
    "school_id",
    "planned",
    "attended",
    "student_absent",
    "district_cancelled",
    "provider_cancelled",
    "attendance_rate",
    "same_tutor_rate",
    "provider_cancel_rate",
    "availability_rate",
    "baseline",
    "outcome",
    "observed_growth",
    "projected_growth",
    "measure",
    "rule",
    "base_amount",
    "contingent_amount",
    "total",
    "grade",
    "minutes",
    "base_clause",
    "contingent_clause",
    "reason",
    "notes",
];

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

fn opt_ratio(r: &Option<Ratio>) -> String {
    r.map(|r| r.display4()).unwrap_or_default()
}

impl<L> Statement<L> {
    /// The same statement with each line made into an `M` (a finalized statement reduced to
    /// what the correction rule reads, [`crate::corrections::PaidStatement`]).
    pub fn map_lines<M>(self, line: impl FnMut(L) -> M) -> Statement<M> {
        let mut lines: Vec<M> = self.lines.into_iter().map(line).collect();
        // Collected in place, smaller lines would keep the whole lines' allocation.
        lines.shrink_to_fit();
        Statement {
            contract_id: self.contract_id,
            contract_version: self.contract_version,
            contract_hash: self.contract_hash,
            milestone: self.milestone,
            milestone_date: self.milestone_date,
            statement_date: self.statement_date,
            contingent: self.contingent,
            closing: self.closing,
            engine_version: self.engine_version,
            inputs_hash: self.inputs_hash,
            lines,
            adjustments: self.adjustments,
            totals: self.totals,
        }
    }
}

impl Statement {
    /// CSV: one row per student, then `TOTAL`, one `ADJUSTMENT` row per correction (the
    /// student id in `school_id`), `NTE_CAP` (when the cap binds),
    /// `STATEMENT_TOTAL`, one `BY_RULE` row per rule and `COST_PER_OUTCOME`. Summary rows put
    /// their count in the `school_id` column. Text cells are neutralized against spreadsheet
    /// formulas ([`crate::csv_text`]); numbers are written as they are.
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(CSV_COLUMNS).expect("writing to memory");
        for l in &self.lines {
            w.write_record([
                text(&l.student_id),
                text(&l.school_id),
                l.planned.to_string(),
                l.attended.to_string(),
                l.student_absent.to_string(),
                l.district_cancelled.to_string(),
                l.provider_cancelled.to_string(),
                opt_ratio(&l.attendance_rate),
                opt_ratio(&l.same_tutor_rate),
                opt_ratio(&l.provider_cancel_rate),
                opt_ratio(&l.availability_rate),
                opt(&l.baseline),
                opt(&l.outcome),
                opt(&l.observed_growth),
                opt(&l.projected_growth),
                opt_ratio(&l.measure),
                text(&l.rule),
                format_cents(l.base_amount),
                format_cents(l.contingent_amount),
                format_cents(l.total),
                text(opt(&l.grade)),
                l.minutes.to_string(),
                text(&l.base_clause),
                text(&l.contingent_clause),
                text(&l.reason),
                text(l.notes.join(" | ")),
            ])
            .expect("writing to memory");
        }
        let t = &self.totals;
        let summary = |first: &str, count: String, cells: &[(usize, String)]| {
            let mut row = vec![String::new(); CSV_COLUMNS.len()];
            row[0] = first.to_string();
            row[1] = count;
            for (i, v) in cells {
                row[*i] = v.clone();
            }
            row
        };
        let mut rows = vec![summary(
            "TOTAL",
            t.students.to_string(),
            &[
                (2, t.planned.to_string()),
                (3, t.attended.to_string()),
                (4, t.student_absent.to_string()),
                (5, t.district_cancelled.to_string()),
                (6, t.provider_cancelled.to_string()),
                (17, format_cents(t.base)),
                (18, format_cents(t.contingent)),
                (19, format_cents(t.lines_total)),
            ],
        )];
        for a in &self.adjustments {
            rows.push(summary(
                "ADJUSTMENT",
                text(&a.student_id),
                &[
                    (16, text(format!("adjustment:{}", a.milestone))),
                    (19, format_cents(a.amount)),
                    (22, text(format!("milestone.{}", a.milestone))),
                    (24, text(&a.reason)),
                ],
            ));
        }
        if let Some(cap) = t.nte_cap {
            rows.push(summary(
                "NTE_CAP",
                String::new(),
                &[
                    (16, "nte_cap".into()),
                    (19, format_cents(cap)),
                    (22, "not_to_exceed".into()),
                ],
            ));
        }
        rows.push(summary(
            "STATEMENT_TOTAL",
            String::new(),
            &[(19, format_cents(t.statement_total))],
        ));
        for r in &t.by_rule {
            rows.push(summary(
                "BY_RULE",
                r.students.to_string(),
                &[
                    (16, text(&r.rule)),
                    (17, format_cents(r.base)),
                    (18, format_cents(r.contingent)),
                    (19, format_cents(r.base + r.contingent)),
                ],
            ));
        }
        rows.push(summary(
            "COST_PER_OUTCOME",
            t.met_target.to_string(),
            &[(19, t.cost_per_outcome.map(format_cents).unwrap_or_default())],
        ));
        for row in rows {
            w.write_record(&row).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }

    /// SHA-256 of the canonical JSON: what the ledger records and a re-run must reproduce.
    pub fn content_sha256(&self) -> String {
        self.write_json(std::io::sink())
            .expect("a sink takes every byte")
    }

    /// Writes the bytes of [`Statement::to_json`] to `out` and returns their SHA-256 (hex): a
    /// finalization deflates and hashes a state's statement without holding its text.
    pub fn write_json(&self, out: impl std::io::Write) -> std::io::Result<String> {
        use std::io::Write;
        let mut out = crate::engine::hashing_buffer(out);
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")?;
        crate::engine::finish_hashing(out)
    }

    /// Reads a statement from its canonical JSON (as stored at finalization).
    pub fn from_json(json: &str) -> Result<Statement, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Pretty JSON with a fixed key order and a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("statement serializes");
        s.push('\n');
        s
    }

    /// A summary for people: header, totals by rule, the cap and cost per outcome.
    pub fn summary(&self) -> String {
        if self.closing {
            return self.closing_summary();
        }
        let t = &self.totals;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Statement for contract {} (version {}), milestone {} ({}), as of {}",
            self.contract_id,
            self.contract_version,
            self.milestone,
            self.milestone_date,
            self.statement_date
        );
        let _ = writeln!(
            s,
            "{} students, {} planned sessions, {} attended",
            t.students, t.planned, t.attended
        );
        let _ = writeln!(
            s,
            "{:<34} {:>8} {:>14} {:>14} {:>14}",
            "rule", "students", "base", "contingent", "total"
        );
        for r in &t.by_rule {
            let _ = writeln!(
                s,
                "{:<34} {:>8} {:>14} {:>14} {:>14}",
                r.rule,
                r.students,
                format_cents(r.base),
                format_cents(r.contingent),
                format_cents(r.base + r.contingent)
            );
        }
        let _ = writeln!(
            s,
            "{:<34} {:>8} {:>14} {:>14} {:>14}",
            "TOTAL",
            t.students,
            format_cents(t.base),
            format_cents(t.contingent),
            format_cents(t.lines_total)
        );
        self.write_adjustments_and_total(&mut s);
        match t.cost_per_outcome {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "students who met the target: {}; cost per outcome: {}",
                    t.met_target,
                    format_cents(c)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "students who met the target: {}; cost per outcome: none",
                    t.met_target
                );
            }
        }
        s
    }

    /// A closing statement's summary: no student line, only its adjustments and NTE line.
    fn closing_summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Closing statement {} for contract {} (version {}): late data since the finalized statements",
            self.milestone, self.contract_id, self.contract_version
        );
        let _ = writeln!(
            s,
            "{} adjustment lines (what today's data pays minus what was paid)",
            self.adjustments.len()
        );
        self.write_adjustments_and_total(&mut s);
        s
    }

    /// The adjustment lines, the NTE line, the statement total and what was paid before.
    fn write_adjustments_and_total(&self, s: &mut String) {
        let t = &self.totals;
        for a in &self.adjustments {
            let _ = writeln!(
                s,
                "{:<34} {:>8} {:>14} {:>14} {:>14}",
                format!("adjustment {} {}", a.milestone, a.student_id),
                "",
                "",
                "",
                format_cents(a.amount)
            );
        }
        if let Some(cap) = t.nte_cap {
            let _ = writeln!(
                s,
                "{:<34} {:>8} {:>14} {:>14} {:>14}",
                "nte_cap (not_to_exceed)",
                "",
                "",
                "",
                format_cents(cap)
            );
        }
        let _ = writeln!(
            s,
            "{:<34} {:>53}",
            "STATEMENT TOTAL",
            format_cents(t.statement_total)
        );
        let _ = writeln!(
            s,
            "paid before this statement: {}",
            format_cents(t.paid_before)
        );
    }

    /// The whole statement as a text table: one row per student, then the summary (a closing
    /// statement, which has no student line, is its summary).
    pub fn to_table(&self) -> String {
        if self.closing {
            return self.summary();
        }
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<38} {:<10} {:>4} {:>4} {:>7} {:>7} {:>7} {:>7} {:>9} {:<28} {:>9} {:>9} {:>9}",
            "student",
            "school",
            "plan",
            "att",
            "att%",
            "tutor%",
            "pcanc%",
            "avail%",
            "measure",
            "rule",
            "base",
            "conting.",
            "total"
        );
        for l in &self.lines {
            let _ = writeln!(
                s,
                "{:<38} {:<10} {:>4} {:>4} {:>7} {:>7} {:>7} {:>7} {:>9} {:<28} {:>9} {:>9} {:>9}",
                l.student_id,
                l.school_id,
                l.planned,
                l.attended,
                opt_ratio(&l.attendance_rate),
                opt_ratio(&l.same_tutor_rate),
                opt_ratio(&l.provider_cancel_rate),
                opt_ratio(&l.availability_rate),
                opt_ratio(&l.measure),
                l.rule,
                format_cents(l.base_amount),
                format_cents(l.contingent_amount),
                format_cents(l.total)
            );
        }
        s.push('\n');
        s.push_str(&self.summary());
        s
    }

    /// One student's full derivation, for `obc explain`.
    pub fn explain(&self, student_id: &str) -> Option<String> {
        let l = self.lines.iter().find(|l| l.student_id == student_id)?;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Student {} (school {}, grade {})",
            l.student_id,
            l.school_id,
            opt(&l.grade)
        );
        let _ = writeln!(
            s,
            "Contract {} version {}, milestone {} ({}), statement date {}",
            self.contract_id,
            self.contract_version,
            self.milestone,
            self.milestone_date,
            self.statement_date
        );
        let _ = writeln!(
            s,
            "Enrolled {} to {}",
            l.enrollment_start,
            l.enrollment_end.as_deref().unwrap_or("(open)")
        );
        let _ = writeln!(s, "\n1. Sessions counted (provider's, in the period, within the enrollment, up to the statement date)");
        let _ = writeln!(
            s,
            "   planned {}  attended {}  student_absent {}  district_cancelled {}  provider_cancelled {}  minutes {}",
            l.planned, l.attended, l.student_absent, l.district_cancelled, l.provider_cancelled, l.minutes
        );
        let rate = |name: &str, r: &Option<Ratio>, formula: &str| {
            format!(
                "   {name:<22} {:>8}   = {formula}\n",
                r.map_or("undefined".into(), |r| r.display4())
            )
        };
        s.push_str(&rate(
            "attendance_rate",
            &l.attendance_rate,
            "attended / (attended + student_absent)",
        ));
        s.push_str(&rate(
            "same_tutor_rate",
            &l.same_tutor_rate,
            "attended with most frequent tutor / attended",
        ));
        s.push_str(&rate(
            "provider_cancel_rate",
            &l.provider_cancel_rate,
            "provider_cancelled / planned",
        ));
        s.push_str(&rate(
            "availability_rate",
            &l.availability_rate,
            "(planned - district_cancelled) / planned",
        ));
        let _ = writeln!(s, "\n2. Scores");
        let _ = writeln!(
            s,
            "   baseline {}  outcome {}  observed growth {}  projected growth {}",
            show_opt(&l.baseline),
            show_opt(&l.outcome),
            show_opt(&l.observed_growth),
            show_opt(&l.projected_growth)
        );
        let _ = writeln!(
            s,
            "   measure {}",
            l.measure.map_or("missing".into(), |m| m.display4())
        );
        for n in &l.notes {
            let _ = writeln!(s, "   note: {n}");
        }
        let _ = writeln!(s, "\n3. Rule: {}", l.rule);
        let _ = writeln!(s, "   {}", l.reason);
        let _ = writeln!(s, "\n4. Amounts");
        let _ = writeln!(
            s,
            "   base        {:>10}   ({})",
            format_cents(l.base_amount),
            l.base_clause
        );
        let clause = if l.contingent_clause.is_empty() {
            "not due at this milestone"
        } else {
            &l.contingent_clause
        };
        let _ = writeln!(
            s,
            "   contingent  {:>10}   ({})",
            format_cents(l.contingent_amount),
            clause
        );
        let _ = writeln!(s, "   total       {:>10}", format_cents(l.total));
        Some(s)
    }
}

fn show_opt(v: &Option<Decimal>) -> String {
    v.map_or("-".into(), |d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_kit::*;

    #[test]
    fn school_totals_add_up_to_the_statement() {
        let statement = final_statement(&contract(&[]), two_schools());
        let schools = school_totals(&statement.lines);
        let ids: Vec<&str> = schools.iter().map(|s| s.school_id.as_str()).collect();
        assert_eq!(ids, ["sch-a", "sch-b"]);
        let (a, b) = (&schools[0], &schools[1]);
        assert_eq!((a.students, b.students), (2, 3));
        // a1 exceeds (1.5 x projection), a2 approaches, b1 meets: two met the target. b2 (3
        // sessions) and b3 (none) were not offered the minimum: the district's fault.
        assert_eq!((a.met_target, b.met_target), (1, 1));
        assert_eq!((a.district_fault, b.district_fault), (0, 2));
        assert_eq!((b.provider_fault, b.excluded), (0, 0));
        // A base of 720.00 for each student with sessions; 480.00 x 1.25 and x 0.50
        // contingent at sch-a, x 1.00 for each of sch-b's.
        assert_eq!((a.base, a.contingent), (dec("1440.00"), dec("840.00")));
        assert_eq!((b.base, b.contingent), (dec("1440.00"), dec("1440.00")));
        assert_eq!((a.total, b.total), (dec("2280.00"), dec("2880.00")));
        let t = &statement.totals;
        let sum = |f: fn(&SchoolTotal) -> Decimal| schools.iter().map(f).sum::<Decimal>();
        assert_eq!(sum(|s| s.base), t.base);
        assert_eq!(sum(|s| s.contingent), t.contingent);
        assert_eq!(sum(|s| s.total), t.lines_total);
        assert_eq!(schools.iter().map(|s| s.students).sum::<u32>(), t.students);
    }

    #[test]
    fn written_json_is_to_json_with_its_hash() {
        use sha2::Digest;
        let statement = final_statement(&contract(&[]), two_schools());
        let mut written = Vec::new();
        let sha = statement.write_json(&mut written).unwrap();
        let json = statement.to_json();
        assert_eq!(written, json.as_bytes());
        assert_eq!(
            sha,
            crate::engine::hex(&sha2::Sha256::digest(json.as_bytes()))
        );
        assert_eq!(statement.content_sha256(), sha);
    }
}
