#!/usr/bin/env python3
"""Write goldens/frames.json for the rust-jemalloc fixture.

Usage: make_frames_golden.py PROFILE BINARY OUT_JSON

Decodes the (gzipped) profile.proto with a tiny hand-written protobuf reader
(standard library only), then asks llvm-symbolizer about every location whose
mapping is the demo binary. jemalloc_pprof already stores Location.address as
an ELF virtual address inside the object with the return-address "-1" applied,
so the address is passed to llvm-symbolizer unchanged.
"""

import gzip
import json
import os
import subprocess
import sys


def varint(buf, pos):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """Yield (field_number, wire_type, value) for one message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, pos = varint(buf, pos)
        elif wt == 1:
            val = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
        elif wt == 2:
            n, pos = varint(buf, pos)
            val = buf[pos:pos + n]
            pos += n
        elif wt == 5:
            val = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield num, wt, val


def parse_profile(data):
    # Field numbers from profile.proto: Profile.mapping=3, location=4,
    # string_table=6; Mapping id=1 memory_start=2 memory_limit=3
    # file_offset=4 filename=5 build_id=6; Location id=1 mapping_id=2
    # address=3 line=4.
    strings, mappings, locations = [], {}, []
    for num, _, val in fields(data):
        if num == 6:  # string_table
            strings.append(val.decode("utf-8"))
        elif num == 3:  # mapping
            m = {}
            for n, _, v in fields(val):
                m[n] = v
            mappings[m.get(1, 0)] = m
        elif num == 4:  # location
            loc = {"lines": 0}
            for n, _, v in fields(val):
                if n == 4:
                    loc["lines"] += 1
                else:
                    loc[n] = v
            locations.append(loc)
    return strings, mappings, locations


FRAME_KEYS = ("FunctionName", "FileName", "Line", "Column", "StartLine")


def symbolize(binary, addrs, extra):
    """Return llvm-symbolizer frames (innermost first) for each address."""
    if not addrs:
        return {}
    cmd = ["llvm-symbolizer", "--obj=" + binary, "--inlining",
           "--output-style=JSON"] + extra
    inp = "".join(f"0x{a:x}\n" for a in addrs)
    # stderr (LLVM 14 complains about .debug_aranges padding) is ignored.
    out = subprocess.run(cmd, input=inp, capture_output=True, text=True,
                         check=True).stdout
    res = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        entries = json.loads(line)
        if isinstance(entries, dict):  # one object per input line
            entries = [entries]
        for entry in entries:
            addr = int(entry["Address"], 16)
            res[addr] = [{k: f.get(k) for k in FRAME_KEYS}
                         for f in entry.get("Symbol", [])]
    return res


def main():
    profile, binary, out_path = sys.argv[1:4]
    raw = open(profile, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    strings, mappings, locations = parse_profile(raw)

    binary_build_id = None
    notes = subprocess.run(["readelf", "-n", binary], capture_output=True,
                           text=True, check=True).stdout
    for line in notes.splitlines():
        if "Build ID:" in line:
            binary_build_id = line.split("Build ID:")[1].strip()

    ours = []
    for loc in locations:
        m = mappings.get(loc.get(2, 0), {})
        if m and strings[m.get(6, 0)] == binary_build_id:
            ours.append(loc.get(3, 0))
    demangled = symbolize(binary, ours, [])
    mangled = symbolize(binary, ours, ["--no-demangle"])

    out = []
    for loc in locations:
        mid = loc.get(2, 0)
        m = mappings.get(mid, {})
        addr = loc.get(3, 0)
        rec = {
            "id": loc.get(1, 0),
            "address": f"0x{addr:x}",
            "mapping_id": mid,
            "mapping_filename": strings[m.get(5, 0)] if m else "",
            "mapping_build_id": strings[m.get(6, 0)] if m else "",
            "profile_lines": loc["lines"],
        }
        if m and rec["mapping_build_id"] == binary_build_id:
            rec["symbolizer_address"] = f"0x{addr:x}"
            rec["frames"] = demangled.get(addr, [])
            rec["frames_no_demangle"] = mangled.get(addr, [])
        else:
            rec["skipped"] = ("not the demo binary: "
                              + os.path.basename(rec["mapping_filename"] or "?"))
        out.append(rec)

    doc = {
        "profile": os.path.basename(profile),
        "binary": os.path.basename(binary),
        "binary_build_id": binary_build_id,
        "address_convention": (
            "Location.address is already an ELF virtual address (SVMA) in the "
            "mapped object, already minus 1 (return address - 1); "
            "symbolizer_address == address"),
        "llvm_symbolizer": subprocess.run(
            ["llvm-symbolizer", "--version"], capture_output=True,
            text=True).stdout.strip().splitlines()[:2],
        "llvm_symbolizer_command": ("llvm-symbolizer --obj=BINARY --inlining "
                                    "--output-style=JSON [--no-demangle] ADDR"),
        "mappings": [
            {"id": mid,
             "memory_start": f"0x{m.get(2, 0):x}",
             "memory_limit": f"0x{m.get(3, 0):x}",
             "file_offset": f"0x{m.get(4, 0):x}",
             "filename": strings[m.get(5, 0)],
             "build_id": strings[m.get(6, 0)]}
            for mid, m in sorted(mappings.items())],
        "locations": out,
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
