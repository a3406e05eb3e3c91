//! The symbolizer of one ELF binary: its symbol sources ([`super::source`]) asked in the order chosen once for
//! the binary, single lookups and big batches.
//!
//! Everything is read lazily and cached: the DWARF sections on the first DWARF lookup (or earlier, on a prefetch
//! thread), each symbol table on its first use, the Go pclntab when first asked. What workers of a batch share
//! (the mapped file, sections, tables) lives in [`Shared`]; what each worker keeps for itself (its DWARF
//! context and name caches) lives in the [`ElfSymbolizer`] it makes with [`ElfSymbolizer::worker`].
//!
//! Batches are built for speed and memory together. The distinct addresses are sorted and split into one
//! contiguous run per worker; a worker goes through its run in windows, each with a fresh DWARF context, because a
//! context keeps every unit it parsed (line rows, function trees) and sorted addresses never go back to a unit they
//! left. The answers are kept compactly ([`BatchLookups`]) and made into [`Lookup`]s, or formatted, one at a time
//! when they are read.

use std::cell::{OnceCell, RefCell};
use std::sync::{Arc, OnceLock};

use super::batch::{BatchLookups, CompactBuilder, LookupPart};
use super::dwarf::sections::SharedDwarf;
use super::dwarf::split::SplitDwarf;
use super::dwarf::{Dwarf, Sections, load_sections};
use super::gopclntab::{GoNaming, GoPclntab, PclntabError, go_version};
use super::intern::NameArena;
use super::source::{Cx, DataSymbol, Lookup, Names, Source, Step, SymbolSource, SymtabSource, chain};
use super::symtab::{Sym, SymKind, SymbolTable, build_symtab};
use crate::addr::Svma;
use crate::answer::FrameSource;
use crate::binary::Binary;
use crate::error::{Error, ErrorKind, Result};

/// What every worker symbolizing one binary shares: the files, and each table read once from them.
struct Shared {
    bin: Arc<Binary>,
    debug: Option<Arc<Binary>>,
    source: SymbolSource,
    /// The sources asked, in order (see [`chain`]).
    chain: &'static [Step],
    /// How the Go linker spelled names, for Go frames read from DWARF or the symbol table.
    go_naming: GoNaming,
    /// The `gimli::Dwarf` over `sections`. Before `sections`: its readers point into them (see
    /// [`super::dwarf::sections::Reader`]).
    gimli_dwarf: SharedDwarf,
    sections: Arc<OnceLock<Result<Option<Sections>>>>,
    symtab: Arc<OnceLock<SymbolTable>>,
    dynsym: OnceLock<SymbolTable>,
    /// `None`: not a Go binary.
    go: OnceLock<Option<std::result::Result<GoPclntab, PclntabError>>>,
    /// The names of the binary's sections, in section order, made on first use.
    section_names: OnceLock<Arc<[Arc<str>]>>,
}

/// Symbolizer for one binary (and, optionally, its separate debug file). `Send`, not `Sync`: a batch's workers
/// each get their own ([`worker`](Self::worker)) over the same [`Shared`] parts.
pub struct ElfSymbolizer {
    /// This worker's DWARF context. Before `shared`, which owns the sections its readers point into.
    dwarf: OnceCell<Result<Option<Dwarf>>>,
    shared: Arc<Shared>,
    names: Names,
    /// Forced window size of batches (see [`Self::set_batch_window`]).
    batch_window: Option<usize>,
    /// The names the DWARF context starts with (see [`Self::take_names`]).
    arena: RefCell<NameArena>,
}

impl std::fmt::Debug for ElfSymbolizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElfSymbolizer")
            .field("bin", &self.shared.bin.path())
            .field("debug", &self.shared.debug.as_ref().map(|d| d.path().to_path_buf()))
            .finish_non_exhaustive()
    }
}

/// The binary looks like a Go binary: it has a `.gopclntab`, `.go.buildinfo` or `.note.go.buildid` section
/// (`-s -w` strips symbols and DWARF, not section headers).
fn is_go_binary(bin: &Binary) -> bool {
    bin.sections().iter().any(|s| {
        matches!(
            s.name.as_str(),
            ".gopclntab" | ".data.rel.ro.gopclntab" | ".go.buildinfo" | ".note.go.buildid"
        )
    })
}

