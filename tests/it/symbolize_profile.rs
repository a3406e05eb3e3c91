//! Profile-level symbolization against real profiles and binaries: frames equal llvm-symbolizer's goldens (C, C++,
//! a shared library, Rust + jemalloc_pprof), Go profiles stripped of their symbols come back identical from the
//! binary, symbolizing loses nothing, and bad binaries give warnings and partial results, not panics.

use pprofsym::profile::names::{DemangleMode, profile_name};
use pprofsym::profile::{LoadOptions, Profile, load, pb};
use pprofsym::report::top::render_text;
use pprofsym::report::{TopOptions, top};
use pprofsym::symbolize::profile::{LocationAnswer, MappingStatus, Resolution, apply, resolve_profile};
use pprofsym::symbolize::{SymbolSource, Symbolizer};
use serde_json::Value;

use crate::common;
use common::{hermetic_symbolizer as symbolizer, path};

fn load_fixture(rel: &str) -> Profile {
    load(&path(rel), &LoadOptions::default()).unwrap()
}

fn symbolize(p: Profile, sym: &mut Symbolizer, force: bool) -> (Profile, Resolution) {
    let res = resolve_profile(&p, sym, force);
    (apply(p, &res).unwrap(), res)
}

fn json(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path(rel)).unwrap()).unwrap()
}

