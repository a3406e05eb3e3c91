//! Every profile format we read, recognised by content (gzipped or not, file or standard input): profile.proto,
//! and pprof's legacy formats plus jemalloc's native heap dump ([`legacy`]).
//!
//! Recognition follows pprof's `ParseData`: gzip is undone first (bounded); then a legacy reader is chosen from
//! the first bytes, in pprof's order ([`Format`]); anything else is profile.proto. A text profile is read as a
//! stream, a line at a time, so a large one is never held in memory whole.

pub(crate) mod legacy;
pub(crate) mod text;

use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use super::decode::{LoadOptions, decode_bytes};
use super::model::Profile;
use crate::error::{Error, ErrorKind, Result};

pub use legacy::go_text::{CommentFrame, CommentFrames, apply_comment_frames};
pub use legacy::heap::go_exp;

/// A profile format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// profile.proto (pprof's own format; what Go, jemalloc_pprof and pprof write).
    #[default]
    Proto,
    /// gperftools binary CPU profile (`CPUPROFILE`), any word size and byte order.
    CpuProfile,
    /// gperftools/tcmalloc heap text: `@ heapprofile`, `@ heap_v2/RATE`, `@ heapz_v2/RATE`.
    GperftoolsHeap,
    /// Go `debug=1` heap text: `@ heap/2*RATE`, with `#` frame comments and the `runtime.MemStats` trailer.
    GoHeap,
    /// Heap growth text: `@ growth` / `@ growthz`.
    Growth,
    /// Heap fragmentation text: `@ fragmentation`.
    Fragmentation,
    /// jemalloc's native heap dump (`heap_v2/RATE` with `t*:`/`tN:` lines), as `jeprof` reads it.
    JemallocHeap,
    /// Go `debug=1` count profiles: `goroutine profile: total N`, `threadcreate profile: total N`.
    GoCount,
    /// Thread profiles: `--- threadz N ---`, `--- Thread ... stack: ---`.
    Threadz,
    /// Contention text: gperftools `--- contentionz`, Go `debug=1` block (`--- contention:`) and mutex
    /// (`--- mutex:`).
    Contention,
    /// Java heap profile (`--- heapz 1 ---`, `format = java`).
    JavaHeap,
    /// Java CPU profile (binary, third header word 1).
    JavaCpu,
    /// Java contention profile (`--- contentionz 1 ---`, `format = java`).
    JavaContention,
}

impl Format {
    /// A short human name.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Proto => "profile.proto",
            Format::CpuProfile => "gperftools CPU profile",
            Format::GperftoolsHeap => "gperftools heap profile",
            Format::GoHeap => "Go debug=1 heap profile",
            Format::Growth => "heap growth profile",
            Format::Fragmentation => "heap fragmentation profile",
            Format::JemallocHeap => "jemalloc heap profile",
            Format::GoCount => "Go debug=1 count profile",
            Format::Threadz => "thread profile",
            Format::Contention => "contention profile",
            Format::JavaHeap => "Java heap profile",
            Format::JavaCpu => "Java CPU profile",
            Format::JavaContention => "Java contention profile",
        }
    }

    /// Whether this is a text format whose values are heap sizes.
    pub fn is_heap(self) -> bool {
        matches!(
            self,
            Format::GperftoolsHeap
                | Format::GoHeap
                | Format::Growth
                | Format::Fragmentation
                | Format::JemallocHeap
                | Format::JavaHeap
        )
    }
}

/// The formats we read, for the error on anything else.
pub const KNOWN_FORMATS: &str = "profile.proto (gzipped or not), gperftools/tcmalloc heap (heapprofile, heap_v2, \
     growth, fragmentation), jemalloc heap_v2 dumps, Go debug=1 text (heap, goroutine, threadcreate, block, mutex), \
     gperftools CPU (32/64-bit, either byte order), contention, threadz, and Java heap/CPU/contention";

/// Where a profile came from and what its format said beyond the profile.proto message.
#[derive(Debug, Clone, Default)]
pub struct SourceInfo {
    /// The format read.
    pub format: Format,
    /// Details of the format: its header kind and rate (`heap_v2/524288`), word layout (`64-bit little-endian`).
    pub detail: String,
    /// jemalloc: the number of threads listed in the dump's totals.
    pub threads: Option<usize>,
    /// Go `debug=1` texts: the frames the `#` comment lines name (pprof ignores them).
    pub comment_frames: Option<Arc<CommentFrames>>,
}

impl SourceInfo {
    /// Nothing known but the format.
    pub fn new(format: Format) -> SourceInfo {
        SourceInfo {
            format,
            ..SourceInfo::default()
        }
    }
}

/// How many first bytes decide the format.
const HEAD: usize = 64 << 10;

