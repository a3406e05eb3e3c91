#!/usr/bin/env bash
# End to end: `pprofsym top PROFILE BINARY` (decode, symbolize from the binary, report) against standalone
# google/pprof `-top BINARY PROFILE` with llvm-symbolizer on PATH (pprof drives it as a coprocess), on
# unsymbolized profiles and their binaries. Issue 9's goal: at least 10x faster.
#
#   scripts/bench-e2e.sh [RUNS]          default 7
#
# Inputs:
#   rust-jemalloc  testdata/rust-jemalloc/heap.pb.gz, a real jemalloc_pprof heap profile, with its 11 MB binary;
#   cppdemo        testdata/native/profiles/cppdemo.pb.gz (a real gperftools heap profile, converted), C++;
#   ripgrep-20k    20,000 random .text addresses of ripgrep built with full debug info (59 MB), one location each
#                  (examples/gen_addr_profile.rs); RG=/path/to/rg picks the binary, default /tmp/bench/rg/bin/rg,
#                  skipped when missing.
# GPPROF=... is google/pprof (default /work/tools/google-pprof), built with `go build`, run directly.
# Both get PPROF_BINARY_PATH=the binary's directory besides the positional binary: pprof gives the positional
# binary to the first mapping only, and finds the others (jemalloc_pprof writes one mapping per segment) by path.
# Each pair first shows whether the tables agree (the header lines, and how many rows are equal); then both run
# RUNS rounds, alternating (scripts/lib-bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-bench.sh
RUNS=${1:-7}
GPPROF=${GPPROF:-/work/tools/google-pprof}
RG=${RG:-/tmp/bench/rg/bin/rg}
OUT=${BENCH_DIR:-target/bench-e2e}
mkdir -p "$OUT"
command -v llvm-symbolizer > /dev/null || { echo "llvm-symbolizer not on PATH"; exit 1; }
cargo build --release --quiet --bin pprofsym --example gen_addr_profile
BIN=$PWD/target/release/pprofsym
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

one() {
  local name=$1 prof=$2 exe=$3
  local dir
  dir=$(cd "$(dirname "$exe")" && pwd)
  echo "== $name: $prof with $exe"
  env PPROF_BINARY_PATH=$dir "$BIN" top --format text "$prof" "$exe" > "$OUT/$name.ours.txt" 2> /dev/null
  env PPROF_BINARY_PATH=$dir PPROF_TMPDIR="$OUT" "$GPPROF" -top "$exe" "$prof" > "$OUT/$name.peer.txt" 2> /dev/null
  local same
  same=$(grep -Fxc -f "$OUT/$name.peer.txt" "$OUT/$name.ours.txt" || true)
  echo "rows: ours $(wc -l < "$OUT/$name.ours.txt"), peer $(wc -l < "$OUT/$name.peer.txt"), identical lines $same"
  bench_run "$RUNS" "$OUT" \
    pprofsym "env PPROF_BINARY_PATH=$dir $BIN top --format text $prof $exe" \
    google-pprof "env PPROF_BINARY_PATH=$dir $GPPROF -top $exe $prof"
  echo "google-pprof / pprofsym = $(bench_ratio "${MED_S[google-pprof]}" "${MED_S[pprofsym]}")x   (goal >= 10x)"
}

one rust-jemalloc testdata/rust-jemalloc/heap.pb.gz testdata/rust-jemalloc/bin/jemalloc-demo
one cppdemo testdata/native/profiles/cppdemo.pb.gz testdata/native/bin/cppdemo
if [ -x "$RG" ]; then
  [ -s "$OUT/rg-20k.pb.gz" ] ||
    target/release/examples/gen_addr_profile "$RG" "$OUT/rg-20k.pb.gz" "$OUT/rg-20k.txt" 20000 > /dev/null
  one ripgrep-20k "$OUT/rg-20k.pb.gz" "$RG"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
