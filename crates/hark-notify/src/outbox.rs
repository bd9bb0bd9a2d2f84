//! The durable outbox: one journal file, `data_dir/notify/outbox.log`, and
//! its state in memory.
//!
//! Each line is `CRC32 JSON\n` (the CRC of the JSON as eight hex digits)
//! and is one [`Op`]: a notification submitted, an attempt answered, a
//! notification given up, or (after compaction) a whole entry and the last
//! send time of a channel. Every line is fsynced before the call that wrote
//! it returns, so what a caller was told is durable survives `kill -9`.
//!
//! On open the journal is replayed. A line whose CRC or JSON does not check
//! is a write that never finished (it was not acknowledged): when it is the
//! tail, the file is cut back to the last good line so the next append
//! starts clean. Then the journal is compacted: finished entries past the
//! retention (7 days, 10 000 entries) are dropped and the rest is written to
//! a new file (temp file, fsync, rename, directory fsync). Compaction runs
//! again whenever the journal holds far more lines than entries.
//!
//! No clock here: callers pass the times.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{Attempt, DeliveryState, Notification, NotificationRecord};

/// The journal's name inside the outbox directory.
const JOURNAL: &str = "outbox.log";
/// Sent and failed entries older than this are dropped at compaction.
pub(crate) const KEEP_FINISHED_NANOS: i64 = 7 * 86_400 * 1_000_000_000;
/// At most this many sent and failed entries are kept (the newest).
pub(crate) const KEEP_FINISHED: usize = 10_000;
/// Compaction waits for at least this many lines since the last one.
const COMPACT_MIN_OPS: usize = 1_000;

/// An I/O error on the outbox, with the file it concerns.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct OutboxError {
    /// The file or directory.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}

/// A notification and its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub notification: Notification,
    /// When it was submitted (unix nanoseconds).
    pub created: i64,
    pub state: DeliveryState,
    pub attempts: Vec<Attempt>,
}

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    /// A new notification, pending.
    Submit {
        created: i64,
        notification: Notification,
    },
    /// A message holding `ids` was tried; with an answer they are sent.
    Attempt { ids: Vec<String>, attempt: Attempt },
    /// `ids` are given up.
    Failed { ids: Vec<String> },
    /// A whole entry (compaction, and test messages recorded after sending).
    Entry { entry: Entry },
    /// When `channel` last had a message accepted (compaction).
    Channel { channel: String, last_sent: i64 },
}

/// The outbox: the journal file and the state it describes.
pub(crate) struct Outbox {
    dir: PathBuf,
    /// Open for appending; its length is `len`.
    file: File,
    /// Bytes of whole lines in the journal: a failed append is cut back to it.
    len: u64,
    entries: HashMap<String, Entry>,
    /// Unix nanoseconds of the last accepted message per channel.
    last_sent: HashMap<String, i64>,
    /// Lines appended since the journal was last written whole.
    ops_since_compaction: usize,
}

