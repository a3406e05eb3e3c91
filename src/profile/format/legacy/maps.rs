//! The memory-map section of legacy profiles (`MAPPED_LIBRARIES:` / `--- Memory map: ---`), read as pprof's
//! `ParseMemoryMapFromScanner` reads it, and pprof's mapping heuristics (`massageMappings`, `remapMappingIDs`).
//!
//! Two line syntaxes are accepted, with pprof's regular expressions: `/proc/PID/maps` (`start-end perms offset dev
//! inode path`) and the "brief" form (`0xSTART 0xEND [perms] path [(@OFFSET)] [buildid]`). Only executable
//! entries become mappings (a permission field without `x` is skipped), glog prefixes are removed, and `key=value`
//! lines define `$key` substitutions for the lines after them. Other lines are ignored, as pprof ignores them.
//!
//! Where pprof would silently take a damaged line, we stop with the line number: a line that starts like a maps
//! entry (`hex-hex`) but breaks off or has characters glued to its range, a range whose end is not after its
//! start, and an entry that starts below the end of the one before it (maps are sorted and never overlap).

use std::sync::LazyLock;

use regex::Regex;

use super::LegacyError;

/// A mapping as pprof's legacy parsers hold it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mapping {
    pub start: u64,
    pub limit: u64,
    pub offset: u64,
    pub file: String,
    pub build_id: String,
}

const SP: &str = r"[\t\n\f\r ]";
const NSP: &str = r"[^\t\n\f\r ]";

fn procmaps_re() -> String {
    // cHexRange + cPerm + cSpaceHex + hexPair + spaceDigits + cSpaceString
    format!(
        r"^{SP}*(?:0x)?([[:xdigit:]]+)(?:{SP}|-)?{SP}*(?:0x)?([[:xdigit:]]+):?(?:{SP}+([-rwxp]+))?(?:{SP}+([[:xdigit:]]+))?{SP}+[[:xdigit:]]+:[[:xdigit:]]+{SP}+[0-9]+(?:{SP}+({NSP}+))?"
    )
}

fn brief_re() -> String {
    // cHexRange + cPerm + cSpaceString + cSpaceAtOffset + cSpaceHex
    format!(
        r"^{SP}*(?:0x)?([[:xdigit:]]+)(?:{SP}|-)?{SP}*(?:0x)?([[:xdigit:]]+):?(?:{SP}+([-rwxp]+))?(?:{SP}+({NSP}+))?(?:{SP}+\(@([[:xdigit:]]+)\))?(?:{SP}+([[:xdigit:]]+))?"
    )
}

static PROC_MAPS: LazyLock<Regex> = LazyLock::new(|| Regex::new(&procmaps_re()).expect("valid regexp"));
static BRIEF_MAPS: LazyLock<Regex> = LazyLock::new(|| Regex::new(&brief_re()).expect("valid regexp"));
static LOG_INFO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[^\[\]]+:[0-9]+\][\t\n\f\r ]").expect("valid regexp"));
/// A line that starts like a `/proc/PID/maps` entry: `hex-hex`.
static LOOKS_LIKE_RANGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\t ]*(?:0x)?[[:xdigit:]]+-").expect("valid regexp"));

/// The maps section, fed one line at a time.
#[derive(Debug, Default)]
pub(crate) struct MapsParser {
    pub mappings: Vec<Mapping>,
    /// `$key` → value substitutions, in the order defined.
    attrs: Vec<(String, String)>,
    /// End of the previous entry (executable or not), for the order check.
    prev_end: Option<u64>,
}

