//! Choosing the students who most need tutoring (SPEC 7, `target`): a pure rule over the roster
//! and one term's assessment results, with the equity view of who is chosen next to the
//! district's population.

use crate::grade::Grade;
use crate::model::{AssessmentResult, Student};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// The cut on the term's score: strictly below the value is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Cut {
    PercentileBelow(Decimal),
    RitBelow(Decimal),
}

/// Who is eligible; every condition must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetRules {
    /// Grades to consider; empty: every grade.
    pub grades: Vec<Grade>,
    /// The tests' subject (as `Subject` in MAP), compared ignoring case.
    pub subject: String,
    /// The `TermName` of the tests the cut applies to, e.g. `Fall 2024-2025`.
    pub term: String,
    pub cut: Cut,
    /// Flags the student must carry with a true value (`english_learner`, ...).
    pub flags: Vec<String>,
    /// At most this many per school, the lowest first.
    pub max_per_school: Option<usize>,
}

/// One chosen student with the score that chose them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chosen {
    pub student_id: String,
    pub school_id: String,
    pub grade: Option<Grade>,
    pub score: Option<Decimal>,
    pub percentile: Option<Decimal>,
}

/// A count in the selection next to the same count in the district.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub selected: usize,
    pub district: usize,
}

/// The selection and its equity view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub rules: TargetRules,
    /// In school order, then lowest first (percentile or score, ties by student id).
    pub chosen: Vec<Chosen>,
    /// Eligible students left out by `max_per_school`.
    pub over_school_cap: usize,
    pub district_students: usize,
    pub by_school: BTreeMap<String, Comparison>,
    /// Every flag seen in the roster: students carrying it with a true value.
    pub by_flag: BTreeMap<String, Comparison>,
}

/// A flag value that means yes: `true`, `t`, `y`, `yes`, `1`, any case (as `GrowthMeasureYN`).
pub fn flag_is_true(value: &str) -> bool {
    ["true", "t", "y", "yes", "1"]
        .iter()
        .any(|yes| value.trim().eq_ignore_ascii_case(yes))
}

fn has_flag(student: &Student, name: &str) -> bool {
    student
        .flags
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case(name) && flag_is_true(v))
}

/// The student's latest test of the rules' subject and term (by date, then start time, then
/// later row), as the engine picks a term's test.
fn latest_tests<'a>(
    rules: &TargetRules,
    tests: &'a [AssessmentResult],
) -> BTreeMap<&'a str, &'a AssessmentResult> {
    let mut latest: BTreeMap<&str, &AssessmentResult> = BTreeMap::new();
    for t in tests
        .iter()
        .filter(|t| t.subject.eq_ignore_ascii_case(&rules.subject) && t.term_name == rules.term)
    {
        let entry = latest.entry(t.student_id.as_str()).or_insert(t);
        if (t.date, t.start_seconds) >= (entry.date, entry.start_seconds) {
            *entry = t;
        }
    }
    latest
}

