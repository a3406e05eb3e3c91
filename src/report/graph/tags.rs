//! pprof's label filters (`-tagfocus`, `-tagignore`): a sample is kept or dropped by its labels, never by its
//! frames. `KEY=VALUE` or `VALUE`; VALUE is a numeric range with an optional unit (`1mb`, `64kb:`, `:4kb`,
//! `512kb:2mb`, bounds included) when it has exactly one of those shapes, else a comma-separated list of regular
//! expressions matched against string labels.
//!
//! The numbers follow pprof's `measurement` package: units are case-insensitive, a trailing `s` is dropped from
//! names longer than two letters, memory units are powers of 1024 (`mib` is not a unit), and a label value is
//! converted to the bound's unit and matches only if that conversion lands in the same unit (so a unitless bound
//! never matches a `bytes` label).

use std::collections::HashMap;

use regex::Regex;

use crate::error::{Error, ErrorKind, Result};
use crate::profile::{Profile, pb};
use crate::report::measure::scale;

/// One `--tag-focus` or `--tag-ignore` value, parsed.
#[derive(Debug, Clone)]
pub struct TagFilter {
    raw: String,
    key: Option<String>,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Range(NumRange),
    Regexps(Vec<Regex>),
}

/// A numeric range in the unit of its bounds (pprof's canonical unit name, e.g. `MB`, or the name as given when
/// no unit family knows it).
#[derive(Debug, Clone, PartialEq)]
struct NumRange {
    unit: String,
    lo: Option<f64>,
    hi: Option<f64>,
}

impl NumRange {
    fn contains(&self, value: i64, value_unit: &str) -> bool {
        let (v, u) = scale(value, value_unit, &self.unit);
        u == self.unit && self.lo.is_none_or(|lo| v >= lo) && self.hi.is_none_or(|hi| v <= hi)
    }
}

impl TagFilter {
    /// Parses a filter as pprof does. `flag` names the option in the error for a bad regular expression.
    pub fn parse(flag: &str, raw: &str) -> Result<TagFilter> {
        let (key, value) = match raw.split_once('=') {
            Some((k, v)) => ((!k.is_empty()).then(|| k.to_string()), v),
            None => (None, raw),
        };
        let matcher = match parse_range(value) {
            Some(r) => Matcher::Range(r),
            None => Matcher::Regexps(
                value
                    .split(',')
                    .map(|part| {
                        Regex::new(part).map_err(|e| {
                            let e = e.to_string();
                            let why = e.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
                            Error::new(
                                ErrorKind::Usage,
                                format!("--{flag}: invalid regular expression {part:?}: {why}"),
                            )
                        })
                    })
                    .collect::<Result<_>>()?,
            ),
        };
        Ok(TagFilter {
            raw: raw.to_string(),
            key,
            matcher,
        })
    }

    /// The value as given (for the report legend).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The value part was read as a numeric range, not as regular expressions (pprof says so on stderr:
    /// `Interpreted '<value>' as range, not regexp`).
    pub fn range_value(&self) -> Option<&str> {
        match self.matcher {
            Matcher::Range(_) => Some(self.raw.split_once('=').map_or(self.raw.as_str(), |(_, v)| v)),
            Matcher::Regexps(_) => None,
        }
    }

    /// Whether sample `s` of `p` matches; `units` gives the unit of each numeric label key
    /// ([`num_label_units`]).
    pub fn matches(&self, p: &Profile, s: &pb::Sample, units: &HashMap<String, String>) -> bool {
        match &self.matcher {
            Matcher::Range(r) => s.label.iter().any(|l| {
                // pprof's decoder: a label with a string value is a string label; one with a number or a unit is
                // numeric; anything else is no label at all.
                if l.str != 0 || (l.num == 0 && l.num_unit == 0) {
                    return false;
                }
                let key = p.str(l.key);
                if self.key.as_deref().is_some_and(|k| k != key) {
                    return false;
                }
                r.contains(l.num, units.get(key).map_or(key, String::as_str))
            }),
            Matcher::Regexps(res) => {
                let strings = || s.label.iter().filter(|l| l.str != 0);
                match &self.key {
                    Some(k) => {
                        let vals: Vec<&str> = strings().filter(|l| p.str(l.key) == k).map(|l| p.str(l.str)).collect();
                        res.iter().any(|re| vals.iter().any(|v| re.is_match(v)))
                    }
                    None => res
                        .iter()
                        .all(|re| strings().any(|l| re.is_match(&format!("{}:{}", p.str(l.key), p.str(l.str))))),
                }
            }
        }
    }
}

