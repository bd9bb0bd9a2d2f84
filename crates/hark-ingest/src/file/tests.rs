//! The follower on real files in temporary directories, writing to a real
//! store. Absence is never waited for: a test that must show a line was
//! not read twice writes a sentinel line after it and checks that the
//! sentinel comes next.

use std::io::Write;
use std::path::{Path, PathBuf};

use hark_config::{Config, FileInput};
use hark_event::{Event, FieldValue};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::checkpoint::{Checkpoints, FileKey, Fingerprint, Mark};
use super::record::{FILE_OFFSET, FILE_PATH};
use crate::testing::Rig;

/// Log files and the data directory of one test.
struct Files {
    logs: tempfile::TempDir,
    data: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            logs: tempfile::tempdir().expect("log directory"),
            data: tempfile::tempdir().expect("data directory"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.logs.path().join(name)
    }

    /// A file input on `*.log` in the log directory, with short timeouts and `extra` keys.
    fn input(&self, extra: &str) -> FileInput {
        let toml = format!(
            "[inputs.files]\ntype = \"file\"\npaths = [\"{}/*.log\"]\n\
             rescan_interval = \"100ms\"\npartial_line_timeout = \"300ms\"\n\
             rotate_wait = \"300ms\"\n{extra}\n",
            self.logs.path().display()
        );
        let cfg = Config::from_toml_str("test.toml", &toml).expect("valid configuration");
        cfg.file_inputs["files"].clone()
    }

    fn append(&self, name: &str, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(name))
            .expect("open the log file");
        f.write_all(bytes).expect("write the log file");
    }
}

/// A running follower and how to stop it.
struct Running {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("the input ends");
    }
}

fn start(rig: &Rig, cfg: &FileInput, data: &Path) -> Running {
    let mut ctx = rig.ctx.clone();
    ctx.shutdown = CancellationToken::new();
    let stop = ctx.shutdown.clone();
    let task = super::spawn(cfg, ctx, data).expect("the input starts");
    Running { stop, task }
}

fn messages(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.message.as_str()).collect()
}

fn offset(ev: &Event) -> i64 {
    match ev.field(FILE_OFFSET) {
        Some(FieldValue::Int(n)) => *n,
        other => panic!("no log.offset: {other:?}"),
    }
}

