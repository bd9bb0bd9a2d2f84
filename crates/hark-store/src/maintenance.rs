//! Background upkeep: retention, then merging small sealed splits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::StoreError;
use crate::index::{compact_split, merge_splits, plan_merges};
use crate::retention::{self, RetentionPolicy};
use crate::state::Shared;
use crate::telemetry;

/// How often upkeep runs when nothing asks for it.
const PERIOD: Duration = Duration::from_secs(60);

/// What the maintenance thread is asked to do.
pub(crate) enum MaintenanceMsg {
    /// Run now (a split was just sealed).
    Tick,
    /// Exit.
    Stop,
}

/// Upkeep settings and state.
pub(crate) struct Maintenance {
    pub shared: Arc<Shared>,
    pub retention: RetentionPolicy,
    pub merge_max_docs: u64,
    pub merge_trigger: usize,
    /// Set when the store shuts down, to stop between merges.
    pub stopping: AtomicBool,
    /// Upkeep runs one at a time, whoever starts it.
    lock: Mutex<()>,
}

impl Maintenance {
    /// Upkeep for the splits in `shared`.
    pub fn new(
        shared: Arc<Shared>,
        retention: RetentionPolicy,
        merge_max_docs: u64,
        merge_trigger: usize,
    ) -> Self {
        Maintenance {
            shared,
            retention,
            merge_max_docs,
            merge_trigger,
            stopping: AtomicBool::new(false),
            lock: Mutex::new(()),
        }
    }

    /// Applies retention, merges small splits until none qualify, then
    /// compacts sealed splits still made of several segments.
    pub fn run_once(&self) -> Result<(), StoreError> {
        let _guard = match self.lock.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let catalog = &self.shared.catalog;
        retention::apply(catalog, &self.retention, hark_event::now_nanos());
        let mut result = Ok(());
        'merging: loop {
            let groups = plan_merges(&catalog.snapshot(), self.merge_max_docs, self.merge_trigger);
            if groups.is_empty() {
                break;
            }
            for group in groups {
                if self.stopping.load(Ordering::Relaxed) {
                    break 'merging;
                }
                if let Err(e) = merge_splits(catalog, &group) {
                    tracing::error!(error = %e, "merging splits failed");
                    result = Err(e);
                    break 'merging;
                }
            }
        }
        if result.is_ok() {
            for split in catalog.snapshot() {
                if self.stopping.load(Ordering::Relaxed) {
                    break;
                }
                if !(split.is_settled() && split.manifest().sealed) {
                    continue;
                }
                if let Err(e) = compact_split(&split) {
                    tracing::error!(split = %split.id, error = %e, "compacting a split failed");
                    result = Err(e);
                    break;
                }
            }
        }
        telemetry::set_index_size(catalog.len(), catalog.total_bytes());
        result
    }
}

/// The maintenance thread's body: run at start, on request, and every minute.
pub(crate) fn run_maintenance(m: Arc<Maintenance>, rx: Receiver<MaintenanceMsg>) {
    let mut timeout = Duration::ZERO;
    loop {
        match rx.recv_timeout(timeout) {
            Ok(MaintenanceMsg::Tick) | Err(RecvTimeoutError::Timeout) => {
                // Failures are logged inside; the next round retries.
                let _ = m.run_once();
            }
            Ok(MaintenanceMsg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
        timeout = PERIOD;
    }
}
