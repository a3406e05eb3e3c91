//! Symbolization speed: N random code addresses of a binary with DWARF, looked up cold (a fresh
//! [`Symbolizer`] per iteration, so DWARF parsing is part of the cost, as for a one-shot CLI run).
//!
//! ```sh
//! cargo bench --bench symbolize                                   # 20 000 addresses, testdata/go/bin/heapdemo
//! PPROFSYM_BENCH_ADDRS=100000 cargo bench --bench symbolize       # more addresses
//! PPROFSYM_BENCH_BINARY=/tmp/bench/go-dwarf cargo bench --bench symbolize   # another binary
//! ```
//!
//! Three variants: `serial` ([`ElfSymbolizer::frames_batch`], one thread, sorted and deduplicated),
//! `parallel` ([`ElfSymbolizer::frames_batch_parallel`] on 2 threads) and `resolve` ([`Symbolizer::resolve`],
//! what `pprofsym symbolize` runs: normalization plus the parallel batch). Before timing, the bench checks that
//! the serial, parallel and one-by-one answers are identical. `scripts/bench-symbolize.sh` compares the CLIs
//! with their peers (gimli's addr2line, llvm-symbolizer, go tool pprof) on big binaries.

use std::path::PathBuf;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pprofsym::addr::{FileOffset, RuntimeAddr, Svma};
use pprofsym::binary::Binary;
use pprofsym::symbolize::{MappingInfo, Symbolizer, SymbolizerOptions};

/// The binary: `$PPROFSYM_BENCH_BINARY` or the committed Go fixture (static, DWARF 5, compressed sections).
fn binary_path() -> PathBuf {
    std::env::var_os("PPROFSYM_BENCH_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/go/bin/heapdemo"))
}

/// `n` seeded random addresses inside `.text` (xorshift64*, so the set never changes).
fn addresses(bin: &Binary, n: usize) -> Vec<u64> {
    let text = bin
        .sections()
        .iter()
        .find(|s| s.name == ".text")
        .expect("the bench binary has a .text section");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            text.addr.get() + state.wrapping_mul(0x2545_f491_4f6c_dd1d) % text.size
        })
        .collect()
}

/// The binary's own addresses are its runtime addresses (pprof's identity mapping).
const IDENTITY: MappingInfo<'static> = MappingInfo {
    start: RuntimeAddr(0),
    limit: RuntimeAddr(u64::MAX),
    offset: FileOffset(0),
    filename: "",
    build_id: "",
    is_main: false,
};

fn bench(c: &mut Criterion) {
    let path = binary_path();
    let n: usize = std::env::var("PPROFSYM_BENCH_ADDRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let bin = Binary::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let raw = addresses(&bin, n);
    let svmas: Vec<Svma> = raw.iter().map(|&a| Svma(a)).collect();
    let runtime: Vec<RuntimeAddr> = raw.iter().map(|&a| RuntimeAddr(a)).collect();
    let fresh = || {
        let mut s = Symbolizer::new(SymbolizerOptions::default());
        let h = s.open_binary(&path).expect("bench binary opens");
        (s, h)
    };

    // The answers must not depend on the strategy.
    let (s, h) = fresh();
    let serial = s.elf(h).frames_batch(&svmas);
    let (s2, h2) = fresh();
    assert!(
        serial == s2.elf(h2).frames_batch_parallel(&svmas, 2),
        "parallel answers differ"
    );
    let (s3, h3) = fresh();
    let one_by_one: Vec<_> = svmas.iter().step_by(97).map(|&a| s3.elf(h3).frames(a)).collect();
    let sampled: Vec<_> = serial.iter().step_by(97).cloned().collect();
    assert!(sampled == one_by_one, "batch answers differ from single lookups");

    let mut g = c.benchmark_group(format!("symbolize/{n}"));
    g.sample_size(10);
    g.bench_function("serial", |b| {
        b.iter_batched(fresh, |(s, h)| s.elf(h).frames_batch(&svmas), BatchSize::PerIteration)
    });
    g.bench_function("parallel", |b| {
        b.iter_batched(
            fresh,
            |(s, h)| s.elf(h).frames_batch_parallel(&svmas, 2),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("resolve", |b| {
        b.iter_batched(
            fresh,
            |(s, h)| s.resolve(h, &IDENTITY, &runtime),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
