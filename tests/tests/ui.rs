//! The web UI in a real Chromium (headless, through chromedriver): pages
//! a person uses, driven by the hooks the UI keeps stable (input names,
//! `data-testid` attributes), against one `hark serve` shared by the tests
//! of this binary. Screenshots of the pages land in
//! `<target>/ui-screenshots/`.

use std::sync::OnceLock;

use hark_e2e::browser::{Browser, Fetched};
use hark_e2e::reaper::reap_at_exit;
use hark_e2e::{Hark, Transport};
use hark_testkit::targets::HttpTarget;
use serde_json::json;

/// The server the tests share, started on first use and ended with the binary.
fn hark() -> &'static Hark {
    static HARK: OnceLock<Hark> = OnceLock::new();
    HARK.get_or_init(|| {
        reap_at_exit(
            Hark::builder()
                .input("udp", Transport::Udp)
                .input("tcp", Transport::Tcp)
                .start(),
        )
    })
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
