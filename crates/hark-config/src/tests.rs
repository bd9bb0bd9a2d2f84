use super::*;

fn err(text: &str) -> String {
    match Config::from_toml_str("hark.toml", text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn embedded_default_toml_matches_defaults() {
    let parsed = Config::from_toml_str("default.toml", DEFAULT_TOML).unwrap();
    let built = Config::default();
    assert_eq!(parsed.data_dir, built.data_dir);
    assert_eq!(parsed.http.listen, built.http.listen);
    assert_eq!(
        parsed.inputs.keys().collect::<Vec<_>>(),
        built.inputs.keys().collect::<Vec<_>>()
    );
    for (name, input) in &parsed.inputs {
        assert_eq!(input.kind(), built.inputs[name].kind());
        assert_eq!(input.listen, built.inputs[name].listen);
        assert_eq!(input.transport(), built.inputs[name].transport());
        // The protocol carries the snmptrap communities and store_community.
        assert_eq!(input.protocol, built.inputs[name].protocol);
    }
}

#[test]
fn empty_file_gives_default_inputs() {
    let cfg = Config::from_toml_str("x.toml", "").unwrap();
    assert_eq!(cfg.inputs.len(), 7);
    assert_eq!(cfg.http.listen.port(), 8514);
    assert_eq!(cfg.storage.fsync, Fsync::Interval);
}

#[test]
fn full_example_parses() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
data_dir = "/var/lib/hark"
[http]
listen = "127.0.0.1:8514"
[inputs.syslog_tls]
type = "syslog"
transport = "tls"
listen = "0.0.0.0:6514"
tls_cert = "/etc/hark/server.crt"
tls_key = "/etc/hark/server.key"
tls_client_ca = "/etc/hark/ca.crt"
max_message_size = "128KiB"
idle_timeout = "5m"
timezone = "+01:00"
[storage]
fsync = "always"
retention_max_age = "7d"
retention_max_disk = "50GiB"
"#,
    )
    .unwrap();
    let tls = &cfg.inputs["syslog_tls"];
    assert_eq!(tls.max_message_size.0, 128 * 1024);
    assert_eq!(tls.idle_timeout.0, Duration::from_secs(300));
    assert_eq!(tls.timezone.seconds_east(), 3600);
    assert_eq!(cfg.storage.fsync, Fsync::Always);
    assert_eq!(
        cfg.storage.retention_max_disk.unwrap().0,
        50 * 1024 * 1024 * 1024
    );
    assert_eq!(
        cfg.storage.retention_max_age.0,
        Duration::from_secs(7 * 86400)
    );
}

#[test]
fn unknown_key_names_file_line_and_expected_keys() {
    let e = err("data_dir = \"x\"\n[http]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n");
    assert!(e.starts_with("hark.toml:4:"), "{e}");
    assert!(e.contains("unknown field `lisen`"), "{e}");
    assert!(e.contains("listen"), "{e}");
}

#[test]
fn bad_values_name_the_line_and_the_form() {
    let e = err("[storage]\nfsync = \"sometimes\"\n");
    assert!(e.starts_with("hark.toml:2:"), "{e}");
    assert!(e.contains("always"), "{e}");

    let e = err("[storage]\n\nretention_max_age = \"forever\"\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    assert!(e.contains("\"30d\""), "{e}");

    let e = err("[inputs.a]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"nowhere\"\n");
    assert!(e.starts_with("hark.toml:4:"), "{e}");
    assert!(e.contains("expected IP:PORT"), "{e}");
}

#[test]
fn tls_without_cert_is_refused_at_its_table() {
    let e =
        err("\n[inputs.t]\ntype = \"syslog\"\ntransport = \"tls\"\nlisten = \"0.0.0.0:6514\"\n");
    assert!(e.starts_with("hark.toml:2:"), "{e}");
    assert!(e.contains("tls_cert"), "{e}");
}

#[test]
fn tls_keys_on_plain_transport_are_refused_at_the_key() {
    let e = err(
        "[inputs.t]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:1\"\ntls_key = \"k\"\n",
    );
    assert!(e.starts_with("hark.toml:5:"), "{e}");
}

#[test]
fn clashing_listeners_are_refused() {
    let e = err(
        "[inputs.a]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:5000\"\n\
         [inputs.b]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"127.0.0.1:5000\"\n",
    );
    assert!(e.contains("already uses"), "{e}");
    assert!(e.starts_with("hark.toml:8:"), "{e}");
    // UDP and TCP on one port is the normal syslog setup.
    Config::from_toml_str(
        "x",
        "[inputs.a]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:5000\"\n\
         [inputs.b]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"0.0.0.0:5000\"\n",
    )
    .unwrap();
}

#[test]
fn offsets_parse() {
    assert_eq!(units::parse_offset("UTC"), Some(0));
    assert_eq!(units::parse_offset("-05:30"), Some(-(5 * 3600 + 30 * 60)));
    assert_eq!(units::parse_offset("+0100"), Some(3600));
    assert_eq!(units::parse_offset("Europe/Paris"), None);
}

