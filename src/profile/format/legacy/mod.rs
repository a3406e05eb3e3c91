//! pprof's legacy profile readers (`profile/legacy_profile.go`, `legacy_java_profile.go`), followed line by line,
//! plus jemalloc's native heap dump, which pprof does not read.
//!
//! Each reader fills a [`Legacy`]: pprof's in-memory profile while it parses (locations by address, samples as
//! lists of locations, the maps section). [`Legacy::finalize`] then does what pprof's `ParseMemoryMapFromScanner`
//! does (merge and reorder mappings, renumber locations in order of first use, attach each location to its
//! mapping), and [`Legacy::into_pb`] makes the profile.proto message.
//!
//! Readers are recognised as pprof recognises them, in pprof's order ([`detect`]), from the first bytes only, so
//! the rest can be read as a stream. Every error names the line (text) or byte offset (binary) it is about.

pub(crate) mod contention;
pub(crate) mod cpu;
pub(crate) mod go_text;
pub(crate) mod heap;
pub(crate) mod java;
pub(crate) mod jemalloc;
pub(crate) mod maps;
pub(crate) mod thread;

use std::fmt;
use std::io::Read;

use rustc_hash::FxHashMap;

use super::text::{self, Lines};
use super::{Format, SourceInfo};
use crate::error::{Error, ErrorKind};
use crate::profile::{ProfileBuilder, pb};
use maps::Mapping;

/// A problem in a legacy profile: a message and, for text, the line.
#[derive(Debug, Clone)]
pub(crate) struct LegacyError {
    pub line: Option<u64>,
    pub msg: String,
    pub kind: ErrorKind,
}

impl LegacyError {
    /// A format error on line `line`.
    pub(crate) fn at(line: u64, msg: impl Into<String>) -> LegacyError {
        LegacyError {
            line: Some(line),
            msg: msg.into(),
            kind: ErrorKind::Format,
        }
    }

    /// A format error not tied to one line.
    pub(crate) fn plain(msg: impl Into<String>) -> LegacyError {
        LegacyError {
            line: None,
            msg: msg.into(),
            kind: ErrorKind::Format,
        }
    }
}

impl fmt::Display for LegacyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.msg),
            None => f.write_str(&self.msg),
        }
    }
}

impl From<Error> for LegacyError {
    fn from(e: Error) -> LegacyError {
        LegacyError {
            line: None,
            msg: e.to_string(),
            kind: e.kind(),
        }
    }
}

impl From<LegacyError> for Error {
    fn from(e: LegacyError) -> Error {
        Error::new(e.kind, e.to_string())
    }
}

/// A string quoted for an error message (at most 80 characters).
pub(crate) fn quote_str(s: &str) -> String {
    text::quote(s.as_bytes())
}

const RECENT_BITS: u32 = 14;
const RECENT: usize = 1 << RECENT_BITS;

/// One location while parsing: its address and, for Java profiles, its one line (function index, line).
#[derive(Debug, Clone, Default)]
pub(crate) struct Loc {
    pub address: u64,
    pub line: Option<(u32, i64)>,
}

/// One sample while parsing: its stack is `stacks[start..start + len]` (location indexes, leaf first), its values
/// `values[n * i..n * (i + 1)]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SampleRec {
    pub start: u32,
    pub len: u32,
    /// The `bytes` numeric label (heap profiles: the block size).
    pub bytes: Option<i64>,
}

/// pprof's profile as its legacy parsers build it; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Legacy {
    pub sample_types: Vec<(String, String)>,
    pub period_type: Option<(String, String)>,
    pub period: i64,
    pub duration_nanos: i64,
    pub drop_frames: &'static str,
    pub keep_frames: &'static str,
    pub locs: Vec<Loc>,
    by_addr: FxHashMap<u64, u32>,
    /// A direct-mapped cache in front of `by_addr`: stacks share most of their frames, and the cache stays in the
    /// processor's cache where the map does not.
    recent: Vec<(u64, u32)>,
    pub samples: Vec<SampleRec>,
    pub stacks: Vec<u32>,
    pub values: Vec<i64>,
    pub mappings: Vec<Mapping>,
    /// Java: functions (name, file), by index.
    pub functions: Vec<(String, String)>,
    /// Each location's mapping (index into `mappings`), set by `finalize`.
    loc_mapping: Vec<Option<u32>>,
    /// Java: addresses are cleared after the symbols are attached (pprof's `Aggregate(..., address=false)`).
    pub clear_addresses: bool,
    /// Estimated memory so far, and the bound.
    memory: u64,
    max_memory: u64,
}

