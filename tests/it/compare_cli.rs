//! The commands that compare and draw: `merge`, `diff`, `folded`, `flame`, and `top` with several profiles and
//! bases, run as a user runs them (in testdata/compare).

use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Output};

use pprofsym::profile::{LoadOptions, Profile, load};

use crate::common::{first_difference, path, pprof_raw};

fn pprofsym(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pprofsym"))
        .args(args)
        .current_dir(path("testdata/compare"))
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = pprofsym(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let o = pprofsym(args);
    assert!(!o.status.success(), "{args:?} should fail");
    assert!(
        o.stdout.is_empty(),
        "{args:?} printed {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let e = String::from_utf8(o.stderr).unwrap();
    assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: one line expected: {e}");
    e
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(path("testdata/compare/goldens").join(name)).unwrap()
}

fn load_rel(rel: &str) -> Profile {
    load(&path("testdata/compare").join(rel), &LoadOptions::default()).unwrap()
}

#[test]
fn merge_writes_what_go_tool_pprof_proto_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.pb.gz");
    let o = out.to_str().unwrap();
    let o_ = pprofsym(&[
        "merge",
        "heap-rate1.t0.pb.gz",
        "heap-rate1.t1.pb.gz",
        "heap-rate1.t2.pb.gz",
        "-o",
        o,
    ]);
    assert!(o_.status.success(), "{}", String::from_utf8_lossy(&o_.stderr));
    let stderr = String::from_utf8(o_.stderr).unwrap();
    assert!(stderr.contains("3 profiles merged: 374 samples"), "{stderr}");
    let merged = load(&out, &LoadOptions::default()).unwrap();
    assert_eq!(
        first_difference(&pprof_raw(&merged), &golden("merge.rate1.t012.raw.txt")),
        None
    );
    // With a base, as `go tool pprof -proto -diff_base`.
    ok(&[
        "merge",
        "heap-rate1.t1.pb.gz",
        "--diff-base",
        "heap-rate1.t0.pb.gz",
        "-o",
        o,
    ]);
    let d = load(&out, &LoadOptions::default()).unwrap();
    assert_eq!(
        first_difference(&pprof_raw(&d), &golden("diffbase.rate1.t0-t1.raw.txt")),
        None
    );
}

#[test]
fn bad_merges_fail_with_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.pb.gz");
    let o = out.to_str().unwrap();
    let e = fails(&["merge", "heap-rate1.t2.pb.gz", "cpu.pb.gz", "-o", o]);
    assert!(
        e.contains("cpu.pb.gz: profiles have empty common sample type list"),
        "{e}"
    );
    let e = fails(&["merge", "heap-rate1.t2.pb.gz", "no-such-file.pb.gz", "-o", o]);
    assert!(e.contains("no-such-file.pb.gz"), "{e}");
    let e = fails(&["merge", "heap-rate1.t2.pb.gz", "growdemo/go.mod", "-o", o]);
    assert!(e.contains("growdemo/go.mod: not an ELF file, nor a profile"), "{e}");
    let e = fails(&["top", "heap-rate1.t2.pb.gz", "--base", "goroutine.pb.gz"]);
    assert!(
        e.contains("goroutine.pb.gz (base)") && e.contains("empty common sample type list"),
        "{e}"
    );
    let e = fails(&["top", "heap-rate1.t2.pb.gz", "--base", "no-such-file.pb.gz"]);
    assert!(e.contains("base profile") && e.contains("no-such-file.pb.gz"), "{e}");
    let e = fails(&["top", "heap-rate1.t2.pb.gz", "--normalize"]);
    assert!(e.contains("--normalize needs --base"), "{e}");
    let o = pprofsym(&[
        "top",
        "heap-rate1.t2.pb.gz",
        "--base",
        "heap-rate1.t0.pb.gz",
        "--diff-base",
        "heap-rate1.t1.pb.gz",
    ]);
    assert!(!o.status.success());
    assert!(!out.exists());
}

