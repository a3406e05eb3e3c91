#!/usr/bin/env bash
# Regenerates testdata/fidelity/: real programs, profiles and peer goldens for the six fidelity cases of issue 9
# (Go generic names, go tool addr2line spelling, cgo .localalias symbols, C++ demangling, gcc .cold partitions).
#
# Usage: scripts/regen-fidelity-fixtures.sh [generics] [cgo] [cpp] [cold]   (no argument = all four parts)
#
# Needs: Go 1.27 (GO, default /work/tools/go) and Go 1.19 (GO119, default /usr/lib/go-1.19/bin/go, Debian
# golang-1.19-go with golang-1.19-src for cmd/addr2line), the compiled Go 1.27 peers /work/tools/pprof and
# /work/tools/addr2line (PPROF, GOADDR2LINE), the standalone google/pprof /work/tools/google-pprof (GPPROF),
# gcc/g++ 12, GNU binutils 2.40 (addr2line, nm, readelf, strip, c++filt), llvm-symbolizer 14,
# google-perftools (libtcmalloc.so.4), python3 (stdlib only).
#
# Makes (see testdata/fidelity/README.md for every file):
#   generics/  Go program with generic functions built with Go 1.27 and Go 1.19 (+ stripped twins), its heap
#              profiles at MemProfileRate 1, and per-address names from every source (profile, go tool addr2line
#              of the same Go version, llvm-symbolizer, GNU addr2line, ELF symtab, runtime.CallersFrames).
#   cgo/       Go+C program (C recursion calling back into Go, which allocates), its heap profile, and peer
#              answers for the C addresses, plus the symtab lines showing NAME.localalias.
#   cpp/       C++ program (std::thread, std::map, std::string, std::function, lambdas, empty packs, new[]),
#              a gperftools heap profile, its profile.proto conversion, peer answers and a c++filt map of names.
#   cold/      C program with gcc .cold partitions (main.cold, foo.cold) allocating on the cold path.
#   ../sysroot/<abs path>  copies of the shared libraries the cpp/cold profiles' maps name.
#
# Every program runs from a fixed neutral directory under /app (/app/generics, /app/cgo, /app/cpp, /app/cold), so
# the profiles' mapping file names are neutral. Binaries are reproducible for a given toolchain; the profiles are
# not (timestamps, ASLR for the C/C++ ones), so the goldens are always regenerated together with them.
# All peers run with TZ=UTC LC_ALL=C PPROF_BINARY_PATH=/nonexistent.
set -euo pipefail

