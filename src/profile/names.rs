//! How demangled C++ names are written into profiles, following pprof's `-symbolize=demangle=MODE`.
//!
//! Symbolizers return the full demangled name (`ns::Cls<T>::f(int) const [clone .isra.0]`). Profiles read better
//! and aggregate better with pprof's default short form (`ns::Cls::f`), which drops parameter lists, template
//! arguments and clone suffixes; the full linkage name stays in `Function.system_name`.

/// Which form of a demangled C++ name goes into `Function.name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DemangleMode {
    /// Drop parameters, template arguments and clone suffixes (pprof's default).
    #[default]
    Short,
    /// Drop parameters and clone suffixes, keep template arguments (pprof's `demangle=templates`).
    Templates,
    /// The full demangled name (pprof's `demangle=full`).
    Full,
    /// The raw linkage name (pprof's `demangle=none`).
    None,
}

impl DemangleMode {
    /// Parses `short|default`, `templates`, `full`, `none`.
    pub fn parse(s: &str) -> Option<DemangleMode> {
        Some(match s {
            "short" | "default" => DemangleMode::Short,
            "templates" => DemangleMode::Templates,
            "full" => DemangleMode::Full,
            "none" => DemangleMode::None,
            _ => return None,
        })
    }
}

/// The name to store for a function whose linkage name is `raw` and whose demangled name is `demangled`.
/// Only C++ names (`_Z…`) are shortened; Rust, C and Go names pass through.
pub fn profile_name(raw: &str, demangled: &str, mode: DemangleMode) -> String {
    // Legacy Rust symbols are `_ZN…17h<hash>E`: Itanium-shaped but not C++.
    let is_cxx = raw.starts_with("_Z") && demangled != raw && rustc_demangle::try_demangle(raw).is_err();
    match mode {
        DemangleMode::None if !raw.is_empty() => raw.to_string(),
        DemangleMode::Short if is_cxx => simplify(demangled, false),
        DemangleMode::Templates if is_cxx => simplify(demangled, true),
        _ => demangled.to_string(),
    }
}

/// The name pprof shows for a function, as its loader's demangling pass computes it (`go tool pprof` runs it on
/// every profile it opens): a name that differs from the system name is kept; a mangled system name is demangled
/// per `mode`; an unmangled name that looks like demangled C++ loses its `(...)` (and `<...>` in the default mode)
/// groups.
pub fn display_name(name: &str, system_name: &str, mode: DemangleMode) -> String {
    if mode == DemangleMode::None || (!name.is_empty() && name != system_name) {
        return name.to_string();
    }
    let sys = if system_name.is_empty() { name } else { system_name };
    let demangled = crate::demangle::demangle(sys);
    if demangled != sys {
        return profile_name(sys, &demangled, mode);
    }
    if looks_like_demangled_cpp(sys) {
        let mut n = remove_matching(sys, b'(', b')');
        if mode == DemangleMode::Short {
            n = remove_matching(&n, b'<', b'>');
        }
        return n;
    }
    sys.to_string()
}

/// pprof's heuristic for an already demangled C++ name (not Java `class.<init>`, not Go `pkg.(*T[...]).M`).
fn looks_like_demangled_cpp(s: &str) -> bool {
    if s.contains(".<") || s.contains("]).") {
        return false;
    }
    s.contains(['<', '>', '[', ']']) || s.contains("::")
}

/// Removes nested `start…end` groups; a stray `end` leaves the name as it was (pprof's `removeMatching`).
fn remove_matching(name: &str, start: u8, end: u8) -> String {
    let b = name.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut depth = 0i32;
    let mut first = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == start {
            if depth == 0 {
                first = i;
            }
            depth += 1;
        } else if c == end {
            depth -= 1;
            if depth < 0 {
                return name.to_string();
            }
        } else if depth == 0 {
            out.push(c);
        }
    }
    if depth != 0 {
        // An unclosed group stays, from its opener on.
        out.extend_from_slice(&b[first..]);
    }
    String::from_utf8(out).unwrap_or_else(|_| name.to_string())
}

/// Length of the C++ operator token at the start of `s` (after the word `operator`), longest match first.
fn operator_len(s: &str) -> usize {
    const OPS: [&str; 39] = [
        "<<=", ">>=", "<=>", "->*", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--", "+=", "-=", "*=", "/=",
        "%=", "&=", "|=", "^=", "->", "()", "[]", "+", "-", "*", "/", "%", "^", "&", "|", "~", "!", "=", "<", ">", ",",
    ];
    OPS.iter().find(|op| s.starts_with(**op)).map_or(0, |op| op.len())
}

const RESERVED: [&str; 2] = ["(anonymous namespace)", "operator()"];

