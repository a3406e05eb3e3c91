#!/usr/bin/env python3
"""Maps C++ linkage names to c++filt's demangling, next to what the peers printed (python3 stdlib + binutils).

Usage: cxx_names.py answers GOLDENS_DIR... > cxxfilt.tsv
       cxx_names.py binary BINARY > cxxfilt-all.tsv

answers: reads the peer outputs native_goldens.py wrote (<tag>.llvm-nodemangle.jsonl with <tag>.llvm.jsonl, and
  <tag>.addr2line.txt with <tag>.addr2line-C.txt) and pairs them frame by frame, so each linkage name printed by
  llvm-symbolizer --no-demangle or addr2line (no -C) gets the demangled spelling that peer printed for the same frame.
  Output columns: linkage_name, cxxfilt, llvm_symbolizer, addr2line_C ("-" when that peer never printed the name;
  distinct spellings joined with " || ").
binary: every _Z name of BINARY's DWARF (DW_AT_linkage_name / DW_AT_MIPS_linkage_name, via objdump --dwarf=info)
  and symbol table (nm), with c++filt's and llvm-cxxfilt's demangling. Output columns: linkage_name, cxxfilt,
  llvm_cxxfilt, where ("dwarf", "symtab" or "dwarf+symtab").

c++filt is GNU binutils' (libiberty's cplus_demangle, the demangler of GNU addr2line -C); llvm-cxxfilt is LLVM's
(the demangler of llvm-symbolizer). Both are fed one name per line on stdin.
"""
import glob
import json
import os
import re
import subprocess
import sys

ENV = dict(os.environ, LC_ALL="C")


def filt(tool, names):
    r = subprocess.run([tool], input="".join(n + "\n" for n in names), capture_output=True, text=True, env=ENV,
                       check=True)
    out = r.stdout.splitlines()
    assert len(out) == len(names), tool
    return out


def parse_addr2line(path):
    """-> list of (address, [function names]) in file order."""
    out = []
    lines = open(path).read().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):
            out.append((lines[i], []))
            i += 1
            continue
        out[-1][1].append(lines[i])
        i += 2
    return out


def answers(dirs):
    llvm, gnu = {}, {}
    for d in dirs:
        for raw_p in glob.glob(os.path.join(d, "*.llvm-nodemangle.jsonl")):
            dem_p = raw_p.replace(".llvm-nodemangle.jsonl", ".llvm.jsonl")
            for raw_l, dem_l in zip(open(raw_p), open(dem_p)):
                raw, dem = json.loads(raw_l), json.loads(dem_l)
                for r, m in zip(raw.get("Symbol", []), dem.get("Symbol", [])):
                    llvm.setdefault(r["FunctionName"], set()).add(m["FunctionName"])
        for raw_p in glob.glob(os.path.join(d, "*.addr2line.txt")):
            dem_p = raw_p.replace(".addr2line.txt", ".addr2line-C.txt")
            for (ra, rn), (da, dn) in zip(parse_addr2line(raw_p), parse_addr2line(dem_p)):
                assert ra == da and len(rn) == len(dn), raw_p
                for r, m in zip(rn, dn):
                    gnu.setdefault(r, set()).add(m)
    names = sorted(n for n in set(llvm) | set(gnu) if n.startswith("_Z"))
    print("linkage_name\tcxxfilt\tllvm_symbolizer\taddr2line_C")
    for n, f in zip(names, filt("c++filt", names)):
        print("\t".join([n, f, " || ".join(sorted(llvm.get(n, {"-"}))), " || ".join(sorted(gnu.get(n, {"-"})))]))


def binary(path):
    dwarf = subprocess.run(["objdump", "--dwarf=info", path], capture_output=True, text=True, env=ENV,
                           check=True).stdout
    where = {}
    for m in re.finditer(r"DW_AT_(?:MIPS_)?linkage_name\s*:.*?(\S+)\s*$", dwarf, re.M):
        if m.group(1).startswith("_Z"):
            where.setdefault(m.group(1), set()).add("dwarf")
    nm = subprocess.run(["nm", "--defined-only", path], capture_output=True, text=True, env=ENV, check=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("_Z"):
            where.setdefault(parts[2], set()).add("symtab")
    names = sorted(where)
    print("linkage_name\tcxxfilt\tllvm_cxxfilt\twhere")
    for n, f, l in zip(names, filt("c++filt", names), filt("llvm-cxxfilt", names)):
        print("\t".join([n, f, l, "+".join(sorted(where[n]))]))


def main():
    if sys.argv[1] == "answers":
        answers(sys.argv[2:])
    elif sys.argv[1] == "binary":
        binary(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
