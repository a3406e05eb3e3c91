//! `Symbolizer::resolve` on a big batch (sorted, deduplicated, split over threads, shared
//! sections and caches) answers exactly as one-by-one lookups do.

use std::path::PathBuf;

use pprofsym::addr::{FileOffset, RuntimeAddr};
use pprofsym::symbolize::{MappingInfo, Symbolizer, SymbolizerOptions};

use crate::common;

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

/// Run `pprofsym addr2line ARGS` with `stdin`; (stdout, stderr), after checking it succeeded.
fn addr2line(args: &[&str], stdin: &str) -> (String, String) {
    let (out, err, ok) = common::run_addr2line(args, stdin);
    assert!(ok, "{err}");
    (out, err)
}

/// `addr2line --batch` (and addresses given as arguments) answer exactly as the streaming
/// coprocess mode does, notes on standard error included: GNU text and JSON, the binary's own
/// addresses (one big batch over the Go fixture, with repeats, garbage and an address nothing
/// covers) and runtime addresses through a maps file (one batch per maps line).
#[test]
fn addr2line_batch_equals_streaming() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let go = heapdemo();
    let text = pprofsym::binary::Binary::open(&go)
        .unwrap()
        .sections()
        .iter()
        .find(|s| s.name == ".text")
        .map(|s| (s.addr.get(), s.size))
        .unwrap();
    let mut reqs: Vec<String> = (0..2000u64)
        .map(|i| format!("{:#x}", text.0 + (i * 7919) % text.1))
        .collect();
    reqs.extend_from_within(..20);
    reqs.push("zz".into());
    reqs.push("0x10".into());
    let stdin = reqs.join("\n") + "\n";
    let go = go.to_str().unwrap();
    for args in [
        vec!["-f", "-i", "-C", "-a", "-e", go],
        vec!["--format", "json", "-e", go],
    ] {
        let streamed = addr2line(&args, &stdin);
        let batch = addr2line(&[&["--batch"][..], &args].concat(), &stdin);
        assert_eq!(batch, streamed, "{args:?}");
        assert!(batch.0.lines().count() >= reqs.len());
    }
    // Addresses as arguments are a batch too.
    let few: Vec<&str> = reqs[..5].iter().map(String::as_str).collect();
    let from_args = addr2line(&[&["-f", "-e", go][..], &few].concat(), "");
    assert_eq!(from_args, addr2line(&["-f", "-e", go], &(few.join("\n") + "\n")));

    let native = root.join("testdata/native");
    let mut addrs = common::runtime_addresses("testdata/native/goldens/addr2line/cdemo.runtime.txt");
    addrs.push("0x1".to_string()); // in no maps line
    let stdin = addrs.join("\n") + "\n";
    let (maps, dir) = (native.join("goldens/addr2line/cdemo.maps.txt"), native.join("bin"));
    let args = [
        "--format",
        "json",
        "--maps",
        maps.to_str().unwrap(),
        "--search-path",
        dir.to_str().unwrap(),
    ];
    let streamed = addr2line(&args, &stdin);
    assert_eq!(addr2line(&[&["--batch"][..], &args].concat(), &stdin), streamed);
    assert!(streamed.1.contains("no maps line"), "{}", streamed.1);
}