impl Outbox {
    /// Opens (or creates) the outbox in `dir`, replays it and compacts it;
    /// `now` decides what retention drops.
    pub fn open(dir: &Path, now: i64) -> Result<Outbox, OutboxError> {
        let at = |path: &Path| {
            let path = path.to_owned();
            move |source| OutboxError { path, source }
        };
        let created_dir = !dir.exists();
        std::fs::create_dir_all(dir).map_err(at(dir))?;
        if created_dir {
            sync_dir(dir)?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
        }
        let path = dir.join(JOURNAL);
        let mut text = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut text).map_err(at(&path))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(at(&path)(e)),
        }
        let mut outbox = Outbox {
            dir: dir.to_owned(),
            file: open_append(&path)?,
            len: 0,
            entries: HashMap::new(),
            last_sent: HashMap::new(),
            ops_since_compaction: 0,
        };
        let mut good_end = 0usize;
        let mut offset = 0usize;
        for line in text.split_inclusive(|b| *b == b'\n') {
            offset += line.len();
            match parse_line(line) {
                Some(op) => {
                    outbox.apply(op);
                    good_end = offset;
                }
                None if offset == text.len() => {
                    tracing::warn!(
                        file = %path.display(),
                        "the outbox ends in a line that was never completely written; dropping it"
                    );
                }
                None => tracing::warn!(
                    file = %path.display(),
                    offset = offset - line.len(),
                    "skipping a damaged line in the outbox"
                ),
            }
        }
        outbox.len = good_end as u64;
        outbox.compact(now)?;
        Ok(outbox)
    }

    /// Records a new notification durably. `false` (and nothing written)
    /// when its id is already known.
    pub fn submit(
        &mut self,
        notification: Notification,
        created: i64,
    ) -> Result<bool, OutboxError> {
        if self.entries.contains_key(&notification.id) {
            return Ok(false);
        }
        self.append(Op::Submit {
            created,
            notification,
        })?;
        Ok(true)
    }

    /// Records an attempt for every id in `ids`; with an answer they are sent.
    pub fn record_attempt(&mut self, ids: &[String], attempt: Attempt) -> Result<(), OutboxError> {
        self.append(Op::Attempt {
            ids: ids.to_vec(),
            attempt,
        })
    }

    /// Gives `ids` up.
    pub fn mark_failed(&mut self, ids: &[String]) -> Result<(), OutboxError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.append(Op::Failed { ids: ids.to_vec() })
    }

    /// Records a whole entry (a test message, already delivered or not).
    pub fn record_entry(&mut self, entry: Entry) -> Result<(), OutboxError> {
        self.append(Op::Entry { entry })
    }

    /// The entry of `id`.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// The pending notifications of `channel`, oldest first, as (id, created).
    pub fn pending(&self, channel: &str) -> Vec<(String, i64)> {
        let mut ids: Vec<(String, i64)> = self
            .entries
            .values()
            .filter(|e| e.state == DeliveryState::Pending && e.notification.channel == channel)
            .map(|e| (e.notification.id.clone(), e.created))
            .collect();
        ids.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        ids
    }

    /// Every channel that has a pending notification.
    pub fn pending_channels(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .entries
            .values()
            .filter(|e| e.state == DeliveryState::Pending)
            .map(|e| e.notification.channel.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// How many notifications are pending, over all channels.
    pub fn depth(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.state == DeliveryState::Pending)
            .count()
    }

    /// When `channel` last had a message accepted.
    pub fn last_sent(&self, channel: &str) -> Option<i64> {
        self.last_sent.get(channel).copied()
    }

    /// Up to `limit` records, newest first.
    pub fn records(&self, limit: usize) -> Vec<NotificationRecord> {
        let mut all: Vec<&Entry> = self.entries.values().collect();
        all.sort_by(|a, b| (b.created, &b.notification.id).cmp(&(a.created, &a.notification.id)));
        all.into_iter().take(limit).map(Entry::record).collect()
    }

    /// Compacts the journal when it holds far more lines than entries.
    pub fn compact_if_due(&mut self, now: i64) -> Result<(), OutboxError> {
        if self.ops_since_compaction >= COMPACT_MIN_OPS
            && self.ops_since_compaction > 2 * self.entries.len()
        {
            self.compact(now)?;
        }
        Ok(())
    }

    /// Applies one journal line to the state in memory.
    fn apply(&mut self, op: Op) {
        self.ops_since_compaction += 1;
        match op {
            Op::Submit {
                created,
                notification,
            } => {
                self.entries
                    .entry(notification.id.clone())
                    .or_insert(Entry {
                        notification,
                        created,
                        state: DeliveryState::Pending,
                        attempts: Vec::new(),
                    });
            }
            Op::Attempt { ids, attempt } => {
                let sent = attempt.answer.is_some();
                for id in &ids {
                    let Some(e) = self.entries.get_mut(id) else {
                        continue;
                    };
                    e.attempts.push(attempt.clone());
                    if sent {
                        e.state = DeliveryState::Sent;
                        let last = self
                            .last_sent
                            .entry(e.notification.channel.clone())
                            .or_insert(attempt.at);
                        *last = (*last).max(attempt.at);
                    }
                }
            }
            Op::Failed { ids } => {
                for id in &ids {
                    if let Some(e) = self.entries.get_mut(id)
                        && e.state == DeliveryState::Pending
                    {
                        e.state = DeliveryState::Failed;
                    }
                }
            }
            Op::Entry { entry } => {
                self.entries.insert(entry.notification.id.clone(), entry);
            }
            Op::Channel { channel, last_sent } => {
                let last = self.last_sent.entry(channel).or_insert(last_sent);
                *last = (*last).max(last_sent);
            }
        }
    }

    /// Writes `op` as one line and fsyncs it, then applies it. On a failed
    /// write the file is cut back so the journal stays whole lines.
    fn append(&mut self, op: Op) -> Result<(), OutboxError> {
        let line = encode_line(&op);
        let path = self.dir.join(JOURNAL);
        let written = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        if let Err(source) = written {
            // Best effort: a partial line left behind is dropped at the next open.
            let _ = self.file.set_len(self.len);
            return Err(OutboxError { path, source });
        }
        self.len += line.len() as u64;
        self.apply(op);
        Ok(())
    }

    /// Drops finished entries past the retention and rewrites the journal
    /// as one line per entry and channel.
    fn compact(&mut self, now: i64) -> Result<(), OutboxError> {
        let mut finished: Vec<(i64, String)> = self
            .entries
            .values()
            .filter(|e| e.state != DeliveryState::Pending)
            .map(|e| (e.created, e.notification.id.clone()))
            .collect();
        finished.sort();
        let excess = finished.len().saturating_sub(KEEP_FINISHED);
        for (i, (created, id)) in finished.iter().enumerate() {
            if i < excess || now.saturating_sub(*created) > KEEP_FINISHED_NANOS {
                self.entries.remove(id);
            }
        }
        let mut text = Vec::new();
        let mut channels: Vec<(&String, &i64)> = self.last_sent.iter().collect();
        channels.sort();
        for (channel, last_sent) in channels {
            text.extend(encode_line(&Op::Channel {
                channel: channel.clone(),
                last_sent: *last_sent,
            }));
        }
        let mut entries: Vec<&Entry> = self.entries.values().collect();
        entries
            .sort_by(|a, b| (a.created, &a.notification.id).cmp(&(b.created, &b.notification.id)));
        for entry in entries {
            text.extend(encode_line(&Op::Entry {
                entry: entry.clone(),
            }));
        }
        let path = self.dir.join(JOURNAL);
        let tmp = self.dir.join(format!("{JOURNAL}.tmp"));
        let at = |p: &Path| {
            let path = p.to_owned();
            move |source| OutboxError { path, source }
        };
        let mut f = File::create(&tmp).map_err(at(&tmp))?;
        f.write_all(&text).map_err(at(&tmp))?;
        f.sync_all().map_err(at(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(at(&path))?;
        sync_dir(&self.dir)?;
        self.file = open_append(&path)?;
        self.len = text.len() as u64;
        self.ops_since_compaction = 0;
        Ok(())
    }
}

impl Entry {
    /// The record the API shows.
    pub fn record(&self) -> NotificationRecord {
        let n = &self.notification;
        NotificationRecord {
            id: n.id.clone(),
            channel: n.channel.clone(),
            rule: n.rule.clone(),
            group: n.group.clone(),
            kind: n.kind,
            summary: n.summary.clone(),
            state: self.state,
            created: self.created,
            attempts: self.attempts.clone(),
        }
    }
}

fn encode_line(op: &Op) -> Vec<u8> {
    // Serializing plain structs of strings and numbers does not fail.
    let json = serde_json::to_vec(op).unwrap_or_default();
    let mut line = format!("{:08x} ", crc32fast::hash(&json)).into_bytes();
    line.extend(json);
    line.push(b'\n');
    line
}

/// One journal line, or `None` when it is incomplete or damaged.
fn parse_line(line: &[u8]) -> Option<Op> {
    let line = line.strip_suffix(b"\n")?;
    let (crc, json) = (line.get(..8)?, line.get(9..)?);
    let crc = u32::from_str_radix(std::str::from_utf8(crc).ok()?, 16).ok()?;
    if crc32fast::hash(json) != crc {
        return None;
    }
    serde_json::from_slice(json).ok()
}

fn open_append(path: &Path) -> Result<File, OutboxError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| OutboxError {
            path: path.to_owned(),
            source,
        })
}

/// Makes a directory's entries (a new or renamed file) durable.
fn sync_dir(dir: &Path) -> Result<(), OutboxError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| OutboxError {
            path: dir.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests;
