//! Waits between delivery attempts: doubling from a first wait up to a cap,
//! each wait drawn at random from its upper half so that outputs failing
//! together do not retry together.

use std::time::Duration;

/// Backoff of one output. No clock: the caller sleeps what
/// [`Backoff::next_wait`] returns.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The first wait after a success.
    first: Duration,
    /// The longest wait.
    cap: Duration,
    /// The upper bound of the next wait (between `first` and `cap`).
    ceiling: Duration,
}

impl Backoff {
    /// Waits from `first` doubling up to `cap`.
    pub fn new(first: Duration, cap: Duration) -> Backoff {
        let first = first.min(cap);
        Backoff {
            first,
            cap,
            ceiling: first,
        }
    }

    /// The wait before the next attempt: at random between half the
    /// current ceiling and the ceiling, which then doubles up to the cap.
    pub fn next_wait(&mut self) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = (ceiling * 2).min(self.cap);
        let half = ceiling / 2;
        let spread = ceiling.saturating_sub(half).as_millis() as u64;
        half + Duration::from_millis(rand::random_range(0..=spread))
    }

    /// Back to the first wait, after an attempt succeeded.
    pub fn reset(&mut self) {
        self.ceiling = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_stay_in_the_upper_half() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let ceilings = [100, 200, 400, 800, 1000, 1000, 1000];
        for ceiling in ceilings {
            let w = b.next_wait().as_millis() as u64;
            assert!(
                (ceiling / 2..=ceiling).contains(&w),
                "wait {w} ms for ceiling {ceiling} ms"
            );
        }
        b.reset();
        let w = b.next_wait().as_millis() as u64;
        assert!((50..=100).contains(&w), "after reset: {w} ms");
    }

    #[test]
    fn a_first_wait_above_the_cap_is_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(1));
        assert!(b.next_wait() <= Duration::from_secs(1));
    }
}
