//! Symbolized profiles against peers (testdata/symbolize, made by scripts/regen-symbolize-goldens.sh): the native
//! and Rust fixture profiles are symbolized in process from their binaries, and our `top --format text` on the
//! result must equal
//! * for the C and C++ profiles, what standalone google/pprof prints for the unsymbolized input when it symbolizes
//!   it itself (llvm-symbolizer, GNU-style demangling): the names are the peer's, not ours;
//! * what `go tool pprof -top` printed for the profile `pprofsym symbolize` wrote: go tool pprof reads our output as
//!   we do.

use pprofsym::profile::{LoadOptions, load};
use pprofsym::report::top::render_text;
use pprofsym::report::{Granularity, TopOptions, top};
use pprofsym::symbolize::SymbolSource;
use pprofsym::symbolize::profile::{apply, resolve_profile};

use crate::common;
use common::path;

#[test]
fn symbolized_profiles_equal_the_peers() {
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
        let rust = name.starts_with("rust");
        for (suffix, index) in [("", None), (".idx0", Some("0"))] {
            for (kind, granularity) in [("top", Granularity::Functions), ("top-lines", Granularity::Lines)] {
                let opts = TopOptions {
                    sample_index: index.map(String::from),
                    granularity,
                    ..Default::default()
                };
                let text = render_text(&top(&ours, &opts).unwrap());
                let written = std::fs::read_to_string(dir.join(format!("{name}{suffix}.written.{kind}.txt"))).unwrap();
                assert_eq!(text, written, "{name}{suffix}.written.{kind}");
                // The Rust profile's names are checked against llvm-symbolizer in symbolize_profile.rs: google/pprof
                // mangles Rust names its own way (generic arguments dropped to `<>`, DWARF's `<T,A>` kept, a leading
                // underscore lost), so no peer golden of its `top` is kept for it.
                if !rust {
                    let peer = std::fs::read_to_string(dir.join(format!("{name}{suffix}.peer.{kind}.txt"))).unwrap();
                    assert_eq!(text, peer, "{name}{suffix}.peer.{kind}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 16);
}

/// `go tool pprof -top BINARY heap.pb.gz` on the jemalloc_pprof profile does not symbolize (its binary argument
/// only names the first mapping, which holds no code); without a binary, our `top` prints the same table.
#[test]
fn unsymbolized_rust_top_equals_go_tool_pprof() {
    let golden = std::fs::read_to_string(path("testdata/rust-jemalloc/goldens/go-pprof-top.txt")).unwrap();
    // The golden keeps pprof's stderr (its symbolization warnings) first and its exit status last.
    let want: Vec<&str> = golden
        .lines()
        .skip_while(|l| !l.starts_with("File:"))
        .take_while(|l| !l.starts_with("# exit status"))
        .collect();
    let mut p = load(&path("testdata/rust-jemalloc/heap.pb.gz"), &LoadOptions::default()).unwrap();
    p.set_main_binary("bin/jemalloc-demo");
    let text = render_text(&top(&p, &TopOptions::default()).unwrap());
    assert_eq!(text.lines().collect::<Vec<_>>(), want);
}