/// Loads the profile at `path` (`-` for standard input) in any format we read.
///
/// Errors name the file (or `<stdin>`) and, for text formats, the line.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Profile> {
    let is_stdin = path.as_os_str() == "-";
    let name = if is_stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let open = || -> std::io::Result<Box<dyn Read + Send>> {
        Ok(if is_stdin {
            Box::new(std::io::stdin())
        } else {
            let f = std::fs::File::open(path)?;
            if f.metadata()?.is_dir() {
                return Err(std::io::Error::other("is a directory"));
            }
            Box::new(f)
        })
    };
    let io_err = |e: std::io::Error| Error::caused_by(ErrorKind::Io, "cannot read", e).context(&name);
    let mut r = open().map_err(io_err)?;
    let mut head = Vec::with_capacity(HEAD);
    (&mut r).take(HEAD as u64).read_to_end(&mut head).map_err(io_err)?;
    decode_reader(head, r, opts).map_err(|e| e.context(&name))
}

/// Decodes profile bytes in any format we read (gzipped or not). The error is one line without the file name.
pub fn decode_any(data: &[u8], opts: &LoadOptions) -> Result<Profile> {
    let n = data.len().min(HEAD);
    decode_reader(data[..n].to_vec(), &data[n..], opts)
}

/// Reads `data` (not gzipped) with the reader of `format`, whatever its first bytes say: for tests and fuzzing of
/// one reader. profile.proto goes to [`decode_bytes`].
pub fn decode_as(data: &[u8], format: Format, opts: &LoadOptions) -> Result<Profile> {
    if format == Format::Proto {
        return decode_bytes(data, opts);
    }
    parse_legacy(format, data, opts)
}

/// Decodes `head` followed by the rest of `r`.
fn decode_reader(head: Vec<u8>, mut r: impl Read + Send, opts: &LoadOptions) -> Result<Profile> {
    if head.is_empty() {
        return Err(Error::new(ErrorKind::Format, "empty file, not a profile"));
    }
    let gzipped = head.starts_with(&[0x1f, 0x8b]);
    if gzipped {
        // The compressed bytes are held (they are what gzip needs); the text inside is streamed.
        let mut data = head;
        r.read_to_end(&mut data)
            .map_err(|e| Error::caused_by(ErrorKind::Io, "cannot read", e))?;
        let mut inner = Vec::with_capacity(HEAD);
        let peek = MultiGzDecoder::new(&data[..]).take(HEAD as u64).read_to_end(&mut inner);
        if peek.is_ok()
            && let Some(f) = legacy::detect(&inner)
        {
            return parse_legacy(f, MultiGzDecoder::new(&data[..]), opts);
        }
        return proto_or_unknown(&data, opts, peek.is_ok().then_some(&inner[..]));
    }
    if let Some(f) = legacy::detect(&head) {
        return parse_legacy(f, Cursor::new(head).chain(r), opts);
    }
    if legacy::cpu::truncated_header(&head) && head.len() < 64 {
        return Err(Error::new(
            ErrorKind::Format,
            format!(
                "truncated gperftools CPU profile: the file ends inside its header ({} bytes)",
                head.len()
            ),
        ));
    }
    let mut data = head;
    (&mut r)
        .take(
            opts.max_decompressed
                .saturating_sub(data.len() as u64)
                .saturating_add(1),
        )
        .read_to_end(&mut data)
        .map_err(|e| Error::caused_by(ErrorKind::Io, "cannot read", e))?;
    proto_or_unknown(&data, opts, None)
}

/// Decodes profile.proto; a failure on bytes that look like text is said as "not a format we read".
fn proto_or_unknown(data: &[u8], opts: &LoadOptions, inflated_head: Option<&[u8]>) -> Result<Profile> {
    decode_bytes(data, opts).map_err(|e| {
        let head = inflated_head.unwrap_or(data);
        if matches!(e.kind(), ErrorKind::Format) && legacy::looks_like_text(&head[..head.len().min(HEAD)]) {
            Error::new(
                ErrorKind::Format,
                format!(
                    "unrecognized profile format: text that is none of the formats pprofsym reads ({KNOWN_FORMATS})"
                ),
            )
        } else if matches!(e.kind(), ErrorKind::Format) && e.to_string().starts_with("not a profile.proto message") {
            Error::new(
                ErrorKind::Format,
                format!("{e} (nor any other format pprofsym reads: {KNOWN_FORMATS})"),
            )
        } else {
            e
        }
    })
}

/// Reads a legacy profile from `r`.
fn parse_legacy(f: Format, r: impl Read + Send, opts: &LoadOptions) -> Result<Profile> {
    let (pb, info) = legacy::parse(f, r, opts.max_decompressed, opts.max_memory)
        .map_err(|e| Error::from(e).context(f.describe()))?;
    let p = Profile::new(pb)?;
    Ok(p.with_source(info))
}
