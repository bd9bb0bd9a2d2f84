//! A live tail that starts with history: the newest stored events that
//! match, then live batches, with nothing between them missed or repeated.
//!
//! The seam is one sequence number. Subscribing to the live broadcast fixes
//! the first sequence number the subscription will deliver (`S`); the
//! history is taken from events with sequence numbers below `S` only:
//!
//! 1. subscribe: live batches from `S` on are queued for the subscriber;
//! 2. read the index's committed sequence number `C` and search the index
//!    for hits with sequence numbers up to `min(C, S - 1)` (a commit that
//!    lands meanwhile may make later events searchable: they are ignored);
//! 3. read the WAL from just past `min(C, S - 1)` up to `S - 1`, filtering
//!    with the same query: these are the events appended but not yet
//!    searchable. The WAL writer publishes its segments before it moves the
//!    appended sequence number on, so everything below `S` is readable.
//!
//! If the index commits and the WAL drops the segment being read between
//! steps 2 and 3, steps 2 and 3 run again with the new `C`.

use hark_event::Event;

use crate::query::{self, SearchEnv};
use crate::state::Shared;
use crate::tail::Tail;
use crate::wal::Replay;
use crate::{EventFilter, Order, QueryError, SearchRequest, StoreError};

/// Most history events a backlog may ask for.
pub const MAX_BACKLOG: usize = 5_000;
/// Attempts at reading history while the WAL is truncated under it.
const ATTEMPTS: usize = 3;

/// A live tail and the history before it, from
/// [`crate::Store::subscribe_with_backlog`].
pub struct Backlog {
    /// The newest stored events that match, oldest first.
    pub history: Vec<Event>,
    /// Live batches from the first event after the history's range on
    /// (unfiltered, like [`crate::Store::subscribe`]).
    pub tail: Tail,
}

/// An event of the history and where it ranks: by timestamp, then by
/// sequence number (index hits all precede WAL events in sequence).
struct Ranked {
    key: (i64, u8, u64),
    event: Event,
}

/// The newest `n` events matching `query` among those before `tail`'s first.
pub(crate) fn history(
    env: &SearchEnv<'_>,
    filter: &EventFilter,
    tail: &Tail,
    query: &str,
    n: usize,
) -> Result<Vec<Event>, QueryError> {
    let n = n.min(MAX_BACKLOG);
    if n == 0 {
        return Ok(Vec::new());
    }
    let boundary = tail.next_seq().unwrap_or(1).saturating_sub(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let indexed = env.shared.committed_seq().min(boundary);
        let mut req = SearchRequest::new(query);
        req.limit = n;
        req.order = Order::Desc;
        let hits = query::search_until(env, &req, Some(indexed))?.hits;
        let pending = match unindexed(env.shared, filter, indexed, boundary, n) {
            Ok(p) => p,
            Err(_) if attempt < ATTEMPTS => continue,
            Err(e) => return Err(QueryError::Internal(format!("reading the WAL: {e}"))),
        };
        let count = hits.len() as u64;
        let mut all: Vec<Ranked> = hits
            .into_iter()
            .enumerate()
            .map(|(i, event)| Ranked {
                // Hits come newest first: a later one has a lower sequence number.
                key: (event.timestamp, 0, count - i as u64),
                event,
            })
            .chain(pending)
            .collect();
        newest(&mut all, n);
        all.reverse();
        return Ok(all.into_iter().map(|r| r.event).collect());
    }
}

/// The events with sequence numbers in `after + 1 ..= until` that match,
/// read from the WAL; only the newest `n` are kept.
fn unindexed(
    shared: &Shared,
    filter: &EventFilter,
    after: u64,
    until: u64,
    n: usize,
) -> Result<Vec<Ranked>, StoreError> {
    let mut kept = Vec::new();
    if after >= until {
        return Ok(kept);
    }
    let mut replay = Replay::new(shared.wal_segments(), after);
    while let Some(batch) = replay.next_batch()? {
        let first = batch.first_seq;
        if first > until {
            break;
        }
        let len = ((until - first + 1) as usize).min(batch.events.len());
        let events = &batch.events[..len];
        for i in filter.matching(events) {
            if let Some(ev) = events.get(i) {
                kept.push(Ranked {
                    key: (ev.timestamp, 1, first + i as u64),
                    event: ev.clone(),
                });
            }
        }
        if kept.len() > 2 * n {
            newest(&mut kept, n);
        }
        if len < batch.events.len() {
            break;
        }
    }
    Ok(kept)
}

/// Keeps the `n` greatest of `items`, greatest first.
fn newest(items: &mut Vec<Ranked>, n: usize) {
    items.sort_unstable_by_key(|r| std::cmp::Reverse(r.key));
    items.truncate(n);
}
