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

use super::folded::{StackSet, too_narrow_to_draw, walk_boxes};
use super::measure::push_scaled_label;
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
    /// Give inferno every stack, for it to sort and draw as a flame graph. By default stacks that end in boxes too
    /// narrow to draw are given as their parent's time, in order, and drawn as a flame chart: the same picture with
    /// less work (this switch is there to check that).
    pub every_stack: bool,
}

impl Default for FlameOptions {
    fn default() -> Self {
        FlameOptions {
            title: None,
            width: 1200,
            inverted: false,
            differential: false,
            every_stack: false,
        }
    }
}

/// The narrowest box drawn, as a percentage of the graph's width (inferno's `min_width`). Stacks can be cut at it
/// without changing the picture ([`StackSet::cut`]).
pub fn min_box_percent() -> f64 {
    flamegraph::Options::default().min_width
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
    // The stacks in order (their frame numbers compared in turn), those with a width.
    let mut order = set.order();
    order.retain(|&i| set.width(i, diff) > 0);
    if order.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            "nothing to draw: no sample has a non-zero value",
        ));
    }
    let total_width = order
        .iter()
        .try_fold(0u64, |t, &i| t.checked_add(set.width(i, diff)))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Invalid,
                "the sample values are too large to draw: their sum overflows",
            )
        })?;
    let net_total: i64 = order.iter().map(|&i| set.sums(i).0).fold(0, i64::wrapping_add);
    let min_time = too_narrow_to_draw(flamegraph::Options::default().min_width, total_width);
    let lines = if opts.every_stack {
        order.iter().map(|&i| Line::of(set, i, diff)).collect()
    } else {
        lines_to_draw(set, &order, diff, min_time)
    };
    drop(order);
    let tokens = token_table(set.names.len(), digits);

    let fmt = |v: i64| h.format_value(v);
    let title = opts.title.clone().unwrap_or_else(|| {
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
    let subtitle = (!sub.is_empty()).then(|| sub.join("   "));
    // inferno's options (made for each inferno that draws).
    let options = || {
        let mut o = flamegraph::Options::default();
        o.title = title.clone();
        o.subtitle = subtitle.clone();
        o.image_width = Some(opts.width.max(100));
        o.count_name = if h.sample_unit.is_empty() {
            "samples".into()
        } else {
            h.sample_unit.clone()
        };
        o.colors = Palette::Basic(BasicPalette::Hot);
        // A flame chart: inferno draws the lines in the order given, not sorting them or checking that they are
        // sorted (a box's own time may come after its children's lines). Given in order, they draw this flame
        // graph.
        o.flame_chart = !opts.every_stack;
        o.direction = if opts.inverted {
            Direction::Inverted
        } else {
            Direction::Straight
        };
        o
    };
    let mut o = options();
    let char_width = 100.0 * o.font_size as f64 * o.font_width / opts.width.max(100) as f64;
    // How a box is drawn.
    let pct = |v: i64| {
        if h.total == 0 {
            0.0
        } else {
            v as f64 * 100.0 / h.total as f64
        }
    };
    let draw = |token: &str, b: BoxValue, d: &mut Drawn| {
        use std::fmt::Write;
        let rank = (!token.is_empty()).then(|| token_rank(token, digits)).flatten();
        let name = match rank.and_then(|r| set.names.get(r as usize)) {
            Some(n) => n.as_str(),
            None if token.is_empty() => "all",
            None => token,
        };
        let esc = xml_escaped(name);
        let esc = esc.as_ref();
        d.title.clear();
        d.label.clear();
        d.fill.clear();
        let value = |t: &mut String, v: i64| push_scaled_label(t, v, &h.sample_unit, "minimum");
        d.title.push_str(esc);
        d.title.push_str(" (");
        if diff {
            let sign = if b.net > 0 { "+" } else { "" };
            d.title.push_str(sign);
            value(&mut d.title, b.net);
            let _ = write!(d.title, ", {sign}{:.2}%; ", pct(b.net));
            value(&mut d.title, b.width as i64);
            d.title.push_str(" changed)");
            d.fill.push_str(&diff_color(b));
        } else {
            value(&mut d.title, b.net);
            let _ = write!(d.title, ", {:.2}%)", pct(b.net));
            push_name_color(&mut d.fill, name);
        }
        // inferno's label: the name when it fits the box, else cut with "..", nothing under three
        // characters.
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
    if !opts.every_stack
        && let Some(plan) = split_plan(set, &lines, min_time)
    {
        let mut second = options();
        return draw_split(
            set,
            &lines,
            &plan,
            &tokens,
            (diff, digits),
            (&mut o, &mut second),
            min_time,
            &draw,
        )
        .map_err(|e| Error::caused_by(ErrorKind::Invalid, "drawing the flame graph", e));
    }
    // The lines as inferno reads them, written in two halves on the rayon pool.
    let half = lines.len() / 2;
    let (first, second) = rayon::join(
        || inferno_text(&tokens, lines[..half].iter().map(|l| l.given(set)), diff, digits),
        || inferno_text(&tokens, lines[half..].iter().map(|l| l.given(set)), diff, digits),
    );
    // inferno reverses a flame chart's lines: given reversed, they are drawn in order. Every stack, as they are, is
    // given to inferno as to flamegraph.pl, for it to sort.
    let text_lines: Box<dyn Iterator<Item = &str>> = if opts.every_stack {
        Box::new(first.lines().chain(second.lines()))
    } else {
        Box::new(second.lines().rev().chain(first.lines().rev()))
    };
    // inferno draws on this thread and hands its SVG over in pieces to a second thread, which lays the boxes out
    // first (while inferno reads the lines) and then rewrites each piece as it comes.
    let (drawn, svg) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let rewriter = scope.spawn(|| {
            let boxes = layout(set, &lines, min_time);
            // Room for every box drawn (about 250 bytes each): reserved, not touched, so never moved.
            let mut out = String::with_capacity(boxes.len().saturating_mul(256).min(1 << 31));
            let mut carry: Vec<u8> = Vec::new();
            for piece in rx {
                let work = if carry.is_empty() {
                    &piece[..]
                } else {
                    carry.extend_from_slice(&piece);
                    &carry[..]
                };
                // Everything before the last box that has begun is whole boxes; the rest waits for the next piece.
                let at = memchr::memmem::rfind(work, b"<g>").unwrap_or(0);
                rewrite_bytes(&work[..at], &boxes, &draw, &mut out);
                carry = work[at..].to_vec();
            }
            rewrite_bytes(&carry, &boxes, &draw, &mut out);
            out.into_bytes()
        });
        let mut w = PieceWriter {
            buf: Vec::with_capacity(PIECE),
            tx,
        };
        let drawn = flamegraph::from_lines(&mut o, text_lines, &mut w);
        w.send();
        drop(w);
        let r = rewriter.join();
        (drawn, r)
    });
    drawn.map_err(|e| Error::caused_by(ErrorKind::Invalid, "drawing the flame graph", e))?;
    svg.map_err(|_| {
        Error::new(
            ErrorKind::Invalid,
            "drawing the flame graph: the rewriting thread failed",
        )
    })
}

