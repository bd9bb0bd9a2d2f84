//! `hark serve`: wires the store, the inputs and the HTTP API together.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use hark_config::{Config, Fsync, LaggingReader};
use hark_server::ServerState;
use hark_server::tokens::{Role, TokenStore};
use hark_store::{FsyncPolicy, Store, StoreConfig};
use tokio_util::sync::CancellationToken;

/// Arguments of `hark serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); the embedded defaults when absent.
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
}

/// Maps the configuration's storage section onto the store's settings.
pub fn store_config(cfg: &Config) -> StoreConfig {
    let mut sc = StoreConfig::new(&cfg.data_dir);
    sc.fsync = match cfg.storage.fsync {
        Fsync::Always => FsyncPolicy::Always,
        Fsync::Interval => FsyncPolicy::Interval(cfg.storage.fsync_interval.0),
        Fsync::Never => FsyncPolicy::Never,
    };
    sc.retention_max_age = Some(cfg.storage.retention_max_age.0);
    sc.retention_max_disk = cfg.storage.retention_max_disk.map(|b| b.0);
    sc.commit_interval = cfg.storage.commit_interval.0;
    sc.index_threads = cfg.storage.index_threads;
    sc.split_max_events = cfg.storage.split_max_events.get();
    sc.split_max_age = cfg.storage.split_max_age.0;
    sc.wal_max_retained = cfg.storage.wal_max_retained.map(|b| b.0);
    sc.wal_lagging_reader = match cfg.storage.wal_lagging_reader {
        LaggingReader::Keep => hark_store::LaggingReader::Keep,
        LaggingReader::Detach => hark_store::LaggingReader::Detach,
    };
    sc
}

