#!/usr/bin/env python3
"""obc's state-scale benchmark: obc and DuckDB on the same files, in one run.

    bench/run [--sizes 10000,100000,1000000]

Per size: generate the data set (`obc demo --students N --export`, cached in bench/data/N/),
load it into a fresh SQLite database with the release `obc` and time each command, finalize
the milestones before the final one, compute the final-milestone draft statement (JSON),
finalize it, re-import the identical sessions file; then load the same CSVs into a DuckDB
database file and compute the statement's data-heavy part in one SQL query. Both must give the
same totals (else the script says so loudly and exits 1). Prints a Markdown table per size and
writes it to bench/results-N.md.

Every step runs as a child process, timed, with its peak RSS (wait4's ru_maxrss). A step that
fails, runs out of time or passes --max-rss-gb is shown as failed; the script goes on.
With OBC_BENCH_POSTGRES_URL set (a server URL obc can use; psql must be installed), obc's steps
also run on PostgreSQL at 100k students, in a database `obc_bench` that the script creates
afresh.

The script installs DuckDB's Python package from PyPI into bench/.venv on its first run and
re-runs itself there. Nothing else is needed but python3 and cargo.
"""

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import venv
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
DUCKDB_REQUIREMENT = "duckdb>=1.1,<2"
OBC = ROOT / "target" / "release" / "obc"
SEED = "7"
POSTGRES_SIZE = 100_000
# Disk a run needs per student today: the files, obc's database after three finalizations (each
# stores a copy of its inputs) and its write-ahead log, DuckDB's database (measured at 100k).
DISK_PER_STUDENT = 40_000


# ---------------------------------------------------------------------------------------------
# Setup: the venv with DuckDB, the release build


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv() -> None:
    """Creates bench/.venv with DuckDB if needed and re-runs this script with its python."""
    if in_venv():
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} ...", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    has_duckdb = subprocess.run(
        [python, "-c", "import duckdb"], stderr=subprocess.DEVNULL
    ).returncode == 0
    if not has_duckdb:
        print(f"installing {DUCKDB_REQUIREMENT} from PyPI ...", file=sys.stderr)
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", DUCKDB_REQUIREMENT], check=True
        )
    os.execv(python, [str(python), __file__, *sys.argv[1:]])


def build_obc() -> None:
    print("building the release obc ...", file=sys.stderr)
    subprocess.run(
        ["cargo", "build", "--release", "-p", "obc-cli"], cwd=ROOT, check=True
    )


# ---------------------------------------------------------------------------------------------
# Measuring a child process


@dataclass
class Step:
    name: str
    seconds: float | None = None
    peak_rss_kb: int | None = None
    failure: str | None = None
    # The size of obc's SQLite database after the step.
    db_bytes: int | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None and self.seconds is not None


