//! A DNS probe: ask for the root zone's name servers and wait for an answer
//! with our id. Any answer proves the resolver is there; NOERROR or NXDOMAIN
//! proves it will answer us.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::ProbeError;
use super::connect::connect_error;

/// Sends one query to `server` and reads answers until ours arrives.
pub(super) async fn probe(server: SocketAddr, timeout: Duration) -> Result<String, ProbeError> {
    let io_err = |e: std::io::Error| connect_error(server, "udp", &e);
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(io_err)?;
    // Connected, so an ICMP port unreachable comes back as "connection refused".
    socket.connect(server).await.map_err(io_err)?;
    let id = query_id();
    socket.send(&query(id)).await.map_err(io_err)?;
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 512];
    loop {
        let n = match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return Err(io_err(e)),
            Err(_) => {
                return Err(ProbeError::Timeout {
                    addr: server,
                    transport: "udp",
                    secs: timeout.as_secs_f64(),
                });
            }
        };
        match answer_rcode(&buf[..n], id) {
            // Not an answer to our question: a stray or forged datagram.
            None => continue,
            Some(rcode @ (0 | 3)) => {
                return Ok(format!(
                    "{server}/udp answered a DNS query ({})",
                    rcode_name(rcode)
                ));
            }
            Some(rcode) => {
                return Err(ProbeError::DnsRcode {
                    addr: server,
                    rcode: rcode_name(rcode),
                });
            }
        }
    }
}

/// An id that differs between runs; it only has to tell our answer from strays.
fn query_id() -> u16 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos ^ std::process::id()) as u16
}

/// A recursive query for `. IN NS`.
pub(super) fn query(id: u16) -> [u8; 17] {
    let [hi, lo] = id.to_be_bytes();
    [
        hi, lo, // id
        0x01, 0x00, // flags: recursion desired
        0, 1, // one question
        0, 0, 0, 0, 0, 0, // no answer, authority or additional records
        0, // the root name
        0, 2, // type NS
        0, 1, // class IN
    ]
}

/// The response code of an answer to query `id`, or None for anything else.
pub(super) fn answer_rcode(msg: &[u8], id: u16) -> Option<u8> {
    let header = msg.get(..12)?;
    let is_answer = header[2] & 0x80 != 0;
    (u16::from_be_bytes([header[0], header[1]]) == id && is_answer).then_some(header[3] & 0x0F)
}

fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => "an unknown response code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_answers_to_our_id() {
        let q = query(0xBEEF);
        assert_eq!(&q[..2], &[0xBE, 0xEF]);
        // The query itself is not an answer.
        assert_eq!(answer_rcode(&q, 0xBEEF), None);
        let mut a = q;
        a[2] |= 0x80;
        a[3] = 0x85; // recursion available, REFUSED
        assert_eq!(answer_rcode(&a, 0xBEEF), Some(5));
        assert_eq!(answer_rcode(&a, 0xBEEE), None);
        assert_eq!(answer_rcode(&a[..11], 0xBEEF), None);
    }
}
