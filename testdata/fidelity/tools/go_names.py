#!/usr/bin/env python3
"""Joins, per location address of a Go heap profile, every name source the fidelity fixtures record.

Usage: go_names.py PROFILE ADDRS GO_ADDR2LINE_OUT LLVM_JSON_OUT GNU_ADDR2LINE_OUT NM_OUT FRAMES_TXT > names.json

  PROFILE            the runtime-written heap profile (profile.proto, gzipped)
  ADDRS              the addresses fed to the peers, one 0x-hex per line (profile_pb.py addrs)
  GO_ADDR2LINE_OUT   stdout of `go tool addr2line BIN < ADDRS` (2 lines per address: function, file:line)
  LLVM_JSON_OUT      stdout of `llvm-symbolizer --inlining --output-style=JSON --obj=BIN < ADDRS`
  GNU_ADDR2LINE_OUT  stdout of `addr2line -f -i -a -e BIN < ADDRS`
  NM_OUT             stdout of `nm -n -S --defined-only BIN` (unstripped binary)
  FRAMES_TXT         the program's own -frames output (runtime.CallersFrames over each memory-profile stack)

Output: a JSON list, one object per address, with the frames (innermost first) each source gives.
"""
import bisect
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import profile_pb  # noqa: E402


def main():
    prof, addrs_p, go_p, llvm_p, gnu_p, nm_p, frames_p = sys.argv[1:8]
    p = profile_pb.load(prof)
    addrs = [int(x, 16) for x in open(addrs_p).read().split()]

    by_addr = {}
    for loc in p["locations"]:
        frames = []
        for ln in loc["lines"]:
            fn = p["functions"][ln["function"]]
            frames.append({"function": fn["name"], "system_name": fn["system_name"],
                           "file": fn["filename"], "line": ln["line"]})
        by_addr.setdefault(loc["address"], frames)

    go_lines = open(go_p).read().splitlines()
    assert len(go_lines) == 2 * len(addrs), "go addr2line: expected 2 lines per address"

    llvm = [json.loads(line) for line in open(llvm_p).read().splitlines() if line.strip()]
    assert len(llvm) == len(addrs)

    # GNU addr2line -a: "0x..." line, then function/file:line pairs.
    gnu = {}
    cur = None
    lines = open(gnu_p).read().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):
            cur = int(lines[i], 16)
            gnu[cur] = []
            i += 1
            continue
        gnu[cur].append({"function": lines[i], "location": lines[i + 1]})
        i += 2

    syms = []
    for line in open(nm_p):
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            syms.append((int(parts[0], 16), int(parts[1], 16), parts[3].rstrip("\n")))
    syms.sort()
    starts = [s[0] for s in syms]

    def symtab(a):
        # Every text symbol whose [value, value+size) holds the address (aliases included).
        i = bisect.bisect_right(starts, a)
        return sorted({name for start, size, name in syms[max(0, i - 64):i] if start <= a < start + size})

    # The program's -frames output: "frame\t<Frame.PC>\t<Frame.Function>\t<file:line>\t<FuncForPC name>".
    # Frame.PC is the return address - 1, the convention of the profile's location addresses.
    rt = {}
    for line in open(frames_p):
        if not line.startswith("frame\t"):
            continue
        _, pc_s, name, loc, ffp = line.rstrip("\n").split("\t")
        ent = {"function": name, "location": loc, "funcforpc": ffp}
        lst = rt.setdefault(int(pc_s, 16), [])
        if ent not in lst:
            lst.append(ent)

    out = []
    for k, a in enumerate(addrs):
        out.append({
            "address": "%#x" % a,
            "profile": by_addr.get(a, []),
            "go_addr2line": {"function": go_lines[2 * k], "location": go_lines[2 * k + 1]},
            "llvm_symbolizer": [{"function": f["FunctionName"], "file": f["FileName"], "line": f["Line"]}
                                for f in llvm[k].get("Symbol", [])],
            "gnu_addr2line": gnu.get(a, []),
            "symtab": symtab(a),
            "runtime_frames_at_pc": rt.get(a, []),
        })
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
