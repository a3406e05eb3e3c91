//! The merge's sample table: merged samples in flat arrays, keyed by a hash of their merged location ids and
//! labels, their values summed. It takes the [`Batch`]es the catalog ([`super::catalog`]) translates.

use super::table::HashIndex;
use crate::profile::pb;

/// A label reduced to what pprof keeps of it: a string label (`str != 0`) or a numeric one (`num` and `unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Lbl {
    pub(super) key: u32,
    /// Merged string id of the value, 0 for a numeric label.
    pub(super) str: u32,
    pub(super) num: i64,
    pub(super) unit: u32,
}

/// A change to the value columns, made before a batch is added.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ColumnOp {
    /// Keep these columns, in this order (the others are no common sample type any more).
    Keep(Vec<usize>),
    /// Multiply this column by a factor (a finer unit arrived).
    Scale(usize, f64),
}

/// Samples per [`Batch`] handed from the catalog to the sample table: a few hundred kilobytes of location ids,
/// labels and values.
pub(super) const BATCH_SAMPLES: usize = 1024;

/// Some of an input's samples in merged ids, with their hashes, and the column changes it brings (in the first
/// batch of the input).
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub(super) ops: Vec<ColumnOp>,
    pub(super) ncols: usize,
    /// The locations of every sample, back to back (the catalog pushes them, then ends the sample with `push`).
    /// Merged location ids are numbered by a [`super::table::HashIndex`], whose ids are `u32`: stored as such, they
    /// take half the memory and half the comparing.
    pub(super) locs: Vec<u32>,
    loc_end: Vec<usize>,
    lbls: Vec<Lbl>,
    lbl_end: Vec<usize>,
    vals: Vec<i64>,
    hashes: Vec<u64>,
}

impl Batch {
    /// An empty batch with room for [`BATCH_SAMPLES`] samples of 32 frames, four values and a label each, which
    /// it keeps when it is cleared: filled again without growing.
    pub(super) fn new() -> Batch {
        Batch {
            locs: Vec::with_capacity(BATCH_SAMPLES * 32),
            loc_end: Vec::with_capacity(BATCH_SAMPLES),
            lbls: Vec::with_capacity(BATCH_SAMPLES),
            lbl_end: Vec::with_capacity(BATCH_SAMPLES),
            vals: Vec::with_capacity(BATCH_SAMPLES * 4),
            hashes: Vec::with_capacity(BATCH_SAMPLES),
            ..Batch::default()
        }
    }

    /// The number of samples in it.
    pub(super) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Empties it for the next samples of the same input: the column changes are gone (they were applied), the
    /// number of columns stays, the room too.
    pub(super) fn clear(&mut self) {
        self.ops.clear();
        self.locs.clear();
        self.loc_end.clear();
        self.lbls.clear();
        self.lbl_end.clear();
        self.vals.clear();
        self.hashes.clear();
    }

    /// Ends the sample whose locations were pushed onto `locs` since the last one.
    pub(super) fn push(&mut self, hash: u64, lbls: &[Lbl], vals: &[i64]) {
        self.loc_end.push(self.locs.len());
        self.lbls.extend_from_slice(lbls);
        self.lbl_end.push(self.lbls.len());
        self.vals.extend_from_slice(vals);
        self.hashes.push(hash);
    }
}

/// The merged samples: sample i has locations `locs[loc_end[i]..loc_end[i + 1]]`, labels likewise, and values
/// `vals[i * ncols..][..ncols]`.
#[derive(Debug)]
pub(super) struct SampleTable {
    pub(super) ncols: Option<usize>,
    pub(super) locs: Vec<u32>,
    pub(super) loc_end: Vec<usize>,
    pub(super) lbls: Vec<Lbl>,
    pub(super) lbl_end: Vec<usize>,
    pub(super) vals: Vec<i64>,
    index: HashIndex,
}

