//! The `cisco` body format on arbitrary bytes, with the application names ASA and FTD messages arrive under (see `body_format.rs`).

#![no_main]

#[path = "body_format.rs"]
mod body_format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    body_format::check(
        "cisco",
        &[
            "ASA",
            "%ASA-6-302013",
            "%FTD-4-106023",
            "%ASA-session-6-302014",
        ],
        &[],
        data,
    );
});
