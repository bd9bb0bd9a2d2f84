//! The rows each configuration section contributes. This is the one place a
//! new input type, listener or outbound client adds its flows.
//!
//! The configuration structs are destructured without `..` on purpose: a
//! new field in hark-config stops this module from compiling until someone
//! decides whether it opens a port or makes a connection.

use std::net::{IpAddr, SocketAddr};

use hark_config::{
    AlertingConfig, AuthConfig, BeatsInput, BeatsOutput, ChannelConfig, CheckConfig, Config,
    DnsCheck, ForwardConfig, GelfInput, GelfOutput, GelfOutputTransport, GelfTransport, HttpCheck,
    HttpConfig, HttpOutput, HttpUrl, IcmpCheck, InputConfig, InputProtocol, LdapConfig,
    LdapSecurity, MetricsCheck, MonitorConfig, MonitoringConfig, NotifyConfig, OutputConfig,
    OutputDestination, RelpInput, RelpOutput, SmtpChannel, SmtpTls, SnmpCheck, SnmptrapInput,
    StorageConfig, SyslogInput, SyslogOutput, SyslogOutputTransport, SyslogTransport, TcpCheck,
    TlsFiles, UplinkConfig, WebhookChannel,
};

use crate::flow::{Endpoint, Flow, PortSpec, Security, Transport};
use crate::resolver;

