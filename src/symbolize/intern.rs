//! Shared strings for lookups: each spelling held once, named by a small index.
//!
//! The caches of the lookups are keyed by integers (DIE offsets, addresses, buffer addresses) and use
//! `rustc-hash`'s Fx hasher instead of SipHash, which showed in profiles. The keys come from the file being
//! read, but a symbolizer has no adversary to fear hash flooding from: the worst case is a slower run, as with
//! any pathological input.

use std::collections::HashMap;
use std::sync::Arc;

/// The hasher of the lookup caches (see the module docs).
pub(crate) type FastHash = rustc_hash::FxBuildHasher;

/// Shared strings, each spelling stored once and named by its index. Many DIEs (the abstract origins of one
/// inlined function in every unit that inlines it) carry the same names; interning makes them one allocation.
#[derive(Default)]
pub(crate) struct NameArena {
    list: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32, FastHash>,
}

impl NameArena {
    /// The index of `s`, added if new.
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.list.len()).expect("fewer than 2^32 distinct names");
        let a: Arc<str> = Arc::from(s);
        self.list.push(a.clone());
        self.index.insert(a, i);
        i
    }

    /// The string at `i` (from [`intern`](Self::intern)).
    pub(crate) fn get(&self, i: u32) -> Arc<str> {
        self.list[i as usize].clone()
    }
}
