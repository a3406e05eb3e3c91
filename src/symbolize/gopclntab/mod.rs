//! Offline decoder for Go's function table (`pclntab`), the only symbol
//! information left in binaries built with `-ldflags='-s -w'`.
//!
//! Supported layouts: Go 1.18-1.19 (magic `0xfffffff0`) and Go 1.20+
//! (magic `0xfffffff1`, including Go 1.27 whose header no longer stores the
//! text start). Go 1.16-1.17 (`0xfffffffa`) and Go 1.2-1.15 (`0xfffffffb`)
//! are recognised and rejected with [`PclntabError::UnsupportedVersion`].
//!
//! [`GoPclntab::frames`] expands inlined calls exactly as the Go runtime's
//! `runtime.CallersFrames` does: the innermost (inlined) function first, the
//! physical function last, each named as `runtime/pprof` names it in
//! profiles: the table's own name, generic shapes kept (see [`names`]).
//!
//! Every read is bounds-checked: malformed input yields an error, never a
//! panic.

mod buildinfo;
mod bytes;
mod names;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use object::{Object, ObjectSection, ObjectSymbol};

pub use self::buildinfo::go_version;
use self::bytes::{Image, Rd, Sect, TableBytes, add, read_varint, to_usize};
pub use self::names::{GoNaming, func_name_for_print, runtime_file, runtime_name};
use crate::binary::Binary;

/// Layout generation of a pclntab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoPclntabVersion {
    /// Go 1.16-1.17, magic `0xfffffffa` (recognised, not decoded).
    Go116,
    /// Go 1.18-1.19, magic `0xfffffff0`.
    Go118,
    /// Go 1.20 and later, magic `0xfffffff1`.
    Go120,
}

/// Errors from locating or decoding a pclntab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PclntabError {
    /// The input is not an object file the `object` crate can parse.
    Object(String),
    /// No pclntab was found (no section, no symbol, no valid header).
    NotFound,
    /// A pclntab with a layout this decoder does not implement.
    UnsupportedVersion {
        /// The magic number found at the start of the table.
        magic: u32,
    },
    /// The table is truncated or inconsistent.
    Malformed(String),
}

impl fmt::Display for PclntabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PclntabError::Object(e) => write!(f, "cannot parse object file: {e}"),
            PclntabError::NotFound => write!(f, "no Go pclntab found"),
            PclntabError::UnsupportedVersion { magic } => {
                let which = match magic {
                    0xffff_fffb => " (Go 1.2-1.15)",
                    0xffff_fffa => " (Go 1.16-1.17)",
                    _ => "",
                };
                write!(f, "unsupported Go pclntab magic {magic:#010x}{which}")
            }
            PclntabError::Malformed(m) => write!(f, "malformed Go pclntab: {m}"),
        }
    }
}

impl std::error::Error for PclntabError {}

pub(crate) fn malformed<T>(what: impl Into<String>) -> Result<T, PclntabError> {
    Err(PclntabError::Malformed(what.into()))
}

/// A function of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoFunc {
    /// Entry address (ELF virtual address).
    pub entry: u64,
    /// End address (exclusive): the next function's entry or the text end.
    pub end: u64,
    /// Name as the runtime prints it (`runtime.FuncForPC(pc).Name()`).
    pub name: String,
}

/// One frame of [`GoPclntab::frames`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoFrame {
    /// Function name (Go names are not mangled).
    pub function: Arc<str>,
    /// Source file.
    pub file: Arc<str>,
    /// Line.
    pub line: u64,
    /// First line of the function.
    pub start_line: u64,
    /// This frame was inlined into the next one.
    pub inlined: bool,
}

const MAGIC_GO12: u32 = 0xffff_fffb;
const MAGIC_GO116: u32 = 0xffff_fffa;
const MAGIC_GO118: u32 = 0xffff_fff0;
const MAGIC_GO120: u32 = 0xffff_fff1;

const PCDATA_INL_TREE_INDEX: u32 = 2;
const FUNCDATA_INL_TREE: u32 = 3;
/// Bound on inline depth, guarding against cycles in corrupted trees.
const MAX_INLINE_DEPTH: usize = 1024;

