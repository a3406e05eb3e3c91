//! jemalloc's native heap dump (`prof.dump`, jemalloc 4 and 5, what `jeprof` reads; pprof does not):
//!
//! ```text
//! heap_v2/524288
//!   t*: 7: 7931355 [0: 0]            totals over all stacks
//!   t0: 5: 7800000 [0: 0]            totals per thread
//! @ 0x7f74100a2630 0x7f74100a2d21 ...
//!   t*: 1: 65536 [12: 131040]        this stack, all threads: the sample
//!   t0: 1: 65536 [12: 131040]        this stack, thread 0
//!
//! MAPPED_LIBRARIES:
//! <the process's /proc/PID/maps>
//! ```
//!
//! Read as pprof reads the same numbers written in gperftools' form (`heap profile: <t*> @ heap_v2/RATE`, one
//! record per stack with its `t*` counts; `scripts/jeheap-to-gperftools.py`), so both give the same profile: the
//! header's `t*` line decides whether alloc values are separate, records are unsampled at RATE, every address gets
//! -1. The per-thread lines are parsed and checked (each thread once per stack) but, as in jeprof, not summed:
//! jemalloc 5.3 prints re-biased numbers whose per-thread lines need not add up to the `t*` line. The number of
//! threads in the header is kept for `info`.

use std::io::Read;

use super::heap::{self, Sampling};
use super::{Legacy, LegacyError, bad_number, push_addresses, read_maps};
use crate::profile::format::text::{self, Line, Lines};
use crate::profile::format::{Format, SourceInfo};

/// The rate of a `heap_v2/RATE` first line.
fn header_rate(line: &[u8]) -> Option<&[u8]> {
    let rate = text::trim(line).strip_prefix(b"heap_v2/")?;
    (!rate.is_empty() && rate.iter().all(u8::is_ascii_digit)).then_some(rate)
}

/// The jemalloc reader takes a text whose first line is `heap_v2/RATE`.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    header_rate(super::head_lines(head, 1).next()?).map(|_| Format::JemallocHeap)
}

/// A `tN:` or `t*:` line: the thread (`None` for `*`) and its four counts.
type CountsLine = (Option<u64>, [i64; 4]);

/// Parses a `tN:` or `t*:` line (`None` when the line is not one).
fn counts_line(t: &[u8], n: u64) -> Result<Option<CountsLine>, LegacyError> {
    let Some(rest) = t.strip_prefix(b"t") else {
        return Ok(None);
    };
    let (thread, rest) = if let Some(r) = rest.strip_prefix(b"*") {
        (None, r)
    } else {
        let mut b = rest;
        let id = text::decimal(&mut b).map_err(|e| bad_number(n, "thread number", e, t))?;
        (Some(id), b)
    };
    let Some(rest) = rest.strip_prefix(b":") else {
        return Err(LegacyError::at(
            n,
            format!("expected ':' after the thread in {}", text::quote(t)),
        ));
    };
    let (counts, tail) = heap::parse_pairs(rest, t, n)?;
    if !text::trim(tail).is_empty() {
        return Err(LegacyError::at(
            n,
            format!("unexpected text after the counts in {}", text::quote(t)),
        ));
    }
    Ok(Some((thread, counts)))
}

