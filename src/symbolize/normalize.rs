//! Runtime address → file offset → SVMA, following google/pprof
//! (`internal/elfexec`: `GetBase`, `ProgramHeadersForMapping`, `HeaderForFileOffset`;
//! `internal/binutils`: `elfMapping.findProgramHeader`).
//!
//! pprof computes one `base` per mapping and feeds `addr - base` to the symbolizer. The
//! program header used for the base is the unique `PT_LOAD` that matches the mapping, or,
//! when several match, the one holding the address's file offset. pprof picks that header
//! once, with the first address it sees; here it is picked per address, which gives the
//! same answer for every address pprof gets right and a better one when a single mapping
//! spans several segments.

use crate::addr::{FileOffset, RuntimeAddr, Svma};
use crate::binary::{ElfKind, LoadSegment};

const PAGE_SIZE: u64 = 4096;
const KERNEL_HALF: u64 = 1 << 63;
const PAGE_OFFSET_PPC64: u64 = 0xc000_0000_0000_0000;

/// The part of a profile mapping that normalization needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingRange {
    /// `memory_start`.
    pub start: RuntimeAddr,
    /// `memory_limit` (exclusive).
    pub limit: RuntimeAddr,
    /// `file_offset` of `start`.
    pub offset: FileOffset,
}

impl MappingRange {
    /// A mapping whose addresses are already SVMAs: start 0, offset 0 and limit 0 or
    /// all ones (Go's legacy text profiles, profiles with no mapping, jemalloc_pprof).
    pub fn is_identity(&self) -> bool {
        self.start.get() == 0 && self.offset.get() == 0 && (self.limit.get() == 0 || self.limit.get() == u64::MAX)
    }

    fn is_kernel_like(&self) -> bool {
        self.start >= self.limit || self.limit.get() >= KERNEL_HALF
    }
}

/// Why an address could not be normalized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// The address is not in `[start, limit)`.
    #[error("address {addr} outside mapping {start}-{limit}")]
    OutsideMapping {
        /// The address.
        addr: RuntimeAddr,
        /// Mapping start.
        start: RuntimeAddr,
        /// Mapping limit.
        limit: RuntimeAddr,
    },
    /// No `PT_LOAD` overlaps the mapping's file range.
    #[error("no PT_LOAD matches mapping {start}-{limit} at file offset {offset}")]
    NoSegment {
        /// Mapping start.
        start: RuntimeAddr,
        /// Mapping limit.
        limit: RuntimeAddr,
        /// Mapping file offset.
        offset: FileOffset,
    },
    /// Several segments match the mapping and none or several hold the file offset.
    #[error("{count} PT_LOADs hold file offset {file_offset} (stripped binary, or a segment with uninitialized data?)")]
    AmbiguousSegment {
        /// The address's file offset.
        file_offset: FileOffset,
        /// How many segments hold it (0 or ≥ 2).
        count: usize,
    },
    /// A case `GetBase` does not handle.
    #[error("cannot compute load base: {0}")]
    Base(String),
    /// The arithmetic left the 64-bit range.
    #[error("address {0} does not translate to a valid ELF address")]
    Overflow(RuntimeAddr),
}

/// The result of normalizing one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    /// `addr - start + offset`; `None` for identity mappings.
    pub file_offset: Option<FileOffset>,
    /// The address to look up in the symbol table and DWARF.
    pub svma: Svma,
    /// Index into the binary's `PT_LOAD` list of the segment used for the base (for an
    /// identity mapping: the segment whose vaddr range holds `svma`, if any).
    pub segment: Option<usize>,
}

