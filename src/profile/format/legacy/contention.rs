//! Contention profiles: gperftools' `--- contentionz` and Go's `debug=1` block (`--- contention:`) and mutex
//! (`--- mutex:`) texts, as pprof's `parseContention` reads them.
//!
//! ```text
//! --- mutex:
//! cycles/second=2299999334
//! sampling period=2
//! 206448664 14 @ 0x4e72f3 0x4e72f2 0x4e7f91 0x485881
//! ```
//!
//! Records are `cycles count @ addresses`; values are `contentions/count` and `delay/nanoseconds`, unsampled by
//! the `sampling period` (count × period, cycles × period / GHz). Go's runtime has already scaled mutex records by
//! its sampling fraction, so pprof scales them twice; we do as pprof does (the numbers then equal its own).

use std::io::Read;

use super::{Legacy, LegacyError, bad_number, go_text, push_addresses, read_maps};
use crate::profile::format::text::{self, Line, Lines};
use crate::profile::format::{Format, SourceInfo};

const PREFIXES: [&[u8]; 3] = [b"--- contentionz ", b"--- mutex:", b"--- contention:"];

/// The contention reader takes a text whose first line starts with one of its markers and whose attributes are
/// ones it knows (`format` or `resolution` make it a Java profile).
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    let mut lines = super::head_lines(head, 1 << 12);
    let first = lines.next()?;
    if !PREFIXES.iter().any(|p| first.starts_with(p)) {
        return None;
    }
    for l in lines {
        let l = text::trim(l);
        if text::is_space_or_comment(l) {
            continue;
        }
        if l.starts_with(b"---") {
            break;
        }
        let s = String::from_utf8_lossy(l);
        let Some((k, _)) = s.split_once('=') else { break };
        match k.trim() {
            "cycles/second" | "sampling period" | "ms since reset" | "discarded samples" => {}
            _ => return None,
        }
    }
    Some(Format::Contention)
}

/// pprof's `parseContention`.
pub(crate) fn parse<R: Read>(mut lines: Lines<R>, p: &mut Legacy, info: &mut SourceInfo) -> Result<(), LegacyError> {
    let Some(first) = lines.next_line()? else {
        return Err(LegacyError::plain("empty contention profile"));
    };
    info.detail = String::from_utf8_lossy(text::trim(first.bytes))
        .trim_start_matches("--- ")
        .trim_end_matches(':')
        .to_string();
    p.set_period_type("contentions", "count");
    p.period = 1;
    p.set_sample_types(&[("contentions", "count"), ("delay", "nanoseconds")]);
    let mut cpu_hz: i64 = 0;
    let mut comments = go_text::CommentFrames::default();
    // The attributes, up to the first line that is not one; that line is the first record (or a `---` line).
    let mut pending: Option<(Vec<u8>, u64, bool)> = None;
    while let Some(Line {
        bytes: raw,
        no: n,
        terminated,
    }) = lines.next_line()?
    {
        let line = text::trim(raw);
        if text::is_space_or_comment(line) {
            continue;
        }
        let s = String::from_utf8_lossy(line);
        let attr = if line.starts_with(b"---") {
            None
        } else {
            s.split_once('=')
        };
        let Some((key, val)) = attr else {
            pending = Some((line.to_vec(), n, terminated));
            break;
        };
        let (key, val) = (key.trim(), val.trim());
        let num = || {
            text::go_parse_int_base0(val)
                .ok_or_else(|| LegacyError::at(n, format!("bad value for {key:?}: {}", super::quote_str(val))))
        };
        match key {
            "cycles/second" => cpu_hz = num()?,
            "sampling period" => p.period = num()?,
            "ms since reset" => {
                p.duration_nanos = num()?
                    .checked_mul(1_000_000)
                    .ok_or_else(|| LegacyError::at(n, "ms since reset does not fit in 64 bits as nanoseconds"))?
            }
            "discarded samples" => {}
            _ => {
                return Err(LegacyError::at(
                    n,
                    format!("unknown contention attribute {}", super::quote_str(key)),
                ));
            }
        }
    }
    let mut at_sentinel = false;
    let mut current = pending;
    while let Some((line, n, terminated)) = current.take() {
        let line = text::trim(&line);
        if line.starts_with(b"---") {
            at_sentinel = text::is_memory_map_sentinel(line);
            break;
        }
        if line.first() == Some(&b'#') {
            comments.line(line, n);
        } else if !line.is_empty() {
            if !terminated {
                return Err(super::heap::truncated(n));
            }
            record(p, line, n, cpu_hz)?;
            comments.start_record();
        }
        current = lines.next_line()?.map(|l| (l.bytes.to_vec(), l.no, l.terminated));
    }
    read_maps(&mut lines, p, at_sentinel)?;
    p.finalize(true);
    info.comment_frames = comments.finish();
    Ok(())
}

/// One record, `cycles count @ addresses` (pprof's `parseContentionSample`).
fn record(p: &mut Legacy, line: &[u8], n: u64, cpu_hz: i64) -> Result<(), LegacyError> {
    let Some(at) = text::memchr(b'@', line) else {
        return Err(LegacyError::at(
            n,
            format!("record without '@' (no stack): {}", text::quote(line)),
        ));
    };
    let mut b = &line[..at];
    let mut num = |what| {
        text::skip_blanks(&mut b);
        text::decimal_i64(&mut b).map_err(|e| bad_number(n, what, e, line))
    };
    let mut v1 = num("delay")?;
    let mut v2 = num("count")?;
    if !text::trim(b).is_empty() {
        return Err(LegacyError::at(
            n,
            format!("malformed contention record {}", text::quote(line)),
        ));
    }
    let period = p.period;
    if period > 0 {
        if cpu_hz > 0 {
            let ghz = cpu_hz as f64 / 1e9;
            v1 = super::heap::to_i64(v1 as f64 * period as f64 / ghz)
                .ok_or_else(|| LegacyError::at(n, "delay overflows 64 bits once unsampled"))?;
        }
        v2 = v2
            .checked_mul(period)
            .ok_or_else(|| LegacyError::at(n, "count overflows 64 bits once unsampled"))?;
    }
    let mark = p.stack_mark();
    push_addresses(p, &line[at + 1..], n, |_, a| a.wrapping_sub(1))?;
    p.end_sample(mark, &[v2, v1], None)
        .map_err(|e| super::heap::line_error(e, n))
}
