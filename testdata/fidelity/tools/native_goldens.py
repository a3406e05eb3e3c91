#!/usr/bin/env python3
"""Peer answers for every location of an unsymbolized native (C/C++) profile.proto (python3 stdlib only).

Usage: native_goldens.py PROFILE OUTDIR --main BINARY [--sysroot DIR] [--root DIR]
       native_goldens.py --addrs ADDRS_FILE OUTDIR --main BINARY [--root DIR]
         (second form: ask the four peers about the given ELF addresses of BINARY only; no locations.json)

For each location the address is mapped to an ELF virtual address of the binary that the location's mapping names:
the main mapping (mapping 1) to BINARY, every other file to SYSROOT/<absolute path>, with google/pprof's rule
(internal/elfexec: ProgramHeadersForMapping, then the header holding the file offset when several match;
base = start - offset + p_offset - p_vaddr; vaddr = address - base). Mappings without a file there ([vdso],
[vsyscall], files not copied) are listed as skipped.

Two addresses are asked for each location: `vaddr` (the profile's location address, which pprof's legacy heap
parser already made return address - 1) and `vaddr + 1` (the return address itself, as written in the .heap file).

Writes to OUTDIR:
  <binary tag>.addrs.txt             the distinct addresses asked of that binary (0x-hex, sorted)
  <binary tag>.llvm.jsonl            llvm-symbolizer --inlining --output-style=JSON --obj=B   (stdin = addrs)
  <binary tag>.llvm-nodemangle.jsonl same with --no-demangle
  <binary tag>.addr2line-C.txt       addr2line -f -i -C -a -e B                               (stdin = addrs)
  <binary tag>.addr2line.txt         addr2line -f -i -a -e B
  <binary tag>.llvm-short.jsonl      with --llvm-short: llvm-symbolizer --inlining --functions=short ... (DWARF
                                     names: the default, --functions=linkage, prefers the symbol table's name for
                                     functions whose DWARF has no linkage name, i.e. C functions)
  locations.json                     per location: mapping, binary, base, vaddr and all four answers for vaddr and
                                     vaddr+1 (parsed from the files above)
  COMMANDS.tsv                       <file>\t<command line> for each of the files above
The peers run in ROOT (default: the current directory) with binary paths relative to it.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import profile_pb  # noqa: E402

ENV = dict(os.environ, LC_ALL="C", TZ="UTC")


def hx(v):
    return "%#x" % v


def elf_loads(path):
    """PT_LOAD headers of an ELF64 little-endian file."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("%s: not an ELF64 LE file" % path)
    e_phoff = struct.unpack_from("<Q", data, 32)[0]
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    loads = []
    for k in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_align = \
            struct.unpack_from("<IIQQQQQQ", data, e_phoff + k * e_phentsize)
        if p_type == 1:
            loads.append({"index": len(loads), "offset": p_offset, "vaddr": p_vaddr, "filesz": p_filesz,
                          "memsz": p_memsz, "align": p_align, "exec": bool(p_flags & 1)})
    return loads


def headers_for_mapping(loads, map_off, map_size):
    """google/pprof internal/elfexec ProgramHeadersForMapping."""
    page = 4096
    map_limit = map_off + map_size
    out = []
    for p in loads:
        if p["filesz"] == 0:
            continue
        seg_limit = p["offset"] + p["memsz"]
        if not (map_off < seg_limit and p["offset"] < map_limit):
            continue
        align = p["align"] or 1
        mod = p["vaddr"] & (align - 1)
        aligned_off = p["offset"] - mod if p["offset"] > mod else 0
        if map_off < aligned_off:
            continue
        if map_off > p["offset"] and seg_limit < map_off + page and map_limit >= seg_limit + page:
            continue
        out.append(p)
    return out


def pick_header(loads, m, addr):
    cands = headers_for_mapping(loads, m["offset"], m["limit"] - m["start"])
    if len(cands) == 1:
        return cands[0]
    fo = addr - m["start"] + m["offset"]
    hit = [p for p in cands if p["offset"] <= fo < p["offset"] + p["memsz"]]
    return hit[0] if len(hit) == 1 else None


def run(cmd, stdin_text, cwd=None):
    r = subprocess.run(cmd, input=stdin_text, capture_output=True, text=True, env=ENV, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
    return r.stdout


def parse_addr2line(text):
    """addr2line -a output -> {address: [{"function", "location"}...]} (innermost first)."""
    out, cur = {}, None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):
            cur = int(lines[i], 16)
            out[cur] = []
            i += 1
            continue
        out[cur].append({"function": lines[i], "location": lines[i + 1]})
        i += 2
    return out


def llvm_frames(entry):
    keys = ["FunctionName", "FileName", "Line", "Column", "StartLine", "Discriminator", "StartAddress"]
    return [{k: s.get(k) for k in keys} for s in entry.get("Symbol", [])]


