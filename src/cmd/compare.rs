//! The commands that read several profiles or draw stacks: the inputs every report shares (profiles merged, bases
//! subtracted, symbolized on the fly), `merge`, `diff`, `traces`, `folded` and `flame`.

use std::io::Read;
use std::path::{Path, PathBuf};

use pprofsym::error::{Error, ErrorKind, Result, ResultExt};
use pprofsym::profile::ops::{self, BaseMode, CompareOptions, Encoded, Merger, Named};
use pprofsym::profile::{self, LoadOptions, MergeInput, Profile, write_atomic};
use pprofsym::report::flame::{FlameOptions, flame_svg, min_box_percent};
use pprofsym::report::folded::{FoldedOptions, stacks};
use pprofsym::report::graph::TagFilter;
use pprofsym::report::growth::{GrowthOptions, growth};
use pprofsym::report::render::render_growth;
use pprofsym::report::traces::{TracesOptions, render_text as render_traces, traces};
use pprofsym::report::{Filters, Granularity};

use super::{emit, format, load_options, symbolize_for_report, warn};
use crate::cli::{
    Bounds, DiffArgs, FlameArgs, FoldedArgs, InputArgs, MergeArgs, SelectArgs, SymArgs, TagArgs, TracesArgs,
};

/// The positional inputs split into profiles and the main executable (a file that starts with an ELF header).
pub struct Positional {
    /// Profiles, in order.
    pub profiles: Vec<PathBuf>,
    /// The main executable, if one was given.
    pub binary: Option<PathBuf>,
}

/// Splits `inputs` into profiles and at most one binary, telling them apart by content, as `go tool pprof` does.
/// An absolute path is also tried under `--sysroot` (a binary of the profiled machine).
pub fn positional(inputs: &[PathBuf], sym: Option<&SymArgs>) -> Result<Positional> {
    let mut profiles = Vec::new();
    let mut binaries = Vec::new();
    for p in inputs {
        if is_elf(p) || sym.is_some_and(|s| is_elf(&super::under_sysroot(p, s))) {
            binaries.push(p.clone());
        } else {
            profiles.push(p.clone());
        }
    }
    if binaries.len() > 1 {
        let names: Vec<String> = binaries.iter().map(|b| b.display().to_string()).collect();
        return Err(Error::new(
            ErrorKind::Usage,
            format!(
                "several binaries given ({}): name the main executable once and the others with --binary",
                names.join(", ")
            ),
        ));
    }
    if profiles.is_empty() {
        return Err(Error::new(ErrorKind::Usage, "no profile given"));
    }
    Ok(Positional {
        profiles,
        binary: binaries.pop(),
    })
}

fn is_elf(p: &Path) -> bool {
    if p.as_os_str() == "-" {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == *b"\x7fELF")
}

/// Loads `paths` on the rayon pool, in order; `role` ("base") is added to the errors of bases.
fn load_all(paths: &[PathBuf], opts: &LoadOptions, role: Option<&str>) -> Result<Vec<Named>> {
    use rayon::prelude::*;
    paths
        .par_iter()
        .map(|p| load_one(p, opts, role).map(|prof| Named::new(p.display().to_string(), prof)))
        .collect()
}

/// Loads one profile; `role` ("base profile") is added to the errors of bases, and a positional input that is not a
/// profile is said to be neither a profile nor the executable.
fn load_one(p: &Path, opts: &LoadOptions, role: Option<&str>) -> Result<Profile> {
    profile::load(p, opts).map_err(|e| annotate(p, e, role))
}

/// A load error of `p`: with its role ("base profile"), or for a positional input that is not a profile, saying
/// that it is neither a profile nor the executable.
fn annotate(p: &Path, e: Error, role: Option<&str>) -> Error {
    match (role, e.kind()) {
        (Some(r), _) => e.context(r),
        // Standard input is never taken for the executable.
        (None, ErrorKind::Format) if p.as_os_str() != "-" => Error::new(
            ErrorKind::Format,
            format!(
                "{}: not an ELF file, nor a profile ({})",
                e.message(),
                inner_message(&e)
            ),
        ),
        (None, _) => e,
    }
}

