//! The nftables and iptables renderings load: `nft -c -f` and
//! `iptables-restore --test` accept them. Both need root and the Debian
//! packages `nftables` and `iptables` (scripts/install-test-deps.sh).

use std::io::Write;
use std::process::Command;

use hark_config::Config;
use hark_matrix::{Endpoint, Flow, Format, PortSpec, Security, Transport, matrix, render};

/// A TLS input with a client CA, a UDP input on one address, an IPv6 one,
/// and the API on every address.
const MIXED: &str = r#"
[http]
listen = "0.0.0.0:8514"
allow_plain_http = true

[inputs.syslog_tls]
type = "syslog"
transport = "tls"
listen = "0.0.0.0:6514"
tls_cert = "/etc/hark/server.crt"
tls_key = "/etc/hark/server.key"
tls_client_ca = "/etc/hark/ca.crt"

[inputs.syslog_udp_lan]
type = "syslog"
transport = "udp"
listen = "192.0.2.10:514"

[inputs.syslog_tcp_v6]
type = "syslog"
transport = "tcp"
listen = "[2001:db8::10]:601"

[inputs.syslog_udp_all]
type = "syslog"
transport = "udp"
listen = "[::]:10514"
"#;

fn mixed() -> Vec<Flow> {
    matrix(&Config::from_toml_str("mixed.toml", MIXED).unwrap())
}

/// Flows of kinds no configuration makes yet (clients, ICMP, ranges), so the
/// renderers are proven on them before a feature needs them.
fn future() -> Vec<Flow> {
    let client = |dest: &str, port, transport, protocol: &str| {
        Flow::client(
            Endpoint::from(dest),
            port,
            transport,
            protocol,
            Security::Tls,
            "alerts.smtp",
            "SMTP to the mail relay for alert mail",
        )
    };
    let mut flows = mixed();
    flows.extend([
        client(
            "mail.example.net",
            PortSpec::Single(587),
            Transport::Tcp,
            "smtp",
        ),
        client("192.0.2.53", PortSpec::Single(53), Transport::Udp, "dns"),
        client("2001:db8::53", PortSpec::Single(53), Transport::Udp, "dns"),
        client("192.0.2.1", PortSpec::None, Transport::Icmp, "icmp"),
        client("2001:db8::1", PortSpec::None, Transport::Icmp, "icmp"),
        client(
            "monitor.example.net",
            PortSpec::None,
            Transport::Icmp,
            "icmp",
        ),
        client(
            "192.0.2.30",
            PortSpec::Range(6000, 6010),
            Transport::Tcp,
            "x11",
        ),
        client("127.0.0.1", PortSpec::Single(4222), Transport::Tcp, "nats"),
    ]);
    flows
}

fn cases() -> Vec<(&'static str, Vec<Flow>)> {
    vec![
        ("default", matrix(&Config::default())),
        ("mixed", mixed()),
        ("future", future()),
    ]
}

/// Runs `program args… FILE` on `text`; fails with its output when it refuses.
fn accepts(program: &str, args: &[&str], text: &str, case: &str) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let out = Command::new(program)
        .args(args)
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}); install it with scripts/install-test-deps.sh")
        });
    assert!(
        out.status.success(),
        "{program} {args:?} refused the {case} rules ({}):\nstdout: {}\nstderr: {}\nrules:\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

#[test]
fn nft_accepts_the_rules() {
    for (case, flows) in cases() {
        let rules = render(&flows, Format::Nftables);
        accepts("nft", &["-c", "-f"], &rules, case);
    }
}

#[test]
fn iptables_restore_accepts_the_rules() {
    for (case, flows) in cases() {
        let rules = render(&flows, Format::Iptables);
        accepts("iptables-restore", &["--test"], &rules, case);
    }
}

#[test]
fn mixed_config_rules_allow_exactly_its_listeners() {
    let nft = render(&mixed(), Format::Nftables);
    for rule in [
        "meta nfproto ipv4 tcp dport 6514 accept",
        "ip daddr 192.0.2.10 udp dport 514 accept",
        "ip6 daddr 2001:db8::10 tcp dport 601 accept",
        "\t\tudp dport 10514 accept",
        "meta nfproto ipv4 tcp dport 8514 accept",
    ] {
        assert!(nft.contains(rule), "missing {rule:?}:\n{nft}");
    }
    assert_eq!(nft.matches(" accept comment ").count(), 5, "{nft}");

    let ipt = render(&mixed(), Format::Iptables);
    // Four IPv4 rules; the IPv6-only input is named but not expressible.
    assert_eq!(ipt.matches("-m comment --comment").count(), 4, "{ipt}");
    assert!(
        ipt.contains("-A INPUT -d 192.0.2.10/32 -p udp -m udp --dport 514 "),
        "{ipt}"
    );
}

#[test]
fn default_rules_open_only_the_input_ports() {
    let nft = render(&matrix(&Config::default()), Format::Nftables);
    let rules: Vec<&str> = nft
        .lines()
        .map(str::trim)
        .filter(|l| l.contains(" accept comment "))
        .collect();
    assert_eq!(rules.len(), 7, "{nft}");
    for port in [
        "tcp dport 10514",
        "udp dport 10514",
        "tcp dport 20514",
        "tcp dport 5044",
        "udp dport 12201",
        "tcp dport 12201",
        "udp dport 10162",
    ] {
        assert!(rules.iter().any(|r| r.contains(port)), "{port}: {nft}");
    }
    // The API listens on loopback only.
    assert!(nft.contains("(allowed by the loopback rule)"), "{nft}");
}
