//! The header lines pprof prints above a report (File, Build ID, comments, Type, Doc, Time, Duration).

use super::graph::basename;
use super::measure::{percentage, scale, scaled_label};
use crate::profile::Profile;

/// What the labels need from the report.
pub struct LabelOptions<'a> {
    /// The selected sample type.
    pub sample_type: &'a str,
    /// The report total, formatted in the report unit.
    pub total_formatted: String,
    /// The report total.
    pub total: i64,
    /// The unit of the selected sample type.
    pub sample_unit: &'a str,
}

/// pprof's `ProfileLabels`. Times are printed in UTC.
pub fn profile_labels(p: &Profile, o: &LabelOptions) -> Vec<String> {
    let pb = p.pb();
    let mut out = Vec::new();
    if let Some(m) = pb.mapping.first() {
        let file = p.str(m.filename);
        if !file.is_empty() {
            out.push(format!("File: {}", basename(file)));
        }
        let bid = p.str(m.build_id);
        if !bid.is_empty() {
            out.push(format!("Build ID: {bid}"));
        }
    }
    for c in &pb.comment {
        let c = p.str(*c);
        if !c.starts_with('#') {
            out.push(c.to_string());
        }
    }
    if !o.sample_type.is_empty() {
        out.push(format!("Type: {}", o.sample_type));
    }
    let doc = p.str(pb.doc_url);
    if !doc.is_empty() {
        out.push(format!("Doc: {doc}"));
    }
    if pb.time_nanos != 0 {
        out.push(format!("Time: {}", format_time_utc(pb.time_nanos)));
    }
    if pb.duration_nanos != 0 {
        let duration = scaled_label(pb.duration_nanos, "nanoseconds", "auto");
        let (total_ns, unit) = scale(o.total, o.sample_unit, "nanoseconds");
        let ratio = if unit == "ns" && total_ns != 0.0 {
            format!("({})", percentage(total_ns as i64, pb.duration_nanos))
        } else {
            String::new()
        };
        out.push(format!(
            "Duration: {duration}, Total samples = {} {ratio}",
            o.total_formatted
        ));
    }
    out
}

/// `2006-01-02 15:04:05 UTC` for a Unix time in nanoseconds.
pub fn format_time_utc(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_like_go_in_utc() {
        assert_eq!(format_time_utc(0), "1970-01-01 00:00:00 UTC");
        // 2026-11-21 22:18:01.872228583 UTC
        assert_eq!(format_time_utc(1_795_299_481_872_228_583), "2026-11-21 22:18:01 UTC");
        assert_eq!(format_time_utc(951_782_400_000_000_000), "2000-02-29 00:00:00 UTC");
    }
}
