//! One ELF file on disk: mapped once, its layout read eagerly (program headers,
//! sections, build ID, `.gnu_debuglink`), its symbols and DWARF left to
//! [`crate::symbolize`].

pub mod debuginfod;
pub mod locate;
pub mod origin;

pub use self::origin::{Located, Origin};

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use object::{Object, ObjectKind, ObjectSection, ObjectSegment, SectionKind, SegmentFlags};

use crate::addr::{FileOffset, Svma};
use crate::error::{Error, ErrorKind, Result};

/// `e_type` of the ELF header, restricted to the kinds that can be symbolized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfKind {
    /// `ET_EXEC`: a fixed-address executable.
    Exec,
    /// `ET_DYN`: a PIE executable or a shared library.
    Dyn,
    /// `ET_REL`: a relocatable object (kernel modules).
    Rel,
}

/// One `PT_LOAD` program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    /// `p_offset`.
    pub offset: FileOffset,
    /// `p_vaddr`.
    pub vaddr: Svma,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
    /// `p_flags` (`PF_X` = 1, `PF_W` = 2, `PF_R` = 4).
    pub flags: u32,
}

impl LoadSegment {
    /// `PF_X` is set.
    pub fn is_executable(&self) -> bool {
        self.flags & 1 != 0
    }

    /// Does `[vaddr, vaddr + memsz)` contain `a`?
    pub fn contains_svma(&self, a: Svma) -> bool {
        a.offset_from(self.vaddr).is_some_and(|d| d < self.memsz)
    }
}

impl fmt::Display for LoadSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = if self.flags & 4 != 0 { 'R' } else { ' ' };
        let w = if self.flags & 2 != 0 { 'W' } else { ' ' };
        let x = if self.flags & 1 != 0 { 'E' } else { ' ' };
        write!(
            f,
            "LOAD off={} vaddr={} filesz={:#x} memsz={:#x} {r}{w}{x}",
            self.offset, self.vaddr, self.filesz, self.memsz
        )
    }
}

/// One section header with an address (`SHF_ALLOC`) or file bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionInfo {
    /// Section name, e.g. `.text`.
    pub name: String,
    /// `sh_addr`.
    pub addr: Svma,
    /// `sh_size`.
    pub size: u64,
    /// `(sh_offset, size in file)`; `None` for `SHT_NOBITS` (`.bss`).
    pub file_range: Option<(FileOffset, u64)>,
}

/// The `.gnu_debuglink` section: the debug file's name and the CRC32 of its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugLink {
    /// File name (no directory), e.g. `prog.debug`.
    pub name: String,
    /// CRC32 (IEEE, as zlib) of the whole debug file.
    pub crc: u32,
}

/// An opened ELF file.
///
/// Opening maps the file and reads its headers only; symbol tables and DWARF are parsed
/// later, on first use, by [`crate::symbolize`]. Cloning shares the mapping (no reopen).
#[derive(Clone)]
pub struct Binary {
    path: PathBuf,
    map: Arc<Bytes>,
    kind: ElfKind,
    build_id: Option<String>,
    loads: Vec<LoadSegment>,
    sections: Vec<SectionInfo>,
    debuglink: Option<DebugLink>,
    has_dwarf: bool,
}

/// Where a binary's bytes live.
enum Bytes {
    /// A read-only mapping of the file.
    Mapped(Mmap),
    /// Bytes handed over in memory ([`Binary::from_bytes`]).
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Binary")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("build_id", &self.build_id)
            .field("loads", &self.loads)
            .finish_non_exhaustive()
    }
}

impl Binary {
    /// Map and parse `path`.
    ///
    /// Errors name the file: [`ErrorKind::Io`] when it cannot be read, [`ErrorKind::Binary`] when it is not an
    /// ELF file (or one this tool cannot use), is truncated or malformed.
    pub fn open(path: impl AsRef<Path>) -> Result<Binary> {
        let path = path.as_ref().to_path_buf();
        let io = |e| Error::io(&path, e);
        let file = File::open(&path).map_err(io)?;
        // SAFETY: the file is mapped read-only. A concurrent truncation by another process
        // would be undefined behaviour, as for every mmap-based reader (addr2line does the same).
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        Self::from_map(path, Bytes::Mapped(map))
    }

    /// Parse a binary held in memory; `path` names it in messages (and for finding its split DWARF and debug
    /// files). Errors as for [`open`](Self::open).
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Result<Binary> {
        Self::from_map(path.into(), Bytes::Owned(bytes))
    }

