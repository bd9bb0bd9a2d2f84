//! RELP against shared/corpora/protocols/relp: node-relp's parser vectors,
//! librelp's invalid-open cases, and a real rsyslog omrelp → imrelp session
//! replayed through the codec and the session (whole, byte by byte, and in
//! the TCP chunks as captured). Hark's replies are compared with imrelp's
//! by TXNR, command and code; the software offer differs by design.

use bytes::{Bytes, BytesMut};
use hark_proto::relp::{Action, Command, RelpCodec, RelpError, RelpFrame, RelpSession, ReplyQueue};
use hark_testkit::corpus::{protocol_file, protocol_jsonl, unhex};
use serde_json::Value;
use tokio_util::codec::Decoder;

/// The bytes of `name` in the RELP corpus.
fn read(name: &str) -> Vec<u8> {
    protocol_file(&format!("relp/{name}"))
}

/// The vectors of `name` in the RELP corpus.
fn jsonl(name: &str) -> Vec<Value> {
    protocol_jsonl(&format!("relp/{name}"))
}

/// node-relp's error texts and the errors Hark gives for the same input.
fn error_matches(expected: &str, got: &RelpError) -> bool {
    match expected {
        "Expected transaction id, got something longer than 9 characters" => {
            matches!(got, RelpError::TxnrTooLong)
        }
        "Expected transaction id, got a space instead" => matches!(got, RelpError::TxnrMissing),
        "Expected transaction id to be a number, got something else" => {
            matches!(got, RelpError::TxnrNotNumber { .. })
        }
        "Expected command, got something longer than 32 characters" => {
            matches!(got, RelpError::CommandTooLong)
        }
        "Expected command, got a space instead" => matches!(got, RelpError::CommandMissing),
        "Expected bodyLength, got something longer than 9 characters" => {
            matches!(got, RelpError::DatalenTooLong)
        }
        "Expected bodyLength to be a number, got something else" => {
            matches!(got, RelpError::DatalenNotNumber { .. })
        }
        "Expected bodyLength, got a space instead" => {
            matches!(got, RelpError::DatalenMissing { found: b' ' })
        }
        "Expected ending newline, got something else" => {
            matches!(got, RelpError::MissingTrailer { .. })
        }
        other => panic!("no mapping for node-relp error {other:?}"),
    }
}

fn frame_of(v: &Value) -> RelpFrame {
    let data = v["data"].as_str().unwrap_or("");
    RelpFrame::new(
        u32::try_from(v["txnr"].as_u64().unwrap()).unwrap(),
        Command::from_name(v["command"].as_str().unwrap()),
        Bytes::copy_from_slice(data.as_bytes()),
    )
}

#[test]
fn parser_vectors() {
    let vectors = jsonl("relp_parser_vectors.jsonl");
    assert_eq!(vectors.len(), 22);
    let mut checked = 0;
    for v in &vectors {
        let kind = v["kind"].as_str().unwrap();
        let input = v["input"].as_str().map(str::as_bytes).unwrap_or_default();
        // The largest DATALEN the grammar allows, so that limits do not mask parse results.
        let mut codec = RelpCodec::new(999_999_999);
        let mut buf = BytesMut::from(input);
        match (kind, &v["valid"]) {
            ("serialize", _) => {
                let wire = frame_of(&v["frame"]).to_bytes();
                assert_eq!(
                    &wire[..],
                    v["expected_wire"].as_str().unwrap().as_bytes(),
                    "{v}"
                );
            }
            ("deserialize", Value::Bool(true)) => {
                let frame = codec.decode(&mut buf).unwrap().unwrap();
                let want = &v["expected"];
                assert_eq!(frame, frame_of(want), "{v}");
                assert_eq!(frame.data.len() as u64, want["datalen"].as_u64().unwrap());
                let position = want["position"].as_u64().unwrap() as usize;
                assert_eq!(input.len() - buf.len(), position, "{v}");
            }
            ("deserialize", Value::Null) => {
                // Incomplete: nothing handed out, nothing consumed, no error.
                assert!(codec.decode(&mut buf).unwrap().is_none(), "{v}");
                assert_eq!(buf.len(), input.len());
                assert!(matches!(
                    codec.decode_eof(&mut buf),
                    Err(RelpError::Truncated { .. })
                ));
            }
            ("deserialize", Value::Bool(false)) => {
                let err = codec.decode(&mut buf).unwrap_err();
                let expected = v["expected_error"].as_str().unwrap();
                assert!(error_matches(expected, &err), "{v}: got {err}");
            }
            ("stream", _) => {
                let mut frames = Vec::new();
                while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
                    frames.push(f);
                }
                let want: Vec<RelpFrame> = v["expected_frames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(frame_of)
                    .collect();
                assert_eq!(frames, want);
            }
            ("server_open_handshake", _) => {
                // librelp's invalid opens: the server must not accept the session.
                let mut session = RelpSession::new();
                let mut replies = Vec::new();
                let outcome = loop {
                    match codec.decode_eof(&mut buf) {
                        Ok(Some(frame)) => replies.push(session.on_frame(frame)),
                        Ok(None) => break None,
                        Err(e) => break Some(e),
                    }
                };
                assert!(!session.is_open(), "{v}");
                for action in &replies {
                    match action {
                        Action::CloseAfter(bytes) => {
                            let text = String::from_utf8_lossy(bytes);
                            assert!(text.contains(" rsp ") && text.contains(" 500 "), "{text}");
                        }
                        other => panic!("{v}: unexpected {other:?}"),
                    }
                }
                assert!(
                    !replies.is_empty() || outcome.is_some(),
                    "{v}: neither refused nor failed"
                );
            }
            other => panic!("unknown vector kind {other:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 22);
}

/// What a listener would send back for the client stream fed in `chunks`,
/// storing the messages of each chunk before the next one arrives: the
/// reply bytes, the messages delivered, and whether the session closed.
fn serve<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (Vec<u8>, Vec<Bytes>, bool) {
    let mut codec = RelpCodec::default();
    let mut session = RelpSession::new();
    let mut replies = ReplyQueue::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut delivered = Vec::new();
    let mut stored = Vec::new();
    let mut closed = false;
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            match session.on_frame(frame) {
                Action::Reply(b) => replies.push_reply(b),
                Action::Deliver { txnr, message } => {
                    delivered.push(message);
                    replies.push_pending(txnr);
                    stored.push(txnr);
                }
                Action::CloseAfter(b) => {
                    replies.push_reply(b);
                    closed = true;
                }
                Action::ProtocolError(e) => panic!("{e}"),
                Action::Ignore => {}
            }
        }
        // The write-ahead log confirms in batches; newest first, to show order is kept anyway.
        for txnr in stored.drain(..).rev() {
            assert!(replies.mark_durable(txnr));
        }
        if let Some(bytes) = replies.take_ready() {
            out.extend_from_slice(&bytes);
        }
    }
    assert!(codec.decode_eof(&mut buf).unwrap().is_none());
    assert!(replies.is_empty());
    (out, delivered, closed)
}

/// (TXNR, command, status code) of each frame in a server stream.
fn summary(server: &[u8]) -> Vec<(u32, String, String)> {
    let mut codec = RelpCodec::default();
    let mut buf = BytesMut::from(server);
    let mut out = Vec::new();
    while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
        let code = String::from_utf8_lossy(&f.data[..f.data.len().min(3)]).into_owned();
        out.push((f.txnr, f.command.to_string(), code));
    }
    out
}

