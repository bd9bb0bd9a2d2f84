//! The `kv` body format on arbitrary bytes (see `body_format.rs`).

#![no_main]

#[path = "body_format.rs"]
mod body_format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    body_format::check("kv", &[], &[], data);
});
