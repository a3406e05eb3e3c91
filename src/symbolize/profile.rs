//! Symbolizing a whole profile: every location of every mapping that has a binary is resolved once, and the
//! answers either replace the locations' lines (`symbolize`, `top`/`sites` with binaries) or are shown next to
//! them (`addrs`).
//!
//! Follows google/pprof's local symbolization: mappings that already carry symbols are skipped unless forced;
//! pseudo mappings (`[vdso]`, …) are never symbolized; a non-empty frame list replaces `Location.line`
//! (innermost first) and clears `is_folded` (an address the binary does not name gets one empty frame, as pprof's
//! `??`); functions are deduplicated by (name, system name, file, start line);
//! the mapping flags are set from what was found. Nothing else changes: sample values, labels, comments, period,
//! time and runtime addresses are kept.

use std::collections::HashMap;
use std::sync::Arc;

use super::{MappingInfo, Resolved, ResolvedBatch, Symbolizer};
use crate::addr::{FileOffset, RuntimeAddr};
pub use crate::answer::{LocationAnswer, MappingStatus, Resolution};
use crate::error::{Result, Warning};
use crate::profile::names::{DemangleMode, profile_name};
use crate::profile::{Profile, pb};

impl Resolution {
    /// Locations that were looked up and got at least one frame.
    pub fn symbolized_count(&self) -> usize {
        self.locations
            .iter()
            .filter(|a| matches!(a, LocationAnswer::Resolved(r) if !r.frames.is_empty()))
            .count()
    }

    /// Locations in mappings that needed symbols but got none (no binary, failed lookups, no frames).
    pub fn unsymbolized_count(&self, p: &Profile) -> usize {
        p.pb()
            .location
            .iter()
            .zip(&self.locations)
            .filter(|(loc, a)| match a {
                LocationAnswer::Resolved(r) => r.frames.is_empty(),
                LocationAnswer::Failed(_) => true,
                LocationAnswer::Skipped => skipped_needs_symbols(p, &self.mappings, loc),
            })
            .count()
    }
}

fn has_symbols(m: &pb::Mapping) -> bool {
    m.has_functions || m.has_filenames || m.has_line_numbers
}

/// Looks up every location of every symbolizable mapping. With `force`, mappings that already carry symbols are
/// looked up too (as pprof's `-symbolize=force`).
pub fn resolve_profile(p: &Profile, sym: &mut Symbolizer, force: bool) -> Resolution {
    let b = resolve_batches(p, sym, force);
    let mut locations = vec![LocationAnswer::Skipped; p.pb().location.len()];
    for (lis, batch) in &b.batches {
        for (i, &li) in lis.iter().enumerate() {
            locations[li] = match batch.get(i) {
                Ok(r) => LocationAnswer::Resolved(Box::new(r)),
                Err(e) => LocationAnswer::Failed(e.to_string()),
            };
        }
    }
    Resolution {
        locations,
        mappings: b.mappings,
        warnings: b.warnings,
    }
}

/// The lookups of [`resolve_profile`], kept as compact batches (one per looked-up mapping) instead of one
/// [`Resolved`] per location.
struct Batches {
    mappings: Vec<MappingStatus>,
    warnings: Vec<Warning>,
    /// Per looked-up mapping: its locations (indexes into `pb().location`) and their answers, in that order.
    batches: Vec<(Vec<usize>, ResolvedBatch)>,
}

/// The symbolizer's view of mapping `mi`.
fn mapping_info<'a>(p: &'a Profile, mi: usize, m: &pb::Mapping) -> MappingInfo<'a> {
    let first = &p.pb().mapping[0];
    MappingInfo {
        start: RuntimeAddr(m.memory_start),
        limit: RuntimeAddr(m.memory_limit),
        offset: FileOffset(m.file_offset),
        filename: p.str(m.filename),
        build_id: p.str(m.build_id),
        // pprof's main binary is the first mapping's file; other mappings of that same file (one per segment,
        // as jemalloc_pprof writes them) are the main binary too.
        is_main: mi == 0 || (m.filename == first.filename && m.build_id == first.build_id),
    }
}

