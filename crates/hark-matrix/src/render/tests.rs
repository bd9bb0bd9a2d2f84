use super::*;
use crate::flow::{PortSpec, Security, Transport};

fn listener(addr: &str, transport: Transport, security: Security, component: &str) -> Flow {
    Flow::listener(
        addr.parse().unwrap(),
        transport,
        "syslog",
        security,
        component,
        "syslog from network devices",
    )
}

fn client(dest: &str, port: PortSpec, transport: Transport, protocol: &str) -> Flow {
    Flow::client(
        Endpoint::from(dest),
        port,
        transport,
        protocol,
        Security::Plain,
        "monitors.x",
        "a check",
    )
}

#[test]
fn formats_parse_from_their_names() {
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>().unwrap(), *f);
    }
    assert_eq!("JSON".parse::<Format>().unwrap(), Format::Json);
    let e = "yaml".parse::<Format>().unwrap_err().to_string();
    assert!(e.contains("nftables"), "{e}");
}

#[test]
fn table_aligns_columns_and_marks_missing_ports() {
    let flows = [
        listener("0.0.0.0:514", Transport::Udp, Security::Plain, "inputs.a"),
        client("192.0.2.1", PortSpec::None, Transport::Icmp, "icmp"),
    ];
    let t = render(&flows, Format::Table);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("DIRECTION  SOURCE"), "{t}");
    let col = lines[0].find("PORT").unwrap();
    assert_eq!(&lines[1][col..col + 3], "514", "{t}");
    assert_eq!(&lines[2][col..col + 2], "- ", "{t}");
    assert!(t.lines().all(|l| !l.ends_with(' ')));
}

#[test]
fn markdown_escapes_pipes() {
    let mut f = listener("0.0.0.0:514", Transport::Udp, Security::Plain, "inputs.a");
    f.purpose = "a | b".into();
    let md = render(&[f], Format::Markdown);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(
        lines[0],
        "| Direction | Source | Destination | Port | Transport | Protocol | Security | Component | Purpose |"
    );
    assert_eq!(lines[1].matches("---").count(), 9);
    assert!(lines[2].contains("a \\| b"), "{md}");
}

#[test]
fn csv_quotes_when_needed() {
    let mut f = client(
        "192.0.2.1",
        PortSpec::Range(6000, 6010),
        Transport::Tcp,
        "x",
    );
    f.purpose = "say \"hi\", then go".into();
    let icmp = client("192.0.2.1", PortSpec::None, Transport::Icmp, "icmp");
    let csv = render(&[f, icmp], Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "direction,source,destination,port,transport,protocol,security,component,purpose"
    );
    assert_eq!(
        lines[1],
        "outbound,hark,192.0.2.1,6000-6010,tcp,x,plain,monitors.x,\"say \"\"hi\"\", then go\""
    );
    assert_eq!(
        lines[2],
        "outbound,hark,192.0.2.1,,icmp,icmp,plain,monitors.x,a check"
    );
}

#[test]
fn json_round_trips() {
    let flows = vec![
        listener("[::]:6514", Transport::Tcp, Security::Mtls, "inputs.t"),
        client(
            "mail.example.net",
            PortSpec::Single(25),
            Transport::Tcp,
            "smtp",
        ),
        client("192.0.2.9", PortSpec::None, Transport::Icmp, "icmp"),
    ];
    let text = render(&flows, Format::Json);
    let back: Vec<Flow> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, flows);
}

#[test]
fn nftables_rules_restrict_to_family_and_address() {
    let flows = [
        listener(
            "0.0.0.0:10514",
            Transport::Udp,
            Security::Plain,
            "inputs.v4",
        ),
        listener("[::]:10514", Transport::Tcp, Security::Plain, "inputs.both"),
        listener(
            "192.0.2.10:514",
            Transport::Udp,
            Security::Plain,
            "inputs.one",
        ),
        listener(
            "[2001:db8::1]:6514",
            Transport::Tcp,
            Security::Tls,
            "inputs.six",
        ),
        listener("127.0.0.1:8514", Transport::Tcp, Security::Token, "http"),
        client(
            "mail.example.net",
            PortSpec::Single(25),
            Transport::Tcp,
            "smtp",
        ),
        client("192.0.2.53", PortSpec::Single(53), Transport::Udp, "dns"),
        client("192.0.2.9", PortSpec::None, Transport::Icmp, "icmp"),
    ];
    let nft = render(&flows, Format::Nftables);
    for rule in [
        "meta nfproto ipv4 udp dport 10514 accept comment \"inputs.v4: syslog from network devices\"",
        "\t\ttcp dport 10514 accept comment \"inputs.both:",
        "ip daddr 192.0.2.10 udp dport 514 accept",
        "ip6 daddr 2001:db8::1 tcp dport 6514 accept",
        "\t\ttcp dport 25 accept comment \"monitors.x: a check\"",
        "ip daddr 192.0.2.53 udp dport 53 accept",
        "ip daddr 192.0.2.9 icmp type echo-request accept",
        "# local syslog localhost -> 127.0.0.1 port 8514/tcp (token, http) (allowed by the loopback rule)",
    ] {
        assert!(nft.contains(rule), "missing {rule:?} in\n{nft}");
    }
    let input = &nft[nft.find("chain input").unwrap()..nft.find("chain output").unwrap()];
    assert!(input.contains("dport 10514") && !input.contains("dport 25"));
    assert!(
        !nft.contains("dport 8514"),
        "loopback needs no rule:\n{nft}"
    );
}

