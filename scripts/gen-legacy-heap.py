#!/usr/bin/env python3
"""Generate a big, plausible legacy heap profile for benchmarks.

Needs: python3 (standard library only).
Makes: one heap profile text on stdout or -o FILE. Do NOT commit the output
(100k stacks are ~40 MB); benchmarks regenerate it.

Formats (--format):
  heapprofile  gperftools HEAPPROFILE dump: `heap profile: ... @ heapprofile`,
               alloc counts >= inuse counts (default)
  heap_v2      tcmalloc GetHeapSample: `... @ heap_v2/RATE` (--rate, default
               524288), alloc == inuse, sizes look sampled
  jemalloc     jemalloc prof.dump: `heap_v2/RATE`, `t*:` + per-thread `tN:`
               lines, `@ stack` lines
All end with `MAPPED_LIBRARIES:` and a /proc/self/maps-style section.

The process it pretends to be: a PIE main binary (split r--p / r-xp / r--p /
rw-p like a modern GNU ld output) and a dozen shared libraries (each split
the same way), plus [heap], anonymous areas, [stack], [vvar], [vdso],
[vsyscall]. Stacks are return addresses, leaf first, drawn from a fixed pool
of call sites (mostly in the main binary, some in libraries) so that stacks
share frames and suffixes the way real ones do: every stack ends in
`main <- __libc_start_call_main <- __libc_start_main <- _start`, depths
follow a long-tailed distribution (median ~20, 3..200 frames; --deep adds
three stacks of 5000..20000 frames, i.e. lines longer than the 64 KiB that
google/pprof's line scanner accepts), and some stacks repeat a recursive frame. Sizes follow a
mix of small objects and rare big blocks. Output is deterministic for a given
--seed.

Usage: gen-legacy-heap.py [--stacks N] [--format F] [--rate R] [--seed S]
                          [--deep] [-o OUT]
"""

import argparse
import random
import sys

PAGE = 0x1000


