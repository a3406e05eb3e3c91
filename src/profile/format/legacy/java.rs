//! Java heap and contention profiles (`--- heapz 1 ---`, `--- contentionz 1 ---` with `format = java`) and the
//! symbol section of Java CPU profiles, as pprof's `legacy_java_profile.go` reads them: attributes, then
//! `value count @ addresses` records (no return-address adjustment), then `0xADDR function (file:line)` lines that
//! name the addresses. Addresses are cleared at the end (pprof's `Aggregate`, for merging).

use std::io::Read;
use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashMap;

use super::{Legacy, LegacyError, heap, text};
use crate::profile::format::Format;
use crate::profile::format::text::Lines;

static ATTRIBUTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([0-9A-Za-z_ ]+)=([0-9A-Za-z_ ]+)").expect("valid regexp"));
static SAMPLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r" *([0-9]+) +([0-9]+) +@ +([ x0-9a-f]*)").expect("valid regexp"));
static LOCATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\t\n\f\r ]*0x([[:xdigit:]]+)[\t\n\f\r ]+(.*)[\t\n\f\r ]*$").expect("valid regexp"));
static FILE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(.*)[\t\n\f\r ]+\((.+):(-?[0-9]+)\)$").expect("valid regexp"));
static PATH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(.*)[\t\n\f\r ]+\((.*)\)$").expect("valid regexp"));

/// Which Java profile a first line starts.
fn kind(first: &[u8]) -> Option<Format> {
    match text::trim(first) {
        b"--- heapz 1 ---" => Some(Format::JavaHeap),
        b"--- contentionz 1 ---" => Some(Format::JavaContention),
        _ => None,
    }
}

/// The Java reader takes `--- heapz 1 ---` or `--- contentionz 1 ---` followed by attributes it knows.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    let mut lines = super::head_lines(head, 1 << 12);
    let f = kind(lines.next()?)?;
    if !head.contains(&b'\n') {
        return None;
    }
    for l in lines {
        let l = String::from_utf8_lossy(text::trim(l)).into_owned();
        if l.is_empty() {
            continue;
        }
        match attribute(&l, f) {
            Attr::NotOne => break,
            Attr::Unknown => return None,
            Attr::Known(..) => {}
        }
    }
    Some(f)
}

enum Attr {
    NotOne,
    Unknown,
    Known(String, String),
}

fn attribute(line: &str, f: Format) -> Attr {
    let Some(c) = ATTRIBUTE.captures(line) else {
        return Attr::NotOne;
    };
    let (k, v) = (c[1].trim().to_string(), c[2].trim().to_string());
    let ty = if f == Format::JavaHeap { "heap" } else { "contention" };
    match (ty, k.as_str()) {
        (_, "format") if v != "java" => Attr::Unknown,
        (_, "format")
        | ("heap", "resolution")
        | ("contention", "resolution" | "sampling period" | "ms since reset") => Attr::Known(k, v),
        _ => Attr::Unknown,
    }
}

