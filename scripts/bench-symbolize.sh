#!/usr/bin/env bash
# Symbolization speed against the peers, on two big binaries with DWARF (issue 3 "Speed").
#
#   scripts/bench-symbolize.sh [N]        # N random .text addresses per binary (default 100000)
#
# Inputs (built once, cached under $BENCH_DIR, default /tmp/bench; nothing is committed):
#   go-dwarf  Go's cmd/go built by $GO (default /opt/gobin/bin/go) with DWARF (compressed DWARF 5, non-PIE).
#   rust-big  this crate's own sources (a snapshot of Cargo.toml, Cargo.lock, build.rs, proto/, src/) built in
#             release with `debug = 2` (full DWARF, PIE). Set RUST_BIN=/path to use another Rust binary.
#   For each binary `examples/gen_addr_profile.rs` writes N seeded random addresses inside .text as a list
#   (ELF addresses, for the CLIs) and as a profile.proto with one mapping and one location per address (the
#   PIE at an ASLR-like base), for `pprofsym symbolize` and `go tool pprof`.
# Tools, each run $RUNS times (default 5) in the same session; the table shows the median wall time, the median
# user+sys CPU time, the largest peak RSS (`/usr/bin/time`), and the median time for a single address
# ("first answer": the same command on a 1-address list or profile):
#   gimli-a2l        gimli's addr2line CLI (crate addr2line 0.27.1, feature `bin`): -f -i -C < list
#   llvm-symbolizer  --obj=BIN --inlining --output-style=JSON < list
#   pprof            go tool pprof -proto -symbolize=local BIN PROFILE (the cached pprof binary, run directly;
#                    one run, killed after $PPROF_TIMEOUT s, default 120: on a big non-Go binary it takes minutes)
#   pprofsym-a2l     pprofsym addr2line -e BIN -f -i -C < list (streaming: one request at a time, a coprocess)
#   pprofsym-batch   the same with --batch (all of stdin read first, one sorted, deduplicated, parallel batch)
#   pprofsym-batch-1t  the same with RAYON_NUM_THREADS=1
#   pprofsym-sym     pprofsym symbolize PROFILE -o OUT --binary BIN
#   pprofsym-sym-1t  the same with RAYON_NUM_THREADS=1 (the serial lookup)
# The columns gimli/x, llvm/x and pprof/x are the peer's median wall time over the row's (> 1: the row is
# faster); mem/gimli is the row's peak RSS over gimli-a2l's. The issue's goals are checked for pprofsym-batch:
# >= 2x faster than gimli-a2l, no more memory than it, first answer under 0.1 s. The machine is shared: wall
# times are noisy, CPU times less so; the load average is printed before and after each binary's runs.
set -euo pipefail

