//! Bounded fuzzing of every importer of this crate: real and sample inputs mutated (byte flips,
//! truncations, inserted quotes, commas, line breaks, NULs, invalid UTF-8 and a field over the
//! record bound). Whatever the bytes, a parser must not panic, and must either parse or return
//! errors that name a line of the input. Few cases each, so that the suite stays fast.

use crate::assessments::AssessmentReader;
use crate::roster::{read_roster_bytes, read_roster_csv};
use crate::school_attendance::SchoolAttendanceReader;
use crate::{collect_all, read_enrollments, ImportError, ImportErrors};
use proptest::prelude::*;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

/// The first `lines` lines of a shared file.
fn head(rel: &str, lines: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(shared(rel)).unwrap();
    text.lines()
        .take(lines)
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

/// One change to an input.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR the byte at (position modulo length) with a non-zero mask.
    Flip(usize, u8),
    /// Keep only the first (position modulo length) bytes.
    Truncate(usize),
    /// Insert bytes at (position modulo length + 1).
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let inserted = prop_oneof![
        Just(b"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b",,,,".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n\"".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(vec![b'x'; 70 * 1024]),
        Just(b"Autumn 2024-2025".to_vec()),
        Just(b"1999".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(p, m)| Mutation::Flip(p, m)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), inserted).prop_map(|(p, b)| Mutation::Insert(p, b)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..4)
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(p, mask) => {
                if let Some(b) = bytes.get_mut(p % len) {
                    *b ^= mask;
                }
            }
            Mutation::Truncate(p) => bytes.truncate(p % len),
            Mutation::Insert(p, inserted) => {
                let at = (p % len + 1).min(bytes.len());
                bytes.splice(at..at, inserted.iter().copied());
            }
        }
    }
    bytes
}

/// Every error names a line of the input (1 for the header, at most one past the last line),
/// or the file as a whole (line 0) where `whole_file` allows it.
fn check_lines(errors: &[ImportError], input: &[u8], whole_file: bool) {
    let last = input.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    for e in errors {
        assert!(
            e.line <= last && (e.line >= 1 || whole_file),
            "line {} of {last}: {e}",
            e.line
        );
        assert!(!e.expected.is_empty(), "{e}");
    }
}

fn check_result<T>(result: Result<T, ImportErrors>, input: &[u8], whole_file: bool) {
    if let Err(errors) = result {
        assert!(errors.total > 0);
        check_lines(&errors, input, whole_file);
    }
}

fn assessments(bytes: &[u8]) {
    match AssessmentReader::new("a.csv", bytes) {
        Ok(reader) => check_result(collect_all(reader), bytes, false),
        Err(e) => check_lines(&[e], bytes, false),
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A OneRoster zip of the example roster, `users.csv` cut to its first lines.
fn oneroster_zip(users: &[u8]) -> Vec<u8> {
    let dir = shared("examples/baseline_seed7/roster");
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for file in ["manifest.csv", "orgs.csv", "enrollments.csv"] {
        w.start_file(file, opts).unwrap();
        w.write_all(&std::fs::read(dir.join(file)).unwrap())
            .unwrap();
    }
    w.start_file("users.csv", opts).unwrap();
    w.write_all(users).unwrap();
    w.finish().unwrap().into_inner()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn map_assessments(m in mutations()) {
        let sample = head("samples/map/AssessmentResults.csv", 25);
        assessments(&apply(sample, &m));
    }

    #[test]
    fn generic_assessments(m in mutations()) {
        let sample = b"student_id,assessment,subject,term,date,score,projected_growth\n\
            s1,STAAR,Mathematics,Spring 2024-2025,2025-04-10,1550,12\n\
            s2,MAP Growth,Reading,Fall 2024-2025,9/6/2024,210,\n\
            \"s3\",STAAR,\"Math, Algebra\",Spring 2024-2025,2025-04-11,,\n";
        assessments(&apply(sample.to_vec(), &m));
    }

    #[test]
    fn plain_roster(m in mutations()) {
        let sample = b"student_id,school_id,grade,first_name,last_name,ELL,school_name\n\
            s1,h1,KG,A,B,Y,High One\ns2,h1,05,\"O'Neil, Jr\",D,,\ns3,h2,,E,F,N,\n";
        let bytes = apply(sample.to_vec(), &m);
        check_result(read_roster_csv("roster.csv", &bytes[..], Some("d")), &bytes, false);
    }

    #[test]
    fn students_by_school_roster(m in mutations()) {
        let bytes = apply(head("samples/map/StudentsBySchool.csv", 40), &m);
        check_result(
            read_roster_csv("StudentsBySchool.csv", &bytes[..], Some("d")),
            &bytes,
            false,
        );
    }

    #[test]
    fn oneroster_users(m in mutations()) {
        // Mutate a roster file inside an intact zip: errors name lines of users.csv.
        let users = apply(head("examples/baseline_seed7/roster/users.csv", 30), &m);
        let result = read_roster_bytes("r.zip", &oneroster_zip(&users), None);
        if let Err(errors) = &result {
            let users_errors: Vec<ImportError> =
                errors.iter().filter(|e| e.file.ends_with("users.csv")).cloned().collect();
            check_lines(&users_errors, &users, false);
        }
    }

    #[test]
    fn oneroster_zip_bytes(m in mutations()) {
        // Mutate the archive itself: an error on the zip or one of its files, never a panic.
        let zip = oneroster_zip(&head("examples/baseline_seed7/roster/users.csv", 30));
        let bytes = apply(zip, &m);
        if let Err(errors) = read_roster_bytes("r.zip", &bytes, None) {
            assert!(errors.total > 0);
            assert!(errors.iter().all(|e| e.file.starts_with("r.zip")), "{errors}");
        }
    }

    #[test]
    fn enrollments(m in mutations()) {
        let bytes = apply(head("examples/baseline_seed7/enrollment.csv", 30), &m);
        check_result(read_enrollments("enrollment.csv", &bytes[..]), &bytes, false);
    }

    #[test]
    fn school_attendance(m in mutations()) {
        let sample = b"student_id,date,present\n2000000,2024-09-03,true\n\
            2000000,2024-09-04,absent\n2000001,2024-09-03,1\n2000002,2024-09-03,\"N\"\n";
        let bytes = apply(sample.to_vec(), &m);
        match SchoolAttendanceReader::new("attendance.csv", &bytes[..]) {
            Ok(reader) => check_result(collect_all(reader), &bytes, false),
            Err(e) => check_lines(&[e], &bytes, false),
        }
    }
}
