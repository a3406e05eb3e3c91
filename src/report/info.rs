//! The `info` report: what a profile contains.

use serde::Serialize;

use super::labels::format_time_utc;
use crate::answer::MappingStatus;
use crate::binary::Located;
use crate::profile::Profile;

/// A sample type with its total.
#[derive(Debug, Clone, Serialize)]
pub struct SampleTypeInfo {
    /// Type name, e.g. `inuse_space`.
    pub r#type: String,
    /// Unit, e.g. `bytes`.
    pub unit: String,
    /// Whether pprof reports this type when none is chosen.
    pub default: bool,
    /// Σ value over all samples.
    pub total: i64,
}

/// One mapping.
#[derive(Debug, Clone, Serialize)]
pub struct MappingInfo {
    /// Mapping id.
    pub id: u64,
    /// Runtime start address.
    pub start: u64,
    /// Runtime limit address.
    pub limit: u64,
    /// File offset of `start`.
    pub offset: u64,
    /// Object file.
    pub file: String,
    /// Build ID.
    pub build_id: String,
    /// `[FN][FL][LN][IN]` flags that are set.
    pub flags: String,
    /// Locations that refer to this mapping.
    pub locations: usize,
    /// The binary found for it and where it came from (`info --locate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub located: Option<Located>,
    /// A binary was looked for (`info --locate`, not a pseudo mapping such as `[vdso]`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub searched: bool,
}

/// Everything `pprofsym info` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    /// Sample types, in order.
    pub sample_types: Vec<SampleTypeInfo>,
    /// `type/unit` of the period.
    pub period_type: String,
    /// Sampling period.
    pub period: i64,
    /// Collection time (UTC), if set.
    pub time: Option<String>,
    /// Collection duration in nanoseconds, if set.
    pub duration_nanos: Option<i64>,
    /// Comments.
    pub comments: Vec<String>,
    /// drop_frames / keep_frames regexps.
    pub drop_frames: String,
    /// keep_frames regexp.
    pub keep_frames: String,
    /// Documentation URL.
    pub doc_url: String,
    /// Counts.
    pub samples: usize,
    /// Number of locations.
    pub locations: usize,
    /// Number of functions.
    pub functions: usize,
    /// Number of mappings.
    pub mappings_count: usize,
    /// Locations with more than one line (inline chains).
    pub inlined_locations: usize,
    /// Locations without any line (unsymbolized).
    pub unsymbolized_locations: usize,
    /// The mappings.
    pub mappings: Vec<MappingInfo>,
    /// The binaries were looked for (`info --locate`): each mapping's `located` says what was found.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub located: bool,
}

impl Info {
    /// Records what was found for each mapping (in mapping order; see `symbolize::profile::locate_mappings`).
    pub fn set_located(&mut self, found: Vec<MappingStatus>) {
        for (m, st) in self.mappings.iter_mut().zip(found) {
            m.searched = !matches!(st, MappingStatus::Unsymbolizable);
            if let MappingStatus::Symbolized { located, .. } = st {
                m.located = Some(*located);
            }
        }
        self.located = true;
    }
}

/// Summarizes `p`.
pub fn info(p: &Profile) -> Info {
    let pb = p.pb();
    let default = p.sample_index(None).ok();
    let sample_types = pb
        .sample_type
        .iter()
        .enumerate()
        .map(|(i, t)| SampleTypeInfo {
            r#type: p.str(t.r#type).into(),
            unit: p.str(t.unit).into(),
            default: Some(i) == default,
            total: pb.sample.iter().map(|s| s.value.get(i).copied().unwrap_or(0)).sum(),
        })
        .collect();
    let mut per_mapping = vec![0usize; pb.mapping.len()];
    for l in &pb.location {
        if let Some(i) = p.mapping_index(l.mapping_id) {
            per_mapping[i] += 1;
        }
    }
    let mappings = pb
        .mapping
        .iter()
        .zip(per_mapping)
        .map(|(m, locations)| {
            let mut flags = String::new();
            for (set, f) in [
                (m.has_functions, "[FN]"),
                (m.has_filenames, "[FL]"),
                (m.has_line_numbers, "[LN]"),
                (m.has_inline_frames, "[IN]"),
            ] {
                if set {
                    flags.push_str(f);
                }
            }
            MappingInfo {
                id: m.id,
                start: m.memory_start,
                limit: m.memory_limit,
                offset: m.file_offset,
                file: p.str(m.filename).into(),
                build_id: p.str(m.build_id).into(),
                flags,
                locations,
                located: None,
                searched: false,
            }
        })
        .collect();
    let period_type = pb
        .period_type
        .as_ref()
        .map(|t| format!("{}/{}", p.str(t.r#type), p.str(t.unit)))
        .filter(|s| s != "/")
        .unwrap_or_default();
    Info {
        sample_types,
        period_type,
        period: pb.period,
        time: (pb.time_nanos != 0).then(|| format_time_utc(pb.time_nanos)),
        duration_nanos: (pb.duration_nanos != 0).then_some(pb.duration_nanos),
        comments: pb.comment.iter().map(|c| p.str(*c).to_string()).collect(),
        drop_frames: p.str(pb.drop_frames).into(),
        keep_frames: p.str(pb.keep_frames).into(),
        doc_url: p.str(pb.doc_url).into(),
        samples: pb.sample.len(),
        locations: pb.location.len(),
        functions: pb.function.len(),
        mappings_count: pb.mapping.len(),
        inlined_locations: pb.location.iter().filter(|l| l.line.len() > 1).count(),
        unsymbolized_locations: pb.location.iter().filter(|l| l.line.is_empty()).count(),
        mappings,
        located: false,
    }
}
