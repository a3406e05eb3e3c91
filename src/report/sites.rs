//! The `sites` report: one row per allocation site — the first frame above the allocator and runtime frames —
//! with inuse and alloc space and objects side by side.

use std::collections::HashMap;

use regex::Regex;
use serde::Serialize;

use super::frames::FrameFilter;
use super::graph::tags::{TagFilter, num_label_units};
use crate::error::{Error, ErrorKind, Result};
use crate::profile::Profile;

/// Allocator and runtime frames: pprof's legacy heap `drop_frames` list, extended with jemalloc's internals and the
/// C++ / Rust standard-library frames that sit between user code and the allocator.
const ALLOC_DROP: &str = concat!(
    r"calloc|cfree|malloc|free|memalign|do_memalign|(__)?posix_memalign|pvalloc|valloc|realloc|",
    r"aligned_alloc|sdallocx|mallocx|rallocx|xallocx|",
    r"tcmalloc::.*|tc_calloc|tc_cfree|tc_malloc|tc_free|tc_memalign|tc_posix_memalign|tc_pvalloc|tc_valloc|",
    r"tc_realloc|tc_new|tc_delete|tc_newarray|tc_deletearray|tc_new_nothrow|tc_newarray_nothrow|",
    r"malloc_zone_malloc|malloc_zone_calloc|malloc_zone_valloc|malloc_zone_realloc|malloc_zone_memalign|",
    r"malloc_zone_free|",
    r"runtime\..*|",
    r"BaseArena::.*|(::)?do_malloc_no_errno|(::)?do_malloc_pages|(::)?do_malloc|DoSampledAllocation|",
    r"MallocedMemBlock::MallocedMemBlock|_M_allocate|__builtin_(vec_)?delete|__builtin_(vec_)?new|",
    r"__gnu_cxx::new_allocator::allocate|__libc_malloc|__malloc_alloc_template::allocate|allocate|cpp_alloc|",
    r"operator new(\[\])?|simple_alloc::allocate|",
    // jemalloc's own frames (prefixed `je_`/`_rjem_` in tikv-jemallocator builds, and its static inline helpers).
    r"je_.*|_rjem_.*|prof_.*|imalloc.*|ialloc.*|iralloc.*|irallocx.*|do_rallocx|isalloc|arena_.*|tcache_.*|",
    // Rust: liballoc's containers and the global allocator shims, so the site is the user's code.
    // (and the C++ standard library / Rust core and alloc plumbing between the user's code and the allocator).
    r"<?alloc::.*|<?core::.*|<?std::.*|<?hashbrown::.*|__gnu_cxx::.*|",
    r"__rust_alloc|__rust_alloc_zeroed|__rust_realloc|__rustc::.*|__rdl_.*|__rg_.*|",
    r"<.* as <?(alloc|core|std)::.*"
);

/// Source files of language runtimes and allocators: a frame from one of them is never an allocation site
/// (Rust's standard library, libstdc++ headers, jemalloc's internal headers).
const RUNTIME_FILES: &str = concat!(
    r"^/rustc/[0-9a-f]+/library/|/library/(alloc|core|std)/src/|/include/c\+\+/|/jemalloc/internal/|",
    // The Rust allocator crates' GlobalAlloc shims (named `alloc`, `alloc_zeroed` in line-tables-only DWARF).
    r"^/rust/deps/|/(tikv-)?jemallocator-[0-9][^/]*/src/|/(tikv-)?jemalloc-sys-[0-9][^/]*/|/mimalloc-[0-9][^/]*/src/"
);

/// Runtime frames kept even though they match the drop list.
const ALLOC_KEEP: &str = r"runtime\.panic|runtime\.reflectcall|runtime\.call[0-9]*";

/// Whether `file` is an allocator's shared library (`libtcmalloc*.so*`, `libjemalloc*.so*`), whose frames are
/// never allocation sites.
pub fn is_allocator_library(file: &str) -> bool {
    let base = file.rsplit('/').next().unwrap_or(file);
    (base.starts_with("libtcmalloc") || base.starts_with("libjemalloc")) && base.contains(".so")
}

/// Which column orders the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SiteSort {
    /// Inuse space, descending (the default).
    #[default]
    InuseSpace,
    /// Inuse objects, descending.
    InuseObjects,
    /// Alloc space, descending.
    AllocSpace,
    /// Alloc objects, descending.
    AllocObjects,
    /// Average object size, descending.
    AvgSize,
    /// Site name, ascending.
    Name,
}

impl SiteSort {
    /// Parses a `--sort` value.
    pub fn parse(s: &str) -> Option<SiteSort> {
        Some(match s {
            "inuse_space" | "inuse" => SiteSort::InuseSpace,
            "inuse_objects" => SiteSort::InuseObjects,
            "alloc_space" | "alloc" => SiteSort::AllocSpace,
            "alloc_objects" => SiteSort::AllocObjects,
            "avg_size" | "avg" => SiteSort::AvgSize,
            "name" => SiteSort::Name,
            _ => return None,
        })
    }
}

