//! The bytes DWARF is read from, and the one place where a lifetime is promised rather than checked.
//!
//! A [`Reader`] is a plain `&'static` slice of a section. gimli clones readers all the time; with a
//! reference-counted owner every clone was an atomic operation on one counter shared by all worker threads
//! (10% of a batch's time). The bytes are owned by [`SectionBytes`] (a range of the binary's read-only mapping,
//! or a decompressed buffer), and the promise is kept by ownership and field order, as explained on [`Reader`].
//! Nothing else in the crate uses `unsafe` for DWARF.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use object::{Object, ObjectSection};

use crate::binary::Binary;
use crate::error::Result;

/// The gimli reader: a slice of a section's bytes, which a [`SectionBytes`] owns.
///
/// The `'static` lifetime is a promise kept by ownership, not by the compiler: every value
/// that holds readers (a `gimli::Dwarf`, an addr2line context, a split unit, a `.dwp`
/// package) is stored next to the `LoadedSections` of `symbolize::dwarf` (or split-DWARF file sections) that own
/// the bytes, declared before them so it is dropped first, and nothing derived from a reader
/// leaves `symbolize::dwarf` without being copied. A plain slice makes cloning a
/// reader free: gimli clones readers all the time, and a reference-counted owner made every
/// clone an atomic operation on one counter shared by all worker threads.
pub(crate) type Reader = gimli::EndianSlice<'static, gimli::RunTimeEndian>;

/// The bytes of one DWARF section: a range of the mapped file (no copy) or, for a
/// compressed section, its decompressed bytes. Cloning shares the bytes, so every worker
/// of a parallel batch reads the same memory.
#[derive(Clone)]
pub(crate) struct SectionBytes {
    ptr: *const u8,
    len: usize,
    /// Keeps `ptr..ptr + len` alive and unchanged.
    _owner: SectionOwner,
}

