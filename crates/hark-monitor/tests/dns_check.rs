//! DNS checks against a dnsmasq started by the test on 127.0.0.1 and a free
//! port, with its own records and none of the system's configuration.

mod common;

use common::{expect, perf, run};
use hark_monitor::Status;
use hark_monitor::checks::CheckContext;
use hark_testkit::free_udp_port;
use hark_testkit::peers::{self, Daemon};

/// dnsmasq serving hark.test (unknown names there are NXDOMAIN).
fn dnsmasq() -> Daemon {
    peers::dnsmasq(&[
        "--local=/hark.test/",
        "--address=/www.hark.test/192.0.2.10",
        "--address=/www.hark.test/2001:db8::10",
        "--cname=alias.hark.test,www.hark.test",
        "--mx-host=hark.test,mail.hark.test,10",
        "--txt-record=hark.test,v=spf1 -all",
    ])
}

fn query(port: u16, name: &str, rtype: &str, extra: &str) -> String {
    format!(
        "type = \"dns\"\nname = \"{name}\"\nrecord_type = \"{rtype}\"\nserver = \"127.0.0.1:{port}\"\ntimeout = \"3s\"\n{extra}"
    )
}

#[tokio::test]
async fn answers_match_expectations() {
    let ctx = CheckContext::new().expect("context");
    let dns = dnsmasq();
    let p = dns.port();

    let o = run(
        &ctx,
        &query(p, "www.hark.test", "A", "expect_answers = [\"192.0.2.10\"]"),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &[&format!(
            "DNS A www.hark.test: NOERROR, answers 192.0.2.10 from 127.0.0.1:{p} in"
        )],
    );
    assert!(perf(&o, "time") > 0.0);

    let o = run(
        &ctx,
        &query(p, "www.hark.test", "A", "expect_answers = [\"192.0.2.99\"]"),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &[
            "DNS A www.hark.test: 192.0.2.99 is not among the answers",
            "answers 192.0.2.10",
        ],
    );

    let o = run(
        &ctx,
        &query(
            p,
            "www.hark.test",
            "AAAA",
            "expect_answers = [\"2001:0db8:0:0:0:0:0:10\"]",
        ),
    )
    .await;
    expect(&o, Status::Ok, &["answers 2001:db8::10"]);

    let o = run(
        &ctx,
        &query(
            p,
            "www.hark.test",
            "A",
            "expect_regex = '^192\\.0\\.2\\.\\d+$'",
        ),
    )
    .await;
    expect(&o, Status::Ok, &[]);
    let o = run(
        &ctx,
        &query(p, "www.hark.test", "A", "expect_regex = '^10\\.'"),
    )
    .await;
    expect(&o, Status::Crit, &["no answer matches /^10\\./"]);

    let o = run(
        &ctx,
        &query(
            p,
            "alias.hark.test",
            "CNAME",
            "expect_answers = [\"www.hark.test.\"]",
        ),
    )
    .await;
    expect(&o, Status::Ok, &["answers www.hark.test"]);
    let o = run(
        &ctx,
        &query(
            p,
            "hark.test",
            "MX",
            "expect_answers = [\"10 mail.hark.test\"]",
        ),
    )
    .await;
    expect(&o, Status::Ok, &["answers 10 mail.hark.test"]);
    let o = run(
        &ctx,
        &query(p, "hark.test", "TXT", "expect_answers = [\"v=spf1 -all\"]"),
    )
    .await;
    expect(&o, Status::Ok, &["answers v=spf1 -all"]);
}

#[tokio::test]
async fn response_codes() {
    let ctx = CheckContext::new().expect("context");
    let dns = dnsmasq();
    let p = dns.port();

    let o = run(
        &ctx,
        &query(p, "missing.hark.test", "A", "expect_rcode = \"NXDOMAIN\""),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &["DNS A missing.hark.test: NXDOMAIN, no answers"],
    );
    let o = run(&ctx, &query(p, "missing.hark.test", "A", "")).await;
    expect(
        &o,
        Status::Crit,
        &["DNS A missing.hark.test: NXDOMAIN, expected NOERROR"],
    );
    let o = run(
        &ctx,
        &query(p, "www.hark.test", "A", "expect_rcode = \"NXDOMAIN\""),
    )
    .await;
    expect(&o, Status::Crit, &["NOERROR, expected NXDOMAIN"]);
    // The name exists, the type does not: NODATA.
    let o = run(&ctx, &query(p, "hark.test", "A", "")).await;
    expect(
        &o,
        Status::Crit,
        &["DNS A hark.test: no A records (NODATA)"],
    );
}

#[tokio::test]
async fn unreachable_server() {
    let ctx = CheckContext::new().expect("context");
    let closed = free_udp_port();
    let o = run(&ctx, &query(closed, "www.hark.test", "A", "")).await;
    expect(
        &o,
        Status::Crit,
        &[&format!("DNS server 127.0.0.1:{closed} refused the query")],
    );
}
