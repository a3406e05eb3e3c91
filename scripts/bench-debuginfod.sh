#!/usr/bin/env bash
# Cold vs warm debuginfod runs on a profile that names ten shared libraries.
#
# The program (scripts/bench-debuginfod/: Rust, jemalloc + jemalloc_pprof) links ten C shared libraries
# (libten0.so … libten9.so, built here from c/tenlib.c) and writes a real heap profile whose mappings carry
# every object's build ID: the program, the ten libraries, libc, libm, libgcc_s, ld.so. A local elfutils
# `debuginfod` serves, from one directory (-F), what a distribution's server would have: the ten libraries
# stripped and their separate debug files, the program (with its DWARF), and this machine's libc, libm, libgcc_s
# and ld.so with the debug files of libc6-dbg when installed. Then, alternating, N times each:
#   cold:  `pprofsym info --locate` and `pprofsym top --lines` with an empty client cache (all downloaded);
#   warm:  the same with the cache filled by the previous cold run;
#   local: the same with no debuginfod, every file given with --binary (the floor);
#   peer:  elfutils' own client, `debuginfod-find executable|debuginfo ID` for the same build IDs one after
#          another, cold (fetching only; it does not symbolize).
# Medians are printed; the `top` outputs of cold, warm and local are checked to be identical first.
#
# Usage: scripts/bench-debuginfod.sh [RUNS]   (default 7)
# Environment: WORK (default /tmp/pprofsym-bench-debuginfod), PPROFSYM (default target/release/pprofsym),
#              REBUILD=1 to rebuild the program and libraries.
# Needs: gcc, binutils, cargo (crates.io reachable or the crates fetched), debuginfod, debuginfod-find, curl.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-7}"
WORK="${WORK:-/tmp/pprofsym-bench-debuginfod}"
PPROFSYM="${PPROFSYM:-$ROOT/target/release/pprofsym}"
SRC="$ROOT/scripts/bench-debuginfod"
export TZ=UTC LC_ALL=C
unset DEBUGINFOD_URLS PPROF_BINARY_PATH DEBUGINFOD_TIMEOUT DEBUGINFOD_RETRY_LIMIT

[[ -x "$PPROFSYM" ]] || { echo "build pprofsym first: cargo build --release" >&2; exit 1; }

# 1. The libraries and the program.
RUN="$WORK/run"
if [[ "${REBUILD:-0}" == 1 || ! -x "$RUN/tenlibs" ]]; then
    rm -rf "$WORK/lib" "$RUN"
    mkdir -p "$WORK/lib" "$RUN"
    for i in 0 1 2 3 4 5 6 7 8 9; do
        (cd "$SRC" && gcc -O2 -g -fno-omit-frame-pointer -fPIC -shared -DLIB="$i" -ffile-prefix-map="$SRC"=. -Wl,--build-id=sha1 \
            -o "$WORK/lib/libten$i.so" c/tenlib.c)
    done
    RUSTFLAGS="-L native=$WORK/lib -C link-arg=-Wl,-rpath,\$ORIGIN -C link-arg=-Wl,--build-id=sha1" \
        cargo build --release --locked --manifest-path "$SRC/Cargo.toml" --target-dir "$WORK/target"
    cp "$WORK/target/release/tenlibs" "$WORK/lib/"libten*.so "$RUN/"
fi
PROFILE="$WORK/heap.pb.gz"
(cd "$RUN" && "$RUN/tenlibs" "$PROFILE")

# 2. What the server has: the program, our libraries stripped + their debug files; the system libraries as
#    installed, and libc6-dbg's debug files for them when present.
SRV="$WORK/srv"
LOCAL="$WORK/local"
rm -rf "$SRV" "$LOCAL"
mkdir -p "$SRV" "$LOCAL"
# The program is served whole (it has DWARF): stripped, its .debug_gdb_scripts section (allocated, so kept by
# strip) would make the server offer the stripped file as debuginfo too.
cp "$RUN/tenlibs" "$SRV/tenlibs"
cp "$RUN/tenlibs" "$LOCAL/tenlibs"
for f in "$RUN"/libten*.so; do
    b="$(basename "$f")"
    objcopy --only-keep-debug "$f" "$SRV/$b.debug"
    objcopy --strip-all --add-gnu-debuglink="$SRV/$b.debug" "$f" "$SRV/$b"
    cp "$f" "$LOCAL/$b"
