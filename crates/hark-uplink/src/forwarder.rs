//! The running forwarder's own bookkeeping: events counted per input on
//! their way into the buffer, and the health report sent every
//! [`REPORT_INTERVAL`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hark_event::Event;
use hark_event::sink::{AppendFuture, EventSink, Health};
use hark_output::Statuses;
use hark_store::Store;
use tokio_util::sync::CancellationToken;

use crate::client::HealthSender;
use crate::fleet::{HealthReport, InputHealth, REPORT_INTERVAL};

/// An [`EventSink`] that counts events per input, then hands them to the buffer.
pub struct CountingSink {
    store: Store,
    counts: Mutex<BTreeMap<String, u64>>,
}

impl CountingSink {
    /// Counts what goes into `store`.
    pub fn new(store: Store) -> CountingSink {
        CountingSink {
            store,
            counts: Mutex::default(),
        }
    }

    /// Events received per input so far.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl EventSink for CountingSink {
    fn append(&self, events: Vec<Event>) -> AppendFuture<'_> {
        {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            for ev in &events {
                match counts.get_mut(&ev.input) {
                    Some(n) => *n += 1,
                    None => {
                        counts.insert(ev.input.clone(), 1);
                    }
                }
            }
        }
        EventSink::append(&self.store, events)
    }

    fn health(&self) -> Health {
        EventSink::health(&self.store)
    }
}

/// What a health report is made from.
pub struct HealthSources {
    /// The buffer.
    pub store: Store,
    /// The WAL reader the uplink follows.
    pub reader: String,
    /// The inputs' counts.
    pub sink: Arc<CountingSink>,
    /// The uplink's status (delivered, last error, lag).
    pub statuses: Statuses,
    /// SHA-256 prefix of the configuration file.
    pub config_version: String,
    /// Version of the group configuration applied; empty when none.
    pub group_config_version: Arc<Mutex<String>>,
    /// Notified when the center's answer names another group configuration version.
    pub group_config_changed: Arc<tokio::sync::Notify>,
}

impl HealthSources {
    fn report(
        &self,
        started: Instant,
        previous: &BTreeMap<String, u64>,
        secs: f64,
    ) -> HealthReport {
        let (buffer_max, overflow) = match self.store.wal_caps() {
            (_, _, Some(cap)) => (cap, "block"),
            (Some(cap), hark_store::LaggingReader::DropOldest, None) => (cap, "drop_oldest"),
            _ => (0, ""),
        };
        let status = self
            .statuses
            .snapshot()
            .remove(&self.reader)
            .unwrap_or_default();
        let mut drops = hark_ingest::telemetry::drops_by_input();
        let mut inputs: BTreeMap<String, InputHealth> = self
            .sink
            .counts()
            .into_iter()
            .map(|(name, events)| {
                let before = previous.get(&name).copied().unwrap_or(0);
                let rate = events.saturating_sub(before) as f64 / secs.max(0.001);
                let drops = drops.remove(&name).unwrap_or(0);
                (
                    name,
                    InputHealth {
                        events,
                        rate,
                        drops,
                    },
                )
            })
            .collect();
        // An input that lost everything it was sent has no count yet.
        for (name, drops) in drops {
            inputs.insert(
                name,
                InputHealth {
                    drops,
                    ..InputHealth::default()
                },
            );
        }
        HealthReport {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            config_version: self.config_version.clone(),
            group_config_version: self
                .group_config_version
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            uptime_seconds: started.elapsed().as_secs(),
            buffer_events: status.lag_events,
            buffer_bytes: self.store.stats().wal_bytes,
            buffer_max,
            overflow: overflow.to_owned(),
            oldest_event_age_seconds: 0.0,
            inputs,
            dropped: self.store.wal_reader_dropped(&self.reader),
            delivered: status.delivered,
            last_error: status.last_error,
        }
    }
}

/// Sends a report now and every [`REPORT_INTERVAL`] until `shutdown`; a
/// failed report is logged at debug level (the uplink's own errors say more).
pub async fn report_health(
    sources: HealthSources,
    sender: HealthSender,
    shutdown: CancellationToken,
) {
    let started = Instant::now();
    let mut previous = BTreeMap::new();
    let mut last = Instant::now();
    loop {
        let secs = last.elapsed().as_secs_f64();
        last = Instant::now();
        let mut report = sources.report(started, &previous, secs);
        report.oldest_event_age_seconds = sender.oldest_pending_age();
        previous = report
            .inputs
            .iter()
            .map(|(k, v)| (k.clone(), v.events))
            .collect();
        match sender.send(&report).await {
            Ok(answer) if answer.group_config_version != report.group_config_version => {
                sources.group_config_changed.notify_one();
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "could not send a health report"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(REPORT_INTERVAL) => {}
        }
    }
}
