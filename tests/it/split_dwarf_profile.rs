//! Split DWARF through the profile layer: a profile whose binary lost its `.dwo` still symbolizes (from the
//! skeleton), and the run's warnings say which split unit was missing.

use std::path::PathBuf;

use pprofsym::binary::locate::LocatorConfig;
use pprofsym::profile::{Profile, pb};
use pprofsym::symbolize::profile::{LocationAnswer, resolve_profile};
use pprofsym::symbolize::{Symbolizer, SymbolizerOptions};

const SPLIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/native/split");

/// A profile over `addrs` with one identity mapping (start 0, limit all ones, offset 0: how jemalloc_pprof
/// writes mappings, addresses being ELF addresses already).
fn profile_for(binary: &str, addrs: &[u64]) -> Profile {
    let mut p = pb::Profile {
        string_table: vec!["".into(), "space".into(), "bytes".into(), binary.into()],
        sample_type: vec![pb::ValueType { r#type: 1, unit: 2 }],
        mapping: vec![pb::Mapping {
            id: 1,
            memory_limit: u64::MAX,
            filename: 3,
            ..Default::default()
        }],
        ..Default::default()
    };
    for (i, &a) in addrs.iter().enumerate() {
        let id = i as u64 + 1;
        p.location.push(pb::Location {
            id,
            mapping_id: 1,
            address: a,
            ..Default::default()
        });
        p.sample.push(pb::Sample {
            location_id: vec![id],
            value: vec![1],
            ..Default::default()
        });
    }
    Profile::new(p).unwrap()
}

fn golden_addrs() -> Vec<u64> {
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{SPLIT}/goldens/dwarf5.json")).unwrap()).unwrap();
    g["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .take(50)
        .map(|a| match a {
            serde_json::Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap(),
            v => v.as_u64().unwrap(),
        })
        .collect()
}

fn run(bin: PathBuf) -> (usize, Vec<String>) {
    let p = profile_for(&bin.to_string_lossy(), &golden_addrs());
    let mut sym = Symbolizer::new(SymbolizerOptions {
        locator: LocatorConfig {
            debug_dirs: Vec::new(),
            ..LocatorConfig::default()
        },
        ..Default::default()
    });
    let res = resolve_profile(&p, &mut sym, false);
    let inlined = res
        .locations
        .iter()
        .filter(|a| matches!(a, LocationAnswer::Resolved(r) if r.frames.len() > 1))
        .count();
    assert_eq!(res.symbolized_count(), 50, "{:?}", res.warnings);
    (inlined, res.warnings.iter().map(ToString::to_string).collect())
}

#[test]
fn with_its_dwo_a_split_binary_gives_inline_chains_and_no_warning() {
    let (inlined, warnings) = run(PathBuf::from(SPLIT).join("dwarf5/cdemo"));
    assert!(inlined > 0);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn without_its_dwo_it_falls_back_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("cdemo");
    std::fs::copy(PathBuf::from(SPLIT).join("dwarf5/cdemo"), &bin).unwrap();
    let (inlined, warnings) = run(bin);
    assert_eq!(inlined, 0);
    assert!(warnings.iter().any(|w| w.contains("cdemo.dwo")), "{warnings:?}");
}
