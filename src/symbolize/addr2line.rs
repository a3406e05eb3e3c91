//! `pprofsym addr2line`: GNU addr2line-style lookups of single addresses, offline.
//!
//! Three parts, each usable alone:
//!
//! * request parsing: [`parse_address`] reads a token as GNU addr2line does (hex, optional
//!   `0x`); a token that is not an address is answered with `??`, never an error;
//! * runtime addresses: [`MapsLine::parse_all`] reads a `/proc/PID/maps` text; the line
//!   holding an address is a mapping (start, end, offset, path), normalized with
//!   [`super::normalize`] (pprof's `GetBase`) like any profile mapping. An address in the
//!   anonymous `rw-p` line right after a file's last line (`.bss` beyond the file pages)
//!   uses the preceding file-backed line, extended over the anonymous one;
//! * answers: [`Addr2line::resolve`] gives an [`Answer`], printed by [`format_gnu`] (GNU's
//!   `-f -i -C -a -s -p` habits) or [`format_json`] (one JSON object per address).
//!
//! [`run`] ties them together. Requests read from standard input are streamed by default:
//! one answer per request, flushed at once, so the command works as a coprocess like GNU
//! addr2line. Requests given as arguments, and with [`Addr2lineOptions::batch`] all of
//! standard input, are answered as one batch ([`Addr2line::prepare_batch`]): each binary
//! and mapping's addresses are looked up together, sorted, deduplicated and split over the
//! threads, as `pprofsym symbolize` does, and the answers are formatted on all threads from
//! the batch's compact form, in input order; the output is the same.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::elf::FrameView;
use super::{BinaryHandle, Frame, FrameSource, MappingInfo, Resolved, ResolvedBatch, Symbolizer, SymbolizerOptions};
use crate::addr::{FileOffset, RuntimeAddr};
use crate::binary::locate::LocatorConfig;
use crate::binary::{BinaryError, build_ids_match};

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// GNU addr2line's text.
    #[default]
    Gnu,
    /// One JSON object per line and address.
    Json,
}

/// Options of the `addr2line` command.
#[derive(Debug, Clone, Default)]
pub struct Addr2lineOptions {
    /// `-e`: the binary addresses belong to (required without maps).
    pub exe: Option<PathBuf>,
    /// `-f`: print the function name before `file:line`.
    pub functions: bool,
    /// `-i`: print all inline frames, innermost first.
    pub inlines: bool,
    /// `-C`: demangled names (raw linkage names otherwise).
    pub demangle: bool,
    /// `-a`: print the address first.
    pub addresses: bool,
    /// `-s`: file base names only.
    pub basenames: bool,
    /// `-p`: one line per frame, `func at file:line`.
    pub pretty: bool,
    /// Text or JSON.
    pub format: OutputFormat,
    /// A `/proc/PID/maps` text: addresses are runtime addresses of that process.
    pub maps: Option<PathBuf>,
    /// Directories searched for the files named in maps lines (`dir/<basename>`, pprof's
    /// `PPROF_BINARY_PATH` layouts).
    pub search_path: Vec<PathBuf>,
    /// Read every request from standard input first and answer them as one batch (faster
    /// for many addresses; not a coprocess). Requests given as arguments always are.
    pub batch: bool,
}

