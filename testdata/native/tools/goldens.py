#!/usr/bin/env python3
"""Peer goldens for testdata/native (stdlib only; run by scripts/regen-native-fixtures.sh).

  goldens.py frames PROFILE.pb.gz OUT.json    per-location frames for a profile
  goldens.py addr2line OUTDIR                 addr2line / llvm-symbolizer tables
  goldens.py maps MAPS.txt RUNTIME.txt OUT    expected vaddrs for a captured maps

All addresses in the JSON files are lower-case hex strings ("0x..."), because
JSON numbers cannot carry 64-bit values safely.
"""
import gzip
import json
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NATIVE = os.path.dirname(HERE)          # testdata/native
BIN = os.path.join(NATIVE, "bin")
OUR_BINARIES = ["cdemo", "cdemo.nopie", "cppdemo", "libnativedemo.so"]


def hx(v):
    return "0x%x" % v


def run(cmd, stdin=None):
    """Runs a command from testdata/native (so binary paths stay relative)."""
    r = subprocess.run(cmd, cwd=NATIVE, input=stdin, capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C"))
    return r.returncode, r.stdout, r.stderr


# ---------------------------------------------------------------- protobuf ---

def _varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def _fields(buf):
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v = struct.unpack_from("<Q", buf, i)[0]
            i += 8
        elif wt == 2:
            n, i = _varint(buf, i)
            v = buf[i:i + n]
            i += n
        elif wt == 5:
            v = struct.unpack_from("<I", buf, i)[0]
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, v


def _packed_or_single(wt, v):
    if wt == 2:
        out, i = [], 0
        while i < len(v):
            x, i = _varint(v, i)
            out.append(x)
        return out
    return [v]


def read_profile(path):
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    strings, mappings, locations, functions = [], [], [], 0
    for num, wt, v in _fields(data):
        if num == 6:
            strings.append(v.decode())
        elif num == 3:
            m = {"id": 0, "start": 0, "limit": 0, "offset": 0, "file": 0, "build_id": 0}
            for n2, _, v2 in _fields(v):
                key = {1: "id", 2: "start", 3: "limit", 4: "offset", 5: "file", 6: "build_id"}.get(n2)
                if key:
                    m[key] = v2
            mappings.append(m)
        elif num == 4:
            loc = {"id": 0, "mapping_id": 0, "address": 0, "lines": 0}
            for n2, wt2, v2 in _fields(v):
                if n2 == 1:
                    loc["id"] = v2
                elif n2 == 2:
                    loc["mapping_id"] = v2
                elif n2 == 3:
                    loc["address"] = v2
                elif n2 == 4:
                    loc["lines"] += 1
            locations.append(loc)
        elif num == 5:
            functions += 1
    for m in mappings:
        m["file"] = strings[m["file"]]
        m["build_id"] = strings[m["build_id"]]
    return {"mappings": mappings, "locations": locations, "functions": functions}


# --------------------------------------------------------------------- ELF ---

def elf_info(path):
    """ELF64 little-endian header type and PT_LOAD program headers."""
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("%s: not an ELF64 LE file" % path)
    e_type = struct.unpack_from("<H", data, 16)[0]
    e_phoff = struct.unpack_from("<Q", data, 32)[0]
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    loads = []
    for k in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_align = \
            struct.unpack_from("<IIQQQQQQ", data, e_phoff + k * e_phentsize)
        if p_type == 1:
            loads.append({"index": len(loads), "offset": p_offset, "vaddr": p_vaddr,
                          "filesz": p_filesz, "memsz": p_memsz, "align": p_align,
                          "flags": "".join(c if p_flags & b else " " for c, b in
                                           (("R", 4), ("W", 2), ("E", 1))).replace(" ", "")})
    return {"type": {2: "ET_EXEC", 3: "ET_DYN"}.get(e_type, str(e_type)), "loads": loads}


def headers_for_mapping(loads, map_off, map_size):
    """google/pprof elfexec.ProgramHeadersForMapping."""
    page = 4096
    map_limit = map_off + map_size
    out = []
    for p in loads:
        if p["filesz"] == 0:
            continue
        seg_limit = p["offset"] + p["memsz"]
        if not (map_off < seg_limit and p["offset"] < map_limit):
            continue
        align = p["align"] if p["align"] else 1
        mod = p["vaddr"] & (align - 1)
        aligned_seg_off = p["offset"] - mod if p["offset"] > mod else 0
        if map_off < aligned_seg_off:
            continue
        if map_off > p["offset"] and seg_limit < map_off + page and map_limit >= seg_limit + page:
            continue
        out.append(p)
    return out


def pick_header(loads, start, limit, offset, addr):
    cands = headers_for_mapping(loads, offset, limit - start)
    if not cands:
        return None, "no program header matches mapping info"
    if len(cands) == 1:
        return cands[0], None
    fo = addr - start + offset
    hit = [p for p in cands if p["offset"] <= fo < p["offset"] + p["memsz"]]
    if len(hit) != 1:
        return None, "%d headers contain file offset %s" % (len(hit), hx(fo))
    return hit[0], None


def load_info(p):
    return {"index": p["index"], "p_offset": hx(p["offset"]), "p_vaddr": hx(p["vaddr"]),
            "p_filesz": hx(p["filesz"]), "p_memsz": hx(p["memsz"]), "p_align": hx(p["align"]),
            "flags": p["flags"]}


# ----------------------------------------------------------- symbolizers ---

FRAME_KEYS = ["FunctionName", "FileName", "Line", "Column", "StartLine", "Discriminator",
              "StartAddress"]


def llvm_symbolize(binary, addrs, demangle=True, inlining=True):
    cmd = ["llvm-symbolizer"] + (["--inlining"] if inlining else ["--no-inlines"])
    cmd += ["--output-style=JSON"] + ([] if demangle else ["--no-demangle"])
    cmd += ["--obj=" + binary] + [hx(a) for a in addrs]
    rc, out, err = run(cmd)
    if rc != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), err))
    res = json.loads(out) if out.strip() else []
    if isinstance(res, dict):
        res = [res]
    return cmd, res


