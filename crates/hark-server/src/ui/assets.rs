//! The web UI's static files, compiled into the binary: `ui/static/` at
//! `/static/<version>/…` and `ui/vendor/` at `/static/<version>/vendor/…`.
//! `<version>` is a short hash over every embedded file, so a file's URL
//! changes whenever any file does and browsers may keep each URL forever.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::{EmbeddedFile, RustEmbed};
use sha2::{Digest, Sha256};

/// Hark's own styles and modules.
#[derive(RustEmbed)]
#[folder = "ui/static/"]
struct Own;

/// Third-party files, copied unchanged (see `ui/vendor/README.md`).
#[derive(RustEmbed)]
#[folder = "ui/vendor/"]
struct Vendor;

/// Hex digits of the version hash in asset URLs.
const VERSION_LEN: usize = 12;

/// How long browsers may keep an asset: a year, without revalidating.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The version of the embedded files, computed on first use.
pub(crate) fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut files: Vec<(String, EmbeddedFile)> = Vec::new();
        for name in Own::iter() {
            if let Some(f) = Own::get(&name) {
                files.push((name.into_owned(), f));
            }
        }
        for name in Vendor::iter() {
            if let Some(f) = Vendor::get(&name) {
                files.push((format!("vendor/{name}"), f));
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut hash = Sha256::new();
        for (name, file) in &files {
            hash.update((name.len() as u64).to_le_bytes());
            hash.update(name.as_bytes());
            hash.update((file.data.len() as u64).to_le_bytes());
            hash.update(&file.data);
        }
        let mut hex = hex::encode(hash.finalize());
        hex.truncate(VERSION_LEN);
        hex
    })
}

/// The URL prefix of the embedded files: `/static/<version>`.
pub(crate) fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| format!("/static/{}", version()))
}

/// The embedded file at `path` (`vendor/…` for the third-party ones).
fn lookup(path: &str) -> Option<EmbeddedFile> {
    match path.strip_prefix("vendor/") {
        Some(rest) => Vendor::get(rest),
        None => Own::get(path),
    }
}

/// `GET /static/{version}/{*path}`: the file, cacheable for good; 404 for
/// another version or an unknown file.
pub(crate) async fn serve(Path((v, path)): Path<(String, String)>) -> Response {
    if v != version() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(file) = lookup(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        file.data,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_short_hex_and_stable() {
        let v = version();
        assert_eq!(v.len(), VERSION_LEN);
        assert!(v.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(version(), v);
        assert_eq!(base(), format!("/static/{v}"));
    }

    #[test]
    fn own_and_vendor_files_are_embedded_but_not_the_tests() {
        assert!(lookup("js/search.js").is_some());
        assert!(lookup("css/hark.css").is_some());
        assert!(lookup("vendor/htmx.min.js").is_some());
        assert!(lookup("vendor/uPlot.esm.js").is_some());
        assert!(lookup("test/format.test.mjs").is_none());
        assert!(lookup("package.json").is_none());
        assert!(lookup("../package.json").is_none());
    }
}