/// The offers of the `open` reply (the lines after the status line).
fn open_offers(server: &[u8]) -> Vec<String> {
    let mut codec = RelpCodec::default();
    let frame = codec.decode(&mut BytesMut::from(server)).unwrap().unwrap();
    String::from_utf8(frame.data.to_vec())
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

#[test]
fn real_librelp_session_replays_with_the_same_replies() {
    let client = read("librelp_session_client_to_server.bin");
    let server = read("librelp_session_server_to_client.bin");
    let want = summary(&server);
    assert_eq!(want.len(), 28);
    let received: Vec<Vec<u8>> = String::from_utf8(read("librelp_session_receiver_rawmsg.log"))
        .unwrap()
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    assert_eq!(received.len(), 25);

    let chunks: Vec<Vec<u8>> = jsonl("librelp_session_chunks.jsonl")
        .iter()
        .filter(|c| c["dir"] == "c2s")
        .map(|c| unhex(c["hex"].as_str().unwrap()))
        .collect();
    assert_eq!(chunks.concat(), client);

    let runs = [
        ("whole", serve([&client[..]])),
        ("byte by byte", serve(client.chunks(1))),
        ("captured chunks", serve(chunks.iter().map(Vec::as_slice))),
    ];
    for (how, (out, delivered, closed)) in &runs {
        assert_eq!(summary(out), want, "{how}");
        assert!(closed, "{how}");
        let delivered: Vec<Vec<u8>> = delivered.iter().map(|m| m.to_vec()).collect();
        assert_eq!(delivered, received, "{how}");
    }
    // Same offers apart from the software that speaks them.
    let ours = open_offers(&runs[0].1.0);
    let theirs = open_offers(&server);
    let without_software = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|o| !o.starts_with("relp_software="))
            .cloned()
            .collect()
    };
    assert_eq!(without_software(&ours), without_software(&theirs));
    assert!(ours.iter().any(|o| o.starts_with("relp_software=hark,")));
}

#[test]
fn captured_client_frames_decode_as_recorded() {
    let client = read("librelp_session_client_to_server.bin");
    let mut codec = RelpCodec::default();
    let mut buf = BytesMut::from(&client[..]);
    let mut frames = Vec::new();
    while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
        frames.push(f);
    }
    let recorded: Vec<Value> = jsonl("librelp_session_frames.jsonl")
        .into_iter()
        .filter(|f| f["dir"] == "client_to_server")
        .collect();
    assert_eq!(frames.len(), recorded.len());
    for (got, want) in frames.iter().zip(&recorded) {
        assert_eq!(*got, frame_of(want));
        // Re-encoding gives back the exact bytes on the wire.
        assert_eq!(
            &got.to_bytes()[..],
            want["raw"].as_str().unwrap().as_bytes()
        );
    }
}