/// The four heap quantities; `None` when the profile lacks that sample type.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct HeapValues {
    /// Bytes live at the last GC (or at dump time).
    pub inuse_space: Option<i64>,
    /// Objects live.
    pub inuse_objects: Option<i64>,
    /// Bytes allocated since the start.
    pub alloc_space: Option<i64>,
    /// Objects allocated since the start.
    pub alloc_objects: Option<i64>,
}

impl HeapValues {
    /// Average object size: inuse space / inuse objects, else alloc space / alloc objects.
    pub fn avg_size(&self) -> Option<i64> {
        let div = |s: Option<i64>, o: Option<i64>| match (s, o) {
            (Some(s), Some(o)) if o != 0 => Some(s / o),
            _ => None,
        };
        div(self.inuse_space, self.inuse_objects).or_else(|| div(self.alloc_space, self.alloc_objects))
    }

    fn add(&mut self, other: &HeapValues) {
        for (a, b) in [
            (&mut self.inuse_space, other.inuse_space),
            (&mut self.inuse_objects, other.inuse_objects),
            (&mut self.alloc_space, other.alloc_space),
            (&mut self.alloc_objects, other.alloc_objects),
        ] {
            if let Some(b) = b {
                *a = Some(a.unwrap_or(0) + b);
            }
        }
    }
}

/// One allocation site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteRow {
    /// Function of the site ("" when unsymbolized).
    pub function: String,
    /// Source file ("" when unknown).
    pub file: String,
    /// Line (0 when unknown).
    pub line: i64,
    /// Address and binary, for unsymbolized sites.
    pub location: String,
    /// The values.
    #[serde(flatten)]
    pub values: HeapValues,
    /// Average object size in bytes.
    pub avg_size: Option<i64>,
}

impl SiteRow {
    /// `function file:line`, or the address form for unsymbolized sites.
    pub fn display_name(&self) -> String {
        if self.function.is_empty() && self.file.is_empty() {
            return self.location.clone();
        }
        let mut s = self.function.clone();
        if !self.file.is_empty() {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&self.file);
            if self.line != 0 {
                s.push_str(&format!(":{}", self.line));
            }
        }
        s
    }
}

/// The report: rows, totals, and which columns exist.
#[derive(Debug, Clone, Serialize)]
pub struct SitesReport {
    /// Sites, in the requested order.
    pub rows: Vec<SiteRow>,
    /// Totals over all samples.
    pub total: HeapValues,
    /// Number of sites before `limit`.
    pub site_count: usize,
}

/// Options for [`sites`].
#[derive(Debug, Clone, Default)]
pub struct SiteOptions {
    /// Row order.
    pub sort: SiteSort,
    /// Keep at most this many rows.
    pub limit: Option<usize>,
    /// Keep only samples whose labels match (pprof's `-tagfocus`); the totals count only the samples kept.
    pub tag_focus: Option<TagFilter>,
    /// Drop samples whose labels match (pprof's `-tagignore`).
    pub tag_ignore: Option<TagFilter>,
}

/// Where each heap quantity sits in the sample values.
#[derive(Debug, Clone, Copy, Default)]
struct Columns {
    inuse_space: Option<usize>,
    inuse_objects: Option<usize>,
    alloc_space: Option<usize>,
    alloc_objects: Option<usize>,
}

fn columns(p: &Profile) -> Columns {
    let names = p.sample_type_names();
    let find = |cands: &[&str]| cands.iter().find_map(|c| names.iter().position(|n| n == c));
    Columns {
        inuse_space: find(&["inuse_space", "space"]),
        inuse_objects: find(&["inuse_objects", "objects"]),
        alloc_space: find(&["alloc_space"]),
        alloc_objects: find(&["alloc_objects"]),
    }
}

