//! The merge's catalog: header, strings, mappings, functions and locations. It translates each input's samples into
//! merged ids, a [`Batch`] of them at a time, and hands each batch to the sample table ([`super::samples`]), which
//! adds them up. See [`super::merge`] for the rules.

use std::collections::HashMap;
use std::hash::Hasher;

use super::merge::AddOptions;
use super::samples::{BATCH_SAMPLES, Batch, ColumnOp, Lbl};
use super::table::{HashIndex, finish, hasher};
use crate::error::{Error, ErrorKind, Result};
use crate::profile::{Frames, Profile, pb};
use crate::report::measure::{scale, unit_factor};

/// Everything merged but the samples.
#[derive(Debug, Default)]
pub(super) struct Catalog {
    pub(super) started: bool,
    /// Names kept in the result (pprof's common sample types), when known in advance.
    restrict: Option<Vec<String>>,
    // Header.
    pub(super) types: Vec<(u32, u32)>,
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
    pub(super) mappings: Vec<pb::Mapping>,
    /// Per merged mapping: some input mapping with locations has set its symbol flags.
    mapping_flags_set: Vec<bool>,
    mapping_keys: HashMap<(u64, u64, u32), u64>,
    pub(super) functions: Vec<pb::Function>,
    function_index: HashIndex,
    pub(super) locations: Vec<pb::Location>,
    location_index: HashIndex,
    /// Scratch lines of the location being looked up.
    scratch_lines: Vec<pb::Line>,
    /// Tests turn [`Catalog::find_known_locations`] off, to show that it changes nothing but the time.
    #[cfg(test)]
    no_known: bool,
}

/// The per-input translation tables (input position → merged id), filled as the input's samples need them.
struct InputMaps {
    strings: Vec<u32>,
    mappings: Vec<Option<(u64, u64)>>,
    /// Per input mapping: its flags were combined into its merged mapping's.
    flags_done: Vec<bool>,
    functions: Vec<u64>,
    locations: Vec<u64>,
    /// Merged location id by input location id, when the input's ids are dense (0: not mapped yet; marked
    /// [`PENDING`]: known, not used yet); `u32`, as the location index numbers them, so that the table read for
    /// every frame of every sample stays small.
    by_id: Vec<u32>,
    /// Per input location: the merged location equal to it that the catalog already held when the input came
    /// (0: none, or not looked up); see [`Catalog::find_known_locations`].
    known: Vec<u32>,
    /// By input location id, for the ids `by_id` holds as [`PENDING`]: the input mapping of the location
    /// ([`NO_MAPPING`]: none).
    pending_mapping: Vec<u32>,
}

impl InputMaps {
    /// Empty tables for the input `pb`.
    fn new(pb: &pb::Profile) -> InputMaps {
        let mut maps = InputMaps {
            strings: vec![UNMAPPED; pb.string_table.len()],
            mappings: vec![None; pb.mapping.len()],
            flags_done: vec![false; pb.mapping.len()],
            functions: vec![0; pb.function.len()],
            locations: vec![0; pb.location.len()],
            by_id: Vec::new(),
            known: Vec::new(),
            pending_mapping: Vec::new(),
        };
        // Producers number locations from 1: a table by id saves a lookup per frame of every sample.
        let max_id = pb.location.iter().map(|l| l.id).max().unwrap_or(0);
        if max_id <= 2 * pb.location.len() as u64 + 64 {
            maps.by_id = vec![0; max_id as usize + 1];
        }
        maps
    }
}

/// In [`InputMaps::by_id`], or'd onto a merged id: a location found known before the samples
/// ([`Catalog::find_known_locations`]), not used by a sample yet; at its first use its mapping's symbol flags are
/// combined, as [`Catalog::map_location`] would have done, and the mark is cleared.
const PENDING: u32 = 1 << 31;
/// In [`InputMaps::pending_mapping`]: the location has no mapping.
const NO_MAPPING: u32 = u32::MAX;

/// In [`InputMaps::strings`]: not looked up yet.
const UNMAPPED: u32 = u32::MAX;
/// In [`InputMaps::strings`]: looked up without adding it, and not in the catalog yet.
const ABSENT: u32 = u32::MAX - 1;

/// pprof's key of a mapping, with its file name and build ID as merged strings: the size rounded up to 4 KiB (so
/// that mappings that differ by a page-rounding slip still match), the file offset, and the build ID or else the
/// file name.
fn mapping_key(src: &pb::Mapping, file: u32, build_id: u32) -> (u64, u64, u32) {
    let size = src.memory_limit.wrapping_sub(src.memory_start).wrapping_add(0xfff) & !0xfff;
    let who = if build_id != 0 { build_id } else { file };
    (size, src.file_offset, who)
}

