//! The web app in a real browser (issue 4): headless Chromium, driven through chromedriver with
//! the `fantoccini` WebDriver client, against `obc serve --demo` on a fresh database that also
//! holds a second district (the worked example's `dist-mesa`).
//!
//! Every role signs in through the form; the provider uploads a sessions file with an error and
//! then a good one; the admin opens the contract, its charts and the final statement; the
//! district user is refused a student of another district; the auditor reads the audit log and
//! the ledger. Each step leaves a screenshot in `artifacts/browser/` at the workspace root.
//!
//! Every page the walkthrough visits, for every role, is checked with axe-core (installed from
//! npm by `.ci/run` into `target/npm`, or named by `OBC_AXE_JS`): any accessibility violation
//! fails the test, listed with its rule, impact and the elements it found.
//!
//! Needs Debian's `chromium` and `chromium-driver`, and axe-core. Without them the test is
//! skipped with a note, unless `OBC_BROWSER_TESTS=1` (set by `.ci/run`), where it fails.

use crate::support::{example, Obc};
use anyhow::{bail, ensure, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Chromium's flags: headless, no sandbox (CI runs as root), and nothing that reaches for the
/// network on its own (the machine's network is closed; Chromium hangs on such connections).
const CHROMIUM_FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
    "--hide-scrollbars",
];

/// How long the demo database and chromedriver may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// How long axe-core may take to check one page.
const AXE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a page may take to show what a step waits for.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The demo's contract and the district whose students the demo users are not allowed to see.
const CONTRACT: &str = "demo-math-2025";
const OTHER_DISTRICT_STUDENT: &str = "/students/dist-mesa/2000000";

/// axe-core's browser script: `OBC_AXE_JS`, or where `.ci/run` installs it from npm.
fn axe_script_path() -> PathBuf {
    std::env::var_os("OBC_AXE_JS").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/npm/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    )
}

/// Whether the browser and axe-core are installed; when they are not, fails under
/// `OBC_BROWSER_TESTS=1` and otherwise says why the test does nothing.
fn browser_installed() -> bool {
    let axe = axe_script_path();
    let missing: Vec<String> = [Path::new(CHROMIUM), Path::new(CHROMEDRIVER), &axe]
        .into_iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let note = format!(
        "browser tests need {} (Debian: apt-get install chromium chromium-driver; axe-core: \
         npm install --prefix target/npm axe-core@{AXE_VERSION}, or set OBC_AXE_JS)",
        missing.join(" and ")
    );
    if std::env::var("OBC_BROWSER_TESTS").is_ok_and(|v| v == "1") {
        panic!("OBC_BROWSER_TESTS=1 but {note}");
    }
    eprintln!(
        "note: skipping the browser test: {note}; set OBC_BROWSER_TESTS=1 to make this a failure"
    );
    false
}

/// The screenshot folder, `artifacts/browser/` at the workspace root. Each run overwrites the
/// shots of the steps it reaches; a green run also removes a failure's shot of an earlier run.
fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/browser");
    std::fs::create_dir_all(&dir).expect("create artifacts/browser");
    dir.canonicalize().expect("artifacts/browser exists")
}

