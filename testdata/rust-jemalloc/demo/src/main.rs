//! Heap-profile fixture generator for pprofsym.
//!
//! Allocates memory at several distinct, recognisable call sites, keeps it
//! alive, then asks jemalloc (through `jemalloc_pprof`) for a heap profile and
//! writes the gzipped profile.proto to the path given as the first argument.
//! The profile is deliberately left unsymbolized: only raw addresses and
//! mappings, to be symbolized offline against this binary.

use std::collections::HashMap;
use std::hint::black_box;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads this at start-up. `lg_prof_sample:0` samples every
/// allocation, so the profile (and its numbers) are deterministic.
#[allow(non_upper_case_globals)]
#[export_name = "malloc_conf"]
pub static malloc_conf: &[u8; 44] = b"prof:true,prof_active:true,lg_prof_sample:0\0";

/// A record retained in a `Box`.
pub struct Record {
    pub id: u64,
    pub payload: [u64; 15],
}

/// A node of the recursively built tree.
pub struct TreeNode {
    pub value: u64,
    pub label: Vec<u8>,
    pub children: Vec<TreeNode>,
}

/// Site 1: a `Vec` grown by `push` (reallocates as it grows).
#[inline(never)]
fn grow_vec(n: u64) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(black_box(i * 3));
    }
    v
}

/// Site 2: a `HashMap` with `String` keys.
#[inline(never)]
fn build_map(n: u64) -> HashMap<String, u64> {
    let mut m = HashMap::new();
    for i in 0..n {
        m.insert(format!("key-{i:05}"), i);
    }
    m
}

/// Site 3: boxed structs, retained.
#[inline(never)]
fn make_records(n: u64) -> Vec<Box<Record>> {
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        out.push(Box::new(Record {
            id: i,
            payload: [black_box(i); 15],
        }));
    }
    out
}

/// Site 4: an always-inlined helper that allocates; its frame only exists in
/// DWARF inline information of its callers.
#[inline(always)]
fn inline_alloc(len: usize, fill: u8) -> Vec<u8> {
    vec![black_box(fill); len]
}

#[inline(never)]
fn use_inline_helper(count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|i| inline_alloc(4096 + i, i as u8)).collect()
}

/// Site 5: a generic function, monomorphized twice (u32 and [u64; 4]).
#[inline(never)]
fn generic_fill<T: Clone>(value: T, n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, value);
    black_box(v)
}

/// Site 6: recursion; each level allocates its label and children.
#[inline(never)]
fn build_tree(depth: u32, value: u64) -> TreeNode {
    let label = format!("node-{depth}-{value}").into_bytes();
    let children = if depth == 0 {
        Vec::new()
    } else {
        (0..2).map(|k| build_tree(depth - 1, value * 2 + k)).collect()
    };
    TreeNode {
        value,
        label,
        children,
    }
}

fn tree_size(t: &TreeNode) -> usize {
    1 + t.children.iter().map(tree_size).sum::<usize>()
}

#[inline(never)]
fn dump_profile(path: &str) {
    let ctl = jemalloc_pprof::PROF_CTL
        .as_ref()
        .expect("jemalloc profiling is not enabled (malloc_conf prof:true)");
    let mut ctl = ctl.blocking_lock();
    assert!(ctl.activated(), "jemalloc profiling is not active");
    let pprof = ctl.dump_pprof().expect("dump_pprof failed");
    std::fs::write(path, pprof).expect("cannot write profile");
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "heap.pb.gz".to_string());

    let v = grow_vec(100_000);
    let m = build_map(5_000);
    let r = make_records(2_000);
    let b = use_inline_helper(64);
    let g32 = generic_fill::<u32>(7, 50_000);
    let g256 = generic_fill::<[u64; 4]>([1, 2, 3, 4], 20_000);
    let t = build_tree(4, 1);

    dump_profile(&out);

    // Keep everything alive until after the dump.
    black_box((&v, &m, &r, &b, &g32, &g256));
    eprintln!(
        "retained: vec={} map={} records={} bufs={} g32={} g256={} tree_nodes={}",
        v.len(),
        m.len(),
        r.len(),
        b.len(),
        g32.len(),
        g256.len(),
        tree_size(&t)
    );
}
