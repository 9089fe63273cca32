//! The harness: a fresh directory and database per test, a way to run `obc` in it, and readers
//! for the statements it prints.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The shared folder of the project (spec, worked example, samples); never copied.
pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

/// The worked example's contract id.
pub const BASELINE_CONTRACT: &str = "mesa-math-2025-baseline";

/// A file of the worked example `shared/examples/baseline_seed7`.
pub fn example(name: &str) -> String {
    format!("{SHARED}/examples/baseline_seed7/{name}")
}

/// One `obc` installation: a temporary working directory holding its database.
pub struct Obc {
    dir: tempfile::TempDir,
    /// What `--db` names: `obc.db` in the directory, or a PostgreSQL URL.
    db: String,
}

impl Obc {
    /// A fresh directory; the database `obc.db` in it does not exist yet. Every command runs
    /// in this directory with `--db obc.db`.
    pub fn new() -> Obc {
        let dir = tempfile::Builder::new()
            .prefix("obc-it-")
            .tempdir()
            .expect("temp dir");
        Obc {
            dir,
            db: "obc.db".to_string(),
        }
    }

    /// A fresh directory whose commands use the database `db` (a PostgreSQL URL) instead of
    /// `obc.db`.
    pub fn with_db(db: &str) -> Obc {
        Obc {
            db: db.to_string(),
            ..Obc::new()
        }
    }

    /// A fresh directory with an initialised database.
    pub fn init() -> Obc {
        let obc = Obc::new();
        obc.ok(&["init"]);
        obc
    }

    /// The database's URL, for SQL behind obc's back: the PostgreSQL URL, or `sqlite://` and
    /// the file's path.
    pub fn db_url(&self) -> String {
        if self.is_postgres() {
            self.db.clone()
        } else {
            format!("sqlite://{}", self.path(&self.db).display())
        }
    }

    /// Whether the database is a PostgreSQL one.
    pub fn is_postgres(&self) -> bool {
        obc_store::is_postgres_url(&self.db)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path in the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the test's directory and returns its name (relative to the working
    /// directory `obc` runs in, so messages name it as written).
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        std::fs::write(self.path(name), contents).expect("write test file");
        name.to_string()
    }

    /// The command, ready to run in the test's directory on its database (`obc.db` or the
    /// one given to [`Obc::with_db`], unless `args` name another with `--db`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_obc"));
        if !args.contains(&"--db") {
            cmd.args(["--db", &self.db]);
        }
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("OBC_DB")
            .env("OBC_ACTOR", "tester")
            // `obc demo` writes its files to a temporary folder: keep it in the test's directory.
            .env("TMPDIR", self.dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `obc --db obc.db ARGS...`.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run obc");
        Run {
            command: format!("obc {}", args.join(" ")),
            output,
        }
    }

    /// Runs and asserts success; returns standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok()
    }

    /// Runs and asserts failure; returns standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        self.run(args).fails()
    }

    /// Imports the worked example's roster, assessments and sessions, adds its contract and
    /// enrolls its students, as its README says.
    pub fn load_example(&self) {
        self.load_example_with(&example("AssessmentResults.csv"));
    }

    /// The worked example loaded with the MAP file `assessments` instead of its own: what
    /// the MAP import printed.
    pub fn load_example_with(&self, assessments: &str) -> String {
        self.ok(&["init"]);
        self.ok(&["import", "roster", &example("roster")]);
        let imported = self.ok(&["import", "assessments", assessments]);
        self.ok(&[
            "import",
            "sessions",
            &example("sessions.csv"),
            "--provider",
            "brightpath",
        ]);
        self.ok(&["contract", "add", &example("contract.toml")]);
        self.ok(&[
            "enroll",
            "--contract",
            BASELINE_CONTRACT,
            &example("enrollment.csv"),
        ]);
        imported
    }

    /// The worked example's statement at a milestone, as CSV (a draft unless finalized).
    pub fn example_statement(&self, milestone: &str, format: &str) -> String {
        self.ok(&[
            "statement",
            "--contract",
            BASELINE_CONTRACT,
            "--milestone",
            milestone,
            "--format",
            format,
        ])
    }

    /// Finalizes the worked example's statement at a milestone; returns it as CSV.
    pub fn finalize_example(&self, milestone: &str) -> String {
        self.ok(&[
            "statement",
            "finalize",
            "--contract",
            BASELINE_CONTRACT,
            "--milestone",
            milestone,
            "--format",
            "csv",
        ])
    }

    /// The audit log, as printed.
    pub fn audit(&self) -> String {
        self.ok(&["audit"])
    }
}

/// A finished run of `obc`.
pub struct Run {
    pub command: String,
    pub output: Output,
}

impl Deref for Run {
    type Target = Output;
    fn deref(&self) -> &Output {
        &self.output
    }
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8(self.output.stdout.clone()).expect("obc's standard output is UTF-8")
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn assert_no_panic(&self) {
        let stderr = self.stderr();
        assert!(
            !stderr.contains("panicked"),
            "`{}` panicked:\n{stderr}",
            self.command
        );
    }

    /// Asserts that the command succeeded; returns standard output.
    pub fn ok(self) -> String {
        self.assert_no_panic();
        assert!(
            self.status.success(),
            "`{}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.status,
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts that the command failed with exit code 1 (an error, not a crash or a usage
    /// error); returns standard error.
    pub fn fails(self) -> String {
        self.assert_no_panic();
        assert_eq!(
            self.status.code(),
            Some(1),
            "`{}` should fail with exit code 1:\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.stdout(),
            self.stderr()
        );
        self.stderr()
    }
}

/// A CSV read by header: the header and each record as a map from column to the field's text.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<BTreeMap<String, String>>,
}

impl Table {
    pub fn parse(text: &str) -> Table {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("a CSV header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| {
                let r = r.expect("a well-formed CSV record");
                header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(str::to_string))
                    .collect()
            })
            .collect();
        Table { header, rows }
    }

    /// The rows whose first column is `key` (a student id, or `TOTAL`, `BY_RULE`...).
    pub fn rows_keyed(&self, key: &str) -> Vec<&BTreeMap<String, String>> {
        let first = &self.header[0];
        self.rows.iter().filter(|r| r[first] == key).collect()
    }

    /// The only row whose first column is `key`.
    pub fn row(&self, key: &str) -> &BTreeMap<String, String> {
        match self.rows_keyed(key).as_slice() {
            [only] => only,
            rows => panic!("expected one row {key}, found {}", rows.len()),
        }
    }
}