/// A decoded Go function table.
#[derive(Debug, Clone)]
pub struct GoPclntab {
    version: GoPclntabVersion,
    big_endian: bool,
    quantum: u8,
    ptr_size: u8,
    /// Bytes from the pcHeader to the end of the containing section.
    data: TableBytes,
    nfunc: usize,
    text_start: u64,
    funcname_off: usize,
    cu_off: usize,
    filetab_off: usize,
    pctab_off: usize,
    pcln_off: usize,
    /// `moduledata.gofunc` and the bytes from there to the end of the
    /// section holding it; `None` if moduledata was not found (inline trees
    /// are then unavailable and only physical frames are reported).
    gofunc: Option<(u64, TableBytes)>,
}

// Worker threads share one table (`Arc<OnceLock<..>>` in the ELF symbolizer).
const _: fn() = || {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<GoPclntab>();
};

impl GoPclntab {
    /// Find and parse the table in an ELF image (other formats the `object`
    /// crate reads work too when they name the section `.gopclntab` /
    /// `__gopclntab` or keep the `runtime.pclntab` symbol).
    ///
    /// The table's bytes are copied out of `data`; [`GoPclntab::from_binary`]
    /// keeps them in the binary's mapping instead.
    pub fn from_elf(data: &[u8]) -> Result<GoPclntab, PclntabError> {
        GoPclntab::find(data, &TableBytes::copied)
    }

    /// Find and parse the table of an opened binary exactly as
    /// [`GoPclntab::from_elf`] does, keeping the table and the inline trees as
    /// ranges of the binary's read-only mapping (no copy).
    pub fn from_binary(bin: &Arc<Binary>) -> Result<GoPclntab, PclntabError> {
        GoPclntab::find(bin.data(), &|b| TableBytes::within(bin, b))
    }

    /// Find and parse the table in `data`; `keep` turns a sub-slice of `data`
    /// into the bytes the table stores.
    fn find(data: &[u8], keep: &dyn Fn(&[u8]) -> TableBytes) -> Result<GoPclntab, PclntabError> {
        let file = object::File::parse(data).map_err(|e| PclntabError::Object(e.to_string()))?;
        let be = !file.is_little_endian();
        let mut sections = Vec::new();
        for s in file.sections() {
            let name = s.name().unwrap_or("").to_string();
            let d = s.data().unwrap_or(&[]);
            let writable_or_data = matches!(
                s.kind(),
                object::SectionKind::Data
                    | object::SectionKind::ReadOnlyData
                    | object::SectionKind::ReadOnlyDataWithRel
            ) || name.contains("data");
            sections.push(Sect {
                name,
                addr: s.address(),
                data: d,
                writable_or_data,
            });
        }
        let mut relocs = HashMap::new();
        if let Some(it) = file.dynamic_relocations() {
            for (place, r) in it {
                // RELATIVE relocations have no symbol; their addend is the
                // link-time address the word should hold.
                let symless = !matches!(r.target(), object::RelocationTarget::Symbol(_));
                if symless && r.addend() != 0 {
                    relocs.insert(place, r.addend() as u64);
                }
            }
        }
        let img = Image { sections, relocs, be };

        // 1. Section, 2. symbol, 3. scan.
        let mut hdr: Option<(u64, &[u8])> = None;
        for name in [".gopclntab", ".data.rel.ro.gopclntab", "__gopclntab"] {
            if let Some(s) = img.sections.iter().find(|s| s.name == name && !s.data.is_empty()) {
                hdr = Some((s.addr, s.data));
                break;
            }
        }
        if hdr.is_none() {
            let mut start = None;
            let mut end = None;
            for sym in file.symbols() {
                match sym.name() {
                    Ok("runtime.pclntab") | Ok("runtime.pcheader") if start.is_none() => start = Some(sym.address()),
                    Ok("runtime.epclntab") => end = Some(sym.address()),
                    _ => {}
                }
            }
            if let Some((a, b)) = start.and_then(|a| Some((a, img.bytes_from(a)?))) {
                let len = match end {
                    Some(e) if e > a && e - a <= b.len() as u64 => (e - a) as usize,
                    _ => b.len(),
                };
                hdr = Some((a, &b[..len]));
            }
        }
        if hdr.is_none() {
            hdr = scan_for_header(&img, keep);
        }
        let (hdr_addr, hdr_bytes) = hdr.ok_or(PclntabError::NotFound)?;
        let mut t = GoPclntab::parse_header(hdr_bytes, keep)?;

        // moduledata: `.go.module` (Go 1.27+), `runtime.firstmoduledata`,
        // else a scan for a word pointing at the header.
        let mut md_addr = None;
        let go_module = img.sections.iter().find(|s| s.name == ".go.module");
        if let Some(s) = go_module.filter(|s| img.word(s.addr, t.ptr_size) == Some(hdr_addr)) {
            md_addr = Some(s.addr);
        }
        if md_addr.is_none() {
            for sym in file.symbols() {
                if sym.name() == Ok("runtime.firstmoduledata") && img.word(sym.address(), t.ptr_size) == Some(hdr_addr)
                {
                    md_addr = Some(sym.address());
                }
            }
        }
        if md_addr.is_none() {
            md_addr = t.scan_for_moduledata(&img, hdr_addr);
        }

        // Text start: header (Go 1.18-1.26, relocated in PIE), else
        // moduledata.text, else the `.text` section.
        if t.version != GoPclntabVersion::Go116 {
            let ps = u64::from(t.ptr_size);
            let from_hdr = img.word(hdr_addr.wrapping_add(8 + 2 * ps), t.ptr_size).unwrap_or(0);
            let from_md = md_addr
                .and_then(|m| img.word(m.wrapping_add(22 * ps), t.ptr_size))
                .unwrap_or(0);
            let from_sect = img
                .sections
                .iter()
                .find(|s| s.name == ".text" || s.name == "__text")
                .map_or(0, |s| s.addr);
            t.text_start = [from_hdr, from_md, from_sect]
                .into_iter()
                .find(|&v| v != 0)
                .unwrap_or(0);
        }
        if let Some(m) = md_addr {
            t.gofunc = t.find_gofunc(&img, m).map(|(g, b)| (g, keep(b)));
        }
        Ok(t)
    }

