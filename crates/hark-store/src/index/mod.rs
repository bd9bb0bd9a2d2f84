//! The index: tantivy splits, their manifests, the indexer thread and merges.
//!
//! One *active* split receives documents and commits every
//! `commit_interval`, recording the last sequence number in the commit
//! payload. It is sealed (final commit, manifest `sealed: true`) when it
//! reaches `split_max_events` or `split_max_age`, and a new active split
//! starts. Sealed splits never change; maintenance merges small ones and
//! retention deletes old ones.

mod catalog;
mod document;
mod garbage;
mod indexer;
mod manifest;
mod merge;
mod schema;
mod split;
mod stored;

pub(crate) use catalog::{Catalog, open_catalog, remove_dir};
pub(crate) use document::{build_doc, to_v6};
pub(crate) use garbage::{collect_dead_files, has_dead_files};
pub(crate) use indexer::{IndexerConfig, IndexerCtx, IndexerMsg, run_indexer};
pub(crate) use manifest::SplitManifest;
pub(crate) use merge::{compact_split, merge_splits, needs_compaction, plan_merges};
pub(crate) use schema::{
    SchemaFields, USER_FIELDS, build_schema, ip_field_name, names, resolve_user_field,
};
#[cfg(test)]
pub(crate) use schema::{active_settings, build_schema_with, sealed_settings};
pub(crate) use split::{SplitHandle, create_split};
pub(crate) use stored::decode_stored;
