//! The acknowledged and structured protocols of `hark send`: RELP (a window
//! of unacknowledged frames), Beats (windows of JSON events), GELF (UDP,
//! chunked when large, NUL-delimited TCP, or HTTP `POST /gelf` waiting for
//! each `202`) and SNMPv2c traps.

use std::net::SocketAddr;
use std::str::FromStr;

use anyhow::{Context, bail};
use hark_proto::snmp::{Oid, PduKind, Trap, Value, VarBind, Version, encode_trap};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::{Generator, pace};

/// RELP frames sent before waiting for their replies.
pub const RELP_WINDOW: u64 = 128;
/// Events per Beats window.
pub const BEATS_WINDOW: u64 = 512;
/// GELF datagrams larger than this are chunked.
const GELF_CHUNK: usize = 8192;
/// Private-enterprise OIDs of the test trap and its message varbind.
const TRAP_OID: &str = "1.3.6.1.4.1.8072.9999.1";
const MESSAGE_OID: &str = "1.3.6.1.4.1.8072.9999.2";

fn relp_frame(out: &mut Vec<u8>, txnr: u64, cmd: &str, data: &[u8]) {
    out.extend_from_slice(format!("{txnr} {cmd} {}", data.len()).as_bytes());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

/// Reads one RELP reply frame; returns its TXNR and whether it is `200 OK`.
async fn relp_reply<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> anyhow::Result<(u64, bool)> {
    async fn token<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> anyhow::Result<(String, u8)> {
        let mut t = Vec::new();
        loop {
            let b = r
                .read_u8()
                .await
                .context("the server closed the RELP session")?;
            if b == b' ' || b == b'\n' {
                return Ok((String::from_utf8_lossy(&t).into_owned(), b));
            }
            if t.len() > 16 {
                bail!("bad RELP reply header");
            }
            t.push(b);
        }
    }
    let (txnr, _) = token(r).await?;
    let (command, _) = token(r).await?;
    let (len, end) = token(r).await?;
    let txnr: u64 = txnr.parse().context("bad RELP reply TXNR")?;
    let len: usize = len.parse().context("bad RELP reply DATALEN")?;
    let mut data = vec![0u8; len];
    if end == b' ' {
        r.read_exact(&mut data).await?;
        r.read_u8().await?;
    }
    if command == "serverclose" {
        bail!("the server closed the RELP session");
    }
    Ok((txnr, data.starts_with(b"200")))
}

/// Sends messages `first..=last` over one RELP session.
pub async fn relp<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    msgs: &mut Generator<'_>,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    let (rd, mut wr) = tokio::io::split(io);
    let mut rd = BufReader::new(rd);
    let mut out = Vec::new();
    relp_frame(
        &mut out,
        1,
        "open",
        b"relp_version=0\nrelp_software=hark-send\ncommands=syslog",
    );
    wr.write_all(&out).await?;
    let (_, ok) = relp_reply(&mut rd).await?;
    if !ok {
        bail!("the server refused the RELP session");
    }
    let total = last - first + 1;
    let (mut sent, mut acked) = (0u64, 0u64);
    while acked < total {
        out.clear();
        while sent < total && sent - acked < RELP_WINDOW {
            msgs.render(first + sent, false);
            relp_frame(&mut out, sent + 2, "syslog", &msgs.buf);
            sent += 1;
        }
        if !out.is_empty() {
            wr.write_all(&out).await?;
        }
        let (txnr, ok) = relp_reply(&mut rd).await?;
        if !ok {
            bail!("the server refused RELP transaction {txnr}");
        }
        acked += 1;
    }
    out.clear();
    relp_frame(&mut out, total + 2, "close", b"");
    wr.write_all(&out).await?;
    // The close reply; a serverclose after it is fine.
    let _ = relp_reply(&mut rd).await;
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
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut seq = 0u32;
    let mut n = first;
    let mut out = Vec::new();
    while n <= last {
        let count = (last - n + 1).min(BEATS_WINDOW);
        out.clear();
        out.extend_from_slice(b"2W");
        out.extend_from_slice(&u32::try_from(count)?.to_be_bytes());
        for _ in 0..count {
            seq += 1;
            let text = msgs.text(n);
            let doc = serde_json::json!({
                "@timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "message": text,
                "host": {"name": host},
                "agent": {"type": "hark-send"},
                "fields": {"n": n},
            })
            .to_string();
            out.extend_from_slice(b"2J");
            out.extend_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(&u32::try_from(doc.len())?.to_be_bytes());
            out.extend_from_slice(doc.as_bytes());
            n += 1;
        }
        wr.write_all(&out).await?;
        loop {
            let mut ack = [0u8; 6];
            rd.read_exact(&mut ack)
                .await
                .context("the server closed the connection before acknowledging")?;
            if ack[1] != b'A' {
                bail!("unexpected Beats reply {ack:02x?}");
            }
            let acked = u32::from_be_bytes([ack[2], ack[3], ack[4], ack[5]]);
            if acked == seq {
                break;
            }
        }
    }
    wr.shutdown().await.ok();
    Ok(last - first + 1)
}

fn gelf_doc(msgs: &mut Generator<'_>, host: &str, severity: u8, n: u64) -> Vec<u8> {
    serde_json::json!({
        "version": "1.1",
        "host": host,
        "short_message": msgs.text(n),
        "level": severity,
        "_n": n,
    })
    .to_string()
    .into_bytes()
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
        if doc.len() <= GELF_CHUNK {
            sock.send(&doc).await.context("udp send failed")?;
            continue;
        }
        let parts: Vec<&[u8]> = doc.chunks(GELF_CHUNK).collect();
        if parts.len() > 128 {
            bail!("message {n} is too large for GELF chunking");
        }
        let id: [u8; 8] = rand::random();
        for (i, part) in parts.iter().enumerate() {
            let mut d = vec![0x1e, 0x0f];
            d.extend_from_slice(&id);
            d.push(u8::try_from(i)?);
            d.push(u8::try_from(parts.len())?);
            d.extend_from_slice(part);
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
    let (uptime_oid, trap_oid_oid) = (oid("1.3.6.1.2.1.1.3.0")?, oid("1.3.6.1.6.3.1.1.4.1.0")?);
    let (trap_oid, message_oid) = (oid(TRAP_OID)?, oid(MESSAGE_OID)?);
    for n in first..=last {
        pace(rate, n - first, start).await;
        let trap = Trap {
            version: Version::V2c,
            community: community.as_bytes().to_vec(),
            pdu_kind: PduKind::TrapV2,
            request_id: Some(i64::try_from(n)?),
            enterprise: None,
            agent_addr: None,
            generic_trap: None,
            specific_trap: None,
            uptime: None,
            trap_oid: None,
            varbinds: vec![
                VarBind {
                    oid: uptime_oid.clone(),
                    value: Value::TimeTicks(0),
                },
                VarBind {
                    oid: trap_oid_oid.clone(),
                    value: Value::Oid(trap_oid.clone()),
                },
                VarBind {
                    oid: message_oid.clone(),
                    value: Value::OctetString(msgs.text(n).into_bytes()),
                },
            ],
        };
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
