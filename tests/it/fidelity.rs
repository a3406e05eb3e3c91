//! The names we write against the peers' on real programs that trip symbolizers (testdata/fidelity, made by
//! scripts/regen-fidelity-fixtures.sh): Go generic functions as the Go runtime writes them into profiles (Go 1.27
//! and 1.19), C++ names as GNU's demangler spells them, cgo's local aliases, gcc's cold partitions, and the main
//! binary named on the command line serving every mapping of its file.

use std::collections::HashMap;

use pprofsym::profile::{LoadOptions, Profile, load, pb};
use pprofsym::symbolize::profile::resolve_profile;
use pprofsym::symbolize::{Frame, SymbolSource};
use serde_json::Value;

use crate::common;
use common::{hermetic_symbolizer, path};

const FID: &str = "testdata/fidelity";

fn read(rel: &str) -> String {
    std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn load_fixture(rel: &str) -> Profile {
    load(&path(rel), &LoadOptions::default()).unwrap()
}

/// Every C++ linkage name in the C++ fixture's DWARF and symbol table (2786 of them) demangles exactly as c++filt
/// spells it: parameters of templated constructors, empty packs and pack expansions included.
#[test]
fn every_cxx_name_equals_cxxfilt() {
    let text = read(&format!("{FID}/cpp/goldens/cxxfilt-all.tsv"));
    let mut n = 0;
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        assert_eq!(pprofsym::demangle::demangle(c[0]), c[1], "{}", c[0]);
        n += 1;
    }
    assert!(n > 2000, "only {n} names");
}

/// GNU addr2line's `-a` text split into blocks: (address line, [(function, location)]).
fn gnu_blocks(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut name: Option<String> = None;
    for l in text.lines() {
        if l.len() == 18 && l.starts_with("0x") {
            out.push((l.to_string(), Vec::new()));
        } else if let Some(n) = name.take() {
            let loc = l.split(" (discriminator").next().unwrap().to_string();
            out.last_mut().unwrap().1.push((n, loc));
        } else {
            name = Some(l.to_string());
        }
    }
    out
}

/// llvm-symbolizer's JSON answers, one per address, as (function, `file:line`) frames in GNU's text form.
fn llvm_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["Symbol"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let (f, file, line) = (
                        s["FunctionName"].as_str().unwrap(),
                        s["FileName"].as_str().unwrap(),
                        s["Line"].as_u64().unwrap(),
                    );
                    if f.is_empty() && file.is_empty() && line == 0 {
                        // Nothing known: GNU's text says `??:0`.
                        return ("??".to_string(), "??:0".to_string());
                    }
                    let f = if f.is_empty() { "??" } else { f };
                    let file = if file.is_empty() { "??" } else { file };
                    let line = if line == 0 { "?".to_string() } else { line.to_string() };
                    (f.to_string(), format!("{file}:{line}"))
                })
                .collect()
        })
        .collect()
}

/// A name of ours against a peer's: equal, or different only by a named convention: llvm's spelling of a C++
/// name, or a cold partition (`f() [clone .cold]`, `f.cold`) we name after its function, as issue 9 asks.
fn same_name(ours: &str, peer: &str) -> bool {
    let uncold = |s: &str| {
        s.replace(" [clone .cold]", "")
            .replace(".cold)", ")")
            .replace(" (.cold)", "")
    };
    ours == peer
        || common::same_cxx_name(ours, peer)
        || common::cold_partition(ours, peer)
        || uncold(peer) == ours
        || common::same_cxx_name(ours, &uncold(peer))
}

