//! The `pprofsym` command: parse flags, run one command, print.

mod cli;
mod cmd;
mod hugepages;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// The system allocator, with huge pages for large blocks (see [`hugepages`]).
#[global_allocator]
static ALLOCATOR: hugepages::HugePages = hugepages::HugePages;

fn main() -> ExitCode {
    tune_allocator();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A flag value outside its set is one line and exit status 1, like every other bad input.
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidValue => {
            eprintln!("pprofsym: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
        Err(e) => e.exit(),
    };
    let res = match cli.command {
        Command::Info(a) => cmd::reports::info(a),
        Command::Top(a) => cmd::reports::top(&a),
        Command::Sites(a) => cmd::reports::sites(a),
        Command::Symbolize(a) => cmd::symbolize::run(a),
        Command::Addrs(a) => cmd::reports::addrs(a),
        Command::Addr2line(a) => cmd::addr2line::main(a),
        Command::Raw(a) => cmd::legacy::raw(a),
        Command::Convert(a) => cmd::legacy::convert(a),
        Command::Merge(a) => cmd::compare::merge(*a),
        Command::Diff(a) => cmd::compare::diff(*a),
        Command::Traces(a) => cmd::compare::traces_cmd(*a),
        Command::Folded(a) => cmd::compare::folded_cmd(*a),
        Command::Flame(a) => cmd::compare::flame_cmd(*a),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pprofsym: {e}");
            ExitCode::FAILURE
        }
    }
}

/// clap's message on one line: `invalid value 'x' for '--flag <V>' (possible values: a, b)`.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("").trim_start_matches("error: ").to_string();
    match lines.find_map(|l| l.strip_prefix('[').and_then(|l| l.strip_suffix(']'))) {
        Some(values) => format!("{first} ({values})"),
        None => first,
    }
}

/// glibc's malloc raises its mmap threshold each time a large block is freed, after which large blocks come from
/// the heap and their freed space stays resident. Symbolization frees many large blocks (each window's line tables
/// and function lists), so a fixed threshold of 128 KiB lowers the peak memory (by 3 to 5 MiB on the bench
/// binaries; see scripts/bench-symbolize.sh) at no cost in speed.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter; it is called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
