//! `POST /api/v1/ingest`: NDJSON events, answered once they are durable;
//! `507` with `Retry-After` while storage cannot write (a full disk).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use hark_event::now_nanos;
use hark_event::sink::SinkError;
use hark_ingest::telemetry;

use crate::api::IngestResponse;
use crate::error::ApiError;
use crate::ndjson::{self, INPUT_NAME};
use crate::routes::{Peer, body_error};
use crate::{INGEST_BODY_LIMIT, Shared};

/// `POST /api/v1/ingest`.
pub(crate) async fn post(
    State(app): State<Shared>,
    Peer(peer): Peer,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestResponse>, ApiError> {
    let body = body.map_err(|e| body_error(e, INGEST_BODY_LIMIT))?;
    let received_at = now_nanos();
    let source = peer.map(|p| p.to_string());
    // A full body is tens of megabytes of JSON: keep it off the async workers.
    let parsed = tokio::task::spawn_blocking(move || {
        ndjson::parse_body(&body, received_at, source.as_deref())
    })
    .await?;
    if parsed.rejected > 0 {
        telemetry::dropped(INPUT_NAME, "malformed", parsed.rejected as u64);
    }
    let accepted = parsed.events.len();
    if accepted > 0 {
        // While storage cannot write, the client hears so at once (507) and keeps its events.
        if let Some(e) = app.store.health().as_error() {
            return Err(e.into());
        }
        let durable = match app.store.append(parsed.events).await {
            Ok(ticket) => ticket.wait().await,
            Err(_) => Err(SinkError::ShuttingDown),
        };
        if let Err(e) = durable {
            telemetry::dropped(INPUT_NAME, "store_closed", accepted as u64);
            return Err(e.into());
        }
        telemetry::received(INPUT_NAME, accepted as u64);
    }
    Ok(Json(IngestResponse {
        accepted,
        rejected: parsed.rejected,
        errors: parsed.errors,
    }))
}
