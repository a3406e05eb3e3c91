//! Go's `debug=1` texts: the count profiles (`goroutine profile: total N`, `threadcreate profile: total N`, pprof's
//! `parseGoCount`), and the `#` comment lines Go writes under every record of every `debug=1` profile (heap,
//! goroutine, threadcreate, block, mutex), which name the frames:
//!
//! ```text
//! 3 @ 0x47f729 0x41520d 0x414d31 0x4e7554 0x485881
//! #<TAB>0x4e7553<TAB>main.parkChan+0x33<TAB>godemo/main.go:85
//! ```
//!
//! pprof ignores the comments and shows bare addresses unless it has the binary. We keep them ([`CommentFrames`],
//! keyed by the location address, which is the comment's PC) so reports can name frames without the binary
//! ([`apply_comment_frames`]).

use std::io::Read;
use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashMap;

use super::{Legacy, LegacyError, bad_number, push_addresses, read_maps};
use crate::profile::format::text::{self, Line, Lines};
use crate::profile::format::{Format, SourceInfo};
use crate::profile::{Profile, ProfileBuilder, pb};

static COUNT_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^\t\n\f\r ]+) profile: total [0-9]+$").expect("valid regexp"));

/// The Go count reader takes a text whose first line that is not blank or a comment is `NAME profile: total N`.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    let first = super::head_lines(head, 1 << 12).find(|l| !text::is_space_or_comment(l))?;
    COUNT_START
        .is_match(&String::from_utf8_lossy(first))
        .then_some(Format::GoCount)
}

/// pprof's `parseGoCount`.
pub(crate) fn parse_count<R: Read>(
    mut lines: Lines<R>,
    p: &mut Legacy,
    info: &mut SourceInfo,
) -> Result<(), LegacyError> {
    let mut comments = CommentFrames::default();
    let header = loop {
        match lines.next_line()? {
            None => return Err(LegacyError::plain("no `NAME profile: total N` line")),
            Some(l) if text::is_space_or_comment(l.bytes) => {}
            Some(l) => break (String::from_utf8_lossy(l.bytes).into_owned(), l.no),
        }
    };
    let (header, header_no) = header;
    let Some(c) = COUNT_START.captures(&header) else {
        return Err(LegacyError::at(
            header_no,
            format!("not a Go count profile header: {}", super::quote_str(&header)),
        ));
    };
    let name = c[1].to_string();
    info.detail = format!("{name} profile");
    p.set_period_type(&name, "count");
    p.period = 1;
    p.set_sample_types(&[(&name, "count")]);
    let mut at_sentinel = false;
    while let Some(Line {
        bytes: line,
        no: n,
        terminated,
    }) = lines.next_line()?
    {
        let t = text::trim(line);
        if t.is_empty() {
            continue;
        }
        if t[0] == b'#' {
            comments.line(t, n);
            continue;
        }
        if line.starts_with(b"---") {
            at_sentinel = text::is_memory_map_sentinel(line);
            break;
        }
        if !terminated {
            return Err(super::heap::truncated(n));
        }
        let (count, rest) = parse_count_record(line, n)?;
        comments.start_record();
        let mark = p.stack_mark();
        push_addresses(p, rest, n, |_, a| a.wrapping_sub(1))?;
        p.end_sample(mark, &[count], None)
            .map_err(|e| super::heap::line_error(e, n))?;
    }
    read_maps(&mut lines, p, at_sentinel)?;
    p.finalize(true);
    info.comment_frames = comments.finish();
    Ok(())
}

