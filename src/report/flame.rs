//! Flame graphs: the folded stacks ([`super::folded`]) drawn by the `inferno` crate as an interactive SVG (search,
//! zoom, a tooltip per box), with pprof's units in the tooltips.
//!
//! A difference profile (a base subtracted, or any negative value) is drawn as pprof's web view draws it: a box is
//! as wide as the change that passes through it (Σ|value| of its stacks, so growth and shrink both show), and
//! coloured by its net change: red for growth, blue for shrink, the stronger the larger the share of the box that
//! is net change; grey when it nets to zero. inferno's own differential mode colours only the leaves; the boxes are
//! recoloured, and every tooltip rewritten, after inferno has laid them out, by matching each box's position and
//! width (`fg:x`, `fg:w`) to the same layout computed here.

use std::collections::HashMap;

use inferno::flamegraph::{self, Direction, Palette, color::BasicPalette};

use super::folded::FoldedReport;
use crate::error::{Error, ErrorKind, Result};

/// Options of the flame graph.
#[derive(Debug, Clone)]
pub struct FlameOptions {
    /// Title (default: the sample type and total).
    pub title: Option<String>,
    /// Image width in pixels.
    pub width: usize,
    /// Roots at the top (an icicle graph, as pprof's web view draws it).
    pub inverted: bool,
    /// Draw a differential graph even when no value is negative (a base was subtracted).
    pub differential: bool,
}

impl Default for FlameOptions {
    fn default() -> Self {
        FlameOptions {
            title: None,
            width: 1200,
            inverted: false,
            differential: false,
        }
    }
}

/// One box as laid out: its net value and the width it takes.
#[derive(Debug, Clone, Copy, Default)]
struct BoxValue {
    net: i64,
    width: u64,
}

/// Draws the flame graph of `r` as SVG.
pub fn flame_svg(r: &FoldedReport, opts: &FlameOptions) -> Result<Vec<u8>> {
    let diff = opts.differential || r.has_negative;
    // One line per stack: `stack VALUE`, or for a difference `stack BEFORE AFTER` where AFTER (inferno's width) is
    // Σ|value| and AFTER - BEFORE is the net change.
    let mut lines: Vec<(String, &str, u64, i64)> = r
        .stacks
        .iter()
        .filter_map(|s| {
            let (width, net) = if diff {
                (s.abs.unsigned_abs(), s.value)
            } else {
                (u64::try_from(s.value).ok()?, s.value)
            };
            if width == 0 {
                return None;
            }
            let line = if diff {
                format!("{} {} {width}", s.stack, width as i128 - net as i128)
            } else {
                format!("{} {width}", s.stack)
            };
            Some((line, s.stack.as_str(), width, net))
        })
        .collect();
    // inferno wants its lines sorted as text (it checks); sorting them here lets it skip its own sort.
    {
        use rayon::slice::ParallelSliceMut;
        lines.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }
    let boxes = layout(&lines);
    let total_width: u64 = lines.iter().map(|l| l.2).sum();
    let net_total: i64 = lines.iter().map(|l| l.3).sum();

    let fmt = |v: i64| r.format_value(v);
    let mut o = flamegraph::Options::default();
    o.title = opts.title.clone().unwrap_or_else(|| {
        if diff {
            format!(
                "{}: {}{} net change, {} changed",
                r.sample_type,
                if net_total > 0 { "+" } else { "" },
                fmt(net_total),
                fmt(total_width as i64)
            )
        } else {
            format!("{}: {} total", r.sample_type, fmt(r.total))
        }
    });
    let mut sub: Vec<String> = r
        .labels
        .iter()
        .filter(|l| l.starts_with("File: ") || l.starts_with("Time: "))
        .cloned()
        .collect();
    if diff {
        sub.push(format!(
            "box width: change through it; red: grew, blue: shrank; percentages of {}",
            fmt(r.total)
        ));
    }
    o.subtitle = (!sub.is_empty()).then(|| sub.join("   "));
    o.image_width = Some(opts.width.max(100));
    o.count_name = if r.sample_unit.is_empty() {
        "samples".into()
    } else {
        r.sample_unit.clone()
    };
    o.colors = Palette::Basic(BasicPalette::Hot);
    o.hash = true;
    o.deterministic = true;
    o.no_sort = true;
    o.direction = if opts.inverted {
        Direction::Inverted
    } else {
        Direction::Straight
    };
    let mut svg = Vec::with_capacity(1 << 20);
    if lines.is_empty() {
        return Err(Error::new(ErrorKind::Usage, "nothing to draw: no sample has a non-zero value"));
    }
    flamegraph::from_lines(&mut o, lines.iter().map(|l| l.0.as_str()), &mut svg)
        .map_err(|e| Error::caused_by(ErrorKind::Invalid, "drawing the flame graph", e))?;
    let svg = String::from_utf8(svg).map_err(|e| Error::caused_by(ErrorKind::Invalid, "flame graph SVG", e))?;
    let pct = |v: i64| {
        if r.total == 0 {
            0.0
        } else {
            v as f64 * 100.0 / r.total as f64
        }
    };
    let retitle = |name: &str, b: BoxValue| -> (String, Option<String>) {
        if diff {
            let sign = if b.net > 0 { "+" } else { "" };
            let title = format!(
                "{name} ({sign}{}, {sign}{:.2}%; {} changed)",
                fmt(b.net),
                pct(b.net),
                fmt(b.width as i64)
            );
            (title, Some(diff_color(b)))
        } else {
            (format!("{name} ({}, {:.2}%)", fmt(b.net), pct(b.net)), None)
        }
    };
    Ok(rewrite_boxes(&svg, &boxes, retitle).into_bytes())
}

