//! pprof's `profile.Merge`, with the sample-type and unit reconciliation its driver does first
//! (`CompatibilizeSampleTypes`, `ScaleProfiles`), as one engine that takes the profiles one at a time.
//!
//! What it computes, as pprof does:
//! - Sample types: those present in every profile, by name, in the first profile's order; each in the finest unit
//!   any profile uses (values of coarser profiles are multiplied up). None in common is an error, as are units of
//!   different kinds (bytes and seconds) and different period types.
//! - Header: period = the largest, duration = the sum, time = pprof's "earliest" (a zero time coming after a
//!   non-zero one wins, see [`Merger::add`]), comments deduplicated in order, default sample type and doc URL from
//!   the first profile that has one, drop/keep frames from the first profile.
//! - Mappings keyed by (size rounded up to 4 KiB, file offset, build ID or else file name); the first profile's
//!   first mapping comes first; a later profile's addresses are moved by the difference of the starts.
//! - Functions keyed by (name, system name, file, start line); locations by (mapping, address − mapping start,
//!   lines, folded flag); samples by (locations, string labels, numeric labels with units). Values add up; a sample
//!   whose values are all zero is skipped, and if sums cancel to zero the result is compacted (merged again alone),
//!   so ids are numbered in order of first use exactly as pprof numbers them.
//!
//! Memory is the merged result plus one input at a time: every table holds merged ids only, keyed by hashes into
//! the merged arrays ([`super::table::HashIndex`]).

use std::hash::Hasher;

use super::table::{HashIndex, finish, hasher};
use crate::error::{Error, ErrorKind, Result};
use crate::profile::{Profile, pb};
use crate::report::measure::{scale, unit_factor};

/// A label reduced to what pprof keeps of it: a string label (`str != 0`) or a numeric one (`num` and `unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Lbl {
    key: u32,
    /// Merged string id of the value, 0 for a numeric label.
    str: u32,
    num: i64,
    unit: u32,
}

/// Merges profiles; see the module docs. Feed it with [`Merger::add`], get the result from [`Merger::finish`].
#[derive(Debug, Default)]
pub struct Merger {
    started: bool,
    /// Names kept in the result (pprof's common sample types), when known in advance.
    restrict: Option<Vec<String>>,
    // Header.
    types: Vec<(u32, u32)>,
    period_type: (u32, u32),
    period: i64,
    time: i64,
    duration: i64,
    comments: Vec<u32>,
    doc_url: u32,
    drop_frames: u32,
    keep_frames: u32,
    /// Per input: its sample type names and default sample type, to settle the default at the end as pprof's
    /// `compatibilizeSampleTypes` would have.
    inputs: Vec<(Vec<String>, String)>,
    // Strings.
    strings: Vec<String>,
    string_index: HashIndex,
    // Mappings, functions, locations.
    mappings: Vec<pb::Mapping>,
    /// Per merged mapping: some input mapping with locations has set its symbol flags.
    mapping_flags_set: Vec<bool>,
    mapping_keys: std::collections::HashMap<(u64, u64, u32), u64>,
    functions: Vec<pb::Function>,
    function_index: HashIndex,
    locations: Vec<pb::Location>,
    location_index: HashIndex,
    // Samples, in flat arrays: sample i has locations `s_locs[s_loc_end[i-1]..s_loc_end[i]]`, labels likewise, and
    // values `s_vals[i * ncols..][..ncols]`.
    s_locs: Vec<u64>,
    s_loc_end: Vec<usize>,
    s_lbls: Vec<Lbl>,
    s_lbl_end: Vec<usize>,
    s_vals: Vec<i64>,
    sample_index: HashIndex,
}

/// How one input is added.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Multiply every value by -1 (pprof's `Scale(-1)` of a base).
    pub negate: bool,
    /// A string label set on every sample, replacing that key's values (pprof's `SetLabel`), e.g.
    /// `pprof::base=true`.
    pub label: Option<(String, String)>,
}

