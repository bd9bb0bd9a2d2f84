//! What the unit tests need to build a server: its state over a data
//! directory with no notifier, and a signed-in user's session.

use std::path::Path;
use std::sync::Arc;

use crate::ServerState;
use crate::identity::Role;
use crate::tokens::TokenStore;

/// The state of a server over `store` whose monitors are `monitoring`'s
/// configuration (`data_dir` holds their state), with no alert rules and no
/// notifier.
pub(crate) fn server_state(
    store: &hark_store::Store,
    monitoring: &hark_config::Config,
    tokens: TokenStore,
    auth: hark_auth::Authenticator,
    ports: Vec<hark_matrix::Flow>,
    tls: bool,
) -> ServerState {
    let data_dir: &Path = &monitoring.data_dir;
    ServerState {
        store: store.clone(),
        tokens,
        metrics: metrics_exporter_prometheus::PrometheusBuilder::new()
            .build_recorder()
            .handle(),
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
    }
}

/// The configuration of a server whose data lives in `data_dir`.
pub(crate) fn config_in(data_dir: &Path) -> hark_config::Config {
    hark_config::Config {
        data_dir: data_dir.to_owned(),
        ..hark_config::Config::default()
    }
}

/// A session of the local user `name` (who must exist) with `role`.
pub(crate) fn session_of(auth: &hark_auth::Authenticator, name: &str, role: Role) -> String {
    let origin = hark_auth::sessions::SessionOrigin::Local {
        generation: auth.users().lookup(name).unwrap().generation,
    };
    auth.sessions().create(name, role, origin).unwrap().0
}
