//! `hark forward`: the same binary as an edge forwarder. The configured
//! inputs write to a disk buffer (the store without an index), and the
//! uplink client sends it on to the center through the shared output loop.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use hark_config::{Config, ForwardConfig, HttpUrl, Overflow};
use hark_store::{Store, StoreConfig};
use hark_uplink::client::{ClientSettings, UplinkClient, enroll, is_enrolled};
use hark_uplink::enroll::EnrollToken;
use hark_uplink::forwarder::{CountingSink, HealthSources, report_health};
use tokio_util::sync::CancellationToken;

use super::forward_inputs::{Buffer, Inputs, follow};

/// The WAL reader the uplink follows.
pub const UPLINK_READER: &str = "uplink";
/// Events the inputs may have queued for the buffer: a forwarder keeps its memory small.
const APPEND_QUEUE_EVENTS: usize = 8_192;

/// Arguments of `hark forward`.
#[derive(Args)]
pub struct ForwardArgs {
    /// Configuration file (TOML) with a `[forward]` table.
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: PathBuf,
    /// Enrol with the center at this URL first (https://HOST:8515), then run.
    #[arg(long, requires = "token")]
    enroll: Option<String>,
    /// The enrolment token printed by `hark forwarder enroll-token` on the center.
    #[arg(long, env = "HARK_ENROLL_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// The buffer's settings: no index, the cap and overflow of `[forward]`.
pub fn buffer_config(cfg: &Config, forward: &ForwardConfig) -> StoreConfig {
    let mut sc = super::serve::store_config(cfg);
    sc.index = false;
    sc.append_queue_events = APPEND_QUEUE_EVENTS;
    let cap = forward.buffer_max.0;
    // Whole segments are dropped or kept: small ones keep the cap close.
    sc.wal_segment_bytes = (cap / 16).clamp(1 << 20, 64 << 20);
    let caps = BufferCaps::of(forward.buffer_max, forward.overflow);
    sc.wal_max_retained = caps.max_retained;
    sc.wal_lagging_reader = caps.lagging_reader;
    sc.wal_block_at = caps.block_at;
    sc
}

/// The store's WAL caps that make a buffer of `buffer_max` with `overflow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferCaps {
    /// The cap past which the uplink's reader loses the oldest events.
    pub max_retained: Option<u64>,
    /// What happens to the reader past it.
    pub lagging_reader: hark_store::LaggingReader,
    /// The cap at which appends wait.
    pub block_at: Option<u64>,
}

impl BufferCaps {
    /// The caps of `buffer_max` with `overflow`.
    pub fn of(buffer_max: hark_config::ByteSize, overflow: Overflow) -> BufferCaps {
        let cap = Some(buffer_max.0);
        match overflow {
            Overflow::Block => BufferCaps {
                max_retained: None,
                lagging_reader: hark_store::LaggingReader::Keep,
                block_at: cap,
            },
            Overflow::DropOldest => BufferCaps {
                max_retained: cap,
                lagging_reader: hark_store::LaggingReader::DropOldest,
                block_at: None,
            },
        }
    }

    /// Sets them on the running `store`.
    pub fn apply(self, store: &Store) {
        store.set_wal_caps(self.max_retained, self.lagging_reader, self.block_at);
    }
}