    /// Parse the pcHeader at the start of `b` (text start and gofunc are
    /// filled in by the caller); `keep` makes the stored copy of `b`, called
    /// only once the header is valid.
    fn parse_header(b: &[u8], keep: &dyn Fn(&[u8]) -> TableBytes) -> Result<GoPclntab, PclntabError> {
        if b.len() < 8 {
            return malformed("header truncated");
        }
        let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let bem = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let known = |m| matches!(m, MAGIC_GO12 | MAGIC_GO116 | MAGIC_GO118 | MAGIC_GO120);
        let (magic, be) = if known(le) {
            (le, false)
        } else if known(bem) {
            (bem, true)
        } else {
            return malformed(format!("bad magic {le:#010x}"));
        };
        let version = match magic {
            MAGIC_GO118 => GoPclntabVersion::Go118,
            MAGIC_GO120 => GoPclntabVersion::Go120,
            _ => return Err(PclntabError::UnsupportedVersion { magic }),
        };
        let (quantum, ptr_size) = (b[6], b[7]);
        if b[4] != 0 || b[5] != 0 || !matches!(quantum, 1 | 2 | 4) || !matches!(ptr_size, 4 | 8) {
            return malformed("bad header (pad/quantum/pointer size)");
        }
        let r = Rd { b, be };
        let ps = usize::from(ptr_size);
        let w = |i: usize| r.word(8 + i * ps, ptr_size);
        let nfunc = to_usize(w(0)?, "nfunc")?;
        let off = |i: usize| -> Result<usize, PclntabError> {
            let v = to_usize(w(i)?, "table offset")?;
            if v > b.len() {
                return malformed(format!("table offset {v:#x} beyond table end {:#x}", b.len()));
            }
            Ok(v)
        };
        let (funcname_off, cu_off, filetab_off, pctab_off, pcln_off) = (off(3)?, off(4)?, off(5)?, off(6)?, off(7)?);
        // functab: nfunc+1 (entryoff u32, funcoff u32) pairs.
        let ftab_len = nfunc.checked_add(1).and_then(|n| n.checked_mul(8));
        match ftab_len.and_then(|l| l.checked_add(pcln_off)) {
            Some(e) if e <= b.len() => {}
            _ => return malformed(format!("function table of {nfunc} entries does not fit")),
        }
        Ok(GoPclntab {
            version,
            big_endian: be,
            quantum,
            ptr_size,
            data: keep(b),
            nfunc,
            text_start: 0,
            funcname_off,
            cu_off,
            filetab_off,
            pctab_off,
            pcln_off,
            gofunc: None,
        })
    }

