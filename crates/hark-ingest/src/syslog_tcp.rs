//! Syslog over TCP and TLS: RFC 6587 framing, detected per frame.

use hark_proto::{Frame, SyslogFramer};

use crate::InputContext;
use crate::batch::Batch;
use crate::frames::{self, FrameFormat};
use crate::stream::{Conn, Handler, Io};

/// Serves syslog stream connections.
#[derive(Clone)]
pub(crate) struct SyslogStream;

impl Handler for SyslogStream {
    async fn serve<S: Io>(&self, io: S, conn: Conn) {
        frames::serve(self, io, conn).await;
    }
}

impl FrameFormat for SyslogStream {
    type Framer = SyslogFramer;
    const PROTOCOL: &'static str = "syslog";

    fn framer(&self, ctx: &InputContext) -> SyslogFramer {
        SyslogFramer::new(ctx.max_message)
    }

    fn push(&self, ctx: &InputContext, batch: &mut Batch, source: &str, frame: Frame) {
        batch.push_syslog(ctx, source, &frame.bytes, frame.truncated);
    }
}
