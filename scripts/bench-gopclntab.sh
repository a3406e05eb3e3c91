#!/usr/bin/env bash
# Benchmark: symbolize every function entry (+1) of a stripped cmd/go with
# pprofsym's pclntab source (examples/pclntab_bench.rs, through the Symbolizer) vs
# `go tool addr2line` fed the same addresses on stdin, and check they agree.
# Usage: scripts/bench-gopclntab.sh   (BIN = stripped Go binary, built if missing)
set -euo pipefail
GO=${GO:-/opt/gobin/bin/go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-/tmp/go-stripped}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if [ ! -x "$BIN" ]; then
    (cd "$("$GO" env GOROOT)/src/cmd/go" && GOTOOLCHAIN=local nice "$GO" build -trimpath -o "$BIN" -ldflags='-s -w' .)
fi
ls -l "$BIN"
(cd "$ROOT" && nice cargo build -q --release --example pclntab_bench)
EX=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/pclntab_bench
"$EX" "$BIN" list > "$W/addrs"
echo "addresses: $(wc -l < "$W/addrs")"
# Warm the page cache, then time both (wall clock includes process start-up).
cat "$BIN" > /dev/null
s=$(date +%s.%N); "$EX" "$BIN" run "$W/addrs" "$W/ours"; e=$(date +%s.%N)
ours=$(echo "$e - $s" | bc); echo "pprofsym total wall: $ours s"
s=$(date +%s.%N); "$GO" tool addr2line "$BIN" < "$W/addrs" > "$W/go"; e=$(date +%s.%N)
theirs=$(echo "$e - $s" | bc); echo "go tool addr2line total wall: $theirs s"
echo "ratio (go tool addr2line / pprofsym): $(echo "scale=1; $theirs / $ours" | bc)x"
# Agreement on (physical function, innermost file:line); go tool addr2line
# prints raw table names, so generic shapes are normalised to "[...]".
python3 - "$W/ours" "$W/go" <<'PY'
import sys
ours = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
go = open(sys.argv[2]).read().split("\n")
def pr(name):
    # runtime.funcNameForPrint (traceback.go): shapes printed as "[...]".
    i, j = name.find("["), name.rfind("]")
    if i < 0 or j <= i: return name
    inner = name[i+1:j]
    if "[" not in inner: return name[:i] + "[...]" + name[j+1:]
    depth, rbr, lbr = 1, -1, -1
    for k, c in enumerate(inner):
        if c == "[":
            depth += 1
            if depth != 1: continue
            lbr = k
            break
        if c == "]":
            depth -= 1
            if depth < 0: break
            if depth != 0: continue
            rbr = k
    if depth == 1:
        if rbr >= 0 and lbr > rbr: return name[:i] + "[...]" + inner[rbr+1:lbr] + "[...]" + name[j+1:]
        if rbr == -1 and lbr == -1: return name[:i] + "[...]" + name[j+1:]
    return name
same = bad = inl = nopos = 0
for k, (pc, name, pos, depth) in enumerate(ours):
    if int(depth) > 1: inl += 1
    if (pr(go[2*k]), go[2*k+1]) == (name, pos): same += 1
    else:
        bad += 1
        if pos == "?:0" and go[2*k+1] == ":-1": nopos += 1
        elif bad - nopos <= 5: print("differs", pc, (name, pos), (go[2*k], go[2*k+1]))
print(f"agreement with go tool addr2line: {same}/{len(ours)}; functions without position info (ours ?:0, go :-1): {nopos}; other differences: {bad - nopos} (entry+1 pcs inside inlined code: {inl})")
PY
