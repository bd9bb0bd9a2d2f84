//! The server side of a RELP session as a pure state machine.

use bytes::{BufMut, Bytes, BytesMut};

use super::codec::{Command, RelpFrame, write_frame};
use super::offers::{self, OfferError};

/// The RELP version Hark speaks: librelp sends and expects 0, whatever the spec says.
const RELP_VERSION: u32 = 0;

/// Transaction numbers wrap from this one back to 1.
pub(crate) const MAX_TXNR: u32 = 999_999_999;

/// What Hark calls itself in the `relp_software` offer.
pub const SOFTWARE: &str = concat!(
    "hark,",
    env!("CARGO_PKG_VERSION"),
    ",",
    env!("CARGO_PKG_REPOSITORY")
);

/// What the listener must do after a frame.
///
/// Every reply goes out in the order the commands arrived: `Reply` and
/// `CloseAfter` bytes queue behind the replies of earlier `Deliver`s that
/// are not yet durable (see [`ReplyQueue`](super::ReplyQueue)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send these bytes (in order).
    Reply(Bytes),
    /// Hand the syslog message to the pipeline. Once it is durable, send
    /// [`ok_reply`]`(txnr)`; if it cannot be stored, [`error_reply`].
    Deliver {
        /// The command's transaction number.
        txnr: u32,
        /// The syslog DATA with one trailing LF removed.
        message: Bytes,
    },
    /// Send these bytes (after every earlier reply), then close the connection.
    CloseAfter(Bytes),
    /// The peer broke the protocol: close the connection without a reply.
    ProtocolError(SessionError),
    /// A hint from the client (TXNR 0): nothing to do.
    Ignore,
}

/// A frame that breaks the session's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// TXNRs must count up from 1 by one (wrapping after 999 999 999).
    #[error("RELP: expected transaction number {expected}, got {found}")]
    UnexpectedTxnr {
        /// The next number in sequence.
        expected: u32,
        /// The number received.
        found: u32,
    },
    /// A command only a server sends (`rsp`, `serverclose`).
    #[error("RELP: unexpected {command:?} command from a client")]
    UnexpectedCommand {
        /// The command name.
        command: String,
    },
    /// A regular command sent with the hint TXNR 0.
    #[error("RELP: {command:?} sent as a hint (transaction number 0)")]
    CommandAsHint {
        /// The command name.
        command: String,
    },
    /// A frame after the session was closed or failed.
    #[error("RELP: frame after the session ended")]
    AfterClose,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Only `open` (or `close`) is acceptable.
    AwaitingOpen,
    /// Offers were exchanged; messages flow.
    Open,
    /// Closed by the client or after an error; nothing more is accepted.
    Ended,
}

/// One RELP connection on the server side: feed it every decoded frame in
/// order and carry out the returned [`Action`].
///
/// It answers `open` with `relp_version=0`, its `relp_software` and
/// `commands=syslog`, refuses a client that does not offer `syslog`
/// (`500 required command not supported by client`), answers a second
/// `open` with `200 connection already open - ignored` like librelp,
/// answers `close` with an empty `rsp` and a `serverclose` hint, and checks
/// that transaction numbers count up by one as librelp's server does.
///
/// ```
/// use hark_proto::relp::{Action, Command, RelpFrame, RelpSession};
///
/// let mut session = RelpSession::new();
/// let open = RelpFrame::new(1, Command::Open, &b"relp_version=0\ncommands=syslog"[..]);
/// assert!(matches!(session.on_frame(open), Action::Reply(_)));
/// let msg = RelpFrame::new(2, Command::Syslog, &b"<13>hello\n"[..]);
/// match session.on_frame(msg) {
///     Action::Deliver { txnr, message } => {
///         assert_eq!((txnr, &message[..]), (2, &b"<13>hello"[..]));
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RelpSession {
    state: State,
    /// The TXNR the next command must carry.
    next_txnr: u32,
    /// The `relp_software` offer value.
    software: String,
}

impl Default for RelpSession {
    fn default() -> Self {
        RelpSession::new()
    }
}

impl RelpSession {
    /// A session that introduces itself as [`SOFTWARE`].
    pub fn new() -> Self {
        RelpSession::with_software(SOFTWARE)
    }

    /// A session that introduces itself as `software` (`name,version,url`).
    pub fn with_software(software: impl Into<String>) -> Self {
        RelpSession {
            state: State::AwaitingOpen,
            next_txnr: 1,
            software: software.into(),
        }
    }

