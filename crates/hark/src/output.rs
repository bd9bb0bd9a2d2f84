//! How the CLI prints events: text, JSON, NDJSON or CSV.

use std::io::Write;

use clap::ValueEnum;
use serde_json::Value;

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

fn str_of<'a>(ev: &'a Value, key: &str) -> &'a str {
    ev.get(key).and_then(Value::as_str).unwrap_or("")
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
    pub fn write(&mut self, ev: &Value) -> anyhow::Result<()> {
        match self.format {
            Format::Text => writeln!(self.out, "{}", text_line(ev))?,
            Format::Ndjson => writeln!(self.out, "{ev}")?,
            Format::Json => {
                let sep = if self.first { "[\n" } else { ",\n" };
                write!(self.out, "{sep}{ev}")?;
            }
            Format::Csv => {
                if let Some(w) = self.csv.as_mut() {
                    w.write_record(CSV_COLUMNS.map(|c| match ev.get(c) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(v) => v.to_string(),
                    }))?;
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
pub fn text_line(ev: &Value) -> String {
    let mut line = String::with_capacity(128);
    line.push_str(str_of(ev, "timestamp"));
    line.push(' ');
    line.push_str(match str_of(ev, "host") {
        "" => "-",
        h => h,
    });
    line.push(' ');
    let app = str_of(ev, "app");
    if !app.is_empty() {
        line.push_str(app);
        let pid = str_of(ev, "procid");
        if !pid.is_empty() {
            line.push('[');
            line.push_str(pid);
            line.push(']');
        }
        line.push_str(": ");
    }
    let sev = str_of(ev, "severity");
    if !sev.is_empty() {
        line.push('<');
        line.push_str(sev);
        line.push_str("> ");
    }
    line.push_str(str_of(ev, "message"));
    line
}
