#!/usr/bin/env bash
# Regenerate testdata/compare/: real heap snapshots for the compare features (base/diff_base, several
# profiles at once, merge, traces, label filters) and the peers' answers on them.
#
#   1. Go: build testdata/compare/growdemo into testdata/compare/bin/growdemo, run it from /app/growdemo
#      (so the profiles' mapping names the neutral path /app/growdemo/growdemo) and keep
#        heap-rate1.t{0,1,2}.pb.gz + .debug1.txt   three snapshots of ONE process, MemProfileRate=1
#        heap-default.t{0,1,2}.pb.gz + .debug1.txt the same at the default rate (512 KiB), another process
#        heap-empty.pb.gz                          GODEBUG=memprofilerate=0: a real heap profile, no samples
#        cpu.pb.gz, goroutine.pb.gz                CPU and goroutine profiles of a fourth run
#      and other-heapdemo-rate1.pb.gz: testdata/go/bin/heapdemo -rate 1 run from /app/compare/heapdemo
#      (another program's heap profile).
#   2. C: build testdata/compare/native/src/cgrow.c into native/bin/cgrow, run it from /app/compare/bin
#      under gperftools' heap profiler (LD_PRELOAD libtcmalloc.so.4), keep its two HeapProfilerDump files
#      native/cgrow.0001.heap and native/cgrow.0002.heap, and copy every shared library its maps name into
#      testdata/sysroot/<absolute path> (plain copies).
#   3. Goldens: `go tool pprof` (compiled: /work/tools/pprof) in testdata/compare/goldens/ and the
#      standalone google/pprof (/work/tools/google-pprof, llvm-symbolizer) in native/goldens/.
#      Each MANIFEST.tsv line is  <name> TAB <pprof arguments, space separated> TAB <exit status>;
#      <name>.txt is stdout, <name>.stderr is stderr (only when not empty). pprof runs inside
#      testdata/compare (native goldens: testdata/compare/native) with relative paths.
#
# Needs: Go 1.27 (GO=..., default /opt/gobin/bin/go), gcc 12, binutils (readelf), google-perftools
# (libtcmalloc.so.4), llvm-symbolizer, the compiled peers PPROF=/work/tools/pprof and
# GPPROF=/work/tools/google-pprof, write access to /app (the programs run from /app/growdemo and
# /app/compare/bin; the native goldens need /app/compare/bin/cgrow and the system libraries at their
# recorded paths, so they are only exact on the machine/image that made the dumps: the script checks the
# libraries against testdata/sysroot and stops if they differ), root for `unshare --mount` (hides
# /usr/lib/debug from the native goldens), python3 (stdlib), chromium (optional: flame graph screenshots).
#
# Usage: scripts/regen-compare-fixtures.sh                 (everything)
#        scripts/regen-compare-fixtures.sh --goldens-only  (keep binaries and profiles, redo goldens)
#
# The binaries are reproducible (Go: -trimpath -buildvcs=false, CGO_ENABLED=0; C: -ffile-prefix-map,
# same gcc). The profiles are not (timestamps, default-rate sampling, ASLR in the C dumps), so
# profiles and goldens are always regenerated and committed together.
set -euo pipefail

