//! Beats (Lumberjack v2, and v1) over TCP or TLS.
//!
//! A window is acknowledged with its highest sequence number only once every
//! event of it is durable. While a window is being made durable nothing more
//! is read (back-pressure: the shipper waits for its ack), and a keep-alive
//! ack of sequence 0 goes out every [`KEEPALIVE`] so the shipper does not
//! time out and resend.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use hark_proto::lumberjack::{
    BatchStep, BeatsBatch, Frame, Limits, LumberjackDecoder, beats_event_to_event,
    data_pairs_to_event,
};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Decoder;

use crate::InputContext;
use crate::batch::{Batch, Pending, Submitted};
use crate::stream::{Conn, Handler, Io, READ_CHUNK, Read, read_more};
use crate::telemetry::Malformed;

/// Interval of keep-alive acks while a window waits for durability.
pub(crate) const KEEPALIVE: Duration = Duration::from_secs(5);

/// Serves Beats connections.
#[derive(Clone)]
pub(crate) struct Beats;

impl Handler for Beats {
    async fn serve<S: Io>(&self, io: S, conn: Conn) {
        serve(io, conn, KEEPALIVE).await;
    }
}

/// What the frames of one read asked for.
enum Next {
    /// Keep reading.
    Read,
    /// A window is complete: make its events durable, then send this ack.
    Ack([u8; 6]),
    /// The stream is broken: close.
    Close,
}

/// Serves one connection, sending keep-alive acks every `keepalive` while a
/// window waits for durability.
async fn serve<S: Io>(io: S, conn: Conn, keepalive: Duration) {
    let (peer, ctx) = (conn.peer, conn.ctx.clone());
    let (mut rd, mut wr) = tokio::io::split(io);
    let source = peer.to_string();
    let mut decoder = LumberjackDecoder::new(Limits::default());
    let mut window = BeatsBatch::new();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // Appended parts of the open window; it is acked when all are durable.
    let mut parts = Vec::new();
    loop {
        let mut batch = Batch::new();
        let next = decode_some(
            &mut decoder,
            &mut window,
            &mut buf,
            &mut batch,
            &source,
            peer,
            &ctx,
        );
        match batch.submit(&ctx).await {
            Submitted::Empty => {}
            Submitted::Receipt(p) => parts.push(p),
            Submitted::Refused(_) => break,
        }
        match next {
            Next::Read => {}
            Next::Close => break,
            Next::Ack(ack) => {
                let ping = window.keepalive();
                let window_parts = std::mem::take(&mut parts);
                if !wait_durable(window_parts, &mut wr, ping, keepalive).await {
                    break;
                }
                if wr.write_all(&ack).await.is_err() || wr.flush().await.is_err() {
                    break;
                }
                // More frames may already be buffered.
                continue;
            }
        }
        if read_more(&mut rd, &mut buf, &conn).await != Read::Data {
            break;
        }
    }
    let _ = wr.shutdown().await;
}

/// Decodes frames until the buffer runs dry or a window completes.
fn decode_some(
    decoder: &mut LumberjackDecoder,
    window: &mut BeatsBatch,
    buf: &mut BytesMut,
    batch: &mut Batch,
    source: &str,
    peer: SocketAddr,
    ctx: &InputContext,
) -> Next {
    loop {
        let frame = match decoder.decode(buf) {
            Ok(Some(f)) => f,
            Ok(None) => return Next::Read,
            Err(e) => {
                malformed(ctx, peer, &e);
                return Next::Close;
            }
        };
        let step = match window.on_frame(&frame) {
            Ok(s) => s,
            Err(e) => {
                malformed(ctx, peer, &e);
                return Next::Close;
            }
        };
        let pctx = ctx.parse_context(source);
        match &frame {
            Frame::Json { payload, .. } => {
                batch.push_event(ctx, beats_event_to_event(payload, &pctx))
            }
            Frame::Data { pairs, .. } => batch.push_event(ctx, data_pairs_to_event(pairs, &pctx)),
            Frame::Window { .. } => {}
        }
        match step {
            BatchStep::Complete { ack, .. } | BatchStep::EmptyWindow { ack } => {
                return Next::Ack(ack);
            }
            BatchStep::Opened { .. } | BatchStep::Event { .. } => {}
        }
    }
}

