//! `top --format text` against `go tool pprof -top` goldens, for every golden under testdata/go/goldens.
//!
//! Each golden directory holds a MANIFEST.tsv (`name<TAB>pprof flags`) and `<name>.txt`, made by
//! scripts/regen-go-fixtures.sh. The flags are translated to TopOptions and our text must equal pprof's, line by
//! line. One exception, documented in testdata/go/README.md: Go 1.27's pprof sorts rows whose printed names are
//! equal (several `heapdemo/main.go` rows at `files` granularity) in no defined order, so runs of rows with equal
//! flat weight and equal name (as pprof sorts it, without the `(inline)` marker) are compared as multisets. Every
//! golden listed in a manifest is checked.

use std::path::{Path, PathBuf};

use pprofsym::profile::{LoadOptions, load};
use pprofsym::report::top::render_text;
use pprofsym::report::{Filters, Granularity, TopOptions, top};
use regex::Regex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn options_from_flags(flags: &str) -> Option<TopOptions> {
    let mut o = TopOptions::default();
    let mut f = Filters::default();
    for flag in flags.split_whitespace() {
        let (k, v) = flag
            .trim_start_matches('-')
            .split_once('=')
            .map_or((flag.trim_start_matches('-'), ""), |(k, v)| (k, v));
        match k {
            "top" => {}
            "sample_index" => o.sample_index = Some(v.to_string()),
            "inuse_space" | "inuse_objects" | "alloc_space" | "alloc_objects" => o.sample_index = Some(k.to_string()),
            "cum" => o.cum = true,
            "nodecount" => o.node_count = Some(v.parse().unwrap()),
            "nodefraction" => o.node_fraction = v.parse().unwrap(),
            "edgefraction" => o.edge_fraction = v.parse().unwrap(),
            "unit" => o.unit = v.to_string(),
            "focus" => f.focus = Some(Regex::new(v).unwrap()),
            "ignore" => f.ignore = Some(Regex::new(v).unwrap()),
            "hide" => f.hide = Some(Regex::new(v).unwrap()),
            "show" => f.show = Some(Regex::new(v).unwrap()),
            "show_from" => f.show_from = Some(Regex::new(v).unwrap()),
            g => match Granularity::parse(g) {
                Some(g) => o.granularity = g,
                None => return None,
            },
        }
    }
    o.filters = f;
    Some(o)
}

/// The main binary path pprof was given, read from the first mapping line of the golden `raw.txt`.
fn main_binary(dir: &Path) -> String {
    let raw = std::fs::read_to_string(dir.join("raw.txt")).unwrap();
    let line = raw.lines().skip_while(|l| *l != "Mappings").nth(1).unwrap();
    line.split_whitespace().nth(2).unwrap().to_string()
}

fn rows_match(ours: &str, theirs: &str) -> Result<(), String> {
    let a: Vec<&str> = ours.lines().collect();
    let b: Vec<&str> = theirs.lines().collect();
    if a.len() != b.len() {
        return Err(format!("{} lines vs {} lines", a.len(), b.len()));
    }
    // When pprof printed two rows with the same name, its comparator is inconsistent and the order of rows with
    // equal flat weight is arbitrary: compare such runs as multisets. Otherwise the order must match exactly.
    let names: Vec<String> = b
        .iter()
        .map(|l| l.split_whitespace().skip(5).collect::<Vec<_>>().join(" "))
        .filter(|n| !n.is_empty())
        .collect();
    let mut uniq = names.clone();
    uniq.sort();
    uniq.dedup();
    let relaxed = uniq.len() != names.len();
    // The key of a row for that comparison: its flat weight and the name pprof sorts by, without the `(inline)`
    // marker it appends when printing (not the cum, which may differ between rows of one name).
    let key = |l: &str| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if relaxed && f.len() >= 6 && l.contains('%') {
            let name = f[5..].join(" ");
            let name = name
                .strip_suffix(" (inline)")
                .or_else(|| name.strip_suffix(" (partial-inline)"))
                .unwrap_or(&name)
                .to_string();
            format!("{} {name}", f[0])
        } else {
            l.to_string()
        }
    };
    let mut i = 0;
    while i < a.len() {
        let mut j = i + 1;
        while j < a.len() && key(a[j]) == key(a[i]) && key(b[j]) == key(b[i]) {
            j += 1;
        }
        let mut x: Vec<&str> = a[i..j].to_vec();
        let mut y: Vec<&str> = b[i..j].to_vec();
        x.sort_unstable();
        y.sort_unstable();
        if x != y {
            return Err(format!("line {}:\n  ours:   {}\n  pprof:  {}", i + 1, a[i], b[i]));
        }
        i = j;
    }
    Ok(())
}

