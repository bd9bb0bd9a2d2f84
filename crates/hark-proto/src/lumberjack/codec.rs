//! Lumberjack frames on the wire, v2 (Beats) and v1 (logstash-forwarder).
//!
//! Every integer is a big-endian u32; every frame starts with a version
//! byte (`'1'` or `'2'`) and a type byte:
//! `W count` (window), `J seq len json` (one event), `C len zlib` (more
//! frames, zlib-compressed), `D seq npairs {klen key vlen value}*` (one v1
//! event). Logstash takes every type with either version; so does this
//! decoder.

use std::collections::VecDeque;
use std::io::Read;
use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};
use flate2::read::ZlibDecoder;
use tokio_util::codec::Decoder;

/// Frames nested deeper than this in compressed frames are refused.
const MAX_NESTING: usize = 4;

/// Header sizes: version, type and the fixed u32 fields.
const WINDOW_LEN: usize = 6;
const JSON_HEADER: usize = 10;
const COMPRESSED_HEADER: usize = 6;
const DATA_HEADER: usize = 10;

/// The protocol version a frame was sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `'1'`: logstash-forwarder.
    V1,
    /// `'2'`: Beats.
    V2,
}

impl Version {
    /// The version byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Version::V1 => b'1',
            Version::V2 => b'2',
        }
    }

    fn from_byte(b: u8) -> Option<Version> {
        match b {
            b'1' => Some(Version::V1),
            b'2' => Some(Version::V2),
            _ => None,
        }
    }
}

/// One decoded Lumberjack frame. Compressed frames never come out: the
/// decoder inflates them and hands out the frames they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `W`: the number of events in the batch that follows.
    Window {
        /// The version byte the window came with; the ack uses the same.
        version: Version,
        /// How many events the batch holds.
        count: u32,
    },
    /// `J`: one event as JSON.
    Json {
        /// Sequence number.
        seq: u32,
        /// The JSON document, unparsed.
        payload: Bytes,
    },
    /// `D`: one v1 event as key/value pairs.
    Data {
        /// Sequence number.
        seq: u32,
        /// Keys and values, in the order sent.
        pairs: Vec<(Bytes, Bytes)>,
    },
}

/// The `2A` frame acknowledging every event up to `seq`.
pub fn ack(seq: u32) -> [u8; 6] {
    ack_for(Version::V2, seq)
}

/// The ack frame for a batch that came with `version`.
pub fn ack_for(version: Version, seq: u32) -> [u8; 6] {
    let s = seq.to_be_bytes();
    [version.byte(), b'A', s[0], s[1], s[2], s[3]]
}

/// Bounds on what a peer may make the decoder hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest window (events per batch) accepted.
    pub max_window: u32,
    /// The largest frame body accepted: a JSON document, a compressed
    /// payload, or the pairs of a v1 data frame.
    pub max_frame: usize,
    /// The most plaintext one compressed frame may inflate to, nested
    /// compressed frames included (zlib bomb protection).
    pub max_inflated: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_window: 65_536,
            max_frame: 16 * 1024 * 1024,
            max_inflated: 64 * 1024 * 1024,
        }
    }
}