fn hex(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// (function, system name, file, line, column, start line) for every line of a location.
fn lines_of(p: &Profile, loc: &pb::Location) -> Vec<(String, String, String, i64, i64, i64)> {
    loc.line
        .iter()
        .map(|ln| {
            let f = p.function(ln.function_id).unwrap();
            (
                p.str(f.name).to_string(),
                p.str(f.system_name).to_string(),
                p.str(f.filename).to_string(),
                ln.line,
                ln.column,
                f.start_line,
            )
        })
        .collect()
}

/// Checks every golden location: system names, files, lines, columns and start lines equal llvm-symbolizer's
/// `--no-demangle` answer; demangled names equal its demangled answer, or for C++ names pprof's short form of it
/// (the profile's spelling), in GNU's spelling where llvm's differs (`'lambda'(int)` vs `{lambda(int)#1}`); those
/// are counted.
fn check_against_llvm(p: &Profile, golden: &Value, raw_key: &str) -> (usize, usize) {
    let mut checked = 0;
    let mut cxx_spelling = 0;
    for g in golden["locations"].as_array().unwrap() {
        let Some(frames) = g.get(raw_key).and_then(Value::as_array) else {
            continue;
        };
        let id = g["id"].as_u64().unwrap();
        let loc = p.location(id).unwrap();
        assert_eq!(loc.address, hex(&g["address"]), "location {id}: address changed");
        let ours = lines_of(p, loc);
        assert_eq!(ours.len(), frames.len(), "location {id}: {ours:?} vs {frames:?}");
        for (o, f) in ours.iter().zip(frames) {
            let want_raw = f["FunctionName"].as_str().unwrap();
            assert_eq!(o.1, want_raw, "location {id}: system name");
            assert_eq!(
                o.2,
                f["FileName"].as_str().unwrap(),
                "location {id}: file of {want_raw}"
            );
            assert_eq!(o.3, f["Line"].as_i64().unwrap(), "location {id}: line of {want_raw}");
            assert_eq!(
                o.4,
                f["Column"].as_i64().unwrap(),
                "location {id}: column of {want_raw}"
            );
            assert_eq!(
                o.5,
                f["StartLine"].as_i64().unwrap(),
                "location {id}: start line of {want_raw}"
            );
        }
        if let Some(dem) = golden_demangled(g) {
            for (o, f) in ours.iter().zip(dem) {
                let want = f["FunctionName"].as_str().unwrap();
                if o.0 != want {
                    // The profile holds pprof's short form of C++ names, made from GNU's spelling.
                    let short = |s: &str| profile_name(&o.1, s, DemangleMode::Short);
                    assert!(
                        o.0 == short(want)
                            || o.0 == short(&common::gnu_spelling(want))
                            || o.0 == common::rust_spelling(want),
                        "location {id}: {} vs {want}",
                        o.0
                    );
                    cxx_spelling += 1;
                }
            }
        }
        checked += 1;
    }
    (checked, cxx_spelling)
}

fn golden_demangled(g: &Value) -> Option<&Vec<Value>> {
    g.get("frames").and_then(Value::as_array)
}

const NATIVE_BINS: &[&str] = &[
    "testdata/native/bin/cdemo",
    "testdata/native/bin/cdemo.nopie",
    "testdata/native/bin/cppdemo",
    "testdata/native/bin/libnativedemo.so",
];

#[test]
fn native_profiles_match_llvm_symbolizer() {
    for name in ["cdemo", "cdemo.nopie", "cppdemo"] {
        let p = load_fixture(&format!("testdata/native/profiles/{name}.pb.gz"));
        let mut sym = symbolizer(None, NATIVE_BINS, SymbolSource::Auto);
        let (p, res) = symbolize(p, &mut sym, false);
        let golden = json(&format!("testdata/native/goldens/{name}.frames.json"));
        let (checked, _) = check_against_llvm(&p, &golden, "frames_raw");
        let skipped = golden["skipped_location_ids"].as_array().unwrap().len();
        assert!(checked >= 14, "{name}: only {checked} locations checked");
        // libc is not among the binaries: those locations stay as they were, and are counted.
        assert_eq!(res.unsymbolized_count(&p), skipped, "{name}");
        for id in golden["skipped_location_ids"].as_array().unwrap() {
            assert!(p.location(id.as_u64().unwrap()).unwrap().line.is_empty());
        }
        let m = &p.pb().mapping[0];
        assert!(m.has_functions && m.has_filenames && m.has_line_numbers && m.has_inline_frames);
    }
}

#[test]
fn rust_jemalloc_profile_matches_llvm_symbolizer() {
    let p = load_fixture("testdata/rust-jemalloc/heap.pb.gz");
    let mut sym = symbolizer(None, &["testdata/rust-jemalloc/bin/jemalloc-demo"], SymbolSource::Auto);
    let (p, res) = symbolize(p, &mut sym, false);
    let golden = json("testdata/rust-jemalloc/goldens/frames.json");
    let (checked, _) = check_against_llvm(&p, &golden, "frames_no_demangle");
    assert_eq!(checked, 72);
    // Demangled Rust names come from rustc-demangle (llvm-symbolizer 14 only half-demangles legacy Rust symbols).
    let loc = p.location(21).unwrap();
    let f = p.function(loc.line[0].function_id).unwrap();
    assert_eq!(p.str(f.name), "jemalloc_demo::build_tree::{{closure}}");
    assert_eq!(res.unsymbolized_count(&p), 3, "the three libc locations");
}

/// Removes what a symbolizer would add: lines, functions, mapping flags.
fn strip(p: &Profile) -> Profile {
    let mut pb = p.pb().clone();
    pb.function.clear();
    for l in &mut pb.location {
        l.line.clear();
    }
    for m in &mut pb.mapping {
        m.has_functions = false;
        m.has_filenames = false;
        m.has_line_numbers = false;
        m.has_inline_frames = false;
    }
    Profile::new(pb).unwrap()
}

fn go_roundtrip(profile: &str, binary: &str, source: SymbolSource) {
    let original = load_fixture(profile);
    // Named as the main binary too: Go 1.19 writes no GNU build ID, so a renamed (stripped) copy is only found
    // that way, as with `pprofsym top PROFILE BINARY`.
    let mut sym = symbolizer(Some(binary), &[binary], source);
    let (resym, res) = symbolize(strip(&original), &mut sym, false);
    assert!(
        matches!(res.mappings[0], MappingStatus::Symbolized { .. }),
        "{:?}",
        res.warnings
    );
    let mut compared = 0;
    for (a, b) in original.pb().location.iter().zip(&resym.pb().location) {
        if a.mapping_id != 1 {
            continue;
        }
        let want: Vec<_> = lines_of(&original, a).into_iter().map(|l| (l.0, l.2, l.3)).collect();
        let got: Vec<_> = lines_of(&resym, b).into_iter().map(|l| (l.0, l.2, l.3)).collect();
        assert_eq!(got, want, "{profile} {source:?}: location {} at {:#x}", a.id, a.address);
        compared += 1;
    }
    assert!(compared > 50);
    // And so every report agrees.
    for g in ["functions", "lines"] {
        let o = TopOptions {
            granularity: pprofsym::report::Granularity::parse(g).unwrap(),
            ..Default::default()
        };
        let mut a = original.clone();
        a.set_main_binary(binary);
        let mut b = resym.clone();
        b.set_main_binary(binary);
        assert_eq!(
            render_text(&top(&a, &o).unwrap()),
            render_text(&top(&b, &o).unwrap()),
            "{profile} {g}"
        );
    }
}

#[test]
fn go_profile_resymbolized_from_dwarf_equals_runtime_symbols() {
    go_roundtrip(
        "testdata/go/heap-rate1.pb.gz",
        "testdata/go/bin/heapdemo",
        SymbolSource::Dwarf,
    );
    go_roundtrip(
        "testdata/go/heap-pie-rate1.pb.gz",
        "testdata/go/bin/heapdemo-pie",
        SymbolSource::Dwarf,
    );
}

#[test]
fn go_profile_resymbolized_from_pclntab_equals_runtime_symbols() {
    go_roundtrip(
        "testdata/go/heap-rate1.pb.gz",
        "testdata/go/bin/heapdemo",
        SymbolSource::Pclntab,
    );
    go_roundtrip(
        "testdata/go/heap-pie-rate1.pb.gz",
        "testdata/go/bin/heapdemo-pie",
        SymbolSource::Pclntab,
    );
}

#[test]
fn go_profile_resymbolized_from_stripped_binaries_uses_pclntab() {
    go_roundtrip(
        "testdata/go/heap-rate1.pb.gz",
        "testdata/go/bin/heapdemo-stripped",
        SymbolSource::Auto,
    );
    go_roundtrip(
        "testdata/go/heap-pie-rate1.pb.gz",
        "testdata/go/bin/heapdemo-pie-stripped",
        SymbolSource::Auto,
    );
    let p = strip(&load_fixture("testdata/go/heap-rate1.pb.gz"));
    let mut sym = symbolizer(None, &["testdata/go/bin/heapdemo-stripped"], SymbolSource::Auto);
    let res = resolve_profile(&p, &mut sym, false);
    for a in &res.locations {
        if let LocationAnswer::Resolved(r) = a {
            assert_eq!(r.source, pprofsym::symbolize::FrameSource::GoPclntab);
        }
    }
}

#[test]
fn go119_profiles_resymbolized_from_dwarf_pclntab_and_stripped_binaries() {
    for (profile, bin) in [
        ("testdata/go/heap119-rate1.pb.gz", "heapdemo119"),
        ("testdata/go/heap119-pie-rate1.pb.gz", "heapdemo119-pie"),
    ] {
        go_roundtrip(profile, &format!("testdata/go/bin/{bin}"), SymbolSource::Dwarf);
        go_roundtrip(profile, &format!("testdata/go/bin/{bin}"), SymbolSource::Pclntab);
        go_roundtrip(profile, &format!("testdata/go/bin/{bin}-stripped"), SymbolSource::Auto);
    }
}

#[test]
fn symbolizing_changes_nothing_but_symbols() {
    let before = load_fixture("testdata/native/profiles/cppdemo.pb.gz");
    let mut sym = symbolizer(None, NATIVE_BINS, SymbolSource::Auto);
    let (after, _) = symbolize(before.clone(), &mut sym, false);
    let (a, b) = (before.pb(), after.pb());
    assert_eq!(a.sample, b.sample);
    assert_eq!(a.sample_type, b.sample_type);
    assert_eq!(
        (a.period, &a.period_type, a.time_nanos, a.duration_nanos),
        (b.period, &b.period_type, b.time_nanos, b.duration_nanos)
    );
    assert_eq!(
        (
            a.drop_frames,
            a.keep_frames,
            &a.comment,
            a.default_sample_type,
            a.doc_url
        ),
        (
            b.drop_frames,
            b.keep_frames,
            &b.comment,
            b.default_sample_type,
            b.doc_url
        )
    );
    // The old strings keep their indices; new ones are appended.
    assert_eq!(a.string_table[..], b.string_table[..a.string_table.len()]);
    for (x, y) in a.location.iter().zip(&b.location) {
        assert_eq!((x.id, x.mapping_id, x.address), (y.id, y.mapping_id, y.address));
    }
    for (x, y) in a.mapping.iter().zip(&b.mapping) {
        assert_eq!(
            (
                x.id,
                x.memory_start,
                x.memory_limit,
                x.file_offset,
                x.filename,
                x.build_id
            ),
            (
                y.id,
                y.memory_start,
                y.memory_limit,
                y.file_offset,
                y.filename,
                y.build_id
            )
        );
    }
    // Encoding and decoding the result keeps it whole.
    let bytes = pprofsym::profile::encode_gzip(b);
    let again = pprofsym::profile::decode_bytes(&bytes, &LoadOptions::default()).unwrap();
    assert_eq!(again.pb(), b);
}

#[test]
fn already_symbolized_mappings_are_left_alone_unless_forced() {
    let p = load_fixture("testdata/go/heap-rate1.pb.gz");
    let mut sym = symbolizer(None, &["testdata/go/bin/heapdemo"], SymbolSource::Auto);
    let res = resolve_profile(&p, &mut sym, false);
    assert_eq!(res.mappings[0], MappingStatus::AlreadySymbolized);
    assert!(res.locations.iter().all(|a| matches!(a, LocationAnswer::Skipped)));
    let res = resolve_profile(&p, &mut sym, true);
    assert!(matches!(res.mappings[0], MappingStatus::Symbolized { .. }));
}

#[test]
fn wrong_build_id_is_refused_with_both_ids() {
    let p = strip(&load_fixture("testdata/go/heap-rate1.pb.gz"));
    let mut sym = symbolizer(Some("testdata/go/bin/heapdemo-pie"), &[], SymbolSource::Auto);
    let res = resolve_profile(&p, &mut sym, false);
    assert_eq!(res.mappings[0], MappingStatus::NoBinary);
    let w: Vec<String> = res.warnings.iter().map(ToString::to_string).collect();
    let w = w.join("\n");
    assert!(w.contains("f0aec7343573d08bcbd5e916fa2bd59f941185b0"), "{w}");
    assert!(w.contains("0acf89145bd15976e16c871c2b3df237004382ba"), "{w}");
    assert_eq!(
        res.unsymbolized_count(&p),
        p.pb().location.iter().filter(|l| l.mapping_id == 1).count()
    );
}

#[test]
fn missing_not_elf_and_truncated_binaries_leave_locations_unsymbolized() {
    for bin in [
        "testdata/native/bin/does-not-exist",
        "testdata/native/bin/not-an-elf",
        "testdata/native/bin/cdemo.truncated",
    ] {
        let p = load_fixture("testdata/native/profiles/cdemo.pb.gz");
        let mut sym = symbolizer(Some(bin), &[], SymbolSource::Auto);
        let res = resolve_profile(&p, &mut sym, false);
        assert_eq!(res.mappings[0], MappingStatus::NoBinary, "{bin}");
        assert!(!res.warnings.is_empty(), "{bin}: no warning");
        assert!(res.unsymbolized_count(&p) > 0);
    }
}

#[test]
fn address_outside_every_segment_fails_alone() {
    let mut pb = load_fixture("testdata/native/profiles/cdemo.pb.gz").into_pb();
    let limit = pb.mapping[0].memory_limit;
    let bad = pb
        .location
        .iter_mut()
        .find(|l| l.mapping_id == pb.mapping[0].id)
        .unwrap();
    bad.address = limit + 0x10; // hand-made: no program writes a location outside its own mapping
    let bad_id = bad.id;
    let p = Profile::new(pb).unwrap();
    let mut sym = symbolizer(None, NATIVE_BINS, SymbolSource::Auto);
    let (p2, res) = symbolize(p, &mut sym, false);
    let i = p2.location_index(bad_id).unwrap();
    assert!(
        matches!(&res.locations[i], LocationAnswer::Failed(m) if m.contains("outside")),
        "{:?}",
        res.locations[i]
    );
    assert!(
        res.warnings.iter().any(|w| w.to_string().contains("1 of")),
        "{:?}",
        res.warnings
    );
    assert!(res.symbolized_count() >= 13);
}
