//! `info`, `top`, `sites` and `addrs`: a profile in, a table out.

use regex::Regex;

use pprofsym::answer::MappingStatus;
use pprofsym::error::{Error, ErrorKind, Result, ResultExt};
use pprofsym::report::render::{render_addrs, render_info, render_sites, render_top};
use pprofsym::report::{self, Filters, Granularity, SiteOptions, TopOptions};
use pprofsym::symbolize::profile::{locate_mappings, resolve_profile};

use super::{comment_names, emit, format, load, symbolize_for_report, symbolizer, warn};
use crate::cli::{AddrsArgs, InfoArgs, SitesArgs, TopArgs};

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

/// `pprofsym top`.
pub fn top(a: &TopArgs) -> Result<()> {
    let p = load(&a.profile, &a.common)?;
    let p = symbolize_for_report(p, a.binary.as_deref(), &a.sym)?;
    let r = report::top(&p, &top_options(a)?).context(a.profile.display())?;
    warn("", &r.warnings);
    emit(&render_top(&r, format(&a.common)))
}

/// The library's options from `top`'s flags (the shorthands win over `--sample-index` and `--granularity`).
fn top_options(a: &TopArgs) -> Result<TopOptions> {
    let shorthand = [
        (a.inuse_space, "inuse_space"),
        (a.inuse_objects, "inuse_objects"),
        (a.alloc_space, "alloc_space"),
        (a.alloc_objects, "alloc_objects"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then(|| name.to_string()));
    let granularity = [
        (a.functions, Granularity::Functions),
        (a.filefunctions, Granularity::FileFunctions),
        (a.files, Granularity::Files),
        (a.lines, Granularity::Lines),
        (a.addresses, Granularity::Addresses),
    ]
    .into_iter()
    .find_map(|(set, g)| set.then_some(g))
    .unwrap_or(a.granularity.into());
    Ok(TopOptions {
        sample_index: shorthand.or(a.sample_index.clone()),
        granularity,
        cum: a.cum,
        node_count: a.nodecount,
        node_fraction: if a.no_trim { 0.0 } else { a.nodefraction },
        edge_fraction: if a.no_trim { 0.0 } else { a.edgefraction },
        filters: Filters {
            focus: regex_opt("focus", a.focus.as_deref())?,
            ignore: regex_opt("ignore", a.ignore.as_deref())?,
            hide: regex_opt("hide", a.hide.as_deref())?,
            show: regex_opt("show", a.show.as_deref())?,
            show_from: regex_opt("show_from", a.show_from.as_deref())?,
        },
        unit: a.unit.clone(),
    })
}

/// `pprofsym sites`.
pub fn sites(a: SitesArgs) -> Result<()> {
    let p = load(&a.profile, &a.common)?;
    let p = symbolize_for_report(p, a.binary.as_deref(), &a.sym)?;
    let opts = SiteOptions {
        sort: a.sort.into(),
        limit: a.limit,
    };
    let r = report::sites(&p, &opts).context(a.profile.display())?;
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
fn regex_opt(flag: &str, re: Option<&str>) -> Result<Option<Regex>> {
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
