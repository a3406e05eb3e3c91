//! pprof's sample filters (`-focus`, `-ignore`, `-hide`, `-show`, `-show_from`): which locations a sample may
//! pass through, and which of a location's frames remain (pprof's `FilterSamplesByName` and `ShowFrom`).

use regex::Regex;

use super::tags::TagFilter;
use crate::profile::{Profile, pb};

/// Sample filters with pprof's semantics. Each regular expression is matched (unanchored) against function
/// names, file names and the mapping's file name.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Keep only samples with a location that matches.
    pub focus: Option<Regex>,
    /// Drop samples with a location that matches.
    pub ignore: Option<Regex>,
    /// Remove matching frames from stacks.
    pub hide: Option<Regex>,
    /// Keep only matching frames in stacks.
    pub show: Option<Regex>,
    /// Drop the frames above (callers of) the root-most frame matching this regular expression.
    pub show_from: Option<Regex>,
    /// Keep only samples whose labels match (pprof's `-tagfocus`).
    pub tag_focus: Option<TagFilter>,
    /// Drop samples whose labels match (pprof's `-tagignore`).
    pub tag_ignore: Option<TagFilter>,
}

impl Filters {
    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.names_empty() && self.tag_focus.is_none() && self.tag_ignore.is_none()
    }

    /// True when no filter on frames (focus, ignore, hide, show, show_from) is set.
    pub(crate) fn names_empty(&self) -> bool {
        self.focus.is_none()
            && self.ignore.is_none()
            && self.hide.is_none()
            && self.show.is_none()
            && self.show_from.is_none()
    }

    /// `key=value` strings for the report legend, in pprof's order.
    pub fn legend(&self) -> Vec<String> {
        let mut out: Vec<String> = [
            ("focus", &self.focus),
            ("ignore", &self.ignore),
            ("hide", &self.hide),
            ("show", &self.show),
            ("show_from", &self.show_from),
        ]
        .into_iter()
        .filter_map(|(k, r)| r.as_ref().map(|r| format!("{k}={}", r.as_str())))
        .collect();
        for (k, t) in [("tagfocus", &self.tag_focus), ("tagignore", &self.tag_ignore)] {
            if let Some(t) = t {
                out.push(format!("{k}={}", t.raw()));
            }
        }
        out
    }
}

/// What the filters matched, for pprof's "… expression matched no samples" warnings.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterMatches {
    /// Focus matched a location (or no focus was given).
    pub focus: bool,
    /// Ignore matched a location.
    pub ignore: bool,
    /// Hide matched a location.
    pub hide: bool,
    /// Show kept a frame somewhere.
    pub show: bool,
    /// Show-from matched a location.
    pub show_from: bool,
    /// Tag focus matched a sample that the frame filters kept (or no tag focus was given).
    pub tag_focus: bool,
    /// Tag ignore matched such a sample.
    pub tag_ignore: bool,
}

/// What the filters decided for one location.
pub(crate) struct LocationFilter<'a> {
    /// `Some(true)`: matched focus; `Some(false)`: matched ignore (its samples are dropped); `None`: neither.
    pub(crate) focus: Option<bool>,
    /// Every frame is hidden: the location is left out of stacks.
    pub(crate) hidden: bool,
    /// Matched show_from: stacks are cut above their root-most such location.
    pub(crate) show_from_hit: bool,
    /// The frames that remain, innermost first.
    pub(crate) lines: Vec<&'a pb::Line>,
}