/// `N @ 0x.. 0x..` (pprof's `countRE`; the count as Go's `ParseInt(s, 0, 64)` reads it).
fn parse_count_record(line: &[u8], n: u64) -> Result<(i64, &[u8]), LegacyError> {
    let Some(at) = text::memchr(b'@', line) else {
        return Err(LegacyError::at(
            n,
            format!("record without '@' (no stack): {}", text::quote(line)),
        ));
    };
    let count_text = text::trim(&line[..at]);
    let mut b = count_text;
    text::decimal(&mut b).map_err(|e| bad_number(n, "count", e, line))?;
    if !b.is_empty() {
        return Err(LegacyError::at(n, format!("malformed count in {}", text::quote(line))));
    }
    let count = text::go_parse_int_base0(std::str::from_utf8(count_text).unwrap_or(""))
        .ok_or_else(|| LegacyError::at(n, format!("malformed count in {}", text::quote(line))))?;
    Ok((count, &line[at + 1..]))
}

/// One frame named by a comment line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentFrame {
    /// Function name (`main.run`), without the `+0x..` offset.
    pub function: String,
    /// Source file as Go wrote it.
    pub file: String,
    /// Line number.
    pub line: i64,
    /// Entry address of the physical function (the PC minus the `+0x..` offset Go printed): inlined frames share
    /// their caller's.
    pub entry: Option<u64>,
}

/// The frames the `#` comment lines of a Go `debug=1` text name, by PC (the location address); several lines with
/// one PC are an inline chain, innermost first.
#[derive(Debug, Clone, Default)]
pub struct CommentFrames {
    by_pc: FxHashMap<u64, Vec<CommentFrame>>,
    /// Per record, in order: the PCs of the first and last frame its comment block names.
    blocks: Vec<Option<(u64, u64)>>,
    /// The PC of the previous comment line, its line number, and whether its frames are being collected (the first
    /// block that names a PC is the one kept).
    last: Option<(u64, u64, bool)>,
}

impl CommentFrames {
    /// A record starts: the comment lines after it belong to it.
    pub(crate) fn start_record(&mut self) {
        self.blocks.push(None);
        self.last = None;
    }

    /// Reads one comment line (`#\t0xPC\tfunc+0xOFF\tfile:line`); other comments are ignored.
    pub(crate) fn line(&mut self, line: &[u8], n: u64) {
        let Some(frame) = parse_comment(line) else {
            self.last = None;
            return;
        };
        let (pc, f) = frame;
        if f.is_some()
            && let Some(b) = self.blocks.last_mut()
        {
            match b {
                None => *b = Some((pc, pc)),
                Some((_, last)) => *last = pc,
            }
        }
        let continues = matches!(self.last, Some((lpc, ln, _)) if lpc == pc && ln + 1 == n);
        let collecting = if continues {
            self.last.is_some_and(|(_, _, c)| c)
        } else {
            !self.by_pc.contains_key(&pc)
        };
        self.last = Some((pc, n, collecting));
        if collecting && let Some(f) = f {
            self.by_pc.entry(pc).or_default().push(f);
        }
    }

    /// The PCs of the first and last frame the comments of record `i` name.
    pub fn block(&self, i: usize) -> Option<(u64, u64)> {
        self.blocks.get(i).copied().flatten()
    }

    /// `None` when no comment named a frame.
    pub(crate) fn finish(mut self) -> Option<std::sync::Arc<CommentFrames>> {
        self.by_pc.retain(|_, v| !v.is_empty());
        (!self.by_pc.is_empty()).then(|| std::sync::Arc::new(self))
    }

    /// The frames named for `pc`.
    pub fn get(&self, pc: u64) -> Option<&[CommentFrame]> {
        self.by_pc.get(&pc).map(Vec::as_slice)
    }

    /// How many PCs are named.
    pub fn len(&self) -> usize {
        self.by_pc.len()
    }

    /// Whether no PC is named.
    pub fn is_empty(&self) -> bool {
        self.by_pc.is_empty()
    }
}

