//! Every client encoder against Hark's own decoder: what the syslog
//! writer, the RELP client, the Beats client, the GELF writer and the SNMP
//! message encoder produce, the matching server side reads back as the
//! same data. Where the corpora hold a real peer's bytes, the clients are
//! checked against them too: they write what librelp and go-lumber write,
//! and read what those servers answer.

use bytes::{Bytes, BytesMut};
use chrono::{TimeZone, Utc};
use hark_event::FieldValue;
use hark_proto::gelf::{
    Compression, GelfChunker, GelfMessage, compress, datagrams, decompress, gelf_to_event,
};
use hark_proto::lumberjack::{
    AckDecoder, AckProgress, BatchStep, BeatsBatch, BeatsClient, Frame, LumberjackDecoder,
};
use hark_proto::relp::{
    Action, ClientError, ClientEvent, Command, RelpClient, RelpCodec, RelpSession, ReplyQueue,
};
use hark_proto::snmp::{
    Message, Oid, Pdu, PduKind, Trap, Value, VarBind, Version, decode_trap, encode_trap,
    trap_to_event,
};
use hark_proto::syslog::{Rfc3164Header, Rfc5424Header, SdElement};
use hark_proto::{ParseContext, StreamFraming, SyslogFramer, parse_syslog};
use hark_testkit::corpus::{protocol_file, protocol_jsonl, unhex};
use proptest::prelude::*;
use tokio_util::codec::Decoder;

/// Every item a decoder finds in `bytes`, the end of stream included.
fn decode_all<D: Decoder>(decoder: &mut D, bytes: &[u8]) -> Vec<D::Item>
where
    D::Error: std::fmt::Debug,
{
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(item) = decoder.decode_eof(&mut buf).unwrap() {
        out.push(item);
    }
    out
}

const NOW: i64 = 1_795_323_600_000_000_000;

// ---- syslog ----

