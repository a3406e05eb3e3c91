//! Legacy formats against their peers' answers: every `-raw` and `-top` golden of `testdata/legacy/goldens` (standalone
//! google/pprof with llvm-symbolizer on the same files, `scripts/regen-legacy-fixtures.sh`), google/pprof's own
//! conformance dumps (`testdata/peer/legacy/*.string`), and Go `debug=1` texts against the profile.proto Go wrote at
//! the same moment.
//!
//! Binaries and libraries come from `testdata/sysroot` (`--sysroot`), and no debug directory is searched
//! (`--debug-dir` names an empty one), as llvm-symbolizer was run for the goldens: byte for byte, except where we
//! differ on purpose (each case below says why).

use std::path::Path;
use std::process::Command;

use pprofsym::profile::{LoadOptions, decode_any};
use pprofsym::report::raw::profile_string;

use super::common::path;

/// Runs `pprofsym ARGS` in `dir`; (stdout, stderr, success).
pub fn pprofsym_in(dir: &Path, args: &[&str]) -> (String, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_pprofsym"))
        .current_dir(dir)
        .args(args)
        .env_remove("PPROF_BINARY_PATH")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// Our flags for a golden's pprof flags (`-raw`, `-raw -symbolize=none`, `-top [-lines|-addresses]
/// [-sample_index=X]`); `None` for what another command answers (`-traces`).
fn our_args(flags: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut it = flags.split_whitespace();
    match it.next()? {
        "-raw" => out.push("raw".into()),
        "-top" => out.extend(["top".into(), "--format".into(), "text".into()]),
        _ => return None,
    }
    for f in it {
        match f {
            "-symbolize=none" => out.extend(["--symbolize".into(), "none".into()]),
            "-lines" => out.push("--lines".into()),
            "-addresses" => out.push("--addresses".into()),
            f if f.starts_with("-sample_index=") => {
                out.extend(["-i".into(), f.trim_start_matches("-sample_index=").into()]);
            }
            f => panic!("flag {f} not mapped"),
        }
    }
    Some(out)
}

/// What `go tool pprof`'s llvm-symbolizer writes for Go binaries and we write as the Go runtime does (our
/// symbolizer's documented choice, so a Go `debug=1` text and its profile.proto read the same): ABI suffixes
/// (`runtime.goexit.abi0`) and the `./` of `-trimpath` DWARF file names.
fn go_names(s: &str) -> String {
    s.replace(".abi0", "").replace(" ./", " ")
}

/// The Samples and Mappings sections of a `-raw` dump and the address and mapping of each location: everything
/// but the names.
fn raw_without_names(s: &str) -> String {
    let mut out = String::new();
    let mut in_locations = false;
    for l in s.lines() {
        if l == "Locations" {
            in_locations = true;
        } else if l == "Mappings" {
            in_locations = false;
        }
        if in_locations {
            // `    12: 0x7f.. M=3 name file:line:col s=N`: keep id, address and mapping; skip inline lines.
            let keep: Vec<&str> = l
                .split_whitespace()
                .take_while(|t| !t.contains(':') || t.ends_with(':'))
                .collect();
            if l.starts_with("             ") {
                continue;
            }
            out.push_str(&keep.iter().take(3).copied().collect::<Vec<_>>().join(" "));
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    out
}

/// The `Type:` line and the total of a `-top` text.
fn top_total(s: &str) -> (String, String) {
    let ty = s.lines().find(|l| l.starts_with("Type:")).unwrap_or("").to_string();
    let total = s
        .lines()
        .find_map(|l| l.split(" of ").nth(1).map(str::to_string))
        .unwrap_or_default();
    (ty, total)
}

#[test]
fn raw_and_top_equal_google_pprof_on_every_legacy_golden() {
    let dir = path("testdata/legacy");
    let manifest = std::fs::read_to_string(dir.join("goldens/MANIFEST.tsv")).unwrap();
    let mut exact = 0;
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (golden, flags, args) = (cols[0], cols[1], cols[2]);
        if golden.starts_with("unreadable/") {
            continue;
        }
        let Some(ours) = our_args(flags) else { continue };
        let args: Vec<&str> = args.split_whitespace().collect();
        let (binary, profile) = match args.as_slice() {
            [b, p] => (Some(*b), *p),
            [p] => (None, *p),
            _ => panic!("{line}"),
        };
        let want = std::fs::read_to_string(dir.join(format!("goldens/{golden}.txt"))).unwrap();
        // The jemalloc goldens are pprof's answers on the gperftools rewrite of each native dump: both ours must
        // give them.
        let mut profiles = vec![profile.to_string()];
        if let Some(stem) = profile.strip_suffix(".gperf.heap") {
            profiles.push(format!("{stem}.heap"));
        }
        for prof in &profiles {
            let mut a: Vec<&str> = ours.iter().map(String::as_str).collect();
            a.push(prof);
            a.extend(binary);
            a.extend(["--sysroot", "../sysroot", "--debug-dir", "no-debug-dir"]);
            let (got, err, ok) = pprofsym_in(&dir, &a);
            assert!(ok, "{golden} {prof}: {err}");
            assert!(!err.contains("panicked"), "{golden}: {err}");
            let symbolized = !flags.contains("symbolize=none");
            checked += 1;
            if golden.starts_with("go/threadcreate.debug1") && symbolized {
                // pprof computes a mapping's base from its first location, here 0xffffffffffffffff (Go's `0x0`
                // frames minus one), fails, and leaves the whole mapping unsymbolized without a word. We
                // symbolize every real address.
                assert!(
                    got.contains("runtime.allocm") && got.contains("main.startThreads.func1"),
                    "{golden}: {got}"
                );
                assert_eq!(top_total(&got).1, top_total(&want).1, "{golden}");
            } else if golden.starts_with("go/") && golden.contains(".debug1") && symbolized {
                assert_eq!(got, go_names(&want), "{golden} {prof}");
            } else if golden.starts_with("rust-jeheap") && symbolized {
                // pprof's demangler shortens Rust v0 names to `Box<>` (generic arguments dropped); we keep Rust
                // names as rustc-demangle writes them (`Box<str>`), so names and the nodes trimmed differ; values,
                // stacks, addresses and mappings do not.
                if flags.starts_with("-raw") {
                    assert_eq!(raw_without_names(&got), raw_without_names(&want), "{golden} {prof}");
                } else {
                    assert_eq!(top_total(&got), top_total(&want), "{golden} {prof}");
                }
            } else {
                assert_eq!(got, want, "{golden} {prof}");
                exact += 1;
            }
        }
    }
    assert_eq!(checked, 238, "goldens checked");
    assert_eq!(exact, 186, "goldens equal byte for byte");
}

/// google/pprof's conformance inputs: what its parser makes of each (`Profile.String()`) is its `.string` file.
#[test]
fn google_pprof_conformance_dumps_byte_for_byte() {
    let dir = path("testdata/peer/legacy");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "string") {
            continue;
        }
        let want = std::fs::read_to_string(p.with_extension(format!(
            "{}string",
            p.extension().map_or(String::new(), |x| format!("{}.", x.to_string_lossy()))
        )))
        .unwrap();
        let data = std::fs::read(&p).unwrap();
        let prof = decode_any(&data, &LoadOptions::default()).unwrap();
        assert_eq!(profile_string(&prof, None), want, "{}", p.display());
        n += 1;
        // The command adds what pprof's driver adds: an empty mapping for a profile without any (Java).
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let (got, err, ok) = pprofsym_in(&dir, &["raw", "--symbolize", "none", &name]);
        assert!(ok, "{name}: {err}");
        if name.starts_with("java.") {
            assert!(got.ends_with("Mappings\n1: 0x0/0x0/0x0   \n"), "{name}: {got}");
            assert_eq!(
                got.replace(" M=1 ", " ").replace("1: 0x0/0x0/0x0   \n", ""),
                want,
                "{name}"
            );
        } else {
            assert_eq!(got, want, "{name}");
        }
    }
    assert_eq!(n, 14);
}

