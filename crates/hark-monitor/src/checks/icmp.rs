//! `type = "icmp"`: echo requests, packet loss and round-trip times.
//!
//! One ICMP socket per address family is opened when the context is made
//! and shared by all checks (surge-ping dispatches replies by address,
//! identifier and sequence number). It is an unprivileged datagram socket
//! when `net.ipv4.ping_group_range` admits the process's group, else a raw
//! socket, which needs root or `CAP_NET_RAW`. Without either, ICMP checks
//! are UNKNOWN and say so.
//!
//! The `packets` echo requests go out `packet_interval` apart; each waits
//! for its reply at most `max(1s, 2 × crit_rtt)` and never past the
//! monitor's timeout, so a dead host is reported as 100% loss, not as a
//! timeout. Requests that would not fit in the timeout are not sent, and
//! the output says so. An ICMP error in answer to a request (destination
//! unreachable from a router or from this host when ARP fails, time
//! exceeded) counts as a lost packet, and the output names the first.

use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use hark_config::monitor::IcmpCheck;
use surge_ping::{Client, Config, ICMP, IcmpPacket, PingIdentifier, PingSequence, SurgeError};
use tokio::time::Instant;

use crate::outcome::{CheckOutcome, Perf, Status};

use super::context::CheckContext;
use super::findings::Findings;
use super::format;
use super::progress::{Phase, Progress};

/// Echo payload: 56 bytes, like `ping`.
const PAYLOAD: [u8; 56] = [0x48; 56];

/// The shared ICMP sockets, or why they could not be opened.
pub(crate) struct IcmpClients {
    v4: Result<Client, String>,
    v6: Result<Client, String>,
    ident: AtomicU16,
    seq: AtomicU16,
}

impl IcmpClients {
    /// Opens both sockets; failures are kept and reported by the checks.
    pub(crate) fn open() -> IcmpClients {
        let open = |kind: ICMP| {
            Client::new(&Config::builder().kind(kind).build()).map_err(|e| explain_open_error(&e))
        };
        IcmpClients {
            v4: open(ICMP::V4),
            v6: open(ICMP::V6),
            ident: AtomicU16::new(rand::random()),
            seq: AtomicU16::new(rand::random()),
        }
    }

    /// Why ICMP over IPv4 cannot be used, if it cannot.
    pub(crate) fn v4_problem(&self) -> Option<&str> {
        self.v4.as_ref().err().map(String::as_str)
    }
}

fn explain_open_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => format!(
            "cannot open an ICMP socket ({e}): raw ICMP sockets need root or CAP_NET_RAW, \
             unprivileged ones need the process's group inside sysctl net.ipv4.ping_group_range"
        ),
        _ => format!("cannot open an ICMP socket: {e}"),
    }
}

/// One echo request's fate.
enum Echo {
    Reply(Duration),
    Lost,
    /// An ICMP error came back instead of a reply: what it said.
    Refused(String),
    Failed(String),
    NotSent,
}

/// Runs an ICMP check; finishes within `timeout`.
pub(crate) async fn check(
    c: &IcmpCheck,
    timeout: Duration,
    ctx: &CheckContext,
    progress: &Progress,
) -> CheckOutcome {
    let started = Instant::now();
    // Stop a little before the monitor's timeout so the result is ours.
    let margin = (timeout / 10).min(Duration::from_millis(200));
    let deadline = started + timeout.saturating_sub(margin);
    progress.set(Phase::Resolving);
    let addrs = match ctx.resolver.lookup(&c.host).await {
        Ok(a) => a,
        Err(e) => return CheckOutcome::new(Status::Crit, e),
    };
    let ip = addrs[0];
    let client = match (ip, &ctx.icmp.v4, &ctx.icmp.v6) {
        (IpAddr::V4(_), Ok(client), _) | (IpAddr::V6(_), _, Ok(client)) => client,
        (IpAddr::V4(_), Err(e), _) | (IpAddr::V6(_), _, Err(e)) => {
            return CheckOutcome::new(Status::Unknown, e.clone());
        }
    };
    let ident = PingIdentifier(ctx.icmp.ident.fetch_add(1, Ordering::Relaxed));
    let per_reply = Duration::from_secs(1).max(c.crit_rtt.saturating_mul(2));
    progress.set(Phase::WaitingReplies);
    let base = Instant::now();
    let echoes = (0..c.packets).map(|i| {
        let seq = PingSequence(ctx.icmp.seq.fetch_add(1, Ordering::Relaxed));
        let send_at = base + c.packet_interval.saturating_mul(i);
        async move {
            if send_at >= deadline {
                return Echo::NotSent;
            }
            tokio::time::sleep_until(send_at).await;
            let wait = per_reply.min(deadline.saturating_duration_since(Instant::now()));
            if wait.is_zero() {
                return Echo::NotSent;
            }
            let mut pinger = client.pinger(ip, ident).await;
            pinger.timeout(wait);
            match pinger.ping(seq, &PAYLOAD).await {
                Ok((packet, rtt)) => match icmp_error(&packet) {
                    None => Echo::Reply(rtt),
                    Some(error) => Echo::Refused(error),
                },
                Err(SurgeError::Timeout { .. }) => Echo::Lost,
                Err(SurgeError::IOError(e)) => Echo::Failed(e.to_string()),
                Err(e) => Echo::Failed(e.to_string()),
            }
        }
    });
    let results = futures_util::future::join_all(echoes).await;
    judge(c, &c.host, ip, timeout, &results)
}

