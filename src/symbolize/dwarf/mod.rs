//! DWARF lookups: file, line, column and whole inline chains, through gimli's `addr2line`.
//!
//! Names follow llvm-symbolizer: a linkage name found anywhere on the `DW_AT_abstract_origin` /
//! `DW_AT_specification` chain wins over a plain name, and C++/Rust names are demangled. Go frames (a unit whose
//! `DW_AT_language` is `DW_LANG_Go`) follow the Go runtime's spelling instead, so C frames of cgo binaries keep
//! their own. The outermost frame is named from the symbol table when a code symbol covers the address, as
//! llvm-symbolizer 14 and gimli's `addr2line` CLI do.
//!
//! A [`Dwarf`] context is not `Sync` (addr2line caches in `OnceCell`s): each batch worker builds its own over the
//! same sections ([`sections`]), whose `gimli::Dwarf` is parsed once per file and shared.

pub(crate) mod sections;
pub(crate) mod split;

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use object::{Object, ObjectSection};

use self::sections::{Reader, SectionBytes, SharedDwarf};
use self::split::SplitDwarf;
use super::gopclntab::{GoNaming, runtime_file, runtime_name};
use super::intern::{FastHash, NameArena};
use super::source::{Cx, Lookup, Source};
use super::symtab::SymKind;
use crate::addr::Svma;
use crate::answer::{Frame, FrameSource};
use crate::binary::Binary;
use crate::demangle::demangle_language;
use crate::error::{Error, ErrorKind, Result};

/// The DWARF sections of one file, loaded once and shared by every DWARF context built
/// over them.
pub(crate) type Sections = Arc<LoadedSections>;

/// See [`Sections`].
pub(crate) struct LoadedSections {
    pub(crate) little_endian: bool,
    /// Loader of the split units (`.dwo` / `.dwp`) of skeleton units in `list`. Before
    /// `list`: split units may hold readers of their skeleton's sections.
    pub(crate) split: SplitDwarf,
    pub(crate) list: Vec<(gimli::SectionId, SectionBytes)>,
}

/// The DWARF sections of `file`; `Ok(None)` if it has no `.debug_info`. Uncompressed
/// sections are ranges of the mapping; compressed ones are decompressed once here, in
/// parallel (one section per task), straight into their shared buffers. Sections no lookup
/// reads (location lists) are left out.
pub(crate) fn load_sections(file: &Arc<Binary>, split: SplitDwarf) -> Result<Option<Sections>> {
    use rayon::prelude::*;
    let data = file.data();
    let obj =
        object::File::parse(data).map_err(|e| Error::caused_by(ErrorKind::DebugInfo, "reading DWARF sections", e))?;
    if obj.section_by_name(".debug_info").is_none() {
        return Ok(None);
    }
    // Ask gimli which sections it reads.
    let mut wanted = Vec::new();
    gimli::DwarfSections::<()>::load(|id| -> Result<(), ()> {
        if !UNUSED_SECTIONS.contains(&id)
            && let Some(s) = obj.section_by_name(id.name())
        {
            wanted.push((id, s));
        }
        Ok(())
    })
    .map_err(|()| Error::new(ErrorKind::DebugInfo, "loading DWARF sections"))?;
    // The biggest first, so the two largest decompress side by side.
    wanted.sort_by_key(|(_, s)| std::cmp::Reverse(s.size()));
    let list: Vec<(gimli::SectionId, SectionBytes)> = wanted
        .into_par_iter()
        .with_max_len(1)
        // A section that fails to decompress is treated as missing.
        .filter_map(|(id, s)| {
            let bytes = sections::bounded_uncompressed(&s)?;
            // The compressed bytes are not read again: give their pages back.
            if let (Cow::Owned(_), Ok(raw)) = (&bytes, s.data()) {
                file.release_pages(raw);
            }
            Some((id, SectionBytes::from_section(file, bytes)))
        })
        .collect();
    Ok(Some(Arc::new(LoadedSections {
        little_endian: obj.is_little_endian(),
        list,
        split,
    })))
}

