//! Every listener and client the configuration schema can describe brings
//! its rows to the matrix. A new input type or transport fails to compile
//! here until it is listed; a new listed one without rows fails the test.

use std::path::PathBuf;

use hark_config::{
    BeatsInput, Config, GelfInput, GelfTransport, InputConfig, InputProtocol, InputType, RelpInput,
    SnmptrapInput, SyslogInput, SyslogTransport, TlsFiles, Transport as ConfigTransport,
};
use hark_matrix::{Direction, Flow, PortSpec, Role, Security, Transport, matrix};

/// Every input type: the match has no wildcard arm, so a new variant stops
/// this file from compiling until it is added here and to `InputType::ALL`.
fn input_types() -> Vec<InputType> {
    let listed = |t: InputType| match t {
        InputType::Syslog
        | InputType::Relp
        | InputType::Beats
        | InputType::Gelf
        | InputType::Snmptrap => InputType::ALL.contains(&t),
    };
    for t in InputType::ALL {
        assert!(listed(*t));
    }
    InputType::ALL.to_vec()
}

/// Every input transport, with the same guard.
fn transports() -> Vec<ConfigTransport> {
    let all = [
        ConfigTransport::Udp,
        ConfigTransport::Tcp,
        ConfigTransport::Tls,
        ConfigTransport::Http,
    ];
    for t in all {
        match t {
            ConfigTransport::Udp
            | ConfigTransport::Tcp
            | ConfigTransport::Tls
            | ConfigTransport::Http => {}
        }
    }
    all.to_vec()
}

fn flows_of<'a>(flows: &'a [Flow], component: &str) -> Vec<&'a Flow> {
    flows.iter().filter(|f| f.component == component).collect()
}

/// The protocol of an input of `kind` over `transport`, or `None` when the
/// configuration cannot express that pair (no wildcard arm: a new type or
/// transport must be decided here).
fn protocol(kind: InputType, transport: ConfigTransport, client_ca: bool) -> Option<InputProtocol> {
    let files = || TlsFiles {
        cert: PathBuf::from("c.pem"),
        key: PathBuf::from("k.pem"),
        client_ca: client_ca.then(|| PathBuf::from("ca.pem")),
    };
    let syslog = |transport| Some(InputProtocol::Syslog(SyslogInput { transport }));
    let gelf = |transport| Some(InputProtocol::Gelf(GelfInput { transport }));
    match (kind, transport) {
        (InputType::Syslog, ConfigTransport::Udp) => syslog(SyslogTransport::Udp),
        (InputType::Syslog, ConfigTransport::Tcp) => syslog(SyslogTransport::Tcp),
        (InputType::Syslog, ConfigTransport::Tls) => syslog(SyslogTransport::Tls(files())),
        (InputType::Relp, ConfigTransport::Tcp) => {
            Some(InputProtocol::Relp(RelpInput { tls: None }))
        }
        (InputType::Relp, ConfigTransport::Tls) => {
            Some(InputProtocol::Relp(RelpInput { tls: Some(files()) }))
        }
        (InputType::Beats, ConfigTransport::Tcp) => {
            Some(InputProtocol::Beats(BeatsInput { tls: None }))
        }
        (InputType::Beats, ConfigTransport::Tls) => {
            Some(InputProtocol::Beats(BeatsInput { tls: Some(files()) }))
        }
        (InputType::Gelf, ConfigTransport::Udp) => gelf(GelfTransport::Udp),
        (InputType::Gelf, ConfigTransport::Tcp) => gelf(GelfTransport::Tcp),
        (InputType::Gelf, ConfigTransport::Http) => gelf(GelfTransport::Http),
        (InputType::Snmptrap, ConfigTransport::Udp) => {
            Some(InputProtocol::Snmptrap(SnmptrapInput {
                communities: vec!["public".into()],
                store_community: false,
            }))
        }
        (InputType::Syslog, ConfigTransport::Http)
        | (InputType::Relp | InputType::Beats, ConfigTransport::Udp | ConfigTransport::Http)
        | (InputType::Gelf, ConfigTransport::Tls)
        | (
            InputType::Snmptrap,
            ConfigTransport::Tcp | ConfigTransport::Tls | ConfigTransport::Http,
        ) => None,
    }
}

