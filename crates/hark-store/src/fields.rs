//! The field names present in a time range: the fixed names of every
//! event, and those inside `fields`, read from the index's metadata (the
//! fast-field columns each segment holds) without visiting any event.

use std::collections::BTreeSet;

use crate::QueryError;
use crate::index::{USER_FIELDS, names};
use crate::state::Shared;

/// The fixed names and the names inside `fields` of the events in splits
/// that may hold events in `[from, to)`, sorted. A split is taken whole:
/// names of its events just outside the range count too.
pub(crate) fn field_names(
    shared: &Shared,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<String>, QueryError> {
    let prefix = format!("{}.", names::FIELDS);
    let mut found: BTreeSet<String> = USER_FIELDS
        .iter()
        .map(|(user, _)| (*user).to_owned())
        .filter(|name| name != names::FIELDS)
        .collect();
    for split in shared.catalog.snapshot() {
        if !split.manifest().overlaps(from, to) {
            continue;
        }
        let (searcher, _lease) = split.searcher();
        for seg in searcher.segment_readers() {
            if seg.num_docs() == 0 {
                continue;
            }
            let usage = seg
                .space_usage()
                .map_err(|e| QueryError::Internal(format!("reading field names: {e}")))?;
            for field in usage.fast_fields().fields() {
                if let Some(name) = field.field_name().strip_prefix(&prefix) {
                    found.insert(name.to_owned());
                }
            }
        }
    }
    Ok(found.into_iter().collect())
}
