//! The commands: each reads its inputs (files, standard input), calls the library, renders and prints. Only this
//! layer touches standard input and output.

pub mod addr2line;
pub mod compare;
pub mod legacy;
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
        locator.open_main_binary(&under_sysroot(bin, a))?;
    }
    locator.sysroot = a.sysroot.clone();
    if !a.debug_dirs.is_empty() {
        locator.debug_dirs = a.debug_dirs.clone();
    } else if let Some(root) = &a.sysroot {
        locator.debug_dirs.insert(0, root.join("usr/lib/debug"));
    }
    locator.debuginfod = debuginfod(a.offline);
    Ok(Symbolizer::new(SymbolizerOptions {
        locator,
        source: a.symbols.into(),
    }))
}

/// The file for a binary named on the command line: an absolute path is looked up under `--sysroot` first (it
/// names a file of the profiled machine), else taken as it is.
pub fn under_sysroot(bin: &Path, a: &SymArgs) -> std::path::PathBuf {
    if let Some(root) = &a.sysroot
        && bin.is_absolute()
    {
        let p = root.join(bin.strip_prefix("/").unwrap_or(bin));
        if p.is_file() {
            return p;
        }
    }
    bin.to_path_buf()
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

/// Symbolizes `p` in memory when binaries were named (positional main binary, `--binary`, `--search-path`,
/// `--sysroot`), debuginfod is set up (`DEBUGINFOD_URLS`), or it was read from a legacy format (which never
/// carries symbols; its mapping paths are tried, as pprof tries them); otherwise returns it unchanged. Go `debug=1`
/// texts then get the names of their `#` comment lines for what is still unnamed.
pub fn symbolize_for_report(p: Profile, main: Option<&Path>, a: &SymArgs) -> Result<Profile> {
    let debuginfod = std::env::var("DEBUGINFOD_URLS").is_ok_and(|v| !v.trim().is_empty());
    // A legacy profile whose maps name files (Go's debug=1 texts name none).
    let legacy = p.source().format != pprofsym::profile::Format::Proto
        && p.pb().mapping.iter().any(|m| p.str(m.filename).starts_with('/'));
    if main.is_none()
        && a.binaries.is_empty()
        && a.search_path.is_none()
        && a.sysroot.is_none()
        && !legacy
        && !debuginfod
    {
        return Ok(comment_names(p)?.0);
    }
    let out = symbolize_loaded(p, main, a)?;
    if out.unsymbolized > 0 && (main.is_some() || !a.binaries.is_empty()) {
        eprintln!("pprofsym: {} locations left unsymbolized", out.unsymbolized);
    }
    Ok(out.profile)
}

/// Symbolizes a loaded profile with the binaries the flags name, printing the warnings; the main binary, if any,
/// names the first mapping's file afterwards (as pprof does). Go `debug=1` comment names fill what is left.
pub fn symbolize_loaded(p: Profile, main: Option<&Path>, a: &SymArgs) -> Result<Symbolized> {
    let source = p.source().clone();
    let mut sym = symbolizer(main, a)?;
    let mut out = symbolize(p, &mut sym, a.force, a.demangle.into())?;
    warn("pprofsym: ", &out.warnings);
    if let Some(bin) = main {
        out.profile.set_main_binary(&bin.to_string_lossy());
    }
    let (profile, named) = comment_names(out.profile.with_source(source))?;
    out.profile = profile;
    out.unsymbolized = out.unsymbolized.saturating_sub(named);
    Ok(out)
}

/// Names the still unnamed frames of a Go `debug=1` text from its `#` comment lines; returns the profile and how
/// many locations were named. Other profiles are returned as they are.
pub fn comment_names(p: Profile) -> Result<(Profile, usize)> {
    let source = p.source().clone();
    let Some(frames) = source.comment_frames.clone() else {
        return Ok((p, 0));
    };
    let heap = source.format == pprofsym::profile::Format::GoHeap;
    let (p, n) = pprofsym::profile::format::apply_comment_frames(p, &frames, heap)?;
    Ok((p.with_source(source), n))
}
