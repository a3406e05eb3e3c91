//! Any bytes: decoding either fails with a message or gives a profile on which `top` (every granularity,
//! with filters) and `sites` run without panicking. Plain protobuf input is also decoded by prost, and
//! both decoders must agree; gzip input that libdeflate inflates (as `merge` does) must inflate the same with flate2.
//!
//! Seed and run (the corpus is not committed):
//! ```sh
//! mkdir -p fuzz/corpus/decode
//! for f in $(find testdata -name '*.pb.gz'); do n=$(echo "$f" | tr / _); cp "$f" fuzz/corpus/decode/"$n";
//!   gzip -dc "$f" > fuzz/corpus/decode/"${n%.gz}"; done
//! cd fuzz && cargo +nightly fuzz run decode corpus/decode -- -max_total_time=180 -max_len=65536
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use pprofsym::profile::{LoadOptions, decode_bytes};
use pprofsym::report::{self, Granularity, SiteOptions, SiteSort, TopOptions};

fuzz_target!(|data: &[u8]| {
    let opts = LoadOptions {
        max_decompressed: 16 << 20,
        ..LoadOptions::default()
    };
    let res = decode_bytes(data, &opts);
    // Differential check on gzip: what libdeflate inflates whole (for merge) is what flate2 streams.
    if data.starts_with(&[0x1f, 0x8b]) {
        if let Some(whole) = pprofsym::profile::gunzip_whole(data, opts.max_decompressed) {
            use std::io::Read;
            let mut streamed = Vec::new();
            flate2::read::MultiGzDecoder::new(data)
                .take(opts.max_decompressed + 1)
                .read_to_end(&mut streamed)
                .expect("libdeflate inflates what flate2 refuses");
            assert_eq!(whole, streamed, "libdeflate and flate2 inflate differently");
        }
    }
    // Differential check on plain protobuf: our decoder must agree with prost's.
    if !data.starts_with(&[0x1f, 0x8b]) {
        use prost::Message;
        match pprofsym::profile::pb::Profile::decode(data) {
            Ok(m) => {
                let valid = pprofsym::profile::validate(&m).is_ok();
                match &res {
                    Ok(p) => assert_eq!(p.pb(), &m, "decoded message differs from prost's"),
                    Err(e) => assert!(!valid || data.is_empty(), "prost decodes a valid profile, we fail: {e}"),
                }
            }
            Err(_) => assert!(res.is_err(), "prost fails, we decode"),
        }
    }
    let Ok(p) = res else {
        return;
    };
    let _ = report::info(&p);
    let n = p.pb().sample_type.len();
    for (i, g) in [
        Granularity::Functions,
        Granularity::FileFunctions,
        Granularity::Files,
        Granularity::Lines,
        Granularity::Addresses,
    ]
    .into_iter()
    .enumerate()
    {
        let top = TopOptions {
            sample_index: (n > 0).then(|| (i % n).to_string()),
            granularity: g,
            cum: i % 2 == 1,
            node_count: Some(1 + i * 3),
            ..Default::default()
        };
        if let Ok(r) = report::top(&p, &top) {
            let _ = pprofsym::report::render::render_top(&r, pprofsym::report::render::Format::Text);
        }
    }
    if let Ok(r) = report::sites(
        &p,
        &SiteOptions {
            sort: SiteSort::AvgSize,
            limit: None,
            ..Default::default()
        },
    ) {
        let _ = pprofsym::report::render::render_sites(&r, pprofsym::report::render::Format::Text);
    }
    // The stack reports walk the same samples another way.
    if let Ok(r) = pprofsym::report::folded::folded(&p, &Default::default()) {
        let _ = pprofsym::report::folded::render_text(&r);
    }
    if let Ok(r) = pprofsym::report::traces::traces(&p, &Default::default()) {
        let _ = pprofsym::report::traces::render_text(&r);
    }
    // And the flame graph of them, cut as the command cuts them, plain and differential.
    if let Ok(set) = pprofsym::report::folded::stacks(&p, &Default::default()) {
        use pprofsym::report::flame::{FlameOptions, flame_svg, min_box_percent};
        for differential in [false, true] {
            let cut = set.clone().cut(min_box_percent(), differential);
            let _ = flame_svg(
                &cut,
                &FlameOptions {
                    differential,
                    ..Default::default()
                },
            );
        }
    }
});
