//! The sending side of Lumberjack v2, as Beats speak it: windows of JSON
//! event frames, optionally zlib-compressed, and the `2A` acks that come
//! back. [`BeatsClient`] keeps the one window in flight; [`AckDecoder`]
//! reads the acks off the stream.

use std::io::Write as _;

use bytes::{Buf, BufMut, BytesMut};
use flate2::write::ZlibEncoder;
use tokio_util::codec::Decoder;

use super::codec::{LumberjackError, Version};

/// Bytes of an ack frame: version, `A`, the sequence number.
const ACK_LEN: usize = 6;

/// An ack frame: every event of the window up to `seq` is safe with the
/// receiver. A receiver still working on a window sends the highest
/// sequence number it has so far, as a keep-alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The version byte it came with.
    pub version: Version,
    /// The highest sequence number acknowledged.
    pub seq: u32,
}

/// Reads ack frames (`2A` + big-endian u32) off a byte stream; any other
/// frame is an error.
///
/// ```
/// use bytes::BytesMut;
/// use hark_proto::lumberjack::{Ack, AckDecoder, Version, ack};
/// use tokio_util::codec::Decoder;
///
/// let mut buf = BytesMut::from(&ack(7)[..]);
/// let got = AckDecoder.decode(&mut buf).unwrap();
/// assert_eq!(got, Some(Ack { version: Version::V2, seq: 7 }));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AckDecoder;

impl Decoder for AckDecoder {
    type Item = Ack;
    type Error = LumberjackError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Ack>, LumberjackError> {
        let version = match buf.first() {
            None => return Ok(None),
            Some(b'1') => Version::V1,
            Some(b'2') => Version::V2,
            Some(&found) => return Err(LumberjackError::UnsupportedVersion { found }),
        };
        match buf.get(1) {
            None => return Ok(None),
            Some(b'A') => {}
            Some(&found) => return Err(LumberjackError::UnknownFrameType { found }),
        }
        if buf.len() < ACK_LEN {
            return Ok(None);
        }
        buf.advance(2);
        let seq = buf.get_u32();
        Ok(Some(Ack { version, seq }))
    }
}

/// What an ack meant for the window in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckProgress {
    /// Some events are acknowledged (a keep-alive): keep waiting.
    Partial {
        /// The highest sequence number acknowledged so far.
        seq: u32,
    },
    /// The whole window is acknowledged; the next may be sent.
    Complete,
}

/// A window that cannot be written, or an ack that fits no window; after
/// an ack error the connection should be closed and the window sent again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// A window while the previous one awaits its ack.
    #[error("lumberjack: a window of {pending} events awaits its ack")]
    WindowPending {
        /// The pending window's last sequence number.
        pending: u32,
    },
    /// An event or a compressed window longer than a frame can say.
    #[error("lumberjack: a frame of {len} bytes exceeds the 4 GiB frame limit")]
    FrameTooLarge {
        /// The length.
        len: usize,
    },
    /// An ack with no window in flight.
    #[error("lumberjack: ack {seq} with no window in flight")]
    NoWindow {
        /// The ack's sequence number.
        seq: u32,
    },
    /// An ack beyond the window's last event.
    #[error("lumberjack: ack {seq} beyond the window's last event {last}")]
    AckBeyondWindow {
        /// The ack's sequence number.
        seq: u32,
        /// The window's last sequence number.
        last: u32,
    },
}

/// The sender's side of a Lumberjack v2 connection: one window at a
/// time, each numbered from 1 as Beats do, acknowledged by its last
/// sequence number.
///
/// ```
/// use bytes::BytesMut;
/// use hark_proto::lumberjack::{AckProgress, Ack, BeatsClient, Version};
///
/// let mut client = BeatsClient::new(None);
/// let mut out = BytesMut::new();
/// let last = client.write_window(&[br#"{"message":"a"}"#, br#"{"message":"b"}"#], &mut out).unwrap();
/// assert_eq!(last, 2);
/// assert!(out.starts_with(b"2W\0\0\0\x022J\0\0\0\x01"));
/// let done = client.on_ack(Ack { version: Version::V2, seq: 2 }).unwrap();
/// assert_eq!(done, AckProgress::Complete);
/// ```
#[derive(Debug, Clone)]
pub struct BeatsClient {
    /// zlib level (0–9) of the window's event frames; `None`: uncompressed.
    compression: Option<u32>,
    /// The last sequence number of the window awaiting its ack.
    pending: Option<u32>,
}

impl BeatsClient {
    /// A client that compresses each window at zlib `compression` level
    /// (0–9, clamped), or sends it plain when `None`.
    pub fn new(compression: Option<u32>) -> Self {
        BeatsClient {
            compression: compression.map(|l| l.min(9)),
            pending: None,
        }
    }