N=${1:-100000}
BENCH_DIR=${BENCH_DIR:-/tmp/bench}
RUNS=${RUNS:-5}
# go tool pprof on a big non-Go binary takes minutes: it runs once, killed after this many seconds.
PPROF_TIMEOUT=${PPROF_TIMEOUT:-120}
GO=${GO:-/opt/gobin/bin/go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$BENCH_DIR"
cd "$ROOT"

echo "== building pprofsym (release) and the generator" >&2
nice cargo build --release --quiet --bin pprofsym --example gen_addr_profile
PPROFSYM=$BENCH_DIR/pprofsym-bench
cp target/release/pprofsym "$PPROFSYM"
GEN=target/release/examples/gen_addr_profile

if [[ ! -x $BENCH_DIR/go-dwarf ]]; then
    echo "== building cmd/go with DWARF" >&2
    (cd "$("$GO" env GOROOT)/src/cmd/go" && nice "$GO" build -o "$BENCH_DIR/go-dwarf" .)
fi

RUST_BIN=${RUST_BIN:-$BENCH_DIR/rs-target/release/pprofsym}
if [[ ! -x $RUST_BIN ]]; then
    echo "== building a snapshot of pprofsym with debug = 2 (a few minutes)" >&2
    rm -rf "$BENCH_DIR/rs-src" && mkdir -p "$BENCH_DIR/rs-src"
    cp -r Cargo.toml Cargo.lock build.rs proto src "$BENCH_DIR/rs-src/"
    # benches/ and dev-dependencies are not part of the snapshot.
    sed -i '/^\[\[bench\]\]/,/^harness/d; /^\[dev-dependencies\]/,/^$/d' "$BENCH_DIR/rs-src/Cargo.toml"
    (cd "$BENCH_DIR/rs-src" && CARGO_PROFILE_RELEASE_DEBUG=2 CARGO_TARGET_DIR="$BENCH_DIR/rs-target" \
        nice cargo build --release --quiet --offline)
fi
cp "$RUST_BIN" "$BENCH_DIR/rust-big"

A2L=$BENCH_DIR/a2l/bin/addr2line
if [[ ! -x $A2L ]]; then
    echo "== installing gimli's addr2line CLI" >&2
    nice cargo install --quiet addr2line@0.27.1 --features bin --root "$BENCH_DIR/a2l"
fi
PPROF=$("$GO" tool -n pprof 2>/dev/null || true)
if [[ -z $PPROF || ! -x $PPROF ]]; then
    "$GO" tool pprof -h >/dev/null 2>&1 || true # builds and caches the tool
    PPROF=$("$GO" tool -n pprof)
fi
command -v llvm-symbolizer >/dev/null || { echo "llvm-symbolizer not found" >&2; exit 1; }

# measure RUNS LIMIT INPUT CMD... : timed runs (stdin from INPUT), each killed after LIMIT seconds; prints
# "wall cpu rss_kb" per run, or "timeout" / "failed".
measure() {
    local runs=$1 limit=$2 input=$3
    shift 3
    local i rc
    for ((i = 0; i < runs; i++)); do
        rc=0
        /usr/bin/time -f "%e %U %S %M" -o "$BENCH_DIR/time.out" timeout "$limit" "$@" <"$input" >/dev/null \
            2>"$BENCH_DIR/err.out" || rc=$?
        if ((rc == 124)); then
            echo timeout
            return
        elif ((rc != 0)); then
            echo "failed: $*" >&2
            cat "$BENCH_DIR/err.out" >&2
            echo failed
            return
        fi
        awk '/^[0-9]/ { printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$BENCH_DIR/time.out"
    done
}
median() {
    sort -g | awk '/^[a-z]/ { print ">'"$PPROF_TIMEOUT"'"; done = 1; exit }
        { v[NR] = $1 } END { if (!done) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for name in go-dwarf rust-big; do
    bin=$BENCH_DIR/$name
    prof=$BENCH_DIR/$name.$N.pb.gz list=$BENCH_DIR/$name.$N.txt
    prof1=$BENCH_DIR/$name.1.pb.gz list1=$BENCH_DIR/$name.1.txt
    [[ -s $prof && -s $list ]] || "$GEN" "$bin" "$prof" "$list" "$N" 1
    [[ -s $prof1 && -s $list1 ]] || "$GEN" "$bin" "$prof1" "$list1" 1 1
    out=$BENCH_DIR/$name.out.pb.gz
    echo
    echo "== $name: $(stat -c %s "$bin") bytes, $N addresses ($(sort -u "$list" | wc -l) distinct), $RUNS runs each"

    # Check that every tool really symbolizes (not only exits 0).
    "$PPROFSYM" symbolize "$prof" -o "$out" --binary "$bin" 2>/dev/null
    echo "   pprofsym symbolize: $("$PPROFSYM" info "$out" | grep -o '([0-9]* with inline frames, [0-9]* unsymbolized)')"
    if timeout "$PPROF_TIMEOUT" "$PPROF" -proto -symbolize=local "$bin" "$prof" >"$out" 2>/dev/null; then
        echo "   go tool pprof:      $("$PPROFSYM" info "$out" | grep -o '([0-9]* with inline frames, [0-9]* unsymbolized)')"
    else
        echo "   go tool pprof:      did not finish within ${PPROF_TIMEOUT} s"
    fi
    "$A2L" -e "$bin" -f -i -C <"$list" >"$BENCH_DIR/$name.gimli.txt"
    "$PPROFSYM" addr2line -e "$bin" -f -i -C <"$list" >"$BENCH_DIR/$name.pprofsym.txt" 2>/dev/null
    echo "   addr2line output lines: gimli $(wc -l <"$BENCH_DIR/$name.gimli.txt"), pprofsym" \
        "$(wc -l <"$BENCH_DIR/$name.pprofsym.txt"), differing $(diff "$BENCH_DIR/$name.gimli.txt" \
        "$BENCH_DIR/$name.pprofsym.txt" | grep -c '^>' || true)"
    "$PPROFSYM" addr2line --batch -e "$bin" -f -i -C <"$list" >"$BENCH_DIR/$name.batch.txt" 2>/dev/null
    if cmp -s "$BENCH_DIR/$name.pprofsym.txt" "$BENCH_DIR/$name.batch.txt"; then
        echo "   addr2line --batch output: identical to streaming"
    else
        echo "   addr2line --batch output: DIFFERS from streaming" >&2
        exit 1
    fi
    echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

    declare -A wall=() cpu=() rss=() first=()
    run_tool() { # TOOL RUNS CMD... (the word @IN@ is replaced by the profile, stdin gets the list)
        local tool=$1 runs=$2
        shift 2
        local full=() one=() a
        for a in "$@"; do
            full+=("${a//@IN@/$prof}")
            one+=("${a//@IN@/$prof1}")
        done
        local res
        res=$(measure "$runs" "$PPROF_TIMEOUT" "$list" "${full[@]}")
        wall[$tool]=$(awk '{ print $1 }' <<<"$res" | median)
        cpu[$tool]=$(awk '{ print $2 }' <<<"$res" | median)
        rss[$tool]=$(awk '{ print $3 + 0 }' <<<"$res" | sort -g | tail -1)
        first[$tool]=$(measure "$RUNS" "$PPROF_TIMEOUT" "$list1" "${one[@]}" | awk '{ print $1 }' | median)
    }
    run_tool gimli-a2l "$RUNS" "$A2L" -e "$bin" -f -i -C
    run_tool llvm-symbolizer "$RUNS" llvm-symbolizer "--obj=$bin" --inlining --output-style=JSON
    run_tool pprof 1 "$PPROF" -proto -symbolize=local "$bin" @IN@
    run_tool pprofsym-a2l "$RUNS" "$PPROFSYM" addr2line -e "$bin" -f -i -C
    run_tool pprofsym-batch "$RUNS" "$PPROFSYM" addr2line --batch -e "$bin" -f -i -C
    run_tool pprofsym-batch-1t "$RUNS" env RAYON_NUM_THREADS=1 "$PPROFSYM" addr2line --batch -e "$bin" -f -i -C
    run_tool pprofsym-sym "$RUNS" "$PPROFSYM" symbolize @IN@ -o "$out" --binary "$bin"
    run_tool pprofsym-sym-1t "$RUNS" env RAYON_NUM_THREADS=1 "$PPROFSYM" symbolize @IN@ -o "$out" --binary "$bin"

    echo "   load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
    ratio() { # PEER_WALL ROW_WALL
        awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2fx", a / b; else print "-" }'
    }
    printf '   %-18s %7s %7s %9s %8s %8s %8s %8s %10s\n' tool wall_s cpu_s peak_MiB first_s gimli/x llvm/x \
        pprof/x mem/gimli
    for t in gimli-a2l llvm-symbolizer pprof pprofsym-a2l pprofsym-batch pprofsym-batch-1t pprofsym-sym \
        pprofsym-sym-1t; do
        # A run killed at the time limit has no CPU time or peak RSS: "-".
        printf '   %-18s %7s %7s %9s %8s %8s %8s %8s %10s\n' "$t" "${wall[$t]}" "${cpu[$t]:--}" \
            "$(awk -v k="${rss[$t]}" 'BEGIN { if (k > 0) printf "%.1f", k / 1024; else print "-" }')" "${first[$t]}" \
            "$(ratio "${wall[gimli-a2l]}" "${wall[$t]}")" "$(ratio "${wall[llvm-symbolizer]}" "${wall[$t]}")" \
            "$(ratio "${wall[pprof]}" "${wall[$t]}")" \
            "$(awk -v a="${rss[$t]}" -v b="${rss[gimli-a2l]}" 'BEGIN { if (a > 0) printf "%.2f", a / b; else print "-" }')"
    done
    verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "NOT met"; fi; }
    b=pprofsym-batch g=gimli-a2l
    echo "   goals ($b vs $g):" \
        "2x faster: $(verdict "${wall[$g]} >= 2 * ${wall[$b]}") ($(ratio "${wall[$g]}" "${wall[$b]}"));" \
        "memory <= gimli: $(verdict "${rss[$b]} <= ${rss[$g]}") (${rss[$b]} vs ${rss[$g]} KiB);" \
        "first answer < 0.1 s: $(verdict "${first[$b]} < 0.1") (${first[$b]} s)"
    unset wall cpu rss first
done
