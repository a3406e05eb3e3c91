//! The `pprofsym` command: parse flags, call the library, print.

mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Parser;
use regex::Regex;

use cli::{Cli, Command, Common};
use pprofsym::profile::{self, LoadOptions, Profile};
use pprofsym::report::render::{render_info, render_sites, render_top, Format};
use pprofsym::report::{self, Filters, Granularity, SiteOptions, SiteSort, TopOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pprofsym: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info(a) => {
            let p = load(&a.profile, &a.common)?;
            emit(&render_info(&report::info(&p), format(&a.common)?))
        }
        Command::Top(a) => {
            let mut p = load(&a.profile, &a.common)?;
            if let Some(bin) = &a.binary {
                p.set_main_binary(&bin.to_string_lossy());
            }
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
    }
}

fn load(path: &std::path::Path, common: &Common) -> Result<Profile> {
    Ok(profile::load(
        path,
        &LoadOptions {
            max_decompressed: common.max_decompressed,
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
    re.map(|r| Regex::new(r).with_context(|| format!("--{flag}: invalid regular expression {r:?}")))
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
