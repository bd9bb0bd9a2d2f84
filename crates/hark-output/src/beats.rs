//! `type = "beats"`: events as Lumberjack v2 windows of ECS-shaped JSON
//! (see [`crate::encode::ecs_object`]), plain or TLS, as Filebeat sends
//! them to Logstash.
//!
//! Guarantee: an event counts as delivered once the receiver has
//! acknowledged it (the ack of its window, or a partial ack covering it).
//! After a broken connection the unacknowledged rest is sent again on a
//! new one (at least once).

use std::time::Duration;

use bytes::BytesMut;
use futures_util::StreamExt;
use hark_config::BeatsOutput;
use hark_event::Event;
use hark_proto::lumberjack::{AckDecoder, AckProgress, BeatsClient};
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_util::codec::FramedRead;

use crate::build::SetupError;
use crate::encode::ecs_json;
use crate::stream::{Connector, Io, WRITE_TIMEOUT};
use crate::tls::TlsFiles;
use crate::{DeliveryError, Destination, OutputError};

/// Longest wait for the receiver's next ack (a receiver still busy with a
/// window sends partial acks as keep-alives).
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// A Beats (Lumberjack v2) receiver.
pub struct BeatsDestination {
    connector: Connector,
    conn: Option<Conn>,
}

struct Conn {
    client: BeatsClient,
    acks: FramedRead<ReadHalf<Box<dyn Io>>, AckDecoder>,
    writer: WriteHalf<Box<dyn Io>>,
}

impl BeatsDestination {
    /// The destination of output `name`; reads its TLS files.
    pub fn new(name: &str, cfg: &BeatsOutput) -> Result<BeatsDestination, SetupError> {
        let BeatsOutput {
            target,
            tls,
            tls_ca,
            tls_cert,
            tls_key,
        } = cfg;
        let files = tls.then(|| TlsFiles::new(tls_ca, tls_cert, tls_key));
        Ok(BeatsDestination {
            connector: Connector::new(name, target, files)?,
            conn: None,
        })
    }

    fn protocol(&self, reason: String) -> OutputError {
        OutputError::Protocol {
            target: self.connector.target.clone(),
            reason,
        }
    }

    /// Sends `events` as one window and waits for its ack; on failure the
    /// number acknowledged so far.
    async fn window(&self, conn: &mut Conn, events: &[Event]) -> Result<(), DeliveryError> {
        let docs: Vec<Vec<u8>> = events.iter().map(ecs_json).collect();
        let mut out = BytesMut::new();
        conn.client
            .write_window(&docs, &mut out)
            .map_err(|e| DeliveryError::none(self.protocol(e.to_string())))?;
        let write = async {
            conn.writer.write_all(&out).await?;
            conn.writer.flush().await
        };
        match tokio::time::timeout(WRITE_TIMEOUT, write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(DeliveryError::none(self.connector.io(e))),
            Err(_) => return Err(DeliveryError::none(self.connector.timeout(WRITE_TIMEOUT))),
        }
        let mut acked = 0usize;
        loop {
            let ack = match tokio::time::timeout(ACK_TIMEOUT, conn.acks.next()).await {
                Err(_) => {
                    return Err(DeliveryError::after(
                        acked,
                        self.connector.timeout(ACK_TIMEOUT),
                    ));
                }
                Ok(None) => {
                    return Err(DeliveryError::after(
                        acked,
                        self.connector.io(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "the receiver closed the connection before acknowledging",
                        )),
                    ));
                }
                Ok(Some(Err(e))) => {
                    return Err(DeliveryError::after(
                        acked,
                        self.protocol(format!("bad ack: {e}")),
                    ));
                }
                Ok(Some(Ok(ack))) => ack,
            };
            match conn.client.on_ack(ack) {
                Ok(AckProgress::Complete) => return Ok(()),
                Ok(AckProgress::Partial { seq }) => acked = (seq as usize).min(events.len()),
                Err(e) => {
                    return Err(DeliveryError::after(acked, self.protocol(e.to_string())));
                }
            }
        }
    }
}

impl Destination for BeatsDestination {
    async fn deliver(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => {
                let io = self
                    .connector
                    .connect()
                    .await
                    .map_err(DeliveryError::none)?;
                let (rd, writer) = tokio::io::split(io);
                Conn {
                    client: BeatsClient::new(None),
                    acks: FramedRead::new(rd, AckDecoder),
                    writer,
                }
            }
        };
        let result = self.window(&mut conn, events).await;
        if result.is_ok() {
            self.conn = Some(conn);
        }
        result
    }

    async fn close(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = conn.writer.shutdown().await;
        }
    }
}