/// `pprofsym addr2line -f -i -C -a` on the peers' addresses: every frame of every answer equals GNU addr2line's
/// or llvm-symbolizer's (names up to the conventions of [`same_name`]; a location equal to either peer's, or
/// unknown where GNU only knows the file from an `STT_FILE` symbol). Returns how many answers equal GNU's exactly.
fn check_against_peers(dir: &str, bin: &str, stem: &str) -> (usize, usize) {
    let addrs = read(&format!("{dir}/{stem}.addrs.txt"));
    let gnu = gnu_blocks(&read(&format!("{dir}/{stem}.addr2line-C.txt")));
    let llvm = llvm_blocks(&read(&format!("{dir}/{stem}.llvm.jsonl")));
    let (out, err, ok) = common::run_addr2line(&["-f", "-i", "-C", "-a", "-e", bin], &addrs);
    assert!(ok, "{err}");
    let ours = gnu_blocks(&out);
    assert_eq!(ours.len(), gnu.len(), "{dir}");
    let mut equal_gnu = 0;
    for ((o, g), l) in ours.iter().zip(&gnu).zip(&llvm) {
        assert_eq!(o.0, g.0);
        if o.1 == g.1 {
            equal_gnu += 1;
            continue;
        }
        // Our chain has GNU's or llvm's length (they disagree on some inline chains).
        let peer_len_ok = o.1.len() == g.1.len() || o.1.len() == l.len();
        assert!(
            peer_len_ok,
            "{} {}: ours {:?}\ngnu {:?}\nllvm {:?}",
            dir, o.0, o.1, g.1, l
        );
        for (j, (on, ol)) in o.1.iter().enumerate() {
            let gf = g.1.get(j);
            let lf = l.get(j);
            let name_ok = gf.is_some_and(|f| same_name(on, &f.0)) || lf.is_some_and(|f| same_name(on, &f.0));
            assert!(
                name_ok,
                "{} {} frame {j}: {on:?}\ngnu {:?}\nllvm {:?}",
                dir, o.0, g.1, l
            );
            let gnu_file_only = gf.is_some_and(|f| f.1.ends_with(":?")) && ol == "??:?";
            let loc_ok = gf.is_some_and(|f| &f.1 == ol) || lf.is_some_and(|f| &f.1 == ol) || gnu_file_only;
            assert!(loc_ok, "{} {} frame {j}: {ol}\ngnu {:?}\nllvm {:?}", dir, o.0, g.1, l);
        }
    }
    (equal_gnu, gnu.len())
}

/// C++ (issue 9, case 5): on addresses reaching every inlined function of the C++ fixture, including the
/// `unique_ptr<…>::unique_ptr<…>(std::thread::_State*)` constructor, our names are GNU's (the demangler is GNU's), or
/// llvm's where GNU's inline chain is wrong.
#[test]
fn cxx_names_on_inline_boundaries_equal_the_peers() {
    let bin = path(&format!("{FID}/cpp/bin/cppnames"));
    let dir = format!("{FID}/cpp/goldens/boundaries");
    let (equal, n) = check_against_peers(&dir, bin.to_str().unwrap(), "cppnames");
    assert!(equal * 10 >= n * 7, "only {equal} of {n} answers equal GNU's exactly");
    // The three names of the issue keep their parameters.
    let addrs = read(&format!("{dir}/cppnames.addrs.txt"));
    let (out, _, _) = common::run_addr2line(&["-f", "-i", "-C", "-e", bin.to_str().unwrap()], &addrs);
    for want in [
        "std::unique_ptr<std::thread::_State, std::default_delete<std::thread::_State> >::unique_ptr<std::default_delete<std::thread::_State>, void>(std::thread::_State*)",
        "std::pair<int const, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > >::pair<int&, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >, true>(int&, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >&&)",
        "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string<std::allocator<char> >(char const*, std::allocator<char> const&)",
    ] {
        assert!(out.lines().any(|l| l == want), "{want} missing");
    }
}

/// The same on every location of the C++ heap profile, through the symbol table only (no DWARF).
#[test]
fn cxx_symbol_table_names_equal_the_peers() {
    let bin = path(&format!("{FID}/cpp/bin/cppnames.nodebug"));
    let dir = format!("{FID}/cpp/goldens/profile-nodebug");
    let stem = std::fs::read_dir(path(&dir))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find_map(|n| n.strip_suffix(".addrs.txt").map(str::to_string))
        .unwrap();
    let (equal, n) = check_against_peers(&dir, bin.to_str().unwrap(), &stem);
    assert!(equal > 0 && n > 10, "{equal} of {n}");
}

