//! The preflight against real sockets on loopback.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use hark_matrix::{
    Endpoint, Flow, PortSpec, Security, Transport, check, check_table, check_with_timeout,
};
use hark_testkit::ports::{free_tcp_addr, free_udp_addr};

fn listener(addr: SocketAddr, transport: Transport) -> Flow {
    Flow::listener(
        addr,
        transport,
        "syslog",
        Security::Plain,
        "inputs.t",
        "test",
    )
}

fn client(addr: SocketAddr, transport: Transport, protocol: &str) -> Flow {
    Flow::client(
        Endpoint::Ip(addr.ip()),
        PortSpec::Single(addr.port()),
        transport,
        protocol,
        Security::Plain,
        "clients.t",
        "test",
    )
}

fn this_process() -> String {
    format!("pid {} (", std::process::id())
}

#[tokio::test]
async fn a_tcp_port_we_hold_fails_and_names_this_process() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let r = check(&[listener(addr, Transport::Tcp)]).await;
    assert!(!r[0].ok, "{r:?}");
    assert!(r[0].reason.contains("in use by"), "{}", r[0].reason);
    assert!(r[0].reason.contains(&this_process()), "{}", r[0].reason);
    assert!(r[0].reason.contains("unprivileged port"), "{}", r[0].reason);
    // A wildcard listener on that port clashes with it as well.
    let wildcard = SocketAddr::from(([0, 0, 0, 0], addr.port()));
    let r = check(&[listener(wildcard, Transport::Tcp)]).await;
    assert!(r[0].reason.contains(&this_process()), "{}", r[0].reason);
}

#[tokio::test]
async fn a_udp_port_we_hold_fails_and_names_this_process() {
    let held = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let r = check(&[listener(addr, Transport::Udp)]).await;
    assert!(!r[0].ok, "{r:?}");
    assert!(r[0].reason.contains(&this_process()), "{}", r[0].reason);
    // TCP on the same number is a different port.
    let r = check(&[listener(addr, Transport::Tcp)]).await;
    assert!(r[0].ok, "{r:?}");
}

#[tokio::test]
async fn a_free_port_is_ok() {
    let addr = free_tcp_addr();
    let r = check(&[listener(addr, Transport::Tcp)]).await;
    assert!(r[0].ok, "{r:?}");
    assert!(r[0].reason.contains("can be bound"), "{}", r[0].reason);
}

#[tokio::test]
async fn a_foreign_address_cannot_be_bound() {
    let addr: SocketAddr = "192.0.2.77:10514".parse().unwrap();
    let r = check(&[listener(addr, Transport::Udp)]).await;
    assert!(!r[0].ok, "{r:?}");
    assert!(
        r[0].reason.contains("not configured on this host"),
        "{}",
        r[0].reason
    );
}

#[tokio::test]
async fn privileged_ports_say_what_they_need() {
    // Whether we may bind it depends on who runs the test; the note must be there.
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let r = check(&[listener(addr, Transport::Tcp)]).await;
    assert!(
        r[0].reason.contains("needs root or CAP_NET_BIND_SERVICE"),
        "{}",
        r[0].reason
    );
}

#[tokio::test]
async fn connecting_to_a_closed_port_is_refused() {
    let addr = free_tcp_addr();
    let r = check(&[client(addr, Transport::Tcp, "smtp")]).await;
    assert!(!r[0].ok, "{r:?}");
    assert!(
        r[0].reason.contains("connection refused"),
        "{}",
        r[0].reason
    );
}

#[tokio::test]
async fn connecting_to_an_open_port_is_ok() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = open.local_addr().unwrap();
    let r = check(&[client(addr, Transport::Tcp, "smtp")]).await;
    assert!(r[0].ok, "{r:?}");
    assert!(r[0].reason.contains("connected to"), "{}", r[0].reason);
}

#[tokio::test]
async fn host_names_are_resolved_first() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = open.local_addr().unwrap().port();
    let flow = Flow::client(
        Endpoint::Host("localhost".into()),
        PortSpec::Single(port),
        Transport::Tcp,
        "smtp",
        Security::Plain,
        "c",
        "p",
    );
    let r = check(std::slice::from_ref(&flow)).await;
    assert!(
        r[0].reason.contains("localhost resolves to"),
        "{}",
        r[0].reason
    );
    let bad = Flow {
        destination: Endpoint::Host("no-such-host.invalid".into()),
        ..flow
    };
    let r = check(&[bad]).await;
    assert!(!r[0].ok, "{r:?}");
    assert!(
        r[0].reason.contains("cannot resolve no-such-host.invalid"),
        "{}",
        r[0].reason
    );
}

/// A resolver stand-in answering every query with `rcode`.
fn fake_dns(rcode: u8) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buf) {
            let mut answer = buf[..n].to_vec();
            answer[2] |= 0x80;
            answer[3] = 0x80 | rcode;
            let _ = socket.send_to(&answer, peer);
        }
    });
    addr
}

#[tokio::test]
async fn dns_servers_must_answer_a_query() {
    let r = check(&[client(fake_dns(0), Transport::Udp, "dns")]).await;
    assert!(r[0].ok, "{r:?}");
    assert!(r[0].reason.contains("NOERROR"), "{}", r[0].reason);

    let r = check(&[client(fake_dns(5), Transport::Udp, "dns")]).await;
    assert!(!r[0].ok, "{r:?}");
    assert!(r[0].reason.contains("REFUSED"), "{}", r[0].reason);

    // Nothing on the port: loopback reports it unreachable at once.
    let closed = free_udp_addr();
    let r = check(&[client(closed, Transport::Udp, "dns")]).await;
    assert!(!r[0].ok, "{r:?}");
    assert!(
        r[0].reason.contains("connection refused"),
        "{}",
        r[0].reason
    );
}

#[tokio::test]
async fn a_silent_dns_server_times_out() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let r = check_with_timeout(
        &[client(addr, Transport::Udp, "dns")],
        Duration::from_millis(200),
    )
    .await;
    assert!(!r[0].ok, "{r:?}");
    assert!(r[0].reason.contains("no answer within"), "{}", r[0].reason);
}

#[tokio::test]
async fn results_keep_order_and_the_table_says_ok_or_fail() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let flows = [
        listener(held.local_addr().unwrap(), Transport::Tcp),
        listener(free_tcp_addr(), Transport::Tcp),
        client(free_tcp_addr(), Transport::Tcp, "smtp"),
    ];
    let r = check(&flows).await;
    assert_eq!(
        r.iter().map(|r| r.ok).collect::<Vec<_>>(),
        [false, true, false]
    );
    for (result, flow) in r.iter().zip(&flows) {
        assert_eq!(&result.flow, flow);
    }
    let table = check_table(&r);
    let firsts: Vec<&str> = table
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(firsts, ["RESULT", "FAIL", "OK", "FAIL"], "{table}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json[0]["ok"], false);
    assert_eq!(json[0]["direction"], "local");
    assert!(json[0]["reason"].as_str().unwrap().contains("in use"));
}
