//! `hark forwarder …` on the center: enrolment tokens, revocation, and the
//! list of enrolled forwarders. They work on the data directory's files,
//! whether or not the server runs.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use hark_uplink::ca::CenterCa;
use hark_uplink::enroll::{Enrolment, UPLINK_DIR};
use hark_uplink::groups::GroupConfigs;

/// `hark forwarder …`.
#[derive(Subcommand)]
pub enum ForwarderCommand {
    /// Print a one-time enrolment token for a forwarder of `--group`.
    EnrollToken(EnrollTokenArgs),
    /// Revoke a forwarder: its certificate is refused from its next request on.
    Revoke(RevokeArgs),
    /// The central configuration of a group, which its forwarders pull.
    #[command(subcommand)]
    Config(GroupConfigCommand),
}

/// `hark forwarder config …`.
#[derive(Subcommand)]
pub enum GroupConfigCommand {
    /// Print the group's configuration (TOML).
    Get(GroupConfigGetArgs),
    /// Validate a TOML file (standard input when absent or `-`) and make it the group's configuration.
    Set(GroupConfigSetArgs),
}

/// Arguments of `hark forwarder config get`.
#[derive(Args)]
pub struct GroupConfigGetArgs {
    /// Configuration file (its data_dir holds the groups' configurations).
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
    /// The group.
    group: String,
}

/// Arguments of `hark forwarder config set`.
#[derive(Args)]
pub struct GroupConfigSetArgs {
    /// Configuration file (its data_dir holds the groups' configurations).
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
    /// The group.
    group: String,
    /// The TOML file: `[inputs.*]` tables and `[forward]` buffer_max, overflow, batch_events.
    file: Option<PathBuf>,
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
        ForwarderCommand::Config(GroupConfigCommand::Get(args)) => config_get(args),
        ForwarderCommand::Config(GroupConfigCommand::Set(args)) => config_set(args),
    }
}

fn config_get(args: GroupConfigGetArgs) -> anyhow::Result<()> {
    let cfg = super::config::load(args.config.as_deref())?;
    match GroupConfigs::new(&cfg.data_dir).get(&args.group)? {
        Some(document) => {
            print!("{}", document.text);
            Ok(())
        }
        None => anyhow::bail!("group `{}` has no central configuration", args.group),
    }
}

fn config_set(args: GroupConfigSetArgs) -> anyhow::Result<()> {
    use std::io::Read;
    let cfg = super::config::load(args.config.as_deref())?;
    let text = match args.file.as_deref() {
        Some(path) if path != std::path::Path::new("-") => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the standard input")?;
            text
        }
    };
    let document = GroupConfigs::new(&cfg.data_dir).put(&args.group, text)?;
    println!(
        "group {} configuration version {}",
        args.group, document.version
    );
    Ok(())
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
    // The version the forwarder runs, marked when the center holds another.
    let group_config = |f: &serde_json::Value, health: &serde_json::Value| {
        let running = health
            .get("group_config_version")
            .and_then(serde_json::Value::as_str)
            .filter(|v| !v.is_empty());
        let current = f.get("group_config").and_then(serde_json::Value::as_str);
        match (running, current) {
            (None, None) => "-".to_owned(),
            (Some(r), Some(c)) if r == c => r.to_owned(),
            (r, c) => format!("{} (center {})", r.unwrap_or("-"), c.unwrap_or("-")),
        }
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
            "GROUP CONFIG",
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
            group_config(f, &health),
        ]);
    }
    let widths: Vec<usize> = (0..9)
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
