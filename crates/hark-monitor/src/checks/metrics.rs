//! `type = "metrics"`: one sample scraped from a Prometheus text endpoint,
//! compared with `warn`/`crit` (Nagios ranges).
//!
//! The sample is the first one named `metric` that has every label of
//! `labels` with exactly that value (other labels may be there too). When
//! several samples match, the first is used and the output says how many
//! matched, so the monitor can be narrowed with more labels. A metric that
//! is not there, or is NaN, is UNKNOWN. The scrape reads at most 16 MiB.

use hark_config::monitor::MetricsCheck;
use http::Method;

use crate::outcome::{CheckOutcome, Perf, Status};

use super::context::CheckContext;
use super::fetch::{self, Request};
use super::findings::Findings;
use super::format;
use super::progress::Progress;
use super::prom_text;

/// Most bytes of an exposition read.
const BODY_LIMIT: usize = 16 << 20;

/// What is asked for: text/plain 0.0.4 (not protobuf), OpenMetrics accepted.
const ACCEPT: &str = "text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5,*/*;q=0.1";

/// Runs a metrics check.
pub(crate) async fn check(
    c: &MetricsCheck,
    ctx: &CheckContext,
    progress: &Progress,
) -> CheckOutcome {
    let no_headers = Default::default();
    let request = Request {
        method: Method::GET,
        headers: &no_headers,
        body: None,
        accept: ACCEPT,
        body_limit: BODY_LIMIT,
        follow_redirects: true,
        tls_ca: None,
    };
    let response = match fetch::fetch(ctx, &c.url, &request, progress).await {
        Ok(r) => r,
        Err(failure) => return CheckOutcome::new(Status::Crit, failure.message),
    };
    let mut f = Findings::new();
    f.perf(Perf::seconds("time", response.timing.total));
    if !response.status.is_success() {
        f.problem(
            Status::Crit,
            format!(
                "HTTP {} {} from the metrics endpoint {}",
                response.status.as_u16(),
                response.status.canonical_reason().unwrap_or(""),
                response.url
            )
            .replace("  ", " "),
        );
        return f.finish();
    }
    let text = String::from_utf8_lossy(&response.body);
    let selector = selector(c);
    let mut found: Option<f64> = None;
    let mut matched = 0usize;
    let mut same_name: Vec<String> = Vec::new();
    let mut same_name_count = 0usize;
    for line in text.lines() {
        if !prom_text::may_be(line, &c.metric) {
            continue;
        }
        let Ok(Some(sample)) = prom_text::parse_line(line) else {
            continue;
        };
        if sample.name != c.metric.as_str() {
            continue;
        }
        let fits = c
            .labels
            .iter()
            .all(|(k, v)| sample.label(k) == Some(v.as_str()));
        if fits {
            matched += 1;
            if found.is_none() {
                found = Some(sample.value);
            }
        } else {
            same_name_count += 1;
            if same_name.len() < 2 {
                same_name.push(
                    line.trim()
                        .split_ascii_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                );
            }
        }
    }
    let Some(value) = found else {
        let mut message = format!("{selector} not found at {}", response.url);
        if same_name_count > 0 {
            message.push_str(&format!(
                "; {same_name_count} {} with other labels, like {}",
                if same_name_count == 1 {
                    "sample has that name"
                } else {
                    "samples have that name"
                },
                same_name.join(", ")
            ));
        }
        if response.truncated {
            message.push_str(" (only the first 16 MiB were read)");
        }
        f.problem(Status::Unknown, message);
        return f.finish();
    };
    if value.is_nan() {
        f.problem(Status::Unknown, format!("{selector} is NaN"));
        return f.finish();
    }
    let shown = format!("{selector} = {}", format::number(value));
    if let Some(t) = c.crit
        && t.alerts(value)
    {
        f.problem(Status::Crit, format!("{shown} (crit at {t})"));
    } else if let Some(t) = c.warn
        && t.alerts(value)
    {
        f.problem(Status::Warn, format!("{shown} (warn at {t})"));
    } else {
        f.note(shown);
    }
    if matched > 1 {
        f.note(format!(
            "{matched} samples matched, the first is used; add labels to pick one"
        ));
    }
    let mut p = Perf::new(&c.metric, value, "");
    p.warn = c.warn.map(|t| t.to_string());
    p.crit = c.crit.map(|t| t.to_string());
    f.perf(p);
    f.finish()
}

/// `metric{a="b",c="d"}`, as a person would write it in PromQL.
fn selector(c: &MetricsCheck) -> String {
    if c.labels.is_empty() {
        return c.metric.clone();
    }
    let labels: Vec<String> = c
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={}", serde_json::Value::String(v.clone())))
        .collect();
    format!("{}{{{}}}", c.metric, labels.join(","))
}
