//! The inputs of `hark forward`, kept in step with its group's central
//! configuration: every [`GROUP_POLL`], and when the answer to a health
//! report names another version, the forwarder asks the center for the
//! group's document, merges it over its own file and, without a restart,
//! starts the inputs that were added, stops those removed and restarts
//! those whose settings changed. Each input runs under its own
//! cancellation token, a child of the forwarder's.
//!
//! The buffer settings of a group (`buffer_max`, `overflow`,
//! `batch_events`) apply without a restart too: the buffer's caps change
//! in place, and the next batch has the new size. The size of the
//! buffer's segment files is chosen at start only.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use hark_config::{ByteSize, Config, FileInput, InputConfig, Overflow};
use hark_event::sink::EventSink;
use hark_ingest::RunningInput;
use hark_ingest::rdns::ReverseDns;
use hark_uplink::client::ConfigFetcher;
use hark_uplink::groups::{self, GroupDocument};
use tokio_util::sync::CancellationToken;

/// How often the forwarder asks the center for its group's configuration.
pub const GROUP_POLL: Duration = Duration::from_secs(30);

/// One input as configured: a listener or a file input.
enum Wanted<'a> {
    Listener(&'a InputConfig),
    File(&'a FileInput),
}

impl Wanted<'_> {
    /// The parsed settings, to tell whether an input changed. They are
    /// compared through their `Debug` form: some hold regular
    /// expressions, which have no equality.
    fn settings(&self) -> String {
        match self {
            Wanted::Listener(i) => format!("{i:?}"),
            Wanted::File(f) => format!("{f:?}"),
        }
    }
}

/// A running input and what stops it alone.
struct Running {
    input: RunningInput,
    stop: CancellationToken,
    settings: String,
}

/// The forwarder's running inputs, by name.
pub struct Inputs {
    sink: Arc<dyn EventSink>,
    shutdown: CancellationToken,
    rdns: ReverseDns,
    data_dir: PathBuf,
    running: BTreeMap<String, Running>,
}

fn wanted(cfg: &Config) -> BTreeMap<&str, Wanted<'_>> {
    let listeners = cfg
        .inputs
        .iter()
        .map(|(n, i)| (n.as_str(), Wanted::Listener(i)));
    let files = cfg
        .file_inputs
        .iter()
        .map(|(n, f)| (n.as_str(), Wanted::File(f)));
    listeners.chain(files).collect()
}

