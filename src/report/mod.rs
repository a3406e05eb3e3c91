//! Reports: each is a function from a profile to rows; rendering is separate ([`render`]).

pub mod addrs;
pub mod flame;
pub mod folded;
mod frames;
pub mod graph;
pub mod growth;
pub mod info;
pub mod labels;
pub mod measure;
pub mod raw;
pub mod render;
pub mod sites;
pub mod top;
pub mod traces;

pub use graph::{Filters, Granularity};
pub use info::{Info, info};
pub use sites::{SiteOptions, SiteSort, SitesReport, sites};
pub use top::{TopOptions, TopReport, TopRow, top};
