//! An open-addressing index from precomputed 64-bit hashes to dense ids, for keys that live in the merger's own
//! arrays (strings, locations, samples): the table stores only ids, and the caller compares candidates against its
//! arrays. No key is copied into the table, which is what makes merging a million samples cheap.

use std::hash::Hasher;

use rustc_hash::FxHasher;

/// Ids (0-based, `u32`) by hash; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct HashIndex {
    /// Slot → (id + 1, the hash's high 32 bits); id 0: empty. The length is a power of two, at most half full. The
    /// tag next to the id rejects most other keys without touching them (one cache miss per probe, not two).
    slots: Vec<(u32, u32)>,
    /// Id → its hash, for growing.
    hashes: Vec<u64>,
}

impl HashIndex {
    /// An index sized for about `n` keys.
    pub(crate) fn with_capacity(n: usize) -> HashIndex {
        let cap = (n.max(8) * 2).next_power_of_two();
        HashIndex {
            slots: vec![(0, 0); cap],
            hashes: Vec::with_capacity(n),
        }
    }

    /// The number of ids.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// The id whose hash is `h` and for which `eq` holds.
    #[inline]
    pub(crate) fn find(&self, h: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = (h >> 32) as u32;
        let mut i = (h as usize) & mask;
        loop {
            let (s, t) = self.slots[i];
            if s == 0 {
                return None;
            }
            if t == tag && eq(s - 1) {
                return Some(s - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Asks the processor to fetch the slot where a search for `h` starts, so that a [`HashIndex::find`] a little
    /// later finds it in cache (for callers that know their next keys' hashes in advance).
    #[inline]
    pub(crate) fn prefetch(&self, h: u64) {
        #[cfg(target_arch = "x86_64")]
        if !self.slots.is_empty() {
            let slot = &self.slots[(h as usize) & (self.slots.len() - 1)];
            // SAFETY: a prefetch is only a hint: it reads nothing the program sees and never faults; the address is
            // that of a live slot.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    (slot as *const (u32, u32)).cast::<i8>(),
                );
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = h;
    }

    /// Adds the next id (equal to the number of ids before the call) with hash `h`; returns it.
    #[inline]
    pub(crate) fn push(&mut self, h: u64) -> u32 {
        if (self.hashes.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let id = self.hashes.len() as u32;
        self.hashes.push(h);
        self.place(id, h);
        id
    }

    fn place(&mut self, id: u32, h: u64) {
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        while self.slots[i].0 != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (id + 1, (h >> 32) as u32);
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        self.slots = vec![(0, 0); cap];
        for id in 0..self.hashes.len() {
            let h = self.hashes[id];
            self.place(id as u32, h);
        }
    }
}

/// A hasher for the keys of the merger (Fx: fast, good enough for keys that are not chosen by an attacker to
/// collide; a collision costs a comparison, never a wrong answer).
pub(crate) fn hasher() -> FxHasher {
    FxHasher::default()
}

/// Finishes `h` with a multiply-xorshift, so the low bits used for the slot depend on every input word (Fx's own
/// low bits are weak for keys that differ only in high bits).
#[inline]
pub(crate) fn finish(h: FxHasher) -> u64 {
    let x = h.finish();
    let x = (x ^ (x >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    x ^ (x >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_hash_and_equality() {
        let keys: Vec<u64> = (0..1000).map(|i| i * 7919).collect();
        let mut idx = HashIndex::with_capacity(2);
        for (i, k) in keys.iter().enumerate() {
            // A deliberately bad hash: ten keys per value, told apart by the comparison.
            let h = k % 100;
            assert!(idx.find(h, |id| keys[id as usize] == *k).is_none());
            assert_eq!(idx.push(h), i as u32);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(idx.find(k % 100, |id| keys[id as usize] == *k), Some(i as u32));
        }
        assert_eq!(idx.len(), 1000);
        assert!(idx.find(5, |_| false).is_none());
    }
}
