//! gperftools/tcmalloc heap text (`@ heapprofile`, `@ heap_v2/RATE`, `@ heapz_v2/RATE`), Go's `debug=1` heap text
//! (`@ heap/2*RATE`), growth (`@ growth`) and fragmentation (`@ fragmentation`) profiles: pprof's `parseHeap`.
//!
//! ```text
//! heap profile:    452:  8903611 [  2446: 10949667] @ heapprofile
//!      1:  8388608 [     1:  8388608] @ 0x55c0ffdc5639 0x55c0ffdc51bf ...
//! MAPPED_LIBRARIES:
//! 55c0ffdc5000-55c0ffdc6000 r-xp 00001000 00:00 14327845    /app/legacy/bin/lheap
//! ```
//!
//! Each record is `inuse_count: inuse_bytes [alloc_count: alloc_bytes] @ addresses`. When the header's alloc pair
//! differs from its inuse pair (and is not 0), the profile has four sample types, alloc first; otherwise two,
//! `objects` and `space`. `heap_v2`/`heap` records are unsampled with `1/(1-exp(-avg/rate))` and truncated, as pprof
//! does (with the exponential Go computes on x86-64, [`go_exp`], so the truncated numbers agree to the unit). Every
//! address is a return address: pprof subtracts 1 from each, the leaf included.

use std::io::Read;
use std::sync::LazyLock;

use regex::Regex;

use super::{Legacy, LegacyError, bad_number, go_text};
use crate::profile::format::text::{self, Line, Lines};
use crate::profile::format::{Format, SourceInfo};

static HEAP_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] *@ *(heap[_a-z0-9]*)/?([0-9]*)")
        .expect("valid regexp")
});
static GROWTH_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] @ growthz?").expect("valid regexp")
});
static FRAGMENTATION_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] @ fragmentationz?")
        .expect("valid regexp")
});

/// The first line, after gperftools' `%warn` lines (pprof does not skip those; jeprof does).
fn header_line(head: &[u8]) -> Option<&[u8]> {
    super::head_lines(head, 64).find(|l| !l.starts_with(b"%warn"))
}

/// The heap reader takes the text when its first line is a heap, growth or fragmentation header of a kind pprof
/// knows.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    let line = String::from_utf8_lossy(header_line(head)?);
    if let Some(c) = HEAP_HEADER.captures(&line) {
        return match &c[5] {
            "heapz_v2" | "heap_v2" | "heapprofile" => Some(Format::GperftoolsHeap),
            "heap" => Some(Format::GoHeap),
            _ => None,
        };
    }
    if GROWTH_HEADER.is_match(&line) {
        return Some(Format::Growth);
    }
    if FRAGMENTATION_HEADER.is_match(&line) {
        return Some(Format::Fragmentation);
    }
    None
}

/// How records are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sampling {
    /// As written (`heapprofile`, growth, fragmentation).
    None,
    /// Poisson sampling at this mean interval (`heap_v2`, Go `heap`).
    V2(i64),
}

/// The header of a heap profile: sampling, period, and whether alloc values are separate (`hasAlloc`).
pub(crate) struct Header {
    pub sampling: Sampling,
    pub period: i64,
    pub has_alloc: bool,
}

/// Parses a `heap profile:` header as pprof's `parseHeapHeader` (`None`: not one pprof knows).
pub(crate) fn parse_header(line: &str, line_no: u64) -> Result<Option<Header>, LegacyError> {
    let Some(c) = HEAP_HEADER.captures(line) else {
        return Ok(None);
    };
    let mut rate: i64 = 0;
    if !c[6].is_empty() {
        rate = c[6]
            .parse()
            .map_err(|_| LegacyError::at(line_no, format!("sampling rate {} does not fit in 64 bits", &c[6])))?;
    }
    // pprof compares the numbers as written.
    let has_alloc = (c[3] != c[1] && &c[3] != "0") || (c[4] != c[2] && &c[4] != "0");
    let (sampling, period) = match &c[5] {
        "heapz_v2" | "heap_v2" => (Sampling::V2(rate), rate),
        "heapprofile" => (Sampling::None, 1),
        "heap" => (Sampling::V2(rate / 2), rate / 2),
        _ => return Ok(None),
    };
    if let Sampling::V2(r) = sampling
        && r <= 0
    {
        return Err(LegacyError::at(
            line_no,
            format!(
                "sampling rate {} in {}: the counts cannot be unsampled (sampling was off?)",
                r,
                super::quote_str(c.get(0).map_or("", |m| m.as_str()))
            ),
        ));
    }
    Ok(Some(Header {
        sampling,
        period,
        has_alloc,
    }))
}

