//! `hark forwarder …` on the center: enrolment tokens, revocation, and the
//! list of enrolled forwarders. They work on the data directory's files,
//! whether or not the server runs.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use hark_uplink::ca::CenterCa;
use hark_uplink::enroll::{Enrolment, UPLINK_DIR};

/// `hark forwarder …`.
#[derive(Subcommand)]
pub enum ForwarderCommand {
    /// Print a one-time enrolment token for a forwarder of `--group`.
    EnrollToken(EnrollTokenArgs),
    /// Revoke a forwarder: its certificate is refused from its next request on.
    Revoke(RevokeArgs),
}

/// Arguments of `hark forwarder enroll-token`.
#[derive(Args)]
pub struct EnrollTokenArgs {
    /// Configuration file (its data_dir holds the uplink's CA and tokens).
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
    /// The group the forwarder joins.
    #[arg(long)]
    group: String,
    /// How long the token may be used, like 1h or 30m.
    #[arg(long, default_value = "1h")]
    ttl: String,
}

/// Arguments of `hark forwarder revoke`.
#[derive(Args)]
pub struct RevokeArgs {
    /// Configuration file (its data_dir holds the forwarder registry).
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
    /// The forwarder's name.
    name: String,
}

/// Runs a `hark forwarder` command.
pub fn run(command: ForwarderCommand) -> anyhow::Result<()> {
    match command {
        ForwarderCommand::EnrollToken(args) => enroll_token(args),
        ForwarderCommand::Revoke(args) => revoke(args),
    }
}

fn open(config: Option<&std::path::Path>) -> anyhow::Result<(hark_config::Config, Enrolment)> {
    let cfg = super::config::load(config)?;
    let enrolment = Enrolment::open(&cfg.data_dir)
        .with_context(|| format!("cannot open the uplink files in {}", cfg.data_dir.display()))?;
    Ok((cfg, enrolment))
}

fn enroll_token(args: EnrollTokenArgs) -> anyhow::Result<()> {
    let ttl = humantime::parse_duration(&args.ttl)
        .with_context(|| format!("--ttl {}: expected a duration like 1h or 30m", args.ttl))?;
    let (cfg, enrolment) = open(args.config.as_deref())?;
    let ca = CenterCa::open(&cfg.data_dir.join(UPLINK_DIR))?;
    let token = enrolment.create_token(&ca, &args.group, ttl)?;
    println!("{token}");
    Ok(())
}

fn revoke(args: RevokeArgs) -> anyhow::Result<()> {
    let (_, enrolment) = open(args.config.as_deref())?;
    if enrolment.revoke(&args.name)? {
        println!("revoked {}", args.name);
        Ok(())
    } else {
        anyhow::bail!(
            "no enrolled forwarder `{}` that is not revoked already",
            args.name
        )
    }
}

/// Arguments of `hark forwarders`.
#[derive(Args)]
pub struct ForwardersArgs {
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connect: crate::ConnectArgs,
}

/// Prints the forwarders of a running server: status, buffer and drops.
pub fn list(args: ForwardersArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let client = crate::client::Client::from_args(&args.connect)?;
    let forwarders: Vec<serde_json::Value> =
        super::monitor::runtime()?.block_on(client.json(client.get("/api/v1/forwarders")))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&forwarders)?)?;
        return Ok(());
    }
    if forwarders.is_empty() {
        writeln!(out, "no forwarders enrolled")?;
        return Ok(());
    }
    let text = |v: &serde_json::Value, key: &str| match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "-".to_owned(),
        Some(other) => other.to_string(),
    };
    let mut rows = vec![
        [
            "NAME",
            "GROUP",
            "STATUS",
            "LAST SEEN",
            "BUFFER",
            "OLDEST",
            "DROPPED",
            "VERSION",
        ]
        .map(String::from),
    ];
    for f in &forwarders {
        let health = f.get("health").cloned().unwrap_or_default();
        let oldest = health
            .get("oldest_event_age_seconds")
            .and_then(serde_json::Value::as_f64)
            .map_or("-".to_owned(), |s| format!("{s:.0}s"));
        rows.push([
            text(f, "name"),
            text(f, "group"),
            text(f, "status"),
            text(f, "last_seen"),
            text(&health, "buffer_events"),
            oldest,
            text(&health, "dropped"),
            text(&health, "version"),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}
