//! A `hark serve` process under test.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::{HarkBuilder, Transport};
use crate::hark_bin;
use crate::metrics::{metric_in, parse_sample};
use hark_testkit::process::signal;
use hark_testkit::tmpfs::Tmpfs;
use hark_testkit::wait::poll;

/// How long `hark serve` may take to print `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `hark serve` on free ports of 127.0.0.1, with its own data
/// directory. Dropping it kills the process and removes the directory.
pub struct Hark {
    config_path: PathBuf,
    data_dir: PathBuf,
    config_text: String,
    child: Option<Child>,
    /// Everything the server printed (stdout and stderr, all runs), for failures.
    log: Arc<Mutex<Vec<String>>>,
    api: String,
    token: String,
    /// The `admin token:` printed at first start.
    first_token: Option<String>,
    listeners: BTreeMap<String, SocketAddr>,
    http: reqwest::blocking::Client,
    /// The data directory's file system, when the test asked for a tmpfs.
    tmpfs: Option<Tmpfs>,
    // Last, so the directory goes after the process is gone.
    dir: tempfile::TempDir,
}

impl Hark {
    /// A server with a UDP input `udp` and a TCP input `tcp`, plus `extra_toml`
    /// (tables such as `[storage]`) appended to its configuration.
    pub fn start(extra_toml: &str) -> Hark {
        Hark::builder()
            .input("udp", Transport::Udp)
            .input("tcp", Transport::Tcp)
            .extra(extra_toml)
            .start()
    }

    /// A server with only the inputs the builder is given.
    pub fn builder() -> HarkBuilder {
        HarkBuilder::default()
    }

    /// Starts `hark serve` on a configuration already written to
    /// `config_path` (its text is `toml`) and takes an admin token.
    pub(crate) fn launch_new(
        dir: tempfile::TempDir,
        config_path: PathBuf,
        data_dir: PathBuf,
        toml: String,
        tmpfs: Option<Tmpfs>,
    ) -> Hark {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("build an HTTP client");
        let mut hark = Hark {
            config_path,
            data_dir,
            config_text: toml,
            child: None,
            log: Arc::new(Mutex::new(Vec::new())),
            api: String::new(),
            token: String::new(),
            first_token: None,
            listeners: BTreeMap::new(),
            http,
            tmpfs,
            dir,
        };
        hark.launch();
        hark.token = hark.create_token("admin", "e2e");
        hark
    }

