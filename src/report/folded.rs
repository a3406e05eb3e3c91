//! Folded (collapsed) stacks, Brendan Gregg's format read by flamegraph.pl, inferno and speedscope: one line per
//! distinct stack, `root;caller;...;leaf VALUE`, built on the graph steps (pruning, filters, nodes at a
//! granularity). Inline frames are frames of their own, as in pprof's reports.

use std::collections::HashMap;

use serde::Serialize;

use super::graph::{Filters, Granularity, Prepared, report_total};
use super::labels::{LabelOptions, profile_labels};
use super::measure::scaled_label;
use crate::error::{Result, Warning};
use crate::profile::Profile;

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

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct FoldedReport {
    /// Header lines (File, Build ID, comments, Type, Doc, Time, Duration).
    pub labels: Vec<String>,
    /// The selected sample type.
    pub sample_type: String,
    /// Its unit.
    pub sample_unit: String,
    /// pprof's report total (Σ|value| of all samples before filters; a `-diff_base` profile's base total).
    pub total: i64,
    /// Distinct stacks, sorted by their text (the order flame graph tools expect).
    pub stacks: Vec<FoldedStack>,
    /// Some sample value is negative (a difference profile).
    pub has_negative: bool,
    /// Warnings pprof would print (a filter that matched nothing).
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

impl FoldedReport {
    /// `value` in the sample unit, formatted as pprof formats totals.
    pub fn format_value(&self, value: i64) -> String {
        scaled_label(value, &self.sample_unit, "minimum")
    }
}

/// Computes the folded stacks of `profile`.
pub fn folded(profile: &Profile, opts: &FoldedOptions) -> Result<FoldedReport> {
    let index = profile.sample_index(opts.sample_index.as_deref())?;
    let st = &profile.pb().sample_type[index];
    let (sample_type, sample_unit) = (profile.str(st.r#type).to_string(), profile.str(st.unit).to_string());
    let total = report_total(profile, index);
    let prepared = Prepared::new(profile, index, &opts.filters, opts.granularity);
    // Distinct stacks by their node ids (root first): values summed, then each named once.
    let mut ids: HashMap<Vec<u32>, usize, rustc_hash::FxBuildHasher> = HashMap::default();
    let mut sums: Vec<(i64, i64)> = Vec::new();
    let mut keys: Vec<Vec<u32>> = Vec::new();
    let mut path: Vec<u32> = Vec::with_capacity(64);
    let mut has_negative = false;
    for i in 0..prepared.sample_count() {
        path.clear();
        for &loc in prepared.sample_locations(i).iter().rev() {
            path.extend(prepared.location_nodes(loc).iter().rev());
        }
        if path.is_empty() {
            continue;
        }
        let v = prepared.value(i);
        has_negative |= v < 0;
        let slot = match ids.get(path.as_slice()) {
            Some(&s) => s,
            None => {
                ids.insert(path.clone(), sums.len());
                keys.push(path.clone());
                sums.push((0, 0));
                sums.len() - 1
            }
        };
        let s = &mut sums[slot];
        s.0 = s.0.wrapping_add(v);
        s.1 = s.1.wrapping_add(v.wrapping_abs());
    }
    drop(ids);
    let names = &prepared.names;
    let mut stacks: Vec<FoldedStack> = keys
        .iter()
        .zip(&sums)
        .map(|(k, &(value, abs))| {
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
    {
        use rayon::slice::ParallelSliceMut;
        stacks.par_sort_unstable_by(|a, b| a.stack.cmp(&b.stack));
    }
    let labels = profile_labels(
        profile,
        &LabelOptions {
            sample_type: &sample_type,
            total_formatted: scaled_label(total, &sample_unit, "minimum"),
            total,
            sample_unit: &sample_unit,
        },
    );
    Ok(FoldedReport {
        labels,
        sample_type,
        sample_unit,
        total,
        stacks,
        has_negative,
        warnings: prepared.filter_warnings(&opts.filters),
    })
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