def rss_kb(pid: int) -> int:
    """The current resident set size of a running process, in KiB (0 if unknown)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_step(name, argv, log_dir: Path, limits, stdout=None) -> Step:
    """Runs `argv`, timing it and recording its peak RSS; a failure is recorded, not raised."""
    log = log_dir / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".log")
    step = Step(name)
    print(f"  {name} ...", file=sys.stderr, flush=True)
    with open(log, "wb") as err, open(stdout or os.devnull, "wb") as out:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        killed = None
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.perf_counter() - start
            if killed is None and rss_kb(child.pid) > limits.max_rss_gb * 1024 * 1024:
                killed = f"over {limits.max_rss_gb} GB RSS"
                os.kill(child.pid, signal.SIGKILL)
            elif killed is None and elapsed > limits.timeout:
                killed = f"over {limits.timeout:.0f} s"
                os.kill(child.pid, signal.SIGKILL)
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    step.peak_rss_kb = usage.ru_maxrss
    if killed:
        step.failure = killed
    elif child.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        step.failure = f"exit {child.returncode}: {tail[0][:120]}"
    else:
        step.seconds = elapsed
    if step.failure:
        print(f"    FAILED ({step.failure}); log: {log}", file=sys.stderr)
    return step


def skipped(name: str, why: str) -> Step:
    return Step(name, failure=f"skipped: {why}")


# ---------------------------------------------------------------------------------------------
# The data set


@dataclass
class DataSet:
    students: int
    dir: Path

    @property
    def roster(self) -> Path:
        return self.dir / "roster"

    @property
    def assessments(self) -> Path:
        return self.dir / "AssessmentResults.csv"

    @property
    def sessions(self) -> Path:
        return self.dir / "sessions.csv"

    @property
    def enrollment(self) -> Path:
        return self.dir / "enrollment.csv"

    @property
    def contract(self) -> Path:
        return self.dir / "contract.toml"

    def csv_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.dir.rglob("*.csv"))


def generate(students: int, work: Path, limits, regenerate: bool) -> tuple[DataSet, Step]:
    """The data set of `students` students, generated once and then reused."""
    data = DataSet(students, work / "files")
    stamp = work / "generated"
    if stamp.exists() and not regenerate:
        return data, skipped("generate", "cached")
    stamp.unlink(missing_ok=True)
    step = run_step(
        "generate",
        [OBC, "demo", "--students", str(students), "--seed", SEED, "--export", data.dir],
        work,
        limits,
    )
    if step.ok:
        stamp.write_text(f"obc demo --students {students} --seed {SEED}\n")
    return data, step


@dataclass
class ContractFacts:
    """What the DuckDB query needs from the contract document."""

    id: str
    provider: str
    period_start: str
    period_end: str
    statement_date: str
    subject: str
    from_term: str
    to_term: str
    max_rapid_pct: Decimal | None
    earlier_milestones: list[str]
    final_milestone: str


def contract_facts(path: Path) -> ContractFacts:
    doc = tomllib.loads(path.read_text())
    start, end = doc["period"]["start"], doc["period"]["end"]
    year = start.year if start.month >= 7 else start.year - 1
    school_year = f"{year}-{year + 1}"
    outcome = doc["outcome"]
    milestones = doc["milestone"]
    rapid = outcome.get("max_rapid_guessing")
    return ContractFacts(
        id=doc["id"],
        provider=doc["provider"],
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        statement_date=milestones[-1]["date"].isoformat(),
        subject=doc["subject"],
        from_term=f"{outcome['from_term']} {school_year}",
        to_term=f"{outcome['to_term']} {school_year}",
        max_rapid_pct=Decimal(rapid) * 100 if rapid else None,
        earlier_milestones=[m["name"] for m in milestones[:-1]],
        final_milestone=milestones[-1]["name"],
    )


# ---------------------------------------------------------------------------------------------
# obc


def obc_steps(data: DataSet, facts: ContractFacts, db: str, work: Path, limits):
    """obc's load, the finalizations of the milestones before the final one, the final draft
    statement, its finalization and a re-import of the sessions, on database `db` (a fresh
    SQLite file or a PostgreSQL URL). Returns the steps and the draft statement's file."""
    obc = [str(OBC), "--db", db]
    c = facts.id
    sessions = ["import", "sessions", data.sessions, "--provider", facts.provider]
    loads = [
        ("load: roster", ["import", "roster", data.roster]),
        ("load: MAP results", ["import", "assessments", data.assessments]),
        ("load: sessions", sessions),
        ("load: contract", ["contract", "add", data.contract]),
        ("load: enrollments", ["enroll", "--contract", c, data.enrollment]),
    ]
    statement = work / "statement-final.json"
    statement.unlink(missing_ok=True)
    final = ["--contract", c, "--milestone", facts.final_milestone]
    later = [
        *[
            (f"finalize {m}", ["statement", "finalize", "--contract", c, "--milestone", m])
            for m in facts.earlier_milestones
        ],
        ("final statement (draft)", ["statement", *final, "--format", "json", "-o", statement]),
        ("finalize final", ["statement", "finalize", *final]),
        ("re-import identical sessions", sessions),
    ]

    def step(name, args):
        s = run_step(name, obc + args, work, limits)
        if "://" not in db:
            s.db_bytes = sqlite_size(Path(db))
        return s

    steps = [step("init", ["init"])]
    steps += [step(name, args) for name, args in loads]
    loaded = all(s.ok for s in steps)
    for name, args in later:
        steps.append(step(name, args) if loaded else skipped(name, "load failed"))
    return steps, statement