/// gcc cold partitions (issue 9, case 6): every address of `main.cold` and `foo.cold` is named after `main` and
/// `foo`, as DWARF and GNU addr2line say (llvm-symbolizer 14 says `main.cold`).
#[test]
fn cold_partitions_are_named_after_their_function() {
    let bin = path(&format!("{FID}/cold/bin/colddemo"));
    let dir = format!("{FID}/cold/goldens/cold-ranges");
    let (equal, n) = check_against_peers(&dir, bin.to_str().unwrap(), "colddemo");
    assert_eq!(equal, n, "every cold address equals GNU addr2line");
    let (out, _, _) = common::run_addr2line(
        &["-f", "-e", bin.to_str().unwrap()],
        &read(&format!("{dir}/colddemo.addrs.txt")),
    );
    let names: std::collections::BTreeSet<&str> = out.lines().step_by(2).collect();
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["cold_buffer", "foo", "main"]);
}

/// cgo (issue 9, case 4): C frames of a Go heap profile are `c_recurse` (with `c_leaf` inlined), from DWARF and from
/// the symbol table alone, never the local alias `c_recurse.localalias` at the same address.
#[test]
fn cgo_c_functions_are_not_named_after_local_aliases() {
    let addrs = read(&format!("{FID}/cgo/goldens/c-addrs.txt"));
    for (bin, golden) in [
        ("cgodemo", "llvm-symbolizer.cgodemo.jsonl"),
        ("cgodemo.nodebug", "llvm-symbolizer.cgodemo.nodebug.jsonl"),
    ] {
        let b = path(&format!("{FID}/cgo/bin/{bin}"));
        let (out, err, ok) = common::run_addr2line(&["-f", "-i", "-C", "-a", "-e", b.to_str().unwrap()], &addrs);
        assert!(ok, "{err}");
        assert!(!out.contains("localalias"), "{bin}: {out}");
        let llvm = llvm_blocks(&read(&format!("{FID}/cgo/goldens/{golden}")));
        for (o, l) in gnu_blocks(&out).iter().zip(&llvm) {
            let names: Vec<&str> = o.1.iter().map(|f| f.0.as_str()).collect();
            let want: Vec<&str> = l.iter().map(|f| f.0.as_str()).collect();
            assert_eq!(names, want, "{bin} {}", o.0);
        }
    }
}

/// Every location's frames (function, system name, file, line), innermost first.
fn frames_of(p: &Profile) -> HashMap<u64, Vec<(String, String, String, i64)>> {
    p.pb()
        .location
        .iter()
        .map(|loc| {
            let frames = loc
                .line
                .iter()
                .map(|ln| {
                    let f = p.function(ln.function_id).unwrap();
                    (
                        p.str(f.name).to_string(),
                        p.str(f.system_name).to_string(),
                        p.str(f.filename).to_string(),
                        ln.line,
                    )
                })
                .collect();
            (loc.id, frames)
        })
        .collect()
}

/// The profile without its symbols: no functions, no lines, mapping flags cleared.
fn strip_symbols(p: Profile) -> Profile {
    let mut m = p.into_pb();
    m.function.clear();
    for l in &mut m.location {
        l.line.clear();
    }
    for mp in &mut m.mapping {
        *mp = pb::Mapping {
            has_functions: false,
            has_filenames: false,
            has_line_numbers: false,
            has_inline_frames: false,
            ..*mp
        };
    }
    Profile::new(m).unwrap()
}

/// The frames of a resolved answer, as [`frames_of`] lists them.
fn answer_frames(frames: &[Frame]) -> Vec<(String, String, String, i64)> {
    frames
        .iter()
        .map(|f| {
            (
                f.function.to_string(),
                f.system_name.to_string(),
                f.file.to_string(),
                f.line as i64,
            )
        })
        .collect()
}

