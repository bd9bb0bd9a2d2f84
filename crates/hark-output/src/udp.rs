//! The UDP side of the datagram outputs (syslog, GELF): a socket connected
//! on first use and made again after a send failed, and the one loop that
//! sends each event's datagrams in order.

use hark_event::Event;
use tokio::net::UdpSocket;

use crate::{DeliveryError, OutputError};

/// A UDP receiver at `target`.
pub(crate) struct UdpLink {
    target: String,
    socket: Option<UdpSocket>,
}

impl UdpLink {
    /// The receiver at `target` (`host:port`, resolved at the first send).
    pub fn new(target: impl Into<String>) -> UdpLink {
        UdpLink {
            target: target.into(),
            socket: None,
        }
    }

    /// Sends the datagrams `encode` makes of each event, in order. Fails at
    /// the first event that could not be encoded or sent whole: the events
    /// before it are delivered, and the socket is made again next time.
    pub async fn send_each(
        &mut self,
        events: &[Event],
        mut encode: impl FnMut(&Event) -> Result<Vec<Vec<u8>>, OutputError>,
    ) -> Result<(), DeliveryError> {
        let socket = match &mut self.socket {
            Some(s) => s,
            None => self
                .socket
                .insert(udp_to(&self.target).await.map_err(DeliveryError::none)?),
        };
        for (i, event) in events.iter().enumerate() {
            let datagrams = encode(event).map_err(|e| DeliveryError::after(i, e))?;
            for d in datagrams {
                if let Err(source) = socket.send(&d).await {
                    self.socket = None;
                    return Err(DeliveryError::after(
                        i,
                        OutputError::Io {
                            target: self.target.clone(),
                            source,
                        },
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A UDP socket connected to `target` (resolved now).
async fn udp_to(target: &str) -> Result<UdpSocket, OutputError> {
    let io = |source| OutputError::Connect {
        target: target.to_owned(),
        source,
    };
    let addr = tokio::net::lookup_host(target)
        .await
        .map_err(io)?
        .next()
        .ok_or_else(|| {
            io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no address",
            ))
        })?;
    let bind: std::net::SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).await.map_err(io)?;
    sock.connect(addr).await.map_err(io)?;
    Ok(sock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> Event {
        let mut e = Event::new(0, "test");
        e.message = message.to_owned();
        e
    }

    #[tokio::test]
    async fn each_event_goes_as_its_datagrams_in_order_until_one_cannot() {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut link = UdpLink::new(receiver.local_addr().unwrap().to_string());
        let events = [event("a"), event("b"), event("c")];
        let two = |e: &Event| {
            Ok(vec![
                format!("{}1", e.message).into_bytes(),
                format!("{}2", e.message).into_bytes(),
            ])
        };
        link.send_each(&events[..2], two).await.unwrap();
        let failing = |e: &Event| {
            if e.message == "b" {
                Err(OutputError::Encode("too large".into()))
            } else {
                two(e)
            }
        };
        let err = link.send_each(&events, failing).await.unwrap_err();
        assert_eq!(err.delivered, 1, "{err}");
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..6 {
            let n = receiver.recv(&mut buf).await.unwrap();
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert_eq!(got, ["a1", "a2", "b1", "b2", "a1", "a2"]);
    }
}
