//! `hark alerts`, `hark silence` and `hark problems`: alerts, silences and
//! the event console's problems on a running server.

use std::io::Write;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hark_server::api::{Alert, AlertStatus, Matcher, NewSilence, Phase, Problem, Silence};

use crate::ConnectArgs;
use crate::client::Client;
use crate::cmd::monitor::runtime;

/// Arguments of `hark alerts`.
#[derive(Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    command: Option<AlertsCommand>,
    /// Also list recently resolved alerts.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// What `hark alerts` does besides listing.
#[derive(Subcommand)]
pub enum AlertsCommand {
    /// Acknowledge a firing alert: no reminders follow.
    Ack {
        /// The alert's id (first column of `hark alerts`).
        id: String,
        #[command(flatten)]
        connect: ConnectArgs,
    },
}

/// `hark silence`.
#[derive(Subcommand)]
pub enum SilenceCommand {
    /// Silence alerts whose rule and group values match, for a time.
    Add(SilenceAddArgs),
    /// List silences.
    List {
        #[command(flatten)]
        connect: ConnectArgs,
    },
    /// Remove a silence by id.
    Remove {
        /// The silence's id.
        id: String,
        #[command(flatten)]
        connect: ConnectArgs,
    },
}

/// Arguments of `hark silence add`.
#[derive(Args)]
pub struct SilenceAddArgs {
    /// NAME=VALUE, e.g. rule=ssh_bruteforce or host='web*'; all must match.
    #[arg(long = "match", short = 'm', required = true)]
    matchers: Vec<String>,
    /// How long, from now (2h, 30m).
    #[arg(long, default_value = "2h")]
    duration: String,
    /// Why.
    #[arg(long, default_value = "")]
    comment: String,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Prints the alerts (firing first), or acknowledges one.
pub fn alerts(args: AlertsArgs) -> anyhow::Result<()> {
    let rt = runtime()?;
    if let Some(AlertsCommand::Ack { id, connect }) = args.command {
        let client = Client::from_args(&connect)?;
        let path = format!("/api/v1/alerts/{id}/ack");
        let alert: Alert =
            rt.block_on(client.json(client.request(reqwest::Method::POST, &path)))?;
        println!("{}", alert_line(&alert));
        return Ok(());
    }
    let client = Client::from_args(&args.connect)?;
    let list: Vec<Alert> = rt.block_on(client.json(client.get("/api/v1/alerts")))?;
    let mut out = std::io::stdout().lock();
    let shown: Vec<&Alert> = list
        .iter()
        .filter(|a| args.all || a.status == AlertStatus::Firing)
        .collect();
    if shown.is_empty() {
        writeln!(
            out,
            "no alerts {}",
            if args.all { "" } else { "firing" }.trim_end()
        )?;
    }
    for a in shown {
        writeln!(out, "{}", alert_line(a))?;
    }
    Ok(())
}

fn alert_line(a: &Alert) -> String {
    let status = match a.status {
        AlertStatus::Firing if a.acknowledged.is_some() => "FIRING(ack)",
        AlertStatus::Firing => "FIRING",
        AlertStatus::Resolved => "RESOLVED",
    };
    format!(
        "{}  {status:<11}  {:<8}  since {}  {}",
        a.id,
        a.severity.name(),
        hark_event::format_rfc3339_nanos(a.since),
        a.summary
    )
}

/// Adds, lists or removes silences.
pub fn silence(command: SilenceCommand) -> anyhow::Result<()> {
    let rt = runtime()?;
    match command {
        SilenceCommand::List { connect } => {
            let client = Client::from_args(&connect)?;
            let list: Vec<Silence> = rt.block_on(client.json(client.get("/api/v1/silences")))?;
            let mut out = std::io::stdout().lock();
            for s in &list {
                writeln!(out, "{}", silence_line(s))?;
            }
        }
        SilenceCommand::Remove { id, connect } => {
            let client = Client::from_args(&connect)?;
            let path = format!("/api/v1/silences/{id}");
            rt.block_on(client.send(client.request(reqwest::Method::DELETE, &path)))?;
            println!("silence {id} removed");
        }
        SilenceCommand::Add(args) => {
            let client = Client::from_args(&args.connect)?;
            let body = silence_body(&args)?;
            let s: Silence = rt.block_on(
                client.json(
                    client
                        .request(reqwest::Method::POST, "/api/v1/silences")
                        .json(&body),
                ),
            )?;
            println!("{}", silence_line(&s));
        }
    }
    Ok(())
}

fn silence_body(args: &SilenceAddArgs) -> anyhow::Result<NewSilence> {
    let mut matchers = Vec::new();
    for m in &args.matchers {
        let Some((name, value)) = m.split_once('=') else {
            bail!("--match {m:?}: expected NAME=VALUE, e.g. --match host=web1 or --match rule=ssh");
        };
        matchers.push(Matcher {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
        });
    }
    let length = humantime::parse_duration(&args.duration).with_context(|| {
        format!(
            "--duration {:?}: expected a duration like 2h",
            args.duration
        )
    })?;
    let now = hark_event::now_nanos();
    Ok(NewSilence {
        matchers,
        starts_at: Some(now),
        ends_at: now.saturating_add(i64::try_from(length.as_nanos()).unwrap_or(i64::MAX)),
        comment: args.comment.clone(),
    })
}

fn silence_line(s: &Silence) -> String {
    let matchers: Vec<String> = s
        .matchers
        .iter()
        .map(|m| format!("{}={}", m.name, m.value))
        .collect();
    format!(
        "{}  {}  until {}  by {}  {}",
        s.id,
        matchers.join(" "),
        hark_event::format_rfc3339_nanos(s.ends_at),
        s.created_by,
        s.comment
    )
}

/// Arguments of `hark problems`.
#[derive(Args)]
pub struct ProblemsArgs {
    #[command(subcommand)]
    command: Option<ProblemsCommand>,
    /// Also list recently closed problems.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// What `hark problems` does besides listing.
#[derive(Subcommand)]
pub enum ProblemsCommand {
    /// Acknowledge an open problem.
    Ack {
        /// The problem's id (first column of `hark problems`).
        id: String,
        #[command(flatten)]
        connect: ConnectArgs,
    },
    /// Close an open problem by hand.
    Close {
        /// The problem's id.
        id: String,
        #[command(flatten)]
        connect: ConnectArgs,
    },
}

/// Prints the event console's problems (open first), or acknowledges or closes one.
pub fn problems(args: ProblemsArgs) -> anyhow::Result<()> {
    let rt = runtime()?;
    let act = |id: &str, connect: &ConnectArgs, what: &str| -> anyhow::Result<()> {
        let client = Client::from_args(connect)?;
        let path = format!("/api/v1/problems/{id}/{what}");
        let p: Problem = rt.block_on(client.json(client.request(reqwest::Method::POST, &path)))?;
        println!("{}", problem_line(&p));
        Ok(())
    };
    match &args.command {
        Some(ProblemsCommand::Ack { id, connect }) => return act(id, connect, "ack"),
        Some(ProblemsCommand::Close { id, connect }) => return act(id, connect, "close"),
        None => {}
    }
    let client = Client::from_args(&args.connect)?;
    let list: Vec<Problem> = rt.block_on(client.json(client.get("/api/v1/problems")))?;
    let mut out = std::io::stdout().lock();
    let shown: Vec<&Problem> = list
        .iter()
        .filter(|p| args.all || p.phase != Phase::Closed)
        .collect();
    if shown.is_empty() {
        writeln!(
            out,
            "no problems {}",
            if args.all { "" } else { "open" }.trim_end()
        )?;
    }
    for p in shown {
        writeln!(out, "{}", problem_line(p))?;
    }
    Ok(())
}

fn problem_line(p: &Problem) -> String {
    let key: Vec<String> = p.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let phase = match p.phase {
        Phase::Open => "OPEN",
        Phase::Acknowledged => "ACK",
        Phase::Closed => "CLOSED",
    };
    let mut line = format!(
        "{}  {phase:<6}  {:<7}  x{}  since {}  {}  {}",
        p.id,
        p.state.name(),
        p.count,
        hark_event::format_rfc3339_nanos(p.first),
        key.join(" "),
        p.text
    );
    if let Some(reason) = &p.closed_reason {
        line.push_str(&format!("  ({reason})"));
    }
    line
}
