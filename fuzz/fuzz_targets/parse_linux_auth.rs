//! The `linux_auth` body format on arbitrary bytes, under each application name it reads (see `body_format.rs`).

#![no_main]

#[path = "body_format.rs"]
mod body_format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    body_format::check(
        "linux_auth",
        &[
            "sshd",
            "sudo",
            "su",
            "su(pam_unix)",
            "useradd",
            "userdel",
            "groupadd",
            "groupdel",
            "passwd",
            "chpasswd",
            "systemd-logind",
        ],
        &[],
        data,
    );
});
