//! The `diff` report: heap growth by allocation site between two heap profiles. Each profile goes through the same
//! site walk as [`super::sites`]; the rows are joined by site and ranked by how much each site grew, with the sites
//! that appeared or vanished marked. This is the table a person hunting a leak wants first; pprof has no such
//! report (its `-base` works per function and mixes growth with shrink).

use std::collections::HashMap;

use serde::Serialize;

use super::graph::tags::TagFilter;
use super::sites::{HeapValues, SiteOptions, SiteRow, sites};
use crate::error::{Error, ErrorKind, Result};
use crate::profile::Profile;

/// Row order of the growth report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GrowthSort {
    /// Space delta, largest growth first (the largest shrink last).
    #[default]
    Space,
    /// Object count delta, largest growth first.
    Objects,
    /// Space in the new profile, largest first.
    New,
    /// Space in the old profile, largest first.
    Old,
    /// Site name.
    Name,
}

/// Options of the growth report.
#[derive(Debug, Clone, Default)]
pub struct GrowthOptions {
    /// Compare allocated space and objects (since the program started) instead of inuse.
    pub alloc: bool,
    /// Row order.
    pub sort: GrowthSort,
    /// Keep at most this many rows (the totals still count every site).
    pub limit: Option<usize>,
    /// Keep only samples whose labels match.
    pub tag_focus: Option<TagFilter>,
    /// Drop samples whose labels match.
    pub tag_ignore: Option<TagFilter>,
}

/// What became of a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteChange {
    /// In both profiles.
    Kept,
    /// Nothing there in the old profile.
    New,
    /// Nothing left there in the new profile.
    Gone,
}

/// One site in both profiles.
#[derive(Debug, Clone, Serialize)]
pub struct GrowthRow {
    /// `function file:line`, or the address form of an unsymbolized site.
    pub site: String,
    /// Space in the old profile.
    pub old_space: i64,
    /// Space in the new profile.
    pub new_space: i64,
    /// Objects in the old profile (`None`: the profile has no object counts).
    pub old_objects: Option<i64>,
    /// Objects in the new profile.
    pub new_objects: Option<i64>,
    /// Appeared, vanished, or neither.
    pub change: SiteChange,
}

impl GrowthRow {
    /// New − old space.
    pub fn delta_space(&self) -> i64 {
        self.new_space.wrapping_sub(self.old_space)
    }

    /// New − old objects, when both profiles count objects.
    pub fn delta_objects(&self) -> Option<i64> {
        Some(self.new_objects?.wrapping_sub(self.old_objects?))
    }

    /// The space delta as a percentage of the old space (`None` when the old space is zero).
    pub fn delta_percent(&self) -> Option<f64> {
        (self.old_space != 0).then(|| self.delta_space() as f64 * 100.0 / self.old_space as f64)
    }
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct GrowthReport {
    /// The sample types compared (`inuse_space`/`inuse_objects`, or the alloc pair).
    pub space_type: String,
    /// The object count type.
    pub objects_type: String,
    /// The sites, in the requested order.
    pub rows: Vec<GrowthRow>,
    /// Totals over every site: old and new space, old and new objects.
    pub total: GrowthRow,
    /// Number of sites before the limit.
    pub site_count: usize,
}

/// A site's identity: function, file, line, and the address form of an unsymbolized site.
type SiteKey = (String, String, i64, String);

/// Computes the growth of `new` over `old`, by allocation site.
pub fn growth(old: &Profile, new: &Profile, opts: &GrowthOptions) -> Result<GrowthReport> {
    let site_opts = SiteOptions {
        tag_focus: opts.tag_focus.clone(),
        tag_ignore: opts.tag_ignore.clone(),
        ..SiteOptions::default()
    };
    let (space_type, objects_type) = if opts.alloc {
        ("alloc_space", "alloc_objects")
    } else {
        ("inuse_space", "inuse_objects")
    };
    let pick = |v: &HeapValues| {
        if opts.alloc {
            (v.alloc_space, v.alloc_objects)
        } else {
            (v.inuse_space, v.inuse_objects)
        }
    };
    let a = sites(old, &site_opts).map_err(|e| e.context("old profile"))?;
    let b = sites(new, &site_opts).map_err(|e| e.context("new profile"))?;
    for (which, r) in [("old", &a), ("new", &b)] {
        if pick(&r.total).0.is_none() {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("the {which} profile has no {space_type} sample type"),
            ));
        }
    }
    let key = |r: &SiteRow| (r.function.clone(), r.file.clone(), r.line, r.location.clone());
    let mut joined: HashMap<SiteKey, (String, HeapValues, HeapValues)> = HashMap::new();
    for r in &a.rows {
        joined
            .entry(key(r))
            .or_insert_with(|| (r.display_name(), HeapValues::default(), HeapValues::default()))
            .1 = r.values;
    }
    for r in &b.rows {
        joined
            .entry(key(r))
            .or_insert_with(|| (r.display_name(), HeapValues::default(), HeapValues::default()))
            .2 = r.values;
    }
    let has_objects = pick(&a.total).1.is_some() && pick(&b.total).1.is_some();
    let row = |site: String, o: &HeapValues, n: &HeapValues| {
        let (os, oo) = pick(o);
        let (ns, no) = pick(n);
        let (os, ns) = (os.unwrap_or(0), ns.unwrap_or(0));
        let (oo, no) = if has_objects {
            (Some(oo.unwrap_or(0)), Some(no.unwrap_or(0)))
        } else {
            (None, None)
        };
        let old_empty = os == 0 && oo.unwrap_or(0) == 0;
        let new_empty = ns == 0 && no.unwrap_or(0) == 0;
        let change = match (old_empty, new_empty) {
            (true, false) => SiteChange::New,
            (false, true) => SiteChange::Gone,
            _ => SiteChange::Kept,
        };
        GrowthRow {
            site,
            old_space: os,
            new_space: ns,
            old_objects: oo,
            new_objects: no,
            change,
        }
    };
    let mut rows: Vec<GrowthRow> = joined
        .into_values()
        .map(|(site, o, n)| row(site, &o, &n))
        // Sites with nothing in either profile (only alloc values when comparing inuse) are not growth.
        .filter(|r| {
            !(r.old_space == 0
                && r.new_space == 0
                && r.old_objects.unwrap_or(0) == 0
                && r.new_objects.unwrap_or(0) == 0)
        })
        .collect();
    let by_name = |x: &GrowthRow, y: &GrowthRow| x.site.cmp(&y.site);
    rows.sort_by(|x, y| match opts.sort {
        GrowthSort::Space => y
            .delta_space()
            .cmp(&x.delta_space())
            .then(y.delta_objects().cmp(&x.delta_objects()))
            .then_with(|| by_name(x, y)),
        GrowthSort::Objects => y
            .delta_objects()
            .cmp(&x.delta_objects())
            .then(y.delta_space().cmp(&x.delta_space()))
            .then_with(|| by_name(x, y)),
        GrowthSort::New => y.new_space.cmp(&x.new_space).then_with(|| by_name(x, y)),
        GrowthSort::Old => y.old_space.cmp(&x.old_space).then_with(|| by_name(x, y)),
        GrowthSort::Name => by_name(x, y),
    });
    let site_count = rows.len();
    let mut total = row(format!("TOTAL ({site_count} sites)"), &a.total, &b.total);
    total.change = SiteChange::Kept;
    if let Some(n) = opts.limit {
        rows.truncate(n);
    }
    Ok(GrowthReport {
        space_type: space_type.into(),
        objects_type: objects_type.into(),
        rows,
        total,
        site_count,
    })
}
