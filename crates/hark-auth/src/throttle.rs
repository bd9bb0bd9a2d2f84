//! Slows down password guessing: after [`FREE_FAILURES`] failed logins for
//! one user name or from one client address within [`WINDOW`], further
//! attempts are refused for a delay that starts at [`FIRST_DELAY`] and
//! doubles with each further failure, up to [`MAX_DELAY`]. Unknown user
//! names count like known ones; a successful login clears the record of
//! its user name and of its address.
//!
//! Memory is bounded: at most [`MAX_ENTRIES`] records; old ones are swept
//! and, when full of recent ones, the least recent goes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures within [`WINDOW`] allowed before attempts are refused.
pub const FREE_FAILURES: u32 = 5;
/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);
/// The refusal after the [`FREE_FAILURES`]th failure.
pub const FIRST_DELAY: Duration = Duration::from_secs(30);
/// The longest refusal.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Most records kept.
pub const MAX_ENTRIES: usize = 10_000;

/// Whose failures a record counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A user name, lower-cased (so case variants share a record).
    User(String),
    /// A client address.
    Addr(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Record {
    /// Failures since the record started.
    failures: u32,
    /// The latest failure.
    last: Instant,
    /// Attempts are refused until then.
    until: Option<Instant>,
}

impl Record {
    /// Whether it no longer matters at `now`: no refusal running, and
    /// neither the latest failure nor the end of the latest refusal within
    /// the window (so failing again right after a refusal doubles it).
    fn stale(&self, now: Instant) -> bool {
        let since = self.until.map_or(self.last, |u| u.max(self.last));
        now.checked_duration_since(since)
            .is_some_and(|d| d >= WINDOW)
    }
}

/// Counts failed logins per user name and per client address.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    records: Mutex<HashMap<Key, Record>>,
}

impl LoginThrottle {
    /// An empty throttle.
    pub fn new() -> LoginThrottle {
        LoginThrottle::default()
    }

    /// `Err(retry_after)` when an attempt for `user` from `addr` is to be
    /// refused at `now` (the longer of the two refusals).
    pub fn check(&self, user: &str, addr: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let records = self.lock();
        let wait = keys(user, addr)
            .filter_map(|k| records.get(&k)?.until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(w) => Err(w),
            None => Ok(()),
        }
    }

    /// Counts a failed login for `user` from `addr` at `now`.
    pub fn failure(&self, user: &str, addr: Option<IpAddr>, now: Instant) {
        let mut records = self.lock();
        for key in keys(user, addr) {
            if !records.contains_key(&key) && records.len() >= MAX_ENTRIES {
                make_room(&mut records, now);
            }
            let record = records.entry(key).or_insert(Record {
                failures: 0,
                last: now,
                until: None,
            });
            if record.stale(now) {
                record.failures = 0;
            }
            record.failures += 1;
            record.last = now;
            if record.failures >= FREE_FAILURES {
                record.until = Some(now + delay(record.failures - FREE_FAILURES));
            }
        }
    }

    /// Forgets the failures of `user` and of `addr` after a successful login.
    pub fn success(&self, user: &str, addr: Option<IpAddr>) {
        let mut records = self.lock();
        for key in keys(user, addr) {
            records.remove(&key);
        }
    }

    /// How many records are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no record is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The refusal after `beyond` failures past the free ones.
fn delay(beyond: u32) -> Duration {
    FIRST_DELAY
        .checked_mul(1u32.checked_shl(beyond).unwrap_or(u32::MAX))
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

fn keys(user: &str, addr: Option<IpAddr>) -> impl Iterator<Item = Key> {
    std::iter::once(Key::User(user.to_lowercase())).chain(addr.map(Key::Addr))
}

/// Sweeps stale records; when none was, drops the least recent one.
fn make_room(records: &mut HashMap<Key, Record>, now: Instant) {
    records.retain(|_, r| !r.stale(now));
    if records.len() >= MAX_ENTRIES
        && let Some(oldest) = records
            .iter()
            .min_by_key(|(_, r)| r.last)
            .map(|(k, _)| k.clone())
    {
        records.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const OTHER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));

    #[test]
    fn five_free_failures_then_growing_refusals() {
        let t = LoginThrottle::new();
        let t0 = Instant::now();
        for i in 0..4 {
            t.failure("alice", ADDR, t0);
            assert_eq!(
                t.check("alice", ADDR, t0),
                Ok(()),
                "after {} failures",
                i + 1
            );
        }
        t.failure("alice", ADDR, t0);
        assert_eq!(t.check("alice", ADDR, t0), Err(FIRST_DELAY));
        // Once the refusal is over, each further failure doubles it.
        let t1 = t0 + FIRST_DELAY;
        assert_eq!(t.check("alice", ADDR, t1), Ok(()));
        t.failure("alice", ADDR, t1);
        assert_eq!(t.check("alice", ADDR, t1), Err(FIRST_DELAY * 2));
        let t2 = t1 + FIRST_DELAY * 2;
        t.failure("alice", ADDR, t2);
        assert_eq!(t.check("alice", ADDR, t2), Err(FIRST_DELAY * 4));
        // Up to the maximum, failing again as soon as each refusal ends.
        let mut now = t2;
        for _ in 0..10 {
            now += t.check("alice", ADDR, now).unwrap_err();
            t.failure("alice", ADDR, now);
        }
        assert_eq!(t.check("alice", ADDR, now), Err(MAX_DELAY));
    }

    #[test]
    fn by_user_name_or_by_address() {
        let t = LoginThrottle::new();
        let t0 = Instant::now();
        // One address trying many names (unknown ones count the same).
        for name in ["a", "b", "c", "d", "e"] {
            t.failure(name, ADDR, t0);
        }
        assert!(t.check("f", ADDR, t0).is_err(), "the address is refused");
        assert!(t.check("f", OTHER, t0).is_ok());
        // One name tried from many addresses.
        let t = LoginThrottle::new();
        for i in 0..5u8 {
            t.failure("Root", Some(IpAddr::from([198, 51, 100, i])), t0);
        }
        assert!(t.check("root", OTHER, t0).is_err(), "the name is refused");
        assert!(t.check("other", OTHER, t0).is_ok());
    }

    #[test]
    fn success_clears_and_old_failures_lapse() {
        let t = LoginThrottle::new();
        let t0 = Instant::now();
        for _ in 0..4 {
            t.failure("bob", ADDR, t0);
        }
        t.success("bob", ADDR);
        t.failure("bob", ADDR, t0);
        assert!(t.check("bob", ADDR, t0).is_ok(), "the count started over");
        assert_eq!(t.len(), 2);
        // Failures out of the window do not add up.
        let t = LoginThrottle::new();
        for i in 0..10u32 {
            t.failure("carol", ADDR, t0 + WINDOW * i);
        }
        assert!(t.check("carol", ADDR, t0 + WINDOW * 9).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let t = LoginThrottle::new();
        let t0 = Instant::now();
        for i in 0..(MAX_ENTRIES as u32 + 50) {
            t.failure(
                &format!("user{i}"),
                None,
                t0 + Duration::from_millis(i.into()),
            );
        }
        assert!(t.len() <= MAX_ENTRIES);
        // The newest are kept.
        let last = format!("user{}", MAX_ENTRIES as u32 + 49);
        for _ in 0..4 {
            t.failure(&last, None, t0 + Duration::from_secs(20));
        }
        assert!(t.check(&last, None, t0 + Duration::from_secs(20)).is_err());
    }
}
