//! Inflating a whole gzip file at once with libdeflate, for `merge`, whose inputs are loaded one after another while
//! the previous ones merge: libdeflate inflates profiles about 1.6 times as fast as zlib-rs (which [`super::decode`]
//! streams through for everything else), but only from one buffer into another.
//!
//! Every member of a multi-member file is inflated, as `gzip -d` and Go's reader do. Output is bounded: room is
//! made from what the last member's trailer states (bounded by deflate's best ratio), grown by doubling when it is
//! short, never past the limit.

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE as INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS as SUCCESS,
};

/// Why [`gunzip`] gave up.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The data is not (all) gzip, or is corrupt: the caller's other reader says what is wrong.
    Corrupt,
    /// More than the limit would come out.
    TooBig,
    /// The decompressor could not be made (out of memory).
    NoDecompressor,
}

/// A libdeflate decompressor, freed on drop.
struct Decompressor(*mut libdeflate_decompressor);

impl Decompressor {
    fn new() -> Option<Decompressor> {
        // SAFETY: allocates a decompressor (or returns null when memory is short), with no arguments to get wrong.
        let d = unsafe { libdeflate_alloc_decompressor() };
        (!d.is_null()).then_some(Decompressor(d))
    }

    /// Inflates the gzip member at the start of `input` into `out`; on success, the bytes of `input` and of `out` it
    /// took. `Err(true)`: `out` is too short.
    fn member(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), bool> {
        let (mut used, mut made) = (0usize, 0usize);
        // SAFETY: the decompressor is live and used by this thread only (`&mut self`); libdeflate reads at most
        // `input.len()` bytes from `input` and writes at most `out.len()` bytes to `out`, both valid for the call,
        // and writes the two counts through pointers to locals.
        let r = unsafe {
            libdeflate_gzip_decompress_ex(
                self.0,
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut used,
                &mut made,
            )
        };
        match r {
            SUCCESS if used <= input.len() && made <= out.len() => Ok((used, made)),
            INSUFFICIENT_SPACE => Err(true),
            _ => Err(false),
        }
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: made by `libdeflate_alloc_decompressor`, freed once.
        unsafe { libdeflate_free_decompressor(self.0) }
    }
}

/// Deflate's best ratio: 1032 bytes out per byte in, at the most.
pub(crate) const MAX_RATIO: u64 = 1032;

/// Inflates `data`, a gzip file of one or more members, into at most `limit` bytes.
pub(crate) fn gunzip(data: &[u8], limit: u64) -> Result<Vec<u8>, Failure> {
    let mut d = Decompressor::new().ok_or(Failure::NoDecompressor)?;
    let stated = data.last_chunk::<4>().map_or(0, |b| u32::from_le_bytes(*b)) as u64;
    let bound = (data.len() as u64).saturating_mul(MAX_RATIO).min(limit);
    // A little over what the trailer states, so that the common single member fits at the first try.
    let mut out = vec![0u8; usize::try_from(stated.saturating_add(64).min(bound)).unwrap_or(0)];
    let (mut pos, mut len) = (0usize, 0usize);
    while pos < data.len() {
        match d.member(&data[pos..], &mut out[len..]) {
            Ok((used, made)) if used > 0 => {
                pos += used;
                len += made;
            }
            Ok(_) => return Err(Failure::Corrupt),
            Err(true) => {
                // Short of room: twice as much, up to the limit (and one byte past it, to tell "too big").
                if out.len() as u64 > limit {
                    return Err(Failure::TooBig);
                }
                let grown = (out.len() as u64)
                    .saturating_mul(2)
                    .max(1 << 16)
                    .min(limit.saturating_add(1));
                out.resize(usize::try_from(grown).map_err(|_| Failure::TooBig)?, 0);
            }
            Err(false) => return Err(Failure::Corrupt),
        }
    }
    if len as u64 > limit {
        return Err(Failure::TooBig);
    }
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_as_flate2_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/compare");
        for name in ["heap-rate1.t0.pb.gz", "cpu.pb.gz", "heap-empty.pb.gz"] {
            let data = std::fs::read(dir.join(name)).unwrap();
            let mut want = Vec::new();
            flate2::read::MultiGzDecoder::new(&data[..])
                .read_to_end(&mut want)
                .unwrap();
            assert_eq!(gunzip(&data, 1 << 30).unwrap(), want, "{name}");
        }
    }

    #[test]
    fn reads_every_member_and_bounds_the_output() {
        let (a, b): (Vec<u8>, Vec<u8>) = ((0..100_000u32).map(|i| (i % 251) as u8).collect(), b"tail".to_vec());
        // Two members; the second's trailer states 4 bytes, so the first needs the room grown several times.
        let two = [gz(&a), gz(&b)].concat();
        assert_eq!(gunzip(&two, 1 << 30).unwrap(), [&a[..], &b[..]].concat());
        // The limit holds for one member and for the sum of several.
        assert_eq!(gunzip(&two, 100_004).unwrap().len(), 100_004);
        assert_eq!(gunzip(&two, 100_003), Err(Failure::TooBig));
        assert_eq!(gunzip(&gz(&a), 99_999), Err(Failure::TooBig));
        // A trailer that lies about the size is caught, as gzip catches it.
        let mut lying = gz(&a);
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(gunzip(&lying, 1 << 30), Err(Failure::Corrupt));
        // Corrupt, truncated, and trailing bytes that are not a member.
        let good = gz(&a);
        assert_eq!(gunzip(&good[..good.len() - 3], 1 << 30), Err(Failure::Corrupt));
        let mut bad = good.clone();
        bad[20] ^= 0xff;
        assert_eq!(gunzip(&bad, 1 << 30), Err(Failure::Corrupt));
        assert_eq!(gunzip(&[&good[..], b"junk"].concat(), 1 << 30), Err(Failure::Corrupt));
        assert_eq!(gunzip(b"", 1 << 30).unwrap(), b"");
    }
}