def sqlite_size(db: Path) -> int:
    return sum(p.stat().st_size for p in [db, Path(f"{db}-wal")] if p.exists())


def statement_lines(path: Path):
    """Yields the `lines` of an obc JSON statement one at a time, never holding the whole file
    (1M students write about a gigabyte of JSON)."""
    decoder = json.JSONDecoder()
    separators = re.compile(r"[\s,]*")
    with open(path, encoding="utf-8") as f:
        buf, pos = "", -1
        while pos < 0:
            chunk = f.read(1 << 20)
            if not chunk:
                raise ValueError(f"{path}: no `lines` array")
            buf += chunk
            start = buf.find('"lines": [')
            if start >= 0:
                pos = start + len('"lines": [')
        while True:
            pos = separators.match(buf, pos).end()
            if pos < len(buf) and buf[pos] == "]":
                return
            try:
                line, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                chunk = f.read(1 << 20)
                if not chunk:
                    raise
                buf, pos = buf[pos:] + chunk, 0
                continue
            yield line
            pos = end


# ---------------------------------------------------------------------------------------------
# DuckDB (each step runs this script as a child: `bench.py duckdb STEP DB DATA_DIR [OUT]`)

DUCKDB_LOADS = {
    "roster": [
        (name, "read_csv('{dir}/roster/" + name + ".csv', all_varchar = true)")
        for name in ["orgs", "users", "enrollments", "demographics"]
    ],
    "map": [
        (
            "map",
            "SELECT * REPLACE (strptime(TestStartDate, '%m/%d/%Y')::DATE AS TestStartDate) "
            "FROM read_csv('{dir}/AssessmentResults.csv', "
            "types = {'StudentID': 'VARCHAR', 'TestStartDate': 'VARCHAR', 'TestID': 'VARCHAR'})",
        )
    ],
    "sessions": [
        (
            "sessions",
            "read_csv('{dir}/sessions.csv', types = {'session_id': 'VARCHAR', "
            "'student_id': 'VARCHAR', 'tutor_id': 'VARCHAR', 'date': 'DATE', "
            "'minutes': 'INTEGER', 'status': 'VARCHAR', 'group_size': 'INTEGER'})",
        )
    ],
    "enrollment": [
        (
            "enrollment",
            "read_csv('{dir}/enrollment.csv', types = {'student_id': 'VARCHAR', "
            "'start_date': 'DATE', 'end_date': 'DATE'})",
        )
    ],
}

