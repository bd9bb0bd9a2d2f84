//! Metrics checks against Debian's prometheus-node-exporter started by the
//! test on a free port of 127.0.0.1.

mod common;

use common::{expect, perf, run};
use hark_monitor::Status;
use hark_monitor::checks::CheckContext;
use hark_testkit::free_tcp_port;
use hark_testkit::peers::node_exporter;

fn metric(port: u16, extra: &str) -> String {
    format!(
        "type = \"metrics\"\nurl = \"http://127.0.0.1:{port}/metrics\"\nmetric = \"node_exporter_build_info\"\nlabels = {{ goos = \"linux\" }}\n{extra}"
    )
}

#[tokio::test]
async fn thresholds_on_a_sample() {
    let ctx = CheckContext::new().expect("context");
    let exp = node_exporter();
    let p = exp.port();

    // node_exporter_build_info is always 1.
    let o = run(&ctx, &metric(p, "warn = 2\ncrit = 5")).await;
    expect(
        &o,
        Status::Ok,
        &["node_exporter_build_info{goos=\"linux\"} = 1"],
    );
    assert_eq!(perf(&o, "node_exporter_build_info"), 1.0);
    assert!(perf(&o, "time") > 0.0);
    let o = run(&ctx, &metric(p, "warn = 0.5\ncrit = 5")).await;
    expect(&o, Status::Warn, &["= 1 (warn at ~:0.5)"]);
    let o = run(&ctx, &metric(p, "warn = 0.5\ncrit = \"@1:1\"")).await;
    expect(&o, Status::Crit, &["= 1 (crit at @1:1)"]);
    assert_eq!(
        o.perf
            .iter()
            .find(|p| p.label == "node_exporter_build_info")
            .and_then(|p| p.crit.as_deref()),
        Some("@1:1")
    );

    let o = run(
        &ctx,
        &format!(
            "type = \"metrics\"\nurl = \"http://127.0.0.1:{p}/metrics\"\nmetric = \"node_load1\"\ncrit = \"0:\""
        ),
    )
    .await;
    expect(&o, Status::Ok, &["node_load1 = "]);
}

#[tokio::test]
async fn missing_ambiguous_and_unreachable() {
    let ctx = CheckContext::new().expect("context");
    let exp = node_exporter();
    let p = exp.port();

    let o = run(
        &ctx,
        &format!(
            "type = \"metrics\"\nurl = \"http://127.0.0.1:{p}/metrics\"\nmetric = \"node_exporter_build_info\"\nlabels = {{ goos = \"plan9\" }}"
        ),
    )
    .await;
    expect(
        &o,
        Status::Unknown,
        &[
            "node_exporter_build_info{goos=\"plan9\"} not found at",
            "1 sample has that name with other labels, like node_exporter_build_info{",
        ],
    );
    let o = run(
        &ctx,
        &format!("type = \"metrics\"\nurl = \"http://127.0.0.1:{p}/metrics\"\nmetric = \"hark_no_such_metric\""),
    )
    .await;
    expect(&o, Status::Unknown, &["hark_no_such_metric not found at"]);

    // One sample per collector: the first is used, and the output says so.
    let o = run(
        &ctx,
        &format!(
            "type = \"metrics\"\nurl = \"http://127.0.0.1:{p}/metrics\"\nmetric = \"node_scrape_collector_success\"\nwarn = \"1:\""
        ),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &["samples matched, the first is used; add labels to pick one"],
    );

    let closed = free_tcp_port();
    let o = run(
        &ctx,
        &format!("type = \"metrics\"\nurl = \"http://127.0.0.1:{closed}/metrics\"\nmetric = \"x\""),
    )
    .await;
    expect(&o, Status::Crit, &["refused"]);
}
