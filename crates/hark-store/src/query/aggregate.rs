//! Histogram buckets and top values.

use std::collections::BTreeMap;

use tantivy::aggregation::Key;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::{AggregationResult, AggregationResults, BucketResult};
use tantivy::schema::{FieldType, Schema};

use crate::index::{names, resolve_user_field};
use crate::{Bucket, HistogramInterval, QueryError, TopValue};

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Round widths the automatic interval picks from.
const AUTO_STEPS: [i64; 13] = [
    SECOND,
    5 * SECOND,
    10 * SECOND,
    30 * SECOND,
    MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    30 * MINUTE,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
];
/// The automatic interval gives at most this many buckets.
const AUTO_MAX_BUCKETS: i64 = 120;
/// A fixed interval may not ask for more buckets than this.
const MAX_BUCKETS: i64 = 100_000;
/// Most values `top` returns per field (the HTTP API allows fewer; its
/// source list asks one more than it shows, to tell when it is cut).
const MAX_TOP_SIZE: usize = 10_000;

/// Histogram layout: `buckets` buckets of `interval` ns from `start`,
/// counting events in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HistSpec {
    pub start: i64,
    pub from: i64,
    pub to: i64,
    pub interval: i64,
    pub buckets: usize,
}

impl HistSpec {
    /// Lays out buckets over `[from, to)`, aligned to multiples of the interval.
    pub fn new(from: i64, to: i64, interval: HistogramInterval) -> Result<HistSpec, QueryError> {
        let to = to.max(from.saturating_add(1));
        let span = i128::from(to) - i128::from(from);
        let interval = match interval {
            HistogramInterval::Auto => auto_interval(span),
            HistogramInterval::Fixed(ns) if ns > 0 => ns,
            HistogramInterval::Fixed(_) => {
                return Err(QueryError::BadRequest(
                    "histogram interval must be positive".into(),
                ));
            }
        };
        let start = from.div_euclid(interval).saturating_mul(interval);
        let buckets =
            (i128::from(to) - i128::from(start) + i128::from(interval) - 1) / i128::from(interval);
        if buckets > i128::from(MAX_BUCKETS) {
            return Err(QueryError::BadRequest(format!(
                "histogram interval too small: {buckets} buckets (at most {MAX_BUCKETS})"
            )));
        }
        Ok(HistSpec {
            start,
            from,
            to,
            interval,
            buckets: buckets as usize,
        })
    }

    /// The bucket of timestamp `ts`, if it is in range.
    #[inline]
    pub fn bucket(&self, ts: i64) -> Option<usize> {
        if ts < self.from || ts >= self.to {
            return None;
        }
        // In i128: the range may be wider than i64 can subtract.
        Some(((i128::from(ts) - i128::from(self.start)) / i128::from(self.interval)) as usize)
    }

    /// The buckets, with their counts.
    pub fn to_buckets(self, counts: &[u64]) -> Vec<Bucket> {
        (0..self.buckets)
            .map(|i| Bucket {
                start: self
                    .start
                    .saturating_add((i as i64).saturating_mul(self.interval)),
                count: counts.get(i).copied().unwrap_or(0),
            })
            .collect()
    }
}

/// The smallest round interval giving at most [`AUTO_MAX_BUCKETS`] buckets.
pub(crate) fn auto_interval(span: i128) -> i64 {
    for step in AUTO_STEPS {
        // One extra bucket for alignment.
        if span / i128::from(step) < i128::from(AUTO_MAX_BUCKETS) {
            return step;
        }
    }
    let days = span / i128::from(DAY * AUTO_MAX_BUCKETS) + 1;
    i64::try_from(days).unwrap_or(i64::MAX / DAY) * DAY
}

/// A `top` request: per field, the schema path and how many values.
#[derive(Debug, Clone)]
pub(crate) struct TopSpec {
    /// (name as asked, aggregation field path).
    pub fields: Vec<(String, String)>,
    pub size: usize,
}

