//! The newest-first selection of hits, ordered by `(timestamp, seq)`.

use std::sync::atomic::{AtomicI64, Ordering};

use super::cursor::Cursor;

/// A candidate hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub ts: i64,
    pub seq: u64,
    /// Index of the split's searcher.
    pub split: u32,
    /// Segment ordinal within the split.
    pub seg: u32,
    pub doc: u32,
}

impl Hit {
    /// The ordering key: newer first, ties by higher sequence number.
    #[inline]
    pub fn key(&self) -> (i64, u64) {
        (self.ts, self.seq)
    }
}

/// Keeps the `k` greatest hits seen. Candidates are appended and compacted
/// in bulk, which stays cheap when documents arrive oldest first.
pub(crate) struct TopK<'a> {
    k: usize,
    items: Vec<Hit>,
    /// Compact when `items` reaches this length.
    cap: usize,
    /// The k-th best key so far: anything not above it is useless.
    floor: Option<(i64, u64)>,
    /// The best floor timestamp any worker has reached.
    shared_floor: &'a AtomicI64,
    /// Only hits strictly below this are wanted (the previous page's end).
    before: Option<Cursor>,
}

impl<'a> TopK<'a> {
    /// Selects the `k` newest hits strictly below `before`.
    pub fn new(k: usize, before: Option<Cursor>, shared_floor: &'a AtomicI64) -> Self {
        let k = k.max(1);
        TopK {
            k,
            items: Vec::new(),
            cap: k + k.max(1024),
            floor: None,
            shared_floor,
            before,
        }
    }

    /// Lowest timestamp that may still make it into the result.
    #[inline]
    pub fn min_useful_ts(&self) -> i64 {
        let local = self.floor.map_or(i64::MIN, |f| f.0);
        local.max(self.shared_floor.load(Ordering::Relaxed))
    }

    /// Whether a segment whose timestamps lie in `[min, max]` can contribute.
    pub fn may_take(&self, min: i64, max: i64) -> bool {
        max >= self.min_useful_ts() && self.before.is_none_or(|c| min <= c.ts)
    }

    /// Offers a document; `seq` is read only when the timestamp is
    /// promising, and `None` from it turns the document away.
    #[inline]
    pub fn offer(
        &mut self,
        ts: i64,
        min_ts: i64,
        seq: impl FnOnce() -> Option<u64>,
        split: u32,
        seg: u32,
        doc: u32,
    ) {
        if ts < min_ts {
            return;
        }
        if let Some(c) = self.before
            && ts > c.ts
        {
            return;
        }
        let Some(seq) = seq() else {
            return;
        };
        if self.before.is_some_and(|c| (ts, seq) >= (c.ts, c.seq)) {
            return;
        }
        if self.floor.is_some_and(|f| (ts, seq) <= f) {
            return;
        }
        self.items.push(Hit {
            ts,
            seq,
            split,
            seg,
            doc,
        });
        if self.items.len() >= self.cap {
            self.compact();
        }
    }

    fn compact(&mut self) {
        if self.items.len() > self.k {
            self.items
                .select_nth_unstable_by(self.k - 1, |a, b| b.key().cmp(&a.key()));
            self.items.truncate(self.k);
        }
        if self.items.len() == self.k {
            let floor = self
                .items
                .iter()
                .map(Hit::key)
                .min()
                .unwrap_or((i64::MIN, 0));
            self.floor = Some(floor);
            self.shared_floor.fetch_max(floor.0, Ordering::Relaxed);
        }
    }

    /// The hits kept, unordered.
    pub fn into_hits(mut self) -> Vec<Hit> {
        self.compact();
        self.items
    }
}

/// The `k` newest of `hits`, newest first.
pub(crate) fn newest(mut hits: Vec<Hit>, k: usize) -> Vec<Hit> {
    if hits.len() > k && k > 0 {
        hits.select_nth_unstable_by(k - 1, |a, b| b.key().cmp(&a.key()));
        hits.truncate(k);
    }
    hits.sort_unstable_by_key(|h| std::cmp::Reverse(h.key()));
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(keys: &[(i64, u64)], k: usize, before: Option<Cursor>) -> Vec<(i64, u64)> {
        let shared = AtomicI64::new(i64::MIN);
        let mut top = TopK::new(k, before, &shared);
        for (i, &(ts, seq)) in keys.iter().enumerate() {
            let min = top.min_useful_ts();
            top.offer(ts, min, || Some(seq), 0, 0, i as u32);
        }
        newest(top.into_hits(), k).iter().map(Hit::key).collect()
    }

    #[test]
    fn keeps_the_newest_with_ties_by_seq() {
        let keys: Vec<(i64, u64)> = (0..5000u64).map(|s| ((s / 7) as i64, s)).collect();
        let mut expected = keys.clone();
        expected.sort_by(|a, b| b.cmp(a));
        assert_eq!(run(&keys, 10, None), expected[..10].to_vec());
        let cut = Cursor {
            ts: expected[9].0,
            seq: expected[9].1,
        };
        assert_eq!(run(&keys, 10, Some(cut)), expected[10..20].to_vec());
        let mut reversed = keys.clone();
        reversed.reverse();
        assert_eq!(run(&reversed, 3000, None), expected[..3000].to_vec());
    }
}
