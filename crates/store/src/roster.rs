//! Rosters: a district, its schools and its students.

use crate::compact::{encoded_type, stored_table, Interned, FLAG_SETS};
use crate::copy_stage::CopyStage;
use crate::imports::{differs, set_excluded};
use crate::upserts::{Cell, Upserts};
use crate::{audit, ensure_organisation, Result, Store, Tx};
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

/// The columns of a student a roster gives, its id first (the district aside).
const STUDENT_VALUES_ID: &str = "id, school_id, grade, first_name, last_name, flags";

/// The columns of a student a newer roster may change.
const STUDENT_VALUES: &str = "school_id, grade, first_name, last_name, flags";

/// Whether the student `old` differs from `new` (table names or aliases). Unchanged rows are
/// not written, so that `written_by` still names the import that wrote them.
fn changed(old: &str, new: &str) -> String {
    differs(old, new, STUDENT_VALUES)
}

fn flags_json(flags: &[(String, String)]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = flags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&map).expect("flags serialize")
}

/// Adds the roster's new schools and renames known ones it names; returns the new ones,
/// each with its number of students (counted in one pass over the students).
async fn import_schools(
    tx: &mut Tx,
    district_id: &str,
    schools: &[School],
    students: &[Student],
) -> Result<Vec<NewSchool>> {
    let known: HashSet<String> =
        sqlx::query_scalar("SELECT id FROM schools WHERE district_id = $1")
            .bind(district_id)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
    let mut new_schools = Vec::new();
    for s in schools {
        if known.contains(&s.id) {
            if !s.name.is_empty() {
                sqlx::query(
                    "UPDATE schools SET name = $3 WHERE district_id = $1 AND id = $2 AND name <> $3",
                )
                .bind(district_id)
                .bind(&s.id)
                .bind(&s.name)
                .execute(&mut **tx)
                .await?;
            }
            continue;
        }
        let name = if s.name.is_empty() { &s.id } else { &s.name };
        sqlx::query("INSERT INTO schools (district_id, id, name) VALUES ($1, $2, $3)")
            .bind(district_id)
            .bind(&s.id)
            .bind(name)
            .execute(&mut **tx)
            .await?;
        new_schools.push(NewSchool {
            id: s.id.clone(),
            name: name.clone(),
            students: 0,
        });
    }
    if !new_schools.is_empty() {
        let index: HashMap<&str, usize> = new_schools
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut counts = vec![0; new_schools.len()];
        for st in students {
            if let Some(&i) = index.get(st.school_id.as_str()) {
                counts[i] += 1;
            }
        }
        for (school, n) in new_schools.iter_mut().zip(counts) {
            school.students = n;
        }
    }
    Ok(new_schools)
}

/// PostgreSQL: `students` copied (crate::copy_stage), then staged with the later row of a
/// repeated id winning, as the inserts stage them.
async fn copy_students(
    pool: &sqlx::postgres::PgPool,
    tx: &mut Tx,
    students: &[Student],
) -> Result<()> {
    let columns = format!("line, {STUDENT_VALUES_ID}");
    let mut copy = CopyStage::begin(pool, tx, "copy_students", columns).await?;
    for block in students.chunks(crate::copy_stage::ROWS) {
        for s in block {
            let line = copy.next_line();
            copy.row()
                .number(Some(line))
                .text(&s.id)
                .text(&s.school_id)
                .optional_text(s.grade.as_ref().map(|g| g.to_string()).as_deref())
                .text(&s.first_name)
                .text(&s.last_name)
                .text(&flags_json(&s.flags))
                .end();
        }
        copy.send().await?;
    }
    copy.sent().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO staged_students ({STUDENT_VALUES_ID})
         SELECT DISTINCT ON (id) {STUDENT_VALUES_ID} FROM ({}) c ORDER BY id, line DESC",
        copy.rows()
    )))
    .execute(&mut **tx)
    .await?;
    copy.delete(tx).await
}

