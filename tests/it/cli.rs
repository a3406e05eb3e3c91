//! The `pprofsym` binary's `info`, `sites` and `top` output in every format, checked against what
//! `go tool pprof` printed for the same Go fixtures (`testdata/go/goldens/<stem>/raw.txt` and `top.*.txt`).

use std::path::PathBuf;

use serde_json::Value;

use crate::common;

const STEMS: [&str; 3] = ["heap-rate1", "heap-default", "heap-pie-rate1"];
const INDEXES: [&str; 4] = ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn profile(stem: &str) -> String {
    root()
        .join(format!("testdata/go/{stem}.pb.gz"))
        .to_string_lossy()
        .into_owned()
}

fn golden(stem: &str, name: &str) -> String {
    std::fs::read_to_string(root().join(format!("testdata/go/goldens/{stem}/{name}"))).unwrap()
}

fn pprofsym(args: &[&str]) -> String {
    let out = common::pprofsym().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "pprofsym {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&pprofsym(args)).unwrap()
}

/// `go tool pprof -raw`: the sample type names and, per sample, its values and location count.
struct Raw {
    types: Vec<String>,
    samples: Vec<Vec<i64>>,
    locations: usize,
}

fn parse_raw(text: &str) -> Raw {
    let mut lines = text.lines();
    let mut types = Vec::new();
    let mut samples = Vec::new();
    let mut locations = 0;
    let mut section = "";
    while let Some(l) = lines.next() {
        if l == "Samples:" {
            types = lines
                .next()
                .unwrap()
                .split_whitespace()
                .map(|t| t.split('/').next().unwrap().to_string())
                .collect();
            section = "samples";
            continue;
        }
        if l == "Locations" {
            section = "locations";
            continue;
        }
        if l == "Mappings" {
            section = "mappings";
            continue;
        }
        match section {
            "samples" => {
                if let Some((vals, _stack)) = l.split_once(':')
                    && let Ok(v) = vals.split_whitespace().map(str::parse).collect::<Result<Vec<i64>, _>>()
                    && v.len() == types.len()
                    && !v.is_empty()
                {
                    samples.push(v);
                }
            }
            // "    12: 0x4a1b2c M=1 main.f ..." starts a location; continuation lines have no "M=".
            "locations" if l.contains(" M=") => locations += 1,
            _ => {}
        }
    }
    Raw {
        types,
        samples,
        locations,
    }
}

fn raw_total(raw: &Raw, ty: &str) -> i64 {
    let i = raw.types.iter().position(|t| t == ty).unwrap();
    raw.samples.iter().map(|s| s[i]).sum()
}

#[test]
fn info_json_counts_and_totals_equal_pprof_raw() {
    for stem in STEMS {
        let raw = parse_raw(&golden(stem, "raw.txt"));
        assert!(!raw.samples.is_empty(), "{stem}: no samples parsed from raw.txt");
        let info = json(&["info", "--format", "json", &profile(stem)]);
        assert_eq!(
            info["samples"].as_u64().unwrap() as usize,
            raw.samples.len(),
            "{stem}: samples"
        );
        assert_eq!(
            info["locations"].as_u64().unwrap() as usize,
            raw.locations,
            "{stem}: locations"
        );
        for t in info["sample_types"].as_array().unwrap() {
            let ty = t["type"].as_str().unwrap();
            assert_eq!(
                t["total"].as_i64().unwrap(),
                raw_total(&raw, ty),
                "{stem}: total of {ty}"
            );
        }
        // inuse_space is the default, as in every Go heap profile.
        let dflt: Vec<&str> = info["sample_types"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["default"].as_bool().unwrap())
            .map(|t| t["type"].as_str().unwrap())
            .collect();
        assert_eq!(dflt, ["inuse_space"], "{stem}");
    }
}

