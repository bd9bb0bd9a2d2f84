//! `hark user add|passwd|list|remove`: local users of the web UI, edited in
//! `users.json` of the configured data directory, so they work whether or
//! not the server runs (a running server sees the change at its next request).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use hark_auth::users::UserStore;
use hark_server::identity::Role;

/// The subcommands of `hark user`.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is asked for (or read as one line from stdin).
    Add(AddArgs),
    /// Set a user's password; the user's sessions end.
    Passwd(NameArgs),
    /// List the users.
    List(ConfigArg),
    /// Remove a user; the user's sessions end.
    Remove(NameArgs),
}

/// `--config`.
#[derive(Args)]
pub struct ConfigArg {
    /// Configuration file (its data_dir holds the users); defaults otherwise.
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
}

/// Arguments of `hark user add`.
#[derive(Args)]
pub struct AddArgs {
    /// The user name (1 to 64 printable characters).
    name: String,
    /// What the user may do.
    #[arg(long, value_enum)]
    role: RoleArg,
    #[command(flatten)]
    config: ConfigArg,
}

/// A user name and `--config`.
#[derive(Args)]
pub struct NameArgs {
    /// The user name.
    name: String,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    /// Everything, including users and ingest.
    Admin,
    /// A viewer that also acknowledges, schedules downtimes and silences, runs checks.
    Operator,
    /// Search, tail and read monitors, alerts and problems.
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Operator => Role::Operator,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

/// Runs a `hark user` subcommand.
pub fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(args) => {
            let users = open(&args.config)?;
            if users.get(&args.name)?.is_some() {
                bail!("user `{}` exists already", args.name);
            }
            let password = read_new_password()?;
            let user = users.add(&args.name, args.role.into(), &password)?;
            println!("added user {} ({})", user.name, user.role);
        }
        UserCommand::Passwd(args) => {
            let users = open(&args.config)?;
            if users.get(&args.name)?.is_none() {
                bail!("no user named `{}`", args.name);
            }
            let password = read_new_password()?;
            users.set_password(&args.name, &password)?;
            println!("password of {} changed; their sessions end", args.name);
        }
        UserCommand::List(config) => {
            let users = open(&config)?;
            println!("{:<24} {:<9} CREATED", "NAME", "ROLE");
            for u in users.list()? {
                println!(
                    "{:<24} {:<9} {}",
                    u.name,
                    u.role,
                    u.created_at.format("%Y-%m-%d %H:%M:%SZ")
                );
            }
        }
        UserCommand::Remove(args) => {
            let users = open(&args.config)?;
            if !users.remove(&args.name)? {
                bail!("no user named `{}`", args.name);
            }
            println!("removed user {}; their sessions end", args.name);
        }
    }
    Ok(())
}

fn open(config: &ConfigArg) -> anyhow::Result<UserStore> {
    let cfg = super::config::load(config.config.as_deref())?;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
    UserStore::open(&cfg.data_dir)
        .with_context(|| format!("cannot open users in {}", cfg.data_dir.display()))
}

/// The new password: asked twice without echo on a terminal, else one line of stdin.
fn read_new_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ").context("cannot read the password")?;
        let again =
            rpassword::prompt_password("password again: ").context("cannot read the password")?;
        if first != again {
            bail!("the passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            bail!("no password on stdin");
        }
        Ok(password)
    }
}
