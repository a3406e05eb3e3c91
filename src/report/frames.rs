//! Which frames a report leaves out: pprof's `drop_frames` / `keep_frames` matching, shared by the graph's pruning
//! (pprof's `RemoveUninteresting`) and the `sites` report (the same lists extended with the allocator frames).

use regex::Regex;

use crate::error::{Error, ErrorKind, Result};
use crate::profile::Profile;

/// A compiled drop list and keep list (either may be absent). A frame is dropped when its simplified function
/// name ([`simplify_func`]) matches the drop list as a whole and the keep list does not: keep overrides drop.
#[derive(Debug, Clone)]
pub(crate) struct FrameFilter {
    drop: Option<Regex>,
    keep: Option<Regex>,
}

/// The alternation of the non-empty `parts`, anchored as pprof does (`^(a|b)$`); `None` when every part is empty.
fn anchored(parts: &[&str]) -> Option<Result<Regex, regex::Error>> {
    let parts: Vec<&str> = parts.iter().copied().filter(|s| !s.is_empty()).collect();
    if parts.is_empty() {
        return None;
    }
    Some(compile_cached(&format!("^({})$", parts.join("|"))))
}

/// Compiles `pattern`, or clones the compiled copy made before (legacy profiles carry pprof's long allocator list,
/// which each report of a run would otherwise compile again).
fn compile_cached(pattern: &str) -> Result<Regex, regex::Error> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(r);
    }
    let r = Regex::new(pattern)?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 16 {
            c.clear();
        }
        c.insert(pattern.to_string(), r.clone());
    }
    Ok(r)
}

impl FrameFilter {
    /// The profile's own `drop_frames` / `keep_frames`, as pprof's `RemoveUninteresting` applies them when it
    /// loads a profile: `None` when there is no drop list or it does not compile; a keep list that does not
    /// compile is ignored (the drop list alone applies).
    pub(crate) fn from_profile(p: &Profile) -> Option<FrameFilter> {
        let pb = p.pb();
        let drop = anchored(&[p.str(pb.drop_frames)])?.ok()?;
        let keep = anchored(&[p.str(pb.keep_frames)]).and_then(Result::ok);
        Some(FrameFilter { drop: Some(drop), keep })
    }

    /// The profile's own lists, each extended with an alternation of ours (`extra_drop`, `extra_keep`). A list that
    /// does not compile is an error naming it (`bad drop_frames regexp: …`).
    pub(crate) fn extended(p: &Profile, extra_drop: &str, extra_keep: &str) -> Result<FrameFilter> {
        let pb = p.pb();
        let compile = |what: &str, parts: &[&str]| {
            anchored(parts)
                .transpose()
                .map_err(|e| Error::caused_by(ErrorKind::Invalid, format!("bad {what} regexp"), e))
        };
        let drop = compile("drop_frames", &[extra_drop, p.str(pb.drop_frames)])?;
        let keep = compile("keep_frames", &[extra_keep, p.str(pb.keep_frames)])?;
        Ok(FrameFilter { drop, keep })
    }

    /// Whether the frame of function `name` (as displayed) is dropped. An unnamed frame never is.
    pub(crate) fn drops(&self, name: &str) -> bool {
        if name.is_empty() {
            return false;
        }
        let simple = simplify_func(name);
        self.drop.as_ref().is_some_and(|d| d.is_match(simple))
            && !self.keep.as_ref().is_some_and(|k| k.is_match(simple))
    }
}

/// pprof's `simplifyFunc`: drop a C++ parameter list, keeping `(anonymous namespace)` and `operator()`.
pub(crate) fn simplify_func(name: &str) -> &str {
    let name = name.strip_prefix('.').unwrap_or(name);
    let mut i = 0;
    let bytes = name.as_bytes();
    while i < bytes.len() {
        // Bytes, not `&name[i..]`: `i` may be inside a multi-byte character.
        let rest = &bytes[i..];
        if rest.starts_with(b"(anonymous namespace)") {
            i += "(anonymous namespace)".len();
            continue;
        }
        if rest.starts_with(b"operator()") {
            i += "operator()".len();
            continue;
        }
        if bytes[i] == b'(' {
            return &name[..i];
        }
        i += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify_keeps_reserved_parens() {
        assert_eq!(simplify_func("foo(int, char)"), "foo");
        assert_eq!(
            simplify_func("(anonymous namespace)::f(int)"),
            "(anonymous namespace)::f"
        );
        assert_eq!(simplify_func("X::operator()(int) const"), "X::operator()");
        assert_eq!(simplify_func(".malloc"), "malloc");
    }

    #[test]
    fn anchored_joins_non_empty_parts() {
        let re = anchored(&["a|b", "", "c.*"]).unwrap().unwrap();
        assert_eq!(re.as_str(), "^(a|b|c.*)$");
        assert!(re.is_match("cx") && !re.is_match("xa"));
        assert!(anchored(&["", ""]).is_none());
        assert!(anchored(&["("]).unwrap().is_err());
    }

    #[test]
    fn keep_overrides_drop_on_the_simplified_name() {
        let f = FrameFilter {
            drop: anchored(&["runtime\\..*"]).and_then(Result::ok),
            keep: anchored(&["runtime\\.panic"]).and_then(Result::ok),
        };
        assert!(f.drops("runtime.mallocgc"));
        assert!(!f.drops("runtime.panic"));
        assert!(f.drops("runtime.f(int)"));
        assert!(!f.drops("main.f"));
        assert!(!f.drops(""));
    }
}
