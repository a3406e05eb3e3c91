//! Reading text profiles a line at a time without holding the whole text, and the number syntax they use.
//!
//! [`Lines`] reads from any [`Read`] (a file, standard input, a gzip stream) into one growing buffer and hands out
//! each line as a byte slice, with its number, as Go's `bufio.Scanner` splits them (a trailing `\r` is dropped).
//! Nothing is copied per line. The total read is bounded (`--max-decompressed`), so a gzip bomb ends with an error.

use std::io::Read;

use crate::error::{Error, ErrorKind, Result};

/// A line as [`Lines::next_line`] returns it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    /// The text, without `\n` (and without a `\r` before it).
    pub bytes: &'a [u8],
    /// Its number, from 1.
    pub no: u64,
    /// Whether it ended with a newline (false only for a last line without one, as in a file cut short).
    pub terminated: bool,
}

/// A line reader over `R`; see the module docs.
pub(crate) struct Lines<R> {
    r: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    eof: bool,
    /// Number of the line last returned (1-based; 0 before the first).
    line_no: u64,
    /// Whether the line last returned ended with `\n` (false only for a last line without one).
    terminated: bool,
    total: u64,
    limit: u64,
}

const CHUNK: usize = 256 << 10;
const FIRST_CHUNK: usize = 16 << 10;

impl<R: Read> Lines<R> {
    /// Lines of `r`, reading at most `limit` bytes in all.
    pub(crate) fn new(r: R, limit: u64) -> Lines<R> {
        Lines {
            r,
            buf: vec![0; FIRST_CHUNK],
            pos: 0,
            end: 0,
            eof: false,
            line_no: 0,
            terminated: true,
            total: 0,
            limit,
        }
    }

    /// The number of the line last returned by [`Lines::next_line`].
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Reads more bytes after `end`, growing the buffer when a line does not fit; false at the end of the input.
    fn fill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() < CHUNK && self.total >= FIRST_CHUNK as u64 {
            // A large input: read in bigger chunks (a small one never pays for the buffer).
            self.buf.resize(CHUNK, 0);
        }
        if self.end == self.buf.len() {
            // A line longer than the buffer: double it.
            let grow = self.buf.len();
            self.buf
                .try_reserve(grow)
                .map_err(|_| Error::new(ErrorKind::Limit, "out of memory holding one line of text"))?;
            self.buf.resize(self.buf.len() + grow, 0);
        }
        loop {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    self.total += n as u64;
                    if self.total > self.limit {
                        return Err(Error::new(
                            ErrorKind::Limit,
                            format!(
                                "the text is longer than the limit of {} bytes (a gzip bomb? raise --max-decompressed)",
                                self.limit
                            ),
                        ));
                    }
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let kind = if e.kind() == std::io::ErrorKind::InvalidInput
                        || e.kind() == std::io::ErrorKind::InvalidData
                    {
                        ErrorKind::Format
                    } else {
                        ErrorKind::Io
                    };
                    return Err(Error::caused_by(kind, "reading", e));
                }
            }
        }
    }

    /// The next line without its `\n` (and without a `\r` before it), or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<Line<'_>>> {
        let mut scanned = self.pos;
        loop {
            if let Some(i) = memchr(b'\n', &self.buf[scanned..self.end]) {
                let nl = scanned + i;
                let start = self.pos;
                self.pos = nl + 1;
                self.line_no += 1;
                self.terminated = true;
                let mut line = &self.buf[start..nl];
                if let [rest @ .., b'\r'] = line {
                    line = rest;
                }
                return Ok(Some(Line {
                    bytes: line,
                    no: self.line_no,
                    terminated: true,
                }));
            }
            let before = self.pos;
            scanned = self.end;
            if !self.fill()? {
                if self.pos == self.end {
                    return Ok(None);
                }
                let start = self.pos;
                self.pos = self.end;
                self.line_no += 1;
                self.terminated = false;
                let mut line = &self.buf[start..self.end];
                if let [rest @ .., b'\r'] = line {
                    line = rest;
                }
                return Ok(Some(Line {
                    bytes: line,
                    no: self.line_no,
                    terminated: false,
                }));
            }
            // `fill` moved the unread bytes to the front.
            scanned -= before - self.pos;
        }
    }

    /// Everything not yet read, up to the limit (for the binary CPU format's trailing maps text).
    pub(crate) fn rest(mut self) -> Result<Vec<u8>> {
        while self.fill()? {}
        self.buf.truncate(self.end);
        self.buf.drain(..self.pos);
        Ok(self.buf)
    }
}