/// Sets the sample types of a heap profile.
pub(crate) fn set_types(p: &mut Legacy, has_alloc: bool) {
    p.set_period_type("space", "bytes");
    if has_alloc {
        p.set_sample_types(&[
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes"),
        ]);
    } else {
        p.set_sample_types(&[("objects", "count"), ("space", "bytes")]);
    }
}

/// pprof's `parseHeap`.
pub(crate) fn parse<R: Read + Send>(
    mut lines: Lines<R>,
    p: &mut Legacy,
    info: &mut SourceInfo,
) -> Result<(), LegacyError> {
    let (header, header_no) = loop {
        let Some(l) = lines.next_line()? else {
            return Err(LegacyError::plain("empty heap profile"));
        };
        if !l.bytes.starts_with(b"%warn") {
            break (String::from_utf8_lossy(l.bytes).into_owned(), l.no);
        }
    };
    let (sampling, has_alloc) = if let Some(h) = parse_header(&header, header_no)? {
        p.period = h.period;
        (h.sampling, h.has_alloc)
    } else if GROWTH_HEADER.is_match(&header) || FRAGMENTATION_HEADER.is_match(&header) {
        p.period = 1;
        (Sampling::None, false)
    } else {
        return Err(LegacyError::at(
            header_no,
            format!("not a heap profile header: {}", super::quote_str(&header)),
        ));
    };
    info.detail = HEAP_HEADER
        .captures(&header)
        .map(|c| format!("{}{}{}", &c[5], if c[6].is_empty() { "" } else { "/" }, &c[6]))
        .or_else(|| {
            GROWTH_HEADER
                .find(&header)
                .map(|m| m.as_str().rsplit(' ').next().unwrap_or("").to_string())
        })
        .or_else(|| {
            FRAGMENTATION_HEADER
                .find(&header)
                .map(|m| m.as_str().rsplit(' ').next().unwrap_or("").to_string())
        })
        .unwrap_or_default();
    set_types(p, has_alloc);
    let n_values = if has_alloc { 4 } else { 2 };
    // Two threads: this one reads and parses the text into batches of numbers and addresses, the other gives the
    // addresses their locations (a hash lookup per frame, the larger half of the work) and builds the samples.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Msg, LegacyError>>(4);
    std::thread::scope(|scope| {
        let builder = scope.spawn(move || -> Result<(), LegacyError> {
            for msg in rx {
                match msg? {
                    Msg::Batch(b) => {
                        let mut at = 0;
                        for (i, &len) in b.lens.iter().enumerate() {
                            let mark = p.stack_mark();
                            for &a in &b.addrs[at..at + len as usize] {
                                p.push_frame(a);
                            }
                            at += len as usize;
                            let values = &b.values[i * n_values..(i + 1) * n_values];
                            p.end_sample(mark, values, Some(b.bytes[i]))
                                .map_err(|e| line_error(e, b.line_nos[i]))?;
                        }
                    }
                    Msg::Done(maps, comments) => {
                        p.mappings = maps;
                        p.finalize(true);
                        info.comment_frames = comments.finish();
                        return Ok(());
                    }
                }
            }
            // The reader stopped without a word: it failed and said so on its last message.
            Ok(())
        });
        let read = read_records(&mut lines, sampling, has_alloc, &tx);
        if let Err(e) = read {
            // The builder stops at the first error it receives; a closed channel means it stopped already.
            let _ = tx.send(Err(e));
        }
        drop(tx);
        builder
            .join()
            .unwrap_or_else(|_| Err(LegacyError::plain("internal error: the builder thread panicked")))
    })
}

