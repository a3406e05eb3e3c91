//! The debuginfod benchmark's program: a Rust binary linking ten C shared libraries (libten0.so … libten9.so)
//! whose allocations jemalloc records; jemalloc_pprof writes the heap profile, with every object's build ID.

use std::ffi::c_void;
use std::hint::black_box;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[allow(non_upper_case_globals)]
#[export_name = "malloc_conf"]
pub static malloc_conf: &[u8; 44] = b"prof:true,prof_active:true,lg_prof_sample:0\0";

macro_rules! libs {
    ($($lib:literal $f:ident),*) => {
        $(
            #[link(name = $lib)]
            unsafe extern "C" {
                fn $f(i: usize) -> *mut c_void;
            }
        )*
        #[inline(never)]
        fn work(rounds: usize) -> Vec<usize> {
            let mut keep = Vec::new();
            for i in 0..rounds {
                // SAFETY: each function returns a fresh malloc block (or null), never freed here.
                $( keep.push(unsafe { $f(i) } as usize); )*
            }
            keep
        }
    };
}

libs!("ten0" ten0_work, "ten1" ten1_work, "ten2" ten2_work, "ten3" ten3_work, "ten4" ten4_work,
      "ten5" ten5_work, "ten6" ten6_work, "ten7" ten7_work, "ten8" ten8_work, "ten9" ten9_work);

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "heap.pb.gz".to_string());
    let keep = black_box(work(200));
    let ctl = jemalloc_pprof::PROF_CTL.as_ref().expect("jemalloc profiling is not enabled");
    let mut ctl = ctl.blocking_lock();
    let pprof = ctl.dump_pprof().expect("dump_pprof failed");
    std::fs::write(&out, pprof).expect("cannot write the profile");
    eprintln!("{} blocks kept, profile in {out}", keep.len());
}
