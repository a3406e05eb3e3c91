#!/usr/bin/env bash
# Makes the input of the merge benchmark (issue 11): ten 100k-sample heap profiles (profile.proto, gzipped)
# that look like Go heap profiles, written by examples/gen_profile.rs. Nothing here is committed.
#
#   scripts/make-merge-bench-inputs.sh [OUT_DIR [MODE [N_SAMPLES [N_LOCS]]]]
#       OUT_DIR    default target/bench-merge
#       MODE       shared (default) | distinct | both
#       N_SAMPLES  default 100000;  N_LOCS default 50000
#
# gen_profile takes `OUT N_SAMPLES N_LOCS` and has no seed: the same arguments give the same bytes. What
# differs between the ten files therefore comes from N_SAMPLES alone:
#   shared:   file i has N_SAMPLES + i samples. Same mapping, functions and locations (same N_LOCS), the
#             call paths are the same (their number is N_SAMPLES / 200, unchanged for +0..+9), and the first
#             N_SAMPLES samples are identical in every file: like ten snapshots of one process. The merged
#             profile has about N_SAMPLES samples (each value summed ten times): merge is mostly lookups,
#             and memory should stay near one input, not ten.
#   distinct: file i has N_SAMPLES + 200 * i samples. Same mapping, functions and locations, but one more
#             call path per step, which shifts the generator's random stream: the samples differ from file
#             to file, so the merged profile has about 10 * N_SAMPLES samples.
# Every file: 4 sample types (alloc_objects, alloc_space, inuse_objects, inuse_space), period 524288, one
# mapping /usr/local/bin/bigserver (same build ID), a `bytes` numeric label on each sample, stacks 5-60 deep.
#
# Writes OUT_DIR/<mode>/heap-NN.pb.gz (NN = 00..09) and prints the peer command to time, e.g.
#   go tool pprof -proto OUT_DIR/shared/heap-*.pb.gz > merged.pb.gz
# Needs cargo (builds the example once, in release mode, into $CARGO_TARGET_DIR or target/).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-target/bench-merge}
MODE=${2:-shared}
N=${3:-100000}
LOCS=${4:-50000}
case $MODE in shared | distinct | both) ;; *) echo "MODE must be shared, distinct or both" >&2; exit 2 ;; esac

cargo build --release --quiet --example gen_profile
GEN=${CARGO_TARGET_DIR:-target}/release/examples/gen_profile

make_set() { # <mode> <step>
  local mode=$1 step=$2 dir="$OUT/$1"
  mkdir -p "$dir"
  for i in 0 1 2 3 4 5 6 7 8 9; do
    "$GEN" "$dir/heap-0$i.pb.gz" $((N + step * i)) "$LOCS"
  done
  echo "$mode: $(du -sh "$dir" | cut -f1) in $dir; time e.g.:"
  echo "  go tool pprof -proto $dir/heap-*.pb.gz > $OUT/$mode-merged.pb.gz"
}

[[ $MODE == shared || $MODE == both ]] && make_set shared 1
[[ $MODE == distinct || $MODE == both ]] && make_set distinct 200
exit 0
