#!/usr/bin/env bash
# Regenerates testdata/symbolize/: profiles symbolized by pprofsym, and what `go tool pprof -top` prints for them.
#
# tests/symbolize_goldens.rs symbolizes the same inputs in process and checks that (1) the result equals the
# committed *.sym.pb.gz message for message and (2) `pprofsym top --format text` on it equals go tool pprof's
# output here: a profile written by pprofsym opens in go tool pprof without the binary and reads the same.
# Needs Go (GO, default /opt/gobin/bin/go).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-/opt/gobin/bin/go}
OUT=testdata/symbolize
mkdir -p "$OUT"
cargo build --release --quiet
P=target/release/pprofsym
N=testdata/native/bin

# name | input profile | binaries...
cases=(
  "cdemo|testdata/native/profiles/cdemo.pb.gz|$N/cdemo $N/libnativedemo.so"
  "cdemo.nopie|testdata/native/profiles/cdemo.nopie.pb.gz|$N/cdemo.nopie $N/libnativedemo.so"
  "cppdemo|testdata/native/profiles/cppdemo.pb.gz|$N/cppdemo"
  "rust-jemalloc|testdata/rust-jemalloc/heap.pb.gz|testdata/rust-jemalloc/bin/jemalloc-demo"
)
: > "$OUT/MANIFEST.tsv"
for c in "${cases[@]}"; do
  IFS='|' read -r name input bins <<<"$c"
  args=()
  for b in $bins; do args+=(--binary "$b"); done
  "$P" symbolize "$input" -o "$OUT/$name.sym.pb.gz" --no-mapping-paths --debug-dir /nonexistent "${args[@]}" 2>"$OUT/$name.symbolize.stderr"
  for idx in "" "-sample_index=0"; do
    suffix=${idx:+.idx0}
    TZ=UTC "$GO" tool pprof -top $idx "$OUT/$name.sym.pb.gz" >"$OUT/$name$suffix.top.txt" 2>"$OUT/$name$suffix.top.stderr" || true
    TZ=UTC "$GO" tool pprof -top -lines $idx "$OUT/$name.sym.pb.gz" >"$OUT/$name$suffix.top-lines.txt" 2>/dev/null || true
  done
  printf '%s\t%s\t%s\n' "$name" "$input" "$bins" >>"$OUT/MANIFEST.tsv"
done
echo "regenerated $OUT"