def frames_of(entry):
    return [{k: s.get(k) for k in FRAME_KEYS} for s in entry.get("Symbol", [])]


# ------------------------------------------------------------- profiles ---

def resolve_binary(mapping_file):
    """Maps a recorded mapping file name onto a committed binary (by basename)."""
    base = os.path.basename(mapping_file)
    if base in OUR_BINARIES:
        return "bin/" + base
    return None


def cmd_frames(profile, out_path):
    prof = read_profile(profile)
    maps = {m["id"]: m for m in prof["mappings"]}
    main_file = prof["mappings"][0]["file"] if prof["mappings"] else ""
    mapping_out, per_binary = [], {}
    for m in prof["mappings"]:
        binary = resolve_binary(m["file"])
        ent = {"id": m["id"], "start": hx(m["start"]), "limit": hx(m["limit"]),
               "offset": hx(m["offset"]), "file": m["file"], "build_id": m["build_id"],
               "binary": binary}
        if binary:
            info = elf_info(os.path.join(NATIVE, binary))
            ent["elf_type"] = info["type"]
            ent["candidate_pt_loads"] = [load_info(p) for p in headers_for_mapping(
                info["loads"], m["offset"], m["limit"] - m["start"])]
        mapping_out.append(ent)
    locs_out, skipped = [], []
    for loc in sorted(prof["locations"], key=lambda l: l["id"]):
        m = maps.get(loc["mapping_id"])
        binary = resolve_binary(m["file"]) if m else None
        ent = {"id": loc["id"], "address": hx(loc["address"]),
               "return_address": hx(loc["address"] + 1),
               "mapping_id": loc["mapping_id"], "mapping_file": m["file"] if m else None}
        if not binary:
            ent["status"] = "skipped"
            ent["reason"] = "mapping is not one of our binaries"
            skipped.append(loc["id"])
            locs_out.append(ent)
            continue
        info = elf_info(os.path.join(NATIVE, binary))
        hdr, err = pick_header(info["loads"], m["start"], m["limit"], m["offset"], loc["address"])
        if hdr is None:
            ent["status"] = "error"
            ent["reason"] = err
            locs_out.append(ent)
            continue
        base = (m["start"] - m["offset"] + hdr["offset"] - hdr["vaddr"]) & (2**64 - 1)
        vaddr = (loc["address"] - base) & (2**64 - 1)
        ent.update({"status": "symbolized", "binary": binary, "pt_load": load_info(hdr),
                    "is_data": "E" not in hdr["flags"],
                    "file_offset": hx(loc["address"] - m["start"] + m["offset"]),
                    "base": hx(base), "vaddr": hx(vaddr)})
        per_binary.setdefault(binary, []).append((ent, vaddr))
        locs_out.append(ent)
    commands = []
    for binary, items in sorted(per_binary.items()):
        addrs = [v for _, v in items]
        for demangle in (True, False):
            cmd, res = llvm_symbolize(binary, addrs, demangle=demangle)
            commands.append(" ".join(cmd))
            for (ent, _), r in zip(items, res):
                ent["frames" if demangle else "frames_raw"] = frames_of(r)
    # What the legacy parser did: every frame of the .heap file, minus 1.
    heap_path = profile[:-len(".pb.gz")] + ".heap"
    legacy = None
    if os.path.exists(heap_path):
        heap_addrs = set()
        for line in open(heap_path):
            if " @ " in line and not line.startswith("heap profile"):
                heap_addrs.update(int(a, 16) for a in line.split(" @ ", 1)[1].split())
        loc_addrs = {l["address"] for l in prof["locations"]}
        legacy = {"heap_file": os.path.relpath(heap_path, NATIVE),
                  "distinct_heap_frames": len(heap_addrs),
                  "locations": len(loc_addrs),
                  "every_location_is_heap_frame_minus_1":
                      loc_addrs == {a - 1 for a in heap_addrs}}
        assert legacy["every_location_is_heap_frame_minus_1"], legacy
    golden = {
        "profile": os.path.relpath(profile, NATIVE),
        "legacy_conversion": legacy,
        "main_mapping_file": main_file,
        "notes": [
            "Locations come from the unsymbolized profile.proto written by "
            "`go tool pprof -proto -symbolize=none` from the gperftools .heap file.",
            "address = runtime address as stored in the profile; pprof's legacy heap parser "
            "already subtracted 1 from every frame, so return_address = address + 1 is the "
            "value written in the .heap file.",
            "vaddr = address - base, base = start - offset + p_offset - p_vaddr of the PT_LOAD "
            "chosen as in google/pprof elfexec (ProgramHeadersForMapping, then "
            "HeaderForFileOffset when several match).",
            "frames: llvm-symbolizer --inlining --output-style=JSON (demangled); frames_raw: "
            "same with --no-demangle. Innermost frame first.",
            "Mappings are resolved to committed binaries by basename (bin/<basename>); the others "
            "are skipped.",
        ],
        "llvm_symbolizer_commands": commands,
        "mappings": mapping_out,
        "locations": locs_out,
        "skipped_location_ids": skipped,
    }
    with open(out_path, "w") as f:
        json.dump(golden, f, indent=1, sort_keys=False)
        f.write("\n")