/// The per-input translation tables (input position → merged id), filled as the input's samples need them.
struct InputMaps {
    strings: Vec<u32>,
    mappings: Vec<Option<(u64, u64)>>,
    /// Per input mapping: its flags were combined into its merged mapping's.
    flags_done: Vec<bool>,
    functions: Vec<u64>,
    locations: Vec<u64>,
}

const UNMAPPED: u32 = u32::MAX;

impl Merger {
    /// An empty merger; sample types are reconciled as profiles come.
    pub fn new() -> Merger {
        let mut m = Merger::default();
        m.string_index = HashIndex::with_capacity(1024);
        m.function_index = HashIndex::with_capacity(1024);
        m.location_index = HashIndex::with_capacity(1024);
        m.sample_index = HashIndex::with_capacity(1024);
        m.s_loc_end.push(0);
        m.s_lbl_end.push(0);
        m.intern("");
        m
    }

    /// A merger that keeps only the sample types named `common` (pprof's common sample types, computed over all
    /// the inputs beforehand; see [`common_sample_types`]).
    pub fn with_types(common: Vec<String>) -> Merger {
        Merger {
            restrict: Some(common),
            ..Merger::new()
        }
    }

    /// The number of merged samples so far.
    pub fn sample_count(&self) -> usize {
        self.s_loc_end.len() - 1
    }

    fn intern(&mut self, s: &str) -> u32 {
        let mut h = hasher();
        h.write(s.as_bytes());
        let h = finish(h);
        let strings = &self.strings;
        if let Some(id) = self.string_index.find(h, |id| strings[id as usize] == s) {
            return id;
        }
        self.strings.push(s.to_string());
        self.string_index.push(h)
    }

    fn ncols(&self) -> usize {
        self.types.len()
    }

    /// Adds `p` (named `name` in errors).
    ///
    /// Time follows pprof's `combineHeaders`: the merged time is replaced when it is zero or the new one is
    /// smaller, so it is the earliest time except that a zero time (a legacy text profile) coming after a non-zero
    /// one wins.
    pub fn add(&mut self, p: &Profile, name: &str, opts: &AddOptions) -> Result<()> {
        let pb = p.pb();
        let names: Vec<String> = p.sample_type_names().iter().map(|s| s.to_string()).collect();
        let (cols, ratios) = self.reconcile_types(p, name)?;
        self.inputs.push((names, p.str(pb.default_sample_type).to_string()));
        // Header.
        if self.inputs.len() == 1 {
            self.drop_frames = self.intern(p.str(pb.drop_frames));
            self.keep_frames = self.intern(p.str(pb.keep_frames));
        }
        if self.time == 0 || pb.time_nanos < self.time {
            self.time = pb.time_nanos;
        }
        self.duration = self.duration.wrapping_add(pb.duration_nanos);
        for c in &pb.comment {
            let id = self.intern(p.str(*c));
            if !self.comments.contains(&id) {
                self.comments.push(id);
            }
        }
        if self.doc_url == 0 {
            self.doc_url = self.intern(p.str(pb.doc_url));
        }

        let mut maps = InputMaps {
            strings: vec![UNMAPPED; pb.string_table.len()],
            mappings: vec![None; pb.mapping.len()],
            flags_done: vec![false; pb.mapping.len()],
            functions: vec![0; pb.function.len()],
            locations: vec![0; pb.location.len()],
        };
        if self.mappings.is_empty() && !pb.mapping.is_empty() {
            // pprof takes each profile's first mapping before its samples, until one exists: the main binary first.
            self.map_mapping(p, &mut maps, 0);
        }
        let extra = opts.label.as_ref().map(|(k, v)| (self.intern(k), self.intern(v)));
        let ncols = self.ncols();
        let mut vals = vec![0i64; ncols];
        let mut locs: Vec<u64> = Vec::with_capacity(64);
        let mut lbls: Vec<Lbl> = Vec::with_capacity(4);
        for s in &pb.sample {
            let mut zero = true;
            for (j, (&c, &r)) in cols.iter().zip(&ratios).enumerate() {
                let v = s.value.get(c).copied().unwrap_or(0);
                let v = if r == 1.0 { v } else { (v as f64 * r).round() as i64 };
                let v = if opts.negate { v.wrapping_neg() } else { v };
                vals[j] = v;
                zero &= v == 0;
            }
            if zero {
                continue;
            }
            locs.clear();
            for id in &s.location_id {
                if let Some(li) = p.location_index(*id) {
                    locs.push(self.map_location(p, &mut maps, li));
                }
            }
            lbls.clear();
            for l in &s.label {
                if l.str != 0 {
                    lbls.push(Lbl {
                        key: self.map_string(p, &mut maps, l.key),
                        str: self.map_string(p, &mut maps, l.str),
                        num: 0,
                        unit: 0,
                    });
                } else if l.num != 0 || l.num_unit != 0 {
                    lbls.push(Lbl {
                        key: self.map_string(p, &mut maps, l.key),
                        str: 0,
                        num: l.num,
                        unit: self.map_string(p, &mut maps, l.num_unit),
                    });
                }
            }
            if let Some((k, v)) = extra {
                lbls.retain(|l| !(l.str != 0 && l.key == k));
                lbls.push(Lbl {
                    key: k,
                    str: v,
                    num: 0,
                    unit: 0,
                });
            }
            self.canonical_labels(&mut lbls);
            self.add_sample(&locs, &lbls, &vals);
        }
        Ok(())
    }

