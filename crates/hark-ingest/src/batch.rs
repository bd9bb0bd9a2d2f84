//! Turning received frames into events and handing them to the sink in batches.

use std::time::Duration;

use hark_event::sink::{Receipt, SinkError};
use hark_event::{Event, now_nanos};
use hark_proto::{ParseContext, parse_syslog};
use tokio_util::sync::CancellationToken;

use crate::{InputContext, telemetry};

impl InputContext {
    /// What a parser needs to know about a message from `source` received now.
    pub(crate) fn parse_context<'a>(&'a self, source: &'a str) -> ParseContext<'a> {
        ParseContext {
            received_at: now_nanos(),
            input: &self.name,
            source: Some(source),
            default_offset: self.offset,
        }
    }
}

/// Events gathered from one read, waiting to be appended together.
pub(crate) struct Batch {
    events: Vec<Event>,
    parse_errors: u64,
    truncated: u64,
}

/// How long an input that is shutting down still waits for its appended
/// events to become durable before it gives up and leaves them unacknowledged.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How many events one append carries at most.
pub(crate) const MAX_BATCH: usize = 1024;

impl Batch {
    pub fn new() -> Self {
        Batch {
            events: Vec::with_capacity(64),
            parse_errors: 0,
            truncated: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Decodes one syslog message and adds it.
    pub fn push_syslog(&mut self, ctx: &InputContext, source: &str, bytes: &[u8], truncated: bool) {
        let mut ev = parse_syslog(bytes, &ctx.parse_context(source));
        ev.truncated |= truncated;
        self.push_event(ctx, ev);
    }

    /// Adds an event decoded by a protocol's own mapper, after the input's
    /// parse stage.
    pub fn push_event(&mut self, ctx: &InputContext, mut ev: Event) {
        ctx.parse.apply(&mut ev);
        if ev.truncated {
            self.truncated += 1;
        }
        if ev.parse_error.is_some() {
            self.parse_errors += 1;
        }
        self.events.push(ev);
    }

    /// Appends the batch to the sink (awaiting queue space: back-pressure) and
    /// counts it. Returns false when the sink refused it (shutting down).
    pub async fn flush(&mut self, ctx: &InputContext) -> bool {
        !matches!(self.submit(ctx).await, Submitted::Refused(_))
    }

    /// Like [`Batch::flush`], keeping the receipt that says when the events are durable.
    pub async fn submit(&mut self, ctx: &InputContext) -> Submitted {
        if self.events.is_empty() {
            return Submitted::Empty;
        }
        let n = self.events.len() as u64;
        let events = std::mem::replace(&mut self.events, Vec::with_capacity(64));
        telemetry::received(&ctx.name, n);
        if self.parse_errors > 0 {
            telemetry::parse_errors(&ctx.name, self.parse_errors);
        }
        if self.truncated > 0 {
            telemetry::truncated(&ctx.name, self.truncated);
        }
        self.parse_errors = 0;
        self.truncated = 0;
        // Waiting for room is cancelled by shutdown: a sink that cannot
        // write (a full disk) would otherwise hold the input forever.
        let appended = tokio::select! {
            r = ctx.sink.append(events) => r,
            _ = ctx.shutdown.cancelled() => Err(SinkError::ShuttingDown),
        };
        match appended {
            Ok(receipt) => Submitted::Receipt(Pending {
                receipt,
                shutdown: ctx.shutdown.clone(),
            }),
            Err(e) => {
                telemetry::dropped(&ctx.name, "store_closed", n);
                tracing::warn!(input = %ctx.name, "store refused {n} events: {e}");
                Submitted::Refused(e)
            }
        }
    }
}

/// The outcome of [`Batch::submit`].
pub(crate) enum Submitted {
    /// Nothing to append.
    Empty,
    /// Appended; resolves once the events are durable.
    Receipt(Pending),
    /// The sink took nothing (it is shutting down); the events were dropped
    /// and counted, and nothing was acknowledged to their sender.
    Refused(SinkError),
}

/// An appended batch on its way to durability.
pub(crate) struct Pending {
    receipt: Receipt,
    shutdown: CancellationToken,
}

impl Pending {
    /// Waits until the events are durable. While storage cannot write (a
    /// full disk) this simply waits; an error means they will not become
    /// durable here (shutdown, a broken WAL): acknowledge nothing, so the
    /// sender keeps them.
    /// Once the input shuts down, this waits at most [`SHUTDOWN_GRACE`] more.
    pub async fn durable(self) -> Result<u64, SinkError> {
        let gave_up = async {
            self.shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            r = self.receipt.durable() => r,
            _ = gave_up => Err(SinkError::ShuttingDown),
        }
    }
}