impl TopSpec {
    /// Checks the asked field names; `None` when none were asked.
    pub fn new(
        schema: &Schema,
        asked: &[String],
        size: usize,
    ) -> Result<Option<TopSpec>, QueryError> {
        if asked.is_empty() {
            return Ok(None);
        }
        let mut fields = Vec::with_capacity(asked.len());
        for name in asked {
            let path = resolve_user_field(name);
            let usable = match schema.find_field(&path) {
                Some((f, json_path)) => match schema.get_field_entry(f).field_type() {
                    FieldType::Str(o) => json_path.is_empty() && o.is_fast(),
                    FieldType::U64(o) => json_path.is_empty() && o.is_fast(),
                    FieldType::JsonObject(o) => !json_path.is_empty() && o.is_fast(),
                    _ => false,
                },
                None => false,
            };
            if !usable || path == names::SEQ {
                return Err(QueryError::BadRequest(format!(
                    "no top values for {name:?}: it is not a keyword field"
                )));
            }
            fields.push((name.clone(), path));
        }
        Ok(Some(TopSpec {
            fields,
            size: size.clamp(1, MAX_TOP_SIZE),
        }))
    }

    /// The terms aggregations, named `t0`, `t1`, … in field order.
    pub fn aggregations(&self) -> Result<Aggregations, QueryError> {
        let mut req = serde_json::Map::new();
        for (i, (_, path)) in self.fields.iter().enumerate() {
            req.insert(
                format!("t{i}"),
                serde_json::json!({"terms": {
                    "field": path,
                    "size": self.size,
                    "segment_size": (self.size * 20).max(2_000),
                }}),
            );
        }
        serde_json::from_value(serde_json::Value::Object(req))
            .map_err(|e| QueryError::Internal(format!("building the top aggregation: {e}")))
    }

    /// The top values per asked field from the aggregation results.
    pub fn extract(&self, mut results: AggregationResults) -> BTreeMap<String, Vec<TopValue>> {
        let mut out = BTreeMap::new();
        for (i, (name, _)) in self.fields.iter().enumerate() {
            let values = match results.0.remove(&format!("t{i}")) {
                Some(AggregationResult::BucketResult(BucketResult::Terms { buckets, .. })) => {
                    buckets
                        .into_iter()
                        .map(|b| TopValue {
                            value: key_text(&b.key),
                            count: b.doc_count,
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            out.insert(name.clone(), values);
        }
        out
    }
}

fn key_text(key: &Key) -> String {
    match key {
        Key::Str(s) => s.clone(),
        Key::I64(n) => n.to_string(),
        Key::U64(n) => n.to_string(),
        Key::F64(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        Key::F64(x) => x.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_interval_is_round_and_bounded() {
        assert_eq!(auto_interval(i128::from(60 * SECOND)), SECOND);
        assert_eq!(auto_interval(i128::from(HOUR)), MINUTE);
        assert_eq!(auto_interval(i128::from(DAY)), 30 * MINUTE);
        assert_eq!(auto_interval(i128::from(7 * DAY)), 3 * HOUR);
        assert_eq!(auto_interval(i128::from(365 * DAY)), 4 * DAY);
        for span in [1, SECOND, 17 * MINUTE, 2 * DAY, 300 * DAY] {
            let spec = HistSpec::new(
                1_000 * DAY + 12_345,
                1_000 * DAY + 12_345 + span,
                HistogramInterval::Auto,
            )
            .unwrap();
            assert!(spec.buckets <= 121, "{span}: {}", spec.buckets);
        }
    }

    #[test]
    fn buckets_cover_the_range() {
        let spec =
            HistSpec::new(90 * SECOND, 150 * SECOND, HistogramInterval::Fixed(MINUTE)).unwrap();
        assert_eq!(spec.start, 60 * SECOND);
        assert_eq!(spec.buckets, 2);
        assert_eq!(spec.bucket(89 * SECOND), None);
        assert_eq!(spec.bucket(90 * SECOND), Some(0));
        assert_eq!(spec.bucket(120 * SECOND), Some(1));
        assert_eq!(spec.bucket(150 * SECOND), None);
        assert!(HistSpec::new(0, DAY, HistogramInterval::Fixed(1)).is_err());
        assert!(HistSpec::new(0, DAY, HistogramInterval::Fixed(0)).is_err());
        // Extreme bounds neither overflow nor ask for absurd bucket counts.
        let wide = HistSpec::new(i64::MIN, i64::MAX, HistogramInterval::Auto).unwrap();
        assert!(wide.buckets <= 121);
        assert_eq!(
            wide.bucket(i64::MAX - 1).map(|b| b < wide.buckets),
            Some(true)
        );
        assert!(HistSpec::new(0, DAY, HistogramInterval::Fixed(i64::MAX)).is_ok());
    }
}