GO=${GO:-/work/tools/go}
GO119=${GO119:-/usr/lib/go-1.19/bin/go}
PPROF=${PPROF:-/work/tools/pprof}
GOADDR2LINE=${GOADDR2LINE:-/work/tools/addr2line}
GPPROF=${GPPROF:-/work/tools/google-pprof}
TCMALLOC=${TCMALLOC:-/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
F=$ROOT/testdata/fidelity
TOOLS=$F/tools
export TZ=UTC LC_ALL=C PPROF_BINARY_PATH=/nonexistent PPROF_TOOLS=
export GOTOOLCHAIN=local GOFLAGS= GO111MODULE=on GOPROXY=off GOOS=linux GOARCH=amd64 SOURCE_DATE_EPOCH=0
W=$(mktemp -d)
export PPROF_TMPDIR=$W/pprof-tmp
mkdir -p "$PPROF_TMPDIR"
trap 'rm -rf "$W"' EXIT

# manifest <file> <golden name> <command line...>: record how a golden was made. In these command lines
# "go-tool-pprof" is the compiled cmd/pprof of Go 1.27.3 ($PPROF) and "google-pprof" the standalone google/pprof
# ($GPPROF); see testdata/fidelity/README.md.
manifest() {
  local m=$1 name=$2
  shift 2
  printf '%s\t%s\n' "$name" "$*" >>"$m"
}

# ---------------------------------------------------------------------------------------------------------------
# 1. Go generics
# ---------------------------------------------------------------------------------------------------------------
generics() {
  local D=$F/generics RUN=/app/generics
  echo "== generics" >&2
  rm -rf "$D/bin" "$D/goldens" "$D"/heap-*.pb.gz "$D"/frames-*.txt
  mkdir -p "$D/bin" "$D/goldens" "$RUN"
  # Go 1.19's cmd/addr2line, compiled (the Go 1.27 one is $GOADDR2LINE).
  (cd "$W" && CGO_ENABLED=0 "$GO119" build -trimpath -o "$W/addr2line-go119" cmd/addr2line)
  local ver gobin a2l
  for ver in go127 go119; do
    case $ver in
    go127) gobin=$GO a2l=$GOADDR2LINE ;;
    go119) gobin=$GO119 a2l=$W/addr2line-go119 ;;
    esac
    local B=generics-$ver G=$D/goldens/$ver
    mkdir -p "$G"
    : >"$G/MANIFEST.tsv"
    (cd "$D/src" && CGO_ENABLED=0 "$gobin" build -trimpath -buildvcs=false -o "$D/bin/$B" .)
    strip --strip-all -o "$D/bin/$B-stripped" "$D/bin/$B"
    cp "$D/bin/$B" "$RUN/$B"
    (cd "$RUN" && "./$B" -out "$D/heap-$ver.pb.gz" -frames "$D/frames-$ver.txt")

    python3 "$TOOLS/profile_pb.py" addrs "$D/heap-$ver.pb.gz" | grep -v '^0x0$' >"$G/addrs.txt"
    (cd "$D" && "$PPROF" -raw "heap-$ver.pb.gz") >"$G/raw.txt" 2>/dev/null
    manifest "$G/MANIFEST.tsv" raw.txt "cd testdata/fidelity/generics && go-tool-pprof -raw heap-$ver.pb.gz"
    (cd "$D" && "$a2l" "bin/$B") <"$G/addrs.txt" >"$G/go-addr2line.txt"
    manifest "$G/MANIFEST.tsv" go-addr2line.txt "go tool addr2line ($("$gobin" version | cut -d' ' -f3), compiled) bin/$B < addrs.txt"
    "$a2l" "$D/bin/$B-stripped" <"$G/addrs.txt" >"$W/stripped.txt"
    cmp -s "$W/stripped.txt" "$G/go-addr2line.txt" ||
      { echo "go tool addr2line differs on the stripped twin of $B" >&2; exit 1; }
    (cd "$D" && llvm-symbolizer --inlining --output-style=JSON --obj="bin/$B") <"$G/addrs.txt" >"$G/llvm-symbolizer.jsonl"
    manifest "$G/MANIFEST.tsv" llvm-symbolizer.jsonl "llvm-symbolizer --inlining --output-style=JSON --obj=bin/$B < addrs.txt"
    (cd "$D" && addr2line -f -i -a -e "bin/$B") <"$G/addrs.txt" >"$G/gnu-addr2line.txt"
    manifest "$G/MANIFEST.tsv" gnu-addr2line.txt "addr2line -f -i -a -e bin/$B < addrs.txt"
    nm -n -S --defined-only "$D/bin/$B" >"$W/nm.txt"
    python3 "$TOOLS/go_names.py" "$D/heap-$ver.pb.gz" "$G/addrs.txt" "$G/go-addr2line.txt" \
      "$G/llvm-symbolizer.jsonl" "$G/gnu-addr2line.txt" "$W/nm.txt" "$D/frames-$ver.txt" >"$G/names.json"
    manifest "$G/MANIFEST.tsv" names.json "tools/go_names.py (joins the above, nm -n -S --defined-only bin/$B, frames-$ver.txt)"
    # Every generic (bracketed) name each source spells, one per line, for a quick look.
    python3 - "$G/names.json" >"$G/generic-spellings.txt" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
seen = {}
def add(src, name):
    if name and "[" in name:
        seen.setdefault(src, set()).add(name)
for r in rows:
    for f in r["profile"]:
        add("profile", f["function"])
    add("go_addr2line", r["go_addr2line"]["function"])
    for f in r["llvm_symbolizer"]:
        add("llvm_symbolizer(DWARF)", f["function"])
    for f in r["gnu_addr2line"]:
        add("gnu_addr2line(DWARF)", f["function"])
    for s in r["symtab"]:
        add("symtab", s)
    for f in r["runtime_frames_at_pc"]:
        add("runtime Frame.Function", f["function"])
        add("runtime FuncForPC.Name", f["funcforpc"])