/// The boxes inferno draws for sorted `lines` (text, stack, width, net), keyed by (start, width) in its units: a
/// box starts at the running width where its frame first appears and spans the stacks below it. Two boxes with the
/// same start and width are one above the other with the same stacks, so the key is unambiguous.
fn layout(lines: &[(String, &str, u64, i64)]) -> HashMap<(u64, u64), BoxValue> {
    let mut boxes = HashMap::with_capacity(lines.len() * 2);
    let mut open: Vec<(&str, u64, BoxValue)> = Vec::new();
    let mut time = 0u64;
    let mut root = BoxValue::default();
    for (_, stack, width, net) in lines {
        let frames: Vec<&str> = stack.split(';').collect();
        let shared = open
            .iter()
            .zip(&frames)
            .take_while(|((name, _, _), f)| name == *f)
            .count();
        for (_, start, b) in open.drain(shared..).rev() {
            boxes.insert((start, time - start), b);
        }
        for f in &frames[shared..] {
            open.push((f, time, BoxValue::default()));
        }
        for (_, _, b) in open.iter_mut() {
            b.net = b.net.wrapping_add(*net);
            b.width += width;
        }
        root.net = root.net.wrapping_add(*net);
        root.width += width;
        time += width;
    }
    for (_, start, b) in open.drain(..).rev() {
        boxes.insert((start, time - start), b);
    }
    boxes.insert((0, time), root);
    boxes
}

/// Red for growth, blue for shrink, in proportion to the share of the box that is net change; grey for none.
fn diff_color(b: BoxValue) -> String {
    if b.net == 0 || b.width == 0 {
        return "rgb(224,224,224)".into();
    }
    let share = (b.net.unsigned_abs() as f64 / b.width as f64).min(1.0);
    let c = (230.0 - 150.0 * share).round() as u8;
    if b.net > 0 {
        format!("rgb(255,{c},{c})")
    } else {
        format!("rgb({c},{c},255)")
    }
}

