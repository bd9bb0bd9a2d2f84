//! How the CLI prints events: text, JSON, NDJSON or CSV.

use std::io::Write;

use clap::ValueEnum;
use hark_server::api::EventJson;

/// Output format of `hark query` and `hark tail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One readable line per event.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header.
    Csv,
}

const CSV_COLUMNS: [&str; 10] = [
    "timestamp",
    "host",
    "app",
    "procid",
    "msgid",
    "facility",
    "severity",
    "message",
    "source",
    "input",
];

/// Writes events one at a time in a streaming format.
pub struct EventWriter<W: Write> {
    format: Format,
    out: W,
    csv: Option<csv::Writer<W>>,
    first: bool,
}

/// An event's value in each of [`CSV_COLUMNS`].
fn csv_row(ev: &EventJson) -> [&str; 10] {
    fn opt(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }
    [
        &ev.timestamp,
        opt(&ev.host),
        opt(&ev.app),
        opt(&ev.procid),
        opt(&ev.msgid),
        opt(&ev.facility),
        opt(&ev.severity),
        &ev.message,
        opt(&ev.source),
        &ev.input,
    ]
}

impl<W: Write> EventWriter<W> {
    /// A writer; for CSV the header is written at once.
    pub fn new(format: Format, out: W) -> anyhow::Result<Self>
    where
        W: Clone,
    {
        let csv = if format == Format::Csv {
            let mut w = csv::Writer::from_writer(out.clone());
            w.write_record(CSV_COLUMNS)?;
            Some(w)
        } else {
            None
        };
        Ok(EventWriter {
            format,
            out,
            csv,
            first: true,
        })
    }

    /// Writes one event (the API's JSON form).
    pub fn write(&mut self, ev: &EventJson) -> anyhow::Result<()> {
        match self.format {
            Format::Text => writeln!(self.out, "{}", text_line(ev))?,
            Format::Ndjson => writeln!(self.out, "{}", serde_json::to_string(ev)?)?,
            Format::Json => {
                let sep = if self.first { "[\n" } else { ",\n" };
                write!(self.out, "{sep}{}", serde_json::to_string(ev)?)?;
            }
            Format::Csv => {
                if let Some(w) = self.csv.as_mut() {
                    w.write_record(csv_row(ev))?;
                }
            }
        }
        self.first = false;
        Ok(())
    }

    /// Ends the output (closes the JSON array, flushes).
    pub fn finish(mut self) -> anyhow::Result<()> {
        if self.format == Format::Json {
            writeln!(self.out, "{}", if self.first { "[]" } else { "\n]" })?;
        }
        if let Some(mut w) = self.csv.take() {
            w.flush()?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Flushes what was written so far (for live output).
    pub fn flush(&mut self) -> anyhow::Result<()> {
        if let Some(w) = self.csv.as_mut() {
            w.flush()?;
        }
        self.out.flush()?;
        Ok(())
    }
}

/// `2026-11-22T05:00:00.123Z fw1 sshd[42]: <err> login failed`
pub fn text_line(ev: &EventJson) -> String {
    let mut line = String::with_capacity(128);
    line.push_str(&ev.timestamp);
    line.push(' ');
    line.push_str(match ev.host.as_deref() {
        None | Some("") => "-",
        Some(h) => h,
    });
    line.push(' ');
    let app = ev.app.as_deref().unwrap_or("");
    if !app.is_empty() {
        line.push_str(app);
        let pid = ev.procid.as_deref().unwrap_or("");
        if !pid.is_empty() {
            line.push('[');
            line.push_str(pid);
            line.push(']');
        }
        line.push_str(": ");
    }
    let sev = ev.severity.as_deref().unwrap_or("");
    if !sev.is_empty() {
        line.push('<');
        line.push_str(sev);
        line.push_str("> ");
    }
    line.push_str(&ev.message);
    line
}