/// What the reading thread hands the building one.
enum Msg {
    Batch(Batch),
    Done(Vec<super::maps::Mapping>, go_text::CommentFrames),
}

/// Records parsed but not yet built: values (2 or 4 per record), block sizes, and the adjusted addresses of each.
struct Batch {
    values: Vec<i64>,
    bytes: Vec<i64>,
    addrs: Vec<u64>,
    lens: Vec<u32>,
    line_nos: Vec<u64>,
}

/// Records per batch, and addresses at most.
const BATCH: usize = 2048;
const BATCH_ADDRS: usize = 1 << 16;

impl Batch {
    fn new() -> Batch {
        Batch {
            values: Vec::with_capacity(4 * BATCH),
            bytes: Vec::with_capacity(BATCH),
            addrs: Vec::with_capacity(BATCH_ADDRS + 4096),
            lens: Vec::with_capacity(BATCH),
            line_nos: Vec::with_capacity(BATCH),
        }
    }
}

/// The reading half of [`parse`]: records in batches, then the maps and the comment frames.
fn read_records<R: Read>(
    lines: &mut Lines<R>,
    sampling: Sampling,
    has_alloc: bool,
    tx: &std::sync::mpsc::SyncSender<Result<Msg, LegacyError>>,
) -> Result<(), LegacyError> {
    let mut comments = go_text::CommentFrames::default();
    let mut at_sentinel = false;
    let mut values = Vec::with_capacity(4);
    let mut batch = Batch::new();
    let stopped = || LegacyError::plain("stopped");
    while let Some(Line {
        bytes: raw,
        no: n,
        terminated,
    }) = lines.next_line()?
    {
        let line = text::trim(raw);
        if line.is_empty() {
            continue;
        }
        if line[0] == b'#' {
            comments.line(line, n);
            continue;
        }
        if text::is_memory_map_sentinel(line) {
            at_sentinel = true;
            break;
        }
        if !terminated {
            return Err(truncated(n));
        }
        comments.start_record();
        let (rest, bytes) = parse_record(line, n, sampling, has_alloc, &mut values)?;
        let before = batch.addrs.len();
        text::for_each_address(rest, |a| batch.addrs.push(a.wrapping_sub(1)))
            .map_err(|tok| super::bad_address(n, tok))?;
        batch.lens.push((batch.addrs.len() - before) as u32);
        batch.values.extend_from_slice(&values);
        batch.bytes.push(bytes);
        batch.line_nos.push(n);
        if batch.lens.len() >= BATCH || batch.addrs.len() >= BATCH_ADDRS {
            tx.send(Ok(Msg::Batch(std::mem::replace(&mut batch, Batch::new()))))
                .map_err(|_| stopped())?;
        }
    }
    if !batch.lens.is_empty() {
        tx.send(Ok(Msg::Batch(batch))).map_err(|_| stopped())?;
    }
    let maps = super::read_maps_into(lines, at_sentinel)?;
    tx.send(Ok(Msg::Done(maps, comments))).map_err(|_| stopped())?;
    Ok(())
}

/// The error for a record cut by the end of the file.
pub(crate) fn truncated(line_no: u64) -> LegacyError {
    LegacyError::at(line_no, "truncated: the file ends inside this record (no newline)")
}

/// A limit error from building a sample, tied to the line.
pub(crate) fn line_error(mut e: LegacyError, line_no: u64) -> LegacyError {
    e.line.get_or_insert(line_no);
    e
}

