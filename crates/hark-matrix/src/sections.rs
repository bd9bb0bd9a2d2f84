//! The rows each configuration section contributes. This is the one place a
//! new input type, listener or outbound client adds its flows.
//!
//! The configuration structs are destructured without `..` on purpose: a
//! new field in hark-config stops this module from compiling until someone
//! decides whether it opens a port or makes a connection.

use hark_config::{Config, HttpConfig, InputConfig, InputType, StorageConfig};

use crate::flow::{Flow, Security, Transport};
use crate::resolver;

/// Every flow of a configuration, sorted by direction, port, transport and
/// component. DNS rows for the host's resolvers are added when a flow names
/// its destination by host name.
pub fn matrix(cfg: &Config) -> Vec<Flow> {
    let Config {
        data_dir: _,
        http,
        inputs,
        storage,
    } = cfg;
    let mut flows = http_flows(http);
    for (name, input) in inputs {
        flows.extend(input_flows(name, input));
    }
    flows.extend(storage_flows(storage));
    resolver::add_resolver_flows(&mut flows, || {
        // Unreadable means the resolver library's default: this host.
        std::fs::read_to_string(resolver::RESOLV_CONF).unwrap_or_default()
    });
    flows.sort_by(|a, b| {
        (a.direction, a.port, a.transport, &a.component).cmp(&(
            b.direction,
            b.port,
            b.transport,
            &b.component,
        ))
    });
    flows
}

/// The HTTP API and web UI listener.
pub fn http_flows(http: &HttpConfig) -> Vec<Flow> {
    let HttpConfig { listen } = http;
    vec![Flow::listener(
        *listen,
        Transport::Tcp,
        "http",
        Security::Token,
        "http",
        "HTTP API for users and the hark CLI",
    )]
}

/// One input's listener.
pub fn input_flows(name: &str, input: &InputConfig) -> Vec<Flow> {
    let InputConfig {
        kind,
        transport,
        listen,
        tls_cert: _,
        tls_key: _,
        tls_client_ca,
        max_message_size: _,
        max_connections: _,
        idle_timeout: _,
        recv_buffer: _,
        timezone: _,
        communities: _,
        store_community: _,
    } = input;
    let component = format!("inputs.{name}");
    let (l4, security) = match transport {
        hark_config::Transport::Udp => (Transport::Udp, Security::Plain),
        hark_config::Transport::Tcp => (Transport::Tcp, Security::Plain),
        hark_config::Transport::Tls if tls_client_ca.is_some() => (Transport::Tcp, Security::Mtls),
        hark_config::Transport::Tls => (Transport::Tcp, Security::Tls),
    };
    let (protocol, purpose) = match kind {
        InputType::Syslog => ("syslog", "syslog from network devices and servers"),
        InputType::Relp => ("relp", "RELP from rsyslog senders (acknowledged)"),
        InputType::Beats => ("beats", "Beats/Lumberjack from Filebeat/Winlogbeat"),
        InputType::Gelf => ("gelf", "GELF from applications"),
        InputType::Snmptrap => ("snmptrap", "SNMP traps from network devices"),
    };
    vec![Flow::listener(
        *listen, l4, protocol, security, &component, purpose,
    )]
}

/// Storage is local files only; listed so a future remote store is not forgotten.
pub fn storage_flows(storage: &StorageConfig) -> Vec<Flow> {
    let StorageConfig {
        fsync: _,
        fsync_interval: _,
        retention_max_age: _,
        retention_max_disk: _,
        commit_interval: _,
        index_threads: _,
    } = storage;
    Vec::new()
}
