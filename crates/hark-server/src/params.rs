//! Request parameters of search and tail: what clients send (query string
//! or JSON body, with the same names) and its validation into a
//! [`SearchRequest`].

use hark_event::parse_rfc3339_nanos;
use hark_store::{HistogramInterval, MAX_BACKLOG, Order, SearchRequest};
use serde::Deserialize;

/// Most hits one page may ask for.
pub const MAX_LIMIT: usize = 10_000;
/// Hits per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;
/// Top values per field when `top_size` is not given.
pub const DEFAULT_TOP_SIZE: usize = 10;
/// Most top values per field.
pub const MAX_TOP_SIZE: usize = 1_000;
/// Most fields one request may ask top values for.
pub const MAX_TOP_FIELDS: usize = 20;
/// Most histogram buckets a fixed interval may produce over a bounded range.
pub const MAX_BUCKETS: i64 = 10_000;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A number that may come as JSON number or as text (query strings have only text).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "a number")]
pub enum Loose {
    /// A JSON number.
    Number(serde_json::Number),
    /// Text, parsed later.
    Text(String),
}

/// Field names for top values: a list, or text with commas.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "a list of field names or a comma-separated string"
)]
pub enum FieldList {
    /// `["host", "app"]`.
    List(Vec<String>),
    /// `"host,app"`.
    Text(String),
}

/// Search parameters as received, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchParams {
    /// Query text (`query` is accepted too).
    #[serde(alias = "query")]
    pub q: Option<String>,
    /// Inclusive start, RFC 3339.
    pub from: Option<String>,
    /// Exclusive end, RFC 3339.
    pub to: Option<String>,
    /// Relative start (`15m`, `24h`, `7d`); ignored when `from` is given.
    pub since: Option<String>,
    /// Hits per page.
    pub limit: Option<Loose>,
    /// Cursor from a previous response.
    pub cursor: Option<String>,
    /// `auto` or a bucket width such as `1m`.
    pub histogram: Option<String>,
    /// Fields to compute top values for.
    pub top: Option<FieldList>,
    /// Top values per field.
    pub top_size: Option<Loose>,
    /// `desc` (newest first, the default) or `asc` (oldest first).
    pub order: Option<String>,
}

/// Tail parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TailParams {
    /// Query text filtering live events (`query` is accepted too).
    #[serde(alias = "query")]
    pub q: Option<String>,
    /// How many stored events to send before the live ones (0 to
    /// [`MAX_BACKLOG`]).
    pub backlog: Option<Loose>,
}

impl TailParams {
    /// The validated backlog size (0 when not given).
    pub fn backlog(&self) -> Result<usize, ParamError> {
        bounded("backlog", self.backlog.as_ref(), 0, 0, MAX_BACKLOG)
    }
}

/// A time range: `from`/`to`, or `since` (24 hours when none is given).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RangeParams {
    /// Inclusive start, RFC 3339.
    pub from: Option<String>,
    /// Exclusive end, RFC 3339.
    pub to: Option<String>,
    /// Relative start (`15m`, `24h`, `7d`); ignored when `from` is given.
    pub since: Option<String>,
}

/// The range [`RangeParams`] covers when it names no start.
pub const DEFAULT_SINCE: &str = "24h";

impl RangeParams {
    /// The validated range in ns: its start, and its end when given.
    pub fn resolve(self, now: i64) -> Result<(i64, Option<i64>), ParamError> {
        let since = match (&self.from, self.since) {
            (None, None) => Some(DEFAULT_SINCE.to_owned()),
            (_, since) => since,
        };
        let req = SearchParams {
            from: self.from,
            to: self.to,
            since,
            ..SearchParams::default()
        }
        .into_request(now)?;
        Ok((req.from.unwrap_or(now), req.to))
    }
}

/// A parameter that does not make sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// Not an RFC 3339 time.
    #[error("{param}: not an RFC 3339 time: {value:?}")]
    BadTime {
        /// Parameter name.
        param: &'static str,
        /// What was sent.
        value: String,
    },
    /// Not a duration such as `15m`.
    #[error("{param}: not a duration such as 30s, 15m, 24h or 7d: {value:?}")]
    BadDuration {
        /// Parameter name.
        param: &'static str,
        /// What was sent.
        value: String,
    },
    /// A number outside its bounds, or not a whole number.
    #[error("{param}: must be a whole number from {min} to {max}")]
    OutOfRange {
        /// Parameter name.
        param: &'static str,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// `from` is not before `to`.
    #[error("from must be before to")]
    EmptyRange,
    /// The histogram interval is too small for the range.
    #[error(
        "histogram: {buckets} buckets over this range; use a wider interval (at most {MAX_BUCKETS})"
    )]
    TooManyBuckets {
        /// Buckets the request would produce.
        buckets: i64,
    },
    /// Too many top fields.
    #[error("top: at most {MAX_TOP_FIELDS} fields")]
    TooManyTopFields,
    /// Not `asc` or `desc`.
    #[error("order: must be asc or desc, not {0:?}")]
    BadOrder(String),
}