impl MapsParser {
    /// Reads one line of the section (`line_no` for errors).
    pub(crate) fn line(&mut self, raw: &[u8], line_no: u64) -> Result<(), LegacyError> {
        let text = String::from_utf8_lossy(raw);
        let text = if self.attrs.is_empty() {
            remove_logging_info(&text).to_string()
        } else {
            replace(remove_logging_info(&text), &self.attrs)
        };
        // pprof's expressions also take `base=/opt` as the range b-a and `deadbeef` as deadbee-f: an entry must
        // have its two numbers apart and white space (or the end) after them.
        let entry = parse_entry(&text).filter(|e| {
            e.separated
                && text[e.range_end..]
                    .chars()
                    .next()
                    .is_none_or(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c'))
        });
        let entry = match entry {
            Some(e) => e,
            None => {
                if LOOKS_LIKE_RANGE.is_match(&text) {
                    return Err(LegacyError::at(
                        line_no,
                        format!("malformed maps line {}", super::quote_str(&text)),
                    ));
                }
                if let Some((k, v)) = text.split_once('=') {
                    self.attrs.push((format!("${}", k.trim()), v.trim().to_string()));
                }
                return Ok(());
            }
        };
        let Entry {
            start,
            end,
            exec,
            mapping,
            ..
        } = entry;
        let (Some(start), Some(end)) = (start, end) else {
            return Err(LegacyError::at(
                line_no,
                format!("maps line address does not fit in 64 bits: {}", super::quote_str(&text)),
            ));
        };
        if end <= start {
            return Err(LegacyError::at(
                line_no,
                format!("maps line ends before it starts ({start:#x}-{end:#x})"),
            ));
        }
        if let Some(prev) = self.prev_end
            && start < prev
        {
            return Err(LegacyError::at(
                line_no,
                format!(
                    "maps line {start:#x}-{end:#x} is out of order (starts before the previous one ends at {prev:#x})"
                ),
            ));
        }
        self.prev_end = Some(end);
        if exec {
            let mut m = mapping.ok_or_else(|| {
                LegacyError::at(
                    line_no,
                    format!("maps line offset does not fit in 64 bits: {}", super::quote_str(&text)),
                )
            })?;
            m.start = start;
            m.limit = end;
            self.mappings.push(m);
        }
        Ok(())
    }
}

struct Entry {
    start: Option<u64>,
    end: Option<u64>,
    exec: bool,
    /// `None` when the offset does not parse.
    mapping: Option<Mapping>,
    /// Byte position after the range's second number (and its `:`).
    range_end: usize,
    /// Something (`-`, white space, `0x`) stands between the two numbers.
    separated: bool,
}

/// pprof's `parseMappingEntry`, keeping the parsed numbers optional so the caller can say what is wrong.
fn parse_entry(l: &str) -> Option<Entry> {
    let (start, end, perm, offset, file, build_id, range_end, separated);
    if let Some(c) = PROC_MAPS.captures(l) {
        start = c.get(1)?.as_str();
        end = c.get(2)?.as_str();
        range_end = after_range(l, c.get(2)?.end());
        separated = c.get(1)?.end() < c.get(2)?.start();
        perm = c.get(3).map_or("", |m| m.as_str());
        offset = c.get(4).map_or("", |m| m.as_str());
        file = c.get(5).map_or("", |m| m.as_str());
        build_id = "";
    } else if let Some(c) = BRIEF_MAPS.captures(l) {
        start = c.get(1)?.as_str();
        end = c.get(2)?.as_str();
        range_end = after_range(l, c.get(2)?.end());
        separated = c.get(1)?.end() < c.get(2)?.start();
        perm = c.get(3).map_or("", |m| m.as_str());
        file = c.get(4).map_or("", |m| m.as_str());
        offset = c.get(5).map_or("", |m| m.as_str());
        build_id = c.get(6).map_or("", |m| m.as_str());
    } else {
        return None;
    }
    let exec = perm.is_empty() || perm.contains('x');
    let offset = if offset.is_empty() {
        Some(0)
    } else {
        u64::from_str_radix(offset, 16).ok()
    };
    Some(Entry {
        start: u64::from_str_radix(start, 16).ok(),
        end: u64::from_str_radix(end, 16).ok(),
        exec,
        mapping: offset.map(|offset| Mapping {
            offset,
            file: file.to_string(),
            build_id: build_id.to_string(),
            ..Mapping::default()
        }),
        range_end,
        separated,
    })
}

fn after_range(l: &str, end: usize) -> usize {
    if l[end..].starts_with(':') { end + 1 } else { end }
}

/// pprof's `removeLoggingInfo`: drops a glog prefix (`W1220 15:07:15.201776 8272 file.cc:123] `).
fn remove_logging_info(line: &str) -> &str {
    match LOG_INFO.find(line) {
        Some(m) => &line[m.end()..],
        None => line,
    }
}

/// Go's `strings.NewReplacer(pairs...).Replace(s)`: at each position the first pair (in order) whose key matches
/// there is replaced; matches do not overlap.
fn replace(s: &str, pairs: &[(String, String)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    'outer: while i < s.len() {
        for (k, v) in pairs {
            if !k.is_empty() && s[i..].starts_with(k.as_str()) {
                out.push_str(v);
                i += k.len();
                continue 'outer;
            }
        }
        let c = s[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// pprof's `libRx`: `([.]so$|[.]so[._][0-9]+)`.
fn is_library(file: &str) -> bool {
    if file.ends_with(".so") {
        return true;
    }
    let b = file.as_bytes();
    b.windows(5)
        .any(|w| w[0] == b'.' && w[1] == b's' && w[2] == b'o' && matches!(w[3], b'.' | b'_') && w[4].is_ascii_digit())
}

/// pprof's `adjacent`.
fn adjacent(m1: &Mapping, m2: &Mapping) -> bool {
    if !m1.file.is_empty() && !m2.file.is_empty() && m1.file != m2.file {
        return false;
    }
    if !m1.build_id.is_empty() && !m2.build_id.is_empty() && m1.build_id != m2.build_id {
        return false;
    }
    if m1.limit != m2.start {
        return false;
    }
    if m1.offset != 0 && m2.offset != 0 && m1.offset.wrapping_add(m1.limit.wrapping_sub(m1.start)) != m2.offset {
        return false;
    }
    true
}

/// pprof's `massageMappings` on the mappings just read (locations are attached afterwards, so the location
/// updates of the merge step have nothing to do): adjacent pieces of one object are merged, and the first mapping
/// that looks like the main binary (not empty, not `[...]`, not a shared library) is swapped to the front.
pub(crate) fn massage(mappings: &mut Vec<Mapping>) {
    if mappings.len() > 1 {
        let mut out: Vec<Mapping> = Vec::with_capacity(mappings.len());
        for m in mappings.drain(..) {
            if let Some(lm) = out.last_mut()
                && adjacent(lm, &m)
            {
                lm.limit = m.limit;
                if !m.file.is_empty() {
                    lm.file = m.file;
                }
                if !m.build_id.is_empty() {
                    lm.build_id = m.build_id;
                }
                continue;
            }
            out.push(m);
        }
        *mappings = out;
    }
    for i in 0..mappings.len() {
        let file = mappings[i].file.replace("(deleted)", "");
        let file = file.trim();
        if file.is_empty() || is_library(file) || file.starts_with('[') {
            continue;
        }
        mappings.swap(0, i);
        break;
    }
}

/// pprof's `remapMappingIDs`: the main-binary fixes, then each location's mapping (index into `mappings`), with a
/// fake mapping covering everything appended for locations no mapping holds. Address 0 gets no mapping.
pub(crate) fn assign(mappings: &mut Vec<Mapping>, addresses: &[u64]) -> Vec<Option<u32>> {
    if let [first, second, ..] = mappings.as_slice()
        && first.file.starts_with("/anon_hugepage")
        && first.limit == second.start
    {
        mappings.remove(0);
    }
    if let Some(m) = mappings.first_mut()
        && m.start.wrapping_sub(m.offset) == 0x400000
    {
        m.start = 0x400000;
        m.offset = 0;
    }
    // Sorted, non-overlapping mappings are searched by bisection; otherwise (the heuristics above, brief maps in any
    // order, or once the fake mapping is there) in list order, as pprof does.
    let mut sorted = is_sorted(mappings);
    let mut out = Vec::with_capacity(addresses.len());
    let mut fake: Option<u32> = None;
    for &a in addresses {
        if a == 0 {
            out.push(None);
            continue;
        }
        let mut hit = find(mappings, a, sorted);
        if hit.is_none() {
            // pprof's second chance: a mapping whose start was cut short by its offset.
            if let Some(i) = mappings
                .iter()
                .position(|m| m.offset != 0 && m.start.wrapping_sub(m.offset) <= a && a < m.start)
            {
                let m = &mut mappings[i];
                m.start = m.start.wrapping_sub(m.offset);
                m.offset = 0;
                sorted = is_sorted(mappings);
                hit = Some(i);
            }
        }
        out.push(Some(match hit {
            Some(i) => i as u32,
            None => *fake.get_or_insert_with(|| {
                mappings.push(Mapping {
                    limit: u64::MAX,
                    ..Mapping::default()
                });
                sorted = false;
                (mappings.len() - 1) as u32
            }),
        }));
    }
    out
}

fn is_sorted(mappings: &[Mapping]) -> bool {
    mappings.windows(2).all(|w| w[0].limit <= w[1].start) && mappings.iter().all(|m| m.start < m.limit)
}

/// The first mapping in list order with `start <= a < limit` (by bisection when `sorted`).
fn find(mappings: &[Mapping], a: u64, sorted: bool) -> Option<usize> {
    if sorted {
        let i = mappings.partition_point(|m| m.limit <= a);
        return mappings.get(i).filter(|m| m.start <= a && a < m.limit).map(|_| i);
    }
    mappings.iter().position(|m| m.start <= a && a < m.limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Result<Vec<Mapping>, LegacyError> {
        let mut p = MapsParser::default();
        for (i, l) in lines.iter().enumerate() {
            p.line(l.as_bytes(), i as u64 + 1)?;
        }
        Ok(p.mappings)
    }

    #[test]
    fn proc_maps_keeps_only_executable_entries() {
        let m = parse(&[
            "55c0ffdc4000-55c0ffdc5000 r--p 00000000 00:00 14327845    /app/legacy/bin/lheap",
            "55c0ffdc5000-55c0ffdc6000 r-xp 00001000 00:00 14327845    /app/legacy/bin/lheap",
            "55c0ffdc9000-55c0ffdd1000 rw-p 00000000 00:00 0           ",
            "7f4445272000-7f4445274000 r-xp 00000000 00:00 0                  [vdso]",
            "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]",
        ])
        .unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            (m[0].start, m[0].limit, m[0].offset),
            (0x55c0ffdc5000, 0x55c0ffdc6000, 0x1000)
        );
        assert_eq!(m[0].file, "/app/legacy/bin/lheap");
        assert_eq!(m[1].file, "[vdso]");
        assert_eq!(m[2].file, "[vsyscall]");
    }

    #[test]
    fn brief_form_and_attributes() {
        let m = parse(&[
            "base=/opt",
            "0x400000 0x500000 $base/bin/app (@1000) abc123",
            "some text pprof ignores",
        ])
        .unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].file, "/opt/bin/app");
        assert_eq!(m[0].offset, 0x1000);
        assert_eq!(m[0].build_id, "abc123");
    }

    #[test]
    fn damaged_lines_are_errors() {
        let bad = |l: &str| parse(&[l]).unwrap_err().to_string();
        assert!(bad("55c0ffdc4000-55c0ffdcg000 r-xp 0 00:00 1 /x").contains("malformed maps line"));
        assert!(bad("55c0ffdc5000-55c0ffdc4000 r-xp 0 00:00 1 /x").contains("ends before it starts"));
        assert!(bad("55c0ffdc4000-").contains("malformed"));
        let e = parse(&["2000-3000 r-xp 0 00:00 1 /x", "1000-2000 r-xp 0 00:00 1 /y"]).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("out of order"), "{e}");
    }

    #[test]
    fn main_binary_moves_first_and_non_pie_start() {
        let mut m = vec![
            Mapping {
                start: 0x7f00,
                limit: 0x8000,
                file: "/lib/libc.so.6".into(),
                ..Mapping::default()
            },
            Mapping {
                start: 0x401000,
                limit: 0x402000,
                offset: 0x1000,
                file: "/bin/x".into(),
                ..Mapping::default()
            },
        ];
        massage(&mut m);
        assert_eq!(m[0].file, "/bin/x");
        let locs = assign(&mut m, &[0x400500, 0x7f10, 0, 0x10]);
        assert_eq!((m[0].start, m[0].offset), (0x400000, 0));
        assert_eq!(locs, vec![Some(0), Some(1), None, Some(2)]);
        assert_eq!(m[2].limit, u64::MAX);
    }
}
