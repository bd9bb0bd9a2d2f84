//! `GET /api/v1/tail`: live events matching a query, as Server-Sent Events,
//! or as WebSocket text messages when the request is an upgrade.
//!
//! With `backlog=N` the newest `N` stored events that match come first,
//! oldest first, then the live ones, with none missed or repeated between
//! them ([`hark_store::Store::subscribe_with_backlog`]).
//!
//! A subscriber that falls behind loses the oldest batches; it is told how
//! many events it missed (a `{"lagged": n}` message, in both forms) and
//! stays connected; `hark_tail_dropped_events_total{subscriber="api_tail"}`
//! counts them.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};
use hark_event::{Event, EventJson};
use hark_store::{EventFilter, Tail, TailError};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::params::TailParams;
use crate::{Shared, TAIL_KEEPALIVE};

/// The label of API tail subscribers in the metrics.
const SUBSCRIBER: &str = "api_tail";

/// `GET /api/v1/tail?q=…`.
pub(crate) async fn get(
    State(app): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<TailParams>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let backlog = params
        .backlog()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let q = params.q.unwrap_or_default();
    // Compiled before answering, so a bad query is a 400 and not a broken stream.
    let filter = app.store.compile_filter(&q)?;
    let closing = app.closing.clone();
    let upgrade = match upgrade {
        Ok(ws) => Some(ws),
        Err(rejection) if wants_websocket(&headers) => return Ok(rejection.into_response()),
        Err(_) => None,
    };
    let (history, rx) = subscribe(&app, q, backlog).await?;
    match upgrade {
        Some(ws) => {
            Ok(ws.on_upgrade(move |socket| run_websocket(socket, history, rx, filter, closing)))
        }
        None => Ok(sse(history, rx, filter, closing).into_response()),
    }
}

/// Subscribes to live events, with the newest `backlog` stored ones that
/// match `q` (oldest first) when asked.
async fn subscribe(
    app: &Shared,
    q: String,
    backlog: usize,
) -> Result<(Vec<Event>, Tail), ApiError> {
    if backlog == 0 {
        return Ok((Vec::new(), app.store.subscribe(SUBSCRIBER)));
    }
    let store = app.store.clone();
    let b =
        tokio::task::spawn_blocking(move || store.subscribe_with_backlog(SUBSCRIBER, &q, backlog))
            .await??;
    Ok((b.history, b.tail))
}

/// Whether the client asked for a WebSocket (so a failed upgrade is its error, not a cue for SSE).
fn wants_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn sse(
    history: Vec<Event>,
    rx: Tail,
    filter: EventFilter,
    closing: watch::Receiver<bool>,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    let history: Vec<Result<SseEvent, Infallible>> = history
        .iter()
        .filter_map(|ev| serde_json::to_string(&EventJson::from(ev)).ok())
        .map(|json| Ok(SseEvent::default().data(json)))
        .collect();
    let batches = stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Err(TailError::Closed) => None,
            item => Some((item, rx)),
        }
    });
    let events = stream::iter(history)
        .chain(batches.flat_map(move |item| stream::iter(sse_events(&filter, item))))
        .take_until(shut_down(closing));
    Sse::new(events).keep_alive(KeepAlive::new().interval(TAIL_KEEPALIVE))
}

fn sse_events(
    filter: &EventFilter,
    item: Result<Arc<Vec<Event>>, TailError>,
) -> Vec<Result<SseEvent, Infallible>> {
    match item {
        Ok(batch) => matching_json(filter, &batch)
            .map(|json| Ok(SseEvent::default().data(json)))
            .collect(),
        // A data message, not a comment: EventSource shows only data.
        Err(TailError::Lagged(n)) => vec![Ok(SseEvent::default().data(lagged_message(n)))],
        Err(TailError::Closed | TailError::Empty) => Vec::new(),
    }
}

/// The JSON text of each event in `batch` that `filter` accepts.
fn matching_json<'a>(
    filter: &EventFilter,
    batch: &'a [Event],
) -> impl Iterator<Item = String> + 'a {
    filter
        .matching(batch)
        .into_iter()
        .filter_map(|i| batch.get(i))
        .filter_map(|ev| serde_json::to_string(&EventJson::from(ev)).ok())
}

async fn shut_down(mut closing: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means shutting down.
    let _ = closing.wait_for(|c| *c).await;
}

async fn run_websocket(
    mut socket: WebSocket,
    history: Vec<Event>,
    mut rx: Tail,
    filter: EventFilter,
    closing: watch::Receiver<bool>,
) {
    for ev in &history {
        let Ok(json) = serde_json::to_string(&EventJson::from(ev)) else {
            continue;
        };
        if socket.send(Message::Text(json.into())).await.is_err() {
            return;
        }
    }
    drop(history);
    let shutdown = shut_down(closing);
    tokio::pin!(shutdown);
    let mut ping = tokio::time::interval(TAIL_KEEPALIVE);
    ping.tick().await;
    loop {
        let outgoing: Vec<Message> = tokio::select! {
            batch = rx.recv() => match batch {
                Ok(batch) => matching_json(&filter, &batch)
                    .map(|json| Message::Text(json.into()))
                    .collect(),
                Err(TailError::Lagged(n)) => {
                    vec![Message::Text(lagged_message(n).into())]
                }
                Err(TailError::Closed | TailError::Empty) => break,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            },
            _ = ping.tick() => vec![Message::Ping(Default::default())],
            () = &mut shutdown => break,
        };
        for msg in outgoing {
            if socket.send(msg).await.is_err() {
                return;
            }
        }
    }
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: close_code::AWAY,
            reason: "server shutting down".into(),
        })))
        .await;
}

/// The `{"lagged": n}` notice.
fn lagged_message(n: u64) -> String {
    serde_json::to_string(&crate::api::TailMessage::Lagged { lagged: n })
        .unwrap_or_else(|_| format!("{{\"lagged\":{n}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_detection() {
        let mut h = HeaderMap::new();
        assert!(!wants_websocket(&h));
        h.insert(header::UPGRADE, "WebSocket".parse().unwrap());
        assert!(wants_websocket(&h));
        h.insert(header::UPGRADE, "h2c".parse().unwrap());
        assert!(!wants_websocket(&h));
    }
}