#[test]
fn every_base_is_subtracted() {
    // pprof keeps only the last -base; pprofsym subtracts them all: t0 + t1 minus t0 and t1 is nothing.
    let all = ok(&[
        "top",
        "--format",
        "text",
        "heap-rate1.t0.pb.gz",
        "heap-rate1.t1.pb.gz",
        "--base",
        "heap-rate1.t0.pb.gz",
        "--base",
        "heap-rate1.t1.pb.gz",
    ]);
    assert!(all.contains("Showing nodes accounting for 0, 0% of 0 total"), "{all}");
    // One base is exactly pprof's -base.
    let one = ok(&[
        "top",
        "--format",
        "text",
        "--base",
        "heap-rate1.t0.pb.gz",
        "bin/growdemo",
        "heap-rate1.t1.pb.gz",
    ]);
    assert_eq!(
        first_difference(&one, &golden("base.rate1.t0-t1.inuse_space.functions.txt")),
        None
    );
    // t2 - t0 - t1 differs from both single subtractions, and its inuse total is t2 - t0 - t1.
    let two = ok(&[
        "top",
        "--format",
        "csv",
        "heap-rate1.t2.pb.gz",
        "--base",
        "heap-rate1.t0.pb.gz",
        "--base",
        "heap-rate1.t1.pb.gz",
        "--no-trim",
    ]);
    let total = |rel: &str| load_rel(rel).pb().sample.iter().map(|s| s.value[3]).sum::<i64>();
    let flat: i64 = two
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(
        flat,
        total("heap-rate1.t2.pb.gz") - total("heap-rate1.t0.pb.gz") - total("heap-rate1.t1.pb.gz")
    );
}

#[test]
fn tag_focus_reads_ranges_as_pprof_does() {
    let o = pprofsym(&[
        "top",
        "--format",
        "text",
        "--tag-focus",
        "bytes=1mb:",
        "bin/growdemo",
        "heap-rate1.t2.pb.gz",
    ]);
    assert!(o.status.success());
    assert_eq!(
        first_difference(
            &String::from_utf8(o.stdout).unwrap(),
            &golden("tagfocus.ge_1mb.top.txt")
        ),
        None
    );
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(stderr.contains("'1mb:' is read as a numeric range"), "{stderr}");
    let o = pprofsym(&["top", "--tag-focus", "bytes=2mb:1mb", "heap-rate1.t2.pb.gz"]);
    assert!(
        String::from_utf8(o.stderr)
            .unwrap()
            .contains("TagFocus expression matched no samples")
    );
    let e = fails(&["top", "--tag-focus", "bytes=(", "heap-rate1.t2.pb.gz"]);
    assert!(e.contains("--tag-focus: invalid regular expression"), "{e}");
    // sites and folded filter the same samples: objects of 1 MiB or more.
    let sites = ok(&[
        "sites",
        "--format",
        "csv",
        "--tag-focus",
        "bytes=1mb:",
        "heap-rate1.t2.pb.gz",
    ]);
    let inuse: i64 = sites
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse::<i64>().unwrap())
        .sum();
    let folded = ok(&["folded", "--tag-focus", "bytes=1mb:", "heap-rate1.t2.pb.gz"]);
    let sum: i64 = folded
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(inuse, sum);
    // 12.68MB in pprof's golden.
    assert_eq!(format!("{:.2}MB", sum as f64 / 1048576.0), "12.68MB");
}

/// The folded stacks of `p` for sample value `index`, computed straight from the message: every sample's locations
/// leaf first, each location's lines innermost first, function names, reversed; values summed per stack.
fn folded_from_samples(p: &Profile, index: usize) -> String {
    let names = p.display_names();
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for s in &p.pb().sample {
        let mut frames: Vec<&str> = Vec::new();
        for id in &s.location_id {
            let loc = p.location(*id).unwrap();
            for ln in &loc.line {
                frames.push(&names[p.function_index(ln.function_id).unwrap()]);
            }
        }
        frames.reverse();
        *sums.entry(frames.join(";")).or_default() += s.value[index];
    }
    sums.iter()
        .filter(|(_, v)| **v != 0)
        .map(|(k, v)| format!("{k} {v}\n"))
        .collect()
}

