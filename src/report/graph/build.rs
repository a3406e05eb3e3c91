//! Building a graph from the prepared samples: flat and cum weights per node, and the edges between them (the
//! weight part of pprof's `newGraph`), walked in parallel for large profiles.

use std::collections::HashMap;

use super::{Edge, Graph, Prepared};

/// The hasher of the edge table, probed once per frame of every sample (SipHash cost as much as the rest of the
/// graph walk).
type EdgeHash = rustc_hash::FxBuildHasher;

impl Prepared {
    /// Builds the graph over the nodes in `kept` (all nodes when `None`); edges are computed when asked, and only
    /// those into a node that some location inlines (the only edges an `(inline)` label can depend on).
    /// Large profiles are walked in parallel, a slice of the samples per thread, and the parts summed.
    pub fn graph(&self, kept: Option<&[bool]>, with_edges: bool) -> Graph {
        self.graph_over(kept, with_edges, None)
    }

    /// [`Prepared::graph`] with edges, taking the weights from `full`, a graph of the same samples over all nodes
    /// (no `kept`): dropping nodes changes no kept node's weights (cum counts the samples through a node, and flat
    /// is only given to a kept leaf, whose flat it already was), only which caller an edge starts from. So only
    /// the edges are walked again.
    pub fn graph_edges(&self, full: &Graph, kept: Option<&[bool]>) -> Graph {
        self.graph_over(kept, true, Some(full))
    }

    /// The graph of `full`'s weights over the nodes in `kept`, without edges and without walking the samples.
    pub fn graph_restricted(&self, full: &Graph, kept: Option<&[bool]>) -> Graph {
        self.graph_over(kept, false, Some(full))
    }

    fn graph_over(&self, kept: Option<&[bool]>, with_edges: bool, weights: Option<&Graph>) -> Graph {
        let n = self.infos.len();
        let nsamples = if weights.is_some() && !with_edges {
            0
        } else {
            self.values.len()
        };
        let parts = if nsamples >= PARALLEL_MIN_SAMPLES {
            rayon::current_num_threads().clamp(1, 8)
        } else {
            1
        };
        let mut partials: Vec<Partial> = if parts == 1 {
            vec![self.accumulate(0..nsamples, kept, with_edges, weights.is_none())]
        } else {
            use rayon::prelude::*;
            (0..parts)
                .into_par_iter()
                .map(|i| {
                    let range = nsamples * i / parts..nsamples * (i + 1) / parts;
                    self.accumulate(range, kept, with_edges, weights.is_none())
                })
                .collect()
        };
        let mut total = partials.remove(0);
        if !partials.is_empty() {
            let mut ids: HashMap<u64, usize, EdgeHash> = total.keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
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
        let Partial {
            mut flat,
            mut cum,
            edges,
            ..
        } = total;
        if let Some(full) = weights {
            // The full graph's weights, zero for the nodes dropped.
            let masked = |w: &[_]| -> Vec<_> {
                w.iter()
                    .enumerate()
                    .map(|(i, &v)| if kept.is_none_or(|k| k[i]) { v } else { 0 })
                    .collect()
            };
            flat = masked(&full.flat);
            cum = masked(&full.cum);
        }
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
    fn accumulate(
        &self,
        range: std::ops::Range<usize>,
        kept: Option<&[bool]>,
        with_edges: bool,
        weights: bool,
    ) -> Partial {
        let n = self.infos.len();
        let mut flat = vec![0i64; n];
        let mut cum = vec![0i64; n];
        let mut seen = vec![u32::MAX; n];
        let mut edges: Vec<Edge> = Vec::new();
        let mut keys: Vec<u64> = Vec::new();
        let mut edge_ids: HashMap<u64, usize, EdgeHash> = HashMap::default();
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
                    if weights && seen[node as usize] != stamp {
                        seen[node as usize] = stamp;
                        cum[node as usize] = cum[node as usize].wrapping_add(w);
                    }
                    if with_edges
                        && self.inlinable[node as usize]
                        && let Some(p) = parent.filter(|p| *p != node)
                    {
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
            if let (Some(p), false, true) = (parent, residual, weights) {
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
