#!/usr/bin/env bash
# Times `pprofsym folded` and `pprofsym flame` against `pprofsym top` on one symbolized heap profile (functions,
# files, lines and inline chains filled in; examples/gen_profile.rs, deterministic). The goal: folded and flame
# take at most 1.5x the time of top.
#
#   scripts/bench-flame.sh [N_SAMPLES [N_LOCS [RUNS]]]     defaults: 100000 50000 7
#
# The three commands run RUNS times in rotation (each round starts with the next one; scripts/lib-bench.sh, wall
# time to the millisecond); prints the medians, peak memory and the ratios. Outputs go to target/bench-flame.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-100000}
LOCS=${2:-50000}
RUNS=${3:-7}
OUT=target/bench-flame
mkdir -p "$OUT"
cargo build --release --quiet --bin pprofsym --example gen_profile
T=${CARGO_TARGET_DIR:-target}/release
BIN=$T/pprofsym
PROF="$OUT/heap-${N}x${LOCS}.pb.gz"
[ -s "$PROF" ] || "$T/examples/gen_profile" "$PROF" "$N" "$LOCS"
echo "profile: $PROF ($(stat -c %s "$PROF") bytes gzipped)"

"$BIN" folded "$PROF" > "$OUT/folded.txt"
"$BIN" flame "$PROF" -o "$OUT/flame.svg"
echo "folded: $(wc -l < "$OUT/folded.txt") stacks, $(stat -c %s "$OUT/folded.txt") bytes; flame: $(stat -c %s "$OUT/flame.svg") bytes"

source scripts/lib-bench.sh
bench_run "$RUNS" "$OUT" \
  top "$BIN top --format text $PROF" \
  folded "$BIN folded $PROF" \
  flame "$BIN flame $PROF -o $OUT/flame.svg"
echo "folded / top = $(bench_ratio "${MED_S[folded]}" "${MED_S[top]}")x   flame / top = $(bench_ratio "${MED_S[flame]}" "${MED_S[top]}")x   (goal <= 1.5x)"
