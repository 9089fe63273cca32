#!/usr/bin/env python3
"""obc's web benchmark: every page of a large contract, 20 concurrent users, over loopback.

    bench/web [--students 100000] [--users 20] [--no-build] [--reload]

Uses the data set of bench/run (`obc demo --students N --export`, cached in bench/data/N/files),
loads it once into bench/data/N/web.db (roster, MAP results, sessions, contract, enrollments,
then the milestones before the final one finalized, as in a district mid-year), adds one login
per role, starts the release `obc serve` on it, signs in as each role and opens every page once
(the cold request, which may compute a draft), then has --users threads request each page the
role may see, each on its own keep-alive connection, --rounds times each (or until
--page-seconds pass). Prints a Markdown table (role, page, requests, p50, p95, max ms, cold
ms, HTML bytes) against issue 10's targets (p95 <= 300 ms, HTML < 1 MB) and writes it to
bench/results-web-N.md. Python's standard library only.
"""

import argparse
import http.client
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the data set, the release build and timed steps of bench/run)

BENCH = bench.BENCH
TARGET_P95_MS = 300
TARGET_HTML_BYTES = 1_000_000
ROLES = ["admin", "district", "provider", "auditor"]


# ---------------------------------------------------------------------------------------------
# The database


def load(data: bench.DataSet, facts: bench.ContractFacts, db: Path, limits) -> None:
    """Loads the data set into a fresh `db` and finalizes the milestones before the final one."""
    for p in [db, Path(f"{db}-wal"), Path(f"{db}-shm")]:
        p.unlink(missing_ok=True)
    work = db.parent / "web-load"
    work.mkdir(exist_ok=True)
    c = facts.id
    steps = [
        ("init", ["init"]),
        ("roster", ["import", "roster", data.roster]),
        ("MAP results", ["import", "assessments", data.assessments]),
        ("sessions", ["import", "sessions", data.sessions, "--provider", facts.provider]),
        ("contract", ["contract", "add", data.contract]),
        ("enrollments", ["enroll", "--contract", c, data.enrollment]),
        *[
            (f"finalize {m}", ["statement", "finalize", "--contract", c, "--milestone", m])
            for m in facts.earlier_milestones
        ],
    ]
    for name, args in steps:
        step = bench.run_step(name, [bench.OBC, "--db", db, *args], work, limits)
        if not step.ok:
            sys.exit(f"loading {db} failed at {name}: {step.failure}")
        print(f"    {step.seconds:.1f} s", file=sys.stderr)


def district_of(data: bench.DataSet) -> str:
    return bench.tomllib.loads(data.contract.read_text())["district"]


def add_users(db: Path, facts: bench.ContractFacts, district: str) -> None:
    """One login per role (password `<role>-bench-password`), added once."""
    orgs = {"district": district, "provider": facts.provider}
    for role in ROLES:
        args = [str(bench.OBC), "--db", str(db), "user", "add", role, "--role", role]
        if role in orgs:
            args += ["--org", orgs[role]]
        env = {**os.environ, "OBC_PASSWORD": password(role)}
        done = subprocess.run(args, env=env, capture_output=True, text=True)
        if done.returncode != 0 and "already" not in done.stderr + done.stdout:
            sys.exit(f"obc user add {role}: {done.stderr.strip()}")


def password(role: str) -> str:
    return f"{role}-bench-password"


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass
class Answer:
    status: int
    bytes: int
    ms: float
    cookies: dict
    body: str = ""


def request(conn, method, path, cookie="", body=None, keep_body=False) -> Answer:
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    size, kept = 0, []
    while chunk := response.read(1 << 20):
        size += len(chunk)
        if keep_body:
            kept.append(chunk)
    ms = (time.perf_counter() - start) * 1000
    cookies = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            k, _, v = value.split(";")[0].partition("=")
            cookies[k] = v
    text = b"".join(kept).decode("utf-8", "replace")
    return Answer(response.status, size, ms, cookies, text)


