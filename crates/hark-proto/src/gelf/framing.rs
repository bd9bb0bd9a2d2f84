//! GELF over TCP: one JSON object per frame, each ended by a NUL byte.

use bytes::{Buf, BytesMut};
use tokio_util::codec::Decoder;

use crate::framing::Frame;

/// A [`Decoder`] that cuts a GELF TCP stream at NUL bytes, with a bound on
/// the frame size.
///
/// A frame longer than `max_frame` is handed out cut to `max_frame` bytes
/// with [`Frame::truncated`] set (it will not parse as JSON and is then
/// stored whole), and the rest of it up to the next NUL is discarded, so
/// the decoder never holds much more than `max_frame` bytes. Frames that
/// are empty or only whitespace (a newline some senders add after the NUL)
/// are skipped. A last frame without its NUL comes out at end of stream.
///
/// ```
/// use bytes::BytesMut;
/// use hark_proto::gelf::GelfFramer;
/// use tokio_util::codec::Decoder;
///
/// let mut framer = GelfFramer::new(1024);
/// let mut buf = BytesMut::from(&b"{\"a\":1}\0{\"b\":2}\0"[..]);
/// assert_eq!(&framer.decode(&mut buf).unwrap().unwrap().bytes[..], b"{\"a\":1}");
/// assert_eq!(&framer.decode(&mut buf).unwrap().unwrap().bytes[..], b"{\"b\":2}");
/// ```
#[derive(Debug, Clone)]
pub struct GelfFramer {
    /// The longest frame handed out whole; never zero.
    max_frame: usize,
    /// The first `scanned` bytes of the buffer hold no NUL.
    scanned: usize,
    /// The buffer starts with the rest of an oversize frame, to be dropped
    /// up to and including its NUL.
    skipping: bool,
}

impl GelfFramer {
    /// A framer that cuts frames longer than `max_frame` bytes (at least 1).
    pub fn new(max_frame: usize) -> Self {
        GelfFramer {
            max_frame: max_frame.max(1),
            scanned: 0,
            skipping: false,
        }
    }

    /// The longest frame this framer hands out.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

fn is_blank(frame: &[u8]) -> bool {
    frame.iter().all(u8::is_ascii_whitespace)
}

impl Decoder for GelfFramer {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, std::io::Error> {
        loop {
            if self.skipping {
                match memchr::memchr(0, buf) {
                    Some(i) => {
                        buf.advance(i + 1);
                        self.skipping = false;
                    }
                    None => {
                        buf.clear();
                        return Ok(None);
                    }
                }
            }
            // A whole frame is at most max_frame bytes and its NUL.
            let window = buf.len().min(self.max_frame.saturating_add(1));
            match memchr::memchr(0, &buf[self.scanned.min(window)..window]) {
                Some(offset) => {
                    let end = self.scanned + offset;
                    let mut frame = buf.split_to(end + 1);
                    frame.truncate(end);
                    self.scanned = 0;
                    if is_blank(&frame) {
                        continue;
                    }
                    return Ok(Some(Frame {
                        bytes: frame.freeze(),
                        truncated: false,
                    }));
                }
                None if window > self.max_frame => {
                    // No NUL within the limit: hand out the head, drop the rest up to the NUL.
                    let bytes = buf.split_to(self.max_frame).freeze();
                    self.scanned = 0;
                    self.skipping = true;
                    if is_blank(&bytes) {
                        continue;
                    }
                    return Ok(Some(Frame {
                        bytes,
                        truncated: true,
                    }));
                }
                None => {
                    self.scanned = window;
                    return Ok(None);
                }
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, std::io::Error> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        let rest = buf.split();
        self.scanned = 0;
        if self.skipping || is_blank(&rest) {
            self.skipping = false;
            return Ok(None);
        }
        Ok(Some(Frame {
            bytes: rest.freeze(),
            truncated: false,
        }))
    }
}
