//! `/ports`: the communication matrix, the preflight and the firewall rules.

use askama::Template;
use axum::extract::{Extension, State};
use axum::response::Response;

use super::{Chrome, render};
use crate::Shared;
use crate::identity::Principal;
use crate::routes::ports::{FIREWALLS, rules_file_name};

struct FlowRow {
    direction: &'static str,
    source: String,
    destination: String,
    port: String,
    transport: &'static str,
    protocol: String,
    security: &'static str,
    component: String,
    purpose: String,
}

#[derive(Template)]
#[template(path = "ports.html")]
struct PortsPage {
    chrome: Chrome,
    flows: Vec<FlowRow>,
    /// Label, URL and file name of each firewall's rules.
    downloads: Vec<(&'static str, String, String)>,
}

/// `GET /ports`.
pub(crate) async fn page(
    State(app): State<Shared>,
    Extension(p): Extension<Principal>,
) -> Response {
    let flows = app
        .ports
        .iter()
        .map(|f| FlowRow {
            direction: f.direction.name(),
            source: f.source.to_string(),
            destination: f.destination.to_string(),
            port: f.port.to_string(),
            transport: f.transport.name(),
            protocol: f.protocol.clone(),
            security: f.security.name(),
            component: f.component.clone(),
            purpose: f.purpose.clone(),
        })
        .collect();
    render::ok(&PortsPage {
        chrome: Chrome::new(Some(p), "/ports"),
        flows,
        downloads: FIREWALLS
            .iter()
            .map(|f| {
                (
                    f.name(),
                    format!("/api/v1/ports/rules?format={}", f.name()),
                    rules_file_name(*f),
                )
            })
            .collect(),
    })
}