impl ElfSymbolizer {
    /// Symbolize `bin` with [`SymbolSource::Auto`]; DWARF (and a symbol table, if `bin` has none) is read from
    /// `debug` when given.
    pub fn new(bin: Arc<Binary>, debug: Option<Arc<Binary>>) -> ElfSymbolizer {
        ElfSymbolizer::with_source(bin, debug, SymbolSource::Auto)
    }

    /// [`new`](Self::new) with the symbol source `source`.
    pub fn with_source(bin: Arc<Binary>, debug: Option<Arc<Binary>>, source: SymbolSource) -> ElfSymbolizer {
        let is_go = is_go_binary(&bin);
        let chain = chain(source, is_go);
        let go_naming = if is_go {
            GoNaming::for_version(go_version(bin.data()))
        } else {
            GoNaming::Full
        };
        let shared = Shared {
            bin,
            debug,
            source,
            chain,
            go_naming,
            gimli_dwarf: Arc::default(),
            sections: Arc::default(),
            symtab: Arc::default(),
            dynsym: OnceLock::new(),
            go: OnceLock::new(),
            section_names: OnceLock::new(),
        };
        ElfSymbolizer::over(Arc::new(shared), NameArena::default())
    }

    /// A symbolizer over `shared` with fresh per-worker state; its DWARF context starts with `arena`'s names.
    fn over(shared: Arc<Shared>, arena: NameArena) -> ElfSymbolizer {
        ElfSymbolizer {
            dwarf: OnceCell::new(),
            names: Names::new(shared.go_naming),
            shared,
            batch_window: None,
            arena: RefCell::new(arena),
        }
    }

    /// Another symbolizer of the same binary, sharing everything read so far, for a batch worker.
    fn worker(&self, arena: NameArena) -> ElfSymbolizer {
        ElfSymbolizer::over(self.shared.clone(), arena)
    }

    /// Choose the symbol source (default [`SymbolSource::Auto`]). Call it before the first lookup.
    pub fn set_source(&mut self, source: SymbolSource) {
        if source != self.shared.source {
            let s = &self.shared;
            *self = ElfSymbolizer::with_source(s.bin.clone(), s.debug.clone(), source);
        }
    }

    /// The chosen symbol source.
    pub fn source(&self) -> SymbolSource {
        self.shared.source
    }

    /// The function names interned so far, taken (for the next window's context, so a name keeps one string
    /// across a batch worker's windows).
    fn take_names(&self) -> NameArena {
        match self.dwarf.get() {
            Some(Ok(Some(d))) => d.strings.take(),
            _ => self.arena.take(),
        }
    }

    /// The names of the binary's sections, in the order of [`Binary::sections`], shared.
    pub(crate) fn section_names(&self) -> Arc<[Arc<str>]> {
        let bin = &self.shared.bin;
        self.shared
            .section_names
            .get_or_init(|| bin.sections().iter().map(|s| Arc::from(s.name.as_str())).collect())
            .clone()
    }

    /// Make batch lookups use fresh DWARF contexts every `n` addresses (at the next unit change) and take the
    /// batch path however small the batch. For tests: the windows of real batches start at thousands of addresses.
    #[doc(hidden)]
    pub fn set_batch_window(&mut self, n: usize) {
        self.batch_window = Some(n.max(1));
    }

    /// The binary looks like a Go binary (see [`is_go_binary`]).
    pub fn is_go(&self) -> bool {
        is_go_binary(&self.shared.bin)
    }

    /// The binary's own pclntab, decoded on first use; `Ok(None)` for binaries that are not Go binaries or whose
    /// table is absent or of an unsupported (pre-1.18) layout. An error says the table is there but malformed
    /// (cached, returned each time).
    pub fn go_pclntab(&self) -> Result<Option<&GoPclntab>> {
        let s = &self.shared;
        let r =
            s.go.get_or_init(|| self.is_go().then(|| GoPclntab::from_binary(&s.bin)));
        match r {
            None | Some(Err(PclntabError::NotFound | PclntabError::UnsupportedVersion { .. })) => Ok(None),
            Some(Ok(t)) => Ok(Some(t)),
            Some(Err(e)) => Err(self.pclntab_error(e)),
        }
    }