GO=${GO:-/opt/gobin/bin/go}
PPROF=${PPROF:-/work/tools/pprof}
GPPROF=${GPPROF:-/work/tools/google-pprof}
TCMALLOC=${TCMALLOC:-/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
D="$ROOT/testdata/compare"
N="$D/native"
SYSROOT="$ROOT/testdata/sysroot"
GORUN=/app/growdemo
CRUN=/app/compare

goldens_only=0
[[ "${1:-}" == "--goldens-only" ]] && goldens_only=1

export TZ=UTC LC_ALL=C
# pprof must never look for binaries anywhere but the recorded paths / the binary on the command line.
export PPROF_BINARY_PATH=/nonexistent PPROF_TMPDIR="${TMPDIR:-/tmp}/pprof-regen-$$" PPROF_TOOLS=
mkdir -p "$PPROF_TMPDIR"
trap 'rm -rf "$PPROF_TMPDIR"' EXIT

if [[ $goldens_only == 0 ]]; then
  # ---- 1. Go program and its profiles ------------------------------------------------------------
  echo "== building growdemo with $("$GO" version)" >&2
  mkdir -p "$D/bin"
  (cd "$D/growdemo" &&
    GOTOOLCHAIN=local GOFLAGS= GO111MODULE=on GOPROXY=off CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
      "$GO" build -trimpath -buildvcs=false -o "$D/bin/growdemo" .)
  rm -rf "$GORUN"
  mkdir -p "$GORUN/out"
  cp "$D/bin/growdemo" "$GORUN/growdemo"
  (
    cd "$GORUN"
    ./growdemo -rate 1 -prefix out/heap-rate1 -text
    ./growdemo -prefix out/heap-default -text
    GODEBUG=memprofilerate=0 ./growdemo -prefix out/empty
    ./growdemo -prefix out/aux -cpu out/cpu.pb.gz -goroutine out/goroutine.pb.gz
  )
  for r in rate1 default; do
    for t in t0 t1 t2; do
      cp "$GORUN/out/heap-$r.$t.pb.gz" "$GORUN/out/heap-$r.$t.debug1.txt" "$D/"
    done
  done
  cp "$GORUN/out/empty.t0.pb.gz" "$D/heap-empty.pb.gz"
  cp "$GORUN/out/cpu.pb.gz" "$GORUN/out/goroutine.pb.gz" "$D/"
  # Another program's heap profile: testdata/go's committed heapdemo binary, run from /app/compare/heapdemo
  # (its own neutral path; profile kept here so these goldens do not change when testdata/go is redone).
  rm -rf "$CRUN/heapdemo"
  mkdir -p "$CRUN/heapdemo"
  cp "$ROOT/testdata/go/bin/heapdemo" "$CRUN/heapdemo/heapdemo"
  (cd "$CRUN/heapdemo" && ./heapdemo -rate 1 -out "$D/other-heapdemo-rate1.pb.gz")

  # ---- 2. C program under gperftools -------------------------------------------------------------
  echo "== building cgrow with $(gcc --version | head -1)" >&2
  mkdir -p "$N/bin"
  (cd "$N" && SOURCE_DATE_EPOCH=0 gcc -O2 -g -ffile-prefix-map="$N"=. -Wl,--build-id=sha1 -Wall \
    -o bin/cgrow src/cgrow.c)
  rm -rf "$CRUN/bin" "$CRUN/out"
  mkdir -p "$CRUN/bin" "$CRUN/out"
  cp "$N/bin/cgrow" "$CRUN/bin/cgrow"
  # Interval dumps off: the only dumps are the program's two HeapProfilerDump calls (0001, 0002) and
  # the one gperftools writes at exit (0003, dropped).
  (cd "$CRUN/bin" && LD_PRELOAD=$TCMALLOC HEAPPROFILE="$CRUN/out/cgrow" \
    HEAP_PROFILE_ALLOCATION_INTERVAL=1099511627776 HEAP_PROFILE_INUSE_INTERVAL=1099511627776 \
    ./cgrow 2>/dev/null)
  cp "$CRUN/out/cgrow.0001.heap" "$CRUN/out/cgrow.0002.heap" "$N/"
  # Every file its maps name (executable mappings), copied byte for byte under testdata/sysroot.
  sed -n '/^MAPPED_LIBRARIES:/,$p' "$N/cgrow.0002.heap" | awk '$2 ~ /x/ && $6 ~ /^\// {print $6}' |
    sort -u | while read -r lib; do
      [[ $lib == "$CRUN/"* ]] && continue
      mkdir -p "$SYSROOT$(dirname "$lib")"
      cp "$lib" "$SYSROOT$lib"
    done
fi

# The native goldens symbolize at the recorded paths: put the committed binary there and make sure the
# system libraries are the ones in testdata/sysroot.
mkdir -p "$CRUN/bin"
cp "$N/bin/cgrow" "$CRUN/bin/cgrow"
sed -n '/^MAPPED_LIBRARIES:/,$p' "$N/cgrow.0002.heap" | awk '$2 ~ /x/ && $6 ~ /^\// {print $6}' |
  sort -u | while read -r lib; do
    [[ $lib == "$CRUN/"* ]] && continue
    if ! cmp -s "$lib" "$SYSROOT$lib"; then
      echo "error: $lib differs from testdata/sysroot$lib: native goldens would not match" >&2
      exit 1
    fi
  done

# ---- 3. Goldens ----------------------------------------------------------------------------------
# g <name> <pprof args...>: run the peer ($TOOL) in the current directory, record stdout, stderr and
# the exit status; one MANIFEST line per golden.
g() {
  local name=$1 rc=0
  shift
  "$TOOL" "$@" >"$OUT/$name.txt" 2>"$OUT/$name.stderr" || rc=$?
  [[ -s "$OUT/$name.stderr" ]] || rm -f "$OUT/$name.stderr"
  printf '%s\t%s\t%s\n' "$name" "$*" "$rc" >>"$OUT/MANIFEST.tsv"
}

echo "== go tool pprof goldens" >&2
cd "$D"
TOOL=$PPROF
OUT="$D/goldens"
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$OUT/MANIFEST.tsv"
B=bin/growdemo
R0=heap-rate1.t0.pb.gz R1=heap-rate1.t1.pb.gz R2=heap-rate1.t2.pb.gz
D0=heap-default.t0.pb.gz D1=heap-default.t1.pb.gz D2=heap-default.t2.pb.gz
SIS=(inuse_space inuse_objects alloc_space alloc_objects)

# Single snapshots, for reference (what each side of a comparison looks like alone).
for t in t0 t1 t2; do
  g "single.rate1.$t.top" -top "$B" "heap-rate1.$t.pb.gz"
  g "single.default.$t.top" -top "$B" "heap-default.$t.pb.gz"
done
g single.rate1.t2.tags -tags "$B" "$R2"

# -base and -diff_base: rate-1 pairs t0->t1 (pool released: negative rows) and t1->t2 (growth),
# all sample indexes, functions and lines.
for pair in "t0 t1" "t1 t2"; do
  read -r old new <<<"$pair"
  for si in "${SIS[@]}"; do
    for gran in functions lines; do
      g "base.rate1.$old-$new.$si.$gran" -top "-sample_index=$si" "-$gran" "-base=heap-rate1.$old.pb.gz" "$B" "heap-rate1.$new.pb.gz"
      g "diffbase.rate1.$old-$new.$si.$gran" -top "-sample_index=$si" "-$gran" "-diff_base=heap-rate1.$old.pb.gz" "$B" "heap-rate1.$new.pb.gz"
    done
  done
done
# Default-rate pair t0->t2 (sampled values, scaled by the runtime).
for si in "${SIS[@]}"; do
  g "base.default.t0-t2.$si.functions" -top "-sample_index=$si" "-base=$D0" "$B" "$D2"
  g "diffbase.default.t0-t2.$si.functions" -top "-sample_index=$si" "-diff_base=$D0" "$B" "$D2"
done
g base.default.t0-t2.inuse_space.lines -top -lines "-base=$D0" "$B" "$D2"
g diffbase.default.t0-t2.inuse_space.lines -top -lines "-diff_base=$D0" "$B" "$D2"
# -cum / -nodecount variants.
for m in base diff_base; do
  n=${m/_/}
  g "$n.rate1.t0-t2.cum" -top -cum "-$m=$R0" "$B" "$R2"
  g "$n.rate1.t0-t2.nodecount_5" -top -nodecount=5 "-$m=$R0" "$B" "$R2"
  g "$n.rate1.t0-t2.cum.nodecount_5" -top -cum -nodecount=5 "-$m=$R0" "$B" "$R2"
  g "$n.rate1.t0-t2.nodefraction_0" -top -nodefraction=0 "-$m=$R0" "$B" "$R2"
  g "$n.rate1.t0-t2.lines.cum.nodecount_8" -top -lines -cum -nodecount=8 "-$m=$R0" "$B" "$R2"
  # The flag repeated. pprof's driver would merge several bases, but go tool pprof parses flags with
  # Go's flag package (GoFlags.StringList is one flag.String): the LAST -base wins. Both orders recorded.
  g "$n.rate1.repeated_t0_t1-t2" -top "-$m=$R0" "-$m=$R1" "$B" "$R2"
  g "$n.rate1.repeated_t1_t0-t2" -top "-$m=$R1" "-$m=$R0" "$B" "$R2"
  g "$n.rate1.repeated_t0_t1-t2.alloc_space" -top -sample_index=alloc_space "-$m=$R0" "-$m=$R1" "$B" "$R2"
  # Reversed (new as base: everything shrinks), identical (nothing left), with a focus filter.
  g "$n.rate1.t2-t0" -top "-$m=$R2" "$B" "$R0"
  g "$n.rate1.t1-t1" -top "-$m=$R1" "$B" "$R1"
  g "$n.rate1.t0-t2.focus_fillCache" -top -focus=fillCache "-$m=$R0" "$B" "$R2"
  g "$n.rate1.t0-t1.drop_negative" -top -drop_negative "-$m=$R0" "$B" "$R1"
  g "$n.rate1.t0-t2.normalize" -top -normalize "-$m=$R0" "$B" "$R2"
done

# Several profiles on one command line: merged.
for si in "${SIS[@]}"; do
  g "merge.rate1.t012.top.$si" -top "-sample_index=$si" "$B" "$R0" "$R1" "$R2"
done
g merge.rate1.t012.top.inuse_space.lines -top -lines "$B" "$R0" "$R1" "$R2"
g merge.default.t012.top -top "$B" "$D0" "$D1" "$D2"
g merge.rate1.t0t0.top -top "$B" "$R0" "$R0"
g merge.rate1.t210.top -top "$B" "$R2" "$R1" "$R0"
# Duration is summed by a merge (heap profiles carry none; the CPU profile does): the same CPU profile
# twice, and minus itself.
g merge.cpu.twice.top -top "$B" cpu.pb.gz cpu.pb.gz
g base.cpu.self.top -top -base=cpu.pb.gz "$B" cpu.pb.gz
g diffbase.cpu.self.top -top -diff_base=cpu.pb.gz "$B" cpu.pb.gz
g merge.rate1.t012.traces_tagfocus_1mb -traces -tagfocus=bytes=1mb: "$B" "$R0" "$R1" "$R2"
# -proto of several (no binary argument, so the mapping keeps its recorded file name) and its -raw.
g merge.rate1.t012.proto -proto -output=goldens/merge.rate1.t012.pb.gz "$R0" "$R1" "$R2"
g merge.rate1.t012.raw -raw goldens/merge.rate1.t012.pb.gz
g merge.default.t012.proto -proto -output=goldens/merge.default.t012.pb.gz "$D0" "$D1" "$D2"
g merge.default.t012.raw -raw goldens/merge.default.t012.pb.gz
g base.rate1.t0-t1.proto -proto -base=$R0 -output=goldens/base.rate1.t0-t1.pb.gz "$R1"
g base.rate1.t0-t1.raw -raw goldens/base.rate1.t0-t1.pb.gz
g diffbase.rate1.t0-t1.proto -proto -diff_base=$R0 -output=goldens/diffbase.rate1.t0-t1.pb.gz "$R1"
g diffbase.rate1.t0-t1.raw -raw goldens/diffbase.rate1.t0-t1.pb.gz

# -traces: single profiles (rate 1 t0 in full; default rate t2), with -base / -diff_base, other indexes.
g traces.rate1.t0 -traces "$B" "$R0"
g traces.default.t2 -traces "$B" "$D2"
g traces.default.t2.alloc_objects -traces -sample_index=alloc_objects "$B" "$D2"
g traces.default.t2.lines -traces -lines "$B" "$D2"
g traces.default.t0-t2.base -traces "-base=$D0" "$B" "$D2"
g traces.default.t0-t2.diffbase -traces "-diff_base=$D0" "$B" "$D2"
g traces.rate1.t0-t1.base.tagfocus_1mb -traces -tagfocus=bytes=1mb: "-base=$R0" "$B" "$R1"

# Label filters: numeric ranges with units, on -top and -traces.
declare -A TF=(
  [ge_1mb]='bytes=1mb:'
  [le_64kb]='bytes=:64kb'
  [64kb_1mb]='bytes=64kb:1mb'
  [eq_1mb]='bytes=1mb'
  [eq_1mb_nokey]='1mb'
  [ge_1mb_nokey]='1mb:'
  [eq_1024kb]='bytes=1024kb'
  [ge_1MB_upper]='bytes=1MB:'
  [ge_1megabyte]='bytes=1megabyte:'
  [64KB_1MB_upper]='bytes=64KB:1MB'
  [eq_1048576_nounit]='bytes=1048576'
  [ge_1mib]='bytes=1mib:'
  [ge_1.5mb]='bytes=1.5mb:'
  [ge_5gb_nomatch]='bytes=5gb:'
  [2mb_1mb_inverted]='bytes=2mb:1mb'
  [1mb_64kb_mixedunits]='bytes=1mb:65536b'
  [kb_to_mb]='bytes=512kb:2mb'
  [otherkey]='size=1mb:'
  [regexp_1MB]='bytes=1MB$'
  [ms_unit]='bytes=1ms:'
)
for k in $(printf '%s\n' "${!TF[@]}" | sort); do
  g "tagfocus.$k.top" -top "-tagfocus=${TF[$k]}" "$B" "$R2"
done
g tagignore.ge_1mb.top -top -tagignore=bytes=1mb: "$B" "$R2"
g tagignore.le_64kb.top -top -tagignore=bytes=:64kb "$B" "$R2"
g tagfocus.64kb_4mb.tagignore.eq_1mb.top -top -tagfocus=bytes=64kb:4mb -tagignore=bytes=1mb "$B" "$R2"
g tagfocus.ge_1mb.lines.top -top -lines -tagfocus=bytes=1mb: "$B" "$R2"
g tagfocus.ge_1mb.alloc_space.top -top -sample_index=alloc_space -tagfocus=bytes=1mb: "$B" "$R2"
g tagfocus.ge_1mb.traces -traces -tagfocus=bytes=1mb: "$B" "$R2"
g tagfocus.64kb_1mb.traces -traces -tagfocus=bytes=64kb:1mb "$B" "$R0"
g tagignore.le_64kb.traces -traces -tagignore=bytes=:64kb "$B" "$R2"
g tagfocus.ge_5gb_nomatch.traces -traces -tagfocus=bytes=5gb: "$B" "$R2"
g tagfocus.ge_1mb.base.top -top -tagfocus=bytes=1mb: "-base=$R0" "$B" "$R2"
g tagfocus.ge_1mb.diffbase.top -top -tagfocus=bytes=1mb: "-diff_base=$R0" "$B" "$R2"
g tagignore.pprofbase.diffbase.top -top -tagignore=pprof::base=true "-diff_base=$R0" "$B" "$R2"
g tagfocus.pprofbase.diffbase.top -top -tagfocus=pprof::base=true "-diff_base=$R0" "$B" "$R2"
# Label pseudo-frames and label listings.
g tagroot.bytes.top -top -tagroot=bytes "$B" "$D2"
g tagleaf.bytes.top -top -tagleaf=bytes "$B" "$D2"
g tagroot.bytes.traces -traces -tagroot=bytes "$B" "$D2"
g tags.default.t0-t2.base -tags "-base=$D0" "$B" "$D2"
g tags.default.t0-t2.diffbase -tags "-diff_base=$D0" "$B" "$D2"
g tagshow.bytes.tags -tags -tagshow=bytes "$B" "$D2"

# Bad combinations: record what pprof does (stdout, stderr, exit status).
g bad.base_cpu -top "-base=cpu.pb.gz" "$B" "$R2"
g bad.diffbase_cpu -top "-diff_base=cpu.pb.gz" "$B" "$R2"
g bad.merge_heap_cpu -top "$B" "$R2" cpu.pb.gz
g bad.merge_cpu_heap -top "$B" cpu.pb.gz "$R2"
g bad.base_goroutine -top "-base=goroutine.pb.gz" "$B" "$R2"
g bad.merge_heap_goroutine -top "$B" "$R2" goroutine.pb.gz
g bad.proto_heap_cpu -proto -output=goldens/bad.proto_heap_cpu.pb.gz "$R2" cpu.pb.gz
g bad.period.base_rate1_default -top "-base=$R0" "$B" "$D2"
g bad.period.diffbase_default_rate1 -top "-diff_base=$D0" "$B" "$R2"
g bad.period.merge_rate1_default -top "$B" "$R0" "$D2"
g bad.period.merge_default_rate1 -top "$B" "$D0" "$R2"
g bad.period.proto_rate1_default -proto -output=goldens/bad.period.proto_rate1_default.pb.gz "$R0" "$D2"
g bad.period.raw_rate1_default -raw goldens/bad.period.proto_rate1_default.pb.gz
g bad.empty.top -top "$B" heap-empty.pb.gz
g bad.empty.base -top -base=heap-empty.pb.gz "$B" "$R2"
g bad.empty.diffbase -top -diff_base=heap-empty.pb.gz "$B" "$R2"
g bad.empty.diffbase.traces -traces -diff_base=heap-empty.pb.gz "$B" "$D2"
g bad.empty.as_new.base -top "-base=$R2" "$B" heap-empty.pb.gz
g bad.empty.as_new.diffbase -top "-diff_base=$R2" "$B" heap-empty.pb.gz
g bad.empty.merge -top "$B" heap-empty.pb.gz "$R2"
g bad.otherprog.base -top -base=other-heapdemo-rate1.pb.gz "$B" "$R2"
g bad.otherprog.diffbase -top -diff_base=other-heapdemo-rate1.pb.gz "$B" "$R2"
g bad.otherprog.base.nobinary -top -base=other-heapdemo-rate1.pb.gz "$R2"
g bad.otherprog.merge -top "$B" "$R2" other-heapdemo-rate1.pb.gz
g bad.otherprog.proto -proto -output=goldens/bad.otherprog.proto.pb.gz "$R2" other-heapdemo-rate1.pb.gz
g bad.otherprog.raw -raw goldens/bad.otherprog.proto.pb.gz
g bad.base_and_diffbase -top "-base=$R0" "-diff_base=$R1" "$B" "$R2"
g bad.normalize_without_base -top -normalize "$B" "$R2"
g bad.base_missing_file -top -base=no-such-file.pb.gz "$B" "$R2"
g bad.base_not_a_profile -top -base=growdemo/go.mod "$B" "$R2"
g bad.base_one_missing_of_two -top "-base=$R0" -base=no-such-file.pb.gz "$B" "$R2"
g bad.source_one_missing_of_two -top "$B" "$R2" no-such-file.pb.gz
g bad.base_legacy_text -top -base=heap-rate1.t0.debug1.txt "$B" "$R1"
g bad.merge_legacy_texts -top "$B" heap-rate1.t0.debug1.txt heap-rate1.t1.debug1.txt
g bad.tagfocus_bad_regexp -top '-tagfocus=bytes=(' "$B" "$R2"

# ---- pprof's web flame graph (no text golden exists): its data and, with chromium, a screenshot --------
# flame/<name>.json + .folded come from tools/pprof_flame_stacks.py; flame/<name>.png is what the page
# looks like (headless chromium, 1400 px wide).
flame() { # <name> <pprof args...>
  local name=$1 port pid
  shift
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$PPROF" -http="127.0.0.1:$port" -no_browser "$@" >"$PPROF_TMPDIR/http.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    grep -q '^Serving web UI' "$PPROF_TMPDIR/http.log" && break
    sleep 0.2
  done
  python3 "$D/tools/pprof_flame_stacks.py" "http://127.0.0.1:$port/ui/flamegraph" "$D/flame/$name"
  printf '%s\t%s\n' "$name" "-http=127.0.0.1:PORT -no_browser $*" >>"$D/flame/MANIFEST.tsv"
  if command -v chromium >/dev/null; then
    timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,420 \
      --screenshot="$D/flame/$name.png" "http://127.0.0.1:$port/ui/flamegraph" >/dev/null 2>&1 || true
  fi
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}
echo "== pprof web flame graph" >&2
rm -rf "$D/flame"
mkdir -p "$D/flame"
: >"$D/flame/MANIFEST.tsv"
flame rate1.t2 "$B" "$R2"
flame rate1.t0-t2.diffbase "-diff_base=$R0" "$B" "$R2"
flame rate1.t0-t2.base "-base=$R0" "$B" "$R2"

# ---- native goldens: standalone google/pprof on the gperftools dumps ---------------------------
echo "== google/pprof goldens (native)" >&2
cd "$N"
# llvm-symbolizer also reads separate debug files from /usr/lib/debug/.build-id (Debian's libc6-dbg puts
# libc's there, 4 MB, not committed). The goldens must depend only on committed files (native/bin/cgrow and
# testdata/sysroot), so google/pprof runs in a private mount namespace with an empty /usr/lib/debug. Two
# extra goldens (*.libc6-dbg) show the difference with the debug file visible.
EMPTY_DIR="$PPROF_TMPDIR/empty"
mkdir -p "$EMPTY_DIR"
gpprof_nodebug() {
  if [[ -d /usr/lib/debug ]]; then
    unshare --mount sh -c 'mount --bind "$0" /usr/lib/debug && exec "$@"' "$EMPTY_DIR" "$GPPROF" "$@"
  else
    "$GPPROF" "$@"
  fi
}
export DEBUGINFOD_URLS=
TOOL=gpprof_nodebug
OUT="$N/goldens"
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$OUT/MANIFEST.tsv"
C1=cgrow.0001.heap C2=cgrow.0002.heap
for sym in local none; do
  s=()
  [[ $sym == none ]] && s=(-symbolize=none)
  for c in $C1 $C2; do
    g "single.${c%.heap}.$sym.top" -top "${s[@]}" "$c"
    g "single.${c%.heap}.$sym.traces" -traces "${s[@]}" "$c"
    g "single.${c%.heap}.$sym.raw" -raw "${s[@]}" "$c"
  done
  for si in "${SIS[@]}"; do
    g "base.$sym.$si" -top "${s[@]}" "-sample_index=$si" "-base=$C1" "$C2"
    g "diffbase.$sym.$si" -top "${s[@]}" "-sample_index=$si" "-diff_base=$C1" "$C2"
  done
  g "base.$sym.inuse_space.lines" -top -lines "${s[@]}" "-base=$C1" "$C2"
  g "diffbase.$sym.inuse_space.lines" -top -lines "${s[@]}" "-diff_base=$C1" "$C2"
  g "base.$sym.traces" -traces "${s[@]}" "-base=$C1" "$C2"
  g "diffbase.$sym.traces" -traces "${s[@]}" "-diff_base=$C1" "$C2"
  g "merge.$sym.top" -top "${s[@]}" "$C1" "$C2"
  g "tagfocus.ge_1mb.$sym.top" -top "${s[@]}" -tagfocus=bytes=1mb: "$C2"
done
if [[ -d /usr/lib/debug ]]; then
  TOOL=$GPPROF
  g base.local.inuse_space.lines.libc6-dbg -top -lines "-base=$C1" "$C2"
  g single.cgrow.0002.local.traces.lines.libc6-dbg -traces -lines "$C2"
fi
echo "== done" >&2