/// `(pc, frame)` of a comment line that names a PC; the frame is `None` for `#\t0xPC` alone (Go could not name it).
fn parse_comment(line: &[u8]) -> Option<(u64, Option<CommentFrame>)> {
    let body = std::str::from_utf8(line.strip_prefix(b"#")?).ok()?.trim();
    let mut it = body.splitn(2, ['\t', ' ']);
    let pc = text::hex_address(it.next()?.as_bytes())?;
    let rest = it.next().unwrap_or("").trim_start();
    if rest.is_empty() {
        return Some((pc, None));
    }
    let (func, rest) = rest.split_once(['\t', ' ']).unwrap_or((rest, ""));
    let (function, entry) = match func.rfind("+0x") {
        Some(i) => (
            &func[..i],
            u64::from_str_radix(&func[i + 3..], 16)
                .ok()
                .and_then(|off| pc.checked_sub(off)),
        ),
        None => (func, None),
    };
    let loc = rest.trim();
    let (file, line) = match loc.rsplit_once(':') {
        Some((f, l)) if l.bytes().all(|c| c.is_ascii_digit()) && !l.is_empty() => (f, l.parse().unwrap_or(0)),
        _ => (loc, 0),
    };
    Some((
        pc,
        Some(CommentFrame {
            function: function.to_string(),
            file: file.to_string(),
            line,
            entry,
        }),
    ))
}

/// A frame's physical-function entry and its name.
type FrameEnd = (Option<u64>, String);