#[test]
fn new_input_types_parse_with_derived_transports() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[inputs.relp]
type = "relp"
listen = "0.0.0.0:20514"
[inputs.relp_tls]
type = "relp"
listen = "0.0.0.0:20515"
tls_cert = "/etc/hark/server.crt"
tls_key = "/etc/hark/server.key"
tls_client_ca = "/etc/hark/ca.crt"
[inputs.beats]
type = "beats"
listen = "0.0.0.0:5044"
[inputs.gelf_udp]
type = "gelf"
transport = "udp"
listen = "0.0.0.0:12201"
[inputs.gelf_tcp]
type = "gelf"
transport = "tcp"
listen = "0.0.0.0:12201"
[inputs.traps]
type = "snmptrap"
listen = "0.0.0.0:10162"
communities = ["public", "monitoring"]
store_community = true
"#,
    )
    .unwrap();
    assert_eq!(cfg.inputs["relp"].kind(), InputType::Relp);
    assert_eq!(cfg.inputs["relp"].transport(), Transport::Tcp);
    assert_eq!(cfg.inputs["relp_tls"].transport(), Transport::Tls);
    assert_eq!(
        cfg.inputs["relp_tls"].tls(),
        Some(&TlsFiles {
            cert: "/etc/hark/server.crt".into(),
            key: "/etc/hark/server.key".into(),
            client_ca: Some("/etc/hark/ca.crt".into()),
        })
    );
    assert_eq!(cfg.inputs["beats"].transport(), Transport::Tcp);
    assert_eq!(cfg.inputs["gelf_udp"].transport(), Transport::Udp);
    assert_eq!(cfg.inputs["gelf_tcp"].transport(), Transport::Tcp);
    let traps = &cfg.inputs["traps"];
    assert_eq!(traps.transport(), Transport::Udp);
    let InputProtocol::Snmptrap(trap) = &traps.protocol else {
        panic!("snmptrap")
    };
    assert_eq!(trap.communities, ["public", "monitoring"]);
    assert!(trap.store_community);
    // Only snmptrap inputs have communities at all now.
    assert_eq!(
        cfg.inputs["relp"].protocol,
        InputProtocol::Relp(RelpInput { tls: None })
    );
}

#[test]
fn every_input_type_has_its_config_name() {
    for ty in InputType::ALL {
        let text = format!(
            "[inputs.x]\ntype = \"{}\"\nlisten = \"0.0.0.0:1\"\n",
            ty.name()
        );
        let text = match ty {
            InputType::Syslog | InputType::Gelf => text + "transport = \"udp\"\n",
            _ => text,
        };
        let cfg = Config::from_toml_str("x", &text).unwrap();
        assert_eq!(cfg.inputs["x"].kind(), *ty);
    }
}

