#!/usr/bin/env bash
# Times `pprofsym merge` against `go tool pprof -proto` (both compiled) on the merge benchmark inputs: ten
# 100k-sample heap profiles made by scripts/make-merge-bench-inputs.sh (made first if missing).
#
#   scripts/bench-merge.sh [MODE [RUNS]]      MODE: shared | distinct | both (default both); RUNS default 5
#
# For each set it first checks that the two merged profiles are the same profile: equal `pprofsym info` (sample
# types with totals, counts) and equal `go tool pprof -top -nodecount=40` of each, then runs the two tools RUNS
# times in turn (paired: the order alternates each round) under /usr/bin/time, and prints the median wall time and
# the largest max RSS of each, and the ratio of the medians. PPROF=... picks the peer (default /work/tools/pprof,
# the compiled `go tool pprof`). Outputs go to target/bench-merge.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-both}
RUNS=${2:-5}
PPROF=${PPROF:-/work/tools/pprof}
OUT=target/bench-merge
case $MODE in shared | distinct | both) ;; *) echo "MODE must be shared, distinct or both" >&2; exit 2 ;; esac

cargo build --release --quiet --bin pprofsym
BIN=${CARGO_TARGET_DIR:-target}/release/pprofsym
export TZ=UTC PPROF_BINARY_PATH=/nonexistent

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

bench_set() { # <mode>
  local mode=$1 dir="$OUT/$1"
  if [ ! -s "$dir/heap-09.pb.gz" ]; then
    scripts/make-merge-bench-inputs.sh "$OUT" "$mode" > /dev/null
  fi
  local inputs=("$dir"/heap-0*.pb.gz)
  echo "== $mode: ${#inputs[@]} inputs, $(du -ch "${inputs[@]}" | tail -1 | cut -f1) gzipped"

  # Same result first.
  "$BIN" merge "${inputs[@]}" -o "$OUT/$mode-ours.pb.gz" 2> /dev/null
  "$PPROF" -proto -output="$OUT/$mode-pprof.pb.gz" "${inputs[@]}" 2> /dev/null
  if cmp -s <("$BIN" info --format text "$OUT/$mode-ours.pb.gz" | grep -v '^Time') \
            <("$BIN" info --format text "$OUT/$mode-pprof.pb.gz" | grep -v '^Time') &&
     cmp -s <("$PPROF" -top -nodecount=40 "$OUT/$mode-ours.pb.gz" 2> /dev/null) \
            <("$PPROF" -top -nodecount=40 "$OUT/$mode-pprof.pb.gz" 2> /dev/null); then
    echo "result: same profile (info and pprof -top agree)"
  else
    echo "result: DIFFERS (see $OUT/$mode-{ours,pprof}.pb.gz)"
  fi

  local ours=() theirs=() ours_rss=0 theirs_rss=0
  run() { # <label> <cmd...>; prints "seconds maxrss_kb"
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" > /dev/null 2>&1
    cat "$OUT/time.txt"
  }
  for i in $(seq "$RUNS"); do
    local a b
    if (( i % 2 )); then
      a=$(run ours "$BIN" merge "${inputs[@]}" -o "$OUT/$mode-ours.pb.gz")
      b=$(run pprof "$PPROF" -proto -output="$OUT/$mode-pprof.pb.gz" "${inputs[@]}")
    else
      b=$(run pprof "$PPROF" -proto -output="$OUT/$mode-pprof.pb.gz" "${inputs[@]}")
      a=$(run ours "$BIN" merge "${inputs[@]}" -o "$OUT/$mode-ours.pb.gz")
    fi
    ours+=("${a% *}"); theirs+=("${b% *}")
    ours_rss=$(( ${a#* } > ours_rss ? ${a#* } : ours_rss ))
    theirs_rss=$(( ${b#* } > theirs_rss ? ${b#* } : theirs_rss ))
    echo "  run $i: pprofsym ${a% *} s, ${a#* } KB; pprof ${b% *} s, ${b#* } KB"
  done
  local mo mt
  mo=$(printf '%s\n' "${ours[@]}" | median)
  mt=$(printf '%s\n' "${theirs[@]}" | median)
  awk -v o="$mo" -v t="$mt" -v ro="$ours_rss" -v rt="$theirs_rss" -v n="$RUNS" 'BEGIN {
    printf "pprofsym merge:      median %.2f s, max RSS %.0f MiB\n", o, ro / 1024
    printf "go tool pprof -proto: median %.2f s, max RSS %.0f MiB\n", t, rt / 1024
    printf "speed-up %.1fx (median of %d paired runs), memory %.2fx\n", t / o, n, ro / rt
  }'
  ls -l "$OUT/$mode-ours.pb.gz" "$OUT/$mode-pprof.pb.gz" | awk '{print "  " $5 " bytes  " $9}'
}

[[ $MODE == shared || $MODE == both ]] && bench_set shared
[[ $MODE == distinct || $MODE == both ]] && bench_set distinct
exit 0
