//! Property tests: no input makes the framer or the parser panic, framing
//! round-trips, and a stream split at arbitrary points frames the same.

use bytes::BytesMut;
use hark_proto::{
    Frame, ParseContext, SyslogFramer, parse_syslog, split_datagram, write_octet_counted,
};
use hark_testkit::decode::{cut, feed_text};
use proptest::prelude::*;

type Outcome = Result<Frame, String>;

/// Feeds the stream cut at `cuts` (offsets, any order) and ends it.
/// Checks after every chunk that the decoder holds no more than a frame's worth.
fn run(max: usize, stream: &[u8], cuts: &[usize]) -> Vec<Outcome> {
    feed_text(&mut SyslogFramer::new(max), cut(stream, cuts), |buf| {
        assert!(
            buf.len() <= max + 12,
            "buffer holds {} bytes with max {max}",
            buf.len()
        )
    })
}

/// Syslog-shaped fragments, so that generated text reaches deep into the parser.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"<13>".to_vec()),
        Just(b"<189>".to_vec()),
        Just(b"1 ".to_vec()),
        Just(b"- ".to_vec()),
        Just(b"-".to_vec()),
        Just(b" ".to_vec()),
        Just(b"Nov  2 04:50:32 ".to_vec()),
        Just(b"Feb 29 12:00:00.123".to_vec()),
        Just(b"Jan 05 2024 12:00:00 ".to_vec()),
        Just(b"2026-11-22T04:51:46.123456+01:00 ".to_vec()),
        Just(b"2026-11-22t04:51:46".to_vec()),
        Just(b"123: ".to_vec()),
        Just(b"*".to_vec()),
        Just(b" UTC:".to_vec()),
        Just(b"%LINK-3-UPDOWN: ".to_vec()),
        Just(b"app[12]: ".to_vec()),
        Just(b"host ".to_vec()),
        Just(b"[x a=\"1\"]".to_vec()),
        Just(b"[y b=\"\\\"\\]\\\\\"".to_vec()),
        Just(b"]".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xff".to_vec()),
        "[a-z0-9:=]{1,6}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 1..4),
    ]
}

fn syslogish() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(fragment(), 0..14).prop_map(|v| v.concat())
}

fn check_event(bytes: &[u8]) {
    let ev = parse_syslog(bytes, &ParseContext::new(1_795_323_600_000_000_000, "p"));
    if ev.parse_error.is_some() || std::str::from_utf8(bytes).is_err() {
        assert_eq!(ev.raw.as_deref(), Some(bytes));
    } else {
        assert_eq!(ev.raw, None);
    }
}

/// One message of a stream: counted, or LF-terminated (then starting with `<`
/// and free of delimiters, as the non-transparent framing requires).
fn framed_message() -> impl Strategy<Value = (bool, Vec<u8>)> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..80).prop_map(|m| (true, m)),
        proptest::collection::vec(
            any::<u8>().prop_filter("delimiter", |b| !matches!(b, b'\n' | b'\0' | b'\r')),
            0..80
        )
        .prop_map(|mut m| {
            m.insert(0, b'<');
            (false, m)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_event(&bytes);
    }

    #[test]
    fn parser_never_panics_on_syslogish_text(bytes in syslogish()) {
        check_event(&bytes);
    }

    #[test]
    fn framer_never_panics_and_stays_bounded(
        stream in proptest::collection::vec(any::<u8>(), 0..400),
        max in 1usize..40,
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        for f in run(max, &stream, &cuts).into_iter().flatten() {
            prop_assert!(f.bytes.len() <= max);
            prop_assert!(!f.bytes.is_empty());
        }
        for m in split_datagram(&stream) {
            prop_assert!(!m.is_empty());
        }
    }

    #[test]
    fn framing_round_trips(messages in proptest::collection::vec(framed_message(), 0..10)) {
        let mut stream = BytesMut::new();
        for (counted, m) in &messages {
            if *counted {
                write_octet_counted(m, &mut stream);
            } else {
                stream.extend_from_slice(m);
                stream.extend_from_slice(b"\n");
            }
        }
        let got = run(100, &stream, &[]);
        let want: Vec<Outcome> = messages
            .iter()
            .map(|(_, m)| Ok(Frame { bytes: m.clone().into(), truncated: false }))
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn split_streams_frame_the_same(
        stream in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::collection::vec(prop_oneof![
                Just(b"12 <13>1 - - - ".to_vec()),
                Just(b"<13>line\r\n".to_vec()),
                Just(b"\0".to_vec()),
                Just(b"\n".to_vec()),
                Just(b"9".to_vec()),
                Just(b"x".to_vec()),
            ], 0..20).prop_map(|v| v.concat()),
        ],
        max in 1usize..30,
        cuts in proptest::collection::vec(any::<usize>(), 1..10),
    ) {
        prop_assert_eq!(run(max, &stream, &cuts), run(max, &stream, &[]));
    }
}
