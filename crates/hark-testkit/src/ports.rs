//! Free loopback ports, never handed out twice in one process.
//!
//! A port is free "a moment ago": the kernel picked it, the probe socket is
//! closed again, and another process could still take it. Within this
//! process every port is handed out once, so tests running in parallel never
//! race each other for the same number.

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Mutex;

/// Ports handed out by this process.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Records `port` as handed out; false when it already was.
fn reserve(port: u16) -> bool {
    let mut g = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    g.get_or_insert_with(HashSet::new).insert(port)
}

/// A TCP port on 127.0.0.1 that was free a moment ago (and is also free for UDP).
pub fn free_tcp_port() -> u16 {
    free_port(true)
}

/// A UDP port on 127.0.0.1 that was free a moment ago (and is also free for TCP).
pub fn free_udp_port() -> u16 {
    free_port(false)
}

/// `127.0.0.1` and a [`free_tcp_port`].
pub fn free_tcp_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_tcp_port()))
}

/// `127.0.0.1` and a [`free_udp_port`].
pub fn free_udp_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_udp_port()))
}

fn free_port(tcp_first: bool) -> u16 {
    for _ in 0..1000 {
        let port = if tcp_first {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
        } else {
            UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .map(|a| a.port())
        }
        .expect("bind an ephemeral port on 127.0.0.1");
        // Both protocols free, so a peer may use either on the same number.
        let other_free = if tcp_first {
            UdpSocket::bind(("127.0.0.1", port)).is_ok()
        } else {
            TcpListener::bind(("127.0.0.1", port)).is_ok()
        };
        if other_free && reserve(port) {
            return port;
        }
    }
    panic!("no free port found on 127.0.0.1");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_never_handed_out_twice() {
        let ports: Vec<u16> = (0..200)
            .map(|i| {
                if i % 2 == 0 {
                    free_tcp_port()
                } else {
                    free_udp_port()
                }
            })
            .collect();
        let unique: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(unique.len(), ports.len());
        for p in ports {
            assert!(
                TcpListener::bind(("127.0.0.1", p)).is_ok(),
                "port {p} is taken"
            );
        }
    }
}