#[test]
fn gelf_takes_http_and_only_gelf_does() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[inputs.gh]\ntype = \"gelf\"\ntransport = \"http\"\nlisten = \"0.0.0.0:12201\"\n",
    )
    .unwrap();
    assert_eq!(cfg.inputs["gh"].transport(), Transport::Http);
    assert_eq!(Transport::Http.name(), "http");

    let e = err("[inputs.s]\ntype = \"syslog\"\ntransport = \"http\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(e.starts_with("hark.toml:"), "{e}");
    assert!(e.contains("\"udp\", \"tcp\" or \"tls\""), "{e}");

    let e = err("[inputs.b]\ntype = \"beats\"\ntransport = \"http\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(e.contains("remove transport"), "{e}");

    let e = err(
        "[inputs.gh]\ntype = \"gelf\"\ntransport = \"http\"\nlisten = \"0.0.0.0:1\"\ntls_cert = \"c\"\n",
    );
    assert!(e.starts_with("hark.toml:5:"), "{e}");
    assert!(e.contains("TLS is not supported here"), "{e}");

    // HTTP is TCP: it cannot share a port with a TCP input, but may with UDP.
    let e = err(
        "[inputs.a]\ntype = \"gelf\"\ntransport = \"http\"\nlisten = \"0.0.0.0:12201\"\n\
         [inputs.b]\ntype = \"gelf\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:12201\"\n",
    );
    assert!(e.contains("already uses for TCP"), "{e}");
    Config::from_toml_str(
        "hark.toml",
        "[inputs.a]\ntype = \"gelf\"\ntransport = \"http\"\nlisten = \"0.0.0.0:12201\"\n\
         [inputs.b]\ntype = \"gelf\"\ntransport = \"udp\"\nlisten = \"0.0.0.0:12201\"\n",
    )
    .unwrap();
}

#[test]
fn misplaced_transport_and_snmp_keys_are_refused_with_the_form() {
    let e = err("\n[inputs.r]\ntype = \"relp\"\ntransport = \"tls\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(e.starts_with("hark.toml:"), "{e}");
    assert!(e.contains("remove transport"), "{e}");

    let e = err("[inputs.g]\ntype = \"gelf\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(
        e.contains("transport = \"udp\", \"tcp\" or \"http\""),
        "{e}"
    );

    let e = err("[inputs.g]\ntype = \"gelf\"\ntransport = \"tls\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(
        e.contains("transport = \"udp\", \"tcp\" or \"http\""),
        "{e}"
    );

    let e = err("[inputs.s]\ntype = \"snmptrap\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(e.contains("UDP only"), "{e}");

    let e = err("[inputs.b]\ntype = \"beats\"\nlisten = \"0.0.0.0:1\"\ncommunities = [\"x\"]\n");
    assert!(e.contains("only apply to type = \"snmptrap\""), "{e}");

    let e = err("[inputs.s]\ntype = \"snmptrap\"\nlisten = \"0.0.0.0:1\"\ncommunities = []\n");
    assert!(e.contains("at least one community"), "{e}");

    let e = err("[inputs.b]\ntype = \"beats\"\nlisten = \"0.0.0.0:1\"\n\ntls_key = \"k\"\n");
    assert!(e.starts_with("hark.toml:5:"), "{e}");
    assert!(e.contains("tls_cert"), "{e}");

    let e = err("[inputs.s]\ntype = \"syslog\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(e.contains("\"udp\", \"tcp\" or \"tls\""), "{e}");

    let e = err("[inputs.r]\ntype = \"relp\"\nlisten = \"0.0.0.0:1\"\nlisen = 1\n");
    assert!(e.starts_with("hark.toml:4:"), "{e}");
    assert!(e.contains("unknown field `lisen`"), "{e}");
}

#[test]
fn monitors_from_the_documented_example() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[monitoring]
concurrency = 64

[monitors.shop]
type = "http"
url = "https://shop.example.test/health"
interval = "30s"
expect_status = [200]
body_contains = "ok"
cert_expiry_warn = "21d"
cert_expiry_crit = "7d"

[monitors.gateway]
type = "icmp"
host = "192.0.2.1"
interval = "10s"

[monitors.db]
type = "tcp"
host = "db1.example.test"
port = 5432
parent = "gateway"

[monitors.uplink]
type = "snmp"
host = "192.0.2.1"
community = "secret"
oids = [{ oid = "1.3.6.1.2.1.2.2.1.10.2", label = "in", rate = true, scale = 8, warn = "~:800000000" }]

[monitors.load]
type = "metrics"
url = "http://127.0.0.1:9100/metrics"
metric = "node_load1"
warn = 2
crit = "4"
"#,
    )
    .unwrap();
    assert_eq!(cfg.monitoring.concurrency, 64);
    let shop = &cfg.monitors["shop"];
    assert_eq!(shop.kind(), MonitorType::Http);
    assert_eq!(shop.target(), "shop.example.test");
    assert_eq!(shop.interval, Duration::from_secs(30));
    assert_eq!(shop.retry_interval, Duration::from_secs(30));
    assert_eq!(shop.max_attempts, 3);
    let CheckConfig::Http(h) = &shop.check else {
        panic!("http")
    };
    assert_eq!(h.expect_status, vec![200]);
    assert_eq!(h.cert_expiry_crit, Duration::from_secs(7 * 86400));
    assert_eq!(cfg.monitors["db"].parent.as_deref(), Some("gateway"));
    assert!(cfg.monitors["gateway"].kind().is_host_check());
    let CheckConfig::Snmp(s) = &cfg.monitors["uplink"].check else {
        panic!("snmp")
    };
    assert_eq!(s.port, 161);
    assert!(s.oids[0].rate && s.oids[0].warn.unwrap().alerts(9e8));
    let CheckConfig::Metrics(m) = &cfg.monitors["load"].check else {
        panic!("metrics")
    };
    assert!(m.warn.unwrap().alerts(2.5) && !m.crit.unwrap().alerts(3.9));
}

#[test]
fn monitor_key_of_another_type_is_named_with_its_line() {
    let e = err("[monitors.db]\ntype = \"tcp\"\nhost = \"h\"\nport = 1\nurl = \"http://x/\"\n");
    assert!(e.starts_with("hark.toml:"), "{e}");
    assert!(e.contains("url does not apply to a tcp monitor"), "{e}");
    let e = err("[monitors.db]\ntype = \"tcp\"\nhost = \"h\"\n");
    assert!(e.contains("needs port"), "{e}");
    let e = err("[monitors.w]\ntype = \"http\"\nurl = \"ftp://x/\"\n");
    assert!(e.contains("http:// or https://"), "{e}");
    let e = err("[monitors.w]\ntype = \"http\"\nurl = \"http://x/\"\nbody_regex = \"(\"\n");
    assert!(
        e.contains("body_regex is not a valid regular expression"),
        "{e}"
    );
    let e = err(
        "[monitors.m]\ntype = \"metrics\"\nurl = \"http://x/\"\nmetric = \"m\"\nwarn = \"20:10\"\n",
    );
    assert!(e.starts_with("hark.toml:5:"), "{e}");
    assert!(e.contains("Nagios range"), "{e}");
}

