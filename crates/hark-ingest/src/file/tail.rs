//! One open file: where reading is, what is held, and when it is done.

use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hark_config::StartAt;

use super::checkpoint::{FINGERPRINT_BYTES, FileKey, Fingerprint, Mark};
use super::lines::{LineSplitter, Newline};
use super::multiline::Joiner;
use super::record::Record;

/// The settings of the follower, from the configuration.
pub(crate) struct Settings {
    /// The files' encoding.
    pub encoding: &'static encoding_rs::Encoding,
    /// How a line ends in it.
    pub newline: Newline,
    /// `max_line_bytes`.
    pub max_line: usize,
    /// `multiline`: the start pattern and the timeout.
    pub multiline: Option<(regex::Regex, Duration)>,
    /// How long a last line without newline waits unchanged.
    pub partial_line_timeout: Duration,
    /// How long a file that left the paths stays open once idle.
    pub rotate_wait: Duration,
    /// How often the globs are matched again.
    pub rescan_interval: Duration,
    /// Where files seen at the first scan start (always the beginning
    /// unless this is the input's very first start).
    pub start_at: StartAt,
}

/// One open file.
pub(crate) struct Tail {
    /// Where the file was last seen.
    pub path: PathBuf,
    /// The open file (reads use explicit offsets).
    pub file: std::fs::File,
    /// The offset of the next byte to read.
    pub pos: u64,
    /// Cuts the bytes read into lines.
    pub splitter: LineSplitter,
    /// Joins lines into multi-line events, when `multiline` is set.
    pub joiner: Option<Joiner>,
    /// The file's first bytes, up to [`FINGERPRINT_BYTES`], as far as known.
    pub head: Vec<u8>,
    /// When bytes last arrived (or the file was opened).
    pub grew_at: Instant,
    /// Since when no path matches the file (renamed away or deleted).
    pub orphaned_at: Option<Instant>,
    /// The last read found no new byte.
    pub at_eof: bool,
}

impl Tail {
    /// A file opened at `path`, read from `pos` on.
    pub(crate) fn open(
        path: PathBuf,
        file: std::fs::File,
        pos: u64,
        s: &Settings,
        now: Instant,
    ) -> Tail {
        let mut head = vec![0; (pos as usize).min(FINGERPRINT_BYTES)];
        let got = read_full_at(&file, &mut head, 0).unwrap_or(0);
        head.truncate(got);
        Tail {
            path,
            file,
            pos,
            splitter: LineSplitter::new(s.newline, s.max_line, pos),
            joiner: s
                .multiline
                .as_ref()
                .map(|(re, timeout)| Joiner::new(re.clone(), *timeout, s.max_line)),
            head,
            grew_at: now,
            orphaned_at: None,
            at_eof: false,
        }
    }

    /// The position just past `end`, with the fingerprint of what precedes it.
    pub(crate) fn mark(&self, key: FileKey, end: u64) -> Mark {
        let len = self
            .head
            .len()
            .min(usize::try_from(end).unwrap_or(usize::MAX));
        Mark {
            key,
            fingerprint: Fingerprint::of(&self.head[..len]),
            offset: end,
            path: self.path.display().to_string(),
        }
    }

    /// Reads the next bytes; returns how many, and pushes the completed records.
    pub(crate) fn read(
        &mut self,
        buf: &mut [u8],
        s: &Settings,
        now: Instant,
        out: &mut Vec<Record>,
    ) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        if n == 0 {
            self.at_eof = true;
            return Ok(0);
        }
        self.at_eof = false;
        let bytes = &buf[..n];
        let known = self.head.len() as u64;
        if known == self.pos && self.head.len() < FINGERPRINT_BYTES {
            let take = (FINGERPRINT_BYTES - self.head.len()).min(n);
            self.head.extend_from_slice(&bytes[..take]);
        }
        self.pos += n as u64;
        self.grew_at = now;
        let mut lines = Vec::new();
        self.splitter.feed(bytes, &mut lines);
        for line in lines {
            self.line(Record::decode(line, s.encoding), now, out);
        }
        Ok(n)
    }

    /// Passes one line through the multi-line joiner, if any.
    fn line(&mut self, record: Record, now: Instant, out: &mut Vec<Record>) {
        match &mut self.joiner {
            Some(j) => out.extend(j.push(record, now)),
            None if record.text.is_empty() && !record.truncated => {}
            None => out.push(record),
        }
    }

    /// What the clock completes: a partial line left unchanged long enough,
    /// a multi-line event no line came for.
    pub(crate) fn timeouts(&mut self, s: &Settings, now: Instant, out: &mut Vec<Record>) {
        if self.at_eof
            && self.splitter.has_partial()
            && now.saturating_duration_since(self.grew_at) >= s.partial_line_timeout
            && let Some(line) = self.splitter.take_partial()
        {
            self.line(Record::decode(line, s.encoding), now, out);
        }
        if let Some(j) = &mut self.joiner {
            out.extend(j.due(now));
        }
    }

    /// Everything held, complete or not: the file ends here.
    pub(crate) fn finish(&mut self, s: &Settings, now: Instant, out: &mut Vec<Record>) {
        if let Some(line) = self.splitter.take_partial() {
            self.line(Record::decode(line, s.encoding), now, out);
        }
        if let Some(j) = &mut self.joiner {
            out.extend(j.take());
        }
    }

    /// Whether a file that left the paths may be closed now.
    pub(crate) fn may_close(&self, s: &Settings, now: Instant) -> bool {
        let Some(orphaned) = self.orphaned_at else {
            return false;
        };
        self.at_eof
            && (now.saturating_duration_since(self.grew_at) >= s.rotate_wait
                || now.saturating_duration_since(orphaned) >= s.rotate_wait * 6)
    }
}

/// Reads until `buf` is full or the file ends; returns how many bytes.
pub(crate) fn read_full_at(
    file: &std::fs::File,
    buf: &mut [u8],
    at: u64,
) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], at + got as u64)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}
