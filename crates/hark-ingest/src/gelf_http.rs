//! GELF over HTTP, as Graylog's GELF HTTP input takes it: `POST /gelf` with
//! one GELF JSON object as the body, plain or gzip/zlib-compressed.
//!
//! The answer is `202 Accepted` once the event is durable in the WAL, so a
//! sender that retries on anything else loses nothing. A body that is not a
//! GELF object is answered `400` with the reason (and counted as a
//! malformed frame); one larger than [`MAX_DOCUMENT`] bytes, compressed or
//! not, `413`; an encoding Hark cannot read, `415`; while storage cannot
//! write (a full disk), `507` with `Retry-After` and the cause; a store
//! that is closing, `503`.
//!
//! Connections go through the shared accept loop (connection limit,
//! counters); each is served by hyper's HTTP/1.1 with keep-alive, closed
//! when no request head arrives within the input's `idle_timeout`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hark_proto::gelf::{GelfError, decompress, gelf_to_event};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

use hark_event::sink::SinkError;

use crate::batch::{Batch, Submitted};
use crate::gelf::{MAX_DOCUMENT, malformed};
use crate::stream::{Conn, Handler, Io};
use crate::{InputContext, telemetry};

/// The path GELF senders post to (Graylog's, and graypy's default).
pub(crate) const PATH: &str = "/gelf";

/// Serves GELF HTTP connections.
#[derive(Clone)]
pub(crate) struct GelfHttp;

/// What every request of one connection shares.
struct Sender {
    ctx: InputContext,
    peer: SocketAddr,
}

impl Handler for GelfHttp {
    async fn serve<S: Io>(&self, io: S, conn: Conn) {
        let Conn { peer, idle, ctx } = conn;
        let shutdown = ctx.shutdown.clone();
        let name = ctx.name.clone();
        let router = Router::new()
            .route(PATH, post(receive))
            .with_state(Arc::new(Sender { ctx, peer }));
        let mut http = http1::Builder::new();
        // Senders like graypy close their side right after the request
        // without reading the answer: the request is still served.
        http.timer(TokioTimer::new())
            .header_read_timeout(idle)
            .half_close(true);
        let served = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(router));
        tokio::pin!(served);
        let result = tokio::select! {
            r = served.as_mut() => r,
            _ = shutdown.cancelled() => {
                // Finish the request in progress (its event may be on its way
                // to durability), then close.
                served.as_mut().graceful_shutdown();
                served.await
            }
        };
        if let Err(e) = result {
            tracing::debug!(input = %name, %peer, "HTTP connection ended: {e}");
        }
    }
}

/// `POST /gelf`.
async fn receive(State(sender): State<Arc<Sender>>, headers: HeaderMap, body: Body) -> Response {
    let Sender { ctx, peer } = &*sender;
    if let Err(reason) = check_encoding(&headers) {
        return refuse(ctx, *peer, StatusCode::UNSUPPORTED_MEDIA_TYPE, reason);
    }
    // A length announced over the limit is refused before a byte is read.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_DOCUMENT as u64) {
        return too_large(ctx);
    }
    let body = match axum::body::to_bytes(body, MAX_DOCUMENT).await {
        Ok(b) => b,
        Err(e) if is_length_limit(&e) => return too_large(ctx),
        Err(e) => {
            let reason = format!("cannot read the request body: {e}");
            return refuse(ctx, *peer, StatusCode::BAD_REQUEST, reason);
        }
    };
    // The first bytes tell the compression: senders' headers are not to be
    // trusted (graypy announces "gzip,deflate" and sends zlib).
    let json = match decompress(&body, MAX_DOCUMENT) {
        Ok(j) => j,
        Err(GelfError::TooLarge { .. }) => return too_large(ctx),
        Err(e) => return refuse(ctx, *peer, StatusCode::BAD_REQUEST, e.to_string()),
    };
    let source = peer.to_string();
    let ev = gelf_to_event(&json, &ctx.parse_context(&source));
    if let Some(reason) = ev.parse_error.clone() {
        // Nobody to tell on UDP and TCP, so the mapper keeps such input as
        // a flagged event; over HTTP the sender hears why and can fix it.
        return refuse(ctx, *peer, StatusCode::BAD_REQUEST, reason);
    }
    // While storage cannot write, the sender hears so at once and keeps the event.
    if let Some(e) = ctx.sink.health().as_error() {
        return unavailable(&e);
    }
    // Stored in a task of its own, so that a sender hanging up mid-request
    // cannot cancel the append half-way.
    let ctx = ctx.clone();
    let stored = tokio::spawn(async move {
        let mut batch = Batch::new();
        batch.push_event(&ctx, ev);
        match batch.submit(&ctx).await {
            Submitted::Receipt(pending) => pending.durable().await.map(|_| ()),
            Submitted::Empty => Ok(()),
            Submitted::Refused(e) => Err(e),
        }
    });
    match stored.await {
        Ok(Ok(())) => StatusCode::ACCEPTED.into_response(),
        Ok(Err(e)) => unavailable(&e),
        Err(_) => unavailable(&SinkError::ShuttingDown),
    }
}

