//! `pprofsym symbolize` output against `go tool pprof`: the profiles in testdata/symbolize were written by our
//! `symbolize` (scripts/regen-symbolize-goldens.sh) and read back by `go tool pprof -top`, without binaries.
//! Here the same inputs are symbolized again in process: the result must equal the committed profile, and our
//! `top --format text` on it must equal what go tool pprof printed.

use pprofsym::profile::{LoadOptions, load};
use pprofsym::report::top::render_text;
use pprofsym::report::{Granularity, TopOptions, top};
use pprofsym::symbolize::SymbolSource;
use pprofsym::symbolize::profile::{apply, resolve_profile};

use crate::common;
use common::path;

#[test]
fn symbolized_profiles_read_the_same_in_go_tool_pprof() {
    let dir = path("testdata/symbolize");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut checked = 0;
    for line in manifest.lines().filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, input, bins) = (cols[0], cols[1], cols[2]);
        let p = load(&path(input), &LoadOptions::default()).unwrap();
        let bins: Vec<&str> = bins.split_whitespace().collect();
        let mut sym = common::hermetic_symbolizer(None, &bins, SymbolSource::Auto);
        let res = resolve_profile(&p, &mut sym, false);
        let ours = apply(p, &res).unwrap();
        let committed = load(&dir.join(format!("{name}.sym.pb.gz")), &LoadOptions::default()).unwrap();
        assert_eq!(
            ours.pb(),
            committed.pb(),
            "{name}: symbolize output changed; rerun the regen script"
        );

        for (suffix, index) in [("", None), (".idx0", Some("0"))] {
            for (kind, granularity) in [("top", Granularity::Functions), ("top-lines", Granularity::Lines)] {
                let golden = std::fs::read_to_string(dir.join(format!("{name}{suffix}.{kind}.txt"))).unwrap();
                let opts = TopOptions {
                    sample_index: index.map(String::from),
                    granularity,
                    ..Default::default()
                };
                let text = render_text(&top(&ours, &opts).unwrap());
                assert_eq!(text, golden, "{name}{suffix}.{kind}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 16);
}
