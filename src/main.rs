//! The `pprofsym` command: parse flags, call the library, print.

mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use regex::Regex;

use cli::{Cli, Command, Common, SymArgs};
use pprofsym::binary::locate::LocatorConfig;
use pprofsym::profile::{self, LoadOptions, Profile};
use pprofsym::report::render::{Format, render_addrs, render_info, render_sites, render_top};
use pprofsym::report::{self, Filters, Granularity, SiteOptions, SiteSort, TopOptions};
use pprofsym::symbolize::demangle::DemangleMode;
use pprofsym::symbolize::profile::{Symbolized, resolve_profile, symbolize};
use pprofsym::symbolize::{SymbolSource, Symbolizer, SymbolizerOptions};

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pprofsym: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// glibc's malloc raises its mmap threshold each time a large block is freed, after which
/// large blocks come from the heap and their freed space stays resident. Symbolization
/// frees many large blocks (each window's line tables and function lists), so a fixed
/// threshold of 128 KiB lowers the peak memory (by 3 to 5 MiB on the bench binaries; see
/// scripts/bench-symbolize.sh) at no cost in speed.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter; it is called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info(a) => {
            let p = load(&a.profile, &a.common)?;
            emit(&render_info(&report::info(&p), format(&a.common)?))
        }
        Command::Top(a) => {
            let p = load(&a.profile, &a.common)?;
            let p = symbolize_for_report(p, a.binary.as_deref(), &a.sym)?;
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
            .find_map(|(set, g)| set.then_some(g));
            let granularity = match granularity {
                Some(g) => g,
                None => Granularity::parse(&a.granularity).ok_or_else(|| {
                    anyhow!(
                        "unknown granularity {:?} (functions, filefunctions, files, lines, addresses)",
                        a.granularity
                    )
                })?,
            };
            let opts = TopOptions {
                sample_index: shorthand.or(a.sample_index),
                granularity,
                cum: a.cum,
                node_count: a.nodecount,
                node_fraction: if a.no_trim { 0.0 } else { a.nodefraction },
                edge_fraction: if a.no_trim { 0.0 } else { a.edgefraction },
                filters: Filters {
                    focus: regex_opt("focus", a.focus.as_deref())?,
                    ignore: regex_opt("ignore", a.ignore.as_deref())?,
                    hide: regex_opt("hide", a.hide.as_deref())?,
                    show: regex_opt("show", a.show.as_deref())?,
                    show_from: regex_opt("show_from", a.show_from.as_deref())?,
                },
                unit: a.unit,
            };
            let r = report::top(&p, &opts).map_err(|e| anyhow!("{}: {e}", a.profile.display()))?;
            for w in &r.warnings {
                eprintln!("{w}");
            }
            emit(&render_top(&r, format(&a.common)?))
        }
        Command::Sites(a) => {
            let p = load(&a.profile, &a.common)?;
            let p = symbolize_for_report(p, a.binary.as_deref(), &a.sym)?;
            let sort = SiteSort::parse(&a.sort).ok_or_else(|| {
                anyhow!(
                    "unknown --sort {:?} (inuse_space, inuse_objects, alloc_space, alloc_objects, avg_size, name)",
                    a.sort
                )
            })?;
            let r = report::sites(&p, &SiteOptions { sort, limit: a.limit })
                .map_err(|e| anyhow!("{}: {e}", a.profile.display()))?;
            emit(&render_sites(&r, format(&a.common)?))
        }
        Command::Addr2line(a) => addr2line(a),
        Command::Symbolize(a) => {
            let opts = LoadOptions {
                max_decompressed: a.max_decompressed,
                max_memory: a.max_memory,
            };
            let p = profile::load(&a.profile, &opts)?;
            let out = symbolize_loaded(p, a.main_binary.as_deref(), &a.sym)?;
            let bytes = profile::encode_gzip(out.profile.pb());
            profile::write_atomic(&a.output, &bytes).with_context(|| format!("writing {}", a.output.display()))?;
            eprintln!(
                "{}: {} locations symbolized, {} left unsymbolized",
                a.output.display(),
                out.symbolized,
                out.unsymbolized
            );
            Ok(())
        }
        Command::Addrs(a) => {
            let p = load(&a.profile, &a.common)?;
            let (mut sym, _) = symbolizer(a.main_binary.as_deref(), &a.sym)?;
            let res = resolve_profile(&p, &mut sym, true);
            let r = report::addrs::addrs(&p, &res);
            for w in &r.warnings {
                eprintln!("pprofsym: {w}");
            }
            emit(&render_addrs(&r, format(&a.common)?))
        }
    }
}

