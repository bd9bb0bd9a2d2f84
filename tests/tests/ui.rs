//! The web UI in a real Chromium (headless, through chromedriver): the pages
//! a person uses, driven through the hooks the UI keeps stable (input names,
//! `data-testid` attributes), against one `hark serve` that the tests of this
//! binary share. Each test has its own browser session, so its cookies are
//! its own. Screenshots of the pages land in `<target>/ui-screenshots/`.

use std::sync::OnceLock;
use std::time::Duration;

use hark_e2e::accounts::{Account, add_user, get_with_session};
use hark_e2e::browser::{Browser, Fetched, SESSION_COOKIE};
use hark_e2e::reaper::reap_at_exit;
use hark_e2e::{Hark, Transport, hark_bin, marker};
use hark_testkit::free_tcp_port;
use hark_testkit::peers::run_logger;
use hark_testkit::targets::HttpTarget;
use serde_json::{Value, json};

/// How long a message sent to the syslog port may take to show in the live tail.
const TAIL_DEADLINE: Duration = Duration::from_secs(2);
/// How long messages may take to become searchable.
const INDEXED: Duration = Duration::from_secs(60);

const ADMIN: Account = Account {
    name: "ada",
    role: "admin",
    password: "ada-correct-horse-1",
};
const OPERATOR: Account = Account {
    name: "otto",
    role: "operator",
    password: "otto-battery-staple-2",
};
const VIEWER: Account = Account {
    name: "vera",
    role: "viewer",
    password: "vera-paper-clip-3",
};

/// A monitor the operator acknowledges in the browser (a closed port: CRIT).
const ACK_MONITOR: &str = "closed_ack";
/// A monitor the cross-origin test tries to acknowledge (a closed port: CRIT).
const CSRF_MONITOR: &str = "closed_csrf";

/// The server the tests share, started on first use and ended with the
/// binary: syslog on UDP and TCP, and two TCP monitors of closed ports.
fn hark() -> &'static Hark {
    static HARK: OnceLock<Hark> = OnceLock::new();
    HARK.get_or_init(|| {
        let monitor = |port: u16| {
            format!(
                "type = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}\ntimeout = \"2s\"\n\
                 interval = \"1s\"\nretry_interval = \"300ms\"\nmax_attempts = 2"
            )
        };
        reap_at_exit(
            Hark::builder()
                .input("udp", Transport::Udp)
                .input("tcp", Transport::Tcp)
                .monitor(ACK_MONITOR, &monitor(free_tcp_port()))
                .monitor(CSRF_MONITOR, &monitor(free_tcp_port()))
                .start(),
        )
    })
}

/// The shared server, with its three local accounts made (once).
fn hark_with_accounts() -> &'static Hark {
    static MADE: OnceLock<()> = OnceLock::new();
    let hark = hark();
    MADE.get_or_init(|| {
        for account in [ADMIN, OPERATOR, VIEWER] {
            add_user(hark, &account);
        }
    });
    hark
}

/// A browser signed in as `account` through the login form, on `/search`.
fn signed_in(account: &Account) -> Browser {
    let hark = hark_with_accounts();
    let browser = Browser::open(hark.api_url());
    browser.login(account.name, account.password);
    browser.wait_until(&format!("{} to land on /search", account.name), |b| {
        (b.path() == "/search").then_some(())
    });
    browser
}

/// Whether monitor `name` is acknowledged, according to the API.
fn acknowledged(hark: &Hark, name: &str) -> bool {
    hark.monitor(name)["acknowledged"] == true
}

/// Waits (API) until monitor `name` is a hard CRIT or DOWN.
fn wait_problem(hark: &Hark, name: &str) {
    hark.wait_monitor(name, "a hard CRIT or DOWN", |v| {
        matches!(v["state"].as_str(), Some("CRIT" | "DOWN")) && v["state_type"] == "hard"
    });
}

