//! ECS `event.outcome`, `event.category` and `event.type` of a FortiGate
//! log, from its `type`, `subtype`, `action` and `status`.
//!
//! Outcome: a `status` of `success` is a success and one holding `fail`
//! (`failed`, `dpd_failure`) a failure; otherwise the `action` decides:
//! a session the policy let through (`accept`, `pass`, `close`, `timeout`,
//! `client-rst`, `server-rst`, `start`, `tunnel-up`…) is a success, one it
//! stopped (`deny`, `block`, `blocked`, `dropped`, `reset`, `ssl-login-fail`…)
//! a failure; anything else (`detected`, `Edit`) is unknown.
//!
//! Category and type:
//! - `traffic`: `network`; `connection`, then `start` for a session-start
//!   log or `end` for a closed one, and `allowed` or `denied`.
//! - `utm`: `network`, and `malware` for `virus`, `intrusion_detection`
//!   for `ips` and `anomaly`; `allowed`, `denied` or `info`.
//! - `anomaly` (FortiOS 5): `network` and `intrusion_detection`.
//! - `event`/`system`: `authentication` with `start`/`end` for an
//!   administrator's login and logout, `configuration` with
//!   `creation`/`change`/`deletion` for `Add`/`Edit`/`Delete`, else `host`
//!   and `info`.
//! - `event`/`vpn`: `network`; `start` for `tunnel-up`, `end` for
//!   `tunnel-down`, else `info`.
//! - `event`/`user`: `authentication` and `info`; other `event` subtypes:
//!   `host` and `info`.

/// ECS outcome of a FortiGate log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The session or operation went through.
    Success,
    /// The device stopped it, or it failed.
    Failure,
    /// The log does not say.
    Unknown,
}

impl Outcome {
    /// The ECS value.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

/// The outcome told by `status` or else `action`.
pub(super) fn outcome(action: Option<&str>, status: Option<&str>) -> Outcome {
    if let Some(status) = status {
        if status.eq_ignore_ascii_case("success") {
            return Outcome::Success;
        }
        if status.to_ascii_lowercase().contains("fail") {
            return Outcome::Failure;
        }
    }
    let Some(action) = action else {
        return Outcome::Unknown;
    };
    match action.to_ascii_lowercase().as_str() {
        "accept" | "allow" | "pass" | "passthrough" | "permit" | "close" | "timeout"
        | "client-rst" | "server-rst" | "start" | "tunnel-up" | "tunnel-down" => Outcome::Success,
        "deny" | "denied" | "block" | "blocked" | "drop" | "dropped" | "reset" | "reject"
        | "clear_session" | "ssl-login-fail" => Outcome::Failure,
        _ => Outcome::Unknown,
    }
}

/// ECS categories and types of a log.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Classes {
    /// `event.category` values, in order.
    pub categories: Vec<&'static str>,
    /// `event.type` values, in order.
    pub types: Vec<&'static str>,
}

/// The categories and types of a log of `kind`/`subtype`.
pub(super) fn classes(
    kind: Option<&str>,
    subtype: Option<&str>,
    action: Option<&str>,
    outcome: Outcome,
) -> Classes {
    let action = action.map(str::to_ascii_lowercase);
    let action = action.as_deref();
    let verdict = match outcome {
        Outcome::Success => "allowed",
        Outcome::Failure => "denied",
        Outcome::Unknown => "info",
    };
    let (categories, types): (Vec<&'static str>, Vec<&'static str>) = match (kind, subtype) {
        (Some("traffic"), _) => {
            let mut types = vec!["connection"];
            match action {
                Some("start") => types.push("start"),
                Some("close" | "timeout" | "client-rst" | "server-rst") => types.push("end"),
                _ => {}
            }
            if outcome != Outcome::Unknown {
                types.push(verdict);
            }
            (vec!["network"], types)
        }
        (Some("utm"), Some("virus")) => (vec!["network", "malware"], vec![verdict]),
        (Some("utm"), Some("ips" | "anomaly")) | (Some("anomaly"), _) => {
            (vec!["network", "intrusion_detection"], vec![verdict])
        }
        (Some("utm"), _) => (vec!["network"], vec![verdict]),
        (Some("event"), Some("system")) => match action {
            Some("login") => (vec!["authentication"], vec!["start"]),
            Some("logout") => (vec!["authentication"], vec!["end"]),
            Some("add") => (vec!["configuration"], vec!["creation"]),
            Some("edit") => (vec!["configuration"], vec!["change"]),
            Some("delete") => (vec!["configuration"], vec!["deletion"]),
            _ => (vec!["host"], vec!["info"]),
        },
        (Some("event"), Some("vpn")) => match action {
            Some("tunnel-up") => (vec!["network"], vec!["start"]),
            Some("tunnel-down") => (vec!["network"], vec!["end"]),
            _ => (vec!["network"], vec!["info"]),
        },
        (Some("event"), Some("user")) => (vec!["authentication"], vec!["info"]),
        (Some("event"), _) => (vec!["host"], vec!["info"]),
        _ => (Vec::new(), Vec::new()),
    };
    Classes { categories, types }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_decides_before_action() {
        assert_eq!(outcome(Some("login"), Some("success")), Outcome::Success);
        assert_eq!(outcome(Some("login"), Some("failed")), Outcome::Failure);
        assert_eq!(outcome(Some("dpd"), Some("dpd_failure")), Outcome::Failure);
        assert_eq!(outcome(Some("Deny"), None), Outcome::Failure);
        assert_eq!(outcome(Some("server-rst"), None), Outcome::Success);
        assert_eq!(outcome(Some("detected"), None), Outcome::Unknown);
        assert_eq!(outcome(None, None), Outcome::Unknown);
    }

    #[test]
    fn traffic_types() {
        let c = classes(
            Some("traffic"),
            Some("forward"),
            Some("close"),
            Outcome::Success,
        );
        assert_eq!(c.categories, ["network"]);
        assert_eq!(c.types, ["connection", "end", "allowed"]);
        let c = classes(
            Some("traffic"),
            Some("local"),
            Some("deny"),
            Outcome::Failure,
        );
        assert_eq!(c.types, ["connection", "denied"]);
    }

    #[test]
    fn unknown_kinds_have_no_class() {
        assert_eq!(
            classes(None, None, None, Outcome::Unknown),
            Classes::default()
        );
        assert_eq!(
            classes(Some("dlp?"), None, None, Outcome::Unknown),
            Classes::default()
        );
    }
}
