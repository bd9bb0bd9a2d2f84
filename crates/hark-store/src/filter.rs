//! Filtering live events with the same query semantics as search.
//!
//! Each batch is indexed into a small in-memory index with the split schema
//! and the compiled query runs on it, so a live filter matches exactly what
//! a search for the same text would.

use hark_event::Event;
use tantivy::collector::DocSetCollector;
use tantivy::directory::RamDirectory;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Schema, Term};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

use crate::index::{SchemaFields, build_doc};
use crate::query::Compiled;

/// Memory budget of the per-batch index (tantivy's minimum).
const BATCH_INDEX_MEMORY: usize = 15_000_000;

/// A compiled query used to filter live events (the same syntax and meaning as [`crate::Store::search`]).
pub struct EventFilter {
    kind: Kind,
}

enum Kind {
    All,
    Query {
        query: Box<dyn Query>,
        /// Terms every match contains: a batch without one of them is
        /// skipped without running the query.
        required: Vec<Term>,
        schema: Schema,
        fields: SchemaFields,
    },
}

impl EventFilter {
    pub(crate) fn new(compiled: Compiled, schema: &Schema, fields: &SchemaFields) -> Self {
        let kind = match compiled {
            Compiled::All => Kind::All,
            Compiled::Query(query) => Kind::Query {
                required: required_terms(query.as_ref()),
                query,
                schema: schema.clone(),
                fields: fields.clone(),
            },
        };
        EventFilter { kind }
    }

    /// Indices into `events` of those that match.
    pub fn matching(&self, events: &[Event]) -> Vec<usize> {
        match &self.kind {
            Kind::All => (0..events.len()).collect(),
            Kind::Query { schema, fields, .. } => {
                if events.is_empty() {
                    return Vec::new();
                }
                match BatchIndex::build(schema, fields, events) {
                    Ok(batch) => self.matching_in(&batch),
                    Err(e) => {
                        tracing::warn!(error = %e, "live filter failed on a batch");
                        Vec::new()
                    }
                }
            }
        }
    }

    /// Indices of the events of an indexed batch that match: many filters
    /// can run on one [`BatchIndex`] (see [`crate::Store::index_batch`]).
    pub fn matching_in(&self, batch: &BatchIndex) -> Vec<usize> {
        match &self.kind {
            Kind::All => (0..batch.len).collect(),
            Kind::Query {
                query, required, ..
            } => {
                if !required.iter().all(|t| batch.has_term(t)) {
                    return Vec::new();
                }
                match batch.search(query.as_ref()) {
                    Ok(found) => found,
                    Err(e) => {
                        tracing::warn!(error = %e, "live filter failed on a batch");
                        Vec::new()
                    }
                }
            }
        }
    }

    /// How many terms a batch must contain for this filter to run on it.
    pub fn required_terms(&self) -> usize {
        match &self.kind {
            Kind::All => 0,
            Kind::Query { required, .. } => required.len(),
        }
    }
}

/// Terms every document matching `query` contains: those of its term and
/// phrase queries that must match, through nested boolean queries. Empty
/// when nothing is certain (alternatives, ranges, wildcards).
fn required_terms(query: &dyn Query) -> Vec<Term> {
    if let Some(t) = query.downcast_ref::<TermQuery>() {
        return vec![t.term().clone()];
    }
    if let Some(p) = query.downcast_ref::<PhraseQuery>() {
        return p.phrase_terms();
    }
    if let Some(b) = query.downcast_ref::<BooleanQuery>() {
        return b
            .clauses()
            .iter()
            .filter(|(occur, _)| *occur == Occur::Must)
            .flat_map(|(_, q)| required_terms(q.as_ref()))
            .collect();
    }
    Vec::new()
}

/// A batch of events indexed in memory with the split schema, for running
/// several filters on it.
pub struct BatchIndex {
    searcher: Option<tantivy::Searcher>,
    len: usize,
}

impl BatchIndex {
    pub(crate) fn build(
        schema: &Schema,
        fields: &SchemaFields,
        events: &[Event],
    ) -> tantivy::Result<BatchIndex> {
        if events.is_empty() {
            return Ok(BatchIndex {
                searcher: None,
                len: 0,
            });
        }
        let mut writer = Index::builder()
            .schema(schema.clone())
            .single_segment_index_writer::<TantivyDocument>(
                RamDirectory::create(),
                BATCH_INDEX_MEMORY,
            )?;
        for (i, ev) in events.iter().enumerate() {
            let doc = build_doc(fields, ev, i as u64, None)
                .map_err(tantivy::TantivyError::InternalError)?;
            writer.add_document(doc)?;
        }
        let index = writer.finalize()?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(BatchIndex {
            searcher: Some(reader.searcher()),
            len: events.len(),
        })
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no event.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether any event of the batch has `term`.
    fn has_term(&self, term: &Term) -> bool {
        let Some(searcher) = &self.searcher else {
            return false;
        };
        searcher.segment_readers().iter().any(|segment| {
            segment
                .inverted_index(term.field())
                .ok()
                .and_then(|index| index.terms().get(term.serialized_value_bytes()).ok())
                .flatten()
                .is_some()
        })
    }

    fn search(&self, query: &dyn Query) -> tantivy::Result<Vec<usize>> {
        let Some(searcher) = &self.searcher else {
            return Ok(Vec::new());
        };
        let docs = searcher.search(query, &DocSetCollector)?;
        // One segment, documents in insertion order: the doc id is the index.
        let mut found: Vec<usize> = docs.into_iter().map(|a| a.doc_id as usize).collect();
        found.sort_unstable();
        Ok(found)
    }
}
