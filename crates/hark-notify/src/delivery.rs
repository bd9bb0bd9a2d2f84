//! The delivery task of one channel: ask [`schedule::plan`] what to do,
//! wait or send, and record every answer in the outbox before acting on it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::model::{Attempt, Notification};
use crate::schedule::{self, Plan};
use crate::{Channel, Inner, now_nanos, telemetry};

/// How long to wait before trying again when the outbox cannot be written.
const OUTBOX_RETRY: Duration = Duration::from_secs(1);

/// Runs until `stop` turns true.
pub(crate) async fn run(inner: Arc<Inner>, channel: Arc<Channel>, mut stop: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    let mut retry_at: Option<i64> = None;
    // Ids already logged at WARN for a permanent refusal.
    let mut warned: Vec<String> = Vec::new();
    loop {
        if *stop.borrow() {
            return;
        }
        let now = now_nanos();
        let plan = {
            let outbox = inner.outbox();
            schedule::plan(
                &outbox.pending(&channel.name),
                outbox.last_sent(&channel.name),
                retry_at,
                channel.grouping,
                now,
            )
        };
        let ids = match plan {
            Plan::Idle => {
                tokio::select! {
                    _ = channel.wake.notified() => {}
                    _ = stop.changed() => return,
                }
                continue;
            }
            Plan::WaitUntil(t) => {
                let wait = Duration::from_nanos(u64::try_from(t - now).unwrap_or(0));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = channel.wake.notified() => {}
                    _ = stop.changed() => return,
                }
                continue;
            }
            Plan::Send(ids) => ids,
        };
        let notifications: Vec<Notification> = {
            let outbox = inner.outbox();
            ids.iter()
                .filter_map(|id| outbox.get(id).map(|e| e.notification.clone()))
                .collect()
        };
        let result = match inner.renderer.message(&notifications) {
            Ok(message) => {
                tokio::select! {
                    r = channel.sender.send(&message) => r,
                    _ = stop.changed() => return,
                }
            }
            Err(e) => Err(crate::channel::SendError {
                answer: e.to_string(),
                permanent: true,
            }),
        };
        let at = now_nanos();
        let recorded = match result {
            Ok(answer) => {
                failures = 0;
                retry_at = None;
                let recorded = inner.outbox().record_attempt(
                    &ids,
                    Attempt {
                        at,
                        answer: Some(answer.clone()),
                        error: None,
                    },
                );
                if recorded.is_ok() {
                    telemetry::sent(&channel.name, ids.len());
                    tracing::info!(channel = %channel.name, notifications = ids.len(), %answer, "notification sent");
                }
                recorded
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let jitter = rand::random::<f64>() * 2.0 - 1.0;
                retry_at =
                    Some(at.saturating_add(schedule::nanos(schedule::backoff(failures, jitter))));
                refused(&inner, &channel, &ids, at, e, &mut warned)
            }
        };
        let compacted = {
            let mut outbox = inner.outbox();
            telemetry::depth(outbox.depth());
            outbox.compact_if_due(at)
        };
        if let Err(e) = recorded.and(compacted) {
            tracing::error!(channel = %channel.name, "cannot write the notification outbox: {e}");
            tokio::select! {
                _ = tokio::time::sleep(OUTBOX_RETRY) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// Records a refused attempt for `ids`, gives up those past
/// `give_up_after`, and logs.
fn refused(
    inner: &Inner,
    channel: &Channel,
    ids: &[String],
    at: i64,
    e: crate::channel::SendError,
    warned: &mut Vec<String>,
) -> Result<(), crate::OutboxError> {
    let mut outbox = inner.outbox();
    outbox.record_attempt(
        ids,
        Attempt {
            at,
            answer: None,
            error: Some(e.answer.clone()),
        },
    )?;
    let limit = schedule::nanos(inner.give_up_after);
    let (expired, retried): (Vec<String>, Vec<String>) = ids.iter().cloned().partition(|id| {
        outbox
            .get(id)
            .is_some_and(|entry| at.saturating_sub(entry.created) >= limit)
    });
    outbox.mark_failed(&expired)?;
    drop(outbox);
    if !expired.is_empty() {
        telemetry::failed(&channel.name, expired.len());
        tracing::error!(
            channel = %channel.name,
            ids = %expired.join(","),
            answer = %e.answer,
            "notifications given up after {}",
            humanize(inner.give_up_after)
        );
    }
    if !retried.is_empty() {
        telemetry::retried(&channel.name, retried.len());
        let first_warning: Vec<&String> =
            retried.iter().filter(|id| !warned.contains(id)).collect();
        if e.permanent && !first_warning.is_empty() {
            tracing::warn!(
                channel = %channel.name,
                ids = %first_warning.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
                answer = %e.answer,
                "the server refused the notification; retrying until give_up_after in case the configuration is fixed"
            );
            warned.extend(first_warning.into_iter().cloned());
        } else {
            tracing::debug!(channel = %channel.name, answer = %e.answer, "notification not accepted; will retry");
        }
    }
    warned.retain(|id| retried.contains(id) || !ids.contains(id));
    Ok(())
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{:?}", d)
    }
}
