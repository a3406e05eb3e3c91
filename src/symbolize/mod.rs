//! From profile mappings and runtime addresses to frames.
//!
//! Two separate steps, as in blazesym: [`normalize`] turns a runtime address into the
//! binary's own address (SVMA) using only the mapping and the program headers; [`elf`]
//! looks SVMAs up (DWARF, Go pclntab hook, symbol tables). [`Symbolizer`] ties them to
//! the file search of [`crate::binary::locate`] and caches one opened binary per file.
//!
//! Nothing here prints: refused candidates and other soft problems are collected in
//! [`Symbolizer::warnings`].
//!
//! Return addresses: callers symbolizing non-leaf frames of native (non-Go) stacks should
//! pass `addr - 1`, which is the profile layer's decision, not this module's.

pub mod addr2line;
pub mod demangle;
pub mod elf;
pub mod gopclntab;
pub mod normalize;
pub mod profile;
pub(crate) mod split_dwarf;
pub mod symtab;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::addr::{FileOffset, RuntimeAddr, Svma};
use crate::binary::Binary;
use crate::binary::locate::{Locator, LocatorConfig};
pub use elf::{ElfSymbolizer, FrameSource, GoFrame, PclntabSource, SymbolSource};
pub use normalize::{MappingRange, NormalizeError, Normalized};

/// One frame, as pprof's `Line` + `Function` want it.
///
/// The strings are shared: every frame naming the same function (or file) of a binary holds
/// the same `Arc<str>`, so cloning a frame allocates nothing and a batch of answers costs
/// little memory. Users may intern by pointer ([`Arc::as_ptr`]) as well as by content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// Demangled name (`Function.name`).
    pub function: Arc<str>,
    /// Raw linkage name (`Function.system_name`).
    pub system_name: Arc<str>,
    /// Source file (`Function.filename`), as DWARF gives it (joined with the comp dir).
    pub file: Arc<str>,
    /// Line, 0 if unknown.
    pub line: u64,
    /// Column, 0 if unknown.
    pub column: u64,
    /// `DW_AT_decl_line` of the function (`Function.start_line`), 0 if unknown.
    pub start_line: u64,
}

/// A profile mapping, borrowed from the profile layer.
#[derive(Debug, Clone, Copy)]
pub struct MappingInfo<'a> {
    /// `memory_start`.
    pub start: RuntimeAddr,
    /// `memory_limit`.
    pub limit: RuntimeAddr,
    /// `file_offset`.
    pub offset: FileOffset,
    /// `filename`.
    pub filename: &'a str,
    /// `build_id` (hex), may be empty.
    pub build_id: &'a str,
    /// This is the main binary's mapping (pprof: the first mapping), which the explicit
    /// main binary replaces.
    pub is_main: bool,
}

impl MappingInfo<'_> {
    /// The address range part.
    pub fn range(&self) -> MappingRange {
        MappingRange {
            start: self.start,
            limit: self.limit,
            offset: self.offset,
        }
    }

    /// pprof's `Mapping.Unsymbolizable`: pseudo files such as `[vdso]`, `[heap]`,
    /// `linux-vdso.so.1`, `/memfd:…`.
    pub fn is_unsymbolizable(&self) -> bool {
        UNSYMBOLIZABLE_PREFIXES.iter().any(|p| self.filename.starts_with(p))
    }
}

/// File-name prefixes of mappings that are never backed by a readable binary (pprof).
pub const UNSYMBOLIZABLE_PREFIXES: &[&str] = &["[", "linux-vdso", "/memfd:"];

/// The answer for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The input.
    pub addr: RuntimeAddr,
    /// `addr - start + offset`; `None` for identity mappings.
    pub file_offset: Option<FileOffset>,
    /// The address looked up.
    pub svma: Svma,
    /// Index into the binary's `PT_LOAD` list of the segment used.
    pub segment: Option<usize>,
    /// The section holding `svma`, e.g. `.text`.
    pub section: Option<Arc<str>>,
    /// Symbol-table symbol holding `svma` (raw name, shared like [`Frame`]'s strings) and
    /// the offset into it.
    pub symbol: Option<(Arc<str>, u64)>,
    /// Innermost first; empty if nothing is known about the address.
    pub frames: Vec<Frame>,
    /// Where `frames` came from.
    pub source: FrameSource,
    /// The address is in a non-executable segment; `symbol`/`frames` name the data object.
    pub is_data: bool,
    /// The size of the data object (`symbol`) holding a data address.
    pub data_size: Option<u64>,
}