/// pprof's `parseJavaProfile`.
pub(crate) fn parse<R: Read>(lines: Lines<R>, p: &mut Legacy) -> Result<(), LegacyError> {
    let data = lines.rest()?;
    let text = String::from_utf8_lossy(&data);
    let mut it = text.split_inclusive('\n');
    let Some(f) = it.next().and_then(|l| kind(l.as_bytes())) else {
        return Err(LegacyError::plain("not a Java profile"));
    };
    p.period_type = Some((String::new(), String::new()));
    // Lines that end with a newline (pprof stops at the last one), numbered from 2.
    let body: Vec<&str> = it.collect();
    let mut i = 0;
    while i < body.len() && body[i].ends_with('\n') {
        let n = i as u64 + 2;
        let line = body[i].trim();
        if !line.is_empty() {
            match attribute(line, f) {
                Attr::NotOne => break,
                Attr::Unknown => {
                    return Err(LegacyError::at(
                        n,
                        format!("unknown Java profile attribute {}", super::quote_str(line)),
                    ));
                }
                Attr::Known(k, v) => match (f, k.as_str()) {
                    (Format::JavaHeap, "resolution") => {
                        p.set_sample_types(&[("inuse_objects", "count"), ("inuse_space", &v)]);
                    }
                    (Format::JavaContention, "resolution") => {
                        p.set_sample_types(&[("contentions", "count"), ("delay", &v)]);
                    }
                    (_, "sampling period") => {
                        p.set_period_type("contentions", "count");
                        p.period = text::go_parse_int_base0(&v).ok_or_else(|| {
                            LegacyError::at(n, format!("failed to parse attribute {}", super::quote_str(line)))
                        })?;
                    }
                    (_, "ms since reset") => {
                        let ms = text::go_parse_int_base0(&v).ok_or_else(|| {
                            LegacyError::at(n, format!("failed to parse attribute {}", super::quote_str(line)))
                        })?;
                        p.duration_nanos = ms.wrapping_mul(1_000_000);
                    }
                    _ => {}
                },
            }
        }
        i += 1;
    }
    // Samples.
    while i < body.len() && body[i].ends_with('\n') {
        let n = i as u64 + 2;
        let line = body[i].trim();
        i += 1;
        if line.is_empty() {
            continue;
        }
        let Some(c) = SAMPLE.captures(line) else {
            i -= 1;
            break;
        };
        if p.sample_types.len() != 2 {
            return Err(LegacyError::at(
                n,
                "Java profile record before a `resolution` attribute (no sample types)",
            ));
        }
        let mark = p.stack_mark();
        for tok in text::tokens(c[3].as_bytes()) {
            // pprof's `hexNumberRE` finds the addresses; anything else in the captured text is ignored by it.
            for a in super::thread::hex_numbers(tok, n)? {
                p.push_frame(a);
            }
        }
        let parse = |s: &str| {
            text::go_parse_int_base0(s)
                .ok_or_else(|| LegacyError::at(n, format!("parsing sample {}", super::quote_str(line))))
        };
        let (mut v0, mut v1) = (parse(&c[2])?, parse(&c[1])?);
        let mut bytes = None;
        if f == Format::JavaHeap {
            if v0 == 0 {
                return Err(LegacyError::at(
                    n,
                    format!(
                        "parsing sample {}: second value must be non-zero",
                        super::quote_str(line)
                    ),
                ));
            }
            bytes = Some(v1 / v0);
            (v0, v1) = heap::scale_heap_sample(v0, v1, 524288)
                .ok_or_else(|| LegacyError::at(n, "unsampled value overflows 64 bits"))?;
        } else if p.period != 0 {
            v0 = v0.wrapping_mul(p.period);
            v1 = v1.wrapping_mul(p.period);
        }
        p.end_sample(mark, &[v0, v1], bytes)?;
    }
    let rest: String = body[i.min(body.len())..].concat();
    locations(rest.as_bytes(), p)
}

/// pprof's `parseJavaLocations` on the text after the samples, then the renumbering and `Aggregate`.
pub(crate) fn locations(b: &[u8], p: &mut Legacy) -> Result<(), LegacyError> {
    let text = String::from_utf8_lossy(b);
    let mut fns: FxHashMap<String, u32> = FxHashMap::default();
    for line in text.split('\n') {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(c) = LOCATION.captures(line) else { continue };
        let addr = u64::from_str_radix(&c[1], 16).map_err(|_| {
            LegacyError::plain(format!(
                "parsing sample {}: address does not fit in 64 bits",
                super::quote_str(line)
            ))
        })?;
        let Some(li) = p.location_at(addr) else { continue };
        let rest = &c[2];
        let (func, file, line_no) = if let Some(fl) = FILE_LINE.captures(rest) {
            let n = fl[3].parse::<i64>().ok().filter(|&n| n > 0).unwrap_or(0);
            (fl[1].to_string(), fl[2].to_string(), n)
        } else if let Some(pth) = PATH.captures(rest) {
            let base = pth[2].rsplit('/').next().unwrap_or("").to_string();
            (pth[1].to_string(), if pth[2].is_empty() { ".".into() } else { base }, 0)
        } else if rest.contains("generated stub/JIT") {
            ("STUB".to_string(), String::new(), 0)
        } else {
            (rest.to_string(), String::new(), 0)
        };
        let next = p.functions.len() as u32;
        let fi = *fns.entry(func.clone()).or_insert_with(|| next);
        if fi == next {
            p.functions.push((func, file));
        }
        let loc = &mut p.locs[li as usize];
        loc.line = Some((fi, line_no));
        loc.address = 0;
    }
    p.finalize(false);
    p.clear_addresses = true;
    Ok(())
}
