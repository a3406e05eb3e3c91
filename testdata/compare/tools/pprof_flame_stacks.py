#!/usr/bin/env python3
"""Extract the data behind pprof's web flame graph (/ui/flamegraph) into two files.

Usage: pprof_flame_stacks.py URL OUT_PREFIX

URL is the flame graph page of a running `pprof -http=... -no_browser ...`. pprof embeds the data as the
argument of `stackViewer({...}, ...)` in that page: {Total, Scale, Type, Unit, Stacks: [{Value, Sources}],
Sources: [{FullName, FileName, UniqueName, Inlined, Display, Places, Self, Color}]}; each stack lists its
frames root first as indexes into Sources, Sources[0] being the synthetic "root".

Writes
  OUT_PREFIX.json    that object without the per-source "Places" lists (they only index back into Stacks),
                     otherwise unchanged (one source / one stack per line, keys sorted);
  OUT_PREFIX.folded  collapsed stacks derived from it: one line per distinct frame sequence (root frame
                     dropped, frames root first joined with ';', FullName only, inline frames as their own
                     frames), then a space and the summed Value; lines whose sum is 0 are left out; sorted.
Python 3 standard library only.
"""
import json
import sys
import urllib.request


def main():
    url, prefix = sys.argv[1], sys.argv[2]
    html = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    marker = "stackViewer({"
    start = html.index(marker) + len("stackViewer(")
    data, _ = json.JSONDecoder().raw_decode(html[start:])
    for src in data["Sources"]:
        src.pop("Places", None)
    with open(prefix + ".json", "w") as f:
        # One source / one stack per line, keys sorted: small and diffable.
        f.write("{\n")
        scalars = [k for k in sorted(data) if k not in ("Sources", "Stacks")]
        for k in scalars:
            f.write(f" {json.dumps(k)}: {json.dumps(data[k])},\n")
        for k in ("Sources", "Stacks"):
            f.write(f" {json.dumps(k)}: [\n")
            items = data[k]
            for i, item in enumerate(items):
                sep = "," if i + 1 < len(items) else ""
                f.write("  " + json.dumps(item, sort_keys=True, separators=(",", ":")) + sep + "\n")
            f.write(" ]" + ("," if k == "Sources" else "") + "\n")
        f.write("}\n")
    names = [s["FullName"] for s in data["Sources"]]
    sums = {}
    for st in data["Stacks"]:
        frames = [names[i] for i in st["Sources"]]
        if frames and frames[0] == "root":
            frames = frames[1:]
        key = ";".join(frames)
        sums[key] = sums.get(key, 0) + st["Value"]
    with open(prefix + ".folded", "w") as f:
        for key in sorted(sums):
            if sums[key] != 0:
                f.write(f"{key} {sums[key]}\n")


if __name__ == "__main__":
    main()
