//! RFC 6587 framing of syslog over a byte stream (TCP, TLS), and the split
//! of a UDP datagram into messages.
//!
//! Each frame picks its own framing by its first byte, as rsyslog does, so
//! one connection may mix them:
//! * `1`–`9`: octet counting, `MSG-LEN SP MSG`, no trailer;
//! * anything else: non-transparent framing, the message ends at LF or NUL
//!   and a trailing CR is dropped.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::Decoder;

/// An octet count longer than this is malformed rather than merely large.
const MAX_COUNT_DIGITS: usize = 10;

/// One syslog message cut out of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message bytes, without the octet count or the trailer.
    pub bytes: Bytes,
    /// The message is incomplete: it was longer than the framer's maximum
    /// and cut to it, or the stream ended inside a counted frame.
    pub truncated: bool,
}

/// A stream could not be split into frames; the connection should be closed.
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    /// Reading the stream failed.
    #[error("reading syslog stream: {0}")]
    Io(#[from] std::io::Error),
    /// An octet count was followed by something other than a space.
    #[error(
        "malformed octet count: {digits} digit(s) followed by byte {found:#04x} instead of a space"
    )]
    BadOctetCount {
        /// How many digits were read.
        digits: usize,
        /// The byte found where the space belongs.
        found: u8,
    },
    /// An octet count had more digits than any real message needs.
    #[error("malformed octet count: more than {MAX_COUNT_DIGITS} digits")]
    OctetCountTooLong,
    /// The stream ended in the middle of an octet count.
    #[error("stream ended inside an octet count after {digits} digit(s)")]
    UnexpectedEof {
        /// How many digits were read.
        digits: usize,
    },
}

/// Where the decoder stands relative to the bytes at the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a frame boundary: the next byte chooses the framing.
    Start,
    /// The buffer starts with the body of a counted frame of `len` bytes
    /// (its `MSG-LEN SP` header is already consumed).
    Counted { len: usize },
    /// The buffer starts with `remaining` bytes of an oversize counted frame
    /// that are to be dropped.
    SkipCounted { remaining: usize },
    /// The buffer starts with a delimited frame; its first `scanned` bytes
    /// hold no LF or NUL.
    Delimited { scanned: usize },
    /// The buffer starts with the rest of an oversize delimited frame, to be
    /// dropped up to and including its LF or NUL.
    SkipDelimited,
}

/// A [`Decoder`] for syslog over TCP: octet counting or LF/NUL-delimited
/// framing, detected per frame, with a bound on the frame size.
///
/// A frame longer than `max_frame` is handed out cut to `max_frame` bytes
/// with [`Frame::truncated`] set, and the rest of it is discarded, so the
/// decoder never holds much more than `max_frame` bytes of one frame.
/// Empty lines are skipped.
///
/// ```
/// use bytes::BytesMut;
/// use hark_proto::SyslogFramer;
/// use tokio_util::codec::Decoder;
///
/// let mut framer = SyslogFramer::new(1024);
/// let mut buf = BytesMut::from(&b"5 <13>a<13>b\n"[..]);
/// assert_eq!(&framer.decode(&mut buf).unwrap().unwrap().bytes[..], b"<13>a");
/// assert_eq!(&framer.decode(&mut buf).unwrap().unwrap().bytes[..], b"<13>b");
/// ```
#[derive(Debug, Clone)]
pub struct SyslogFramer {
    /// The longest frame handed out whole; never zero.
    max_frame: usize,
    /// What the front of the buffer holds.
    state: State,
}

impl SyslogFramer {
    /// A framer that cuts frames longer than `max_frame` bytes (at least 1).
    pub fn new(max_frame: usize) -> Self {
        SyslogFramer {
            max_frame: max_frame.max(1),
            state: State::Start,
        }
    }

    /// The longest frame this framer hands out.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

/// Reads `MSG-LEN SP` at the front of `buf` (which starts with `1`–`9`):
/// `Ok(Some((len, header_len)))`, or `Ok(None)` when more bytes are needed.
fn octet_count(buf: &[u8]) -> Result<Option<(usize, usize)>, FramingError> {
    let mut len: u64 = 0;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'0'..=b'9' if i < MAX_COUNT_DIGITS => len = len * 10 + u64::from(b - b'0'),
            b'0'..=b'9' => return Err(FramingError::OctetCountTooLong),
            b' ' => return Ok(Some((usize::try_from(len).unwrap_or(usize::MAX), i + 1))),
            found => return Err(FramingError::BadOctetCount { digits: i, found }),
        }
    }
    Ok(None)
}

fn strip_cr(frame: &mut BytesMut) {
    if frame.last() == Some(&b'\r') {
        frame.truncate(frame.len() - 1);
    }
}

