//! The client side of a RELP session as a pure state machine: it writes
//! `open`, numbered `syslog` frames and `close`, keeps the window of
//! transactions not yet answered, and reads the server's `rsp` frames.

use std::collections::VecDeque;

use bytes::{BufMut, Bytes};

use super::codec::{Command, RelpFrame, write_frame};
use super::offers;
use super::session::MAX_TXNR;

/// librelp's default window: frames sent before waiting for replies.
pub const DEFAULT_WINDOW: usize = 128;

/// The data of an `rsp` frame: `CODE [SP HUMANMSG] [LF DATA]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rsp {
    /// The status: 200 is success, anything else a failure.
    pub code: u16,
    /// The human-readable text after the code.
    pub text: String,
    /// What follows the first LF (the server's offers, for `open`).
    pub data: Bytes,
}

impl Rsp {
    /// Reads the data of an `rsp` frame; an empty one (the answer to
    /// `close`) reads as `200` with no text.
    pub fn parse(data: &Bytes) -> Result<Rsp, ClientError> {
        if data.is_empty() {
            return Ok(Rsp {
                code: 200,
                text: String::new(),
                data: Bytes::new(),
            });
        }
        let (line, rest) = match data.iter().position(|&b| b == b'\n') {
            Some(lf) => (&data[..lf], data.slice(lf + 1..)),
            None => (&data[..], Bytes::new()),
        };
        let (code, text) = match line.iter().position(|&b| b == b' ') {
            Some(sp) => (&line[..sp], &line[sp + 1..]),
            None => (line, &[][..]),
        };
        let code = std::str::from_utf8(code)
            .ok()
            .filter(|c| c.len() == 3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| ClientError::BadRsp {
                data: String::from_utf8_lossy(&data[..data.len().min(64)]).into_owned(),
            })?;
        Ok(Rsp {
            code,
            text: String::from_utf8_lossy(text).into_owned(),
            data: rest,
        })
    }
}

/// What a server frame meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The server accepted `open`; messages may be sent.
    Opened {
        /// The server's offers, as sent.
        offers: Bytes,
    },
    /// The server acknowledged the message with this TXNR (`200`).
    Acked {
        /// The message's transaction number.
        txnr: u32,
    },
    /// The server answered `close`; the session is over.
    Closed,
}

/// Why a session cannot go on; the connection should be closed, and the
/// messages still in flight ([`RelpClient::in_flight`]) sent again on a
/// new one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server answered a command with a code other than 200.
    #[error("RELP: the server answered transaction {txnr} with {code} {text}")]
    Refused {
        /// The command's transaction number (1 is the `open`).
        txnr: u32,
        /// The code.
        code: u16,
        /// The server's text.
        text: String,
    },
    /// The server's offers do not include the `syslog` command.
    #[error("RELP: the server does not offer the syslog command")]
    NoSyslog,
    /// An `rsp` for a transaction that is not waiting for one.
    #[error("RELP: reply to transaction {txnr}, which awaits none")]
    UnexpectedReply {
        /// The reply's transaction number.
        txnr: u32,
    },
    /// The data of an `rsp` does not start with a three-digit code.
    #[error("RELP: malformed reply {data:?}")]
    BadRsp {
        /// The start of the data.
        data: String,
    },
    /// A command a server does not send to a client.
    #[error("RELP: unexpected {command:?} command from the server")]
    UnexpectedCommand {
        /// The command's name.
        command: String,
    },
    /// The server sent `serverclose`: it is closing the connection.
    #[error("RELP: the server closed the session")]
    ServerClosed,
    /// The call does not fit the session's state (a message before the
    /// server accepted `open`, a full window, anything after `close`).
    #[error("RELP: cannot {what} now")]
    NotNow {
        /// What was attempted.
        what: &'static str,
    },
}

/// Where a client session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing sent yet.
    Idle,
    /// `open` sent, its reply not yet read.
    Opening,
    /// Messages may flow.
    Open,
    /// `close` (with this TXNR) sent, its reply not yet read.
    Closing(u32),
    /// Closed or failed.
    Ended,
}