/// Rewrites every box of inferno's SVG (`<title>…</title><rect …/>`): its tooltip from `retitle(name, box)`, and
/// its fill when `retitle` gives a colour. Boxes not found in `boxes` are left as inferno drew them.
fn rewrite_boxes(
    svg: &str,
    boxes: &HashMap<(u64, u64), BoxValue>,
    retitle: impl Fn(&str, BoxValue) -> (String, Option<String>),
) -> String {
    let mut out = String::with_capacity(svg.len() + svg.len() / 8);
    let mut rest = svg;
    while let Some(i) = rest.find("<title>") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(j) = rest.find("</title>") else { break };
        let title = &rest["<title>".len()..j];
        let after = &rest[j + "</title>".len()..];
        let rect_end = after.find("/>").filter(|_| after.starts_with("<rect "));
        let parsed = rect_end.and_then(|k| {
            let rect = &after[..k + 2];
            let key = (attr(rect, "fg:x")?.parse().ok()?, attr(rect, "fg:w")?.parse().ok()?);
            Some((rect, boxes.get(&key)?))
        });
        let Some((rect, b)) = parsed else {
            out.push_str(&rest[..j + "</title>".len()]);
            rest = after;
            continue;
        };
        let name = title.rfind(" (").map_or(title, |p| &title[..p]);
        let (new_title, fill) = retitle(name, *b);
        out.push_str("<title>");
        out.push_str(&new_title);
        out.push_str("</title>");
        match (fill, attr(rect, "fill")) {
            (Some(fill), Some(old)) => out.push_str(&rect.replacen(&format!("fill=\"{old}\""), &format!("fill=\"{fill}\""), 1)),
            _ => out.push_str(rect),
        }
        rest = &after[rect.len()..];
    }
    out.push_str(rest);
    out
}

/// The value of attribute `name` in the tag text `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let pat = format!(" {name}=\"");
    let start = tag.find(&pat)? + pat.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_follows_infernos_merge_of_sorted_stacks() {
        let lines = vec![
            ("a;b 3".to_string(), "a;b", 3, 3),
            ("a;b;c 2".to_string(), "a;b;c", 2, -2),
            ("a;d 5".to_string(), "a;d", 5, 5),
            ("e 1".to_string(), "e", 1, 1),
        ];
        let b = layout(&lines);
        let get = |s, w| {
            let v = b[&(s, w)];
            (v.net, v.width)
        };
        assert_eq!(get(0, 11), (7, 11)); // root (and nothing else spans everything)
        assert_eq!(get(0, 10), (6, 10)); // a
        assert_eq!(get(0, 5), (1, 5)); // b (3 - 2)
        assert_eq!(get(3, 2), (-2, 2)); // c
        assert_eq!(get(5, 5), (5, 5)); // d
        assert_eq!(get(10, 1), (1, 1)); // e
        assert_eq!(b.len(), 6);
    }

    #[test]
    fn colours_grow_with_the_net_share() {
        assert_eq!(diff_color(BoxValue { net: 0, width: 5 }), "rgb(224,224,224)");
        assert_eq!(diff_color(BoxValue { net: 10, width: 10 }), "rgb(255,80,80)");
        assert_eq!(diff_color(BoxValue { net: -5, width: 10 }), "rgb(155,155,255)");
    }

    #[test]
    fn rewrites_titles_and_fills_by_position() {
        let svg = r#"<svg><g><title>main.f (1,024 bytes, 50.00%)</title><rect x="0%" y="1" width="50%" height="15" fill="rgb(1,2,3)" fg:x="0" fg:w="1024"/><text>f</text></g><title>other</title></svg>"#;
        let mut boxes = HashMap::new();
        boxes.insert((0, 1024), BoxValue { net: -1024, width: 1024 });
        let out = rewrite_boxes(svg, &boxes, |name, b| (format!("{name} [{}]", b.net), Some("red".into())));
        assert!(out.contains("<title>main.f [-1024]</title>"), "{out}");
        assert!(out.contains(r#"fill="red" fg:x="0""#), "{out}");
        assert!(out.contains("<title>other</title>"));
    }
}
