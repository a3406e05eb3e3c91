//! Encoding merged samples straight from the merger's flat arrays into profile.proto bytes (field 2 of Profile,
//! one entry per sample), on the rayon pool, without a vector per sample: for writing a large merge.

use super::samples::Lbl;

/// The flat sample arrays of a merge: sample `i` has locations `locs[loc_end[i]..loc_end[i + 1]]`, labels likewise,
/// values `vals[i * ncols..][..ncols]`.
pub(super) struct SampleArrays<'a> {
    pub(super) locs: &'a [u32],
    pub(super) loc_end: &'a [usize],
    pub(super) lbls: &'a [Lbl],
    pub(super) lbl_end: &'a [usize],
    pub(super) vals: &'a [i64],
    pub(super) ncols: usize,
}

impl SampleArrays<'_> {
    fn count(&self) -> usize {
        self.loc_end.len() - 1
    }

    /// The samples as repeated field 2 of a Profile message, in order, as prost would write them: in several
    /// pieces (encoded side by side), to be written one after the other.
    pub(super) fn encode(&self) -> Vec<Vec<u8>> {
        use rayon::prelude::*;
        let n = self.count();
        let parts = if n >= 50_000 {
            rayon::current_num_threads().clamp(1, 8) * 4
        } else {
            1
        };
        (0..parts)
            .into_par_iter()
            .map(|k| self.encode_part(n * k / parts, n * (k + 1) / parts))
            .collect()
    }

    /// Samples `first..end`, one after the other.
    fn encode_part(&self, first: usize, end: usize) -> Vec<u8> {
        // Room for every sample at its largest (ids as long as the largest one), written without growing; what is
        // not written is never touched.
        let ids = &self.locs[self.loc_end[first]..self.loc_end[end]];
        let id_bytes = id_len(ids.iter().copied().max().unwrap_or(0));
        let labels = self.lbl_end[end] - self.lbl_end[first];
        let mut out = Vec::with_capacity(
            (end - first) * (3 * 6 + 10 * self.ncols) + ids.len() * id_bytes + labels * (2 + 4 * 11) + 8,
        );
        #[cfg(target_arch = "x86_64")]
        if crate::profile::raw::fast_pext() {
            // SAFETY: `fast_pext` found BMI2 on this processor.
            unsafe { self.encode_part_bmi2(first, end, &mut out) };
            return out;
        }
        for i in first..end {
            self.encode_sample(i, &mut out, spread_portable);
        }
        out
    }

    /// [`SampleArrays::encode_part`] with BMI2: `pdep` spreads a varint's bits over its bytes and `bzhi` makes
    /// their continuation bits, about 1.6 times as fast as shifts and masks.
    ///
    /// # Safety
    /// The processor must have BMI2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "bmi2")]
    unsafe fn encode_part_bmi2(&self, first: usize, end: usize, out: &mut Vec<u8>) {
        for i in first..end {
            // SAFETY: this function runs only where BMI2 is.
            self.encode_sample(i, out, |v, n| unsafe { spread_bmi2(v, n) });
        }
    }

    /// Appends sample `i` as one entry of field 2: its length first, then its fields, each sized before it is
    /// written (no buffer in between). `spread(v, n)` gives the `n` bytes (1 to 5) of varint `v` in a word.
    #[inline(always)]
    fn encode_sample(&self, i: usize, out: &mut Vec<u8>, spread: impl Fn(u64, usize) -> u64) {
        let locs = &self.locs[self.loc_end[i]..self.loc_end[i + 1]];
        let vals = &self.vals[i * self.ncols..][..self.ncols];
        let lbls = &self.lbls[self.lbl_end[i]..self.lbl_end[i + 1]];
        let locs_len: usize = locs.iter().map(|&l| id_len(l)).sum();
        let vals_len: usize = vals.iter().map(|&v| varint_len(v as u64)).sum();
        let mut len = field_len(locs_len) + field_len(vals_len);
        for l in lbls {
            len += 1 + varint_len(label_len(l) as u64) + label_len(l);
        }
        // The sample, its tag and its length, and the 8 bytes a varint's store may write past its end.
        let mut w = Writer::new(out, 1 + varint_len(len as u64) + len + 8);
        w.put((2 << 3) | 2, &spread);
        w.put(len as u64, &spread);
        if locs_len != 0 {
            w.put((1 << 3) | 2, &spread);
            w.put(locs_len as u64, &spread);
            for &l in locs {
                w.put(u64::from(l), &spread);
            }
        }
        if vals_len != 0 {
            w.put((2 << 3) | 2, &spread);
            w.put(vals_len as u64, &spread);
            for &v in vals {
                w.put(v as u64, &spread);
            }
        }
        for l in lbls {
            w.put((3 << 3) | 2, &spread);
            w.put(label_len(l) as u64, &spread);
            for (field, v) in label_fields(l) {
                if v != 0 {
                    w.put(field << 3, &spread);
                    w.put(v, &spread);
                }
            }
        }
        w.finish();
    }
}

