//! Every command on every legacy format, the bad inputs each reader must refuse with one line naming the file and
//! line, and inputs at the size limits the issue names (a 200k-frame stack, 300k records).
//!
//! The real fixtures are those of `testdata/legacy` (see its README). The damaged copies are made here, from those
//! real files, by small edits (hand-made: no program writes them); the big inputs are generated here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pprofsym::profile::{Format, LoadOptions, decode_any};

use super::common::path;
use super::legacy_goldens::pprofsym_in;

/// Flags that make symbolization hermetic: the fixtures' files come from the sysroot, no debug directory.
const HERMETIC: [&str; 4] = ["--sysroot", "../sysroot", "--debug-dir", "no-debug-dir"];

fn legacy_dir() -> PathBuf {
    path("testdata/legacy")
}

/// `pprofsym ARGS` in testdata/legacy; panics unless it succeeds; stdout.
fn ok(args: &[&str]) -> String {
    let (out, err, ok) = pprofsym_in(&legacy_dir(), args);
    assert!(ok, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    out
}

/// The legacy fixtures of each format, relative to testdata/legacy.
const FIXTURES: &[(&str, Format)] = &[
    ("profiles/lheap.heapprofile.heap", Format::GperftoolsHeap),
    ("profiles/lheap.nopie.heapprofile.heap", Format::GperftoolsHeap),
    ("profiles/lheapxx.heap_v2-4096.heap", Format::GperftoolsHeap),
    ("profiles/lheapxx.growth.heap", Format::Growth),
    ("profiles/lheap.je-lg0.heap", Format::JemallocHeap),
    ("profiles/rust-jeheap.je-lg19.heap", Format::JemallocHeap),
    ("profiles/cpuburn.prof", Format::CpuProfile),
    ("profiles/cpuburn.32be.derived.prof", Format::CpuProfile),
    ("profiles/go/goroutine.debug1.txt", Format::GoCount),
    ("profiles/go/threadcreate.debug1.txt", Format::GoCount),
    ("profiles/go/block.debug1.txt", Format::Contention),
    ("profiles/go/mutex.debug1.txt", Format::Contention),
    ("../go/heap-rate1.debug1.txt", Format::GoHeap),
    ("../peer/legacy/cppbench.contention", Format::Contention),
    ("../peer/legacy/cppbench.thread", Format::Threadz),
    ("../peer/legacy/java.heap", Format::JavaHeap),
    ("../peer/legacy/java.cpu", Format::JavaCpu),
    ("../peer/legacy/java.contention", Format::JavaContention),
];

#[test]
fn each_format_is_recognised_by_content() {
    for (rel, format) in FIXTURES {
        let data = std::fs::read(legacy_dir().join(rel)).unwrap();
        let p = decode_any(&data, &LoadOptions::default()).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(p.source().format, *format, "{rel}");
        // Gzipped, the same.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let q = decode_any(&gz.finish().unwrap(), &LoadOptions::default()).unwrap();
        assert_eq!(q.pb(), p.pb(), "{rel} gzipped");
    }
}

#[test]
fn every_command_reads_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, (rel, format)) in FIXTURES.iter().enumerate() {
        let info = ok(&["info", "--format", "text", rel]);
        assert!(
            info.starts_with(&format!("Format: {}", format.describe())),
            "{rel}: {info}"
        );
        let mut top = vec!["top", "--format", "text", rel];
        top.extend(HERMETIC);
        let top_text = ok(&top);
        assert!(top_text.contains("Showing nodes accounting for"), "{rel}: {top_text}");
        let mut addrs = vec!["addrs", "--format", "text", rel];
        addrs.extend(HERMETIC);
        assert!(ok(&addrs).contains(" locations: "), "{rel}");
        let mut raw = vec!["raw", rel];
        raw.extend(HERMETIC);
        assert!(ok(&raw).contains("\nLocations\n"), "{rel}");
        if format.is_heap() {
            let mut sites = vec!["sites", "--format", "text", rel];
            sites.extend(HERMETIC);
            assert!(ok(&sites).contains("TOTAL"), "{rel}");
        }
        // convert and symbolize write profile.proto that gives the same top.
        let conv = tmp.path().join(format!("c{i}.pb.gz"));
        ok(&["convert", rel, "-o", conv.to_str().unwrap()]);
        let conv_top = ok(&[&["top", "--format", "text", conv.to_str().unwrap()][..], &HERMETIC].concat());
        assert_eq!(conv_top, top_text, "{rel}: convert changed what top shows");
        let sym = tmp.path().join(format!("s{i}.pb.gz"));
        ok(&[&["symbolize", rel, "-o", sym.to_str().unwrap()][..], &HERMETIC].concat());
        // The symbolized copy needs no binary: top without the sysroot shows the same.
        let sym_top = ok(&["top", "--format", "text", "--no-mapping-paths", sym.to_str().unwrap()]);
        assert_eq!(sym_top, top_text, "{rel}: symbolize");
    }
}

