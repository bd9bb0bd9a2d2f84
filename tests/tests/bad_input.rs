//! What hostile or broken senders do to the syslog inputs, and that the
//! server keeps serving everyone else through it.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hark_e2e::wire::{
    XorShift, closed_by_peer, lf_frame, octet_frame, rfc5424, tcp_send, udp_send,
};
use hark_e2e::{Hark, Transport, marker, str_of};
use hark_testkit::peers::run_logger;
use hark_testkit::poll;

const WAIT: Duration = Duration::from_secs(60);

/// The server answers /healthz and stores a fresh `logger` message per input.
fn assert_healthy(hark: &Hark) {
    assert!(hark.healthz(), "GET /healthz\n{}", hark.output());
    let tcp = marker("healthtcp");
    let port = hark.port("tcp").to_string();
    run_logger(&[
        "--tcp",
        "-n",
        "127.0.0.1",
        "-P",
        &port,
        &format!("{tcp} still fine"),
    ]);
    hark.wait_hit(&tcp, WAIT);
    let udp = marker("healthudp");
    let port = hark.port("udp").to_string();
    run_logger(&[
        "-d",
        "-n",
        "127.0.0.1",
        "-P",
        &port,
        &format!("{udp} still fine"),
    ]);
    hark.wait_hit(&udp, WAIT);
}

#[test]
fn random_bytes() {
    let hark = Hark::start("");
    let mut rng = XorShift::new(0x5eed);
    // One long connection, and many short ones.
    tcp_send(hark.addr("tcp"), &rng.bytes(256 * 1024));
    for _ in 0..50 {
        let n = (rng.next_u64() % 2048) as usize + 1;
        tcp_send(hark.addr("tcp"), &rng.bytes(n));
    }
    for _ in 0..200 {
        let n = (rng.next_u64() % 1400) as usize + 1;
        udp_send(hark.addr("udp"), &rng.bytes(n));
    }
    assert_healthy(&hark);
}

#[test]
fn oversize_frames_are_truncated() {
    let limit = "max_message_size = 1024";
    let hark = Hark::builder()
        .input_with("udp", Transport::Udp, limit)
        .input_with("tcp", Transport::Tcp, limit)
        .start();
    let pad = "x".repeat(5000);
    let (lf_big, lf_next) = (marker("biglf"), marker("nextlf"));
    let (oc_big, oc_next) = (marker("bigoc"), marker("nextoc"));
    let udp_big = marker("bigudp");

    let mut bytes = lf_frame(rfc5424(&format!("{lf_big} {pad}")).as_bytes());
    bytes.extend(lf_frame(rfc5424(&format!("{lf_next} after")).as_bytes()));
    tcp_send(hark.addr("tcp"), &bytes);
    let mut bytes = octet_frame(rfc5424(&format!("{oc_big} {pad}")).as_bytes());
    bytes.extend(octet_frame(rfc5424(&format!("{oc_next} after")).as_bytes()));
    tcp_send(hark.addr("tcp"), &bytes);
    udp_send(
        hark.addr("udp"),
        rfc5424(&format!("{udp_big} {pad}")).as_bytes(),
    );

    for m in [&lf_big, &oc_big, &udp_big] {
        assert_eq!(
            hark.wait_total(m, 1, WAIT),
            1,
            "one event for {m}\n{}",
            hark.output()
        );
        let ev = hark.hits(m, 1).remove(0);
        assert_eq!(ev["truncated"], true, "truncated flag in {ev}");
        let msg = str_of(&ev, "message").unwrap_or_default();
        assert!(msg.starts_with(m.as_str()), "message start {msg:.60}");
        assert!(msg.len() <= 1024, "message of {} bytes kept", msg.len());
        if let Some(raw) = str_of(&ev, "raw") {
            assert!(raw.len() <= 1024, "raw of {} bytes kept", raw.len());
        }
    }
    // The framing resynchronises: the frame after the oversize one is whole.
    for m in [&lf_next, &oc_next] {
        let ev = hark.wait_hit(m, WAIT);
        assert_eq!(str_of(&ev, "message"), Some(format!("{m} after").as_str()));
        assert_eq!(ev["truncated"], false, "truncated flag in {ev}");
    }
    assert_healthy(&hark);
}

#[test]
fn wrong_octet_counts_close_the_connection() {
    let hark = Hark::start("");
    let before = hark.metric("hark_malformed_frames_total{input=\"tcp\"}");
    let lost = marker("lostframe");
    let frames: [&[u8]; 2] = [
        // A length no frame can have.
        b"99999999999999999999 <13>1 - - - - - - too long\n",
        // Digits that do not end in a space.
        b"12x <13>1 - - - - - - bad count\n",
    ];
    for frame in frames {
        let mut s = TcpStream::connect(hark.addr("tcp")).expect("connect");
        s.write_all(frame).expect("write");
        let _ = s.write_all(&octet_frame(rfc5424(&format!("{lost} after")).as_bytes()));
        assert!(
            closed_by_peer(&mut s, Duration::from_secs(30)),
            "the server kept the connection open after {:?}",
            String::from_utf8_lossy(frame)
        );
    }
    let counted = poll(WAIT, Duration::from_millis(200), || {
        let n = hark.metric("hark_malformed_frames_total{input=\"tcp\"}");
        (n >= before + 2.0).then_some(n)
    });
    assert!(
        counted.is_some(),
        "hark_malformed_frames_total{{input=\"tcp\"}} went from {before} to {}",
        hark.metric("hark_malformed_frames_total{input=\"tcp\"}")
    );
    assert_healthy(&hark);
}

