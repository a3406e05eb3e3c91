//! Units, scaling and percentages, formatted exactly as pprof's `measurement` package formats them.

/// One unit of a family: its printed name, the names it is known by, and its size in the family's base unit.
struct Unit {
    name: &'static str,
    aliases: &'static [&'static str],
    factor: f64,
}

struct Family {
    units: &'static [Unit],
    default: usize,
}

const MEMORY: Family = Family {
    units: &[
        Unit {
            name: "B",
            aliases: &["b", "byte"],
            factor: 1.0,
        },
        Unit {
            name: "kB",
            aliases: &["kb", "kbyte", "kilobyte"],
            factor: 1024.0,
        },
        Unit {
            name: "MB",
            aliases: &["mb", "mbyte", "megabyte"],
            factor: 1048576.0,
        },
        Unit {
            name: "GB",
            aliases: &["gb", "gbyte", "gigabyte"],
            factor: 1073741824.0,
        },
        Unit {
            name: "TB",
            aliases: &["tb", "tbyte", "terabyte"],
            factor: 1099511627776.0,
        },
        Unit {
            name: "PB",
            aliases: &["pb", "pbyte", "petabyte"],
            factor: 1125899906842624.0,
        },
    ],
    default: 0,
};

const TIME: Family = Family {
    units: &[
        Unit {
            name: "ns",
            aliases: &["ns", "nanosecond"],
            factor: 1.0,
        },
        Unit {
            name: "us",
            aliases: &["μs", "us", "microsecond"],
            factor: 1e3,
        },
        Unit {
            name: "ms",
            aliases: &["ms", "millisecond"],
            factor: 1e6,
        },
        Unit {
            name: "s",
            aliases: &["s", "sec", "second"],
            factor: 1e9,
        },
        Unit {
            name: "hrs",
            aliases: &["hour", "hr"],
            factor: 3.6e12,
        },
    ],
    default: 3,
};

const FAMILIES: [&Family; 2] = [&MEMORY, &TIME];

impl Family {
    /// pprof's `sniffUnit`: lower case, a trailing `s` dropped when the name is longer than two bytes, then an
    /// exact alias.
    fn find(&self, alias: &str) -> Option<&Unit> {
        let lower = alias.to_lowercase();
        let name = if lower.len() > 2 {
            lower.strip_suffix('s').unwrap_or(&lower)
        } else {
            &lower
        };
        self.units.iter().find(|u| u.aliases.contains(&name))
    }

    fn auto(&self, base_value: f64) -> &Unit {
        let mut best: Option<&Unit> = None;
        for u in self.units {
            if best.is_none_or(|b| u.factor >= b.factor) && base_value / u.factor >= 1.0 {
                best = Some(u);
            }
        }
        best.unwrap_or(&self.units[self.default])
    }
}

/// Converts `value` in `from` units to `to` units (`minimum`/`auto` pick a readable unit). Returns the scaled
/// value and the unit name to print ("" for plain counts).
pub fn scale(value: i64, from: &str, to: &str) -> (f64, String) {
    let (v, u) = scale_ref(value, from, to);
    (v, u.to_string())
}

/// [`scale`], the unit name borrowed.
fn scale_ref<'a>(value: i64, from: &str, to: &'a str) -> (f64, &'a str) {
    if value < 0 && value != i64::MIN {
        let (v, u) = scale_ref(-value, from, to);
        return (-v, u);
    }
    for fam in FAMILIES {
        let Some(src) = fam.find(from) else { continue };
        let base = value as f64 * src.factor;
        let dst = if to == "minimum" || to == "auto" {
            fam.auto(base)
        } else {
            fam.find(to).unwrap_or(&fam.units[fam.default])
        };
        return (base / dst.factor, dst.name);
    }
    match to {
        "count" | "sample" | "unit" | "minimum" | "auto" => (value as f64, ""),
        other => (value as f64, other),
    }
}

/// The family (0: memory, 1: time) and the size in the family's base unit of a unit name, as pprof recognises
/// unit names; `None` for names it does not know (`count`, `mib`, …).
pub fn unit_factor(unit: &str) -> Option<(usize, f64)> {
    FAMILIES
        .iter()
        .enumerate()
        .find_map(|(i, fam)| fam.find(unit).map(|u| (i, u.factor)))
}

/// `value` (in `from` units) printed in `to` units with two decimals, a trailing `.00` dropped, and a bare `0`
/// for zero.
pub fn scaled_label(value: i64, from: &str, to: &str) -> String {
    let mut s = String::new();
    push_scaled_label(&mut s, value, from, to);
    s
}

/// [`scaled_label`], appended to `out`.
pub fn push_scaled_label(out: &mut String, value: i64, from: &str, to: &str) {
    use std::fmt::Write;
    let (v, u) = scale_ref(value, from, to);
    let start = out.len();
    let _ = write!(out, "{v:.2}");
    if out.ends_with(".00") {
        out.truncate(out.len() - 3);
    }
    if matches!(&out[start..], "0" | "-0") {
        out.truncate(start);
        out.push('0');
        return;
    }
    out.push_str(u);
}

/// `value` as a percentage of `total`, five characters wide: `  100%` near 100, `%5.2f%%` from 1 up, Go's
/// `%5.2g%%` below 1.
pub fn percentage(value: i64, total: i64) -> String {
    let ratio = if total != 0 {
        (value as f64 / total as f64).abs() * 100.0
    } else {
        0.0
    };
    if (99.95..=100.05).contains(&ratio) {
        "  100%".into()
    } else if ratio >= 1.0 {
        format!("{ratio:5.2}%")
    } else {
        format!("{:>5}%", go_g2(ratio))
    }
}

/// Go's `%.2g`: two significant digits, shortest form, exponent form when the exponent is < -4 or >= 2.
fn go_g2(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let e = format!("{x:.1e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..2).contains(&exp) {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (1 - exp).max(0) as usize;
        trim_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_match_go_formatting() {
        assert_eq!(percentage(1, 1), "  100%");
        assert_eq!(percentage(8060, 10000), "80.60%");
        assert_eq!(percentage(8, 1000), "  0.8%");
        assert_eq!(percentage(12, 10000), " 0.12%");
        assert_eq!(percentage(16, 26020864), "6.1e-05%");
        assert_eq!(percentage(0, 10), "    0%");
        assert_eq!(percentage(0, 0), "    0%");
        assert_eq!(percentage(996, 100000), "    1%");
    }

    #[test]
    fn labels_scale_like_pprof() {
        assert_eq!(scaled_label(20972416, "bytes", "MB"), "20MB");
        assert_eq!(scaled_label(5015472, "bytes", "MB"), "4.78MB");
        assert_eq!(scaled_label(0, "bytes", "MB"), "0");
        assert_eq!(scaled_label(22912, "count", "count"), "22912");
        assert_eq!(scaled_label(16, "bytes", "auto"), "16B");
        assert_eq!(scaled_label(30253, "bytes", "kB"), "29.54kB");
        assert_eq!(scale(130104, "bytes", "minimum").1, "kB");
        assert_eq!(scaled_label(1_500_000_000, "nanoseconds", "auto"), "1.50s");
    }
}