/// Sections gimli loads that symbolization never reads: location lists describe where
/// variables live. Leaving them out spares decompressing them (megabytes in Go binaries).
const UNUSED_SECTIONS: &[gimli::SectionId] = &[gimli::SectionId::DebugLoc, gimli::SectionId::DebugLocLists];

/// A DWARF context over the mapped sections (decompressed ones in shared buffers).
pub(crate) struct Dwarf {
    ctx: addr2line::Context<Reader>,
    /// How the binary's Go linker spelled names (for Go units).
    go_naming: GoNaming,
    /// Names and start line per DIE (unit offset, DIE offset): big batches meet the same
    /// (inlined) functions again and again, and the `DW_AT_abstract_origin` walk plus
    /// demangling cost more than the lookup itself.
    /// Keyed by (DWO id or 0, section offset of the DIE): split units start at offset 0.
    /// The names are indexes into `strings`, so an entry is 32 bytes.
    names: RefCell<HashMap<(u64, u64), CachedNames, FastHash>>,
    /// The function names of `names`, each spelling held once.
    /// Handed on to the next context of the same batch worker, so a name keeps one string across windows.
    pub(crate) strings: RefCell<NameArena>,
    /// File names as shared strings, keyed by the address and length of the `&str` the
    /// context hands out (its line tables live as long as the context, so equal keys are
    /// the same file entry).
    files: RefCell<HashMap<(usize, usize), Arc<str>, FastHash>>,
    /// Units reached through `DW_FORM_ref_addr` references (see [`CrossUnits`]).
    cross: CrossUnits,
    /// The `.debug_info` offset of the unit that answered the last lookup (0: none).
    pub(crate) last_unit: std::cell::Cell<u64>,
    /// The sections `ctx` reads (and their split-DWARF loader). Last: the readers of
    /// `ctx` and `cross` point into them (see [`Reader`]).
    sections: Sections,
}

/// The units of the primary `.debug_info`, for following references into another unit
/// (`DW_FORM_ref_addr`: Go puts the abstract DIE of a function inlined from another
/// package in that package's unit). The unit headers are listed on first use; each unit
/// is parsed when first reached and kept.
struct CrossUnits {
    /// The file's `gimli::Dwarf`, whose `.debug_info` the offsets index.
    dwarf: Arc<gimli::Dwarf<Reader>>,
    /// Every unit header, in section order (so sorted by offset); listing stops at the
    /// first malformed header.
    headers: OnceCell<Vec<gimli::UnitHeader<Reader>>>,
    /// Parsed units by header offset; `None` when the unit does not parse.
    units: RefCell<HashMap<usize, Option<SharedUnit>, FastHash>>,
}

/// A unit parsed by [`CrossUnits`], shared with the walks that reach it.
type SharedUnit = Arc<gimli::Unit<Reader>>;

impl CrossUnits {
    /// The unit holding `.debug_info` offset `target` and the DIE's offset within it, when
    /// `from` (the file the reference was read from) is the primary file and the offset
    /// falls inside a well-formed unit. References out of split (`.dwo`) files are not
    /// followed.
    fn resolve(
        &self,
        from: &gimli::Dwarf<Reader>,
        target: gimli::DebugInfoOffset<usize>,
    ) -> Option<(SharedUnit, gimli::UnitOffset<usize>)> {
        if !std::ptr::eq(from, Arc::as_ptr(&self.dwarf)) {
            return None;
        }
        let headers = self.headers.get_or_init(|| {
            let mut out = Vec::new();
            let mut it = self.dwarf.units();
            while let Ok(Some(h)) = it.next() {
                out.push(h);
            }
            out
        });
        let start = |h: &gimli::UnitHeader<Reader>| h.offset().0;
        let i = headers.partition_point(|h| start(h) <= target.0).checked_sub(1)?;
        let header = &headers[i];
        let offset = target.to_unit_offset(header)?;
        let unit = self
            .units
            .borrow_mut()
            .entry(start(header))
            .or_insert_with(|| self.dwarf.unit(*header).ok().map(Arc::new))
            .clone()?;
        Some((unit, offset))
    }
}

/// What [`Dwarf::frames`] derives from one subprogram or inlined-subroutine DIE.
struct FrameNames {
    function: Arc<str>,
    system_name: Arc<str>,
    start_line: u64,
}