    /// A pclntab problem as ours, naming the binary.
    fn pclntab_error(&self, e: &PclntabError) -> Error {
        let path = self.shared.bin.path().display();
        Error::caused_by(ErrorKind::DebugInfo, path.to_string(), e.clone())
    }

    /// The pclntab to ask: the binary's own table. With [`SymbolSource::Pclntab`] an unsupported table is an
    /// error too.
    fn pclntab(&self) -> Result<Option<&GoPclntab>> {
        let t = self.go_pclntab()?;
        if self.shared.source == SymbolSource::Pclntab
            && let Some(Some(Err(e @ PclntabError::UnsupportedVersion { .. }))) = self.shared.go.get()
        {
            return Err(self.pclntab_error(e));
        }
        Ok(t)
    }

    /// The binary.
    pub fn binary(&self) -> &Arc<Binary> {
        &self.shared.bin
    }

    /// The separate debug file in use, if any.
    pub fn debug_file(&self) -> Option<&Arc<Binary>> {
        self.shared.debug.as_ref()
    }

    /// Split-DWARF units (`-gsplit-dwarf`) whose `.dwo` / `.dwp` part was missing or unusable so far, one message
    /// each; their addresses were answered from the skeleton unit (line table, symbol-table name).
    pub fn split_dwarf_warnings(&self) -> Vec<String> {
        match self.shared.sections.get() {
            Some(Ok(Some(s))) => s.split.warnings(),
            _ => Vec::new(),
        }
    }

    /// The DWARF sections of the debug file (or the binary), loaded on first use.
    fn dwarf_sections(&self) -> Result<Option<&Sections>> {
        let s = &self.shared;
        match s.sections.get_or_init(|| load_dwarf_sections(&s.bin, s.debug.as_ref())) {
            Ok(sections) => Ok(sections.as_ref()),
            Err(e) => Err(e.clone()),
        }
    }

    /// The DWARF context, built on first use. An error is cached and returned each time.
    fn dwarf(&self) -> Result<Option<&Dwarf>> {
        let load = || match self.dwarf_sections()? {
            Some(s) => Dwarf::load(s, &self.shared.gimli_dwarf, self.arena.take(), self.shared.go_naming).map(Some),
            None => Ok(None),
        };
        match self.dwarf.get_or_init(load) {
            Ok(d) => Ok(d.as_ref()),
            Err(e) => Err(e.clone()),
        }
    }

    fn symtab(&self) -> &SymbolTable {
        let s = &self.shared;
        s.symtab.get_or_init(|| build_symtab(&s.bin, s.debug.as_ref()))
    }

    fn dynsym(&self) -> &SymbolTable {
        self.shared.dynsym.get_or_init(|| {
            object::File::parse(self.shared.bin.data())
                .map(|o| SymbolTable::from_object(&o, true))
                .unwrap_or_default()
        })
    }

    /// Start reading the DWARF sections (decompressing them) and the symbol table on a thread of its own, so that
    /// work overlaps with the caller's own (reading requests, say); the first lookup waits for whatever is not done
    /// yet. Nothing is started for sources that do not read DWARF.
    ///
    /// Not a rayon task: the decompression runs on the rayon pool, and a pool thread blocked here while the caller
    /// waited for the pool would deadlock a one-thread pool.
    pub fn prefetch(&self) {
        let s = &self.shared;
        if !s.chain.contains(&Step::Dwarf) {
            return;
        }
        let (sections, symtab) = (s.sections.clone(), s.symtab.clone());
        let (bin, debug) = (s.bin.clone(), s.debug.clone());
        // If no thread can be started, the first lookup does the work.
        let _ = std::thread::Builder::new()
            .name("pprofsym-prefetch".into())
            .spawn(move || {
                // Sections first: they take longest, and the symbol table is made by the first lookup if this
                // thread has not got to it yet.
                sections.get_or_init(|| {
                    prefetch_test_delay();
                    load_dwarf_sections(&bin, debug.as_ref())
                });
                symtab.get_or_init(|| build_symtab(&bin, debug.as_ref()));
            });
    }

