//! The `top` report: flat and cumulative weight per node, with `go tool pprof -top`'s trimming, sorting,
//! unit choice and header labels.

use serde::Serialize;

use super::graph::{Filters, Granularity, Graph, Prepared};
use super::labels::{LabelOptions, profile_labels};
use super::measure::{percentage, scale, scaled_label};
use crate::error::{Result, Warning};
use crate::profile::Profile;

/// Options of the `top` report; the defaults are pprof's.
#[derive(Debug, Clone)]
pub struct TopOptions {
    /// Sample type by name or index (`None`: the profile's default).
    pub sample_index: Option<String>,
    /// Row granularity.
    pub granularity: Granularity,
    /// Sort by cum instead of flat.
    pub cum: bool,
    /// Show at most this many rows (`None`: all).
    pub node_count: Option<usize>,
    /// Drop nodes whose |cum| is under this fraction of the total (pprof's `-nodefraction`, default 0.005).
    pub node_fraction: f64,
    /// Drop edges under this fraction (pprof's `-edgefraction`, default 0.001); only affects inline labels.
    pub edge_fraction: f64,
    /// focus/ignore/hide/show.
    pub filters: Filters,
    /// Output unit: `minimum` (pprof's default), `auto`, or a unit name such as `MB`.
    pub unit: String,
    /// Leave out nodes whose flat weight is negative, or zero with a negative cum (pprof's `-drop_negative`).
    pub drop_negative: bool,
}

