//! What an import tells its progress bar: the rows of the file read so far, counted again from
//! the first when the file has to be read again, never past the file's rows.

use super::*;
use crate::rejected_imports_tests::{example, example_store, runtime, ACTOR, PROVIDER};

#[test]
fn an_import_that_reads_its_file_again_counts_its_rows_from_the_first() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = example_store(dir.path()).await;
        // The example's sessions with one minute more on the first: stored ids, so the rows
        // cannot go straight to their table and the file is read again to be staged.
        let original = std::fs::read_to_string(example("sessions.csv")).unwrap();
        let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
        let mut first: Vec<String> = lines[1].split(',').map(str::to_string).collect();
        let minutes = lines[0].split(',').position(|c| c == "minutes").unwrap();
        first[minutes] = (first[minutes].parse::<u32>().unwrap() + 1).to_string();
        lines[1] = first.join(",");
        let changed = lines.join("\n") + "\n";
        let rows = (lines.len() - 1) as u64;
        let mut told = Vec::new();
        let done = import_sessions(
            &store,
            ACTOR,
            || Ok(changed.as_bytes()),
            "s.csv",
            PROVIDER,
            Reach::AnyDistrict,
            &mut |read| told.push(read),
        )
        .await
        .unwrap();
        assert_eq!(done.counts.replaced, 1);
        assert!(told.len() as u64 > rows, "the file was read twice");
        assert_eq!(told.iter().max(), Some(&rows));
        assert_eq!(told.iter().filter(|&&r| r == 1).count(), 2);
    });
}