    /// Orders labels as pprof keys and writes them: string labels, then numeric ones, each sorted by key name
    /// (stable: a key's values keep their order).
    fn canonical_labels(&self, lbls: &mut [Lbl]) {
        if lbls.len() > 1 {
            let strings = &self.strings;
            lbls.sort_by(|a, b| {
                (a.str == 0)
                    .cmp(&(b.str == 0))
                    .then_with(|| strings[a.key as usize].cmp(&strings[b.key as usize]))
            });
        }
    }

    fn add_sample(&mut self, locs: &[u64], lbls: &[Lbl], vals: &[i64]) {
        let mut h = hasher();
        for l in locs {
            h.write_u64(*l);
        }
        h.write_u64(u64::MAX);
        for l in lbls {
            h.write_u32(l.key);
            h.write_u32(l.str);
            h.write_i64(l.num);
            h.write_u32(l.unit);
        }
        let h = finish(h);
        let (s_locs, s_loc_end, s_lbls, s_lbl_end) = (&self.s_locs, &self.s_loc_end, &self.s_lbls, &self.s_lbl_end);
        let found = self.sample_index.find(h, |id| {
            let i = id as usize;
            &s_locs[s_loc_end[i]..s_loc_end[i + 1]] == locs && &s_lbls[s_lbl_end[i]..s_lbl_end[i + 1]] == lbls
        });
        let n = vals.len();
        match found {
            Some(id) => {
                let dst = &mut self.s_vals[id as usize * n..][..n];
                for (d, v) in dst.iter_mut().zip(vals) {
                    *d = d.wrapping_add(*v);
                }
            }
            None => {
                self.s_locs.extend_from_slice(locs);
                self.s_loc_end.push(self.s_locs.len());
                self.s_lbls.extend_from_slice(lbls);
                self.s_lbl_end.push(self.s_lbls.len());
                self.s_vals.extend_from_slice(vals);
                self.sample_index.push(h);
            }
        }
    }

    fn map_string(&mut self, p: &Profile, maps: &mut InputMaps, idx: i64) -> u32 {
        let Ok(i) = usize::try_from(idx) else { return 0 };
        match maps.strings.get(i) {
            Some(&m) if m != UNMAPPED => m,
            Some(_) => {
                let m = self.intern(p.str(idx));
                maps.strings[i] = m;
                m
            }
            None => 0,
        }
    }

