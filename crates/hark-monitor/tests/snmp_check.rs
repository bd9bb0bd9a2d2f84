//! SNMP checks against net-snmp's snmpd started by the test on a free UDP
//! port of 127.0.0.1 with its own configuration (no /etc files, persistent
//! state in a temporary directory).

mod common;

use common::{expect, perf, run};
use hark_monitor::Status;
use hark_monitor::checks::{CheckContext, run_check};
use hark_testkit::free_udp_port;
use hark_testkit::peers::{self, Daemon};

/// The agent every test polls: community `hark-test`, known name and location.
fn snmpd() -> Daemon {
    peers::snmpd("hark-test", "sysName hark-snmp-test\nsysLocation rack 7")
}

fn snmp(port: u16, version: &str, community: &str, oids: &str) -> String {
    format!(
        "type = \"snmp\"\nhost = \"127.0.0.1\"\nport = {port}\nversion = \"{version}\"\ncommunity = \"{community}\"\ntimeout = \"3s\"\noids = [{oids}]"
    )
}

const UPTIME: &str = "{ oid = \"1.3.6.1.2.1.1.3.0\", label = \"sysUpTime\" }";
const NAME_EXPECT: &str =
    "{ oid = \"1.3.6.1.2.1.1.5.0\", label = \"sysName\", expect = \"hark-snmp\" }";

#[tokio::test]
async fn values_and_expectations() {
    let ctx = CheckContext::new().expect("context");
    let agent = snmpd();
    let p = agent.port();
    for version in ["2c", "1"] {
        let o = run(
            &ctx,
            &snmp(p, version, "hark-test", &format!("{UPTIME}, {NAME_EXPECT}")),
        )
        .await;
        expect(
            &o,
            Status::Ok,
            &["sysUpTime=", "sysName=\"hark-snmp-test\""],
        );
        assert!(perf(&o, "sysUpTime") >= 0.0);
        assert!(o.perf.iter().all(|p| p.label != "sysName"), "{:?}", o.perf);
    }

    let o = run(
        &ctx,
        &snmp(
            p,
            "2c",
            "hark-test",
            "{ oid = \"1.3.6.1.2.1.1.6.0\", expect = \"rack 9\" }",
        ),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &["1.3.6.1.2.1.1.6.0 is \"rack 7\", expected to contain \"rack 9\""],
    );

    // Thresholds on a number: the uptime in hundredths, scaled to seconds.
    let o = run(
        &ctx,
        &snmp(
            p,
            "2c",
            "hark-test",
            "{ oid = \"1.3.6.1.2.1.1.3.0\", label = \"uptime\", scale = 0.01, warn = \"1000000:\", crit = \"@0:0\" }",
        ),
    )
    .await;
    expect(&o, Status::Warn, &["uptime=", "(warn at 1000000:)"]);
    assert_eq!(o.output.matches("uptime=").count(), 1, "{}", o.output);
    let o = run(
        &ctx,
        &snmp(
            p,
            "2c",
            "hark-test",
            "{ oid = \"1.3.6.1.2.1.1.3.0\", label = \"uptime\", crit = \"0:\" }",
        ),
    )
    .await;
    expect(&o, Status::Ok, &["uptime="]);
    assert_eq!(o.perf[0].crit.as_deref(), Some("0:"));
}

#[tokio::test]
async fn counter_rates_over_two_polls() {
    let ctx = CheckContext::new().expect("context");
    let agent = snmpd();
    // snmpInPkts (Counter32) counts the agent's requests, so it grows
    // between two polls; ifInOctets (Counter32) and ifHCInOctets (Counter64)
    // of interface 1, the loopback, which snmpd caches for a few seconds.
    let m = common::monitor(&snmp(
        agent.port(),
        "2c",
        "hark-test",
        "{ oid = \"1.3.6.1.2.1.11.1.0\", label = \"snmpInPkts\", rate = true },
         { oid = \"1.3.6.1.2.1.2.2.1.10.1\", label = \"ifInOctets\", rate = true, scale = 8 },
         { oid = \"1.3.6.1.2.1.31.1.1.1.6.1\", label = \"ifHCInOctets\", rate = true }",
    ));
    let first = run_check("lo-traffic", &m, &ctx).await;
    expect(
        &first,
        Status::Ok,
        &[
            "snmpInPkts: waiting for a second sample",
            "ifInOctets: waiting for a second sample",
            "ifHCInOctets: waiting for a second sample",
        ],
    );
    assert!(first.perf.iter().all(|p| p.label != "snmpInPkts"));
    let second = run_check("lo-traffic", &m, &ctx).await;
    expect(
        &second,
        Status::Ok,
        &[
            "snmpInPkts rate=",
            "/s",
            "ifInOctets rate=",
            "ifHCInOctets rate=",
        ],
    );
    assert!(perf(&second, "snmpInPkts") > 0.0, "{:?}", second.perf);
    assert!(perf(&second, "ifInOctets") >= 0.0, "{:?}", second.perf);
    assert!(perf(&second, "ifHCInOctets") >= 0.0, "{:?}", second.perf);

    // Forgetting the monitor starts the rates over.
    ctx.forget_monitor("lo-traffic");
    let again = run_check("lo-traffic", &m, &ctx).await;
    expect(
        &again,
        Status::Ok,
        &["ifInOctets: waiting for a second sample"],
    );
}

#[tokio::test]
async fn missing_objects_and_silence() {
    let ctx = CheckContext::new().expect("context");
    let agent = snmpd();
    let p = agent.port();
    let missing = "{ oid = \"1.3.6.1.2.1.1.99.0\", label = \"nothing\" }";
    let o = run(
        &ctx,
        &snmp(p, "2c", "hark-test", &format!("{UPTIME}, {missing}")),
    )
    .await;
    expect(
        &o,
        Status::Unknown,
        &["nothing (1.3.6.1.2.1.1.99.0): no such object", "sysUpTime="],
    );
    let o = run(
        &ctx,
        &snmp(p, "1", "hark-test", &format!("{UPTIME}, {missing}")),
    )
    .await;
    expect(
        &o,
        Status::Unknown,
        &["nothing (1.3.6.1.2.1.1.99.0): no such name on agent 127.0.0.1:"],
    );

    // A wrong community gets no answer at all.
    let o = run(&ctx, &snmp(p, "2c", "wrong", UPTIME)).await;
    expect(
        &o,
        Status::Crit,
        &[
            "timed out after 3s while waiting for the SNMP agent's response (wrong address, port, community or version?)",
        ],
    );
    let closed = free_udp_port();
    let o = run(&ctx, &snmp(closed, "2c", "hark-test", UPTIME)).await;
    expect(&o, Status::Crit, &["refused the request (port closed)"]);
}
