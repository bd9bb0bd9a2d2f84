//! RFC 5424 and RFC 3164 messages from events, through the header writers
//! of `hark_proto::syslog`.

use chrono::{DateTime, Utc};
use hark_event::{Event, Facility, FieldValue, Severity};
use hark_proto::syslog::{Rfc3164Header, Rfc5424Header, SdElement};

/// PRI of an event: its facility and severity, `user.notice` where unknown.
fn pri(event: &Event) -> u8 {
    let facility = event.facility.unwrap_or(Facility::User) as u8;
    let severity = event.severity.unwrap_or(Severity::Notice) as u8;
    facility * 8 + severity
}

fn time(nanos: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_nanos(nanos)
}

/// The event's `sd.<SD-ID>.<PARAM>` fields as structured-data elements,
/// in order of first appearance (the SD-ID is what comes before the last dot).
fn structured_data(event: &Event) -> Vec<(&str, Vec<(&str, String)>)> {
    let mut elements: Vec<(&str, Vec<(&str, String)>)> = Vec::new();
    for (name, value) in &event.fields {
        let Some((id, param)) = name
            .strip_prefix("sd.")
            .and_then(|rest| rest.rsplit_once('.'))
        else {
            continue;
        };
        if id.is_empty() || param.is_empty() {
            continue;
        }
        let value = match value {
            FieldValue::Str(s) => s.clone(),
            other => other.to_string(),
        };
        match elements.iter_mut().find(|(i, _)| *i == id) {
            Some((_, params)) => params.push((param, value)),
            None => elements.push((id, vec![(param, value)])),
        }
    }
    elements
}

/// Appends `event` as an RFC 5424 message: its header fields as they
/// are, its `sd.*` fields as structured data, its message as the MSG.
pub fn rfc5424(event: &Event, out: &mut Vec<u8>) {
    let sd = structured_data(event);
    let params: Vec<Vec<(&str, &str)>> = sd
        .iter()
        .map(|(_, p)| p.iter().map(|(n, v)| (*n, v.as_str())).collect())
        .collect();
    let elements: Vec<SdElement<'_>> = sd
        .iter()
        .zip(&params)
        .map(|((id, _), params)| SdElement { id, params })
        .collect();
    header5424(event, &elements).write(event.message.as_bytes(), out);
}

/// Appends an RFC 5424 header for `event` without structured data, then `body`.
pub(super) fn rfc5424_with_body(event: &Event, body: &[u8], out: &mut Vec<u8>) {
    header5424(event, &[]).write(body, out);
}

fn header5424<'a>(event: &'a Event, sd: &'a [SdElement<'a>]) -> Rfc5424Header<'a> {
    Rfc5424Header {
        pri: pri(event),
        timestamp: Some(time(event.timestamp)),
        hostname: event.host.as_deref(),
        app_name: event.app.as_deref(),
        procid: event.procid.as_deref(),
        msgid: event.msgid.as_deref(),
        structured_data: sd,
    }
}

/// Appends `event` as an RFC 3164 message: `<PRI>Mmm dd hh:mm:ss HOST
/// TAG[PID]: MSG`, in UTC; a missing host or app is written `-`.
pub fn rfc3164(event: &Event, out: &mut Vec<u8>) {
    Rfc3164Header {
        pri: pri(event),
        timestamp: time(event.timestamp),
        hostname: event.host.as_deref().unwrap_or("-"),
        tag: event.app.as_deref().unwrap_or("-"),
        pid: event.procid.as_deref(),
    }
    .write(event.message.as_bytes(), out);
}