#[test]
fn info_text_and_csv() {
    let p = profile("heap-rate1");
    let text = pprofsym(&["info", "--format", "text", &p]);
    assert!(
        text.contains("  inuse_space/bytes  total 42.80MB (44877960 bytes)  [default]"),
        "{text}"
    );
    assert!(text.contains("Period: 1 space/bytes"), "{text}");
    let csv = pprofsym(&["info", "--format", "csv", &p]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,start,limit,offset,file,build_id,flags,locations")
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first[0], "1");
    assert!(first[4].ends_with("heapdemo"), "{first:?}");
}

/// Parses a value as pprof prints it (`15.75MB`, `621.34kB`, `6MB`, `60245`) into base units and the
/// rounding slack of its two decimals.
fn parse_pprof_value(s: &str) -> (f64, f64) {
    let units = [("GB", 1u64 << 30), ("MB", 1 << 20), ("kB", 1 << 10), ("B", 1)];
    for (u, f) in units {
        if let Some(num) = s.strip_suffix(u) {
            let v: f64 = num.parse().unwrap();
            return (v * f as f64, 0.005 * f as f64 + 0.5);
        }
    }
    let v: f64 = s.parse().unwrap();
    (v, 0.5)
}

/// The `name -> flat` rows of a `go tool pprof -top` golden.
fn golden_flat_rows(text: &str) -> Vec<(String, (f64, f64))> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("flat  flat%"))
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let name = f[5..]
                .iter()
                .filter(|w| !w.starts_with("(") || !w.ends_with("inline)"))
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            (name, parse_pprof_value(f[0]))
        })
        .collect()
}

/// The text format of `sites` total line, and the total of each column equals pprof's total for that index.
#[test]
fn sites_totals_equal_pprof_and_leaf_sites_equal_lines_flat() {
    for stem in STEMS {
        let raw = parse_raw(&golden(stem, "raw.txt"));
        let r = json(&["sites", "--format", "json", &profile(stem)]);
        let rows = r["rows"].as_array().unwrap();
        assert_eq!(r["site_count"].as_u64().unwrap() as usize, rows.len());
        for ty in INDEXES {
            let total = r["total"][ty].as_i64().unwrap();
            assert_eq!(total, raw_total(&raw, ty), "{stem}: sites total {ty}");
            let sum: i64 = rows.iter().map(|row| row[ty].as_i64().unwrap()).sum();
            assert_eq!(sum, total, "{stem}: Σ sites {ty}");

            // A site that is the leaf of its samples is a flat row of `-lines`, with the same weight.
            let lines = golden_flat_rows(&golden(stem, &format!("top.{ty}.lines.txt")));
            let mut compared = 0;
            for row in rows {
                let name = format!(
                    "{} {}:{}",
                    row["function"].as_str().unwrap(),
                    row["file"].as_str().unwrap(),
                    row["line"]
                );
                if name.starts_with("runtime.") {
                    continue; // runtime frames are under the sites of their callers in pprof's view
                }
                let Some((_, (flat, slack))) = lines.iter().find(|(n, _)| *n == name) else {
                    continue;
                };
                let ours = row[ty].as_i64().unwrap() as f64;
                assert!(
                    (ours - flat).abs() <= *slack,
                    "{stem} {ty}: site {name} = {ours}, pprof -lines flat {flat}"
                );
                compared += 1;
            }
            assert!(
                compared >= 3 || stem == "heap-default",
                "{stem} {ty}: only {compared} sites compared"
            );
        }
    }
}

