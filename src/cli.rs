//! Command-line flags. Parsing only: every subcommand hands its options to the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use pprofsym::profile::names::DemangleMode;
use pprofsym::report::growth::GrowthSort;
use pprofsym::report::render::Format;
use pprofsym::report::{Granularity, SiteSort};
use pprofsym::symbolize::SymbolSource;

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
    /// Write a copy of a profile with functions, files, lines and inline frames filled in from the binaries.
    Symbolize(SymbolizeArgs),
    /// Every location's raw address, its normalization (offset, ELF address, section, symbol) and frames.
    Addrs(AddrsArgs),
    /// Addresses to function, file and line, as GNU addr2line (plus --format json, runtime addresses via --maps/--pid).
    Addr2line(Addr2lineArgs),
    /// Print a profile as `go tool pprof -raw` does (pprof's Profile.String()), symbolized like pprof.
    Raw(RawArgs),
    /// Convert a profile in any format we read (legacy text, CPU, jemalloc, Go debug=1) to profile.proto.
    Convert(ConvertArgs),
    /// Merge profiles into one profile.proto with pprof's rules, as `go tool pprof -proto A B ...`.
    Merge(Box<MergeArgs>),
    /// Heap growth by allocation site between two heap profiles: inuse space and objects before, after, delta.
    Diff(Box<DiffArgs>),
    /// Every sample with its labels and stack, as `go tool pprof -traces`.
    Traces(Box<TracesArgs>),
    /// Collapsed stacks (`root;...;leaf VALUE`) for flamegraph.pl, inferno and speedscope.
    Folded(Box<FoldedArgs>),
    /// An interactive SVG flame graph; with --base or --diff-base a differential one.
    Flame(Box<FlameArgs>),
}

/// Options every report shares.
#[derive(Debug, Args)]
pub struct Common {
    /// Output format [default: table on a terminal, else text].
    #[arg(long, short = 'F', value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Refuse profiles that decompress to more than this many bytes (guards against gzip bombs).
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_DECOMPRESSED)]
    pub max_decompressed: u64,
    /// Refuse profiles whose decoded form would take more than this many bytes of memory.
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_MEMORY)]
    pub max_memory: u64,
}

/// Where binaries come from, for the commands that symbolize.
#[derive(Debug, Args, Clone, Default)]
pub struct SymArgs {
    /// A binary or shared library to symbolize with (repeatable); matched to mappings by build ID, then file name.
    #[arg(long = "binary", short = 'b', value_name = "PATH")]
    pub binaries: Vec<PathBuf>,
    /// Directories to search, with pprof's layouts (`:`-separated) [default: $PPROF_BINARY_PATH].
    #[arg(long, value_name = "DIRS")]
    pub search_path: Option<String>,
    /// Global debug directory for build-id and debuglink lookups (repeatable) [default: /usr/lib/debug].
    #[arg(long = "debug-dir", value_name = "DIR")]
    pub debug_dirs: Vec<PathBuf>,
    /// Symbol source: auto is DWARF, else Go pclntab, else the symbol tables.
    #[arg(long, default_value = "auto", value_name = "SOURCE")]
    pub symbols: SymbolsArg,
    /// C++ names in profiles: short (pprof's default: no parameters, templates, clone suffixes), templates,
    /// full, none (linkage names).
    #[arg(long, default_value = "short", value_name = "MODE")]
    pub demangle: DemangleArg,
    /// Re-symbolize mappings that already carry symbols.
    #[arg(long)]
    pub force: bool,
    /// Do not open the files named in the profile's mappings: use only --binary, the main binary and the search
    /// path (for reproducible output on machines whose system libraries differ).
    #[arg(long)]
    pub no_mapping_paths: bool,
    /// A copy of the profiled machine's files: absolute mapping paths are looked up under DIR instead of /
    /// (DIR/usr/lib/debug is searched for debug files before the default).
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,
    /// Never contact a debuginfod server ($DEBUGINFOD_URLS); files already in the debuginfod cache are used.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct RawArgs {
    /// Profile file (any format we read); `-` reads standard input.
    pub profile: PathBuf,
    /// The main executable: names the first mapping's file, as in `go tool pprof -raw BINARY PROFILE`.
    pub binary: Option<PathBuf>,
    #[command(flatten)]
    pub sym: SymArgs,
    /// Symbolize as pprof does (local), or print the profile as read (none, as pprof's -symbolize=none; Go
    /// debug=1 comment names are not used either).
    #[arg(long, default_value = "local", value_name = "MODE")]
    pub symbolize: SymbolizeMode,
    /// Refuse profiles that decompress to more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_DECOMPRESSED)]
    pub max_decompressed: u64,
    /// Refuse profiles whose decoded form would take more than this many bytes of memory.
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_MEMORY)]
    pub max_memory: u64,
}

