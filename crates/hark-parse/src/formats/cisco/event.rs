//! FTD connection events 430002 (start) and 430003 (end): a list of
//! `Key: Value` pairs separated by `, `.

use super::{ReadError, Writer};
use crate::ecs;

/// `%FTD-6-430002` / `%FTD-6-430003`.
pub(super) fn connection(w: &mut Writer<'_, '_>, id: &str, text: &str) -> Result<(), ReadError> {
    let pairs = pairs(text);
    if pairs.is_empty() {
        return Err((0, "Key: Value pairs"));
    }
    let (action, phase) = if id == "430002" {
        ("connection-started", "start")
    } else {
        ("connection-finished", "end")
    };
    let rule_action = pairs
        .iter()
        .find(|(k, _)| *k == "AccessControlRuleAction")
        .map(|(_, v)| *v);
    let outcome = match rule_action {
        Some("Allow" | "Trust") => "success",
        Some(a) if a.starts_with("Block") => "failure",
        _ => "unknown",
    };
    w.classify(action, Some(outcome), "network", &["connection", phase]);
    for (key, value) in pairs {
        pair(w, key, value);
    }
    Ok(())
}

fn pair(w: &mut Writer<'_, '_>, key: &str, value: &str) {
    match key {
        "SrcIP" => w.address(ecs::SOURCE_IP, "SrcIP", value),
        "DstIP" => w.address(ecs::DESTINATION_IP, "DstIP", value),
        "SrcPort" => w.port(ecs::SOURCE_PORT, value),
        "DstPort" => w.port(ecs::DESTINATION_PORT, value),
        "Protocol" => w.transport(value),
        "IngressInterface" => w.out.put(ecs::OBSERVER_INGRESS_INTERFACE_NAME, value),
        "EgressInterface" => w.out.put(ecs::OBSERVER_EGRESS_INTERFACE_NAME, value),
        "IngressZone" => w.out.put(ecs::OBSERVER_INGRESS_ZONE, value),
        "EgressZone" => w.out.put(ecs::OBSERVER_EGRESS_ZONE, value),
        "AccessControlRuleName" => w.out.put(ecs::RULE_NAME, value),
        "InitiatorPackets" => w.out.put(ecs::SOURCE_PACKETS, value),
        "ResponderPackets" => w.out.put(ecs::DESTINATION_PACKETS, value),
        "InitiatorBytes" => w.out.put(ecs::SOURCE_BYTES, value),
        "ResponderBytes" => w.out.put(ecs::DESTINATION_BYTES, value),
        "ConnectionDuration" => match value
            .parse::<i64>()
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
        {
            Some(ns) => w.out.put_int(ecs::EVENT_DURATION, ns),
            None => w.vendor(key, value),
        },
        _ => w.vendor(&key.replace(' ', "_"), value),
    }
}

/// The `Key: Value` pairs of `text`. A `, ` not followed by a key and `: `
/// belongs to the value before it.
fn pairs(text: &str) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut rest = text.trim_end();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once(": ").filter(|(k, _)| is_key(k)) else {
            break;
        };
        let value_at = rest.len() - after.len();
        let mut end = after.len();
        let mut search = 0;
        while let Some(n) = after[search..].find(", ") {
            let at = search + n;
            let next = &after[at + 2..];
            if next.split_once(": ").is_some_and(|(k, _)| is_key(k)) {
                end = at;
                break;
            }
            search = at + 2;
        }
        pairs.push((key, &rest[value_at..value_at + end]));
        rest = after.get(end + 2..).unwrap_or("");
    }
    pairs
}

/// A key as FTD writes them: letters, digits, `_` and inner spaces.
fn is_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 48
        && k.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b' ')
}

#[cfg(test)]
mod tests {
    use super::pairs;

    #[test]
    fn pairs_split_on_keys_only() {
        let p = pairs(
            "SrcIP: 10.0.0.1, URL: http://a/?x=1, y=2, Prefilter Policy: Default, User: No Authentication Required",
        );
        assert_eq!(
            p,
            vec![
                ("SrcIP", "10.0.0.1"),
                ("URL", "http://a/?x=1, y=2"),
                ("Prefilter Policy", "Default"),
                ("User", "No Authentication Required"),
            ]
        );
    }

    #[test]
    fn no_pairs_in_free_text() {
        assert!(pairs("connection event without pairs").is_empty());
        assert!(pairs("").is_empty());
    }
}
