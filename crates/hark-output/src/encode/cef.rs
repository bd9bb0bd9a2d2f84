//! Events as ArcSight CEF lines:
//! `CEF:0|Hark|Hark|VERSION|SIGNATURE|NAME|SEVERITY|EXTENSION`.
//!
//! Header fields escape `\` and `|` with a backslash; extension values
//! escape `\` and `=`, and write CR and LF as `\r` and `\n`, as the CEF
//! specification says. Line breaks in header fields become spaces.
//! Extension keys are CEF's where one fits (`rt`, `dvchost`, `dproc`,
//! `dvcpid`, `msg`, `src`); the event's fields follow under their names
//! with every character other than a letter, digit or `_` written `_`.

use hark_event::{Event, FieldValue, Severity};

/// Longest CEF `Name`: the start of the message.
const MAX_NAME: usize = 512;

/// The CEF severity (0–10) of a syslog severity: emergency 10, alert 9,
/// critical 8, error 7, warning 5, notice 4, informational 3, debug 1.
pub fn cef_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Emerg => 10,
        Severity::Alert => 9,
        Severity::Crit => 8,
        Severity::Err => 7,
        Severity::Warning => 5,
        Severity::Notice => 4,
        Severity::Info => 3,
        Severity::Debug => 1,
    }
}

/// `event` as one CEF line (without a line feed).
pub fn cef(event: &Event) -> String {
    let mut out = String::with_capacity(128 + event.message.len() * 2);
    out.push_str("CEF:0|Hark|Hark|");
    header(&mut out, env!("CARGO_PKG_VERSION"));
    out.push('|');
    let signature = event
        .msgid
        .as_deref()
        .or(event.app.as_deref())
        .unwrap_or("event");
    header(&mut out, signature);
    out.push('|');
    let name: String = event.message.chars().take(MAX_NAME).collect();
    header(&mut out, if name.is_empty() { "-" } else { &name });
    out.push('|');
    match event.severity {
        Some(s) => out.push_str(&cef_severity(s).to_string()),
        None => out.push_str("Unknown"),
    }
    out.push('|');
    let mut first = true;
    let mut pair = |out: &mut String, key: &str, value: &str| {
        if !first {
            out.push(' ');
        }
        first = false;
        extension_key(out, key);
        out.push('=');
        extension_value(out, value);
    };
    pair(&mut out, "rt", &(event.timestamp / 1_000_000).to_string());
    if let Some(h) = &event.host {
        pair(&mut out, "dvchost", h);
    }
    if let Some(a) = &event.app {
        pair(&mut out, "dproc", a);
    }
    if let Some(p) = &event.procid {
        pair(&mut out, "dvcpid", p);
    }
    if let Some(ip) = event.peer_ip() {
        pair(&mut out, "src", &ip.to_string());
    }
    for (name, value) in &event.fields {
        let value = match value {
            FieldValue::Str(s) => s.clone(),
            other => other.to_string(),
        };
        pair(&mut out, name, &value);
    }
    pair(&mut out, "msg", &event.message);
    out
}

/// A header field: `\` and `|` escaped, line breaks as spaces.
fn header(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// An extension key: letters, digits and `_`; anything else `_`.
fn extension_key(out: &mut String, key: &str) {
    if key.is_empty() {
        out.push('_');
    }
    out.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
}

/// An extension value: `\` and `=` escaped, CR and LF as `\r` and `\n`.
fn extension_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}
