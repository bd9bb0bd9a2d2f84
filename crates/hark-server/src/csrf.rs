//! Cross-site request forgery: a request that changes something and is
//! authenticated by the session cookie (which browsers attach by
//! themselves) must come from a page of this server.
//!
//! The check is that of Go's `CrossOriginProtection` (also tower-http's
//! `CsrfLayer`): safe methods pass; else `Sec-Fetch-Site` (sent by every
//! current browser) must be `same-origin` or `none`; without it, an
//! `Origin` must name the request's own host; a request with neither is
//! not from a browser and passes. It is a function rather than a layer
//! because it applies only to requests authenticated by the cookie (and
//! to the login form), not to bearer-token requests.

use axum::http::{HeaderMap, Method, header};

/// The 403 message.
pub(crate) const REFUSAL: &str =
    "cross-origin request refused: this action must come from a page of this server";

/// Whether a request with `method` and `headers` must be refused as cross-origin.
pub(crate) fn cross_origin(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    // `scheme://host[:port]`; "null" and anything else is another origin.
    let authority = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .filter(|rest| !rest.contains('/'));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (authority, host) {
        (Some(a), Some(h)) => !a.eq_ignore_ascii_case(h),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn safe_methods_always_pass() {
        let cross = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(!cross_origin(&Method::GET, &cross));
        assert!(!cross_origin(&Method::HEAD, &cross));
        assert!(cross_origin(&Method::POST, &cross));
        assert!(cross_origin(&Method::DELETE, &cross));
        assert!(cross_origin(&Method::PUT, &cross));
        assert!(cross_origin(&Method::PATCH, &cross));
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        for ok in ["same-origin", "none"] {
            let h = headers(&[("sec-fetch-site", ok), ("origin", "https://evil.example")]);
            assert!(!cross_origin(&Method::POST, &h), "{ok}");
        }
        for bad in ["same-site", "cross-site", "whatever"] {
            let h = headers(&[
                ("sec-fetch-site", bad),
                ("origin", "http://hark:8514"),
                ("host", "hark:8514"),
            ]);
            assert!(cross_origin(&Method::POST, &h), "{bad}");
        }
    }

    #[test]
    fn origin_must_match_host_without_fetch_metadata() {
        let same = headers(&[
            ("origin", "http://hark.example:8514"),
            ("host", "hark.example:8514"),
        ]);
        assert!(!cross_origin(&Method::POST, &same));
        let other = headers(&[
            ("origin", "http://evil.example"),
            ("host", "hark.example:8514"),
        ]);
        assert!(cross_origin(&Method::POST, &other));
        let port = headers(&[
            ("origin", "http://hark.example:9999"),
            ("host", "hark.example:8514"),
        ]);
        assert!(cross_origin(&Method::POST, &port));
        let null = headers(&[("origin", "null"), ("host", "hark.example")]);
        assert!(cross_origin(&Method::POST, &null));
        // Neither header: not a browser.
        assert!(!cross_origin(
            &Method::POST,
            &headers(&[("host", "hark.example")])
        ));
    }
}
