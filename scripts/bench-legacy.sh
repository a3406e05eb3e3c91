#!/usr/bin/env bash
# Times `pprofsym top` against `go tool pprof -top` on a generated gperftools heap profile, and our text parsing.
#
#   scripts/bench-legacy.sh [STACKS [RUNS]]      defaults: 100000 11; BIG=1 adds a 600 MB text run (see the end)
#
# Needs: python3, cargo, the compiled `go tool pprof` (PPROF, default /work/tools/pprof; not the `go` launcher),
# GNU time (/usr/bin/time) for peak memory.
# Makes (under BENCH_DIR, default target/bench-legacy): the profile from scripts/gen-legacy-heap.py (deterministic,
# seed 1) with every mapped path moved under /nonexistent, so both tools run in their default mode, look for the
# binaries, find none, and print the same unsymbolized table; its gzipped copy; a jemalloc dump of the same size.
#
# Checks that both tops are byte-identical, then runs the two commands RUNS times each, alternating which goes
# first, and prints each median wall time and the ratio. Then: our parse throughput (examples/parse_legacy.rs,
# median of RUNS in-process parses of the whole file, wall and process CPU), our top on the gzipped copy and on
# the jemalloc dump, and peak RSS. The machine's load average is printed, since other work on it slows both tools.
set -euo pipefail
cd "$(dirname "$0")/.."

STACKS=${1:-100000}
RUNS=${2:-11}
PPROF=${PPROF:-/work/tools/pprof}
BENCH_DIR=${BENCH_DIR:-target/bench-legacy}
mkdir -p "$BENCH_DIR"
PROF="$BENCH_DIR/heap-$STACKS.heap"
JE="$BENCH_DIR/jemalloc-$STACKS.heap"

cargo build --release --quiet --bin pprofsym --example parse_legacy
BIN=target/release/pprofsym
if [ ! -s "$PROF" ]; then
  python3 scripts/gen-legacy-heap.py --stacks "$STACKS" --seed 1 |
    sed 's#/usr/lib/x86_64-linux-gnu/#/nonexistent/lib/#; s#/srv/app/#/nonexistent/app/#' > "$PROF"
  gzip -kf "$PROF"
fi
if [ ! -s "$JE" ]; then
  python3 scripts/gen-legacy-heap.py --stacks "$STACKS" --seed 1 --format jemalloc |
    sed 's#/usr/lib/x86_64-linux-gnu/#/nonexistent/lib/#; s#/srv/app/#/nonexistent/app/#' > "$JE"
fi
echo "profile: $PROF ($(stat -c %s "$PROF") bytes, $(grep -c ' @ ' "$PROF") records; gzipped $(stat -c %s "$PROF.gz") bytes)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

peer() { env -i PATH=/usr/bin:/bin HOME="$BENCH_DIR" TZ=UTC LC_ALL=C PPROF_BINARY_PATH=/nonexistent "$PPROF" -top "$@"; }
ours() { "$BIN" top --format text "$@"; }

ours "$PROF" > "$BENCH_DIR/ours.txt" 2> /dev/null
peer "$PROF" > "$BENCH_DIR/peer.txt" 2> /dev/null
if cmp -s "$BENCH_DIR/ours.txt" "$BENCH_DIR/peer.txt"; then
  echo "output: identical to go tool pprof -top"
else
  echo "output: DIFFERS from go tool pprof -top (see $BENCH_DIR/{ours,peer}.txt)"
  exit 1
fi

now() { date +%s%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_one() { # prints seconds
  local t0 t1
  t0=$(now)
  "$@" > /dev/null 2>&1
  t1=$(now)
  echo "scale=4; ($t1 - $t0) / 1000000000" | bc
}

ours "$PROF" > /dev/null 2>&1; peer "$PROF" > /dev/null 2>&1   # warm-up (page cache)
: > "$BENCH_DIR/t-ours"; : > "$BENCH_DIR/t-peer"
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then
    time_one ours "$PROF" >> "$BENCH_DIR/t-ours"; time_one peer "$PROF" >> "$BENCH_DIR/t-peer"
  else
    time_one peer "$PROF" >> "$BENCH_DIR/t-peer"; time_one ours "$PROF" >> "$BENCH_DIR/t-ours"
  fi
done
M_OURS=$(median < "$BENCH_DIR/t-ours")
M_PEER=$(median < "$BENCH_DIR/t-peer")
echo "top, median of $RUNS alternating runs: pprofsym $M_OURS s, go tool pprof $M_PEER s, $(echo "scale=1; $M_PEER / $M_OURS" | bc)x faster"

target/release/examples/parse_legacy "$PROF" "$RUNS"

: > "$BENCH_DIR/t-gz"; : > "$BENCH_DIR/t-je"
for _ in $(seq "$RUNS"); do
  time_one ours "$PROF.gz" >> "$BENCH_DIR/t-gz"
  time_one ours "$JE" >> "$BENCH_DIR/t-je"
done
echo "pprofsym top on the gzipped copy: median $(median < "$BENCH_DIR/t-gz") s"
echo "pprofsym top on a jemalloc dump of $STACKS stacks ($(stat -c %s "$JE") bytes): median $(median < "$BENCH_DIR/t-je") s"
for f in "$PROF" "$PROF.gz" "$JE"; do
  /usr/bin/time -f "peak RSS of pprofsym top on $(basename "$f"): %M KiB" "$BIN" top --format text "$f" 2>&1 > /dev/null | tail -1
done
/usr/bin/time -f "peak RSS of go tool pprof -top: %M KiB" env -i PATH=/usr/bin:/bin HOME="$BENCH_DIR" TZ=UTC \
  PPROF_BINARY_PATH=/nonexistent "$PPROF" -top "$PROF" 2>&1 > /dev/null | tail -1
echo "machine after: load average $(cut -d' ' -f1-3 /proc/loadavg)"

# BIG=1: about 600 MB of heap text (the records above repeated 16 times, same maps), gzipped, read by
# `pprofsym top` and `pprof -top` once each: wall time and peak RSS (issue 10: "600 MB of gzipped text within the usual bounds").
if [ "${BIG:-0}" = 1 ]; then
  BIGF="$BENCH_DIR/heap-x16.heap.gz"
  if [ ! -s "$BIGF" ]; then
    python3 - "$PROF" 16 <<'PY' | gzip -1 > "$BIGF"
import sys
path, n = sys.argv[1], int(sys.argv[2])
text = open(path, 'rb').read()
head, rest = text.split(b'\n', 1)
records, maps = rest.split(b'MAPPED_LIBRARIES:', 1)
out = sys.stdout.buffer
out.write(head + b'\n')
for _ in range(n):
    out.write(records)
out.write(b'MAPPED_LIBRARIES:' + maps)
PY
  fi
  echo "big: $(gzip -dc "$BIGF" | wc -c) bytes of text, $(stat -c %s "$BIGF") gzipped"
  /usr/bin/time -f "big: pprofsym top %e s wall, peak RSS %M KiB" "$BIN" top --format text "$BIGF" 2>&1 > /dev/null | tail -1
  /usr/bin/time -f "big: pprof -top %e s wall, peak RSS %M KiB" env PPROF_BINARY_PATH=/nonexistent "$PPROF" -top \
    "$BIGF" 2>&1 > /dev/null | tail -1
fi