/// Selects the students under the cut: of the grades, with every flag, the lowest first within
/// each school up to the cap. A student without a test of the term (or without the percentile,
/// for a percentile cut) is not selected.
pub fn select(rules: &TargetRules, students: &[Student], tests: &[AssessmentResult]) -> Selection {
    let latest = latest_tests(rules, tests);
    let mut eligible: Vec<(Decimal, Chosen)> = students
        .iter()
        .filter(|s| {
            rules.grades.is_empty() || s.grade.as_ref().is_some_and(|g| rules.grades.contains(g))
        })
        .filter(|s| rules.flags.iter().all(|f| has_flag(s, f)))
        .filter_map(|s| {
            let test = latest.get(s.id.as_str())?;
            let (value, cut) = match rules.cut {
                Cut::PercentileBelow(cut) => (test.percentile?, cut),
                Cut::RitBelow(cut) => (test.score?, cut),
            };
            (value < cut).then(|| {
                let chosen = Chosen {
                    student_id: s.id.clone(),
                    school_id: s.school_id.clone(),
                    grade: s.grade.clone(),
                    score: test.score,
                    percentile: test.percentile,
                };
                (value, chosen)
            })
        })
        .collect();
    eligible.sort_by(|(a, x), (b, y)| {
        (&x.school_id, a, &x.student_id).cmp(&(&y.school_id, b, &y.student_id))
    });
    let mut per_school: BTreeMap<String, usize> = BTreeMap::new();
    let mut over_school_cap = 0;
    let mut chosen = Vec::new();
    for (_, c) in eligible {
        let n = per_school.entry(c.school_id.clone()).or_default();
        if rules.max_per_school.is_some_and(|max| *n >= max) {
            over_school_cap += 1;
            continue;
        }
        *n += 1;
        chosen.push(c);
    }

    let selected: std::collections::BTreeSet<&str> =
        chosen.iter().map(|c| c.student_id.as_str()).collect();
    let mut by_school: BTreeMap<String, Comparison> = BTreeMap::new();
    let mut by_flag: BTreeMap<String, Comparison> = BTreeMap::new();
    for s in students {
        let is_selected = selected.contains(s.id.as_str());
        let school = by_school.entry(s.school_id.clone()).or_default();
        school.district += 1;
        school.selected += usize::from(is_selected);
        for (name, value) in &s.flags {
            let flag = by_flag.entry(name.clone()).or_default();
            if flag_is_true(value) {
                flag.district += 1;
                flag.selected += usize::from(is_selected);
            }
        }
    }
    Selection {
        rules: rules.clone(),
        chosen,
        over_school_cap,
        district_students: students.len(),
        by_school,
        by_flag,
    }
}

/// The share a count is of a total, as a percentage with one decimal (`12.5%`); `-` for none.
pub fn share(count: usize, total: usize) -> String {
    if total == 0 {
        return "-".into();
    }
    let pct = Decimal::from(count) * Decimal::ONE_HUNDRED / Decimal::from(total);
    format!(
        "{}%",
        pct.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointNearestEven)
    )
}

/// The rules as text, as every front end receives them: a rules file (`obc target --rules`,
/// TOML), the command line's flags and the web form. One parser, so the same words choose the
/// same students everywhere. Decimals are strings, like a contract's:
///
/// ```toml
/// grades = ["6", "7"]
/// subject = "Mathematics"
/// term = "Fall 2024-2025"
/// percentile_below = "40"     # or rit_below = "205"
/// flags = ["english_learner"]
/// max_per_school = 25
/// ```
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesText {
    #[serde(default)]
    pub grades: Vec<String>,
    pub subject: String,
    pub term: String,
    pub percentile_below: Option<String>,
    pub rit_below: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    pub max_per_school: Option<usize>,
}

impl RulesText {
    /// The rules these words give; the error names the field and what is wrong.
    pub fn rules(&self) -> Result<TargetRules, String> {
        let decimal = |key: &str, text: &str| {
            text.trim()
                .parse::<Decimal>()
                .map_err(|_| format!("{key} = \"{text}\": expected a decimal number"))
        };
        let blank = |text: &Option<String>| text.as_deref().is_none_or(|t| t.trim().is_empty());
        let cut = match (blank(&self.percentile_below), blank(&self.rit_below)) {
            (false, true) => Cut::PercentileBelow(decimal(
                "percentile_below",
                self.percentile_below.as_deref().unwrap_or_default(),
            )?),
            (true, false) => Cut::RitBelow(decimal(
                "rit_below",
                self.rit_below.as_deref().unwrap_or_default(),
            )?),
            _ => return Err("give exactly one of percentile_below and rit_below".into()),
        };
        let required = |key: &str, text: &str| {
            let text = text.trim();
            if text.is_empty() {
                Err(format!("{key}: give the tests' {key} as MAP writes it"))
            } else {
                Ok(text.to_string())
            }
        };
        let grades = self
            .grades
            .iter()
            .map(|g| Grade::parse(g).ok_or_else(|| format!("grades: \"{g}\" is not a grade")))
            .collect::<Result<_, _>>()?;
        Ok(TargetRules {
            grades,
            subject: required("subject", &self.subject)?,
            term: required("term", &self.term)?,
            cut,
            flags: self
                .flags
                .iter()
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect(),
            max_per_school: self.max_per_school,
        })
    }
}

