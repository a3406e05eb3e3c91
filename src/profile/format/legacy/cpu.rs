//! gperftools' binary CPU profile (and Go's before 1.9), as pprof's `parseCPU` reads it, in all four word layouts
//! (32 or 64 bits, little or big endian; the first that gives the header wins, in pprof's order).
//!
//! Words: a header `0 3 0 period_us 0` (third word 1: a Java CPU profile), then records `count depth pc...`, ended
//! by `0 1 0`; the text after it is the process's maps. Values are `samples/count` and `cpu/nanoseconds` (count ×
//! period); every frame but the leaf is a return address and gets -1. Then pprof's two clean-ups: a second frame
//! shared by nearly all samples is a signal-handler artefact and goes (up to twice), and a second frame equal to
//! the leaf minus one is the leaf seen twice.

use std::io::Read;

use super::{Legacy, LegacyError, java, maps, thread};
use crate::profile::format::text::Lines;
use crate::profile::format::{Format, SourceInfo};

/// A word layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub size: usize,
    pub big_endian: bool,
}

impl Layout {
    /// pprof's order: `get32l`, `get32b`, `get64l`, `get64b`.
    const ALL: [Layout; 4] = [
        Layout {
            size: 4,
            big_endian: false,
        },
        Layout {
            size: 4,
            big_endian: true,
        },
        Layout {
            size: 8,
            big_endian: false,
        },
        Layout {
            size: 8,
            big_endian: true,
        },
    ];

    #[inline]
    fn word(self, b: &[u8], i: usize) -> Option<u64> {
        let w = b.get(i * self.size..(i + 1) * self.size)?;
        let mut v = 0u64;
        if self.big_endian {
            for &c in w {
                v = (v << 8) | u64::from(c);
            }
        } else {
            for &c in w.iter().rev() {
                v = (v << 8) | u64::from(c);
            }
        }
        Some(v)
    }

    fn describe(self) -> String {
        format!(
            "{}-bit {}",
            self.size * 8,
            if self.big_endian { "big-endian" } else { "little-endian" }
        )
    }
}

/// The layout whose first five words are a CPU header (period not checked), and whether it is Java's.
fn header(b: &[u8]) -> Option<(Layout, bool)> {
    Layout::ALL.into_iter().find_map(|l| {
        let w: Vec<u64> = (0..5).map(|i| l.word(b, i)).collect::<Option<_>>()?;
        (w[0] == 0 && w[1] == 3 && w[2] <= 1 && w[4] == 0).then_some((l, w[2] == 1))
    })
}

/// The CPU reader takes data that starts with a CPU header in one of the four layouts.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    let (_, java) = header(head)?;
    Some(if java { Format::JavaCpu } else { Format::CpuProfile })
}

/// Binary data too short for a CPU header whose complete words match one so far (`0 3 ...`).
pub(crate) fn truncated_header(b: &[u8]) -> bool {
    Layout::ALL.into_iter().any(|l| {
        let words = (b.len() / l.size).min(5);
        b.len() < 5 * l.size
            && words >= 2
            && (0..words).all(|i| {
                let w = l.word(b, i).unwrap_or(u64::MAX);
                match i {
                    0 | 4 => w == 0,
                    1 => w == 3,
                    2 => w <= 1,
                    _ => true,
                }
            })
    })
}

/// pprof's `parseCPU` (`cpuProfile` / `javaCPUProfile`).
pub(crate) fn parse<R: Read>(lines: Lines<R>, p: &mut Legacy, info: &mut SourceInfo) -> Result<(), LegacyError> {
    let data = lines.rest()?;
    let Some((layout, is_java)) = header(&data) else {
        return Err(LegacyError::plain("not a CPU profile header"));
    };
    info.detail = layout.describe();
    let ws = layout.size;
    let period_us = layout.word(&data, 3).unwrap_or(0);
    if period_us == 0 {
        return Err(LegacyError::plain("CPU profile header has sampling period 0"));
    }
    let period = i64::try_from(period_us)
        .ok()
        .and_then(|v| v.checked_mul(1000))
        .ok_or_else(|| {
            LegacyError::plain(format!(
                "CPU profile sampling period {period_us} µs does not fit in 64 bits as nanoseconds"
            ))
        })?;
    p.period = period;
    p.set_period_type("cpu", "nanoseconds");
    p.set_sample_types(&[("samples", "count"), ("cpu", "nanoseconds")]);
    let rest = samples(&data, 5 * ws, layout, !is_java, p)?;
    let rest = &data[rest..];
    if is_java {
        return java::locations(rest, p);
    }
    strip_signal_frames(p);
    let text = String::from_utf8_lossy(rest);
    let mut parser = maps::MapsParser::default();
    for (i, l) in text.split('\n').enumerate() {
        let l = l.strip_suffix('\r').unwrap_or(l);
        parser
            .line(l.as_bytes(), i as u64 + 1)
            .map_err(|e| LegacyError::plain(format!("maps after the CPU samples: {e}")))?;
    }
    p.mappings.append(&mut parser.mappings);
    p.finalize(true);
    thread::cleanup_duplicate_locations(p);
    Ok(())
}

