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
