//! Flame graphs: the stacks of [`super::folded`] drawn by the `inferno` crate as an interactive SVG (search, zoom, a
//! tooltip per box), with pprof's units in the tooltips.
//!
//! A difference profile (a base subtracted, or any negative value) is drawn as pprof's web view draws it: a box is
//! as wide as the change that passes through it (Σ|value| of its stacks, so growth and shrink both show), and
//! coloured by its net change: red for growth, blue for shrink, the stronger the larger the share of the box that
//! is net change; grey when it nets to zero. inferno's own differential mode colours only the leaves: the boxes are
//! recoloured, and every tooltip rewritten, after inferno has laid them out, by matching each box's position and
//! width (`fg:x`, `fg:w`) to the same layout computed here.

use std::collections::HashMap;

use inferno::flamegraph::{self, Direction, Palette, color::BasicPalette};

use super::folded::StackSet;
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

/// The narrowest box drawn, as a fraction of the graph's width (inferno's `min_width`, a percentage). Stacks can
/// be cut below it without changing the picture ([`super::folded::folded_visible`]).
pub fn min_box_fraction() -> f64 {
    flamegraph::Options::default().min_width / 100.0
}

/// One box as laid out: its net value and the width it takes.
#[derive(Debug, Clone, Copy, Default)]
struct BoxValue {
    net: i64,
    width: u64,
}