fn resolve_batches(p: &Profile, sym: &mut Symbolizer, force: bool) -> Batches {
    let pb = p.pb();
    let mut locs_of: Vec<Vec<usize>> = vec![Vec::new(); pb.mapping.len()];
    for (li, loc) in pb.location.iter().enumerate() {
        if let Some(mi) = p.mapping_index(loc.mapping_id) {
            locs_of[mi].push(li);
        }
    }
    let mut mappings = Vec::with_capacity(pb.mapping.len());
    let mut warnings = Vec::new();
    let mut batches = Vec::new();
    let mut used = Vec::new();
    let info_of = |mi: usize, m: &pb::Mapping| mapping_info(p, mi, m);
    // Find every binary first, so that those fetched from debuginfod are fetched together.
    let wanted: Vec<MappingInfo> = pb
        .mapping
        .iter()
        .enumerate()
        .filter(|&(mi, m)| !locs_of[mi].is_empty() && (force || !has_symbols(m)))
        .map(|(mi, m)| info_of(mi, m))
        .collect();
    sym.prepare(&wanted);
    drop(wanted);
    for (mi, m) in pb.mapping.iter().enumerate() {
        if locs_of[mi].is_empty() {
            mappings.push(MappingStatus::Unused);
            continue;
        }
        if !force && has_symbols(m) {
            mappings.push(MappingStatus::AlreadySymbolized);
            continue;
        }
        let info = info_of(mi, m);
        if info.is_unsymbolizable() {
            mappings.push(MappingStatus::Unsymbolizable);
            continue;
        }
        let Some(h) = sym.binary_for(&info) else {
            mappings.push(MappingStatus::NoBinary);
            continue;
        };
        let lis = std::mem::take(&mut locs_of[mi]);
        let addrs: Vec<RuntimeAddr> = lis.iter().map(|&li| RuntimeAddr(pb.location[li].address)).collect();
        let batch = sym.resolve_batch(h, &info, &addrs);
        let failures: Vec<usize> = (0..batch.len()).filter(|&i| batch.frame_count(i).is_none()).collect();
        if let Some(&first) = failures.first() {
            let first = batch.get(first).err().map(|e| e.to_string()).unwrap_or_default();
            warnings.push(Warning::LookupFailed {
                file: info.filename.to_string(),
                failed: failures.len(),
                of: lis.len(),
                first,
            });
        }
        mappings.push(MappingStatus::Symbolized {
            binary: sym.binary(h).path().display().to_string(),
            build_id: sym.binary(h).build_id().unwrap_or("").to_string(),
            located: Box::new(sym.located(h).clone()),
        });
        batches.push((lis, batch));
        used.push(h);
    }
    warnings.splice(0..0, sym.take_warnings());
    // Split-DWARF parts that were missing or did not match (those units fell back to their skeletons), once per
    // binary even when several mappings share it.
    let mut seen = std::collections::HashSet::new();
    for h in used {
        if seen.insert(h) {
            warnings.extend(sym.elf(h).split_dwarf_warnings().into_iter().map(Warning::SplitDwarf));
        }
    }
    Batches {
        mappings,
        warnings,
        batches,
    }
}

/// Finds the binary of every mapping of `p` as [`resolve_profile`] would, without looking anything up: per
/// mapping [`MappingStatus::Symbolized`] (the file and where it came from), [`MappingStatus::NoBinary`] (the
/// symbolizer's warnings say why) or [`MappingStatus::Unsymbolizable`] (pseudo mappings).
pub fn locate_mappings(p: &Profile, sym: &mut Symbolizer) -> Vec<MappingStatus> {
    let pb = p.pb();
    let infos: Vec<MappingInfo> = pb
        .mapping
        .iter()
        .enumerate()
        .map(|(mi, m)| mapping_info(p, mi, m))
        .collect();
    sym.prepare(&infos);
    infos
        .iter()
        .map(|m| {
            if m.is_unsymbolizable() {
                return MappingStatus::Unsymbolizable;
            }
            match sym.binary_for(m) {
                Some(h) => MappingStatus::Symbolized {
                    binary: sym.binary(h).path().display().to_string(),
                    build_id: sym.binary(h).build_id().unwrap_or("").to_string(),
                    located: Box::new(sym.located(h).clone()),
                },
                None => MappingStatus::NoBinary,
            }
        })
        .collect()
}

