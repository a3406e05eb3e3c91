//! The `raw` report: pprof's `Profile.String()`, what `go tool pprof -raw` prints, byte for byte.
//!
//! `go tool pprof -raw` prints the profile after its driver has (1) given a profile without mappings one empty
//! mapping owning every location, (2) named the first mapping after the main binary given on the command line,
//! (3) symbolized and demangled it, and (4) pruned it with its own `drop_frames`/`keep_frames`
//! (`RemoveUninteresting`). [`driver_mapping`] and [`prune`] are steps (1) and (4); the command does the others
//! with the symbolizer. [`profile_string`] is `String()` itself.

use std::collections::HashMap;
use std::fmt::Write;

use super::frames::FrameFilter;
use super::labels::format_time_utc;
use crate::error::Result;
use crate::profile::{Format, Profile, pb};

/// pprof's `locateBinaries` step for a profile without mappings: one mapping `{id 1}` (all zero) owns every
/// location. Other profiles are returned as they are.
pub fn driver_mapping(p: Profile) -> Result<Profile> {
    if !p.pb().mapping.is_empty() {
        return Ok(p);
    }
    let source = p.source().clone();
    let mut pb = p.into_pb();
    pb.mapping.push(pb::Mapping {
        id: 1,
        ..Default::default()
    });
    for l in &mut pb.location {
        l.mapping_id = 1;
    }
    Ok(Profile::new(pb)?.with_source(source))
}

/// pprof's `RemoveUninteresting` (`Prune` with the profile's `drop_frames`/`keep_frames`), matching the names
/// `names` gives each function (in `pb().function` order): a location loses the lines from the outermost matching
/// one inwards (all of them if the outermost line matches), and each sample is cut at the first pruned location
/// after its first user frame, counting from the root. Locations stay in the table, as in pprof.
pub fn prune(p: Profile, names: &[String]) -> Result<Profile> {
    let Some(filter) = FrameFilter::from_profile(&p) else {
        return Ok(p);
    };
    let source = p.source().clone();
    let fn_index: HashMap<u64, usize> = p.pb().function.iter().enumerate().map(|(i, f)| (f.id, i)).collect();
    let mut pb = p.into_pb();
    let mut cache: HashMap<usize, bool> = HashMap::new();
    let mut prune_loc: HashMap<u64, bool> = HashMap::new();
    let mut prune_beneath: HashMap<u64, bool> = HashMap::new();
    for loc in &mut pb.location {
        let hit = (0..loc.line.len()).rev().find(|&i| {
            fn_index
                .get(&loc.line[i].function_id)
                .is_some_and(|&fi| *cache.entry(fi).or_insert_with(|| filter.drops(&names[fi])))
        });
        if let Some(i) = hit {
            prune_beneath.insert(loc.id, true);
            if i == loc.line.len() - 1 {
                prune_loc.insert(loc.id, true);
            } else {
                loc.line.drain(..=i);
            }
        }
    }
    for s in &mut pb.sample {
        let mut found_user = false;
        for i in (0..s.location_id.len()).rev() {
            let id = s.location_id[i];
            let (pr, pb_) = (prune_loc.contains_key(&id), prune_beneath.contains_key(&id));
            if !pr && !pb_ {
                found_user = true;
                continue;
            }
            if !found_user {
                continue;
            }
            if pr {
                s.location_id.drain(..=i);
                break;
            }
            s.location_id.drain(..i);
            break;
        }
    }
    Ok(Profile::new(pb)?.with_source(source))
}

