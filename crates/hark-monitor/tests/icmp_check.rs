//! ICMP checks: the loopback addresses, and hosts in network namespaces
//! made by the test (a veth pair each): one that answers, one whose link is
//! down. Needs root (as the test command runs) for namespaces and raw ICMP
//! sockets.

mod common;

use common::{expect, perf, run};
use hark_monitor::Status;
use hark_monitor::checks::CheckContext;
use hark_testkit::netns::Netns;

#[tokio::test]
async fn loopback_answers() {
    let ctx = CheckContext::new().expect("context");
    assert_eq!(
        ctx.icmp_problem(),
        None,
        "ICMP sockets need root or CAP_NET_RAW"
    );
    let o = run(
        &ctx,
        "type = \"icmp\"\nhost = \"127.0.0.1\"\npacket_interval = \"50ms\"",
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &["PING 127.0.0.1: 0% packet loss (3 of 3 replies), rtt avg"],
    );
    assert_eq!(perf(&o, "pl"), 0.0);
    assert!(perf(&o, "rta") > 0.0);
    assert!(perf(&o, "rtmin") <= perf(&o, "rtmax"));

    let o = run(
        &ctx,
        "type = \"icmp\"\nhost = \"localhost\"\npackets = 2\npacket_interval = \"50ms\"",
    )
    .await;
    expect(&o, Status::Ok, &["PING localhost (", "2 of 2 replies"]);

    if std::net::UdpSocket::bind("[::1]:0").is_ok() {
        let o = run(
            &ctx,
            "type = \"icmp\"\nhost = \"::1\"\npackets = 2\npacket_interval = \"50ms\"",
        )
        .await;
        expect(&o, Status::Ok, &["PING ::1: 0% packet loss"]);
    }
}

#[tokio::test]
async fn namespaces_answer_or_lose_everything() {
    let ctx = CheckContext::new().expect("context");
    let up = Netns::new(0);
    let down = Netns::new(1);
    down.link_down();

    let o = run(
        &ctx,
        &format!(
            "type = \"icmp\"\nhost = \"{}\"\npackets = 4\npacket_interval = \"50ms\"",
            up.peer
        ),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &[&format!(
            "PING {}: 0% packet loss (4 of 4 replies)",
            up.peer
        )],
    );

    let o = run(
        &ctx,
        &format!(
            "type = \"icmp\"\nhost = \"{}\"\npackets = 3\npacket_interval = \"50ms\"\ntimeout = \"2s\"",
            down.peer
        ),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &[&format!(
            "PING {}: 100% packet loss (0 of 3 replies)",
            down.peer
        )],
    );
    assert_eq!(perf(&o, "pl"), 100.0);
    assert!(o.perf.iter().all(|p| p.label != "rta"));
    // Loss is reported by the check itself, not as a timeout.
    assert!(
        o.duration < std::time::Duration::from_secs(2),
        "{:?}",
        o.duration
    );
}

#[tokio::test]
async fn unresolvable_host_is_critical() {
    let ctx = CheckContext::new().expect("context");
    let o = run(&ctx, "type = \"icmp\"\nhost = \"no-such-host.invalid\"").await;
    expect(&o, Status::Crit, &["cannot resolve no-such-host.invalid"]);
}
