//! dnsmasq as an authoritative test server, ready once it answers a query.

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use super::Daemon;

/// Starts dnsmasq on a free port (UDP and TCP) of 127.0.0.1 with none of
/// the system's configuration (no upstream servers, no /etc/hosts) and
/// `records` (its own options: `--address=…`, `--local=…`, …); returns once
/// it has answered a DNS query.
pub fn dnsmasq(records: &[&str]) -> Daemon {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("set a read timeout");
    let mut id = 0u16;
    Daemon::start(
        "dnsmasq",
        dir,
        |port| {
            let mut cmd = Command::new("dnsmasq");
            cmd.args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--no-poll",
                "--pid-file=",
                "--user=root",
                "--log-facility=-",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                &format!("--port={port}"),
            ])
            .args(records);
            cmd
        },
        |port| {
            id = id.wrapping_add(1);
            answered(&socket, port, id)
        },
    )
}

/// Sends query `id` (`probe.invalid. A`) to `port`; true when a response
/// with that id comes back, whatever its code: any answer proves the
/// server is serving.
fn answered(socket: &UdpSocket, port: u16, id: u16) -> bool {
    let query = query(id, "probe.invalid");
    if socket.send_to(&query, ("127.0.0.1", port)).is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    match socket.recv(&mut buf) {
        // The same id, and the QR bit says it is a response.
        Ok(n) => n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0,
        Err(_) => false,
    }
}

/// A DNS query (RFC 1035 §4.1) for the A records of `name`, recursion desired.
fn query(id: u16, name: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    // Flags: RD; one question, no other records.
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    // QTYPE A, QCLASS IN.
    q.extend_from_slice(&[0, 1, 0, 1]);
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_rfc_1035_wire_format() {
        assert_eq!(
            query(0x1234, "a.bc"),
            [
                0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 2, b'b', b'c', 0, 0, 1, 0,
                1
            ]
        );
    }
}
