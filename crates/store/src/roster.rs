//! Rosters: a district, its schools and its students.

use crate::{audit, ensure_organisation, Result, Store};
use obc_core::{Grade, School, Student};
use std::collections::{HashMap, HashSet};

/// What a roster import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterReport {
    pub schools_added: usize,
    pub students_added: usize,
    pub students_updated: usize,
    pub students_unchanged: usize,
}

fn flags_json(flags: &[(String, String)]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = flags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&map).expect("flags serialize")
}

impl Store {
    /// Creates or updates a district from its roster, in one transaction. Students missing from
    /// the file are kept: their sessions and statements still refer to them.
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
        for s in schools {
            let done = sqlx::query(
                "INSERT INTO schools (district_id, id, name) VALUES ($1, $2, $3)
                 ON CONFLICT (district_id, id) DO UPDATE SET name = excluded.name WHERE schools.name <> excluded.name",
            )
            .bind(district_id)
            .bind(&s.id)
            .bind(&s.name)
            .execute(&mut *tx)
            .await?;
            report.schools_added += done.rows_affected() as usize;
        }
        let existing: HashSet<String> =
            sqlx::query_scalar("SELECT id FROM students WHERE district_id = $1")
                .bind(district_id)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        for s in students {
            let done = sqlx::query(
                "INSERT INTO students (district_id, id, school_id, grade, first_name, last_name, flags)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (district_id, id) DO UPDATE SET
                   school_id = excluded.school_id, grade = excluded.grade,
                   first_name = excluded.first_name, last_name = excluded.last_name, flags = excluded.flags
                 WHERE (students.school_id, students.grade, students.first_name, students.last_name, students.flags)
                   IS DISTINCT FROM (excluded.school_id, excluded.grade, excluded.first_name, excluded.last_name, excluded.flags)",
            )
            .bind(district_id)
            .bind(&s.id)
            .bind(&s.school_id)
            .bind(s.grade.as_ref().map(|g| g.to_string()))
            .bind(&s.first_name)
            .bind(&s.last_name)
            .bind(flags_json(&s.flags))
            .execute(&mut *tx)
            .await?;
            match (existing.contains(&s.id), done.rows_affected()) {
                (false, _) => report.students_added += 1,
                (true, 0) => report.students_unchanged += 1,
                (true, _) => report.students_updated += 1,
            }
        }
        audit(
            &mut tx,
            actor,
            "import.roster",
            &format!("district:{district_id}"),
            &format!(
                "{source}: {} schools added, {} students added, {} updated, {} unchanged",
                report.schools_added,
                report.students_added,
                report.students_updated,
                report.students_unchanged
            ),
        )
        .await?;
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

    /// The students of a district by id.
    pub async fn students(&self, district_id: &str) -> Result<HashMap<String, Student>> {
        let rows: Vec<(String, String, Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT id, school_id, grade, first_name, last_name, flags FROM students WHERE district_id = $1",
        )
        .bind(district_id)
        .fetch_all(&self.pool)
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
            assert_eq!((r.schools_added, r.students_added), (1, 2));
            let r = store
                .import_roster("t", "f", "d1", "D", &schools, &students)
                .await
                .unwrap();
            assert_eq!(
                (
                    r.schools_added,
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
