//! Sliding windows per alert group: counts in one-second buckets and the
//! distinct values of a field, both forgetting what left the window.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Events counted per second over the last `span` seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CountWindow {
    /// (second, events in it), oldest first.
    buckets: VecDeque<(i64, u64)>,
    /// Sum of `buckets`.
    total: u64,
}

impl CountWindow {
    /// Counts `n` events at `second`. Seconds may come slightly out of
    /// order; an event older than the newest bucket joins that bucket.
    pub fn add(&mut self, second: i64, n: u64) {
        match self.buckets.back_mut() {
            Some((last, count)) if *last >= second => *count += n,
            _ => self.buckets.push_back((second, n)),
        }
        self.total += n;
    }

    /// Events in the window `(now - span, now]`, forgetting older ones.
    pub fn count(&mut self, now: i64, span: i64) -> u64 {
        while let Some(&(second, n)) = self.buckets.front() {
            if second > now - span {
                break;
            }
            self.buckets.pop_front();
            self.total -= n;
        }
        self.total
    }
}

/// The distinct values of a field seen over the last `span` seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DistinctWindow {
    /// Value → the last second it was seen.
    last_seen: HashMap<String, i64>,
}

impl DistinctWindow {
    /// Notes `value` at `second`.
    pub fn add(&mut self, second: i64, value: &str) {
        match self.last_seen.get_mut(value) {
            Some(at) => *at = (*at).max(second),
            None => {
                self.last_seen.insert(value.to_owned(), second);
            }
        }
    }

    /// Distinct values in `(now - span, now]`, forgetting older ones.
    pub fn count(&mut self, now: i64, span: i64) -> u64 {
        self.last_seen.retain(|_, at| *at > now - span);
        self.last_seen.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_slide() {
        let mut w = CountWindow::default();
        for s in 0..10 {
            w.add(100 + s, 2);
        }
        assert_eq!(w.count(109, 10), 20);
        assert_eq!(w.count(110, 10), 18);
        assert_eq!(w.count(115, 10), 8);
        // Late events join the newest bucket.
        w.add(105, 1);
        assert_eq!(w.count(115, 10), 9);
        assert_eq!(w.count(200, 10), 0);
    }

    #[test]
    fn distinct_values_slide() {
        let mut w = DistinctWindow::default();
        w.add(100, "alice");
        w.add(101, "bob");
        w.add(105, "alice");
        assert_eq!(w.count(105, 10), 2);
        assert_eq!(w.count(111, 10), 1);
        assert_eq!(w.count(116, 10), 0);
    }
}
