//! Fuzz profile symbolization against a corrupt binary: a profile whose mapping and addresses come from the input
//! is symbolized with the input's remaining bytes as its (main) binary (normalization with pprof's base rules, lookups,
//! and writing the answers into the profile), as `pprofsym symbolize` and `top BINARY` do.
//! Run: `cargo +nightly fuzz run symbolize` (seed with the binaries under `testdata/native/bin`, each prefixed
//! with 64 bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pprofsym::binary::locate::LocatorConfig;
use pprofsym::profile::names::DemangleMode;
use pprofsym::profile::{ProfileBuilder, pb};
use pprofsym::symbolize::profile::symbolize;
use pprofsym::symbolize::{Symbolizer, SymbolizerOptions};

fuzz_target!(|data: &[u8]| {
    if data.len() < 64 {
        return;
    }
    let word = |i: usize| u64::from_le_bytes(data[i * 8..i * 8 + 8].try_into().unwrap());
    let (start, len, offset) = (word(0), word(1) & 0xffff_ffff, word(2) & 0xffff_ffff);
    // The binary is a real file, opened (mapped) as the main binary is.
    let path = std::env::temp_dir().join(format!("pprofsym-fuzz-{}.bin", std::process::id()));
    if std::fs::write(&path, &data[64..]).is_err() {
        return;
    }
    let mut locator = LocatorConfig {
        debug_dirs: Vec::new(),
        use_mapping_path: false,
        ..LocatorConfig::default()
    };
    if locator.open_main_binary(&path).is_err() {
        return;
    }
    let file = path.to_string_lossy().into_owned();
    let mut b = ProfileBuilder::new();
    b.sample_type("inuse_space", "bytes");
    let m = b.mapping(start, start.wrapping_add(len), offset, &file, "");
    let locs: Vec<u64> = (3..8)
        .map(|i| {
            b.location(
                m,
                start.wrapping_add(word(i) % len.max(1)),
                Vec::<pb::Line>::new(),
                false,
            )
        })
        .collect();
    b.sample(locs, vec![1], Vec::new());
    let Ok(p) = b.build() else { return };
    let mut sym = Symbolizer::new(SymbolizerOptions {
        locator,
        ..Default::default()
    });
    let _ = symbolize(p, &mut sym, true, DemangleMode::Short);
});