/// Writes the answers of `res` into `p` with pprof's default short C++ names; see [`apply_with`].
pub fn apply(p: Profile, res: &Resolution) -> Result<Profile> {
    apply_with(p, res, DemangleMode::Short)
}

/// Writes the answers of `res` into `p`: lines, functions (names per `mode`, raw linkage name as system name),
/// mapping flags. Returns the new, validated profile.
pub fn apply_with(p: Profile, res: &Resolution, mode: DemangleMode) -> Result<Profile> {
    let answers = res.locations.iter().map(|a| match a {
        LocationAnswer::Resolved(r) => Some(&**r),
        _ => None,
    });
    apply_answers(p, answers, mode)
}

/// The body of [`apply_with`] and [`symbolize`]: `answers` has one item per location, in order.
fn apply_answers<R: std::ops::Deref<Target = Resolved>>(
    p: Profile,
    answers: impl Iterator<Item = Option<R>>,
    mode: DemangleMode,
) -> Result<Profile> {
    let mut pb = p.into_pb();
    let mut strings: HashMap<String, i64> = HashMap::with_capacity(pb.string_table.len());
    for (i, s) in pb.string_table.iter().enumerate() {
        strings.entry(s.clone()).or_insert(i as i64);
    }
    let mut intern = |table: &mut Vec<String>, s: &str| -> i64 {
        if let Some(&i) = strings.get(s) {
            return i;
        }
        let i = table.len() as i64;
        table.push(s.to_string());
        strings.insert(s.to_string(), i);
        i
    };
    // The answers share their strings (`Arc<str>` per function, file and symbol), so most
    // are interned by pointer: one hash of a word instead of hashing and copying the text.
    // Equal texts behind different pointers still meet in `strings`.
    let ptr = |a: &Arc<str>| Arc::as_ptr(a).cast::<u8>() as usize;
    let mut by_ptr: HashMap<usize, i64> = HashMap::new();
    let mut names: HashMap<(usize, usize), i64> = HashMap::new();
    let mut next_fn = pb.function.iter().map(|f| f.id).max().unwrap_or(0) + 1;
    let mut functions: HashMap<(i64, i64, i64, i64), u64> = HashMap::new();
    let mut flags: Vec<[bool; 4]> = vec![[false; 4]; pb.mapping.len()];
    let mapping_pos: HashMap<u64, usize> = pb.mapping.iter().enumerate().map(|(i, m)| (m.id, i)).collect();

    for (li, answer) in answers.enumerate() {
        let Some(r) = answer else { continue };
        if r.frames.is_empty() && r.segment.is_none() && r.section.is_none() {
            // The address lies outside every segment and section of the binary (a PIE's runtime address under a
            // mapping that starts at 0, as in Go's debug=1 texts): it was not placed in the binary, so the
            // location keeps what it had (pprof leaves such a mapping alone too).
            continue;
        }
        let mut lines = Vec::with_capacity(r.frames.len().max(1));
        let mut f = [false; 4];
        if r.frames.is_empty() {
            // The binary was found and the address placed in it, but nothing names it: as in pprof (whose
            // llvm-symbolizer answers `??`), the location gets one frame with no name, file or line, shown as
            // `[libc.so.6]`.
            let empty = intern(&mut pb.string_table, "");
            let id = *functions.entry((empty, empty, empty, 0)).or_insert_with(|| {
                let id = next_fn;
                next_fn += 1;
                pb.function.push(pb::Function {
                    id,
                    name: empty,
                    system_name: empty,
                    filename: empty,
                    start_line: 0,
                });
                id
            });
            lines.push(pb::Line {
                function_id: id,
                line: 0,
                column: 0,
            });
        }
        for fr in &r.frames {
            let name = *names
                .entry((ptr(&fr.system_name), ptr(&fr.function)))
                .or_insert_with(|| intern(&mut pb.string_table, &profile_name(&fr.system_name, &fr.function, mode)));
            let system = *by_ptr
                .entry(ptr(&fr.system_name))
                .or_insert_with(|| intern(&mut pb.string_table, &fr.system_name));
            let file = *by_ptr
                .entry(ptr(&fr.file))
                .or_insert_with(|| intern(&mut pb.string_table, &fr.file));
            let key = (name, system, file, fr.start_line as i64);
            let id = *functions.entry(key).or_insert_with(|| {
                let id = next_fn;
                next_fn += 1;
                pb.function.push(pb::Function {
                    id,
                    name,
                    system_name: system,
                    filename: file,
                    start_line: fr.start_line as i64,
                });
                id
            });
            f[0] |= !fr.function.is_empty();
            f[1] |= !fr.file.is_empty();
            f[2] |= fr.line != 0;
            lines.push(pb::Line {
                function_id: id,
                line: fr.line as i64,
                column: fr.column as i64,
            });
        }
        f[3] = true;
        let loc = &mut pb.location[li];
        loc.line = lines;
        loc.is_folded = false;
        if let Some(&mi) = mapping_pos.get(&loc.mapping_id) {
            for (a, b) in flags[mi].iter_mut().zip(f) {
                *a |= b;
            }
        }
    }
    for (m, f) in pb.mapping.iter_mut().zip(flags) {
        m.has_functions |= f[0];
        m.has_filenames |= f[1];
        m.has_line_numbers |= f[2];
        m.has_inline_frames |= f[3];
    }
    Profile::new(pb)
}

