//! `http://` and `https://` URLs, taken apart once when the configuration
//! is loaded: the monitor connects to [`HttpUrl::host`] and
//! [`HttpUrl::port`], and the communication matrix lists the same port.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer};

/// An absolute `http://` or `https://` URL with a host and a valid port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    https: bool,
    /// Host name or IP address, without brackets.
    host: String,
    port: u16,
    /// Path and query (origin form), at least `/`.
    path: String,
    /// `user:password` before `@`, sent as Basic authorization.
    userinfo: Option<String>,
}

/// Why a text is not an [`HttpUrl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidUrl(String);

impl HttpUrl {
    /// Parses an absolute `http(s)://` URL; the fragment is dropped.
    pub fn parse(url: &str) -> Result<HttpUrl, InvalidUrl> {
        let err = |m: String| InvalidUrl(m);
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| err(format!("{url:?} is not an http:// or https:// URL")))?;
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(err(format!(
                "{url:?}: only http:// and https:// are supported"
            )));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_owned()), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| err(format!("{url:?}: unclosed '[' in the host")))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(err(format!("{url:?}: unexpected text after the host"))),
            };
            (h, port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(err(format!("{url:?} has no host")));
        }
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| {
                err(format!(
                    "{url:?}: invalid port {p:?} (a port is a number from 0 to 65535)"
                ))
            })?,
            None if https => 443,
            None => 80,
        };
        Ok(HttpUrl {
            https,
            host: host.to_owned(),
            port,
            path: origin_form(tail),
            userinfo,
        })
    }

    /// True for `https://`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// Host name or IP address, without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: written, or 80/443.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Path and query (origin form), at least `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `user:password` written before `@`, if any.
    pub fn userinfo(&self) -> Option<&str> {
        self.userinfo.as_deref()
    }

    /// The URL `location` points to from this one (absolute, scheme-relative,
    /// absolute path or relative path), as a redirect's `Location` is read.
    pub fn join(&self, location: &str) -> Result<HttpUrl, InvalidUrl> {
        let location = location.trim();
        let lower = location.get(..8).unwrap_or(location).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return HttpUrl::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return HttpUrl::parse(&format!("{}://{rest}", self.scheme()));
        }
        if location.contains("://") {
            return Err(InvalidUrl(format!(
                "unsupported redirect target {location:?}"
            )));
        }
        let path = if location.starts_with('/') {
            origin_form(location)
        } else {
            let base = self.path.split(['?', '#']).next().unwrap_or("/");
            let dir = base.rsplit_once('/').map_or("", |(d, _)| d);
            origin_form(&format!("{dir}/{location}"))
        };
        Ok(HttpUrl {
            path,
            ..self.clone()
        })
    }

    /// The `Host` header: the host, and the port when not the default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == if self.https { 443 } else { 80 } {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for HttpUrl {
    /// The URL written out again, without credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme(), self.host_header(), self.path)
    }
}

impl FromStr for HttpUrl {
    type Err = InvalidUrl;

    fn from_str(s: &str) -> Result<Self, InvalidUrl> {
        HttpUrl::parse(s)
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        HttpUrl::parse(&s).map_err(|e| {
            de::Error::custom(format!(
                "{e}; expected an http:// or https:// URL with a host, like \"https://shop.example.test/health\""
            ))
        })
    }
}

/// `tail` (what follows the authority) as a request target: fragment
/// dropped, `/` prepended when missing.
fn origin_form(tail: &str) -> String {
    let tail = tail.split('#').next().unwrap_or("");
    if tail.starts_with('/') {
        tail.to_owned()
    } else {
        format!("/{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = HttpUrl::parse("https://shop.example.test/health?x=1#frag").unwrap();
        assert!(u.is_https());
        assert_eq!(u.host(), "shop.example.test");
        assert_eq!(u.port(), 443);
        assert_eq!(u.path(), "/health?x=1");
        assert_eq!(u.host_header(), "shop.example.test");
        let u = HttpUrl::parse("http://u:p@[::1]:8080").unwrap();
        assert_eq!((u.host(), u.port(), u.path()), ("::1", 8080, "/"));
        assert_eq!(u.userinfo(), Some("u:p"));
        assert_eq!(u.host_header(), "[::1]:8080");
        assert_eq!(u.to_string(), "http://[::1]:8080/");
        let u = HttpUrl::parse("HTTP://h.test?q").unwrap();
        assert_eq!(u.path(), "/?q");
        assert_eq!(
            HttpUrl::parse("http://127.0.0.1:8080/x?y").unwrap().host(),
            "127.0.0.1"
        );
        assert_eq!(HttpUrl::parse("http://u:p@h.test:1/x").unwrap().port(), 1);
        assert_eq!(HttpUrl::parse("https://h.test/x:9").unwrap().port(), 443);
        assert_eq!(HttpUrl::parse("http://[::1]/").unwrap().port(), 80);
        for bad in [
            "ftp://h/",
            "h.test",
            "http://",
            "http://h:99999/",
            "http://h:-1/",
            "http://[::1/",
            "http://[::1]x/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirects_join() {
        let base = HttpUrl::parse("https://a.test:8443/x/y?z").unwrap();
        assert_eq!(
            base.join("/p").unwrap().to_string(),
            "https://a.test:8443/p"
        );
        assert_eq!(
            base.join("q?r").unwrap().to_string(),
            "https://a.test:8443/x/q?r"
        );
        assert_eq!(
            base.join("//b.test/c").unwrap().to_string(),
            "https://b.test/c"
        );
        assert_eq!(
            base.join("http://c.test/").unwrap().to_string(),
            "http://c.test/"
        );
        assert!(base.join("ftp://c.test/").is_err());
    }
}
