//! The delivery loop every output runs (see `docs/internals/outputs.md`).
//!
//! The invariant: the reader's cursor passes an event only after the
//! destination took it or the query left it out. So after a crash or a
//! restart the output goes on from the first event not known delivered;
//! what was in flight when it stopped is offered again (at least once).

use std::sync::Arc;
use std::time::Duration;

use hark_event::Event;
use hark_store::{EventFilter, StoreError, WalBatch, WalReader};
use tokio_util::sync::CancellationToken;

use crate::{Backoff, Destination, Reporter};

/// Most events handed to [`Destination::deliver`] at once.
pub const MAX_CHUNK: usize = 500;
/// The first wait after a failed attempt.
const RETRY_FIRST: Duration = Duration::from_millis(250);
/// The longest wait between attempts.
const RETRY_CAP: Duration = Duration::from_secs(10);

/// Follows `reader` until `shutdown`: selects events with `filter` (all
/// when `None`), hands them to `destination` in order, retries each
/// failed delivery with backoff (forever: an event is never skipped), and
/// commits the cursor past what was delivered. Stops, reported, when the
/// reader is detached for lagging beyond the WAL cap.
pub async fn run<D: Destination>(
    mut reader: WalReader,
    filter: Option<Arc<EventFilter>>,
    mut destination: D,
    shutdown: CancellationToken,
    report: Reporter,
) {
    report.started();
    report.lag(reader.lag());
    let mut backoff = Backoff::new(RETRY_FIRST, RETRY_CAP);
    let mut output = Output {
        reader: &mut reader,
        report: &report,
        backoff: &mut backoff,
        shutdown: &shutdown,
    };
    let end = output.follow(filter, &mut destination).await;
    destination.close().await;
    match end {
        End::Shutdown => report.stopped(),
        End::Detached(why) => {
            tracing::error!(
                output = report.name(),
                "{why}; the output stopped (re-attach it with `hark outputs reattach {}`)",
                report.name()
            );
            report.detached(&why);
        }
    }
}

/// Why the loop ended.
enum End {
    /// Shutdown was asked for (or the store closed).
    Shutdown,
    /// The reader was detached; the text says so.
    Detached(String),
}

struct Output<'a> {
    reader: &'a mut WalReader,
    report: &'a Reporter,
    backoff: &'a mut Backoff,
    shutdown: &'a CancellationToken,
}

