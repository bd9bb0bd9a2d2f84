//! Denied packets and access-list hits: 106001, 106006, 106015, 106023, 106100.
//!
//! A deny is `event.action` `deny`, `event.outcome` `failure` (the
//! connection did not happen) and `event.type` `connection` + `denied`;
//! the ACL that decided is `rule.name`.

use super::text::{self, address_port};
use super::{ReadError, Writer};
use crate::ecs;

/// 106001, 106006, 106015: `… <protocol> … from <addr>/<port> to
/// <addr>/<port> [flags <flags>] on interface <name>`.
///
/// `Inbound TCP connection denied from …`, `Deny inbound UDP from …`,
/// `Deny TCP (no connection) from …`.
pub(super) fn packet(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    w.classify(
        "deny",
        Some("failure"),
        "network",
        &["connection", "denied"],
    );
    let head_end = text.find(" from ").ok_or((0, "' from '"))?;
    let head = &text[..head_end];
    if let Some(protocol) = head
        .split(' ')
        .find(|word| matches!(word.to_ascii_lowercase().as_str(), "tcp" | "udp" | "icmp"))
    {
        w.transport(protocol);
    }
    if head.starts_with("Inbound") || head.contains(" inbound") {
        w.out.put(ecs::NETWORK_DIRECTION, "inbound");
    } else if head.contains(" outbound") {
        w.out.put(ecs::NETWORK_DIRECTION, "outbound");
    }
    let rest = &text[head_end + " from ".len()..];
    let (src, rest) = rest.split_once(" to ").ok_or((head_end, "' to '"))?;
    let (src_addr, src_port) = address_port(src);
    w.address(ecs::SOURCE_IP, "source_host", src_addr);
    w.port(ecs::SOURCE_PORT, src_port);
    let dst = rest.split(' ').next().unwrap_or_default();
    let (dst_addr, dst_port) = address_port(dst);
    w.address(ecs::DESTINATION_IP, "destination_host", dst_addr);
    w.port(ecs::DESTINATION_PORT, dst_port);
    if let Some(flags) = text::value_after(rest, " flags ", &[" on interface"]) {
        w.vendor("tcp_flags", flags);
    }
    if let Some(interface) = text::value_after(rest, " on interface ", &[]) {
        w.out.put(ecs::OBSERVER_INGRESS_INTERFACE_NAME, interface);
    }
    Ok(())
}

/// 106023: `Deny <protocol> src <if>:<addr>[/<port>] [(user)] dst
/// <if>:<addr>[/<port>] [(user)] [(type N, code M)] by access-group "<acl>" [hashes]`.
pub(super) fn access_group(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    let protocol_text = text
        .strip_prefix("Deny ")
        .ok_or((0, "Deny <protocol> src"))?;
    w.classify(
        "deny",
        Some("failure"),
        "network",
        &["connection", "denied"],
    );
    let src_at = text.find(" src ").ok_or((0, "' src '"))?;
    let protocol = protocol_text
        .get(..src_at.saturating_sub("Deny ".len()))
        .unwrap_or_default()
        .trim();
    match protocol.strip_prefix("protocol ") {
        Some(number) => transport_number(w, number),
        None => w.transport(protocol),
    }
    let dst_at = find_from(text, src_at + 5, " dst ").ok_or((src_at, "' dst '"))?;
    let by_at = find_from(text, dst_at + 5, " by access-group ").unwrap_or(text.len());
    let src = text::endpoint(&text[src_at + 5..dst_at]).ok_or((src_at + 5, "interface:address"))?;
    w.source(&src);
    let mut dst_text = &text[dst_at + 5..by_at];
    // ICMP: `(type 8, code 0)` after the destination.
    if let Some(open) = dst_text.find(" (type ") {
        let icmp = &dst_text[open + 2..];
        if let Some(t) = text::value_after(icmp, "type ", &[","]) {
            w.vendor_int("icmp_type", t);
        }
        if let Some(c) = text::value_after(icmp, "code ", &[")"]) {
            w.vendor_int("icmp_code", c);
        }
        dst_text = &dst_text[..open];
    }
    let dst = text::endpoint(dst_text).ok_or((dst_at + 5, "interface:address"))?;
    w.destination(&dst);
    if by_at < text.len() {
        let acl = &text[by_at + " by access-group ".len()..];
        let acl = match acl.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or_default(),
            None => acl.split(' ').next().unwrap_or_default(),
        };
        w.out.put(ecs::RULE_NAME, acl);
    }
    Ok(())
}