#[test]
fn monitors_are_private_unless_marked_public() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[monitors.site]\ntype = \"tcp\"\nhost = \"h\"\nport = 443\npublic = true\n\
         [monitors.db]\ntype = \"tcp\"\nhost = \"h\"\nport = 5432\n",
    )
    .unwrap();
    assert!(cfg.monitors["site"].public);
    assert!(!cfg.monitors["db"].public);
    let e = err("[monitors.a]\ntype = \"icmp\"\nhost = \"h\"\npublic = \"yes\"\n");
    assert!(e.starts_with("hark.toml:"), "{e}");
}

#[test]
fn monitor_parents_must_exist_and_not_loop() {
    let e = err("[monitors.a]\ntype = \"icmp\"\nhost = \"h\"\nparent = \"nope\"\n");
    assert!(e.starts_with("hark.toml:4:"), "{e}");
    assert!(e.contains("not a configured monitor"), "{e}");
    let e = err(
        "[monitors.a]\ntype = \"icmp\"\nhost = \"h\"\nparent = \"b\"\n\
         [monitors.b]\ntype = \"icmp\"\nhost = \"h\"\nparent = \"a\"\n",
    );
    assert!(e.contains("cycle"), "{e}");
}

#[test]
fn split_limits_default_and_parse() {
    let cfg = Config::default();
    assert_eq!(cfg.storage.split_max_events.get(), 10_000_000);
    assert_eq!(cfg.storage.split_max_age.0, Duration::from_secs(86_400));
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[storage]\nsplit_max_events = 2000000\nsplit_max_age = \"6h\"\n",
    )
    .unwrap();
    assert_eq!(cfg.storage.split_max_events.get(), 2_000_000);
    assert_eq!(cfg.storage.split_max_age.0, Duration::from_secs(6 * 3600));
    let e = err("[storage]\n\nsplit_max_events = 0\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    let e = err("[storage]\nsplit_max_events = \"many\"\n");
    assert!(e.starts_with("hark.toml:2:"), "{e}");
}

#[test]
fn wal_retention_for_readers_parses() {
    let cfg = Config::default();
    assert_eq!(cfg.storage.wal_max_retained, None);
    assert_eq!(cfg.storage.wal_lagging_reader, LaggingReader::Keep);
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[storage]\nwal_max_retained = \"10GiB\"\nwal_lagging_reader = \"detach\"\n",
    )
    .unwrap();
    assert_eq!(
        cfg.storage.wal_max_retained.unwrap().0,
        10 * 1024 * 1024 * 1024
    );
    assert_eq!(cfg.storage.wal_lagging_reader, LaggingReader::Detach);
    let e = err("[storage]\nwal_lagging_reader = \"skip\"\n");
    assert!(e.starts_with("hark.toml:2:"), "{e}");
}

#[test]
fn a_key_of_the_wrong_type_is_refused_with_file_line_and_column() {
    let e = err(
        "[inputs.a]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"0.0.0.0:1\"\nmax_connections = \"many\"\n",
    );
    assert!(e.starts_with("hark.toml:5:19:"), "{e}");
    assert!(e.contains("invalid type"), "{e}");

    let e = err("[monitors.db]\ntype = \"tcp\"\nhost = \"h\"\nport = \"5432\"\n");
    assert!(e.starts_with("hark.toml:4:8:"), "{e}");
    assert!(e.contains("expected u16"), "{e}");

    let e = err(
        "[monitors.u]\ntype = \"snmp\"\nhost = \"h\"\noids = [\n  { oid = \"1.3.6.1\", rate = \"yes\" },\n]\n",
    );
    assert!(e.starts_with("hark.toml:5:"), "{e}");
    assert!(e.contains("expected a boolean"), "{e}");
}

#[test]
fn a_key_of_another_monitor_type_names_the_allowed_keys() {
    let e = err("[monitors.web]\ntype = \"http\"\nurl = \"http://x/\"\n\noids = []\n");
    assert!(e.starts_with("hark.toml:5:1:"), "{e}");
    assert!(e.contains("oids does not apply to a http monitor"), "{e}");
    assert!(e.contains("url, method, headers"), "{e}");
    assert!(e.contains("follow_redirects"), "{e}");

    let e = err("[monitors.web]\ntype = \"http\"\nurl = \"http://x/\"\nurll = 1\n");
    assert!(e.starts_with("hark.toml:4:1:"), "{e}");
    assert!(e.contains("unknown field `urll`"), "{e}");

    let e = err("[monitors.web]\ntype = \"smtp\"\n");
    assert!(e.starts_with("hark.toml:2:8:"), "{e}");
    assert!(e.contains("`icmp`, `tcp`, `http`"), "{e}");

    let e = err("[monitors.u]\ntype = \"snmp\"\nhost = \"h\"\n");
    assert!(e.contains("a snmp monitor needs oids"), "{e}");
}

#[test]
fn a_key_of_another_input_type_names_its_type() {
    let e = err("[inputs.r]\ntype = \"relp\"\nlisten = \"0.0.0.0:1\"\nstore_community = true\n");
    assert!(e.starts_with("hark.toml:4:1:"), "{e}");
    assert!(e.contains("only apply to type = \"snmptrap\""), "{e}");
    assert!(e.contains("listen"), "{e}");
}

