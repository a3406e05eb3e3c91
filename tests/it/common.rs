//! Helpers shared by the integration test suites.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use pprofsym::addr::Svma;
use pprofsym::binary::locate::LocatorConfig;
use pprofsym::error::Result;
use pprofsym::symbolize::{ElfSymbolizer, Lookup, SymbolSource, Symbolizer, SymbolizerOptions};

/// A file of the repository, from its path relative to the crate root (an absolute path is kept as is).
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A hermetic symbolizer: it sees only the main binary `main` and the explicit binaries `bins` (paths relative to
/// the crate root), never the paths recorded in a profile (they may exist on the machine that made it) nor the
/// system's debug directories.
pub fn hermetic_symbolizer(main: Option<&str>, bins: &[&str], source: SymbolSource) -> Symbolizer {
    Symbolizer::new(SymbolizerOptions {
        locator: LocatorConfig {
            binaries: bins.iter().map(|b| path(b)).collect(),
            main_binary: main.map(path),
            search_path: Vec::new(),
            debug_dirs: Vec::new(),
            use_mapping_path: false,
            ..LocatorConfig::default()
        },
        source,
    })
}

/// The runtime addresses listed in a `*.runtime.txt` golden (the third column of each line, as written), in order.
pub fn runtime_addresses(rel: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .nth(2)
                .unwrap_or_else(|| panic!("{rel}: {l:?}"))
                .to_string()
        })
        .collect()
}

