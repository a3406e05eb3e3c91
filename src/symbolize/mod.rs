//! From profile mappings and runtime addresses to frames.
//!
//! Two separate steps, as in blazesym: [`normalize`] turns a runtime address into the binary's own address (SVMA)
//! using only the mapping and the program headers; [`ElfSymbolizer`] looks SVMAs up in the binary's symbol sources
//! ([`source`]: DWARF, Go pclntab, symbol tables), asked in an order chosen once per binary. [`Symbolizer`] ties
//! them to the file search of [`crate::binary::locate`] and caches one opened binary per file.
//!
//! Nothing here prints: refused candidates and other soft problems are collected as [`Warning`]s
//! ([`Symbolizer::warnings`]).
//!
//! Return addresses: callers symbolizing non-leaf frames of native (non-Go) stacks should pass `addr - 1`, which
//! is the profile layer's decision, not this module's.

mod batch;
mod dwarf;
pub mod elf;
pub mod gopclntab;
mod intern;
pub mod lookup;
pub mod normalize;
pub mod profile;
mod resolve;
pub mod source;
pub mod symtab;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::addr::{FileOffset, RuntimeAddr};
use crate::binary::locate::{Locator, LocatorConfig};
use crate::binary::{Binary, Located, Origin};
use crate::error::{Result, Warning};

pub use self::batch::{CompactFrames, FrameView};
pub use self::elf::ElfSymbolizer;
pub use self::gopclntab::GoFrame;
pub use self::normalize::{MappingRange, NormalizeError, Normalized};
pub use self::resolve::ResolvedBatch;
pub use self::source::{DataSymbol, Lookup, SymbolSource};
pub use crate::answer::{Frame, FrameSource, Resolved};

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
    /// Where each entry's files came from (same index as `entries`).
    located: Vec<Located>,
    by_mapping: HashMap<(String, String, bool), Option<BinaryHandle>>,
    by_path: HashMap<PathBuf, BinaryHandle>,
    warnings: Vec<Warning>,
    source: SymbolSource,
}

