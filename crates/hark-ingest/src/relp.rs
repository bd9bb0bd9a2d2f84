//! RELP (rsyslog's omrelp) over TCP or TLS.
//!
//! Each `syslog` command is answered `200 OK` only once its event is durable
//! in the WAL, in the order the commands arrived. The connection keeps reading
//! while earlier transactions wait for durability (the messages of one read go
//! into one append), up to [`MAX_PENDING`] unanswered transactions; past that
//! it stops reading, so the sender's window fills and it waits.
//!
//! Shutdown: stop reading, wait for what was appended to become durable,
//! answer it, send `serverclose`, close. The sender resends whatever was not
//! answered.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use hark_proto::relp::{Action, DEFAULT_MAX_DATA, RelpCodec, RelpSession, ReplyQueue, serverclose};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Decoder;

use crate::InputContext;
use crate::batch::{Batch, SHUTDOWN_GRACE, Submitted};
use crate::stream::{Conn, Handler, Io, READ_CHUNK};
use crate::telemetry::Malformed;

/// Most transactions read but not yet answered; reading pauses beyond this.
pub(crate) const MAX_PENDING: usize = 1024;

/// Serves RELP connections.
#[derive(Clone)]
pub(crate) struct Relp;

impl Handler for Relp {
    async fn serve<S: Io>(&self, io: S, conn: Conn) {
        serve(io, conn).await;
    }
}

/// Why the reading side stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The client asked to close; the close reply is queued.
    Closed,
    /// EOF, error, idleness: nobody is left to answer.
    Gone,
    /// A protocol error or shutdown: answer what is durable, then `serverclose`.
    ServerClose,
}

type Durable = std::pin::Pin<Box<dyn Future<Output = (Vec<u32>, bool)> + Send>>;

async fn serve<S: Io>(io: S, conn: Conn) {
    let Conn { peer, idle, ctx } = conn;
    let (mut rd, mut wr) = tokio::io::split(io);
    let source = peer.to_string();
    let mut codec = RelpCodec::new(ctx.max_message.max(DEFAULT_MAX_DATA));
    let mut session = RelpSession::new();
    let mut replies = ReplyQueue::new();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut inflight: FuturesOrdered<Durable> = FuturesOrdered::new();
    let mut stop: Option<Stop> = None;
    let mut idle_deadline = tokio::time::Instant::now() + idle;

    loop {
        if stop.is_none() {
            let mut batch = Batch::new();
            let mut txnrs = Vec::new();
            stop = decode_all(
                &mut codec,
                &mut session,
                &mut buf,
                &mut replies,
                &mut batch,
                &mut txnrs,
                (&source, peer),
                &ctx,
            );
            match batch.submit(&ctx).await {
                Submitted::Empty => {}
                Submitted::Receipt(pending) => inflight.push_back(Box::pin(async move {
                    let ok = pending.durable().await.is_ok();
                    (txnrs, ok)
                })),
                Submitted::Refused(_) => {
                    // Unanswered, these stay with the sender, which resends them.
                    stop = Some(Stop::ServerClose);
                }
            }
        }
        if stop == Some(Stop::ServerClose) {
            drain(&mut inflight, &mut replies).await;
            replies.push_reply(serverclose());
            send(&mut wr, &mut replies).await;
            break;
        }
        if !send(&mut wr, &mut replies).await {
            break;
        }
        if let Some(s) = stop {
            drain(&mut inflight, &mut replies).await;
            if s == Stop::Closed {
                send(&mut wr, &mut replies).await;
            }
            break;
        }
        let reading = replies.pending() <= MAX_PENDING;
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            _ = ctx.shutdown.cancelled() => stop = Some(Stop::ServerClose),
            Some((txnrs, ok)) = inflight.next(), if !inflight.is_empty() => {
                if !resolve(&mut replies, &txnrs, ok) {
                    tracing::warn!(input = %ctx.name, %peer, unanswered = txnrs.len(), "messages could not be made durable; closing the session without answering them, so the sender resends them");
                    stop = Some(Stop::ServerClose);
                }
            }
            r = rd.read_buf(&mut buf), if reading => match r {
                Ok(0) => stop = Some(Stop::Gone),
                Ok(_) => idle_deadline = tokio::time::Instant::now() + idle,
                Err(e) => {
                    tracing::debug!(input = %ctx.name, %peer, "read failed: {e}");
                    stop = Some(Stop::Gone);
                }
            },
            _ = tokio::time::sleep_until(idle_deadline), if inflight.is_empty() => {
                tracing::debug!(input = %ctx.name, %peer, "closing idle connection");
                stop = Some(Stop::ServerClose);
            }
        }
    }
    let _ = wr.shutdown().await;
}

/// Decodes every complete frame in `buf`, queueing replies and events.
/// Returns why reading must stop, if it must.
#[allow(clippy::too_many_arguments)]
fn decode_all(
    codec: &mut RelpCodec,
    session: &mut RelpSession,
    buf: &mut BytesMut,
    replies: &mut ReplyQueue,
    batch: &mut Batch,
    txnrs: &mut Vec<u32>,
    (source, peer): (&str, SocketAddr),
    ctx: &InputContext,
) -> Option<Stop> {
    loop {
        let frame = match codec.decode(buf) {
            Ok(Some(frame)) => frame,
            Ok(None) => return None,
            Err(e) => {
                malformed(ctx, peer, &e);
                return Some(Stop::ServerClose);
            }
        };
        match session.on_frame(frame) {
            Action::Reply(bytes) => replies.push_reply(bytes),
            Action::Deliver { txnr, message } => {
                let cut = message.len() > ctx.max_message;
                let bytes = if cut {
                    &message[..ctx.max_message]
                } else {
                    &message[..]
                };
                batch.push_syslog(ctx, source, bytes, cut);
                replies.push_pending(txnr);
                txnrs.push(txnr);
            }
            Action::CloseAfter(bytes) => {
                replies.push_reply(bytes);
                return Some(Stop::Closed);
            }
            Action::ProtocolError(e) => {
                malformed(ctx, peer, &e);
                return Some(Stop::ServerClose);
            }
            Action::Ignore => {}
        }
    }
}