#[test]
fn folded_equals_the_samples() {
    for (rel, index, flag) in [
        ("heap-rate1.t2.pb.gz", 3, "inuse_space"),
        ("heap-rate1.t1.pb.gz", 0, "alloc_objects"),
        ("heap-default.t2.pb.gz", 1, "alloc_space"),
    ] {
        let ours = ok(&["folded", "-i", flag, rel]);
        let want = folded_from_samples(&load_rel(rel), index);
        assert_eq!(first_difference(&ours, &want), None, "{rel} {flag}");
        // The command writes the text straight from the stacks; the library's report renders the same.
        let opts = pprofsym::report::folded::FoldedOptions {
            sample_index: Some(flag.to_string()),
            ..Default::default()
        };
        let report = pprofsym::report::folded::folded(&load_rel(rel), &opts).unwrap();
        assert_eq!(pprofsym::report::folded::render_text(&report), ours, "{rel} {flag}");
        assert!(ours.lines().count() > 10);
    }
    // A profile large enough to be gathered in two halves, each sorted, then merged.
    let generated = Profile::new(crate::gen_profile::generate(30_000, 3_000)).unwrap();
    for (index, flag) in [(3, "inuse_space"), (0, "alloc_objects")] {
        let opts = pprofsym::report::folded::FoldedOptions {
            sample_index: Some(flag.to_string()),
            ..Default::default()
        };
        let report = pprofsym::report::folded::folded(&generated, &opts).unwrap();
        let ours = pprofsym::report::folded::render_text(&report);
        let want = folded_from_samples(&generated, index);
        assert_eq!(first_difference(&ours, &want), None, "generated {flag}");
        assert!(ours.lines().count() > 1000);
    }
    // And what pprof's web flame graph draws (its data, collapsed: testdata/compare/flame).
    for (args, name) in [
        (vec!["heap-rate1.t2.pb.gz"], "rate1.t2"),
        (
            vec!["--base", "heap-rate1.t0.pb.gz", "heap-rate1.t2.pb.gz"],
            "rate1.t0-t2.base",
        ),
        (
            vec!["--diff-base", "heap-rate1.t0.pb.gz", "heap-rate1.t2.pb.gz"],
            "rate1.t0-t2.diffbase",
        ),
    ] {
        let mut a = vec!["folded"];
        a.extend(args);
        let want = std::fs::read_to_string(path("testdata/compare/flame").join(format!("{name}.folded"))).unwrap();
        assert_eq!(first_difference(&ok(&a), &want), None, "{name}");
    }
}