fn remove_failure_shots(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().ends_with("-FAILED.png") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// A process the test started, in its own process group; dropping it kills the whole group
/// (chromedriver's browser included), on success and on failure alike.
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(name: &'static str, mut command: Command, log: PathBuf) -> Process {
        let out = File::create(&log).expect("create a log file");
        let err = out.try_clone().expect("clone the log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process { name, child, log }
    }

    /// Waits until the process accepts connections on `port`.
    fn wait_for_port(&mut self, port: u16) -> Result<()> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let start = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited ({status}):\n{}", self.name, self.log_tail());
            }
            if start.elapsed() > START_TIMEOUT {
                bail!(
                    "{} did not answer on port {port} within {START_TIMEOUT:?}:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // The group's id is the leader's pid (process_group(0)); `--` keeps `-pid` an operand.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The axe-core release `.ci/run` installs.
const AXE_VERSION: &str = "4.14.1";

/// Runs axe-core on the page (the script was injected first) and hands back its violations
/// as `{id, impact, help, targets}`. WebDriver scripts run outside the page's Content
/// Security Policy, so the app's policy (no scripts at all) does not stop them.
const AXE_RUN: &str = "const done = arguments[arguments.length - 1]; \
    axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.map(v => ({ \
      id: v.id, impact: v.impact, help: v.help, \
      targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))), e => done(String(e)));";

/// A signed-out browser on the app, which names its screenshots by step.
struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
    step: u32,
    /// Problems that do not stop the walkthrough (layout, accessibility); the test fails on
    /// them at the end.
    problems: Vec<String>,
    /// axe-core's script, injected into each page it checks.
    axe: String,
    /// The pages axe checked, as `role path`.
    checked: Vec<String>,
}

impl Browser {
    async fn goto(&self, path: &str) -> Result<()> {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .with_context(|| format!("open {path}"))
    }

    /// Checks the current page with axe-core; each violation becomes a problem naming the
    /// page, the rule, its impact and the first elements it found.
    async fn axe(&mut self, role: &str) -> Result<()> {
        let path = self.client.current_url().await?;
        let page = format!(
            "{role} {}{}",
            path.path(),
            path.query().map(|q| format!("?{q}")).unwrap_or_default()
        );
        self.client
            .execute(&format!("{}\nreturn typeof axe;", self.axe), Vec::new())
            .await
            .context("inject axe-core")?;
        let violations = self.client.execute_async(AXE_RUN, Vec::new()).await?;
        let Some(violations) = violations.as_array() else {
            bail!("axe-core failed on {page}: {violations}");
        };
        for v in violations {
            self.problems.push(format!(
                "axe on {page}: {} ({}): {}; at {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                v["targets"]
            ));
        }
        self.checked.push(page);
        Ok(())
    }

    /// Saves the visible page as `NN-name.png` (named `role-what`) after checking it with
    /// axe-core; returns the file's name.
    async fn shot(&mut self, name: &str) -> Result<String> {
        let role = name.split('-').next().unwrap_or(name).to_string();
        self.axe(&role).await?;
        self.screenshot(name).await
    }

    /// Saves the visible page as `NN-name.png`, unchecked (a failure's last view).
    async fn screenshot(&mut self, name: &str) -> Result<String> {
        self.step += 1;
        let png = self
            .client
            .screenshot()
            .await
            .context("take a screenshot")?;
        let file = format!("{:02}-{name}.png", self.step);
        let path = self.shots.join(&file);
        std::fs::write(&path, png).with_context(|| format!("write {}", path.display()))?;
        Ok(file)
    }

    /// The current page's path.
    async fn path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_string())
    }

    /// Waits until the browser is on `path` (after a form submission or a redirect).
    async fn wait_for_path(&self, path: &str) -> Result<()> {
        self.wait_for_url(path, |now| now == path).await
    }

    /// Waits until the browser is on a path that starts with `prefix`.
    async fn wait_for_prefix(&self, prefix: &str) -> Result<()> {
        self.wait_for_url(prefix, |now| now.starts_with(prefix))
            .await
    }

    async fn wait_for_url(&self, what: &str, reached: impl Fn(&str) -> bool) -> Result<()> {
        let start = Instant::now();
        loop {
            let now = self.path().await?;
            if reached(&now) {
                return Ok(());
            }
            if start.elapsed() > STEP_TIMEOUT {
                bail!("expected to reach {what}, still on {now}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> Result<String> {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => Ok(element.text().await?),
            Err(e) => bail!("no `{css}` on {}: {e}", self.path().await?),
        }
    }

    /// Waits until an element matching `css` is on the page.
    async fn wait_for(&self, css: &str) -> Result<()> {
        self.client
            .wait()
            .at_most(STEP_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for `{css}`"))?;
        Ok(())
    }

    /// Waits until the text of `css` says `what` (a form's answer replaced the page).
    async fn wait_for_text(&self, css: &str, what: &str) -> Result<String> {
        let start = Instant::now();
        loop {
            if let Ok(text) = self.text(css).await {
                if text.contains(what) {
                    return Ok(text);
                }
            }
            if start.elapsed() > STEP_TIMEOUT {
                bail!("expected `{css}` to say {what:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn count(&self, css: &str) -> Result<usize> {
        Ok(self.client.find_all(Locator::Css(css)).await?.len())
    }

    async fn h1(&self) -> Result<String> {
        self.text("h1").await
    }

    async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let element = self.client.find(Locator::Css(css)).await?;
        element.clear().await?;
        element.send_keys(text).await?;
        Ok(())
    }

    async fn click(&self, css: &str) -> Result<()> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("find `{css}`"))?
            .click()
            .await
            .with_context(|| format!("click `{css}`"))
    }

    async fn js(&self, script: &str) -> Result<Value> {
        Ok(self.client.execute(script, Vec::new()).await?)
    }

    /// Signs in through the login form and checks the header names the user and role.
    async fn sign_in(&mut self, user: &str, role: &str) -> Result<()> {
        self.goto("/login").await?;
        ensure!(self.h1().await? == "Sign in to obc", "not the login page");
        self.fill("#username", user).await?;
        self.fill("#password", &format!("{user}-demo")).await?;
        self.click("form[action='/login'] button[type=submit]")
            .await?;
        self.wait_for_path("/").await?;
        let who = self.text("header .who").await?;
        ensure!(
            who.contains(&format!("{user} ({role}")),
            "signed in as {user}, the header says {who:?}"
        );
        Ok(())
    }

    async fn sign_out(&self) -> Result<()> {
        self.click("header form[action='/logout'] button").await?;
        self.wait_for_path("/login").await?;
        // Signed out for real: a page now sends back to the login form.
        self.goto("/ledger").await?;
        self.wait_for_path("/login").await
    }

    /// Uploads `file` through the form of `kind` on /upload; returns the result page's title.
    async fn upload(&self, kind: &str, file: &Path) -> Result<String> {
        self.goto("/upload").await?;
        let input = self
            .client
            .find(Locator::Css(&format!("#{kind}-file")))
            .await
            .with_context(|| format!("the upload form for {kind}"))?;
        input
            .send_keys(file.to_str().context("a UTF-8 path")?)
            .await?;
        self.click(&format!(
            "form[action='/upload/{kind}'] button[type=submit]"
        ))
        .await?;
        self.wait_for_path(&format!("/upload/{kind}")).await?;
        self.h1().await
    }
}

/// The rows of the table `css` as cell texts.
async fn table_rows(b: &Browser, css: &str) -> Result<Vec<Vec<String>>> {
    let rows = b
        .js(&format!(
            "return Array.from(document.querySelectorAll({:?})).map(tr => \
             Array.from(tr.cells).map(td => td.textContent.trim()));",
            format!("{css} tbody tr")
        ))
        .await?;
    Ok(serde_json::from_value(rows)?)
}

/// The number in a heading like "Sessions (56)".
fn count_in(heading: &str) -> Result<u64> {
    heading
        .rsplit_once('(')
        .and_then(|(_, n)| n.strip_suffix(')'))
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no count in {heading:?}"))
}

async fn admin(b: &mut Browser) -> Result<()> {
    b.sign_in("admin", "admin").await?;
    ensure!(b.h1().await? == "Contracts", "the dashboard");
    let rows = table_rows(b, "main table").await?;
    ensure!(
        rows.iter().any(|r| r[0] == CONTRACT),
        "the dashboard lists {CONTRACT}: {rows:?}"
    );
    b.shot("admin-dashboard").await?;

    b.click(&format!("main a[href='/contracts/{CONTRACT}']"))
        .await?;
    b.wait_for_path(&format!("/contracts/{CONTRACT}")).await?;
    ensure!(b.h1().await?.starts_with(&format!("Contract {CONTRACT}")));
    // The three charts are inline SVG images that the browser lays out at a real size.
    let sizes = b
        .js("return Array.from(document.querySelectorAll('figure svg[role=img], figure svg[role=group]')).map(s => { \
             const r = s.getBoundingClientRect(); \
             return { w: r.width, h: r.height, \
                      title: (s.querySelector('title') || {}).textContent || '', \
                      marks: s.querySelectorAll('rect, path, polyline, line, circle').length }; });")
        .await?;
    let charts = sizes.as_array().context("a list of charts")?;
    ensure!(charts.len() == 3, "three charts, found {sizes}");
    for chart in charts {
        let w = chart["w"].as_f64().unwrap_or(0.0);
        let h = chart["h"].as_f64().unwrap_or(0.0);
        ensure!(
            w > 100.0 && h > 50.0,
            "a chart drawn at a real size: {chart}"
        );
        ensure!(
            !chart["title"].as_str().unwrap_or("").is_empty(),
            "a chart with a title: {chart}"
        );
        ensure!(
            chart["marks"].as_u64().unwrap_or(0) > 3,
            "a chart with marks: {chart}"
        );
    }
    b.js("document.querySelector('.cards').scrollIntoView();")
        .await?;
    b.shot("admin-contract-charts").await?;

    b.click(&format!(
        "main a[href='/contracts/{CONTRACT}/statements/final']"
    ))
    .await?;
    b.wait_for_path(&format!("/contracts/{CONTRACT}/statements/final"))
        .await?;
    ensure!(b.h1().await? == format!("Statement: {CONTRACT}, milestone final"));
    ensure!(
        b.count("main table.students tbody tr").await? == 100,
        "a page of 100 student lines"
    );
    ensure!(
        b.count(&format!(
            "a[href='/contracts/{CONTRACT}/statements/final/finalize']"
        ))
        .await?
            == 1,
        "the admin may finalize the draft"
    );
    // The download links exist and answer with the statement.
    let downloads = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const links = Array.from(document.querySelectorAll('a[href*=\"/download?format=\"]')); \
             Promise.all(links.map(a => fetch(a.href).then(r => r.text().then(t => ({ \
               text: a.textContent.trim(), status: r.status, \
               type: r.headers.get('content-type') || '', start: t.slice(0, 60) }))))) \
             .then(done, e => done(String(e)));",
            Vec::new(),
        )
        .await?;
    let downloads = downloads.as_array().context("download results")?;
    ensure!(downloads.len() == 2, "CSV and JSON links: {downloads:?}");
    for d in downloads {
        ensure!(d["status"] == 200, "a download that works: {d}");
    }
    ensure!(
        downloads.iter().any(
            |d| d["text"] == "Download CSV" && d["type"].as_str().unwrap_or("").contains("csv")
        ),
        "a CSV download: {downloads:?}"
    );
    ensure!(
        downloads.iter().any(|d| d["text"] == "Download JSON"
            && d["type"].as_str().unwrap_or("").contains("json")
            && d["start"].as_str().unwrap_or("").starts_with('{')),
        "a JSON download: {downloads:?}"
    );
    b.shot("admin-statement-final").await?;

    // On a phone: the page fits the screen's width (wide tables scroll inside their box).
    b.client.set_window_size(390, 844).await?;
    b.goto(&format!("/contracts/{CONTRACT}/statements/final"))
        .await?;
    // The page's width and, if it is wider than the screen, the innermost elements whose
    // content sticks out (outside the boxes that scroll sideways on purpose).
    let fit = b
        .js("const w = window.innerWidth; \
             const wide = Array.from(document.querySelectorAll('body *')) \
               .filter(e => !e.closest('.table-wrap') && e.scrollWidth > e.clientWidth + 1 \
                 && e.clientWidth > 0); \
             const innermost = wide.filter(e => !wide.some(o => o !== e && e.contains(o))) \
               .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') \
                 + ' (' + e.scrollWidth + 'px in ' + e.clientWidth + 'px): ' \
                 + e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60)); \
             return { page: document.documentElement.scrollWidth, screen: w, \
                      sticking_out: innermost.slice(0, 5) };")
        .await?;
    let phone = b.shot("admin-statement-phone").await?;
    b.client.set_window_size(1280, 1000).await?;
    if fit["page"].as_u64() > fit["screen"].as_u64() {
        b.problems.push(format!(
            "the statement page is wider than a 390px phone (see {phone}): {fit}"
        ));
    }
    // A new user through the users page: the generated password is shown once.
    b.goto("/users").await?;
    b.fill("#new-username", "browser-auditor").await?;
    b.click("form[action='/users'] button[type=submit]").await?;
    b.wait_for("#secret").await?;
    let users = table_rows(b, "#users").await?;
    ensure!(
        users
            .iter()
            .any(|r| r[0] == "browser-auditor" && r[1] == "admin"),
        "the new user is listed: {users:?}"
    );
    b.shot("admin-users-added").await?;
    axe_tour(b, "admin", &[]).await?;
    statement_workflow(b).await?;
    b.sign_out().await
}

/// The cells of the students' table (or of `table`) whose right edge passes the right edge of
/// `within` (the window when `null`): amounts cut off or scrolled out of sight.
async fn cut_off(b: &Browser, table: &str, within: &str) -> Result<Value> {
    b.js(&format!(
        "const limit = {within} ? document.querySelector({within}).getBoundingClientRect().right \
                                : document.documentElement.clientWidth; \
         return Array.from(document.querySelectorAll({table:?} + ' td.num, ' + {table:?} + ' th.num')) \
           .filter(c => c.getBoundingClientRect().right > limit + 0.5 || c.scrollWidth > c.clientWidth + 1) \
           .slice(0, 5).map(c => c.textContent.trim() + ' at ' + c.getBoundingClientRect().right + 'px');",
        within = if within.is_empty() { "null".to_string() } else { format!("{within:?}") },
    ))
    .await
}

/// The position of the students' table's column whose heading starts with `label`.
async fn column_of(b: &Browser, label: &str) -> Result<usize> {
    let headings: Vec<String> = serde_json::from_value(
        b.js(
            "return Array.from(document.querySelectorAll('table.students thead th')) \
              .map(th => th.textContent.trim());",
        )
        .await?,
    )?;
    headings
        .iter()
        .position(|h| h.starts_with(label))
        .with_context(|| format!("no column {label} in {headings:?}"))
}

/// The admin works with the demo's final statement at 1366px: searches, filters, pages and
/// sorts its students, reads an explanation, confirms the finalization with its amount, and
/// opens the Letter printout; no amount is cut off on the page nor in print width.
async fn statement_workflow(b: &mut Browser) -> Result<()> {
    let page = format!("/contracts/{CONTRACT}/statements/final");
    b.client.set_window_size(1366, 900).await?;
    b.goto(&page).await?;
    let cut = cut_off(b, "table.students", "").await?;
    ensure!(cut == json!([]), "amounts cut off at 1366px: {cut}");
    let cut = cut_off(b, "table.amounts", "").await?;
    ensure!(cut == json!([]), "summary amounts cut off at 1366px: {cut}");
    b.shot("statement-summary-1366").await?;

    // Search by a student's id.
    let first = table_rows(b, "table.students").await?;
    let student = first.first().context("a first row")?[0].clone();
    b.fill("#q", &student).await?;
    b.click("form.filters button[type=submit]").await?;
    b.wait_for_text("p.showing", "matching").await?;
    let rows = table_rows(b, "table.students").await?;
    ensure!(
        rows.len() == 1 && rows[0][0] == student,
        "a search for {student}: {} rows",
        rows.len()
    );
    b.shot("statement-search").await?;

    // Filter by a school, chosen by its name.
    b.goto(&page).await?;
    let school = b
        .client
        .find(Locator::Css("#school option:nth-child(2)"))
        .await?
        .text()
        .await?;
    b.client
        .find(Locator::Css("#school"))
        .await?
        .select_by_label(&school)
        .await?;
    b.click("form.filters button[type=submit]").await?;
    b.wait_for_text("p.showing", "matching").await?;
    let rows = table_rows(b, "table.students").await?;
    let school_column = column_of(b, "School").await?;
    ensure!(
        !rows.is_empty() && rows.iter().all(|r| r[school_column] == school),
        "only {school}'s students: {:?}",
        rows.iter()
            .map(|r| r[school_column].clone())
            .collect::<Vec<_>>()
    );
    b.shot("statement-filter-school").await?;

    // Sort by total (largest first), then the next page keeps that order.
    b.goto(&page).await?;
    b.click("table.students th a[href*='sort=total']").await?;
    b.wait_for("th[aria-sort='descending']").await?;
    let sorted = table_rows(b, "table.students").await?;
    let total_column = column_of(b, "Total").await?;
    let amount = |text: &str| {
        text.replace(['$', ','], "")
            .parse::<f64>()
            .unwrap_or(f64::NAN)
    };
    ensure!(
        sorted
            .windows(2)
            .all(|w| amount(&w[0][total_column]) >= amount(&w[1][total_column])),
        "totals largest first"
    );
    b.click("nav.pager a[href*='page=2']").await?;
    b.wait_for_text("p.showing", "Students 101 to 200 of")
        .await?;
    let next = table_rows(b, "table.students").await?;
    ensure!(
        amount(&next[0][total_column]) <= amount(&sorted[99][total_column]),
        "page 2 continues the order"
    );
    b.shot("statement-sorted-page-2").await?;

    // A student's explanation, from the row's details.
    b.click("table.students tbody tr:first-child details summary")
        .await?;
    b.click("table.students tbody tr:first-child details a")
        .await?;
    b.wait_for("pre.explanation").await?;
    let explanation = b.text("pre.explanation").await?;
    ensure!(
        explanation.contains("attendance_rate") && explanation.contains("4. Amounts"),
        "the explanation of `obc explain`: {explanation}"
    );
    b.shot("statement-explanation").await?;

    // Finalize: a confirmation names the amount; confirming finalizes.
    b.goto(&page).await?;
    b.click(&format!("a[href='{page}/finalize']")).await?;
    b.wait_for_path(&format!("{page}/finalize")).await?;
    let question = b.h1().await?;
    ensure!(
        question.starts_with("Finalize $") && question.ends_with("students?"),
        "{question}"
    );
    ensure!(b
        .text("p.confirm")
        .await?
        .contains("This cannot be undone."));
    b.shot("statement-finalize-confirm").await?;
    b.click("form[action$='/finalize'] button[type=submit]")
        .await?;
    b.wait_for_path(&page).await?;
    let status = b.text("td.status").await?;
    ensure!(status.starts_with("Finalized"), "finalized: {status}");
    b.shot("statement-finalized").await?;

    // The printout: the amounts by school, every student, no amount past the Letter
    // document's width.
    b.goto(&format!("{page}/print")).await?;
    let schools = table_rows(b, ".schools-page table.by-school").await?;
    ensure!(schools.len() == 4, "the demo's 4 schools: {schools:?}");
    ensure!(
        b.count(".students-page table.compact tbody tr").await? > 100,
        "every student in the printout"
    );
    b.client.set_window_size(816, 1056).await?;
    let cut = cut_off(b, ".document table", ".document").await?;
    ensure!(cut == json!([]), "amounts cut off in print width: {cut}");
    b.shot("statement-print").await?;
    let letter = fantoccini::wd::PrintConfiguration::builder()
        .size(fantoccini::wd::PrintSize {
            width: 21.59,
            height: 27.94,
        })
        .shrink_to_fit(false)
        .build()
        .map_err(|e| anyhow::anyhow!("a Letter print configuration: {e}"))?;
    let pdf = b.client.print(letter.clone()).await?;
    std::fs::write(b.shots.join("statement-print.pdf"), pdf)?;

    // One school's printout, from its name: only its students.
    let school = &schools[0][0];
    b.click(".schools-page table.by-school tbody tr:first-child a")
        .await?;
    b.wait_for(".school-heading").await?;
    let rows = table_rows(b, ".students-page table.compact").await?;
    ensure!(
        !rows.is_empty() && rows.iter().all(|r| &r[1] == school),
        "only {school}'s students"
    );
    let cut = cut_off(b, ".document table", ".document").await?;
    ensure!(
        cut == json!([]),
        "amounts cut off in a school's printout: {cut}"
    );
    b.shot("statement-print-school").await?;
    let pdf = b.client.print(letter).await?;
    std::fs::write(b.shots.join("statement-print-school.pdf"), pdf)?;
    b.client.set_window_size(1280, 1000).await?;
    b.goto(&page).await
}

async fn provider(b: &mut Browser, dir: &Path) -> Result<()> {
    b.sign_in("provider", "provider").await?;
    b.shot("provider-dashboard").await?;
    // An enrolled student of the demo, from the provider's own view of the final statement.
    b.goto(&format!("/contracts/{CONTRACT}/statements/final"))
        .await?;
    let href = b
        .client
        .find(Locator::Css(
            "main tbody a[href^='/students/demo-district/']",
        ))
        .await
        .context("a student link on the statement")?
        .attr("href")
        .await?
        .context("the link's href")?;
    let student = href.rsplit('/').next().unwrap_or_default().to_string();
    b.goto(&href).await?;
    b.axe("provider").await?;
    let before = count_in(&b.text("main h2:last-of-type").await?)?;

    // A file with a negative duration on line 3: rejected, every problem listed.
    let bad = dir.join("sessions-bad.csv");
    std::fs::write(
        &bad,
        format!(
            "session_id,student_id,tutor_id,date,minutes,status\n\
             browser-1,{student},T-BROWSER,2025-04-01,30,attended\n\
             browser-2,{student},T-BROWSER,2025-04-03,-5,attended\n"
        ),
    )?;
    let title = b.upload("sessions", &bad).await?;
    ensure!(title == "Upload of sessions: rejected", "title {title:?}");
    let problems = table_rows(b, "#problems").await?;
    ensure!(
        problems
            .iter()
            .any(|r| r.len() == 5 && r[1] == "3" && r[2] == "minutes" && r[3] == "-5"),
        "the report names line 3, column minutes: {problems:?}"
    );
    ensure!(
        b.text("main p.error")
            .await?
            .contains("nothing was imported"),
        "the rejection says nothing was imported"
    );
    b.shot("provider-upload-rejected").await?;

    // The same sessions, fixed: imported.
    let good = dir.join("sessions-good.csv");
    std::fs::write(
        &good,
        format!(
            "session_id,student_id,tutor_id,date,minutes,status\n\
             browser-1,{student},T-BROWSER,2025-04-01,30,attended\n\
             browser-2,{student},T-BROWSER,2025-04-03,30,attended\n"
        ),
    )?;
    let title = b.upload("sessions", &good).await?;
    ensure!(title == "Upload of sessions: imported", "title {title:?}");
    let summary = b.text("main h1 + p").await?;
    ensure!(
        summary.starts_with("2 rows: 2 added"),
        "summary {summary:?}"
    );
    ensure!(b.count("#problems").await? == 0, "no problems listed");
    b.shot("provider-upload-imported").await?;

    // The student's page shows the two new sessions.
    b.goto(&href).await?;
    let after = count_in(&b.text("main h2:last-of-type").await?)?;
    ensure!(
        after == before + 2,
        "sessions of {student}: {before} before, {after} after"
    );
    let sessions = table_rows(b, "main .table-wrap:last-of-type table").await?;
    ensure!(
        sessions
            .iter()
            .filter(|r| r.get(3).is_some_and(|t| t == "T-BROWSER"))
            .count()
            == 2,
        "the uploaded sessions are listed"
    );
    // The dashboard's upload history shows the upload and what it changed.
    b.goto("/").await?;
    let uploads = table_rows(b, "#upload-history").await?;
    ensure!(
        uploads
            .first()
            .is_some_and(|r| r[2].ends_with("sessions-good.csv") && r[3] == "2" && r[4] == "0"),
        "the newest upload added 2 rows: {uploads:?}"
    );
    ensure!(
        b.count("#provider-console svg[role=img]").await? == 1,
        "the sessions-per-week chart"
    );
    ensure!(
        table_rows(b, "#no-shows-by-tutor").await?.len() > 1,
        "no-shows by tutor"
    );
    b.js("document.querySelector('#provider-console').scrollIntoView();")
        .await?;
    b.shot("provider-console").await?;
    axe_tour(b, "provider", &[]).await?;
    b.sign_out().await
}

async fn district(b: &mut Browser) -> Result<()> {
    b.sign_in("district", "district").await?;
    let rows = table_rows(b, "main table").await?;
    ensure!(
        rows.len() == 1 && rows[0][0] == CONTRACT,
        "the district sees its contract only: {rows:?}"
    );
    b.shot("district-dashboard").await?;

    b.goto(&format!("/contracts/{CONTRACT}/statements/final"))
        .await?;
    b.click("main tbody a[href^='/students/demo-district/']")
        .await?;
    b.wait_for_prefix("/students/demo-district/").await?;
    let h1 = b.h1().await?;
    ensure!(h1.starts_with("Student "), "a student page: {h1:?}");
    ensure!(
        b.path().await?.starts_with("/students/demo-district/"),
        "on the student's page"
    );
    b.shot("district-student").await?;

    // Uploads: roster and results, not sessions.
    b.goto("/upload").await?;
    b.axe("district").await?;
    ensure!(b.count("#roster-file").await? == 1 && b.count("#assessments-file").await? == 1);
    ensure!(b.count("#sessions-file").await? == 0, "no sessions form");

    // A student of another district, who exists: refused as if absent.
    b.goto(OTHER_DISTRICT_STUDENT).await?;
    ensure!(
        b.h1().await? == "Not found",
        "refused {OTHER_DISTRICT_STUDENT}"
    );
    let body = b.text("body").await?;
    ensure!(
        !body.contains("2000000:"),
        "the refusal shows nothing of the student"
    );
    b.shot("district-refused-other-district").await?;
    b.goto("/").await?;
    axe_tour(b, "district", &[]).await?;
    b.sign_out().await
}

async fn auditor(b: &mut Browser) -> Result<()> {
    b.sign_in("auditor", "auditor").await?;
    b.shot("auditor-dashboard").await?;
    ensure!(
        b.count("header nav a[href='/upload']").await? == 0,
        "no upload link for the auditor"
    );
    b.click("header nav a[href='/audit']").await?;
    b.wait_for_path("/audit").await?;
    ensure!(b.h1().await? == "Audit log");
    let rows = table_rows(b, "main table").await?;
    ensure!(
        rows.iter()
            .any(|r| r[1] == "provider" && r[2] == "import.sessions"),
        "the provider's upload is in the audit log"
    );
    ensure!(
        rows.iter().any(|r| r[1] == "district" && r[2] == "login"),
        "the district's sign-in is in the audit log"
    );
    b.shot("auditor-audit-log").await?;
    // Filtered to the provider's imports.
    b.fill("#actor", "provider").await?;
    b.fill("#action", "import.").await?;
    b.click("form.filters button[type=submit]").await?;
    let start = Instant::now();
    while !b
        .client
        .current_url()
        .await?
        .query()
        .is_some_and(|q| q.contains("actor=provider"))
    {
        ensure!(
            start.elapsed() < STEP_TIMEOUT,
            "the filter form was not sent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let filtered = table_rows(b, "#audit").await?;
    ensure!(
        !filtered.is_empty()
            && filtered
                .iter()
                .all(|r| r[1] == "provider" && r[2].starts_with("import.")),
        "only the provider's imports: {filtered:?}"
    );
    b.shot("auditor-audit-filtered").await?;

    b.click("header nav a[href='/ledger']").await?;
    b.wait_for_path("/ledger").await?;
    ensure!(b.h1().await? == "Finalized statements");
    let rows = table_rows(b, "main table").await?;
    let milestones: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    ensure!(
        milestones.contains(&"enrollment") && milestones.contains(&"midyear"),
        "the demo's finalized statements: {rows:?}"
    );
    b.shot("auditor-ledger").await?;
    b.click("form[action='/ledger/verify'] button[type=submit]")
        .await?;
    b.wait_for("#verification").await?;
    let outcome = b.text("#verification p").await?;
    ensure!(
        outcome.starts_with("Verified"),
        "the ledger verifies: {outcome:?}"
    );
    b.shot("auditor-ledger-verified").await?;

    // Read-only: the upload page is refused.
    b.goto("/upload").await?;
    ensure!(b.h1().await? == "Not allowed", "the auditor may not upload");
    b.axe("auditor").await?;
    b.goto("/").await?;
    axe_tour(b, "auditor", &[]).await?;
    b.sign_out().await
}

/// The students list and the progress page as district staff work them (issue 10): pages of
/// at most 100 rows, a search, filters and a sort, all plain links and forms.
async fn lists(b: &mut Browser) -> Result<()> {
    b.sign_in("district", "district").await?;
    b.goto(&format!("/contracts/{CONTRACT}")).await?;
    b.click(&format!("main a[href='/contracts/{CONTRACT}/students']"))
        .await?;
    b.wait_for_path(&format!("/contracts/{CONTRACT}/students"))
        .await?;
    ensure!(b
        .h1()
        .await?
        .starts_with(&format!("Students of {CONTRACT}")));
    let rows = "#students-table tbody tr";
    ensure!(b.count(rows).await? == 100, "a first page of 100 students");
    b.shot("lists-students").await?;

    b.click("a[rel=next]").await?;
    b.wait_for("a[rel=prev]").await?;
    ensure!(b.count(rows).await? == 100, "a second page of 100 students");
    let id = b.text("#students-table tbody tr th").await?;
    b.shot("lists-students-page-2").await?;

    b.fill("#q", &id).await?;
    b.click("form.filters button[type=submit]").await?;
    b.wait_for(&format!("#q[value='{id}']")).await?;
    let found = table_rows(b, "#students-table").await?;
    ensure!(
        !found.is_empty() && found.len() < 100,
        "the search finds {id}: {found:?}"
    );
    b.shot("lists-students-search").await?;

    b.goto(&format!("/contracts/{CONTRACT}/progress")).await?;
    let all = count_in(&b.text("#students").await?)?;
    b.js("document.getElementById('factor').value = 'outcome'; \
          document.getElementById('status').value = 'off_track';")
        .await?;
    b.click("form.filters button[type=submit]").await?;
    b.wait_for("option[value=off_track][selected]").await?;
    let off = count_in(&b.text("#students").await?)?;
    ensure!(off < all, "the filter keeps {off} of {all}");
    ensure!(b.count(rows).await? as u64 == off.min(100));
    b.click("#students-table th a[href*='sort=at_risk']")
        .await?;
    b.wait_for("th[aria-sort=ascending]").await?;
    b.js("document.getElementById('students').scrollIntoView();")
        .await?;
    b.shot("lists-progress-filtered-sorted").await?;
    b.goto("/").await?;
    b.sign_out().await
}

/// Pages of the demo contract every signed-in role opens (some answer "not allowed").
const CONTRACT_PAGES: [&str; 5] = [
    "/contracts/demo-math-2025",
    "/contracts/demo-math-2025/students",
    "/contracts/demo-math-2025/statements/midyear",
    "/contracts/demo-math-2025/progress",
    "/contracts/demo-math-2025/meetings",
];

/// Opens every page of the header's menu and of `CONTRACT_PAGES`, then `more`, and checks
/// each with axe-core as `role`.
async fn axe_tour(b: &mut Browser, role: &str, more: &[&str]) -> Result<()> {
    let menu = b
        .js("return Array.from(document.querySelectorAll('header nav a')).map(a => a.getAttribute('href'));")
        .await?;
    let mut pages: Vec<String> = serde_json::from_value(menu)?;
    pages.extend(CONTRACT_PAGES.iter().chain(more).map(|p| p.to_string()));
    for page in pages {
        b.goto(&page).await?;
        b.axe(role).await?;
    }
    // The first meeting of the contract, when the role may see its meetings.
    b.goto(CONTRACT_PAGES[4]).await?;
    let meeting = b
        .js("const a = document.querySelector('main a[href^=\"/meetings/\"]'); return a ? a.getAttribute('href') : null;")
        .await?;
    if let Some(meeting) = meeting.as_str() {
        b.goto(meeting).await?;
        b.axe(role).await?;
    }
    b.goto("/").await
}

async fn walkthrough(b: &mut Browser, dir: &Path) -> Result<()> {
    // Pages need a session; a wrong password is refused with a message.
    b.goto("/").await?;
    b.wait_for_path("/login").await?;
    b.fill("#username", "admin").await?;
    b.fill("#password", "not-the-password").await?;
    b.click("form[action='/login'] button[type=submit]").await?;
    b.wait_for("p.error").await?;
    ensure!(
        b.text("p.error").await? == "Unknown username or wrong password.",
        "a wrong password is refused"
    );
    b.shot("login-refused").await?;

    admin(b).await?;
    provider(b, dir).await?;
    district(b).await?;
    lists(b).await?;
    auditor(b).await
}

#[test]
fn browser_walkthrough_of_every_role() {
    if !browser_installed() {
        return;
    }
    let started = Instant::now();
    let shots = artifacts_dir();

    // A database with the demo and a second district, served on a free port.
    let obc = Obc::new();
    obc.ok(&["init"]);
    obc.ok(&["import", "roster", &example("roster")]);
    let app_port = free_port();
    let listen = format!("127.0.0.1:{app_port}");
    let mut app = Process::spawn(
        "obc serve",
        obc.command(&["serve", "--demo", "--listen", &listen]),
        obc.path("serve.log"),
    );
    let driver_port = free_port();
    let mut command = Command::new(CHROMEDRIVER);
    command.arg(format!("--port={driver_port}"));
    let mut driver = Process::spawn("chromedriver", command, obc.path("chromedriver.log"));
    driver.wait_for_port(driver_port).unwrap();
    app.wait_for_port(app_port).unwrap();
    eprintln!(
        "browser test: app and chromedriver up after {:?}",
        started.elapsed()
    );

    let profile = tempfile::Builder::new()
        .prefix("obc-chromium-")
        .tempdir()
        .expect("a profile folder");
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": CHROMIUM, "args": args }),
    );

    let axe = std::fs::read_to_string(axe_script_path()).expect("read axe-core's script");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome: Result<()> = runtime.block_on(async {
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .context("start Chromium through chromedriver")?;
        eprintln!("browser test: Chromium up after {:?}", started.elapsed());
        // axe-core needs more than the default minute on the 600-row statement page of a
        // busy machine.
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(AXE_TIMEOUT),
                Some(START_TIMEOUT),
                Some(Duration::ZERO),
            ))
            .await
            .context("set the script timeout")?;
        let mut browser = Browser {
            client,
            // localhost, not 127.0.0.1: the session cookie is Secure, which Chrome accepts
            // over plain HTTP on localhost only.
            base: format!("http://localhost:{app_port}"),
            shots: shots.clone(),
            step: 0,
            problems: Vec::new(),
            axe,
            checked: Vec::new(),
        };
        let result = walkthrough(&mut browser, obc.dir()).await;
        eprintln!(
            "browser test: axe-core {AXE_VERSION} checked {} pages:\n{}",
            browser.checked.len(),
            browser.checked.join("\n")
        );
        if let Err(e) = &result {
            let at = browser.client.current_url().await.map(|u| u.to_string());
            eprintln!("browser test failed at {at:?}: {e:#}");
            let _ = browser.screenshot("FAILED").await;
        }
        let _ = browser.client.close().await;
        result?;
        ensure!(
            browser.problems.is_empty(),
            "the walkthrough ended, with problems:\n{}",
            browser.problems.join("\n")
        );
        Ok(())
    });
    drop(driver);
    eprintln!(
        "browser test: done in {:?}; screenshots in {}",
        started.elapsed(),
        shots.display()
    );
    match outcome {
        Ok(()) => remove_failure_shots(&shots),
        Err(e) => panic!("{e:#}\n--- obc serve log (tail) ---\n{}", app.log_tail()),
    }
}
