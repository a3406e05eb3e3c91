//! Folded (collapsed) stacks, Brendan Gregg's format read by flamegraph.pl, inferno and speedscope: one line per
//! distinct stack, `root;caller;...;leaf VALUE`, built on the graph steps (pruning, filters, nodes at a
//! granularity). Inline frames are frames of their own, as in pprof's reports.
//!
//! The stacks are first gathered as a [`StackSet`]: frame names numbered once, in sorted order, and each distinct
//! stack as a list of those numbers with its sums. The text is made from it ([`StackSet::into_folded`]), and so is
//! the flame graph ([`super::flame`]), which never needs the whole text.

use std::hash::Hasher;

use serde::Serialize;

use super::graph::{Filters, Granularity, Prepared, report_total};
use super::labels::{LabelOptions, profile_labels};
use super::measure::scaled_label;
use crate::error::{Result, Warning};
use crate::profile::Profile;
use crate::profile::ops::table::{HashIndex, finish, hasher};

/// Options of the folded-stacks report.
#[derive(Debug, Clone, Default)]
pub struct FoldedOptions {
    /// Sample type by name or index (`None`: the profile's default).
    pub sample_index: Option<String>,
    /// Frame granularity.
    pub granularity: Granularity,
    /// Sample and label filters.
    pub filters: Filters,
}

/// One distinct stack.
#[derive(Debug, Clone, Serialize)]
pub struct FoldedStack {
    /// The frames joined root first with `;`.
    pub stack: String,
    /// The sum of the samples' values.
    pub value: i64,
    /// The sum of their absolute values (a difference profile's stack can hold growth and shrink that cancel).
    pub abs: i64,
}

/// The header of a set of stacks: what was selected and what it sums to.
#[derive(Debug, Clone, Serialize)]
pub struct StacksHeader {
    /// Header lines (File, Build ID, comments, Type, Doc, Time, Duration).
    pub labels: Vec<String>,
    /// The selected sample type.
    pub sample_type: String,
    /// Its unit.
    pub sample_unit: String,
    /// pprof's report total (Σ|value| of all samples before filters; a `-diff_base` profile's base total).
    pub total: i64,
    /// Some sample value is negative (a difference profile).
    pub has_negative: bool,
    /// Warnings pprof would print (a filter that matched nothing).
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

impl StacksHeader {
    /// `value` in the sample unit, formatted as pprof formats totals.
    pub fn format_value(&self, value: i64) -> String {
        scaled_label(value, &self.sample_unit, "minimum")
    }
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct FoldedReport {
    /// What the stacks are.
    #[serde(flatten)]
    pub header: StacksHeader,
    /// Distinct stacks, sorted by their text (the order flame graph tools expect).
    pub stacks: Vec<FoldedStack>,
}

/// Distinct stacks with their frame names numbered: see the module docs.
#[derive(Debug, Clone)]
pub struct StackSet {
    /// What the stacks are.
    pub header: StacksHeader,
    /// The frame names, sorted; a frame is its position here.
    pub names: Vec<String>,
    /// The frames of the stacks, root first; stack `i` is `frames[spans[i].0..spans[i].1]`.
    frames: Vec<u32>,
    spans: Vec<(usize, usize)>,
    /// Per stack: (Σ value, Σ |value|).
    sums: Vec<(i64, i64)>,
    /// The stacks are in order (their frame numbers compared in turn).
    sorted: bool,
}

/// The frames of every location as numbers of their names, outermost first, back to back.
struct LocationRanks {
    ranks: Vec<u32>,
    ends: Vec<u32>,
}

impl LocationRanks {
    fn new(prepared: &Prepared, node_rank: &[u32]) -> LocationRanks {
        let n = prepared.location_count();
        let mut r = LocationRanks {
            ranks: Vec::with_capacity(n + n / 4),
            ends: Vec::with_capacity(n),
        };
        for loc in 0..n {
            let nodes = prepared.location_nodes(loc as u32).iter().rev();
            r.ranks.extend(nodes.map(|&n| node_rank[n as usize]));
            r.ends.push(r.ranks.len() as u32);
        }
        r
    }

