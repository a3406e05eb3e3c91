//! Generates a large, Go-like heap profile for benchmarks and fuzzing seeds.
//!
//! ```sh
//! cargo run --release --example gen_profile -- OUT N_SAMPLES N_LOCS
//! ```
//!
//! The profile looks like what the Go runtime writes: four sample types (`alloc_objects`, `alloc_space`,
//! `inuse_objects`, `inuse_space`), a `space` period type, one executable mapping, locations with one to three
//! lines (inline chains), stacks 5–60 frames deep that share prefixes (every stack grows from one of a few
//! thousand call paths rooted at `main.main`), and a numeric `bytes` label on every sample. The output is
//! deterministic: the same arguments give the same bytes.

use std::path::PathBuf;
use std::process::ExitCode;

use pprofsym::profile::{encode_gzip, pb, write_atomic};

/// A small deterministic PRNG (xorshift64*), so the output does not depend on a crate's algorithm.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// Skewed towards small indexes in `0..n` (a few hot entries, a long tail).
    fn skewed(&mut self, n: u64) -> u64 {
        let a = self.next() % n;
        let b = self.next() % n;
        a.min(b)
    }
}

struct Strings {
    table: Vec<String>,
    index: std::collections::HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        let mut s = Strings {
            table: Vec::new(),
            index: Default::default(),
        };
        s.get("");
        s
    }

    fn get(&mut self, v: &str) -> i64 {
        if let Some(&i) = self.index.get(v) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(v.to_string());
        self.index.insert(v.to_string(), i);
        i
    }
}

