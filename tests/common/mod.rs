//! Helpers shared by the integration tests; a test file that uses them declares `mod common;`.

// Each test crate uses only some of the helpers.
#![allow(dead_code)]

use std::path::PathBuf;

use pprofsym::binary::locate::LocatorConfig;
use pprofsym::symbolize::{SymbolSource, Symbolizer, SymbolizerOptions};

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
