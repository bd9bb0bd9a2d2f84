//! The communication matrix of the running configuration, its firewall
//! rules and its preflight.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hark_matrix::{CheckResult, Format};
use serde::Deserialize;

use crate::Shared;
use crate::error::ApiError;

/// `GET /api/v1/ports`: every port the server listens on or connects to,
/// the same list as `hark ports --format json`.
pub(crate) async fn get(State(app): State<Shared>) -> Json<Vec<hark_matrix::Flow>> {
    Json(app.ports.clone())
}

/// The firewalls `GET /api/v1/ports/rules` writes rules for.
pub(crate) const FIREWALLS: [Format; 4] = [
    Format::Nftables,
    Format::Iptables,
    Format::Firewalld,
    Format::Ufw,
];

/// The query of `GET /api/v1/ports/rules`.
#[derive(Debug, Deserialize)]
pub(crate) struct RulesParams {
    /// `nftables`, `iptables`, `firewalld` or `ufw`.
    format: Option<String>,
}

/// The file name of the rules for `format`.
pub(crate) fn rules_file_name(format: Format) -> String {
    let ext = match format {
        Format::Nftables => "nft",
        Format::Iptables => "rules",
        _ => "sh",
    };
    format!("hark-{}.{ext}", format.name())
}

/// `GET /api/v1/ports/rules?format=nftables`: the firewall rules as a download.
pub(crate) async fn rules(
    State(app): State<Shared>,
    Query(params): Query<RulesParams>,
) -> Result<Response, ApiError> {
    let names = || {
        FIREWALLS
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let name = params
        .format
        .ok_or_else(|| ApiError::bad_request(format!("format: missing; one of {}", names())))?;
    let format = FIREWALLS
        .iter()
        .copied()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            ApiError::bad_request(format!("format: {name:?} is not one of {}", names()))
        })?;
    let disposition = format!("attachment; filename=\"{}\"", rules_file_name(format));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            ),
        ],
        hark_matrix::render(&app.ports, format),
    )
        .into_response())
}

/// `POST /api/v1/ports/check`: the preflight of `hark ports --check`, run
/// by the server (its own listeners show as held by it).
pub(crate) async fn check(State(app): State<Shared>) -> Json<Vec<CheckResult>> {
    Json(hark_matrix::check(&app.ports).await)
}
