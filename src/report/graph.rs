//! pprof's call-graph model, reduced to what tabular reports need: nodes keyed like pprof's `NodeInfo` at a
//! chosen granularity, flat and cum weights, and the edges that decide whether a node prints as `(inline)`.
//!
//! The steps follow `go tool pprof`: sample filters (focus/ignore/hide/show) → granularity → a graph of all
//! nodes → drop nodes under the cum cutoff and rebuild from the samples → sort → keep the top N and rebuild.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use regex::Regex;

use super::frames::FrameFilter;
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

/// The identity of a report row, with pprof's `NodeInfo` fields (and their order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NodeInfo {
    /// Function name ("" when aggregated away or unknown).
    pub name: String,
    /// Runtime address (only at `addresses` granularity).
    pub address: u64,
    /// Cleaned source file name.
    pub file: String,
    /// Function start line (only kept when there is no name, as pprof does).
    pub start_line: i64,
    /// Line number.
    pub line: i64,
    /// Column number.
    pub column: i64,
    /// Mapping file, kept only when there is no function name.
    pub objfile: String,
}

impl NodeInfo {
    /// The row name pprof prints: address, function, `file:line[:col]` or file, else `[binary]` or `<unknown>`.
    pub fn printable_name(&self) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(3);
        if self.address != 0 {
            parts.push(format!("{:016x}", self.address));
        }
        if !self.name.is_empty() {
            parts.push(self.name.clone());
        }
        if self.line != 0 {
            let mut s = format!("{}:{}", self.file, self.line);
            if self.column != 0 {
                s.push_str(&format!(":{}", self.column));
            }
            parts.push(s);
        } else if !self.file.is_empty() {
            parts.push(self.file.clone());
        } else if !self.name.is_empty() {
        } else if !self.objfile.is_empty() {
            parts.push(format!("[{}]", basename(&self.objfile)));
        } else {
            parts.push("<unknown>".into());
        }
        parts.join(" ")
    }

    /// Go's `fmt.Sprint` of the struct, pprof's last-resort tie breaker when sorting.
    fn go_sprint(&self) -> String {
        format!(
            "{{{}  {} {} {} {} {} {}}}",
            self.name, self.address, self.file, self.start_line, self.line, self.column, self.objfile
        )
    }
}

/// The last path component, as Go's `filepath.Base`.
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// Go's `filepath.Clean`: lexical simplification of a slash-separated path.
pub fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// pprof's source-path trimming without a configured trim path: drop the `/proc/self/cwd/` prefixes.
fn trim_path(path: &str) -> &str {
    for prefix in ["/proc/self/cwd/./", "/proc/self/cwd/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            return rest;
        }
    }
    path
}

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
}

impl Filters {
    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.focus.is_none()
            && self.ignore.is_none()
            && self.hide.is_none()
            && self.show.is_none()
            && self.show_from.is_none()
    }

    /// `key=regexp` strings for the report legend, in pprof's order.
    pub fn legend(&self) -> Vec<String> {
        [
            ("focus", &self.focus),
            ("ignore", &self.ignore),
            ("hide", &self.hide),
            ("show", &self.show),
            ("show_from", &self.show_from),
        ]
        .into_iter()
        .filter_map(|(k, r)| r.as_ref().map(|r| format!("{k}={}", r.as_str())))
        .collect()
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
}

/// Samples reduced to what a report needs: one value each, and the stack as positions into the node table.
pub struct Prepared {
    /// Interned node identities.
    pub infos: Vec<NodeInfo>,
    /// Printable names of `infos`, computed once (sorting compares them).
    pub names: Vec<String>,
    /// Per location position: its node ids, innermost first.
    loc_nodes: Vec<Vec<u32>>,
    /// Flattened sample stacks (location positions, leaf first), with their value.
    stacks: Vec<u32>,
    stack_ends: Vec<usize>,
    values: Vec<i64>,
    /// What the filters matched.
    pub matches: FilterMatches,
}