    /// Find moduledata: a pointer-aligned word equal to the header address
    /// followed by the funcnametab slice (pointer = header + funcnameOffset).
    fn scan_for_moduledata(&self, img: &Image<'_>, hdr_addr: u64) -> Option<u64> {
        let ps = u64::from(self.ptr_size);
        let want_names = hdr_addr.checked_add(self.funcname_off as u64)?;
        let ok = |a: u64| img.word(a.wrapping_add(ps), self.ptr_size) == Some(want_names);
        // Relocated (PIE) words first: cheap and exact.
        let mut cands: Vec<u64> = img
            .relocs
            .iter()
            .filter(|(_, v)| **v == hdr_addr)
            .map(|(&p, _)| p)
            .collect();
        cands.sort_unstable();
        if let Some(&a) = cands.iter().find(|&&a| ok(a)) {
            return Some(a);
        }
        let r = |b| Rd { b, be: img.be };
        for s in img.sections.iter().filter(|s| s.writable_or_data) {
            let mut off = (ps - s.addr % ps) % ps;
            while off + 2 * ps <= s.data.len() as u64 {
                if r(s.data).word(off as usize, self.ptr_size).ok() == Some(hdr_addr) && ok(s.addr.wrapping_add(off)) {
                    return Some(s.addr.wrapping_add(off));
                }
                off += ps;
            }
        }
        None
    }

