//! Cutting the bytes of one file into lines, without I/O.
//!
//! The splitter is fed the file's bytes in order and knows each line's
//! byte offset. A line ends at LF (in UTF-16, at the LF code unit); a CR
//! before it is dropped. A line longer than the limit is cut: its first
//! `max` bytes become a line flagged `truncated` and the rest, up to the
//! next newline, is skipped (the framer resynchronises at the newline, as
//! tokio's `LinesCodec` does). Bytes after the last newline wait for more;
//! [`LineSplitter::take_partial`] hands them out as a line when the caller
//! decides the line is complete (it stayed unchanged long enough, or the
//! file was rotated away).

/// How a line ends in the file's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Newline {
    /// Byte 0x0A: UTF-8 and every ASCII-compatible encoding (in all of
    /// them, 0x0A never occurs inside a multi-byte character).
    Byte,
    /// The code unit 0x000A, little-endian.
    Utf16Le,
    /// The code unit 0x000A, big-endian.
    Utf16Be,
}

impl Newline {
    /// The newline of `encoding`.
    pub fn of(encoding: &'static encoding_rs::Encoding) -> Newline {
        if encoding == encoding_rs::UTF_16LE {
            Newline::Utf16Le
        } else if encoding == encoding_rs::UTF_16BE {
            Newline::Utf16Be
        } else {
            Newline::Byte
        }
    }

    /// Bytes per code unit.
    fn unit(self) -> usize {
        match self {
            Newline::Byte => 1,
            Newline::Utf16Le | Newline::Utf16Be => 2,
        }
    }

    /// The code units of LF and CR.
    fn lf_cr(self) -> ([u8; 2], [u8; 2]) {
        match self {
            Newline::Byte => ([b'\n', 0], [b'\r', 0]),
            Newline::Utf16Le => ([b'\n', 0], [b'\r', 0]),
            Newline::Utf16Be => ([0, b'\n'], [0, b'\r']),
        }
    }

    /// Where the first LF in `buf` starts (at a code-unit boundary).
    fn find(self, buf: &[u8]) -> Option<usize> {
        match self {
            Newline::Byte => memchr::memchr(b'\n', buf),
            Newline::Utf16Le | Newline::Utf16Be => {
                let (lf, _) = self.lf_cr();
                buf.chunks_exact(2).position(|u| u == lf).map(|i| i * 2)
            }
        }
    }

    /// `line` without a trailing CR.
    fn strip_cr(self, line: &[u8]) -> &[u8] {
        let n = self.unit();
        let (_, cr) = self.lf_cr();
        match line.len().checked_sub(n) {
            Some(at) if line[at..] == cr[..n] => &line[..at],
            _ => line,
        }
    }

    /// The byte-order mark of this encoding family at the start of a file.
    fn bom(self) -> &'static [u8] {
        match self {
            Newline::Byte => b"\xEF\xBB\xBF",
            Newline::Utf16Le => b"\xFF\xFE",
            Newline::Utf16Be => b"\xFE\xFF",
        }
    }
}

/// One line cut from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    /// Byte offset just past what this line consumed (after its newline).
    pub end: u64,
    /// The line's bytes, without newline, CR or byte-order mark.
    pub bytes: Vec<u8>,
    /// The line was longer than the limit and was cut.
    pub truncated: bool,
}

/// Cuts the bytes of one file, fed in order, into lines.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    newline: Newline,
    /// Longest line kept, in bytes (a whole number of code units).
    max: usize,
    /// The bytes after the last newline: the start of a line not yet ended.
    /// Never longer than `max` (beyond that the line is cut).
    partial: Vec<u8>,
    /// File offset of `partial[0]` (or of the next byte when it is empty).
    partial_at: u64,
    /// The current line was cut: bytes up to its newline are skipped.
    discarding: bool,
    /// In UTF-16, the first byte of a code unit whose second has not come.
    odd: Option<u8>,
}