/// Parses `inuse_n: inuse_b [alloc_n: alloc_b] @` (pprof's `heapSampleRE`) into `values` (alloc first when
/// `has_alloc`, then inuse), unsampled; returns the text after `@` and the block size.
pub(crate) fn parse_record<'a>(
    line: &'a [u8],
    n: u64,
    sampling: Sampling,
    has_alloc: bool,
    values: &mut Vec<i64>,
) -> Result<(&'a [u8], i64), LegacyError> {
    let (counts, mut b) = parse_pairs(line, line, n)?;
    expect(&mut b, b'@', line, n)?;
    let block = heap_values(counts, n, sampling, has_alloc, values)?;
    Ok((b, block))
}

/// Reads `c` (after blanks) from `b`.
pub(crate) fn expect(b: &mut &[u8], c: u8, line: &[u8], n: u64) -> Result<(), LegacyError> {
    text::skip_blanks(b);
    match b.split_first() {
        Some((&x, rest)) if x == c => {
            *b = rest;
            Ok(())
        }
        _ if c == b'@' && !text::contains(line, b"@") => Err(LegacyError::at(
            n,
            format!("record without '@' (no stack): {}", text::quote(line)),
        )),
        _ => Err(LegacyError::at(
            n,
            format!("expected '{}' in heap record {}", c as char, text::quote(line)),
        )),
    }
}

/// Reads `inuse_n: inuse_b [alloc_n: alloc_b]` at the start of `b` (part of `line`); returns the four numbers and
/// the rest.
pub(crate) fn parse_pairs<'a>(b: &'a [u8], line: &[u8], n: u64) -> Result<([i64; 4], &'a [u8]), LegacyError> {
    let mut b = b;
    let num = |b: &mut &[u8], what: &str| -> Result<i64, LegacyError> {
        text::skip_blanks(b);
        text::decimal_i64(b).map_err(|e| bad_number(n, what, e, line))
    };
    let inuse_n = num(&mut b, "inuse count")?;
    expect(&mut b, b':', line, n)?;
    let inuse_b = num(&mut b, "inuse bytes")?;
    expect(&mut b, b'[', line, n)?;
    let alloc_n = num(&mut b, "alloc count")?;
    expect(&mut b, b':', line, n)?;
    let alloc_b = num(&mut b, "alloc bytes")?;
    expect(&mut b, b']', line, n)?;
    Ok(([inuse_n, inuse_b, alloc_n, alloc_b], b))
}

/// pprof's `addValues` for a record's counts: the values (alloc pair first when `has_alloc`), unsampled, into
/// `values`; returns the block size.
pub(crate) fn heap_values(
    counts: [i64; 4],
    n: u64,
    sampling: Sampling,
    has_alloc: bool,
    values: &mut Vec<i64>,
) -> Result<i64, LegacyError> {
    let [inuse_n, inuse_b, alloc_n, alloc_b] = counts;
    values.clear();
    let mut block = 0;
    let mut add = |count: i64, size: i64, label: &str| -> Result<(), LegacyError> {
        if count == 0 && size != 0 {
            return Err(LegacyError::at(
                n,
                format!("{label} count was 0 but {label} bytes was {size}"),
            ));
        }
        let (mut c, mut s) = (count, size);
        if count != 0 {
            block = size / count;
            if let Sampling::V2(rate) = sampling {
                (c, s) = scale_heap_sample(count, size, rate).ok_or_else(|| {
                    LegacyError::at(
                        n,
                        format!("unsampling {count}: {size} at rate {rate} overflows 64 bits (absurd sampling rate?)"),
                    )
                })?;
            }
        }
        values.push(c);
        values.push(s);
        Ok(())
    };
    if has_alloc {
        add(alloc_n, alloc_b, "allocation")?;
    }
    add(inuse_n, inuse_b, "inuse")?;
    Ok(block)
}

