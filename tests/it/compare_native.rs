//! `top` and `traces` of two gperftools heap dumps of one C process (testdata/compare/native) against the
//! standalone google/pprof: each dump alone, one minus the other (`-base`, `-diff_base`), both merged, label
//! filters; unsymbolized (`-symbolize=none`) and symbolized from the committed binary and library copies
//! (testdata/sysroot), as pprof did with llvm-symbolizer.
//!
//! The dumps are legacy text profiles, read by issue 10's gperftools reader.

use pprofsym::binary::locate::LocatorConfig;
use pprofsym::profile::Profile;
use pprofsym::profile::names::DemangleMode;
use pprofsym::symbolize::profile::symbolize;
use pprofsym::symbolize::{SymbolSource, Symbolizer, SymbolizerOptions};

use crate::common::{first_difference, path};
use crate::compare_goldens::{parse, run_in};

/// The binary and every library copy the dumps' maps name, found by build ID and file name only.
fn symbolizer() -> Symbolizer {
    let sysroot = path("testdata/sysroot/usr/lib/x86_64-linux-gnu");
    let mut binaries = vec![path("testdata/compare/native/bin/cgrow")];
    for e in std::fs::read_dir(&sysroot).unwrap() {
        binaries.push(e.unwrap().path());
    }
    Symbolizer::new(SymbolizerOptions {
        locator: LocatorConfig {
            binaries,
            search_path: Vec::new(),
            debug_dirs: Vec::new(),
            use_mapping_path: false,
            ..LocatorConfig::default()
        },
        source: SymbolSource::Auto,
    })
}

fn local(p: Profile) -> Result<Profile, String> {
    let mut sym = symbolizer();
    symbolize(p, &mut sym, false, DemangleMode::Short)
        .map(|s| s.profile)
        .map_err(|e| e.to_string())
}

#[test]
fn native_goldens_equal_google_pprof() {
    let dir = path("testdata/compare/native");
    let manifest = std::fs::read_to_string(dir.join("goldens/MANIFEST.tsv")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in manifest.lines().filter(|l| !l.is_empty()) {
        let mut cols = line.split('\t');
        let (name, args) = (cols.next().unwrap(), cols.next().unwrap());
        // The libc6-dbg goldens were made with a debug file for libc that is not committed.
        if name.ends_with(".libc6-dbg") || args.contains("-raw") {
            continue;
        }
        let none = args.contains("-symbolize=none");
        let args = args.replace("-symbolize=none", "");
        let Some(run) = parse(&args) else { continue };
        let golden = std::fs::read_to_string(dir.join(format!("goldens/{name}.txt"))).unwrap();
        let finish: &dyn Fn(Profile) -> Result<Profile, String> = if none { &Ok } else { &local };
        match run_in(&dir, &run, finish) {
            Ok((out, _)) => {
                if let Some(d) = first_difference(&out, &golden) {
                    failures.push(format!("{name} ({args}): {d}"));
                }
                checked += 1;
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(checked >= 30, "only {checked} goldens compared");
    assert!(
        failures.is_empty(),
        "{} goldens differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