    /// pprof's `mapMapping` for the mapping at position `mi` of the input: (merged id, address shift).
    fn map_mapping(&mut self, p: &Profile, maps: &mut InputMaps, mi: usize) -> (u64, u64) {
        if let Some(m) = maps.mappings[mi] {
            return m;
        }
        let src = &p.pb().mapping[mi];
        let file = self.map_string(p, maps, src.filename);
        let build_id = self.map_string(p, maps, src.build_id);
        // Size rounded up to 4 KiB, so that mappings that differ by a page-rounding slip still match.
        let size = src.memory_limit.wrapping_sub(src.memory_start).wrapping_add(0xfff) & !0xfff;
        let who = if build_id != 0 { build_id } else { file };
        let key = (size, src.file_offset, who);
        let out = match self.mapping_keys.get(&key) {
            Some(&id) => {
                let m = &self.mappings[id as usize - 1];
                (id, m.memory_start.wrapping_sub(src.memory_start))
            }
            None => {
                let id = self.mappings.len() as u64 + 1;
                self.mappings.push(pb::Mapping {
                    id,
                    filename: file as i64,
                    build_id: build_id as i64,
                    ..src.clone()
                });
                self.mapping_flags_set.push(false);
                self.mapping_keys.insert(key, id);
                (id, 0)
            }
        };
        maps.mappings[mi] = Some(out);
        out
    }

    /// The symbol flags of merged mapping `id`: those of the input mappings that have locations in it, all of them
    /// (pprof keeps the first input's flags even when that mapping has no locations, e.g. from an empty profile,
    /// and then symbolizes the merged mapping again).
    fn combine_flags(&mut self, id: u64, src: &pb::Mapping) {
        let i = id as usize - 1;
        let m = &mut self.mappings[i];
        if self.mapping_flags_set[i] {
            m.has_functions &= src.has_functions;
            m.has_filenames &= src.has_filenames;
            m.has_line_numbers &= src.has_line_numbers;
            m.has_inline_frames &= src.has_inline_frames;
        } else {
            self.mapping_flags_set[i] = true;
            m.has_functions = src.has_functions;
            m.has_filenames = src.has_filenames;
            m.has_line_numbers = src.has_line_numbers;
            m.has_inline_frames = src.has_inline_frames;
        }
    }

    fn map_function(&mut self, p: &Profile, maps: &mut InputMaps, fi: usize) -> u64 {
        if maps.functions[fi] != 0 {
            return maps.functions[fi];
        }
        let src = &p.pb().function[fi];
        let name = self.map_string(p, maps, src.name) as i64;
        let system_name = self.map_string(p, maps, src.system_name) as i64;
        let filename = self.map_string(p, maps, src.filename) as i64;
        let start_line = src.start_line;
        let mut h = hasher();
        h.write_i64(name);
        h.write_i64(system_name);
        h.write_i64(filename);
        h.write_i64(start_line);
        let h = finish(h);
        let fns = &self.functions;
        let id = match self.function_index.find(h, |id| {
            let f = &fns[id as usize];
            f.name == name && f.system_name == system_name && f.filename == filename && f.start_line == start_line
        }) {
            Some(i) => i as u64 + 1,
            None => {
                let id = self.functions.len() as u64 + 1;
                self.functions.push(pb::Function {
                    id,
                    name,
                    system_name,
                    filename,
                    start_line,
                });
                self.function_index.push(h);
                id
            }
        };
        maps.functions[fi] = id;
        id
    }

