//! Heap fixture for pprofsym's legacy-format readers: a Rust program on
//! tikv-jemallocator (feature "profiling") that writes jemalloc's own text
//! heap dump (`heap_v2/<rate>`, what `jeprof` reads) through the `prof.dump`
//! mallctl.
//!
//! Profiling is configured from the environment, e.g.
//! `_RJEM_MALLOC_CONF=prof:true,lg_prof_sample:0,prof_accum:true` (the
//! tikv-jemalloc-sys build prefixes jemalloc's symbols and its environment
//! variable with `_rjem_` / `_RJEM_`).
//!
//! Allocation sites (deterministic): a `Vec` grown by `push`, a `HashMap`
//! with `String` keys, boxed records, an `#[inline(always)]` helper, a
//! recursive tree, one 8 MiB buffer, a churn loop whose blocks are freed
//! again, and two worker threads that keep their allocations and stay alive
//! while the profile is dumped (so jemalloc writes per-thread lines).
//!
//! Usage: rust-jeheap DUMP_PATH

use std::collections::HashMap;
use std::ffi::CString;
use std::hint::black_box;
use std::sync::{Arc, Barrier};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub struct Record {
    pub id: u64,
    pub payload: [u64; 15],
}

pub struct TreeNode {
    pub value: u64,
    pub children: Vec<TreeNode>,
}

#[inline(never)]
fn grow_vec(n: u64) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(black_box(i * 3));
    }
    v
}

#[inline(never)]
fn build_map(n: u64) -> HashMap<String, u64> {
    let mut m = HashMap::new();
    for i in 0..n {
        m.insert(format!("key-{i:05}"), i);
    }
    m
}

#[inline(never)]
fn make_records(n: u64) -> Vec<Box<Record>> {
    (0..n)
        .map(|i| Box::new(Record { id: i, payload: [i; 15] }))
        .collect()
}

/// Exists only as an inlined frame in `use_inline_helper`.
#[inline(always)]
fn inline_alloc(n: usize) -> Vec<u8> {
    vec![0x5a; n]
}

#[inline(never)]
fn use_inline_helper() -> Vec<Vec<u8>> {
    (0..32).map(|i| inline_alloc(1000 + i)).collect()
}

#[inline(never)]
fn build_tree(depth: u32) -> TreeNode {
    let children = if depth == 0 {
        Vec::new()
    } else {
        vec![build_tree(depth - 1), build_tree(depth - 1)]
    };
    TreeNode { value: depth as u64, children }
}

#[inline(never)]
fn big_buffer(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    v[n - 1] = 1;
    v
}

/// Allocates and frees: alloc numbers exceed inuse numbers.
#[inline(never)]
fn churn(n: usize) -> usize {
    let mut total = 0;
    for i in 0..n {
        let s = black_box(vec![i as u8; 4000]);
        total += s.len();
    }
    total
}

#[inline(never)]
fn worker(id: usize) -> Vec<String> {
    (0..300).map(|i| format!("{id}:{i:0width$}", width = 60 * id)).collect()
}

#[inline(never)]
fn dump_profile(path: &str) {
    let c = CString::new(path).expect("path without NUL");
    let ptr: *const std::os::raw::c_char = c.as_ptr();
    // SAFETY: "prof.dump" takes a `const char *` file name.
    unsafe { tikv_jemalloc_ctl::raw::write(b"prof.dump\0", ptr) }.expect("mallctl prof.dump");
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: rust-jeheap DUMP_PATH");

    let v = grow_vec(50_000);
    let m = build_map(2_000);
    let r = make_records(1_000);
    let h = use_inline_helper();
    let t = build_tree(4);
    let b = big_buffer(8 << 20);
    let c = churn(2_000);

    let allocated = Arc::new(Barrier::new(3));
    let dumped = Arc::new(Barrier::new(3));
    let threads: Vec<_> = (1..=2)
        .map(|id| {
            let (allocated, dumped) = (allocated.clone(), dumped.clone());
            std::thread::spawn(move || {
                let kept = worker(id);
                allocated.wait();
                dumped.wait();
                kept.len()
            })
        })
        .collect();
    allocated.wait();
    dump_profile(&path);
    dumped.wait();
    let kept: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();

    println!(
        "rust-jeheap: vec {} map {} records {} inline {} tree {} big {} churn {} threads {}",
        v.len(),
        m.len(),
        r.len(),
        h.len(),
        t.value + t.children.len() as u64,
        b.len(),
        c,
        kept
    );
}
