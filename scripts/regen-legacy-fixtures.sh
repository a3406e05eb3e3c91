#!/usr/bin/env bash
# Regenerates testdata/legacy/ (legacy profile formats: gperftools heap and CPU,
# tcmalloc heap_v2/growth, jemalloc prof.dump, Go debug=1 texts), the binaries
# and system libraries their memory maps name (testdata/sysroot/), and the
# peer goldens (standalone google/pprof, jeprof).
#
# Needs: gcc/g++ 12, binutils (readelf), llvm-symbolizer, google-perftools
# (libtcmalloc.so.4, libprofiler.so.0, headers), libjemalloc2 (built with
# profiling, as Debian's is) + jeprof, Go 1.27 (GO, default /work/tools/go),
# cargo/rustc (crates.io reachable or the crates already fetched),
# standalone google/pprof (GPPROF, default /work/tools/google-pprof), python3
# (stdlib only). Runs programs from /app/legacy (RUNDIR): needs write access
# there; the directory is removed at the end.
#
# Usage: scripts/regen-legacy-fixtures.sh [--no-build] [--no-rust-build] [--goldens-only]
#   --no-build       keep the binaries in testdata/sysroot/app/legacy/bin
#   --no-rust-build  rebuild the C/C++/Go programs but keep bin/rust-jeheap
#                    (the cargo build takes ~3 minutes on 2 cores)
#   --goldens-only   keep binaries and profiles, redo conversions and goldens
#
# What is (not) deterministic: C, C++ and Go binaries are byte-for-byte
# reproducible with the same toolchains; profiles are not (ASLR, sampling,
# timing), so profiles and goldens are always regenerated together.
#
# Goldens depend on the machine only through the system libraries the maps
# name: they are taken with the real libraries at their paths, after checking
# that those are the same bytes as the copies in testdata/sysroot, so
# `--sysroot testdata/sysroot` reproduces them anywhere. llvm-symbolizer is
# run through a wrapper that adds --debug-file-directory=/nonexistent, so
# separate debug files (Debian's libc6-dbg in /usr/lib/debug) are NOT used:
# the answers come from the bytes in testdata/sysroot alone.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
L=$ROOT/testdata/legacy
SYSROOT=$ROOT/testdata/sysroot
RUNDIR=${RUNDIR:-/app/legacy}
BIN=$SYSROOT$RUNDIR/bin        # our binaries, at their recorded path under the sysroot
GO=${GO:-/work/tools/go}
GPPROF=${GPPROF:-/work/tools/google-pprof}
TCMALLOC=${TCMALLOC:-/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4}
JEMALLOC=${JEMALLOC:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
RUST_TARGET_DIR=${RUST_TARGET_DIR:-/tmp/pprofsym-legacy-rust-target}
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}

do_build=1 do_rust_build=1 do_profiles=1
for arg in "$@"; do
    case $arg in
    --no-build) do_build=0 do_rust_build=0 ;;
    --no-rust-build) do_rust_build=0 ;;
    --goldens-only) do_build=0 do_rust_build=0 do_profiles=0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0
unset MALLOC_CONF _RJEM_MALLOC_CONF HEAPPROFILE CPUPROFILE TCMALLOC_SAMPLE_PARAMETER LD_PRELOAD

build_id() { readelf -nW "$1" 2>/dev/null | sed -n 's/.*Build ID: //p'; }

# ---------------------------------------------------------------- build
build_native() {
    mkdir -p "$BIN"
    rm -f "$BIN"/{liblegacy.so,lheap,lheap.nopie,lheapxx,cpuburn,godemo}
    local C=(-O2 -g -ffile-prefix-map="$L"=. -I"$L/src" -Wl,--build-id=sha1 -Wall)
    (cd "$L"
     gcc "${C[@]}" -fPIC -shared -Wl,-soname,liblegacy.so -o "$BIN/liblegacy.so" src/liblegacy.c
     gcc "${C[@]}" -fPIE -pie -o "$BIN/lheap" src/lheap.c \
         -L"$BIN" -llegacy -lpthread -Wl,-rpath,'$ORIGIN'
     gcc "${C[@]}" -fno-PIE -no-pie -o "$BIN/lheap.nopie" src/lheap.c \
         -L"$BIN" -llegacy -lpthread -Wl,-rpath,'$ORIGIN'
     g++ "${C[@]}" -fPIE -pie -o "$BIN/lheapxx" src/lheapxx.cpp \
         -L"$BIN" -llegacy -lpthread -Wl,-rpath,'$ORIGIN'
     # libprofiler must be linked even though nothing references it: CPUPROFILE
     # is read by its constructor.
     gcc "${C[@]}" -fPIE -pie -o "$BIN/cpuburn" src/cpuburn.c \
         -L"$BIN" -llegacy -lm -Wl,--no-as-needed -lprofiler -Wl,--as-needed -Wl,-rpath,'$ORIGIN')
    (cd "$L/godemo" && GOTOOLCHAIN=local GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
        "$GO" build -trimpath -buildvcs=false -o "$BIN/godemo" .)
}