def sign_in(port: int, role: str) -> tuple[str, float]:
    """The session cookie of `role`, and how long the sign-in took (ms)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    form = request(conn, "GET", "/login", keep_body=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.body).group(1)
    body = urllib.parse.urlencode({"username": role, "password": password(role), "csrf": csrf})
    answer = request(conn, "POST", "/login", f"obc_login_csrf={csrf}", body)
    if answer.status != 303 or "obc_session" not in answer.cookies:
        sys.exit(f"signing in as {role} failed: HTTP {answer.status}")
    return f"obc_session={answer.cookies['obc_session']}", answer.ms


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(bench.OBC), "--db", str(db), "serve", "--listen", f"127.0.0.1:{port}"],
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            if request(conn, "GET", "/login").status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit(f"obc serve did not answer on port {port}; see {log}")


# ---------------------------------------------------------------------------------------------
# The pages


def pages(facts, district: str, milestones: list[str], student: str) -> list[str]:
    c = facts.id
    return [
        "/",
        f"/contracts/{c}",
        *[f"/contracts/{c}/statements/{m}" for m in milestones],
        f"/contracts/{c}/statements/{milestones[-1]}/print",
        f"/contracts/{c}/progress",
        # Lists as people work them: sorted, searched, filtered (issue 10's "lists").
        f"/contracts/{c}/students?sort=school&page=3",
        f"/contracts/{c}/progress?q=smith&sort=name&dir=desc",
        f"/contracts/{c}/statements/{milestones[-1]}?sort=total&dir=desc&page=2",
        f"/contracts/{c}/statements/{milestones[-1]}?q=smith",
        f"/contracts/{c}/meetings",
        f"/students/{district}/{student}",
        "/upload",
        "/audit",
        "/ledger",
        "/account",
    ]


@dataclass
class Row:
    role: str
    page: str
    cold_ms: float
    bytes: int
    times: list = field(default_factory=list)
    errors: int = 0

    def pct(self, p: float) -> float:
        t = sorted(self.times)
        return t[min(len(t) - 1, int(round(p / 100 * (len(t) - 1))))] if t else float("nan")


def drive(port, cookie, path, users, rounds, budget) -> tuple[list, int]:
    """`users` threads request `path` `rounds` times each (or until `budget` seconds pass)."""
    times, errors, lock = [], [0], threading.Lock()
    stop = time.perf_counter() + budget

    def user():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for i in range(rounds):
            if i > 0 and time.perf_counter() > stop:
                break
            answer = request(conn, "GET", path, cookie)
            with lock:
                if answer.status == 200:
                    times.append(answer.ms)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=user) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors[0]


def concurrent_sign_ins(port, users) -> list:
    """`users` sign-ins at once (each one argon2 verification)."""
    times, lock = [], threading.Lock()

    def user(role):
        _, ms = sign_in(port, role)
        with lock:
            times.append(ms)

    threads = [threading.Thread(target=user, args=(ROLES[i % 4],)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def rss_mib(pid: int, field_name: str) -> float:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ---------------------------------------------------------------------------------------------


def table(students, rows, sign_ins, args, server_pid, started) -> str:
    ok = lambda r: r.times and r.pct(95) <= TARGET_P95_MS and r.bytes < TARGET_HTML_BYTES
    out = [
        f"### Web pages of a {students:,}-student contract",
        "",
        f"{args.users} concurrent users over loopback, up to {args.rounds} requests each per page "
        f"(or {args.page_seconds:.0f} s); release `obc serve` on SQLite. Cold = the first "
        "request after the server started (it may compute and store a draft).",
        "",
        "| role | page | requests | p50 ms | p95 ms | max ms | cold ms | HTML bytes | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        n = len(r.times)
        cells = [f"{r.pct(p):,.0f}" for p in (50, 95)] + [f"{max(r.times):,.0f}"] if n else ["-"] * 3
        errors = f" ({r.errors} failed)" if r.errors else ""
        out.append(
            f"| {r.role} | `{r.page}` | {n}{errors} | {' | '.join(cells)} | {r.cold_ms:,.0f} "
            f"| {r.bytes:,} | {'met' if ok(r) else 'missed'} |"
        )
    sign_ins.sort()
    pct = lambda p: sign_ins[min(len(sign_ins) - 1, int(round(p / 100 * (len(sign_ins) - 1))))]
    met = sum(1 for r in rows if ok(r))
    out += [
        "",
        f"{args.users} sign-ins at once (POST /login, argon2 each): p50 {pct(50):,.0f} ms, "
        f"p95 {pct(95):,.0f} ms, max {sign_ins[-1]:,.0f} ms.",
        f"Pages meeting both targets (p95 <= {TARGET_P95_MS} ms, HTML < 1 MB): {met} of "
        f"{len(rows)}. Server peak RSS {rss_mib(server_pid, 'VmHWM'):,.0f} MiB; "
        f"run took {time.time() - started:,.0f} s; {os.cpu_count()} cores, load average at "
        f"the end {os.getloadavg()[0]:.1f} (other processes share the cores).",
        "",
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--students", type=int, default=100_000, help="the data set's size")
    add("--users", type=int, default=20, help="concurrent users per page")
    add("--rounds", type=int, default=5, help="requests per user per page")
    add("--page-seconds", type=float, default=30, help="stop a page's rounds after this")
    add("--port", type=int, default=18080)
    add("--no-build", action="store_true", help="use target/release/obc as it is")
    add("--reload", action="store_true", help="load the database again even if it exists")
    add("--timeout", type=float, default=3600, help="seconds a load step may take")
    add("--roles", default=",".join(ROLES), help="the roles to sign in as, comma-separated")
    args = parser.parse_args()
    started = time.time()
    if not args.no_build:
        bench.build_obc()
    limits = bench.Limits(args.timeout, 12)
    work = BENCH / "data" / str(args.students)
    work.mkdir(parents=True, exist_ok=True)
    data, gen = bench.generate(args.students, work, limits, regenerate=False)
    if not (gen.ok or gen.failure == "skipped: cached"):
        sys.exit(f"generating the data set failed: {gen.failure}")
    facts = bench.contract_facts(data.contract)
    db = work / "web.db"
    loaded = work / "web.db.loaded"
    if args.reload or not loaded.exists():
        print(f"loading {db} ...", file=sys.stderr)
        loaded.unlink(missing_ok=True)
        load(data, facts, db, limits)
        loaded.write_text("loaded\n")
    district = district_of(data)
    add_users(db, facts, district)
    student = data.enrollment.read_text().splitlines()[1].split(",")[0]
    milestones = [*facts.earlier_milestones, facts.final_milestone]

    server = start_server(db, args.port, work / "web-serve.log")
    try:
        sessions = {role: sign_in(args.port, role)[0] for role in ROLES}
        rows = []
        for role in args.roles.split(","):
            for path in pages(facts, district, milestones, student):
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=900)
                cold = request(conn, "GET", path, sessions[role])
                print(f"  {role} {path}: HTTP {cold.status}, {cold.ms:,.0f} ms cold", file=sys.stderr)
                if cold.status == 200:
                    rows.append(Row(role, path, cold.ms, cold.bytes))
        for r in rows:
            r.times, r.errors = drive(
                args.port, sessions[r.role], r.page, args.users, args.rounds, args.page_seconds
            )
            print(f"  {r.role} {r.page}: p95 {r.pct(95):,.0f} ms", file=sys.stderr)
        sign_ins = concurrent_sign_ins(args.port, args.users)
        text = table(args.students, rows, sign_ins, args, server.pid, started)
    finally:
        server.terminate()
        server.wait()
    print(text)
    (BENCH / f"results-web-{args.students}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
