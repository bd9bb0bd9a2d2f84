//! The `windows` body format on arbitrary bytes, also with the `winlog.*` fields Beats sets (see `body_format.rs`).

#![no_main]

#[path = "body_format.rs"]
mod body_format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    body_format::check(
        "windows",
        &[],
        &[
            "winlog.event_id",
            "winlog.keywords",
            "winlog.event_data.TargetUserName",
            "winlog.event_data.LogonType",
            "winlog.event_data.IpAddress",
            "winlog.event_data.IpPort",
        ],
        data,
    );
});
