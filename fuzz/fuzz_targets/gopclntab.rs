//! Fuzz the Go pclntab decoder: locate and parse the table in arbitrary bytes, then look
//! up every function's first and last byte and pcs taken from the input itself.
//! Run: `cargo +nightly fuzz run gopclntab` (seed with `testdata/gopclntab/go1*-stripped`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pprofsym::symbolize::gopclntab::GoPclntab;

fuzz_target!(|data: &[u8]| {
    let Ok(t) = GoPclntab::from_elf(data) else { return };
    let _ = t.version();
    let _ = t.text_start();
    let funcs = t.functions();
    for f in funcs.iter().take(256) {
        let _ = t.frames(f.entry);
        let _ = t.frames(f.end.wrapping_sub(1));
    }
    for chunk in data.chunks_exact(8).take(64) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let _ = t.frames(u64::from_le_bytes(w));
    }
});