/// Draws the flame graph of `set` as SVG.
///
/// inferno reads folded text and compares frames by name; here each frame name is given to it as a short token
/// of fixed width (its number in `set.names`, in base 62), so that stacks of dozens of long names cost it a few
/// hundred bytes each. Tokens sort as the names do, so the boxes come out in name order, as with the names; every
/// box's tooltip, label and colour are then written from the real name.
pub fn flame_svg(set: &StackSet, opts: &FlameOptions) -> Result<Vec<u8>> {
    let h = &set.header;
    let diff = set.is_differential(opts.differential);
    let digits = token_digits(set.names.len());
    // Stacks in token order (their frame numbers sorted), those with a width, as inferno lines: `TOKENS WIDTH`, or
    // for a difference `TOKENS BEFORE AFTER` where AFTER (inferno's width) is Σ|value| and AFTER - BEFORE the net.
    let mut order = set.order();
    order.retain(|&i| set.width(i, diff) > 0);
    if order.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            "nothing to draw: no sample has a non-zero value",
        ));
    }
    let mut text = String::new();
    let mut line_ends = Vec::with_capacity(order.len());
    for &i in &order {
        let p = set.path(i);
        text.reserve(p.len() * (digits + 1) + 24);
        for (j, &n) in p.iter().enumerate() {
            if j > 0 {
                text.push(';');
            }
            push_token(&mut text, n, digits);
        }
        let width = set.width(i, diff);
        if diff {
            let before = width as i128 - set.sums(i).0 as i128;
            text.push_str(&format!(" {before} {width}"));
        } else {
            text.push_str(&format!(" {width}"));
        }
        line_ends.push(text.len());
    }
    let lines = line_ends.iter().scan(0, |start, &end| {
        let line = &text[*start..end];
        *start = end;
        Some(line)
    });
    let total_width: u64 = order.iter().map(|&i| set.width(i, diff)).sum();
    let net_total: i64 = order.iter().map(|&i| set.sums(i).0).fold(0, i64::wrapping_add);

    let fmt = |v: i64| h.format_value(v);
    let mut o = flamegraph::Options::default();
    o.title = opts.title.clone().unwrap_or_else(|| {
        if diff {
            format!(
                "{}: {}{} net change, {} changed",
                h.sample_type,
                if net_total > 0 { "+" } else { "" },
                fmt(net_total),
                fmt(total_width as i64)
            )
        } else {
            format!("{}: {} total", h.sample_type, fmt(h.total))
        }
    });
    let mut sub: Vec<String> = h
        .labels
        .iter()
        .filter(|l| l.starts_with("File: ") || l.starts_with("Time: "))
        .cloned()
        .collect();
    if diff {
        sub.push(format!(
            "box width: change through it; red: grew, blue: shrank; percentages of {}",
            fmt(h.total)
        ));
    }
    o.subtitle = (!sub.is_empty()).then(|| sub.join("   "));
    o.image_width = Some(opts.width.max(100));
    o.count_name = if h.sample_unit.is_empty() {
        "samples".into()
    } else {
        h.sample_unit.clone()
    };
    o.colors = Palette::Basic(BasicPalette::Hot);
    o.no_sort = true;
    o.direction = if opts.inverted {
        Direction::Inverted
    } else {
        Direction::Straight
    };
    let char_width = 100.0 * o.font_size as f64 * o.font_width / opts.width.max(100) as f64;
    let mut svg = Vec::with_capacity(1 << 20);
    // inferno draws on one thread while the boxes are laid out on another.
    let (drawn, boxes) = rayon::join(
        || flamegraph::from_lines(&mut o, lines, &mut svg),
        || layout(set, &order, diff),
    );
    drawn.map_err(|e| Error::caused_by(ErrorKind::Invalid, "drawing the flame graph", e))?;
    drop(text);
    let svg = String::from_utf8(svg).map_err(|e| Error::caused_by(ErrorKind::Invalid, "flame graph SVG", e))?;
    let pct = |v: i64| {
        if h.total == 0 {
            0.0
        } else {
            v as f64 * 100.0 / h.total as f64
        }
    };
    // Per frame name: escaped once, and its colour.
    let escaped: Vec<String> = set.names.iter().map(|n| xml_escape(n)).collect();
    let draw = |token: &str, b: BoxValue, d: &mut Drawn| {
        use std::fmt::Write;
        let rank = (!token.is_empty()).then(|| token_rank(token, digits)).flatten();
        let (name, esc) = match rank.and_then(|r| Some((set.names.get(r as usize)?, &escaped[r as usize]))) {
            Some((n, e)) => (n.as_str(), e.as_str()),
            None if token.is_empty() => ("all", "all"),
            None => (token, token),
        };
        d.title.clear();
        d.label.clear();
        d.fill.clear();
        if diff {
            let sign = if b.net > 0 { "+" } else { "" };
            let _ = write!(
                d.title,
                "{esc} ({sign}{}, {sign}{:.2}%; {} changed)",
                fmt(b.net),
                pct(b.net),
                fmt(b.width as i64)
            );
            d.fill.push_str(&diff_color(b));
        } else {
            let _ = write!(d.title, "{esc} ({}, {:.2}%)", fmt(b.net), pct(b.net));
            d.fill.push_str(&name_color(name));
        }
        // inferno's label: the name when it fits the box, else cut with "..", nothing under three characters.
        let fit = (b.width as f64 * 100.0 / total_width as f64 / char_width).trunc() as usize;
        if !token.is_empty() && fit >= 3 {
            if name.len() < fit {
                d.label.push_str(esc);
            } else {
                let cut: String = name.chars().take(fit - 2).collect();
                d.label.push_str(&xml_escape(&cut));
                d.label.push_str("..");
            }
        }
    };
    Ok(rewrite_boxes(&svg, &boxes, draw).into_bytes())
}

/// What a box shows: its tooltip, its label and its colour (escaped for XML).
#[derive(Default)]
struct Drawn {
    title: String,
    label: String,
    fill: String,
}

/// Base-62 digits, in ASCII order, so that tokens of one width sort as their numbers.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// How many base-62 digits number `n` names.
fn token_digits(n: usize) -> usize {
    let mut d = 1;
    let mut cap = 62usize;
    while cap < n {
        d += 1;
        cap = cap.saturating_mul(62);
    }
    d
}

