//! Demangling linkage names: Rust (legacy and v0) first, then C++ (Itanium).
//!
//! How demangled names are then written into profiles (pprof's short, templates and full forms) is
//! [`crate::profile::names`]' business.

use std::borrow::Cow;

/// The demangled form of a symbol-table name, or the name itself when it is not mangled.
pub fn demangle(raw: &str) -> String {
    demangle_language(raw, None)
}

/// [`demangle`], knowing the DWARF language of the unit the name comes from (`None` when unknown).
pub(crate) fn demangle_language(raw: &str, language: Option<gimli::DwLang>) -> String {
    addr2line::demangle_auto(Cow::Borrowed(raw), language).into_owned()
}