for src in sorted(seen):
    for n in sorted(seen[src]):
        print("%s\t%s" % (src, n))
PY
    manifest "$G/MANIFEST.tsv" generic-spellings.txt "names.json: distinct bracketed names per source"
  done
}

# ---------------------------------------------------------------------------------------------------------------
# 2. cgo: C frames (with a NAME.localalias symbol) in a Go heap profile
# ---------------------------------------------------------------------------------------------------------------
cgo() {
  local D=$F/cgo RUN=/app/cgo G=$F/cgo/goldens
  echo "== cgo" >&2
  rm -rf "$D/bin" "$G" "$D/heap.pb.gz"
  mkdir -p "$D/bin" "$G" "$RUN"
  : >"$G/MANIFEST.tsv"
  # cgo's own C flags (-g -O2, plus -fPIC -m64 -pthread added by the go command; -trimpath adds
  # -ffile-prefix-map=<src>=/_/cgodemo). gcc 12 emits c_recurse.localalias for the recursive call under -fPIC.
  (cd "$D/src" && CGO_ENABLED=1 CGO_CFLAGS= CGO_LDFLAGS= "$GO" build -trimpath -buildvcs=false -o "$D/bin/cgodemo" .)
  strip --strip-debug -o "$D/bin/cgodemo.nodebug" "$D/bin/cgodemo"
  nm "$D/bin/cgodemo" >"$W/nm.txt"
  grep -q ' t c_recurse\.localalias$' "$W/nm.txt" ||
    { echo "no c_recurse.localalias in the cgo build" >&2; exit 1; }
  cp "$D/bin/cgodemo" "$RUN/cgodemo"
  (cd "$RUN" && ./cgodemo -out "$D/heap.pb.gz")

  # What the runtime wrote: C frames are locations whose only line names a function with an empty name.
  python3 "$TOOLS/profile_pb.py" locs "$D/heap.pb.gz" >"$G/locs.tsv"
  manifest "$G/MANIFEST.tsv" locs.tsv "tools/profile_pb.py locs heap.pb.gz"
  python3 "$TOOLS/profile_pb.py" mappings "$D/heap.pb.gz" >"$G/mappings.tsv"
  manifest "$G/MANIFEST.tsv" mappings.tsv "tools/profile_pb.py mappings heap.pb.gz"
  awk -F'\t' '$4 ~ /^fn[0-9]+:@:0$/ {print $2}' "$G/locs.tsv" | sort -u >"$G/c-addrs.txt"
  manifest "$G/MANIFEST.tsv" c-addrs.txt "addresses of locations.tsv rows whose one frame has an empty function name"
  (cd "$D" && "$PPROF" -raw -symbolize=none heap.pb.gz) >"$G/raw.symbolize-none.txt" 2>/dev/null
  manifest "$G/MANIFEST.tsv" raw.symbolize-none.txt "cd testdata/fidelity/cgo && go-tool-pprof -raw -symbolize=none heap.pb.gz"
  # End-to-end peers, handed the binary: go tool pprof (cmd/pprof: Go pclntab, plain DWARF lines for C, no inlining)
  # and the standalone google/pprof (llvm-symbolizer).
  (cd "$D" && "$PPROF" -raw bin/cgodemo heap.pb.gz) >"$G/raw.go-pprof.txt" 2>/dev/null
  manifest "$G/MANIFEST.tsv" raw.go-pprof.txt "cd testdata/fidelity/cgo && go-tool-pprof -raw bin/cgodemo heap.pb.gz"
  (cd "$D" && "$GPPROF" -raw bin/cgodemo heap.pb.gz) >"$G/raw.google-pprof.txt" 2>/dev/null
  manifest "$G/MANIFEST.tsv" raw.google-pprof.txt "cd testdata/fidelity/cgo && google-pprof -raw bin/cgodemo heap.pb.gz"

  local b
  for b in cgodemo cgodemo.nodebug; do
    (cd "$D" && llvm-symbolizer --inlining --output-style=JSON --obj="bin/$b" <"$G/c-addrs.txt") >"$G/llvm-symbolizer.$b.jsonl"
    manifest "$G/MANIFEST.tsv" "llvm-symbolizer.$b.jsonl" "llvm-symbolizer --inlining --output-style=JSON --obj=bin/$b < c-addrs.txt"
    (cd "$D" && llvm-symbolizer --inlining --obj="bin/$b" <"$G/c-addrs.txt") >"$G/llvm-symbolizer.$b.txt"
    manifest "$G/MANIFEST.tsv" "llvm-symbolizer.$b.txt" "llvm-symbolizer --inlining --obj=bin/$b < c-addrs.txt"
    (cd "$D" && llvm-symbolizer --inlining --functions=short --obj="bin/$b" <"$G/c-addrs.txt") >"$G/llvm-symbolizer-short.$b.txt"
    manifest "$G/MANIFEST.tsv" "llvm-symbolizer-short.$b.txt" "llvm-symbolizer --inlining --functions=short --obj=bin/$b < c-addrs.txt"
    (cd "$D" && addr2line -f -i -C -a -e "bin/$b" <"$G/c-addrs.txt") >"$G/addr2line.$b.txt"
    manifest "$G/MANIFEST.tsv" "addr2line.$b.txt" "addr2line -f -i -C -a -e bin/$b < c-addrs.txt"
  done
  { echo "\$ nm bin/cgodemo | grep -E ' (c_recurse|c_leaf|goAlloc)|localalias'"
    nm "$D/bin/cgodemo" | grep -E ' (c_recurse|c_leaf|goAlloc)|localalias'
    echo "\$ readelf -sW bin/cgodemo | grep -E ' (c_recurse|goAlloc)'"
    readelf -sW "$D/bin/cgodemo" | grep -E ' (c_recurse|goAlloc)'; } >"$G/symtab.txt"
  manifest "$G/MANIFEST.tsv" symtab.txt "nm / readelf -sW lines of the C symbols (commands inside)"
}