/// Appends `n` as `digits` base-62 digits, most significant first.
fn push_token(out: &mut String, n: u32, digits: usize) {
    let mut buf = [b'0'; 8];
    let mut n = n as u64;
    for d in buf[..digits].iter_mut().rev() {
        *d = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    out.extend(buf[..digits].iter().map(|&b| b as char));
}

fn token_rank(token: &str, digits: usize) -> Option<u32> {
    if token.len() != digits {
        return None;
    }
    token.bytes().try_fold(0u32, |acc, b| {
        let d = DIGITS.iter().position(|&x| x == b)? as u32;
        acc.checked_mul(62)?.checked_add(d)
    })
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A warm colour picked by the name (flamegraph.pl's "hot" palette), the same for a name in every graph.
fn name_color(name: &str) -> String {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(name.as_bytes());
    let x = h.finish();
    let x = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let v = |shift: u32| ((x >> shift) & 0xffff) as f64 / 65535.0;
    format!(
        "rgb({},{},{})",
        205 + (50.0 * v(0)) as u32,
        (230.0 * v(16)) as u32,
        (55.0 * v(32)) as u32
    )
}

/// The boxes inferno draws for the stacks `order` (sorted) of `set`, keyed by (start, width) in its units: a box
/// starts at the running width where its frame first appears and spans the stacks above it. Two boxes with the
/// same start and width are one above the other with the same stacks, so they have the same values.
fn layout(set: &StackSet, order: &[usize], diff: bool) -> HashMap<(u64, u64), BoxValue, rustc_hash::FxBuildHasher> {
    let mut boxes: HashMap<(u64, u64), BoxValue, rustc_hash::FxBuildHasher> = HashMap::default();
    let mut open: Vec<(u32, u64, BoxValue)> = Vec::new();
    let mut time = 0u64;
    let mut root = BoxValue::default();
    for &i in order {
        let p = set.path(i);
        let (width, net) = (set.width(i, diff), set.sums(i).0);
        let shared = open.iter().zip(p).take_while(|((n, _, _), f)| n == *f).count();
        for (_, start, b) in open.drain(shared..).rev() {
            boxes.insert((start, time - start), b);
        }
        open.extend(p[shared..].iter().map(|&n| (n, time, BoxValue::default())));
        for (_, _, b) in open.iter_mut() {
            b.net = b.net.wrapping_add(net);
            b.width += width;
        }
        root.net = root.net.wrapping_add(net);
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

/// Rewrites every box of inferno's SVG (`<title>…</title><rect …/><text …>…</text>`): its tooltip, fill and label
/// from `draw(token, box)`, where the token is the frame as inferno saw it (before ` (` in its tooltip). Boxes not
/// found in `boxes` are left as inferno drew them.
fn rewrite_boxes<S: std::hash::BuildHasher + Sync>(
    svg: &str,
    boxes: &HashMap<(u64, u64), BoxValue, S>,
    draw: impl Fn(&str, BoxValue, &mut Drawn) + Sync,
) -> String {
    use rayon::prelude::*;
    // Large graphs are rewritten in pieces on the rayon pool, each cut just before a box.
    let parts = if svg.len() >= 1 << 20 {
        rayon::current_num_threads().clamp(1, 8) * 2
    } else {
        1
    };
    let mut cuts = vec![0];
    for k in 1..parts {
        let at = svg.len() * k / parts;
        match svg[at..].find("<g><title>") {
            Some(p) if at + p > *cuts.last().unwrap_or(&0) => cuts.push(at + p),
            _ => {}
        }
    }
    cuts.push(svg.len());
    let pieces: Vec<String> = cuts
        .par_windows(2)
        .map(|w| rewrite_piece(&svg[w[0]..w[1]], boxes, &draw))
        .collect();
    pieces.concat()
}

fn rewrite_piece<S: std::hash::BuildHasher>(
    svg: &str,
    boxes: &HashMap<(u64, u64), BoxValue, S>,
    draw: &impl Fn(&str, BoxValue, &mut Drawn),
) -> String {
    let mut out = String::with_capacity(svg.len() + svg.len() / 2);
    let mut d = Drawn::default();
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
        let token = title.rfind(" (").map_or(title, |p| &title[..p]);
        let token = if token == "all" { "" } else { token };
        draw(token, *b, &mut d);
        out.push_str("<title>");
        out.push_str(&d.title);
        out.push_str("</title>");
        match rect.find(" fill=\"").and_then(|f| {
            let v = f + " fill=\"".len();
            Some((v, v + rect[v..].find('"')?))
        }) {
            Some((v, e)) => {
                out.push_str(&rect[..v]);
                out.push_str(&d.fill);
                out.push_str(&rect[e..]);
            }
            None => out.push_str(rect),
        }
        rest = &after[rect.len()..];
        // The label: `<text …>…</text>` right after the rectangle.
        if rest.starts_with("<text ")
            && let (Some(open_end), Some(close)) = (rest.find('>'), rest.find("</text>"))
            && open_end < close
        {
            out.push_str(&rest[..=open_end]);
            out.push_str(&d.label);
            out.push_str("</text>");
            rest = &rest[close + "</text>".len()..];
        }
    }
    out.push_str(rest);
    out
}

/// The value of attribute `name` in the tag text `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut from = 0;
    loop {
        let at = from + tag[from..].find(name)?;
        let rest = &tag[at + name.len()..];
        if tag[..at].ends_with(' ')
            && let Some(v) = rest.strip_prefix("=\"")
        {
            return Some(&v[..v.find('"')?]);
        }
        from = at + name.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::folded::StacksHeader;

    fn set(paths: Vec<Vec<u32>>, sums: Vec<(i64, i64)>) -> StackSet {
        let header = StacksHeader {
            labels: Vec::new(),
            sample_type: "inuse_space".into(),
            sample_unit: "bytes".into(),
            total: 11,
            has_negative: false,
            warnings: Vec::new(),
        };
        let names = vec!["a".into(), "b".into(), "c".into(), "d".into(), "e".into()];
        StackSet::from_paths(header, names, &paths, sums)
    }

    #[test]
    fn layout_follows_infernos_merge_of_sorted_stacks() {
        // a;b 3, a;b;c -2, a;d 5, e 1 (widths: |value|).
        let s = set(
            vec![vec![0, 1], vec![0, 1, 2], vec![0, 3], vec![4]],
            vec![(3, 3), (-2, 2), (5, 5), (1, 1)],
        );
        let b = layout(&s, &[0, 1, 2, 3], true);
        let get = |st, w| {
            let v = b[&(st, w)];
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
    fn tokens_sort_as_their_numbers() {
        for n in [1usize, 62, 63, 3844, 3845, 100_000] {
            let d = token_digits(n);
            let toks: Vec<String> = (0..n as u32)
                .step_by(n / 50 + 1)
                .map(|i| {
                    let mut s = String::new();
                    push_token(&mut s, i, d);
                    assert_eq!(token_rank(&s, d), Some(i));
                    s
                })
                .collect();
            assert!(toks.windows(2).all(|w| w[0] < w[1] && w[0].len() == d), "{n}");
        }
        assert_eq!(token_rank("a;", 2), None);
    }

    #[test]
    fn colours_grow_with_the_net_share() {
        assert_eq!(diff_color(BoxValue { net: 0, width: 5 }), "rgb(224,224,224)");
        assert_eq!(diff_color(BoxValue { net: 10, width: 10 }), "rgb(255,80,80)");
        assert_eq!(diff_color(BoxValue { net: -5, width: 10 }), "rgb(155,155,255)");
        assert_eq!(name_color("main.f"), name_color("main.f"));
    }

    #[test]
    fn rewrites_titles_fills_and_labels_by_position() {
        let svg = r#"<svg><g><title>01 (1,024 bytes, 50.00%)</title><rect x="0%" y="1" width="50%" height="15" fill="rgb(1,2,3)" fg:x="0" fg:w="1024"/><text x="0.25%" y="10">01</text></g><title>other</title></svg>"#;
        let mut boxes: HashMap<(u64, u64), BoxValue> = HashMap::new();
        boxes.insert(
            (0, 1024),
            BoxValue {
                net: -1024,
                width: 1024,
            },
        );
        let out = rewrite_boxes(svg, &boxes, |token, b, d| {
            d.title = format!("{token} [{}]", b.net);
            d.label = "main.f".into();
            d.fill = "red".into();
        });
        assert!(out.contains("<title>01 [-1024]</title>"), "{out}");
        assert!(out.contains(r#"fill="red" fg:x="0""#), "{out}");
        assert!(out.contains(r#"<text x="0.25%" y="10">main.f</text>"#), "{out}");
        assert!(out.contains("<title>other</title>"));
    }
}
