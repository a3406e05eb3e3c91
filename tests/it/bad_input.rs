//! Bad inputs through the `pprofsym` binary: each gives a non-zero exit and exactly one line on stderr that
//! names the file, never a panic. The corrupt profiles are built here from a real fixture (decode with prost,
//! edit one thing, encode), so each case breaks exactly one rule.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;
use pprofsym::profile::pb;
use prost::Message;

use crate::common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("testdata/go/heap-rate1.pb.gz")
}

fn fixture_pb() -> pb::Profile {
    let bytes = std::fs::read(fixture()).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut raw).unwrap();
    pb::Profile::decode(&raw[..]).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = common::pprofsym()
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(data) = stdin {
        // The child may exit before reading everything; a broken pipe here is fine.
        let _ = child.stdin.take().unwrap().write_all(data);
    }
    child.wait_with_output().unwrap()
}

/// Runs every subcommand on `path` and checks: exit code 1, one stderr line naming the file and containing
/// `expect`, nothing on stdout.
fn assert_rejected_path(path: &Path, extra: &[&str], expect: &str) {
    let p = path.to_str().unwrap();
    for cmd in ["top", "sites", "info"] {
        let mut args = vec![cmd, p];
        args.extend_from_slice(extra);
        let out = run(&args, None);
        check_rejected(&out, p, expect, &format!("{cmd} {p}"));
    }
}

fn check_rejected(out: &Output, name: &str, expect: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: exit status {:?}, stderr {stderr:?}",
        out.status
    );
    assert!(out.stdout.is_empty(), "{what}: wrote to stdout");
    assert!(!stderr.contains("panicked"), "{what}: panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: stderr is not one line: {stderr:?}");
    assert!(
        lines[0].contains(name),
        "{what}: stderr does not name {name}: {stderr:?}"
    );
    assert!(lines[0].contains(expect), "{what}: stderr lacks {expect:?}: {stderr:?}");
}

/// Writes `bytes` to a temporary file and checks that it is rejected with `expect`.
fn assert_rejected(file_name: &str, bytes: &[u8], expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, bytes).unwrap();
    assert_rejected_path(&path, &[], expect);
}

/// Encodes an edited copy of the fixture, gzipped as real profiles are, and checks the rejection.
fn assert_edit_rejected(file_name: &str, edit: impl FnOnce(&mut pb::Profile), expect: &str) {
    let mut p = fixture_pb();
    edit(&mut p);
    assert_rejected(file_name, &gzip(&p.encode_to_vec()), expect);
}

#[test]
fn empty_file() {
    assert_rejected("empty.pb.gz", b"", "empty file");
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_rejected_path(&dir.path().join("absent.pb.gz"), &[], "cannot read");
}

#[test]
fn directory_instead_of_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_rejected_path(dir.path(), &[], "cannot read");
}

#[test]
fn truncated_gzip() {
    let bytes = std::fs::read(fixture()).unwrap();
    assert_rejected("half.pb.gz", &bytes[..bytes.len() / 2], "corrupt gzip");
}

#[test]
fn random_bytes() {
    // A fixed pseudo-random sequence (xorshift), starting with a byte that is not the gzip magic.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    assert_ne!(bytes[0], 0x1f);
    assert_rejected("random.bin", &bytes, "not a profile.proto message");
}

