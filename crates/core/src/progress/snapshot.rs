//! Meeting snapshots: what a meeting reviewed, the off-track students, and what changed since the
//! previous meeting.

use super::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

impl Progress {
    /// What a meeting stores: every student's status per factor, as of this date.
    pub fn snapshot(&self) -> Snapshot {
        let mark = |f: &FactorProgress| Mark {
            status: f.status,
            summary: f.summary.clone(),
        };
        Snapshot {
            as_of: self.as_of.clone(),
            rows: self
                .students
                .iter()
                .map(|s| SnapshotRow {
                    student_id: s.student_id.clone(),
                    school_id: s.school_id.clone(),
                    attendance: mark(&s.attendance),
                    provider_duties: mark(&s.provider_duties),
                    outcome: mark(&s.outcome),
                    at_risk: s.at_risk,
                })
                .collect(),
        }
    }
}

/// A factor's status as a meeting recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub status: Status,
    pub summary: String,
}

/// One student in a meeting's snapshot (ids and statuses only: no names, no demographics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRow {
    pub student_id: String,
    pub school_id: String,
    pub attendance: Mark,
    pub provider_duties: Mark,
    pub outcome: Mark,
    pub at_risk: Decimal,
}

impl SnapshotRow {
    pub fn mark(&self, factor: Factor) -> &Mark {
        match factor {
            Factor::Attendance => &self.attendance,
            Factor::ProviderDuties => &self.provider_duties,
            Factor::Outcome => &self.outcome,
        }
    }
}

/// What a meeting reviewed: the progress of every enrolled student at the meeting's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub as_of: String,
    /// In student id order.
    pub rows: Vec<SnapshotRow>,
}

/// The off-track students of one school on one factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffTrackGroup {
    pub school_id: String,
    pub factor: Factor,
    /// (student id, why), in student id order.
    pub students: Vec<(String, String)>,
}

/// One student's move on one factor between two meetings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub student_id: String,
    pub school_id: String,
    pub factor: Factor,
    /// Status at the previous meeting (`None`: the student was not in its snapshot).
    pub was: Option<Status>,
    /// Status now (`None`: the student is no longer in the snapshot).
    pub now: Option<Status>,
    /// Why, as of now (or as of then for `back_on_track` and `no_longer_judged`).
    pub summary: String,
}

/// What changed since the previous meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// The previous meeting's date.
    pub since: String,
    /// Off track now, not off track then.
    pub newly_off_track: Vec<Change>,
    /// Off track then, on track now.
    pub back_on_track: Vec<Change>,
    /// Off track then, not judged now (or no longer enrolled).
    pub no_longer_judged: Vec<Change>,
    /// Off track both times.
    pub still_off_track: u32,
}

impl Snapshot {
    /// Off-track students by school, then factor (factor order of [`Factor::ALL`]).
    pub fn off_track(&self) -> Vec<OffTrackGroup> {
        let mut groups: BTreeMap<(&str, Factor), Vec<(String, String)>> = BTreeMap::new();
        for r in &self.rows {
            for f in Factor::ALL {
                let m = r.mark(f);
                if m.status == Status::OffTrack {
                    groups
                        .entry((r.school_id.as_str(), f))
                        .or_default()
                        .push((r.student_id.clone(), m.summary.clone()));
                }
            }
        }
        groups
            .into_iter()
            .map(|((school, factor), students)| OffTrackGroup {
                school_id: school.to_string(),
                factor,
                students,
            })
            .collect()
    }

    /// What changed since `previous` (an earlier meeting's snapshot), per student and factor.
    pub fn changes_since(&self, previous: &Snapshot) -> Changes {
        let before: HashMap<&str, &SnapshotRow> = previous
            .rows
            .iter()
            .map(|r| (r.student_id.as_str(), r))
            .collect();
        let now: HashMap<&str, &SnapshotRow> = self
            .rows
            .iter()
            .map(|r| (r.student_id.as_str(), r))
            .collect();
        let mut c = Changes {
            since: previous.as_of.clone(),
            ..Changes::default()
        };
        for r in &self.rows {
            for f in Factor::ALL {
                let m = r.mark(f);
                let was = before.get(r.student_id.as_str()).map(|p| p.mark(f).status);
                let change = |summary: &str| Change {
                    student_id: r.student_id.clone(),
                    school_id: r.school_id.clone(),
                    factor: f,
                    was,
                    now: Some(m.status),
                    summary: summary.to_string(),
                };
                match (was, m.status) {
                    (Some(Status::OffTrack), Status::OffTrack) => c.still_off_track += 1,
                    (_, Status::OffTrack) => c.newly_off_track.push(change(&m.summary)),
                    (Some(Status::OffTrack), Status::OnTrack) => {
                        c.back_on_track.push(change(&m.summary))
                    }
                    (Some(Status::OffTrack), Status::NotJudged) => {
                        c.no_longer_judged.push(change(&m.summary))
                    }
                    _ => {}
                }
            }
        }
        for p in &previous.rows {
            if now.contains_key(p.student_id.as_str()) {
                continue;
            }
            for f in Factor::ALL {
                if p.mark(f).status == Status::OffTrack {
                    c.no_longer_judged.push(Change {
                        student_id: p.student_id.clone(),
                        school_id: p.school_id.clone(),
                        factor: f,
                        was: Some(Status::OffTrack),
                        now: None,
                        summary: "no longer in the contract's enrollments".to_string(),
                    });
                }
            }
        }
        let order = |a: &Change, b: &Change| {
            (&a.school_id, a.factor, &a.student_id).cmp(&(&b.school_id, b.factor, &b.student_id))
        };
        c.newly_off_track.sort_by(order);
        c.back_on_track.sort_by(order);
        c.no_longer_judged.sort_by(order);
        c
    }