done
"$PPROFSYM" info -F csv "$PROFILE" | awk -F, 'NR > 1 && $6 != "" && $5 ~ /^\// {print $5 "," $6}' | sort -u > "$WORK/objects.csv"
while IFS=, read -r file id; do
    case "$file" in "$RUN"/*) continue ;; esac
    [[ -f "$file" ]] || continue
    cp "$file" "$SRV/$(basename "$file")"
    cp "$file" "$LOCAL/$(basename "$file")"
    dbg="/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
    if [[ -f "$dbg" ]]; then
        cp "$dbg" "$SRV/$(basename "$file").debug"
        cp "$dbg" "$LOCAL/$(basename "$file").debug"
    fi
done < "$WORK/objects.csv"
echo "objects in the profile (file, build ID):"
sed 's/^/  /' "$WORK/objects.csv"
echo "server files: $(ls "$SRV" | wc -l), $(du -sh "$SRV" | cut -f1)"

# 3. The server.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
debuginfod -F "$SRV" -p "$PORT" -d :memory: -t 0 -g 0 > "$WORK/debuginfod.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    m="$(curl -s "http://127.0.0.1:$PORT/metrics" || true)"
    if grep -q 'thread_work_total{role="traverse"} [1-9]' <<<"$m" &&
        grep -q 'thread_work_pending{role="scan"} 0' <<<"$m" &&
        grep -q 'thread_busy{role="scan"} 0' <<<"$m"; then
        break
    fi
    sleep 0.1
done
export DEBUGINFOD_URLS="http://127.0.0.1:$PORT"
CACHE="$WORK/cache"
NODEBUG="$WORK/no-debug"
mkdir -p "$NODEBUG"

# Two workloads: `info --locate` finds every mapping's files (all fifteen objects: the fetching alone), and
# `top --lines` looks up the objects that have locations (jemalloc's unwinder attributes the ten libraries'
# allocations to a few of them: the program, two libraries and libc here) and symbolizes.
COMMON=(--no-mapping-paths --debug-dir "$NODEBUG")
TOP=(top "$PROFILE" -F text --lines --no-trim)
INFO=(info --locate "$PROFILE" -F csv)
cold() { rm -rf "$CACHE"; DEBUGINFOD_CACHE_PATH="$CACHE" "$PPROFSYM" "$@" "${COMMON[@]}"; }
warm() { DEBUGINFOD_CACHE_PATH="$CACHE" "$PPROFSYM" "$@" "${COMMON[@]}"; }
# (top symbolizes only with a named binary or debuginfod: name them all.)
local_files() {
    local bins=()
    for f in "$LOCAL"/*; do [[ -f "$f" && "$f" != *.debug ]] && bins+=(--binary "$f"); done
    DEBUGINFOD_URLS= "$PPROFSYM" "$@" "${COMMON[@]}" "${bins[@]}" --debug-dir "$LOCAL"
}
peer() {
    rm -rf "$WORK/peer-cache"
    while IFS=, read -r _ id; do
        DEBUGINFOD_CACHE_PATH="$WORK/peer-cache" debuginfod-find executable "$id" >/dev/null 2>&1 || true
        DEBUGINFOD_CACHE_PATH="$WORK/peer-cache" debuginfod-find debuginfo "$id" >/dev/null 2>&1 || true
    done < "$WORK/objects.csv"
}

# Same output three ways (the local run finds debug files by build ID under --debug-dir: give it the layout).
mkdir -p "$LOCAL/.build-id"
for f in "$LOCAL"/*.debug; do
    [[ -e "$f" ]] || continue
    id="$(readelf -n "$f" 2>/dev/null | sed -n 's/.*Build ID: *//p')"
    mkdir -p "$LOCAL/.build-id/${id:0:2}"
    ln -sf "$f" "$LOCAL/.build-id/${id:0:2}/${id:2}.debug"
done
cold "${TOP[@]}" > "$WORK/cold.txt" 2> "$WORK/cold.err"
warm "${TOP[@]}" > "$WORK/warm.txt" 2> "$WORK/warm.err"
local_files "${TOP[@]}" > "$WORK/local.txt" 2> "$WORK/local.err"
cmp "$WORK/cold.txt" "$WORK/warm.txt"
cmp "$WORK/cold.txt" "$WORK/local.txt"
grep -q 'ten[0-9]_raw c/tenlib.c' "$WORK/cold.txt" || { echo "library frames not symbolized" >&2; exit 1; }
cold "${INFO[@]}" > "$WORK/info-cold.csv" 2> "$WORK/info-cold.err"
n=$(grep -c "libten[0-9].so,.*,debuginfod http://127.0.0.1:$PORT,.*/debuginfo,debuginfod http://127.0.0.1:$PORT\$" "$WORK/info-cold.csv" || true)
[[ "$n" -ge 10 ]] || { echo "info --locate: the ten libraries and their debug files not all from the server" >&2; exit 1; }
echo "top outputs identical ($(wc -l < "$WORK/cold.txt") lines); after a cold info --locate the cache holds $(find "$CACHE" -type f -size +0 | grep -c -E '/(executable|debuginfo)$') files, $(du -sh "$CACHE" | cut -f1)"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
declare -a T_ICOLD T_IWARM T_ILOCAL T_COLD T_WARM T_LOCAL T_PEER
for i in $(seq 1 "$RUNS"); do
    t0=$(now); cold "${INFO[@]}" >/dev/null 2>&1; t1=$(now); T_ICOLD+=("$(secs "$t0" "$t1")")
    t0=$(now); warm "${INFO[@]}" >/dev/null 2>&1; t1=$(now); T_IWARM+=("$(secs "$t0" "$t1")")
    t0=$(now); local_files "${INFO[@]}" >/dev/null 2>&1; t1=$(now); T_ILOCAL+=("$(secs "$t0" "$t1")")
    t0=$(now); cold "${TOP[@]}" >/dev/null 2>&1; t1=$(now); T_COLD+=("$(secs "$t0" "$t1")")
    t0=$(now); warm "${TOP[@]}" >/dev/null 2>&1; t1=$(now); T_WARM+=("$(secs "$t0" "$t1")")
    t0=$(now); local_files "${TOP[@]}" >/dev/null 2>&1; t1=$(now); T_LOCAL+=("$(secs "$t0" "$t1")")
    t0=$(now); peer; t1=$(now); T_PEER+=("$(secs "$t0" "$t1")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "runs: $RUNS each, alternating; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
row() { printf '%-58s median %s s  [%s]\n' "$1" "$(median "${@:2}")" "${*:2}"; }
row "info --locate, cold (empty cache, all from the server)" "${T_ICOLD[@]}"
row "info --locate, warm (all from the cache)" "${T_IWARM[@]}"
row "info --locate, local files (no debuginfod)" "${T_ILOCAL[@]}"
row "top --lines, cold" "${T_COLD[@]}"
row "top --lines, warm" "${T_WARM[@]}"
row "top --lines, local files (no debuginfod)" "${T_LOCAL[@]}"
row "elfutils debuginfod-find, same build IDs, cold" "${T_PEER[@]}"