# ---------------------------------------------------------------------------------------------------------------
# Shared by the cpp and cold parts: gperftools heap profile, proto conversion, sysroot copies, peer answers.
# ---------------------------------------------------------------------------------------------------------------
SYSROOT=$ROOT/testdata/sysroot

# heap_profile <run dir> <binary name> <out dir>: runs RUN/<binary> under libtcmalloc's heap profiler (interval dumps
# off; the program calls HeapProfilerDump itself), keeps that dump as OUT/<binary>.heap and its unsymbolized
# profile.proto conversion as OUT/<binary>.pb.gz.
heap_profile() {
  local run=$1 bin=$2 out=$3
  rm -rf "$run/out" && mkdir -p "$run/out"
  (cd "$run" && LD_PRELOAD=$TCMALLOC HEAPPROFILE="$run/out/$bin" HEAP_PROFILE_ALLOCATION_INTERVAL=1099511627776 \
    HEAP_PROFILE_INUSE_INTERVAL=1099511627776 "./$bin" >/dev/null 2>"$run/out/stderr.txt")
  cp "$run/out/$bin.0001.heap" "$out/$bin.heap"
  (cd "$out" && "$GPPROF" -proto -symbolize=none "$bin.heap") >"$out/$bin.pb.gz" 2>/dev/null
}

# copy_sysroot <profile>: plain copies of every absolute file the profile's mappings name (but the main binary)
# into testdata/sysroot/<absolute path>.
copy_sysroot() {
  local f
  for f in $(python3 "$TOOLS/profile_pb.py" mappings "$1" | awk -F'\t' '$1 > 1 && $5 ~ /^\// {print $5}'); do
    mkdir -p "$SYSROOT$(dirname "$f")"
    cmp -s "$f" "$SYSROOT$f" || cp "$f" "$SYSROOT$f"
  done
}

