#!/usr/bin/env bash
# Regenerates testdata/native/split/: the C program testdata/native/src/cdemo.c built
# with split DWARF (gcc -gsplit-dwarf), in three layouts, plus llvm-symbolizer goldens.
#
#   dwarf5/cdemo     + dwarf5/cdemo.dwo       gcc 12's default DWARF 5 split units
#   dwarf4/cdemo     + dwarf4/cdemo.dwo       -gdwarf-4: GNU split DWARF (DW_AT_GNU_dwo_name)
#   dwarf4-dwp/cdemo + dwarf4-dwp/cdemo.dwp   the same DWARF 4 binary; the .dwo packed by
#                                             binutils `dwp` (no .dwo next to it)
#
# Each binary has one skeleton unit with DW_AT_comp_dir "." and dwo name "cdemo.dwo":
# the object is compiled in the output directory, and -ffile-prefix-map maps both that
# directory and testdata/native to "." (gcc does not apply the map to the dwo name,
# so the object must be written under a relative name for the name to stay relative).
# llvm-symbolizer and we print the split units' file names as "././src/cdemo.c"
# (comp_dir "." joined with the line table's "./src/cdemo.c").
#
# Goldens (goldens/<variant>.json): llvm-symbolizer --inlining --output-style=JSON
# for every instruction start in .text plus the addresses of
# testdata/native/goldens/addr2line/cdemo.json (CODE requests), run with the
# variant's directory as working directory (llvm-symbolizer resolves a relative
# comp_dir against its cwd). goldens/missing-dwo.json: the dwarf5 binary alone in a
# directory (no .dwo, no .dwp).
#
# Needs: gcc 12, binutils (dwp, objdump, readelf), llvm-symbolizer, python3.
# Usage: scripts/regen-split-dwarf-fixtures.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=$ROOT/testdata/native
S=$N/split
export LC_ALL=C SOURCE_DATE_EPOCH=0

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/build" "$WORK/alone"

# Compile in the output directory so DW_AT_dwo_name is the bare "cdemo.dwo".
# $1: build dir, $2: DWARF version.
build() {
    mkdir -p "$1"
    (cd "$1" &&
        gcc -O2 -g -gdwarf-"$2" -gsplit-dwarf -ffile-prefix-map="$N"=. -ffile-prefix-map="$1"=. \
            -I"$N/src" -Wall -fPIE -c "$N/src/cdemo.c" -o cdemo.o &&
        gcc -O2 -g -pie -Wl,--build-id=sha1 -o cdemo cdemo.o \
            -L"$N/bin" -lnativedemo -Wl,-rpath,'$ORIGIN')
}
build "$WORK/b5" 5
build "$WORK/b4" 4
# binutils dwp (gold) packs only GNU-style DWARF 4 split units (on gcc 12's DWARF 5
# .dwo it crashes or drops .debug_info.dwo), and llvm-dwp-14 hangs on gcc's DWARF 5
# .dwo: the packed variant is DWARF 4.
(cd "$WORK/b4" && dwp -e cdemo -o cdemo.dwp)

rm -rf "$S"/dwarf5 "$S"/dwarf4 "$S"/dwarf4-dwp "$S/goldens"
mkdir -p "$S"/dwarf5 "$S"/dwarf4 "$S"/dwarf4-dwp "$S/goldens"
cp "$WORK/b5/cdemo" "$WORK/b5/cdemo.dwo" "$S/dwarf5/"
cp "$WORK/b4/cdemo" "$WORK/b4/cdemo.dwo" "$S/dwarf4/"
cp "$WORK/b4/cdemo" "$WORK/b4/cdemo.dwp" "$S/dwarf4-dwp/"
cp "$WORK/b5/cdemo" "$WORK/alone/"

python3 - "$S" "$N" "$WORK/alone" <<'PY'
import json, os, re, subprocess, sys
S, N, ALONE = sys.argv[1:]
binary = os.path.join(S, "dwarf5", "cdemo")

def run(cmd, cwd, stdin=None):
    r = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C"), check=True)
    return r.stdout

# Every instruction start in .text, plus the code addresses of the cdemo addr2line golden.
addrs = set()
for line in run(["objdump", "-d", "--section=.text", binary], S).splitlines():
    m = re.match(r"^\s+([0-9a-f]+):\t", line)
    if m:
        addrs.add(int(m.group(1), 16))
parent = json.load(open(os.path.join(N, "goldens", "addr2line", "cdemo.json")))
for a in parent["addresses"]:
    if a["kind"] not in ("data", "past_end"):
        addrs.add(int(a["address"], 16))
addrs = sorted(addrs)
version = [l.strip() for l in run(["llvm-symbolizer", "--version"], S).splitlines() if "LLVM version" in l][0]
stdin = "".join("CODE 0x%x\n" % a for a in addrs)
for variant, cwd in (("dwarf5", os.path.join(S, "dwarf5")), ("dwarf4", os.path.join(S, "dwarf4")),
                     ("dwarf4-dwp", os.path.join(S, "dwarf4-dwp")), ("missing-dwo", ALONE)):
    vbin = os.path.join(cwd, "cdemo")
    info = run(["readelf", "--debug-dump=info", vbin], S)
    skeleton = {k: re.search(r"DW_AT_(?:GNU_)?%s\s*:(?:.*: )?\s*(\S+)\s*$" % k, info, re.M).group(1)
                for k in ("dwo_name", "comp_dir")}
    build_id = re.search(r"Build ID: (\S+)", run(["readelf", "-nW", vbin], S)).group(1)
    cmd = ["llvm-symbolizer", "--inlining", "--output-style=JSON", "--obj=cdemo"]
    out = [json.loads(l) for l in run(cmd, cwd, stdin).splitlines()]
    assert len(out) == len(addrs)
    doc = {
        "binary": "split/%s/cdemo" % ("dwarf5" if variant == "missing-dwo" else variant),
        "build_id": build_id,
        "skeleton": skeleton,
        "layout": {"dwarf5": "cdemo + cdemo.dwo (DWARF 5)", "dwarf4": "cdemo + cdemo.dwo (DWARF 4, GNU)",
                   "dwarf4-dwp": "cdemo + cdemo.dwp (DWARF 4, binutils dwp)",
                   "missing-dwo": "dwarf5/cdemo alone in a directory"}[variant],
        "command": " ".join(cmd) + "  (cwd: the binary's directory; 'CODE 0x<addr>' per stdin line)",
        "llvm_symbolizer": version,
        "addresses": ["0x%x" % a for a in addrs],
        "answers": out,
    }
    with open(os.path.join(S, "goldens", variant + ".json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
print("%d addresses" % len(addrs))
PY