/// Errors that stop the command (bad binary, unreadable maps). Bad address tokens are
/// not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Addr2lineError {
    /// `-e BIN` cannot be used.
    #[error(transparent)]
    Binary(#[from] BinaryError),
    /// The maps text is unreadable or malformed.
    #[error("{path}: {msg}")]
    Maps {
        /// The maps file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// Neither `-e` nor maps were given.
    #[error("no binary: give -e BIN, --maps FILE or --pid PID")]
    NoBinary,
    /// Reading requests or writing answers failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Parse one address token as GNU addr2line does: hexadecimal, with or without `0x`,
/// surrounding blanks ignored. `None` for anything else (GNU reads such a token as 0).
pub fn parse_address(token: &str) -> Option<u64> {
    let t = token.trim();
    let digits = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// One line of `/proc/PID/maps`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MapsLine {
    /// First address.
    #[serde(serialize_with = "ser_hex")]
    pub start: u64,
    /// One past the last address.
    #[serde(serialize_with = "ser_hex")]
    pub end: u64,
    /// Permissions, e.g. `r-xp`.
    pub perms: String,
    /// File offset of `start`.
    #[serde(serialize_with = "ser_hex")]
    pub offset: u64,
    /// The file (or pseudo name such as `[heap]`); empty for anonymous memory.
    pub path: String,
}

impl MapsLine {
    /// Parse a maps text. Blank lines are skipped; any other line that is not
    /// `start-end perms offset dev inode [path]` is an error naming its line number.
    pub fn parse_all(text: &str) -> Result<Vec<MapsLine>, String> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            out.push(Self::parse(line).ok_or_else(|| format!("line {}: not a maps line: {line:?}", i + 1))?);
        }
        Ok(out)
    }

    /// Parse one line; `None` if malformed.
    pub fn parse(line: &str) -> Option<MapsLine> {
        let mut rest = line.trim_start();
        let mut field = || {
            let s = rest.trim_start();
            let end = s.find(char::is_whitespace).unwrap_or(s.len());
            let (f, r) = s.split_at(end);
            rest = r;
            (!f.is_empty()).then_some(f)
        };
        let range = field()?;
        let perms = field()?.to_string();
        let offset = u64::from_str_radix(field()?, 16).ok()?;
        let _dev = field()?;
        let _inode = field()?;
        let path = rest.trim().trim_end_matches(" (deleted)").to_string();
        let (s, e) = range.split_once('-')?;
        let start = u64::from_str_radix(s, 16).ok()?;
        let end = u64::from_str_radix(e, 16).ok()?;
        if end <= start || perms.len() != 4 {
            return None;
        }
        Some(MapsLine {
            start,
            end,
            perms,
            offset,
            path,
        })
    }

    /// Backed by a file (not anonymous, not `[heap]`-like).
    pub fn is_file(&self) -> bool {
        !self.path.is_empty() && !super::UNSYMBOLIZABLE_PREFIXES.iter().any(|p| self.path.starts_with(p))
    }
}

/// The mapping used for `addr`: the maps line holding it, or for `.bss` beyond a file's
/// last page (an anonymous line directly after the file's line, contiguous) the file's
/// line extended to the end of the anonymous one. `Err` says why there is none.
pub fn mapping_for(lines: &[MapsLine], addr: u64) -> Result<MapsLine, String> {
    let Some(i) = lines.iter().position(|l| l.start <= addr && addr < l.end) else {
        return Err(format!("{addr:#x} is in no maps line"));
    };
    let l = &lines[i];
    if l.is_file() {
        return Ok(l.clone());
    }
    if l.path.is_empty()
        && let Some(prev) = i.checked_sub(1).map(|j| &lines[j])
        && prev.end == l.start
        && prev.is_file()
    {
        return Ok(MapsLine {
            end: l.end,
            ..prev.clone()
        });
    }
    let what = if l.path.is_empty() {
        "anonymous memory"
    } else {
        l.path.as_str()
    };
    Err(format!(
        "{addr:#x} is in {what} ({:#x}-{:#x}), not in a file",
        l.start, l.end
    ))
}

/// A data address's object symbol (llvm-symbolizer `DATA`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataInfo {
    /// Raw symbol name.
    pub name: String,
    /// Symbol start.
    #[serde(serialize_with = "ser_hex")]
    pub start: u64,
    /// Symbol size.
    #[serde(serialize_with = "ser_hex")]
    pub size: u64,
}

/// The answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The request as given.
    pub input: String,
    /// The parsed address (runtime address with maps, else SVMA); `None` for garbage.
    pub address: Option<u64>,
    /// The maps line used (runtime addresses).
    pub maps_line: Option<MapsLine>,
    /// The binary looked in.
    pub binary: Option<PathBuf>,
    /// The lookup, if the address reached a binary.
    pub resolved: Option<Resolved>,
    /// The object symbol of a data address.
    pub data: Option<DataInfo>,
    /// Why there is no answer (garbage token, no maps line, no binary, bad DWARF).
    pub error: Option<String>,
}

impl Answer {
    fn frames(&self) -> &[Frame] {
        self.resolved.as_ref().map_or(&[], |r| &r.frames)
    }
}