    /// Whether a window awaits its ack.
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// Writes one window holding `events` (JSON documents, numbered 1..=n)
    /// and returns the sequence number that will acknowledge it (0 for an
    /// empty window).
    pub fn write_window<E: AsRef<[u8]>>(
        &mut self,
        events: &[E],
        dst: &mut impl BufMut,
    ) -> Result<u32, ClientError> {
        if let Some(pending) = self.pending {
            return Err(ClientError::WindowPending { pending });
        }
        let count = frame_len(events.len())?;
        write_window(count, dst);
        match self.compression {
            None => {
                for (seq, event) in (1..).zip(events) {
                    write_json(seq, event.as_ref(), dst)?;
                }
            }
            Some(level) => {
                let mut plain = Vec::new();
                for (seq, event) in (1..).zip(events) {
                    write_json(seq, event.as_ref(), &mut plain)?;
                }
                write_compressed(&plain, level, dst)?;
            }
        }
        self.pending = Some(count);
        Ok(count)
    }

    /// Takes an ack read by [`AckDecoder`].
    pub fn on_ack(&mut self, ack: Ack) -> Result<AckProgress, ClientError> {
        let Some(last) = self.pending else {
            return Err(ClientError::NoWindow { seq: ack.seq });
        };
        if ack.seq > last {
            return Err(ClientError::AckBeyondWindow { seq: ack.seq, last });
        }
        if ack.seq < last {
            return Ok(AckProgress::Partial { seq: ack.seq });
        }
        self.pending = None;
        Ok(AckProgress::Complete)
    }
}

fn frame_len(len: usize) -> Result<u32, ClientError> {
    u32::try_from(len).map_err(|_| ClientError::FrameTooLarge { len })
}

/// Appends a `2W` frame announcing `count` events.
pub fn write_window(count: u32, dst: &mut impl BufMut) {
    dst.put_slice(b"2W");
    dst.put_u32(count);
}

/// Appends a `2J` frame: event `seq` as JSON.
pub fn write_json(seq: u32, json: &[u8], dst: &mut impl BufMut) -> Result<(), ClientError> {
    let len = frame_len(json.len())?;
    dst.put_slice(b"2J");
    dst.put_u32(seq);
    dst.put_u32(len);
    dst.put_slice(json);
    Ok(())
}

/// Appends a `2C` frame holding `frames` (already encoded) compressed
/// with zlib at `level` (0–9).
pub fn write_compressed(
    frames: &[u8],
    level: u32,
    dst: &mut impl BufMut,
) -> Result<(), ClientError> {
    let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::new(level.min(9)));
    // Writing into a Vec cannot fail.
    let _ = z.write_all(frames);
    let packed = z.finish().unwrap_or_default();
    let len = frame_len(packed.len())?;
    dst.put_slice(b"2C");
    dst.put_u32(len);
    dst.put_slice(&packed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_decode_in_pieces_and_reject_other_frames() {
        let mut buf = BytesMut::from(&b"2A\0\0"[..]);
        assert_eq!(AckDecoder.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"\x01\x02");
        assert_eq!(
            AckDecoder.decode(&mut buf).unwrap(),
            Some(Ack {
                version: Version::V2,
                seq: 0x102
            })
        );
        assert!(buf.is_empty());
        let mut bad = BytesMut::from(&b"2W\0\0\0\x01"[..]);
        assert!(AckDecoder.decode(&mut bad).is_err());
        let mut bad = BytesMut::from(&b"3A"[..]);
        assert!(AckDecoder.decode(&mut bad).is_err());
    }

    #[test]
    fn one_window_at_a_time() {
        let mut c = BeatsClient::new(Some(6));
        let mut out = BytesMut::new();
        assert_eq!(c.write_window(&[b"{}"; 3], &mut out), Ok(3));
        assert_eq!(
            c.write_window(&[b"{}"], &mut out),
            Err(ClientError::WindowPending { pending: 3 })
        );
        let ack = |seq| Ack {
            version: Version::V2,
            seq,
        };
        assert_eq!(c.on_ack(ack(1)), Ok(AckProgress::Partial { seq: 1 }));
        assert_eq!(
            c.on_ack(ack(4)),
            Err(ClientError::AckBeyondWindow { seq: 4, last: 3 })
        );
        assert_eq!(c.on_ack(ack(3)), Ok(AckProgress::Complete));
        assert_eq!(c.on_ack(ack(3)), Err(ClientError::NoWindow { seq: 3 }));
        assert_eq!(c.write_window::<&[u8]>(&[], &mut out), Ok(0));
        assert_eq!(c.on_ack(ack(0)), Ok(AckProgress::Complete));
    }
}