/// Enrols when asked, then runs until SIGINT or SIGTERM.
pub fn run(args: ForwardArgs) -> anyhow::Result<()> {
    super::serve::init_tracing();
    super::serve::release_memory_when_idle();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let local = Config::load(&args.config)?;
    if local.forward.is_none() {
        bail!(
            "{}: `hark forward` needs a [forward] table (name, center)",
            args.config.display()
        );
    }
    // The copy of the group's configuration kept from the last run, so
    // that its inputs and buffer settings apply while the center is away.
    let (cfg, group_version) = super::forward_inputs::at_start(&local);
    let Some(forward) = cfg.forward.clone() else {
        bail!("{}: no [forward] table", args.config.display());
    };
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
    let identity_dir = forward.identity_dir(&cfg.data_dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let Some(url) = &args.enroll {
        let url = HttpUrl::parse(url).with_context(|| format!("--enroll {url}"))?;
        let token = EnrollToken::parse(args.token.as_deref().unwrap_or_default())?;
        let group = runtime
            .block_on(enroll(&url, &token, &forward.name, &identity_dir))
            .with_context(|| format!("cannot enrol with {url}"))?;
        println!("enrolled {} in group {group}", forward.name);
    } else if !is_enrolled(&identity_dir) {
        bail!(
            "not enrolled ({} holds no identity); run once with --enroll https://CENTER:8515 --token TOKEN (from `hark forwarder enroll-token` on the center)",
            identity_dir.display()
        );
    }
    let store = Store::open(buffer_config(&cfg, &forward))
        .with_context(|| format!("cannot open the buffer in {}", cfg.data_dir.display()))?;
    let settings = ClientSettings {
        center: forward.center.clone(),
        identity_dir,
        buffer_id: hark_uplink::buffer_id(&cfg.data_dir)?,
        zstd_level: forward.zstd_level,
        batch_events: forward.batch_events,
    };
    let config_version = config_version(&args.config)?;
    let versions = Versions {
        file: config_version,
        group: Arc::new(std::sync::Mutex::new(group_version)),
    };
    let result = runtime.block_on(serve(local, cfg, store.clone(), settings, versions));
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    store.shutdown().context("closing the buffer")?;
    tracing::info!("stopped");
    result
}

/// The first 16 hex digits of the SHA-256 of the configuration file.
fn config_version(path: &std::path::Path) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(&Sha256::digest(&bytes)[..8]))
}

/// The versions a forwarder reports: of its file, and of the group configuration it runs.
struct Versions {
    file: String,
    group: Arc<std::sync::Mutex<String>>,
}

/// Runs the forwarder: `local` is its own file, `cfg` that file with the
/// group's configuration kept from the last run over it.
async fn serve(
    local: Config,
    cfg: Config,
    store: Store,
    settings: ClientSettings,
    versions: Versions,
) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let counting = Arc::new(CountingSink::new(store.clone()));
    let sink: Arc<dyn hark_event::sink::EventSink> = counting.clone();
    let inputs = Inputs::start(&cfg, sink, shutdown.clone()).await?;
    let reader = store
        .wal_reader(UPLINK_READER)
        .context("cannot open the buffer's uplink reader")?;
    let client = UplinkClient::new(&settings).context("cannot set up the uplink client")?;
    let statuses = hark_output::Statuses::default();
    let changed = Arc::new(tokio::sync::Notify::new());
    let health = tokio::spawn(report_health(
        HealthSources {
            store: store.clone(),
            reader: UPLINK_READER.to_owned(),
            sink: counting,
            statuses: statuses.clone(),
            config_version: versions.file,
            group_config_version: versions.group.clone(),
            group_config_changed: changed.clone(),
        },
        client.health_sender(),
        shutdown.clone(),
    ));
    let fetcher = client.config_fetcher();
    let buffer = Buffer {
        store: store.clone(),
        batch_events: client.batch_events(),
        settings: super::forward_inputs::buffer_settings(&cfg),
    };
    let uplink = tokio::spawn(hark_output::run(
        reader,
        None,
        client,
        shutdown.clone(),
        statuses.reporter(UPLINK_READER),
    ));

    let mut out = std::io::stdout().lock();
    super::serve::print_inputs(&mut out, inputs.running())?;
    writeln!(out, "forwarding to {}", settings.center)?;
    writeln!(out, "data {}", cfg.data_dir.display())?;
    writeln!(out, "ready")?;
    out.flush()?;
    drop(out);
    let following = tokio::spawn(follow(
        local,
        buffer,
        inputs,
        fetcher,
        versions.group,
        changed,
        shutdown.clone(),
    ));

    super::serve::wait_for_signal().await;
    tracing::info!("shutting down: stopping inputs, then the uplink");
    shutdown.cancel();
    if let Ok(inputs) = following.await {
        inputs.join().await;
    }
    let _ = uplink.await;
    let _ = health.await;
    Ok(())
}
