//! Hark's notifications: never lost, never sent twice.
//!
//! A caller (the alert engine) hands a [`Notification`] to
//! [`Notifier::submit`], which returns once it is fsynced to the outbox
//! under `data_dir/notify/`. One task per `[notify.NAME]` channel then
//! groups what is pending (`group_wait`, `group_interval`), renders one
//! message (a digest when several are pending), sends it by SMTP or
//! webhook, records the answer durably, and retries with backoff until the
//! server accepts or `give_up_after` passes. Each message carries a stable
//! id (`Message-ID`, `X-Hark-Notification-Id`), and after a restart only
//! what is not recorded as sent goes out.
//! See `docs/internals/notifications.md` for the outbox and the state machine.
//!
//! ```no_run
//! # async fn demo(cfg: hark_config::Config) -> Result<(), hark_notify::NotifyError> {
//! use hark_notify::{Kind, Notification, Notifier};
//! let notifier = Notifier::start(&cfg.data_dir, &cfg)?;
//! notifier.submit(Notification {
//!     id: "ssh_bruteforce/host=web1/1767225600".into(),
//!     channel: "ops_mail".into(),
//!     rule: "ssh_bruteforce".into(),
//!     group: vec![("host".into(), "web1".into())],
//!     kind: Kind::Firing,
//!     severity: "critical".into(),
//!     summary: "ssh_bruteforce: count 25 > 20 in 5m on host=web1".into(),
//!     since: 1_767_225_600_000_000_000,
//!     at: 1_767_225_660_000_000_000,
//!     count: 25,
//!     samples: Vec::new(),
//!     query: Some("app:sshd AND \"Failed password\"".into()),
//! })?;
//! notifier.shutdown().await;
//! # Ok(()) }
//! ```

mod channel;
mod delivery;
mod model;
mod outbox;
mod render;
pub mod schedule;
mod telemetry;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use model::{Attempt, DeliveryState, Kind, Notification, NotificationRecord, Sample};
pub use outbox::OutboxError;
pub use render::RenderError;

use channel::Sender;
use outbox::{Entry, Outbox};
use render::Renderer;
use schedule::Grouping;

/// What can go wrong with notifications.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The notification names a channel that is not configured.
    #[error("unknown notification channel `{channel}`; configured: {known}")]
    UnknownChannel {
        /// The name asked for.
        channel: String,
        /// The configured channels, or `none`.
        known: String,
    },
    /// The outbox could not be read or written.
    #[error("notification outbox: {0}")]
    Outbox(#[from] OutboxError),
    /// A channel could not be set up (secret, CA or template file, address).
    #[error("channel `{channel}`: {message}")]
    Setup {
        /// The channel.
        channel: String,
        /// What is wrong.
        message: String,
    },
    /// A message could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The server did not accept the message.
    #[error("channel `{channel}`: {answer}")]
    Send {
        /// The channel.
        channel: String,
        /// The server's answer or the network error.
        answer: String,
    },
}

/// The notification service: the outbox and a delivery task per channel.
/// Cheap to clone; the tasks stop when [`Notifier::shutdown`] is called or
/// the last clone is dropped.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
    _stop_on_drop: Arc<StopOnDrop>,
}