# ------------------------------------------------------------ addr2line ---

def symbols(binary):
    """(name, value, size, type) from `nm -S --defined-only` (symtab, or dynsym with -D)."""
    rc, out, _ = run(["nm", "-S", "--defined-only", binary])
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            syms.setdefault(parts[3], (int(parts[0], 16), int(parts[1], 16), parts[2]))
    return syms


def plt_stubs(binary):
    rc, out, _ = run(["objdump", "-d", "-j", ".plt", "-j", ".plt.sec", binary])
    return {m.group(2): int(m.group(1), 16)
            for m in re.finditer(r"^([0-9a-f]+) <([^>]+@plt)>:", out, re.M)}


def text_insns(binary):
    rc, out, _ = run(["objdump", "-d", "--no-show-raw-insn", "-j", ".text", binary])
    return [int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):\s", out, re.M)]


ADDR_SPECS = {
    # binary: (functions, data symbols (name, extra offset))
    "cdemo": (["main", "build_records", "recurse_alloc", "load_library_data", "where_am_i"],
              [("g_counter", 0), ("g_bss_buf", 0), ("g_bss_buf", 0x18), ("g_banner", 0),
               ("g_banner", 5)]),
    "cdemo.nopie": (["main", "build_records", "recurse_alloc", "load_library_data", "where_am_i"],
                    [("g_counter", 0), ("g_bss_buf", 0), ("g_bss_buf", 0x18), ("g_banner", 0),
                     ("g_banner", 5)]),
    "cppdemo": (["main", "_ZN4demo11run_lambdasEi",
                 "_ZN4demo5store4PoolINS0_6WidgetEE4fillEm",
                 "_ZN4demo5store8Registry3addERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEi",
                 "_ZNK4demo5store8Registry12make_widgetsEm.isra.0",
                 "_ZNSt17_Function_handlerIFPciEZN4demo11run_lambdasEiEUliE_E9_M_invokeERKSt9_Any_dataOi",
                 "_ZN4demo11run_lambdasEi.cold"],
                [("_ZN4demo12g_generationE", 0), ("_ZN4demo9g_scratchE", 0),
                 ("_ZN4demo9g_scratchE", 0x10), ("_ZN4demo7g_labelE", 0), ("_ZN4demo7g_labelE", 5)]),
    "libnativedemo.so": (["nd_make_table", "nd_dup_string"],
                         [("nd_data_version", 0), ("nd_bss_counter", 0), ("nd_rodata_name", 0),
                          ("nd_rodata_name", 5)]),
}
# Variants answered for the same addresses as their parent.
VARIANTS = {"cdemo": ["cdemo.nodebug", "cdemo.stripped", "cdemo.split", "cdemo.zdebug"],
            "cppdemo": ["cppdemo.nodebug", "cppdemo.stripped"],
            "libnativedemo.so": ["libnativedemo.so.nodebug", "libnativedemo.so.stripped"]}


