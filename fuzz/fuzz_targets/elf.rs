//! Fuzz the ELF and DWARF front end as `pprofsym addr2line` uses it: parse arbitrary bytes as a binary (headers,
//! sections, build ID), then look addresses up in it (DWARF with inline chains and split-DWARF references, symbol
//! tables, Go pclntab), one at a time and as a parallel windowed batch.
//! Run: `cargo +nightly fuzz run elf` (seed with the binaries under `testdata/native/bin` and
//! `testdata/gopclntab`).
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pprofsym::addr::Svma;
use pprofsym::binary::Binary;
use pprofsym::symbolize::ElfSymbolizer;

fuzz_target!(|data: &[u8]| {
    let Ok(bin) = Binary::from_bytes("fuzz.elf", data.to_vec()) else {
        return;
    };
    let mut addrs: Vec<Svma> = Vec::new();
    for s in bin.sections().iter().take(64) {
        addrs.push(s.addr);
        addrs.push(Svma(s.addr.get().wrapping_add(s.size / 2)));
    }
    for seg in bin.loads().iter().take(16) {
        addrs.push(seg.vaddr);
    }
    for chunk in data.chunks_exact(8).take(64) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        addrs.push(Svma(u64::from_le_bytes(w)));
    }
    let mut sym = ElfSymbolizer::new(Arc::new(bin), None);
    for &a in addrs.iter().take(32) {
        let _ = sym.frames(a);
        let _ = sym.data_symbol(a);
    }
    sym.set_batch_window(8);
    let _ = sym.frames_batch_parallel(&addrs, 2);
    let _ = sym.split_dwarf_warnings();
});