/// Names the frames of `p` that have no lines from the comment frames of its Go `debug=1` text (our addition; see
/// the module docs), and returns how many locations were named. With every frame named this gives the profile Go's
/// own profile.proto writer gives at the same moment:
///
/// - frames Go's printer hid are dropped where Go's proto writer drops them too: `runtime.goexit` below the named
///   frames, and in heap profiles the runtime's allocation frames above them (pprof's heap drop list would drop
///   them once named);
/// - Go writes one PC per inlined frame; consecutive frames of one physical function (equal entry address,
///   different names) become one location with an inline chain, as in the proto, so `(inline)` shows.
pub fn apply_comment_frames(p: Profile, frames: &CommentFrames, heap: bool) -> crate::error::Result<(Profile, usize)> {
    let mut b = ProfileBuilder::from_pb(p.into_pb());
    let n_locs = b.pb_mut().location.len();
    // Per location: (innermost entry and name, outermost entry and name) of its comment frames.
    let mut ends: Vec<Option<(FrameEnd, FrameEnd)>> = vec![None; n_locs];
    let mut named = vec![false; n_locs];
    let mut count = 0;
    let mut flags = [false; 3];
    let mut touched = rustc_hash::FxHashSet::default();
    for li in 0..n_locs {
        let (addr, empty, mapping) = {
            let l = &b.pb_mut().location[li];
            (l.address, l.line.is_empty(), l.mapping_id)
        };
        if !empty {
            named[li] = true;
            continue;
        }
        let Some(fs) = frames.get(addr) else { continue };
        let mut lines = Vec::with_capacity(fs.len());
        for f in fs {
            let id = b.function(&f.function, &f.function, &f.file, 0);
            flags[0] |= !f.function.is_empty();
            flags[1] |= !f.file.is_empty();
            flags[2] |= f.line != 0;
            lines.push(pb::Line {
                function_id: id,
                line: f.line,
                column: 0,
            });
        }
        let (first, last) = (&fs[0], &fs[fs.len() - 1]);
        ends[li] = Some((
            (first.entry, first.function.clone()),
            (last.entry, last.function.clone()),
        ));
        b.pb_mut().location[li].line = lines;
        named[li] = true;
        touched.insert(mapping);
        count += 1;
    }
    if count == 0 {
        return Ok((b.build()?, 0));
    }
    let pb = b.pb_mut();
    let index: FxHashMap<u64, usize> = pb.location.iter().enumerate().map(|(i, l)| (l.id, i)).collect();
    let mut next_id = pb.location.iter().map(|l| l.id).max().unwrap_or(0) + 1;
    let mut merged: FxHashMap<Vec<u64>, u64> = FxHashMap::default();
    let mut new_locations = Vec::new();
    for (si, s) in pb.sample.iter_mut().enumerate() {
        // The frames this record's own comments name: before them (heap) and after them, the printer hid frames.
        let Some((first_pc, last_pc)) = frames.block(si) else {
            continue;
        };
        let addr = |id: &u64| index.get(id).map(|&i| pb.location[i].address);
        let Some(first) = s.location_id.iter().position(|id| addr(id) == Some(first_pc)) else {
            continue;
        };
        let last = s
            .location_id
            .iter()
            .rposition(|id| addr(id) == Some(last_pc))
            .unwrap_or(first);
        if last < first {
            continue;
        }
        s.location_id.truncate(last + 1);
        if heap {
            s.location_id.drain(..first);
        }
        // Inline groups: a frame and its caller in one physical function.
        let ids = std::mem::take(&mut s.location_id);
        let mut i = 0;
        while i < ids.len() {
            let mut j = i;
            while j + 1 < ids.len() {
                let (Some(a), Some(b)) = (
                    index.get(&ids[j]).and_then(|&x| ends[x].as_ref()),
                    index.get(&ids[j + 1]).and_then(|&x| ends[x].as_ref()),
                ) else {
                    break;
                };
                let (outer, inner) = (&a.1, &b.0);
                if outer.0.is_some() && outer.0 == inner.0 && outer.1 != inner.1 {
                    j += 1;
                } else {
                    break;
                }
            }
            if j == i {
                s.location_id.push(ids[i]);
            } else {
                let key = ids[i..=j].to_vec();
                let id = *merged.entry(key).or_insert_with(|| {
                    let id = next_id;
                    next_id += 1;
                    let outer = &pb.location[index[&ids[j]]];
                    let lines = ids[i..=j]
                        .iter()
                        .flat_map(|id| pb.location[index[id]].line.iter().cloned())
                        .collect();
                    new_locations.push(pb::Location {
                        id,
                        mapping_id: outer.mapping_id,
                        address: outer.address,
                        line: lines,
                        is_folded: false,
                    });
                    id
                });
                s.location_id.push(id);
            }
            i = j + 1;
        }
    }
    pb.location.extend(new_locations);
    for m in &mut pb.mapping {
        if touched.contains(&m.id) {
            m.has_functions |= flags[0];
            m.has_filenames |= flags[1];
            m.has_line_numbers |= flags[2];
            m.has_inline_frames = true;
        }
    }
    // Locations no sample uses any more (dropped frames, merged inline frames) go, as pprof's writer drops them.
    let used: rustc_hash::FxHashSet<u64> = pb.sample.iter().flat_map(|s| s.location_id.iter().copied()).collect();
    pb.location.retain(|l| used.contains(&l.id));
    Ok((b.build()?, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines() {
        let (pc, f) = parse_comment(b"#\t0x4e4b13\tmain.growSlice+0x93\theapdemo/main.go:67").unwrap();
        assert_eq!(pc, 0x4e4b13);
        let f = f.unwrap();
        assert_eq!(
            (f.function.as_str(), f.file.as_str(), f.line),
            ("main.growSlice", "heapdemo/main.go", 67)
        );
        assert_eq!(parse_comment(b"#\t0x0"), Some((0, None)));
        assert_eq!(parse_comment(b"# runtime.MemStats"), None);
        assert_eq!(parse_comment(b"# Alloc = 45916632"), None);
    }

    #[test]
    fn inline_chains_are_grouped_and_kept_once() {
        let mut c = CommentFrames::default();
        c.line(b"#\t0x10\tinner+0x1\ta.go:1", 1);
        c.line(b"#\t0x10\touter+0x5\ta.go:9", 2);
        c.line(b"#\t0x20\tmain+0x5\ta.go:20", 3);
        // A later record names 0x10 again: kept as first seen.
        c.line(b"#\t0x10\tinner+0x1\ta.go:1", 10);
        c.line(b"#\t0x10\touter+0x5\ta.go:9", 11);
        let c = c.finish().unwrap();
        let names: Vec<&str> = c.get(0x10).unwrap().iter().map(|f| f.function.as_str()).collect();
        assert_eq!(names, ["inner", "outer"]);
        assert_eq!(c.len(), 2);
    }
}