/// What the handles and the delivery tasks share.
pub(crate) struct Inner {
    outbox: Mutex<Outbox>,
    channels: BTreeMap<String, Arc<Channel>>,
    renderer: Renderer,
    give_up_after: Duration,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// One configured channel at run time.
pub(crate) struct Channel {
    name: String,
    sender: Sender,
    grouping: Grouping,
    /// Woken when a notification for this channel is submitted.
    wake: Notify,
}

/// Tells the tasks to stop when the last [`Notifier`] goes.
struct StopOnDrop(watch::Sender<bool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

impl Notifier {
    /// Opens the outbox in `data_dir/notify/`, builds every channel of
    /// `cfg` (reading their secrets) and spawns their delivery tasks on the
    /// current tokio runtime. Pending notifications of a channel no longer
    /// configured are given up.
    pub fn start(data_dir: &Path, cfg: &hark_config::Config) -> Result<Notifier, NotifyError> {
        let renderer = Renderer::new(&ui_url(cfg));
        let mut channels = BTreeMap::new();
        for (name, c) in &cfg.notify {
            let grouping = Grouping {
                group_wait: c.group_wait.unwrap_or(cfg.alerting.group_wait),
                group_interval: c.group_interval.unwrap_or(cfg.alerting.group_interval),
            };
            channels.insert(
                name.clone(),
                Arc::new(Channel {
                    name: name.clone(),
                    sender: Sender::build(name, c)?,
                    grouping,
                    wake: Notify::new(),
                }),
            );
        }
        let now = now_nanos();
        let mut outbox = Outbox::open(&data_dir.join("notify"), now)?;
        for gone in outbox.pending_channels() {
            if channels.contains_key(&gone) {
                continue;
            }
            let ids: Vec<String> = outbox.pending(&gone).into_iter().map(|p| p.0).collect();
            let error = format!("channel `{gone}` is no longer configured");
            tracing::error!(channel = %gone, notifications = ids.len(), "{error}; giving its notifications up");
            outbox.record_attempt(
                &ids,
                Attempt {
                    at: now,
                    answer: None,
                    error: Some(error),
                },
            )?;
            outbox.mark_failed(&ids)?;
            telemetry::failed(&gone, ids.len());
        }
        telemetry::depth(outbox.depth());
        let (stop, _) = watch::channel(false);
        let inner = Arc::new(Inner {
            outbox: Mutex::new(outbox),
            channels,
            renderer,
            give_up_after: cfg.alerting.give_up_after,
            stop: stop.clone(),
            tasks: Mutex::new(Vec::new()),
        });
        let tasks = inner
            .channels
            .values()
            .map(|c| tokio::spawn(delivery::run(inner.clone(), c.clone(), stop.subscribe())))
            .collect();
        *lock(&inner.tasks) = tasks;
        Ok(Notifier {
            inner,
            _stop_on_drop: Arc::new(StopOnDrop(stop)),
        })
    }

    /// Accepts `n` for delivery. Returns once it is durable on disk (file
    /// and directory fsynced; this blocks for that long). An id already
    /// known, pending, sent or failed, is accepted again without effect.
    pub fn submit(&self, n: Notification) -> Result<(), NotifyError> {
        let channel = self.inner.channel(&n.channel)?;
        let mut outbox = self.inner.outbox();
        if outbox.submit(n, now_nanos())? {
            telemetry::depth(outbox.depth());
            channel.wake.notify_one();
        }
        Ok(())
    }

    /// Up to `limit` records, newest first.
    pub fn records(&self, limit: usize) -> Vec<NotificationRecord> {
        self.inner.outbox().records(limit)
    }

    /// Sends a test message through `channel` now, bypassing grouping, and
    /// records it; the server's answer (`250 …`) when accepted.
    pub async fn test(&self, channel: &str) -> Result<String, NotifyError> {
        let c = self.inner.channel(channel)?;
        let created = now_nanos();
        let n = Notification::test(channel, created);
        let message = self.inner.renderer.message(std::slice::from_ref(&n))?;
        let result = c.sender.send(&message).await;
        let at = now_nanos();
        let (state, attempt) = match &result {
            Ok(answer) => (
                DeliveryState::Sent,
                Attempt {
                    at,
                    answer: Some(answer.clone()),
                    error: None,
                },
            ),
            Err(e) => (
                DeliveryState::Failed,
                Attempt {
                    at,
                    answer: None,
                    error: Some(e.answer.clone()),
                },
            ),
        };
        self.inner.outbox().record_entry(Entry {
            notification: n,
            created,
            state,
            attempts: vec![attempt],
        })?;
        result.map_err(|e| NotifyError::Send {
            channel: channel.to_owned(),
            answer: e.answer,
        })
    }

    /// Stops the delivery tasks (a send in flight is abandoned and stays
    /// pending) and waits for them.
    pub async fn shutdown(self) {
        let _ = self.inner.stop.send(true);
        let tasks = std::mem::take(&mut *lock(&self.inner.tasks));
        for t in tasks {
            let _ = t.await;
        }
    }
}

/// Sends a test message through channel `name` of `cfg` directly, with no
/// outbox and no server running (`hark notify test`); the server's answer.
pub async fn send_test(cfg: &hark_config::Config, name: &str) -> Result<String, NotifyError> {
    let c = cfg
        .notify
        .get(name)
        .ok_or_else(|| unknown_channel(name, cfg.notify.keys()))?;
    let sender = Sender::build(name, c)?;
    let message = Renderer::new(&ui_url(cfg)).message(&[Notification::test(name, now_nanos())])?;
    sender.send(&message).await.map_err(|e| NotifyError::Send {
        channel: name.to_owned(),
        answer: e.answer,
    })
}

impl Inner {
    fn channel(&self, name: &str) -> Result<&Arc<Channel>, NotifyError> {
        self.channels
            .get(name)
            .ok_or_else(|| unknown_channel(name, self.channels.keys()))
    }

    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        lock(&self.outbox)
    }
}

fn unknown_channel<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> NotifyError {
    let known: Vec<&str> = known.map(String::as_str).collect();
    NotifyError::UnknownChannel {
        channel: name.to_owned(),
        known: if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        },
    }
}

/// The base of links: `[alerting] ui_url`, else the API's address, with
/// this host's name for a wildcard address.
fn ui_url(cfg: &hark_config::Config) -> String {
    if let Some(url) = &cfg.alerting.ui_url {
        return url.to_string();
    }
    let listen = cfg.http.listen;
    if listen.ip().is_unspecified() {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        format!("http://{host}:{}", listen.port())
    } else {
        format!("http://{listen}")
    }
}

/// A poisoned lock still holds consistent data here: every change to the
/// outbox is one call that either wrote its line or did not.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Now, in unix nanoseconds.
pub(crate) fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(schedule::nanos)
        .unwrap_or(0)
}