#[test]
fn a_bad_url_port_is_refused_at_load() {
    let e = err("[monitors.w]\ntype = \"http\"\nurl = \"http://h:99999/\"\n");
    assert!(e.starts_with("hark.toml:3:7:"), "{e}");
    assert!(e.contains("invalid port \"99999\""), "{e}");
    let e = err("[monitors.m]\ntype = \"metrics\"\nmetric = \"m\"\nurl = \"http://[::1/\"\n");
    assert!(e.starts_with("hark.toml:4:7:"), "{e}");

    let cfg = Config::from_toml_str(
        "hark.toml",
        "[monitors.w]\ntype = \"http\"\nurl = \"https://[::1]:8443/x\"\n",
    )
    .unwrap();
    let CheckConfig::Http(h) = &cfg.monitors["w"].check else {
        panic!("http")
    };
    assert_eq!(
        (h.url.host(), h.url.port(), h.url.is_https()),
        ("::1", 8443, true)
    );
    assert_eq!(cfg.monitors["w"].target(), "::1");
}

#[test]
fn oids_are_typed_at_load() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[monitors.u]\ntype = \"snmp\"\nhost = \"h\"\noids = [{ oid = \".1.3.6.1.2.1.1.3.0\" }]\n",
    )
    .unwrap();
    let CheckConfig::Snmp(s) = &cfg.monitors["u"].check else {
        panic!("snmp")
    };
    assert_eq!(s.oids[0].oid.arcs(), [1, 3, 6, 1, 2, 1, 1, 3, 0]);
    let e = err("[monitors.u]\ntype = \"snmp\"\nhost = \"h\"\noids = [{ oid = \"1.x.3\" }]\n");
    assert!(e.starts_with("hark.toml:4:"), "{e}");
    assert!(e.contains("not a numeric OID"), "{e}");
    let typed = |text: &str| {
        let toml = format!(
            "[monitors.u]\ntype = \"snmp\"\nhost = \"h\"\noids = [{{ oid = \"{text}\" }}]\n"
        );
        let cfg = Config::from_toml_str("hark.toml", &toml).ok()?;
        let CheckConfig::Snmp(s) = &cfg.monitors["u"].check else {
            return None;
        };
        Some(s.oids[0].oid.arcs().to_vec())
    };
    assert_eq!(typed(" .1.3.6 "), Some(vec![1, 3, 6]));
    for bad in ["", "1", "3.1", "1.40", "1.x.2", "1..2", "1.3.4294967296"] {
        assert_eq!(typed(bad), None, "{bad}");
    }
}

#[test]
fn socket_addresses_are_typed_at_load() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[monitors.d]\ntype = \"dns\"\nname = \"a.test\"\nserver = \"[::1]:5353\"\n",
    )
    .unwrap();
    let CheckConfig::Dns(d) = &cfg.monitors["d"].check else {
        panic!("dns")
    };
    assert_eq!(d.server, "[::1]:5353".parse().ok());
    let e = err("[monitors.d]\ntype = \"dns\"\nname = \"a.test\"\nserver = \"dns.test\"\n");
    assert!(e.starts_with("hark.toml:4:10:"), "{e}");
    assert!(e.contains("IP:PORT"), "{e}");
}

#[test]
fn durations_and_sizes_are_typed_at_load() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[monitors.p]\ntype = \"icmp\"\nhost = \"h\"\ninterval = \"2m\"\nwarn_rtt = \"150ms\"\n\
         [inputs.a]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"0.0.0.0:1\"\nrecv_buffer = \"1MiB\"\n",
    )
    .unwrap();
    let CheckConfig::Icmp(i) = &cfg.monitors["p"].check else {
        panic!("icmp")
    };
    assert_eq!(cfg.monitors["p"].interval, Duration::from_secs(120));
    assert_eq!(cfg.monitors["p"].timeout, Duration::from_secs(10));
    assert_eq!(i.warn_rtt, Duration::from_millis(150));
    assert_eq!(i.crit_rtt, Duration::from_millis(500));
    assert_eq!(cfg.inputs["a"].recv_buffer.0, 1024 * 1024);
    let e = err("[monitors.p]\ntype = \"icmp\"\nhost = \"h\"\nwarn_rtt = \"soon\"\n");
    assert!(e.starts_with("hark.toml:4:12:"), "{e}");
    assert!(e.contains("\"100ms\""), "{e}");
    let e = err(
        "[inputs.a]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"0.0.0.0:1\"\nrecv_buffer = -1\n",
    );
    assert!(e.starts_with("hark.toml:5:"), "{e}");
    assert!(e.contains("negative"), "{e}");
}

#[test]
fn regexes_and_thresholds_are_typed_at_load() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[monitors.w]\ntype = \"http\"\nurl = \"http://x/\"\nbody_regex = \"^ok$\"\n\
         [monitors.m]\ntype = \"metrics\"\nurl = \"http://x/\"\nmetric = \"m\"\ncrit = \"@10:20\"\n",
    )
    .unwrap();
    let CheckConfig::Http(h) = &cfg.monitors["w"].check else {
        panic!("http")
    };
    assert!(h.body_regex.as_ref().is_some_and(|r| r.is_match("ok")));
    let CheckConfig::Metrics(m) = &cfg.monitors["m"].check else {
        panic!("metrics")
    };
    assert!(m.crit.is_some_and(|t| t.alerts(15.0) && !t.alerts(25.0)));
    let e = err("[monitors.d]\ntype = \"dns\"\nname = \"a\"\n\nexpect_regex = \"[\"\n");
    assert!(e.starts_with("hark.toml:5:16:"), "{e}");
    assert!(
        e.contains("expect_regex is not a valid regular expression"),
        "{e}"
    );
}

