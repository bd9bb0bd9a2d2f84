//! Connections and NAT translations: 302013–302016, 305011, 305012.
//!
//! `Built outbound TCP connection 9 for outside:10.1.2.1/22 (10.1.2.1/22)
//! to inside:10.1.1.2/53496 (10.1.1.2/53496)`: for an outbound connection
//! the ASA names the responder first, so the sides are swapped to make
//! `source.*` the initiator. Teardowns do not say the direction and keep
//! the ASA's order. A parenthesised address after an endpoint is its
//! mapped (NAT) address, written as `source.nat.*` / `destination.nat.*`
//! when it differs.

use super::text::{self, Endpoint};
use super::{ReadError, Writer};
use crate::ecs;

/// `Built {inbound|outbound} {TCP|UDP} connection <id> for <A> to <B>`.
pub(super) fn built(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    let mut words = text.split(' ');
    let (Some("Built"), Some(direction), Some(protocol), Some("connection"), Some(id), Some("for")) = (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) else {
        return Err((0, "Built <direction> <protocol> connection <id> for"));
    };
    w.classify(
        "connection-built",
        Some("success"),
        "network",
        &["connection", "start"],
    );
    w.transport(protocol);
    w.vendor_int("connection_id", id);
    let (first, second) = sides(text, "for ")?;
    match direction {
        "outbound" => {
            w.out.put(ecs::NETWORK_DIRECTION, "outbound");
            w.source(&second);
            w.destination(&first);
        }
        "inbound" => {
            w.out.put(ecs::NETWORK_DIRECTION, "inbound");
            w.source(&first);
            w.destination(&second);
        }
        other => {
            w.vendor("direction", other);
            w.source(&first);
            w.destination(&second);
        }
    }
    Ok(())
}

/// `Teardown {TCP|UDP} connection <id> for <A> to <B> duration h:mm:ss
/// bytes <n> [reason [from initiator]] [(user)]`.
pub(super) fn teardown(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    let mut words = text.split(' ');
    let (Some("Teardown"), Some(protocol), Some("connection"), Some(id), Some("for")) = (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) else {
        return Err((0, "Teardown <protocol> connection <id> for"));
    };
    w.classify(
        "connection-teardown",
        Some("success"),
        "network",
        &["connection", "end"],
    );
    w.transport(protocol);
    w.vendor_int("connection_id", id);
    let Some(tail_at) = text.find(" duration ") else {
        return Err((text.len(), "duration"));
    };
    let (first, second) = sides(&text[..tail_at], "for ")?;
    w.source(&first);
    w.destination(&second);
    let tail = &text[tail_at + " duration ".len()..];
    let mut words = tail.splitn(2, ' ');
    w.duration(words.next().unwrap_or_default());
    let rest = words.next().unwrap_or_default();
    let Some(rest) = rest.strip_prefix("bytes ") else {
        return Ok(());
    };
    let (bytes, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    w.out.put(ecs::NETWORK_BYTES, bytes);
    let mut reason = rest.trim();
    // A trailing `(user)` is the AAA user of the connection.
    if reason.ends_with(')')
        && let Some(open) = reason.rfind('(')
    {
        w.out
            .put(ecs::USER_NAME, reason[open + 1..reason.len() - 1].trim());
        reason = reason[..open].trim();
    }
    if let Some((why, initiator)) = reason.rsplit_once(" from ") {
        w.vendor("termination_initiator", initiator.trim());
        reason = why.trim();
    }
    w.out.put(ecs::EVENT_REASON, reason);
    Ok(())
}

/// `Built {dynamic|static} <protocol> translation from <A> to <B>`.
pub(super) fn translation_built(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    translation(w, text, "Built", "translation-built", "start")
}

/// `Teardown {dynamic|static} <protocol> translation from <A> to <B> duration h:mm:ss`.
pub(super) fn translation_teardown(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    translation(w, text, "Teardown", "translation-teardown", "end")
}

/// The two translation messages: the real address is the source, the
/// mapped one its NAT address.
fn translation(
    w: &mut Writer<'_, '_>,
    text: &str,
    verb: &str,
    action: &str,
    kind: &str,
) -> Result<(), ReadError> {
    let mut words = text.split(' ');
    let (Some(v), Some(nat_type), Some(protocol), Some("translation"), Some("from")) = (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) else {
        return Err((0, "<verb> <type> <protocol> translation from"));
    };
    if v != verb {
        return Err((0, "Built or Teardown"));
    }
    w.classify(action, Some("success"), "network", &["connection", kind]);
    w.transport(protocol);
    w.vendor("translation_type", nat_type);
    let (body, duration) = match text.find(" duration ") {
        Some(i) => (&text[..i], Some(&text[i + " duration ".len()..])),
        None => (text, None),
    };
    let (real, mapped) = sides(body, "from ")?;
    w.address(ecs::SOURCE_IP, "source_host", real.address);
    w.port(ecs::SOURCE_PORT, real.port);
    w.out
        .put(ecs::OBSERVER_INGRESS_INTERFACE_NAME, real.interface);
    w.out.put(ecs::SOURCE_USER_NAME, real.user);
    w.address(ecs::SOURCE_NAT_IP, "mapped_source_host", mapped.address);
    w.port(ecs::SOURCE_NAT_PORT, mapped.port);
    w.out
        .put(ecs::OBSERVER_EGRESS_INTERFACE_NAME, mapped.interface);
    if let Some(d) = duration {
        w.duration(d.split(' ').next().unwrap_or_default());
    }
    Ok(())
}

/// The two endpoints after `lead` (`for `, `from `), split at ` to `.
fn sides<'t>(text: &'t str, lead: &str) -> Result<(Endpoint<'t>, Endpoint<'t>), ReadError> {
    let start = text.find(lead).ok_or((0, "the first endpoint"))? + lead.len();
    let to = text[start..]
        .find(" to ")
        .map(|i| start + i)
        .ok_or((start, "' to ' between the endpoints"))?;
    let first = text::endpoint(&text[start..to]).ok_or((start, "interface:address/port"))?;
    let second_at = to + " to ".len();
    let second = text::endpoint(&text[second_at..]).ok_or((second_at, "interface:address/port"))?;
    Ok((first, second))
}