#[test]
fn every_input_type_and_transport_contributes_a_row() {
    for kind in input_types() {
        let mut expressible = 0;
        for transport in transports() {
            for client_ca in [false, true] {
                if client_ca && transport != ConfigTransport::Tls {
                    continue;
                }
                let Some(protocol) = protocol(kind, transport, client_ca) else {
                    continue;
                };
                expressible += 1;
                let input = InputConfig::new("192.0.2.7:4444".parse().unwrap(), protocol);
                assert_eq!(input.kind(), kind);
                assert_eq!(input.transport(), transport);
                let mut cfg = Config::default();
                cfg.inputs.clear();
                cfg.inputs.insert("probe".into(), input);
                let flows = matrix(&cfg);
                let rows = flows_of(&flows, "inputs.probe");
                let what = format!("{kind:?} over {transport:?} (client CA: {client_ca})");
                assert!(!rows.is_empty(), "{what} contributes no row");
                let row = rows[0];
                assert_eq!(row.direction, Direction::Inbound, "{what}");
                assert_eq!(row.role, Role::Listen, "{what}");
                assert_eq!(row.port, PortSpec::Single(4444), "{what}");
                assert_eq!(row.destination.to_string(), "192.0.2.7", "{what}");
                let (l4, security) = match (transport, client_ca) {
                    (ConfigTransport::Udp, _) => (Transport::Udp, Security::Plain),
                    (ConfigTransport::Tcp | ConfigTransport::Http, _) => {
                        (Transport::Tcp, Security::Plain)
                    }
                    (ConfigTransport::Tls, false) => (Transport::Tcp, Security::Tls),
                    (ConfigTransport::Tls, true) => (Transport::Tcp, Security::Mtls),
                };
                assert_eq!((row.transport, row.security), (l4, security), "{what}");
                assert!(
                    !row.protocol.is_empty() && !row.purpose.is_empty(),
                    "{what}"
                );
            }
        }
        assert!(expressible > 0, "{kind:?} has no transport");
    }
}

#[test]
fn the_http_listener_contributes_a_row() {
    let mut cfg = Config::default();
    cfg.inputs.clear();
    let flows = matrix(&cfg);
    assert_eq!(flows.len(), 1, "{flows:?}");
    let http = flows_of(&flows, "http")[0];
    assert_eq!(http.port, PortSpec::Single(8514));
    assert_eq!(http.security, Security::Token);
    // The default binds loopback: nothing crosses the network.
    assert_eq!(http.direction, Direction::Local);

    cfg.http.listen = "0.0.0.0:443".parse().unwrap();
    let http = matrix(&cfg).remove(0);
    assert_eq!(http.direction, Direction::Inbound);
    assert_eq!(http.source.to_string(), "any");
}

#[test]
fn the_uplink_is_inbound_on_the_center_and_outbound_on_the_forwarder() {
    let center = Config::from_toml_str(
        "center.toml",
        "[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:10514\"\n[uplink]\n",
    )
    .unwrap();
    let flows = matrix(&center);
    let uplink = flows_of(&flows, "uplink");
    assert_eq!(uplink.len(), 1, "{flows:?}");
    assert_eq!(uplink[0].direction, Direction::Inbound);
    assert_eq!(uplink[0].port, PortSpec::Single(8515));
    assert_eq!(uplink[0].security, Security::Mtls);

    let edge = Config::from_toml_str(
        "forward.toml",
        "[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:10514\"\n[forward]\nname = \"edge1\"\ncenter = \"https://10.0.0.1:8515\"\n",
    )
    .unwrap();
    let flows = matrix(&edge);
    let forward = flows_of(&flows, "forward");
    assert_eq!(forward.len(), 1, "{flows:?}");
    assert_eq!(forward[0].direction, Direction::Outbound);
    assert_eq!(forward[0].role, Role::Connect);
    assert_eq!(forward[0].port, PortSpec::Single(8515));
    assert_eq!(forward[0].destination.to_string(), "10.0.0.1");
    // A forwarder serves no HTTP.
    assert!(flows_of(&flows, "http").is_empty(), "{flows:?}");
}

#[test]
fn the_default_config_has_one_row_per_listener() {
    let cfg = Config::default();
    let flows = matrix(&cfg);
    assert_eq!(flows.len(), cfg.inputs.len() + 1, "{flows:?}");
    for name in cfg.inputs.keys() {
        assert_eq!(flows_of(&flows, &format!("inputs.{name}")).len(), 1);
    }
}