#[test]
fn standard_input_and_gzip() {
    let data = std::fs::read(legacy_dir().join("profiles/lheap.je-lg0.heap")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).unwrap();
    for input in [data, gz.finish().unwrap()] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pprofsym"))
            .args(["info", "--format", "text", "-", "--no-mapping-paths"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        // The dump lists threads t0, t1, t2 in its totals; the header t* line is 451: 8985968 [2447: 11079632].
        assert!(
            text.starts_with("Format: jemalloc heap profile (heap_v2/1, 3 threads)\n"),
            "{text}"
        );
        assert!(
            text.contains("inuse_space/bytes  total 8.57MB (8985968 bytes)"),
            "{text}"
        );
    }
}

#[test]
fn info_shows_the_build_ids_legacy_maps_lack() {
    let out = ok(&[
        "info",
        "--format",
        "text",
        "profiles/lheap.heapprofile.heap",
        "--sysroot",
        "../sysroot",
    ]);
    // testdata/legacy/README.md lists the build ID of each sysroot file.
    assert!(out.contains("666f7b5683dd5c0aee91548bbdb6b1b3b78ca9d9*"), "{out}");
    assert!(out.contains("93ac61ec5a8eb1396f9fbd350e3169a558528a40*"), "{out}");
    assert!(out.contains("1: ../sysroot/app/legacy/bin/lheap"), "{out}");
    let addrs = ok(&[
        &["addrs", "--format", "text", "profiles/lheap.heapprofile.heap"][..],
        &HERMETIC,
    ]
    .concat());
    assert!(
        addrs.contains("build ID 9d8b89523a4b232e7c4e0453fa8ca19224bdf718 (read from the file"),
        "{addrs}"
    );
}

#[test]
fn binaries_by_name_search_path_and_main_binary_work_for_legacy_mappings() {
    // Without the sysroot: the main binary positionally, the library by --binary (matched by name), and libc
    // through a search directory laid out as pprof's PPROF_BINARY_PATH (DIR/<path>).
    let base = [
        "top",
        "--format",
        "text",
        "--lines",
        "--no-mapping-paths",
        "--debug-dir",
        "no-debug-dir",
    ];
    let args = [
        &base[..],
        &[
            "profiles/lheap.heapprofile.heap",
            "../sysroot/app/legacy/bin/lheap",
            "--binary",
            "../sysroot/app/legacy/bin/liblegacy.so",
            "--search-path",
            "../sysroot",
        ],
    ]
    .concat();
    let (out, err, ok) = pprofsym_in(&legacy_dir(), &args);
    assert!(ok, "{err}");
    let golden =
        std::fs::read_to_string(legacy_dir().join("goldens/lheap.heapprofile/top.inuse_space.lines.txt")).unwrap();
    assert_eq!(out, golden);
    // $PPROF_BINARY_PATH is the search path when the flag is absent.
    let out = Command::new(env!("CARGO_BIN_EXE_pprofsym"))
        .current_dir(legacy_dir())
        .args(&args[..args.len() - 2])
        .env("PPROF_BINARY_PATH", "../sysroot")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), golden);
}

