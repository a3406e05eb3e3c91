//! Looking up loose addresses, as `pprofsym addr2line` does: a binary's own addresses (`-e BIN`), or runtime
//! addresses read against a process's memory map.
//!
//! * [`parse_address`] reads a token as GNU addr2line does (hex, optional `0x`); a token that is not an address
//!   gets an answer saying so, never an error;
//! * runtime addresses: the maps line holding an address ([`crate::maps::mapping_for`]) is a mapping (start, end,
//!   offset, path), normalized like any profile mapping;
//! * [`AddrResolver::resolve`] answers one request; [`AddrResolver::prepare_batch`] looks many up together, each
//!   binary and mapping's addresses sorted, deduplicated and split over the threads, and makes each answer on
//!   demand, from any thread.
//!
//! Printing the answers is the command's business.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use super::{BinaryHandle, CompactFrames, Frame, MappingInfo, Resolved, ResolvedBatch, Symbolizer, SymbolizerOptions};
use crate::addr::{FileOffset, RuntimeAddr};
use crate::binary::build_ids_match;
use crate::binary::locate::LocatorConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::maps::{MapsLine, mapping_for};

/// What an [`AddrResolver`] reads addresses against.
#[derive(Debug, Clone, Default)]
pub struct ResolverOptions {
    /// The binary addresses belong to (required without `maps`).
    pub exe: Option<PathBuf>,
    /// A process's memory map: addresses are runtime addresses of that process.
    pub maps: Option<Vec<MapsLine>>,
    /// Directories searched for the files named in maps lines (`dir/<basename>`, pprof's `PPROF_BINARY_PATH`
    /// layouts).
    pub search_path: Vec<PathBuf>,
    /// The debuginfod client for debug files the binaries lack (`None`: no debuginfod).
    pub debuginfod: Option<std::sync::Arc<crate::binary::debuginfod::Debuginfod>>,
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
    /// The frames found, innermost first (none when the lookup failed).
    pub fn frames(&self) -> &[Frame] {
        self.resolved.as_ref().map_or(&[], |r| &r.frames)
    }
}

/// Resolves requests against a binary and/or a memory map.
#[derive(Debug)]
pub struct AddrResolver {
    sym: Symbolizer,
    exe: Option<(BinaryHandle, String, Option<String>)>,
    maps: Option<Vec<MapsLine>>,
    by_path: HashMap<String, std::result::Result<BinaryHandle, String>>,
}

impl AddrResolver {
    /// Open the binary (an error if it is missing or not a usable ELF file).
    pub fn new(opts: ResolverOptions) -> Result<AddrResolver> {
        let locator = LocatorConfig {
            binaries: Vec::new(),
            main_binary: None,
            search_path: opts.search_path,
            debuginfod: opts.debuginfod,
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
                    let e = Error::new(
                        ErrorKind::Binary,
                        "truncated or malformed ELF file: no PT_LOAD program headers",
                    );
                    return Err(e.context(p.display()));
                }
                let base = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Some((h, base, bin.build_id().map(str::to_string)))
            }
            None => None,
        };
        let maps = opts.maps;
        if exe.is_none() && maps.is_none() {
            return Err(Error::new(
                ErrorKind::Usage,
                "no binary and no memory map to read addresses in",
            ));
        }
        Ok(AddrResolver {
            sym,
            exe,
            maps,
            by_path: HashMap::new(),
        })
    }

    /// The binary for a maps line's file: `-e BIN` when the base names or build IDs agree,
    /// else the file found by the locator (search path, then the path itself).
    fn binary_for_path(&mut self, path: &str) -> std::result::Result<BinaryHandle, String> {
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
                let warnings: Vec<String> = self.sym.take_warnings().iter().map(ToString::to_string).collect();
                found.ok_or_else(|| warnings.join("; "))
            }
        };
        self.by_path.insert(path.to_string(), r.clone());
        r
    }

    /// Take the soft problems met so far (debug files not found or refused, debuginfod failures).
    pub fn take_warnings(&mut self) -> Vec<crate::error::Warning> {
        self.sym.take_warnings()
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
                unreachable!("AddrResolver::new requires a binary or maps")
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
        let line = mapping_for(lines, addr).map_err(|e| fail(e.to_string(), None))?;
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
fn complete(mut ans: Answer, r: Option<Result<Resolved>>) -> Answer {
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

/// A batch of requests with every lookup done ([`AddrResolver::prepare_batch`]). Answers are
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

    /// The address and the frames of request `k`, read in place from the batch, when the request is a
    /// successful code lookup; `None` for any other request, whose [`answer`](Self::answer) tells more.
    pub fn code_frames(&self, k: usize) -> Option<(u64, CompactFrames<'_>)> {
        let Slot::Group(g, i) = self.slots.get(k) else {
            return None;
        };
        let g = &self.groups[g as usize];
        let frames = g.batch.code_frames(i as usize)?;
        Some((g.batch.addr(i as usize).0, frames))
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
                    ..AddrResolver::empty_answer(self.inputs[k].as_ref())
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

fn ser_hex<S: serde::Serializer>(v: &u64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#x}"))
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
}