    /// Whether offers have been exchanged and the session is not over.
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Whether the session has ended (closed or failed).
    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// Takes the next frame from the client.
    pub fn on_frame(&mut self, frame: RelpFrame) -> Action {
        if self.state == State::Ended {
            return Action::ProtocolError(SessionError::AfterClose);
        }
        if frame.txnr == 0 {
            return match frame.command {
                Command::Other(_) => Action::Ignore,
                command => self.fail(SessionError::CommandAsHint {
                    command: command.to_string(),
                }),
            };
        }
        if frame.txnr != self.next_txnr {
            return self.fail(SessionError::UnexpectedTxnr {
                expected: self.next_txnr,
                found: frame.txnr,
            });
        }
        self.next_txnr = if frame.txnr >= MAX_TXNR {
            1
        } else {
            frame.txnr + 1
        };
        let txnr = frame.txnr;
        match (self.state, frame.command) {
            // librelp tolerates a repeated open on a live session.
            (State::Open, Command::Open) => {
                Action::Reply(rsp(txnr, 200, "connection already open - ignored", None))
            }
            (_, Command::Open) => self.open(txnr, &frame.data),
            (State::Open, Command::Syslog) => Action::Deliver {
                txnr,
                message: strip_lf(frame.data),
            },
            (_, Command::Syslog) => self.close_with(error_reply(txnr, "session not open")),
            (_, Command::Close) => {
                let mut out = BytesMut::new();
                write_frame(txnr, "rsp", b"", &mut out);
                out.put_slice(&serverclose());
                self.close_with(out.freeze())
            }
            (_, command @ (Command::Rsp | Command::ServerClose)) => {
                self.fail(SessionError::UnexpectedCommand {
                    command: command.to_string(),
                })
            }
            (_, Command::Other(name)) => {
                self.close_with(error_reply(txnr, &format!("command {name} not supported")))
            }
        }
    }

    /// Answers an `open`: our offers, or a 500 and the end of the session.
    fn open(&mut self, txnr: u32, data: &[u8]) -> Action {
        let offers = match offers::parse(data) {
            Ok(o) => o,
            Err(e) => return self.close_with(error_reply(txnr, &e.to_string())),
        };
        let mut syslog = false;
        for offer in &offers {
            let numeric = |v: &String| v.parse::<u32>().is_ok();
            match offer.name.as_str() {
                // The session speaks the lower of the two versions, and ours (0) is the lowest.
                "relp_version" if !offer.values.first().is_some_and(numeric) => {
                    let text = OfferError::BadVersion.to_string();
                    return self.close_with(error_reply(txnr, &text));
                }
                "commands" => syslog |= offer.values.iter().any(|v| v == "syslog"),
                // relp_software and unknown offers are ignored, as librelp does.
                _ => {}
            }
        }
        if !syslog {
            return self.close_with(error_reply(
                txnr,
                "required command not supported by client",
            ));
        }
        self.state = State::Open;
        let offers = format!(
            "relp_version={RELP_VERSION}\nrelp_software={}\ncommands=syslog",
            self.software
        );
        Action::Reply(rsp(txnr, 200, "OK", Some(offers.as_bytes())))
    }

    fn close_with(&mut self, reply: Bytes) -> Action {
        self.state = State::Ended;
        Action::CloseAfter(reply)
    }

    fn fail(&mut self, error: SessionError) -> Action {
        self.state = State::Ended;
        Action::ProtocolError(error)
    }
}

/// Removes the LF rsyslog's template puts at the end of a message.
fn strip_lf(mut data: Bytes) -> Bytes {
    if data.last() == Some(&b'\n') {
        data.truncate(data.len() - 1);
    }
    data
}

/// An `rsp` frame: `TXNR rsp DATALEN CODE [SP text] [LF data] LF`.
pub fn rsp(txnr: u32, code: u16, text: &str, data: Option<&[u8]>) -> Bytes {
    let mut body = BytesMut::new();
    body.put_slice(code.to_string().as_bytes());
    // HUMANMSG may not contain LF; the reply must stay one line before its data.
    let text: String = text.chars().filter(|&c| c != '\n').collect();
    if !text.is_empty() {
        body.put_u8(b' ');
        body.put_slice(text.as_bytes());
    }
    if let Some(data) = data {
        body.put_u8(b'\n');
        body.put_slice(data);
    }
    let mut out = BytesMut::new();
    write_frame(txnr, "rsp", &body, &mut out);
    out.freeze()
}

/// `TXNR rsp 6 200 OK`: the message of command `txnr` is durable.
pub fn ok_reply(txnr: u32) -> Bytes {
    rsp(txnr, 200, "OK", None)
}

/// `TXNR rsp N 500 text`: command `txnr` failed; the client sends it again later.
pub fn error_reply(txnr: u32, text: &str) -> Bytes {
    rsp(txnr, 500, text, None)
}