/// Removes `(...)` groups (except reserved ones), `<...>` groups unless `keep_templates`, trailing cv/ref
/// qualifiers and ` [clone …]` suffixes, by bracket matching.
pub fn simplify(name: &str, keep_templates: bool) -> String {
    let mut out = String::with_capacity(name.len());
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &name[i..];
        if let Some(r) = RESERVED.iter().find(|r| rest.starts_with(**r)) {
            out.push_str(r);
            i += r.len();
            continue;
        }
        if rest.starts_with(" [clone ") {
            // Skip to the matching ']'.
            match rest.find(']') {
                Some(end) => {
                    i += end + 1;
                    continue;
                }
                None => break,
            }
        }
        // `operator<`, `operator<<`, `operator->` etc. are names, not template brackets.
        if let Some(op) = rest.strip_prefix("operator") {
            let sym_len = operator_len(op);
            out.push_str(&rest[..8 + sym_len]);
            i += 8 + sym_len;
            continue;
        }
        let c = bytes[i];
        let close = match c {
            b'(' => Some(b')'),
            b'<' if !keep_templates => Some(b'>'),
            _ => None,
        };
        if let Some(close) = close {
            let mut depth = 0usize;
            let mut j = i;
            while j < bytes.len() {
                if bytes[j] == c {
                    depth += 1;
                } else if bytes[j] == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            i = j + 1;
            continue;
        }
        out.push(c as char);
        i += 1;
    }
    let mut s = out.trim_end().to_string();
    for q in [" const", " volatile", " &&", " &", " noexcept"] {
        while let Some(t) = s.strip_suffix(q) {
            s = t.trim_end().to_string();
        }
    }
    // A return type (templates print one: `void ns::f<int>(int)`) ends at the last space outside a reserved name.
    let mut cut = None;
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if let Some(r) = RESERVED.iter().find(|r| rest.starts_with(**r)) {
            i += r.len();
            continue;
        }
        if let Some(op) = rest.strip_prefix("operator") {
            i += 8 + operator_len(op);
            continue;
        }
        match rest.as_bytes()[0] {
            b'<' => depth += 1,
            b'>' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 => cut = Some(i),
            _ => {}
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    match cut {
        Some(c) if c + 1 < s.len() => s[c + 1..].to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_drop_params_templates_and_clones() {
        assert_eq!(
            simplify(
                "demo::store::Registry::make_widgets(unsigned long) const [clone .isra.0]",
                false
            ),
            "demo::store::Registry::make_widgets"
        );
        assert_eq!(
            simplify(
                "std::vector<demo::store::Widget, std::allocator<demo::store::Widget> >::emplace_back<demo::store::Widget>(demo::store::Widget&&)",
                false
            ),
            "std::vector::emplace_back"
        );
        assert_eq!(
            simplify(
                "std::vector<demo::Widget, std::allocator<demo::Widget> >::emplace_back<demo::Widget>(demo::Widget&&)",
                true
            ),
            "std::vector<demo::Widget, std::allocator<demo::Widget> >::emplace_back<demo::Widget>"
        );
        assert_eq!(
            simplify("demo::run_lambdas(int)::{lambda(int)#1}::operator()(int) const", false),
            "demo::run_lambdas::{lambda#1}::operator()"
        );
        assert_eq!(
            simplify("(anonymous namespace)::helper(int)", false),
            "(anonymous namespace)::helper"
        );
        assert_eq!(
            simplify("std::ostream& operator<<(std::ostream&, X const&)", false),
            "operator<<"
        );
        assert_eq!(simplify("X::operator->() const", false), "X::operator->");
    }

    #[test]
    fn display_names_follow_pprofs_loader() {
        let d = DemangleMode::Short;
        assert_eq!(
            display_name(
                "__invoke_impl<char*, f(int)::<lambda(int)>&, int>",
                "__invoke_impl<char*, f(int)::<lambda(int)>&, int>",
                d
            ),
            "__invoke_impl"
        );
        assert_eq!(
            display_name("main.(*T[...]).M", "main.(*T[...]).M", d),
            "main.(*T[...]).M"
        );
        assert_eq!(display_name("geom.Sum[...]", "geom.Sum[...]", d), "geom.Sum[...]");
        assert_eq!(display_name("a::f", "_ZN1a1fEi", d), "a::f");
        assert_eq!(display_name("", "_ZN1a1fEi", d), "a::f");
        assert_eq!(display_name("_ZN1a1fEi", "_ZN1a1fEi", d), "a::f");
        assert_eq!(
            display_name("runtime.mallocgc", "runtime.mallocgc", d),
            "runtime.mallocgc"
        );
        assert_eq!(
            display_name("java.util.Foo.<init>", "java.util.Foo.<init>", d),
            "java.util.Foo.<init>"
        );
        assert_eq!(remove_matching("a)b(", b'(', b')'), "a)b(");
    }

    #[test]
    fn return_types_go() {
        assert_eq!(
            simplify(
                "void std::__cxx11::basic_string<char>::_M_construct<char*>(char*, char*)",
                false
            ),
            "std::__cxx11::basic_string::_M_construct"
        );
        assert_eq!(
            simplify("(anonymous namespace)::Foo::bar() const", false),
            "(anonymous namespace)::Foo::bar"
        );
    }

    #[test]
    fn only_cxx_names_are_shortened() {
        assert_eq!(profile_name("_ZN1a1fEi", "a::f(int)", DemangleMode::Short), "a::f");
        assert_eq!(profile_name("_ZN1a1fEi", "a::f(int)", DemangleMode::Full), "a::f(int)");
        assert_eq!(profile_name("_ZN1a1fEi", "a::f(int)", DemangleMode::None), "_ZN1a1fEi");
        assert_eq!(
            profile_name("main.(*T).f", "main.(*T).f", DemangleMode::Short),
            "main.(*T).f"
        );
        let rust = "_ZN80_$LT$tikv_jemallocator..Jemalloc$u20$as$u20$core..alloc..global..GlobalAlloc$GT$5alloc17h34a4f49cc2eda9c1E";
        let dem = "<tikv_jemallocator::Jemalloc as core::alloc::global::GlobalAlloc>::alloc";
        assert_eq!(profile_name(rust, dem, DemangleMode::Short), dem);
    }
}