impl Prepared {
    /// Applies filters and granularity to `profile` for sample value `index`.
    pub fn new(profile: &Profile, index: usize, filters: &Filters, granularity: Granularity) -> Prepared {
        let pb = profile.pb();
        let mut matches = FilterMatches {
            focus: filters.focus.is_none(),
            ..Default::default()
        };
        let any_filter = !filters.is_empty();

        // Per location: focus state (None = neither), hidden flag, node ids.
        let mut infos: Vec<NodeInfo> = Vec::new();
        let mut intern: HashMap<NodeInfo, u32> = HashMap::new();
        let mut loc_nodes: Vec<Vec<u32>> = Vec::with_capacity(pb.location.len());
        let mut focus_state: Vec<Option<bool>> = vec![None; pb.location.len()];
        let mut hidden: Vec<bool> = vec![false; pb.location.len()];
        let mut show_from_hit: Vec<bool> = vec![false; pb.location.len()];
        let fn_names = super::function_names(profile);
        let fname = |id: u64| profile.function_index(id).map_or("", |i| fn_names[i].as_str());

        // The profile's own drop_frames/keep_frames (pprof's RemoveUninteresting, done when a profile is loaded).
        let prune = Pruning::new(profile, &fn_names);

        for (li, loc) in pb.location.iter().enumerate() {
            let lines = &loc.line[prune.first_line[li]..];
            let mapping = profile.mapping(loc.mapping_id);
            let objfile = mapping.map_or("", |m| profile.str(m.filename));
            let line_matches = |re: &Regex, ln: &crate::profile::pb::Line| -> bool {
                profile
                    .function(ln.function_id)
                    .is_some_and(|f| re.is_match(fname(ln.function_id)) || re.is_match(profile.str(f.filename)))
            };
            let loc_matches = |re: &Regex| -> bool {
                lines.iter().any(|ln| line_matches(re, ln)) || (mapping.is_some() && re.is_match(objfile))
            };
            // Which lines survive hide/show.
            let mut keep: Vec<bool> = vec![true; lines.len()];
            if any_filter {
                if let Some(re) = &filters.ignore
                    && loc_matches(re)
                {
                    matches.ignore = true;
                    focus_state[li] = Some(false);
                }
                if focus_state[li].is_none() && filters.focus.as_ref().is_none_or(&loc_matches) {
                    matches.focus = true;
                    focus_state[li] = Some(true);
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
                        hidden[li] = true;
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
                        hidden[li] = true;
                    } else {
                        matches.show = true;
                    }
                }
            }

            let mut nodes = Vec::with_capacity(lines.len().max(1));
            let mut kept_lines: Vec<&crate::profile::pb::Line> = loc
                .line
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(l, _)| l)
                .collect();
            if let Some(re) = &filters.show_from {
                if mapping.is_some() && re.is_match(objfile) {
                    show_from_hit[li] = true;
                } else if let Some(i) = kept_lines.iter().rposition(|ln| {
                    profile
                        .function(ln.function_id)
                        .is_some_and(|_| re.is_match(fname(ln.function_id)))
                }) {
                    kept_lines.truncate(i + 1);
                    show_from_hit[li] = true;
                }
                matches.show_from |= show_from_hit[li];
            }
            let address = if granularity == Granularity::Addresses {
                loc.address
            } else {
                0
            };
            if kept_lines.is_empty() {
                let info = NodeInfo {
                    address,
                    objfile: objfile.to_string(),
                    ..Default::default()
                };
                nodes.push(intern_node(&mut intern, &mut infos, info));
            }
            for ln in kept_lines {
                let info = match profile.function(ln.function_id) {
                    None => NodeInfo {
                        address,
                        objfile: objfile.to_string(),
                        ..Default::default()
                    },
                    Some(f) => node_info(profile, f, fname(ln.function_id), ln, address, objfile, granularity),
                };
                nodes.push(intern_node(&mut intern, &mut infos, info));
            }
            loc_nodes.push(nodes);
        }

        let mut stacks = Vec::new();
        let mut stack_ends = Vec::with_capacity(pb.sample.len());
        let mut values = Vec::with_capacity(pb.sample.len());
        'samples: for s in &pb.sample {
            let v = s.value.get(index).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let start = stacks.len();
            let mut focused = false;
            for id in prune.sample_stack(profile, &s.location_id) {
                let Some(li) = profile.location_index(*id) else {
                    continue;
                };
                if any_filter {
                    match focus_state[li] {
                        Some(false) => {
                            stacks.truncate(start);
                            continue 'samples;
                        }
                        Some(true) => focused = true,
                        None => {}
                    }
                    if hidden[li] {
                        continue;
                    }
                }
                stacks.push(li as u32);
            }
            if any_filter && (!focused || stacks.len() == start) {
                stacks.truncate(start);
                continue;
            }
            if filters.show_from.is_some() {
                // Keep the stack up to its root-most location that matched show_from.
                match stacks[start..].iter().rposition(|&li| show_from_hit[li as usize]) {
                    Some(i) => stacks.truncate(start + i + 1),
                    None => {
                        stacks.truncate(start);
                        continue;
                    }
                }
            }
            stack_ends.push(stacks.len());
            values.push(v);
        }
        let names = infos.iter().map(NodeInfo::printable_name).collect();
        Prepared {
            infos,
            names,
            loc_nodes,
            stacks,
            stack_ends,
            values,
            matches,
        }
    }

    /// Builds the graph over the nodes in `kept` (all nodes when `None`); edges are computed when asked.
    /// Large profiles are walked in parallel, a slice of the samples per thread, and the parts summed.
    pub fn graph(&self, kept: Option<&[bool]>, with_edges: bool) -> Graph {
        let n = self.infos.len();
        let nsamples = self.values.len();
        let parts = if nsamples >= PARALLEL_MIN_SAMPLES {
            rayon::current_num_threads().clamp(1, 8)
        } else {
            1
        };
        let mut partials: Vec<Partial> = if parts == 1 {
            vec![self.accumulate(0..nsamples, kept, with_edges)]
        } else {
            use rayon::prelude::*;
            (0..parts)
                .into_par_iter()
                .map(|i| self.accumulate(nsamples * i / parts..nsamples * (i + 1) / parts, kept, with_edges))
                .collect()
        };
        let mut total = partials.remove(0);
        if !partials.is_empty() {
            let mut ids: HashMap<u64, usize, BuildHasherDefault<EdgeHasher>> =
                total.keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
            for part in partials {
                for (a, b) in total.flat.iter_mut().zip(&part.flat) {
                    *a = a.wrapping_add(*b);
                }
                for (a, b) in total.cum.iter_mut().zip(&part.cum) {
                    *a = a.wrapping_add(*b);
                }
                for (key, e) in part.keys.into_iter().zip(part.edges) {
                    match ids.get(&key) {
                        Some(&i) => {
                            let t = &mut total.edges[i];
                            t.weight = t.weight.wrapping_add(e.weight);
                            t.inline &= e.inline;
                        }
                        None => {
                            ids.insert(key, total.edges.len());
                            total.edges.push(e);
                        }
                    }
                }
            }
        }
        let Partial { flat, cum, edges, .. } = total;
        let nodes: Vec<u32> = (0..n as u32)
            .filter(|&i| flat[i as usize] != 0 || cum[i as usize] != 0)
            .collect();
        let removed = vec![false; edges.len()];
        Graph {
            nodes,
            flat,
            cum,
            edges,
            removed,
        }
    }

    /// Flat, cum and edge weights of the samples in `range` (sample positions).
    fn accumulate(&self, range: std::ops::Range<usize>, kept: Option<&[bool]>, with_edges: bool) -> Partial {
        let n = self.infos.len();
        let mut flat = vec![0i64; n];
        let mut cum = vec![0i64; n];
        let mut seen = vec![u32::MAX; n];
        let mut edges: Vec<Edge> = Vec::new();
        let mut keys: Vec<u64> = Vec::new();
        let mut edge_ids: HashMap<u64, usize, BuildHasherDefault<EdgeHasher>> = HashMap::default();
        let mut edge_seen: Vec<u32> = Vec::new();
        let is_kept = |node: u32| kept.is_none_or(|k| k[node as usize]);
        let mut begin = if range.start == 0 {
            0
        } else {
            self.stack_ends[range.start - 1]
        };
        for i in range {
            let stamp = i as u32;
            let end = self.stack_ends[i];
            let stack = &self.stacks[begin..end];
            begin = end;
            let w = self.values[i];
            let mut parent: Option<u32> = None;
            let mut residual = false;
            for &loc in stack.iter().rev() {
                let nodes = &self.loc_nodes[loc as usize];
                for ni in (0..nodes.len()).rev() {
                    let node = nodes[ni];
                    if !is_kept(node) {
                        residual = true;
                        continue;
                    }
                    if seen[node as usize] != stamp {
                        seen[node as usize] = stamp;
                        cum[node as usize] = cum[node as usize].wrapping_add(w);
                    }
                    if with_edges && let Some(p) = parent.filter(|p| *p != node) {
                        let inline = ni != nodes.len() - 1;
                        let key = (u64::from(p) << 32) | u64::from(node);
                        let id = *edge_ids.entry(key).or_insert_with(|| {
                            edges.push(Edge {
                                dst: node,
                                weight: 0,
                                inline: true,
                            });
                            keys.push(key);
                            edge_seen.push(u32::MAX);
                            edges.len() - 1
                        });
                        if edge_seen[id] != stamp {
                            edge_seen[id] = stamp;
                            let e = &mut edges[id];
                            e.weight = e.weight.wrapping_add(w);
                            e.inline &= inline;
                        }
                    }
                    parent = Some(node);
                    residual = false;
                }
            }
            if let (Some(p), false) = (parent, residual) {
                flat[p as usize] = flat[p as usize].wrapping_add(w);
            }
        }
        Partial { flat, cum, edges, keys }
    }

    /// Sorts node ids as pprof does: by |flat| (or |cum| with `cum`), then name, then the other weight.
    pub fn sort_nodes(&self, g: &mut Graph, cum_order: bool) {
        let (flat, cum, names, infos) = (&g.flat, &g.cum, &self.names, &self.infos);
        g.nodes.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            let (p1, p2) = if cum_order {
                (
                    cum[b].wrapping_abs().cmp(&cum[a].wrapping_abs()),
                    flat[b].wrapping_abs().cmp(&flat[a].wrapping_abs()),
                )
            } else {
                (
                    flat[b].wrapping_abs().cmp(&flat[a].wrapping_abs()),
                    cum[b].wrapping_abs().cmp(&cum[a].wrapping_abs()),
                )
            };
            p1.then_with(|| names[a].cmp(&names[b]))
                .then(p2)
                .then_with(|| infos[a].go_sprint().cmp(&infos[b].go_sprint()))
        });
    }
}