/// pprof's `ProgramHeadersForMapping`: indices of the `PT_LOAD`s that can back a mapping of
/// `map_size` bytes at file offset `map_off`.
///
/// A segment qualifies if it has file bytes, its file range `[p_offset, p_offset+p_memsz)`
/// overlaps the mapping's, the mapping does not start before the segment's page-aligned
/// start, and it is not the case that the mapping starts inside the segment, covers less
/// than a page of it and extends at least a page past its end.
pub fn program_headers_for_mapping(loads: &[LoadSegment], map_off: u64, map_size: u64) -> Vec<usize> {
    let map_limit = map_off.wrapping_add(map_size);
    let mut out = Vec::new();
    for (i, p) in loads.iter().enumerate() {
        if p.filesz == 0 {
            continue;
        }
        let off = p.offset.get();
        let seg_limit = off.wrapping_add(p.memsz);
        if !(map_off < seg_limit && off < map_limit) {
            continue;
        }
        let page_rem = p.vaddr.get() & (PAGE_SIZE - 1);
        let aligned = off.saturating_sub(page_rem);
        if map_off < aligned {
            continue;
        }
        if map_off > off
            && seg_limit < map_off.wrapping_add(PAGE_SIZE)
            && map_limit >= seg_limit.wrapping_add(PAGE_SIZE)
        {
            continue;
        }
        out.push(i);
    }
    out
}

/// pprof's `HeaderForFileOffset`: the unique candidate with `p_offset <= off < p_offset+p_memsz`.
pub fn header_for_file_offset(
    loads: &[LoadSegment],
    candidates: &[usize],
    off: FileOffset,
) -> Result<usize, NormalizeError> {
    let hits: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| off.offset_from(loads[i].offset).is_some_and(|d| d < loads[i].memsz))
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        _ => Err(NormalizeError::AmbiguousSegment {
            file_offset: off,
            count: hits.len(),
        }),
    }
}

/// pprof's `FindTextProgHeader`: the executable `PT_LOAD` holding `text_addr`.
pub fn text_segment(loads: &[LoadSegment], text_addr: Svma) -> Option<usize> {
    loads
        .iter()
        .position(|p| p.is_executable() && p.contains_svma(text_addr))
}

/// pprof's `kernelBase`: heuristics for kernel images (perf records `_stext`/`_text` as the
/// mapping start; ChromeOS remaps the kernel to page 0). `None` when no rule applies.
///
/// google/pprof has had two versions of the third rule (`start >= p_vaddr` and
/// `start >= 2^63`); the later one is used, so a user-space library never reaches it.
fn kernel_base(seg: &LoadSegment, stext: Option<u64>, start: u64, limit: u64, offset: u64) -> Option<u64> {
    let vaddr = seg.vaddr.get();
    if vaddr == start.wrapping_sub(offset) {
        return Some(offset);
    }
    if let Some(s) = stext.filter(|_| start == 0 && limit != 0) {
        return Some(start.wrapping_sub(s));
    }
    if start >= KERNEL_HALF && limit > start && (offset == 0 || offset == PAGE_OFFSET_PPC64 || offset == start) {
        if let Some(s) = stext.filter(|s| start % PAGE_SIZE == s % PAGE_SIZE) {
            return Some(start.wrapping_sub(s));
        }
        return Some(start.wrapping_sub(vaddr));
    }
    if let Some(s) = stext.filter(|s| !start.is_multiple_of(PAGE_SIZE) && s % PAGE_SIZE == start % PAGE_SIZE) {
        return Some(start.wrapping_sub(s));
    }
    None
}