/// Sends `n` messages `text {n}` as `host` through `hark send` over TCP.
fn send(hark: &Hark, host: &str, n: u32, text: &str) {
    let out = std::process::Command::new(hark_bin())
        .args(["send", "--target"])
        .arg(hark.addr("tcp").to_string())
        .args(["--host", host, "--app", "uitest", "-n", &n.to_string()])
        .args(["--message", &format!("{text} {{n}}")])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run hark send");
    assert!(
        out.status.success(),
        "hark send: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The JSON body of an acknowledgement.
fn ack_body(comment: &str) -> String {
    json!({"comment": comment}).to_string()
}

/// Chromium shows `/healthz` as the server answers it, and a `fetch()`
/// run inside the page reads the same answer.
#[test]
fn chromium_shows_what_the_server_answers() {
    let hark = hark();
    let (status, body) = hark.get_as("/healthz", None);
    assert_eq!(status, 200, "{body}");

    let browser = Browser::open(hark.api_url());
    browser.goto("/healthz");
    assert_eq!(browser.text("pre"), body.trim());
    browser.screenshot("healthz");

    assert_eq!(
        browser.fetch("/healthz", json!({})),
        Fetched::Response {
            status: 200,
            body: body.clone()
        }
    );
}

/// From a page on another origin, a `no-cors` request gets an opaque
/// response the page cannot read, while the browser's network log still
/// shows the status the server answered (here 401: no credentials).
#[test]
fn the_network_log_shows_statuses_a_cross_origin_page_cannot_read() {
    let hark = hark();
    let other = HttpTarget::start(|_| (200, "another origin".to_owned()));
    let browser = Browser::open(hark.api_url());
    browser.goto(&other.url("/"));
    assert_eq!(browser.body_text().trim(), "another origin");

    let api = format!("{}/api/v1/monitors", hark.api_url());
    let seen = browser.fetch(&api, json!({"mode": "no-cors"}));
    assert_eq!(seen.status(), 0, "an opaque response: {seen:?}");
    assert_eq!(browser.wait_response("GET", &api), 401);
}

/// The login form signs a local user in and lands on `/search` with a
/// session cookie; a wrong password stays on `/login`, shows an error and
/// sets no cookie.
#[test]
fn local_login_lands_on_search_and_a_wrong_password_does_not() {
    let hark = hark_with_accounts();

    let wrong = Browser::open(hark.api_url());
    wrong.goto("/login");
    wrong.wait_for("input[name=username]");
    let form_text = wrong.body_text();
    wrong.screenshot("login");
    wrong.login(VIEWER.name, "not-the-password");
    assert_eq!(wrong.path(), "/login");
    assert_eq!(wrong.cookie(SESSION_COOKIE), None);
    let error_text = wrong.body_text();
    assert_ne!(error_text, form_text, "no error shown");
    assert!(
        !error_text.contains("not-the-password"),
        "the page repeats the password: {error_text}"
    );
    wrong.screenshot("login-wrong-password");

    let browser = signed_in(&VIEWER);
    browser.wait_for("input[name=q]");
    let session = browser
        .cookie(SESSION_COOKIE)
        .expect("a session cookie after signing in");
    assert_eq!(get_with_session(hark, "/api/v1/me", &session), 200);
}

/// Search shows the hits and the histogram; a click on a host's top value
/// narrows the query to that host and the hits to its messages.
#[test]
fn a_top_value_narrows_the_search() {
    let hark = hark_with_accounts();
    let word = marker("uisearch");
    let (web, db) = (format!("web{word}"), format!("db{word}"));
    send(hark, &web, 3, &word);
    send(hark, &db, 2, &word);
    assert_eq!(hark.wait_total(&word, 5, INDEXED), 5, "{}", hark.output());

    let browser = signed_in(&ADMIN);
    browser.fill("input[name=q]", &word);
    browser.click("form:has(input[name=q]) [type=submit]");
    browser.wait_until("5 hits", |b| {
        (b.count("[data-testid=hit]") == 5).then_some(())
    });
    browser.wait_for("[data-testid=histogram]");
    let db_value = format!("[data-testid=top-value][data-field=host][data-value=\"{db}\"]");
    browser.wait_for(&db_value);
    browser.settle();
    browser.screenshot("search");

    browser.click(&db_value);
    browser.wait_until("the query narrowed to the db host", |b| {
        let q = b.value("input[name=q]");
        (q.contains("host:") && q.contains(&db) && b.count("[data-testid=hit]") == 2).then_some(())
    });
    let q = browser.value("input[name=q]");
    assert!(
        q.contains(&word),
        "the narrowed query lost the search: {q:?}"
    );
    for row in browser.texts("[data-testid=hit]") {
        assert!(row.contains(&word), "a hit without {word}: {row}");
    }

    browser.click("[data-testid=hit]");
    browser.settle();
    browser.screenshot("search-event-detail");
}

/// The live tail shows a message `logger` sends to the syslog port within
/// two seconds, without reloading the page.
#[test]
fn the_live_tail_shows_a_message_from_logger() {
    let hark = hark_with_accounts();
    let browser = signed_in(&VIEWER);
    browser.goto("/tail");
    let port = hark.port("udp").to_string();
    let row_with = |text: String| {
        move |b: &Browser| {
            b.texts("[data-testid=tail-row]")
                .iter()
                .any(|r| r.contains(&text))
                .then_some(())
        }
    };

    // The first line proves the tail is connected (however long that takes).
    let first = marker("uitailfirst");
    run_logger(&["-n", "127.0.0.1", "-P", &port, "-d", "-t", "uitail", &first]);
    browser.wait_until(&format!("a tail row with {first}"), row_with(first.clone()));

    let live = marker("uitaillive");
    run_logger(&["-n", "127.0.0.1", "-P", &port, "-d", "-t", "uitail", &live]);
    browser.wait_until_within(
        TAIL_DEADLINE,
        &format!("a tail row with {live}"),
        row_with(live.clone()),
    );
    // Following the newest rows, the "Scroll to newest" button is not shown.
    let shown = browser.execute(
        "const b = document.querySelector('.tail-jump'); \
         return b !== null && getComputedStyle(b).display !== 'none';",
        vec![],
    );
    assert_eq!(shown, Value::Bool(false));
    browser.screenshot("tail");
}

/// A viewer sees a CRIT monitor without an acknowledge button and is
/// refused (403) by the API; an operator acknowledges it in the browser and
/// the monitors page shows it acknowledged.
#[test]
fn an_operator_acknowledges_a_crit_monitor_and_a_viewer_cannot() {
    let hark = hark_with_accounts();
    wait_problem(hark, ACK_MONITOR);
    let detail = format!("/monitors/{ACK_MONITOR}");
    let ack_api = format!("/api/v1/monitors/{ACK_MONITOR}/ack");

    let viewer = signed_in(&VIEWER);
    viewer.goto(&detail);
    viewer.wait_until("the monitor's page", |b| {
        b.body_text().contains(ACK_MONITOR).then_some(())
    });
    viewer.settle();
    assert_eq!(
        viewer.count("[data-testid=ack]"),
        0,
        "a viewer sees an ack button"
    );
    let refused = viewer.fetch(
        &ack_api,
        json!({
            "method": "POST",
            "credentials": "include",
            "headers": {"content-type": "application/json"},
            "body": ack_body("a viewer tries"),
        }),
    );
    assert_eq!(refused.status(), 403, "{refused:?}");
    assert!(!acknowledged(hark, ACK_MONITOR));
    drop(viewer);

    let operator = signed_in(&OPERATOR);
    operator.goto("/monitors");
    let row = format!("[data-testid=monitor-row][data-name={ACK_MONITOR}]");
    operator.wait_for(&row);
    let state = operator.attr(&row, "data-state").unwrap_or_default();
    assert!(matches!(state.as_str(), "CRIT" | "DOWN"), "state {state:?}");
    assert!(!shows_acknowledged(&operator, &row));

    operator.goto(&detail);
    operator.wait_for("[data-testid=ack]");
    operator.settle();
    operator.fill(
        "form:has([data-testid=ack]) input[name=comment]",
        "looking into it",
    );
    operator.screenshot("monitor-detail");
    operator.click("[data-testid=ack]");
    hark.wait_monitor(ACK_MONITOR, "acknowledged", |v| v["acknowledged"] == true);
    let ack = &hark.monitor(ACK_MONITOR)["ack"];
    assert_eq!(ack["author"], OPERATOR.name);
    assert_eq!(ack["comment"], "looking into it");

    operator.goto("/monitors");
    operator.wait_until("the row to show the acknowledgement", |b| {
        shows_acknowledged(b, &row).then_some(())
    });
    operator.screenshot("monitors-acknowledged");
}

/// Whether the monitor row `row` says it is acknowledged.
fn shows_acknowledged(browser: &Browser, row: &str) -> bool {
    browser.count(row) > 0
        && (browser.attr(row, "data-acknowledged").as_deref() == Some("true")
            || browser.text(row).to_lowercase().contains("acknowledged"))
}

/// A state-changing request that carries the session cookie but comes from
/// a page on another origin is refused (403) and changes nothing; the same
/// request from the UI's own origin acknowledges the monitor.
#[test]
fn a_cross_origin_post_with_the_session_cookie_is_refused() {
    let hark = hark_with_accounts();
    wait_problem(hark, CSRF_MONITOR);
    let browser = signed_in(&OPERATOR);
    let url = format!("{}/api/v1/monitors/{CSRF_MONITOR}/ack", hark.api_url());

    // Same host, another port: the cookie goes along, the origin differs.
    let other = HttpTarget::start(|_| (200, "another origin".to_owned()));
    browser.goto(&other.url("/"));
    // no-cors: a request any page may send without asking (no preflight).
    let opaque = browser.fetch(
        &url,
        json!({
            "method": "POST",
            "mode": "no-cors",
            "credentials": "include",
            "body": ack_body("from another origin"),
        }),
    );
    assert_eq!(opaque.status(), 0, "{opaque:?}");
    assert_eq!(browser.wait_response("POST", &url), 403);
    assert!(!acknowledged(hark, CSRF_MONITOR));

    browser.goto("/monitors");
    let same = browser.fetch(
        &url,
        json!({
            "method": "POST",
            "credentials": "include",
            "headers": {"content-type": "application/json"},
            "body": ack_body("from the UI's origin"),
        }),
    );
    assert_eq!(same.status(), 200, "{same:?}");
    assert!(acknowledged(hark, CSRF_MONITOR));
}

/// Logging out ends the session: `/search` sends the browser to `/login`
/// and the old cookie no longer opens `/api/v1/me`.
#[test]
fn logout_ends_the_session() {
    let hark = hark_with_accounts();
    let browser = signed_in(&OPERATOR);
    let session = browser
        .cookie(SESSION_COOKIE)
        .expect("a session cookie after signing in");
    assert_eq!(get_with_session(hark, "/api/v1/me", &session), 200);

    browser.wait_for("[data-testid=logout]");
    // The hook may sit on the form or on its button.
    browser.execute(
        "const e = document.querySelector('[data-testid=logout]');
         if (e.tagName === 'FORM') { e.requestSubmit(); } else { e.click(); }",
        vec![],
    );
    browser.wait_until("the logout to finish", |b| {
        (b.path() == "/login" || b.cookie(SESSION_COOKIE) != Some(session.clone())).then_some(())
    });
    browser.goto("/search");
    browser.wait_until("/search to send the browser to /login", |b| {
        (b.path() == "/login").then_some(())
    });
    assert_eq!(get_with_session(hark, "/api/v1/me", &session), 401);
}

/// Every page of the UI answers a signed-in admin, and a screenshot of each
/// is saved.
#[test]
fn every_page_renders_for_an_admin() {
    let hark = hark_with_accounts();
    wait_problem(hark, ACK_MONITOR);
    let browser = signed_in(&ADMIN);
    let mut pages: Vec<String> = [
        "/search",
        "/tail",
        "/sources",
        "/monitors",
        "/alerts",
        "/ports",
        "/status",
        "/admin",
    ]
    .map(str::to_owned)
    .to_vec();
    pages.push(format!("/monitors/{ACK_MONITOR}"));

    // The admin section's own pages, as its links name them.
    browser.goto("/admin");
    browser.settle();
    let links = browser.execute(
        "return [...document.querySelectorAll('a[href^=\"/admin/\"]')]
            .map(a => new URL(a.href).pathname);",
        vec![],
    );
    for link in links
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !pages.iter().any(|p| p == link) {
            pages.push(link.to_owned());
        }
    }

    for page in &pages {
        let answer = browser.fetch(page, json!({"credentials": "include"}));
        assert_eq!(answer.status(), 200, "GET {page}: {answer:?}");
        browser.goto(page);
        browser.settle();
        assert_ne!(browser.path(), "/login", "{page} sent the admin to /login");
        browser.screenshot(&format!("page{}", page.replace('/', "-")));
    }
}