#[test]
fn sites_skip_the_allocators_own_library_even_stripped() {
    // Debian's libjemalloc is stripped: each stack starts with four nameless frames in it, where pprof's top
    // puts all the weight. The sites are the callers.
    let out = ok(&[
        &["sites", "--format", "text", "profiles/lheap.je-lg0.heap"][..],
        &HERMETIC,
    ]
    .concat());
    let first = out.lines().nth(1).unwrap();
    assert!(first.ends_with("big_alloc ./src/lheap.c:98"), "{out}");
    assert!(!out.contains("libjemalloc"), "{out}");
    let top = ok(&[
        &["top", "--format", "text", "profiles/lheap.je-lg0.heap"][..],
        &HERMETIC,
    ]
    .concat());
    assert!(top.lines().nth(5).unwrap().ends_with("[libjemalloc.so.2]"), "{top}");
    // tcmalloc's GetHeapSample stacks start with two tcmalloc frames, one of them nameless.
    let out = ok(&[
        &["sites", "--format", "text", "profiles/lheapxx.heap_v2-524288.heap"][..],
        &HERMETIC,
    ]
    .concat());
    assert!(!out.contains("libtcmalloc"), "{out}");
    assert!(out.contains("demo::store::Registry::add ./src/lheapxx.cpp:71"), "{out}");
}