/// The `n` bytes (1 to 5) of varint `v` in a little-endian word, with shifts and masks.
#[inline(always)]
fn spread_portable(v: u64, n: usize) -> u64 {
    let bits = (v & 0x7f)
        | ((v << 1) & 0x7f00)
        | ((v << 2) & 0x7f_0000)
        | ((v << 3) & 0x7f00_0000)
        | ((v << 4) & 0x7f_0000_0000);
    // The continuation bit on every byte but the last.
    bits | (0x80_8080_8080 & ((1u64 << (8 * (n - 1))) - 1))
}

/// [`spread_portable`] with BMI2: `pdep` spreads the bits over the bytes, `bzhi` keeps the continuation bits of
/// all but the last.
///
/// # Safety
/// The processor must have BMI2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
#[inline]
unsafe fn spread_bmi2(v: u64, n: usize) -> u64 {
    use std::arch::x86_64::{_bzhi_u64, _pdep_u64};
    _pdep_u64(v, 0x7f_7f7f_7f7f) | _bzhi_u64(0x80_8080_8080, 8 * (n as u32 - 1))
}

/// The length of a location id's varint, by comparisons (which the compiler sums over a sample's ids in vectors).
#[inline(always)]
fn id_len(v: u32) -> usize {
    1 + usize::from(v >= 1 << 7) + usize::from(v >= 1 << 14) + usize::from(v >= 1 << 21) + usize::from(v >= 1 << 28)
}

/// Writes varints into a vector's spare room, made beforehand for all of them: the end is kept in a register
/// (stores through the vector would make the compiler reload its length after each one).
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    ptr: *mut u8,
    len: usize,
    room: usize,
}

impl Writer<'_> {
    /// Room for `bytes` more bytes, at least: what the varints take plus 8.
    fn new(out: &mut Vec<u8>, bytes: usize) -> Writer<'_> {
        out.reserve(bytes);
        let len = out.len();
        Writer {
            ptr: out.as_mut_ptr(),
            room: len + bytes,
            len,
            out,
        }
    }

    /// Appends `v`. Values under 2^35 (every id and most values) are one 8-byte store of the word `spread` makes
    /// of them, of which only their length is counted in; larger ones are written byte by byte.
    #[inline(always)]
    fn put(&mut self, mut v: u64, spread: &impl Fn(u64, usize) -> u64) {
        let n = varint_len(v);
        // Checked once per value; the caller sized the room so that it always holds.
        assert!(self.len + n.max(8) <= self.room, "varint writer out of room");
        if v < 1 << 35 {
            let word = spread(v, n);
            // SAFETY: the capacity holds `room` bytes, and `len + 8 <= room` (checked above).
            unsafe {
                self.ptr
                    .add(self.len)
                    .cast::<[u8; 8]>()
                    .write_unaligned(word.to_le_bytes())
            };
            self.len += n;
            return;
        }
        for _ in 1..n {
            // SAFETY: as above, `len + n <= room`.
            unsafe { self.ptr.add(self.len).write(v as u8 | 0x80) };
            self.len += 1;
            v >>= 7;
        }
        // SAFETY: as above.
        unsafe { self.ptr.add(self.len).write(v as u8) };
        self.len += 1;
    }

    /// Counts what was written into the vector.
    fn finish(self) {
        // SAFETY: every byte up to `len` was written by `put`, within the capacity.
        unsafe { self.out.set_len(self.len) };
    }
}

