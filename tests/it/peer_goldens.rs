//! `top --format text` on google/pprof's own profile.proto test inputs equals `go tool pprof -top`.

use std::path::PathBuf;

use pprofsym::profile::{LoadOptions, load};
use pprofsym::report::top::render_text;
use pprofsym::report::{Granularity, TopOptions, top};

#[test]
fn peer_profiles_match_go_tool_pprof() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/peer");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut n = 0;
    for line in manifest.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let p = load(&dir.join(cols[1]), &LoadOptions::default()).unwrap();
        let mut o = TopOptions::default();
        for flag in cols[2].split_whitespace() {
            let (k, v) = flag
                .trim_start_matches('-')
                .split_once('=')
                .unwrap_or((flag.trim_start_matches('-'), ""));
            match k {
                "top" => {}
                "sample_index" => o.sample_index = Some(v.into()),
                "cum" => o.cum = true,
                "nodecount" => o.node_count = Some(v.parse().unwrap()),
                "nodefraction" => o.node_fraction = v.parse().unwrap(),
                g => o.granularity = Granularity::parse(g).unwrap(),
            }
        }
        let golden = std::fs::read_to_string(dir.join(format!("{}.txt", cols[0]))).unwrap();
        assert_eq!(render_text(&top(&p, &o).unwrap()), golden, "{}", cols[0]);
        n += 1;
    }
    assert_eq!(n, 18);
}

/// `raw --symbolize none` of the jemalloc_pprof profile is `go tool pprof -raw` of it without the binary (pprof found
/// none of the objects, so it symbolized nothing): testdata/rust-jemalloc/goldens/go-pprof-raw-nobinary.txt, whose
/// first three lines are pprof's warnings on standard error and whose last records the exit status.
#[test]
fn raw_of_the_rust_profile_equals_go_tool_pprof_raw() {
    let golden = std::fs::read_to_string(crate::common::path(
        "testdata/rust-jemalloc/goldens/go-pprof-raw-nobinary.txt",
    ))
    .unwrap();
    let want: String = golden
        .lines()
        .skip(3)
        .filter(|l| !l.starts_with("# exit status"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(want.starts_with("PeriodType: space bytes\n"), "{want}");
    let o = crate::common::pprofsym()
        .args(["raw", "--symbolize", "none", "testdata/rust-jemalloc/heap.pb.gz"])
        .current_dir(crate::common::path("."))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), want);
}
