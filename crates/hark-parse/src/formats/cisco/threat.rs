//! Threat detection: 733100 `[ Scanning] drop rate-1 exceeded. Current
//! burst rate is 10 per second, max configured rate is 10; Current average
//! rate is 8 per second, max configured rate is 5; Cumulative total count
//! is 5004`.
//!
//! The numbers go under `<prefix>.burst.*`, the names Elastic's module uses.

use super::text;
use super::{ReadError, Writer};

/// 733100: the object, the rate id and the rates.
pub(super) fn burst(w: &mut Writer<'_, '_>, text: &str) -> Result<(), ReadError> {
    let rate_at = text.find("drop rate").ok_or((0, "drop rate"))?;
    w.classify("threat-detected", None, "intrusion_detection", &["info"]);
    let object = text[..rate_at]
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim();
    w.vendor("burst.object", object);
    if let Some(id) = text::value_after(&text[rate_at..], "drop rate", &[" exceeded"]) {
        w.vendor("burst.id", id.trim_start_matches('-').trim());
    }
    let (burst, average) = match text.find("Current average rate") {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    let number = |part: &str, key: &str| {
        text::word_after(part, key).map(|n| n.trim_end_matches([';', ',', '.']).to_owned())
    };
    if let Some(n) = number(burst, "Current burst rate is ") {
        w.vendor_int("burst.current_rate", &n);
    }
    if let Some(n) = number(burst, "max configured rate is ") {
        w.vendor_int("burst.configured_rate", &n);
    }
    if let Some(n) = number(average, "Current average rate is ") {
        w.vendor_int("burst.avg_rate", &n);
    }
    if let Some(n) = number(average, "max configured rate is ") {
        w.vendor_int("burst.configured_avg_rate", &n);
    }
    if let Some(n) = number(text, "Cumulative total count is ") {
        w.vendor_int("burst.cumulative_count", &n);
    }
    Ok(())
}
