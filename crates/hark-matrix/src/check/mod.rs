//! The preflight: can each listener bind its port, and can each client reach
//! its peer? Run before `hark serve` (or beside it, to see who holds a port).

mod bind;
mod connect;
mod dns;
mod holder;
mod privilege;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use crate::flow::{Flow, Role};
use crate::render::text::align;

/// How long name resolution, a connection or a probe may take per flow.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// The outcome of checking one flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// The flow checked.
    #[serde(flatten)]
    pub flow: Flow,
    /// True when the flow works as configured.
    pub ok: bool,
    /// What was found: what was bound or reached, or why not.
    pub reason: String,
}

/// Checks every flow, concurrently, with [`DEFAULT_TIMEOUT`]; results keep
/// the order of `flows`.
pub async fn check(flows: &[Flow]) -> Vec<CheckResult> {
    check_with_timeout(flows, DEFAULT_TIMEOUT).await
}

/// [`check`] with another time limit per step.
pub async fn check_with_timeout(flows: &[Flow], timeout: Duration) -> Vec<CheckResult> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, flow) in flows.iter().cloned().enumerate() {
        tasks.spawn(async move {
            let outcome = match flow.role {
                Role::Listen => {
                    let f = flow.clone();
                    // Binding and reading /proc block; keep them off the runtime's threads.
                    tokio::task::spawn_blocking(move || bind::check_listener(&f))
                        .await
                        .unwrap_or_else(|e| Err(ProbeError::Internal(e.to_string())))
                }
                Role::Connect => connect::check_client(&flow, timeout).await,
            };
            (i, outcome)
        });
    }
    let mut outcomes: Vec<Option<Result<String, ProbeError>>> = vec![None; flows.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, outcome)) = joined {
            outcomes[i] = Some(outcome);
        }
    }
    flows
        .iter()
        .zip(outcomes)
        .map(|(flow, outcome)| {
            let outcome = outcome
                .unwrap_or_else(|| Err(ProbeError::Internal("the check did not finish".into())));
            CheckResult {
                flow: flow.clone(),
                ok: outcome.is_ok(),
                reason: match outcome {
                    Ok(found) => found,
                    Err(e) => e.to_string(),
                },
            }
        })
        .collect()
}

/// The results as aligned columns: OK or FAIL, the flow, and the reason.
pub fn check_table(results: &[CheckResult]) -> String {
    let mut rows = vec![
        [
            "RESULT",
            "DIRECTION",
            "DESTINATION",
            "PORT",
            "COMPONENT",
            "REASON",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for r in results {
        let f = &r.flow;
        rows.push(vec![
            if r.ok { "OK" } else { "FAIL" }.to_owned(),
            f.direction.name().to_owned(),
            f.destination.to_string(),
            format!("{}/{}", f.port, f.transport.name()),
            f.component.clone(),
            r.reason.clone(),
        ]);
    }
    align(&rows)
}

/// Why a flow failed its check; the message is the reason shown.
#[derive(Debug, Clone, thiserror::Error)]
enum ProbeError {
    #[error("{addr}/{transport} is in use by {holders}; {privilege}")]
    InUse {
        addr: SocketAddr,
        transport: &'static str,
        holders: String,
        privilege: String,
    },
    #[error("cannot bind {addr}/{transport}: permission denied; {privilege}")]
    PermissionDenied {
        addr: SocketAddr,
        transport: &'static str,
        privilege: String,
    },
    #[error("cannot bind {addr}/{transport}: the address is not configured on this host")]
    AddressNotAvailable {
        addr: SocketAddr,
        transport: &'static str,
    },
    #[error("cannot bind {addr}/{transport}: {message}")]
    Bind {
        addr: SocketAddr,
        transport: &'static str,
        message: String,
    },
    #[error("{0}")]
    NoAddress(String),
    #[error("cannot resolve {host}: {message}")]
    Resolve { host: String, message: String },
    #[error("{addr}/{transport}: connection refused")]
    Refused {
        addr: SocketAddr,
        transport: &'static str,
    },
    #[error("{addr}/{transport}: no answer within {secs:.1} s")]
    Timeout {
        addr: SocketAddr,
        transport: &'static str,
        secs: f64,
    },
    #[error("{addr}/{transport}: {message}")]
    Connect {
        addr: SocketAddr,
        transport: &'static str,
        message: String,
    },
    #[error("{addr}/udp: the DNS server answered {rcode}")]
    DnsRcode {
        addr: SocketAddr,
        rcode: &'static str,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// An OS error's message without the `(os error N)` tail, in lower case.
fn os_message(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_messages_are_short() {
        let e = io::Error::from_raw_os_error(111);
        assert_eq!(os_message(&e), "connection refused");
    }
}