    /// Read `moduledata.gofunc`. Its word index differs between releases
    /// (38 in Go 1.18-1.19, 40 in 1.20-1.26, 43 in 1.27); the preferred
    /// index for the version is tried first, then nearby ones, each
    /// validated against the inline trees it would imply.
    fn find_gofunc<'a>(&self, img: &Image<'a>, md: u64) -> Option<(u64, &'a [u8])> {
        let ps = u64::from(self.ptr_size);
        let has_go_module = img.sections.iter().any(|s| s.name == ".go.module");
        let preferred: &[u64] = match self.version {
            GoPclntabVersion::Go118 => &[38],
            _ if has_go_module => &[43, 40],
            _ => &[40, 43],
        };
        let mut order: Vec<u64> = preferred.to_vec();
        order.extend((34..=50).filter(|i| !preferred.contains(i)));
        for idx in order {
            let Some(g) = img.word(md.wrapping_add(idx * ps), self.ptr_size) else {
                continue;
            };
            if g == 0 {
                continue;
            }
            let Some(bytes) = img.bytes_from(g) else { continue };
            if self.plausible_gofunc(bytes) {
                return Some((g, bytes));
            }
        }
        None
    }

    /// Check the first inline-tree records of up to 64 functions.
    fn plausible_gofunc(&self, gf: &[u8]) -> bool {
        let r = Rd {
            b: gf,
            be: self.big_endian,
        };
        let names = self.data.len().saturating_sub(self.funcname_off);
        let mut checked = 0;
        for i in 0..self.nfunc {
            let Ok(f) = self.func(i) else { return false };
            let Ok(Some(off)) = self.funcdata(&f, FUNCDATA_INL_TREE) else {
                continue;
            };
            let off = off as usize;
            let (name, ppc) = match self.version {
                GoPclntabVersion::Go118 => (r.u32(off + 12), r.u32(off + 16)),
                _ => (r.u32(off + 4), r.u32(off + 8)),
            };
            let (Ok(name), Ok(ppc)) = (name, ppc) else { return false };
            let size = f.end.saturating_sub(f.entry);
            if name as usize >= names || u64::from(ppc) >= size.max(1) {
                return false;
            }
            let n = self.funcname_off + name as usize;
            if name != 0 && self.data.get(n - 1) != Some(&0) {
                return false;
            }
            checked += 1;
            if checked >= 64 {
                break;
            }
        }
        true
    }

    /// Layout generation of the table.
    pub fn version(&self) -> GoPclntabVersion {
        self.version
    }

    /// Address that function entry offsets are relative to.
    pub fn text_start(&self) -> u64 {
        self.text_start
    }

    /// Number of functions.
    pub fn function_count(&self) -> usize {
        self.nfunc
    }

    /// Whether inline trees can be decoded (moduledata was found).
    pub fn has_inline_info(&self) -> bool {
        self.gofunc.is_some()
    }

    /// All functions, sorted by entry (entries that cannot be decoded are
    /// skipped).
    pub fn functions(&self) -> Vec<GoFunc> {
        let mut v: Vec<GoFunc> = (0..self.nfunc)
            .filter_map(|i| {
                let f = self.func(i).ok()?;
                let name = self.func_name(f.name_off).ok()?;
                Some(GoFunc {
                    entry: f.entry,
                    end: f.end,
                    name,
                })
            })
            .collect();
        v.sort_by_key(|f| f.entry);
        v
    }

    /// Frames for an ELF virtual address, innermost first (inlined callees
    /// first, physical function last), or `None` if the pc is outside every
    /// function.
    pub fn frames(&self, pc: u64) -> Result<Option<Vec<GoFrame>>, PclntabError> {
        self.frames_with(pc, &mut PclnCache::default())
    }

    /// [`frames`](Self::frames), keeping decoded state in `cache` for the next lookups: the position tables of
    /// the last function looked up (decoded once, so sorted lookups that land in one function read them once)
    /// and function and file names by their table offsets.
    pub fn frames_with(&self, pc: u64, cache: &mut PclnCache) -> Result<Option<Vec<GoFrame>>, PclntabError> {
        let Some(i) = self.find_func(pc)? else { return Ok(None) };
        if cache.last.as_ref().is_none_or(|d| d.index != i) {
            cache.last = None;
            let f = self.func(i)?;
            let inl_tree = match &self.gofunc {
                Some(_) => self.funcdata(&f, FUNCDATA_INL_TREE)?,
                None => None,
            };
            let inl_off = match inl_tree {
                Some(_) if PCDATA_INL_TREE_INDEX < f.npcdata => {
                    self.rd().u32(add(f.pcdata_at, PCDATA_INL_TREE_INDEX as usize * 4)?)?
                }
                _ => 0,
            };
            cache.last = Some(DecodedFunc {
                index: i,
                file: self.runs(f.pcfile, &f),
                line: self.runs(f.pcln, &f),
                inl: self.runs(inl_off, &f),
                inl_tree,
                f,
            });
        }
        let PclnCache { last, names, files } = cache;
        let d = last.as_ref().expect("decoded above");
        let f = &d.f;
        let mut out = Vec::new();
        let mut cur = pc;
        for _ in 0..MAX_INLINE_DEPTH {
            let (file, line) = self.file_line_at(d, cur, files)?;
            let idx = match d.inl_tree {
                Some(_) => d.inl.at(cur)?,
                None => -1,
            };
            if idx < 0 {
                out.push(GoFrame {
                    function: self.func_name_cached(f.name_off, names)?,
                    file,
                    line: u64::from(line),
                    start_line: u64::from(f.start_line),
                    inlined: false,
                });
                return Ok(Some(out));
            }
            let call = self.inlined_call(d.inl_tree.unwrap_or(0), idx as u32)?;
            out.push(GoFrame {
                function: self.func_name_cached(call.name_off, names)?,
                file,
                line: u64::from(line),
                start_line: u64::from(call.start_line),
                inlined: true,
            });
            cur = match f.entry.checked_add(u64::from(call.parent_pc)) {
                Some(p) if p < f.end => p,
                _ => return malformed(format!("inline parentPc {:#x} outside function", call.parent_pc)),
            };
        }
        malformed("inline tree too deep (cycle?)")
    }

    // ---- internals ----

    fn rd(&self) -> Rd<'_> {
        Rd {
            b: &self.data,
            be: self.big_endian,
        }
    }

    fn entry_of(&self, i: usize) -> Result<u64, PclntabError> {
        let off = self.rd().u32(add(self.pcln_off, i.saturating_mul(8))?)?;
        Ok(self.text_start.wrapping_add(u64::from(off)))
    }

    /// Index of the function containing `pc`.
    fn find_func(&self, pc: u64) -> Result<Option<usize>, PclntabError> {
        if self.nfunc == 0 || pc < self.entry_of(0)? || pc >= self.entry_of(self.nfunc)? {
            return Ok(None);
        }
        // Largest i with entry(i) <= pc.
        let (mut lo, mut hi) = (0usize, self.nfunc);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.entry_of(mid)? <= pc {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if pc < self.entry_of(lo + 1)? {
            Ok(Some(lo))
        } else {
            Ok(None)
        }
    }

    fn func(&self, i: usize) -> Result<Func, PclntabError> {
        let r = self.rd();
        let ft = add(self.pcln_off, i.saturating_mul(8))?;
        let entry = self.entry_of(i)?;
        let end = self.entry_of(i + 1)?;
        let off = add(self.pcln_off, r.u32(ft + 4)? as usize)?;
        let entryoff = r.u32(off)?;
        if self.text_start.wrapping_add(u64::from(entryoff)) != entry {
            return malformed(format!("_func entry {entryoff:#x} does not match function table"));
        }
        let name_off = r.u32(off + 4)?;
        let pcfile = r.u32(off + 20)?;
        let pcln = r.u32(off + 24)?;
        let npcdata = r.u32(off + 28)?;
        let cu_offset = r.u32(off + 32)?;
        let (start_line, nfuncdata, pcdata_at) = match self.version {
            GoPclntabVersion::Go118 => (0, r.u8(off + 39)?, off + 40),
            _ => (r.u32(off + 36)?, r.u8(off + 43)?, off + 44),
        };
        Ok(Func {
            entry,
            end,
            name_off,
            pcfile,
            pcln,
            npcdata,
            cu_offset,
            start_line,
            nfuncdata,
            pcdata_at,
        })
    }

    fn func_name(&self, name_off: u32) -> Result<String, PclntabError> {
        let raw = self.rd().cstr(add(self.funcname_off, name_off as usize)?)?;
        Ok(String::from_utf8_lossy(raw).into_owned())
    }

    /// The name at `name_off`, shared through `names`.
    fn func_name_cached(&self, name_off: u32, names: &mut NameCache) -> Result<Arc<str>, PclntabError> {
        if let Some(n) = names.get(&name_off) {
            return Ok(n.clone());
        }
        let n: Arc<str> = Arc::from(self.func_name(name_off)?);
        names.insert(name_off, n.clone());
        Ok(n)
    }

    /// File and line at `pc` of the decoded function `d` (`?` and 0 where the tables say nothing), the file
    /// shared through `files`.
    fn file_line_at(&self, d: &DecodedFunc, pc: u64, files: &mut NameCache) -> Result<(Arc<str>, u32), PclntabError> {
        let fileno = d.file.at(pc)?;
        let line = d.line.at(pc)?;
        let unknown = || Ok((Arc::from("?"), 0));
        if fileno < 0 || line < 0 {
            return unknown();
        }
        let r = self.rd();
        let ci = (d.f.cu_offset as usize).saturating_add(fileno as usize);
        let cu = r.u32(add(self.cu_off, ci.saturating_mul(4))?)?;
        if cu == u32::MAX {
            return unknown();
        }
        if let Some(f) = files.get(&cu) {
            return Ok((f.clone(), line as u32));
        }
        let file: Arc<str> = Arc::from(String::from_utf8_lossy(r.cstr(add(self.filetab_off, cu as usize)?)?));
        files.insert(cu, file.clone());
        Ok((file, line as u32))
    }

    /// The whole pc-value table at `off` of function `f`, decoded as `runtime.pcvalue` walks it: the value of each
    /// pc range. Decoding stops at the table's end, past the function's end, or at the first malformed byte,
    /// which is kept as the answer for pcs at and beyond it (so a lookup fails exactly where walking the table
    /// to it would).
    fn runs(&self, off: u32, f: &Func) -> Runs {
        let mut runs = Runs::default();
        if off == 0 {
            return runs;
        }
        let r = self.rd();
        let mut p = match add(self.pctab_off, off as usize) {
            Ok(p) => p,
            Err(e) => {
                runs.fail = Some((f.entry, e));
                return runs;
            }
        };
        let mut val: i32 = -1;
        let mut pc = f.entry;
        loop {
            let step = (|| {
                if r.u8(p)? == 0 && pc != f.entry {
                    return Ok(None);
                }
                let (uv, n) = read_varint(&r, p)?;
                let (pcd, m) = read_varint(&r, p + n)?;
                Ok(Some((uv, pcd, n + m)))
            })();
            match step {
                Ok(None) => return runs,
                Ok(Some((uv, pcd, n))) => {
                    p += n;
                    let delta = (-((uv & 1) as i32)) ^ ((uv >> 1) as i32);
                    val = val.wrapping_add(delta);
                    pc = pc.wrapping_add(u64::from(pcd) * u64::from(self.quantum));
                    runs.ends.push((pc, val));
                    if pc >= f.end {
                        return runs;
                    }
                }
                Err(e) => {
                    runs.fail = Some((pc, e));
                    return runs;
                }
            }
        }
    }

    /// Offset (from gofunc) of funcdata `which`, or None.
    fn funcdata(&self, f: &Func, which: u32) -> Result<Option<u32>, PclntabError> {
        if which >= u32::from(f.nfuncdata) {
            return Ok(None);
        }
        let at = add(
            f.pcdata_at,
            (f.npcdata as usize).saturating_add(which as usize).saturating_mul(4),
        )?;
        let v = self.rd().u32(at)?;
        Ok(if v == u32::MAX { None } else { Some(v) })
    }

    fn inlined_call(&self, tree_off: u32, index: u32) -> Result<InlinedCall, PclntabError> {
        let Some((_, gf)) = &self.gofunc else {
            return malformed("no gofunc");
        };
        let r = Rd {
            b: gf,
            be: self.big_endian,
        };
        match self.version {
            GoPclntabVersion::Go118 => {
                // parent i16, funcID u8, _ u8, file i32, line i32, func_ i32, parentPc i32
                let at = add(tree_off as usize, (index as usize).saturating_mul(20))?;
                let _parent = r.u16(at)?;
                Ok(InlinedCall {
                    name_off: r.u32(at + 12)?,
                    parent_pc: r.u32(at + 16)?,
                    start_line: 0,
                })
            }
            _ => {
                // funcID u8, _ [3]u8, nameOff i32, parentPc i32, startLine i32
                let at = add(tree_off as usize, (index as usize).saturating_mul(16))?;
                Ok(InlinedCall {
                    name_off: r.u32(at + 4)?,
                    parent_pc: r.u32(at + 8)?,
                    start_line: r.u32(at + 12)?,
                })
            }
        }
    }
}