impl Legacy {
    /// An empty profile whose decoded size may reach `max_memory` bytes.
    pub(crate) fn new(max_memory: u64) -> Legacy {
        Legacy {
            max_memory,
            ..Legacy::default()
        }
    }

    /// Sets sample types from (type, unit) pairs.
    pub(crate) fn set_sample_types(&mut self, types: &[(&str, &str)]) {
        self.sample_types = types.iter().map(|(t, u)| (t.to_string(), u.to_string())).collect();
    }

    /// Sets the period type.
    pub(crate) fn set_period_type(&mut self, ty: &str, unit: &str) {
        self.period_type = Some((ty.to_string(), unit.to_string()));
    }

    /// The location at `addr`, added if new.
    #[inline]
    pub(crate) fn location(&mut self, addr: u64) -> u32 {
        if self.recent.is_empty() {
            // Worth its 256 KiB only for a large profile.
            if self.locs.len() < 1024 {
                return self.location_slow(addr);
            }
            self.recent = vec![(u64::MAX, u32::MAX); RECENT];
        }
        let slot = (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - RECENT_BITS)) as usize;
        let (a, id) = self.recent[slot];
        if a == addr && id != u32::MAX {
            return id;
        }
        let id = self.location_slow(addr);
        self.recent[slot] = (addr, id);
        id
    }

    fn location_slow(&mut self, addr: u64) -> u32 {
        let next = self.locs.len() as u32;
        let id = *self.by_addr.entry(addr).or_insert(next);
        if id == next {
            self.locs.push(Loc {
                address: addr,
                line: None,
            });
        }
        id
    }

    /// The location at `addr` if there is one.
    pub(crate) fn location_at(&self, addr: u64) -> Option<u32> {
        self.by_addr.get(&addr).copied()
    }

    /// Appends a frame to the sample being built (see [`Legacy::end_sample`]).
    #[inline]
    pub(crate) fn push_frame(&mut self, addr: u64) {
        let l = self.location(addr);
        self.stacks.push(l);
    }

    /// Where the next sample's frames start.
    #[inline]
    pub(crate) fn stack_mark(&self) -> usize {
        self.stacks.len()
    }

    /// Ends the sample whose frames were pushed since `mark`, with `values` (one per sample type).
    pub(crate) fn end_sample(&mut self, mark: usize, values: &[i64], bytes: Option<i64>) -> Result<(), LegacyError> {
        let len = self.stacks.len() - mark;
        self.values.extend_from_slice(values);
        self.samples.push(SampleRec {
            start: u32::try_from(mark).map_err(|_| too_big())?,
            len: len as u32,
            bytes,
        });
        // The decoded message: a Sample (two vectors and a label) per sample, 8 bytes per frame and value.
        self.charge(160 + 8 * (len + values.len()) as u64)
    }

    /// Accounts for `bytes` more of memory; an error past the bound.
    pub(crate) fn charge(&mut self, bytes: u64) -> Result<(), LegacyError> {
        self.memory = self.memory.saturating_add(bytes);
        if self.memory > self.max_memory || self.stacks.len() >= u32::MAX as usize {
            return Err(LegacyError {
                line: None,
                msg: format!(
                    "decoding needs more than {} bytes of memory (raise --max-memory)",
                    self.max_memory
                ),
                kind: ErrorKind::Limit,
            });
        }
        Ok(())
    }

    /// The frames of sample `i`.
    pub(crate) fn stack(&self, i: usize) -> &[u32] {
        let s = self.samples[i];
        &self.stacks[s.start as usize..(s.start + s.len) as usize]
    }

    /// Removes the frame at `pos` from sample `i`.
    pub(crate) fn remove_frame(&mut self, i: usize, pos: usize) {
        let s = &mut self.samples[i];
        let start = s.start as usize;
        let len = s.len as usize;
        self.stacks.copy_within(start + pos + 1..start + len, start + pos);
        s.len -= 1;
    }

    /// The values of sample `i`.
    pub(crate) fn sample_values_mut(&mut self, i: usize) -> &mut [i64] {
        let n = self.sample_types.len();
        &mut self.values[n * i..n * (i + 1)]
    }

    /// pprof's `ParseMemoryMapFromScanner` after the maps are read: `massageMappings`, `remapLocationIDs`, and
    /// `remapMappingIDs`. With `massage` false (Java), only the renumbering and the mapping step.
    pub(crate) fn finalize(&mut self, massage: bool) {
        if massage {
            maps::massage(&mut self.mappings);
        }
        self.remap_locations();
        let addrs: Vec<u64> = self.locs.iter().map(|l| l.address).collect();
        self.loc_mapping = maps::assign(&mut self.mappings, &addrs);
    }

    /// pprof's `remapLocationIDs`: locations in the order samples first use them; unused ones go.
    fn remap_locations(&mut self) {
        const UNSEEN: u32 = u32::MAX;
        let mut new_id = vec![UNSEEN; self.locs.len()];
        let mut order = Vec::with_capacity(self.locs.len());
        for s in &self.samples {
            for l in &mut self.stacks[s.start as usize..(s.start + s.len) as usize] {
                let n = &mut new_id[*l as usize];
                if *n == UNSEEN {
                    *n = order.len() as u32;
                    order.push(*l);
                }
                *l = *n;
            }
        }
        let old = std::mem::take(&mut self.locs);
        self.locs = order.iter().map(|&i| old[i as usize].clone()).collect();
        self.by_addr.clear();
        self.recent.clear();
    }

    /// The profile.proto message; `finalize` must have run.
    pub(crate) fn into_pb(self) -> pb::Profile {
        let mut b = ProfileBuilder::new();
        for (t, u) in &self.sample_types {
            b.sample_type(t, u);
        }
        if let Some((t, u)) = &self.period_type {
            let vt = b.value_type(t, u);
            b.pb_mut().period_type = Some(vt);
        }
        b.pb_mut().period = self.period;
        b.pb_mut().duration_nanos = self.duration_nanos;
        if !self.drop_frames.is_empty() {
            let i = b.string(self.drop_frames);
            b.pb_mut().drop_frames = i;
        }
        if !self.keep_frames.is_empty() {
            let i = b.string(self.keep_frames);
            b.pb_mut().keep_frames = i;
        }
        for m in &self.mappings {
            b.mapping(m.start, m.limit, m.offset, &m.file, &m.build_id);
        }
        // pprof's `remapFunctionIDs`: functions in the order locations first use them.
        let mut fn_ids: Vec<u64> = vec![0; self.functions.len()];
        let mut next_fn = 1;
        let mut functions = Vec::new();
        for l in &self.locs {
            if let Some((f, _)) = l.line
                && fn_ids[f as usize] == 0
            {
                fn_ids[f as usize] = next_fn;
                next_fn += 1;
                let (name, file) = &self.functions[f as usize];
                let (name, file) = (b.string(name), b.string(file));
                functions.push(pb::Function {
                    id: fn_ids[f as usize],
                    name,
                    system_name: name,
                    filename: file,
                    start_line: 0,
                });
            }
        }
        let mut locations = Vec::with_capacity(self.locs.len());
        for (i, l) in self.locs.iter().enumerate() {
            locations.push(pb::Location {
                id: i as u64 + 1,
                mapping_id: self
                    .loc_mapping
                    .get(i)
                    .copied()
                    .flatten()
                    .map_or(0, |m| u64::from(m) + 1),
                address: if self.clear_addresses { 0 } else { l.address },
                line: l
                    .line
                    .map(|(f, line)| pb::Line {
                        function_id: fn_ids[f as usize],
                        line,
                        column: 0,
                    })
                    .into_iter()
                    .collect(),
                is_folded: false,
            });
        }
        let bytes_key = b.string("bytes");
        let n = self.sample_types.len();
        let mut samples = Vec::with_capacity(self.samples.len());
        for (i, s) in self.samples.iter().enumerate() {
            let stack = &self.stacks[s.start as usize..(s.start + s.len) as usize];
            samples.push(pb::Sample {
                location_id: stack.iter().map(|&l| u64::from(l) + 1).collect(),
                value: self.values[n * i..n * (i + 1)].to_vec(),
                label: s
                    .bytes
                    .map(|v| pb::Label {
                        key: bytes_key,
                        num: v,
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
            });
        }
        let mut out = b.into_pb();
        out.function = functions;
        out.location = locations;
        out.sample = samples;
        out
    }
}

fn too_big() -> LegacyError {
    LegacyError {
        line: None,
        msg: "too many frames (over 2^32)".into(),
        kind: ErrorKind::Limit,
    }
}

/// Which legacy reader takes a text or binary, decided from its first bytes as pprof's parsers decide (in pprof's
/// order: CPU, heap/growth, Go count, threadz, contention, Java); jemalloc's dump after the heap reader.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    if let Some(f) = cpu::detect(head) {
        return Some(f);
    }
    if !looks_like_text(head) {
        return None;
    }
    heap::detect(head)
        .or_else(|| jemalloc::detect(head))
        .or_else(|| go_text::detect(head))
        .or_else(|| thread::detect(head))
        .or_else(|| contention::detect(head))
        .or_else(|| java::detect(head))
}

