//! `hark query`: search stored events.

use clap::Args;
use hark_server::api::SearchResponse;

use crate::ConnectArgs;
use crate::client::Client;
use crate::output::{EventWriter, Format};

/// Arguments of `hark query`.
#[derive(Args)]
pub struct QueryArgs {
    /// Lucene-style query, e.g. 'host:fw1 AND "login failed"'; empty or * for everything.
    #[arg(default_value = "*")]
    query: String,
    /// Only events newer than this (15m, 24h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Only events before this time (RFC 3339).
    #[arg(long)]
    to: Option<String>,
    /// Hits to print (at most 10 000; see --all).
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// Print every hit, following the cursor page after page.
    #[arg(long)]
    all: bool,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print only the total number of matches.
    #[arg(long)]
    count: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs the search and prints hits in the chosen format.
pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    let client = Client::from_args(&args.connect)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(query(&client, &args))
}

async fn query(client: &Client, args: &QueryArgs) -> anyhow::Result<()> {
    let page = if args.all { 10_000 } else { args.limit };
    let mut params: Vec<(&str, String)> =
        vec![("q", args.query.clone()), ("limit", page.to_string())];
    for (k, v) in [
        ("since", &args.since),
        ("from", &args.from),
        ("to", &args.to),
    ] {
        if let Some(v) = v {
            params.push((k, v.clone()));
        }
    }
    let stdout = std::io::stdout();
    let mut writer = None;
    let mut cursor: Option<String> = None;
    loop {
        let mut p = params.clone();
        if let Some(c) = &cursor {
            p.push(("cursor", c.clone()));
        }
        let body: SearchResponse = client.json(client.get("/api/v1/search").query(&p)).await?;
        if args.count {
            println!("{}", body.total);
            return Ok(());
        }
        if args.format == Format::Json && !args.all {
            println!("{}", serde_json::to_string_pretty(&body)?);
            return Ok(());
        }
        let w = match writer.as_mut() {
            Some(w) => w,
            None => writer.insert(EventWriter::new(args.format, LockedStdout(&stdout))?),
        };
        for hit in &body.hits {
            w.write(hit)?;
        }
        cursor = body.next;
        if !args.all || cursor.is_none() {
            break;
        }
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(())
}

/// A cloneable handle on stdout (the CSV writer wants its own).
#[derive(Clone, Copy)]
pub struct LockedStdout<'a>(pub &'a std::io::Stdout);

impl std::io::Write for LockedStdout<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().flush()
    }
}
