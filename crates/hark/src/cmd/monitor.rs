//! `hark status`, `hark check`, `hark ack` and `hark downtime`: the
//! monitors of a running server, and one check run on the spot.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use hark_server::api::{
    AckRequest, Downtime, MonitorView, NewDowntime, Recurrence, Schedule, State, StateType,
};

use crate::ConnectArgs;
use crate::client::Client;

/// Output of `hark status`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StatusFormat {
    /// A table, problems first.
    Text,
    /// The API's JSON.
    Json,
}

/// Arguments of `hark status`.
#[derive(Args)]
pub struct StatusArgs {
    /// Only monitors with a problem (not OK, UP or PENDING).
    #[arg(long)]
    problems: bool,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = StatusFormat::Text)]
    format: StatusFormat,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Arguments of `hark check`.
#[derive(Args)]
pub struct CheckArgs {
    /// The monitor, as named in the configuration.
    name: String,
    /// Configuration file (the embedded defaults, which have no monitors, when absent).
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `hark ack`.
#[derive(Args)]
pub struct AckArgs {
    /// The monitor.
    name: String,
    /// Why, or what is being done.
    #[arg(long, short = 'm', default_value = "")]
    comment: String,
    /// Keep the acknowledgement until the monitor is OK/UP again.
    #[arg(long)]
    sticky: bool,
    /// Remove the acknowledgement instead.
    #[arg(long)]
    remove: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// `hark downtime` subcommands.
#[derive(Subcommand)]
pub enum DowntimeCommand {
    /// Schedule a downtime (one-off with --start/--end or --duration; recurring with --at).
    Add(DowntimeAddArgs),
    /// List downtimes.
    List {
        #[command(flatten)]
        connect: ConnectArgs,
    },
    /// Remove a downtime by id.
    Remove {
        /// The downtime's id.
        id: u64,
        #[command(flatten)]
        connect: ConnectArgs,
    },
}

/// Arguments of `hark downtime add`.
#[derive(Args)]
pub struct DowntimeAddArgs {
    /// Monitor names, or '*' for all.
    #[arg(required = true)]
    monitors: Vec<String>,
    /// One-off: start (RFC 3339; now when absent).
    #[arg(long)]
    start: Option<String>,
    /// One-off: end (RFC 3339).
    #[arg(long, conflicts_with = "duration")]
    end: Option<String>,
    /// Length (2h, 30m): from --start for a one-off, of each window when recurring.
    #[arg(long)]
    duration: Option<String>,
    /// Recurring: local start time of day, HH:MM.
    #[arg(long, conflicts_with_all = ["start", "end"])]
    at: Option<String>,
    /// Recurring: weekdays (mon,tue,...); every day when absent.
    #[arg(long, value_delimiter = ',', requires = "at")]
    days: Vec<String>,
    /// Recurring: IANA time zone of --at, like Europe/Berlin.
    #[arg(long, default_value = "UTC", requires = "at")]
    time_zone: String,
    /// Why.
    #[arg(long, short = 'm', default_value = "")]
    comment: String,
    #[command(flatten)]
    connect: ConnectArgs,
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Prints the monitors of a running server, problems first.
pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let client = Client::from_args(&args.connect)?;
    let mut monitors: Vec<MonitorView> =
        runtime()?.block_on(client.json(client.get("/api/v1/monitors")))?;
    let configured = monitors.len();
    if args.problems {
        monitors.retain(|m| !matches!(m.state, State::Ok | State::Up | State::Pending));
    }
    monitors.sort_by(|a, b| (rank(a.state), &a.name).cmp(&(rank(b.state), &b.name)));
    let mut out = std::io::stdout().lock();
    match args.format {
        StatusFormat::Json => writeln!(out, "{}", serde_json::to_string(&monitors)?)?,
        StatusFormat::Text if configured == 0 => writeln!(out, "no monitors configured")?,
        StatusFormat::Text => write_table(&mut out, &monitors)?,
    }
    Ok(())
}

/// Order of states in the status table: the worst first.
fn rank(state: State) -> u8 {
    match state {
        State::Crit | State::Down => 0,
        State::Unreachable => 1,
        State::Unknown => 2,
        State::Warn => 3,
        State::Pending => 4,
        State::Ok | State::Up => 5,
    }
}

fn write_table(out: &mut impl Write, monitors: &[MonitorView]) -> anyhow::Result<()> {
    let rows: Vec<[String; 6]> = monitors
        .iter()
        .map(|m| {
            let state = if m.state_type == StateType::Soft {
                format!("{} (soft {}/{})", m.state, m.attempt, m.max_attempts)
            } else {
                m.state.to_string()
            };
            let flags: Vec<&str> = [
                (m.acknowledged, "ack"),
                (m.in_downtime, "downtime"),
                (m.flapping, "flapping"),
                (m.stale, "stale"),
            ]
            .into_iter()
            .filter_map(|(set, flag)| set.then_some(flag))
            .collect();
            [
                m.name.clone(),
                m.kind.clone(),
                m.target.clone(),
                state,
                flags.join(","),
                m.output.clone(),
            ]
        })
        .collect();
    let header = ["NAME", "TYPE", "TARGET", "STATE", "FLAGS", "OUTPUT"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()).take(5) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < 5 {
                s.push_str(&format!("{c:<width$}  ", width = widths[i]));
            } else {
                s.push_str(c);
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(header))?;
    for r in &rows {
        writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]))?;
    }
    Ok(())
}

