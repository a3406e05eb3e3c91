#!/usr/bin/env bash
# Makes testdata/debuginfod: a distribution-style split of testdata/native/bin/libnativedemo.so into a stripped
# library (what a machine has installed) and its separate debug file (what a debuginfod server has), for the
# debuginfod tests (tests/it/debuginfod.rs). Needs binutils (objcopy, readelf). Deterministic: same input, same
# bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
src=testdata/native/bin/libnativedemo.so
out=testdata/debuginfod
rm -rf "$out/stripped" "$out/debuginfo"
mkdir -p "$out/stripped" "$out/debuginfo"
# The debug file: every section's headers, the DWARF and the symbol table; code and data as NOBITS.
objcopy --only-keep-debug "$src" "$out/debuginfo/libnativedemo.so.debug"
# The installed library: no DWARF, no .symtab (only .dynsym), a .gnu_debuglink naming the debug file (with its
# CRC32), as Debian's dh_strip leaves it. Same file name as the original, so `--binary` matches the mapping.
objcopy --strip-all --add-gnu-debuglink="$out/debuginfo/libnativedemo.so.debug" "$src" "$out/stripped/libnativedemo.so"
for f in "$src" "$out/stripped/libnativedemo.so" "$out/debuginfo/libnativedemo.so.debug"; do
    printf '%s %s\n' "$(readelf -n "$f" | awk '/Build ID/ {print $3}')" "$f"
done