/// Resolves requests against `-e BIN` and/or a maps text.
#[derive(Debug)]
pub struct Addr2line {
    sym: Symbolizer,
    exe: Option<(BinaryHandle, String, Option<String>)>,
    maps: Option<Vec<MapsLine>>,
    by_path: HashMap<String, Result<BinaryHandle, String>>,
}

impl Addr2line {
    /// Open `-e BIN` (an error if it is missing or not a usable ELF file) and read the maps
    /// text, if any.
    pub fn new(opts: &Addr2lineOptions) -> Result<Addr2line, Addr2lineError> {
        let locator = LocatorConfig {
            binaries: Vec::new(),
            main_binary: None,
            search_path: opts.search_path.clone(),
            ..LocatorConfig::default()
        };
        let mut sym = Symbolizer::new(SymbolizerOptions {
            locator,
            ..SymbolizerOptions::default()
        });
        let exe = match &opts.exe {
            Some(p) => {
                let h = sym.open_binary(p)?;
                sym.elf(h).prefetch();
                let bin = sym.binary(h);
                if bin.loads().is_empty() {
                    return Err(BinaryError::Malformed {
                        path: p.clone(),
                        msg: "no PT_LOAD program headers".into(),
                    }
                    .into());
                }
                let base = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Some((h, base, bin.build_id().map(str::to_string)))
            }
            None => None,
        };
        let maps = match &opts.maps {
            Some(p) => {
                let err = |msg: String| Addr2lineError::Maps { path: p.clone(), msg };
                let text = std::fs::read(p).map_err(|e| err(e.to_string()))?;
                let text = String::from_utf8_lossy(&text);
                Some(MapsLine::parse_all(&text).map_err(err)?)
            }
            None => None,
        };
        if exe.is_none() && maps.is_none() {
            return Err(Addr2lineError::NoBinary);
        }
        Ok(Addr2line {
            sym,
            exe,
            maps,
            by_path: HashMap::new(),
        })
    }

