//! The answers of a batch of lookups, kept compactly.
//!
//! A batch of 100,000 answers held as [`Lookup`] values costs tens of megabytes; here each frame is six 32-bit
//! numbers whose strings are indexes into one shared list per worker, a few megabytes in all. An answer is made
//! back into a [`Lookup`] ([`BatchLookups::get`]) or read in place ([`BatchLookups::frames_of`]) only when it is
//! used, from any thread.

use std::collections::HashMap;
use std::sync::Arc;

use super::intern::FastHash;
use super::source::Lookup;
use crate::answer::{Frame, FrameSource};
use crate::error::{Error, Result};

/// The answers of a batch of lookups ([`super::ElfSymbolizer`]'s batch paths), kept compactly:
/// each frame is six 32-bit numbers, its strings indexes into one shared list, so a batch
/// of 100,000 answers holds a few megabytes instead of tens. [`get`](Self::get) makes the
/// [`Lookup`] of one position when it is needed; the batch can be read from several
/// threads at once.
#[derive(Debug, Default)]
pub(crate) struct BatchLookups {
    /// The answers of consecutive runs of distinct addresses (one per worker).
    parts: Vec<LookupPart>,
    /// The first distinct address of each part.
    starts: Vec<usize>,
    /// The distinct address of each position of the batch.
    idx: Vec<u32>,
}

/// The answers of one run of distinct addresses of a [`BatchLookups`].
#[derive(Debug, Default)]
pub(crate) struct LookupPart {
    /// One per distinct address.
    entries: Vec<CompactEntry>,
    frames: Vec<CompactFrame>,
    /// The line and start line of frames where either does not fit in 32 bits (their
    /// [`CompactFrame`] says [`WIDE`]), by frame index.
    wide: HashMap<u32, (u64, u64)>,
    /// Index 0 is the empty string.
    strings: Vec<Arc<str>>,
    errors: Vec<Error>,
}

/// No string (the symbol of a [`CompactEntry`]) or an error entry (its `len`).
const NO_INDEX: u32 = u32::MAX;

/// A [`CompactFrame`] line whose values are in [`BatchLookups::wide`].
const WIDE: u32 = u32::MAX;

/// One answer of a [`BatchLookups`]: `len` frames from `first`, or with `len ==
/// NO_INDEX` the error `errors[first]`.
#[derive(Debug, Clone, Copy)]
struct CompactEntry {
    first: u32,
    len: u32,
    /// The symbol's raw name (a string index), or [`NO_INDEX`].
    symbol: u32,
    source: FrameSource,
    offset: u64,
}

/// A [`Frame`] whose strings are indexes into [`BatchLookups::strings`]; `line` is
/// [`WIDE`] when the line or start line needs more than 32 bits.
#[derive(Debug, Clone, Copy)]
struct CompactFrame {
    function: u32,
    system_name: u32,
    file: u32,
    column: u32,
    line: u32,
    start_line: u32,
}

/// Index conversions of [`BatchLookups`]; counts beyond `u32` cannot be reached (a
/// batch that big would need hundreds of gigabytes).
fn index(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 entries in a batch")
}

/// The frames of one answer of a [`BatchLookups`], borrowed (no [`Frame`] is made).
#[derive(Clone, Copy)]
pub struct CompactFrames<'a> {
    batch: &'a LookupPart,
    first: usize,
    len: usize,
}

/// One frame of [`CompactFrames`].
pub struct FrameView<'a> {
    /// Demangled name.
    pub function: &'a str,
    /// Raw linkage name.
    pub system_name: &'a str,
    /// Source file.
    pub file: &'a str,
    /// Line, 0 if unknown.
    pub line: u64,
}

impl<'a> CompactFrames<'a> {
    /// The number of frames.
    pub fn len(&self) -> usize {
        self.len
    }

    /// There are no frames.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Innermost first, as [`Lookup::frames`].
    pub fn iter(self) -> impl ExactSizeIterator<Item = FrameView<'a>> {
        let b = self.batch;
        (self.first..self.first + self.len).map(move |i| {
            let f = &b.frames[i];
            FrameView {
                function: &b.strings[f.function as usize],
                system_name: &b.strings[f.system_name as usize],
                file: &b.strings[f.file as usize],
                line: b.lines(i).0,
            }
        })
    }
}

impl LookupPart {
    /// The line and start line of frame `i`.
    fn lines(&self, i: usize) -> (u64, u64) {
        let f = &self.frames[i];
        if f.line == WIDE {
            self.wide.get(&index(i)).copied().unwrap_or_default()
        } else {
            (u64::from(f.line), u64::from(f.start_line))
        }
    }

    /// The frames of entry `k`; `None` when the lookup failed.
    fn frames_of(&self, k: usize) -> Option<CompactFrames<'_>> {
        let e = self.entries[k];
        if e.len == NO_INDEX {
            return None;
        }
        Some(CompactFrames {
            batch: self,
            first: e.first as usize,
            len: e.len as usize,
        })
    }

    /// The answer of entry `k`.
    fn get(&self, k: usize) -> Result<Lookup> {
        let e = self.entries[k];
        if e.len == NO_INDEX {
            return Err(self.errors[e.first as usize].clone());
        }
        let s = |i: u32| self.strings[i as usize].clone();
        let first = e.first as usize;
        let frames = (first..first + e.len as usize)
            .map(|i| {
                let f = &self.frames[i];
                let (line, start_line) = self.lines(i);
                Frame {
                    function: s(f.function),
                    system_name: s(f.system_name),
                    file: s(f.file),
                    line,
                    column: u64::from(f.column),
                    start_line,
                }
            })
            .collect();
        Ok(Lookup {
            frames,
            source: e.source,
            symbol: (e.symbol != NO_INDEX).then(|| (s(e.symbol), e.offset)),
        })
    }
}