/// The lines of inferno's input for `given`: `TOKENS WIDTH`, or for a difference `TOKENS BEFORE AFTER` where AFTER
/// (inferno's width) is Σ|value| and AFTER - BEFORE the net; one per line.
fn inferno_text<'a>(tokens: &[u8], given: impl Iterator<Item = Given<'a>>, diff: bool, digits: usize) -> String {
    let mut text: Vec<u8> = Vec::new();
    for g in given {
        let (width, net) = match g {
            Given::Frames(p, width, net) => {
                text.reserve(p.len() * (digits + 1) + 48);
                for (j, &n) in p.iter().enumerate() {
                    if j > 0 {
                        text.push(b';');
                    }
                    let at = n as usize * digits;
                    text.extend_from_slice(tokens.get(at..at + digits).unwrap_or_default());
                }
                (width, net)
            }
            Given::Placeholder(token, width) => {
                text.extend_from_slice(token.as_bytes());
                (width, 0)
            }
        };
        if diff {
            let before = width as i128 - net as i128;
            text.push(b' ');
            if before < 0 {
                text.push(b'-');
            }
            push_decimal(&mut text, before.unsigned_abs());
        }
        text.push(b' ');
        push_decimal(&mut text, u128::from(width));
        text.push(b'\n');
    }
    // Tokens, digits, spaces, semicolons: ASCII.
    String::from_utf8(text).unwrap_or_default()
}