    fn launch(&mut self) {
        let mut child = Command::new(hark_bin())
            .arg("serve")
            .arg("--config")
            .arg(&self.config_path)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {} serve: {e}", hark_bin().display()));
        let pid = child.id();
        self.push_log(format!("---- hark serve started (pid {pid})"));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::clone(&self.log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                push(&log, format!("[out] {line}"));
                // The receiver goes away after `ready`; keep draining the pipe.
                let _ = tx.send(line);
            }
        });
        let log = Arc::clone(&self.log);
        std::thread::spawn(move || drain_lines(stderr, &log, "[err]"));
        self.child = Some(child);
        self.wait_ready(&rx);
    }

    fn wait_ready(&mut self, rx: &Receiver<String>) {
        let deadline = Instant::now() + READY_TIMEOUT;
        self.listeners.clear();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let line = line.trim();
                    let words: Vec<&str> = line.split_whitespace().collect();
                    match words.as_slice() {
                        ["ready"] => break,
                        ["listening", name, _proto, addr] => {
                            let addr = addr
                                .parse()
                                .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"));
                            self.listeners.insert((*name).to_owned(), addr);
                        }
                        ["api", url] => self.api = url.trim_end_matches('/').to_owned(),
                        ["admin", "token:", token] => {
                            self.first_token = Some((*token).to_owned());
                        }
                        _ => {}
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "hark serve printed no `ready` within {READY_TIMEOUT:?}\n{}",
                        self.output()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.as_mut().and_then(|c| c.wait().ok());
                    panic!(
                        "hark serve closed stdout before `ready` (exit: {status:?})\nconfig:\n{}\n{}",
                        self.config_text,
                        self.output()
                    )
                }
            }
        }
        assert!(
            !self.api.is_empty(),
            "hark serve printed no `api http://…` line before `ready`\n{}",
            self.output()
        );
    }

    fn push_log(&self, line: String) {
        push(&self.log, line);
    }

    /// The tmpfs the data directory is on ([`HarkBuilder::data_on_tmpfs`]).
    pub fn data_tmpfs(&self) -> &Tmpfs {
        self.tmpfs
            .as_ref()
            .expect("the server was not started with data_on_tmpfs")
    }

    /// Everything the server printed so far, stdout and stderr interleaved.
    pub fn output(&self) -> String {
        let g = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let skip = g.len().saturating_sub(400);
        let mut s = String::from("---- hark output (last 400 lines) ----\n");
        for l in &g[skip..] {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// The address input `name` listens on, as the server printed it.
    pub fn addr(&self, name: &str) -> SocketAddr {
        match self.listeners.get(name) {
            Some(a) => *a,
            None => panic!(
                "hark printed no `listening {name} …` line (got {:?})\n{}",
                self.listeners,
                self.output()
            ),
        }
    }

    /// The port input `name` listens on.
    pub fn port(&self, name: &str) -> u16 {
        self.addr(name).port()
    }

    /// The API's base URL, `http://127.0.0.1:PORT`.
    pub fn api_url(&self) -> &str {
        &self.api
    }

    /// An admin token (from `hark token create`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The admin token printed at first start, if it was.
    pub fn first_start_token(&self) -> Option<&str> {
        self.first_token.as_deref()
    }

    /// The configuration file.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The temporary directory holding config and data (for test files too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// `hark` with `HARK_URL` and `HARK_TOKEN` set for this server.
    pub fn cli(&self) -> Command {
        let mut c = Command::new(hark_bin());
        c.env("HARK_URL", &self.api)
            .env("HARK_TOKEN", &self.token)
            .stdin(Stdio::null());
        c
    }

    /// Runs `hark token create --config FILE --role ROLE --name NAME` and
    /// returns the token it prints.
    pub fn create_token(&self, role: &str, name: &str) -> String {
        let out = Command::new(hark_bin())
            .args(["token", "create", "--config"])
            .arg(&self.config_path)
            .args(["--role", role, "--name", name])
            .stdin(Stdio::null())
            .output()
            .expect("run hark token create");
        let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(
            out.status.success() && !token.is_empty() && !token.contains(char::is_whitespace),
            "hark token create --role {role} failed or printed more than a token: {:?}\nstdout: {}\nstderr: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.output()
        );
        token
    }

    /// GET `path` with `token` (if any): status and body.
    pub fn get_as(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut req = self.http.get(format!("{}{path}", self.api));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send() {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.text().unwrap_or_default())
            }
            Err(e) => panic!("GET {path}: {e}\n{}", self.output()),
        }
    }

    /// POST `body` (JSON) to `path` with `token` (if any): status and body.
    pub fn post_as(&self, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.api))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send() {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.text().unwrap_or_default())
            }
            Err(e) => panic!("POST {path}: {e}\n{}", self.output()),
        }
    }

    /// GET /api/v1/search?q=… plus `params`, as admin; panics unless 200.
    pub fn search(&self, q: &str, params: &[(&str, &str)]) -> Value {
        let mut req = self
            .http
            .get(format!("{}/api/v1/search", self.api))
            .bearer_auth(&self.token)
            .query(&[("q", q)]);
        if !params.is_empty() {
            req = req.query(params);
        }
        let resp = req
            .send()
            .unwrap_or_else(|e| panic!("search {q:?}: {e}\n{}", self.output()));
        let status = resp.status();
        let body = resp.text().unwrap_or_default();
        assert!(
            status.is_success(),
            "search {q:?} {params:?}: HTTP {status}: {body}\n{}",
            self.output()
        );
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("search {q:?}: body is not JSON ({e}): {body}"))
    }

    /// The `total` of a search.
    pub fn total(&self, q: &str) -> u64 {
        let v = self.search(q, &[("limit", "1")]);
        v.get("total")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("search {q:?}: no numeric total in {v}"))
    }

    /// The hits of a search (up to `limit`).
    pub fn hits(&self, q: &str, limit: usize) -> Vec<Value> {
        let v = self.search(q, &[("limit", &limit.to_string())]);
        v.get("hits")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| panic!("search {q:?}: no hits array in {v}"))
    }

    /// Polls until the search total equals `n` or `timeout` passes; returns
    /// the last total seen.
    pub fn wait_total(&self, q: &str, n: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        loop {
            let t = self.total(q);
            if t == n || Instant::now() >= deadline {
                return t;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Polls until the search has at least one hit and returns the newest;
    /// panics after `timeout`.
    pub fn wait_hit(&self, q: &str, timeout: Duration) -> Value {
        poll(timeout, Duration::from_millis(200), || {
            self.hits(q, 1).into_iter().next()
        })
        .unwrap_or_else(|| {
            panic!(
                "no event matching {q:?} within {timeout:?}\n{}",
                self.output()
            )
        })
    }

    /// Polls until the total is at least `min` and has not changed for
    /// `quiet` (indexing has settled); returns it, or the last total after
    /// `timeout`.
    pub fn wait_settled(&self, q: &str, min: u64, quiet: Duration, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let mut last = self.total(q);
        let mut since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let t = self.total(q);
            if t != last {
                last = t;
                since = Instant::now();
            } else if t >= min && since.elapsed() >= quiet {
                return t;
            }
            if Instant::now() >= deadline {
                return t;
            }
        }
    }

    /// GET /metrics as text.
    pub fn metrics_text(&self) -> String {
        let (status, body) = self.get_as("/metrics", Some(&self.token));
        assert_eq!(status, 200, "GET /metrics: {body}");
        body
    }

    /// A sample from /metrics, e.g. `hark_events_stored_total{input="tcp"}`
    /// (labels in any order); 0 when the series does not exist yet, as
    /// Prometheus exporters only show counters once incremented.
    pub fn metric(&self, name_with_labels: &str) -> f64 {
        metric_in(&self.metrics_text(), name_with_labels).unwrap_or(0.0)
    }

    /// Sum of all series of `name` whose labels include every pair of `labels`.
    pub fn metric_sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = self.metrics_text();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(parse_sample)
            .filter(|(n, ls, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| ls.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }

    /// Whether GET /healthz answers 200.
    pub fn healthz(&self) -> bool {
        self.http
            .get(format!("{}/healthz", self.api))
            .send()
            .map(|r| r.status().is_success())
            .unwrap_or(false)
    }

    /// Every event matching `q`, through `hark query Q --all --format ndjson`.
    pub fn query_all(&self, q: &str) -> Vec<Value> {
        let out = self.run_cli(&["query", q, "--all", "--format", "ndjson"]);
        assert!(
            out.status.success(),
            "hark query {q:?} --all failed: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("hark query --format ndjson line is not JSON ({e}): {l}")
                })
            })
            .collect()
    }

    /// The `message` of every event matching `q` (through `hark query --all`),
    /// without keeping whole events in memory.
    pub fn query_all_messages(&self, q: &str) -> Vec<String> {
        let out = self.run_cli(&["query", q, "--all", "--format", "ndjson"]);
        assert!(
            out.status.success(),
            "hark query {q:?} --all failed: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("hark query --format ndjson line is not JSON ({e}): {l}")
                });
                match v.get("message") {
                    Some(Value::String(s)) => s.clone(),
                    _ => panic!("no message in {l}"),
                }
            })
            .collect()
    }

    /// Runs the CLI with this server's URL and admin token; stdout and stderr captured.
    pub fn run_cli(&self, args: &[&str]) -> Output {
        self.cli()
            .args(args)
            .args(["--url", &self.api, "--token", &self.token])
            .output()
            .expect("run hark")
    }

    /// Kills the server with SIGKILL and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            self.push_log("---- hark serve killed (SIGKILL)".to_owned());
        }
    }

    /// Sends SIGTERM and waits for the server to exit; returns its status.
    pub fn stop(&mut self) -> ExitStatus {
        let mut c = self.child.take().expect("hark serve is not running");
        signal(c.id(), "TERM");
        let status = poll(Duration::from_secs(120), Duration::from_millis(50), || {
            c.try_wait().ok().flatten()
        });
        match status {
            Some(s) => {
                self.push_log(format!("---- hark serve exited after SIGTERM: {s}"));
                s
            }
            None => {
                let _ = c.kill();
                let _ = c.wait();
                panic!(
                    "hark serve did not exit within 120 s of SIGTERM\n{}",
                    self.output()
                )
            }
        }
    }

    /// Starts the server again with the same configuration and data
    /// (after [`Hark::stop`] or [`Hark::kill9`], or kills it first).
    pub fn restart(&mut self) {
        self.kill9();
        self.launch();
    }
}

impl Drop for Hark {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "config {}:\n{}",
                self.config_path.display(),
                self.config_text
            );
            eprintln!("{}", self.output());
        }
    }
}

fn push(log: &Mutex<Vec<String>>, line: String) {
    let mut g = log.lock().unwrap_or_else(|e| e.into_inner());
    // Bound memory if the server logs a lot.
    if g.len() > 20_000 {
        g.drain(..10_000);
    }
    g.push(line);
}

fn drain_lines(r: impl Read, log: &Mutex<Vec<String>>, tag: &str) {
    let mut r = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => push(
                log,
                format!("{tag} {}", String::from_utf8_lossy(&buf).trim_end()),
            ),
        }
    }
}