/// `raw --symbolize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SymbolizeMode {
    /// Symbolize from local binaries.
    #[default]
    Local,
    /// Do not symbolize.
    None,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Profile file (any format we read); `-` reads standard input.
    pub profile: PathBuf,
    /// Output file (gzipped profile.proto), written atomically.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: PathBuf,
    /// Refuse profiles that decompress to more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_DECOMPRESSED)]
    pub max_decompressed: u64,
    /// Refuse profiles whose decoded form would take more than this many bytes of memory.
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_MEMORY)]
    pub max_memory: u64,
}

#[derive(Debug, Args)]
pub struct SymbolizeArgs {
    /// Profile to symbolize; `-` reads standard input.
    pub profile: PathBuf,
    /// Output file (gzipped profile.proto), written atomically.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: PathBuf,
    /// The main executable (the first mapping's binary), as in `go tool pprof BINARY PROFILE`.
    #[arg(long, value_name = "PATH")]
    pub main_binary: Option<PathBuf>,
    #[command(flatten)]
    pub sym: SymArgs,
    /// Refuse profiles that decompress to more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_DECOMPRESSED)]
    pub max_decompressed: u64,
    /// Refuse profiles whose decoded form would take more than this many bytes of memory.
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_MEMORY)]
    pub max_memory: u64,
}

#[derive(Debug, Args)]
pub struct AddrsArgs {
    /// Profile file; `-` reads standard input.
    pub profile: PathBuf,
    /// The main executable (the first mapping's binary).
    pub main_binary: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub sym: SymArgs,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Profile file (profile.proto, gzipped or not, or a legacy format); `-` reads standard input.
    pub profile: PathBuf,
    #[command(flatten)]
    pub common: Common,
    /// Find each mapping's binary (and debug file) as the symbolizing commands do, and say where it came from.
    /// (A legacy profile's mappings are always looked up: their build IDs are shown, the profile has none.)
    #[arg(long)]
    pub locate: bool,
    #[command(flatten)]
    pub sym: SymArgs,
}

/// The profiles a report reads: merged when several, with bases subtracted (pprof's sources and bases).
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Profiles (merged when several, as `go tool pprof A B`); `-` reads standard input. A file with an ELF header
    /// is the main executable instead (it names the first mapping, as in `go tool pprof BINARY PROFILE`).
    #[arg(required = true, value_name = "PROFILE|BINARY")]
    pub inputs: Vec<PathBuf>,
    /// Subtract this profile, as `go tool pprof -base` (repeatable: the bases are merged, then subtracted).
    #[arg(long, value_name = "OLD", conflicts_with = "diff_base")]
    pub base: Vec<PathBuf>,
    /// Compare with this profile, as `go tool pprof -diff_base`: like --base, but percentages are relative to the
    /// base's total (repeatable).
    #[arg(long, value_name = "OLD")]
    pub diff_base: Vec<PathBuf>,
    /// Before subtracting, scale the profile so each sample type's total equals the base's (pprof's -normalize).
    #[arg(long)]
    pub normalize: bool,
}

/// Bounds on reading profiles.
#[derive(Debug, Args, Clone, Copy)]
pub struct Bounds {
    /// Refuse profiles that decompress to more than this many bytes (guards against gzip bombs).
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_DECOMPRESSED)]
    pub max_decompressed: u64,
    /// Refuse profiles whose decoded form would take more than this many bytes of memory.
    #[arg(long, value_name = "BYTES", default_value_t = pprofsym::profile::DEFAULT_MAX_MEMORY)]
    pub max_memory: u64,
}

/// Label filters, with pprof's syntax.
#[derive(Debug, Args, Clone, Default)]
pub struct TagArgs {
    /// Keep only samples with a label matching [KEY=]VALUE: a number or range with an optional unit (`1mb`,
    /// `64kb:`, `:4kb`, `64kb:1mb`, bounds included) for numeric labels, else regular expressions (`a,b`).
    #[arg(long, value_name = "[KEY=]VALUE")]
    pub tag_focus: Option<String>,
    /// Drop samples with a label matching [KEY=]VALUE (same syntax as --tag-focus).
    #[arg(long, value_name = "[KEY=]VALUE")]
    pub tag_ignore: Option<String>,
}