impl Default for TopOptions {
    fn default() -> Self {
        TopOptions {
            sample_index: None,
            granularity: Granularity::Functions,
            cum: false,
            node_count: None,
            node_fraction: 0.005,
            edge_fraction: 0.001,
            filters: Filters::default(),
            unit: "minimum".into(),
            drop_negative: false,
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct TopRow {
    /// The printable node name (function, file:line, address … depending on granularity).
    pub name: String,
    /// Weight of samples whose leaf is this node.
    pub flat: i64,
    /// Weight of samples that contain this node.
    pub cum: i64,
    /// Running sum of `flat` down to this row.
    pub sum: i64,
    /// `(inline)` / `(partial-inline)` / empty.
    pub inline: &'static str,
}

/// The computed `top` report: rows plus everything the header lines say.
#[derive(Debug, Clone, Serialize)]
pub struct TopReport {
    /// Header labels (File, Build ID, comments, Type, Doc, Time, Duration).
    pub labels: Vec<String>,
    /// The selected sample type and its unit.
    pub sample_type: String,
    /// Unit of the values (e.g. `bytes`, `count`).
    pub sample_unit: String,
    /// The unit pprof would print values in (e.g. `MB`).
    pub output_unit: String,
    /// Active filters as `key=regexp`.
    pub filters: Vec<String>,
    /// Σ|value| over all samples (before filters), the 100% of every percentage.
    pub total: i64,
    /// Σ flat of the rows shown.
    pub shown: i64,
    /// Nodes dropped by the cum cutoff.
    pub dropped_nodes: usize,
    /// The cutoff printed in the "Dropped" line (report total × node fraction).
    pub dropped_cutoff: i64,
    /// Node count before `node_count` truncation.
    pub nodes_before_limit: usize,
    /// The rows, in report order.
    pub rows: Vec<TopRow>,
    /// Warnings pprof prints to stderr (e.g. "Focus expression matched no samples").
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

impl TopReport {
    /// Formats `v` in the report's unit, as pprof prints it.
    pub fn format_value(&self, v: i64) -> String {
        scaled_label(v, &self.sample_unit, &self.output_unit)
    }
}

/// Computes the `top` report of `profile`.
pub fn top(profile: &Profile, opts: &TopOptions) -> Result<TopReport> {
    let index = profile.sample_index(opts.sample_index.as_deref())?;
    let st = &profile.pb().sample_type[index];
    let sample_type = profile.str(st.r#type).to_string();
    let sample_unit = profile.str(st.unit).to_string();
    let total = super::graph::report_total(profile, index);

    let prepared = Prepared::new(profile, index, &opts.filters, opts.granularity);
    let warnings = prepared.filter_warnings(&opts.filters);

    // Step 1: full graph, cutoffs from its flat total, drop light nodes and rebuild. Dropping nodes changes no
    // kept node's weights, so the rebuilds take them from the full graph and only walk the samples for the edges
    // (into nodes some location inlines: all an `(inline)` label needs).
    let full = prepared.graph(None, false);
    let post = |mut g: Graph| {
        if opts.drop_negative {
            g.nodes.retain(|&n| {
                let (f, c) = (g.flat[n as usize], g.cum[n as usize]);
                !(f < 0 || (f == 0 && c < 0))
            });
        }
        g
    };
    let mut g = post(prepared.graph_restricted(&full, None));
    let graph_total = g.flat_sum();
    let node_cutoff = ((graph_total as f64) * opts.node_fraction) as i64;
    let node_cutoff = node_cutoff.wrapping_abs();
    let edge_cutoff = (((graph_total as f64) * opts.edge_fraction) as i64).wrapping_abs();
    let nnodes = prepared.infos.len();
    let mut kept: Option<Vec<bool>> = None;
    let mut dropped_nodes = 0;
    if node_cutoff > 0 {
        let mut k = vec![false; nnodes];
        let mut count = 0;
        for &n in &g.nodes {
            if g.cum[n as usize].wrapping_abs() >= node_cutoff {
                k[n as usize] = true;
                count += 1;
            }
        }
        if count != g.nodes.len() {
            dropped_nodes = g.nodes.len() - count;
            kept = Some(k);
        }
    }
    // Step 2: sort and limit the node count; the edges are walked once, for the nodes finally shown.
    g = post(prepared.graph_restricted(&full, kept.as_deref()));
    let nodes_before_limit = g.nodes.len();
    prepared.sort_nodes(&mut g, opts.cum);
    if let Some(limit) = opts.node_count.filter(|&n| n > 0 && n < g.nodes.len()) {
        let mut k = vec![false; nnodes];
        for &n in &g.nodes[..limit] {
            k[n as usize] = true;
        }
        g = post(prepared.graph_edges(&full, Some(&k)));
    } else {
        g = post(prepared.graph_edges(&full, kept.as_deref()));
    }
    prepared.sort_nodes(&mut g, opts.cum);
    g.trim_edges(edge_cutoff);
    let inline = g.inline_labels();

    let output_unit = select_output_unit(&opts.unit, &sample_unit, &g, total);
    let mut sum = 0;
    let rows = g
        .nodes
        .iter()
        .map(|&n| {
            let flat = g.flat[n as usize];
            sum = i64::wrapping_add(sum, flat);
            TopRow {
                name: prepared.names[n as usize].clone(),
                flat,
                cum: g.cum[n as usize],
                sum,
                inline: inline.get(&n).copied().unwrap_or(""),
            }
        })
        .collect();
    let mut report = TopReport {
        labels: Vec::new(),
        sample_type,
        sample_unit,
        output_unit,
        filters: opts.filters.legend(),
        total,
        shown: g.flat_sum(),
        dropped_nodes,
        dropped_cutoff: ((total as f64) * opts.node_fraction) as i64,
        nodes_before_limit,
        rows,
        warnings,
    };
    report.labels = profile_labels(
        profile,
        &LabelOptions {
            sample_type: &report.sample_type,
            total_formatted: report.format_value(report.total),
            total,
            sample_unit: &report.sample_unit,
        },
    );
    Ok(report)
}

/// pprof's `minimum` unit rule: the unit of the smallest non-zero row value, unless that is far below the total,
/// in which case the unit that still shows it as at least 0.01.
fn select_output_unit(requested: &str, sample_unit: &str, g: &super::graph::Graph, total: i64) -> String {
    if requested != "minimum" || g.nodes.is_empty() {
        return requested.to_string();
    }
    let mut min = 0i64;
    for &n in &g.nodes {
        let mut v = g.flat[n as usize].wrapping_abs();
        if v == 0 {
            v = g.cum[n as usize].wrapping_abs();
        }
        if v > 0 && (min == 0 || v < min) {
            min = v;
        }
    }
    if min == 0 {
        min = total;
    }
    let (_, min_unit) = scale(min, sample_unit, "minimum");
    let (_, max_unit) = scale(total, sample_unit, "minimum");
    let mut unit = min_unit.clone();
    if min_unit != max_unit && min.saturating_mul(100) < total {
        unit = scale(min.saturating_mul(100), sample_unit, "minimum").1;
    }
    if unit.is_empty() { sample_unit.to_string() } else { unit }
}

/// Renders the report exactly as `go tool pprof -top` prints it.
pub fn render_text(r: &TopReport) -> String {
    let mut out = String::new();
    for l in &r.labels {
        out.push_str(l);
        out.push('\n');
    }
    if !r.filters.is_empty() {
        out.push_str("Active filters:\n");
        for f in &r.filters {
            let f = if f.chars().count() > 80 {
                let cut: String = f.chars().take(80).collect();
                format!("{cut}…")
            } else {
                f.clone()
            };
            out.push_str(&format!("   {f}\n"));
        }
    }
    out.push_str(&format!(
        "Showing nodes accounting for {}, {} of {} total\n",
        r.format_value(r.shown),
        percentage(r.shown, r.total).trim(),
        r.format_value(r.total)
    ));
    if r.total != 0 {
        if r.dropped_nodes > 0 {
            let s = if r.dropped_nodes > 1 { "s" } else { "" };
            out.push_str(&format!(
                "Dropped {} node{s} (cum <= {})\n",
                r.dropped_nodes,
                r.format_value(r.dropped_cutoff.wrapping_abs())
            ));
        }
        if !r.rows.is_empty() && r.rows.len() < r.nodes_before_limit {
            out.push_str(&format!(
                "Showing top {} nodes out of {}\n",
                r.rows.len(),
                r.nodes_before_limit
            ));
        }
    }
    out.push_str(&format!(
        "{:>10} {:>5}% {:>5}% {:>10} {:>5}%\n",
        "flat", "flat", "sum", "cum", "cum"
    ));
    for row in &r.rows {
        let inl = if row.inline.is_empty() {
            String::new()
        } else {
            format!(" {}", row.inline)
        };
        out.push_str(&format!(
            "{:>10} {} {} {:>10} {}  {}{}\n",
            r.format_value(row.flat),
            percentage(row.flat, r.total),
            percentage(row.sum, r.total),
            r.format_value(row.cum),
            percentage(row.cum, r.total),
            row.name,
            inl
        ));
    }
    out
}
