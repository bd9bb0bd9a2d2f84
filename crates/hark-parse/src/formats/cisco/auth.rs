//! AAA, device logins and remote-access VPN sessions: 113004, 113005,
//! 113019, 611101, 605004, 605005, 722022, 722023.

use super::text::{self, address_port, endpoint};
use super::{ReadError, Writer};
use crate::ecs;

/// 113004 `AAA user <type> Successful: server = <ip>, User = <user>` and
/// 113005 `AAA user authentication Rejected: reason = <why>: server =
/// <ip>, User = <user>: user IP = <ip>` (separators vary by release).
pub(super) fn aaa(w: &mut Writer<'_, '_>, id: &str, text: &str) -> Result<(), ReadError> {
    let rest = text.strip_prefix("AAA user ").ok_or((0, "AAA user"))?;
    let aaa_type = rest.split(' ').next().unwrap_or_default();
    w.vendor("aaa_type", aaa_type);
    if id == "113004" {
        w.classify("aaa-success", Some("success"), "authentication", &["info"]);
    } else {
        w.classify("aaa-rejected", Some("failure"), "authentication", &["info"]);
        if let Some(reason) =
            text::value_after(text, "reason = ", &[" server = ", ": server", " : server"])
        {
            w.out.put(ecs::EVENT_REASON, reason);
        }
    }
    if let Some(server) = text::value_after(text, "server = ", &[", ", " :", ": "]) {
        w.address(ecs::DESTINATION_IP, "destination_host", server);
    }
    let user = text::value_after(text, "User = ", &[", ", " :", ": user IP"])
        .or_else(|| text::value_after(text, "user = ", &[", ", " :", ": user IP"]));
    if let Some(user) = user {
        w.out.put(ecs::USER_NAME, user);
    }
    if let Some(ip) = text::value_after(text, "user IP = ", &[", ", " "]) {
        w.address(ecs::SOURCE_IP, "source_host", ip);
    }
    Ok(())
}

/// 113019: `Group = <g>, Username = <u>, IP = <ip>, Session disconnected.
/// Session Type: <t>, Duration: <d>, Bytes xmt: <n>, Bytes rcv: <n>, Reason: <why>`.
pub(super) fn vpn_disconnected(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    if !text.starts_with("Group = ") {
        return Err((0, "Group = <group>"));
    }
    w.classify(
        "vpn-session-disconnected",
        Some("success"),
        "session",
        &["end"],
    );
    if let Some(group) = text::value_after(text, "Group = ", &[", Username = "]) {
        w.vendor("tunnel_group", group);
    }
    if let Some(user) = text::value_after(text, "Username = ", &[", IP = "]) {
        w.out.put(ecs::USER_NAME, user);
    }
    if let Some(ip) = text::value_after(text, "IP = ", &[", "]) {
        w.address(ecs::SOURCE_IP, "source_host", ip);
    }
    if let Some(kind) = text::value_after(text, "Session Type: ", &[", "]) {
        w.vendor("session_type", kind);
    }
    if let Some(duration) = text::value_after(text, "Duration: ", &[", "]) {
        w.duration(duration);
    }
    // Bytes transmitted by the ASA reached the client (the source).
    if let Some(xmt) = text::value_after(text, "Bytes xmt: ", &[", "]) {
        w.out.put(ecs::DESTINATION_BYTES, xmt);
    }
    if let Some(rcv) = text::value_after(text, "Bytes rcv: ", &[", "]) {
        w.out.put(ecs::SOURCE_BYTES, rcv);
    }
    if let Some(reason) = text::value_after(text, "Reason: ", &[]) {
        w.out.put(ecs::EVENT_REASON, reason.trim_end_matches('"'));
    }
    Ok(())
}

/// 722022 `Group <g> User <u> IP <ip> {TCP|UDP} SVC connection established
/// {with|without} compression`; 722023 the same with `terminated`.
pub(super) fn svc(w: &mut Writer<'_, '_>, id: &str, text: &str) -> Result<(), ReadError> {
    let group = text::angle_after(text, "Group ").ok_or((0, "Group <group>"))?;
    if id == "722022" {
        w.classify(
            "vpn-connection-established",
            Some("success"),
            "session",
            &["start"],
        );
    } else {
        w.classify(
            "vpn-connection-terminated",
            Some("success"),
            "session",
            &["end"],
        );
    }
    w.vendor("tunnel_group", group);
    if let Some(user) = text::angle_after(text, "User ") {
        w.out.put(ecs::USER_NAME, user);
    }
    if let Some(ip) = text::angle_after(text, "IP ") {
        w.address(ecs::SOURCE_IP, "source_host", ip);
    }
    let after_ip = text
        .find("IP <")
        .and_then(|i| text[i..].find('>').map(|j| i + j + 1))
        .map_or("", |i| text[i..].trim());
    if let Some(protocol) = after_ip.split(' ').next()
        && matches!(protocol, "TCP" | "UDP")
    {
        w.transport(protocol);
    }
    if after_ip.contains("without compression") {
        w.vendor("compression", "false");
    } else if after_ip.contains("with compression") {
        w.vendor("compression", "true");
    }
    Ok(())
}

/// 611101: `User authentication succeeded: IP address: <ip>, Uname: <user>`
/// (older releases: `User authentication succeeded: Uname: <user>`).
pub(super) fn vpn_client_login(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    if !text.starts_with("User authentication succeeded") {
        return Err((0, "User authentication succeeded"));
    }
    w.classify(
        "authentication-succeeded",
        Some("success"),
        "authentication",
        &["start"],
    );
    if let Some(ip) = text::value_after(text, "IP address: ", &[", "]) {
        w.address(ecs::SOURCE_IP, "source_host", ip);
    }
    if let Some(user) = text::value_after(text, "Uname: ", &[]) {
        w.out.put(ecs::USER_NAME, user);
    }
    Ok(())
}

/// 605004 `Login denied from <ip>/<port> to <if>:<ip>/<service> for user
/// "<user>"`; 605005 the same with `permitted`.
pub(super) fn device_login(w: &mut Writer<'_, '_>, id: &str, text: &str) -> Result<(), ReadError> {
    let rest = text.strip_prefix("Login ").ok_or((0, "Login"))?;
    if id == "605005" {
        w.classify("login", Some("success"), "authentication", &["start"]);
    } else {
        w.classify("login", Some("failure"), "authentication", &["start"]);
    }
    let from = rest.find("from ").ok_or((0, "from <address>/<port>"))? + "from ".len();
    let (src, rest) = rest[from..].split_once(" to ").ok_or((from, "' to '"))?;
    let (addr, port) = address_port(src);
    w.address(ecs::SOURCE_IP, "source_host", addr);
    w.port(ecs::SOURCE_PORT, port);
    let (dst, user) = match rest.split_once(" for user ") {
        Some((d, u)) => (d, Some(u.trim().trim_matches('"'))),
        None => (rest, None),
    };
    if let Some(ep) = endpoint(dst) {
        w.out
            .put(ecs::OBSERVER_INGRESS_INTERFACE_NAME, ep.interface);
        w.address(ecs::DESTINATION_IP, "destination_host", ep.address);
        w.port(ecs::DESTINATION_PORT, ep.port);
    }
    if let Some(user) = user {
        w.out.put(ecs::USER_NAME, user);
    }
    Ok(())
}