/// Runs one monitor's check in this process and prints the outcome; the
/// exit code is the monitoring-plugin convention (0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN).
pub fn check(args: CheckArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cfg = super::config::load(args.config.as_deref())?;
    let Some(monitor) = cfg.monitors.get(&args.name) else {
        let known: Vec<&str> = cfg.monitors.keys().map(String::as_str).collect();
        bail!(
            "no monitor named `{}` in the configuration (known: {})",
            args.name,
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = rt.block_on(async {
        let ctx = hark_monitor::checks::CheckContext::new().context("cannot prepare the check")?;
        anyhow::Ok(hark_monitor::checks::run_check(&args.name, monitor, &ctx).await)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&outcome)?)?;
    } else {
        let perf: Vec<String> = outcome
            .perf
            .iter()
            .map(|p| format!("{}={}{}", p.label, p.value, p.unit))
            .collect();
        writeln!(out, "{} {}: {}", args.name, outcome.status, outcome.output)?;
        if !perf.is_empty() {
            writeln!(out, "  {}", perf.join(" "))?;
        }
        writeln!(out, "  took {:.3}s", outcome.duration.as_secs_f64())?;
    }
    out.flush()?;
    let code = match outcome.status {
        hark_monitor::Status::Ok => 0,
        hark_monitor::Status::Warn => 1,
        hark_monitor::Status::Crit => 2,
        hark_monitor::Status::Unknown => 3,
    };
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// Acknowledges a monitor's problem, or removes the acknowledgement.
pub fn ack(args: AckArgs) -> anyhow::Result<()> {
    let client = Client::from_args(&args.connect)?;
    let path = format!("/api/v1/monitors/{}/ack", encode(&args.name));
    let rt = runtime()?;
    if args.remove {
        rt.block_on(client.send(client.request(reqwest::Method::DELETE, &path)))?;
        println!("acknowledgement of {} removed", args.name);
    } else {
        let body = AckRequest {
            comment: args.comment,
            sticky: args.sticky,
            author: None,
        };
        let m: MonitorView =
            rt.block_on(client.json(client.request(reqwest::Method::POST, &path).json(&body)))?;
        println!("{} {} acknowledged", args.name, m.state);
    }
    Ok(())
}

/// Adds, lists or removes downtimes.
pub fn downtime(command: DowntimeCommand) -> anyhow::Result<()> {
    let rt = runtime()?;
    match command {
        DowntimeCommand::List { connect } => {
            let client = Client::from_args(&connect)?;
            let list: Vec<Downtime> = rt.block_on(client.json(client.get("/api/v1/downtimes")))?;
            let mut out = std::io::stdout().lock();
            for d in &list {
                writeln!(out, "{}", downtime_line(d))?;
            }
        }
        DowntimeCommand::Remove { id, connect } => {
            let client = Client::from_args(&connect)?;
            let path = format!("/api/v1/downtimes/{id}");
            rt.block_on(client.send(client.request(reqwest::Method::DELETE, &path)))?;
            println!("downtime {id} removed");
        }
        DowntimeCommand::Add(args) => {
            let client = Client::from_args(&args.connect)?;
            let body = downtime_body(&args)?;
            let d: Downtime = rt.block_on(
                client.json(
                    client
                        .request(reqwest::Method::POST, "/api/v1/downtimes")
                        .json(&body),
                ),
            )?;
            println!("{}", downtime_line(&d));
        }
    }
    Ok(())
}

fn downtime_body(args: &DowntimeAddArgs) -> anyhow::Result<NewDowntime> {
    let secs = |d: &str| -> anyhow::Result<u64> {
        Ok(humantime::parse_duration(d)
            .with_context(|| format!("--duration {d:?}: expected a duration like 2h or 30m"))?
            .as_secs())
    };
    let schedule = if let Some(at) = &args.at {
        let Some(d) = &args.duration else {
            bail!("a recurring downtime (--at) needs --duration, e.g. --duration 2h");
        };
        let weekdays = args
            .days
            .iter()
            .map(|day| {
                day.parse::<chrono::Weekday>().map_err(|_| {
                    anyhow!(
                        "--days: {day:?} is not a weekday; use mon, tue, wed, thu, fri, sat or sun"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Schedule::Recurring(Recurrence {
            weekdays,
            start: at.parse().with_context(|| format!("--at {at:?}"))?,
            duration_secs: secs(d)?,
            time_zone: args.time_zone.parse().map_err(|_| {
                anyhow!(
                    "--time-zone {:?} is not an IANA time zone like Europe/Berlin",
                    args.time_zone
                )
            })?,
        })
    } else {
        let now = chrono::Utc::now();
        let start = match &args.start {
            Some(s) => chrono::DateTime::parse_from_rfc3339(s)
                .with_context(|| {
                    format!("--start {s:?}: expected RFC 3339, like 2026-11-22T22:00:00Z")
                })?
                .with_timezone(&chrono::Utc),
            None => now,
        };
        let end = match (&args.end, &args.duration) {
            (Some(e), _) => chrono::DateTime::parse_from_rfc3339(e)
                .with_context(|| format!("--end {e:?}: expected RFC 3339"))?
                .with_timezone(&chrono::Utc),
            (None, Some(d)) => start + chrono::Duration::seconds(i64::try_from(secs(d)?)?),
            (None, None) => {
                bail!("a downtime needs --end or --duration (or --at for a recurring one)")
            }
        };
        let nanos = |t: chrono::DateTime<chrono::Utc>, flag: &str| {
            t.timestamp_nanos_opt()
                .ok_or_else(|| anyhow!("{flag}: {t} is out of range"))
        };
        Schedule::Once {
            start: nanos(start, "--start")?,
            end: nanos(end, "--end")?,
        }
    };
    Ok(NewDowntime {
        monitors: args.monitors.clone(),
        schedule,
        comment: args.comment.clone(),
        author: String::new(),
    })
}

fn downtime_line(d: &Downtime) -> String {
    let when = match &d.schedule {
        Schedule::Recurring(r) => {
            let days: Vec<String> = r
                .weekdays
                .iter()
                .map(|w| w.to_string().to_ascii_lowercase())
                .collect();
            format!(
                "every {} at {} {} for {}s",
                if days.is_empty() {
                    "day".to_owned()
                } else {
                    days.join(",")
                },
                r.start,
                r.time_zone.name(),
                r.duration_secs
            )
        }
        Schedule::Once { start, end } => format!(
            "{} to {}",
            hark_event::format_rfc3339_nanos(*start),
            hark_event::format_rfc3339_nanos(*end)
        ),
    };
    format!(
        "{}  {}  {}  {}",
        d.id,
        d.monitors.join(","),
        when,
        d.comment
    )
}

/// Percent-encodes a monitor name for a URL path segment.
fn encode(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}
