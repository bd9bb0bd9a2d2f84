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
use tantivy::schema::document::Value;
use tantivy::schema::{Schema, Term};
use tantivy::{DateTime, DocAddress, DocId, DocSet, Searcher, SegmentReader, TantivyDocument};

use super::aggregate::{HistSpec, TopSpec};
use super::cursor::Cursor;
use super::parse::{Compiled, QueryCompiler};
use super::topk::{Hit, TopK, newest};
use crate::index::{SchemaFields, SplitHandle, decode_stored, names};
use crate::state::Shared;
use crate::telemetry;
use crate::{Order, QueryError, SearchRequest, SearchResponse};

/// Most hits one page may hold.
const MAX_LIMIT: usize = 10_000;
/// Documents per unit of work when every matching document is visited.
#[cfg(not(test))]
const RANGE_DOCS: u32 = 1 << 18;
/// Tiny in tests, so that their small segments are cut into ranges too.
#[cfg(test)]
const RANGE_DOCS: u32 = 7;

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
    /// Documents `lo..hi` of the segment.
    lo: DocId,
    hi: DocId,
    /// Whether this is the whole segment.
    whole: bool,
    /// Timestamp range of the segment.
    min_ts: i64,
    max_ts: i64,
    ts: TimeColumn,
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

/// How hit keys are ranked. The selection keeps the greatest `(ts, seq)`
/// keys; for oldest-first results both halves are flipped bitwise (`!x`),
/// which reverses their order, so the same selection picks the oldest.
/// Flipping is its own inverse, so the same functions map back.
#[derive(Debug, Clone, Copy)]
struct Ranking {
    flip: bool,
}

impl Ranking {
    fn new(order: Order) -> Ranking {
        Ranking {
            flip: order == Order::Asc,
        }
    }

    #[inline]
    fn ts(self, ts: i64) -> i64 {
        if self.flip { !ts } else { ts }
    }

    #[inline]
    fn seq(self, seq: u64) -> u64 {
        if self.flip { !seq } else { seq }
    }

    /// The ranked form of a time range `[min, max]`, as `(min, max)`.
    fn range(self, min: i64, max: i64) -> (i64, i64) {
        if self.flip { (!max, !min) } else { (min, max) }
    }
}

/// Runs `req`.
pub(crate) fn search(
    env: &SearchEnv<'_>,
    req: &SearchRequest,
) -> Result<SearchResponse, QueryError> {
    search_until(env, req, None)
}