/// pprof's `GetBase`: `addr - base` is the SVMA of every address of the mapping.
/// Arithmetic wraps as in Go (bases are often "negative"). `stext` is the address of the
/// kernel's `_stext`, `None` for user space.
///
/// For user space the rule is `base = start - offset + p_offset - p_vaddr`: runtime `x`
/// is file offset `x - start + offset`, which is SVMA `fileoff - p_offset + p_vaddr`.
pub fn get_base(
    kind: ElfKind,
    seg: Option<&LoadSegment>,
    stext: Option<u64>,
    start: u64,
    limit: u64,
    offset: u64,
) -> Result<u64, NormalizeError> {
    if start == 0 && offset == 0 && (limit == u64::MAX || limit == 0) {
        return Ok(0);
    }
    let user = |seg: &LoadSegment| {
        start
            .wrapping_sub(offset)
            .wrapping_add(seg.offset.get())
            .wrapping_sub(seg.vaddr.get())
    };
    match kind {
        ElfKind::Exec => {
            let Some(seg) = seg else { return Ok(0) };
            if stext.is_none() && start > 0 && start < KERNEL_HALF {
                return Ok(user(seg));
            }
            if let Some(b) = kernel_base(seg, stext, start, limit, offset) {
                return Ok(b);
            }
            if start == 0 && limit != 0 && stext.is_none() {
                return Ok(start.wrapping_sub(seg.vaddr.get()));
            }
            Err(NormalizeError::Base(format!(
                "ET_EXEC segment {seg} with mapping start={start:#x} limit={limit:#x} offset={offset:#x}"
            )))
        }
        ElfKind::Rel => {
            if offset != 0 {
                return Err(NormalizeError::Base(format!(
                    "ET_REL mapping with file offset {offset:#x}"
                )));
            }
            Ok(start)
        }
        ElfKind::Dyn => {
            let Some(seg) = seg else {
                return Ok(start.wrapping_sub(offset));
            };
            if let Some(b) = kernel_base(seg, stext, start, limit, offset) {
                return Ok(b);
            }
            Ok(user(seg))
        }
    }
}

