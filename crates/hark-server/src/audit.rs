//! The audit trail: who signed in or failed to, who changed users, tokens,
//! acknowledgements, downtimes, silences, rules and problems. Each is an
//! event in the store (app `hark-audit`, input `audit`, host this server)
//! with a readable message and the fields `action`, `actor`, `actor_kind`,
//! `address` (when known), `target` and `outcome`, so it is searched like
//! any log: `app:hark-audit action:login outcome:failure`.
//!
//! A failed write does not fail the request: it is logged and counted in
//! `hark_audit_write_failures_total`.

use std::net::IpAddr;

use hark_event::Event;

use crate::AppState;
use crate::identity::{Principal, PrincipalKind};

/// The `app` of audit events.
pub const APP: &str = "hark-audit";
/// The `input` of audit events.
pub const INPUT: &str = "audit";
/// Counts audit events that could not be stored.
pub const WRITE_FAILURES: &str = "hark_audit_write_failures_total";

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It was done.
    Success,
    /// It was refused or failed.
    Failure,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Who did something: a principal, or (for a failed login) the user name given.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    kind: PrincipalKind,
    name: String,
    address: Option<IpAddr>,
}

impl Actor {
    /// A principal, from `address` when known.
    pub(crate) fn of(principal: &Principal, address: Option<IpAddr>) -> Actor {
        Actor {
            kind: principal.kind,
            name: principal.name.clone(),
            address,
        }
    }

    /// Someone signing in as `name`.
    pub(crate) fn user(name: &str, address: Option<IpAddr>) -> Actor {
        Actor {
            kind: PrincipalKind::User,
            name: name.to_owned(),
            address,
        }
    }
}

/// Records that `principal` (from `peer`) did `action` to `target`, with
/// the outcome of `result`.
pub(crate) async fn record<T, E>(
    app: &AppState,
    principal: &Principal,
    peer: Option<std::net::SocketAddr>,
    action: &str,
    target: &str,
    result: &Result<T, E>,
) {
    let outcome = if result.is_ok() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let actor = Actor::of(principal, peer.map(|p| p.ip()));
    record_by(app, &actor, action, target, outcome).await;
}

/// Records that `actor` did `action` to `target`.
pub(crate) async fn record_by(
    app: &AppState,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: Outcome,
) {
    let event = event(&app.host, actor, action, target, outcome);
    let ticket = match app.store.append(vec![event]).await {
        Ok(ticket) => ticket,
        Err(e) => return failed(action, &e),
    };
    // Waiting here could hold the request while the disk is full; the
    // outcome is logged instead.
    let action = action.to_owned();
    tokio::spawn(async move {
        if let Err(e) = ticket.wait().await {
            failed(&action, &e);
        }
    });
}

fn failed(action: &str, e: &dyn std::fmt::Display) {
    tracing::error!(action, "cannot store an audit event: {e}");
    metrics::counter!(WRITE_FAILURES).increment(1);
}

/// The audit event.
fn event(host: &str, actor: &Actor, action: &str, target: &str, outcome: Outcome) -> Event {
    let mut ev = Event::new(hark_event::now_nanos(), INPUT);
    ev.host = Some(host.to_owned());
    ev.app = Some(APP.to_owned());
    let from = actor
        .address
        .map(|a| format!(" from {a}"))
        .unwrap_or_default();
    let on = if target.is_empty() {
        String::new()
    } else {
        format!(" on `{target}`")
    };
    ev.message = format!(
        "{} `{}`{from}: {action}{on}: {}",
        actor.kind,
        actor.name,
        outcome.name()
    );
    ev.push_field("action", action);
    ev.push_field("actor", actor.name.as_str());
    ev.push_field("actor_kind", actor.kind.to_string().as_str());
    if let Some(a) = actor.address {
        ev.push_field("address", a.to_string().as_str());
    }
    ev.push_field("target", target);
    ev.push_field("outcome", outcome.name());
    ev
}

/// This machine's name (`localhost` when it cannot be read).
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hark_event::FieldValue;

    #[test]
    fn events_say_who_did_what_to_what() {
        let addr = Some(IpAddr::from([192, 0, 2, 9]));
        let ev = event(
            "hark1",
            &Actor::user("alice", addr),
            "login",
            "alice",
            Outcome::Failure,
        );
        assert_eq!(ev.app.as_deref(), Some(APP));
        assert_eq!(ev.input, INPUT);
        assert_eq!(ev.host.as_deref(), Some("hark1"));
        assert_eq!(
            ev.message,
            "user `alice` from 192.0.2.9: login on `alice`: failure"
        );
        let field = |n| match ev.field(n) {
            Some(FieldValue::Str(s)) => s.clone(),
            other => panic!("{n}: {other:?}"),
        };
        assert_eq!(field("action"), "login");
        assert_eq!(field("actor"), "alice");
        assert_eq!(field("actor_kind"), "user");
        assert_eq!(field("address"), "192.0.2.9");
        assert_eq!(field("target"), "alice");
        assert_eq!(field("outcome"), "failure");
        let token = Principal {
            kind: PrincipalKind::Token,
            id: "0123456789abcdef".into(),
            name: "ci".into(),
            role: crate::identity::Role::Admin,
        };
        let ev = event(
            "hark1",
            &Actor::of(&token, None),
            "silence.add",
            "7",
            Outcome::Success,
        );
        assert_eq!(ev.message, "token `ci`: silence.add on `7`: success");
        assert!(ev.field("address").is_none());
    }
}
