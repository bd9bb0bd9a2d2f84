//! A real Chromium, driven through chromedriver (WebDriver), for the web UI.
//!
//! One chromedriver serves the whole test binary: it starts on first use on
//! a free port, in its own process group, and that group (chromedriver and
//! every Chromium it launched) is terminated by the [exit reaper] when the
//! binary exits. Each [`Browser`] is its own WebDriver session with a fresh
//! profile directory, so cookies never leak from one test to another; its
//! session is closed (Chromium quits) when it drops, also while a test
//! panics.
//!
//! The API is blocking, like the rest of the kit: each `Browser` owns a
//! small current-thread tokio runtime and runs fantoccini's async calls on
//! it. Waiting is bounded by deadlines that only a hang reaches
//! ([`PATIENCE`]); no test asserts how fast something happens unless it
//! says so with [`Browser::wait_until_within`].
//!
//! The WebDriver connection is plain HTTP to 127.0.0.1, so fantoccini is
//! built without its TLS features (its `rustls-tls` feature would bring in
//! aws-lc through hyper-rustls's defaults).
//!
//! ```no_run
//! let hark = hark_e2e::Hark::start("");
//! let browser = hark_e2e::browser::Browser::open(hark.api_url());
//! browser.goto("/healthz");
//! assert!(browser.body_text().contains("ok"));
//! browser.screenshot("healthz");
//! ```
//!
//! [exit reaper]: crate::reaper

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hark_testkit::process::ChildGuard;
use hark_testkit::wait::PATIENCE;
use hark_testkit::{free_tcp_port, poll};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::reaper::kill_group_at_exit;
use crate::{init_crypto, workspace_root};

/// The chromedriver binary (Debian's `chromium-driver`).
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The browser chromedriver launches (Debian's `chromium`).
const CHROMIUM: &str = "/usr/bin/chromium";
/// How often waits look again.
const EVERY: Duration = Duration::from_millis(50);
/// The name of the session cookie the UI sets.
pub const SESSION_COOKIE: &str = "hark_session";

/// The chromedriver shared by the tests of this binary.
struct Driver {
    url: String,
    /// Kept so the process stays owned; the reaper ends it with the binary.
    _proc: Mutex<ChildGuard>,
}

/// The shared chromedriver, started on first use.
fn driver() -> &'static Driver {
    static DRIVER: OnceLock<Driver> = OnceLock::new();
    DRIVER.get_or_init(start_driver)
}

fn start_driver() -> Driver {
    init_crypto();
    for (what, path) in [("chromedriver", CHROMEDRIVER), ("chromium", CHROMIUM)] {
        assert!(
            std::path::Path::new(path).exists(),
            "{path} ({what}) is missing: run scripts/install-test-deps.sh"
        );
    }
    let port = free_tcp_port();
    // Its own process group, so the reaper can end the Chromiums with it.
    let mut proc = ChildGuard::spawn(
        "chromedriver",
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0),
    );
    kill_group_at_exit(proc.id());
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("build an HTTP client");
    let ready = poll(PATIENCE, EVERY, || {
        if let Some(status) = proc.try_wait() {
            panic!("chromedriver exited before it was ready: {status}");
        }
        let status: Value = http.get(format!("{url}/status")).send().ok()?.json().ok()?;
        (status["value"]["ready"] == true).then_some(())
    });
    assert!(
        ready.is_some(),
        "chromedriver did not answer GET /status as ready within {PATIENCE:?}"
    );
    Driver {
        url,
        _proc: Mutex::new(proc),
    }
}

/// The directory screenshots go to: `ui-screenshots/` in the target
/// directory (`$CARGO_TARGET_DIR`, else the one holding this test binary,
/// else the workspace's `target/`).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // <target>/<profile>/deps/<test binary>
            let exe = std::env::current_exe().ok()?;
            let deps = exe.parent()?;
            (deps.file_name()? == "deps").then(|| deps.parent()?.parent().map(PathBuf::from))?
        })
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("ui-screenshots")
}

/// What a `fetch()` run inside the page came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A response the page may read: its status and body.
    Response {
        /// The HTTP status (0 for an opaque `no-cors` response).
        status: u16,
        /// The body as text.
        body: String,
    },
    /// The promise was rejected (network error, CORS refusal): its message.
    Rejected(String),
}