/// What a graph report shows: the sample type, the granularity, and the filters.
#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
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
    /// Row granularity.
    #[arg(long, short = 'g', default_value = "functions", value_name = "G")]
    pub granularity: GranularityArg,
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
    #[command(flatten)]
    pub tags: TagArgs,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub sym: SymArgs,
    #[command(flatten)]
    pub select: SelectArgs,
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
    /// Leave out rows whose flat weight is negative (or zero with a negative cum), as pprof's -drop_negative.
    #[arg(long)]
    pub drop_negative: bool,
    /// Unit of values: minimum (as pprof), auto, or a unit such as B, kB, MB, GB.
    #[arg(long, default_value = "minimum")]
    pub unit: String,
}

#[derive(Debug, Args)]
pub struct SitesArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub sym: SymArgs,
    #[command(flatten)]
    pub tags: TagArgs,
    /// Order rows by.
    #[arg(long, default_value = "inuse_space")]
    pub sort: SortArg,
    /// Show at most N sites.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Output file (gzipped profile.proto), written atomically.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: PathBuf,
    #[command(flatten)]
    pub bounds: Bounds,
    #[command(flatten)]
    pub sym: SymArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier heap profile; `-` reads standard input.
    pub old: PathBuf,
    /// The later heap profile.
    pub new: PathBuf,
    /// The main executable (the first mapping's binary of both).
    pub binary: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub sym: SymArgs,
    #[command(flatten)]
    pub tags: TagArgs,
    /// Compare allocated space and objects (since the program started) instead of inuse.
    #[arg(long)]
    pub alloc: bool,
    /// Order rows by.
    #[arg(long, default_value = "growth")]
    pub sort: DiffSortArg,
    /// Show at most N sites.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct TracesArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub bounds: Bounds,
    #[command(flatten)]
    pub sym: SymArgs,
    #[command(flatten)]
    pub select: SelectArgs,
}

#[derive(Debug, Args)]
pub struct FoldedArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub bounds: Bounds,
    #[command(flatten)]
    pub sym: SymArgs,
    #[command(flatten)]
    pub select: SelectArgs,
}

#[derive(Debug, Args)]
pub struct FlameArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Output SVG file, written atomically (`-`: standard output).
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: PathBuf,
    /// Title [default: the sample type and total].
    #[arg(long)]
    pub title: Option<String>,
    /// Image width in pixels.
    #[arg(long, default_value_t = 1200, value_name = "PX")]
    pub width: usize,
    /// Callers at the top (an icicle graph, as pprof's web view draws it).
    #[arg(long)]
    pub inverted: bool,
    #[command(flatten)]
    pub bounds: Bounds,
    #[command(flatten)]
    pub sym: SymArgs,
    #[command(flatten)]
    pub select: SelectArgs,
}

#[derive(Debug, Args)]
pub struct Addr2lineArgs {
    /// The binary (required unless --maps or --pid is given; then it serves the maps lines naming it).
    #[arg(short = 'e', long = "exe", value_name = "BIN")]
    pub exe: Option<PathBuf>,
    /// Hexadecimal addresses (with or without 0x); none: one per line from standard input.
    #[arg(value_name = "ADDR")]
    pub addrs: Vec<String>,
    /// Print the function name before file:line.
    #[arg(short = 'f', long)]
    pub functions: bool,
    /// Print all inline frames, innermost first.
    #[arg(short = 'i', long)]
    pub inlines: bool,
    /// Demangle names (raw linkage names otherwise).
    #[arg(short = 'C', long)]
    pub demangle: bool,
    /// Print the address before its answer.
    #[arg(short = 'a', long)]
    pub addresses: bool,
    /// Print file base names only.
    #[arg(short = 's', long)]
    pub basenames: bool,
    /// One line per frame: `func at file:line`, callers prefixed `(inlined by)`.
    #[arg(short = 'p', long)]
    pub pretty_print: bool,
    /// Output format: text (GNU addr2line's) or json (one object per address and line).
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    pub format: Addr2lineFormatArg,
    /// A /proc/PID/maps text: addresses are runtime addresses of that process.
    #[arg(long, value_name = "FILE", conflicts_with = "pid")]
    pub maps: Option<PathBuf>,
    /// Read /proc/PID/maps of a running process: addresses are its runtime addresses.
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// Directory to search for the files named in maps lines (repeatable).
    #[arg(long, value_name = "DIR")]
    pub search_path: Vec<PathBuf>,
    /// Accepted for compatibility: standard input is always answered in sorted, parallel batches of whatever is
    /// already readable.
    #[arg(long, hide = true)]
    pub batch: bool,
    /// Never contact a debuginfod server ($DEBUGINFOD_URLS); files already in the debuginfod cache are used.
    #[arg(long)]
    pub offline: bool,
}

