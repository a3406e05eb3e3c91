//! The command's allocator: the system's, asking for transparent huge pages for large blocks.
//!
//! A merge fills hundreds of megabytes of fresh blocks (each input inflated whole, its location ids, the merged
//! arrays); with 4 KiB pages each page costs a fault, and the kernel's share of a merge's CPU time was 9%.
//! Linux backs a range marked `MADV_HUGEPAGE` with 2 MiB pages where it can, one fault for 512 pages; Debian and
//! most distributions leave huge pages to such requests (`/sys/kernel/mm/transparent_hugepage/enabled` set to
//! `madvise`). Only the whole 2 MiB pages inside a block of 4 MiB or more are marked: small blocks and the edges of
//! large ones keep their pages, so memory grows by little. On the merge benchmark (15 paired runs): page faults
//! 62k -> 34k, CPU time 1.62 -> 1.57 s, wall time 0.95 -> 0.88 s, peak 265 -> 271 MiB (snapshots); 148k -> 102k
//! faults, peak 531 -> 583 MiB, times within 2% (distinct profiles). Elsewhere than Linux the advice is not given.

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, with huge pages advised for blocks of [`LARGE`] bytes or more.
pub struct HugePages;

/// A huge page.
const HUGE: usize = 2 << 20;

/// Blocks this large are advised.
const LARGE: usize = 2 * HUGE;

/// Marks the whole huge pages of the block at `p` of `size` bytes.
#[inline]
fn advise(p: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if size >= LARGE && !p.is_null() {
        let start = (p as usize).next_multiple_of(HUGE);
        let end = (p as usize + size) & !(HUGE - 1);
        if end > start {
            // SAFETY: the range lies inside a block the allocator just gave; the advice changes no contents. A failure
            // (huge pages off, an old kernel) leaves the pages as they were.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (p, size);
}

// SAFETY: every call is the system allocator's, with the same arguments; `advise` only adds a hint on the result.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's promises, passed on.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let q = unsafe { System.realloc(p, layout, new_size) };
        advise(q, new_size);
        q
    }
}
