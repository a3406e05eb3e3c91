//! The `addrs` report: raw versus normalized addresses, and the profile's own symbols checked against the binary.

use std::path::PathBuf;

use pprofsym::profile::{LoadOptions, Profile, load};
use pprofsym::report::addrs::{Agreement, addrs};
use pprofsym::symbolize::profile::resolve_profile;
use pprofsym::symbolize::{SymbolSource, Symbolizer};

use crate::common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn symbolizer(bins: &[&str]) -> Symbolizer {
    common::hermetic_symbolizer(None, bins, SymbolSource::Auto)
}

#[test]
fn go_pie_runtime_symbols_agree_with_the_binary() {
    let p = load(
        &root().join("testdata/go/heap-pie-rate1.pb.gz"),
        &LoadOptions::default(),
    )
    .unwrap();
    let res = resolve_profile(&p, &mut symbolizer(&["testdata/go/bin/heapdemo-pie"]), true);
    let r = addrs(&p, &res);
    let main_locs = p.pb().location.iter().filter(|l| l.mapping_id == 1).count();
    assert_eq!(r.agree, main_locs, "{}", r.summary());
    assert_eq!(r.differ, 0);
    // Go PIE is linked at 0x400000: runtime address - start + 0x400000.
    let m = &p.pb().mapping[0];
    for row in r.rows.iter().filter(|r| r.mapping_id == 1) {
        assert_eq!(row.svma, Some(row.address - m.memory_start + 0x400000));
        assert_eq!(row.file_offset, Some(row.address - m.memory_start));
        assert_eq!(row.section.as_deref(), Some(".text"));
        assert!(
            row.symbol
                .as_deref()
                .is_some_and(|s| s.starts_with(&row.binary_frames.last().unwrap().function))
        );
    }
}

#[test]
fn a_tampered_symbol_is_reported_as_differing() {
    let mut pb = load(&root().join("testdata/go/heap-rate1.pb.gz"), &LoadOptions::default())
        .unwrap()
        .into_pb();
    // Hand-made disagreement: point one location's line at another line number.
    let loc = pb
        .location
        .iter_mut()
        .find(|l| l.mapping_id == 1 && l.line.len() == 1)
        .unwrap();
    loc.line[0].line += 1;
    let id = loc.id;
    let p = Profile::new(pb).unwrap();
    let res = resolve_profile(&p, &mut symbolizer(&["testdata/go/bin/heapdemo"]), true);
    let r = addrs(&p, &res);
    assert_eq!(r.differ, 1, "{}", r.summary());
    assert_eq!(r.rows.iter().find(|r| r.id == id).unwrap().agreement, Agreement::Differ);
}

#[test]
fn native_profile_rows_show_each_step() {
    let p = load(
        &root().join("testdata/native/profiles/cdemo.pb.gz"),
        &LoadOptions::default(),
    )
    .unwrap();
    let res = resolve_profile(
        &p,
        &mut symbolizer(&["testdata/native/bin/cdemo", "testdata/native/bin/libnativedemo.so"]),
        true,
    );
    let r = addrs(&p, &res);
    let row = r.rows.iter().find(|r| r.id == 5).unwrap();
    // From testdata/native/goldens/cdemo.frames.json: base 0x563e51b88000, vaddr 0x1473.
    assert_eq!(
        (row.address, row.file_offset, row.svma),
        (0x563e51b89473, Some(0x1473), Some(0x1473))
    );
    assert_eq!(row.symbol.as_deref(), Some("build_records+0x43"));
    let chain: Vec<&str> = row.binary_frames.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(chain, ["raw_alloc", "make_buffer", "build_records"]);
    assert_eq!(row.agreement, Agreement::BinaryOnly);
    // libc was not given: its locations say so.
    let libc = r.rows.iter().find(|r| r.mapping_file.ends_with("libc.so.6")).unwrap();
    assert_eq!(libc.note.as_deref(), Some("no binary"));
    assert_eq!(r.binary_only + r.neither, r.rows.len());
}

#[test]
fn cli_prints_json_and_a_summary() {
    let out = common::pprofsym()
        .args([
            "addrs",
            "testdata/go/heap-rate1.pb.gz",
            "testdata/go/bin/heapdemo",
            "--no-mapping-paths",
            "-F",
            "text",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("79 locations: 79 agree, 0 differ"),
        "{text}"
    );
    let out = common::pprofsym()
        .args([
            "addrs",
            "testdata/go/heap-rate1.pb.gz",
            "testdata/go/bin/heapdemo",
            "--no-mapping-paths",
            "-F",
            "json",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["agree"], 79);
    assert_eq!(v["rows"][0]["source"], "dwarf");
}
