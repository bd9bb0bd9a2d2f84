//! `GET /api/v1/export`: the whole result of a search as a CSV or NDJSON
//! download.
//!
//! A blocking task pages through the store with cursors and hands each
//! encoded page to the response body through a bounded channel: a client
//! that reads slowly holds the task back (at most [`QUEUED_PAGES`] pages
//! wait), one that leaves ends it. There is no row cap. An error after
//! the first bytes cuts the download short (the client sees an incomplete
//! body, never a partial file presented as whole: the chunked encoding does
//! not end cleanly).

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use hark_event::{Event, EventJson, now_nanos};
use hark_store::{SearchRequest, Store};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::Shared;
use crate::error::ApiError;
use crate::params::SearchParams;

/// Events per page read from the store.
const PAGE: usize = 5_000;
/// Encoded pages that may wait for the client.
const QUEUED_PAGES: usize = 2;
/// The CSV columns; `fields` holds the JSON object of the extra fields.
pub(crate) const CSV_COLUMNS: [&str; 8] = [
    "timestamp",
    "host",
    "app",
    "severity",
    "input",
    "source",
    "message",
    "fields",
];

/// Export parameters: the search's range and query, and the format.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ExportParams {
    /// Query text (`query` is accepted too).
    #[serde(alias = "query")]
    q: Option<String>,
    /// Inclusive start, RFC 3339.
    from: Option<String>,
    /// Exclusive end, RFC 3339.
    to: Option<String>,
    /// Relative start (`15m`, `24h`); ignored when `from` is given.
    since: Option<String>,
    /// `desc` (newest first, the default) or `asc`.
    order: Option<String>,
    /// `csv` (the default) or `ndjson`.
    format: Option<String>,
}

/// The file formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// RFC 4180 CSV with a header row and [`CSV_COLUMNS`].
    Csv,
    /// One event JSON object per line.
    Ndjson,
}

impl Format {
    fn parse(text: Option<&str>) -> Result<Format, ApiError> {
        match text.map(str::trim) {
            None | Some("") | Some("csv") => Ok(Format::Csv),
            Some("ndjson") => Ok(Format::Ndjson),
            Some(other) => Err(ApiError::bad_request(format!(
                "format: must be csv or ndjson, not {other:?}"
            ))),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }
}

/// `GET /api/v1/export?q=…&format=csv|ndjson`.
pub(crate) async fn get(
    State(app): State<Shared>,
    query: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let format = Format::parse(p.format.as_deref())?;
    let search = SearchParams {
        q: p.q,
        from: p.from,
        to: p.to,
        since: p.since,
        order: p.order,
        ..SearchParams::default()
    };
    let mut req = search
        .into_request(now_nanos())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    req.limit = PAGE;
    // The first page is read before answering, so a bad query is a 400.
    let store = app.store.clone();
    let (first, req) = tokio::task::spawn_blocking(move || {
        let first = store.search(&req);
        (first, req)
    })
    .await?;
    let first = first?;

    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(QUEUED_PAGES);
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || pump(&store, req, first, format, &tx));
    let body = Body::from_stream(stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let name = format!(
        "hark-{}.{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Sends every page of the result, from `first` on, until the end, an
/// error, or the client leaving.
fn pump(
    store: &Store,
    mut req: SearchRequest,
    first: hark_store::SearchResponse,
    format: Format,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let mut page = first;
    let mut header = format == Format::Csv;
    loop {
        let chunk = encode(&page.hits, format, header);
        header = false;
        if tx.blocking_send(chunk.map(Bytes::from)).is_err() {
            return;
        }
        let Some(next) = page.next.take() else {
            return;
        };
        req.cursor = Some(next);
        page = match store.search(&req) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "export stopped");
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                return;
            }
        };
    }
}

/// Encodes `events`, after the CSV header row when `header`.
fn encode(events: &[Event], format: Format, header: bool) -> Result<Vec<u8>, std::io::Error> {
    match format {
        Format::Ndjson => {
            let mut out = Vec::with_capacity(events.len() * 256);
            for ev in events {
                serde_json::to_writer(&mut out, &EventJson::from(ev))?;
                out.push(b'\n');
            }
            Ok(out)
        }
        Format::Csv => {
            let mut out = Vec::with_capacity(events.len() * 200);
            if header {
                csv_record(&mut out, CSV_COLUMNS);
            }
            for ev in events {
                let j = EventJson::from(ev);
                let fields = if j.fields.is_empty() {
                    String::new()
                } else {
                    serde_json::Value::Object(j.fields).to_string()
                };
                csv_record(
                    &mut out,
                    [
                        j.timestamp.as_str(),
                        j.host.as_deref().unwrap_or_default(),
                        j.app.as_deref().unwrap_or_default(),
                        j.severity.as_deref().unwrap_or_default(),
                        j.input.as_str(),
                        j.source.as_deref().unwrap_or_default(),
                        j.message.as_str(),
                        fields.as_str(),
                    ],
                );
            }
            Ok(out)
        }
    }
}

/// Appends one CSV record (RFC 4180): fields joined by commas, quoted when
/// they hold a comma, a quote, CR or LF (quotes doubled), ended by CRLF.
fn csv_record<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push(b'"');
            for b in field.bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(field.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_by_rfc_4180() {
        let mut out = Vec::new();
        csv_record(&mut out, ["plain", "a,b", "say \"hi\"", "two\nlines", ""]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        );
    }
}