/// Why one address has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The address could not be mapped into the binary.
    #[error(transparent)]
    Normalize(#[from] NormalizeError),
    /// DWARF or another source failed to parse.
    #[error("{path}: {msg}")]
    Debug {
        /// The file whose debug info failed.
        path: PathBuf,
        /// The parser's message.
        msg: String,
    },
}

/// Options for [`Symbolizer::new`].
#[derive(Debug, Clone, Default)]
pub struct SymbolizerOptions {
    /// Where to look for binaries and debug files.
    pub locator: LocatorConfig,
    /// Which symbol source answers (DWARF, Go pclntab, symbol tables); see
    /// [`SymbolSource`]. Applies to every binary opened.
    pub source: SymbolSource,
}

/// An opened binary inside a [`Symbolizer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BinaryHandle(usize);

/// Holds each binary once, opened on demand, with its lazily built symbol sources.
#[derive(Debug)]
pub struct Symbolizer {
    locator: Locator,
    entries: Vec<ElfSymbolizer>,
    by_mapping: HashMap<(String, String, bool), Option<BinaryHandle>>,
    by_path: HashMap<PathBuf, BinaryHandle>,
    warnings: Vec<String>,
    source: SymbolSource,
}

impl Symbolizer {
    /// A symbolizer with nothing opened yet.
    pub fn new(opts: SymbolizerOptions) -> Symbolizer {
        Symbolizer {
            locator: Locator::new(opts.locator),
            entries: Vec::new(),
            by_mapping: HashMap::new(),
            by_path: HashMap::new(),
            warnings: Vec::new(),
            source: opts.source,
        }
    }

    /// Find and open (once) the binary for a mapping. `None` when the mapping is
    /// unsymbolizable, or no candidate was found or accepted (warnings say why).
    pub fn binary_for(&mut self, m: &MappingInfo) -> Option<BinaryHandle> {
        if m.is_unsymbolizable() {
            return None;
        }
        let key = (m.filename.to_string(), m.build_id.to_string(), m.is_main);
        if let Some(h) = self.by_mapping.get(&key) {
            return *h;
        }
        let found = self
            .locator
            .find_binary(m.filename, m.build_id, m.is_main, &mut self.warnings);
        let h = match found {
            None => {
                let what = if m.filename.is_empty() { "<unnamed>" } else { m.filename };
                if m.build_id.is_empty() {
                    self.warnings.push(format!("no binary found for {what}"));
                } else {
                    self.warnings
                        .push(format!("no binary found for {what} (build ID {})", m.build_id));
                }
                None
            }
            Some(bin) => Some(self.add_binary(bin)),
        };
        self.by_mapping.insert(key, h);
        h
    }

    /// Open `path` directly (no search, no build-ID check).
    pub fn open_binary(&mut self, path: impl Into<PathBuf>) -> Result<BinaryHandle, crate::binary::BinaryError> {
        let path = path.into();
        if let Some(h) = self.by_path.get(&path) {
            return Ok(*h);
        }
        let bin = Binary::open(&path)?;
        Ok(self.add_binary(bin))
    }

    fn add_binary(&mut self, bin: Binary) -> BinaryHandle {
        let path = bin.path().to_path_buf();
        let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(h) = self.by_path.get(&canon) {
            return *h;
        }
        let debug = self.locator.find_debug_file(&bin, &mut self.warnings).map(Arc::new);
        let h = BinaryHandle(self.entries.len());
        let mut elf = ElfSymbolizer::new(Arc::new(bin), debug);
        elf.set_source(self.source);
        self.entries.push(elf);
        self.by_path.insert(canon, h);
        self.by_path.insert(path, h);
        h
    }

    /// The binary behind a handle.
    pub fn binary(&self, h: BinaryHandle) -> &Binary {
        self.entries[h.0].binary()
    }

    /// The per-binary symbolizer (to install a pclntab reader, or for batch lookups).
    pub fn elf(&self, h: BinaryHandle) -> &ElfSymbolizer {
        &self.entries[h.0]
    }

    /// Mutable access to the per-binary symbolizer.
    pub fn elf_mut(&mut self, h: BinaryHandle) -> &mut ElfSymbolizer {
        &mut self.entries[h.0]
    }

