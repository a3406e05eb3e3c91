//! Split DWARF (`gcc -gsplit-dwarf`): frames equal llvm-symbolizer's for loose `.dwo`
//! files (DWARF 5 and DWARF 4) and a `.dwp` package; a missing `.dwo` falls back to the
//! skeleton unit as llvm-symbolizer does; corrupt packages and `.dwo` files never panic.
//! Fixtures and goldens: `scripts/regen-split-dwarf-fixtures.sh` (testdata/native/split).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pprofsym::addr::Svma;
use pprofsym::binary::Binary;
use pprofsym::symbolize::{ElfSymbolizer, FrameSource};
use serde_json::Value;

use crate::common;

const SPLIT: &str = "testdata/native/split";

fn golden(variant: &str) -> Value {
    let p = Path::new(SPLIT).join("goldens").join(format!("{variant}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn symbolizer(path: &Path) -> ElfSymbolizer {
    ElfSymbolizer::new(Arc::new(Binary::open(path).unwrap()), None)
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// Every address of `variant`'s golden: our frames equal llvm-symbolizer's (names,
/// files, lines, columns, start lines, inline chain). Returns how many answers had an
/// inline chain (more than one frame).
fn check(variant: &str, sym: &ElfSymbolizer, missing_dwo: bool) -> usize {
    let g = golden(variant);
    let addrs = g["addresses"].as_array().unwrap();
    let answers = g["answers"].as_array().unwrap();
    assert_eq!(addrs.len(), answers.len());
    let mut chains = 0;
    for (a, ans) in addrs.iter().zip(answers) {
        let a = a.as_str().unwrap();
        // An all-empty llvm frame means "nothing known" (padding between functions).
        let llvm: Vec<&Value> = ans["Symbol"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["FunctionName"] != "" || s["FileName"] != "" || s["Line"] != 0)
            .collect();
        let l = sym
            .frames(Svma(hex(a)))
            .unwrap_or_else(|e| panic!("{variant} {a}: {e}"));
        let ours: Vec<(String, String, u64, u64, u64)> = l
            .frames
            .iter()
            .map(|f| {
                (
                    f.function.to_string(),
                    f.file.to_string(),
                    f.line,
                    f.column,
                    f.start_line,
                )
            })
            .collect();
        let theirs: Vec<(String, String, u64, u64, u64)> = llvm
            .iter()
            .map(|l| {
                (
                    l["FunctionName"].as_str().unwrap().to_string(),
                    l["FileName"].as_str().unwrap().to_string(),
                    l["Line"].as_u64().unwrap(),
                    l["Column"].as_u64().unwrap(),
                    l["StartLine"].as_u64().unwrap(),
                )
            })
            .collect();
        if l.source == FrameSource::Symtab && theirs.len() == 1 && theirs[0].2 == 0 {
            // Outside every unit (crt code, PLT): a symbol-table name. llvm-symbolizer
            // adds the preceding STT_FILE symbol as file (`crtstuff.c`); we have no file.
            assert_eq!(ours.len(), 1, "{variant} {a}");
            assert_eq!(ours[0].0, theirs[0].0, "{variant} {a}");
            continue;
        }
        assert_eq!(ours, theirs, "{variant} {a}");
        // Only the PLT stubs (`_init` in llvm's answer) are outside the unit.
        if theirs.is_empty() {
            continue;
        }
        if theirs[0].1.is_empty() {
            assert_eq!(l.source, FrameSource::Symtab, "{variant} {a}");
        } else {
            assert_eq!(l.source, FrameSource::Dwarf, "{variant} {a}");
        }
        chains += usize::from(ours.len() > 1);
    }
    if missing_dwo {
        assert_eq!(chains, 0, "{variant}: no inline chains without the .dwo");
    }
    chains
}

#[test]
fn loose_dwo_dwarf5_equals_llvm_symbolizer() {
    let sym = symbolizer(&Path::new(SPLIT).join("dwarf5/cdemo"));
    assert!(check("dwarf5", &sym, false) > 10);
    assert_eq!(sym.split_dwarf_warnings(), Vec::<String>::new());
}

#[test]
fn loose_dwo_dwarf4_equals_llvm_symbolizer() {
    let sym = symbolizer(&Path::new(SPLIT).join("dwarf4/cdemo"));
    assert!(check("dwarf4", &sym, false) > 10);
    assert_eq!(sym.split_dwarf_warnings(), Vec::<String>::new());
}

#[test]
fn dwp_package_equals_llvm_symbolizer() {
    // No cdemo.dwo next to this binary: the answers come from cdemo.dwp.
    let dir = Path::new(SPLIT).join("dwarf4-dwp");
    assert!(!dir.join("cdemo.dwo").exists());
    let sym = symbolizer(&dir.join("cdemo"));
    assert!(check("dwarf4-dwp", &sym, false) > 10);
    assert_eq!(sym.split_dwarf_warnings(), Vec::<String>::new());
}

#[test]
fn parallel_batch_equals_sequential() {
    let sym = symbolizer(&Path::new(SPLIT).join("dwarf5/cdemo"));
    let g = golden("dwarf5");
    let addrs: Vec<u64> = g["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| hex(a.as_str().unwrap()))
        .collect();
    // Every byte of .text, twice: past the parallel threshold of 1000 distinct addresses.
    let (lo, hi) = (addrs[0], *addrs.last().unwrap());
    assert!(hi - lo > 1000);
    let many: Vec<Svma> = (lo..=hi).chain(lo..=hi).map(Svma).collect();
    let seq = sym.frames_batch(&many);
    let par = sym.frames_batch_parallel(&many, 2);
    assert_eq!(seq, par);
    assert!(seq.iter().any(|l| l.as_ref().unwrap().frames.len() > 1));
}

/// Batches in windows of a few addresses (a fresh context at each unit change, loading the
/// split parts again) answer as single lookups do, from loose `.dwo` files and from a
/// `.dwp` package.
#[test]
fn windowed_batches_equal_single_lookups() {
    for variant in ["dwarf5", "dwarf4-dwp"] {
        let mut sym = symbolizer(&Path::new(SPLIT).join(variant).join("cdemo"));
        let addrs = common::text_addresses(&sym, 1);
        let single = common::assert_windowed_batches_equal_single(&mut sym, &addrs, &[1, 64], variant);
        assert!(single.iter().any(|l| l.as_ref().unwrap().frames.len() > 1), "{variant}");
        assert_eq!(sym.split_dwarf_warnings(), Vec::<String>::new(), "{variant}");
    }
}

/// A temporary copy of `files` (paths under testdata/native/split) in one directory.
fn copy_to_temp(files: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let src = Path::new(SPLIT).join(f);
        std::fs::copy(&src, dir.path().join(src.file_name().unwrap())).unwrap();
    }
    let bin = dir.path().join("cdemo");
    (dir, bin)
}

#[test]
fn missing_dwo_answers_from_skeleton_like_llvm() {
    let (_dir, bin) = copy_to_temp(&["dwarf5/cdemo"]);
    let sym = symbolizer(&bin);
    check("missing-dwo", &sym, true);
    let w = sym.split_dwarf_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("cdemo.dwo") && w[0].contains("skeleton"), "{w:?}");
}

#[test]
fn foreign_dwo_is_rejected_by_dwo_id() {
    // The DWARF 4 build's .dwo under the DWARF 5 binary's name: ids differ.
    let (dir, bin) = copy_to_temp(&["dwarf5/cdemo"]);
    std::fs::copy(Path::new(SPLIT).join("dwarf4/cdemo.dwo"), dir.path().join("cdemo.dwo")).unwrap();
    let sym = symbolizer(&bin);
    check("missing-dwo", &sym, true);
    assert_eq!(sym.split_dwarf_warnings().len(), 1);
}

/// Hostile variants of `data`: truncations, and overwritten runs of bytes all along it.
fn corruptions(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::new(), b"not a package".to_vec()];
    for cut in [16, 64, data.len() / 3, data.len() / 2, data.len() - 1] {
        out.push(data[..cut].to_vec());
    }
    let step = (data.len() / 40).max(1);
    for at in (64..data.len()).step_by(step) {
        for fill in [0x00u8, 0xff] {
            let mut d = data.to_vec();
            for b in d.iter_mut().skip(at).take(8) {
                *b = fill;
            }
            out.push(d);
        }
    }
    out
}

fn symbolize_all_without_panic(bin: &Path) -> usize {
    let g = golden("dwarf4-dwp");
    let sym = symbolizer(bin);
    let mut ok = 0;
    for a in g["addresses"].as_array().unwrap() {
        // An error is allowed (a corrupt unit); a panic is not.
        ok += usize::from(sym.frames(Svma(hex(a.as_str().unwrap()))).is_ok());
    }
    ok
}

#[test]
fn corrupt_dwp_never_panics() {
    let (dir, bin) = copy_to_temp(&["dwarf4-dwp/cdemo"]);
    let data = std::fs::read(Path::new(SPLIT).join("dwarf4-dwp/cdemo.dwp")).unwrap();
    for bad in corruptions(&data) {
        std::fs::write(dir.path().join("cdemo.dwp"), &bad).unwrap();
        symbolize_all_without_panic(&bin);
    }
    // An unreadable package is skipped like a missing one: skeleton answers.
    std::fs::write(dir.path().join("cdemo.dwp"), b"not a package").unwrap();
    let sym = symbolizer(&bin);
    let l = sym.frames(Svma(0x1460)).unwrap();
    assert_eq!(l.frames.len(), 1);
    assert_eq!(&*l.frames[0].function, "build_records");
}

#[test]
fn corrupt_dwo_never_panics() {
    let (dir, bin) = copy_to_temp(&["dwarf5/cdemo"]);
    let data = std::fs::read(Path::new(SPLIT).join("dwarf5/cdemo.dwo")).unwrap();
    for bad in corruptions(&data) {
        std::fs::write(dir.path().join("cdemo.dwo"), &bad).unwrap();
        symbolize_all_without_panic(&bin);
    }
}