/// Parses a rules file; the error names the line and what is wrong.
pub fn parse_rules(source: &str) -> Result<TargetRules, String> {
    toml::from_str::<RulesText>(source)
        .map_err(|e| e.to_string())?
        .rules()
}

impl Selection {
    /// The selection as the enrollment CSV of SPEC 3.4 (`student_id,start_date`), in student
    /// id order, every student starting on `start`: what `obc enroll` reads.
    pub fn enrollment_csv(&self, start: time::Date) -> String {
        let mut ids: Vec<&str> = self.chosen.iter().map(|c| c.student_id.as_str()).collect();
        ids.sort_unstable();
        let mut csv = String::from("student_id,start_date\n");
        for id in ids {
            csv.push_str(&format!("{},{start}\n", crate::csv_text::field(id)));
        }
        csv
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_kit::{dec, row};

    fn student(id: &str, school: &str, grade: &str, flags: &[(&str, &str)]) -> Student {
        Student {
            id: id.into(),
            school_id: school.into(),
            grade: Grade::parse(grade),
            first_name: String::new(),
            last_name: String::new(),
            flags: flags
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn fall(id: &str, score: &str, percentile: &str) -> AssessmentResult {
        let mut t = row("Fall", "2024-09-05", score);
        t.student_id = id.into();
        t.percentile = Some(dec(percentile));
        t
    }

    fn rules(cut: Cut) -> TargetRules {
        TargetRules {
            grades: vec![],
            subject: "mathematics".into(),
            term: "Fall 2024-2025".into(),
            cut,
            flags: Default::default(),
            max_per_school: None,
        }
    }

    fn ids(s: &Selection) -> Vec<&str> {
        s.chosen.iter().map(|c| c.student_id.as_str()).collect()
    }

    #[test]
    fn percentile_cut_is_strict_and_needs_a_test_of_the_term() {
        let students = [
            student("a", "s1", "6", &[]),
            student("b", "s1", "6", &[]),
            student("c", "s1", "6", &[]),
            student("d", "s1", "6", &[]),
        ];
        let mut spring = fall("d", "190", "5");
        spring.term_name = "Spring 2024-2025".into();
        let tests = [fall("a", "200", "39"), fall("b", "210", "40"), spring];
        let s = select(&rules(Cut::PercentileBelow(dec("40"))), &students, &tests);
        assert_eq!(ids(&s), ["a"]);
        let s = select(&rules(Cut::RitBelow(dec("211"))), &students, &tests);
        assert_eq!(ids(&s), ["a", "b"]);
    }

    #[test]
    fn grades_and_flags_narrow_the_selection() {
        let students = [
            student("a", "s1", "6", &[("english_learner", "Y")]),
            student("b", "s1", "7", &[("english_learner", "true")]),
            student("c", "s1", "06", &[("english_learner", "N")]),
            student("d", "s1", "8", &[]),
        ];
        let tests = ["a", "b", "c", "d"].map(|id| fall(id, "190", "10"));
        let mut r = rules(Cut::PercentileBelow(dec("40")));
        r.grades = vec![Grade::parse("6").unwrap(), Grade::parse("7").unwrap()];
        assert_eq!(ids(&select(&r, &students, &tests)), ["a", "b", "c"]);
        r.flags = vec!["english_learner".into()];
        let s = select(&r, &students, &tests);
        assert_eq!(ids(&s), ["a", "b"]);
        assert_eq!(
            s.by_flag["english_learner"],
            Comparison {
                selected: 2,
                district: 2
            }
        );
    }

    #[test]
    fn school_cap_keeps_the_lowest_first_ties_by_id() {
        let students = [
            student("a", "s1", "6", &[]),
            student("b", "s1", "6", &[]),
            student("c", "s1", "6", &[]),
            student("d", "s2", "6", &[]),
        ];
        let tests = [
            fall("a", "200", "30"),
            fall("b", "190", "10"),
            fall("c", "195", "10"),
            fall("d", "199", "35"),
        ];
        let mut r = rules(Cut::PercentileBelow(dec("40")));
        r.max_per_school = Some(2);
        let s = select(&r, &students, &tests);
        assert_eq!(ids(&s), ["b", "c", "d"]);
        assert_eq!(s.over_school_cap, 1);
        assert_eq!(
            s.by_school["s1"],
            Comparison {
                selected: 2,
                district: 3
            }
        );
        assert_eq!(
            s.by_school["s2"],
            Comparison {
                selected: 1,
                district: 1
            }
        );
        assert_eq!(s.district_students, 4);
    }

    #[test]
    fn the_latest_test_of_the_term_decides() {
        let students = [student("a", "s1", "6", &[])];
        let mut retest = fall("a", "220", "60");
        retest.date = crate::test_kit::day("2024-09-20");
        let tests = [retest, fall("a", "190", "10")];
        let s = select(&rules(Cut::PercentileBelow(dec("40"))), &students, &tests);
        assert!(s.chosen.is_empty());
    }

    #[test]
    fn shares_have_one_decimal() {
        assert_eq!(share(1, 8), "12.5%");
        assert_eq!(share(2, 3), "66.7%");
        assert_eq!(share(0, 0), "-");
    }
    #[test]
    fn rules_file_gives_the_same_rules_as_flags_and_names_mistakes() {
        let parsed = parse_rules(
            "grades = [\"06\"]\nsubject = \"mathematics\"\nterm = \"Fall 2024-2025\"\n\
             percentile_below = \"40\"\nmax_per_school = 2\n",
        )
        .unwrap();
        let mut expected = rules(Cut::PercentileBelow(dec("40")));
        expected.grades = vec![Grade::parse("6").unwrap()];
        expected.max_per_school = Some(2);
        assert_eq!(parsed, expected);
        let both = "subject = \"m\"\nterm = \"t\"\npercentile_below = \"4\"\nrit_below = \"2\"\n";
        assert!(parse_rules(both).unwrap_err().contains("exactly one"));
        let unknown = parse_rules("subject = \"m\"\nterm = \"t\"\nrit = \"2\"\n").unwrap_err();
        assert!(unknown.contains("line 3"), "{unknown}");
    }

    #[test]
    fn rules_as_form_text_ignore_blanks_and_name_mistakes() {
        let text = RulesText {
            grades: vec!["06".into()],
            subject: " mathematics ".into(),
            term: "Fall 2024-2025".into(),
            percentile_below: Some("40".into()),
            rit_below: Some(" ".into()),
            flags: vec!["english_learner".into(), "".into()],
            max_per_school: None,
        };
        let mut expected = rules(Cut::PercentileBelow(dec("40")));
        expected.grades = vec![Grade::parse("6").unwrap()];
        expected.flags = vec!["english_learner".into()];
        assert_eq!(text.rules().unwrap(), expected);
        let no_subject = RulesText {
            subject: " ".into(),
            ..text.clone()
        };
        assert!(no_subject.rules().unwrap_err().starts_with("subject"));
        let bad_cut = RulesText {
            percentile_below: Some("forty".into()),
            ..text
        };
        assert!(bad_cut.rules().unwrap_err().contains("\"forty\""));
    }

    #[test]
    fn the_enrollment_csv_lists_the_chosen_by_id_with_the_start_date() {
        let students = [
            student("b", "s1", "6", &[]),
            student("a", "s2", "6", &[]),
            student("c,d", "s1", "6", &[]),
        ];
        let tests = [
            fall("a", "190", "10"),
            fall("b", "190", "10"),
            fall("c,d", "190", "10"),
        ];
        let s = select(&rules(Cut::PercentileBelow(dec("40"))), &students, &tests);
        assert_eq!(
            s.enrollment_csv(crate::test_kit::day("2024-09-03")),
            "student_id,start_date\na,2024-09-03\nb,2024-09-03\n\"c,d\",2024-09-03\n"
        );
    }
}
