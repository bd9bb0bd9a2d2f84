//! Which events make up a Beats batch, and which sequence number acknowledges it.

use super::codec::{Frame, Version, ack_for};

/// What a frame meant for the batch in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStep {
    /// A window opened: `count` events follow.
    Opened {
        /// Events announced.
        count: u32,
    },
    /// A window of 0 events: send `ack` (sequence 0) now.
    EmptyWindow {
        /// The ack frame.
        ack: [u8; 6],
    },
    /// An event of the open window; more are to come.
    Event {
        /// The event's sequence number.
        seq: u32,
    },
    /// The event that completes the window. Once every event of the window
    /// is durable, send `ack`.
    Complete {
        /// The event's sequence number.
        seq: u32,
        /// The highest sequence number of the window, which the ack carries.
        ack_seq: u32,
        /// The ack frame.
        ack: [u8; 6],
    },
}

/// A frame that does not fit the batch structure; the connection must be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// An event before any window frame.
    #[error("lumberjack protocol error: event (seq {seq}) outside a window")]
    NoWindow {
        /// The event's sequence number.
        seq: u32,
    },
    /// A window frame before the previous window's events all arrived.
    #[error("lumberjack protocol error: new window after {received} of {expected} events")]
    WindowInterrupted {
        /// Events of the previous window received.
        received: u32,
        /// Events it announced.
        expected: u32,
    },
}

#[derive(Debug, Clone, Copy)]
struct OpenWindow {
    expected: u32,
    received: u32,
    highest: u32,
}

/// Follows the batches of one Beats connection: after `Window(n)` it counts
/// `n` events and says which sequence number acknowledges them.
///
/// The ack carries the highest sequence number received in the window, not
/// the count: Filebeat numbers events 1..n in each window (so both agree),
/// but other clients (pylogbeat) keep counting across windows and wait for
/// their own last number. A window of 0 events is acknowledged with 0 at once.
///
/// ```
/// use hark_proto::lumberjack::{BatchStep, BeatsBatch, Frame, Version, ack};
/// use bytes::Bytes;
///
/// let mut batch = BeatsBatch::new();
/// batch.on_frame(&Frame::Window { version: Version::V2, count: 2 }).unwrap();
/// let json = |seq| Frame::Json { seq, payload: Bytes::from_static(b"{}") };
/// assert_eq!(batch.on_frame(&json(3)).unwrap(), BatchStep::Event { seq: 3 });
/// assert_eq!(
///     batch.on_frame(&json(4)).unwrap(),
///     BatchStep::Complete { seq: 4, ack_seq: 4, ack: ack(4) }
/// );
/// ```
#[derive(Debug, Clone)]
pub struct BeatsBatch {
    /// The window whose events are arriving, if any.
    window: Option<OpenWindow>,
    /// The version of the last window, for acks and keepalives.
    version: Version,
}

impl Default for BeatsBatch {
    fn default() -> Self {
        BeatsBatch::new()
    }
}

impl BeatsBatch {
    /// No batch in progress.
    pub fn new() -> Self {
        BeatsBatch {
            window: None,
            version: Version::V2,
        }
    }

    /// Takes the next frame from the decoder.
    pub fn on_frame(&mut self, frame: &Frame) -> Result<BatchStep, BatchError> {
        match *frame {
            Frame::Window { version, count } => {
                if let Some(w) = self.window {
                    return Err(BatchError::WindowInterrupted {
                        received: w.received,
                        expected: w.expected,
                    });
                }
                self.version = version;
                if count == 0 {
                    return Ok(BatchStep::EmptyWindow {
                        ack: ack_for(version, 0),
                    });
                }
                self.window = Some(OpenWindow {
                    expected: count,
                    received: 0,
                    highest: 0,
                });
                Ok(BatchStep::Opened { count })
            }
            Frame::Json { seq, .. } | Frame::Data { seq, .. } => {
                let Some(w) = self.window.as_mut() else {
                    return Err(BatchError::NoWindow { seq });
                };
                w.received += 1;
                w.highest = w.highest.max(seq);
                if w.received < w.expected {
                    return Ok(BatchStep::Event { seq });
                }
                let ack_seq = w.highest;
                self.window = None;
                Ok(BatchStep::Complete {
                    seq,
                    ack_seq,
                    ack: ack_for(self.version, ack_seq),
                })
            }
        }
    }

