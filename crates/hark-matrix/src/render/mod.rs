//! The matrix as text: tables for people and programs, and firewall rules
//! that allow exactly the traffic it lists.

mod firewalld;
mod iptables;
mod nftables;
pub(crate) mod text;
mod ufw;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::flow::{Direction, Endpoint, Flow, Role};

/// An output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// Comma-separated values with a header line.
    Csv,
    /// A JSON array of flows (the API's form).
    Json,
    /// A complete `table inet hark` for `nft -f`.
    Nftables,
    /// A filter table for `iptables-restore` (IPv4).
    Iptables,
    /// `firewall-cmd --permanent` commands.
    Firewalld,
    /// `ufw` commands.
    Ufw,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: &[Format] = &[
        Format::Table,
        Format::Markdown,
        Format::Csv,
        Format::Json,
        Format::Nftables,
        Format::Iptables,
        Format::Firewalld,
        Format::Ufw,
    ];

    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Nftables => "nftables",
            Format::Iptables => "iptables",
            Format::Firewalld => "firewalld",
            Format::Ufw => "ufw",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown format {0:?}; expected one of table, markdown, csv, json, nftables, iptables, firewalld, ufw"
)]
pub struct UnknownFormat(String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Renders flows in a format. Every format ends with a newline.
pub fn render(flows: &[Flow], format: Format) -> String {
    match format {
        Format::Table => text::table(flows),
        Format::Markdown => text::markdown(flows),
        Format::Csv => text::csv(flows),
        Format::Json => text::json(flows),
        Format::Nftables => nftables::render(flows),
        Format::Iptables => iptables::render(flows),
        Format::Firewalld => firewalld::render(flows),
        Format::Ufw => ufw::render(flows),
    }
}

/// Which IP families a rule must cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// IPv4 only, to any address (a listener on `0.0.0.0`).
    AnyV4,
    /// Both families, to any address (`::` is dual-stack; a host name may resolve to either).
    AnyBoth,
    /// One address.
    Addr(IpAddr),
}

impl Family {
    /// The address a rule must match on Hark's side: the listen address of a
    /// listener, the peer of a client.
    fn of(flow: &Flow) -> Family {
        match &flow.destination {
            Endpoint::Ip(ip) => {
                let ip = ip.to_canonical();
                match ip {
                    IpAddr::V4(v4) if v4.is_unspecified() => Family::AnyV4,
                    IpAddr::V6(v6) if v6.is_unspecified() => Family::AnyBoth,
                    _ => Family::Addr(ip),
                }
            }
            Endpoint::Any | Endpoint::Local | Endpoint::Hark | Endpoint::Host(_) => Family::AnyBoth,
        }
    }

    fn has_v4(self) -> bool {
        match self {
            Family::AnyV4 | Family::AnyBoth => true,
            Family::Addr(ip) => ip.is_ipv4(),
        }
    }
}

/// `component: purpose`, made safe for a quoted rule comment and cut to `max` bytes.
fn comment(flow: &Flow, max: usize) -> String {
    let mut s: String = format!("{}: {}", flow.component, flow.purpose)
        .chars()
        .map(|c| match c {
            '"' | '\'' | '\\' | '`' | '$' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// The local flows a chain for `direction` would carry (listeners on input,
/// clients on output); rule files name them, and their loopback rule allows them.
fn local_flows(flows: &[Flow], direction: Direction) -> impl Iterator<Item = &Flow> {
    let listening = direction == Direction::Inbound;
    flows
        .iter()
        .filter(move |f| f.direction == Direction::Local && (f.role == Role::Listen) == listening)
}

/// A one-line description of a flow for `#` comments in rule files.
fn describe(flow: &Flow) -> String {
    let to = match flow.port.joined("-") {
        Some(port) => format!("{} port {port}/{}", flow.destination, flow.transport.name()),
        None => format!("{} {}", flow.destination, flow.transport.name()),
    };
    format!(
        "{} {} {} -> {to} ({}, {})",
        flow.direction.name(),
        flow.protocol,
        flow.source,
        flow.security.name(),
        flow.component,
    )
    .replace(['\n', '\r'], " ")
}

/// The header every rule file starts with, as `#` comment lines.
/// `drops_the_rest` says the rules set a drop policy of their own.
fn rules_header(format: Format, drops_the_rest: bool) -> String {
    let mut out = format!(
        "# Hark's communication matrix as {format} rules, from `hark ports --format {format}`.\n"
    );
    out.push_str(if drops_the_rest {
        "# They allow exactly the traffic Hark needs and drop everything else: add the\n\
         # host's other services (SSH, NTP, DHCP, package updates) before you load\n\
         # them, or merge these rules into your own ruleset.\n"
    } else {
        "# They open exactly the traffic Hark needs and leave the rest of the host's\n\
         # policy as it is.\n"
    });
    out
}

#[cfg(test)]
mod tests;
