//! Merging and subtracting profiles against `go tool pprof -proto` (testdata/compare/goldens): the profile we
//! compute, printed as `pprof -raw` prints a profile, equals pprof's `-raw` of the profile it wrote, line for line
//! (same samples in the same order, same location, function and mapping ids).

use pprofsym::profile::ops::{self, BaseMode, CompareOptions, Named};
use pprofsym::profile::{LoadOptions, Profile, load};

use crate::common::{first_difference, path, pprof_raw};

fn compare_dir(rel: &str) -> std::path::PathBuf {
    path("testdata/compare").join(rel)
}

fn named(rel: &str) -> Named {
    Named::new(rel, load(&compare_dir(rel), &LoadOptions::default()).unwrap())
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(compare_dir(&format!("goldens/{name}.txt"))).unwrap()
}

fn assert_raw(p: &Profile, name: &str) {
    if let Some(d) = first_difference(&pprof_raw(p), &golden(name)) {
        panic!("{name}: {d}");
    }
}

#[test]
fn raw_printer_reproduces_pprofs_raw_of_its_own_output() {
    // The printer itself, on a profile pprof wrote: its -raw golden is what pprof printed for that very file.
    let p = load(&compare_dir("goldens/merge.rate1.t012.pb.gz"), &LoadOptions::default()).unwrap();
    assert_raw(&p, "merge.rate1.t012.raw");
}

#[test]
fn merging_three_snapshots_equals_pprof_proto() {
    let m = ops::combine(vec![
        named("heap-rate1.t0.pb.gz"),
        named("heap-rate1.t1.pb.gz"),
        named("heap-rate1.t2.pb.gz"),
    ])
    .unwrap();
    assert_raw(&m.profile, "merge.rate1.t012.raw");
    let m = ops::combine(vec![
        named("heap-default.t0.pb.gz"),
        named("heap-default.t1.pb.gz"),
        named("heap-default.t2.pb.gz"),
    ])
    .unwrap();
    assert_raw(&m.profile, "merge.default.t012.raw");
}

#[test]
fn base_and_diff_base_equal_pprof_proto() {
    let opts = |mode| CompareOptions { mode, normalize: false };
    let d = ops::compare(
        vec![named("heap-rate1.t1.pb.gz")],
        vec![named("heap-rate1.t0.pb.gz")],
        opts(BaseMode::Base),
    )
    .unwrap();
    assert_raw(&d.profile, "base.rate1.t0-t1.raw");
    let d = ops::compare(
        vec![named("heap-rate1.t1.pb.gz")],
        vec![named("heap-rate1.t0.pb.gz")],
        opts(BaseMode::DiffBase),
    )
    .unwrap();
    assert_raw(&d.profile, "diffbase.rate1.t0-t1.raw");
}

#[test]
fn mismatched_periods_and_programs_merge_as_pprof_does() {
    // Rate 1 with the default rate: no error, the period is the larger one.
    let m = ops::combine(vec![named("heap-rate1.t0.pb.gz"), named("heap-default.t2.pb.gz")]).unwrap();
    assert_eq!(m.profile.pb().period, 524288);
    assert_raw(&m.profile, "bad.period.raw_rate1_default");
    // Another program: its main mapping stays separate (another build ID).
    let m = ops::combine(vec![named("heap-rate1.t2.pb.gz"), named("other-heapdemo-rate1.pb.gz")]).unwrap();
    assert_raw(&m.profile, "bad.otherprog.raw");
}

#[test]
fn incompatible_sample_types_are_a_clear_error() {
    for (a, b) in [
        ("heap-rate1.t2.pb.gz", "cpu.pb.gz"),
        ("cpu.pb.gz", "heap-rate1.t2.pb.gz"),
        ("heap-rate1.t2.pb.gz", "goroutine.pb.gz"),
    ] {
        let e = ops::combine(vec![named(a), named(b)]).unwrap_err().to_string();
        assert!(e.contains("profiles have empty common sample type list"), "{e}");
        assert!(e.contains(b), "{e} should name {b}");
        let e = ops::compare(vec![named(a)], vec![named(b)], CompareOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("empty common sample type list") && e.contains("(base)"),
            "{e}"
        );
    }
}

#[test]
fn one_profile_merged_with_itself_doubles_and_cancels() {
    let t1 = named("heap-rate1.t1.pb.gz");
    let twice = ops::combine(vec![t1.clone(), t1.clone()]).unwrap().profile;
    let total = |p: &Profile, i: usize| p.pb().sample.iter().map(|s| s.value[i]).sum::<i64>();
    for i in 0..4 {
        assert_eq!(total(&twice, i), 2 * total(&t1.profile, i));
    }
    // Minus itself: nothing is left (pprof prints "0, 0% of 0 total").
    let zero = ops::subtract(t1.clone(), t1.clone(), CompareOptions::default())
        .unwrap()
        .profile;
    assert!(zero.pb().sample.is_empty());
    assert!(zero.pb().location.is_empty());
    // With -diff_base nothing cancels: every sample of the base comes back negated and labelled.
    let d = ops::subtract(
        t1.clone(),
        t1.clone(),
        CompareOptions {
            mode: BaseMode::DiffBase,
            normalize: false,
        },
    )
    .unwrap()
    .profile;
    assert_eq!(d.pb().sample.len(), 2 * twice.pb().sample.len());
    for i in 0..4 {
        assert_eq!(total(&d, i), 0);
    }
}

#[test]
fn an_empty_profile_merges_as_nothing() {
    let m = ops::combine(vec![named("heap-empty.pb.gz"), named("heap-rate1.t2.pb.gz")]).unwrap();
    let t2 = named("heap-rate1.t2.pb.gz");
    let total = |p: &Profile| p.pb().sample.iter().map(|s| s.value[3]).sum::<i64>();
    assert_eq!(total(&m.profile), total(&t2.profile));
    // An empty base subtracts nothing.
    let d = ops::subtract(t2.clone(), named("heap-empty.pb.gz"), CompareOptions::default()).unwrap();
    assert_eq!(total(&d.profile), total(&t2.profile));
}
