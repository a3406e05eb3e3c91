//! The legacy reader for Go debug=1 goroutine/threadcreate texts: any bytes read with it either fail with a message or give a profile every
//! report handles (`legacy_common.rs`).
//!
//! Seed and run (the corpus is not committed; seeds are the real fixtures):
//! ```sh
//! mkdir -p fuzz/corpus/legacy_go_count && cp testdata/legacy/profiles/*.heap testdata/legacy/profiles/*.prof \
//!   testdata/legacy/profiles/go/*.txt testdata/peer/legacy/* fuzz/corpus/legacy_go_count/
//! cd fuzz && cargo +nightly fuzz run legacy_go_count corpus/legacy_go_count -- -runs=1000000 -max_len=65536
//! ```
#![no_main]

#[path = "legacy_common.rs"]
mod legacy_common;

use libfuzzer_sys::fuzz_target;
use pprofsym::profile::Format;

fuzz_target!(|data: &[u8]| {
    legacy_common::check(data, Format::GoCount);
});
