//! The symbol sources of one binary behind one trait, and the order they are asked in.
//!
//! A binary's frames can come from three places: DWARF ([`super::dwarf`]), Go's function table
//! ([`super::gopclntab`]) and the ELF symbol tables ([`super::symtab`]). Each implements [`Source`]: given an
//! address it answers, or passes (`Ok(None)`) when it does not cover the address. Which sources a binary has,
//! and in what order, is decided once per binary ([`chain`]) from the user's [`SymbolSource`] and what kind of
//! binary it is; every lookup then walks that list.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::gopclntab::{GoNaming, GoPclntab, PclnCache, runtime_name};
use super::intern::FastHash;
use super::symtab::Sym;
use crate::addr::Svma;
use crate::answer::{Frame, FrameSource};
use crate::demangle::demangle;
use crate::error::{Error, ErrorKind, Result};

/// Which symbol source answers for a binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SymbolSource {
    /// DWARF when the binary (or its debug file) has it, else the Go pclntab when the binary is a Go binary, else
    /// the symbol tables. Each source is also the fallback for addresses the previous one does not cover. For a Go
    /// binary this means: built without `-w` (with DWARF) → DWARF; stripped of DWARF → pclntab.
    #[default]
    Auto,
    /// DWARF, then the symbol tables; never the pclntab.
    Dwarf,
    /// The Go pclntab for binaries that have one (a malformed or unsupported table is then an error); binaries
    /// without one are symbolized as with `Auto`. Addresses outside the table fall back to the symbol tables.
    Pclntab,
    /// Only the symbol tables (`.symtab`, then `.dynsym`): function names, no lines.
    Symtab,
}

/// The answer for one SVMA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// Innermost first; empty when nothing is known.
    pub frames: Vec<Frame>,
    /// Where `frames` came from.
    pub source: FrameSource,
    /// The symbol-table symbol containing the address (raw name) and the offset into it.
    pub symbol: Option<(Arc<str>, u64)>,
}

/// A data address resolved to the object symbol containing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSymbol {
    /// Raw symbol name.
    pub name: String,
    /// Symbol start.
    pub start: Svma,
    /// Symbol size.
    pub size: u64,
}

/// One place frames come from.
pub(crate) trait Source {
    /// The frames for `a`, innermost first; `Ok(None)` when this source does not cover `a` (the next source is
    /// asked). An error is this source's data failing to parse.
    fn lookup(&self, a: Svma, cx: &Cx<'_>) -> Result<Option<Lookup>>;
}

/// What the sources asked for one address share.
pub(crate) struct Cx<'a> {
    /// The symbol-table symbol holding the address, and which table it is from.
    pub(crate) symbol: Option<(&'a Sym, FrameSource)>,
    /// That symbol's raw name and the address's offset into it (every answer carries it).
    pub(crate) symbol_offset: Option<(Arc<str>, u64)>,
    /// The name caches of the symbolizer doing the lookup.
    pub(crate) names: &'a Names,
}

/// One step of a binary's [`chain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// DWARF of the binary or its debug file (skipped when there is none).
    Dwarf,
    /// The Go pclntab (skipped when the table is absent or of an unsupported layout, except with
    /// [`SymbolSource::Pclntab`], where an unsupported layout is an error).
    Pclntab,
    /// `.symtab`, then `.dynsym`.
    Symtab,
}

/// The sources a binary is asked, in order: decided once per binary from the user's choice and whether it is a
/// Go binary (has Go's sections).
pub(crate) fn chain(source: SymbolSource, is_go: bool) -> &'static [Step] {
    match source {
        SymbolSource::Auto if is_go => &[Step::Dwarf, Step::Pclntab, Step::Symtab],
        SymbolSource::Auto | SymbolSource::Dwarf => &[Step::Dwarf, Step::Symtab],
        SymbolSource::Pclntab if is_go => &[Step::Pclntab, Step::Symtab],
        SymbolSource::Pclntab => &[Step::Dwarf, Step::Symtab],
        SymbolSource::Symtab => &[Step::Symtab],
    }
}

/// The symbol tables as a source: the name of the symbol holding the address, demangled (no file or line).
pub(crate) struct SymtabSource;

impl Source for SymtabSource {
    fn lookup(&self, _a: Svma, cx: &Cx<'_>) -> Result<Option<Lookup>> {
        let Some((s, source)) = cx.symbol else {
            return Ok(None);
        };
        let (function, system_name) = cx.names.sym_frame_names(s, false);
        let frames = vec![Frame {
            function,
            system_name,
            ..Frame::default()
        }];
        Ok(Some(Lookup {
            frames,
            source,
            symbol: cx.symbol_offset.clone(),
        }))
    }
}

/// Go's function table as a source: the runtime's frames, inline chain included.
impl Source for GoPclntab {
    fn lookup(&self, a: Svma, cx: &Cx<'_>) -> Result<Option<Lookup>> {
        let found = self
            .frames_with(a.get(), &mut cx.names.pcln.borrow_mut())
            .map_err(|e| Error::caused_by(ErrorKind::DebugInfo, "Go pclntab", e))?;
        let Some(gf) = found else {
            return Ok(None);
        };
        let frames = gf
            .into_iter()
            .map(|g| Frame {
                system_name: g.function.clone(),
                function: g.function,
                file: g.file,
                line: g.line,
                column: 0,
                start_line: g.start_line,
            })
            .collect();
        Ok(Some(Lookup {
            frames,
            source: FrameSource::GoPclntab,
            symbol: cx.symbol_offset.clone(),
        }))
    }
}

