#!/usr/bin/env python3
"""Minimal profile.proto reader (python3 stdlib only) for the fidelity fixture scripts.

Usage as a program:
  profile_pb.py strings  PROFILE   every string-table entry, one per line (repr'd)
  profile_pb.py mappings PROFILE   id, start, limit, offset, file, build_id, has_functions/filenames/line_numbers/
                                   inline_frames as 4 digits (TSV)
  profile_pb.py addrs    PROFILE   every distinct location address, sorted, 0x-hex
  profile_pb.py locs     PROFILE   id, address, mapping id, frames innermost first as
                                   "fn<function id>:<name>@<file>:<line>" (TSV)

As a module: load(path) -> dict with strings, mappings, locations, functions.
Field numbers are those of google/pprof's proto/profile.proto.
"""
import gzip
import sys


def _varint(b, i):
    v = 0
    shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def _fields(b):
    """Yields (field number, wire type, value) of one message; value is int or bytes."""
    i = 0
    n = len(b)
    while i < n:
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v = int.from_bytes(b[i:i + 8], "little")
            i += 8
        elif wt == 2:
            ln, i = _varint(b, i)
            v = b[i:i + ln]
            i += ln
        elif wt == 5:
            v = int.from_bytes(b[i:i + 4], "little")
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield f, wt, v


def _ints(wt, v):
    """A repeated integer field, packed (bytes) or not (int)."""
    if wt == 2:
        out = []
        i = 0
        while i < len(v):
            x, i = _varint(v, i)
            out.append(x)
        return out
    return [v]


def load(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    strings, mappings, locations, functions = [], [], [], []
    for f, wt, v in _fields(data):
        if f == 6:
            strings.append(v.decode("utf-8", "replace"))
        elif f == 3:
            m = {"id": 0, "start": 0, "limit": 0, "offset": 0, "file": 0, "build_id": 0,
                 "has_functions": 0, "has_filenames": 0, "has_line_numbers": 0, "has_inline_frames": 0}
            for g, _, x in _fields(v):
                key = {1: "id", 2: "start", 3: "limit", 4: "offset", 5: "file", 6: "build_id", 7: "has_functions",
                       8: "has_filenames", 9: "has_line_numbers", 10: "has_inline_frames"}.get(g)
                if key:
                    m[key] = x
            mappings.append(m)
        elif f == 4:
            loc = {"id": 0, "mapping": 0, "address": 0, "lines": []}
            for g, gwt, x in _fields(v):
                if g == 1:
                    loc["id"] = x
                elif g == 2:
                    loc["mapping"] = x
                elif g == 3:
                    loc["address"] = x
                elif g == 4:
                    ln = {"function": 0, "line": 0}
                    for h, _, y in _fields(x):
                        if h == 1:
                            ln["function"] = y
                        elif h == 2:
                            ln["line"] = y
                    loc["lines"].append(ln)
            locations.append(loc)
        elif f == 5:
            fn = {"id": 0, "name": 0, "system_name": 0, "filename": 0, "start_line": 0}
            for g, _, x in _fields(v):
                key = {1: "id", 2: "name", 3: "system_name", 4: "filename", 5: "start_line"}.get(g)
                if key:
                    fn[key] = x
            functions.append(fn)
    for m in mappings:
        m["file"] = strings[m["file"]]
        m["build_id"] = strings[m["build_id"]]
    for fn in functions:
        for k in ("name", "system_name", "filename"):
            fn[k] = strings[fn[k]]
    return {"strings": strings, "mappings": mappings, "locations": locations,
            "functions": {fn["id"]: fn for fn in functions}}


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    p = load(path)
    if cmd == "strings":
        for s in p["strings"]:
            print(repr(s))
    elif cmd == "mappings":
        for m in p["mappings"]:
            flags = "%d%d%d%d" % (m["has_functions"], m["has_filenames"], m["has_line_numbers"], m["has_inline_frames"])
            print("%d\t%#x\t%#x\t%#x\t%s\t%s\t%s" % (m["id"], m["start"], m["limit"], m["offset"], m["file"],
                                                   m["build_id"], flags))
    elif cmd == "addrs":
        for a in sorted({loc["address"] for loc in p["locations"]}):
            print("%#x" % a)
    elif cmd == "locs":
        for loc in p["locations"]:
            frames = []
            for ln in loc["lines"]:
                fn = p["functions"].get(ln["function"], {"id": 0, "name": "?", "filename": "?"})
                frames.append("fn%d:%s@%s:%d" % (fn["id"], fn["name"], fn["filename"], ln["line"]))
            print("%d\t%#x\t%d\t%s" % (loc["id"], loc["address"], loc["mapping"], "\t".join(frames)))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