# The statement's data-heavy part, as the engine counts (SPEC 5, crates/core/src/engine.rs):
# per enrolled student, the sessions in the contract period, on or before the statement date
# and within the enrollment, by status, with minutes and the most frequent tutor's count among
# attended sessions; the counted (most recent valid) fall and spring tests of the subject.
DUCKDB_STATEMENT = """
COPY (
WITH e AS (
    SELECT student_id, start_date, end_date FROM enrollment
    WHERE start_date <= DATE '{period_end}'
      AND (end_date IS NULL OR end_date >= DATE '{period_start}')
), s AS (
    SELECT s.student_id, s.tutor_id, s.status, s.minutes
    FROM sessions s JOIN e USING (student_id)
    WHERE s.date >= greatest(e.start_date, DATE '{period_start}')
      AND s.date <= least(coalesce(e.end_date, DATE '{period_end}'), DATE '{period_end}',
                          DATE '{statement_date}')
), counts AS (
    SELECT student_id,
           count(*) AS planned,
           count(*) FILTER (WHERE status = 'attended') AS attended,
           count(*) FILTER (WHERE status = 'student_absent') AS student_absent,
           count(*) FILTER (WHERE status = 'district_cancelled') AS district_cancelled,
           count(*) FILTER (WHERE status = 'provider_cancelled') AS provider_cancelled,
           sum(minutes) AS minutes
    FROM s GROUP BY student_id
), tutors AS (
    SELECT student_id, max(n) AS same_tutor
    FROM (SELECT student_id, tutor_id, count(*) AS n FROM s
          WHERE status = 'attended' GROUP BY student_id, tutor_id)
    GROUP BY student_id
), tests AS (
    SELECT StudentID AS student_id, TermName, TestRITScore AS score,
           row_number() OVER (PARTITION BY StudentID, TermName
                              ORDER BY TestStartDate DESC, rowid DESC) AS latest
    FROM map
    WHERE lower(Subject) = lower('{subject}') AND TermName IN ('{from_term}', '{to_term}')
      AND TestStartDate <= DATE '{statement_date}' AND TestRITScore IS NOT NULL
      AND {rapid_valid}
)
SELECT e.student_id,
       coalesce(c.planned, 0) AS planned, coalesce(c.attended, 0) AS attended,
       coalesce(c.student_absent, 0) AS student_absent,
       coalesce(c.district_cancelled, 0) AS district_cancelled,
       coalesce(c.provider_cancelled, 0) AS provider_cancelled,
       coalesce(c.minutes, 0) AS minutes, coalesce(t.same_tutor, 0) AS same_tutor,
       b.score AS baseline, o.score AS outcome
FROM e
LEFT JOIN counts c USING (student_id)
LEFT JOIN tutors t USING (student_id)
LEFT JOIN tests b ON b.student_id = e.student_id AND b.TermName = '{from_term}' AND b.latest = 1
LEFT JOIN tests o ON o.student_id = e.student_id AND o.TermName = '{to_term}' AND o.latest = 1
ORDER BY e.student_id
) TO '{out}' (HEADER)
"""


def duckdb_child(step: str, db: str, data_dir: str, out: str | None) -> None:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(db)
    if step in DUCKDB_LOADS:
        for table, source in DUCKDB_LOADS[step]:
            source = source.replace("{dir}", data_dir)
            if not source.startswith("SELECT"):
                source = f"SELECT * FROM {source}"
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {source}")
    elif step == "statement":
        facts = contract_facts(Path(data_dir) / "contract.toml")
        rapid = (
            f"(RapidGuessingPercentage IS NULL OR RapidGuessingPercentage < {facts.max_rapid_pct})"
            if facts.max_rapid_pct is not None
            else "true"
        )
        con.execute(DUCKDB_STATEMENT.format(**facts.__dict__, rapid_valid=rapid, out=out))
    else:
        raise SystemExit(f"unknown DuckDB step {step}")
    con.execute("CHECKPOINT")
    con.close()
    print(f"elapsed {time.perf_counter() - start}")


def duckdb_step(name: str, args: list, work: Path, limits) -> Step:
    """A DuckDB step in a child Python; its time is the one the child measured around its
    work (connect, SQL, checkpoint), so Python's and DuckDB's start-up are not counted."""
    out = work / f"duckdb-{args[0]}.out"
    step = run_step(name, [sys.executable, __file__, "duckdb", *args], work, limits, stdout=out)
    if step.ok:
        step.seconds = float(out.read_text().split()[-1])
    return step