/// `--format` of the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A table with aligned columns.
    Table,
    /// Plain text, as `go tool pprof` prints it.
    Text,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// `--symbols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SymbolsArg {
    /// DWARF, else Go pclntab, else the symbol tables.
    #[default]
    Auto,
    /// DWARF, then the symbol tables.
    Dwarf,
    /// The Go pclntab first.
    Pclntab,
    /// Only the symbol tables.
    Symtab,
}

impl From<SymbolsArg> for SymbolSource {
    fn from(s: SymbolsArg) -> SymbolSource {
        match s {
            SymbolsArg::Auto => SymbolSource::Auto,
            SymbolsArg::Dwarf => SymbolSource::Dwarf,
            SymbolsArg::Pclntab => SymbolSource::Pclntab,
            SymbolsArg::Symtab => SymbolSource::Symtab,
        }
    }
}

/// `--demangle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DemangleArg {
    /// No parameters, template arguments or clone suffixes (pprof's default).
    #[default]
    #[value(alias = "default")]
    Short,
    /// Keep template arguments.
    Templates,
    /// The full demangled name.
    Full,
    /// The linkage name.
    None,
}

impl From<DemangleArg> for DemangleMode {
    fn from(d: DemangleArg) -> DemangleMode {
        match d {
            DemangleArg::Short => DemangleMode::Short,
            DemangleArg::Templates => DemangleMode::Templates,
            DemangleArg::Full => DemangleMode::Full,
            DemangleArg::None => DemangleMode::None,
        }
    }
}

/// `--granularity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GranularityArg {
    /// One row per function.
    Functions,
    /// One row per function and file.
    Filefunctions,
    /// One row per file.
    Files,
    /// One row per source line.
    Lines,
    /// One row per address.
    Addresses,
}

impl From<GranularityArg> for Granularity {
    fn from(g: GranularityArg) -> Granularity {
        match g {
            GranularityArg::Functions => Granularity::Functions,
            GranularityArg::Filefunctions => Granularity::FileFunctions,
            GranularityArg::Files => Granularity::Files,
            GranularityArg::Lines => Granularity::Lines,
            GranularityArg::Addresses => Granularity::Addresses,
        }
    }
}

/// `sites --sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Inuse space, descending.
    #[value(name = "inuse_space")]
    InuseSpace,
    /// Inuse objects, descending.
    #[value(name = "inuse_objects")]
    InuseObjects,
    /// Alloc space, descending.
    #[value(name = "alloc_space")]
    AllocSpace,
    /// Alloc objects, descending.
    #[value(name = "alloc_objects")]
    AllocObjects,
    /// Average object size, descending.
    #[value(name = "avg_size")]
    AvgSize,
    /// Site name.
    Name,
}

impl From<SortArg> for SiteSort {
    fn from(s: SortArg) -> SiteSort {
        match s {
            SortArg::InuseSpace => SiteSort::InuseSpace,
            SortArg::InuseObjects => SiteSort::InuseObjects,
            SortArg::AllocSpace => SiteSort::AllocSpace,
            SortArg::AllocObjects => SiteSort::AllocObjects,
            SortArg::AvgSize => SiteSort::AvgSize,
            SortArg::Name => SiteSort::Name,
        }
    }
}

/// `addr2line --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Addr2lineFormatArg {
    /// GNU addr2line's text.
    Text,
    /// One JSON object per address.
    Json,
}

/// `diff --sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffSortArg {
    /// Space delta, largest growth first.
    Growth,
    /// Object count delta, largest growth first.
    Objects,
    /// Space in the new profile.
    New,
    /// Space in the old profile.
    Old,
    /// Site name.
    Name,
}

impl From<DiffSortArg> for GrowthSort {
    fn from(s: DiffSortArg) -> GrowthSort {
        match s {
            DiffSortArg::Growth => GrowthSort::Space,
            DiffSortArg::Objects => GrowthSort::Objects,
            DiffSortArg::New => GrowthSort::New,
            DiffSortArg::Old => GrowthSort::Old,
            DiffSortArg::Name => GrowthSort::Name,
        }
    }
}
