#!/usr/bin/env bash
# Regenerates testdata/native/split/: the C program testdata/native/src/cdemo.c built
# with split DWARF (gcc -gsplit-dwarf), in two layouts, plus llvm-symbolizer goldens.
#
#   loose/cdemo  + loose/cdemo.dwo    the .dwo as gcc wrote it, next to the binary
#   packed/cdemo + packed/cdemo.dwp   the same binary; the .dwo packed by binutils `dwp`
#
# Both binaries are the same bytes. Each has one skeleton unit with
# DW_AT_comp_dir "." and DW_AT_dwo_name "cdemo.dwo": the object is compiled in the
# output directory, and -ffile-prefix-map maps both that directory and
# testdata/native to "." (gcc does not apply the map to DW_AT_dwo_name, so the
# object must be written under a relative name for the name to stay relative).
# Source file names read "./src/cdemo.c" as in testdata/native/bin.
#
# Goldens (goldens/<variant>.json): llvm-symbolizer --inlining --output-style=JSON
# for every instruction start in .text plus the addresses of
# testdata/native/goldens/addr2line/cdemo.json (CODE requests), run with the
# variant's directory as working directory (llvm-symbolizer resolves a relative
# comp_dir against its cwd). goldens/missing-dwo.json: the same binary alone in a
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
(cd "$WORK/build" &&
    gcc -O2 -g -gsplit-dwarf -ffile-prefix-map="$N"=. -ffile-prefix-map="$WORK/build"=. \
        -I"$N/src" -Wall -fPIE -c "$N/src/cdemo.c" -o cdemo.o &&
    gcc -O2 -g -pie -Wl,--build-id=sha1 -o cdemo cdemo.o \
        -L"$N/bin" -lnativedemo -Wl,-rpath,'$ORIGIN' &&
    dwp -e cdemo -o cdemo.dwp)

rm -rf "$S/loose" "$S/packed" "$S/goldens"
mkdir -p "$S/loose" "$S/packed" "$S/goldens"
cp "$WORK/build/cdemo" "$WORK/build/cdemo.dwo" "$S/loose/"
cp "$WORK/build/cdemo" "$WORK/build/cdemo.dwp" "$S/packed/"
cp "$WORK/build/cdemo" "$WORK/alone/"

python3 - "$S" "$N" "$WORK/alone" <<'PY'
import json, os, re, subprocess, sys
S, N, ALONE = sys.argv[1:]
binary = os.path.join(S, "loose", "cdemo")

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
stdin = "".join("CODE 0x%x\n" % a for a in addrs)
dwo = run(["readelf", "--debug-dump=info", binary], S)
skeleton = {k: re.search(r"DW_AT_%s\s*:.*?: (\S+)\s*$" % k, dwo, re.M).group(1)
            for k in ("dwo_name", "comp_dir")}
build_id = re.search(r"Build ID: (\S+)", run(["readelf", "-nW", binary], S)).group(1)
for variant, cwd in (("loose", os.path.join(S, "loose")), ("packed", os.path.join(S, "packed")),
                     ("missing-dwo", ALONE)):
    cmd = ["llvm-symbolizer", "--inlining", "--output-style=JSON", "--obj=cdemo"]
    out = [json.loads(l) for l in run(cmd, cwd, stdin).splitlines()]
    assert len(out) == len(addrs)
    doc = {
        "binary": "split/%s/cdemo" % ("loose" if variant == "missing-dwo" else variant),
        "build_id": build_id,
        "skeleton": skeleton,
        "layout": {"loose": "cdemo + cdemo.dwo", "packed": "cdemo + cdemo.dwp (binutils dwp)",
                   "missing-dwo": "cdemo alone in a directory"}[variant],
        "command": " ".join(cmd) + "  (cwd: the binary's directory; 'CODE 0x<addr>' per stdin line)",
        "llvm_symbolizer": run(["llvm-symbolizer", "--version"], S).splitlines()[1].strip()
        if "LLVM" not in run(["llvm-symbolizer", "--version"], S).splitlines()[0]
        else run(["llvm-symbolizer", "--version"], S).splitlines()[0].strip(),
        "addresses": ["0x%x" % a for a in addrs],
        "answers": out,
    }
    with open(os.path.join(S, "goldens", variant + ".json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
print("%d addresses" % len(addrs))
PY