impl LineSplitter {
    /// A splitter whose next byte is at file offset `at`.
    pub fn new(newline: Newline, max_line_bytes: usize, at: u64) -> LineSplitter {
        let unit = newline.unit();
        LineSplitter {
            newline,
            max: (max_line_bytes / unit).max(1) * unit,
            partial: Vec::new(),
            partial_at: at,
            discarding: false,
            odd: None,
        }
    }

    /// The file offset of the first byte not yet part of a line handed out.
    #[cfg(test)]
    pub fn pending_at(&self) -> u64 {
        self.partial_at
    }

    /// Whether bytes of an unfinished line are held.
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty() || self.odd.is_some()
    }

    /// Feeds the next bytes of the file and pushes every completed line to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Line>) {
        if self.newline.unit() == 1 {
            self.feed_units(bytes, out);
            return;
        }
        // Whole code units only: an odd byte waits for its other half.
        let joined;
        let mut data = bytes;
        if let Some(b) = self.odd.take() {
            let mut j = Vec::with_capacity(bytes.len() + 1);
            j.push(b);
            j.extend_from_slice(bytes);
            joined = j;
            data = &joined;
        }
        let whole = data.len() / 2 * 2;
        if whole < data.len() {
            self.odd = Some(data[whole]);
        }
        self.feed_units(&data[..whole], out);
    }

    /// [`LineSplitter::feed`] for bytes that start and end at code-unit boundaries.
    fn feed_units(&mut self, mut bytes: &[u8], out: &mut Vec<Line>) {
        let unit = self.newline.unit();
        while !bytes.is_empty() {
            match (self.newline.find(bytes), self.discarding) {
                // The newline ends the line being skipped: resynchronised.
                (Some(i), true) => {
                    let consumed = i + unit;
                    self.partial_at += consumed as u64;
                    self.discarding = false;
                    bytes = &bytes[consumed..];
                }
                // Still inside the line being skipped: drop everything.
                (None, true) => {
                    self.partial_at += bytes.len() as u64;
                    bytes = &[];
                }
                // The line is too long: cut it at the limit.
                (found, false) if self.partial.len() + found.unwrap_or(bytes.len()) > self.max => {
                    let room = self.max - self.partial.len();
                    self.partial.extend_from_slice(&bytes[..room]);
                    self.cut(out);
                    self.discarding = true;
                    bytes = &bytes[room..];
                }
                // A whole line.
                (Some(i), false) => {
                    self.partial.extend_from_slice(&bytes[..i]);
                    let start = self.partial_at;
                    let end = start + (self.partial.len() + unit) as u64;
                    let line = std::mem::take(&mut self.partial);
                    self.partial_at = end;
                    let kept = self.newline.strip_cr(&line).len();
                    self.emit(start, end, line, kept, false, out);
                    bytes = &bytes[i + unit..];
                }
                // No newline yet: hold the bytes.
                (None, false) => {
                    self.partial.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
        }
    }

    /// Hands out the held bytes as a line of their own (the file stopped
    /// growing without a final newline, or it was rotated away).
    pub fn take_partial(&mut self) -> Option<Line> {
        self.discarding = false;
        if let Some(b) = self.odd.take() {
            self.partial.push(b);
        }
        if self.partial.is_empty() {
            return None;
        }
        let start = self.partial_at;
        let line = std::mem::take(&mut self.partial);
        self.partial_at += line.len() as u64;
        let kept = self.newline.strip_cr(&line).len();
        let mut out = Vec::with_capacity(1);
        self.emit(start, self.partial_at, line, kept, false, &mut out);
        out.pop()
    }

    /// Emits the held `max` bytes as a truncated line; what follows up to the
    /// newline is skipped.
    fn cut(&mut self, out: &mut Vec<Line>) {
        let start = self.partial_at;
        let line = std::mem::take(&mut self.partial);
        self.partial_at += line.len() as u64;
        let kept = line.len();
        self.emit(start, self.partial_at, line, kept, true, out);
    }

    fn emit(
        &self,
        offset: u64,
        end: u64,
        mut bytes: Vec<u8>,
        kept: usize,
        truncated: bool,
        out: &mut Vec<Line>,
    ) {
        bytes.truncate(kept);
        if offset == 0 && bytes.starts_with(self.newline.bom()) {
            bytes.drain(..self.newline.bom().len());
        }
        out.push(Line {
            offset,
            end,
            bytes,
            truncated,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(newline: Newline, max: usize, chunks: &[&[u8]]) -> (Vec<Line>, LineSplitter) {
        let mut s = LineSplitter::new(newline, max, 0);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut out);
        }
        (out, s)
    }

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
            .collect()
    }

    #[test]
    fn lines_carry_their_offsets_across_chunks() {
        let (lines, s) = split(Newline::Byte, 1024, &[b"one\ntw", b"o\nthr", b"ee"]);
        assert_eq!(texts(&lines), ["one", "two"]);
        assert_eq!((lines[0].offset, lines[0].end), (0, 4));
        assert_eq!((lines[1].offset, lines[1].end), (4, 8));
        assert_eq!(s.pending_at(), 8);
        assert!(s.has_partial());
    }

    #[test]
    fn crlf_loses_its_cr_and_a_bare_cr_inside_stays() {
        let (lines, _) = split(Newline::Byte, 1024, &[b"a\r\nb\rc\r\n"]);
        assert_eq!(texts(&lines), ["a", "b\rc"]);
        assert_eq!(lines[1].end, 8);
    }

    #[test]
    fn the_partial_line_is_handed_out_on_request() {
        let (_, mut s) = split(Newline::Byte, 1024, &[b"done\nhalf"]);
        let last = s.take_partial().expect("the partial line");
        assert_eq!(last.bytes, b"half");
        assert_eq!((last.offset, last.end), (5, 9));
        assert_eq!(s.take_partial(), None);
        assert_eq!(s.pending_at(), 9);
    }

    #[test]
    fn an_overlong_line_is_cut_and_the_next_line_is_whole() {
        let long = [b'x'; 100];
        let (lines, s) = split(Newline::Byte, 64, &[&long[..40], &long[40..], b"\nnext\n"]);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].truncated);
        assert_eq!(lines[0].bytes.len(), 64);
        assert_eq!(lines[1].bytes, b"next");
        assert!(!lines[1].truncated);
        assert_eq!(lines[1].offset, 101);
        assert_eq!(s.pending_at(), 106);
    }

    #[test]
    fn an_overlong_line_arriving_at_once_is_cut_too() {
        let mut text = vec![b'y'; 70];
        text.extend_from_slice(b"\nok\n");
        let (lines, _) = split(Newline::Byte, 64, &[&text]);
        assert_eq!(texts(&lines), ["y".repeat(64), "ok".into()]);
        assert!(lines[0].truncated);
    }

    #[test]
    fn utf16_lines_split_on_code_units_even_across_odd_chunks() {
        let text: Vec<u8> = "\u{feff}héllo\r\n\u{0a0a}wörld\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        // Feed one byte at a time: every code unit is split once.
        let chunks: Vec<&[u8]> = text.chunks(1).collect();
        let (lines, _) = split(Newline::Utf16Le, 1024, &chunks);
        let decoded: Vec<String> = lines
            .iter()
            .map(|l| {
                encoding_rs::UTF_16LE
                    .decode_without_bom_handling(&l.bytes)
                    .0
                    .into_owned()
            })
            .collect();
        // U+0A0A contains the byte 0x0A twice, but is no newline.
        assert_eq!(decoded, ["héllo", "\u{0a0a}wörld"]);
        assert_eq!(lines[1].offset, 16);
    }

    #[test]
    fn utf16_big_endian_strips_cr() {
        let text: Vec<u8> = "a\r\nb\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let (lines, _) = split(Newline::Utf16Be, 1024, &[&text]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].bytes, [0, b'a']);
        assert_eq!(lines[1].offset, 6);
    }

    #[test]
    fn a_utf8_bom_is_dropped_from_the_first_line_only() {
        let (lines, _) = split(Newline::Byte, 1024, &[b"\xEF\xBB\xBFfirst\nsecond\n"]);
        assert_eq!(texts(&lines), ["first", "second"]);
        assert_eq!(lines[0].offset, 0);
    }
}
