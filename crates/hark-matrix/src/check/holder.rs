//! Who holds a port: the socket's inode from /proc/net/{tcp,udp}{,6}, then
//! the processes with a file descriptor on that inode.

use std::collections::BTreeSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::flow::Transport;

/// TCP state of a listening socket in /proc/net/tcp.
const TCP_LISTEN: u8 = 0x0A;

/// A process holding a socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Holder {
    pub(super) pid: u32,
    pub(super) name: String,
}

/// One socket of a /proc/net table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SocketEntry {
    pub(super) local: SocketAddr,
    pub(super) state: u8,
    pub(super) inode: u64,
}

/// The processes holding sockets that keep `addr` from being bound, or an
/// empty list when they are not visible (another user's process without
/// root, another network namespace).
pub(super) fn holders(addr: SocketAddr, transport: Transport) -> Vec<Holder> {
    let tables: &[&str] = match transport {
        Transport::Tcp => &["/proc/net/tcp", "/proc/net/tcp6"],
        Transport::Udp => &["/proc/net/udp", "/proc/net/udp6"],
        Transport::Icmp => &[],
    };
    let entries: Vec<SocketEntry> = tables
        .iter()
        .filter_map(|t| fs::read_to_string(t).ok())
        .flat_map(|text| parse_table(&text))
        .filter(|e| e.inode != 0 && clashes(e.local, addr))
        .collect();
    // A TCP port is held by its listener; connections accepted from it share the port.
    let listening: BTreeSet<u64> = entries
        .iter()
        .filter(|e| transport != Transport::Tcp || e.state == TCP_LISTEN)
        .map(|e| e.inode)
        .collect();
    let inodes = if listening.is_empty() {
        entries.iter().map(|e| e.inode).collect()
    } else {
        listening
    };
    processes_with(&inodes)
}

/// `pid 12 (rsyslogd), pid 13 (rsyslogd)`, or a note that the holder is hidden.
pub(super) fn describe(holders: &[Holder]) -> String {
    if holders.is_empty() {
        return "another process (not visible here: another user's without root, \
                or another network namespace)"
            .to_owned();
    }
    holders
        .iter()
        .map(|h| format!("pid {} ({})", h.pid, h.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Two bindings clash on the same port when their addresses are equal or
/// one is a wildcard (`::` also covers IPv4 on a dual-stack socket).
fn clashes(a: SocketAddr, b: SocketAddr) -> bool {
    let (x, y) = (a.ip().to_canonical(), b.ip().to_canonical());
    a.port() == b.port() && (x == y || x.is_unspecified() || y.is_unspecified())
}

/// The entries of one /proc/net/{tcp,udp}{,6} text; unreadable lines are skipped.
pub(super) fn parse_table(text: &str) -> Vec<SocketEntry> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local = parse_addr(cols.get(1)?)?;
            let state = u8::from_str_radix(cols.get(3)?, 16).ok()?;
            let inode = cols.get(9)?.parse().ok()?;
            Some(SocketEntry {
                local,
                state,
                inode,
            })
        })
        .collect()
}

/// `0100007F:2922` or 32 hex digits and a port: the kernel prints each
/// 32-bit word of the address as a number in host byte order.
fn parse_addr(text: &str) -> Option<SocketAddr> {
    let (ip_hex, port_hex) = text.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(ip_hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    let ip = match ip_hex.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Processes with a descriptor on one of the socket inodes.
fn processes_with(inodes: &BTreeSet<u64>) -> Vec<Holder> {
    if inodes.is_empty() {
        return Vec::new();
    }
    let wanted: BTreeSet<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let mut found = BTreeSet::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        // Processes may exit while we look, and others' fds need root.
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .ok()
                .and_then(|target| target.to_str().map(|t| wanted.contains(t)))
                .unwrap_or(false)
        });
        if holds {
            let name = fs::read_to_string(entry.path().join("comm"))
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| "?".to_owned());
            found.insert(Holder { pid, name });
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:2922 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0\n\
   1: 00000000:290A 00000000:0000 0A 00000000:00000000 00:00000000 00000000   104        0 4242 1 0000000000000000 100 0 0 10 0\n\
   2: 0100007F:2922 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1\n";

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n\
   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 100 0 0 10 0\n";

    #[test]
    fn parses_ipv4_table() {
        let e = parse_table(TCP);
        assert_eq!(e.len(), 3);
        if cfg!(target_endian = "little") {
            assert_eq!(e[0].local, "127.0.0.1:10530".parse().unwrap());
        }
        assert_eq!(e[0].state, TCP_LISTEN);
        assert_eq!(e[0].inode, 31337);
        assert_eq!(e[1].local, "0.0.0.0:10506".parse().unwrap());
    }

    #[test]
    fn parses_ipv6_table() {
        let e = parse_table(TCP6);
        assert_eq!(e[0].local, "[::]:8080".parse().unwrap());
        if cfg!(target_endian = "little") {
            assert_eq!(e[1].local, "[::1]:22".parse().unwrap());
        }
    }

    #[test]
    fn wildcards_clash_with_everything_on_the_port() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(clashes(a("0.0.0.0:514"), a("127.0.0.1:514")));
        assert!(clashes(a("[::]:514"), a("192.0.2.1:514")));
        assert!(clashes(a("[::ffff:192.0.2.1]:514"), a("192.0.2.1:514")));
        assert!(!clashes(a("127.0.0.1:514"), a("192.0.2.1:514")));
        assert!(!clashes(a("0.0.0.0:514"), a("0.0.0.0:515")));
    }

    #[test]
    fn hidden_holders_are_said_so() {
        assert!(describe(&[]).contains("not visible"));
        let h = [Holder {
            pid: 7,
            name: "rsyslogd".into(),
        }];
        assert_eq!(describe(&h), "pid 7 (rsyslogd)");
    }
}
