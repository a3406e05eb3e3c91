//! What a lookup found, as plain data: made by [`crate::symbolize`], shown by [`crate::report`] (which never
//! imports the symbolizer).

use std::sync::Arc;

use crate::addr::{FileOffset, RuntimeAddr, Svma};

/// One frame, as pprof's `Line` + `Function` want it.
///
/// The strings are shared: every frame naming the same function (or file) of a binary holds the same `Arc<str>`,
/// so cloning a frame allocates nothing and a batch of answers costs little memory. Users may intern by pointer
/// ([`Arc::as_ptr`]) as well as by content.
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

/// Where the frames of an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameSource {
    /// DWARF debug info (inline chains, file, line, column).
    Dwarf,
    /// `.symtab`: function name only.
    Symtab,
    /// `.dynsym`: exported function name only.
    Dynsym,
    /// Go's `.gopclntab`.
    GoPclntab,
}

impl FrameSource {
    /// The name used in JSON output: `dwarf`, `symtab`, `dynsym`, `gopclntab`.
    pub fn name(self) -> &'static str {
        match self {
            FrameSource::Dwarf => "dwarf",
            FrameSource::Symtab => "symtab",
            FrameSource::Dynsym => "dynsym",
            FrameSource::GoPclntab => "gopclntab",
        }
    }
}

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
    /// Symbol-table symbol holding `svma` (raw name, shared like [`Frame`]'s strings) and the offset into it.
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

/// What happened to one mapping of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingStatus {
    /// Resolved against this binary.
    Symbolized {
        /// The file used.
        binary: String,
        /// Where it (and its debug file) came from.
        located: Box<crate::binary::Located>,
    },
    /// The mapping already had symbols and `force` was off.
    AlreadySymbolized,
    /// A pseudo mapping such as `[vdso]`.
    Unsymbolizable,
    /// No usable binary (missing, or its build ID differed: see the warnings).
    NoBinary,
    /// No location refers to it.
    Unused,
}

/// The answer for one location of a profile.
#[derive(Debug, Clone)]
pub enum LocationAnswer {
    /// Not looked up (its mapping was skipped, or it has none).
    Skipped,
    /// Looked up.
    Resolved(Box<Resolved>),
    /// Lookup failed (outside every segment, bad debug info).
    Failed(String),
}

/// The lookups for a profile, in `pb().location` order.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// One answer per location.
    pub locations: Vec<LocationAnswer>,
    /// One status per mapping, in `pb().mapping` order.
    pub mappings: Vec<MappingStatus>,
    /// Soft problems (missing binaries, build-ID mismatches, lookup failures).
    pub warnings: Vec<crate::error::Warning>,
}