/// Writes `bytes` as `name` in `dir`, runs `pprofsym convert` on it, and checks the one-line error: it names the
/// file and contains `expect`; nothing is written.
fn refused(dir: &Path, name: &str, bytes: &[u8], expect: &str) {
    let f = dir.join(name);
    std::fs::write(&f, bytes).unwrap();
    let out_file = dir.join(format!("{name}.out.pb.gz"));
    let out = Command::new(env!("CARGO_BIN_EXE_pprofsym"))
        .args(["convert", f.to_str().unwrap(), "-o", out_file.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{name}: accepted");
    assert_eq!(err.lines().count(), 1, "{name}: {err}");
    assert!(err.contains(&format!("{}: ", f.display())), "{name}: {err}");
    assert!(err.contains(expect), "{name}: {err:?} lacks {expect:?}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    assert!(!out_file.exists(), "{name}: wrote output");
}

/// `text` with its line `n` (1-based) passed through `f`.
fn edit_line(text: &str, n: usize, f: impl Fn(&str) -> String) -> Vec<u8> {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    lines[n - 1] = f(&lines[n - 1]);
    lines.join("\n").into_bytes()
}

#[test]
fn damaged_text_profiles_are_refused_with_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let heap = std::fs::read_to_string(legacy_dir().join("profiles/lheap.heapprofile.heap")).unwrap();
    // Line 4: `    16:    65536 [    16:    65536] @ 0x55c0ffdc549d 0x55c0ffdc5183 ...`.
    let l4 = |f: &dyn Fn(&str) -> String| edit_line(&heap, 4, f);
    refused(
        d,
        "cut-mid-record.heap",
        &heap.as_bytes()[..heap.find("    16:").unwrap() + 14],
        "line 4: truncated: the file ends inside this record",
    );
    refused(
        d,
        "cut-mid-address.heap",
        &heap.as_bytes()[..heap.find("0x55c0ffdc549d").unwrap() + 7],
        "line 4: truncated",
    );
    refused(
        d,
        "overflow.heap",
        &l4(&|l| l.replacen("    16:", "18446744073709551616:", 1)),
        "line 4: inuse count does not fit in 64 bits",
    );
    refused(
        d,
        "negative.heap",
        &l4(&|l| l.replacen("    16:", "-16:", 1)),
        "line 4: inuse count is negative",
    );
    refused(
        d,
        "nonhex.heap",
        &l4(&|l| l.replace("0x55c0ffdc549d", "0xg1")),
        "line 4: \"0xg1\" is not a 0x-prefixed hexadecimal address",
    );
    refused(
        d,
        "bare0x.heap",
        &l4(&|l| l.replace("0x55c0ffdc549d", "0x")),
        "line 4: \"0x\" is not",
    );
    refused(
        d,
        "17digits.heap",
        &l4(&|l| l.replace("0x55c0ffdc549d", "0x155c0ffdc549dabcd")),
        "does not fit in 64 bits",
    );
    refused(
        d,
        "no-at.heap",
        &l4(&|l| l.replace("@ ", "")),
        "line 4: record without '@'",
    );
    refused(
        d,
        "zero-count.heap",
        &l4(&|l| l.replacen("    16:", "0:", 1)),
        "line 4: inuse count was 0 but inuse bytes was 65536",
    );
    // Maps: line 27 is the executable line of the main binary.
    let maps_line = heap
        .lines()
        .position(|l| l.contains("r-xp") && l.contains("lheap"))
        .unwrap()
        + 1;
    let lm = |f: &dyn Fn(&str) -> String| edit_line(&heap, maps_line, f);
    let at = format!("line {maps_line}: ");
    refused(
        d,
        "maps-nonhex.heap",
        &lm(&|l| l.replacen("55c0ffdc6000", "55c0ffdcg000", 1)),
        &format!("{at}malformed maps line"),
    );
    refused(
        d,
        "maps-backwards.heap",
        &lm(&|l| l.replacen("55c0ffdc5000-55c0ffdc6000", "55c0ffdc6000-55c0ffdc5000", 1)),
        "ends before it starts",
    );
    refused(
        d,
        "maps-order.heap",
        &lm(&|l| l.replacen("55c0ffdc5000-55c0ffdc6000", "55c0ffdc0000-55c0ffdc1000", 1)),
        "out of order",
    );
    refused(
        d,
        "maps-cut.heap",
        &lm(&|l| l[..20].to_string()),
        &format!("{at}maps line ends before it starts"),
    );
    // Sampling rates.
    let v2 = std::fs::read_to_string(legacy_dir().join("profiles/lheapxx.heap_v2-524288.heap")).unwrap();
    refused(
        d,
        "rate0.heap",
        v2.replacen("heap_v2/524288", "heap_v2/0", 1).as_bytes(),
        "line 1: sampling rate 0",
    );
    refused(
        d,
        "rate-overflow.heap",
        v2.replacen("heap_v2/524288", "heap_v2/99999999999999999999", 1)
            .as_bytes(),
        "line 1: sampling rate 99999999999999999999 does not fit in 64 bits",
    );
    refused(
        d,
        "rate-absurd.heap",
        v2.replacen("heap_v2/524288", "heap_v2/9223372036854775807", 1)
            .as_bytes(),
        "line 2: unsampling",
    );
    // jemalloc dumps.
    let je = std::fs::read_to_string(legacy_dir().join("profiles/lheap.je-lg0.heap")).unwrap();
    let je_lines: Vec<&str> = je.split('\n').collect();
    let dup: Vec<&str> = [&je_lines[..7], &je_lines[6..]].concat();
    refused(
        d,
        "je-two-star.heap",
        dup.join("\n").as_bytes(),
        "line 8: a second `t*:` line for one stack",
    );
    let nostar: Vec<&str> = [&je_lines[..6], &je_lines[7..]].concat();
    refused(
        d,
        "je-no-star.heap",
        nostar.join("\n").as_bytes(),
        "line 7: thread line before the stack's `t*:` line",
    );
    refused(
        d,
        "je-no-maps.heap",
        &je.as_bytes()[..je.find("MAPPED_LIBRARIES").unwrap()],
        "no MAPPED_LIBRARIES: section",
    );
    refused(
        d,
        "je-rate0.heap",
        je.replacen("heap_v2/1", "heap_v2/0", 1).as_bytes(),
        "line 1: sampling rate 0",
    );
    refused(
        d,
        "je-star-first.heap",
        format!("heap_v2/1\n@ 0x1\n{}", &je[10..]).as_bytes(),
        "line 2: stack before the `t*:` totals line",
    );
    // Go texts.
    let goroutine = std::fs::read_to_string(legacy_dir().join("profiles/go/goroutine.debug1.txt")).unwrap();
    refused(
        d,
        "go-count.txt",
        &edit_line(&goroutine, 2, |l| l.replacen("3 @", "3 0x47f72a", 1)),
        "line 2: record without '@'",
    );
    let block = std::fs::read_to_string(legacy_dir().join("profiles/go/block.debug1.txt")).unwrap();
    refused(
        d,
        "block.txt",
        &edit_line(&block, 3, |l| l.replacen("262994354", "-262994354", 1)),
        "line 3: delay is negative",
    );
    // Text that is no format at all.
    refused(d, "notes.txt", b"just some notes\n", "unrecognized profile format");
}

#[test]
fn damaged_cpu_profiles_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cpu = std::fs::read(legacy_dir().join("profiles/cpuburn.prof")).unwrap();
    refused(
        d,
        "header.prof",
        &cpu[..20],
        "the file ends inside its header (20 bytes)",
    );
    refused(
        d,
        "record.prof",
        &cpu[..60],
        "record at byte 40 claims 5 frames but only 0 words remain",
    );
    let mut deep = cpu.clone();
    deep[48..56].copy_from_slice(&(1u64 << 60).to_le_bytes());
    refused(d, "deep.prof", &deep, "claims 1152921504606846976 frames");
    let mut period0 = cpu.clone();
    period0[24..32].copy_from_slice(&0u64.to_le_bytes());
    refused(d, "period0.prof", &period0, "sampling period 0");
    // Without its `0 1 0` trailer the records simply end: pprof reads that too.
    let be = std::fs::read(legacy_dir().join("profiles/cpuburn.32be.derived.prof")).unwrap();
    refused(d, "be-cut.prof", &be[..be.len() / 3 - 2], "truncated CPU profile");
}

#[test]
fn a_200k_frame_stack_and_300k_records() {
    // One record with 200k distinct frames (pprof's own reader stops at 64 KiB lines, ~4300 frames).
    let mut text = String::from("heap profile: 1: 4096 [1: 4096] @ heapprofile\n1: 4096 [1: 4096] @");
    for i in 0..200_000u64 {
        text.push_str(&format!(" 0x{:x}", 0x400000 + 16 * i));
    }
    text.push_str("\n\nMAPPED_LIBRARIES:\n00400000-01000000 r-xp 00000000 00:00 0 /bin/app\n");
    let p = decode_any(text.as_bytes(), &LoadOptions::default()).unwrap();
    assert_eq!(p.pb().sample[0].location_id.len(), 200_000);
    assert_eq!(p.pb().location.len(), 200_000);
    assert_eq!(p.pb().location[1].address, 0x400000 + 16 - 1);
    // 300k records over a few hundred frames, unsampled at heap_v2/512.
    let mut text = String::from("heap profile: 300000: 30000000 [300000: 30000000] @ heap_v2/512\n");
    for i in 0..300_000u64 {
        text.push_str(&format!(
            "1: 100 [1: 100] @ 0x{:x} 0x{:x} 0x402000\n",
            0x400100 + 8 * (i % 97),
            0x400800 + 8 * (i % 331)
        ));
    }
    let p = decode_any(text.as_bytes(), &LoadOptions::default()).unwrap();
    assert_eq!(p.pb().sample.len(), 300_000);
    assert_eq!(p.pb().location.len(), 97 + 331 + 1);
    // 1/(1-exp(-100/512)) = 5.639..., truncated per record.
    assert_eq!(p.pb().sample[0].value, vec![5, 563]);
    // The memory bound holds: the same records refused under a small --max-memory.
    let e = decode_any(
        text.as_bytes(),
        &LoadOptions {
            max_memory: 1 << 20,
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("raise --max-memory"), "{e}");
    // And the text bound: a gzip bomb of text stops at --max-decompressed.
    let e = decode_any(
        text.as_bytes(),
        &LoadOptions {
            max_decompressed: 1 << 20,
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("raise --max-decompressed"), "{e}");
}
