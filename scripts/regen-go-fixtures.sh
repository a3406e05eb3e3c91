#!/usr/bin/env bash
# Regenerate the Go heap-profile fixtures in testdata/go/ from scratch:
#   1. build testdata/go/heapdemo twice (normal and -buildmode=pie) into testdata/go/bin/,
#   2. run the binaries to write heap profiles (proto + legacy debug=1 text),
#   3. record `go tool pprof -top` / `-raw` goldens for every profile.
#
# Usage: scripts/regen-go-fixtures.sh            (GO defaults to /opt/gobin/bin/go)
#        GO=/path/to/go scripts/regen-go-fixtures.sh
#        scripts/regen-go-fixtures.sh --goldens-only   (keep binaries and profiles, redo goldens)
#
# The binaries are reproducible for a given Go toolchain (-trimpath, no cgo). The profiles are
# not: heap sampling at the default rate is random and the profiles carry a timestamp, so the
# goldens must always be regenerated together with the profiles they were taken from.
#
# The programs run from copies in a neutral fixed directory (RUNDIR, default /app/heapdemo), so the mapping
# file name in the profiles is e.g. /app/heapdemo/heapdemo, not the path of whatever checkout ran this script.
set -euo pipefail

GO=${GO:-/opt/gobin/bin/go}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
D="$ROOT/testdata/go"
RUNDIR=${RUNDIR:-/app/heapdemo}

export GOTOOLCHAIN=local GOFLAGS= GO111MODULE=on GOPROXY=off CGO_ENABLED=0 GOOS=linux GOARCH=amd64
export TZ=UTC LC_ALL=C
# Make sure pprof never goes looking for binaries or symbols anywhere else.
export PPROF_BINARY_PATH=/nonexistent PPROF_TMPDIR="${TMPDIR:-/tmp}/pprof-regen-$$" PPROF_TOOLS=
mkdir -p "$PPROF_TMPDIR"
trap 'rm -rf "$PPROF_TMPDIR"' EXIT

goldens_only=0
[[ "${1:-}" == "--goldens-only" ]] && goldens_only=1

# name  binary        run flags
PROFILES=(
  "heap-rate1    heapdemo      -rate 1"
  "heap-default  heapdemo      -rate 0"
  "heap-pie-rate1 heapdemo-pie -rate 1"
)

if [[ $goldens_only == 0 ]]; then
  echo "== building with $("$GO" version)" >&2
  mkdir -p "$D/bin"
  (cd "$D/heapdemo" &&
    "$GO" build -trimpath -buildvcs=false -o "$D/bin/heapdemo" . &&
    "$GO" build -trimpath -buildvcs=false -buildmode=pie -o "$D/bin/heapdemo-pie" .)
  # Stripped twins (no DWARF, no symbol table; the GNU build ID note stays, so they still match the profiles):
  # what a production deployment of the same build looks like. Only Go's pclntab is left to symbolize with.
  strip --strip-all -o "$D/bin/heapdemo-stripped" "$D/bin/heapdemo"
  strip --strip-all -o "$D/bin/heapdemo-pie-stripped" "$D/bin/heapdemo-pie"

  mkdir -p "$RUNDIR"
  for entry in "${PROFILES[@]}"; do
    read -r stem bin flags <<<"$entry"
    echo "== running $RUNDIR/$bin $flags -> $stem" >&2
    cp "$D/bin/$bin" "$RUNDIR/$bin"
    # shellcheck disable=SC2086
    (cd "$RUNDIR" && "./$bin" $flags -out "$D/$stem.pb.gz" -text "$D/$stem.debug1.txt")
  done
fi

# Goldens are taken from inside testdata/go with relative paths, so no checkout path leaks into them
# (the profiles themselves name the neutral path the binary ran from, $RUNDIR/<binary>).
cd "$D"
pprof() { "$GO" tool pprof "$@"; }

# run_golden <outdir> <name> <binary> <profile> <flags...>
run_golden() {
  local out=$1 name=$2 bin=$3 prof=$4
  shift 4
  printf '%s\t%s\n' "$name" "$*" >>"$out/MANIFEST.tsv"
  # pprof exits non-zero for some filters (e.g. a focus matching nothing); keep whatever it printed.
  pprof "$@" "$bin" "$prof" >"$out/$name.txt" 2>"$out/$name.stderr" || true
  [[ -s "$out/$name.stderr" ]] || rm -f "$out/$name.stderr"
}

