//! `GET` and `POST /api/v1/search`: the same parameters from the query
//! string or a JSON body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use hark_event::{EventJson, format_rfc3339_nanos, now_nanos};
use hark_store::SearchRequest;

use crate::api::{HistogramBucket, SearchResponse, TopValue};
use crate::error::ApiError;
use crate::params::SearchParams;
use crate::routes::body_error;
use crate::{SEARCH_BODY_LIMIT, Shared};

/// `GET /api/v1/search?q=…`.
pub(crate) async fn get(
    State(app): State<Shared>,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchResponse>, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    run(&app, params).await
}

/// `POST /api/v1/search` with a JSON object; an empty body searches everything.
pub(crate) async fn post(
    State(app): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SearchResponse>, ApiError> {
    let body = body.map_err(|e| body_error(e, SEARCH_BODY_LIMIT))?;
    let params = if body.iter().all(u8::is_ascii_whitespace) {
        SearchParams::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?
    };
    run(&app, params).await
}

async fn run(app: &Shared, params: SearchParams) -> Result<Json<SearchResponse>, ApiError> {
    let req = params
        .into_request(now_nanos())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let store = app.store.clone();
    let (req, resp) = tokio::task::spawn_blocking(move || {
        let resp = store.search(&req);
        (req, resp)
    })
    .await?;
    Ok(Json(response(&req, resp?)))
}

/// The API's form of a store's answer.
fn response(req: &SearchRequest, mut resp: hark_store::SearchResponse) -> SearchResponse {
    let histogram = req.histogram.map(|_| {
        resp.histogram
            .take()
            .unwrap_or_default()
            .into_iter()
            .map(|b| HistogramBucket {
                start: format_rfc3339_nanos(b.start),
                count: b.count,
            })
            .collect()
    });
    let top = (!req.top.is_empty()).then(|| {
        req.top
            .iter()
            .map(|f| {
                let values = resp.top.remove(f).unwrap_or_default();
                let values = values
                    .into_iter()
                    .map(|t| TopValue {
                        value: t.value,
                        count: t.count,
                    })
                    .collect();
                (f.clone(), values)
            })
            .collect()
    });
    SearchResponse {
        total: resp.total,
        hits: resp.hits.iter().map(EventJson::from).collect(),
        next: resp.next,
        took_ms: resp.took_ms,
        histogram,
        top,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hark_store::{Bucket, HistogramInterval};
    use std::collections::BTreeMap;

    fn answer() -> hark_store::SearchResponse {
        let mut ev = hark_event::Event::new(1_800_000_000_000_000_000, "http");
        ev.message = "hello".into();
        hark_store::SearchResponse {
            total: 7,
            hits: vec![ev],
            next: Some("c1".into()),
            histogram: Some(vec![Bucket {
                start: 1_800_000_000_000_000_000,
                count: 7,
            }]),
            top: BTreeMap::from([(
                "host".to_owned(),
                vec![hark_store::TopValue {
                    value: "fw1".into(),
                    count: 7,
                }],
            )]),
            took_ms: 3,
        }
    }

    #[test]
    fn plain_response_has_no_aggregations() {
        let body = response(&SearchRequest::new("*"), answer());
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
        let v = serde_json::to_value(response(&req, answer())).unwrap();
        assert_eq!(v["histogram"][0]["start"], "2027-01-15T08:00:00.000000000Z");
        assert_eq!(v["histogram"][0]["count"], 7);
        assert_eq!(v["top"]["host"][0]["value"], "fw1");
        assert_eq!(v["top"]["host"][0]["count"], 7);
        assert_eq!(v["top"]["app"], serde_json::json!([]));
    }
}
