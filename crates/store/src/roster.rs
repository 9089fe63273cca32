//! Rosters: a district, its schools and its students.

use crate::upserts::{Cell, Upserts};
use crate::{audit, ensure_organisation, Result, Store};
use obc_core::{Grade, School, Student};
use std::collections::{HashMap, HashSet};

/// A school a roster import created, named in its report so that a typo in a school id shows
/// before anyone relies on it (SPEC 3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchool {
    pub id: String,
    pub name: String,
    /// How many of the imported students are at this school.
    pub students: usize,
}

/// What a roster import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterReport {
    /// Schools seen for the first time, by id.
    pub new_schools: Vec<NewSchool>,
    pub students_added: usize,
    pub students_updated: usize,
    pub students_unchanged: usize,
}

/// A stored student after its id: school, grade, first and last name, flags (JSON).
type StoredStudent = (String, Option<String>, String, String, String);

fn flags_json(flags: &[(String, String)]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = flags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&map).expect("flags serialize")
}

impl Store {
    /// Creates or updates a district from its roster, in one transaction. Students missing from
    /// the file are kept: their sessions and statements still refer to them. A school with an
    /// empty name (the file names none) is named by its id when new and never renamed when
    /// known.
    pub async fn import_roster(
        &self,
        actor: &str,
        source: &str,
        district_id: &str,
        district_name: &str,
        schools: &[School],
        students: &[Student],
    ) -> Result<RosterReport> {
        let mut tx = self.write_tx().await?;
        ensure_organisation(&mut tx, district_id, "district", district_name).await?;
        let mut report = RosterReport::default();
        let known: HashSet<String> =
            sqlx::query_scalar("SELECT id FROM schools WHERE district_id = $1")
                .bind(district_id)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        for s in schools {
            if known.contains(&s.id) {
                if !s.name.is_empty() {
                    sqlx::query(
                        "UPDATE schools SET name = $3 WHERE district_id = $1 AND id = $2 AND name <> $3",
                    )
                    .bind(district_id)
                    .bind(&s.id)
                    .bind(&s.name)
                    .execute(&mut *tx)
                    .await?;
                }
                continue;
            }
            let name = if s.name.is_empty() { &s.id } else { &s.name };
            sqlx::query("INSERT INTO schools (district_id, id, name) VALUES ($1, $2, $3)")
                .bind(district_id)
                .bind(&s.id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            report.new_schools.push(NewSchool {
                id: s.id.clone(),
                name: name.clone(),
                students: students.iter().filter(|st| st.school_id == s.id).count(),
            });
        }
        // The stored students, compared here: unchanged rows are not written at all.
        let existing: HashMap<String, StoredStudent> = sqlx::query_as(
            "SELECT id, school_id, grade, first_name, last_name, flags FROM students WHERE district_id = $1",
        )
        .bind(district_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(id, school, grade, first, last, flags)| (id, (school, grade, first, last, flags)))
        .collect();
        let mut changed = Vec::new();
        for s in students {
            let row: StoredStudent = (
                s.school_id.clone(),
                s.grade.as_ref().map(|g| g.to_string()),
                s.first_name.clone(),
                s.last_name.clone(),
                flags_json(&s.flags),
            );
            match existing.get(&s.id) {
                None => report.students_added += 1,
                Some(stored) if *stored == row => {
                    report.students_unchanged += 1;
                    continue;
                }
                Some(_) => report.students_updated += 1,
            }
            changed.push((&s.id, row));
        }
        let audit_id = audit(
            &mut tx,
            actor,
            "import.roster",
            &format!("district:{district_id}"),
            &format!(
                "{source}: {} schools added, {} students added, {} updated, {} unchanged",
                report.new_schools.len(),
                report.students_added,
                report.students_updated,
                report.students_unchanged
            ),
        )
        .await?;
        let keep_replaced = crate::versions::keep_replaced(
            crate::versions::STUDENTS,
            "WHERE r.district_id = $2 AND r.id = $3",
        );
        let mut upserts = Upserts::new(
            self.backend,
            "students",
            "district_id, id, school_id, grade, first_name, last_name, flags, written_by",
            "ON CONFLICT (district_id, id) DO UPDATE SET
               school_id = excluded.school_id, grade = excluded.grade, first_name = excluded.first_name,
               last_name = excluded.last_name, flags = excluded.flags, written_by = excluded.written_by",
        );
        for (id, (school_id, grade, first_name, last_name, flags)) in changed {
            // The replaced version is kept before the batch holding its successor is written.
            if existing.contains_key(id) {
                sqlx::query(sqlx::AssertSqlSafe(keep_replaced.as_str()))
                    .bind(audit_id)
                    .bind(district_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let text = |t: String| Cell::Text(Some(t));
            upserts
                .push(
                    &mut tx,
                    id,
                    vec![
                        text(district_id.to_string()),
                        text(id.clone()),
                        text(school_id),
                        Cell::Text(grade),
                        text(first_name),
                        text(last_name),
                        text(flags),
                        Cell::Int(audit_id),
                    ],
                )
                .await?;
        }
        upserts.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Every student id of every district: student id -> district ids. Importers use it to
    /// check that sessions and tests name rostered students.
    pub async fn student_districts(&self) -> Result<HashMap<String, Vec<String>>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, district_id FROM students ORDER BY id, district_id")
                .fetch_all(&self.pool)
                .await?;
        let mut map: HashMap<String, Vec<String>> = HashMap::with_capacity(rows.len());
        for (student, district) in rows {
            map.entry(student).or_default().push(district);
        }
        Ok(map)
    }

    /// A district's schools: school id -> name as its roster gave it.
    pub async fn school_names(&self, district_id: &str) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, name FROM schools WHERE district_id = $1")
                .bind(district_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// "First Last" of a district's students by id: of those in `only`, or of every student
    /// (to search a long list by name).
    pub async fn student_names(
        &self,
        district_id: &str,
        only: Option<&[&str]>,
    ) -> Result<HashMap<String, String>> {
        let mut sql =
            "SELECT id, first_name, last_name FROM students WHERE district_id = $1".to_string();
        let mut binds = vec![district_id];
        if let Some(ids) = only {
            if ids.is_empty() {
                return Ok(HashMap::new());
            }
            let placeholders: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
            sql.push_str(&format!(" AND id IN ({})", placeholders.join(", ")));
            binds.extend_from_slice(ids);
        }
        let rows: Vec<(String, String, String)> = self.bulk_rows(&sql, &binds).await?;
        Ok(rows
            .into_iter()
            .map(|(id, first, last)| (id, format!("{first} {last}")))
            .collect())
    }

    /// The students of a district by id.
    pub async fn students(&self, district_id: &str) -> Result<HashMap<String, Student>> {
        self.students_as_of(district_id, None).await
    }

    /// [`Store::students`] as they were after audit record `as_of` (`None`: now).
    pub(crate) async fn students_as_of(
        &self,
        district_id: &str,
        as_of: Option<i64>,
    ) -> Result<HashMap<String, Student>> {
        self.students_of(district_id, None, as_of).await
    }

    /// [`Store::students_as_of`] of the students named (`None`: every student).
    pub(crate) async fn students_of(
        &self,
        district_id: &str,
        students: Option<&[&str]>,
        as_of: Option<i64>,
    ) -> Result<HashMap<String, Student>> {
        let (filter, binds) = self.students_in("id", &[district_id], students);
        let rows: Vec<(String, String, Option<String>, String, String, String)> = self
            .bulk_rows(
                &format!(
                    "SELECT id, school_id, grade, first_name, last_name, flags FROM {} WHERE district_id = $1{filter}",
                    crate::versions::rows_as_of(crate::versions::STUDENTS, as_of)
                ),
                &binds,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, school_id, grade, first_name, last_name, flags)| {
                let flags: std::collections::BTreeMap<String, String> =
                    serde_json::from_str(&flags).unwrap_or_default();
                let student = Student {
                    id: id.clone(),
                    school_id,
                    grade: grade.as_deref().and_then(Grade::parse),
                    first_name,
                    last_name,
                    flags: flags.into_iter().collect(),
                };
                (id, student)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::stores;
    use obc_core::{Grade, School, Student};

    fn student(id: &str, grade: &str) -> Student {
        Student {
            id: id.into(),
            school_id: "sch-1".into(),
            grade: Grade::parse(grade),
            first_name: "A".into(),
            last_name: "B".into(),
            flags: vec![("english_learner".into(), "Y".into())],
        }
    }

    async fn school_names(store: &crate::Store) -> Vec<(String, String)> {
        sqlx::query_as("SELECT id, name FROM schools ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn names_of_schools_and_students_are_read_per_district() {
        for store in stores().await {
            let school = [School {
                id: "sch-1".into(),
                name: "Lincoln Middle School".into(),
            }];
            let students = [student("1", "6"), student("2", "7")];
            store
                .import_roster("t", "f", "d1", "D", &school, &students)
                .await
                .unwrap();
            let schools = store.school_names("d1").await.unwrap();
            assert_eq!(schools["sch-1"], "Lincoln Middle School");
            assert!(store.school_names("d2").await.unwrap().is_empty());
            let all = store.student_names("d1", None).await.unwrap();
            assert_eq!(all.len(), 2);
            assert_eq!(all["1"], "A B");
            let some = store.student_names("d1", Some(&["2", "9"])).await.unwrap();
            assert_eq!(some.keys().collect::<Vec<_>>(), ["2"]);
            assert!(store
                .student_names("d1", Some(&[]))
                .await
                .unwrap()
                .is_empty());
            assert!(store.student_names("d2", None).await.unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn a_file_without_school_names_never_renames_and_new_schools_are_reported() {
        for store in stores().await {
            let named = [School {
                id: "sch-1".into(),
                name: "Lincoln Middle School".into(),
            }];
            store
                .import_roster("t", "f", "d1", "D", &named, &[student("1", "6")])
                .await
                .unwrap();
            let unnamed = |id: &str| School {
                id: id.into(),
                name: String::new(),
            };
            let mut typo = student("2", "6");
            typo.school_id = "sch-l".into();
            let r = store
                .import_roster(
                    "t",
                    "plain.csv",
                    "d1",
                    "D",
                    &[unnamed("sch-1"), unnamed("sch-l")],
                    &[student("1", "6"), typo],
                )
                .await
                .unwrap();
            assert_eq!(
                r.new_schools,
                [super::NewSchool {
                    id: "sch-l".into(),
                    name: "sch-l".into(),
                    students: 1
                }]
            );
            assert_eq!(
                school_names(&store).await,
                [
                    ("sch-1".to_string(), "Lincoln Middle School".to_string()),
                    ("sch-l".to_string(), "sch-l".to_string())
                ]
            );
            // A file that names the school renames it.
            let renamed = [School {
                id: "sch-l".into(),
                name: "Lake Elementary".into(),
            }];
            let r = store
                .import_roster("t", "f", "d1", "D", &renamed, &[])
                .await
                .unwrap();
            assert!(r.new_schools.is_empty());
            assert_eq!(school_names(&store).await[1].1, "Lake Elementary");
        }
    }

    #[tokio::test]
    async fn reimporting_a_roster_changes_nothing_and_updates_are_counted() {
        for store in stores().await {
            let schools = [School {
                id: "sch-1".into(),
                name: "One".into(),
            }];
            let students = [student("1", "6"), student("2", "7")];
            let r = store
                .import_roster("t", "f", "d1", "D", &schools, &students)
                .await
                .unwrap();
            assert_eq!(r.students_added, 2);
            assert_eq!(
                r.new_schools,
                [super::NewSchool {
                    id: "sch-1".into(),
                    name: "One".into(),
                    students: 2
                }]
            );
            let r = store
                .import_roster("t", "f", "d1", "D", &schools, &students)
                .await
                .unwrap();
            assert_eq!(
                (
                    r.new_schools.len(),
                    r.students_added,
                    r.students_updated,
                    r.students_unchanged
                ),
                (0, 0, 0, 2)
            );
            let r = store
                .import_roster("t", "f", "d1", "D", &schools, &[student("1", "7")])
                .await
                .unwrap();
            assert_eq!(r.students_updated, 1);
            let all = store.students("d1").await.unwrap();
            assert_eq!(all["1"].grade, Some(Grade::Level(7)));
            assert_eq!(
                all["1"].flags,
                vec![("english_learner".to_string(), "Y".to_string())]
            );
            assert_eq!(
                store.student_districts().await.unwrap()["2"],
                vec!["d1".to_string()]
            );
        }
    }
}
