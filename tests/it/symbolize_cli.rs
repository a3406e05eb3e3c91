//! `pprofsym symbolize` through the binary: output written atomically, warnings on stderr, errors are one line.

use std::path::PathBuf;

use pprofsym::profile::{LoadOptions, load};

use crate::common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pprofsym(args: &[&str]) -> std::process::Output {
    common::pprofsym().args(args).current_dir(root()).output().unwrap()
}

#[test]
fn writes_a_symbolized_gzipped_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sym.pb.gz");
    let o = pprofsym(&[
        "symbolize",
        "testdata/native/profiles/cdemo.pb.gz",
        "-o",
        out.to_str().unwrap(),
        "--binary",
        "testdata/native/bin/cdemo",
        "--binary",
        "testdata/native/bin/libnativedemo.so",
        "--no-mapping-paths",
        "--debug-dir",
        "/nonexistent",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(
        stderr.contains("14 locations symbolized, 2 left unsymbolized"),
        "{stderr}"
    );
    assert!(std::fs::read(&out).unwrap().starts_with(&[0x1f, 0x8b]));
    let p = load(&out, &LoadOptions::default()).unwrap();
    assert!(p.pb().mapping[0].has_functions && p.pb().mapping[0].has_inline_frames);
    // Only the output file is left in the directory: the temporary file was renamed over it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn unwritable_output_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing-dir/sym.pb.gz");
    let o = pprofsym(&["symbolize", "testdata/go/heap-rate1.pb.gz", "-o", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("sym.pb.gz"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn an_unrelated_binary_symbolizes_nothing_and_the_missing_build_id_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.pb.gz");
    let o = pprofsym(&[
        "symbolize",
        "testdata/rust-jemalloc/heap.pb.gz",
        "-o",
        out.to_str().unwrap(),
        "--binary",
        "testdata/go/bin/heapdemo",
        "--no-mapping-paths",
        "--debug-dir",
        "/nonexistent",
    ]);
    assert!(o.status.success());
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(stderr.contains("b71310ae91cfc11ae76d75acb852716b4ce4d5c1"), "{stderr}");
    assert!(stderr.contains("0 locations symbolized"), "{stderr}");
}

#[test]
fn a_positional_binary_that_is_not_elf_is_an_error() {
    for cmd in ["top", "sites", "addrs"] {
        let o = pprofsym(&[cmd, "testdata/go/heap-rate1.pb.gz", "testdata/native/bin/not-an-elf"]);
        assert!(!o.status.success(), "{cmd}");
        let stderr = String::from_utf8(o.stderr).unwrap();
        // `top` and `sites` take several profiles and tell the binary apart by its header, so a file that is
        // neither is said to be neither.
        let want = if cmd == "addrs" {
            "pprofsym: testdata/native/bin/not-an-elf: not an ELF file"
        } else {
            "pprofsym: testdata/native/bin/not-an-elf: not an ELF file, nor a profile (unrecognized profile format: \
             text that is none of the formats pprofsym reads"
        };
        if cmd == "addrs" {
            assert_eq!(stderr.trim(), want, "{cmd}");
        } else {
            // The rest of the line lists the formats we read.
            assert!(
                stderr.starts_with(want) && stderr.trim().lines().count() == 1,
                "{cmd}: {stderr}"
            );
        }
        assert!(o.stdout.is_empty());
    }
}