    /// pprof's `mapLocation` for the location at position `li` of the input; returns the merged id.
    fn map_location(&mut self, p: &Profile, maps: &mut InputMaps, li: usize) -> u64 {
        if maps.locations[li] != 0 {
            return maps.locations[li];
        }
        let src = &p.pb().location[li];
        let (mapping_id, shift) = match p.mapping_index(src.mapping_id) {
            Some(mi) => {
                let m = self.map_mapping(p, maps, mi);
                if !maps.flags_done[mi] {
                    maps.flags_done[mi] = true;
                    self.combine_flags(m.0, &p.pb().mapping[mi]);
                }
                m
            }
            None => (0, 0),
        };
        let address = src.address.wrapping_add(shift);
        let start = if mapping_id == 0 {
            0
        } else {
            self.mappings[mapping_id as usize - 1].memory_start
        };
        let mut line = Vec::with_capacity(src.line.len());
        for ln in &src.line {
            let function_id = match p.function_index(ln.function_id) {
                Some(fi) => self.map_function(p, maps, fi),
                None => 0,
            };
            line.push(pb::Line {
                function_id,
                line: ln.line,
                column: ln.column,
            });
        }
        let rel = address.wrapping_sub(start);
        let mut h = hasher();
        h.write_u64(mapping_id);
        h.write_u64(rel);
        h.write_u8(src.is_folded as u8);
        for ln in &line {
            h.write_u64(ln.function_id);
            h.write_i64(ln.line);
            h.write_i64(ln.column);
        }
        let h = finish(h);
        let (locs, mappings) = (&self.locations, &self.mappings);
        let found = self.location_index.find(h, |id| {
            let l = &locs[id as usize];
            let lstart = if l.mapping_id == 0 {
                0
            } else {
                mappings[l.mapping_id as usize - 1].memory_start
            };
            l.mapping_id == mapping_id
                && l.address.wrapping_sub(lstart) == rel
                && l.is_folded == src.is_folded
                && l.line == line
        });
        let id = match found {
            Some(i) => i as u64 + 1,
            None => {
                let id = self.locations.len() as u64 + 1;
                self.locations.push(pb::Location {
                    id,
                    mapping_id,
                    address,
                    line,
                    is_folded: src.is_folded,
                });
                self.location_index.push(h);
                id
            }
        };
        maps.locations[li] = id;
        id
    }

