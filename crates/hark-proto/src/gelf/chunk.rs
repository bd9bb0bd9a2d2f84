//! Reassembly of chunked GELF datagrams.
//!
//! A chunk is `0x1e 0x0f`, an 8-byte message id, a sequence number and a
//! sequence count (one byte each), then a slice of the payload. Chunks of
//! one message may arrive in any order, repeated, or never.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use super::GelfError;

/// The most chunks one GELF message may have (Graylog's limit).
pub const MAX_CHUNKS: u8 = 128;

/// The first two bytes of a chunk.
pub(crate) const MAGIC: [u8; 2] = [0x1e, 0x0f];
/// Magic, message id, sequence number and count.
pub(crate) const HEADER_LEN: usize = 12;

/// The sender's id for one chunked message.
pub type MessageId = [u8; 8];

/// True when the datagram starts with the GELF chunk magic `0x1e 0x0f`.
pub fn is_chunked(datagram: &[u8]) -> bool {
    datagram.starts_with(&MAGIC)
}

/// What the reassembler has done since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkerStats {
    /// Chunked messages handed out whole.
    pub completed: u64,
    /// Incomplete messages dropped because their time ran out.
    pub expired: u64,
    /// Incomplete messages dropped, oldest first, to stay within the memory bound.
    pub evicted: u64,
    /// Chunks ignored because their message already had that sequence number.
    pub duplicates: u64,
}

/// One message whose chunks are still arriving.
#[derive(Debug)]
struct Partial {
    /// When its first chunk arrived (caller's clock, milliseconds).
    first_ms: u64,
    /// Its key in [`GelfChunker::order`].
    order: u64,
    /// The payload slices by sequence number; `len()` is the announced count.
    chunks: Vec<Option<Vec<u8>>>,
    /// How many entries of `chunks` are filled.
    received: usize,
    /// Payload bytes held in `chunks`.
    bytes: usize,
}

/// Reassembles chunked GELF messages arriving over UDP.
///
/// Messages are keyed by a caller-chosen key (the sender's address) and the
/// message id, so two senders that pick the same id do not mix. The
/// reassembler holds no clock: the caller passes a monotonic time in
/// milliseconds to every call, and must not let it go backwards.
///
/// Bounds: a message whose first chunk is `timeout_ms` old is dropped
/// (checked on every [`push`](Self::push) and by [`expire`](Self::expire)),
/// and when the payload bytes held for incomplete messages exceed
/// `max_bytes`, the oldest incomplete messages are dropped until they fit.
#[derive(Debug)]
pub struct GelfChunker<K> {
    /// How long an incomplete message is kept after its first chunk.
    timeout_ms: u64,
    /// The most payload bytes held for incomplete messages after a push.
    max_bytes: usize,
    /// Incomplete messages.
    partial: HashMap<(K, MessageId), Partial>,
    /// The keys of `partial`, oldest first chunk first.
    order: BTreeMap<u64, (K, MessageId)>,
    /// The `order` key of the next new message; only grows.
    next_order: u64,
    /// Sum of `Partial::bytes` over `partial`.
    held: usize,
    /// Counters.
    stats: ChunkerStats,
}

impl<K: Hash + Eq + Clone> GelfChunker<K> {
    /// A reassembler that drops incomplete messages after `timeout_ms` and
    /// holds at most `max_bytes` of their payload (Graylog waits 5 s).
    pub fn new(timeout_ms: u64, max_bytes: usize) -> Self {
        GelfChunker {
            timeout_ms,
            max_bytes,
            partial: HashMap::new(),
            order: BTreeMap::new(),
            next_order: 0,
            held: 0,
            stats: ChunkerStats::default(),
        }
    }

