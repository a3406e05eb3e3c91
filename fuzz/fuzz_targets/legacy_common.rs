//! The checks every legacy reader's fuzz target runs: reading any bytes with one reader either fails with a
//! message or gives a valid profile that every report handles, that pprof's `-raw` dump prints, and that survives
//! a profile.proto round trip unchanged.

use pprofsym::profile::{Format, LoadOptions, decode_as, decode_bytes, format::apply_comment_frames};
use pprofsym::report::{self, Granularity, SiteOptions, SiteSort, TopOptions, raw};
use prost::Message;

/// Reads `data` as `format` and exercises the result.
pub fn check(data: &[u8], format: Format) {
    let opts = LoadOptions {
        max_decompressed: 16 << 20,
        max_memory: 256 << 20,
    };
    let Ok(p) = decode_as(data, format, &opts) else {
        return;
    };
    // profile.proto round trip: what we write reads back the same.
    let again = decode_bytes(&p.pb().encode_to_vec(), &opts).expect("our own output decodes");
    assert_eq!(again.pb(), p.pb(), "round trip changed the profile");
    let _ = raw::profile_string(&p, None);
    let names: Vec<String> = p.pb().function.iter().map(|f| p.str(f.name).to_string()).collect();
    let pruned = raw::prune(p.clone(), &names).expect("pruning keeps a valid profile");
    let _ = raw::profile_string(&pruned, Some(&names));
    let _ = report::info(&p);
    let p = match p.source().comment_frames.clone() {
        Some(c) => {
            apply_comment_frames(p, &c, format.is_heap())
                .expect("naming keeps a valid profile")
                .0
        }
        None => p,
    };
    let n = p.pb().sample_type.len();
    // One granularity per input (each report compiles the profile's drop_frames regexp).
    let g = [Granularity::Functions, Granularity::Lines, Granularity::Addresses][data.len() % 3];
    {
        let top = TopOptions {
            sample_index: (n > 0).then(|| (data.len() % n).to_string()),
            granularity: g,
            ..Default::default()
        };
        if let Ok(r) = report::top(&p, &top) {
            let _ = report::render::render_top(&r, report::render::Format::Text);
        }
    }
    if let Ok(r) = report::sites(
        &p,
        &SiteOptions {
            sort: SiteSort::InuseSpace,
            limit: None,
            ..Default::default()
        },
    ) {
        let _ = report::render::render_sites(&r, report::render::Format::Text);
    }
}