/// Computes the allocation sites of a heap profile.
pub fn sites(p: &Profile, opts: &SiteOptions) -> Result<SitesReport> {
    let cols = columns(p);
    if cols.inuse_space.is_none() && cols.alloc_space.is_none() && cols.inuse_objects.is_none() {
        let names = p.sample_type_names().join(", ");
        let msg = format!("not a heap profile: no inuse/alloc space or objects among its sample types ({names})");
        return Err(Error::new(ErrorKind::Usage, msg));
    }
    let pb = p.pb();
    let fn_names = p.display_names();
    // pprof's heap drop list and ours, plus the profile's own drop_frames / keep_frames.
    let frames = FrameFilter::extended(p, ALLOC_DROP, ALLOC_KEEP)?;

    // Per location: the innermost line that is not an allocator/runtime frame (None: all of them are, or the
    // location has no lines).
    static RUNTIME_FILES_RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(RUNTIME_FILES).expect("valid regexp"));
    let runtime_files = &*RUNTIME_FILES_RE;
    let dropped_line = |ln: &crate::profile::pb::Line| {
        p.function_index(ln.function_id).is_some_and(|i| {
            let n = fn_names[i].as_str();
            frames.drops(n) || runtime_files.is_match(p.str(pb.function[i].filename))
        })
    };
    let first_kept: Vec<Option<usize>> = pb
        .location
        .iter()
        .map(|loc| loc.line.iter().position(|ln| !dropped_line(ln)))
        .collect();
    // Locations inside the allocator's own library, named or not (Debian's libjemalloc and libtcmalloc are
    // stripped: their frames have no names to match).
    let in_allocator: Vec<bool> = pb
        .location
        .iter()
        .map(|loc| {
            p.mapping(loc.mapping_id)
                .is_some_and(|m| is_allocator_library(p.str(m.filename)))
        })
        .collect();

    let value = |s: &crate::profile::pb::Sample, c: Option<usize>| c.and_then(|i| s.value.get(i).copied());
    let mut by_site: HashMap<(String, String, i64, String), HeapValues> = HashMap::new();
    let mut total = HeapValues::default();
    let units = if opts.tag_focus.is_some() || opts.tag_ignore.is_some() {
        num_label_units(p)
    } else {
        HashMap::new()
    };
    for s in &pb.sample {
        if opts.tag_focus.as_ref().is_some_and(|t| !t.matches(p, s, &units))
            || opts.tag_ignore.as_ref().is_some_and(|t| t.matches(p, s, &units))
        {
            continue;
        }
        let vals = HeapValues {
            inuse_space: value(s, cols.inuse_space),
            inuse_objects: value(s, cols.inuse_objects),
            alloc_space: value(s, cols.alloc_space),
            alloc_objects: value(s, cols.alloc_objects),
        };
        total.add(&vals);
        if [
            vals.inuse_space,
            vals.inuse_objects,
            vals.alloc_space,
            vals.alloc_objects,
        ]
        .iter()
        .all(|v| v.unwrap_or(0) == 0)
        {
            continue;
        }
        let locs: Vec<usize> = s.location_id.iter().filter_map(|id| p.location_index(*id)).collect();
        // The site: walking from the leaf, the first frame (inline frames included) that is not an allocator or
        // runtime frame; an unsymbolized location stops the walk. A stack of nothing but runtime frames keeps its
        // leaf, as pprof's pruning does.
        let site = locs.iter().find_map(|&li| {
            let loc = &pb.location[li];
            if in_allocator[li] {
                None
            } else if loc.line.is_empty() {
                Some((li, None))
            } else {
                first_kept[li].map(|k| (li, Some(k)))
            }
        });
        let site = site.or_else(|| {
            locs.first()
                .map(|&li| (li, (!pb.location[li].line.is_empty()).then_some(0)))
        });
        let key = match site {
            None => (String::new(), String::new(), 0, "<no stack>".to_string()),
            Some((li, line)) => {
                let loc = &pb.location[li];
                let ln = line.and_then(|k| loc.line.get(k));
                let named = ln
                    .and_then(|ln| p.function_index(ln.function_id).map(|fi| (fi, ln.line)))
                    .filter(|&(fi, _)| !fn_names[fi].is_empty() || !p.str(pb.function[fi].filename).is_empty());
                match named {
                    Some((fi, line)) => (
                        fn_names[fi].clone(),
                        p.str(pb.function[fi].filename).to_string(),
                        line,
                        String::new(),
                    ),
                    None => {
                        let objfile = p.mapping(loc.mapping_id).map_or("", |m| p.str(m.filename));
                        let location = format!("{:#x} [{}]", loc.address, super::graph::basename(objfile));
                        (String::new(), String::new(), 0, location)
                    }
                }
            }
        };
        by_site.entry(key).or_default().add(&vals);
    }

    let mut rows: Vec<SiteRow> = by_site
        .into_iter()
        .map(|((function, file, line, location), values)| SiteRow {
            function,
            file,
            line,
            location,
            avg_size: values.avg_size(),
            values,
        })
        .collect();
    let key = |r: &SiteRow| -> i64 {
        let v = &r.values;
        match opts.sort {
            SiteSort::InuseSpace => v.inuse_space.or(v.alloc_space).unwrap_or(0),
            SiteSort::InuseObjects => v.inuse_objects.unwrap_or(0),
            SiteSort::AllocSpace => v.alloc_space.unwrap_or(0),
            SiteSort::AllocObjects => v.alloc_objects.unwrap_or(0),
            SiteSort::AvgSize => r.avg_size.unwrap_or(0),
            SiteSort::Name => 0,
        }
    };
    rows.sort_by(|a, b| {
        key(b)
            .abs()
            .cmp(&key(a).abs())
            .then_with(|| {
                b.values
                    .alloc_space
                    .unwrap_or(0)
                    .cmp(&a.values.alloc_space.unwrap_or(0))
            })
            .then_with(|| a.display_name().cmp(&b.display_name()))
    });
    let site_count = rows.len();
    if let Some(n) = opts.limit {
        rows.truncate(n);
    }
    Ok(SitesReport {
        rows,
        total,
        site_count,
    })
}
