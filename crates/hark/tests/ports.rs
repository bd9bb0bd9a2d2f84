//! `hark ports`: output formats and the exit code of `--check`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

use hark_testkit::free_tcp_port;

fn hark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hark"))
        .args(args)
        .env_remove("HARK_CONFIG")
        .output()
        .expect("hark runs")
}

/// A config whose TCP input and API listen on the given loopback ports.
fn config(name: &str, input_port: u16, http_port: u16) -> PathBuf {
    let path = std::env::temp_dir().join(format!("hark-ports-{}-{name}.toml", std::process::id()));
    std::fs::write(
        &path,
        format!(
            "[http]\nlisten = \"127.0.0.1:{http_port}\"\n\
             [inputs.t]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"127.0.0.1:{input_port}\"\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn json_lists_the_default_listeners() {
    let out = hark(&["ports", "--format", "json"]);
    assert!(out.status.success(), "{out:?}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let components: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["component"].as_str().unwrap())
        .collect();
    assert_eq!(
        components,
        [
            "inputs.beats",
            "inputs.snmptrap",
            "inputs.syslog_tcp",
            "inputs.syslog_udp",
            "inputs.gelf_tcp",
            "inputs.gelf_udp",
            "inputs.relp",
            "http"
        ]
    );
}

#[test]
fn unknown_formats_are_refused() {
    let out = hark(&["ports", "--format", "yaml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nftables"));
}

#[test]
fn check_exits_1_when_a_port_is_taken_and_0_when_all_are_free() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = config("taken", held.local_addr().unwrap().port(), free_tcp_port());
    let out = hark(&["ports", "--check", "-c", taken.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains(&format!("pid {} (", std::process::id())),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 checks failed"));

    let free = config("free", free_tcp_port(), free_tcp_port());
    let out = hark(&["ports", "--check", "-c", free.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 of 2 checks passed"));
    let _ = std::fs::remove_file(taken);
    let _ = std::fs::remove_file(free);
}