/// Builds the profile: `n_samples` samples over `n_locs` locations.
pub fn generate(n_samples: usize, n_locs: usize) -> pb::Profile {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut st = Strings::new();
    let vt = |st: &mut Strings, t: &str, u: &str| pb::ValueType {
        r#type: st.get(t),
        unit: st.get(u),
    };
    let sample_type = vec![
        vt(&mut st, "alloc_objects", "count"),
        vt(&mut st, "alloc_space", "bytes"),
        vt(&mut st, "inuse_objects", "count"),
        vt(&mut st, "inuse_space", "bytes"),
    ];
    let period_type = Some(vt(&mut st, "space", "bytes"));
    let bytes_key = st.get("bytes");
    let exe = st.get("/usr/local/bin/bigserver");
    let build_id = st.get("5e1f0c2d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d");

    let text_start = 0x40_1000u64;
    let mapping = vec![pb::Mapping {
        id: 1,
        memory_start: 0x40_0000,
        memory_limit: text_start + 64 * n_locs as u64 + 0x1000,
        file_offset: 0,
        filename: exe,
        build_id,
        has_functions: true,
        has_filenames: true,
        has_line_numbers: true,
        has_inline_frames: true,
    }];

    // Functions: about one per three locations, spread over packages and files.
    let n_funcs = (n_locs / 3).max(8);
    let n_pkgs = (n_funcs / 40).max(2);
    let mut function = Vec::with_capacity(n_funcs);
    for i in 0..n_funcs {
        let pkg = i % n_pkgs;
        let file = (i / n_pkgs) % 7;
        let pkg_name = if i == 0 {
            "main".to_string()
        } else {
            format!("example.com/svc/pkg{pkg}")
        };
        let name = if i == 0 {
            "main.main".to_string()
        } else if i % 5 == 0 {
            format!("{pkg_name}.(*Server{}).handle{i}", i % 13)
        } else {
            format!("{pkg_name}.func{i}")
        };
        let name = st.get(&name);
        let filename = st.get(&format!("{pkg_name}/file{file}.go"));
        function.push(pb::Function {
            id: i as u64 + 1,
            name,
            system_name: name,
            filename,
            start_line: 10 + (i as i64 % 400) * 7,
        });
    }

    // Locations: one PC each, 1 line mostly, an inline chain of 2-3 lines in one of five.
    let mut location = Vec::with_capacity(n_locs);
    for i in 0..n_locs {
        let nlines = match rng.next() % 10 {
            0 => 3,
            1 => 2,
            _ => 1,
        };
        let mut line = Vec::with_capacity(nlines);
        for _ in 0..nlines {
            // Location 0 is in main.main so stacks have a common root.
            let f = if i == 0 {
                0
            } else {
                rng.range(1, n_funcs as u64 - 1) as usize
            };
            line.push(pb::Line {
                function_id: f as u64 + 1,
                line: function[f].start_line + rng.range(1, 60) as i64,
                column: 0,
            });
        }
        location.push(pb::Location {
            id: i as u64 + 1,
            mapping_id: 1,
            address: text_start + 64 * i as u64 + rng.range(0, 40),
            line,
            is_folded: false,
        });
    }

    // Call paths from the root: each extends a random earlier one, so stacks share prefixes.
    let n_paths = (n_samples / 200).clamp(16, 20_000);
    let mut paths: Vec<Vec<u64>> = Vec::with_capacity(n_paths);
    paths.push(vec![1]);
    for _ in 1..n_paths {
        let base = rng.skewed(paths.len() as u64) as usize;
        let mut p = paths[base].clone();
        let extra = rng.range(1, 6) as usize;
        for _ in 0..extra {
            if p.len() >= 50 {
                break;
            }
            p.push(rng.range(2, n_locs as u64));
        }
        paths.push(p);
    }

    // Every location appears somewhere: leaves walk the location ids in order, then at random.
    let mut sample = Vec::with_capacity(n_samples);
    for i in 0..n_samples {
        let pi = rng.skewed(n_paths as u64);
        let path = &paths[pi as usize];
        let depth = rng.range(5, 60) as usize;
        let mut stack: Vec<u64> = Vec::with_capacity(depth);
        // Leaf first.
        let leaf = if i < n_locs {
            i as u64 + 1
        } else {
            rng.range(2, n_locs as u64)
        };
        stack.push(leaf);
        let tail = depth.saturating_sub(path.len() + 1);
        // The frames between the leaf and the path depend only on the path and the depth, so samples with
        // the same path share them (as callees of one call path do).
        for j in (0..tail).rev() {
            let h = Rng((pi << 8 | j as u64) + 1).next();
            stack.push(2 + h % (n_locs as u64 - 1));
        }
        // The shared prefix, root last (paths are at most 50 deep, so stacks stay within 60).
        stack.extend(path.iter().rev());
        let size = [8i64, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024, 4096, 32768][rng.range(0, 12) as usize];
        let objs = 1 + rng.skewed(2000) as i64;
        let inuse = if rng.next().is_multiple_of(3) {
            rng.range(0, objs as u64) as i64
        } else {
            0
        };
        sample.push(pb::Sample {
            location_id: stack,
            value: vec![objs, objs * size, inuse, inuse * size],
            label: vec![pb::Label {
                key: bytes_key,
                num: size,
                ..Default::default()
            }],
        });
    }

    pb::Profile {
        sample_type,
        sample,
        mapping,
        location,
        function,
        string_table: st.table,
        time_nanos: 1_763_000_000_000_000_000,
        duration_nanos: 0,
        period_type,
        period: 524_288,
        ..Default::default()
    }
}

#[allow(dead_code)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [out, n, l] => n
            .parse::<usize>()
            .ok()
            .zip(l.parse::<usize>().ok())
            .map(|(n, l)| (out, n, l)),
        _ => None,
    };
    let Some((out, n_samples, n_locs)) = parsed.filter(|(_, n, l)| *n > 0 && *l >= 2) else {
        eprintln!("usage: gen_profile OUT N_SAMPLES N_LOCS   (N_SAMPLES >= 1, N_LOCS >= 2)");
        return ExitCode::FAILURE;
    };
    let p = generate(n_samples, n_locs);
    let bytes = encode_gzip(&p);
    if let Err(e) = write_atomic(&PathBuf::from(out), &bytes) {
        eprintln!("gen_profile: {out}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "gen_profile: wrote {out}: {} samples, {} locations, {} functions, {} bytes gzipped",
        p.sample.len(),
        p.location.len(),
        p.function.len(),
        bytes.len()
    );
    ExitCode::SUCCESS
}