impl Default for SampleTable {
    fn default() -> Self {
        SampleTable {
            ncols: None,
            locs: Vec::new(),
            loc_end: vec![0],
            lbls: Vec::new(),
            lbl_end: vec![0],
            vals: Vec::new(),
            index: HashIndex::with_capacity(1024),
        }
    }
}

impl SampleTable {
    /// The number of merged samples.
    pub(super) fn count(&self) -> usize {
        self.loc_end.len() - 1
    }

    fn width(&self) -> usize {
        self.ncols.unwrap_or(0)
    }

    /// Some merged sample's values are all zero (they cancelled): the result needs compacting.
    pub(super) fn has_zero(&self) -> bool {
        let n = self.width();
        n > 0 && self.vals.chunks_exact(n).any(|r| r.iter().all(|v| *v == 0))
    }

    /// Applies the batch's column changes, then adds its samples: equal ones sum their values, new ones are
    /// appended in order.
    pub(super) fn absorb(&mut self, b: &Batch) {
        for op in &b.ops {
            let n = self.width();
            match op {
                ColumnOp::Keep(kept) => {
                    let mut vals = Vec::with_capacity(self.count() * kept.len());
                    for row in self.vals.chunks_exact(n.max(1)) {
                        vals.extend(kept.iter().map(|&j| row[j]));
                    }
                    self.vals = vals;
                    self.ncols = Some(kept.len());
                }
                ColumnOp::Scale(j, f) => {
                    for row in self.vals.chunks_exact_mut(n.max(1)) {
                        row[*j] = (row[*j] as f64 * f).round() as i64;
                    }
                }
            }
        }
        self.ncols = Some(b.ncols);
        let n = b.ncols;
        let (mut l0, mut b0) = (0, 0);
        for (i, &h) in b.hashes.iter().enumerate() {
            // The slots of the samples a few ahead are fetched while this one is looked up.
            if let Some(&ahead) = b.hashes.get(i + 8) {
                self.index.prefetch(ahead);
            }
            let (l1, b1) = (b.loc_end[i], b.lbl_end[i]);
            let (locs, lbls, vals) = (&b.locs[l0..l1], &b.lbls[b0..b1], &b.vals[i * n..][..n]);
            (l0, b0) = (l1, b1);
            let (s_locs, loc_end, s_lbls, lbl_end) = (&self.locs, &self.loc_end, &self.lbls, &self.lbl_end);
            let found = self.index.find(h, |id| {
                let k = id as usize;
                &s_locs[loc_end[k]..loc_end[k + 1]] == locs && &s_lbls[lbl_end[k]..lbl_end[k + 1]] == lbls
            });
            match found {
                Some(id) => {
                    for (d, v) in self.vals[id as usize * n..][..n].iter_mut().zip(vals) {
                        *d = d.wrapping_add(*v);
                    }
                }
                None => {
                    self.locs.extend_from_slice(locs);
                    self.loc_end.push(self.locs.len());
                    self.lbls.extend_from_slice(lbls);
                    self.lbl_end.push(self.lbls.len());
                    self.vals.extend_from_slice(vals);
                    self.index.push(h);
                }
            }
        }
    }

    /// [`SampleTable::absorb`], then the batch emptied for reuse ([`Batch::clear`]).
    pub(super) fn absorb_and_clear(&mut self, mut b: Batch) -> Batch {
        self.absorb(&b);
        b.clear();
        b
    }

    /// The samples as messages.
    pub(super) fn to_samples(&self) -> Vec<pb::Sample> {
        let n = self.width();
        (0..self.count())
            .map(|i| pb::Sample {
                location_id: self.locs[self.loc_end[i]..self.loc_end[i + 1]]
                    .iter()
                    .map(|&l| u64::from(l))
                    .collect(),
                value: self.vals[i * n..(i + 1) * n].to_vec(),
                label: self.lbls[self.lbl_end[i]..self.lbl_end[i + 1]]
                    .iter()
                    .map(|l| pb::Label {
                        key: l.key as i64,
                        str: l.str as i64,
                        num: l.num,
                        num_unit: l.unit as i64,
                    })
                    .collect(),
            })
            .collect()
    }
}
