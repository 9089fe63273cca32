//! `obc progress`, `obc meeting ...` and `obc report teacher-updates`: progress monitoring and
//! continuous-improvement meetings (SPEC 6, docs/PROGRESS.md). The rules live in
//! `obc_core::progress`, the records and viewer filter in `obc_store`, the loading in
//! `obc_app::progress` (shared with the web app); this file reads arguments, calls and prints.

use crate::Format;
use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use obc_app::progress as app;
use obc_core::csv_text::field;
use obc_core::money::format_cents;
use obc_core::progress::{
    self, ActionItem, ActionStatus, Cadence, Factor, MeetingView, Owner, Side,
};
use obc_store::{Store, Viewer};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `obc progress`.
#[derive(Args)]
pub struct ProgressArgs {
    /// The contract id.
    #[arg(long)]
    contract: String,
    /// The date to judge at (YYYY-MM-DD); sessions and tests after it are ignored. Default:
    /// today.
    #[arg(long)]
    as_of: Option<String>,
    /// table: one row per student by school, then counts by school and factor and the money
    /// at risk; csv: one row per student, then SCHOOL and TOTAL rows; json: everything,
    /// including every check with its figure, threshold and clause.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// List only the students off track on at least one factor (the counts still cover all).
    #[arg(long)]
    off_track: bool,
    /// Write to this file instead of standard output (recorded in the audit log).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Who is looking (meeting records are filtered for them).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewerArg {
    /// The intermediary: everything.
    Intermediary,
    /// The contract's district: everything, district-only notes included.
    District,
    /// The contract's provider: only its students, no district-only notes.
    Provider,
    /// Read-only oversight: no district-only notes.
    Auditor,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OwnerArg {
    District,
    Provider,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SideArg {
    District,
    Provider,
    Intermediary,
    Other,
}

impl SideArg {
    fn side(self) -> Side {
        match self {
            SideArg::District => Side::District,
            SideArg::Provider => Side::Provider,
            SideArg::Intermediary => Side::Intermediary,
            SideArg::Other => Side::Other,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewFormat {
    Table,
    Json,
}

/// `obc meeting ...`: continuous-improvement meetings of a contract.
#[derive(Subcommand)]
pub enum MeetingCommand {
    /// Open a meeting: judge every enrolled student at the meeting's date, store that
    /// snapshot, and print the agenda.
    ///
    /// The agenda lists the students off track by school and factor, what changed since the
    /// previous meeting (newly off track, back on track), the action items still open, and
    /// whether the contract's cadence (a meeting every 14 days) was kept. Meeting records are
    /// never edited: notes get new versions, action items get status changes.
    ///
    ///   obc meeting open --contract mesa-math-2025 --date 2025-02-03 \
    ///       --attendee "district:Ana Ruiz" --attendee "provider:Bo Lee"
    #[command(verbatim_doc_comment)]
    Open {
        /// The contract id.
        #[arg(long)]
        contract: String,
        /// The meeting's date (YYYY-MM-DD), also the date progress is judged at. Default:
        /// today. One meeting per contract and day.
        #[arg(long)]
        date: Option<String>,
        /// SIDE:NAME, SIDE one of district, provider, intermediary, other. Repeatable.
        #[arg(long = "attendee", value_name = "SIDE:NAME")]
        attendees: Vec<String>,
        /// Print the agenda as this viewer sees it.
        #[arg(long, value_enum, default_value_t = ViewerArg::Intermediary)]
        viewer: ViewerArg,
        #[arg(long, value_enum, default_value_t = ViewFormat::Table)]
        format: ViewFormat,
    },
    /// Add an attendee to a meeting.
    Attendee {
        #[arg(long)]
        meeting: i64,
        /// The person's name as the minutes should show it.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        side: SideArg,
    },
    /// Write a note about a student (--student) or the meeting; --replaces edits a note.
    ///
    /// An edit is a new version of the note; earlier versions stay (see `obc meeting show`).
    /// A --district-only note is never shown to the provider or to auditors.
    ///
    ///   obc meeting note --meeting 3 --student 3000105 --text "Misses Monday sessions (sports)"
    ///   obc meeting note --replaces 12 --text "Misses Monday sessions (family)" --district-only
    #[command(verbatim_doc_comment)]
    Note {
        /// The meeting (an edit with --replaces stays in its note's meeting).
        #[arg(
            long,
            required_unless_present = "replaces",
            conflicts_with = "replaces"
        )]
        meeting: Option<i64>,
        /// The student the note is about (enrolled in the meeting's contract).
        #[arg(long, conflicts_with = "replaces")]
        student: Option<String>,
        /// The note (the new version's text with --replaces).
        #[arg(long)]
        text: String,
        /// Hide the note from the provider (and auditors).
        #[arg(long, conflicts_with = "shared")]
        district_only: bool,
        /// With --replaces: show the new version to the provider too.
        #[arg(long, requires = "replaces")]
        shared: bool,
        /// The note this one replaces (the latest version); the visibility is kept unless
        /// --district-only or --shared says otherwise.
        #[arg(long)]
        replaces: Option<i64>,
    },
    /// Record an action item: who (district or provider) does what, by when.
    ///
    ///   obc meeting action --meeting 3 --owner district --due 2025-02-14 \
    ///       --student 3000105 --text "Release 3000105 from 2nd period on Mondays"
    #[command(verbatim_doc_comment)]
    Action {
        #[arg(long)]
        meeting: i64,
        #[arg(long, value_enum)]
        owner: OwnerArg,
        /// Due date (YYYY-MM-DD).
        #[arg(long)]
        due: String,
        /// What is to be done.
        #[arg(long)]
        text: String,
        /// The student the item is about, if any.
        #[arg(long)]
        student: Option<String>,
    },
    /// Close an action item as done (or --dropped); the status change is a new record.
    Close {
        /// The action item's id (`obc meeting show` lists them).
        #[arg(long)]
        item: i64,
        /// Closed without being done (no longer needed).
        #[arg(long)]
        dropped: bool,
        /// What was done, or why it was dropped.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reopen a closed action item.
    Reopen {
        #[arg(long)]
        item: i64,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Show a meeting as a viewer sees it: agenda, attendees, notes, action items.
    Show {
        #[arg(long)]
        meeting: i64,
        #[arg(long, value_enum, default_value_t = ViewerArg::Intermediary)]
        viewer: ViewerArg,
        #[arg(long, value_enum, default_value_t = ViewFormat::Table)]
        format: ViewFormat,
    },
    /// List a contract's meetings, check the cadence and count open action items.
    List {
        /// The contract id.
        #[arg(long)]
        contract: String,
        /// The date to check the cadence at (YYYY-MM-DD). Default: today.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = ViewFormat::Table)]
        format: ViewFormat,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Csv,
    Html,
    Both,
}

/// `obc report ...`: reports written to files.
#[derive(Subcommand)]
pub enum ReportCommand {
    /// One short summary per student for the student's teachers: sessions this week,
    /// attendance to date, latest score. Weeks run Monday to Sunday.
    ///
    /// Writes teacher-updates-<contract>-<monday>.csv and .html (printable: one card per
    /// student, one school per page) into --out. Students enrolled on some day of the week
    /// are listed. The export is recorded in the audit log.
    ///
    ///   obc report teacher-updates --contract mesa-math-2025 --week 2025-02-05 --out reports/
    #[command(verbatim_doc_comment)]
    TeacherUpdates {
        /// The contract id.
        #[arg(long)]
        contract: String,
        /// Any day of the week (YYYY-MM-DD).
        #[arg(long)]
        week: String,
        /// The folder to write to (created if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = ReportFormat::Both)]
        format: ReportFormat,
    },
    /// Session verification: the contract's sessions marked `attended` on a day the district
    /// recorded the student absent from school, to review before paying for them (vendor
    /// self-reporting without checks was the failure of the NCLB-era tutoring programs).
    ///
    /// Needs the district's daily school attendance (`obc import attendance FILE`); days
    /// without an attendance row are not checked. Prints how many sessions are flagged, then
    /// each one: student, session, tutor, date, minutes (sorted by student, then date).
    ///
    ///   obc import attendance school_attendance.csv
    ///   obc report session-checks --contract mesa-math-2025
    ///   obc report session-checks --contract mesa-math-2025 --format csv > to_review.csv
    #[command(verbatim_doc_comment)]
    SessionChecks {
        /// The contract id.
        #[arg(long)]
        contract: String,
        /// table: a summary line, then one row per flagged session; csv: one row per flagged
        /// session with a header; json: the summary and the sessions.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

fn parse_date(flag: &str, text: &str) -> Result<time::Date> {
    obc_core::model::parse_user_date(text).map_err(|why| anyhow!("{flag} {text}: {why}"))
}

fn date_or_today(flag: &str, text: Option<&str>) -> Result<time::Date> {
    match text {
        Some(t) => parse_date(flag, t),
        None => Ok(time::OffsetDateTime::now_utc().date()),
    }
}

/// `obc progress`.
pub async fn show_progress(store: &Store, actor: &str, args: &ProgressArgs) -> Result<()> {
    let cv = store.contract(&args.contract).await?;
    let as_of = date_or_today("--as-of", args.as_of.as_deref())?;
    let mut p = app::compute_progress(store, &cv, as_of).await?;
    if args.off_track {
        app::retain_off_track(&mut p);
    }
    let text = match args.format {
        Format::Table => p.to_table(),
        Format::Csv => p.to_csv(),
        Format::Json => p.to_json(),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            store
                .audit(
                    actor,
                    "export.progress",
                    &format!("contract:{}", p.contract_id),
                    &format!(
                        "as of {}, {} students, to {}",
                        p.as_of,
                        p.students.len(),
                        path.display()
                    ),
                )
                .await?;
            eprintln!(
                "Wrote the progress of {} students as of {} to {}",
                p.students.len(),
                p.as_of,
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}

async fn viewer_for(store: &Store, contract_id: &str, v: ViewerArg) -> Result<Viewer> {
    Ok(match v {
        ViewerArg::Intermediary => Viewer::Intermediary,
        ViewerArg::Auditor => Viewer::Auditor,
        ViewerArg::District => {
            Viewer::District(store.contract(contract_id).await?.contract.district)
        }
        ViewerArg::Provider => {
            Viewer::Provider(store.contract(contract_id).await?.contract.provider)
        }
    })
}

fn parse_attendee(text: &str) -> Result<(String, Side)> {
    app::parse_attendee(text).map_err(|e| anyhow!("--attendee {e}"))
}

/// `obc meeting ...`.
pub async fn meeting(store: &Store, actor: &str, cmd: &MeetingCommand) -> Result<()> {
    match cmd {
        MeetingCommand::Open {
            contract,
            date,
            attendees,
            viewer,
            format,
        } => {
            let attendees = attendees
                .iter()
                .map(|a| parse_attendee(a))
                .collect::<Result<Vec<_>>>()?;
            let held_on = date_or_today("--date", date.as_deref())?;
            let (m, p) = app::open_meeting(store, actor, contract, held_on, &attendees).await?;
            eprintln!(
                "Opened meeting {} of {} on {}: {} students judged, {} off track on a factor, {} at risk",
                m.id,
                contract,
                m.held_on,
                p.totals.students,
                p.totals.off_track_any,
                format_cents(p.totals.at_risk)
            );
            let v = viewer_for(store, contract, *viewer).await?;
            print_view(&store.meeting_view(m.id, &v).await?, *format)
        }
        MeetingCommand::Attendee {
            meeting,
            name,
            side,
        } => {
            let a = store
                .add_attendee(actor, *meeting, name, side.side())
                .await?;
            println!(
                "Attendee {} added to meeting {meeting}: {} ({})",
                a.id,
                a.name,
                a.side.as_str()
            );
            Ok(())
        }
        MeetingCommand::Note {
            meeting,
            student,
            text,
            district_only,
            shared,
            replaces,
        } => {
            let note = match replaces {
                Some(old) => {
                    let visibility = match (district_only, shared) {
                        (true, _) => Some(true),
                        (_, true) => Some(false),
                        _ => None,
                    };
                    store
                        .edit_meeting_note(actor, *old, text, visibility)
                        .await?
                }
                None => {
                    let m = meeting.expect("clap requires --meeting without --replaces");
                    store
                        .add_meeting_note(actor, m, student.as_deref(), text, *district_only)
                        .await?
                }
            };
            println!(
                "Note {} (version {}) of meeting {}{}{}",
                note.id,
                note.version,
                note.meeting_id,
                note.student_id
                    .as_deref()
                    .map(|s| format!(", student {s}"))
                    .unwrap_or_default(),
                if note.district_only {
                    ", district-only"
                } else {
                    ""
                }
            );
            Ok(())
        }
        MeetingCommand::Action {
            meeting,
            owner,
            due,
            text,
            student,
        } => {
            let owner = match owner {
                OwnerArg::District => Owner::District,
                OwnerArg::Provider => Owner::Provider,
            };
            let due = parse_date("--due", due)?;
            let item = store
                .add_action_item(actor, *meeting, student.as_deref(), text, owner, due)
                .await?;
            println!(
                "Action item {} of meeting {}: {} by {}",
                item.id,
                item.meeting_id,
                item.owner.as_str(),
                item.due_on
            );
            Ok(())
        }
        MeetingCommand::Close {
            item,
            dropped,
            note,
        } => {
            let status = if *dropped {
                ActionStatus::Dropped
            } else {
                ActionStatus::Done
            };
            let i = store.set_action_status(actor, *item, status, note).await?;
            println!("Action item {} is {}", i.id, i.status.as_str());
            Ok(())
        }
        MeetingCommand::Reopen { item, note } => {
            let i = store
                .set_action_status(actor, *item, ActionStatus::Open, note)
                .await?;
            println!("Action item {} is {}", i.id, i.status.as_str());
            Ok(())
        }
        MeetingCommand::Show {
            meeting,
            viewer,
            format,
        } => {
            let m = store.meeting(*meeting).await?;
            let v = viewer_for(store, &m.contract_id, *viewer).await?;
            print_view(&store.meeting_view(*meeting, &v).await?, *format)
        }
        MeetingCommand::List {
            contract,
            as_of,
            format,
        } => list(store, contract, as_of.as_deref(), *format).await,
    }
}

async fn list(
    store: &Store,
    contract: &str,
    as_of: Option<&str>,
    format: ViewFormat,
) -> Result<()> {
    let as_of = date_or_today("--as-of", as_of)?;
    let list = app::meeting_list(store, contract, &Viewer::Intermediary, as_of).await?;
    if format == ViewFormat::Json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let (meetings, cadence, open) = (list.meetings, list.cadence, list.open_action_items);
    let as_of_text = as_of.to_string();
    let mut s = String::new();
    let _ = writeln!(s, "Meetings of {contract}:");
    if meetings.is_empty() {
        let _ = writeln!(s, "  none yet (obc meeting open --contract {contract})");
    }
    for m in &meetings {
        let _ = writeln!(
            s,
            "  #{:<4} {}  opened by {} at {}",
            m.id, m.held_on, m.opened_by, m.opened_at
        );
    }
    s.push_str(&cadence_text(&cadence));
    let overdue = open.iter().filter(|i| i.overdue_on(&as_of_text)).count();
    let _ = writeln!(s, "Open action items: {} ({overdue} overdue)", open.len());
    for i in &open {
        let _ = writeln!(s, "  {}", item_text(i, &as_of_text));
    }
    print!("{s}");
    Ok(())
}

fn cadence_text(c: &Cadence) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "Cadence (a meeting every {} days from {}), checked {}: ",
        c.every_days, c.starts, c.as_of
    );
    if c.overdue {
        let _ = write!(s, "OVERDUE, ");
    }
    let _ = write!(
        s,
        "last meeting {}",
        c.last_meeting.as_deref().unwrap_or("none")
    );
    match &c.next_due {
        Some(d) => {
            let _ = writeln!(s, ", next due {d}");
        }
        None => {
            let _ = writeln!(s, ", none due before the period ends");
        }
    }
    if c.missed.is_empty() {
        let _ = writeln!(s, "  no missed meeting");
    }
    for g in &c.missed {
        let _ = writeln!(
            s,
            "  MISSED {} meeting{}: none from {} to {} ({} days)",
            g.missed,
            if g.missed == 1 { "" } else { "s" },
            g.from,
            g.to,
            g.days
        );
    }
    s
}

fn item_text(i: &ActionItem, today: &str) -> String {
    format!(
        "#{} [{}] due {}{} {}{} ({}{})",
        i.id,
        i.owner.as_str(),
        i.due_on,
        if i.overdue_on(today) { " OVERDUE" } else { "" },
        i.student_id
            .as_deref()
            .map(|s| format!("student {s}: "))
            .unwrap_or_default(),
        i.text,
        i.status.as_str(),
        i.status_note
            .as_deref()
            .filter(|n| !n.is_empty())
            .map(|n| format!(": {n}"))
            .unwrap_or_default()
    )
}

fn print_view(v: &MeetingView, format: ViewFormat) -> Result<()> {
    if format == ViewFormat::Json {
        println!("{}", serde_json::to_string_pretty(v)?);
        return Ok(());
    }
    print!("{}", agenda(v));
    Ok(())
}

/// The agenda and minutes of a meeting as text.
fn agenda(v: &MeetingView) -> String {
    let m = &v.meeting;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Meeting {} of contract {} (version {}), held {}; opened by {} at {}; seen as {}",
        m.id, m.contract_id, m.contract_version, m.held_on, m.opened_by, m.opened_at, v.viewer
    );
    s.push_str(&cadence_text(&v.cadence));
    let attendees: Vec<String> = v
        .attendees
        .iter()
        .map(|a| format!("{} ({})", a.name, a.side.as_str()))
        .collect();
    let _ = writeln!(
        s,
        "Attendees: {}",
        if attendees.is_empty() {
            "none recorded".to_string()
        } else {
            attendees.join(", ")
        }
    );
    let off_any = v
        .snapshot
        .rows
        .iter()
        .filter(|r| {
            Factor::ALL
                .iter()
                .any(|f| r.mark(*f).status == progress::Status::OffTrack)
        })
        .count();
    let at_risk: rust_decimal::Decimal = v.snapshot.rows.iter().map(|r| r.at_risk).sum();
    let _ = writeln!(
        s,
        "\n1. Off track, by school and factor: {off_any} of {} students off track on a factor; {} of contingent pay at risk if nothing changes",
        v.snapshot.rows.len(),
        format_cents(at_risk)
    );
    for g in &v.off_track {
        let _ = writeln!(
            s,
            "  {} / {} ({}):",
            g.school_id,
            g.factor.as_str(),
            g.students.len()
        );
        for (id, why) in &g.students {
            let _ = writeln!(s, "    {id:<12} {why}");
        }
    }
    match &v.changes {
        None => {
            let _ = writeln!(
                s,
                "\n2. Changes: this is the contract's first meeting, nothing to compare with"
            );
        }
        Some(c) => {
            let _ = writeln!(
                s,
                "\n2. Changes since the previous meeting ({}): {} newly off track, {} back on track, {} no longer judged, {} still off track",
                c.since,
                c.newly_off_track.len(),
                c.back_on_track.len(),
                c.no_longer_judged.len(),
                c.still_off_track
            );
            for (title, list) in [
                ("newly off track", &c.newly_off_track),
                ("back on track", &c.back_on_track),
                ("no longer judged", &c.no_longer_judged),
            ] {
                if list.is_empty() {
                    continue;
                }
                let _ = writeln!(s, "  {title}:");
                for ch in list {
                    let _ = writeln!(
                        s,
                        "    {} / {} {:<12} {}",
                        ch.school_id,
                        ch.factor.as_str(),
                        ch.student_id,
                        ch.summary
                    );
                }
            }
        }
    }
    let _ = writeln!(
        s,
        "\n3. Action items open when the meeting opened: {}",
        v.carried_items.len()
    );
    for i in &v.carried_items {
        let _ = writeln!(s, "  {}", item_text(i, &m.held_on));
    }
    let _ = writeln!(s, "\n4. Notes: {}", v.notes.len());
    for n in &v.notes {
        let _ = writeln!(
            s,
            "  #{} v{} {}{} by {}: {}",
            n.id,
            n.version,
            n.student_id
                .as_deref()
                .map_or_else(|| "meeting".to_string(), |x| format!("student {x}")),
            if n.district_only {
                " [district-only]"
            } else {
                ""
            },
            n.author,
            n.text
        );
    }
    let _ = writeln!(
        s,
        "\n5. Action items from this meeting: {}",
        v.new_items.len()
    );
    for i in &v.new_items {
        let _ = writeln!(s, "  {}", item_text(i, &m.held_on));
    }
    s
}

/// `obc report ...`.
pub async fn report(store: &Store, actor: &str, cmd: &ReportCommand) -> Result<()> {
    match cmd {
        ReportCommand::SessionChecks { contract, format } => {
            session_checks(store, contract, *format).await
        }
        ReportCommand::TeacherUpdates {
            contract,
            week,
            out,
            format,
        } => {
            let cv = store.contract(contract).await?;
            let week = parse_date("--week", week)?;
            let report = app::teacher_updates(store, &cv, week).await?;
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            let stem = format!("teacher-updates-{}-{}", contract, report.week_start);
            let mut written: Vec<PathBuf> = Vec::new();
            let mut write = |ext: &str, text: String| -> Result<()> {
                let path = out.join(format!("{stem}.{ext}"));
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                written.push(path);
                Ok(())
            };
            if matches!(format, ReportFormat::Csv | ReportFormat::Both) {
                write("csv", report.to_csv())?;
            }
            if matches!(format, ReportFormat::Html | ReportFormat::Both) {
                write("html", report.to_html())?;
            }
            let names: Vec<String> = written.iter().map(|p| display(p)).collect();
            store
                .audit(
                    actor,
                    "export.teacher_updates",
                    &format!("contract:{contract}"),
                    &format!(
                        "week {} to {}, {} students, {}",
                        report.week_start,
                        report.week_end,
                        report.updates.len(),
                        names.join(", ")
                    ),
                )
                .await?;
            println!(
                "Teacher updates for the week of {} to {}: {} students",
                report.week_start,
                report.week_end,
                report.updates.len()
            );
            for n in names {
                println!("  {n}");
            }
            Ok(())
        }
    }
}

/// `obc report session-checks`.
async fn session_checks(store: &Store, contract: &str, format: Format) -> Result<()> {
    let checks = obc_app::sessions_to_review(store, contract).await?;
    match format {
        Format::Json => {
            let sessions: Vec<_> = checks
                .flagged
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "student_id": f.student_id,
                        "session_id": f.session_id,
                        "tutor_id": f.tutor_id,
                        "date": f.date.to_string(),
                        "minutes": f.minutes,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "contract_id": checks.contract_id,
                "district_id": checks.district_id,
                "provider_id": checks.provider_id,
                "school_attendance_days": checks.attendance_days,
                "flagged": checks.flagged.len(),
                "sessions": sessions,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Csv => {
            if checks.attendance_days == 0 {
                eprintln!("{}", no_attendance_message(&checks));
            }
            println!("student_id,session_id,tutor_id,date,minutes");
            for f in &checks.flagged {
                println!(
                    "{},{},{},{},{}",
                    field(&f.student_id),
                    field(&f.session_id),
                    field(&f.tutor_id),
                    f.date,
                    f.minutes
                );
            }
        }
        Format::Table => {
            if checks.attendance_days == 0 {
                println!("{}", no_attendance_message(&checks));
                return Ok(());
            }
            let n = checks.flagged.len();
            println!(
                "Session checks for {} ({} with {}, {} student-days of school attendance): \
                 {n} session{} marked attended on a day the student was absent from school{}",
                checks.contract_id,
                checks.provider_id,
                checks.district_id,
                checks.attendance_days,
                if n == 1 { "" } else { "s" },
                if n == 0 { "" } else { " (to review)" },
            );
            if n > 0 {
                println!(
                    "{:<16} {:<20} {:<16} {:<10} {:>7}",
                    "student", "session", "tutor", "date", "minutes"
                );
                for f in &checks.flagged {
                    println!(
                        "{:<16} {:<20} {:<16} {:<10} {:>7}",
                        f.student_id,
                        f.session_id,
                        f.tutor_id,
                        f.date.to_string(),
                        f.minutes
                    );
                }
            }
        }
    }
    Ok(())
}

fn no_attendance_message(checks: &obc_app::SessionChecks) -> String {
    format!(
        "No school attendance uploaded for district {}: no session of {} can be checked yet. \
         Upload it with `obc import attendance FILE` (student_id,date,present).",
        checks.district_id, checks.contract_id
    )
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