impl Decoder for SyslogFramer {
    type Item = Frame;
    type Error = FramingError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        loop {
            match self.state {
                State::Start => match buf.first() {
                    None => return Ok(None),
                    // An empty line between frames, or a trailer some senders add after a counted frame.
                    Some(b'\n' | b'\0') => buf.advance(1),
                    Some(b'1'..=b'9') => match octet_count(buf)? {
                        Some((len, header)) => {
                            buf.advance(header);
                            self.state = State::Counted { len };
                        }
                        None => return Ok(None),
                    },
                    Some(_) => self.state = State::Delimited { scanned: 0 },
                },
                State::Counted { len } => {
                    let take = len.min(self.max_frame);
                    // No reserve for the announced length: memory follows the bytes that
                    // really arrive, not what a peer claims it will send.
                    if buf.len() < take {
                        return Ok(None);
                    }
                    let bytes = buf.split_to(take).freeze();
                    let truncated = take < len;
                    self.state = if truncated {
                        State::SkipCounted {
                            remaining: len - take,
                        }
                    } else {
                        State::Start
                    };
                    // A zero count cannot occur (the count starts with 1-9), so an empty frame is never handed out.
                    return Ok(Some(Frame { bytes, truncated }));
                }
                State::SkipCounted { remaining } => {
                    let n = remaining.min(buf.len());
                    buf.advance(n);
                    if n < remaining {
                        self.state = State::SkipCounted {
                            remaining: remaining - n,
                        };
                        return Ok(None);
                    }
                    self.state = State::Start;
                }
                State::Delimited { scanned } => {
                    // A whole frame is at most max_frame bytes, a CR and the delimiter.
                    let window = buf.len().min(self.max_frame.saturating_add(2));
                    let found = memchr::memchr2(b'\n', b'\0', &buf[scanned.min(window)..window]);
                    match found {
                        Some(offset) => {
                            let end = scanned + offset;
                            let mut frame = buf.split_to(end + 1);
                            frame.truncate(end);
                            strip_cr(&mut frame);
                            self.state = State::Start;
                            if frame.is_empty() {
                                continue;
                            }
                            let truncated = frame.len() > self.max_frame;
                            frame.truncate(self.max_frame);
                            return Ok(Some(Frame {
                                bytes: frame.freeze(),
                                truncated,
                            }));
                        }
                        None if buf.len() >= self.max_frame.saturating_add(2) => {
                            // No delimiter within the limit: hand out the head, drop the rest up to the delimiter.
                            let bytes = buf.split_to(self.max_frame).freeze();
                            self.state = State::SkipDelimited;
                            return Ok(Some(Frame {
                                bytes,
                                truncated: true,
                            }));
                        }
                        None => {
                            self.state = State::Delimited { scanned: window };
                            return Ok(None);
                        }
                    }
                }
                State::SkipDelimited => match memchr::memchr2(b'\n', b'\0', buf) {
                    Some(i) => {
                        buf.advance(i + 1);
                        self.state = State::Start;
                    }
                    None => {
                        buf.clear();
                        return Ok(None);
                    }
                },
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        let state = std::mem::replace(&mut self.state, State::Start);
        match state {
            // decode only stops at Start with bytes left when they are an unfinished octet count.
            State::Start if buf.is_empty() => Ok(None),
            State::Start => {
                let digits = buf.len();
                buf.clear();
                Err(FramingError::UnexpectedEof { digits })
            }
            State::Counted { .. } if buf.is_empty() => Ok(None),
            State::Counted { .. } => Ok(Some(Frame {
                bytes: buf.split().freeze(),
                truncated: true,
            })),
            State::Delimited { .. } => {
                let mut frame = buf.split();
                strip_cr(&mut frame);
                if frame.is_empty() {
                    return Ok(None);
                }
                let truncated = frame.len() > self.max_frame;
                frame.truncate(self.max_frame);
                Ok(Some(Frame {
                    bytes: frame.freeze(),
                    truncated,
                }))
            }
            State::SkipCounted { .. } | State::SkipDelimited => {
                buf.clear();
                Ok(None)
            }
        }
    }
}

/// Appends `msg` to `dst` as one octet-counted frame (`MSG-LEN SP MSG`).
pub fn write_octet_counted(msg: &[u8], dst: &mut impl BufMut) {
    dst.put_slice(msg.len().to_string().as_bytes());
    dst.put_u8(b' ');
    dst.put_slice(msg);
}

/// How a sender delimits syslog messages on a stream (RFC 6587); the
/// receiving [`SyslogFramer`] tells the two apart by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFraming {
    /// `MSG-LEN SP MSG`: any bytes may occur in the message.
    OctetCounting,
    /// `MSG LF`: the message must not hold an LF, or it arrives as two.
    LineFeed,
}

