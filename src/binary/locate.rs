//! Finding the file for a profile mapping, and the separate debug file for a binary.
//!
//! Binary candidates, in order (the first that opens and whose build ID agrees wins):
//!
//! 1. for the main mapping, the explicit main binary;
//! 2. explicit binaries whose build ID equals the mapping's;
//! 3. explicit binaries whose file name equals the mapping's file name;
//! 4. for each search directory, pprof's `PPROF_BINARY_PATH` layouts (google/pprof
//!    `internal/driver/fetch.go` `locateBinaries`): with a build ID `dir/<id>/<basename>`,
//!    every file in `dir/<id>/`, `dir/<full path>/<id>`, `dir/<id[:2]>/<id[2:]>.debug`;
//!    then `dir/<basename>`, `dir/<full path>`, `dir/<full path>.debug`,
//!    `dir/<path dir>/.debug/<basename>.debug`, `dir/usr/lib/debug/<path dir>/<basename>.debug`;
//! 5. the mapping's own path;
//! 6. for each debug root, `<root>/.build-id/<id[:2]>/<id[2:]>` and the same with `.debug`;
//! 7. after every local file failed: debuginfod ([`LocatorConfig::debuginfod`]), by build ID
//!    ([`Locator::fetch_binaries`], [`Locator::fetch_debug_files`], used by the symbolizer for many files at once).
//!
//! A candidate whose build ID differs from a non-empty mapping build ID is refused and a
//! warning naming both IDs is collected. A candidate that exists but does not open (not
//! ELF, truncated) is skipped with a warning. Nothing is printed. The explicit main binary
//! is the exception when set with [`LocatorConfig::open_main_binary`]: as in pprof, it must
//! open as a binary (an error otherwise), and the locator reuses that opened file.
//!
//! Debug files for a binary without `.debug_info` (GDB's order): `<root>/.build-id/xx/rest.debug`
//! for each debug root, then the `.gnu_debuglink` name in the binary's directory, in its
//! `.debug/` subdirectory, and under each debug root + the binary's directory. A debuglink
//! candidate must match the CRC32; a build-ID candidate must match the build ID.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::debuginfod::{Debuginfod, Fetched, Kind};
use super::{Binary, build_ids_match};
use crate::error::{Result, Warning};

/// Where to look for binaries and debug files.
#[derive(Debug, Clone)]
pub struct LocatorConfig {
    /// Explicit binaries (`--binary`), matched by build ID, then by file name.
    pub binaries: Vec<PathBuf>,
    /// The main binary (`pprofsym top PROFILE BINARY`): used for the mapping flagged `is_main`, and for every other
    /// mapping whose build ID it matches (or, for a mapping without one, whose file name it has), so it serves
    /// every segment of the executable when a profile maps each one separately (jemalloc_pprof does).
    pub main_binary: Option<PathBuf>,
    /// The main binary already opened by [`LocatorConfig::open_main_binary`]; the locator
    /// hands out this file for the main-binary candidate instead of opening it again.
    pub opened_main_binary: Option<Binary>,
    /// Search directories (`PPROF_BINARY_PATH`, `:`-separated in the environment).
    pub search_path: Vec<PathBuf>,
    /// Global debug directories, `/usr/lib/debug` by default.
    pub debug_dirs: Vec<PathBuf>,
    /// Try the path recorded in the mapping itself (default true).
    pub use_mapping_path: bool,
    /// The debuginfod client asked after local files fail (`None`: no debuginfod).
    pub debuginfod: Option<Arc<Debuginfod>>,
}

impl Default for LocatorConfig {
    fn default() -> Self {
        LocatorConfig {
            binaries: Vec::new(),
            main_binary: None,
            opened_main_binary: None,
            search_path: Vec::new(),
            debug_dirs: vec![PathBuf::from("/usr/lib/debug")],
            use_mapping_path: true,
            debuginfod: None,
        }
    }
}

impl LocatorConfig {
    /// Split a `PPROF_BINARY_PATH`-style value (`:`-separated, empty parts ignored).
    pub fn parse_search_path(value: &str) -> Vec<PathBuf> {
        value.split(':').filter(|s| !s.is_empty()).map(PathBuf::from).collect()
    }

    /// Sets `path` as the main binary and opens it now. As in pprof, the main executable
    /// must open as a binary: a file that does not (missing, not ELF, truncated) is an
    /// error naming it, where any other candidate would be skipped with a warning. The
    /// opened file is kept and used by the locator, so it is opened once.
    pub fn open_main_binary(&mut self, path: &Path) -> Result<()> {
        let bin = Binary::open(path)?;
        self.main_binary = Some(path.to_path_buf());
        self.opened_main_binary = Some(bin);
        Ok(())
    }
}

