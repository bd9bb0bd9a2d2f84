//! `[inputs.NAME] type = "file"`: local log files followed as they grow.
//!
//! A file input opens no port: it reads the files its `paths` globs match
//! (minus `exclude`), follows them across rotation and remembers how far
//! it got under the data directory. Every value is checked here, once: the
//! globs compile, the multi-line pattern compiles, the encoding is one
//! `encoding_rs` knows.
//!
//! ```
//! let cfg = hark_config::Config::from_toml_str("hark.toml", r#"
//! [inputs.app]
//! type = "file"
//! paths = ["/var/log/app/**/*.log"]
//! multiline = { start = '^\d{4}-' }
//! encoding = "latin1"
//! "#).unwrap();
//! let app = &cfg.file_inputs["app"];
//! assert_eq!(app.encoding.name(), "windows-1252");
//! assert!(app.multiline.as_ref().unwrap().start.is_match("2026-12-05 boot"));
//! ```

use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use toml::Spanned;
use toml::de::DeTable;

use crate::table::{self, Located, Spans, fields_of};
use crate::units::{ByteSize, HumanDuration, UtcOffset};

/// The `type` of a file input.
pub(crate) const FILE_TYPE: &str = "file";

/// A file input: which files, where to start, how lines become events.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    /// Globs of the files to follow (absolute; `*` stays within one
    /// directory, `**` crosses any number).
    pub paths: Vec<PathGlob>,
    /// Globs of files never read, even when `paths` matches them.
    #[serde(default)]
    pub exclude: Vec<PathGlob>,
    /// Where reading starts in the files present at the input's very first
    /// start; files that appear later are always read from their beginning.
    #[serde(default)]
    pub start_at: StartAt,
    /// Lines joined into one event: a line matching `start` begins a new one.
    #[serde(default)]
    pub multiline: Option<Multiline>,
    /// The files' character encoding (`utf-8` unless set).
    #[serde(default = "default_encoding")]
    pub encoding: TextEncoding,
    /// Longest line kept whole; the rest of a longer line is dropped and the
    /// event flagged `truncated`.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: ByteSize,
    /// How often the globs are matched again to find new files.
    #[serde(default = "default_rescan_interval")]
    pub rescan_interval: HumanDuration,
    /// How long a last line without a newline must stay unchanged before it
    /// is taken as a whole line.
    #[serde(default = "default_partial_line_timeout")]
    pub partial_line_timeout: HumanDuration,
    /// How long a file that no path matches any more (renamed away or
    /// deleted) is kept open once it stops growing; then it is closed.
    #[serde(default = "default_rotate_wait")]
    pub rotate_wait: HumanDuration,
    /// The `app` of every event, when set.
    #[serde(default)]
    pub app: Option<String>,
    /// Offset for timestamps in bodies that carry none.
    #[serde(default)]
    pub timezone: UtcOffset,
    /// The body parsers events go through, in order (`["auto"]` by default).
    #[serde(default = "default_parsers")]
    pub parsers: Vec<String>,
}

/// Where the first read of a file present at the first start begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartAt {
    /// At the first byte: nothing already written is skipped.
    #[default]
    Beginning,
    /// At the end: only what is written from now on.
    End,
}

/// `multiline = { start = '…', timeout = "1s" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multiline {
    /// A line matching this begins a new event; others continue the last.
    pub start: LineStart,
    /// A pending event with no new line for this long is complete.
    #[serde(default = "default_multiline_timeout", with = "duration_secs")]
    pub timeout: Duration,
}

mod duration_secs {
    use std::time::Duration;

    use serde::Deserializer;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        crate::units::duration(d)
    }
}

/// The compiled pattern of `multiline.start`.
#[derive(Debug, Clone)]
pub struct LineStart(regex::Regex);

impl std::ops::Deref for LineStart {
    type Target = regex::Regex;

    fn deref(&self) -> &regex::Regex {
        &self.0
    }
}

impl<'de> Deserialize<'de> for LineStart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        regex::Regex::new(&s).map(LineStart).map_err(|e| {
            de::Error::custom(format!(
                "invalid multiline start pattern {s:?}: {e}; expected a regular expression like '^\\d{{4}}-'"
            ))
        })
    }
}

/// One absolute path glob, checked at load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathGlob(String);

impl PathGlob {
    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for PathGlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !s.starts_with('/') {
            return Err(de::Error::custom(format!(
                "path {s:?} is not absolute; write it from the root, like \"/var/log/*.log\""
            )));
        }
        globset::GlobBuilder::new(&s)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                de::Error::custom(format!(
                    "invalid glob {s:?}: {}; expected a path with *, ?, [..], {{a,b}} or **, like \"/var/log/**/*.log\"",
                    e.kind()
                ))
            })?;
        Ok(PathGlob(s))
    }
}

/// A character encoding `encoding_rs` decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextEncoding(&'static encoding_rs::Encoding);

impl TextEncoding {
    /// UTF-8.
    pub const UTF_8: TextEncoding = TextEncoding(encoding_rs::UTF_8);

    /// The encoding.
    pub fn get(self) -> &'static encoding_rs::Encoding {
        self.0
    }

    /// Its canonical name (`latin1` is `windows-1252`, as in the WHATWG standard).
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl<'de> Deserialize<'de> for TextEncoding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match encoding_rs::Encoding::for_label_no_replacement(s.trim().as_bytes()) {
            Some(e) => Ok(TextEncoding(e)),
            None => Err(de::Error::custom(format!(
                "unknown encoding {s:?}; expected a WHATWG label like \"utf-8\", \"latin1\", \
                 \"windows-1252\", \"utf-16le\", \"utf-16be\", \"shift_jis\" or \"gbk\""
            ))),
        }
    }
}

impl FileInput {
    /// Reads the table of file input `name` (its `type` already taken off).
    pub(crate) fn from_table(
        name: &str,
        t: Spanned<DeTable<'_>>,
        spans: &Spans,
    ) -> Result<Self, Located> {
        let at = |key: &str, message: String| spans.error(&["inputs", name, key], message);
        let input: FileInput = table::value(table::node(t)).map_err(|e| {
            table::name_missing_key(e, FILE_TYPE, "input", fields_of::<FileInput>())
        })?;
        if input.paths.is_empty() {
            return Err(at(
                "paths",
                format!(
                    "input `{name}`: paths must name at least one file or glob, e.g. paths = [\"/var/log/*.log\"]"
                ),
            ));
        }
        if input.max_line_bytes.0 < 64 || input.max_line_bytes.0 > 16 * 1024 * 1024 {
            return Err(at(
                "max_line_bytes",
                format!(
                    "input `{name}`: max_line_bytes must be between 64 bytes and 16MiB, e.g. \"64KiB\""
                ),
            ));
        }
        if input.rescan_interval.0.is_zero() {
            return Err(at(
                "rescan_interval",
                format!("input `{name}`: rescan_interval must be more than zero, e.g. \"2s\""),
            ));
        }
        Ok(input)
    }
}

fn default_encoding() -> TextEncoding {
    TextEncoding::UTF_8
}
fn default_max_line_bytes() -> ByteSize {
    ByteSize(64 * 1024)
}
fn default_rescan_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(2))
}
fn default_partial_line_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(5))
}
fn default_rotate_wait() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}
fn default_multiline_timeout() -> Duration {
    Duration::from_secs(1)
}
fn default_parsers() -> Vec<String> {
    vec![crate::parsers::AUTO.to_owned()]
}
