//! Raw sockets for what no well-behaved sender does: hand-made frames,
//! random bytes, slow and half-open connections.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// An RFC 5424 message from host `e2e`, app `wire`, with `msg`.
pub fn rfc5424(msg: &str) -> String {
    format!("<13>1 2026-01-02T03:04:05.000006Z e2e wire - - - {msg}")
}

/// `msg` framed by octet counting (RFC 6587).
pub fn octet_frame(msg: &[u8]) -> Vec<u8> {
    let mut v = format!("{} ", msg.len()).into_bytes();
    v.extend_from_slice(msg);
    v
}

/// `msg` framed by a trailing LF.
pub fn lf_frame(msg: &[u8]) -> Vec<u8> {
    let mut v = msg.to_vec();
    v.push(b'\n');
    v
}

/// Connects, writes `bytes`, shuts down writing and waits (briefly) for the
/// server to close, so the data has been read when this returns.
pub fn tcp_send(addr: SocketAddr, bytes: &[u8]) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(bytes).expect("write");
    let _ = s.shutdown(std::net::Shutdown::Write);
    let _ = closed_by_peer(&mut s, Duration::from_secs(10));
}

/// Sends one datagram.
pub fn udp_send(addr: SocketAddr, bytes: &[u8]) {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    s.send_to(bytes, addr).expect("send a datagram");
}

/// Whether the peer closes (EOF or reset) the connection within `timeout`;
/// anything it sends meanwhile is discarded.
pub fn closed_by_peer(s: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
}

/// A small deterministic generator for "random" bytes.
pub struct XorShift(u64);

impl XorShift {
    /// Seeded generator (seed 0 is replaced).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x2545_F491_4F6C_DD1D
        } else {
            seed
        })
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 24) as u8).collect()
    }
}