/// The result of [`symbolize`].
#[derive(Debug)]
pub struct Symbolized {
    /// The profile with lines and functions filled in.
    pub profile: Profile,
    /// Soft problems (missing binaries, build-ID mismatches, failed lookups).
    pub warnings: Vec<Warning>,
    /// Locations that got frames.
    pub symbolized: usize,
    /// Locations that needed frames and got none.
    pub unsymbolized: usize,
}

/// Looks up every location of `p` (see [`resolve_profile`]) and writes the answers in (see [`apply_with`]). Each
/// answer is made from the compact lookups only when its location is written, so the answers are never all held
/// as [`Resolved`] values.
pub fn symbolize(p: Profile, sym: &mut Symbolizer, force: bool, mode: DemangleMode) -> Result<Symbolized> {
    let b = resolve_batches(&p, sym, force);
    // Where each location's answer is: (batch, position).
    let mut at: Vec<Option<(u32, u32)>> = vec![None; p.pb().location.len()];
    let mut symbolized = 0;
    let mut failed_or_empty = vec![false; at.len()];
    for (bi, (lis, batch)) in b.batches.iter().enumerate() {
        for (i, &li) in lis.iter().enumerate() {
            at[li] = Some((bi as u32, i as u32));
            match batch.frame_count(i) {
                Some(n) if n > 0 => symbolized += 1,
                _ => failed_or_empty[li] = true,
            }
        }
    }
    let unsymbolized = p
        .pb()
        .location
        .iter()
        .enumerate()
        .filter(|&(li, loc)| match at[li] {
            Some(_) => failed_or_empty[li],
            None => skipped_needs_symbols(&p, &b.mappings, loc),
        })
        .count();
    drop(failed_or_empty);
    let answers = at.into_iter().map(|w| {
        let (bi, i) = w?;
        b.batches[bi as usize].1.get(i as usize).ok().map(Box::new)
    });
    let profile = apply_answers(p, answers, mode)?;
    Ok(Symbolized {
        profile,
        warnings: b.warnings.clone(),
        symbolized,
        unsymbolized,
    })
}

/// A location that was not looked up but needed symbols: no lines, and its mapping had no binary or was
/// symbolized (the location itself was skipped for another reason).
fn skipped_needs_symbols(p: &Profile, mappings: &[MappingStatus], loc: &pb::Location) -> bool {
    loc.line.is_empty()
        && p.mapping_index(loc.mapping_id)
            .is_none_or(|i| matches!(mappings[i], MappingStatus::NoBinary | MappingStatus::Symbolized { .. }))
}
