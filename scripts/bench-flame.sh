#!/usr/bin/env bash
# Times `pprofsym folded` and `pprofsym flame` against `pprofsym top` on one symbolized heap profile (functions,
# files, lines and inline chains filled in; examples/gen_profile.rs, deterministic). The goal: folded and flame
# take at most 1.5x the time of top.
#
#   scripts/bench-flame.sh [N_SAMPLES [N_LOCS [RUNS]]]     defaults: 100000 50000 7
#
# The three commands run RUNS times in rotation (each round starts with the next one), wall time by
# /usr/bin/time; prints the medians and the ratios. Outputs go to target/bench-flame.
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

declare -A CMDS=(
  [top]="$BIN top --format text $PROF"
  [folded]="$BIN folded $PROF"
  [flame]="$BIN flame $PROF -o $OUT/flame.svg"
)
ORDER=(top folded flame)
declare -A TIMES
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for k in "${ORDER[@]}"; do ${CMDS[$k]} > /dev/null; done   # warm-up
for i in $(seq "$RUNS"); do
  for j in 0 1 2; do
    k=${ORDER[$(( (i + j) % 3 ))]}
    /usr/bin/time -f "%e" -o "$OUT/time.txt" ${CMDS[$k]} > /dev/null
    TIMES[$k]+="$(cat "$OUT/time.txt")"$'\n'
  done
done
declare -A MED
for k in "${ORDER[@]}"; do MED[$k]=$(printf '%s' "${TIMES[$k]}" | median); done
printf '%-8s %10s\n' command "median s"
for k in "${ORDER[@]}"; do printf '%-8s %10.3f\n' "$k" "${MED[$k]}"; done
awk -v t="${MED[top]}" -v f="${MED[folded]}" -v g="${MED[flame]}" 'BEGIN {
  printf "folded / top = %.2fx   flame / top = %.2fx   (goal <= 1.5x)\n", f / t, g / t
}'