    fn of(&self, loc: u32) -> &[u32] {
        let loc = loc as usize;
        let begin = if loc == 0 { 0 } else { self.ends[loc - 1] as usize };
        &self.ranks[begin..self.ends[loc] as usize]
    }
}

/// Distinct stacks being gathered: frames back to back, a hash table over them, and the sums.
#[derive(Default)]
struct Gathered {
    frames: Vec<u32>,
    ends: Vec<usize>,
    sums: Vec<(i64, i64)>,
    table: HashIndex,
    has_negative: bool,
}

impl Gathered {
    /// The stacks of kept samples `range` of `prepared`, frames numbered as in `ranks`, root first, with `room`
    /// frames reserved.
    fn samples(prepared: &Prepared, ranks: &LocationRanks, range: std::ops::Range<usize>, room: usize) -> Gathered {
        let mut g = Gathered {
            frames: Vec::with_capacity(room),
            table: HashIndex::with_capacity(1024),
            ..Gathered::default()
        };
        for i in range {
            // The stack is written at the end of `frames`; if an equal one exists, it is taken back off.
            let start = g.frames.len();
            for &loc in prepared.sample_locations(i).iter().rev() {
                g.frames.extend_from_slice(ranks.of(loc));
            }
            if g.frames.len() == start {
                continue;
            }
            let v = prepared.value(i);
            g.has_negative |= v < 0;
            g.settle(start, (v, v.wrapping_abs()));
        }
        g
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Where stack `i` lies in `frames`.
    fn span(&self, i: usize) -> (usize, usize) {
        (if i == 0 { 0 } else { self.ends[i - 1] }, self.ends[i])
    }

    fn path(&self, i: usize) -> &[u32] {
        let (start, end) = self.span(i);
        &self.frames[start..end]
    }

    /// The stack written at `frames[start..]`: summed into an equal one (and taken back off), or kept as new.
    fn settle(&mut self, start: usize, (v, a): (i64, i64)) {
        // Two frames to a word: half the steps of hashing them one by one.
        let mut h = hasher();
        let words = self.frames[start..].chunks_exact(2);
        if let [last] = words.remainder() {
            h.write_u32(*last);
        }
        for w in words {
            h.write_u64(u64::from(w[0]) | u64::from(w[1]) << 32);
        }
        let h = finish(h);
        let (frames, ends) = (&self.frames, &self.ends);
        let path = &frames[start..];
        let found = self.table.find(h, |id| {
            let k = id as usize;
            &frames[if k == 0 { 0 } else { ends[k - 1] }..ends[k]] == path
        });
        let slot = match found {
            Some(id) => {
                self.frames.truncate(start);
                id as usize
            }
            None => {
                self.ends.push(self.frames.len());
                self.sums.push((0, 0));
                self.table.push(h) as usize
            }
        };
        let s = &mut self.sums[slot];
        s.0 = s.0.wrapping_add(v);
        s.1 = s.1.wrapping_add(a);
    }
}

/// The bytes of `path` as folded text (`name;name;...`).
fn text_of<'a>(names: &'a [String], path: &'a [u32]) -> impl Iterator<Item = u8> + 'a {
    path.iter()
        .enumerate()
        .flat_map(move |(j, &n)| (if j > 0 { ";" } else { "" }).bytes().chain(names[n as usize].bytes()))
}

/// The distinct names of `node_names` in order, and the position there of each node's name.
fn rank_names(mut node_names: Vec<String>) -> (Vec<String>, Vec<u32>) {
    use rayon::prelude::*;
    let mut by_name: Vec<u32> = (0..node_names.len() as u32).collect();
    by_name.par_sort_unstable_by(|&a, &b| node_names[a as usize].cmp(&node_names[b as usize]));
    let mut rank = vec![0u32; node_names.len()];
    let mut names: Vec<String> = Vec::new();
    for (k, &n) in by_name.iter().enumerate() {
        let n = n as usize;
        if k == 0 || node_names[n] != *names.last().map_or("", String::as_str) {
            names.push(std::mem::take(&mut node_names[n]));
        }
        rank[n] = (names.len() - 1) as u32;
    }
    (names, rank)
}

/// The distinct stacks of `profile`, their frames numbered by name.
pub fn stacks(profile: &Profile, opts: &FoldedOptions) -> Result<StackSet> {
    let index = profile.sample_index(opts.sample_index.as_deref())?;
    let st = &profile.pb().sample_type[index];
    let (sample_type, sample_unit) = (profile.str(st.r#type).to_string(), profile.str(st.unit).to_string());
    let total = report_total(profile, index);
    let mut prepared = Prepared::new(profile, index, &opts.filters, opts.granularity);
    // Frame names numbered in sorted order (two nodes that print alike are one frame, as in any folded text).
    let (names, node_rank) = rank_names(std::mem::take(&mut prepared.names));
    let mut set = StackSet {
        header: StacksHeader {
            labels: Vec::new(),
            sample_type,
            sample_unit,
            total,
            has_negative: false,
            warnings: prepared.filter_warnings(&opts.filters),
        },
        names,
        frames: Vec::new(),
        spans: Vec::new(),
        sums: Vec::new(),
        sorted: false,
    };
    // Large profiles are gathered in two halves on the rayon pool, each sorted there; the two sorted halves are
    // then merged, equal stacks summed.
    let ranks = LocationRanks::new(&prepared, &node_rank);
    let n = prepared.sample_count();
    // Room for every frame (at the locations' mean number of frames): a reservation of address space, touched only
    // as far as distinct stacks fill it. The first half has room for the second's frames, put after its own.
    let room = |range: std::ops::Range<usize>| {
        let locations: usize = range.map(|i| prepared.sample_locations(i).len()).sum();
        let per_location = ranks.ranks.len().div_ceil(ranks.ends.len().max(1));
        locations.saturating_mul(per_location).min(1 << 28)
    };
    let gather = |range: std::ops::Range<usize>, room: usize| {
        let g = Gathered::samples(&prepared, &ranks, range, room);
        let mut order: Vec<usize> = (0..g.len()).collect();
        sort_paths(&mut order, 0, &|i| g.path(i));
        (g, order)
    };
    let ((a, oa), (b, ob)) = if n >= 20_000 {
        let (second, all) = (room(n / 2..n), room(0..n));
        rayon::join(|| gather(0..n / 2, all), || gather(n / 2..n, second))
    } else {
        (gather(0..n, room(0..n)), (Gathered::default(), Vec::new()))
    };
    set.header.has_negative = a.has_negative || b.has_negative;
    set.merge_sorted((a, &oa), (b, &ob));
    set.header.labels = profile_labels(
        profile,
        &LabelOptions {
            sample_type: &set.header.sample_type,
            total_formatted: scaled_label(total, &set.header.sample_unit, "minimum"),
            total,
            sample_unit: &set.header.sample_unit,
        },
    );
    Ok(set)
}

/// Computes the folded stacks of `profile`: every distinct stack, as text.
pub fn folded(profile: &Profile, opts: &FoldedOptions) -> Result<FoldedReport> {
    Ok(stacks(profile, opts)?.into_folded())
}

impl StackSet {
    /// A set from its parts: stacks as lists of positions in `names`, with their sums (Σ value, Σ |value|).
    pub fn from_paths(header: StacksHeader, names: Vec<String>, paths: &[Vec<u32>], sums: Vec<(i64, i64)>) -> StackSet {
        let mut set = StackSet {
            header,
            names,
            frames: Vec::new(),
            spans: Vec::new(),
            sums,
            sorted: false,
        };
        for p in paths {
            let start = set.frames.len();
            set.frames.extend_from_slice(p);
            set.spans.push((start, set.frames.len()));
        }
        set
    }

    /// Fills the (empty) set with the stacks of `a` and `b`, each taken in its order, merged: in order, equal stacks
    /// summed. The frames of `b` go after those of `a`, and stay where they are.
    fn merge_sorted(&mut self, (a, oa): (Gathered, &[usize]), (b, ob): (Gathered, &[usize])) {
        let offset = a.frames.len();
        let span = |g: &Gathered, i: usize, base: usize| {
            let (start, end) = g.span(i);
            (base + start, base + end)
        };
        self.spans = Vec::with_capacity(oa.len() + ob.len());
        self.sums = Vec::with_capacity(oa.len() + ob.len());
        let (mut i, mut j) = (0, 0);
        loop {
            let next = match (oa.get(i), ob.get(j)) {
                (None, None) => break,
                (Some(&x), None) => {
                    i += 1;
                    (span(&a, x, 0), a.sums[x])
                }
                (None, Some(&y)) => {
                    j += 1;
                    (span(&b, y, offset), b.sums[y])
                }
                (Some(&x), Some(&y)) => match a.path(x).cmp(b.path(y)) {
                    std::cmp::Ordering::Less => {
                        i += 1;
                        (span(&a, x, 0), a.sums[x])
                    }
                    std::cmp::Ordering::Greater => {
                        j += 1;
                        (span(&b, y, offset), b.sums[y])
                    }
                    std::cmp::Ordering::Equal => {
                        i += 1;
                        j += 1;
                        let (s, t) = (a.sums[x], b.sums[y]);
                        (span(&a, x, 0), (s.0.wrapping_add(t.0), s.1.wrapping_add(t.1)))
                    }
                },
            };
            self.spans.push(next.0);
            self.sums.push(next.1);
        }
        let mut frames = a.frames;
        frames.extend_from_slice(&b.frames);
        self.frames = frames;
        self.sorted = true;
    }

    /// The number of stacks.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// There is no stack.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Stack `i`, root first, as positions in [`StackSet::names`].
    pub fn path(&self, i: usize) -> &[u32] {
        let (start, end) = self.spans[i];
        &self.frames[start..end]
    }

    /// The sums of stack `i`: (Σ value, Σ |value|).
    pub fn sums(&self, i: usize) -> (i64, i64) {
        self.sums[i]
    }

    /// The stacks in order (their frame numbers compared in turn, which is the order of their names).
    pub fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        if !self.sorted {
            sort_paths(&mut order, 0, &|i| self.path(i));
        }
        order
    }

    /// The positions of the stacks in the order of their text. Equal leading frames give equal text, so only the
    /// rest is compared, byte by byte as it would be written (`name;name;...`), never the whole texts.
    fn text_order(&self) -> Vec<usize> {
        use rayon::prelude::*;
        let names = &self.names;
        let mut sorted: Vec<usize> = (0..self.len()).collect();
        sorted.par_sort_unstable_by(|&a, &b| {
            let (pa, pb) = (self.path(a), self.path(b));
            let k = pa.iter().zip(pb).take_while(|(x, y)| x == y).count();
            if k == pa.len() || k == pb.len() {
                // One is a prefix of the other, and so is its text.
                return pa.len().cmp(&pb.len());
            }
            // Both go on past frame k: their texts differ only from there (after the same `...;`).
            text_of(names, &pa[k..]).cmp(text_of(names, &pb[k..]))
        });
        sorted
    }

    /// The folded text itself ([`render_text`] of [`StackSet::into_folded`]), written straight from the stacks into
    /// one buffer.
    pub fn folded_text(&self) -> String {
        use std::fmt::Write;
        let order = self.text_order();
        let cap: usize = order
            .iter()
            .map(|&i| {
                self.path(i)
                    .iter()
                    .map(|&n| self.names[n as usize].len() + 1)
                    .sum::<usize>()
                    + 21
            })
            .sum();
        let mut out = String::with_capacity(cap);
        for i in order {
            let value = self.sums[i].0;
            if value == 0 {
                continue;
            }
            for (j, &n) in self.path(i).iter().enumerate() {
                if j > 0 {
                    out.push(';');
                }
                out.push_str(&self.names[n as usize]);
            }
            let _ = writeln!(out, " {value}");
        }
        out
    }

    /// The stacks as text, sorted.
    pub fn into_folded(self) -> FoldedReport {
        use rayon::prelude::*;
        let names = &self.names;
        let stacks: Vec<FoldedStack> = self
            .text_order()
            .into_par_iter()
            .map(|i| {
                let (k, (value, abs)) = (self.path(i), self.sums[i]);
                let len = k.iter().map(|&n| names[n as usize].len() + 1).sum::<usize>();
                let mut stack = String::with_capacity(len);
                for (j, &n) in k.iter().enumerate() {
                    if j > 0 {
                        stack.push(';');
                    }
                    stack.push_str(&names[n as usize]);
                }
                FoldedStack { stack, value, abs }
            })
            .collect();
        FoldedReport {
            header: self.header,
            stacks,
        }
    }

    /// Whether a flame graph of these stacks is differential: asked for, or some value is negative.
    pub fn is_differential(&self, asked: bool) -> bool {
        asked || self.header.has_negative
    }

    /// The width of stack `i` in a flame graph: Σ value, or Σ |value| when differential.
    pub fn width(&self, i: usize, differential: bool) -> u64 {
        let (v, a) = self.sums[i];
        if differential {
            a.unsigned_abs()
        } else {
            v.max(0) as u64
        }
    }

    /// The stacks a flame graph can show: each cut after its first box narrower than `min_percent` of the
    /// graph's width (tested as inferno tests it: [`too_narrow_to_draw`]), and the cut stacks that become equal
    /// summed. A box that narrow is not drawn, nor is anything above it; every box that is drawn keeps its width and
    /// its place, so the picture is the same, from fewer and shorter stacks. The result is in order.
    pub fn cut(self, min_percent: f64, differential: bool) -> StackSet {
        let diff = self.is_differential(differential);
        // Boxes are prefixes shared by stacks: with the stacks in order, a box is a run of them and its width their
        // sum.
        let order = self.order();
        // Sums saturate: values that large cannot be drawn (flame_svg says so), but cutting them must not fail.
        let total: u64 = (0..self.len()).fold(0u64, |t, i| t.saturating_add(self.width(i, diff)));
        let threshold = too_narrow_to_draw(min_percent, total);
        // The narrow boxes not inside another narrow box, as (frames kept above, first position in `order`, end):
        // boxes close innermost first, so a narrow box takes the place of those closed inside it.
        let mut narrow: Vec<(usize, usize, usize)> = Vec::new();
        let paths = order.iter().map(|&i| (self.path(i), self.width(i, diff), 0));
        walk_boxes(paths, |b| {
            if (b.width as f64) < threshold {
                while narrow.last().is_some_and(|n| n.1 >= b.first) {
                    narrow.pop();
                }
                narrow.push((b.depth - 1, b.first, b.end));
            }
        });
        // cut[k]: the depth of the shallowest box of stack order[k] narrower than the threshold.
        let mut cut: Vec<usize> = vec![usize::MAX; order.len()];
        for (depth, first, end) in narrow {
            cut[first..end].fill(depth);
        }
        // The cut stacks keep their narrow frame (its box stays where it was, too narrow to draw). Stacks cut
        // alike are next to each other in order (they share every box down to the narrow one): summed.
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(order.len());
        let mut sums: Vec<(i64, i64)> = Vec::with_capacity(order.len());
        for (k, &i) in order.iter().enumerate() {
            let (start, end) = self.spans[i];
            let key = (start, end.min(start.saturating_add(cut[k].saturating_add(1))));
            let (v, a) = self.sums[i];
            if let Some(&last) = spans.last()
                && self.frames[last.0..last.1] == self.frames[key.0..key.1]
            {
                let s = sums.last_mut().expect("a stack was added");
                s.0 = s.0.wrapping_add(v);
                s.1 = s.1.wrapping_add(a);
                continue;
            }
            spans.push(key);
            sums.push((v, a));
        }
        let mut out = StackSet {
            header: self.header,
            names: Vec::new(),
            frames: self.frames,
            spans,
            sums,
            sorted: true,
        };
        out.names = self.names;
        out
    }
}

/// Sorts `idx` by `path(i)` (frames compared in turn, a path before its extensions), all of whose paths agree on
/// their first `depth` frames. A multikey quicksort (Bentley and Sedgewick) taking four frames as one key: it
/// partitions three ways on the frames from `depth` and goes four frames deeper only among the equal ones, so the
/// long prefixes that stacks share are read once per partition instead of in every comparison.
fn sort_paths<'a>(idx: &mut [usize], mut depth: usize, path: &(impl Fn(usize) -> &'a [u32] + Sync)) {
    // Frames depth..depth+4 as one number that orders as they do: each frame + 1, 0 where the path has ended.
    let key = |i: usize, depth: usize| {
        let p = path(i);
        (0..4).fold(0u128, |k, j| {
            (k << 32) | p.get(depth + j).map_or(0, |&f| u128::from(f) + 1)
        })
    };
    let mut idx = idx;
    loop {
        if idx.len() <= 12 {
            let rest = |i: usize| {
                let p = path(i);
                &p[depth.min(p.len())..]
            };
            idx.sort_unstable_by(|&a, &b| rest(a).cmp(rest(b)));
            return;
        }
        let pivot = key(idx[idx.len() / 2], depth);
        // Three-way partition: [< pivot | == pivot | > pivot].
        let (mut lt, mut i, mut gt) = (0, 0, idx.len());
        while i < gt {
            let k = key(idx[i], depth);
            if k < pivot {
                idx.swap(lt, i);
                lt += 1;
                i += 1;
            } else if k > pivot {
                gt -= 1;
                idx.swap(i, gt);
            } else {
                i += 1;
            }
        }
        let (less, rest) = idx.split_at_mut(lt);
        let (equal, greater) = rest.split_at_mut(gt - lt);
        if less.len() + greater.len() > 4096 {
            rayon::join(|| sort_paths(less, depth, path), || sort_paths(greater, depth, path));
        } else {
            sort_paths(less, depth, path);
            sort_paths(greater, depth, path);
        }
        // Equal keys that end within these four frames are equal paths: done.
        if pivot as u32 == 0 {
            return;
        }
        idx = equal;
        depth += 4;
    }
}

/// A box of the flame graph that stacks in order draw: the frame at `depth` (1 for a root frame) that lines
/// `first..end` have in common, from time `start`, `width` wide; `net` the sum of their values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub depth: usize,
    pub first: usize,
    pub end: usize,
    pub start: u64,
    pub width: u64,
    pub net: i64,
}

/// Walks the boxes that `lines` (paths in order, each with a width and a value) draw, merged as inferno merges
/// them: a frame the lines have in common at one depth, one line after another, is one box. Calls `f` for each box
/// as it closes (innermost first, in line order); the root is left out. Returns the total width and value.
pub(crate) fn walk_boxes<'a>(
    lines: impl IntoIterator<Item = (&'a [u32], u64, i64)>,
    mut f: impl FnMut(Span),
) -> (u64, i64) {
    // Open boxes: (frame, first line, width and value before it).
    fn close(open: &mut Vec<(u32, usize, u64, i64)>, keep: usize, at: (usize, u64, i64), f: &mut impl FnMut(Span)) {
        let (end, time, net) = at;
        while open.len() > keep {
            let depth = open.len();
            let Some((_, first, start, before)) = open.pop() else {
                break;
            };
            f(Span {
                depth,
                first,
                end,
                start,
                width: time - start,
                net: net.wrapping_sub(before),
            });
        }
    }
    let mut open: Vec<(u32, usize, u64, i64)> = Vec::new();
    let (mut k, mut time, mut net) = (0usize, 0u64, 0i64);
    for (p, width, value) in lines {
        let shared = open.iter().zip(p).take_while(|(o, n)| o.0 == **n).count();
        close(&mut open, shared, (k, time, net), &mut f);
        open.extend(p[shared..].iter().map(|&n| (n, k, time, net)));
        // Sums saturate: values too large to draw are refused by flame_svg, but walking them must not fail.
        time = time.saturating_add(width);
        net = net.wrapping_add(value);
        k += 1;
    }
    close(&mut open, 0, (k, time, net), &mut f);
    (time, net)
}

/// The width under which inferno leaves a box out of a flame graph whose lines sum to `total`, when boxes under
/// `min_percent` of the graph are left out: a box is left out when `(width as f64) < too_narrow_to_draw(..)`. The
/// same floating-point operations as inferno's `from_lines`, so the same boxes.
pub fn too_narrow_to_draw(min_percent: f64, total: u64) -> f64 {
    min_percent / (100.0 / total as f64)
}

/// Renders the stacks as text, one `stack value` line per stack whose values do not sum to zero.
pub fn render_text(r: &FoldedReport) -> String {
    let mut out = String::with_capacity(r.stacks.iter().map(|s| s.stack.len() + 12).sum());
    for s in r.stacks.iter().filter(|s| s.value != 0) {
        out.push_str(&s.stack);
        out.push(' ');
        out.push_str(&s.value.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths like stacks: long shared prefixes, some the prefix of another, every length from 0 to 40.
    fn paths(n: usize) -> Vec<Vec<u32>> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m) as u32
        };
        let mut out: Vec<Vec<u32>> = Vec::with_capacity(n);
        for _ in 0..n {
            let mut p: Vec<u32> = match out.len() {
                0 => Vec::new(),
                len => {
                    let base = &out[next(len as u64) as usize];
                    base[..next(base.len() as u64 + 1) as usize].to_vec()
                }
            };
            let extra = next(6) as usize;
            p.extend((0..extra).map(|_| next(5) + if next(50) == 0 { u32::MAX - 5 } else { 0 }));
            p.truncate(40);
            out.push(p);
        }
        out
    }

    #[test]
    fn multikey_sort_orders_paths_as_a_comparison_sort() {
        for n in [0, 1, 7, 13, 300, 20_000] {
            let ps = paths(n);
            let mut got: Vec<usize> = (0..n).collect();
            sort_paths(&mut got, 0, &|i| ps[i].as_slice());
            let mut want: Vec<usize> = (0..n).collect();
            want.sort_by(|&a, &b| ps[a].cmp(&ps[b]));
            // Equal paths may come in either order: compare the paths.
            let (g, w): (Vec<_>, Vec<_>) = (
                got.iter().map(|&i| &ps[i]).collect(),
                want.iter().map(|&i| &ps[i]).collect(),
            );
            assert_eq!(g, w, "{n} paths");
            got.sort_unstable();
            assert!(got.iter().copied().eq(0..n), "{n}: not a permutation");
        }
    }

    #[test]
    fn names_are_ranked_in_order_and_alike_names_share_a_rank() {
        let (names, rank) = rank_names(vec!["b".into(), "a".into(), "c".into(), "a".into(), String::new()]);
        assert_eq!(names, vec!["", "a", "b", "c"]);
        assert_eq!(rank, vec![2, 1, 3, 1, 0]);
    }
}