    /// Normalize and look up `addrs`, all belonging to mapping `m` backed by `h`. The
    /// answers are in the order of `addrs`.
    ///
    /// Built for big batches: every distinct code address is looked up once, in address
    /// order (DWARF unit locality), split over the rayon pool's threads when there are
    /// enough of them (see [`ElfSymbolizer::frames_batch_parallel`]); the answers equal
    /// one-by-one lookups.
    pub fn resolve(
        &self,
        h: BinaryHandle,
        m: &MappingInfo,
        addrs: &[RuntimeAddr],
    ) -> Vec<Result<Resolved, ResolveError>> {
        if let [addr] = addrs {
            return vec![self.resolve_one(h, m, *addr)];
        }
        let b = self.resolve_batch(h, m, addrs);
        (0..b.len()).map(|i| b.get(i)).collect()
    }

    /// [`resolve`](Self::resolve) for one address, without the batch machinery (the
    /// streaming `addr2line` asks one address at a time).
    pub fn resolve_one(&self, h: BinaryHandle, m: &MappingInfo, addr: RuntimeAddr) -> Result<Resolved, ResolveError> {
        let sym = &self.entries[h.0];
        let bin = sym.binary();
        let text = text_start(bin);
        let n = match first_pass(sym, text, &m.range(), addr) {
            FirstPass::Done(r) => return r,
            FirstPass::Code(n) => n,
        };
        code_answer(bin, &sym.section_names(), addr, n, sym.frames(n.svma))
    }

    /// The lookups of [`resolve`](Self::resolve), done, but kept in a compact form from
    /// which [`ResolvedBatch::get`] makes the answer of any position, from any thread.
    pub fn resolve_batch(&self, h: BinaryHandle, m: &MappingInfo, addrs: &[RuntimeAddr]) -> ResolvedBatch {
        let sym = &self.entries[h.0];
        let bin = sym.binary();
        let range = m.range();
        let text = text_start(bin);
        // First pass: normalize, answer data addresses, collect the code addresses.
        let mut done = Vec::new();
        let mut code: Vec<Svma> = Vec::new();
        let tags: Vec<u32> = addrs
            .iter()
            .map(|&addr| match first_pass(sym, text, &range, addr) {
                FirstPass::Done(r) => {
                    done.push(r);
                    batch_tag(done.len() - 1, true)
                }
                FirstPass::Code(n) => {
                    code.push(n.svma);
                    batch_tag(code.len() - 1, false)
                }
            })
            .collect();
        // Second pass: the batch lookup.
        let lookups = sym.frames_compact(code, rayon::current_num_threads());
        ResolvedBatch {
            bin: bin.clone(),
            range,
            text,
            section_names: sym.section_names(),
            addrs: addrs.to_vec(),
            tags,
            done,
            lookups,
        }
    }