/// Runs until SIGINT or SIGTERM, then stops inputs, drains, and closes the store.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    release_memory_when_idle();
    // Two rustls providers can end up compiled in; pick ring explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cfg = super::config::load(args.config.as_deref())?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
    let tokens = TokenStore::open(&cfg.data_dir)
        .with_context(|| format!("cannot open tokens in {}", cfg.data_dir.display()))?;
    let first_token = if tokens.is_empty() {
        Some(tokens.create(Role::Admin, "admin")?)
    } else {
        None
    };
    let directory = match &cfg.auth.ldap {
        Some(ldap) => {
            let directory = hark_ldap::LdapDirectory::new(ldap)
                .context("cannot set up LDAP sign-in ([auth.ldap])")?;
            Some(Arc::new(directory) as Arc<dyn hark_auth::login::Directory>)
        }
        None => None,
    };
    let auth = hark_auth::Authenticator::open(&cfg.data_dir, &cfg.auth, directory)
        .with_context(|| format!("cannot open users in {}", cfg.data_dir.display()))?;
    let first_admin = first_admin(&auth)?;
    let store = Store::open(store_config(&cfg))
        .with_context(|| format!("cannot open the store in {}", cfg.data_dir.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let firsts = Firsts {
        token: first_token,
        admin_password: first_admin,
    };
    let result = runtime.block_on(serve(cfg, store.clone(), tokens, auth, metrics, firsts));
    // The runtime goes first so no input still holds an append in flight.
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    store.shutdown().context("closing the store")?;
    tracing::info!("stopped");
    result
}

/// The first user's name.
const FIRST_ADMIN: &str = "admin";

/// On the first start (no user yet), adds the user `admin` with a random
/// password and returns the password.
fn first_admin(auth: &hark_auth::Authenticator) -> anyhow::Result<Option<String>> {
    if !auth.users().is_empty() {
        return Ok(None);
    }
    let password = hark_auth::password::generate(24);
    auth.users()
        .add(FIRST_ADMIN, Role::Admin, &password)
        .context("cannot add the first user")?;
    Ok(Some(password))
}

/// Secrets made on the first start, printed once.
struct Firsts {
    /// The first API token.
    token: Option<String>,
    /// The password of the first user, `admin`.
    admin_password: Option<String>,
}

async fn serve(
    cfg: Config,
    store: Store,
    tokens: TokenStore,
    auth: hark_auth::Authenticator,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    firsts: Firsts,
) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let sink: Arc<dyn hark_event::sink::EventSink> = Arc::new(store.clone());
    let reverse_dns = hark_ingest::rdns::ReverseDns::from_config(&cfg);
    let inputs = hark_ingest::start_all(&cfg, &sink, &shutdown, &reverse_dns).await?;
    let http = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .with_context(|| format!("cannot listen for HTTP on {}", cfg.http.listen))?;
    let http_addr = http.local_addr()?;
    let https = match &cfg.http.tls {
        Some(tls) => Some(
            hark_server::tls::identity(tls, &cfg.data_dir)
                .context("cannot start HTTPS ([http] tls, tls_cert, tls_key)")?,
        ),
        None => None,
    };
    let (uplink, forwarders) = match cfg.uplink.as_ref().filter(|u| u.enabled) {
        Some(u) => {
            let fleet = hark_uplink::fleet::Fleet::open(&cfg.data_dir)
                .context("cannot open the forwarder registry")?
                .with_down_after(u.down_after);
            let center = hark_uplink::center::Center::start(
                u,
                &cfg.data_dir,
                store.clone(),
                fleet.clone(),
                shutdown.clone(),
            )
            .await
            .context("cannot start the uplink for forwarders ([uplink])")?;
            (Some(center), Some(fleet))
        }
        None => (None, None),
    };
    let sink = StoreSink::start(store.clone());
    let liveness = match &forwarders {
        Some(fleet) => Some(watch_forwarders(&cfg, fleet, &sink, &shutdown)?),
        None => None,
    };
    let monitoring = hark_monitor::Monitoring::start(&cfg, Arc::new(sink.clone()))
        .context("cannot start monitoring")?;
    let notifier =
        hark_notify::Notifier::start(&cfg.data_dir, &cfg).context("cannot start notifications")?;
    let channels: Vec<&str> = cfg.notify.keys().map(String::as_str).collect();
    let alerting = hark_alert::Alerting::start(
        &store,
        &cfg,
        &cfg.data_dir,
        &channels,
        Arc::new(notifier.clone()),
    )
    .context("cannot start alerting")?;
    let outputs = hark_output::Outputs::start(&store, &cfg.outputs, &shutdown)
        .context("cannot start outputs")?;
    let state = ServerState {
        store: store.clone(),
        tokens,
        metrics,
        ports: hark_matrix::matrix(&cfg),
        monitoring: monitoring.clone(),
        alerting: alerting.clone(),
        notifier: Some(notifier.clone()),
        auth,
        tls: https.is_some(),
        reverse_dns,
        outputs: outputs.clone(),
        forwarders,
    };
    let http_shutdown = shutdown.clone();
    let stop_http = async move { http_shutdown.cancelled().await };
    let http_task = match &https {
        Some(identity) => {
            let listener = hark_server::tls::TlsListener::new(
                http,
                identity.acceptor.clone(),
                hark_server::tls::HTTPS_LISTENER,
            )?;
            tokio::spawn(hark_server::serve(listener, state, stop_http))
        }
        None => tokio::spawn(hark_server::serve(http, state, stop_http)),
    };

    let mut out = std::io::stdout().lock();
    print_inputs(&mut out, &inputs)?;
    if let Some(u) = &uplink {
        writeln!(out, "listening uplink https {}", u.local_addr)?;
        writeln!(out, "uplink ca sha256 {}", u.ca_fingerprint)?;
    }
    if !cfg.monitors.is_empty() {
        writeln!(out, "monitors {}", cfg.monitors.len())?;
    }
    if !cfg.notify.is_empty() {
        writeln!(out, "notify {}", cfg.notify.len())?;
    }
    if !cfg.outputs.is_empty() {
        writeln!(out, "outputs {}", cfg.outputs.len())?;
    }
    writeln!(
        out,
        "api {}://{}",
        cfg.http.scheme(),
        display_addr(http_addr)
    )?;
    if let Some(identity) = &https {
        writeln!(
            out,
            "tls certificate {}{} sha256 {}",
            identity.cert_path.display(),
            if identity.created { " (made now)" } else { "" },
            identity.fingerprint
        )?;
    }
    writeln!(
        out,
        "ui {}://{}/",
        cfg.http.scheme(),
        display_addr(http_addr)
    )?;
    if let Some(pw) = firsts.admin_password {
        writeln!(
            out,
            "admin user: {FIRST_ADMIN}  password: {pw}  (shown once; change it with hark user passwd {FIRST_ADMIN})"
        )?;
    }
    if let Some(t) = firsts.token {
        writeln!(out, "admin token: {t}")?;
        writeln!(
            out,
            "  (shown once; export HARK_TOKEN={t} for `hark query` and `hark tail`)"
        )?;
    }
    writeln!(out, "data {}", cfg.data_dir.display())?;
    writeln!(out, "ready")?;
    out.flush()?;
    drop(out);

    wait_for_signal().await;
    tracing::info!("shutting down: stopping inputs, draining, closing the store");
    shutdown.cancel();
    monitoring.shutdown().await;
    for i in inputs {
        i.join().await;
    }
    if let Some(u) = uplink {
        u.join().await;
    }
    if let Some(l) = liveness {
        let _ = l.await;
    }
    sink.close().await;
    // Outputs stop on the shutdown token; what is in flight is offered
    // again after the restart (it is not committed).
    outputs.join().await;
    alerting.shutdown().await;
    notifier.shutdown().await;
    match http_task.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("HTTP server: {e}"),
        Err(e) => tracing::warn!("HTTP server task: {e}"),
    }
    Ok(())
}