def duckdb_steps(data: DataSet, work: Path, limits):
    db = work / "duckdb.db"
    for p in [db, Path(f"{db}.wal")]:
        p.unlink(missing_ok=True)
    steps = []
    for name, key in [
        ("load: roster", "roster"),
        ("load: MAP results", "map"),
        ("load: sessions", "sessions"),
        ("load: enrollments", "enrollment"),
    ]:
        steps.append(duckdb_step(f"duckdb {name}", [key, db, data.dir], work, limits))
    result = work / "duckdb-statement.csv"
    result.unlink(missing_ok=True)
    name = "duckdb final statement (draft)"
    if all(s.ok for s in steps):
        steps.append(duckdb_step(name, ["statement", db, data.dir, result], work, limits))
    else:
        steps.append(skipped(name, "load failed"))
    return steps, result, db


# ---------------------------------------------------------------------------------------------
# Agreement

COUNTS = [
    "planned",
    "attended",
    "student_absent",
    "district_cancelled",
    "provider_cancelled",
    "minutes",
]
SCORES = ["baseline", "outcome"]
RATE = Decimal("0.0001")


def totals_of_obc(statement: Path) -> dict:
    t = {k: Decimal(0) for k in ["students", *COUNTS, *SCORES, "same_tutor_rate"]}
    for line in statement_lines(statement):
        t["students"] += 1
        for k in COUNTS:
            t[k] += line[k]
        for k in [*SCORES, "same_tutor_rate"]:
            if line[k] is not None:
                t[k] += Decimal(line[k])
    return t


def totals_of_duckdb(result: Path) -> dict:
    t = {k: Decimal(0) for k in ["students", *COUNTS, *SCORES, "same_tutor_rate"]}
    with open(result, newline="") as f:
        for row in csv.DictReader(f):
            t["students"] += 1
            for k in COUNTS:
                t[k] += int(row[k])
            for k in SCORES:
                if row[k] != "":
                    t[k] += Decimal(row[k])
            attended = int(row["attended"])
            if attended:
                rate = Decimal(int(row["same_tutor"])) / attended
                t["same_tutor_rate"] += rate.quantize(RATE, rounding=ROUND_HALF_EVEN)
    return t


def compare(obc_statement: Path, duckdb_result: Path) -> list[str]:
    """The totals on which obc and DuckDB differ (empty when they agree)."""
    a, b = totals_of_obc(obc_statement), totals_of_duckdb(duckdb_result)
    return [f"{k}: obc {a[k]} != DuckDB {b[k]}" for k in a if a[k] != b[k]]


# ---------------------------------------------------------------------------------------------
# The table


def seconds(step: Step | None) -> str:
    if step is None:
        return "-"
    if step.ok:
        return f"{step.seconds:.2f}"
    if step.failure.startswith("skipped"):
        return step.failure
    return f"failed ({step.failure})"


def mib(kb: int | None) -> str:
    return "-" if not kb else f"{kb / 1024:,.0f} MiB"


def size(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.1f} kB"


def ratio_of(a: Step | None, b: Step | None) -> str:
    """a's time over b's, when both ran."""
    if a and b and a.ok and b.ok and b.seconds > 0:
        return f"{a.seconds / b.seconds:.2f}x"
    return "-"


def total(name: str, steps: list[Step]) -> Step:
    """The sum of steps (failed if any failed); peak RSS is the largest."""
    t = Step(name, peak_rss_kb=max((s.peak_rss_kb or 0) for s in steps) or None)
    failed = [s for s in steps if not s.ok]
    if failed:
        t.failure = f"{failed[0].name} failed"
    else:
        t.seconds = sum(s.seconds for s in steps)
    return t


def targets(obc: dict, duck: dict, csv_bytes: int) -> list[str]:
    """Issue 9's targets, each with what this run measured."""
    draft, final = obc["final statement (draft)"], obc["finalize final"]
    rss = max((s.peak_rss_kb or 0) for s in obc.values()) / 1024
    end, before = final.db_bytes, draft.db_bytes
    rows = [
        ("load at most 1.5x DuckDB's", ratio_of(obc["load (total)"], duck["load (total)"])),
        (
            "re-import at most 0.3x the first import",
            ratio_of(obc["re-import identical sessions"], obc["load: sessions"]),
        ),
        ("final statement at most 0.5x DuckDB's", ratio_of(draft, duck["final statement (draft)"])),
        ("finalization at most 2x a draft", ratio_of(final, draft)),
        ("peak RSS at most 2 GB", f"{rss:,.0f} MiB"),
        ("database at most 1.5x the CSV", f"{end / csv_bytes:.2f}x" if final.ok else "-"),
        (
            "a finalization adds at most 5% to it",
            f"{(end / before - 1) * 100:+.1f}%" if final.ok and before else "-",
        ),
    ]
    return ["| issue 9 target | measured |", "| --- | ---: |", *[f"| {t} | {m} |" for t, m in rows]]