#[test]
fn half_open_and_slow_senders_do_not_block_others() {
    let hark = Hark::start("");
    let addr = hark.addr("tcp");

    // Connections that start a frame and then say nothing more.
    let half_open: Vec<TcpStream> = (0..20)
        .map(|i| {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(format!("<13>1 - - - - - - half open {i}").as_bytes())
                .expect("write");
            s
        })
        .collect();

    // A sender writing one byte every 100 ms until told to finish.
    let slow = marker("slow");
    let slow_msg = format!("{slow} {}", "s".repeat(3000));
    let frame = lf_frame(rfc5424(&slow_msg).as_bytes());
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let slow_thread = std::thread::spawn(move || -> std::io::Result<usize> {
        let mut s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        let mut sent = 0;
        while sent < frame.len() - 1 && !stop2.load(Ordering::Relaxed) {
            s.write_all(&frame[sent..sent + 1])?;
            sent += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        s.write_all(&frame[sent..])?;
        s.flush()?;
        let _ = s.shutdown(std::net::Shutdown::Write);
        let _ = closed_by_peer(&mut s, Duration::from_secs(10));
        Ok(sent)
    });

    // Everyone else gets through meanwhile.
    std::thread::sleep(Duration::from_millis(500));
    assert_healthy(&hark);
    let fast = marker("fast");
    tcp_send(
        addr,
        &octet_frame(rfc5424(&format!("{fast} quick")).as_bytes()),
    );
    hark.wait_hit(&fast, WAIT);
    assert!(
        !slow_thread.is_finished(),
        "the slow sender ended early (the server closed it?)"
    );

    stop.store(true, Ordering::Relaxed);
    let sent_slowly = slow_thread
        .join()
        .expect("slow sender thread")
        .expect("slow sender I/O");
    assert!(sent_slowly > 0);
    let ev = hark.wait_hit(&slow, WAIT);
    assert_eq!(
        str_of(&ev, "message"),
        Some(slow_msg.as_str()),
        "the slow message, whole"
    );
    drop(half_open);
    assert_healthy(&hark);
}

#[test]
fn invalid_utf8_is_kept_lossily() {
    let hark = Hark::start("");
    let m5424 = marker("badutf");
    let mut msg = format!("<13>1 2026-01-02T03:04:05Z e2e wire - - - {m5424} bad ").into_bytes();
    msg.extend_from_slice(b"\xff\xfe\xc3 end");
    tcp_send(hark.addr("tcp"), &lf_frame(&msg));

    let m3164 = marker("latin");
    let mut msg = format!("<13>Jan  2 03:04:05 e2e wire: {m3164} caf").into_bytes();
    msg.extend_from_slice(b"\xe9 au lait");
    udp_send(hark.addr("udp"), &msg);

    for (m, tail) in [(&m5424, " end"), (&m3164, " au lait")] {
        let ev = hark.wait_hit(m, WAIT);
        let message = str_of(&ev, "message").unwrap_or_default();
        assert!(message.starts_with(m.as_str()), "message {message:?}");
        assert!(
            message.contains('\u{fffd}'),
            "no replacement character in {message:?}"
        );
        assert!(message.ends_with(tail), "message {message:?}");
        let raw = str_of(&ev, "raw").unwrap_or_else(|| panic!("raw not kept in {ev}"));
        assert!(
            raw.contains(m.as_str()) && raw.contains('\u{fffd}'),
            "raw {raw:?}"
        );
        assert_eq!(str_of(&ev, "host"), Some("e2e"), "host in {ev}");
        assert_eq!(str_of(&ev, "app"), Some("wire"), "app in {ev}");
    }
    assert_healthy(&hark);
}

#[test]
fn connections_above_the_limit_are_refused_and_counted() {
    let hark = Hark::builder()
        .input("udp", Transport::Udp)
        .input_with("tcp", Transport::Tcp, "max_connections = 10")
        .start();
    let addr = hark.addr("tcp");

    // Ten connections in use: each has delivered a message.
    let held_marker = marker("held");
    let mut held: Vec<TcpStream> = (0..10)
        .map(|i| {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(&octet_frame(
                rfc5424(&format!("{held_marker} first {i}")).as_bytes(),
            ))
            .expect("write");
            s
        })
        .collect();
    assert_eq!(
        hark.wait_total(&held_marker, 10, WAIT),
        10,
        "{}",
        hark.output()
    );

    // Forty more are turned away.
    let extra_marker = marker("extra");
    let mut refused = 0;
    for i in 0..40 {
        let mut s = TcpStream::connect(addr).expect("connect (the kernel accepts)");
        let _ = s.write_all(&octet_frame(
            rfc5424(&format!("{extra_marker} {i}")).as_bytes(),
        ));
        if closed_by_peer(&mut s, Duration::from_secs(10)) {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 40,
        "connections beyond max_connections closed by the server"
    );
    let counted = hark.metric_sum(
        "hark_events_dropped_total",
        &[("input", "tcp"), ("reason", "connection_limit")],
    );
    assert!(counted >= 40.0, "refused connections counted: {counted}");
    assert_eq!(
        hark.total(&extra_marker),
        0,
        "messages from refused connections"
    );

    // The ten still work.
    for (i, s) in held.iter_mut().enumerate() {
        s.write_all(&octet_frame(
            rfc5424(&format!("{held_marker} second {i}")).as_bytes(),
        ))
        .expect("write on a held connection");
    }
    assert_eq!(hark.wait_total(&held_marker, 20, WAIT), 20);

    // Once they close, new senders get in again.
    drop(held);
    let freed = poll(WAIT, Duration::from_millis(200), || {
        (hark.metric("hark_connections_active{input=\"tcp\"}") == 0.0).then_some(())
    });
    assert!(
        freed.is_some(),
        "connections still counted active after closing"
    );
    assert_healthy(&hark);
}
