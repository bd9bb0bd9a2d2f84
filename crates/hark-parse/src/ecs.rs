//! Elastic Common Schema names Hark's parsers write, and the type each is
//! indexed as.
//!
//! A field keeps its ECS name whichever vendor it came from, so one query
//! (`destination.port:3389 event.outcome:failure`) covers every firewall.
//! Names not listed here are text (keywords); the vendor's own fields live
//! under its prefix (`fortinet.firewall.*`, `panw.panos.*`, `cisco.asa.*`,
//! `cef.*`).

/// How a field's values are indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An IPv4 or IPv6 address: CIDR and range queries.
    Ip,
    /// A whole number: comparisons and ranges.
    Long,
    /// `true` or `false`.
    Bool,
    /// Text matched whole.
    Keyword,
}

/// The ECS fields that hold an address, indexed as IPs.
pub const IP_FIELDS: &[&str] = &[
    SOURCE_IP,
    SOURCE_NAT_IP,
    DESTINATION_IP,
    DESTINATION_NAT_IP,
    CLIENT_IP,
    SERVER_IP,
    OBSERVER_IP,
    HOST_IP,
    RELATED_IP,
];

/// The ECS fields that hold a whole number.
const LONG_FIELDS: &[&str] = &[
    SOURCE_PORT,
    SOURCE_NAT_PORT,
    DESTINATION_PORT,
    DESTINATION_NAT_PORT,
    CLIENT_PORT,
    SERVER_PORT,
    NETWORK_BYTES,
    NETWORK_PACKETS,
    SOURCE_BYTES,
    SOURCE_PACKETS,
    DESTINATION_BYTES,
    DESTINATION_PACKETS,
    HTTP_RESPONSE_STATUS_CODE,
    PROCESS_PID,
    EVENT_DURATION,
    EVENT_SEVERITY,
    FILE_SIZE,
];

/// The kind of the field called `name`.
pub fn kind(name: &str) -> Kind {
    if IP_FIELDS.contains(&name) {
        Kind::Ip
    } else if LONG_FIELDS.contains(&name) {
        Kind::Long
    } else {
        Kind::Keyword
    }
}