/// A line as written for inferno: frames, a width and the net; or a placeholder frame (drawing nothing that is
/// kept) and a width.
#[derive(Clone, Copy)]
enum Given<'a> {
    Frames(&'a [u32], u64, i64),
    Placeholder(&'static str, u64),
}

/// Graphs of fewer lines are drawn by one inferno.
const SPLIT_MIN_LINES: usize = 1024;

/// Where a large graph is cut in two, for two infernos: before line `at`, which starts at time `at_time`. The boxes
/// that go on across the cut (the first `chain` frames of line `at`; the one at depth j runs from `starts[j - 1]`
/// to `ends[j - 1]`) are drawn whole by both.
#[derive(Debug)]
struct Split {
    at: usize,
    at_time: u64,
    chain: usize,
    starts: Vec<u64>,
    ends: Vec<u64>,
    total: u64,
}

/// How to draw `lines` in two halves, each by an inferno of its own, so that together they draw what one would:
/// `None` when the graph is small, or when no cut near the middle leaves the deepest drawn box on both sides (the
/// height of the picture comes from it, and both halves must have the same).
fn split_plan(set: &StackSet, lines: &[Line], min_time: f64) -> Option<Split> {
    let m = lines.len();
    if m < SPLIT_MIN_LINES || std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return None;
    }
    // The drawn boxes at the greatest depth: the first and last line any of them spans.
    let (mut deepest, mut lo, mut hi) = (0usize, usize::MAX, 0usize);
    let (total, _) = walk_boxes(lines.iter().map(|l| (l.path(set), l.width, l.net)), |b| {
        if (b.width as f64) < min_time {
            return;
        }
        let last = b.end - 1;
        if b.depth > deepest {
            (deepest, lo, hi) = (b.depth, b.first, last);
        } else if b.depth == deepest {
            (lo, hi) = (lo.min(b.first), hi.max(last));
        }
    });
    if deepest == 0 || lo >= hi {
        return None;
    }
    let at = (m / 2).clamp(lo + 1, hi);
    if at < m / 8 || at > m - m / 8 {
        return None;
    }
    let at_time: u64 = lines[..at].iter().map(|l| l.width).sum();
    let (before, after) = (lines[at - 1].path(set), lines[at].path(set));
    let chain = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let shared_with = |i: usize| {
        let p = lines[i].path(set);
        p.iter().zip(&after[..chain]).take_while(|(a, b)| a == b).count()
    };
    // Going back from the cut, lines share fewer and fewer of the chain's frames; box j starts at the first line
    // that shares j of them, and ends after the last.
    let mut starts = vec![at_time; chain];
    let mut t = at_time;
    for i in (0..at).rev() {
        let c = shared_with(i);
        if c == 0 {
            break;
        }
        t -= lines[i].width;
        starts[..c].iter_mut().for_each(|s| *s = t);
    }
    let mut ends = vec![at_time; chain];
    let mut t = at_time;
    for (i, l) in lines.iter().enumerate().skip(at) {
        let c = shared_with(i);
        if c == 0 {
            break;
        }
        t += l.width;
        ends[..c].iter_mut().for_each(|e| *e = t);
    }
    Some(Split {
        at,
        at_time,
        chain,
        starts,
        ends,
        total,
    })
}

