//! pprof's call-graph model, reduced to what tabular and stack reports need: nodes keyed like pprof's
//! `NodeInfo` at a chosen granularity, flat and cum weights, and the edges that decide whether a node prints as
//! `(inline)`.
//!
//! The steps follow `go tool pprof`, each in its own file so every report can reuse them: the profile's own
//! `drop_frames` ([`prune`]) → sample filters, focus/ignore/hide/show ([`filter`]) → nodes at a granularity
//! ([`nodes`]) → a graph of all nodes with weights ([`build`]) → drop nodes under the cum cutoff and rebuild → sort
//! → keep the top N and rebuild (the last steps are in [`super::top`]).

mod build;
pub(crate) mod filter;
mod nodes;
mod paths;
pub(crate) mod prune;
pub mod tags;

use std::collections::HashMap;

pub use self::filter::{FilterMatches, Filters};
use self::filter::{filter_location, filter_stack};
pub use self::nodes::NodeInfo;
use self::nodes::{intern_node, node_info};
pub use self::paths::{basename, clean_path};
use self::prune::Pruning;
pub use self::tags::TagFilter;
use crate::profile::Profile;

/// How finely frames are grouped into report rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// Function name.
    #[default]
    Functions,
    /// Function name and file.
    FileFunctions,
    /// Source file.
    Files,
    /// Function, file and line.
    Lines,
    /// Every location (address), inline frames kept apart.
    Addresses,
}

impl Granularity {
    /// Parses the names pprof uses for its granularity flags.
    pub fn parse(s: &str) -> Option<Granularity> {
        Some(match s {
            "functions" => Granularity::Functions,
            "filefunctions" => Granularity::FileFunctions,
            "files" => Granularity::Files,
            "lines" => Granularity::Lines,
            "addresses" => Granularity::Addresses,
            _ => return None,
        })
    }
}

/// Samples reduced to what a report needs: one value each, and the stack as positions into the node table.
pub struct Prepared {
    /// Interned node identities.
    pub infos: Vec<NodeInfo>,
    /// Printable names of `infos`, computed once (sorting compares them).
    pub names: Vec<String>,
    /// Per location position: its node ids, innermost first.
    loc_nodes: Vec<Vec<u32>>,
    /// Per node: some location has it as an inlined frame (not its last, outermost, line).
    inlinable: Vec<bool>,
    /// Flattened sample stacks (location positions, leaf first), with their value.
    stacks: Vec<u32>,
    stack_ends: Vec<usize>,
    values: Vec<i64>,
    /// Per kept sample: its position in the profile's samples.
    sample_ids: Vec<u32>,
    /// What the filters matched.
    pub matches: FilterMatches,
}

impl Prepared {
    /// Applies the profile's pruning, `filters` and `granularity` to `profile` for sample value `index`. Samples
    /// whose value is zero are left out.
    pub fn new(profile: &Profile, index: usize, filters: &Filters, granularity: Granularity) -> Prepared {
        Prepared::build(profile, index, filters, granularity, false)
    }

