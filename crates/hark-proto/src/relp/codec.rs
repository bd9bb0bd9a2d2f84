//! RELP frames on the wire: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// The most digits a TXNR or DATALEN may have (`NUMBER = 1*9DIGIT`).
const MAX_DIGITS: usize = 9;

/// The longest command name (`COMMAND = 1*32ALPHA`).
const MAX_COMMAND: usize = 32;

/// librelp's default maximum DATALEN: 128 KiB.
pub const DEFAULT_MAX_DATA: usize = 128 * 1024;

/// What a RELP frame asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `open`: the client's first frame, carrying its offers.
    Open,
    /// `syslog`: one syslog message.
    Syslog,
    /// `close`: the client ends the session.
    Close,
    /// `rsp`: a reply to the command with the same TXNR.
    Rsp,
    /// `serverclose`: the server's hint (TXNR 0) that it closes the connection.
    ServerClose,
    /// Any other command name, as received.
    Other(String),
}

impl Command {
    /// The command from its wire name (case-sensitive, as librelp compares).
    pub fn from_name(name: &str) -> Command {
        match name {
            "open" => Command::Open,
            "syslog" => Command::Syslog,
            "close" => Command::Close,
            "rsp" => Command::Rsp,
            "serverclose" => Command::ServerClose,
            other => Command::Other(other.to_owned()),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Command::Open => "open",
            Command::Syslog => "syslog",
            Command::Close => "close",
            Command::Rsp => "rsp",
            Command::ServerClose => "serverclose",
            Command::Other(name) => name,
        }
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One RELP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelpFrame {
    /// Transaction number: 1–999 999 999 for commands and replies, 0 for hints.
    pub txnr: u32,
    /// The command.
    pub command: Command,
    /// DATA, without the separating space and the LF trailer; empty when DATALEN is 0.
    pub data: Bytes,
}

impl RelpFrame {
    /// A frame from its parts.
    pub fn new(txnr: u32, command: Command, data: impl Into<Bytes>) -> Self {
        RelpFrame {
            txnr,
            command,
            data: data.into(),
        }
    }

    /// Appends the frame's wire form to `dst`.
    pub fn encode_into(&self, dst: &mut BytesMut) {
        write_frame(self.txnr, self.command.as_str(), &self.data, dst);
    }

    /// The frame's wire form.
    pub fn to_bytes(&self) -> Bytes {
        let mut dst = BytesMut::new();
        self.encode_into(&mut dst);
        dst.freeze()
    }
}

/// Appends `TXNR SP COMMAND SP DATALEN [SP DATA] LF` to `dst`; no space and
/// no data when `data` is empty, as the frame grammar requires.
pub(crate) fn write_frame(txnr: u32, command: &str, data: &[u8], dst: &mut impl BufMut) {
    let header = format!("{txnr} {command} {}", data.len());
    dst.put_slice(header.as_bytes());
    if !data.is_empty() {
        dst.put_u8(b' ');
        dst.put_slice(data);
    }
    dst.put_u8(b'\n');
}

/// A byte stream is not valid RELP; the connection must be closed.
#[derive(Debug, thiserror::Error)]
pub enum RelpError {
    /// Reading the stream failed.
    #[error("reading RELP stream: {0}")]
    Io(#[from] std::io::Error),
    /// A space where the TXNR belongs.
    #[error("RELP frame: expected a transaction number, found a space")]
    TxnrMissing,
    /// A byte other than a digit or a space in the TXNR.
    #[error("RELP frame: transaction number contains byte {found:#04x}")]
    TxnrNotNumber {
        /// The offending byte.
        found: u8,
    },
    /// A TXNR of more than 9 digits.
    #[error("RELP frame: transaction number longer than {MAX_DIGITS} digits")]
    TxnrTooLong,
    /// A space where the command belongs.
    #[error("RELP frame: expected a command, found a space")]
    CommandMissing,
    /// A control, non-ASCII or LF byte in the command.
    #[error("RELP frame: command contains byte {found:#04x}")]
    CommandInvalid {
        /// The offending byte.
        found: u8,
    },
    /// A command of more than 32 bytes.
    #[error("RELP frame: command longer than {MAX_COMMAND} bytes")]
    CommandTooLong,
    /// A space or LF where DATALEN belongs.
    #[error("RELP frame: expected a data length, found {found:#04x}")]
    DatalenMissing {
        /// The byte found instead.
        found: u8,
    },
    /// A byte other than a digit, a space or LF in DATALEN.
    #[error("RELP frame: data length contains byte {found:#04x}")]
    DatalenNotNumber {
        /// The offending byte.
        found: u8,
    },
    /// A DATALEN of more than 9 digits.
    #[error("RELP frame: data length longer than {MAX_DIGITS} digits")]
    DatalenTooLong,
    /// A non-zero DATALEN directly followed by LF.
    #[error("RELP frame: data length {len} but the frame ends before its data")]
    DataMissing {
        /// The announced length.
        len: usize,
    },
    /// A DATALEN over the configured maximum.
    #[error("RELP frame: data length {len} exceeds the maximum of {max} bytes")]
    DataTooLarge {
        /// The announced length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The byte after DATA is not the LF trailer.
    #[error("RELP frame: expected LF after {len} bytes of data, found byte {found:#04x}")]
    MissingTrailer {
        /// The announced length.
        len: usize,
        /// The byte found instead of LF.
        found: u8,
    },
    /// The stream ended inside a frame.
    #[error("RELP stream ended inside a frame ({buffered} bytes unread)")]
    Truncated {
        /// Bytes of the unfinished frame.
        buffered: usize,
    },
}

/// A frame header that has been read; its data may still be arriving.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    txnr: u32,
    command: Command,
    /// DATALEN.
    len: usize,
    /// Bytes before DATA: the header and, when present, the separating space.
    data_start: usize,
}

/// A [`Decoder`] of RELP frames and an [`Encoder`] of them.
///
/// Bounded: a DATALEN over `max_data` is an error as soon as it is read, so
/// the buffer never holds more than one header, `max_data` bytes and the
/// trailer. Every malformed frame is an error: RELP has no way to
/// resynchronise, so the connection is to be closed.
///
/// ```
/// use bytes::BytesMut;
/// use hark_proto::relp::{Command, RelpCodec};
/// use tokio_util::codec::Decoder;
///
/// let mut codec = RelpCodec::default();
/// let mut buf = BytesMut::from(&b"2 syslog 10 <13>hello\n\n4 close 0\n"[..]);
/// let frame = codec.decode(&mut buf).unwrap().unwrap();
/// assert_eq!((frame.txnr, frame.command), (2, Command::Syslog));
/// assert_eq!(&frame.data[..], b"<13>hello\n");
/// assert_eq!(codec.decode(&mut buf).unwrap().unwrap().command, Command::Close);
/// ```
#[derive(Debug, Clone)]
pub struct RelpCodec {
    /// The largest DATALEN accepted.
    max_data: usize,
    /// The header of the frame at the front of the buffer, once it is read.
    header: Option<Header>,
}

impl Default for RelpCodec {
    fn default() -> Self {
        RelpCodec::new(DEFAULT_MAX_DATA)
    }
}

impl RelpCodec {
    /// A codec accepting DATALEN up to `max_data` bytes.
    pub fn new(max_data: usize) -> Self {
        RelpCodec {
            max_data,
            header: None,
        }
    }

    /// The largest DATALEN accepted.
    pub fn max_data(&self) -> usize {
        self.max_data
    }
}

/// Reads `1*9DIGIT` followed by a byte that is returned with the value;
/// `Ok(None)` when the buffer ends first.
fn number(
    buf: &[u8],
    start: usize,
    too_long: RelpError,
    not_number: fn(u8) -> RelpError,
) -> Result<Option<(usize, u8, usize)>, RelpError> {
    let mut value = 0usize;
    for (i, &b) in buf[start..].iter().enumerate() {
        match b {
            b'0'..=b'9' if i < MAX_DIGITS => value = value * 10 + usize::from(b - b'0'),
            b'0'..=b'9' => return Err(too_long),
            b' ' | b'\n' => return Ok(Some((value, b, start + i))),
            found => return Err(not_number(found)),
        }
    }
    Ok(None)
}

/// Reads the header at the front of `buf`: `Ok(None)` when more bytes are needed.
fn parse_header(buf: &[u8], max_data: usize) -> Result<Option<Header>, RelpError> {
    // TXNR
    let Some((txnr, sep, end)) = number(buf, 0, RelpError::TxnrTooLong, |found| {
        RelpError::TxnrNotNumber { found }
    })?
    else {
        return Ok(None);
    };
    match (end, sep) {
        (0, b' ') => return Err(RelpError::TxnrMissing),
        (_, b'\n') => return Err(RelpError::TxnrNotNumber { found: b'\n' }),
        _ => {}
    }
    // COMMAND: the spec says letters; any visible ASCII is taken, as librelp
    // and other implementations do, and the session rejects unknown names.
    let cmd_start = end + 1;
    let mut cmd_end = None;
    for (i, &b) in buf[cmd_start..].iter().enumerate() {
        match b {
            b' ' if i == 0 => return Err(RelpError::CommandMissing),
            b' ' => {
                cmd_end = Some(cmd_start + i);
                break;
            }
            _ if i == MAX_COMMAND => return Err(RelpError::CommandTooLong),
            0x21..=0x7e => {}
            found => return Err(RelpError::CommandInvalid { found }),
        }
    }
    let Some(cmd_end) = cmd_end else {
        return Ok(None);
    };
    // The command bytes are visible ASCII, so this conversion cannot fail.
    let name = std::str::from_utf8(&buf[cmd_start..cmd_end]).unwrap_or_default();
    // DATALEN
    let len_start = cmd_end + 1;
    let Some((len, sep, len_end)) = number(buf, len_start, RelpError::DatalenTooLong, |found| {
        RelpError::DatalenNotNumber { found }
    })?
    else {
        return Ok(None);
    };
    if len_end == len_start {
        return Err(RelpError::DatalenMissing { found: sep });
    }
    if len > max_data {
        return Err(RelpError::DataTooLarge { len, max: max_data });
    }
    let data_start = match sep {
        b' ' => len_end + 1,
        // `0 LF`: no data and no space. librelp also takes `0 SP LF`, handled above.
        _ if len == 0 => len_end,
        _ => return Err(RelpError::DataMissing { len }),
    };
    Ok(Some(Header {
        txnr: u32::try_from(txnr).unwrap_or(u32::MAX),
        command: Command::from_name(name),
        len,
        data_start,
    }))
}

impl Decoder for RelpCodec {
    type Item = RelpFrame;
    type Error = RelpError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<RelpFrame>, RelpError> {
        let header = match self.header.take() {
            Some(h) => h,
            None => match parse_header(buf, self.max_data)? {
                Some(h) => h,
                None => return Ok(None),
            },
        };
        let trailer = header.data_start + header.len;
        // No reserve for the announced length: memory follows the bytes that
        // really arrive, not what a peer claims it will send.
        let Some(&last) = buf.get(trailer) else {
            self.header = Some(header);
            return Ok(None);
        };
        if last != b'\n' {
            return Err(RelpError::MissingTrailer {
                len: header.len,
                found: last,
            });
        }
        buf.advance(header.data_start);
        let data = buf.split_to(header.len).freeze();
        buf.advance(1);
        Ok(Some(RelpFrame {
            txnr: header.txnr,
            command: header.command,
            data,
        }))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<RelpFrame>, RelpError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            None => {
                let buffered = buf.len();
                buf.clear();
                self.header = None;
                Err(RelpError::Truncated { buffered })
            }
        }
    }
}

impl Encoder<RelpFrame> for RelpCodec {
    type Error = RelpError;

    fn encode(&mut self, frame: RelpFrame, dst: &mut BytesMut) -> Result<(), RelpError> {
        frame.encode_into(dst);
        Ok(())
    }
}

impl Encoder<&RelpFrame> for RelpCodec {
    type Error = RelpError;

    fn encode(&mut self, frame: &RelpFrame, dst: &mut BytesMut) -> Result<(), RelpError> {
        frame.encode_into(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(max: usize, input: &[u8]) -> (Vec<RelpFrame>, Option<RelpError>) {
        let mut codec = RelpCodec::new(max);
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match codec.decode_eof(&mut buf) {
                Ok(Some(f)) => out.push(f),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn zero_length_frames_take_lf_with_or_without_a_space() {
        let (frames, err) = decode_all(100, b"4 close 0\n5 close 0 \n");
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|f| f.data.is_empty()));
    }

    #[test]
    fn oversize_datalen_fails_before_the_data_arrives() {
        let mut codec = RelpCodec::new(10);
        let mut buf = BytesMut::from(&b"1 syslog 11 "[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(RelpError::DataTooLarge { len: 11, max: 10 })
        ));
    }

    #[test]
    fn nonzero_datalen_needs_data() {
        let (_, err) = decode_all(100, b"1 syslog 3\n");
        assert!(matches!(err, Some(RelpError::DataMissing { len: 3 })));
    }

    #[test]
    fn control_bytes_in_the_command_are_rejected() {
        let (_, err) = decode_all(100, b"1 sys\tlog 0\n");
        assert!(matches!(
            err,
            Some(RelpError::CommandInvalid { found: b'\t' })
        ));
        let (_, err) = decode_all(100, b"1 open\n");
        assert!(matches!(
            err,
            Some(RelpError::CommandInvalid { found: b'\n' })
        ));
    }

    #[test]
    fn stream_ending_inside_a_frame_is_an_error() {
        let (frames, err) = decode_all(100, b"1 syslog 3 abc\n2 syslog 3 ab");
        assert_eq!(frames.len(), 1);
        assert!(matches!(err, Some(RelpError::Truncated { buffered: 13 })));
    }

    #[test]
    fn encoder_omits_the_space_for_empty_data() {
        assert_eq!(
            &RelpFrame::new(0, Command::ServerClose, Bytes::new()).to_bytes()[..],
            b"0 serverclose 0\n"
        );
        assert_eq!(
            &RelpFrame::new(7, Command::Rsp, &b"200 OK"[..]).to_bytes()[..],
            b"7 rsp 6 200 OK\n"
        );
    }
}