/// 106100: `access-list <acl> {permitted|denied|est-allowed} <protocol>
/// <if>/<addr>(<port>) -> <if>/<addr>(<port>) hit-cnt <n> {first hit |
/// <n>-second interval} [hashes]`.
pub(super) fn access_list(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    let rest = text
        .strip_prefix("access-list ")
        .ok_or((0, "access-list <acl>"))?;
    let mut words = rest.split(' ');
    let (Some(acl), Some(verdict), Some(protocol), Some(src), Some("->"), Some(dst)) = (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) else {
        return Err((0, "access-list <acl> <verdict> <protocol> <src> -> <dst>"));
    };
    match verdict {
        "denied" => w.classify(
            "deny",
            Some("failure"),
            "network",
            &["connection", "denied"],
        ),
        _ => w.classify(
            "permit",
            Some("success"),
            "network",
            &["connection", "allowed"],
        ),
    }
    w.vendor("acl_verdict", verdict);
    w.out.put(ecs::RULE_NAME, acl);
    match protocol.parse::<u8>() {
        Ok(_) => transport_number(w, protocol),
        Err(_) => w.transport(protocol),
    }
    let src = slash_endpoint(src).ok_or((0, "<if>/<address>(<port>)"))?;
    w.out.put(ecs::OBSERVER_INGRESS_INTERFACE_NAME, src.0);
    w.address(ecs::SOURCE_IP, "source_host", src.1);
    w.port(ecs::SOURCE_PORT, src.2);
    let dst = slash_endpoint(dst).ok_or((0, "<if>/<address>(<port>)"))?;
    w.out.put(ecs::OBSERVER_EGRESS_INTERFACE_NAME, dst.0);
    w.address(ecs::DESTINATION_IP, "destination_host", dst.1);
    w.port(ecs::DESTINATION_PORT, dst.2);
    if let Some(hits) = text::word_after(text, " hit-cnt ") {
        w.vendor_int("hit_count", hits);
    }
    if text.contains(" first hit") {
        w.vendor("hit_interval", "first hit");
    } else if let Some(interval) = text::value_after(text, " hit-cnt ", &["-second interval"])
        && let Some(seconds) = interval.split(' ').nth(1)
    {
        w.vendor_int("hit_interval_seconds", seconds);
    }
    Ok(())
}

/// `inside/10.0.0.1(51763)`: interface, address, port.
fn slash_endpoint(text: &str) -> Option<(&str, &str, &str)> {
    let (interface, rest) = text.split_once('/')?;
    let (address, port) = match rest.split_once('(') {
        Some((a, p)) => (a, p.strip_suffix(')')?),
        None => (rest, ""),
    };
    Some((interface, address, port))
}

/// An IP protocol number: `network.transport` for 1, 6, 17, the number
/// under the prefix otherwise.
fn transport_number(w: &mut Writer<'_, '_>, number: &str) {
    match number.trim() {
        "1" => w.transport("icmp"),
        "6" => w.transport("tcp"),
        "17" => w.transport("udp"),
        other => w.vendor_int("protocol_number", other),
    }
}

/// Where `needle` occurs in `text` at or after `from`.
fn find_from(text: &str, from: usize, needle: &str) -> Option<usize> {
    text.get(from..)?.find(needle).map(|i| from + i)
}
