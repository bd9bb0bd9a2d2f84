//! Starting the configured outputs: one destination and one delivery
//! task per `[outputs.NAME]`, each on its WAL reader `output-NAME`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use hark_config::{OutputConfig, OutputDestination};
use hark_store::{EventFilter, Store, StoreError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::beats::BeatsDestination;
use crate::gelf::GelfDestination;
use crate::http::HttpDestination;
use crate::relp::RelpDestination;
use crate::syslog::SyslogDestination;
use crate::{Destination, OutputState, Statuses, run};

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

/// Why an output was not re-attached.
#[derive(Debug, thiserror::Error)]
pub enum ReattachError {
    /// No output of that name is configured.
    #[error("no output `{0}` is configured")]
    Unknown(String),
    /// The output is not detached: it is running (or stopped for another reason).
    #[error("output `{0}` is not detached")]
    NotDetached(String),
    /// Its reader could not be removed or registered again.
    #[error("output `{output}`: {source}")]
    Store {
        /// The output.
        output: String,
        /// The store's error.
        source: StoreError,
    },
    /// Its destination could not be built again.
    #[error(transparent)]
    Setup(#[from] SetupError),
}

/// The running outputs. Cheap to clone; the default has none.
#[derive(Clone, Default)]
pub struct Outputs {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The store the outputs read; `None` when there are none.
    store: Option<Store>,
    configs: BTreeMap<String, OutputConfig>,
    filters: BTreeMap<String, Option<Arc<EventFilter>>>,
    shutdown: CancellationToken,
    statuses: Statuses,
    /// Each output's delivery task, by name.
    tasks: Mutex<BTreeMap<String, JoinHandle<()>>>,
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
        let mut filters = BTreeMap::new();
        for (name, cfg) in outputs {
            let filter = match &cfg.query {
                Some(q) => Some(Arc::new(store.compile_filter(q).map_err(|e| {
                    SetupError::new(name, "query", format!("the query does not compile: {e}"))
                })?)),
                None => None,
            };
            filters.insert(name.clone(), filter);
        }
        let started = Outputs {
            inner: Arc::new(Inner {
                store: Some(store.clone()),
                configs: outputs.clone(),
                filters,
                shutdown: shutdown.clone(),
                statuses: Statuses::default(),
                tasks: Mutex::default(),
            }),
        };
        for name in outputs.keys() {
            match started.start_one(name) {
                Ok(()) => {}
                Err(StartError::Detached(why)) => {
                    tracing::error!(output = %name, "{why}; the output does not start (re-attach it with `hark outputs reattach {name}`)");
                    started.inner.statuses.reporter(name).detached(&why);
                }
                Err(StartError::Reader(e)) => {
                    return Err(SetupError::new(
                        name,
                        "type",
                        format!("cannot open its WAL reader: {e}"),
                    ));
                }
                Err(StartError::Setup(e)) => return Err(e),
            }
        }
        Ok(started)
    }

    /// Opens the reader of configured output `name`, builds its destination
    /// and starts its delivery task.
    fn start_one(&self, name: &str) -> Result<(), StartError> {
        let inner = &self.inner;
        let (Some(store), Some(cfg)) = (&inner.store, inner.configs.get(name)) else {
            return Ok(());
        };
        let reader = match store.wal_reader(&reader_name(name)) {
            Ok(reader) => reader,
            Err(e @ StoreError::ReaderDetached { .. }) => {
                return Err(StartError::Detached(e.to_string()));
            }
            Err(e) => return Err(StartError::Reader(e)),
        };
        let filter = inner.filters.get(name).cloned().flatten();
        let report = inner.statuses.reporter(name);
        let stop = inner.shutdown.child_token();
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
        self.tasks().insert(name.to_owned(), task);
        Ok(())
    }

    /// Starts detached output `name` again from the newest event: its
    /// reader is removed and registered anew, so what was appended while
    /// it was detached is not sent. Works while the server runs.
    pub async fn reattach(&self, name: &str) -> Result<(), ReattachError> {
        let inner = &self.inner;
        let Some(store) = inner
            .store
            .as_ref()
            .filter(|_| inner.configs.contains_key(name))
        else {
            return Err(ReattachError::Unknown(name.to_owned()));
        };
        let detached = inner
            .statuses
            .snapshot()
            .get(name)
            .is_some_and(|s| s.state == OutputState::Detached);
        if !detached {
            return Err(ReattachError::NotDetached(name.to_owned()));
        }
        // The task stopped when it was detached; once it has ended its
        // reader is closed and can be removed.
        let ended = self.tasks().remove(name);
        if let Some(task) = ended {
            let _ = task.await;
        }
        let store_error = |source| ReattachError::Store {
            output: name.to_owned(),
            source,
        };
        store
            .remove_wal_reader(&reader_name(name))
            .map_err(store_error)?;
        match self.start_one(name) {
            Ok(()) => {
                tracing::warn!(output = %name, "re-attached a detached output; it goes on from the newest event");
                Ok(())
            }
            Err(StartError::Detached(why)) => Err(store_error(StoreError::Reader(why))),
            Err(StartError::Reader(e)) => Err(store_error(e)),
            Err(StartError::Setup(e)) => Err(e.into()),
        }
    }

    /// The status of every output, for the admin page.
    pub fn statuses(&self) -> Statuses {
        self.inner.statuses.clone()
    }

    /// Waits for every output to stop (after the shutdown token given to
    /// [`Outputs::start`] is cancelled).
    pub async fn join(&self) {
        let tasks = std::mem::take(&mut *self.tasks());
        for (_, task) in tasks {
            let _ = task.await;
        }
    }

    fn tasks(&self) -> MutexGuard<'_, BTreeMap<String, JoinHandle<()>>> {
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Why one output did not start.
enum StartError {
    /// Its reader is detached.
    Detached(String),
    /// Its reader could not be opened.
    Reader(StoreError),
    /// Its destination could not be built.
    Setup(SetupError),
}

impl From<SetupError> for StartError {
    fn from(e: SetupError) -> StartError {
        StartError::Setup(e)
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
