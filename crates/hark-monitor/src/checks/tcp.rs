//! `type = "tcp"`: connect, optional TLS handshake, optional send/expect.
//!
//! The connect time is judged against `warn_time`/`crit_time` and kept as
//! perf `time`. With `tls`, the certificate is inspected like an HTTPS
//! check's: an untrusted chain or wrong name is CRIT when `tls_verify`, an
//! expired certificate is CRIT, and the days left are reported (perf
//! `cert_days`). `send` goes out after connecting (and after TLS); then what
//! the peer sends is read until `expect` appears, the peer closes, 1 MiB
//! arrived without it, or the monitor's timeout ends the check.

use std::time::{Duration, SystemTime};

use hark_config::monitor::TcpCheck;
use memchr::memmem;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::outcome::{CheckOutcome, Perf, Status};

use super::context::CheckContext;
use super::findings::Findings;
use super::format;
use super::net;
use super::progress::{Phase, Progress};
use super::tls::{Alpn, ExpiryLimits};

/// Most bytes read while looking for `expect`.
const EXPECT_LIMIT: usize = 1 << 20;

/// Runs a TCP check.
pub(crate) async fn check(c: &TcpCheck, ctx: &CheckContext, progress: &Progress) -> CheckOutcome {
    progress.set(Phase::Resolving);
    let addrs = match ctx.resolver.lookup(&c.host).await {
        Ok(a) => a,
        Err(e) => return CheckOutcome::new(Status::Crit, e),
    };
    let (stream, addr, connect_time) = match net::connect(&addrs, c.port, progress).await {
        Ok(s) => s,
        Err(e) => return CheckOutcome::new(Status::Crit, e),
    };
    let mut f = Findings::new();
    let target = if c.host == addr.ip().to_string() {
        net::host_port(&c.host, c.port)
    } else {
        format!("{} ({})", net::host_port(&c.host, c.port), addr.ip())
    };
    f.time_limits(
        "time",
        "connect time",
        connect_time,
        c.warn_time,
        c.crit_time,
    );
    let mut summary = format!(
        "TCP {target}: connected in {}",
        format::elapsed(connect_time)
    );
    let exchanged = if c.tls {
        progress.set(Phase::TlsHandshake);
        let started = Instant::now();
        let tls = match ctx.tls.handshake(stream, &c.host, Alpn::None).await {
            Ok(t) => t,
            Err(e) => {
                f.problem(Status::Crit, e);
                f.note(summary);
                return f.finish();
            }
        };
        let took = started.elapsed();
        f.perf(Perf::seconds("tls", took));
        summary.push_str(&format!(", TLS in {}", format::elapsed(took)));
        let report = ctx.tls.inspect(
            tls.get_ref().1.peer_certificates(),
            &c.host,
            c.tls_ca.as_deref(),
        );
        report.judge(
            &mut f,
            c.tls_verify,
            ExpiryLimits {
                warn: None,
                crit: None,
            },
            "",
            SystemTime::now(),
            true,
        );
        exchange(tls, c, progress).await
    } else {
        exchange(stream, c, progress).await
    };
    match exchanged {
        Ok(Some(took)) => {
            f.perf(Perf::seconds("response", took));
            if let Some(expect) = &c.expect {
                summary.push_str(&format!(
                    ", received {} after {}",
                    format::snippet(expect.as_bytes(), 60),
                    format::elapsed(took)
                ));
            }
        }
        Ok(None) => {}
        Err(e) => f.problem(Status::Crit, e),
    }
    f.note(summary);
    f.finish()
}

/// Sends `send` and waits for `expect`; the time from sending to the match.
async fn exchange<S>(
    mut io: S,
    c: &TcpCheck,
    progress: &Progress,
) -> Result<Option<Duration>, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let started = Instant::now();
    if let Some(send) = &c.send {
        progress.set(Phase::Sending);
        io.write_all(send.as_bytes())
            .await
            .map_err(|e| format!("sending failed: {e}"))?;
        io.flush()
            .await
            .map_err(|e| format!("sending failed: {e}"))?;
    }
    let Some(expect) = &c.expect else {
        return Ok(None);
    };
    progress.set(Phase::WaitingExpect);
    let needle = expect.as_bytes();
    let finder = memmem::Finder::new(needle);
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = io
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading failed while waiting for {}: {e}", quoted(expect)))?;
        if n == 0 {
            return Err(if buf.is_empty() {
                format!(
                    "connection closed without sending anything, expected {}",
                    quoted(expect)
                )
            } else {
                format!(
                    "connection closed before {} arrived; received {}",
                    quoted(expect),
                    format::snippet(&buf, 80)
                )
            });
        }
        // Search only where a match can end in the new bytes.
        let from = buf.len().saturating_sub(needle.len().saturating_sub(1));
        buf.extend_from_slice(&chunk[..n]);
        if finder.find(&buf[from..]).is_some() {
            return Ok(Some(started.elapsed()));
        }
        if buf.len() >= EXPECT_LIMIT {
            return Err(format!(
                "{} not found in the first 1 MiB received",
                quoted(expect)
            ));
        }
    }
}

fn quoted(s: &str) -> String {
    format::snippet(s.as_bytes(), 60)
}
