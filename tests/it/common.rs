//! Helpers shared by the integration test suites.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use pprofsym::addr::Svma;
use pprofsym::binary::locate::LocatorConfig;
use pprofsym::error::Result;
use pprofsym::symbolize::{ElfSymbolizer, Lookup, SymbolSource, Symbolizer, SymbolizerOptions};

/// A file of the repository, from its path relative to the crate root (an absolute path is kept as is).
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A hermetic symbolizer: it sees only the main binary `main` and the explicit binaries `bins` (paths relative to
/// the crate root), never the paths recorded in a profile (they may exist on the machine that made it) nor the
/// system's debug directories.
pub fn hermetic_symbolizer(main: Option<&str>, bins: &[&str], source: SymbolSource) -> Symbolizer {
    Symbolizer::new(SymbolizerOptions {
        locator: LocatorConfig {
            binaries: bins.iter().map(|b| path(b)).collect(),
            main_binary: main.map(path),
            search_path: Vec::new(),
            debug_dirs: Vec::new(),
            use_mapping_path: false,
            ..LocatorConfig::default()
        },
        source,
    })
}

/// The runtime addresses listed in a `*.runtime.txt` golden (the third column of each line, as written), in order.
pub fn runtime_addresses(rel: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .nth(2)
                .unwrap_or_else(|| panic!("{rel}: {l:?}"))
                .to_string()
        })
        .collect()
}

/// The `pprofsym` binary as a command, without the environment that would reach beyond the test's own files:
/// no `DEBUGINFOD_URLS` (a debuginfod server would fill in what the fixtures leave out on purpose) and no
/// `PPROF_BINARY_PATH`.
pub fn pprofsym_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pprofsym"));
    c.env_remove("DEBUGINFOD_URLS").env_remove("PPROF_BINARY_PATH");
    c
}

/// Run `pprofsym addr2line ARGS` with `stdin`; (stdout, stderr, success).
pub fn run_addr2line(args: &[&str], stdin: &str) -> (String, String, bool) {
    let mut child = pprofsym_cmd()
        .arg("addr2line")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

/// Every `step`-th address of `.text` of the symbolizer's binary.
pub fn text_addresses(sym: &ElfSymbolizer, step: usize) -> Vec<Svma> {
    let text = sym.binary().sections().iter().find(|s| s.name == ".text").unwrap();
    let start = text.addr.get();
    (start..start + text.size).step_by(step).map(Svma).collect()
}

/// Batches of `addrs` in windows of each size in `windows` (a fresh DWARF context at each unit change once a window
/// is full), on one thread and on two, answer as single lookups do; returns the single answers.
pub fn assert_windowed_batches_equal_single(
    sym: &mut ElfSymbolizer,
    addrs: &[Svma],
    windows: &[usize],
    what: &str,
) -> Vec<Result<Lookup>> {
    let single: Vec<_> = addrs.iter().map(|&a| sym.frames(a)).collect();
    for &window in windows {
        sym.set_batch_window(window);
        assert_eq!(sym.frames_batch(addrs), single, "{what}, window {window}");
        assert_eq!(
            sym.frames_batch_parallel(addrs, 2),
            single,
            "{what}, window {window}, 2 threads"
        );
    }
    single
}