/// The error's text without its first layer (the file name that `load` puts first).
fn inner_message(e: &Error) -> String {
    let full = e.to_string();
    match full.split_once(": ") {
        Some((first, rest)) if first == e.message() => rest.to_string(),
        _ => full,
    }
}

/// What a report reads: the positional profiles merged, the bases merged and subtracted (pprof's `-base` or
/// `-diff_base`), then symbolized when binaries are named. Returns the profile and the main binary.
pub fn load_inputs(a: &InputArgs, bounds: Bounds, sym: &SymArgs) -> Result<(Named, Option<PathBuf>)> {
    let pos = positional(&a.inputs, Some(sym))?;
    let opts = load_options(bounds.max_decompressed, bounds.max_memory);
    let (bases, mode) = if a.diff_base.is_empty() {
        (&a.base, BaseMode::Base)
    } else {
        (&a.diff_base, BaseMode::DiffBase)
    };
    if a.normalize && bases.is_empty() {
        return Err(Error::new(ErrorKind::Usage, "--normalize needs --base or --diff-base"));
    }
    let mut sources = load_all(&pos.profiles, &opts, None)?;
    let mut bases = load_all(bases, &opts, Some("base profile"))?;
    if let Some(bin) = &pos.binary {
        // As pprof: the main binary names the first mapping of every profile, sources and bases.
        let name = bin.to_string_lossy();
        for n in sources.iter_mut().chain(bases.iter_mut()) {
            n.profile.set_main_binary(&name);
        }
    }
    let merged = ops::compare(
        sources,
        bases,
        CompareOptions {
            mode,
            normalize: a.normalize,
        },
    )?;
    let name = merged.name;
    let profile = symbolize_for_report(merged.profile, pos.binary.as_deref(), sym)?;
    Ok((Named::new(name, profile), pos.binary))
}

/// The label filters, parsed; says on standard error when a value is read as a numeric range, as pprof does.
pub fn tag_filters(t: &TagArgs) -> Result<(Option<TagFilter>, Option<TagFilter>)> {
    let parse = |flag: &str, v: &Option<String>| -> Result<Option<TagFilter>> {
        let Some(v) = v else { return Ok(None) };
        let f = TagFilter::parse(flag, v)?;
        if let Some(range) = f.range_value() {
            eprintln!("pprofsym: --{flag}: '{range}' is read as a numeric range, not a regular expression");
        }
        Ok(Some(f))
    };
    Ok((parse("tag-focus", &t.tag_focus)?, parse("tag-ignore", &t.tag_ignore)?))
}