/// Position of the first `b` in `hay`.
#[inline]
pub(crate) fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(b, hay)
}

/// Go's `unicode.IsSpace` for ASCII, which `strings.TrimSpace` and `\s` use.
#[inline]
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `line` without leading and trailing white space.
pub(crate) fn trim(line: &[u8]) -> &[u8] {
    let start = line.iter().position(|&c| !is_space(c)).unwrap_or(line.len());
    let end = line.iter().rposition(|&c| !is_space(c)).map_or(start, |i| i + 1);
    &line[start..end]
}

/// pprof's `isSpaceOrComment`: blank, or `#` after leading white space.
pub(crate) fn is_space_or_comment(line: &[u8]) -> bool {
    matches!(trim(line).first(), None | Some(b'#'))
}

/// pprof's `isMemoryMapSentinel`: the line contains `--- Memory map: ---` or `MAPPED_LIBRARIES:`.
pub(crate) fn is_memory_map_sentinel(line: &[u8]) -> bool {
    static MAPPED: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"MAPPED_LIBRARIES:"));
    static MEMORY_MAP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"--- Memory map: ---"));
    // Both contain `:`, which a stack line has only in its first numbers: look for it first.
    memchr::memchr(b':', line).is_some() && (MAPPED.find(line).is_some() || MEMORY_MAP.find(line).is_some())
}

/// Whether `needle` occurs in `hay`.
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

/// The line as text for an error message: lossy UTF-8, at most 80 characters.
pub(crate) fn quote(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    let mut out: String = s.chars().take(80).collect();
    if s.chars().nth(80).is_some() {
        out.push('…');
    }
    format!("{out:?}")
}

/// Skips spaces and tabs at the start of `b`.
#[inline]
pub(crate) fn skip_blanks(b: &mut &[u8]) {
    while let [c, rest @ ..] = *b {
        if *c == b' ' || *c == b'\t' {
            *b = rest;
        } else {
            break;
        }
    }
}

/// Why a number did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumError {
    /// No digits.
    Missing,
    /// It does not fit in 64 bits.
    Overflow,
    /// A `-` where only non-negative numbers are allowed.
    Negative,
}

/// Reads an unsigned decimal number at the start of `b` (no sign), advancing past it.
#[inline]
pub(crate) fn decimal(b: &mut &[u8]) -> Result<u64, NumError> {
    if b.first() == Some(&b'-') {
        return Err(NumError::Negative);
    }
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return Err(NumError::Missing);
    }
    let mut v: u64 = 0;
    for &c in &b[..n] {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or(NumError::Overflow)?;
    }
    *b = &b[n..];
    Ok(v)
}

/// Reads a non-negative decimal that must fit an `i64`.
#[inline]
pub(crate) fn decimal_i64(b: &mut &[u8]) -> Result<i64, NumError> {
    let v = decimal(b)?;
    i64::try_from(v).map_err(|_| NumError::Overflow)
}

