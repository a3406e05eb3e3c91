//! Thread profiles (`--- threadz N ---` and `--- Thread X (name: n/tid) stack: ---` blocks), as pprof's
//! `parseThread` reads them: one sample of value 1 per thread, `same as previous thread` adds one to the previous
//! sample, and every `0x` number on a stack line is an address (the leaf as is, the others minus 1).

use std::io::Read;
use std::sync::LazyLock;

use regex::Regex;

use super::{Legacy, LegacyError, read_maps};
use crate::profile::format::Format;
use crate::profile::format::text::{self, Line, Lines};

static THREADZ_START: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"--- threadz [0-9]+ ---").expect("valid regexp"));
static THREAD_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"--- Thread ([[:xdigit:]]+) \(name: (.*)/([0-9]+)\) stack: ---").expect("valid regexp")
});

/// The thread reader takes a text whose first line that is not blank or a comment starts a threadz profile or a
/// thread block.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    let first = super::head_lines(head, 1 << 12).find(|l| !text::is_space_or_comment(l))?;
    let s = String::from_utf8_lossy(first);
    (THREADZ_START.is_match(&s) || THREAD_START.is_match(&s)).then_some(Format::Threadz)
}

/// pprof's `parseThread`.
pub(crate) fn parse<R: Read>(mut lines: Lines<R>, p: &mut Legacy) -> Result<(), LegacyError> {
    let mut line = loop {
        match lines.next_line()? {
            None => return Err(LegacyError::plain("empty thread profile")),
            Some(l) if text::is_space_or_comment(l.bytes) => {}
            Some(l) => break l.bytes.to_vec(),
        }
    };
    if THREADZ_START.is_match(&String::from_utf8_lossy(&line)) {
        // Advance over the comments up to the first stack.
        loop {
            match lines.next_line()? {
                None => {
                    line.clear();
                    break;
                }
                Some(l) => {
                    if text::is_memory_map_sentinel(l.bytes) || l.bytes.starts_with(b"-") {
                        line = l.bytes.to_vec();
                        break;
                    }
                }
            }
        }
    }
    p.set_sample_types(&[("thread", "count")]);
    p.set_period_type("thread", "count");
    p.period = 1;
    let mut eof = line.is_empty();
    while !eof && !text::is_memory_map_sentinel(&line) {
        if line.starts_with(b"---- no stack trace for") {
            break;
        }
        let n = lines.line_no();
        if !THREAD_START.is_match(&String::from_utf8_lossy(&line)) {
            return Err(LegacyError::at(
                n,
                format!("expected a `--- Thread ...` line, found {}", text::quote(&line)),
            ));
        }
        let mark = p.stack_mark();
        let mut same_as_previous = false;
        let mut i = 0usize;
        let mut next = None;
        while let Some(Line { bytes: l, no: n, .. }) = lines.next_line()? {
            let t = text::trim(l);
            if t.is_empty() {
                continue;
            }
            if t.starts_with(b"---") {
                next = Some(t.to_vec());
                break;
            }
            if text::contains(t, b"same as previous thread") {
                same_as_previous = true;
                continue;
            }
            for a in hex_numbers(t, n)? {
                p.push_frame(if i > 0 { a.wrapping_sub(1) } else { a });
                i += 1;
            }
        }
        match next {
            Some(l) => line = l,
            None => eof = true,
        }
        if same_as_previous || p.stack_mark() == mark {
            p.stacks.truncate(mark);
            if let Some(last) = p.samples.len().checked_sub(1) {
                p.sample_values_mut(last)[0] += 1;
            }
            continue;
        }
        p.end_sample(mark, &[1], None)?;
    }
    read_maps(&mut lines, p, !eof && text::is_memory_map_sentinel(&line))?;
    p.finalize(true);
    cleanup_duplicate_locations(p);
    Ok(())
}

/// Every `0x[0-9a-f]+` in `s` (pprof's `hexNumberRE`), which must fit 64 bits.
pub(crate) fn hex_numbers(s: &[u8], n: u64) -> Result<Vec<u64>, LegacyError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < s.len() + 1 {
        if s[i] == b'0' && s.get(i + 1) == Some(&b'x') {
            let digits = s[i + 2..]
                .iter()
                .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                .count();
            if digits > 0 {
                let tok = &s[i..i + 2 + digits];
                out.push(text::hex_address(tok).ok_or_else(|| super::bad_address(n, tok))?);
                i += 2 + digits;
                continue;
            }
        }
        i += 1;
    }
    Ok(out)
}

/// pprof's `cleanupDuplicateLocations`: a second frame equal to the leaf minus one is the leaf seen twice (once
/// from the signal context, once unwound) and goes.
pub(crate) fn cleanup_duplicate_locations(p: &mut Legacy) {
    for i in 0..p.samples.len() {
        let st = p.stack(i);
        if st.len() > 1 && p.locs[st[0] as usize].address == p.locs[st[1] as usize].address.wrapping_add(1) {
            p.remove_frame(i, 1);
        }
    }
}
