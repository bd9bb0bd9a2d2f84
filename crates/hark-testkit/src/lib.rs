//! What Hark's tests share: free loopback ports, waiting for a condition
//! with a deadline, child processes killed on drop, a tmpfs to fill, network
//! namespaces, feeding a decoder in chunks, the shared corpora, and real
//! peers (snmpd, dnsmasq, prometheus-node-exporter, rsyslogd, slapd,
//! loggen, logger) started on free ports.
//!
//! A peer is ready when it has answered its protocol (an SNMP GET, a DNS
//! query, a scrape of `/metrics`, a line through rsyslog's input, an LDAP
//! bind), not when its port is bound: a bound socket says nothing about
//! whether the program behind it has finished starting.
//!
//! ```no_run
//! let agent = hark_testkit::peers::snmpd("public", "sysName test-agent");
//! // It has answered a GET: a check may poll 127.0.0.1:`agent.port()` now.
//! println!("snmpd on udp/{}", agent.port());
//! ```
//!
//! Everything a test starts is killed, unmounted or deleted when its handle
//! drops. Mounting and namespaces need root, as the test command runs.

pub mod corpus;
pub mod decode;
pub mod netns;
pub mod peers;
pub mod ports;
pub mod process;
pub mod targets;
pub mod tmpfs;
pub mod wait;

pub use ports::{free_tcp_port, free_udp_port};
pub use process::ChildGuard;
pub use wait::{poll, until};