/// One RELP connection on the client side. Write what its methods put in
/// the buffer to the socket, and feed it every frame the server sends
/// (decoded with [`RelpCodec`](super::RelpCodec)).
///
/// ```
/// use bytes::BytesMut;
/// use hark_proto::relp::{ClientEvent, Command, RelpClient, RelpFrame};
///
/// let mut client = RelpClient::new("hark-send", 2);
/// let mut out = BytesMut::new();
/// client.open(&mut out).unwrap();
/// assert!(out.starts_with(b"1 open "));
/// let offers = &b"200 OK\nrelp_version=0\ncommands=syslog"[..];
/// let opened = client.on_frame(RelpFrame::new(1, Command::Rsp, offers)).unwrap();
/// assert!(matches!(opened, ClientEvent::Opened { .. }));
///
/// out.clear();
/// assert_eq!(client.send(b"<13>hello", &mut out), Ok(2));
/// assert_eq!(client.send(b"<13>again", &mut out), Ok(3));
/// assert!(!client.can_send()); // the window of 2 is full
/// let ack = client.on_frame(RelpFrame::new(2, Command::Rsp, &b"200 OK"[..])).unwrap();
/// assert_eq!(ack, ClientEvent::Acked { txnr: 2 });
/// assert_eq!(client.in_flight().collect::<Vec<_>>(), [3]);
/// ```
#[derive(Debug, Clone)]
pub struct RelpClient {
    state: State,
    /// The TXNR the next command carries.
    next_txnr: u32,
    /// The most `syslog` frames awaiting a reply at once.
    window: usize,
    /// The TXNRs of `syslog` frames sent and not yet answered, oldest first.
    unacked: VecDeque<u32>,
    /// The `relp_software` offer value.
    software: String,
}

impl RelpClient {
    /// A client that introduces itself as `software` and keeps at most
    /// `window` (at least 1) messages unanswered.
    pub fn new(software: impl Into<String>, window: usize) -> Self {
        RelpClient {
            state: State::Idle,
            next_txnr: 1,
            window: window.max(1),
            unacked: VecDeque::new(),
            software: software.into(),
        }
    }

    /// Writes the `open` frame with this client's offers.
    pub fn open(&mut self, dst: &mut impl BufMut) -> Result<u32, ClientError> {
        if self.state != State::Idle {
            return Err(ClientError::NotNow { what: "open" });
        }
        let offers = format!(
            "relp_version=0\nrelp_software={}\ncommands=syslog",
            self.software.replace('\n', " ")
        );
        self.state = State::Opening;
        Ok(self.command("open", offers.as_bytes(), dst))
    }

    /// Whether the server accepted `open` and the session is not closing.
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Whether a message may be sent now: the session is open and the
    /// window has room.
    pub fn can_send(&self) -> bool {
        self.is_open() && self.unacked.len() < self.window
    }

