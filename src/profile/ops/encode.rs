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
            .map(|k| {
                let mut out = Vec::new();
                let mut body = Vec::with_capacity(512);
                for i in n * k / parts..n * (k + 1) / parts {
                    body.clear();
                    self.encode_sample(i, &mut body);
                    put_varint(&mut out, (2 << 3) | 2);
                    put_varint(&mut out, body.len() as u64);
                    out.extend_from_slice(&body);
                }
                out
            })
            .collect()
    }

    fn encode_sample(&self, i: usize, out: &mut Vec<u8>) {
        let locs = &self.locs[self.loc_end[i]..self.loc_end[i + 1]];
        packed(out, 1, locs.iter().map(|&l| u64::from(l)));
        packed(
            out,
            2,
            self.vals[i * self.ncols..][..self.ncols].iter().map(|v| *v as u64),
        );
        let mut label = Vec::with_capacity(16);
        for l in &self.lbls[self.lbl_end[i]..self.lbl_end[i + 1]] {
            label.clear();
            for (field, v) in [
                (1, l.key as u64),
                (2, l.str as u64),
                (3, l.num as u64),
                (4, l.unit as u64),
            ] {
                if v != 0 {
                    put_varint(&mut label, field << 3);
                    put_varint(&mut label, v);
                }
            }
            put_varint(out, (3 << 3) | 2);
            put_varint(out, label.len() as u64);
            out.extend_from_slice(&label);
        }
    }
}

/// A packed repeated varint field (left out when empty, as prost does).
fn packed(out: &mut Vec<u8>, field: u64, vals: impl Iterator<Item = u64> + Clone) {
    let len: usize = vals.clone().map(varint_len).sum();
    if len == 0 {
        return;
    }
    put_varint(out, (field << 3) | 2);
    put_varint(out, len as u64);
    for v in vals {
        put_varint(out, v);
    }
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
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
}