    fn from_map(path: PathBuf, map: Bytes) -> Result<Binary> {
        let name = path.display().to_string();
        if map.len() < 4 || &map[..4] != b"\x7fELF" {
            return Err(Error::new(ErrorKind::Binary, "not an ELF file").context(name));
        }
        let malformed =
            |e: object::Error| Error::caused_by(ErrorKind::Binary, "truncated or malformed ELF file", e).context(&name);
        let obj = object::File::parse(&*map).map_err(malformed)?;
        let kind = match obj.kind() {
            ObjectKind::Executable => ElfKind::Exec,
            ObjectKind::Dynamic => ElfKind::Dyn,
            ObjectKind::Relocatable => ElfKind::Rel,
            other => {
                let e = Error::new(ErrorKind::Binary, format!("unsupported ELF file: file type {other:?}"));
                return Err(e.context(name));
            }
        };
        let build_id = obj.build_id().map_err(malformed)?.map(hex);
        let mut loads = Vec::new();
        for seg in obj.segments() {
            let flags = match seg.flags() {
                SegmentFlags::Elf { p_flags, .. } => p_flags.0,
                _ => 0,
            };
            let (offset, filesz) = seg.file_range();
            loads.push(LoadSegment {
                offset: FileOffset(offset),
                vaddr: Svma(seg.address()),
                filesz,
                memsz: seg.size(),
                align: seg.align(),
                flags,
            });
        }
        let mut sections = Vec::new();
        let mut has_dwarf = false;
        for s in obj.sections() {
            let Ok(name) = s.name() else { continue };
            if name == ".debug_info" || name == ".zdebug_info" {
                has_dwarf |= s.kind() != SectionKind::UninitializedData && s.size() > 0;
            }
            if name.is_empty() {
                continue;
            }
            let file_range = s
                .file_range()
                .filter(|_| s.kind() != SectionKind::UninitializedData)
                .map(|(o, n)| (FileOffset(o), n));
            sections.push(SectionInfo {
                name: name.to_string(),
                addr: Svma(s.address()),
                size: s.size(),
                file_range,
            });
        }
        let debuglink = obj.gnu_debuglink().ok().flatten().map(|(name, crc)| DebugLink {
            name: String::from_utf8_lossy(name).into_owned(),
            crc,
        });
        drop(obj);
        Ok(Binary {
            path,
            map: Arc::new(map),
            kind,
            build_id,
            loads,
            sections,
            debuglink,
            has_dwarf,
        })
    }

    /// The path the file was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file.
    pub fn data(&self) -> &[u8] {
        &self.map
    }

    /// Tell the kernel the pages holding `part` (a slice of [`data`](Self::data)) are not
    /// needed for now, so they stop counting toward the process's memory: for compressed
    /// debug sections, read once to decompress them. Reading `part` again later works (the
    /// pages come back from the file). Slices outside the mapping are ignored.
    #[cfg(unix)]
    pub fn release_pages(&self, part: &[u8]) {
        let Bytes::Mapped(map) = &*self.map else {
            return;
        };
        let start = (part.as_ptr() as usize).wrapping_sub(map.as_ptr() as usize);
        if part.is_empty() || start.checked_add(part.len()).is_none_or(|end| end > map.len()) {
            return;
        }
        // SAFETY: the mapping is a read-only shared file mapping (`Mmap::map`), for which
        // MADV_DONTNEED only drops page-table entries: later reads fault the same file
        // bytes back in, so no slice of it ever sees different contents. A failure only
        // means the pages stay resident.
        let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, part.len()) };
    }

    /// See the Unix version; elsewhere nothing is done.
    #[cfg(not(unix))]
    pub fn release_pages(&self, _part: &[u8]) {}

    /// `e_type`.
    pub fn kind(&self) -> ElfKind {
        self.kind
    }

    /// `NT_GNU_BUILD_ID` as lowercase hex, as pprof writes it into `Mapping.build_id`.
    pub fn build_id(&self) -> Option<&str> {
        self.build_id.as_deref()
    }

    /// `PT_LOAD` headers in file order.
    pub fn loads(&self) -> &[LoadSegment] {
        &self.loads
    }

    /// Named sections in file order.
    pub fn sections(&self) -> &[SectionInfo] {
        &self.sections
    }

    /// `.gnu_debuglink`, if any.
    pub fn debuglink(&self) -> Option<&DebugLink> {
        self.debuglink.as_ref()
    }

    /// Does the file carry a non-empty `.debug_info` (not `NOBITS`)?
    pub fn has_dwarf(&self) -> bool {
        self.has_dwarf
    }

    /// The allocated section holding `a` (the smallest one when sections overlap, which
    /// happens only for `.tbss`-like oddities). Sections at address 0 are not allocated
    /// and never match.
    pub fn section_for(&self, a: Svma) -> Option<&SectionInfo> {
        self.sections
            .iter()
            .filter(|s| s.addr.get() != 0 && a.offset_from(s.addr).is_some_and(|d| d < s.size))
            .min_by_key(|s| s.size)
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compare two hex build IDs, ignoring case and trailing zero bytes (simpleperf pads
/// build IDs to 20 bytes with zeros). Empty IDs never match.
pub fn build_ids_match(a: &str, b: &str) -> bool {
    fn trim(s: &str) -> String {
        let mut s = s.trim().to_ascii_lowercase();
        while s.len() >= 2 && s.len().is_multiple_of(2) && s.ends_with("00") {
            s.truncate(s.len() - 2);
        }
        s
    }
    let (a, b) = (trim(a), trim(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_id_padding() {
        assert!(build_ids_match("abcd", "ABCD"));
        assert!(build_ids_match("abcd", "abcd000000"));
        assert!(!build_ids_match("abcd", "abce"));
        assert!(!build_ids_match("", ""));
        assert!(!build_ids_match("abcd01", "abcd"));
    }
}
