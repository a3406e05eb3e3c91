#!/usr/bin/env bash
# Times `pprofsym top` against `go tool pprof -top` and plain `gzip -dc` on one large generated heap profile.
#
#   scripts/bench-top.sh [N_SAMPLES [N_LOCS [RUNS]]]     defaults: 1000000 100000 5
#
# Generates the profile once (examples/gen_profile.rs, deterministic) under $BENCH_DIR (default
# target/bench-top), checks that both tools print the same table, then runs each command RUNS times in turn and
# prints the median wall time of each and the ratios. GO=... picks the Go toolchain (default /opt/gobin/bin/go,
# else `go` on PATH). Uses hyperfine when installed, else a loop timed with `date +%s%N`.
set -euo pipefail
cd "$(dirname "$0")/.."

N_SAMPLES=${1:-1000000}
N_LOCS=${2:-100000}
RUNS=${3:-5}
GO=${GO:-$( [ -x /opt/gobin/bin/go ] && echo /opt/gobin/bin/go || command -v go )}
BENCH_DIR=${BENCH_DIR:-target/bench-top}
mkdir -p "$BENCH_DIR"
PROF="$BENCH_DIR/heap-${N_SAMPLES}x${N_LOCS}.pb.gz"

cargo build --release --quiet --bin pprofsym --example gen_profile
BIN=target/release/pprofsym
if [ ! -s "$PROF" ]; then
  target/release/examples/gen_profile "$PROF" "$N_SAMPLES" "$N_LOCS"
fi
echo "profile: $PROF ($(stat -c %s "$PROF") bytes gzipped, $(gzip -dc "$PROF" | wc -c) bytes raw)"

# Same output first: a speed-up that prints something else is worth nothing.
"$BIN" top --format text "$PROF" > "$BENCH_DIR/ours.txt"
"$GO" tool pprof -top "$PROF" > "$BENCH_DIR/go.txt" 2> /dev/null
if cmp -s "$BENCH_DIR/ours.txt" "$BENCH_DIR/go.txt"; then
  echo "output: identical to go tool pprof -top"
else
  echo "output: DIFFERS from go tool pprof -top (see $BENCH_DIR/{ours,go}.txt)"
fi

declare -A CMDS=(
  [pprofsym]="$BIN top --format text $PROF"
  [go_pprof]="$GO tool pprof -top $PROF"
  [gzip]="gzip -dc $PROF"
)
ORDER=(pprofsym go_pprof gzip)
declare -A MED

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

if command -v hyperfine > /dev/null; then
  args=()
  for k in "${ORDER[@]}"; do args+=(-n "$k" "${CMDS[$k]} > /dev/null 2>&1"); done
  hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$BENCH_DIR/hyperfine.json" "${args[@]}" > /dev/null 2>&1 ||
    hyperfine --warmup 1 --runs "$RUNS" --export-json "$BENCH_DIR/hyperfine.json" "${args[@]}" > /dev/null
  for k in "${ORDER[@]}"; do
    MED[$k]=$(python3 -c "import json,sys; r=[x for x in json.load(open(sys.argv[1]))['results'] if x['command']==sys.argv[2]][0]; print(r['median'])" "$BENCH_DIR/hyperfine.json" "$k")
  done
else
  declare -A TIMES
  for k in "${ORDER[@]}"; do bash -c "${CMDS[$k]}" > /dev/null 2>&1; done   # warm-up
  for _ in $(seq "$RUNS"); do
    for k in "${ORDER[@]}"; do
      t0=$(date +%s%N)
      bash -c "${CMDS[$k]}" > /dev/null 2>&1
      t1=$(date +%s%N)
      TIMES[$k]+="$(( (t1 - t0) / 1000 ))"$'\n'
    done
  done
  for k in "${ORDER[@]}"; do
    MED[$k]=$(printf '%s' "${TIMES[$k]}" | median | awk '{print $1 / 1e6}')
  done
fi

printf '%-10s %10s\n' command "median s"
for k in "${ORDER[@]}"; do printf '%-10s %10.3f\n' "$k" "${MED[$k]}"; done
awk -v o="${MED[pprofsym]}" -v g="${MED[go_pprof]}" -v z="${MED[gzip]}" 'BEGIN {
  printf "go tool pprof / pprofsym = %.1fx   (goal >= 10x)\n", g / o
  printf "pprofsym / gzip -dc      = %.2fx  (goal <= 2x)\n", o / z
}'