/// The positions saved for the test's input.
fn saved(data: &Path) -> Vec<Mark> {
    let (cps, _) = Checkpoints::open(&data.join("files"), "files").expect("checkpoints");
    cps.keys()
        .iter()
        .filter_map(|k| cps.get(k).cloned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_lines_become_events_with_their_file_and_offset() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    files.append("app.log", b"first\r\nsecond\n");
    let cfg = files.input("app = \"demo\"");
    let running = start(&rig, &cfg, files.data.path());
    let evs = rig.next_events(2).await;
    assert_eq!(messages(&evs), ["first", "second"]);
    assert_eq!(offset(&evs[1]), 7);
    let path = files.path("app.log").display().to_string();
    assert_eq!(evs[0].field(FILE_PATH), Some(&FieldValue::Str(path)));
    assert_eq!(evs[0].app.as_deref(), Some("demo"));
    assert!(evs[0].host.is_some());
    assert_eq!(evs[0].input, "files");

    // A last line without newline is taken once it stops changing.
    files.append("app.log", b"third, no newline");
    let evs = rig.next_events(1).await;
    assert_eq!(messages(&evs), ["third, no newline"]);
    // A new file in the directory is picked up by the rescan.
    files.append("new.log", b"in a new file\n");
    let evs = rig.next_events(1).await;
    assert_eq!(messages(&evs), ["in a new file"]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_file_is_read_to_its_end_and_the_new_one_from_its_start() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    files.append("app.log", b"before 1\nbefore 2\n");
    let cfg = files.input("");
    let running = start(&rig, &cfg, files.data.path());
    assert_eq!(
        messages(&rig.next_events(2).await),
        ["before 1", "before 2"]
    );

    // Rotation by rename: the writer still holds the old file for a moment.
    std::fs::rename(files.path("app.log"), files.path("app.log.1")).unwrap();
    files.append(
        "app.log.1",
        b"late write to the old file\nunterminated tail",
    );
    files.append("app.log", b"after 1\n");
    let evs = rig.next_events(3).await;
    let mut got = messages(&evs);
    got.sort();
    assert_eq!(
        got,
        ["after 1", "late write to the old file", "unterminated tail"]
    );
    files.append("app.log", b"sentinel\n");
    assert_eq!(messages(&rig.next_events(1).await), ["sentinel"]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_file_is_read_again_from_its_start() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    files.append("app.log", b"old line one\nold line two\n");
    let cfg = files.input("");
    let running = start(&rig, &cfg, files.data.path());
    assert_eq!(rig.next_events(2).await.len(), 2);
    // copytruncate: the file is emptied in place, then written again.
    std::fs::OpenOptions::new()
        .write(true)
        .open(files.path("app.log"))
        .unwrap()
        .set_len(0)
        .unwrap();
    // Wait for the follower to see the truncation before the file grows
    // past the old position again.
    let deadline = std::time::Instant::now() + crate::testing::PATIENCE;
    loop {
        if saved(files.data.path()).iter().any(|m| m.offset == 0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "truncation not seen");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    files.append("app.log", b"new\n");
    let evs = rig.next_events(1).await;
    assert_eq!(messages(&evs), ["new"]);
    assert_eq!(offset(&evs[0]), 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_after_the_last_durable_line() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    files.append("app.log", b"one\ntwo\n");
    let cfg = files.input("");
    let running = start(&rig, &cfg, files.data.path());
    assert_eq!(messages(&rig.next_events(2).await), ["one", "two"]);
    running.stop().await;
    let marks = saved(files.data.path());
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(marks[0].offset, 8);

    files.append("app.log", b"three\n");
    let running = start(&rig, &cfg, files.data.path());
    let evs = rig.next_events(1).await;
    assert_eq!(messages(&evs), ["three"]);
    assert_eq!(offset(&evs[0]), 8);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_are_saved_only_once_the_events_are_durable() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    files.append("app.log", b"held 1\nheld 2\n");
    let cfg = files.input("");
    let running = start(&rig, &cfg, files.data.path());
    // Written to the WAL, not yet reported durable (the gate is shut).
    assert_eq!(rig.written(2).await, 2);
    running.stop().await;
    assert!(
        saved(files.data.path()).iter().all(|m| m.offset == 0),
        "{:?}",
        saved(files.data.path())
    );
    // The next start reads them again: at least once.
    rig.open_gate();
    let running = start(&rig, &cfg, files.data.path());
    assert_eq!(messages(&rig.next_events(2).await), ["held 1", "held 2"]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_position_is_not_used_for_another_file_on_the_same_inode() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    files.append("app.log", b"a new file that got a reused inode\nsecond\n");
    let meta = std::fs::metadata(files.path("app.log")).unwrap();
    // The checkpoint of a deleted file that had the same device and inode.
    let (mut cps, _) = Checkpoints::open(&files.data.path().join("files"), "files").unwrap();
    cps.set(Mark {
        key: FileKey::of(&meta),
        fingerprint: Fingerprint::of(b"the deleted file's first line\n"),
        offset: 30,
        path: files.path("app.log").display().to_string(),
    });
    cps.save().unwrap();
    let cfg = files.input("");
    let running = start(&rig, &cfg, files.data.path());
    let evs = rig.next_events(2).await;
    assert_eq!(
        messages(&evs),
        ["a new file that got a reused inode", "second"]
    );
    assert_eq!(offset(&evs[0]), 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_past_the_fingerprint_length_resumes_there() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    let long = format!("{}\n", "x".repeat(300));
    files.append("app.log", long.as_bytes());
    let cfg = files.input("");
    let running = start(&rig, &cfg, files.data.path());
    assert_eq!(rig.next_events(1).await[0].message.len(), 300);
    running.stop().await;
    let marks = saved(files.data.path());
    assert_eq!(marks[0].fingerprint.len, 256);
    files.append("app.log", b"after\n");
    let running = start(&rig, &cfg, files.data.path());
    assert_eq!(messages(&rig.next_events(1).await), ["after"]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_trace_is_one_event_once_the_timeout_passes() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    let trace = "2026-12-05 10:00:00,123 ERROR [main] c.e.Api - request failed\n\
                 java.lang.NullPointerException: name\n\
                 \tat com.example.Api.handle(Api.java:57)\n\
                 \tat java.base/java.lang.Thread.run(Thread.java:1583)\n";
    files.append("app.log", trace.as_bytes());
    let cfg = files.input("multiline = { start = '^\\d{4}-', timeout = \"200ms\" }");
    let running = start(&rig, &cfg, files.data.path());
    let evs = rig.next_events(1).await;
    assert_eq!(messages(&evs), [trace.trim_end()]);
    files.append("app.log", b"2026-12-05 10:00:01,000 INFO next\n");
    assert_eq!(
        messages(&rig.next_events(1).await),
        ["2026-12-05 10:00:01,000 INFO next"]
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf16_and_latin1_files_are_decoded() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    let text: Vec<u8> = "\u{feff}Grüße\r\n日本\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    files.append("app.log", &text);
    let cfg = files.input("encoding = \"utf-16le\"");
    let running = start(&rig, &cfg, files.data.path());
    let evs = rig.next_events(2).await;
    assert_eq!(messages(&evs), ["Grüße", "日本"]);
    assert_eq!(offset(&evs[1]), 16);
    running.stop().await;

    let latin = Files::new();
    latin.append("app.log", b"caf\xe9\n");
    let cfg = latin.input("encoding = \"latin1\"");
    let running = start(&rig, &cfg, latin.data.path());
    assert_eq!(messages(&rig.next_events(1).await), ["café"]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_line_is_cut_and_flagged() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    let mut text = "y".repeat(200);
    text.push_str("\nshort\n");
    files.append("app.log", text.as_bytes());
    let cfg = files.input("max_line_bytes = 100");
    let running = start(&rig, &cfg, files.data.path());
    let evs = rig.next_events(2).await;
    assert_eq!(evs[0].message, "y".repeat(100));
    assert!(evs[0].truncated);
    assert_eq!(evs[1].message, "short");
    assert!(!evs[1].truncated);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_at_end_skips_what_was_there_at_the_first_start_only() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    files.append("old.log", b"written before hark\n");
    let cfg = files.input("start_at = \"end\"");
    let running = start(&rig, &cfg, files.data.path());
    // Wait until the follower has its position in old.log.
    let deadline = std::time::Instant::now() + crate::testing::PATIENCE;
    while saved(files.data.path()).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no position saved");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    files.append("old.log", b"appended\n");
    files.append("later.log", b"a file created later\n");
    let evs = rig.next_events(2).await;
    let mut got = messages(&evs);
    got.sort();
    assert_eq!(got, ["a file created later", "appended"]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_renamed_to_a_matching_name_is_not_read_again() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    files.append("app.log", b"one\ntwo\n");
    let cfg = files.input("");
    let running = start(&rig, &cfg, files.data.path());
    assert_eq!(messages(&rig.next_events(2).await), ["one", "two"]);
    // `*.log` matches the new name too: the same inode, followed on.
    std::fs::rename(files.path("app.log"), files.path("app-1.log")).unwrap();
    files.append("app-1.log", b"three\n");
    let evs = rig.next_events(1).await;
    assert_eq!(messages(&evs), ["three"]);
    assert_eq!(offset(&evs[0]), 8);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_file_is_read_to_its_end_closed_and_forgotten() {
    let files = Files::new();
    let mut rig = Rig::new("files");
    rig.open_gate();
    files.append("gone.log", b"first\n");
    files.append("stays.log", b"other\n");
    let cfg = files.input("");
    let running = start(&rig, &cfg, files.data.path());
    assert_eq!(rig.next_events(2).await.len(), 2);
    // Written and deleted at once: the open file still has the line.
    files.append("gone.log", b"last words");
    std::fs::remove_file(files.path("gone.log")).unwrap();
    assert_eq!(messages(&rig.next_events(1).await), ["last words"]);
    // Once closed, its position is forgotten; the other file's stays.
    let stays = files.path("stays.log").display().to_string();
    let deadline = std::time::Instant::now() + crate::testing::PATIENCE;
    loop {
        let marks = saved(files.data.path());
        if marks.len() == 1 && marks[0].path == stays {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{marks:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    running.stop().await;
}