/// Watches the forwarders' liveness and writes each change as the state
/// change of monitor `forwarder/NAME` (type `forwarder`).
fn watch_forwarders(
    cfg: &Config,
    fleet: &hark_uplink::fleet::Fleet,
    sink: &StoreSink,
    shutdown: &CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use hark_monitor::EventSink;
    use hark_monitor::event::{Observed, observed_event};
    use hark_monitor::state::State;
    use hark_uplink::liveness::{self, Liveness};
    let watch = liveness::Watch::open(&cfg.data_dir)
        .context("cannot open the forwarders' liveness states")?;
    let state = |l: Liveness| match l {
        Liveness::Up => State::Up,
        Liveness::Down => State::Down,
    };
    let sink = sink.clone();
    let on_change = move |change: liveness::LivenessChange| {
        sink.emit(observed_event(&Observed {
            monitor: &change.monitor,
            kind: "forwarder",
            host: &change.forwarder,
            state: state(change.state),
            previous: change.previous.map_or(State::Pending, state),
            output: &change.output,
            at: hark_event::now_nanos(),
        }));
    };
    Ok(tokio::spawn(liveness::watch(
        fleet.clone(),
        watch,
        on_change,
        shutdown.clone(),
    )))
}

/// Hands monitor state changes to the store in batches, without blocking
/// the checks; [`StoreSink::close`] waits until they are in the WAL.
#[derive(Clone)]
struct StoreSink {
    tx: tokio::sync::mpsc::UnboundedSender<hark_event::Event>,
    /// Ends the task once what was sent is stored, although clones of the
    /// sender (held by the monitoring service) are still alive.
    stop: CancellationToken,
    done: Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl StoreSink {
    fn start(store: Store) -> StoreSink {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<hark_event::Event>();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut batch = Vec::new();
            loop {
                let n = tokio::select! {
                    n = rx.recv_many(&mut batch, 1024) => n,
                    _ = stopped.cancelled() => {
                        // Take no more; drain what is queued, then end.
                        rx.close();
                        rx.recv_many(&mut batch, 1024).await
                    }
                };
                if n == 0 {
                    break;
                }
                let events = std::mem::take(&mut batch);
                store_retrying(&store, events).await;
            }
        });
        StoreSink {
            tx,
            stop,
            done: Arc::new(tokio::sync::Mutex::new(Some(task))),
        }
    }

    /// Stops taking events and waits until those taken are stored.
    async fn close(self) {
        self.stop.cancel();
        if let Some(task) = self.done.lock().await.take() {
            let _ = task.await;
        }
    }
}

/// Appends monitor state changes, trying again every second while the
/// store refuses them (alert rules follow these events, so none may be
/// lost); gives up only when the store shuts down.
async fn store_retrying(store: &Store, events: Vec<hark_event::Event>) {
    use hark_event::sink::SinkError;
    use hark_store::StoreError;
    let mut logged = false;
    loop {
        let result = match store.append(events.clone()).await {
            Ok(ticket) => ticket.wait().await.map(drop).map_err(StoreError::from),
            Err(e) => Err(e),
        };
        let e = match result {
            Ok(()) => return,
            Err(e) => e,
        };
        if matches!(
            e,
            StoreError::Closed | StoreError::Durability(SinkError::ShuttingDown)
        ) {
            tracing::error!(
                events = events.len(),
                "monitor state changes not stored, the store is closing: {e}"
            );
            return;
        }
        if !logged {
            tracing::error!(
                events = events.len(),
                "cannot store monitor state changes, retrying every second: {e}"
            );
            logged = true;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

impl hark_monitor::EventSink for StoreSink {
    fn emit(&self, event: hark_event::Event) {
        let _ = self.tx.send(event);
    }
}

/// A wildcard listen address is shown as loopback, which is where a local user reaches it.
pub fn display_addr(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Lets jemalloc's background threads give unused pages back to the system
/// within seconds, so the resident size falls after a load.
pub(crate) fn release_memory_when_idle() {
    #[cfg(not(target_env = "msvc"))]
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::debug!("jemalloc background threads unavailable: {e}");
    }
}

pub(crate) fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HARK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints a line per running input: `listening NAME TRANSPORT ADDR` for a
/// listener, `following NAME GLOB…` for a file input.
pub(crate) fn print_inputs<'a>(
    out: &mut impl std::io::Write,
    inputs: impl IntoIterator<Item = &'a hark_ingest::RunningInput>,
) -> std::io::Result<()> {
    for i in inputs {
        match &i.endpoint {
            hark_ingest::Endpoint::Listening(addr) => {
                writeln!(out, "listening {} {} {addr}", i.name, i.transport)?;
                tracing::debug!(input = %i.name, transport = i.transport, %addr, "listening");
            }
            hark_ingest::Endpoint::Following(globs) => {
                writeln!(out, "following {} {}", i.name, globs.join(" "))?;
                tracing::debug!(input = %i.name, globs = ?globs, "following files");
            }
        }
    }
    Ok(())
}