#[test]
fn dns_names_and_timezones_are_typed_at_load() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[monitors.d]\ntype = \"dns\"\nname = \"a\"\nrecord_type = \"aaaa\"\nexpect_rcode = \"nxdomain\"\n",
    )
    .unwrap();
    let CheckConfig::Dns(d) = &cfg.monitors["d"].check else {
        panic!("dns")
    };
    assert_eq!(
        (d.record_type, d.expect_rcode),
        (DnsRecordType::Aaaa, DnsRcode::NxDomain)
    );
    let e = err("[monitors.d]\ntype = \"dns\"\nname = \"a\"\nrecord_type = \"AXFR\"\n");
    assert!(e.starts_with("hark.toml:4:"), "{e}");
    assert!(e.contains("A, AAAA, CNAME"), "{e}");
    let e = err(
        "[inputs.a]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"0.0.0.0:1\"\ntimezone = \"Europe/Paris\"\n",
    );
    assert!(e.starts_with("hark.toml:5:12:"), "{e}");
    assert!(e.contains("\"+01:00\""), "{e}");
}

#[test]
fn rules_between_keys_blame_the_key() {
    let e = err("[monitors.w]\ntype = \"http\"\nurl = \"http://x/\"\n\nbody = \"x\"\n");
    assert!(e.starts_with("hark.toml:5:1:"), "{e}");
    assert!(e.contains("only with method = \"POST\""), "{e}");
    let e = err("[monitors.p]\ntype = \"icmp\"\nhost = \"h\"\n\npackets = 0\n");
    assert!(e.starts_with("hark.toml:5:1:"), "{e}");
    let e = err("[storage]\n\nindex_threads = 9\n");
    assert!(e.starts_with("hark.toml:3:1:"), "{e}");
}

#[test]
fn unknown_top_level_key_is_named() {
    let e = err("data_dir = \"x\"\n\nmonitor = 1\n");
    assert!(e.starts_with("hark.toml:3:1:"), "{e}");
    assert!(e.contains("unknown field `monitor`"), "{e}");
    assert!(e.contains("`monitors`"), "{e}");
}

#[test]
fn alert_rules_from_the_documented_example() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[notify.ops_mail]
type = "smtp"
host = "mail.example.test"
from = "Hark <hark@example.test>"
to = ["ops@example.test"]

[notify.chat]
type = "webhook"
url = "https://hooks.example.test/hark"
[alerts.ssh_bruteforce]
type = "log"
query = 'app:sshd AND "Failed password"'
group_by = ["host"]
window = "5m"
condition = "count > 20"
severity = "warning"
notify = ["ops_mail", "chat"]
repeat = "4h"

[alerts.problems]
type = "monitor"
notify = ["ops_mail"]
"#,
    )
    .unwrap();
    let ssh = &cfg.alerts["ssh_bruteforce"];
    assert_eq!(ssh.notify, ["ops_mail", "chat"]);
    assert_eq!(ssh.repeat, Some(Duration::from_secs(4 * 3600)));
    let AlertRule::Log(log) = &ssh.rule else {
        panic!("not a log rule: {ssh:?}");
    };
    assert_eq!(log.window, Duration::from_secs(300));
    assert_eq!(log.condition.to_string(), "count > 20");
    let AlertRule::Monitor(m) = &cfg.alerts["problems"].rule else {
        panic!("not a monitor rule");
    };
    assert_eq!(m.monitors, ["*"]);
    assert_eq!(
        m.states,
        [ProblemState::Warn, ProblemState::Crit, ProblemState::Down]
    );
}

