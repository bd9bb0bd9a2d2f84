//! `type = "syslog"`: one message per event, as one UDP datagram each, or
//! octet-counted frames (RFC 6587 / RFC 5425) over TCP or TLS.
//!
//! Guarantees: over TCP and TLS a batch counts as delivered once it is
//! written and flushed to the kernel; the receiver does not acknowledge.
//! When the connection turns out closed or broken, the last bytes written
//! on it (up to [`RESEND_BYTES`]) are sent again first on the next one,
//! since the receiver may not have read them: at least once, with
//! possible duplicates. Over UDP each datagram is sent and forgotten: a
//! receiver that is down or drops datagrams loses events silently.

use hark_config::{OutputFormat, SyslogOutput, SyslogOutputTransport};
use hark_event::Event;
use hark_proto::write_octet_counted;

use crate::build::SetupError;
use crate::encode::syslog_message;
use crate::stream::{Connector, WriteOnly};
use crate::tls::TlsFiles;
use crate::udp::UdpLink;
use crate::{DeliveryError, Destination};

/// Bytes of the last writes sent again after a broken connection.
pub const RESEND_BYTES: usize = 1 << 20;

/// A syslog receiver.
pub struct SyslogDestination {
    format: OutputFormat,
    link: Link,
    /// Reused encoding buffers.
    frames: Vec<u8>,
    message: Vec<u8>,
}

enum Link {
    Udp(UdpLink),
    Stream(WriteOnly),
}

impl SyslogDestination {
    /// The destination of output `name`; reads its TLS files.
    pub fn new(name: &str, cfg: &SyslogOutput) -> Result<SyslogDestination, SetupError> {
        let SyslogOutput {
            transport,
            target,
            format,
            tls_ca,
            tls_cert,
            tls_key,
        } = cfg;
        let link = match transport {
            SyslogOutputTransport::Udp => Link::Udp(UdpLink::new(target.to_string())),
            SyslogOutputTransport::Tcp => Link::Stream(WriteOnly::new(
                Connector::new(name, target, None)?,
                RESEND_BYTES,
            )),
            SyslogOutputTransport::Tls => Link::Stream(WriteOnly::new(
                Connector::new(name, target, Some(TlsFiles::new(tls_ca, tls_cert, tls_key)))?,
                RESEND_BYTES,
            )),
        };
        Ok(SyslogDestination {
            format: *format,
            link,
            frames: Vec::new(),
            message: Vec::new(),
        })
    }
}

impl Destination for SyslogDestination {
    async fn deliver(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
        match &mut self.link {
            Link::Udp(udp) => {
                let format = self.format;
                udp.send_each(events, |event| {
                    let mut message = Vec::new();
                    syslog_message(event, format, &mut message);
                    Ok(vec![message])
                })
                .await
            }
            Link::Stream(stream) => {
                self.frames.clear();
                for event in events {
                    self.message.clear();
                    syslog_message(event, self.format, &mut self.message);
                    write_octet_counted(&self.message, &mut self.frames);
                }
                stream.send(&self.frames).await.map_err(DeliveryError::none)
            }
        }
    }

    async fn close(&mut self) {
        if let Link::Stream(stream) = &mut self.link {
            stream.close().await;
        }
    }
}
