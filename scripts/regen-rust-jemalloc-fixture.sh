#!/usr/bin/env bash
# Rebuild testdata/rust-jemalloc/: the Rust + jemalloc demo binary, the heap
# profile it writes through jemalloc_pprof, and the goldens.
#
# Needs: cargo/rustc (crates.io reachable or the crates already fetched),
# a C compiler (jemalloc is built from source by tikv-jemalloc-sys), binutils
# (readelf), llvm-symbolizer, python3, and Go's pprof (GO, default
# /opt/gobin/bin/go).
#
# Environment:
#   GO                 go binary that provides `go tool pprof`
#   FIXTURE_TARGET_DIR cargo target dir (default /tmp/pprofsym-rust-jemalloc-target)
#   SKIP_BUILD=1       reuse bin/jemalloc-demo, only rerun it and the goldens
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIX="$ROOT/testdata/rust-jemalloc"
DEMO="$FIX/demo"
GO="${GO:-/opt/gobin/bin/go}"
TARGET_DIR="${FIXTURE_TARGET_DIR:-/tmp/pprofsym-rust-jemalloc-target}"
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
# Where the binary is run from. Its path ends up in the profile as the main
# mapping's filename, so it is fixed (and removed afterwards, so consumers of
# the profile cannot find the binary by that name by accident).
RUN_DIR=/tmp/pprofsym-rust-jemalloc-run

export TZ=UTC LC_ALL=C

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    # Keep /work/..., ~/.cargo and the target dir out of DWARF paths.
    export RUSTFLAGS="--remap-path-prefix=$DEMO=/demo \
--remap-path-prefix=$CARGO_HOME/registry/src=/cargo/registry/src \
--remap-path-prefix=$TARGET_DIR=/target \
-C link-arg=-Wl,--build-id=sha1"
    # jemalloc's C sources are copied into OUT_DIR under the target dir.
    # jemalloc's configure adds -g3 and its variable location lists alone are
    # ~3 MB: keep functions, inline info and line tables (-g2 without
    # var-tracking), drop macros and location lists, so the binary stays
    # < 15 MB. These flags come after configure's own, so they win.
    export CFLAGS="-ffile-prefix-map=$TARGET_DIR=/target \
-ffile-prefix-map=$CARGO_HOME/registry/src=/cargo/registry/src \
-g2 -fno-var-tracking -fno-var-tracking-assignments"
    (cd "$DEMO" && nice cargo build --release --locked --target-dir "$TARGET_DIR")
    mkdir -p "$FIX/bin"
    cp "$TARGET_DIR/release/jemalloc-demo" "$FIX/bin/jemalloc-demo"
fi

BIN="$FIX/bin/jemalloc-demo"
BUILD_ID="$(readelf -n "$BIN" | sed -n 's/.*Build ID: *//p')"
[[ -n "$BUILD_ID" ]] || { echo "no GNU build ID in $BIN" >&2; exit 1; }
SIZE=$(stat -c %s "$BIN")
(( SIZE < 15 * 1024 * 1024 )) || { echo "binary too large: $SIZE" >&2; exit 1; }

# Run it. jemalloc profiling is switched on by the binary's own `malloc_conf`
# symbol (prof:true,prof_active:true,lg_prof_sample:0): every allocation is
# sampled, so the numbers do not depend on the sampler's random state.
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
cp "$BIN" "$RUN_DIR/jemalloc-demo"
(cd "$RUN_DIR" && env -u MALLOC_CONF -u _RJEM_MALLOC_CONF \
    "$RUN_DIR/jemalloc-demo" "$RUN_DIR/heap.pb.gz") 2> "$RUN_DIR/stderr.txt"
cat "$RUN_DIR/stderr.txt"
cp "$RUN_DIR/heap.pb.gz" "$FIX/heap.pb.gz"
rm -rf "$RUN_DIR"

# Goldens.
mkdir -p "$FIX/goldens"
cd "$FIX"
# go tool pprof may write into $HOME/pprof; keep that out of the real home.
GOHOME="$(mktemp -d)"
trap 'rm -rf "$GOHOME"' EXIT
run_pprof() {
    # usage: run_pprof OUT BINARY_SEARCH_PATH pprof-args...
    local out="$1" binpath="$2"; shift 2
    set +e
    HOME="$GOHOME" PPROF_TMPDIR="$GOHOME" PPROF_BINARY_PATH="$binpath" \
        "$GO" tool pprof "$@" > "$out" 2>&1
    local rc=$?
    set -e
    echo "# exit status: $rc" >> "$out"
}
# NB: `go tool pprof` (cmd/pprof) is not upstream pprof: its object tool
# reports an empty build ID for every file, so a binary found through
# PPROF_BINARY_PATH never matches a mapping that has a build ID, and the
# binary named on the command line only replaces Mapping[0].File, which here
# is the first (read-only, code-less) PT_LOAD mapping; the code is in
# mapping 2. Only the mapping's own recorded path works. See README.
# 1. The exact command of the brief: does NOT symbolize.
run_pprof goldens/go-pprof-top.txt "$GOHOME/none" -top bin/jemalloc-demo heap.pb.gz
run_pprof goldens/go-pprof-raw-nobinary.txt "$GOHOME/none" -raw heap.pb.gz
# (go tool pprof's own symbolization of this profile, with the binary at its recorded path, is not kept: it names
# only the outermost function of each address, where we give DWARF's inline chains, which tests check against
# llvm-symbolizer's frames.json.)
# Paths inside the -raw output: make them repository-relative.
sed -i "s#$FIX/##g" goldens/go-pprof-*.txt

python3 "$FIX/make_frames_golden.py" heap.pb.gz bin/jemalloc-demo goldens/frames.json

echo "binary: $BIN ($SIZE bytes, build ID $BUILD_ID)"
echo "profile: $FIX/heap.pb.gz ($(stat -c %s heap.pb.gz) bytes)"
