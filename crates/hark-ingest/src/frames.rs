//! The loop of stream inputs that turn frames into events and answer
//! nothing (syslog over TCP and TLS, GELF over TCP): read, frame, map,
//! batch, append, until EOF, a framing error, idleness or shutdown.

use bytes::BytesMut;
use hark_proto::Frame;
use tokio_util::codec::Decoder;

use crate::InputContext;
use crate::batch::{Batch, MAX_BATCH};
use crate::stream::{Conn, Io, READ_CHUNK, Read, read_more};
use crate::telemetry::{self, Malformed};

/// How one protocol frames a stream and maps a frame to an event.
pub(crate) trait FrameFormat: Clone + Send + Sync + 'static {
    /// The protocol's framer.
    type Framer: Decoder<Item = Frame, Error: std::fmt::Display> + Send;

    /// The protocol's name in logs.
    const PROTOCOL: &'static str;

    /// A framer for one connection.
    fn framer(&self, ctx: &InputContext) -> Self::Framer;

    /// Maps one frame from `source` into `batch`.
    fn push(&self, ctx: &InputContext, batch: &mut Batch, source: &str, frame: Frame);
}

/// Serves one connection of `format` to its end.
pub(crate) async fn serve<F: FrameFormat, S: Io>(format: &F, mut io: S, conn: Conn) {
    let ctx = &conn.ctx;
    let peer = conn.peer;
    let source = peer.to_string();
    let mut framer = format.framer(ctx);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut batch = Batch::new();
    loop {
        // Every complete frame in the buffer, appended in batches.
        loop {
            match framer.decode(&mut buf) {
                Ok(Some(frame)) => {
                    format.push(ctx, &mut batch, &source, frame);
                    if batch.len() >= MAX_BATCH && !batch.flush(ctx).await {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    ctx.malformed(peer, F::PROTOCOL, Malformed::CloseConnection, &e);
                    batch.flush(ctx).await;
                    return;
                }
            }
        }
        if !batch.flush(ctx).await {
            return;
        }
        match read_more(&mut io, &mut buf, &conn).await {
            Read::Data => {}
            Read::Eof => {
                // A last frame without its trailer still counts.
                match framer.decode_eof(&mut buf) {
                    Ok(Some(frame)) => format.push(ctx, &mut batch, &source, frame),
                    Ok(None) => {}
                    Err(e) => ctx.malformed(peer, F::PROTOCOL, Malformed::CloseConnection, &e),
                }
                batch.flush(ctx).await;
                return;
            }
            Read::Shutdown => {
                if !buf.is_empty() {
                    telemetry::dropped(&ctx.name, "shutdown", 1);
                }
                return;
            }
            Read::Gone => return,
        }
    }
}