    /// The binary for a maps line's file: `-e BIN` when the base names or build IDs agree,
    /// else the file found by the locator (search path, then the path itself).
    fn binary_for_path(&mut self, path: &str) -> Result<BinaryHandle, String> {
        if let Some(r) = self.by_path.get(path) {
            return r.clone();
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let r = match &self.exe {
            Some((h, name, _)) if name == base => Ok(*h),
            Some((h, _, Some(id)))
                if crate::binary::Binary::open(path)
                    .ok()
                    .and_then(|b| b.build_id().map(|got| build_ids_match(got, id)))
                    .unwrap_or(false) =>
            {
                Ok(*h)
            }
            _ => {
                let m = MappingInfo {
                    start: RuntimeAddr(0),
                    limit: RuntimeAddr(0),
                    offset: FileOffset(0),
                    filename: path,
                    build_id: "",
                    is_main: false,
                };
                let found = self.sym.binary_for(&m);
                let warnings = self.sym.take_warnings();
                found.ok_or_else(|| warnings.join("; "))
            }
        };
        self.by_path.insert(path.to_string(), r.clone());
        r
    }

    /// Answer one request token.
    pub fn resolve(&mut self, input: &str) -> Answer {
        match self.prepare(input) {
            (ans, None) => ans,
            (ans, Some((h, mi))) => {
                let r = self.sym.resolve(h, &mi.info(), &[RuntimeAddr(mi.addr)]).pop();
                complete(ans, r)
            }
        }
    }

    /// Answer many request tokens, in their order. Equal to [`resolve`](Self::resolve) on
    /// each, but the addresses of each (binary, mapping) pair are looked up in one
    /// [`Symbolizer::resolve_batch`] batch.
    pub fn resolve_batch<S: AsRef<str>>(&mut self, inputs: &[S]) -> Vec<Answer> {
        let mut out = Vec::with_capacity(inputs.len());
        self.resolve_batch_with(inputs, |a| out.push(a));
        out
    }

    /// [`resolve_batch`](Self::resolve_batch), handing each answer to `each` in input order,
    /// so the answers are never all held at once.
    pub fn resolve_batch_with<S: AsRef<str>>(&mut self, inputs: &[S], mut each: impl FnMut(Answer)) {
        let b = self.prepare_batch(inputs);
        for k in 0..b.len() {
            each(b.answer(k));
        }
    }

    /// Parse every request and look up all of them, one batch per (binary, mapping) pair;
    /// [`PreparedBatch::answer`] then makes the answer of any request, from any thread.
    pub fn prepare_batch<'a, S: AsRef<str>>(&mut self, inputs: &'a [S]) -> PreparedBatch<'a, S> {
        struct Group {
            h: BinaryHandle,
            req: Request,
            maps_line: Option<MapsLine>,
            addrs: Vec<RuntimeAddr>,
        }
        let mut slots = Slots::default();
        let mut finals: Vec<Answer> = Vec::new();
        let mut group_of: HashMap<(BinaryHandle, Option<MapsLine>), u32> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        for input in inputs {
            match self.locate(input.as_ref()) {
                Err(ans) => {
                    finals.push(*ans);
                    slots.push(Slot::Final(slot_index(finals.len() - 1)));
                }
                Ok((h, req, maps_line)) => {
                    // The common case first: the group made last (with `-e` alone, the only one).
                    let last = groups
                        .len()
                        .checked_sub(1)
                        .filter(|&i| groups[i].h == h && groups[i].maps_line == maps_line);
                    let g = match last
                        .map(slot_index)
                        .or_else(|| group_of.get(&(h, maps_line.clone())).copied())
                    {
                        Some(g) => g,
                        None => {
                            let g = slot_index(groups.len());
                            group_of.insert((h, maps_line.clone()), g);
                            groups.push(Group {
                                h,
                                req,
                                maps_line,
                                addrs: Vec::new(),
                            });
                            g
                        }
                    };
                    let addrs = &mut groups[g as usize].addrs;
                    slots.push(Slot::Group(g, slot_index(addrs.len())));
                    addrs.push(RuntimeAddr(req.addr));
                }
            }
        }
        drop(group_of);
        let groups = groups
            .into_iter()
            .map(|g| {
                let batch = self.sym.resolve_batch(g.h, &g.req.info(), &g.addrs);
                PreparedGroup {
                    binary: self.sym.binary(g.h).path().to_path_buf(),
                    maps_line: g.maps_line,
                    batch,
                }
            })
            .collect();
        PreparedBatch {
            inputs,
            slots,
            finals,
            groups,
        }
    }

    /// Parse a request and find its binary and mapping: the answer so far, and what to look
    /// up. Nothing to look up means the answer is final (garbage token, no maps line, no
    /// binary).
    fn prepare(&mut self, input: &str) -> (Answer, Option<(BinaryHandle, Request)>) {
        match self.locate(input) {
            Err(ans) => (*ans, None),
            Ok((h, req, maps_line)) => (self.answer_for(input, req.addr, h, maps_line), Some((h, req))),
        }
    }

    /// An answer with nothing known yet but the request.
    fn empty_answer(input: &str) -> Answer {
        Answer {
            input: input.trim().to_string(),
            address: None,
            maps_line: None,
            binary: None,
            resolved: None,
            data: None,
            error: None,
        }
    }

    /// The answer, before its lookup, of a request that reached binary `h`.
    fn answer_for(&self, input: &str, addr: u64, h: BinaryHandle, maps_line: Option<MapsLine>) -> Answer {
        Answer {
            address: Some(addr),
            maps_line,
            binary: Some(self.sym.binary(h).path().to_path_buf()),
            ..Self::empty_answer(input)
        }
    }

    /// Parse a request and find its binary and mapping (the maps line used, with maps):
    /// what to look up, or the final answer (garbage token, no maps line, no binary).
    /// Nothing is allocated for a plain `-e BIN` request.
    fn locate(&mut self, input: &str) -> Result<(BinaryHandle, Request, Option<MapsLine>), Box<Answer>> {
        let Some(addr) = parse_address(input) else {
            let mut ans = Self::empty_answer(input);
            ans.error = Some(format!("{:?} is not a hexadecimal address", ans.input));
            return Err(Box::new(ans));
        };
        let Some(lines) = &self.maps else {
            let Some((h, _, _)) = &self.exe else {
                unreachable!("Addr2line::new requires -e or maps")
            };
            let req = Request {
                addr,
                start: 0,
                limit: 0,
                offset: 0,
            };
            return Ok((*h, req, None));
        };
        let fail = |error: String, maps_line: Option<MapsLine>| {
            Box::new(Answer {
                address: Some(addr),
                maps_line,
                error: Some(error),
                ..Self::empty_answer(input)
            })
        };
        let line = mapping_for(lines, addr).map_err(|e| fail(e, None))?;
        let h = match self.binary_for_path(&line.path) {
            Ok(h) => h,
            Err(e) => {
                let e = if e.is_empty() {
                    format!("no binary found for {}", line.path)
                } else {
                    e
                };
                return Err(fail(e, Some(line)));
            }
        };
        let req = Request {
            addr,
            start: line.start,
            limit: line.end,
            offset: line.offset,
        };
        Ok((h, req, Some(line)))
    }
}

