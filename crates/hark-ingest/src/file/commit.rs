//! The committer: applies the positions the follower sends once their
//! events are durable, and saves them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::checkpoint::{Checkpoints, FileKey, Mark};
use crate::batch::Pending;
use crate::telemetry;

/// Under load, positions are saved at least this often.
const SAVE_EVERY: Duration = Duration::from_millis(200);

/// What the follower sends the committer, in order.
pub(crate) enum Commit {
    /// Events appended; once durable, these positions are reached.
    Appended {
        /// Resolves when the events are durable.
        pending: Pending,
        /// Per file, the offset just past its last event in the batch.
        marks: Vec<Mark>,
    },
    /// Positions reached without events (a file started at its end, or
    /// truncated back to its start).
    Marks(Vec<Mark>),
    /// A file is closed for good or gone: forget it.
    Forget(FileKey),
}

/// Applies positions once their events are durable and saves them.
pub(crate) async fn commit(
    mut rx: mpsc::Receiver<Commit>,
    mut checkpoints: Checkpoints,
    input: Arc<str>,
) {
    // Once a batch failed to become durable, no later position may be
    // saved: it would skip the lost events on the next start.
    let mut broken = false;
    let mut saved_at = Instant::now();
    while let Some(c) = rx.recv().await {
        match c {
            Commit::Appended { pending, marks } => match pending.durable().await {
                Ok(_) if !broken => marks.into_iter().for_each(|m| checkpoints.set(m)),
                Ok(_) => {}
                Err(e) => {
                    if !broken {
                        tracing::warn!(
                            input = %input,
                            "events not durable ({e}); positions are no longer saved, the next start reads them again"
                        );
                    }
                    broken = true;
                }
            },
            Commit::Marks(marks) if !broken => marks.into_iter().for_each(|m| checkpoints.set(m)),
            Commit::Forget(key) if !broken => checkpoints.forget(&key),
            Commit::Marks(_) | Commit::Forget(_) => {}
        }
        // Under load several commits are waiting: save once for all of
        // them, but often enough to bound what a crash reads twice.
        if checkpoints.is_dirty() && (rx.is_empty() || saved_at.elapsed() >= SAVE_EVERY) {
            checkpoints = save(checkpoints, &input).await;
            saved_at = Instant::now();
        }
    }
    save(checkpoints, &input).await;
}

/// Saves on the blocking pool (the write is fsynced).
async fn save(checkpoints: Checkpoints, input: &str) -> Checkpoints {
    let saved = tokio::task::spawn_blocking(move || {
        let mut checkpoints = checkpoints;
        let r = checkpoints.save();
        (checkpoints, r)
    })
    .await;
    match saved {
        Ok((checkpoints, Ok(()))) => checkpoints,
        Ok((checkpoints, Err(e))) => {
            telemetry::file_error(input, "checkpoint");
            tracing::warn!(input = %input, "cannot save file positions: {e}");
            checkpoints
        }
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