/// Text, not binary: no control characters other than white space (a profile.proto message has many).
pub(crate) fn looks_like_text(head: &[u8]) -> bool {
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A character cut by the end of the first bytes.
        Err(e) => e.error_len().is_none(),
    };
    utf8 && !head.is_empty()
        && head
            .iter()
            .all(|&c| c >= 0x20 || matches!(c, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}

/// The first lines of `head` (at most `n`), as pprof's scanner splits them; the last may be cut by the end of
/// `head`.
pub(crate) fn head_lines(head: &[u8], n: usize) -> impl Iterator<Item = &[u8]> {
    head.split(|&c| c == b'\n')
        .take(n)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Reads a legacy profile of format `format` from `r` (whose first bytes were `detect`ed).
pub(crate) fn parse<R: Read + Send>(
    format: Format,
    r: R,
    max_bytes: u64,
    max_memory: u64,
) -> Result<(pb::Profile, SourceInfo), LegacyError> {
    let mut info = SourceInfo::new(format);
    let lines = Lines::new(r, max_bytes);
    let mut p = Legacy::new(max_memory);
    match format {
        Format::CpuProfile | Format::JavaCpu => cpu::parse(lines, &mut p, &mut info)?,
        Format::GperftoolsHeap | Format::GoHeap | Format::Growth | Format::Fragmentation => {
            heap::parse(lines, &mut p, &mut info)?
        }
        Format::JemallocHeap => jemalloc::parse(lines, &mut p, &mut info)?,
        Format::GoCount => go_text::parse_count(lines, &mut p, &mut info)?,
        Format::Threadz => thread::parse(lines, &mut p)?,
        Format::Contention => contention::parse(lines, &mut p, &mut info)?,
        Format::JavaHeap | Format::JavaContention => java::parse(lines, &mut p)?,
        Format::Proto => unreachable!("not a legacy format"),
    }
    p.drop_frames_for_kind();
    Ok((p.into_pb(), info))
}

impl Legacy {
    /// pprof's `addLegacyFrameInfo`: drop/keep frame lists by profile kind.
    fn drop_frames_for_kind(&mut self) {
        let types: Vec<&str> = self.sample_types.iter().map(|(t, _)| t.as_str()).collect();
        const HEAP: &[&[&str]] = &[
            &["allocations", "size"],
            &["objects", "space"],
            &["inuse_objects", "inuse_space"],
            &["alloc_objects", "alloc_space"],
            &["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"],
        ];
        if HEAP.contains(&types.as_slice()) {
            self.drop_frames = ALLOC_RX;
            self.keep_frames = ALLOC_SKIP_RX;
        } else if types == ["contentions", "delay"] {
            self.drop_frames = LOCK_RX;
            self.keep_frames = "";
        } else {
            self.drop_frames = CPU_PROFILER_RX;
            self.keep_frames = "";
        }
    }
}

/// pprof's `allocRxStr`.
pub(crate) const ALLOC_RX: &str = concat!(
    "calloc|cfree|malloc|free|memalign|do_memalign|(__)?posix_memalign|pvalloc|valloc|realloc|",
    "tcmalloc::.*|tc_calloc|tc_cfree|tc_malloc|tc_free|tc_memalign|tc_posix_memalign|tc_pvalloc|tc_valloc|",
    "tc_realloc|tc_new|tc_delete|tc_newarray|tc_deletearray|tc_new_nothrow|tc_newarray_nothrow|",
    "malloc_zone_malloc|malloc_zone_calloc|malloc_zone_valloc|malloc_zone_realloc|malloc_zone_memalign|",
    "malloc_zone_free|",
    "runtime\\..*|",
    "BaseArena::.*|(::)?do_malloc_no_errno|(::)?do_malloc_pages|(::)?do_malloc|DoSampledAllocation|",
    "MallocedMemBlock::MallocedMemBlock|_M_allocate|__builtin_(vec_)?delete|__builtin_(vec_)?new|",
    "__gnu_cxx::new_allocator::allocate|__libc_malloc|__malloc_alloc_template::allocate|allocate|cpp_alloc|",
    "operator new(\\[\\])?|simple_alloc::allocate"
);

/// pprof's `allocSkipRxStr`.
pub(crate) const ALLOC_SKIP_RX: &str = "runtime\\.panic|runtime\\.reflectcall|runtime\\.call[0-9]*";

/// pprof's `cpuProfilerRxStr`.
pub(crate) const CPU_PROFILER_RX: &str =
    "ProfileData::Add|ProfileData::prof_handler|CpuProfiler::prof_handler|__pthread_sighandler|__restore";

/// pprof's `lockRxStr`.
pub(crate) const LOCK_RX: &str = concat!(
    "RecordLockProfileData|(base::)?RecordLockProfileData.*|(base::)?SubmitMutexProfileData.*|",
    "(base::)?SubmitSpinLockProfileData.*|(base::Mutex::)?AwaitCommon.*|(base::Mutex::)?Unlock.*|",
    "(base::Mutex::)?UnlockSlow.*|(base::Mutex::)?ReaderUnlock.*|(base::MutexLock::)?~MutexLock.*|",
    "(Mutex::)?AwaitCommon.*|(Mutex::)?Unlock.*|(Mutex::)?UnlockSlow.*|(Mutex::)?ReaderUnlock.*|",
    "(MutexLock::)?~MutexLock.*|(SpinLock::)?Unlock.*|(SpinLock::)?SlowUnlock.*|(SpinLockHolder::)?~SpinLockHolder.*"
);

/// Reads the rest of `lines` as the maps section (pprof's `parseAdditionalSections`: skip to the sentinel first).
/// `at_sentinel` says the line last read was the sentinel already. Returns whether a sentinel was seen.
pub(crate) fn read_maps<R: Read>(lines: &mut Lines<R>, p: &mut Legacy, at_sentinel: bool) -> Result<bool, LegacyError> {
    let mut m = read_maps_into(lines, at_sentinel)?;
    let seen = at_sentinel || !m.is_empty();
    p.mappings.append(&mut m);
    Ok(seen)
}

/// The mappings of the rest of `lines` (see [`read_maps`]).
pub(crate) fn read_maps_into<R: Read>(lines: &mut Lines<R>, at_sentinel: bool) -> Result<Vec<Mapping>, LegacyError> {
    if !at_sentinel {
        loop {
            match lines.next_line()? {
                None => return Ok(Vec::new()),
                Some(l) if text::is_memory_map_sentinel(l.bytes) => break,
                Some(_) => {}
            }
        }
    }
    let mut parser = maps::MapsParser::default();
    while let Some(l) = lines.next_line()? {
        parser.line(l.bytes, l.no)?;
    }
    Ok(parser.mappings)
}

/// Parses the addresses after `@` on a stack line: `0x`-hex tokens separated by spaces or tabs, each pushed as a
/// frame minus `adjust` (1 for return addresses).
#[inline]
pub(crate) fn push_addresses(
    p: &mut Legacy,
    rest: &[u8],
    line_no: u64,
    adjust: impl Fn(usize, u64) -> u64,
) -> Result<(), LegacyError> {
    let mut i = 0;
    text::for_each_address(rest, |a| {
        p.push_frame(adjust(i, a));
        i += 1;
    })
    .map_err(|tok| bad_address(line_no, tok))
}

/// The error for a token that is not a 64-bit `0x` address.
pub(crate) fn bad_address(line_no: u64, tok: &[u8]) -> LegacyError {
    let digits = tok.strip_prefix(b"0x").unwrap_or(b"");
    let why = if !digits.is_empty() && digits.iter().all(u8::is_ascii_hexdigit) {
        "does not fit in 64 bits"
    } else {
        "is not a 0x-prefixed hexadecimal address"
    };
    LegacyError::at(line_no, format!("{} {why}", text::quote(tok)))
}

/// An error for a number that did not parse.
pub(crate) fn bad_number(line_no: u64, what: &str, e: text::NumError, line: &[u8]) -> LegacyError {
    let why = match e {
        text::NumError::Missing => "missing",
        text::NumError::Overflow => "does not fit in 64 bits",
        text::NumError::Negative => "is negative",
    };
    LegacyError::at(line_no, format!("{what} {why} in {}", text::quote(line)))
}
