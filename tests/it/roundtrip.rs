//! decode → encode → decode on every profile fixture gives back the same message, field by field.

use std::io::Read;
use std::path::{Path, PathBuf};

use pprofsym::profile::{LoadOptions, decode_bytes, encode_gzip, pb};
use prost::Message;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.pb.gz` under `testdata/`.
fn fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().ends_with(".pb.gz") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("testdata"), &mut out);
    out
}

/// The message as prost decodes the file, without any of our processing.
fn prost_decode(gz: &[u8]) -> pb::Profile {
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(gz).read_to_end(&mut raw).unwrap();
    pb::Profile::decode(&raw[..]).unwrap()
}

#[test]
fn fixtures_exist() {
    let f = fixtures();
    let names: Vec<String> = f
        .iter()
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    for want in ["testdata/go/heap-rate1.pb.gz", "testdata/native/profiles/cdemo.pb.gz"] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
}

#[test]
fn decode_encode_decode_is_identity() {
    for path in fixtures() {
        let name = path.display();
        let bytes = std::fs::read(&path).unwrap();
        let original = prost_decode(&bytes);
        let loaded = decode_bytes(&bytes, &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Loading keeps the message as it was.
        assert_eq!(loaded.pb(), &original, "{name}: load changed the message");

        let again_gz = encode_gzip(loaded.pb());
        let again = decode_bytes(&again_gz, &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let p = again.pb();
        assert_eq!(p, &original, "{name}: round trip changed the message");

        // The same, spelled out for the fields a report depends on, so a failure says which one.
        assert_eq!(p.sample.len(), original.sample.len(), "{name}");
        for (i, (a, b)) in p.sample.iter().zip(&original.sample).enumerate() {
            assert_eq!(a.value, b.value, "{name}: sample {i} values");
            assert_eq!(a.location_id, b.location_id, "{name}: sample {i} stack");
            assert_eq!(a.label, b.label, "{name}: sample {i} labels");
        }
        assert_eq!(p.comment, original.comment, "{name}: comments");
        assert_eq!(p.period, original.period, "{name}: period");
        assert_eq!(p.period_type, original.period_type, "{name}: period type");
        assert_eq!(p.time_nanos, original.time_nanos, "{name}: time");
        assert_eq!(p.duration_nanos, original.duration_nanos, "{name}: duration");
        assert_eq!(p.mapping, original.mapping, "{name}: mappings");
        assert_eq!(p.location, original.location, "{name}: locations");
        assert_eq!(p.function, original.function, "{name}: functions");
        assert_eq!(p.string_table, original.string_table, "{name}: strings");
        assert_eq!(p.sample_type, original.sample_type, "{name}: sample types");
        assert_eq!(
            p.default_sample_type, original.default_sample_type,
            "{name}: default sample type"
        );

        // Plain (not gzipped) protobuf loads to the same message too.
        let plain = decode_bytes(&original.encode_to_vec(), &LoadOptions::default()).unwrap();
        assert_eq!(plain.pb(), &original, "{name}: plain protobuf");
        // Encoding is deterministic: the second generation is byte-identical.
        assert_eq!(p.encode_to_vec(), original.encode_to_vec(), "{name}: encoding differs");
    }
}

#[test]
fn fixtures_have_the_content_the_round_trip_must_keep() {
    // Guards against a vacuous round trip: labels, a period, a time and mappings are really there.
    let p = prost_decode(&std::fs::read(root().join("testdata/go/heap-rate1.pb.gz")).unwrap());
    assert!(p.sample.iter().any(|s| !s.label.is_empty()));
    assert!(p.period != 0 && p.time_nanos != 0 && !p.mapping.is_empty());
}

use crate::gen_profile;

/// A generated profile big enough (over 256 KiB gzipped) to take the pipelined path: inflating on one
/// thread, decoding on another. It must give prost's message, and its errors must be the same as the simple
/// path's.
#[test]
fn pipelined_decode_equals_prost() {
    let p = gen_profile::generate(20_000, 4_000);
    let raw = p.encode_to_vec();
    let gz = encode_gzip(&p);
    assert!(gz.len() > 256 << 10, "only {} bytes: not the pipelined path", gz.len());
    let loaded = decode_bytes(&gz, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.pb(), &p);
    assert_eq!(decode_bytes(&raw, &LoadOptions::default()).unwrap().pb(), &p);

    let err = decode_bytes(&gz[..gz.len() / 2], &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().starts_with("corrupt gzip data"), "{err}");
    let limit = LoadOptions {
        max_decompressed: raw.len() as u64 - 1,
        ..LoadOptions::default()
    };
    let err = decode_bytes(&gz, &limit).unwrap_err();
    assert!(
        err.to_string().starts_with("decompressed size exceeds the limit"),
        "{err}"
    );
    let exact = LoadOptions {
        max_decompressed: raw.len() as u64,
        ..LoadOptions::default()
    };
    assert!(decode_bytes(&gz, &exact).is_ok());
    // Cut inside the last field of the plain message, then gzipped: a decoding error, not a crash.
    let cut = encode_gzip_bytes(&raw[..raw.len() - 3]);
    assert!(cut.len() > 256 << 10);
    let err = decode_bytes(&cut, &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().starts_with("not a profile.proto message"), "{err}");
}

fn encode_gzip_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
