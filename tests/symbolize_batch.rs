//! `Symbolizer::resolve` on a big batch (sorted, deduplicated, split over threads, shared
//! sections and caches) answers exactly as one-by-one lookups do.

use std::path::PathBuf;

use pprofsym::addr::{FileOffset, RuntimeAddr};
use pprofsym::symbolize::{MappingInfo, Symbolizer, SymbolizerOptions};

fn heapdemo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/go/bin/heapdemo")
}

#[test]
fn batch_resolve_equals_single_lookups() {
    let identity = MappingInfo {
        start: RuntimeAddr(0),
        limit: RuntimeAddr(u64::MAX),
        offset: FileOffset(0),
        filename: "",
        build_id: "",
        is_main: false,
    };
    let mut batch = Symbolizer::new(SymbolizerOptions::default());
    let h = batch.open_binary(heapdemo()).unwrap();
    let text = batch
        .binary(h)
        .sections()
        .iter()
        .find(|s| s.name == ".text")
        .map(|s| (s.addr.get(), s.size))
        .unwrap();
    // 3000 spread addresses (the parallel path starts at 1000 distinct ones), with repeats, out of
    // order, plus one that no symbol source covers.
    let mut addrs: Vec<RuntimeAddr> = (0..3000u64)
        .map(|i| RuntimeAddr(text.0 + (i * 7919) % text.1))
        .collect();
    addrs.extend_from_within(..50);
    addrs.push(RuntimeAddr(0x10));
    let got = batch.resolve(h, &identity, &addrs);

    let mut single = Symbolizer::new(SymbolizerOptions::default());
    let hs = single.open_binary(heapdemo()).unwrap();
    let want: Vec<_> = addrs
        .iter()
        .map(|&a| single.resolve(hs, &identity, &[a]).remove(0))
        .collect();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "address #{i} {:#x}", addrs[i].0);
    }
    assert!(
        got.iter()
            .filter(|r| r.as_ref().is_ok_and(|r| r.frames.len() > 1))
            .count()
            > 100
    );
    assert!(got.last().unwrap().as_ref().is_ok_and(|r| r.frames.is_empty()));
}