#[test]
fn sites_csv_and_text_agree_with_json() {
    let p = profile("heap-rate1");
    let j = json(&["sites", "--format", "json", &p]);
    let rows = j["rows"].as_array().unwrap();
    let csv = pprofsym(&["sites", "--format", "csv", &p]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("inuse_space,inuse_objects,alloc_space,alloc_objects,avg_size,function,file,line,location")
    );
    let csv_rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(csv_rows.len(), rows.len());
    for (c, r) in csv_rows.iter().zip(rows) {
        let csv_order = ["inuse_space", "inuse_objects", "alloc_space", "alloc_objects"];
        for (col, ty) in csv_order.iter().enumerate() {
            assert_eq!(c[col].parse::<i64>().unwrap(), r[ty].as_i64().unwrap(), "{ty}");
        }
        assert_eq!(c[5], r["function"].as_str().unwrap());
        assert_eq!(c[7], r["line"].to_string());
    }
    let text = pprofsym(&["sites", "--format", "text", &p]);
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("    42.80MB         131048     369.30MB         166221"),
        "{last}"
    );
    assert!(last.ends_with(&format!("TOTAL ({} sites)", rows.len())), "{last}");
    // --limit keeps the order and the totals.
    let j2 = json(&["sites", "--format", "json", "-n", "3", "--sort", "alloc_space", &p]);
    let r2 = j2["rows"].as_array().unwrap();
    assert_eq!(r2.len(), 3);
    assert_eq!(j2["total"], j["total"]);
    let alloc: Vec<i64> = r2.iter().map(|r| r["alloc_space"].as_i64().unwrap()).collect();
    assert!(alloc.windows(2).all(|w| w[0] >= w[1]), "{alloc:?}");
}

#[test]
fn top_json_and_csv_match_text_rows_and_pprof_totals() {
    for stem in STEMS {
        for ty in INDEXES {
            let p = profile(stem);
            let text = pprofsym(&["top", "--format", "text", "-i", ty, &p]);
            let j = json(&["top", "--format", "json", "-i", ty, &p]);
            let rows = j["rows"].as_array().unwrap();
            let total = j["total"].as_i64().unwrap();
            let raw = parse_raw(&golden(stem, "raw.txt"));
            let raw_abs: i64 = {
                let i = raw.types.iter().position(|t| t == ty).unwrap();
                raw.samples.iter().map(|s| s[i].abs()).sum()
            };
            assert_eq!(total, raw_abs, "{stem} {ty}");
            let golden_rows = golden_flat_rows(&text);
            assert_eq!(golden_rows.len(), rows.len());
            for ((name, (flat, slack)), r) in golden_rows.iter().zip(rows) {
                assert_eq!(r["name"].as_str().unwrap(), name);
                assert!(
                    (r["flat"].as_i64().unwrap() as f64 - flat).abs() <= *slack,
                    "{stem} {ty} {name}"
                );
            }
            let csv = pprofsym(&["top", "--format", "csv", "-i", ty, &p]);
            let csv_rows: Vec<&str> = csv.lines().skip(1).collect();
            assert_eq!(csv_rows.len(), rows.len());
            for (c, r) in csv_rows.iter().zip(rows) {
                let f: Vec<&str> = c.split(',').collect();
                assert_eq!(f[0].parse::<i64>().unwrap(), r["flat"].as_i64().unwrap());
                assert_eq!(f[3].parse::<i64>().unwrap(), r["cum"].as_i64().unwrap());
                assert_eq!(f[5], r["name"].as_str().unwrap());
                assert_eq!(f[6], r["inline"].as_str().unwrap());
            }
        }
    }
}

#[test]
fn bad_flags_are_one_line_errors() {
    let p = profile("heap-rate1");
    for args in [
        vec!["top", "--format", "yaml", p.as_str()],
        vec!["top", "-i", "nope", p.as_str()],
        vec!["top", "-i", "9", p.as_str()],
        vec!["top", "--focus", "(", p.as_str()],
        vec!["sites", "--sort", "size", p.as_str()],
    ] {
        let out = common::pprofsym().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

use crate::gen_profile;

/// Over 20 000 samples the graph is built on several threads; the report must not depend on it.
#[test]
fn parallel_graph_equals_single_threaded() {
    let p = gen_profile::generate(24_000, 3_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.pb.gz");
    std::fs::write(&path, pprofsym::profile::encode_gzip(&p)).unwrap();
    let path = path.to_str().unwrap();
    for args in [
        vec!["top", "--format", "csv", "--lines", "-n", "40", "--cum", path],
        vec![
            "top",
            "--format",
            "csv",
            "--addresses",
            "--no-trim",
            "-i",
            "alloc_objects",
            path,
        ],
    ] {
        let run = |threads: &str| {
            let out = common::pprofsym()
                .args(&args)
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        assert_eq!(run("1"), run("3"), "{args:?}");
    }
}