/// Finds files; caches the build IDs of the explicit binaries.
#[derive(Debug)]
pub struct Locator {
    cfg: LocatorConfig,
    /// Build ID of each explicit binary, read on first use (`None`: unreadable or no ID).
    explicit_ids: Option<Vec<Option<String>>>,
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// `root` joined with an absolute or relative path (its leading `/` dropped).
fn under(root: &Path, p: &str) -> PathBuf {
    root.join(p.trim_start_matches('/'))
}

impl Locator {
    /// A locator over `cfg`.
    pub fn new(cfg: LocatorConfig) -> Locator {
        Locator {
            cfg,
            explicit_ids: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LocatorConfig {
        &self.cfg
    }

    fn explicit_ids(&mut self) -> &[Option<String>] {
        let bins = &self.cfg.binaries;
        self.explicit_ids.get_or_insert_with(|| {
            bins.iter()
                .map(|p| Binary::open(p).ok().and_then(|b| b.build_id().map(str::to_string)))
                .collect()
        })
    }

    /// The main binary serves a mapping other than the main one: its build ID equals the mapping's, or the mapping
    /// has no build ID and the same file name.
    fn main_binary_matches(&self, filename: &str, build_id: &str) -> bool {
        let Some(path) = &self.cfg.main_binary else {
            return false;
        };
        if build_id.is_empty() {
            let base = basename(filename);
            return !base.is_empty() && path.file_name().is_some_and(|n| n.to_string_lossy() == base);
        }
        let opened = self.cfg.opened_main_binary.as_ref().filter(|b| b.path() == path);
        let id = match opened {
            Some(b) => b.build_id().map(str::to_string),
            None => Binary::open(path).ok().and_then(|b| b.build_id().map(str::to_string)),
        };
        id.is_some_and(|id| build_ids_match(&id, build_id))
    }

    /// The candidate paths for a mapping, in search order.
    pub fn binary_candidates(&mut self, filename: &str, build_id: &str, is_main: bool) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if is_main || self.main_binary_matches(filename, build_id) {
            out.extend(self.cfg.main_binary.clone());
        }
        if !build_id.is_empty() {
            let ids = self.explicit_ids().to_vec();
            for (p, id) in self.cfg.binaries.iter().zip(ids) {
                if id.is_some_and(|id| build_ids_match(&id, build_id)) {
                    out.push(p.clone());
                }
            }
        }
        let base = basename(filename);
        if !base.is_empty() {
            for p in &self.cfg.binaries {
                if p.file_name().is_some_and(|n| n.to_string_lossy() == base) {
                    out.push(p.clone());
                }
            }
        }
        for dir in &self.cfg.search_path {
            if !build_id.is_empty() {
                let id_dir = dir.join(build_id);
                if !base.is_empty() {
                    out.push(id_dir.join(base));
                }
                if let Ok(rd) = std::fs::read_dir(&id_dir) {
                    let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
                    names.sort();
                    out.extend(names);
                }
                if !filename.is_empty() {
                    out.push(under(dir, filename).join(build_id));
                }
                if build_id.len() >= 2 {
                    out.push(dir.join(&build_id[..2]).join(format!("{}.debug", &build_id[2..])));
                }
            }
            if !base.is_empty() {
                let parent = filename.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                out.push(dir.join(base));
                out.push(under(dir, filename));
                out.push(under(dir, &format!("{filename}.debug")));
                out.push(under(&under(dir, parent), ".debug").join(format!("{base}.debug")));
                out.push(under(&under(dir, "usr/lib/debug"), parent).join(format!("{base}.debug")));
            }
        }
        if self.cfg.use_mapping_path && filename.starts_with('/') {
            out.push(PathBuf::from(filename));
        }
        if build_id.len() >= 2 {
            for root in &self.cfg.debug_dirs {
                let d = root.join(".build-id").join(&build_id[..2]);
                out.push(d.join(&build_id[2..]));
                out.push(d.join(format!("{}.debug", &build_id[2..])));
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(p.clone()));
        out
    }

    /// Find and open the binary for a mapping. Refused candidates add to `warnings`.
    pub fn find_binary(
        &mut self,
        filename: &str,
        build_id: &str,
        is_main: bool,
        warnings: &mut Vec<Warning>,
    ) -> Option<Binary> {
        for cand in self.binary_candidates(filename, build_id, is_main) {
            let preopened = self.cfg.opened_main_binary.as_ref().filter(|b| b.path() == cand);
            let opened = match preopened {
                Some(b) => Ok(b.clone()),
                None if !cand.is_file() => continue,
                None => Binary::open(&cand),
            };
            match opened {
                Err(e) => warnings.push(Warning::Unusable(e)),
                Ok(b) => {
                    if build_id.is_empty() {
                        return Some(b);
                    }
                    let got = b.build_id().unwrap_or("");
                    if build_ids_match(got, build_id) {
                        return Some(b);
                    }
                    warnings.push(Warning::BuildIdMismatch {
                        path: cand.clone(),
                        want: build_id.to_string(),
                        got: if got.is_empty() { "none" } else { got }.to_string(),
                        debug_file: false,
                    });
                }
            }
        }
        None
    }

    /// Find the separate debug file for `bin`, if `bin` has no DWARF of its own.
    pub fn find_debug_file(&self, bin: &Binary, warnings: &mut Vec<Warning>) -> Option<Binary> {
        if bin.has_dwarf() {
            return None;
        }
        if let Some(id) = bin.build_id().filter(|id| id.len() >= 2) {
            for root in &self.cfg.debug_dirs {
                let p = root
                    .join(".build-id")
                    .join(&id[..2])
                    .join(format!("{}.debug", &id[2..]));
                if !p.is_file() {
                    continue;
                }
                match Binary::open(&p) {
                    Ok(d) if d.build_id().is_some_and(|got| build_ids_match(got, id)) => {
                        return Some(d);
                    }
                    Ok(d) => warnings.push(Warning::BuildIdMismatch {
                        path: p.clone(),
                        want: id.to_string(),
                        got: d.build_id().unwrap_or("none").to_string(),
                        debug_file: true,
                    }),
                    Err(e) => warnings.push(Warning::Unusable(e)),
                }
            }
        }
        let link = bin.debuglink()?;
        let dir = bin.path().parent().unwrap_or(Path::new("."));
        let mut cands = vec![dir.join(&link.name), dir.join(".debug").join(&link.name)];
        let abs_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        for root in &self.cfg.debug_dirs {
            cands.push(under(root, &abs_dir.to_string_lossy()).join(&link.name));
        }
        for p in cands {
            if !p.is_file() || same_file(&p, bin.path()) {
                continue;
            }
            match Binary::open(&p) {
                Err(e) => warnings.push(Warning::Unusable(e)),
                Ok(d) => {
                    let crc = crc32fast::hash(d.data());
                    if crc == link.crc {
                        return Some(d);
                    }
                    warnings.push(Warning::CrcMismatch {
                        path: p.clone(),
                        want: link.crc,
                        got: crc,
                    });
                }
            }
        }
        None
    }
}

impl Locator {
    /// Is a debuginfod client set?
    pub fn has_debuginfod(&self) -> bool {
        self.cfg.debuginfod.is_some()
    }

    /// After local files failed: the executables of `build_ids` from debuginfod, fetched at once (one answer
    /// each, `None` without a client).
    pub fn fetch_binaries(&self, build_ids: &[&str], warnings: &mut Vec<Warning>) -> Vec<Option<Fetched>> {
        match &self.cfg.debuginfod {
            None => vec![None; build_ids.len()],
            Some(d) => {
                let reqs: Vec<(String, Kind)> = build_ids.iter().map(|id| (id.to_string(), Kind::Executable)).collect();
                d.fetch_many(&reqs, warnings)
            }
        }
    }

    /// After [`find_debug_file`](Self::find_debug_file) found nothing: the debug files of `bins` (binaries without
    /// DWARF, with a build ID) from debuginfod, fetched at once (one answer each).
    pub fn fetch_debug_files(&self, bins: &[&Binary], warnings: &mut Vec<Warning>) -> Vec<Option<Fetched>> {
        let Some(d) = &self.cfg.debuginfod else {
            return vec![None; bins.len()];
        };
        let reqs: Vec<(String, Kind)> = bins
            .iter()
            .map(|b| (b.build_id().unwrap_or("").to_string(), Kind::Debuginfo))
            .collect();
        let wanted: Vec<bool> = bins.iter().map(|b| !b.has_dwarf() && b.build_id().is_some()).collect();
        let asked: Vec<(String, Kind)> = reqs
            .iter()
            .zip(&wanted)
            .filter(|(_, w)| **w)
            .map(|(r, _)| r.clone())
            .collect();
        let mut got = d.fetch_many(&asked, warnings).into_iter();
        wanted
            .iter()
            .map(|&w| if w { got.next().flatten() } else { None })
            .collect()
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
    }

    #[test]
    fn a_main_binary_that_is_not_elf_is_an_error_naming_it() {
        let mut cfg = LocatorConfig::default();
        let bad = fixture("testdata/native/bin/not-an-elf");
        let err = cfg.open_main_binary(&bad).unwrap_err();
        assert_eq!(err.to_string(), format!("{}: not an ELF file", bad.display()));
        assert!(cfg.main_binary.is_none() && cfg.opened_main_binary.is_none());
    }

    #[test]
    fn the_opened_main_binary_is_reused_not_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("heapdemo");
        std::fs::copy(fixture("testdata/go/bin/heapdemo"), &copy).unwrap();
        let mut cfg = LocatorConfig {
            debug_dirs: Vec::new(),
            use_mapping_path: false,
            ..LocatorConfig::default()
        };
        cfg.open_main_binary(&copy).unwrap();
        // Gone from disk: only the file opened above can answer.
        std::fs::remove_file(&copy).unwrap();
        let mut loc = Locator::new(cfg);
        let mut warnings = Vec::new();
        let got = loc.find_binary("/somewhere/heapdemo", "", true, &mut warnings);
        assert_eq!(got.map(|b| b.path().to_path_buf()), Some(copy.clone()));
        assert!(warnings.is_empty(), "{warnings:?}");
        // Another mapping of the same file (no build ID: matched by file name) is served by it too; a mapping of
        // another file is not.
        let other = loc.find_binary("/elsewhere/heapdemo", "", false, &mut warnings);
        assert_eq!(other.map(|b| b.path().to_path_buf()), Some(copy));
        assert!(
            loc.find_binary("/somewhere/libc.so.6", "", false, &mut warnings)
                .is_none()
        );
    }
}