impl Store {
    /// Creates or updates a district from its roster, in one transaction. Students missing from
    /// the file are kept: their sessions and statements still refer to them. A school with an
    /// empty name (the file names none) is named by its id when new and never renamed when
    /// known.
    ///
    /// The students are staged in a temporary table and merged in SQL, as sessions are (see
    /// [`crate::imports`]): a million-student roster is never held twice in memory, and
    /// unchanged rows are not written at all.
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
        let mut report = RosterReport {
            new_schools: import_schools(&mut tx, district_id, schools, students).await?,
            ..RosterReport::default()
        };
        self.stage_students(&mut tx, students).await?;
        // SQLite's `student_rows` holds flags as keys of `flag_sets`, as its staged rows do.
        let stored = stored_table(self.backend, "student_rows", "students");
        let (total, added, updated): (i64, i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), count(*) - count(r.id),
                    CAST(coalesce(sum(CASE WHEN r.id IS NOT NULL AND {} THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM staged_students n LEFT JOIN {stored} r ON r.district_id = $1 AND r.id = n.id",
            changed("r", "n")
        )))
        .bind(district_id)
        .fetch_one(&mut *tx)
        .await?;
        report.students_added = added as usize;
        report.students_updated = updated as usize;
        report.students_unchanged = (total - added - updated) as usize;
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
        // The replaced versions, read as text through `students`, are kept before their
        // successors are written.
        sqlx::query(sqlx::AssertSqlSafe(crate::versions::keep_replaced(
            crate::versions::STUDENTS,
            &format!(
                "WHERE r.district_id = $2 AND r.id IN (
                    SELECT n.id FROM staged_students n JOIN {stored} c
                        ON c.district_id = $2 AND c.id = n.id WHERE {})",
                changed("c", "n")
            ),
        )))
        .bind(audit_id)
        .bind(district_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {stored} (district_id, {STUDENT_VALUES_ID}, written_by)
             SELECT $1, {STUDENT_VALUES_ID}, $2 FROM staged_students WHERE true
             ON CONFLICT (district_id, id) DO UPDATE SET {}, written_by = excluded.written_by
             WHERE {}",
            set_excluded(STUDENT_VALUES),
            changed(stored, "excluded")
        )))
        .bind(district_id)
        .bind(audit_id)
        .execute(&mut *tx)
        .await?;
        crate::imports::finish(tx, self.backend, "staged_students", "students").await?;
        Ok(report)
    }

    /// Stages `students` in `staged_students`, in multi-row batches (on PostgreSQL, copied);
    /// a repeated id keeps its later row.
    async fn stage_students(&self, tx: &mut Tx, students: &[Student]) -> Result<()> {
        let flags_type = encoded_type(self.backend);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TEMP TABLE IF NOT EXISTS staged_students (
                id TEXT PRIMARY KEY, school_id TEXT NOT NULL, grade TEXT,
                first_name TEXT NOT NULL, last_name TEXT NOT NULL, flags {flags_type} NOT NULL);
             DELETE FROM staged_students;"
        )))
        .execute(&mut **tx)
        .await?;
        if let Some(pool) = self.bulk.postgres_pool() {
            return copy_students(pool, tx, students).await;
        }
        let mut flag_sets = Interned::new(FLAG_SETS);
        let mut staged = Upserts::new(
            self.backend,
            "staged_students",
            STUDENT_VALUES_ID,
            &format!(
                "ON CONFLICT (id) DO UPDATE SET {}",
                set_excluded(STUDENT_VALUES)
            ),
        );
        for s in students {
            let text = |t: &str| Cell::Text(Some(t.to_string()));
            let row = vec![
                text(&s.id),
                text(&s.school_id),
                Cell::Text(s.grade.as_ref().map(|g| g.to_string())),
                text(&s.first_name),
                text(&s.last_name),
                Cell::Int(flag_sets.key(tx, &flags_json(&s.flags)).await?),
            ];
            staged.push(tx, &s.id, row).await?;
        }
        staged.flush(tx).await
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

    /// A district's student ids, the roster an import checks rows against: ids only, since a
    /// state's students with their flags are gigabytes.
    pub async fn student_ids(&self, district_id: &str) -> Result<HashSet<String>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM students WHERE district_id = $1")
            .bind(district_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().collect())
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
        // Each distinct set of flags parsed once, and shared by the students that have it.
        let mut flag_sets: HashMap<String, obc_core::Flags> = HashMap::new();
        Ok(rows
            .into_iter()
            .map(|(id, school_id, grade, first_name, last_name, flags)| {
                let flags = match flag_sets.get(&flags) {
                    Some(known) => known.clone(),
                    None => {
                        let pairs: std::collections::BTreeMap<String, String> =
                            serde_json::from_str(&flags).unwrap_or_default();
                        let set: obc_core::Flags = pairs.into_iter().collect();
                        flag_sets.entry(flags).or_insert(set).clone()
                    }
                };
                let student = Student {
                    id: id.clone(),
                    school_id,
                    grade: grade.as_deref().and_then(Grade::parse),
                    first_name,
                    last_name,
                    flags,
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
            flags: vec![("english_learner".into(), "Y".into())].into(),
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
    async fn a_reimport_keeps_one_replaced_version_per_changed_student_only() {
        for store in stores().await {
            let schools = [School {
                id: "sch-1".into(),
                name: "One".into(),
            }];
            let mut students: Vec<Student> = (0..1200)
                .map(|i| student(&format!("s{i:04}"), "6"))
                .collect();
            store
                .import_roster("t", "f", "d1", "D", &schools, &students)
                .await
                .unwrap();
            let first = store.last_audit_id().await.unwrap();
            students[700].last_name = "C".into();
            // A changed flag set is a change too (SQLite stores it by key, see `flag_sets`).
            students[701].flags = vec![("english_learner".into(), "N".into())].into();
            let r = store
                .import_roster("t", "f", "d1", "D", &schools, &students)
                .await
                .unwrap();
            let second = store.last_audit_id().await.unwrap();
            assert_eq!(
                (r.students_added, r.students_updated, r.students_unchanged),
                (0, 2, 1198)
            );
            let history: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
                "SELECT id, last_name, flags, written_by, replaced_by FROM student_history ORDER BY id",
            )
            .fetch_all(&store.pool)
            .await
            .unwrap();
            let old_flags = r#"{"english_learner":"Y"}"#.to_string();
            assert_eq!(
                history,
                [
                    ("s0700".into(), "B".into(), old_flags.clone(), first, second),
                    ("s0701".into(), "B".into(), old_flags, first, second)
                ]
            );
            assert_eq!(
                store.students("d1").await.unwrap()["s0701"].flags,
                students[701].flags
            );
            let written: Vec<(String, i64)> = sqlx::query_as(
                "SELECT id, written_by FROM students WHERE written_by <> $1 ORDER BY id",
            )
            .bind(first)
            .fetch_all(&store.pool)
            .await
            .unwrap();
            assert_eq!(
                written,
                [("s0700".to_string(), second), ("s0701".to_string(), second)]
            );
            assert_eq!(store.students("d1").await.unwrap()["s0700"].last_name, "C");
        }
    }

    #[tokio::test]
    async fn a_student_listed_twice_keeps_the_later_row_and_names_come_back_whole() {
        for store in stores().await {
            let mut later = student("1", "7");
            later.last_name = "O'Neil, \"Jr\"\nB".into();
            later.grade = None;
            let r = store
                .import_roster(
                    "t",
                    "f",
                    "d1",
                    "D",
                    &[],
                    &[student("1", "6"), later.clone()],
                )
                .await
                .unwrap();
            assert_eq!(r.students_added, 1);
            let stored = &store.students("d1").await.unwrap()["1"];
            assert_eq!(
                (&stored.last_name, &stored.grade),
                (&later.last_name, &None)
            );
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
                all["1"].flags.to_vec(),
                vec![("english_learner".to_string(), "Y".to_string())]
            );
            assert_eq!(
                store.student_districts().await.unwrap()["2"],
                vec!["d1".to_string()]
            );
        }
    }
}