/// Go generics (issue 9, case 1): a heap profile stripped of its symbols and symbolized again, from DWARF, from the
/// pclntab of the stripped twin, and from the symbol table, gives back the runtime's own names (generic shapes kept
/// in Go 1.27, `[...]` in Go 1.19), for physical and inlined frames alike.
#[test]
fn go_generic_names_equal_the_runtimes() {
    for (ver, generic) in [
        ("go127", "main.makePairs[go.shape.int,go.shape.string]"),
        ("go119", "main.makePairs[...]"),
    ] {
        let p = load_fixture(&format!("{FID}/generics/heap-{ver}.pb.gz"));
        let want = frames_of(&p);
        assert!(
            want.values().flatten().any(|f| f.0 == generic),
            "{ver}: the runtime wrote no {generic}"
        );
        let bare = strip_symbols(p);
        for (bin, source) in [
            (format!("generics-{ver}"), SymbolSource::Dwarf),
            (format!("generics-{ver}-stripped"), SymbolSource::Auto),
            (format!("generics-{ver}"), SymbolSource::Pclntab),
        ] {
            let main = format!("{FID}/generics/bin/{bin}");
            let mut sym = hermetic_symbolizer(Some(&main), &[], source);
            let res = resolve_profile(&bare, &mut sym, false);
            let mut checked = 0;
            for (loc, ans) in bare.pb().location.iter().zip(&res.locations) {
                let pprofsym::answer::LocationAnswer::Resolved(r) = ans else {
                    continue;
                };
                let w = &want[&loc.id];
                // A location the runtime wrote without frames has nothing to compare.
                if w.is_empty() {
                    continue;
                }
                let got = answer_frames(&r.frames);
                let names = |v: &[(String, String, String, i64)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
                assert_eq!(
                    names(&got),
                    names(w),
                    "{ver} {bin} {source:?} location {} at {:#x}",
                    loc.id,
                    loc.address
                );
                assert!(got.iter().all(|f| f.0 == f.1), "{ver}: system_name == name");
                checked += 1;
            }
            assert!(checked >= 60, "{ver} {bin} {source:?}: only {checked} locations");
        }
    }
}

/// `pprofsym addr2line -f` on Go binaries prints what `go tool addr2line` of the same Go version prints (full
/// generic names, no `.abi0`), from DWARF and from the pclntab alike.
#[test]
fn go_addr2line_names_equal_go_tool_addr2line() {
    for ver in ["go127", "go119"] {
        let addrs = read(&format!("{FID}/generics/goldens/{ver}/addrs.txt"));
        let want: Vec<String> = read(&format!("{FID}/generics/goldens/{ver}/go-addr2line.txt"))
            .lines()
            .step_by(2)
            .map(str::to_string)
            .collect();
        for bin in [format!("generics-{ver}"), format!("generics-{ver}-stripped")] {
            let b = path(&format!("{FID}/generics/bin/{bin}"));
            // Without -i: the innermost frame; go tool addr2line names the physical function, so compare the
            // outermost of our chain.
            let (out, err, ok) = common::run_addr2line(&["-f", "-i", "-a", "-e", b.to_str().unwrap()], &addrs);
            assert!(ok, "{err}");
            let ours: Vec<String> = gnu_blocks(&out)
                .into_iter()
                .map(|b| b.1.last().unwrap().0.clone())
                .collect();
            assert_eq!(ours, want, "{ver} {bin}");
        }
    }
}

/// The main binary named on the command line serves every mapping of its file (issue 9, case 3): jemalloc_pprof
/// writes one mapping per segment, all with the executable's path and build ID.
#[test]
fn the_main_binary_serves_every_mapping_of_its_file() {
    let profile = path("testdata/rust-jemalloc/heap.pb.gz");
    let bin = path("testdata/rust-jemalloc/bin/jemalloc-demo");
    let run = |args: &[&str]| {
        let out = common::pprofsym().args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (p, b) = (profile.to_str().unwrap(), bin.to_str().unwrap());
    let positional = run(&["top", p, b, "--no-mapping-paths", "-F", "text"]);
    assert!(
        !positional
            .1
            .contains("no binary found for /tmp/pprofsym-rust-jemalloc-run/jemalloc-demo"),
        "{}",
        positional.1
    );
    assert!(positional.0.contains("jemalloc_demo::"), "{}", positional.0);
    let explicit = run(&["top", p, "--binary", b, "--no-mapping-paths", "-F", "text"]);
    // The same rows; only the File: line differs (the positional binary names the main mapping).
    let body = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("File:"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(body(&positional.0), body(&explicit.0));
}
