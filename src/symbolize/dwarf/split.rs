//! Split DWARF (`-gsplit-dwarf`): the binary keeps only skeleton units, and the full
//! debug info of each unit lives in a `.dwo` file or, packed, in a `.dwp` package.
//!
//! addr2line asks for a unit's split part the first time a lookup needs it
//! (`LookupResult::Load`); [`SplitDwarf::resolve`] answers those requests. Where it looks:
//! 1. the package `<binary>.dwp` (then `<debug file>.dwp` when a separate debug file
//!    holds the skeletons), as llvm-symbolizer and addr2line's `Loader` do;
//! 2. the `.dwo` named by the skeleton: `DW_AT_comp_dir` joined with `DW_AT_dwo_name`
//!    (`DW_AT_GNU_dwo_name` in DWARF 4). A relative result is tried against the working
//!    directory (what llvm-symbolizer and GNU tools do), then against the binary's
//!    directory; last, the name's file name alone in the binary's directory. The first
//!    of these builds typically record comp_dir `.` or a build directory, so a binary
//!    copied together with its `.dwo` files is found from anywhere.
//!
//! A `.dwo` is used only when its unit's DWO id equals the skeleton's. Every file is
//! opened at most once per [`SplitDwarf`] (shared by all DWARF contexts of one
//! symbolizer, including the workers of a parallel batch). A missing, foreign or corrupt
//! split unit is not an error: the lookup goes on with the skeleton (line table and
//! symbol-table name, no inline chain, as llvm-symbolizer answers without the `.dwo`) and
//! a warning is recorded once per unit ([`SplitDwarf::warnings`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::sections::{FileSections, Reader, file_sections, section};
use crate::binary::Binary;

/// Finds, opens (once) and checks the split parts of one binary's skeleton units.
pub(crate) struct SplitDwarf {
    /// Candidate packages, in order (`<binary>.dwp`, `<debug file>.dwp`).
    dwp_paths: Vec<PathBuf>,
    /// Directory of the binary, for relative `.dwo` paths.
    bin_dir: PathBuf,
    /// The first candidate package that loads, and the sections its readers point into
    /// (after it, so they are dropped after it).
    dwp: OnceLock<Option<(PathBuf, gimli::DwarfPackage<Reader>, FileSections)>>,
    /// `.dwo` files by path: `None` when missing or unreadable.
    dwo_files: Mutex<HashMap<PathBuf, Option<Arc<FileSections>>>>,
    /// Messages about split units that could not be used, once per DWO id.
    warnings: Mutex<(HashSet<u64>, Vec<String>)>,
}

impl SplitDwarf {
    /// The loader for the skeletons in `bin` (or in its separate debug file `debug`).
    pub(crate) fn new(bin: &Path, debug: Option<&Path>) -> SplitDwarf {
        let dwp = |p: &Path| {
            let mut s = p.as_os_str().to_os_string();
            s.push(".dwp");
            PathBuf::from(s)
        };
        let mut dwp_paths = vec![dwp(bin)];
        if let Some(d) = debug {
            dwp_paths.push(dwp(d));
        }
        SplitDwarf {
            dwp_paths,
            bin_dir: bin.parent().map(Path::to_path_buf).unwrap_or_default(),
            dwp: OnceLock::new(),
            dwo_files: Mutex::default(),
            warnings: Mutex::default(),
        }
    }

    /// Run an addr2line lookup to its end, answering each split-unit request.
    pub(crate) fn resolve<L>(&self, mut r: addr2line::LookupResult<L>) -> L::Output
    where
        L: addr2line::LookupContinuation<Buf = Reader>,
    {
        loop {
            match r {
                addr2line::LookupResult::Output(o) => return o,
                addr2line::LookupResult::Load { load, continuation } => {
                    r = continuation.resume(self.load(&load));
                }
            }
        }
    }