/// Two infernos draw the two halves of `plan` at once, each given the whole width: the first its lines, then the
/// boxes that go on across the cut carried to their ends (as their own time: no box is added), then a placeholder
/// to the end; the second a placeholder from the start, the boxes that go on across the cut opened where they
/// start, then its lines. (Drawn as flame charts, the lines are taken in the order given.) Of the first half's boxes
/// those that start at the cut or after (the placeholder) are dropped; of the second's those that start before it
/// (the placeholder, the root, the boxes across the cut, which the first drew whole). The kept boxes are rewritten
/// by `draw` and put together in one SVG: the picture one inferno draws, the boxes in another order.
#[allow(clippy::too_many_arguments)]
fn draw_split(
    set: &StackSet,
    lines: &[Line],
    plan: &Split,
    tokens: &[u8],
    (diff, digits): (bool, usize),
    (oa, ob): (&mut flamegraph::Options, &mut flamegraph::Options),
    min_time: f64,
    draw: &(impl Fn(&str, BoxValue, &mut Drawn) + Sync),
) -> std::io::Result<Vec<u8>> {
    let after = lines[plan.at].path(set);
    let chain = |j: usize| &after[..j];
    // First half: its lines, then box j carried from where box j + 1 ends (or the cut) to its own end.
    let mut first: Vec<Given> = lines[..plan.at].iter().map(|l| l.given(set)).collect();
    let mut end = plan.at_time;
    for j in (1..=plan.chain).rev() {
        let w = plan.ends[j - 1] - end;
        if w > 0 {
            first.push(Given::Frames(chain(j), w, 0));
        }
        end = plan.ends[j - 1];
    }
    if plan.total > end {
        first.push(Given::Placeholder("~", plan.total - end));
    }
    // Second half: from the start to where the boxes across the cut open, then its lines.
    let mut second: Vec<Given> = Vec::with_capacity(lines.len() - plan.at + plan.chain + 1);
    let mut start = plan.starts.first().copied().unwrap_or(plan.at_time);
    if start > 0 {
        second.push(Given::Placeholder("!", start));
    }
    for j in 1..=plan.chain {
        let next = plan.starts.get(j).copied().unwrap_or(plan.at_time);
        if next > start {
            second.push(Given::Frames(chain(j), next - start, 0));
        }
        start = next;
    }
    second.extend(lines[plan.at..].iter().map(|l| l.given(set)));
    let draw_half = |given: &[Given], o: &mut flamegraph::Options| -> std::io::Result<Vec<u8>> {
        let text = inferno_text(tokens, given.iter().copied(), diff, digits);
        let mut svg = Vec::with_capacity(1 << 20);
        // inferno reverses a flame chart's lines: given reversed, they are drawn in order.
        flamegraph::from_lines(o, text.lines().rev(), &mut svg)?;
        Ok(svg)
    };
    // The two infernos on two threads, started together; the layout after the first.
    let (a, b, boxes) = std::thread::scope(|scope| {
        let other = scope.spawn(|| draw_half(&second, ob));
        let a = draw_half(&first, oa);
        let boxes = layout(set, lines, min_time);
        let b = other
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the second drawing thread failed")));
        (a, b, boxes)
    });
    let (a, b) = (a?, b?);
    let region = |svg: &[u8]| -> Option<(usize, usize)> {
        let open = memchr::memmem::find(svg, b"<svg id=\"frames\"")?;
        let start = open + memchr::memchr(b'>', &svg[open..])? + 1;
        let end = memchr::memmem::rfind(svg, b"</svg></svg>")?;
        (start <= end).then_some((start, end))
    };
    let bad = || std::io::Error::other("inferno's SVG has no frames element");
    let (ra, rb) = (region(&a).ok_or_else(bad)?, region(&b).ok_or_else(bad)?);
    let cut = plan.at_time;
    let (pa, pb) = rayon::join(
        || rewrite_kept(&a[ra.0..ra.1], |x| x < cut, &boxes, draw),
        || rewrite_kept(&b[rb.0..rb.1], |x| x >= cut, &boxes, draw),
    );
    let mut out = Vec::with_capacity(a.len() + b.len());
    out.extend_from_slice(&a[..ra.0]);
    out.extend_from_slice(pa.as_bytes());
    out.extend_from_slice(pb.as_bytes());
    out.extend_from_slice(&a[ra.1..]);
    Ok(out)
}

