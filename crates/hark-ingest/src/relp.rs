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
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use hark_proto::relp::{Action, DEFAULT_MAX_DATA, RelpCodec, RelpSession, ReplyQueue, serverclose};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Decoder;

use crate::batch::{Batch, Submitted};
use crate::stream::{Conn, Handler, Io};
use crate::syslog_tcp::READ_CHUNK;
use crate::{InputContext, telemetry};

/// Most transactions read but not yet answered; reading pauses beyond this.
pub(crate) const MAX_PENDING: usize = 1024;
/// How long shutdown waits for appended events to become durable.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

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
                Submitted::Ticket(ticket) => inflight.push_back(Box::pin(async move {
                    let ok = ticket.wait().await.is_ok();
                    (txnrs, ok)
                })),
                Submitted::Closed => {
                    for t in &txnrs {
                        replies.mark_failed(*t, "storage unavailable");
                    }
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
                resolve(&mut replies, &txnrs, ok);
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

fn resolve(replies: &mut ReplyQueue, txnrs: &[u32], ok: bool) {
    for t in txnrs {
        if ok {
            replies.mark_durable(*t);
        } else {
            replies.mark_failed(*t, "storage unavailable");
        }
    }
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
    telemetry::malformed_frame(&ctx.name);
    if ctx.log_limit.allow(peer.ip()) {
        tracing::warn!(input = %ctx.name, %peer, "RELP protocol error, closing connection: {e}");
    }
}