/// [`FrameNames`] as cached: the names are indexes into a [`NameArena`].
#[derive(Clone, Copy)]
struct CachedNames {
    function: u32,
    system_name: u32,
    start_line: u64,
}

impl Dwarf {
    /// A context over `sections`. The `gimli::Dwarf` (with every unit's abbreviations parsed)
    /// is built once in `shared` and reused by every context of the same file, so workers of
    /// a parallel batch neither parse the abbreviations again nor hold copies of them.
    pub(crate) fn load(
        sections: &Sections,
        shared: &SharedDwarf,
        strings: NameArena,
        go_naming: GoNaming,
    ) -> Result<Dwarf> {
        let endian = if sections.little_endian {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
            Ok(match sections.list.iter().find(|(i, _)| *i == id) {
                // SAFETY: the readers go into the shared `gimli::Dwarf` and the contexts
                // built on it, which are dropped before `sections` (field order of `Dwarf`
                // and `ElfSymbolizer`), and `sections` owns the bytes.
                Some((_, b)) => unsafe { b.reader(endian) },
                None => gimli::EndianSlice::new(&[], endian),
            })
        };
        let dwarf = shared
            .get_or_init(|| {
                let mut dwarf = gimli::Dwarf::load(load).map_err(dwarf_error)?;
                dwarf.populate_abbreviations_cache(gimli::AbbreviationsCacheStrategy::All);
                Ok(Arc::new(dwarf))
            })
            .clone()?;
        let ctx = addr2line::Context::from_arc_dwarf(dwarf.clone()).map_err(dwarf_error)?;
        Ok(Dwarf {
            ctx,
            go_naming,
            sections: sections.clone(),
            names: Default::default(),
            strings: RefCell::new(strings),
            files: Default::default(),
            last_unit: std::cell::Cell::new(0),
            cross: CrossUnits {
                dwarf,
                headers: OnceCell::new(),
                units: Default::default(),
            },
        })
    }