/// Below this many samples the graph is built on one thread.
const PARALLEL_MIN_SAMPLES: usize = 20_000;

/// The weights of a slice of the samples; `keys[i]` is the (caller << 32 | callee) of `edges[i]`.
struct Partial {
    flat: Vec<i64>,
    cum: Vec<i64>,
    edges: Vec<Edge>,
    keys: Vec<u64>,
}

/// Hashes an edge key (caller id << 32 | callee id) with a multiply-xorshift: the edge table is probed once per
/// frame of every sample, where SipHash cost as much as the rest of the graph walk.
#[derive(Default)]
struct EdgeHasher(u64);

impl Hasher for EdgeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        let h = (self.0 ^ x ^ (x >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 32);
    }
}

/// pprof's `Prune` with the profile's `drop_frames` / `keep_frames`: locations whose frames match lose them, and
/// each sample's stack is cut at the first pruned location after its first user frame, counting from the root.
struct Pruning {
    /// Per location: index of the first line kept.
    first_line: Vec<usize>,
    /// Per location: 0 = untouched, 1 = prune beneath (partially pruned), 2 = prune the whole location.
    state: Vec<u8>,
    active: bool,
}

impl Pruning {
    fn new(p: &Profile, fn_names: &[String]) -> Pruning {
        let pb = p.pb();
        let n = pb.location.len();
        let none = Pruning {
            first_line: vec![0; n],
            state: vec![0; n],
            active: false,
        };
        let Some(frames) = FrameFilter::from_profile(p) else {
            return none;
        };
        let mut cache: HashMap<usize, bool> = HashMap::new();
        let mut prunes = |fi: usize| *cache.entry(fi).or_insert_with(|| frames.drops(&fn_names[fi]));
        let mut out = Pruning { active: true, ..none };
        for (li, loc) in pb.location.iter().enumerate() {
            let hit = (0..loc.line.len())
                .rev()
                .find(|&i| p.function_index(loc.line[i].function_id).is_some_and(&mut prunes));
            match hit {
                None => {}
                Some(i) if i == loc.line.len() - 1 => out.state[li] = 2,
                Some(i) => {
                    out.state[li] = 1;
                    out.first_line[li] = i + 1;
                }
            }
        }
        out
    }

