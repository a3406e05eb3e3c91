//! The commands: each reads its inputs (files, standard input), calls the library, renders and prints. Only this
//! layer touches standard input and output.

pub mod addr2line;
pub mod compare;
pub mod progress;
pub mod reports;
pub mod symbolize;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use pprofsym::binary::debuginfod::{Debuginfod, DebuginfodOptions};
use pprofsym::binary::locate::LocatorConfig;
use pprofsym::error::{Error, ErrorKind, Result, Warning};
use pprofsym::profile::{self, LoadOptions, Profile};
use pprofsym::report::render::Format;
use pprofsym::symbolize::profile::{Symbolized, symbolize};
use pprofsym::symbolize::{Symbolizer, SymbolizerOptions};

use crate::cli::{Common, SymArgs};

/// Loads a profile (`-` is standard input) within the bounds the flags set.
pub fn load(path: &Path, common: &Common) -> Result<Profile> {
    profile::load(path, &load_options(common.max_decompressed, common.max_memory))
}

/// The library's load options from the two bound flags.
pub fn load_options(max_decompressed: u64, max_memory: u64) -> LoadOptions {
    LoadOptions {
        max_decompressed,
        max_memory,
    }
}

/// The output format: the flag, else a table on a terminal and text otherwise.
pub fn format(common: &Common) -> Format {
    match common.format {
        Some(f) => f.into(),
        None if std::io::stdout().is_terminal() => Format::Table,
        None => Format::Text,
    }
}

/// Writes `s` to standard output; a closed pipe (`| head`) is not an error.
pub fn emit(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::caused_by(ErrorKind::Io, "writing output", e)),
    }
}

/// Prints warnings on standard error, one line each, after `prefix`.
pub fn warn(prefix: &str, warnings: &[Warning]) {
    for w in warnings {
        eprintln!("{prefix}{w}");
    }
}

/// A symbolizer configured from the command line and the environment (`$PPROF_BINARY_PATH` when no
/// `--search-path` is given).
pub fn symbolizer(main: Option<&Path>, a: &SymArgs) -> Result<Symbolizer> {
    let search = a
        .search_path
        .clone()
        .or_else(|| std::env::var("PPROF_BINARY_PATH").ok())
        .unwrap_or_default();
    let mut locator = LocatorConfig {
        binaries: a.binaries.clone(),
        search_path: LocatorConfig::parse_search_path(&search),
        use_mapping_path: !a.no_mapping_paths,
        ..LocatorConfig::default()
    };
    if let Some(bin) = main {
        // As in pprof, the main executable must open as a binary; the locator reuses the opened file.
        locator.open_main_binary(bin)?;
    }
    if !a.debug_dirs.is_empty() {
        locator.debug_dirs = a.debug_dirs.clone();
    }
    locator.debuginfod = debuginfod(a.offline);
    Ok(Symbolizer::new(SymbolizerOptions {
        locator,
        source: a.symbols.into(),
    }))
}

/// The debuginfod client configured by elfutils' variables (`DEBUGINFOD_URLS`, `DEBUGINFOD_CACHE_PATH`,
/// `DEBUGINFOD_TIMEOUT`, …); `None` when `DEBUGINFOD_URLS` is unset or blank. `offline` keeps it off the network
/// (the cache is still read). Downloads draw a progress bar when standard error is a terminal.
pub fn debuginfod(offline: bool) -> Option<Arc<Debuginfod>> {
    let mut opts = DebuginfodOptions::from_env(&|k| std::env::var(k).ok())?;
    opts.offline = offline;
    let mut d = Debuginfod::new(opts);
    if std::io::stderr().is_terminal() {
        d = d.with_progress(Arc::new(progress::DownloadBar::default()));
    }
    Some(Arc::new(d))
}

/// Symbolizes `p` in memory when binaries were named (positional main binary or `--binary`) or debuginfod is set
/// up (`DEBUGINFOD_URLS`), so every report sees functions and lines; otherwise returns it unchanged.
pub fn symbolize_for_report(p: Profile, main: Option<&Path>, a: &SymArgs) -> Result<Profile> {
    let debuginfod = std::env::var("DEBUGINFOD_URLS").is_ok_and(|v| !v.trim().is_empty());
    if main.is_none() && a.binaries.is_empty() && !debuginfod {
        return Ok(p);
    }
    let out = symbolize_loaded(p, main, a)?;
    if out.unsymbolized > 0 {
        eprintln!("pprofsym: {} locations left unsymbolized", out.unsymbolized);
    }
    Ok(out.profile)
}

/// Symbolizes a loaded profile with the binaries the flags name, printing the warnings; the main binary, if any,
/// names the first mapping's file afterwards (as pprof does).
pub fn symbolize_loaded(p: Profile, main: Option<&Path>, a: &SymArgs) -> Result<Symbolized> {
    let mut sym = symbolizer(main, a)?;
    let mut out = symbolize(p, &mut sym, a.force, a.demangle.into())?;
    warn("pprofsym: ", &out.warnings);
    if let Some(bin) = main {
        out.profile.set_main_binary(&bin.to_string_lossy());
    }
    Ok(out)
}