#[test]
fn iptables_is_ipv4_only_and_names_skipped_rows() {
    let flows = [
        listener(
            "0.0.0.0:10514",
            Transport::Udp,
            Security::Plain,
            "inputs.v4",
        ),
        listener(
            "[2001:db8::1]:6514",
            Transport::Tcp,
            Security::Tls,
            "inputs.six",
        ),
        listener(
            "192.0.2.10:6000",
            Transport::Tcp,
            Security::Plain,
            "inputs.r",
        ),
        client(
            "192.0.2.1",
            PortSpec::Range(6000, 6010),
            Transport::Tcp,
            "x",
        ),
    ];
    let ipt = render(&flows, Format::Iptables);
    assert!(ipt.contains("-A INPUT -p udp -m udp --dport 10514 -m comment --comment \"inputs.v4: syslog from network devices\" -j ACCEPT"), "{ipt}");
    assert!(
        ipt.contains("-A INPUT -d 192.0.2.10/32 -p tcp -m tcp --dport 6000 "),
        "{ipt}"
    );
    assert!(
        ipt.contains("-A OUTPUT -d 192.0.2.1/32 -p tcp -m tcp --dport 6000:6010 "),
        "{ipt}"
    );
    assert!(ipt.contains("# IPv6 only"), "{ipt}");
    assert!(!ipt.contains("2001:db8::1/"), "{ipt}");
    assert!(ipt.trim_end().ends_with("COMMIT"));
}

#[test]
fn firewalld_uses_ports_rich_rules_and_a_policy() {
    let flows = [
        listener("[::]:10514", Transport::Tcp, Security::Plain, "inputs.both"),
        listener(
            "0.0.0.0:10514",
            Transport::Udp,
            Security::Plain,
            "inputs.v4",
        ),
        listener(
            "192.0.2.10:514",
            Transport::Udp,
            Security::Plain,
            "inputs.one",
        ),
        client("192.0.2.25", PortSpec::Single(25), Transport::Tcp, "smtp"),
    ];
    let fw = render(&flows, Format::Firewalld);
    for line in [
        "firewall-cmd --permanent --add-port=10514/tcp",
        "firewall-cmd --permanent --add-rich-rule='rule family=\"ipv4\" port port=\"10514\" protocol=\"udp\" accept'",
        "firewall-cmd --permanent --add-rich-rule='rule family=\"ipv4\" destination address=\"192.0.2.10\" port port=\"514\" protocol=\"udp\" accept'",
        "firewall-cmd --permanent --new-policy=hark-out",
        "firewall-cmd --permanent --policy=hark-out --add-rich-rule='rule family=\"ipv4\" destination address=\"192.0.2.25\" port port=\"25\" protocol=\"tcp\" accept'",
        "firewall-cmd --reload",
    ] {
        assert!(fw.lines().any(|l| l == line), "missing {line:?} in\n{fw}");
    }
    // Without outbound flows there is no policy to create.
    let fw = render(&flows[..1], Format::Firewalld);
    assert!(!fw.contains("new-policy"), "{fw}");
}

#[test]
fn ufw_allows_in_and_out() {
    let flows = [
        listener(
            "0.0.0.0:10514",
            Transport::Udp,
            Security::Plain,
            "inputs.v4",
        ),
        listener("[::]:10514", Transport::Tcp, Security::Plain, "inputs.both"),
        client(
            "192.0.2.25",
            PortSpec::Range(6000, 6010),
            Transport::Tcp,
            "x",
        ),
        client("192.0.2.9", PortSpec::None, Transport::Icmp, "icmp"),
    ];
    let ufw = render(&flows, Format::Ufw);
    for line in [
        "ufw allow in proto udp to 0.0.0.0/0 port 10514 comment 'inputs.v4: syslog from network devices'",
        "ufw allow in proto tcp to any port 10514 comment 'inputs.both: syslog from network devices'",
        "ufw allow out proto tcp to 192.0.2.25 port 6000:6010 comment 'monitors.x: a check'",
    ] {
        assert!(ufw.lines().any(|l| l == line), "missing {line:?} in\n{ufw}");
    }
    assert!(ufw.contains("ufw has no command for ICMP"), "{ufw}");
}

#[test]
fn comments_cannot_break_out_of_quotes() {
    let mut f = listener("0.0.0.0:1", Transport::Udp, Security::Plain, "inputs.a");
    f.purpose = "it's \"quoted\"; $(rm -rf /)\nnext".into();
    let c = comment(&f, 500);
    assert!(!c.contains(['"', '\'', '$', '\n']), "{c}");
    f.purpose = "é".repeat(100);
    assert!(comment(&f, 51).len() <= 51);
}
