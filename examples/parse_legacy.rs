//! Times reading a profile file in memory (any format; meant for the legacy text readers): `cargo run --release
//! --example parse_legacy -- FILE [RUNS]` prints the median and best time and throughput over RUNS (default 7)
//! parses of the whole file, after one warm-up. Used by `scripts/bench-legacy.sh`.

use std::time::Instant;

use pprofsym::profile::{LoadOptions, decode_any};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_legacy FILE [RUNS]");
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    let data = std::fs::read(&path).expect("readable file");
    let opts = LoadOptions::default();
    let p = decode_any(&data, &opts).expect("a profile");
    let (samples, locations) = (p.pb().sample.len(), p.pb().location.len());
    drop(p);
    let mut times: Vec<(f64, f64)> = (0..runs)
        .map(|_| {
            let (t, c) = (Instant::now(), cpu_seconds());
            let p = decode_any(&data, &opts).expect("a profile");
            let s = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
            drop(p);
            s
        })
        .collect();
    let mb = data.len() as f64 / 1e6;
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (median, best) = (times[times.len() / 2].0, times[0].0);
    times.sort_by(|a, b| a.1.total_cmp(&b.1));
    let cpu = times[times.len() / 2].1;
    println!(
        "parse {path}: {mb:.1} MB, {samples} samples, {locations} locations: median {median:.3} s wall ({:.0} MB/s), \
         best {best:.3} s ({:.0} MB/s), median {cpu:.3} s CPU on all threads ({:.0} MB/s), {runs} runs",
        mb / median,
        mb / best,
        mb / cpu
    );
}

/// CPU time of this process so far (all threads), in seconds.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}
