//! Request handlers, one module per area, and the small extractors they share.

pub(crate) mod alerts;
pub(crate) mod export;
pub(crate) mod fields;
pub(crate) mod forwarders;
pub(crate) mod health;
pub(crate) mod ingest;
pub(crate) mod monitors;
pub(crate) mod notifications;
pub(crate) mod openapi;
pub(crate) mod outputs;
pub(crate) mod ports;
pub(crate) mod saved_searches;
pub(crate) mod search;
pub(crate) mod session;
pub(crate) mod sources;
pub(crate) mod tail;
pub(crate) mod tokens;
pub(crate) mod users;

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The client's address, when the server was started with connect info.
pub(crate) struct Peer(pub(crate) Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// A body that could not be read, as a JSON error (413 when over `limit`).
pub(crate) fn body_error(rejection: BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge { limit }
    } else {
        ApiError::bad_request(rejection.body_text())
    }
}