impl Output<'_> {
    async fn follow<D: Destination>(
        &mut self,
        filter: Option<Arc<EventFilter>>,
        destination: &mut D,
    ) -> End {
        loop {
            let batch = tokio::select! {
                _ = self.shutdown.cancelled() => return End::Shutdown,
                batch = self.reader.next_batch() => batch,
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(StoreError::Closed) => return End::Shutdown,
                Err(e @ StoreError::ReaderDetached { .. }) => return End::Detached(e.to_string()),
                Err(e) => {
                    let why = format!("reading the WAL failed: {e}");
                    tracing::warn!(output = self.report.name(), "{why}; retrying");
                    self.report.failed(&why);
                    if !self.pause().await {
                        return End::Shutdown;
                    }
                    continue;
                }
            };
            // Asked each time: a destination may change it while it runs.
            let chunk_len = destination.max_chunk().max(1);
            let batches = self.gather(batch, chunk_len).await;
            let mut selected = Vec::new();
            for (b, batch) in batches.iter().enumerate() {
                let Some(picked) = select(&filter, batch).await else {
                    return End::Shutdown;
                };
                self.report.filtered(batch.events.len() - picked.len());
                selected.extend(picked.into_iter().map(|i| (b, i)));
            }
            for chunk in selected.chunks(chunk_len) {
                let events: Vec<Event> = chunk
                    .iter()
                    .map(|&(b, i)| batches[b].events[i].clone())
                    .collect();
                let seqs: Vec<u64> = chunk
                    .iter()
                    .map(|&(b, i)| batches[b].first_seq + i as u64)
                    .collect();
                if let Some(end) = self.deliver(destination, &events, &seqs).await {
                    return end;
                }
            }
            if let Some(last) = batches.last()
                && let Some(end) = self.commit(last.last_seq())
            {
                return end;
            }
        }
    }

    /// `first` and the batches already in the WAL after it, up to about
    /// `want` events: a destination that waits for an answer per delivery
    /// sends fewer, larger ones. Only reads that need not wait are made, so
    /// no read is ever given up on; a failed one ends the gathering, and the
    /// next read meets the failure again.
    async fn gather(&mut self, first: WalBatch, want: usize) -> Vec<WalBatch> {
        let mut count = first.events.len();
        let mut batches = vec![first];
        while count < want && self.reader.has_more() {
            match self.reader.next_batch().await {
                Ok(batch) => {
                    count += batch.events.len();
                    batches.push(batch);
                }
                Err(_) => break,
            }
        }
        batches
    }

    /// Delivers `events` (at WAL positions `seqs`) until all are taken,
    /// committing as they are; `Some` when the loop must end.
    async fn deliver<D: Destination>(
        &mut self,
        destination: &mut D,
        events: &[Event],
        seqs: &[u64],
    ) -> Option<End> {
        let mut done = 0;
        while done < events.len() {
            let attempt = tokio::select! {
                _ = self.shutdown.cancelled() => return Some(End::Shutdown),
                r = destination.deliver_numbered(&events[done..], &seqs[done..]) => r,
            };
            match attempt {
                Ok(()) => {
                    self.report.delivered(events.len() - done);
                    self.backoff.reset();
                    done = events.len();
                }
                Err(e) => {
                    let taken = e.delivered.min(events.len() - done);
                    self.report.delivered(taken);
                    done += taken;
                    if taken > 0 {
                        if let Some(end) = self.commit(seqs[done - 1]) {
                            return Some(end);
                        }
                        self.backoff.reset();
                    }
                    let why = e.to_string();
                    // Retrying what the WAL no longer keeps for this output
                    // would hide that it was detached.
                    if self.reader.is_detached() {
                        return Some(End::Detached(format!(
                            "WAL reader `{}` was detached for lagging beyond wal_max_retained while its destination failed ({why})",
                            self.reader.name()
                        )));
                    }
                    tracing::warn!(
                        output = self.report.name(),
                        delivered = taken,
                        "{why}; retrying"
                    );
                    self.report.failed(&why);
                    self.report.lag(self.reader.lag());
                    if !self.pause().await {
                        return Some(End::Shutdown);
                    }
                }
            }
        }
        if let Some(&last) = seqs.last() {
            return self.commit(last);
        }
        None
    }

    /// Commits the cursor up to `seq`; `Some` when the loop must end.
    fn commit(&mut self, seq: u64) -> Option<End> {
        match self.reader.commit(seq) {
            Ok(()) => {}
            Err(e @ StoreError::ReaderDetached { .. }) => {
                return Some(End::Detached(e.to_string()));
            }
            // Delivered anyway: a restart before the next commit sends it again.
            Err(e) => {
                tracing::warn!(output = self.report.name(), error = %e, "committing the output's WAL position failed")
            }
        }
        self.report.lag(self.reader.lag());
        None
    }

    /// Waits the next backoff; false when shutdown came first.
    async fn pause(&mut self) -> bool {
        let wait = self.backoff.next_wait();
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = tokio::time::sleep(wait) => true,
        }
    }
}

/// Indices of the events of `batch` that `filter` selects (all without
/// one); `None` when the blocking task could not run (shutdown).
async fn select(filter: &Option<Arc<EventFilter>>, batch: &WalBatch) -> Option<Vec<usize>> {
    let Some(filter) = filter else {
        return Some((0..batch.events.len()).collect());
    };
    let filter = filter.clone();
    let events = batch.events.clone();
    tokio::task::spawn_blocking(move || filter.matching(&events))
        .await
        .ok()
}
