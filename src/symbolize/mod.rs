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
        let mut out = Vec::with_capacity(addrs.len());
        self.resolve_each(h, m, addrs, |r| out.push(r));
        out
    }

    /// [`resolve`](Self::resolve), handing each answer to `each` in the order of `addrs`
    /// instead of collecting them, so a caller that consumes them at once never holds
    /// them all.
    pub fn resolve_each(
        &self,
        h: BinaryHandle,
        m: &MappingInfo,
        addrs: &[RuntimeAddr],
        mut each: impl FnMut(Result<Resolved, ResolveError>),
    ) {
        let sym = &self.entries[h.0];
        let bin = sym.binary();
        let to_err = |msg: String| ResolveError::Debug {
            path: bin.path().to_path_buf(),
            msg,
        };
        let text = bin.sections().iter().find(|s| s.name == ".text").map(|s| s.addr);
        let range = m.range();
        // Section names, shared by every answer.
        let section_names: Vec<Arc<str>> = bin.sections().iter().map(|s| Arc::from(s.name.as_str())).collect();
        let section = |svma: Svma| -> Option<Arc<str>> {
            let s = bin.section_for(svma)?;
            let i = bin.sections().iter().position(|x| std::ptr::eq(x, s))?;
            Some(section_names[i].clone())
        };
        // First pass: normalize, answer data addresses, collect the code addresses.
        // (`Done` is an index into `done`, which holds the rare final answers, so the
        // per-address steps stay small.)
        enum Step {
            Done(usize),
            Code(Normalized, bool),
        }
        let mut done: Vec<Option<Result<Resolved, ResolveError>>> = Vec::new();
        let mut finish = |r: Result<Resolved, ResolveError>| {
            done.push(Some(r));
            Step::Done(done.len() - 1)
        };
        let mut code: Vec<Svma> = Vec::new();
        let steps: Vec<Step> = addrs
            .iter()
            .map(|&addr| {
                let n = match normalize::normalize(bin.kind(), bin.loads(), text, &range, addr) {
                    Ok(n) => n,
                    Err(e) => return finish(Err(e.into())),
                };
                let is_data = match n.segment {
                    Some(i) => !bin.loads()[i].is_executable(),
                    None => false,
                };
                if is_data && let Some(d) = sym.data_symbol(n.svma) {
                    let system_name: Arc<str> = Arc::from(d.name.as_str());
                    let frame = Frame {
                        function: Arc::from(elf::demangle(&d.name)),
                        system_name: system_name.clone(),
                        ..Frame::default()
                    };
                    return finish(Ok(Resolved {
                        addr,
                        file_offset: n.file_offset,
                        svma: n.svma,
                        segment: n.segment,
                        section: section(n.svma),
                        symbol: Some((system_name, n.svma.get() - d.start.get())),
                        frames: vec![frame],
                        source: FrameSource::Symtab,
                        is_data,
                    }));
                }
                code.push(n.svma);
                Step::Code(n, is_data)
            })
            .collect();
        // Second pass: the batch lookup, then the answers in input order.
        let mut lookups = sym.frames_scatter(&code, rayon::current_num_threads());
        drop(code);
        for (&addr, step) in addrs.iter().zip(steps) {
            let (n, is_data) = match step {
                Step::Done(i) => {
                    each(done[i].take().expect("each final answer is used once"));
                    continue;
                }
                Step::Code(n, is_data) => (n, is_data),
            };
            each(lookups.take_next().map_err(to_err).map(|l| Resolved {
                addr,
                file_offset: n.file_offset,
                svma: n.svma,
                segment: n.segment,
                section: section(n.svma),
                symbol: l.symbol,
                frames: l.frames,
                source: l.source,
                is_data,
            }));
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