    /// The symbol-table symbol holding `a` (`.symtab`, else `.dynsym`).
    pub fn symbol(&self, a: Svma) -> Option<(&Sym, FrameSource)> {
        if let Some(s) = self.symtab().lookup(a.get()) {
            return Some((s, FrameSource::Symtab));
        }
        self.dynsym().lookup(a.get()).map(|s| (s, FrameSource::Dynsym))
    }

    /// The object (data) symbol holding `a`.
    pub fn data_symbol(&self, a: Svma) -> Option<DataSymbol> {
        let (s, _) = self.symbol(a).filter(|(s, _)| s.kind == SymKind::Data)?;
        Some(DataSymbol {
            name: s.name.clone(),
            start: Svma(s.addr),
            size: s.size,
        })
    }

    /// Frames for one code address: the first of the binary's sources (see [`chain`]) that covers it answers;
    /// an empty answer when none does.
    pub fn frames(&self, a: Svma) -> Result<Lookup> {
        let symbol = self.symbol(a);
        let cx = Cx {
            symbol,
            symbol_offset: symbol.map(|(s, _)| (self.names.sym_raw(s), a.get() - s.addr)),
            names: &self.names,
        };
        for step in self.shared.chain {
            let found = match step {
                Step::Dwarf => match self.dwarf()? {
                    Some(d) => d.lookup(a, &cx)?,
                    None => None,
                },
                Step::Pclntab => match self.pclntab()? {
                    Some(t) => t.lookup(a, &cx)?,
                    None => None,
                },
                Step::Symtab => SymtabSource.lookup(a, &cx)?,
            };
            if let Some(l) = found {
                return Ok(l);
            }
        }
        Ok(Lookup {
            frames: Vec::new(),
            source: FrameSource::Symtab,
            symbol: None,
        })
    }

    /// The unit (a key, 0 for none) that answered the last DWARF lookup.
    fn last_dwarf_unit(&self) -> u64 {
        match self.dwarf.get() {
            Some(Ok(Some(d))) => d.last_unit.get(),
            _ => 0,
        }
    }

    /// [`frames`](Self::frames) for many addresses; duplicates are looked up once. The result is in the order of
    /// `addrs`.
    pub fn frames_batch(&self, addrs: &[Svma]) -> Vec<Result<Lookup>> {
        let b = self.frames_compact(addrs.to_vec(), 1);
        (0..addrs.len()).map(|k| b.get(k)).collect()
    }

    /// Like [`frames_batch`](Self::frames_batch), on `threads` workers. The sorted, deduplicated addresses are
    /// split into `threads` contiguous runs, so each worker parses mostly its own DWARF units. Workers share this
    /// symbolizer's mapped sections, symbol tables and Go pclntab; each builds its own DWARF contexts (addr2line's
    /// context is not `Sync`), a fresh one per window of its run (see the module docs). Sequential when that does
    /// not pay: fewer than 1000 distinct addresses.
    pub fn frames_batch_parallel(&self, addrs: &[Svma], threads: usize) -> Vec<Result<Lookup>> {
        let b = self.frames_compact(addrs.to_vec(), threads);
        (0..addrs.len()).map(|k| b.get(k)).collect()
    }

    /// The lookups of [`frames_batch_parallel`](Self::frames_batch_parallel), kept in a compact form
    /// ([`BatchLookups`]) and made into [`Lookup`]s on demand, by position in `addrs`.
    pub(crate) fn frames_compact(&self, addrs: Vec<Svma>, threads: usize) -> BatchLookups {
        // Sort (address, position) pairs once: the distinct addresses and, for each position, the index of its
        // answer (no binary search per use).
        let n = addrs.len();
        let mut order: Vec<(Svma, u32)> = addrs
            .into_iter()
            .zip(0..)
            .map(|(a, i): (Svma, usize)| (a, u32::try_from(i).expect("fewer than 2^32 addresses in a batch")))
            .collect();
        order.sort_unstable();
        let mut uniq: Vec<Svma> = Vec::new();
        let mut idx = vec![0u32; n];
        for (a, pos) in order {
            if uniq.last() != Some(&a) {
                uniq.push(a);
            }
            idx[pos as usize] = (uniq.len() - 1) as u32;
        }
        BatchLookups::new(self.frames_distinct(&uniq, threads), idx)
    }

