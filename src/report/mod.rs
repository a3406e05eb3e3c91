//! Reports: each is a function from a profile to rows; rendering is separate ([`render`]).

pub mod graph;
pub mod info;
pub mod labels;
pub mod measure;
pub mod render;
pub mod sites;
pub mod top;

pub use graph::{Filters, Granularity};
pub use info::{info, Info};
pub use sites::{sites, SiteOptions, SiteSort, SitesReport};
pub use top::{top, TopOptions, TopReport, TopRow};
