//! `hark ports`: the communication matrix of the effective configuration,
//! as a table, as firewall rules, or checked against this host.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use hark_matrix::Format;

/// Arguments of `hark ports`.
#[derive(Args)]
pub struct PortsArgs {
    /// Configuration file (TOML); the embedded defaults when absent.
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
    /// Output format: a table, or firewall rules allowing exactly this traffic.
    #[arg(long, short = 'o', default_value = "table", value_parser = format_parser())]
    format: Format,
    /// Check each row instead: can each port be bound, can each peer be
    /// reached? Prints OK or FAIL with the reason (as a table or JSON) and
    /// exits with 1 when a check fails.
    #[arg(long)]
    check: bool,
}

fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::ALL.iter().map(|f| f.name()))
        .try_map(|name| name.parse::<Format>())
}

/// Prints the matrix, or checks it.
pub fn run(args: PortsArgs) -> anyhow::Result<()> {
    let cfg = super::config::load(args.config.as_deref())?;
    let flows = hark_matrix::matrix(&cfg);
    if !args.check {
        print!("{}", hark_matrix::render(&flows, args.format));
        return Ok(());
    }
    if !matches!(args.format, Format::Table | Format::Json) {
        bail!(
            "--check prints a table or JSON, not {}; use --format table or --format json",
            args.format
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let results = rt.block_on(hark_matrix::check(&flows));
    let failed = results.iter().filter(|r| !r.ok).count();
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print!("{}", hark_matrix::check_table(&results));
        println!(
            "\n{} of {} checks passed",
            results.len() - failed,
            results.len()
        );
    }
    if failed > 0 {
        bail!("{failed} of {} checks failed", results.len());
    }
    Ok(())
}