/// Complete `ans` with the lookup's result.
fn complete(mut ans: Answer, r: Option<Result<Resolved, super::ResolveError>>) -> Answer {
    match r {
        Some(Ok(r)) => {
            if let (Some(size), Some((name, offset))) = (r.data_size, &r.symbol) {
                ans.data = Some(DataInfo {
                    name: name.to_string(),
                    start: r.svma.get() - offset,
                    size,
                });
            }
            ans.resolved = Some(r);
        }
        Some(Err(e)) => ans.error = Some(e.to_string()),
        None => ans.error = Some("no answer".into()),
    }
    ans
}

/// Where the answer of one request of a [`PreparedBatch`] comes from.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// `finals[i]`: answered without a lookup.
    Final(u32),
    /// Address `i` of group `g`.
    Group(u32, u32),
}

/// The slots of a [`PreparedBatch`]. The usual batch (every request an address in the
/// one `-e` binary) needs no list: request `k` is address `k` of group 0.
#[derive(Debug, Default)]
struct Slots {
    len: usize,
    /// `None` while every slot so far is `Group(0, k)`.
    list: Option<Vec<Slot>>,
}

impl Slots {
    fn push(&mut self, s: Slot) {
        let k = self.len;
        self.len += 1;
        if let Some(list) = &mut self.list {
            list.push(s);
        } else if !matches!(s, Slot::Group(0, i) if i as usize == k) {
            let mut list: Vec<Slot> = (0..k).map(|i| Slot::Group(0, slot_index(i))).collect();
            list.push(s);
            self.list = Some(list);
        }
    }

    fn get(&self, k: usize) -> Slot {
        match &self.list {
            Some(list) => list[k],
            None => Slot::Group(0, slot_index(k)),
        }
    }
}

fn slot_index(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 requests in a batch")
}

/// The requests of one (binary, mapping) pair of a [`PreparedBatch`], looked up.
#[derive(Debug)]
struct PreparedGroup {
    binary: PathBuf,
    maps_line: Option<MapsLine>,
    batch: ResolvedBatch,
}

/// A batch of requests with every lookup done ([`Addr2line::prepare_batch`]). Answers are
/// made on demand, in any order and from several threads at once, so a caller can format
/// them in parallel without holding them all.
#[derive(Debug)]
pub struct PreparedBatch<'a, S> {
    inputs: &'a [S],
    slots: Slots,
    finals: Vec<Answer>,
    groups: Vec<PreparedGroup>,
}

impl<S: AsRef<str>> PreparedBatch<'_, S> {
    /// The number of requests.
    pub fn len(&self) -> usize {
        self.slots.len
    }

    /// There are no requests.
    pub fn is_empty(&self) -> bool {
        self.slots.len == 0
    }

    /// [`format_gnu_into`] of the answer of request `k`, made from the batch's compact
    /// frames when the request is a successful code lookup; `false` (nothing written) for
    /// any other request, whose [`answer`](Self::answer) the caller formats instead.
    fn format_gnu_fast(&self, k: usize, o: &Addr2lineOptions, out: &mut String) -> bool {
        let Slot::Group(g, i) = self.slots.get(k) else {
            return false;
        };
        let g = &self.groups[g as usize];
        let Some(frames) = g.batch.code_frames(i as usize) else {
            return false;
        };
        format_gnu_frames(Some(g.batch.addr(i as usize).0), frames.iter(), o, out);
        true
    }

    /// The answer of request `k`.
    pub fn answer(&self, k: usize) -> Answer {
        match self.slots.get(k) {
            Slot::Final(f) => self.finals[f as usize].clone(),
            Slot::Group(g, i) => {
                let g = &self.groups[g as usize];
                let ans = Answer {
                    address: Some(g.batch.addr(i as usize).0),
                    maps_line: g.maps_line.clone(),
                    binary: Some(g.binary.clone()),
                    ..Addr2line::empty_answer(self.inputs[k].as_ref())
                };
                complete(ans, Some(g.batch.get(i as usize)))
            }
        }
    }
}