fn sample_5424<'a>(sd: &'a [SdElement<'a>]) -> Rfc5424Header<'a> {
    Rfc5424Header {
        pri: 165,
        timestamp: Some(Utc.timestamp_nanos(1_795_323_599_123_456_000)),
        hostname: Some("mymachine.example.com"),
        app_name: Some("evntslog"),
        procid: Some("42"),
        msgid: Some("ID47"),
        structured_data: sd,
    }
}

#[test]
fn rfc5424_messages_parse_back_field_for_field() {
    let sd = [SdElement {
        id: "exampleSDID@32473",
        params: &[("iut", "3"), ("eventSource", r#"Appl"ic\ation]"#)],
    }];
    let header = sample_5424(&sd);
    let mut wire = Vec::new();
    header.write("An application event log entry…".as_bytes(), &mut wire);
    let ev = parse_syslog(&wire, &ParseContext::new(NOW, "t"));
    assert_eq!(ev.parse_error, None);
    assert_eq!(ev.timestamp, 1_795_323_599_123_456_000);
    assert_eq!(ev.host.as_deref(), Some("mymachine.example.com"));
    assert_eq!(ev.app.as_deref(), Some("evntslog"));
    assert_eq!(ev.procid.as_deref(), Some("42"));
    assert_eq!(ev.msgid.as_deref(), Some("ID47"));
    assert_eq!(ev.severity_code(), Some(5));
    assert_eq!(ev.message, "An application event log entry…");
    assert_eq!(
        ev.field("sd.exampleSDID@32473.eventSource"),
        Some(&FieldValue::from(r#"Appl"ic\ation]"#))
    );
    assert_eq!(
        ev.field("sd.exampleSDID@32473.iut"),
        Some(&FieldValue::from("3"))
    );
}

#[test]
fn rfc5424_nil_fields_parse_as_absent() {
    let header = Rfc5424Header {
        pri: 13,
        timestamp: None,
        hostname: None,
        app_name: None,
        procid: None,
        msgid: None,
        structured_data: &[],
    };
    let mut wire = Vec::new();
    header.write(b"bare", &mut wire);
    assert_eq!(wire, b"<13>1 - - - - - - bare");
    let ev = parse_syslog(&wire, &ParseContext::new(NOW, "t"));
    assert_eq!((ev.host, ev.app, ev.procid), (None, None, None));
    assert_eq!((ev.timestamp, ev.message.as_str()), (NOW, "bare"));
}

#[test]
fn rfc3164_messages_parse_back() {
    let header = Rfc3164Header {
        pri: 34,
        timestamp: Utc.timestamp_nanos(NOW - 3_600_000_000_000),
        hostname: "mymachine",
        tag: "su",
        pid: Some("4711"),
    };
    let mut wire = Vec::new();
    header.write(b"'su root' failed for lonvick on /dev/pts/8", &mut wire);
    let ev = parse_syslog(&wire, &ParseContext::new(NOW, "t"));
    assert_eq!(ev.parse_error, None);
    assert_eq!(ev.timestamp, NOW - 3_600_000_000_000);
    assert_eq!(ev.host.as_deref(), Some("mymachine"));
    assert_eq!(ev.app.as_deref(), Some("su"));
    assert_eq!(ev.procid.as_deref(), Some("4711"));
    assert_eq!(ev.severity_code(), Some(2));
    assert_eq!(ev.message, "'su root' failed for lonvick on /dev/pts/8");
}

#[test]
fn both_stream_framings_reach_the_framer_whole() {
    let messages: [&[u8]; 3] = [
        b"<13>1 - - - - - - one",
        b"<13>two\twith tab",
        b"<13>3 \xff",
    ];
    for framing in [StreamFraming::OctetCounting, StreamFraming::LineFeed] {
        let mut stream = Vec::new();
        for m in messages {
            framing.write(m, &mut stream);
        }
        let frames = decode_all(&mut SyslogFramer::new(1024), &stream);
        let got: Vec<&[u8]> = frames.iter().map(|f| &f.bytes[..]).collect();
        assert_eq!(got, messages, "{framing:?}");
    }
    // Only octet counting carries an LF inside a message.
    let mut stream = Vec::new();
    StreamFraming::OctetCounting.write(b"<13>a\nb", &mut stream);
    let frames = decode_all(&mut SyslogFramer::new(1024), &stream);
    assert_eq!(&frames[0].bytes[..], b"<13>a\nb");
}

// ---- RELP ----

/// Runs a client against Hark's server side in memory: `messages` are
/// sent in windows, delivered, made durable and acknowledged.
fn relp_exchange(messages: &[Vec<u8>], window: usize) -> Vec<Bytes> {
    let mut client = RelpClient::new("hark-test", window);
    let mut server = (RelpCodec::default(), RelpSession::new(), ReplyQueue::new());
    let mut reply_codec = RelpCodec::default();
    let mut to_server = BytesMut::new();
    let mut delivered = Vec::new();
    client.open(&mut to_server).unwrap();
    let mut next = 0;
    let mut closed = false;
    let mut close_sent = false;
    while !closed {
        // The server reads everything, acknowledges what it received.
        let mut to_client = BytesMut::new();
        while let Some(frame) = server.0.decode(&mut to_server).unwrap() {
            match server.1.on_frame(frame) {
                Action::Reply(b) | Action::CloseAfter(b) => server.2.push_reply(b),
                Action::Deliver { txnr, message } => {
                    delivered.push(message);
                    server.2.push_pending(txnr);
                    server.2.mark_durable(txnr);
                }
                other => panic!("{other:?}"),
            }
        }
        while let Some(b) = server.2.take_ready() {
            to_client.extend_from_slice(&b);
        }
        // The client reads the replies, then fills its window again.
        while let Some(frame) = reply_codec.decode(&mut to_client).unwrap() {
            match client.on_frame(frame) {
                Ok(ClientEvent::Closed) => closed = true,
                Ok(_) => {}
                Err(ClientError::ServerClosed) => assert!(closed),
                Err(e) => panic!("{e}"),
            }
        }
        while next < messages.len() && client.can_send() {
            client.send(&messages[next], &mut to_server).unwrap();
            next += 1;
        }
        if next == messages.len() && client.in_flight().count() == 0 && !close_sent {
            client.close(&mut to_server).unwrap();
            close_sent = true;
        }
    }
    delivered
}

#[test]
fn relp_client_and_server_sessions_deliver_every_message() {
    let messages: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("<13>message {i}").into_bytes())
        .collect();
    for window in [1, 7, 128] {
        let delivered = relp_exchange(&messages, window);
        assert_eq!(delivered, messages, "window {window}");
    }
}

/// The client writes what librelp's omrelp wrote in the captured session,
/// byte for byte, and reads imrelp's replies to the end.
#[test]
fn relp_client_speaks_like_librelp() {
    let frames = protocol_jsonl("relp/librelp_session_frames.jsonl");
    let messages: Vec<&str> = frames
        .iter()
        .filter(|f| f["dir"] == "client_to_server" && f["command"] == "syslog")
        .map(|f| f["data"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 25);
    let replies = protocol_file("relp/librelp_session_server_to_client.bin");
    let mut replies = decode_all(&mut RelpCodec::default(), &replies).into_iter();

    let mut client = RelpClient::new("librelp,1.11.0,http://librelp.adiscon.com", 128);
    let mut out = BytesMut::new();
    client.open(&mut out).unwrap();
    let opened = client.on_frame(replies.next().unwrap()).unwrap();
    assert!(matches!(opened, ClientEvent::Opened { .. }));
    for m in &messages {
        client.send(m.as_bytes(), &mut out).unwrap();
    }
    client.close(&mut out).unwrap();
    assert_eq!(
        &out[..],
        &protocol_file("relp/librelp_session_client_to_server.bin")[..]
    );

    let events: Vec<_> = replies.map(|f| client.on_frame(f)).collect();
    let acked = events
        .iter()
        .filter(|e| matches!(e, Ok(ClientEvent::Acked { .. })))
        .count();
    assert_eq!(acked, 25);
    assert_eq!(events[25], Ok(ClientEvent::Closed));
    assert_eq!(events[26], Err(ClientError::ServerClosed));
    assert_eq!(client.in_flight().count(), 0);
}

// ---- Lumberjack ----

/// The events and the ack Hark's server side makes of a stream.
fn beats_serve(stream: &[u8]) -> (Vec<Bytes>, Vec<[u8; 6]>) {
    let mut batch = BeatsBatch::new();
    let mut events = Vec::new();
    let mut acks = Vec::new();
    for frame in decode_all(&mut LumberjackDecoder::default(), stream) {
        match batch.on_frame(&frame).unwrap() {
            BatchStep::Complete { ack, .. } | BatchStep::EmptyWindow { ack } => acks.push(ack),
            _ => {}
        }
        if let Frame::Json { payload, .. } = frame {
            events.push(payload);
        }
    }
    (events, acks)
}

#[test]
fn beats_windows_plain_and_compressed_decode_and_ack() {
    let docs: Vec<String> = (0..50)
        .map(|i| serde_json::json!({"message": format!("event {i}"), "n": i}).to_string())
        .collect();
    for compression in [None, Some(1), Some(9)] {
        let mut client = BeatsClient::new(compression);
        for window in docs.chunks(20) {
            let mut wire = BytesMut::new();
            client.write_window(window, &mut wire).unwrap();
            let (events, acks) = beats_serve(&wire);
            let sent: Vec<&[u8]> = window.iter().map(|d| d.as_bytes()).collect();
            let got: Vec<&[u8]> = events.iter().map(|e| &e[..]).collect();
            assert_eq!(got, sent, "{compression:?}");
            assert_eq!(acks.len(), 1);
            let ack = decode_all(&mut AckDecoder, &acks[0]).remove(0);
            assert_eq!(client.on_ack(ack), Ok(AckProgress::Complete));
        }
    }
}

/// Uncompressed windows come out as go-lumber's client writes them, and
/// the acks its server sent are read as completing the window.
#[test]
fn beats_client_writes_what_go_lumber_writes() {
    let mut compared = 0;
    for v in protocol_jsonl("lumberjack/lumberjack_v2_vectors.jsonl") {
        let Some(file) = v["client_to_server_file"].as_str() else {
            continue;
        };
        let theirs = protocol_file(&format!("lumberjack/{file}"));
        let (events, _) = beats_serve(&theirs);
        let level = v["compression_level"].as_u64().unwrap();
        let mut client = BeatsClient::new((level > 0).then_some(level as u32));
        let mut ours = BytesMut::new();
        let last = client.write_window(&events, &mut ours).unwrap();
        assert_eq!(u64::from(last), v["expected_ack_seq"].as_u64().unwrap());
        if level == 0 {
            assert_eq!(&ours[..], &theirs[..], "{file}");
        } else {
            assert_eq!(beats_serve(&ours).0, events, "{file}");
        }
        let ack = unhex(v["server_to_client_hex"].as_str().unwrap());
        let acks = decode_all(&mut AckDecoder, &ack);
        assert_eq!(client.on_ack(acks[0]), Ok(AckProgress::Complete), "{file}");
        compared += 1;
    }
    assert_eq!(compared, 4);
}

// ---- GELF ----

#[test]
fn gelf_messages_survive_compression_and_chunking() {
    let text = "x".repeat(20_000);
    let message = GelfMessage {
        host: "web1",
        short_message: &text,
        full_message: Some("trace"),
        timestamp: Some(1_795_323_599.25),
        level: Some(3),
        additional: &[("n", 42.into()), ("_user", "alice".into())],
    };
    let json = message.to_json();
    for how in [Compression::None, Compression::Zlib, Compression::Gzip] {
        let payload = compress(&json, how);
        let parts = datagrams(&payload, 1400, [9; 8]).unwrap();
        assert_eq!(parts.len() > 1, payload.len() > 1400, "{how:?}");
        let mut chunker = GelfChunker::new(5_000, 1 << 20);
        let mut whole = None;
        // Chunks arrive in any order.
        for d in parts.iter().rev() {
            if let Some(p) = chunker.push("peer", d, 0).unwrap() {
                whole = Some(p);
            }
        }
        let whole = whole.expect("reassembled");
        let plain = decompress(&whole, 1 << 20).unwrap();
        let ev = gelf_to_event(&plain, &ParseContext::new(NOW, "gelf"));
        assert_eq!(ev.parse_error, None);
        assert_eq!(ev.host.as_deref(), Some("web1"));
        assert_eq!(ev.message, text);
        assert_eq!(ev.severity_code(), Some(3));
        assert_eq!(ev.timestamp, 1_795_323_599_250_000_000);
        assert_eq!(ev.field("n"), Some(&FieldValue::Int(42)));
        assert_eq!(ev.field("user"), Some(&FieldValue::from("alice")));
        assert_eq!(ev.field("full_message"), Some(&FieldValue::from("trace")));
    }
}

// ---- SNMP ----

fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

#[test]
fn snmp_get_and_response_round_trip() {
    let get = Message::get_request(
        Version::V1,
        b"public",
        -5,
        [oid("1.3.6.1.2.1.1.3.0"), oid("2.999.4294967295")],
    );
    assert_eq!(Message::decode(&get.encode()), Ok(get.clone()));
    let response = Message {
        version: Version::V2c,
        community: vec![b'c'; 300],
        pdu: Pdu {
            kind: PduKind::Response,
            request_id: i64::from(i32::MAX),
            error_status: 2,
            error_index: 1,
            varbinds: vec![
                VarBind {
                    oid: oid("1.3.6.1.2.1.1.3.0"),
                    value: Value::TimeTicks(u32::MAX),
                },
                VarBind {
                    oid: oid("1.3.6.1.2.1.1.5.0"),
                    value: Value::OctetString(b"router".to_vec()),
                },
                VarBind {
                    oid: oid("1.3.6.1.2.1.31.1.1.1.6.1"),
                    value: Value::Counter64(u64::MAX),
                },
                VarBind {
                    oid: oid("1.3.6.1.2.1.1.9.9"),
                    value: Value::NoSuchInstance,
                },
                VarBind {
                    oid: oid("1.3.6.1.2.1.4.20.1.1.1"),
                    value: Value::IpAddr([192, 0, 2, 1].into()),
                },
            ],
        },
    };
    assert_eq!(Message::decode(&response.encode()), Ok(response));
}

/// The trap `hark send` builds reaches the trap listener's decoder whole.
#[test]
fn snmp_v2c_traps_decode_into_events() {
    let message = VarBind {
        oid: oid("1.3.6.1.4.1.8072.9999.2"),
        value: Value::OctetString(b"hark test message 7".to_vec()),
    };
    let trap = Trap::v2c(
        b"public",
        7,
        4200,
        oid("1.3.6.1.4.1.8072.9999.1"),
        vec![message],
    );
    let decoded = decode_trap(&encode_trap(&trap)).unwrap();
    assert_eq!(decoded, trap);
    assert_eq!(decoded.uptime, Some(4200));
    let ev = trap_to_event(
        &decoded,
        "192.0.2.1:40000".parse().unwrap(),
        &ParseContext::new(NOW, "snmp"),
        false,
    );
    assert!(ev.message.contains("hark test message 7"), "{}", ev.message);
}

/// snmp-parser, a second decoder, reads the GetRequest the monitor sends.
#[test]
fn snmp_parser_reads_our_get_request() {
    use snmp_parser::{PduType, SnmpPdu, parse_snmp_v2c};
    let oids = [
        oid("1.3.6.1.2.1.1.3.0"),
        oid("1.3.6.1.4.1.99999.4294967295.300"),
    ];
    let wire = Message::get_request(Version::V2c, b"hark-test", 0x1234_5678, oids).encode();
    let msg = parse_snmp_v2c(&wire).unwrap().1;
    assert_eq!(msg.community, "hark-test");
    let SnmpPdu::Generic(pdu) = msg.pdu else {
        panic!("not a generic PDU")
    };
    assert_eq!(pdu.pdu_type, PduType::GetRequest);
    assert_eq!(pdu.req_id, 0x1234_5678);
    let got: Vec<String> = pdu.var.iter().map(|v| v.oid.to_id_string()).collect();
    assert_eq!(
        got,
        ["1.3.6.1.2.1.1.3.0", "1.3.6.1.4.1.99999.4294967295.300"]
    );
}

/// Real agents' responses (gosnmp's test packets) decode to what gosnmp
/// read, and re-encode to messages that decode the same.
#[test]
fn gosnmp_responses_decode_and_re_encode() {
    let mut compared = 0;
    for v in protocol_jsonl("snmp/gosnmp_test_vectors.jsonl") {
        let d = &v["decoded"];
        if d["pdu_type"] != "GetResponse" {
            continue;
        }
        let name = v["name"].as_str().unwrap();
        let packet = unhex(v["packet_hex"].as_str().unwrap());
        let msg = Message::decode(&packet).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(msg.pdu.kind, PduKind::Response, "{name}");
        assert_eq!(
            msg.pdu.request_id,
            d["request_id"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            msg.pdu.error_status,
            d["error_status"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            msg.community,
            d["community"].as_str().unwrap().as_bytes(),
            "{name}"
        );
        let oids: Vec<String> = msg
            .pdu
            .varbinds
            .iter()
            .map(|vb| format!(".{}", vb.oid))
            .collect();
        let theirs: Vec<&str> = d["varbinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|vb| vb["oid"].as_str().unwrap())
            .collect();
        assert_eq!(oids, theirs, "{name}");
        assert_eq!(Message::decode(&msg.encode()).as_ref(), Ok(&msg), "{name}");
        compared += 1;
    }
    assert!(compared >= 10, "{compared}");
}

// ---- properties ----

fn field() -> impl Strategy<Value = String> {
    "[!-~]{1,20}"
}

proptest! {
    #[test]
    fn any_rfc5424_header_parses_back(
        pri in 0u8..192,
        nanos in 0i64..4_000_000_000_000_000_000,
        host in field(), app in "[!-~]{1,48}", procid in field(), msgid in "[!-~]{1,32}",
        msg in "[!-~][ -~]{0,40}",
    ) {
        let micros = nanos / 1000 * 1000;
        let header = Rfc5424Header {
            pri,
            timestamp: Some(Utc.timestamp_nanos(micros)),
            hostname: Some(&host),
            app_name: Some(&app),
            procid: Some(&procid),
            msgid: Some(&msgid),
            structured_data: &[],
        };
        let mut wire = Vec::new();
        header.write(msg.as_bytes(), &mut wire);
        let ev = parse_syslog(&wire, &ParseContext::new(NOW, "t"));
        let nil = |s: &str| (s != "-").then(|| s.to_owned());
        prop_assert_eq!(ev.severity_code(), Some(pri % 8));
        prop_assert_eq!(ev.parse_error, None);
        prop_assert_eq!(ev.timestamp, micros);
        prop_assert_eq!(ev.host, nil(&host));
        prop_assert_eq!(ev.app, nil(&app));
        prop_assert_eq!(ev.procid, nil(&procid));
        prop_assert_eq!(ev.msgid, nil(&msgid));
        prop_assert_eq!(ev.message, msg.trim_end());
    }

    #[test]
    fn any_message_crosses_both_framings(
        msgs in proptest::collection::vec("<13>[!-~][ -~]{0,60}", 1..10),
    ) {
        for framing in [StreamFraming::OctetCounting, StreamFraming::LineFeed] {
            let mut stream = Vec::new();
            for m in &msgs {
                framing.write(m.as_bytes(), &mut stream);
            }
            let frames = decode_all(&mut SyslogFramer::new(1024), &stream);
            let got: Vec<&[u8]> = frames.iter().map(|f| &f.bytes[..]).collect();
            let sent: Vec<&[u8]> = msgs.iter().map(|m| m.as_bytes()).collect();
            prop_assert_eq!(got, sent);
        }
    }

    #[test]
    fn any_relp_traffic_is_delivered_in_order(
        msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..40),
        window in 1usize..10,
    ) {
        let delivered = relp_exchange(&msgs, window);
        // The server strips the one trailing LF rsyslog's templates add.
        let expected: Vec<&[u8]> = msgs.iter().map(|m| m.strip_suffix(b"\n").unwrap_or(m)).collect();
        let got: Vec<&[u8]> = delivered.iter().map(|m| &m[..]).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn any_gelf_payload_reassembles(
        payload in proptest::collection::vec(any::<u8>(), 0..5000),
        max_datagram in 13usize..2000,
        order in any::<u64>(),
    ) {
        match datagrams(&payload, max_datagram, order.to_be_bytes()) {
            Ok(mut parts) => {
                prop_assert!(parts.iter().all(|d| d.len() <= max_datagram));
                let n = parts.len();
                if n > 1 {
                    parts.rotate_left((order as usize) % n);
                }
                let mut chunker = GelfChunker::new(5_000, 1 << 20);
                let mut whole = None;
                for d in &parts {
                    if let Some(p) = chunker.push(0u8, d, 0).unwrap() {
                        whole = Some(p);
                    }
                }
                // A lone datagram that happens to start with the chunk magic is not one message.
                if n > 1 || !hark_proto::gelf::is_chunked(&payload) {
                    prop_assert_eq!(whole, Some(payload));
                }
            }
            Err(_) => prop_assert!(payload.len().div_ceil(max_datagram - 12) > 128),
        }
    }

    #[test]
    fn any_beats_window_decodes(
        docs in proptest::collection::vec("[ -~]{0,80}", 0..30),
        level in proptest::option::of(0u32..10),
    ) {
        let mut client = BeatsClient::new(level);
        let mut wire = BytesMut::new();
        let last = client.write_window(&docs, &mut wire).unwrap();
        prop_assert_eq!(last as usize, docs.len());
        let (events, acks) = beats_serve(&wire);
        let got: Vec<&[u8]> = events.iter().map(|e| &e[..]).collect();
        let sent: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
        prop_assert_eq!(got, sent);
        let ack = decode_all(&mut AckDecoder, &acks[0]).remove(0);
        prop_assert_eq!(client.on_ack(ack), Ok(AckProgress::Complete));
    }

    #[test]
    fn any_snmp_message_round_trips(
        v1 in any::<bool>(),
        community in proptest::collection::vec(any::<u8>(), 0..300),
        request_id in any::<i64>(), error_status in 0i64..20, error_index in 0i64..10,
        arcs in proptest::collection::vec(proptest::collection::vec(any::<u32>(), 0..12), 0..8),
        ints in proptest::collection::vec(any::<i64>(), 8),
    ) {
        let varbinds = arcs
            .iter()
            .zip(&ints)
            .map(|(tail, n)| {
                let mut a = vec![1, 3, 6];
                a.extend_from_slice(tail);
                VarBind { oid: Oid::from_arcs(&a).unwrap(), value: Value::Int(*n) }
            })
            .collect();
        let msg = Message {
            version: if v1 { Version::V1 } else { Version::V2c },
            community,
            pdu: Pdu { kind: PduKind::Response, request_id, error_status, error_index, varbinds },
        };
        prop_assert_eq!(Message::decode(&msg.encode()), Ok(msg));
    }
}

#[test]
fn a_relp_server_refusal_reaches_the_client() {
    let mut client = RelpClient::new("hark-test", 4);
    let mut wire = BytesMut::new();
    client.open(&mut wire).unwrap();
    let mut session = RelpSession::new();
    let frame = RelpCodec::default().decode(&mut wire).unwrap().unwrap();
    let Action::Reply(reply) = session.on_frame(frame) else {
        panic!("open not answered")
    };
    let reply = RelpCodec::default()
        .decode(&mut BytesMut::from(&reply[..]))
        .unwrap()
        .unwrap();
    client.on_frame(reply).unwrap();
    client.send(b"<13>x", &mut wire).unwrap();
    let frame = RelpCodec::default().decode(&mut wire).unwrap().unwrap();
    assert_eq!(frame.command, Command::Syslog);
    let mut queue = ReplyQueue::new();
    queue.push_pending(frame.txnr);
    queue.mark_failed(frame.txnr, "storage unavailable");
    let reply = queue.take_ready().unwrap();
    let reply = RelpCodec::default()
        .decode(&mut BytesMut::from(&reply[..]))
        .unwrap()
        .unwrap();
    assert_eq!(
        client.on_frame(reply),
        Err(ClientError::Refused {
            txnr: 2,
            code: 500,
            text: "storage unavailable".into()
        })
    );
}