/// The hash of a sample's merged location ids, in two lanes (ids at even and at odd positions): each multiplication
/// waits on the one two ids back, not on the one just before.
#[inline]
fn frames_hash(ids: &[u32]) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let (mut even, mut odd) = (0u64, 0u64);
    let mut pairs = ids.chunks_exact(2);
    for pair in &mut pairs {
        even = even.wrapping_add(u64::from(pair[0])).wrapping_mul(K);
        odd = odd.wrapping_add(u64::from(pair[1])).wrapping_mul(K);
    }
    if let [last] = pairs.remainder() {
        even = even.wrapping_add(u64::from(*last)).wrapping_mul(K);
    }
    // The length too: a trailing zero id would not change a lane.
    even ^ odd.rotate_left(29) ^ (ids.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The hash of a string.
fn string_hash(s: &str) -> u64 {
    let mut h = hasher();
    h.write(s.as_bytes());
    finish(h)
}

/// The hash of a function by its merged strings and start line.
fn function_hash(name: i64, system_name: i64, filename: i64, start_line: i64) -> u64 {
    let mut h = hasher();
    h.write_i64(name);
    h.write_i64(system_name);
    h.write_i64(filename);
    h.write_i64(start_line);
    finish(h)
}

/// The hash of a location by its merged mapping, address relative to the mapping's start, and merged lines.
fn location_hash(mapping_id: u64, rel: u64, is_folded: bool, line: &[pb::Line]) -> u64 {
    let mut h = hasher();
    h.write_u64(mapping_id);
    h.write_u64(rel);
    h.write_u8(is_folded as u8);
    for ln in line {
        h.write_u64(ln.function_id);
        h.write_i64(ln.line);
        h.write_i64(ln.column);
    }
    finish(h)
}

impl Catalog {
    /// An empty catalog; `restrict` names the sample types to keep when known in advance.
    pub(super) fn new(restrict: Option<Vec<String>>) -> Catalog {
        let mut c = Catalog {
            restrict,
            string_index: HashIndex::with_capacity(1024),
            function_index: HashIndex::with_capacity(1024),
            location_index: HashIndex::with_capacity(1024),
            ..Catalog::default()
        };
        c.intern("");
        c
    }

    fn intern(&mut self, s: &str) -> u32 {
        let h = string_hash(s);
        let strings = &self.strings;
        if let Some(id) = self.string_index.find(h, |id| strings[id as usize] == s) {
            return id;
        }
        self.strings.push(s.to_string());
        self.string_index.push(h)
    }

    /// Translates `p`, whose samples `samples` gives (calling its argument with each sample's location ids, values and
    /// labels), into merged ids, and hands them to `sink` [`BATCH_SAMPLES`] at a time (the first batch carries the
    /// column changes; the last may be empty), which gives back an empty batch to fill next; updates the header
    /// and the tables on the way. Samples whose values are all zero are left out, as pprof leaves them out. After
    /// an error, the catalog and what `sink` was given hold part of `p`: the merge is to be given up.
    ///
    /// Time follows pprof's `combineHeaders`: the merged time is replaced when it is zero or the new one is
    /// smaller, so it is the earliest time except that a zero time (a legacy text profile) coming after a non-zero
    /// one wins.
    pub(super) fn translate(
        &mut self,
        p: &Profile,
        name: &str,
        opts: &AddOptions,
        sink: &mut dyn FnMut(Batch) -> Batch,
        samples: impl FnOnce(&mut dyn FnMut(Frames<'_>, &[i64], &[pb::Label]) -> Result<()>) -> Result<()>,
    ) -> Result<()> {
        let pb = p.pb();
        let names: Vec<String> = p.sample_type_names().iter().map(|s| s.to_string()).collect();
        let mut batch = Batch::new();
        let (cols, ratios) = self.reconcile_types(p, name, &mut batch.ops)?;
        batch.ncols = cols.len();
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

        let mut maps = InputMaps::new(pb);
        if self.mappings.is_empty() && !pb.mapping.is_empty() {
            // pprof takes each profile's first mapping before its samples, until one exists: the main binary first.
            self.map_mapping(p, &mut maps, 0);
        }
        #[cfg(test)]
        let skip = self.no_known;
        #[cfg(not(test))]
        let skip = false;
        if !self.locations.is_empty() && !skip {
            self.find_known_locations(p, &mut maps);
        }
        let extra = opts.label.as_ref().map(|(k, v)| (self.intern(k), self.intern(v)));
        let ncols = cols.len();
        let mut vals = vec![0i64; ncols];
        let mut lbls: Vec<Lbl> = Vec::with_capacity(4);
        let mut index = 0usize;
        // Out of `maps` while the samples are read, so that the loop over frames keeps it in registers.
        let mut by_id = std::mem::take(&mut maps.by_id);
        samples(&mut |frames, value, label| {
            index += 1;
            let mut zero = true;
            for (j, (&c, &r)) in cols.iter().zip(&ratios).enumerate() {
                let v = value.get(c).copied().unwrap_or(0);
                let v = if r == 1.0 { v } else { (v as f64 * r).round() as i64 };
                let v = if opts.negate { v.wrapping_neg() } else { v };
                vals[j] = v;
                zero &= v == 0;
            }
            if zero {
                return Ok(());
            }
            let first = batch.locs.len();
            let mut missing = None;
            match frames {
                Frames::Wide(ids) => batch.locs.extend(
                    ids.iter()
                        .map(|&id| self.merged_location(p, &mut maps, &mut by_id, id, &mut missing)),
                ),
                Frames::Narrow(ids) => batch.locs.extend(
                    ids.iter()
                        .map(|&id| self.merged_location(p, &mut maps, &mut by_id, u64::from(id), &mut missing)),
                ),
            }
            if let Some(id) = missing {
                return Err(Error::new(
                    ErrorKind::Invalid,
                    format!(
                        "{name}: malformed profile: sample {} refers to location {id}, which does not exist",
                        index - 1
                    ),
                ));
            }
            let mut h = hasher();
            h.write_u64(frames_hash(&batch.locs[first..]));
            lbls.clear();
            for l in label {
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
            h.write_u64(u64::MAX);
            for l in &lbls {
                h.write_u32(l.key);
                h.write_u32(l.str);
                h.write_i64(l.num);
                h.write_u32(l.unit);
            }
            batch.push(finish(h), &lbls, &vals);
            if batch.len() == BATCH_SAMPLES {
                batch = sink(std::mem::take(&mut batch));
                batch.ncols = ncols;
            }
            Ok(())
        })?;
        // The rest, and the column changes of an input without samples.
        sink(batch);
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

    fn map_string(&mut self, p: &Profile, maps: &mut InputMaps, idx: i64) -> u32 {
        let Ok(i) = usize::try_from(idx) else { return 0 };
        match maps.strings.get(i) {
            Some(&m) if m < ABSENT => m,
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
        let key = mapping_key(src, file, build_id);
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
                    ..*src
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
        let id = match self.find_function(name, system_name, filename, start_line) {
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
                self.function_index
                    .push(function_hash(name, system_name, filename, start_line));
                id
            }
        };
        maps.functions[fi] = id;
        id
    }

    /// The merged function (0-based) with these merged strings and start line, if any.
    fn find_function(&self, name: i64, system_name: i64, filename: i64, start_line: i64) -> Option<u32> {
        let fns = &self.functions;
        self.function_index
            .find(function_hash(name, system_name, filename, start_line), |id| {
                let f = &fns[id as usize];
                f.name == name && f.system_name == system_name && f.filename == filename && f.start_line == start_line
            })
    }

    /// The merged location (0-based) with this hash and key, if any.
    fn find_location(&self, h: u64, mapping_id: u64, rel: u64, is_folded: bool, line: &[pb::Line]) -> Option<u32> {
        let (locs, mappings) = (&self.locations, &self.mappings);
        self.location_index.find(h, |id| {
            let l = &locs[id as usize];
            let lstart = if l.mapping_id == 0 {
                0
            } else {
                mappings[l.mapping_id as usize - 1].memory_start
            };
            l.mapping_id == mapping_id
                && l.address.wrapping_sub(lstart) == rel
                && l.is_folded == is_folded
                && l.line == line
        })
    }

    /// The merged string equal to the input's string `idx`, if the catalog has it; adds nothing. Found ids are
    /// kept in `maps.strings` (they are what [`Catalog::map_string`] would return), misses as [`ABSENT`].
    fn known_string(&self, p: &Profile, maps: &mut InputMaps, idx: i64) -> Option<u32> {
        let i = usize::try_from(idx).ok()?;
        match *maps.strings.get(i)? {
            ABSENT => None,
            UNMAPPED => {
                let s = p.str(idx);
                let strings = &self.strings;
                let found = self.string_index.find(string_hash(s), |id| strings[id as usize] == s);
                maps.strings[i] = found.unwrap_or(ABSENT);
                found
            }
            m => Some(m),
        }
    }

    /// The merged function equal to the input's function at position `fi`, if the catalog has it; adds nothing
    /// (a found id is kept in `maps.functions`: it is what [`Catalog::map_function`] would return).
    fn known_function(&self, p: &Profile, maps: &mut InputMaps, fi: usize) -> Option<u64> {
        if maps.functions[fi] != 0 {
            return Some(maps.functions[fi]);
        }
        let src = &p.pb().function[fi];
        let name = i64::from(self.known_string(p, maps, src.name)?);
        let system_name = i64::from(self.known_string(p, maps, src.system_name)?);
        let filename = i64::from(self.known_string(p, maps, src.filename)?);
        let i = self.find_function(name, system_name, filename, src.start_line)?;
        maps.functions[fi] = u64::from(i) + 1;
        Some(u64::from(i) + 1)
    }

    /// The merged mapping (id, address shift) equal to the input's mapping at position `mi`, if the catalog has it;
    /// adds nothing (a found one is kept in `maps.mappings`: it is what [`Catalog::map_mapping`] would return).
    fn known_mapping(&self, p: &Profile, maps: &mut InputMaps, mi: usize) -> Option<(u64, u64)> {
        if let Some(m) = maps.mappings[mi] {
            return Some(m);
        }
        let src = &p.pb().mapping[mi];
        let file = self.known_string(p, maps, src.filename)?;
        let build_id = self.known_string(p, maps, src.build_id)?;
        let id = *self.mapping_keys.get(&mapping_key(src, file, build_id))?;
        let m = (
            id,
            self.mappings[id as usize - 1]
                .memory_start
                .wrapping_sub(src.memory_start),
        );
        maps.mappings[mi] = Some(m);
        Some(m)
    }

    /// Looks up, before the samples, which of the input's strings, functions and then locations the catalog already
    /// holds, each in the order the input lists them, and notes their merged ids in `maps` (`known` for locations);
    /// [`Catalog::map_location`] then takes them from there. This adds nothing to the catalog, so ids are numbered
    /// as before (in the order samples first use new ones), but the lookups read the input's tables in order,
    /// hashes first and the index's slots fetched ahead, where the samples' order makes each lookup wait on memory.
    /// Snapshots of one program are mostly made of such known entries. The location pass stops early when few of the
    /// first locations have known functions and mappings (another program); strings found or not are what
    /// interning needs anyway.
    fn find_known_locations(&mut self, p: &Profile, maps: &mut InputMaps) {
        const PROBE: usize = 2048;
        const AHEAD: usize = 8;
        // Strings and then functions the same way, in the input's order: all hashes first, then the lookups, with
        // the index's slots fetched ahead.
        let strs = &p.pb().string_table;
        let hashes: Vec<u64> = strs.iter().map(|s| string_hash(s)).collect();
        for (i, s) in strs.iter().enumerate() {
            if let Some(&h) = hashes.get(i + AHEAD) {
                self.string_index.prefetch(h);
            }
            if maps.strings[i] == UNMAPPED {
                let strings = &self.strings;
                let found = self.string_index.find(hashes[i], |id| strings[id as usize] == *s);
                maps.strings[i] = found.unwrap_or(ABSENT);
            }
        }
        let fns = &p.pb().function;
        let hashes: Vec<Option<u64>> = fns
            .iter()
            .map(|f| {
                let name = i64::from(self.known_string(p, maps, f.name)?);
                let system_name = i64::from(self.known_string(p, maps, f.system_name)?);
                let filename = i64::from(self.known_string(p, maps, f.filename)?);
                Some(function_hash(name, system_name, filename, f.start_line))
            })
            .collect();
        for fi in 0..fns.len() {
            if let Some(Some(h)) = hashes.get(fi + AHEAD) {
                self.function_index.prefetch(*h);
            }
            if hashes[fi].is_some() {
                self.known_function(p, maps, fi);
            }
        }
        let locs = &p.pb().location;
        // Each location's key in merged ids and its hash, found once: (hash, mapping id, relative address) and its
        // lines, `lines[line_end[li]..line_end[li + 1]]` (none when it has no key).
        let mut keys: Vec<Option<(u64, u64, u64)>> = vec![None; locs.len()];
        let mut lines: Vec<pb::Line> = Vec::new();
        let mut line_end: Vec<usize> = Vec::with_capacity(locs.len() + 1);
        line_end.push(0);
        let mut line = std::mem::take(&mut self.scratch_lines);
        let mut keyed = 0usize;
        for (li, src) in locs.iter().enumerate() {
            if li == PROBE && keyed < PROBE / 8 {
                break;
            }
            if let Some((mapping_id, rel)) = self.known_key(p, maps, src, &mut line) {
                keys[li] = Some((location_hash(mapping_id, rel, src.is_folded, &line), mapping_id, rel));
                lines.extend_from_slice(&line);
                keyed += 1;
            }
            line_end.push(lines.len());
        }
        let mut known = vec![0u32; locs.len()];
        for (li, src) in locs.iter().enumerate() {
            if let Some(Some((h, _, _))) = keys.get(li + AHEAD) {
                self.location_index.prefetch(*h);
            }
            let Some((h, mapping_id, rel)) = keys[li] else { continue };
            let line = &lines[line_end[li]..line_end[li + 1]];
            if let Some(i) = self.find_location(h, mapping_id, rel, src.is_folded, line) {
                known[li] = i + 1;
                // Straight into the table by id too, so that the samples' first use of it is a cheap one.
                if i + 1 < PENDING
                    && let Some(slot) = maps.by_id.get_mut(src.id as usize)
                {
                    *slot = (i + 1) | PENDING;
                    if maps.pending_mapping.is_empty() {
                        maps.pending_mapping = vec![NO_MAPPING; maps.by_id.len()];
                    }
                    maps.pending_mapping[src.id as usize] =
                        p.mapping_index(src.mapping_id).map_or(NO_MAPPING, |mi| mi as u32);
                }
            }
        }
        self.scratch_lines = line;
        maps.known = known;
    }

    /// A location's key in merged ids, its lines in `line`: (mapping id, address relative to the mapping's start);
    /// `None` when its mapping or one of its functions is not in the catalog.
    fn known_key(
        &self,
        p: &Profile,
        maps: &mut InputMaps,
        src: &pb::Location,
        line: &mut Vec<pb::Line>,
    ) -> Option<(u64, u64)> {
        let (mapping_id, shift) = match p.mapping_index(src.mapping_id) {
            Some(mi) => self.known_mapping(p, maps, mi)?,
            None => (0, 0),
        };
        line.clear();
        for ln in &src.line {
            let function_id = match p.function_index(ln.function_id) {
                Some(fi) => self.known_function(p, maps, fi)?,
                None => 0,
            };
            line.push(pb::Line {
                function_id,
                line: ln.line,
                column: ln.column,
            });
        }
        let start = if mapping_id == 0 {
            0
        } else {
            self.mappings[mapping_id as usize - 1].memory_start
        };
        Some((mapping_id, src.address.wrapping_add(shift).wrapping_sub(start)))
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
        if let Some(&k) = maps.known.get(li)
            && k != 0
        {
            // Found before the samples: the same id as the search below would find, without the search.
            let id = u64::from(k);
            maps.locations[li] = id;
            return id;
        }
        let address = src.address.wrapping_add(shift);
        let start = if mapping_id == 0 {
            0
        } else {
            self.mappings[mapping_id as usize - 1].memory_start
        };
        let mut line = std::mem::take(&mut self.scratch_lines);
        line.clear();
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
        let h = location_hash(mapping_id, rel, src.is_folded, &line);
        let found = self.find_location(h, mapping_id, rel, src.is_folded, &line);
        let id = match found {
            Some(i) => i as u64 + 1,
            None => {
                let id = self.locations.len() as u64 + 1;
                self.locations.push(pb::Location {
                    id,
                    mapping_id,
                    address,
                    line: line.clone(),
                    is_folded: src.is_folded,
                });
                self.location_index.push(h);
                id
            }
        };
        self.scratch_lines = line;
        maps.locations[li] = id;
        id
    }

    /// The merged id of the input's location `id`, from `by_id` (the input's table by id, when its ids are dense)
    /// or else mapped; `missing` notes the first id the input lacks (0 is returned for it).
    #[inline(always)]
    fn merged_location(
        &mut self,
        p: &Profile,
        maps: &mut InputMaps,
        by_id: &mut [u32],
        id: u64,
        missing: &mut Option<u64>,
    ) -> u32 {
        match by_id.get(id as usize) {
            // Mapped already: neither 0 nor marked PENDING.
            Some(&m) if m.wrapping_sub(1) < PENDING - 1 => m,
            _ => self.map_location_id(p, maps, by_id, id, missing),
        }
    }

    /// [`Catalog::merged_location`] when `by_id` does not have it yet.
    #[inline(never)]
    fn map_location_id(
        &mut self,
        p: &Profile,
        maps: &mut InputMaps,
        by_id: &mut [u32],
        id: u64,
        missing: &mut Option<u64>,
    ) -> u32 {
        if let Some(slot) = by_id.get_mut(id as usize)
            && *slot & PENDING != 0
        {
            // Known before the samples: what map_location would do for it, without finding it again.
            let m = *slot & !PENDING;
            let mi = maps.pending_mapping[id as usize];
            if mi != NO_MAPPING && !maps.flags_done[mi as usize] {
                let mi = mi as usize;
                maps.flags_done[mi] = true;
                let (merged, _) = self.map_mapping(p, maps, mi);
                self.combine_flags(merged, &p.pb().mapping[mi]);
            }
            *slot = m;
            return m;
        }
        let Some(li) = p.location_index(id) else {
            missing.get_or_insert(id);
            return 0;
        };
        // Merged ids fit: they are numbered by a `HashIndex`, whose ids are u32.
        let m = self.map_location(p, maps, li) as u32;
        if let Some(slot) = by_id.get_mut(id as usize) {
            *slot = m;
        }
        m
    }

    /// Reconciles `p`'s sample and period types with the merged ones (pprof's `CompatibilizeSampleTypes` and
    /// `ScaleProfiles`, done incrementally): returns, per merged column, the input column it comes from and the
    /// factor its values are multiplied by. Merged columns `p` lacks are dropped, and a finer unit in `p` rescales
    /// what was merged so far (by an exact integer factor: pprof scales every profile to the finest unit); both are
    /// added to `ops`, for the sample table.
    fn reconcile_types(&mut self, p: &Profile, name: &str, ops: &mut Vec<ColumnOp>) -> Result<(Vec<usize>, Vec<f64>)> {
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
                Some(r) => in_types
                    .iter()
                    .copied()
                    .filter(|(t, _)| r.iter().any(|x| x == t))
                    .collect(),
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
        let merged: Vec<String> = self
            .types
            .iter()
            .map(|(t, _)| self.strings[*t as usize].clone())
            .collect();
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
            let kept: Vec<usize> = (0..keep.len()).filter(|&j| keep[j].is_some()).collect();
            self.types = kept.iter().map(|&j| self.types[j]).collect();
            ops.push(ColumnOp::Keep(kept));
        }
        // Period type: same name, units of one kind; the period in the finer unit, the largest kept.
        let (mt, mu) = (
            self.strings[self.period_type.0 as usize].clone(),
            self.strings[self.period_type.1 as usize].clone(),
        );
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
                ops.push(ColumnOp::Scale(j, up));
                self.types[j].1 = self.intern(iu);
                ratios.push(1.0);
            } else {
                ratios.push(r);
            }
        }
        Ok((cols, ratios))
    }

    /// The default sample type pprof ends up with: each input's own, or (when its types had to be reduced or
    /// reordered) its own if still present, else the first common type; the first non-empty one wins.
    fn default_type(&self) -> String {
        let common: Vec<&str> = self
            .types
            .iter()
            .map(|(t, _)| self.strings[*t as usize].as_str())
            .collect();
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

    /// The merged message around `sample`.
    pub(super) fn into_pb(mut self, sample: Vec<pb::Sample>) -> pb::Profile {
        let dflt = self.default_type();
        let default_sample_type = if dflt.is_empty() { 0 } else { self.intern(&dflt) as i64 };
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
        format!(
            "{name}: profiles have empty common sample type list (it has [{}])",
            list(theirs)
        )
    } else {
        format!(
            "{name}: profiles have empty common sample type list ([{}] vs [{}] before it)",
            list(theirs),
            list(ours)
        )
    };
    Error::new(ErrorKind::Usage, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ops::{AddOptions, Merger};
    use crate::profile::{LoadOptions, decode_bytes};

    fn load(name: &str) -> Profile {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/compare")
            .join(name);
        decode_bytes(&std::fs::read(path).unwrap(), &LoadOptions::default()).unwrap()
    }

    fn translate(c: &mut Catalog, p: &Profile) {
        c.translate(p, "test", &AddOptions::default(), &mut |b| b, |f| {
            for s in &p.pb().sample {
                f(Frames::Wide(&s.location_id), &s.value, &s.label)?;
            }
            Ok(())
        })
        .unwrap();
    }

    /// What a location is, in names: its address and its lines' function names, files and line numbers.
    fn described(functions: &[pb::Function], str: impl Fn(i64) -> String, l: &pb::Location) -> String {
        let mut d = format!("{:#x}", l.address);
        for ln in &l.line {
            let f = &functions[ln.function_id as usize - 1];
            d += &format!(" {}@{}:{}", str(f.name), str(f.filename), ln.line);
        }
        d
    }

    #[test]
    fn known_locations_are_the_same_locations() {
        // Two snapshots of one Go process, then a profile of another program.
        let (t0, t1, other) = (
            load("heap-rate1.t0.pb.gz"),
            load("heap-rate1.t1.pb.gz"),
            load("other-heapdemo-rate1.pb.gz"),
        );
        let mut c = Catalog::new(None);
        translate(&mut c, &t0);
        let mut counts = Vec::new();
        for p in [&t1, &t0, &other] {
            let mut maps = InputMaps::new(p.pb());
            c.find_known_locations(p, &mut maps);
            let mut found = 0;
            for (li, &k) in maps.known.iter().enumerate() {
                if k == 0 {
                    continue;
                }
                found += 1;
                let theirs = described(&p.pb().function, |i| p.str(i).to_string(), &p.pb().location[li]);
                let ours = described(
                    &c.functions,
                    |i| c.strings[i as usize].clone(),
                    &c.locations[k as usize - 1],
                );
                assert_eq!(theirs, ours);
            }
            // Every location the samples use (those with a value) is found, or else added after: none is missed.
            let mut used = vec![false; p.pb().location.len()];
            for s in p.pb().sample.iter().filter(|s| s.value.iter().any(|&v| v != 0)) {
                for &id in &s.location_id {
                    used[p.location_index(id).unwrap()] = true;
                }
            }
            let found_used = (0..used.len()).filter(|&i| used[i] && maps.known[i] != 0).count();
            let before = c.locations.len();
            translate(&mut c, p);
            let added = c.locations.len() - before;
            assert_eq!(found_used + added, used.iter().filter(|&&u| u).count());
            assert!(found >= found_used);
            counts.push((found, added));
        }
        // The later snapshot shares some of its stacks with the first; the first again is all known; the other
        // program, built apart (its own build ID: another mapping), shares nothing.
        assert!(counts[0].0 > 0 && counts[0].1 > 0, "{counts:?}");
        assert_eq!(counts[1], (t0.pb().location.len(), 0));
        assert_eq!(counts[2].0, 0, "{counts:?}");
    }

    #[test]
    fn finding_known_locations_first_changes_nothing_but_time() {
        let names = [
            "heap-rate1.t0.pb.gz",
            "heap-rate1.t1.pb.gz",
            "heap-rate1.t2.pb.gz",
            "other-heapdemo-rate1.pb.gz",
        ];
        let merged = |no_known: bool| {
            let mut m = Merger::new();
            m.catalog.no_known = no_known;
            for n in names {
                m.add(&load(n), n, &AddOptions::default()).unwrap();
            }
            m.finish_encoded().unwrap().pieces.concat()
        };
        assert_eq!(merged(false), merged(true));
    }

    /// Each sample by what it is, in names (its frames' relative addresses and lines, its labels), with its values
    /// summed, in order of first appearance; samples whose values are all zero are left out.
    fn summed_by_name(profiles: &[&Profile]) -> Vec<(String, Vec<i64>)> {
        let mut order: Vec<(String, Vec<i64>)> = Vec::new();
        let mut at = HashMap::new();
        for p in profiles {
            let pb = p.pb();
            for s in pb.sample.iter().filter(|s| s.value.iter().any(|&v| v != 0)) {
                let mut key = String::new();
                for &id in &s.location_id {
                    let l = &pb.location[p.location_index(id).unwrap()];
                    let start = pb
                        .mapping
                        .iter()
                        .find(|m| m.id == l.mapping_id)
                        .map_or(0, |m| m.memory_start);
                    key += &format!("{:#x}", l.address - start);
                    for ln in &l.line {
                        let f = pb.function.iter().find(|f| f.id == ln.function_id).unwrap();
                        key += &format!(" {}:{}", p.str(f.name), ln.line);
                    }
                    key += ";";
                }
                let mut labels: Vec<String> = s
                    .label
                    .iter()
                    .map(|l| format!("{}={}{}{}", p.str(l.key), p.str(l.str), l.num, p.str(l.num_unit)))
                    .collect();
                labels.sort();
                key += &labels.join(",");
                let i = *at.entry(key.clone()).or_insert_with(|| {
                    order.push((key, vec![0; s.value.len()]));
                    order.len() - 1
                });
                for (d, v) in order[i].1.iter_mut().zip(&s.value) {
                    *d += v;
                }
            }
        }
        order
    }

    /// Samples go to the table a batch at a time: equal samples in different batches of one input, and of two
    /// inputs, still add up, in order of first appearance.
    #[test]
    fn samples_add_up_across_batches() {
        let (t0, t1) = (load("heap-rate1.t0.pb.gz"), load("heap-rate1.t1.pb.gz"));
        // t0's samples round after round, each round's values times its number: several batches, each sample
        // again in the next ones.
        let mut big = t0.pb().clone();
        let n = big.sample.len();
        let rounds = (3 * BATCH_SAMPLES).div_ceil(n) + 1;
        big.sample = (0..rounds * n)
            .map(|i| {
                let mut s = t0.pb().sample[i % n].clone();
                s.value.iter_mut().for_each(|v| *v *= (i / n + 1) as i64);
                s
            })
            .collect();
        let big = Profile::new(big).unwrap();
        assert!(big.pb().sample.len() > 3 * BATCH_SAMPLES);
        let mut m = Merger::new();
        m.add(&big, "big", &AddOptions::default()).unwrap();
        m.add(&t1, "t1", &AddOptions::default()).unwrap();
        let merged = m.finish().unwrap();
        let want = summed_by_name(&[&big, &t1]);
        assert_eq!(summed_by_name(&[&merged]), want);
        // As many merged samples as different ones, each once.
        assert_eq!(merged.pb().sample.len(), want.len());
        // The pipeline, whose batches go to another thread and come back emptied, merges the same.
        let inputs = [big, t1];
        let piped = crate::profile::ops::merge_pipelined(2, Ok, |i, _| {
            Ok((
                i.to_string(),
                crate::profile::MergeInput::from_profile(inputs[i].clone()),
            ))
        })
        .unwrap()
        .finish()
        .unwrap();
        assert_eq!(piped.pb(), merged.pb());
    }

    /// A location found known before the samples still combines its mapping's symbol flags into the merged
    /// mapping's, at its first use by a sample, as pprof does; and not at all when no sample uses it.
    #[test]
    fn known_locations_combine_mapping_flags_at_first_use_only() {
        let t0 = load("heap-rate1.t0.pb.gz");
        assert!(t0.pb().mapping[0].has_functions);
        let mut t1 = load("heap-rate1.t1.pb.gz").pb().clone();
        for m in &mut t1.mapping {
            m.has_functions = false;
        }
        let used = Profile::new(t1.clone()).unwrap();
        t1.sample.clear();
        let unused = Profile::new(t1).unwrap();
        for (second, want) in [(&used, false), (&unused, true)] {
            let merged = |no_known: bool| {
                let mut m = Merger::new();
                m.catalog.no_known = no_known;
                m.add(&t0, "t0", &AddOptions::default()).unwrap();
                m.add(second, "t1", &AddOptions::default()).unwrap();
                m.finish().unwrap()
            };
            let (found_first, mapped_one_by_one) = (merged(false), merged(true));
            assert_eq!(found_first.pb(), mapped_one_by_one.pb());
            assert_eq!(found_first.pb().mapping[0].has_functions, want);
        }
    }

    /// The frame hash tells apart what the sample table must not confuse often: order, length (trailing zeros),
    /// ids moved between the lanes. (A collision would cost a comparison, not a wrong sum; this guards the spread.)
    #[test]
    fn frame_hashes_differ_for_different_stacks() {
        let stacks: [&[u32]; 9] = [
            &[],
            &[0],
            &[0, 0],
            &[1],
            &[1, 0],
            &[0, 1],
            &[1, 2, 3],
            &[3, 2, 1],
            &[2, 1, 3],
        ];
        let hashes: Vec<u64> = stacks.iter().map(|s| frames_hash(s)).collect();
        for i in 0..stacks.len() {
            for j in i + 1..stacks.len() {
                assert_ne!(hashes[i], hashes[j], "{:?} vs {:?}", stacks[i], stacks[j]);
            }
        }
        // Stacks of 5-60 frames over 50k ids: no two of 100k different random ones share a hash.
        let mut seed = 11u64;
        let mut stacks = std::collections::HashSet::new();
        while stacks.len() < 100_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let n = 5 + (seed >> 33) as usize % 56;
            let ids: Vec<u32> = (0..n)
                .map(|k| ((seed >> 17).wrapping_mul(k as u64 + 1).wrapping_add(k as u64 * 7919) % 50_000) as u32)
                .collect();
            stacks.insert(ids);
        }
        let hashes: std::collections::HashSet<u64> = stacks.iter().map(|s| frames_hash(s)).collect();
        assert_eq!(hashes.len(), stacks.len());
    }
}
