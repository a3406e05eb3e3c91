//! ELF symbol tables (`.symtab`, `.dynsym`) as sorted arrays searched by bisection.

use std::sync::Arc;

use object::{Object, ObjectSymbol, SymbolKind};

use crate::binary::Binary;

/// What a symbol names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymKind {
    /// `STT_FUNC` (and untyped symbols in executable sections).
    Code,
    /// `STT_OBJECT`.
    Data,
}

/// One defined symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sym {
    /// `st_value`.
    pub addr: u64,
    /// `st_size` (0 when unknown).
    pub size: u64,
    /// The raw (mangled) name.
    pub name: String,
    /// Code or data.
    pub kind: SymKind,
}

/// A sorted symbol table.
#[derive(Debug, Default)]
pub struct SymbolTable {
    syms: Vec<Sym>,
}

impl SymbolTable {
    /// `.symtab` of `obj` (`dynamic == false`) or `.dynsym`.
    pub fn from_object<'d>(obj: &object::File<'d>, dynamic: bool) -> SymbolTable {
        let mut syms = Vec::new();
        let iter = if dynamic { obj.dynamic_symbols() } else { obj.symbols() };
        for s in iter {
            if s.is_undefined() || s.address() == 0 {
                continue;
            }
            let kind = match s.kind() {
                SymbolKind::Text => SymKind::Code,
                SymbolKind::Data => SymKind::Data,
                _ => continue,
            };
            let Ok(name) = s.name() else { continue };
            if name.is_empty() {
                continue;
            }
            syms.push((
                Sym {
                    addr: s.address(),
                    size: s.size(),
                    name: name.to_string(),
                    kind,
                },
                s.is_global(),
            ));
        }
        // Sort by address; among aliases (identical code folded by the linker, C aliases) keep the one
        // llvm-symbolizer reports: the largest size, then a global symbol before a local one (gcc's
        // `f.localalias` for a recursive `f` compiled with -fPIC), then the greatest name.
        syms.sort_by(|(a, ag), (b, bg)| {
            a.addr
                .cmp(&b.addr)
                .then(b.size.cmp(&a.size))
                .then(bg.cmp(ag))
                .then_with(|| b.name.cmp(&a.name))
        });
        syms.dedup_by(|(b, _), (a, _)| a.addr == b.addr && a.size == b.size);
        SymbolTable {
            syms: syms.into_iter().map(|(s, _)| s).collect(),
        }
    }

    /// Number of symbols kept.
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    /// No symbols.
    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// The symbol containing `addr`: the closest symbol at or below `addr` whose
    /// `[addr, addr+size)` holds it; a size-0 symbol matches if it is the closest one.
    pub fn lookup(&self, addr: u64) -> Option<&Sym> {
        let idx = self.syms.partition_point(|s| s.addr <= addr);
        if idx == 0 {
            return None;
        }
        let closest = &self.syms[idx - 1];
        // Nested or overlapping symbols: look back a little for one that covers `addr`.
        for s in self.syms[..idx].iter().rev().take(8) {
            if s.size > 0 && addr - s.addr < s.size {
                return Some(s);
            }
        }
        (closest.size == 0 && closest.kind == SymKind::Code).then_some(closest)
    }
}

/// The `.symtab` of `bin`, else that of its debug file.
pub(crate) fn build_symtab(bin: &Binary, debug: Option<&Arc<Binary>>) -> SymbolTable {
    let table = |data: &[u8]| {
        object::File::parse(data)
            .map(|o| SymbolTable::from_object(&o, false))
            .unwrap_or_default()
    };
    let t = table(bin.data());
    match debug {
        Some(d) if t.is_empty() => table(d.data()),
        _ => t,
    }
}
