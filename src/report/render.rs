//! Rendering of computed reports: a terminal table, pprof-compatible text, JSON and CSV.

use std::fmt::Write as _;

use comfy_table::{CellAlignment, ContentArrangement, LineStyle, Table, TableStyle};

use super::info::Info;
use super::measure::{percentage, scaled_label};
use super::sites::SitesReport;
use super::top::{TopReport, render_text};

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table for people (the default on a terminal).
    Table,
    /// Plain text; for `top` exactly `go tool pprof -top`'s output.
    Text,
    /// JSON for scripts.
    Json,
    /// CSV for spreadsheets and scripts.
    Csv,
}

impl Format {
    /// Parses a `--format` value.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "table" => Format::Table,
            "text" => Format::Text,
            "json" => Format::Json,
            "csv" => Format::Csv,
            _ => return None,
        })
    }
}

/// A rule under the header and at the bottom, nothing between rows.
const STYLE: TableStyle = TableStyle::new()
    .header_separator(LineStyle::none().fill('─').junction('─'))
    .bottom_border(LineStyle::none().fill('─').junction('─'));

fn new_table(headers: &[&str], right: &[usize]) -> Table {
    let mut t = Table::new();
    t.load_style(STYLE)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(headers.iter().copied());
    for &i in right {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// Quotes a CSV field when it needs it.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Renders a `top` report.
pub fn render_top(r: &TopReport, f: Format) -> String {
    match f {
        Format::Text => render_text(r),
        Format::Json => serde_json::to_string_pretty(r).expect("report serializes") + "\n",
        Format::Csv => {
            let mut out = String::from("flat,flat_pct,sum_pct,cum,cum_pct,name,inline,unit\n");
            let pct = |v: i64| {
                if r.total == 0 {
                    0.0
                } else {
                    v as f64 * 100.0 / r.total as f64
                }
            };
            for row in &r.rows {
                out.push_str(&format!(
                    "{},{:.4},{:.4},{},{:.4},{},{},{}\n",
                    row.flat,
                    pct(row.flat),
                    pct(row.sum),
                    row.cum,
                    pct(row.cum),
                    csv_field(&row.name),
                    row.inline,
                    csv_field(&r.sample_unit)
                ));
            }
            out
        }
        Format::Table => {
            let text = render_text(r);
            let mut out = String::new();
            for line in text.lines() {
                if line.trim_start().starts_with("flat  flat%") {
                    break;
                }
                out.push_str(line);
                out.push('\n');
            }
            let mut t = new_table(&["flat", "flat%", "sum%", "cum", "cum%", "name"], &[0, 1, 2, 3, 4]);
            for row in &r.rows {
                let name = if row.inline.is_empty() {
                    row.name.clone()
                } else {
                    format!("{} {}", row.name, row.inline)
                };
                t.add_row(vec![
                    r.format_value(row.flat),
                    percentage(row.flat, r.total).trim().to_string(),
                    percentage(row.sum, r.total).trim().to_string(),
                    r.format_value(row.cum),
                    percentage(row.cum, r.total).trim().to_string(),
                    name,
                ]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
            out
        }
    }
}

fn fmt_opt(v: Option<i64>, unit: &str) -> String {
    match v {
        None => "-".into(),
        Some(v) if unit == "bytes" => scaled_label(v, "bytes", "auto"),
        Some(v) => v.to_string(),
    }
}

/// Renders a `sites` report.
pub fn render_sites(r: &SitesReport, f: Format) -> String {
    let has = |g: fn(&super::sites::HeapValues) -> Option<i64>| g(&r.total).is_some();
    type Column = (&'static str, &'static str, fn(&super::sites::HeapValues) -> Option<i64>);
    let cols: Vec<Column> = vec![
        ("inuse_space", "bytes", |v| v.inuse_space),
        ("inuse_objects", "count", |v| v.inuse_objects),
        ("alloc_space", "bytes", |v| v.alloc_space),
        ("alloc_objects", "count", |v| v.alloc_objects),
    ];
    let cols: Vec<_> = cols.into_iter().filter(|c| has(c.2)).collect();
    match f {
        Format::Json => serde_json::to_string_pretty(r).expect("report serializes") + "\n",
        Format::Csv => {
            let mut out = String::new();
            for c in &cols {
                out.push_str(c.0);
                out.push(',');
            }
            out.push_str("avg_size,function,file,line,location\n");
            for row in &r.rows {
                for c in &cols {
                    out.push_str(&c.2(&row.values).map(|v| v.to_string()).unwrap_or_default());
                    out.push(',');
                }
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    row.avg_size.map(|v| v.to_string()).unwrap_or_default(),
                    csv_field(&row.function),
                    csv_field(&row.file),
                    row.line,
                    csv_field(&row.location)
                ));
            }
            out
        }
        Format::Table | Format::Text => {
            let mut headers: Vec<&str> = cols.iter().map(|c| c.0).collect();
            headers.push("avg_size");
            headers.push("site");
            let right: Vec<usize> = (0..=cols.len()).collect();
            let mut rows: Vec<Vec<String>> = Vec::new();
            for row in &r.rows {
                let mut cells: Vec<String> = cols.iter().map(|c| fmt_opt(c.2(&row.values), c.1)).collect();
                cells.push(fmt_opt(row.avg_size, "bytes"));
                cells.push(row.display_name());
                rows.push(cells);
            }
            let mut totals: Vec<String> = cols.iter().map(|c| fmt_opt(c.2(&r.total), c.1)).collect();
            totals.push(fmt_opt(r.total.avg_size(), "bytes"));
            totals.push(format!("TOTAL ({} sites)", r.site_count));
            if f == Format::Table {
                let mut t = new_table(&headers, &right);
                for cells in rows {
                    t.add_row(cells);
                }
                t.add_row(totals);
                t.to_string() + "\n"
            } else {
                let hdr: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
                let mut all = rows;
                all.push(totals);
                aligned_columns(&hdr, &all)
            }
        }
    }
}

/// Renders the `info` report.
pub fn render_info(i: &Info, f: Format) -> String {
    match f {
        Format::Json => serde_json::to_string_pretty(i).expect("report serializes") + "\n",
        Format::Csv => {
            let mut out = String::from("id,start,limit,offset,file,build_id,flags,locations");
            out.push_str(if i.located {
                ",binary,origin,debug_file,debug_origin\n"
            } else {
                "\n"
            });
            for m in &i.mappings {
                out.push_str(&format!(
                    "{},{:#x},{:#x},{:#x},{},{},{},{}",
                    m.id,
                    m.start,
                    m.limit,
                    m.offset,
                    csv_field(&m.file),
                    csv_field(&m.build_id),
                    m.flags,
                    m.locations
                ));
                if i.located {
                    let l = m.located.as_ref();
                    let text = |v: Option<String>| csv_field(&v.unwrap_or_default());
                    out.push_str(&format!(
                        ",{},{},{},{}",
                        text(l.map(|l| l.path.display().to_string())),
                        text(l.map(|l| l.origin.to_string())),
                        text(l.and_then(|l| l.debug_file.as_ref()).map(|p| p.display().to_string())),
                        text(l.and_then(|l| l.debug_origin.as_ref()).map(ToString::to_string)),
                    ));
                }
                out.push('\n');
            }
            out
        }
        Format::Table | Format::Text => {
            let mut out = String::new();
            if i.format != crate::profile::Format::Proto.describe() {
                out.push_str(&format!("Format: {}\n", i.format));
            }
            out.push_str("Sample types:\n");
            for t in &i.sample_types {
                let total = if t.unit == "bytes" {
                    format!("{} ({} bytes)", scaled_label(t.total, "bytes", "auto"), t.total)
                } else {
                    t.total.to_string()
                };
                let d = if t.default { "  [default]" } else { "" };
                out.push_str(&format!("  {}/{}  total {}{}\n", t.r#type, t.unit, total, d));
            }
            if !i.period_type.is_empty() || i.period != 0 {
                out.push_str(&format!("Period: {} {}\n", i.period, i.period_type));
            }
            if let Some(t) = &i.time {
                out.push_str(&format!("Time: {t}\n"));
            }
            if let Some(d) = i.duration_nanos {
                out.push_str(&format!("Duration: {}\n", scaled_label(d, "nanoseconds", "auto")));
            }
            for c in &i.comments {
                out.push_str(&format!("Comment: {c}\n"));
            }
            if !i.doc_url.is_empty() {
                out.push_str(&format!("Doc: {}\n", i.doc_url));
            }
            if !i.drop_frames.is_empty() {
                out.push_str(&format!("Drop frames: {}\n", i.drop_frames));
            }
            if !i.keep_frames.is_empty() {
                out.push_str(&format!("Keep frames: {}\n", i.keep_frames));
            }
            out.push_str(&format!(
                "Samples: {}  Locations: {} ({} with inline frames, {} unsymbolized)  Functions: {}  Mappings: {}\n",
                i.samples, i.locations, i.inlined_locations, i.unsymbolized_locations, i.functions, i.mappings_count
            ));
            if !i.mappings.is_empty() {
                let mut t = new_table(
                    &["id", "start-limit", "offset", "file", "build id", "flags", "locs"],
                    &[0, 2, 6],
                );
                for m in &i.mappings {
                    t.add_row(vec![
                        m.id.to_string(),
                        format!("{:#x}-{:#x}", m.start, m.limit),
                        format!("{:#x}", m.offset),
                        m.file.clone(),
                        if m.build_id_file.is_some() {
                            format!("{}*", m.build_id)
                        } else {
                            m.build_id.clone()
                        },
                        m.flags.clone(),
                        m.locations.to_string(),
                    ]);
                }
                out.push_str(&t.to_string());
                out.push('\n');
                let found: Vec<String> = i
                    .mappings
                    .iter()
                    .filter_map(|m| m.build_id_file.as_ref().map(|f| format!("  {}: {f}", m.id)))
                    .collect();
                if !found.is_empty() {
                    out.push_str("* build ID read from the file found for the mapping (the profile has none):\n");
                    for l in found {
                        out.push_str(&l);
                        out.push('\n');
                    }
                }
            }
            if i.located {
                out.push_str("Binaries:\n");
                for m in &i.mappings {
                    if m.searched {
                        out.push_str(&located_line(m.id, &m.file, m.located.as_ref()));
                    }
                }
            }
            out
        }
    }
}

fn hex_opt(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| format!("{v:#x}"))
}

/// Renders the `addrs` report.
pub fn render_addrs(r: &super::addrs::AddrsReport, f: Format) -> String {
    use super::addrs::chain;
    match f {
        Format::Json => serde_json::to_string_pretty(r).expect("report serializes") + "\n",
        Format::Csv => {
            let mut out = String::from(
                "id,address,mapping_id,mapping_file,mapping_range,file_offset,svma,section,symbol,source,binary_frames,profile_frames,agreement,note\n",
            );
            for row in &r.rows {
                out.push_str(&format!(
                    "{},{:#x},{},{},{},{},{},{},{},{},{},{},{:?},{}\n",
                    row.id,
                    row.address,
                    row.mapping_id,
                    csv_field(&row.mapping_file),
                    row.mapping_range,
                    hex_opt(row.file_offset),
                    hex_opt(row.svma),
                    row.section.as_deref().unwrap_or(""),
                    csv_field(row.symbol.as_deref().unwrap_or("")),
                    row.source.as_deref().unwrap_or(""),
                    csv_field(&chain(&row.binary_frames)),
                    csv_field(&chain(&row.profile_frames)),
                    row.agreement,
                    csv_field(row.note.as_deref().unwrap_or("")),
                ));
            }
            out
        }
        Format::Table | Format::Text => {
            let headers = [
                "id",
                "address",
                "mapping",
                "file off",
                "ELF addr",
                "section",
                "symbol",
                "frames (binary)",
                "profile",
            ];
            let mut t = new_table(&headers, &[0, 1, 3, 4]);
            for row in &r.rows {
                let mapping = if row.mapping_file.is_empty() {
                    row.mapping_range.clone()
                } else {
                    format!("{} {}", super::graph::basename(&row.mapping_file), row.mapping_range)
                };
                let frames = if row.binary_frames.is_empty() {
                    row.note.clone().unwrap_or_else(|| "-".into())
                } else {
                    chain(&row.binary_frames)
                };
                let profile = match row.agreement {
                    super::addrs::Agreement::Agree => "agree".to_string(),
                    super::addrs::Agreement::Differ => format!("differ: {}", chain(&row.profile_frames)),
                    super::addrs::Agreement::ProfileOnly => format!("profile only: {}", chain(&row.profile_frames)),
                    super::addrs::Agreement::BinaryOnly => "binary only".to_string(),
                    super::addrs::Agreement::Neither => "-".to_string(),
                };
                t.add_row(vec![
                    row.id.to_string(),
                    format!("{:#x}", row.address),
                    mapping,
                    hex_opt(row.file_offset),
                    hex_opt(row.svma),
                    row.section.clone().unwrap_or_else(|| "-".into()),
                    row.symbol.clone().unwrap_or_else(|| "-".into()),
                    frames,
                    profile,
                ]);
            }
            let mut binaries = String::new();
            if !r.binaries.is_empty() {
                binaries.push_str("Binaries:\n");
                for b in &r.binaries {
                    let mut line = located_line(b.mapping_id, &b.mapping_file, b.located.as_ref());
                    if b.build_id_from_file {
                        // Legacy maps carry no build IDs: show the binary's.
                        line.pop();
                        line.push_str(&format!(", build ID {} (read from the file)\n", b.build_id));
                    }
                    binaries.push_str(&line);
                }
            }
            format!("{t}\n{binaries}{}\n", r.summary())
        }
    }
}

/// A signed size: `+1.50MB`, `-64kB`, `0`.
fn signed_bytes(v: i64) -> String {
    let s = scaled_label(v, "bytes", "auto");
    if v > 0 { format!("+{s}") } else { s }
}

/// Renders the `diff` (growth by site) report.
pub fn render_growth(r: &super::growth::GrowthReport, f: Format) -> String {
    use super::growth::{GrowthRow, SiteChange};
    let objects = r.total.old_objects.is_some();
    match f {
        Format::Json => serde_json::to_string_pretty(r).expect("report serializes") + "\n",
        Format::Csv => {
            let mut out = format!(
                "old_{s},new_{s},delta_{s},delta_pct,old_{o},new_{o},delta_{o},change,site\n",
                s = r.space_type.trim_start_matches("inuse_").trim_start_matches("alloc_"),
                o = r.objects_type.trim_start_matches("inuse_").trim_start_matches("alloc_"),
            );
            let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            for row in &r.rows {
                let change = match row.change {
                    SiteChange::Kept => "",
                    SiteChange::New => "new",
                    SiteChange::Gone => "gone",
                };
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{}\n",
                    row.old_space,
                    row.new_space,
                    row.delta_space(),
                    row.delta_percent().map(|p| format!("{p:.2}")).unwrap_or_default(),
                    opt(row.old_objects),
                    opt(row.new_objects),
                    opt(row.delta_objects()),
                    change,
                    csv_field(&row.site)
                ));
            }
            out
        }
        Format::Table | Format::Text => {
            let mut headers = vec![
                "old".to_string(),
                "new".to_string(),
                "delta".to_string(),
                "delta%".to_string(),
            ];
            if objects {
                headers.extend(["old objs".to_string(), "new objs".to_string(), "delta objs".to_string()]);
            }
            headers.push("site".to_string());
            let cells = |row: &GrowthRow| {
                let mut c = vec![
                    scaled_label(row.old_space, "bytes", "auto"),
                    scaled_label(row.new_space, "bytes", "auto"),
                    signed_bytes(row.delta_space()),
                    match (row.change, row.delta_percent()) {
                        (SiteChange::New, _) | (_, None) => "new".to_string(),
                        (_, Some(p)) if p > 0.0 => format!("+{p:.1}%"),
                        (_, Some(p)) => format!("{p:.1}%"),
                    },
                ];
                if objects {
                    let d = row.delta_objects().unwrap_or(0);
                    c.push(row.old_objects.unwrap_or(0).to_string());
                    c.push(row.new_objects.unwrap_or(0).to_string());
                    c.push(if d > 0 { format!("+{d}") } else { d.to_string() });
                }
                let mark = match row.change {
                    SiteChange::Kept => "",
                    SiteChange::New => "  [new]",
                    SiteChange::Gone => "  [gone]",
                };
                c.push(format!("{}{mark}", row.site));
                c
            };
            let mut rows: Vec<Vec<String>> = r.rows.iter().map(cells).collect();
            let mut total = cells(&r.total);
            if r.total.old_space == 0 {
                total[3] = String::new();
            }
            rows.push(total);
            let title = format!(
                "{} and {} by allocation site, old → new, largest growth first",
                r.space_type, r.objects_type
            );
            if f == Format::Table {
                let right: Vec<usize> = (0..headers.len() - 1).collect();
                let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
                let mut t = new_table(&hdr, &right);
                for c in rows {
                    t.add_row(c);
                }
                format!("{title}\n{t}\n")
            } else {
                format!("{title}\n{}", aligned_columns(&headers, &rows))
            }
        }
    }
}

/// Plain-text columns: every column but the last right-aligned to its widest cell (in characters), two spaces
/// apart; the last (a name) left as it is.
fn aligned_columns(headers: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len() - 1)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for cells in std::iter::once(headers).chain(rows.iter().map(Vec::as_slice)) {
        for (i, w) in widths.iter().enumerate() {
            let _ = write!(out, "{:>w$}  ", cells[i], w = *w);
        }
        out.push_str(&cells[cells.len() - 1]);
        out.push('\n');
    }
    out
}

/// One line of a `Binaries:` list: the mapping, then the file used and where it came from.
fn located_line(id: u64, file: &str, located: Option<&crate::binary::Located>) -> String {
    let name = if file.is_empty() {
        "<unnamed>"
    } else {
        super::graph::basename(file)
    };
    match located {
        Some(l) => format!("  {id:>3}  {name}: {l}\n"),
        None => format!("  {id:>3}  {name}: no binary found\n"),
    }
}
