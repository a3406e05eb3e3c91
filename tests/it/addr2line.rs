//! `pprofsym addr2line` against the committed peer answers in
//! `testdata/native/goldens/addr2line/` (GNU addr2line 2.40 and llvm-symbolizer on the
//! same binaries and addresses) and `testdata/gopclntab/` (llvm-symbolizer on Go DWARF 5,
//! which GNU 2.40 cannot read).
//!
//! Rule for the text output: every block equals GNU's (discriminators aside, which we do
//! not print). Where it does not, the address must be listed in [`DEVIATIONS`] with the
//! reason, and each frame must then agree with llvm-symbolizer, or differ from GNU only by
//! a GCC clone suffix that the symbol table keeps (as llvm does), spelled as GNU's demangler
//! spells it (` [clone .isra.0]`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::common;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn native(rel: &str) -> PathBuf {
    Path::new(ROOT).join("testdata/native").join(rel)
}

fn golden(name: &str) -> Value {
    let p = native(&format!("goldens/addr2line/{name}"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Run `pprofsym addr2line ARGS` with `stdin`; (stdout, stderr, success).
fn run(args: &[&str], stdin: &str) -> (String, String, bool) {
    common::run_addr2line(args, stdin)
}

/// Split GNU-style `-a` output into per-address blocks of (name, location) frames.
fn blocks(text: &[String]) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut pending: Option<String> = None;
    for l in text {
        let is_addr = l.len() == 18 && l.starts_with("0x") && l[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if is_addr {
            out.push((l.clone(), Vec::new()));
            continue;
        }
        match pending.take() {
            None => pending = Some(l.clone()),
            Some(name) => {
                let loc = l.split(" (discriminator").next().unwrap().to_string();
                out.last_mut().unwrap().1.push((name, loc));
            }
        }
    }
    assert!(pending.is_none(), "odd number of lines in a block");
    out
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// llvm-symbolizer's CODE answer in GNU's text form (a name without a line is `??:?`,
/// as GNU prints symbol-table-only answers).
fn llvm_frames(ans: &Value) -> Vec<(String, String)> {
    ans["Symbol"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let name = s["FunctionName"].as_str().unwrap();
            let file = s["FileName"].as_str().unwrap();
            let line = s["Line"].as_u64().unwrap();
            let loc = if name.is_empty() && file.is_empty() && line == 0 {
                "??:0".to_string()
            } else {
                let l = if line == 0 { "?".to_string() } else { line.to_string() };
                format!("{}:{l}", if file.is_empty() { "??" } else { file })
            };
            (if name.is_empty() { "??".into() } else { name.into() }, loc)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// Data address. GNU prints the variable's DWARF declaration line under an unrelated
    /// nearby symbol (`data_start`) or `??`; we name the object symbol containing it, as
    /// llvm-symbolizer does (its line is unknown: `??:?`).
    Data,
    /// PLT stub: GNU `??`; we (and llvm-symbolizer) give the nearest preceding sizeless
    /// code symbol, `_init`. No synthetic `name@plt` symbols yet.
    Plt,
    /// The physical function keeps its GCC clone suffix from the symbol table
    /// (`[clone .isra.0]`), as llvm-symbolizer does (`(.isra.0)`); GNU prints the DWARF name
    /// without it. (Cold partitions, `.cold`, are named by DWARF, as GNU does.)
    CloneSuffix,
    /// GNU is wrong: it names the inlined lambda `operator()` after the function it was
    /// inlined into, and pairs line 288 with the caller's file; llvm-symbolizer and we
    /// agree.
    GnuInline,
}

/// Every (golden, address) where our `-f -i -C -a` text differs from GNU addr2line's.
const DEVIATIONS: &[(&str, u64, Why)] = &[
    ("cdemo", 0x1090, Why::Plt),
    ("cdemo", 0x4058, Why::Data),
    ("cdemo", 0x60a0, Why::Data),
    ("cdemo", 0x60b8, Why::Data),
    ("cdemo", 0x21a0, Why::Data),
    ("cdemo", 0x21a5, Why::Data),
    ("cdemo.nodebug", 0x1090, Why::Plt),
    ("cdemo.nodebug", 0x4058, Why::Data),
    ("cdemo.nodebug", 0x60a0, Why::Data),
    ("cdemo.nodebug", 0x60b8, Why::Data),
    ("cdemo.nodebug", 0x21a0, Why::Data),
    ("cdemo.nodebug", 0x21a5, Why::Data),
    ("cdemo.nopie", 0x4010b0, Why::Plt),
    ("cdemo.nopie", 0x404068, Why::Data),
    ("cdemo.nopie", 0x4060c0, Why::Data),
    ("cdemo.nopie", 0x4060d8, Why::Data),
    ("cdemo.nopie", 0x4021a0, Why::Data),
    ("cdemo.nopie", 0x4021a5, Why::Data),
    ("cdemo.split", 0x1090, Why::Plt),
    ("cdemo.split", 0x4058, Why::Data),
    ("cdemo.split", 0x60a0, Why::Data),
    ("cdemo.split", 0x60b8, Why::Data),
    ("cdemo.split", 0x21a0, Why::Data),
    ("cdemo.split", 0x21a5, Why::Data),
    ("cdemo.zdebug", 0x1090, Why::Plt),
    ("cdemo.zdebug", 0x4058, Why::Data),
    ("cdemo.zdebug", 0x60a0, Why::Data),
    ("cdemo.zdebug", 0x60b8, Why::Data),
    ("cdemo.zdebug", 0x21a0, Why::Data),
    ("cdemo.zdebug", 0x21a5, Why::Data),
    ("cppdemo", 0x1930, Why::CloneSuffix),
    ("cppdemo", 0x1949, Why::CloneSuffix),
    ("cppdemo", 0x18f0, Why::GnuInline),
    ("cppdemo", 0x1900, Why::GnuInline),
    ("cppdemo", 0x10e0, Why::Plt),
    ("cppdemo", 0x50d8, Why::Data),
    ("cppdemo", 0x5120, Why::Data),
    ("cppdemo", 0x5130, Why::Data),
    ("cppdemo", 0x30c0, Why::Data),
    ("cppdemo", 0x30c5, Why::Data),
    ("cppdemo.nodebug", 0x10e0, Why::Plt),
    ("cppdemo.nodebug", 0x50d8, Why::Data),
    ("cppdemo.nodebug", 0x5120, Why::Data),
    ("cppdemo.nodebug", 0x5130, Why::Data),
    ("cppdemo.nodebug", 0x30c0, Why::Data),
    ("cppdemo.nodebug", 0x30c5, Why::Data),
    ("libnativedemo.so", 0x1060, Why::Plt),
    ("libnativedemo.so", 0x4028, Why::Data),
    ("libnativedemo.so", 0x4038, Why::Data),
    ("libnativedemo.so", 0x2000, Why::Data),
    ("libnativedemo.so", 0x2005, Why::Data),
    ("libnativedemo.so.nodebug", 0x1060, Why::Plt),
    ("libnativedemo.so.nodebug", 0x4028, Why::Data),
    ("libnativedemo.so.nodebug", 0x4038, Why::Data),
    ("libnativedemo.so.nodebug", 0x2000, Why::Data),
    ("libnativedemo.so.nodebug", 0x2005, Why::Data),
    ("libnativedemo.so.stripped", 0x4028, Why::Data),
    ("libnativedemo.so.stripped", 0x4038, Why::Data),
    ("libnativedemo.so.stripped", 0x2000, Why::Data),
    ("libnativedemo.so.stripped", 0x2005, Why::Data),
];

const GOLDENS: &[&str] = &[
    "cdemo",
    "cdemo.nodebug",
    "cdemo.nopie",
    "cdemo.split",
    "cdemo.stripped",
    "cdemo.zdebug",
    "cppdemo",
    "cppdemo.nodebug",
    "cppdemo.stripped",
    "libnativedemo.so",
    "libnativedemo.so.nodebug",
    "libnativedemo.so.stripped",
];

fn addresses(g: &Value) -> Vec<String> {
    g["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect()
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn text_output_equals_gnu_addr2line_or_documented_llvm_answer() {
    let mut seen = Vec::new();
    for name in GOLDENS {
        let g = golden(&format!("{name}.json"));
        let bin = native(g["binary"].as_str().unwrap());
        let bin = bin.to_str().unwrap();
        let addrs = addresses(&g);
        let stdin = addrs.join("\n") + "\n";
        let runs = g["runs"].as_array().unwrap();
        assert_eq!(
            runs[0]["command"].as_str().unwrap().split(" -e ").next(),
            Some("addr2line -f -i -C -a")
        );
        assert_eq!(
            runs[1]["command"].as_str().unwrap().split(" -e ").next(),
            Some("addr2line -f -i -a")
        );
        let gnu = blocks(&strings(&runs[0]["stdout"]));
        let gnu_raw = blocks(&strings(&runs[1]["stdout"]));
        let llvm = runs[2]["stdout"].as_array().unwrap();

        let (out, _, ok) = run(&["-f", "-i", "-C", "-a", "-e", bin], &stdin);
        assert!(ok);
        let ours = blocks(&out.lines().map(str::to_string).collect::<Vec<_>>());
        let (out_raw, _, ok) = run(&["-f", "-i", "-a", "-e", bin], &stdin);
        assert!(ok);
        let ours_raw = blocks(&out_raw.lines().map(str::to_string).collect::<Vec<_>>());
        assert_eq!(ours.len(), addrs.len(), "{name}");

        for (i, a) in addrs.iter().enumerate() {
            let addr = hex(a);
            assert_eq!(ours[i].0, format!("0x{addr:016x}"));
            assert_eq!(ours[i].0, gnu[i].0);
            if ours[i] == gnu[i] {
                continue;
            }
            let why = DEVIATIONS
                .iter()
                .find(|(n, x, _)| n == name && *x == addr)
                .map(|d| d.2)
                .unwrap_or_else(|| {
                    panic!(
                        "{name} {a}: undocumented difference from GNU\nours {:?}\ngnu  {:?}",
                        ours[i].1, gnu[i].1
                    )
                });
            seen.push((name.to_string(), addr));
            let l = llvm_frames(&llvm[i]);
            let (o, gf) = (&ours[i].1, &gnu[i].1);
            match why {
                Why::Data | Why::Plt => assert_eq!(o, &l, "{name} {a} {why:?}"),
                Why::CloneSuffix | Why::GnuInline => {
                    assert!(o.len() == gf.len() || o.len() == l.len(), "{name} {a}: frame count");
                    for (j, (on, ol)) in o.iter().enumerate() {
                        let gn = gf.get(j).map(|f| f.0.as_str());
                        let ln = l.get(j).map(|f| f.0.as_str());
                        let raw_o = &ours_raw[i].1[j].0;
                        let raw_g = gnu_raw[i].1.get(j).map(|f| f.0.as_str()).unwrap_or("");
                        // The clone suffix the symbol table keeps, in GNU's spelling of it.
                        let clone = raw_o
                            .strip_prefix(raw_g)
                            .and_then(|s| s.strip_prefix('.'))
                            .filter(|_| why == Why::CloneSuffix)
                            .map(|suffix| format!("{} [clone .{suffix}]", gn.unwrap_or("")));
                        let name_ok =
                            Some(on.as_str()) == gn || Some(on.as_str()) == ln || clone.as_deref() == Some(on.as_str());
                        assert!(
                            name_ok,
                            "{name} {a} frame {j}: {on} (raw {raw_o}) vs GNU {gn:?} / llvm {ln:?}"
                        );
                        let loc_ok = gf.get(j).is_some_and(|f| &f.1 == ol) || l.get(j).is_some_and(|f| &f.1 == ol);
                        assert!(loc_ok, "{name} {a} frame {j}: {ol}");
                    }
                }
            }
        }
    }
    let mut listed: Vec<(String, u64)> = DEVIATIONS.iter().map(|(n, a, _)| (n.to_string(), *a)).collect();
    listed.sort();
    seen.sort();
    assert_eq!(seen, listed, "DEVIATIONS lists addresses that now agree with GNU");
}

/// llvm's spelling of a GCC clone suffix, `f() (.isra.0)`, in GNU's: `f() [clone .isra.0]`.
fn gnu_clone_spelling(llvm: &str) -> String {
    match llvm.strip_suffix(')').and_then(|s| s.rsplit_once(" (.")) {
        Some((name, suffix)) => format!("{name} [clone .{suffix}]"),
        None => llvm.to_string(),
    }
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn json_frames_equal_llvm_symbolizer() {
    let mut spelling_diffs = 0;
    for name in GOLDENS {
        let g = golden(&format!("{name}.json"));
        let bin = native(g["binary"].as_str().unwrap());
        let addrs = addresses(&g);
        let runs = g["runs"].as_array().unwrap();
        let code = runs[2]["stdout"].as_array().unwrap();
        let gnu = blocks(&strings(&runs[0]["stdout"]));
        let data = runs[3]["stdout"].as_array().unwrap();
        assert!(runs[3]["stdin"].as_str().unwrap().contains("DATA"));
        let (out, _, ok) = run(
            &["--format", "json", "-e", bin.to_str().unwrap()],
            &(addrs.join("\n") + "\n"),
        );
        assert!(ok);
        let ours = json_lines(&out);
        for (i, (a, info)) in addrs.iter().zip(g["addresses"].as_array().unwrap()).enumerate() {
            let o = &ours[i];
            assert_eq!(o["svma"].as_str(), Some(a.as_str()));
            let kind = info["kind"].as_str().unwrap();
            // An all-empty llvm frame means "nothing known" (stripped binaries).
            let llvm: Vec<&Value> = code[i]["Symbol"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["FunctionName"] != "" || s["FileName"] != "" || s["Line"] != 0)
                .collect();
            if llvm.is_empty() {
                assert_eq!(o["frames"].as_array().unwrap().len(), 0, "{name} {a}");
                assert!(o["source"].is_null() && o["data"].is_null(), "{name} {a}");
                assert_eq!(data[i]["Data"]["Name"], "", "{name} {a}");
                continue;
            }
            if kind == "past_end" {
                // llvm-symbolizer names the address after `_end` (a sizeless NOTYPE marker
                // 0x1000 below it); GNU and we know nothing there.
                assert_eq!(llvm[0]["FunctionName"], "_end");
                assert_eq!(o["frames"].as_array().unwrap().len(), 0, "{name} {a}");
                assert!(o["source"].is_null());
                continue;
            }
            if kind == "data" {
                assert_eq!(o["is_data"], true, "{name} {a}");
                let d = &data[i]["Data"];
                assert_eq!(o["data"]["start"], d["Start"], "{name} {a}");
                assert_eq!(o["data"]["size"], d["Size"], "{name} {a}");
                assert_eq!(o["frames"][0]["function"], d["Name"], "{name} {a}");
                let off = hex(a) - hex(d["Start"].as_str().unwrap());
                assert_eq!(o["symbol"]["offset"], off, "{name} {a}");
                assert!(
                    o["section"].as_str().unwrap().contains("data") || o["section"] == ".bss",
                    "{name} {a}"
                );
            } else {
                assert_eq!(o["is_data"], false, "{name} {a}");
            }
            let frames = o["frames"].as_array().unwrap();
            assert_eq!(frames.len(), llvm.len(), "{name} {a}: chain length");
            for (f, l) in frames.iter().zip(&llvm) {
                assert_eq!(f["file"], l["FileName"], "{name} {a}");
                assert_eq!(f["line"], l["Line"], "{name} {a}");
                assert_eq!(f["column"], l["Column"], "{name} {a}");
                assert_eq!(f["start_line"], l["StartLine"], "{name} {a}");
                if f["function"] != l["FunctionName"] {
                    // llvm and GNU spell some C++ names differently (clone suffixes `(.isra.0)` and
                    // ` [clone .isra.0]`, lambdas); ours is GNU's demangler's, so it must be the name GNU
                    // addr2line -C printed for this address.
                    let ours = f["function"].as_str().unwrap();
                    let llvm_name = l["FunctionName"].as_str().unwrap();
                    assert!(
                        gnu[i].1.iter().any(|(n, _)| n == ours) || gnu_clone_spelling(llvm_name) == ours,
                        "{name} {a}: {ours} is neither llvm's {} nor GNU's {:?}",
                        l["FunctionName"],
                        gnu[i].1
                    );
                    spelling_diffs += 1;
                }
            }
            let expected_source = if llvm[0]["FileName"] != "" {
                "dwarf"
            } else if name.ends_with(".stripped") {
                "dynsym"
            } else {
                "symtab"
            };
            assert_eq!(o["source"], expected_source, "{name} {a}");
        }
    }
    assert!(spelling_diffs < 40, "{spelling_diffs} names spelled as GNU, not llvm");
}

#[test]
fn pretty_basenames_and_plain_forms_follow_gnu() {
    let g = golden("cdemo.json");
    let gnu = blocks(&strings(&g["runs"][0]["stdout"]));
    let bin = native("bin/cdemo");
    let bin = bin.to_str().unwrap();
    // 0x1460: three frames (raw_alloc <- make_buffer <- build_records).
    let b = gnu.iter().find(|b| b.0 == "0x0000000000001460").unwrap();
    assert_eq!(b.1.len(), 3);
    let mut pretty = format!("{}: ", b.0);
    for (j, (n, l)) in b.1.iter().enumerate() {
        if j > 0 {
            pretty.push_str(" (inlined by) ");
        }
        pretty.push_str(&format!("{n} at {l}\n"));
    }
    assert_eq!(run(&["-a", "-p", "-f", "-i", "-C", "-e", bin, "0x1460"], "").0, pretty);
    // Without -i: the innermost frame only; without -f: locations only; -s: base names.
    assert_eq!(run(&["-e", bin, "1460"], "").0, format!("{}\n", b.1[0].1));
    let base = b.1[0].1.rsplit('/').next().unwrap();
    assert_eq!(
        run(&["-s", "-f", "-e", bin, "1460"], "").0,
        format!("{}\n{base}\n", b.1[0].0)
    );
    assert_eq!(run(&["-p", "-f", "-e", bin, "72a0"], "").0, "?? ??:0\n");
}

#[test]
fn garbage_tokens_answer_like_gnu_with_one_note() {
    let bin = native("bin/cdemo");
    let (out, err, ok) = run(&["-f", "-a", "-e", bin.to_str().unwrap()], "hello\n10e0\nzz\n\n");
    assert!(ok);
    let g = golden("cdemo.json");
    let gnu = strings(&g["runs"][0]["stdout"]);
    // GNU reads a non-address as 0 (checked by hand: `printf 'hello\n' | addr2line -f -a`).
    let zero = "0x0000000000000000\n??\n??:0\n";
    assert_eq!(out, format!("{zero}{}\n{}\n{}\n{zero}{zero}", gnu[0], gnu[1], gnu[2]));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("hello"));
}

#[test]
fn answers_stream_one_request_at_a_time() {
    let mut child = common::pprofsym()
        .args(["addr2line", "-f", "-e"])
        .arg(native("bin/cdemo"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for (addr, func) in [("10e0", "main"), ("0x14e0", "recurse_alloc")] {
        // The answer must arrive while stdin is still open (coprocess use).
        writeln!(stdin, "{addr}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, format!("{func}\n"));
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with("./src/cdemo.c:"), "{line}");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// Runs `pprofsym addr2line -f -e BIN` on `input` with `threads` rayon threads; the child is killed after two
/// minutes (a hang, not a slow run: the answers take milliseconds). Its output.
fn run_guarded(bin: &Path, threads: &str, input: &str) -> String {
    let mut child = common::pprofsym()
        .args(["addr2line", "-f", "-e"])
        .arg(bin)
        .env("RAYON_NUM_THREADS", threads)
        // The read-ahead claims the sections and waits, so the batch meets them still loading.
        .env("PPROFSYM_TEST_PREFETCH_DELAY_MS", "300")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).map(|_| out)
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > std::time::Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("pprofsym addr2line with RAYON_NUM_THREADS={threads} did not finish (deadlock)");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success());
    writer.join().unwrap().unwrap();
    reader.join().unwrap().unwrap()
}

/// A batch finishes on any pool size. The DWARF sections are read ahead on a thread of their own (which
/// decompresses on the rayon pool) while requests are read. Two hangs this guards against: the read-ahead as a
/// task of a one-thread pool waiting for sections the main thread was loading with the pool's help (a one-address
/// batch); and a big batch whose workers, tasks of the pool, waited for the sections the read-ahead needed the
/// pool to finish (Go's DWARF is compressed).
#[test]
fn batches_do_not_deadlock() {
    let out = run_guarded(&native("bin/cdemo"), "1", "10e0\n");
    assert!(out.starts_with("main\n./src/cdemo.c:"), "{out}");
    let go = Path::new(ROOT).join("testdata/go/bin/heapdemo");
    let many: String = (0..3000).map(|i| format!("{:x}\n", 0x401000 + i * 64)).collect();
    for threads in ["1", "2"] {
        let out = run_guarded(&go, threads, &many);
        assert_eq!(out.lines().count(), 6000, "{threads} threads");
    }
}

#[test]
fn runtime_addresses_through_maps_equal_expected() {
    let exp = golden("cdemo.maps.expected.json");
    let maps = native("goldens/addr2line/cdemo.maps.txt");
    let addrs = common::runtime_addresses("testdata/native/goldens/addr2line/cdemo.runtime.txt");
    let (cdemo, dir) = (native("bin/cdemo"), native("bin"));
    let args = [
        "--format",
        "json",
        "--maps",
        maps.to_str().unwrap(),
        "-e",
        cdemo.to_str().unwrap(),
        "--search-path",
        dir.to_str().unwrap(),
    ];
    let (out, err, ok) = run(&args, &(addrs.join("\n") + "\n"));
    assert!(ok && err.is_empty(), "{err}");
    let ours = json_lines(&out);
    let list = exp["addresses"].as_array().unwrap();
    assert_eq!(ours.len(), list.len());
    for (o, e) in ours.iter().zip(list) {
        let name = e["name"].as_str().unwrap();
        assert_eq!(o["address"], e["runtime_address"], "{name}");
        assert_eq!(o["svma"], e["vaddr"], "{name}");
        let bin = Path::new(o["binary"].as_str().unwrap()).file_name().unwrap().to_owned();
        assert_eq!(
            bin,
            Path::new(e["binary"].as_str().unwrap()).file_name().unwrap(),
            "{name}"
        );
        for k in ["start", "perms", "offset"] {
            assert_eq!(o["maps_line"][k], e["maps_line"][k], "{name} {k}");
        }
        assert_eq!(o["maps_line"]["path"], e["maps_line"]["file"], "{name}");
        match e.get("anonymous_maps_line") {
            // .bss past the file: the file's line extended over the anonymous one.
            Some(anon) => assert_eq!(o["maps_line"]["end"], anon["limit"], "{name}"),
            None => assert_eq!(o["maps_line"]["end"], e["maps_line"]["limit"], "{name}"),
        }
        if e.get("symtab_value").is_some() {
            assert_eq!(o["symbol"]["name"], name, "{name}");
            assert_eq!(o["symbol"]["offset"], 0, "{name}");
        } else {
            // A return address inside main (where_am_i was inlined away).
            assert_eq!(o["frames"].as_array().unwrap().last().unwrap()["function"], "main");
        }
    }
}

#[test]
fn maps_problems_are_answered_not_fatal() {
    // The golden maps with the library renamed to a file that exists nowhere.
    let text = std::fs::read_to_string(native("goldens/addr2line/cdemo.maps.txt")).unwrap();
    let text = text.replace("/tmp/pprofsym-native/bin/libnativedemo.so", "/nonexistent/libgone.so");
    let maps = std::env::temp_dir().join(format!("pprofsym-a2l-maps-{}", std::process::id()));
    std::fs::write(&maps, text).unwrap();
    let cdemo = native("bin/cdemo");
    let args = ["-f", "--maps", maps.to_str().unwrap(), "-e", cdemo.to_str().unwrap()];
    // [heap], an unmapped address, the missing library (twice: one note), then main.
    let (out, err, ok) = run(&args, "55bda032f010\n1234\n7f0bfa670180\n7f0bfa670140\n55bd6a3d30e0\n");
    std::fs::remove_file(&maps).unwrap();
    assert!(ok);
    assert_eq!(out, "??\n??:0\n".repeat(4) + "main\n./src/cdemo.c:85\n");
    let notes: Vec<&str> = err.lines().collect();
    assert_eq!(notes.len(), 3, "{err}");
    assert!(
        notes[0].contains("[heap]") && notes[1].contains("no maps line"),
        "{err}"
    );
    assert!(
        notes[2].contains("no binary found for /nonexistent/libgone.so"),
        "{err}"
    );

    let bad = std::env::temp_dir().join(format!("pprofsym-a2l-bad-maps-{}", std::process::id()));
    std::fs::write(&bad, "this is not a maps file\n").unwrap();
    let (_, err, ok) = run(&["--maps", bad.to_str().unwrap(), "1000"], "");
    std::fs::remove_file(&bad).unwrap();
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("line 1") && err.contains("pprofsym-a2l-bad-maps"), "{err}");
}

#[inline(never)]
fn pprofsym_a2l_marker() -> usize {
    std::hint::black_box(42)
}

/// `--pid`: this test process's own maps; the address of a function in this test binary
/// (built with debug info) resolves to its name.
#[test]
fn pid_reads_live_maps() {
    let f: fn() -> usize = pprofsym_a2l_marker;
    assert_eq!(f(), 42);
    let addr = format!("{:x}", f as usize);
    let pid = std::process::id().to_string();
    // With -i the outermost frame is the marker itself, whatever the optimizer inlined into
    // its first instruction (`black_box` in release builds).
    let (out, err, ok) = run(&["-f", "-i", "-C", "--pid", &pid, &addr], "");
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 2 && lines.len().is_multiple_of(2), "{out}");
    // The test binary is the crate `it`; this file is its module `addr2line`.
    assert_eq!(lines[lines.len() - 2], "it::addr2line::pprofsym_a2l_marker", "{out}");
    assert!(lines[lines.len() - 1].contains("addr2line.rs:"), "{out}");
}

#[test]
fn bad_binaries_are_one_line_errors() {
    for (bin, what) in [
        ("bin/does-not-exist", "No such file"),
        ("bin/not-an-elf", "not an ELF file"),
        ("bin/cdemo.truncated", "cdemo.truncated"),
    ] {
        let p = native(bin);
        let (out, err, ok) = run(&["-e", p.to_str().unwrap(), "10e0"], "");
        assert!(!ok, "{bin}");
        assert!(out.is_empty(), "{bin}");
        assert_eq!(err.lines().count(), 1, "{bin}: {err}");
        assert!(
            err.contains(what) && err.contains(bin.rsplit('/').next().unwrap()),
            "{bin}: {err}"
        );
        assert_eq!(err.matches(what).count(), 1, "{bin}: {err}");
    }
    let (_, err, ok) = run(&["10e0"], "");
    assert!(!ok && err.contains("-e BIN"), "{err}");
}

/// Go 1.27 DWARF 5 (GNU 2.40 cannot read it): chains and lines equal llvm-symbolizer's.
/// Names and files go through the symbolizer's Go normalization (pprof's): `.abi0`
/// dropped, generic shapes shown as `[...]`, no `./` prefix.
#[test]
fn go_dwarf5_equals_llvm_symbolizer() {
    let dir = Path::new(ROOT).join("testdata/gopclntab");
    let tsv = std::fs::read_to_string(dir.join("go127-stripped.dwarf.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = tsv.lines().map(|l| l.split('\t').collect()).collect();
    let stdin: String = rows.iter().map(|r| format!("{}\n", r[0])).collect();
    let (out, _, ok) = run(
        &["-f", "-i", "-a", "-e", dir.join("go127-unstripped").to_str().unwrap()],
        &stdin,
    );
    assert!(ok);
    let ours = blocks(&out.lines().map(str::to_string).collect::<Vec<_>>());
    assert_eq!(ours.len(), rows.len());
    let generic = regex::Regex::new(r"\[[^\[\]]*(\[[^\[\]]*\][^\[\]]*)*\]").unwrap();
    let norm_name = |s: &str| generic.replace_all(s.trim_end_matches(".abi0"), "[...]").into_owned();
    let norm_file = |s: &str| s.trim_start_matches("./").to_string();
    for (r, (addr, frames)) in rows.iter().zip(&ours) {
        assert_eq!(hex(addr), hex(r[0]));
        let want: Vec<(String, String)> = r[1..]
            .chunks(3)
            .map(|t| {
                let line = if t[2] == "0" { "?" } else { t[2] };
                let file = if t[1].is_empty() {
                    "??".to_string()
                } else {
                    norm_file(t[1])
                };
                (t[0].to_string(), format!("{file}:{line}"))
            })
            .collect();
        assert_eq!(frames.len(), want.len(), "{}", r[0]);
        for ((on, ol), (wn, wl)) in frames.iter().zip(&want) {
            assert_eq!(ol, wl, "{}", r[0]);
            if on != wn {
                assert_eq!(on, &norm_name(wn), "{}", r[0]);
            }
        }
    }
}

/// The last address is answered `??`, not a panic: gimli's addr2line looks up `[probe, probe + 1)`, which overflows
/// there (found by the `elf` fuzz target; the test binary is built with overflow checks).
#[test]
fn the_last_address_is_unknown() {
    let (out, err, ok) = run(
        &["-f", "-e", native("bin/cdemo").to_str().unwrap()],
        "ffffffffffffffff\n",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "??\n??:0\n");
}