/// The boxes (`<g>…</g>`) of `frames` whose `fg:x` passes `keep`, rewritten by [`rewrite_piece`]: each run of kept
/// boxes in one piece.
fn rewrite_kept<S: std::hash::BuildHasher>(
    frames: &[u8],
    keep: impl Fn(u64) -> bool,
    boxes: &HashMap<(u64, u64), BoxValue, S>,
    draw: &impl Fn(&str, BoxValue, &mut Drawn),
) -> String {
    let mut out = String::with_capacity(frames.len() + frames.len() / 4);
    let starts: Vec<usize> = memchr::memmem::find_iter(frames, b"<g>").collect();
    let fg_x = &FINDERS[4];
    let mut run = 0;
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(frames.len());
        let x = attr_number(&frames[s..end], fg_x);
        if !x.is_none_or(&keep) {
            rewrite_bytes(&frames[run..s], boxes, draw, &mut out);
            run = end;
        }
    }
    rewrite_bytes(&frames[run..], boxes, draw, &mut out);
    out
}

/// Appends `v` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut v: u128) {
    let mut buf = [0u8; 40];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// The token of every frame name, `digits` bytes each, back to back.
fn token_table(names: usize, digits: usize) -> Vec<u8> {
    let mut s = String::with_capacity(names * digits);
    for n in 0..names {
        push_token(&mut s, n as u32, digits);
    }
    s.into_bytes()
}

/// Bytes of SVG handed to the rewriting thread at a time.
const PIECE: usize = 256 * 1024;

/// inferno's output: passed on in pieces of about [`PIECE`] bytes.
struct PieceWriter {
    buf: Vec<u8>,
    tx: std::sync::mpsc::Sender<Vec<u8>>,
}

impl PieceWriter {
    /// Passes on what is buffered. A closed channel (the other thread has gone) is not an error here: its
    /// failure is reported when it is joined.
    fn send(&mut self) {
        if !self.buf.is_empty() {
            let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE));
            let _ = self.tx.send(piece);
        }
    }
}

