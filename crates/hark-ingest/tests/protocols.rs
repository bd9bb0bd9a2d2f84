//! Each protocol input against a real store: replies only after durability,
//! events as the mappers make them, malformed input counted and dropped.

use std::sync::Arc;
use std::time::Duration;

use hark_event::parse::EventParser;
use hark_event::{Event, FieldValue};
use hark_ingest::ParseStage;
use hark_store::{Store, StoreConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

struct Rig {
    _dir: tempfile::TempDir,
    store: Store,
    shutdown: CancellationToken,
    events: hark_store::Tail,
    input: Option<hark_ingest::RunningInput>,
}

impl Rig {
    async fn start(table: &str) -> Rig {
        Rig::start_parsed(table, None).await
    }

    /// Like [`Rig::start`], with `parse` as the input's parse stage instead
    /// of the one its configuration gives.
    async fn start_parsed(table: &str, parse: Option<ParseStage>) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let mut sc = StoreConfig::new(dir.path());
        sc.index_memory = 30_000_000;
        sc.index_threads = 1;
        let store = Store::open(sc).unwrap();
        let events = store.subscribe("test");
        let text = format!("[inputs.probe]\nlisten = \"127.0.0.1:0\"\n{table}");
        let cfg = hark_config::Config::from_toml_str("test.toml", &text).unwrap();
        let shutdown = CancellationToken::new();
        let input_cfg = &cfg.inputs["probe"];
        let parse = parse.unwrap_or_else(|| {
            let rdns = hark_ingest::rdns::ReverseDns::from_config(&cfg);
            hark_ingest::Parsing::from_config(&cfg, &rdns)
                .unwrap()
                .stage(input_cfg)
        });
        let input = hark_ingest::start(
            "probe",
            input_cfg,
            Arc::new(store.clone()),
            parse,
            shutdown.clone(),
        )
        .await
        .unwrap();
        Rig {
            _dir: dir,
            store,
            shutdown,
            events,
            input: Some(input),
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.input.as_ref().unwrap().local_addr().unwrap()
    }

    /// The next `n` events appended to the store.
    async fn next_events(&mut self, n: usize) -> Vec<Event> {
        let mut out = Vec::new();
        while out.len() < n {
            let batch = tokio::time::timeout(Duration::from_secs(20), self.events.recv())
                .await
                .expect("events within 20 s")
                .unwrap();
            out.extend(batch.iter().cloned());
        }
        out
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(i) = self.input.take() {
            i.join().await;
        }
        drop(self.store);
    }
}

async fn read_until(stream: &mut TcpStream, want: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(want.len()).any(|w| w == want) {
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
            .await
            .expect("reply within 20 s")
            .unwrap();
        assert!(
            n > 0,
            "closed before {:?}; got {:?}",
            String::from_utf8_lossy(want),
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn relp_frame(txnr: u32, cmd: &str, data: &[u8]) -> Vec<u8> {
    let mut f = format!("{txnr} {cmd} {}", data.len()).into_bytes();
    if !data.is_empty() {
        f.push(b' ');
        f.extend_from_slice(data);
    }
    f.push(b'\n');
    f
}

#[tokio::test]
async fn relp_acknowledges_every_message_in_order_then_closes() {
    let mut rig = Rig::start("type = \"relp\"\n").await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    let mut wire = relp_frame(
        1,
        "open",
        b"relp_version=0\nrelp_software=test\ncommands=syslog",
    );
    for i in 0..300u32 {
        let msg = format!("<13>Jan  1 00:00:00 host app: relp message {i}");
        wire.extend(relp_frame(i + 2, "syslog", msg.as_bytes()));
    }
    wire.extend(relp_frame(302, "close", b""));
    s.write_all(&wire).await.unwrap();
    let got = read_until(&mut s, b"302 rsp 0\n").await;
    let text = String::from_utf8(got).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(" rsp ")).collect();
    assert!(lines[0].starts_with("1 rsp "), "{text}");
    for (i, l) in lines[1..301].iter().enumerate() {
        assert_eq!(*l, format!("{} rsp 6 200 OK", i + 2));
    }
    let events = rig.next_events(300).await;
    assert_eq!(events[0].message, "relp message 0");
    assert_eq!(events[299].message, "relp message 299");
    assert_eq!(events[0].host.as_deref(), Some("host"));
    rig.stop().await;
}

#[tokio::test]
async fn relp_errors_are_answered_then_the_connection_closes() {
    let rig = Rig::start("type = \"relp\"\n").await;
    // A message before `open`: the session's own 500 answer.
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    s.write_all(b"1 syslog 5 <13>x\n").await.unwrap();
    let got = read_until(&mut s, b"\n").await;
    assert!(
        String::from_utf8_lossy(&got).starts_with("1 rsp "),
        "{got:?}"
    );
    assert!(String::from_utf8_lossy(&got).contains(" 500 "), "{got:?}");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.unwrap();
    // Bytes that are not RELP at all: serverclose.
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    read_until(&mut s, b"0 serverclose 0\n").await;
    rig.stop().await;
}

#[tokio::test]
async fn relp_shutdown_answers_durable_messages_and_sends_serverclose() {
    let mut rig = Rig::start("type = \"relp\"\n").await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    let mut wire = relp_frame(1, "open", b"relp_version=0\ncommands=syslog");
    wire.extend(relp_frame(2, "syslog", b"<13>before shutdown"));
    s.write_all(&wire).await.unwrap();
    read_until(&mut s, b"2 rsp 6 200 OK\n").await;
    rig.next_events(1).await;
    rig.shutdown.cancel();
    read_until(&mut s, b"0 serverclose 0\n").await;
    rig.stop().await;
}

fn beats_window(first_seq: u32, docs: &[String]) -> Vec<u8> {
    let mut w = b"2W".to_vec();
    w.extend((docs.len() as u32).to_be_bytes());
    for (i, d) in docs.iter().enumerate() {
        w.extend(b"2J");
        w.extend((first_seq + i as u32).to_be_bytes());
        w.extend((d.len() as u32).to_be_bytes());
        w.extend(d.as_bytes());
    }
    w
}

#[tokio::test]
async fn beats_acks_each_window_with_its_highest_sequence() {
    let mut rig = Rig::start("type = \"beats\"\n").await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    let docs: Vec<String> = (0..100)
        .map(|i| {
            format!(r#"{{"message":"beat {i}","host":{{"name":"web1"}},"fields":{{"n":{i}}}}}"#)
        })
        .collect();
    s.write_all(&beats_window(1, &docs[..50])).await.unwrap();
    read_until(&mut s, b"2A\0\0\0\x32").await;
    s.write_all(&beats_window(51, &docs[50..])).await.unwrap();
    read_until(&mut s, b"2A\0\0\0\x64").await;
    let events = rig.next_events(100).await;
    assert_eq!(events[0].message, "beat 0");
    assert_eq!(events[99].message, "beat 99");
    assert_eq!(events[7].host.as_deref(), Some("web1"));
    assert_eq!(
        events[7].field("fields.n"),
        Some(&hark_event::FieldValue::Int(7))
    );
    rig.stop().await;
}

#[tokio::test]
async fn beats_garbage_closes_the_connection() {
    let rig = Rig::start("type = \"beats\"\n").await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    rig.stop().await;
}

#[tokio::test]
async fn gelf_udp_reassembles_chunks_and_tcp_splits_at_nul() {
    let mut rig = Rig::start("type = \"gelf\"\ntransport = \"udp\"\n").await;
    let big = "x".repeat(3000);
    let doc = format!(
        r#"{{"version":"1.1","host":"app1","short_message":"{big}","level":4,"_user":"bob"}}"#
    );
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let parts: Vec<&[u8]> = doc.as_bytes().chunks(1000).collect();
    // Out of order, to show reassembly does not depend on arrival order.
    for (n, part) in parts.iter().enumerate().rev() {
        let mut d = vec![
            0x1e,
            0x0f,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            n as u8,
            parts.len() as u8,
        ];
        d.extend_from_slice(part);
        udp.send_to(&d, rig.addr()).await.unwrap();
    }
    let ev = rig.next_events(1).await.remove(0);
    assert_eq!(ev.message, big);
    assert_eq!(ev.host.as_deref(), Some("app1"));
    rig.stop().await;

    let mut rig = Rig::start("type = \"gelf\"\ntransport = \"tcp\"\n").await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    s.write_all(b"{\"version\":\"1.1\",\"host\":\"h\",\"short_message\":\"one\"}\0{\"version\":\"1.1\",\"host\":\"h\",\"short_message\":\"two\"}\0")
        .await
        .unwrap();
    let events = rig.next_events(2).await;
    assert_eq!(
        events
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        ["one", "two"]
    );
    rig.stop().await;
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `snmptrap -v 2c -c public host 55 linkDown ifIndex.2 i 2`.
const LINK_DOWN: &str = "305102010104067075626c6963a7440201070201000201003039300d06082b060102\
    010103004301373017060a2b06010603010104010006092b0601060301010503300f\
    060a2b060102010202010102020102";

#[tokio::test]
async fn snmp_stores_traps_answers_informs_and_drops_unknown_communities() {
    let mut rig = Rig::start("type = \"snmptrap\"\n").await;
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let trap = hex(LINK_DOWN);
    let mut wrong = trap.clone();
    wrong[7..13].copy_from_slice(b"secret");
    udp.send_to(&wrong, rig.addr()).await.unwrap();
    udp.send_to(b"\x30\x03garbage", rig.addr()).await.unwrap();
    udp.send_to(&trap, rig.addr()).await.unwrap();
    let ev = rig.next_events(1).await.remove(0);
    assert_eq!(ev.message, "linkDown ifIndex.2=2");
    assert_eq!(ev.app.as_deref(), Some("snmptrap"));

    let mut inform = trap.clone();
    assert_eq!(inform[13], 0xa7);
    inform[13] = 0xa6;
    udp.send_to(&inform, rig.addr()).await.unwrap();
    let mut buf = [0u8; 512];
    let (n, from) = tokio::time::timeout(Duration::from_secs(20), udp.recv_from(&mut buf))
        .await
        .expect("inform answered")
        .unwrap();
    assert_eq!(from, rig.addr());
    assert_eq!(buf[13], 0xa2, "a Response PDU: {:02x?}", &buf[..n]);
    let ev = rig.next_events(1).await.remove(0);
    assert_eq!(ev.message, "linkDown ifIndex.2=2");
    rig.stop().await;
}

/// Recognises messages of `key=value` words and adds each pair as a field.
struct KeyValues;

impl EventParser for KeyValues {
    fn name(&self) -> &str {
        "kv"
    }

    fn parse(&self, event: &mut Event) -> bool {
        let pairs: Vec<(String, FieldValue)> = event
            .message
            .split_whitespace()
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_owned(), FieldValue::Str(v.to_owned())))
            .collect();
        let recognised = !pairs.is_empty();
        event.fields.extend(pairs);
        recognised
    }
}

/// Counts the events it is asked about and recognises those whose message
/// starts with its prefix.
struct Prefix(&'static str, std::sync::atomic::AtomicUsize);

impl EventParser for Prefix {
    fn name(&self) -> &str {
        self.0
    }

    fn parse(&self, event: &mut Event) -> bool {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !event.message.starts_with(self.0) {
            return false;
        }
        event
            .fields
            .push(("matched".into(), FieldValue::Str(self.0.into())));
        true
    }
}

fn field<'e>(ev: &'e Event, name: &str) -> Option<&'e FieldValue> {
    ev.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[tokio::test]
async fn every_decoded_event_passes_the_input_parse_stage_until_a_parser_recognises_it() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let first = Arc::new(Prefix("alert:", AtomicUsize::new(0)));
    let last = Arc::new(Prefix("never", AtomicUsize::new(0)));
    let stage = || {
        ParseStage::new(vec![
            first.clone() as Arc<dyn EventParser>,
            Arc::new(KeyValues),
            last.clone(),
        ])
    };
    assert_eq!(stage().names(), ["alert:", "kv", "never"]);

    // Syslog over TCP: the syslog decoder, then the stage.
    let mut rig =
        Rig::start_parsed("type = \"syslog\"\ntransport = \"tcp\"\n", Some(stage())).await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    s.write_all(b"<134>Oct 11 22:14:15 fw1 filter: user=alice action=deny\n<134>Oct 11 22:14:16 fw1 filter: alert: port scan\n<134>Oct 11 22:14:17 fw1 filter: plain words\n")
        .await
        .unwrap();
    let events = rig.next_events(3).await;
    assert_eq!(events[0].host.as_deref(), Some("fw1"));
    assert_eq!(
        field(&events[0], "user"),
        Some(&FieldValue::Str("alice".into()))
    );
    assert_eq!(
        field(&events[0], "action"),
        Some(&FieldValue::Str("deny".into()))
    );
    // The first parser recognised it: the later ones never saw it.
    assert_eq!(
        field(&events[1], "matched"),
        Some(&FieldValue::Str("alert:".into()))
    );
    assert_eq!(field(&events[1], "user"), None);
    // Nobody recognised it: kept as decoded.
    assert_eq!(events[2].message, "plain words");
    assert!(events[2].fields.is_empty(), "{:?}", events[2].fields);
    assert_eq!(first.1.load(Ordering::Relaxed), 3);
    assert_eq!(last.1.load(Ordering::Relaxed), 1);
    rig.stop().await;

    // GELF over UDP: GELF's own decoder, then the same kind of stage.
    let mut rig = Rig::start_parsed("type = \"gelf\"\ntransport = \"udp\"\n", Some(stage())).await;
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let doc =
        br#"{"version":"1.1","host":"app1","short_message":"user=bob result=ok","_env":"prod"}"#;
    udp.send_to(doc, rig.addr()).await.unwrap();
    let ev = rig.next_events(1).await.remove(0);
    assert_eq!(ev.host.as_deref(), Some("app1"));
    assert_eq!(field(&ev, "user"), Some(&FieldValue::Str("bob".into())));
    assert_eq!(field(&ev, "result"), Some(&FieldValue::Str("ok".into())));
    assert!(
        field(&ev, "env").is_some(),
        "GELF's own fields stay: {:?}",
        ev.fields
    );
    rig.stop().await;
}

#[tokio::test]
async fn inputs_read_vendor_bodies_run_user_parsers_and_enrich() {
    let city = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hark-parse/testdata/maxmind/GeoIP2-City-Test.mmdb"
    );
    let table = format!(
        r#"type = "syslog"
transport = "tcp"
parsers = ["auto", "shop"]

[parsers.shop]
match = 'app:shop'
grok = '%{{IP:source.ip}} %{{WORD:http.request.method}} %{{URIPATHPARAM:url.original}} %{{NUMBER:http.response.status_code:int}}'

[enrich]
geoip = ["{city}"]

[enrich.networks]
"10.0.0.0/8" = "internal"
"#
    );
    let mut rig = Rig::start(&table).await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    // FortiGate sends its key=value body right after the priority, with no header.
    let lines = [
        "<189>date=2024-05-01 time=10:20:30 devname=\"FGT-1\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" srcip=10.1.2.3 srcport=51234 dstip=192.0.2.8 dstport=3389 proto=6 action=\"deny\" sentbyte=120 rcvdbyte=300 tz=\"+0200\"",
        "<134>Oct 11 22:14:15 web1 shop: 81.2.69.142 GET /cart?id=1 503",
        "<134>Oct 11 22:14:16 web1 shop: not an access line",
        "<38>Oct 11 22:14:17 bastion sshd[811]: Failed password for invalid user admin from 198.51.100.7 port 50022 ssh2",
    ];
    for line in lines {
        s.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    }
    let events = rig.next_events(lines.len()).await;

    let fw = &events[0];
    assert_eq!(
        field(fw, "event.dataset"),
        Some(&"fortinet.firewall".into())
    );
    assert_eq!(field(fw, "source.ip"), Some(&"10.1.2.3".into()));
    assert_eq!(field(fw, "destination.port"), Some(&FieldValue::Int(3389)));
    assert_eq!(field(fw, "source.bytes"), Some(&FieldValue::Int(120)));
    assert_eq!(field(fw, "event.action"), Some(&"deny".into()));
    assert_eq!(field(fw, "source.network.name"), Some(&"internal".into()));
    assert_eq!(field(fw, "destination.network.name"), None);
    // 10:20:30 at +02:00 is 08:20:30 UTC.
    assert_eq!(
        hark_event::format_rfc3339_nanos(fw.timestamp),
        "2024-05-01T08:20:30.000000000Z"
    );
    assert_eq!(fw.parse_error, None);
    // Senders are named only with `reverse_dns = true`.
    assert_eq!(field(fw, hark_ingest::PEER_NAME), None);

    let shop = &events[1];
    assert_eq!(field(shop, "http.request.method"), Some(&"GET".into()));
    assert_eq!(field(shop, "url.original"), Some(&"/cart?id=1".into()));
    assert_eq!(
        field(shop, "http.response.status_code"),
        Some(&FieldValue::Int(503))
    );
    // MaxMind's test database places this address in London.
    assert_eq!(
        field(shop, "source.geo.country_iso_code"),
        Some(&"GB".into())
    );
    assert_eq!(field(shop, "source.geo.city_name"), Some(&"London".into()));
    assert_eq!(field(shop, "source.network.name"), None);
    // The user parser's pattern does not match: the event is kept as it came.
    assert!(events[2].fields.is_empty(), "{:?}", events[2].fields);
    assert_eq!(events[2].message, "not an access line");

    let ssh = &events[3];
    assert_eq!(field(ssh, "event.outcome"), Some(&"failure".into()));
    assert_eq!(field(ssh, "user.name"), Some(&"admin".into()));
    assert_eq!(field(ssh, "source.ip"), Some(&"198.51.100.7".into()));
    assert_eq!(field(ssh, "source.port"), Some(&FieldValue::Int(50022)));
    rig.stop().await;
}

#[tokio::test]
async fn an_input_with_a_forced_format_leaves_other_bodies_alone() {
    let table = "type = \"syslog\"\ntransport = \"tcp\"\nparsers = [\"cef\"]\n";
    let mut rig = Rig::start(table).await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    s.write_all(b"<134>Oct 11 22:14:15 fw1 app: user=alice action=deny\n<134>Oct 11 22:14:16 fw1 app: CEF:0|Acme|Wall|1.0|100|Blocked|5|src=10.0.0.1 dpt=22\n<134>Oct 11 22:14:17 fw1 app: CEF:0|Acme|Wall\n")
        .await
        .unwrap();
    let events = rig.next_events(3).await;
    // Not CEF: kv would have read it under auto, but this input runs cef alone.
    assert!(events[0].fields.is_empty(), "{:?}", events[0].fields);
    assert_eq!(
        field(&events[1], "destination.port"),
        Some(&FieldValue::Int(22))
    );
    assert_eq!(field(&events[1], "observer.vendor"), Some(&"Acme".into()));
    // A CEF header cut short: the message is kept and the reason names the parser.
    assert_eq!(events[2].message, "CEF:0|Acme|Wall");
    let reason = events[2].parse_error.as_deref().unwrap_or_default();
    assert!(reason.starts_with("cef: "), "{reason}");
    rig.stop().await;
}

#[tokio::test]
async fn senders_are_named_by_reverse_dns_once_known() {
    let dns = hark_testkit::peers::dnsmasq(&["--local=/127.in-addr.arpa/"]);
    let table = format!(
        "type = \"syslog\"\ntransport = \"tcp\"\n\n[enrich]\nreverse_dns = true\ndns_servers = [\"127.0.0.1:{}\"]\n",
        dns.port()
    );
    let mut rig = Rig::start(&table).await;
    let mut s = TcpStream::connect(rig.addr()).await.unwrap();
    // The first events may go without the name while it is looked up.
    let mut named = None;
    for i in 0..100 {
        let line = format!("<134>Oct 11 22:14:15 web1 app: line {i}\n");
        s.write_all(line.as_bytes()).await.unwrap();
        let ev = rig.next_events(1).await.remove(0);
        if let Some(name) = field(&ev, hark_ingest::PEER_NAME) {
            named = Some(name.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Loopback is named by the hosts file, or `localhost` (RFC 6761), before
    // any server is asked; names from a DNS server are tested with the
    // resolver itself.
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut loopback: Vec<String> = hosts
        .lines()
        .filter_map(|l| l.split('#').next())
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.first() == Some(&"127.0.0.1"))
        .flat_map(|w| w[1..].iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
        .collect();
    loopback.push("localhost".into());
    let Some(FieldValue::Str(name)) = named else {
        panic!("the sender was never named: {named:?}");
    };
    assert!(loopback.contains(&name), "{name} is not in {loopback:?}");
    rig.stop().await;
}
