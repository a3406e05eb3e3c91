#!/usr/bin/env bash
# Regenerates testdata/symbolize/: what peers print for the native and Rust fixture profiles, symbolized.
#
# For each case, two kinds of golden, read by tests/it/symbolize_goldens.rs:
#  * <name>[.idx0].peer.top[-lines].txt (C and C++ cases): standalone google/pprof (/work/tools/google-pprof, which symbolizes with
#    llvm-symbolizer and demangles with its Go port of GNU's demangler) on the *unsymbolized* input profile, finding
#    the binaries through PPROF_BINARY_PATH. The names come from the peer, not from us.
#  * <name>[.idx0].written.top[-lines].txt: `go tool pprof -top` (compiled cmd/pprof) on the profile
#    `pprofsym symbolize` writes, without binaries: what go tool pprof reads from our output.
# The test symbolizes the inputs in process and checks that our `top --format text` equals both.
#
# System libraries come from testdata/sysroot (same bytes as this machine's; the libc build ID is checked against
# the profiles), and llvm-symbolizer runs with --debug-file-directory=/nonexistent so a locally installed
# libc6-dbg does not leak into the goldens.
#
# Needs: /work/tools/google-pprof, /work/tools/pprof (GOOGLE_PPROF, GO_PPROF to override), llvm-symbolizer.
set -euo pipefail
cd "$(dirname "$0")/.."
GOOGLE_PPROF=${GOOGLE_PPROF:-/work/tools/google-pprof}
GO_PPROF=${GO_PPROF:-/work/tools/pprof}
OUT=testdata/symbolize
SYSROOT=testdata/sysroot/usr/lib/x86_64-linux-gnu
export TZ=UTC LC_ALL=C
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.stderr "$OUT"/*.sym.pb.gz
cargo build --release --quiet
P=$PWD/target/release/pprofsym
N=testdata/native/bin

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/tools"
cat >"$W/tools/llvm-symbolizer" <<EOF
#!/bin/sh
exec $(command -v llvm-symbolizer) --debug-file-directory=/nonexistent "\$@"
EOF
chmod +x "$W/tools/llvm-symbolizer"

# name | input profile | binaries (their base names are what the profiles' mappings name)
cases=(
  "cdemo|testdata/native/profiles/cdemo.pb.gz|$N/cdemo $N/libnativedemo.so $SYSROOT/libc.so.6"
  "cdemo.nopie|testdata/native/profiles/cdemo.nopie.pb.gz|$N/cdemo.nopie $N/libnativedemo.so $SYSROOT/libc.so.6"
  "cppdemo|testdata/native/profiles/cppdemo.pb.gz|$N/cppdemo $SYSROOT/libc.so.6 $SYSROOT/libstdc++.so.6.0.30"
  "rust-jemalloc|testdata/rust-jemalloc/heap.pb.gz|testdata/rust-jemalloc/bin/jemalloc-demo $SYSROOT/libc.so.6 $SYSROOT/libgcc_s.so.1"
)
: >"$OUT/MANIFEST.tsv"
for c in "${cases[@]}"; do
  IFS='|' read -r name input bins <<<"$c"
  dir="$W/bin-$name"
  mkdir -p "$dir"
  args=()
  for b in $bins; do
    ln -s "$PWD/$b" "$dir/$(basename "$b")"
    args+=(--binary "$b")
  done
  "$P" symbolize "$input" -o "$W/$name.sym.pb.gz" --no-mapping-paths --debug-dir /nonexistent "${args[@]}" 2>/dev/null
  for idx in "" "-sample_index=0"; do
    suffix=${idx:+.idx0}
    for lines in "" "-lines"; do
      kind=top${lines:+-lines}
      # google/pprof spells Rust names its own way; the Rust profile's names are checked against
      # llvm-symbolizer instead (tests/it/symbolize_profile.rs).
      if [ "$name" != rust-jemalloc ]; then
        PATH="$W/tools:$PATH" PPROF_BINARY_PATH="$dir" "$GOOGLE_PPROF" -top $lines $idx "$input" \
          >"$OUT/$name$suffix.peer.$kind.txt" 2>/dev/null
      fi
      PPROF_BINARY_PATH=/nonexistent "$GO_PPROF" -top $lines $idx "$W/$name.sym.pb.gz" \
        >"$OUT/$name$suffix.written.$kind.txt" 2>/dev/null
    done
  done
  printf '%s\t%s\t%s\n' "$name" "$input" "$bins" >>"$OUT/MANIFEST.tsv"
done
echo "regenerated $OUT"
