//! The acknowledged and structured protocols of `hark send`: RELP (a window
//! of unacknowledged frames), Beats (windows of JSON events), GELF (UDP,
//! chunked when large, NUL-delimited TCP, or HTTP `POST /gelf` waiting for
//! each `202`) and SNMPv2c traps.

use std::net::SocketAddr;
use std::str::FromStr;

use anyhow::{Context, bail};
use bytes::BytesMut;
use futures_util::StreamExt;
use hark_proto::gelf::{GelfMessage, datagrams};
use hark_proto::lumberjack::{AckDecoder, AckProgress, BeatsClient};
use hark_proto::relp::{ClientEvent, RelpClient, RelpCodec};
use hark_proto::snmp::{Oid, Trap, Value, VarBind, encode_trap};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use super::{Generator, pace};

/// RELP frames sent before waiting for their replies.
pub const RELP_WINDOW: usize = 128;
/// Events per Beats window.
pub const BEATS_WINDOW: u64 = 512;
/// GELF datagrams larger than this are chunked.
const GELF_DATAGRAM: usize = 8192;
/// Private-enterprise OIDs of the test trap and its message varbind.
const TRAP_OID: &str = "1.3.6.1.4.1.8072.9999.1";
const MESSAGE_OID: &str = "1.3.6.1.4.1.8072.9999.2";

/// The next server frame of a RELP session, as the client reads it.
async fn relp_event<R: AsyncRead + Unpin>(
    replies: &mut FramedRead<R, RelpCodec>,
    client: &mut RelpClient,
) -> anyhow::Result<ClientEvent> {
    let frame = replies
        .next()
        .await
        .context("the server closed the RELP session")?
        .context("bad RELP reply")?;
    Ok(client.on_frame(frame)?)
}

/// Sends messages `first..=last` over one RELP session.
pub async fn relp<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    msgs: &mut Generator<'_>,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    let (rd, mut wr) = tokio::io::split(io);
    let mut replies = FramedRead::new(rd, RelpCodec::default());
    let mut client = RelpClient::new("hark-send", RELP_WINDOW);
    let mut out = BytesMut::new();
    client.open(&mut out)?;
    wr.write_all(&out).await?;
    match relp_event(&mut replies, &mut client).await? {
        ClientEvent::Opened { .. } => {}
        other => bail!("unexpected RELP reply to open: {other:?}"),
    }
    let total = last - first + 1;
    let (mut sent, mut acked) = (0u64, 0u64);
    while acked < total {
        out.clear();
        while sent < total && client.can_send() {
            msgs.render(first + sent);
            client.send(&msgs.buf, &mut out)?;
            sent += 1;
        }
        if !out.is_empty() {
            wr.write_all(&out).await?;
        }
        match relp_event(&mut replies, &mut client).await? {
            ClientEvent::Acked { .. } => acked += 1,
            other => bail!("unexpected RELP reply: {other:?}"),
        }
    }
    out.clear();
    client.close(&mut out)?;
    wr.write_all(&out).await?;
    // The close reply; a serverclose after it is fine.
    let _ = relp_event(&mut replies, &mut client).await;
    Ok(total)
}

/// Sends messages `first..=last` as Beats JSON events, window by window.
pub async fn beats<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    msgs: &mut Generator<'_>,
    host: &str,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    let (rd, mut wr) = tokio::io::split(io);
    let mut acks = FramedRead::new(rd, AckDecoder);
    let mut client = BeatsClient::new(None);
    let mut n = first;
    let mut out = BytesMut::new();
    let mut docs = Vec::new();
    while n <= last {
        let count = (last - n + 1).min(BEATS_WINDOW);
        docs.clear();
        for _ in 0..count {
            docs.push(
                serde_json::json!({
                    "@timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "message": msgs.text(n),
                    "host": {"name": host},
                    "agent": {"type": "hark-send"},
                    "fields": {"n": n},
                })
                .to_string(),
            );
            n += 1;
        }
        out.clear();
        client.write_window(&docs, &mut out)?;
        wr.write_all(&out).await?;
        loop {
            let ack = acks
                .next()
                .await
                .context("the server closed the connection before acknowledging")?
                .context("bad Beats reply")?;
            if client.on_ack(ack)? == AckProgress::Complete {
                break;
            }
        }
    }
    wr.shutdown().await.ok();
    Ok(last - first + 1)
}

