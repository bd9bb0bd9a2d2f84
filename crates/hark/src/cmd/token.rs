//! `hark token create`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use hark_server::tokens::{Role, TokenStore};

/// Arguments of `hark token create`.
#[derive(Args)]
pub struct CreateArgs {
    /// Configuration file (its data_dir holds the tokens); defaults otherwise.
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    /// What the token may do.
    #[arg(long, value_enum, default_value_t = RoleArg::Admin)]
    role: RoleArg,
    /// A name to recognise the token by.
    #[arg(long, default_value = "cli")]
    name: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    /// Everything an operator may, and ingest.
    Admin,
    /// Everything a viewer may, and acknowledge, schedule downtimes, run checks.
    Operator,
    /// Search, tail and read monitors and downtimes.
    Viewer,
}

/// Creates a token in the data directory and prints it; works whether or not the server runs.
pub fn create(args: CreateArgs) -> anyhow::Result<()> {
    let cfg = super::config::load(args.config.as_deref())?;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
    let store = TokenStore::open(&cfg.data_dir)
        .with_context(|| format!("cannot open tokens in {}", cfg.data_dir.display()))?;
    let role = match args.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Operator => Role::Operator,
        RoleArg::Viewer => Role::Viewer,
    };
    let secret = store.create(role, &args.name)?;
    println!("{secret}");
    Ok(())
}