/// pprof's `parseCPUSamples` from byte `pos`: the records up to the `0 1 0` trailer (or the end). Returns where the
/// text after the trailer starts.
fn samples(data: &[u8], mut pos: usize, l: Layout, adjust: bool, p: &mut Legacy) -> Result<usize, LegacyError> {
    let ws = l.size;
    let period = p.period;
    while pos < data.len() {
        let at = pos;
        let remaining = (data.len() - pos) / ws;
        if remaining < 2 {
            return Err(LegacyError::plain(format!(
                "truncated CPU profile: record at byte {at} ends inside its header"
            )));
        }
        let count = word_at(data, pos, l);
        let depth = word_at(data, pos + ws, l);
        pos += 2 * ws;
        let avail = ((data.len() - pos) / ws) as u64;
        if depth > avail {
            return Err(LegacyError::plain(format!(
                "truncated CPU profile: record at byte {at} claims {depth} frames but only {avail} words remain"
            )));
        }
        let depth = depth as usize;
        if count == 0 && depth == 1 && word_at(data, pos, l) == 0 {
            return Ok(pos + ws);
        }
        let count = i64::try_from(count).map_err(|_| {
            LegacyError::plain(format!(
                "CPU profile record at byte {at}: count {count} does not fit in 64 bits"
            ))
        })?;
        let cpu = count.checked_mul(period).ok_or_else(|| {
            LegacyError::plain(format!(
                "CPU profile record at byte {at}: {count} samples × period overflow 64 bits"
            ))
        })?;
        let mark = p.stack_mark();
        for i in 0..depth {
            let a = word_at(data, pos + i * ws, l);
            p.push_frame(if adjust && i > 0 { a.wrapping_sub(1) } else { a });
        }
        pos += depth * ws;
        p.end_sample(mark, &[count, cpu], None)?;
    }
    Ok(pos)
}

#[inline]
fn word_at(data: &[u8], pos: usize, l: Layout) -> u64 {
    let w = &data[pos..pos + l.size];
    let mut v = 0u64;
    if l.big_endian {
        for &c in w {
            v = (v << 8) | u64::from(c);
        }
    } else {
        for &c in w.iter().rev() {
            v = (v << 8) | u64::from(c);
        }
    }
    v
}

/// pprof's heuristic: if one address is the second frame of all samples but at most one in 32, it was pushed by
/// the signal handler and is removed (at most twice).
fn strip_signal_frames(p: &mut Legacy) {
    let n = p.samples.len();
    let margin = n / 32;
    for _ in 0..2 {
        let mut counts: rustc_hash::FxHashMap<u64, usize> = rustc_hash::FxHashMap::default();
        for i in 0..n {
            let st = p.stack(i);
            if st.len() > 1 {
                *counts.entry(p.locs[st[1] as usize].address).or_default() += 1;
            }
        }
        let Some((&addr, _)) = counts.iter().find(|&(_, &c)| c >= n - margin) else {
            continue;
        };
        for i in 0..n {
            let st = p.stack(i);
            if st.len() > 1 && p.locs[st[1] as usize].address == addr {
                p.remove_frame(i, 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_every_layout() {
        let words = [0u64, 3, 0, 4000, 0];
        for l in Layout::ALL {
            let mut b = Vec::new();
            for w in words {
                let bytes = w.to_le_bytes();
                let mut v = bytes[..l.size].to_vec();
                if l.big_endian {
                    v.reverse();
                }
                b.extend(v);
            }
            assert_eq!(header(&b).map(|h| h.0), Some(l), "{l:?}");
            assert!(!truncated_header(&b));
            assert!(truncated_header(&b[..b.len() - 1]), "{l:?}");
        }
        assert!(!truncated_header(&[0x0a, 0x04, 0x08, 0x01]));
    }
}
