//! Any bytes, read as two profiles: merging them never panics, and the merge's own path (samples decoded onto
//! flat arrays by its own reader, translated, summed, written straight from its arrays) agrees with merging the same
//! profiles fully decoded: when the full path succeeds, the fast one gives the same profile, and the bytes
//! `finish_encoded` writes decode to the profile `finish` returns.
//!
//! Input: a flag byte (odd: the second profile is subtracted as a base, values negated and a label set, so sums
//! cancel and the result is compacted), the length of the first profile (u16, little-endian), the first profile,
//! then the second; no second profile means the first merged with itself.
//!
//! Seed (each decode seed merged with itself, plain and as a base; pairs of real snapshots), then run:
//! ```sh
//! python3 - <<'PY'
//! import glob, os
//! os.makedirs("corpus/merge", exist_ok=True)
//! def seed(name, flag, a, b=b""):
//!     open(f"corpus/merge/{name}.{flag}", "wb").write(bytes([flag]) + len(a).to_bytes(2, "little") + a + b)
//! for f in glob.glob("corpus/decode/*"):
//!     a = open(f, "rb").read()
//!     if len(a) < 65536:
//!         for flag in (0, 1):
//!             seed(os.path.basename(f), flag, a)
//! for rate in ("rate1", "default"):
//!     t = [open(f"../testdata/compare/heap-{rate}.t{i}.pb.gz", "rb").read() for i in range(3)]
//!     for i, j in ((0, 1), (1, 2), (0, 2)):
//!         for flag in (0, 1):
//!             seed(f"{rate}.t{i}t{j}", flag, t[i], t[j])
//! PY
//! cargo +nightly fuzz run merge corpus/merge -- -max_total_time=600 -max_len=65536
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use pprofsym::profile::ops::{AddOptions, Merger};
use pprofsym::profile::{LoadOptions, decode_bytes, merge_input_from_bytes};
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let opts = LoadOptions {
        max_decompressed: 16 << 20,
        ..LoadOptions::default()
    };
    let [flag, l0, l1, rest @ ..] = data else {
        return;
    };
    let (a, b) = rest.split_at(usize::from(u16::from_le_bytes([*l0, *l1])).min(rest.len()));
    let b = if b.is_empty() { a } else { b };
    let k = *flag;
    let add_opts = |i: usize| {
        if i == 1 && k % 2 == 1 {
            AddOptions {
                negate: true,
                label: Some(("pprof::base".into(), "true".into())),
            }
        } else {
            AddOptions::default()
        }
    };

    // The merge's own path; run twice, to compare `finish` with `finish_encoded`.
    let fast = |encoded: bool| -> Option<Result<pprofsym::profile::pb::Profile, String>> {
        let mut m = Merger::new();
        for (i, part) in [a, b].into_iter().enumerate() {
            let input = merge_input_from_bytes(part, &opts).ok()?;
            if let Err(e) = m.add_input(&input, "x", &add_opts(i)) {
                return Some(Err(e.to_string()));
            }
        }
        Some(if encoded {
            m.finish_encoded().map_err(|e| e.to_string()).map(|e| {
                pprofsym::profile::pb::Profile::decode(&e.pieces.concat()[..]).expect("finish_encoded wrote bad bytes")
            })
        } else {
            m.finish().map(|p| p.pb().clone()).map_err(|e| e.to_string())
        })
    };
    let plain = fast(false);
    let encoded = fast(true);
    match (&plain, &encoded) {
        (Some(Ok(p)), Some(Ok(e))) => assert_eq!(p, e, "finish_encoded differs from finish"),
        (Some(Err(_)), Some(Err(_))) | (None, None) => {}
        _ => panic!("finish and finish_encoded disagree on success"),
    }

    // The same profiles decoded in full (prost or the sample decoder of `top`) and merged as messages.
    let mut m = Merger::new();
    for (i, part) in [a, b].into_iter().enumerate() {
        let Ok(p) = decode_bytes(part, &opts) else {
            return;
        };
        if m.add(&p, "x", &add_opts(i)).is_err() {
            return;
        }
    }
    let Ok(full) = m.finish() else {
        return;
    };
    match plain {
        Some(Ok(p)) => assert_eq!(&p, full.pb(), "the merge's fast path gives another profile"),
        Some(Err(e)) => panic!("the fast path fails where the full one merges: {e}"),
        None => panic!("a profile decodes in full but not for merging"),
    }
});