impl Symbolizer {
    /// A symbolizer with nothing opened yet.
    pub fn new(opts: SymbolizerOptions) -> Symbolizer {
        Symbolizer {
            locator: Locator::new(opts.locator),
            entries: Vec::new(),
            located: Vec::new(),
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
        self.prepare(std::slice::from_ref(m));
        let key = (m.filename.to_string(), m.build_id.to_string(), m.is_main);
        self.by_mapping.get(&key).copied().flatten()
    }

    /// Find and open the binaries of many mappings at once (what [`binary_for`](Self::binary_for) does for
    /// one): local files first; then, with debuginfod, the executables missing locally and the debug files of
    /// binaries without DWARF, fetched concurrently. Later [`binary_for`](Self::binary_for) calls for these
    /// mappings answer from what was found here.
    pub fn prepare(&mut self, ms: &[MappingInfo]) {
        type Key = (String, String, bool);
        let mut found: Vec<(Key, Binary, Origin)> = Vec::new();
        let mut missing: Vec<(Key, &MappingInfo)> = Vec::new();
        for m in ms {
            let key = (m.filename.to_string(), m.build_id.to_string(), m.is_main);
            if m.is_unsymbolizable()
                || self.by_mapping.contains_key(&key)
                || found.iter().any(|(k, _, _)| *k == key)
                || missing.iter().any(|(k, _)| *k == key)
            {
                continue;
            }
            match self
                .locator
                .find_binary(m.filename, m.build_id, m.is_main, &mut self.warnings)
            {
                Some(bin) => {
                    let origin = Origin::of_binary(self.locator.config(), bin.path(), m.filename, m.is_main);
                    found.push((key, bin, origin));
                }
                None => missing.push((key, m)),
            }
        }
        let remote: Vec<usize> = (0..missing.len())
            .filter(|&i| self.locator.has_debuginfod() && !missing[i].1.build_id.is_empty())
            .collect();
        let ids: Vec<&str> = remote.iter().map(|&i| missing[i].1.build_id).collect();
        let mut fetched = self.locator.fetch_binaries(&ids, &mut self.warnings).into_iter();
        for (i, (key, m)) in missing.into_iter().enumerate() {
            match remote.contains(&i).then(|| fetched.next().flatten()).flatten() {
                Some(f) => found.push((key, f.binary, f.origin)),
                None => {
                    let file = if m.filename.is_empty() { "<unnamed>" } else { m.filename };
                    self.warnings.push(Warning::NoBinary {
                        file: file.to_string(),
                        build_id: (!m.build_id.is_empty()).then(|| m.build_id.to_string()),
                    });
                    self.by_mapping.insert(key, None);
                }
            }
        }
        let mut keys_of: Vec<Vec<Key>> = Vec::new();
        let mut bins: Vec<(Binary, Origin)> = Vec::new();
        for (key, bin, origin) in found {
            let canon = std::fs::canonicalize(bin.path()).unwrap_or_else(|_| bin.path().to_path_buf());
            if let Some(h) = self.by_path.get(&canon) {
                self.by_mapping.insert(key, Some(*h));
            } else if let Some(j) = bins
                .iter()
                .position(|(b, _)| std::fs::canonicalize(b.path()).unwrap_or_else(|_| b.path().to_path_buf()) == canon)
            {
                keys_of[j].push(key);
            } else {
                keys_of.push(vec![key]);
                bins.push((bin, origin));
            }
        }
        for (keys, h) in keys_of.into_iter().zip(self.add_binaries(bins)) {
            for key in keys {
                self.by_mapping.insert(key, Some(h));
            }
        }
    }

    /// Open `path` directly (no search, no build-ID check).
    pub fn open_binary(&mut self, path: impl Into<PathBuf>) -> Result<BinaryHandle> {
        let path = path.into();
        if let Some(h) = self.by_path.get(&path) {
            return Ok(*h);
        }
        let bin = Binary::open(&path)?;
        Ok(self.add_binaries(vec![(bin, Origin::Given)])[0])
    }

    /// Adds opened binaries (or finds them already added), with their separate debug files: local ones first,
    /// then the missing ones from debuginfod, fetched at once.
    fn add_binaries(&mut self, bins: Vec<(Binary, Origin)>) -> Vec<BinaryHandle> {
        let mut debug: Vec<Option<(Binary, Origin)>> = Vec::with_capacity(bins.len());
        for (bin, _) in &bins {
            let d = self.locator.find_debug_file(bin, &mut self.warnings).map(|d| {
                let o = Origin::of_debug_file(self.locator.config(), d.path());
                (d, o)
            });
            debug.push(d);
        }
        let need: Vec<usize> = (0..bins.len())
            .filter(|&i| debug[i].is_none() && !bins[i].0.has_dwarf() && bins[i].0.build_id().is_some())
            .collect();
        if !need.is_empty() && self.locator.has_debuginfod() {
            let asked: Vec<&Binary> = need.iter().map(|&i| &bins[i].0).collect();
            let got = self.locator.fetch_debug_files(&asked, &mut self.warnings);
            for (&i, f) in need.iter().zip(got) {
                debug[i] = f.map(|f| (f.binary, f.origin));
            }
        }
        bins.into_iter()
            .zip(debug)
            .map(|((bin, origin), debug)| {
                let path = bin.path().to_path_buf();
                let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if let Some(h) = self.by_path.get(&canon) {
                    return *h;
                }
                let h = BinaryHandle(self.entries.len());
                self.located.push(Located {
                    path: path.clone(),
                    origin,
                    debug_file: debug.as_ref().map(|(d, _)| d.path().to_path_buf()),
                    debug_origin: debug.as_ref().map(|(_, o)| o.clone()),
                });
                let debug = debug.map(|(d, _)| Arc::new(d));
                self.entries
                    .push(ElfSymbolizer::with_source(Arc::new(bin), debug, self.source));
                self.by_path.insert(canon, h);
                self.by_path.insert(path, h);
                h
            })
            .collect()
    }

    /// Where the binary behind a handle (and its debug file) came from.
    pub fn located(&self, h: BinaryHandle) -> &Located {
        &self.located[h.0]
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
    pub fn resolve(&self, h: BinaryHandle, m: &MappingInfo, addrs: &[RuntimeAddr]) -> Vec<Result<Resolved>> {
        if let [addr] = addrs {
            return vec![self.resolve_one(h, m, *addr)];
        }
        let b = self.resolve_batch(h, m, addrs);
        (0..b.len()).map(|i| b.get(i)).collect()
    }

    /// [`resolve`](Self::resolve) for one address, without the batch machinery (the
    /// streaming `addr2line` asks one address at a time).
    pub fn resolve_one(&self, h: BinaryHandle, m: &MappingInfo, addr: RuntimeAddr) -> Result<Resolved> {
        resolve::resolve_one(&self.entries[h.0], m, addr)
    }

    /// The lookups of [`resolve`](Self::resolve), done, but kept in a compact form from
    /// which [`ResolvedBatch::get`] makes the answer of any position, from any thread.
    pub fn resolve_batch(&self, h: BinaryHandle, m: &MappingInfo, addrs: &[RuntimeAddr]) -> ResolvedBatch {
        resolve::resolve_batch(&self.entries[h.0], m, addrs)
    }

    /// Soft problems collected so far (refused candidates, missing binaries).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Take the collected warnings, leaving none.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }
}
