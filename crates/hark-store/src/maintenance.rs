//! Background upkeep: retention, then merging small sealed splits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::StoreError;
use crate::index::{
    Catalog, SplitHandle, collect_dead_files, compact_split, has_dead_files, merge_splits,
    needs_compaction, plan_merges,
};
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
        telemetry::register_compaction_metrics();
        Maintenance {
            shared,
            retention,
            merge_max_docs,
            merge_trigger,
            stopping: AtomicBool::new(false),
            lock: Mutex::new(()),
        }
    }

    /// Keeps every maintenance round waiting until the guard is dropped.
    #[cfg(test)]
    pub(crate) fn hold(&self) -> std::sync::MutexGuard<'_, ()> {
        match self.lock.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Applies retention, merges small splits until none qualify, compacts
    /// sealed splits still made of several segments, then removes the files
    /// of segments no settled split uses any more.
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
            report_awaiting_compaction(catalog);
            for split in catalog.snapshot() {
                if self.stopping.load(Ordering::Relaxed) {
                    break;
                }
                if !is_final(&split) {
                    continue;
                }
                match compact_split(&split) {
                    Ok(true) => report_awaiting_compaction(catalog),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(split = %split.id, error = %e, "compacting a split failed");
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        for split in catalog.snapshot() {
            if self.stopping.load(Ordering::Relaxed) {
                break;
            }
            if !is_final(&split) {
                continue;
            }
            // Files a search still held during an earlier round go now.
            let dead = has_dead_files(&split).and_then(|dead| {
                if dead {
                    collect_dead_files(&split)?;
                }
                Ok(())
            });
            if let Err(e) = dead {
                tracing::warn!(split = %split.id, error = %e, "could not remove the files of merged segments");
            }
        }
        report_awaiting_compaction(catalog);
        telemetry::set_index_size(catalog.len(), catalog.total_bytes());
        result
    }
}

/// Whether no writer can change `split` any more.
fn is_final(split: &SplitHandle) -> bool {
    split.is_settled() && split.manifest().sealed
}

/// Sets the gauge of sealed splits still to compact (a sealed split whose
/// writer is finishing counts: compaction follows once it has).
pub(crate) fn report_awaiting_compaction(catalog: &Catalog) {
    let awaiting = catalog
        .snapshot()
        .iter()
        .filter(|s| s.manifest().sealed && needs_compaction(s).unwrap_or(false))
        .count();
    telemetry::set_splits_awaiting_compaction(awaiting);
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
