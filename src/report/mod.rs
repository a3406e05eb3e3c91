//! Reports: each is a function from a profile to rows; rendering is separate ([`render`]).

pub mod addrs;
mod frames;
pub mod graph;
pub mod info;
pub mod labels;
pub mod measure;
pub mod render;
pub mod sites;
pub mod top;

pub use graph::{Filters, Granularity};
pub use info::{Info, info};
pub use sites::{SiteOptions, SiteSort, SitesReport, sites};
pub use top::{TopOptions, TopReport, TopRow, top};

/// The name pprof shows for each function (in `pb().function` order), after its loader's demangling pass.
pub(crate) fn function_names(p: &crate::profile::Profile) -> Vec<String> {
    use crate::symbolize::demangle::{DemangleMode, display_name};
    p.pb()
        .function
        .iter()
        .map(|f| display_name(p.str(f.name), p.str(f.system_name), DemangleMode::Short))
        .collect()
}
