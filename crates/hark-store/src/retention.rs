//! Retention: deleting whole sealed splits by age and by total size.

use std::time::Duration;

use crate::index::{Catalog, SplitManifest, remove_dir};

/// How much the store keeps.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RetentionPolicy {
    /// Delete sealed splits whose newest event is older than this.
    pub max_age: Option<Duration>,
    /// Delete the oldest sealed splits while the index is bigger than this.
    pub max_disk: Option<u64>,
}

/// A split retention removed.
#[derive(Debug, Clone)]
pub(crate) struct Deleted {
    /// Its manifest.
    pub manifest: SplitManifest,
    /// Its size on disk.
    pub bytes: u64,
}

impl Deleted {
    fn report(&self, reason: &str) {
        let m = &self.manifest;
        let span = |ts: Option<i64>| ts.map(hark_event::format_rfc3339_nanos).unwrap_or_default();
        tracing::info!(
            split = %m.id,
            from = %span(m.min_ts),
            to = %span(m.max_ts),
            docs = m.docs,
            bytes = self.bytes,
            reason,
            "retention deleted split"
        );
    }
}

/// Applies `policy` at time `now` (ns). The active split is never deleted,
/// nor a sealed one whose writer is still finishing.
pub(crate) fn apply(catalog: &Catalog, policy: &RetentionPolicy, now: i64) -> Vec<Deleted> {
    let mut deleted = Vec::new();
    let splits = catalog.snapshot();
    let mut total: u64 = splits.iter().map(|s| s.refresh_bytes()).sum();
    let mut candidates: Vec<_> = splits
        .into_iter()
        .filter(|s| s.is_settled() && s.manifest().sealed)
        .collect();
    candidates.sort_by_key(|s| {
        let m = s.manifest();
        (m.max_ts.unwrap_or(i64::MIN), m.first_seq)
    });
    let cutoff = policy
        .max_age
        .map(|age| now.saturating_sub(i64::try_from(age.as_nanos()).unwrap_or(i64::MAX)));
    for s in candidates {
        let m = s.manifest();
        let too_old = cutoff.is_some_and(|c| m.max_ts.is_none_or(|max| max < c));
        let too_big = policy.max_disk.is_some_and(|limit| total > limit);
        if !too_old && !too_big {
            continue;
        }
        if catalog.remove(&s.id).is_none() {
            continue;
        }
        let bytes = s.bytes();
        remove_dir(&s.dir);
        total = total.saturating_sub(bytes);
        let d = Deleted { manifest: m, bytes };
        d.report(if too_old { "age" } else { "disk" });
        deleted.push(d);
    }
    deleted
}
