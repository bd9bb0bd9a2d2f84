//! Network namespaces as hosts a test controls: a veth link to this
//! namespace, an address behind it, and a link the test takes down.

use std::process::Command;

/// Runs `ip ARGS`; panics with its error unless it succeeds.
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

/// A network namespace with a veth link to this one (addresses from
/// 10.248.0.0/16, a /30 per namespace) and one more address on its
/// loopback, routed through the link (from 10.249.0.0/16): a host and a
/// host behind it. Deleted on drop, which removes both ends of the link
/// and the route. Needs root.
pub struct Netns {
    name: String,
    peer_if: String,
    /// This side's address on the link: how the namespace reaches this host.
    pub host: String,
    /// The namespace side's address on the link.
    pub peer: String,
    /// The address behind the link (on the namespace's loopback).
    pub behind: String,
}

impl Netns {
    /// Namespace number `n` (0..4) of this process.
    pub fn new(n: u32) -> Netns {
        assert!(n < 4, "a process has namespaces 0 to 3, not {n}");
        let pid = std::process::id();
        // A /30 per namespace, chosen by process id and number.
        let block = (pid % 60) * 4 + n;
        let third = 10 + block / 64;
        let base = (block % 64) * 4;
        let name = format!("hark-test-{pid}-{n}");
        let host_if = format!("ht{pid}h{n}");
        let peer_if = format!("ht{pid}p{n}");
        let host_addr = format!("10.248.{third}.{}", base + 1);
        let peer = format!("10.248.{third}.{}", base + 2);
        let behind = format!("10.249.{third}.{}", base + 1);
        // A leftover of an earlier run with the same process id goes first.
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let ns = Netns {
            name: name.clone(),
            peer_if: peer_if.clone(),
            host: host_addr.clone(),
            peer: peer.clone(),
            behind: behind.clone(),
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
        ip(&[
            "-n",
            &name,
            "addr",
            "add",
            &format!("{behind}/32"),
            "dev",
            "lo",
        ]);
        ip(&["route", "add", &format!("{behind}/32"), "via", &peer]);
        ns
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Takes the namespace's end of the link down: packets go nowhere.
    pub fn link_down(&self) {
        ip(&["-n", &self.name, "link", "set", &self.peer_if, "down"]);
    }

    /// Brings the namespace's end of the link up again.
    pub fn link_up(&self) {
        ip(&["-n", &self.name, "link", "set", &self.peer_if, "up"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
