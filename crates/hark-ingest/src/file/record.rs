//! A line decoded to text, and the event made of it.

use hark_event::{Event, now_nanos};

use super::lines::Line;

/// One line (or several joined) of one file, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// Byte offset of the first line's start in the file.
    pub offset: u64,
    /// Byte offset just past the last line (its newline included).
    pub end: u64,
    /// The text; invalid sequences are replaced with U+FFFD.
    pub text: String,
    /// The bytes as read, kept only when they did not decode cleanly.
    pub raw: Option<Vec<u8>>,
    /// A line was cut to the limit.
    pub truncated: bool,
}

impl Record {
    /// Decodes `line` from `encoding`.
    pub fn decode(line: Line, encoding: &'static encoding_rs::Encoding) -> Record {
        let Line {
            offset,
            end,
            bytes,
            truncated,
        } = line;
        let (text, raw) = if encoding == encoding_rs::UTF_8 {
            match String::from_utf8(bytes) {
                Ok(text) => (text, None),
                Err(e) => {
                    let bytes = e.into_bytes();
                    (String::from_utf8_lossy(&bytes).into_owned(), Some(bytes))
                }
            }
        } else {
            let (text, had_errors) = encoding.decode_without_bom_handling(&bytes);
            let text = text.into_owned();
            (text, had_errors.then_some(bytes))
        };
        Record {
            offset,
            end,
            text,
            raw,
            truncated,
        }
    }
}

/// What every event of one file input carries besides the line.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    /// The input's name.
    pub input: std::sync::Arc<str>,
    /// This machine's name.
    pub host: String,
    /// The configured `app`, if any.
    pub app: Option<String>,
}

/// ECS: the path of the file the line was read from.
pub(crate) const FILE_PATH: &str = "log.file.path";
/// ECS: the byte offset of the line's start in that file.
pub(crate) const FILE_OFFSET: &str = "log.offset";

impl Stamp {
    /// The event of `record`, read from `path`.
    pub fn event(&self, record: Record, path: &str) -> Event {
        let mut ev = Event::new(now_nanos(), &*self.input);
        ev.host = Some(self.host.clone());
        ev.app = self.app.clone();
        ev.message = record.text;
        ev.raw = record.raw;
        ev.truncated = record.truncated;
        ev.push_field(FILE_PATH, path);
        ev.push_field(
            FILE_OFFSET,
            i64::try_from(record.offset).unwrap_or(i64::MAX),
        );
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(bytes: &[u8]) -> Line {
        Line {
            offset: 7,
            end: 7 + bytes.len() as u64 + 1,
            bytes: bytes.to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn latin1_and_windows_1252_decode_to_text() {
        let enc = encoding_rs::Encoding::for_label(b"latin1").unwrap();
        let r = Record::decode(line(b"caf\xe9 \x80"), enc);
        assert_eq!(r.text, "café €");
        assert_eq!(r.raw, None);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_the_bytes_kept() {
        let r = Record::decode(line(b"ok \xff"), encoding_rs::UTF_8);
        assert_eq!(r.text, "ok \u{fffd}");
        assert_eq!(r.raw.as_deref(), Some(&b"ok \xff"[..]));
    }

    #[test]
    fn the_event_names_its_file_and_offset() {
        let stamp = Stamp {
            input: "files".into(),
            host: "web1".into(),
            app: Some("nginx".into()),
        };
        let r = Record::decode(line(b"GET /"), encoding_rs::UTF_8);
        let ev = stamp.event(r, "/var/log/a.log");
        assert_eq!(ev.message, "GET /");
        assert_eq!(ev.host.as_deref(), Some("web1"));
        assert_eq!(ev.app.as_deref(), Some("nginx"));
        assert_eq!(ev.input, "files");
        assert_eq!(ev.field(FILE_PATH), Some(&"/var/log/a.log".into()));
        assert_eq!(ev.field(FILE_OFFSET), Some(&7i64.into()));
    }
}