/// What keeps the bytes of a [`SectionBytes`] alive.
#[derive(Clone)]
enum SectionOwner {
    /// The read-only mapping of a file.
    Mapped(#[allow(dead_code)] Arc<Binary>),
    /// A decompressed section, never changed after it is made.
    Owned(#[allow(dead_code)] Arc<Vec<u8>>),
    /// No bytes.
    Empty,
}

impl SectionBytes {
    /// An empty section.
    pub(crate) fn empty() -> SectionBytes {
        SectionBytes {
            ptr: std::ptr::NonNull::<u8>::dangling().as_ptr(),
            len: 0,
            _owner: SectionOwner::Empty,
        }
    }

    /// The bytes of a section of `file`: `data` borrowed from `file`'s mapping is used in
    /// place; decompressed (owned) data is moved into a shared buffer without a copy.
    pub(crate) fn from_section(file: &Arc<Binary>, data: Cow<'_, [u8]>) -> SectionBytes {
        match data {
            Cow::Borrowed(b) => {
                let map = file.data();
                let start = (b.as_ptr() as usize).wrapping_sub(map.as_ptr() as usize);
                if start.checked_add(b.len()).is_some_and(|end| end <= map.len()) {
                    SectionBytes {
                        ptr: b.as_ptr(),
                        len: b.len(),
                        _owner: SectionOwner::Mapped(file.clone()),
                    }
                } else {
                    SectionBytes::from_vec(b.to_vec())
                }
            }
            Cow::Owned(v) => SectionBytes::from_vec(v),
        }
    }

    /// Owned bytes.
    fn from_vec(v: Vec<u8>) -> SectionBytes {
        if v.is_empty() {
            return SectionBytes::empty();
        }
        let v = Arc::new(v);
        SectionBytes {
            ptr: v.as_ptr(),
            len: v.len(),
            _owner: SectionOwner::Owned(v),
        }
    }
}

impl std::ops::Deref for SectionBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr + len` is a slice of the mapping or buffer held by `_owner`
        // (or dangling with `len` 0), which lives as long as `self` and is never written.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl SectionBytes {
    /// A reader over the bytes.
    ///
    /// # Safety
    /// The reader (and every reader or value made from it) must not be used after the
    /// last clone of `self` is dropped: see [`Reader`].
    pub(crate) unsafe fn reader(&self, endian: gimli::RunTimeEndian) -> Reader {
        // SAFETY: `ptr..ptr + len` is valid while a clone of `self` lives (see `Deref`);
        // the caller keeps one alive as long as the reader is used.
        let bytes: &'static [u8] = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        gimli::EndianSlice::new(bytes, endian)
    }
}

impl std::fmt::Debug for SectionBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SectionBytes({} bytes)", self.len())
    }
}

// SAFETY: the pointer is into memory owned by `_owner` (an `Arc` of a read-only mapping
// or of a buffer that is never changed), which is `Send + Sync`; nothing is mutable.
unsafe impl Send for SectionBytes {}
// SAFETY: see above.
unsafe impl Sync for SectionBytes {}

/// The `gimli::Dwarf` of one file, shared by all its DWARF contexts (see [`super::Dwarf::load`]).
pub(crate) type SharedDwarf = Arc<OnceLock<Result<Arc<gimli::Dwarf<Reader>>>>>;

/// One DWARF object file's sections as the split loader reads them.
pub(crate) type FileSections = (gimli::RunTimeEndian, Vec<(gimli::SectionId, SectionBytes)>);

/// The `.dwo` sections of `file` (uncompressed ones borrowed from the mapping).
pub(crate) fn file_sections(file: &Arc<Binary>) -> Option<FileSections> {
    let data = file.data();
    let obj = object::File::parse(data).ok()?;
    let endian = if obj.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let mut list = Vec::new();
    for s in obj.sections() {
        let Ok(name) = s.name() else { continue };
        let Some(id) = DWO_SECTIONS.iter().copied().find(|id| id.dwo_name() == Some(name)) else {
            continue;
        };
        let Some(bytes) = bounded_uncompressed(&s) else {
            continue;
        };
        let bytes = SectionBytes::from_section(file, bytes);
        list.push((id, bytes));
    }
    Some((endian, list))
}

/// Every section that can appear in a `.dwo` or `.dwp`.
const DWO_SECTIONS: &[gimli::SectionId] = &[
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugCuIndex,
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugLoc,
    gimli::SectionId::DebugLocLists,
    gimli::SectionId::DebugMacinfo,
    gimli::SectionId::DebugMacro,
    gimli::SectionId::DebugRngLists,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugStrOffsets,
    gimli::SectionId::DebugTuIndex,
    gimli::SectionId::DebugTypes,
];

/// A reader over the section called `name` in `list` (empty when absent).
///
/// # Safety
/// As [`SectionBytes::reader`]: the reader must not be used once `list` is dropped.
pub(crate) unsafe fn section(
    list: &[(gimli::SectionId, SectionBytes)],
    endian: gimli::RunTimeEndian,
    name: Option<&str>,
) -> Result<Reader, gimli::Error> {
    Ok(
        match name.and_then(|n| list.iter().find(|(id, _)| id.dwo_name() == Some(n))) {
            // SAFETY: passed on to the caller.
            Some((_, b)) => unsafe { b.reader(endian) },
            None => gimli::EndianSlice::new(&[], endian),
        },
    )
}

/// The most a compressed section may claim to decompress to, relative to its compressed size: zlib cannot expand
/// more than about 1032 to 1, zstd's practical ratios on debug info are far below this.
const MAX_EXPANSION: u64 = 1100;

/// Whatever the ratio, a compressed section may always claim this much.
const MIN_CLAIM: u64 = 64 << 20;

/// A section's bytes, decompressed if it is compressed; `None` when decompression fails, or when the size the
/// section claims is beyond what its compressed bytes could hold ([`MAX_EXPANSION`]): a corrupt or hostile file
/// could otherwise make us allocate terabytes.
pub(crate) fn bounded_uncompressed<'d>(s: &object::Section<'d, '_>) -> Option<Cow<'d, [u8]>> {
    let c = s.compressed_data().ok()?;
    let claim_ok = c.format == object::CompressionFormat::None
        || c.uncompressed_size <= (c.data.len() as u64).saturating_mul(MAX_EXPANSION).max(MIN_CLAIM);
    if !claim_ok {
        return None;
    }
    c.decompress().ok()
}