/// Names and files by their offsets in the tables.
type NameCache = HashMap<u32, Arc<str>, rustc_hash::FxBuildHasher>;

/// See [`GoPclntab::frames_with`].
#[derive(Default)]
pub struct PclnCache {
    last: Option<DecodedFunc>,
    names: NameCache,
    files: NameCache,
}

impl fmt::Debug for PclnCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PclnCache({} names, {} files)", self.names.len(), self.files.len())
    }
}

/// A function with its position tables decoded.
struct DecodedFunc {
    index: usize,
    f: Func,
    inl_tree: Option<u32>,
    file: Runs,
    line: Runs,
    inl: Runs,
}

/// A decoded pc-value table: the value up to each end pc, ascending.
#[derive(Default)]
struct Runs {
    ends: Vec<(u64, i32)>,
    /// Where decoding failed, and why: pcs at or beyond it have no known value.
    fail: Option<(u64, PclntabError)>,
}

impl Runs {
    /// The value at `pc`: that of the first range ending after it, -1 past the table.
    fn at(&self, pc: u64) -> Result<i32, PclntabError> {
        let i = self.ends.partition_point(|&(end, _)| end <= pc);
        match (self.ends.get(i), &self.fail) {
            (Some(&(_, v)), _) => Ok(v),
            (None, Some((_, e))) => Err(e.clone()),
            (None, None) => Ok(-1),
        }
    }
}