/// What an ICMP error answering an echo request says, with its sender;
/// `None` for an echo reply.
fn icmp_error(packet: &IcmpPacket) -> Option<String> {
    let (what, from) = match packet {
        IcmpPacket::V4(p) => {
            let what = match (p.get_icmp_type().0, p.get_icmp_code().0) {
                (0, _) => return None,
                (3, 0) => "network unreachable".to_owned(),
                (3, 1) => "host unreachable".to_owned(),
                (3, 3) => "port unreachable".to_owned(),
                (3, 9 | 10 | 13) => "communication administratively prohibited".to_owned(),
                (3, c) => format!("destination unreachable (code {c})"),
                (11, _) => "time to live exceeded".to_owned(),
                (t, c) => format!("ICMP type {t} code {c}"),
            };
            (what, p.get_source().to_string())
        }
        IcmpPacket::V6(p) => {
            let what = match (p.get_icmpv6_type().0, p.get_icmpv6_code().0) {
                (129, _) => return None,
                (1, 0) => "no route to destination".to_owned(),
                (1, 1) => "communication administratively prohibited".to_owned(),
                (1, 3) => "address unreachable".to_owned(),
                (1, c) => format!("destination unreachable (code {c})"),
                (2, _) => "packet too big".to_owned(),
                (3, _) => "hop limit exceeded".to_owned(),
                (t, c) => format!("ICMPv6 type {t} code {c}"),
            };
            (what, p.get_source().to_string())
        }
    };
    Some(format!("{what} from {from}"))
}