impl StreamFraming {
    /// Appends `msg` to `dst` as one frame.
    pub fn write(self, msg: &[u8], dst: &mut impl BufMut) {
        match self {
            StreamFraming::OctetCounting => write_octet_counted(msg, dst),
            StreamFraming::LineFeed => {
                dst.put_slice(msg);
                dst.put_u8(b'\n');
            }
        }
    }
}

/// Splits a UDP datagram into its messages: one per LF-separated line, with
/// trailing CR, LF and NUL removed and empty lines skipped.
pub fn split_datagram(d: &[u8]) -> impl Iterator<Item = &[u8]> {
    d.split(|&b| b == b'\n')
        .map(|m| {
            let end = m
                .iter()
                .rposition(|&b| !matches!(b, b'\r' | b'\n' | b'\0'))
                .map_or(0, |i| i + 1);
            &m[..end]
        })
        .filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the whole input through a framer, with end of stream at the end.
    fn frames(max: usize, input: &[u8]) -> (Vec<(Vec<u8>, bool)>, Option<String>) {
        let mut f = SyslogFramer::new(max);
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match f.decode_eof(&mut buf) {
                Ok(Some(fr)) => out.push((fr.bytes.to_vec(), fr.truncated)),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }

    fn whole(v: &[&str]) -> Vec<(Vec<u8>, bool)> {
        v.iter().map(|s| (s.as_bytes().to_vec(), false)).collect()
    }

    #[test]
    fn octet_counted_frames_follow_each_other_without_trailer() {
        let (got, err) = frames(100, b"5 <13>a6 <13>bc");
        assert_eq!(got, whole(&["<13>a", "<13>bc"]));
        assert!(err.is_none());
    }

    #[test]
    fn framings_can_mix_on_one_connection() {
        let (got, err) = frames(100, b"<13>one\r\n5 <13>a<13>two\0\n\n<13>three");
        assert_eq!(got, whole(&["<13>one", "<13>a", "<13>two", "<13>three"]));
        assert!(err.is_none());
    }

    #[test]
    fn oversize_counted_frame_is_cut_and_the_stream_resynchronises() {
        let (got, err) = frames(4, b"10 0123456789<1>x\n");
        assert_eq!(
            got,
            vec![(b"0123".to_vec(), true), (b"<1>x".to_vec(), false)]
        );
        assert!(err.is_none());
    }

    #[test]
    fn oversize_line_is_cut_and_discarded_up_to_the_next_lf() {
        let (got, err) = frames(4, b"abcdefghij\nxy\n");
        assert_eq!(got, vec![(b"abcd".to_vec(), true), (b"xy".to_vec(), false)]);
        assert!(err.is_none());
        // exactly max_frame bytes plus CRLF is not truncated
        let (got, _) = frames(4, b"abcd\r\nabcde\n");
        assert_eq!(
            got,
            vec![(b"abcd".to_vec(), false), (b"abcd".to_vec(), true)]
        );
    }

    #[test]
    fn bad_octet_counts_are_errors() {
        let (got, err) = frames(100, b"16<1>1");
        assert!(got.is_empty());
        assert!(err.unwrap().contains("0x3c"));
        let (_, err) = frames(100, b"12345678901 x");
        assert!(err.unwrap().contains("more than 10 digits"));
        let (_, err) = frames(100, b"12");
        assert!(err.unwrap().contains("ended inside an octet count"));
    }

    #[test]
    fn stream_ending_inside_a_counted_frame_yields_what_arrived() {
        let (got, err) = frames(100, b"16 <1>1");
        assert_eq!(got, vec![(b"<1>1".to_vec(), true)]);
        assert!(err.is_none());
    }

    #[test]
    fn buffer_stays_bounded_while_discarding() {
        let mut f = SyslogFramer::new(8);
        let mut buf = BytesMut::new();
        let mut frames = 0;
        for _ in 0..1000 {
            buf.extend_from_slice(&[b'x'; 64]);
            while let Some(fr) = f.decode(&mut buf).unwrap() {
                assert!(fr.truncated);
                frames += 1;
            }
            assert!(buf.len() <= 10, "buffer grew to {}", buf.len());
        }
        assert_eq!(frames, 1);
    }

    #[test]
    fn datagrams_split_on_lf_and_lose_their_trailers() {
        let parts: Vec<&[u8]> = split_datagram(b"<13>a\r\n\n<13>b\0\r\n").collect();
        assert_eq!(parts, vec![&b"<13>a"[..], &b"<13>b"[..]]);
        assert_eq!(split_datagram(b"<13>no trailer").count(), 1);
        assert_eq!(split_datagram(b"\r\n\0").count(), 0);
    }

    #[test]
    fn encoder_writes_the_count_then_a_space() {
        let mut dst = BytesMut::new();
        write_octet_counted(b"<13>hello", &mut dst);
        assert_eq!(&dst[..], b"9 <13>hello");
    }
}
