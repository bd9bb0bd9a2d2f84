//! The API's error type and its JSON form: `{"error": "..."}`, plus
//! `"position"` on 400 responses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hark_event::sink::SinkError;
use hark_store::QueryError;

use serde_json::json;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, or one that is not known (401).
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A login with an unknown user name or a wrong password (401); one
    /// message for both.
    #[error("invalid user name or password")]
    LoginFailed,
    /// Too many failed logins for this user name or address (429, with `Retry-After`).
    #[error("too many failed logins; try again in {} s", retry_after_secs(*retry_after))]
    TooManyAttempts {
        /// When to try again.
        retry_after: std::time::Duration,
    },
    /// The LDAP directory cannot be reached for a login (503).
    #[error("the user directory is unavailable; try again later")]
    DirectoryUnavailable,
    /// The token's role does not allow this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request is wrong (400); `position` points into the query text when known.
    #[error("{message}")]
    BadRequest {
        /// What is wrong, for the client.
        message: String,
        /// Byte offset of the problem in the query text.
        position: Option<usize>,
    },
    /// The request body is larger than the route allows (413).
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The route's limit in bytes.
        limit: usize,
    },
    /// No such thing (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The store cannot take or serve data right now (503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Storage cannot write (a full disk): send again later (507, with `Retry-After`).
    #[error("storage cannot write, send again later: {0}")]
    InsufficientStorage(String),
    /// A fault on the server's side (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 that does not concern the query text.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            position: None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::LoginFailed => StatusCode::UNAUTHORIZED,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::DirectoryUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Syntax { message, position } => ApiError::BadRequest { message, position },
            QueryError::BadRequest(message) => ApiError::bad_request(message),
            QueryError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<SinkError> for ApiError {
    fn from(e: SinkError) -> Self {
        match e {
            SinkError::Unavailable { cause, .. } => ApiError::InsufficientStorage(cause),
            SinkError::Full | SinkError::ShuttingDown => ApiError::Unavailable(e.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("worker task failed: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::BadRequest { message, position } => {
                json!({ "error": message, "position": position })
            }
            ApiError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                json!({ "error": self.to_string() })
            }
            _ => json!({ "error": self.to_string() }),
        };
        let mut resp = (status, Json(body)).into_response();
        if let ApiError::TooManyAttempts { retry_after } = self {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(retry_after)),
            );
        }
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(
            self,
            ApiError::Unavailable(_) | ApiError::InsufficientStorage(_)
        ) {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(hark_ingest::RETRY_AFTER_SECS),
            );
        }
        resp
    }
}

/// Whole seconds to wait, rounded up (at least 1).
pub(crate) fn retry_after_secs(d: std::time::Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_errors_map_to_statuses() {
        let syntax = ApiError::from(QueryError::Syntax {
            message: "unexpected )".into(),
            position: Some(4),
        });
        assert_eq!(syntax.status(), StatusCode::BAD_REQUEST);
        assert!(matches!(
            syntax,
            ApiError::BadRequest {
                position: Some(4),
                ..
            }
        ));
        let bad = ApiError::from(QueryError::BadRequest("bad cursor".into()));
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let internal = ApiError::from(QueryError::Internal("boom".into()));
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn unauthorized_carries_challenge() {
        let resp = ApiError::Unauthorized.into_response();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
