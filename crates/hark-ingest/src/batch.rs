//! Turning received frames into events and handing them to the store in batches.

use hark_event::{Event, now_nanos};
use hark_proto::{ParseContext, parse_syslog};

use crate::{InputContext, telemetry};

/// Events gathered from one read, waiting to be appended together.
pub(crate) struct Batch {
    events: Vec<Event>,
    parse_errors: u64,
    truncated: u64,
}

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

    /// Parses one syslog message and adds it.
    pub fn push_syslog(&mut self, ctx: &InputContext, source: &str, bytes: &[u8], truncated: bool) {
        let pctx = ParseContext {
            received_at: now_nanos(),
            input: &ctx.name,
            source: Some(source),
            default_offset: ctx.offset,
        };
        let mut ev = parse_syslog(bytes, &pctx);
        if truncated {
            ev.truncated = true;
            self.truncated += 1;
        }
        if ev.parse_error.is_some() {
            self.parse_errors += 1;
        }
        self.events.push(ev);
    }

    /// Adds an event built by a protocol's own mapper.
    pub fn push_event(&mut self, ev: Event) {
        if ev.truncated {
            self.truncated += 1;
        }
        if ev.parse_error.is_some() {
            self.parse_errors += 1;
        }
        self.events.push(ev);
    }

    /// Appends the batch to the store (awaiting queue space: back-pressure) and
    /// counts it. Returns false when the store is closed.
    pub async fn flush(&mut self, ctx: &InputContext) -> bool {
        !matches!(self.submit(ctx).await, Submitted::Closed)
    }

    /// Like [`Batch::flush`], keeping the ticket that says when the events are durable.
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
        match ctx.store.append(events).await {
            Ok(ticket) => Submitted::Ticket(Pending {
                ticket,
                #[cfg(test)]
                gate: ctx.durability_gate.clone(),
            }),
            Err(e) => {
                telemetry::dropped(&ctx.name, "store_closed", n);
                tracing::warn!(input = %ctx.name, "store refused {n} events: {e}");
                Submitted::Closed
            }
        }
    }
}

/// The outcome of [`Batch::submit`].
pub(crate) enum Submitted {
    /// Nothing to append.
    Empty,
    /// Appended; resolves once the events are durable.
    Ticket(Pending),
    /// The store is closed; the events were dropped and counted.
    Closed,
}

/// An appended batch on its way to durability.
pub(crate) struct Pending {
    ticket: hark_store::Ticket,
    /// Tests only: stands in for a slow disk; durability is reported once it opens.
    #[cfg(test)]
    gate: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Pending {
    /// Waits until the events are durable: true, or false when the store
    /// could not make them so (closed or failing).
    pub async fn durable(self) -> bool {
        #[cfg(test)]
        if let Some(mut gate) = self.gate {
            let _ = gate.wait_for(|open| *open).await;
        }
        self.ticket.wait().await.is_ok()
    }
}
