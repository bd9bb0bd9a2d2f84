//! ICMP checks: the loopback addresses, and hosts in network namespaces
//! made by the test (a veth pair each, addresses from 10.247.0.0/16): one
//! that answers, one whose link is down. Needs root (as the test command
//! runs) for namespaces and raw ICMP sockets.

mod common;

use std::process::Command;

use common::{expect, perf, run};
use hark_monitor::Status;
use hark_monitor::checks::CheckContext;

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ip {args:?}: {e}"));
    assert!(
        out.status.success(),
        "ip {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace with a veth link to this one; deleted on drop
/// (which removes both ends of the link).
struct Netns {
    name: String,
    /// The namespace side's address.
    peer: String,
}

impl Netns {
    /// Namespace number `n` (0..4) of this process: `10.247.X.Y/30`.
    fn new(n: u32) -> Netns {
        let pid = std::process::id();
        let block = (pid % 60) * 4 + n; // a /30 per namespace, by process
        let third = 10 + block / 64;
        let base = (block % 64) * 4;
        let name = format!("hark-icmp-{pid}-{n}");
        let host_if = format!("hk{pid}h{n}");
        let peer_if = format!("hk{pid}p{n}");
        let host_addr = format!("10.247.{third}.{}", base + 1);
        let peer = format!("10.247.{third}.{}", base + 2);
        let ns = Netns {
            name: name.clone(),
            peer: peer.clone(),
        };
        ip(&["netns", "add", &name]);
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &peer_if, "netns", &name,
        ]);
        ip(&["addr", "add", &format!("{host_addr}/30"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&[
            "-n",
            &name,
            "addr",
            "add",
            &format!("{peer}/30"),
            "dev",
            &peer_if,
        ]);
        ip(&["-n", &name, "link", "set", &peer_if, "up"]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        ns
    }

    /// Takes the namespace's end of the link down: packets go nowhere.
    fn link_down(&self) {
        let n = self.name.rsplit('-').next().unwrap_or("0");
        let peer_if = format!("hk{}p{n}", std::process::id());
        ip(&["-n", &self.name, "link", "set", &peer_if, "down"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

#[tokio::test]
async fn loopback_answers() {
    let ctx = CheckContext::new().expect("context");
    assert_eq!(
        ctx.icmp_problem(),
        None,
        "ICMP sockets need root or CAP_NET_RAW"
    );
    let o = run(
        &ctx,
        "type = \"icmp\"\nhost = \"127.0.0.1\"\npacket_interval = \"50ms\"",
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &["PING 127.0.0.1: 0% packet loss (3 of 3 replies), rtt avg"],
    );
    assert_eq!(perf(&o, "pl"), 0.0);
    assert!(perf(&o, "rta") > 0.0);
    assert!(perf(&o, "rtmin") <= perf(&o, "rtmax"));

    let o = run(
        &ctx,
        "type = \"icmp\"\nhost = \"localhost\"\npackets = 2\npacket_interval = \"50ms\"",
    )
    .await;
    expect(&o, Status::Ok, &["PING localhost (", "2 of 2 replies"]);

    if std::net::UdpSocket::bind("[::1]:0").is_ok() {
        let o = run(
            &ctx,
            "type = \"icmp\"\nhost = \"::1\"\npackets = 2\npacket_interval = \"50ms\"",
        )
        .await;
        expect(&o, Status::Ok, &["PING ::1: 0% packet loss"]);
    }
}

#[tokio::test]
async fn namespaces_answer_or_lose_everything() {
    let ctx = CheckContext::new().expect("context");
    let up = Netns::new(0);
    let down = Netns::new(1);
    down.link_down();

    let o = run(
        &ctx,
        &format!(
            "type = \"icmp\"\nhost = \"{}\"\npackets = 4\npacket_interval = \"50ms\"",
            up.peer
        ),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &[&format!(
            "PING {}: 0% packet loss (4 of 4 replies)",
            up.peer
        )],
    );

    let o = run(
        &ctx,
        &format!(
            "type = \"icmp\"\nhost = \"{}\"\npackets = 3\npacket_interval = \"50ms\"\ntimeout = \"2s\"",
            down.peer
        ),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &[&format!(
            "PING {}: 100% packet loss (0 of 3 replies)",
            down.peer
        )],
    );
    assert_eq!(perf(&o, "pl"), 100.0);
    assert!(o.perf.iter().all(|p| p.label != "rta"));
    // Loss is reported by the check itself, not as a timeout.
    assert!(
        o.duration < std::time::Duration::from_secs(2),
        "{:?}",
        o.duration
    );
}

#[tokio::test]
async fn unresolvable_host_is_critical() {
    let ctx = CheckContext::new().expect("context");
    let o = run(&ctx, "type = \"icmp\"\nhost = \"no-such-host.invalid\"").await;
    expect(&o, Status::Crit, &["cannot resolve no-such-host.invalid"]);
}