    /// Frames for `probe`, innermost first; empty if no unit covers it. The flag says the
    /// outermost frame comes from a Go unit (names and files already use the runtime's
    /// conventions). With `outer_named` the caller names the outermost frame itself (from
    /// the symbol table), so its `function` and `system_name` are left empty here.
    fn frames(&self, probe: u64, outer_named: bool) -> Result<(Vec<Frame>, bool)> {
        // addr2line looks up the range [probe, probe + 1), which overflows for the last address (found by
        // fuzzing); no unit can cover it anyway.
        if probe == u64::MAX {
            return Ok((Vec::new(), false));
        }
        let mut it = self
            .sections
            .split
            .resolve(self.ctx.find_frames(probe))
            .map_err(dwarf_error)?;
        let mut raw = Vec::new();
        while let Some(f) = it.next().map_err(dwarf_error)? {
            raw.push(f);
        }
        if raw.is_empty() {
            return Ok((Vec::new(), false));
        }
        let mut outer_is_go = false;
        let unit = self.sections.split.resolve(self.ctx.find_dwarf_and_unit(probe));
        self.last_unit.set(unit.map_or(0, |u| {
            (u.header.offset().0 as u64 + 1).wrapping_add(u.dwo_id.map_or(0, |d| d.0))
        }));
        let mut out = Vec::with_capacity(raw.len());
        let n = raw.len();
        let mut cache = self.names.borrow_mut();
        let mut strings = self.strings.borrow_mut();
        let mut files = self.files.borrow_mut();
        for (i, f) in raw.into_iter().enumerate() {
            let want_names = !(outer_named && i + 1 == n);
            let language = f.function.as_ref().and_then(|n| n.language);
            let is_go = language == Some(gimli::DW_LANG_Go);
            outer_is_go = is_go;
            let (file, line, column) = match &f.location {
                Some(l) => (
                    l.file.unwrap_or(""),
                    u64::from(l.line.unwrap_or(0)),
                    u64::from(l.column.unwrap_or(0)),
                ),
                None => ("", 0, 0),
            };
            let file = if is_go { runtime_file(file) } else { file };
            let file = files
                .entry((file.as_ptr() as usize, file.len()))
                .or_insert_with(|| Arc::from(file))
                .clone();
            let key = match (unit, f.dw_die_offset) {
                (Some(u), Some(off)) => Some((
                    u.dwo_id.map_or(0, |d| d.0),
                    (u.header.offset().0 as u64).wrapping_add(off.0 as u64),
                )),
                _ => None,
            };
            let cached = key.and_then(|k| cache.get(&k).copied());
            let names = match cached {
                Some(c) if want_names => FrameNames {
                    function: strings.get(c.function),
                    system_name: strings.get(c.system_name),
                    start_line: c.start_line,
                },
                Some(c) => FrameNames {
                    function: Arc::default(),
                    system_name: Arc::default(),
                    start_line: c.start_line,
                },
                None => {
                    let info = match (unit, f.dw_die_offset) {
                        (Some(u), Some(off)) => die_info(u, off, want_names, &self.cross),
                        _ => DieInfo::default(),
                    };
                    let start_line = info.decl_line.unwrap_or(0);
                    if want_names {
                        let system_name = match (info.linkage, info.name, &f.function) {
                            (Some(l), _, _) => l,
                            (None, Some(n), _) => n,
                            (None, None, Some(n)) => n.raw_name().map_err(dwarf_error)?.into_owned(),
                            (None, None, None) => String::new(),
                        };
                        let function = if is_go {
                            runtime_name(&system_name, self.go_naming)
                        } else {
                            demangle_language(&system_name, language)
                        };
                        let function = strings.intern(&function);
                        let system_name = if is_go { function } else { strings.intern(&system_name) };
                        let c = CachedNames {
                            function,
                            system_name,
                            start_line,
                        };
                        if let Some(k) = key {
                            // A bounded cache: batches meet the same DIE again mostly at
                            // neighbouring addresses, and an unbounded map grows with the
                            // binary (tens of megabytes on a large Rust program).
                            if cache.len() >= NAME_CACHE_LIMIT {
                                cache.clear();
                            }
                            cache.insert(k, c);
                        }
                        FrameNames {
                            function: strings.get(function),
                            system_name: strings.get(system_name),
                            start_line,
                        }
                    } else {
                        FrameNames {
                            function: Arc::default(),
                            system_name: Arc::default(),
                            start_line,
                        }
                    }
                }
            };
            out.push(Frame {
                function: names.function,
                system_name: names.system_name,
                file,
                line,
                column,
                start_line: names.start_line,
            });
        }
        Ok((out, outer_is_go))
    }
}

/// DWARF as a [`Source`]. The outermost frame is named from the symbol table when a code symbol covers the address
/// (GCC omits `DW_AT_linkage_name` for functions involving local types, and symbol names keep clone suffixes such as
/// `.isra.0`), as llvm-symbolizer does; but a cold partition or local alias is named after the function it is part
/// of (`Names::function_names` in `source.rs`), as GNU addr2line says.
impl Source for Dwarf {
    fn lookup(&self, a: Svma, cx: &Cx<'_>) -> Result<Option<Lookup>> {
        let code_sym = cx.symbol.filter(|(s, _)| s.kind == SymKind::Code);
        let (mut frames, is_go) = self.frames(a.get(), code_sym.is_some())?;
        if frames.is_empty() {
            return Ok(None);
        }
        if let (Some(last), Some((s, _))) = (frames.last_mut(), code_sym) {
            (last.function, last.system_name) = cx.names.function_names(s, is_go);
        }
        Ok(Some(Lookup {
            frames,
            source: FrameSource::Dwarf,
            symbol: cx.symbol_offset.clone(),
        }))
    }
}

/// A DWARF parse error as ours.
fn dwarf_error(e: gimli::Error) -> Error {
    Error::caused_by(ErrorKind::DebugInfo, "DWARF", e)
}

/// The most DIEs [`Dwarf::frames`] keeps names for before it forgets them all.
const NAME_CACHE_LIMIT: usize = 1 << 14;