#[test]
fn top_text_equals_go_tool_pprof() {
    let goldens = root().join("testdata/go/goldens");
    let mut checked = 0;
    let mut listed = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&goldens).unwrap() {
        let dir = entry.unwrap().path();
        let stem = dir.file_name().unwrap().to_string_lossy().to_string();
        if stem.ends_with(".debug1") {
            continue; // pprof symbolized these its own way: see debug1_goldens_equal_go_tool_pprof_up_to_inline_frames
        }
        let profile_path = root().join("testdata/go").join(format!("{stem}.pb.gz"));
        let mut profile = load(&profile_path, &LoadOptions::default()).unwrap();
        profile.set_main_binary(&main_binary(&dir));
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
        listed += manifest.lines().filter(|l| !l.trim().is_empty()).count();
        for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
            let (name, flags) = line.split_once('\t').unwrap();
            let opts = options_from_flags(flags).unwrap_or_else(|| panic!("{stem}/{name}: unsupported flags {flags}"));
            let report = top(&profile, &opts).unwrap();
            let ours = render_text(&report);
            let theirs = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
            if let Err(e) = rows_match(&ours, &theirs) {
                failures.push(format!("{stem}/{name} ({flags}): {e}"));
            }
            let stderr_path = dir.join(format!("{name}.stderr"));
            if let Ok(expected) = std::fs::read_to_string(&stderr_path) {
                for w in expected.lines().filter(|l| !l.is_empty()) {
                    if !report.warnings.iter().any(|x| x.to_string() == *w) {
                        failures.push(format!("{stem}/{name}: missing warning {w:?}"));
                    }
                }
            }
            checked += 1;
        }
    }
    // Every listed golden is checked; the fixtures hold 100 of them.
    assert_eq!(checked, listed);
    assert!(checked >= 100, "only {checked} goldens found");
    assert!(
        failures.is_empty(),
        "{} of {checked} goldens differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The `.debug1` goldens are `go tool pprof` on Go's `debug=1` heap texts with the binary. pprof symbolizes those
/// with Go's own object tool: one frame per address, named by the outermost function and the innermost file:line,
/// no inline frames; and for the PIE it cannot place the addresses (the text has no maps, so the mapping starts at
/// 0) and leaves them bare. We give the DWARF inline chain, and name what no binary names from the text's `#`
/// lines. So `raw` must equal pprof's up to exactly that: same samples and mappings (but for the PIE's flags), and
/// per location the same address and mapping, pprof's function as our outermost frame and pprof's file:line as our
/// innermost; bare PIE locations named from the comments. `top` must show the same total.
#[test]
fn debug1_goldens_equal_go_tool_pprof_up_to_inline_frames() {
    let go = root().join("testdata/go");
    let mut locations = 0;
    let mut mismatched = Vec::new();
    for stem in ["heap-rate1", "heap-default", "heap-pie-rate1"] {
        let dir = go.join(format!("goldens/{stem}.debug1"));
        let want = std::fs::read_to_string(dir.join("raw.txt")).unwrap();
        let bin = main_binary(&dir);
        let text = format!("{stem}.debug1.txt");
        let run = |args: &[&str]| {
            let o = crate::common::pprofsym().args(args).current_dir(&go).output().unwrap();
            assert!(o.status.success(), "{stem}: {}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8(o.stdout).unwrap()
        };
        let got = run(&["raw", &text, &bin]);
        let split = |s: &str| {
            let (head, rest) = s.split_once("\nLocations\n").unwrap();
            let (locs, maps) = rest.split_once("\nMappings\n").unwrap();
            (head.to_string(), locs.to_string(), maps.to_string())
        };
        let (want_head, want_locs, want_maps) = split(&want);
        let (got_head, got_locs, got_maps) = split(&got);
        if stem.contains("pie") {
            // pprof leaves every PIE address bare; so does our binary lookup, and the `#` lines name them: the
            // binary changes nothing, the tables equal those made without it.
            assert!(
                want_maps.starts_with("1: 0x0/0xffffffffffffffff/0x0 bin/heapdemo-pie  \n"),
                "{want_maps}"
            );
            assert!(
                want_locs.lines().all(|l| l.split_whitespace().count() == 3),
                "{want_locs}"
            );
            for index in ["inuse_space", "alloc_objects"] {
                let with = run(&["top", "--format", "text", "-i", index, &text, &bin]);
                let without = run(&["top", "--format", "text", "-i", index, &text]);
                let body = |s: &str| {
                    s.lines()
                        .skip_while(|l| !l.starts_with("Type:"))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                assert_eq!(body(&with), body(&without), "{stem} {index}");
                assert!(
                    !with.contains("<unknown>") && with.contains("main.buildIndex"),
                    "{with}"
                );
            }
            continue;
        }
        assert_eq!(got_head, want_head, "{stem}: samples");
        assert_eq!(got_maps, want_maps, "{stem}: mappings");
        // Our locations: a header line `N: ADDR M=m FUNC FILE:LINE:COL s=S`, then one line per outer inline frame.
        let mut ours: Vec<Vec<&str>> = Vec::new();
        for l in got_locs.lines() {
            if l.trim_start()
                .split_once(": 0x")
                .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
            {
                ours.push(vec![l]);
            } else {
                ours.last_mut().unwrap().push(l);
            }
        }
        let theirs: Vec<&str> = want_locs.lines().collect();
        assert_eq!(ours.len(), theirs.len(), "{stem}: location count");
        for (o, t) in ours.iter().zip(&theirs) {
            let tf: Vec<&str> = t.split_whitespace().collect();
            let of: Vec<&str> = o[0].split_whitespace().collect();
            assert_eq!(of[..3], tf[..3], "{stem}: {t}");
            // pprof: `N: ADDR M=1 FUNC FILE:LINE:0 s=0`, the function name may hold spaces (`func1.1 (inlined)`
            // does not occur in Go names, but keep to the last two fields).
            let t_func = tf[3..tf.len() - 2].join(" ");
            let t_pos = tf[tf.len() - 2];
            let inner_pos = of[of.len() - 2];
            let outer: Vec<&str> = o.last().unwrap().split_whitespace().collect();
            let outer_func = if o.len() == 1 {
                of[3..of.len() - 2].join(" ")
            } else {
                outer[..outer.len() - 2].join(" ")
            };
            assert_eq!(outer_func, t_func, "{stem}: outermost function of {:?} vs {t}", o);
            if inner_pos != t_pos {
                // pprof's heap drop list (`runtime\..*`, its allocRxStr) prunes inlined runtime frames from the
                // inside of a location; objTool's single frame keeps their file:line. So the whole chain of the
                // address must start with such a runtime frame at pprof's position.
                let a2l = run(&["addr2line", "-f", "-i", "-e", &bin, tf[1]]);
                let chain: Vec<&str> = a2l.lines().collect();
                let ok = chain.len() >= 4
                    && chain[0].starts_with("runtime.")
                    && chain[1] == t_pos.trim_end_matches(":0")
                    && chain[chain.len() - 1] == inner_pos.trim_end_matches(":0");
                if !ok {
                    mismatched.push(format!("{stem}: {:?} vs {t} (chain {chain:?})", o));
                }
            }
            locations += 1;
        }
        for index in ["inuse_space", "inuse_objects", "alloc_space", "alloc_objects"] {
            let golden = std::fs::read_to_string(dir.join(format!("top.{index}.functions.txt"))).unwrap();
            let got = run(&["top", "--format", "text", "-i", index, &text, &bin]);
            // The rows differ (our inline frames are rows of their own, so other nodes fall under the cutoff); the
            // total does not.
            let total = |s: &str| {
                s.lines()
                    .find(|l| l.starts_with("Showing nodes"))
                    .and_then(|l| l.rsplit_once(" of "))
                    .map(|(_, t)| t.to_string())
            };
            assert_eq!(total(&got), total(&golden), "{stem} {index}");
            assert!(total(&got).is_some());
        }
    }
    assert!(locations > 200, "only {locations} locations compared");
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n"));
}
