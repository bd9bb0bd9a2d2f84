//! Reading back the WAL events the index has not committed.

use std::collections::VecDeque;
use std::sync::Arc;

use hark_event::Event;

use super::Batch;
use super::segment::{ReadError, RecordReader, SegmentFile};
use crate::StoreError;
use crate::fsutil::io_err;

/// Iterates over the events with sequence numbers above `after`, as batches,
/// in sequence order; a batch that straddles `after` is cut at it.
pub(crate) struct Replay {
    segments: VecDeque<SegmentFile>,
    reader: Option<RecordReader>,
    after: u64,
}

impl Replay {
    /// Replays `segments` (as found on open) past `after`.
    pub fn new(segments: Vec<SegmentFile>, after: u64) -> Replay {
        let mut segments: VecDeque<SegmentFile> = segments.into();
        // Skip whole segments the index already holds: every record in a
        // segment precedes the next segment's first sequence number.
        while segments.len() >= 2 && segments[1].first_seq <= after.saturating_add(1) {
            segments.pop_front();
        }
        Replay {
            segments,
            reader: None,
            after,
        }
    }

    /// Nothing to replay.
    pub fn empty() -> Replay {
        Replay {
            segments: VecDeque::new(),
            reader: None,
            after: 0,
        }
    }

    fn next_batch(&mut self) -> Result<Option<Batch>, StoreError> {
        loop {
            if self.reader.is_none() {
                let Some(seg) = self.segments.pop_front() else {
                    return Ok(None);
                };
                let reader = RecordReader::open(&seg.path, seg.valid_len)
                    .map_err(io_err(format!("opening {}", seg.path.display())))?;
                self.reader = Some(reader);
            }
            let Some(reader) = self.reader.as_mut() else {
                continue;
            };
            let record = match reader.next_record() {
                Ok(Some(r)) => r,
                Ok(None) | Err(ReadError::Bad { .. }) => {
                    // Bad records were reported when the WAL was opened.
                    self.reader = None;
                    continue;
                }
                Err(ReadError::Io(e)) => {
                    self.reader = None;
                    return Err(StoreError::Io {
                        context: "replaying the WAL".into(),
                        source: e,
                    });
                }
            };
            let idx = record.index;
            if idx.last_seq() <= self.after || idx.events.is_empty() {
                continue;
            }
            let skip = self.after.saturating_sub(idx.first_seq - 1) as usize;
            let first_seq = idx.first_seq + skip as u64;
            let mut events = Vec::with_capacity(idx.events.len() - skip);
            for (i, range) in idx.events.into_iter().enumerate().skip(skip) {
                match Event::decode(&record.payload[range]) {
                    Ok(ev) => events.push(ev),
                    Err(e) => {
                        // Keep sequence numbers dense: index a placeholder that says what happened.
                        tracing::warn!(seq = idx.first_seq + i as u64, error = %e, "undecodable event in the WAL; indexing a placeholder");
                        let mut ev = Event::new(0, "wal");
                        ev.parse_error = Some(format!("undecodable WAL event: {e}"));
                        events.push(ev);
                    }
                }
            }
            self.after = first_seq + events.len() as u64 - 1;
            return Ok(Some(Batch {
                first_seq,
                events: Arc::new(events),
            }));
        }
    }
}

impl Iterator for Replay {
    type Item = Result<Batch, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}