    /// Whether a window is open and still expecting events.
    pub fn is_open(&self) -> bool {
        self.window.is_some()
    }

    /// Events still expected in the open window.
    pub fn remaining(&self) -> u32 {
        self.window.map_or(0, |w| w.expected - w.received)
    }

    /// The highest sequence number received so far in the open window.
    pub fn highest_seq(&self) -> Option<u32> {
        self.window.filter(|w| w.received > 0).map(|w| w.highest)
    }

    /// The keepalive to send while a batch is still being stored: an ack of
    /// sequence 0, which tells the client the server is alive without
    /// acknowledging anything.
    pub fn keepalive(&self) -> [u8; 6] {
        ack_for(self.version, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn json(seq: u32) -> Frame {
        Frame::Json {
            seq,
            payload: Bytes::from_static(b"{}"),
        }
    }

    fn window(count: u32) -> Frame {
        Frame::Window {
            version: Version::V2,
            count,
        }
    }

    #[test]
    fn sequence_numbers_that_keep_counting_across_windows_are_acked_as_sent() {
        let mut b = BeatsBatch::new();
        b.on_frame(&window(2)).unwrap();
        b.on_frame(&json(1)).unwrap();
        assert!(matches!(
            b.on_frame(&json(2)),
            Ok(BatchStep::Complete { ack_seq: 2, .. })
        ));
        assert_eq!(b.on_frame(&window(1)), Ok(BatchStep::Opened { count: 1 }));
        assert_eq!(
            b.on_frame(&json(3)),
            Ok(BatchStep::Complete {
                seq: 3,
                ack_seq: 3,
                ack: *b"2A\0\0\0\x03"
            })
        );
        assert!(!b.is_open());
    }

    #[test]
    fn the_ack_carries_the_highest_seq_not_the_last() {
        let mut b = BeatsBatch::new();
        b.on_frame(&window(3)).unwrap();
        b.on_frame(&json(7)).unwrap();
        b.on_frame(&json(9)).unwrap();
        assert_eq!(b.highest_seq(), Some(9));
        assert_eq!(b.remaining(), 1);
        assert!(matches!(
            b.on_frame(&json(8)),
            Ok(BatchStep::Complete { ack_seq: 9, .. })
        ));
    }

    #[test]
    fn empty_windows_are_acked_with_zero_at_once() {
        let mut b = BeatsBatch::new();
        assert_eq!(
            b.on_frame(&window(0)),
            Ok(BatchStep::EmptyWindow {
                ack: *b"2A\0\0\0\0"
            })
        );
        assert!(!b.is_open());
    }

    #[test]
    fn v1_windows_get_v1_acks() {
        let mut b = BeatsBatch::new();
        b.on_frame(&Frame::Window {
            version: Version::V1,
            count: 1,
        })
        .unwrap();
        let step = b.on_frame(&Frame::Data {
            seq: 1,
            pairs: vec![],
        });
        assert!(matches!(step, Ok(BatchStep::Complete { ack, .. }) if ack == *b"1A\0\0\0\x01"));
        assert_eq!(b.keepalive(), *b"1A\0\0\0\0");
    }

    #[test]
    fn events_outside_windows_and_interrupted_windows_are_errors() {
        let mut b = BeatsBatch::new();
        assert_eq!(b.on_frame(&json(1)), Err(BatchError::NoWindow { seq: 1 }));
        b.on_frame(&window(2)).unwrap();
        b.on_frame(&json(1)).unwrap();
        assert_eq!(
            b.on_frame(&window(2)),
            Err(BatchError::WindowInterrupted {
                received: 1,
                expected: 2
            })
        );
    }
}