    /// The sample's location ids after pruning (leaf first).
    fn sample_stack<'a>(&self, p: &Profile, ids: &'a [u64]) -> &'a [u64] {
        if !self.active {
            return ids;
        }
        let mut found_user = false;
        for i in (0..ids.len()).rev() {
            let st = p.location_index(ids[i]).map_or(0, |li| self.state[li]);
            if st == 0 {
                found_user = true;
                continue;
            }
            if !found_user {
                continue;
            }
            return if st == 2 { &ids[i + 1..] } else { &ids[i..] };
        }
        ids
    }
}

fn intern_node(intern: &mut HashMap<NodeInfo, u32>, infos: &mut Vec<NodeInfo>, info: NodeInfo) -> u32 {
    if let Some(&id) = intern.get(&info) {
        return id;
    }
    let id = infos.len() as u32;
    intern.insert(info.clone(), id);
    infos.push(info);
    id
}

fn node_info(
    profile: &Profile,
    f: &crate::profile::pb::Function,
    display: &str,
    ln: &crate::profile::pb::Line,
    address: u64,
    objfile: &str,
    g: Granularity,
) -> NodeInfo {
    let (keep_name, keep_file, keep_line, keep_column) = match g {
        Granularity::Functions => (true, false, false, false),
        Granularity::FileFunctions => (true, true, false, false),
        Granularity::Files => (false, true, false, false),
        Granularity::Lines => (true, true, true, false),
        Granularity::Addresses => (true, true, true, true),
    };
    let name = if keep_name { display } else { "" };
    let file = if keep_file { profile.str(f.filename) } else { "" };
    let mut info = NodeInfo {
        name: name.to_string(),
        address,
        file: if file.is_empty() {
            String::new()
        } else {
            clean_path(trim_path(file))
        },
        line: if keep_line { ln.line } else { 0 },
        column: if keep_column { ln.column } else { 0 },
        ..Default::default()
    };
    if info.name.is_empty() {
        info.objfile = objfile.to_string();
        info.start_line = f.start_line;
    }
    info
}

/// An edge between two nodes: caller → callee (only the callee is needed for the inline markers).
#[derive(Debug, Clone)]
pub struct Edge {
    dst: u32,
    weight: i64,
    inline: bool,
}

/// Node weights (indexed by node id) and the ids of the nodes present, in report order once sorted.
pub struct Graph {
    /// Node ids present in the graph.
    pub nodes: Vec<u32>,
    /// Flat weight per node id.
    pub flat: Vec<i64>,
    /// Cumulative weight per node id.
    pub cum: Vec<i64>,
    edges: Vec<Edge>,
    removed: Vec<bool>,
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
