//! net-snmp's snmpd with a private configuration, ready once it answers a GET.

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use hark_proto::snmp::{Message, PduKind, Version};

use super::Daemon;

/// sysUpTime.0, which every agent serves.
const SYS_UP_TIME: &str = "1.3.6.1.2.1.1.3.0";

/// Starts snmpd on a free UDP port of 127.0.0.1 with a read-only
/// `community` for 127.0.0.1 and `extra` configuration lines (`sysName …`,
/// may be empty), no /etc files and its persistent state in a temporary
/// directory; returns once it has answered an SNMP v2c GET of sysUpTime.
pub fn snmpd(community: &str, extra: &str) -> Daemon {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let conf = dir.path().join("snmpd.conf");
    std::fs::write(
        &conf,
        format!("rocommunity {community} 127.0.0.1\n{extra}\n"),
    )
    .expect("write snmpd.conf");
    let state = dir.path().to_path_buf();
    let probe = Probe::new(community);
    Daemon::start(
        "snmpd",
        dir,
        |port| {
            let mut cmd = Command::new("snmpd");
            cmd.env("SNMP_PERSISTENT_DIR", &state)
                .env("MIBS", "")
                .args(["-f", "-Lo", "-C", "-r", "-c"])
                .arg(&conf)
                .arg(format!("udp:127.0.0.1:{port}"));
            cmd
        },
        |port| probe.answered(port),
    )
}

/// A GET of sysUpTime and the socket it is sent from.
struct Probe {
    socket: UdpSocket,
    request: Vec<u8>,
}

impl Probe {
    fn new(community: &str) -> Probe {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("set a read timeout");
        let oid = SYS_UP_TIME.parse().expect("sysUpTime is an OID");
        let request = Message::get_request(Version::V2c, community.as_bytes(), 1, [oid]).encode();
        Probe { socket, request }
    }

    /// Sends the GET to `port`; true when a response comes back.
    fn answered(&self, port: u16) -> bool {
        // Not bound yet, or not yet serving: no answer, try again.
        if self
            .socket
            .send_to(&self.request, ("127.0.0.1", port))
            .is_err()
        {
            return false;
        }
        let mut buf = vec![0; 65_536];
        match self.socket.recv(&mut buf) {
            Ok(n) => Message::decode(&buf[..n]).is_ok_and(|m| m.pdu.kind == PduKind::Response),
            Err(_) => false,
        }
    }
}
