//! `/proc/PID/maps` text: the memory map a process had, which `addr2line --maps` reads and legacy profiles
//! carry.

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};

/// File-name prefixes of mappings that are never backed by a readable binary (pprof's `Unsymbolizable`):
/// `[vdso]`, `[heap]`, `linux-vdso.so.1`, `/memfd:…`.
pub const UNSYMBOLIZABLE_PREFIXES: &[&str] = &["[", "linux-vdso", "/memfd:"];

/// One line of `/proc/PID/maps`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MapsLine {
    /// First address.
    #[serde(serialize_with = "ser_hex")]
    pub start: u64,
    /// One past the last address.
    #[serde(serialize_with = "ser_hex")]
    pub end: u64,
    /// Permissions, e.g. `r-xp`.
    pub perms: String,
    /// File offset of `start`.
    #[serde(serialize_with = "ser_hex")]
    pub offset: u64,
    /// The file (or pseudo name such as `[heap]`); empty for anonymous memory.
    pub path: String,
}

impl MapsLine {
    /// Parse a maps text. Blank lines are skipped; any other line that is not
    /// `start-end perms offset dev inode [path]` is an error naming its line number.
    pub fn parse_all(text: &str) -> Result<Vec<MapsLine>> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = || Error::new(ErrorKind::Format, format!("line {}: not a maps line: {line:?}", i + 1));
            out.push(Self::parse(line).ok_or_else(bad)?);
        }
        Ok(out)
    }

    /// Parse one line; `None` if malformed.
    pub fn parse(line: &str) -> Option<MapsLine> {
        let mut rest = line.trim_start();
        let mut field = || {
            let s = rest.trim_start();
            let end = s.find(char::is_whitespace).unwrap_or(s.len());
            let (f, r) = s.split_at(end);
            rest = r;
            (!f.is_empty()).then_some(f)
        };
        let range = field()?;
        let perms = field()?.to_string();
        let offset = u64::from_str_radix(field()?, 16).ok()?;
        let _dev = field()?;
        let _inode = field()?;
        let path = rest.trim().trim_end_matches(" (deleted)").to_string();
        let (s, e) = range.split_once('-')?;
        let start = u64::from_str_radix(s, 16).ok()?;
        let end = u64::from_str_radix(e, 16).ok()?;
        if end <= start || perms.len() != 4 {
            return None;
        }
        Some(MapsLine {
            start,
            end,
            perms,
            offset,
            path,
        })
    }

    /// Backed by a file (not anonymous, not `[heap]`-like).
    pub fn is_file(&self) -> bool {
        !self.path.is_empty() && !UNSYMBOLIZABLE_PREFIXES.iter().any(|p| self.path.starts_with(p))
    }
}

/// The mapping used for `addr`: the maps line holding it, or for `.bss` beyond a file's
/// last page (an anonymous line directly after the file's line, contiguous) the file's
/// line extended to the end of the anonymous one. `Err` says why there is none.
pub fn mapping_for(lines: &[MapsLine], addr: u64) -> Result<MapsLine> {
    let Some(i) = lines.iter().position(|l| l.start <= addr && addr < l.end) else {
        return Err(Error::new(ErrorKind::Address, format!("{addr:#x} is in no maps line")));
    };
    let l = &lines[i];
    if l.is_file() {
        return Ok(l.clone());
    }
    if l.path.is_empty()
        && let Some(prev) = i.checked_sub(1).map(|j| &lines[j])
        && prev.end == l.start
        && prev.is_file()
    {
        return Ok(MapsLine {
            end: l.end,
            ..prev.clone()
        });
    }
    let what = if l.path.is_empty() {
        "anonymous memory"
    } else {
        l.path.as_str()
    };
    let msg = format!("{addr:#x} is in {what} ({:#x}-{:#x}), not in a file", l.start, l.end);
    Err(Error::new(ErrorKind::Address, msg))
}

fn ser_hex<S: serde::Serializer>(v: &u64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines() {
        let l = MapsLine::parse("55bd6a3d3000-55bd6a3d4000 r-xp 00001000 fe:00 10010979   /tmp/a b/cdemo").unwrap();
        assert_eq!((l.start, l.end, l.offset), (0x55bd6a3d3000, 0x55bd6a3d4000, 0x1000));
        assert_eq!((l.perms.as_str(), l.path.as_str()), ("r-xp", "/tmp/a b/cdemo"));
        let anon = MapsLine::parse("55bd6a3d7000-55bd6a3d9000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!(anon.path, "");
        assert!(MapsLine::parse("nonsense").is_none());
        assert!(MapsLine::parse("2000-1000 r-xp 0 0:0 0").is_none());
        let e = MapsLine::parse_all("1000-2000 r-xp 0 0:0 0\ngarbage\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn bss_after_file_line() {
        let lines = MapsLine::parse_all(
            "1000-2000 rw-p 00003000 fe:00 1 /bin/x\n2000-4000 rw-p 00000000 00:00 0\n5000-6000 rw-p 0 00:00 0 [heap]\n",
        )
        .unwrap();
        let m = mapping_for(&lines, 0x3000).unwrap();
        assert_eq!(
            (m.start, m.end, m.offset, m.path.as_str()),
            (0x1000, 0x4000, 0x3000, "/bin/x")
        );
        assert!(mapping_for(&lines, 0x5000).unwrap_err().to_string().contains("[heap]"));
        assert!(
            mapping_for(&lines, 0x7000)
                .unwrap_err()
                .to_string()
                .contains("no maps line")
        );
    }
}
