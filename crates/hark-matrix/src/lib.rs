//! Hark's communication matrix: every port Hark listens on and every
//! connection it makes, derived from the configuration it actually runs, so
//! the matrix cannot drift from the truth. Rendered for people (table,
//! Markdown), programs (CSV, JSON) and firewalls (nftables, iptables,
//! firewalld, ufw), and checked before start (can each port be bound, can
//! each peer be reached).
//!
//! ```
//! use hark_matrix::{Direction, Format, matrix, render};
//! let cfg = hark_config::Config::from_toml_str("hark.toml", r#"
//! [inputs.syslog]
//! type = "syslog"
//! transport = "udp"
//! listen = "0.0.0.0:514"
//! "#).unwrap();
//! let flows = matrix(&cfg);
//! let syslog = flows.iter().find(|f| f.component == "inputs.syslog").unwrap();
//! assert_eq!(syslog.direction, Direction::Inbound);
//! assert!(render(&flows, Format::Nftables).contains("udp dport 514 accept"));
//! ```
//!
//! A new input type, listener or outbound client adds its rows in
//! `sections.rs`, the one place that walks the configuration.

mod check;
mod flow;
mod render;
mod resolver;
mod sections;

pub use check::{CheckResult, DEFAULT_TIMEOUT, check, check_table, check_with_timeout};
pub use flow::{Direction, Endpoint, Flow, PortSpec, PortSpecError, Role, Security, Transport};
pub use render::{Format, UnknownFormat, render};
pub use resolver::{RESOLV_CONF, add_resolver_flows, nameservers};
pub use sections::{http_flows, input_flows, matrix, output_flows, storage_flows};

/// The JSON Schema of one flow in the JSON form (`GET /api/v1/ports` returns
/// an array of these); the OpenAPI document embeds it as `Flow`.
pub const FLOW_SCHEMA: &str = include_str!("../flow.schema.json");