impl std::io::Write for PieceWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= PIECE {
            self.send();
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// [`rewrite_piece`] of `svg` (whole boxes) appended to `out`; bytes that are not UTF-8 (inferno writes none) are
/// passed on with replacement characters.
fn rewrite_bytes<S: std::hash::BuildHasher>(
    svg: &[u8],
    boxes: &HashMap<(u64, u64), BoxValue, S>,
    draw: &impl Fn(&str, BoxValue, &mut Drawn),
    out: &mut String,
) {
    match std::str::from_utf8(svg) {
        Ok(s) => rewrite_piece(s, boxes, draw, out),
        Err(_) => out.push_str(&String::from_utf8_lossy(svg)),
    }
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
    // Base-62 digits are ASCII.
    out.push_str(std::str::from_utf8(&buf[..digits]).unwrap_or_default());
}

fn token_rank(token: &str, digits: usize) -> Option<u32> {
    if token.len() != digits {
        return None;
    }
    token.bytes().try_fold(0u32, |acc, b| {
        let d = u32::from(DIGIT_VALUE[b as usize]);
        if d >= 62 {
            return None;
        }
        acc.checked_mul(62)?.checked_add(d)
    })
}

/// The value of each base-62 digit of [`DIGITS`]; 255 for other bytes.
const DIGIT_VALUE: [u8; 256] = {
    let mut t = [255u8; 256];
    let mut i = 0;
    while i < 62 {
        t[DIGITS[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// `s` escaped for XML text and attributes: borrowed when nothing needs escaping, as in most frame names.
fn xml_escaped(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    if memchr::memchr3(b'&', b'<', b'>', b).is_none() && memchr::memchr(b'"', b).is_none() {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(xml_escape(s))
    }
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

/// Appends a warm colour picked by the name (flamegraph.pl's "hot" palette), the same for a name in every graph.
fn push_name_color(out: &mut String, name: &str) {
    use std::fmt::Write;
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(name.as_bytes());
    let x = h.finish();
    let x = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let v = |shift: u32| ((x >> shift) & 0xffff) as f64 / 65535.0;
    let _ = write!(
        out,
        "rgb({},{},{})",
        205 + (50.0 * v(0)) as u32,
        (230.0 * v(16)) as u32,
        (55.0 * v(32)) as u32
    );
}

/// One line given to inferno: the first `len` frames of stack `stack`, with a width and a net value (those of that
/// stack, or of several narrow neighbours summed into it).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Line {
    stack: usize,
    len: usize,
    width: u64,
    net: i64,
}

impl Line {
    /// Stack `i` of `set`, whole.
    fn of(set: &StackSet, i: usize, diff: bool) -> Line {
        Line {
            stack: i,
            len: set.path(i).len(),
            width: set.width(i, diff),
            net: set.sums(i).0,
        }
    }

    fn path<'a>(&self, set: &'a StackSet) -> &'a [u32] {
        &set.path(self.stack)[..self.len]
    }

    fn given(self, set: &StackSet) -> Given<'_> {
        Given::Frames(self.path(set), self.width, self.net)
    }
}

/// The lines to give inferno for the stacks `order` (sorted, none of width 0) of `set`, so that the picture is the
/// one all of them draw, from fewer lines. A stack that ends in a box of its own (no later stack goes on from it)
/// narrower than `min_time` draws nothing there: it is given without that frame, as time of its parent box, which
/// keeps every drawn box in its place and width; neighbours that become the same line are one line. (inferno takes
/// a parent's own time wherever it comes among its children when it draws a flame chart, which draws the lines in
/// the order given: see [`flame_svg`].) At the root there is no parent to give the time to: there neighbouring
/// narrow stacks are given as one, named after the first, for as long as their summed width stays under
/// `min_time`, so that box is not drawn either. Stacks cut by [`StackSet::cut`] end in such boxes, so a large
/// profile's narrow leaves shrink to a few lines.
fn lines_to_draw(set: &StackSet, order: &[usize], diff: bool, min_time: f64) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::with_capacity(order.len());
    // The last line is a narrow stack at the root that can take in the next.
    let mut open_at_root = false;
    for (k, &i) in order.iter().enumerate() {
        let mut line = Line::of(set, i, diff);
        let p = set.path(i);
        let extended = order.get(k + 1).is_some_and(|&j| {
            let q = set.path(j);
            q.len() > p.len() && q.starts_with(p)
        });
        let narrow_leaf = !extended && (line.width as f64) < min_time;
        if narrow_leaf && p.len() >= 2 {
            line.len -= 1;
        }
        if let Some(last) = lines.last_mut() {
            let same = if line.len < p.len() {
                !open_at_root && last.path(set) == line.path(set)
            } else {
                narrow_leaf && open_at_root && p.len() == 1 && ((last.width + line.width) as f64) < min_time
            };
            if same {
                last.width += line.width;
                last.net = last.net.wrapping_add(line.net);
                continue;
            }
        }
        lines.push(line);
        open_at_root = narrow_leaf && p.len() == 1;
    }
    lines
}

/// The boxes inferno draws for `lines` (those not narrower than `min_time`), keyed by (start, width) in its units: a
/// box starts at the running width where its frame first appears and spans the lines above it. Two boxes with the
/// same start and width are one above the other with the same stacks, so they have the same values.
fn layout(set: &StackSet, lines: &[Line], min_time: f64) -> HashMap<(u64, u64), BoxValue, rustc_hash::FxBuildHasher> {
    let mut boxes: HashMap<(u64, u64), BoxValue, rustc_hash::FxBuildHasher> = HashMap::default();
    boxes.reserve(lines.len() * 2);
    let (time, net) = walk_boxes(lines.iter().map(|l| (l.path(set), l.width, l.net)), |b| {
        if (b.width as f64) >= min_time {
            boxes.insert(
                (b.start, b.width),
                BoxValue {
                    net: b.net,
                    width: b.width,
                },
            );
        }
    });
    boxes.insert((0, time), BoxValue { net, width: time });
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

/// The searchers of [`rewrite_piece`] and [`rewrite_kept`], made once: `<title>`, `</title>`, `/>`, `</text>`,
/// ` fg:x="`, ` fg:w="`, ` fill="`.
static FINDERS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 7]> = std::sync::LazyLock::new(|| {
    [
        "<title>", "</title>", "/>", "</text>", " fg:x=\"", " fg:w=\"", " fill=\"",
    ]
    .map(memchr::memmem::Finder::new)
});

/// Where the value of the attribute that `f` finds (` name="`) lies in `tag`.
fn attr_value(tag: &[u8], f: &memchr::memmem::Finder) -> Option<(usize, usize)> {
    let v = f.find(tag)? + f.needle().len();
    Some((v, v + memchr::memchr(b'"', &tag[v..])?))
}

/// The value of the attribute that `f` finds in `tag`, as a number.
fn attr_number(tag: &[u8], f: &memchr::memmem::Finder) -> Option<u64> {
    let (v, e) = attr_value(tag, f)?;
    std::str::from_utf8(&tag[v..e]).ok()?.parse().ok()
}

/// Rewrites every box of a piece of inferno's SVG (`<title>…</title><rect …/><text …>…</text>`, whole boxes only):
/// its tooltip, fill and label from `draw(token, box)`, where the token is the frame as inferno saw it (before ` (`
/// in its tooltip). Boxes not found in `boxes` are left as inferno drew them.
fn rewrite_piece<S: std::hash::BuildHasher>(
    svg: &str,
    boxes: &HashMap<(u64, u64), BoxValue, S>,
    draw: &impl Fn(&str, BoxValue, &mut Drawn),
    out: &mut String,
) {
    let [open_title, close_title, close_tag, close_text, fg_x, fg_w, fill] = &*FINDERS;
    let mut d = Drawn::default();
    let mut rest = svg;
    while let Some(i) = open_title.find(rest.as_bytes()) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(j) = close_title.find(rest.as_bytes()) else {
            break;
        };
        let title = &rest["<title>".len()..j];
        let after = &rest[j + "</title>".len()..];
        let rect_end = close_tag.find(after.as_bytes()).filter(|_| after.starts_with("<rect "));
        let parsed = rect_end.and_then(|k| {
            let rect = &after[..k + 2];
            let number = |f| attr_number(rect.as_bytes(), f);
            Some((rect, boxes.get(&(number(fg_x)?, number(fg_w)?))?))
        });
        let Some((rect, b)) = parsed else {
            out.push_str(&rest[..j + "</title>".len()]);
            rest = after;
            continue;
        };
        // The token: the title before its last " (".
        let token = memchr::memrchr(b'(', title.as_bytes())
            .filter(|&p| p > 0 && title.as_bytes()[p - 1] == b' ')
            .map_or(title, |p| &title[..p - 1]);
        let token = if token == "all" { "" } else { token };
        draw(token, *b, &mut d);
        out.push_str("<title>");
        out.push_str(&d.title);
        out.push_str("</title>");
        match attr_value(rect.as_bytes(), fill) {
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
            && let (Some(open_end), Some(close)) =
                (memchr::memchr(b'>', rest.as_bytes()), close_text.find(rest.as_bytes()))
            && open_end < close
        {
            out.push_str(&rest[..=open_end]);
            out.push_str(&d.label);
            out.push_str("</text>");
            rest = &rest[close + "</text>".len()..];
        }
    }
    out.push_str(rest);
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
        let lines: Vec<Line> = (0..4).map(|i| Line::of(&s, i, true)).collect();
        let b = layout(&s, &lines, 0.0);
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
    fn narrow_neighbours_under_one_parent_become_one_line() {
        // Boxes under 2.5 are not drawn. Under a: b, c, d narrow, given as a's own time, one line; e is narrow but
        // a;e;b goes on from it, so its line stays; a;e;b is wide; a;f narrow, a's time again (after a;e;b). At the
        // root b and c are narrow neighbours with no parent: one line named b while their sum (2) is under 2.5.
        let s = set(
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![0, 4],
                vec![0, 4, 1],
                vec![0, 5],
                vec![1],
                vec![2],
            ],
            vec![(1, 1), (1, 1), (1, 1), (1, 1), (40, 40), (1, 1), (1, 1), (1, 1)],
        );
        let order: Vec<usize> = (0..8).collect();
        let got: Vec<(usize, usize, u64)> = lines_to_draw(&s, &order, false, 2.5)
            .iter()
            .map(|l| (l.stack, l.len, l.width))
            .collect();
        assert_eq!(got, vec![(0, 1, 3), (3, 2, 1), (4, 3, 40), (5, 1, 1), (6, 1, 2)]);
        // At the root, neighbours that would be drawn together are not merged.
        let got: Vec<(usize, u64)> = lines_to_draw(&s, &order, false, 1.5)
            .iter()
            .map(|l| (l.stack, l.width))
            .collect();
        assert_eq!(&got[got.len() - 2..], &[(6, 1), (7, 1)]);
        // Nothing merges when every box is wide enough to draw.
        assert_eq!(lines_to_draw(&s, &order, false, 1.0).len(), 8);
        // The boxes that are drawn (width 2.5 and more) are the same either way.
        let all: Vec<Line> = order.iter().map(|&i| Line::of(&s, i, false)).collect();
        let drawn = |lines: &[Line]| {
            let mut b: Vec<_> = layout(&s, lines, 0.0)
                .into_iter()
                .filter(|((_, w), _)| *w as f64 >= 2.5)
                .map(|(k, v)| (k, v.net, v.width))
                .collect();
            b.sort();
            b
        };
        assert_eq!(drawn(&all), drawn(&lines_to_draw(&s, &order, false, 2.5)));
    }

