//! The legacy reader for gperftools/tcmalloc heap, growth and Go heap text (its header says which): any bytes read with it either fail with a message or give a profile every
//! report handles (`legacy_common.rs`).
//!
//! Seed and run (the corpus is not committed; seeds are the real fixtures):
//! ```sh
//! mkdir -p fuzz/corpus/legacy_heap && cp testdata/legacy/profiles/*.heap testdata/legacy/profiles/*.prof \
//!   testdata/legacy/profiles/go/*.txt testdata/peer/legacy/* fuzz/corpus/legacy_heap/
//! cd fuzz && cargo +nightly fuzz run legacy_heap corpus/legacy_heap -- -runs=1000000 -max_len=65536
//! ```
#![no_main]

#[path = "legacy_common.rs"]
mod legacy_common;

use libfuzzer_sys::fuzz_target;
use pprofsym::profile::Format;

fuzz_target!(|data: &[u8]| {
    legacy_common::check(data, Format::GperftoolsHeap);
});