/// The answer while the event cannot be stored: `507` with `Retry-After`
/// when storage cannot write (the cause is named), `503` when shutting down.
fn unavailable(e: &SinkError) -> Response {
    let status = match e {
        SinkError::Unavailable { .. } => StatusCode::INSUFFICIENT_STORAGE,
        SinkError::Full | SinkError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut response = error(
        status,
        format!("the event could not be stored ({e}); send it again later"),
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static(crate::RETRY_AFTER_SECS),
    );
    response
}

/// Whether reading the body stopped at the size limit.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Refuses `Content-Encoding` values other than gzip, deflate and identity.
fn check_encoding(headers: &HeaderMap) -> Result<(), String> {
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let text = value
            .to_str()
            .map_err(|_| "Content-Encoding is not ASCII text".to_owned())?;
        for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let known = ["gzip", "x-gzip", "deflate", "identity"]
                .iter()
                .any(|k| token.eq_ignore_ascii_case(k));
            if !known {
                return Err(format!(
                    "Content-Encoding {token:?} is not supported; send the body plain, gzip or deflate (zlib)"
                ));
            }
        }
    }
    Ok(())
}

/// A body (or its decompressed form) over the limit: dropped as oversize.
fn too_large(ctx: &InputContext) -> Response {
    telemetry::dropped(&ctx.name, "oversize", 1);
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("a GELF message may be at most {MAX_DOCUMENT} bytes, compressed or not"),
    )
}

/// A body that cannot be a GELF message: counted, logged (rate-limited), answered.
fn refuse(ctx: &InputContext, peer: SocketAddr, status: StatusCode, reason: String) -> Response {
    malformed(ctx, peer, &reason);
    error(status, reason)
}