    #[test]
    fn names_are_escaped_only_when_they_need_it() {
        assert!(matches!(xml_escaped("main.(*T).f"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            xml_escaped("std::vector<int, A&>::at \"x\""),
            "std::vector&lt;int, A&amp;&gt;::at &quot;x&quot;"
        );
    }

    #[test]
    fn values_whose_sum_overflows_are_an_error() {
        let s = set(vec![vec![0], vec![1], vec![2]], vec![(i64::MAX, i64::MAX); 3]);
        let cut = s.clone().cut(min_box_percent(), false);
        let e = flame_svg(&cut, &FlameOptions::default()).unwrap_err();
        assert!(e.to_string().contains("too large to draw"), "{e}");
        assert!(flame_svg(&s, &FlameOptions::default()).is_err());
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
        let colour = |name: &str| {
            let mut s = String::new();
            push_name_color(&mut s, name);
            s
        };
        assert_eq!(colour("main.f"), colour("main.f"));
        assert!(colour("main.f").starts_with("rgb(2"), "{}", colour("main.f"));
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
        let mut out = String::new();
        rewrite_piece(
            svg,
            &boxes,
            &|token: &str, b: BoxValue, d: &mut Drawn| {
                d.title = format!("{token} [{}]", b.net);
                d.label = "main.f".into();
                d.fill = "red".into();
            },
            &mut out,
        );
        assert!(out.contains("<title>01 [-1024]</title>"), "{out}");
        assert!(out.contains(r#"fill="red" fg:x="0""#), "{out}");
        assert!(out.contains(r#"<text x="0.25%" y="10">main.f</text>"#), "{out}");
        assert!(out.contains("<title>other</title>"));
    }
}