/// A label's fields as prost writes them (those that are zero are left out).
fn label_fields(l: &Lbl) -> [(u64, u64); 4] {
    [
        (1, u64::from(l.key)),
        (2, u64::from(l.str)),
        (3, l.num as u64),
        (4, u64::from(l.unit)),
    ]
}

/// The encoded length of a label's message.
fn label_len(l: &Lbl) -> usize {
    label_fields(l)
        .iter()
        .map(|&(_, v)| if v == 0 { 0 } else { 1 + varint_len(v) })
        .sum()
}

/// The encoded length of a packed field whose values take `len` bytes (nothing when there are none).
fn field_len(len: usize) -> usize {
    if len == 0 { 0 } else { 1 + varint_len(len as u64) + len }
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::profile::pb;

    #[test]
    fn encodes_as_prost_does() {
        let lbls = [
            Lbl {
                key: 3,
                str: 0,
                num: -7,
                unit: 4,
            },
            Lbl {
                key: 5,
                str: 6,
                num: 0,
                unit: 0,
            },
        ];
        let a = SampleArrays {
            locs: &[1, 300, 2],
            loc_end: &[0, 2, 2, 3],
            lbls: &lbls,
            lbl_end: &[0, 2, 2, 2],
            vals: &[1, -1, 0, 0, 1 << 50, 5],
            ncols: 2,
        };
        let want = pb::Profile {
            sample: vec![
                pb::Sample {
                    location_id: vec![1, 300],
                    value: vec![1, -1],
                    label: vec![
                        pb::Label {
                            key: 3,
                            num: -7,
                            num_unit: 4,
                            ..Default::default()
                        },
                        pb::Label {
                            key: 5,
                            str: 6,
                            ..Default::default()
                        },
                    ],
                },
                pb::Sample {
                    location_id: vec![],
                    value: vec![0, 0],
                    label: vec![],
                },
                pb::Sample {
                    location_id: vec![2],
                    value: vec![1 << 50, 5],
                    label: vec![],
                },
            ],
            ..Default::default()
        };
        assert_eq!(a.encode().concat(), want.encode_to_vec());
    }

    /// Varints of every length (one to ten bytes) come out as prost writes them, one after the other, whatever
    /// room the vector had before.
    #[test]
    fn varints_are_written_as_prost_writes_them() {
        let mut values: Vec<u64> = vec![0, 1, 0x7f, 0x80, u64::MAX, (1 << 35) - 1, 1 << 35];
        for shift in 0..64 {
            values.extend([(1u64 << shift) - 1, 1 << shift, (1 << shift) + 1]);
        }
        for v in values {
            let mut want = Vec::new();
            prost::encoding::encode_varint(v, &mut want);
            for room in 0..12 {
                let mut out = Vec::with_capacity(3 + room);
                out.extend_from_slice(&[9, 9, 9]);
                let mut w = Writer::new(&mut out, 10 + 1 + 8);
                w.put(v, &spread_portable);
                w.put(1, &spread_portable);
                w.finish();
                let mut got = vec![out[3..].to_vec()];
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("bmi2") {
                    // SAFETY: the processor has BMI2.
                    let spread = |v, n| unsafe { spread_bmi2(v, n) };
                    let mut out = Vec::new();
                    let mut w = Writer::new(&mut out, 10 + 1 + 8);
                    w.put(v, &spread);
                    w.put(1, &spread);
                    w.finish();
                    got.push(out);
                }
                for got in got {
                    assert_eq!(got, [&want[..], &[1]].concat(), "{v:#x}, {room} bytes of room");
                }
                assert_eq!(&out[..3], &[9, 9, 9]);
            }
        }
    }
}
