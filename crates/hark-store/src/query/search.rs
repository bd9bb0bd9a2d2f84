//! Running a search over the splits: prune by time, one pass per segment for
//! count, hits, histogram and top values, then merge.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Instant;

use tantivy::aggregation::intermediate_agg_result::IntermediateAggregationResults;
use tantivy::aggregation::{
    AggContextParams, AggregationLimitsGuard, DistributedAggregationCollector,
};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, ColumnIndex, ColumnValues};
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, RangeQuery, Weight};
use tantivy::schema::{Schema, Term};
use tantivy::{DateTime, DocAddress, DocId, Searcher, TantivyDocument};

use super::aggregate::{HistSpec, TopSpec};
use super::cursor::Cursor;
use super::parse::{Compiled, QueryCompiler};
use super::topk::{Hit, TopK, newest};
use crate::index::{SchemaFields, SplitHandle, names, stored_event};
use crate::state::Shared;
use crate::telemetry;
use crate::{QueryError, SearchRequest, SearchResponse};

/// Most hits one page may hold.
const MAX_LIMIT: usize = 10_000;

/// What a search needs from the store.
pub(crate) struct SearchEnv<'a> {
    pub shared: &'a Shared,
    pub compiler: &'a QueryCompiler,
    pub schema: &'a Schema,
    pub fields: &'a SchemaFields,
    pub threads: usize,
}

/// One segment to visit.
struct Task {
    split: u32,
    seg: u32,
    min_ts: i64,
    max_ts: i64,
    ts: Arc<dyn ColumnValues<DateTime>>,
}

/// What one worker gathered.
struct Partial<'a> {
    count: u64,
    top: TopK<'a>,
    hist: Vec<u64>,
    aggs: Vec<tantivy::Result<IntermediateAggregationResults>>,
}

fn internal(context: &str) -> impl FnOnce(tantivy::TantivyError) -> QueryError + '_ {
    move |e| QueryError::Internal(format!("{context}: {e}"))
}