/// A byte stream is not valid Lumberjack; the connection must be closed.
#[derive(Debug, thiserror::Error)]
pub enum LumberjackError {
    /// Reading the stream failed.
    #[error("reading lumberjack stream: {0}")]
    Io(#[from] std::io::Error),
    /// A version byte other than `'1'` or `'2'`.
    #[error("lumberjack protocol error: unsupported version byte {found:#04x}")]
    UnsupportedVersion {
        /// The byte found.
        found: u8,
    },
    /// A type byte other than `W`, `J`, `C` or `D`.
    #[error("lumberjack protocol error: unknown frame type {found:#04x}")]
    UnknownFrameType {
        /// The byte found.
        found: u8,
    },
    /// A window over the configured maximum.
    #[error("lumberjack window size too large: {count} > {max}")]
    WindowTooLarge {
        /// The announced window.
        count: u32,
        /// The maximum.
        max: u32,
    },
    /// A frame body over the configured maximum.
    #[error("lumberjack frame of {len} bytes exceeds the maximum of {max}")]
    FrameTooLarge {
        /// The announced (or so far accumulated) size.
        len: u64,
        /// The maximum.
        max: usize,
    },
    /// A compressed frame inflating to more than the configured maximum.
    #[error("lumberjack compressed frame inflates to more than {max} bytes")]
    InflatedTooLarge {
        /// The maximum.
        max: usize,
    },
    /// A compressed frame that is not a valid zlib stream.
    #[error("lumberjack compressed frame: invalid zlib data: {0}")]
    Inflate(#[source] std::io::Error),
    /// The plaintext of a compressed frame ends inside a frame.
    #[error("lumberjack compressed frame ends inside a frame ({remaining} bytes left)")]
    TruncatedCompressed {
        /// Bytes of the unfinished frame.
        remaining: usize,
    },
    /// Compressed frames nested too deep.
    #[error("lumberjack compressed frames nested more than {MAX_NESTING} deep")]
    NestingTooDeep,
    /// The stream ended inside a frame.
    #[error("lumberjack stream ended inside a frame ({buffered} bytes unread)")]
    Truncated {
        /// Bytes of the unfinished frame.
        buffered: usize,
    },
}

/// A frame found at the front of a slice, as ranges into that slice.
#[derive(Debug)]
enum Raw {
    Window {
        version: Version,
        count: u32,
    },
    Json {
        seq: u32,
        payload: Range<usize>,
    },
    Compressed {
        payload: Range<usize>,
    },
    Data {
        seq: u32,
        pairs: Vec<(Range<usize>, Range<usize>)>,
    },
}

/// Progress through the pairs of a v1 data frame that has not fully
/// arrived, so that a frame trickling in is not re-scanned from its start.
#[derive(Debug, Clone, Default)]
struct DataScan {
    seq: u32,
    npairs: u32,
    /// Offset (from the frame's start) of the next pair.
    offset: usize,
    pairs: Vec<(Range<usize>, Range<usize>)>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Where a body of `len` bytes after a `header`-byte header lies, if `len` is within `max`.
fn body(header: usize, len: u32, max: usize) -> Result<Range<usize>, LumberjackError> {
    let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
    if len_usize > max {
        return Err(LumberjackError::FrameTooLarge {
            len: u64::from(len),
            max,
        });
    }
    Ok(header..header.saturating_add(len_usize))
}

/// Reads the frame at the front of `input`: the frame and its length, or
/// `Ok(None)` when more bytes are needed. `scan` carries a v1 data frame's
/// progress between calls on a growing buffer.
fn parse_one(
    input: &[u8],
    limits: &Limits,
    scan: &mut Option<DataScan>,
) -> Result<Option<(Raw, usize)>, LumberjackError> {
    if scan.is_some() {
        return continue_data(input, limits, scan);
    }
    let (Some(&v), Some(&kind)) = (input.first(), input.get(1)) else {
        return Ok(None);
    };
    let version = Version::from_byte(v).ok_or(LumberjackError::UnsupportedVersion { found: v })?;
    match kind {
        b'W' => {
            let Some(count) = u32_at(input, 2) else {
                return Ok(None);
            };
            if count > limits.max_window {
                return Err(LumberjackError::WindowTooLarge {
                    count,
                    max: limits.max_window,
                });
            }
            Ok(Some((Raw::Window { version, count }, WINDOW_LEN)))
        }
        b'J' => {
            let (Some(seq), Some(len)) = (u32_at(input, 2), u32_at(input, 6)) else {
                return Ok(None);
            };
            let payload = body(JSON_HEADER, len, limits.max_frame)?;
            let end = payload.end;
            Ok((input.len() >= end).then_some((Raw::Json { seq, payload }, end)))
        }
        b'C' => {
            let Some(len) = u32_at(input, 2) else {
                return Ok(None);
            };
            let payload = body(COMPRESSED_HEADER, len, limits.max_frame)?;
            let end = payload.end;
            Ok((input.len() >= end).then_some((Raw::Compressed { payload }, end)))
        }
        b'D' => {
            let (Some(seq), Some(npairs)) = (u32_at(input, 2), u32_at(input, 6)) else {
                return Ok(None);
            };
            *scan = Some(DataScan {
                seq,
                npairs,
                offset: DATA_HEADER,
                pairs: Vec::new(),
            });
            continue_data(input, limits, scan)
        }
        found => Err(LumberjackError::UnknownFrameType { found }),
    }
}

/// Reads further pairs of a v1 data frame; hands out the frame once all are in.
fn continue_data(
    input: &[u8],
    limits: &Limits,
    scan: &mut Option<DataScan>,
) -> Result<Option<(Raw, usize)>, LumberjackError> {
    let Some(s) = scan.as_mut() else {
        return Ok(None);
    };
    let max_end = limits.max_frame.saturating_add(DATA_HEADER);
    while s.pairs.len() < usize::try_from(s.npairs).unwrap_or(usize::MAX) {
        let Some(klen) = u32_at(input, s.offset) else {
            return Ok(None);
        };
        let key_start = s.offset + 4;
        let key_end = key_start.saturating_add(usize::try_from(klen).unwrap_or(usize::MAX));
        let value_start = key_end.saturating_add(4);
        if value_start > max_end {
            return Err(LumberjackError::FrameTooLarge {
                len: value_start as u64,
                max: limits.max_frame,
            });
        }
        let Some(vlen) = u32_at(input, key_end) else {
            return Ok(None);
        };
        let value_end = value_start.saturating_add(usize::try_from(vlen).unwrap_or(usize::MAX));
        if value_end > max_end {
            return Err(LumberjackError::FrameTooLarge {
                len: value_end as u64,
                max: limits.max_frame,
            });
        }
        if input.len() < value_end {
            return Ok(None);
        }
        s.pairs.push((key_start..key_end, value_start..value_end));
        s.offset = value_end;
    }
    let Some(s) = scan.take() else {
        return Ok(None);
    };
    Ok(Some((
        Raw::Data {
            seq: s.seq,
            pairs: s.pairs,
        },
        s.offset,
    )))
}

/// Turns a frame found in `bytes` (which starts with it) into a [`Frame`].
/// Compressed frames are handled by the caller.
fn materialize(raw: Raw, bytes: &Bytes) -> Option<Frame> {
    match raw {
        Raw::Window { version, count } => Some(Frame::Window { version, count }),
        Raw::Json { seq, payload } => Some(Frame::Json {
            seq,
            payload: bytes.slice(payload),
        }),
        Raw::Data { seq, pairs } => Some(Frame::Data {
            seq,
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (bytes.slice(k), bytes.slice(v)))
                .collect(),
        }),
        Raw::Compressed { .. } => None,
    }
}

/// Inflates a zlib stream, failing once it grows past `cap` bytes.
fn inflate(data: &[u8], cap: usize) -> Result<Vec<u8>, LumberjackError> {
    let mut out = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    ZlibDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(LumberjackError::Inflate)?;
    if out.len() > cap {
        return Err(LumberjackError::InflatedTooLarge { max: cap });
    }
    Ok(out)
}

/// Inflates a compressed payload and appends the frames it holds to `out`,
/// inflating nested compressed frames within the same `budget` of plaintext.
fn unpack(
    compressed: &[u8],
    limits: &Limits,
    budget: &mut usize,
    depth: usize,
    out: &mut Vec<Frame>,
) -> Result<(), LumberjackError> {
    if depth > MAX_NESTING {
        return Err(LumberjackError::NestingTooDeep);
    }
    let plain = inflate(compressed, *budget).map_err(|e| match e {
        LumberjackError::InflatedTooLarge { .. } => LumberjackError::InflatedTooLarge {
            max: limits.max_inflated,
        },
        other => other,
    })?;
    *budget -= plain.len();
    let plain = Bytes::from(plain);
    let mut pos = 0;
    while pos < plain.len() {
        let rest = &plain[pos..];
        let Some((raw, used)) = parse_one(rest, limits, &mut None)? else {
            return Err(LumberjackError::TruncatedCompressed {
                remaining: rest.len(),
            });
        };
        let frame_bytes = plain.slice(pos..pos + used);
        match raw {
            Raw::Compressed { payload } => {
                unpack(&frame_bytes[payload], limits, budget, depth + 1, out)?;
            }
            other => out.extend(materialize(other, &frame_bytes)),
        }
        pos += used;
    }
    Ok(())
}

/// A [`Decoder`] of Lumberjack v2 (and v1) frames from a client.
///
/// Compressed frames are inflated here, within [`Limits::max_inflated`],
/// and their frames handed out one by one. Every malformed frame is an
/// error: the protocol cannot resynchronise, so the connection is to be closed.
///
/// ```
/// use bytes::BytesMut;
/// use hark_proto::lumberjack::{Frame, LumberjackDecoder, Version};
/// use tokio_util::codec::Decoder;
///
/// let mut dec = LumberjackDecoder::default();
/// let mut buf = BytesMut::from(&b"2W\0\0\0\x012J\0\0\0\x01\0\0\0\x02{}"[..]);
/// assert_eq!(
///     dec.decode(&mut buf).unwrap(),
///     Some(Frame::Window { version: Version::V2, count: 1 })
/// );
/// let Some(Frame::Json { seq, payload }) = dec.decode(&mut buf).unwrap() else { panic!() };
/// assert_eq!((seq, &payload[..]), (1, &b"{}"[..]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct LumberjackDecoder {
    limits: Limits,
    /// Frames inflated from a compressed frame, not yet handed out.
    queued: VecDeque<Frame>,
    /// The v1 data frame at the front of the buffer, when it is partly read.
    scan: Option<DataScan>,
}

impl LumberjackDecoder {
    /// A decoder with these limits.
    pub fn new(limits: Limits) -> Self {
        LumberjackDecoder {
            limits,
            queued: VecDeque::new(),
            scan: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

impl Decoder for LumberjackDecoder {
    type Item = Frame;
    type Error = LumberjackError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, LumberjackError> {
        loop {
            if let Some(frame) = self.queued.pop_front() {
                return Ok(Some(frame));
            }
            let Some((raw, used)) = parse_one(buf, &self.limits, &mut self.scan)? else {
                return Ok(None);
            };
            let frame_bytes = buf.split_to(used).freeze();
            match raw {
                Raw::Compressed { payload } => {
                    let mut frames = Vec::new();
                    let mut budget = self.limits.max_inflated;
                    unpack(
                        &frame_bytes[payload],
                        &self.limits,
                        &mut budget,
                        1,
                        &mut frames,
                    )?;
                    self.queued.extend(frames);
                }
                other => return Ok(materialize(other, &frame_bytes)),
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, LumberjackError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            None => {
                let buffered = buf.len();
                buf.advance(buffered);
                self.scan = None;
                Err(LumberjackError::Truncated { buffered })
            }
        }
    }
}
