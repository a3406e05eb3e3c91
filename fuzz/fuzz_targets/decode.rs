//! Any bytes: decoding either fails with a message or gives a profile on which `top` (every granularity,
//! with filters) and `sites` run without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pprofsym::profile::{LoadOptions, decode_bytes};
use pprofsym::report::{self, Granularity, SiteOptions, SiteSort, TopOptions};

fuzz_target!(|data: &[u8]| {
    let opts = LoadOptions {
        max_decompressed: 16 << 20,
    };
    let Ok(p) = decode_bytes(data, &opts) else {
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
    if let Ok(r) = report::sites(&p, &SiteOptions { sort: SiteSort::AvgSize, limit: None }) {
        let _ = pprofsym::report::render::render_sites(&r, pprofsym::report::render::Format::Text);
    }
});