/// What llvm-symbolizer reads from a subprogram or inlined-subroutine DIE.
#[derive(Default)]
struct DieInfo {
    /// `DW_AT_linkage_name` (or `DW_AT_MIPS_linkage_name`) anywhere on the
    /// `DW_AT_abstract_origin` / `DW_AT_specification` chain.
    linkage: Option<String>,
    /// The first `DW_AT_name` on the chain.
    name: Option<String>,
    /// The first `DW_AT_decl_line` on the chain (llvm-symbolizer's `StartLine`).
    decl_line: Option<u64>,
}

/// Walk a DIE and its `DW_AT_abstract_origin` / `DW_AT_specification` targets.
/// llvm-symbolizer prefers a linkage name found anywhere on the chain over a plain name,
/// where addr2line stops at the first DIE with either; this walk makes the names agree
/// with llvm. References into other units of the primary file (`DW_FORM_ref_addr`: Go's
/// cross-package inlining, LTO) are followed through `cross`; references to a supplementary
/// file, out of a split unit or to a bad offset end the walk.
/// Without `want_names` only `decl_line` is read.
fn die_info(
    start_unit: gimli::UnitRef<'_, Reader>,
    start: gimli::UnitOffset<usize>,
    want_names: bool,
    cross: &CrossUnits,
) -> DieInfo {
    let mut info = DieInfo::default();
    let mut off = start;
    // The unit the walk has moved to, when a reference left `start_unit`.
    let mut moved: Option<SharedUnit> = None;
    for _ in 0..8 {
        let unit = match &moved {
            Some(u) => gimli::UnitRef::new(start_unit.dwarf, u),
            None => start_unit,
        };
        let Some(die) = die_attrs(unit, off) else { break };
        let string = |v: Option<gimli::AttributeValue<Reader>>| {
            let r = unit.attr_string(v?).ok()?;
            gimli::Reader::to_string_lossy(&r).ok().map(Cow::into_owned)
        };
        if want_names && info.linkage.is_none() {
            info.linkage = string(die.linkage).or_else(|| string(die.mips_linkage));
        }
        if want_names && info.name.is_none() {
            info.name = string(die.name);
        }
        if info.decl_line.is_none() {
            info.decl_line = die.decl_line.and_then(|v| v.udata_value());
        }
        match die.abstract_origin.or(die.specification) {
            Some(gimli::AttributeValue::UnitRef(o)) => off = o,
            Some(gimli::AttributeValue::DebugInfoRef(r)) => {
                if let Some(o) = r.to_unit_offset(&unit.header) {
                    off = o;
                } else if let Some((u, o)) = cross.resolve(unit.dwarf, r) {
                    moved = Some(u);
                    off = o;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    info
}

/// The attributes [`die_info`] reads from one DIE (the first of each name).
#[derive(Default)]
struct DieAttrs {
    linkage: Option<gimli::AttributeValue<Reader>>,
    mips_linkage: Option<gimli::AttributeValue<Reader>>,
    name: Option<gimli::AttributeValue<Reader>>,
    decl_line: Option<gimli::AttributeValue<Reader>>,
    abstract_origin: Option<gimli::AttributeValue<Reader>>,
    specification: Option<gimli::AttributeValue<Reader>>,
}

/// The attributes of the DIE at `off` that [`die_info`] uses, read in one pass without
/// collecting the others (`UnitRef::entry` would allocate them all); `None` when the DIE
/// is missing, null or malformed.
fn die_attrs(unit: gimli::UnitRef<'_, Reader>, off: gimli::UnitOffset<usize>) -> Option<DieAttrs> {
    let mut raw = unit.entries_raw(Some(off)).ok()?;
    let abbrev = raw.read_abbreviation().ok()??;
    let mut a = DieAttrs::default();
    for spec in abbrev.attributes() {
        let attr = raw.read_attribute(*spec).ok()?;
        let slot = match attr.name() {
            gimli::DW_AT_linkage_name => &mut a.linkage,
            gimli::DW_AT_MIPS_linkage_name => &mut a.mips_linkage,
            gimli::DW_AT_name => &mut a.name,
            gimli::DW_AT_decl_line => &mut a.decl_line,
            gimli::DW_AT_abstract_origin => &mut a.abstract_origin,
            gimli::DW_AT_specification => &mut a.specification,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(attr.value());
        }
    }
    Some(a)
}