/// Runs `req`.
pub(crate) fn search(
    env: &SearchEnv<'_>,
    req: &SearchRequest,
) -> Result<SearchResponse, QueryError> {
    let started = Instant::now();
    let limit = req.limit.clamp(1, MAX_LIMIT);
    let cursor = req.cursor.as_deref().map(Cursor::decode).transpose()?;
    let compiled = env.compiler.compile(&req.query)?;
    let top_spec = TopSpec::new(env.schema, &req.top, req.top_size)?;
    let (from, to) = (req.from, req.to);
    let empty_range = matches!((from, to), (Some(f), Some(t)) if f >= t);

    let splits: Vec<Arc<SplitHandle>> = if empty_range {
        Vec::new()
    } else {
        env.shared
            .catalog
            .snapshot()
            .into_iter()
            .filter(|s| s.manifest().overlaps(from, to))
            .collect()
    };
    let now = hark_event::now_nanos();
    let hist = match req.histogram {
        Some(interval) => {
            let oldest = splits.iter().filter_map(|s| s.manifest().min_ts).min();
            let hfrom = from.or(oldest).unwrap_or(now);
            Some(HistSpec::new(hfrom, to.unwrap_or(now), interval)?)
        }
        None => None,
    };
    let query = with_time_range(compiled, env.fields, from, to);

    let searchers: Vec<Searcher> = splits.iter().map(|s| s.reader.searcher()).collect();
    let mut weights: Vec<Box<dyn Weight>> = Vec::with_capacity(searchers.len());
    let mut tasks = Vec::new();
    for (si, searcher) in searchers.iter().enumerate() {
        weights.push(
            query
                .weight(EnableScoring::disabled_from_searcher(searcher))
                .map_err(internal("preparing the query"))?,
        );
        for (ord, seg) in searcher.segment_readers().iter().enumerate() {
            if seg.num_docs() == 0 {
                continue;
            }
            let col: Column<DateTime> = seg
                .fast_fields()
                .date(names::TS)
                .map_err(internal("reading timestamps"))?;
            tasks.push(Task {
                split: si as u32,
                seg: ord as u32,
                min_ts: col.min_value().into_timestamp_nanos(),
                max_ts: col.max_value().into_timestamp_nanos(),
                ts: doc_values(col, DateTime::MIN),
            });
        }
    }
    // Newest segments first: their hits raise the bar the older ones must pass.
    tasks.sort_by_key(|t| std::cmp::Reverse(t.max_ts));

    let aggs = top_spec.as_ref().map(TopSpec::aggregations).transpose()?;
    let agg_collector = aggs
        .clone()
        .map(|a| DistributedAggregationCollector::from_aggs(a, AggContextParams::default()));
    let shared_floor = AtomicI64::new(i64::MIN);
    let run = Run {
        tasks: &tasks,
        next: AtomicUsize::new(0),
        searchers: &searchers,
        weights: &weights,
        hist: hist.as_ref(),
        aggs: agg_collector.as_ref(),
        k: limit + 1,
        cursor,
        shared_floor: &shared_floor,
    };
    let workers = env.threads.clamp(1, 16).min(tasks.len()).max(1);
    let partials: Vec<Result<Partial<'_>, QueryError>> = if workers == 1 {
        vec![run.work()]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers).map(|_| s.spawn(|| run.work())).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(QueryError::Internal("a search thread panicked".into()))
                    })
                })
                .collect()
        })
    };

    let mut total = 0u64;
    let mut candidates = Vec::new();
    let mut hist_counts = vec![0u64; hist.map_or(0, |h| h.buckets)];
    let mut agg_fruits = Vec::new();
    for p in partials {
        let p = p?;
        total += p.count;
        candidates.extend(p.top.into_hits());
        for (acc, n) in hist_counts.iter_mut().zip(&p.hist) {
            *acc += n;
        }
        agg_fruits.extend(p.aggs);
    }
    let mut ordered = newest(candidates, limit + 1);
    let more = ordered.len() > limit;
    ordered.truncate(limit);
    let hits = fetch(&searchers, env.fields, &ordered)?;
    let next = if more {
        ordered.last().map(|h| {
            Cursor {
                ts: h.ts,
                seq: h.seq,
            }
            .encode()
        })
    } else {
        None
    };
    let top = match (top_spec, aggs) {
        (Some(spec), Some(aggs)) => {
            let mut merged = IntermediateAggregationResults::default();
            for fruit in agg_fruits {
                merged
                    .merge_fruits(fruit.map_err(internal("computing top values"))?)
                    .map_err(internal("merging top values"))?;
            }
            let results = merged
                .into_final_result(aggs, AggregationLimitsGuard::default())
                .map_err(internal("computing top values"))?;
            spec.extract(results)
        }
        _ => Default::default(),
    };
    let took = started.elapsed();
    telemetry::query_duration(took.as_secs_f64());
    Ok(SearchResponse {
        total,
        hits,
        next,
        histogram: hist.map(|h| h.to_buckets(&hist_counts)),
        top,
        took_ms: took.as_millis() as u64,
    })
}

/// The user's query restricted to `[from, to)` on the event timestamp.
fn with_time_range(
    compiled: Compiled,
    fields: &SchemaFields,
    from: Option<i64>,
    to: Option<i64>,
) -> Box<dyn Query> {
    if from.is_none() && to.is_none() {
        return compiled.into_query();
    }
    let term = |ns: i64| Term::from_field_date(fields.ts, DateTime::from_timestamp_nanos(ns));
    let range: Box<dyn Query> = Box::new(RangeQuery::new(
        from.map_or(Bound::Unbounded, |f| Bound::Included(term(f))),
        to.map_or(Bound::Unbounded, |t| Bound::Excluded(term(t))),
    ));
    match compiled {
        Compiled::All => range,
        Compiled::Query(q) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, q),
            (Occur::Must, range),
        ])),
    }
}

/// Values of a single-valued column by document id.
fn doc_values<T>(col: Column<T>, default: T) -> Arc<dyn ColumnValues<T>>
where
    T: PartialOrd + Copy + std::fmt::Debug + Send + Sync + 'static,
{
    if matches!(col.index, ColumnIndex::Full) {
        col.values
    } else {
        col.first_or_default_col(default)
    }
}

