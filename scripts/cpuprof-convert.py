#!/usr/bin/env python3
"""Derive other word sizes / byte orders of a gperftools CPU profile.

Needs: python3 (standard library only).
Makes: a HAND-BUILT (derived) copy of a real 64-bit little-endian gperftools
CPU profile in 32-bit little-endian, 32-bit big-endian or 64-bit big-endian
form. No program on this machine writes those; pprof's legacy reader accepts
all four (it tries 32-bit LE, 32-bit BE, 64-bit LE, 64-bit BE in that order).

The binary part is a sequence of machine words:
    header   0, 3, 0, <sampling period in microseconds>, 0
    records  <count>, <depth n>, <pc 1> ... <pc n>       (pc 1 is the leaf)
    trailer  0, 1, 0
followed by the process's memory map as text (/proc/self/maps lines).

64-bit big-endian: every word is byte-swapped; nothing else changes.

32-bit: the addresses of an x86-64 process do not fit in 32 bits, so the
address space is relocated. The maps lines are grouped into runs of adjacent
lines (one run = one object's consecutive segments, or one anonymous area).
A run that lies below 4 GiB already (a non-PIE main binary at 0x400000, its
brk heap) keeps its place. Every other run keeps its size and internal layout
but is moved below 4 GiB: in their original order, each at the next multiple
of 2 MiB after the previous one, starting at 0x10000000 (or above the kept
runs). 0x10000000 rather than 0x400000 because pprof rewrites a main mapping
whose start - offset is 0x400000. Every stack address
is moved with the run that contains it (an address equal to a run's end, a
return address just past the last instruction, goes with that run). Maps
lines are rewritten with the new start-end (printed with the kernel's %08lx)
and are otherwise unchanged, so file offsets, permissions and paths are the
same and every address keeps its offset within its object: symbolization
gives the same answers as for the 64-bit original.

Usage: cpuprof-convert.py IN.prof --to {32le,32be,64be} -o OUT.prof
"""

import argparse
import re
import struct
import sys

MAPS_RE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+)(\s.*)?$")
RUN_ALIGN = 0x200000
FIRST_START = 0x10000000
LIMIT_32 = 1 << 32


def read_words(data, fmt, size):
    """Parses header, records, trailer. Returns (header, records, rest)."""
    def word(off):
        return struct.unpack_from(fmt, data, off)[0]

    header = [word(i * size) for i in range(5)]
    if header[0] != 0 or header[1] != 3 or header[2] != 0 or header[3] == 0 or header[4] != 0:
        raise ValueError(f"not a gperftools CPU profile header: {header}")
    off = 5 * size
    records = []
    while True:
        count, depth = word(off), word(off + size)
        pcs = [word(off + (2 + i) * size) for i in range(depth)]
        off += (2 + depth) * size
        if count == 0 and depth == 1 and pcs[0] == 0:
            break
        records.append((count, pcs))
    return header, records, data[off:]


def relocate(records, maps_text):
    lines = maps_text.split("\n")
    entries = []  # (index, start, end)
    for i, line in enumerate(lines):
        m = MAPS_RE.match(line)
        if m:
            entries.append((i, int(m.group(1), 16), int(m.group(2), 16)))
    # Runs of adjacent lines.
    runs = []  # [start, end, [indexes]]
    for i, start, end in entries:
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
            runs[-1][2].append(i)
        else:
            runs.append([start, end, [i]])
    def align(a):
        return (a + RUN_ALIGN - 1) // RUN_ALIGN * RUN_ALIGN

    cursor = max([FIRST_START] + [align(end) for _, end, _ in runs if end <= LIMIT_32])
    moves = []  # (old_start, old_end, delta)
    for start, end, _ in runs:
        if end <= LIMIT_32:
            new_start = start
        else:
            new_start = cursor
            cursor = align(new_start + (end - start)) + RUN_ALIGN
        if new_start + (end - start) > LIMIT_32:
            raise ValueError("the maps do not fit in 32 bits")
        moves.append((start, end, new_start - start))

    def move(addr):
        for start, end, delta in moves:
            if start <= addr <= end:
                return addr + delta
        raise ValueError(f"address {addr:#x} is in no maps line")

    new_records = [(count, [move(pc) for pc in pcs]) for count, pcs in records]
    for (start, end, idxs), (_, _, delta) in zip(runs, moves):
        for i in idxs:
            m = MAPS_RE.match(lines[i])
            s, e = int(m.group(1), 16) + delta, int(m.group(2), 16) + delta
            lines[i] = f"{s:08x}-{e:08x}{m.group(3) or ''}"
    return new_records, "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("--to", required=True, choices=["32le", "32be", "64be"])
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    data = open(args.input, "rb").read()
    try:
        header, records, rest = read_words(data, "<Q", 8)
    except (ValueError, struct.error) as e:
        sys.exit(f"{args.input}: not a 64-bit little-endian gperftools CPU profile: {e}")
    if args.to == "64be":
        fmt = ">Q"
    else:
        fmt = "<I" if args.to == "32le" else ">I"
        try:
            records, text = relocate(records, rest.decode("latin-1"))
        except ValueError as e:
            sys.exit(f"{args.input}: {e}")
        rest = text.encode("latin-1")
    words = list(header)
    for count, pcs in records:
        words += [count, len(pcs)] + pcs
    words += [0, 1, 0]
    out = b"".join(struct.pack(fmt, w) for w in words) + rest
    with open(args.output, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
