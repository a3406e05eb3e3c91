//! Bounds-checked reading of a pclntab's bytes, where they are kept, and the sections of the binary around it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::{PclntabError, malformed};
use crate::binary::Binary;

/// Bytes kept by a [`GoPclntab`]: a range of a mapped binary (no copy, the
/// `Arc` keeps the mapping alive) or a shared copy. Cloning shares the bytes.
#[derive(Clone)]
pub(crate) struct TableBytes {
    pub(crate) owner: TableOwner,
    start: usize,
    end: usize,
}

/// What holds the bytes of a [`TableBytes`].
#[derive(Clone)]
pub(crate) enum TableOwner {
    /// The read-only mapping of a binary; `start..end` index its `data()`.
    Mapped(Arc<Binary>),
    /// A copy; `start..end` index it.
    Owned(Arc<[u8]>),
}

impl TableBytes {
    /// A shared copy of `b`.
    pub(crate) fn copied(b: &[u8]) -> TableBytes {
        TableBytes {
            owner: TableOwner::Owned(Arc::from(b)),
            start: 0,
            end: b.len(),
        }
    }

    /// `b`, a sub-slice of `bin.data()`, kept as a range of the mapping;
    /// copied if it lies outside the mapping.
    pub(crate) fn within(bin: &Arc<Binary>, b: &[u8]) -> TableBytes {
        let map = bin.data();
        let start = (b.as_ptr() as usize).wrapping_sub(map.as_ptr() as usize);
        match start.checked_add(b.len()) {
            Some(end) if start <= map.len() && end <= map.len() => TableBytes {
                owner: TableOwner::Mapped(bin.clone()),
                start,
                end,
            },
            _ => TableBytes::copied(b),
        }
    }
}

impl std::ops::Deref for TableBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        let all: &[u8] = match &self.owner {
            TableOwner::Mapped(bin) => bin.data(),
            TableOwner::Owned(v) => v,
        };
        all.get(self.start..self.end).unwrap_or(&[])
    }
}

impl fmt::Debug for TableBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.owner {
            TableOwner::Mapped(_) => "mapped",
            TableOwner::Owned(_) => "owned",
        };
        write!(f, "TableBytes({} bytes, {how})", self.end - self.start)
    }
}

/// Bounds-checked little/big-endian reader over a byte slice.
#[derive(Clone, Copy)]
pub(crate) struct Rd<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) be: bool,
}

impl<'a> Rd<'a> {
    pub(crate) fn bytes(&self, off: usize, n: usize) -> Result<&'a [u8], PclntabError> {
        match off.checked_add(n) {
            Some(end) if end <= self.b.len() => Ok(&self.b[off..end]),
            _ => malformed(format!(
                "read of {n} bytes at offset {off:#x} out of bounds ({:#x})",
                self.b.len()
            )),
        }
    }
    pub(crate) fn u8(&self, off: usize) -> Result<u8, PclntabError> {
        Ok(self.bytes(off, 1)?[0])
    }
    pub(crate) fn u16(&self, off: usize) -> Result<u16, PclntabError> {
        let s: [u8; 2] = self.bytes(off, 2)?.try_into().unwrap_or([0; 2]);
        Ok(if self.be {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    }
    pub(crate) fn u32(&self, off: usize) -> Result<u32, PclntabError> {
        let s: [u8; 4] = self.bytes(off, 4)?.try_into().unwrap_or([0; 4]);
        Ok(if self.be {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }
    pub(crate) fn u64(&self, off: usize) -> Result<u64, PclntabError> {
        let s: [u8; 8] = self.bytes(off, 8)?.try_into().unwrap_or([0; 8]);
        Ok(if self.be {
            u64::from_be_bytes(s)
        } else {
            u64::from_le_bytes(s)
        })
    }
    pub(crate) fn word(&self, off: usize, ptr_size: u8) -> Result<u64, PclntabError> {
        if ptr_size == 8 {
            self.u64(off)
        } else {
            self.u32(off).map(u64::from)
        }
    }
    /// NUL-terminated string starting at `off`.
    pub(crate) fn cstr(&self, off: usize) -> Result<&'a [u8], PclntabError> {
        let rest = match self.b.get(off..) {
            Some(r) => r,
            None => return malformed(format!("string offset {off:#x} out of bounds")),
        };
        match rest.iter().position(|&c| c == 0) {
            Some(n) => Ok(&rest[..n]),
            None => malformed(format!("unterminated string at offset {off:#x}")),
        }
    }
}

pub(crate) fn to_usize(v: u64, what: &str) -> Result<usize, PclntabError> {
    usize::try_from(v).or_else(|_| malformed(format!("{what} {v:#x} too large")))
}

pub(crate) fn add(a: usize, b: usize) -> Result<usize, PclntabError> {
    a.checked_add(b).map_or_else(|| malformed("offset overflow"), Ok)
}

/// A loaded section: address, bytes (empty for NOBITS).
pub(crate) struct Sect<'a> {
    pub(crate) name: String,
    pub(crate) addr: u64,
    pub(crate) data: &'a [u8],
    pub(crate) writable_or_data: bool,
}

/// The parts of the object file needed after the header is found.
pub(crate) struct Image<'a> {
    pub(crate) sections: Vec<Sect<'a>>,
    /// Dynamic RELATIVE-style relocations: place -> addend (PIE builds of
    /// Go <= 1.26 leave the pointer words of moduledata zero in the file).
    pub(crate) relocs: HashMap<u64, u64>,
    pub(crate) be: bool,
}

impl<'a> Image<'a> {
    pub(crate) fn section_at(&self, addr: u64) -> Option<&Sect<'a>> {
        self.sections
            .iter()
            .find(|s| addr >= s.addr && addr - s.addr < s.data.len() as u64)
    }
    /// Bytes from `addr` to the end of its section.
    pub(crate) fn bytes_from(&self, addr: u64) -> Option<&'a [u8]> {
        let s = self.section_at(addr)?;
        s.data.get(usize::try_from(addr - s.addr).ok()?..)
    }
    /// A pointer-sized word at `addr`, with a dynamic relocation applied.
    pub(crate) fn word(&self, addr: u64, ptr_size: u8) -> Option<u64> {
        if let Some(&v) = self.relocs.get(&addr) {
            return Some(v);
        }
        let b = self.bytes_from(addr)?;
        Rd { b, be: self.be }.word(0, ptr_size).ok()
    }
}

/// A pclntab varint (at most 5 bytes) at `p`: its value and length.
pub(crate) fn read_varint(r: &Rd<'_>, p: usize) -> Result<(u32, usize), PclntabError> {
    let mut v: u32 = 0;
    let mut shift = 0;
    for n in 0..5 {
        let b = r.u8(p + n)?;
        v |= u32::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        if b & 0x80 == 0 {
            return Ok((v, n + 1));
        }
        shift += 7;
    }
    malformed("varint too long")
}
