#!/usr/bin/env bash
# Times `pprofsym top` against the compiled `go tool pprof -top` and plain `gzip -dc` on one generated,
# symbolized heap profile (functions, files, lines, inline chains; examples/gen_profile.rs, deterministic).
#
#   scripts/bench-top.sh [N_SAMPLES [N_LOCS [RUNS]]]     defaults: 100000 50000 7
#
# PPROF=... is the peer: the compiled cmd/pprof (default /work/tools/pprof; build it with
# `go build -o pprof cmd/pprof` in GOROOT/src), never the `go` launcher, which adds its own start-up.
# Checks first that both tools print the same table, then runs the three commands RUNS rounds, alternating
# (scripts/lib-bench.sh), and prints median wall time, peak RSS and the ratios against the goals of issue 9:
# top within 1.5x of gzip -dc, and at least 10x faster than pprof.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-bench.sh

N_SAMPLES=${1:-100000}
N_LOCS=${2:-50000}
RUNS=${3:-7}
PPROF=${PPROF:-/work/tools/pprof}
BENCH_DIR=${BENCH_DIR:-target/bench-top}
mkdir -p "$BENCH_DIR"
PROF="$BENCH_DIR/heap-${N_SAMPLES}x${N_LOCS}.pb.gz"

cargo build --release --quiet --bin pprofsym --example gen_profile
BIN=target/release/pprofsym
[ -s "$PROF" ] || target/release/examples/gen_profile "$PROF" "$N_SAMPLES" "$N_LOCS"
echo "profile: $PROF ($(stat -c %s "$PROF") bytes gzipped, $(gzip -dc "$PROF" | wc -c) bytes raw)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Same output first: a speed-up that prints something else is worth nothing.
"$BIN" top --format text "$PROF" > "$BENCH_DIR/ours.txt"
"$PPROF" -top "$PROF" > "$BENCH_DIR/peer.txt" 2> /dev/null
if cmp -s "$BENCH_DIR/ours.txt" "$BENCH_DIR/peer.txt"; then
  echo "output: identical to pprof -top"
else
  echo "output: DIFFERS from pprof -top (see $BENCH_DIR/{ours,peer}.txt)"
fi

bench_run "$RUNS" "$BENCH_DIR" \
  pprofsym "$BIN top --format text $PROF" \
  pprof "$PPROF -top $PROF" \
  gzip "gzip -dc $PROF"
echo "pprof / pprofsym  = $(bench_ratio "${MED_S[pprof]}" "${MED_S[pprofsym]}")x   (goal >= 10x)"
echo "pprofsym / gzip   = $(bench_ratio "${MED_S[pprofsym]}" "${MED_S[gzip]}")x   (goal <= 1.5x)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
