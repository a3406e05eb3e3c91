//! The `traces` report: every sample with its labels, value and stack, as `go tool pprof -traces` prints it
//! (pprof's `printTraces`), built on the graph steps (pruning, filters, nodes at a granularity).

use serde::Serialize;

use super::graph::tags::num_label_units;
use super::graph::{Filters, Granularity, Prepared, report_total};
use super::labels::{LabelOptions, profile_labels};
use super::measure::scaled_label;
use crate::error::{Result, Warning};
use crate::profile::Profile;

/// Options of the `traces` report.
#[derive(Debug, Clone, Default)]
pub struct TracesOptions {
    /// Sample type by name or index (`None`: the profile's default).
    pub sample_index: Option<String>,
    /// Frame granularity (`lines` adds `file:line` to each frame).
    pub granularity: Granularity,
    /// Sample and label filters.
    pub filters: Filters,
}

/// One frame of a trace.
#[derive(Debug, Clone, Serialize)]
pub struct TraceFrame {
    /// The printable name at the report's granularity.
    pub name: String,
    /// Inlined into the frame below it (not the last frame of its location).
    pub inline: bool,
}

/// One sample.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    /// Label lines as pprof prints them (`%10s:  values`), string labels then numeric ones, each group sorted.
    pub labels: Vec<String>,
    /// The selected value.
    pub value: i64,
    /// The value formatted as pprof formats it (its own best unit).
    pub value_text: String,
    /// Frames, leaf first.
    pub frames: Vec<TraceFrame>,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct TracesReport {
    /// Header lines (File, Build ID, comments, Type, Doc, Time, Duration).
    pub labels: Vec<String>,
    /// The samples, in profile order.
    pub traces: Vec<Trace>,
    /// Warnings pprof prints to stderr (a filter that matched nothing).
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

/// Computes the `traces` report of `profile`.
pub fn traces(profile: &Profile, opts: &TracesOptions) -> Result<TracesReport> {
    let index = profile.sample_index(opts.sample_index.as_deref())?;
    let st = &profile.pb().sample_type[index];
    let (sample_type, sample_unit) = (profile.str(st.r#type), profile.str(st.unit));
    let total = report_total(profile, index);
    let units = num_label_units(profile);
    let prepared = Prepared::build(profile, index, &opts.filters, opts.granularity, true);
    let mut stack = Vec::new();
    let mut traces = Vec::with_capacity(prepared.sample_count());
    for i in 0..prepared.sample_count() {
        let (si, value) = prepared.sample(i, &mut stack);
        if stack.is_empty() {
            continue;
        }
        let s = &profile.pb().sample[si];
        // pprof's decoded labels: string values by key, numbers by key (a label with neither is none).
        let mut strs: Vec<(&str, Vec<&str>)> = Vec::new();
        let mut nums: Vec<(&str, Vec<i64>)> = Vec::new();
        for l in &s.label {
            let key = profile.str(l.key);
            if l.str != 0 {
                push_grouped(&mut strs, key, profile.str(l.str));
            } else if l.num != 0 || l.num_unit != 0 {
                push_grouped(&mut nums, key, l.num);
            }
        }
        let mut str_lines: Vec<String> = strs.iter().map(|(k, v)| format!("{k:>10}:  {}", v.join(" "))).collect();
        str_lines.sort();
        let mut num_lines: Vec<String> = nums
            .iter()
            .map(|(k, v)| {
                let unit = units.get(*k).map_or(*k, String::as_str);
                let vals: Vec<String> = v.iter().map(|n| scaled_label(*n, unit, "auto")).collect();
                format!("{k:>10}:  {}", vals.join(" "))
            })
            .collect();
        num_lines.sort();
        str_lines.extend(num_lines);
        traces.push(Trace {
            labels: str_lines,
            value,
            value_text: scaled_label(value, sample_unit, "minimum"),
            frames: stack
                .iter()
                .map(|&(n, inline)| TraceFrame {
                    name: prepared.names[n as usize].clone(),
                    inline,
                })
                .collect(),
        });
    }
    let labels = profile_labels(
        profile,
        &LabelOptions {
            sample_type,
            total_formatted: scaled_label(total, sample_unit, "minimum"),
            total,
            sample_unit,
        },
    );
    Ok(TracesReport {
        labels,
        traces,
        warnings: prepared.filter_warnings(&opts.filters),
    })
}

fn push_grouped<'a, T>(groups: &mut Vec<(&'a str, Vec<T>)>, key: &'a str, v: T) {
    match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, vs)) => vs.push(v),
        None => groups.push((key, vec![v])),
    }
}

/// The separator pprof prints before each trace and at the end.
const SEPARATOR: &str = "-----------+-------------------------------------------------------";

/// Renders the report exactly as `go tool pprof -traces` prints it.
pub fn render_text(r: &TracesReport) -> String {
    let mut out = r.labels.join("\n");
    out.push('\n');
    for t in &r.traces {
        out.push_str(SEPARATOR);
        out.push('\n');
        for l in &t.labels {
            out.push_str(l);
            out.push('\n');
        }
        for (i, f) in t.frames.iter().enumerate() {
            let v = if i == 0 { t.value_text.as_str() } else { "" };
            let inline = if f.inline { " (inline)" } else { "" };
            out.push_str(&format!("{v:>10}   {}{inline}\n", f.name));
        }
    }
    out.push_str(SEPARATOR);
    out.push('\n');
    out
}
