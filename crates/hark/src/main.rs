//! `hark`: the command-line entry point. Flags, wiring and output only; the
//! work lives in the library crates.

mod client;
mod cmd;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// jemalloc returns freed memory to the system (glibc's per-thread arenas
/// keep hundreds of megabytes after a load); see `cmd::serve`.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Hark: collect, keep, search and tail logs, in one binary.
#[derive(Parser)]
#[command(name = "hark", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded defaults when no --config is given).
    Serve(cmd::serve::ServeArgs),
    /// Run as an edge forwarder: inputs into a disk buffer, sent on to a central Hark.
    Forward(cmd::forward::ForwardArgs),
    /// On the center: enrolment tokens for forwarders, and revocation.
    Forwarder {
        #[command(subcommand)]
        command: cmd::forwarder::ForwarderCommand,
    },
    /// List the forwarders of a running server: status, buffer, drops.
    Forwarders(cmd::forwarder::ForwardersArgs),
    /// List the outputs of a running server and their status, or re-attach a detached one.
    Outputs(cmd::outputs::OutputsArgs),
    /// Search stored events.
    Query(cmd::query::QueryArgs),
    /// Follow matching events live.
    Tail(cmd::tail::TailArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage users of the web UI (local accounts).
    User {
        #[command(subcommand)]
        command: cmd::user::UserCommand,
    },
    /// Sign-in: test the LDAP directory.
    Auth {
        #[command(subcommand)]
        command: cmd::auth::AuthCommand,
    },
    /// Work with configuration files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Send syslog messages: a test sender and load generator.
    Send(cmd::send::SendArgs),
    /// Print the monitors of a running server and their states, problems first.
    Status(cmd::monitor::StatusArgs),
    /// Run one monitor's check now and print the result (states are not changed).
    Check(cmd::monitor::CheckArgs),
    /// Acknowledge a monitor's problem (or remove the acknowledgement).
    Ack(cmd::monitor::AckArgs),
    /// Schedule, list or remove downtimes.
    Downtime {
        #[command(subcommand)]
        command: cmd::monitor::DowntimeCommand,
    },
    /// List alerts (firing ones; --all for recently resolved too) or acknowledge one.
    Alerts(cmd::alert::AlertsArgs),
    /// Silence alerts, list or remove silences.
    Silence {
        #[command(subcommand)]
        command: cmd::alert::SilenceCommand,
    },
    /// List the event console's problems, or acknowledge or close one.
    Problems(cmd::alert::ProblemsArgs),
    /// Print the communication matrix: every port Hark listens on or connects to.
    Ports(cmd::ports::PortsArgs),
    /// Work with notification channels.
    Notify {
        #[command(subcommand)]
        command: cmd::notify::NotifyCommand,
    },
    /// Print the version.
    Version,
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (kept hashed in the data directory).
    Create(cmd::token::CreateArgs),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a configuration file.
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Print the embedded default configuration.
    Default,
}

/// Where to find a running server: shared by `query` and `tail`.
#[derive(Args, Clone, Debug)]
pub struct ConnectArgs {
    /// Server URL, e.g. http://127.0.0.1:8514.
    #[arg(long, env = "HARK_URL")]
    url: Option<String>,
    /// API token.
    #[arg(long, env = "HARK_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Configuration file to take the API address from.
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => cmd::serve::run(args),
        Command::Forward(args) => cmd::forward::run(args),
        Command::Forwarder { command } => cmd::forwarder::run(command),
        Command::Forwarders(args) => cmd::forwarder::list(args),
        Command::Outputs(args) => cmd::outputs::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::Tail(args) => cmd::tail::run(args),
        Command::Token {
            command: TokenCommand::Create(args),
        } => cmd::token::create(args),
        Command::User { command } => cmd::user::run(command),
        Command::Auth { command } => cmd::auth::run(command),
        Command::Config {
            command: ConfigCommand::Check { file },
        } => cmd::config::check(&file),
        Command::Config {
            command: ConfigCommand::Default,
        } => {
            print!("{}", hark_config::DEFAULT_TOML);
            Ok(())
        }
        Command::Send(args) => cmd::send::run(args),
        Command::Ports(args) => cmd::ports::run(args),
        Command::Notify { command } => cmd::notify::run(command),
        Command::Status(args) => cmd::monitor::status(args),
        Command::Check(args) => cmd::monitor::check(args),
        Command::Ack(args) => cmd::monitor::ack(args),
        Command::Downtime { command } => cmd::monitor::downtime(command),
        Command::Alerts(args) => cmd::alert::alerts(args),
        Command::Silence { command } => cmd::alert::silence(command),
        Command::Problems(args) => cmd::alert::problems(args),
        Command::Version => {
            println!("hark {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "hark", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hark: {e:#}");
            ExitCode::FAILURE
        }
    }
}
