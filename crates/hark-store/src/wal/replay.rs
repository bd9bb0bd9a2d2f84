//! Reading back WAL events past a sequence number: the events the index has
//! not committed, or those a durable reader has not read yet.

use std::collections::VecDeque;
use std::sync::Arc;

use hark_event::Event;

use super::Batch;
use super::segment::{ReadError, RecordReader, SegmentFile};
use crate::StoreError;
use crate::fsutil::io_err;

/// Iterates over the events with sequence numbers above `after`, as batches,
/// in sequence order; a batch that straddles `after` is cut at it.
///
/// A follower calls [`Replay::follow`] with the segments the writer has
/// published since, and reads on where it stopped.
pub(crate) struct Replay {
    /// Segments still to read, oldest first.
    segments: VecDeque<SegmentFile>,
    /// The segment being read: its first sequence number and its reader.
    reader: Option<(u64, RecordReader)>,
    /// Sequence number of the last event handed out (or skipped).
    after: u64,
    /// First sequence number of the newest segment taken in.
    newest: Option<u64>,
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
        let newest = segments.back().map(|s| s.first_seq);
        Replay {
            segments,
            reader: None,
            after,
            newest,
        }
    }

    /// Takes in the WAL's segments as the writer now publishes them: more of
    /// the segment being read, and newer segments.
    pub fn follow(&mut self, published: &[SegmentFile]) {
        for seg in published {
            match self.newest {
                Some(newest) if seg.first_seq < newest => {}
                Some(newest) if seg.first_seq == newest => {
                    match (&mut self.reader, self.segments.back_mut()) {
                        (_, Some(queued)) if queued.first_seq == newest => {
                            queued.valid_len = queued.valid_len.max(seg.valid_len);
                        }
                        (Some((first, reader)), _) if *first == newest => {
                            reader.extend_to(seg.valid_len);
                        }
                        _ => {}
                    }
                }
                _ => {
                    self.newest = Some(seg.first_seq);
                    self.segments.push_back(seg.clone());
                }
            }
        }
    }

    /// Nothing to replay.
    pub fn empty() -> Replay {
        Replay {
            segments: VecDeque::new(),
            reader: None,
            after: 0,
            newest: None,
        }
    }

    /// The next batch past the position, or `None` at the end of what has
    /// been taken in (a follower may find more after [`Replay::follow`]).
    pub fn next_batch(&mut self) -> Result<Option<Batch>, StoreError> {
        loop {
            if self.reader.is_none() {
                let Some(seg) = self.segments.pop_front() else {
                    return Ok(None);
                };
                let reader = match RecordReader::open(&seg.path, seg.valid_len) {
                    Ok(reader) => reader,
                    // Truncation deletes a segment only once every reader has
                    // committed past it: whoever replays from a committed
                    // position has nothing to read in it.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err(format!("opening {}", seg.path.display()))(e)),
                };
                self.reader = Some((seg.first_seq, reader));
            }
            let Some((_, reader)) = self.reader.as_mut() else {
                continue;
            };
            let record = match reader.next_record() {
                Ok(Some(r)) => r,
                // The end of the newest segment: the writer may add to it.
                Ok(None) if self.segments.is_empty() => return Ok(None),
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
