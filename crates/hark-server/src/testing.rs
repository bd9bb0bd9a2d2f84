//! Fixtures for tests of this crate and of the crates that serve it: a
//! server's state over a data directory with no notifier, and a signed-in
//! user's session. They panic when the directory cannot be used.

use std::path::Path;
use std::sync::Arc;

use crate::ServerState;
use crate::identity::Role;
use crate::tokens::TokenStore;

/// What a test server is made of besides its store and configuration.
pub struct Parts {
    /// The API tokens.
    pub tokens: TokenStore,
    /// Users and sessions.
    pub auth: hark_auth::Authenticator,
    /// The communication matrix `/api/v1/ports` shows.
    pub ports: Vec<hark_matrix::Flow>,
    /// Whether the server is reached over TLS.
    pub tls: bool,
    /// What `/metrics` renders.
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

/// A metrics handle of its own (not the process-wide recorder).
pub fn private_metrics() -> metrics_exporter_prometheus::PrometheusHandle {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .build_recorder()
        .handle()
}

/// The state of a server over `store` whose monitors are `monitoring`'s
/// configuration (`data_dir` holds their state), with no alert rules and no
/// notifier.
pub fn server_state(
    store: &hark_store::Store,
    monitoring: &hark_config::Config,
    parts: Parts,
) -> ServerState {
    let data_dir: &Path = &monitoring.data_dir;
    let Parts {
        tokens,
        auth,
        ports,
        tls,
        metrics,
    } = parts;
    ServerState {
        store: store.clone(),
        tokens,
        metrics,
        ports,
        monitoring: hark_monitor::Monitoring::start(
            monitoring,
            Arc::new(hark_monitor::service::NullSink),
        )
        .unwrap(),
        alerting: hark_alert::Alerting::start(
            store,
            &hark_config::Config::default(),
            data_dir,
            &[],
            Arc::new(hark_alert::NoOutbox),
        )
        .unwrap(),
        notifier: None,
        auth,
        tls,
        reverse_dns: hark_ingest::rdns::ReverseDns::new(Default::default()),
        outputs: Default::default(),
        forwarders: None,
    }
}

/// The configuration of a server whose data lives in `data_dir`.
pub fn config_in(data_dir: &Path) -> hark_config::Config {
    hark_config::Config {
        data_dir: data_dir.to_owned(),
        ..hark_config::Config::default()
    }
}

/// A session of the local user `name` (who must exist) with `role`.
pub fn session_of(auth: &hark_auth::Authenticator, name: &str, role: Role) -> String {
    let origin = hark_auth::sessions::SessionOrigin::Local {
        generation: auth.users().lookup(name).unwrap().generation,
    };
    auth.sessions().create(name, role, origin).unwrap().0
}