build_rust() {
    local demo=$L/rust-jeheap
    # Keep the checkout, ~/.cargo and the target dir out of the DWARF paths;
    # compress the DWARF sections (SHF_COMPRESSED, zlib) to keep the binary small.
    RUSTFLAGS="--remap-path-prefix=$demo=/rust-jeheap \
--remap-path-prefix=$CARGO_HOME/registry/src=/cargo/registry/src \
--remap-path-prefix=$RUST_TARGET_DIR=/target \
-C link-arg=-Wl,--build-id=sha1 -C link-arg=-Wl,--compress-debug-sections=zlib" \
    CFLAGS="-ffile-prefix-map=$RUST_TARGET_DIR=/target \
-ffile-prefix-map=$CARGO_HOME/registry/src=/cargo/registry/src \
-g1 -fno-var-tracking -fno-var-tracking-assignments" \
        bash -c "cd '$demo' && nice cargo build --release --locked --target-dir '$RUST_TARGET_DIR'"
    mkdir -p "$BIN"
    cp "$RUST_TARGET_DIR/release/rust-jeheap" "$BIN/rust-jeheap"
}

[ $do_build = 1 ] && build_native
[ $do_rust_build = 1 ] && build_rust

install_bins() {
    rm -rf "$RUNDIR"
    mkdir -p "$RUNDIR/bin" "$RUNDIR/out"
    cp -p "$BIN"/* "$RUNDIR/bin/"
}

# ---------------------------------------------------------------- profiles
P=$L/profiles
run_profiles() {
    install_bins
    rm -rf "$P"
    mkdir -p "$P/go"
    local out=$RUNDIR/out
    cd "$RUNDIR"
    # gperftools heap profiler: every allocation, "@ heapprofile". Interval
    # dumps are disabled; the program calls HeapProfilerDump once (file
    # .0001.heap); the dump gperftools writes at exit (.0002) is dropped.
    for b in lheap lheap.nopie lheapxx; do
        LD_PRELOAD=$TCMALLOC HEAPPROFILE=$out/$b \
            HEAP_PROFILE_ALLOCATION_INTERVAL=1099511627776 HEAP_PROFILE_INUSE_INTERVAL=1099511627776 \
            "./bin/$b" > /dev/null 2> "$out/$b.stderr"
        cp "$out/$b.0001.heap" "$P/$b.heapprofile.heap"
    done
    # tcmalloc's sampler: MallocExtension::GetHeapSample ("@ heap_v2/RATE")
    # and GetHeapGrowthStacks ("@ growth"); sampling off gives the %warn form.
    for rate in 524288 4096 off; do
        if [ $rate = off ]; then
            LD_PRELOAD=$TCMALLOC ./bin/lheapxx "$out/tc-$rate" > /dev/null
        else
            LD_PRELOAD=$TCMALLOC TCMALLOC_SAMPLE_PARAMETER=$rate ./bin/lheapxx "$out/tc-$rate" > /dev/null
        fi
        cp "$out/tc-$rate.sample.heap" "$P/lheapxx.heap_v2-$rate.heap"
    done
    cp "$out/tc-524288.growth.heap" "$P/lheapxx.growth.heap"
    # jemalloc prof.dump (native heap_v2 text with t*/tN lines).
    # lg_prof_sample:0 = every allocation; prof_accum:true = alloc counts too.
    # prof_unbias:false (jemalloc 5.3 defaults to true) prints raw sample counts.
    local je0=prof:true,lg_prof_sample:0,prof_accum:true je19=prof:true
    LD_PRELOAD=$JEMALLOC MALLOC_CONF=$je0 ./bin/lheap "$out/lheap.je-lg0.heap" > /dev/null
    LD_PRELOAD=$JEMALLOC MALLOC_CONF=$je19 ./bin/lheap "$out/lheap.je-lg19.heap" > /dev/null
    LD_PRELOAD=$JEMALLOC MALLOC_CONF=$je19,prof_unbias:false ./bin/lheap \
        "$out/lheap.je-lg19-nounbias.heap" > /dev/null
    LD_PRELOAD=$JEMALLOC MALLOC_CONF=$je0 ./bin/lheapxx "$out/lheapxx.je-lg0" > /dev/null
    _RJEM_MALLOC_CONF=$je0 ./bin/rust-jeheap "$out/rust-jeheap.je-lg0.heap" > /dev/null
    _RJEM_MALLOC_CONF=$je19 ./bin/rust-jeheap "$out/rust-jeheap.je-lg19.heap" > /dev/null
    cp "$out/lheap.je-lg0.heap" "$out/lheap.je-lg19.heap" "$out/lheap.je-lg19-nounbias.heap" \
        "$out/rust-jeheap.je-lg0.heap" "$out/rust-jeheap.je-lg19.heap" "$P/"
    cp "$out/lheapxx.je-lg0.jeheap" "$P/lheapxx.je-lg0.heap"
    # gperftools CPU profiler, 250 Hz (period 4000 us), written at exit.
    CPUPROFILE=$out/cpuburn.prof CPUPROFILE_FREQUENCY=250 ./bin/cpuburn 1500 > /dev/null 2>&1
    cp "$out/cpuburn.prof" "$P/cpuburn.prof"
    # Go debug=1 texts and protos. Retried until the two writes agree (see
    # check_go below).
    local try
    for try in 1 2 3 4 5; do
        rm -rf "$out/go" && mkdir -p "$out/go"
        ./bin/godemo -out "$out/go"
        if check_go "$out/go"; then break; fi
        [ $try = 5 ] && { echo "Go text and proto disagree 5 times" >&2; exit 1; }
    done
    cp "$out"/go/* "$P/go/"
    cd "$ROOT"
}

# Totals of the text and the proto of each Go profile must agree (mutex: the
# text counts twice the proto, see README: pprof scales an already scaled text).
pprof_total() { # <sample_index> <file>
    PPROF_BINARY_PATH=/nonexistent "$GPPROF" -top -symbolize=none -nodecount=1 "-sample_index=$1" "$2" 2>/dev/null \
        | sed -n 's/.* of \(.*\) total$/\1/p'
}
check_go() {
    local d=$1 n si a b
    for n in goroutine threadcreate block; do
        for si in 0 $([ $n = block ] && echo 1); do
            a=$(pprof_total $si "$d/$n.debug1.txt"); b=$(pprof_total $si "$d/$n.pb.gz")
            [ "$a" = "$b" ] || { echo "go $n si=$si: text $a proto $b" >&2; return 1; }
        done
    done
    a=$(pprof_total 0 "$d/mutex.debug1.txt"); b=$(pprof_total 0 "$d/mutex.pb.gz")
    [ "$a" = "$((b * 2))" ] || { echo "go mutex: text $a proto $b" >&2; return 1; }
}

[ $do_profiles = 1 ] && run_profiles

# ---------------------------------------------------------------- conversions
JE_DUMPS=(lheap.je-lg0 lheap.je-lg19 lheap.je-lg19-nounbias lheapxx.je-lg0 rust-jeheap.je-lg0
          rust-jeheap.je-lg19)
for j in "${JE_DUMPS[@]}"; do
    python3 "$ROOT/scripts/jeheap-to-gperftools.py" "$P/$j.heap" -o "$P/$j.gperf.heap"
done
rm -f "$P"/cpuburn.*.derived.prof
for t in 32le 32be 64be; do
    python3 "$ROOT/scripts/cpuprof-convert.py" "$P/cpuburn.prof" --to $t -o "$P/cpuburn.$t.derived.prof"
done

# ---------------------------------------------------------------- sysroot
# Every absolute path in the maps of the native dumps, except our own RUNDIR
# (built straight into the sysroot), copied under testdata/sysroot.
native_maps_paths() {
    local f
    for f in "$P"/*.heap "$P"/cpuburn.prof; do
        sed -n '/MAPPED_LIBRARIES:/,$p' "$f" 2>/dev/null
        case $f in *.prof) python3 - "$f" <<'EOF' ;;
import struct, sys
b = open(sys.argv[1], "rb").read()
off = 40
while True:
    c, d = struct.unpack_from("<QQ", b, off)
    off += 16 + 8 * d
    if c == 0 and d == 1:
        break
sys.stdout.write(b[off:].decode("latin-1"))
EOF
        esac
    done | awk '$NF ~ /^\// {print $NF}' | grep -v "^$RUNDIR/" | sort -u
}
mapfile -t SYSLIBS < <(native_maps_paths)
if [ $do_profiles = 1 ]; then
    for lib in "${SYSLIBS[@]}"; do
        mkdir -p "$SYSROOT$(dirname "$lib")"
        cp "$lib" "$SYSROOT$lib"
        chmod 0644 "$SYSROOT$lib"
    done
fi
# The goldens need the real files to be the copies (see header comment).
for lib in "${SYSLIBS[@]}"; do
    cmp -s "$lib" "$SYSROOT$lib" || {
        echo "$lib differs from $SYSROOT$lib: goldens would not match the sysroot" >&2; exit 1; }
done
{
    printf 'path\tsize\tbuild_id\n'
    for f in "${SYSLIBS[@]}" $(cd "$BIN" && ls | sed "s#^#$RUNDIR/bin/#"); do
        printf '%s\t%s\t%s\n' "$f" "$(stat -c %s "$SYSROOT$f")" "$(build_id "$SYSROOT$f")"
    done
} > "$L/sysroot-files.tsv"

# ---------------------------------------------------------------- goldens
[ $do_profiles = 1 ] || install_bins
G=$L/goldens
rm -rf "$G" "$L/jeprof"
mkdir -p "$G" "$L/jeprof"
WRAP=$(mktemp -d)
trap 'rm -rf "$WRAP"' EXIT
cat > "$WRAP/llvm-symbolizer" <<'EOF'
#!/bin/sh
exec /usr/bin/llvm-symbolizer --debug-file-directory=/nonexistent "$@"
EOF
chmod +x "$WRAP/llvm-symbolizer"
mkdir -p "$WRAP/home"
MANIFEST=$G/MANIFEST.tsv
printf 'golden\tflags\targs\texit\n' > "$MANIFEST"

# golden <name> <args...> ; the args are pprof flags then inputs (inputs
# relative to testdata/legacy). Writes goldens/<name>.txt (stdout) and
# goldens/<name>.stderr when pprof wrote to stderr.
golden() {
    local name=$1; shift
    local flags=() args=() a rc
    for a in "$@"; do
        case $a in -*) flags+=("$a") ;; *) args+=("$a") ;; esac
    done
    mkdir -p "$(dirname "$G/$name")"
    set +e
    (cd "$L" && env -i PATH="$WRAP:/usr/bin:/bin" HOME="$WRAP/home" PPROF_TMPDIR="$WRAP/home" \
        TZ=UTC LC_ALL=C PPROF_BINARY_PATH=/nonexistent "$GPPROF" "$@" \
        > "$G/$name.txt" 2> "$G/$name.stderr")
    rc=$?
    set -e
    [ -s "$G/$name.stderr" ] || rm -f "$G/$name.stderr"
    printf '%s\t%s\t%s\t%s\n' "$name" "${flags[*]}" "${args[*]}" "$rc" >> "$MANIFEST"
}

# Sample type names of a profile, from pprof's own -raw header line.
sample_types() { # <args...>
    (cd "$L" && PPROF_BINARY_PATH=/nonexistent "$GPPROF" -raw -symbolize=none "$@" 2>/dev/null) \
        | sed -n '/^Samples:/{n;p;q}' | tr ' ' '\n' | sed -n 's#/.*##p'
}

# all_goldens <stem> <args...>: the standard set for one readable profile.
all_goldens() {
    local stem=$1; shift
    local si
    golden "$stem/raw" -raw "$@"
    golden "$stem/raw.nosym" -raw -symbolize=none "$@"
    for si in $(sample_types "$@"); do
        golden "$stem/top.$si" -top "-sample_index=$si" "$@"
        golden "$stem/top.$si.lines" -top -lines "-sample_index=$si" "$@"
    done
    golden "$stem/top.addresses" -top -addresses "$@"
    golden "$stem/traces" -traces "$@"
}

for h in lheap.heapprofile lheap.nopie.heapprofile lheapxx.heapprofile \
         lheapxx.heap_v2-524288 lheapxx.heap_v2-4096 lheapxx.growth \
         $(printf '%s.gperf ' "${JE_DUMPS[@]}"); do
    all_goldens "$h" "profiles/$h.heap"
done
for c in cpuburn cpuburn.32le.derived cpuburn.32be.derived cpuburn.64be.derived; do
    all_goldens "$c" "profiles/$c.prof"
done
for n in goroutine threadcreate block mutex; do
    all_goldens "go/$n.debug1" "$RUNDIR/bin/godemo" "profiles/go/$n.debug1.txt"
    all_goldens "go/$n.proto" "$RUNDIR/bin/godemo" "profiles/go/$n.pb.gz"
done
# What pprof says about the files it cannot read.
for j in "${JE_DUMPS[@]}" lheapxx.heap_v2-off; do
    golden "unreadable/$j" -raw -symbolize=none "profiles/$j.heap"
done

# jeprof (jemalloc's perl pprof) on the native dumps, binaries at their paths.
JEMANIFEST=$L/jeprof/MANIFEST.tsv
printf 'output\tcommand\texit\n' > "$JEMANIFEST"
jeprof_run() { # <name> <args...>
    local name=$1 rc; shift
    set +e
    (cd "$L" && env -i PATH=/usr/bin:/bin HOME="$WRAP/home" TZ=UTC LC_ALL=C jeprof "$@" \
        > "$L/jeprof/$name.txt" 2> "$L/jeprof/$name.stderr")
    rc=$?
    set -e
    [ -s "$L/jeprof/$name.stderr" ] || rm -f "$L/jeprof/$name.stderr"
    printf '%s\tjeprof %s\t%s\n' "$name" "$*" "$rc" >> "$JEMANIFEST"
}
for stem in "${JE_DUMPS[@]}"; do
    exe=$RUNDIR/bin/${stem%%.*}
    jeprof_run "$stem.text" --text "$exe" "profiles/$stem.heap"
    jeprof_run "$stem.gperf.text" --text "$exe" "profiles/$stem.gperf.heap"
    jeprof_run "$stem.raw" --raw "$exe" "profiles/$stem.heap"
    # jeprof prints its symbol table in perl hash order: sort the 0x... lines.
    f=$L/jeprof/$stem.raw.txt
    { grep -v '^0x' "$f" | head -2; grep '^0x' "$f" | sort; grep -v '^0x' "$f" | tail -n +3; } > "$f.sorted"
    mv "$f.sorted" "$f"
done
for stem in lheap.je-lg0 rust-jeheap.je-lg0; do
    exe=$RUNDIR/bin/${stem%%.*}
    jeprof_run "$stem.text.alloc_space" --text --alloc_space "$exe" "profiles/$stem.heap"
done

rm -rf "$RUNDIR"

# ---------------------------------------------------------------- versions
{
    echo "gcc: $(gcc --version | head -1)"
    echo "g++: $(g++ --version | head -1)"
    echo "binutils: $(ld --version | head -1)"
    echo "go: $("$GO" version)"
    echo "rustc: $(rustc --version)"
    echo "llvm-symbolizer: $(llvm-symbolizer --version | sed -n 's/^ *//;/version/p' | head -1)"
    echo "google/pprof: $("$GO" version -m "$GPPROF" | awk '$1 == "dep" && $2 == "github.com/google/pprof" {print $3}') built with $("$GO" version "$GPPROF" | cut -d' ' -f2)"
    echo "jeprof: $(jeprof --version 2>&1 | head -1)"
    echo "gperftools: $(dpkg-query -W -f='${Version}' libgoogle-perftools4 2>/dev/null)"
    echo "libjemalloc2: $(dpkg-query -W -f='${Version}' libjemalloc2 2>/dev/null)"
    echo "libc6: $(dpkg-query -W -f='${Version}' libc6 2>/dev/null)"
    echo "kernel: $(uname -r)"
} > "$L/versions.txt"
du -sh "$L" "$SYSROOT"
echo "regenerated $L"