    /// [`Prepared::new`], keeping the samples whose value is zero when `keep_zero` (`-traces` prints them).
    pub fn build(
        profile: &Profile,
        index: usize,
        filters: &Filters,
        granularity: Granularity,
        keep_zero: bool,
    ) -> Prepared {
        let pb = profile.pb();
        let mut matches = FilterMatches {
            focus: filters.focus.is_none(),
            tag_focus: filters.tag_focus.is_none(),
            ..Default::default()
        };
        let fn_names = profile.display_names();
        let fname = |id: u64| profile.function_index(id).map_or("", |i| fn_names[i].as_str());
        // The profile's own drop_frames/keep_frames (pprof's RemoveUninteresting, done when a profile is loaded).
        let prune = Pruning::new(profile, fn_names);
        // Per location: the filters' decisions, then its nodes.
        let locs: Vec<_> = pb
            .location
            .iter()
            .enumerate()
            .map(|(li, loc)| {
                let lines = &loc.line[prune.first_line[li]..];
                filter_location(profile, loc, lines, filters, &fname, &mut matches)
            })
            .collect();
        let mut infos: Vec<NodeInfo> = Vec::new();
        let mut intern: rustc_hash::FxHashMap<NodeInfo, u32> = Default::default();
        // Most lines share their node with many others (same function at `functions`): the node of a (function,
        // kept line, kept column, mapping) is made and interned once. The address is part of the node only at
        // `addresses`, where nothing repeats.
        let (keep_line, keep_column) = match granularity {
            Granularity::Lines => (true, false),
            Granularity::Addresses => (true, true),
            _ => (false, false),
        };
        let mut by_line: rustc_hash::FxHashMap<(u64, i64, i64, u64), u32> = Default::default();
        let loc_nodes: Vec<Vec<u32>> = pb
            .location
            .iter()
            .zip(&locs)
            .map(|(loc, lf)| {
                let objfile = profile.mapping(loc.mapping_id).map_or("", |m| profile.str(m.filename));
                let address = if granularity == Granularity::Addresses {
                    loc.address
                } else {
                    0
                };
                let unknown = || NodeInfo {
                    address,
                    objfile: objfile.to_string(),
                    ..Default::default()
                };
                let mut nodes = Vec::with_capacity(lf.lines.len().max(1));
                if lf.lines.is_empty() {
                    nodes.push(intern_node(&mut intern, &mut infos, unknown()));
                }
                for ln in &lf.lines {
                    let key = (
                        ln.function_id,
                        if keep_line { ln.line } else { 0 },
                        if keep_column { ln.column } else { 0 },
                        loc.mapping_id,
                    );
                    let cached = (address == 0).then(|| by_line.get(&key).copied()).flatten();
                    let id = cached.unwrap_or_else(|| {
                        let info = match profile.function(ln.function_id) {
                            None => unknown(),
                            Some(f) => node_info(profile, f, fname(ln.function_id), ln, address, objfile, granularity),
                        };
                        let id = intern_node(&mut intern, &mut infos, info);
                        if address == 0 {
                            by_line.insert(key, id);
                        }
                        id
                    });
                    nodes.push(id);
                }
                nodes
            })
            .collect();
        // Samples: their value and filtered stack.
        let mut stacks = Vec::new();
        let mut stack_ends = Vec::with_capacity(pb.sample.len());
        let mut values = Vec::with_capacity(pb.sample.len());
        let mut sample_ids = Vec::with_capacity(pb.sample.len());
        let has_tags = filters.tag_focus.is_some() || filters.tag_ignore.is_some();
        let units = if has_tags {
            tags::num_label_units(profile)
        } else {
            HashMap::new()
        };
        for (si, s) in pb.sample.iter().enumerate() {
            let v = s.value.get(index).copied().unwrap_or(0);
            // A zero sample still counts for whether a tag filter matched anything, as in pprof.
            if v == 0 && !keep_zero && !has_tags {
                continue;
            }
            let start = stacks.len();
            let stack = prune
                .sample_stack(profile, &s.location_id)
                .iter()
                .filter_map(|id| profile.location_index(*id));
            if !filter_stack(stack, &locs, filters, &mut stacks) {
                continue;
            }
            // Label filters act on the samples the frame filters kept (pprof's FilterSamplesByTag comes after
            // FilterSamplesByName).
            if has_tags {
                let focused = filters.tag_focus.as_ref().is_none_or(|t| t.matches(profile, s, &units));
                let ignored = filters
                    .tag_ignore
                    .as_ref()
                    .is_some_and(|t| t.matches(profile, s, &units));
                matches.tag_focus |= focused;
                matches.tag_ignore |= ignored;
                if !focused || ignored || (v == 0 && !keep_zero) {
                    stacks.truncate(start);
                    continue;
                }
            }
            stack_ends.push(stacks.len());
            values.push(v);
            sample_ids.push(si as u32);
        }
        let names = infos.iter().map(NodeInfo::printable_name).collect();
        let mut inlinable = vec![false; infos.len()];
        for nodes in &loc_nodes {
            if let Some((_, inner)) = nodes.split_last() {
                for &n in inner {
                    inlinable[n as usize] = true;
                }
            }
        }
        Prepared {
            infos,
            names,
            loc_nodes,
            inlinable,
            stacks,
            stack_ends,
            values,
            sample_ids,
            matches,
        }
    }

    /// The number of samples kept.
    pub fn sample_count(&self) -> usize {
        self.values.len()
    }

    /// Kept sample `i`: its position in the profile's samples, its value, and its stack as node ids, leaf first,
    /// each with whether it is an inlined frame (not the last, outermost, frame of its location).
    pub fn sample(&self, i: usize, out: &mut Vec<(u32, bool)>) -> (usize, i64) {
        out.clear();
        let begin = if i == 0 { 0 } else { self.stack_ends[i - 1] };
        for &loc in &self.stacks[begin..self.stack_ends[i]] {
            let nodes = &self.loc_nodes[loc as usize];
            for (k, &n) in nodes.iter().enumerate() {
                out.push((n, k + 1 != nodes.len()));
            }
        }
        (self.sample_ids[i] as usize, self.values[i])
    }

    /// The value of kept sample `i`.
    pub fn value(&self, i: usize) -> i64 {
        self.values[i]
    }

    /// The stack of kept sample `i` as location positions, leaf first.
    pub fn sample_locations(&self, i: usize) -> &[u32] {
        let begin = if i == 0 { 0 } else { self.stack_ends[i - 1] };
        &self.stacks[begin..self.stack_ends[i]]
    }

    /// The number of locations (positions that [`Prepared::location_nodes`] takes).
    pub fn location_count(&self) -> usize {
        self.loc_nodes.len()
    }

    /// The node ids of the location at position `loc`, innermost frame first.
    pub fn location_nodes(&self, loc: u32) -> &[u32] {
        &self.loc_nodes[loc as usize]
    }