impl Fetched {
    /// The status of a readable response; panics when the fetch was rejected.
    #[track_caller]
    pub fn status(&self) -> u16 {
        match self {
            Fetched::Response { status, .. } => *status,
            Fetched::Rejected(e) => panic!("the fetch was rejected: {e}"),
        }
    }
}

/// A response the browser received, as its network log recorded it
/// (also for responses the page itself may not read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkResponse {
    /// The request's method.
    pub method: String,
    /// The request's URL.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
}

/// One WebDriver session in a headless Chromium with a fresh profile,
/// closed on drop.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    /// `None` only after the session is closed.
    client: Option<Client>,
    /// The origin [`Browser::goto`] paths are relative to.
    base: String,
    /// Requests seen in the network log, by request id: (method, URL).
    requests: Mutex<HashMap<String, (String, String)>>,
    // Last, so the profile goes after Chromium has quit.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A new session; [`Browser::goto`] paths are relative to `base`
    /// (`http://127.0.0.1:PORT`).
    pub fn open(base: &str) -> Browser {
        let driver = driver();
        let profile = tempfile::Builder::new()
            .prefix("hark-chromium-")
            .tempdir()
            .expect("create a profile directory");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build a tokio runtime");
        let caps = capabilities(&profile.path().display().to_string());
        let client = rt
            .block_on(
                ClientBuilder::new(HttpConnector::new())
                    .capabilities(caps)
                    .connect(&driver.url),
            )
            .unwrap_or_else(|e| panic!("start a Chromium session through {}: {e}", driver.url));
        Browser {
            rt,
            client: Some(client),
            base: base.trim_end_matches('/').to_owned(),
            requests: Mutex::new(HashMap::new()),
            _profile: profile,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// `base` + `path`, or `path` itself when it is a whole URL.
    pub fn url(&self, path: &str) -> String {
        if path.contains("://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Opens `path` (relative to the base) or a whole URL and waits for the load.
    pub fn goto(&self, path: &str) {
        let url = self.url(path);
        self.rt
            .block_on(self.client().goto(&url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The current URL.
    pub fn current_url(&self) -> String {
        self.rt
            .block_on(self.client().current_url())
            .map(|u| u.to_string())
            .unwrap_or_else(|e| panic!("read the current URL: {e}"))
    }

    /// The path of the current URL (`/search`), without query.
    pub fn path(&self) -> String {
        self.rt
            .block_on(self.client().current_url())
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|e| panic!("read the current URL: {e}"))
    }

    /// Fills the inputs named `username` and `password` of the form on
    /// `/login` and submits it, then waits until the page reacted: it left
    /// `/login`, or its text changed (an error shown). The caller asserts
    /// which.
    pub fn login(&self, user: &str, password: &str) {
        self.goto("/login");
        self.wait_for("form input[name=username]");
        self.fill("input[name=username]", user);
        self.fill("input[name=password]", password);
        let before = self.body_text();
        self.click("form:has(input[name=username]) [type=submit]");
        self.wait_until("the login form to be answered", |b| {
            (b.path() != "/login" || b.body_text() != before).then_some(())
        });
    }

    /// Waits until at least one element matches `css`; returns how many do.
    pub fn wait_for(&self, css: &str) -> usize {
        self.wait_until(&format!("an element matching {css:?}"), |b| {
            let n = b.count(css);
            (n > 0).then_some(n)
        })
    }

    /// Waits until `f` returns `Some` (looking every 50 ms); panics after
    /// [`PATIENCE`] saying it waited for `what`, with the page's URL and
    /// text and a screenshot `failed-wait`.
    #[track_caller]
    pub fn wait_until<T>(&self, what: &str, f: impl FnMut(&Browser) -> Option<T>) -> T {
        self.wait_until_within(PATIENCE, what, f)
    }

    /// [`Browser::wait_until`] with its own deadline, for the tests whose
    /// point is a bound on time (a live view showing a new line).
    #[track_caller]
    pub fn wait_until_within<T>(
        &self,
        deadline: Duration,
        what: &str,
        mut f: impl FnMut(&Browser) -> Option<T>,
    ) -> T {
        let end = Instant::now() + deadline;
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            if Instant::now() >= end {
                let shot = self.screenshot("failed-wait");
                panic!(
                    "gave up after {deadline:?} waiting for {what}\nat {}\nscreenshot {}\npage text:\n{}",
                    self.current_url(),
                    shot.display(),
                    self.body_text()
                );
            }
            std::thread::sleep(EVERY);
        }
    }

    /// Waits until the page has loaded and its text has stopped changing
    /// (the same, and not empty, at two looks in a row), for pages that
    /// render after they load.
    pub fn settle(&self) {
        let mut last: Option<String> = None;
        self.wait_until("the page to settle", |b| {
            let ready = b.execute("return document.readyState;", vec![]) == "complete";
            let text = b.body_text();
            let settled = ready && !text.trim().is_empty() && last.as_deref() == Some(&text);
            last = Some(text);
            settled.then_some(())
        });
    }

    /// How many elements match `css` now.
    pub fn count(&self, css: &str) -> usize {
        self.rt
            .block_on(self.client().find_all(Locator::Css(css)))
            .map(|v| v.len())
            .unwrap_or_else(|e| panic!("find {css:?}: {e}"))
    }

    /// The visible text of every element matching `css`, in document order.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.rt
            .block_on(async {
                let mut out = Vec::new();
                for e in self.client().find_all(Locator::Css(css)).await? {
                    out.push(e.text().await?);
                }
                Ok::<_, fantoccini::error::CmdError>(out)
            })
            .unwrap_or_else(|e| panic!("read the text of {css:?}: {e}"))
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        self.rt
            .block_on(async { self.client().find(Locator::Css(css)).await?.text().await })
            .unwrap_or_else(|e| panic!("read the text of {css:?}: {e}"))
    }

    /// Attribute `name` of every element matching `css`, in document order.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<Option<String>> {
        self.rt
            .block_on(async {
                let mut out = Vec::new();
                for e in self.client().find_all(Locator::Css(css)).await? {
                    out.push(e.attr(name).await?);
                }
                Ok::<_, fantoccini::error::CmdError>(out)
            })
            .unwrap_or_else(|e| panic!("read {name} of {css:?}: {e}"))
    }

    /// Attribute `name` of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.rt
            .block_on(async {
                self.client()
                    .find(Locator::Css(css))
                    .await?
                    .attr(name)
                    .await
            })
            .unwrap_or_else(|e| panic!("read {name} of {css:?}: {e}"))
    }

    /// The current value of the form control matching `css`.
    pub fn value(&self, css: &str) -> String {
        self.rt
            .block_on(async {
                self.client()
                    .find(Locator::Css(css))
                    .await?
                    .prop("value")
                    .await
            })
            .unwrap_or_else(|e| panic!("read the value of {css:?}: {e}"))
            .unwrap_or_default()
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        self.rt
            .block_on(async { self.client().find(Locator::Css(css)).await?.click().await })
            .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Replaces the text of the input matching `css` with `text`.
    pub fn fill(&self, css: &str, text: &str) {
        self.rt
            .block_on(async {
                let e = self.client().find(Locator::Css(css)).await?;
                e.clear().await?;
                e.send_keys(text).await
            })
            .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    /// Types `text` into the input matching `css` after what it holds
    /// (`"\u{E007}"` is the Enter key).
    pub fn type_into(&self, css: &str, text: &str) {
        self.rt
            .block_on(async {
                self.client()
                    .find(Locator::Css(css))
                    .await?
                    .send_keys(text)
                    .await
            })
            .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    /// The page's visible text (`document.body.innerText`).
    pub fn body_text(&self) -> String {
        match self.execute(
            "return document.body ? document.body.innerText : '';",
            vec![],
        ) {
            Value::String(s) => s,
            other => panic!("body text is not a string: {other}"),
        }
    }

    /// Runs `script` in the page (`arguments` holds `args`); returns what it returns.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.rt
            .block_on(self.client().execute(script, args))
            .unwrap_or_else(|e| panic!("run a script in the page: {e}\n{script}"))
    }

    /// Runs `fetch(url, init)` inside the page, so it carries the page's
    /// origin and its cookies (as `init.credentials` allows), and returns
    /// what the page sees.
    pub fn fetch(&self, url: &str, init: Value) -> Fetched {
        const SCRIPT: &str = r#"
            const [url, init, done] = arguments;
            fetch(url, init)
                .then(r => r.text().then(body => done({status: r.status, body})))
                .catch(e => done({error: String(e)}));
        "#;
        let url = self.url(url);
        let v = self
            .rt
            .block_on(self.client().execute_async(SCRIPT, vec![json!(url), init]))
            .unwrap_or_else(|e| panic!("fetch {url} in the page: {e}"));
        match (v.get("status").and_then(Value::as_u64), v.get("error")) {
            (Some(status), _) => Fetched::Response {
                status: u16::try_from(status).unwrap_or(u16::MAX),
                body: v["body"].as_str().unwrap_or_default().to_owned(),
            },
            (None, Some(e)) => Fetched::Rejected(e.as_str().unwrap_or_default().to_owned()),
            (None, None) => panic!("fetch {url} in the page answered {v}"),
        }
    }

    /// The value of cookie `name` as the browser holds it for the current
    /// page (HttpOnly cookies too), if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let all = self
            .rt
            .block_on(self.client().get_all_cookies())
            .unwrap_or_else(|e| panic!("read the cookies: {e}"));
        all.iter()
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }

    /// Saves a PNG of the viewport as `<target>/ui-screenshots/<name>.png`
    /// and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .rt
            .block_on(self.client().screenshot())
            .unwrap_or_else(|e| panic!("take a screenshot: {e}"));
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Waits until the network log shows the response to a `method`
    /// request whose URL is `url` (relative to the base, or whole), and
    /// returns its status. Unlike [`Browser::fetch`], this sees the status
    /// of responses the page may not read (opaque cross-origin ones).
    pub fn wait_response(&self, method: &str, url: &str) -> u16 {
        let url = self.url(url);
        self.wait_until(&format!("a response to {method} {url}"), |b| {
            b.network_responses()
                .into_iter()
                .find(|r| r.method == method && r.url == url)
                .map(|r| r.status)
        })
    }

    /// The responses received since the last call, from Chromium's
    /// performance log.
    pub fn network_responses(&self) -> Vec<NetworkResponse> {
        let session = self
            .rt
            .block_on(self.client().session_id())
            .unwrap_or_else(|e| panic!("read the session id: {e}"))
            .expect("an open session has an id");
        let log: Value = reqwest::blocking::Client::new()
            .post(format!("{}/session/{session}/se/log", driver().url))
            .json(&json!({"type": "performance"}))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("read the browser's performance log: {e}"));
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for entry in log["value"].as_array().into_iter().flatten() {
            let Some(Ok(msg)) = entry["message"].as_str().map(serde_json::from_str::<Value>) else {
                continue;
            };
            let params = &msg["message"]["params"];
            let id = params["requestId"].as_str().unwrap_or_default().to_owned();
            match msg["message"]["method"].as_str() {
                Some("Network.requestWillBeSent") => {
                    let req = &params["request"];
                    requests.insert(
                        id,
                        (
                            req["method"].as_str().unwrap_or_default().to_owned(),
                            req["url"].as_str().unwrap_or_default().to_owned(),
                        ),
                    );
                }
                Some("Network.responseReceived") => {
                    if let Some((method, url)) = requests.get(&id) {
                        out.push(NetworkResponse {
                            method: method.clone(),
                            url: url.clone(),
                            status: params["response"]["status"]
                                .as_u64()
                                .and_then(|s| u16::try_from(s).ok())
                                .unwrap_or(0),
                        });
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Closes the session (Chromium quits). Dropping does the same.
    pub fn close(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        if let Some(client) = self.client.take() {
            let closed = self
                .rt
                .block_on(async { tokio::time::timeout(PATIENCE, client.close()).await });
            if !matches!(closed, Ok(Ok(()))) && !std::thread::panicking() {
                eprintln!("closing the browser session failed: {closed:?}");
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.shut();
    }
}

/// Headless Chromium with profile `profile`, nothing fetched in the
/// background, and the performance log on (for [`Browser::network_responses`]).
fn capabilities(profile: &str) -> Capabilities {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,720",
                format!("--user-data-dir={profile}"),
            ],
        },
        "goog:loggingPrefs": {"performance": "ALL"},
    });
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}
