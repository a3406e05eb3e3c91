//! From a runtime address to an answer: normalization, data symbols, then the binary's lookups, one at a time
//! or as a compact batch.

use std::sync::Arc;

use super::batch::{BatchLookups, CompactFrames};
use super::elf::ElfSymbolizer;
use super::normalize::{self, MappingRange, Normalized};
use super::source::Lookup;
use super::{Frame, MappingInfo};
use crate::addr::{RuntimeAddr, Svma};
use crate::answer::{FrameSource, Resolved};
use crate::binary::Binary;
use crate::error::{Error, ErrorKind, Result, ResultExt};

/// The answer for one address, without the batch machinery (the streaming `addr2line` asks one address at a
/// time).
pub(crate) fn resolve_one(sym: &ElfSymbolizer, m: &MappingInfo, addr: RuntimeAddr) -> Result<Resolved> {
    let bin = sym.binary();
    let text = text_start(bin);
    let n = match first_pass(sym, text, &m.range(), addr) {
        FirstPass::Done(r) => return r,
        FirstPass::Code(n) => n,
    };
    code_answer(bin, &sym.section_names(), addr, n, sym.frames(n.svma))
}

/// The lookups of many addresses of one mapping, done, kept in a compact form from which
/// [`ResolvedBatch::get`] makes the answer of any position, from any thread.
pub(crate) fn resolve_batch(sym: &ElfSymbolizer, m: &MappingInfo, addrs: &[RuntimeAddr]) -> ResolvedBatch {
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

/// What the first pass over an address gives: a final answer (a normalization error, a
/// data symbol), or the normalized code address to look up.
enum FirstPass {
    Done(Result<Resolved>),
    Code(Normalized),
}

/// Normalize `addr` (read in `range` of `sym`'s binary) and answer it if it is a data
/// address with a symbol.
fn first_pass(sym: &ElfSymbolizer, text: Option<Svma>, range: &MappingRange, addr: RuntimeAddr) -> FirstPass {
    let bin = sym.binary();
    let n = match normalize::normalize(bin.kind(), bin.loads(), text, range, addr) {
        Ok(n) => n,
        Err(e) => return FirstPass::Done(Err(Error::wrap(ErrorKind::Address, e))),
    };
    if !is_data_segment(bin, &n) {
        return FirstPass::Code(n);
    }
    let Some(d) = sym.data_symbol(n.svma) else {
        return FirstPass::Code(n);
    };
    let system_name: Arc<str> = Arc::from(d.name.as_str());
    let frame = Frame {
        function: Arc::from(crate::demangle::demangle(&d.name)),
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
    l: Result<Lookup>,
) -> Result<Resolved> {
    let l = l.context(bin.path().display())?;
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
    done: Vec<Result<Resolved>>,
    lookups: BatchLookups,
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
    pub fn code_frames(&self, i: usize) -> Option<CompactFrames<'_>> {
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
    pub fn get(&self, i: usize) -> Result<Resolved> {
        let tag = self.tags[i];
        if tag & DONE_TAG != 0 {
            return self.done[(tag & !DONE_TAG) as usize].clone();
        }
        let addr = self.addrs[i];
        let bin = &*self.bin;
        // Normalized in the first pass already, with the same result.
        let n = normalize::normalize(bin.kind(), bin.loads(), self.text, &self.range, addr)
            .map_err(|e| Error::wrap(ErrorKind::Address, e))?;
        code_answer(bin, &self.section_names, addr, n, self.lookups.get(tag as usize))
    }
}