/// The sample index, granularity and filters of a graph report (the shorthands win over `--sample-index` and
/// `--granularity`).
pub fn select(a: &SelectArgs) -> Result<(Option<String>, Granularity, Filters)> {
    let shorthand = [
        (a.inuse_space, "inuse_space"),
        (a.inuse_objects, "inuse_objects"),
        (a.alloc_space, "alloc_space"),
        (a.alloc_objects, "alloc_objects"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then(|| name.to_string()));
    let granularity = [
        (a.functions, Granularity::Functions),
        (a.filefunctions, Granularity::FileFunctions),
        (a.files, Granularity::Files),
        (a.lines, Granularity::Lines),
        (a.addresses, Granularity::Addresses),
    ]
    .into_iter()
    .find_map(|(set, g)| set.then_some(g))
    .unwrap_or(a.granularity.into());
    let (tag_focus, tag_ignore) = tag_filters(&a.tags)?;
    let filters = Filters {
        focus: super::reports::regex_opt("focus", a.focus.as_deref())?,
        ignore: super::reports::regex_opt("ignore", a.ignore.as_deref())?,
        hide: super::reports::regex_opt("hide", a.hide.as_deref())?,
        show: super::reports::regex_opt("show", a.show.as_deref())?,
        show_from: super::reports::regex_opt("show_from", a.show_from.as_deref())?,
        tag_focus,
        tag_ignore,
    };
    Ok((shorthand.or(a.sample_index.clone()), granularity, filters))
}

/// `pprofsym merge`: the profiles merged with pprof's rules, decoded on a second thread while the merge runs, so
/// memory holds the merged result and about two inputs, not all of them.
pub fn merge(a: MergeArgs) -> Result<()> {
    let pos = positional(&a.inputs.inputs, Some(&a.sym))?;
    let opts = load_options(a.bounds.max_decompressed, a.bounds.max_memory);
    let main = pos.binary.as_deref();
    let (base_paths, mode) = if a.inputs.diff_base.is_empty() {
        (&a.inputs.base, BaseMode::Base)
    } else {
        (&a.inputs.diff_base, BaseMode::DiffBase)
    };
    if a.inputs.normalize && base_paths.is_empty() {
        return Err(Error::new(ErrorKind::Usage, "--normalize needs --base or --diff-base"));
    }
    // As symbolize_for_report decides: binaries named, or debuginfod set up.
    let debuginfod = std::env::var("DEBUGINFOD_URLS").is_ok_and(|v| !v.trim().is_empty());
    let symbolizing = main.is_some() || !a.sym.binaries.is_empty() || debuginfod;
    keep_freed_memory();
    let merged = stream_merge(&pos.profiles, &opts, main, None)?;
    let out = match merged {
        // The common case: written straight from the merge, without a profile in between.
        Merged::Many(m, _) if base_paths.is_empty() && !symbolizing => m.finish_encoded()?,
        merged => {
            let mut named = merged.into_named()?;
            if !base_paths.is_empty() {
                let base = stream_merge(base_paths, &opts, main, Some("base profile"))?.into_named()?;
                let o = CompareOptions {
                    mode,
                    normalize: a.inputs.normalize,
                };
                named = ops::subtract(named, base, o)?;
            }
            let p = symbolize_for_report(named.profile, main, &a.sym)?;
            let pb = p.pb();
            Encoded {
                pieces: vec![prost::Message::encode_to_vec(pb)],
                samples: pb.sample.len(),
                locations: pb.location.len(),
                functions: pb.function.len(),
                mappings: pb.mapping.len(),
            }
        }
    };
    // Deflated on the other threads while this one writes what is ready.
    let pieces: Vec<&[u8]> = out.pieces.iter().map(Vec::as_slice).collect();
    profile::write_gzip_atomic(&a.output, &pieces).map_err(|e| Error::io(&a.output, e))?;
    eprintln!(
        "{}: {} profile{} merged: {} samples, {} locations, {} functions, {} mappings",
        a.output.display(),
        pos.profiles.len(),
        if pos.profiles.len() == 1 { "" } else { "s" },
        out.samples,
        out.locations,
        out.functions,
        out.mappings
    );
    Ok(())
}

/// Merging, folding and drawing allocate and free many blocks of megabytes (every input and batch of a merge,
/// stacks, lines, SVG text). glibc's malloc gives blocks above its mmap threshold (128 KiB here, see main.rs) back to
/// the system when they are freed, so each new one costs page faults and zeroing again (a third of a merge's CPU
/// time was in the kernel). For these commands freed blocks stay in the heap and are reused.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets tuning parameters of the allocator; glibc serializes it with allocations.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// What [`stream_merge`] gives: one profile as it was, or a merger holding several.
enum Merged {
    One(Named),
    Many(Merger, String),
}

impl Merged {
    fn into_named(self) -> Result<Named> {
        match self {
            Merged::One(n) => Ok(n),
            Merged::Many(m, name) => Ok(Named::new(name, m.finish()?)),
        }
    }
}

/// Merges `paths` as they are decoded, in three stages on their own threads (decode, translate, add up; see
/// [`ops::merge_pipelined`]). One profile comes back as it is (as in pprof).
fn stream_merge(paths: &[PathBuf], opts: &LoadOptions, main: Option<&Path>, role: Option<&str>) -> Result<Merged> {
    let load = |p: &Path, fetched: profile::Fetched| -> Result<MergeInput> {
        let mut input = profile::load_fetched(p, fetched, opts).map_err(|e| annotate(p, e, role))?;
        if let Some(bin) = main {
            input.profile_mut().set_main_binary(&bin.to_string_lossy());
        }
        Ok(input)
    };
    if paths.len() == 1 {
        // One profile comes back as it is (as in pprof): decoded in full.
        let mut prof = load_one(&paths[0], opts, role)?;
        if let Some(bin) = main {
            prof.set_main_binary(&bin.to_string_lossy());
        }
        return Ok(Merged::One(Named::new(paths[0].display().to_string(), prof)));
    }
    let fetch = |i: usize| profile::fetch_for_merge(&paths[i], opts).map_err(|e| annotate(&paths[i], e, role));
    let m = ops::merge_pipelined(paths.len(), fetch, |i, fetched| {
        let name = paths[i].display().to_string();
        let name = match role {
            Some(r) => format!("{name} ({r})"),
            None => name,
        };
        Ok((name, load(&paths[i], fetched)?))
    })?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    Ok(Merged::Many(m, names.join(" + ")))
}

/// `pprofsym traces`.
pub fn traces_cmd(a: TracesArgs) -> Result<()> {
    let (index, granularity, filters) = select(&a.select)?;
    let (p, _) = load_inputs(&a.inputs, a.bounds, &a.sym)?;
    let opts = TracesOptions {
        sample_index: index,
        granularity,
        filters,
    };
    let r = traces(&p.profile, &opts).context(&p.name)?;
    warn("", &r.warnings);
    emit(&render_traces(&r))
}

/// `pprofsym folded`.
pub fn folded_cmd(a: FoldedArgs) -> Result<()> {
    keep_freed_memory();
    let (index, granularity, filters) = select(&a.select)?;
    let (p, _) = load_inputs(&a.inputs, a.bounds, &a.sym)?;
    let opts = FoldedOptions {
        sample_index: index,
        granularity,
        filters,
    };
    let r = stacks(&p.profile, &opts).context(&p.name)?;
    warn("", &r.header.warnings);
    let text = r.folded_text();
    let res = match &a.output {
        Some(out) if out.as_os_str() != "-" => write_atomic(out, text.as_bytes()).map_err(|e| Error::io(out, e)),
        _ => emit(&text),
    };
    // The process ends here: the system takes the profile and the stacks back at once, faster than freeing them.
    std::mem::forget((p, r, text));
    res
}

/// `pprofsym flame`.
pub fn flame_cmd(a: FlameArgs) -> Result<()> {
    keep_freed_memory();
    let (index, granularity, filters) = select(&a.select)?;
    let (p, _) = load_inputs(&a.inputs, a.bounds, &a.sym)?;
    let opts = FoldedOptions {
        sample_index: index,
        granularity,
        filters,
    };
    let differential = !a.inputs.base.is_empty() || !a.inputs.diff_base.is_empty();
    // The graph leaves out the narrowest boxes; stacks are cut at that width, which changes nothing drawn.
    let set = stacks(&p.profile, &opts)
        .context(&p.name)?
        .cut(min_box_percent(), differential);
    warn("", &set.header.warnings);
    let fo = FlameOptions {
        title: a.title.clone(),
        width: a.width,
        inverted: a.inverted,
        differential,
        every_stack: false,
    };
    let svg = flame_svg(&set, &fo).context(&p.name)?;
    let res = if a.output.as_os_str() == "-" {
        emit(&String::from_utf8_lossy(&svg))
    } else {
        write_atomic(&a.output, &svg).map_err(|e| Error::io(&a.output, e))
    };
    // As in `folded`: left for the system to take back at exit.
    std::mem::forget((p, set, svg));
    res
}

/// `pprofsym diff`.
pub fn diff(a: DiffArgs) -> Result<()> {
    let (tag_focus, tag_ignore) = tag_filters(&a.tags)?;
    let opts = load_options(a.common.max_decompressed, a.common.max_memory);
    let load = |path: &Path| -> Result<Profile> {
        let mut p = profile::load(path, &opts)?;
        if let Some(bin) = &a.binary {
            p.set_main_binary(&bin.to_string_lossy());
        }
        symbolize_for_report(p, a.binary.as_deref(), &a.sym).context(path.display())
    };
    let (old, new) = (load(&a.old)?, load(&a.new)?);
    let o = GrowthOptions {
        alloc: a.alloc,
        sort: a.sort.into(),
        limit: a.limit,
        tag_focus,
        tag_ignore,
    };
    let r = growth(&old, &new, &o)?;
    emit(&render_growth(&r, format(&a.common)))
}
