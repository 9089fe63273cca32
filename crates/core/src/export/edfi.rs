//! A contract's students, sessions and test results as Ed-Fi Data Standard 5 resources, the
//! JSON bodies a district's ODS / API takes (`POST /data/v3/ed-fi/<resource>`). The mapping,
//! field by field, is `docs/EDFI.md`.

use crate::engine::StudentInput;
use crate::model::{EnrollmentSpan, SessionStatus, Term};
use crate::{Contract, Grade, Session};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Ed-Fi's own descriptor namespace.
const ED_FI: &str = "uri://ed-fi.org";
/// NWEA's namespace, for MAP Growth assessments and their terms.
const NWEA: &str = "uri://nwea.org";
/// The namespace of assessments obc knows only by name (the generic CSV).
const LOCAL: &str = "uri://obc.local";

/// What the export needs besides the contract's data.
pub struct Target {
    /// The district's Ed-Fi `educationOrganizationId` (its LEA id): Ed-Fi ids are integers,
    /// obc's are the roster's strings.
    pub education_organization_id: i64,
}

/// The resources of one export, in the order a loader posts them (references first): file
/// stem (`interventions`) and the resource bodies.
pub type Resources = Vec<(&'static str, Vec<Value>)>;

fn descriptor(namespace: &str, name: &str, value: &str) -> String {
    format!("{namespace}/{name}#{value}")
}

fn intervention_reference(c: &Contract, target: &Target) -> Value {
    json!({
        "educationOrganizationId": target.education_organization_id,
        "interventionIdentificationCode": c.id,
    })
}

fn student_reference(id: &str) -> Value {
    json!({ "studentUniqueId": id })
}

/// Ed-Fi's grade level descriptor of a grade, where Ed-Fi has one.
fn grade_level(grade: &Grade) -> Option<String> {
    const ORDINALS: [&str; 12] = [
        "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth",
        "Tenth", "Eleventh", "Twelfth",
    ];
    let name = match grade {
        Grade::Level(0) => "Kindergarten".to_string(),
        Grade::Level(-1) => "Preschool/Prekindergarten".to_string(),
        Grade::Level(n @ 1..=12) => format!("{} grade", ORDINALS[(*n - 1) as usize]),
        _ => return None,
    };
    Some(descriptor(ED_FI, "GradeLevelDescriptor", &name))
}

/// Ed-Fi's academic subject of a MAP subject (MAP's "Language Usage" is English language arts).
fn academic_subject(subject: &str) -> String {
    let name = match subject.trim().to_ascii_lowercase().as_str() {
        "math" | "mathematics" => "Mathematics",
        "reading" => "Reading",
        "language usage" | "language arts" | "english language arts" => "English Language Arts",
        "science" | "science - general science" => "Science",
        _ => "Other",
    };
    descriptor(ED_FI, "AcademicSubjectDescriptor", name)
}

/// The assessment an obc test belongs to: MAP Growth under NWEA's namespace, one per subject.
fn assessment_reference(assessment: &str, subject: &str) -> Value {
    let namespace = if assessment.eq_ignore_ascii_case("MAP Growth") {
        NWEA
    } else {
        LOCAL
    };
    json!({
        "assessmentIdentifier": format!("{assessment} {subject}"),
        "namespace": namespace,
    })
}

fn intervention(c: &Contract, target: &Target, students: &[&StudentInput]) -> Value {
    let grouped = students
        .iter()
        .flat_map(|s| &s.sessions)
        .any(|s| s.group_size.is_some_and(|g| g > 1));
    let mut grades: Vec<&Grade> = students
        .iter()
        .filter_map(|s| s.student.grade.as_ref())
        .collect();
    grades.sort();
    grades.dedup();
    let grade_levels: Vec<Value> = grades
        .into_iter()
        .filter_map(grade_level)
        .map(|g| json!({ "gradeLevelDescriptor": g }))
        .collect();
    json!({
        "interventionIdentificationCode": c.id,
        "educationOrganizationReference": {"educationOrganizationId": target.education_organization_id},
        "interventionClassDescriptor": descriptor(ED_FI, "InterventionClassDescriptor", "Supplement"),
        "deliveryMethodDescriptor": descriptor(ED_FI, "DeliveryMethodDescriptor", if grouped { "Small Group" } else { "Individual" }),
        "beginDate": c.period.start.to_string(),
        "endDate": c.period.end.to_string(),
        "appropriateGradeLevels": grade_levels,
    })
}

/// Ed-Fi's attendance category of a session status, and the reason written with it.
fn attendance_category(status: SessionStatus) -> (&'static str, &'static str) {
    match status {
        SessionStatus::Attended => ("In Attendance", "attended"),
        SessionStatus::StudentAbsent => ("Unexcused Absence", "student absent"),
        SessionStatus::DistrictCancelled => (
            "Excused Absence",
            "school cancelled or did not release the student",
        ),
        SessionStatus::ProviderCancelled => ("Excused Absence", "provider cancelled"),
    }
}

/// One attendance event per student, date and category (Ed-Fi's key): two sessions of a day
/// with the same category become one event whose duration is their minutes added up.
fn attendance_events(c: &Contract, target: &Target, students: &[&StudentInput]) -> Vec<Value> {
    let mut events = Vec::new();
    for s in students {
        let Some(span) = EnrollmentSpan::of(&s.enrollment, (c.period.start, c.period.end)) else {
            continue;
        };
        let mut by_day: BTreeMap<(time::Date, &str), Vec<&Session>> = BTreeMap::new();
        for session in s.sessions.iter().filter(|x| span.contains(x.date)) {
            let (category, _) = attendance_category(session.status);
            by_day
                .entry((session.date, category))
                .or_default()
                .push(session);
        }
        for ((date, category), mut sessions) in by_day {
            sessions.sort_by(|a, b| a.session_id.cmp(&b.session_id));
            let minutes: u64 = sessions.iter().map(|x| u64::from(x.minutes)).sum();
            let reason = sessions
                .iter()
                .map(|x| {
                    format!(
                        "session {} ({}, tutor {})",
                        x.session_id,
                        attendance_category(x.status).1,
                        x.tutor_id
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            events.push(json!({
                "attendanceEventCategoryDescriptor": descriptor(ED_FI, "AttendanceEventCategoryDescriptor", category),
                "eventDate": date.to_string(),
                "interventionReference": intervention_reference(c, target),
                "studentReference": student_reference(&s.student.id),
                "interventionDuration": minutes,
                "attendanceEventReason": shorten(&reason, 255),
            }));
        }
    }
    events
}

/// Ed-Fi's string fields have maximum lengths; a longer text is cut with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max - 3).collect();
    format!("{kept}...")
}

fn score_result(method: &str, value: Decimal) -> Value {
    let datatype = if value.fract().is_zero() {
        "Integer"
    } else {
        "Decimal"
    };
    json!({
        "assessmentReportingMethodDescriptor": descriptor(ED_FI, "AssessmentReportingMethodDescriptor", method),
        "resultDatatypeTypeDescriptor": descriptor(ED_FI, "ResultDatatypeTypeDescriptor", datatype),
        "result": value.normalize().to_string(),
    })
}

/// The school year Ed-Fi names a July-June year by: the year it ends (`2025` for 2024-2025).
fn school_year_of(term_name: &str) -> Option<i32> {
    term_name.rsplit('-').next()?.trim().parse().ok()
}

fn student_assessments(c: &Contract, students: &[&StudentInput]) -> Vec<Value> {
    let year = c.school_year();
    let mut out = Vec::new();
    for s in students {
        let mut tests: Vec<_> = s
            .tests
            .iter()
            .filter(|t| t.term_name.ends_with(&year) && t.subject.eq_ignore_ascii_case(&c.subject))
            .collect();
        tests.sort_by_key(|t| (t.date, t.start_seconds));
        for t in tests {
            let mut scores = Vec::new();
            let map = t.assessment.eq_ignore_ascii_case("MAP Growth");
            if let Some(score) = t.score {
                scores.push(score_result(
                    if map {
                        "RIT scale score"
                    } else {
                        "Scale score"
                    },
                    score,
                ));
            }
            if let Some(p) = t.percentile {
                scores.push(score_result("Percentile", p));
            }
            let time = format!(
                "{:02}:{:02}:{:02}",
                t.start_seconds / 3600,
                t.start_seconds / 60 % 60,
                t.start_seconds % 60
            );
            // Unique per student and assessment (Ed-Fi's key has both): MAP's TestID, else
            // the sitting (SPEC 3.2's identity of a test without one).
            let identifier = t
                .test_id
                .clone()
                .unwrap_or_else(|| format!("{} {}T{time}", t.term_name, t.date));
            let mut notes = Vec::new();
            if let Some(pct) = t.rapid_guessing_pct {
                notes.push(format!("rapid guessing {}%", pct.normalize()));
            }
            if !t.growth_measure {
                notes.push("not valid for growth (GrowthMeasureYN false)".to_string());
            }
            let mut body = json!({
                "studentAssessmentIdentifier": shorten(&identifier, 60),
                "assessmentReference": assessment_reference(&t.assessment, &t.subject),
                "studentReference": student_reference(&t.student_id),
                "administrationDate": format!("{}T{time}Z", t.date),
                "scoreResults": scores,
            });
            if let Some(year) = school_year_of(&t.term_name) {
                body["schoolYearTypeReference"] = json!({ "schoolYear": year });
            }
            if let Some(term) = t.term_name.split_whitespace().next().and_then(Term::parse) {
                body["period"] = json!({
                    "assessmentPeriodDescriptor": descriptor(NWEA, "AssessmentPeriodDescriptor", term.as_str()),
                });
            }
            if let Some(g) = s.student.grade.as_ref().and_then(grade_level) {
                body["whenAssessedGradeLevelDescriptor"] = Value::String(g);
            }
            if !notes.is_empty() {
                body["eventDescription"] = Value::String(notes.join("; "));
            }
            out.push(body);
        }
    }
    out
}

/// The assessments the student assessments refer to, one per assessment and subject.
fn assessments(student_assessments: &[Value], subject: &str) -> Vec<Value> {
    let mut seen: BTreeMap<String, Value> = BTreeMap::new();
    for sa in student_assessments {
        let reference = &sa["assessmentReference"];
        let id = reference["assessmentIdentifier"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        seen.entry(id.clone()).or_insert_with(|| {
            json!({
                "assessmentIdentifier": id,
                "namespace": reference["namespace"],
                "assessmentTitle": id,
                "academicSubjects": [{"academicSubjectDescriptor": academic_subject(subject)}],
            })
        });
    }
    seen.into_values().collect()
}

/// Every resource of a contract: the intervention (the contract), one association per
/// enrolled student, one attendance event per student, day and category of session, the
/// assessments and the students' test results of the contract's subject and school year.
pub fn resources(c: &Contract, target: &Target, students: &[StudentInput]) -> Resources {
    let mut students: Vec<&StudentInput> = students.iter().collect();
    students.sort_by(|a, b| a.student.id.cmp(&b.student.id));
    let associations = students
        .iter()
        .map(|s| {
            json!({
                "interventionReference": intervention_reference(c, target),
                "studentReference": student_reference(&s.student.id),
            })
        })
        .collect();
    let student_assessments = student_assessments(c, &students);
    vec![
        ("interventions", vec![intervention(c, target, &students)]),
        ("studentInterventionAssociations", associations),
        (
            "studentInterventionAttendanceEvents",
            attendance_events(c, target, &students),
        ),
        ("assessments", assessments(&student_assessments, &c.subject)),
        ("studentAssessments", student_assessments),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_kit::{contract, kid, row};

    fn target() -> Target {
        Target {
            education_organization_id: 255901,
        }
    }

    fn resource<'a>(resources: &'a Resources, name: &str) -> &'a Vec<Value> {
        &resources.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn sessions_of_one_day_and_category_are_one_event_and_outside_ones_are_left_out() {
        let c = contract(&[]);
        let student = kid("s1")
            .enrolled("2024-09-01", Some("2024-12-20"))
            .session("2024-09-03", SessionStatus::Attended, "t1", 30)
            .session("2024-09-03", SessionStatus::Attended, "t2", 25)
            .session("2024-09-03", SessionStatus::ProviderCancelled, "t1", 0)
            .session("2024-09-04", SessionStatus::StudentAbsent, "t1", 0)
            .session("2024-09-05", SessionStatus::DistrictCancelled, "t1", 0)
            .session("2024-08-30", SessionStatus::Attended, "t1", 30)
            .session("2025-01-06", SessionStatus::Attended, "t1", 30)
            .build();
        let resources = resources(&c, &target(), &[student]);
        let events = resource(&resources, "studentInterventionAttendanceEvents");
        let summary: Vec<(String, String, u64)> = events
            .iter()
            .map(|e| {
                (
                    e["eventDate"].as_str().unwrap().to_string(),
                    e["attendanceEventCategoryDescriptor"]
                        .as_str()
                        .unwrap()
                        .rsplit('#')
                        .next()
                        .unwrap()
                        .to_string(),
                    e["interventionDuration"].as_u64().unwrap(),
                )
            })
            .collect();
        let expected = [
            ("2024-09-03", "Excused Absence", 0),
            ("2024-09-03", "In Attendance", 55),
            ("2024-09-04", "Unexcused Absence", 0),
            ("2024-09-05", "Excused Absence", 0),
        ];
        assert_eq!(
            summary,
            expected
                .iter()
                .map(|(d, c, m)| (d.to_string(), c.to_string(), *m))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            events[1]["attendanceEventReason"],
            "session s1-000 (attended, tutor t1); session s1-001 (attended, tutor t2)"
        );
        assert_eq!(
            events[1]["interventionReference"],
            json!({"educationOrganizationId": 255901, "interventionIdentificationCode": "ector-math-2025"})
        );
    }

    #[test]
    fn grades_map_to_edfi_grade_levels() {
        let level = |g: &str| grade_level(&Grade::parse(g).unwrap());
        assert_eq!(
            level("6").as_deref(),
            Some("uri://ed-fi.org/GradeLevelDescriptor#Sixth grade")
        );
        assert_eq!(
            level("KG").as_deref(),
            Some("uri://ed-fi.org/GradeLevelDescriptor#Kindergarten")
        );
        assert_eq!(
            level("12").as_deref(),
            Some("uri://ed-fi.org/GradeLevelDescriptor#Twelfth grade")
        );
        assert_eq!(level("UG"), None);
    }

    #[test]
    fn student_assessments_carry_rit_and_percentile_of_the_contract_year() {
        let c = contract(&[]);
        let mut fall = row("Fall", "2024-09-05", "201");
        fall.percentile = Some(Decimal::from(42));
        fall.rapid_guessing_pct = Some(Decimal::from(35));
        let mut spring = row("Spring", "2025-05-01", "212.5");
        spring.test_id = Some("T-77".into());
        let mut last_year = row("Spring", "2024-05-01", "190");
        last_year.term_name = "Spring 2023-2024".into();
        let student = kid("s1").test(fall).test(spring).test(last_year).build();
        let resources = resources(&c, &target(), &[student]);
        let tests = resource(&resources, "studentAssessments");
        assert_eq!(tests.len(), 2, "last year's test is not the contract's");
        assert_eq!(
            tests[0]["studentAssessmentIdentifier"],
            "Fall 2024-2025 2024-09-05T09:00:00"
        );
        assert_eq!(tests[0]["administrationDate"], "2024-09-05T09:00:00Z");
        assert_eq!(tests[0]["schoolYearTypeReference"]["schoolYear"], 2025);
        assert_eq!(
            tests[0]["scoreResults"],
            json!([
                {"assessmentReportingMethodDescriptor": "uri://ed-fi.org/AssessmentReportingMethodDescriptor#RIT scale score",
                 "resultDatatypeTypeDescriptor": "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer", "result": "201"},
                {"assessmentReportingMethodDescriptor": "uri://ed-fi.org/AssessmentReportingMethodDescriptor#Percentile",
                 "resultDatatypeTypeDescriptor": "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer", "result": "42"}
            ])
        );
        assert_eq!(tests[0]["eventDescription"], "rapid guessing 35%");
        assert_eq!(
            tests[0]["period"]["assessmentPeriodDescriptor"],
            "uri://nwea.org/AssessmentPeriodDescriptor#Fall"
        );
        assert_eq!(tests[1]["studentAssessmentIdentifier"], "T-77");
        assert_eq!(
            tests[1]["scoreResults"][0]["resultDatatypeTypeDescriptor"],
            "uri://ed-fi.org/ResultDatatypeTypeDescriptor#Decimal"
        );
        let assessments = resource(&resources, "assessments");
        assert_eq!(
            assessments,
            &vec![json!({
                "assessmentIdentifier": "MAP Growth Mathematics",
                "namespace": "uri://nwea.org",
                "assessmentTitle": "MAP Growth Mathematics",
                "academicSubjects": [{"academicSubjectDescriptor": "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics"}],
            })]
        );
    }

    #[test]
    fn long_reasons_are_cut_to_edfis_length() {
        let long = "x".repeat(300);
        let cut = shorten(&long, 255);
        assert_eq!(cut.chars().count(), 255);
        assert!(cut.ends_with("..."));
        assert_eq!(shorten("short", 255), "short");
    }
}