    /// Messages about split units that were not found or not usable.
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.1.clone()).unwrap_or_default()
    }

    fn warn(&self, id: gimli::DwoId, msg: String) {
        if let Ok(mut w) = self.warnings.lock()
            && w.0.insert(id.0)
        {
            w.1.push(msg);
        }
    }

    /// The split unit for `load`, made ready for use with its skeleton; `None` falls back
    /// to the skeleton.
    fn load(&self, load: &addr2line::SplitDwarfLoad<Reader>) -> Option<Arc<gimli::Dwarf<Reader>>> {
        if let Some((dwp_path, dwp, _)) = self.dwp() {
            match dwp.find_cu(load.dwo_id, &load.parent) {
                Ok(Some(cu)) if usable(&cu, load.dwo_id) => return Some(Arc::new(cu)),
                Ok(Some(_)) | Err(_) => {
                    self.warn(
                        load.dwo_id,
                        format!(
                            "{}: unit {:#x} is malformed; using the skeleton unit",
                            dwp_path.display(),
                            load.dwo_id.0
                        ),
                    );
                    return None;
                }
                Ok(None) => {}
            }
        }
        let candidates = self.dwo_candidates(load);
        for path in &candidates {
            let Some(file) = self.dwo_file(path) else { continue };
            let (endian, list) = &*file;
            // SAFETY: `dwo_files` keeps `file` (which owns the bytes) as long as this loader
            // lives, and the loader outlives the contexts that keep the split unit (it is
            // part of the sections a context is dropped before).
            let Ok(mut dwarf) = gimli::Dwarf::load(|id| unsafe { section(list, *endian, id.dwo_name()) }) else {
                continue;
            };
            if usable(&dwarf, load.dwo_id) {
                dwarf.make_dwo(&load.parent);
                return Some(Arc::new(dwarf));
            }
        }
        let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        self.warn(
            load.dwo_id,
            format!(
                "no split DWARF for unit {:#x} (tried {}); using the skeleton unit",
                load.dwo_id.0,
                if tried.is_empty() {
                    "nothing: no DW_AT_dwo_name".to_string()
                } else {
                    tried.join(", ")
                }
            ),
        );
        None
    }

    /// The first candidate package that exists and parses, loaded on first use.
    fn dwp(&self) -> Option<&(PathBuf, gimli::DwarfPackage<Reader>, FileSections)> {
        self.dwp
            .get_or_init(|| {
                self.dwp_paths.iter().find_map(|p| {
                    let file = Arc::new(Binary::open(p).ok()?);
                    let (endian, list) = file_sections(&file)?;
                    let empty = gimli::EndianSlice::new(&[], endian);
                    // SAFETY: the package is stored with `list`, which owns the bytes, and
                    // is dropped first (tuple order).
                    let dwp =
                        gimli::DwarfPackage::load(|id| unsafe { section(&list, endian, id.dwo_name()) }, empty).ok()?;
                    Some((p.clone(), dwp, (endian, list)))
                })
            })
            .as_ref()
    }

    /// Where the `.dwo` of `load` may be, in the order tried (see the module docs).
    fn dwo_candidates(&self, load: &addr2line::SplitDwarfLoad<Reader>) -> Vec<PathBuf> {
        let text = |r: &Option<Reader>| {
            r.as_ref()
                .and_then(|r| gimli::Reader::to_slice(r).ok())
                .map(|b| path_from_bytes(&b))
        };
        let Some(name) = text(&load.path) else {
            return Vec::new();
        };
        let recorded = match text(&load.comp_dir) {
            Some(dir) => dir.join(&name),
            None => name.clone(),
        };
        let mut out = vec![recorded.clone()];
        if recorded.is_relative() {
            out.push(self.bin_dir.join(&recorded));
        }
        if let Some(base) = name.file_name() {
            out.push(self.bin_dir.join(base));
        }
        out.dedup();
        out
    }

    /// The sections of the `.dwo` at `path`, read once.
    fn dwo_file(&self, path: &Path) -> Option<Arc<FileSections>> {
        let mut files = self.dwo_files.lock().ok()?;
        files
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                let file = Arc::new(Binary::open(path).ok()?);
                file_sections(&file).map(Arc::new)
            })
            .clone()
    }
}

/// The split unit in `dwarf` parses and carries DWO id `id`.
fn usable(dwarf: &gimli::Dwarf<Reader>, id: gimli::DwoId) -> bool {
    let unit = dwarf.units().next().ok().flatten().and_then(|h| dwarf.unit(h).ok());
    unit.is_some_and(|u| u.dwo_id == Some(id))
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}