impl SearchParams {
    /// Validates the parameters into a store request; `now` (ns since the
    /// epoch) anchors `since` and bounds histogram ranges without `to`.
    pub fn into_request(self, now: i64) -> Result<SearchRequest, ParamError> {
        let to = self
            .to
            .as_deref()
            .map(|v| parse_time("to", v))
            .transpose()?;
        let from = match (&self.from, &self.since) {
            (Some(v), _) => Some(parse_time("from", v)?),
            (None, Some(v)) => {
                let d = parse_duration(v).ok_or_else(|| ParamError::BadDuration {
                    param: "since",
                    value: v.clone(),
                })?;
                Some(now.saturating_sub(d))
            }
            (None, None) => None,
        };
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(ParamError::EmptyRange);
        }
        let limit = bounded("limit", self.limit.as_ref(), DEFAULT_LIMIT, 1, MAX_LIMIT)?;
        let top_size = bounded(
            "top_size",
            self.top_size.as_ref(),
            DEFAULT_TOP_SIZE,
            1,
            MAX_TOP_SIZE,
        )?;
        let histogram = match self.histogram.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) if v.eq_ignore_ascii_case("auto") => Some(HistogramInterval::Auto),
            Some(v) => {
                let width = parse_duration(v).ok_or_else(|| ParamError::BadDuration {
                    param: "histogram",
                    value: v.to_owned(),
                })?;
                if let Some(f) = from {
                    let buckets = (to.unwrap_or(now).saturating_sub(f)) / width;
                    if buckets > MAX_BUCKETS {
                        return Err(ParamError::TooManyBuckets { buckets });
                    }
                }
                Some(HistogramInterval::Fixed(width))
            }
        };
        let order = match self.order.as_deref().map(str::trim) {
            None | Some("") => Order::Desc,
            Some(v) if v.eq_ignore_ascii_case("desc") => Order::Desc,
            Some(v) if v.eq_ignore_ascii_case("asc") => Order::Asc,
            Some(v) => return Err(ParamError::BadOrder(v.to_owned())),
        };
        let top = field_list(self.top);
        if top.len() > MAX_TOP_FIELDS {
            return Err(ParamError::TooManyTopFields);
        }
        let mut req = SearchRequest::new(self.q.unwrap_or_default());
        req.from = from;
        req.to = to;
        req.limit = limit;
        req.cursor = self.cursor.filter(|c| !c.is_empty());
        req.histogram = histogram;
        req.top = top;
        req.top_size = top_size;
        req.order = order;
        Ok(req)
    }
}

/// Parses `30s`, `15m`, `24h`, `7d` or `2w` into nanoseconds (positive only).
pub fn parse_duration(text: &str) -> Option<i64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = t.split_at(split);
    let n: i64 = digits.parse().ok()?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    let nanos = n.checked_mul(unit_secs)?.checked_mul(NANOS_PER_SEC)?;
    (nanos > 0).then_some(nanos)
}

fn parse_time(param: &'static str, value: &str) -> Result<i64, ParamError> {
    parse_rfc3339_nanos(value).ok_or_else(|| ParamError::BadTime {
        param,
        value: value.to_owned(),
    })
}