def build_maps(rng):
    """Returns (maps_lines, code_ranges) where code_ranges is a list of
    (name, start, end) for the r-xp lines."""
    lines = []
    code = []

    def obj(path, base, sizes, inode):
        # sizes: pages of r--p, r-xp, r--p (relro), rw-p
        r0, rx, r1, rw = (s * PAGE for s in sizes)
        off = 0
        segs = [("r--p", r0), ("r-xp", rx), ("r--p", r1), ("rw-p", rw)]
        addr = base
        for perm, size in segs:
            lines.append(f"{addr:08x}-{addr + size:08x} {perm} {off:08x} fe:00 {inode:<10d}"
                         f"                 {path}")
            if perm == "r-xp":
                code.append((path, addr, addr + size))
            addr += size
            off += size
        return addr

    exe_base = 0x55D0_0000_0000 + rng.randrange(0x1000) * 0x100000
    end = obj("/srv/app/bin/server", exe_base, (0x40, 0x600, 0x80, 0x10), 1310722)
    lines.append(f"{end:08x}-{end + 0x20 * PAGE:08x} rw-p 00000000 00:00 0 ")
    heap = end + 0x2000000
    lines.append(f"{heap:08x}-{heap + 0x4000000:08x} rw-p 00000000 00:00 0                          [heap]")
    libs = [
        ("/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4.5.10", (0x14, 0x26, 0x8, 0x2)),
        ("/usr/lib/x86_64-linux-gnu/libssl.so.3", (0x20, 0x80, 0x30, 0x4)),
        ("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", (0x90, 0x290, 0xb0, 0x10)),
        ("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", (0x3, 0x14, 0x6, 0x1)),
        ("/usr/lib/x86_64-linux-gnu/libprotobuf.so.32.0.12", (0x60, 0x160, 0x50, 0x8)),
        ("/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30", (0x99, 0x101, 0x6f, 0x3)),
        ("/usr/lib/x86_64-linux-gnu/libm.so.6", (0x10, 0x74, 0x5b, 0x1)),
        ("/usr/lib/x86_64-linux-gnu/libgcc_s.so.1", (0x3, 0x17, 0x4, 0x1)),
        ("/usr/lib/x86_64-linux-gnu/libc.so.6", (0x26, 0x156, 0x54, 0x6)),
        ("/srv/app/lib/libappcore.so", (0x30, 0x200, 0x40, 0x8)),
        ("/srv/app/lib/libstorage.so", (0x18, 0xc0, 0x20, 0x4)),
        ("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", (0x1, 0x26, 0xa, 0x2)),
    ]
    addr = 0x7F00_0000_0000 + rng.randrange(0x1000) * 0x1000000
    for i in range(64):  # thread arenas / stacks
        size = rng.choice((0x21, 0x800, 0x801, 0x4000)) * PAGE
        lines.append(f"{addr:08x}-{addr + size:08x} rw-p 00000000 00:00 0 ")
        addr += size + rng.choice((0, PAGE))
    for i, (path, sizes) in enumerate(libs):
        addr = (addr + 0xFFFFF) // 0x100000 * 0x100000
        addr = obj(path, addr, sizes, 326000 + 97 * i)
        if i % 3 == 0:
            lines.append(f"{addr:08x}-{addr + 2 * PAGE:08x} rw-p 00000000 00:00 0 ")
            addr += 2 * PAGE
    addr += 0x10 * PAGE
    for name, pages, perm in (("[vvar]", 4, "r--p"), ("[vvar_vclock]", 2, "r--p"), ("[vdso]", 2, "r-xp")):
        lines.append(f"{addr:08x}-{addr + pages * PAGE:08x} {perm} 00000000 00:00 0"
                     f"                          {name}")
        if name == "[vdso]":
            code.append((name, addr, addr + pages * PAGE))
        addr += pages * PAGE
    stack = 0x7FFC_0000_0000 + rng.randrange(0x10000) * PAGE
    lines.append(f"{stack:08x}-{stack + 0x21 * PAGE:08x} rw-p 00000000 00:00 0"
                 "                          [stack]")
    lines.append("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
                 "                  [vsyscall]")
    return lines, code


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stacks", type=int, default=100_000)
    ap.add_argument("--format", choices=["heapprofile", "heap_v2", "jemalloc"], default="heapprofile")
    ap.add_argument("--rate", type=int, default=524288)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deep", action="store_true", help="add a few 5000..20000-frame stacks")
    ap.add_argument("-o", "--output")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    maps, code = build_maps(rng)
    exe = [c for c in code if c[0] == "/srv/app/bin/server"][0]
    libs = [c for c in code if c[0] != "/srv/app/bin/server" and not c[0].startswith("[")]
    libc = [c for c in code if c[0].endswith("libc.so.6")][0]

    def site(rng_range):
        _, start, end = rng_range
        return rng.randrange(start + 0x40, end - 0x10)

    # Call-site pool: popular sites are reused a lot (Zipf-like by index).
    exe_sites = [site(exe) for _ in range(30000)]
    lib_sites = [site(rng.choice(libs)) for _ in range(6000)]
    alloc_leaf = [site(exe) for _ in range(2000)] + [site(rng.choice(libs)) for _ in range(500)]
    root = [site(exe), site(libc), site(libc), site(exe)]  # main, __libc_start_call_main, __libc_start_main, _start
    root[3] = exe[1] + 0x25  # _start near the start of .text

    def pick(pool):
        # Skewed towards the front of the pool.
        i = int(len(pool) * (rng.random() ** 2.5))
        return pool[i]

    def depth():
        d = int(rng.lognormvariate(3.0, 0.5))  # median ~20
        return max(3, min(d, 200))

    out = []
    w = out.append
    totals = [0, 0, 0, 0]
    records = []
    threads = 16
    deep_left = 3 if args.deep else 0
    for n in range(args.stacks):
        d = depth()
        if deep_left and n % (args.stacks // 4 + 1) == 7:
            d = rng.randrange(5000, 20000)
            deep_left -= 1
        frames = [pick(alloc_leaf)]
        body = d - 1 - len(root)
        if body > 0 and rng.random() < 0.1:  # recursion
            r = pick(exe_sites)
            k = min(body, rng.randrange(2, 30))
            frames += [r] * k
            body -= k
        for _ in range(max(body, 0)):
            frames.append(pick(lib_sites) if rng.random() < 0.15 else pick(exe_sites))
        frames += root
        # Sizes: mostly small objects, some medium, rare big blocks (few of
        # each), so the totals stay in the GB range.
        u = rng.random()
        if u < 0.80:
            size = rng.choice((8, 16, 24, 32, 48, 64, 96, 128, 256, 512))
            most = 50
        elif u < 0.99:
            size = rng.randrange(1, 64) * 1024
            most = 4
        else:
            size = rng.randrange(1, 64) * 1024 * 1024
            most = 1
        inuse_n = rng.randrange(0, most + 1) if rng.random() < 0.7 else 0
        alloc_n = inuse_n + rng.randrange(0, 4 * most)
        if alloc_n == 0:
            alloc_n = 1
        if args.format != "heapprofile":
            alloc_n = inuse_n = max(inuse_n, 1)
            if args.format == "jemalloc":
                alloc_n = 0  # prof_accum:false
        c = (inuse_n, inuse_n * size, alloc_n, alloc_n * size)
        totals = [a + b for a, b in zip(totals, c)]
        records.append((c, " ".join(f"0x{f:x}" for f in frames), rng.randrange(threads)))

    if args.format == "jemalloc":
        w(f"heap_v2/{args.rate}\n")
        w("  t*: %d: %d [%d: %d]\n" % tuple(totals))
        per_thread = {}
        for c, _, t in records:
            per_thread[t] = [a + b for a, b in zip(per_thread.get(t, [0, 0, 0, 0]), c)]
        for t in sorted(per_thread):
            w("  t%d: %d: %d [%d: %d]\n" % (t, *per_thread[t]))
        for c, stack, t in records:
            w(f"@ {stack}\n")
            w("  t*: %d: %d [%d: %d]\n" % c)
            w("  t%d: %d: %d [%d: %d]\n" % (t, *c))
        w("\nMAPPED_LIBRARIES:\n")
    else:
        kind = "heapprofile" if args.format == "heapprofile" else f"heap_v2/{args.rate}"
        w("heap profile: %6d: %8d [%6d: %8d] @ %s\n" % (*totals, kind))
        for c, stack, _ in records:
            w("%6d: %8d [%6d: %8d] @ %s\n" % (*c, stack))
        w("\nMAPPED_LIBRARIES:\n")
    w("\n".join(maps) + "\n")
    text = "".join(out)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