/// Runs `req`, taking hits only among events with sequence numbers up to
/// `until_seq` (the total and aggregations still count every match).
pub(crate) fn search_until(
    env: &SearchEnv<'_>,
    req: &SearchRequest,
    until_seq: Option<u64>,
) -> Result<SearchResponse, QueryError> {
    let started = Instant::now();
    let limit = req.limit.clamp(1, MAX_LIMIT);
    let ranking = Ranking::new(req.order);
    let cursor = req
        .cursor
        .as_deref()
        .map(Cursor::decode)
        .transpose()?
        .map(|c| Cursor {
            ts: ranking.ts(c.ts),
            seq: ranking.seq(c.seq),
        });
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

    // The leases keep the searchers' files on disk until the search is done.
    let (searchers, _leases): (Vec<Searcher>, Vec<_>) = splits.iter().map(|s| s.searcher()).unzip();
    let mut weights: Vec<Box<dyn Weight>> = Vec::with_capacity(searchers.len());
    let mut tasks = Vec::new();
    // Splits written with an older schema get the query compiled for theirs.
    let mut older: Vec<(Schema, Box<dyn Query>)> = Vec::new();
    for (si, searcher) in searchers.iter().enumerate() {
        let split_query: &dyn Query = if searcher.schema() == env.schema {
            query.as_ref()
        } else {
            let at = match older.iter().position(|(s, _)| s == searcher.schema()) {
                Some(at) => at,
                None => {
                    let compiled =
                        QueryCompiler::new(searcher.schema(), env.fields).compile(&req.query)?;
                    let q = with_time_range(compiled, env.fields, from, to);
                    older.push((searcher.schema().clone(), q));
                    older.len() - 1
                }
            };
            older[at].1.as_ref()
        };
        weights.push(
            split_query
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
            let (min_ts, max_ts) = (
                col.min_value().into_timestamp_nanos(),
                col.max_value().into_timestamp_nanos(),
            );
            let ts = doc_values(col, DateTime::MIN);
            let max_doc = seg.max_doc();
            // Histograms and top values visit every matching document: cut
            // big segments into ranges so that all search threads share them.
            let step = if hist.is_some() || top_spec.is_some() {
                RANGE_DOCS
            } else {
                max_doc
            };
            let mut lo = 0;
            while lo < max_doc {
                let hi = lo.saturating_add(step.max(1)).min(max_doc);
                tasks.push(Task {
                    split: si as u32,
                    seg: ord as u32,
                    lo,
                    hi,
                    whole: lo == 0 && hi == max_doc,
                    min_ts,
                    max_ts,
                    ts: ts.clone(),
                });
                lo = hi;
            }
        }
    }
    // The best-ranked segments first (newest, or oldest for ascending
    // order), and their best-placed documents first: their hits raise the
    // bar the others must pass.
    match req.order {
        Order::Desc => tasks.sort_by_key(|t| std::cmp::Reverse((t.max_ts, t.hi))),
        Order::Asc => tasks.sort_by_key(|t| (t.min_ts, t.lo)),
    }

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
        ranking,
        until_seq,
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
    for h in &mut ordered {
        h.ts = ranking.ts(h.ts);
        h.seq = ranking.seq(h.seq);
    }
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
    /// The previous page's end, ranked.
    cursor: Option<Cursor>,
    shared_floor: &'a AtomicI64,
    ranking: Ranking,
    /// Hits are taken only up to this sequence number.
    until_seq: Option<u64>,
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
        let weight = self.weights[task.split as usize].as_ref();
        let ranking = self.ranking;
        let (rank_min, rank_max) = ranking.range(task.min_ts, task.max_ts);
        let wants_hits = p.top.may_take(rank_min, rank_max);
        if !wants_hits && self.hist.is_none() && self.aggs.is_none() && task.whole {
            p.count += u64::from(weight.count(reader).map_err(internal("counting"))?);
            return Ok(());
        }
        // Sequence numbers only break ties between hits; a histogram or
        // top-values task that takes no hits does not open the column.
        let seq: Option<Arc<dyn ColumnValues<u64>>> = if wants_hits {
            Some(doc_values(
                reader
                    .fast_fields()
                    .u64(names::SEQ)
                    .map_err(internal("reading sequence numbers"))?,
                0,
            ))
        } else {
            None
        };
        let until = self.until_seq;
        let seq_of = |doc: DocId| {
            let s = seq.as_ref().map_or(0, |s| s.get_val(doc));
            until.is_none_or(|u| s <= u).then(|| ranking.seq(s))
        };
        let (split, seg) = (task.split, task.seg);
        // Documents are added oldest first, so the newest hits are usually at
        // the end (the oldest at the start): taking them first sets a bar
        // that most others fail at once.
        let first = if wants_hits {
            let span = (4 * self.k + 1024) as u32;
            let first = match self.ranking.flip {
                false => task.hi.saturating_sub(span).max(task.lo)..task.hi,
                true => task.lo..task.lo.saturating_add(span).min(task.hi),
            };
            let top = &mut p.top;
            each_block(weight, reader, first.start, first.end, &mut |docs| {
                for &doc in docs {
                    let min_ts = top.min_useful_ts();
                    let ts = ranking.ts(task.ts.get_val(doc).into_timestamp_nanos());
                    top.offer(ts, min_ts, || seq_of(doc), split, seg, doc);
                }
            })?;
            first
        } else {
            task.hi..task.hi
        };
        let mut agg = match self.aggs {
            Some(c) => Some(
                c.for_segment(task.seg, reader)
                    .map_err(internal("computing top values"))?,
            ),
            None => None,
        };
        let mut buckets = self.hist.map(BucketCursor::new);
        let mut ts_buf = [DateTime::MIN; tantivy::COLLECT_BLOCK_BUFFER_LEN];
        let mut count = 0u64;
        each_block(weight, reader, task.lo, task.hi, &mut |docs| {
            count += docs.len() as u64;
            let ts = &mut ts_buf[..docs.len()];
            let needs_ts = buckets.is_some()
                || (wants_hits
                    && !(first.contains(&docs[0]) && first.contains(&docs[docs.len() - 1])));
            if needs_ts {
                task.ts.get_vals(docs, ts);
            }
            if let Some(b) = buckets.as_mut() {
                for t in ts.iter() {
                    b.add(t.into_timestamp_nanos(), &mut p.hist);
                }
            }
            if wants_hits {
                let min_ts = p.top.min_useful_ts();
                for (doc, t) in docs.iter().zip(ts.iter()) {
                    if first.contains(doc) {
                        // Already offered by the first pass.
                        continue;
                    }
                    p.top.offer(
                        ranking.ts(t.into_timestamp_nanos()),
                        min_ts,
                        || seq_of(*doc),
                        split,
                        seg,
                        *doc,
                    );
                }
            }
            if let Some(a) = agg.as_mut() {
                a.collect_block(docs);
            }
        })?;
        p.count += count;
        if let Some(a) = agg {
            p.aggs.push(a.harvest());
        }
        Ok(())
    }
}

