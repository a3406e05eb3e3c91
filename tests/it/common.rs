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

/// Environment variables that change where pprofsym looks for binaries; tests set what they depend on.
pub const LOCATOR_ENV: &[&str] = &["PPROF_BINARY_PATH", "DEBUGINFOD_URLS", "DEBUGINFOD_CACHE_PATH"];

/// A `pprofsym` command that does not inherit the caller's binary search settings ([`LOCATOR_ENV`]).
pub fn pprofsym() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pprofsym"));
    for v in LOCATOR_ENV {
        c.env_remove(v);
    }
    c
}

/// Run `pprofsym addr2line ARGS` with `stdin`; (stdout, stderr, success).
pub fn run_addr2line(args: &[&str], stdin: &str) -> (String, String, bool) {
    let mut child = pprofsym()
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

/// What `go tool pprof -raw` prints for a profile (pprof's `Profile.String`), for comparing whole profiles with the
/// `-raw` goldens: the library's printer, itself checked byte for byte against google/pprof's conformance dumps
/// (legacy_goldens).
pub fn pprof_raw(p: &pprofsym::profile::Profile) -> String {
    pprofsym::report::raw::profile_string(p, None)
}

/// The first line where `ours` and `theirs` differ, for assertion messages (`None` when equal).
pub fn first_difference(ours: &str, theirs: &str) -> Option<String> {
    if ours == theirs {
        return None;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        if x != y {
            return Some(format!(
                "line {} ({} vs {} lines):\n  ours:   {:?}\n  theirs: {:?}",
                i + 1,
                a.len(),
                b.len(),
                x,
                y
            ));
        }
    }
    Some("trailing newline differs".into())
}

/// llvm-symbolizer's spelling of a demangled C++ name rewritten in GNU's (libiberty, c++filt), for the conventions
/// in which the two demanglers differ: clone suffixes (`f() (.isra.0)` → `f() [clone .isra.0]`), lambdas
/// (`'lambda'(int)` → `{lambda(int)#1}`, `'lambda0'` → `#2`), `std::nullptr_t` → `decltype(nullptr)`, integer
/// literals (`0ul` → `(unsigned long)0`), and `>>` closing template arguments (GNU writes `> >` except in a
/// template constructor's own arguments: both are made `>>` here, on either side, by [`same_cxx_name`]).
pub fn gnu_spelling(llvm: &str) -> String {
    let mut s = llvm.replace("std::nullptr_t", "decltype(nullptr)");
    // Clone suffixes, possibly several: ` (.constprop.0) (.isra.0)`.
    while let Some(i) = s.rfind(" (.") {
        match s[i..].find(')') {
            Some(j) if i + j + 1 == s.len() || s[i + j + 1..].starts_with(" [clone") => {
                let suffix = s[i + 3..i + j].to_string();
                let rest = s[i + j + 1..].to_string();
                s = format!("{} [clone .{suffix}]{rest}", &s[..i]);
            }
            _ => break,
        }
    }
    // Lambdas: 'lambda'(args) / 'lambdaN'(args).
    while let Some(i) = s.find("'lambda") {
        let after = &s[i + 7..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let rest = &after[digits.len()..];
        let Some(rest) = rest.strip_prefix("'(") else { break };
        let mut depth = 1;
        let Some(close) = rest.char_indices().find_map(|(k, c)| {
            depth += i32::from(c == '(') - i32::from(c == ')');
            (depth == 0).then_some(k)
        }) else {
            break;
        };
        let n = digits.parse::<u32>().map_or(1, |d| d + 2);
        let args = &rest[..close];
        let tail = &rest[close + 1..];
        s = format!("{}{{lambda({args})#{n}}}{tail}", &s[..i]);
    }
    // Integer literals in template arguments.
    let lit = regex::Regex::new(r"\b([0-9]+)(ul|u)\b").unwrap();
    lit.replace_all(&s, |c: &regex::Captures| {
        let ty = if &c[2] == "ul" { "unsigned long" } else { "unsigned int" };
        format!("({ty}){}", &c[1])
    })
    .into_owned()
}

/// `ours` (GNU's spelling) and `llvm` (llvm-symbolizer's) name the same C++ function, up to the two demanglers'
/// spelling conventions ([`gnu_spelling`]).
pub fn same_cxx_name(ours: &str, llvm: &str) -> bool {
    let close = |s: &str| s.replace("> >", ">>");
    ours == llvm || close(ours) == close(&gnu_spelling(llvm))
}

/// llvm-symbolizer 14's spelling of a legacy-mangled Rust name (`_ZN…17h<hash>E`) in rustc-demangle's: without the
/// hash, and with the escapes llvm leaves undecoded (`_$u7b$$u7b$closure$u7d$$u7d$` → `{{closure}}`).
pub fn rust_spelling(llvm: &str) -> String {
    let s = llvm
        .rsplit_once("::h")
        .filter(|(_, h)| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or(llvm, |(n, _)| n);
    let mut s = s.replace("::_$", "::$");
    if let Some(rest) = s.strip_prefix("_$") {
        s = format!("${rest}");
    }
    for (from, to) in [
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$LP$", "("),
        ("$RP$", ")"),
        ("$C$", ","),
        ("$u20$", " "),
        ("$u27$", "'"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$u7e$", "~"),
        ("..", "::"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// llvm-symbolizer 14 names an address in a gcc cold partition after its symbol (`main.cold`, `f() (.cold)`); we
/// name it after the function DWARF says it belongs to, as GNU addr2line does: `ours` is that name.
pub fn cold_partition(ours: &str, llvm: &str) -> bool {
    llvm == format!("{ours}.cold") || llvm == format!("{ours} (.cold)")
}
