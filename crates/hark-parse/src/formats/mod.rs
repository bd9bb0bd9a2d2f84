//! The built-in formats, by name, and the order `auto` checks them in.

use std::sync::Arc;

use crate::Format;

pub mod cef;
pub mod cisco;
pub mod fortigate;
pub mod json;
pub mod kv;
pub mod leef;
pub mod linux_auth;
pub mod panos;
pub mod windows;

/// The names of the built-in formats, as inputs' `parsers` lists use them.
pub const BUILTIN: &[&str] = &[
    "fortigate",
    "panos",
    "cisco",
    "cef",
    "leef",
    "linux_auth",
    "windows",
    "json",
    "kv",
];

/// The built-in format called `name`.
pub fn builtin(name: &str) -> Option<Arc<dyn Format>> {
    let format: Arc<dyn Format> = match name {
        "fortigate" => Arc::new(fortigate::Fortigate),
        "panos" => Arc::new(panos::Panos),
        "cisco" => Arc::new(cisco::Cisco),
        "cef" => Arc::new(cef::Cef),
        "leef" => Arc::new(leef::Leef),
        "linux_auth" => Arc::new(linux_auth::LinuxAuth),
        "windows" => Arc::new(windows::Windows),
        "json" => Arc::new(json::Json),
        "kv" => Arc::new(kv::Kv),
        _ => return None,
    };
    Some(format)
}

/// Every built-in format in the order `auto` asks them to claim an event:
/// the formats with a distinctive prefix first, generic `key=value` last.
pub(crate) fn detection_order() -> Vec<Arc<dyn Format>> {
    BUILTIN.iter().filter_map(|name| builtin(name)).collect()
}
