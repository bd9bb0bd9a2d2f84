//! `hark outputs`: the outputs of a running server and their status, and
//! `hark outputs reattach NAME` for one that was detached.

use std::collections::BTreeMap;
use std::io::Write;

use clap::{Args, Subcommand};
use serde::Deserialize;

use crate::ConnectArgs;
use crate::client::Client;

/// Arguments of `hark outputs`.
#[derive(Args)]
pub struct OutputsArgs {
    #[command(subcommand)]
    command: Option<OutputsCommand>,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// What `hark outputs` does besides listing.
#[derive(Subcommand)]
pub enum OutputsCommand {
    /// Start a detached output again, from the newest event (what was
    /// appended while it was detached is not sent).
    Reattach {
        /// The output's name (`[outputs.NAME]`).
        name: String,
        #[command(flatten)]
        connect: ConnectArgs,
    },
}

/// An output's status as the API gives it.
#[derive(Debug, Deserialize, serde::Serialize)]
struct Status {
    state: String,
    lag_events: u64,
    delivered: u64,
    failed_attempts: u64,
    last_error: Option<String>,
}

/// Lists the outputs, or re-attaches one.
pub fn run(args: OutputsArgs) -> anyhow::Result<()> {
    let rt = super::monitor::runtime()?;
    if let Some(OutputsCommand::Reattach { name, connect }) = args.command {
        let client = Client::from_args(&connect)?;
        let path = format!("/api/v1/outputs/{name}/reattach");
        let status: Status =
            rt.block_on(client.json(client.request(reqwest::Method::POST, &path)))?;
        println!("{name} re-attached: {}", status.state);
        return Ok(());
    }
    let client = Client::from_args(&args.connect)?;
    let outputs: BTreeMap<String, Status> =
        rt.block_on(client.json(client.get("/api/v1/outputs")))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&outputs)?)?;
        return Ok(());
    }
    if outputs.is_empty() {
        writeln!(out, "no outputs configured")?;
        return Ok(());
    }
    let width = outputs
        .keys()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(
        out,
        "{:<width$}  {:<9}  {:>10}  {:>10}  {:>8}  LAST ERROR",
        "NAME", "STATE", "LAG", "DELIVERED", "FAILED"
    )?;
    for (name, s) in &outputs {
        writeln!(
            out,
            "{name:<width$}  {:<9}  {:>10}  {:>10}  {:>8}  {}",
            s.state,
            s.lag_events,
            s.delivered,
            s.failed_attempts,
            s.last_error.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}