def table(students, obc: list[Step], duck: list[Step], csv_bytes, duck_db, extra) -> str:
    loads = [s for s in obc if s.name.startswith("load: ")]
    rows = [*obc, total("load (total)", loads)]
    by_name = {s.name: s for s in rows}
    duck_by_name = {s.name.removeprefix("duckdb "): s for s in duck}
    duck_loads = [s for s in duck if s.name.startswith("duckdb load: ")]
    duck_by_name["load (total)"] = total("load (total)", duck_loads)
    out = [
        f"### {students:,} students",
        "",
        "| step | obc s | DuckDB s | obc / DuckDB | obc peak RSS | DuckDB peak RSS | obc db after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in rows:
        d = duck_by_name.get(s.name)
        out.append(
            f"| {s.name} | {seconds(s)} | {seconds(d)} | {ratio_of(s, d)} "
            f"| {mib(s.peak_rss_kb)} | {mib(d.peak_rss_kb) if d else '-'} | {size(s.db_bytes)} |"
        )
    end = [s.db_bytes for s in obc if s.db_bytes][-1]
    out += [
        "",
        f"CSV files {size(csv_bytes)}; obc's SQLite database at the end {size(end)} "
        f"({end / csv_bytes:.2f}x the CSV); DuckDB's database {size(duck_db)}.",
        "obc's times are whole commands (start to exit); DuckDB's are measured inside its child "
        "process, without Python's start-up. Peak RSS is each child's ru_maxrss.",
        "",
        *targets(by_name, duck_by_name, csv_bytes),
        "",
        *extra,
        "",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------


def bench_size(students: int, args, limits) -> bool:
    """Runs one size; returns whether obc and DuckDB agreed (or could not be compared)."""
    work = BENCH / "data" / str(students)
    work.mkdir(parents=True, exist_ok=True)
    print(f"== {students:,} students ({work})", file=sys.stderr)
    need, free = students * DISK_PER_STUDENT, shutil.disk_usage(work).free
    if free < need and not args.ignore_disk:
        print(
            f"skipped: {students:,} students need about {need / 1e9:.0f} GB of disk, "
            f"{free / 1e9:.0f} GB are free (--ignore-disk to try anyway)",
            file=sys.stderr,
        )
        return True
    data, gen = generate(students, work, limits, args.regenerate)
    if not (gen.ok or gen.failure == "skipped: cached"):
        print(f"generation failed: {gen.failure}", file=sys.stderr)
        return False
    facts = contract_facts(data.contract)
    db = work / "obc.db"
    for p in [db, Path(f"{db}-wal"), Path(f"{db}-shm")]:
        p.unlink(missing_ok=True)

    obc_steps_done, statement = obc_steps(data, facts, str(db), work, limits)
    duck, result, duck_db = duckdb_steps(data, work, limits)
    duck_db_bytes = sum(p.stat().st_size for p in [duck_db, Path(f"{duck_db}.wal")] if p.exists())
    extra = []
    if gen.ok:
        extra.append(
            f"Generating the files took {gen.seconds:.1f} s (peak RSS {mib(gen.peak_rss_kb)})."
        )

    agree = True
    draft = next(s for s in obc_steps_done if s.name == "final statement (draft)")
    duck_statement = duck[-1]
    if draft.ok and duck_statement.ok:
        mismatches = compare(statement, result)
        if mismatches:
            agree = False
            print("\n!!!!! obc AND DuckDB DISAGREE !!!!!", file=sys.stderr)
            for m in mismatches:
                print(f"!!!!! {m}", file=sys.stderr)
            extra.append("**obc and DuckDB DISAGREE:** " + "; ".join(mismatches))
        else:
            extra.append(
                "obc and DuckDB agree on the sums over students of planned, attended, "
                "student_absent, district_cancelled, provider_cancelled, minutes, same-tutor "
                "rate, baseline and outcome scores."
            )
    else:
        extra.append("obc and DuckDB could not be compared (a statement step failed).")

    if os.environ.get("OBC_BENCH_POSTGRES_URL") and students == POSTGRES_SIZE:
        extra += postgres(data, facts, work, limits, obc_steps_done)

    text = table(students, obc_steps_done, duck, data.csv_bytes(), duck_db_bytes, extra)
    print(text)
    (BENCH / f"results-{students}.md").write_text(text)
    return agree


def postgres(data, facts, work, limits, sqlite_steps) -> list[str]:
    """obc's steps on PostgreSQL, next to SQLite's."""
    url = os.environ["OBC_BENCH_POSTGRES_URL"]
    fresh = f"{url.rsplit('/', 1)[0]}/obc_bench"
    for sql in ["DROP DATABASE IF EXISTS obc_bench", "CREATE DATABASE obc_bench"]:
        done = subprocess.run(["psql", url, "-qc", sql], capture_output=True, text=True)
        if done.returncode != 0:
            return [f"PostgreSQL: could not create obc_bench ({done.stderr.strip()})."]
    (work / "postgres").mkdir(exist_ok=True)
    steps, _ = obc_steps(data, facts, fresh, work / "postgres", limits)
    steps.append(total("load (total)", [s for s in steps if s.name.startswith("load: ")]))
    sqlite_loads = [s for s in sqlite_steps if s.name.startswith("load: ")]
    sqlite = {s.name: s for s in [*sqlite_steps, total("load (total)", sqlite_loads)]}
    lines = [
        "",
        "PostgreSQL (the same obc steps):",
        "",
        "| step | PostgreSQL s | SQLite s | PostgreSQL / SQLite | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for s in steps:
        q = sqlite.get(s.name)
        lines.append(
            f"| {s.name} | {seconds(s)} | {seconds(q)} | {ratio_of(s, q)} | {mib(s.peak_rss_kb)} |"
        )
    # The server's settings that move bulk loads most (docs/SCALE.md): the times mean little
    # without them.
    settings = subprocess.run(
        ["psql", url, "-Atc", "SELECT string_agg(name || ' = ' || current_setting(name), ', ' "
         "ORDER BY name) FROM pg_settings WHERE name IN ('max_wal_size', 'shared_buffers')"],
        capture_output=True, text=True,
    )
    if settings.returncode == 0:
        lines += ["", f"The server's settings: {settings.stdout.strip()}."]
    return lines


@dataclass
class Limits:
    timeout: float
    max_rss_gb: float


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "duckdb":
        duckdb_child(*sys.argv[2:5], sys.argv[5] if len(sys.argv) > 5 else None)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--sizes", default="10000,100000,1000000", help="students per run, comma-separated")
    add("--regenerate", action="store_true", help="generate the files even if cached")
    add("--no-build", action="store_true", help="use target/release/obc as it is")
    add("--ignore-disk", action="store_true", help="run a size even without the disk it needs")
    add("--timeout", type=float, default=3600, help="seconds before a step counts as failed")
    add("--max-rss-gb", type=float, default=12, help="a step above this RSS is killed, failed")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    ensure_venv()
    if not args.no_build:
        build_obc()
    limits = Limits(args.timeout, args.max_rss_gb)
    agree = [bench_size(n, args, limits) for n in sizes]
    if not all(agree):
        print("\nobc and DuckDB DISAGREE: see the tables above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