#[test]
fn gelf_over_http_is_described_as_http_carrying_gelf() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[inputs.gelf_http]\ntype = \"gelf\"\ntransport = \"http\"\nlisten = \"0.0.0.0:12202\"\n",
    )
    .unwrap();
    let flows = matrix(&cfg);
    let row = flows_of(&flows, "inputs.gelf_http")[0];
    assert_eq!(row.port, PortSpec::Single(12202));
    assert_eq!(
        (row.transport, row.security),
        (Transport::Tcp, Security::Plain)
    );
    assert_eq!(row.protocol, "http");
    assert!(
        row.purpose.contains("GELF") && row.purpose.contains("POST /gelf"),
        "{row:?}"
    );
}

/// Every monitor type opens the connection its check makes, to its target.
#[test]
fn every_monitor_type_brings_its_outbound_flow() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[monitors.gw]
type = "icmp"
host = "192.0.2.1"
[monitors.db]
type = "tcp"
host = "192.0.2.5"
port = 5432
tls = true
[monitors.shop]
type = "http"
url = "https://192.0.2.7:8443/health"
[monitors.dns]
type = "dns"
name = "www.example.test"
server = "192.0.2.53"
[monitors.switch]
type = "snmp"
host = "192.0.2.9"
oids = [{ oid = "1.3.6.1.2.1.1.3.0" }]
[monitors.node]
type = "metrics"
url = "http://192.0.2.11:9100/metrics"
metric = "node_load1"
"#,
    )
    .unwrap();
    let flows = matrix(&cfg);
    let out = |component: &str| -> Vec<&Flow> {
        flows
            .iter()
            .filter(|f| f.component == component && f.direction == Direction::Outbound)
            .collect()
    };
    let one = |component: &str, port: PortSpec, transport: Transport, security: Security| {
        let rows = out(component);
        assert!(
            rows.iter().any(|f| f.port == port
                && f.transport == transport
                && f.security == security
                && f.role == Role::Connect),
            "{component}: {rows:?}"
        );
    };
    one(
        "monitors.gw",
        PortSpec::None,
        Transport::Icmp,
        Security::Plain,
    );
    one(
        "monitors.db",
        PortSpec::Single(5432),
        Transport::Tcp,
        Security::Tls,
    );
    one(
        "monitors.shop",
        PortSpec::Single(8443),
        Transport::Tcp,
        Security::Tls,
    );
    one(
        "monitors.dns",
        PortSpec::Single(53),
        Transport::Udp,
        Security::Plain,
    );
    one(
        "monitors.dns",
        PortSpec::Single(53),
        Transport::Tcp,
        Security::Plain,
    );
    one(
        "monitors.switch",
        PortSpec::Single(161),
        Transport::Udp,
        Security::Plain,
    );
    one(
        "monitors.node",
        PortSpec::Single(9100),
        Transport::Tcp,
        Security::Plain,
    );
}

/// Every notification channel connects to its server: SMTP on the port
/// its TLS mode implies, a webhook on its URL's port.
#[test]
fn every_notification_channel_brings_its_outbound_flow() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[notify.mail]
type = "smtp"
host = "192.0.2.25"
tls = "starttls"
from = "hark@example.test"
to = ["ops@example.test"]
[notify.relay]
type = "smtp"
host = "192.0.2.26"
port = 2525
tls = "none"
from = "hark@example.test"
to = ["ops@example.test"]
[notify.chat]
type = "webhook"
url = "https://192.0.2.80/hook"
"#,
    )
    .unwrap();
    let flows = matrix(&cfg);
    let row = |component: &str| -> (PortSpec, Transport, Security, String) {
        let rows: Vec<&Flow> = flows
            .iter()
            .filter(|f| f.component == component && f.direction == Direction::Outbound)
            .collect();
        assert_eq!(rows.len(), 1, "{component}: {rows:?}");
        assert_eq!(rows[0].role, Role::Connect, "{component}");
        (
            rows[0].port,
            rows[0].transport,
            rows[0].security,
            rows[0].protocol.clone(),
        )
    };
    assert_eq!(
        row("notify.mail"),
        (
            PortSpec::Single(587),
            Transport::Tcp,
            Security::Tls,
            "smtp".to_owned()
        )
    );
    assert_eq!(
        row("notify.relay"),
        (
            PortSpec::Single(2525),
            Transport::Tcp,
            Security::Plain,
            "smtp".to_owned()
        )
    );
    assert_eq!(
        row("notify.chat"),
        (
            PortSpec::Single(443),
            Transport::Tcp,
            Security::Tls,
            "https".to_owned()
        )
    );
}