/// A parsed request: the address and the mapping it is read in (all zero: the binary's
/// own addresses).
#[derive(Debug, Clone, Copy)]
struct Request {
    addr: u64,
    start: u64,
    limit: u64,
    offset: u64,
}

impl Request {
    fn info(&self) -> MappingInfo<'static> {
        MappingInfo {
            start: RuntimeAddr(self.start),
            limit: RuntimeAddr(self.limit),
            offset: FileOffset(self.offset),
            filename: "",
            build_id: "",
            is_main: false,
        }
    }
}

fn file_name(file: &str, basenames: bool) -> &str {
    if basenames {
        file.rsplit('/').next().unwrap_or(file)
    } else {
        file
    }
}

/// GNU addr2line's text for one answer: with `-a` the address as `0x%016x`; per frame
/// (all with `-i`, else the innermost) the function (`-f`; demangled with `-C`, else the
/// linkage name) and `file:line`. Nothing known: `??` and `??:0`; a name but no line
/// (symbol table only): `??:?`. With `-p` each frame is one line `func at file:line`,
/// callers prefixed ` (inlined by) `.
pub fn format_gnu(a: &Answer, o: &Addr2lineOptions) -> String {
    let mut out = String::new();
    format_gnu_into(a, o, &mut out);
    out
}

/// [`format_gnu`], appended to `out` (no allocation when `out` has room).
pub fn format_gnu_into(a: &Answer, o: &Addr2lineOptions, out: &mut String) {
    let frames = a.frames().iter().map(|f| FrameView {
        function: &f.function,
        system_name: &f.system_name,
        file: &f.file,
        line: f.line,
    });
    format_gnu_frames(a.address, frames, o, out);
}

/// [`format_gnu_into`] from the address and the frames alone.
fn format_gnu_frames<'a>(
    address: Option<u64>,
    frames: impl ExactSizeIterator<Item = FrameView<'a>>,
    o: &Addr2lineOptions,
    out: &mut String,
) {
    use std::fmt::Write as _;
    if o.addresses {
        let _ = write!(out, "0x{:016x}", address.unwrap_or(0));
        out.push_str(if o.pretty { ": " } else { "\n" });
    }
    if frames.len() == 0 {
        if o.functions {
            out.push_str(if o.pretty { "?? " } else { "??\n" });
        }
        out.push_str("??:0\n");
        return;
    }
    let n = if o.inlines { frames.len() } else { 1 };
    for (i, f) in frames.take(n).enumerate() {
        if o.pretty && i > 0 {
            out.push_str(" (inlined by) ");
        }
        if o.functions {
            let name = if o.demangle { f.function } else { f.system_name };
            out.push_str(if name.is_empty() { "??" } else { name });
            out.push_str(if o.pretty { " at " } else { "\n" });
        }
        let file = if f.file.is_empty() {
            "??"
        } else {
            file_name(f.file, o.basenames)
        };
        out.push_str(file);
        if f.line == 0 {
            out.push_str(":?\n");
        } else {
            let _ = writeln!(out, ":{}", f.line);
        }
    }
}

fn ser_hex<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#x}"))
}

#[derive(Serialize)]
struct JsonFrame<'a> {
    function: &'a str,
    system_name: &'a str,
    file: &'a str,
    line: u64,
    column: u64,
    start_line: u64,
}

