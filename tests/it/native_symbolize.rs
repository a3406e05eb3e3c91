//! Integration tests against the real binaries and goldens in `testdata/native/`
//! (built by `testdata/native/tools/`, goldens from llvm-symbolizer and GNU addr2line).

use std::path::PathBuf;

use pprofsym::addr::{FileOffset, RuntimeAddr, Svma};
use pprofsym::binary::Binary;
use pprofsym::binary::locate::LocatorConfig;
use pprofsym::error::ErrorKind;
use pprofsym::symbolize::{
    ElfSymbolizer, Frame, FrameSource, MappingInfo, SymbolSource, Symbolizer, SymbolizerOptions,
};
use serde_json::Value;

use crate::common;

const NATIVE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/native");

fn path(rel: &str) -> PathBuf {
    PathBuf::from(NATIVE).join(rel)
}

fn json(rel: &str) -> Value {
    let text = std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hex(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// A symbolizer that only sees the committed binaries (never the paths recorded in the
/// profiles, which may exist on the machine that made them).
fn hermetic(binaries: &[&str]) -> Symbolizer {
    let bins: Vec<String> = binaries.iter().map(|b| format!("{NATIVE}/{b}")).collect();
    let bins: Vec<&str> = bins.iter().map(String::as_str).collect();
    common::hermetic_symbolizer(None, &bins, SymbolSource::Auto)
}

/// llvm-symbolizer's JSON frame → our frame, for comparison.
fn llvm_frame(f: &Value, raw: Option<&Value>) -> Frame {
    Frame {
        function: f["FunctionName"].as_str().unwrap().into(),
        system_name: raw
            .map(|r| r["FunctionName"].as_str().unwrap().into())
            .unwrap_or_default(),
        file: f["FileName"].as_str().unwrap().into(),
        line: f["Line"].as_u64().unwrap(),
        column: f["Column"].as_u64().unwrap(),
        start_line: f["StartLine"].as_u64().unwrap(),
    }
}

/// Compare frame chains. Every field must be equal, except that a demangled C++ name is spelled by GNU's demangler
/// where llvm-symbolizer spells it its own way (clone suffixes, lambdas: see [`common::same_cxx_name`]), and a
/// cold partition is named by DWARF ([`common::cold_partition`]). Such differences are returned for printing.
fn compare_frames(ctx: &str, got: &[Frame], want: &[Frame]) -> Vec<String> {
    assert_eq!(
        got.len(),
        want.len(),
        "{ctx}: chain length\n got: {got:#?}\nwant: {want:#?}"
    );
    let mut diffs = Vec::new();
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let strip = |f: &Frame| Frame {
            function: "".into(),
            system_name: "".into(),
            ..f.clone()
        };
        assert_eq!(strip(g), strip(w), "{ctx}: frame {i}");
        if !w.system_name.is_empty() {
            assert_eq!(g.system_name, w.system_name, "{ctx}: frame {i} raw name");
        }
        if g.function != w.function {
            assert!(
                common::same_cxx_name(&g.function, &w.function) || common::cold_partition(&g.function, &w.function),
                "{ctx}: frame {i}: {:?} != {:?}",
                g.function,
                w.function
            );
            diffs.push(format!("{ctx} frame {i}: ours {:?} llvm {:?}", g.function, w.function));
        }
    }
    diffs
}

fn check_profile_golden(name: &str) {
    let g = json(&format!("goldens/{name}.frames.json"));
    let mappings = g["mappings"].as_array().unwrap();
    let bins: Vec<String> = mappings
        .iter()
        .filter_map(|m| m["binary"].as_str())
        .map(|b| format!("bin/{}", b.trim_start_matches("bin/")))
        .collect();
    let bin_refs: Vec<&str> = bins.iter().map(String::as_str).collect();
    let mut sym = hermetic(&bin_refs);
    let mut checked = 0;
    for loc in g["locations"].as_array().unwrap() {
        if loc["status"] != "symbolized" {
            continue;
        }
        let m = mappings.iter().find(|m| m["id"] == loc["mapping_id"]).unwrap();
        let mi = MappingInfo {
            start: RuntimeAddr(hex(&m["start"])),
            limit: RuntimeAddr(hex(&m["limit"])),
            offset: FileOffset(hex(&m["offset"])),
            filename: m["file"].as_str().unwrap(),
            build_id: m["build_id"].as_str().unwrap(),
            is_main: false,
        };
        let h = sym
            .binary_for(&mi)
            .unwrap_or_else(|| panic!("{name}: no binary for {}: {:?}", mi.filename, sym.warnings()));
        let addr = RuntimeAddr(hex(&loc["address"]));
        let r = sym.resolve(h, &mi, &[addr]).remove(0).unwrap();
        let id = &loc["id"];
        assert_eq!(r.svma, Svma(hex(&loc["vaddr"])), "{name} location {id}: vaddr");
        assert_eq!(
            r.file_offset,
            Some(FileOffset(hex(&loc["file_offset"]))),
            "{name} location {id}: file offset"
        );
        assert_eq!(
            r.segment,
            Some(loc["pt_load"]["index"].as_u64().unwrap() as usize),
            "{name} location {id}: PT_LOAD"
        );
        // Functions without DWARF (crt1's `_start`) come from the symbol table, as in llvm.
        let has_file = loc["frames"][0]["FileName"] != "";
        let want_source = if has_file {
            FrameSource::Dwarf
        } else {
            FrameSource::Symtab
        };
        assert_eq!(r.source, want_source, "{name} location {id}");
        let raw = loc["frames_raw"].as_array().unwrap();
        let want: Vec<Frame> = loc["frames"]
            .as_array()
            .unwrap()
            .iter()
            .zip(raw)
            .map(|(f, r)| llvm_frame(f, Some(r)))
            .collect();
        let diffs = compare_frames(
            &format!("{name} location {id} at {addr} (svma {})", r.svma),
            &r.frames,
            &want,
        );
        diffs.iter().for_each(|d| eprintln!("demangler difference: {d}"));
        checked += 1;
    }
    assert!(checked >= 10, "{name}: only {checked} locations checked");
    assert!(sym.warnings().is_empty(), "{name}: {:?}", sym.warnings());
}

#[test]
fn cdemo_profile_matches_llvm_symbolizer() {
    check_profile_golden("cdemo");
}

#[test]
fn cdemo_nopie_profile_matches_llvm_symbolizer() {
    check_profile_golden("cdemo.nopie");
}

#[test]
fn cppdemo_profile_matches_llvm_symbolizer() {
    check_profile_golden("cppdemo");
}

/// The llvm-symbolizer run over the fixed address list of `goldens/addr2line/<bin>.json`.
fn llvm_run(golden: &Value) -> Vec<Value> {
    let run = golden["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["command"].as_str().unwrap().starts_with("llvm-symbolizer"))
        .unwrap();
    run["stdout"].as_array().unwrap().clone()
}

/// Compare `ElfSymbolizer::frames` with llvm-symbolizer for every code address.
fn check_address_golden(bin_name: &str, elf: &ElfSymbolizer, expect_source: FrameSource) -> usize {
    let g = json(&format!("goldens/addr2line/{bin_name}.json"));
    let llvm = llvm_run(&g);
    let mut checked = 0;
    for (a, out) in g["addresses"].as_array().unwrap().iter().zip(&llvm) {
        // `past_end` (beyond `.bss`): llvm matches the untyped `_end` symbol; we skip
        // untyped symbols on purpose (see symtab.rs).
        if a["kind"] == "data" || a["kind"] == "past_end" {
            continue;
        }
        let svma = Svma(hex(&a["address"]));
        assert_eq!(svma, Svma(hex(&out["Address"])));
        let l = elf.frames(svma).unwrap();
        let want: Vec<Frame> = out["Symbol"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["FunctionName"] != "??" && f["FunctionName"] != "")
            .map(|f| llvm_frame(f, None))
            .collect();
        let diffs = compare_frames(&format!("{bin_name} {svma} ({})", a["kind"]), &l.frames, &want);
        diffs.iter().for_each(|d| eprintln!("demangler difference: {d}"));
        let has_file = want.first().is_some_and(|f| !f.file.is_empty());
        if has_file {
            assert_eq!(l.source, FrameSource::Dwarf, "{bin_name} {svma}");
        } else if !want.is_empty() {
            assert_eq!(l.source, expect_source, "{bin_name} {svma}");
        }
        checked += 1;
    }
    checked
}

fn open_elf(rel: &str) -> ElfSymbolizer {
    let mut s = hermetic(&[]);
    let h = s.open_binary(path(rel)).unwrap();
    let bin = std::sync::Arc::clone(s.elf(h).binary());
    let debug = s.elf(h).debug_file().cloned();
    ElfSymbolizer::new(bin, debug)
}

#[test]
fn address_goldens_with_dwarf() {
    for b in ["cdemo", "cdemo.nopie", "cppdemo", "libnativedemo.so", "cdemo.zdebug"] {
        let n = check_address_golden(b, &open_elf(&format!("bin/{b}")), FrameSource::Symtab);
        assert!(n >= 5, "{b}: {n}");
    }
}

#[test]
fn address_goldens_symbol_table_only() {
    for b in ["cdemo.nodebug", "cppdemo.nodebug", "libnativedemo.so.nodebug"] {
        check_address_golden(b, &open_elf(&format!("bin/{b}")), FrameSource::Symtab);
    }
}

#[test]
fn address_goldens_stripped() {
    for b in ["cdemo.stripped", "cppdemo.stripped", "libnativedemo.so.stripped"] {
        check_address_golden(b, &open_elf(&format!("bin/{b}")), FrameSource::Dynsym);
    }
}

#[test]
fn split_debug_found_via_debuglink() {
    let elf = open_elf("bin/cdemo.split");
    let d = elf.debug_file().expect("debug file found");
    assert!(d.path().ends_with(".debug/cdemo.split.debug"), "{}", d.path().display());
    let n = check_address_golden("cdemo.split", &elf, FrameSource::Symtab);
    assert!(n >= 10);
}

#[test]
fn split_debug_found_via_build_id_dir() {
    // cdemo.split and cdemo share a build ID; a debug root with .build-id/0c/… is searched
    // before the debuglink.
    let locator = LocatorConfig {
        debug_dirs: vec![path("bin/debugroot")],
        use_mapping_path: false,
        ..LocatorConfig::default()
    };
    let mut s = Symbolizer::new(SymbolizerOptions {
        locator,
        ..Default::default()
    });
    let h = s.open_binary(path("bin/cdemo.split")).unwrap();
    let d = s.elf(h).debug_file().expect("debug file found");
    assert!(
        d.path().to_string_lossy().contains("debugroot/.build-id/0c/"),
        "{}",
        d.path().display()
    );
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}

#[test]
fn data_addresses_resolve_to_objects() {
    let g = json("goldens/addr2line/cdemo.json");
    let elf = open_elf("bin/cdemo");
    let mut n = 0;
    for a in g["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "data")
    {
        let svma = Svma(hex(&a["address"]));
        let Some(sym) = a["symbol"].as_str() else {
            continue;
        };
        let d = elf
            .data_symbol(svma)
            .unwrap_or_else(|| panic!("{svma}: no data symbol"));
        assert_eq!(d.name, sym, "{svma}");
        assert_eq!(svma.get() - d.start.get(), a["offset"].as_u64().unwrap(), "{svma}");
        n += 1;
    }
    assert!(n >= 2);
}

#[test]
fn runtime_maps_normalize_like_pprof() {
    let g = json("goldens/addr2line/cdemo.maps.expected.json");
    let mut sym = hermetic(&["bin/cdemo", "bin/libnativedemo.so"]);
    for a in g["addresses"].as_array().unwrap() {
        let ml = &a["maps_line"];
        let mi = MappingInfo {
            start: RuntimeAddr(hex(&ml["start"])),
            limit: RuntimeAddr(hex(&ml["limit"])),
            offset: FileOffset(hex(&ml["offset"])),
            filename: ml["file"].as_str().unwrap(),
            build_id: "",
            is_main: false,
        };
        let h = sym.binary_for(&mi).unwrap();
        let r = sym
            .resolve(h, &mi, &[RuntimeAddr(hex(&a["runtime_address"]))])
            .remove(0)
            .unwrap();
        assert_eq!(r.svma, Svma(hex(&a["vaddr"])), "{}", a["name"]);
        assert_eq!(
            r.segment,
            Some(a["pt_load"]["index"].as_u64().unwrap() as usize),
            "{}",
            a["name"]
        );
        let name = a["name"].as_str().unwrap();
        if a["symtab_value"].is_null() {
            continue; // a label inside a function (e.g. a return address)
        }
        let got = if r.is_data {
            r.symbol.as_ref().map(|s| &*s.0)
        } else {
            r.frames.last().map(|f| &*f.function)
        };
        assert_eq!(got, Some(name), "{name}: {r:?}");
    }
}

#[test]
fn wrong_build_id_is_refused_with_warning() {
    let want = Binary::open(path("bin/cdemo")).unwrap().build_id().unwrap().to_string();
    let got = Binary::open(path("bin/cdemo.changed"))
        .unwrap()
        .build_id()
        .unwrap()
        .to_string();
    let dir = std::env::temp_dir().join(format!("symdev-buildid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(path("bin/cdemo.changed"), dir.join("cdemo")).unwrap();
    let mut sym = hermetic(&[]);
    let mut sym2 = Symbolizer::new(SymbolizerOptions {
        locator: LocatorConfig {
            search_path: vec![dir.clone()],
            use_mapping_path: false,
            debug_dirs: vec![],
            ..Default::default()
        },
        ..Default::default()
    });
    let mi = MappingInfo {
        start: RuntimeAddr(0x55f0f3630000),
        limit: RuntimeAddr(0x55f0f3631000),
        offset: FileOffset(0x1000),
        filename: "/tmp/pprofsym-native/bin/cdemo",
        build_id: &want,
        is_main: false,
    };
    assert!(sym.binary_for(&mi).is_none());
    assert!(sym2.binary_for(&mi).is_none());
    let w: Vec<String> = sym2.warnings().iter().map(ToString::to_string).collect();
    let w = w.join("\n");
    assert!(
        w.contains(&want) && w.contains(&got) && w.contains("build ID mismatch"),
        "{w}"
    );
    // Padded build IDs (simpleperf) still match.
    let padded = format!("{want}000000");
    let mut sym3 = hermetic(&["bin/cdemo"]);
    assert!(
        sym3.binary_for(&MappingInfo {
            build_id: &padded,
            ..mi
        })
        .is_some(),
        "{:?}",
        sym3.warnings()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_binary_gives_none_and_warning() {
    let mut sym = hermetic(&[]);
    let mi = MappingInfo {
        start: RuntimeAddr(0x1000),
        limit: RuntimeAddr(0x2000),
        offset: FileOffset(0),
        filename: "/nonexistent/libfoo.so",
        build_id: "abcd",
        is_main: false,
    };
    assert!(sym.binary_for(&mi).is_none());
    assert_eq!(
        sym.warnings().iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["no binary found for /nonexistent/libfoo.so (build ID abcd)"]
    );
    let vdso = MappingInfo {
        filename: "[vdso]",
        ..mi
    };
    assert!(sym.binary_for(&vdso).is_none());
    assert_eq!(sym.warnings().len(), 1, "unsymbolizable mappings are not warned about");
}

#[test]
fn bad_files_are_errors_not_panics() {
    let e = Binary::open(path("bin/not-an-elf")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Binary, "{e}");
    assert!(e.to_string().ends_with("not-an-elf: not an ELF file"), "{e}");
    let e = Binary::open(path("bin/cdemo.truncated")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Binary, "{e}");
    assert!(
        e.to_string()
            .contains("cdemo.truncated: truncated or malformed ELF file"),
        "{e}"
    );
    let e = Binary::open(path("bin/does-not-exist")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    // A bad candidate on the search path is skipped with a warning.
    let mut sym = Symbolizer::new(SymbolizerOptions {
        locator: LocatorConfig {
            binaries: vec![path("bin/not-an-elf")],
            use_mapping_path: false,
            debug_dirs: vec![],
            ..Default::default()
        },
        ..Default::default()
    });
    let mi = MappingInfo {
        start: RuntimeAddr(0x1000),
        limit: RuntimeAddr(0x2000),
        offset: FileOffset(0),
        filename: "/x/not-an-elf",
        build_id: "",
        is_main: false,
    };
    assert!(sym.binary_for(&mi).is_none());
    assert!(
        sym.warnings()[0].to_string().contains("not an ELF file"),
        "{:?}",
        sym.warnings()
    );
}

#[test]
fn address_outside_mapping_or_segments_is_an_error() {
    let mut sym = hermetic(&["bin/cdemo"]);
    let mi = MappingInfo {
        start: RuntimeAddr(0x55f0f3630000),
        limit: RuntimeAddr(0x55f0f3631000),
        offset: FileOffset(0x1000),
        filename: "/tmp/pprofsym-native/bin/cdemo",
        build_id: "",
        is_main: false,
    };
    let h = sym.binary_for(&mi).unwrap();
    let r = sym.resolve(h, &mi, &[RuntimeAddr(0x55f0f3631000), RuntimeAddr(0x10)]);
    for x in r {
        let e = x.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Address, "{e}");
        assert!(e.to_string().contains("outside mapping"), "{e}");
    }
    let far = MappingInfo {
        offset: FileOffset(0x100000),
        ..mi
    };
    let e = sym
        .resolve(h, &far, &[RuntimeAddr(0x55f0f3630010)])
        .remove(0)
        .unwrap_err();
    assert!(e.to_string().starts_with("no PT_LOAD matches mapping"), "{e}");
}

#[test]
fn identity_mapping_takes_addresses_as_svma() {
    let mut sym = hermetic(&["bin/cdemo"]);
    let mi = MappingInfo {
        start: RuntimeAddr(0),
        limit: RuntimeAddr(u64::MAX),
        offset: FileOffset(0),
        filename: "cdemo",
        build_id: "",
        is_main: false,
    };
    let h = sym.binary_for(&mi).unwrap();
    let r = sym.resolve(h, &mi, &[RuntimeAddr(0x10e0)]).remove(0).unwrap();
    assert_eq!((r.svma, r.file_offset, r.segment), (Svma(0x10e0), None, Some(1)));
    assert_eq!(&*r.frames.last().unwrap().function, "main");
    assert_eq!(r.section.as_deref(), Some(".text"));
}

#[test]
fn batch_equals_single_lookups() {
    let elf = open_elf("bin/cppdemo");
    let addrs: Vec<Svma> = (0x1000..0x24f5)
        .step_by(3)
        .map(Svma)
        .chain([Svma(0x1900), Svma(0x1900)])
        .collect();
    let single: Vec<_> = addrs.iter().map(|&a| elf.frames(a)).collect();
    assert_eq!(elf.frames_batch(&addrs), single);
    assert_eq!(elf.frames_batch_parallel(&addrs, 2), single);
}

/// Batches go through fresh DWARF contexts in windows (memory); with windows of a few
/// addresses, every unit change starts a new context, and the answers still equal single
/// lookups: C++ (one unit per file) and a Go binary (one unit per package, with references
/// across units).
#[test]
fn batch_windows_equal_single_lookups() {
    for (bin, step) in [("bin/cppdemo", 1), ("../go/bin/heapdemo", 97)] {
        let mut elf = open_elf(bin);
        let addrs = common::text_addresses(&elf, step);
        assert!(addrs.len() > 2000, "{bin}: {}", addrs.len());
        let single = common::assert_windowed_batches_equal_single(&mut elf, &addrs, &[1, 16, 500], bin);
        let with_lines = single
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|l| l.frames.iter().any(|f| f.line > 0)));
        assert!(with_lines.count() > addrs.len() / 2, "{bin}");
    }
}

#[test]
fn legacy_gnu_zdebug_sections() {
    // cdemo.zdebug-gnu has `.zdebug_*` sections ("ZLIB" header); same code as cdemo.zdebug.
    let elf = open_elf("bin/cdemo.zdebug-gnu");
    assert!(elf.binary().has_dwarf());
    let n = check_address_golden("cdemo.zdebug", &elf, FrameSource::Symtab);
    assert!(n >= 10);
}