fn gelf_doc(msgs: &mut Generator<'_>, host: &str, severity: u8, n: u64) -> Vec<u8> {
    GelfMessage {
        host,
        short_message: &msgs.text(n),
        full_message: None,
        timestamp: None,
        level: Some(severity),
        additional: &[("n", n.into())],
    }
    .to_json()
}

/// Sends messages `first..=last` as GELF over TCP, NUL-delimited.
pub async fn gelf_tcp<S: AsyncWrite + Unpin>(
    io: S,
    msgs: &mut Generator<'_>,
    host: &str,
    severity: u8,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    let mut w = tokio::io::BufWriter::with_capacity(256 * 1024, io);
    for n in first..=last {
        let doc = gelf_doc(msgs, host, severity, n);
        w.write_all(&doc).await?;
        w.write_all(b"\0").await?;
    }
    w.flush().await?;
    w.shutdown().await.ok();
    Ok(last - first + 1)
}

/// Sends messages `first..=last` as GELF over HTTP, one `POST /gelf` each on
/// a kept-alive connection, at `rate` messages per second (0: as fast as
/// possible); fails on the first answer other than `202 Accepted`.
#[allow(clippy::too_many_arguments)]
pub async fn gelf_http(
    target: SocketAddr,
    msgs: &mut Generator<'_>,
    host: &str,
    severity: u8,
    rate: f64,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .context("cannot build the HTTP client")?;
    let url = format!("http://{target}/gelf");
    let start = std::time::Instant::now();
    for n in first..=last {
        pace(rate, n - first, start).await;
        let doc = gelf_doc(msgs, host, severity, n);
        let resp = client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(doc)
            .send()
            .await
            .with_context(|| format!("POST {url} failed"))?;
        let status = resp.status();
        if status != reqwest::StatusCode::ACCEPTED {
            let body = resp.text().await.unwrap_or_default();
            bail!("message {n}: {url} answered {status}: {body}");
        }
    }
    Ok(last - first + 1)
}

/// Sends messages `first..=last` as GELF datagrams, chunked when large,
/// at `rate` messages per second (0: as fast as possible).
#[allow(clippy::too_many_arguments)]
pub async fn gelf_udp(
    sock: &tokio::net::UdpSocket,
    msgs: &mut Generator<'_>,
    host: &str,
    severity: u8,
    rate: f64,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    let start = std::time::Instant::now();
    for n in first..=last {
        pace(rate, n - first, start).await;
        let doc = gelf_doc(msgs, host, severity, n);
        let parts = datagrams(&doc, GELF_DATAGRAM, rand::random())
            .with_context(|| format!("message {n}"))?;
        for d in parts {
            sock.send(&d).await.context("udp send failed")?;
        }
    }
    Ok(last - first + 1)
}

/// Sends messages `first..=last` as SNMPv2c traps whose varbind holds the
/// message, at `rate` messages per second (0: as fast as possible).
pub async fn snmptrap(
    sock: &tokio::net::UdpSocket,
    msgs: &mut Generator<'_>,
    community: &str,
    rate: f64,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    let start = std::time::Instant::now();
    let oid = |s: &str| Oid::from_str(s).context("bad OID");
    let (trap_oid, message_oid) = (oid(TRAP_OID)?, oid(MESSAGE_OID)?);
    for n in first..=last {
        pace(rate, n - first, start).await;
        let message = VarBind {
            oid: message_oid.clone(),
            value: Value::OctetString(msgs.text(n).into_bytes()),
        };
        let trap = Trap::v2c(
            community.as_bytes(),
            i64::try_from(n)?,
            0,
            trap_oid.clone(),
            vec![message],
        );
        sock.send(&encode_trap(&trap))
            .await
            .context("udp send failed")?;
    }
    Ok(last - first + 1)
}

/// A UDP socket connected to `target`.
pub async fn udp_to(target: SocketAddr) -> anyhow::Result<tokio::net::UdpSocket> {
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse()?
    } else {
        "[::]:0".parse()?
    };
    let sock = tokio::net::UdpSocket::bind(bind).await?;
    sock.connect(target).await?;
    Ok(sock)
}