def address_list(name):
    binary = "bin/" + name
    funcs, datas = ADDR_SPECS[name]
    syms = symbols(binary)
    info = elf_info(os.path.join(NATIVE, binary))
    out = []
    for f in funcs:
        if f not in syms:  # compiler-version dependent names (.isra.0, .cold)
            print("warning: %s: no symbol %s" % (binary, f), file=sys.stderr)
            continue
        v, size, _ = syms[f]
        out.append({"address": v, "kind": "function_entry", "symbol": f})
        out.append({"address": v + size // 2, "kind": "mid_function", "symbol": f,
                    "note": "entry + size/2 = %s + %s" % (hx(v), hx(size // 2))})
    # Deepest inline chain in .text: first instruction with the most frames.
    insns = text_insns(binary)
    _, res = llvm_symbolize(binary, insns)
    best = max(range(len(insns)), key=lambda k: (len(res[k].get("Symbol", [])), -k))
    out.append({"address": insns[best], "kind": "inlined_code",
                "note": "first .text instruction with the deepest inline chain (%d frames)"
                        % len(res[best].get("Symbol", []))})
    plts = plt_stubs(binary)
    for stub in ("malloc@plt", "_Znwm@plt", "calloc@plt"):
        if stub in plts:
            out.append({"address": plts[stub], "kind": "plt_stub", "symbol": stub})
            break
    for d, extra in datas:
        v, size, t = syms[d]
        out.append({"address": v + extra, "kind": "data", "symbol": d, "offset": extra,
                    "nm_type": t})
    end = max(p["vaddr"] + p["memsz"] for p in info["loads"])
    out.append({"address": end + 0x1000, "kind": "past_end",
                "note": "highest PT_LOAD end %s + 0x1000" % hx(end)})
    return out


def cmd_addr2line(outdir):
    os.makedirs(outdir, exist_ok=True)
    for parent in ADDR_SPECS:
        addrs = address_list(parent)
        for name in [parent] + VARIANTS.get(parent, []):
            binary = "bin/" + name
            stdin = "".join(hx(a["address"]) + "\n" for a in addrs)
            runs = []
            for cmd in (["addr2line", "-f", "-i", "-C", "-a", "-e", binary],
                        ["addr2line", "-f", "-i", "-a", "-e", binary]):
                rc, out, err = run(cmd, stdin)
                runs.append({"command": " ".join(cmd), "stdin": "addresses, one per line",
                             "exit_code": rc, "stdout": out.splitlines(), "stderr": err})
            for kind in ("CODE", "DATA"):
                cmd = ["llvm-symbolizer", "--inlining", "--output-style=JSON", "--obj=" + binary]
                lines = "".join("%s %s\n" % (kind, hx(a["address"])) for a in addrs)
                rc, out, err = run(cmd, lines)
                runs.append({"command": " ".join(cmd),
                             "stdin": "'%s 0x<addr>' per line" % kind,
                             "exit_code": rc,
                             "stdout": [json.loads(l) for l in out.splitlines() if l.strip()],
                             "stderr": err})
            golden = {"binary": binary, "addresses_from": "bin/" + parent,
                      "addresses": [dict(a, address=hx(a["address"])) for a in addrs],
                      "runs": runs}
            with open(os.path.join(outdir, name + ".json"), "w") as f:
                json.dump(golden, f, indent=1)
                f.write("\n")


# ----------------------------------------------------------------- maps ---

def cmd_maps(maps_path, runtime_path, out_path):
    """Expected vaddrs for runtime addresses printed by `cdemo` next to its maps."""
    entries = []
    for line in open(maps_path):
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \d+\s*(.*)$", line.rstrip("\n"))
        if m:
            entries.append({"start": int(m.group(1), 16), "limit": int(m.group(2), 16),
                            "perms": m.group(3), "offset": int(m.group(4), 16),
                            "file": m.group(5)})
    out = []
    for line in open(runtime_path):
        parts = line.split()
        if len(parts) != 3 or parts[0] != "RUNTIME":
            continue
        name, addr = parts[1], int(parts[2], 16)
        idx = next((k for k, e in enumerate(entries) if e["start"] <= addr < e["limit"]), None)
        ent = {"name": name, "runtime_address": hx(addr)}
        if idx is None:
            ent["error"] = "no mapping"
            out.append(ent)
            continue
        e = entries[idx]
        if not e["file"] and idx > 0 and entries[idx - 1]["limit"] == e["start"] \
                and resolve_binary(entries[idx - 1]["file"]):
            # .bss beyond the last file-backed page lives in an anonymous mapping
            # right after the binary's rw-p line; the base is that line's base.
            ent["anonymous_maps_line"] = {"start": hx(e["start"]), "limit": hx(e["limit"]),
                                          "perms": e["perms"], "offset": hx(e["offset"])}
            ent["note"] = ("address is in the anonymous mapping adjacent to the binary's last "
                           "file-backed line (.bss past the end of the file); base computed "
                           "from that preceding line")
            e = dict(entries[idx - 1])
            e["limit"] = entries[idx]["limit"]
        binary = resolve_binary(e["file"])
        ent.update({"maps_line": {"start": hx(e["start"]), "limit": hx(e["limit"]),
                                  "perms": e["perms"], "offset": hx(e["offset"]),
                                  "file": e["file"]}, "binary": binary})
        if binary:
            info = elf_info(os.path.join(NATIVE, binary))
            hdr, err = pick_header(info["loads"], e["start"], e["limit"], e["offset"], addr)
            if hdr is None:
                ent["error"] = err
            else:
                base = e["start"] - e["offset"] + hdr["offset"] - hdr["vaddr"]
                ent.update({"pt_load": load_info(hdr), "base": hx(base),
                            "vaddr": hx(addr - base)})
                syms = symbols(binary)
                sym = "where_am_i" if name == "where_am_i_return" else name
                if sym in syms and name != "where_am_i_return":
                    ent["symtab_value"] = hx(syms[sym][0])
                    assert syms[sym][0] == addr - base, (name, hx(addr - base))
        out.append(ent)
    golden = {"maps": os.path.relpath(maps_path, NATIVE),
              "notes": ["Each runtime address is looked up in the maps line that contains it "
                        "(whatever its permissions: data lines too); vaddr = addr - base with "
                        "base = start - offset + p_offset - p_vaddr (pprof rule).",
                        "symtab_value is the symbol's st_value, which must equal vaddr."],
              "addresses": out}
    with open(out_path, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "frames":
        cmd_frames(sys.argv[2], sys.argv[3])
    elif what == "addr2line":
        cmd_addr2line(sys.argv[2])
    elif what == "maps":
        cmd_maps(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + what)
