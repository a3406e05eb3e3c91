//! Generates the inputs of the symbolization benchmark (`scripts/bench-symbolize.sh`): `N` random code
//! addresses inside a binary's `.text`, as a text list for address-to-line CLIs and as a profile.proto.
//!
//! ```sh
//! cargo run --release --example gen_addr_profile -- BINARY OUT_PROFILE OUT_LIST N [SEED]
//! ```
//!
//! The list holds the binary's own addresses (ELF virtual addresses, what `addr2line -e BINARY` expects), one
//! `0x…` per line. The profile has one mapping for the binary's executable segment and one sample (one
//! location) per address, so it symbolizes with `pprofsym symbolize` and `go tool pprof -symbolize=local`.
//! A non-PIE executable is mapped at its link addresses (identity); a PIE at an ASLR-like base, so the
//! profile's runtime addresses are `base + ELF address`. The output is deterministic: the same arguments
//! give the same bytes. Addresses may repeat (as in real profiles); each sample gets its own location.

use std::path::PathBuf;
use std::process::ExitCode;

use pprofsym::binary::{Binary, ElfKind};
use pprofsym::profile::{encode_gzip, pb, write_atomic};

/// Where a PIE is placed: a typical x86-64 Linux ASLR base for executables.
const PIE_BASE: u64 = 0x5555_5555_4000;

/// A small deterministic PRNG (xorshift64*), so the output does not depend on a crate's algorithm.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The generated addresses and profile.
pub struct Generated {
    /// ELF virtual addresses, in generation order.
    pub svmas: Vec<u64>,
    /// The profile.
    pub profile: pb::Profile,
}

/// Picks `n` addresses inside `.text` of `bin` (seeded) and builds the profile; an error names what is missing.
pub fn generate(bin: &Binary, n: usize, seed: u64) -> Result<Generated, String> {
    let text = bin
        .sections()
        .iter()
        .find(|s| s.name == ".text" && s.size > 0)
        .ok_or("no .text section")?;
    let seg = bin
        .loads()
        .iter()
        .find(|l| l.is_executable() && l.contains_svma(text.addr))
        .ok_or(".text is not inside an executable PT_LOAD segment")?;
    let base = match bin.kind() {
        ElfKind::Exec => 0,
        _ => PIE_BASE,
    };
    let page = 0x1000u64;
    let start = seg.vaddr.get() & !(page - 1);
    let delta = seg.vaddr.get() - start;
    let limit = (seg.vaddr.get() + seg.memsz).div_ceil(page) * page;

    let mut rng = Rng(seed.max(1));
    let svmas: Vec<u64> = (0..n).map(|_| text.addr.get() + rng.next() % text.size).collect();

    let mut strings = vec![String::new()];
    let mut s = |v: &str| {
        strings.push(v.to_string());
        strings.len() as i64 - 1
    };
    let sample_type = vec![pb::ValueType {
        r#type: s("samples"),
        unit: s("count"),
    }];
    let mapping = pb::Mapping {
        id: 1,
        memory_start: base + start,
        memory_limit: base + limit,
        file_offset: seg.offset.get() - delta,
        filename: s(&bin.path().display().to_string()),
        build_id: s(bin.build_id().unwrap_or("")),
        ..Default::default()
    };
    let location: Vec<pb::Location> = svmas
        .iter()
        .enumerate()
        .map(|(i, &a)| pb::Location {
            id: i as u64 + 1,
            mapping_id: 1,
            address: base + a,
            ..Default::default()
        })
        .collect();
    let sample = (1..=n as u64)
        .map(|id| pb::Sample {
            location_id: vec![id],
            value: vec![1],
            ..Default::default()
        })
        .collect();
    let period_type = Some(pb::ValueType {
        r#type: s("samples"),
        unit: s("count"),
    });
    let profile = pb::Profile {
        sample_type,
        sample,
        mapping: vec![mapping],
        location,
        period_type,
        period: 1,
        string_table: strings,
        ..Default::default()
    };
    Ok(Generated { svmas, profile })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(4..=5).contains(&args.len()) {
        eprintln!("usage: gen_addr_profile BINARY OUT_PROFILE OUT_LIST N [SEED]");
        return ExitCode::from(2);
    }
    let (bin_path, out_profile, out_list) = (
        PathBuf::from(&args[0]),
        PathBuf::from(&args[1]),
        PathBuf::from(&args[2]),
    );
    let Ok(n) = args[3].parse::<usize>() else {
        eprintln!("gen_addr_profile: N must be a number, got {:?}", args[3]);
        return ExitCode::from(2);
    };
    let seed = match args.get(4).map(|s| s.parse::<u64>()) {
        None => 1,
        Some(Ok(v)) => v,
        Some(Err(_)) => {
            eprintln!("gen_addr_profile: SEED must be a number, got {:?}", args[4]);
            return ExitCode::from(2);
        }
    };
    let bin = match Binary::open(&bin_path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("gen_addr_profile: {}: {e}", bin_path.display());
            return ExitCode::FAILURE;
        }
    };
    let g = match generate(&bin, n, seed) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("gen_addr_profile: {}: {e}", bin_path.display());
            return ExitCode::FAILURE;
        }
    };
    let mut list = String::with_capacity(n * 12);
    for a in &g.svmas {
        list.push_str(&format!("{a:#x}\n"));
    }
    for (path, bytes) in [(&out_profile, encode_gzip(&g.profile)), (&out_list, list.into_bytes())] {
        if let Err(e) = write_atomic(path, &bytes) {
            eprintln!("gen_addr_profile: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