/// The `<title>` texts of an SVG, checking on the way that it is well-formed XML.
fn svg_titles(svg: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(svg);
    let (mut titles, mut in_title, mut depth) = (Vec::new(), false, 0i32);
    let mut text = String::new();
    loop {
        match r.read_event().unwrap_or_else(|e| panic!("not XML: {e}")) {
            Event::Start(e) => {
                depth += 1;
                in_title = e.name().as_ref() == b"title";
                text.clear();
            }
            Event::End(_) => {
                depth -= 1;
                if in_title {
                    titles.push(std::mem::take(&mut text));
                }
                in_title = false;
            }
            Event::Text(t) if in_title => text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(g) if in_title => text.push(match g.decode().unwrap().as_ref() {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                other => panic!("unexpected entity {other}"),
            }),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    titles
}

/// The boxes of a flame graph from folded text: every stack prefix with its summed value.
fn boxes(folded: &str) -> HashMap<String, i64> {
    let mut out: HashMap<String, i64> = HashMap::new();
    for l in folded.lines() {
        let (stack, v) = l.rsplit_once(' ').unwrap();
        let v: i64 = v.parse().unwrap();
        let mut prefix = String::new();
        for f in stack.split(';') {
            if !prefix.is_empty() {
                prefix.push(';');
            }
            prefix.push_str(f);
            *out.entry(prefix.clone()).or_default() += v;
        }
    }
    out
}

fn mb(v: i64) -> String {
    let s = format!("{:.2}", v as f64 / 1048576.0);
    format!("{}MB", s.strip_suffix(".00").unwrap_or(&s))
}

#[test]
fn flame_is_xml_and_names_the_heaviest_frames_with_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t2.svg");
    ok(&["flame", "heap-rate1.t2.pb.gz", "-o", out.to_str().unwrap()]);
    let svg = std::fs::read_to_string(&out).unwrap();
    let titles = svg_titles(&svg);
    assert!(
        svg.contains("inuse_space: 34.93MB total"),
        "title names the type and total"
    );
    let mut heavy: Vec<(String, i64)> = boxes(&ok(&["folded", "heap-rate1.t2.pb.gz"])).into_iter().collect();
    heavy.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (stack, v) in heavy.iter().filter(|(_, v)| *v >= 1 << 20).take(12) {
        let name = stack.rsplit(';').next().unwrap();
        let pct = format!("{:.2}%", *v as f64 * 100.0 / 36628808.0);
        let want = format!("{name} ({}, {pct})", mb(*v));
        assert!(titles.contains(&want), "no box {want:?} for {stack}");
    }
    // The root box holds everything.
    assert!(
        titles.contains(&"all (34.93MB, 100.00%)".to_string()),
        "{:?}",
        &titles[..3]
    );
    // Interactive: inferno's script (search, zoom) is embedded.
    assert!(svg.contains("function search(") && svg.contains("function zoom("));
}

#[test]
fn differential_flame_colours_growth_and_shrink() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.svg");
    // With --diff-base nothing cancels: the steady tables show, netting to zero.
    ok(&[
        "flame",
        "--diff-base",
        "heap-rate1.t0.pb.gz",
        "heap-rate1.t2.pb.gz",
        "-o",
        out.to_str().unwrap(),
    ]);
    let svg = std::fs::read_to_string(&out).unwrap();
    let titles = svg_titles(&svg);
    let fill_of = |title_start: &str| -> String {
        let i = svg
            .find(&format!("<title>{title_start}"))
            .unwrap_or_else(|| panic!("no {title_start}"));
        let rect = &svg[i..];
        let f = rect.find("fill=\"").unwrap() + 6;
        rect[f..f + rect[f..].find('"').unwrap()].to_string()
    };
    // The pool released after t0 shrank (blue), the cache grew (red), the steady tables net to zero (grey).
    assert!(fill_of("main.stage0 (-").starts_with("rgb(") && fill_of("main.stage0 (-").ends_with(",255)"));
    assert!(fill_of("main.stage2 (+").starts_with("rgb(255,"));
    assert_eq!(fill_of("main.loadTables (0,"), "rgb(224,224,224)");
    assert!(titles.iter().any(|t| t.starts_with("main.fillCache (+")));
}