/// pprof's `Profile.String()`, with each function's name taken from `names` (in `pb().function` order; the
/// profile's own names when `None`).
pub fn profile_string(p: &Profile, names: Option<&[String]>) -> String {
    let pb = p.pb();
    let mut out = String::new();
    for &c in &pb.comment {
        let _ = writeln!(out, "Comment: {}", p.str(c));
    }
    if pb.doc_url != 0 && !p.str(pb.doc_url).is_empty() {
        let _ = writeln!(out, "Doc: {}", p.str(pb.doc_url));
    }
    if let Some(pt) = &pb.period_type {
        let _ = writeln!(out, "PeriodType: {} {}", p.str(pt.r#type), p.str(pt.unit));
    }
    let _ = writeln!(out, "Period: {}", pb.period);
    if pb.time_nanos != 0 {
        let _ = writeln!(out, "Time: {}", go_time(pb.time_nanos));
    }
    if pb.duration_nanos != 0 {
        let d: String = go_duration(pb.duration_nanos).chars().take(4).collect();
        let _ = writeln!(out, "Duration: {d}");
    }
    out.push_str("Samples:\n");
    let dflt = p.str(pb.default_sample_type);
    let mut header = String::new();
    for st in &pb.sample_type {
        let ty = p.str(st.r#type);
        let _ = write!(
            header,
            "{}/{}{} ",
            ty,
            p.str(st.unit),
            if ty == dflt { "[dflt]" } else { "" }
        );
    }
    out.push_str(header.trim_matches(|c: char| c.is_ascii_whitespace()));
    out.push('\n');
    let legacy_labels = p.source().format != Format::Proto;
    for s in &pb.sample {
        for v in &s.value {
            let _ = write!(out, " {v:>10}");
        }
        out.push_str(": ");
        for id in &s.location_id {
            let _ = write!(out, "{id} ");
        }
        out.push('\n');
        sample_labels(p, s, legacy_labels, &mut out);
    }
    out.push_str("Locations\n");
    let fn_index: HashMap<u64, usize> = pb.function.iter().enumerate().map(|(i, f)| (f.id, i)).collect();
    for l in &pb.location {
        let mut head = format!("{:6}: {:#x} ", l.id, l.address);
        if l.mapping_id != 0 {
            let _ = write!(head, "M={} ", l.mapping_id);
        }
        if l.is_folded {
            head.push_str("[F] ");
        }
        if l.line.is_empty() {
            out.push_str(&head);
            out.push('\n');
        }
        for ln in &l.line {
            out.push_str(&head);
            match fn_index.get(&ln.function_id) {
                None => out.push_str("??"),
                Some(&fi) => {
                    let f = &pb.function[fi];
                    let name = names.map_or_else(|| p.str(f.name), |n| n[fi].as_str());
                    let _ = write!(
                        out,
                        "{} {}:{}:{} s={}",
                        name,
                        p.str(f.filename),
                        ln.line,
                        ln.column,
                        f.start_line
                    );
                    let system = p.str(f.system_name);
                    if name != system {
                        let _ = write!(out, "({system})");
                    }
                }
            }
            out.push('\n');
            head = "             ".to_string();
        }
    }
    out.push_str("Mappings\n");
    for m in &pb.mapping {
        let mut bits = String::new();
        for (set, b) in [
            (m.has_functions, "[FN]"),
            (m.has_filenames, "[FL]"),
            (m.has_line_numbers, "[LN]"),
            (m.has_inline_frames, "[IN]"),
        ] {
            if set {
                bits.push_str(b);
            }
        }
        let _ = writeln!(
            out,
            "{}: {:#x}/{:#x}/{:#x} {} {} {}",
            m.id,
            m.memory_start,
            m.memory_limit,
            m.file_offset,
            p.str(m.filename),
            p.str(m.build_id),
            bits
        );
    }
    out
}

/// The label lines of a sample: string labels, then numeric ones, each `key:[values]` sorted. Labels decoded
/// from profile.proto follow pprof's decoder (a label with no string, number or unit is dropped; units are
/// padded); legacy readers' numeric labels are kept as made.
fn sample_labels(p: &Profile, s: &pb::Sample, legacy: bool, out: &mut String) {
    const HEADER: &str = "                ";
    let mut strs: Vec<(String, Vec<String>)> = Vec::new();
    let mut nums: Vec<(String, Vec<i64>, Vec<String>)> = Vec::new();
    for l in &s.label {
        let key = p.str(l.key).to_string();
        if l.str != 0 {
            match strs.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(p.str(l.str).to_string()),
                None => strs.push((key, vec![p.str(l.str).to_string()])),
            }
        } else if legacy || l.num != 0 || l.num_unit != 0 {
            let idx = match nums.iter().position(|(k, _, _)| *k == key) {
                Some(i) => i,
                None => {
                    nums.push((key, Vec::new(), Vec::new()));
                    nums.len() - 1
                }
            };
            let (_, vals, units) = &mut nums[idx];
            if l.num_unit != 0 {
                units.resize(vals.len(), String::new());
                units.push(p.str(l.num_unit).to_string());
            }
            vals.push(l.num);
        }
    }
    if !strs.is_empty() {
        let mut ls: Vec<String> = strs.iter().map(|(k, v)| format!("{k}:[{}]", v.join(" "))).collect();
        ls.sort();
        out.push_str(HEADER);
        out.push_str(&ls.join(" "));
        out.push('\n');
    }
    if !nums.is_empty() {
        let mut ls: Vec<String> = nums
            .iter()
            .map(|(k, v, units)| {
                if !units.is_empty() {
                    let mut units = units.clone();
                    units.resize(v.len(), String::new());
                    let vals: Vec<String> = v.iter().zip(&units).map(|(v, u)| format!("{v} {u}")).collect();
                    format!("{k}:[{}]", vals.join(" "))
                } else {
                    let vals: Vec<String> = v.iter().map(i64::to_string).collect();
                    format!("{k}:[{}]", vals.join(" "))
                }
            })
            .collect();
        ls.sort();
        out.push_str(HEADER);
        out.push_str(&ls.join(" "));
        out.push('\n');
    }
}

/// Go's `time.Time.String()` for `time.Unix(0, nanos)` in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`.
pub fn go_time(nanos: i64) -> String {
    let base = format_time_utc(nanos);
    let date_time = base.strip_suffix(" UTC").unwrap_or(&base);
    let frac = nanos.rem_euclid(1_000_000_000);
    let mut s = date_time.to_string();
    if frac != 0 {
        let digits = format!("{frac:09}");
        s.push('.');
        s.push_str(digits.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Go's `time.Duration.String()`.
pub fn go_duration(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut s = String::new();
    const SECOND: u64 = 1_000_000_000;
    if u < SECOND {
        if u == 0 {
            return "0s".into();
        }
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (frac, int) = frac_part(u, prec);
        u = int;
        s = format!("{u}{frac}{unit}");
    } else {
        let (frac, int) = frac_part(u, 9);
        u = int;
        let secs = u % 60;
        u /= 60;
        let mut body = format!("{secs}{frac}s");
        if u > 0 {
            body = format!("{}m{body}", u % 60);
            u /= 60;
            if u > 0 {
                body = format!("{u}h{body}");
            }
        }
        s.push_str(&body);
    }
    if neg { format!("-{s}") } else { s }
}

/// Go's `fmtFrac`: the `prec` lowest decimal digits of `v` as a fraction without trailing zeros (with its dot, or
/// empty), and `v` without them.
fn frac_part(v: u64, prec: u32) -> (String, u64) {
    let div = 10u64.pow(prec);
    let frac = v % div;
    if frac == 0 {
        return (String::new(), v / div);
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (format!(".{}", digits.trim_end_matches('0')), v / div)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go() {
        assert_eq!(go_duration(6_019_923 * 1_000_000), "1h40m19.923s");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(12), "12ns");
        assert_eq!(go_duration(3_000_000_000), "3s");
        assert_eq!(go_duration(-61_000_000_000), "-1m1s");
        assert_eq!(go_duration(0), "0s");
    }

    #[test]
    fn times_like_go() {
        assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_time(1_500_000_000), "1970-01-01 00:00:01.5 +0000 UTC");
    }
}
