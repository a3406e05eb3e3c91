//! `info`, `top`, `sites` and `addrs`: a profile in, a table out.

use regex::Regex;

use pprofsym::answer::MappingStatus;
use pprofsym::error::{Error, ErrorKind, Result, ResultExt};
use pprofsym::report::render::{render_addrs, render_info, render_sites, render_top};
use pprofsym::report::{self, SiteOptions, TopOptions};
use pprofsym::symbolize::profile::{locate_mappings, resolve_profile};

use super::compare::{load_inputs, select, tag_filters};
use super::{comment_names, emit, format, load, symbolizer, warn};
use crate::cli::{AddrsArgs, Bounds, InfoArgs, SitesArgs, TopArgs};

/// `pprofsym info`.
pub fn info(a: InfoArgs) -> Result<()> {
    let p = load(&a.profile, &a.common)?;
    let mut info = report::info(&p);
    // Legacy maps carry no build IDs: show those of the files the mappings resolve to.
    let legacy = p
        .pb()
        .mapping
        .iter()
        .any(|m| p.str(m.build_id).is_empty() && p.str(m.filename).starts_with('/'))
        && p.source().format != pprofsym::profile::Format::Proto;
    if a.locate || legacy {
        let mut sym = symbolizer(None, &a.sym)?;
        let found = locate_mappings(&p, &mut sym);
        let ids: Vec<Option<(String, String)>> = found
            .iter()
            .map(|st| match st {
                MappingStatus::Symbolized { binary, build_id, .. } => Some((binary.clone(), build_id.clone())),
                _ => None,
            })
            .collect();
        info.add_found_build_ids(&ids);
        if a.locate {
            info.set_located(found);
            warn("pprofsym: ", &sym.take_warnings());
        }
    }
    emit(&render_info(&info, format(&a.common)))
}

/// `pprofsym top`: the inputs merged (bases subtracted), then pprof's `-top`.
pub fn top(a: &TopArgs) -> Result<()> {
    let opts = top_options(a)?;
    let (p, _) = load_inputs(&a.inputs, bounds(&a.common), &a.sym)?;
    let r = report::top(&p.profile, &opts).context(&p.name)?;
    warn("", &r.warnings);
    let out = emit(&render_top(&r, format(&a.common)));
    // The process ends here: giving back a large profile's many small blocks one by one would cost more than
    // the report itself, and the system takes it all back at once.
    std::mem::forget(p);
    out
}

/// The load bounds of the shared report flags.
fn bounds(c: &crate::cli::Common) -> Bounds {
    Bounds {
        max_decompressed: c.max_decompressed,
        max_memory: c.max_memory,
    }
}

/// The library's options from `top`'s flags.
fn top_options(a: &TopArgs) -> Result<TopOptions> {
    let (sample_index, granularity, filters) = select(&a.select)?;
    Ok(TopOptions {
        sample_index,
        granularity,
        cum: a.cum,
        node_count: a.nodecount,
        node_fraction: if a.no_trim { 0.0 } else { a.nodefraction },
        edge_fraction: if a.no_trim { 0.0 } else { a.edgefraction },
        filters,
        unit: a.unit.clone(),
        drop_negative: a.drop_negative,
    })
}

/// `pprofsym sites`.
pub fn sites(a: SitesArgs) -> Result<()> {
    let (tag_focus, tag_ignore) = tag_filters(&a.tags)?;
    let (p, _) = load_inputs(&a.inputs, bounds(&a.common), &a.sym)?;
    let opts = SiteOptions {
        sort: a.sort.into(),
        limit: a.limit,
        tag_focus,
        tag_ignore,
    };
    let r = report::sites(&p.profile, &opts).context(&p.name)?;
    emit(&render_sites(&r, format(&a.common)))
}

/// `pprofsym addrs`.
pub fn addrs(a: AddrsArgs) -> Result<()> {
    let (p, _) = comment_names(load(&a.profile, &a.common)?)?;
    let mut sym = symbolizer(a.main_binary.as_deref(), &a.sym)?;
    let res = resolve_profile(&p, &mut sym, true);
    let r = report::addrs::addrs(&p, &res);
    warn("pprofsym: ", &res.warnings);
    emit(&render_addrs(&r, format(&a.common)))
}

/// A regular-expression flag, compiled; the error names the flag and keeps the last line of regex's message.
pub fn regex_opt(flag: &str, re: Option<&str>) -> Result<Option<Regex>> {
    re.map(|r| {
        // regex's own message spans several lines (it draws a caret under the pattern); keep its last line.
        Regex::new(r).map_err(|e| {
            let e = e.to_string();
            let why = e.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            Error::new(
                ErrorKind::Usage,
                format!("--{flag}: invalid regular expression {r:?}: {why}"),
            )
        })
    })
    .transpose()
}