impl Inputs {
    /// Starts every input of `cfg`; fails on the first that cannot start.
    pub async fn start(
        cfg: &Config,
        sink: Arc<dyn EventSink>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Inputs> {
        let mut inputs = Inputs {
            sink,
            shutdown,
            rdns: ReverseDns::from_config(cfg),
            data_dir: cfg.data_dir.clone(),
            running: BTreeMap::new(),
        };
        let parsing = hark_ingest::Parsing::from_config(cfg, &inputs.rdns)?;
        for (name, want) in wanted(cfg) {
            inputs.start_one(&parsing, name, &want).await?;
        }
        Ok(inputs)
    }

    /// The running inputs, by name.
    pub fn running(&self) -> impl Iterator<Item = &RunningInput> {
        self.running.values().map(|r| &r.input)
    }

    async fn start_one(
        &mut self,
        parsing: &hark_ingest::Parsing,
        name: &str,
        want: &Wanted<'_>,
    ) -> anyhow::Result<()> {
        let stop = self.shutdown.child_token();
        let input = match want {
            Wanted::Listener(i) => {
                hark_ingest::start(name, i, self.sink.clone(), parsing.stage(i), stop.clone())
                    .await?
            }
            Wanted::File(f) => hark_ingest::start_file(
                name,
                f,
                &self.data_dir,
                self.sink.clone(),
                parsing.stage_of(&f.parsers),
                stop.clone(),
            )?,
        };
        tracing::info!(input = %name, transport = input.transport, endpoint = %input.endpoint, "input started");
        self.running.insert(
            name.to_owned(),
            Running {
                input,
                stop,
                settings: want.settings(),
            },
        );
        Ok(())
    }

    async fn stop_one(&mut self, name: &str) {
        if let Some(r) = self.running.remove(name) {
            r.stop.cancel();
            r.input.join().await;
            tracing::info!(input = %name, "input stopped");
        }
    }

    /// Brings the running inputs to those of `cfg`: starts the new ones,
    /// stops the removed ones and restarts the changed ones; the others
    /// run on untouched. Every input is tried; the error names the first
    /// that could not start.
    pub async fn apply(&mut self, cfg: &Config) -> anyhow::Result<()> {
        let parsing = hark_ingest::Parsing::from_config(cfg, &self.rdns)?;
        let wanted = wanted(cfg);
        let gone: Vec<String> = self
            .running
            .iter()
            .filter(|(name, r)| {
                wanted
                    .get(name.as_str())
                    .is_none_or(|w| w.settings() != r.settings)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in &gone {
            self.stop_one(name).await;
        }
        let mut first_error = None;
        for (name, want) in &wanted {
            if self.running.contains_key(*name) {
                continue;
            }
            if let Err(e) = self.start_one(&parsing, name, want).await {
                tracing::error!(input = %name, "cannot start the input: {e:#}");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Stops every input (the forwarder's token is cancelled) and waits for them.
    pub async fn join(self) {
        for (_, r) in self.running {
            r.stop.cancel();
            r.input.join().await;
        }
    }
}

/// The forwarder's own file with its group's document over it; the
/// document's version, empty when there is none.
pub fn merged(
    local: &Config,
    document: Option<&GroupDocument>,
) -> anyhow::Result<(Config, String)> {
    let Some(document) = document else {
        return Ok((local.clone(), String::new()));
    };
    let group = document
        .parse()
        .context("the group's central configuration is invalid")?;
    let cfg = group.merge_over(local).map_err(|e| {
        anyhow::anyhow!("the group's central configuration does not fit this forwarder's file: {e}")
    })?;
    Ok((cfg, document.version.clone()))
}

/// The forwarder's file with the copy of its group's document it kept,
/// and that document's version; the file alone when there is no copy or
/// it does not apply (logged).
pub fn at_start(local: &Config) -> (Config, String) {
    let cached = match groups::read_cached(&local.data_dir) {
        Ok(cached) => cached,
        Err(e) => {
            tracing::warn!("the kept group configuration is not used: {e}");
            None
        }
    };
    match merged(local, cached.as_ref()) {
        Ok(merged) => merged,
        Err(e) => {
            tracing::warn!("the kept group configuration is not used: {e:#}");
            (local.clone(), String::new())
        }
    }
}

/// The buffer settings of `cfg`: cap, overflow and batch size.
pub fn buffer_settings(cfg: &Config) -> Option<(ByteSize, Overflow, usize)> {
    cfg.forward
        .as_ref()
        .map(|f| (f.buffer_max, f.overflow, f.batch_events))
}

/// The running buffer and uplink, whose settings a group configuration may change.
pub struct Buffer {
    /// The buffer.
    pub store: hark_store::Store,
    /// The uplink's batch size.
    pub batch_events: Arc<std::sync::atomic::AtomicUsize>,
    /// The settings in force.
    pub settings: Option<(ByteSize, Overflow, usize)>,
}

impl Buffer {
    /// Puts the buffer settings of `cfg` in force, when they differ.
    fn apply(&mut self, cfg: &Config) {
        let wanted = buffer_settings(cfg);
        if wanted == self.settings {
            return;
        }
        if let Some((buffer_max, overflow, batch_events)) = wanted {
            super::forward::BufferCaps::of(buffer_max, overflow).apply(&self.store);
            self.batch_events
                .store(batch_events.max(1), std::sync::atomic::Ordering::Relaxed);
            tracing::info!(
                buffer_max = buffer_max.0,
                ?overflow,
                batch_events,
                "the buffer settings changed"
            );
        }
        self.settings = wanted;
    }
}

/// Asks the center for the group's configuration now, every
/// [`GROUP_POLL`] and when `changed` is notified (a health answer named
/// another version) until `shutdown`, and applies each new version to
/// `inputs` and `buffer`. `local` is the forwarder's own file. `applied`
/// holds the version running; a version that failed to apply is tried
/// again at the next poll. Returns the inputs.
pub async fn follow(
    local: Config,
    mut buffer: Buffer,
    mut inputs: Inputs,
    fetcher: ConfigFetcher,
    applied: Arc<Mutex<String>>,
    changed: Arc<tokio::sync::Notify>,
    shutdown: CancellationToken,
) -> Inputs {
    loop {
        match fetcher.fetch().await {
            Ok(document) => {
                let version = document
                    .as_ref()
                    .map(|d| d.version.clone())
                    .unwrap_or_default();
                let current = applied.lock().unwrap_or_else(|e| e.into_inner()).clone();
                if version != current {
                    match apply(&local, document.as_ref(), &mut inputs).await {
                        Ok(cfg) => {
                            buffer.apply(&cfg);
                            tracing::info!(version = %version, "applied the group's configuration");
                            *applied.lock().unwrap_or_else(|e| e.into_inner()) = version;
                        }
                        Err(e) => tracing::error!(version = %version, "{e:#}"),
                    }
                }
            }
            Err(e) => tracing::debug!("cannot read the group's configuration: {e}"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return inputs,
            _ = tokio::time::sleep(GROUP_POLL) => {}
            _ = changed.notified() => {}
        }
    }
}

/// Merges `document` over `local`, keeps it for the next start and brings
/// `inputs` in step; the merged configuration.
async fn apply(
    local: &Config,
    document: Option<&GroupDocument>,
    inputs: &mut Inputs,
) -> anyhow::Result<Config> {
    let (cfg, _) = merged(local, document)?;
    groups::write_cached(&local.data_dir, document)
        .context("cannot keep the group's configuration")?;
    inputs.apply(&cfg).await?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_over_a_file_adds_its_inputs() {
        let local = Config::from_toml_str(
            "hark.toml",
            "[inputs.udp]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"127.0.0.1:0\"\n",
        )
        .unwrap();
        let doc = GroupDocument::new(
            "web",
            "[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"127.0.0.1:0\"\n"
                .into(),
        );
        let (cfg, version) = merged(&local, Some(&doc)).unwrap();
        assert_eq!(version, doc.version);
        assert_eq!(cfg.inputs.keys().collect::<Vec<_>>(), ["tcp", "udp"]);
        let (cfg, version) = merged(&local, None).unwrap();
        assert_eq!(version, "");
        assert_eq!(cfg.inputs.keys().collect::<Vec<_>>(), ["udp"]);
    }

    /// Takes events and forgets them.
    struct Discard;

    impl EventSink for Discard {
        fn append(&self, _events: Vec<hark_event::Event>) -> hark_event::sink::AppendFuture<'_> {
            Box::pin(async { Ok(hark_event::sink::Receipt::done(0)) })
        }

        fn health(&self) -> hark_event::sink::Health {
            hark_event::sink::Health::Ready
        }
    }

    /// A syslog input on a port of its own: each name has its own loopback
    /// address, so that port 0 does not clash.
    fn input(name: &str, transport: &str) -> String {
        let ip = match name {
            "keep" => "127.0.0.1",
            "gone" => "127.0.0.2",
            "added" => "127.0.0.3",
            _ => "127.0.0.4",
        };
        format!(
            "[inputs.{name}]\ntype = \"syslog\"\ntransport = \"{transport}\"\nlisten = \"{ip}:0\"\n"
        )
    }

    fn listening(inputs: &Inputs, name: &str) -> Option<(std::net::SocketAddr, &'static str)> {
        inputs
            .running()
            .find(|i| i.name == name)
            .and_then(|i| Some((i.local_addr()?, i.transport)))
    }

    #[tokio::test]
    async fn inputs_added_start_removed_stop_changed_restart_and_the_rest_run_on() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = |inputs: &str| {
            let text = format!("data_dir = \"{}\"\n{inputs}", dir.path().display());
            Config::from_toml_str("forward.toml", &text).unwrap()
        };
        let shutdown = CancellationToken::new();
        let first = cfg(&format!("{}{}", input("keep", "tcp"), input("gone", "tcp")));
        let mut inputs = Inputs::start(&first, Arc::new(Discard), shutdown.clone())
            .await
            .unwrap();
        let (kept, _) = listening(&inputs, "keep").unwrap();
        let (gone, _) = listening(&inputs, "gone").unwrap();

        let second = format!(
            "{}{}{}",
            input("keep", "tcp"),
            input("added", "tcp"),
            input("changed", "tcp")
        );
        inputs.apply(&cfg(&second)).await.unwrap();
        // Bound to port 0, a restarted input would have another port.
        assert_eq!(listening(&inputs, "keep"), Some((kept, "tcp")));
        assert!(listening(&inputs, "gone").is_none());
        assert!(tokio::net::TcpStream::connect(gone).await.is_err());
        let (added, _) = listening(&inputs, "added").unwrap();
        tokio::net::TcpStream::connect(added).await.unwrap();
        tokio::net::TcpStream::connect(kept).await.unwrap();

        let third = format!(
            "{}{}{}",
            input("keep", "tcp"),
            input("added", "tcp"),
            input("changed", "udp")
        );
        inputs.apply(&cfg(&third)).await.unwrap();
        assert_eq!(listening(&inputs, "keep"), Some((kept, "tcp")));
        assert_eq!(listening(&inputs, "added"), Some((added, "tcp")));
        assert_eq!(listening(&inputs, "changed").map(|(_, t)| t), Some("udp"));

        shutdown.cancel();
        inputs.join().await;
        assert!(tokio::net::TcpStream::connect(kept).await.is_err());
    }
}