    /// [`frames`](Self::frames) for each of the sorted, distinct `uniq`, on up to `threads` workers (see
    /// [`frames_batch_parallel`](Self::frames_batch_parallel)).
    fn frames_distinct(&self, uniq: &[Svma], threads: usize) -> Vec<LookupPart> {
        use rayon::prelude::*;
        let threads = threads.max(1);
        let small = uniq.len() < 1000 && self.batch_window.is_none();
        if small {
            let mut b = CompactBuilder::new(uniq.len());
            for &a in uniq {
                b.push(self.frames(a));
            }
            return vec![b.finish()];
        }
        // Build the shared tables once, before the workers race for them. The DWARF sections first, here: they may
        // be loading on the prefetch thread, which decompresses on the rayon pool, so workers of that pool must not
        // be the ones waiting for them (a deadlock on a small pool).
        if self.shared.chain.contains(&Step::Dwarf) {
            let _ = self.dwarf_sections();
        }
        self.symtab();
        self.dynsym();
        let chunk = uniq.len().div_ceil(threads);
        // Each worker answers one contiguous run of addresses, in windows: a DWARF context keeps every unit it
        // parsed (line table, function tree) until dropped, and sorted addresses never return to a unit they left,
        // so a fresh context per window bounds the memory to the units of one window. A window ends where an
        // answer comes from another unit than the previous one (that unit is parsed once more by the next
        // context).
        let window = self
            .batch_window
            .unwrap_or_else(|| chunk.div_ceil(WINDOWS_PER_WORKER).max(MIN_WINDOW));
        let shared = &self.shared;
        uniq.par_chunks(chunk)
            .with_max_len(1)
            .map(|part| {
                let mut w = ElfSymbolizer::over(shared.clone(), NameArena::default());
                let mut b = CompactBuilder::new(part.len());
                let (mut since, mut prev_unit) = (0usize, 0u64);
                for &a in part {
                    b.push(w.frames(a));
                    let unit = w.last_dwarf_unit();
                    since += 1;
                    if since >= window && unit != 0 && prev_unit != 0 && unit != prev_unit {
                        w = w.worker(w.take_names());
                        since = 0;
                    }
                    prev_unit = unit;
                }
                b.finish()
            })
            .collect()
    }
}

/// For tests of the interleaving of the read-ahead and a batch: `PPROFSYM_TEST_PREFETCH_DELAY_MS` makes the
/// read-ahead wait that long once it has claimed the sections, so a batch starting meanwhile meets them loading.
fn prefetch_test_delay() {
    if let Some(ms) = std::env::var("PPROFSYM_TEST_PREFETCH_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// The DWARF sections of `debug` (or `bin` without one), with the split-DWARF loader for `bin`'s skeletons.
fn load_dwarf_sections(bin: &Arc<Binary>, debug: Option<&Arc<Binary>>) -> Result<Option<Sections>> {
    let split = SplitDwarf::new(bin.path(), debug.map(|d| d.path()));
    load_sections(debug.unwrap_or(bin), split)
}

/// How many DWARF contexts each worker of a big batch goes through (see [`ElfSymbolizer::frames_compact`]).
const WINDOWS_PER_WORKER: usize = 6;

/// The fewest addresses a window of a batch has.
const MIN_WINDOW: usize = 4096;

// Symbolizers move between threads (one per binary, in batches and in callers' pools); what workers share is
// shared by reference from several threads at once.
const _: () = {
    const fn send<T: Send>() {}
    const fn sync<T: Send + Sync>() {}
    send::<ElfSymbolizer>();
    sync::<Shared>();
    send::<super::Symbolizer>();
};
