//! The communication matrix of the running configuration.

use axum::Json;
use axum::extract::State;

use crate::Shared;

/// `GET /api/v1/ports`: every port the server listens on or connects to,
/// the same list as `hark ports --format json`.
pub(crate) async fn get(State(app): State<Shared>) -> Json<Vec<hark_matrix::Flow>> {
    Json(app.ports.clone())
}