#[test]
fn alert_rule_errors_name_the_line_and_the_form() {
    let e = err("[alerts.a]\ntype = \"log\"\nquery = \"*\"\ncondition = \"count = 3\"\n");
    assert!(e.starts_with("hark.toml:4:"), "{e}");
    assert!(e.contains("count > N"), "{e}");
    let e = err("[alerts.a]\ntype = \"monitor\"\nquery = \"*\"\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    assert!(e.contains("does not apply to a monitor alert rule"), "{e}");
    let e = err("[alerts.a]\ntype = \"monitor\"\nstates = [\"UNREACHABLE\"]\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    let e = err(
        "[alerts.a]\ntype = \"log\"\nquery = \"*\"\ncondition = \"count > 1\"\nwindow = \"0s\"\n",
    );
    assert!(e.starts_with("hark.toml:5:"), "{e}");
    let e = err("[alerts.a]\ntype = \"page\"\n");
    assert!(e.contains("expected one of `log`, `monitor`"), "{e}");
}

#[test]
fn event_rules_from_the_documented_example() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[notify.ops_mail]
type = "smtp"
host = "mail.example.test"
from = "Hark <hark@example.test>"
to = ["ops@example.test"]

[notify.chat]
type = "webhook"
url = "https://hooks.example.test/hark"
[event_rules.link]
match = 'snmp.trap_oid:"1.3.6.1.6.3.1.1.5.3"'
cancel = 'snmp.trap_oid:"1.3.6.1.6.3.1.1.5.4"'
key = ["host", "snmp.ifIndex"]
state = "CRIT"
count = { n = 1, window = "1m" }
expire = "24h"
notify = ["chat"]

[event_rules.sshd]
match = "app:sshd"
"#,
    )
    .unwrap();
    let link = &cfg.event_rules["link"];
    assert_eq!(link.key, ["host", "snmp.ifIndex"]);
    assert_eq!(link.state, ProblemStateSource::Fixed(ConsoleState::Crit));
    assert_eq!(link.count.as_ref().map(|c| c.n), Some(1));
    assert_eq!(link.expire, Some(Duration::from_secs(86_400)));
    let sshd = &cfg.event_rules["sshd"];
    assert_eq!(sshd.key, ["host"]);
    assert_eq!(sshd.state, ProblemStateSource::Syslog);
    let e = err("[event_rules.x]\nmatch = \"a\"\nstate = \"RED\"\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    assert!(e.contains("\"syslog\""), "{e}");
    let e = err("[event_rules.x]\nmatch = \"a\"\ncount = { n = 0, window = \"1m\" }\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    let e = err("[event_rules.x]\nmatch = \"a\"\nkeys = [\"host\"]\n");
    assert!(e.starts_with("hark.toml:3:") && e.contains("`key`"), "{e}");
}

#[test]
fn rules_must_notify_configured_channels() {
    let e = err(
        "[notify.mail]\ntype = \"smtp\"\nhost = \"m\"\ntls = \"none\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n\n[alerts.a]\ntype = \"monitor\"\nnotify = [\"mail\", \"pager\"]\n",
    );
    assert!(e.starts_with("hark.toml:10:"), "{e}");
    assert!(
        e.contains("`pager`, which is not a channel") && e.contains("mail"),
        "{e}"
    );
    let e = err("[event_rules.x]\nmatch = \"a\"\nnotify = [\"chat\"]\n");
    assert!(
        e.starts_with("hark.toml:3:") && e.contains("(none configured)"),
        "{e}"
    );
}

#[test]
fn inputs_run_auto_unless_they_name_their_parsers() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[inputs.fw]
type = "syslog"
transport = "udp"
listen = "127.0.0.1:5514"
parsers = ["fortigate", "shop"]

[inputs.any]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:5514"

[parsers.shop]
match = 'app:shop'
grok = '%{IP:clientip} %{WORD:http.request.method}'
fields = { clientip = "source.ip" }

[parsers.ids]
match = 'host:ids*'
format = "cef"

[enrich]
geoip = ["/var/lib/GeoIP/GeoLite2-City.mmdb"]
[enrich.networks]
"10.0.0.0/8" = "internal"
"2001:db8::/32" = "lab"
"#,
    )
    .unwrap();
    assert_eq!(cfg.inputs["fw"].parsers, ["fortigate", "shop"]);
    assert_eq!(cfg.inputs["any"].parsers, ["auto"]);
    let shop = &cfg.parsers["shop"];
    assert_eq!(shop.match_query, "app:shop");
    assert!(matches!(&shop.pattern, ParserPattern::Grok(g) if g.starts_with("%{IP:clientip}")));
    assert_eq!(shop.fields["clientip"], "source.ip");
    assert_eq!(cfg.enrich.networks["10.0.0.0/8"], "internal");
    assert_eq!(cfg.enrich.geoip.len(), 1);
    assert_eq!(
        cfg.parsers["ids"].pattern,
        ParserPattern::Format("cef".into())
    );
}

