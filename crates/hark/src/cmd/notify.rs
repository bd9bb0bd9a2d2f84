//! `hark notify test CHANNEL`: sends a test message through a channel of
//! the configuration directly (no running server, no outbox) and prints
//! the server's answer.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

/// The subcommands of `hark notify`.
#[derive(Subcommand)]
pub enum NotifyCommand {
    /// Send a test message through a channel now and print the server's answer.
    Test(TestArgs),
}

/// Arguments of `hark notify test`.
#[derive(Args)]
pub struct TestArgs {
    /// The channel: a `[notify.NAME]` of the configuration.
    channel: String,
    /// Configuration file (TOML); the embedded defaults when absent.
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
}

/// Runs a `hark notify` subcommand.
pub fn run(command: NotifyCommand) -> anyhow::Result<()> {
    match command {
        NotifyCommand::Test(args) => test(args),
    }
}

fn test(args: TestArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cfg = super::config::load(args.config.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let answer = rt.block_on(hark_notify::send_test(&cfg, &args.channel))?;
    println!("{answer}");
    Ok(())
}
