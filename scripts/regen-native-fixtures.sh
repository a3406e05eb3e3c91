#!/usr/bin/env bash
# Regenerates testdata/native/: native (C/C++) binaries, real gperftools heap
# profiles, their unsymbolized profile.proto conversions, and peer goldens
# (llvm-symbolizer, GNU addr2line).
#
# Needs: gcc/g++ 12, GNU binutils (strip, objcopy, readelf, addr2line),
# llvm-symbolizer, google-perftools (libtcmalloc.so.4 with the heap profiler),
# go tool pprof (GO=/opt/gobin/bin/go by default), python3 (stdlib only).
#
# Usage: scripts/regen-native-fixtures.sh [--no-build] [--no-profiles]
#   --no-build     keep the binaries in testdata/native/bin (only re-run programs
#                  and goldens)
#   --no-profiles  keep the recorded profiles (only recompute goldens)
#
# Binaries are deterministic (same compiler => same bytes and build IDs): DWARF
# paths go through -ffile-prefix-map=<testdata/native>=. so they read
# "./src/cdemo.c" no matter where the checkout lives. Heap profiles are NOT
# deterministic (ASLR), which is the point: they carry real runtime addresses.
#
# Address rule used for the goldens (google/pprof internal/elfexec GetBase,
# user-space case, see testdata/native/README.md):
#   1. of the binary's PT_LOAD headers with p_filesz > 0, keep those whose file
#      range [p_offset, p_offset+p_memsz) overlaps the mapping's file range
#      [offset, offset + (limit-start)) (pprof's ProgramHeadersForMapping, with
#      its two exclusions); if several remain, take the one whose file range
#      contains the address's file offset (addr - start + offset);
#   2. base = start - offset + p_offset - p_vaddr   (ET_DYN and ET_EXEC alike;
#      for a non-PIE ET_EXEC at its link address this is 0);
#   3. vaddr = addr - base.
set -euo pipefail

GO=${GO:-/opt/gobin/bin/go}
TCMALLOC=${TCMALLOC:-/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=$ROOT/testdata/native
# Programs run from this fixed directory so the profiles' mapping file names are
# stable ("/tmp/pprofsym-native/bin/cdemo"); tests redirect with --binary.
RUNDIR=${RUNDIR:-/tmp/pprofsym-native}

do_build=1
do_profiles=1
for arg in "$@"; do
    case $arg in
    --no-build) do_build=0 ;;
    --no-profiles) do_profiles=0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

cd "$N"
export LC_ALL=C SOURCE_DATE_EPOCH=0

COMMON=(-O2 -g -ffile-prefix-map="$N"=. -Isrc -Wl,--build-id=sha1 -Wall)

build_id() { readelf -nW "$1" | sed -n 's/.*Build ID: //p'; }

build() {
    rm -rf bin
    mkdir -p bin/.debug
    # Shared library.
    gcc "${COMMON[@]}" -fPIC -shared -Wl,-soname,libnativedemo.so \
        -o bin/libnativedemo.so src/nativedemo.c
    # C program: PIE (Debian default) and non-PIE.
    gcc "${COMMON[@]}" -fPIE -pie -o bin/cdemo src/cdemo.c \
        -Lbin -lnativedemo -Wl,-rpath,'$ORIGIN'
    gcc "${COMMON[@]}" -fno-PIE -no-pie -o bin/cdemo.nopie src/cdemo.c \
        -Lbin -lnativedemo -Wl,-rpath,'$ORIGIN'
    # C++ program (PIE).
    g++ "${COMMON[@]}" -fPIE -pie -o bin/cppdemo src/cppdemo.cpp

    # Symbol-table-only and dynsym-only variants.
    for b in cdemo cdemo.nopie cppdemo libnativedemo.so; do
        strip --strip-debug -o "bin/$b.nodebug" "bin/$b"
        strip --strip-all -o "bin/$b.stripped" "bin/$b"
    done

    # zlib-compressed DWARF: SHF_COMPRESSED .debug_* sections (ELF gABI), and the
    # older GNU ".zdebug_*" sections.
    gcc "${COMMON[@]}" -gz=zlib -fPIE -pie -o bin/cdemo.zdebug src/cdemo.c \
        -Lbin -lnativedemo -Wl,-rpath,'$ORIGIN'
    gcc "${COMMON[@]}" -gz=zlib-gnu -fPIE -pie -o bin/cdemo.zdebug-gnu src/cdemo.c \
        -Lbin -lnativedemo -Wl,-rpath,'$ORIGIN'

    # Split debug info: bin/cdemo.split (no DWARF, .gnu_debuglink ->
    # "cdemo.split.debug") + bin/.debug/cdemo.split.debug. Same build ID as
    # bin/cdemo. The same debug file also sits in a build-ID tree.
    objcopy --only-keep-debug bin/cdemo bin/.debug/cdemo.split.debug
    (cd bin && objcopy --strip-debug --add-gnu-debuglink=.debug/cdemo.split.debug \
        cdemo cdemo.split)
    local id
    id=$(build_id bin/cdemo)
    mkdir -p "bin/debugroot/.build-id/${id:0:2}"
    cp bin/.debug/cdemo.split.debug "bin/debugroot/.build-id/${id:0:2}/${id:2}.debug"

    # Rebuilt with a change: different code and build ID, same file layout idea.
    gcc "${COMMON[@]}" -DCDEMO_VARIANT=1 -fPIE -pie -o bin/cdemo.changed src/cdemo.c \
        -Lbin -lnativedemo -Wl,-rpath,'$ORIGIN'

    # Not an ELF file, and a truncated ELF (first 2000 bytes of bin/cdemo).
    printf '#!/bin/sh\n# pprofsym fixture: this is a shell script, not an ELF file.\necho not-an-elf\n' \
        > bin/not-an-elf
    head -c 2000 bin/cdemo > bin/cdemo.truncated
}