/// pprof's `scaleHeapSample`: `None` when the result does not fit an `i64`.
pub(crate) fn scale_heap_sample(count: i64, size: i64, rate: i64) -> Option<(i64, i64)> {
    if count == 0 || size == 0 {
        return Some((0, 0));
    }
    if rate <= 1 {
        return Some((count, size));
    }
    let avg = size as f64 / count as f64;
    let scale = 1.0 / (1.0 - go_exp(-avg / rate as f64));
    Some((to_i64(count as f64 * scale)?, to_i64(size as f64 * scale)?))
}

/// Go's `int64(f)` for values in range (truncation); `None` outside it.
pub(crate) fn to_i64(f: f64) -> Option<i64> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// Go's `math.Exp` on x86-64 (`exp_amd64.s`, the FMA path every x86-64 CPU of the last decade takes): Shibata's
/// method, not correctly rounded, so pprof's truncated unsampled counts can differ by one from a libm `exp`.
#[allow(clippy::excessive_precision)] // Go's constants as Go writes them (they round to the same f64).
pub fn go_exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2U: f64 = 0.693_147_180_559_662_956_511_601_805_686_950_683_593_75;
    const LN2L: f64 = 0.282_352_905_630_315_771_225_884_481_750_134_360_255_254_120_68e-12;
    const OVERFLOW: f64 = 7.097_827_128_933_84e2;
    const T: [f64; 9] = [
        0.5,
        1.0,
        2.0,
        1.666_666_666_666_666_666_7e-1,
        4.166_666_666_666_666_666_7e-2,
        8.333_333_333_333_333_333_3e-3,
        1.388_888_888_888_888_888_9e-3,
        1.984_126_984_126_984_127e-4,
        2.480_158_730_158_730_158_7e-5,
    ];
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    if x > OVERFLOW {
        return f64::INFINITY;
    }
    let k = x * LOG2E;
    // CVTSD2SL: round to nearest even; out of range gives the "integer indefinite" value.
    let mut bx: i32 = if (-2_147_483_648.0..2_147_483_647.5).contains(&k) {
        k.round_ties_even() as i32
    } else {
        i32::MIN
    };
    let kf = f64::from(bx);
    let mut x0 = (-kf).mul_add(LN2U, x);
    x0 = (-kf).mul_add(LN2L, x0);
    x0 *= 0.0625;
    let mut x1 = T[8];
    for c in [T[7], T[6], T[5], T[4], T[3], T[0], T[1]] {
        x1 = x1.mul_add(x0, c);
    }
    x0 *= x1;
    for _ in 0..3 {
        let y = x0 + T[2];
        x0 *= y;
    }
    let y = x0 + T[2];
    x0 = x0.mul_add(y, T[1]);
    // ldexp
    bx = bx.wrapping_add(0x3ff);
    if bx <= 0 {
        if bx < -52 {
            return 0.0;
        }
        bx += 0x3fe;
        x0 *= f64::from_bits((bx as u64) << 52);
        bx = 1;
    } else if bx >= 0x7ff {
        return f64::INFINITY;
    }
    x0 * f64::from_bits((bx as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_exp_is_close_to_exp() {
        for x in [-1e-9, -0.001, -0.1, -1.0, -7.5, -30.0, -700.0, -740.0, 0.0, 1.0, 5.5] {
            let (g, l) = (go_exp(x), x.exp());
            assert!(
                ((g - l) / l).abs() < 1e-15 || (g == 0.0 && l < 1e-300),
                "{x}: {g} vs {l}"
            );
        }
        assert_eq!(go_exp(-800.0), 0.0);
        assert_eq!(go_exp(710.0), f64::INFINITY);
    }

    #[test]
    fn scaling_as_pprof() {
        // From the golden of lheapxx.heap_v2-524288: `1: 72 [1: 72]` at 524288 gives 7282 / 524324.
        assert_eq!(scale_heap_sample(1, 72, 524288), Some((7282, 524324)));
        assert_eq!(scale_heap_sample(1, 458752, 524288), Some((1, 786695)));
        assert_eq!(scale_heap_sample(3, 300, 1), Some((3, 300)));
        assert_eq!(scale_heap_sample(1, 1, i64::MAX), None);
    }
}
