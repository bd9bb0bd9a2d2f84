//! Waiting for a condition instead of sleeping: poll until it holds, give up
//! at a deadline with a message that says what was awaited.

use std::fmt::Display;
use std::time::{Duration, Instant};

/// How long a test waits for something that must happen. Only a hang
/// reaches it; a loaded machine is slower, never this slow.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// How often [`until`] and [`until_async`] look again.
const EVERY: Duration = Duration::from_millis(20);

/// Polls `f` every `every` until it returns `Some` or `timeout` passes.
pub fn poll<T>(timeout: Duration, every: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// Polls `f` until it returns `Some`; panics after [`PATIENCE`] saying that
/// it waited for `what`.
#[track_caller]
pub fn until<T>(what: impl Display, f: impl FnMut() -> Option<T>) -> T {
    match poll(PATIENCE, EVERY, f) {
        Some(v) => v,
        None => panic!("gave up after {PATIENCE:?} waiting for {what}"),
    }
}

/// Waits until `cond` holds; panics after [`PATIENCE`] saying that it
/// waited for `what`.
#[track_caller]
pub fn until_true(what: impl Display, mut cond: impl FnMut() -> bool) {
    until(what, || cond().then_some(()));
}

/// [`until_true`] for async tests: sleeps on the runtime between looks, so
/// the tasks the condition waits for keep running.
pub async fn until_async(what: impl Display, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "gave up after {PATIENCE:?} waiting for {what}"
        );
        tokio::time::sleep(EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_returns_the_first_value() {
        let mut n = 0;
        let got = until("n to reach 3", || {
            n += 1;
            (n >= 3).then_some(n)
        });
        assert_eq!(got, 3);
    }

    #[test]
    fn poll_gives_up_at_its_deadline() {
        let got: Option<()> = poll(Duration::from_millis(30), Duration::from_millis(5), || None);
        assert_eq!(got, None);
    }
}
