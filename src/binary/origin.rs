//! Where a binary or a debug file came from, as `info --locate` and `addrs` show it.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// The source a file was found in (the step of the locator's search that gave it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// The main binary named on the command line.
    MainBinary,
    /// A `--binary` file.
    Explicit,
    /// A directory of the search path (`--search-path`, `$PPROF_BINARY_PATH`).
    SearchPath {
        /// The search directory.
        dir: PathBuf,
    },
    /// The path recorded in the profile's mapping.
    MappingPath,
    /// A global debug directory (`/usr/lib/debug`, `--debug-dir`).
    DebugDir {
        /// The debug directory.
        dir: PathBuf,
    },
    /// Found through the binary's `.gnu_debuglink` beside it.
    Debuglink,
    /// Downloaded from a debuginfod server in this run.
    Debuginfod {
        /// The server's URL (as listed in `DEBUGINFOD_URLS`).
        url: String,
    },
    /// Already in the debuginfod client cache (downloaded earlier, by pprofsym, gdb or elfutils' tools).
    DebuginfodCache {
        /// The cache directory.
        dir: PathBuf,
    },
    /// A file given directly (`addr2line -e`).
    Given,
    /// Another local file.
    Local,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::MainBinary => f.write_str("main binary"),
            Origin::Explicit => f.write_str("--binary"),
            Origin::SearchPath { dir } => write!(f, "search path {}", dir.display()),
            Origin::MappingPath => f.write_str("mapping path"),
            Origin::DebugDir { dir } => write!(f, "debug dir {}", dir.display()),
            Origin::Debuglink => f.write_str("debuglink"),
            Origin::Debuginfod { url } => write!(f, "debuginfod {url}"),
            Origin::DebuginfodCache { dir } => write!(f, "debuginfod cache {}", dir.display()),
            Origin::Given => f.write_str("given"),
            Origin::Local => f.write_str("local file"),
        }
    }
}

/// A file used for a mapping and where it came from; with its separate debug file, if one was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    /// The binary.
    pub path: PathBuf,
    /// Where the binary came from.
    pub origin: Origin,
    /// The separate debug file, if the binary's own DWARF was missing and one was found.
    pub debug_file: Option<PathBuf>,
    /// Where the debug file came from.
    pub debug_origin: Option<Origin>,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.path.display(), self.origin)?;
        if let (Some(p), Some(o)) = (&self.debug_file, &self.debug_origin) {
            write!(f, ", debug info {} ({o})", p.display())?;
        }
        Ok(())
    }
}

impl Origin {
    /// Which local step of the locator (configured by `cfg`) gave `path` as the binary of a mapping of file
    /// `filename`: the steps are tried in the locator's order.
    pub fn of_binary(
        cfg: &super::locate::LocatorConfig,
        path: &std::path::Path,
        filename: &str,
        is_main: bool,
    ) -> Origin {
        if is_main && cfg.main_binary.as_deref() == Some(path) {
            Origin::MainBinary
        } else if cfg.binaries.iter().any(|b| b == path) {
            Origin::Explicit
        } else if let Some(dir) = cfg.search_path.iter().find(|d| path.starts_with(d)) {
            Origin::SearchPath { dir: dir.clone() }
        } else if cfg.use_mapping_path && path == std::path::Path::new(filename) {
            Origin::MappingPath
        } else if let Some(dir) = cfg.debug_dirs.iter().find(|d| path.starts_with(d)) {
            Origin::DebugDir { dir: dir.clone() }
        } else {
            Origin::Local
        }
    }

    /// Where a local separate debug file at `path` was found: under a debug directory, else by debuglink.
    pub fn of_debug_file(cfg: &super::locate::LocatorConfig, path: &std::path::Path) -> Origin {
        match cfg.debug_dirs.iter().find(|d| path.starts_with(d)) {
            Some(dir) => Origin::DebugDir { dir: dir.clone() },
            None => Origin::Debuglink,
        }
    }
}