for entry in "${PROFILES[@]}"; do
  read -r stem bin _ <<<"$entry"
  out="$D/goldens/$stem"
  echo "== goldens for $stem" >&2
  rm -rf "$out"
  mkdir -p "$out"
  : >"$out/MANIFEST.tsv"
  B="bin/$bin"
  P="$stem.pb.gz"

  pprof -raw "$B" "$P" >"$out/raw.txt"

  for si in inuse_space inuse_objects alloc_space alloc_objects; do
    for g in functions filefunctions files lines addresses; do
      run_golden "$out" "top.$si.$g" "$B" "$P" -top "-sample_index=$si" "-$g"
    done
  done

  [[ $stem == heap-rate1 ]] || continue

  # Option combinations (default sample index = inuse_space unless given).
  run_golden "$out" combo.cum                      "$B" "$P" -top -cum
  run_golden "$out" combo.nodecount_3              "$B" "$P" -top -nodecount=3
  run_golden "$out" combo.nodefraction_0           "$B" "$P" -top -nodefraction=0
  run_golden "$out" combo.nodefraction_0.nodecount_15 "$B" "$P" -top -nodefraction=0 -nodecount=15
  run_golden "$out" combo.sample_index_1           "$B" "$P" -top -sample_index=1
  run_golden "$out" combo.focus_buildIndex         "$B" "$P" -top -focus=buildIndex
  run_golden "$out" combo.ignore_growSlice         "$B" "$P" -top -ignore=growSlice
  run_golden "$out" combo.hide_deep                "$B" "$P" -top '-hide=main\.deep[AB]'
  run_golden "$out" combo.show_main                "$B" "$P" '-top' '-show=^main\.'
  run_golden "$out" combo.focus_run.ignore_deep    "$B" "$P" -top -focus=main.run -ignore=deep
  run_golden "$out" combo.focus_nomatch            "$B" "$P" -top -focus=NoSuchFunctionAnywhere
  run_golden "$out" combo.cum.nodecount_5.lines    "$B" "$P" -top -cum -nodecount=5 -lines
  run_golden "$out" combo.hide_runtime.show_main   "$B" "$P" -top -hide=runtime -show=main
  # Inline frames: the allocation happens in an inlined helper (printed with " (inline)").
  run_golden "$out" combo.inline.focus_makeBuf     "$B" "$P" -top -sample_index=alloc_space -focus=makeBuf
  run_golden "$out" combo.inline.focus_makeBuf.lines "$B" "$P" -top -sample_index=alloc_space -focus=makeBuf -lines
  run_golden "$out" combo.inline.focus_makeBuf.addresses "$B" "$P" -top -sample_index=alloc_space -focus=makeBuf -addresses
  run_golden "$out" combo.inline.hide_newRecord    "$B" "$P" -top -hide=newRecord
  run_golden "$out" combo.inline.show_strconv.filefunctions "$B" "$P" -top -filefunctions -show=strconv
  # Filename regexps: -focus/-ignore/-show also match a frame's file name.
  run_golden "$out" combo.focus_file_itoa          "$B" "$P" -top '-focus=itoa\.go$'
  run_golden "$out" combo.ignore_file_heapdemo.files "$B" "$P" -top -files -ignore=heapdemo/main.go
  run_golden "$out" combo.show_file_runtime.files  "$B" "$P" -top -files -show=^runtime/
  run_golden "$out" combo.show_from_run            "$B" "$P" -top -show_from=main.run
  run_golden "$out" combo.unit_kB                  "$B" "$P" -top -unit=kB
  run_golden "$out" combo.alloc_objects.cum.nodecount_10 "$B" "$P" -top -sample_index=alloc_objects -cum -nodecount=10
done
# The legacy debug=1 texts, parsed by go tool pprof itself. Beware: pprof symbolizes these with
# Go's own objTool (pclntab, one frame per address: outermost function name + innermost file:line,
# no inline frames), so they are a record of the peer's behaviour, not of the proto goldens above.
for entry in "${PROFILES[@]}"; do
  read -r stem bin _ <<<"$entry"
  out="$D/goldens/$stem.debug1"
  echo "== goldens for $stem.debug1.txt" >&2
  rm -rf "$out"
  mkdir -p "$out"
  : >"$out/MANIFEST.tsv"
  B="bin/$bin"
  P="$stem.debug1.txt"
  pprof -raw "$B" "$P" >"$out/raw.txt"
  for si in inuse_space inuse_objects alloc_space alloc_objects; do
    run_golden "$out" "top.$si.functions" "$B" "$P" -top "-sample_index=$si" -functions
  done
  run_golden "$out" top.inuse_space.lines "$B" "$P" -top -sample_index=inuse_space -lines
done
echo "== done" >&2