/// `{"error": reason}` with `status`.
fn error(status: StatusCode, reason: String) -> Response {
    (status, axum::Json(serde_json::json!({ "error": reason }))).into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::testing::{PATIENCE, Rig};

    fn post(body: &[u8], extra_headers: &str) -> Vec<u8> {
        let mut req = format!(
            "POST /gelf HTTP/1.1\r\nHost: hark\r\nContent-Length: {}\r\n{extra_headers}\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        req
    }

    /// Reads one response (headers and a Content-Length body) as text.
    async fn response<R: tokio::io::AsyncRead + Unpin>(rd: &mut R) -> String {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\r\n\r\n") {
            rd.read_exact(&mut byte).await.unwrap();
            got.push(byte[0]);
        }
        let head = String::from_utf8(got).unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_owned)
            })
            .map_or(0, |v| v.trim().parse().unwrap());
        let mut body = vec![0u8; len];
        rd.read_exact(&mut body).await.unwrap();
        head + &String::from_utf8(body).unwrap()
    }

    #[tokio::test]
    async fn accepted_only_once_durable_and_malformed_bodies_hear_why() {
        let mut rig = Rig::new("gelf_http");
        let (client, server) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(GelfHttp.serve(server, rig.conn()));
        let (mut rd, mut wr) = tokio::io::split(client);

        let doc = br#"{"version":"1.1","host":"web1","short_message":"hello","_user":"bob"}"#;
        wr.write_all(&post(doc, "")).await.unwrap();
        assert_eq!(rig.written(1).await, 1);
        // Written, not yet durable: no answer.
        let mut first = [0u8; 1];
        let early = tokio::time::timeout(Duration::from_millis(300), rd.read(&mut first)).await;
        assert!(early.is_err(), "answered before durability");
        rig.open_gate();
        let r = tokio::time::timeout(PATIENCE, response(&mut rd))
            .await
            .unwrap();
        assert!(r.starts_with("HTTP/1.1 202 Accepted\r\n"), "{r}");

        // Same connection (kept alive): bodies that are no GELF message.
        for (body, headers, status, reason) in [
            (&b"{not json"[..], "", "400", "invalid JSON"),
            (
                &br#"{"host":"web1"}"#[..],
                "",
                "400",
                "missing short_message",
            ),
            (&b"\x1f\x8bnot gzip"[..], "", "400", "gzip"),
            (&doc[..], "Content-Encoding: br\r\n", "415", "not supported"),
        ] {
            wr.write_all(&post(body, headers)).await.unwrap();
            let r = tokio::time::timeout(PATIENCE, response(&mut rd))
                .await
                .unwrap();
            assert!(r.starts_with(&format!("HTTP/1.1 {status} ")), "{r}");
            assert!(r.contains(reason), "{r}");
        }
        assert_eq!(rig.written_now(), 0, "refused bodies are not stored");
        drop((rd, wr));
        tokio::time::timeout(PATIENCE, server)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_with_413() {
        let mut rig = Rig::new("gelf_http");
        rig.open_gate();
        let (client, server) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(GelfHttp.serve(server, rig.conn()));
        let (mut rd, mut wr) = tokio::io::split(client);
        let head = format!(
            "POST /gelf HTTP/1.1\r\nHost: hark\r\nContent-Length: {}\r\n\r\n",
            MAX_DOCUMENT + 1
        );
        wr.write_all(head.as_bytes()).await.unwrap();
        let r = tokio::time::timeout(PATIENCE, response(&mut rd))
            .await
            .unwrap();
        assert!(r.starts_with("HTTP/1.1 413 "), "{r}");
        assert!(r.contains(&MAX_DOCUMENT.to_string()), "{r}");
        drop((rd, wr));
        tokio::time::timeout(PATIENCE, server)
            .await
            .unwrap()
            .unwrap();

        // Chunked, so no length is announced: refused once the limit is passed.
        let (client, server) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(GelfHttp.serve(server, rig.conn()));
        let (mut rd, mut wr) = tokio::io::split(client);
        let sender = tokio::spawn(async move {
            wr.write_all(
                b"POST /gelf HTTP/1.1\r\nHost: hark\r\nTransfer-Encoding: chunked\r\n\r\n",
            )
            .await?;
            let chunk = vec![b' '; 1 << 20];
            for _ in 0..=MAX_DOCUMENT >> 20 {
                wr.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
                wr.write_all(&chunk).await?;
                wr.write_all(b"\r\n").await?;
            }
            Ok::<_, std::io::Error>(wr)
        });
        let r = tokio::time::timeout(PATIENCE, response(&mut rd))
            .await
            .unwrap();
        assert!(r.starts_with("HTTP/1.1 413 "), "{r}");
        assert_eq!(rig.written_now(), 0);
        drop(rd);
        sender.abort();
        tokio::time::timeout(PATIENCE, server)
            .await
            .unwrap()
            .unwrap();
    }

    fn headers(encoding: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, encoding.parse().unwrap());
        h
    }

    #[test]
    fn known_encodings_pass_and_others_are_named() {
        assert!(check_encoding(&HeaderMap::new()).is_ok());
        assert!(check_encoding(&headers("gzip,deflate")).is_ok());
        assert!(check_encoding(&headers("GZIP")).is_ok());
        assert!(check_encoding(&headers("identity")).is_ok());
        let e = check_encoding(&headers("gzip, br")).unwrap_err();
        assert!(e.contains("\"br\""), "{e}");
    }
}