#[test]
fn diff_ranks_sites_by_growth_and_marks_new_and_gone() {
    let json = ok(&["diff", "--format", "json", "heap-rate1.t0.pb.gz", "heap-rate1.t1.pb.gz"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v["rows"].as_array().unwrap();
    let row = |site: &str| {
        rows.iter()
            .find(|r| r["site"] == site)
            .unwrap_or_else(|| panic!("no {site}"))
    };
    // The journal: one 1 MiB buffer at t0, three at t1 (plus its small slice header).
    let j = row("main.appendJournal growdemo/main.go:108");
    let (old, new) = (j["old_space"].as_i64().unwrap(), j["new_space"].as_i64().unwrap());
    assert!((1 << 20..(1 << 20) + 1024).contains(&old) && (3 << 20..(3 << 20) + 1024).contains(&new));
    // The pool was released after t0; the generic rings appear at t1.
    assert_eq!(row("main.grabBuf growdemo/main.go:81")["change"], "gone");
    assert_eq!(
        row("main.makeSlab[go.shape.*uint8] growdemo/main.go:114")["change"],
        "new"
    );
    // Ranked by growth: deltas never increase down the table.
    let deltas: Vec<i64> = rows
        .iter()
        .map(|r| r["new_space"].as_i64().unwrap() - r["old_space"].as_i64().unwrap())
        .collect();
    assert!(deltas.windows(2).all(|w| w[0] >= w[1]));
    // The totals are the profiles' inuse totals, as pprof prints them.
    let total = &v["total"];
    let kb = |x: &serde_json::Value| format!("{:.2}kB", x.as_i64().unwrap() as f64 / 1024.0);
    assert!(golden("single.rate1.t0.top.txt").contains(&format!("of {} total", kb(&total["old_space"]))));
    assert!(golden("single.rate1.t1.top.txt").contains(&format!("of {} total", kb(&total["new_space"]))));
    // The text table says so too.
    let text = ok(&["diff", "--format", "text", "heap-rate1.t0.pb.gz", "heap-rate1.t1.pb.gz"]);
    assert!(text.contains("main.grabBuf growdemo/main.go:81  [gone]"), "{text}");
    let e = fails(&["diff", "heap-rate1.t0.pb.gz", "cpu.pb.gz"]);
    assert!(e.contains("not a heap profile"), "{e}");
}

#[test]
fn cut_and_merged_stacks_draw_the_same_flame_graph() {
    use pprofsym::profile::ops::{self, BaseMode, CompareOptions, Named};
    use pprofsym::report::flame::{FlameOptions, flame_svg, min_box_percent};
    use pprofsym::report::folded::{FoldedOptions, stacks};
    let diff_base = |new: Profile, old: Profile| {
        ops::compare(
            vec![Named::new("new", new)],
            vec![Named::new("old", old)],
            CompareOptions {
                mode: BaseMode::DiffBase,
                normalize: false,
            },
        )
        .unwrap()
        .profile
    };
    let generated = || Profile::new(crate::gen_profile::generate(20_000, 4_000)).unwrap();
    // (name, profile, differential, drawn in two halves)
    for (name, p, differential, halves) in [
        ("t2", load_rel("heap-rate1.t2.pb.gz"), false, false),
        (
            "t0-t2",
            diff_base(load_rel("heap-rate1.t2.pb.gz"), load_rel("heap-rate1.t0.pb.gz")),
            true,
            false,
        ),
        ("generated", generated(), false, true),
        // A difference (values of both signs) large enough for two halves.
        (
            "generated diff",
            diff_base(generated(), load_rel("heap-rate1.t0.pb.gz")),
            true,
            true,
        ),
    ] {
        let all = stacks(&p, &FoldedOptions::default()).unwrap();
        let cut = all.clone().cut(min_box_percent(), differential);
        assert!(cut.len() < all.len(), "{name}: nothing was cut");
        // Icicles (roots at the top) for the differential ones.
        let fo = FlameOptions {
            differential,
            inverted: differential,
            ..Default::default()
        };
        // The picture of every stack, given to inferno as they are, for it to sort and draw.
        let every = String::from_utf8(
            flame_svg(
                &all,
                &FlameOptions {
                    every_stack: true,
                    ..fo.clone()
                },
            )
            .unwrap(),
        )
        .unwrap();
        // The same from narrow stacks given as their parents' time, with and without the cut; a large graph drawn
        // by two infernos has the same boxes, in another order.
        for (how, b) in [
            ("merged", flame_svg(&all, &fo).unwrap()),
            ("cut", flame_svg(&cut, &fo).unwrap()),
        ] {
            let b = String::from_utf8(b).unwrap();
            assert_eq!(every != b, halves, "{name}, {how}: drawn in two halves or not");
            let (x, y) = (boxes_in_order(&every), boxes_in_order(&b));
            if x != y {
                panic!(
                    "{name}, {how}: the SVGs differ: {}",
                    first_difference(&y.join("\n"), &x.join("\n")).unwrap()
                );
            }
        }
    }
}

/// An SVG of inferno's as its text before the boxes, its boxes (`<g>…</g>`) sorted, and its text after them.
fn boxes_in_order(svg: &str) -> Vec<String> {
    let open = svg.find("<svg id=\"frames\"").expect("a frames element");
    let start = open + svg[open..].find('>').unwrap() + 1;
    let end = svg.rfind("</svg></svg>").expect("the end of the frames element");
    let mut boxes: Vec<String> = svg[start..end].split("<g>").map(str::to_string).collect();
    boxes.sort();
    let mut all = vec![svg[..start].to_string()];
    all.extend(boxes);
    all.push(svg[end..].to_string());
    all
}