/// The name caches of one symbolizer (one per batch worker): symbol-table names by symbol, and Go pclntab
/// strings by content, each handed out as one shared `Arc<str>`.
#[derive(Default)]
pub(crate) struct Names {
    /// How the binary's Go linker spelled names (for the Go runtime's spelling of symbol-table names).
    go_naming: GoNaming,
    /// Names of symbol-table symbols, keyed by the symbol's address in its table.
    sym_names: RefCell<HashMap<usize, SymNames, FastHash>>,
    /// Decoding state of Go pclntab lookups (the last function's tables, names by offset).
    pcln: RefCell<PclnCache>,
}

/// The shared strings of one symbol-table symbol, made on first use.
#[derive(Default)]
struct SymNames {
    raw: Option<Arc<str>>,
    demangled: Option<Arc<str>>,
    go: Option<Arc<str>>,
    /// The names of the whole function ([`Names::function_names`]), when the symbol is only part of it.
    whole: Option<(Arc<str>, Arc<str>)>,
}

impl Names {
    /// Empty caches for a binary whose Go linker spells names as `go_naming` says.
    pub(crate) fn new(go_naming: GoNaming) -> Names {
        Names {
            go_naming,
            ..Names::default()
        }
    }

    /// The raw name of `s` (a symbol of one of the binary's tables), shared.
    pub(crate) fn sym_raw(&self, s: &Sym) -> Arc<str> {
        let mut cache = self.sym_names.borrow_mut();
        let e = cache.entry(std::ptr::from_ref(s) as usize).or_default();
        e.raw.get_or_insert_with(|| Arc::from(s.name.as_str())).clone()
    }

    /// The frame names (`function`, `system_name`) of `s`: demangled and raw, or with `go` the Go runtime's
    /// spelling for both.
    pub(crate) fn sym_frame_names(&self, s: &Sym, go: bool) -> (Arc<str>, Arc<str>) {
        let mut cache = self.sym_names.borrow_mut();
        let e = cache.entry(std::ptr::from_ref(s) as usize).or_default();
        if go {
            let naming = self.go_naming;
            let n =
                e.go.get_or_insert_with(|| Arc::from(runtime_name(&s.name, naming)))
                    .clone();
            return (n.clone(), n);
        }
        let raw = e.raw.get_or_insert_with(|| Arc::from(s.name.as_str())).clone();
        let demangled = e
            .demangled
            .get_or_insert_with(|| {
                let d = demangle(&s.name);
                if d == s.name { raw.clone() } else { Arc::from(d) }
            })
            .clone();
        (demangled, raw)
    }

    /// The frame names of the function symbol `s` is part of: for a gcc cold partition (`main.cold`, `f.cold.1`)
    /// or a local alias (`f.localalias`) those of the function itself (`main`, `f`, raw and demangled, clone
    /// suffixes such as `.constprop.0` kept); for any other symbol [`sym_frame_names`](Self::sym_frame_names).
    pub(crate) fn function_names(&self, s: &Sym, go: bool) -> (Arc<str>, Arc<str>) {
        let Some(base) = whole_function(&s.name) else {
            return self.sym_frame_names(s, go);
        };
        let naming = self.go_naming;
        let mut cache = self.sym_names.borrow_mut();
        let e = cache.entry(std::ptr::from_ref(s) as usize).or_default();
        e.whole
            .get_or_insert_with(|| {
                if go {
                    let n: Arc<str> = Arc::from(runtime_name(base, naming));
                    return (n.clone(), n);
                }
                let raw: Arc<str> = Arc::from(base);
                let d = demangle(base);
                let demangled = if d == base { raw.clone() } else { Arc::from(d) };
                (demangled, raw)
            })
            .clone()
    }
}

/// The name of the function a symbol called `name` is part of, when the symbol is a gcc cold partition
/// (`main.cold`, `f.cold.1`) or a local alias (`f.localalias`); `None` for a symbol that is a function of its own
/// (clones such as `f.isra.0`, `f.constprop.0`, `f.part.0` are).
fn whole_function(name: &str) -> Option<&str> {
    if let Some(base) = name.strip_suffix(".localalias") {
        return Some(base);
    }
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let trimmed = match trimmed.strip_suffix('.') {
        Some(t) if trimmed.len() < name.len() => t,
        _ => name,
    };
    trimmed.strip_suffix(".cold").filter(|b| !b.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_and_aliases_belong_to_their_function() {
        assert_eq!(whole_function("main.cold"), Some("main"));
        assert_eq!(whole_function("f.cold.1"), Some("f"));
        assert_eq!(whole_function("c_recurse.localalias"), Some("c_recurse"));
        assert_eq!(
            whole_function("_ZN12_GLOBAL__N_112copy_cstringEPKc.constprop.0.cold"),
            Some("_ZN12_GLOBAL__N_112copy_cstringEPKc.constprop.0")
        );
        assert_eq!(whole_function("f.isra.0"), None);
        assert_eq!(whole_function("cold"), None);
        assert_eq!(whole_function(".cold"), None);
    }

    #[test]
    fn chains_follow_the_choice_and_the_kind_of_binary() {
        use Step::*;
        assert_eq!(chain(SymbolSource::Auto, true), [Dwarf, Pclntab, Symtab]);
        assert_eq!(chain(SymbolSource::Auto, false), [Dwarf, Symtab]);
        assert_eq!(chain(SymbolSource::Pclntab, true), [Pclntab, Symtab]);
        assert_eq!(chain(SymbolSource::Pclntab, false), [Dwarf, Symtab]);
        assert_eq!(chain(SymbolSource::Dwarf, true), [Dwarf, Symtab]);
        assert_eq!(chain(SymbolSource::Symtab, true), [Symtab]);
    }
}
