//! `sites` on symbolized C++ and Rust + jemalloc profiles: the site is the user's frame above the allocator,
//! jemalloc's internals and the standard libraries, and the sites add up to the profile's totals.

use std::path::PathBuf;

use pprofsym::profile::{LoadOptions, Profile, load};
use pprofsym::report::{SiteOptions, sites};
use pprofsym::symbolize::SymbolSource;
use pprofsym::symbolize::profile::{apply, resolve_profile};

use crate::common;

fn symbolized(profile: &str, bins: &[&str]) -> Profile {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = load(&root.join(profile), &LoadOptions::default()).unwrap();
    let mut sym = common::hermetic_symbolizer(None, bins, SymbolSource::Auto);
    let res = resolve_profile(&p, &mut sym, false);
    apply(p, &res).unwrap()
}

#[test]
fn rust_jemalloc_sites_are_user_functions() {
    let p = symbolized(
        "testdata/rust-jemalloc/heap.pb.gz",
        &["testdata/rust-jemalloc/bin/jemalloc-demo"],
    );
    let r = sites(&p, &SiteOptions::default()).unwrap();
    let total: i64 = p.pb().sample.iter().map(|s| s.value[0]).sum();
    assert_eq!(r.total.inuse_space, Some(total));
    assert_eq!(r.rows.iter().map(|s| s.values.inuse_space.unwrap()).sum::<i64>(), total);
    let names: Vec<String> = r.rows.iter().take(5).map(|s| s.display_name()).collect();
    for want in ["grow_vec", "generic_fill", "build_map", "inline_alloc", "make_records"] {
        assert!(
            names
                .iter()
                .any(|n| n.contains(&format!("jemalloc_demo::{want} /demo/src/main.rs"))),
            "{want} not in {names:?}"
        );
    }
    for row in &r.rows {
        assert!(
            !row.file.starts_with("/rustc/") && !row.file.contains("jemalloc/internal"),
            "{row:?}"
        );
        assert!(
            !row.function.starts_with("alloc::") && !row.function.contains("je_"),
            "{row:?}"
        );
    }
    // Sorted by inuse space.
    assert!(
        r.rows
            .windows(2)
            .all(|w| w[0].values.inuse_space >= w[1].values.inuse_space)
    );
}

#[test]
fn cpp_sites_skip_the_standard_library() {
    let p = symbolized(
        "testdata/native/profiles/cppdemo.pb.gz",
        &["testdata/native/bin/cppdemo"],
    );
    let r = sites(&p, &SiteOptions::default()).unwrap();
    let names: Vec<String> = r.rows.iter().map(|s| s.display_name()).collect();
    assert!(names[0].starts_with("operator() ./src/cppdemo.cpp:"), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("demo::store::Pool::fill ./src/cppdemo.cpp:38")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .all(|n| !n.contains("/include/c++/") && !n.starts_with("std::")),
        "{names:?}"
    );
    // Four heap quantities and the average size.
    let fill = r.rows.iter().find(|s| s.function == "demo::store::Pool::fill").unwrap();
    assert_eq!(
        fill.avg_size,
        Some(fill.values.inuse_space.unwrap() / fill.values.inuse_objects.unwrap())
    );
    let sum = |f: fn(&pprofsym::report::sites::HeapValues) -> Option<i64>| -> i64 {
        r.rows.iter().map(|s| f(&s.values).unwrap()).sum()
    };
    assert_eq!(Some(sum(|v| v.alloc_objects)), r.total.alloc_objects);
    assert_eq!(Some(sum(|v| v.inuse_space)), r.total.inuse_space);
}
