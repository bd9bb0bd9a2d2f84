//! `type = "relp"`: one syslog message per event over RELP, plain or TLS.
//!
//! Guarantee: an event counts as delivered only once the receiver has
//! answered its transaction with `200 OK`. After a broken session the
//! events not yet acknowledged are sent again on a new one; the receiver
//! may have kept some of them before the break (RELP's own window of
//! doubt), which are then duplicates.

use std::collections::HashMap;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::StreamExt;
use hark_config::{OutputFormat, RelpOutput};
use hark_event::Event;
use hark_proto::relp::{ClientEvent, RelpClient, RelpCodec};
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_util::codec::FramedRead;

use crate::build::SetupError;
use crate::encode::syslog_message;
use crate::stream::{Connector, Io, WRITE_TIMEOUT};
use crate::tls::TlsFiles;
use crate::{DeliveryError, Destination, OutputError};

/// Messages sent before waiting for their acknowledgements.
const WINDOW: usize = 128;
/// Longest wait for the receiver's next reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// A RELP receiver.
pub struct RelpDestination {
    connector: Connector,
    format: OutputFormat,
    session: Option<Session>,
    message: Vec<u8>,
}

struct Session {
    client: RelpClient,
    replies: FramedRead<ReadHalf<Box<dyn Io>>, RelpCodec>,
    writer: WriteHalf<Box<dyn Io>>,
}

impl RelpDestination {
    /// The destination of output `name`; reads its TLS files.
    pub fn new(name: &str, cfg: &RelpOutput) -> Result<RelpDestination, SetupError> {
        let RelpOutput {
            target,
            format,
            tls,
            tls_ca,
            tls_cert,
            tls_key,
        } = cfg;
        let files = tls.then(|| TlsFiles::new(tls_ca, tls_cert, tls_key));
        Ok(RelpDestination {
            connector: Connector::new(name, target, files)?,
            format: *format,
            session: None,
            message: Vec::new(),
        })
    }

    /// The open session, opening one when there is none.
    async fn session(&mut self) -> Result<Session, OutputError> {
        if let Some(session) = self.session.take() {
            return Ok(session);
        }
        {
            let io = self.connector.connect().await?;
            let (rd, writer) = tokio::io::split(io);
            let mut session = Session {
                client: RelpClient::new("hark", WINDOW),
                replies: FramedRead::new(rd, RelpCodec::default()),
                writer,
            };
            let mut out = BytesMut::new();
            session
                .client
                .open(&mut out)
                .map_err(|e| self.protocol(e.to_string()))?;
            self.write(&mut session, &out).await?;
            match self.reply(&mut session).await? {
                ClientEvent::Opened { .. } => {}
                other => {
                    return Err(self.protocol(format!("unexpected reply to open: {other:?}")));
                }
            }
            Ok(session)
        }
    }

    fn protocol(&self, reason: String) -> OutputError {
        OutputError::Protocol {
            target: self.connector.target.clone(),
            reason,
        }
    }

    async fn write(&self, session: &mut Session, bytes: &[u8]) -> Result<(), OutputError> {
        let write = async {
            session.writer.write_all(bytes).await?;
            session.writer.flush().await
        };
        match tokio::time::timeout(WRITE_TIMEOUT, write).await {
            Ok(r) => r.map_err(|e| self.connector.io(e)),
            Err(_) => Err(self.connector.timeout(WRITE_TIMEOUT)),
        }
    }

    /// The next server frame, as the client reads it.
    async fn reply(&self, session: &mut Session) -> Result<ClientEvent, OutputError> {
        let frame = match tokio::time::timeout(REPLY_TIMEOUT, session.replies.next()).await {
            Err(_) => return Err(self.connector.timeout(REPLY_TIMEOUT)),
            Ok(None) => {
                return Err(self.connector.io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the receiver closed the RELP session",
                )));
            }
            Ok(Some(Err(e))) => return Err(self.protocol(format!("bad reply: {e}"))),
            Ok(Some(Ok(frame))) => frame,
        };
        session.client.on_frame(frame).map_err(|e| match e {
            hark_proto::relp::ClientError::Refused { code, text, .. } => OutputError::Refused {
                target: self.connector.target.clone(),
                reason: format!("{code} {text}"),
            },
            other => self.protocol(other.to_string()),
        })
    }

    /// Sends every event and waits for their acknowledgements; returns how
    /// many from the front are acknowledged when it fails.
    async fn send_all(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
        let format = self.format;
        let mut message = std::mem::take(&mut self.message);
        let mut session = match self.session().await {
            Ok(session) => session,
            Err(e) => {
                self.message = message;
                return Err(DeliveryError::none(e));
            }
        };
        // Which event each transaction carries, and which are acknowledged.
        let mut index_of: HashMap<u32, usize> = HashMap::new();
        let mut acked = vec![false; events.len()];
        let (mut sent, mut prefix) = (0, 0);
        let mut out = BytesMut::new();
        let result: Result<(), OutputError> = async {
            while prefix < events.len() {
                out.clear();
                while sent < events.len() && session.client.can_send() {
                    message.clear();
                    syslog_message(&events[sent], format, &mut message);
                    let txnr = session
                        .client
                        .send(&message, &mut out)
                        .map_err(|e| self.protocol(e.to_string()))?;
                    index_of.insert(txnr, sent);
                    sent += 1;
                }
                if !out.is_empty() {
                    self.write(&mut session, &out).await?;
                }
                match self.reply(&mut session).await? {
                    ClientEvent::Acked { txnr } => {
                        if let Some(i) = index_of.remove(&txnr) {
                            acked[i] = true;
                        }
                        while prefix < events.len() && acked[prefix] {
                            prefix += 1;
                        }
                    }
                    other => return Err(self.protocol(format!("unexpected reply: {other:?}"))),
                }
            }
            Ok(())
        }
        .await;
        self.message = message;
        match result {
            Ok(()) => {
                self.session = Some(session);
                Ok(())
            }
            // The session is dropped: the next attempt opens a new one.
            Err(e) => Err(DeliveryError::after(prefix, e)),
        }
    }
}

impl Destination for RelpDestination {
    async fn deliver(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
        self.send_all(events).await
    }

    async fn close(&mut self) {
        let Some(mut session) = self.session.take() else {
            return;
        };
        let mut out = BytesMut::new();
        if session.client.close(&mut out).is_ok() && self.write(&mut session, &out).await.is_ok() {
            // The close reply; a serverclose after it is fine.
            let _ = self.reply(&mut session).await;
        }
    }
}