impl BatchLookups {
    /// The answers of consecutive runs of the distinct addresses, and the distinct address
    /// of each position.
    pub(crate) fn new(parts: Vec<LookupPart>, idx: Vec<u32>) -> BatchLookups {
        let mut starts = Vec::with_capacity(parts.len());
        let mut n = 0;
        for p in &parts {
            starts.push(n);
            n += p.entries.len();
        }
        BatchLookups { parts, starts, idx }
    }

    /// The part and entry of position `k`.
    fn locate(&self, k: usize) -> (&LookupPart, usize) {
        let i = self.idx[k] as usize;
        let p = self.starts.partition_point(|&s| s <= i) - 1;
        (&self.parts[p], i - self.starts[p])
    }

    /// The frames of position `k`; `None` when the lookup failed.
    pub(crate) fn frames_of(&self, k: usize) -> Option<CompactFrames<'_>> {
        let (p, i) = self.locate(k);
        p.frames_of(i)
    }

    /// The answer for position `k` of the batch.
    pub(crate) fn get(&self, k: usize) -> Result<Lookup> {
        let (p, i) = self.locate(k);
        p.get(i)
    }
}

/// Builds the [`LookupPart`] of one worker. Strings are interned by the address of their
/// shared buffer: the symbolizer hands out one `Arc<str>` per name or file (per window for
/// files and symbol-table names, per worker for DWARF function names), and the part keeps
/// every string it interned, so no address is reused for another string while it is in
/// `ids`.
pub(crate) struct CompactBuilder {
    out: LookupPart,
    /// Buffer address → index into `out.strings`.
    ids: HashMap<usize, u32, FastHash>,
}

impl CompactBuilder {
    /// A builder for the answers of `n` distinct addresses.
    pub(crate) fn new(n: usize) -> CompactBuilder {
        CompactBuilder {
            out: LookupPart {
                entries: Vec::with_capacity(n),
                strings: vec![Arc::from("")],
                ..LookupPart::default()
            },
            ids: HashMap::default(),
        }
    }

    fn id(&mut self, s: &Arc<str>) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let key = Arc::as_ptr(s).cast::<u8>() as usize;
        if let Some(&i) = self.ids.get(&key) {
            return i;
        }
        let i = index(self.out.strings.len());
        self.out.strings.push(s.clone());
        self.ids.insert(key, i);
        i
    }

    /// Room for `more` frames. Past the first answers, the vector grows to the size the
    /// answers so far predict for all of them (plus a little), not to double its size.
    fn reserve_frames(&mut self, more: usize) {
        let v = &mut self.out.frames;
        if v.len() + more <= v.capacity() {
            return;
        }
        let (done, all) = (self.out.entries.len(), self.out.entries.capacity());
        if done >= 1024 {
            let predicted = v.len() * all / done + v.len() / 8;
            v.reserve_exact(predicted.max(v.len() + more).saturating_sub(v.len()));
        } else {
            v.reserve(more);
        }
    }

    /// Add the answer of the next distinct address.
    pub(crate) fn push(&mut self, r: Result<Lookup>) {
        let entry = match r {
            Err(e) => {
                self.out.errors.push(e);
                CompactEntry {
                    first: index(self.out.errors.len() - 1),
                    len: NO_INDEX,
                    symbol: NO_INDEX,
                    source: FrameSource::Symtab,
                    offset: 0,
                }
            }
            Ok(l) => {
                let first = index(self.out.frames.len());
                self.reserve_frames(l.frames.len());
                for f in &l.frames {
                    let narrow = |v: u64| u32::try_from(v).ok().filter(|&v| v != WIDE);
                    let (line, start_line) = match (narrow(f.line), narrow(f.start_line)) {
                        (Some(l), Some(s)) => (l, s),
                        _ => {
                            let i = index(self.out.frames.len());
                            self.out.wide.insert(i, (f.line, f.start_line));
                            (WIDE, 0)
                        }
                    };
                    let frame = CompactFrame {
                        function: self.id(&f.function),
                        system_name: self.id(&f.system_name),
                        file: self.id(&f.file),
                        // DWARF columns are 32-bit; a larger value cannot come from a lookup.
                        column: u32::try_from(f.column).unwrap_or(u32::MAX),
                        line,
                        start_line,
                    };
                    self.out.frames.push(frame);
                }
                let (symbol, offset) = match &l.symbol {
                    Some((name, off)) => (self.id(name), *off),
                    None => (NO_INDEX, 0),
                };
                CompactEntry {
                    first,
                    len: index(l.frames.len()),
                    symbol,
                    source: l.source,
                    offset,
                }
            }
        };
        self.out.entries.push(entry);
    }

    pub(crate) fn finish(self) -> LookupPart {
        let mut out = self.out;
        out.frames.shrink_to_fit();
        out.strings.shrink_to_fit();
        out
    }
}
