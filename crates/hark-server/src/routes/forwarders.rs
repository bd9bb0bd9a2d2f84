//! The forwarders that send to this server through the uplink.

use axum::Json;
use axum::extract::State;
use hark_uplink::fleet::ForwarderView;

use crate::Shared;

/// `GET /api/v1/forwarders`: every enrolled forwarder, its status (`up`,
/// `down` after a minute without a report, `unknown`, `revoked`) and its
/// last health report; empty when the uplink is off.
pub(crate) async fn list(State(app): State<Shared>) -> Json<Vec<ForwarderView>> {
    let views = match &app.forwarders {
        Some(fleet) => {
            let fleet = fleet.clone();
            tokio::task::spawn_blocking(move || fleet.views())
                .await
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    Json(views)
}
