#!/usr/bin/env python3
"""A small set of BINARY's .text addresses that together reach every function name of its inline chains
(python3 stdlib + llvm-symbolizer).

Usage: inline_boundaries.py BINARY > addrs.txt

Asks llvm-symbolizer --inlining about every byte address of .text, and prints (0x-hex, one per line) each address
where the chain of function names (innermost first) changes from the previous address AND holds a name no address
printed before held. So every physical and inlined function llvm-symbolizer can name in .text is reached once,
including inline ranges no profile location falls into.
"""
import json
import os
import subprocess
import sys


def main():
    path = sys.argv[1]
    env = dict(os.environ, LC_ALL="C")
    sec = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True, env=env, check=True).stdout
    start = size = None
    for line in sec.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 5 and parts[1] == ".text":
            start, size = int(parts[3], 16), int(parts[5], 16)
    if start is None:
        sys.exit("no .text in " + path)
    addrs = range(start, start + size)
    r = subprocess.run(["llvm-symbolizer", "--inlining", "--output-style=JSON", "--obj=" + path],
                       input="".join("%#x\n" % a for a in addrs), capture_output=True, text=True, env=env, check=True)
    prev = None
    seen = set()
    for a, line in zip(addrs, r.stdout.splitlines()):
        chain = tuple(s["FunctionName"] for s in json.loads(line).get("Symbol", []))
        if chain != prev and not seen.issuperset(chain):
            print("%#x" % a)
            seen.update(chain)
        prev = chain


if __name__ == "__main__":
    main()