fn addr2line(a: cli::Addr2lineArgs) -> Result<()> {
    use pprofsym::symbolize::addr2line::{self as a2l, Addr2lineOptions, OutputFormat};
    let format = match a.format.as_str() {
        "text" => OutputFormat::Gnu,
        "json" => OutputFormat::Json,
        f => return Err(anyhow!("unknown --format {f:?} (text, json)")),
    };
    let opts = Addr2lineOptions {
        exe: a.exe,
        functions: a.functions,
        inlines: a.inlines,
        demangle: a.demangle,
        addresses: a.addresses,
        basenames: a.basenames,
        pretty: a.pretty_print,
        format,
        maps: a.maps.or(a.pid.map(a2l::proc_maps_path)),
        search_path: a.search_path,
        batch: a.batch,
    };
    let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    // The error's own message names the file; no cause chain (it would repeat it).
    a2l::run(
        &opts,
        &a.addrs,
        &mut stdin.lock(),
        &mut stdout.lock(),
        &mut stderr.lock(),
    )
    .map_err(|e| anyhow!("{e}"))
}

fn demangle_mode(a: &SymArgs) -> Result<DemangleMode> {
    DemangleMode::parse(&a.demangle)
        .ok_or_else(|| anyhow!("unknown --demangle {:?} (short, templates, full, none)", a.demangle))
}

/// A symbolizer configured from the command line and the environment.
fn symbolizer(main: Option<&std::path::Path>, a: &SymArgs) -> Result<(Symbolizer, &'static str)> {
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
    let source = match a.symbols.as_str() {
        "auto" => SymbolSource::Auto,
        "dwarf" => SymbolSource::Dwarf,
        "pclntab" => SymbolSource::Pclntab,
        "symtab" => SymbolSource::Symtab,
        s => return Err(anyhow!("unknown --symbols {s:?} (auto, dwarf, pclntab, symtab)")),
    };
    Ok((Symbolizer::new(SymbolizerOptions { locator, source }), "pprofsym: "))
}

/// Symbolizes `p` in memory when binaries were named (positional main binary or --binary), so every report
/// sees functions and lines; otherwise returns it unchanged.
fn symbolize_for_report(p: Profile, main: Option<&std::path::Path>, a: &SymArgs) -> Result<Profile> {
    if main.is_none() && a.binaries.is_empty() {
        return Ok(p);
    }
    let out = symbolize_loaded(p, main, a)?;
    if out.unsymbolized > 0 {
        eprintln!("pprofsym: {} locations left unsymbolized", out.unsymbolized);
    }
    Ok(out.profile)
}

/// Symbolizes a loaded profile with the binaries the flags name, printing the warnings; the main binary, if
/// any, names the first mapping's file afterwards (as pprof does).
fn symbolize_loaded(p: Profile, main: Option<&std::path::Path>, a: &SymArgs) -> Result<Symbolized> {
    let (mut sym, prefix) = symbolizer(main, a)?;
    let mut out = symbolize(p, &mut sym, a.force, demangle_mode(a)?).map_err(|e| anyhow!("{e}"))?;
    for w in &out.warnings {
        eprintln!("{prefix}{w}");
    }
    if let Some(bin) = main {
        out.profile.set_main_binary(&bin.to_string_lossy());
    }
    Ok(out)
}

fn load(path: &std::path::Path, common: &Common) -> Result<Profile> {
    Ok(profile::load(
        path,
        &LoadOptions {
            max_decompressed: common.max_decompressed,
            max_memory: common.max_memory,
        },
    )?)
}

fn format(common: &Common) -> Result<Format> {
    match &common.format {
        Some(f) => Format::parse(f).ok_or_else(|| anyhow!("unknown --format {f:?} (table, text, json, csv)")),
        None if std::io::stdout().is_terminal() => Ok(Format::Table),
        None => Ok(Format::Text),
    }
}

fn regex_opt(flag: &str, re: Option<&str>) -> Result<Option<Regex>> {
    re.map(|r| {
        // regex's own message spans several lines (it draws a caret under the pattern); keep its last line.
        Regex::new(r).map_err(|e| {
            let e = e.to_string();
            let why = e.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            anyhow!("--{flag}: invalid regular expression {r:?}: {why}")
        })
    })
    .transpose()
}

fn emit(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("writing output"),
    }
}