/// Every flow of a configuration, sorted by direction, port, transport and
/// component. DNS rows for the host's resolvers are added when a flow names
/// its destination by host name.
pub fn matrix(cfg: &Config) -> Vec<Flow> {
    let Config {
        data_dir: _,
        http,
        auth,
        inputs,
        // File inputs read local files: no port, no connection.
        file_inputs: _,
        storage,
        monitoring,
        monitors,
        // Rules open no port and connect nowhere; their channels do.
        alerts: _,
        event_rules: _,
        alerting,
        notify,
        outputs,
        // Parsers read local files only; enrichment may ask DNS.
        parsers: _,
        enrich,
        uplink,
        forward,
    } = cfg;
    // Links in messages point at the UI; sending them opens nothing.
    let AlertingConfig {
        group_wait: _,
        group_interval: _,
        give_up_after: _,
        ui_url: _,
    } = alerting;
    let MonitoringConfig {
        concurrency: _,
        flap_start: _,
        flap_stop: _,
    } = monitoring;
    // Unreadable means the resolver library's default: this host.
    let resolv_conf = || std::fs::read_to_string(resolver::RESOLV_CONF).unwrap_or_default();
    // A forwarder (`hark forward` reads `[forward]`) serves no HTTP.
    let mut flows = if forward.is_some() {
        Vec::new()
    } else {
        http_flows(http)
    };
    flows.extend(auth_flows(auth));
    for (name, input) in inputs {
        flows.extend(input_flows(name, input));
    }
    flows.extend(storage_flows(storage));
    let system = || {
        let mut system = resolver::nameservers(&resolv_conf());
        if system.is_empty() {
            system.push(IpAddr::from([127, 0, 0, 1]));
        }
        system
    };
    if !monitors.is_empty() {
        let system = system();
        for (name, monitor) in monitors {
            flows.extend(monitor_flows(name, monitor, &system));
        }
    }
    if enrich.reverse_dns {
        let servers = match enrich.dns_servers.as_slice() {
            [] => resolver_addrs(&system()),
            given => given.to_vec(),
        };
        flows.extend(dns_flows(
            &servers,
            "enrich.reverse_dns",
            "names of sending peers (reverse DNS)",
        ));
    }
    for (name, channel) in notify {
        flows.extend(notify_flows(name, channel));
    }
    for (name, output) in outputs {
        flows.extend(output_flows(name, output));
    }
    if let Some(uplink) = uplink {
        flows.extend(uplink_flows(uplink));
    }
    if let Some(forward) = forward {
        flows.extend(forward_flows(forward));
    }
    resolver::add_resolver_flows(&mut flows, resolv_conf);
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

/// Port 53 of each resolver.
fn resolver_addrs(resolvers: &[IpAddr]) -> Vec<SocketAddr> {
    resolvers
        .iter()
        .map(|ip| SocketAddr::new(*ip, 53))
        .collect()
}

/// DNS over UDP, and TCP for long answers, to each of `servers`.
fn dns_flows(servers: &[SocketAddr], component: &str, purpose: &str) -> Vec<Flow> {
    servers
        .iter()
        .flat_map(|server| {
            [Transport::Udp, Transport::Tcp].map(|l4| {
                Flow::client(
                    Endpoint::Ip(server.ip()),
                    PortSpec::Single(server.port()),
                    l4,
                    "dns",
                    Security::Plain,
                    component,
                    purpose,
                )
            })
        })
        .collect()
}

/// The center's listener for forwarders: batches and enrolment.
pub fn uplink_flows(uplink: &UplinkConfig) -> Vec<Flow> {
    let UplinkConfig {
        enabled,
        listen,
        // Which forwarders are accepted and the certificate's names open nothing.
        groups: _,
        names: _,
        down_after: _,
    } = uplink;
    if !enabled {
        return Vec::new();
    }
    vec![Flow::listener(
        *listen,
        Transport::Tcp,
        "https",
        Security::Mtls,
        "uplink",
        "events from forwarders (hark forward) and their enrolment",
    )]
}

/// A forwarder's connection to its center.
pub fn forward_flows(forward: &ForwardConfig) -> Vec<Flow> {
    let ForwardConfig {
        name: _,
        center,
        // Local files and buffer settings open nothing.
        identity_dir: _,
        buffer_max: _,
        overflow: _,
        batch_events: _,
        zstd_level: _,
    } = forward;
    vec![Flow::client(
        Endpoint::from(center.host()),
        PortSpec::Single(center.port()),
        Transport::Tcp,
        "https",
        Security::Mtls,
        "forward",
        "buffered events to the central Hark (uplink)",
    )]
}

/// The HTTP API and web UI listener.
pub fn http_flows(http: &HttpConfig) -> Vec<Flow> {
    let HttpConfig {
        listen,
        tls,
        allow_plain_http: _,
    } = http;
    let (protocol, security) = match tls {
        Some(_) => ("https", Security::Tls),
        None => ("http", Security::Token),
    };
    vec![Flow::listener(
        *listen,
        Transport::Tcp,
        protocol,
        security,
        "http",
        "web UI and HTTP API for users and the hark CLI",
    )]
}

/// The LDAP directory users sign in through.
pub fn auth_flows(auth: &AuthConfig) -> Vec<Flow> {
    let AuthConfig {
        session_idle: _,
        session_max: _,
        ldap,
    } = auth;
    // Credentials, bases, filters and roles open nothing.
    let Some(LdapConfig {
        url: _,
        host,
        port,
        security,
        tls_ca: _,
        bind_dn: _,
        bind_password_file: _,
        user_base: _,
        user_filter: _,
        group_base: _,
        group_filter: _,
        roles: _,
        default_role: _,
    }) = ldap
    else {
        return Vec::new();
    };
    let (protocol, security) = match security {
        LdapSecurity::Ldaps => ("ldaps", Security::Tls),
        LdapSecurity::StartTls => ("ldap", Security::Tls),
        LdapSecurity::Plain => ("ldap", Security::Plain),
    };
    vec![Flow::client(
        Endpoint::from(host.as_str()),
        PortSpec::Single(*port),
        Transport::Tcp,
        protocol,
        security,
        "auth.ldap",
        "sign-in of users through LDAP / Active Directory",
    )]
}

/// One input's listener.
pub fn input_flows(name: &str, input: &InputConfig) -> Vec<Flow> {
    let InputConfig {
        listen,
        max_message_size: _,
        max_connections: _,
        idle_timeout: _,
        recv_buffer: _,
        timezone: _,
        parsers: _,
        protocol,
    } = input;
    let component = format!("inputs.{name}");
    let stream = |tls: Option<&TlsFiles>| match tls {
        Some(TlsFiles {
            cert: _,
            key: _,
            client_ca: Some(_),
        }) => (Transport::Tcp, Security::Mtls),
        Some(TlsFiles {
            cert: _,
            key: _,
            client_ca: None,
        }) => (Transport::Tcp, Security::Tls),
        None => (Transport::Tcp, Security::Plain),
    };
    let ((l4, security), protocol, purpose) = match protocol {
        InputProtocol::Syslog(SyslogInput { transport }) => (
            match transport {
                SyslogTransport::Udp => (Transport::Udp, Security::Plain),
                SyslogTransport::Tcp => (Transport::Tcp, Security::Plain),
                SyslogTransport::Tls(files) => stream(Some(files)),
            },
            "syslog",
            "syslog from network devices and servers",
        ),
        InputProtocol::Relp(RelpInput { tls }) => (
            stream(tls.as_ref()),
            "relp",
            "RELP from rsyslog senders (acknowledged)",
        ),
        InputProtocol::Beats(BeatsInput { tls }) => (
            stream(tls.as_ref()),
            "beats",
            "Beats/Lumberjack from Filebeat/Winlogbeat",
        ),
        InputProtocol::Gelf(GelfInput { transport }) => match transport {
            GelfTransport::Udp => (
                (Transport::Udp, Security::Plain),
                "gelf",
                "GELF from applications",
            ),
            GelfTransport::Tcp => (
                (Transport::Tcp, Security::Plain),
                "gelf",
                "GELF from applications",
            ),
            GelfTransport::Http => (
                (Transport::Tcp, Security::Plain),
                "http",
                "GELF over HTTP (POST /gelf) from applications",
            ),
        },
        InputProtocol::Snmptrap(SnmptrapInput {
            communities: _,
            store_community: _,
        }) => (
            (Transport::Udp, Security::Plain),
            "snmptrap",
            "SNMP traps from network devices",
        ),
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
        split_max_events: _,
        split_max_age: _,
        wal_max_retained: _,
        wal_lagging_reader: _,
    } = storage;
    Vec::new()
}

/// The connection one notification channel opens to deliver messages.
pub fn notify_flows(name: &str, channel: &NotifyConfig) -> Vec<Flow> {
    let NotifyConfig {
        group_wait: _,
        group_interval: _,
        channel,
    } = channel;
    let component = format!("notify.{name}");
    match channel {
        ChannelConfig::Smtp(SmtpChannel {
            host,
            port,
            tls,
            username: _,
            password_file: _,
            ca_file: _,
            from: _,
            to: _,
        }) => vec![Flow::client(
            Endpoint::from(host.as_str()),
            PortSpec::Single(*port),
            Transport::Tcp,
            "smtp",
            match tls {
                SmtpTls::None => Security::Plain,
                SmtpTls::Starttls | SmtpTls::Tls => Security::Tls,
            },
            &component,
            "notifications by mail (SMTP)",
        )],
        ChannelConfig::Webhook(WebhookChannel {
            url,
            secret_file: _,
            template: _,
            ca_file: _,
        }) => vec![Flow::client(
            Endpoint::from(url.host()),
            PortSpec::Single(url.port()),
            Transport::Tcp,
            url.scheme(),
            if url.is_https() {
                Security::Tls
            } else {
                Security::Plain
            },
            &component,
            "notifications by webhook (HTTP POST)",
        )],
    }
}

/// The connection one output opens to forward events.
pub fn output_flows(name: &str, output: &OutputConfig) -> Vec<Flow> {
    // The query selects events; it opens nothing.
    let OutputConfig {
        query: _,
        destination,
    } = output;
    let component = format!("outputs.{name}");
    // With a client certificate, TLS is mutual.
    let tls = |on: bool, cert: &Option<std::path::PathBuf>| match (on, cert) {
        (false, _) => Security::Plain,
        (true, None) => Security::Tls,
        (true, Some(_)) => Security::Mtls,
    };
    let (host, port, l4, protocol, security, purpose) = match destination {
        OutputDestination::Syslog(SyslogOutput {
            transport,
            target,
            format: _,
            tls_ca: _,
            tls_cert,
            tls_key: _,
        }) => {
            let (l4, security) = match transport {
                SyslogOutputTransport::Udp => (Transport::Udp, Security::Plain),
                SyslogOutputTransport::Tcp => (Transport::Tcp, Security::Plain),
                SyslogOutputTransport::Tls => (Transport::Tcp, tls(true, tls_cert)),
            };
            (
                target.host.as_str(),
                target.port,
                l4,
                "syslog",
                security,
                "forwarding selected events (syslog)",
            )
        }
        OutputDestination::Relp(RelpOutput {
            target,
            format: _,
            tls: on,
            tls_ca: _,
            tls_cert,
            tls_key: _,
        }) => (
            target.host.as_str(),
            target.port,
            Transport::Tcp,
            "relp",
            tls(*on, tls_cert),
            "forwarding selected events (RELP, acknowledged)",
        ),
        OutputDestination::Http(HttpOutput {
            url,
            format: _,
            headers: _,
            auth_token_file: _,
            gzip: _,
            tls_ca: _,
            tls_cert,
            tls_key: _,
        }) => (
            url.host(),
            url.port(),
            Transport::Tcp,
            url.scheme(),
            tls(url.is_https(), tls_cert),
            "forwarding selected events (HTTP POST of NDJSON)",
        ),
        OutputDestination::Gelf(GelfOutput { transport, target }) => (
            target.host.as_str(),
            target.port,
            match transport {
                GelfOutputTransport::Udp => Transport::Udp,
                GelfOutputTransport::Tcp => Transport::Tcp,
            },
            "gelf",
            Security::Plain,
            "forwarding selected events (GELF)",
        ),
        OutputDestination::Beats(BeatsOutput {
            target,
            tls: on,
            tls_ca: _,
            tls_cert,
            tls_key: _,
        }) => (
            target.host.as_str(),
            target.port,
            Transport::Tcp,
            "beats",
            tls(*on, tls_cert),
            "forwarding selected events (Beats, acknowledged)",
        ),
    };
    vec![Flow::client(
        Endpoint::from(host),
        PortSpec::Single(port),
        l4,
        protocol,
        security,
        &component,
        purpose,
    )]
}

/// The connections one monitor opens. `system_resolvers` are the
/// nameservers a DNS monitor without `server` asks.
pub fn monitor_flows(
    name: &str,
    monitor: &MonitorConfig,
    system_resolvers: &[IpAddr],
) -> Vec<Flow> {
    let MonitorConfig {
        check,
        interval: _,
        retry_interval: _,
        timeout: _,
        max_attempts: _,
        parent: _,
        public: _,
    } = monitor;
    let component = format!("monitors.{name}");
    let client =
        |dest: &str, port: PortSpec, l4: Transport, proto: &str, sec: Security, why: &str| {
            Flow::client(Endpoint::from(dest), port, l4, proto, sec, &component, why)
        };
    let url_flow = |url: &HttpUrl, why: &str| {
        let https = url.is_https();
        client(
            url.host(),
            PortSpec::Single(url.port()),
            Transport::Tcp,
            url.scheme(),
            if https {
                Security::Tls
            } else {
                Security::Plain
            },
            why,
        )
    };
    match check {
        CheckConfig::Icmp(IcmpCheck {
            host,
            packets: _,
            packet_interval: _,
            warn_loss: _,
            crit_loss: _,
            warn_rtt: _,
            crit_rtt: _,
        }) => vec![client(
            host,
            PortSpec::None,
            Transport::Icmp,
            "icmp",
            Security::Plain,
            "ping check (echo request)",
        )],
        CheckConfig::Tcp(TcpCheck {
            host,
            port,
            send: _,
            expect: _,
            tls,
            tls_verify: _,
            tls_ca: _,
            warn_time: _,
            crit_time: _,
        }) => vec![client(
            host,
            PortSpec::Single(*port),
            Transport::Tcp,
            "tcp",
            if *tls { Security::Tls } else { Security::Plain },
            "TCP port check",
        )],
        CheckConfig::Http(HttpCheck {
            url,
            method: _,
            headers: _,
            body: _,
            expect_status: _,
            body_contains: _,
            body_regex: _,
            json_path: _,
            json_value: _,
            warn_time: _,
            crit_time: _,
            cert_expiry_warn: _,
            cert_expiry_crit: _,
            tls_verify: _,
            tls_ca: _,
            // Redirects may lead elsewhere; only the configured URL is known.
            follow_redirects: _,
        }) => vec![url_flow(url, "HTTP check")],
        CheckConfig::Metrics(MetricsCheck {
            url,
            metric: _,
            labels: _,
            warn: _,
            crit: _,
        }) => vec![url_flow(url, "metrics scrape check")],
        CheckConfig::Dns(DnsCheck {
            server,
            name: _,
            record_type: _,
            expect_answers: _,
            expect_regex: _,
            expect_rcode: _,
            warn_time: _,
            crit_time: _,
        }) => {
            let targets: Vec<SocketAddr> = match server {
                Some(a) => vec![*a],
                None => resolver_addrs(system_resolvers),
            };
            dns_flows(&targets, &component, "DNS check")
        }
        CheckConfig::Snmp(SnmpCheck {
            host,
            port,
            community: _,
            version: _,
            oids: _,
        }) => vec![client(
            host,
            PortSpec::Single(*port),
            Transport::Udp,
            "snmp",
            Security::Plain,
            "SNMP GET check",
        )],
    }
}