/// Marks durable transactions ready to be answered `200 OK`. Ones that
/// could not be made durable are left unanswered (an error answer would make
/// librelp drop them); the session then closes and the sender resends them.
/// Returns `ok`.
fn resolve(replies: &mut ReplyQueue, txnrs: &[u32], ok: bool) -> bool {
    if ok {
        for t in txnrs {
            replies.mark_durable(*t);
        }
    }
    ok
}

/// Waits (bounded) for every appended batch and resolves its replies.
async fn drain(inflight: &mut FuturesOrdered<Durable>, replies: &mut ReplyQueue) {
    let all = async {
        while let Some((txnrs, ok)) = inflight.next().await {
            resolve(replies, &txnrs, ok);
        }
    };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, all).await;
}

/// Writes the replies that may go out. False when the peer is gone.
async fn send<W: AsyncWrite + Unpin>(wr: &mut W, replies: &mut ReplyQueue) -> bool {
    let Some(out): Option<Bytes> = replies.take_ready() else {
        return true;
    };
    wr.write_all(&out).await.is_ok() && wr.flush().await.is_ok()
}

fn malformed(ctx: &InputContext, peer: SocketAddr, e: &dyn std::fmt::Display) {
    ctx.malformed(peer, "RELP", Malformed::CloseConnection, e);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};

    use super::*;
    use crate::testing::{PATIENCE, Rig};

    fn frame(txnr: usize, cmd: &str, data: &str) -> Vec<u8> {
        format!("{txnr} {cmd} {} {data}\n", data.len()).into_bytes()
    }

    /// Reads one reply frame: `TXNR rsp LEN DATA\n`; returns `TXNR rsp DATA`.
    async fn reply<R: AsyncRead + Unpin>(rd: &mut BufReader<R>) -> String {
        let mut head = Vec::new();
        for _ in 0..3 {
            rd.read_until(b' ', &mut head).await.unwrap();
        }
        let text = String::from_utf8(head).unwrap();
        let len: usize = text.split(' ').nth(2).unwrap().parse().unwrap();
        let mut data = vec![0u8; len + 1];
        rd.read_exact(&mut data).await.unwrap();
        assert_eq!(data.pop(), Some(b'\n'), "{text}");
        let parts: Vec<&str> = text.split(' ').collect();
        format!(
            "{} {} {}",
            parts[0],
            parts[1],
            String::from_utf8(data).unwrap()
        )
    }

    #[tokio::test]
    async fn reading_pauses_while_the_window_of_unanswered_messages_is_full() {
        const SENT: usize = 5_000;
        /// The duplex pipe's buffer: the most one read can bring in.
        const PIPE: usize = 16 * 1024;
        let mut rig = Rig::new("relp");
        let (client, server) = tokio::io::duplex(PIPE);
        let server = tokio::spawn(serve(server, rig.conn()));
        let (rd, mut wr) = tokio::io::split(client);
        let mut rd = BufReader::new(rd);
        let mut shortest = usize::MAX;
        let mut wire = vec![frame(
            1,
            "open",
            "relp_version=0\nrelp_software=test\ncommands=syslog",
        )];
        for i in 0..SENT {
            let f = frame(
                i + 2,
                "syslog",
                &format!("<13>Jan  1 00:00:00 host app: m{i}"),
            );
            shortest = shortest.min(f.len());
            wire.push(f);
        }
        let writer = tokio::spawn(async move {
            for f in wire {
                wr.write_all(&f).await?;
            }
            Ok::<_, std::io::Error>(wr)
        });
        let open = tokio::time::timeout(PATIENCE, reply(&mut rd))
            .await
            .unwrap();
        assert!(open.starts_with("1 rsp 200 OK"), "{open}");

        // Nothing is durable: the server reads until more than MAX_PENDING
        // messages wait for their answer, then stops.
        let mut written = rig.written(MAX_PENDING + 1).await;
        // A server ignoring the bound would keep reading (and could not
        // answer anything) meanwhile.
        let mut line = String::new();
        let early = tokio::time::timeout(Duration::from_millis(300), rd.read_line(&mut line)).await;
        assert!(early.is_err(), "answered before durability: {line:?}");
        written += rig.written_now();
        let one_read = PIPE / shortest + 1;
        assert!(
            written <= MAX_PENDING + one_read,
            "{written} messages read with at most {MAX_PENDING} allowed unanswered"
        );
        assert!(!writer.is_finished(), "the sender was never held back");

        // Durability resumes: every message is answered, in order, and the
        // rest is read.
        rig.open_gate();
        for i in 0..SENT {
            line.clear();
            tokio::time::timeout(PATIENCE, rd.read_line(&mut line))
                .await
                .expect("an answer in time")
                .unwrap();
            assert_eq!(line, format!("{} rsp 6 200 OK\n", i + 2));
        }
        let wr = tokio::time::timeout(PATIENCE, writer)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        written += rig.written(SENT - written).await;
        assert_eq!(written, SENT);
        drop((rd, wr));
        tokio::time::timeout(PATIENCE, server)
            .await
            .unwrap()
            .unwrap();
    }
}
