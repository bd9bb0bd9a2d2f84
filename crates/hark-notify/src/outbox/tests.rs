use super::*;
use crate::model::Kind;

const SEC: i64 = 1_000_000_000;

fn note(id: &str, channel: &str) -> Notification {
    Notification {
        id: id.to_owned(),
        channel: channel.to_owned(),
        rule: "r".to_owned(),
        group: vec![("host".to_owned(), "web1".to_owned())],
        kind: Kind::Firing,
        severity: "warning".to_owned(),
        summary: "s".to_owned(),
        since: 0,
        at: 0,
        count: 1,
        samples: Vec::new(),
        query: None,
    }
}

fn sent(at: i64) -> Attempt {
    Attempt {
        at,
        answer: Some("250 ok".to_owned()),
        error: None,
    }
}

#[test]
fn state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = Outbox::open(dir.path(), 0).unwrap();
    assert!(ob.submit(note("a", "mail"), SEC).unwrap());
    assert!(ob.submit(note("b", "mail"), 2 * SEC).unwrap());
    assert!(ob.submit(note("c", "chat"), 3 * SEC).unwrap());
    let failed = Attempt {
        at: 4 * SEC,
        answer: None,
        error: Some("535 no".to_owned()),
    };
    ob.record_attempt(&["a".to_owned()], failed.clone())
        .unwrap();
    ob.record_attempt(&["a".to_owned()], sent(5 * SEC)).unwrap();
    ob.mark_failed(&["c".to_owned()]).unwrap();
    drop(ob);

    let ob = Outbox::open(dir.path(), 6 * SEC).unwrap();
    assert_eq!(ob.get("a").unwrap().state, DeliveryState::Sent);
    assert_eq!(ob.get("a").unwrap().attempts, vec![failed, sent(5 * SEC)]);
    assert_eq!(ob.get("b").unwrap().state, DeliveryState::Pending);
    assert_eq!(ob.get("c").unwrap().state, DeliveryState::Failed);
    assert_eq!(ob.pending("mail"), vec![("b".to_owned(), 2 * SEC)]);
    assert_eq!(ob.last_sent("mail"), Some(5 * SEC));
    assert_eq!(ob.last_sent("chat"), None);
    assert_eq!(ob.depth(), 1);
    let ids: Vec<String> = ob.records(10).into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["c", "b", "a"]);
}

#[test]
fn a_known_id_is_not_submitted_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = Outbox::open(dir.path(), 0).unwrap();
    assert!(ob.submit(note("a", "mail"), SEC).unwrap());
    ob.record_attempt(&["a".to_owned()], sent(2 * SEC)).unwrap();
    let len = std::fs::metadata(dir.path().join(JOURNAL)).unwrap().len();
    assert!(!ob.submit(note("a", "mail"), 3 * SEC).unwrap());
    assert_eq!(
        std::fs::metadata(dir.path().join(JOURNAL)).unwrap().len(),
        len
    );
    assert_eq!(ob.get("a").unwrap().state, DeliveryState::Sent);
}

#[test]
fn a_torn_last_line_is_dropped_and_the_journal_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = Outbox::open(dir.path(), 0).unwrap();
    ob.submit(note("a", "mail"), SEC).unwrap();
    ob.submit(note("b", "mail"), 2 * SEC).unwrap();
    drop(ob);
    // A write cut short by a crash: half of the line for "b"'s attempt.
    let path = dir.path().join(JOURNAL);
    let line = encode_line(&Op::Attempt {
        ids: vec!["b".to_owned()],
        attempt: sent(3 * SEC),
    });
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&line[..line.len() / 2]).unwrap();
    drop(f);

    let mut ob = Outbox::open(dir.path(), 4 * SEC).unwrap();
    assert_eq!(ob.get("b").unwrap().state, DeliveryState::Pending);
    ob.submit(note("c", "mail"), 5 * SEC).unwrap();
    drop(ob);
    let ob = Outbox::open(dir.path(), 6 * SEC).unwrap();
    assert_eq!(
        ob.pending("mail")
            .into_iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}

#[test]
fn a_damaged_line_is_not_believed() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = Outbox::open(dir.path(), 0).unwrap();
    ob.submit(note("a", "mail"), SEC).unwrap();
    ob.record_attempt(&["a".to_owned()], sent(2 * SEC)).unwrap();
    drop(ob);
    let path = dir.path().join(JOURNAL);
    let text = std::fs::read_to_string(&path).unwrap();
    // Flip the state the last line claims without fixing its CRC.
    let bad = text.replace("250 ok", "251 ok");
    assert_ne!(bad, text);
    std::fs::write(&path, bad).unwrap();
    let ob = Outbox::open(dir.path(), 3 * SEC).unwrap();
    assert_eq!(ob.get("a").unwrap().state, DeliveryState::Pending);
}

#[test]
fn compaction_keeps_pending_and_drops_old_finished_entries() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = Outbox::open(dir.path(), 0).unwrap();
    ob.submit(note("old", "mail"), SEC).unwrap();
    ob.record_attempt(&["old".to_owned()], sent(2 * SEC))
        .unwrap();
    ob.submit(note("waiting", "mail"), 3 * SEC).unwrap();
    ob.submit(note("new", "mail"), KEEP_FINISHED_NANOS).unwrap();
    ob.record_attempt(&["new".to_owned()], sent(KEEP_FINISHED_NANOS + SEC))
        .unwrap();
    drop(ob);
    let ob = Outbox::open(dir.path(), KEEP_FINISHED_NANOS + 10 * SEC).unwrap();
    assert!(ob.get("old").is_none());
    assert_eq!(ob.get("waiting").unwrap().state, DeliveryState::Pending);
    assert_eq!(ob.get("new").unwrap().state, DeliveryState::Sent);
    assert_eq!(ob.last_sent("mail"), Some(KEEP_FINISHED_NANOS + SEC));
    // The compacted journal is one line per channel and entry.
    let lines = std::fs::read_to_string(dir.path().join(JOURNAL))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 3);
}

#[test]
fn many_appends_trigger_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = Outbox::open(dir.path(), 0).unwrap();
    ob.submit(note("a", "mail"), SEC).unwrap();
    let failed = Attempt {
        at: 2 * SEC,
        answer: None,
        error: Some("421 busy".to_owned()),
    };
    for _ in 0..COMPACT_MIN_OPS {
        ob.record_attempt(&["a".to_owned()], failed.clone())
            .unwrap();
    }
    ob.compact_if_due(3 * SEC).unwrap();
    let lines = std::fs::read_to_string(dir.path().join(JOURNAL))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 1);
    assert_eq!(ob.get("a").unwrap().attempts.len(), COMPACT_MIN_OPS);
}