    /// Keeps only the students `visible` accepts (a provider's view).
    pub fn retain_students(&mut self, visible: impl Fn(&str) -> bool) {
        self.rows.retain(|r| visible(&r.student_id));
    }
}

impl Changes {
    /// Keeps only the students `visible` accepts.
    pub fn retain_students(&mut self, visible: impl Fn(&str) -> bool) {
        self.newly_off_track.retain(|c| visible(&c.student_id));
        self.back_on_track.retain(|c| visible(&c.student_id));
        self.no_longer_judged.retain(|c| visible(&c.student_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::testing::*;

    fn row(id: &str, school: &str, att: Status, duty: Status, out: Status) -> SnapshotRow {
        let m = |s: Status| Mark {
            status: s,
            summary: format!("{id} {}", s.as_str()),
        };
        SnapshotRow {
            student_id: id.into(),
            school_id: school.into(),
            attendance: m(att),
            provider_duties: m(duty),
            outcome: m(out),
            at_risk: Decimal::ZERO,
        }
    }

    #[test]
    fn changes_since_the_previous_meeting_compare_snapshots() {
        use Status::{NotJudged as N, OffTrack as X, OnTrack as O};
        let before = Snapshot {
            as_of: "2024-11-01".into(),
            rows: vec![
                row("s1", "sch-1", X, O, N),
                row("s2", "sch-1", O, X, N),
                row("s3", "sch-2", X, O, O),
                row("s4", "sch-2", X, O, O),
            ],
        };
        let now = Snapshot {
            as_of: "2024-11-15".into(),
            rows: vec![
                // still off on attendance, newly off on outcome
                row("s1", "sch-1", X, O, X),
                // back on track on duties
                row("s2", "sch-1", O, O, N),
                // no longer judged on attendance
                row("s3", "sch-2", N, O, O),
                // s4 left; s5 is new and off on attendance
                row("s5", "sch-2", X, N, N),
            ],
        };
        let c = now.changes_since(&before);
        let ids = |v: &[Change]| {
            v.iter()
                .map(|c| format!("{}:{}", c.student_id, c.factor.as_str()))
                .collect::<Vec<_>>()
        };
        assert_eq!(c.since, "2024-11-01");
        assert_eq!(ids(&c.newly_off_track), ["s1:outcome", "s5:attendance"]);
        assert_eq!(c.newly_off_track[1].was, None);
        assert_eq!(ids(&c.back_on_track), ["s2:provider_duties"]);
        assert_eq!(ids(&c.no_longer_judged), ["s3:attendance", "s4:attendance"]);
        assert_eq!(c.no_longer_judged[1].now, None);
        assert_eq!(c.still_off_track, 1);
        let groups: Vec<(String, Factor, usize)> = now
            .off_track()
            .into_iter()
            .map(|g| (g.school_id, g.factor, g.students.len()))
            .collect();
        assert_eq!(
            groups,
            vec![
                ("sch-1".to_string(), Factor::Attendance, 1),
                ("sch-1".to_string(), Factor::Outcome, 1),
                ("sch-2".to_string(), Factor::Attendance, 1),
            ]
        );
        let mut mine = c.clone();
        mine.retain_students(|s| s != "s5");
        assert_eq!(ids(&mine.newly_off_track), ["s1:outcome"]);
    }

    #[test]
    fn snapshots_round_trip_through_json() {
        let k = contract(&[]);
        let p = progress(&k, "2025-05-15", vec![judged("m1", "sch-1", "207")]);
        let snap = p.snapshot();
        let json = serde_json::to_string(&snap).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snap);
        assert_eq!(back.rows[0].outcome.status, Status::OffTrack);
        assert_eq!(format_cents(back.rows[0].at_risk), "240.00");
    }
}