/// Reads one `0x`-prefixed hexadecimal address (up to 64 bits, leading zeros allowed) that must end at white space
/// or the end of `b`. `None` when it is not one.
#[inline]
pub(crate) fn hex_address(tok: &[u8]) -> Option<u64> {
    let digits = tok.strip_prefix(b"0x").or_else(|| tok.strip_prefix(b"0X"))?;
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        if v >> 60 != 0 {
            return None;
        }
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

/// Value of each byte as a hexadecimal digit, 0xff for the others.
static HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Calls `f` with each `0x` address of a space- or tab-separated list; the first token that is not one (or does
/// not fit 64 bits) is returned as the error.
#[inline]
pub(crate) fn for_each_address(b: &[u8], mut f: impl FnMut(u64)) -> Result<(), &[u8]> {
    let mut i = 0;
    let n = b.len();
    while i < n {
        let c = b[i];
        if c == b' ' || c == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        if c != b'0' || i + 1 >= n || (b[i + 1] != b'x' && b[i + 1] != b'X') {
            let end = b[i..]
                .iter()
                .position(|&c| c == b' ' || c == b'\t')
                .map_or(n, |e| i + e);
            return Err(&b[start..end]);
        }
        i += 2;
        let digits = i;
        let mut v: u64 = 0;
        let mut overflow = false;
        while i < n {
            let d = HEX[b[i] as usize];
            if d == 0xff {
                break;
            }
            overflow |= v >> 60 != 0;
            v = (v << 4) | u64::from(d);
            i += 1;
        }
        if i == digits || overflow || (i < n && b[i] != b' ' && b[i] != b'\t') {
            let end = b[i..]
                .iter()
                .position(|&c| c == b' ' || c == b'\t')
                .map_or(n, |e| i + e);
            return Err(&b[start..end]);
        }
        f(v);
    }
    Ok(())
}

/// Splits `b` at spaces and tabs into tokens.
#[inline]
pub(crate) fn tokens(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    b.split(|&c| c == b' ' || c == b'\t').filter(|t| !t.is_empty())
}

/// Go's `strconv.ParseInt(s, 0, 64)` for what the text formats write there: an optional sign, then decimal, `0x`
/// hex, `0o`/leading-`0` octal or `0b` binary digits, with `_` separators not accepted. `None` if it is not one.
pub(crate) fn go_parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= 1 << 63 {
            Some((mag as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(mag).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(text: &[u8], chunk: usize) -> Vec<(u64, String, bool)> {
        // A reader that hands out at most `chunk` bytes at a time, to cross buffer boundaries.
        struct Slow<'a>(&'a [u8], usize);
        impl Read for Slow<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut l = Lines::new(Slow(text, chunk), u64::MAX);
        let mut out = Vec::new();
        while let Some(line) = l.next_line().unwrap() {
            let s = String::from_utf8(line.bytes.to_vec()).unwrap();
            out.push((line.no, s, line.terminated));
        }
        out
    }

    #[test]
    fn splits_lines_like_bufio_scanner() {
        for chunk in [1, 3, 7, 1 << 20] {
            let got = all_lines(b"a\r\n\nbc\nd", chunk);
            assert_eq!(
                got,
                vec![
                    (1, "a".into(), true),
                    (2, "".into(), true),
                    (3, "bc".into(), true),
                    (4, "d".into(), false)
                ]
            );
        }
        // A line longer than the buffer grows it.
        let long = vec![b'x'; 3 * CHUNK + 5];
        let mut text = long.clone();
        text.extend_from_slice(b"\nend\n");
        let got = all_lines(&text, 1 << 16);
        assert_eq!(got[0].1.len(), long.len());
        assert_eq!(got[1], (2, "end".into(), true));
    }

    #[test]
    fn the_limit_is_an_error() {
        let mut l = Lines::new(&b"0123456789\n"[..], 4);
        let e = l.next_line().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Limit);
    }

    #[test]
    fn numbers() {
        let mut b: &[u8] = b"18446744073709551615 x";
        assert_eq!(decimal(&mut b), Ok(u64::MAX));
        assert_eq!(b, b" x");
        assert_eq!(decimal(&mut &b"18446744073709551616"[..]), Err(NumError::Overflow));
        assert_eq!(decimal(&mut &b"-1"[..]), Err(NumError::Negative));
        assert_eq!(decimal_i64(&mut &b"9223372036854775808"[..]), Err(NumError::Overflow));
        assert_eq!(hex_address(b"0xffffffffffffffff"), Some(u64::MAX));
        assert_eq!(hex_address(b"0x0000000000000000001"), Some(1));
        assert_eq!(hex_address(b"0x1ffffffffffffffff"), None);
        assert_eq!(hex_address(b"0x"), None);
        assert_eq!(hex_address(b"0xg1"), None);
        assert_eq!(go_parse_int_base0("010"), Some(8));
        assert_eq!(go_parse_int_base0("09"), None);
        assert_eq!(go_parse_int_base0("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(go_parse_int_base0("2299999334"), Some(2299999334));
        assert_eq!(trim(b" \t a b \r"), b"a b");
    }
}
