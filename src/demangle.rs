//! Demangling linkage names: Rust (legacy and v0) with `rustc-demangle`, C++ (Itanium ABI) with GNU's own
//! demangler.
//!
//! C++ names go through libstdc++'s `abi::__cxa_demangle`, which is libiberty's `cp-demangle.c`: the demangler of
//! c++filt and GNU addr2line, present wherever a C++ program runs. Pure-Rust C++ demanglers get templated
//! constructors, empty parameter packs and pack expansions wrong (they drop parameters: `pair<int&, std::string,
//! true>(std::string&&)` for `(int&, std::string&&)`); GNU's does not, and its answers are the ones users compare
//! with. Only names that start with `_Z` are treated as C++ (as c++filt does without `-t`), so a C function called
//! `i` stays `i`, not `int`.
//!
//! How demangled names are then written into profiles (pprof's short, templates and full forms) is
//! [`crate::profile::names`]' business.

use std::ffi::{CStr, CString, c_char, c_int};

/// The longest name handed to the C++ demangler. Real names are at most a few kilobytes; the bound keeps a
/// hostile symbol table from making the demangler do unbounded work.
const MAX_CXX_NAME: usize = 1 << 16;

unsafe extern "C" {
    /// `abi::__cxa_demangle` (Itanium C++ ABI, in libstdc++): a `malloc`ed, NUL-terminated demangled name, or
    /// null with `*status` != 0.
    fn __cxa_demangle(mangled: *const c_char, out: *mut c_char, len: *mut usize, status: *mut c_int) -> *mut c_char;
}

/// The demangled form of a symbol-table name, or the name itself when it is not mangled: Rust first, then C++.
pub fn demangle(raw: &str) -> String {
    demangle_language(raw, None)
}

/// [`demangle`], knowing the DWARF language of the unit the name comes from (`None` when unknown): a Rust unit's
/// names are demangled as Rust, a C++ unit's as C++, other languages' are left alone.
pub(crate) fn demangle_language(raw: &str, language: Option<gimli::DwLang>) -> String {
    let found = match language {
        None => rust(raw).or_else(|| cxx(raw)),
        Some(gimli::DW_LANG_Rust) => rust(raw),
        Some(
            gimli::DW_LANG_C_plus_plus
            | gimli::DW_LANG_C_plus_plus_03
            | gimli::DW_LANG_C_plus_plus_11
            | gimli::DW_LANG_C_plus_plus_14
            | gimli::DW_LANG_C_plus_plus_17
            | gimli::DW_LANG_C_plus_plus_20,
        ) => cxx(raw),
        Some(_) => None,
    };
    found.unwrap_or_else(|| raw.to_string())
}

/// A Rust symbol, demangled without its hash.
fn rust(raw: &str) -> Option<String> {
    rustc_demangle::try_demangle(raw).ok().map(|d| format!("{d:#}"))
}

/// A C++ symbol demangled by GNU's demangler; `None` when it is not one (or too long, or not valid).
pub fn cxx(raw: &str) -> Option<String> {
    if !raw.starts_with("_Z") || raw.len() > MAX_CXX_NAME {
        return None;
    }
    let c = CString::new(raw).ok()?;
    let mut status: c_int = 0;
    // SAFETY: `c` is a valid NUL-terminated string; with a null output buffer and length, `__cxa_demangle`
    // allocates the result with `malloc`, which is freed below once copied. The function keeps no state between
    // calls and is safe to call from several threads.
    unsafe {
        let out = __cxa_demangle(c.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), &mut status);
        if out.is_null() {
            return None;
        }
        let s = (status == 0).then(|| CStr::from_ptr(out).to_string_lossy().into_owned());
        libc::free(out.cast());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_spelling_keeps_every_parameter() {
        // cpp_demangle gives `names::make_obj<names::Blob, >(&&)`; c++filt's answer:
        assert_eq!(
            demangle("_ZN5names8make_objINS_4BlobEJEEEPT_DpOT0_"),
            "names::Blob* names::make_obj<names::Blob>()"
        );
        assert_eq!(demangle("_Z1fv.isra.0"), "f() [clone .isra.0]");
        assert_eq!(demangle("i"), "i");
        assert_eq!(demangle("main.cold"), "main.cold");
        assert_eq!(demangle("_Z"), "_Z");
        assert_eq!(demangle("_ZN4core3fmt5write17h0123456789abcdefE"), "core::fmt::write");
    }
}