def ask(path, addrs, outdir, rel, root, llvm_short=False):
    """Runs the peers on sorted addresses of one binary; returns ({vaddr: answers}, [(file, command)]).
    They run in ROOT with the binary's path relative to it, so no absolute path reaches their output
    (llvm-symbolizer's JSON repeats the path it was given as ModuleName)."""
    tag = os.path.basename(path)
    path = rel(path)
    stdin = "".join(hx(v) + "\n" for v in addrs)
    with open(os.path.join(outdir, tag + ".addrs.txt"), "w") as f:
        f.write(stdin)
    runs = [
        ("llvm", tag + ".llvm.jsonl", ["llvm-symbolizer", "--inlining", "--output-style=JSON", "--obj=" + path]),
        ("llvm_nodemangle", tag + ".llvm-nodemangle.jsonl",
         ["llvm-symbolizer", "--inlining", "--no-demangle", "--output-style=JSON", "--obj=" + path]),
        ("addr2line_C", tag + ".addr2line-C.txt", ["addr2line", "-f", "-i", "-C", "-a", "-e", path]),
        ("addr2line", tag + ".addr2line.txt", ["addr2line", "-f", "-i", "-a", "-e", path]),
    ]
    if llvm_short:
        runs.append(("llvm_short", tag + ".llvm-short.jsonl",
                     ["llvm-symbolizer", "--inlining", "--functions=short", "--output-style=JSON", "--obj=" + path]))
    answers, commands = {}, []
    for key, fname, cmd in runs:
        text = run(cmd, stdin, cwd=root)
        with open(os.path.join(outdir, fname), "w") as f:
            f.write(text)
        commands.append((fname, " ".join(cmd) + " < " + tag + ".addrs.txt"))
        if key.startswith("llvm"):  # llvm, llvm_nodemangle, llvm_short
            rows = [json.loads(x) for x in text.splitlines() if x.strip()]
            assert len(rows) == len(addrs), fname
            for v, r in zip(addrs, rows):
                answers.setdefault(v, {})[key] = llvm_frames(r)
        else:
            parsed = parse_addr2line(text)
            for v in addrs:
                answers.setdefault(v, {})[key] = parsed[v]
    return answers, commands


def write_commands(outdir, commands):
    with open(os.path.join(outdir, "COMMANDS.tsv"), "w") as f:
        for fname, cmd in commands:
            f.write("%s\t%s\n" % (fname, cmd))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile", nargs="?")
    ap.add_argument("outdir")
    ap.add_argument("--main", required=True)
    ap.add_argument("--sysroot")
    ap.add_argument("--addrs")
    ap.add_argument("--root", default=".")
    ap.add_argument("--llvm-short", action="store_true",
                    help="also run llvm-symbolizer --functions=short (DWARF names, no symbol-table override)")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)

    def rel(path):
        return os.path.relpath(path, a.root)

    if a.addrs:
        addrs = sorted({int(x, 16) for x in open(a.addrs).read().split()})
        _, commands = ask(a.main, addrs, a.outdir, rel, a.root, a.llvm_short)
        write_commands(a.outdir, commands)
        return

    p = profile_pb.load(a.profile)
    binaries = {}  # mapping id -> (binary path, tag)
    for m in p["mappings"]:
        path = None
        if m["id"] == 1:
            path = a.main
        elif a.sysroot and m["file"].startswith("/"):
            cand = os.path.join(a.sysroot, m["file"].lstrip("/"))
            if os.path.isfile(cand):
                path = cand
        if path:
            binaries[m["id"]] = (path, os.path.basename(m["file"]))
    maps = {m["id"]: m for m in p["mappings"]}

    locs = []
    asks = {}  # binary path -> set of vaddrs
    for loc in sorted(p["locations"], key=lambda l: l["id"]):
        m = maps.get(loc["mapping"])
        ent = {"id": loc["id"], "address": hx(loc["address"]), "heap_address": hx(loc["address"] + 1),
               "mapping_id": loc["mapping"], "mapping_file": m["file"] if m else None}
        if loc["mapping"] not in binaries:
            ent["status"] = "skipped"
            locs.append(ent)
            continue
        path, tag = binaries[loc["mapping"]]
        hdr = pick_header(elf_loads(path), m, loc["address"])
        if hdr is None:
            ent["status"] = "no program header"
            locs.append(ent)
            continue
        base = (m["start"] - m["offset"] + hdr["offset"] - hdr["vaddr"]) & (2**64 - 1)
        vaddr = (loc["address"] - base) & (2**64 - 1)
        ent.update({"status": "symbolized", "binary": rel(path), "base": hx(base), "vaddr": hx(vaddr),
                    "vaddr_plus_1": hx(vaddr + 1)})
        asks.setdefault(path, set()).update((vaddr, vaddr + 1))
        locs.append(ent)

    commands = []
    answers = {}  # (path, vaddr) -> dict
    for path, vs in sorted(asks.items()):
        got, cmds = ask(path, sorted(vs), a.outdir, rel, a.root, a.llvm_short)
        commands += cmds
        for v, ans in got.items():
            answers[(path, v)] = ans
    for ent in locs:
        if ent.get("status") != "symbolized":
            continue
        path = [q for q in asks if rel(q) == ent["binary"]][0]
        v = int(ent["vaddr"], 16)
        ent["at_vaddr"] = answers[(path, v)]
        ent["at_vaddr_plus_1"] = answers[(path, v + 1)]
    with open(os.path.join(a.outdir, "locations.json"), "w") as f:
        json.dump({"profile": rel(a.profile), "locations": locs}, f, indent=1)
        f.write("\n")
    write_commands(a.outdir, commands)


if __name__ == "__main__":
    main()