struct Func {
    entry: u64,
    end: u64,
    name_off: u32,
    pcfile: u32,
    pcln: u32,
    npcdata: u32,
    cu_offset: u32,
    start_line: u32,
    nfuncdata: u8,
    /// Offset in `data` of `pcdata[0]` (funcdata offsets follow).
    pcdata_at: usize,
}

struct InlinedCall {
    name_off: u32,
    parent_pc: u32,
    start_line: u32,
}

/// Validated scan of data sections for a pcHeader (`keep` as for
/// [`GoPclntab::parse_header`]).
fn scan_for_header<'a>(img: &Image<'a>, keep: &dyn Fn(&[u8]) -> TableBytes) -> Option<(u64, &'a [u8])> {
    for s in &img.sections {
        let d = s.data;
        let mut off = 0usize;
        while off + 8 <= d.len() {
            let w = &d[off..off + 4];
            let is_magic = [MAGIC_GO116, MAGIC_GO118, MAGIC_GO120]
                .iter()
                .any(|m| w == m.to_le_bytes() || w == m.to_be_bytes());
            let sane =
                d[off + 4] == 0 && d[off + 5] == 0 && matches!(d[off + 6], 1 | 2 | 4) && matches!(d[off + 7], 4 | 8);
            if is_magic && sane {
                match GoPclntab::parse_header(&d[off..], keep) {
                    Ok(t) if t.nfunc > 0 && t.func(0).is_ok() && t.func(t.nfunc - 1).is_ok() => {
                        return Some((s.addr.wrapping_add(off as u64), &d[off..]));
                    }
                    Err(PclntabError::UnsupportedVersion { .. }) => {
                        return Some((s.addr.wrapping_add(off as u64), &d[off..]));
                    }
                    _ => {}
                }
            }
            off += 4;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::bytes::TableOwner;
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/gopclntab/");

    /// `from_binary` keeps the table in the mapping and decodes exactly what
    /// `from_elf` (a copy) decodes, for every layout and PIE/non-PIE fixture.
    #[test]
    fn from_binary_shares_the_mapping_and_matches_from_elf() {
        for name in [
            "go127-stripped",
            "go127-pie-stripped",
            "go122-stripped",
            "go122-pie-stripped",
            "go119-stripped",
            "go119-pie-stripped",
            "go127-unstripped",
        ] {
            let path = format!("{DIR}{name}");
            let bin = Arc::new(Binary::open(&path).unwrap_or_else(|e| panic!("{name}: {e}")));
            let mapped = GoPclntab::from_binary(&bin).unwrap_or_else(|e| panic!("{name}: {e}"));
            let copied = GoPclntab::from_elf(&std::fs::read(&path).unwrap()).unwrap();

            assert!(
                matches!(mapped.data.owner, TableOwner::Mapped(_)),
                "{name}: {:?}",
                mapped.data
            );
            let gofunc = mapped.gofunc.as_ref().map(|(_, b)| b);
            assert!(
                matches!(gofunc.map(|b| &b.owner), Some(TableOwner::Mapped(_))),
                "{name}: {gofunc:?}"
            );
            assert!(matches!(copied.data.owner, TableOwner::Owned(_)), "{name}");
            assert_eq!(&*mapped.data, &*copied.data, "{name}");
            assert_eq!(
                mapped.gofunc.as_ref().map(|(a, b)| (*a, &**b)),
                copied.gofunc.as_ref().map(|(a, b)| (*a, &**b)),
                "{name}"
            );
            assert_eq!(mapped.version(), copied.version(), "{name}");
            assert_eq!(mapped.text_start(), copied.text_start(), "{name}");
            let fs = mapped.functions();
            assert_eq!(fs, copied.functions(), "{name}");
            for f in fs.iter().step_by(fs.len() / 200 + 1) {
                for pc in [f.entry, f.entry + (f.end - f.entry) / 2] {
                    assert_eq!(mapped.frames(pc), copied.frames(pc), "{name} {pc:#x}");
                }
            }
            // A clone shares the bytes.
            let c = mapped.clone();
            assert_eq!(c.data.as_ptr(), mapped.data.as_ptr(), "{name}");
        }
    }

    /// A slice that is not inside the mapping is copied, not mis-indexed.
    #[test]
    fn foreign_slice_is_copied() {
        let bin = Arc::new(Binary::open(format!("{DIR}go127-stripped")).unwrap());
        let other = vec![1u8, 2, 3];
        let b = TableBytes::within(&bin, &other);
        assert!(matches!(b.owner, TableOwner::Owned(_)));
        assert_eq!(&*b, &[1, 2, 3]);
        let inside = &bin.data()[16..32];
        let b = TableBytes::within(&bin, inside);
        assert!(matches!(b.owner, TableOwner::Mapped(_)));
        assert_eq!(&*b, inside);
        assert_eq!(b.as_ptr(), inside.as_ptr());
    }
}