fn judge(
    c: &IcmpCheck,
    host: &str,
    ip: IpAddr,
    timeout: Duration,
    results: &[Echo],
) -> CheckOutcome {
    let sent = results
        .iter()
        .filter(|e| !matches!(e, Echo::NotSent))
        .count();
    let rtts: Vec<Duration> = results
        .iter()
        .filter_map(|e| match e {
            Echo::Reply(d) => Some(*d),
            _ => None,
        })
        .collect();
    let first_error = results.iter().find_map(|e| match e {
        Echo::Failed(m) => Some(m.as_str()),
        _ => None,
    });
    let first_refusal = results.iter().find_map(|e| match e {
        Echo::Refused(m) => Some(m.as_str()),
        _ => None,
    });
    let target = if host == ip.to_string() {
        host.to_owned()
    } else {
        format!("{host} ({ip})")
    };
    let mut f = Findings::new();
    if sent == 0 {
        f.problem(
            Status::Unknown,
            format!(
                "PING {target}: the {} timeout leaves no time to send an echo request",
                format::limit(timeout)
            ),
        );
        return f.finish();
    }
    let received = rtts.len();
    let loss = (sent - received) as f64 * 100.0 / sent as f64;
    let mut summary = format!(
        "PING {target}: {}% packet loss ({received} of {sent} replies)",
        format::number((loss * 10.0).round() / 10.0)
    );
    if !rtts.is_empty() {
        let total: Duration = rtts.iter().sum();
        let avg = total / received as u32;
        let min = rtts.iter().min().copied().unwrap_or_default();
        let max = rtts.iter().max().copied().unwrap_or_default();
        summary.push_str(&format!(
            ", rtt avg {} (min {}, max {})",
            format::elapsed(avg),
            format::elapsed(min),
            format::elapsed(max)
        ));
        let mut rta = Perf::seconds("rta", avg);
        rta.warn = Some(format::number(c.warn_rtt.as_secs_f64()));
        rta.crit = Some(format::number(c.crit_rtt.as_secs_f64()));
        f.perf(rta);
        f.perf(Perf::seconds("rtmin", min));
        f.perf(Perf::seconds("rtmax", max));
        if avg >= c.crit_rtt {
            f.raise(Status::Crit);
            summary.push_str(&format!(" (crit at {})", format::limit(c.crit_rtt)));
        } else if avg >= c.warn_rtt {
            f.raise(Status::Warn);
            summary.push_str(&format!(" (warn at {})", format::limit(c.warn_rtt)));
        }
    }
    let mut pl = Perf::new("pl", loss, "%");
    pl.warn = Some(format::number(c.warn_loss));
    pl.crit = Some(format::number(c.crit_loss));
    f.perf(pl);
    if loss >= c.crit_loss {
        f.raise(Status::Crit);
    } else if loss >= c.warn_loss {
        f.raise(Status::Warn);
    }
    if let Some(e) = first_refusal {
        summary.push_str(&format!(", {e}"));
    }
    if let Some(e) = first_error {
        summary.push_str(&format!(", send error: {e}"));
    }
    if sent < results.len() {
        summary.push_str(&format!(
            ", only {sent} of {} echo requests fit in the {} timeout",
            results.len(),
            format::limit(timeout)
        ));
    }
    f.note(summary);
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> IcmpCheck {
        IcmpCheck {
            host: "192.0.2.1".into(),
            packets: 3,
            packet_interval: Duration::from_millis(200),
            warn_loss: 40.0,
            crit_loss: 80.0,
            warn_rtt: Duration::from_millis(200),
            crit_rtt: Duration::from_millis(500),
        }
    }

    fn run(results: &[Echo]) -> CheckOutcome {
        judge(
            &config(),
            "192.0.2.1",
            "192.0.2.1".parse().unwrap(),
            Duration::from_secs(10),
            results,
        )
    }

    #[test]
    fn missing_permission_is_explained() {
        let e = io::Error::from(io::ErrorKind::PermissionDenied);
        let text = explain_open_error(&e);
        assert!(text.contains("CAP_NET_RAW"), "{text}");
        assert!(text.contains("net.ipv4.ping_group_range"), "{text}");
    }

    #[test]
    fn all_replies_fast_is_ok() {
        let ms = Duration::from_millis;
        let o = run(&[Echo::Reply(ms(1)), Echo::Reply(ms(2)), Echo::Reply(ms(3))]);
        assert_eq!(o.status, Status::Ok);
        assert_eq!(
            o.output,
            "PING 192.0.2.1: 0% packet loss (3 of 3 replies), rtt avg 2.00 ms (min 1.00 ms, max 3.00 ms)"
        );
        let labels: Vec<&str> = o.perf.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["rta", "rtmin", "rtmax", "pl"]);
    }

    #[test]
    fn loss_and_rtt_levels() {
        let ms = Duration::from_millis;
        assert_eq!(
            run(&[Echo::Reply(ms(1)), Echo::Lost, Echo::Lost]).status,
            Status::Warn
        );
        let o = run(&[Echo::Lost, Echo::Lost, Echo::Lost]);
        assert_eq!(o.status, Status::Crit);
        assert!(
            o.output.contains("100% packet loss (0 of 3 replies)"),
            "{}",
            o.output
        );
        assert_eq!(run(&[Echo::Reply(ms(300))]).status, Status::Warn);
        let o = run(&[Echo::Reply(ms(600))]);
        assert_eq!(o.status, Status::Crit);
        assert!(o.output.ends_with("(crit at 500ms)"), "{}", o.output);
        let o = run(&[Echo::Reply(ms(1)), Echo::NotSent]);
        assert!(
            o.output.contains("only 1 of 2 echo requests fit"),
            "{}",
            o.output
        );
        assert_eq!(run(&[Echo::NotSent]).status, Status::Unknown);
    }

    #[test]
    fn icmp_errors_are_lost_packets_and_named() {
        let ms = Duration::from_millis;
        let unreachable = || Echo::Refused("host unreachable from 192.0.2.254".into());
        let o = run(&[unreachable(), unreachable(), unreachable()]);
        assert_eq!(o.status, Status::Crit);
        assert_eq!(
            o.output,
            "PING 192.0.2.1: 100% packet loss (0 of 3 replies), host unreachable from 192.0.2.254"
        );
        let o = run(&[Echo::Reply(ms(1)), unreachable(), Echo::Lost]);
        assert_eq!(o.status, Status::Warn);
        assert!(o.output.contains("(1 of 3 replies)"), "{}", o.output);
    }
}