    /// Takes one datagram from `key` at `now_ms`.
    ///
    /// A datagram without the chunk magic is a whole message and comes back
    /// as is. A chunk comes back as `None` until its message is complete,
    /// then the payload comes out (still compressed, if it was). A repeated
    /// chunk is ignored. An error means this datagram was dropped; messages
    /// already held are not affected.
    pub fn push(
        &mut self,
        key: K,
        datagram: &[u8],
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, GelfError> {
        if !is_chunked(datagram) {
            return Ok(Some(datagram.to_vec()));
        }
        self.expire(now_ms);
        let (id, number, count, payload) = parse_header(datagram)?;
        if count == 1 {
            self.stats.completed += 1;
            return Ok(Some(payload.to_vec()));
        }
        let map_key = (key, id);
        let partial = match self.partial.get_mut(&map_key) {
            Some(p) => p,
            None => {
                let order = self.next_order;
                self.next_order += 1;
                self.order.insert(order, map_key.clone());
                self.partial.entry(map_key.clone()).or_insert(Partial {
                    first_ms: now_ms,
                    order,
                    chunks: vec![None; usize::from(count)],
                    received: 0,
                    bytes: 0,
                })
            }
        };
        if partial.chunks.len() != usize::from(count) {
            return Err(GelfError::CountMismatch {
                expected: u8::try_from(partial.chunks.len()).unwrap_or(u8::MAX),
                found: count,
            });
        }
        let slot = &mut partial.chunks[usize::from(number)];
        if slot.is_some() {
            self.stats.duplicates += 1;
            return Ok(None);
        }
        *slot = Some(payload.to_vec());
        partial.received += 1;
        partial.bytes += payload.len();
        self.held += payload.len();
        if partial.received == partial.chunks.len() {
            let done = self.remove(&map_key);
            self.stats.completed += 1;
            return Ok(done.map(|p| p.chunks.into_iter().flatten().flatten().collect()));
        }
        if partial.bytes > self.max_bytes {
            // It could never fit: drop it rather than everything older.
            self.remove(&map_key);
            self.stats.evicted += 1;
            return Ok(None);
        }
        while self.held > self.max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(p) = self.partial.remove(&oldest) {
                self.held -= p.bytes;
                self.stats.evicted += 1;
            }
        }
        Ok(None)
    }

    /// Drops the incomplete messages whose first chunk arrived `timeout_ms`
    /// or more before `now_ms`; returns how many.
    pub fn expire(&mut self, now_ms: u64) -> usize {
        let mut dropped = 0;
        while let Some((_, key)) = self.order.first_key_value() {
            let stale = self
                .partial
                .get(key)
                .is_none_or(|p| p.first_ms.saturating_add(self.timeout_ms) <= now_ms);
            if !stale {
                break;
            }
            if let Some((_, key)) = self.order.pop_first()
                && let Some(p) = self.partial.remove(&key)
            {
                self.held -= p.bytes;
                dropped += 1;
            }
        }
        self.stats.expired += dropped as u64;
        dropped
    }

    /// How many messages are incomplete.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }

    /// Payload bytes held for incomplete messages.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Counters since creation.
    pub fn stats(&self) -> ChunkerStats {
        self.stats
    }

    fn remove(&mut self, key: &(K, MessageId)) -> Option<Partial> {
        let p = self.partial.remove(key)?;
        self.order.remove(&p.order);
        self.held -= p.bytes;
        Some(p)
    }
}

/// Splits a chunk into (message id, sequence number, sequence count, payload).
fn parse_header(d: &[u8]) -> Result<(MessageId, u8, u8, &[u8]), GelfError> {
    let Some((header, payload)) = d.split_first_chunk::<HEADER_LEN>() else {
        return Err(GelfError::ChunkTooShort { len: d.len() });
    };
    let [_, _, id @ .., number, count] = *header;
    if count > MAX_CHUNKS {
        return Err(GelfError::TooManyChunks { count });
    }
    if number >= count {
        return Err(GelfError::BadSequence { number, count });
    }
    Ok((id, number, count, payload))
}
