#!/usr/bin/env bash
# `pprofsym addr2line` against the peers, command against command, both compiled, both in their default modes
# (issue 9, "Honest speed"):
#   rust: gimli's addr2line CLI (crate addr2line 0.27.1, feature `bin`, `-f -i -C`) against ours (`-f -i -C`) on
#         50,000 addresses of ripgrep, built in release with full debug info (CARGO_PROFILE_RELEASE_DEBUG=2): every
#         unique address of real CPU profiles (perf, call chains) of ripgrep searching the Go source tree (about 6k:
#         its hot code is small), and the rest return addresses of call instructions (what non-leaf profile frames
#         hold), drawn uniformly (seeded) from the whole of .text (ripgrep has about 39.8k call sites, so the last
#         ~3.7k are other instruction addresses);
#   go:   the compiled `cmd/addr2line` of Go 1.27 against ours (`-f -i`, which also gives inline frames) on 50,000
#         addresses of cmd/go (stripped: only the pclntab is left): every unique address of real CPU profiles of
#         cmd/go running `go list`, `go build -n`, `go vet -n`, ... (about 42k), the rest call-site return
#         addresses drawn as for rust.
# Each input is fed from a file and through a pipe (`cat FILE |`). Runs alternate peer / ours, RUNS times (default
# 7); the table shows median wall times, the largest peak RSS, and the ratio. Before timing, the outputs are checked
# (same number of answers, names present). The coprocess check feeds one address at a time through a pipe and
# measures how long each answer takes (it must come without waiting for more input).
#
# Usage: scripts/bench-addr2line.sh        (BENCH_DIR, default /tmp/bench, caches binaries and address lists)
# Needs: perf (linux-perf), Go 1.27 at $GO (default /opt/gobin/bin/go), network access to crates.io once.
set -euo pipefail
BENCH_DIR=${BENCH_DIR:-/tmp/bench}
RUNS=${RUNS:-7}
GO=${GO:-/opt/gobin/bin/go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$BENCH_DIR"
export GOTOOLCHAIN=local GOFLAGS=
GOROOT=$("$GO" env GOROOT)

echo "== building pprofsym (release)" >&2
(cd "$ROOT" && nice cargo build --release --quiet --bin pprofsym)
OURS=$BENCH_DIR/pprofsym-a2l
cp "$ROOT/target/release/pprofsym" "$OURS"

GIMLI=$BENCH_DIR/a2l/bin/addr2line
[[ -x $GIMLI ]] || nice cargo install --quiet addr2line@0.27.1 --features bin --root "$BENCH_DIR/a2l"
RG=$BENCH_DIR/rg/bin/rg
[[ -x $RG ]] || CARGO_PROFILE_RELEASE_DEBUG=2 CARGO_TARGET_DIR=$BENCH_DIR/rg-target \
    nice cargo install --quiet ripgrep --root "$BENCH_DIR/rg"
GOA2L=$BENCH_DIR/go-addr2line
[[ -x $GOA2L ]] || (cd "$GOROOT/src/cmd/addr2line" && "$GO" build -o "$GOA2L" .)
if [[ ! -x $BENCH_DIR/go-dwarf ]]; then
    (cd "$GOROOT/src/cmd/go" && "$GO" build -o "$BENCH_DIR/go-dwarf" .)
fi
strip --strip-all -o "$BENCH_DIR/go-stripped" "$BENCH_DIR/go-dwarf"

# profile_addrs BIN OUT CMD...: unique addresses (ELF virtual addresses) in BIN's code of perf profiles of CMD runs;
# perf prints them relative to the mapping, which starts at file offset 0 in both binaries.
perf_addrs() {
    local bin=$1 data=$2
    shift 2
    perf record -q -e cpu-clock -F 20000 -g -o "$data" -- "$@" >/dev/null 2>&1 || true
}
collect() { # BIN LIST DATA...
    local bin=$1 list=$2 base
    shift 2
    base=$(readelf -lW "$bin" | awk '$1 == "LOAD" && $2 == "0x000000" { print $3; exit }')
    for d in "$@"; do perf script -i "$d" -F ip,dso 2>/dev/null; done |
        awk -v b="$(basename "$bin")" '$2 ~ b { print $1 }' | sort -u |
        python3 -c "
import sys
base = int('$base', 16)
for l in sys.stdin:
    print(hex(base + int(l, 16)))" >"$list"
}
# fill_addrs BIN PROF: the profile's addresses, then return addresses of call instructions (what non-leaf frames
# hold) drawn at random (seeded) up to 50,000; if the binary has too few calls, other instruction addresses.
fill_addrs() {
    objdump -d --no-show-raw-insn "$1" | python3 -c "
import random, re, sys
prof = open('$2').read().split()
lines = sys.stdin.read().split('\n')
calls, insns = set(), set()
for i, l in enumerate(lines):
    m = re.match(r'\s+([0-9a-f]+):\t', l)
    if not m:
        continue
    insns.add('0x' + m.group(1))
    if '\tcall ' in l and i + 1 < len(lines):
        n = re.match(r'\s+([0-9a-f]+):', lines[i + 1])
        if n:
            calls.add('0x' + n.group(1))
random.seed(9)
need = 50000 - len(prof)
calls = sorted(calls - set(prof))
pick = random.sample(calls, min(need, len(calls)))
if need > len(pick):
    rest = sorted(insns - set(prof) - set(pick))
    pick += random.sample(rest, need - len(pick))
print('\n'.join(prof + pick))"
}
if [[ ! -s $BENCH_DIR/rust.addrs ]]; then
    echo "== profiling ripgrep" >&2
    i=0
    for args in "-n func $GOROOT/src" "-i -c error $GOROOT/src" "--json -w Reader $GOROOT/src/io" \
        "-e 'a[bc]+d' -e 'x{2,}' $GOROOT/src" "--files $GOROOT" "-F -l TODO $GOROOT/src" "-v -c e $GOROOT/src/cmd" \
        "--stats -S unsafe $GOROOT/src" "-o '[A-Z][a-z]+Error' $GOROOT/src" "--sort path -m1 package $GOROOT/src"; do
        eval "perf_addrs $RG $BENCH_DIR/rg-$i.data $RG $args"
        i=$((i + 1))
    done
    collect "$RG" "$BENCH_DIR/rust.prof.addrs" "$BENCH_DIR"/rg-*.data
    fill_addrs "$RG" "$BENCH_DIR/rust.prof.addrs" >"$BENCH_DIR/rust.addrs"
fi
if [[ ! -s $BENCH_DIR/go.addrs ]]; then
    echo "== profiling cmd/go" >&2
    i=0
    for args in "list -deps -json std" "list -deps -json cmd" "build -n std" "vet -n std" "test -n std" \
        "build -a -n cmd" "list -test -deps -json std" "vet -n cmd" "build -n -race std" "env -json" "mod help" \
        "doc fmt" "list -export -deps -json fmt" "version -m $BENCH_DIR/go-dwarf"; do
        GOCACHE=$BENCH_DIR/gocache perf_addrs "$BENCH_DIR/go-dwarf" "$BENCH_DIR/go-$i.data" "$BENCH_DIR/go-dwarf" $args
        i=$((i + 1))
    done
    collect "$BENCH_DIR/go-dwarf" "$BENCH_DIR/go.prof.addrs" "$BENCH_DIR"/go-*.data
    fill_addrs "$BENCH_DIR/go-dwarf" "$BENCH_DIR/go.prof.addrs" >"$BENCH_DIR/go.addrs"
fi

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# timed MODE LIST CMD...: "wall rss_kb" of one run, stdin from LIST (MODE file) or `cat LIST |` (MODE pipe).
timed() {
    local mode=$1 list=$2
    shift 2
    if [[ $mode == file ]]; then
        /usr/bin/time -f "%e %M" -o "$BENCH_DIR/time.out" "$@" <"$list" >/dev/null
    else
        cat "$list" | /usr/bin/time -f "%e %M" -o "$BENCH_DIR/time.out" "$@" >/dev/null
    fi
    cat "$BENCH_DIR/time.out"
}

bench() { # NAME LIST PEER_NAME "PEER CMD" "OUR CMD"
    local name=$1 list=$2 peer=$3 peercmd=$4 ourcmd=$5 mode
    echo
    echo "== $name: $(sort -u "$list" | wc -l) unique addresses, $RUNS alternating runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
    # Output check: one answer per address from both, real names in most.
    $peercmd <"$list" >"$BENCH_DIR/$name.peer.out"
    $ourcmd <"$list" >"$BENCH_DIR/$name.ours.out"
    echo "   output: $peer $(wc -l <"$BENCH_DIR/$name.peer.out") lines ($(grep -vc '^??' "$BENCH_DIR/$name.peer.out") named)," \
        "pprofsym $(wc -l <"$BENCH_DIR/$name.ours.out") lines ($(grep -vc '^??' "$BENCH_DIR/$name.ours.out") named)"
    for mode in file pipe; do
        local pw=() ow=() pr=0 or=0 i t
        for ((i = 0; i < RUNS; i++)); do
            t=$(timed "$mode" "$list" $peercmd)
            pw+=("${t% *}")
            pr=$((pr > ${t#* } ? pr : ${t#* }))
            t=$(timed "$mode" "$list" $ourcmd)
            ow+=("${t% *}")
            or=$((or > ${t#* } ? or : ${t#* }))
        done
        local pm om
        pm=$(printf '%s\n' "${pw[@]}" | median)
        om=$(printf '%s\n' "${ow[@]}" | median)
        printf '   %-5s %-14s %6.3f s %7.1f MiB | pprofsym %6.3f s %7.1f MiB | %5.2fx faster, %4.2fx memory\n' \
            "$mode" "$peer" "$pm" "$(echo "$pr / 1024" | bc -l)" "$om" "$(echo "$or / 1024" | bc -l)" \
            "$(echo "$pm / $om" | bc -l)" "$(echo "$or / $pr" | bc -l)"
    done
}

bench rust "$BENCH_DIR/rust.addrs" gimli-addr2line "$GIMLI -e $RG -f -i -C" "$OURS addr2line -e $RG -f -i -C"
bench go "$BENCH_DIR/go.addrs" go-addr2line "$GOA2L $BENCH_DIR/go-stripped" \
    "$OURS addr2line -e $BENCH_DIR/go-stripped -f -i"

echo
echo "== coprocess: one address written at a time, each answer awaited before the next is written"
python3 - "$OURS" "$RG" "$BENCH_DIR/rust.addrs" <<'PY'
import subprocess, sys, time
ours, binary, addrs = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().split()[:200]
p = subprocess.Popen([ours, "addr2line", "-f", "-e", binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
times = []
for a in addrs:
    t = time.perf_counter()
    p.stdin.write((a + "\n").encode()); p.stdin.flush()
    p.stdout.readline(); p.stdout.readline()
    times.append(time.perf_counter() - t)
p.stdin.close(); p.wait()
times.sort()
print(f"   {len(times)} answers, each without further input: median {times[len(times)//2]*1e3:.2f} ms, "
      f"slowest {times[-1]*1e3:.1f} ms (the first, which opens the binary)")
PY