/// Go's `debug=1` heap text and the profile.proto written right after it give the same `top`, inline markers
/// included, once the `#` comment lines name the frames (`go tool pprof` ignores them and shows `<unknown>`).
/// Only the header differs: the text names no binary and has no time.
#[test]
fn go_debug1_heap_tops_equal_their_protos() {
    let dir = path("testdata/go");
    let mut n = 0;
    for stem in ["heap-rate1", "heap-default", "heap-pie-rate1"] {
        for index in ["inuse_space", "inuse_objects", "alloc_space", "alloc_objects"] {
            for g in ["--functions", "--lines"] {
                let run = |f: &str| {
                    let (out, err, ok) = pprofsym_in(&dir, &["top", "--format", "text", "-i", index, g, f]);
                    assert!(ok, "{err}");
                    assert!(err.is_empty(), "{stem}: {err}");
                    out.lines()
                        .filter(|l| !l.starts_with("File:") && !l.starts_with("Build ID:") && !l.starts_with("Time:"))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                let text = run(&format!("{stem}.debug1.txt"));
                assert!(!text.contains("<unknown>"), "{stem}: {text}");
                assert_eq!(text, run(&format!("{stem}.pb.gz")), "{stem} {index} {g}");
                n += 1;
            }
        }
    }
    assert_eq!(n, 24);
}

/// The same for Go's block profile; mutex texts carry the runtime's own scaling and pprof scales them again by
/// `sampling period` (as we do, to give its numbers), and goroutine/threadcreate texts hide the runtime frames at
/// the top of each stack, which no comment names.
#[test]
fn go_debug1_block_matches_its_proto_and_the_documented_differences_hold() {
    let dir = path("testdata/legacy/profiles/go");
    let top = |f: &str| {
        let (out, err, ok) = pprofsym_in(&dir, &["top", "--format", "text", f]);
        assert!(ok && err.is_empty(), "{f}: {err}");
        out.lines()
            .filter(|l| !l.starts_with("File:") && !l.starts_with("Build ID:") && !l.starts_with("Time:"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(top("block.debug1.txt"), top("block.pb.gz"));
    let (text, proto) = (top("mutex.debug1.txt"), top("mutex.pb.gz"));
    assert!(
        text[1].contains("179.52ms") && proto[1].contains("89.76ms"),
        "{text:?} {proto:?}"
    );
    let goroutine = top("goroutine.debug1.txt");
    assert!(goroutine.iter().any(|l| l.contains("<unknown>")), "{goroutine:?}");
    assert!(goroutine.iter().any(|l| l.contains("main.parkOnChan")), "{goroutine:?}");
}

/// jemalloc's own `jeprof --text` (kept in `testdata/legacy/jeprof`) reads the same totals from each native dump:
/// its `Total: X MB` is our inuse (or, with `--alloc_space`, alloc) space in MiB, to the tenth it prints.
#[test]
fn jemalloc_totals_equal_jeprofs() {
    let dir = path("testdata/legacy");
    let manifest = std::fs::read_to_string(dir.join("jeprof/MANIFEST.tsv")).unwrap();
    let mut n = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let cmd: Vec<&str> = cols[1].split_whitespace().collect();
        let profile = *cmd.last().unwrap();
        if !cmd.contains(&"--text") || profile.contains(".gperf") {
            continue;
        }
        let want = std::fs::read_to_string(dir.join(format!("jeprof/{}.txt", cols[0]))).unwrap();
        let total: f64 = want
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("Total: "))
            .and_then(|l| l.strip_suffix(" MB"))
            .unwrap()
            .parse()
            .unwrap();
        let data = std::fs::read(dir.join(profile)).unwrap();
        let p = decode_any(&data, &LoadOptions::default()).unwrap();
        let index = if cmd.contains(&"--alloc_space") {
            "alloc_space"
        } else {
            "inuse_space"
        };
        let i = p.sample_index(Some(index)).unwrap();
        let ours: i64 = p.pb().sample.iter().map(|s| s.value[i]).sum();
        assert_eq!(
            format!("{:.1}", ours as f64 / 1048576.0),
            format!("{total:.1}"),
            "{}",
            cols[0]
        );
        n += 1;
    }
    assert_eq!(n, 8);
}