#[derive(Serialize)]
struct JsonSymbol<'a> {
    name: &'a str,
    offset: u64,
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    input: &'a str,
    address: Option<String>,
    binary: Option<String>,
    maps_line: Option<&'a MapsLine>,
    file_offset: Option<String>,
    svma: Option<String>,
    section: Option<&'a str>,
    symbol: Option<JsonSymbol<'a>>,
    source: Option<&'static str>,
    is_data: bool,
    data: Option<&'a DataInfo>,
    frames: Vec<JsonFrame<'a>>,
    error: Option<&'a str>,
}

/// The JSON name of a frame source.
pub fn source_name(s: FrameSource) -> &'static str {
    match s {
        FrameSource::Dwarf => "dwarf",
        FrameSource::Symtab => "symtab",
        FrameSource::Dynsym => "dynsym",
        FrameSource::GoPclntab => "gopclntab",
    }
}

/// One JSON object (one line, newline-terminated) for an answer. Addresses are hex strings;
/// `frames` are innermost first; `source` is `null` when nothing is known.
pub fn format_json(a: &Answer, o: &Addr2lineOptions) -> String {
    let r = a.resolved.as_ref();
    let frames: Vec<JsonFrame> = a
        .frames()
        .iter()
        .map(|f| JsonFrame {
            function: &f.function,
            system_name: &f.system_name,
            file: file_name(&f.file, o.basenames),
            line: f.line,
            column: f.column,
            start_line: f.start_line,
        })
        .collect();
    let j = JsonAnswer {
        input: &a.input,
        address: a.address.map(|v| format!("{v:#x}")),
        binary: a.binary.as_deref().map(|p| p.to_string_lossy().into_owned()),
        maps_line: a.maps_line.as_ref(),
        file_offset: r.and_then(|r| r.file_offset).map(|v| v.to_string()),
        svma: r.map(|r| r.svma.to_string()),
        section: r.and_then(|r| r.section.as_deref()),
        symbol: r
            .and_then(|r| r.symbol.as_ref())
            .map(|(name, offset)| JsonSymbol { name, offset: *offset }),
        source: r.filter(|r| !r.frames.is_empty()).map(|r| source_name(r.source)),
        is_data: r.is_some_and(|r| r.is_data),
        data: a.data.as_ref(),
        frames,
        error: a.error.as_deref(),
    };
    let mut s = serde_json::to_string(&j).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Answer `args` (if any) or else every line of `input`. Lines of `input` are streamed
/// (each answer written and flushed before the next request is read) unless `opts.batch`;
/// arguments and batch input are answered together ([`Addr2line::resolve_batch`]). The
/// first bad token and each distinct lookup problem get one note on `err`.
pub fn run(
    opts: &Addr2lineOptions,
    args: &[String],
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Addr2lineError> {
    let mut a = Addr2line::new(opts)?;
    let mut noted_garbage = false;
    let mut noted = std::collections::HashSet::new();
    // One note per problem: the first garbage token, each distinct lookup error.
    let mut note = |garbage: bool, e: &str, err: &mut dyn Write| -> std::io::Result<()> {
        if garbage {
            if !noted_garbage {
                noted_garbage = true;
                writeln!(err, "pprofsym addr2line: {e}; answering ??")?;
            }
        } else if noted.insert(e.to_string()) {
            writeln!(err, "pprofsym addr2line: {e}")?;
        }
        Ok(())
    };
    let format = |ans: &Answer, text: &mut String| match opts.format {
        OutputFormat::Gnu => format_gnu_into(ans, opts, text),
        OutputFormat::Json => text.push_str(&format_json(ans, opts)),
    };
    let res = if args.is_empty() && !opts.batch {
        let mut line = String::new();
        let mut text = String::new();
        loop {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                break Ok(());
            }
            let ans = a.resolve(&line);
            if let Some(e) = &ans.error
                && let Err(e) = note(ans.address.is_none(), e, err)
            {
                break Err(e);
            }
            text.clear();
            format(&ans, &mut text);
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                break Err(e);
            }
        }
    } else {
        // All of standard input in one buffer, the requests borrowed from it.
        let mut all = String::new();
        if args.is_empty() {
            input.read_to_string(&mut all)?;
        }
        let lines: Vec<&str> = all.split_inclusive('\n').collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let requests = if args.is_empty() { &lines } else { &args };
        let batch = a.prepare_batch(requests);
        write_batch(&batch, opts, &format, &mut note, out, err)
    };
    match res {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Requests per formatting task of [`write_batch`].
const FORMAT_CHUNK: usize = 2048;

/// Format the answers of `batch` in input order: runs of [`FORMAT_CHUNK`] answers are
/// made and formatted on the rayon pool, a few runs at a time, and written in order, so
/// only those runs' text is held. Notes go to `err` in input order too.
fn write_batch<S: AsRef<str> + Sync>(
    batch: &PreparedBatch<'_, S>,
    opts: &Addr2lineOptions,
    format: &(impl Fn(&Answer, &mut String) + Sync),
    note: &mut impl FnMut(bool, &str, &mut dyn Write) -> std::io::Result<()>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let gnu_fast = matches!(opts.format, OutputFormat::Gnu);
    let n = batch.len();
    let round = FORMAT_CHUNK * 2 * rayon::current_num_threads().max(1);
    let mut start = 0;
    while start < n {
        let end = (start + round).min(n);
        let parts: Vec<(String, Vec<(bool, String)>)> = (start..end)
            .step_by(FORMAT_CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|from| {
                let mut text = String::new();
                let mut notes = Vec::new();
                for k in from..(from + FORMAT_CHUNK).min(end) {
                    if gnu_fast && batch.format_gnu_fast(k, opts, &mut text) {
                        continue;
                    }
                    let ans = batch.answer(k);
                    if let Some(e) = &ans.error {
                        notes.push((ans.address.is_none(), e.clone()));
                    }
                    format(&ans, &mut text);
                }
                (text, notes)
            })
            .collect();
        for (text, notes) in parts {
            for (garbage, e) in &notes {
                note(*garbage, e, err)?;
            }
            out.write_all(text.as_bytes())?;
        }
        start = end;
    }
    out.flush()
}

/// `/proc/PID/maps` of a live process.
pub fn proc_maps_path(pid: u32) -> PathBuf {
    Path::new("/proc").join(pid.to_string()).join("maps")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_tokens() {
        assert_eq!(parse_address("10e0"), Some(0x10e0));
        assert_eq!(parse_address(" 0X10E0 \n"), Some(0x10e0));
        assert_eq!(parse_address("0x"), None);
        assert_eq!(parse_address("hello"), None);
        assert_eq!(parse_address("0x1g"), None);
        assert_eq!(parse_address("ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(parse_address("1ffffffffffffffff"), None);
        assert_eq!(parse_address(""), None);
    }

    #[test]
    fn maps_lines() {
        let l = MapsLine::parse("55bd6a3d3000-55bd6a3d4000 r-xp 00001000 fe:00 10010979   /tmp/a b/cdemo").unwrap();
        assert_eq!((l.start, l.end, l.offset), (0x55bd6a3d3000, 0x55bd6a3d4000, 0x1000));
        assert_eq!((l.perms.as_str(), l.path.as_str()), ("r-xp", "/tmp/a b/cdemo"));
        let anon = MapsLine::parse("55bd6a3d7000-55bd6a3d9000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!(anon.path, "");
        assert!(MapsLine::parse("nonsense").is_none());
        assert!(MapsLine::parse("2000-1000 r-xp 0 0:0 0").is_none());
        assert!(
            MapsLine::parse_all("1000-2000 r-xp 0 0:0 0\ngarbage\n")
                .unwrap_err()
                .contains("line 2")
        );
    }

    #[test]
    fn bss_after_file_line() {
        let lines = MapsLine::parse_all(
            "1000-2000 rw-p 00003000 fe:00 1 /bin/x\n2000-4000 rw-p 00000000 00:00 0\n5000-6000 rw-p 0 00:00 0 [heap]\n",
        )
        .unwrap();
        let m = mapping_for(&lines, 0x3000).unwrap();
        assert_eq!(
            (m.start, m.end, m.offset, m.path.as_str()),
            (0x1000, 0x4000, 0x3000, "/bin/x")
        );
        assert!(mapping_for(&lines, 0x5000).unwrap_err().contains("[heap]"));
        assert!(mapping_for(&lines, 0x7000).unwrap_err().contains("no maps line"));
    }
}