# ---------------------------------------------------------------------------------------------------------------
# 3. C++ names
# ---------------------------------------------------------------------------------------------------------------
cpp() {
  local D=$F/cpp RUN=/app/cpp G=$F/cpp/goldens
  echo "== cpp" >&2
  rm -rf "$D/bin" "$G" "$D"/cppnames.heap "$D"/cppnames.pb.gz
  mkdir -p "$D/bin" "$G" "$RUN"
  : >"$G/MANIFEST.tsv"
  (cd "$D" && g++ -O2 -g -Wall -pthread -ffile-prefix-map="$D"=. -Wl,--build-id=sha1 -o bin/cppnames src/cppnames.cpp)
  strip --strip-debug -o "$D/bin/cppnames.nodebug" "$D/bin/cppnames"
  cp "$D/bin/cppnames" "$RUN/cppnames"
  heap_profile "$RUN" cppnames "$D"
  copy_sysroot "$D/cppnames.pb.gz"
  (cd "$D" && "$GPPROF" -raw -symbolize=none cppnames.pb.gz) >"$G/raw.symbolize-none.txt" 2>/dev/null
  manifest "$G/MANIFEST.tsv" raw.symbolize-none.txt "cd testdata/fidelity/cpp && google-pprof -raw -symbolize=none cppnames.pb.gz"
  # End to end: google/pprof symbolizing with llvm-symbolizer (system libraries from their live paths, which hold
  # the same bytes as the sysroot copies), names demangled by pprof itself.
  (cd "$D" && "$GPPROF" -raw bin/cppnames cppnames.pb.gz) >"$G/raw.google-pprof.txt" 2>/dev/null
  manifest "$G/MANIFEST.tsv" raw.google-pprof.txt "cd testdata/fidelity/cpp && google-pprof -raw bin/cppnames cppnames.pb.gz"

  # Per location: the four peers at vaddr and vaddr+1, for the main binary and the system libraries (sysroot).
  python3 "$TOOLS/native_goldens.py" "$D/cppnames.pb.gz" "$G/profile" --main "$D/bin/cppnames" \
    --sysroot "$SYSROOT" --root "$ROOT"
  manifest "$G/MANIFEST.tsv" "profile/" "tools/native_goldens.py cppnames.pb.gz goldens/profile --main bin/cppnames --sysroot testdata/sysroot (commands: profile/COMMANDS.tsv)"
  # The same main-binary locations from the symbol table only (strip --strip-debug).
  python3 "$TOOLS/native_goldens.py" "$D/cppnames.pb.gz" "$G/profile-nodebug" --main "$D/bin/cppnames.nodebug" \
    --root "$ROOT"
  manifest "$G/MANIFEST.tsv" "profile-nodebug/" "tools/native_goldens.py cppnames.pb.gz goldens/profile-nodebug --main bin/cppnames.nodebug"
  # Every inline-chain boundary of .text: reaches inlined frames no profile location falls into (e.g. the
  # std::unique_ptr<std::thread::_State>::unique_ptr<std::default_delete<...>, void>(std::thread::_State*) range).
  python3 "$TOOLS/inline_boundaries.py" "$D/bin/cppnames" >"$W/boundaries.txt"
  python3 "$TOOLS/native_goldens.py" --addrs "$W/boundaries.txt" "$G/boundaries" --main "$D/bin/cppnames" --root "$ROOT"
  manifest "$G/MANIFEST.tsv" "boundaries/" "tools/inline_boundaries.py bin/cppnames, then the four peers (boundaries/COMMANDS.tsv)"
  python3 "$TOOLS/cxx_names.py" answers "$G/profile" "$G/profile-nodebug" "$G/boundaries" >"$G/cxxfilt.tsv"
  manifest "$G/MANIFEST.tsv" cxxfilt.tsv "tools/cxx_names.py answers goldens/profile goldens/profile-nodebug goldens/boundaries"
  python3 "$TOOLS/cxx_names.py" binary "$D/bin/cppnames" >"$G/cxxfilt-all.tsv"
  manifest "$G/MANIFEST.tsv" cxxfilt-all.tsv "tools/cxx_names.py binary bin/cppnames"
}