if [ $do_build = 1 ]; then
    build
fi

# Runs one program under gperftools' heap profiler (LD_PRELOAD libtcmalloc.so.4).
# The program calls HeapProfilerDump("<name>-final") itself while every block
# is live; the interval dumps are disabled so the only other dump is the one
# gperftools writes at exit, which we drop. Every allocation is recorded
# (gperftools' heap profiler does not sample).
profile_one() { # <binary name> <profile name> [args...]
    local bin=$1 name=$2
    shift 2
    rm -f "$RUNDIR/out/$name".*.heap
    (cd "$RUNDIR" && LD_PRELOAD=$TCMALLOC HEAPPROFILE="$RUNDIR/out/$name" \
        HEAP_PROFILE_ALLOCATION_INTERVAL=1099511627776 \
        HEAP_PROFILE_INUSE_INTERVAL=1099511627776 "./bin/$bin" "$@" > /dev/null)
    cp "$RUNDIR/out/$name.0001.heap" "profiles/$name.heap"
    "$GO" tool pprof -proto -symbolize=none "profiles/$name.heap" > "profiles/$name.pb.gz" 2> /dev/null
    "$GO" tool pprof -raw -symbolize=none "profiles/$name.pb.gz" > "profiles/$name.raw.txt" 2> /dev/null
}

if [ $do_profiles = 1 ]; then
    rm -rf "$RUNDIR" profiles
    mkdir -p "$RUNDIR/bin" "$RUNDIR/out" profiles goldens/addr2line
    cp bin/cdemo bin/cdemo.nopie bin/cppdemo bin/libnativedemo.so "$RUNDIR/bin/"
    profile_one cdemo cdemo
    profile_one cdemo.nopie cdemo.nopie
    profile_one cppdemo cppdemo
    # A real /proc/self/maps of the PIE program (plain glibc malloc), followed by
    # "RUNTIME <name> 0x<addr>" lines printed by the same process.
    (cd "$RUNDIR" && CDEMO_PRINT_MAPS=1 ./bin/cdemo > out/maps-run.txt)
    grep -E '^[0-9a-f]+-[0-9a-f]+ ' "$RUNDIR/out/maps-run.txt" > goldens/addr2line/cdemo.maps.txt
    grep '^RUNTIME ' "$RUNDIR/out/maps-run.txt" > goldens/addr2line/cdemo.runtime.txt
fi

# Goldens.
rm -f goldens/*.frames.json goldens/addr2line/*.json
mkdir -p goldens/addr2line
for p in cdemo cdemo.nopie cppdemo; do
    python3 tools/goldens.py frames "profiles/$p.pb.gz" "goldens/$p.frames.json"
done
python3 tools/goldens.py addr2line goldens/addr2line
python3 tools/goldens.py maps goldens/addr2line/cdemo.maps.txt goldens/addr2line/cdemo.runtime.txt \
    goldens/addr2line/cdemo.maps.expected.json

# Layout summary for the README (program headers, build IDs, profile mappings).
{
    for b in cdemo cdemo.nopie cppdemo libnativedemo.so cdemo.changed cdemo.zdebug cdemo.zdebug-gnu; do
        echo "== bin/$b  build-id $(build_id "bin/$b")  $(readelf -hW "bin/$b" | sed -n 's/^ *Type: *//p')"
        readelf -lW "bin/$b" | grep -E '^ +(Type|LOAD)'
    done
    for p in cdemo cdemo.nopie cppdemo; do
        echo "== profiles/$p.pb.gz mappings"
        sed -n '/^Mappings/,$p' "profiles/$p.raw.txt" | tail -n +2
    done
} > layout.txt
echo "regenerated $N"
