//! `GET` and `POST /api/v1/search`: the same parameters from the query
//! string or a JSON body.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use hark_event::{EventJson, format_rfc3339_nanos, now_nanos};
use hark_store::{SearchRequest, SearchResponse, TopValue};
use serde::Serialize;

use crate::error::ApiError;
use crate::params::SearchParams;
use crate::routes::body_error;
use crate::{SEARCH_BODY_LIMIT, Shared};

/// The response body.
#[derive(Debug, Serialize)]
pub(crate) struct SearchBody {
    total: u64,
    hits: Vec<EventJson>,
    next: Option<String>,
    took_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    histogram: Option<Vec<BucketJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top: Option<BTreeMap<String, Vec<TopValue>>>,
}

#[derive(Debug, Serialize)]
struct BucketJson {
    start: String,
    count: u64,
}

/// `GET /api/v1/search?q=…`.
pub(crate) async fn get(
    State(app): State<Shared>,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchBody>, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    run(&app, params).await
}

/// `POST /api/v1/search` with a JSON object; an empty body searches everything.
pub(crate) async fn post(
    State(app): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SearchBody>, ApiError> {
    let body = body.map_err(|e| body_error(e, SEARCH_BODY_LIMIT))?;
    let params = if body.iter().all(u8::is_ascii_whitespace) {
        SearchParams::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?
    };
    run(&app, params).await
}

async fn run(app: &Shared, params: SearchParams) -> Result<Json<SearchBody>, ApiError> {
    let req = params
        .into_request(now_nanos())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let store = app.store.clone();
    let (req, resp) = tokio::task::spawn_blocking(move || {
        let resp = store.search(&req);
        (req, resp)
    })
    .await?;
    Ok(Json(SearchBody::new(&req, resp?)))
}

impl SearchBody {
    fn new(req: &SearchRequest, mut resp: SearchResponse) -> Self {
        let histogram = req.histogram.map(|_| {
            resp.histogram
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|b| BucketJson {
                    start: format_rfc3339_nanos(b.start),
                    count: b.count,
                })
                .collect()
        });
        let top = (!req.top.is_empty()).then(|| {
            req.top
                .iter()
                .map(|f| (f.clone(), resp.top.remove(f).unwrap_or_default()))
                .collect()
        });
        SearchBody {
            total: resp.total,
            hits: resp.hits.iter().map(EventJson::from).collect(),
            next: resp.next,
            took_ms: resp.took_ms,
            histogram,
            top,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hark_store::{Bucket, HistogramInterval};

    fn response() -> SearchResponse {
        let mut ev = hark_event::Event::new(1_800_000_000_000_000_000, "http");
        ev.message = "hello".into();
        SearchResponse {
            total: 7,
            hits: vec![ev],
            next: Some("c1".into()),
            histogram: Some(vec![Bucket {
                start: 1_800_000_000_000_000_000,
                count: 7,
            }]),
            top: BTreeMap::from([(
                "host".to_owned(),
                vec![TopValue {
                    value: "fw1".into(),
                    count: 7,
                }],
            )]),
            took_ms: 3,
        }
    }

    #[test]
    fn plain_response_has_no_aggregations() {
        let body = SearchBody::new(&SearchRequest::new("*"), response());
        let v = serde_json::to_value(body).unwrap();
        assert_eq!(v["total"], 7);
        assert_eq!(v["next"], "c1");
        assert_eq!(v["took_ms"], 3);
        assert_eq!(v["hits"][0]["message"], "hello");
        assert_eq!(v["hits"][0]["timestamp"], "2027-01-15T08:00:00.000000000Z");
        assert!(v.get("histogram").is_none());
        assert!(v.get("top").is_none());
    }

    #[test]
    fn asked_aggregations_are_rendered() {
        let mut req = SearchRequest::new("*");
        req.histogram = Some(HistogramInterval::Auto);
        req.top = vec!["host".into(), "app".into()];
        let v = serde_json::to_value(SearchBody::new(&req, response())).unwrap();
        assert_eq!(v["histogram"][0]["start"], "2027-01-15T08:00:00.000000000Z");
        assert_eq!(v["histogram"][0]["count"], 7);
        assert_eq!(v["top"]["host"][0]["value"], "fw1");
        assert_eq!(v["top"]["host"][0]["count"], 7);
        assert_eq!(v["top"]["app"], serde_json::json!([]));
    }
}