    /// The TXNRs of messages sent and not yet acknowledged, oldest first.
    pub fn in_flight(&self) -> impl Iterator<Item = u32> + '_ {
        self.unacked.iter().copied()
    }

    /// Writes one `syslog` frame carrying `msg`; returns its TXNR. Fails
    /// unless [`can_send`](Self::can_send).
    pub fn send(&mut self, msg: &[u8], dst: &mut impl BufMut) -> Result<u32, ClientError> {
        if !self.can_send() {
            return Err(ClientError::NotNow {
                what: "send a message",
            });
        }
        let txnr = self.command("syslog", msg, dst);
        self.unacked.push_back(txnr);
        Ok(txnr)
    }

    /// Writes the `close` frame. Replies to messages still in flight are
    /// still read; [`ClientEvent::Closed`] comes with the reply to `close`.
    pub fn close(&mut self, dst: &mut impl BufMut) -> Result<u32, ClientError> {
        if self.state != State::Open {
            return Err(ClientError::NotNow { what: "close" });
        }
        let txnr = self.command("close", b"", dst);
        self.state = State::Closing(txnr);
        Ok(txnr)
    }

    /// Takes the next frame from the server.
    pub fn on_frame(&mut self, frame: RelpFrame) -> Result<ClientEvent, ClientError> {
        let result = self.step(frame);
        if result.is_err() {
            self.state = State::Ended;
        }
        result
    }

    fn step(&mut self, frame: RelpFrame) -> Result<ClientEvent, ClientError> {
        match frame.command {
            Command::Rsp => {}
            Command::ServerClose => return Err(ClientError::ServerClosed),
            other => {
                return Err(ClientError::UnexpectedCommand {
                    command: other.to_string(),
                });
            }
        }
        if self.state == State::Ended {
            return Err(ClientError::NotNow {
                what: "take a reply after the session ended",
            });
        }
        let txnr = frame.txnr;
        let rsp = Rsp::parse(&frame.data)?;
        let refused = |rsp: Rsp| ClientError::Refused {
            txnr,
            code: rsp.code,
            text: rsp.text,
        };
        match self.state {
            // The reply to `open` (always TXNR 1).
            State::Opening if txnr == 1 => {
                if rsp.code != 200 {
                    return Err(refused(rsp));
                }
                let offers = offers::parse(&rsp.data).unwrap_or_default();
                let syslog = offers
                    .iter()
                    .any(|o| o.name == "commands" && o.values.iter().any(|v| v == "syslog"));
                if !syslog {
                    return Err(ClientError::NoSyslog);
                }
                self.state = State::Open;
                Ok(ClientEvent::Opened { offers: rsp.data })
            }
            State::Closing(close) if txnr == close => {
                self.state = State::Ended;
                Ok(ClientEvent::Closed)
            }
            State::Open | State::Closing(_) => {
                let Some(pos) = self.unacked.iter().position(|&t| t == txnr) else {
                    return Err(ClientError::UnexpectedReply { txnr });
                };
                if rsp.code != 200 {
                    return Err(refused(rsp));
                }
                self.unacked.remove(pos);
                Ok(ClientEvent::Acked { txnr })
            }
            State::Idle | State::Opening | State::Ended => {
                Err(ClientError::UnexpectedReply { txnr })
            }
        }
    }

    /// Writes a command frame with the next TXNR and returns that TXNR.
    fn command(&mut self, name: &str, data: &[u8], dst: &mut impl BufMut) -> u32 {
        let txnr = self.next_txnr;
        self.next_txnr = if txnr >= MAX_TXNR { 1 } else { txnr + 1 };
        write_frame(txnr, name, data, dst);
        txnr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    fn opened(window: usize) -> RelpClient {
        let mut c = RelpClient::new("test", window);
        c.open(&mut BytesMut::new()).unwrap();
        let offers = &b"200 OK\nrelp_version=0\ncommands=syslog"[..];
        c.on_frame(RelpFrame::new(1, Command::Rsp, offers)).unwrap();
        c
    }

    #[test]
    fn a_refused_open_ends_the_session() {
        let mut c = RelpClient::new("test", 4);
        c.open(&mut BytesMut::new()).unwrap();
        let no = RelpFrame::new(1, Command::Rsp, &b"500 required command not supported"[..]);
        assert!(matches!(
            c.on_frame(no),
            Err(ClientError::Refused {
                txnr: 1,
                code: 500,
                ..
            })
        ));
        assert!(!c.can_send());
        let mut c = RelpClient::new("test", 4);
        c.open(&mut BytesMut::new()).unwrap();
        let bare = RelpFrame::new(1, Command::Rsp, &b"200 OK\nrelp_version=0"[..]);
        assert_eq!(c.on_frame(bare), Err(ClientError::NoSyslog));
    }

    #[test]
    fn replies_may_come_in_any_order_but_only_once() {
        let mut c = opened(3);
        let mut out = BytesMut::new();
        for _ in 0..3 {
            c.send(b"m", &mut out).unwrap();
        }
        assert_eq!(
            c.send(b"m", &mut out),
            Err(ClientError::NotNow {
                what: "send a message"
            })
        );
        let ok = |t| RelpFrame::new(t, Command::Rsp, &b"200 OK"[..]);
        assert_eq!(c.on_frame(ok(3)), Ok(ClientEvent::Acked { txnr: 3 }));
        assert_eq!(c.in_flight().collect::<Vec<_>>(), [2, 4]);
        assert_eq!(
            c.on_frame(ok(3)),
            Err(ClientError::UnexpectedReply { txnr: 3 })
        );
    }

    #[test]
    fn close_waits_for_its_own_reply() {
        let mut c = opened(8);
        let mut out = BytesMut::new();
        c.send(b"m", &mut out).unwrap();
        assert_eq!(c.close(&mut out), Ok(3));
        assert_eq!(&out[..], b"2 syslog 1 m\n3 close 0\n");
        let ok = RelpFrame::new(2, Command::Rsp, &b"200 OK"[..]);
        assert_eq!(c.on_frame(ok), Ok(ClientEvent::Acked { txnr: 2 }));
        let closed = RelpFrame::new(3, Command::Rsp, Bytes::new());
        assert_eq!(c.on_frame(closed), Ok(ClientEvent::Closed));
        let hint = RelpFrame::new(0, Command::ServerClose, Bytes::new());
        assert!(c.on_frame(hint).is_err());
    }

    #[test]
    fn serverclose_and_failures_are_errors() {
        let mut c = opened(8);
        let mut out = BytesMut::new();
        c.send(b"m", &mut out).unwrap();
        let no = RelpFrame::new(2, Command::Rsp, &b"500 storage unavailable"[..]);
        assert_eq!(
            c.on_frame(no),
            Err(ClientError::Refused {
                txnr: 2,
                code: 500,
                text: "storage unavailable".into()
            })
        );
        let mut c = opened(8);
        let hint = RelpFrame::new(0, Command::ServerClose, Bytes::new());
        assert_eq!(c.on_frame(hint), Err(ClientError::ServerClosed));
        assert!(Rsp::parse(&Bytes::from_static(b"OK")).is_err());
    }

    #[test]
    fn txnrs_wrap_to_one() {
        let mut c = opened(8);
        c.next_txnr = MAX_TXNR;
        let mut out = BytesMut::new();
        assert_eq!(c.send(b"a", &mut out), Ok(MAX_TXNR));
        assert_eq!(c.send(b"b", &mut out), Ok(1));
    }
}
