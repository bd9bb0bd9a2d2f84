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
        assert_eq!(input.kind, built.inputs[name].kind);
        assert_eq!(input.listen, built.inputs[name].listen);
        assert_eq!(input.transport, built.inputs[name].transport);
        assert_eq!(input.communities, built.inputs[name].communities);
        assert_eq!(input.store_community, built.inputs[name].store_community);
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
    assert_eq!(Config::input_offset_secs(tls), 3600);
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
    assert_eq!(cfg.inputs["relp"].kind, InputType::Relp);
    assert_eq!(cfg.inputs["relp"].transport, Transport::Tcp);
    assert_eq!(cfg.inputs["relp_tls"].transport, Transport::Tls);
    assert_eq!(cfg.inputs["beats"].transport, Transport::Tcp);
    assert_eq!(cfg.inputs["gelf_udp"].transport, Transport::Udp);
    assert_eq!(cfg.inputs["gelf_tcp"].transport, Transport::Tcp);
    let traps = &cfg.inputs["traps"];
    assert_eq!(traps.transport, Transport::Udp);
    assert_eq!(traps.communities, ["public", "monitoring"]);
    assert!(traps.store_community);
    assert_eq!(cfg.inputs["relp"].communities, ["public"]);
    assert!(!cfg.inputs["relp"].store_community);
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
        assert_eq!(cfg.inputs["x"].kind, *ty);
    }
}

#[test]
fn misplaced_transport_and_snmp_keys_are_refused_with_the_form() {
    let e = err("\n[inputs.r]\ntype = \"relp\"\ntransport = \"tls\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(e.starts_with("hark.toml:"), "{e}");
    assert!(e.contains("remove transport"), "{e}");

    let e = err("[inputs.g]\ntype = \"gelf\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(e.contains("transport = \"udp\" or \"tcp\""), "{e}");

    let e = err("[inputs.g]\ntype = \"gelf\"\ntransport = \"tls\"\nlisten = \"0.0.0.0:1\"\n");
    assert!(e.contains("transport = \"udp\" or \"tcp\""), "{e}");

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