#[test]
fn reverse_dns_of_senders_brings_its_dns_rows_only_when_on() {
    let cfg = Config::default();
    assert!(flows_of(&matrix(&cfg), "enrich.reverse_dns").is_empty());

    let mut cfg = Config::default();
    cfg.enrich.reverse_dns = true;
    cfg.enrich.dns_servers = vec!["192.0.2.53:5353".parse().unwrap()];
    let flows = matrix(&cfg);
    let rows = flows_of(&flows, "enrich.reverse_dns");
    assert_eq!(rows.len(), 2, "{rows:?}");
    for transport in [Transport::Udp, Transport::Tcp] {
        assert!(
            rows.iter().any(|f| f.transport == transport
                && f.port == PortSpec::Single(5353)
                && f.direction == Direction::Outbound
                && f.protocol == "dns"),
            "no {transport:?} row in {rows:?}"
        );
    }
}

/// Every output type opens one outbound connection to its target, with
/// the transport and security it is configured for.
#[test]
fn every_output_type_brings_its_outbound_flow() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        r#"
[outputs.siem]
type = "syslog"
transport = "tls"
target = "192.0.2.20:6514"
[outputs.plain]
type = "syslog"
transport = "udp"
target = "192.0.2.21:514"
[outputs.relay]
type = "relp"
target = "192.0.2.22:2514"
tls = true
[outputs.lake]
type = "http"
url = "http://192.0.2.23:8080/in"
[outputs.graylog]
type = "gelf"
transport = "tcp"
target = "192.0.2.24:12201"
[outputs.logstash]
type = "beats"
target = "192.0.2.25:5044"
"#,
    )
    .unwrap();
    let flows = matrix(&cfg);
    let expect = [
        (
            "outputs.siem",
            6514,
            Transport::Tcp,
            "syslog",
            Security::Tls,
        ),
        (
            "outputs.plain",
            514,
            Transport::Udp,
            "syslog",
            Security::Plain,
        ),
        ("outputs.relay", 2514, Transport::Tcp, "relp", Security::Tls),
        (
            "outputs.lake",
            8080,
            Transport::Tcp,
            "http",
            Security::Plain,
        ),
        (
            "outputs.graylog",
            12201,
            Transport::Tcp,
            "gelf",
            Security::Plain,
        ),
        (
            "outputs.logstash",
            5044,
            Transport::Tcp,
            "beats",
            Security::Plain,
        ),
    ];
    for (component, port, transport, protocol, security) in expect {
        let rows = flows_of(&flows, component);
        assert_eq!(rows.len(), 1, "{component}: {rows:?}");
        let f = rows[0];
        assert_eq!(f.direction, Direction::Outbound, "{f:?}");
        assert_eq!(f.role, Role::Connect, "{f:?}");
        assert_eq!(f.port, PortSpec::Single(port), "{f:?}");
        assert_eq!(f.transport, transport, "{f:?}");
        assert_eq!(f.protocol, protocol, "{f:?}");
        assert_eq!(f.security, security, "{f:?}");
        assert_eq!(
            f.destination.to_string(),
            format!(
                "192.0.2.{}",
                20 + expect.iter().position(|e| e.0 == component).unwrap()
            ),
            "{f:?}"
        );
    }
}

#[test]
fn a_file_input_opens_no_port() {
    let cfg = Config::from_toml_str(
        "hark.toml",
        "[inputs.files]\ntype = \"file\"\npaths = [\"/var/log/*.log\"]\n",
    )
    .unwrap();
    assert_eq!(cfg.file_inputs.len(), 1);
    let flows = matrix(&cfg);
    assert!(flows_of(&flows, "inputs.files").is_empty(), "{flows:?}");
    // Only the HTTP listener remains.
    assert_eq!(flows.len(), 1, "{flows:?}");
}
