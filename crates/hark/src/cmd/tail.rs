//! `hark tail`: follow matching events live over Server-Sent Events.

use anyhow::Context;
use clap::Args;
use futures_util::StreamExt;

use crate::ConnectArgs;
use crate::client::{Client, api_error};
use crate::cmd::query::LockedStdout;
use crate::output::{EventWriter, Format};
use hark_server::api::TailMessage;

/// Arguments of `hark tail`.
#[derive(Args)]
pub struct TailArgs {
    /// Lucene-style query, e.g. 'severity_code:[0 TO 3]'; empty or * for everything.
    #[arg(default_value = "*")]
    query: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<u64>,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Streams events until interrupted (or `--count` reached).
pub fn run(args: TailArgs) -> anyhow::Result<()> {
    let client = Client::from_args(&args.connect)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(tail(&client, &args))
}

async fn tail(client: &Client, args: &TailArgs) -> anyhow::Result<()> {
    let resp = client
        .get("/api/v1/tail")
        .query(&[("q", &args.query)])
        .header("accept", "text/event-stream")
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {}", client.base))?;
    if !resp.status().is_success() {
        return Err(api_error(resp).await);
    }
    let stdout = std::io::stdout();
    let mut writer = EventWriter::new(args.format, LockedStdout(&stdout))?;
    let mut stream = resp.bytes_stream();
    let mut pending = Vec::new();
    let mut seen = 0u64;
    while let Some(chunk) = stream.next().await {
        pending.extend_from_slice(&chunk.context("the event stream broke")?);
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            let Some(data) = line.strip_prefix(b"data:") else {
                continue;
            };
            let ev = match serde_json::from_slice::<TailMessage>(data) {
                Ok(TailMessage::Event(ev)) => ev,
                // A notice such as {"lagged": n}, or nothing this version knows.
                Ok(TailMessage::Lagged { .. }) | Err(_) => continue,
            };
            writer.write(&ev)?;
            writer.flush()?;
            seen += 1;
            if args.count.is_some_and(|c| seen >= c) {
                return writer.finish();
            }
        }
    }
    writer.finish()
}