/// Run `pprofsym addr2line ARGS` with `stdin`; (stdout, stderr, success).
pub fn run_addr2line(args: &[&str], stdin: &str) -> (String, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pprofsym"))
        .arg("addr2line")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

/// Every `step`-th address of `.text` of the symbolizer's binary.
pub fn text_addresses(sym: &ElfSymbolizer, step: usize) -> Vec<Svma> {
    let text = sym.binary().sections().iter().find(|s| s.name == ".text").unwrap();
    let start = text.addr.get();
    (start..start + text.size).step_by(step).map(Svma).collect()
}

/// Batches of `addrs` in windows of each size in `windows` (a fresh DWARF context at each unit change once a window
/// is full), on one thread and on two, answer as single lookups do; returns the single answers.
pub fn assert_windowed_batches_equal_single(
    sym: &mut ElfSymbolizer,
    addrs: &[Svma],
    windows: &[usize],
    what: &str,
) -> Vec<Result<Lookup>> {
    let single: Vec<_> = addrs.iter().map(|&a| sym.frames(a)).collect();
    for &window in windows {
        sym.set_batch_window(window);
        assert_eq!(sym.frames_batch(addrs), single, "{what}, window {window}");
        assert_eq!(
            sym.frames_batch_parallel(addrs, 2),
            single,
            "{what}, window {window}, 2 threads"
        );
    }
    single
}

/// What `go tool pprof -raw` prints for a profile (pprof's `Profile.String`), for comparing whole profiles with the
/// `-raw` goldens. Times are printed in UTC, as the goldens were made with `TZ=UTC`.
pub fn pprof_raw(p: &pprofsym::profile::Profile) -> String {
    use std::collections::BTreeMap;
    let pb = p.pb();
    let mut ss: Vec<String> = Vec::new();
    for c in &pb.comment {
        ss.push(format!("Comment: {}", p.str(*c)));
    }
    if pb.doc_url != 0 {
        ss.push(format!("Doc: {}", p.str(pb.doc_url)));
    }
    let (pt, pu) = pb
        .period_type
        .as_ref()
        .map_or(("", ""), |t| (p.str(t.r#type), p.str(t.unit)));
    ss.push(format!("PeriodType: {pt} {pu}"));
    ss.push(format!("Period: {}", pb.period));
    if pb.time_nanos != 0 {
        let base = pprofsym::report::labels::format_time_utc(pb.time_nanos);
        let (date, _) = base.rsplit_once(' ').unwrap();
        let frac = pb.time_nanos.rem_euclid(1_000_000_000);
        let frac = if frac == 0 {
            String::new()
        } else {
            format!(".{frac:09}").trim_end_matches('0').to_string()
        };
        ss.push(format!("Time: {date}{frac} +0000 UTC"));
    }
    assert_eq!(pb.duration_nanos, 0, "pprof_raw: durations are not formatted");
    ss.push("Samples:".into());
    let dflt = p.str(pb.default_sample_type);
    let header: Vec<String> = pb
        .sample_type
        .iter()
        .map(|t| {
            let ty = p.str(t.r#type);
            let mark = if ty == dflt { "[dflt]" } else { "" };
            format!("{ty}/{}{mark}", p.str(t.unit))
        })
        .collect();
    ss.push(header.join(" "));
    for s in &pb.sample {
        let mut line = String::new();
        for v in &s.value {
            line.push_str(&format!(" {v:>10}"));
        }
        line.push_str(": ");
        for l in &s.location_id {
            line.push_str(&format!("{l} "));
        }
        ss.push(line);
        // pprof's decoder: a label with a string value is a string label; else one with a number or a unit is
        // numeric; units are padded with "" once one value of the key has one.
        let mut strs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut nums: BTreeMap<&str, (Vec<i64>, Vec<&str>)> = BTreeMap::new();
        for l in &s.label {
            if l.str != 0 {
                strs.entry(p.str(l.key)).or_default().push(p.str(l.str));
            } else if l.num != 0 || l.num_unit != 0 {
                let e = nums.entry(p.str(l.key)).or_default();
                if l.num_unit != 0 {
                    while e.1.len() < e.0.len() {
                        e.1.push("");
                    }
                    e.1.push(p.str(l.num_unit));
                }
                e.0.push(l.num);
            }
        }
        if !strs.is_empty() {
            let mut ls: Vec<String> = strs.iter().map(|(k, v)| format!("{k}:[{}]", v.join(" "))).collect();
            ls.sort();
            ss.push(format!("                {}", ls.join(" ")));
        }
        if !nums.is_empty() {
            let mut ls: Vec<String> = nums
                .iter()
                .map(|(k, (v, u))| {
                    let mut u = u.clone();
                    if !u.is_empty() {
                        while u.len() < v.len() {
                            u.push("");
                        }
                    }
                    let vals: Vec<String> = if u.len() == v.len() && !u.is_empty() {
                        v.iter().zip(&u).map(|(v, u)| format!("{v} {u}")).collect()
                    } else {
                        v.iter().map(|v| v.to_string()).collect()
                    };
                    format!("{k}:[{}]", vals.join(" "))
                })
                .collect();
            ls.sort();
            ss.push(format!("                {}", ls.join(" ")));
        }
    }
    ss.push("Locations".into());
    for l in &pb.location {
        let mut loc = format!("{:>6}: {:#x} ", l.id, l.address);
        if l.mapping_id != 0 {
            loc.push_str(&format!("M={} ", l.mapping_id));
        }
        if l.is_folded {
            loc.push_str("[F] ");
        }
        if l.line.is_empty() {
            ss.push(loc.clone());
        }
        for ln in &l.line {
            let f = p.function(ln.function_id).unwrap();
            let (name, sys) = (p.str(f.name), p.str(f.system_name));
            let mut s = format!(
                "{name} {}:{}:{} s={}",
                p.str(f.filename),
                ln.line,
                ln.column,
                f.start_line
            );
            if name != sys {
                s.push_str(&format!("({sys})"));
            }
            ss.push(format!("{loc}{s}"));
            loc = "             ".into();
        }
    }
    ss.push("Mappings".into());
    for m in &pb.mapping {
        let mut bits = String::new();
        for (set, b) in [
            (m.has_functions, "[FN]"),
            (m.has_filenames, "[FL]"),
            (m.has_line_numbers, "[LN]"),
            (m.has_inline_frames, "[IN]"),
        ] {
            if set {
                bits.push_str(b);
            }
        }
        ss.push(format!(
            "{}: {:#x}/{:#x}/{:#x} {} {} {bits}",
            m.id,
            m.memory_start,
            m.memory_limit,
            m.file_offset,
            p.str(m.filename),
            p.str(m.build_id)
        ));
    }
    ss.join("\n") + "\n"
}

/// The first line where `ours` and `theirs` differ, for assertion messages (`None` when equal).
pub fn first_difference(ours: &str, theirs: &str) -> Option<String> {
    if ours == theirs {
        return None;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        if x != y {
            return Some(format!(
                "line {} ({} vs {} lines):\n  ours:   {:?}\n  theirs: {:?}",
                i + 1,
                a.len(),
                b.len(),
                x,
                y
            ));
        }
    }
    Some("trailing newline differs".into())
}