/// Applies `filters` to one location whose frames (after pruning) are `lines`; `fname` gives a function's
/// displayed name. What matched is added to `matches`.
pub(crate) fn filter_location<'a>(
    profile: &Profile,
    loc: &pb::Location,
    lines: &'a [pb::Line],
    filters: &Filters,
    fname: &dyn Fn(u64) -> &'a str,
    matches: &mut FilterMatches,
) -> LocationFilter<'a> {
    let mut out = LocationFilter {
        focus: None,
        hidden: false,
        show_from_hit: false,
        lines: Vec::new(),
    };
    let mapping = profile.mapping(loc.mapping_id);
    let objfile = mapping.map_or("", |m| profile.str(m.filename));
    let line_matches = |re: &Regex, ln: &pb::Line| -> bool {
        profile
            .function(ln.function_id)
            .is_some_and(|f| re.is_match(fname(ln.function_id)) || re.is_match(profile.str(f.filename)))
    };
    let loc_matches = |re: &Regex| -> bool {
        lines.iter().any(|ln| line_matches(re, ln)) || (mapping.is_some() && re.is_match(objfile))
    };
    // Which lines survive hide/show.
    let mut keep: Vec<bool> = vec![true; lines.len()];
    if !filters.names_empty() {
        if let Some(re) = &filters.ignore
            && loc_matches(re)
        {
            matches.ignore = true;
            out.focus = Some(false);
        }
        if out.focus.is_none() && filters.focus.as_ref().is_none_or(&loc_matches) {
            matches.focus = true;
            out.focus = Some(true);
        }
        if let Some(re) = &filters.hide
            && loc_matches(re)
        {
            matches.hide = true;
            if mapping.is_some() && re.is_match(objfile) {
                keep.iter_mut().for_each(|k| *k = false);
            } else {
                for (k, ln) in keep.iter_mut().zip(lines) {
                    if line_matches(re, ln) {
                        *k = false;
                    }
                }
            }
            if !keep.iter().any(|k| *k) {
                out.hidden = true;
            }
        }
        if let Some(re) = &filters.show {
            if !(mapping.is_some() && re.is_match(objfile)) {
                for (k, ln) in keep.iter_mut().zip(lines) {
                    if *k && profile.function(ln.function_id).is_some() && !line_matches(re, ln) {
                        *k = false;
                    }
                }
            }
            if !keep.iter().any(|k| *k) {
                out.hidden = true;
            } else {
                matches.show = true;
            }
        }
    }
    out.lines = lines.iter().zip(&keep).filter(|(_, k)| **k).map(|(l, _)| l).collect();
    if let Some(re) = &filters.show_from {
        if mapping.is_some() && re.is_match(objfile) {
            out.show_from_hit = true;
        } else if let Some(i) = out.lines.iter().rposition(|ln| {
            profile
                .function(ln.function_id)
                .is_some_and(|_| re.is_match(fname(ln.function_id)))
        }) {
            out.lines.truncate(i + 1);
            out.show_from_hit = true;
        }
        matches.show_from |= out.show_from_hit;
    }
    out
}

/// The stack of a sample after filtering: `stack` holds its locations' positions (leaf first), as pruning left
/// them; `locs` the per-location decisions. `None` when the sample is dropped (ignored, not focused, or nothing
/// left), else the positions that remain, appended to `out`.
pub(crate) fn filter_stack(
    stack: impl Iterator<Item = usize>,
    locs: &[LocationFilter<'_>],
    filters: &Filters,
    out: &mut Vec<u32>,
) -> bool {
    let start = out.len();
    let any_filter = !filters.names_empty();
    let mut focused = false;
    for li in stack {
        if any_filter {
            match locs[li].focus {
                Some(false) => {
                    out.truncate(start);
                    return false;
                }
                Some(true) => focused = true,
                None => {}
            }
            if locs[li].hidden {
                continue;
            }
        }
        out.push(li as u32);
    }
    if any_filter && (!focused || out.len() == start) {
        out.truncate(start);
        return false;
    }
    if filters.show_from.is_some() {
        // Keep the stack up to its root-most location that matched show_from.
        match out[start..].iter().rposition(|&li| locs[li as usize].show_from_hit) {
            Some(i) => out.truncate(start + i + 1),
            None => {
                out.truncate(start);
                return false;
            }
        }
    }
    true
}