# ---------------------------------------------------------------------------------------------------------------
# 4. gcc cold partitions (main.cold, foo.cold)
# ---------------------------------------------------------------------------------------------------------------
cold() {
  local D=$F/cold RUN=/app/cold G=$F/cold/goldens
  echo "== cold" >&2
  rm -rf "$D/bin" "$G" "$D"/colddemo.heap "$D"/colddemo.pb.gz
  mkdir -p "$D/bin" "$G" "$RUN"
  : >"$G/MANIFEST.tsv"
  (cd "$D" && gcc -O2 -g -Wall -ffile-prefix-map="$D"=. -Wl,--build-id=sha1 -o bin/colddemo src/colddemo.c)
  strip --strip-debug -o "$D/bin/colddemo.nodebug" "$D/bin/colddemo"
  readelf -sW "$D/bin/colddemo" >"$W/syms.txt"
  grep -q ' foo\.cold$' "$W/syms.txt" && grep -q ' main\.cold$' "$W/syms.txt" ||
    { echo "gcc made no foo.cold/main.cold" >&2; exit 1; }
  { echo "\$ readelf -sW bin/colddemo | grep -E ' (main|foo|cold_note|hot_alloc)(\\.cold)?\$'"
    grep -E ' (main|foo|cold_note|hot_alloc)(\.cold)?$' "$W/syms.txt"
    echo "\$ readelf -SW bin/colddemo | grep -E ' \\.text '"
    readelf -SW "$D/bin/colddemo" | grep -E ' \.text '; } >"$G/symtab.txt"
  manifest "$G/MANIFEST.tsv" symtab.txt "readelf -sW / -SW lines (commands inside)"
  cp "$D/bin/colddemo" "$RUN/colddemo"
  heap_profile "$RUN" colddemo "$D"
  copy_sysroot "$D/colddemo.pb.gz"
  (cd "$D" && "$GPPROF" -raw -symbolize=none colddemo.pb.gz) >"$G/raw.symbolize-none.txt" 2>/dev/null
  manifest "$G/MANIFEST.tsv" raw.symbolize-none.txt "cd testdata/fidelity/cold && google-pprof -raw -symbolize=none colddemo.pb.gz"
  (cd "$D" && "$GPPROF" -raw bin/colddemo colddemo.pb.gz) >"$G/raw.google-pprof.txt" 2>/dev/null
  manifest "$G/MANIFEST.tsv" raw.google-pprof.txt "cd testdata/fidelity/cold && google-pprof -raw bin/colddemo colddemo.pb.gz"
  python3 "$TOOLS/native_goldens.py" "$D/colddemo.pb.gz" "$G/profile" --main "$D/bin/colddemo" \
    --sysroot "$SYSROOT" --root "$ROOT" --llvm-short
  manifest "$G/MANIFEST.tsv" "profile/" "tools/native_goldens.py colddemo.pb.gz goldens/profile --main bin/colddemo --sysroot testdata/sysroot (commands: profile/COMMANDS.tsv)"
  python3 "$TOOLS/native_goldens.py" "$D/colddemo.pb.gz" "$G/profile-nodebug" --main "$D/bin/colddemo.nodebug" \
    --root "$ROOT" --llvm-short
  manifest "$G/MANIFEST.tsv" "profile-nodebug/" "tools/native_goldens.py colddemo.pb.gz goldens/profile-nodebug --main bin/colddemo.nodebug"
  # Every byte address of the two .cold symbols, with and without DWARF.
  python3 -c '
import sys
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 8 and f[7] in ("main.cold", "foo.cold"):
        start = int(f[1], 16)
        for a in range(start, start + int(f[2])):
            print("%#x" % a)' "$W/syms.txt" >"$W/cold-addrs.txt"
  python3 "$TOOLS/native_goldens.py" --addrs "$W/cold-addrs.txt" "$G/cold-ranges" --main "$D/bin/colddemo" --root "$ROOT" --llvm-short
  manifest "$G/MANIFEST.tsv" "cold-ranges/" "the four peers on every address of main.cold and foo.cold (cold-ranges/COMMANDS.tsv)"
  python3 "$TOOLS/native_goldens.py" --addrs "$W/cold-addrs.txt" "$G/cold-ranges-nodebug" \
    --main "$D/bin/colddemo.nodebug" --root "$ROOT" --llvm-short
  manifest "$G/MANIFEST.tsv" "cold-ranges-nodebug/" "the same on bin/colddemo.nodebug (symbol table only)"
}

# ---------------------------------------------------------------------------------------------------------------
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(generics cgo cpp cold)
for p in "${parts[@]}"; do
  case $p in
  generics | cgo | cpp | cold) "$p" ;;
  *) echo "unknown part: $p" >&2; exit 2 ;;
  esac
done
echo "== done" >&2