#[test]
fn gzip_of_junk() {
    let junk: Vec<u8> = (0..2000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
        .collect();
    assert_rejected("junk.pb.gz", &gzip(&junk), "not a profile.proto message");
}

#[test]
fn gzip_of_nothing() {
    assert_rejected("nothing.pb.gz", &gzip(b""), "decompresses to nothing");
}

#[test]
fn plain_text() {
    let text = std::fs::read(root().join("testdata/go/heap-rate1.debug1.txt")).unwrap();
    assert_rejected("heap.txt", &text, "not a profile.proto message");
}

#[test]
fn dangling_location_id() {
    assert_edit_rejected(
        "dangling-loc.pb.gz",
        |p| p.sample[0].location_id[0] = 999_999,
        "refers to location 999999, which does not exist",
    );
}

#[test]
fn dangling_function_id() {
    assert_edit_rejected(
        "dangling-func.pb.gz",
        |p| p.location[0].line[0].function_id = 777_777,
        "refers to function 777777, which does not exist",
    );
}

#[test]
fn dangling_mapping_id() {
    assert_edit_rejected(
        "dangling-map.pb.gz",
        |p| p.location[0].mapping_id = 55_555,
        "refers to mapping 55555, which does not exist",
    );
}

#[test]
fn wrong_number_of_values() {
    assert_edit_rejected(
        "values.pb.gz",
        |p| {
            p.sample[3].value.pop();
        },
        "sample 3 has 3 values vs. 4 types",
    );
}

#[test]
fn duplicate_ids() {
    assert_edit_rejected(
        "dup-loc.pb.gz",
        |p| {
            let id = p.location[0].id;
            p.location[1].id = id;
        },
        "multiple locations with same id",
    );
    assert_edit_rejected(
        "dup-func.pb.gz",
        |p| {
            let id = p.function[0].id;
            p.function[2].id = id;
        },
        "multiple functions with same id",
    );
    assert_edit_rejected(
        "dup-map.pb.gz",
        |p| {
            let m = p.mapping[0];
            p.mapping.push(m);
        },
        "multiple mappings with same id",
    );
}

#[test]
fn huge_sparse_ids_are_fine_but_duplicates_are_not() {
    // Ids far beyond the dense table go to the sparse map; a duplicate there is still caught.
    assert_edit_rejected(
        "dup-sparse.pb.gz",
        |p| {
            p.function[0].id = u64::MAX;
            p.function[1].id = u64::MAX;
        },
        "multiple functions with same id: 18446744073709551615",
    );
}

#[test]
fn id_zero() {
    assert_edit_rejected(
        "zero-loc.pb.gz",
        |p| p.location[2].id = 0,
        "found location with reserved ID=0",
    );
    assert_edit_rejected(
        "zero-func.pb.gz",
        |p| p.function[2].id = 0,
        "found function with reserved ID=0",
    );
    assert_edit_rejected(
        "zero-map.pb.gz",
        |p| p.mapping[0].id = 0,
        "found mapping with reserved ID=0",
    );
    assert_edit_rejected(
        "zero-line-func.pb.gz",
        |p| p.location[0].line[0].function_id = 0,
        "has a line with nil function",
    );
}

#[test]
fn string_index_out_of_range() {
    assert_edit_rejected(
        "str-func.pb.gz",
        |p| p.function[0].name = p.string_table.len() as i64,
        "function 1 name refers to string",
    );
    assert_edit_rejected(
        "str-neg.pb.gz",
        |p| p.sample_type[0].unit = -1,
        "sample_type[0].unit refers to string -1",
    );
    assert_edit_rejected(
        "str-label.pb.gz",
        |p| {
            p.sample[0].label.push(pb::Label {
                key: 1 << 40,
                ..Default::default()
            })
        },
        "sample 0 label key refers to string 1099511627776",
    );
}

#[test]
fn string_table_zero_not_empty() {
    assert_edit_rejected(
        "str0.pb.gz",
        |p| p.string_table[0] = "oops".into(),
        "string_table[0] must be ''",
    );
    assert_edit_rejected("nostr.pb.gz", |p| p.string_table.clear(), "string table is empty");
}

/// `mib` MiB of valid protobuf as concatenated gzip members of 1 MiB each (about 1 KB per member): a small
/// file that expands without bound, quick to build. Each MiB is one unknown field (number 100, 1 MiB of zeros
/// as its bytes), which a decoder skips, so only the size limit stops it.
fn bomb(mib: usize) -> Vec<u8> {
    let body = (1 << 20) - 5;
    let mut field = vec![0xa2, 0x06]; // field 100, length-delimited
    let mut n = body as u64;
    while n >= 0x80 {
        field.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    field.push(n as u8);
    field.resize(1 << 20, 0);
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(&field).unwrap();
    let member = enc.finish().unwrap();
    member.repeat(mib)
}

#[test]
fn zero_bomb_fails_fast() {
    // Zeros are not a message (field number 0): decoding stops at the first bytes, long before the limit.
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(&vec![0u8; 1 << 20]).unwrap();
    let b = enc.finish().unwrap().repeat(1024);
    assert_rejected("zeros.pb.gz", &b, "invalid tag value: 0");
}

#[test]
fn gzip_bomb_small_limit() {
    let b = bomb(4);
    assert!(b.len() < 8 << 10, "bomb is {} bytes", b.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.pb.gz");
    std::fs::write(&path, &b).unwrap();
    assert_rejected_path(
        &path,
        &["--max-decompressed", "1000000"],
        "exceeds the limit of 1000000 bytes",
    );
}

#[test]
fn gzip_bomb_default_limit() {
    // 4 GiB of zeros in ~4 MB: the default limit (1 GiB) stops it. The address space is capped at 1.75 GiB, so
    // the run also shows the decoder never holds the whole expansion (nor a doubled buffer): an allocation
    // failure would abort with a signal, not exit 1 with the message.
    let b = bomb(4096);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bigbomb.pb.gz");
    std::fs::write(&path, &b).unwrap();
    let p = path.to_str().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1835008 && exec \"$0\" info \"$1\"")
        .arg(env!("CARGO_BIN_EXE_pprofsym"))
        .arg(p)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    check_rejected(&out, p, "exceeds the limit of 1073741824 bytes", "info bigbomb");
}

#[test]
fn over_limit_plain_protobuf() {
    let raw = fixture_pb().encode_to_vec();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.pb");
    std::fs::write(&path, &raw).unwrap();
    assert_rejected_path(&path, &["--max-decompressed", "100"], "over the limit of 100 bytes");
}

#[test]
fn stdin_works_and_errors_name_stdin() {
    let good = std::fs::read(fixture()).unwrap();
    let out = run(&["top", "-", "--format", "text"], Some(&good));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let from_file = run(&["top", fixture().to_str().unwrap(), "--format", "text"], None);
    assert!(from_file.status.success());
    // The header names the main binary (the first mapping), not the input, so both outputs are equal.
    assert_eq!(out.stdout, from_file.stdout);

    let bytes = std::fs::read(fixture()).unwrap();
    let out = run(&["sites", "-"], Some(&bytes[..bytes.len() / 2]));
    check_rejected(&out, "<stdin>", "corrupt gzip", "sites - (truncated)");
    let out = run(&["info", "-"], Some(b""));
    check_rejected(&out, "<stdin>", "empty file", "info - (empty)");
}

#[test]
fn non_ascii_names_work() {
    // Found by fuzzing: a multi-byte character in a function name used to panic in `sites` (a string sliced
    // inside a character).
    let mut p = fixture_pb();
    for s in p.string_table.iter_mut().filter(|s| s.starts_with("main.")) {
        s.insert_str(5, "ϓé(ϓ)");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("utf8.pb.gz");
    std::fs::write(&path, gzip(&p.encode_to_vec())).unwrap();
    for cmd in ["top", "sites", "info"] {
        let out = run(&[cmd, path.to_str().unwrap(), "--format", "text"], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{cmd}: {stderr}");
        if cmd != "info" {
            assert!(String::from_utf8_lossy(&out.stdout).contains("main.ϓé"), "{cmd}");
        }
    }
}

/// Tiny samples decode to many times their size: a profile within the decompression limit whose decoded form
/// would pass the memory limit is refused while decoding, with a one-line error.
#[test]
fn decoded_memory_is_bounded() {
    use prost::Message;
    let mut p = pprofsym::profile::pb::Profile {
        string_table: vec!["".into(), "space".into(), "bytes".into()],
        sample_type: vec![pprofsym::profile::pb::ValueType { r#type: 1, unit: 2 }],
        ..Default::default()
    };
    // Hand-made: 200k one-value samples without stacks, ~4 bytes each on the wire, ~170 bytes each decoded.
    p.sample = (0..200_000)
        .map(|_| pprofsym::profile::pb::Sample {
            value: vec![1],
            ..Default::default()
        })
        .collect();
    let raw = p.encode_to_vec();
    assert!(raw.len() < 1 << 20);
    let opts = pprofsym::profile::LoadOptions {
        max_memory: 16 << 20,
        ..Default::default()
    };
    let err = pprofsym::profile::decode_bytes(&raw, &opts).unwrap_err();
    assert!(err.to_string().contains("raise --max-memory"), "{err}");
    assert!(pprofsym::profile::decode_bytes(&raw, &pprofsym::profile::LoadOptions::default()).is_ok());
}