    /// Reconciles `p`'s sample and period types with the merged ones (pprof's `CompatibilizeSampleTypes` and
    /// `ScaleProfiles`, done incrementally): returns, per merged column, the input column it comes from and the
    /// factor its values are multiplied by. Merged columns `p` lacks are dropped; a finer unit in `p` rescales what
    /// was merged so far (by an exact integer factor: pprof scales every profile to the finest unit).
    fn reconcile_types(&mut self, p: &Profile, name: &str) -> Result<(Vec<usize>, Vec<f64>)> {
        let pb = p.pb();
        let in_types: Vec<(&str, &str)> = pb
            .sample_type
            .iter()
            .map(|t| (p.str(t.r#type), p.str(t.unit)))
            .collect();
        let in_period = pb
            .period_type
            .as_ref()
            .map_or(("", ""), |t| (p.str(t.r#type), p.str(t.unit)));
        if !self.started {
            self.started = true;
            let kept: Vec<(&str, &str)> = match &self.restrict {
                Some(r) => in_types.iter().copied().filter(|(t, _)| r.iter().any(|x| x == t)).collect(),
                None => in_types.clone(),
            };
            if kept.is_empty() {
                return Err(no_common_types(name, &in_types, &[]));
            }
            self.types = kept.iter().map(|(t, u)| (self.intern(t), self.intern(u))).collect();
            self.period_type = (self.intern(in_period.0), self.intern(in_period.1));
            self.period = pb.period;
            let cols = kept
                .iter()
                .map(|(t, _)| in_types.iter().position(|(x, _)| x == t).unwrap_or(0))
                .collect();
            return Ok((cols, vec![1.0; kept.len()]));
        }
        // Sample types: the merged ones this input also has.
        let merged: Vec<String> = self.types.iter().map(|(t, _)| self.strings[*t as usize].clone()).collect();
        let keep: Vec<Option<usize>> = merged
            .iter()
            .map(|t| in_types.iter().position(|(x, _)| x == t))
            .collect();
        if keep.iter().all(Option::is_none) {
            let have: Vec<(&str, &str)> = self
                .types
                .iter()
                .map(|(t, u)| (self.strings[*t as usize].as_str(), self.strings[*u as usize].as_str()))
                .collect();
            return Err(no_common_types(name, &in_types, &have));
        }
        if keep.iter().any(Option::is_none) {
            self.drop_columns(&keep);
        }
        // Period type: same name, units of one kind; the period in the finer unit, the largest kept.
        let (mt, mu) = (self.strings[self.period_type.0 as usize].clone(), self.strings[self.period_type.1 as usize].clone());
        if mt != in_period.0 || !compatible_units(&mu, in_period.1) {
            return Err(Error::new(
                ErrorKind::Usage,
                format!(
                    "{name}: incompatible period types: {} {} and {} {}",
                    mt, mu, in_period.0, in_period.1
                ),
            ));
        }
        let mut period = pb.period;
        if mu != in_period.1 {
            let r = scale(1, in_period.1, &mu).0;
            if r < 1.0 {
                // The input is finer: the merged period moves to its unit.
                let up = scale(1, &mu, in_period.1).0;
                self.period = (self.period as f64 * up) as i64;
                self.period_type.1 = self.intern(in_period.1);
            } else {
                period = (period as f64 * r) as i64;
            }
        }
        if self.period == 0 || self.period < period {
            self.period = period;
        }
        let cols: Vec<usize> = keep.iter().flatten().copied().collect();
        let mut ratios = Vec::with_capacity(cols.len());
        for (j, &c) in cols.iter().enumerate() {
            let mu = self.strings[self.types[j].1 as usize].clone();
            let iu = in_types[c].1;
            if mu == iu {
                ratios.push(1.0);
                continue;
            }
            if !compatible_units(&mu, iu) {
                return Err(Error::new(
                    ErrorKind::Usage,
                    format!(
                        "{name}: incompatible units for sample type {}: {mu} and {iu}",
                        in_types[c].0
                    ),
                ));
            }
            let r = scale(1, iu, &mu).0;
            if r < 1.0 {
                let up = scale(1, &mu, iu).0;
                self.rescale_column(j, up);
                self.types[j].1 = self.intern(iu);
                ratios.push(1.0);
            } else {
                ratios.push(r);
            }
        }
        Ok((cols, ratios))
    }

    /// Keeps only the merged value columns marked `Some` in `keep`.
    fn drop_columns(&mut self, keep: &[Option<usize>]) {
        let old = self.ncols();
        let kept: Vec<usize> = (0..old).filter(|&j| keep[j].is_some()).collect();
        let mut vals = Vec::with_capacity(self.sample_count() * kept.len());
        for row in self.s_vals.chunks_exact(old.max(1)) {
            vals.extend(kept.iter().map(|&j| row[j]));
        }
        self.s_vals = vals;
        self.types = kept.iter().map(|&j| self.types[j]).collect();
    }

    fn rescale_column(&mut self, j: usize, factor: f64) {
        let n = self.ncols();
        for row in self.s_vals.chunks_exact_mut(n) {
            row[j] = (row[j] as f64 * factor).round() as i64;
        }
    }

    /// The merged profile, compacted if some sums cancelled to zero.
    pub fn finish(self) -> Result<Profile> {
        if !self.started {
            return Err(Error::new(ErrorKind::Usage, "no profiles to merge"));
        }
        let n = self.ncols();
        let has_zero = n > 0 && self.s_vals.chunks_exact(n).any(|r| r.iter().all(|v| *v == 0));
        let p = Profile::new(self.into_pb())?;
        if !has_zero {
            return Ok(p);
        }
        // pprof merges the result again, alone: zero samples go, and what only they used.
        let mut m = Merger::new();
        m.add(&p, "merged profile", &AddOptions::default())?;
        Profile::new(m.into_pb())
    }

    /// The default sample type pprof ends up with: each input's own, or (when its types had to be reduced or
    /// reordered) its own if still present, else the first common type; the first non-empty one wins.
    fn default_type(&self) -> String {
        let common: Vec<&str> = self.types.iter().map(|(t, _)| self.strings[*t as usize].as_str()).collect();
        for (names, dflt) in &self.inputs {
            let unchanged = names.len() == common.len() && names.iter().zip(&common).all(|(a, b)| a == b);
            let eff = if unchanged || common.contains(&dflt.as_str()) {
                dflt.as_str()
            } else {
                common.first().copied().unwrap_or("")
            };
            if !eff.is_empty() {
                return eff.to_string();
            }
        }
        String::new()
    }

    fn into_pb(mut self) -> pb::Profile {
        let dflt = self.default_type();
        let default_sample_type = if dflt.is_empty() { 0 } else { self.intern(&dflt) as i64 };
        let n = self.ncols();
        let count = self.sample_count();
        let mut sample = Vec::with_capacity(count);
        for i in 0..count {
            let label = self.s_lbls[self.s_lbl_end[i]..self.s_lbl_end[i + 1]]
                .iter()
                .map(|l| pb::Label {
                    key: l.key as i64,
                    str: l.str as i64,
                    num: l.num,
                    num_unit: l.unit as i64,
                })
                .collect();
            sample.push(pb::Sample {
                location_id: self.s_locs[self.s_loc_end[i]..self.s_loc_end[i + 1]].to_vec(),
                value: self.s_vals[i * n..(i + 1) * n].to_vec(),
                label,
            });
        }
        let vt = |(t, u): (u32, u32)| pb::ValueType {
            r#type: t as i64,
            unit: u as i64,
        };
        pb::Profile {
            sample_type: self.types.iter().map(|t| vt(*t)).collect(),
            sample,
            mapping: self.mappings,
            location: self.locations,
            function: self.functions,
            string_table: self.strings,
            drop_frames: self.drop_frames as i64,
            keep_frames: self.keep_frames as i64,
            time_nanos: self.time,
            duration_nanos: self.duration,
            period_type: Some(vt(self.period_type)),
            period: self.period,
            comment: self.comments.iter().map(|c| *c as i64).collect(),
            default_sample_type,
            doc_url: self.doc_url as i64,
        }
    }
}

/// Units pprof can convert into each other: equal, or both of one kind (memory, time).
fn compatible_units(a: &str, b: &str) -> bool {
    a == b || matches!((unit_factor(a), unit_factor(b)), (Some((x, _)), Some((y, _))) if x == y)
}

fn no_common_types(name: &str, theirs: &[(&str, &str)], ours: &[(&str, &str)]) -> Error {
    let list = |v: &[(&str, &str)]| v.iter().map(|(t, u)| format!("{t}/{u}")).collect::<Vec<_>>().join(" ");
    let msg = if ours.is_empty() {
        format!("{name}: profiles have empty common sample type list (it has [{}])", list(theirs))
    } else {
        format!(
            "{name}: profiles have empty common sample type list ([{}] vs [{}] before it)",
            list(theirs),
            list(ours)
        )
    };
    Error::new(ErrorKind::Usage, msg)
}

/// pprof's common sample types: the type names present in every profile, in the first profile's order.
pub fn common_sample_types<'a>(profiles: impl IntoIterator<Item = &'a Profile>) -> Vec<String> {
    let mut it = profiles.into_iter();
    let Some(first) = it.next() else {
        return Vec::new();
    };
    let mut common: Vec<String> = first.sample_type_names().iter().map(|s| s.to_string()).collect();
    for p in it {
        let names = p.sample_type_names();
        common.retain(|t| names.contains(&t.as_str()));
    }
    common
}