#[test]
fn parser_errors_name_the_line_and_the_fix() {
    let input =
        "[inputs.fw]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"127.0.0.1:5514\"\n";
    let e = err(&format!("{input}parsers = [\"fortigat\"]\n"));
    assert!(e.starts_with("hark.toml:5:"), "{e}");
    assert!(
        e.contains("parser `fortigat`") && e.contains("fortigate"),
        "{e}"
    );

    let e = err("[parsers.shop]\nmatch = 'app:shop'\n");
    assert!(e.starts_with("hark.toml:1:"), "{e}");
    assert!(e.contains("needs a pattern"), "{e}");

    let e = err("[parsers.shop]\ngrok = '%{IP:x}'\nregex = '(?P<x>.)'\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    assert!(e.contains("keep one"), "{e}");

    let e = err("[parsers.ids]\nmatch = 'host:ids*'\nformat = \"cfe\"\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    assert!(
        e.contains("not a built-in format") && e.contains("cef"),
        "{e}"
    );

    let e = err("[parsers.cef]\ngrok = '%{IP:x}'\n");
    assert!(e.starts_with("hark.toml:1:"), "{e}");
    assert!(e.contains("built-in format"), "{e}");

    let e = err("[parsers.shop]\nmatch = 'app:shop'\ngrok = '%{NOSUCHPATTERN:x}'\n");
    assert!(e.starts_with("hark.toml:3:"), "{e}");
    assert!(e.contains("unknown grok pattern"), "{e}");

    let e = err("[parsers.shop]\nmatch = 'app:[a TO b]'\nregex = '(?P<user.name>\\w+)'\n");
    assert!(e.starts_with("hark.toml:2:"), "{e}");
    assert!(e.contains("match"), "{e}");

    let e = err("[parsers.shop]\nregex = '(?P<user.name>\\w+'\n");
    assert!(e.starts_with("hark.toml:2:"), "{e}");
    assert!(e.contains("invalid regex"), "{e}");

    let e = err("[enrich.networks]\n\"10.0.0.0/33\" = \"x\"\n");
    assert!(e.starts_with("hark.toml:2:"), "{e}");
    assert!(
        e.contains("10.0.0.0/33") && e.contains("write a block like"),
        "{e}"
    );
}

#[test]
fn a_file_input_reads_its_keys_and_defaults() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[inputs.files]
type = "file"
paths = ["/var/log/*.log", "/var/log/app/**/*.json"]
exclude = ["/var/log/*.gz"]
start_at = "end"
multiline = { start = '^\d{4}-', timeout = "3s" }
encoding = "utf-16le"
max_line_bytes = "8KiB"
app = "nginx"
[inputs.plain]
type = "file"
paths = ["/srv/x.log"]
[inputs.udp]
type = "syslog"
transport = "udp"
listen = "127.0.0.1:10514"
"#,
    )
    .unwrap();
    assert_eq!(
        cfg.inputs.len(),
        1,
        "listeners and file inputs are kept apart"
    );
    let f = &cfg.file_inputs["files"];
    assert_eq!(f.paths.len(), 2);
    assert_eq!(f.exclude[0].as_str(), "/var/log/*.gz");
    assert_eq!(f.start_at, StartAt::End);
    let m = f.multiline.as_ref().unwrap();
    assert!(m.start.is_match("2026-01-01 x") && !m.start.is_match("\tat x"));
    assert_eq!(m.timeout, Duration::from_secs(3));
    assert_eq!(f.encoding.name(), "UTF-16LE");
    assert_eq!(f.max_line_bytes.0, 8192);
    assert_eq!(f.app.as_deref(), Some("nginx"));
    let p = &cfg.file_inputs["plain"];
    assert_eq!(p.start_at, StartAt::Beginning);
    assert!(p.multiline.is_none());
    assert_eq!(p.encoding, TextEncoding::UTF_8);
    assert_eq!(p.parsers, ["auto"]);
    assert_eq!(p.rescan_interval.0, Duration::from_secs(2));
}

#[test]
fn file_input_errors_name_the_line() {
    let cases = [
        (
            "[inputs.f]\ntype = \"file\"\npaths = [\"/var/log/[.log\"]\n",
            "hark.toml:3:",
            "invalid glob",
        ),
        (
            "[inputs.f]\ntype = \"file\"\npaths = [\"var/log/*.log\"]\n",
            "hark.toml:3:",
            "not absolute",
        ),
        (
            "[inputs.f]\ntype = \"file\"\npaths = [\"/a.log\"]\nmultiline = { start = '(' }\n",
            "hark.toml:4:",
            "invalid multiline start pattern",
        ),
        (
            "[inputs.f]\ntype = \"file\"\npaths = [\"/a.log\"]\nencoding = \"klingon\"\n",
            "hark.toml:4:",
            "unknown encoding",
        ),
        (
            "[inputs.f]\ntype = \"file\"\npaths = [\"/a.log\"]\nlisten = \"0.0.0.0:1\"\n",
            "hark.toml:4:",
            "unknown field `listen`",
        ),
        (
            "[inputs.f]\ntype = \"file\"\npaths = []\n",
            "hark.toml:3:",
            "paths must name at least one",
        ),
        ("[inputs.f]\ntype = \"file\"\n", "hark.toml:", "needs paths"),
        (
            "[inputs.f]\ntype = \"file\"\npaths = [\"/a.log\"]\nstart_at = \"middle\"\n",
            "hark.toml:4:",
            "unknown variant `middle`",
        ),
        (
            "[inputs.s]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"0.0.0.0:1\"\npaths = [\"/a\"]\n",
            "hark.toml:5:",
            "type = \"file\"",
        ),
        ("[inputs.f]\ntype = \"files\"\n", "hark.toml:2:", "`file`"),
    ];
    for (text, at, what) in cases {
        let e = err(text);
        assert!(e.starts_with(at) && e.contains(what), "{text}\n=> {e}");
    }
}

#[test]
fn a_file_input_names_known_parsers_only() {
    let e = err("[inputs.f]\ntype = \"file\"\npaths = [\"/a.log\"]\nparsers = [\"nope\"]\n");
    assert!(
        e.starts_with("hark.toml:4:") && e.contains("parser `nope`"),
        "{e}"
    );
}