    /// Soft problems collected so far (refused candidates, missing binaries).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Take the collected warnings, leaving none.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

/// What the first pass over an address gives: a final answer (a normalization error, a
/// data symbol), or the normalized code address to look up.
enum FirstPass {
    Done(Result<Resolved, ResolveError>),
    Code(Normalized),
}

/// Normalize `addr` (read in `range` of `sym`'s binary) and answer it if it is a data
/// address with a symbol.
fn first_pass(sym: &ElfSymbolizer, text: Option<Svma>, range: &MappingRange, addr: RuntimeAddr) -> FirstPass {
    let bin = sym.binary();
    let n = match normalize::normalize(bin.kind(), bin.loads(), text, range, addr) {
        Ok(n) => n,
        Err(e) => return FirstPass::Done(Err(e.into())),
    };
    if !is_data_segment(bin, &n) {
        return FirstPass::Code(n);
    }
    let Some(d) = sym.data_symbol(n.svma) else {
        return FirstPass::Code(n);
    };
    let system_name: Arc<str> = Arc::from(d.name.as_str());
    let frame = Frame {
        function: Arc::from(elf::demangle(&d.name)),
        system_name: system_name.clone(),
        ..Frame::default()
    };
    FirstPass::Done(Ok(Resolved {
        addr,
        file_offset: n.file_offset,
        svma: n.svma,
        segment: n.segment,
        section: bin.section_for(n.svma).map(|s| Arc::from(s.name.as_str())),
        symbol: Some((system_name, n.svma.get() - d.start.get())),
        frames: vec![frame],
        // The table that holds the object symbol.
        source: sym.symbol(n.svma).map_or(FrameSource::Symtab, |(_, s)| s),
        is_data: true,
        data_size: Some(d.size),
    }))
}

/// The answer for code address `addr`, normalized to `n`, from its lookup `l` (an error
/// message is the binary's debug info failing). `names` are the section names of `bin`.
fn code_answer(
    bin: &Binary,
    names: &[Arc<str>],
    addr: RuntimeAddr,
    n: Normalized,
    l: Result<elf::Lookup, String>,
) -> Result<Resolved, ResolveError> {
    let l = l.map_err(|msg| ResolveError::Debug {
        path: bin.path().to_path_buf(),
        msg,
    })?;
    let section = bin.section_for(n.svma).and_then(|s| {
        let k = bin.sections().iter().position(|x| std::ptr::eq(x, s))?;
        Some(names[k].clone())
    });
    Ok(Resolved {
        addr,
        file_offset: n.file_offset,
        svma: n.svma,
        segment: n.segment,
        section,
        symbol: l.symbol,
        frames: l.frames,
        source: l.source,
        is_data: is_data_segment(bin, &n),
        data_size: None,
    })
}

/// The address of `.text`, which normalization uses for kernel-like mappings (as pprof does).
fn text_start(bin: &Binary) -> Option<Svma> {
    bin.sections().iter().find(|s| s.name == ".text").map(|s| s.addr)
}

/// Whether normalized address `n` is in a non-executable segment of `bin`.
fn is_data_segment(bin: &Binary, n: &Normalized) -> bool {
    n.segment.is_some_and(|i| !bin.loads()[i].is_executable())
}

/// A [`ResolvedBatch`] tag: the index of a final answer (`done`), or of a code lookup.
fn batch_tag(i: usize, done: bool) -> u32 {
    let i = u32::try_from(i)
        .ok()
        .filter(|&i| i < DONE_TAG)
        .expect("fewer than 2^31 addresses in a batch");
    if done { i | DONE_TAG } else { i }
}

/// The bit of a [`ResolvedBatch`] tag that marks a final answer.
const DONE_TAG: u32 = 1 << 31;

/// The answers of [`Symbolizer::resolve_batch`]: all lookups done, each answer made on
/// demand by [`get`](Self::get) (so the answers are never all held as [`Resolved`]
/// values). `Sync`: threads may format different positions at once.
#[derive(Debug)]
pub struct ResolvedBatch {
    bin: Arc<Binary>,
    range: MappingRange,
    text: Option<Svma>,
    /// Section names, shared by every answer.
    section_names: Arc<[Arc<str>]>,
    addrs: Vec<RuntimeAddr>,
    /// Per position: [`DONE_TAG`] and an index into `done`, or an index into `lookups`.
    tags: Vec<u32>,
    /// Answers made in the first pass (normalization errors, data symbols).
    done: Vec<Result<Resolved, ResolveError>>,
    lookups: elf::BatchLookups,
}

impl ResolvedBatch {
    /// The number of addresses.
    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    /// There are no addresses.
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// The address at position `i`.
    pub fn addr(&self, i: usize) -> RuntimeAddr {
        self.addrs[i]
    }

    /// The frames of the code address at position `i`, borrowed from the batch; `None` for
    /// answers that are not a successful code lookup (use [`get`](Self::get)).
    pub(crate) fn code_frames(&self, i: usize) -> Option<elf::CompactFrames<'_>> {
        let tag = self.tags[i];
        if tag & DONE_TAG != 0 {
            return None;
        }
        self.lookups.frames_of(tag as usize)
    }

    /// The number of frames of the answer at position `i` without making the answer;
    /// `None` when the lookup failed.
    pub fn frame_count(&self, i: usize) -> Option<usize> {
        let tag = self.tags[i];
        if tag & DONE_TAG != 0 {
            return self.done[(tag & !DONE_TAG) as usize]
                .as_ref()
                .ok()
                .map(|r| r.frames.len());
        }
        self.lookups.frames_of(tag as usize).map(|f| f.len())
    }

    /// The answer for the address at position `i`.
    pub fn get(&self, i: usize) -> Result<Resolved, ResolveError> {
        let tag = self.tags[i];
        if tag & DONE_TAG != 0 {
            return self.done[(tag & !DONE_TAG) as usize].clone();
        }
        let addr = self.addrs[i];
        let bin = &*self.bin;
        // Normalized in the first pass already, with the same result.
        let n = normalize::normalize(bin.kind(), bin.loads(), self.text, &self.range, addr)?;
        code_answer(bin, &self.section_names, addr, n, self.lookups.get(tag as usize))
    }
}
