//! WAL segment files: naming, listing, and reading records back with checks.

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use super::marks::Marks;
use super::record::{HEADER_LEN, MAX_PAYLOAD_LEN, PayloadIndex, index_payload, parse_header};

const SUFFIX: &str = ".wal";

/// The file name of the segment whose first record has sequence number `first_seq`.
pub(crate) fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}{SUFFIX}")
}

/// One segment file on disk.
#[derive(Debug, Clone)]
pub(crate) struct SegmentFile {
    /// Sequence number of its first record (from the name); every record in
    /// earlier segments has a smaller one.
    pub first_seq: u64,
    /// Where it is.
    pub path: PathBuf,
    /// Bytes that hold whole, verified records (the file may be longer when an
    /// older segment has a corrupt record in the middle).
    pub valid_len: u64,
}

/// The segments in `dir`, oldest first; files with other names are ignored.
pub(crate) fn list_segments(dir: &Path) -> io::Result<Vec<SegmentFile>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(SUFFIX) else {
            continue;
        };
        let Ok(first_seq) = stem.parse::<u64>() else {
            tracing::warn!(file = %entry.path().display(), "ignoring a file with an unexpected name in the WAL directory");
            continue;
        };
        let valid_len = entry.metadata()?.len();
        out.push(SegmentFile {
            first_seq,
            path: entry.path(),
            valid_len,
        });
    }
    out.sort_by_key(|s| s.first_seq);
    Ok(out)
}

/// One record read back from a segment.
#[derive(Debug)]
pub(crate) struct Record {
    /// The verified payload.
    pub payload: Vec<u8>,
    /// Where the events are in the payload.
    pub index: PayloadIndex,
}

/// Why reading stopped before the end of a segment.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The filesystem failed.
    Io(io::Error),
    /// A record at `offset` is cut off or fails its checks.
    Bad {
        /// Where the bad record starts.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads records from one segment, up to a byte limit, verifying each.
pub(crate) struct RecordReader {
    file: BufReader<File>,
    /// Offset of the next record to read.
    pos: u64,
    /// Bytes of the file to consider.
    end: u64,
    /// Sequence number of the last record read, to reject records out of order.
    last_seq: u64,
}

impl RecordReader {
    /// Opens `path` for reading its first `end` bytes.
    pub fn open(path: &Path, end: u64) -> io::Result<Self> {
        let file = File::open(path)?;
        Ok(RecordReader {
            file: BufReader::with_capacity(1 << 20, file),
            pos: 0,
            end,
            last_seq: 0,
        })
    }

    /// Lets the reader go on to `end` bytes, once the writer has written more.
    pub fn extend_to(&mut self, end: u64) {
        self.end = self.end.max(end);
    }

    /// Offset just past the last good record read so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The next record, `None` at the end, or why the segment cannot be read further.
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        let offset = self.pos;
        if offset == self.end {
            return Ok(None);
        }
        let bad = |reason: String| ReadError::Bad { offset, reason };
        let remaining = self.end - offset;
        if remaining < HEADER_LEN as u64 {
            return Err(bad(format!("{remaining} bytes left, too few for a header")));
        }
        let mut header = [0u8; HEADER_LEN];
        self.file.read_exact(&mut header).map_err(ReadError::Io)?;
        let (len, crc) = parse_header(&header);
        if len > MAX_PAYLOAD_LEN {
            return Err(bad(format!("implausible record length {len}")));
        }
        if (len as u64) > remaining - HEADER_LEN as u64 {
            return Err(bad(format!(
                "record of {len} bytes cut off after {} bytes",
                remaining - HEADER_LEN as u64
            )));
        }
        let mut payload = vec![0u8; len];
        self.file.read_exact(&mut payload).map_err(ReadError::Io)?;
        let actual = crc32fast::hash(&payload);
        if actual != crc {
            return Err(bad(format!(
                "checksum mismatch (stored {crc:08x}, computed {actual:08x})"
            )));
        }
        let index = index_payload(&payload).map_err(bad)?;
        if index.first_seq <= self.last_seq {
            return Err(bad(format!(
                "sequence number {} does not follow {}",
                index.first_seq, self.last_seq
            )));
        }
        self.last_seq = index.last_seq();
        self.pos = offset + (HEADER_LEN + len) as u64;
        Ok(Some(Record { payload, index }))
    }
}

/// What a full pass over a segment found.
#[derive(Debug)]
pub(crate) struct ScanOutcome {
    /// Bytes holding whole, verified records.
    pub valid_len: u64,
    /// Sequence number of the last good event, if any.
    pub last_seq: Option<u64>,
    /// The highest origin mark of each origin in the good records.
    pub marks: Marks,
    /// Where and why the pass stopped early.
    pub problem: Option<(u64, String)>,
}

/// Reads a whole segment, checking every record.
pub(crate) fn scan(path: &Path) -> io::Result<ScanOutcome> {
    let len = fs::metadata(path)?.len();
    let mut reader = RecordReader::open(path, len)?;
    let mut last_seq = None;
    let mut marks = Marks::default();
    loop {
        match reader.next_record() {
            Ok(Some(rec)) => {
                if !rec.index.events.is_empty() {
                    last_seq = Some(rec.index.last_seq());
                }
                if let Some(mark) = rec.index.mark {
                    marks.raise(mark);
                }
            }
            Ok(None) => {
                return Ok(ScanOutcome {
                    valid_len: reader.position(),
                    last_seq,
                    marks,
                    problem: None,
                });
            }
            Err(ReadError::Io(e)) => return Err(e),
            Err(ReadError::Bad { offset, reason }) => {
                return Ok(ScanOutcome {
                    valid_len: offset,
                    last_seq,
                    marks,
                    problem: Some((offset, reason)),
                });
            }
        }
    }
}