/// Calls `f` with the live documents in `lo..hi` that match, in blocks.
fn each_block(
    weight: &dyn Weight,
    reader: &SegmentReader,
    lo: DocId,
    hi: DocId,
    f: &mut dyn FnMut(&[DocId]),
) -> Result<(), QueryError> {
    let mut scorer = weight
        .scorer(reader, 1.0)
        .map_err(internal("running the query"))?;
    let mut doc = scorer.doc();
    if doc < lo {
        doc = scorer.seek(lo);
    }
    let alive = reader.alive_bitset();
    let mut buf = [0 as DocId; tantivy::COLLECT_BLOCK_BUFFER_LEN];
    let mut live: Vec<DocId> = Vec::new();
    while doc < hi {
        let n = scorer.fill_buffer(&mut buf);
        let end = buf[..n].partition_point(|d| *d < hi);
        let docs = match alive {
            Some(bits) => {
                live.clear();
                live.extend(buf[..end].iter().copied().filter(|d| bits.is_alive(*d)));
                &live[..]
            }
            None => &buf[..end],
        };
        if !docs.is_empty() {
            f(docs);
        }
        if end < n || n < buf.len() {
            break;
        }
        doc = scorer.doc();
    }
    Ok(())
}

/// Counts timestamps into histogram buckets, remembering the last bucket:
/// neighbouring documents mostly share it, which saves a division each.
struct BucketCursor<'a> {
    spec: &'a HistSpec,
    /// The remembered bucket covers `lo..hi` (clipped to the histogram range).
    lo: i64,
    hi: i64,
    index: usize,
}

impl<'a> BucketCursor<'a> {
    fn new(spec: &'a HistSpec) -> Self {
        BucketCursor {
            spec,
            lo: 0,
            hi: 0,
            index: 0,
        }
    }

    #[inline]
    fn add(&mut self, ts: i64, counts: &mut [u64]) {
        if ts >= self.lo && ts < self.hi {
            counts[self.index] += 1;
            return;
        }
        if let Some(i) = self.spec.bucket(ts) {
            let start = self
                .spec
                .start
                .saturating_add((i as i64).saturating_mul(self.spec.interval));
            self.lo = start.max(self.spec.from);
            self.hi = start.saturating_add(self.spec.interval).min(self.spec.to);
            self.index = i;
            counts[i] += 1;
        }
    }
}

/// A timestamp column by document id.
type TimeColumn = Arc<dyn ColumnValues<DateTime>>;

/// Loads the events of `hits`.
fn fetch(
    searchers: &[Searcher],
    fields: &SchemaFields,
    hits: &[Hit],
) -> Result<Vec<hark_event::Event>, QueryError> {
    // Load in storage order, so hits sharing a compressed block decompress it once.
    let mut order: Vec<usize> = (0..hits.len()).collect();
    order.sort_unstable_by_key(|&i| (hits[i].split, hits[i].seg, hits[i].doc));
    let mut events: Vec<Option<hark_event::Event>> = vec![None; hits.len()];
    let mut received: Option<((u32, u32), TimeColumn)> = None;
    for i in order {
        let h = &hits[i];
        let searcher = &searchers[h.split as usize];
        let received_at = match &received {
            Some((key, col)) if *key == (h.split, h.seg) => col.clone(),
            _ => {
                let col = searcher
                    .segment_reader(h.seg)
                    .fast_fields()
                    .date(names::RECEIVED_AT)
                    .map_err(internal("reading receive times"))?;
                let col = doc_values(col, DateTime::MIN);
                received = Some(((h.split, h.seg), col.clone()));
                col
            }
        };
        let doc: TantivyDocument = searcher
            .doc(DocAddress::new(h.seg, h.doc))
            .map_err(internal("loading a hit"))?;
        let bytes = doc
            .get_first(fields.event)
            .and_then(|v| v.as_leaf())
            .and_then(|leaf| leaf.as_bytes())
            .ok_or_else(|| QueryError::Internal("a hit has no stored event".into()))?;
        let received_at = received_at.get_val(h.doc).into_timestamp_nanos();
        let event = decode_stored(bytes, h.ts, received_at)
            .map_err(|e| QueryError::Internal(format!("decoding a hit: {e}")))?;
        events[i] = Some(event);
    }
    Ok(events.into_iter().flatten().collect())
}
