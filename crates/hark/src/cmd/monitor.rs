//! `hark status`, `hark check`, `hark ack` and `hark downtime`: the
//! monitors of a running server, and one check run on the spot.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

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

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Prints the monitors of a running server, problems first.
pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let client = Client::from_args(&args.connect)?;
    let list = runtime()?.block_on(client.json(client.get("/api/v1/monitors")))?;
    let mut monitors: Vec<Value> = list.as_array().cloned().unwrap_or_default();
    let configured = monitors.len();
    if args.problems {
        monitors.retain(|m| !matches!(str_of(m, "state"), "OK" | "UP" | "PENDING"));
    }
    monitors.sort_by(|a, b| {
        (rank(str_of(a, "state")), str_of(a, "name"))
            .cmp(&(rank(str_of(b, "state")), str_of(b, "name")))
    });
    let mut out = std::io::stdout().lock();
    match args.format {
        StatusFormat::Json => writeln!(out, "{}", Value::Array(monitors))?,
        StatusFormat::Text if configured == 0 => writeln!(out, "no monitors configured")?,
        StatusFormat::Text => write_table(&mut out, &monitors)?,
    }
    Ok(())
}

/// Order of states in the status table: the worst first.
fn rank(state: &str) -> u8 {
    match state {
        "CRIT" | "DOWN" => 0,
        "UNREACHABLE" => 1,
        "UNKNOWN" => 2,
        "WARN" => 3,
        "PENDING" => 4,
        _ => 5,
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn write_table(out: &mut impl Write, monitors: &[Value]) -> anyhow::Result<()> {
    let rows: Vec<[String; 6]> = monitors
        .iter()
        .map(|m| {
            let state = str_of(m, "state");
            let soft = str_of(m, "state_type") == "soft";
            let state = if soft {
                format!(
                    "{state} (soft {}/{})",
                    m["attempt"].as_u64().unwrap_or(0),
                    m["max_attempts"].as_u64().unwrap_or(0)
                )
            } else {
                state.to_owned()
            };
            let mut flags = Vec::new();
            for (key, flag) in [
                ("acknowledged", "ack"),
                ("in_downtime", "downtime"),
                ("flapping", "flapping"),
                ("stale", "stale"),
            ] {
                if m[key].as_bool() == Some(true) {
                    flags.push(flag);
                }
            }
            [
                str_of(m, "name").to_owned(),
                str_of(m, "type").to_owned(),
                str_of(m, "target").to_owned(),
                state,
                flags.join(","),
                str_of(m, "output").to_owned(),
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
        let body = json!({ "comment": args.comment, "sticky": args.sticky });
        let m =
            rt.block_on(client.json(client.request(reqwest::Method::POST, &path).json(&body)))?;
        println!("{} {} acknowledged", args.name, str_of(&m, "state"));
    }
    Ok(())
}

/// Adds, lists or removes downtimes.
pub fn downtime(command: DowntimeCommand) -> anyhow::Result<()> {
    let rt = runtime()?;
    match command {
        DowntimeCommand::List { connect } => {
            let client = Client::from_args(&connect)?;
            let list = rt.block_on(client.json(client.get("/api/v1/downtimes")))?;
            let mut out = std::io::stdout().lock();
            for d in list.as_array().into_iter().flatten() {
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
            let d = rt.block_on(
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

fn downtime_body(args: &DowntimeAddArgs) -> anyhow::Result<Value> {
    let secs = |d: &str| -> anyhow::Result<u64> {
        Ok(humantime::parse_duration(d)
            .with_context(|| format!("--duration {d:?}: expected a duration like 2h or 30m"))?
            .as_secs())
    };
    let schedule = if let Some(at) = &args.at {
        let Some(d) = &args.duration else {
            bail!("a recurring downtime (--at) needs --duration, e.g. --duration 2h");
        };
        json!({
            "type": "recurring",
            "weekdays": args.days,
            "start": at,
            "duration_secs": secs(d)?,
            "time_zone": args.time_zone,
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
        json!({ "type": "once", "start": start.to_rfc3339(), "end": end.to_rfc3339() })
    };
    Ok(json!({
        "monitors": args.monitors,
        "schedule": schedule,
        "comment": args.comment,
    }))
}

fn downtime_line(d: &Value) -> String {
    let monitors: Vec<&str> = d["monitors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let s = &d["schedule"];
    let when = match str_of(s, "type") {
        "recurring" => {
            let days: Vec<&str> = s["weekdays"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "every {} at {} {} for {}s",
                if days.is_empty() {
                    "day".to_owned()
                } else {
                    days.join(",")
                },
                str_of(s, "start"),
                str_of(s, "time_zone"),
                s["duration_secs"].as_u64().unwrap_or(0)
            )
        }
        _ => format!("{} to {}", str_of(s, "start"), str_of(s, "end")),
    };
    format!(
        "{}  {}  {}  {}",
        d["id"].as_u64().unwrap_or(0),
        monitors.join(","),
        when,
        str_of(d, "comment")
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