/// The shared state of one search's workers.
struct Run<'a> {
    tasks: &'a [Task],
    next: AtomicUsize,
    searchers: &'a [Searcher],
    weights: &'a [Box<dyn Weight>],
    hist: Option<&'a HistSpec>,
    aggs: Option<&'a DistributedAggregationCollector>,
    k: usize,
    cursor: Option<Cursor>,
    shared_floor: &'a AtomicI64,
}

impl<'a> Run<'a> {
    /// Takes segments until none are left.
    fn work(&self) -> Result<Partial<'a>, QueryError> {
        let mut p = Partial {
            count: 0,
            top: TopK::new(self.k, self.cursor, self.shared_floor),
            hist: vec![0; self.hist.map_or(0, |h| h.buckets)],
            aggs: Vec::new(),
        };
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(task) = self.tasks.get(i) else {
                return Ok(p);
            };
            self.visit(task, &mut p)?;
        }
    }

    fn visit(&self, task: &Task, p: &mut Partial<'a>) -> Result<(), QueryError> {
        let reader = self.searchers[task.split as usize].segment_reader(task.seg);
        let weight = &self.weights[task.split as usize];
        let wants_hits = p.top.may_take(task.min_ts, task.max_ts);
        if !wants_hits && self.hist.is_none() && self.aggs.is_none() {
            p.count += u64::from(weight.count(reader).map_err(internal("counting"))?);
            return Ok(());
        }
        let seq: Arc<dyn ColumnValues<u64>> = doc_values(
            reader
                .fast_fields()
                .u64(names::SEQ)
                .map_err(internal("reading sequence numbers"))?,
            0,
        );
        let mut agg = match self.aggs {
            Some(c) => Some(
                c.for_segment(task.seg, reader)
                    .map_err(internal("computing top values"))?,
            ),
            None => None,
        };
        let alive = reader.alive_bitset();
        let mut live_docs: Vec<DocId> = Vec::new();
        let mut ts_buf = [DateTime::MIN; tantivy::COLLECT_BLOCK_BUFFER_LEN];
        let mut count = 0u64;
        let (split, seg) = (task.split, task.seg);
        weight
            .for_each_no_score(reader, &mut |docs: &[DocId]| {
                let docs = match alive {
                    Some(bits) => {
                        live_docs.clear();
                        live_docs.extend(docs.iter().copied().filter(|d| bits.is_alive(*d)));
                        &live_docs[..]
                    }
                    None => docs,
                };
                count += docs.len() as u64;
                for chunk in docs.chunks(ts_buf.len()) {
                    let ts = &mut ts_buf[..chunk.len()];
                    task.ts.get_vals(chunk, ts);
                    if let Some(h) = self.hist {
                        for t in ts.iter() {
                            if let Some(b) = h.bucket(t.into_timestamp_nanos()) {
                                p.hist[b] += 1;
                            }
                        }
                    }
                    if wants_hits {
                        let min_ts = p.top.min_useful_ts();
                        for (doc, t) in chunk.iter().zip(ts.iter()) {
                            p.top.offer(
                                t.into_timestamp_nanos(),
                                min_ts,
                                || seq.get_val(*doc),
                                split,
                                seg,
                                *doc,
                            );
                        }
                    }
                }
                if let Some(a) = agg.as_mut() {
                    a.collect_block(docs);
                }
            })
            .map_err(internal("running the query"))?;
        p.count += count;
        if let Some(a) = agg {
            p.aggs.push(a.harvest());
        }
        Ok(())
    }
}

/// Loads the events of `hits`.
fn fetch(
    searchers: &[Searcher],
    fields: &SchemaFields,
    hits: &[Hit],
) -> Result<Vec<hark_event::Event>, QueryError> {
    hits.iter()
        .map(|h| {
            let doc: TantivyDocument = searchers[h.split as usize]
                .doc(DocAddress::new(h.seg, h.doc))
                .map_err(internal("loading a hit"))?;
            stored_event(fields, &doc).map_err(QueryError::Internal)
        })
        .collect()
}
