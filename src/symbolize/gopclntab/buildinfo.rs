//! The Go version a binary was built with, from its `.go.buildinfo` section (kept by `strip` and by
//! `-ldflags='-s -w'`).

use object::{Object, ObjectSection};

/// `\xff Go buildinf:`, the start of the section.
const MAGIC: &[u8] = b"\xff Go buildinf:";

/// The Go release a binary was built with, as (major, minor): `go1.19.8` is (1, 19). `None` when the section is
/// missing, of the pre-1.18 layout (version behind pointers) or unreadable.
pub fn go_version(data: &[u8]) -> Option<(u32, u32)> {
    let obj = object::File::parse(data).ok()?;
    let sect = obj.section_by_name(".go.buildinfo")?;
    let b = sect.data().ok()?;
    parse(b)
}

/// [`go_version`] of the section's bytes.
fn parse(b: &[u8]) -> Option<(u32, u32)> {
    if !b.starts_with(MAGIC) || b.len() < 33 {
        return None;
    }
    // Byte 15: flags; bit 1 set means the version and module strings follow the 32-byte header inline, each
    // prefixed with its length as a varint (Go 1.18 and later).
    if b[15] & 2 == 0 {
        return None;
    }
    let (len, n) = varint(&b[32..])?;
    let s = b.get(32 + n..32 + n + usize::try_from(len).ok()?)?;
    let v = std::str::from_utf8(s).ok()?.strip_prefix("go")?;
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// An unsigned LEB128 varint: its value and length.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &c) in b.iter().enumerate().take(10) {
        v |= u64::from(c & 0x7f) << (7 * i);
        if c & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_version_strings() {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[8, 2]);
        b.resize(32, 0);
        b.push(8);
        b.extend_from_slice(b"go1.19.8");
        assert_eq!(parse(&b), Some((1, 19)));
        let n = b.len();
        b.truncate(n - 3);
        assert_eq!(parse(&b), None, "truncated");
        assert_eq!(parse(b"junk"), None);
    }
}
