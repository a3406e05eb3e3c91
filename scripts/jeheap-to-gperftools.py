#!/usr/bin/env python3
"""Rewrite a jemalloc native heap dump into the gperftools heap text pprof reads.

Needs: python3 (standard library only).
Makes: the gperftools `heap_v2/RATE` form of the same counts, on stdout or -o FILE.

jemalloc 5 `prof.dump` writes (what jeprof reads):

    heap_v2/524288
      t*: 28106: 56637512 [0: 0]          <- totals over all stacks
      t0: 28106: 56637512 [0: 0]          <- totals per thread (uid)
    @ 0x7f.. 0x55.. ...                   <- one stack (return addresses)
      t*: 13: 6688 [0: 0]                 <- that stack, all threads
      t3: 12: 6160 [0: 0]                 <- that stack, thread 3
    ...
    MAPPED_LIBRARIES:
    <the process's /proc/<pid>/maps>

google/pprof reads only the gperftools form, where every record carries its
counts and its stack on one line. This script writes, for the same numbers:

    heap profile: <t*> @ heap_v2/RATE         (the header's counts = global t*)
    <t*> @ 0x.. 0x..                          (one record per stack, in order)
    ...
    <blank line>
    MAPPED_LIBRARIES:
    <the maps section, verbatim>

Counts are `inuse_objects: inuse_bytes [alloc_objects: alloc_bytes]` copied
as jemalloc wrote them; pprof then unsamples `heap_v2/RATE` with
1/(1-exp(-avg/RATE)) per record, as jeprof does. (jemalloc 5.3 with its
default prof_unbias:true does not print raw sample counts: it keeps unbiased
sums and prints, per line, the "re-biased" pair that this estimator maps back
to them, rounded to integers. So the header `t*:` line is not the sum of the
stacks' `t*:` lines, and a stack's `tN:` lines need not add up to its `t*:`
line exactly. Nothing here checks those sums.) The per-thread `tN:` lines are
parsed (syntax only) and dropped. Numbers are padded the way gperftools pads
them (`%6d: %8d [%6d: %8d] @`).

Usage: jeheap-to-gperftools.py JEMALLOC_DUMP [-o OUT]
"""

import argparse
import re
import sys

HEADER_RE = re.compile(r"^heap_v2/(\d+)$")
COUNTS_RE = re.compile(r"^\s*t(\*|\d+): (\d+): (\d+) \[(\d+): (\d+)\]$")
STACK_RE = re.compile(r"^@((?: 0x[0-9a-f]+)+)$")


class Malformed(Exception):
    pass


def parse(lines):
    """Returns (rate, totals, [(stack_text, counts)], maps_lines)."""
    if not lines:
        raise Malformed("empty file")
    m = HEADER_RE.match(lines[0].rstrip("\n"))
    if not m:
        raise Malformed(f"line 1: not a jemalloc heap_v2 header: {lines[0].rstrip()!r}")
    rate = int(m.group(1))
    totals = None
    records = []
    current = None  # [stack_text, star_counts]

    def close(lineno):
        if current is None:
            return
        if current[1] is None:
            raise Malformed(f"before line {lineno}: stack without a t* line")
        records.append((current[0], current[1]))

    i = 1
    while i < len(lines):
        line = lines[i].rstrip("\n")
        lineno = i + 1
        if line.startswith("MAPPED_LIBRARIES:"):
            close(lineno)
            return rate, totals, records, lines[i + 1:]
        if line == "":
            i += 1
            continue
        m = STACK_RE.match(line)
        if m:
            close(lineno)
            current = [m.group(1).strip(), None]
            i += 1
            continue
        m = COUNTS_RE.match(line)
        if not m:
            raise Malformed(f"line {lineno}: unexpected line: {line!r}")
        who = m.group(1)
        counts = tuple(int(x) for x in m.group(2, 3, 4, 5))
        if who == "*":
            if current is None:
                if totals is not None:
                    raise Malformed(f"line {lineno}: second t* total line")
                totals = counts
            else:
                if current[1] is not None:
                    raise Malformed(f"line {lineno}: second t* line for one stack")
                current[1] = counts
        i += 1
    raise Malformed("no MAPPED_LIBRARIES: section")


def counts_text(c):
    return "%6d: %8d [%6d: %8d]" % c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump")
    ap.add_argument("-o", "--output")
    args = ap.parse_args()
    with open(args.dump, encoding="utf-8") as f:
        lines = f.readlines()
    try:
        rate, totals, records, maps = parse(lines)
    except Malformed as e:
        sys.exit(f"{args.dump}: {e}")
    if totals is None:
        sys.exit(f"{args.dump}: no t* totals line")
    out = [f"heap profile: {counts_text(totals)} @ heap_v2/{rate}\n"]
    for stack, c in records:
        out.append(f"{counts_text(c)} @ {stack}\n")
    out.append("\nMAPPED_LIBRARIES:\n")
    out.extend(maps)
    text = "".join(out)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