    /// The warnings pprof prints when a filter matched nothing, in its order.
    pub fn filter_warnings(&self, filters: &Filters) -> Vec<crate::error::Warning> {
        let m = &self.matches;
        let checks = [
            (!m.focus, "Focus"),
            (filters.ignore.is_some() && !m.ignore, "Ignore"),
            (filters.hide.is_some() && !m.hide, "Hide"),
            (filters.show.is_some() && !m.show, "Show"),
            (filters.show_from.is_some() && !m.show_from, "ShowFrom"),
            (!m.tag_focus, "TagFocus"),
            (filters.tag_ignore.is_some() && !m.tag_ignore, "TagIgnore"),
        ];
        checks
            .into_iter()
            .filter(|(bad, _)| *bad)
            .map(|(_, what)| crate::error::Warning::Other(format!("{what} expression matched no samples")))
            .collect()
    }
}

/// The total pprof's reports take as 100%: Σ|value| of sample value `index` over all samples, or, when some samples
/// carry the label `pprof::base=true` (a `-diff_base` profile) and their sum is not zero, Σ|value| over those.
pub fn report_total(profile: &Profile, index: usize) -> i64 {
    let pb = profile.pb();
    let (mut total, mut diff) = (0i64, 0i64);
    for s in &pb.sample {
        let v = s.value.get(index).copied().unwrap_or(0).wrapping_abs();
        total = total.wrapping_add(v);
        if s.label.iter().any(|l| {
            l.str != 0 && profile.str(l.key) == crate::profile::ops::DIFF_BASE_LABEL && profile.str(l.str) == "true"
        }) {
            diff = diff.wrapping_add(v);
        }
    }
    if diff > 0 { diff } else { total }
}

/// An edge between two nodes: caller → callee (only the callee is needed for the inline markers).
#[derive(Debug, Clone)]
pub struct Edge {
    /// The callee's node id.
    pub dst: u32,
    /// The weight of the samples passing through the edge.
    pub weight: i64,
    /// Every sample passing through it crosses an inline boundary (callee inlined into caller).
    pub inline: bool,
}

/// Node weights (indexed by node id) and the ids of the nodes present, in report order once sorted.
pub struct Graph {
    /// Node ids present in the graph.
    pub nodes: Vec<u32>,
    /// Flat weight per node id.
    pub flat: Vec<i64>,
    /// Cumulative weight per node id.
    pub cum: Vec<i64>,
    /// The edges, when the graph was built with them.
    pub edges: Vec<Edge>,
    /// Per edge: trimmed away.
    pub removed: Vec<bool>,
}

impl Graph {
    /// Σ flat over the nodes present.
    pub fn flat_sum(&self) -> i64 {
        self.nodes
            .iter()
            .map(|&n| self.flat[n as usize])
            .fold(0, i64::wrapping_add)
    }

    /// Removes edges lighter than `cutoff`.
    pub fn trim_edges(&mut self, cutoff: i64) {
        for (e, r) in self.edges.iter().zip(self.removed.iter_mut()) {
            if e.weight.wrapping_abs() < cutoff {
                *r = true;
            }
        }
    }

    /// "(inline)" when every remaining incoming edge is inline, "(partial-inline)" when some are.
    pub fn inline_labels(&self) -> HashMap<u32, &'static str> {
        let mut state: HashMap<u32, (bool, bool)> = HashMap::new();
        for (e, removed) in self.edges.iter().zip(&self.removed) {
            if *removed {
                continue;
            }
            let s = state.entry(e.dst).or_default();
            if e.inline {
                s.0 = true;
            } else {
                s.1 = true;
            }
        }
        state
            .into_iter()
            .filter_map(|(n, (inl, noinl))| match (inl, noinl) {
                (true, true) => Some((n, "(partial-inline)")),
                (true, false) => Some((n, "(inline)")),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        assert_eq!(clean_path("a/b/../c"), "a/c");
        assert_eq!(clean_path("/../a//b/./"), "/a/b");
        assert_eq!(clean_path("../x"), "../x");
        assert_eq!(clean_path("./"), ".");
        assert_eq!(basename("/usr/bin/heapdemo"), "heapdemo");
        assert_eq!(basename("heapdemo"), "heapdemo");
    }

    #[test]
    fn printable_names() {
        let mut n = NodeInfo {
            name: "main.f".into(),
            file: "m.go".into(),
            line: 3,
            ..Default::default()
        };
        assert_eq!(n.printable_name(), "main.f m.go:3");
        n.address = 0x4de804;
        assert_eq!(n.printable_name(), "00000000004de804 main.f m.go:3");
        let n = NodeInfo {
            objfile: "/bin/pie".into(),
            ..Default::default()
        };
        assert_eq!(n.printable_name(), "[pie]");
        assert_eq!(NodeInfo::default().printable_name(), "<unknown>");
    }
}
