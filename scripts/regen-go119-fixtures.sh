#!/usr/bin/env bash
# Go 1.19 twins of the Go heap fixtures (testdata/go/): the same heapdemo program built with Debian's Go 1.19
# (the older pclntab layout, magic 0xfffffff0, 20-byte inline records), normal and PIE, run at MemProfileRate 1,
# plus `strip --strip-all` copies. Goldens: `go tool pprof -top` per sample index at functions and lines
# granularity (read by tests/go_top_goldens.rs like every other golden directory) and `-raw`.
#
# Usage: scripts/regen-go119-fixtures.sh   (GO119 defaults to /usr/lib/go-1.19/bin/go; PPROF_GO to Go 1.27)
# The binaries run from copies in RUNDIR (default /app/heapdemo), so the profiles' mapping file names are neutral
# (/app/heapdemo/heapdemo119, /app/heapdemo/heapdemo119-pie).
set -euo pipefail
GO119=${GO119:-/usr/lib/go-1.19/bin/go}
PPROF_GO=${PPROF_GO:-/opt/gobin/bin/go}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
D="$ROOT/testdata/go"
RUNDIR=${RUNDIR:-/app/heapdemo}
export GOTOOLCHAIN=local GOFLAGS= GO111MODULE=on GOPROXY=off CGO_ENABLED=0 GOOS=linux GOARCH=amd64 TZ=UTC LC_ALL=C
export PPROF_BINARY_PATH=/nonexistent
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# Build from a copy whose go.mod asks for 1.19 (the program uses nothing newer).
cp -r "$D/heapdemo" "$W/heapdemo"
sed -i 's/^go .*/go 1.19/' "$W/heapdemo/go.mod"
(cd "$W/heapdemo" &&
  "$GO119" build -trimpath -buildvcs=false -o "$D/bin/heapdemo119" . &&
  "$GO119" build -trimpath -buildvcs=false -buildmode=pie -o "$D/bin/heapdemo119-pie" .)
strip --strip-all -o "$D/bin/heapdemo119-stripped" "$D/bin/heapdemo119"
strip --strip-all -o "$D/bin/heapdemo119-pie-stripped" "$D/bin/heapdemo119-pie"

for entry in "heap119-rate1 heapdemo119" "heap119-pie-rate1 heapdemo119-pie"; do
  read -r stem bin <<<"$entry"
  mkdir -p "$RUNDIR"
  cp "$D/bin/$bin" "$RUNDIR/$bin"
  (cd "$RUNDIR" && "./$bin" -rate 1 -out "$D/$stem.pb.gz" -text "$W/$stem.debug1.txt")
  out="$D/goldens/$stem"
  rm -rf "$out" && mkdir -p "$out"
  : >"$out/MANIFEST.tsv"
  for idx in inuse_space inuse_objects alloc_space alloc_objects; do
    for g in functions lines; do
      name="top.$idx.$g"
      (cd "$D" && "$PPROF_GO" tool pprof -top -sample_index=$idx -$g "bin/$bin" "$stem.pb.gz" >"$out/$name.txt" 2>/dev/null)
      printf '%s\t%s\n' "$name" "-top -sample_index=$idx -$g" >>"$out/MANIFEST.tsv"
    done
  done
  (cd "$D" && "$PPROF_GO" tool pprof -raw "bin/$bin" "$stem.pb.gz" >"$out/raw.txt" 2>/dev/null)
done
echo "regenerated Go 1.19 fixtures in $D"
