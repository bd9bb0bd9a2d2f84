//! `type = "http"`: one HTTP(S) request, judged on its status, body, JSON,
//! response time and certificate.
//!
//! - status: one of `expect_status`, or any 2xx/3xx when that is empty;
//! - `body_contains`, `body_regex` (compiled once per monitor) and
//!   `json_path` = `json_value` look at the first 1 MiB of the body;
//! - `warn_time`/`crit_time` apply to the total time (perf `time`); the
//!   phases are perf `dns`, `connect`, `tls`, `ttfb` (see [`super::fetch`]);
//! - HTTPS: the certificate's days left against `cert_expiry_warn`/`crit`
//!   (perf `cert_days`), an expired one is CRIT, an untrusted chain or a
//!   wrong host name is CRIT when `tls_verify`. Every HTTPS hop of a
//!   redirect chain is judged.

use std::time::SystemTime;

use hark_config::monitor::{HttpCheck, HttpMethod};
use http::Method;
use memchr::memmem;

use crate::outcome::{CheckOutcome, Perf, Status};

use super::context::CheckContext;
use super::fetch::{self, Request};
use super::findings::Findings;
use super::format;
use super::json_path;
use super::progress::Progress;
use super::tls::{CertReport, ExpiryLimits};

/// Most body bytes looked at.
const BODY_LIMIT: usize = 1 << 20;

/// Runs an HTTP check.
pub(crate) async fn check(c: &HttpCheck, ctx: &CheckContext, progress: &Progress) -> CheckOutcome {
    let request = Request {
        method: match c.method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Head => Method::HEAD,
            HttpMethod::Post => Method::POST,
        },
        headers: &c.headers,
        body: c.body.as_deref(),
        accept: "*/*",
        body_limit: BODY_LIMIT,
        follow_redirects: c.follow_redirects,
        tls_ca: c.tls_ca.as_deref(),
    };
    let limits = ExpiryLimits {
        warn: Some(c.cert_expiry_warn),
        crit: Some(c.cert_expiry_crit),
    };
    let mut f = Findings::new();
    let response = match fetch::fetch(ctx, &c.url, &request, progress).await {
        Ok(r) => r,
        Err(failure) => {
            judge_certs(&mut f, &failure.certs, c.tls_verify, limits);
            f.problem(Status::Crit, failure.message);
            return f.finish();
        }
    };
    let status = response.status;
    let status_text = match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    let accepted = if c.expect_status.is_empty() {
        (200..400).contains(&status.as_u16())
    } else {
        c.expect_status.contains(&status.as_u16())
    };
    if !accepted {
        let wanted = if c.expect_status.is_empty() {
            "2xx or 3xx".to_owned()
        } else {
            c.expect_status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        };
        f.problem(Status::Crit, format!("{status_text}, expected {wanted}"));
    }
    judge_body(c, &response.body, response.truncated, &mut f);
    let t = response.timing;
    f.time_limits("time", "response time", t.total, c.warn_time, c.crit_time);
    f.perf(Perf::seconds("dns", t.dns));
    f.perf(Perf::seconds("connect", t.connect));
    if let Some(tls) = t.tls {
        f.perf(Perf::seconds("tls", tls));
    }
    f.perf(Perf::seconds("ttfb", t.ttfb));
    f.perf(Perf::new("size", response.body.len() as f64, "B"));
    judge_certs(&mut f, &response.certs, c.tls_verify, limits);
    let mut summary = format!("{status_text} in {}", format::elapsed(t.total));
    if response.redirects > 0 {
        summary.push_str(&format!(
            " after {} to {}",
            format::plural(i64::from(response.redirects), "redirect", "redirects"),
            response.url
        ));
    }
    if accepted {
        f.note(summary);
    } else if response.redirects > 0 {
        f.note(format!("final URL {}", response.url));
    }
    f.finish()
}

fn judge_body(c: &HttpCheck, body: &[u8], truncated: bool, f: &mut Findings) {
    let scope = if truncated { " (first 1 MiB)" } else { "" };
    if let Some(needle) = &c.body_contains
        && memmem::find(body, needle.as_bytes()).is_none()
    {
        f.problem(
            Status::Crit,
            format!(
                "body{scope} does not contain {}",
                format::snippet(needle.as_bytes(), 60)
            ),
        );
    }
    if let Some(re) = &c.body_regex
        && !re.is_match(&String::from_utf8_lossy(body))
    {
        f.problem(Status::Crit, format!("body{scope} does not match /{re}/"));
    }
    if let (Some(path), Some(expect)) = (&c.json_path, &c.json_value) {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Err(e) if truncated => f.problem(
                Status::Crit,
                format!("body is longer than 1 MiB, too long to read as JSON ({e})"),
            ),
            Err(e) => f.problem(Status::Crit, format!("body is not JSON: {e}")),
            Ok(doc) => match json_path::lookup(&doc, path) {
                Err(e) => f.problem(Status::Unknown, e),
                Ok(None) => f.problem(Status::Crit, format!("{path} not found in the JSON body")),
                Ok(Some(v)) if json_path::matches(v, expect) => {
                    f.note(format!("{path} = {}", json_path::show(v)));
                }
                Ok(Some(v)) => f.problem(
                    Status::Crit,
                    format!(
                        "{path} is {}, expected {}",
                        json_path::show(v),
                        json_path::describe(expect)
                    ),
                ),
            },
        }
    }
}

/// Judges every certificate seen; names the host when there were several.
fn judge_certs(f: &mut Findings, certs: &[CertReport], verify: bool, limits: ExpiryLimits) {
    let now = SystemTime::now();
    let several_hosts = certs.iter().any(|r| r.host != certs[0].host);
    for (i, report) in certs.iter().enumerate() {
        // The same host seen again (a redirect on the same site): once is enough.
        if certs[..i].iter().any(|r| r.host == report.host) {
            continue;
        }
        let prefix = if several_hosts {
            format!("{}: ", report.host)
        } else {
            String::new()
        };
        report.judge(f, verify, limits, &prefix, now, i == 0);
    }
}