/// Waits until every part of the window is durable, sending the keep-alive
/// ack `ping` every `every` meanwhile. False when the events could not be
/// stored or the peer is gone.
async fn wait_durable<W: AsyncWrite + Unpin>(
    parts: Vec<Pending>,
    wr: &mut W,
    ping: [u8; 6],
    every: Duration,
) -> bool {
    let all = async {
        for p in parts {
            if p.durable().await.is_err() {
                return false;
            }
        }
        true
    };
    tokio::pin!(all);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            ok = &mut all => return ok,
            _ = tick.tick() => {
                if wr.write_all(&ping).await.is_err() || wr.flush().await.is_err() {
                    return false;
                }
            }
        }
    }
}

fn malformed(ctx: &InputContext, peer: SocketAddr, e: &dyn std::fmt::Display) {
    ctx.malformed(peer, "Beats", Malformed::CloseConnection, e);
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf};

    use super::*;
    use crate::testing::{PATIENCE, Rig};

    /// A Lumberjack v2 window of JSON events numbered `first..first + count`.
    fn window(first: u32, count: u32) -> Vec<u8> {
        let mut out = b"2W".to_vec();
        out.extend_from_slice(&count.to_be_bytes());
        for seq in first..first + count {
            let doc = format!(r#"{{"message":"event {seq}"}}"#);
            out.extend_from_slice(b"2J");
            out.extend_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(&(doc.len() as u32).to_be_bytes());
            out.extend_from_slice(doc.as_bytes());
        }
        out
    }

    fn ack(seq: u32) -> [u8; 6] {
        let mut a = *b"2A\0\0\0\0";
        a[2..].copy_from_slice(&seq.to_be_bytes());
        a
    }

    async fn read_ack<R: tokio::io::AsyncRead>(rd: &mut ReadHalf<R>) -> [u8; 6] {
        let mut a = [0u8; 6];
        tokio::time::timeout(PATIENCE, rd.read_exact(&mut a))
            .await
            .expect("an ack in time")
            .expect("the connection stays open");
        a
    }

    #[tokio::test]
    async fn keepalive_acks_of_zero_flow_while_a_window_waits_for_durability() {
        let mut rig = Rig::new("beats");
        let (client, server) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(serve(server, rig.conn(), Duration::from_millis(20)));
        let (mut rd, mut wr) = tokio::io::split(client);

        wr.write_all(&window(1, 500)).await.unwrap();
        // The window is in the WAL, but not yet durable: no ack for it, only
        // keep-alives, which acknowledge nothing (sequence 0, as Logstash and
        // go-lumber send them).
        assert_eq!(rig.written(500).await, 500);
        for _ in 0..3 {
            assert_eq!(read_ack(&mut rd).await, ack(0));
        }
        rig.open_gate();
        loop {
            let a = read_ack(&mut rd).await;
            if a == ack(500) {
                break;
            }
            assert_eq!(a, ack(0), "only keep-alives come before the window's ack");
        }

        // A client numbering across windows (pylogbeat) gets its own last number.
        wr.write_all(&window(501, 2)).await.unwrap();
        loop {
            let a = read_ack(&mut rd).await;
            if a == ack(502) {
                break;
            }
            assert_eq!(a, ack(0));
        }
        drop((rd, wr));
        tokio::time::timeout(PATIENCE, server)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn a_window_over_the_limit_closes_the_connection_unread() {
        let mut rig = Rig::new("beats");
        rig.open_gate();
        let (client, server) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(serve(server, rig.conn(), KEEPALIVE));
        let (mut rd, mut wr) = tokio::io::split(client);
        let max = Limits::default().max_window;
        let mut wire = window(1, 1);
        wire.extend(b"2W");
        wire.extend((max + 1).to_be_bytes());
        wr.write_all(&wire).await.unwrap();
        assert_eq!(read_ack(&mut rd).await, ack(1));
        let mut rest = Vec::new();
        tokio::time::timeout(PATIENCE, rd.read_to_end(&mut rest))
            .await
            .expect("closed in time")
            .unwrap();
        assert!(rest.is_empty(), "{rest:?}");
        tokio::time::timeout(PATIENCE, server)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rig.written(1).await, 1);
        assert_eq!(rig.written_now(), 0);
    }
}