/// Reads a jemalloc `heap_v2` dump.
pub(crate) fn parse<R: Read>(mut lines: Lines<R>, p: &mut Legacy, info: &mut SourceInfo) -> Result<(), LegacyError> {
    let Some(first) = lines.next_line()? else {
        return Err(LegacyError::plain("empty jemalloc heap dump"));
    };
    let rate_text = header_rate(first.bytes).ok_or_else(|| LegacyError::at(1, "not a jemalloc `heap_v2/RATE` line"))?;
    let rate_str = String::from_utf8_lossy(rate_text).into_owned();
    let rate: i64 = rate_str
        .parse()
        .map_err(|_| LegacyError::at(1, format!("sampling rate {rate_str} does not fit in 64 bits")))?;
    if rate <= 0 {
        return Err(LegacyError::at(
            1,
            "sampling rate 0 in `heap_v2/0`: the counts cannot be unsampled",
        ));
    }
    info.detail = format!("heap_v2/{rate}");
    p.period = rate;
    let sampling = Sampling::V2(rate);
    let mut totals: Option<[i64; 4]> = None;
    let mut header_threads = 0usize;
    let mut has_alloc = false;
    // The stack being read: its frame mark, the line of its `@`, its `t*` counts, and the threads seen.
    struct Stack {
        mark: usize,
        line: u64,
        counts: Option<[i64; 4]>,
        threads: Vec<u64>,
    }
    let mut cur: Option<Stack> = None;
    let mut values = Vec::with_capacity(4);
    let mut at_sentinel = false;
    let finish = |p: &mut Legacy, s: Stack, has_alloc: bool, values: &mut Vec<i64>| -> Result<(), LegacyError> {
        let Some(c) = s.counts else {
            return Err(LegacyError::at(s.line, "stack without a `t*:` line"));
        };
        let block = heap::heap_values(c, s.line, sampling, has_alloc, values)?;
        p.end_sample(s.mark, values, Some(block))
            .map_err(|e| heap::line_error(e, s.line))
    };
    let mut header_ids = Vec::new();
    while let Some(Line {
        bytes: raw,
        no: n,
        terminated,
    }) = lines.next_line()?
    {
        let t = text::trim(raw);
        if t.is_empty() {
            continue;
        }
        if text::is_memory_map_sentinel(t) {
            at_sentinel = true;
            break;
        }
        if !terminated {
            return Err(heap::truncated(n));
        }
        if let Some(rest) = t.strip_prefix(b"@") {
            let Some(tot) = totals else {
                return Err(LegacyError::at(n, "stack before the `t*:` totals line"));
            };
            if cur.is_none() && p.samples.is_empty() {
                has_alloc = (tot[2] != tot[0] && tot[2] != 0) || (tot[3] != tot[1] && tot[3] != 0);
                heap::set_types(p, has_alloc);
            }
            if let Some(s) = cur.take() {
                finish(p, s, has_alloc, &mut values)?;
            }
            let mark = p.stack_mark();
            push_addresses(p, rest, n, |_, a| a.wrapping_sub(1))?;
            cur = Some(Stack {
                mark,
                line: n,
                counts: None,
                threads: Vec::new(),
            });
            continue;
        }
        let Some((thread, counts)) = counts_line(t, n)? else {
            return Err(LegacyError::at(
                n,
                format!("unexpected line in a jemalloc heap dump: {}", text::quote(t)),
            ));
        };
        match (&mut cur, thread) {
            (None, None) if totals.is_none() => totals = Some(counts),
            (None, None) => return Err(LegacyError::at(n, "a second `t*:` totals line")),
            (None, Some(id)) => {
                if totals.is_none() {
                    return Err(LegacyError::at(n, "thread line before the `t*:` totals line"));
                }
                if header_ids.contains(&id) {
                    return Err(LegacyError::at(n, format!("thread {id} listed twice in the totals")));
                }
                header_ids.push(id);
                header_threads += 1;
            }
            (Some(s), None) => {
                if s.counts.is_some() {
                    return Err(LegacyError::at(n, "a second `t*:` line for one stack"));
                }
                if !s.threads.is_empty() {
                    return Err(LegacyError::at(n, "`t*:` line after the stack's thread lines"));
                }
                s.counts = Some(counts);
            }
            (Some(s), Some(id)) => {
                if s.counts.is_none() {
                    return Err(LegacyError::at(n, "thread line before the stack's `t*:` line"));
                }
                if s.threads.contains(&id) {
                    return Err(LegacyError::at(n, format!("thread {id} listed twice for one stack")));
                }
                s.threads.push(id);
            }
        }
    }
    if totals.is_none() {
        return Err(LegacyError::plain("no `t*:` totals line"));
    }
    if p.sample_types.is_empty() {
        let tot = totals.unwrap_or_default();
        has_alloc = (tot[2] != tot[0] && tot[2] != 0) || (tot[3] != tot[1] && tot[3] != 0);
        heap::set_types(p, has_alloc);
    }
    if let Some(s) = cur.take() {
        finish(p, s, has_alloc, &mut values)?;
    }
    if !at_sentinel {
        return Err(LegacyError::plain(
            "no MAPPED_LIBRARIES: section (jemalloc always writes one: a truncated dump?)",
        ));
    }
    read_maps(&mut lines, p, true)?;
    p.finalize(true);
    info.threads = Some(header_threads);
    Ok(())
}