macro_rules! names {
    ($($(#[$doc:meta])* $id:ident = $name:literal;)*) => {
        $($(#[$doc])* pub const $id: &str = $name;)*
    };
}

names! {
    /// Address of the side that opened the connection.
    SOURCE_IP = "source.ip";
    /// Port of the source.
    SOURCE_PORT = "source.port";
    /// The source address after NAT.
    SOURCE_NAT_IP = "source.nat.ip";
    /// The source port after NAT.
    SOURCE_NAT_PORT = "source.nat.port";
    /// Bytes sent by the source.
    SOURCE_BYTES = "source.bytes";
    /// Packets sent by the source.
    SOURCE_PACKETS = "source.packets";
    /// Interface, zone or user of the source, as the vendor names it.
    SOURCE_USER_NAME = "source.user.name";
    /// Address of the side that was connected to.
    DESTINATION_IP = "destination.ip";
    /// Port of the destination.
    DESTINATION_PORT = "destination.port";
    /// The destination address after NAT.
    DESTINATION_NAT_IP = "destination.nat.ip";
    /// The destination port after NAT.
    DESTINATION_NAT_PORT = "destination.nat.port";
    /// Bytes sent by the destination.
    DESTINATION_BYTES = "destination.bytes";
    /// Packets sent by the destination.
    DESTINATION_PACKETS = "destination.packets";
    /// Client address (application protocols).
    CLIENT_IP = "client.ip";
    /// Client port.
    CLIENT_PORT = "client.port";
    /// Server address (application protocols).
    SERVER_IP = "server.ip";
    /// Server port.
    SERVER_PORT = "server.port";
    /// Transport protocol, lower case: `tcp`, `udp`, `icmp`.
    NETWORK_TRANSPORT = "network.transport";
    /// Application protocol, lower case: `http`, `dns`, `ssh`.
    NETWORK_PROTOCOL = "network.protocol";
    /// Direction: `inbound`, `outbound`, `internal`, `external`.
    NETWORK_DIRECTION = "network.direction";
    /// Bytes both ways.
    NETWORK_BYTES = "network.bytes";
    /// Packets both ways.
    NETWORK_PACKETS = "network.packets";
    /// What happened, in the vendor's words (`deny`, `accept`, `ssh_login`).
    EVENT_ACTION = "event.action";
    /// `success`, `failure` or `unknown`.
    EVENT_OUTCOME = "event.outcome";
    /// The vendor's identifier of the event (a message id, an event id).
    EVENT_CODE = "event.code";
    /// ECS category: `network`, `authentication`, `intrusion_detection`…
    EVENT_CATEGORY = "event.category";
    /// ECS type: `connection`, `start`, `end`, `denied`, `allowed`…
    EVENT_TYPE = "event.type";
    /// The vendor's severity, as a number.
    EVENT_SEVERITY = "event.severity";
    /// Duration in nanoseconds.
    EVENT_DURATION = "event.duration";
    /// Which parser read the event, e.g. `fortinet.firewall`.
    EVENT_DATASET = "event.dataset";
    /// Why the event could not be read whole.
    EVENT_REASON = "event.reason";
    /// The user the event is about.
    USER_NAME = "user.name";
    /// The user's domain.
    USER_DOMAIN = "user.domain";
    /// The user's identifier.
    USER_ID = "user.id";
    /// The user the action was aimed at (sudo's target, a new account).
    USER_TARGET_NAME = "user.target.name";
    /// Rule name.
    RULE_NAME = "rule.name";
    /// Rule identifier.
    RULE_ID = "rule.id";
    /// Vendor of the device that logged.
    OBSERVER_VENDOR = "observer.vendor";
    /// Product of the device that logged.
    OBSERVER_PRODUCT = "observer.product";
    /// Kind of device: `firewall`, `ids`, `vpn`.
    OBSERVER_TYPE = "observer.type";
    /// Host name of the device that logged.
    OBSERVER_HOSTNAME = "observer.hostname";
    /// Serial number of the device that logged.
    OBSERVER_SERIAL_NUMBER = "observer.serial_number";
    /// Address of the device that logged; the sending peer when no parser says otherwise.
    OBSERVER_IP = "observer.ip";
    /// Ingress interface name.
    OBSERVER_INGRESS_INTERFACE_NAME = "observer.ingress.interface.name";
    /// Egress interface name.
    OBSERVER_EGRESS_INTERFACE_NAME = "observer.egress.interface.name";
    /// Ingress zone.
    OBSERVER_INGRESS_ZONE = "observer.ingress.zone";
    /// Egress zone.
    OBSERVER_EGRESS_ZONE = "observer.egress.zone";
    /// Every address the event names.
    RELATED_IP = "related.ip";
    /// Host address.
    HOST_IP = "host.ip";
    /// URL as logged.
    URL_ORIGINAL = "url.original";
    /// Domain part of a URL.
    URL_DOMAIN = "url.domain";
    /// HTTP method.
    HTTP_REQUEST_METHOD = "http.request.method";
    /// HTTP status.
    HTTP_RESPONSE_STATUS_CODE = "http.response.status_code";
    /// Process name.
    PROCESS_NAME = "process.name";
    /// Process id.
    PROCESS_PID = "process.pid";
    /// A process's command line.
    PROCESS_COMMAND_LINE = "process.command_line";
    /// A file's name or path.
    FILE_PATH = "file.path";
    /// Threat or signature name.
    THREAT_NAME = "threat.indicator.name";
    /// Application name as a firewall identifies it.
    APPLICATION = "network.application";
    /// Country of the source (enrichment).
    SOURCE_GEO_COUNTRY_ISO_CODE = "source.geo.country_iso_code";
    /// Windows logon type (2 interactive, 3 network, 10 remote interactive…).
    WINLOG_LOGON_TYPE = "winlog.logon.type";
    /// Windows event id.
    WINLOG_EVENT_ID = "winlog.event_id";
    /// Windows channel (`Security`, `System`…).
    WINLOG_CHANNEL = "winlog.channel";
    // PAN-OS, CEF and LEEF.
    /// The user at the destination of a connection.
    DESTINATION_USER_NAME = "destination.user.name";
    /// Domain or host name of the source.
    SOURCE_DOMAIN = "source.domain";
    /// Domain or host name of the destination.
    DESTINATION_DOMAIN = "destination.domain";
    /// MAC address of the source.
    SOURCE_MAC = "source.mac";
    /// MAC address of the destination.
    DESTINATION_MAC = "destination.mac";
    /// The user's domain as the source names it.
    SOURCE_USER_DOMAIN = "source.user.domain";
    /// Name given to the device that logged.
    OBSERVER_NAME = "observer.name";
    /// Software version of the device that logged.
    OBSERVER_VERSION = "observer.version";
    /// When the activity began (RFC 3339).
    EVENT_START = "event.start";
    /// When the activity ended (RFC 3339).
    EVENT_END = "event.end";
    /// The User-Agent header as sent.
    USER_AGENT_ORIGINAL = "user_agent.original";
    /// The Referer header.
    HTTP_REQUEST_REFERRER = "http.request.referrer";
    /// A file's name, without its directory.
    FILE_NAME = "file.name";
    /// A file's size in bytes.
    FILE_SIZE = "file.size";
    /// The host name of the host the event is about.
    HOST_NAME = "host.name";
    // FortiGate.
    /// Country of the source, by name (as the device resolved it).
    SOURCE_GEO_COUNTRY_NAME = "source.geo.country_name";
    /// Country of the destination, by name (as the device resolved it).
    DESTINATION_GEO_COUNTRY_NAME = "destination.geo.country_name";
    /// IANA protocol number of the transport (`6`, `17`, `1`).
    NETWORK_IANA_NUMBER = "network.iana_number";
    // Linux authentication and Windows.
    /// A group's identifier (useradd, groupadd).
    GROUP_ID = "group.id";
    /// A group's name.
    GROUP_NAME = "group.name";
    /// The host name the event is about (the Windows computer name).
    HOST_HOSTNAME = "host.hostname";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_ecs() {
        assert_eq!(kind("source.ip"), Kind::Ip);
        assert_eq!(kind("destination.port"), Kind::Long);
        assert_eq!(kind("user.name"), Kind::Keyword);
        assert_eq!(kind("fortinet.firewall.srcip"), Kind::Keyword);
    }
}