/// Normalize one address of a mapping of a binary with `kind` and `loads`.
///
/// `text_addr` is the address of `.text` (for kernel-like mappings, which use the
/// executable segment holding `.text`, as pprof does).
pub fn normalize(
    kind: ElfKind,
    loads: &[LoadSegment],
    text_addr: Option<Svma>,
    m: &MappingRange,
    addr: RuntimeAddr,
) -> Result<Normalized, NormalizeError> {
    if m.is_identity() {
        let svma = Svma(addr.get());
        return Ok(Normalized {
            file_offset: None,
            svma,
            segment: loads.iter().position(|p| p.contains_svma(svma)),
        });
    }
    if m.limit > m.start && !(m.start <= addr && addr < m.limit) {
        return Err(NormalizeError::OutsideMapping {
            addr,
            start: m.start,
            limit: m.limit,
        });
    }
    let rel = addr.offset_from(m.start).ok_or(NormalizeError::OutsideMapping {
        addr,
        start: m.start,
        limit: m.limit,
    })?;
    let file_offset = m.offset.checked_add(rel).ok_or(NormalizeError::Overflow(addr))?;
    let segment = if loads.is_empty() {
        None
    } else if m.is_kernel_like() {
        text_addr.and_then(|t| text_segment(loads, t))
    } else {
        let cands = program_headers_for_mapping(loads, m.offset.get(), m.limit.get() - m.start.get());
        match cands.as_slice() {
            [] => {
                return Err(NormalizeError::NoSegment {
                    start: m.start,
                    limit: m.limit,
                    offset: m.offset,
                });
            }
            [one] => Some(*one),
            _ => Some(header_for_file_offset(loads, &cands, file_offset)?),
        }
    };
    let base = get_base(
        kind,
        segment.map(|i| &loads[i]),
        None,
        m.start.get(),
        m.limit.get(),
        m.offset.get(),
    )?;
    let svma = Svma(addr.get().wrapping_sub(base));
    Ok(Normalized {
        file_offset: Some(file_offset),
        svma,
        segment,
    })
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    //! Vectors modelled on google/pprof `internal/elfexec/elfexec_test.go`
    //! (`TestGetBase`, the header sets of `TestFindProgHeaderForMapping`), with expected
    //! values worked out by hand from the rules above.
    use super::*;

    fn seg(offset: u64, vaddr: u64, filesz: u64, memsz: u64, flags: u32) -> LoadSegment {
        LoadSegment {
            offset: FileOffset(offset),
            vaddr: Svma(vaddr),
            filesz,
            memsz,
            align: 0x1000,
            flags,
        }
    }
    const RX: u32 = 5;
    const RW: u32 = 6;
    const R: u32 = 4;

    #[test]
    fn get_base_vectors() {
        let ls_offset = seg(0x200000, 0x400000, 1, 1, RX);
        let kernel = seg(0, 0xffffffff81000000, 1, 1, RX);
        let kernel_aslr = seg(0x1000, 0xffffffff80200000, 1, 1, RX);
        let kernel_pie_aligned = seg(0x10000, 0xffff800010010000, 1, 1, RX);
        let kernel_pie_unaligned = seg(0x10800, 0xffffffc010080800, 1, 1, RX);
        let ppc64 = seg(0, 0xc000000000000000, 1, 1, RX);
        use ElfKind::*;
        #[rustfmt::skip]
        let rows: &[(&str, ElfKind, Option<&LoadSegment>, Option<u64>, u64, u64, u64, Option<u64>)] = &[
            ("exec", Exec, None, None, 0x400000, 0, 0, Some(0)),
            ("exec offset", Exec, Some(&ls_offset), None, 0x400000, 0x800000, 0, Some(0x200000)),
            ("exec offset 2", Exec, Some(&ls_offset), None, 0x200000, 0x600000, 0, Some(0)),
            ("exec nomap", Exec, None, None, 0, 0, 0, Some(0)),
            ("exec kernel", Exec, Some(&kernel), Some(0xffffffff81000198), 0xffffffff82000198, 0xffffffff83000198, 0, Some(0x1000000)),
            ("exec kernel 2", Exec, Some(&kernel), Some(0xffffffff810002b8), 0xffffffff81000000, 0xffffffffa0000000, 0, Some(0)),
            ("exec kernel ASLR", Exec, Some(&kernel), Some(0xffffffff810002b8), 0xffffffff81000000, 0xffffffffa0000000, 0xffffffff81000000, Some(0)),
            ("exec kernel ASLR 2", Exec, Some(&kernel_aslr), None, 0xffffffff83e00000, 0xfffffffffc3fffff, 0x3c00000, Some(0x3c00000)),
            ("exec PPC64 kernel", Exec, Some(&ppc64), Some(0xc000000000000000), 0xc000000000000000, 0xd00000001a730000, 0, Some(0)),
            ("exec chromeos kernel", Exec, Some(&kernel), Some(0xffffffff81000198), 0, 0x10197, 0, Some(0x7efffe68)),
            ("exec chromeos kernel 2", Exec, Some(&kernel), Some(0xffffffff81000198), 0, 0x10198, 0, Some(0x7efffe68)),
            ("exec chromeos kernel 3", Exec, Some(&kernel), Some(0xffffffff81000198), 0x198, 0x100000, 0, Some(0x7f000000)),
            ("exec chromeos kernel 4", Exec, Some(&kernel), Some(0xffffffff81200198), 0x198, 0x100000, 0, Some(0x7ee00000)),
            ("exec chromeos kernel unremapped", Exec, Some(&kernel), Some(0xffffffff810001c8), 0xffffffff834001c8, 0xffffffffc0000000, 0xffffffff834001c8, Some(0x2400000)),
            ("dyn", Dyn, None, None, 0x200000, 0x300000, 0, Some(0x200000)),
            ("dyn map", Dyn, Some(&ls_offset), None, 0, 0x300000, 0, Some(0xffffffffffe00000)),
            ("dyn nomap", Dyn, None, None, 0, 0, 0, Some(0)),
            ("dyn map+offset", Dyn, Some(&ls_offset), None, 0x900000, 0xa00000, 0x200000, Some(0x500000)),
            ("dyn kernel", Dyn, Some(&kernel_pie_aligned), Some(0xffff800010000000), 0xffff800010000000, 0xffff800012815c00, 0xffff800010000000, Some(0)),
            ("dyn chromeos aslr kernel", Dyn, Some(&kernel_pie_unaligned), Some(0xffffffc010080800), 0x800, 0xb7f800, 0, Some(0x3feff80000)),
            ("dyn chromeos aslr kernel unremapped", Dyn, Some(&kernel_pie_unaligned), Some(0xffffffc010080800), 0xffffffdb5d680800, 0xffffffdb5e200000, 0xffffffdb5d680800, Some(0x1b4d600000)),
            ("rel", Rel, None, None, 0x2000000, 0x3000000, 0, Some(0x2000000)),
            ("rel nomap", Rel, None, None, 0, u64::MAX, 0, Some(0)),
            ("rel offset", Rel, None, None, 0x100000, 0x200000, 1, None),
        ];
        for &(label, kind, s, stext, start, limit, offset, want) in rows {
            let got = get_base(kind, s, stext, start, limit, offset).ok();
            assert_eq!(got, want, "{label}");
        }
    }

    fn tiny() -> Vec<LoadSegment> {
        vec![seg(0, 0, 0xc80, 0xc80, RX), seg(0xc80, 0x200c80, 0x1f0, 0x1f0, RW)]
    }
    fn tiny_bad_bss() -> Vec<LoadSegment> {
        vec![
            seg(0, 0, 0xc80, 0xc80, RX),
            seg(0xc80, 0x200c80, 0x100, 0x1f0, RW),
            seg(0xd80, 0x400d80, 0x90, 0x90, RW),
        ]
    }
    fn small() -> Vec<LoadSegment> {
        vec![
            seg(0, 0x400000, 0x6fc, 0x6fc, RX),
            seg(0xe10, 0x600e10, 0x230, 0x238, RW),
        ]
    }
    fn small_bad_bss() -> Vec<LoadSegment> {
        vec![
            seg(0, 0x200000, 0x6fc, 0x6fc, RX),
            seg(0x700, 0x400700, 0x500, 0x710, RW),
            seg(0xe10, 0x600e10, 0x230, 0x238, RW),
        ]
    }
    fn medium() -> Vec<LoadSegment> {
        vec![
            seg(0, 0, 0x51800, 0x51800, RX),
            seg(0x51800, 0x251800, 0x24a8, 0x24e8, RW),
            seg(0x53d00, 0x453d00, 0x13a58, 0x91a198, RW),
        ]
    }
    fn ffmpeg() -> Vec<LoadSegment> {
        vec![
            seg(0, 0x200000, 0x48d8410, 0x48d8410, RX),
            seg(0x48d8440, 0x4cd8440, 0x18cbe0, 0xd2fb70, RW),
        ]
    }
    fn sentry() -> Vec<LoadSegment> {
        vec![
            seg(0, 0x7f0000000000, 0xbc64d5, 0xbc64d5, RX),
            seg(0xbc7000, 0x7f0000bc7000, 0xcd6b30, 0xcd6b30, R),
            seg(0x189e000, 0x7f000189e000, 0x58180, 0x92d10, RW),
        ]
    }
    /// A segment with no file bytes (its offset is arbitrary) is never chosen.
    fn no_file_bits() -> Vec<LoadSegment> {
        vec![
            seg(0, 0x400000, 0x1000, 0x1000, RX),
            seg(0x1000, 0x600000, 0, 0x5000, RW),
        ]
    }

    #[test]
    fn program_headers_for_mapping_vectors() {
        #[rustfmt::skip]
        let rows: &[(&str, Vec<LoadSegment>, u64, u64, &[usize])] = &[
            ("no headers", vec![], 0, 0x1000, &[]),
            ("tiny: 4KB at 0 matches both", tiny(), 0, 0x1000, &[0, 1]),
            ("tiny: offset 4KB matches none", tiny(), 0x1000, 0x1000, &[]),
            ("tiny: unaligned size matches text", tiny(), 0, 0xc80, &[0]),
            ("tiny: unaligned offset matches data", tiny(), 0xc80, 0x1000, &[1]),
            ("tiny bad bss: 4KB at 0 matches all", tiny_bad_bss(), 0, 0x1000, &[0, 1, 2]),
            ("small: 4KB at 0 matches both", small(), 0, 0x1000, &[0, 1]),
            ("small: 8KB at 0 matches both", small(), 0, 0x2000, &[0, 1]),
            ("small: offset 4KB matches data", small(), 0x1000, 0x1000, &[1]),
            ("small: offset 8KB matches none", small(), 0x2000, 0x1000, &[]),
            ("small bad bss: 4KB at 0 matches all", small_bad_bss(), 0, 0x1000, &[0, 1, 2]),
            ("small bad bss: offset 4KB matches data", small_bad_bss(), 0x1000, 0x1000, &[2]),
            ("medium: text mapping (data starts on a later page)", medium(), 0, 0x52000, &[0]),
            ("medium: data mapping at 0x51000", medium(), 0x51000, 0x3000, &[1]),
            ("medium: bss-heavy mapping", medium(), 0x53000, 0x91b000, &[2]),
            ("ffmpeg: text", ffmpeg(), 0, 0x48d9000, &[0]),
            ("ffmpeg: data", ffmpeg(), 0x48d8000, 0xd30000, &[1]),
            ("sentry: text", sentry(), 0, 0xbc7000, &[0]),
            ("sentry: rodata", sentry(), 0xbc7000, 0xcd7000, &[1]),
            ("sentry: data", sentry(), 0x189e000, 0x93000, &[2]),
            ("sentry: one mapping over the file: later segments start on later pages", sentry(), 0, 0x1931000, &[0]),
            ("no file bits", no_file_bits(), 0x1000, 0x5000, &[]),
        ];
        for (label, loads, off, size, want) in rows {
            assert_eq!(program_headers_for_mapping(loads, *off, *size), *want, "{label}");
        }
    }

    #[test]
    fn header_for_file_offset_vectors() {
        let l = tiny_bad_bss();
        assert_eq!(header_for_file_offset(&l, &[0, 1, 2], FileOffset(0x100)), Ok(0));
        assert_eq!(header_for_file_offset(&l, &[0, 1, 2], FileOffset(0xc90)), Ok(1));
        // 0xd90 is in segment 1's memory image (bss) and in segment 2's file bytes.
        assert_eq!(
            header_for_file_offset(&l, &[0, 1, 2], FileOffset(0xd90)),
            Err(NormalizeError::AmbiguousSegment {
                file_offset: FileOffset(0xd90),
                count: 2
            })
        );
        assert_eq!(
            header_for_file_offset(&l, &[0, 1, 2], FileOffset(0x5000)),
            Err(NormalizeError::AmbiguousSegment {
                file_offset: FileOffset(0x5000),
                count: 0
            })
        );
    }

    fn range(start: u64, limit: u64, offset: u64) -> MappingRange {
        MappingRange {
            start: RuntimeAddr(start),
            limit: RuntimeAddr(limit),
            offset: FileOffset(offset),
        }
    }

    /// gcc PIE with four PT_LOADs, only the `r-xp` line in the profile (pprof-study 1.7).
    fn gcc_pie() -> Vec<LoadSegment> {
        vec![
            seg(0, 0, 0x988, 0x988, R),
            seg(0x1000, 0x1000, 0x5e1, 0x5e1, RX),
            seg(0x2000, 0x2000, 0x364, 0x364, R),
            seg(0x2d80, 0x3d80, 0x2dc, 0x2520, RW),
        ]
    }

    #[test]
    fn normalize_pie_text_mapping() {
        let m = range(0x5562c0df4000, 0x5562c0df5000, 0x1000);
        let n = normalize(
            ElfKind::Dyn,
            &gcc_pie(),
            Some(Svma(0x10e0)),
            &m,
            RuntimeAddr(0x5562c0df43f8),
        )
        .unwrap();
        assert_eq!(
            n,
            Normalized {
                file_offset: Some(FileOffset(0x13f8)),
                svma: Svma(0x13f8),
                segment: Some(1)
            }
        );
    }

    #[test]
    fn normalize_pie_data_mapping() {
        // rw-p line of the same binary: offset 0x2000 page, vaddr 0x3d80 segment.
        let m = range(0x5562c0df6000, 0x5562c0df8000, 0x2000);
        let n = normalize(ElfKind::Dyn, &gcc_pie(), None, &m, RuntimeAddr(0x5562c0df7058)).unwrap();
        // file offset 0x3058 is 0x2d8 past p_offset 0x2d80 → vaddr 0x3d80 + 0x2d8.
        assert_eq!(n.file_offset, Some(FileOffset(0x3058)));
        assert_eq!(n.svma, Svma(0x4058));
        assert_eq!(n.segment, Some(3));
    }

    #[test]
    fn normalize_shared_lib() {
        let libc = vec![
            seg(0, 0, 0x25000, 0x25000, R),
            seg(0x26000, 0x26000, 0x155000, 0x155000, RX),
        ];
        let m = range(0x7fa79222e000, 0x7fa792383000, 0x26000);
        let n = normalize(ElfKind::Dyn, &libc, None, &m, RuntimeAddr(0x7fa79222f249)).unwrap();
        assert_eq!(n.svma, Svma(0x27249));
    }

    #[test]
    fn normalize_go_pie_linked_at_400000() {
        let go = vec![
            seg(0, 0x400000, 0xe0000, 0xe0000, RX),
            seg(0xe0000, 0x4e0000, 0x10000, 0x10000, R),
        ];
        let m = range(0x55c592455000, 0x55c592535000, 0);
        let n = normalize(ElfKind::Dyn, &go, None, &m, RuntimeAddr(0x55c592455000 + 0x1234)).unwrap();
        assert_eq!(n.svma, Svma(0x401234));
        assert_eq!(n.segment, Some(0));
    }

    #[test]
    fn normalize_exec_non_pie_is_identity() {
        let exe = vec![
            seg(0, 0x400000, 0x868, 0x868, R),
            seg(0x1000, 0x401000, 0x581, 0x581, RX),
        ];
        let m = range(0x401000, 0x402000, 0x1000);
        let n = normalize(ElfKind::Exec, &exe, None, &m, RuntimeAddr(0x4010e0)).unwrap();
        assert_eq!(n.svma, Svma(0x4010e0));
    }

    #[test]
    fn normalize_identity_mappings() {
        for limit in [0, u64::MAX] {
            let m = range(0, limit, 0);
            let n = normalize(ElfKind::Dyn, &gcc_pie(), None, &m, RuntimeAddr(0x13f8)).unwrap();
            assert_eq!(
                n,
                Normalized {
                    file_offset: None,
                    svma: Svma(0x13f8),
                    segment: Some(1)
                }
            );
        }
    }

    #[test]
    fn normalize_two_segments_in_one_mapping_picks_segment_per_address() {
        // perf-style: one 8 KiB mapping at file offset 0 covers both segments of `small`.
        let m = range(0x400000, 0x402000, 0);
        let l = small();
        let text = normalize(ElfKind::Exec, &l, None, &m, RuntimeAddr(0x400100)).unwrap();
        assert_eq!((text.svma, text.segment), (Svma(0x400100), Some(0)));
        let data = normalize(ElfKind::Exec, &l, None, &m, RuntimeAddr(0x400e20)).unwrap();
        // file offset 0xe20 is in the RW segment (p_offset 0xe10, p_vaddr 0x600e10).
        assert_eq!((data.svma, data.segment), (Svma(0x600e20), Some(1)));
    }

    #[test]
    fn normalize_errors() {
        let m = range(0x5562c0df4000, 0x5562c0df5000, 0x1000);
        let e = normalize(ElfKind::Dyn, &gcc_pie(), None, &m, RuntimeAddr(0x5562c0df5000)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "address 0x5562c0df5000 outside mapping 0x5562c0df4000-0x5562c0df5000"
        );
        let m = range(0x5562c0df4000, 0x5562c0df5000, 0x9000);
        let e = normalize(ElfKind::Dyn, &gcc_pie(), None, &m, RuntimeAddr(0x5562c0df4010)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no PT_LOAD matches mapping 0x5562c0df4000-0x5562c0df5000 at file offset 0x9000"
        );
    }

    #[test]
    fn normalize_without_loads_uses_start_minus_offset() {
        let m = range(0x10000, 0x20000, 0);
        let n = normalize(ElfKind::Dyn, &[], None, &m, RuntimeAddr(0x10010)).unwrap();
        assert_eq!((n.svma, n.segment), (Svma(0x10), None));
    }
}
