//! Small readers over ASA message text: endpoints, durations, `key = value`
//! runs. Each works on a slice and returns `None` when the text does not fit,
//! so a message of an unexpected shape costs no panic.

/// One side of a connection as the ASA writes it:
/// `interface:address/port (mapped/port) (user)`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Endpoint<'a> {
    /// Interface name (`inside`, `NP Identity Ifc`).
    pub interface: &'a str,
    /// Address (or host name, for objects the ASA names).
    pub address: &'a str,
    /// Port, ICMP id or service name; empty when absent.
    pub port: &'a str,
    /// The address after NAT, from the first parenthesised `address/port`.
    pub mapped_address: &'a str,
    /// The port after NAT.
    pub mapped_port: &'a str,
    /// An identity-firewall or AAA user in parentheses.
    pub user: &'a str,
}

/// Reads `interface:address[/port] [(mapped/port)] [(user)]`.
pub(super) fn endpoint(text: &str) -> Option<Endpoint<'_>> {
    let text = text.trim();
    let (head, groups) = match text.find(" (") {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    // `NP Identity Ifc:10.1.1.1/22`: the interface ends at the first colon
    // (an IPv6 address after it has colons of its own, but no slash).
    let colon = head.find(':')?;
    let interface = head[..colon].trim();
    // `inside(acl-name)` in the translation messages: the ACL is dropped.
    let interface = interface.split('(').next().unwrap_or(interface);
    let (address, port) = address_port(&head[colon + 1..]);
    if address.is_empty() {
        return None;
    }
    let mut ep = Endpoint {
        interface,
        address,
        port,
        ..Endpoint::default()
    };
    for group in paren_groups(groups) {
        match address_port(group) {
            (addr, p)
                if ep.mapped_address.is_empty() && !p.is_empty() && looks_like_address(addr) =>
            {
                ep.mapped_address = addr;
                ep.mapped_port = p;
            }
            _ if ep.user.is_empty() && !group.is_empty() => ep.user = group,
            _ => {}
        }
    }
    Some(ep)
}

/// `address/port` split at the last slash; the port is empty when there is none.
pub(super) fn address_port(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.rfind('/') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    }
}

/// Whether `text` could be an address: digits, hex, dots and colons only.
fn looks_like_address(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
}

/// The contents of each `(…)` group in `text`, in order.
fn paren_groups(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let open = rest.find('(')?;
        let close = open + rest[open..].find(')')?;
        let group = &rest[open + 1..close];
        rest = &rest[close + 1..];
        Some(group.trim())
    })
}

/// `h:mm:ss` (connection messages) or `[Nd ]Nh:NNm:NNs` (VPN sessions) as
/// nanoseconds.
pub(super) fn duration_ns(text: &str) -> Option<i64> {
    let text = text.trim();
    let (days, clock) = match text.split_once("d ") {
        Some((d, rest)) => (d.trim().parse::<i64>().ok()?, rest),
        None => (0, text),
    };
    let mut parts = clock.split(':');
    let mut next = |suffix: char| -> Option<i64> {
        let part = parts.next()?.trim();
        let part = part.strip_suffix(suffix).unwrap_or(part);
        part.parse::<i64>().ok().filter(|n| *n >= 0)
    };
    let (h, m, s) = (next('h')?, next('m')?, next('s')?);
    if parts.next().is_some() {
        return None;
    }
    let secs = days
        .checked_mul(86_400)?
        .checked_add(h.checked_mul(3_600)?)?
        .checked_add(m.checked_mul(60)?)?
        .checked_add(s)?;
    secs.checked_mul(1_000_000_000)
}

/// The value after `key` in `text`, up to the first of `ends` (or the end),
/// trimmed of spaces and trailing separators.
pub(super) fn value_after<'a>(text: &'a str, key: &str, ends: &[&str]) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    let rest = &text[start..];
    let end = ends
        .iter()
        .filter_map(|e| rest.find(e))
        .min()
        .unwrap_or(rest.len());
    Some(
        rest[..end]
            .trim()
            .trim_end_matches([',', ':', ';', '.'])
            .trim(),
    )
}

/// The first whitespace-separated word after `key`.
pub(super) fn word_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    text[start..].split_whitespace().next()
}

/// The text in `<…>` after `key` (`Group <name>`).
pub(super) fn angle_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    let rest = text[start..].strip_prefix('<')?;
    Some(&rest[..rest.find('>')?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_with_mapped_address_and_user() {
        let ep = endpoint("outside:10.1.2.1/22 (10.9.9.9/2222) (LOCAL\\bob)").unwrap();
        assert_eq!(ep.interface, "outside");
        assert_eq!((ep.address, ep.port), ("10.1.2.1", "22"));
        assert_eq!((ep.mapped_address, ep.mapped_port), ("10.9.9.9", "2222"));
        assert_eq!(ep.user, "LOCAL\\bob");
    }

    #[test]
    fn endpoints_with_spaces_ipv6_and_no_port() {
        let ep = endpoint("NP Identity Ifc:10.1.1.1/22").unwrap();
        assert_eq!(
            (ep.interface, ep.address, ep.port),
            ("NP Identity Ifc", "10.1.1.1", "22")
        );
        let ep = endpoint("outside:2001:db8::1/443").unwrap();
        assert_eq!((ep.address, ep.port), ("2001:db8::1", "443"));
        let ep = endpoint("inside:10.0.0.1").unwrap();
        assert_eq!((ep.address, ep.port), ("10.0.0.1", ""));
        let ep = endpoint("inside(nat-acl):10.0.0.1/5").unwrap();
        assert_eq!(ep.interface, "inside");
        assert!(endpoint("no colon here").is_none());
        assert!(endpoint("inside:").is_none());
    }

    #[test]
    fn durations_of_both_forms() {
        assert_eq!(duration_ns("0:00:53"), Some(53_000_000_000));
        assert_eq!(duration_ns("1:02:03"), Some(3_723_000_000_000));
        assert_eq!(duration_ns("0h:49m:49s"), Some(2_989_000_000_000));
        assert_eq!(duration_ns("1d 19h:41m:14s"), Some(157_274_000_000_000));
        assert_eq!(duration_ns("0:00"), None);
        assert_eq!(duration_ns("a:b:c"), None);
        assert_eq!(duration_ns("0:00:00:00"), None);
        assert_eq!(duration_ns("99999999999999:00:00"), None);
    }

    #[test]
    fn values_after_keys() {
        let t = "Group = g1, Username = bob, IP = 1.2.3.4, Session disconnected.";
        assert_eq!(value_after(t, "Username = ", &[", IP"]), Some("bob"));
        assert_eq!(value_after(t, "IP = ", &[", "]), Some("1.2.3.4"));
        assert_eq!(value_after(t, "Nope = ", &[","]), None);
        assert_eq!(angle_after("Group <a b> User <c>", "User "), Some("c"));
        assert_eq!(angle_after("Group <unclosed", "Group "), None);
    }
}