/// `0 serverclose 0`: the hint that the server closes the connection.
pub fn serverclose() -> Bytes {
    Bytes::from_static(b"0 serverclose 0\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(txnr: u32, command: Command, data: &str) -> RelpFrame {
        RelpFrame::new(txnr, command, Bytes::copy_from_slice(data.as_bytes()))
    }

    fn opened() -> RelpSession {
        let mut s = RelpSession::with_software("test");
        let a = s.on_frame(frame(1, Command::Open, "relp_version=0\ncommands=syslog"));
        assert_eq!(
            a,
            Action::Reply(Bytes::from_static(
                b"1 rsp 56 200 OK\nrelp_version=0\nrelp_software=test\ncommands=syslog\n"
            ))
        );
        s
    }

    #[test]
    fn open_answers_version_zero_even_to_a_newer_client() {
        let mut s = RelpSession::with_software("t");
        let Action::Reply(r) = s.on_frame(frame(
            1,
            Command::Open,
            "relp_version=1\ncommands=syslog,eventlog",
        )) else {
            panic!()
        };
        assert!(r.starts_with(b"1 rsp 53 200 OK\nrelp_version=0\n"));
        assert!(s.is_open());
    }

    #[test]
    fn open_without_syslog_is_refused_and_closes() {
        let mut s = RelpSession::new();
        let a = s.on_frame(frame(1, Command::Open, "relp_version=0\ncommands=eventlog"));
        assert_eq!(
            a,
            Action::CloseAfter(Bytes::from_static(
                b"1 rsp 44 500 required command not supported by client\n"
            ))
        );
        assert!(s.is_ended());
        assert_eq!(
            s.on_frame(frame(2, Command::Syslog, "x")),
            Action::ProtocolError(SessionError::AfterClose)
        );
    }

    #[test]
    fn open_with_a_valueless_version_is_refused() {
        let mut s = RelpSession::new();
        let a = s.on_frame(frame(1, Command::Open, "relp_version"));
        let Action::CloseAfter(r) = a else {
            panic!("{a:?}")
        };
        assert!(r.starts_with(b"1 rsp "));
        assert!(std::str::from_utf8(&r).unwrap().contains(" 500 "));
    }

    #[test]
    fn second_open_is_ignored_politely() {
        let mut s = opened();
        assert_eq!(
            s.on_frame(frame(2, Command::Open, "relp_version=0\ncommands=syslog")),
            Action::Reply(Bytes::from_static(
                b"2 rsp 37 200 connection already open - ignored\n"
            ))
        );
        assert!(s.is_open());
    }

    #[test]
    fn syslog_strips_one_lf_only() {
        let mut s = opened();
        assert_eq!(
            s.on_frame(frame(2, Command::Syslog, "<13>a\n\n")),
            Action::Deliver {
                txnr: 2,
                message: Bytes::from_static(b"<13>a\n")
            }
        );
        assert_eq!(
            s.on_frame(frame(3, Command::Syslog, "")),
            Action::Deliver {
                txnr: 3,
                message: Bytes::new()
            }
        );
    }

    #[test]
    fn syslog_before_open_is_an_error() {
        let mut s = RelpSession::new();
        let a = s.on_frame(frame(1, Command::Syslog, "<13>a"));
        assert_eq!(
            a,
            Action::CloseAfter(Bytes::from_static(b"1 rsp 20 500 session not open\n"))
        );
    }

    #[test]
    fn close_answers_empty_rsp_then_serverclose() {
        let mut s = opened();
        assert_eq!(
            s.on_frame(frame(2, Command::Close, "")),
            Action::CloseAfter(Bytes::from_static(b"2 rsp 0\n0 serverclose 0\n"))
        );
        assert!(s.is_ended());
    }

    #[test]
    fn txnr_must_count_up_and_wraps_to_one() {
        let mut s = opened();
        assert_eq!(
            s.on_frame(frame(3, Command::Syslog, "x")),
            Action::ProtocolError(SessionError::UnexpectedTxnr {
                expected: 2,
                found: 3
            })
        );
        let mut s = opened();
        s.next_txnr = MAX_TXNR;
        assert!(matches!(
            s.on_frame(frame(MAX_TXNR, Command::Syslog, "x")),
            Action::Deliver { .. }
        ));
        assert!(matches!(
            s.on_frame(frame(1, Command::Syslog, "y")),
            Action::Deliver { txnr: 1, .. }
        ));
    }

    #[test]
    fn hints_and_server_commands_from_a_client() {
        let mut s = opened();
        assert_eq!(
            s.on_frame(frame(0, Command::Other("abort".into()), "")),
            Action::Ignore
        );
        assert!(s.is_open());
        assert!(matches!(
            s.on_frame(frame(2, Command::Rsp, "200 OK")),
            Action::ProtocolError(SessionError::UnexpectedCommand { .. })
        ));
        let mut s = opened();
        assert!(matches!(
            s.on_frame(frame(0, Command::Syslog, "x")),
            Action::ProtocolError(SessionError::CommandAsHint { .. })
        ));
    }

    #[test]
    fn unknown_commands_get_a_500_and_close() {
        let mut s = opened();
        assert_eq!(
            s.on_frame(frame(2, Command::Other("starttls".into()), "")),
            Action::CloseAfter(Bytes::from_static(
                b"2 rsp 34 500 command starttls not supported\n"
            ))
        );
    }

    #[test]
    fn reply_helpers() {
        assert_eq!(&ok_reply(12)[..], b"12 rsp 6 200 OK\n");
        assert_eq!(
            &error_reply(5, "disk\nfull")[..],
            b"5 rsp 12 500 diskfull\n"
        );
        assert_eq!(&rsp(3, 200, "", Some(b"x"))[..], b"3 rsp 5 200\nx\n");
    }
}
