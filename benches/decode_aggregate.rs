//! Decode, `top` and the steps of `merge` on a generated Go-like heap profile (`examples/gen_profile.rs`).
//!
//! The default size (100k samples, 10k locations) keeps `cargo bench` short; set `PPROFSYM_BENCH_SAMPLES` and
//! `PPROFSYM_BENCH_LOCS` for the full size (e.g. 1000000 and 100000), as `scripts/bench-top.sh` does.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pprofsym::profile::ops::{AddOptions, Merger};
use pprofsym::profile::{LoadOptions, decode_bytes, encode_gzip, gzip, merge_input_from_bytes};
use pprofsym::report::{self, SiteOptions, TopOptions};
use prost::Message;

#[path = "../examples/gen_profile.rs"]
#[allow(dead_code)]
mod gen_profile;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn bench(c: &mut Criterion) {
    let samples = env_usize("PPROFSYM_BENCH_SAMPLES", 100_000);
    let locs = env_usize("PPROFSYM_BENCH_LOCS", 10_000);
    let p = gen_profile::generate(samples, locs);
    let raw = p.encode_to_vec();
    let gz = encode_gzip(&p);
    drop(p);
    let opts = LoadOptions::default();

    let mut g = c.benchmark_group(format!("{samples}x{locs}"));
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("gunzip", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(raw.len());
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&gz[..]), &mut out).unwrap();
            black_box(out)
        })
    });
    g.bench_function("decode_plain", |b| {
        b.iter(|| black_box(decode_bytes(&raw, &opts).unwrap()))
    });
    g.bench_function("decode_gzip", |b| {
        b.iter(|| black_box(decode_bytes(&gz, &opts).unwrap()))
    });
    let profile = decode_bytes(&gz, &opts).unwrap();
    g.bench_function("top", |b| {
        b.iter(|| black_box(report::top(&profile, &TopOptions::default()).unwrap()))
    });
    g.bench_function("sites", |b| {
        b.iter(|| black_box(report::sites(&profile, &SiteOptions::default()).unwrap()))
    });
    g.bench_function("decode_gzip_and_top", |b| {
        b.iter(|| {
            let p = decode_bytes(&gz, &opts).unwrap();
            black_box(report::top(&p, &TopOptions::default()).unwrap())
        })
    });
    // The steps of `merge` per input (snapshots of one process: the input merged into a merge that already holds
    // it), and writing the result.
    g.bench_function("merge_load_gzip", |b| {
        b.iter(|| black_box(merge_input_from_bytes(&gz, &opts).unwrap()))
    });
    let input = merge_input_from_bytes(&gz, &opts).unwrap();
    let mut merger = Merger::new();
    merger.add_input(&input, "bench", &AddOptions::default()).unwrap();
    g.bench_function("merge_add_again", |b| {
        b.iter(|| merger.add_input(&input, "bench", &AddOptions::default()).unwrap())
    });
    g.bench_function("gzip_output", |b| b.iter(|| black_box(gzip(&raw))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