/// `N`, `N:`, `:N` or `N:M` (N, M integers with an optional unit) as pprof's `parseTagFilterRange` reads them.
fn parse_range(value: &str) -> Option<NumRange> {
    static RX: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let rx = RX.get_or_init(|| Regex::new("([+-]?[[:digit:]]+)([[:alpha:]]+)?").expect("valid regexp"));
    let found: Vec<(&str, i64, &str)> = rx
        .captures_iter(value)
        .take(2)
        .map(|c| {
            let whole = c.get(0).map_or("", |m| m.as_str());
            // pprof panics on a number that does not fit; here it is not a range.
            let n = c.get(1).and_then(|m| m.as_str().parse::<i64>().ok());
            (whole, n, c.get(2).map_or("", |m| m.as_str()))
        })
        .map(|(w, n, u)| n.map(|n| (w, n, u)))
        .collect::<Option<_>>()?;
    let (m0, v0, u0) = *found.first()?;
    let (lo, unit) = scale(v0, u0, u0);
    let range = |lo, hi| {
        Some(NumRange {
            unit: unit.clone(),
            lo,
            hi,
        })
    };
    if found.len() == 1 {
        return if value == m0 {
            range(Some(lo), Some(lo))
        } else if value.strip_suffix(':') == Some(m0) {
            range(Some(lo), None)
        } else if value.strip_prefix(':') == Some(m0) {
            range(None, Some(lo))
        } else {
            None
        };
    }
    let (m1, v1, u1) = found[1];
    if value != format!("{m0}:{m1}") {
        return None;
    }
    let (hi, unit2) = scale(v1, u1, &unit);
    if unit2 != unit {
        return None;
    }
    range(Some(lo), Some(hi))
}

/// pprof's `NumLabelUnits`: per numeric label key, the first unit any sample gives it, else one inferred from the
/// key (`alignment` and `request` are bytes; any other key is its own unit, so `bytes` is bytes).
pub fn num_label_units(p: &Profile) -> HashMap<String, String> {
    let mut units: HashMap<String, String> = HashMap::new();
    for s in &p.pb().sample {
        for l in &s.label {
            if l.str != 0 || (l.num == 0 && l.num_unit == 0) {
                continue;
            }
            let key = p.str(l.key);
            let unit = p.str(l.num_unit);
            match units.get_mut(key) {
                Some(u) if u.is_empty() && !unit.is_empty() => *u = unit.to_string(),
                Some(_) => {}
                None => {
                    units.insert(key.to_string(), unit.to_string());
                }
            }
        }
    }
    for (key, unit) in units.iter_mut() {
        if unit.is_empty() {
            *unit = match key.as_str() {
                "alignment" | "request" => "bytes".to_string(),
                k => k.to_string(),
            };
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(v: &str) -> Option<NumRange> {
        parse_range(v)
    }

    #[test]
    fn ranges_have_pprofs_shapes_and_units() {
        let mb = |lo: Option<f64>, hi: Option<f64>| NumRange {
            unit: "MB".into(),
            lo,
            hi,
        };
        assert_eq!(range("1mb"), Some(mb(Some(1.0), Some(1.0))));
        assert_eq!(range("1MB:"), Some(mb(Some(1.0), None)));
        assert_eq!(range("1megabytes:"), Some(mb(Some(1.0), None)));
        assert_eq!(range(":1mb"), Some(mb(None, Some(1.0))));
        assert_eq!(range("1mb:65536b"), Some(mb(Some(1.0), Some(0.0625))));
        // Not ranges: a fraction, a trailing regexp anchor, bounds of different kinds.
        assert_eq!(range("1.5mb:"), None);
        assert_eq!(range("1MB$"), None);
        assert_eq!(range("1mb:2ms"), None);
        assert_eq!(range("abc"), None);
        assert_eq!(range("99999999999999999999"), None);
        // Unknown units stay as given and match nothing that has a unit.
        let mib = range("1mib:").unwrap();
        assert_eq!(mib.unit, "mib");
        assert!(!mib.contains(1 << 20, "bytes"));
        let plain = range("1048576").unwrap();
        assert!(!plain.contains(1 << 20, "bytes"));
        assert!(plain.contains(1 << 20, "count"));
        // Bounds are inclusive; the label is converted to the bound's unit.
        let r = range("64kb:1mb").unwrap();
        assert!(r.contains(65536, "bytes") && r.contains(1 << 20, "bytes"));
        assert!(!r.contains(65535, "bytes") && !r.contains((1 << 20) + 1, "bytes"));
        assert!(!range("1ms:").unwrap().contains(1 << 30, "bytes"));
    }

    #[test]
    fn bad_regexps_name_the_flag() {
        let e = TagFilter::parse("tag-focus", "bytes=(").unwrap_err().to_string();
        assert!(e.starts_with("--tag-focus: invalid regular expression \"(\""), "{e}");
        let f = TagFilter::parse("tag-focus", "bytes=1mb:").unwrap();
        assert_eq!(f.range_value(), Some("1mb:"));
        assert_eq!(f.raw(), "bytes=1mb:");
        assert!(
            TagFilter::parse("tag-focus", "thread=main,worker")
                .unwrap()
                .range_value()
                .is_none()
        );
    }
}
