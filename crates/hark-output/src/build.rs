//! Starting the configured outputs: one destination and one delivery
//! task per `[outputs.NAME]`, each on its WAL reader `output-NAME`.

use std::collections::BTreeMap;
use std::sync::Arc;

use hark_config::{OutputConfig, OutputDestination};
use hark_store::{Store, StoreError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::beats::BeatsDestination;
use crate::gelf::GelfDestination;
use crate::http::HttpDestination;
use crate::relp::RelpDestination;
use crate::syslog::SyslogDestination;
use crate::{Destination, Statuses, run};

/// The prefix of the WAL readers of outputs.
pub const READER_PREFIX: &str = "output-";

/// The WAL reader of output `name`.
pub fn reader_name(output: &str) -> String {
    format!("{READER_PREFIX}{output}")
}

/// An output that cannot start, blaming the key of `[outputs.NAME]`.
#[derive(Debug, thiserror::Error)]
#[error("outputs.{output}.{key}: {message}")]
pub struct SetupError {
    /// The output's name.
    pub output: String,
    /// The key to blame.
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

impl SetupError {
    /// An error about `key` of output `output`.
    pub fn new(output: &str, key: &'static str, message: impl Into<String>) -> SetupError {
        SetupError {
            output: output.to_owned(),
            key,
            message: message.into(),
        }
    }
}

/// The running outputs.
pub struct Outputs {
    statuses: Statuses,
    tasks: Vec<JoinHandle<()>>,
}

impl Outputs {
    /// Builds every output of `outputs` (reading their files, compiling
    /// their queries) and starts them; each stops when `shutdown` is
    /// cancelled. Readers of outputs no longer configured are removed so
    /// they stop holding WAL segments. An output whose reader is detached
    /// is reported and not started; any other error stops the start.
    pub fn start(
        store: &Store,
        outputs: &BTreeMap<String, OutputConfig>,
        shutdown: &CancellationToken,
    ) -> Result<Outputs, SetupError> {
        for reader in store.wal_readers() {
            if let Some(name) = reader.strip_prefix(READER_PREFIX)
                && !outputs.contains_key(name)
            {
                match store.remove_wal_reader(&reader) {
                    Ok(_) => tracing::info!(
                        output = name,
                        "output no longer configured; removed its WAL reader"
                    ),
                    Err(e) => {
                        tracing::warn!(output = name, error = %e, "could not remove the WAL reader of an output no longer configured")
                    }
                }
            }
        }
        let statuses = Statuses::default();
        let mut started = Outputs {
            statuses: statuses.clone(),
            tasks: Vec::new(),
        };
        for (name, cfg) in outputs {
            let filter = match &cfg.query {
                Some(q) => Some(Arc::new(store.compile_filter(q).map_err(|e| {
                    SetupError::new(name, "query", format!("the query does not compile: {e}"))
                })?)),
                None => None,
            };
            let report = statuses.reporter(name);
            let reader = match store.wal_reader(&reader_name(name)) {
                Ok(reader) => reader,
                Err(e @ StoreError::ReaderDetached { .. }) => {
                    let why = e.to_string();
                    tracing::error!(output = %name, "{why}; the output does not start (see \"Re-attaching a detached output\" in the README)");
                    report.detached(&why);
                    continue;
                }
                Err(e) => {
                    return Err(SetupError::new(
                        name,
                        "type",
                        format!("cannot open its WAL reader: {e}"),
                    ));
                }
            };
            let stop = shutdown.child_token();
            let task = match &cfg.destination {
                OutputDestination::Syslog(c) => spawn(
                    reader,
                    filter,
                    SyslogDestination::new(name, c)?,
                    stop,
                    report,
                ),
                OutputDestination::Relp(c) => {
                    spawn(reader, filter, RelpDestination::new(name, c)?, stop, report)
                }
                OutputDestination::Http(c) => {
                    spawn(reader, filter, HttpDestination::new(name, c)?, stop, report)
                }
                OutputDestination::Gelf(c) => {
                    spawn(reader, filter, GelfDestination::new(name, c)?, stop, report)
                }
                OutputDestination::Beats(c) => spawn(
                    reader,
                    filter,
                    BeatsDestination::new(name, c)?,
                    stop,
                    report,
                ),
            };
            tracing::info!(output = %name, kind = cfg.kind().name(), "output started");
            started.tasks.push(task);
        }
        Ok(started)
    }

    /// The status of every output, for the admin page.
    pub fn statuses(&self) -> Statuses {
        self.statuses.clone()
    }

    /// Waits for every output to stop (after the shutdown token given to
    /// [`Outputs::start`] is cancelled).
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

fn spawn<D: Destination + 'static>(
    reader: hark_store::WalReader,
    filter: Option<Arc<hark_store::EventFilter>>,
    destination: D,
    stop: CancellationToken,
    report: crate::Reporter,
) -> JoinHandle<()> {
    tokio::spawn(run(reader, filter, destination, stop, report))
}
