//! Command-line flags. Parsing only: every subcommand hands its options to the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Offline post-processor for pprof profiles, above all heap profiles.
#[derive(Debug, Parser)]
#[command(name = "pprofsym", version, about, max_term_width = 110)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a profile contains: sample types and totals, period, time, counts, mappings.
    Info(InfoArgs),
    /// Flat and cumulative weight per function (or file, line, address), as `go tool pprof -top`.
    Top(Box<TopArgs>),
    /// Allocation sites of a heap profile with inuse/alloc space and objects side by side.
    Sites(SitesArgs),
}

/// Options every report shares.
#[derive(Debug, Args)]
pub struct Common {
    /// Output format: table, text, json, csv [default: table on a terminal, else text].
    #[arg(long, short = 'F', value_name = "FORMAT")]
    pub format: Option<String>,
    /// Refuse profiles that decompress to more than this many bytes (guards against gzip bombs).
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_DECOMPRESSED)]
    pub max_decompressed: u64,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Profile file (profile.proto, gzipped or not); `-` reads standard input.
    pub profile: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Profile file (profile.proto, gzipped or not); `-` reads standard input.
    pub profile: PathBuf,
    /// The main executable: names the first mapping's file, as in `go tool pprof BINARY PROFILE`.
    pub binary: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Sample type to report, by name or 0-based index [default: the profile's default type, else the last].
    #[arg(long, short = 'i', value_name = "NAME|N")]
    pub sample_index: Option<String>,
    /// Same as --sample-index inuse_space.
    #[arg(long, group = "shorthand")]
    pub inuse_space: bool,
    /// Same as --sample-index inuse_objects.
    #[arg(long, group = "shorthand")]
    pub inuse_objects: bool,
    /// Same as --sample-index alloc_space.
    #[arg(long, group = "shorthand")]
    pub alloc_space: bool,
    /// Same as --sample-index alloc_objects.
    #[arg(long, group = "shorthand")]
    pub alloc_objects: bool,
    /// Row granularity: functions, filefunctions, files, lines, addresses.
    #[arg(long, short = 'g', default_value = "functions", value_name = "G")]
    pub granularity: String,
    /// Same as --granularity functions.
    #[arg(long, group = "gran")]
    pub functions: bool,
    /// Same as --granularity filefunctions.
    #[arg(long, group = "gran")]
    pub filefunctions: bool,
    /// Same as --granularity files.
    #[arg(long, group = "gran")]
    pub files: bool,
    /// Same as --granularity lines.
    #[arg(long, group = "gran")]
    pub lines: bool,
    /// Same as --granularity addresses.
    #[arg(long, group = "gran")]
    pub addresses: bool,
    /// Sort by cumulative weight.
    #[arg(long)]
    pub cum: bool,
    /// Show at most N rows.
    #[arg(long, short = 'n', value_name = "N")]
    pub nodecount: Option<usize>,
    /// Drop nodes whose cum is below this fraction of the total.
    #[arg(long, default_value_t = 0.005, value_name = "F")]
    pub nodefraction: f64,
    /// Drop edges below this fraction of the total (affects only the (inline) markers).
    #[arg(long, default_value_t = 0.001, value_name = "F")]
    pub edgefraction: f64,
    /// Turn trimming off (same as --nodefraction 0 --edgefraction 0).
    #[arg(long)]
    pub no_trim: bool,
    /// Keep only samples with a frame matching this regular expression (function, file or binary).
    #[arg(long, value_name = "REGEXP")]
    pub focus: Option<String>,
    /// Drop samples with a frame matching this regular expression.
    #[arg(long, value_name = "REGEXP")]
    pub ignore: Option<String>,
    /// Remove frames matching this regular expression from stacks.
    #[arg(long, value_name = "REGEXP")]
    pub hide: Option<String>,
    /// Keep only frames matching this regular expression in stacks.
    #[arg(long, value_name = "REGEXP")]
    pub show: Option<String>,
    /// Drop the callers of the root-most frame matching this regular expression.
    #[arg(long, value_name = "REGEXP")]
    pub show_from: Option<String>,
    /// Unit of values: minimum (as pprof), auto, or a unit such as B, kB, MB, GB.
    #[arg(long, default_value = "minimum")]
    pub unit: String,
}

#[derive(Debug, Args)]
pub struct SitesArgs {
    /// Heap profile file (profile.proto, gzipped or not); `-` reads standard input.
    pub profile: PathBuf,
    #[command(flatten)]
    pub common: Common,
    /// Order rows by: inuse_space, inuse_objects, alloc_space, alloc_objects, avg_size, name.
    #[arg(long, default_value = "inuse_space")]
    pub sort: String,
    /// Show at most N sites.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
}