fn bounded(
    param: &'static str,
    value: Option<&Loose>,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ParamError> {
    let n = match value {
        None => return Ok(default),
        Some(Loose::Number(n)) => n.as_u64(),
        Some(Loose::Text(t)) => t.trim().parse::<u64>().ok(),
    };
    n.and_then(|n| usize::try_from(n).ok())
        .filter(|n| (min..=max).contains(n))
        .ok_or(ParamError::OutOfRange { param, min, max })
}

fn field_list(top: Option<FieldList>) -> Vec<String> {
    let raw = match top {
        None => Vec::new(),
        Some(FieldList::List(v)) => v,
        Some(FieldList::Text(t)) => t.split(',').map(str::to_owned).collect(),
    };
    raw.into_iter()
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Query;
    use axum::http::Uri;

    const NOW: i64 = 1_800_000_000 * NANOS_PER_SEC;

    fn from_query(q: &str) -> Result<SearchRequest, ParamError> {
        let uri: Uri = format!("/api/v1/search?{q}").parse().unwrap();
        let Query(p) = Query::<SearchParams>::try_from_uri(&uri).unwrap();
        p.into_request(NOW)
    }

    fn from_json(v: serde_json::Value) -> Result<SearchRequest, ParamError> {
        serde_json::from_value::<SearchParams>(v)
            .unwrap()
            .into_request(NOW)
    }

    #[test]
    fn defaults() {
        let r = from_query("").unwrap();
        assert_eq!(r.query, "");
        assert_eq!((r.from, r.to, r.limit), (None, None, DEFAULT_LIMIT));
        assert_eq!(r.histogram, None);
        assert!(r.top.is_empty());
        assert_eq!(r.top_size, DEFAULT_TOP_SIZE);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(30 * NANOS_PER_SEC));
        assert_eq!(parse_duration("15m"), Some(900 * NANOS_PER_SEC));
        assert_eq!(parse_duration("24h"), Some(86_400 * NANOS_PER_SEC));
        assert_eq!(parse_duration("7d"), Some(7 * 86_400 * NANOS_PER_SEC));
        for bad in [
            "",
            "15",
            "m",
            "0m",
            "-5m",
            "1.5h",
            "5 minutes",
            "99999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn since_is_relative_to_now_and_yields_to_from() {
        let r = from_query("q=error&since=15m").unwrap();
        assert_eq!(r.query, "error");
        assert_eq!(r.from, Some(NOW - 900 * NANOS_PER_SEC));
        let r = from_query("since=15m&from=2027-01-15T08:00:00Z").unwrap();
        assert_eq!(r.from, parse_rfc3339_nanos("2027-01-15T08:00:00Z"));
        assert!(matches!(
            from_query("since=yesterday"),
            Err(ParamError::BadDuration { param: "since", .. })
        ));
        assert!(matches!(
            from_query("from=today"),
            Err(ParamError::BadTime { param: "from", .. })
        ));
        assert!(matches!(
            from_query("from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z"),
            Err(ParamError::EmptyRange)
        ));
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(from_query("limit=1").unwrap().limit, 1);
        assert_eq!(from_query("limit=10000").unwrap().limit, MAX_LIMIT);
        for bad in [
            "limit=10001",
            "limit=0",
            "limit=-1",
            "limit=ten",
            "limit=1.5",
        ] {
            assert!(
                matches!(
                    from_query(bad),
                    Err(ParamError::OutOfRange { param: "limit", .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            from_json(serde_json::json!({"limit": 250})).unwrap().limit,
            250
        );
        assert_eq!(
            from_json(serde_json::json!({"limit": "250"}))
                .unwrap()
                .limit,
            250
        );
        assert!(from_json(serde_json::json!({"limit": 20000})).is_err());
        assert!(from_json(serde_json::json!({"limit": -3})).is_err());
    }

    #[test]
    fn histogram_interval() {
        assert_eq!(
            from_query("histogram=auto").unwrap().histogram,
            Some(HistogramInterval::Auto)
        );
        assert_eq!(
            from_query("histogram=1m").unwrap().histogram,
            Some(HistogramInterval::Fixed(60 * NANOS_PER_SEC))
        );
        assert_eq!(
            from_query("since=24h&histogram=1h").unwrap().histogram,
            Some(HistogramInterval::Fixed(3_600 * NANOS_PER_SEC))
        );
        assert!(matches!(
            from_query("histogram=often"),
            Err(ParamError::BadDuration {
                param: "histogram",
                ..
            })
        ));
        assert!(matches!(
            from_query("since=30d&histogram=1s"),
            Err(ParamError::TooManyBuckets { .. })
        ));
    }

    #[test]
    fn order_and_backlog() {
        assert_eq!(from_query("").unwrap().order, Order::Desc);
        assert_eq!(from_query("order=asc").unwrap().order, Order::Asc);
        assert_eq!(from_query("order=DESC").unwrap().order, Order::Desc);
        assert_eq!(
            from_json(serde_json::json!({"order": "asc"}))
                .unwrap()
                .order,
            Order::Asc
        );
        assert!(matches!(
            from_query("order=up"),
            Err(ParamError::BadOrder(_))
        ));
        let tail = |q: &str| {
            let uri: Uri = format!("/api/v1/tail?{q}").parse().unwrap();
            Query::<TailParams>::try_from_uri(&uri).unwrap().0.backlog()
        };
        assert_eq!(tail(""), Ok(0));
        assert_eq!(tail("backlog=5000"), Ok(5000));
        assert!(tail("backlog=5001").is_err());
        assert!(tail("backlog=-1").is_err());
    }

    #[test]
    fn query_alias_top_and_cursor() {
        let r = from_query("query=host%3Afw1&top=host,%20app,&top_size=5&cursor=abc").unwrap();
        assert_eq!(r.query, "host:fw1");
        assert_eq!(r.top, vec!["host".to_owned(), "app".to_owned()]);
        assert_eq!(r.top_size, 5);
        assert_eq!(r.cursor.as_deref(), Some("abc"));
        let r = from_json(serde_json::json!({"q": "*", "top": ["host", "severity"]})).unwrap();
        assert_eq!(r.top, vec!["host".to_owned(), "severity".to_owned()]);
        let r = from_json(serde_json::json!({"top": "host"})).unwrap();
        assert_eq!(r.top, vec!["host".to_owned()]);
        assert!(from_query("top_size=0").is_err());
        let many = (0..=MAX_TOP_FIELDS)
            .map(|i| format!("f{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(matches!(
            from_query(&format!("top={many}")),
            Err(ParamError::TooManyTopFields)
        ));
    }
}
