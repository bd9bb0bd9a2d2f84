//! When a channel sends its next message, and what it holds. Pure logic:
//! no clock, no I/O; every time is unix nanoseconds.
//!
//! The rules (Alertmanager's `group_wait` / `group_interval`, Checkmk's
//! bulking):
//!
//! 1. A channel with nothing pending is idle.
//! 2. Its next message goes at the latest of: the oldest pending
//!    notification's creation + `group_wait`; the last accepted message +
//!    `group_interval`; the retry time after a failed attempt.
//! 3. The message holds every pending notification, oldest first, up to
//!    [`MAX_PER_MESSAGE`]: one is a plain message, several a digest. With
//!    `group_wait` and `group_interval` both 0 each notification is a
//!    message of its own.
//! 4. After a failed attempt the channel waits 1 s, doubling per failure up
//!    to 5 min, each with ±20 % jitter, before the next try.
//!
//! Creation times and the last send time are in the outbox, so the same
//! decision is taken after a restart; only the retry time is forgotten, and
//! the first try after a restart goes at once.

use std::time::Duration;

/// Most notifications in one digest; the rest go in the next message.
pub const MAX_PER_MESSAGE: usize = 200;
/// The first retry delay.
const BACKOFF_START: Duration = Duration::from_secs(1);
/// The longest retry delay.
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// A channel's grouping settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping {
    /// How long the first pending notification waits for others.
    pub group_wait: Duration,
    /// The least time between two messages.
    pub group_interval: Duration,
}

/// What a channel does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing is pending.
    Idle,
    /// Wait until this time, then decide again.
    WaitUntil(i64),
    /// Send one message holding these ids now.
    Send(Vec<String>),
}

/// The next step for a channel whose pending notifications are `pending`
/// (id, creation time; oldest first).
pub fn plan(
    pending: &[(String, i64)],
    last_sent: Option<i64>,
    retry_at: Option<i64>,
    grouping: Grouping,
    now: i64,
) -> Plan {
    let Some((_, oldest)) = pending.first() else {
        return Plan::Idle;
    };
    let due = [
        Some(oldest.saturating_add(nanos(grouping.group_wait))),
        last_sent.map(|t| t.saturating_add(nanos(grouping.group_interval))),
        retry_at,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(*oldest);
    if due > now {
        return Plan::WaitUntil(due);
    }
    let one_each = grouping.group_wait.is_zero() && grouping.group_interval.is_zero();
    let take = if one_each { 1 } else { MAX_PER_MESSAGE };
    Plan::Send(
        pending
            .iter()
            .take(take)
            .map(|(id, _)| id.clone())
            .collect(),
    )
}

/// The delay before the next try after `failures` failed attempts in a row
/// (at least 1), with `jitter` in [-1, 1] scaling ±20 %.
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    let base = BACKOFF_START
        .saturating_mul(1u32 << doublings)
        .min(BACKOFF_MAX);
    base.mul_f64(1.0 + 0.2 * jitter.clamp(-1.0, 1.0))
}

/// A duration in nanoseconds, saturating.
pub fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn grouping(wait: u64, interval: u64) -> Grouping {
        Grouping {
            group_wait: Duration::from_secs(wait),
            group_interval: Duration::from_secs(interval),
        }
    }

    fn pending(n: usize, first: i64) -> Vec<(String, i64)> {
        (0..n)
            .map(|i| (format!("n{i}"), first + i as i64))
            .collect()
    }

    #[test]
    fn nothing_pending_is_idle() {
        assert_eq!(plan(&[], Some(0), None, grouping(30, 300), 0), Plan::Idle);
    }

    #[test]
    fn the_first_waits_group_wait_then_all_go_together() {
        let p = pending(3, 10 * S);
        assert_eq!(
            plan(&p, None, None, grouping(30, 300), 20 * S),
            Plan::WaitUntil(40 * S)
        );
        assert_eq!(
            plan(&p, None, None, grouping(30, 300), 40 * S),
            Plan::Send(vec!["n0".into(), "n1".into(), "n2".into()])
        );
    }

    #[test]
    fn the_next_message_waits_group_interval_after_the_last() {
        let p = pending(1, 100 * S);
        assert_eq!(
            plan(&p, Some(90 * S), None, grouping(30, 300), 130 * S),
            Plan::WaitUntil(390 * S)
        );
        assert_eq!(
            plan(&p, Some(90 * S), None, grouping(30, 300), 390 * S),
            Plan::Send(vec!["n0".into()])
        );
    }

    #[test]
    fn a_retry_time_holds_the_message_back() {
        let p = pending(1, 0);
        assert_eq!(
            plan(&p, None, Some(50 * S), grouping(0, 0), 10 * S),
            Plan::WaitUntil(50 * S)
        );
    }

    #[test]
    fn zero_wait_and_interval_send_each_alone_at_once() {
        let p = pending(3, 0);
        assert_eq!(
            plan(&p, Some(0), None, grouping(0, 0), 0),
            Plan::Send(vec!["n0".into()])
        );
    }

    #[test]
    fn a_digest_is_capped() {
        let p = pending(MAX_PER_MESSAGE + 5, 0);
        let Plan::Send(ids) = plan(&p, None, None, grouping(1, 1), 10 * S) else {
            panic!("should send");
        };
        assert_eq!(ids.len(), MAX_PER_MESSAGE);
        assert_eq!(ids[0], "n0");
    }

    #[test]
    fn backoff_doubles_to_five_minutes_with_jitter() {
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(4, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(10, 0.0), Duration::from_secs(300));
        assert_eq!(backoff(1000, 0.0), Duration::from_secs(300));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(1200));
        assert_eq!(backoff(1, -1.0), Duration::from_millis(800));
    }
}
