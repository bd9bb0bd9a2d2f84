//! WAL recovery and replay on crafted segment files.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hark_event::Event;

use super::record::encode_record;
use super::segment::segment_name;
use super::{Replay, recover};

fn ev(n: u64) -> Event {
    let mut e = Event::new(1_700_000_000_000_000_000 + n as i64, "test");
    e.message = format!("event {n}");
    e
}

/// Writes a segment named after `first_seq` holding `batches` (sizes), numbered on from `first_seq`.
fn write_segment(dir: &Path, first_seq: u64, batches: &[u64]) -> u64 {
    let mut buf = Vec::new();
    let mut seq = first_seq;
    for &n in batches {
        let events: Vec<Event> = (seq..seq + n).map(ev).collect();
        encode_record(seq, &events, None, &mut buf).unwrap();
        seq += n;
    }
    fs::write(dir.join(segment_name(first_seq)), &buf).unwrap();
    seq
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

fn replayed(dir: &Path, after: u64) -> Vec<(u64, String)> {
    let rec = recover(dir).unwrap();
    let mut out = Vec::new();
    for batch in Replay::new(rec.segments, after) {
        let batch = batch.unwrap();
        for (i, e) in batch.events.iter().enumerate() {
            out.push((batch.first_seq + i as u64, e.message.clone()));
        }
    }
    out
}

/// Captures what `f` logs at WARN and above.
pub(crate) fn warnings_of<R>(f: impl FnOnce() -> R) -> (R, String) {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let r = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    (r, text)
}

#[test]
fn round_trip_over_several_segments() {
    let dir = tempfile::tempdir().unwrap();
    let next = write_segment(dir.path(), 1, &[3, 1, 4]);
    let next = write_segment(dir.path(), next, &[2, 5]);
    assert_eq!(next, 16);
    let rec = recover(dir.path()).unwrap();
    assert_eq!(rec.last_seq, 15);
    assert!(rec.problems.is_empty());
    let all = replayed(dir.path(), 0);
    assert_eq!(all.len(), 15);
    for (i, (seq, msg)) in all.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
        assert_eq!(msg, &format!("event {seq}"));
    }
}

#[test]
fn replay_starts_after_the_committed_seq_even_inside_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let next = write_segment(dir.path(), 1, &[5, 5]);
    write_segment(dir.path(), next, &[5]);
    let seqs: Vec<u64> = replayed(dir.path(), 7)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(seqs, (8..=15).collect::<Vec<_>>());
    assert!(replayed(dir.path(), 15).is_empty());
}

#[test]
fn torn_tail_is_cut_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_segment(dir.path(), 1, &[2, 2]);
    let path = dir.path().join(segment_name(1));
    let good_len = fs::metadata(&path).unwrap().len();
    // A header announcing 1000 bytes followed by only a few: a write cut short.
    let mut torn = Vec::new();
    torn.extend_from_slice(&1000u32.to_le_bytes());
    torn.extend_from_slice(&0u32.to_le_bytes());
    torn.extend_from_slice(b"partial");
    append_bytes(&path, &torn);
    let (rec, logs) = warnings_of(|| recover(dir.path()).unwrap());
    assert_eq!(rec.last_seq, 4);
    assert_eq!(rec.problems.len(), 1);
    assert!(rec.problems[0].truncated);
    assert_eq!(rec.problems[0].offset, good_len);
    assert!(logs.contains("WAL tail is torn"), "{logs}");
    assert_eq!(fs::metadata(&path).unwrap().len(), good_len);
    assert_eq!(replayed(dir.path(), 0).len(), 4);
    // Opening again finds nothing more to repair.
    assert!(recover(dir.path()).unwrap().problems.is_empty());
}

#[test]
fn garbage_shorter_than_a_header_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    write_segment(dir.path(), 1, &[3]);
    let path = dir.path().join(segment_name(1));
    append_bytes(&path, &[0xde, 0xad, 0xbe]);
    let rec = recover(dir.path()).unwrap();
    assert_eq!(rec.problems.len(), 1);
    assert_eq!(replayed(dir.path(), 0).len(), 3);
}

#[test]
fn corrupt_checksum_in_the_newest_segment_truncates_there() {
    let dir = tempfile::tempdir().unwrap();
    write_segment(dir.path(), 1, &[2, 3, 4]);
    let path = dir.path().join(segment_name(1));
    let mut bytes = fs::read(&path).unwrap();
    // Flip a byte in the second record's payload.
    let first_len = 8 + u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    bytes[first_len + 20] ^= 0xff;
    fs::write(&path, &bytes).unwrap();
    let (rec, logs) = warnings_of(|| recover(dir.path()).unwrap());
    assert!(
        rec.problems[0].reason.contains("checksum"),
        "{:?}",
        rec.problems
    );
    assert!(logs.contains("checksum mismatch"), "{logs}");
    assert_eq!(fs::metadata(&path).unwrap().len(), first_len as u64);
    let seqs: Vec<u64> = replayed(dir.path(), 0)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(seqs, vec![1, 2]);
}

#[test]
fn corrupt_record_in_an_older_segment_skips_only_the_rest_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let next = write_segment(dir.path(), 1, &[2, 3, 4]);
    write_segment(dir.path(), next, &[5]);
    let old = dir.path().join(segment_name(1));
    let mut bytes = fs::read(&old).unwrap();
    let first_len = 8 + u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    bytes[first_len + 20] ^= 0xff;
    fs::write(&old, &bytes).unwrap();
    let (rec, logs) = warnings_of(|| recover(dir.path()).unwrap());
    assert_eq!(rec.problems.len(), 1);
    assert!(!rec.problems[0].truncated);
    assert!(logs.contains("older WAL segment"), "{logs}");
    // The older file is left as it was, for inspection.
    assert_eq!(fs::read(&old).unwrap(), bytes);
    let seqs: Vec<u64> = replayed(dir.path(), 0)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(seqs, vec![1, 2, 10, 11, 12, 13, 14]);
    assert_eq!(rec.last_seq, 14);
}

#[test]
fn empty_newest_segment_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let next = write_segment(dir.path(), 1, &[2]);
    fs::write(dir.path().join(segment_name(next)), b"").unwrap();
    let rec = recover(dir.path()).unwrap();
    assert_eq!(rec.segments.len(), 1);
    assert_eq!(rec.last_seq, 2);
}

#[test]
fn a_segment_truncated_away_before_the_replay_reached_it_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let next = write_segment(dir.path(), 1, &[10]);
    write_segment(dir.path(), next, &[10]);
    let rec = recover(dir.path()).unwrap();
    // Replaying after 20 keeps the newest segment (11-20), read lazily.
    let mut replay = Replay::new(rec.segments, 20);
    // A new segment comes and every reader passes 20: truncation deletes
    // the old one before the replay opened it.
    write_segment(dir.path(), 21, &[5]);
    fs::remove_file(dir.path().join(segment_name(11))).unwrap();
    let rec = recover(dir.path()).unwrap();
    replay.follow(&rec.segments);
    let batch = replay.next_batch().unwrap().unwrap();
    assert_eq!((batch.first_seq, batch.events.len()), (21, 5));
    assert!(replay.next_batch().unwrap().is_none());
}
